// float32 exp and log by range reduction and a polynomial (Cephes' expf/logf coefficients), in a
// form that vectorises: no table, no branch, integer work done on the float's bits. The SIMD
// paths (cpu/vmath_avx512.cpp, cpu/vmath_avx2.cpp) run the same steps on vectors with the same
// constants; these scalar versions are the portable path and the reference the tests hold the
// SIMD ones to. Accuracy: within 2 ulp of the correctly rounded result on the whole float range,
// denormal results included; exp(+inf) = inf, exp(-inf) = 0, log(0) = -inf, log(x < 0) = NaN,
// NaN in gives NaN out.
#pragma once

#include <cstdint>
#include <cstring>


namespace engine {
namespace kernels {
namespace vmath {

// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]. ln2 is split in
// two (kLn2Hi has 9 significant bits, so n * kLn2Hi is exact) to keep r accurate.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
// Inputs are clamped here first: exp(kExpMax) overflows to inf and exp(kExpMin) underflows to 0,
// and in between n stays within [-152, 129], which the two-factor scaling below handles.
constexpr float kExpMax = 89.0f;
constexpr float kExpMin = -105.0f;
// exp(r) = 1 + r + r^2 (p0 r^5 + p1 r^4 + ... + p5)
constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f, kExpP2 = 8.3334519073e-3f,
                kExpP3 = 4.1665795894e-2f, kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;
// Adding 1.5 * 2^23 rounds a float of magnitude < 2^22 to an integer (round to nearest even),
// which then sits in the low mantissa bits.
constexpr float kRoundMagic = 12582912.0f;

// log(x) = e ln2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(1 + f), f = m - 1, is
// f - f^2/2 + f^3 (q0 f^8 + ... + q8).
constexpr float kSqrtHalf = 0.707106781186547524f;
constexpr float kLogQ0 = 7.0376836292e-2f, kLogQ1 = -1.1514610310e-1f, kLogQ2 = 1.1676998740e-1f,
                kLogQ3 = -1.2420140846e-1f, kLogQ4 = 1.4249322787e-1f, kLogQ5 = -1.6668057665e-1f,
                kLogQ6 = 2.0000714765e-1f, kLogQ7 = -2.4999993993e-1f, kLogQ8 = 3.3333331174e-1f;

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// cond ? a : b on the bits. A plain ?: on a constant (the clamps below) lets the compiler fold the
// whole function for the clamped case into a separate branch, and then the loop over it does not
// vectorise; the bit select keeps it straight-line.
inline float select(bool cond, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(cond);
  return bits_to_float((float_to_bits(a) & m) | (float_to_bits(b) & ~m));
}

// 2^k for an integer k in [-126, 127], built from its exponent bits.
inline float pow2i(int32_t k) { return bits_to_float(static_cast<uint32_t>(k + 127) << 23); }

inline float exp(float x) {
  const float xc = select(x < kExpMin, kExpMin, select(x > kExpMax, kExpMax, x));
  const float t = xc * kLog2e + kRoundMagic;
  const int32_t n = static_cast<int32_t>(float_to_bits(t) - float_to_bits(kRoundMagic));
  const float fn = t - kRoundMagic;
  float r = xc - fn * kLn2Hi;
  r = r - fn * kLn2Lo;
  float p = kExpP0;
  p = p * r + kExpP1;
  p = p * r + kExpP2;
  p = p * r + kExpP3;
  p = p * r + kExpP4;
  p = p * r + kExpP5;
  p = p * (r * r) + r + 1.0f;
  // 2^n in two factors, each a normal float for n in [-152, 129]: results that are denormal (or
  // overflow) round once, in the last multiply.
  const int32_t n1 = n >> 1;
  const float y = p * pow2i(n1) * pow2i(n - n1);
  return select(x != x, x, y);
}

inline float log(float x) {
  const uint32_t u = float_to_bits(x);
  // Denormals: scale by 2^25 first so the exponent extraction below sees a normal float.
  const bool denormal = (x < 1.17549435e-38f) & (x > 0.0f);
  const uint32_t us = float_to_bits(select(denormal, x * 33554432.0f, x));
  // xs = m 2^e, m in [0.5, 1)
  int32_t e = static_cast<int32_t>((us >> 23) & 0xff) - 126 - 25 * static_cast<int32_t>(denormal);
  const float m = bits_to_float((us & 0x007fffffu) | 0x3f000000u);
  const bool small = m < kSqrtHalf;  // move m into [sqrt(1/2), sqrt(2))
  e -= static_cast<int32_t>(small);
  const float f = select(small, m + m, m) - 1.0f;
  const float z = f * f;
  float q = kLogQ0;
  q = q * f + kLogQ1;
  q = q * f + kLogQ2;
  q = q * f + kLogQ3;
  q = q * f + kLogQ4;
  q = q * f + kLogQ5;
  q = q * f + kLogQ6;
  q = q * f + kLogQ7;
  q = q * f + kLogQ8;
  const float fe = static_cast<float>(e);
  float y = f * z * q;
  y = y + fe * kLn2Lo;
  y = y - 0.5f * z;
  y = f + y;
  y = y + fe * kLn2Hi;
  // Special inputs, by their bits: NaN and +inf pass through, +-0 gives -inf, negatives NaN.
  const uint32_t mag = u & 0x7fffffffu;
  y = select((u >> 31) != 0, bits_to_float(0x7fc00000u), y);
  y = select(mag == 0, bits_to_float(0xff800000u), y);
  return select((mag > 0x7f800000u) | (u == 0x7f800000u), x, y);
}

}  // namespace vmath
}  // namespace kernels
}  // namespace engine
