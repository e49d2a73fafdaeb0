#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/deformable_psroi.h"
#include "cuda/launch.h"
#include "kernels/deformable_psroi.h"

namespace engine {
namespace cuda {
namespace {

using kernels::DpsroiParams;

__global__ void dpsroi_forward_kernel(const float* __restrict__ x, const float* __restrict__ rois,
                                      const float* __restrict__ trans, float* __restrict__ out,
                                      float* __restrict__ count, DpsroiParams p) {
  const int64_t bins = p.pooled_h * p.pooled_w, total = p.num_rois * p.channels * bins;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += stride) {
    const int64_t pw = idx % p.pooled_w, ph = (idx / p.pooled_w) % p.pooled_h;
    const int64_t c = (idx / bins) % p.channels, k = idx / (bins * p.channels);
    out[idx] = kernels::dpsroi_forward(x, rois, trans, k, c, ph, pw, p, count + idx);
  }
}

// One thread per output bin; its samples' taps add atomically into dx.
__global__ void dpsroi_backward_data_kernel(const float* __restrict__ rois,
                                            const float* __restrict__ trans,
                                            const float* __restrict__ dout,
                                            const float* __restrict__ count,
                                            float* __restrict__ dx, DpsroiParams p) {
  const int64_t bins = p.pooled_h * p.pooled_w, total = p.num_rois * p.channels * bins;
  const int64_t per_cls = p.channels / p.num_cls, plane = p.height * p.width;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total;
       o += stride) {
    if (count[o] <= 0) continue;
    const int64_t b = o % bins, c = (o / bins) % p.channels, k = o / (bins * p.channels);
    const kernels::DpsroiBin bin = kernels::dpsroi_bin(rois + 5 * k, trans, k, c / per_cls,
                                                       b / p.pooled_w, b % p.pooled_w, p);
    float* g = dx + (bin.batch * p.channels + c) * plane;
    const float diff = dout[o] / count[o];
    for (int64_t ih = 0; ih < p.sample_per_part; ++ih) {
      for (int64_t iw = 0; iw < p.sample_per_part; ++iw) {
        kernels::DpsroiSample s;
        if (!kernels::dpsroi_sample(bin, ih, iw, p, &s)) continue;
        atomicAdd(g + s.y0 * p.width + s.x0, (1 - s.dx) * (1 - s.dy) * diff);
        atomicAdd(g + s.y1 * p.width + s.x0, (1 - s.dx) * s.dy * diff);
        atomicAdd(g + s.y0 * p.width + s.x1, s.dx * (1 - s.dy) * diff);
        atomicAdd(g + s.y1 * p.width + s.x1, s.dx * s.dy * diff);
      }
    }
  }
}

__global__ void dpsroi_backward_trans_kernel(const float* __restrict__ x,
                                             const float* __restrict__ rois,
                                             const float* __restrict__ trans,
                                             const float* __restrict__ dout,
                                             const float* __restrict__ count,
                                             float* __restrict__ dtrans, DpsroiParams p) {
  const int64_t parts = p.part_size * p.part_size, cells = p.num_rois * p.num_cls * parts;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < cells;
       i += stride) {
    const int64_t part = i % parts, cls = (i / parts) % p.num_cls, k = i / (parts * p.num_cls);
    float gx, gy;
    kernels::dpsroi_trans_grad(x, rois, trans, dout, count, k, cls, part / p.part_size,
                               part % p.part_size, p, &gx, &gy);
    dtrans[((k * p.num_cls + cls) * 2) * parts + part] = gx;
    dtrans[((k * p.num_cls + cls) * 2 + 1) * parts + part] = gy;
  }
}

}  // namespace

void dpsroi_forward_cuda(uintptr_t x, uintptr_t rois, uintptr_t trans, uintptr_t out,
                         uintptr_t count, const DpsroiParams& p, uintptr_t stream) {
  const int64_t n = p.num_rois * p.channels * p.pooled_h * p.pooled_w;
  if (n == 0) return;
  dpsroi_forward_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                          reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(rois),
      reinterpret_cast<const float*>(trans), reinterpret_cast<float*>(out),
      reinterpret_cast<float*>(count), p);
  ENGINE_CUDA_CHECK_LAUNCH("dpsroi_forward_cuda");
}

void dpsroi_backward_cuda(uintptr_t x, uintptr_t rois, uintptr_t trans, uintptr_t dout,
                          uintptr_t count, uintptr_t dx, uintptr_t dtrans, const DpsroiParams& p,
                          uintptr_t stream) {
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  const int64_t n = p.num_rois * p.channels * p.pooled_h * p.pooled_w;
  if (n == 0) return;
  dpsroi_backward_data_kernel<<<elementwise_blocks(n), kBlockSize, 0, s>>>(
      reinterpret_cast<const float*>(rois), reinterpret_cast<const float*>(trans),
      reinterpret_cast<const float*>(dout), reinterpret_cast<const float*>(count),
      reinterpret_cast<float*>(dx), p);
  ENGINE_CUDA_CHECK_LAUNCH("dpsroi_backward_cuda (data)");
  if (p.no_trans) return;
  const int64_t cells = p.num_rois * p.num_cls * p.part_size * p.part_size;
  dpsroi_backward_trans_kernel<<<elementwise_blocks(cells), kBlockSize, 0, s>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(rois),
      reinterpret_cast<const float*>(trans), reinterpret_cast<const float*>(dout),
      reinterpret_cast<const float*>(count), reinterpret_cast<float*>(dtrans), p);
  ENGINE_CUDA_CHECK_LAUNCH("dpsroi_backward_cuda (trans)");
}

}  // namespace cuda
}  // namespace engine
