// Bindings of the detection ops: box IoU / GIoU, NMS, ROIAlign and ROI pooling
// (kernels/box_iou.h, kernels/roi_align.h, kernels/roi_pooling.h). Boxes are float32 (n, 4)
// x1 y1 x2 y2; rois float32 (K, 5) batch_index x1 y1 x2 y2; feature maps float32 NCHW.
#include <cmath>
#include <cstdint>
#include <vector>

#include "bind/arrays.h"
#include "bind/registry.h"
#include "cpu/vision.h"

namespace engine {
namespace {

void check_boxes(const py::array& b, const char* op, const char* name) {
  ENGINE_CHECK(b.ndim() == 2 && b.shape(1) == 4,
               op << ": " << name << " must have shape (n, 4), got " << shape_str(b));
}

FloatArray box_iou(const py::object& a_in, const py::object& b_in) {
  FloatArray a = as_float32(a_in, "box_iou", "boxes1"), b = as_float32(b_in, "box_iou", "boxes2");
  check_boxes(a, "box_iou", "boxes1");
  check_boxes(b, "box_iou", "boxes2");
  const int64_t n = a.shape(0), m = b.shape(0);
  FloatArray out(std::vector<py::ssize_t>{n, m});
  const float *ap = a.data(), *bp = b.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::box_iou_pairwise_cpu(ap, bp, op, n, m);
  }
  return out;
}

py::tuple box_iou_backward(const py::object& a_in, const py::object& b_in,
                           const py::object& g_in) {
  FloatArray a = as_float32(a_in, "box_iou_backward", "boxes1");
  FloatArray b = as_float32(b_in, "box_iou_backward", "boxes2");
  FloatArray g = as_float32(g_in, "box_iou_backward", "dout");
  check_boxes(a, "box_iou_backward", "boxes1");
  check_boxes(b, "box_iou_backward", "boxes2");
  const int64_t n = a.shape(0), m = b.shape(0);
  ENGINE_CHECK(g.ndim() == 2 && g.shape(0) == n && g.shape(1) == m,
               "box_iou_backward: dout " << shape_str(g) << " must be (" << n << ", " << m << ")");
  FloatArray da(shape_of(a)), db(shape_of(b));
  const float *ap = a.data(), *bp = b.data(), *gp = g.data();
  float *dap = da.mutable_data(), *dbp = db.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::box_iou_pairwise_backward_cpu(ap, bp, gp, dap, dbp, n, m);
  }
  return py::make_tuple(da, db);
}

FloatArray box_iou_paired(const py::object& a_in, const py::object& b_in, bool generalized) {
  FloatArray a = as_float32(a_in, "box_iou_paired", "boxes1");
  FloatArray b = as_float32(b_in, "box_iou_paired", "boxes2");
  check_boxes(a, "box_iou_paired", "boxes1");
  ENGINE_CHECK(shape_of(a) == shape_of(b), "box_iou_paired: boxes1 " << shape_str(a)
                                               << " and boxes2 " << shape_str(b)
                                               << " must have one shape");
  const int64_t n = a.shape(0);
  FloatArray out(std::vector<py::ssize_t>{n});
  const float *ap = a.data(), *bp = b.data();
  float* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::box_iou_paired_cpu(ap, bp, op, n, generalized);
  }
  return out;
}

py::tuple box_iou_paired_backward(const py::object& a_in, const py::object& b_in,
                                  const py::object& g_in, bool generalized) {
  FloatArray a = as_float32(a_in, "box_iou_paired_backward", "boxes1");
  FloatArray b = as_float32(b_in, "box_iou_paired_backward", "boxes2");
  FloatArray g = as_float32(g_in, "box_iou_paired_backward", "dout");
  check_boxes(a, "box_iou_paired_backward", "boxes1");
  const int64_t n = a.shape(0);
  ENGINE_CHECK(shape_of(a) == shape_of(b) && g.ndim() == 1 && g.shape(0) == n,
               "box_iou_paired_backward: boxes1 " << shape_str(a) << ", boxes2 " << shape_str(b)
                                                  << " and dout " << shape_str(g)
                                                  << " must be (n, 4), (n, 4), (n,)");
  FloatArray da(shape_of(a)), db(shape_of(b));
  const float *ap = a.data(), *bp = b.data(), *gp = g.data();
  float *dap = da.mutable_data(), *dbp = db.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::box_iou_paired_backward_cpu(ap, bp, gp, dap, dbp, n, generalized);
  }
  return py::make_tuple(da, db);
}

IntArray nms(const py::object& boxes_in, const py::object& scores_in, float iou_thresh,
             int64_t max_output, const py::object& classes_in) {
  FloatArray boxes = as_float32(boxes_in, "nms", "boxes");
  FloatArray scores = as_float32(scores_in, "nms", "scores");
  check_boxes(boxes, "nms", "boxes");
  const int64_t n = boxes.shape(0);
  ENGINE_CHECK(scores.ndim() == 1 && scores.shape(0) == n,
               "nms: scores " << shape_str(scores) << " must be (" << n << ",) for boxes "
                              << shape_str(boxes));
  IntArray classes;
  const int32_t* cp = nullptr;
  if (!classes_in.is_none()) {
    classes = as_int32(classes_in, "nms", "idxs");
    ENGINE_CHECK(classes.ndim() == 1 && classes.shape(0) == n,
                 "nms: idxs " << shape_str(classes) << " must be (" << n << ",)");
    cp = classes.data();
  }
  const float *bp = boxes.data(), *sp = scores.data();
  std::vector<int32_t> keep;
  {
    py::gil_scoped_release release;
    keep = cpu::nms_cpu(bp, sp, cp, n, iou_thresh, max_output);
  }
  IntArray out(static_cast<py::ssize_t>(keep.size()));
  std::copy(keep.begin(), keep.end(), out.mutable_data());
  return out;
}

void check_rois(const py::array& x, const py::array& rois, const char* op) {
  ENGINE_CHECK(x.ndim() == 4, op << ": input must be NCHW (4-D), got " << shape_str(x));
  ENGINE_CHECK(rois.ndim() == 2 && rois.shape(1) == 5,
               op << ": rois must have shape (K, 5), got " << shape_str(rois));
  const float* r = static_cast<const float*>(rois.data());
  for (int64_t k = 0; k < rois.shape(0); ++k) {
    const float b = r[5 * k];
    ENGINE_CHECK(b >= 0 && b < x.shape(0) && b == static_cast<float>(static_cast<int64_t>(b)),
                 op << ": roi " << k << " has batch index " << b << ", expected an integer in [0, "
                    << x.shape(0) << ")");
    // Coordinates become integer cell indices in the kernels: NaN/inf would be undefined.
    for (int j = 1; j < 5; ++j) {
      ENGINE_CHECK(std::isfinite(r[5 * k + j]),
                   op << ": roi " << k << " has a non-finite coordinate " << r[5 * k + j]);
    }
  }
}

cpu::RoiAlignParams roi_align_params(const py::array& x, const py::array& rois, int64_t ph,
                                     int64_t pw, int64_t sh, int64_t sw, float scale,
                                     float offset, bool max_mode) {
  ENGINE_CHECK(ph > 0 && pw > 0 && sh > 0 && sw > 0,
               "roi_align: output shape (" << ph << ", " << pw << ") and sample points (" << sh
                                           << ", " << sw << ") must be positive");
  return {x.shape(0), x.shape(1), x.shape(2), x.shape(3), rois.shape(0), ph, pw, sh, sw,
          scale, offset, max_mode};
}

py::tuple roi_align_forward(const py::object& x_in, const py::object& rois_in, int64_t ph,
                            int64_t pw, int64_t sh, int64_t sw, float scale, float offset,
                            bool max_mode) {
  FloatArray x = as_float32(x_in, "roi_align", "inp");
  FloatArray rois = as_float32(rois_in, "roi_align", "rois");
  check_rois(x, rois, "roi_align");
  const cpu::RoiAlignParams p = roi_align_params(x, rois, ph, pw, sh, sw, scale, offset, max_mode);
  const std::vector<py::ssize_t> shape{p.num_rois, p.channels, ph, pw};
  FloatArray out(shape);
  IntArray argmax(max_mode ? shape : std::vector<py::ssize_t>{0});
  const float *xp = x.data(), *rp = rois.data();
  float* op = out.mutable_data();
  int32_t* ap = argmax.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::roi_align_forward_cpu(xp, rp, op, ap, p);
  }
  return py::make_tuple(out, argmax);
}

FloatArray roi_align_backward(const py::object& dout_in, const py::object& rois_in,
                              const py::object& argmax_in, py::tuple x_shape, int64_t sh,
                              int64_t sw, float scale, float offset, bool max_mode) {
  FloatArray dout = as_float32(dout_in, "roi_align_backward", "dout");
  FloatArray rois = as_float32(rois_in, "roi_align_backward", "rois");
  IntArray argmax = as_int32(argmax_in, "roi_align_backward", "argmax");
  std::vector<py::ssize_t> shape;
  for (auto d : x_shape) shape.push_back(d.cast<py::ssize_t>());
  FloatArray dx(shape);
  check_rois(dx, rois, "roi_align_backward");
  ENGINE_CHECK(dout.ndim() == 4 && dout.shape(0) == rois.shape(0) && dout.shape(1) == shape[1],
               "roi_align_backward: dout " << shape_str(dout) << " does not match rois "
                                           << shape_str(rois) << " and input " << shape_str(dx));
  ENGINE_CHECK(!max_mode || shape_of(argmax) == shape_of(dout),
               "roi_align_backward: argmax " << shape_str(argmax) << " must match dout");
  const cpu::RoiAlignParams p = roi_align_params(dx, rois, dout.shape(2), dout.shape(3), sh, sw,
                                                 scale, offset, max_mode);
  const float *gp = dout.data(), *rp = rois.data();
  const int32_t* ap = argmax.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::roi_align_backward_cpu(gp, rp, ap, dxp, p);
  }
  return dx;
}

py::tuple roi_pooling_forward(const py::object& x_in, const py::object& rois_in, int64_t ph,
                              int64_t pw, float scale, bool max_mode) {
  FloatArray x = as_float32(x_in, "roi_pooling", "inp");
  FloatArray rois = as_float32(rois_in, "roi_pooling", "rois");
  check_rois(x, rois, "roi_pooling");
  ENGINE_CHECK(ph > 0 && pw > 0,
               "roi_pooling: output shape (" << ph << ", " << pw << ") must be positive");
  const cpu::RoiPoolParams p{x.shape(0),    x.shape(1), x.shape(2), x.shape(3), rois.shape(0),
                             ph,            pw,         scale,      max_mode};
  const std::vector<py::ssize_t> shape{p.num_rois, p.channels, ph, pw};
  FloatArray out(shape);
  IntArray argmax(max_mode ? shape : std::vector<py::ssize_t>{0});
  const float *xp = x.data(), *rp = rois.data();
  float* op = out.mutable_data();
  int32_t* ap = argmax.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::roi_pooling_forward_cpu(xp, rp, op, ap, p);
  }
  return py::make_tuple(out, argmax);
}

FloatArray roi_pooling_backward(const py::object& dout_in, const py::object& rois_in,
                                const py::object& argmax_in, py::tuple x_shape, float scale,
                                bool max_mode) {
  FloatArray dout = as_float32(dout_in, "roi_pooling_backward", "dout");
  FloatArray rois = as_float32(rois_in, "roi_pooling_backward", "rois");
  IntArray argmax = as_int32(argmax_in, "roi_pooling_backward", "argmax");
  std::vector<py::ssize_t> shape;
  for (auto d : x_shape) shape.push_back(d.cast<py::ssize_t>());
  FloatArray dx(shape);
  check_rois(dx, rois, "roi_pooling_backward");
  ENGINE_CHECK(dout.ndim() == 4 && dout.shape(0) == rois.shape(0) && dout.shape(1) == shape[1],
               "roi_pooling_backward: dout " << shape_str(dout) << " does not match rois "
                                             << shape_str(rois) << " and input " << shape_str(dx));
  ENGINE_CHECK(!max_mode || shape_of(argmax) == shape_of(dout),
               "roi_pooling_backward: argmax " << shape_str(argmax) << " must match dout");
  const cpu::RoiPoolParams p{shape[0],      shape[1],      shape[2], shape[3], rois.shape(0),
                             dout.shape(2), dout.shape(3), scale,    max_mode};
  const float *gp = dout.data(), *rp = rois.data();
  const int32_t* ap = argmax.data();
  float* dxp = dx.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::roi_pooling_backward_cpu(gp, rp, ap, dxp, p);
  }
  return dx;
}

}  // namespace
}  // namespace engine

ENGINE_BINDINGS(vision) {
  using namespace pybind11::literals;
  m.def("box_iou", &engine::box_iou, "boxes1"_a, "boxes2"_a,
        "Pairwise IoU of (n, 4) and (m, 4) x1y1x2y2 boxes -> (n, m).");
  m.def("box_iou_backward", &engine::box_iou_backward, "boxes1"_a, "boxes2"_a, "dout"_a,
        "Gradients (dboxes1, dboxes2) of sum(box_iou * dout).");
  m.def("box_iou_paired", &engine::box_iou_paired, "boxes1"_a, "boxes2"_a, "generalized"_a,
        "IoU (or GIoU) of box i of boxes1 with box i of boxes2, both (n, 4) -> (n,).");
  m.def("box_iou_paired_backward", &engine::box_iou_paired_backward, "boxes1"_a, "boxes2"_a,
        "dout"_a, "generalized"_a, "Gradients (dboxes1, dboxes2) of sum(box_iou_paired * dout).");
  m.def("nms", &engine::nms, "boxes"_a, "scores"_a, "iou_thresh"_a, "max_output"_a = -1,
        "idxs"_a = py::none(),
        "Greedy NMS; int32 kept indices by descending score (ties: lower index first). With idxs "
        "only boxes of one class suppress each other. max_output < 0: no limit.");
  m.def("roi_align_forward", &engine::roi_align_forward, "inp"_a, "rois"_a, "pooled_h"_a,
        "pooled_w"_a, "sample_h"_a, "sample_w"_a, "spatial_scale"_a, "offset"_a, "max_mode"_a,
        "MegEngine ROIAlign -> (out (K, C, PH, PW), argmax int32 (same shape; empty unless "
        "max mode)).");
  m.def("roi_align_backward", &engine::roi_align_backward, "dout"_a, "rois"_a, "argmax"_a,
        "inp_shape"_a, "sample_h"_a, "sample_w"_a, "spatial_scale"_a, "offset"_a, "max_mode"_a,
        "Input gradient of roi_align_forward.");
  m.def("roi_pooling_forward", &engine::roi_pooling_forward, "inp"_a, "rois"_a, "pooled_h"_a,
        "pooled_w"_a, "scale"_a, "max_mode"_a,
        "MegEngine ROIPooling -> (out (K, C, PH, PW), argmax int32 plane offsets or empty).");
  m.def("roi_pooling_backward", &engine::roi_pooling_backward, "dout"_a, "rois"_a, "argmax"_a,
        "inp_shape"_a, "scale"_a, "max_mode"_a, "Input gradient of roi_pooling_forward.");
}
