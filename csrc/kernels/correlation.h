// FlowNet correlation with MegEngine's semantics (megdnn Correlation, NCHW): output channel
// tc = (p + r) * (2r + 1) + (o + r), r = max_displacement / stride2, compares a
// kernel_size^2 x C patch of data1 centred at (y1, x1) = (ty, tx) * stride1 + kr + md - pad
// with the patch of data2 displaced by (p, o) * stride2; samples outside the maps read 0.
//   multiply: sum v1 * v2 / (K^2 C)        absolute difference: sum |v1 - v2| / (K^2 C)
// Both gradients are gathers over the outputs that read a pixel (deterministic).
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct CorrelationParams {
  int64_t batch, channels, height, width;  // data1 / data2 (N, C, H, W)
  int64_t out_c, out_h, out_w;
  int64_t kernel_radius, max_displacement, stride1, stride2, pad, grid_radius;
  bool multiply;
};

HOST_DEVICE inline float corr_read(const float* plane, int64_t y, int64_t x,
                                   const CorrelationParams& p) {
  return y >= 0 && y < p.height && x >= 0 && x < p.width ? plane[y * p.width + x] : 0.0f;
}

// Displacement (dy, dx) of output channel tc.
HOST_DEVICE inline void corr_displacement(int64_t tc, const CorrelationParams& p, int64_t* dy,
                                          int64_t* dx) {
  const int64_t gw = 2 * p.grid_radius + 1;
  *dx = (tc % gw - p.grid_radius) * p.stride2;
  *dy = (tc / gw - p.grid_radius) * p.stride2;
}

HOST_DEVICE inline float corr_forward(const float* d1, const float* d2, int64_t n, int64_t tc,
                                      int64_t ty, int64_t tx, const CorrelationParams& p) {
  const int64_t x1 = tx * p.stride1 + p.kernel_radius + p.max_displacement - p.pad;
  const int64_t y1 = ty * p.stride1 + p.kernel_radius + p.max_displacement - p.pad;
  int64_t dy, dx;
  corr_displacement(tc, p, &dy, &dx);
  const int64_t plane = p.height * p.width, kr = p.kernel_radius;
  float sum = 0.0f;
  for (int64_t j = -kr; j <= kr; ++j) {
    for (int64_t i = -kr; i <= kr; ++i) {
      for (int64_t c = 0; c < p.channels; ++c) {
        const int64_t off = (n * p.channels + c) * plane;
        const float v1 = corr_read(d1 + off, y1 + j, x1 + i, p);
        const float v2 = corr_read(d2 + off, y1 + dy + j, x1 + dx + i, p);
        sum += p.multiply ? v1 * v2 : fabsf(v1 - v2);
      }
    }
  }
  return sum / static_cast<float>((2 * kr + 1) * (2 * kr + 1) * p.channels);
}

// Output column tx whose patch centre is at x1, or -1 when no output centre sits there.
HOST_DEVICE inline int64_t corr_output_index(int64_t x1, int64_t out_size,
                                             const CorrelationParams& p) {
  const int64_t q = x1 - p.kernel_radius - p.max_displacement + p.pad;
  if (q < 0 || q % p.stride1 != 0) return -1;
  const int64_t t = q / p.stride1;
  return t < out_size ? t : -1;
}

// Gradient at pixel (n, c, y, x) of data1 (second = false) or data2 (second = true): every
// output (tc, ty, tx) whose patch holds the pixel at kernel offset (j, i).
HOST_DEVICE inline float corr_backward(const float* d1, const float* d2, const float* dout,
                                       int64_t n, int64_t c, int64_t y, int64_t x, bool second,
                                       const CorrelationParams& p) {
  const int64_t plane = p.height * p.width, kr = p.kernel_radius;
  const float* p1 = d1 + (n * p.channels + c) * plane;
  const float* p2 = d2 + (n * p.channels + c) * plane;
  const float own = second ? p2[y * p.width + x] : p1[y * p.width + x];
  float sum = 0.0f;
  for (int64_t tc = 0; tc < p.out_c; ++tc) {
    int64_t dy, dx;
    corr_displacement(tc, p, &dy, &dx);
    // The other input's value seen together with this pixel (the same for every (j, i)).
    const float other =
        second ? corr_read(p1, y - dy, x - dx, p) : corr_read(p2, y + dy, x + dx, p);
    // d|v1 - v2| with megdnn's choice at a tie: -1 for data1, +1 for data2.
    const float local = p.multiply ? other
                        : second   ? (other >= own ? -1.0f : 1.0f)
                                   : (own > other ? 1.0f : -1.0f);
    const float* g = dout + (n * p.out_c + tc) * p.out_h * p.out_w;
    for (int64_t j = -kr; j <= kr; ++j) {
      const int64_t ty = corr_output_index((second ? y - dy : y) - j, p.out_h, p);
      if (ty < 0) continue;
      for (int64_t i = -kr; i <= kr; ++i) {
        const int64_t tx = corr_output_index((second ? x - dx : x) - i, p.out_w, p);
        if (tx >= 0) sum += g[ty * p.out_w + tx] * local;
      }
    }
  }
  return sum / static_cast<float>((2 * kr + 1) * (2 * kr + 1) * p.channels);
}

}  // namespace kernels
}  // namespace engine
