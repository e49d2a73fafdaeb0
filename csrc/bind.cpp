// The one Python extension module, engine._C. Each op family registers its functions from
// csrc/bind/<family>.cpp (see bind/registry.h); this file only runs them.
#include <pybind11/pybind11.h>

#include <string>

#include "bind/registry.h"
#include "common/cpu_isa.h"
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

  m.def("keep_freed_host_memory", &engine::cpu::keep_freed_host_memory,
        py::arg("trim_threshold_bytes"),
        "Keep freed host blocks (up to 32 MiB each) mapped for reuse; trim only a free heap top "
        "above the threshold. False where the C library is not glibc.");
  m.def("release_free_host_memory", &engine::cpu::release_free_host_memory,
        "Return free heap pages to the kernel now (malloc_trim). False where not glibc.");

  m.def(
      "cpu_isa", []() { return std::string(engine::cpu::isa_name(engine::cpu::cpu_isa())); },
      "The SIMD path the CPU kernels take now: 'avx512', 'avx2' or 'portable'.");
  m.def(
      "detected_cpu_isa",
      []() { return std::string(engine::cpu::isa_name(engine::cpu::detected_isa())); },
      "The best SIMD path this CPU supports.");
  m.def(
      "set_cpu_isa",
      [](const std::string& name) {
        engine::cpu::set_cpu_isa(engine::cpu::isa_from_name(name.c_str()));
      },
      py::arg("name"),
      "Force the SIMD path ('avx512', 'avx2', 'portable'; not above detected_cpu_isa()), for "
      "tests and benchmarks.");

  for (engine::Binder bind : engine::binders()) bind(m);
}
