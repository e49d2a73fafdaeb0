#include "kernels/softmax.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {

// One row = the n values of position (o, i); rows are independent, so threads split them.
void softmax_forward_cpu(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                         bool log) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    kernels::softmax_row(x + base, y + base, n, inner, log);
  }
}

void softmax_backward_cpu(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                          int64_t inner, bool log) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    if (log) {
      kernels::logsoftmax_grad_row(y + base, dy + base, dx + base, n, inner);
    } else {
      kernels::softmax_grad_row(y + base, dy + base, dx + base, n, inner);
    }
  }
}

void cross_entropy_forward_cpu(const float* x, const int32_t* label, float* loss, int64_t outer,
                               int64_t n, int64_t inner, float smooth) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    loss[r] = kernels::cross_entropy_row(x + base, n, inner, label[r], smooth);
  }
}

void cross_entropy_backward_cpu(const float* x, const int32_t* label, const float* dloss,
                                float* dx, int64_t outer, int64_t n, int64_t inner,
                                float smooth) {
  const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (r / inner) * n * inner + r % inner;
    kernels::cross_entropy_grad_row(x + base, dx + base, n, inner, label[r], smooth, dloss[r]);
  }
}

}  // namespace cpu
}  // namespace engine
