#include "kernels/box_iou.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "cpu/vision.h"

namespace engine {
namespace cpu {

// (n, 4) x (m, 4) -> (n, m).
void box_iou_pairwise_cpu(const float* a, const float* b, float* out, int64_t n, int64_t m) {
#pragma omp parallel for schedule(static) if (n * m >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) out[i * m + j] = kernels::box_iou(a + 4 * i, b + 4 * j);
  }
}

// da sums over columns and db over rows; two passes so each thread owns the rows it writes.
void box_iou_pairwise_backward_cpu(const float* a, const float* b, const float* dout, float* da,
                                   float* db, int64_t n, int64_t m) {
  const bool parallel = n * m >= kParallelThreshold;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < n; ++i) {
    float acc[4] = {0, 0, 0, 0}, unused[4];
    for (int64_t j = 0; j < m; ++j) {
      kernels::box_iou_backward(a + 4 * i, b + 4 * j, dout[i * m + j], false, acc, unused);
    }
    for (int k = 0; k < 4; ++k) da[4 * i + k] = acc[k];
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t j = 0; j < m; ++j) {
    float acc[4] = {0, 0, 0, 0}, unused[4];
    for (int64_t i = 0; i < n; ++i) {
      kernels::box_iou_backward(a + 4 * i, b + 4 * j, dout[i * m + j], false, unused, acc);
    }
    for (int k = 0; k < 4; ++k) db[4 * j + k] = acc[k];
  }
}

// (n, 4) with (n, 4) -> (n,): box i of a against box i of b.
void box_iou_paired_cpu(const float* a, const float* b, float* out, int64_t n, bool generalized) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold / 8)
  for (int64_t i = 0; i < n; ++i) {
    out[i] = generalized ? kernels::box_giou(a + 4 * i, b + 4 * i)
                         : kernels::box_iou(a + 4 * i, b + 4 * i);
  }
}

void box_iou_paired_backward_cpu(const float* a, const float* b, const float* dout, float* da,
                                 float* db, int64_t n, bool generalized) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold / 8)
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) da[4 * i + k] = db[4 * i + k] = 0.0f;
    kernels::box_iou_backward(a + 4 * i, b + 4 * i, dout[i], generalized, da + 4 * i, db + 4 * i);
  }
}

}  // namespace cpu
}  // namespace engine
