#pragma once

#include <cmath>

#include "common/macros.h"

namespace engine {
namespace kernels {

// Overloads rather than std::erfc/std::exp: the std:: versions are not callable from device code,
// and the float overloads keep float inputs in single precision on both host and device.
HOST_DEVICE inline float erfc_(float x) { return erfcf(x); }
HOST_DEVICE inline double erfc_(double x) { return ::erfc(x); }
HOST_DEVICE inline float exp_(float x) { return expf(x); }
HOST_DEVICE inline double exp_(double x) { return ::exp(x); }

// Phi(x) = 0.5 * (1 + erf(x / sqrt2)) written as 0.5 * erfc(-x / sqrt2): the same value, but
// 1 + erf(.) cancels catastrophically for x << 0 while erfc keeps full relative precision there.
template <typename T>
HOST_DEVICE inline T normal_cdf(T x) {
  const T kInvSqrt2 = T(0.70710678118654752440);
  return T(0.5) * erfc_(-x * kInvSqrt2);
}

template <typename T>
HOST_DEVICE inline T normal_pdf(T x) {
  const T kInvSqrt2Pi = T(0.39894228040143267794);
  return kInvSqrt2Pi * exp_(T(-0.5) * x * x);
}

// Exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt2)).
template <typename T>
HOST_DEVICE inline T gelu_forward(T x) {
  return x * normal_cdf(x);
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x).
template <typename T>
HOST_DEVICE inline T gelu_backward(T x, T dy) {
  return dy * (normal_cdf(x) + x * normal_pdf(x));
}

}  // namespace kernels
}  // namespace engine
