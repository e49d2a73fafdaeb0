// Fused optimizer updates, one element at a time: the math of engine.optimizer's SGD, Adam and
// AdamW written once for the CPU loops (cpu/optim.cpp) and the CUDA kernels (cuda/optim.cu).
// Each call reads a parameter, its gradient and its state and writes the new parameter and
// state, so a whole update is one pass over memory instead of one pass per numpy operation.
#pragma once

#include <cmath>

#include "common/macros.h"

namespace engine {
namespace kernels {

HOST_DEVICE inline float sqrt_(float x) { return sqrtf(x); }
HOST_DEVICE inline double sqrt_(double x) { return ::sqrt(x); }

// Hyper-parameters of one SGD step (MegEngine semantics):
//   g += weight_decay * p;  v = momentum * v + g;  p -= lr * (nesterov ? g + momentum * v : v)
// With momentum == 0 there is no buffer: p -= lr * g.
template <typename T>
struct SgdParams {
  T lr;
  T weight_decay;
  T momentum;
  bool nesterov;
};

// The update with the branches fixed at compile time (kMomentum: v is a buffer; kNesterov), so
// that a CPU loop over it has no control flow and vectorises.
template <bool kMomentum, bool kNesterov, typename T>
HOST_DEVICE inline void sgd_update_fixed(T& p, T g, T* v, const SgdParams<T>& h) {
  g += h.weight_decay * p;
  if (kMomentum) {
    const T buf = h.momentum * (*v) + g;
    *v = buf;
    g = kNesterov ? g + h.momentum * buf : buf;
  }
  p -= h.lr * g;
}

template <typename T>
HOST_DEVICE inline void sgd_update(T& p, T g, T* v, const SgdParams<T>& h) {
  if (v == nullptr) {
    sgd_update_fixed<false, false>(p, g, v, h);
  } else if (h.nesterov) {
    sgd_update_fixed<true, true>(p, g, v, h);
  } else {
    sgd_update_fixed<true, false>(p, g, v, h);
  }
}

// Hyper-parameters of one Adam / AdamW step, with the per-tensor scalars folded on the host:
// step_size = lr / (1 - beta1^t) and inv_sqrt_bias_correction2 = 1 / sqrt(1 - beta2^t), so that
//   p -= step_size * m / (sqrt(v) * inv_sqrt_bias_correction2 + eps)
// equals lr * m_hat / (sqrt(v_hat) + eps) with one square root and one division per element.
// Adam adds weight_decay * p to the gradient (L2); AdamW (decoupled) subtracts
// lr * weight_decay * p from the parameter instead.
template <typename T>
struct AdamParams {
  T lr;
  T beta1;
  T beta2;
  T eps;
  T weight_decay;
  T step_size;
  T inv_sqrt_bias_correction2;
  bool decoupled;
};

// bias_correction1/2 = 1 - beta1^t, 1 - beta2^t for step t (counted from 1).
template <typename T>
inline AdamParams<T> make_adam_params(double lr, double beta1, double beta2, double eps,
                                      double weight_decay, double bias_correction1,
                                      double bias_correction2, bool decoupled) {
  return AdamParams<T>{T(lr),
                       T(beta1),
                       T(beta2),
                       T(eps),
                       T(weight_decay),
                       T(lr / bias_correction1),
                       T(1.0 / std::sqrt(bias_correction2)),
                       decoupled};
}

// kDecoupled fixed at compile time, as sgd_update_fixed.
template <bool kDecoupled, typename T>
HOST_DEVICE inline void adam_update_fixed(T& p, T g, T& m, T& v, const AdamParams<T>& h) {
  if (!kDecoupled) g += h.weight_decay * p;
  m = h.beta1 * m + (T(1) - h.beta1) * g;
  v = h.beta2 * v + (T(1) - h.beta2) * g * g;
  T update = h.step_size * m / (sqrt_(v) * h.inv_sqrt_bias_correction2 + h.eps);
  if (kDecoupled) update += h.lr * h.weight_decay * p;
  p -= update;
}

template <typename T>
HOST_DEVICE inline void adam_update(T& p, T g, T& m, T& v, const AdamParams<T>& h) {
  if (h.decoupled) {
    adam_update_fixed<true>(p, g, m, v, h);
  } else {
    adam_update_fixed<false>(p, g, m, v, h);
  }
}

}  // namespace kernels
}  // namespace engine
