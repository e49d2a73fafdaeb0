// CPU loops of deformable convolution's column buffer (math in kernels/deform_conv.h).
// im2col and the input gradient parallelise over the N*C input planes: a plane's column rows and
// its gradient belong to it alone, so the bilinear scatter into dx needs no atomics. The offset
// and mask gradients gather over channels per (n, deformable group, tap).
#include "cpu/deform_conv.h"

#include <algorithm>

#include "cpu/parallel.h"

namespace engine {
namespace cpu {

using kernels::bilinear_corners;
using kernels::BilinearCorners;
using kernels::DeformGeometry;

namespace {

struct PlaneRefs {
  const float* offset;  // the plane's deformable group: (T, 2, P)
  const float* mask;    // (T, P)
};

inline PlaneRefs plane_refs(const float* offset, const float* mask, const DeformGeometry& g,
                            int64_t n, int64_t c) {
  const int64_t dg = c / (g.channels / g.deform_groups);
  const int64_t group = n * g.deform_groups + dg, tp = g.taps() * g.positions();
  return {offset + group * 2 * tp, mask + group * tp};
}

}  // namespace

void deform_im2col_cpu(const float* x, const float* offset, const float* mask, float* col,
                       int64_t batch, const DeformGeometry& g) {
  const int64_t planes = batch * g.channels, P = g.positions(), T = g.taps();
  const int64_t work = planes * T * P;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t i = 0; i < planes; ++i) {
    const PlaneRefs r = plane_refs(offset, mask, g, i / g.channels, i % g.channels);
    const float* plane = x + i * g.height * g.width;
    float* rows = col + i * T * P;
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t p = 0; p < P; ++p) {
        float h, w;
        kernels::deform_sample_point(g, r.offset, t, p, &h, &w);
        const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
        rows[t * P + p] = r.mask[t * P + p] * kernels::bilinear_value(plane, c);
      }
    }
  }
}

void deform_col2im_cpu(const float* x, const float* offset, const float* mask, const float* dcol,
                       float* dx, float* doffset, float* dmask, int64_t batch,
                       const DeformGeometry& g) {
  const int64_t planes = batch * g.channels, P = g.positions(), T = g.taps();
  const int64_t plane_size = g.height * g.width;
  const int64_t work = planes * T * P;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t i = 0; i < planes; ++i) {
    const PlaneRefs r = plane_refs(offset, mask, g, i / g.channels, i % g.channels);
    float* grad = dx + i * plane_size;
    const float* rows = dcol + i * T * P;
    std::fill(grad, grad + plane_size, 0.f);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t p = 0; p < P; ++p) {
        float h, w;
        kernels::deform_sample_point(g, r.offset, t, p, &h, &w);
        const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
        const float d = rows[t * P + p] * r.mask[t * P + p];
        for (int k = 0; k < 4; ++k) {
          if (c.index[k] >= 0) grad[c.index[k]] += c.weight[k] * d;
        }
      }
    }
  }

  const int64_t cpg = g.channels / g.deform_groups;
  const int64_t rows_count = batch * g.deform_groups * T;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t i = 0; i < rows_count; ++i) {
    const int64_t t = i % T, group = i / T;  // group = n * DG + dg
    const int64_t n = group / g.deform_groups, dg = group % g.deform_groups;
    const float* off = offset + group * 2 * T * P;
    const float* m = mask + group * T * P;
    const float* x_group = x + (n * g.channels + dg * cpg) * plane_size;
    const float* dcol_group = dcol + (n * g.channels + dg * cpg) * T * P;
    for (int64_t p = 0; p < P; ++p) {
      float h, w;
      kernels::deform_sample_point(g, off, t, p, &h, &w);
      const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
      kernels::deform_coord_grad(x_group, dcol_group, g, cpg, c, m[t * P + p], t, p,
                                 doffset + group * 2 * T * P + (2 * t) * P + p,
                                 doffset + group * 2 * T * P + (2 * t + 1) * P + p,
                                 dmask + group * T * P + t * P + p);
    }
  }
}

}  // namespace cpu
}  // namespace engine
