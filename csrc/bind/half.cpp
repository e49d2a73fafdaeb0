// Bindings of the float32 <-> float16 conversions (csrc/cpu/half.cpp). Python calls them only
// when has_f16c() is true (engine/ops/_kernels.py), and numpy's astype otherwise.
#include <pybind11/numpy.h>

#include <cstdint>
#include <string>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/half.h"

namespace engine {
namespace {

py::array float_to_half(const py::object& x_in) {
  FloatArray x = as_float32(x_in, "float_to_half", "x");
  py::array y(py::dtype("float16"), shape_of(x));
  const float* xp = x.data();
  auto* yp = static_cast<uint16_t*>(y.mutable_data());
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::float_to_half_cpu(xp, yp, n);
  }
  return y;
}

py::array half_to_float(const py::array& x_in) {
  const py::dtype dt = x_in.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 2,
               "half_to_float: expected a float16 array, got " << std::string(py::str(dt)));
  py::array x = py::array::ensure(x_in, py::array::c_style);
  FloatArray y(shape_of(x));
  const auto* xp = static_cast<const uint16_t*>(x.data());
  float* yp = y.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::half_to_float_cpu(xp, yp, n);
  }
  return y;
}

}  // namespace

ENGINE_BINDINGS(half) {
  m.def("has_f16c", &cpu::has_f16c, "whether this CPU converts float16 in hardware (F16C)");
  m.def("float_to_half", &float_to_half, "float32 array -> float16 array (round to nearest even)");
  m.def("half_to_float", &half_to_float, "float16 array -> float32 array");
}

}  // namespace engine
