/* The runtime's unit tests compiled for AVX2 and FMA (test_runtime_isa.h). */
#define RT_ISA_TARGET "avx2,fma"
#define RT_ISA_NAME "AVX2+FMA"
#define RT_ISA_RUNS() (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
#include "test_runtime_isa.h"
