// Bindings of the GELU kernels (csrc/kernels/gelu.h).
#include <cstdint>

#include "bind/elementwise.h"
#include "bind/registry.h"
#include "cpu/ops.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/ops.h"
#endif

namespace engine {
namespace {

FloatArray gelu_forward(const py::object& x) {
  return map_unary(x, "gelu_forward", cpu::gelu_forward_cpu);
}

FloatArray gelu_backward(const py::object& x, const py::object& dy) {
  return map_binary(x, dy, "gelu_backward", "x", "dy", cpu::gelu_backward_cpu);
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
