// Checks at the Python boundary, so the loops in cpu/ and cuda/ can take raw pointers.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "common/macros.h"

namespace engine {

namespace py = pybind11;

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

// float32 in this machine's byte order, read off the descriptor. (numpy 2's dtype equality goes
// through its casting tables: a quarter of a microsecond on every small call.)
inline bool native_float32(const py::dtype& dt) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr char kOwnOrder = '<';
#else
  constexpr char kOwnOrder = '>';
#endif
  const char order = dt.byteorder();
  return dt.kind() == 'f' && dt.itemsize() == 4 && (order == '=' || order == kOwnOrder);
}

// Takes any object numpy can view as an array, so numpy scalars (what reductions return) work.
// forcecast is only for layout (and byte order): a float64 array converted silently would hide a
// dtype bug in the caller, so anything that is not float32 is rejected first.
inline FloatArray as_float32(const py::object& obj, const char* op, const char* name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::error_already_set();
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4, op << ": expected a float32 array, got "
                                                          << std::string(py::str(dt))
                                                          << " (argument " << name << ")");
  constexpr int kReady = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ |
                         py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  if (native_float32(dt) && (a.flags() & kReady) == kReady)
    return py::reinterpret_borrow<FloatArray>(a);  // as it is: ensure would only compare dtypes
  return FloatArray::ensure(a);
}

// Same for int32 index arrays.
inline IntArray as_int32(const py::object& obj, const char* op, const char* name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::error_already_set();
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'i' && dt.itemsize() == 4, op << ": expected an int32 array, got "
                                                          << std::string(py::str(dt))
                                                          << " (argument " << name << ")");
  return IntArray::ensure(a);
}

inline std::string shape_str(const py::array& a) { return py::str(a.attr("shape")); }

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

}  // namespace engine
