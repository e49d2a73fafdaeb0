// Bindings of the convolution building blocks (cpu/im2col.cpp). The GEMMs run in numpy's BLAS on
// the buffers these functions produce; engine/ops/conv.py composes them into conv2d and its
// gradients.
#include <pybind11/stl.h>

#include <cstdint>
#include <utility>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/im2col.h"

namespace engine {
namespace {

using Pair = std::pair<int64_t, int64_t>;
using kernels::ColumnLayout;
using kernels::ConvGeometry;

// Geometry of a conv of input (N, C, H, W) with the given window; checks what the loops rely on.
ConvGeometry make_geometry(const char* fn, const std::vector<py::ssize_t>& in_shape, Pair kernel,
                           Pair stride, Pair pad, Pair dil, int64_t groups) {
  ENGINE_CHECK(in_shape.size() == 4, fn << ": expected an (N, C, H, W) input, got "
                                         << in_shape.size() << " dims");
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

// Column-buffer shape and strides: batch-major (N, G, K, P) or group-major (G, K, N*P).
struct Columns {
  std::vector<py::ssize_t> shape;
  ColumnLayout layout;
};

Columns columns_for(const ConvGeometry& g, int64_t batch, bool batch_major) {
  const int64_t rows = g.channels / g.groups * g.kernel_h * g.kernel_w;  // K per group
  const int64_t positions = g.out_h * g.out_w;                           // P
  if (batch_major) {
    return {{batch, g.groups, rows, positions},
            {rows * positions, positions, g.groups * rows * positions}};
  }
  return {{g.groups, rows, batch * positions},
          {rows * batch * positions, batch * positions, positions}};
}

FloatArray im2col(const py::object& x_in, Pair kernel, Pair stride, Pair pad, Pair dil,
                  int64_t groups, bool batch_major) {
  FloatArray x = as_float32(x_in, "conv_im2col", "x");
  const ConvGeometry g = make_geometry("conv_im2col", shape_of(x), kernel, stride, pad, dil, groups);
  const int64_t batch = x.shape(0);
  const Columns cols = columns_for(g, batch, batch_major);
  FloatArray col(cols.shape);
  const float* xp = x.data();
  float* cp = col.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::im2col_cpu(xp, cp, batch, g, cols.layout);
  }
  return col;
}

FloatArray col2im(const py::object& col_in, const std::vector<py::ssize_t>& in_shape, Pair kernel,
                  Pair stride, Pair pad, Pair dil, int64_t groups, bool batch_major) {
  FloatArray col = as_float32(col_in, "conv_col2im", "col");
  const ConvGeometry g = make_geometry("conv_col2im", in_shape, kernel, stride, pad, dil, groups);
  const int64_t batch = in_shape[0];
  const Columns cols = columns_for(g, batch, batch_major);
  ENGINE_CHECK(shape_of(col) == cols.shape,
               "conv_col2im: column buffer of shape " << shape_str(col) << " does not match input "
                                                      << py::str(py::cast(in_shape)).cast<std::string>()
                                                      << " and the window");
  FloatArray x(in_shape);
  const float* cp = col.data();
  float* xp = x.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::col2im_cpu(cp, xp, batch, g, cols.layout);
  }
  return x;
}

// (G, R, N*P) -> (N, G*R, P) (+ bias of G*R values).
FloatArray to_batch_major(const py::object& y_in, int64_t batch, const py::object& bias_in) {
  FloatArray y = as_float32(y_in, "conv_to_batch_major", "y");
  ENGINE_CHECK(y.ndim() == 3 && batch > 0 && y.shape(2) % batch == 0,
               "conv_to_batch_major: expected (G, R, N*P) with N=" << batch << ", got "
                                                                   << shape_str(y));
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
  FloatArray out(std::vector<py::ssize_t>{batch, groups * rows, plane});
  const float* yp = y.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::gather_batch_major(yp, op, batch, groups, rows, plane, bp);
  }
  return out;
}

// (N, G*R, P) -> (G, R, N*P).
FloatArray to_group_major(const py::object& y_in, int64_t groups) {
  FloatArray y = as_float32(y_in, "conv_to_group_major", "y");
  ENGINE_CHECK(y.ndim() == 3 && groups > 0 && y.shape(1) % groups == 0,
               "conv_to_group_major: expected (N, G*R, P) with G=" << groups << ", got "
                                                                   << shape_str(y));
  const int64_t batch = y.shape(0), rows = y.shape(1) / groups, plane = y.shape(2);
  FloatArray out(std::vector<py::ssize_t>{groups, rows, batch * plane});
  const float* yp = y.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::scatter_group_major(yp, op, batch, groups, rows, plane);
  }
  return out;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(conv) {
  using py::arg;
  m.def("conv_im2col", &engine::im2col, arg("x"), arg("kernel"), arg("stride"), arg("padding"),
        arg("dilation"), arg("groups"), arg("batch_major"),
        "Column buffer of float32 x (N, C, H, W) for a grouped 2-D conv window: (N, G, K, P) when "
        "batch_major, else (G, K, N*P), with K = C/G*kh*kw and P = out_h*out_w; zero padding.");
  m.def("conv_col2im", &engine::col2im, arg("col"), arg("input_shape"), arg("kernel"),
        arg("stride"), arg("padding"), arg("dilation"), arg("groups"), arg("batch_major"),
        "Adjoint of conv_im2col: sums the column buffer back into an array of input_shape.");
  m.def("conv_to_batch_major", &engine::to_batch_major, arg("y"), arg("batch"),
        arg("bias") = py::none(),
        "(G, R, N*P) -> (N, G*R, P), adding bias (G*R values) when given.");
  m.def("conv_to_group_major", &engine::to_group_major, arg("y"), arg("groups"),
        "(N, G*R, P) -> (G, R, N*P).");
}
