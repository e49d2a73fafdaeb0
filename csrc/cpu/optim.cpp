// Fused optimizer updates on the CPU. The loops take the update with its branches (momentum,
// Nesterov, decoupled decay) fixed outside the loop, so the per-element body is straight-line
// and vectorises; the group entry points update every tensor of a parameter group in one
// parallel region, split in equal chunks of elements whatever the tensors' sizes.
#include "cpu/optim.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/parallel.h"
#include "kernels/optim.h"

namespace engine {
namespace cpu {
namespace {

template <bool kMomentum, bool kNesterov>
void sgd_run(float* p, const float* g, float* v, int64_t n, const kernels::SgdParams<float>& h) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    kernels::sgd_update_fixed<kMomentum, kNesterov>(p[i], g[i], kMomentum ? v + i : nullptr, h);
  }
}

void sgd_range(float* p, const float* g, float* v, int64_t n, const kernels::SgdParams<float>& h) {
  if (v == nullptr) {
    sgd_run<false, false>(p, g, v, n, h);
  } else if (h.nesterov) {
    sgd_run<true, true>(p, g, v, n, h);
  } else {
    sgd_run<true, false>(p, g, v, n, h);
  }
}

template <bool kDecoupled>
void adam_run(float* p, const float* g, float* m, float* v, int64_t n,
              const kernels::AdamParams<float>& h) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) kernels::adam_update_fixed<kDecoupled>(p[i], g[i], m[i], v[i], h);
}

void adam_range(float* p, const float* g, float* m, float* v, int64_t n,
                const kernels::AdamParams<float>& h) {
  if (h.decoupled) {
    adam_run<true>(p, g, m, v, n, h);
  } else {
    adam_run<false>(p, g, m, v, n, h);
  }
}

// A piece of one tensor: elements [begin, end) of tensor `t`.
struct Chunk {
  int64_t t, begin, end;
};

constexpr int64_t kChunk = 1 << 14;

// f(chunk) for the chunks of tensors of these sizes, in parallel when there are enough elements.
template <typename F>
void for_each_chunk(const std::vector<int64_t>& sizes, F f) {
  std::vector<Chunk> chunks;
  int64_t total = 0;
  for (int64_t t = 0; t < static_cast<int64_t>(sizes.size()); ++t) {
    for (int64_t b = 0; b < sizes[t]; b += kChunk) {
      chunks.push_back({t, b, std::min(sizes[t], b + kChunk)});
    }
    total += sizes[t];
  }
  const int64_t count = static_cast<int64_t>(chunks.size());
#pragma omp parallel for schedule(static) if (total >= kParallelThreshold)
  for (int64_t k = 0; k < count; ++k) f(chunks[k]);
}

}  // namespace

void sgd_update_cpu(float* param, const float* grad, float* momentum_buf, int64_t n,
                    const kernels::SgdParams<float>& h) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t b = k * kChunk, len = std::min(n, b + kChunk) - b;
    sgd_range(param + b, grad + b, momentum_buf ? momentum_buf + b : nullptr, len, h);
  }
}

void adam_update_cpu(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                     const kernels::AdamParams<float>& h) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t b = k * kChunk, len = std::min(n, b + kChunk) - b;
    adam_range(param + b, grad + b, exp_avg + b, exp_avg_sq + b, len, h);
  }
}

void sgd_update_group_cpu(const SgdGroup& g, const kernels::SgdParams<float>& h) {
  for_each_chunk(g.sizes, [&](const Chunk& c) {
    float* v = g.momentum_bufs.empty() ? nullptr : g.momentum_bufs[c.t] + c.begin;
    sgd_range(g.params[c.t] + c.begin, g.grads[c.t] + c.begin, v, c.end - c.begin, h);
  });
}

void adam_update_group_cpu(const AdamGroup& g) {
  for_each_chunk(g.sizes, [&](const Chunk& c) {
    adam_range(g.params[c.t] + c.begin, g.grads[c.t] + c.begin, g.exp_avgs[c.t] + c.begin,
               g.exp_avg_sqs[c.t] + c.begin, c.end - c.begin, g.hyper[c.t]);
  });
}

}  // namespace cpu
}  // namespace engine
