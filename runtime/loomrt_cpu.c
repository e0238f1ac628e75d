/*
 * Which kernels run: the instruction-set level of the CPU (cpuid through
 * GCC/clang's __builtin_cpu_supports, which also checks that the OS saves
 * the wider registers), optionally lowered by LOOMRT_ISA or
 * loomrt_isa_force, and whether OpenBLAS's kernel is as wide as ours.
 *
 * Both answers are computed once and cached in a static int (an idempotent
 * write: every thread computes the same value); they describe the machine,
 * not a model, so two models or two calls never see different state.
 */
#include "loomrt.h"

#include <stdlib.h>
#include <string.h>

#ifdef LOOMRT_USE_CBLAS
char *openblas_get_corename(void);
#endif

/* -1: not computed yet. */
static int cpu_isa_cached = -1;
static int cpu_blas_cached = -1;

#if defined(__GNUC__)
#define CPU_LOAD(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#define CPU_STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)
#else
#define CPU_LOAD(p) (*(p))
#define CPU_STORE(p, v) (*(p) = (v))
#endif

LOOMRT_API int loomrt_isa_detect(void)
{
#ifdef LOOMRT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return LOOMRT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return LOOMRT_ISA_AVX2;
#endif
    return LOOMRT_ISA_PORTABLE;
}

/* The level LOOMRT_ISA names, or -1 when unset or unknown. */
static int cpu_isa_env(void)
{
    const char *s = getenv("LOOMRT_ISA");
    if (!s)
        return -1;
    if (strcmp(s, "portable") == 0)
        return LOOMRT_ISA_PORTABLE;
    if (strcmp(s, "avx2") == 0)
        return LOOMRT_ISA_AVX2;
    if (strcmp(s, "avx512") == 0)
        return LOOMRT_ISA_AVX512;
    return -1;
}

/* min(level, detected), the detected level when level < 0. */
static int cpu_isa_cap(int level)
{
    int hw = loomrt_isa_detect();
    return level < 0 || level > hw ? hw : level;
}

LOOMRT_API int loomrt_isa_get(void)
{
    int v = CPU_LOAD(&cpu_isa_cached);
    if (v < 0) {
        v = cpu_isa_cap(cpu_isa_env());
        CPU_STORE(&cpu_isa_cached, v);
    }
    return v;
}

LOOMRT_API int loomrt_isa_force(int level)
{
    int v = cpu_isa_cap(level < 0 ? cpu_isa_env() : level);
    CPU_STORE(&cpu_isa_cached, v);
    CPU_STORE(&cpu_blas_cached, -1);
    return v;
}

#ifdef LOOMRT_USE_CBLAS
/* The vector level of an OpenBLAS core name (0.3.21's names for x86-64):
 * AVX-512 kernels, AVX2+FMA kernels, or older (SSE, AVX without FMA). */
static int cpu_blas_level(const char *core)
{
    static const char *const wide[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
    static const char *const avx2[] = {"haswell", "zen", "skylake", "excavator", NULL};
    char low[32];
    size_t n = 0;
    for (; core && core[n] && n + 1 < sizeof low; n++)
        low[n] = (char)(core[n] >= 'A' && core[n] <= 'Z' ? core[n] - 'A' + 'a' : core[n]);
    low[n] = 0;
    for (int i = 0; wide[i]; i++)
        if (strcmp(low, wide[i]) == 0)
            return LOOMRT_ISA_AVX512;
    for (int i = 0; avx2[i]; i++)
        if (strcmp(low, avx2[i]) == 0)
            return LOOMRT_ISA_AVX2;
    return LOOMRT_ISA_PORTABLE;
}
#endif

LOOMRT_API int loomrt_blas_preferred(void)
{
#ifdef LOOMRT_USE_CBLAS
    int v = CPU_LOAD(&cpu_blas_cached);
    if (v < 0) {
        /* the portable kernel never beats a library; from AVX2 on, ours
         * run unless OpenBLAS's are as wide */
        int own = loomrt_isa_get();
        v = own == LOOMRT_ISA_PORTABLE || cpu_blas_level(openblas_get_corename()) >= own;
        CPU_STORE(&cpu_blas_cached, v);
    }
    return v;
#else
    return 0;
#endif
}
