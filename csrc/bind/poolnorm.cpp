// Bindings of the pooling and normalisation kernels (csrc/kernels/pooling.h, norm.h). Every
// function checks dtype and shape here, then releases the GIL around the CPU loop.
#include <cstdint>
#include <utility>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/poolnorm.h"
#include "kernels/pooling.h"

namespace engine {
namespace {

using Pair = std::pair<int64_t, int64_t>;

// An (planes, ih, iw) input and the window -> the geometry of the (planes, oh, ow) output.
cpu::Pool2dGeometry pool_geometry(const char* op, int64_t planes, int64_t ih, int64_t iw,
                                  Pair kernel, Pair stride, Pair padding) {
  ENGINE_CHECK(kernel.first > 0 && kernel.second > 0 && stride.first > 0 && stride.second > 0 &&
                   padding.first >= 0 && padding.second >= 0,
               op << ": kernel and stride must be positive and padding non-negative, got kernel ("
                  << kernel.first << ", " << kernel.second << "), stride (" << stride.first
                  << ", " << stride.second << "), padding (" << padding.first << ", "
                  << padding.second << ")");
  cpu::Pool2dGeometry g;
  g.planes = planes;
  g.ih = ih;
  g.iw = iw;
  g.kh = kernel.first;
  g.kw = kernel.second;
  g.sh = stride.first;
  g.sw = stride.second;
  g.ph = padding.first;
  g.pw = padding.second;
  // A window made only of padding has no element to take: the kernels index out of bounds.
  ENGINE_CHECK(2 * g.ph <= g.kh && 2 * g.pw <= g.kw,
               op << ": padding (" << g.ph << ", " << g.pw << ") must be at most half of the "
                  << "kernel (" << g.kh << ", " << g.kw << ")");
  ENGINE_CHECK(g.ih + 2 * g.ph >= g.kh && g.iw + 2 * g.pw >= g.kw,
               op << ": kernel (" << g.kh << ", " << g.kw << ") is larger than the (" << ih
                  << ", " << iw << ") input padded by (" << g.ph << ", " << g.pw << ")");
  g.oh = kernels::pool_out_size(g.ih, g.kh, g.sh, g.ph);
  g.ow = kernels::pool_out_size(g.iw, g.kw, g.sw, g.pw);
  return g;
}

// The same for an NCHW array x.
cpu::Pool2dGeometry pool_geometry(const char* op, const py::array& x, Pair kernel, Pair stride,
                                  Pair padding) {
  ENGINE_CHECK(x.ndim() == 4, op << ": expected an NCHW input, got shape " << shape_str(x));
  return pool_geometry(op, x.shape(0) * x.shape(1), x.shape(2), x.shape(3), kernel, stride,
                       padding);
}

std::vector<py::ssize_t> nchw(const py::array& like, int64_t h, int64_t w) {
  return {like.shape(0), like.shape(1), static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)};
}

py::tuple max_pool2d_forward(const py::object& x_in, Pair kernel, Pair stride, Pair padding) {
  FloatArray x = as_float32(x_in, "max_pool2d_forward", "x");
  const cpu::Pool2dGeometry g = pool_geometry("max_pool2d_forward", x, kernel, stride, padding);
  FloatArray y(nchw(x, g.oh, g.ow));
  IntArray argmax(nchw(x, g.oh, g.ow));
  const float* xp = x.data();
  float* yp = y.mutable_data();
  int32_t* ap = argmax.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::max_pool2d_forward_cpu(xp, yp, ap, g);
  }
  return py::make_tuple(y, argmax);
}

// The geometry of the forward that produced `out` (N, C, OH, OW) from an (ih, iw) input.
cpu::Pool2dGeometry backward_geometry(const char* op, const py::array& out, int64_t ih,
                                      int64_t iw, Pair kernel, Pair stride, Pair padding) {
  ENGINE_CHECK(out.ndim() == 4, op << ": expected an NCHW gradient, got " << shape_str(out));
  const cpu::Pool2dGeometry g =
      pool_geometry(op, out.shape(0) * out.shape(1), ih, iw, kernel, stride, padding);
  ENGINE_CHECK(g.oh == out.shape(2) && g.ow == out.shape(3),
               op << ": gradient of shape " << shape_str(out) << " does not match a pooled ("
                  << ih << ", " << iw << ") input, which gives (" << g.oh << ", " << g.ow << ")");
  return g;
}

FloatArray max_pool2d_scatter(const py::object& dy_in, const py::object& argmax_in, int64_t ih,
                              int64_t iw, Pair kernel, Pair stride, Pair padding) {
  FloatArray dy = as_float32(dy_in, "max_pool2d_scatter", "dy");
  IntArray argmax = as_int32(argmax_in, "max_pool2d_scatter", "argmax");
  ENGINE_CHECK(shape_of(dy) == shape_of(argmax), "max_pool2d_scatter: dy "
                                                     << shape_str(dy) << " and argmax "
                                                     << shape_str(argmax) << " differ in shape");
  const cpu::Pool2dGeometry g =
      backward_geometry("max_pool2d_scatter", dy, ih, iw, kernel, stride, padding);
  FloatArray dx(nchw(dy, ih, iw));
  const float* dyp = dy.data();
  const int32_t* ap = argmax.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::max_pool2d_scatter_cpu(dyp, ap, dxp, g);
  }
  return dx;
}

FloatArray max_pool2d_gather(const py::object& x_in, const py::object& argmax_in, Pair kernel,
                             Pair stride, Pair padding) {
  FloatArray x = as_float32(x_in, "max_pool2d_gather", "x");
  IntArray argmax = as_int32(argmax_in, "max_pool2d_gather", "argmax");
  const cpu::Pool2dGeometry g = pool_geometry("max_pool2d_gather", x, kernel, stride, padding);
  ENGINE_CHECK(shape_of(argmax) == nchw(x, g.oh, g.ow),
               "max_pool2d_gather: argmax " << shape_str(argmax) << " does not match pooling x "
                                            << shape_str(x));
  FloatArray y(nchw(x, g.oh, g.ow));
  const float* xp = x.data();
  const int32_t* ap = argmax.data();
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::max_pool2d_gather_cpu(xp, ap, yp, g);
  }
  return y;
}

FloatArray avg_pool2d_forward(const py::object& x_in, Pair kernel, Pair stride, Pair padding,
                              bool count_include_pad) {
  FloatArray x = as_float32(x_in, "avg_pool2d_forward", "x");
  const cpu::Pool2dGeometry g = pool_geometry("avg_pool2d_forward", x, kernel, stride, padding);
  FloatArray y(nchw(x, g.oh, g.ow));
  const float* xp = x.data();
  float* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::avg_pool2d_forward_cpu(xp, yp, g, count_include_pad);
  }
  return y;
}

FloatArray avg_pool2d_backward(const py::object& dy_in, int64_t ih, int64_t iw, Pair kernel,
                               Pair stride, Pair padding, bool count_include_pad) {
  FloatArray dy = as_float32(dy_in, "avg_pool2d_backward", "dy");
  const cpu::Pool2dGeometry g =
      backward_geometry("avg_pool2d_backward", dy, ih, iw, kernel, stride, padding);
  FloatArray dx(nchw(dy, ih, iw));
  const float* dyp = dy.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::avg_pool2d_backward_cpu(dyp, dxp, g, count_include_pad);
  }
  return dx;
}

// x (N, C, *spatial) seen as (n, c, s).
struct NCS {
  int64_t n, c, s;
};

NCS ncs_of(const char* op, const py::array& x) {
  ENGINE_CHECK(x.ndim() >= 2, op << ": expected an input of shape (N, C, ...), got "
                                 << shape_str(x));
  NCS d{x.shape(0), x.shape(1), 1};
  for (py::ssize_t i = 2; i < x.ndim(); ++i) d.s *= x.shape(i);
  return d;
}

// An optional per-channel parameter (None or c float32 values); returns its data or null.
const float* channel_param(const py::object& obj, FloatArray* keep, const char* op,
                           const char* name, int64_t c) {
  if (obj.is_none()) return nullptr;
  *keep = as_float32(obj, op, name);
  ENGINE_CHECK(keep->size() == c, op << ": " << name << " of shape " << shape_str(*keep)
                                     << " must hold one value per channel (" << c << ")");
  return keep->data();
}

FloatArray vector_of(int64_t n) { return FloatArray(std::vector<py::ssize_t>{n}); }

py::tuple batch_norm_forward(const py::object& x_in, const py::object& w_in,
                             const py::object& b_in, float eps, bool relu) {
  const char* op = "batch_norm_forward";
  FloatArray x = as_float32(x_in, op, "x"), w, b;
  const NCS d = ncs_of(op, x);
  const float* wp = channel_param(w_in, &w, op, "weight", d.c);
  const float* bp = channel_param(b_in, &b, op, "bias", d.c);
  FloatArray y(shape_of(x)), mean = vector_of(d.c), var = vector_of(d.c);
  const float* xp = x.data();
  float *yp = y.mutable_data(), *mp = mean.mutable_data(), *vp = var.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::batch_norm_forward_cpu(xp, wp, bp, yp, mp, vp, d.n, d.c, d.s, eps, relu);
  }
  return py::make_tuple(y, mean, var);
}

// Checks dy against x and the statistics against `stats` values; returns x's (n, c, s).
NCS check_norm_grad(const char* op, const FloatArray& x, const FloatArray& dy,
                    const FloatArray& mean, const FloatArray& var, int64_t stats) {
  const NCS d = ncs_of(op, x);
  ENGINE_CHECK(shape_of(x) == shape_of(dy), op << ": x " << shape_str(x) << " and dy "
                                               << shape_str(dy) << " differ in shape");
  ENGINE_CHECK(mean.size() == stats && var.size() == stats,
               op << ": expected " << stats << " means and variances, got " << shape_str(mean)
                  << " and " << shape_str(var));
  return d;
}

py::tuple batch_norm_backward(const py::object& x_in, const py::object& dy_in,
                              const py::object& mean_in, const py::object& var_in,
                              const py::object& w_in, float eps, bool need_dx,
                              const py::object& relu_out_in) {
  const char* op = "batch_norm_backward";
  FloatArray x = as_float32(x_in, op, "x"), dy = as_float32(dy_in, op, "dy"), relu_out;
  FloatArray mean = as_float32(mean_in, op, "mean"), var = as_float32(var_in, op, "var"), w;
  const NCS d = check_norm_grad(op, x, dy, mean, var, x.ndim() >= 2 ? x.shape(1) : 0);
  const float* zp = nullptr;
  if (!relu_out_in.is_none()) {
    relu_out = as_float32(relu_out_in, op, "relu_out");
    ENGINE_CHECK(shape_of(relu_out) == shape_of(x), op << ": relu_out " << shape_str(relu_out)
                                                         << " and x " << shape_str(x)
                                                         << " differ in shape");
    zp = relu_out.data();
  }
  const float* wp = channel_param(w_in, &w, op, "weight", d.c);
  FloatArray dw = vector_of(d.c), db = vector_of(d.c);
  FloatArray dx = need_dx ? FloatArray(shape_of(x)) : FloatArray(std::vector<py::ssize_t>{0});
  const float *xp = x.data(), *dyp = dy.data(), *mp = mean.data(), *vp = var.data();
  float *dxp = need_dx ? dx.mutable_data() : nullptr, *dwp = dw.mutable_data(),
        *dbp = db.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::batch_norm_backward_cpu(xp, dyp, mp, vp, wp, eps, dxp, dwp, dbp, d.n, d.c, d.s, zp);
  }
  return py::make_tuple(need_dx ? py::object(dx) : py::none(), dw, db);
}

int64_t channels_per_group(const char* op, const NCS& d, int64_t groups) {
  ENGINE_CHECK(groups > 0 && d.c % groups == 0,
               op << ": num_groups " << groups << " must divide the " << d.c << " channels");
  return d.c / groups;
}

py::tuple group_norm_forward(const py::object& x_in, int64_t groups, const py::object& w_in,
                             const py::object& b_in, float eps) {
  const char* op = "group_norm_forward";
  FloatArray x = as_float32(x_in, op, "x"), w, b;
  const NCS d = ncs_of(op, x);
  const int64_t cg = channels_per_group(op, d, groups);
  const float* wp = channel_param(w_in, &w, op, "weight", d.c);
  const float* bp = channel_param(b_in, &b, op, "bias", d.c);
  FloatArray y(shape_of(x));
  const std::vector<py::ssize_t> stats_shape{d.n, groups};
  FloatArray mean(stats_shape), var(stats_shape);
  const float* xp = x.data();
  float *yp = y.mutable_data(), *mp = mean.mutable_data(), *vp = var.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::group_norm_forward_cpu(xp, wp, bp, yp, mp, vp, d.n, groups, cg, d.s, eps);
  }
  return py::make_tuple(y, mean, var);
}

py::tuple group_norm_backward(const py::object& x_in, const py::object& dy_in,
                              const py::object& mean_in, const py::object& var_in,
                              int64_t groups, const py::object& w_in, float eps, bool need_dx,
                              bool need_affine) {
  const char* op = "group_norm_backward";
  FloatArray x = as_float32(x_in, op, "x"), dy = as_float32(dy_in, op, "dy");
  FloatArray mean = as_float32(mean_in, op, "mean"), var = as_float32(var_in, op, "var"), w;
  const NCS d0 = ncs_of(op, x);
  const NCS d = check_norm_grad(op, x, dy, mean, var, d0.n * groups);
  const int64_t cg = channels_per_group(op, d, groups);
  const float* wp = channel_param(w_in, &w, op, "weight", d.c);
  const std::vector<py::ssize_t> none{0};
  FloatArray dx = need_dx ? FloatArray(shape_of(x)) : FloatArray(none);
  FloatArray dw = need_affine ? vector_of(d.c) : FloatArray(none);
  FloatArray db = need_affine ? vector_of(d.c) : FloatArray(none);
  const float *xp = x.data(), *dyp = dy.data(), *mp = mean.data(), *vp = var.data();
  float* dxp = need_dx ? dx.mutable_data() : nullptr;
  float* dwp = need_affine ? dw.mutable_data() : nullptr;
  float* dbp = need_affine ? db.mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    cpu::group_norm_backward_cpu(xp, dyp, mp, vp, wp, eps, dxp, dwp, dbp, d.n, groups, cg, d.s);
  }
  auto opt = [](bool keep, const FloatArray& a) { return keep ? py::object(a) : py::none(); };
  return py::make_tuple(opt(need_dx, dx), opt(need_affine, dw), opt(need_affine, db));
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(poolnorm) {
  using py::arg;
  m.def("max_pool2d_forward", &engine::max_pool2d_forward, arg("x"), arg("kernel"),
        arg("stride"), arg("padding"),
        "Max pooling of float32 NCHW x with (h, w) kernel, stride and padding (padding counts as "
        "-inf); returns (y, argmax), argmax the int32 flat index into each input plane.");
  m.def("max_pool2d_scatter", &engine::max_pool2d_scatter, arg("dy"), arg("argmax"), arg("ih"),
        arg("iw"), arg("kernel"), arg("stride"), arg("padding"),
        "Max pooling backward: dy added at each window's argmax of an (ih, iw) plane.");
  m.def("max_pool2d_gather", &engine::max_pool2d_gather, arg("x"), arg("argmax"), arg("kernel"),
        arg("stride"), arg("padding"),
        "x read at the argmax positions of a max pooling of x's geometry (adjoint of the "
        "scatter).");
  m.def("avg_pool2d_forward", &engine::avg_pool2d_forward, arg("x"), arg("kernel"),
        arg("stride"), arg("padding"), arg("count_include_pad"),
        "Average pooling of float32 NCHW x; the divisor counts the padding when "
        "count_include_pad.");
  m.def("avg_pool2d_backward", &engine::avg_pool2d_backward, arg("dy"), arg("ih"), arg("iw"),
        arg("kernel"), arg("stride"), arg("padding"), arg("count_include_pad"),
        "Average pooling backward onto an (ih, iw) plane (the adjoint of avg_pool2d_forward).");
  m.def("batch_norm_forward", &engine::batch_norm_forward, arg("x"), arg("weight"), arg("bias"),
        arg("eps"), arg("relu") = false,
        "Batch norm of float32 x (N, C, ...) with batch statistics per channel; weight and bias "
        "(C values) may be None. Returns (y, mean, biased var), mean and var of shape (C,); "
        "relu: y = relu(batch norm) in the same pass.");
  m.def("batch_norm_backward", &engine::batch_norm_backward, arg("x"), arg("dy"), arg("mean"),
        arg("var"), arg("weight"), arg("eps"), arg("need_dx"), arg("relu_out") = py::none(),
        "Fused batch norm backward with batch statistics: returns (dx or None, dweight, dbias). "
        "relu_out: the output of relu(batch norm), when dy is its gradient (the ReLU's "
        "gradient is applied on the fly).");
  m.def("group_norm_forward", &engine::group_norm_forward, arg("x"), arg("groups"),
        arg("weight"), arg("bias"), arg("eps"),
        "Group norm of float32 x (N, C, ...) over (C / groups) * spatial elements; weight and "
        "bias per channel or None. Returns (y, mean, biased var), the statistics (N, groups). "
        "Layer norm is x viewed as (rows, features) with groups = 1.");
  m.def("group_norm_backward", &engine::group_norm_backward, arg("x"), arg("dy"), arg("mean"),
        arg("var"), arg("groups"), arg("weight"), arg("eps"), arg("need_dx"),
        arg("need_affine"),
        "Fused group norm backward: returns (dx, dweight, dbias), each None when not asked for.");
}
