#include <algorithm>

#include "common/macros.h"
#include "cpu/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace engine {
namespace cpu {

int get_num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
  ENGINE_CHECK(n >= 1, "set_num_threads: expected n >= 1, got " << n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

}  // namespace cpu
}  // namespace engine
