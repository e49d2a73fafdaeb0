// Binding of cvt_color (csrc/kernels/cvt_color.h): float32 or uint8 images, channels last.
#include <cstdint>
#include <string>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/cvt_color.h"
#include "kernels/cvt_color.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/cvt_color.h"
#endif

namespace engine {
namespace {

using ByteArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

template <class T, class Array>
Array convert(const Array& x, int mode) {
  const int ci = kernels::cvt_in_channels(mode), co = kernels::cvt_out_channels(mode);
  ENGINE_CHECK(x.ndim() >= 1 && x.shape(x.ndim() - 1) == ci,
               "cvt_color: mode " << mode << " needs " << ci << " channels last, got input "
                                  << shape_str(x));
  std::vector<py::ssize_t> shape = shape_of(x);
  shape.back() = co;
  Array out(shape);
  const T* in = x.data();
  T* o = out.mutable_data();
  const int64_t pixels = x.size() / ci;
  {
    py::gil_scoped_release release;
    cpu::cvt_color_cpu(in, o, pixels, mode);
  }
  return out;
}

py::array cvt_color(const py::object& x_in, int mode) {
  ENGINE_CHECK(mode >= kernels::kRgb2Gray && mode <= kernels::kBgr2Rgb,
               "cvt_color: unknown mode " << mode);
  py::array a = py::array::ensure(x_in);
  if (!a) throw py::error_already_set();
  const py::dtype dt = a.dtype();
  if (dt.kind() == 'u' && dt.itemsize() == 1) return convert<uint8_t>(ByteArray::ensure(a), mode);
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4,
               "cvt_color: expected a float32 or uint8 image, got " << std::string(py::str(dt)));
  ENGINE_CHECK(mode <= kernels::kGray2Rgb,
               "cvt_color: mode " << mode << " is defined for uint8 images only");
  return convert<float>(FloatArray::ensure(a), mode);
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(cvt_color) {
  using namespace pybind11::literals;
  m.def("cvt_color", &engine::cvt_color, "inp"_a, "mode"_a,
        "MegEngine CvtColor of a channels-last float32 / uint8 image (mode: kernels::CvtMode).");
#ifdef ENGINE_WITH_CUDA
  m.def("cvt_color_cuda", &engine::cuda::cvt_color_cuda, "in_ptr"_a, "out_ptr"_a, "pixels"_a,
        "mode"_a, "is_uint8"_a, "stream"_a, py::call_guard<py::gil_scoped_release>());
#endif
}
