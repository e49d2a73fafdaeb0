// ROI pooling with MegEngine's (Caffe's) semantics: the roi corners are scaled and rounded to
// integer cells, the roi is at least 1 x 1 cells, and bin (ph, pw) covers rows
// [floor(ph * bin_h), ceil((ph + 1) * bin_h)) from the roi start, clipped to the feature map.
// An empty bin outputs 0.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct RoiPoolBin {
  int64_t h0, h1, w0, w1;  // half-open row and column ranges
};

HOST_DEVICE inline int64_t clamp_(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

HOST_DEVICE inline RoiPoolBin roi_pool_bin(const float* roi, float scale, int64_t ph, int64_t pw,
                                           int64_t pooled_h, int64_t pooled_w, int64_t height,
                                           int64_t width) {
  const int64_t start_w = static_cast<int64_t>(roundf(roi[1] * scale));
  const int64_t start_h = static_cast<int64_t>(roundf(roi[2] * scale));
  const int64_t end_w = static_cast<int64_t>(roundf(roi[3] * scale));
  const int64_t end_h = static_cast<int64_t>(roundf(roi[4] * scale));
  const int64_t roi_w = end_w - start_w + 1 > 1 ? end_w - start_w + 1 : 1;
  const int64_t roi_h = end_h - start_h + 1 > 1 ? end_h - start_h + 1 : 1;
  const float bin_h = static_cast<float>(roi_h) / static_cast<float>(pooled_h);
  const float bin_w = static_cast<float>(roi_w) / static_cast<float>(pooled_w);
  RoiPoolBin b;
  b.h0 = clamp_(static_cast<int64_t>(floorf(ph * bin_h)) + start_h, 0, height);
  b.h1 = clamp_(static_cast<int64_t>(ceilf((ph + 1) * bin_h)) + start_h, 0, height);
  b.w0 = clamp_(static_cast<int64_t>(floorf(pw * bin_w)) + start_w, 0, width);
  b.w1 = clamp_(static_cast<int64_t>(ceilf((pw + 1) * bin_w)) + start_w, 0, width);
  return b;
}

}  // namespace kernels
}  // namespace engine
