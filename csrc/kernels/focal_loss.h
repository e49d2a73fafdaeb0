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

HOST_DEVICE inline FocalTerms focal_terms(float x, float t) {
  const float e = expf(-fabsf(x));  // in (0, 1]: no overflow for any x
  const float big = 1.0f / (1.0f + e), small = e / (1.0f + e);
  FocalTerms r;
  r.p = x >= 0 ? big : small;
  r.q = x >= 0 ? small : big;
  r.ce = fmaxf(x, 0.0f) - x * t + log1pf(e);
  r.m = t * r.q + (1.0f - t) * r.p;
  return r;
}

HOST_DEVICE inline float focal_alpha(float t, float alpha) {
  return alpha >= 0 ? alpha * t + (1.0f - alpha) * (1.0f - t) : 1.0f;
}

HOST_DEVICE inline float focal_loss_forward(float x, float t, float alpha, float gamma) {
  const FocalTerms r = focal_terms(x, t);
  return focal_alpha(t, alpha) * r.ce * powf(r.m, gamma);
}

// Gradients of g * loss with respect to x and t. d(m^gamma)/dm at m = 0 is taken as its limit for
// gamma >= 1 (0, or 1 when gamma == 1) and as 0 for gamma < 1, where it is infinite.
HOST_DEVICE inline void focal_loss_backward(float x, float t, float alpha, float gamma, float g,
                                            float* dx, float* dt) {
  const FocalTerms r = focal_terms(x, t);
  const float a = focal_alpha(t, alpha);
  const float da_dt = alpha >= 0 ? 2.0f * alpha - 1.0f : 0.0f;
  const float mg = powf(r.m, gamma);
  float dmg_dm = 0.0f;
  if (gamma != 0.0f) {
    if (r.m > 0.0f) {
      dmg_dm = gamma * powf(r.m, gamma - 1.0f);
    } else if (gamma == 1.0f) {
      dmg_dm = 1.0f;
    }
  }
  const float dm_dx = r.p * r.q * (1.0f - 2.0f * t);
  const float dm_dt = r.q - r.p;
  *dx = g * a * ((r.p - t) * mg + r.ce * dmg_dm * dm_dx);
  *dt = g * (da_dt * r.ce * mg + a * (-x * mg + r.ce * dmg_dm * dm_dt));
}

}  // namespace kernels
}  // namespace engine
