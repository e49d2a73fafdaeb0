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

  // acc += A_sliver B over steps [p0, p1); brow(p) is B's row p (NR floats): the packed sliver's
  // row, or a row of an unpacked source (cpu/conv_gemm_flat.h reads the padded image in place).
  template <class BRow>
  static inline void multiply(int64_t p0, int64_t p1, const float* __restrict a, BRow brow,
                              V (&acc)[MR][kNV]) {
    for (int64_t p = p0; p < p1; ++p) {
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
  }

  // C (row stride ldc, columns contiguous) = alpha * A B + beta * C; beta == 0 never reads C
  // (so NaN garbage in an uninitialised output does not leak through 0 * NaN).
  static void run(int64_t kc, const float* __restrict a, const float* __restrict b,
                  float* __restrict c, int64_t ldc, float alpha, float beta) {
    run_rows(kc, a, [b](int64_t p) { return b + p * NR; }, c, ldc, alpha, beta);
  }

  // The same with B's row p at brow(p) instead of a packed sliver.
  template <class BRow>
  static inline void run_rows(int64_t kc, const float* __restrict a, BRow brow,
                              float* __restrict c, int64_t ldc, float alpha, float beta) {
    V acc[MR][kNV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < kNV; ++j) acc[i][j] = V{};
    // The C tile is touched only after the k loop, and C is usually far larger than the
    // caches: its lines are fetched kPrefetchAhead steps before the end, late enough that the
    // A sliver streaming through L1 does not evict them again, early enough to hide the miss.
    const int64_t tail = kc < kPrefetchAhead ? kc : kPrefetchAhead;
    multiply(0, kc - tail, a, brow, acc);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NR; j += 16) __builtin_prefetch(c + i * ldc + j, 1, 3);
    multiply(kc - tail, kc, a, brow, acc);
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
