// 2-D convolution as an implicit GEMM on the blocked driver (cpu/gemm_driver.h): the packers read
// the NCHW image (or the NCHW gradient) directly, so no column buffer is ever built, and the
// forward's C writer puts results straight into (N, O, OH, OW) with the bias (and ReLU) fused.
//
// Per group g (Cg = C/G input and Og = O/G output channels, P = OH*OW, K = Cg*kh*kw):
//   forward          y_g  (Og x N*P) = W_g (Og x K)    col_g (K x N*P)
//   backward filter  dW_g (Og x K)   = dY_g (Og x N*P) col_g^T (N*P x K)
// with col_g[(c, ki, kj)][(n, oh, ow)] = x[n, g*Cg + c, oh*sh - ph + ki*dh, ow*sw - pw + kj*dw]
// (zero outside the image; kernels/im2col.h has the index math). The data gradient reuses the
// forward: for stride 1 it is a convolution of dy with the flipped, transposed filter.
//
// Included by each ISA's file inside its ENGINE_GEMM_NS namespace (after gemm_driver.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu/gemm_driver.h"
#include "kernels/im2col.h"

namespace engine {
namespace cpu {
namespace ENGINE_GEMM_NS {

using kernels::ConvGeometry;

// A run of GEMM columns n = (img, oh, ow) that share img and oh: ow goes ow0 .. ow0+len-1.
struct ColumnRun {
  int64_t j;  // offset of the run's first column inside the sliver / block
  int64_t len, img, oh, ow0;
};

// Splits columns [n0, n0 + count) of the N*P column space into runs of one output row each.
template <class F>
inline void for_each_run(const ConvGeometry& g, int64_t n0, int64_t count, F&& f) {
  const int64_t plane = g.out_h * g.out_w;
  int64_t n = n0, j = 0;
  while (j < count) {
    const int64_t img = n / plane, pos = n % plane;
    const int64_t oh = pos / g.out_w, ow = pos % g.out_w;
    const int64_t len = std::min(count - j, g.out_w - ow);
    f(ColumnRun{j, len, img, oh, ow});
    n += len;
    j += len;
  }
}

// Up to `max_runs` runs of columns [n0, n0 + count) into runs[]; *covered columns in them.
inline void for_each_run_limited(const ConvGeometry& g, int64_t n0, int64_t count, int max_runs,
                                 ColumnRun* runs, int* n_runs, int64_t* covered) {
  const int64_t plane = g.out_h * g.out_w;
  int64_t n = n0, j = 0;
  int r = 0;
  while (j < count && r < max_runs) {
    const int64_t img = n / plane, pos = n % plane;
    const int64_t oh = pos / g.out_w, ow = pos % g.out_w;
    const int64_t len = std::min(count - j, g.out_w - ow);
    runs[r++] = ColumnRun{j, len, img, oh, ow};
    n += len;
    j += len;
  }
  *n_runs = r;
  *covered = j;
}

// dst[t * step] for t < len = x at input row `src_row` (nullptr: the row is padding), input
// columns iw0 + t * sw, zero where they fall outside [0, W).
inline void gather_row(const float* src_row, int64_t iw0, int64_t sw, int64_t width, int64_t len,
                       float* dst, int64_t step) {
  if (src_row == nullptr) {
    for (int64_t t = 0; t < len; ++t) dst[t * step] = 0.f;
    return;
  }
  // valid t: 0 <= iw0 + t*sw < width
  int64_t lo = iw0 >= 0 ? 0 : (-iw0 + sw - 1) / sw;
  int64_t hi = iw0 >= width ? 0 : (width - iw0 + sw - 1) / sw;
  lo = std::min(lo, len);
  hi = std::max(lo, std::min(hi, len));
  int64_t t = 0;
  for (; t < lo; ++t) dst[t * step] = 0.f;
  const float* s = src_row + iw0;
  if (sw == 1 && step == 1 && lo == 0 && hi == len) {
    std::memcpy(dst, s, len * sizeof(float));
    return;
  }
  if (sw == 1 && step == 1) {
    for (; t < hi; ++t) dst[t] = s[t];
  } else {
    for (; t < hi; ++t) dst[t * step] = s[t * sw];
  }
  for (; t < len; ++t) dst[t * step] = 0.f;
}

// The input row read by output row oh for tap row ki of channel plane `plane`, or nullptr.
inline const float* tap_row(const float* plane, const ConvGeometry& g, int64_t oh, int64_t ki) {
  const int64_t ih = kernels::conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
  return (ih < 0 || ih >= g.height) ? nullptr : plane + ih * g.width;
}

// The output-row runs of one sliver of NR columns, decoded once per sliver (not per packed row).
template <int NR>
struct SliverRuns {
  ColumnRun run[NR];
  int count = 0;
  SliverRuns(const ConvGeometry& g, int64_t n0, int64_t cols) {
    for_each_run(g, n0, cols, [&](const ColumnRun& r) { run[count++] = r; });
  }
};

// Steps through K's rows (c, ki, kj) in order without a division per row.
struct TapCursor {
  int64_t c, ki, kj;
  const ConvGeometry& g;
  TapCursor(const ConvGeometry& geo, int64_t kk) : g(geo) {
    const int64_t taps = g.kernel_h * g.kernel_w;
    c = kk / taps;
    ki = (kk % taps) / g.kernel_w;
    kj = kk % g.kernel_w;
  }
  void next() {
    if (++kj == g.kernel_w) {
      kj = 0;
      if (++ki == g.kernel_h) {
        ki = 0;
        ++c;
      }
    }
  }
};

// B of the forward: col_g (K x N*P) packed straight from x (N, C, H, W).
template <int NR>
struct ImageColumnsB {
  const float* x;  // first channel of group g in image 0
  ConvGeometry g;
  int64_t image_stride;  // C * H * W
  void pack(int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) const {
    const int64_t hw = g.height * g.width;
    for (int64_t s = 0; s < nc; s += NR, dst += kc * NR) {
      const int64_t cols = std::min<int64_t>(NR, nc - s);
      const SliverRuns<NR> runs(g, j0 + s, cols);
      TapCursor tap(g, p0);
      for (int64_t p = 0; p < kc; ++p, tap.next()) {
        float* d = dst + p * NR;
        for (int r = 0; r < runs.count; ++r) {
          const ColumnRun& run = runs.run[r];
          const float* plane = x + run.img * image_stride + tap.c * hw;
          const int64_t iw0 =
              kernels::conv_in_coord(run.ow0, tap.kj, g.stride_w, g.pad_w, g.dil_w);
          gather_row(tap_row(plane, g, run.oh, tap.ki), iw0, g.stride_w, g.width, run.len,
                     d + run.j, 1);
        }
        for (int64_t j = cols; j < NR; ++j) d[j] = 0.f;
      }
    }
  }
};

// C of the forward: y (N, O, OH, OW), group g's rows; bias (per output channel) and ReLU are
// applied once a tile is complete.
template <int NR>
struct ImageOutputC {
  float* y;  // output channel g*Og, image 0
  ConvGeometry g;
  int64_t image_stride;  // O * P
  const float* bias;     // group g's Og values, or nullptr
  bool relu;
  int64_t plane() const { return g.out_h * g.out_w; }
  // Tiles inside one image are rows of stride P in y: written in place.
  float* direct(int64_t i, int64_t j) const {
    const int64_t p = plane(), img = j / p, pos = j % p;
    return pos + NR > p ? nullptr : y + img * image_stride + i * p + pos;
  }
  int64_t ld() const { return plane(); }
  template <class F>
  void for_each_run(int64_t j0, int64_t cols, F&& f) const {
    const int64_t p = plane();
    for (int64_t j = 0; j < cols;) {
      const int64_t img = (j0 + j) / p, pos = (j0 + j) % p;
      const int64_t len = std::min(cols - j, p - pos);
      f(j, len, y + img * image_stride + pos);
      j += len;
    }
  }
  void merge(int64_t i0, int64_t j0, int64_t rows, int64_t cols, const float* tile, int64_t ldt,
             float alpha, float beta) const {
    merge_runs(*this, i0, j0, rows, cols, tile, ldt, alpha, beta);
  }
  void finish(int64_t i0, int64_t j0, int64_t rows, int64_t cols) const {
    finish_runs(*this, i0, j0, rows, cols);
  }
};

// A of the filter gradient: dY_g (Og x N*P) packed from dy (N, O, OH, OW).
template <int MR>
struct ImageRowsA {
  const float* dy;  // output channel g*Og, image 0
  ConvGeometry g;
  int64_t image_stride;  // O * P
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const {
    const int64_t p = g.out_h * g.out_w;
    for (int64_t s = 0; s < mc; s += MR, dst += kc * MR) {
      const int64_t rows = std::min<int64_t>(MR, mc - s);
      for (int64_t q = 0; q < kc;) {
        const int64_t n = p0 + q, img = n / p, pos = n % p;
        const int64_t len = std::min(kc - q, p - pos);
        const float* base = dy + img * image_stride + (i0 + s) * p + pos;
        for (int64_t t = 0; t < len; ++t) {
          float* d = dst + (q + t) * MR;
          int64_t i = 0;
          for (; i < rows; ++i) d[i] = base[i * p + t];
          for (; i < MR; ++i) d[i] = 0.f;
        }
        q += len;
      }
    }
  }
};

// B of the filter gradient: col_g^T (N*P x K) packed from x: row n = (img, oh, ow), column
// kk = (c, ki, kj).
template <int NR>
struct ImageColumnsTB {
  const float* x;
  ConvGeometry g;
  int64_t image_stride;
  void pack(int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) const {
    constexpr int64_t kRowBlock = 64;
    const int64_t hw = g.height * g.width;
    ColumnRun runs[kRowBlock];
    for (int64_t s = 0; s < nc; s += NR, dst += kc * NR) {
      const int64_t cols = std::min<int64_t>(NR, nc - s);
      // Blocks of kRowBlock rows: their runs (one output row each) are decoded once for all NR
      // columns, and the block's part of the sliver (kRowBlock x NR floats) stays in L1 while
      // the columns are written into it one at a time.
      for (int64_t done = 0; done < kc;) {
        int count = 0;
        int64_t covered = 0;
        for_each_run_limited(g, p0 + done, std::min(kc - done, kRowBlock), kRowBlock, runs, &count,
                             &covered);
        TapCursor tap(g, j0 + s);
        for (int64_t j = 0; j < cols; ++j, tap.next()) {
          for (int r = 0; r < count; ++r) {
            const ColumnRun& run = runs[r];
            const float* plane = x + run.img * image_stride + tap.c * hw;
            const int64_t iw0 =
                kernels::conv_in_coord(run.ow0, tap.kj, g.stride_w, g.pad_w, g.dil_w);
            gather_row(tap_row(plane, g, run.oh, tap.ki), iw0, g.stride_w, g.width, run.len,
                       dst + (done + run.j) * NR + j, NR);
          }
        }
        done += covered;
      }
      for (int64_t j = cols; j < NR; ++j)
        for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.f;
    }
  }
};

// y = conv(x, w) (+ bias, then ReLU) for x (N, C, H, W), w (O, C/G, kh, kw), y (N, O, OH, OW).
template <class Kernel>
void conv_forward(const float* x, const float* w, const float* bias, bool relu, float* y,
                  int64_t batch, int64_t out_channels, const ConvGeometry& g, const Blocking& blk,
                  int threads) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const int64_t cg = g.channels / g.groups, og = out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w, plane = g.out_h * g.out_w;
  using Parts = GemmParts<DenseA<MR>, ImageColumnsB<NR>, ImageOutputC<NR>>;
  const auto item = [&](int64_t grp) {
    return Parts{{{w + grp * og * k, k, 1}},
                 {x + grp * cg * g.height * g.width, g, g.channels * g.height * g.width},
                 {y + grp * og * plane, g, out_channels * plane,
                  bias != nullptr ? bias + grp * og : nullptr, relu}};
  };
  gemm_items<Kernel>(g.groups, og, batch * plane, k, 1.0f, 0.0f, item, blk, threads);
}

// dw (O, C/G, kh, kw) of y = conv(x, w) for dy (N, O, OH, OW); beta = 1 accumulates into dw.
template <class Kernel>
void conv_backward_filter(const float* x, const float* dy, float* dw, float beta, int64_t batch,
                          int64_t out_channels, const ConvGeometry& g, const Blocking& blk,
                          int threads) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const int64_t cg = g.channels / g.groups, og = out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w, plane = g.out_h * g.out_w;
  using Parts = GemmParts<ImageRowsA<MR>, ImageColumnsTB<NR>, DenseC>;
  const auto item = [&](int64_t grp) {
    return Parts{{dy + grp * og * plane, g, out_channels * plane},
                 {x + grp * cg * g.height * g.width, g, g.channels * g.height * g.width},
                 {dw + grp * og * k, k}};
  };
  if (split_k_wins<MR, NR>(og, k, batch * plane)) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const Parts parts = item(grp);
      gemm_split_k<Kernel>(og, k, batch * plane, 1.0f, beta, parts.a, parts.b, parts.c.c, k,
                           blk, threads);
    }
    return;
  }
  gemm_items<Kernel>(g.groups, og, k, batch * plane, 1.0f, beta, item, blk, threads);
}

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
