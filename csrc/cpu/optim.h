#pragma once

#include <cstdint>

#include "kernels/optim.h"

// CPU entry points of the fused optimizer updates (math in kernels/optim.h). All arrays are
// contiguous float32 of n elements; param and state are updated in place.
namespace engine {
namespace cpu {

// momentum_buf may be null (momentum == 0: plain SGD).
void sgd_update_cpu(float* param, const float* grad, float* momentum_buf, int64_t n,
                    const kernels::SgdParams<float>& h);

void adam_update_cpu(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                     int64_t n, const kernels::AdamParams<float>& h);

}  // namespace cpu
}  // namespace engine
