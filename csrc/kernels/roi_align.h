// ROIAlign with MegEngine's semantics (megdnn roi_align): a roi (batch, x1, y1, x2, y2) is scaled
// by spatial_scale and shifted by -offset (0.5 when aligned); each of the PH x PW bins samples a
// fixed sample_h x sample_w grid at bin-relative centres (i + 0.5) / sample; each sample is a
// bilinear read in which a corner outside the feature map counts as 0. "average" mode averages
// the samples, "max" mode keeps the largest one and remembers its grid index for backward.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct RoiAlignGeometry {
  int64_t batch;
  float start_h, start_w, bin_h, bin_w;
};

HOST_DEVICE inline RoiAlignGeometry roi_align_geometry(const float* roi, float spatial_scale,
                                                       float offset, int64_t pooled_h,
                                                       int64_t pooled_w) {
  RoiAlignGeometry g;
  g.batch = static_cast<int64_t>(roi[0]);
  g.start_w = roi[1] * spatial_scale - offset;
  g.start_h = roi[2] * spatial_scale - offset;
  const float end_w = roi[3] * spatial_scale - offset;
  const float end_h = roi[4] * spatial_scale - offset;
  const float width = end_w - g.start_w > 0 ? end_w - g.start_w : 0.0f;
  const float height = end_h - g.start_h > 0 ? end_h - g.start_h : 0.0f;
  g.bin_h = height / static_cast<float>(pooled_h);
  g.bin_w = width / static_cast<float>(pooled_w);
  return g;
}

// Centre of sample i (of n) in bin p along one axis.
HOST_DEVICE inline float roi_sample_coord(float start, float bin, int64_t p, int64_t i,
                                          int64_t n) {
  return start + bin * (static_cast<float>(p) + (static_cast<float>(i) + 0.5f) /
                                                   static_cast<float>(n));
}

// The four corners of a bilinear read at (h, w) as plane offsets and weights; corners outside the
// H x W map get weight 0 (and offset 0, so they can still be read safely).
struct BilinearTaps {
  int64_t offset[4];
  float weight[4];
};

HOST_DEVICE inline BilinearTaps bilinear_taps(float h, float w, int64_t height, int64_t width) {
  const int64_t h0 = static_cast<int64_t>(floorf(h)), w0 = static_cast<int64_t>(floorf(w));
  const float lh = h - static_cast<float>(h0), lw = w - static_cast<float>(w0);
  const int64_t hs[2] = {h0, h0 + 1}, ws[2] = {w0, w0 + 1};
  const float wh[2] = {1.0f - lh, lh}, ww[2] = {1.0f - lw, lw};
  BilinearTaps t;
  for (int k = 0; k < 4; ++k) {
    const int64_t y = hs[k >> 1], x = ws[k & 1];
    const bool inside = y >= 0 && y < height && x >= 0 && x < width;
    t.offset[k] = inside ? y * width + x : 0;
    t.weight[k] = inside ? wh[k >> 1] * ww[k & 1] : 0.0f;
  }
  return t;
}

HOST_DEVICE inline float bilinear_read(const float* plane, const BilinearTaps& t) {
  return plane[t.offset[0]] * t.weight[0] + plane[t.offset[1]] * t.weight[1] +
         plane[t.offset[2]] * t.weight[2] + plane[t.offset[3]] * t.weight[3];
}

}  // namespace kernels
}  // namespace engine
