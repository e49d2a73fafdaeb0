#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/launch.h"
#include "cuda/optim.h"
#include "kernels/optim.h"

namespace engine {
namespace cuda {
namespace {

__global__ void sgd_update_kernel(float* __restrict__ p, const float* __restrict__ g,
                                  float* __restrict__ v, int64_t n, kernels::SgdParams<float> h) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    kernels::sgd_update(p[i], g[i], v == nullptr ? nullptr : v + i, h);
  }
}

__global__ void adam_update_kernel(float* __restrict__ p, const float* __restrict__ g,
                                   float* __restrict__ m, float* __restrict__ v, int64_t n,
                                   kernels::AdamParams<float> h) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    kernels::adam_update(p[i], g[i], m[i], v[i], h);
  }
}

}  // namespace

void sgd_update_cuda(uintptr_t param, uintptr_t grad, uintptr_t momentum_buf, int64_t n,
                     const kernels::SgdParams<float>& h, uintptr_t stream) {
  ENGINE_CHECK(n >= 0, "sgd_update_cuda: expected n >= 0, got " << n);
  if (n == 0) return;  // a zero-block launch is an error in CUDA
  sgd_update_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                      reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<float*>(param), reinterpret_cast<const float*>(grad),
      reinterpret_cast<float*>(momentum_buf), n, h);
  ENGINE_CUDA_CHECK_LAUNCH("sgd_update_cuda");
}

void adam_update_cuda(uintptr_t param, uintptr_t grad, uintptr_t exp_avg, uintptr_t exp_avg_sq,
                      int64_t n, const kernels::AdamParams<float>& h, uintptr_t stream) {
  ENGINE_CHECK(n >= 0, "adam_update_cuda: expected n >= 0, got " << n);
  if (n == 0) return;
  adam_update_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                       reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<float*>(param), reinterpret_cast<const float*>(grad),
      reinterpret_cast<float*>(exp_avg), reinterpret_cast<float*>(exp_avg_sq), n, h);
  ENGINE_CUDA_CHECK_LAUNCH("adam_update_cuda");
}

}  // namespace cuda
}  // namespace engine
