// AVX-512 versions of the vmath loops: kernels/vmath.h's exp and log on 16 lanes, with masked
// loads and stores for the tail (no scalar remainder loop).
#include "cpu/vmath.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "kernels/vmath.h"

namespace engine {
namespace cpu {
namespace avx512 {
namespace {

namespace vm = kernels::vmath;

inline __m512 c(float v) { return _mm512_set1_ps(v); }

inline __m512 exp16(__m512 x) {
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  __m512 xc = _mm512_max_ps(_mm512_min_ps(x, c(vm::kExpMax)), c(vm::kExpMin));
  const __m512 fn =
      _mm512_sub_ps(_mm512_fmadd_ps(xc, c(vm::kLog2e), c(vm::kRoundMagic)), c(vm::kRoundMagic));
  __m512 r = _mm512_fnmadd_ps(fn, c(vm::kLn2Hi), xc);
  r = _mm512_fnmadd_ps(fn, c(vm::kLn2Lo), r);
  __m512 p = _mm512_fmadd_ps(c(vm::kExpP0), r, c(vm::kExpP1));
  p = _mm512_fmadd_ps(p, r, c(vm::kExpP2));
  p = _mm512_fmadd_ps(p, r, c(vm::kExpP3));
  p = _mm512_fmadd_ps(p, r, c(vm::kExpP4));
  p = _mm512_fmadd_ps(p, r, c(vm::kExpP5));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), c(1.0f));
  // p * 2^fn in one rounding, denormal and overflowing results included.
  const __m512 y = _mm512_scalef_ps(p, fn);
  return _mm512_mask_mov_ps(y, nan, x);
}

inline __m512 log16(__m512 x) {
  const __m512i one_bits = _mm512_set1_epi32(0x3f000000);
  const __mmask16 denormal = _mm512_cmp_ps_mask(x, c(1.17549435e-38f), _CMP_LT_OQ) &
                             _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
  const __m512 xs = _mm512_mask_mul_ps(x, denormal, x, c(33554432.0f));
  const __m512i us = _mm512_castps_si512(xs);
  __m512i e = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(us, 23), _mm512_set1_epi32(0xff)),
                               _mm512_set1_epi32(126));
  e = _mm512_mask_sub_epi32(e, denormal, e, _mm512_set1_epi32(25));
  const __m512 m = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_and_si512(us, _mm512_set1_epi32(0x007fffff)), one_bits));
  const __mmask16 small = _mm512_cmp_ps_mask(m, c(vm::kSqrtHalf), _CMP_LT_OQ);
  e = _mm512_mask_sub_epi32(e, small, e, _mm512_set1_epi32(1));
  const __m512 f = _mm512_sub_ps(_mm512_mask_add_ps(m, small, m, m), c(1.0f));
  const __m512 z = _mm512_mul_ps(f, f);
  __m512 q = _mm512_fmadd_ps(c(vm::kLogQ0), f, c(vm::kLogQ1));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ2));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ3));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ4));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ5));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ6));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ7));
  q = _mm512_fmadd_ps(q, f, c(vm::kLogQ8));
  const __m512 fe = _mm512_cvtepi32_ps(e);
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(f, z), q);
  y = _mm512_fmadd_ps(fe, c(vm::kLn2Lo), y);
  y = _mm512_fnmadd_ps(c(0.5f), z, y);
  y = _mm512_add_ps(f, y);
  y = _mm512_fmadd_ps(fe, c(vm::kLn2Hi), y);
  // Special inputs, as in kernels/vmath.h: NaN and +inf pass, +-0 -> -inf, negatives -> NaN.
  const __m512i u = _mm512_castps_si512(x);
  const __m512i mag = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 negative = _mm512_cmp_epi32_mask(u, _mm512_setzero_si512(), _MM_CMPINT_LT);
  const __mmask16 zero = _mm512_cmp_epi32_mask(mag, _mm512_setzero_si512(), _MM_CMPINT_EQ);
  const __mmask16 pass = _mm512_cmp_epi32_mask(mag, _mm512_set1_epi32(0x7f800000), _MM_CMPINT_GT) |
                         _mm512_cmp_epi32_mask(u, _mm512_set1_epi32(0x7f800000), _MM_CMPINT_EQ);
  y = _mm512_mask_mov_ps(y, negative, c(__builtin_nanf("")));
  y = _mm512_mask_mov_ps(y, zero, c(-__builtin_inff()));
  return _mm512_mask_mov_ps(y, pass, x);
}

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u);
}

template <typename F>
void map(const float* x, float* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, k, f(_mm512_maskz_loadu_ps(k, x + i)));
  }
}

}  // namespace

void exp_array(const float* x, float* y, int64_t n) { map(x, y, n, exp16); }

void log_array(const float* x, float* y, int64_t n) { map(x, y, n, log16); }

void sigmoid_array(const float* x, float* y, int64_t n) {
  map(x, y, n, [](__m512 v) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(v)));
    const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_div_ps(_mm512_mask_mov_ps(c(1.0f), neg, e), _mm512_add_ps(c(1.0f), e));
  });
}

double exp_shift_sum(const float* x, float* y, int64_t n, float shift) {
  const __m512 s = c(shift);
  // Every term added in double: the sum rounds about once whatever the row length or the lane
  // order, and 1 + small terms (a confident row) keeps the small ones for log1p(sum - 1).
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  __m512d acc2 = _mm512_setzero_pd(), acc3 = _mm512_setzero_pd();
  const auto add = [](__m512d& lo, __m512d& hi, __m512 e) {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    const __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s));
    if (y != nullptr) {
      _mm512_storeu_ps(y + i, e0);
      _mm512_storeu_ps(y + i + 16, e1);
    }
    add(acc0, acc1, e0);
    add(acc2, acc3, e1);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512 e =
        _mm512_maskz_mov_ps(k, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), s)));
    if (y != nullptr) _mm512_mask_storeu_ps(y + i, k, e);
    add(acc0, acc1, e);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(acc0, acc1), _mm512_add_pd(acc2, acc3)));
}

}  // namespace avx512
}  // namespace cpu
}  // namespace engine
#endif  // __AVX512F__
