// Binding of engine's GEMM (cpu/gemm.h). It takes numpy arrays with any strides, so a transposed
// or sliced operand is read where it lies; engine/ops/_gemm.py does numpy-style batching on top.
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <utility>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/gemm.h"

namespace engine {
namespace {

// A float32 2-D or 3-D (batch, rows, cols) array's element strides; a 2-D one is a batch of 1.
struct Operand {
  const float* data;
  int64_t batch, rows, cols;
  int64_t bs, rs, cs;  // element strides
};

// [first, last] element addresses an operand touches (strides may be negative).
std::pair<const float*, const float*> extent(const Operand& o) {
  const float* lo = o.data;
  const float* hi = o.data;
  const int64_t dims[3][2] = {{o.batch, o.bs}, {o.rows, o.rs}, {o.cols, o.cs}};
  for (const auto& d : dims) {
    if (d[0] == 0) return {nullptr, nullptr};
    const int64_t span = (d[0] - 1) * d[1];
    (span < 0 ? lo : hi) += span;
  }
  return {lo, hi};
}

bool overlaps(const Operand& x, const Operand& y) {
  const auto ex = extent(x), ey = extent(y);
  if (ex.first == nullptr || ey.first == nullptr) return false;
  return !(ex.second < ey.first || ey.second < ex.first);
}

int64_t element_stride(const py::array& a, int axis, const char* name) {
  const py::ssize_t s = a.strides(axis);
  ENGINE_CHECK(s % static_cast<py::ssize_t>(sizeof(float)) == 0,
               "gemm: " << name << " has a stride of " << s << " bytes, not whole floats");
  return s / static_cast<int64_t>(sizeof(float));
}

Operand operand(const py::array& a, const char* name) {
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(native_float32(dt),
               "gemm: " << name << " must be float32 in native byte order, got "
                        << std::string(py::str(dt)));
  ENGINE_CHECK(reinterpret_cast<uintptr_t>(a.data()) % alignof(float) == 0,
               "gemm: " << name << " is not aligned to whole floats");
  ENGINE_CHECK(a.ndim() == 2 || a.ndim() == 3,
               "gemm: " << name << " must be 2-D or 3-D (batch, rows, cols), got shape "
                        << shape_str(a));
  const int off = a.ndim() == 3 ? 1 : 0;
  Operand o;
  o.data = static_cast<const float*>(a.data());
  o.batch = off ? a.shape(0) : 1;
  o.bs = off ? element_stride(a, 0, name) : 0;
  o.rows = a.shape(off);
  o.cols = a.shape(off + 1);
  o.rs = element_stride(a, off, name);
  o.cs = element_stride(a, off + 1, name);
  return o;
}

constexpr int64_t kKeepGilBelow = 1 << 14;  // multiply-adds: about a microsecond of work

// out = alpha * a @ b + beta * out; out is created (C-contiguous) when None, else written in
// place: it must be float32 with contiguous rows (any row and batch stride).
py::array gemm(const py::array& a_in, const py::array& b_in, py::object out_in, float alpha,
               float beta) {
  const Operand a = operand(a_in, "a"), b = operand(b_in, "b");
  ENGINE_CHECK(a.cols == b.rows, "gemm: a of shape " << shape_str(a_in) << " and b of shape "
                                                     << shape_str(b_in)
                                                     << " do not chain (a's columns != b's rows)");
  const int64_t batch = std::max(a.batch, b.batch);
  ENGINE_CHECK((a.batch == batch || a.batch == 1) && (b.batch == batch || b.batch == 1),
               "gemm: batch sizes of a " << shape_str(a_in) << " and b " << shape_str(b_in)
                                         << " do not broadcast");
  const bool batched = a_in.ndim() == 3 || b_in.ndim() == 3;
  py::array out;
  if (out_in.is_none()) {
    ENGINE_CHECK(beta == 0.0f, "gemm: beta != 0 needs an out array to accumulate into");
    std::vector<py::ssize_t> shape{a.rows, b.cols};
    if (batched) shape.insert(shape.begin(), batch);
    out = py::array_t<float>(shape);
  } else {
    ENGINE_CHECK(py::isinstance<py::array>(out_in),
                 "gemm: out must be a numpy array, got "
                     << std::string(py::str(out_in.get_type())));
    out = py::reinterpret_borrow<py::array>(out_in);
    std::vector<py::ssize_t> want{a.rows, b.cols};
    if (out.ndim() == 3) want.insert(want.begin(), batch);
    ENGINE_CHECK(shape_of(out) == want, "gemm: out has shape " << shape_str(out) << ", expected "
                                                               << std::string(py::str(
                                                                      py::cast(want))));
    ENGINE_CHECK(out.writeable(), "gemm: out is read-only");
  }
  const Operand c = operand(out, "out");
  ENGINE_CHECK(c.cs == 1 || c.cols <= 1 || c.rows == 0, "gemm: out's rows must be contiguous");
  ENGINE_CHECK(c.batch == batch, "gemm: out holds " << c.batch << " items, expected " << batch);
  ENGINE_CHECK(!overlaps(c, a) && !overlaps(c, b),
               "gemm: out shares memory with a or b (the product reads them while writing out)");
  cpu::GemmBatch bt;
  bt.count = batch;
  bt.stride_a = a.batch == 1 ? 0 : a.bs;
  bt.stride_b = b.batch == 1 ? 0 : b.bs;
  bt.stride_c = c.bs;
  float* cp = static_cast<float*>(out.mutable_data());
  const auto run = [&] {
    cpu::sgemm(a.rows, b.cols, a.cols, alpha, {a.data, a.rs, a.cs}, {b.data, b.rs, b.cs}, beta,
               cp, c.rs, bt);
  };
  // Other Python threads get the GIL while a product runs, unless it is so small that handing
  // the GIL over and back (~0.1 us) would cost more than the product itself.
  if (a.rows * b.cols * a.cols * batch < kKeepGilBelow) {
    run();
  } else {
    py::gil_scoped_release release;
    run();
  }
  return out;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(gemm) {
  using py::arg;
  m.def("gemm", &engine::gemm, arg("a"), arg("b"), arg("out") = py::none(), arg("alpha") = 1.0f,
        arg("beta") = 0.0f,
        "out = alpha * a @ b + beta * out for float32 a (m, k) / (batch, m, k) and b (k, n) / "
        "(batch, k, n) with any strides (a batch of 1 broadcasts); engine's own packed GEMM on "
        "engine's thread pool.");
  m.def(
      "gemm_blocking",
      []() {
        const engine::cpu::GemmBlocking b = engine::cpu::gemm_blocking();
        py::dict d;
        d["mr"] = b.mr;
        d["nr"] = b.nr;
        d["kc"] = b.kc;
        d["mc"] = b.mc;
        d["nc"] = b.nc;
        return d;
      },
      "The GEMM's micro-tile and cache blocking on this CPU and ISA path.");
  m.def(
      "set_conv_path",
      [](const std::string& name) {
        engine::cpu::set_conv_path(engine::cpu::conv_path_from_name(name));
      },
      arg("name"),
      "Force the algorithm of stride-1 convs: 'auto' (per shape), 'flat' (padded flat image), "
      "'implicit' (im2col packer) or 'winograd' (F(2x2, 3x3) where it applies, else flat); for "
      "tests and benchmarks.");
  m.def(
      "conv_path",
      []() {
        static const char* names[] = {"auto", "flat", "implicit", "winograd"};
        return std::string(names[static_cast<int>(engine::cpu::conv_path())]);
      },
      "The conv algorithm setting now ('auto', 'flat', 'implicit' or 'winograd').");
  m.def(
      "fma_peak_gflops",
      [](int threads, double seconds) {
        py::gil_scoped_release release;
        return engine::cpu::fma_peak_gflops(threads, seconds);
      },
      arg("threads") = 1, arg("seconds") = 0.3,
      "GFLOP/s of a loop of independent FMAs on the current ISA path, on `threads` threads: the "
      "peak the GEMM benchmark compares against.");
}
