#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

// Below this many elements an elementwise loop finishes faster than an OpenMP team wakes up.
constexpr int64_t kParallelThreshold = int64_t(1) << 15;

}  // namespace cpu
}  // namespace engine
