#include <cuda_runtime.h>

#include <cfloat>
#include <cstdint>

#include "common/cuda_check.h"
#include "common/macros.h"
#include "cuda/ctc.h"
#include "cuda/launch.h"
#include "kernels/ctc.h"

namespace engine {
namespace cuda {
namespace {

using kernels::CtcParams;

// One block per sequence; its threads share the states of one time step, which depends on the
// step before it (hence the barrier per step).
__global__ void ctc_forward_kernel(const float* __restrict__ pred,
                                   const int32_t* __restrict__ label,
                                   const int32_t* __restrict__ pred_len,
                                   const int32_t* __restrict__ label_len, float* __restrict__ loss,
                                   float* __restrict__ alpha, CtcParams p) {
  const int64_t n = blockIdx.x, lp = 2 * p.label_cols + 1;
  const int32_t* lab = label + n * p.label_cols;
  const int64_t states = 2 * static_cast<int64_t>(label_len[n]) + 1, steps = pred_len[n];
  float* a = alpha + n * p.time * lp;
  for (int64_t i = threadIdx.x; i < p.time * lp; i += blockDim.x) a[i] = -INFINITY;
  __syncthreads();
  for (int64_t s = threadIdx.x; s < states; s += blockDim.x) {
    a[s] = kernels::ctc_alpha_init(
        s, kernels::ctc_safe_log(pred[n * p.classes + kernels::ctc_state_class(lab, s, p.blank)]));
  }
  __syncthreads();
  for (int64_t t = 1; t < steps; ++t) {
    const float* pt = pred + (t * p.batch + n) * p.classes;
    for (int64_t s = threadIdx.x; s < states; s += blockDim.x) {
      a[t * lp + s] = kernels::ctc_alpha_gather(a + (t - 1) * lp, lab, s, p.blank) +
                      kernels::ctc_safe_log(pt[kernels::ctc_state_class(lab, s, p.blank)]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const float* last = a + (steps - 1) * lp;
    loss[n] = -kernels::ctc_log_add(last[states - 1], last[states - 2]);
  }
}

// One block per sequence: beta of step t from step t + 1 (states in parallel), then each class's
// occupancy summed over the states in order (deterministic).
__global__ void ctc_backward_kernel(const float* __restrict__ pred,
                                    const int32_t* __restrict__ label,
                                    const int32_t* __restrict__ pred_len,
                                    const int32_t* __restrict__ label_len,
                                    const float* __restrict__ loss,
                                    const float* __restrict__ alpha,
                                    const float* __restrict__ dloss, float* __restrict__ dpred,
                                    float* __restrict__ scratch, CtcParams p) {
  const int64_t n = blockIdx.x, lp = 2 * p.label_cols + 1;
  const int32_t* lab = label + n * p.label_cols;
  const int64_t states = 2 * static_cast<int64_t>(label_len[n]) + 1, steps = pred_len[n];
  const float* a = alpha + n * p.time * lp;
  float* rows[2] = {scratch + n * 2 * lp, scratch + n * 2 * lp + lp};
  for (int64_t s = threadIdx.x; s < lp; s += blockDim.x) {
    rows[(steps - 1) & 1][s] = s == states - 1 || s == states - 2 ? 0.0f : -INFINITY;
  }
  __syncthreads();
  for (int64_t t = p.time - 1; t >= 0; --t) {
    const float* pt = pred + (t * p.batch + n) * p.classes;
    float* g = dpred + (t * p.batch + n) * p.classes;
    if (t >= steps) {
      for (int64_t c = threadIdx.x; c < p.classes; c += blockDim.x) g[c] = 0.0f;
      continue;
    }
    float* beta = rows[t & 1];
    if (t < steps - 1) {
      const float* pn = pred + ((t + 1) * p.batch + n) * p.classes;
      for (int64_t s = threadIdx.x; s < states; s += blockDim.x) {
        beta[s] = kernels::ctc_beta_gather(rows[(t + 1) & 1], pn, lab, s, states, p.blank);
      }
      __syncthreads();
    }
    for (int64_t c = threadIdx.x; c < p.classes; c += blockDim.x) {
      float occ = 0.0f;
      for (int64_t s = 0; s < (t == 0 ? 2 : states); ++s) {  // t = 0: see cpu/ctc.cpp
        const float v = a[t * lp + s] + beta[s];
        if (v != -INFINITY && kernels::ctc_state_class(lab, s, p.blank) == c) {
          occ += expf(v + loss[n]);
        }
      }
      g[c] = pt[c] > FLT_MIN ? -dloss[n] * occ / pt[c] : 0.0f;
    }
    __syncthreads();  // the next step overwrites the other beta row, read above
  }
}

cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

}  // namespace

void ctc_loss_forward_cuda(uintptr_t pred, uintptr_t label, uintptr_t pred_len,
                           uintptr_t label_len, uintptr_t loss, uintptr_t alpha,
                           const CtcParams& p, uintptr_t stream) {
  if (p.batch == 0) return;
  ctc_forward_kernel<<<static_cast<unsigned int>(p.batch), kBlockSize, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(pred), reinterpret_cast<const int32_t*>(label),
      reinterpret_cast<const int32_t*>(pred_len), reinterpret_cast<const int32_t*>(label_len),
      reinterpret_cast<float*>(loss), reinterpret_cast<float*>(alpha), p);
  ENGINE_CUDA_CHECK_LAUNCH("ctc_loss_forward_cuda");
}

void ctc_loss_backward_cuda(uintptr_t pred, uintptr_t label, uintptr_t pred_len,
                            uintptr_t label_len, uintptr_t loss, uintptr_t alpha,
                            uintptr_t dloss, uintptr_t dpred, uintptr_t beta_scratch,
                            const CtcParams& p, uintptr_t stream) {
  if (p.batch == 0) return;
  ctc_backward_kernel<<<static_cast<unsigned int>(p.batch), kBlockSize, 0, as_stream(stream)>>>(
      reinterpret_cast<const float*>(pred), reinterpret_cast<const int32_t*>(label),
      reinterpret_cast<const int32_t*>(pred_len), reinterpret_cast<const int32_t*>(label_len),
      reinterpret_cast<const float*>(loss), reinterpret_cast<const float*>(alpha),
      reinterpret_cast<const float*>(dloss), reinterpret_cast<float*>(dpred),
      reinterpret_cast<float*>(beta_scratch), p);
  ENGINE_CUDA_CHECK_LAUNCH("ctc_loss_backward_cuda");
}

}  // namespace cuda
}  // namespace engine
