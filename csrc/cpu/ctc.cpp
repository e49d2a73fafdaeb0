#include "cpu/ctc.h"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/ctc.h"

namespace engine {
namespace cpu {

using kernels::CtcParams;

// Sequences are independent: one task per n, each writing only its own rows.
void ctc_loss_forward_cpu(const float* pred, const int32_t* label, const int32_t* pred_len,
                          const int32_t* label_len, float* loss, float* alpha,
                          const CtcParams& p) {
  const int64_t lp = 2 * p.label_cols + 1;
#pragma omp parallel for schedule(dynamic)
  for (int64_t n = 0; n < p.batch; ++n) {
    const int32_t* lab = label + n * p.label_cols;
    const int64_t states = 2 * static_cast<int64_t>(label_len[n]) + 1, steps = pred_len[n];
    float* a = alpha + n * p.time * lp;
    for (int64_t i = 0; i < p.time * lp; ++i) a[i] = -INFINITY;
    const float* p0 = pred + n * p.classes;
    for (int64_t s = 0; s < states; ++s) {
      a[s] = kernels::ctc_alpha_init(
          s, kernels::ctc_safe_log(p0[kernels::ctc_state_class(lab, s, p.blank)]));
    }
    for (int64_t t = 1; t < steps; ++t) {
      const float* prev = a + (t - 1) * lp;
      float* cur = a + t * lp;
      const float* pt = pred + (t * p.batch + n) * p.classes;
      for (int64_t s = 0; s < states; ++s) {
        cur[s] = kernels::ctc_alpha_gather(prev, lab, s, p.blank) +
                 kernels::ctc_safe_log(pt[kernels::ctc_state_class(lab, s, p.blank)]);
      }
    }
    const float* last = a + (steps - 1) * lp;
    loss[n] = -kernels::ctc_log_add(last[states - 1], last[states - 2]);
  }
}

void ctc_loss_backward_cpu(const float* pred, const int32_t* label, const int32_t* pred_len,
                           const int32_t* label_len, const float* loss, const float* alpha,
                           const float* dloss, float* dpred, const CtcParams& p) {
  const int64_t lp = 2 * p.label_cols + 1;
#pragma omp parallel for schedule(dynamic)
  for (int64_t n = 0; n < p.batch; ++n) {
    const int32_t* lab = label + n * p.label_cols;
    const int64_t states = 2 * static_cast<int64_t>(label_len[n]) + 1, steps = pred_len[n];
    const float* a = alpha + n * p.time * lp;
    std::vector<float> beta(static_cast<size_t>(lp), -INFINITY), next(beta);
    beta[states - 1] = beta[states - 2] = 0.0f;
    for (int64_t t = p.time - 1; t >= 0; --t) {
      const float* pt = pred + (t * p.batch + n) * p.classes;
      float* g = dpred + (t * p.batch + n) * p.classes;
      for (int64_t c = 0; c < p.classes; ++c) g[c] = 0.0f;
      if (t >= steps) continue;  // steps past pred_lengths[n] do not enter the loss
      if (t < steps - 1) {
        next.swap(beta);
        const float* pn = pred + ((t + 1) * p.batch + n) * p.classes;
        for (int64_t s = 0; s < states; ++s) {
          beta[s] = kernels::ctc_beta_gather(next.data(), pn, lab, s, states, p.blank);
        }
      }
      // Occupancy of each class at t, in state order (deterministic). At t = 0 only states 0
      // and 1 emitted pred[0]; the others start from the constant log(FLT_MIN).
      for (int64_t s = 0; s < (t == 0 ? 2 : states); ++s) {
        const float v = a[t * lp + s] + beta[s];
        if (v == -INFINITY) continue;
        g[kernels::ctc_state_class(lab, s, p.blank)] += expf(v + loss[n]);
      }
      for (int64_t c = 0; c < p.classes; ++c) {
        g[c] = pt[c] > FLT_MIN ? -dloss[n] * g[c] / pt[c] : 0.0f;
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
