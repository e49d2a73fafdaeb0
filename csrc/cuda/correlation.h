#pragma once

#include <cstdint>

#include "kernels/correlation.h"

// CUDA entry points of correlation (kernels/correlation.h); pointers and stream from CuPy.
// g1 / g2 may be 0 when that gradient is not wanted.
namespace engine {
namespace cuda {

void correlation_forward_cuda(uintptr_t d1, uintptr_t d2, uintptr_t out,
                              const kernels::CorrelationParams& p, uintptr_t stream);
void correlation_backward_cuda(uintptr_t d1, uintptr_t d2, uintptr_t dout, uintptr_t g1,
                               uintptr_t g2, const kernels::CorrelationParams& p,
                               uintptr_t stream);

}  // namespace cuda
}  // namespace engine
