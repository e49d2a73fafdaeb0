// Softmax, log-softmax and fused softmax cross-entropy over one "row": the n values along the
// reduced axis of a contiguous (outer, n, inner) tensor, `stride` (= inner) elements apart.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

// `#pragma omp simd reduction(...)` on the host: lets the compiler vectorise a float sum or max
// (reassociating it), which it may not do on its own.
#define ENGINE_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP) && !defined(__CUDACC__)
#define ENGINE_SIMD_SUM(...) ENGINE_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#define ENGINE_SIMD_MAX(v) ENGINE_PRAGMA(omp simd reduction(max : v))
#else
#define ENGINE_SIMD_SUM(...)
#define ENGINE_SIMD_MAX(v)
#endif

HOST_DEVICE inline float sm_exp(float x) { return expf(x); }
HOST_DEVICE inline float sm_log(float x) { return logf(x); }

template <typename T>
HOST_DEVICE inline T row_max(const T* x, int64_t n, int64_t stride) {
  T m = x[0];
  ENGINE_SIMD_MAX(m)
  for (int64_t c = 1; c < n; ++c) m = x[c * stride] > m ? x[c * stride] : m;
  return m;
}

// sum_c exp(x_c - shift), added in double (as cpu/vmath.h's exp_shift_sum); shift = max keeps
// every term in (0, 1], the max's term being 1.
template <typename T>
HOST_DEVICE inline double row_sum_exp(const T* x, int64_t n, int64_t stride, T shift) {
  double s = 0.0;
  ENGINE_SIMD_SUM(s)
  for (int64_t c = 0; c < n; ++c) s += sm_exp(x[c * stride] - shift);
  return s;
}

// log(sum) for a sum of exp(x - max), as log1p(sum - 1): a row with one dominant logit keeps its
// small log-sum-exp excess instead of rounding it to 0.
HOST_DEVICE inline float log_of_sum(double sum) { return static_cast<float>(log1p(sum - 1.0)); }

// y = softmax(x) or log_softmax(x) along the row.
template <typename T>
HOST_DEVICE inline void softmax_row(const T* x, T* y, int64_t n, int64_t stride, bool log) {
  const T m = row_max(x, n, stride);
  if (log) {
    const T log_sum = log_of_sum(row_sum_exp(x, n, stride, m));
    for (int64_t c = 0; c < n; ++c) y[c * stride] = (x[c * stride] - m) - log_sum;
    return;
  }
  T s = T(0);
  ENGINE_SIMD_SUM(s)
  for (int64_t c = 0; c < n; ++c) {
    const T e = sm_exp(x[c * stride] - m);
    y[c * stride] = e;
    s += e;
  }
  const T inv = T(1) / s;
  for (int64_t c = 0; c < n; ++c) y[c * stride] *= inv;
}

// Softmax backward from its output y: dx = y * (dy - sum(dy * y)).
template <typename T>
HOST_DEVICE inline void softmax_grad_row(const T* y, const T* dy, T* dx, int64_t n,
                                         int64_t stride) {
  T dot = T(0);
  for (int64_t c = 0; c < n; ++c) dot += dy[c * stride] * y[c * stride];
  for (int64_t c = 0; c < n; ++c) dx[c * stride] = y[c * stride] * (dy[c * stride] - dot);
}

// Log-softmax backward from its output y: dx = dy - exp(y) * sum(dy).
template <typename T>
HOST_DEVICE inline void logsoftmax_grad_row(const T* y, const T* dy, T* dx, int64_t n,
                                            int64_t stride) {
  T s = T(0);
  for (int64_t c = 0; c < n; ++c) s += dy[c * stride];
  for (int64_t c = 0; c < n; ++c) dx[c * stride] = dy[c * stride] - sm_exp(y[c * stride]) * s;
}

// lse - (1 - smooth) x_label - smooth mean(x) with lse = max + log_sum, summed so that the
// large terms cancel first: max - x_label is exact (0 when the label is the top class), so a
// confident prediction keeps the full relative precision of log_sum instead of lse's ulp.
template <typename T>
HOST_DEVICE inline T cross_entropy_from(T log_sum, T max, T x_label, T total, int64_t n, T smooth) {
  if (smooth == T(0)) return log_sum + (max - x_label);
  return log_sum + ((max - (T(1) - smooth) * x_label) - smooth * total / T(n));
}

// Cross entropy of logits x against class `label` with label smoothing `smooth`: the target is
// (1 - smooth) * onehot(label) + smooth / n, so with lse = logsumexp(x)
//   loss = lse - (1 - smooth) * x[label] - smooth * mean(x).
template <typename T>
HOST_DEVICE inline T cross_entropy_row(const T* x, int64_t n, int64_t stride, int64_t label,
                                       T smooth) {
  const T m = row_max(x, n, stride);
  double s = 0.0;
  T total = T(0);
  ENGINE_SIMD_SUM(s, total)
  for (int64_t c = 0; c < n; ++c) {
    const T v = x[c * stride];
    s += sm_exp(v - m);
    total += v;
  }
  return cross_entropy_from(log_of_sum(s), m, x[label * stride], total, n, smooth);
}

// d loss / dx = g * (softmax(x) - target), target as in cross_entropy_row.
template <typename T>
HOST_DEVICE inline void cross_entropy_grad_row(const T* x, T* dx, int64_t n, int64_t stride,
                                               int64_t label, T smooth, T g) {
  const T m = row_max(x, n, stride);
  T s = T(0);  // exp(x - m) goes into dx first, so each element needs one exp
  ENGINE_SIMD_SUM(s)
  for (int64_t c = 0; c < n; ++c) {
    const T e = sm_exp(x[c * stride] - m);
    dx[c * stride] = e;
    s += e;
  }
  const T scale = g / s;
  const T uniform = g * smooth / T(n);
  for (int64_t c = 0; c < n; ++c) dx[c * stride] = dx[c * stride] * scale - uniform;
  dx[label * stride] -= g * (T(1) - smooth);
}

}  // namespace kernels
}  // namespace engine
