#pragma once

#include <cstdint>

#include "kernels/im2col.h"

namespace engine {
namespace cpu {

// y = conv(x, w) (+ bias, then ReLU) for a stride-1, dilation-1 3x3 conv with one group, by
// Winograd F(2x2, 3x3) on engine's GEMM: x (N, C, H, W), w (O, C, 3, 3), y (N, O, OH, OW).
void conv2d_winograd_forward(const float* x, const float* w, const float* bias, bool relu,
                             float* y, int64_t batch, int64_t out_channels,
                             const kernels::ConvGeometry& g);

}  // namespace cpu
}  // namespace engine
