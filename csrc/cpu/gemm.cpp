// Public entry of engine's GEMM: checks, cache-derived blocking and the ISA choice; the loops
// are in cpu/gemm_driver.h, the micro-kernels in kernels/gemm.h.
#include "cpu/gemm.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/cpu_isa.h"
#include "common/macros.h"
#include "cpu/gemm_isa.h"
#include "cpu/ops.h"
#include "cpu/winograd.h"

namespace engine {
namespace cpu {
namespace {

// A cache size from sysconf (glibc reads cpuid), else sysfs, else `fallback` bytes.
int64_t cache_bytes(int level, int sc_name, int64_t fallback) {
  long v = sysconf(sc_name);
  if (v > 0) return v;
  const int index = level == 1 ? 0 : level;  // index1 is the L1 instruction cache
  std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
  std::string s;
  if (f >> s && !s.empty()) {
    int64_t n = std::atoll(s.c_str());
    if (s.back() == 'K') n <<= 10;
    if (s.back() == 'M') n <<= 20;
    if (n > 0) return n;
  }
  return fallback;
}

struct Caches {
  int64_t l1, l2, l3;
};

const Caches& caches() {
  static const Caches c{cache_bytes(1, _SC_LEVEL1_DCACHE_SIZE, 32 << 10),
                        cache_bytes(2, _SC_LEVEL2_CACHE_SIZE, 1 << 20),
                        cache_bytes(3, _SC_LEVEL3_CACHE_SIZE, 8 << 20)};
  return c;
}

// The stride-1 paths, measured with B read in place on the flat path (cpu/conv_gemm_flat.h), 2
// threads, 3x3 pad 1, ms: flat / implicit / winograd.
//   32 ch 64x64 b16  4.9 /  9.5 /  8.2      64 ch 32x32 b16   5.3 /  6.4 /  5.8
//  128 ch 16x16 b16  4.7 /  7.3 /  5.1     128 ch 50x50 b4    9.5 / 13.5 / 10.6
//  128 ch 8x8 b16    1.4 /  1.6 /  1.7     128 ch 32x32 b16  18.4 / 22.3 / 17.7
//  256 ch 8x8 b16    7.0 /  5.3 /  5.8     256 ch 13x13 b4    4.8 /  3.6 /  5.0
//  256 ch 16x16 b16 20.2 / 25.8 / 15.7     256 ch 25x25 b4   14.8 / 12.2 / 11.4
//  256 ch 100^2 b2  91.7 / 91.8 / 83.5     512 ch 28x28 b2   29.2 / 26.5 / 30.5
// Winograd F(2x2, 3x3) does 16 GEMM multiply-adds per 4 outputs instead of 36, but its 16 GEMMs
// have one column per 2x2 tile: it wins from 256 channels with 512+ tiles in the batch. The flat
// path re-reads all of W for each sliver of NR columns: it wins while W stays in L2 (up to 128
// channels of a 3x3), on grids up to 130% of the output width (8 columns: 10 computed).
constexpr int64_t kWinogradMinChannels = 256;
constexpr int64_t kWinogradMinTiles = 512;
constexpr int64_t kFlatMaxPaddedPercent = 130;
constexpr int64_t kFlatMaxFilterBytes = 1 << 20;
// A strided conv runs flat on the input's stride phases (cpu/conv_gemm_flat.h), which copies
// the input once and then reads B in place, where the column packer gathers every tap of every
// column. That pays for any filter bigger than 1x1 on outputs 8+ wide, under the same filter
// and grid limits as stride 1. Measured (2 threads, flat / implicit ms), 3x3/2 b16: 32->64 ch at
// 64x64 3.05 / 3.73, 16->32 0.98 / 1.52, 64->128 at 32x32 2.33 / 3.16, 128->128 5.15 / 6.77,
// 32->64 at 16x16 0.27 / 0.28, 64->128 at 8x8 (4 wide) 0.45 / 0.29; b2: 64->64 at 128x128
// 2.81 / 3.55, 128->128 at 64x64 2.47 / 2.56; stem 3->32 7x7/2 at 64x64 0.60 / 1.50; 1x1/2
// (nothing to share) 64->128 at 32x32 0.75 / 0.51, 256->512 at 64x64 b2 2.56 / 1.82. Filters
// past 1 MiB lose as at stride 1: 128->256 at 16x16 3.09 / 2.18, 256->256 at 32x32 b2 2.85 / 2.26.
constexpr int64_t kFlatMinPhaseOutputWidth = 8;

int64_t round_down(int64_t v, int64_t m) { return std::max(m, v / m * m); }

// Every KC step costs a pass over the C block, and C traffic (not the FMAs) is what held large
// products back: measured on SPR (48 KB L1, 2 MB L2), 1536^3 / 2048^3 at 1 thread reach 65-78% of
// the FMA peak with KC = L1 / (NR * 4) = 256 and 80-82% with KC = 512 (a B sliver of twice L1,
// read from L2 as the A sliver streams), MC = 3/16 of L2 / (KC * 4) = 192 and NC filling L2 with
// the MC x NC block of C (2688). Products with few rows use a smaller KC (gemm_driver.h).
GemmIsaBlocking compute_blocking(const GemmIsa& isa) {
  const Caches& c = caches();
  GemmIsaBlocking b;
  b.l1 = c.l1;
  b.kc = std::clamp<int64_t>(round_down(2 * c.l1 / (isa.nr * 4), 8), 64, 768);
  b.mc = std::clamp<int64_t>(round_down(c.l2 * 3 / 16 / (b.kc * 4), isa.mr), isa.mr, 1200);
  b.nc = std::clamp<int64_t>(round_down(c.l2 / (b.mc * 4), isa.nr), isa.nr, 8192);
  // ENGINE_GEMM_BLOCKING=kc,mc,nc overrides the rule, for tuning on a new CPU.
  if (const char* env = std::getenv("ENGINE_GEMM_BLOCKING")) {
    long long kc = 0, mc = 0, nc = 0;
    if (std::sscanf(env, "%lld,%lld,%lld", &kc, &mc, &nc) == 3 && kc > 0 && mc > 0 && nc > 0) {
      b.kc = kc;
      b.mc = std::max<int64_t>(isa.mr, mc / isa.mr * isa.mr);
      b.nc = std::max<int64_t>(isa.nr, nc / isa.nr * isa.nr);
    }
  }
  return b;
}

// The blocking of each ISA, worked out on its first use: the cache sizes and
// ENGINE_GEMM_BLOCKING do not change while the process runs, and every GEMM call needs it.
const GemmIsaBlocking& blocking_for(const GemmIsa& isa) {
  if (&isa == &gemm_isa_avx512()) {
    static const GemmIsaBlocking b = compute_blocking(isa);
    return b;
  }
  if (&isa == &gemm_isa_avx2()) {
    static const GemmIsaBlocking b = compute_blocking(isa);
    return b;
  }
  static const GemmIsaBlocking b = compute_blocking(gemm_isa_portable());
  return b;
}

const GemmIsa& current_isa() {
  switch (cpu_isa()) {
    case Isa::kAvx512:
      if (gemm_isa_avx512().sgemm != nullptr) return gemm_isa_avx512();
      [[fallthrough]];
    case Isa::kAvx2:
      if (gemm_isa_avx2().sgemm != nullptr) return gemm_isa_avx2();
      [[fallthrough]];
    default:
      return gemm_isa_portable();
  }
}

std::atomic<int>& conv_path_setting() {
  static std::atomic<int> path{[] {
    const char* env = std::getenv("ENGINE_CONV_PATH");
    return static_cast<int>(env != nullptr && *env ? conv_path_from_name(env)
                                                   : ConvPath::kAuto);
  }()};
  return path;
}

// Winograd F(2x2, 3x3) (cpu/winograd.cpp) takes stride-1, dilation-1 3x3 convs of one group.
bool winograd_applies(const kernels::ConvGeometry& g) {
  return g.channels > 0 && g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 &&
         g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 && g.groups == 1;
}

bool winograd_wins(const kernels::ConvGeometry& g, int64_t out_channels, int64_t batch) {
  if (!winograd_applies(g)) return false;
  const auto path = static_cast<ConvPath>(conv_path_setting().load(std::memory_order_relaxed));
  if (path != ConvPath::kAuto) return path == ConvPath::kWinograd;
  const int64_t tiles = batch * ((g.out_h + 1) / 2) * ((g.out_w + 1) / 2);
  return g.channels >= kWinogradMinChannels && out_channels >= kWinogradMinChannels &&
         tiles >= kWinogradMinTiles;
}

// Stride-1 convs run on the padded flat image (cpu/conv_gemm_flat.h) when its garbage columns
// are few and W fits L2; set_conv_path / ENGINE_CONV_PATH force one path (tests, benchmarks).
bool flat_conv_wins(const kernels::ConvGeometry& g, int64_t out_channels) {
  const auto path = static_cast<ConvPath>(conv_path_setting().load(std::memory_order_relaxed));
  if (path != ConvPath::kAuto) return path != ConvPath::kImplicit;
  const int64_t grid_w = (g.width + 2 * g.pad_w + g.stride_w - 1) / g.stride_w;
  const int64_t filter_bytes = out_channels / g.groups * g.channels * g.kernel_h * g.kernel_w * 4;
  const int64_t phases = g.stride_h * g.stride_w;
  if (phases > 1 && (g.kernel_h * g.kernel_w == 1 || g.out_w < kFlatMinPhaseOutputWidth))
    return false;
  return grid_w * 100 <= g.out_w * kFlatMaxPaddedPercent && filter_bytes <= kFlatMaxFilterBytes;
}

// The stride-1 filter gradient on the padded grid (cpu/conv_filter_flat.h) packs the input once
// instead of once per tap, but multiplies over the whole grid, Hp*Wp/(OH*OW) of the outputs.
// Measured (2 threads, batch 16, 3x3; implicit / grid / torch ms): 32 ch 64x64 (grid 1.06x)
// 9.7 / 4.9 / 5.7; 64 ch 32x32 (1.13x) 6.9 / 5.0 / 4.9; 128 ch 16x16 (1.27x) 5.0 / 5.2 / 4.0;
// 256 ch 8x8 (1.56x) 4.7 / 6.1 / 4.2; 256 ch 50x50 batch 4 (1.08x) 42.8 / 43.0 / 42.3.
// A 1x1 filter has one tap: nothing to share, so it keeps the implicit path. The tile spans
// input channels (32 on AVX-512): below 16 most of it is padding (3-channel stem, 32 out, 64x64:
// grid 5.0 ms, implicit 1.5; 8 channels 4.6 vs 2.9; 16 channels 2.5 vs 3.2).
// (Strided filter gradients over the input's stride phases, each phase packed once, measured
// slower than the column packer on every ResNet/FCOS shape tried: 3.8 vs 3.4 ms at 32->64 ch
// 3x3/2 64x64 b16, 3.4 vs 2.3 at 128->256; its gathers at stride 2 cost what the packer does.)
constexpr int64_t kFilterGridMaxPercent = 115;
constexpr int64_t kFilterGridMinChannels = 16;
bool flat_filter_wins(const kernels::ConvGeometry& g) {
  if (g.stride_h != 1 || g.stride_w != 1) return false;
  const auto path = static_cast<ConvPath>(conv_path_setting().load(std::memory_order_relaxed));
  if (path == ConvPath::kFlat) return true;
  if (path == ConvPath::kImplicit) return false;
  const int64_t grid = (g.height + 2 * g.pad_h) * (g.width + 2 * g.pad_w);
  return g.kernel_h * g.kernel_w > 1 && g.channels / g.groups >= kFilterGridMinChannels &&
         grid * 100 <= g.out_h * g.out_w * kFilterGridMaxPercent;
}

}  // namespace

namespace {

// Products up to 8x8x8 multiply-adds: packing the panels and entering the blocked driver cost
// more than the product (a 4x4 matmul spent ~0.1 us there), so they are summed where they lie.
constexpr int64_t kTinyProduct = 512;

void tiny_sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
                float* c, int64_t ldc, const GemmBatch& batch) {
  for (int64_t t = 0; t < batch.count; ++t) {
    const float* at = a.data + t * batch.stride_a;
    const float* bt = b.data + t * batch.stride_b;
    float* ct = c + t * batch.stride_c;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0.0f;  // (this file has no -mfma: std::fma would be a libm call per term)
        for (int64_t p = 0; p < k; ++p) acc += at[i * a.rs + p * a.cs] * bt[p * b.rs + j * b.cs];
        float* out = ct + i * ldc + j;
        *out = beta == 0.0f ? alpha * acc : alpha * acc + beta * *out;
      }
  }
}

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, float alpha, MatView a, MatView b, float beta,
           float* c, int64_t ldc, const GemmBatch& batch) {
  ENGINE_CHECK(m >= 0 && n >= 0 && k >= 0 && batch.count >= 0,
               "sgemm: negative size m=" << m << " n=" << n << " k=" << k);
  if (m == 0 || n == 0 || batch.count == 0) return;
  if (k == 0 || alpha == 0.0f) {  // C = beta * C, and no A B (BLAS's rule)
    for (int64_t t = 0; t < batch.count; ++t)
      for (int64_t i = 0; i < m; ++i) {
        float* row = c + t * batch.stride_c + i * ldc;
        for (int64_t j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
      }
    return;
  }
  if (m * n * k <= kTinyProduct) {
    tiny_sgemm(m, n, k, alpha, a, b, beta, c, ldc, batch);
    return;
  }
  const GemmIsa& isa = current_isa();
  isa.sgemm(m, n, k, alpha, a, b, beta, c, ldc, batch, blocking_for(isa), get_num_threads());
}

void conv2d_forward_gemm(const float* x, const float* w, const float* bias, bool relu, float* y,
                         int64_t batch, int64_t out_channels, const kernels::ConvGeometry& g) {
  if (winograd_wins(g, out_channels, batch)) {
    conv2d_winograd_forward(x, w, bias, relu, y, batch, out_channels, g);
    return;
  }
  const GemmIsa& isa = current_isa();
  const auto run = flat_conv_wins(g, out_channels) ? isa.conv_forward_flat : isa.conv_forward;
  run(x, w, bias, relu, y, batch, out_channels, g, blocking_for(isa), get_num_threads());
}

void conv2d_backward_filter_gemm(const float* x, const float* dy, float* dw, float beta,
                                 int64_t batch, int64_t out_channels,
                                 const kernels::ConvGeometry& g) {
  const GemmIsa& isa = current_isa();
  const auto run = flat_filter_wins(g) ? isa.conv_backward_filter_flat : isa.conv_backward_filter;
  run(x, dy, dw, beta, batch, out_channels, g, blocking_for(isa), get_num_threads());
}

void conv2d_backward_data_gemm(const float* dy, const float* w, float* dx, int64_t batch,
                               int64_t out_channels, const kernels::ConvGeometry& g) {
  const GemmIsa& isa = current_isa();
  isa.conv_backward_data_flat(dy, w, dx, batch, out_channels, g, blocking_for(isa),
                              get_num_threads());
}

ConvPath conv_path_from_name(const std::string& name) {
  if (name == "auto") return ConvPath::kAuto;
  if (name == "flat") return ConvPath::kFlat;
  if (name == "implicit") return ConvPath::kImplicit;
  if (name == "winograd") return ConvPath::kWinograd;
  ENGINE_CHECK(false, "conv path: expected auto, flat, implicit or winograd, got '" << name << "'");
  return ConvPath::kAuto;
}

void set_conv_path(ConvPath path) {
  conv_path_setting().store(static_cast<int>(path), std::memory_order_relaxed);
}

ConvPath conv_path() {
  return static_cast<ConvPath>(conv_path_setting().load(std::memory_order_relaxed));
}

GemmBlocking gemm_blocking() {
  const GemmIsa& isa = current_isa();
  const GemmIsaBlocking b = blocking_for(isa);
  return {isa.mr, isa.nr, b.kc, b.mc, b.nc};
}

double fma_peak_gflops(int threads, double seconds) {
  ENGINE_CHECK(threads >= 1 && seconds > 0,
               "fma_peak_gflops: expected threads >= 1 and seconds > 0");
  const GemmIsa& isa = current_isa();
  // Calibrate the iteration count on one thread, then run all threads at once.
  float sink = 0.f;
  int64_t iters = 1 << 16;
  double elapsed = 0.0;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    isa.fma_peak(iters, &sink);
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > seconds / 8 || iters > (int64_t(1) << 40)) break;
    iters *= 2;
  }
  iters = static_cast<int64_t>(iters * (seconds / elapsed));
  double flops = 0.0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
  {
    float local = 0.f;
    flops += isa.fma_peak(iters, &local);
    if (local == 12345.f) sink += local;  // keeps the result alive
  }
  elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flops / elapsed / 1e9 + 0.0 * sink;
}

}  // namespace cpu
}  // namespace engine
