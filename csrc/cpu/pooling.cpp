// 2-D max and average pooling on the CPU: OpenMP over the N * C planes, so that every thread
// writes its own planes (the backward scatters need no atomics).
#include "kernels/pooling.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu/parallel.h"
#include "cpu/poolnorm.h"

namespace engine {
namespace cpu {
namespace {

// Work of one call, in window elements visited: decides whether a thread team is worth waking.
bool worth_parallel(const Pool2dGeometry& g) {
  return g.planes > 1 && g.planes * g.oh * g.ow * g.kh * g.kw >= kParallelThreshold;
}

kernels::Window window_h(const Pool2dGeometry& g, int64_t oy) {
  return kernels::pool_window(oy, g.ih, g.kh, g.sh, g.ph);
}

kernels::Window window_w(const Pool2dGeometry& g, int64_t ox) {
  return kernels::pool_window(ox, g.iw, g.kw, g.sw, g.pw);
}

// Output columns [lo, hi) whose window holds kernel column kx inside the input:
// 0 <= ox * sw - pw + kx < iw.
struct ColumnRange {
  int64_t lo, hi;
};

ColumnRange column_range(const Pool2dGeometry& g, int64_t kx) {
  const int64_t first = g.pw - kx;  // ox * sw >= first
  const int64_t lo = first > 0 ? (first + g.sw - 1) / g.sw : 0;
  const int64_t last = g.iw - 1 + g.pw - kx;  // ox * sw <= last
  const int64_t hi = last < 0 ? 0 : std::min(g.ow, last / g.sw + 1);
  return {std::min(lo, hi), hi};
}

}  // namespace

// Window rows and columns are visited per (input row, kernel column) across a whole output row,
// so the inner loop runs over output columns without branches (selects, vectorisable), and each
// window still sees its elements in row-major order: the first maximum wins, as in PyTorch.
void max_pool2d_forward_cpu(const float* x, float* y, int32_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const kernels::Window wh = window_h(g, oy);
      float* best = y + p * out_plane + oy * g.ow;          // (ow,) running maxima
      int32_t* best_at = argmax + p * out_plane + oy * g.ow;  // (ow,) their flat indices
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        best[ox] = -std::numeric_limits<float>::infinity();
        best_at[ox] = static_cast<int32_t>(wh.lo * g.iw + window_w(g, ox).lo);
      }
      for (int64_t iy = wh.lo; iy < wh.hi; ++iy) {
        const float* row = xp + iy * g.iw;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const ColumnRange cols = column_range(g, kx);
          const int64_t shift = kx - g.pw;
          const int32_t row_at = static_cast<int32_t>(iy * g.iw);
#pragma omp simd
          for (int64_t ox = cols.lo; ox < cols.hi; ++ox) {
            const int64_t ix = ox * g.sw + shift;
            const float v = row[ix];
            const bool take = kernels::max_pool_takes(v, best[ox]);
            best[ox] = take ? v : best[ox];
            best_at[ox] = take ? row_at + static_cast<int32_t>(ix) : best_at[ox];
          }
        }
      }
    }
  }
}

void max_pool2d_scatter_cpu(const float* dy, const int32_t* argmax, float* dx,
                            const Pool2dGeometry& g) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* dxp = dx + p * in_plane;
    const float* dyp = dy + p * out_plane;
    const int32_t* ap = argmax + p * out_plane;
    std::memset(dxp, 0, sizeof(float) * in_plane);
    for (int64_t o = 0; o < out_plane; ++o) dxp[ap[o]] += dyp[o];
  }
}

void max_pool2d_gather_cpu(const float* x, const int32_t* argmax, float* y,
                           const Pool2dGeometry& g) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    const int32_t* ap = argmax + p * out_plane;
    for (int64_t o = 0; o < out_plane; ++o) yp[o] = xp[ap[o]];
  }
}

void avg_pool2d_forward_cpu(const float* x, float* y, const Pool2dGeometry& g,
                            bool count_include_pad) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const kernels::Window wh = window_h(g, oy);
      float* sum = y + p * out_plane + oy * g.ow;  // (ow,) window sums, then means
      for (int64_t ox = 0; ox < g.ow; ++ox) sum[ox] = 0.0f;
      for (int64_t iy = wh.lo; iy < wh.hi; ++iy) {
        const float* row = xp + iy * g.iw;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const ColumnRange cols = column_range(g, kx);
          const int64_t shift = kx - g.pw;
#pragma omp simd
          for (int64_t ox = cols.lo; ox < cols.hi; ++ox) sum[ox] += row[ox * g.sw + shift];
        }
      }
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        sum[ox] /= kernels::avg_pool_divisor(wh, window_w(g, ox), count_include_pad);
      }
    }
  }
}

void avg_pool2d_backward_cpu(const float* dy, float* dx, const Pool2dGeometry& g,
                             bool count_include_pad) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* dxp = dx + p * in_plane;
    const float* dyp = dy + p * out_plane;
    std::memset(dxp, 0, sizeof(float) * in_plane);
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const kernels::Window wh = window_h(g, oy);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const kernels::Window ww = window_w(g, ox);
        const float share =
            dyp[oy * g.ow + ox] / kernels::avg_pool_divisor(wh, ww, count_include_pad);
        for (int64_t iy = wh.lo; iy < wh.hi; ++iy) {
          float* row = dxp + iy * g.iw;
          for (int64_t ix = ww.lo; ix < ww.hi; ++ix) row[ix] += share;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
