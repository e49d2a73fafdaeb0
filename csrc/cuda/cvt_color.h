#pragma once

#include <cstdint>

// CUDA entry of cvt_color (kernels/cvt_color.h); pointers and stream from CuPy.
namespace engine {
namespace cuda {

void cvt_color_cuda(uintptr_t in, uintptr_t out, int64_t pixels, int mode, bool is_uint8,
                    uintptr_t stream);

}  // namespace cuda
}  // namespace engine
