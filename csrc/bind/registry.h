// Each op family binds its functions in its own csrc/bind/<family>.cpp with
//
//   ENGINE_BINDINGS(conv) { m.def("conv2d_forward", ...); }
//
// The macro registers the body at load time; bind.cpp's PYBIND11_MODULE runs every registered
// body. Adding an op family never touches a shared file.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <vector>

namespace py = pybind11;

namespace engine {

using Binder = void (*)(pybind11::module_&);

inline std::vector<Binder>& binders() {
  static std::vector<Binder> all;  // function-local: safe from static initialisation order
  return all;
}

struct BinderRegistration {
  explicit BinderRegistration(Binder b) { binders().push_back(b); }
};

}  // namespace engine

#define ENGINE_BINDINGS(family)                                                        \
  static void engine_bind_##family(pybind11::module_& m);                               \
  static const ::engine::BinderRegistration engine_bind_registration_##family(          \
      &engine_bind_##family);                                                           \
  static void engine_bind_##family(pybind11::module_& m)
