// Activation loops. The memory-bound ones are plain loops the compiler vectorises; sigmoid and
// SiLU get exp from cpu/vmath.h. Work is split in chunks of kChunk elements: big enough that a
// thread streams through memory, small enough (16 KiB) that SiLU's sigmoid buffer stays in L1.
#include "cpu/activation.h"

#include <algorithm>

#include "cpu/parallel.h"
#include "cpu/vmath.h"
#include "kernels/activation.h"

namespace engine {
namespace cpu {
namespace {

constexpr int64_t kChunk = 4096;

template <typename F>
void chunked(int64_t n, F f) {
  parallel_chunks(n, kChunk, f);
}

}  // namespace

void relu_forward_cpu(const float* x, float* y, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) y[i] = kernels::relu_forward(x[i]);
  });
}

void relu_backward_cpu(const float* dy, const float* y, float* dx, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) dx[i] = kernels::relu_backward(dy[i], y[i]);
  });
}

void leaky_relu_forward_cpu(const float* x, float* y, int64_t n, float slope) {
  chunked(n, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) y[i] = kernels::leaky_relu_forward(x[i], slope);
  });
}

void leaky_relu_backward_cpu(const float* dy, const float* x, float* dx, int64_t n, float slope) {
  chunked(n, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) dx[i] = kernels::leaky_relu_backward(dy[i], x[i], slope);
  });
}

void sigmoid_forward_cpu(const float* x, float* y, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) { sigmoid_array(x + i0, y + i0, i1 - i0); });
}

void sigmoid_backward_cpu(const float* dy, const float* y, float* dx, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) dx[i] = kernels::sigmoid_backward(dy[i], y[i]);
  });
}

void silu_forward_cpu(const float* x, float* y, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) {
    sigmoid_array(x + i0, y + i0, i1 - i0);  // y holds sigmoid(x) until overwritten
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) y[i] = kernels::silu_forward(x[i], y[i]);
  });
}

void silu_backward_cpu(const float* dy, const float* x, float* dx, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) {
    float s[kChunk];
    sigmoid_array(x + i0, s, i1 - i0);
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) dx[i] = kernels::silu_backward(dy[i], x[i], s[i - i0]);
  });
}

void exp_cpu(const float* x, float* y, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) { exp_array(x + i0, y + i0, i1 - i0); });
}

void log_cpu(const float* x, float* y, int64_t n) {
  chunked(n, [=](int64_t i0, int64_t i1) { log_array(x + i0, y + i0, i1 - i0); });
}

}  // namespace cpu
}  // namespace engine
