// The GEMM entry of each instruction set (cpu/gemm_<isa>.cpp); cpu/gemm.cpp picks one by
// cpu_isa(). Each ISA's file instantiates the driver (cpu/gemm_driver.h) with its micro-kernel.
#pragma once

#include <cstdint>

#include "cpu/gemm.h"
#include "kernels/im2col.h"

namespace engine {
namespace cpu {

struct GemmIsaBlocking {
  int64_t kc, mc, nc;
  int64_t l1;  // bytes of L1 data cache
};

struct GemmIsa {
  int mr, nr;  // micro-tile of the ISA's kernel
  void (*sgemm)(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
                float* c, int64_t ldc, const GemmBatch& batch, const GemmIsaBlocking& blk,
                int threads);
  // cpu/conv_gemm.h's implicit-GEMM convolutions (see cpu/conv.h for the arguments).
  void (*conv_forward)(const float* x, const float* w, const float* bias, bool relu, float* y,
                       int64_t batch, int64_t out_channels, const kernels::ConvGeometry& g,
                       const GemmIsaBlocking& blk, int threads);
  void (*conv_forward_flat)(const float* x, const float* w, const float* bias, bool relu,
                            float* y, int64_t batch, int64_t out_channels,
                            const kernels::ConvGeometry& g, const GemmIsaBlocking& blk,
                            int threads);
  void (*conv_backward_filter)(const float* x, const float* dy, float* dw, float beta,
                               int64_t batch, int64_t out_channels,
                               const kernels::ConvGeometry& g, const GemmIsaBlocking& blk,
                               int threads);
  // cpu/conv_filter_flat.h: the filter gradient of a stride-1 conv on the padded grid.
  void (*conv_backward_filter_flat)(const float* x, const float* dy, float* dw, float beta,
                                    int64_t batch, int64_t out_channels,
                                    const kernels::ConvGeometry& g, const GemmIsaBlocking& blk,
                                    int threads);
  // cpu/conv_data_flat.h: the data gradient, one in-place GEMM per stride phase.
  void (*conv_backward_data_flat)(const float* dy, const float* w, float* dx, int64_t batch,
                                  int64_t out_channels, const kernels::ConvGeometry& g,
                                  const GemmIsaBlocking& blk, int threads);
  // One thread's FMA peak loop (kernels::fma_peak_loop); returns the flops it did.
  double (*fma_peak)(int64_t iters, float* sink);
};

const GemmIsa& gemm_isa_avx512();
const GemmIsa& gemm_isa_avx2();
const GemmIsa& gemm_isa_portable();

}  // namespace cpu
}  // namespace engine
