// CPU entry points of deformable convolution's column buffer (loops in cpu/deform_conv.cpp, math
// in kernels/deform_conv.h). Plain pointers; bind/deform_conv.cpp owns the checks.
#pragma once

#include <cstdint>

#include "kernels/deform_conv.h"

namespace engine {
namespace cpu {

// col (N, C, T, P) from x (N, C, H, W), offset (N, DG, T, 2, P), mask (N, DG, T, P).
void deform_im2col_cpu(const float* x, const float* offset, const float* mask, float* col,
                       int64_t batch, const kernels::DeformGeometry& g);

// Gradients of col w.r.t. x, offset and mask given dcol (N, C, T, P); every output is written.
void deform_col2im_cpu(const float* x, const float* offset, const float* mask, const float* dcol,
                       float* dx, float* doffset, float* dmask, int64_t batch,
                       const kernels::DeformGeometry& g);

}  // namespace cpu
}  // namespace engine
