// The math of 2-D pooling over one (H, W) plane, once, for the CPU loops (cpu/pooling.cpp) and
// the CUDA kernels. A window is given by its output position; everything here is per window.
#pragma once

#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

// Output length of one spatial axis: floor((in + 2 pad - k) / stride) + 1 (no ceil mode, as in
// MegEngine). Callers check in + 2 pad >= k first.
HOST_DEVICE inline int64_t pool_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}

// Half-open range [lo, hi) of input rows (or columns) that window `o` covers, clipped to the
// input; `padded_len` is the length before clipping (the window may hang over the padding).
struct Window {
  int64_t lo, hi, padded_len;
};

HOST_DEVICE inline Window pool_window(int64_t o, int64_t in, int64_t k, int64_t stride,
                                      int64_t pad) {
  const int64_t start = o * stride - pad;
  const int64_t end_padded = start + k < in + pad ? start + k : in + pad;
  Window w;
  w.lo = start > 0 ? start : 0;
  w.hi = start + k < in ? start + k : in;
  w.padded_len = end_padded - start;
  return w;
}

// The divisor of an average window: every position including the padding ("average", PyTorch's
// count_include_pad=True) or only the input positions ("average_count_exclude_padding").
HOST_DEVICE inline float avg_pool_divisor(const Window& wh, const Window& ww,
                                          bool count_include_pad) {
  if (count_include_pad) return static_cast<float>(wh.padded_len * ww.padded_len);
  return static_cast<float>((wh.hi - wh.lo) * (ww.hi - ww.lo));
}

// Max with PyTorch's tie and NaN rule: the first maximum wins and a NaN is always taken, so the
// gradient goes to exactly one position per window.
HOST_DEVICE inline bool max_pool_takes(float candidate, float best) {
  return candidate > best || candidate != candidate;
}

}  // namespace kernels
}  // namespace engine
