// The one Python extension module, engine._C. It validates dtype, shape and layout at the boundary
// so the loops in cpu/ and cuda/ can take raw pointers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/macros.h"
#include "cpu/ops.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/ops.h"
#endif

namespace py = pybind11;

namespace engine {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Takes any object numpy can view as an array, so numpy scalars (what reductions return) work.
// forcecast is only for layout (and byte order): a float64 array converted silently would hide a
// dtype bug in the caller, so anything that is not float32 is rejected first.
FloatArray as_float32(const py::object& obj, const char* op, const char* name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw py::error_already_set();
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4, op << ": expected a float32 array, got "
                                                          << std::string(py::str(dt))
                                                          << " (argument " << name << ")");
  return FloatArray::ensure(a);
}

std::string shape_str(const py::array& a) { return py::str(a.attr("shape")); }

std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

FloatArray gelu_forward(const py::object& x_in) {
  FloatArray x = as_float32(x_in, "gelu_forward", "x");
  FloatArray y(shape_of(x));
  const float* xp = x.data();
  float* yp = y.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::gelu_forward_cpu(xp, yp, n);
  }
  return y;
}

FloatArray gelu_backward(const py::object& x_in, const py::object& dy_in) {
  FloatArray x = as_float32(x_in, "gelu_backward", "x");
  FloatArray dy = as_float32(dy_in, "gelu_backward", "dy");
  ENGINE_CHECK(shape_of(x) == shape_of(dy),
               "gelu_backward: x and dy must have the same shape, got x "
                   << shape_str(x) << " and dy " << shape_str(dy));
  FloatArray dx(shape_of(x));
  const float* xp = x.data();
  const float* dyp = dy.data();
  float* dxp = dx.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::gelu_backward_cpu(xp, dyp, dxp, n);
  }
  return dx;
}

}  // namespace
}  // namespace engine

PYBIND11_MODULE(_C, m) {
  m.doc() = "engine native kernels (C++ CPU loops and, when built with CUDA, CUDA kernels)";

  m.def(
      "with_cuda",
      []() {
#ifdef ENGINE_WITH_CUDA
        return true;
#else
        return false;
#endif
      },
      "True when this build contains the CUDA kernels.");

  m.def("get_num_threads", &engine::cpu::get_num_threads,
        "Threads used by the CPU kernels (1 when built without OpenMP).");
  m.def("set_num_threads", &engine::cpu::set_num_threads, py::arg("n"),
        "Set the number of threads used by the CPU kernels (no-op without OpenMP).");

  m.def("gelu_forward", &engine::gelu_forward, py::arg("x"),
        "Exact GELU, 0.5 x (1 + erf(x / sqrt2)), of a float32 array; returns a new float32 array "
        "of the same shape.");
  m.def("gelu_backward", &engine::gelu_backward, py::arg("x"), py::arg("dy"),
        "Gradient of exact GELU: dy * (Phi(x) + x phi(x)) for float32 arrays of equal shape.");

#ifdef ENGINE_WITH_CUDA
  // Launches are asynchronous on `stream`; the caller keeps the CuPy arrays alive until then.
  m.def("gelu_forward_cuda", &engine::cuda::gelu_forward_cuda, py::arg("x_ptr"), py::arg("y_ptr"),
        py::arg("n"), py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
        "Exact GELU on float32 device buffers (raw pointers) on the given CUDA stream.");
  m.def("gelu_backward_cuda", &engine::cuda::gelu_backward_cuda, py::arg("x_ptr"),
        py::arg("dy_ptr"), py::arg("dx_ptr"), py::arg("n"), py::arg("stream"),
        py::call_guard<py::gil_scoped_release>(),
        "Gradient of exact GELU on float32 device buffers (raw pointers) on the given CUDA "
        "stream.");
#endif
}
