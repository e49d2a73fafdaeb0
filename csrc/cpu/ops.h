#pragma once

#include <cstdint>

// CPU entry points: plain pointers and element counts; bind.cpp owns dtype, shape and layout.
namespace engine {
namespace cpu {

void gelu_forward_cpu(const float* x, float* y, int64_t n);
void gelu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n);

// OpenMP thread count for the CPU loops; 1 when built without OpenMP.
int get_num_threads();
void set_num_threads(int n);

}  // namespace cpu
}  // namespace engine
