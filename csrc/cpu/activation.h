// CPU entry points of the activations (math in kernels/activation.h): contiguous float32 arrays
// of n elements, split across the OpenMP threads above kParallelThreshold. Outputs do not alias
// the inputs.
#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

void relu_forward_cpu(const float* x, float* y, int64_t n);
void relu_backward_cpu(const float* dy, const float* y, float* dx, int64_t n);
void leaky_relu_forward_cpu(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward_cpu(const float* dy, const float* x, float* dx, int64_t n, float slope);
void sigmoid_forward_cpu(const float* x, float* y, int64_t n);
void sigmoid_backward_cpu(const float* dy, const float* y, float* dx, int64_t n);
void silu_forward_cpu(const float* x, float* y, int64_t n);
void silu_backward_cpu(const float* dy, const float* x, float* dx, int64_t n);
// Natural exp and log (cpu/vmath.h), threaded the same way.
void exp_cpu(const float* x, float* y, int64_t n);
void log_cpu(const float* x, float* y, int64_t n);

}  // namespace cpu
}  // namespace engine
