// AVX2 + FMA versions of the vmath loops: kernels/vmath.h's exp and log on 8 lanes. The tail
// goes through an 8-lane buffer, so every element takes the same vector path.
#include "cpu/vmath.h"

#if defined(__AVX2__)
#include <immintrin.h>

#include <cstring>

#include "kernels/vmath.h"

namespace engine {
namespace cpu {
namespace avx2 {
namespace {

namespace vm = kernels::vmath;

inline __m256 c(float v) { return _mm256_set1_ps(v); }
inline __m256i ci(int32_t v) { return _mm256_set1_epi32(v); }

// 2^k for integer lanes k in [-126, 127].
inline __m256 pow2i(__m256i k) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, ci(127)), 23));
}

inline __m256 exp8(__m256 x) {
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 xc = _mm256_max_ps(_mm256_min_ps(x, c(vm::kExpMax)), c(vm::kExpMin));
  const __m256 t = _mm256_fmadd_ps(xc, c(vm::kLog2e), c(vm::kRoundMagic));
  const __m256i n =
      _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(c(vm::kRoundMagic)));
  const __m256 fn = _mm256_sub_ps(t, c(vm::kRoundMagic));
  __m256 r = _mm256_fnmadd_ps(fn, c(vm::kLn2Hi), xc);
  r = _mm256_fnmadd_ps(fn, c(vm::kLn2Lo), r);
  __m256 p = _mm256_fmadd_ps(c(vm::kExpP0), r, c(vm::kExpP1));
  p = _mm256_fmadd_ps(p, r, c(vm::kExpP2));
  p = _mm256_fmadd_ps(p, r, c(vm::kExpP3));
  p = _mm256_fmadd_ps(p, r, c(vm::kExpP4));
  p = _mm256_fmadd_ps(p, r, c(vm::kExpP5));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), c(1.0f));
  // 2^n in two normal factors (n in [-152, 129]): one rounding, in the last multiply.
  const __m256i n1 = _mm256_srai_epi32(n, 1);
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(_mm256_sub_epi32(n, n1)));
  return _mm256_blendv_ps(y, x, nan);
}

inline __m256 log8(__m256 x) {
  const __m256 denormal = _mm256_and_ps(_mm256_cmp_ps(x, c(1.17549435e-38f), _CMP_LT_OQ),
                                        _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
  const __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, c(33554432.0f)), denormal);
  const __m256i us = _mm256_castps_si256(xs);
  __m256i e = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(us, 23), ci(0xff)), ci(126));
  e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(denormal), ci(25)));
  const __m256 m =
      _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(us, ci(0x007fffff)), ci(0x3f000000)));
  const __m256 small = _mm256_cmp_ps(m, c(vm::kSqrtHalf), _CMP_LT_OQ);
  e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(small), ci(1)));
  const __m256 f = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(m, small)), c(1.0f));
  const __m256 z = _mm256_mul_ps(f, f);
  __m256 q = _mm256_fmadd_ps(c(vm::kLogQ0), f, c(vm::kLogQ1));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ2));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ3));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ4));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ5));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ6));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ7));
  q = _mm256_fmadd_ps(q, f, c(vm::kLogQ8));
  const __m256 fe = _mm256_cvtepi32_ps(e);
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(f, z), q);
  y = _mm256_fmadd_ps(fe, c(vm::kLn2Lo), y);
  y = _mm256_fnmadd_ps(c(0.5f), z, y);
  y = _mm256_add_ps(f, y);
  y = _mm256_fmadd_ps(fe, c(vm::kLn2Hi), y);
  // Special inputs, as in kernels/vmath.h: NaN and +inf pass, +-0 -> -inf, negatives -> NaN.
  const __m256i u = _mm256_castps_si256(x);
  const __m256i mag = _mm256_and_si256(u, ci(0x7fffffff));
  const __m256 negative = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_setzero_si256(), u));
  const __m256 zero = _mm256_castsi256_ps(_mm256_cmpeq_epi32(mag, _mm256_setzero_si256()));
  const __m256 pass = _mm256_castsi256_ps(_mm256_or_si256(_mm256_cmpgt_epi32(mag, ci(0x7f800000)),
                                                          _mm256_cmpeq_epi32(u, ci(0x7f800000))));
  y = _mm256_blendv_ps(y, c(__builtin_nanf("")), negative);
  y = _mm256_blendv_ps(y, c(-__builtin_inff()), zero);
  return _mm256_blendv_ps(y, x, pass);
}

// f over whole vectors, then over the tail copied into a buffer padded with `pad`.
template <typename F>
void map8(const float* x, float* y, int64_t n, float pad, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const int64_t k = n - i;
    alignas(32) float buf[8];
    for (int j = 0; j < 8; ++j) buf[j] = j < k ? x[i + j] : pad;
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    std::memcpy(y + i, buf, sizeof(float) * k);
  }
}

// The sum of v's lanes, which are doubles.
double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

}  // namespace

void exp_array(const float* x, float* y, int64_t n) { map8(x, y, n, 0.0f, exp8); }

void log_array(const float* x, float* y, int64_t n) { map8(x, y, n, 1.0f, log8); }

void sigmoid_array(const float* x, float* y, int64_t n) {
  map8(x, y, n, 0.0f, [](__m256 v) {
    const __m256 abs = _mm256_andnot_ps(c(-0.0f), v);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), abs));
    const __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_div_ps(_mm256_blendv_ps(c(1.0f), e, neg), _mm256_add_ps(c(1.0f), e));
  });
}

double exp_shift_sum(const float* x, float* y, int64_t n, float shift) {
  const __m256 s = c(shift);
  // Every term added in double, as in the AVX-512 version.
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
  const auto add = [](__m256d& lo, __m256d& hi, __m256 e) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s));
    if (y != nullptr) {
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
    }
    add(acc0, acc1, e0);
    add(acc2, acc3, e1);
  }
  for (; i < n; i += 8) {  // through a buffer padded with -inf: exp(-inf - shift) = 0
    const int64_t k = n - i < 8 ? n - i : 8;
    alignas(32) float buf[8];
    for (int j = 0; j < 8; ++j) buf[j] = j < k ? x[i + j] : -__builtin_inff();
    const __m256 e = exp8(_mm256_sub_ps(_mm256_load_ps(buf), s));
    _mm256_store_ps(buf, e);
    if (y != nullptr) std::memcpy(y + i, buf, sizeof(float) * k);
    add(acc0, acc1, e);
  }
  return hsum(_mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3)));
}

}  // namespace avx2
}  // namespace cpu
}  // namespace engine
#endif  // __AVX2__
