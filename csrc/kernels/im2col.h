// im2col / col2im index math for 2-D convolution, shared by the CPU loops (cpu/im2col.cpp) and
// future CUDA kernels.
//
// The column buffer of a grouped conv holds, for group g, row k = (c_in_group * kh + ki) * kw + kj
// and column (n, p) with p = oh * out_w + ow, the input value
//   x[n, g * Cg + c_in_group, oh * sh - ph + ki * dh, ow * sw - pw + kj * dw]
// (s = stride, p = padding, d = dilation)
// (zero outside the image). Its layout is given by three strides (group, row, sample); the
// out_h * out_w positions of one (g, k, n) are always contiguous, which is what makes a row of
// the GEMM a contiguous run.
#pragma once

#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct ConvGeometry {
  int64_t channels, height, width;  // input image (per sample, all groups)
  int64_t out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dil_h, dil_w;
  int64_t groups;
};

// Strides (in elements) of the column buffer: offset(g, k, n, p) = g*group + k*row + n*sample + p.
struct ColumnLayout {
  int64_t group, row, sample;
};

// Output size of a convolution along one axis (PyTorch's / MegEngine's formula).
HOST_DEVICE inline int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                         int64_t dil) {
  return (in + 2 * pad - dil * (kernel - 1) - 1) / stride + 1;
}

// Input coordinate read by output position `o` for kernel tap `k` along one axis.
HOST_DEVICE inline int64_t conv_in_coord(int64_t o, int64_t k, int64_t stride, int64_t pad,
                                         int64_t dil) {
  return o * stride - pad + k * dil;
}

// The output positions o in [*lo, *hi) whose input coordinate for tap k lies inside [0, in).
// With these bounds the inner loops run branch-free; positions outside read the zero padding.
HOST_DEVICE inline void conv_valid_range(int64_t in, int64_t out, int64_t k, int64_t stride,
                                         int64_t pad, int64_t dil, int64_t* lo, int64_t* hi) {
  const int64_t shift = pad - k * dil;  // o * stride >= shift  and  o * stride < in + shift
  int64_t first = shift > 0 ? (shift + stride - 1) / stride : 0;
  int64_t last = in + shift > 0 ? (in + shift + stride - 1) / stride : 0;  // exclusive
  if (first > out) first = out;
  if (last > out) last = out;
  if (last < first) last = first;
  *lo = first;
  *hi = last;
}

// One column-buffer element (per-element form, the natural shape of a GPU thread).
template <typename T>
HOST_DEVICE inline T im2col_value(const T* plane, const ConvGeometry& g, int64_t ki, int64_t kj,
                                  int64_t oh, int64_t ow) {
  const int64_t ih = conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
  const int64_t iw = conv_in_coord(ow, kj, g.stride_w, g.pad_w, g.dil_w);
  if (ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) return T(0);
  return plane[ih * g.width + iw];
}

}  // namespace kernels
}  // namespace engine
