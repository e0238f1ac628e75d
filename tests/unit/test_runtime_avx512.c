/* The runtime's unit tests compiled for AVX-512 (F, VL, BW, DQ) besides
 * AVX2 and FMA (test_runtime_isa.h): im2col's AVX-512 code is chosen at
 * compile time. */
#define RT_ISA_TARGET "avx2,fma,avx512f,avx512vl,avx512bw,avx512dq"
#define RT_ISA_NAME "AVX-512"
#define RT_ISA_RUNS()                                                                              \
    (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&                            \
     __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&                    \
     __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
#include "test_runtime_isa.h"
