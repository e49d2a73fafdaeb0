// Bindings of cpu/arith.h: same-shape float32 add / sub / mul, and add + relu.
#include "bind/elementwise.h"
#include "bind/registry.h"
#include "cpu/arith.h"

ENGINE_BINDINGS(arith) {
  using namespace engine;
  m.def(
      "add",
      [](const py::object& a, const py::object& b) {
        return map_binary(a, b, "add", "a", "b", cpu::add_cpu);
      },
      py::arg("a"), py::arg("b"), "a + b for same-shape float32 arrays, on engine's threads.");
  m.def(
      "sub",
      [](const py::object& a, const py::object& b) {
        return map_binary(a, b, "sub", "a", "b", cpu::sub_cpu);
      },
      py::arg("a"), py::arg("b"), "a - b for same-shape float32 arrays, on engine's threads.");
  m.def(
      "mul",
      [](const py::object& a, const py::object& b) {
        return map_binary(a, b, "mul", "a", "b", cpu::mul_cpu);
      },
      py::arg("a"), py::arg("b"), "a * b for same-shape float32 arrays, on engine's threads.");
  m.def(
      "add_relu",
      [](const py::object& a, const py::object& b) {
        return map_binary(a, b, "add_relu", "a", "b", cpu::add_relu_cpu);
      },
      py::arg("a"), py::arg("b"),
      "relu(a + b) for same-shape float32 arrays in one pass, on engine's threads.");
}
