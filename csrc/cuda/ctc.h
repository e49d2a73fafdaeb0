#pragma once

#include <cstdint>

#include "kernels/ctc.h"

// CUDA entry points of the CTC loss (kernels/ctc.h); pointers and stream from CuPy. Arrays as in
// cpu/ctc.h; beta_scratch holds (N, 2, 2S + 1) floats for the backward recursion.
namespace engine {
namespace cuda {

void ctc_loss_forward_cuda(uintptr_t pred, uintptr_t label, uintptr_t pred_len,
                           uintptr_t label_len, uintptr_t loss, uintptr_t alpha,
                           const kernels::CtcParams& p, uintptr_t stream);
void ctc_loss_backward_cuda(uintptr_t pred, uintptr_t label, uintptr_t pred_len,
                            uintptr_t label_len, uintptr_t loss, uintptr_t alpha,
                            uintptr_t dloss, uintptr_t dpred, uintptr_t beta_scratch,
                            const kernels::CtcParams& p, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
