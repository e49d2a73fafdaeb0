#include "cpu/deformable_psroi.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "kernels/deformable_psroi.h"

namespace engine {
namespace cpu {

using kernels::DpsroiParams;

void dpsroi_forward_cpu(const float* x, const float* rois, const float* trans, float* out,
                        float* count, const DpsroiParams& p) {
  const int64_t bins = p.pooled_h * p.pooled_w, total = p.num_rois * p.channels * bins;
  const int64_t work = total * p.sample_per_part * p.sample_per_part;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t idx = 0; idx < total; ++idx) {
    const int64_t pw = idx % p.pooled_w, ph = (idx / p.pooled_w) % p.pooled_h;
    const int64_t c = (idx / bins) % p.channels, k = idx / (bins * p.channels);
    out[idx] = kernels::dpsroi_forward(x, rois, trans, k, c, ph, pw, p, count + idx);
  }
}

void dpsroi_backward_cpu(const float* x, const float* rois, const float* trans,
                         const float* dout, const float* count, float* dx, float* dtrans,
                         const DpsroiParams& p) {
  const int64_t plane = p.height * p.width, bins = p.pooled_h * p.pooled_w;
  const int64_t per_cls = p.channels / p.num_cls;
  for (int64_t i = 0; i < p.batch * p.channels * plane; ++i) dx[i] = 0.0f;
  const int64_t work = p.num_rois * p.channels * bins * p.sample_per_part * p.sample_per_part;
  // The input gradient scatters: each task owns channel c's planes and visits rois in order.
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t c = 0; c < p.channels; ++c) {
    for (int64_t k = 0; k < p.num_rois; ++k) {
      for (int64_t b = 0; b < bins; ++b) {
        const int64_t o = (k * p.channels + c) * bins + b;
        if (count[o] <= 0) continue;
        const kernels::DpsroiBin bin = kernels::dpsroi_bin(rois + 5 * k, trans, k, c / per_cls,
                                                           b / p.pooled_w, b % p.pooled_w, p);
        float* g = dx + (bin.batch * p.channels + c) * plane;
        const float diff = dout[o] / count[o];
        for (int64_t ih = 0; ih < p.sample_per_part; ++ih) {
          for (int64_t iw = 0; iw < p.sample_per_part; ++iw) {
            kernels::DpsroiSample s;
            if (!kernels::dpsroi_sample(bin, ih, iw, p, &s)) continue;
            g[s.y0 * p.width + s.x0] += (1 - s.dx) * (1 - s.dy) * diff;
            g[s.y1 * p.width + s.x0] += (1 - s.dx) * s.dy * diff;
            g[s.y0 * p.width + s.x1] += s.dx * (1 - s.dy) * diff;
            g[s.y1 * p.width + s.x1] += s.dx * s.dy * diff;
          }
        }
      }
    }
  }
  const int64_t parts = p.part_size * p.part_size, cells = p.num_rois * p.num_cls * parts;
  if (p.no_trans) return;  // trans is not read: the binding hands back zeros
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t i = 0; i < cells; ++i) {
    const int64_t part = i % parts, cls = (i / parts) % p.num_cls, k = i / (parts * p.num_cls);
    float gx, gy;
    kernels::dpsroi_trans_grad(x, rois, trans, dout, count, k, cls, part / p.part_size,
                               part % p.part_size, p, &gx, &gy);
    dtrans[((k * p.num_cls + cls) * 2) * parts + part] = gx;
    dtrans[((k * p.num_cls + cls) * 2 + 1) * parts + part] = gy;
  }
}

}  // namespace cpu
}  // namespace engine
