// Deformable (modulated, "DCNv2") convolution's column buffer, shared by the CPU loops
// (cpu/deform_conv.cpp) and the CUDA kernels (cuda/deform_conv.cu).
//
// MegEngine's layouts: offset (N, DG, T, 2, OH, OW) and mask (N, DG, T, OH, OW) for DG deformable
// groups (C/DG input channels each) and T = kh*kw taps; channel 2t of a group's offsets moves tap
// t along h, 2t+1 along w. The column buffer is (N, C, T, P), P = OH*OW:
//   col[n, c, t, p] = mask[n, dg, t, p] * bilinear(x[n, c], h, w),   dg = c / (C/DG)
//   h = oh * sh - ph + ki * dh + offset[n, dg, t, 0, p]    (t = ki * kw + kj; likewise w)
// bilinear() reads zero outside the image and is zero unless -1 < h < H and -1 < w < W
// (MegEngine's and torchvision's rule).
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct DeformGeometry {
  int64_t channels, height, width;
  int64_t out_h, out_w;
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dil_h, dil_w;
  int64_t deform_groups;

  HOST_DEVICE int64_t taps() const { return kernel_h * kernel_w; }
  HOST_DEVICE int64_t positions() const { return out_h * out_w; }
};

// The four pixels around (h, w) and their bilinear weights; index -1 marks a corner outside the
// image (it reads zero). All four are -1 when the point is outside the sampling window.
template <typename T>
struct BilinearCorners {
  int64_t index[4];  // (lo, lo), (lo, hi), (hi, lo), (hi, hi) as (row, column)
  T weight[4];
  T lh, lw;          // fractional parts, for the derivatives
};

template <typename T>
HOST_DEVICE inline BilinearCorners<T> bilinear_corners(T h, T w, int64_t H, int64_t W) {
  BilinearCorners<T> r;
  for (int i = 0; i < 4; ++i) {
    r.index[i] = -1;
    r.weight[i] = T(0);
  }
  r.lh = r.lw = T(0);
  if (!(h > T(-1) && w > T(-1) && h < T(H) && w < T(W))) return r;
  const int64_t h0 = static_cast<int64_t>(floor(h)), w0 = static_cast<int64_t>(floor(w));
  const int64_t h1 = h0 + 1, w1 = w0 + 1;
  r.lh = h - T(h0);
  r.lw = w - T(w0);
  const T hh = T(1) - r.lh, hw = T(1) - r.lw;
  r.weight[0] = hh * hw;
  r.weight[1] = hh * r.lw;
  r.weight[2] = r.lh * hw;
  r.weight[3] = r.lh * r.lw;
  if (h0 >= 0 && w0 >= 0) r.index[0] = h0 * W + w0;
  if (h0 >= 0 && w1 < W) r.index[1] = h0 * W + w1;
  if (h1 < H && w0 >= 0) r.index[2] = h1 * W + w0;
  if (h1 < H && w1 < W) r.index[3] = h1 * W + w1;
  return r;
}

// Where tap t of output position p samples, before bilinear interpolation.
template <typename T>
HOST_DEVICE inline void deform_sample_point(const DeformGeometry& g, const T* offset_group,
                                            int64_t t, int64_t p, T* h, T* w) {
  const int64_t P = g.positions();
  const int64_t oh = p / g.out_w, ow = p % g.out_w;
  const int64_t ki = t / g.kernel_w, kj = t % g.kernel_w;
  *h = T(oh * g.stride_h - g.pad_h + ki * g.dil_h) + offset_group[(2 * t) * P + p];
  *w = T(ow * g.stride_w - g.pad_w + kj * g.dil_w) + offset_group[(2 * t + 1) * P + p];
}

template <typename T>
HOST_DEVICE inline T bilinear_value(const T* plane, const BilinearCorners<T>& c) {
  T v = T(0);
  for (int i = 0; i < 4; ++i) {
    if (c.index[i] >= 0) v += c.weight[i] * plane[c.index[i]];
  }
  return v;
}

// d bilinear / dh and d bilinear / dw at the sample point (zero outside the sampling window).
template <typename T>
HOST_DEVICE inline void bilinear_grad(const T* plane, const BilinearCorners<T>& c, T* dh, T* dw) {
  T v[4];
  for (int i = 0; i < 4; ++i) v[i] = c.index[i] >= 0 ? plane[c.index[i]] : T(0);
  const T hh = T(1) - c.lh, hw = T(1) - c.lw;
  *dh = hw * (v[2] - v[0]) + c.lw * (v[3] - v[1]);
  *dw = hh * (v[1] - v[0]) + c.lh * (v[3] - v[2]);
}

// Gradient w.r.t. the offsets and mask of one (n, dg, t, p), given the column gradient: a gather
// over the group's C/DG channels (each channel's dcol entry times the sample's derivative).
//   dmask = sum_c dcol[c] * bilinear(x[c]);  doffset_h = sum_c dcol[c] * mask * dbilinear/dh
template <typename T>
HOST_DEVICE inline void deform_coord_grad(const T* x_group, const T* dcol_group,
                                          const DeformGeometry& g, int64_t channels_in_group,
                                          const BilinearCorners<T>& c, T mask, int64_t t,
                                          int64_t p, T* d_off_h, T* d_off_w, T* d_mask) {
  const int64_t plane = g.height * g.width, row = g.taps() * g.positions();
  T gh = T(0), gw = T(0), gm = T(0);
  for (int64_t ch = 0; ch < channels_in_group; ++ch) {
    const T* xc = x_group + ch * plane;
    const T d = dcol_group[ch * row + t * g.positions() + p];
    T dh, dw;
    bilinear_grad(xc, c, &dh, &dw);
    gh += d * dh;
    gw += d * dw;
    gm += d * bilinear_value(xc, c);
  }
  *d_off_h = gh * mask;
  *d_off_w = gw * mask;
  *d_mask = gm;
}

}  // namespace kernels
}  // namespace engine
