#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/launch.h"
#include "cuda/warp.h"
#include "kernels/warp.h"

namespace engine {
namespace cuda {
namespace {

using kernels::WarpParams;

// One thread per output pixel (all channels), as the CPU loop's inner body.
template <class Coords>
__global__ void sample_forward_kernel(const float* __restrict__ x, Coords coords,
                                      float* __restrict__ out, WarpParams p) {
  const int64_t out_plane = p.out_h * p.out_w, total = p.n_out * out_plane;
  const int64_t in_image = p.channels * p.in_h * p.in_w;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t n = i / out_plane, o = i % out_plane;
    float sx, sy;
    coords.point(n, o / p.out_w, o % p.out_w, p, &sx, &sy);
    kernels::warp_sample_pixel(x + coords.source(n) * in_image, sx, sy, p,
                               out + n * p.channels * out_plane + o, out_plane);
  }
}

// One thread per output element; its taps add atomically (order-dependent in the last bits).
template <class Coords>
__global__ void sample_backward_data_kernel(const float* __restrict__ dout, Coords coords,
                                            float* __restrict__ dx, WarpParams p) {
  const int64_t out_plane = p.out_h * p.out_w, plane = p.in_h * p.in_w;
  const int64_t total = p.n_out * p.channels * out_plane;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t o = i % out_plane, c = (i / out_plane) % p.channels;
    const int64_t n = i / (out_plane * p.channels);
    float sx, sy;
    coords.point(n, o / p.out_w, o % p.out_w, p, &sx, &sy);
    float* g = dx + (coords.source(n) * p.channels + c) * plane;
    const float v = dout[i];
    if (p.nearest) {
      const int64_t t = kernels::warp_nearest_tap(sx, sy, p.in_h, p.in_w, p.border);
      if (t >= 0) atomicAdd(g + t, v);
      continue;
    }
    const kernels::WarpTaps t = kernels::warp_linear_taps(sx, sy, p.in_h, p.in_w, p.border);
    for (int k = 0; k < 4; ++k) {
      if (t.offset[k] >= 0) atomicAdd(g + t.offset[k], t.weight[k] * v);
    }
  }
}

__global__ void remap_backward_map_kernel(const float* __restrict__ x,
                                          kernels::MapCoords coords,
                                          const float* __restrict__ dout,
                                          float* __restrict__ dmap, WarpParams p) {
  const int64_t out_plane = p.out_h * p.out_w, total = p.n_out * out_plane;
  const int64_t in_image = p.channels * p.in_h * p.in_w;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t n = i / out_plane, o = i % out_plane;
    const float* m = coords.map + 2 * i;
    kernels::warp_coord_grad_pixel(x + n * in_image, m[0], m[1], p,
                                   dout + n * p.channels * out_plane + o, out_plane, dmap + 2 * i,
                                   dmap + 2 * i + 1);
  }
}

// One thread per output row: its 9 partial sums, in pixel order (deterministic).
__global__ void perspective_backward_mat_kernel(const float* __restrict__ x,
                                                kernels::PerspectiveCoords coords,
                                                const float* __restrict__ dout,
                                                float* __restrict__ partial, WarpParams p) {
  const int64_t out_plane = p.out_h * p.out_w, rows = p.n_out * p.out_h;
  const int64_t in_image = p.channels * p.in_h * p.in_w;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows;
       r += stride) {
    const int64_t n = r / p.out_h, oh = r % p.out_h;
    const float* src = x + coords.source(n) * in_image;
    const float* d = dout + n * p.channels * out_plane + oh * p.out_w;
    float acc[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t ow = 0; ow < p.out_w; ++ow) {
      const kernels::PerspectivePoint q = kernels::perspective_point(coords.mat + 9 * n, oh, ow);
      float gx, gy;
      kernels::warp_coord_grad_pixel(src, q.x, q.y, p, d + ow, out_plane, &gx, &gy);
      kernels::perspective_matrix_grad(q, oh, ow, gx, gy, acc);
    }
    for (int j = 0; j < 9; ++j) partial[r * 9 + j] = acc[j];
  }
}

cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace

void warp_sample_forward_cuda(uintptr_t x, uintptr_t coords, uintptr_t mat_idx, uintptr_t out,
                              const WarpParams& p, bool is_map, uintptr_t stream) {
  const int64_t n = p.n_out * p.out_h * p.out_w;
  if (n == 0) return;  // a zero-block launch is an error
  const float* xp = reinterpret_cast<const float*>(x);
  const float* cp = reinterpret_cast<const float*>(coords);
  float* op = reinterpret_cast<float*>(out);
  if (is_map) {
    sample_forward_kernel<<<elementwise_blocks(n), kBlockSize, 0, as_stream(stream)>>>(
        xp, kernels::MapCoords{cp}, op, p);
  } else {
    sample_forward_kernel<<<elementwise_blocks(n), kBlockSize, 0, as_stream(stream)>>>(
        xp, kernels::PerspectiveCoords{cp, reinterpret_cast<const int32_t*>(mat_idx)}, op, p);
  }
  ENGINE_CUDA_CHECK_LAUNCH("warp_sample_forward_cuda");
}

void warp_sample_backward_data_cuda(uintptr_t dout, uintptr_t coords, uintptr_t mat_idx,
                                    uintptr_t dx, const WarpParams& p, bool is_map,
                                    uintptr_t stream) {
  const int64_t n = p.n_out * p.channels * p.out_h * p.out_w;
  if (n == 0) return;
  const float* gp = reinterpret_cast<const float*>(dout);
  const float* cp = reinterpret_cast<const float*>(coords);
  float* dxp = reinterpret_cast<float*>(dx);
  if (is_map) {
    sample_backward_data_kernel<<<elementwise_blocks(n), kBlockSize, 0, as_stream(stream)>>>(
        gp, kernels::MapCoords{cp}, dxp, p);
  } else {
    sample_backward_data_kernel<<<elementwise_blocks(n), kBlockSize, 0, as_stream(stream)>>>(
        gp, kernels::PerspectiveCoords{cp, reinterpret_cast<const int32_t*>(mat_idx)}, dxp, p);
  }
  ENGINE_CUDA_CHECK_LAUNCH("warp_sample_backward_data_cuda");
}

void warp_sample_backward_coords_cuda(uintptr_t x, uintptr_t coords, uintptr_t mat_idx,
                                      uintptr_t dout, uintptr_t dcoords, const WarpParams& p,
                                      bool is_map, uintptr_t stream) {
  const float* xp = reinterpret_cast<const float*>(x);
  const float* cp = reinterpret_cast<const float*>(coords);
  const float* gp = reinterpret_cast<const float*>(dout);
  float* dp = reinterpret_cast<float*>(dcoords);
  if (is_map) {
    const int64_t n = p.n_out * p.out_h * p.out_w;
    if (n == 0) return;
    remap_backward_map_kernel<<<elementwise_blocks(n), kBlockSize, 0, as_stream(stream)>>>(
        xp, kernels::MapCoords{cp}, gp, dp, p);
  } else {
    const int64_t rows = p.n_out * p.out_h;
    if (rows == 0) return;
    perspective_backward_mat_kernel<<<elementwise_blocks(rows), kBlockSize, 0,
                                      as_stream(stream)>>>(
        xp, kernels::PerspectiveCoords{cp, reinterpret_cast<const int32_t*>(mat_idx)}, gp, dp,
        p);
  }
  ENGINE_CUDA_CHECK_LAUNCH("warp_sample_backward_coords_cuda");
}

}  // namespace cuda
}  // namespace engine
