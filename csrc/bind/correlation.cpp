// Bindings of correlation (csrc/kernels/correlation.h): data1, data2 float32 NCHW of one shape.
#include <cmath>
#include <cstdint>
#include <vector>

#include <pybind11/stl.h>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/correlation.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/correlation.h"
#endif

namespace engine {
namespace {

using kernels::CorrelationParams;

// The output geometry of megdnn's CorrelationBase::deduce_layout_fwd.
CorrelationParams correlation_params(const std::vector<int64_t>& shape, int64_t kernel_size,
                                     int64_t max_displacement, int64_t stride1, int64_t stride2,
                                     int64_t pad, bool multiply) {
  const char* op = "correlation";
  ENGINE_CHECK(shape.size() == 4, op << ": data must be NCHW (4-D)");
  ENGINE_CHECK(kernel_size > 0 && kernel_size % 2 == 1,
               op << ": kernel_size must be a positive odd number, got " << kernel_size);
  ENGINE_CHECK(stride1 > 0 && stride2 > 0,
               op << ": stride1 and stride2 must be positive, got " << stride1 << ", " << stride2);
  ENGINE_CHECK(max_displacement >= 0 && pad >= 0,
               op << ": max_displacement and pad_size must be >= 0, got " << max_displacement
                  << ", " << pad);
  const int64_t kr = (kernel_size - 1) / 2, border = max_displacement + kr;
  const int64_t oh = static_cast<int64_t>(
      std::ceil(static_cast<float>(shape[2] + 2 * pad - 2 * border) / stride1));
  const int64_t ow = static_cast<int64_t>(
      std::ceil(static_cast<float>(shape[3] + 2 * pad - 2 * border) / stride1));
  ENGINE_CHECK(oh >= 1 && ow >= 1,
               op << ": input " << shape[2] << "x" << shape[3] << " with pad_size " << pad
                  << " is too small for kernel_size " << kernel_size << " and max_displacement "
                  << max_displacement << " (output " << oh << "x" << ow << ")");
  const int64_t r = max_displacement / stride2;
  return {shape[0], shape[1], shape[2], shape[3], (2 * r + 1) * (2 * r + 1), oh, ow, kr,
          max_displacement, stride1, stride2, pad, r, multiply};
}

std::vector<int64_t> checked_pair(const py::array& a, const py::array& b, const char* op) {
  ENGINE_CHECK(a.ndim() == 4 && shape_of(a) == shape_of(b),
               op << ": data1 " << shape_str(a) << " and data2 " << shape_str(b)
                  << " must be NCHW of one shape");
  return std::vector<int64_t>(a.shape(), a.shape() + 4);
}

FloatArray correlation_forward(const py::object& d1_in, const py::object& d2_in,
                               int64_t kernel_size, int64_t max_displacement, int64_t stride1,
                               int64_t stride2, int64_t pad, bool multiply) {
  FloatArray d1 = as_float32(d1_in, "correlation", "data1");
  FloatArray d2 = as_float32(d2_in, "correlation", "data2");
  const CorrelationParams p =
      correlation_params(checked_pair(d1, d2, "correlation"), kernel_size, max_displacement,
                         stride1, stride2, pad, multiply);
  FloatArray out(std::vector<py::ssize_t>{p.batch, p.out_c, p.out_h, p.out_w});
  const float *a = d1.data(), *b = d2.data();
  float* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::correlation_forward_cpu(a, b, o, p);
  }
  return out;
}

py::tuple correlation_backward(const py::object& d1_in, const py::object& d2_in,
                               const py::object& dout_in, int64_t kernel_size,
                               int64_t max_displacement, int64_t stride1, int64_t stride2,
                               int64_t pad, bool multiply) {
  const char* op = "correlation_backward";
  FloatArray d1 = as_float32(d1_in, op, "data1"), d2 = as_float32(d2_in, op, "data2");
  FloatArray dout = as_float32(dout_in, op, "dout");
  const CorrelationParams p = correlation_params(checked_pair(d1, d2, op), kernel_size,
                                                 max_displacement, stride1, stride2, pad,
                                                 multiply);
  ENGINE_CHECK(dout.ndim() == 4 && dout.shape(0) == p.batch && dout.shape(1) == p.out_c &&
                   dout.shape(2) == p.out_h && dout.shape(3) == p.out_w,
               op << ": dout " << shape_str(dout) << " must be (" << p.batch << ", " << p.out_c
                  << ", " << p.out_h << ", " << p.out_w << ")");
  FloatArray g1(shape_of(d1)), g2(shape_of(d2));
  const float *a = d1.data(), *b = d2.data(), *g = dout.data();
  float *ga = g1.mutable_data(), *gb = g2.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::correlation_backward_cpu(a, b, g, ga, gb, p);
  }
  return py::make_tuple(g1, g2);
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(correlation) {
  using namespace pybind11::literals;
  m.def("correlation_forward", &engine::correlation_forward, "data1"_a, "data2"_a,
        "kernel_size"_a, "max_displacement"_a, "stride1"_a, "stride2"_a, "pad_size"_a,
        "is_multiply"_a, "MegEngine correlation (NCHW) -> (N, (2r + 1)^2, OH, OW).");
  m.def("correlation_backward", &engine::correlation_backward, "data1"_a, "data2"_a, "dout"_a,
        "kernel_size"_a, "max_displacement"_a, "stride1"_a, "stride2"_a, "pad_size"_a,
        "is_multiply"_a, "Gradients (ddata1, ddata2) of correlation_forward.");
#ifdef ENGINE_WITH_CUDA
  py::class_<engine::kernels::CorrelationParams>(m, "CorrelationParams")
      .def_readonly("out_c", &engine::kernels::CorrelationParams::out_c)
      .def_readonly("out_h", &engine::kernels::CorrelationParams::out_h)
      .def_readonly("out_w", &engine::kernels::CorrelationParams::out_w);
  // The CUDA entries take the geometry the CPU binding computes (correlation_geometry).
  m.def("correlation_geometry",
        [](std::vector<int64_t> shape, int64_t k, int64_t md, int64_t s1, int64_t s2, int64_t pad,
           bool multiply) {
          return engine::correlation_params(shape, k, md, s1, s2, pad, multiply);
        },
        "shape"_a, "kernel_size"_a, "max_displacement"_a, "stride1"_a, "stride2"_a,
        "pad_size"_a, "is_multiply"_a);
  m.def("correlation_forward_cuda", &engine::cuda::correlation_forward_cuda, "d1_ptr"_a,
        "d2_ptr"_a, "out_ptr"_a, "params"_a, "stream"_a,
        py::call_guard<py::gil_scoped_release>());
  m.def("correlation_backward_cuda", &engine::cuda::correlation_backward_cuda, "d1_ptr"_a,
        "d2_ptr"_a, "dout_ptr"_a, "g1_ptr"_a, "g2_ptr"_a, "params"_a, "stream"_a,
        py::call_guard<py::gil_scoped_release>());
#endif
}
