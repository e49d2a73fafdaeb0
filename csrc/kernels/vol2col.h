// vol2col / col2vol index math for 3-D convolution, shared by the CPU loops (cpu/vol2col.cpp) and
// the CUDA kernels (cuda/vol2col.cu). The 3-D analogue of kernels/im2col.h, whose per-axis
// helpers (conv_out_size, conv_in_coord, conv_valid_range) and ColumnLayout it reuses.
//
// The column buffer of a grouped conv holds, for group g, row
//   k = ((c_in_group * kd + a) * kh + b) * kw + e        (tap (a, b, e))
// and column (n, p) with p = (od * out_h + oh) * out_w + ow, the input value
//   x[n, g * Cg + c_in_group, od * sd - pd + a * dd, oh * sh - ph + b * dh, ow * sw - pw + e * dw]
// (zero outside the volume), so one group's GEMM is (Og, K) @ (K, N*P) as for 2-D.
#pragma once

#include <cstdint>

#include "common/macros.h"
#include "kernels/im2col.h"

namespace engine {
namespace kernels {

struct Conv3dGeometry {
  int64_t channels, depth, height, width;  // input volume (per sample, all groups)
  int64_t out_d, out_h, out_w;
  int64_t kernel_d, kernel_h, kernel_w;
  int64_t stride_d, stride_h, stride_w;
  int64_t pad_d, pad_h, pad_w;
  int64_t dil_d, dil_h, dil_w;
  int64_t groups;

  HOST_DEVICE int64_t taps() const { return kernel_d * kernel_h * kernel_w; }
  HOST_DEVICE int64_t positions() const { return out_d * out_h * out_w; }
  HOST_DEVICE int64_t volume() const { return depth * height * width; }
};

// Offset of the column entry of input channel c, tap `tap`, sample n, output position p.
HOST_DEVICE inline int64_t vol_column_offset(const Conv3dGeometry& g, const ColumnLayout& layout,
                                             int64_t n, int64_t c, int64_t tap, int64_t p) {
  const int64_t per_group = g.channels / g.groups;
  return (c / per_group) * layout.group + ((c % per_group) * g.taps() + tap) * layout.row +
         n * layout.sample + p;
}

// One column-buffer element (the natural shape of a GPU thread): what tap (a, b, e) reads at
// output position (od, oh, ow) of one input volume.
template <typename T>
HOST_DEVICE inline T vol2col_value(const T* volume, const Conv3dGeometry& g, int64_t a, int64_t b,
                                   int64_t e, int64_t od, int64_t oh, int64_t ow) {
  const int64_t id = conv_in_coord(od, a, g.stride_d, g.pad_d, g.dil_d);
  const int64_t ih = conv_in_coord(oh, b, g.stride_h, g.pad_h, g.dil_h);
  const int64_t iw = conv_in_coord(ow, e, g.stride_w, g.pad_w, g.dil_w);
  if (id < 0 || id >= g.depth || ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) return T(0);
  return volume[(id * g.height + ih) * g.width + iw];
}

// The output coordinate whose tap k reads input coordinate i along one axis, or -1 if none does
// (the stride skips i, or the output lies outside [0, out)). The inverse of conv_in_coord, which
// lets col2vol gather per input element instead of scattering per column entry.
HOST_DEVICE inline int64_t conv_out_coord(int64_t i, int64_t k, int64_t stride, int64_t pad,
                                          int64_t dil, int64_t out) {
  const int64_t shifted = i + pad - k * dil;
  if (shifted < 0 || shifted % stride != 0) return -1;
  const int64_t o = shifted / stride;
  return o < out ? o : -1;
}

// col2vol for one input element (id, ih, iw) of channel c, sample n: the sum of every column entry
// that read it. Gathering gives each GPU thread its own output element, so no atomics.
template <typename T>
HOST_DEVICE inline T col2vol_value(const T* col, const Conv3dGeometry& g,
                                   const ColumnLayout& layout, int64_t n, int64_t c, int64_t id,
                                   int64_t ih, int64_t iw) {
  T sum = T(0);
  for (int64_t a = 0; a < g.kernel_d; ++a) {
    const int64_t od = conv_out_coord(id, a, g.stride_d, g.pad_d, g.dil_d, g.out_d);
    if (od < 0) continue;
    for (int64_t b = 0; b < g.kernel_h; ++b) {
      const int64_t oh = conv_out_coord(ih, b, g.stride_h, g.pad_h, g.dil_h, g.out_h);
      if (oh < 0) continue;
      for (int64_t e = 0; e < g.kernel_w; ++e) {
        const int64_t ow = conv_out_coord(iw, e, g.stride_w, g.pad_w, g.dil_w, g.out_w);
        if (ow < 0) continue;
        const int64_t tap = (a * g.kernel_h + b) * g.kernel_w + e;
        sum += col[vol_column_offset(g, layout, n, c, tap, (od * g.out_h + oh) * g.out_w + ow)];
      }
    }
  }
  return sum;
}

}  // namespace kernels
}  // namespace engine
