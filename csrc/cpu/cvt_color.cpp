#include "cpu/cvt_color.h"

#include <cstdint>

#include "cpu/parallel.h"
#include "kernels/cvt_color.h"

namespace engine {
namespace cpu {
namespace {

template <class T>
void cvt_loop(const T* in, T* out, int64_t pixels, int mode) {
  const int ci = kernels::cvt_in_channels(mode), co = kernels::cvt_out_channels(mode);
#pragma omp parallel for schedule(static) if (pixels >= kParallelThreshold)
  for (int64_t i = 0; i < pixels; ++i) kernels::cvt_pixel(mode, in + i * ci, out + i * co);
}

}  // namespace

void cvt_color_cpu(const float* in, float* out, int64_t pixels, int mode) {
  cvt_loop(in, out, pixels, mode);
}

void cvt_color_cpu(const uint8_t* in, uint8_t* out, int64_t pixels, int mode) {
  cvt_loop(in, out, pixels, mode);
}

}  // namespace cpu
}  // namespace engine
