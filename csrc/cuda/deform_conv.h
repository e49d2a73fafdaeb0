#pragma once

#include <cstdint>

#include "kernels/deform_conv.h"

// CUDA entry points of deformable convolution's column buffer (math in kernels/deform_conv.h).
// Pointers and the stream are CuPy's, passed as integers; all buffers are contiguous float32 in
// the layouts of kernels/deform_conv.h.
namespace engine {
namespace cuda {

void deform_im2col_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t col,
                        int64_t batch, const kernels::DeformGeometry& g, uintptr_t stream);

void deform_col2im_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t dcol,
                        uintptr_t dx, uintptr_t doffset, uintptr_t dmask, int64_t batch,
                        const kernels::DeformGeometry& g, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
