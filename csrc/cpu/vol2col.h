// CPU entry points of 3-D convolution's column buffer (loops in cpu/vol2col.cpp, math in
// kernels/vol2col.h). Plain pointers; bind/conv3d.cpp owns dtype, shape and layout checks.
#pragma once

#include <cstdint>

#include "kernels/vol2col.h"

namespace engine {
namespace cpu {

// x (N, C, D, H, W) -> column buffer laid out by `layout`. Every element of the buffer is written
// (padding as zeros), so `col` may be uninitialised.
void vol2col_cpu(const float* x, float* col, int64_t batch, const kernels::Conv3dGeometry& g,
                 const kernels::ColumnLayout& layout);

// The adjoint: x (N, C, D, H, W) = sum of the column entries that read each input voxel. Every
// element of x is written.
void col2vol_cpu(const float* col, float* x, int64_t batch, const kernels::Conv3dGeometry& g,
                 const kernels::ColumnLayout& layout);

}  // namespace cpu
}  // namespace engine
