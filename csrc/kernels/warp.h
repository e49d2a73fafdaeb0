// Sampling an image at a real source coordinate, with MegEngine's (megdnn's) border modes and
// interpolation: the math behind warp_perspective, warp_affine (a perspective matrix whose last
// row is 0 0 1) and remap. Each bilinear tap is mapped into the image on its own (megcv's
// border_interpolate); in constant mode a tap outside the image reads border_val instead.
//
// Gradients: the output is sum_k v_k w_k(x, y) with the tap values v_k fixed, so
//   d out / d v_k = w_k  (what the input-gradient scatter adds), and
//   d out / d x = sum_k v_k dw_k/dx,  d out / d y = sum_k v_k dw_k/dy  (the coordinate gradient,
// what megdnn's WarpPerspectiveBackwardMat and RemapBackwardMat compute).
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

// megdnn's BorderMode values used by the Python side ("replicate", "reflect", ...).
enum WarpBorder : int { kBorderReplicate = 0, kBorderReflect = 1, kBorderReflect101 = 2,
                        kBorderWrap = 3, kBorderConstant = 4 };

// Index p mapped into [0, len), or -1 (constant mode, outside: read border_val).
HOST_DEVICE inline int64_t border_index(int64_t p, int64_t len, int mode) {
  if (p >= 0 && p < len) return p;
  switch (mode) {
    case kBorderReplicate:
      return p < 0 ? 0 : len - 1;
    case kBorderReflect:
    case kBorderReflect101: {
      if (len == 1) return 0;
      const int64_t delta = mode == kBorderReflect101 ? 1 : 0;
      // One reflection of a far-away index can land outside again: fold the period first.
      const int64_t period = 2 * len - 2 * delta;
      if (period > 0) {
        p %= period;
        if (p < 0) p += period;
      }
      while (p < 0 || p >= len) p = p < 0 ? -p - 1 + delta : len - 1 - (p - len) - delta;
      return p;
    }
    case kBorderWrap: {
      p %= len;
      return p < 0 ? p + len : p;
    }
    default:
      return -1;
  }
}

// A coordinate that is NaN, infinite or absurdly far out would overflow the integer cast of
// floor(); every such coordinate samples the border alike, so clamp it to a large finite range.
HOST_DEVICE inline float safe_coord(float v) {
  const float lim = 1e7f;
  if (!(v == v)) return -lim;  // NaN
  return v < -lim ? -lim : (v > lim ? lim : v);
}

// The four bilinear taps at (x, y) = (column, row): offsets into one H x W plane (-1 = border
// value), weights and the weights' derivatives along x and y.
struct WarpTaps {
  int64_t offset[4];
  float weight[4];
  float dweight_x[4], dweight_y[4];
};

HOST_DEVICE inline WarpTaps warp_linear_taps(float x, float y, int64_t height, int64_t width,
                                             int border) {
  x = safe_coord(x);
  y = safe_coord(y);
  const float fx = floorf(x), fy = floorf(y);
  const float ax = x - fx, ay = y - fy;
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  // Most samples have all four taps inside: no border mapping for them.
  const bool inside = x0 >= 0 && x0 + 1 < width && y0 >= 0 && y0 + 1 < height;
  const int64_t cols[2] = {inside ? x0 : border_index(x0, width, border),
                           inside ? x0 + 1 : border_index(x0 + 1, width, border)};
  const int64_t rows[2] = {inside ? y0 : border_index(y0, height, border),
                           inside ? y0 + 1 : border_index(y0 + 1, height, border)};
  const float wx[2] = {1.0f - ax, ax}, wy[2] = {1.0f - ay, ay};
  const float dwx[2] = {-1.0f, 1.0f};
  WarpTaps t;
  for (int k = 0; k < 4; ++k) {
    const int r = k >> 1, c = k & 1;  // k = (row, column): 00, 01, 10, 11
    t.offset[k] = rows[r] < 0 || cols[c] < 0 ? -1 : rows[r] * width + cols[c];
    t.weight[k] = wy[r] * wx[c];
    t.dweight_x[k] = wy[r] * dwx[c];
    t.dweight_y[k] = dwx[r] * wx[c];
  }
  return t;
}

// Round half to even, as megdnn's nearest remap does (1.5 -> 2, 2.5 -> 2).
HOST_DEVICE inline float round_half_even(float v) {
  const float r = roundf(v);
  if (fabsf(r - v) == 0.5f && fmodf(r, 2.0f) != 0.0f) return r - (r - v) * 2.0f;
  return r;
}

// The one nearest tap (-1 = border value); its weight is 1 and it has no coordinate gradient.
HOST_DEVICE inline int64_t warp_nearest_tap(float x, float y, int64_t height, int64_t width,
                                            int border) {
  const int64_t c = border_index(static_cast<int64_t>(round_half_even(safe_coord(x))), width,
                                 border);
  const int64_t r = border_index(static_cast<int64_t>(round_half_even(safe_coord(y))), height,
                                 border);
  return r < 0 || c < 0 ? -1 : r * width + c;
}

HOST_DEVICE inline float tap_value(const float* plane, int64_t offset, float border_val) {
  return offset < 0 ? border_val : plane[offset];
}

// Source point of output pixel (oh, ow) under a row-major 3 x 3 matrix m:
//   x = (m0 ow + m1 oh + m2) / d,  y = (m3 ow + m4 oh + m5) / d,  d = m6 ow + m7 oh + m8.
struct PerspectivePoint {
  float x, y, inv_d;
};

HOST_DEVICE inline PerspectivePoint perspective_point(const float* m, int64_t oh, int64_t ow) {
  const float w = static_cast<float>(ow), h = static_cast<float>(oh);
  const float d = m[6] * w + m[7] * h + m[8];
  PerspectivePoint p;
  p.inv_d = 1.0f / d;
  p.x = (m[0] * w + m[1] * h + m[2]) / d;
  p.y = (m[3] * w + m[4] * h + m[5]) / d;
  return p;
}

// Adds the gradient of the matrix from the coordinate gradient (gx, gy) of one output pixel.
HOST_DEVICE inline void perspective_matrix_grad(const PerspectivePoint& p, int64_t oh, int64_t ow,
                                                float gx, float gy, float* dm) {
  const float w = static_cast<float>(ow), h = static_cast<float>(oh);
  const float ux = gx * p.inv_d, uy = gy * p.inv_d, ud = -(gx * p.x + gy * p.y) * p.inv_d;
  dm[0] += ux * w;
  dm[1] += ux * h;
  dm[2] += ux;
  dm[3] += uy * w;
  dm[4] += uy * h;
  dm[5] += uy;
  dm[6] += ud * w;
  dm[7] += ud * h;
  dm[8] += ud;
}

// Parameters of one warp / remap call: the output is (n_out, C, out_h, out_w) NCHW, each output
// image sampling one input image (C, in_h, in_w).
struct WarpParams {
  int64_t n_in, n_out, channels, in_h, in_w, out_h, out_w;
  int border;
  float border_val;
  bool nearest;
  // warp_perspective in constant mode replaces a non-finite result by border_val (megdnn).
  bool nonfinite_to_border;
};

// All channels of one output pixel sampled at (x, y): out[c * out_plane] = sample of channel c.
HOST_DEVICE inline void warp_sample_pixel(const float* src, float x, float y,
                                          const WarpParams& p, float* out, int64_t out_plane) {
  const int64_t plane = p.in_h * p.in_w;
  if (p.nearest) {
    const int64_t o = warp_nearest_tap(x, y, p.in_h, p.in_w, p.border);
    for (int64_t c = 0; c < p.channels; ++c) {
      out[c * out_plane] = tap_value(src + c * plane, o, p.border_val);
    }
    return;
  }
  const WarpTaps t = warp_linear_taps(x, y, p.in_h, p.in_w, p.border);
  // Locals, not p's fields: the stores through `out` could otherwise alias them.
  const int64_t channels = p.channels;
  const float border_val = p.border_val;
  const bool all_in = t.offset[0] >= 0 && t.offset[1] >= 0 && t.offset[2] >= 0 &&
                      t.offset[3] >= 0;
  if (all_in && !p.nonfinite_to_border) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* s = src + c * plane;
      out[c * out_plane] = s[t.offset[0]] * t.weight[0] + s[t.offset[1]] * t.weight[1] +
                           s[t.offset[2]] * t.weight[2] + s[t.offset[3]] * t.weight[3];
    }
    return;
  }
  const bool to_border = p.nonfinite_to_border;
  for (int64_t c = 0; c < channels; ++c) {
    const float* s = src + c * plane;
    float v = 0.0f;
    for (int k = 0; k < 4; ++k) v += tap_value(s, t.offset[k], border_val) * t.weight[k];
    if (to_border && !(v - v == 0.0f)) v = border_val;  // inf or NaN
    out[c * out_plane] = v;
  }
}

// Gradient of sum_c dout_c * out_c with respect to the sampling point (x, y) of one pixel.
HOST_DEVICE inline void warp_coord_grad_pixel(const float* src, float x, float y,
                                              const WarpParams& p, const float* dout,
                                              int64_t out_plane, float* gx, float* gy) {
  *gx = 0.0f;
  *gy = 0.0f;
  if (p.nearest) return;  // piecewise constant in (x, y)
  const int64_t plane = p.in_h * p.in_w;
  const WarpTaps t = warp_linear_taps(x, y, p.in_h, p.in_w, p.border);
  for (int64_t c = 0; c < p.channels; ++c) {
    const float* s = src + c * plane;
    float sx = 0.0f, sy = 0.0f;
    for (int k = 0; k < 4; ++k) {
      const float v = tap_value(s, t.offset[k], p.border_val);
      sx += v * t.dweight_x[k];
      sy += v * t.dweight_y[k];
    }
    *gx += dout[c * out_plane] * sx;
    *gy += dout[c * out_plane] * sy;
  }
}

// Where output pixel (n, oh, ow) samples: warp_perspective reads input image mat_idx[n] (or n)
// at the point its 3 x 3 matrix maps the pixel to; remap reads image n at map_xy[n, oh, ow].
struct PerspectiveCoords {
  const float* mat;        // (n_out, 3, 3)
  const int32_t* mat_idx;  // (n_out,) or null
  HOST_DEVICE int64_t source(int64_t n) const { return mat_idx ? mat_idx[n] : n; }
  HOST_DEVICE void point(int64_t n, int64_t oh, int64_t ow, const WarpParams&, float* x,
                         float* y) const {
    const PerspectivePoint q = perspective_point(mat + 9 * n, oh, ow);
    *x = q.x;
    *y = q.y;
  }
};

struct MapCoords {
  const float* map;  // (n_out, out_h, out_w, 2): x (column) then y (row)
  HOST_DEVICE int64_t source(int64_t n) const { return n; }
  HOST_DEVICE void point(int64_t n, int64_t oh, int64_t ow, const WarpParams& p, float* x,
                         float* y) const {
    const float* m = map + ((n * p.out_h + oh) * p.out_w + ow) * 2;
    *x = m[0];
    *y = m[1];
  }
};

}  // namespace kernels
}  // namespace engine
