#include "cpu/arith.h"

#include "cpu/parallel.h"
#include "kernels/activation.h"

namespace engine {
namespace cpu {
namespace {

constexpr int64_t kChunk = 1 << 14;  // 64 KiB per input: a thread streams through memory

template <typename Op>
void binary(const float* a, const float* b, float* out, int64_t n, Op op) {
  parallel_chunks(n, kChunk, [=](int64_t i0, int64_t i1) {
#pragma omp simd
    for (int64_t i = i0; i < i1; ++i) out[i] = op(a[i], b[i]);
  });
}

}  // namespace

void add_cpu(const float* a, const float* b, float* out, int64_t n) {
  binary(a, b, out, n, [](float x, float y) { return x + y; });
}
void sub_cpu(const float* a, const float* b, float* out, int64_t n) {
  binary(a, b, out, n, [](float x, float y) { return x - y; });
}
void mul_cpu(const float* a, const float* b, float* out, int64_t n) {
  binary(a, b, out, n, [](float x, float y) { return x * y; });
}
void add_relu_cpu(const float* a, const float* b, float* out, int64_t n) {
  binary(a, b, out, n, [](float x, float y) { return kernels::relu_forward(x + y); });
}

}  // namespace cpu
}  // namespace engine
