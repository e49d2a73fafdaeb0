#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/launch.h"
#include "cuda/ops.h"
#include "kernels/gelu.h"

namespace engine {
namespace cuda {
namespace {

__global__ void gelu_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    y[i] = kernels::gelu_forward(x[i]);
  }
}

__global__ void gelu_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                     float* __restrict__ dx, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    dx[i] = kernels::gelu_backward(x[i], dy[i]);
  }
}

}  // namespace

void gelu_forward_cuda(uintptr_t x, uintptr_t y, int64_t n, uintptr_t stream) {
  ENGINE_CHECK(n >= 0, "gelu_forward_cuda: expected n >= 0, got " << n);
  // A zero-block launch is an error in CUDA, not a no-op.
  if (n == 0) return;
  gelu_forward_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                        reinterpret_cast<cudaStream_t>(stream)>>>(reinterpret_cast<const float*>(x),
                                                                  reinterpret_cast<float*>(y), n);
  ENGINE_CUDA_CHECK_LAUNCH("gelu_forward_cuda");
}

void gelu_backward_cuda(uintptr_t x, uintptr_t dy, uintptr_t dx, int64_t n, uintptr_t stream) {
  ENGINE_CHECK(n >= 0, "gelu_backward_cuda: expected n >= 0, got " << n);
  if (n == 0) return;
  gelu_backward_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                         reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(dy),
      reinterpret_cast<float*>(dx), n);
  ENGINE_CUDA_CHECK_LAUNCH("gelu_backward_cuda");
}

}  // namespace cuda
}  // namespace engine
