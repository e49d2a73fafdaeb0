// The portable vmath loops (kernels/vmath.h's scalar exp/log, vectorised by the compiler for the
// baseline ISA) and the run-time dispatch to the AVX-512 / AVX2 files.
#include "cpu/vmath.h"

#include <cmath>

#include "common/cpu_isa.h"
#include "kernels/vmath.h"

namespace engine {
namespace cpu {

namespace portable {

namespace vm = kernels::vmath;

void exp_array(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = vm::exp(x[i]);
}

void log_array(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = vm::log(x[i]);
}

// Every term added in double, as in the SIMD versions.
double exp_shift_sum(const float* x, float* y, int64_t n, float shift) {
  double s = 0.0;
  if (y == nullptr) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += vm::exp(x[i] - shift);
    return s;
  }
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const float e = vm::exp(x[i] - shift);
    y[i] = e;
    s += e;
  }
  return s;
}

void sigmoid_array(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float e = vm::exp(-std::fabs(x[i]));
    y[i] = vm::select(x[i] >= 0.0f, 1.0f, e) / (1.0f + e);
  }
}

}  // namespace portable

#if defined(__x86_64__) || defined(_M_X64)
#define ENGINE_VMATH_DISPATCH(call) \
  switch (cpu_isa()) {              \
    case Isa::kAvx512:              \
      return avx512::call;          \
    case Isa::kAvx2:                \
      return avx2::call;            \
    default:                        \
      return portable::call;        \
  }
#else
#define ENGINE_VMATH_DISPATCH(call) return portable::call;
#endif

void exp_array(const float* x, float* y, int64_t n) { ENGINE_VMATH_DISPATCH(exp_array(x, y, n)) }
void log_array(const float* x, float* y, int64_t n) { ENGINE_VMATH_DISPATCH(log_array(x, y, n)) }
double exp_shift_sum(const float* x, float* y, int64_t n, float shift) {
  ENGINE_VMATH_DISPATCH(exp_shift_sum(x, y, n, shift))
}
void sigmoid_array(const float* x, float* y, int64_t n) {
  ENGINE_VMATH_DISPATCH(sigmoid_array(x, y, n))
}

}  // namespace cpu
}  // namespace engine
