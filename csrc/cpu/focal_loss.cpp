// Sigmoid focal loss on the CPU. The transcendental part, e = exp(-|x|) and log1p(e), runs for a
// block at a time through cpu/vmath.h's vectorised exp and log; the rest of the formula
// (kernels/focal_loss.h's *_from functions) is a loop the compiler vectorises for the integer
// gammas (powf only for others).
#include "kernels/focal_loss.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"
#include "cpu/vmath.h"
#include "kernels/vmath.h"

namespace engine {
namespace cpu {
namespace {

constexpr int64_t kBlock = 1024;

// e[i] = exp(-|x[i]|), l[i] = log1p(e[i]) for i < n. log1p by log(u) * e / (u - 1), u = 1 + e
// rounded (Goldberg): exact to a few ulp even where e is far below 1's ulp, where log(1 + e)
// alone would return 0 or keep one digit.
void exp_log1p(const float* x, float* e, float* l, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) e[i] = -std::fabs(x[i]);
  exp_array(e, e, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) l[i] = 1.0f + e[i];
  log_array(l, l, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float d = (1.0f + e[i]) - 1.0f;
    const bool tiny = d == 0.0f;  // bit selects: a ?: around the divide would not vectorise
    const float ratio = e[i] / kernels::vmath::select(tiny, 1.0f, d);
    l[i] = kernels::vmath::select(tiny, e[i], l[i] * ratio);
  }
}

// f(i0, i1, e, l) over blocks of [0, count), in parallel when count is large.
template <typename F>
void blocks(int64_t count, F f) {
  const int64_t nblocks = (count + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (count >= kParallelThreshold)
  for (int64_t b = 0; b < nblocks; ++b) {
    const int64_t i0 = b * kBlock, i1 = std::min(count, i0 + kBlock);
    float e[kBlock], l[kBlock];
    f(i0, i1, e, l);
  }
}

}  // namespace

// The loops run with gamma == 2 (the default) as a literal, so the gamma branches of
// kernels::focal_pow fold away and the loop body is straight-line.
struct GammaTwo {  // a type of its own, so the loop is instantiated with the constant
  constexpr operator float() const { return 2.0f; }
};

template <typename F>
void with_gamma(float gamma, F f) {
  if (gamma == 2.0f) {
    f(GammaTwo{});
  } else {
    f(gamma);
  }
}

void focal_loss_forward_cpu(const float* x, const float* t, float* loss, int64_t count, float alpha,
                            float gamma) {
  with_gamma(gamma, [=](auto g) {
    blocks(count, [=](int64_t i0, int64_t i1, float* e, float* l) {
      exp_log1p(x + i0, e, l, i1 - i0);
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) {
        loss[i] =
            kernels::focal_loss_forward_from(x[i], t[i], e[i - i0], l[i - i0], alpha, float(g));
      }
    });
  });
}

void focal_loss_backward_cpu(const float* x, const float* t, const float* dloss, float* dx,
                             float* dt, int64_t count, float alpha, float gamma) {
  with_gamma(gamma, [=](auto g) {
    blocks(count, [=](int64_t i0, int64_t i1, float* e, float* l) {
      exp_log1p(x + i0, e, l, i1 - i0);
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) {
        kernels::focal_loss_backward_from(x[i], t[i], e[i - i0], l[i - i0], alpha, float(g),
                                          dloss[i], dx + i, dt + i);
      }
    });
  });
}

}  // namespace cpu
}  // namespace engine
