// Winograd F(2x2, 3x3) convolution on the CPU (tile math in kernels/winograd.h). Per chunk of
// output tiles (sized so the transformed input stays in L2): transform the input tiles into
// V[16][C][tiles], multiply the 16 (O x C) x (C x tiles) matrices with engine's batched GEMM,
// and transform the products back into 2x2 output tiles. The filter is transformed once per
// call into U[16][O][C]. When it is chosen over the direct GEMM: cpu/gemm.cpp winograd_wins.
#include "cpu/winograd.h"

#include <algorithm>
#include <vector>

#include "cpu/gemm.h"
#include "kernels/winograd.h"

namespace engine {
namespace cpu {

using kernels::ConvGeometry;

namespace {

constexpr int64_t kChunkBytes = int64_t(2) << 20;  // transformed input per chunk

// Row-wise transforms: a tile row (2 output rows, TW tiles) at a time, so every inner loop runs
// along a row (vectorised; the per-tile form in kernels/winograd.h is the reference they are
// tested against, through the results).

// The 16 transformed rows v[xi][0..tw) of input tile row ty of one plane, written at
// out + xi * xi_stride. `pad` is scratch of 4 rows of 2*tw + 2 floats.
void input_tile_row(const float* plane, const ConvGeometry& g, int64_t ty, int64_t tw,
                    float* pad, float* out, int64_t xi_stride) {
  const int64_t width = 2 * tw + 2;
  float* r[4];
  for (int i = 0; i < 4; ++i) {
    r[i] = pad + i * width;
    const int64_t h = 2 * ty - g.pad_h + i;
    if (h < 0 || h >= g.height) {
      std::fill(r[i], r[i] + width, 0.f);
      continue;
    }
    const float* src = plane + h * g.width;
    for (int64_t j = 0; j < width; ++j) {
      const int64_t w = j - g.pad_w;
      r[i][j] = (w >= 0 && w < g.width) ? src[w] : 0.f;
    }
  }
  float* t = pad + 4 * width;  // B^T d by rows: 4 rows of `width`
  for (int64_t j = 0; j < width; ++j) {
    t[0 * width + j] = r[0][j] - r[2][j];
    t[1 * width + j] = r[1][j] + r[2][j];
    t[2 * width + j] = r[2][j] - r[1][j];
    t[3 * width + j] = r[1][j] - r[3][j];
  }
  for (int i = 0; i < 4; ++i) {  // then B by columns, at stride 2 along the row
    const float* ti = t + i * width;
    float* v0 = out + (i * 4 + 0) * xi_stride;
    float* v1 = out + (i * 4 + 1) * xi_stride;
    float* v2 = out + (i * 4 + 2) * xi_stride;
    float* v3 = out + (i * 4 + 3) * xi_stride;
    for (int64_t x = 0; x < tw; ++x) {
      const float a = ti[2 * x], b = ti[2 * x + 1], c = ti[2 * x + 2], d = ti[2 * x + 3];
      v0[x] = a - c;
      v1[x] = b + c;
      v2[x] = c - b;
      v3[x] = b - d;
    }
  }
}

// Output tile row ty of one output plane from the 16 product rows m[xi][0..tw).
void output_tile_row(const float* m, int64_t xi_stride, const ConvGeometry& g, int64_t ty,
                     int64_t tw, float bias, bool relu, float* plane, float* scratch) {
  float* t = scratch;  // A^T m: 2 x 4 rows of tw
  for (int j = 0; j < 4; ++j) {
    const float* m0 = m + (0 * 4 + j) * xi_stride;
    const float* m1 = m + (1 * 4 + j) * xi_stride;
    const float* m2 = m + (2 * 4 + j) * xi_stride;
    const float* m3 = m + (3 * 4 + j) * xi_stride;
    for (int64_t x = 0; x < tw; ++x) {
      t[(0 * 4 + j) * tw + x] = m0[x] + m1[x] + m2[x];
      t[(1 * 4 + j) * tw + x] = m1[x] - m2[x] - m3[x];
    }
  }
  for (int i = 0; i < 2; ++i) {
    const int64_t oh = 2 * ty + i;
    if (oh >= g.out_h) break;
    float* row = plane + oh * g.out_w;
    const float* a = t + (i * 4 + 0) * tw;
    const float* b = t + (i * 4 + 1) * tw;
    const float* c = t + (i * 4 + 2) * tw;
    const float* d = t + (i * 4 + 3) * tw;
    const int64_t full = g.out_w / 2;  // tiles whose two columns are both inside
    for (int64_t x = 0; x < full; ++x) {
      const float y0 = a[x] + b[x] + c[x] + bias, y1 = b[x] - c[x] - d[x] + bias;
      row[2 * x] = relu ? std::max(y0, 0.f) : y0;
      row[2 * x + 1] = relu ? std::max(y1, 0.f) : y1;
    }
    if (full < tw) {  // odd width: the last tile's first column only
      const float y0 = a[full] + b[full] + c[full] + bias;
      row[2 * full] = relu ? std::max(y0, 0.f) : y0;
    }
  }
}

}  // namespace

void conv2d_winograd_forward(const float* x, const float* w, const float* bias, bool relu,
                             float* y, int64_t batch, int64_t out_channels,
                             const ConvGeometry& g) {
  const int64_t c = g.channels, o = out_channels;
  const int64_t th = (g.out_h + 1) / 2, tw = (g.out_w + 1) / 2, rows = batch * th;
  // chunks of whole tile rows (a tile row: tw tiles of one image)
  const int64_t chunk_rows = std::max<int64_t>(1, kChunkBytes / (16 * c * 4) / tw);
  const int64_t chunk = chunk_rows * tw;

  // Scratch kept per calling thread: sized once, never zero-filled again (a fresh 4 MB buffer per
  // call spent more in page faults than the transforms).
  static thread_local std::vector<float> u, v, m;
  u.resize(16 * o * c);  // U[xi][o][c]
  v.resize(std::max<size_t>(v.size(), 16 * c * chunk));
  m.resize(std::max<size_t>(m.size(), 16 * o * chunk));
  // (the team reaches them through these pointers: inside a parallel region `v` would name the
  // worker thread's own, empty, thread_local vector)
  float* const up = u.data();
  float* const vp = v.data();
  float* const mp = m.data();
#pragma omp parallel for schedule(static) if (o * c >= 4096)
  for (int64_t oc = 0; oc < o * c; ++oc) {
    float tile[16];
    kernels::winograd_filter_tile(w + oc * 9, tile);
    for (int xi = 0; xi < 16; ++xi) up[xi * o * c + oc] = tile[xi];
  }
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
    const int64_t nrows = std::min(chunk_rows, rows - r0), count = nrows * tw;
#pragma omp parallel
    {
      std::vector<float> pad(8 * (2 * tw + 2));
#pragma omp for schedule(static) collapse(2)
      for (int64_t ci = 0; ci < c; ++ci)
        for (int64_t r = 0; r < nrows; ++r) {
          const int64_t n = (r0 + r) / th, ty = (r0 + r) % th;
          input_tile_row(x + (n * c + ci) * in_plane, g, ty, tw, pad.data(),
                         vp + ci * chunk + r * tw, c * chunk);
        }
    }
    GemmBatch b16;
    b16.count = 16;
    b16.stride_a = o * c;
    b16.stride_b = c * chunk;
    b16.stride_c = o * chunk;
    sgemm(o, count, c, 1.0f, {up, c, 1}, {vp, chunk, 1}, 0.0f, mp, chunk, b16);
#pragma omp parallel
    {
      std::vector<float> scratch(8 * tw);
#pragma omp for schedule(static) collapse(2)
      for (int64_t oi = 0; oi < o; ++oi)
        for (int64_t r = 0; r < nrows; ++r) {
          const int64_t n = (r0 + r) / th, ty = (r0 + r) % th;
          output_tile_row(mp + oi * chunk + r * tw, o * chunk, g, ty, tw,
                          bias != nullptr ? bias[oi] : 0.f, relu, y + (n * o + oi) * out_plane,
                          scratch.data());
        }
    }
  }
}

}  // namespace cpu
}  // namespace engine
