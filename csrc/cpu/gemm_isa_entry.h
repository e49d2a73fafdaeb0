// The GemmIsa table (cpu/gemm_isa.h) of one ISA's micro-kernel: each cpu/gemm_<isa>.cpp
// includes this inside its ENGINE_GEMM_NS namespace and returns isa_entry<Kernel, Chains>().
#pragma once

#include "cpu/conv_gemm.h"
#include "cpu/conv_data_flat.h"
#include "cpu/conv_filter_flat.h"
#include "cpu/conv_gemm_flat.h"
#include "cpu/gemm_driver.h"
#include "cpu/gemm_isa.h"
#include "kernels/gemm.h"

namespace engine {
namespace cpu {
namespace ENGINE_GEMM_NS {

inline Blocking to_blocking(const GemmIsaBlocking& b) { return {b.kc, b.mc, b.nc, b.l1}; }

// FilterKernel: the micro-kernel of the stride-1 filter gradient (cpu/conv_filter_flat.h), whose
// tile is O x C channels rather than a GEMM's rows x wide columns.
template <class Kernel, class FilterKernel, typename Vec, int PeakChains>
struct IsaEntry {
  static void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b,
                    float beta, float* c, int64_t ldc, const GemmBatch& batch,
                    const GemmIsaBlocking& blk, int threads) {
    dense_sgemm<Kernel>(m, n, k, alpha, a, b, beta, c, ldc, batch, to_blocking(blk), threads);
  }
  static void conv_fwd(const float* x, const float* w, const float* bias, bool relu, float* y,
                       int64_t batch, int64_t out_channels, const kernels::ConvGeometry& g,
                       const GemmIsaBlocking& blk, int threads) {
    conv_forward<Kernel>(x, w, bias, relu, y, batch, out_channels, g, to_blocking(blk),
                         threads);
  }
  static void conv_fwd_flat(const float* x, const float* w, const float* bias, bool relu,
                            float* y, int64_t batch, int64_t out_channels,
                            const kernels::ConvGeometry& g, const GemmIsaBlocking& blk,
                            int threads) {
    conv_forward_flat<Kernel>(x, w, bias, relu, y, batch, out_channels, g, to_blocking(blk),
                              threads);
  }
  static void conv_bwd_filter(const float* x, const float* dy, float* dw, float beta,
                              int64_t batch, int64_t out_channels,
                              const kernels::ConvGeometry& g, const GemmIsaBlocking& blk,
                              int threads) {
    conv_backward_filter<Kernel>(x, dy, dw, beta, batch, out_channels, g, to_blocking(blk),
                                 threads);
  }
  static void conv_bwd_filter_flat(const float* x, const float* dy, float* dw, float beta,
                                   int64_t batch, int64_t out_channels,
                                   const kernels::ConvGeometry& g, const GemmIsaBlocking&,
                                   int threads) {
    conv_backward_filter_flat<FilterKernel>(x, dy, dw, beta, batch, out_channels, g, threads);
  }
  static void conv_bwd_data_flat(const float* dy, const float* w, float* dx, int64_t batch,
                                 int64_t out_channels, const kernels::ConvGeometry& g,
                                 const GemmIsaBlocking& blk, int threads) {
    conv_backward_data_flat<Kernel>(dy, w, dx, batch, out_channels, g, to_blocking(blk),
                                    threads);
  }
  static double fma_peak(int64_t iters, float* sink) {
    *sink = kernels::fma_peak_loop<Vec, PeakChains, IsaTag>(iters);
    return 2.0 * iters * PeakChains * (sizeof(Vec) / sizeof(float));
  }
  static const GemmIsa& table() {
    static const GemmIsa isa{Kernel::kMR,    Kernel::kNR,      &sgemm,
                             &conv_fwd,      &conv_fwd_flat,   &conv_bwd_filter,
                             &conv_bwd_filter_flat, &conv_bwd_data_flat, &fma_peak};
    return isa;
  }
};

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
