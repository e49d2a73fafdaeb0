#include "cpu/softmax_columns.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vmath.h"
#include "kernels/softmax.h"

namespace engine {
namespace cpu {
namespace {

// Positions per block: the per-position buffers below stay in L1.
constexpr int64_t kColumns = 256;

// f(off, w): the block of w positions whose class 0 starts at element `off` (class c at
// off + c * inner), over every (outer, block) pair, in parallel when the tensor is large.
template <typename F>
void for_each_block(int64_t outer, int64_t n, int64_t inner, F f) {
  const int64_t per_outer = (inner + kColumns - 1) / kColumns;
  const int64_t tasks = outer * per_outer;
#pragma omp parallel for schedule(static) if (outer * n * inner >= kParallelThreshold)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / per_outer, j0 = (t % per_outer) * kColumns;
    f(o * n * inner + j0, o * inner + j0, std::min(kColumns, inner - j0));
  }
}

// mx[j] = max over classes at position j (the comparison of kernels::row_max).
void column_max(const float* x, int64_t n, int64_t inner, int64_t w, float* mx) {
  for (int64_t j = 0; j < w; ++j) mx[j] = x[j];
  for (int64_t c = 1; c < n; ++c) {
    const float* xc = x + c * inner;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) mx[j] = xc[j] > mx[j] ? xc[j] : mx[j];
  }
}

// sum[j] = sum over classes of exp(x - mx[j]) (in double); each class's exps are written to
// out + c * inner when out is not null.
void column_sum_exp(const float* x, int64_t n, int64_t inner, int64_t w, const float* mx,
                    float* out, double* sum) {
  float e[kColumns];
  for (int64_t j = 0; j < w; ++j) sum[j] = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    const float* xc = x + c * inner;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) e[j] = xc[j] - mx[j];
    float* ec = out != nullptr ? out + c * inner : e;
    exp_array(e, ec, w);
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) sum[j] += ec[j];
  }
}

}  // namespace

void softmax_forward_columns(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                             bool log) {
  for_each_block(outer, n, inner, [=](int64_t off, int64_t, int64_t w) {
    float mx[kColumns];
    double sum[kColumns];
    column_max(x + off, n, inner, w, mx);
    column_sum_exp(x + off, n, inner, w, mx, log ? nullptr : y + off, sum);
    if (log) {
      float ls[kColumns];
      for (int64_t j = 0; j < w; ++j) ls[j] = kernels::log_of_sum(sum[j]);
      for (int64_t c = 0; c < n; ++c) {
        const float* xc = x + off + c * inner;
        float* yc = y + off + c * inner;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) yc[j] = (xc[j] - mx[j]) - ls[j];
      }
      return;
    }
    float s[kColumns];
    for (int64_t j = 0; j < w; ++j) s[j] = static_cast<float>(sum[j]);
    for (int64_t c = 0; c < n; ++c) {
      float* yc = y + off + c * inner;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) yc[j] /= s[j];
    }
  });
}

void softmax_backward_columns(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                              int64_t inner, bool log) {
  for_each_block(outer, n, inner, [=](int64_t off, int64_t, int64_t w) {
    // log: dx = dy - exp(y) * sum(dy); else dx = y * (dy - sum(dy * y))
    float acc[kColumns];
    for (int64_t j = 0; j < w; ++j) acc[j] = 0.0f;
    for (int64_t c = 0; c < n; ++c) {
      const float* yc = y + off + c * inner;
      const float* dyc = dy + off + c * inner;
      if (log) {
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) acc[j] += dyc[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) acc[j] += dyc[j] * yc[j];
      }
    }
    for (int64_t c = 0; c < n; ++c) {
      const float* yc = y + off + c * inner;
      const float* dyc = dy + off + c * inner;
      float* dxc = dx + off + c * inner;
      if (log) {
        exp_array(yc, dxc, w);
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) dxc[j] = dyc[j] - dxc[j] * acc[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) dxc[j] = yc[j] * (dyc[j] - acc[j]);
      }
    }
  });
}

void cross_entropy_forward_columns(const float* x, const int32_t* label, float* loss, int64_t outer,
                                   int64_t n, int64_t inner, float smooth) {
  for_each_block(outer, n, inner, [=](int64_t off, int64_t pos, int64_t w) {
    float mx[kColumns], total[kColumns];
    double sum[kColumns];
    column_max(x + off, n, inner, w, mx);
    column_sum_exp(x + off, n, inner, w, mx, nullptr, sum);
    for (int64_t j = 0; j < w; ++j) total[j] = 0.0f;
    if (smooth != 0.0f) {
      for (int64_t c = 0; c < n; ++c) {
        const float* xc = x + off + c * inner;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) total[j] += xc[j];
      }
    }
    for (int64_t j = 0; j < w; ++j) {
      const float x_label = x[off + label[pos + j] * inner + j];
      loss[pos + j] = kernels::cross_entropy_from(kernels::log_of_sum(sum[j]), mx[j], x_label,
                                                  total[j], n, smooth);
    }
  });
}

void cross_entropy_backward_columns(const float* x, const int32_t* label, const float* dloss,
                                    float* dx, int64_t outer, int64_t n, int64_t inner,
                                    float smooth) {
  for_each_block(outer, n, inner, [=](int64_t off, int64_t pos, int64_t w) {
    // dx = g * (softmax(x) - target): exp(x - max) into dx first, then scaled
    float mx[kColumns], scale[kColumns], uniform[kColumns];
    double sum[kColumns];
    column_max(x + off, n, inner, w, mx);
    column_sum_exp(x + off, n, inner, w, mx, dx + off, sum);
    for (int64_t j = 0; j < w; ++j) {
      const float g = dloss[pos + j];
      scale[j] = static_cast<float>(g / sum[j]);
      uniform[j] = g * smooth / static_cast<float>(n);
    }
    for (int64_t c = 0; c < n; ++c) {
      float* dxc = dx + off + c * inner;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) dxc[j] = dxc[j] * scale[j] - uniform[j];
    }
    for (int64_t j = 0; j < w; ++j) {
      dx[off + label[pos + j] * inner + j] -= dloss[pos + j] * (1.0f - smooth);
    }
  });
}

}  // namespace cpu
}  // namespace engine
