#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

// Below this many elements an elementwise loop finishes faster than an OpenMP team wakes up.
constexpr int64_t kParallelThreshold = int64_t(1) << 15;

// f(i0, i1) over [0, n) in chunks of `chunk` elements, on engine's OpenMP team when n is large
// enough to pay for waking it.
template <typename F>
void parallel_chunks(int64_t n, int64_t chunk, F f) {
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t k = 0; k < chunks; ++k) f(k * chunk, k * chunk + chunk < n ? k * chunk + chunk : n);
}

}  // namespace cpu
}  // namespace engine
