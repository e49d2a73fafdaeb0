#pragma once

#include <cstdint>
#include <vector>

// CPU entry points of the softmax / loss / vision families: plain pointers and sizes; the
// bindings (csrc/bind/softmax.cpp, vision.cpp, interpolate.cpp) own dtype, shape and layout.
// Tensors along a reduced axis are viewed as contiguous (outer, n, inner).
namespace engine {
namespace cpu {

// softmax.cpp
void softmax_forward_cpu(const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
                         bool log);
void softmax_backward_cpu(const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                          int64_t inner, bool log);
// label: (outer, inner) class indices, already checked to lie in [0, n).
void cross_entropy_forward_cpu(const float* x, const int32_t* label, float* loss, int64_t outer,
                               int64_t n, int64_t inner, float smooth);
void cross_entropy_backward_cpu(const float* x, const int32_t* label, const float* dloss,
                                float* dx, int64_t outer, int64_t n, int64_t inner, float smooth);

// focal_loss.cpp
void focal_loss_forward_cpu(const float* x, const float* t, float* loss, int64_t count,
                            float alpha, float gamma);
void focal_loss_backward_cpu(const float* x, const float* t, const float* dloss, float* dx,
                             float* dt, int64_t count, float alpha, float gamma);

// interpolate.cpp: planes = N * C; scales as in kernels/interpolate.h.
void interpolate_forward_cpu(const float* x, float* y, int64_t planes, int64_t in_h, int64_t in_w,
                             int64_t out_h, int64_t out_w, float scale_h, float scale_w,
                             bool bilinear, bool align_corners);
void interpolate_backward_cpu(const float* dy, float* dx, int64_t planes, int64_t in_h,
                              int64_t in_w, int64_t out_h, int64_t out_w, float scale_h,
                              float scale_w, bool bilinear, bool align_corners);

// box_iou.cpp: boxes as (n, 4) x1 y1 x2 y2.
void box_iou_pairwise_cpu(const float* a, const float* b, float* out, int64_t n, int64_t m);
void box_iou_pairwise_backward_cpu(const float* a, const float* b, const float* dout, float* da,
                                   float* db, int64_t n, int64_t m);
void box_iou_paired_cpu(const float* a, const float* b, float* out, int64_t n, bool generalized);
void box_iou_paired_backward_cpu(const float* a, const float* b, const float* dout, float* da,
                                 float* db, int64_t n, bool generalized);

// nms.cpp: returns kept indices by descending score (ties: lower index first). classes may be
// null (one class); max_output < 0 means no limit.
std::vector<int32_t> nms_cpu(const float* boxes, const float* scores, const int32_t* classes,
                             int64_t n, float iou_thresh, int64_t max_output);

// roi_align.cpp: x (N, C, H, W), rois (K, 5), out/argmax (K, C, PH, PW).
struct RoiAlignParams {
  int64_t batch, channels, height, width, num_rois, pooled_h, pooled_w, sample_h, sample_w;
  float spatial_scale, offset;
  bool max_mode;
};
void roi_align_forward_cpu(const float* x, const float* rois, float* out, int32_t* argmax,
                           const RoiAlignParams& p);
void roi_align_backward_cpu(const float* dout, const float* rois, const int32_t* argmax, float* dx,
                            const RoiAlignParams& p);

// roi_pooling.cpp: same layout; argmax is a plane offset h * W + w (-1 for an empty bin).
struct RoiPoolParams {
  int64_t batch, channels, height, width, num_rois, pooled_h, pooled_w;
  float scale;
  bool max_mode;
};
void roi_pooling_forward_cpu(const float* x, const float* rois, float* out, int32_t* argmax,
                             const RoiPoolParams& p);
void roi_pooling_backward_cpu(const float* dout, const float* rois, const int32_t* argmax,
                              float* dx, const RoiPoolParams& p);

}  // namespace cpu
}  // namespace engine
