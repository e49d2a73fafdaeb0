// IoU and generalized IoU of two boxes given as x1, y1, x2, y2 (no +1 on widths, as torchvision
// and MegEngine), and their gradients with respect to the 8 coordinates.
//   iou  = I / U,            I = intersection area, U = area_a + area_b - I
//   giou = iou - (C - U) / C, C = area of the smallest enclosing box
// A pair with U <= 0 has iou 0 and no gradient; a C <= 0 drops the enclosing term likewise.
#pragma once

#include "common/macros.h"

namespace engine {
namespace kernels {

struct BoxOverlap {
  float iw, ih;  // intersection width/height before clamping at 0
  float cw, ch;  // enclosing box width/height
  float area_a, area_b;
  float inter, uni, enclose;
};

HOST_DEVICE inline float fmax_(float a, float b) { return a > b ? a : b; }
HOST_DEVICE inline float fmin_(float a, float b) { return a < b ? a : b; }

HOST_DEVICE inline BoxOverlap box_overlap(const float* a, const float* b) {
  BoxOverlap o;
  o.iw = fmin_(a[2], b[2]) - fmax_(a[0], b[0]);
  o.ih = fmin_(a[3], b[3]) - fmax_(a[1], b[1]);
  o.cw = fmax_(a[2], b[2]) - fmin_(a[0], b[0]);
  o.ch = fmax_(a[3], b[3]) - fmin_(a[1], b[1]);
  o.area_a = (a[2] - a[0]) * (a[3] - a[1]);
  o.area_b = (b[2] - b[0]) * (b[3] - b[1]);
  o.inter = fmax_(o.iw, 0.0f) * fmax_(o.ih, 0.0f);
  o.uni = o.area_a + o.area_b - o.inter;
  o.enclose = fmax_(o.cw, 0.0f) * fmax_(o.ch, 0.0f);
  return o;
}

HOST_DEVICE inline float box_iou(const float* a, const float* b) {
  const BoxOverlap o = box_overlap(a, b);
  return o.uni > 0 ? o.inter / o.uni : 0.0f;
}

HOST_DEVICE inline float box_giou(const float* a, const float* b) {
  const BoxOverlap o = box_overlap(a, b);
  float r = o.uni > 0 ? o.inter / o.uni : 0.0f;
  if (o.enclose > 0) r -= (o.enclose - o.uni) / o.enclose;
  return r;
}

// Adds g * d(iou or giou)/d(a) to da[4] and g * d/d(b) to db[4]. At ties (a[0] == b[0], ...) the
// subgradient picks box a.
HOST_DEVICE inline void box_iou_backward(const float* a, const float* b, float g,
                                         bool generalized, float* da, float* db) {
  const BoxOverlap o = box_overlap(a, b);
  float d_inter = 0, d_uni = 0, d_enclose = 0;  // d(result)/d(I), d/d(U), d/d(C) without chain
  if (o.uni > 0) {
    d_inter = 1.0f / o.uni;
    d_uni = -o.inter / (o.uni * o.uni);
  }
  if (generalized && o.enclose > 0) {
    // -(C - U) / C = U / C - 1
    d_uni += 1.0f / o.enclose;
    d_enclose = -o.uni / (o.enclose * o.enclose);
  }
  // U = area_a + area_b - I, so I's total weight is d_inter - d_uni.
  const float wi = g * (d_inter - d_uni), wu = g * d_uni, wc = g * d_enclose;
  // Areas.
  const float wa = a[2] - a[0], ha = a[3] - a[1], wb = b[2] - b[0], hb = b[3] - b[1];
  da[0] -= wu * ha;
  da[2] += wu * ha;
  da[1] -= wu * wa;
  da[3] += wu * wa;
  db[0] -= wu * hb;
  db[2] += wu * hb;
  db[1] -= wu * wb;
  db[3] += wu * wb;
  // Intersection I = iw * ih (only when both are positive).
  if (o.iw > 0 && o.ih > 0) {
    const float gw = wi * o.ih, gh = wi * o.iw;  // dI/d(iw), dI/d(ih), scaled
    (a[0] >= b[0] ? da : db)[0] -= gw;           // iw = min(x2) - max(x1)
    (a[2] <= b[2] ? da : db)[2] += gw;
    (a[1] >= b[1] ? da : db)[1] -= gh;
    (a[3] <= b[3] ? da : db)[3] += gh;
  }
  // Enclosing box C = cw * ch.
  if (wc != 0 && o.cw > 0 && o.ch > 0) {
    const float gw = wc * o.ch, gh = wc * o.cw;
    (a[0] <= b[0] ? da : db)[0] -= gw;  // cw = max(x2) - min(x1)
    (a[2] >= b[2] ? da : db)[2] += gw;
    (a[1] <= b[1] ? da : db)[1] -= gh;
    (a[3] >= b[3] ? da : db)[3] += gh;
  }
}

}  // namespace kernels
}  // namespace engine
