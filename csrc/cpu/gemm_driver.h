// The blocked GEMM driver (GotoBLAS / BLIS loop nest), generic over the micro-kernel and over
// where A, B and C live, so that the same loops run a dense strided GEMM and a convolution whose
// B panel is packed straight from the NCHW image (cpu/conv_gemm.h).
//
//   for jc in N by NC                  B panel  (KC x NC)  shared by the team, L3-resident
//     for pc in K by KC                packed by the threads that read it (a barrier only when
//                                      the team shares slivers)
//       for ic in my rows by MC        A block  (MC x KC)  per thread, L2-resident
//         for jr in my columns by NR   B sliver (KC x NR)  reused across the ir loop (L1, or
//                                      L2 at KC = 512; see gemm.cpp blocking_for)
//           for ir in MC by MR         micro-kernel on an MR x NR tile of C
//
// The team splits C into tm x tn parts (columns first, rows when N has too few slivers; see
// choose_split), so every thread runs whole micro-tiles and nothing is written by two threads.
//
// Each ISA's file defines ENGINE_GEMM_NS before including this header: everything here then
// lives in a namespace of that ISA, and code compiled with -mavx512f can never be picked by the
// linker for a call from a baseline file (inline functions of one name in files compiled with
// different flags would be an ODR trap). Templates from elsewhere get an IsaTag argument
// (kernels/gemm.h), and this code uses no std containers, whose instantiations are shared by
// every file.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <new>

#include "cpu/gemm.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef ENGINE_GEMM_NS
#error "define ENGINE_GEMM_NS (the ISA's namespace) before including cpu/gemm_driver.h"
#endif

namespace engine {
namespace cpu {
namespace ENGINE_GEMM_NS {

// Distinguishes this ISA's instantiations of shared templates (kernels/gemm.h) from the others'.
struct IsaTag {};

struct Blocking {
  int64_t kc, mc, nc;
  int64_t l1;  // bytes of L1 data cache
};

// The KC of one product. With few rows (M <= kSmallM) the whole A block is reused for every B
// sliver, so KC shrinks until A block and B sliver share L1 (32 rows: 256 -> 136, measured
// 1.25x faster on ResNet's 32/64-channel convs). K is then cut into equal blocks (288 = 144 +
// 144, not 256 + 32: a short last block pays a full pass over C for little work).
constexpr int64_t kSmallM = 64;
template <int MR, int NR>
inline int64_t effective_kc(const Blocking& blk, int64_t m, int64_t k) {
  int64_t kc = blk.kc;
  const int64_t rows = (m + MR - 1) / MR * MR;
  if (rows <= kSmallM)
    kc = std::min(kc, std::max<int64_t>(64, blk.l1 * 9 / 10 / ((rows + NR) * 4)));
  const int64_t blocks = (k + kc - 1) / kc;
  return std::min({k, blk.kc, ((k + blocks - 1) / blocks + 7) / 8 * 8});
}

// A 64-byte aligned scratch buffer that grows and is kept for later calls on its thread. From
// 1 MiB on it is 2 MiB aligned and asks for transparent huge pages (the packed B panel is
// several MiB, read sliver by sliver: with 4 KiB pages its TLB misses cost 6% of a 2048^3
// product; the kernel leaves THP to madvise by default).
class Scratch {
 public:
  float* get(int64_t count) {
    if (count > capacity_) {
      const size_t huge = size_t(2) << 20;
      size_t bytes = size_t(count) * sizeof(float);
      const size_t align = bytes >= huge / 2 ? huge : 64;
      bytes = (bytes + align - 1) / align * align;
      storage_.reset(static_cast<float*>(std::aligned_alloc(align, bytes)));
      if (storage_ == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
      if (align == huge) madvise(storage_.get(), bytes, MADV_HUGEPAGE);
#endif
      capacity_ = count;
    }
    return storage_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> storage_;
  int64_t capacity_ = 0;
};

inline Scratch& a_scratch() {
  static thread_local Scratch s;
  return s;
}
inline Scratch& b_scratch() {
  static thread_local Scratch s;
  return s;
}

// [lo, hi) of `count` items for part `part` of `parts` (the first count % parts get one more).
inline void split_range(int64_t count, int64_t parts, int64_t part, int64_t* lo, int64_t* hi) {
  const int64_t base = count / parts, extra = count % parts;
  *lo = part * base + std::min(part, extra);
  *hi = *lo + base + (part < extra ? 1 : 0);
}

// ---- packers for a dense strided matrix ----------------------------------------------------

// dst[p * width + l] = src[l * lane_stride + p * step_stride] for lanes l < lanes and steps p < kc,
// zero in lanes [lanes, width): one sliver of a general strided matrix (A's rows or B's columns
// are the lanes, K is the step).
inline void pack_lanes(const float* src, int64_t lane_stride, int64_t step_stride, int64_t lanes,
                       int64_t width, int64_t kc, float* dst) {
  for (int64_t l = 0; l < lanes; ++l) {
    const float* s = src + l * lane_stride;
    for (int64_t p = 0; p < kc; ++p) dst[p * width + l] = s[p * step_stride];
  }
  for (int64_t l = lanes; l < width; ++l)
    for (int64_t p = 0; p < kc; ++p) dst[p * width + l] = 0.f;
}

#ifdef __AVX__
typedef float Vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef int Idx8 __attribute__((vector_size(8 * sizeof(int))));

// dst[p * 8 + i] = src[i * rs + p] for i, p < 8: eight 8-float rows in, eight columns out, in
// 24 in-register shuffles (unpack, shufps, 128-bit lane permute). Packing A one float at a time
// took ~2 cycles per element (2% of a 2048^3 product, 4% at 1024^3).
inline void transpose8x8(const float* src, int64_t rs, float* dst) {
  Vec8 r[8];
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], src + i * rs, sizeof(Vec8));
  const Idx8 lo{0, 8, 1, 9, 4, 12, 5, 13}, hi{2, 10, 3, 11, 6, 14, 7, 15};
  const Idx8 lo2{0, 1, 8, 9, 4, 5, 12, 13}, hi2{2, 3, 10, 11, 6, 7, 14, 15};
  const Idx8 lo4{0, 1, 2, 3, 8, 9, 10, 11}, hi4{4, 5, 6, 7, 12, 13, 14, 15};
  Vec8 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = __builtin_shuffle(r[2 * i], r[2 * i + 1], lo);
    t[2 * i + 1] = __builtin_shuffle(r[2 * i], r[2 * i + 1], hi);
  }
  for (int h = 0; h < 2; ++h) {  // rows 4h .. 4h + 3
    u[4 * h + 0] = __builtin_shuffle(t[4 * h], t[4 * h + 2], lo2);
    u[4 * h + 1] = __builtin_shuffle(t[4 * h], t[4 * h + 2], hi2);
    u[4 * h + 2] = __builtin_shuffle(t[4 * h + 1], t[4 * h + 3], lo2);
    u[4 * h + 3] = __builtin_shuffle(t[4 * h + 1], t[4 * h + 3], hi2);
  }
  for (int p = 0; p < 4; ++p) {
    const Vec8 first = __builtin_shuffle(u[p], u[4 + p], lo4);
    const Vec8 second = __builtin_shuffle(u[p], u[4 + p], hi4);
    std::memcpy(dst + p * 8, &first, sizeof(Vec8));
    std::memcpy(dst + (p + 4) * 8, &second, sizeof(Vec8));
  }
}
#endif

// Rows [i0, i0 + mc) x columns [p0, p0 + kc) of A into MR-row slivers: dst[s][p][i].
template <int MR>
struct DenseA {
  MatView a;
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const {
    for (int64_t s = 0; s < mc; s += MR, dst += kc * MR) {
      const int64_t rows = std::min<int64_t>(MR, mc - s);
      const float* src = a.data + (i0 + s) * a.rs + p0 * a.cs;
      if (a.rs == 1) {  // A stored column-major (a transposed row-major matrix): copy runs
        for (int64_t p = 0; p < kc; ++p) {
          const float* col = src + p * a.cs;
          float* d = dst + p * MR;
          int64_t i = 0;
          for (; i < rows; ++i) d[i] = col[i];
          for (; i < MR; ++i) d[i] = 0.f;
        }
      } else if (rows == MR) {
        int64_t p = 0;
#ifdef __AVX__
        if constexpr (MR == 8) {
          if (a.cs == 1)
            for (; p + 8 <= kc; p += 8) transpose8x8(src + p, a.rs, dst + p * MR);
        }
#endif
        // p outer: each step writes one contiguous MR-float line and reads MR rows in step
        // (12 sequential streams the prefetcher follows); i outer wrote at a 48-byte stride.
        for (; p < kc; ++p) {
          float* d = dst + p * MR;
          const float* col = src + p * a.cs;
#pragma GCC unroll 16
          for (int i = 0; i < MR; ++i) d[i] = col[i * a.rs];
        }
      } else {
        pack_lanes(src, a.rs, a.cs, rows, MR, kc, dst);
      }
    }
  }
};

// Rows of B fetched ahead of the one being copied.
constexpr int64_t kPackAhead = 16;

// Rows [p0, p0 + kc) x columns [j0, j0 + nc) of B into NR-column slivers: dst[s][p][j].
template <int NR>
struct DenseB {
  MatView b;
  void pack(int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) const {
    for (int64_t s = 0; s < nc; s += NR, dst += kc * NR) {
      const int64_t cols = std::min<int64_t>(NR, nc - s);
      const float* src = b.data + p0 * b.rs + (j0 + s) * b.cs;
      if (b.cs == 1) {
        for (int64_t p = 0; p < kc; ++p) {
          const float* row = src + p * b.rs;
          float* d = dst + p * NR;
          // Rows are a row stride apart (8 KiB at N = 2048), past what the hardware's stride
          // prefetcher follows: each row's lines were a demand miss (B packing took 2.9% of a
          // 2048^3 product, 5.2% at 1024^3).
          const float* ahead = row + kPackAhead * b.rs;
#pragma GCC unroll 8
          for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(ahead + j);
          __builtin_prefetch(ahead + cols - 1);
          if (cols == NR) {
            std::memcpy(d, row, NR * sizeof(float));
          } else {
            int64_t j = 0;
            for (; j < cols; ++j) d[j] = row[j];
            for (; j < NR; ++j) d[j] = 0.f;
          }
        }
      } else {
        pack_lanes(src, b.cs, b.rs, cols, NR, kc, dst);
      }
    }
  }
};

// ---- C writers -------------------------------------------------------------------------------

// dst[0..len) = alpha * t + beta * dst; beta == 0 writes dst without reading it.
inline void merge_row(float* dst, const float* t, int64_t len, float alpha, float beta) {
  if (beta == 0.f) {
    for (int64_t q = 0; q < len; ++q) dst[q] = alpha * t[q];
  } else {
    for (int64_t q = 0; q < len; ++q) dst[q] = alpha * t[q] + beta * dst[q];
  }
}

// merge and finish of a C writer whose tile columns land in runs: w.for_each_run(j0, cols,
// f(j, len, base)) gives each run's tile column j, length and output address of tile row 0;
// consecutive tile rows are w.ld() apart. w.bias (per row, or nullptr) and w.relu are the
// epilogue finish applies once a tile is complete (the convolutions' writers).
template <class W>
void merge_runs(const W& w, int64_t i0, int64_t j0, int64_t rows, int64_t cols,
                const float* tile, int64_t ldt, float alpha, float beta) {
  w.for_each_run(j0, cols, [&](int64_t j, int64_t len, float* base) {
    for (int64_t i = 0; i < rows; ++i)
      merge_row(base + (i0 + i) * w.ld(), tile + i * ldt + j, len, alpha, beta);
  });
}

template <class W>
void finish_runs(const W& w, int64_t i0, int64_t j0, int64_t rows, int64_t cols) {
  if (w.bias == nullptr && !w.relu) return;
  w.for_each_run(j0, cols, [&](int64_t, int64_t len, float* base) {
    for (int64_t i = 0; i < rows; ++i) {
      float* dst = base + (i0 + i) * w.ld();
      const float b = w.bias != nullptr ? w.bias[i0 + i] : 0.f;
      if (w.relu) {
        for (int64_t q = 0; q < len; ++q) dst[q] = std::max(dst[q] + b, 0.f);
      } else {
        for (int64_t q = 0; q < len; ++q) dst[q] += b;
      }
    }
  });
}

// A row-major C (row stride ldc): full tiles are written in place by the micro-kernel.
struct DenseC {
  float* c;
  int64_t ldc;
  float* direct(int64_t i, int64_t j) const { return c + i * ldc + j; }
  int64_t ld() const { return ldc; }
  void merge(int64_t i0, int64_t j0, int64_t rows, int64_t cols, const float* tile, int64_t ldt,
             float alpha, float beta) const {
    for (int64_t i = 0; i < rows; ++i)
      merge_row(c + (i0 + i) * ldc + j0, tile + i * ldt, cols, alpha, beta);
  }
  void finish(int64_t, int64_t, int64_t, int64_t) const {}
};

// ---- the loop nest ---------------------------------------------------------------------------

// Team split of an m x n product: tm parts along M and tn along N (tm * tn = team). Columns
// first: each thread then packs exactly the B slivers it multiplies, so the team never waits
// for each other (with KC-sized steps a conv GEMM met ~200 barriers, and a passive barrier costs
// tens of microseconds; ResNet's 32-channel convs ran slower on 2 threads than on 1). Rows only
// when N has too few slivers to go round.
template <int MR, int NR>
inline void choose_split(int64_t m, int64_t n, int team, int* tm, int* tn) {
  const int64_t col_tiles = (n + NR - 1) / NR, row_tiles = (m + MR - 1) / MR;
  *tm = 1;
  if (col_tiles < 4 * team) {
    for (int d = team; d >= 1; --d) {
      if (team % d == 0 && row_tiles >= 2 * d) {
        *tm = d;
        break;
      }
    }
  }
  *tn = team / *tm;
}

// One GEMM, run by the calling OpenMP team (all threads of the team must call it). `bpack` is
// the team's shared B panel (kc * roundup(nc, NR) floats).
template <class Kernel, class PA, class PB, class SC>
void gemm_team(int64_t m, int64_t n, int64_t k, float alpha, float beta, const PA& pa,
               const PB& pb, const SC& sc, const Blocking& blk, float* bpack, int tid, int team) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  int tm, tn;
  choose_split<MR, NR>(m, n, team, &tm, &tn);
  const bool shared_b = tm > 1;  // else each thread packs and reads only its own slivers
  const int ti = tid / tn, tj = tid % tn;
  const int64_t kc_step = effective_kc<MR, NR>(blk, m, k);
  // N cut into equal blocks of at most NC (4096 = 2048 + 2048, not 2688 + 1408): each block's
  // slivers are split over the team as a full block's are (see split_over), so a short last
  // block left most of its slivers to one thread (4096^3 on 2 threads: 220-240 GF/s vs 300 at
  // 2048^3).
  const int64_t n_blocks = (n + blk.nc - 1) / blk.nc;
  const int64_t nc_step = ((n + n_blocks - 1) / n_blocks + NR - 1) / NR * NR;
  int64_t s0, s1;
  split_range((m + MR - 1) / MR, tm, ti, &s0, &s1);
  const int64_t r0 = s0 * MR, r1 = std::min(m, s1 * MR);
  float* apack = a_scratch().get(blk.mc * blk.kc);
  alignas(64) float tile[MR * NR];

  for (int64_t jc = 0; jc < n; jc += nc_step) {
    const int64_t nc = std::min(nc_step, n - jc);
    const int64_t slivers = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < k; pc += kc_step) {
      const int64_t kc = std::min(kc_step, k - pc);
      const float beta_here = pc == 0 ? beta : 1.0f;
      const bool last = pc + kc >= k;
      // Sliver q lives at a fixed place (stride kc_step * NR) and, without shared_b, belongs to
      // the same thread in every block: split over a full block's slivers even in the last,
      // shorter one, so no thread overwrites a sliver another is still reading.
      const int64_t split_over = n > nc_step ? nc_step / NR : slivers;
      int64_t b0, b1;
      split_range(split_over, team, tid, &b0, &b1);
      for (int64_t q = b0; q < std::min(b1, slivers); ++q)
        pb.pack(pc, kc, jc + q * NR, std::min<int64_t>(NR, nc - q * NR),
                bpack + q * kc_step * NR);
      if (shared_b) {
#pragma omp barrier
      }
      int64_t q0, q1;
      split_range(split_over, tn, tj, &q0, &q1);
      q1 = std::min(q1, slivers);
      if (q1 > q0) {
        for (int64_t ic = r0; ic < r1; ic += blk.mc) {
          const int64_t mc = std::min(blk.mc, r1 - ic);
          pa.pack(ic, mc, pc, kc, apack);
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t j = jc + q * NR;
            const int64_t cols = std::min<int64_t>(NR, n - j);
            const float* bs = bpack + q * kc_step * NR;
            for (int64_t s = 0; s < mc; s += MR) {
              const int64_t i = ic + s;
              const int64_t rows = std::min<int64_t>(MR, mc - s);
              const float* as = apack + s * kc;
              float* cp = (rows == MR && cols == NR) ? sc.direct(i, j) : nullptr;
              if (cp != nullptr) {
                // While the ir loop runs over sliver q, its calls bring sliver q + 1 into L2
                // in turn (sliver s / MR of mc / MR fetches lines [s / MR, s / MR + 1) *
                // kc / kBlock), and each call the C tile the next call writes.
                const float* b_next =
                    q + 1 < q1 ? bs + kc_step * NR + s / MR * (kc / Kernel::kBlock) * 16
                               : nullptr;
                const float* c_next = s + MR < mc ? cp + MR * sc.ld()
                                      : q + 1 < q1 && j + 2 * NR <= n ? sc.direct(ic, j + NR)
                                                                     : cp;
                Kernel::run(kc, as, bs, cp, sc.ld(), alpha, beta_here, b_next, c_next);
              } else {
                Kernel::run_cols(cols, kc, as, bs, tile, NR, 1.0f, 0.0f);
                sc.merge(i, j, rows, cols, tile, NR, alpha, beta_here);
              }
              if (last) sc.finish(i, j, rows, cols);
            }
          }
        }
      }
      if (shared_b) {
#pragma omp barrier
      }
    }
  }
}

inline int team_thread() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// Work below this many multiply-adds runs on one thread: waking the team costs more.
constexpr int64_t kParallelFlops = int64_t(1) << 18;

// `count` GEMMs item(b) -> (PA, PB, SC) on engine's thread pool: large items one after another,
// each split over the team; many small ones spread over the team, one thread each.
template <class Kernel, class Items>
void gemm_items(int64_t count, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                const Items& item, const Blocking& blk, int threads) {
  constexpr int NR = Kernel::kNR;
  const int64_t work = m * n * k;
  if (count == 0 || m == 0 || n == 0) return;
  if (k == 0) {  // no products: C = beta * C, then the writer's epilogue (bias, ReLU)
    alignas(64) float zeros[Kernel::kMR * NR] = {};
    for (int64_t b = 0; b < count; ++b) {
      const auto parts = item(b);
      for (int64_t i = 0; i < m; i += Kernel::kMR)
        for (int64_t j = 0; j < n; j += NR) {
          const int64_t rows = std::min<int64_t>(Kernel::kMR, m - i);
          const int64_t cols = std::min<int64_t>(NR, n - j);
          parts.c.merge(i, j, rows, cols, zeros, NR, alpha, beta);
          parts.c.finish(i, j, rows, cols);
        }
    }
    return;
  }
  int team = (work * count < kParallelFlops) ? 1 : threads;
  const bool per_item_threads = work >= 4 * kParallelFlops || count < team;
  const int64_t panel = blk.kc * ((std::min(blk.nc, n) + NR - 1) / NR) * NR;
  if (team <= 1) {
    float* bpack = b_scratch().get(panel);
    for (int64_t b = 0; b < count; ++b) {
      const auto parts = item(b);
      gemm_team<Kernel>(m, n, k, alpha, beta, parts.a, parts.b, parts.c, blk, bpack, 0, 1);
    }
    return;
  }
  if (per_item_threads) {
    float* bpack = b_scratch().get(panel);
#pragma omp parallel num_threads(team)
    {
      const int tid = team_thread(), size = team_size();
      for (int64_t b = 0; b < count; ++b) {
        const auto parts = item(b);
        gemm_team<Kernel>(m, n, k, alpha, beta, parts.a, parts.b, parts.c, blk, bpack, tid,
                          size);
      }
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(team)
    for (int64_t b = 0; b < count; ++b) {
      float* bpack = b_scratch().get(panel);
      const auto parts = item(b);
      gemm_team<Kernel>(m, n, k, alpha, beta, parts.a, parts.b, parts.c, blk, bpack, 0, 1);
    }
  }
}

// ---- split K: small products over a long reduction (filter gradients) -----------------------

// A packer seen from `k0` on along K, so a GEMM can run over one range of the reduction.
template <class P>
struct KOffsetA {
  const P& p;
  int64_t k0;
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const {
    p.pack(i0, mc, k0 + p0, kc, dst);
  }
};
template <class P>
struct KOffsetB {
  const P& p;
  int64_t k0;
  void pack(int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) const {
    p.pack(k0 + p0, kc, j0, nc, dst);
  }
};

// Reduction ranges of a split-K product: fixed by the shape alone (never by the thread count),
// so the partial sums, added in range order, give the same bits on any number of threads.
constexpr int64_t kSplitKChunk = 1024;
constexpr int64_t kSplitKMaxParts = 64;

// C (m x n dense) = alpha * A B + beta * C where m x n is too small to keep a team busy but k is
// long: the team shares the reduction instead (each range a one-thread GEMM into its own
// partial, then the partials summed in order). Without it, a 32 x 288 filter gradient over
// 65536 positions took ~240 team barriers (one pair per KC step) and ran slower on 2 threads
// than on 1.
template <class Kernel, class PA, class PB>
void gemm_split_k(int64_t m, int64_t n, int64_t k, float alpha, float beta, const PA& pa,
                  const PB& pb, float* c, int64_t ldc, const Blocking& blk, int threads) {
  constexpr int NR = Kernel::kNR;
  const int64_t chunk = std::max(kSplitKChunk, (k + kSplitKMaxParts - 1) / kSplitKMaxParts);
  const int64_t parts = (k + chunk - 1) / chunk;
  std::unique_ptr<float[]> partial(new float[parts * m * n]);
  const int64_t panel = blk.kc * ((std::min(blk.nc, n) + NR - 1) / NR) * NR;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t t = 0; t < parts; ++t) {
    const int64_t k0 = t * chunk, kn = std::min(chunk, k - k0);
    const KOffsetA<PA> a{pa, k0};
    const KOffsetB<PB> b{pb, k0};
    gemm_team<Kernel>(m, n, kn, 1.0f, 0.0f, a, b, DenseC{partial.get() + t * m * n, n}, blk,
                      b_scratch().get(panel), 0, 1);
  }
#pragma omp parallel for schedule(static) num_threads(threads) if (m * n * parts >= (1 << 16))
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.f;
      for (int64_t t = 0; t < parts; ++t) sum += partial[(t * m + i) * n + j];
      row[j] = beta == 0.f ? alpha * sum : alpha * sum + beta * row[j];
    }
  }
}

// Whether a product goes to gemm_split_k: its C has few tiles (too few to keep a team busy) and
// the reduction is long enough to cut. Decided by the shape alone, never by the thread count,
// so a result has the same bits on any number of threads.
constexpr int64_t kSplitKMaxTiles = 128;
template <int MR, int NR>
inline bool split_k_wins(int64_t m, int64_t n, int64_t k) {
  const int64_t tiles = ((m + MR - 1) / MR) * ((n + NR - 1) / NR);
  return k >= 2 * kSplitKChunk && tiles < kSplitKMaxTiles;
}

template <class PA, class PB, class SC>
struct GemmParts {
  PA a;
  PB b;
  SC c;
};

// The dense strided (batched) GEMM of cpu/gemm.h on this ISA's micro-kernel.
template <class Kernel>
void dense_sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
                 float* c, int64_t ldc, const GemmBatch& batch, const Blocking& blk,
                 int threads) {
  using Parts = GemmParts<DenseA<Kernel::kMR>, DenseB<Kernel::kNR>, DenseC>;
  const auto item = [&](int64_t i) {
    return Parts{{{a.data + i * batch.stride_a, a.rs, a.cs}},
                 {{b.data + i * batch.stride_b, b.rs, b.cs}},
                 {c + i * batch.stride_c, ldc}};
  };
  gemm_items<Kernel>(batch.count, m, n, k, alpha, beta, item, blk, threads);
}

}  // namespace ENGINE_GEMM_NS
}  // namespace cpu
}  // namespace engine
