#include "kernels/roi_pooling.h"

#include <cfloat>
#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {

void roi_pooling_forward_cpu(const float* x, const float* rois, float* out, int32_t* argmax,
                             const RoiPoolParams& p) {
  const int64_t bins = p.pooled_h * p.pooled_w;
  const int64_t total = p.num_rois * p.channels * bins;
#pragma omp parallel for schedule(static) if (total * 4 >= kParallelThreshold)
  for (int64_t idx = 0; idx < total; ++idx) {
    const int64_t pw = idx % p.pooled_w, ph = (idx / p.pooled_w) % p.pooled_h;
    const int64_t c = (idx / bins) % p.channels, k = idx / (bins * p.channels);
    const float* roi = rois + 5 * k;
    const kernels::RoiPoolBin bin = kernels::roi_pool_bin(roi, p.scale, ph, pw, p.pooled_h,
                                                          p.pooled_w, p.height, p.width);
    const float* plane = x + (static_cast<int64_t>(roi[0]) * p.channels + c) * p.height * p.width;
    float sum = 0.0f, best = -FLT_MAX;
    int32_t best_idx = -1;
    for (int64_t h = bin.h0; h < bin.h1; ++h) {
      for (int64_t w = bin.w0; w < bin.w1; ++w) {
        const float v = plane[h * p.width + w];
        sum += v;
        if (v > best) {
          best = v;
          best_idx = static_cast<int32_t>(h * p.width + w);
        }
      }
    }
    const int64_t count = (bin.h1 - bin.h0) * (bin.w1 - bin.w0);
    if (p.max_mode) {
      out[idx] = count > 0 ? best : 0.0f;
      argmax[idx] = best_idx;
    } else {
      out[idx] = count > 0 ? sum / static_cast<float>(count) : 0.0f;
    }
  }
}

// The adjoint of the forward; threads split channels so their writes never meet.
void roi_pooling_backward_cpu(const float* dout, const float* rois, const int32_t* argmax,
                              float* dx, const RoiPoolParams& p) {
  const int64_t plane_size = p.height * p.width;
  const int64_t bins = p.pooled_h * p.pooled_w;
  for (int64_t i = 0; i < p.batch * p.channels * plane_size; ++i) dx[i] = 0.0f;
#pragma omp parallel for schedule(static) if (p.num_rois * p.channels * bins * 4 >= \
                                                  kParallelThreshold)
  for (int64_t c = 0; c < p.channels; ++c) {
    for (int64_t k = 0; k < p.num_rois; ++k) {
      const float* roi = rois + 5 * k;
      float* plane = dx + (static_cast<int64_t>(roi[0]) * p.channels + c) * plane_size;
      for (int64_t b = 0; b < bins; ++b) {
        const int64_t o = (k * p.channels + c) * bins + b;
        if (p.max_mode) {
          if (argmax[o] >= 0) plane[argmax[o]] += dout[o];
          continue;
        }
        const kernels::RoiPoolBin bin = kernels::roi_pool_bin(
            roi, p.scale, b / p.pooled_w, b % p.pooled_w, p.pooled_h, p.pooled_w, p.height,
            p.width);
        const int64_t count = (bin.h1 - bin.h0) * (bin.w1 - bin.w0);
        if (count == 0) continue;
        const float v = dout[o] / static_cast<float>(count);
        for (int64_t h = bin.h0; h < bin.h1; ++h) {
          for (int64_t w = bin.w0; w < bin.w1; ++w) plane[h * p.width + w] += v;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
