// The data gradient of a strided convolution as stride-1 GEMMs that read dy in place, one per
// stride phase of dx (no column buffer, no col2im scatter).
//
// For y = conv(x, w) with stride (sh, sw), input row ih gets contributions from the taps ki with
// (ih + ph - ki*dh) divisible by sh, from dy row (ih + ph - ki*dh) / sh. Along the rows of one
// phase of dx, ih = a + sh*i, that row is i + e(ki) with e(ki) = (a + ph - ki*dh) / sh: a fixed
// shift per tap. So each phase (a, b) of dx is a stride-1 correlation of dy with the taps of
// that phase,
//   dx[c, a + sh*i, b + sw*j] = sum over o and the phase's taps of
//                                w[o, c, ki, kj] * dy[o, i + e(ki), j + f(kj)],
// a GEMM (C x Hph*Wph) = W_phase (C x O*taps_phase) dY (O*taps_phase x Hph*Wph) whose B rows
// are dy, zero-padded once for all phases, shifted by a per-tap offset: cpu/conv_gemm_flat.h's
// flat_gemm_in_place. Phases that no tap reaches (a kernel smaller than the stride) are zero.
//
// Included by each ISA's file inside its ENGINE_GEMM_NS namespace (after conv_gemm_flat.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "cpu/conv_gemm_flat.h"
#include "cpu/gemm_driver.h"
#include "kernels/im2col.h"

namespace engine {
namespace cpu {
namespace ENGINE_GEMM_NS {

// The taps of one phase along one axis: their indices and dy shifts (e in the header comment).
struct PhaseTaps {
  int64_t count = 0;
  std::unique_ptr<int64_t[]> index, shift;
  PhaseTaps(int64_t phase, int64_t pad, int64_t kernel, int64_t dil, int64_t stride)
      : index(new int64_t[kernel]), shift(new int64_t[kernel]) {
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t d = phase + pad - k * dil;  // stride * (dy row - phase row)
      if (((d % stride) + stride) % stride != 0) continue;
      index[count] = k;
      shift[count] = d >= 0 ? d / stride : -((-d) / stride);
      ++count;
    }
  }
};

// Along one axis (input extent n, output extent out): the zero padding of dy before and after
// that keeps every phase's rows i + e (i < the phase's length) inside it.
inline void dy_padding(int64_t n, int64_t pad, int64_t kernel, int64_t dil, int64_t stride,
                       int64_t out, int64_t* before, int64_t* after) {
  *before = *after = 0;
  for (int64_t a = 0; a < stride && a < n; ++a) {
    const PhaseTaps taps(a, pad, kernel, dil, stride);
    const int64_t length = (n - a + stride - 1) / stride;
    for (int64_t t = 0; t < taps.count; ++t) {
      *before = std::max(*before, -taps.shift[t]);
      *after = std::max(*after, length + taps.shift[t] - out);
    }
  }
}

// src (N, C, h, w) into planes of hd x wd, placed at row `top` and column `left` of each and
// zero elsewhere; each image (C planes) takes `image` floats, its last `slack` zero.
inline void pad_planes(const float* src, float* dst, int64_t batch, int64_t channels, int64_t h,
                       int64_t w, int64_t top, int64_t left, int64_t hd, int64_t wd,
                       int64_t image, int64_t slack) {
  const int64_t plane = hd * wd;
#pragma omp parallel for schedule(static) if (batch * channels * plane >= (1 << 16))
  for (int64_t t = 0; t < batch * channels; ++t) {
    const int64_t n = t / channels, c = t % channels;
    float* d = dst + n * image + c * plane;
    std::memset(d, 0, top * wd * sizeof(float));
    for (int64_t r = 0; r < h; ++r) {
      float* row = d + (top + r) * wd;
      std::memset(row, 0, left * sizeof(float));
      std::memcpy(row + left, src + (t * h + r) * w, w * sizeof(float));
      std::memset(row + left + w, 0, (wd - left - w) * sizeof(float));
    }
    std::memset(d + (top + h) * wd, 0, (hd - top - h) * wd * sizeof(float));
    if (c == channels - 1) std::memset(d + plane, 0, slack * sizeof(float));
  }
}

// dx (N, C, H, W) of y = conv(x, w) for dy (N, O, OH, OW), w (O, C/G, kh, kw), any stride.
template <class Kernel>
void conv_backward_data_flat(const float* dy, const float* w, float* dx, int64_t batch,
                             int64_t out_channels, const kernels::ConvGeometry& g,
                             const Blocking& blk, int threads) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const int64_t sh = g.stride_h, sw = g.stride_w;
  const int64_t cg = g.channels / g.groups, og = out_channels / g.groups;
  const int64_t taps = g.kernel_h * g.kernel_w;
  // One zero padding of dy that every phase's shifts stay inside: rows i + e for i < Hph.
  int64_t top, bottom, left, right;
  dy_padding(g.height, g.pad_h, g.kernel_h, g.dil_h, sh, g.out_h, &top, &bottom);
  dy_padding(g.width, g.pad_w, g.kernel_w, g.dil_w, sw, g.out_w, &left, &right);
  const int64_t hd = g.out_h + top + bottom, wd = g.out_w + left + right, plane = hd * wd;
  const int64_t slack = wd + NR;  // a last sliver's garbage columns read past the last plane
  const int64_t image = out_channels * plane + slack;
  std::unique_ptr<float[]> once;
  float* const padded = flat_scratch(batch * image, &once);
  pad_planes(dy, padded, batch, out_channels, g.out_h, g.out_w, top, left, hd, wd, image, slack);

  const int64_t slivers = (cg + MR - 1) / MR;
  for (int64_t a = 0; a < sh; ++a)
    for (int64_t b = 0; b < sw; ++b) {
      const int64_t hph = a < g.height ? (g.height - a + sh - 1) / sh : 0;
      const int64_t wph = b < g.width ? (g.width - b + sw - 1) / sw : 0;
      if (hph == 0 || wph == 0) continue;
      const PhaseTaps rows(a, g.pad_h, g.kernel_h, g.dil_h, sh);
      const PhaseTaps cols(b, g.pad_w, g.kernel_w, g.dil_w, sw);
      const int64_t phase_taps = rows.count * cols.count, k = og * phase_taps;
      // A (Cg x Og*phase_taps) of each group: A[c][o*T + t] = w[g*Og + o][c][tap t], packed as
      // MR-row slivers over all of K; B's row o*T + t is dy channel o shifted by tap t.
      std::unique_ptr<float[]> apack(new float[g.groups * slivers * k * MR + 1]);
      std::unique_ptr<int64_t[]> off(new int64_t[k + 1]);
      for (int64_t o = 0; o < og; ++o)
        for (int64_t r = 0; r < rows.count; ++r)
          for (int64_t q = 0; q < cols.count; ++q)
            off[(o * rows.count + r) * cols.count + q] =
                o * plane + (rows.shift[r] + top) * wd + cols.shift[q] + left;
      for (int64_t grp = 0; grp < g.groups; ++grp)
        for (int64_t s = 0; s < slivers; ++s) {
          float* dst = apack.get() + (grp * slivers + s) * k * MR;
          for (int64_t p = 0; p < k; ++p) {
            const int64_t o = p / phase_taps, t = p % phase_taps;
            const int64_t tap =
                rows.index[t / cols.count] * g.kernel_w + cols.index[t % cols.count];
            for (int64_t i = 0; i < MR; ++i) {
              const int64_t c = s * MR + i;
              dst[p * MR + i] = c < cg ? w[((grp * og + o) * cg + c) * taps + tap] : 0.f;
            }
          }
        }
      const int64_t qimg = hph * wd;
      const auto write = [&](int64_t grp, int64_t img, int64_t q0, int64_t ncols,
                             const float* tile) {
        // grid column q = i*wd + j holds dx[img, grp*Cg + c, a + sh*i, b + sw*j] for j < wph
        float* plane0 = dx + (img * g.channels + grp * cg) * g.height * g.width;
        for (int64_t j0 = 0; j0 < ncols;) {
          const int64_t q = q0 + j0, i = q / wd, j = q % wd;
          const int64_t in_row = std::min(ncols - j0, wd - j);
          const int64_t len = std::min(in_row, wph - j);
          if (len > 0) {  // (garbage columns j >= wph have no place in dx)
            float* out = plane0 + (a + sh * i) * g.width + b + sw * j;
            for (int64_t c = 0; c < cg; ++c) {
              const float* src = tile + c * NR + j0;
              float* dst = out + c * g.height * g.width;
              for (int64_t t = 0; t < len; ++t) dst[t * sw] = src[t];
            }
          }
          j0 += in_row;
        }
      };
      flat_gemm_in_place<Kernel>(apack.get(), slivers * k * MR, cg, k, off.get(), padded, image,
                                 og * plane, g.groups, batch, qimg, blk, threads, write);
    }
}

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
