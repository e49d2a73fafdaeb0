// The GEMM on the AVX-512 micro-kernel: 8x48 tiles, 8 x 3 zmm accumulators (3 loads and 8
// broadcasts per 24 FMAs; MR = 8 divides the channel counts of conv layers, where 12x32 wasted a
// third of a tile on 32 channels: measured 20-25% faster on ResNet conv GEMMs).
#define ENGINE_GEMM_NS avx512
#include "cpu/gemm_isa_entry.h"

namespace engine {
namespace cpu {

#if defined(__AVX512F__)
namespace avx512 {
namespace {
typedef float Vec __attribute__((vector_size(16 * sizeof(float))));
}  // namespace
}  // namespace avx512

const GemmIsa& gemm_isa_avx512() {
  using Kernel = kernels::GemmMicroKernel<8, 48, avx512::Vec, avx512::IsaTag>;
  // The filter gradient's tile spans input channels: 32 divides conv widths, 48 does not.
  using FilterKernel = kernels::GemmMicroKernel<8, 32, avx512::Vec, avx512::IsaTag>;
  return avx512::IsaEntry<Kernel, FilterKernel, avx512::Vec, 24>::table();
}
#else
const GemmIsa& gemm_isa_avx512() {
  // not built for this target
  static const GemmIsa none{0,       0,       nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr, nullptr};
  return none;
}
#endif

}  // namespace cpu
}  // namespace engine
