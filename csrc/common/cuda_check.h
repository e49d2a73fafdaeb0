#pragma once

#include <cuda_runtime.h>

#include <sstream>
#include <stdexcept>

// Errors surface as RuntimeError in Python, tagged with the op so a failed launch inside a long
// training step can be traced back to the kernel that caused it.
#define ENGINE_CUDA_CHECK(expr, op)                                                           \
  do {                                                                                        \
    cudaError_t engine_cuda_err_ = (expr);                                                    \
    if (engine_cuda_err_ != cudaSuccess) {                                                    \
      std::ostringstream engine_cuda_oss_;                                                    \
      engine_cuda_oss_ << op << ": CUDA error " << cudaGetErrorName(engine_cuda_err_) << ": " \
                       << cudaGetErrorString(engine_cuda_err_);                               \
      throw std::runtime_error(engine_cuda_oss_.str());                                       \
    }                                                                                         \
  } while (0)

// Kernel launches are asynchronous and return nothing; a bad configuration is only reported by
// the next runtime call, so ask right after the launch instead of blaming an unrelated op later.
#define ENGINE_CUDA_CHECK_LAUNCH(op) ENGINE_CUDA_CHECK(cudaGetLastError(), op)
