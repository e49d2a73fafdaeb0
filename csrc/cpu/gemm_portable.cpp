// The GEMM driver on the portable micro-kernel: 4x16 tiles, 4 x 4 xmm accumulators (baseline SSE2 on x86-64, NEON elsewhere).
#define ENGINE_GEMM_NS portable
#include "cpu/gemm_driver.h"
#include "cpu/gemm_isa.h"
#include "kernels/gemm.h"

namespace engine {
namespace cpu {

#if 1  // always built
namespace portable {
namespace {

typedef float Vec __attribute__((vector_size(4 * sizeof(float))));
using Kernel = kernels::GemmMicroKernel<4, 16, Vec>;

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
           float* c, int64_t ldc, const GemmBatch& batch, const GemmIsaBlocking& blk,
           int threads) {
  dense_sgemm<Kernel>(m, n, k, alpha, a, b, beta, c, ldc, batch, {blk.kc, blk.mc, blk.nc},
                      threads);
}

double fma_peak(int64_t iters, float* sink) {
  *sink = kernels::fma_peak_loop<Vec, 8>(iters);
  return 2.0 * iters * 8 * (sizeof(Vec) / sizeof(float));
}

}  // namespace
}  // namespace portable

const GemmIsa& gemm_isa_portable() {
  static const GemmIsa isa{4, 16, &portable::sgemm, &portable::fma_peak};
  return isa;
}
#else
const GemmIsa& gemm_isa_portable() {
  static const GemmIsa isa{0, 0, nullptr, nullptr};  // not compiled for this target
  return isa;
}
#endif

}  // namespace cpu
}  // namespace engine
