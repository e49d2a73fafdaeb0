#pragma once

#include <cstdint>

// CPU entry of cvt_color (kernels/cvt_color.h): `pixels` pixels of cvt_in_channels(mode) values
// in, cvt_out_channels(mode) out (channels last).
namespace engine {
namespace cpu {

void cvt_color_cpu(const float* in, float* out, int64_t pixels, int mode);
void cvt_color_cpu(const uint8_t* in, uint8_t* out, int64_t pixels, int mode);

}  // namespace cpu
}  // namespace engine
