// The binding side of the elementwise float32 kernels: check the arrays, allocate the output of
// the same shape, release the GIL around the loop.
#pragma once

#include <cstdint>

#include "bind/arrays.h"

namespace engine {

// f(x, y, n) writes y from x.
template <typename F>
FloatArray map_unary(const py::object& x_in, const char* op, F f) {
  FloatArray x = as_float32(x_in, op, "x");
  FloatArray y(shape_of(x));
  const float* xp = x.data();
  float* yp = y.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    f(xp, yp, n);
  }
  return y;
}

// Two same-shape inputs a, b (named in errors) -> f(a, b, out, n); the gradient kernels.
template <typename F>
FloatArray map_binary(const py::object& a_in, const py::object& b_in, const char* op,
                      const char* a_name, const char* b_name, F f) {
  FloatArray a = as_float32(a_in, op, a_name);
  FloatArray b = as_float32(b_in, op, b_name);
  ENGINE_CHECK(shape_of(a) == shape_of(b),
               op << ": " << a_name << " and " << b_name << " must have the same shape, got "
                  << a_name << " " << shape_str(a) << " and " << b_name << " " << shape_str(b));
  FloatArray out(shape_of(a));
  const float* ap = a.data();
  const float* bp = b.data();
  float* outp = out.mutable_data();
  const int64_t n = a.size();
  {
    py::gil_scoped_release release;
    f(ap, bp, outp, n);
  }
  return out;
}

}  // namespace engine
