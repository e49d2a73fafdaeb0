#include "kernels/gelu.h"

#include <cstdint>

#include "cpu/ops.h"
#include "cpu/parallel.h"

namespace engine {
namespace cpu {

void gelu_forward_cpu(const float* x, float* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    y[i] = kernels::gelu_forward(x[i]);
  }
}

void gelu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = kernels::gelu_backward(x[i], dy[i]);
  }
}

}  // namespace cpu
}  // namespace engine
