#pragma once

#include <sstream>
#include <stdexcept>

// Kernel math in csrc/kernels/ is compiled twice: by the host compiler for the CPU loops and by
// nvcc for the CUDA kernels. HOST_DEVICE lets one definition serve both.
#if defined(__CUDACC__)
#define HOST_DEVICE __host__ __device__
#else
#define HOST_DEVICE
#endif

// pybind11 translates std::invalid_argument into ValueError, which is what Python callers expect
// for a bad dtype or shape. `msg` may be a stream expression: ENGINE_CHECK(n >= 0, "n=" << n).
#define ENGINE_CHECK(cond, msg)                             \
  do {                                                      \
    if (!(cond)) {                                          \
      std::ostringstream engine_check_oss_;                 \
      engine_check_oss_ << msg;                             \
      throw std::invalid_argument(engine_check_oss_.str()); \
    }                                                       \
  } while (0)
