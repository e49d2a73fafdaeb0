#pragma once

#include <cstdint>

#include "kernels/deformable_psroi.h"

// CUDA entry points of deformable PSROI pooling (kernels/deformable_psroi.h); pointers and
// stream from CuPy. dx must be zeroed by the caller (its taps add atomically); dtrans is
// written whole (a gather) unless no_trans.
namespace engine {
namespace cuda {

void dpsroi_forward_cuda(uintptr_t x, uintptr_t rois, uintptr_t trans, uintptr_t out,
                         uintptr_t count, const kernels::DpsroiParams& p, uintptr_t stream);
void dpsroi_backward_cuda(uintptr_t x, uintptr_t rois, uintptr_t trans, uintptr_t dout,
                          uintptr_t count, uintptr_t dx, uintptr_t dtrans,
                          const kernels::DpsroiParams& p, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
