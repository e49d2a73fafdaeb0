// engine's own single-precision GEMM (cpu/gemm.cpp): C = alpha * op(A) op(B) + beta * C with
// any element strides for A and B (so transposes and non-contiguous views are free), row-major C,
// and strided batches. Packed and cache-blocked (cpu/gemm_driver.h), with the micro-kernel of the
// best ISA the CPU has (kernels/gemm.h). Runs on engine's OpenMP team; no BLAS involved.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/im2col.h"

namespace engine {
namespace cpu {

// A matrix of floats: element (i, j) at data[i * rs + j * cs].
struct MatView {
  const float* data;
  int64_t rs, cs;
};

struct GemmBatch {
  int64_t count = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // elements between items (0 broadcasts)
};

// C (m x n, row stride ldc) = alpha * A (m x k) B (k x n) + beta * C, per batch item.
// beta == 0 writes C without reading it.
void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
           float* c, int64_t ldc, const GemmBatch& batch = GemmBatch());

// Convolutions as implicit GEMMs (cpu/conv_gemm.h): no column buffer. x (N, C, H, W),
// w (O, C/G, kh, kw), y / dy (N, O, OH, OW), all dense; geometry g describes x and the window.
// Forward: y = conv(x, w) + bias (O values or nullptr), then max(., 0) when relu.
void conv2d_forward_gemm(const float* x, const float* w, const float* bias, bool relu, float* y,
                         int64_t batch, int64_t out_channels, const kernels::ConvGeometry& g);
// Filter gradient: dw = beta * dw + dW(x, dy).
void conv2d_backward_filter_gemm(const float* x, const float* dy, float* dw, float beta,
                                 int64_t batch, int64_t out_channels,
                                 const kernels::ConvGeometry& g);
// Data gradient of a strided conv: dx (N, C, H, W) from dy by one in-place GEMM per stride
// phase of dx (cpu/conv_data_flat.h); every element of dx is written.
void conv2d_backward_data_gemm(const float* dy, const float* w, float* dx, int64_t batch,
                               int64_t out_channels, const kernels::ConvGeometry& g);

// Which algorithm stride-1 convs use: auto (by the shape's measured rule), the padded flat
// image, the implicit im2col packer, or Winograd F(2x2, 3x3) (3x3 kernels, dilation 1, one
// group; other stride-1 shapes take the flat path under "winograd"; strided convs always take
// the implicit packer). For tests and benchmarks; ENGINE_CONV_PATH sets it too.
enum class ConvPath { kAuto = 0, kFlat = 1, kImplicit = 2, kWinograd = 3 };
ConvPath conv_path_from_name(const std::string& name);
void set_conv_path(ConvPath path);
ConvPath conv_path();

// The blocking the driver uses on this CPU (from the cache sizes read at run time), for tests
// and benchmarks: mr, nr (micro-tile), kc, mc, nc.
struct GemmBlocking {
  int64_t mr, nr, kc, mc, nc;
};
GemmBlocking gemm_blocking();

// GFLOP/s of the current ISA's FMA peak loop on `threads` threads (all running it at once) over
// about `seconds`: the machine's limit that the GEMM is measured against.
double fma_peak_gflops(int threads, double seconds);

}  // namespace cpu
}  // namespace engine
