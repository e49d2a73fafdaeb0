// Source coordinates of resizing along one axis, as PyTorch's upsample kernels compute them, so
// results match torch.nn.functional.interpolate.
//   scale: in/out (size given), 1/scale_factor (scale_factor given), or (in-1)/(out-1) with
//          align_corners (0 when out == 1). Computed once on the host in float.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

// Nearest: floor(dst * scale), clamped into the input.
HOST_DEVICE inline int64_t nearest_source(int64_t dst, int64_t in_size, float scale) {
  const int64_t src = static_cast<int64_t>(floorf(static_cast<float>(dst) * scale));
  return src < in_size - 1 ? src : in_size - 1;
}

// Linear: the two taps i0, i1 (= i0 at the last input) and the weight w1 of i1 (w0 = 1 - w1).
struct LinearTaps {
  int64_t i0, i1;
  float w1;
};

HOST_DEVICE inline LinearTaps linear_taps(int64_t dst, int64_t in_size, float scale,
                                          bool align_corners) {
  float src = align_corners ? static_cast<float>(dst) * scale
                            : (static_cast<float>(dst) + 0.5f) * scale - 0.5f;
  if (src < 0) src = 0;  // half-pixel centres before the first input clamp to it
  LinearTaps t;
  t.i0 = static_cast<int64_t>(src);
  if (t.i0 > in_size - 1) t.i0 = in_size - 1;
  t.i1 = t.i0 < in_size - 1 ? t.i0 + 1 : t.i0;
  t.w1 = src - static_cast<float>(t.i0);
  return t;
}

}  // namespace kernels
}  // namespace engine
