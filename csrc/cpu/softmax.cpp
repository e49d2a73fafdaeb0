#include "kernels/softmax.h"

#include <cmath>
#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/softmax_columns.h"
#include "cpu/vision.h"
#include "cpu/vmath.h"

namespace engine {
namespace cpu {
namespace {

// Contiguous rows (inner == 1, the softmax / cross-entropy over the last axis): the same math as
// kernels/softmax.h, with the exps from cpu/vmath.h's vectorised exp (the functor path calls
// the scalar expf once per element, which dominated the fused cross-entropy).

float row_sum(const float* x, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < n; ++c) s += x[c];
  return s;
}

void softmax_row_contiguous(const float* x, float* y, int64_t n, bool log) {
  const float m = kernels::row_max(x, n, 1);
  if (log) {
    const float log_sum = kernels::log_of_sum(exp_shift_sum(x, nullptr, n, m));
#pragma omp simd
    for (int64_t c = 0; c < n; ++c) y[c] = (x[c] - m) - log_sum;  // the large terms cancel first
    return;
  }
  const float sum = static_cast<float>(exp_shift_sum(x, y, n, m));
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) y[c] /= sum;  // a divide: one rounding, not two
}

// dx = dy - exp(y) * sum(dy), exp(y) computed into dx first.
void logsoftmax_grad_row_contiguous(const float* y, const float* dy, float* dx, int64_t n) {
  const float s = row_sum(dy, n);
  exp_array(y, dx, n);
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) dx[c] = dy[c] - dx[c] * s;
}

float cross_entropy_row_contiguous(const float* x, int64_t n, int64_t label, float smooth) {
  const float m = kernels::row_max(x, n, 1);
  const float log_sum = kernels::log_of_sum(exp_shift_sum(x, nullptr, n, m));
  const float total = smooth != 0.0f ? row_sum(x, n) : 0.0f;
  return kernels::cross_entropy_from(log_sum, m, x[label], total, n, smooth);
}

void cross_entropy_grad_row_contiguous(const float* x, float* dx, int64_t n, int64_t label,
                                       float smooth, float g) {
  const float m = kernels::row_max(x, n, 1);
  const float scale = static_cast<float>(g / exp_shift_sum(x, dx, n, m));
  const float uniform = g * smooth / static_cast<float>(n);
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) dx[c] = dx[c] * scale - uniform;
  dx[label] -= g * (1.0f - smooth);
}

}  // namespace

// inner == 1: one row = the n contiguous values of a position, rows split across threads.
// inner > 1: blocks of neighbouring positions walked class by class (cpu/softmax_columns.cpp).
template <typename F>
void for_each_row(int64_t rows, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) f(r, r * n);
}

void softmax_forward_cpu(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                         bool log) {
  if (inner != 1) return softmax_forward_columns(x, y, outer, n, inner, log);
  for_each_row(outer, n,
               [=](int64_t, int64_t base) { softmax_row_contiguous(x + base, y + base, n, log); });
}

void softmax_backward_cpu(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                          int64_t inner, bool log) {
  if (inner != 1) return softmax_backward_columns(y, dy, dx, outer, n, inner, log);
  for_each_row(outer, n, [=](int64_t, int64_t base) {
    if (log) {
      logsoftmax_grad_row_contiguous(y + base, dy + base, dx + base, n);
    } else {
      kernels::softmax_grad_row(y + base, dy + base, dx + base, n, int64_t(1));
    }
  });
}

void cross_entropy_forward_cpu(const float* x, const int32_t* label, float* loss, int64_t outer,
                               int64_t n, int64_t inner, float smooth) {
  if (inner != 1) return cross_entropy_forward_columns(x, label, loss, outer, n, inner, smooth);
  for_each_row(outer, n, [=](int64_t r, int64_t base) {
    loss[r] = cross_entropy_row_contiguous(x + base, n, label[r], smooth);
  });
}

void cross_entropy_backward_cpu(const float* x, const int32_t* label, const float* dloss, float* dx,
                                int64_t outer, int64_t n, int64_t inner, float smooth) {
  if (inner != 1) {
    return cross_entropy_backward_columns(x, label, dloss, dx, outer, n, inner, smooth);
  }
  for_each_row(outer, n, [=](int64_t r, int64_t base) {
    cross_entropy_grad_row_contiguous(x + base, dx + base, n, label[r], smooth, dloss[r]);
  });
}

}  // namespace cpu
}  // namespace engine
