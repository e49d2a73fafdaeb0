// The softmax family over a strided axis (inner > 1, e.g. the channels of NCHW), by blocks of
// positions: for a block of up to kColumns neighbouring positions the n classes are walked one
// contiguous run at a time, so loads are contiguous and the exps go through cpu/vmath.h's
// vectorised exp, where a row-at-a-time walk would stride by `inner` and call expf per element.
// Same math as kernels/softmax.h (sums of exps in double, log-sum-exp as max + log1p(sum - 1)).
#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

void softmax_forward_columns(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                             bool log);
void softmax_backward_columns(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                              int64_t inner, bool log);
void cross_entropy_forward_columns(const float* x, const int32_t* label, float* loss, int64_t outer,
                                   int64_t n, int64_t inner, float smooth);
void cross_entropy_backward_columns(const float* x, const int32_t* label, const float* dloss,
                                    float* dx, int64_t outer, int64_t n, int64_t inner,
                                    float smooth);

}  // namespace cpu
}  // namespace engine
