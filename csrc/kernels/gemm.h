// The GEMM micro-kernel: C[MR x NR] = alpha * A_sliver * B_sliver + beta * C, over a packed
// MR x kc sliver of A and a packed kc x NR sliver of B (GotoBLAS / BLIS design; the driver that
// packs and blocks is cpu/gemm_driver.h).
//
// One body serves every CPU instruction set: it is written over a GCC vector type V of W floats
// (vector_size), and each ISA's file (cpu/gemm_avx512.cpp, gemm_avx2.cpp, gemm_portable.cpp)
// instantiates it with its register width and tile shape, so the compiler emits zmm, ymm or
// xmm FMAs from the same source. The MR x NR/W accumulators live in registers for the whole
// k loop: MR * NR/W + NR/W + 1 vector registers must fit the ISA's register file (AVX-512:
// 8 x 3 + 4 = 28 of 32 zmm; AVX2: 6 x 2 + 3 = 15 of 16 ymm).
//
// Packed layouts (zero-padded to full slivers by the packers, so the kernel never branches):
//   A sliver: a[k * MR + i]      B sliver: b[k * NR + j]
#pragma once

#include <cstdint>
#include <cstring>

namespace engine {
namespace kernels {

// Tag is a type of the instantiating ISA's namespace: it gives each ISA's instantiation its own
// symbol, so the linker can never hand one ISA's (zmm) code to another ISA's caller.
template <int MR, int NR, typename V, typename Tag>
struct GemmMicroKernel {
  static constexpr int kMR = MR;
  static constexpr int kNR = NR;
  static constexpr int kW = sizeof(V) / sizeof(float);
  static constexpr int kNV = NR / kW;  // vectors per row of the tile
  static_assert(NR % kW == 0, "NR must be a multiple of the vector width");

  static inline V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));  // an unaligned vector load (packed panels are aligned)
    return v;
  }
  static inline void store(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
  // x - 0 is x for every float (unlike 0 + x, which turns -0 into +0), so the compiler folds it
  // away and emits a single broadcast.
  static inline V splat(float x) { return x - V{}; }

  static constexpr int64_t kPrefetchAhead = 32;
  static constexpr int64_t kBlock = 8;  // k steps per prefetched line of the next B sliver

  // acc += A_sliver B at step p; brow(p) is B's row p (NR floats): the packed sliver's row, or a
  // row of an unpacked source (cpu/conv_gemm_flat.h reads the padded image in place).
  // (always_inline: with the k loop unrolled by kBlock, GCC's inliner otherwise kept step out
  // of line in some translation units, and the accumulators went through memory: 50 GF/s.)
  template <class BRow>
  __attribute__((always_inline)) static inline void step(int64_t p, const float* __restrict a,
                                                         BRow brow, V (&acc)[MR][kNV]) {
    const float* __restrict b = brow(p);
    V bv[kNV];
#pragma GCC unroll 8
    for (int j = 0; j < kNV; ++j) bv[j] = load(b + j * kW);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V av = splat(a[p * MR + i]);
#pragma GCC unroll 8
      for (int j = 0; j < kNV; ++j) acc[i][j] += av * bv[j];
    }
  }

  // acc += A_sliver B over steps [p0, p1), in blocks of kBlock steps that each fetch one line of
  // `next` (advanced by a line) into L2. Block b < MR also fetches row b of the C tile at `cn`
  // (row stride ldc) when cn is given.
  template <class BRow>
  __attribute__((always_inline)) static inline void multiply(int64_t p0, int64_t p1,
                                                             const float* __restrict a, BRow brow,
                                                             V (&acc)[MR][kNV], const char*& next,
                                                             const float* cn, int64_t ldc) {
    int64_t p = p0;
    for (int i = 0; cn != nullptr && i < MR && p + kBlock <= p1; ++i, p += kBlock) {
      __builtin_prefetch(next, 0, 1);
      next += 64;
#pragma GCC unroll 8
      for (int j = 0; j < NR; j += 16) __builtin_prefetch(cn + i * ldc + j, 1, 1);
#pragma GCC unroll 8
      for (int u = 0; u < kBlock; ++u) step(p + u, a, brow, acc);
    }
    for (; p + kBlock <= p1; p += kBlock) {
      __builtin_prefetch(next, 0, 1);
      next += 64;
#pragma GCC unroll 8
      for (int u = 0; u < kBlock; ++u) step(p + u, a, brow, acc);
    }
    for (; p < p1; ++p) step(p, a, brow, acc);
  }

  // C (row stride ldc, columns contiguous) = alpha * A B + beta * C; beta == 0 never reads C
  // (so NaN garbage in an uninitialised output does not leak through 0 * NaN).
  //
  // b_next and c_next are what the driver multiplies next (cpu/gemm_driver.h): the part of the
  // next B sliver this call should bring from L3 into L2 (kc / kBlock lines from b_next), and
  // the next C tile (same ldc). Spread over the k loop, one line per block, these fetches never
  // hold more than a few line-fill buffers; issued in a burst at the start, 24 C lines from
  // memory stalled the A and B loads behind them. Measured on SPR, 2048^3 at 1 thread: 150 GF/s
  // without either, 158 with b_next, 163 with both (the kernel without C traffic: 165).
  static void run(int64_t kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, int64_t ldc, float alpha, float beta,
                  const float* b_next = nullptr, const float* c_next = nullptr) {
    run_rows(
        kc, a, [b](int64_t p) { return b + p * NR; }, c, ldc, alpha, beta, b_next, c_next);
  }

  // The first `cols` (<= NR) columns of the tile from a full-width packed sliver, on the
  // narrowest tile of whole vectors that covers them: an edge sliver of 16 columns on the 8x48
  // AVX-512 tile (1024 = 21 x 48 + 16) then costs a third of a full one.
  static void run_cols(int64_t cols, int64_t kc, const float* __restrict a,
                       const float* __restrict b, float* __restrict c, int64_t ldc, float alpha,
                       float beta) {
    run_cols_from<1>(cols, kc, a, b, c, ldc, alpha, beta);
  }
  template <int NV>
  static void run_cols_from(int64_t cols, int64_t kc, const float* __restrict a,
                            const float* __restrict b, float* __restrict c, int64_t ldc,
                            float alpha, float beta) {
    if constexpr (NV >= kNV) {
      run(kc, a, b, c, ldc, alpha, beta);
    } else if (cols <= NV * kW) {
      GemmMicroKernel<MR, NV * kW, V, Tag>::run_rows(
          kc, a, [b](int64_t p) { return b + p * NR; }, c, ldc, alpha, beta);
    } else {
      run_cols_from<NV + 1>(cols, kc, a, b, c, ldc, alpha, beta);
    }
  }

  // The same with B's row p at brow(p) instead of a packed sliver.
  template <class BRow>
  static inline void run_rows(int64_t kc, const float* __restrict a, BRow brow,
                              float* __restrict c, int64_t ldc, float alpha, float beta,
                              const float* b_next = nullptr, const float* c_next = nullptr) {
    // Without a next sliver the block fetches hit the A sliver, which is in cache anyway.
    const char* next = reinterpret_cast<const char*>(b_next != nullptr ? b_next : a);
    V acc[MR][kNV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < kNV; ++j) acc[i][j] = V{};
    // The C tile is touched only after the k loop: its lines (in L2 since the previous call's
    // c_next, or on their way from memory) are fetched into L1 kPrefetchAhead steps before the
    // end, late enough that the A and B slivers streaming through L1 do not evict them again.
    const int64_t tail = kc < kPrefetchAhead ? kc : kPrefetchAhead;
    multiply(0, kc - tail, a, brow, acc, next, c_next, ldc);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NR; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
    multiply(kc - tail, kc, a, brow, acc, next, nullptr, ldc);
    const V va = splat(alpha);
    if (beta == 0.0f) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < kNV; ++j) store(c + i * ldc + j * kW, va * acc[i][j]);
    } else {
      const V vb = splat(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < kNV; ++j) {
          float* cp = c + i * ldc + j * kW;
          store(cp, va * acc[i][j] + vb * load(cp));
        }
    }
  }
};

// The FMA peak of one core on vector type V: `chains` independent multiply-add chains (enough to
// cover the FMA latency times the number of FMA ports), nothing else in the loop. Returns a
// value derived from the results so the compiler cannot drop the work; `iters` * chains * lanes
// * 2 flops are done.
template <typename V, int Chains, typename Tag>
float fma_peak_loop(int64_t iters) {
  V acc[Chains];
  const V x = 0.999999f - V{}, y = 1e-7f - V{};
#pragma GCC unroll 32
  for (int j = 0; j < Chains; ++j) acc[j] = (1.0f + j) - V{};
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 32
    for (int j = 0; j < Chains; ++j) acc[j] = acc[j] * x + y;
  }
  float total = 0.f;
  for (int j = 0; j < Chains; ++j)
    for (size_t l = 0; l < sizeof(V) / sizeof(float); ++l) total += acc[j][l];
  return total;
}

}  // namespace kernels
}  // namespace engine
