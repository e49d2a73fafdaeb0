// Bindings of the softmax family and the fused losses (kernels/softmax.h, kernels/focal_loss.h).
// Arrays are float32 (int32 labels); a reduced axis is viewed as contiguous (outer, n, inner).
#include <cstdint>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/vision.h"

namespace engine {
namespace {

struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisView axis_view(const py::array& a, int64_t axis, const char* op) {
  ENGINE_CHECK(a.ndim() >= 1 && axis >= 0 && axis < a.ndim(),
               op << ": axis " << axis << " is out of range for shape " << shape_str(a));
  AxisView v;
  for (int64_t d = 0; d < a.ndim(); ++d) {
    if (d < axis) v.outer *= a.shape(d);
    if (d == axis) v.n = a.shape(d);
    if (d > axis) v.inner *= a.shape(d);
  }
  return v;
}

FloatArray softmax_forward(const py::object& x_in, int64_t axis, bool log) {
  FloatArray x = as_float32(x_in, "softmax_forward", "x");
  const AxisView v = axis_view(x, axis, "softmax_forward");
  FloatArray y(shape_of(x));
  const float* xp = x.data();
  float* yp = y.mutable_data();
  if (v.n > 0) {
    py::gil_scoped_release release;
    cpu::softmax_forward_cpu(xp, yp, v.outer, v.n, v.inner, log);
  }
  return y;
}

FloatArray softmax_backward(const py::object& y_in, const py::object& dy_in, int64_t axis,
                            bool log) {
  FloatArray y = as_float32(y_in, "softmax_backward", "y");
  FloatArray dy = as_float32(dy_in, "softmax_backward", "dy");
  ENGINE_CHECK(shape_of(y) == shape_of(dy), "softmax_backward: y " << shape_str(y) << " and dy "
                                                << shape_str(dy) << " must have one shape");
  const AxisView v = axis_view(y, axis, "softmax_backward");
  FloatArray dx(shape_of(y));
  const float *yp = y.data(), *dyp = dy.data();
  float* dxp = dx.mutable_data();
  if (v.n > 0) {
    py::gil_scoped_release release;
    cpu::softmax_backward_cpu(yp, dyp, dxp, v.outer, v.n, v.inner, log);
  }
  return dx;
}

// Labels: x's shape without `axis`, every value in [0, n).
AxisView check_labels(const FloatArray& x, const IntArray& label, int64_t axis, const char* op) {
  const AxisView v = axis_view(x, axis, op);
  std::vector<py::ssize_t> want = shape_of(x);
  want.erase(want.begin() + axis);
  ENGINE_CHECK(shape_of(label) == want, op << ": label shape " << shape_str(label)
                                           << " must be x shape " << shape_str(x)
                                           << " without axis " << axis);
  ENGINE_CHECK(v.n > 0, op << ": no classes along axis " << axis << " of " << shape_str(x));
  const int32_t* lp = label.data();
  for (int64_t i = 0; i < label.size(); ++i) {
    ENGINE_CHECK(lp[i] >= 0 && lp[i] < v.n,
                 op << ": label " << lp[i] << " at flat index " << i << " is not in [0, " << v.n
                    << ")");
  }
  return v;
}

FloatArray cross_entropy_forward(const py::object& x_in, const py::object& label_in, int64_t axis,
                                 float smooth) {
  FloatArray x = as_float32(x_in, "cross_entropy_forward", "x");
  IntArray label = as_int32(label_in, "cross_entropy_forward", "label");
  const AxisView v = check_labels(x, label, axis, "cross_entropy_forward");
  FloatArray loss(shape_of(label));
  const float* xp = x.data();
  const int32_t* lp = label.data();
  float* outp = loss.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::cross_entropy_forward_cpu(xp, lp, outp, v.outer, v.n, v.inner, smooth);
  }
  return loss;
}

FloatArray cross_entropy_backward(const py::object& x_in, const py::object& label_in,
                                  const py::object& dloss_in, int64_t axis, float smooth) {
  FloatArray x = as_float32(x_in, "cross_entropy_backward", "x");
  IntArray label = as_int32(label_in, "cross_entropy_backward", "label");
  FloatArray dloss = as_float32(dloss_in, "cross_entropy_backward", "dloss");
  const AxisView v = check_labels(x, label, axis, "cross_entropy_backward");
  ENGINE_CHECK(shape_of(dloss) == shape_of(label),
               "cross_entropy_backward: dloss " << shape_str(dloss) << " must have the label shape "
                                                << shape_str(label));
  FloatArray dx(shape_of(x));
  const float *xp = x.data(), *gp = dloss.data();
  const int32_t* lp = label.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::cross_entropy_backward_cpu(xp, lp, gp, dxp, v.outer, v.n, v.inner, smooth);
  }
  return dx;
}

void check_same(const py::array& a, const py::array& b, const char* op, const char* an,
                const char* bn) {
  ENGINE_CHECK(shape_of(a) == shape_of(b), op << ": " << an << " " << shape_str(a) << " and " << bn
                                              << " " << shape_str(b) << " must have one shape");
}

FloatArray focal_loss_forward(const py::object& x_in, const py::object& t_in, float alpha,
                              float gamma) {
  FloatArray x = as_float32(x_in, "focal_loss_forward", "x");
  FloatArray t = as_float32(t_in, "focal_loss_forward", "target");
  check_same(x, t, "focal_loss_forward", "x", "target");
  FloatArray loss(shape_of(x));
  const float *xp = x.data(), *tp = t.data();
  float* lp = loss.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::focal_loss_forward_cpu(xp, tp, lp, n, alpha, gamma);
  }
  return loss;
}

py::tuple focal_loss_backward(const py::object& x_in, const py::object& t_in,
                              const py::object& g_in, float alpha, float gamma) {
  FloatArray x = as_float32(x_in, "focal_loss_backward", "x");
  FloatArray t = as_float32(t_in, "focal_loss_backward", "target");
  FloatArray g = as_float32(g_in, "focal_loss_backward", "dloss");
  check_same(x, t, "focal_loss_backward", "x", "target");
  check_same(x, g, "focal_loss_backward", "x", "dloss");
  FloatArray dx(shape_of(x)), dt(shape_of(x));
  const float *xp = x.data(), *tp = t.data(), *gp = g.data();
  float *dxp = dx.mutable_data(), *dtp = dt.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release release;
    cpu::focal_loss_backward_cpu(xp, tp, gp, dxp, dtp, n, alpha, gamma);
  }
  return py::make_tuple(dx, dt);
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(softmax) {
  m.def("softmax_forward", &engine::softmax_forward, py::arg("x"), py::arg("axis"),
        py::arg("log"), "softmax (log=False) or log_softmax (log=True) of float32 x along axis.");
  m.def("softmax_backward", &engine::softmax_backward, py::arg("y"), py::arg("dy"),
        py::arg("axis"), py::arg("log"),
        "Input gradient of (log_)softmax from its output y and output gradient dy.");
  m.def("cross_entropy_forward", &engine::cross_entropy_forward, py::arg("x"), py::arg("label"),
        py::arg("axis"), py::arg("smooth"),
        "Per-position cross entropy of logits x against int32 labels (x's shape without axis), "
        "with label smoothing; log-softmax and NLL fused, nothing of x's size is stored.");
  m.def("cross_entropy_backward", &engine::cross_entropy_backward, py::arg("x"), py::arg("label"),
        py::arg("dloss"), py::arg("axis"), py::arg("smooth"),
        "Gradient of cross_entropy_forward: dloss * (softmax(x) - smoothed one-hot target).");
  m.def("focal_loss_forward", &engine::focal_loss_forward, py::arg("x"), py::arg("target"),
        py::arg("alpha"), py::arg("gamma"),
        "Elementwise sigmoid focal loss of logits x against float targets (alpha < 0: none).");
  m.def("focal_loss_backward", &engine::focal_loss_backward, py::arg("x"), py::arg("target"),
        py::arg("dloss"), py::arg("alpha"), py::arg("gamma"),
        "Gradients (dx, dtarget) of the sigmoid focal loss scaled by dloss.");
}
