#include "kernels/roi_align.h"

#include <cfloat>
#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {

void roi_align_forward_cpu(const float* x, const float* rois, float* out, int32_t* argmax,
                           const RoiAlignParams& p) {
  const int64_t bins = p.pooled_h * p.pooled_w;
  const int64_t total = p.num_rois * p.channels * bins;
  const int64_t work = total * p.sample_h * p.sample_w;
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t idx = 0; idx < total; ++idx) {
    const int64_t pw = idx % p.pooled_w, ph = (idx / p.pooled_w) % p.pooled_h;
    const int64_t c = (idx / bins) % p.channels, k = idx / (bins * p.channels);
    const kernels::RoiAlignGeometry g =
        kernels::roi_align_geometry(rois + 5 * k, p.spatial_scale, p.offset, p.pooled_h,
                                    p.pooled_w);
    const float* plane = x + (g.batch * p.channels + c) * p.height * p.width;
    float sum = 0.0f, best = -FLT_MAX;
    int32_t best_idx = -1;
    for (int64_t iy = 0; iy < p.sample_h; ++iy) {
      const float h = kernels::roi_sample_coord(g.start_h, g.bin_h, ph, iy, p.sample_h);
      for (int64_t ix = 0; ix < p.sample_w; ++ix) {
        const float w = kernels::roi_sample_coord(g.start_w, g.bin_w, pw, ix, p.sample_w);
        const float v = kernels::bilinear_read(plane, kernels::bilinear_taps(h, w, p.height,
                                                                             p.width));
        sum += v;
        if (v > best) {
          best = v;
          best_idx = static_cast<int32_t>(iy * p.sample_w + ix);
        }
      }
    }
    if (p.max_mode) {
      out[idx] = best;
      argmax[idx] = best_idx;
    } else {
      out[idx] = sum / static_cast<float>(p.sample_h * p.sample_w);
    }
  }
}

// Every (roi, bin) of channel c writes only into channel c's planes, so threads split channels.
void roi_align_backward_cpu(const float* dout, const float* rois, const int32_t* argmax, float* dx,
                            const RoiAlignParams& p) {
  const int64_t plane_size = p.height * p.width;
  const int64_t bins = p.pooled_h * p.pooled_w;
  for (int64_t i = 0; i < p.batch * p.channels * plane_size; ++i) dx[i] = 0.0f;
  const int64_t work = p.num_rois * p.channels * bins * p.sample_h * p.sample_w;
  const float inv_count = 1.0f / static_cast<float>(p.sample_h * p.sample_w);
#pragma omp parallel for schedule(static) if (work >= kParallelThreshold)
  for (int64_t c = 0; c < p.channels; ++c) {
    for (int64_t k = 0; k < p.num_rois; ++k) {
      const kernels::RoiAlignGeometry g =
          kernels::roi_align_geometry(rois + 5 * k, p.spatial_scale, p.offset, p.pooled_h,
                                      p.pooled_w);
      float* plane = dx + (g.batch * p.channels + c) * plane_size;
      for (int64_t b = 0; b < bins; ++b) {
        const int64_t ph = b / p.pooled_w, pw = b % p.pooled_w;
        const int64_t o = (k * p.channels + c) * bins + b;
        for (int64_t s = 0; s < p.sample_h * p.sample_w; ++s) {
          if (p.max_mode && s != argmax[o]) continue;
          const float h = kernels::roi_sample_coord(g.start_h, g.bin_h, ph, s / p.sample_w,
                                                    p.sample_h);
          const float w = kernels::roi_sample_coord(g.start_w, g.bin_w, pw, s % p.sample_w,
                                                    p.sample_w);
          const kernels::BilinearTaps t = kernels::bilinear_taps(h, w, p.height, p.width);
          const float v = p.max_mode ? dout[o] : dout[o] * inv_count;
          for (int q = 0; q < 4; ++q) plane[t.offset[q]] += t.weight[q] * v;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
