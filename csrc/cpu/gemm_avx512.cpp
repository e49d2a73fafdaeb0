// The GEMM driver on the avx512 micro-kernel: 12x32 tiles, 12 x 2 zmm accumulators.
#define ENGINE_GEMM_NS avx512
#include "cpu/gemm_driver.h"
#include "cpu/gemm_isa.h"
#include "kernels/gemm.h"

namespace engine {
namespace cpu {

#if defined(__AVX512F__)
namespace avx512 {
namespace {

typedef float Vec __attribute__((vector_size(16 * sizeof(float))));
using Kernel = kernels::GemmMicroKernel<12, 32, Vec>;

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
           float* c, int64_t ldc, const GemmBatch& batch, const GemmIsaBlocking& blk,
           int threads) {
  dense_sgemm<Kernel>(m, n, k, alpha, a, b, beta, c, ldc, batch, {blk.kc, blk.mc, blk.nc},
                      threads);
}

double fma_peak(int64_t iters, float* sink) {
  *sink = kernels::fma_peak_loop<Vec, 24>(iters);
  return 2.0 * iters * 24 * (sizeof(Vec) / sizeof(float));
}

}  // namespace
}  // namespace avx512

const GemmIsa& gemm_isa_avx512() {
  static const GemmIsa isa{12, 32, &avx512::sgemm, &avx512::fma_peak};
  return isa;
}
#else
const GemmIsa& gemm_isa_avx512() {
  static const GemmIsa isa{0, 0, nullptr, nullptr};  // not compiled for this target
  return isa;
}
#endif

}  // namespace cpu
}  // namespace engine
