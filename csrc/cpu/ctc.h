#pragma once

#include <cstdint>

#include "kernels/ctc.h"

// CPU entry points of the CTC loss (kernels/ctc.h). pred (T, N, C) probabilities, label (N, S)
// padded int32, lengths (N,) int32 already checked by the binding (csrc/bind/ctc.cpp).
namespace engine {
namespace cpu {

// loss (N,); alpha (N, T, 2S + 1) log-space forward variables (kept for the backward).
void ctc_loss_forward_cpu(const float* pred, const int32_t* label, const int32_t* pred_len,
                          const int32_t* label_len, float* loss, float* alpha,
                          const kernels::CtcParams& p);
// dpred (T, N, C) = d sum_n(dloss[n] * loss[n]) / d pred.
void ctc_loss_backward_cpu(const float* pred, const int32_t* label, const int32_t* pred_len,
                           const int32_t* label_len, const float* loss, const float* alpha,
                           const float* dloss, float* dpred, const kernels::CtcParams& p);

}  // namespace cpu
}  // namespace engine
