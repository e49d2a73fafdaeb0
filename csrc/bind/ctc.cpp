// Bindings of the CTC loss (csrc/kernels/ctc.h): pred float32 (T, N, C) probabilities, label
// int32 (N, S) padded, pred_lengths and label_lengths int32 (N,).
#include <cstdint>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/ctc.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/ctc.h"
#endif

namespace engine {
namespace {

using kernels::CtcParams;

CtcParams check_ctc(const py::array& pred, const IntArray& label, const IntArray& pred_len,
                    const IntArray& label_len, int32_t blank, const char* op) {
  ENGINE_CHECK(pred.ndim() == 3, op << ": pred must be (T, N, C), got " << shape_str(pred));
  const int64_t t = pred.shape(0), n = pred.shape(1), c = pred.shape(2);
  ENGINE_CHECK(label.ndim() == 2 && label.shape(0) == n && label.shape(1) > 0,
               op << ": label must be (" << n << ", S), got " << shape_str(label));
  ENGINE_CHECK(pred_len.ndim() == 1 && pred_len.shape(0) == n && label_len.ndim() == 1 &&
                   label_len.shape(0) == n,
               op << ": pred_lengths " << shape_str(pred_len) << " and label_lengths "
                  << shape_str(label_len) << " must be (" << n << ",)");
  ENGINE_CHECK(blank >= 0 && blank < c, op << ": blank must be in [0, " << c << "), got " << blank);
  const int64_t s_max = label.shape(1);
  const int32_t *pl = pred_len.data(), *ll = label_len.data(), *lab = label.data();
  for (int64_t i = 0; i < n; ++i) {
    ENGINE_CHECK(pl[i] > 0 && pl[i] <= t, op << ": pred_lengths[" << i << "] = " << pl[i]
                                             << " is outside [1, " << t << "]");
    ENGINE_CHECK(ll[i] > 0 && ll[i] <= s_max, op << ": label_lengths[" << i << "] = " << ll[i]
                                                 << " is outside [1, " << s_max << "]");
    for (int64_t j = 0; j < ll[i]; ++j) {
      const int32_t v = lab[i * s_max + j];
      ENGINE_CHECK(v >= 0 && v < c, op << ": label " << v << " of sequence " << i
                                       << " is outside the " << c << " classes");
    }
  }
  return {t, n, c, s_max, blank};
}

py::tuple ctc_loss_forward(const py::object& pred_in, const py::object& label_in,
                           const py::object& pl_in, const py::object& ll_in, int32_t blank) {
  const char* op = "ctc_loss";
  FloatArray pred = as_float32(pred_in, op, "pred");
  IntArray label = as_int32(label_in, op, "label"), pl = as_int32(pl_in, op, "pred_lengths");
  IntArray ll = as_int32(ll_in, op, "label_lengths");
  const CtcParams p = check_ctc(pred, label, pl, ll, blank, op);
  FloatArray loss(std::vector<py::ssize_t>{p.batch});
  FloatArray alpha(std::vector<py::ssize_t>{p.batch, p.time, 2 * p.label_cols + 1});
  const float* pp = pred.data();
  const int32_t *lp = label.data(), *plp = pl.data(), *llp = ll.data();
  float *lo = loss.mutable_data(), *ap = alpha.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::ctc_loss_forward_cpu(pp, lp, plp, llp, lo, ap, p);
  }
  return py::make_tuple(loss, alpha);
}

FloatArray ctc_loss_backward(const py::object& pred_in, const py::object& label_in,
                             const py::object& pl_in, const py::object& ll_in,
                             const py::object& loss_in, const py::object& alpha_in,
                             const py::object& dloss_in, int32_t blank) {
  const char* op = "ctc_loss_backward";
  FloatArray pred = as_float32(pred_in, op, "pred");
  IntArray label = as_int32(label_in, op, "label"), pl = as_int32(pl_in, op, "pred_lengths");
  IntArray ll = as_int32(ll_in, op, "label_lengths");
  FloatArray loss = as_float32(loss_in, op, "loss"), alpha = as_float32(alpha_in, op, "alpha");
  FloatArray dloss = as_float32(dloss_in, op, "dloss");
  const CtcParams p = check_ctc(pred, label, pl, ll, blank, op);
  ENGINE_CHECK(loss.size() == p.batch && dloss.size() == p.batch &&
                   alpha.size() == p.batch * p.time * (2 * p.label_cols + 1),
               op << ": loss " << shape_str(loss) << ", dloss " << shape_str(dloss)
                  << " and alpha " << shape_str(alpha) << " do not match pred "
                  << shape_str(pred) << " and label " << shape_str(label));
  FloatArray dpred(shape_of(pred));
  const float *pp = pred.data(), *lo = loss.data(), *ap = alpha.data(), *dl = dloss.data();
  const int32_t *lp = label.data(), *plp = pl.data(), *llp = ll.data();
  float* dp = dpred.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::ctc_loss_backward_cpu(pp, lp, plp, llp, lo, ap, dl, dp, p);
  }
  return dpred;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(ctc) {
  using namespace pybind11::literals;
  m.def("ctc_loss_forward", &engine::ctc_loss_forward, "pred"_a, "label"_a, "pred_lengths"_a,
        "label_lengths"_a, "blank"_a,
        "MegEngine CTC loss of probabilities -> (loss (N,), alpha (N, T, 2S + 1)).");
  m.def("ctc_loss_backward", &engine::ctc_loss_backward, "pred"_a, "label"_a, "pred_lengths"_a,
        "label_lengths"_a, "loss"_a, "alpha"_a, "dloss"_a, "blank"_a,
        "Gradient (T, N, C) of sum(dloss * ctc_loss_forward(...)[0]) w.r.t. pred.");
#ifdef ENGINE_WITH_CUDA
  py::class_<engine::kernels::CtcParams>(m, "CtcParams")
      .def(py::init([](int64_t t, int64_t n, int64_t c, int64_t s, int32_t blank) {
             return engine::kernels::CtcParams{t, n, c, s, blank};
           }),
           "time"_a, "batch"_a, "classes"_a, "label_cols"_a, "blank"_a);
  // Device buffers as raw pointers on CuPy's stream; the caller has checked lengths and labels.
  m.def("ctc_loss_forward_cuda", &engine::cuda::ctc_loss_forward_cuda, "pred_ptr"_a,
        "label_ptr"_a, "pred_len_ptr"_a, "label_len_ptr"_a, "loss_ptr"_a, "alpha_ptr"_a,
        "params"_a, "stream"_a, py::call_guard<py::gil_scoped_release>());
  m.def("ctc_loss_backward_cuda", &engine::cuda::ctc_loss_backward_cuda, "pred_ptr"_a,
        "label_ptr"_a, "pred_len_ptr"_a, "label_len_ptr"_a, "loss_ptr"_a, "alpha_ptr"_a,
        "dloss_ptr"_a, "dpred_ptr"_a, "beta_scratch_ptr"_a, "params"_a, "stream"_a,
        py::call_guard<py::gil_scoped_release>());
#endif
}
