// CPU loops of the depthwise convolution (math in kernels/depthwise.h): parallel over output
// planes (forward, data gradient: each thread owns whole planes) or output channels (filter
// gradient: each thread sums its channel over the batch in a fixed order), so results never
// depend on the thread count. Inner loops run along a row over the valid range of each tap.
#include "cpu/depthwise.h"

#include <algorithm>
#include <vector>

#include "cpu/parallel.h"
#include "kernels/depthwise.h"

namespace engine {
namespace cpu {

using kernels::conv_in_coord;
using kernels::conv_valid_range;
using kernels::ConvGeometry;

namespace {

struct TapSpan {
  int64_t lo, hi, offset;  // valid output range [lo, hi) and input column of output 0
};

std::vector<TapSpan> column_spans(const ConvGeometry& g) {
  std::vector<TapSpan> spans(g.kernel_w);
  for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
    conv_valid_range(g.width, g.out_w, kj, g.stride_w, g.pad_w, g.dil_w, &spans[kj].lo,
                     &spans[kj].hi);
    spans[kj].offset = conv_in_coord(0, kj, g.stride_w, g.pad_w, g.dil_w);
  }
  return spans;
}

int64_t work_of(int64_t planes, const ConvGeometry& g) {
  return planes * g.out_h * g.out_w * g.kernel_h * g.kernel_w;
}

}  // namespace

void depthwise_forward_cpu(const float* x, const float* w, const float* bias, float* y,
                           int64_t batch, int64_t mult, const ConvGeometry& g) {
  const int64_t out_c = g.channels * mult, planes = batch * out_c;
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  const std::vector<TapSpan> spans = column_spans(g);
  const int64_t sw = g.stride_w;
#pragma omp parallel for schedule(static) if (work_of(planes, g) >= kParallelThreshold)
  for (int64_t t = 0; t < planes; ++t) {
    const int64_t n = t / out_c, o = t % out_c;
    const float* src = x + (n * g.channels + o / mult) * in_plane;
    const float* wo = w + o * g.kernel_h * g.kernel_w;
    float* dst = y + t * out_plane;
    const float b = bias != nullptr ? bias[o] : 0.f;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      float* row = dst + oh * g.out_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) row[ow] = 0.f;
      for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        const int64_t ih = conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
        if (ih < 0 || ih >= g.height) continue;
        const float* in = src + ih * g.width;
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
          const float wv = wo[ki * g.kernel_w + kj];
          const TapSpan& s = spans[kj];
          // input column of output ow: ow * sw + offset (offset may be negative: indices, not
          // a pointer moved before the row)
          const int64_t off = s.offset;
          if (sw == 1) {
#pragma omp simd
            for (int64_t ow = s.lo; ow < s.hi; ++ow) row[ow] += wv * in[ow + off];
          } else {
            for (int64_t ow = s.lo; ow < s.hi; ++ow) row[ow] += wv * in[ow * sw + off];
          }
        }
      }
      if (bias != nullptr)
        for (int64_t ow = 0; ow < g.out_w; ++ow) row[ow] += b;
    }
  }
}

void depthwise_backward_data_cpu(const float* dy, const float* w, float* dx, int64_t batch,
                                 int64_t mult, const ConvGeometry& g) {
  // Input plane (n, c) gathers from its `mult` output planes; each thread owns input planes.
  const int64_t out_c = g.channels * mult, planes = batch * g.channels;
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  const std::vector<TapSpan> spans = column_spans(g);
  const int64_t sw = g.stride_w;
#pragma omp parallel for schedule(static) if (work_of(planes * mult, g) >= kParallelThreshold)
  for (int64_t t = 0; t < planes; ++t) {
    const int64_t n = t / g.channels, c = t % g.channels;
    float* dst = dx + t * in_plane;
    std::fill(dst, dst + in_plane, 0.f);
    for (int64_t j = 0; j < mult; ++j) {
      const int64_t o = c * mult + j;
      const float* src = dy + (n * out_c + o) * out_plane;
      const float* wo = w + o * g.kernel_h * g.kernel_w;
      for (int64_t oh = 0; oh < g.out_h; ++oh) {
        const float* row = src + oh * g.out_w;
        for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
          const int64_t ih = conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
          if (ih < 0 || ih >= g.height) continue;
          float* in = dst + ih * g.width;
          for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
            const float wv = wo[ki * g.kernel_w + kj];
            const TapSpan& s = spans[kj];
            const int64_t off = s.offset;
            if (sw == 1) {
#pragma omp simd
              for (int64_t ow = s.lo; ow < s.hi; ++ow) in[ow + off] += wv * row[ow];
            } else {
              for (int64_t ow = s.lo; ow < s.hi; ++ow) in[ow * sw + off] += wv * row[ow];
            }
          }
        }
      }
    }
  }
}

void depthwise_backward_filter_cpu(const float* x, const float* dy, float* dw, int64_t batch,
                                   int64_t mult, const ConvGeometry& g) {
  const int64_t out_c = g.channels * mult, taps = g.kernel_h * g.kernel_w;
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  const std::vector<TapSpan> spans = column_spans(g);
  const int64_t sw = g.stride_w;
#pragma omp parallel for schedule(static) if (work_of(batch * out_c, g) >= kParallelThreshold)
  for (int64_t o = 0; o < out_c; ++o) {
    float* dwo = dw + o * taps;
    for (int64_t k = 0; k < taps; ++k) dwo[k] = 0.f;
    for (int64_t n = 0; n < batch; ++n) {
      const float* src = x + (n * g.channels + o / mult) * in_plane;
      const float* grad = dy + (n * out_c + o) * out_plane;
      for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
          const TapSpan& s = spans[kj];
          float acc = 0.f;
          for (int64_t oh = 0; oh < g.out_h; ++oh) {
            const int64_t ih = conv_in_coord(oh, ki, g.stride_h, g.pad_h, g.dil_h);
            if (ih < 0 || ih >= g.height) continue;
            const float* in = src + ih * g.width;
            const float* row = grad + oh * g.out_w;
            const int64_t off = s.offset;
            if (sw == 1) {
#pragma omp simd reduction(+ : acc)
              for (int64_t ow = s.lo; ow < s.hi; ++ow) acc += row[ow] * in[ow + off];
            } else {
              for (int64_t ow = s.lo; ow < s.hi; ++ow) acc += row[ow] * in[ow * sw + off];
            }
          }
          dwo[ki * g.kernel_w + kj] += acc;
        }
      }
    }
  }
}

}  // namespace cpu
}  // namespace engine
