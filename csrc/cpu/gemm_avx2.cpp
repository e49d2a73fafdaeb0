// The GEMM driver on the avx2 micro-kernel: 6x16 tiles, 6 x 2 ymm accumulators.
#define ENGINE_GEMM_NS avx2
#include "cpu/gemm_driver.h"
#include "cpu/gemm_isa.h"
#include "kernels/gemm.h"

namespace engine {
namespace cpu {

#if defined(__AVX2__) && defined(__FMA__)
namespace avx2 {
namespace {

typedef float Vec __attribute__((vector_size(8 * sizeof(float))));
using Kernel = kernels::GemmMicroKernel<6, 16, Vec>;

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
           float* c, int64_t ldc, const GemmBatch& batch, const GemmIsaBlocking& blk,
           int threads) {
  dense_sgemm<Kernel>(m, n, k, alpha, a, b, beta, c, ldc, batch, {blk.kc, blk.mc, blk.nc},
                      threads);
}

double fma_peak(int64_t iters, float* sink) {
  *sink = kernels::fma_peak_loop<Vec, 12>(iters);
  return 2.0 * iters * 12 * (sizeof(Vec) / sizeof(float));
}

}  // namespace
}  // namespace avx2

const GemmIsa& gemm_isa_avx2() {
  static const GemmIsa isa{6, 16, &avx2::sgemm, &avx2::fma_peak};
  return isa;
}
#else
const GemmIsa& gemm_isa_avx2() {
  static const GemmIsa isa{0, 0, nullptr, nullptr};  // not compiled for this target
  return isa;
}
#endif

}  // namespace cpu
}  // namespace engine
