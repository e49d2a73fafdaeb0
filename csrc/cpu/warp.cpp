#include "cpu/warp.h"

#include <cstdint>
#include <vector>

#include "cpu/parallel.h"
#include "kernels/warp.h"

namespace engine {
namespace cpu {
namespace {

using kernels::WarpParams;

// One task per output row: all channels of OW pixels.
template <class Coords>
void sample_forward(const float* x, const Coords& coords, float* out, const WarpParams& p) {
  const int64_t in_image = p.channels * p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  const int64_t rows = p.n_out * p.out_h;
#pragma omp parallel for schedule(static) if (rows * p.out_w * p.channels >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / p.out_h, oh = r % p.out_h;
    const float* src = x + coords.source(n) * in_image;
    float* dst = out + n * p.channels * out_plane + oh * p.out_w;
    for (int64_t ow = 0; ow < p.out_w; ++ow) {
      float sx, sy;
      coords.point(n, oh, ow, p, &sx, &sy);
      kernels::warp_sample_pixel(src, sx, sy, p, dst + ow, out_plane);
    }
  }
}

// The input gradient is a scatter (several output pixels read one input pixel). Each task owns
// one (input image, channel) plane and visits the outputs in a fixed order: deterministic.
template <class Coords>
void sample_backward_data(const float* dout, const Coords& coords, float* dx,
                          const WarpParams& p) {
  const int64_t plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  for (int64_t i = 0; i < p.n_in * p.channels * plane; ++i) dx[i] = 0.0f;
  const int64_t tasks = p.n_in * p.channels;
#pragma omp parallel for schedule(static) \
    if (p.n_out * p.channels * out_plane >= kParallelThreshold)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t s = task / p.channels, c = task % p.channels;
    float* g = dx + task * plane;
    for (int64_t n = 0; n < p.n_out; ++n) {
      if (coords.source(n) != s) continue;
      const float* d = dout + (n * p.channels + c) * out_plane;
      for (int64_t oh = 0; oh < p.out_h; ++oh) {
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
          float sx, sy;
          coords.point(n, oh, ow, p, &sx, &sy);
          const float v = d[oh * p.out_w + ow];
          if (p.nearest) {
            const int64_t o = kernels::warp_nearest_tap(sx, sy, p.in_h, p.in_w, p.border);
            if (o >= 0) g[o] += v;
            continue;
          }
          const kernels::WarpTaps t = kernels::warp_linear_taps(sx, sy, p.in_h, p.in_w, p.border);
          for (int k = 0; k < 4; ++k) {
            if (t.offset[k] >= 0) g[t.offset[k]] += t.weight[k] * v;
          }
        }
      }
    }
  }
}

}  // namespace

void warp_perspective_forward_cpu(const float* x, const float* mat, const int32_t* mat_idx,
                                  float* out, const WarpParams& p) {
  sample_forward(x, kernels::PerspectiveCoords{mat, mat_idx}, out, p);
}

void warp_perspective_backward_data_cpu(const float* dout, const float* mat,
                                        const int32_t* mat_idx, float* dx, const WarpParams& p) {
  sample_backward_data(dout, kernels::PerspectiveCoords{mat, mat_idx}, dx, p);
}

// Each output row adds into its own 9 partial sums; the rows of an image are then summed in
// order, so the result does not depend on the thread count.
void warp_perspective_backward_mat_cpu(const float* x, const float* mat, const int32_t* mat_idx,
                                       const float* dout, float* dmat, const WarpParams& p) {
  const int64_t in_image = p.channels * p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  const int64_t rows = p.n_out * p.out_h;
  std::vector<float> partial(static_cast<size_t>(rows * 9), 0.0f);
#pragma omp parallel for schedule(static) if (rows * p.out_w * p.channels >= kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / p.out_h, oh = r % p.out_h;
    const float* src = x + (mat_idx ? mat_idx[n] : n) * in_image;
    const float* d = dout + n * p.channels * out_plane + oh * p.out_w;
    float* acc = partial.data() + r * 9;
    for (int64_t ow = 0; ow < p.out_w; ++ow) {
      const kernels::PerspectivePoint q = kernels::perspective_point(mat + 9 * n, oh, ow);
      float gx, gy;
      kernels::warp_coord_grad_pixel(src, q.x, q.y, p, d + ow, out_plane, &gx, &gy);
      kernels::perspective_matrix_grad(q, oh, ow, gx, gy, acc);
    }
  }
  for (int64_t n = 0; n < p.n_out; ++n) {
    for (int j = 0; j < 9; ++j) {
      float s = 0.0f;
      for (int64_t oh = 0; oh < p.out_h; ++oh) s += partial[(n * p.out_h + oh) * 9 + j];
      dmat[9 * n + j] = s;
    }
  }
}

void remap_forward_cpu(const float* x, const float* map, float* out, const WarpParams& p) {
  sample_forward(x, kernels::MapCoords{map}, out, p);
}

void remap_backward_data_cpu(const float* dout, const float* map, float* dx,
                             const WarpParams& p) {
  sample_backward_data(dout, kernels::MapCoords{map}, dx, p);
}

// The map gradient of a pixel gathers over its channels only: no reduction across pixels.
void remap_backward_map_cpu(const float* x, const float* map, const float* dout, float* dmap,
                            const WarpParams& p) {
  const int64_t in_image = p.channels * p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  const int64_t pixels = p.n_out * out_plane;
#pragma omp parallel for schedule(static) if (pixels * p.channels >= kParallelThreshold)
  for (int64_t i = 0; i < pixels; ++i) {
    const int64_t n = i / out_plane, o = i % out_plane;
    const float* m = map + 2 * i;
    kernels::warp_coord_grad_pixel(x + n * in_image, m[0], m[1], p,
                                   dout + n * p.channels * out_plane + o, out_plane, dmap + 2 * i,
                                   dmap + 2 * i + 1);
  }
}

}  // namespace cpu
}  // namespace engine
