/* The runtime's unit tests (test_runtime.c) on the runtime compiled for
 * one instruction set, as emitted code built with -march=native uses it
 * on a CPU that has it (im2col's vector code is chosen at compile time;
 * the GEMM kernels by dispatch, which test_runtime.c forces level by
 * level): its sources are included here, compiled for those instructions
 * (GCC's target pragma) and made static so they do not clash with loomc's
 * portable copy. The tests skip, saying so, on a CPU without them or with
 * a compiler without the pragma.
 *
 * The includer defines RT_ISA_TARGET (the pragma's string), RT_ISA_NAME
 * (for the skip message) and RT_ISA_RUNS() (whether this CPU has the
 * instructions, after __builtin_cpu_init). */
#include <stdbool.h>

#if defined(__GNUC__) && !defined(__clang__)
#define RT_ISA_PRAGMA_STR(s) _Pragma(#s)
#define RT_ISA_PRAGMA(s) RT_ISA_PRAGMA_STR(s) /* s's macros expanded first */
#pragma GCC push_options
RT_ISA_PRAGMA(GCC target(RT_ISA_TARGET))
#define RT_ISA_BUILD 1
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
#ifdef RT_ISA_BUILD
#pragma GCC pop_options
#if !defined(UNFOLD_AVX2)
#error "the runtime did not compile its AVX2 kernels under the target pragma"
#endif
#endif

#include <criterion/criterion.h>

static bool isa_runs(void)
{
#ifdef RT_ISA_BUILD
    __builtin_cpu_init();
    return RT_ISA_RUNS();
#else
    return false;
#endif
}

/* Every test of test_runtime.c starts here: skip (reported) where this
 * build cannot run. */
static void require_isa(void)
{
    if (!isa_runs())
        cr_skip_test("no " RT_ISA_NAME " CPU, or a compiler without GCC's target pragma");
}

#define RT_TEST_INIT require_isa
#include "test_runtime.c"
