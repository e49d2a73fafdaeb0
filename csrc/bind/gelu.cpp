// Bindings of the GELU kernels (csrc/kernels/gelu.h).
#include <cstdint>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/ops.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/ops.h"
#endif

namespace engine {
namespace {

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

ENGINE_BINDINGS(gelu) {
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
