#pragma once

#include <cstdint>

#include "kernels/warp.h"

// CUDA entry points of warp_perspective / remap (kernels/warp.h). Pointers and the stream are
// integers from CuPy (see cuda/ops.h). is_map: coords is a remap map (N, OH, OW, 2); otherwise
// it is the (N, 3, 3) matrices and mat_idx (0 = none) picks each output's input image.
namespace engine {
namespace cuda {

void warp_sample_forward_cuda(uintptr_t x, uintptr_t coords, uintptr_t mat_idx, uintptr_t out,
                              const kernels::WarpParams& p, bool is_map, uintptr_t stream);
// dx must be zeroed by the caller; taps add into it atomically.
void warp_sample_backward_data_cuda(uintptr_t dout, uintptr_t coords, uintptr_t mat_idx,
                                    uintptr_t dx, const kernels::WarpParams& p, bool is_map,
                                    uintptr_t stream);
// remap: dcoords is dmap (N, OH, OW, 2). warp_perspective: dcoords receives per-row partial
// matrix gradients (N, OH, 9), which the caller sums over OH (a fixed-order reduction).
void warp_sample_backward_coords_cuda(uintptr_t x, uintptr_t coords, uintptr_t mat_idx,
                                      uintptr_t dout, uintptr_t dcoords,
                                      const kernels::WarpParams& p, bool is_map,
                                      uintptr_t stream);

}  // namespace cuda
}  // namespace engine
