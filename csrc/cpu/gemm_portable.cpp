// The GEMM on the portable micro-kernel: 4x16 tiles of 4-float vectors (SSE2 on x86-64, NEON
// elsewhere), for CPUs without AVX2.
#define ENGINE_GEMM_NS portable
#include "cpu/gemm_isa_entry.h"

namespace engine {
namespace cpu {

#if 1  // always built
namespace portable {
namespace {
typedef float Vec __attribute__((vector_size(4 * sizeof(float))));
}  // namespace
}  // namespace portable

const GemmIsa& gemm_isa_portable() {
  using Kernel = kernels::GemmMicroKernel<4, 16, portable::Vec, portable::IsaTag>;
  return portable::IsaEntry<Kernel, Kernel, portable::Vec, 8>::table();
}
#else
const GemmIsa& gemm_isa_portable() {
  // not built for this target
  static const GemmIsa none{0,       0,       nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr, nullptr};
  return none;
}
#endif

}  // namespace cpu
}  // namespace engine
