// Bindings of the activation kernels (csrc/kernels/activation.h, csrc/cpu/activation.cpp) and of
// the vectorised exp / log (cpu/vmath.h): float32 arrays in, a new float32 array of the same
// shape out, the GIL released while the loop runs.
#include "cpu/activation.h"

#include <cstdint>

#include "bind/elementwise.h"
#include "bind/registry.h"

ENGINE_BINDINGS(activation) {
  using namespace engine;
  m.def(
      "relu_forward",
      [](const py::object& x) { return map_unary(x, "relu_forward", cpu::relu_forward_cpu); },
      py::arg("x"), "max(x, 0) of a float32 array (NaN passes through).");
  m.def(
      "relu_backward",
      [](const py::object& dy, const py::object& y) {
        return map_binary(dy, y, "relu_backward", "dy", "y", cpu::relu_backward_cpu);
      },
      py::arg("dy"), py::arg("y"), "ReLU's input gradient from its output y: dy where y > 0.");
  m.def(
      "sigmoid_forward",
      [](const py::object& x) { return map_unary(x, "sigmoid_forward", cpu::sigmoid_forward_cpu); },
      py::arg("x"), "1 / (1 + exp(-x)) of a float32 array (vectorised exp).");
  m.def(
      "sigmoid_backward",
      [](const py::object& dy, const py::object& y) {
        return map_binary(dy, y, "sigmoid_backward", "dy", "y", cpu::sigmoid_backward_cpu);
      },
      py::arg("dy"), py::arg("y"), "Sigmoid's input gradient from its output y: dy y (1 - y).");
  m.def(
      "silu_forward",
      [](const py::object& x) { return map_unary(x, "silu_forward", cpu::silu_forward_cpu); },
      py::arg("x"), "x * sigmoid(x) of a float32 array.");
  m.def(
      "silu_backward",
      [](const py::object& dy, const py::object& x) {
        return map_binary(dy, x, "silu_backward", "dy", "x", cpu::silu_backward_cpu);
      },
      py::arg("dy"), py::arg("x"),
      "SiLU's input gradient from its input x: dy s (1 + x (1 - s)), s = sigmoid(x).");
  m.def(
      "leaky_relu_forward",
      [](const py::object& x, float slope) {
        return map_unary(x, "leaky_relu_forward", [slope](const float* a, float* b, int64_t n) {
          cpu::leaky_relu_forward_cpu(a, b, n, slope);
        });
      },
      py::arg("x"), py::arg("negative_slope"), "x where x > 0, else negative_slope * x.");
  m.def(
      "leaky_relu_backward",
      [](const py::object& dy, const py::object& x, float slope) {
        return map_binary(dy, x, "leaky_relu_backward", "dy", "x",
                          [slope](const float* a, const float* b, float* c, int64_t n) {
                            cpu::leaky_relu_backward_cpu(a, b, c, n, slope);
                          });
      },
      py::arg("dy"), py::arg("x"), py::arg("negative_slope"),
      "Leaky ReLU's input gradient from its input x: dy where x > 0, else negative_slope dy.");
  m.def(
      "vexp", [](const py::object& x) { return map_unary(x, "vexp", cpu::exp_cpu); }, py::arg("x"),
      "exp of a float32 array through engine's vectorised exp (the one softmax, cross "
      "entropy, focal loss and sigmoid use; within 2 ulp).");
  m.def(
      "vlog", [](const py::object& x) { return map_unary(x, "vlog", cpu::log_cpu); }, py::arg("x"),
      "log of a float32 array through engine's vectorised log (within 2 ulp).");
}
