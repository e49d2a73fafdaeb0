#include "cpu/optim.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "kernels/optim.h"

namespace engine {
namespace cpu {

void sgd_update_cpu(float* param, const float* grad, float* momentum_buf, int64_t n,
                    const kernels::SgdParams<float>& h) {
  if (momentum_buf == nullptr) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) {
      kernels::sgd_update(param[i], grad[i], static_cast<float*>(nullptr), h);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) kernels::sgd_update(param[i], grad[i], momentum_buf + i, h);
}

void adam_update_cpu(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                     int64_t n, const kernels::AdamParams<float>& h) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    kernels::adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], h);
  }
}

}  // namespace cpu
}  // namespace engine
