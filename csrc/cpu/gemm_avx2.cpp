// The GEMM on the AVX2+FMA micro-kernel: 6x16 tiles, 6 x 2 ymm accumulators.
#define ENGINE_GEMM_NS avx2
#include "cpu/gemm_isa_entry.h"

namespace engine {
namespace cpu {

#if defined(__AVX2__) && defined(__FMA__)
namespace avx2 {
namespace {
typedef float Vec __attribute__((vector_size(8 * sizeof(float))));
}  // namespace
}  // namespace avx2

const GemmIsa& gemm_isa_avx2() {
  using Kernel = kernels::GemmMicroKernel<6, 16, avx2::Vec, avx2::IsaTag>;
  return avx2::IsaEntry<Kernel, Kernel, avx2::Vec, 12>::table();
}
#else
const GemmIsa& gemm_isa_avx2() {
  // not built for this target
  static const GemmIsa none{0,       0,       nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr, nullptr};
  return none;
}
#endif

}  // namespace cpu
}  // namespace engine
