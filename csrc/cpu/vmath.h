// Vectorised float32 exp / log and the loops built on them (softmax rows, sigmoid, focal loss),
// over contiguous arrays on the calling thread (callers split the work across threads). Each
// function dispatches once per call on cpu_isa(): the AVX-512 and AVX2 versions live in
// vmath_avx512.cpp / vmath_avx2.cpp, the portable one runs kernels/vmath.h's scalar algorithm,
// which all three share (same reduction, same polynomial), so results agree within an ulp.
#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

// y[i] = exp(x[i]); y may be x.
void exp_array(const float* x, float* y, int64_t n);
// y[i] = log(x[i]); y may be x.
void log_array(const float* x, float* y, int64_t n);
// y[i] = exp(x[i] - shift) (y null: not stored); returns the sum of those values, added in
// double: it rounds about once whatever the length or the lane order, and with shift = max the
// sum is 1 + the other terms, so log1p(sum - 1) keeps the precision of a confident row.
double exp_shift_sum(const float* x, float* y, int64_t n, float shift);
// y[i] = 1 / (1 + exp(-x[i])), as e / (1 + e) with e = exp(-|x|) so that neither exp overflows
// nor tiny results flush to 0; y may be x.
void sigmoid_array(const float* x, float* y, int64_t n);

// The per-ISA versions behind the functions above (defined only where the ISA can be compiled).
#define ENGINE_VMATH_DECLARE(ns)                                          \
  namespace ns {                                                          \
  void exp_array(const float* x, float* y, int64_t n);                    \
  void log_array(const float* x, float* y, int64_t n);                    \
  double exp_shift_sum(const float* x, float* y, int64_t n, float shift); \
  void sigmoid_array(const float* x, float* y, int64_t n);                \
  }
ENGINE_VMATH_DECLARE(portable)
ENGINE_VMATH_DECLARE(avx2)
ENGINE_VMATH_DECLARE(avx512)
#undef ENGINE_VMATH_DECLARE

}  // namespace cpu
}  // namespace engine
