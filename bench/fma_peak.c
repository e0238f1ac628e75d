/*
 * The FP32 peak of one core, measured: a loop of independent fused
 * multiply-adds (16 accumulators with AVX-512, 12 with AVX2's 16
 * registers; either covers the FMA latency on every x86 core with two FMA
 * pipes) at the widest vector the CPU runs (AVX-512, else AVX2), timed
 * with clock_gettime. Prints GFLOP/s; the benchmark reports models'
 * speeds as fractions of it.
 *
 *   cc -O2 -o fma_peak bench/fma_peak.c -Iruntime runtime/loomrt_cpu.c && ./fma_peak
 */
#include <stdio.h>
#include <time.h>

#include "loomrt.h"

#ifdef LOOMRT_X86
#include <immintrin.h>

#define PEAK_ITERS 50000000L

/* The inner loop unrolled, so the 16 accumulators live in registers: left
 * as a loop (GCC at -O2), they go through the stack, and the stores, not
 * the FMAs, bound the loop (48 GFLOP/s instead of 116 on a Zen 4 core). */
#define PEAK_UNROLL _Pragma("GCC unroll 16")

/* 16 chains of x = x * m + a, 16 lanes each: 2 * 16 * 16 flops per step. */
LOOMRT_TARGET_AVX512 static float peak_avx512(long n)
{
    __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f), x[16];
    for (int i = 0; i < 16; i++)
        x[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        PEAK_UNROLL for (int i = 0; i < 16; i++) x[i] = _mm512_fmadd_ps(x[i], m, a);
    __m512 s = x[0];
    for (int i = 1; i < 16; i++)
        s = _mm512_add_ps(s, x[i]);
    return _mm512_reduce_add_ps(s);
}

/* The same with 8-lane vectors and 12 chains: 2 * 12 * 8 flops per step.
 * 16 chains with m and a take 18 of AVX2's 16 registers: three chains went
 * through the stack and the peak read 58.8 GFLOP/s on a Zen 3 core whose
 * GEMMs run at 75-95. */
LOOMRT_TARGET_AVX2 static float peak_avx2(long n)
{
    __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f), x[12];
    for (int i = 0; i < 12; i++)
        x[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        PEAK_UNROLL for (int i = 0; i < 12; i++) x[i] = _mm256_fmadd_ps(x[i], m, a);
    __m256 s = x[0];
    for (int i = 1; i < 12; i++)
        s = _mm256_add_ps(s, x[i]);
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[7];
}
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
#ifdef LOOMRT_X86
    int isa = loomrt_isa_detect();
    if (isa < LOOMRT_ISA_AVX2) {
        fprintf(stderr, "fma_peak: no AVX2+FMA on this CPU\n");
        return 1;
    }
    int lanes = isa == LOOMRT_ISA_AVX512 ? 16 : 8, chains = lanes == 16 ? 16 : 12;
    double best = 0;
    float sink = 0;
    for (int rep = 0; rep < 5; rep++) { /* best of 5: the machine is shared */
        double t = now();
        sink += isa == LOOMRT_ISA_AVX512 ? peak_avx512(PEAK_ITERS) : peak_avx2(PEAK_ITERS);
        double gf = 2.0 * chains * lanes * (double)PEAK_ITERS / (now() - t) / 1e9;
        best = gf > best ? gf : best;
    }
    printf("fp32 peak, one core, %s FMA: %.1f GFLOP/s (checksum %g)\n",
           isa == LOOMRT_ISA_AVX512 ? "AVX-512" : "AVX2", best, (double)sink);
    return 0;
#else
    fprintf(stderr, "fma_peak: x86 with GCC or clang only\n");
    return 1;
#endif
}
