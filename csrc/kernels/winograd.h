// Winograd F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks"): a
// 2x2 output tile of a stride-1 3x3 convolution from a 4x4 input tile with 16 multiplications per
// (input, output) channel pair instead of 36:
//   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
// The transforms below are the per-tile math, shared by the CPU driver (cpu/winograd.cpp) and a
// future CUDA one; the 16 products over channels are GEMMs.
#pragma once

#include "common/macros.h"

namespace engine {
namespace kernels {

// v (4x4, row-major) = B^T d B for an input tile d (4x4).
template <typename T>
HOST_DEVICE inline void winograd_input_tile(const T* d, T* v) {
  T t[16];
  for (int j = 0; j < 4; ++j) {  // rows: B^T d
    t[0 * 4 + j] = d[0 * 4 + j] - d[2 * 4 + j];
    t[1 * 4 + j] = d[1 * 4 + j] + d[2 * 4 + j];
    t[2 * 4 + j] = d[2 * 4 + j] - d[1 * 4 + j];
    t[3 * 4 + j] = d[1 * 4 + j] - d[3 * 4 + j];
  }
  for (int i = 0; i < 4; ++i) {  // columns: (B^T d) B
    v[i * 4 + 0] = t[i * 4 + 0] - t[i * 4 + 2];
    v[i * 4 + 1] = t[i * 4 + 1] + t[i * 4 + 2];
    v[i * 4 + 2] = t[i * 4 + 2] - t[i * 4 + 1];
    v[i * 4 + 3] = t[i * 4 + 1] - t[i * 4 + 3];
  }
}

// u (4x4) = G g G^T for a 3x3 filter g.
template <typename T>
HOST_DEVICE inline void winograd_filter_tile(const T* g, T* u) {
  T t[12];  // G g: 4x3
  for (int j = 0; j < 3; ++j) {
    t[0 * 3 + j] = g[0 * 3 + j];
    t[1 * 3 + j] = T(0.5) * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
    t[2 * 3 + j] = T(0.5) * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
    t[3 * 3 + j] = g[2 * 3 + j];
  }
  for (int i = 0; i < 4; ++i) {  // (G g) G^T
    u[i * 4 + 0] = t[i * 3 + 0];
    u[i * 4 + 1] = T(0.5) * (t[i * 3 + 0] + t[i * 3 + 1] + t[i * 3 + 2]);
    u[i * 4 + 2] = T(0.5) * (t[i * 3 + 0] - t[i * 3 + 1] + t[i * 3 + 2]);
    u[i * 4 + 3] = t[i * 3 + 2];
  }
}

// y (2x2) = A^T m A for a transformed product m (4x4).
template <typename T>
HOST_DEVICE inline void winograd_output_tile(const T* m, T* y) {
  T t[8];  // A^T m: 2x4
  for (int j = 0; j < 4; ++j) {
    t[0 * 4 + j] = m[0 * 4 + j] + m[1 * 4 + j] + m[2 * 4 + j];
    t[1 * 4 + j] = m[1 * 4 + j] - m[2 * 4 + j] - m[3 * 4 + j];
  }
  for (int i = 0; i < 2; ++i) {
    y[i * 2 + 0] = t[i * 4 + 0] + t[i * 4 + 1] + t[i * 4 + 2];
    y[i * 2 + 1] = t[i * 4 + 1] - t[i * 4 + 2] - t[i * 4 + 3];
  }
}

}  // namespace kernels
}  // namespace engine
