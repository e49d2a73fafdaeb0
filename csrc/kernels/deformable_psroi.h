// Deformable PSROI pooling with MegEngine's semantics (megdnn DeformablePSROIPooling): roi
// corners are rounded, scaled and shifted by -0.5; bin (ph, pw) of channel c is moved by
// trans[k, 2 cls, part_h, part_w] * trans_std * roi width (and the 2 cls + 1 plane for y),
// cls = c / (C / num_cls), part = floor(p / pooled * part_size); it averages the
// sample_per_part^2 bilinear samples that fall within half a pixel of the map (clamped into it).
// out_count keeps how many did: the backward divides by it. megdnn reads trans as flat
// part_size x part_size planes whatever its shape; MegEngine's layout check fixes that shape to
// (K, 2, pooled_h, pooled_w), one class (csrc/bind/deformable_psroi.cpp).
//
// The offset gradient is megdnn's: the bilinear derivative at the clamped sample point, times
// trans_std and the roi size (clamping is not differentiated).
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct DpsroiParams {
  int64_t batch, channels, height, width, num_rois, pooled_h, pooled_w, part_size,
      sample_per_part, num_cls;
  float spatial_scale, trans_std;
  bool no_trans;
};

struct DpsroiBin {
  int64_t batch, trans_x, trans_y;  // trans offsets of the bin's x / y shift (-1: none)
  float wstart, hstart, sub_w, sub_h, roi_w, roi_h;
};

HOST_DEVICE inline DpsroiBin dpsroi_bin(const float* roi, const float* trans, int64_t k,
                                        int64_t cls, int64_t ph, int64_t pw,
                                        const DpsroiParams& p) {
  DpsroiBin b;
  b.batch = static_cast<int64_t>(roi[0]);
  const float x1 = roundf(roi[1]) * p.spatial_scale - 0.5f;
  const float y1 = roundf(roi[2]) * p.spatial_scale - 0.5f;
  const float x2 = (roundf(roi[3]) + 1.0f) * p.spatial_scale - 0.5f;
  const float y2 = (roundf(roi[4]) + 1.0f) * p.spatial_scale - 0.5f;
  b.roi_w = x2 - x1 > 0.1f ? x2 - x1 : 0.1f;  // too small rois become 0.1 wide
  b.roi_h = y2 - y1 > 0.1f ? y2 - y1 : 0.1f;
  const float bin_w = b.roi_w / static_cast<float>(p.pooled_w);
  const float bin_h = b.roi_h / static_cast<float>(p.pooled_h);
  b.sub_w = bin_w / static_cast<float>(p.sample_per_part);
  b.sub_h = bin_h / static_cast<float>(p.sample_per_part);
  b.wstart = static_cast<float>(pw) * bin_w + x1;
  b.hstart = static_cast<float>(ph) * bin_h + y1;
  b.trans_x = b.trans_y = -1;
  if (!p.no_trans) {
    const int64_t part_h = static_cast<int64_t>(
        floorf(static_cast<float>(ph) / static_cast<float>(p.pooled_h) * p.part_size));
    const int64_t part_w = static_cast<int64_t>(
        floorf(static_cast<float>(pw) / static_cast<float>(p.pooled_w) * p.part_size));
    const int64_t part = part_h * p.part_size + part_w, plane = p.part_size * p.part_size;
    b.trans_x = ((k * p.num_cls + cls) * 2) * plane + part;
    b.trans_y = ((k * p.num_cls + cls) * 2 + 1) * plane + part;
    b.wstart += trans[b.trans_x] * p.trans_std * b.roi_w;
    b.hstart += trans[b.trans_y] * p.trans_std * b.roi_h;
  }
  return b;
}

// Sample (ih, iw) of a bin: false when it lies more than half a pixel outside the map; else its
// clamped point's floor / ceil corners and fractions.
struct DpsroiSample {
  int64_t x0, x1, y0, y1;
  float dx, dy;
};

HOST_DEVICE inline bool dpsroi_sample(const DpsroiBin& b, int64_t ih, int64_t iw,
                                      const DpsroiParams& p, DpsroiSample* s) {
  float w = b.wstart + static_cast<float>(iw) * b.sub_w;
  float h = b.hstart + static_cast<float>(ih) * b.sub_h;
  const float fw = static_cast<float>(p.width), fh = static_cast<float>(p.height);
  if (!(w >= -0.5f && w <= fw - 0.5f && h >= -0.5f && h <= fh - 0.5f)) return false;
  w = fminf(fmaxf(w, 0.0f), fw - 1.0f);
  h = fminf(fmaxf(h, 0.0f), fh - 1.0f);
  s->x0 = static_cast<int64_t>(floorf(w));
  s->x1 = static_cast<int64_t>(ceilf(w));
  s->y0 = static_cast<int64_t>(floorf(h));
  s->y1 = static_cast<int64_t>(ceilf(h));
  s->dx = w - static_cast<float>(s->x0);
  s->dy = h - static_cast<float>(s->y0);
  return true;
}

HOST_DEVICE inline float dpsroi_read(const float* plane, const DpsroiSample& s, int64_t width) {
  return (1 - s.dx) * (1 - s.dy) * plane[s.y0 * width + s.x0] +
         (1 - s.dx) * s.dy * plane[s.y1 * width + s.x0] +
         s.dx * (1 - s.dy) * plane[s.y0 * width + s.x1] + s.dx * s.dy * plane[s.y1 * width + s.x1];
}

// Output (k, c, ph, pw): the mean of the samples inside, and their count.
HOST_DEVICE inline float dpsroi_forward(const float* x, const float* rois, const float* trans,
                                        int64_t k, int64_t c, int64_t ph, int64_t pw,
                                        const DpsroiParams& p, float* count) {
  const int64_t cls = c / (p.channels / p.num_cls);
  const DpsroiBin b = dpsroi_bin(rois + 5 * k, trans, k, cls, ph, pw, p);
  const float* plane = x + (b.batch * p.channels + c) * p.height * p.width;
  float sum = 0.0f;
  int64_t n = 0;
  for (int64_t ih = 0; ih < p.sample_per_part; ++ih) {
    for (int64_t iw = 0; iw < p.sample_per_part; ++iw) {
      DpsroiSample s;
      if (!dpsroi_sample(b, ih, iw, p, &s)) continue;
      sum += dpsroi_read(plane, s, p.width);
      ++n;
    }
  }
  *count = static_cast<float>(n);
  return n == 0 ? 0.0f : sum / static_cast<float>(n);
}

// Offset gradient (d / d trans x, d / d trans y) of part (part_h, part_w) of class cls of roi k:
// gathered over the class's channels and the bins of that part (deterministic).
HOST_DEVICE inline void dpsroi_trans_grad(const float* x, const float* rois, const float* trans,
                                          const float* dout, const float* count, int64_t k,
                                          int64_t cls, int64_t part_h, int64_t part_w,
                                          const DpsroiParams& p, float* gx, float* gy) {
  *gx = 0.0f;
  *gy = 0.0f;
  const int64_t per_cls = p.channels / p.num_cls, bins = p.pooled_h * p.pooled_w;
  for (int64_t c = cls * per_cls; c < (cls + 1) * per_cls; ++c) {
    for (int64_t ph = 0; ph < p.pooled_h; ++ph) {
      const int64_t bh = static_cast<int64_t>(
          floorf(static_cast<float>(ph) / static_cast<float>(p.pooled_h) * p.part_size));
      if (bh != part_h) continue;
      for (int64_t pw = 0; pw < p.pooled_w; ++pw) {
        const int64_t bw = static_cast<int64_t>(
            floorf(static_cast<float>(pw) / static_cast<float>(p.pooled_w) * p.part_size));
        const int64_t o = (k * p.channels + c) * bins + ph * p.pooled_w + pw;
        if (bw != part_w || count[o] <= 0) continue;
        const DpsroiBin b = dpsroi_bin(rois + 5 * k, trans, k, cls, ph, pw, p);
        const float* plane = x + (b.batch * p.channels + c) * p.height * p.width;
        const float diff = dout[o] / count[o];
        for (int64_t ih = 0; ih < p.sample_per_part; ++ih) {
          for (int64_t iw = 0; iw < p.sample_per_part; ++iw) {
            DpsroiSample s;
            if (!dpsroi_sample(b, ih, iw, p, &s)) continue;
            const float u00 = plane[s.y0 * p.width + s.x0], u01 = plane[s.y1 * p.width + s.x0];
            const float u10 = plane[s.y0 * p.width + s.x1], u11 = plane[s.y1 * p.width + s.x1];
            *gx += (u11 * s.dy + u10 * (1 - s.dy) - u01 * s.dy - u00 * (1 - s.dy)) * p.trans_std *
                   diff * b.roi_w;
            *gy += (u11 * s.dx + u01 * (1 - s.dx) - u10 * s.dx - u00 * (1 - s.dx)) * p.trans_std *
                   diff * b.roi_h;
          }
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace engine
