// Convolution as a GEMM over the zero-padded image flattened to one row per channel (a strided
// one over the image's stride phases, PhaseGrid below), so that B is read in place
// (cpu/conv_gemm.h's packer decodes (image, row, column) and the padding edges for every
// element; at 32-64 output channels the GEMM does only 2*O flops per packed element, so that
// decoding cost as much as the multiply-adds).
//
// With the input padded to Hp x Wp (Wp = W + 2*pw) and flattened, output position (oh, ow) of
// tap (ki, kj) reads flat index q + ki*dh*Wp + kj*dw with q = oh*Wp + ow. Taking q over the whole
// "padded output grid" OH x Wp makes every run of NR consecutive q a contiguous slice of the
// input for every tap: B's row k = (c, ki, kj) is the input shifted by off[k]. The columns
// ow >= OW of that grid are computed and dropped (Wp/OW - 1 extra work: 3% at 64 columns, 25% at
// 8), which is why cpu/gemm.cpp takes this path only for wide enough images.
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

// C: y (N, O, OH, OW) from the padded output grid, dropping the columns ow >= OW; bias and ReLU
// once a tile is complete.
template <int NR>
struct FlatOutputC {
  float* y;  // output channel g*Og, image 0
  int64_t image_stride, plane, out_w, wp, qimg;
  const float* bias;
  bool relu;
  float* direct(int64_t i, int64_t j) const {
    const int64_t img = j / qimg, q = j % qimg, oh = q / wp, ow = q % wp;
    return ow + NR > out_w ? nullptr : y + img * image_stride + i * plane + oh * out_w + ow;
  }
  int64_t ld() const { return plane; }
  // f(j, len, pointer to row 0's output) for each run of valid columns of [j0, j0 + cols).
  template <class F>
  void for_each_run(int64_t j0, int64_t cols, F&& f) const {
    for (int64_t j = 0; j < cols;) {
      const int64_t n = j0 + j, img = n / qimg, q = n % qimg, oh = q / wp, ow = q % wp;
      const int64_t in_row = std::min(cols - j, wp - ow);
      if (ow < out_w) {
        const int64_t len = std::min(in_row, out_w - ow);
        f(j, len, y + img * image_stride + oh * out_w + ow);
      }
      j += in_row;
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

// The zero-padded input split into its stride phases: for stride (sh, sw), phase (a, b) of a
// channel is the plane of padded pixels (a + i*sh, b + j*sw), Hq x Wq with Hq = ceil(Hp/sh),
// Wq = ceil(Wp/sw). Tap (ki, kj) of output (oh, ow) reads padded pixel (oh*sh + ki*dh,
// ow*sw + kj*dw), which is pixel (oh + ki*dh/sh, ow + kj*dw/sw) of phase (ki*dh % sh,
// kj*dw % sw): a fixed offset from grid index oh*Wq + ow in a fixed plane. So a strided conv is
// the stride-1 flat GEMM over phase planes (stride 1 has one phase: the padded image itself).
struct PhaseGrid {
  int64_t sh, sw, hq, wq;
  int64_t plane, channel, image;  // floats per phase plane, per channel, per image (with slack)
  PhaseGrid(const kernels::ConvGeometry& g, int64_t slack)
      : sh(g.stride_h), sw(g.stride_w),
        hq((g.height + 2 * g.pad_h + g.stride_h - 1) / g.stride_h),
        wq((g.width + 2 * g.pad_w + g.stride_w - 1) / g.stride_w), plane(hq * wq),
        channel(sh * sw * hq * wq), image(g.channels * sh * sw * hq * wq + slack) {}
  // Flat offset of tap (ki, kj) of channel c from an output's grid index.
  int64_t tap_offset(const kernels::ConvGeometry& g, int64_t c, int64_t ki, int64_t kj) const {
    const int64_t row = ki * g.dil_h, col = kj * g.dil_w;
    return c * channel + ((row % sh) * sw + col % sw) * plane + (row / sh) * wq + col / sw;
  }
};

// x (N, C, H, W) into the phase planes of `grid`, each image followed by `slack` zeros (the
// last tile's garbage columns read up to (kw-1)*dw + NR past the end).
inline void pad_phases(const float* x, float* xpad, int64_t batch, const kernels::ConvGeometry& g,
                       const PhaseGrid& grid, int64_t slack) {
  const int64_t phases = grid.sh * grid.sw, planes = batch * g.channels * phases;
#pragma omp parallel for schedule(static) if (planes * grid.plane >= (1 << 16))
  for (int64_t t = 0; t < planes; ++t) {
    const int64_t n = t / (g.channels * phases), c = (t / phases) % g.channels;
    const int64_t a = (t % phases) / grid.sw, b = t % grid.sw;
    float* dst = xpad + n * grid.image + c * grid.channel + (t % phases) * grid.plane;
    const float* src = x + (n * g.channels + c) * g.height * g.width;
    // columns j of the phase that hold image columns: 0 <= b + j*sw - pw < W
    const int64_t sw = grid.sw;
    const int64_t j_lo = std::min(grid.wq, std::max<int64_t>(0, (g.pad_w - b + sw - 1) / sw));
    const int64_t j_hi =
        std::max(j_lo, std::min(grid.wq, (g.pad_w + g.width - b + sw - 1) / sw));
    for (int64_t i = 0; i < grid.hq; ++i) {
      float* row = dst + i * grid.wq;
      const int64_t ih = a + i * grid.sh - g.pad_h;
      if (ih < 0 || ih >= g.height) {
        std::memset(row, 0, grid.wq * sizeof(float));
        continue;
      }
      std::memset(row, 0, j_lo * sizeof(float));
      const float* s = src + ih * g.width + (b + j_lo * grid.sw - g.pad_w);
      if (grid.sw == 1) {
        std::memcpy(row + j_lo, s, (j_hi - j_lo) * sizeof(float));
      } else {
        for (int64_t j = j_lo; j < j_hi; ++j) row[j] = s[(j - j_lo) * grid.sw];
      }
      std::memset(row + j_hi, 0, (grid.wq - j_hi) * sizeof(float));
    }
    if (c == g.channels - 1 && t % phases == phases - 1)
      std::memset(dst + grid.plane, 0, slack * sizeof(float));
  }
}

// The GEMM of the flat paths with B read in place: for each group and image, the m x qimg grid
// of C = A B where A (m x k) is packed as MR-row slivers over all of K (apack + s*k*MR per
// sliver, `a_group` floats per group) and B's row p for grid columns [q0, q0 + NR) is the NR
// floats at input + off[p] + q0, input = padded + img*image + grp*group_stride. write(grp, img,
// q0, cols, tile) stores each sliver's m x NR tile (row stride NR; columns past `cols` are
// garbage).
template <class Kernel, class Write>
void flat_gemm_in_place(const float* apack, int64_t a_group, int64_t m, int64_t k,
                        const int64_t* off, const float* padded, int64_t image,
                        int64_t group_stride, int64_t groups, int64_t batch, int64_t qimg,
                        const Blocking& blk, int threads, const Write& write) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const int64_t slivers = (m + MR - 1) / MR;
  const int64_t col_slivers = (qimg + NR - 1) / NR;  // per image; the last may be partial
  const int64_t kc_step = k > 0 ? effective_kc<MR, NR>(blk, m, k) : 1;
  const int64_t jobs = groups * batch * col_slivers;
#pragma omp parallel num_threads(threads)
  {
    float* tile = a_scratch().get(slivers * MR * NR);  // C of one column sliver: m rows x NR
#pragma omp for schedule(static)
    for (int64_t job = 0; job < jobs; ++job) {
      const int64_t grp = job / (batch * col_slivers), img = (job / col_slivers) % batch;
      const int64_t q0 = (job % col_slivers) * NR, cols = std::min<int64_t>(NR, qimg - q0);
      const float* base = padded + img * image + grp * group_stride + q0;
      const float* a = apack + grp * a_group;
      if (k == 0) std::memset(tile, 0, slivers * MR * NR * sizeof(float));  // C = 0
      for (int64_t p0 = 0; p0 < k; p0 += kc_step) {
        const int64_t kc = std::min(kc_step, k - p0);
        const int64_t* offs = off + p0;
        const auto brow = [base, offs](int64_t p) { return base + offs[p]; };
        for (int64_t s = 0; s < slivers; ++s)
          Kernel::run_rows(kc, a + s * k * MR + p0 * MR, brow, tile + s * MR * NR, NR, 1.0f,
                           p0 == 0 ? 0.0f : 1.0f);
      }
      write(grp, img, q0, cols, tile);
    }
  }
}

// Reused by later calls on this thread up to 64 MB; a larger one is freed after the call.
// (Scratch and plain arrays rather than std::vector: std's templates are shared by every file,
// and their copy compiled here with -mavx512f could be the one the linker keeps.)
inline float* flat_scratch(int64_t count, std::unique_ptr<float[]>* once) {
  static thread_local Scratch kept;
  if (count <= (int64_t(16) << 20)) return kept.get(count);
  once->reset(new float[count]);
  return once->get();
}

// y = conv(x, w) (+ bias, then ReLU) through the padded flat image (its phases when strided).
//
// B is never packed: B's row k of a sliver of NR columns is NR consecutive floats of the padded
// input at off[k], so the micro-kernel reads it in place (Kernel::run_rows). A sliver's input
// rows (C rows of NR + largest offset floats) stay in cache while every tap and every row sliver
// of W reads them; packing them copied each input value kh*kw times first (32 ch 64x64, batch
// 16: 5.9 ms packed, 4.2-4.9 ms in place; torch 4.5-4.9). W is packed once per call.
template <class Kernel>
void conv_forward_flat(const float* x, const float* w, const float* bias, bool relu, float* y,
                       int64_t batch, int64_t out_channels, const kernels::ConvGeometry& g,
                       const Blocking& blk, int threads) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const int64_t slack = (g.kernel_w - 1) * g.dil_w + NR;
  const PhaseGrid grid(g, slack);
  std::unique_ptr<float[]> once;
  float* const padded = flat_scratch(batch * grid.image, &once);
  pad_phases(x, padded, batch, g, grid, slack);

  const int64_t cg = g.channels / g.groups, og = out_channels / g.groups;
  const int64_t taps = g.kernel_h * g.kernel_w, k = cg * taps;
  std::unique_ptr<int64_t[]> off(new int64_t[k]);
  for (int64_t kk = 0; kk < k; ++kk) {
    const int64_t c = kk / taps, ki = (kk % taps) / g.kernel_w, kj = kk % g.kernel_w;
    off[kk] = grid.tap_offset(g, c, ki, kj);
  }
  // W_g packed as row slivers over the whole of K: sliver s at apack + (grp*slivers + s)*k*MR
  const int64_t slivers = (og + MR - 1) / MR;
  std::unique_ptr<float[]> apack(new float[g.groups * slivers * k * MR]);
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t s = 0; s < slivers; ++s)
      pack_lanes(w + (grp * og + s * MR) * k, k, 1, std::min<int64_t>(MR, og - s * MR), MR, k,
                 apack.get() + (grp * slivers + s) * k * MR);

  const int64_t qimg = g.out_h * grid.wq, out_plane = g.out_h * g.out_w;
  const auto write = [&](int64_t grp, int64_t img, int64_t q0, int64_t cols, const float* tile) {
    const FlatOutputC<NR> out{y + grp * og * out_plane, out_channels * out_plane, out_plane,
                              g.out_w, grid.wq, qimg,
                              bias != nullptr ? bias + grp * og : nullptr, relu};
    const int64_t n0 = img * qimg + q0;
    out.merge(0, n0, og, cols, tile, NR, 1.0f, 0.0f);
    out.finish(0, n0, og, cols);
  };
  flat_gemm_in_place<Kernel>(apack.get(), slivers * k * MR, og, k, off.get(), padded,
                             grid.image, cg * grid.channel, g.groups, batch, qimg, blk, threads,
                             write);
}

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
