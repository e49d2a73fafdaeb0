#pragma once

#include <cstdint>

#include "kernels/optim.h"

// CUDA entry points of the fused optimizer updates (math in kernels/optim.h). Pointers and the
// stream are CuPy's, passed as integers; all buffers are contiguous float32 of n elements.
namespace engine {
namespace cuda {

// momentum_buf == 0 means no momentum buffer (plain SGD).
void sgd_update_cuda(uintptr_t param, uintptr_t grad, uintptr_t momentum_buf, int64_t n,
                     const kernels::SgdParams<float>& h, uintptr_t stream);

void adam_update_cuda(uintptr_t param, uintptr_t grad, uintptr_t exp_avg, uintptr_t exp_avg_sq,
                      int64_t n, const kernels::AdamParams<float>& h, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
