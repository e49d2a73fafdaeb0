#include "kernels/focal_loss.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {

void focal_loss_forward_cpu(const float* x, const float* t, float* loss, int64_t count,
                            float alpha, float gamma) {
#pragma omp parallel for schedule(static) if (count >= kParallelThreshold)
  for (int64_t i = 0; i < count; ++i) {
    loss[i] = kernels::focal_loss_forward(x[i], t[i], alpha, gamma);
  }
}

void focal_loss_backward_cpu(const float* x, const float* t, const float* dloss, float* dx,
                             float* dt, int64_t count, float alpha, float gamma) {
#pragma omp parallel for schedule(static) if (count >= kParallelThreshold)
  for (int64_t i = 0; i < count; ++i) {
    kernels::focal_loss_backward(x[i], t[i], alpha, gamma, dloss[i], dx + i, dt + i);
  }
}

}  // namespace cpu
}  // namespace engine
