#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "cuda/cvt_color.h"
#include "cuda/launch.h"
#include "kernels/cvt_color.h"

namespace engine {
namespace cuda {
namespace {

template <class T>
__global__ void cvt_color_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t pixels,
                                 int mode) {
  const int ci = kernels::cvt_in_channels(mode), co = kernels::cvt_out_channels(mode);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pixels;
       i += stride) {
    kernels::cvt_pixel(mode, in + i * ci, out + i * co);
  }
}

}  // namespace

void cvt_color_cuda(uintptr_t in, uintptr_t out, int64_t pixels, int mode, bool is_uint8,
                    uintptr_t stream) {
  if (pixels == 0) return;
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  if (is_uint8) {
    cvt_color_kernel<<<elementwise_blocks(pixels), kBlockSize, 0, s>>>(
        reinterpret_cast<const uint8_t*>(in), reinterpret_cast<uint8_t*>(out), pixels, mode);
  } else {
    cvt_color_kernel<<<elementwise_blocks(pixels), kBlockSize, 0, s>>>(
        reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out), pixels, mode);
  }
  ENGINE_CUDA_CHECK_LAUNCH("cvt_color_cuda");
}

}  // namespace cuda
}  // namespace engine
