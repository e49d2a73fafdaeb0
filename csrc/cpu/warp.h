#pragma once

#include <cstdint>

#include "kernels/warp.h"

// CPU entry points of warp_perspective / warp_affine and remap (kernels/warp.h). Images are
// NCHW float32; the bindings (csrc/bind/warp.cpp) own dtype, shape and index checks.
namespace engine {
namespace cpu {

// x (n_in, C, H, W), mat (n_out, 3, 3), mat_idx (n_out,) int32 or null, out (n_out, C, OH, OW).
void warp_perspective_forward_cpu(const float* x, const float* mat, const int32_t* mat_idx,
                                  float* out, const kernels::WarpParams& p);
void warp_perspective_backward_data_cpu(const float* dout, const float* mat,
                                        const int32_t* mat_idx, float* dx,
                                        const kernels::WarpParams& p);
void warp_perspective_backward_mat_cpu(const float* x, const float* mat, const int32_t* mat_idx,
                                       const float* dout, float* dmat,
                                       const kernels::WarpParams& p);

// x (N, C, H, W), map (N, OH, OW, 2), out (N, C, OH, OW).
void remap_forward_cpu(const float* x, const float* map, float* out,
                       const kernels::WarpParams& p);
void remap_backward_data_cpu(const float* dout, const float* map, float* dx,
                             const kernels::WarpParams& p);
void remap_backward_map_cpu(const float* x, const float* map, const float* dout, float* dmap,
                            const kernels::WarpParams& p);

}  // namespace cpu
}  // namespace engine
