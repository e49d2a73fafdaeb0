// CPU loops of im2col / col2im (math in kernels/im2col.h). Both parallelise over the N*C input
// planes: im2col's writes for one plane are its own kh*kw rows of the buffer, and col2im's
// accumulation into one plane reads only those rows, so threads never share an output element
// and col2im needs no atomics.
#include "cpu/im2col.h"

#include <algorithm>
#include <cstring>

#include "cpu/parallel.h"

namespace engine {
namespace cpu {

using kernels::ColumnLayout;
using kernels::conv_in_coord;
using kernels::conv_valid_range;
using kernels::ConvGeometry;

namespace {

// The reorders are plain row copies, bound by memory bandwidth that one core nearly saturates at
// these sizes; a parallel region would mostly add a fork/join (and, between the BLAS calls around
// them, wake threads that contend with the BLAS pool).
constexpr int64_t kCopyParallelThreshold = int64_t(1) << 20;

// The valid output-position box of kernel tap (ki, kj): outside it the tap reads zero padding.
struct TapRange {
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
  int64_t w_offset;  // input column read by output column 0 (may be negative)
};

inline TapRange tap_range(const ConvGeometry& g, int64_t ki, int64_t kj) {
  TapRange r;
  conv_valid_range(g.height, g.out_h, ki, g.stride_h, g.pad_h, g.dil_h, &r.oh_lo, &r.oh_hi);
  conv_valid_range(g.width, g.out_w, kj, g.stride_w, g.pad_w, g.dil_w, &r.ow_lo, &r.ow_hi);
  r.w_offset = conv_in_coord(0, kj, g.stride_w, g.pad_w, g.dil_w);
  return r;
}

// Copies one input plane's taps into its kh*kw rows of the column buffer. Rows are often short
// (4 to 32 outputs in ResNet's later stages), so the loops are written out rather than calls to
// memcpy/fill per row, whose call overhead would dominate.
inline void im2col_plane(const float* plane, float* rows, int64_t row_stride,
                         const ConvGeometry& g) {
  const int64_t ow_count = g.out_w;
  const int64_t positions = g.out_h * g.out_w;
  for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
    for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
      float* __restrict dst = rows + (ki * g.kernel_w + kj) * row_stride;
      const TapRange r = tap_range(g, ki, kj);
      for (int64_t i = 0; i < r.oh_lo * ow_count; ++i) dst[i] = 0.f;
      for (int64_t oh = r.oh_lo; oh < r.oh_hi; ++oh) {
        float* __restrict out = dst + oh * ow_count;
        const float* __restrict src =
            plane + conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h) * g.width + r.w_offset;
        int64_t ow = 0;
        for (; ow < r.ow_lo; ++ow) out[ow] = 0.f;
        if (g.stride_w == 1) {
          for (; ow < r.ow_hi; ++ow) out[ow] = src[ow];
        } else {
          for (; ow < r.ow_hi; ++ow) out[ow] = src[ow * g.stride_w];
        }
        for (; ow < ow_count; ++ow) out[ow] = 0.f;
      }
      for (int64_t i = r.oh_hi * ow_count; i < positions; ++i) dst[i] = 0.f;
    }
  }
}

// Sums one plane's kh*kw rows of the column buffer back into the plane (overwrites it).
inline void col2im_plane(const float* rows, int64_t row_stride, float* plane,
                         const ConvGeometry& g) {
  std::fill(plane, plane + g.height * g.width, 0.f);
  for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
    for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
      const float* src = rows + (ki * g.kernel_w + kj) * row_stride;
      const TapRange r = tap_range(g, ki, kj);
      for (int64_t oh = r.oh_lo; oh < r.oh_hi; ++oh) {
        const float* in = src + oh * g.out_w;
        float* dst =
            plane + conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h) * g.width + r.w_offset;
        if (g.stride_w == 1) {
          for (int64_t ow = r.ow_lo; ow < r.ow_hi; ++ow) dst[ow] += in[ow];
        } else {
          for (int64_t ow = r.ow_lo; ow < r.ow_hi; ++ow) dst[ow * g.stride_w] += in[ow];
        }
      }
    }
  }
}

// First row of input plane (n, c) in the column buffer.
inline int64_t plane_rows_offset(int64_t n, int64_t c, const ConvGeometry& g,
                                 const ColumnLayout& layout) {
  const int64_t per_group = g.channels / g.groups;
  const int64_t group = c / per_group;
  const int64_t first_row = (c % per_group) * g.kernel_h * g.kernel_w;
  return group * layout.group + first_row * layout.row + n * layout.sample;
}

}  // namespace

void im2col_cpu(const float* x, float* col, int64_t batch, const ConvGeometry& g,
                const ColumnLayout& layout) {
  const int64_t planes = batch * g.channels;
  const int64_t work = planes * g.kernel_h * g.kernel_w * g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t t = 0; t < planes; ++t) {
    const int64_t n = t / g.channels, c = t % g.channels;
    im2col_plane(x + t * g.height * g.width, col + plane_rows_offset(n, c, g, layout), layout.row,
                 g);
  }
}

void col2im_cpu(const float* col, float* x, int64_t batch, const ConvGeometry& g,
                const ColumnLayout& layout) {
  const int64_t planes = batch * g.channels;
  const int64_t work = planes * g.kernel_h * g.kernel_w * g.out_h * g.out_w;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t t = 0; t < planes; ++t) {
    const int64_t n = t / g.channels, c = t % g.channels;
    col2im_plane(col + plane_rows_offset(n, c, g, layout), layout.row, x + t * g.height * g.width,
                 g);
  }
}

void gather_batch_major(const float* src, float* dst, int64_t batch, int64_t groups, int64_t rows,
                        int64_t plane, const float* bias) {
  const int64_t count = batch * groups * rows;  // rows of `plane` elements
#pragma omp parallel for schedule(static) if (count * plane >= kCopyParallelThreshold)
  for (int64_t t = 0; t < count; ++t) {
    const int64_t n = t / (groups * rows), gr = t % (groups * rows);  // gr = g * rows + r
    const float* in = src + (gr * batch + n) * plane;
    float* out = dst + t * plane;
    if (bias != nullptr) {
      const float b = bias[gr];
      for (int64_t p = 0; p < plane; ++p) out[p] = in[p] + b;
    } else {
      std::memcpy(out, in, plane * sizeof(float));
    }
  }
}

void scatter_group_major(const float* src, float* dst, int64_t batch, int64_t groups, int64_t rows,
                         int64_t plane) {
  const int64_t count = batch * groups * rows;
#pragma omp parallel for schedule(static) if (count * plane >= kCopyParallelThreshold)
  for (int64_t t = 0; t < count; ++t) {
    const int64_t n = t / (groups * rows), gr = t % (groups * rows);
    std::memcpy(dst + (gr * batch + n) * plane, src + t * plane, plane * sizeof(float));
  }
}

void flip_transpose_filter(const float* w, float* out, int64_t groups, int64_t og, int64_t cg,
                           int64_t taps) {
  // A transpose of (Og x Cg) blocks of `taps` floats: done in 16 x 16 tiles so the rows read and
  // the rows written both stay in cache (row by row, one side strides by a whole filter row).
  constexpr int64_t kTile = 16;
  const int64_t o_tiles = (og + kTile - 1) / kTile, c_tiles = (cg + kTile - 1) / kTile;
  const int64_t count = groups * o_tiles * c_tiles;
#pragma omp parallel for schedule(static) if (groups * og * cg * taps >= kCopyParallelThreshold)
  for (int64_t t = 0; t < count; ++t) {
    const int64_t g = t / (o_tiles * c_tiles), ot = (t / c_tiles) % o_tiles, ct = t % c_tiles;
    const int64_t o1 = std::min(og, (ot + 1) * kTile), c1 = std::min(cg, (ct + 1) * kTile);
    for (int64_t c = ct * kTile; c < c1; ++c)
      for (int64_t o = ot * kTile; o < o1; ++o) {
        const float* src = w + ((g * og + o) * cg + c) * taps;
        float* dst = out + ((g * cg + c) * og + o) * taps;
        std::reverse_copy(src, src + taps, dst);
      }
  }
}

}  // namespace cpu
}  // namespace engine
