#include "cpu/correlation.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "kernels/correlation.h"

namespace engine {
namespace cpu {

using kernels::CorrelationParams;

void correlation_forward_cpu(const float* d1, const float* d2, float* out,
                             const CorrelationParams& p) {
  const int64_t plane = p.out_h * p.out_w, total = p.batch * p.out_c * plane;
  const int64_t k = 2 * p.kernel_radius + 1;
#pragma omp parallel for schedule(static) if (total * k * k * p.channels >= kParallelThreshold)
  for (int64_t idx = 0; idx < total; ++idx) {
    const int64_t tx = idx % p.out_w, ty = (idx / p.out_w) % p.out_h;
    const int64_t tc = (idx / plane) % p.out_c, n = idx / (plane * p.out_c);
    out[idx] = kernels::corr_forward(d1, d2, n, tc, ty, tx, p);
  }
}

void correlation_backward_cpu(const float* d1, const float* d2, const float* dout, float* g1,
                              float* g2, const CorrelationParams& p) {
  const int64_t plane = p.height * p.width, total = p.batch * p.channels * plane;
  const int64_t k = 2 * p.kernel_radius + 1;
#pragma omp parallel for schedule(static) if (total * p.out_c * k * k >= kParallelThreshold)
  for (int64_t idx = 0; idx < total; ++idx) {
    const int64_t x = idx % p.width, y = (idx / p.width) % p.height;
    const int64_t c = (idx / plane) % p.channels, n = idx / (plane * p.channels);
    if (g1) g1[idx] = kernels::corr_backward(d1, d2, dout, n, c, y, x, false, p);
    if (g2) g2[idx] = kernels::corr_backward(d1, d2, dout, n, c, y, x, true, p);
  }
}

}  // namespace cpu
}  // namespace engine
