// Bindings of the fused optimizer updates (csrc/kernels/optim.h). The parameter and state arrays
// are updated in place, so they must already be writable, contiguous float32 arrays: a silent
// conversion would update a temporary copy and lose the step.
#include "cpu/optim.h"

#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#ifdef ENGINE_WITH_CUDA
#include "cuda/optim.h"
#endif

namespace engine {
namespace {

float* inplace_float32(const py::object& obj, const char* op, const char* name) {
  ENGINE_CHECK(py::isinstance<py::array>(obj),
               op << ": " << name << " must be a numpy array, got "
                  << std::string(py::str(py::type::of(obj).attr("__name__"))));
  py::array a = py::reinterpret_borrow<py::array>(obj);
  const py::dtype dt = a.dtype();
  ENGINE_CHECK(dt.kind() == 'f' && dt.itemsize() == 4,
               op << ": " << name << " must be float32, got " << std::string(py::str(dt)));
  ENGINE_CHECK((a.flags() & py::array::c_style) && a.writeable(),
               op << ": " << name << " must be a writable C-contiguous array (updated in place)");
  return static_cast<float*>(a.mutable_data());
}

void check_size(const py::array& a, int64_t n, const char* op, const char* name) {
  ENGINE_CHECK(a.size() == n, op << ": " << name << " has shape " << shape_str(a)
                                 << " but the parameter has " << n << " elements");
}

void sgd_update(const py::object& param_in, const py::object& grad_in, const py::object& buf_in,
                float lr, float weight_decay, float momentum, bool nesterov) {
  const char* op = "sgd_update";
  float* p = inplace_float32(param_in, op, "param");
  const int64_t n = py::reinterpret_borrow<py::array>(param_in).size();
  FloatArray g = as_float32(grad_in, op, "grad");
  check_size(g, n, op, "grad");
  float* v = nullptr;
  if (!buf_in.is_none()) {
    v = inplace_float32(buf_in, op, "momentum_buffer");
    check_size(py::reinterpret_borrow<py::array>(buf_in), n, op, "momentum_buffer");
  }
  const kernels::SgdParams<float> h{lr, weight_decay, momentum, nesterov};
  const float* gp = g.data();
  py::gil_scoped_release release;
  cpu::sgd_update_cpu(p, gp, v, n, h);
}

void adam_update(const py::object& param_in, const py::object& grad_in, const py::object& m_in,
                 const py::object& v_in, double lr, double beta1, double beta2, double eps,
                 double weight_decay, double bias_correction1, double bias_correction2,
                 bool decoupled) {
  const char* op = "adam_update";
  float* p = inplace_float32(param_in, op, "param");
  const int64_t n = py::reinterpret_borrow<py::array>(param_in).size();
  FloatArray g = as_float32(grad_in, op, "grad");
  check_size(g, n, op, "grad");
  float* m = inplace_float32(m_in, op, "exp_avg");
  check_size(py::reinterpret_borrow<py::array>(m_in), n, op, "exp_avg");
  float* v = inplace_float32(v_in, op, "exp_avg_sq");
  check_size(py::reinterpret_borrow<py::array>(v_in), n, op, "exp_avg_sq");
  const auto h = kernels::make_adam_params<float>(lr, beta1, beta2, eps, weight_decay,
                                                  bias_correction1, bias_correction2, decoupled);
  const float* gp = g.data();
  py::gil_scoped_release release;
  cpu::adam_update_cpu(p, gp, m, v, n, h);
}

// The arrays of a list argument, checked one by one (errors name the list and the index).
std::vector<py::array> arrays_of(const py::list& items, size_t count, const char* op,
                                 const char* name) {
  ENGINE_CHECK(items.size() == count,
               op << ": " << name << " has " << items.size() << " arrays but params has " << count);
  std::vector<py::array> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ENGINE_CHECK(py::isinstance<py::array>(items[i]),
                 op << ": " << name << "[" << i << "] must be a numpy array");
    out.push_back(py::reinterpret_borrow<py::array>(items[i]));
  }
  return out;
}

std::string item_name(const char* name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// Pointers to the in-place arrays of a list, each of the parameter's size.
std::vector<float*> inplace_list(const std::vector<py::array>& arrays,
                                 const std::vector<int64_t>& sizes, const char* op,
                                 const char* name) {
  std::vector<float*> out;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const std::string item = item_name(name, i);
    out.push_back(inplace_float32(arrays[i], op, item.c_str()));
    check_size(arrays[i], sizes[i], op, item.c_str());
  }
  return out;
}

// The gradients: any float32 arrays of the parameters' sizes (kept alive in `keep`).
std::vector<const float*> grad_list(const std::vector<py::array>& arrays,
                                    const std::vector<int64_t>& sizes, const char* op,
                                    std::vector<FloatArray>* keep) {
  std::vector<const float*> out;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const std::string item = item_name("grads", i);
    keep->push_back(as_float32(arrays[i], op, item.c_str()));
    check_size(keep->back(), sizes[i], op, item.c_str());
    out.push_back(keep->back().data());
  }
  return out;
}

std::vector<int64_t> sizes_of(const py::list& params, const char* op) {
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < params.size(); ++i) {
    ENGINE_CHECK(py::isinstance<py::array>(params[i]),
                 op << ": params[" << i << "] must be a numpy array");
    sizes.push_back(py::reinterpret_borrow<py::array>(params[i]).size());
  }
  return sizes;
}

void sgd_update_group(const py::list& params, const py::list& grads, const py::object& bufs_in,
                      float lr, float weight_decay, float momentum, bool nesterov) {
  const char* op = "sgd_update_group";
  cpu::SgdGroup g;
  g.sizes = sizes_of(params, op);
  const size_t count = g.sizes.size();
  g.params = inplace_list(arrays_of(params, count, op, "params"), g.sizes, op, "params");
  std::vector<FloatArray> keep;
  g.grads = grad_list(arrays_of(grads, count, op, "grads"), g.sizes, op, &keep);
  if (!bufs_in.is_none()) {
    g.momentum_bufs =
        inplace_list(arrays_of(bufs_in.cast<py::list>(), count, op, "momentum_buffers"), g.sizes,
                     op, "momentum_buffers");
  }
  const kernels::SgdParams<float> h{lr, weight_decay, momentum, nesterov};
  py::gil_scoped_release release;
  cpu::sgd_update_group_cpu(g, h);
}

void adam_update_group(const py::list& params, const py::list& grads, const py::list& exp_avgs,
                       const py::list& exp_avg_sqs, const std::vector<double>& steps, double lr,
                       double beta1, double beta2, double eps, double weight_decay,
                       bool decoupled) {
  const char* op = "adam_update_group";
  cpu::AdamGroup g;
  g.sizes = sizes_of(params, op);
  const size_t count = g.sizes.size();
  ENGINE_CHECK(steps.size() == count,
               op << ": steps has " << steps.size() << " values but params has " << count);
  g.params = inplace_list(arrays_of(params, count, op, "params"), g.sizes, op, "params");
  std::vector<FloatArray> keep;
  g.grads = grad_list(arrays_of(grads, count, op, "grads"), g.sizes, op, &keep);
  g.exp_avgs = inplace_list(arrays_of(exp_avgs, count, op, "exp_avgs"), g.sizes, op, "exp_avgs");
  g.exp_avg_sqs =
      inplace_list(arrays_of(exp_avg_sqs, count, op, "exp_avg_sqs"), g.sizes, op, "exp_avg_sqs");
  for (double step : steps) {
    g.hyper.push_back(kernels::make_adam_params<float>(lr, beta1, beta2, eps, weight_decay,
                                                       1.0 - std::pow(beta1, step),
                                                       1.0 - std::pow(beta2, step), decoupled));
  }
  py::gil_scoped_release release;
  cpu::adam_update_group_cpu(g);
}

#ifdef ENGINE_WITH_CUDA
void sgd_update_cuda(uintptr_t p, uintptr_t g, uintptr_t v, int64_t n, float lr, float weight_decay,
                     float momentum, bool nesterov, uintptr_t stream) {
  cuda::sgd_update_cuda(p, g, v, n, kernels::SgdParams<float>{lr, weight_decay, momentum, nesterov},
                        stream);
}

void adam_update_cuda(uintptr_t p, uintptr_t g, uintptr_t m, uintptr_t v, int64_t n, double lr,
                      double beta1, double beta2, double eps, double weight_decay,
                      double bias_correction1, double bias_correction2, bool decoupled,
                      uintptr_t stream) {
  cuda::adam_update_cuda(
      p, g, m, v, n,
      kernels::make_adam_params<float>(lr, beta1, beta2, eps, weight_decay, bias_correction1,
                                       bias_correction2, decoupled),
      stream);
}
#endif

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(optim) {
  m.def("sgd_update_", &engine::sgd_update, py::arg("param"), py::arg("grad"),
        py::arg("momentum_buffer"), py::arg("lr"), py::arg("weight_decay"), py::arg("momentum"),
        py::arg("nesterov"),
        "One fused SGD step on float32 arrays, in place on param and momentum_buffer (None: no "
        "momentum).");
  m.def("adam_update_", &engine::adam_update, py::arg("param"), py::arg("grad"), py::arg("exp_avg"),
        py::arg("exp_avg_sq"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("bias_correction1"), py::arg("bias_correction2"),
        py::arg("decoupled"),
        "One fused Adam (decoupled=False) or AdamW (decoupled=True) step on float32 arrays, in "
        "place on param, exp_avg and exp_avg_sq.");
  m.def("sgd_update_group_", &engine::sgd_update_group, py::arg("params"), py::arg("grads"),
        py::arg("momentum_buffers"), py::arg("lr"), py::arg("weight_decay"), py::arg("momentum"),
        py::arg("nesterov"),
        "sgd_update_ over every tensor of a parameter group in one call and one parallel "
        "region: lists of float32 arrays (momentum_buffers None: no momentum).");
  m.def("adam_update_group_", &engine::adam_update_group, py::arg("params"), py::arg("grads"),
        py::arg("exp_avgs"), py::arg("exp_avg_sqs"), py::arg("steps"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"),
        "adam_update_ over every tensor of a parameter group in one call; steps[i] is tensor "
        "i's step count (from 1), which gives its bias corrections.");
#ifdef ENGINE_WITH_CUDA
  m.def("sgd_update_cuda", &engine::sgd_update_cuda, py::arg("param_ptr"), py::arg("grad_ptr"),
        py::arg("momentum_buffer_ptr"), py::arg("n"), py::arg("lr"), py::arg("weight_decay"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("stream"),
        py::call_guard<py::gil_scoped_release>(),
        "Fused SGD step on float32 device buffers (raw pointers; momentum_buffer_ptr 0 = none).");
  m.def("adam_update_cuda", &engine::adam_update_cuda, py::arg("param_ptr"), py::arg("grad_ptr"),
        py::arg("exp_avg_ptr"), py::arg("exp_avg_sq_ptr"), py::arg("n"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("bias_correction1"), py::arg("bias_correction2"), py::arg("decoupled"),
        py::arg("stream"), py::call_guard<py::gil_scoped_release>(),
        "Fused Adam / AdamW step on float32 device buffers (raw pointers).");
#endif
}
