#pragma once

#include <cstdint>

#include "kernels/im2col.h"

namespace engine {
namespace cpu {

// x (N, C, H, W), w (C*mult, 1, kh, kw), y / dy (N, C*mult, OH, OW); g.groups == C.
void depthwise_forward_cpu(const float* x, const float* w, const float* bias, float* y,
                           int64_t batch, int64_t mult, const kernels::ConvGeometry& g);
void depthwise_backward_data_cpu(const float* dy, const float* w, float* dx, int64_t batch,
                                 int64_t mult, const kernels::ConvGeometry& g);
void depthwise_backward_filter_cpu(const float* x, const float* dy, float* dw, int64_t batch,
                                   int64_t mult, const kernels::ConvGeometry& g);

}  // namespace cpu
}  // namespace engine
