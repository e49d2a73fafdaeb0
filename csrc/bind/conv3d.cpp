// Bindings of 3-D convolution's column buffer (cpu/vol2col.cpp, cuda/vol2col.cu). The GEMMs run
// in numpy's BLAS (cuBLAS through CuPy on a GPU) on these buffers; engine/ops/conv3d_impl.py
// composes them into conv3d and its gradients, in the layout of the 2-D path (bind/conv.cpp).
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <vector>

#include "bind/arrays.h"
#include "bind/out_array.h"
#include "bind/registry.h"
#include "cpu/vol2col.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/vol2col.h"
#endif

namespace engine {
namespace {

using Triple = std::array<int64_t, 3>;
using kernels::ColumnLayout;
using kernels::Conv3dGeometry;

Conv3dGeometry make_geometry(const char* fn, const std::vector<py::ssize_t>& in_shape,
                             Triple kernel, Triple stride, Triple pad, Triple dil,
                             int64_t groups) {
  ENGINE_CHECK(in_shape.size() == 5, fn << ": expected an (N, C, D, H, W) input, got "
                                        << in_shape.size() << " dims");
  for (int i = 0; i < 3; ++i) {
    ENGINE_CHECK(kernel[i] > 0 && stride[i] > 0 && dil[i] > 0 && pad[i] >= 0,
                 fn << ": kernel, stride and dilation must be positive and padding "
                       "non-negative");
  }
  ENGINE_CHECK(groups > 0 && in_shape[1] % groups == 0,
               fn << ": " << in_shape[1] << " channels are not divisible by groups=" << groups);
  Conv3dGeometry g;
  g.channels = in_shape[1];
  g.depth = in_shape[2];
  g.height = in_shape[3];
  g.width = in_shape[4];
  g.kernel_d = kernel[0], g.kernel_h = kernel[1], g.kernel_w = kernel[2];
  g.stride_d = stride[0], g.stride_h = stride[1], g.stride_w = stride[2];
  g.pad_d = pad[0], g.pad_h = pad[1], g.pad_w = pad[2];
  g.dil_d = dil[0], g.dil_h = dil[1], g.dil_w = dil[2];
  g.groups = groups;
  g.out_d = kernels::conv_out_size(g.depth, g.kernel_d, g.stride_d, g.pad_d, g.dil_d);
  g.out_h = kernels::conv_out_size(g.height, g.kernel_h, g.stride_h, g.pad_h, g.dil_h);
  g.out_w = kernels::conv_out_size(g.width, g.kernel_w, g.stride_w, g.pad_w, g.dil_w);
  ENGINE_CHECK(g.out_d > 0 && g.out_h > 0 && g.out_w > 0,
               fn << ": input " << g.depth << "x" << g.height << "x" << g.width
                  << " is too small for kernel " << g.kernel_d << "x" << g.kernel_h << "x"
                  << g.kernel_w);
  return g;
}

// (G, K, N*P): per group, K = C/G*kd*kh*kw rows of N*P output positions.
std::vector<py::ssize_t> column_shape(const Conv3dGeometry& g, int64_t batch) {
  return {g.groups, g.channels / g.groups * g.taps(), batch * g.positions()};
}

ColumnLayout column_layout(const Conv3dGeometry& g, int64_t batch) {
  const int64_t rows = g.channels / g.groups * g.taps(), columns = batch * g.positions();
  return {rows * columns, columns, g.positions()};
}

FloatArray vol2col(const py::object& x_in, Triple kernel, Triple stride, Triple pad, Triple dil,
                   int64_t groups, const py::object& out) {
  const char* fn = "conv3d_vol2col";
  FloatArray x = as_float32(x_in, fn, "x");
  const Conv3dGeometry g = make_geometry(fn, shape_of(x), kernel, stride, pad, dil, groups);
  const int64_t batch = x.shape(0);
  FloatArray col = out_or_new(fn, out, column_shape(g, batch));
  const float* xp = x.data();
  float* cp = col.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::vol2col_cpu(xp, cp, batch, g, column_layout(g, batch));
  }
  return col;
}

FloatArray col2vol(const py::object& col_in, const std::vector<py::ssize_t>& in_shape,
                   Triple kernel, Triple stride, Triple pad, Triple dil, int64_t groups,
                   const py::object& out) {
  const char* fn = "conv3d_col2vol";
  FloatArray col = as_float32(col_in, fn, "col");
  const Conv3dGeometry g = make_geometry(fn, in_shape, kernel, stride, pad, dil, groups);
  const int64_t batch = in_shape[0];
  ENGINE_CHECK(shape_of(col) == column_shape(g, batch),
               fn << ": column buffer of shape " << shape_str(col) << " does not match input "
                  << std::string(py::str(py::cast(in_shape))) << " and the window");
  FloatArray x = out_or_new(fn, out, in_shape);
  const float* cp = col.data();
  float* xp = x.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::col2vol_cpu(cp, xp, batch, g, column_layout(g, batch));
  }
  return x;
}

#ifdef ENGINE_WITH_CUDA
// Device buffers: x (N, C, D, H, W) and col (G, K, N*P), contiguous float32 (checked by the
// caller, engine/ops/conv3d_impl.py, which allocates col).
void vol2col_cuda(uintptr_t x, uintptr_t col, const std::vector<py::ssize_t>& in_shape,
                  Triple kernel, Triple stride, Triple pad, Triple dil, int64_t groups,
                  uintptr_t stream) {
  const Conv3dGeometry g =
      make_geometry("conv3d_vol2col_cuda", in_shape, kernel, stride, pad, dil, groups);
  py::gil_scoped_release release;
  cuda::vol2col_cuda(x, col, in_shape[0], g, column_layout(g, in_shape[0]), stream);
}

void col2vol_cuda(uintptr_t col, uintptr_t x, const std::vector<py::ssize_t>& in_shape,
                  Triple kernel, Triple stride, Triple pad, Triple dil, int64_t groups,
                  uintptr_t stream) {
  const Conv3dGeometry g =
      make_geometry("conv3d_col2vol_cuda", in_shape, kernel, stride, pad, dil, groups);
  py::gil_scoped_release release;
  cuda::col2vol_cuda(col, x, in_shape[0], g, column_layout(g, in_shape[0]), stream);
}
#endif

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(conv3d) {
  using py::arg;
  const auto none = py::none();
  m.def("conv3d_vol2col", &engine::vol2col, arg("x"), arg("kernel"), arg("stride"),
        arg("padding"), arg("dilation"), arg("groups"), arg("out") = none,
        "Column buffer (G, K, N*P) of float32 x (N, C, D, H, W) for a grouped 3-D conv window, "
        "with K = C/G*kd*kh*kw and P = out_d*out_h*out_w (zero padding).");
  m.def("conv3d_col2vol", &engine::col2vol, arg("col"), arg("input_shape"), arg("kernel"),
        arg("stride"), arg("padding"), arg("dilation"), arg("groups"), arg("out") = none,
        "Adjoint of conv3d_vol2col: sums the column buffer back into an array of input_shape.");
#ifdef ENGINE_WITH_CUDA
  m.def("conv3d_vol2col_cuda", &engine::vol2col_cuda, arg("x_ptr"), arg("col_ptr"),
        arg("input_shape"), arg("kernel"), arg("stride"), arg("padding"), arg("dilation"),
        arg("groups"), arg("stream"),
        "conv3d_vol2col on float32 device buffers (raw pointers) on the given CUDA stream.");
  m.def("conv3d_col2vol_cuda", &engine::col2vol_cuda, arg("col_ptr"), arg("x_ptr"),
        arg("input_shape"), arg("kernel"), arg("stride"), arg("padding"), arg("dilation"),
        arg("groups"), arg("stream"),
        "conv3d_col2vol on float32 device buffers (raw pointers) on the given CUDA stream.");
#endif
}
