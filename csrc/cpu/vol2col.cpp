// CPU loops of vol2col / col2vol (math in kernels/vol2col.h). As for 2-D (cpu/im2col.cpp) both
// parallelise over the N*C input volumes: one volume's column rows belong to it alone, so col2vol
// accumulates without atomics. Per tap, the valid output box (kernels/im2col.h conv_valid_range
// along each axis) makes the inner loops branch-free; outside it the tap reads zero padding.
#include "cpu/vol2col.h"

#include <algorithm>

#include "cpu/parallel.h"

namespace engine {
namespace cpu {

using kernels::ColumnLayout;
using kernels::Conv3dGeometry;
using kernels::conv_in_coord;
using kernels::conv_valid_range;

namespace {

struct TapBox {
  int64_t d_lo, d_hi, h_lo, h_hi, w_lo, w_hi;
  int64_t w_offset;  // input column read by output column 0 (may be negative)
};

inline TapBox tap_box(const Conv3dGeometry& g, int64_t a, int64_t b, int64_t e) {
  TapBox r;
  conv_valid_range(g.depth, g.out_d, a, g.stride_d, g.pad_d, g.dil_d, &r.d_lo, &r.d_hi);
  conv_valid_range(g.height, g.out_h, b, g.stride_h, g.pad_h, g.dil_h, &r.h_lo, &r.h_hi);
  conv_valid_range(g.width, g.out_w, e, g.stride_w, g.pad_w, g.dil_w, &r.w_lo, &r.w_hi);
  r.w_offset = conv_in_coord(0, e, g.stride_w, g.pad_w, g.dil_w);
  return r;
}

// Input row (id, ih) read by output row (od, oh) for tap (a, b), as an offset into the volume.
inline int64_t input_row(const Conv3dGeometry& g, int64_t a, int64_t b, int64_t od, int64_t oh) {
  const int64_t id = conv_in_coord(od, a, g.stride_d, g.pad_d, g.dil_d);
  const int64_t ih = conv_in_coord(oh, b, g.stride_h, g.pad_h, g.dil_h);
  return (id * g.height + ih) * g.width;
}

// One output row (od, oh) of tap (a, b, e): zeros outside [w_lo, w_hi), the input row inside.
// Every element is written once (no fill-then-overwrite: the buffer is written at memory speed).
inline void vol2col_row(const float* __restrict src, float* __restrict out, const TapBox& r,
                        const Conv3dGeometry& g) {
  int64_t ow = 0;
  for (; ow < r.w_lo; ++ow) out[ow] = 0.f;
  if (g.stride_w == 1) {
    for (; ow < r.w_hi; ++ow) out[ow] = src[ow];
  } else {
    for (; ow < r.w_hi; ++ow) out[ow] = src[ow * g.stride_w];
  }
  for (; ow < g.out_w; ++ow) out[ow] = 0.f;
}

// Copies one input volume's taps into its kd*kh*kw rows of the column buffer.
void vol2col_volume(const float* volume, float* rows, int64_t row_stride,
                    const Conv3dGeometry& g) {
  const int64_t plane = g.out_h * g.out_w;
  for (int64_t a = 0; a < g.kernel_d; ++a) {
    for (int64_t b = 0; b < g.kernel_h; ++b) {
      for (int64_t e = 0; e < g.kernel_w; ++e) {
        float* __restrict dst = rows + ((a * g.kernel_h + b) * g.kernel_w + e) * row_stride;
        const TapBox r = tap_box(g, a, b, e);
        std::fill(dst, dst + r.d_lo * plane, 0.f);
        for (int64_t od = r.d_lo; od < r.d_hi; ++od) {
          float* out = dst + od * plane;
          std::fill(out, out + r.h_lo * g.out_w, 0.f);
          for (int64_t oh = r.h_lo; oh < r.h_hi; ++oh) {
            vol2col_row(volume + input_row(g, a, b, od, oh) + r.w_offset, out + oh * g.out_w, r,
                        g);
          }
          std::fill(out + r.h_hi * g.out_w, out + plane, 0.f);
        }
        std::fill(dst + r.d_hi * plane, dst + g.positions(), 0.f);
      }
    }
  }
}

// Sums one volume's rows of the column buffer back into the volume (overwrites it).
void col2vol_volume(const float* rows, int64_t row_stride, float* volume,
                    const Conv3dGeometry& g) {
  const int64_t plane = g.out_h * g.out_w;
  std::fill(volume, volume + g.volume(), 0.f);
  for (int64_t a = 0; a < g.kernel_d; ++a) {
    for (int64_t b = 0; b < g.kernel_h; ++b) {
      for (int64_t e = 0; e < g.kernel_w; ++e) {
        const float* src = rows + ((a * g.kernel_h + b) * g.kernel_w + e) * row_stride;
        const TapBox r = tap_box(g, a, b, e);
        for (int64_t od = r.d_lo; od < r.d_hi; ++od) {
          for (int64_t oh = r.h_lo; oh < r.h_hi; ++oh) {
            const float* in = src + od * plane + oh * g.out_w;
            float* dst = volume + input_row(g, a, b, od, oh) + r.w_offset;
            if (g.stride_w == 1) {
              for (int64_t ow = r.w_lo; ow < r.w_hi; ++ow) dst[ow] += in[ow];
            } else {
              for (int64_t ow = r.w_lo; ow < r.w_hi; ++ow) dst[ow * g.stride_w] += in[ow];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void vol2col_cpu(const float* x, float* col, int64_t batch, const Conv3dGeometry& g,
                 const ColumnLayout& layout) {
  const int64_t volumes = batch * g.channels;
  const int64_t work = volumes * g.taps() * g.positions();
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t t = 0; t < volumes; ++t) {
    const int64_t n = t / g.channels, c = t % g.channels;
    vol2col_volume(x + t * g.volume(), col + kernels::vol_column_offset(g, layout, n, c, 0, 0),
                   layout.row, g);
  }
}

void col2vol_cpu(const float* col, float* x, int64_t batch, const Conv3dGeometry& g,
                 const ColumnLayout& layout) {
  const int64_t volumes = batch * g.channels;
  const int64_t work = volumes * g.taps() * g.positions();
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t t = 0; t < volumes; ++t) {
    const int64_t n = t / g.channels, c = t % g.channels;
    col2vol_volume(col + kernels::vol_column_offset(g, layout, n, c, 0, 0), layout.row,
                   x + t * g.volume(), g);
  }
}

}  // namespace cpu
}  // namespace engine
