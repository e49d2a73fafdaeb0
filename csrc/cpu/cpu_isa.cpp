#include "common/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/macros.h"

namespace engine {
namespace cpu {
namespace {

Isa probe() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // GCC's probe also checks XGETBV, i.e. that the OS saves the zmm/ymm state.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kPortable;
}

Isa initial() {
  const Isa best = detected_isa();
  const char* env = std::getenv("ENGINE_CPU_ISA");
  if (env == nullptr || *env == '\0') return best;
  const Isa asked = isa_from_name(env);
  return static_cast<int>(asked) < static_cast<int>(best) ? asked : best;
}

std::atomic<int>& current() {
  static std::atomic<int> isa{static_cast<int>(initial())};
  return isa;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = probe();
  return isa;
}

Isa cpu_isa() { return static_cast<Isa>(current().load(std::memory_order_relaxed)); }

void set_cpu_isa(Isa isa) {
  ENGINE_CHECK(static_cast<int>(isa) <= static_cast<int>(detected_isa()),
               "set_cpu_isa: this CPU supports up to " << isa_name(detected_isa()) << ", not "
                                                       << isa_name(isa));
  current().store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "portable";
  }
}

Isa isa_from_name(const char* name) {
  const std::string s(name);
  if (s == "avx512") return Isa::kAvx512;
  if (s == "avx2") return Isa::kAvx2;
  if (s == "portable") return Isa::kPortable;
  ENGINE_CHECK(false, "cpu isa: expected avx512, avx2 or portable, got '" << s << "'");
  return Isa::kPortable;
}

}  // namespace cpu
}  // namespace engine
