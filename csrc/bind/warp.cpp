// Bindings of warp_perspective (warp_affine is a perspective warp whose matrix ends in 0 0 1) and
// remap (csrc/kernels/warp.h). Images float32 NCHW, matrices float32 (N, 3, 3), maps float32
// (N, OH, OW, 2), mat_idx int32 (N,). border: kernels::WarpBorder; nearest: interpolation.
#include <cstdint>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/warp.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/warp.h"
#endif

namespace engine {
namespace {

using kernels::WarpParams;

void check_image(const py::array& x, const char* op, const char* name) {
  ENGINE_CHECK(x.ndim() == 4, op << ": " << name << " must be NCHW (4-D), got " << shape_str(x));
}

void check_border(int border, const char* op) {
  ENGINE_CHECK(border >= kernels::kBorderReplicate && border <= kernels::kBorderConstant,
               op << ": unknown border mode " << border);
}

std::vector<py::ssize_t> shape_from(const py::tuple& t) {
  std::vector<py::ssize_t> s;
  for (auto d : t) s.push_back(d.cast<py::ssize_t>());
  return s;
}

// mat (n_out, 3, 3) and optional mat_idx (n_out,) with every index inside the n_in images.
const int32_t* check_mats(const py::array& mat, const IntArray& mat_idx, bool has_idx,
                          int64_t n_in, const char* op) {
  ENGINE_CHECK(mat.ndim() == 3 && mat.shape(1) == 3 && mat.shape(2) == 3,
               op << ": mat must have shape (N, 3, 3), got " << shape_str(mat));
  if (!has_idx) {
    ENGINE_CHECK(mat.shape(0) == n_in, op << ": mat " << shape_str(mat) << " needs one matrix per "
                                          << "input image (" << n_in << ") without mat_idx");
    return nullptr;
  }
  ENGINE_CHECK(mat_idx.ndim() == 1 && mat_idx.shape(0) == mat.shape(0),
               op << ": mat_idx " << shape_str(mat_idx) << " must be (" << mat.shape(0)
                  << ",) for mat " << shape_str(mat));
  const int32_t* idx = mat_idx.data();
  for (int64_t i = 0; i < mat_idx.shape(0); ++i) {
    ENGINE_CHECK(idx[i] >= 0 && idx[i] < n_in, op << ": mat_idx[" << i << "] = " << idx[i]
                                                  << " is outside [0, " << n_in << ")");
  }
  return idx;
}

WarpParams params(int64_t n_in, int64_t n_out, int64_t c, int64_t ih, int64_t iw, int64_t oh,
                  int64_t ow, int border, float border_val, bool nearest, bool nan_to_border) {
  return {n_in, n_out, c, ih, iw, oh, ow, border, border_val, nearest, nan_to_border};
}

FloatArray warp_perspective_forward(const py::object& x_in, const py::object& mat_in,
                                    const py::object& idx_in, int64_t out_h, int64_t out_w,
                                    int border, float border_val) {
  const char* op = "warp_perspective";
  FloatArray x = as_float32(x_in, op, "inp"), mat = as_float32(mat_in, op, "mat");
  check_image(x, op, "inp");
  check_border(border, op);
  ENGINE_CHECK(out_h > 0 && out_w > 0,
               op << ": out_shape (" << out_h << ", " << out_w << ") must be positive");
  const bool has_idx = !idx_in.is_none();
  IntArray idx = has_idx ? as_int32(idx_in, op, "mat_idx") : IntArray();
  const int32_t* ip = check_mats(mat, idx, has_idx, x.shape(0), op);
  const WarpParams p = params(x.shape(0), mat.shape(0), x.shape(1), x.shape(2), x.shape(3), out_h,
                              out_w, border, border_val, false, border == kernels::kBorderConstant);
  FloatArray out(std::vector<py::ssize_t>{p.n_out, p.channels, out_h, out_w});
  const float *xp = x.data(), *mp = mat.data();
  float* op_ = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::warp_perspective_forward_cpu(xp, mp, ip, op_, p);
  }
  return out;
}

FloatArray warp_perspective_backward_data(const py::object& dout_in, const py::object& mat_in,
                                          const py::object& idx_in, const py::tuple& inp_shape,
                                          int border, float border_val) {
  const char* op = "warp_perspective_backward_data";
  FloatArray dout = as_float32(dout_in, op, "dout"), mat = as_float32(mat_in, op, "mat");
  FloatArray dx(shape_from(inp_shape));
  check_image(dx, op, "inp_shape");
  check_image(dout, op, "dout");
  check_border(border, op);
  const bool has_idx = !idx_in.is_none();
  IntArray idx = has_idx ? as_int32(idx_in, op, "mat_idx") : IntArray();
  const int32_t* ip = check_mats(mat, idx, has_idx, dx.shape(0), op);
  ENGINE_CHECK(dout.shape(0) == mat.shape(0) && dout.shape(1) == dx.shape(1),
               op << ": dout " << shape_str(dout) << " does not match mat " << shape_str(mat)
                  << " and input " << shape_str(dx));
  const WarpParams p = params(dx.shape(0), dout.shape(0), dx.shape(1), dx.shape(2), dx.shape(3),
                              dout.shape(2), dout.shape(3), border, border_val, false, false);
  const float *gp = dout.data(), *mp = mat.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::warp_perspective_backward_data_cpu(gp, mp, ip, dxp, p);
  }
  return dx;
}

FloatArray warp_perspective_backward_mat(const py::object& x_in, const py::object& mat_in,
                                         const py::object& idx_in, const py::object& dout_in,
                                         int border, float border_val) {
  const char* op = "warp_perspective_backward_mat";
  FloatArray x = as_float32(x_in, op, "inp"), mat = as_float32(mat_in, op, "mat");
  FloatArray dout = as_float32(dout_in, op, "dout");
  check_image(x, op, "inp");
  check_image(dout, op, "dout");
  check_border(border, op);
  const bool has_idx = !idx_in.is_none();
  IntArray idx = has_idx ? as_int32(idx_in, op, "mat_idx") : IntArray();
  const int32_t* ip = check_mats(mat, idx, has_idx, x.shape(0), op);
  ENGINE_CHECK(dout.shape(0) == mat.shape(0) && dout.shape(1) == x.shape(1),
               op << ": dout " << shape_str(dout) << " does not match mat " << shape_str(mat)
                  << " and input " << shape_str(x));
  const WarpParams p = params(x.shape(0), dout.shape(0), x.shape(1), x.shape(2), x.shape(3),
                              dout.shape(2), dout.shape(3), border, border_val, false, false);
  FloatArray dmat(shape_of(mat));
  const float *xp = x.data(), *mp = mat.data(), *gp = dout.data();
  float* dmp = dmat.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::warp_perspective_backward_mat_cpu(xp, mp, ip, gp, dmp, p);
  }
  return dmat;
}

void check_map(const py::array& x, const py::array& map, const char* op) {
  ENGINE_CHECK(map.ndim() == 4 && map.shape(3) == 2 && map.shape(0) == x.shape(0),
               op << ": map_xy must have shape (" << x.shape(0) << ", OH, OW, 2) for input "
                  << shape_str(x) << ", got " << shape_str(map));
}

FloatArray remap_forward(const py::object& x_in, const py::object& map_in, int border,
                         float border_val, bool nearest) {
  const char* op = "remap";
  FloatArray x = as_float32(x_in, op, "inp"), map = as_float32(map_in, op, "map_xy");
  check_image(x, op, "inp");
  check_map(x, map, op);
  check_border(border, op);
  const WarpParams p = params(x.shape(0), x.shape(0), x.shape(1), x.shape(2), x.shape(3),
                              map.shape(1), map.shape(2), border, border_val, nearest, false);
  FloatArray out(std::vector<py::ssize_t>{p.n_out, p.channels, p.out_h, p.out_w});
  const float *xp = x.data(), *mp = map.data();
  float* op_ = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::remap_forward_cpu(xp, mp, op_, p);
  }
  return out;
}

FloatArray remap_backward_data(const py::object& dout_in, const py::object& map_in,
                               const py::tuple& inp_shape, int border, float border_val,
                               bool nearest) {
  const char* op = "remap_backward_data";
  FloatArray dout = as_float32(dout_in, op, "dout"), map = as_float32(map_in, op, "map_xy");
  FloatArray dx(shape_from(inp_shape));
  check_image(dx, op, "inp_shape");
  check_map(dx, map, op);
  check_border(border, op);
  ENGINE_CHECK(dout.ndim() == 4 && dout.shape(0) == dx.shape(0) && dout.shape(1) == dx.shape(1) &&
                   dout.shape(2) == map.shape(1) && dout.shape(3) == map.shape(2),
               op << ": dout " << shape_str(dout) << " does not match map_xy " << shape_str(map)
                  << " and input " << shape_str(dx));
  const WarpParams p = params(dx.shape(0), dx.shape(0), dx.shape(1), dx.shape(2), dx.shape(3),
                              map.shape(1), map.shape(2), border, border_val, nearest, false);
  const float *gp = dout.data(), *mp = map.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::remap_backward_data_cpu(gp, mp, dxp, p);
  }
  return dx;
}

FloatArray remap_backward_map(const py::object& x_in, const py::object& map_in,
                              const py::object& dout_in, int border, float border_val,
                              bool nearest) {
  const char* op = "remap_backward_map";
  FloatArray x = as_float32(x_in, op, "inp"), map = as_float32(map_in, op, "map_xy");
  FloatArray dout = as_float32(dout_in, op, "dout");
  check_image(x, op, "inp");
  check_map(x, map, op);
  check_border(border, op);
  ENGINE_CHECK(dout.ndim() == 4 && dout.shape(0) == x.shape(0) && dout.shape(1) == x.shape(1) &&
                   dout.shape(2) == map.shape(1) && dout.shape(3) == map.shape(2),
               op << ": dout " << shape_str(dout) << " does not match map_xy " << shape_str(map)
                  << " and input " << shape_str(x));
  const WarpParams p = params(x.shape(0), x.shape(0), x.shape(1), x.shape(2), x.shape(3),
                              map.shape(1), map.shape(2), border, border_val, nearest, false);
  FloatArray dmap(shape_of(map));
  const float *xp = x.data(), *mp = map.data(), *gp = dout.data();
  float* dmp = dmap.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::remap_backward_map_cpu(xp, mp, gp, dmp, p);
  }
  return dmap;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(warp) {
  using namespace pybind11::literals;
  m.def("warp_perspective_forward", &engine::warp_perspective_forward, "inp"_a, "mat"_a,
        "mat_idx"_a, "out_h"_a, "out_w"_a, "border"_a, "border_val"_a,
        "MegEngine warp_perspective (bilinear, NCHW) -> (N_mat, C, out_h, out_w).");
  m.def("warp_perspective_backward_data", &engine::warp_perspective_backward_data, "dout"_a,
        "mat"_a, "mat_idx"_a, "inp_shape"_a, "border"_a, "border_val"_a,
        "Input gradient of warp_perspective_forward.");
  m.def("warp_perspective_backward_mat", &engine::warp_perspective_backward_mat, "inp"_a,
        "mat"_a, "mat_idx"_a, "dout"_a, "border"_a, "border_val"_a,
        "Matrix gradient (N_mat, 3, 3) of warp_perspective_forward.");
  m.def("remap_forward", &engine::remap_forward, "inp"_a, "map_xy"_a, "border"_a, "border_val"_a,
        "nearest"_a, "MegEngine remap (NCHW) -> (N, C, OH, OW).");
  m.def("remap_backward_data", &engine::remap_backward_data, "dout"_a, "map_xy"_a, "inp_shape"_a,
        "border"_a, "border_val"_a, "nearest"_a, "Input gradient of remap_forward.");
  m.def("remap_backward_map", &engine::remap_backward_map, "inp"_a, "map_xy"_a, "dout"_a,
        "border"_a, "border_val"_a, "nearest"_a, "map_xy gradient of remap_forward.");
#ifdef ENGINE_WITH_CUDA
  py::class_<engine::kernels::WarpParams>(m, "WarpParams")
      .def(py::init([](int64_t n_in, int64_t n_out, int64_t c, int64_t ih, int64_t iw,
                       int64_t oh, int64_t ow, int border, float border_val, bool nearest,
                       bool nan_to_border) {
             return engine::kernels::WarpParams{n_in, n_out, c,      ih,         iw,
                                                oh,   ow,    border, border_val, nearest,
                                                nan_to_border};
           }),
           "n_in"_a, "n_out"_a, "channels"_a, "in_h"_a, "in_w"_a, "out_h"_a, "out_w"_a,
           "border"_a, "border_val"_a, "nearest"_a, "nonfinite_to_border"_a);
  // Device buffers as raw pointers on CuPy's stream; the caller has checked shapes and indices.
  m.def("warp_sample_forward_cuda", &engine::cuda::warp_sample_forward_cuda, "inp_ptr"_a,
        "coords_ptr"_a, "mat_idx_ptr"_a, "out_ptr"_a, "params"_a, "is_map"_a, "stream"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("warp_sample_backward_data_cuda", &engine::cuda::warp_sample_backward_data_cuda,
        "dout_ptr"_a, "coords_ptr"_a, "mat_idx_ptr"_a, "dx_ptr"_a, "params"_a, "is_map"_a,
        "stream"_a, py::call_guard<py::gil_scoped_release>());
  m.def("warp_sample_backward_coords_cuda", &engine::cuda::warp_sample_backward_coords_cuda,
        "inp_ptr"_a, "coords_ptr"_a, "mat_idx_ptr"_a, "dout_ptr"_a, "dcoords_ptr"_a, "params"_a,
        "is_map"_a, "stream"_a, py::call_guard<py::gil_scoped_release>());
#endif
}
