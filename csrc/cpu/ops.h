#pragma once

#include <cstddef>
#include <cstdint>

// CPU entry points: plain pointers and element counts; bind.cpp owns dtype, shape and layout.
namespace engine {
namespace cpu {

void gelu_forward_cpu(const float* x, float* y, int64_t n);
void gelu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n);

// OpenMP thread count for the CPU loops; 1 when built without OpenMP.
int get_num_threads();
void set_num_threads(int n);
// Serve blocks up to 32 MiB from the heap and trim only a free top above the threshold, so a
// training step reuses the previous step's pages (cpu/host_memory.cpp). False without glibc.
bool keep_freed_host_memory(std::size_t trim_threshold_bytes);
// Hand free heap pages back to the kernel now (glibc's malloc_trim). False without glibc.
bool release_free_host_memory();

}  // namespace cpu
}  // namespace engine
