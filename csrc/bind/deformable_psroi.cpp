// Bindings of deformable PSROI pooling (csrc/kernels/deformable_psroi.h): inp float32 NCHW,
// rois float32 (K, 5) = batch index x1 y1 x2 y2, trans float32 (K, 2, pooled_h, pooled_w).
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/deformable_psroi.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/deformable_psroi.h"
#endif

namespace engine {
namespace {

using kernels::DpsroiParams;
using Shape = std::vector<int64_t>;

DpsroiParams dpsroi_params(const Shape& x, const Shape& rois, const Shape& trans, bool no_trans,
                           int64_t part_size, int64_t pooled_h, int64_t pooled_w,
                           int64_t sample_per_part, float spatial_scale, float trans_std) {
  const char* op = "deformable_psroi_pooling";
  ENGINE_CHECK(x.size() == 4, op << ": inp must be NCHW (4-D)");
  ENGINE_CHECK(rois.size() == 2 && rois[1] == 5, op << ": rois must have shape (K, 5)");
  ENGINE_CHECK(pooled_h > 0 && pooled_w > 0 && sample_per_part > 0,
               op << ": pooled_h, pooled_w and sample_per_part must be positive, got "
                  << pooled_h << ", " << pooled_w << ", " << sample_per_part);
  ENGINE_CHECK(trans.size() == 4, op << ": trans must be 4-D");
  if (!no_trans) {
    // megdnn's layout check: (K, 2, pooled_h, pooled_w); its kernel then reads that buffer with
    // part_size x part_size planes (flat offsets), which we reproduce.
    ENGINE_CHECK(part_size > 0, op << ": part_size must be positive, got " << part_size);
    ENGINE_CHECK(trans[1] == 2 && trans[2] == pooled_h && trans[3] == pooled_w,
                 op << ": trans must have shape (K, 2, " << pooled_h << ", " << pooled_w << ")");
    ENGINE_CHECK(trans[0] * 2 * pooled_h * pooled_w >= rois[0] * 2 * part_size * part_size,
                 op << ": trans of " << trans[0] << " rois is too small for " << rois[0]
                    << " rois with part_size " << part_size);
  }
  const int64_t num_cls = 1;
  return {x[0],     x[1], x[2],          x[3],      rois[0],  pooled_h, pooled_w,
          part_size, sample_per_part, num_cls, spatial_scale, trans_std, no_trans};
}

Shape dims(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }

void check_roi_batch(const FloatArray& rois, int64_t batch, const char* op) {
  const float* r = rois.data();
  for (int64_t k = 0; k < rois.shape(0); ++k) {
    const float b = r[5 * k];  // truncated to an int by the kernel, as megdnn does
    ENGINE_CHECK(b > -1 && b < batch, op << ": roi " << k << " has batch index " << b
                                         << ", expected one in [0, " << batch << ")");
    for (int j = 1; j < 5; ++j) {
      ENGINE_CHECK(std::isfinite(r[5 * k + j]),
                   op << ": roi " << k << " has a non-finite coordinate " << r[5 * k + j]);
    }
  }
}

py::tuple dpsroi_forward(const py::object& x_in, const py::object& rois_in,
                         const py::object& trans_in, bool no_trans, int64_t part_size,
                         int64_t pooled_h, int64_t pooled_w, int64_t sample_per_part,
                         float spatial_scale, float trans_std) {
  const char* op = "deformable_psroi_pooling";
  FloatArray x = as_float32(x_in, op, "inp"), rois = as_float32(rois_in, op, "rois");
  FloatArray trans = as_float32(trans_in, op, "trans");
  const DpsroiParams p = dpsroi_params(dims(x), dims(rois), dims(trans), no_trans, part_size,
                                       pooled_h, pooled_w, sample_per_part, spatial_scale,
                                       trans_std);
  check_roi_batch(rois, p.batch, op);
  const std::vector<py::ssize_t> shape{p.num_rois, p.channels, pooled_h, pooled_w};
  FloatArray out(shape), count(shape);
  const float *xp = x.data(), *rp = rois.data(), *tp = trans.data();
  float *op_ = out.mutable_data(), *cp = count.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::dpsroi_forward_cpu(xp, rp, tp, op_, cp, p);
  }
  return py::make_tuple(out, count);
}

py::tuple dpsroi_backward(const py::object& x_in, const py::object& rois_in,
                          const py::object& trans_in, const py::object& dout_in,
                          const py::object& count_in, bool no_trans, int64_t part_size,
                          int64_t pooled_h, int64_t pooled_w, int64_t sample_per_part,
                          float spatial_scale, float trans_std) {
  const char* op = "deformable_psroi_pooling_backward";
  FloatArray x = as_float32(x_in, op, "inp"), rois = as_float32(rois_in, op, "rois");
  FloatArray trans = as_float32(trans_in, op, "trans");
  FloatArray dout = as_float32(dout_in, op, "dout"), count = as_float32(count_in, op, "count");
  const DpsroiParams p = dpsroi_params(dims(x), dims(rois), dims(trans), no_trans, part_size,
                                       pooled_h, pooled_w, sample_per_part, spatial_scale,
                                       trans_std);
  check_roi_batch(rois, p.batch, op);
  const Shape want{p.num_rois, p.channels, pooled_h, pooled_w};
  ENGINE_CHECK(dims(dout) == want && dims(count) == want,
               op << ": dout " << shape_str(dout) << " and count " << shape_str(count)
                  << " must be (K, C, pooled_h, pooled_w)");
  FloatArray dx(shape_of(x)), dtrans(shape_of(trans));
  std::memset(dtrans.mutable_data(), 0, sizeof(float) * dtrans.size());
  const float *xp = x.data(), *rp = rois.data(), *tp = trans.data(), *gp = dout.data(),
              *cp = count.data();
  float *dxp = dx.mutable_data(), *dtp = dtrans.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::dpsroi_backward_cpu(xp, rp, tp, gp, cp, dxp, dtp, p);
  }
  return py::make_tuple(dx, dtrans);
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(deformable_psroi) {
  using namespace pybind11::literals;
  m.def("deformable_psroi_forward", &engine::dpsroi_forward, "inp"_a, "rois"_a, "trans"_a,
        "no_trans"_a, "part_size"_a, "pooled_h"_a, "pooled_w"_a, "sample_per_part"_a,
        "spatial_scale"_a, "trans_std"_a,
        "MegEngine DeformablePSROIPooling -> (out, count), both (K, C, pooled_h, pooled_w).");
  m.def("deformable_psroi_backward", &engine::dpsroi_backward, "inp"_a, "rois"_a, "trans"_a,
        "dout"_a, "count"_a, "no_trans"_a, "part_size"_a, "pooled_h"_a, "pooled_w"_a,
        "sample_per_part"_a, "spatial_scale"_a, "trans_std"_a,
        "Gradients (dinp, dtrans) of deformable_psroi_forward's out.");
#ifdef ENGINE_WITH_CUDA
  py::class_<engine::kernels::DpsroiParams>(m, "DpsroiParams");
  m.def("deformable_psroi_geometry", &engine::dpsroi_params, "inp_shape"_a, "rois_shape"_a,
        "trans_shape"_a, "no_trans"_a, "part_size"_a, "pooled_h"_a, "pooled_w"_a,
        "sample_per_part"_a, "spatial_scale"_a, "trans_std"_a);
  m.def("deformable_psroi_forward_cuda", &engine::cuda::dpsroi_forward_cuda, "x_ptr"_a,
        "rois_ptr"_a, "trans_ptr"_a, "out_ptr"_a, "count_ptr"_a, "params"_a, "stream"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("deformable_psroi_backward_cuda", &engine::cuda::dpsroi_backward_cuda, "x_ptr"_a,
        "rois_ptr"_a, "trans_ptr"_a, "dout_ptr"_a, "count_ptr"_a, "dx_ptr"_a, "dtrans_ptr"_a,
        "params"_a, "stream"_a, py::call_guard<py::gil_scoped_release>());
#endif
}
