// CUDA kernels of vol2col / col2vol: one thread per column entry, and one per input voxel that
// gathers the entries which read it (kernels/vol2col.h col2vol_value), so no atomics.
#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/launch.h"
#include "cuda/vol2col.h"

namespace engine {
namespace cuda {
namespace {

using kernels::ColumnLayout;
using kernels::Conv3dGeometry;

__global__ void vol2col_kernel(const float* __restrict__ x, float* __restrict__ col,
                               int64_t batch, Conv3dGeometry g, ColumnLayout layout) {
  const int64_t positions = g.positions(), taps = g.taps();
  const int64_t total = batch * g.channels * taps * positions;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    // i = ((n * C + c) * taps + tap) * positions + p: consecutive threads write one row run
    const int64_t p = i % positions;
    const int64_t tap = (i / positions) % taps;
    const int64_t nc = i / (positions * taps);
    const int64_t n = nc / g.channels, c = nc % g.channels;
    const int64_t ow = p % g.out_w, oh = (p / g.out_w) % g.out_h, od = p / (g.out_w * g.out_h);
    const int64_t e = tap % g.kernel_w, b = (tap / g.kernel_w) % g.kernel_h;
    const int64_t a = tap / (g.kernel_w * g.kernel_h);
    col[kernels::vol_column_offset(g, layout, n, c, tap, p)] =
        kernels::vol2col_value(x + nc * g.volume(), g, a, b, e, od, oh, ow);
  }
}

__global__ void col2vol_kernel(const float* __restrict__ col, float* __restrict__ x,
                               int64_t batch, Conv3dGeometry g, ColumnLayout layout) {
  const int64_t volume = g.volume();
  const int64_t total = batch * g.channels * volume;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t v = i % volume, nc = i / volume;
    const int64_t iw = v % g.width, ih = (v / g.width) % g.height, id = v / (g.width * g.height);
    x[i] = kernels::col2vol_value(col, g, layout, nc / g.channels, nc % g.channels, id, ih, iw);
  }
}

}  // namespace

void vol2col_cuda(uintptr_t x, uintptr_t col, int64_t batch, const Conv3dGeometry& g,
                  const ColumnLayout& layout, uintptr_t stream) {
  const int64_t total = batch * g.channels * g.taps() * g.positions();
  if (total == 0) return;  // a zero-block launch is an error, not a no-op
  vol2col_kernel<<<elementwise_blocks(total), kBlockSize, 0,
                   reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<float*>(col), batch, g, layout);
  ENGINE_CUDA_CHECK_LAUNCH("conv3d_vol2col_cuda");
}

void col2vol_cuda(uintptr_t col, uintptr_t x, int64_t batch, const Conv3dGeometry& g,
                  const ColumnLayout& layout, uintptr_t stream) {
  const int64_t total = batch * g.channels * g.volume();
  if (total == 0) return;
  col2vol_kernel<<<elementwise_blocks(total), kBlockSize, 0,
                   reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(col), reinterpret_cast<float*>(x), batch, g, layout);
  ENGINE_CUDA_CHECK_LAUNCH("conv3d_col2vol_cuda");
}

}  // namespace cuda
}  // namespace engine
