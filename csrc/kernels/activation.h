// Elementwise activations and their gradients, once, for the CPU loops (cpu/activation.cpp) and
// CUDA. Sigmoid and SiLU need exp: the CPU loops take it vectorised from cpu/vmath.h and finish
// with the functions here that take sigmoid(x) as an argument.
#pragma once

#include "common/macros.h"

namespace engine {
namespace kernels {

// max(x, 0), NaN passing through as in numpy's maximum and torch's relu.
HOST_DEVICE inline float relu_forward(float x) { return x < 0.0f ? 0.0f : x; }

// dy where y = relu(x) > 0, else 0 (torch's threshold_backward): from the output, so the
// forward's input need not be kept.
HOST_DEVICE inline float relu_backward(float dy, float y) { return y > 0.0f ? dy : 0.0f; }

// x where x > 0, else slope * x, written as two selects against 0 and an unconditional multiply:
// a multiply under the condition may not be speculated while floating-point traps are honoured,
// and the CPU loop would not vectorise. (A zero comes out as +0; NaN passes through.)
HOST_DEVICE inline float leaky_relu_forward(float x, float slope) {
  const bool pos = x > 0.0f;
  return (pos ? x : 0.0f) + slope * (pos ? 0.0f : x);
}

// From the input: with slope < 0 the output's sign does not give the branch.
HOST_DEVICE inline float leaky_relu_backward(float dy, float x, float slope) {
  const bool pos = x > 0.0f;
  return (pos ? dy : 0.0f) + slope * (pos ? 0.0f : dy);
}

// d sigmoid / dx from the output y: y (1 - y).
HOST_DEVICE inline float sigmoid_backward(float dy, float y) { return dy * y * (1.0f - y); }

// silu(x) = x sigmoid(x), s = sigmoid(x).
HOST_DEVICE inline float silu_forward(float x, float s) { return x * s; }

// d silu / dx = s + x s (1 - s) = s (1 + x (1 - s)).
HOST_DEVICE inline float silu_backward(float dy, float x, float s) {
  return dy * s * (1.0f + x * (1.0f - s));
}

}  // namespace kernels
}  // namespace engine
