// CUDA kernels of deformable convolution's column buffer: one thread per column entry for im2col,
// one per (n, deformable group, tap, position) for the offset/mask gradients (a gather over the
// group's channels), and one per column entry for the input gradient. The last is the one
// scatter: sample points are data-dependent, so no thread can know which entries read a given
// pixel, and the four bilinear corners are added with atomicAdd.
#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/deform_conv.h"
#include "cuda/launch.h"

namespace engine {
namespace cuda {
namespace {

using kernels::bilinear_corners;
using kernels::BilinearCorners;
using kernels::DeformGeometry;

__device__ inline int64_t group_of(const DeformGeometry& g, int64_t n, int64_t c) {
  return n * g.deform_groups + c / (g.channels / g.deform_groups);
}

__global__ void deform_im2col_kernel(const float* __restrict__ x,
                                     const float* __restrict__ offset,
                                     const float* __restrict__ mask, float* __restrict__ col,
                                     int64_t batch, DeformGeometry g) {
  const int64_t P = g.positions(), T = g.taps();
  const int64_t total = batch * g.channels * T * P;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t p = i % P, t = (i / P) % T, nc = i / (P * T);
    const int64_t grp = group_of(g, nc / g.channels, nc % g.channels);
    float h, w;
    kernels::deform_sample_point(g, offset + grp * 2 * T * P, t, p, &h, &w);
    const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
    col[i] = mask[grp * T * P + t * P + p] *
             kernels::bilinear_value(x + nc * g.height * g.width, c);
  }
}

__global__ void deform_input_grad_kernel(const float* __restrict__ offset,
                                         const float* __restrict__ mask,
                                         const float* __restrict__ dcol, float* __restrict__ dx,
                                         int64_t batch, DeformGeometry g) {
  const int64_t P = g.positions(), T = g.taps();
  const int64_t total = batch * g.channels * T * P;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t p = i % P, t = (i / P) % T, nc = i / (P * T);
    const int64_t grp = group_of(g, nc / g.channels, nc % g.channels);
    float h, w;
    kernels::deform_sample_point(g, offset + grp * 2 * T * P, t, p, &h, &w);
    const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
    const float d = dcol[i] * mask[grp * T * P + t * P + p];
    float* plane = dx + nc * g.height * g.width;
    for (int k = 0; k < 4; ++k) {
      if (c.index[k] >= 0) atomicAdd(plane + c.index[k], c.weight[k] * d);
    }
  }
}

__global__ void deform_coord_grad_kernel(const float* __restrict__ x,
                                         const float* __restrict__ offset,
                                         const float* __restrict__ mask,
                                         const float* __restrict__ dcol,
                                         float* __restrict__ doffset, float* __restrict__ dmask,
                                         int64_t batch, DeformGeometry g) {
  const int64_t P = g.positions(), T = g.taps(), cpg = g.channels / g.deform_groups;
  const int64_t total = batch * g.deform_groups * T * P;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t p = i % P, t = (i / P) % T, grp = i / (P * T);  // grp = n * DG + dg
    const int64_t first = (grp / g.deform_groups) * g.channels + (grp % g.deform_groups) * cpg;
    const float* off = offset + grp * 2 * T * P;
    float h, w;
    kernels::deform_sample_point(g, off, t, p, &h, &w);
    const BilinearCorners<float> c = bilinear_corners(h, w, g.height, g.width);
    kernels::deform_coord_grad(x + first * g.height * g.width, dcol + first * T * P, g, cpg, c,
                               mask[i], t, p, doffset + grp * 2 * T * P + (2 * t) * P + p,
                               doffset + grp * 2 * T * P + (2 * t + 1) * P + p, dmask + i);
  }
}

}  // namespace

void deform_im2col_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t col,
                        int64_t batch, const DeformGeometry& g, uintptr_t stream) {
  const int64_t total = batch * g.channels * g.taps() * g.positions();
  if (total == 0) return;  // a zero-block launch is an error, not a no-op
  deform_im2col_kernel<<<elementwise_blocks(total), kBlockSize, 0,
                         reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(offset),
      reinterpret_cast<const float*>(mask), reinterpret_cast<float*>(col), batch, g);
  ENGINE_CUDA_CHECK_LAUNCH("deform_im2col_cuda");
}

void deform_col2im_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t dcol,
                        uintptr_t dx, uintptr_t doffset, uintptr_t dmask, int64_t batch,
                        const DeformGeometry& g, uintptr_t stream) {
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  const int64_t dx_bytes = batch * g.channels * g.height * g.width * sizeof(float);
  if (dx_bytes > 0) {
    ENGINE_CUDA_CHECK(cudaMemsetAsync(reinterpret_cast<void*>(dx), 0, dx_bytes, s),
                      "deform_col2im_cuda");
  }
  const int64_t entries = batch * g.channels * g.taps() * g.positions();
  if (entries > 0) {
    deform_input_grad_kernel<<<elementwise_blocks(entries), kBlockSize, 0, s>>>(
        reinterpret_cast<const float*>(offset), reinterpret_cast<const float*>(mask),
        reinterpret_cast<const float*>(dcol), reinterpret_cast<float*>(dx), batch, g);
    ENGINE_CUDA_CHECK_LAUNCH("deform_col2im_cuda");
  }
  const int64_t coords = batch * g.deform_groups * g.taps() * g.positions();
  if (coords > 0) {
    deform_coord_grad_kernel<<<elementwise_blocks(coords), kBlockSize, 0, s>>>(
        reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(offset),
        reinterpret_cast<const float*>(mask), reinterpret_cast<const float*>(dcol),
        reinterpret_cast<float*>(doffset), reinterpret_cast<float*>(dmask), batch, g);
    ENGINE_CUDA_CHECK_LAUNCH("deform_col2im_cuda");
  }
}

}  // namespace cuda
}  // namespace engine
