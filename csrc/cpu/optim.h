#pragma once

#include <cstdint>
#include <vector>

#include "kernels/optim.h"

// CPU entry points of the fused optimizer updates (math in kernels/optim.h). All arrays are
// contiguous float32 of n elements; param and state are updated in place.
namespace engine {
namespace cpu {

// momentum_buf may be null (momentum == 0: plain SGD).
void sgd_update_cpu(float* param, const float* grad, float* momentum_buf, int64_t n,
                    const kernels::SgdParams<float>& h);

void adam_update_cpu(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                     const kernels::AdamParams<float>& h);

// A parameter group: tensor t has sizes[t] elements at params[t], grads[t] (and its state);
// momentum_bufs is empty for plain SGD.
struct SgdGroup {
  std::vector<float*> params;
  std::vector<const float*> grads;
  std::vector<float*> momentum_bufs;
  std::vector<int64_t> sizes;
};

// Adam's hyper-parameters are per tensor: each counts its own steps (bias corrections).
struct AdamGroup {
  std::vector<float*> params;
  std::vector<const float*> grads;
  std::vector<float*> exp_avgs, exp_avg_sqs;
  std::vector<int64_t> sizes;
  std::vector<kernels::AdamParams<float>> hyper;
};

// Every tensor of a group in one parallel region (one call instead of one per tensor).
void sgd_update_group_cpu(const SgdGroup& g, const kernels::SgdParams<float>& h);
void adam_update_group_cpu(const AdamGroup& g);

}  // namespace cpu
}  // namespace engine
