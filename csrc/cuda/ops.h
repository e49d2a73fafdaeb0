#pragma once

#include <cstdint>

// CUDA entry points. Pointers and the stream arrive as integers because the arrays belong to
// CuPy: Python passes `arr.data.ptr` and `cupy.cuda.get_current_stream().ptr`, so our kernels run
// in order with CuPy's own work on that stream.
namespace engine {
namespace cuda {

void gelu_forward_cuda(uintptr_t x, uintptr_t y, int64_t n, uintptr_t stream);
void gelu_backward_cuda(uintptr_t x, uintptr_t dy, uintptr_t dx, int64_t n, uintptr_t stream);

}  // namespace cuda
}  // namespace engine
