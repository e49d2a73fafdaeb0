// 2-D max and average pooling on the CPU: OpenMP over the N * C planes, so that every thread
// writes its own planes (the backward scatters need no atomics).
#include "kernels/pooling.h"

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

}  // namespace

void max_pool2d_forward_cpu(const float* x, float* y, int32_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.ih * g.iw, out_plane = g.oh * g.ow;
#pragma omp parallel for schedule(static) if (worth_parallel(g))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    int32_t* ap = argmax + p * out_plane;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const kernels::Window wh = window_h(g, oy);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const kernels::Window ww = window_w(g, ox);
        float best = -std::numeric_limits<float>::infinity();
        int64_t best_at = wh.lo * g.iw + ww.lo;
        for (int64_t iy = wh.lo; iy < wh.hi; ++iy) {
          const float* row = xp + iy * g.iw;
          for (int64_t ix = ww.lo; ix < ww.hi; ++ix) {
            if (kernels::max_pool_takes(row[ix], best)) {
              best = row[ix];
              best_at = iy * g.iw + ix;
            }
          }
        }
        yp[oy * g.ow + ox] = best;
        ap[oy * g.ow + ox] = static_cast<int32_t>(best_at);
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
    float* yp = y + p * out_plane;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const kernels::Window wh = window_h(g, oy);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const kernels::Window ww = window_w(g, ox);
        float sum = 0.0f;
        for (int64_t iy = wh.lo; iy < wh.hi; ++iy) {
          const float* row = xp + iy * g.iw;
          for (int64_t ix = ww.lo; ix < ww.hi; ++ix) sum += row[ix];
        }
        yp[oy * g.ow + ox] = sum / kernels::avg_pool_divisor(wh, ww, count_include_pad);
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
