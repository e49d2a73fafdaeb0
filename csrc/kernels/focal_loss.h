// Sigmoid focal loss (Lin et al. 2017, torchvision's sigmoid_focal_loss) of one logit x against a
// float target t in [0, 1]:
//   p = sigmoid(x), ce = BCE-with-logits(x, t), m = 1 - p_t = t (1 - p) + (1 - t) p,
//   a = alpha t + (1 - alpha)(1 - t)  (a = 1 when alpha < 0),   loss = a * ce * m^gamma.
// 1 - p is computed as sigmoid(-x), never as 1 - p, so confident logits keep their precision.
#pragma once

#include <cmath>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct FocalTerms {
  float p, q, ce, m;  // sigmoid(x), sigmoid(-x), BCE with logits, 1 - p_t
};

// From e = exp(-|x|) and l = log1p(e), which the CPU loop computes vectorised for a whole block.
HOST_DEVICE inline FocalTerms focal_terms_from(float x, float t, float e, float l) {
  const float big = 1.0f / (1.0f + e), small = e / (1.0f + e);
  const bool pos = x >= 0;
  FocalTerms r;
  r.p = pos ? big : small;
  r.q = pos ? small : big;
  r.ce = (pos ? x : 0.0f) - x * t + l;  // max(x, 0) as a select: the CPU loop vectorises
  r.m = t * r.q + (1.0f - t) * r.p;
  return r;
}

HOST_DEVICE inline FocalTerms focal_terms(float x, float t) {
  const float e = expf(-fabsf(x));  // in (0, 1]: no overflow for any x
  return focal_terms_from(x, t, e, log1pf(e));
}

// m^gamma for m in [0, 1]; the usual integer exponents without powf (exact, and vectorisable).
HOST_DEVICE inline float focal_pow(float m, float gamma) {
  if (gamma == 2.0f) return m * m;
  if (gamma == 1.0f) return m;
  if (gamma == 0.0f) return 1.0f;
  if (gamma == 3.0f) return m * m * m;
  return powf(m, gamma);
}

HOST_DEVICE inline float focal_alpha(float t, float alpha) {
  // alpha t + (1 - alpha)(1 - t), or 1 when alpha < 0, with the choice made on coefficients fixed
  // per call: no arithmetic under a per-element condition, so the CPU loop vectorises
  const bool on = alpha >= 0;
  const float wt = on ? alpha : 0.0f, wn = on ? 1.0f - alpha : 0.0f, c = on ? 0.0f : 1.0f;
  return wt * t + wn * (1.0f - t) + c;
}

HOST_DEVICE inline float focal_loss_forward_from(float x, float t, float e, float l, float alpha,
                                                 float gamma) {
  const FocalTerms r = focal_terms_from(x, t, e, l);
  return focal_alpha(t, alpha) * r.ce * focal_pow(r.m, gamma);
}

HOST_DEVICE inline float focal_loss_forward(float x, float t, float alpha, float gamma) {
  const float e = expf(-fabsf(x));
  return focal_loss_forward_from(x, t, e, log1pf(e), alpha, gamma);
}

// Gradients of g * loss with respect to x and t. d(m^gamma)/dm at m = 0 is taken as its limit for
// gamma >= 1 (0, or 1 when gamma == 1) and as 0 for gamma < 1, where it is infinite.
HOST_DEVICE inline void focal_loss_backward_from(float x, float t, float e, float l, float alpha,
                                                 float gamma, float g, float* dx, float* dt) {
  const FocalTerms r = focal_terms_from(x, t, e, l);
  const float a = focal_alpha(t, alpha);
  const float da_dt = alpha >= 0 ? 2.0f * alpha - 1.0f : 0.0f;
  const float mg = focal_pow(r.m, gamma);
  float dmg_dm = 0.0f;
  if (gamma != 0.0f) {
    // gamma m^(gamma - 1) where m > 0; at m = 0 its limit (1 for gamma == 1, else 0)
    const float d = gamma * focal_pow(r.m, gamma - 1.0f);
    dmg_dm = r.m > 0.0f ? d : (gamma == 1.0f ? 1.0f : 0.0f);
  }
  const float dm_dx = r.p * r.q * (1.0f - 2.0f * t);
  const float dm_dt = r.q - r.p;
  *dx = g * a * ((r.p - t) * mg + r.ce * dmg_dm * dm_dx);
  *dt = g * (da_dt * r.ce * mg + a * (-x * mg + r.ce * dmg_dm * dm_dt));
}

HOST_DEVICE inline void focal_loss_backward(float x, float t, float alpha, float gamma, float g,
                                            float* dx, float* dt) {
  const float e = expf(-fabsf(x));
  focal_loss_backward_from(x, t, e, log1pf(e), alpha, gamma, g, dx, dt);
}

}  // namespace kernels
}  // namespace engine
