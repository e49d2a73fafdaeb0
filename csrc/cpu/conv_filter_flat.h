// The filter gradient of a stride-1 convolution with the input packed once for all kernel taps.
//
// cpu/conv_gemm.h's filter gradient is one GEMM dW (O x C*kh*kw) = dY (O x N*P) col^T, whose B
// operand, the column matrix, holds every input value kh*kw times: for a 3x3 conv it packs 9x the
// input, and at 32-64 channels that packing costs as much as the multiply-adds. Here the
// reduction runs over the zero-padded image's grid instead (cpu/conv_gemm_flat.h's trick, turned
// around): with each image padded to Hp x Wp and flattened, output position (oh, ow) sits at grid
// index r = img*Hp*Wp + oh*Wp + ow, and tap (ki, kj) reads the input at r + off(ki, kj), off =
// ki*dh*Wp + kj*dw. So for each tap
//   dW[:, :, ki, kj] (O x C) = dYgrid (O x R) Xgrid(shifted by off)^T (R x C)
// and a packed sliver of Xgrid serves every tap by a pointer offset: the input is packed once
// (plus the largest offset's overlap per block), dy once. dYgrid is zero on the grid's positions
// that are not outputs (ow >= OW, oh >= OH), so they add nothing. (One difference from a direct
// sum: an inf in x can meet such a zero and give NaN where the direct sum gives inf.)
//
// Work is split over the reduction into parts fixed by the shape (kFilterPartChunk), each summed
// into its own partial and added in part order, so the bits do not depend on the thread count;
// parts are further split over blocks of output channels, which changes nothing in any sum.
//
// Included by each ISA's file inside its ENGINE_GEMM_NS namespace (after gemm_driver.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "cpu/gemm_driver.h"
#include "kernels/im2col.h"

namespace engine {
namespace cpu {
namespace ENGINE_GEMM_NS {

constexpr int64_t kFilterPartChunk = 16384;  // grid positions per reduction part, at least
constexpr int64_t kFilterMaxParts = 4;
constexpr int64_t kFilterKc = 1024;  // reduction steps per packed block (measured 128-2048)

// The padded grid of one convolution: positions r = img*plane + row*wp + col.
struct FlatGrid {
  kernels::ConvGeometry g;
  int64_t batch, wp, plane, positions;  // positions = batch * plane
  FlatGrid(const kernels::ConvGeometry& geo, int64_t n)
      : g(geo), batch(n), wp(geo.width + 2 * geo.pad_w),
        plane((geo.height + 2 * geo.pad_h) * (geo.width + 2 * geo.pad_w)),
        positions(n * (geo.height + 2 * geo.pad_h) * (geo.width + 2 * geo.pad_w)) {}

  // f(s, len, img, row, col) for the runs of [r0, r0 + count) inside one grid row.
  template <class F>
  void for_each_row_run(int64_t r0, int64_t count, F&& f) const {
    for (int64_t s = 0; s < count;) {
      const int64_t r = r0 + s;
      if (r >= positions) {  // past the last image: the slack an offset block may read
        f(s, count - s, int64_t(-1), int64_t(0), int64_t(0));
        return;
      }
      const int64_t img = r / plane, q = r % plane, row = q / wp, col = q % wp;
      const int64_t len = std::min(count - s, wp - col);
      f(s, len, img, row, col);
      s += len;
    }
  }
};

// dst[s * NR + l] = input channel c0 + l at grid positions r0 + s (0 in the padding and past the
// end), s < count, for `lanes` channels; lanes up to NR are zero.
template <int NR>
void pack_input_grid(const FlatGrid& grid, const float* x, int64_t image_stride, int64_t c0,
                     int64_t lanes, int64_t r0, int64_t count, float* dst) {
  const kernels::ConvGeometry& g = grid.g;
  const int64_t hw = g.height * g.width;
  grid.for_each_row_run(r0, count, [&](int64_t s, int64_t len, int64_t img, int64_t row,
                                       int64_t col) {
    float* d = dst + s * NR;
    const int64_t ih = row - g.pad_h;
    const bool row_in = img >= 0 && ih >= 0 && ih < g.height;
    // columns [lo, hi) of the run hold image columns; the rest is padding
    const int64_t lo = row_in ? std::min(len, std::max<int64_t>(0, g.pad_w - col)) : len;
    const int64_t hi = row_in ? std::max(lo, std::min(len, g.pad_w + g.width - col)) : len;
    for (int64_t t = 0; t < lo; ++t) std::memset(d + t * NR, 0, NR * sizeof(float));
    for (int64_t t = hi; t < len; ++t) std::memset(d + t * NR, 0, NR * sizeof(float));
    if (lo == hi) return;
    const float* base = row_in ? x + img * image_stride + ih * g.width + (col - g.pad_w) : x;
    for (int64_t l = 0; l < lanes; ++l) {
      const float* src = base + (c0 + l) * hw;
      for (int64_t t = lo; t < hi; ++t) d[t * NR + l] = src[t];
    }
    for (int64_t l = lanes; l < NR; ++l)
      for (int64_t t = lo; t < hi; ++t) d[t * NR + l] = 0.f;
  });
}

// dst[s * MR + l] = dy of output channel o0 + l at grid position r0 + s, 0 where the grid
// position is not an output; slivers of MR channels one after another (kc * MR each).
template <int MR>
void pack_grad_grid(const FlatGrid& grid, const float* dy, int64_t image_stride, int64_t o0,
                    int64_t rows, int64_t r0, int64_t kc, float* dst) {
  const kernels::ConvGeometry& g = grid.g;
  const int64_t op = g.out_h * g.out_w;
  for (int64_t i0 = 0; i0 < rows; i0 += MR, dst += kc * MR) {
    const int64_t lanes = std::min<int64_t>(MR, rows - i0);
    grid.for_each_row_run(r0, kc, [&](int64_t s, int64_t len, int64_t img, int64_t row,
                                      int64_t col) {
      float* d = dst + s * MR;
      const bool row_out = img >= 0 && row < g.out_h;
      const int64_t valid = row_out ? std::max<int64_t>(0, std::min(len, g.out_w - col)) : 0;
      for (int64_t t = valid; t < len; ++t) std::memset(d + t * MR, 0, MR * sizeof(float));
      if (valid == 0) return;
      const float* base = dy + img * image_stride + (o0 + i0) * op + row * g.out_w + col;
      for (int64_t l = 0; l < lanes; ++l)
        for (int64_t t = 0; t < valid; ++t) d[t * MR + l] = base[l * op + t];
      for (int64_t l = lanes; l < MR; ++l)
        for (int64_t t = 0; t < valid; ++t) d[t * MR + l] = 0.f;
    });
  }
}

// dw (O, C/G, kh, kw) of a stride-1 y = conv(x, w), for dy (N, O, OH, OW); beta = 1 accumulates.
template <class Kernel>
void conv_backward_filter_flat(const float* x, const float* dy, float* dw, float beta,
                               int64_t batch, int64_t out_channels,
                               const kernels::ConvGeometry& g, int threads) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const FlatGrid grid(g, batch);
  const int64_t cg = g.channels / g.groups, og = out_channels / g.groups;
  const int64_t taps = g.kernel_h * g.kernel_w;
  const int64_t og_pad = (og + MR - 1) / MR * MR, cg_pad = (cg + NR - 1) / NR * NR;
  const int64_t max_off = (g.kernel_h - 1) * g.dil_h * grid.wp + (g.kernel_w - 1) * g.dil_w;
  std::unique_ptr<int64_t[]> off(new int64_t[taps]);
  for (int64_t t = 0; t < taps; ++t)
    off[t] = (t / g.kernel_w) * g.dil_h * grid.wp + (t % g.kernel_w) * g.dil_w;

  // Reduction parts (by shape only) and, inside each, blocks of MR-channel slivers of dy.
  const int64_t chunk = std::max(kFilterPartChunk,
                                 (grid.positions + kFilterMaxParts - 1) / kFilterMaxParts);
  const int64_t parts = (grid.positions + chunk - 1) / chunk;
  const int64_t slivers = og_pad / MR;
  const int64_t oblocks =
      std::min(slivers, std::max<int64_t>(1, (2 * threads + parts * g.groups - 1) /
                                                 (parts * g.groups)));
  const int64_t tile = taps * og_pad * cg_pad;  // one partial dW^T per (group, part)
  std::unique_ptr<float[]> partial(new float[g.groups * parts * tile]);
  const int64_t jobs = g.groups * parts * oblocks;
  const int64_t x_image = g.channels * g.height * g.width;
  const int64_t dy_image = out_channels * g.out_h * g.out_w;

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t job = 0; job < jobs; ++job) {
    const int64_t grp = job / (parts * oblocks), part = (job / oblocks) % parts;
    const int64_t ob = job % oblocks;
    int64_t s_lo, s_hi;
    split_range(slivers, oblocks, ob, &s_lo, &s_hi);
    const int64_t o0 = s_lo * MR, rows = std::min(og, s_hi * MR) - o0;
    if (rows <= 0) continue;
    const int64_t r_begin = part * chunk, r_end = std::min(grid.positions, r_begin + chunk);
    const int64_t span = kFilterKc + max_off;
    float* apack = a_scratch().get((s_hi - s_lo) * MR * kFilterKc);
    float* bpack = b_scratch().get(cg_pad * span);
    float* c = partial.get() + (grp * parts + part) * tile;
    const float* xg = x + grp * cg * g.height * g.width;
    const float* dyg = dy + grp * og * g.out_h * g.out_w;
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kFilterKc) {
      const int64_t kc = std::min(kFilterKc, r_end - r0);
      pack_grad_grid<MR>(grid, dyg, dy_image, o0, rows, r0, kc, apack);
      for (int64_t j = 0; j < cg_pad; j += NR)
        pack_input_grid<NR>(grid, xg, x_image, j, std::min<int64_t>(NR, cg - j), r0,
                            kc + max_off, bpack + j * span);
      const float acc_beta = r0 == r_begin ? 0.f : 1.f;  // the part's first block writes
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t j = 0; j < cg_pad; j += NR)
          for (int64_t s = s_lo; s < s_hi; ++s)
            Kernel::run(kc, apack + (s - s_lo) * MR * kc, bpack + j * span + off[t] * NR,
                        c + (t * og_pad + s * MR) * cg_pad + j, cg_pad, 1.0f, acc_beta);
    }
  }

  // dw[o][c][t] = sum over parts, in part order (+ beta * dw)
  const int64_t k = cg * taps;
#pragma omp parallel for schedule(static) num_threads(threads) if (out_channels * k >= 4096)
  for (int64_t oo = 0; oo < out_channels; ++oo) {
    const int64_t grp = oo / og, o = oo % og;
    float* row = dw + oo * k;
    for (int64_t ci = 0; ci < cg; ++ci)
      for (int64_t t = 0; t < taps; ++t) {
        const float* p = partial.get() + grp * parts * tile + (t * og_pad + o) * cg_pad + ci;
        float sum = 0.f;
        for (int64_t part = 0; part < parts; ++part) sum += p[part * tile];
        float& out = row[ci * taps + t];
        out = beta == 0.f ? sum : sum + beta * out;
      }
  }
}

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
