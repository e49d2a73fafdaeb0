// Depthwise 2-D convolution (groups == input channels, `mult` output channels per input channel):
// output plane (n, o) reads only input plane (n, o / mult), so there is no reduction over
// channels and no GEMM; the work is kh*kw multiply-adds per output.
//
// The per-element form below is the natural shape of a GPU thread (and the tests' reference
// order); the CPU loops (cpu/depthwise.cpp) add the same taps in the same order a row at a time,
// over each tap's valid output range (kernels/im2col.h conv_valid_range).
#pragma once

#include <cstdint>

#include "common/macros.h"
#include "kernels/im2col.h"

namespace engine {
namespace kernels {

// y[oh, ow] of one output plane: sum over taps (ki, kj) in order of w[ki, kj] * x[ih, iw].
template <typename T>
HOST_DEVICE inline T depthwise_output(const T* plane, const T* w, const ConvGeometry& g,
                                      int64_t oh, int64_t ow) {
  T acc = T(0);
  for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
    const int64_t ih = conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
    if (ih < 0 || ih >= g.height) continue;
    for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
      const int64_t iw = conv_in_coord(ow, kj, g.stride_w, g.pad_w, g.dil_w);
      if (iw < 0 || iw >= g.width) continue;
      acc += w[ki * g.kernel_w + kj] * plane[ih * g.width + iw];
    }
  }
  return acc;
}

}  // namespace kernels
}  // namespace engine
