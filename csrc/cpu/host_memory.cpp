// Keeping freed host memory in the process instead of handing it back to the kernel.
//
// A training step allocates and frees the same activation buffers every iteration. glibc's
// default policy serves large blocks with mmap and trims the heap top on free, so each step's
// buffers come back as fresh pages: ~170 MB of page faults and kernel zeroing per step of
// bench/train_step_cpu.py, 0.12-0.15 s of system time against a 0.45 s step. Serving blocks up
// to 32 MiB (glibc's ceiling for the mmap threshold) from the heap and trimming only a large
// free top makes the next step reuse the pages already mapped: no faults, the step ~15% faster.
// This is what tcmalloc/jemalloc preloading buys PyTorch CPU users; here it is two mallopt calls.
#include <algorithm>
#include <cstddef>
#include <limits>

#include "cpu/ops.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace engine {
namespace cpu {

bool keep_freed_host_memory(std::size_t trim_threshold_bytes) {
#ifdef __GLIBC__
  // Setting either value also switches off glibc's dynamic mmap threshold, so both are set.
  const int mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const std::size_t int_max = static_cast<std::size_t>(std::numeric_limits<int>::max());
  const int trim = static_cast<int>(std::min(trim_threshold_bytes, int_max));  // mallopt's type
  const int trim_ok = mallopt(M_TRIM_THRESHOLD, trim);
  return mmap_ok == 1 && trim_ok == 1;
#else
  (void)trim_threshold_bytes;
  return false;
#endif
}

bool release_free_host_memory() {
#ifdef __GLIBC__
  return malloc_trim(0) == 1;
#else
  return false;
#endif
}

}  // namespace cpu
}  // namespace engine
