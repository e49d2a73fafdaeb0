#include "cpu/half.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "cpu/parallel.h"

namespace engine {
namespace cpu {
namespace {

constexpr int64_t kBlock = 4096;  // elements per OpenMP work item (a multiple of 8 lanes)

// The conversions live in functions compiled for F16C; the OpenMP loops below only call them,
// so the rest of the file needs no special target flags.
__attribute__((target("avx,f16c"))) void to_half_block(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  if (i < n) {  // the tail through one padded lane group
    float in[8] = {0};
    uint16_t out[8];
    std::memcpy(in, x + i, sizeof(float) * (n - i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in), _MM_FROUND_TO_NEAREST_INT));
    std::memcpy(y + i, out, sizeof(uint16_t) * (n - i));
  }
}

__attribute__((target("avx,f16c"))) void to_float_block(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
  }
  if (i < n) {
    uint16_t in[8] = {0};
    float out[8];
    std::memcpy(in, x + i, sizeof(uint16_t) * (n - i));
    _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
    std::memcpy(y + i, out, sizeof(float) * (n - i));
  }
}

}  // namespace

bool has_f16c() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}

void float_to_half_cpu(const float* x, uint16_t* y, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t start = b * kBlock;
    to_half_block(x + start, y + start, (n - start < kBlock) ? n - start : kBlock);
  }
}

void half_to_float_cpu(const uint16_t* x, float* y, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t start = b * kBlock;
    to_float_block(x + start, y + start, (n - start < kBlock) ? n - start : kBlock);
  }
}

}  // namespace cpu
}  // namespace engine
