#include "kernels/interpolate.h"

#include <cstdint>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {
namespace {

// Taps of every output row/column, computed once per call (shared by all N * C planes).
std::vector<kernels::LinearTaps> axis_taps(int64_t out, int64_t in, float scale, bool bilinear,
                                           bool align_corners) {
  std::vector<kernels::LinearTaps> taps(out);
  for (int64_t d = 0; d < out; ++d) {
    if (bilinear) {
      taps[d] = kernels::linear_taps(d, in, scale, align_corners);
    } else {
      const int64_t s = kernels::nearest_source(d, in, scale);
      taps[d] = {s, s, 0.0f};
    }
  }
  return taps;
}

}  // namespace

void interpolate_forward_cpu(const float* x, float* y, int64_t planes, int64_t in_h, int64_t in_w,
                             int64_t out_h, int64_t out_w, float scale_h, float scale_w,
                             bool bilinear, bool align_corners) {
  const auto th = axis_taps(out_h, in_h, scale_h, bilinear, align_corners);
  const auto tw = axis_taps(out_w, in_w, scale_w, bilinear, align_corners);
#pragma omp parallel for schedule(static) if (planes * out_h * out_w >= kParallelThreshold)
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x + p * in_h * in_w;
    float* dst = y + p * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      const float* r0 = src + th[oh].i0 * in_w;
      const float* r1 = src + th[oh].i1 * in_w;
      const float wh1 = th[oh].w1, wh0 = 1.0f - wh1;
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const kernels::LinearTaps& t = tw[ow];
        const float ww0 = 1.0f - t.w1;
        dst[oh * out_w + ow] = wh0 * (ww0 * r0[t.i0] + t.w1 * r0[t.i1]) +
                               wh1 * (ww0 * r1[t.i0] + t.w1 * r1[t.i1]);
      }
    }
  }
}

// The adjoint of the forward: each output gradient goes back to its taps with the same weights.
// Planes are disjoint, so splitting them over threads needs no atomics.
void interpolate_backward_cpu(const float* dy, float* dx, int64_t planes, int64_t in_h,
                              int64_t in_w, int64_t out_h, int64_t out_w, float scale_h,
                              float scale_w, bool bilinear, bool align_corners) {
  const auto th = axis_taps(out_h, in_h, scale_h, bilinear, align_corners);
  const auto tw = axis_taps(out_w, in_w, scale_w, bilinear, align_corners);
#pragma omp parallel for schedule(static) if (planes * out_h * out_w >= kParallelThreshold)
  for (int64_t p = 0; p < planes; ++p) {
    const float* g = dy + p * out_h * out_w;
    float* d = dx + p * in_h * in_w;
    for (int64_t i = 0; i < in_h * in_w; ++i) d[i] = 0.0f;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      float* r0 = d + th[oh].i0 * in_w;
      float* r1 = d + th[oh].i1 * in_w;
      const float wh1 = th[oh].w1, wh0 = 1.0f - wh1;
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const kernels::LinearTaps& t = tw[ow];
        const float v = g[oh * out_w + ow], ww0 = 1.0f - t.w1;
        r0[t.i0] += wh0 * ww0 * v;
        r0[t.i1] += wh0 * t.w1 * v;
        r1[t.i0] += wh1 * ww0 * v;
        r1[t.i1] += wh1 * t.w1 * v;
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
