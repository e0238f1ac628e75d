/* The runtime's unit tests (test_runtime.c) on the runtime compiled with
 * AVX2 and FMA enabled, as emitted code built with -march=native uses it
 * (im2col's AVX2 code is chosen at compile time; the GEMM kernels by
 * dispatch, which test_runtime.c forces level by level):
 * its sources are included here, compiled for those instructions (GCC's
 * target pragma) and made static so they do not clash with loomc's
 * portable copy. The tests skip, saying so, on a CPU without AVX2 and FMA
 * or with a compiler without the pragma. */
#include <stdbool.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define RT_AVX2_BUILD 1
#endif
#define LOOMRT_API static inline __attribute__((unused))
#include "loomrt.h"
#include "loomrt_attention.c"
#include "loomrt_conv.c"
#include "loomrt_conv_pack.c"
#include "loomrt_cpu.c"
#include "loomrt_dwconv.c"
#include "loomrt_epi.c"
#include "loomrt_gemm.c"
#include "loomrt_maxpool.c"
#include "loomrt_pool.c"
#include "loomrt_winograd.c"
#ifdef RT_AVX2_BUILD
#pragma GCC pop_options
#if !defined(UNFOLD_AVX2)
#error "the runtime did not compile its AVX2 kernels under the target pragma"
#endif
#endif

#include <criterion/criterion.h>

static bool avx2_runs(void)
{
#ifdef RT_AVX2_BUILD
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

/* Every test of this file starts here: skip (reported) where the AVX2
 * build cannot run. */
static void require_avx2(void)
{
    if (!avx2_runs())
        cr_skip_test("no AVX2+FMA CPU, or a compiler without GCC's target pragma");
}

#define RT_TEST_INIT require_avx2
#include "test_runtime.c"
