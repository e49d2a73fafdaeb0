// Colour conversion of one pixel with megdnn's CvtColor coefficients (naive cvt_color): float32
// modes use the real coefficients; uint8 modes OpenCV's 14-bit fixed point with rounding
// descale(x) = (x + 2^13) >> 14 and saturation to [0, 255]. Note megdnn's RGB2YUV weighs
// v0 by 0.114 and v2 by 0.299 (OpenCV's BGR order) and writes Y, Cr, Cb.
#pragma once

#include <cstdint>

#include "common/macros.h"

namespace engine {
namespace kernels {

enum CvtMode : int {
  kRgb2Gray = 0, kBgr2Gray = 1, kRgb2Yuv = 2, kYuv2Rgb = 3, kGray2Rgb = 4, kRgba2Rgb = 5,
  kRgba2Bgr = 6, kRgba2Gray = 7, kRgb2Bgr = 8, kBgr2Rgb = 9
};

HOST_DEVICE inline int cvt_in_channels(int mode) {
  if (mode == kGray2Rgb) return 1;
  return mode == kRgba2Rgb || mode == kRgba2Bgr || mode == kRgba2Gray ? 4 : 3;
}

HOST_DEVICE inline int cvt_out_channels(int mode) {
  return mode == kRgb2Gray || mode == kBgr2Gray || mode == kRgba2Gray ? 1 : 3;
}

HOST_DEVICE inline void cvt_pixel(int mode, const float* v, float* o) {
  switch (mode) {
    case kRgb2Gray:
      o[0] = v[0] * 0.299f + v[1] * 0.587f + v[2] * 0.114f;
      return;
    case kBgr2Gray:
      o[0] = v[2] * 0.299f + v[1] * 0.587f + v[0] * 0.114f;
      return;
    case kRgb2Yuv: {
      const float y = v[0] * 0.114f + v[1] * 0.587f + v[2] * 0.299f;
      o[0] = y;
      o[1] = (v[0] - y) * 0.492f + 0.5f;
      o[2] = (v[2] - y) * 0.877f + 0.5f;
      return;
    }
    case kYuv2Rgb: {
      const float cr = v[1] - 0.5f, cb = v[2] - 0.5f;
      o[0] = v[0] + cr * 2.032f;
      o[1] = v[0] + cb * -0.581f + cr * -0.395f;
      o[2] = v[0] + cb * 1.140f;
      return;
    }
    default:  // kGray2Rgb (the only other float mode megdnn has)
      o[0] = o[1] = o[2] = v[0];
  }
}

HOST_DEVICE inline int cvt_descale(int x) { return (x + (1 << 13)) >> 14; }

HOST_DEVICE inline uint8_t cvt_saturate(int x) {
  return static_cast<uint8_t>(x < 0 ? 0 : (x > 255 ? 255 : x));
}

HOST_DEVICE inline void cvt_pixel(int mode, const uint8_t* v, uint8_t* o) {
  const int r2y = 4899, g2y = 9617, b2y = 1868;
  switch (mode) {
    case kRgb2Gray:
    case kRgba2Gray:
      o[0] = static_cast<uint8_t>((v[0] * r2y + v[1] * g2y + v[2] * b2y + (1 << 13)) >> 14);
      return;
    case kBgr2Gray:
      o[0] = static_cast<uint8_t>((v[2] * r2y + v[1] * g2y + v[0] * b2y + (1 << 13)) >> 14);
      return;
    case kRgb2Yuv: {
      const int y = cvt_descale(v[0] * 1868 + v[1] * 9617 + v[2] * 4899);
      o[0] = cvt_saturate(y);
      o[1] = cvt_saturate(cvt_descale((v[0] - y) * 8061 + (128 << 14)));
      o[2] = cvt_saturate(cvt_descale((v[2] - y) * 14369 + (128 << 14)));
      return;
    }
    case kYuv2Rgb: {
      const int cr = v[1] - 128, cb = v[2] - 128;
      o[0] = cvt_saturate(v[0] + cvt_descale(cr * 33292));
      o[1] = cvt_saturate(v[0] + cvt_descale(cb * -9519 + cr * -6472));
      o[2] = cvt_saturate(v[0] + cvt_descale(cb * 18678));
      return;
    }
    case kGray2Rgb:
      o[0] = o[1] = o[2] = v[0];
      return;
    case kRgba2Rgb:
      o[0] = v[0], o[1] = v[1], o[2] = v[2];
      return;
    default: {  // kRgba2Bgr, kRgb2Bgr, kBgr2Rgb: reverse the first three channels
      const uint8_t a = v[0], b = v[1], c = v[2];
      o[0] = c, o[1] = b, o[2] = a;
    }
  }
}

}  // namespace kernels
}  // namespace engine
