#pragma once

#include "kernels/deformable_psroi.h"

// CPU entry points of deformable PSROI pooling (kernels/deformable_psroi.h): x (N, C, H, W),
// rois (K, 5), trans (K, 2 num_cls, part, part), out / count (K, C, PH, PW).
namespace engine {
namespace cpu {

void dpsroi_forward_cpu(const float* x, const float* rois, const float* trans, float* out,
                        float* count, const kernels::DpsroiParams& p);
// dx (N, C, H, W) and dtrans (shape of trans; zero when no_trans).
void dpsroi_backward_cpu(const float* x, const float* rois, const float* trans,
                         const float* dout, const float* count, float* dx, float* dtrans,
                         const kernels::DpsroiParams& p);

}  // namespace cpu
}  // namespace engine
