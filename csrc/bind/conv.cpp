// Bindings of the convolution building blocks (cpu/im2col.cpp). The GEMMs run in numpy's BLAS on
// the buffers these functions produce; engine/ops/conv.py composes them into conv2d and its
// gradients.
#include <pybind11/stl.h>

#include <cstdint>
#include <algorithm>
#include <utility>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/depthwise.h"
#include "cpu/gemm.h"
#include "cpu/im2col.h"

namespace engine {
namespace {

using Pair = std::pair<int64_t, int64_t>;
using kernels::ColumnLayout;
using kernels::ConvGeometry;

// Geometry of a conv of input (N, C, H, W) with the given window; checks what the loops rely on.
ConvGeometry make_geometry(const char* fn, const std::vector<py::ssize_t>& in_shape, Pair kernel,
                           Pair stride, Pair pad, Pair dil, int64_t groups) {
  ENGINE_CHECK(in_shape.size() == 4,
               fn << ": expected an (N, C, H, W) input, got " << in_shape.size() << " dims");
  ENGINE_CHECK(kernel.first > 0 && kernel.second > 0 && stride.first > 0 && stride.second > 0 &&
                   dil.first > 0 && dil.second > 0 && pad.first >= 0 && pad.second >= 0,
               fn << ": kernel, stride and dilation must be positive and padding non-negative");
  ENGINE_CHECK(groups > 0 && in_shape[1] % groups == 0,
               fn << ": " << in_shape[1] << " channels are not divisible by groups=" << groups);
  ConvGeometry g;
  g.channels = in_shape[1];
  g.height = in_shape[2];
  g.width = in_shape[3];
  g.kernel_h = kernel.first;
  g.kernel_w = kernel.second;
  g.stride_h = stride.first;
  g.stride_w = stride.second;
  g.pad_h = pad.first;
  g.pad_w = pad.second;
  g.dil_h = dil.first;
  g.dil_w = dil.second;
  g.groups = groups;
  g.out_h = kernels::conv_out_size(g.height, g.kernel_h, g.stride_h, g.pad_h, g.dil_h);
  g.out_w = kernels::conv_out_size(g.width, g.kernel_w, g.stride_w, g.pad_w, g.dil_w);
  ENGINE_CHECK(g.out_h > 0 && g.out_w > 0,
               fn << ": input " << g.height << "x" << g.width << " is too small for kernel "
                  << g.kernel_h << "x" << g.kernel_w << " (padding " << g.pad_h << "x" << g.pad_w
                  << ", dilation " << g.dil_h << "x" << g.dil_w << ")");
  return g;
}

// The column buffer (G, K, N*P): per group, K = C/G*kh*kw rows of N*P output positions, so each
// group's GEMM is one large product (strides per kernels/im2col.h ColumnLayout).
std::vector<py::ssize_t> column_shape(const ConvGeometry& g, int64_t batch) {
  return {g.groups, g.channels / g.groups * g.kernel_h * g.kernel_w, batch * g.out_h * g.out_w};
}

ColumnLayout column_layout(const ConvGeometry& g, int64_t batch) {
  const int64_t rows = g.channels / g.groups * g.kernel_h * g.kernel_w;
  const int64_t columns = batch * g.out_h * g.out_w;
  return {rows * columns, columns, g.out_h * g.out_w};
}

// The result array: a new one, or `out` (a caller's workspace or a slice of the final result)
// after checking that the loops may write it as a dense float32 block of `shape`.
FloatArray result_array(const char* fn, const py::object& out,
                        const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return FloatArray(shape);
  ENGINE_CHECK(py::isinstance<py::array>(out), fn << ": out must be a numpy array");
  py::array a = py::reinterpret_borrow<py::array>(out);
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4,
               fn << ": out must be float32, got " << std::string(py::str(dt)));
  ENGINE_CHECK((a.flags() & py::array::c_style) && a.writeable(),
               fn << ": out must be a writable C-contiguous array");
  ENGINE_CHECK(shape_of(a) == shape, fn << ": out has shape " << shape_str(a) << ", expected "
                                        << std::string(py::str(py::cast(shape))));
  return py::reinterpret_borrow<FloatArray>(out);
}

FloatArray im2col(const py::object& x_in, Pair kernel, Pair stride, Pair pad, Pair dil,
                  int64_t groups, const py::object& out) {
  FloatArray x = as_float32(x_in, "conv_im2col", "x");
  const ConvGeometry g =
      make_geometry("conv_im2col", shape_of(x), kernel, stride, pad, dil, groups);
  const int64_t batch = x.shape(0);
  FloatArray col = result_array("conv_im2col", out, column_shape(g, batch));
  const float* xp = x.data();
  float* cp = col.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::im2col_cpu(xp, cp, batch, g, column_layout(g, batch));
  }
  return col;
}

FloatArray col2im(const py::object& col_in, const std::vector<py::ssize_t>& in_shape, Pair kernel,
                  Pair stride, Pair pad, Pair dil, int64_t groups, const py::object& out) {
  FloatArray col = as_float32(col_in, "conv_col2im", "col");
  const ConvGeometry g = make_geometry("conv_col2im", in_shape, kernel, stride, pad, dil, groups);
  const int64_t batch = in_shape[0];
  ENGINE_CHECK(shape_of(col) == column_shape(g, batch),
               "conv_col2im: column buffer of shape " << shape_str(col) << " does not match input "
                                                      << std::string(py::str(py::cast(in_shape)))
                                                      << " and the window");
  FloatArray x = result_array("conv_col2im", out, in_shape);
  const float* cp = col.data();
  float* xp = x.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::col2im_cpu(cp, xp, batch, g, column_layout(g, batch));
  }
  return x;
}

// (G, R, N*P) -> (N, G*R, P) (+ bias of G*R values).
FloatArray to_batch_major(const py::object& y_in, int64_t batch, const py::object& bias_in,
                          const py::object& out_in) {
  FloatArray y = as_float32(y_in, "conv_to_batch_major", "y");
  ENGINE_CHECK(
      y.ndim() == 3 && batch > 0 && y.shape(2) % batch == 0,
      "conv_to_batch_major: expected (G, R, N*P) with N=" << batch << ", got " << shape_str(y));
  const int64_t groups = y.shape(0), rows = y.shape(1), plane = y.shape(2) / batch;
  FloatArray bias;
  const float* bp = nullptr;
  if (!bias_in.is_none()) {
    bias = as_float32(bias_in, "conv_to_batch_major", "bias");
    ENGINE_CHECK(bias.size() == groups * rows, "conv_to_batch_major: bias of shape "
                                                   << shape_str(bias) << " needs " << groups * rows
                                                   << " values");
    bp = bias.data();
  }
  FloatArray out = result_array("conv_to_batch_major", out_in, {batch, groups * rows, plane});
  const float* yp = y.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::gather_batch_major(yp, op, batch, groups, rows, plane, bp);
  }
  return out;
}

// (N, G*R, P) -> (G, R, N*P).
FloatArray to_group_major(const py::object& y_in, int64_t groups, const py::object& out_in) {
  FloatArray y = as_float32(y_in, "conv_to_group_major", "y");
  ENGINE_CHECK(
      y.ndim() == 3 && groups > 0 && y.shape(1) % groups == 0,
      "conv_to_group_major: expected (N, G*R, P) with G=" << groups << ", got " << shape_str(y));
  const int64_t batch = y.shape(0), rows = y.shape(1) / groups, plane = y.shape(2);
  FloatArray out = result_array("conv_to_group_major", out_in, {groups, rows, batch * plane});
  const float* yp = y.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::scatter_group_major(yp, op, batch, groups, rows, plane);
  }
  return out;
}

// (G*Og, Cg, kh, kw) -> (G*Cg, Og, kh, kw), each tap grid rotated by 180 degrees.
FloatArray flip_filter(const py::object& w_in, int64_t groups) {
  FloatArray w = as_float32(w_in, "conv_flip_filter", "w");
  ENGINE_CHECK(w.ndim() == 4 && groups > 0 && w.shape(0) % groups == 0,
               "conv_flip_filter: expected a weight (G*Og, Cg, kh, kw) with G=" << groups
                                                                              << ", got "
                                                                              << shape_str(w));
  const int64_t og = w.shape(0) / groups, cg = w.shape(1), kh = w.shape(2), kw = w.shape(3);
  FloatArray out = result_array("conv_flip_filter", py::none(), {groups * cg, og, kh, kw});
  const float* wp = w.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::flip_transpose_filter(wp, op, groups, og, cg, kh * kw);
  }
  return out;
}

// y = conv(x, w) (+ bias) (then ReLU) as an implicit GEMM: x (N, C, H, W), w (O, C/G, kh, kw).
FloatArray gemm_forward(const py::object& x_in, const py::object& w_in, const py::object& bias_in,
                        Pair stride, Pair pad, Pair dil, int64_t groups, bool relu,
                        const py::object& out) {
  FloatArray x = as_float32(x_in, "conv2d_gemm_forward", "x");
  FloatArray w = as_float32(w_in, "conv2d_gemm_forward", "w");
  ENGINE_CHECK(w.ndim() == 4, "conv2d_gemm_forward: expected a weight (O, C/G, kh, kw), got shape "
                                  << shape_str(w));
  const ConvGeometry g = make_geometry("conv2d_gemm_forward", shape_of(x),
                                       {w.shape(2), w.shape(3)}, stride, pad, dil, groups);
  const int64_t o = w.shape(0);
  ENGINE_CHECK(w.shape(1) * groups == g.channels && o % groups == 0,
               "conv2d_gemm_forward: weight " << shape_str(w) << " does not fit input "
                                              << shape_str(x) << " with groups=" << groups);
  FloatArray bias;
  const float* bp = nullptr;
  if (!bias_in.is_none()) {
    bias = as_float32(bias_in, "conv2d_gemm_forward", "bias");
    ENGINE_CHECK(bias.size() == o, "conv2d_gemm_forward: bias of shape "
                                       << shape_str(bias) << " needs " << o << " values");
    bp = bias.data();
  }
  const int64_t batch = x.shape(0);
  FloatArray y = result_array("conv2d_gemm_forward", out, {batch, o, g.out_h, g.out_w});
  const float* xp = x.data();
  const float* wp = w.data();
  float* yp = y.mutable_data();
  if (batch > 0) {
    py::gil_scoped_release release;
    cpu::conv2d_forward_gemm(xp, wp, bp, relu, yp, batch, o, g);
  }
  return y;
}

// dw (O, C/G, kh, kw) of y = conv(x, w) for dy (N, O, OH, OW), as an implicit GEMM.
FloatArray gemm_backward_filter(const py::object& x_in, const py::object& dy_in, Pair kernel,
                                Pair stride, Pair pad, Pair dil, int64_t groups) {
  FloatArray x = as_float32(x_in, "conv2d_gemm_backward_filter", "x");
  FloatArray dy = as_float32(dy_in, "conv2d_gemm_backward_filter", "dy");
  const ConvGeometry g = make_geometry("conv2d_gemm_backward_filter", shape_of(x), kernel, stride,
                                       pad, dil, groups);
  ENGINE_CHECK(dy.ndim() == 4 && dy.shape(0) == x.shape(0) && dy.shape(2) == g.out_h &&
                   dy.shape(3) == g.out_w && dy.shape(1) % groups == 0,
               "conv2d_gemm_backward_filter: dy of shape "
                   << shape_str(dy) << " does not match input " << shape_str(x)
                   << " and the window (expected (N, O, " << g.out_h << ", " << g.out_w << "))");
  const int64_t o = dy.shape(1);
  FloatArray dw({o, g.channels / groups, g.kernel_h, g.kernel_w});
  const float* xp = x.data();
  const float* dyp = dy.data();
  float* dwp = dw.mutable_data();
  {
    py::gil_scoped_release release;
    if (x.shape(0) == 0) {
      std::fill(dwp, dwp + dw.size(), 0.f);
    } else {
      cpu::conv2d_backward_filter_gemm(xp, dyp, dwp, 0.f, x.shape(0), o, g);
    }
  }
  return dw;
}

// dx (N, C, H, W) of y = conv(x, w) for dy (N, O, OH, OW): in-place GEMMs per stride phase.
FloatArray gemm_backward_data(const py::object& dy_in, const py::object& w_in,
                              const std::vector<py::ssize_t>& in_shape, Pair stride, Pair pad,
                              Pair dil, int64_t groups) {
  FloatArray dy = as_float32(dy_in, "conv2d_gemm_backward_data", "dy");
  FloatArray w = as_float32(w_in, "conv2d_gemm_backward_data", "w");
  ENGINE_CHECK(w.ndim() == 4, "conv2d_gemm_backward_data: expected a weight (O, C/G, kh, kw), "
                              "got shape " << shape_str(w));
  const ConvGeometry g = make_geometry("conv2d_gemm_backward_data", in_shape,
                                       {w.shape(2), w.shape(3)}, stride, pad, dil, groups);
  const int64_t o = w.shape(0);
  ENGINE_CHECK(w.shape(1) * groups == g.channels && o % groups == 0,
               "conv2d_gemm_backward_data: weight " << shape_str(w) << " does not fit input shape "
                                                    << std::string(py::str(py::cast(in_shape)))
                                                    << " with groups=" << groups);
  ENGINE_CHECK(dy.ndim() == 4 && dy.shape(0) == in_shape[0] && dy.shape(1) == o &&
                   dy.shape(2) == g.out_h && dy.shape(3) == g.out_w,
               "conv2d_gemm_backward_data: dy of shape "
                   << shape_str(dy) << " does not match the weight " << shape_str(w)
                   << " and the window (expected (" << in_shape[0] << ", " << o << ", "
                   << g.out_h << ", " << g.out_w << "))");
  FloatArray dx(in_shape);
  const float* dyp = dy.data();
  const float* wp = w.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    if (dx.size() > 0) cpu::conv2d_backward_data_gemm(dyp, wp, dxp, in_shape[0], o, g);
  }
  return dx;
}

// Depthwise conv (groups == C, w (C*mult, 1, kh, kw)): checks shared by its three entries.
ConvGeometry depthwise_geometry(const char* fn, const std::vector<py::ssize_t>& in_shape,
                                const FloatArray& w, Pair stride, Pair pad, Pair dil,
                                int64_t* mult) {
  ENGINE_CHECK(w.ndim() == 4 && w.shape(1) == 1,
               fn << ": expected a depthwise weight (C*mult, 1, kh, kw), got " << shape_str(w));
  const ConvGeometry g = make_geometry(fn, in_shape, {w.shape(2), w.shape(3)}, stride, pad, dil,
                                       in_shape.size() == 4 ? in_shape[1] : 1);
  ENGINE_CHECK(w.shape(0) % g.channels == 0, fn << ": weight " << shape_str(w) << " has "
                                                << w.shape(0) << " output channels, not a "
                                                << "multiple of the " << g.channels << " inputs");
  *mult = w.shape(0) / g.channels;
  return g;
}

FloatArray depthwise_forward(const py::object& x_in, const py::object& w_in,
                             const py::object& bias_in, Pair stride, Pair pad, Pair dil) {
  FloatArray x = as_float32(x_in, "depthwise_conv2d_forward", "x");
  FloatArray w = as_float32(w_in, "depthwise_conv2d_forward", "w");
  int64_t mult = 0;
  const ConvGeometry g =
      depthwise_geometry("depthwise_conv2d_forward", shape_of(x), w, stride, pad, dil, &mult);
  FloatArray bias;
  const float* bp = nullptr;
  if (!bias_in.is_none()) {
    bias = as_float32(bias_in, "depthwise_conv2d_forward", "bias");
    ENGINE_CHECK(bias.size() == w.shape(0), "depthwise_conv2d_forward: bias of shape "
                                                << shape_str(bias) << " needs " << w.shape(0)
                                                << " values");
    bp = bias.data();
  }
  FloatArray y(std::vector<py::ssize_t>{x.shape(0), w.shape(0), static_cast<py::ssize_t>(g.out_h),
                                        static_cast<py::ssize_t>(g.out_w)});
  const float *xp = x.data(), *wp = w.data();
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::depthwise_forward_cpu(xp, wp, bp, yp, x.shape(0), mult, g);
  }
  return y;
}

FloatArray depthwise_backward_data(const py::object& dy_in, const py::object& w_in,
                                   const std::vector<py::ssize_t>& in_shape, Pair stride,
                                   Pair pad, Pair dil) {
  FloatArray dy = as_float32(dy_in, "depthwise_conv2d_backward_data", "dy");
  FloatArray w = as_float32(w_in, "depthwise_conv2d_backward_data", "w");
  int64_t mult = 0;
  const ConvGeometry g =
      depthwise_geometry("depthwise_conv2d_backward_data", in_shape, w, stride, pad, dil, &mult);
  ENGINE_CHECK(dy.ndim() == 4 && dy.shape(0) == in_shape[0] && dy.shape(1) == w.shape(0) &&
                   dy.shape(2) == g.out_h && dy.shape(3) == g.out_w,
               "depthwise_conv2d_backward_data: dy of shape " << shape_str(dy)
                                                             << " does not match the input and "
                                                                "weight");
  FloatArray dx(in_shape);
  const float *dyp = dy.data(), *wp = w.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::depthwise_backward_data_cpu(dyp, wp, dxp, in_shape[0], mult, g);
  }
  return dx;
}

FloatArray depthwise_backward_filter(const py::object& x_in, const py::object& dy_in,
                                     Pair kernel, Pair stride, Pair pad, Pair dil) {
  FloatArray x = as_float32(x_in, "depthwise_conv2d_backward_filter", "x");
  FloatArray dy = as_float32(dy_in, "depthwise_conv2d_backward_filter", "dy");
  ENGINE_CHECK(x.ndim() == 4 && dy.ndim() == 4 && dy.shape(0) == x.shape(0) && x.shape(1) > 0 &&
                   dy.shape(1) % x.shape(1) == 0,
               "depthwise_conv2d_backward_filter: x " << shape_str(x) << " and dy "
                                                      << shape_str(dy) << " do not match");
  const ConvGeometry g = make_geometry("depthwise_conv2d_backward_filter", shape_of(x), kernel,
                                       stride, pad, dil, x.shape(1));
  ENGINE_CHECK(dy.shape(2) == g.out_h && dy.shape(3) == g.out_w,
               "depthwise_conv2d_backward_filter: dy of shape " << shape_str(dy)
                                                                << " does not match the window");
  const int64_t mult = dy.shape(1) / x.shape(1);
  FloatArray dw(std::vector<py::ssize_t>{dy.shape(1), 1, static_cast<py::ssize_t>(kernel.first),
                                         static_cast<py::ssize_t>(kernel.second)});
  const float *xp = x.data(), *dyp = dy.data();
  float* dwp = dw.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::depthwise_backward_filter_cpu(xp, dyp, dwp, x.shape(0), mult, g);
  }
  return dw;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(conv) {
  using py::arg;
  const auto none = py::none();
  m.def("conv_im2col", &engine::im2col, arg("x"), arg("kernel"), arg("stride"), arg("padding"),
        arg("dilation"), arg("groups"), arg("out") = none,
        "Column buffer (G, K, N*P) of float32 x (N, C, H, W) for a grouped 2-D conv window, with "
        "K = C/G*kh*kw and P = out_h*out_w (zero padding); written into `out` when given.");
  m.def("conv_col2im", &engine::col2im, arg("col"), arg("input_shape"), arg("kernel"),
        arg("stride"), arg("padding"), arg("dilation"), arg("groups"), arg("out") = none,
        "Adjoint of conv_im2col: sums the column buffer back into an array of input_shape.");
  m.def("conv_to_batch_major", &engine::to_batch_major, arg("y"), arg("batch"), arg("bias") = none,
        arg("out") = none, "(G, R, N*P) -> (N, G*R, P), adding bias (G*R values) when given.");
  m.def("conv2d_gemm_forward", &engine::gemm_forward, arg("x"), arg("w"), arg("bias"),
        arg("stride"), arg("padding"), arg("dilation"), arg("groups"), arg("relu") = false,
        arg("out") = none,
        "y = conv2d(x, w) + bias (then ReLU when relu) for float32 NCHW x, as an implicit GEMM on "
        "engine's GEMM (no column buffer); bias is None or O values.");
  m.def("conv2d_gemm_backward_filter", &engine::gemm_backward_filter, arg("x"), arg("dy"),
        arg("kernel"), arg("stride"), arg("padding"), arg("dilation"), arg("groups"),
        "dw (O, C/G, kh, kw) of y = conv2d(x, w) for dy (N, O, OH, OW), as an implicit GEMM.");
  m.def("conv2d_gemm_backward_data", &engine::gemm_backward_data, arg("dy"), arg("w"),
        arg("in_shape"), arg("stride"), arg("padding"), arg("dilation"), arg("groups"),
        "dx (N, C, H, W) of y = conv2d(x, w) for dy (N, O, OH, OW): one GEMM per stride phase "
        "of dx, reading dy in place.");
  m.def("depthwise_conv2d_forward", &engine::depthwise_forward, arg("x"), arg("w"),
        arg("bias"), arg("stride"), arg("padding"), arg("dilation"),
        "Depthwise conv2d (groups = C) of float32 x (N, C, H, W) with w (C*mult, 1, kh, kw), "
        "plus bias (C*mult values) when given: direct loops, no GEMM.");
  m.def("depthwise_conv2d_backward_data", &engine::depthwise_backward_data, arg("dy"), arg("w"),
        arg("input_shape"), arg("stride"), arg("padding"), arg("dilation"),
        "dx of the depthwise conv2d for dy (N, C*mult, OH, OW).");
  m.def("depthwise_conv2d_backward_filter", &engine::depthwise_backward_filter, arg("x"),
        arg("dy"), arg("kernel"), arg("stride"), arg("padding"), arg("dilation"),
        "dw (C*mult, 1, kh, kw) of the depthwise conv2d.");
  m.def("conv_flip_filter", &engine::flip_filter, arg("w"), arg("groups") = 1,
        "(G*Og, Cg, kh, kw) -> (G*Cg, Og, kh, kw) rotated by 180 degrees: the filter of a "
        "stride-1 conv's data gradient.");
  m.def("conv_to_group_major", &engine::to_group_major, arg("y"), arg("groups"), arg("out") = none,
        "(N, G*R, P) -> (G, R, N*P).");
}
