#pragma once

#include <cstdint>

#include "kernels/vol2col.h"

// CUDA entry points of 3-D convolution's column buffer (math in kernels/vol2col.h). Pointers and
// the stream are CuPy's, passed as integers; x and col are contiguous float32.
namespace engine {
namespace cuda {

void vol2col_cuda(uintptr_t x, uintptr_t col, int64_t batch, const kernels::Conv3dGeometry& g,
                  const kernels::ColumnLayout& layout, uintptr_t stream);

void col2vol_cuda(uintptr_t col, uintptr_t x, int64_t batch, const kernels::Conv3dGeometry& g,
                  const kernels::ColumnLayout& layout, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
