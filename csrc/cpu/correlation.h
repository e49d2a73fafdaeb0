#pragma once

#include "kernels/correlation.h"

// CPU entry points of correlation (kernels/correlation.h); the binding owns the checks.
namespace engine {
namespace cpu {

// out (N, out_c, out_h, out_w).
void correlation_forward_cpu(const float* d1, const float* d2, float* out,
                             const kernels::CorrelationParams& p);
// g1, g2 (N, C, H, W); either may be null when not wanted.
void correlation_backward_cpu(const float* d1, const float* d2, const float* dout, float* g1,
                              float* g2, const kernels::CorrelationParams& p);

}  // namespace cpu
}  // namespace engine
