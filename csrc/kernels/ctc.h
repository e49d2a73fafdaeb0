// CTC loss with MegEngine's semantics (functional/loss.py ctc_loss): pred holds probabilities
// (T, N, C), read as lp = log(max(p, FLT_MIN)) ("safelog"); the extended label of sequence n is
// blank, l0, blank, l1, ..., blank (2 L_n + 1 states). Unlike the textbook recursion, MegEngine
// starts the states s >= 2 at log(FLT_MIN) instead of -inf, so an impossible alignment gives a
// large finite loss rather than inf; we start them the same way.
//
//   alpha_0(s)   = lp(0, ext(s)) for s < 2, log(FLT_MIN) otherwise
//   alpha_t(s)   = lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2) if ext(s) != ext(s-2)])
//                  + lp(t, ext(s))
//   loss_n       = -lse(alpha_{T_n-1}(2 L_n), alpha_{T_n-1}(2 L_n - 1))
//
// Backward: beta_t(s) (the emissions after t) runs the same recursion from the end, and
//   d loss_n / d lp(t, c) = -sum_{s: ext(s) = c} exp(alpha_t(s) + beta_t(s) + loss_n)
// (at t = 0 over s < 2 only: the other states start from a constant),
// then d lp / d p = 1 / p where p > FLT_MIN (0 where safelog clamps).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

struct CtcParams {
  int64_t time, batch, classes, label_cols;  // T, N, C, S (label is (N, S) padded)
  int32_t blank;
};

HOST_DEVICE inline float ctc_log_add(float a, float b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const float m = a > b ? a : b;
  return m + log1pf(expf(-fabsf(a - b)));
}

HOST_DEVICE inline float ctc_safe_log(float p) { return logf(p > FLT_MIN ? p : FLT_MIN); }

// Class of extended state s of sequence n (labels of row n of the padded (N, S) label).
HOST_DEVICE inline int32_t ctc_state_class(const int32_t* label_row, int64_t s, int32_t blank) {
  return (s & 1) ? label_row[s >> 1] : blank;
}

// May state s be entered from s - 2 (skipping a blank)? Only between two different labels.
HOST_DEVICE inline bool ctc_can_skip(const int32_t* label_row, int64_t s, int32_t blank) {
  return s >= 2 && ctc_state_class(label_row, s, blank) != ctc_state_class(label_row, s - 2, blank);
}

HOST_DEVICE inline float ctc_alpha_init(int64_t s, float lp) {
  return s < 2 ? lp : logf(FLT_MIN);
}

// alpha_t(s) from the previous row (before adding this step's emission).
HOST_DEVICE inline float ctc_alpha_gather(const float* prev, const int32_t* label_row, int64_t s,
                                          int32_t blank) {
  float a = prev[s];
  if (s >= 1) a = ctc_log_add(a, prev[s - 1]);
  if (ctc_can_skip(label_row, s, blank)) a = ctc_log_add(a, prev[s - 2]);
  return a;
}

// beta_t(s) from row t + 1: next[s'] + lp(t + 1, ext(s')) over the successors s' of s.
// lp_next(c) is the log-probability of class c at t + 1; states >= states_n are unreachable.
HOST_DEVICE inline float ctc_beta_gather(const float* next, const float* p_next,
                                         const int32_t* label_row, int64_t s, int64_t states_n,
                                         int32_t blank) {
  float b = -INFINITY;
  for (int64_t d = 0; d < 3; ++d) {
    const int64_t q = s + d;
    if (q >= states_n) break;
    if (d == 2 && !ctc_can_skip(label_row, q, blank)) continue;
    if (next[q] == -INFINITY) continue;
    b = ctc_log_add(b, next[q] + ctc_safe_log(p_next[ctc_state_class(label_row, q, blank)]));
  }
  return b;
}

}  // namespace kernels
}  // namespace engine
