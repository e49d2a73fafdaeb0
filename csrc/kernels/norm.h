// The elementwise math of the normalisations (batch, group and layer norm), once, for the CPU
// loops (cpu/norm.cpp) and the CUDA kernels. The reductions (mean, variance, the two sums of the
// backward) are done by the loops; these functions turn their results into outputs.
#pragma once

#include <cmath>

#include "common/macros.h"

namespace engine {
namespace kernels {

HOST_DEVICE inline float rsqrt_(float x) { return 1.0f / sqrtf(x); }

// 1 / sqrt(var + eps), var the biased variance.
HOST_DEVICE inline float norm_rstd(float var, float eps) { return rsqrt_(var + eps); }

// y = (x - mean) * rstd * w + b, with w and b of the element's channel.
HOST_DEVICE inline float norm_forward(float x, float mean, float rstd, float w, float b) {
  return (x - mean) * rstd * w + b;
}

// Gradient of the input of a normalisation over a set of M elements (a channel for batch norm,
// a group for group norm, a row for layer norm), with g = dy * w the gradient of xhat:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  xhat = (x - mean) * rstd.
// The loops pass mean_g = sum(g) / M and mean_gxc = sum(g * (x - mean)) / M, so that
// xhat * mean(g * xhat) = (x - mean) * rstd^2 * mean_gxc.
HOST_DEVICE inline float norm_input_grad(float g, float x, float mean, float rstd, float mean_g,
                                         float mean_gxc) {
  return rstd * (g - mean_g - (x - mean) * rstd * rstd * mean_gxc);
}

}  // namespace kernels
}  // namespace engine
