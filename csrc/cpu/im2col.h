// CPU entry points of the convolution family (loops in cpu/im2col.cpp, math in kernels/im2col.h).
// Plain pointers; bind/conv.cpp owns dtype, shape and layout checks.
#pragma once

#include <cstdint>

#include "kernels/im2col.h"

namespace engine {
namespace cpu {

// x (N, C, H, W) -> column buffer laid out by `layout` (see kernels/im2col.h). Every element of
// the buffer is written (padding as zeros), so `col` may be uninitialised.
void im2col_cpu(const float* x, float* col, int64_t batch, const kernels::ConvGeometry& g,
                const kernels::ColumnLayout& layout);

// The adjoint: x (N, C, H, W) = sum of the column entries that read each input pixel. Every
// element of x is written, so `x` may be uninitialised.
void col2im_cpu(const float* col, float* x, int64_t batch, const kernels::ConvGeometry& g,
                const kernels::ColumnLayout& layout);

// dst (N, G, R, P) <- src (G, R, N, P) and back, with `bias` (G*R values, may be null) added on
// the way in: the reordering between the GEMM-friendly "group-major" layout and NCHW.
void gather_batch_major(const float* src, float* dst, int64_t batch, int64_t groups, int64_t rows,
                        int64_t plane, const float* bias);
void scatter_group_major(const float* src, float* dst, int64_t batch, int64_t groups, int64_t rows,
                         int64_t plane);
// The filter of a stride-1 conv's data gradient: w (G*Og, Cg, kh, kw) -> out (G*Cg, Og, kh, kw),
// out[g*Cg + c][o] = w[g*Og + o][c] rotated by 180 degrees (taps = kh*kw reversed).
void flip_transpose_filter(const float* w, float* out, int64_t groups, int64_t og, int64_t cg,
                           int64_t taps);

}  // namespace cpu
}  // namespace engine
