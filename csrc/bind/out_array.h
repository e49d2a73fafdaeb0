// The result array of a kernel binding: a new one, or the caller's `out` (a reused workspace or a
// slice of the final result) after checking that the loops may write it as a dense float32 block
// of `shape`.
#pragma once

#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bind/arrays.h"

namespace engine {

inline FloatArray out_or_new(const char* fn, const py::object& out,
                             const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return FloatArray(shape);
  ENGINE_CHECK(py::isinstance<py::array>(out), fn << ": out must be a numpy array");
  py::array a = py::reinterpret_borrow<py::array>(out);
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4,
               fn << ": out must be float32, got " << std::string(py::str(dt)));
  ENGINE_CHECK((a.flags() & py::array::c_style) && a.writeable(),
               fn << ": out must be a writable C-contiguous array");
  ENGINE_CHECK(shape_of(a) == shape, fn << ": out has shape " << shape_str(a) << ", expected "
                                        << std::string(py::str(py::cast(shape))));
  return py::reinterpret_borrow<FloatArray>(out);
}

}  // namespace engine
