// CPU entry points of the pooling and normalisation kernels: raw pointers to contiguous float32
// (and int32 argmax) buffers plus sizes; bind/poolnorm.cpp owns dtype, shape and layout checks.
#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

// NCHW pooling geometry; `planes` = N * C, every plane pooled independently.
struct Pool2dGeometry {
  int64_t planes, ih, iw, oh, ow;
  int64_t kh, kw, sh, sw, ph, pw;
};

// y, argmax: (planes, oh, ow); argmax holds the flat index into the (ih, iw) plane.
void max_pool2d_forward_cpu(const float* x, float* y, int32_t* argmax, const Pool2dGeometry& g);
// dx (planes, ih, iw) = sum of dy over the windows whose maximum sat at each position.
void max_pool2d_scatter_cpu(const float* dy, const int32_t* argmax, float* dx,
                            const Pool2dGeometry& g);
// y (planes, oh, ow) = x at argmax: the adjoint of the scatter (double backward of max pool).
void max_pool2d_gather_cpu(const float* x, const int32_t* argmax, float* y,
                           const Pool2dGeometry& g);
void avg_pool2d_forward_cpu(const float* x, float* y, const Pool2dGeometry& g,
                            bool count_include_pad);
// dx (planes, ih, iw): each dy spread evenly (by the forward's divisor) over its window.
void avg_pool2d_backward_cpu(const float* dy, float* dx, const Pool2dGeometry& g,
                             bool count_include_pad);

// Batch norm over x (n, c, s): statistics per channel over n and s. w, b may be null (1 and 0).
// mean, var: (c,), var the biased variance. relu: y = relu(batch norm), in the same pass.
void batch_norm_forward_cpu(const float* x, const float* w, const float* b, float* y, float* mean,
                            float* var, int64_t n, int64_t c, int64_t s, float eps,
                            bool relu = false);
// dx (n, c, s) may be null (not needed); dw, db: (c,). relu_out: when not null, dy is the
// gradient of relu_out = relu(batch norm) and the ReLU's gradient (kernels::relu_backward) is
// applied to it on the fly: the bits of relu_backward then batch norm's backward.
void batch_norm_backward_cpu(const float* x, const float* dy, const float* mean, const float* var,
                             const float* w, float eps, float* dx, float* dw, float* db, int64_t n,
                             int64_t c, int64_t s, const float* relu_out = nullptr);

// Group norm over x (n, groups * cg, s): statistics per (sample, group) over cg * s contiguous
// elements; affine per channel. Layer norm is the case groups = 1, s = 1 (cg = row length).
// mean, var: (n, groups).
void group_norm_forward_cpu(const float* x, const float* w, const float* b, float* y, float* mean,
                            float* var, int64_t n, int64_t groups, int64_t cg, int64_t s,
                            float eps);
// dx may be null; dw, db: (groups * cg,), may be null (no affine).
void group_norm_backward_cpu(const float* x, const float* dy, const float* mean, const float* var,
                             const float* w, float eps, float* dx, float* dw, float* db, int64_t n,
                             int64_t groups, int64_t cg, int64_t s);

}  // namespace cpu
}  // namespace engine
