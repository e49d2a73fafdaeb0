#include <cuda_runtime.h>

#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/correlation.h"
#include "cuda/launch.h"
#include "kernels/correlation.h"

namespace engine {
namespace cuda {
namespace {

using kernels::CorrelationParams;

__global__ void correlation_forward_kernel(const float* __restrict__ d1,
                                           const float* __restrict__ d2, float* __restrict__ out,
                                           CorrelationParams p) {
  const int64_t plane = p.out_h * p.out_w, total = p.batch * p.out_c * plane;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += stride) {
    const int64_t tx = idx % p.out_w, ty = (idx / p.out_w) % p.out_h;
    const int64_t tc = (idx / plane) % p.out_c, n = idx / (plane * p.out_c);
    out[idx] = kernels::corr_forward(d1, d2, n, tc, ty, tx, p);
  }
}

// One thread per input pixel, gathering from the outputs: no atomics, deterministic.
__global__ void correlation_backward_kernel(const float* __restrict__ d1,
                                            const float* __restrict__ d2,
                                            const float* __restrict__ dout,
                                            float* __restrict__ g1, float* __restrict__ g2,
                                            CorrelationParams p) {
  const int64_t plane = p.height * p.width, total = p.batch * p.channels * plane;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += stride) {
    const int64_t x = idx % p.width, y = (idx / p.width) % p.height;
    const int64_t c = (idx / plane) % p.channels, n = idx / (plane * p.channels);
    if (g1) g1[idx] = kernels::corr_backward(d1, d2, dout, n, c, y, x, false, p);
    if (g2) g2[idx] = kernels::corr_backward(d1, d2, dout, n, c, y, x, true, p);
  }
}

}  // namespace

void correlation_forward_cuda(uintptr_t d1, uintptr_t d2, uintptr_t out,
                              const CorrelationParams& p, uintptr_t stream) {
  const int64_t n = p.batch * p.out_c * p.out_h * p.out_w;
  if (n == 0) return;
  correlation_forward_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                               reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(d1), reinterpret_cast<const float*>(d2),
      reinterpret_cast<float*>(out), p);
  ENGINE_CUDA_CHECK_LAUNCH("correlation_forward_cuda");
}

void correlation_backward_cuda(uintptr_t d1, uintptr_t d2, uintptr_t dout, uintptr_t g1,
                               uintptr_t g2, const CorrelationParams& p, uintptr_t stream) {
  const int64_t n = p.batch * p.channels * p.height * p.width;
  if (n == 0) return;
  correlation_backward_kernel<<<elementwise_blocks(n), kBlockSize, 0,
                                reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(d1), reinterpret_cast<const float*>(d2),
      reinterpret_cast<const float*>(dout), reinterpret_cast<float*>(g1),
      reinterpret_cast<float*>(g2), p);
  ENGINE_CUDA_CHECK_LAUNCH("correlation_backward_cuda");
}

}  // namespace cuda
}  // namespace engine
