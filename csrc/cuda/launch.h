#pragma once

#include <algorithm>
#include <cstdint>

namespace engine {
namespace cuda {

constexpr int kBlockSize = 256;

// Grid-stride kernels need only enough blocks to fill the GPU; the cap keeps huge n inside
// gridDim limits without a per-launch device query.
inline unsigned int elementwise_blocks(int64_t n) {
  const int64_t blocks = (n + kBlockSize - 1) / kBlockSize;
  return static_cast<unsigned int>(std::min<int64_t>(blocks, 65535));
}

}  // namespace cuda
}  // namespace engine
