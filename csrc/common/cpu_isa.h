// Which SIMD instruction set the CPU kernels use, decided once at run time by cpuid (the module
// is built for baseline x86-64 so one build runs everywhere; ISA-specific code lives in files
// compiled with their own -m flags, see CMakeLists.txt). Tests force each path in turn through
// set_cpu_isa; ENGINE_CPU_ISA=avx512|avx2|portable does the same for a whole process.
#pragma once

namespace engine {
namespace cpu {

enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// The best ISA this CPU and OS support (AVX-512 means F+BW+DQ+VL; AVX2 means AVX2+FMA).
Isa detected_isa();
// The ISA kernels use now: detected_isa() unless lowered by ENGINE_CPU_ISA or set_cpu_isa.
Isa cpu_isa();
// Forces a path; asking for more than the CPU has raises std::invalid_argument.
void set_cpu_isa(Isa isa);
const char* isa_name(Isa isa);
Isa isa_from_name(const char* name);

}  // namespace cpu
}  // namespace engine
