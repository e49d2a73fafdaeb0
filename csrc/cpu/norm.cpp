// Batch, group and layer norm on the CPU: two-pass statistics (mean, then the centred sum of
// squares, so a large mean does not cancel the variance away), parallel over the independent
// sets (channels for batch norm, (sample, group) rows for group/layer norm), contiguous inner
// loops vectorised with `omp simd` reductions.
#include "kernels/norm.h"

#include "kernels/activation.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/poolnorm.h"

namespace engine {
namespace cpu {
namespace {

// Sums run in float over blocks of this many elements (vectorised), blocks add up in double:
// float rounding error stays that of a 1024-term sum however large the set is.
constexpr int64_t kBlock = 1024;

double sum_of(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    float part = 0.0f;
#pragma omp simd reduction(+ : part)
    for (int64_t i = i0; i < i1; ++i) part += x[i];
    total += part;
  }
  return total;
}

// sum((x - mean)^2)
double centred_sum_sq(const float* x, int64_t n, float mean) {
  double total = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    float part = 0.0f;
#pragma omp simd reduction(+ : part)
    for (int64_t i = i0; i < i1; ++i) part += (x[i] - mean) * (x[i] - mean);
    total += part;
  }
  return total;
}

// The gradient a normalisation backward reads at i: dy itself, or, after a fused ReLU whose
// output is z, relu_backward(dy, z) (one select, so the loops below keep their shape and their
// sums the same order).
struct PlainGrad {
  const float* dy;
  float operator()(int64_t i) const { return dy[i]; }
  PlainGrad at(int64_t off) const { return {dy + off}; }
};
struct ReluGrad {
  const float* dy;
  const float* z;
  float operator()(int64_t i) const { return kernels::relu_backward(dy[i], z[i]); }
  ReluGrad at(int64_t off) const { return {dy + off, z + off}; }
};

// sum(dy) and sum(dy * (x - mean)): the two reductions of every normalisation backward.
template <typename Grad>
void grad_sums(const float* x, Grad dy, int64_t n, float mean, double* sum_dy,
               double* sum_dy_xc) {
  double a = 0.0, b = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    float pa = 0.0f, pb = 0.0f;
#pragma omp simd reduction(+ : pa, pb)
    for (int64_t i = i0; i < i1; ++i) {
      const float g = dy(i);
      pa += g;
      pb += g * (x[i] - mean);
    }
    a += pa;
    b += pb;
  }
  *sum_dy += a;
  *sum_dy_xc += b;
}

// y = (x - mean) * rstd * w + b over a contiguous run that shares one channel (relu(y) with
// kRelu).
template <bool kRelu>
void normalise_run(const float* x, float* y, int64_t n, float mean, float rstd, float w, float b) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = kernels::norm_forward(x[i], mean, rstd, w, b);
    y[i] = kRelu ? kernels::relu_forward(v) : v;
  }
}

// dx over a contiguous run that shares one channel weight w (g = dy * w).
template <typename Grad>
void input_grad_run(const float* x, Grad dy, float* dx, int64_t n, float w, float mean,
                    float rstd, float mean_g, float mean_gxc) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = kernels::norm_input_grad(dy(i) * w, x[i], mean, rstd, mean_g, mean_gxc);
  }
}

}  // namespace

void batch_norm_forward_cpu(const float* x, const float* w, const float* b, float* y, float* mean,
                            float* var, int64_t n, int64_t c, int64_t s, float eps, bool relu) {
  const int64_t m = n * s;  // elements per channel
#pragma omp parallel for schedule(static) if (c > 1 && n * c * s >= kParallelThreshold)
  for (int64_t ch = 0; ch < c; ++ch) {
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) total += sum_of(x + (i * c + ch) * s, s);
    const float mu = m > 0 ? static_cast<float>(total / m) : 0.0f;
    double sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sq += centred_sum_sq(x + (i * c + ch) * s, s, mu);
    const float v = m > 0 ? static_cast<float>(sq / m) : 0.0f;
    mean[ch] = mu;
    var[ch] = v;
    const float rstd = kernels::norm_rstd(v, eps);
    const float wc = w ? w[ch] : 1.0f, bc = b ? b[ch] : 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = (i * c + ch) * s;
      if (relu)
        normalise_run<true>(x + off, y + off, s, mu, rstd, wc, bc);
      else
        normalise_run<false>(x + off, y + off, s, mu, rstd, wc, bc);
    }
  }
}

namespace {

template <typename Grad>
void batch_norm_backward_loops(const float* x, Grad grad_at, const float* mean, const float* var,
                               const float* w, float eps, float* dx, float* dw, float* db,
                               int64_t n, int64_t c, int64_t s) {
  const int64_t m = n * s;
#pragma omp parallel for schedule(static) if (c > 1 && n * c * s >= kParallelThreshold)
  for (int64_t ch = 0; ch < c; ++ch) {
    const float mu = mean[ch], rstd = kernels::norm_rstd(var[ch], eps);
    double sum_dy = 0.0, sum_dy_xc = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = (i * c + ch) * s;
      grad_sums(x + off, grad_at.at(off), s, mu, &sum_dy, &sum_dy_xc);
    }
    dw[ch] = static_cast<float>(sum_dy_xc * rstd);
    db[ch] = static_cast<float>(sum_dy);
    if (dx == nullptr || m == 0) continue;
    const float wc = w ? w[ch] : 1.0f;
    // g = dy * wc, so mean(g) and mean(g * (x - mean)) are the sums above times wc / m.
    const float mean_g = static_cast<float>(sum_dy * wc / m);
    const float mean_gxc = static_cast<float>(sum_dy_xc * wc / m);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t off = (i * c + ch) * s;
      input_grad_run(x + off, grad_at.at(off), dx + off, s, wc, mu, rstd, mean_g, mean_gxc);
    }
  }
}

}  // namespace

void batch_norm_backward_cpu(const float* x, const float* dy, const float* mean, const float* var,
                             const float* w, float eps, float* dx, float* dw, float* db, int64_t n,
                             int64_t c, int64_t s, const float* relu_out) {
  if (relu_out != nullptr)
    batch_norm_backward_loops(x, ReluGrad{dy, relu_out}, mean, var, w, eps, dx, dw, db, n, c, s);
  else
    batch_norm_backward_loops(x, PlainGrad{dy}, mean, var, w, eps, dx, dw, db, n, c, s);
}

void group_norm_forward_cpu(const float* x, const float* w, const float* b, float* y, float* mean,
                            float* var, int64_t n, int64_t groups, int64_t cg, int64_t s,
                            float eps) {
  const int64_t rows = n * groups, m = cg * s;  // a row: one (sample, group), m contiguous
#pragma omp parallel for schedule(static) if (rows > 1 && rows * m >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * m;
    float* yr = y + r * m;
    const float mu = m > 0 ? static_cast<float>(sum_of(xr, m) / m) : 0.0f;
    const float v = m > 0 ? static_cast<float>(centred_sum_sq(xr, m, mu) / m) : 0.0f;
    mean[r] = mu;
    var[r] = v;
    const float rstd = kernels::norm_rstd(v, eps);
    const int64_t ch0 = (r % groups) * cg;
    if (s == 1 && w != nullptr) {  // layer norm: the affine varies along the row
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        yr[j] = kernels::norm_forward(xr[j], mu, rstd, w[ch0 + j], b ? b[ch0 + j] : 0.0f);
      }
      continue;
    }
    for (int64_t k = 0; k < cg; ++k) {
      const float wc = w ? w[ch0 + k] : 1.0f, bc = b ? b[ch0 + k] : 0.0f;
      normalise_run<false>(xr + k * s, yr + k * s, s, mu, rstd, wc, bc);
    }
  }
}

namespace {

// Layer norm (s = 1): the affine varies along each row, so the row loop is the vectorised one,
// and dw, db are column sums, done by a second pass over column blocks (no per-row buffers).
void layer_norm_backward(const float* x, const float* dy, const float* mean, const float* var,
                         const float* w, float eps, float* dx, float* dw, float* db, int64_t rows,
                         int64_t m) {
  const bool parallel = rows * m >= kParallelThreshold;
  if (dx != nullptr && m > 0) {
#pragma omp parallel for schedule(static) if (rows > 1 && parallel)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * m;
      const float* dyr = dy + r * m;
      const float mu = mean[r], rstd = kernels::norm_rstd(var[r], eps);
      float row_g = 0.0f, row_gxc = 0.0f;
#pragma omp simd reduction(+ : row_g, row_gxc)
      for (int64_t j = 0; j < m; ++j) {
        const float g = w ? dyr[j] * w[j] : dyr[j];
        row_g += g;
        row_gxc += g * (xr[j] - mu);
      }
      const float mean_g = row_g / m, mean_gxc = row_gxc / m;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        const float g = w ? dyr[j] * w[j] : dyr[j];
        dx[r * m + j] = kernels::norm_input_grad(g, xr[j], mu, rstd, mean_g, mean_gxc);
      }
    }
  }
  if (dw == nullptr && db == nullptr) return;
  constexpr int64_t kCols = 256;
  const int64_t blocks = (m + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) if (blocks > 1 && parallel)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t j0 = blk * kCols, j1 = std::min(m, j0 + kCols);
    double tw[kCols] = {0.0}, tb[kCols] = {0.0};
    for (int64_t r = 0; r < rows; ++r) {
      const float mu = mean[r], rstd = kernels::norm_rstd(var[r], eps);
      const float* xr = x + r * m;
      const float* dyr = dy + r * m;
      for (int64_t j = j0; j < j1; ++j) {
        tw[j - j0] += dyr[j] * (xr[j] - mu) * rstd;
        tb[j - j0] += dyr[j];
      }
    }
    for (int64_t j = j0; j < j1; ++j) {
      if (dw) dw[j] = static_cast<float>(tw[j - j0]);
      if (db) db[j] = static_cast<float>(tb[j - j0]);
    }
  }
}

}  // namespace

void group_norm_backward_cpu(const float* x, const float* dy, const float* mean, const float* var,
                             const float* w, float eps, float* dx, float* dw, float* db, int64_t n,
                             int64_t groups, int64_t cg, int64_t s) {
  const int64_t rows = n * groups, m = cg * s, c = groups * cg;
  if (s == 1 && groups == 1) {
    layer_norm_backward(x, dy, mean, var, w, eps, dx, dw, db, n, m);
    return;
  }
  // Per (sample, channel) sums of dy and dy * (x - mean), (n, c) each: they give the row sums
  // of the input gradient and, summed over samples, dw and db.
  std::vector<double> sum_dy(n * c, 0.0), sum_dy_xc(n * c, 0.0);
  const bool parallel = rows * m >= kParallelThreshold;
#pragma omp parallel for schedule(static) if (rows > 1 && parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const float mu = mean[r], rstd = kernels::norm_rstd(var[r], eps);
    const int64_t sample = r / groups, ch0 = (r % groups) * cg;
    double* a = sum_dy.data() + sample * c + ch0;
    double* bsum = sum_dy_xc.data() + sample * c + ch0;
    double row_g = 0.0, row_gxc = 0.0;
    for (int64_t k = 0; k < cg; ++k) {
      grad_sums(x + r * m + k * s, PlainGrad{dy + r * m + k * s}, s, mu, &a[k], &bsum[k]);
      const double wk = w ? w[ch0 + k] : 1.0;
      row_g += wk * a[k];
      row_gxc += wk * bsum[k];
    }
    for (int64_t k = 0; k < cg; ++k) bsum[k] *= rstd;  // now sum(dy * xhat)
    if (dx == nullptr || m == 0) continue;
    const float mean_g = static_cast<float>(row_g / m), mean_gxc = static_cast<float>(row_gxc / m);
    for (int64_t k = 0; k < cg; ++k) {
      const float wk = w ? w[ch0 + k] : 1.0f;
      input_grad_run(x + r * m + k * s, PlainGrad{dy + r * m + k * s}, dx + r * m + k * s, s, wk,
                     mu, rstd, mean_g, mean_gxc);
    }
  }
  if (dw == nullptr && db == nullptr) return;
#pragma omp parallel for schedule(static) if (c > 1 && parallel)
  for (int64_t ch = 0; ch < c; ++ch) {
    double tw = 0.0, tb = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      tw += sum_dy_xc[i * c + ch];
      tb += sum_dy[i * c + ch];
    }
    if (dw) dw[ch] = static_cast<float>(tw);
    if (db) db[ch] = static_cast<float>(tb);
  }
}

}  // namespace cpu
}  // namespace engine
