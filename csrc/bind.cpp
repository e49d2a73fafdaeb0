// The one Python extension module, engine._C. Each op family registers its functions from
// csrc/bind/<family>.cpp (see bind/registry.h); this file only runs them.
#include <pybind11/pybind11.h>

#include "bind/registry.h"
#include "cpu/ops.h"

namespace py = pybind11;

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

  for (engine::Binder bind : engine::binders()) bind(m);
}
