#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "cpu/vision.h"
#include "kernels/box_iou.h"

namespace engine {
namespace cpu {

// Greedy NMS: walk the boxes by descending score; keep a box unless a kept box of its class
// overlaps it with IoU > iou_thresh. Serial on purpose: the suppression pass after each kept box
// is a few microseconds of work, less than waking an OpenMP team once per kept box.
std::vector<int32_t> nms_cpu(const float* boxes, const float* scores, const int32_t* classes,
                             int64_t n, float iou_thresh, int64_t max_output) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // NaN scores rank as -inf so the comparison stays a strict weak order.
  auto rank = [scores](int64_t i) { return std::isnan(scores[i]) ? -INFINITY : scores[i]; };
  std::stable_sort(order.begin(), order.end(),
                   [&rank](int64_t i, int64_t j) { return rank(i) > rank(j); });
  std::vector<char> suppressed(n, 0);
  std::vector<int32_t> keep;
  for (int64_t a = 0; a < n; ++a) {
    if (max_output >= 0 && static_cast<int64_t>(keep.size()) >= max_output) break;
    if (suppressed[a]) continue;
    const int64_t i = order[a];
    keep.push_back(static_cast<int32_t>(i));
    const float* box = boxes + 4 * i;
    for (int64_t b = a + 1; b < n; ++b) {
      const int64_t j = order[b];
      if (suppressed[b] || (classes && classes[j] != classes[i])) continue;
      if (kernels::box_iou(box, boxes + 4 * j) > iou_thresh) suppressed[b] = 1;
    }
  }
  return keep;
}

}  // namespace cpu
}  // namespace engine
