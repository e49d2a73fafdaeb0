#pragma once

#include <cstdint>

// float32 <-> float16 (IEEE binary16, round to nearest even) on the CPU with the F16C
// instructions: engine stores float16 tensors and widens them to float32 for its kernels, and
// numpy's astype converts one element at a time in software.
namespace engine {
namespace cpu {

bool has_f16c();
void float_to_half_cpu(const float* x, uint16_t* y, int64_t n);
void half_to_float_cpu(const uint16_t* x, float* y, int64_t n);

}  // namespace cpu
}  // namespace engine
