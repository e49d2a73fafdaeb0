// Bindings of deformable convolution's column buffer (cpu/deform_conv.cpp, cuda/deform_conv.cu).
// engine/ops/deform_conv.py multiplies the buffer with the weights (a GEMM) and differentiates
// through deform_col2im.
#include <pybind11/stl.h>

#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/deform_conv.h"
#include "kernels/im2col.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/deform_conv.h"
#endif

namespace engine {
namespace {

using Pair = std::pair<int64_t, int64_t>;
using Shape = std::vector<py::ssize_t>;
using kernels::DeformGeometry;

// Geometry from the shapes of x (N, C, H, W), offset (N, 2*DG*T, OH, OW) and mask
// (N, DG*T, OH, OW); checks everything the loops rely on.
DeformGeometry make_geometry(const char* fn, const Shape& x, const Shape& offset,
                             const Shape& mask, Pair kernel, Pair stride, Pair pad, Pair dil) {
  ENGINE_CHECK(x.size() == 4 && offset.size() == 4 && mask.size() == 4,
               fn << ": expected 4-D input, offset and mask");
  ENGINE_CHECK(kernel.first > 0 && kernel.second > 0 && stride.first > 0 && stride.second > 0 &&
                   dil.first > 0 && dil.second > 0 && pad.first >= 0 && pad.second >= 0,
               fn << ": kernel, stride and dilation must be positive and padding non-negative");
  DeformGeometry g;
  g.channels = x[1], g.height = x[2], g.width = x[3];
  g.kernel_h = kernel.first, g.kernel_w = kernel.second;
  g.stride_h = stride.first, g.stride_w = stride.second;
  g.pad_h = pad.first, g.pad_w = pad.second;
  g.dil_h = dil.first, g.dil_w = dil.second;
  g.out_h = kernels::conv_out_size(g.height, g.kernel_h, g.stride_h, g.pad_h, g.dil_h);
  g.out_w = kernels::conv_out_size(g.width, g.kernel_w, g.stride_w, g.pad_w, g.dil_w);
  const int64_t taps = g.taps();
  ENGINE_CHECK(g.out_h > 0 && g.out_w > 0, fn << ": input " << g.height << "x" << g.width
                                              << " is too small for the window");
  ENGINE_CHECK(mask[1] % taps == 0 && mask[1] > 0,
               fn << ": mask has " << mask[1] << " channels, expected a multiple of " << taps);
  g.deform_groups = mask[1] / taps;
  const Shape want_offset{x[0], 2 * g.deform_groups * taps, g.out_h, g.out_w};
  const Shape want_mask{x[0], g.deform_groups * taps, g.out_h, g.out_w};
  ENGINE_CHECK(offset == want_offset && mask == want_mask,
               fn << ": offset " << std::string(py::str(py::cast(offset))) << " and mask "
                  << std::string(py::str(py::cast(mask))) << " do not match "
                  << std::string(py::str(py::cast(want_offset))) << " and "
                  << std::string(py::str(py::cast(want_mask))));
  ENGINE_CHECK(g.channels % g.deform_groups == 0,
               fn << ": " << g.channels << " channels are not divisible by " << g.deform_groups
                  << " deformable groups");
  return g;
}

Shape column_shape(const DeformGeometry& g, int64_t batch) {
  return {batch, g.channels * g.taps(), g.positions()};
}

FloatArray im2col(const py::object& x_in, const py::object& offset_in, const py::object& mask_in,
                  Pair kernel, Pair stride, Pair pad, Pair dil) {
  const char* fn = "deform_im2col";
  FloatArray x = as_float32(x_in, fn, "x");
  FloatArray offset = as_float32(offset_in, fn, "offset");
  FloatArray mask = as_float32(mask_in, fn, "mask");
  const DeformGeometry g =
      make_geometry(fn, shape_of(x), shape_of(offset), shape_of(mask), kernel, stride, pad, dil);
  const int64_t batch = x.shape(0);
  FloatArray col(column_shape(g, batch));
  const float *xp = x.data(), *op = offset.data(), *mp = mask.data();
  float* cp = col.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::deform_im2col_cpu(xp, op, mp, cp, batch, g);
  }
  return col;
}

std::tuple<FloatArray, FloatArray, FloatArray> col2im(const py::object& x_in,
                                                      const py::object& offset_in,
                                                      const py::object& mask_in,
                                                      const py::object& dcol_in, Pair kernel,
                                                      Pair stride, Pair pad, Pair dil) {
  const char* fn = "deform_col2im";
  FloatArray x = as_float32(x_in, fn, "x");
  FloatArray offset = as_float32(offset_in, fn, "offset");
  FloatArray mask = as_float32(mask_in, fn, "mask");
  FloatArray dcol = as_float32(dcol_in, fn, "dcol");
  const DeformGeometry g =
      make_geometry(fn, shape_of(x), shape_of(offset), shape_of(mask), kernel, stride, pad, dil);
  const int64_t batch = x.shape(0);
  ENGINE_CHECK(shape_of(dcol) == column_shape(g, batch),
               fn << ": dcol has shape " << shape_str(dcol) << ", expected "
                  << std::string(py::str(py::cast(column_shape(g, batch)))));
  FloatArray dx(shape_of(x)), doffset(shape_of(offset)), dmask(shape_of(mask));
  const float *xp = x.data(), *op = offset.data(), *mp = mask.data(), *dp = dcol.data();
  float *dxp = dx.mutable_data(), *dop = doffset.mutable_data(), *dmp = dmask.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::deform_col2im_cpu(xp, op, mp, dp, dxp, dop, dmp, batch, g);
  }
  return {dx, doffset, dmask};
}

#ifdef ENGINE_WITH_CUDA
// Device buffers (raw pointers) of the shapes given; the caller allocates the results.
void im2col_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t col, const Shape& xs,
                 const Shape& os, const Shape& ms, Pair kernel, Pair stride, Pair pad, Pair dil,
                 uintptr_t stream) {
  const DeformGeometry g =
      make_geometry("deform_im2col_cuda", xs, os, ms, kernel, stride, pad, dil);
  py::gil_scoped_release release;
  cuda::deform_im2col_cuda(x, offset, mask, col, xs[0], g, stream);
}

void col2im_cuda(uintptr_t x, uintptr_t offset, uintptr_t mask, uintptr_t dcol, uintptr_t dx,
                 uintptr_t doffset, uintptr_t dmask, const Shape& xs, const Shape& os,
                 const Shape& ms, Pair kernel, Pair stride, Pair pad, Pair dil,
                 uintptr_t stream) {
  const DeformGeometry g =
      make_geometry("deform_col2im_cuda", xs, os, ms, kernel, stride, pad, dil);
  py::gil_scoped_release release;
  cuda::deform_col2im_cuda(x, offset, mask, dcol, dx, doffset, dmask, xs[0], g, stream);
}
#endif

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(deform_conv) {
  using py::arg;
  m.def("deform_im2col", &engine::im2col, arg("x"), arg("offset"), arg("mask"), arg("kernel"),
        arg("stride"), arg("padding"), arg("dilation"),
        "Column buffer (N, C*kh*kw, OH*OW) of a modulated deformable conv: each tap samples x "
        "bilinearly at its offset position and is scaled by the mask (float32 arrays).");
  m.def("deform_col2im", &engine::col2im, arg("x"), arg("offset"), arg("mask"), arg("dcol"),
        arg("kernel"), arg("stride"), arg("padding"), arg("dilation"),
        "Gradients (dx, doffset, dmask) of deform_im2col given the column gradient dcol.");
#ifdef ENGINE_WITH_CUDA
  m.def("deform_im2col_cuda", &engine::im2col_cuda, arg("x_ptr"), arg("offset_ptr"),
        arg("mask_ptr"), arg("col_ptr"), arg("x_shape"), arg("offset_shape"),
        arg("mask_shape"), arg("kernel"), arg("stride"), arg("padding"), arg("dilation"),
        arg("stream"), "deform_im2col on float32 device buffers (raw pointers).");
  m.def("deform_col2im_cuda", &engine::col2im_cuda, arg("x_ptr"), arg("offset_ptr"),
        arg("mask_ptr"), arg("dcol_ptr"), arg("dx_ptr"), arg("doffset_ptr"), arg("dmask_ptr"),
        arg("x_shape"), arg("offset_shape"), arg("mask_shape"), arg("kernel"), arg("stride"),
        arg("padding"), arg("dilation"), arg("stream"),
        "deform_col2im on float32 device buffers (raw pointers); dx is zeroed first.");
#endif
}
