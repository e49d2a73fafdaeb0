// Same-shape float32 arithmetic on large contiguous arrays (engine/ops/elemwise.py Add/Sub/Mul):
// numpy's loops run on one thread; these run on engine's team. Outputs do not alias inputs.
#pragma once

#include <cstdint>

namespace engine {
namespace cpu {

void add_cpu(const float* a, const float* b, float* out, int64_t n);
void sub_cpu(const float* a, const float* b, float* out, int64_t n);
void mul_cpu(const float* a, const float* b, float* out, int64_t n);
// relu(a + b) in one pass (a residual block's end; engine/ops/nn.py AddRelu): the bits of
// add_cpu then kernels::relu_forward.
void add_relu_cpu(const float* a, const float* b, float* out, int64_t n);

}  // namespace cpu
}  // namespace engine
