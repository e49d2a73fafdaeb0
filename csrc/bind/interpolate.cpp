// Bindings of NCHW nearest / bilinear resizing (kernels/interpolate.h).
#include <cstdint>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/vision.h"

namespace engine {
namespace {

FloatArray interpolate_forward(const py::object& x_in, int64_t out_h, int64_t out_w,
                               float scale_h, float scale_w, bool bilinear, bool align_corners) {
  FloatArray x = as_float32(x_in, "interpolate", "inp");
  ENGINE_CHECK(x.ndim() == 4, "interpolate: input must be NCHW (4-D), got " << shape_str(x));
  ENGINE_CHECK(out_h > 0 && out_w > 0 && x.shape(2) > 0 && x.shape(3) > 0,
               "interpolate: cannot resize " << shape_str(x) << " to (" << out_h << ", " << out_w
                                             << ")");
  const int64_t planes = x.shape(0) * x.shape(1), in_h = x.shape(2), in_w = x.shape(3);
  FloatArray y(std::vector<py::ssize_t>{x.shape(0), x.shape(1), out_h, out_w});
  const float* xp = x.data();
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::interpolate_forward_cpu(xp, yp, planes, in_h, in_w, out_h, out_w, scale_h, scale_w,
                                 bilinear, align_corners);
  }
  return y;
}

FloatArray interpolate_backward(const py::object& dy_in, int64_t in_h, int64_t in_w,
                                float scale_h, float scale_w, bool bilinear, bool align_corners) {
  FloatArray dy = as_float32(dy_in, "interpolate_backward", "dy");
  ENGINE_CHECK(dy.ndim() == 4 && in_h > 0 && in_w > 0,
               "interpolate_backward: dy must be NCHW (4-D) and the input size positive, got dy "
                   << shape_str(dy) << " and input size (" << in_h << ", " << in_w << ")");
  const int64_t planes = dy.shape(0) * dy.shape(1), out_h = dy.shape(2), out_w = dy.shape(3);
  FloatArray dx(std::vector<py::ssize_t>{dy.shape(0), dy.shape(1), in_h, in_w});
  const float* gp = dy.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::interpolate_backward_cpu(gp, dxp, planes, in_h, in_w, out_h, out_w, scale_h, scale_w,
                                  bilinear, align_corners);
  }
  return dx;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(interpolate) {
  using namespace pybind11::literals;
  m.def("interpolate_forward", &engine::interpolate_forward, "inp"_a, "out_h"_a, "out_w"_a,
        "scale_h"_a, "scale_w"_a, "bilinear"_a, "align_corners"_a,
        "Resize float32 NCHW input to (out_h, out_w), nearest or bilinear, with PyTorch's "
        "source-coordinate rule for the given scales.");
  m.def("interpolate_backward", &engine::interpolate_backward, "dy"_a, "in_h"_a, "in_w"_a,
        "scale_h"_a, "scale_w"_a, "bilinear"_a, "align_corners"_a,
        "Input gradient of interpolate_forward (the adjoint resize).");
}
