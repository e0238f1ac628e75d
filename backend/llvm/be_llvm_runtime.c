/*
 * The runtime kernels JIT-compiled code calls, built into loom with the
 * flags of the C backend's OpenBLAS build (-O3 -march=native
 * -DLOOMRT_USE_CBLAS, set for this file in CMakeLists.txt), so both
 * backends run the same kernels. The sources are included as static
 * copies: they do not clash with loomc's portable runtime. The JIT resolves
 * calls through be_llvm_symbols, an explicit name -> address map (works in
 * a static library too, no -rdynamic), which also lists the libm functions
 * LLVM lowers intrinsics to.
 */
#define _GNU_SOURCE /* sincosf, roundevenf */
#define LOOMRT_API static __attribute__((unused))
#include <math.h>
#include <string.h>

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

#include "be_llvm_internal.h"

#define SYM(f) {#f, (void (*)(void))f}

const be_llvm_symbol be_llvm_symbols[] = {
    SYM(loomrt_sgemm), SYM(loomrt_sgemm_packed), SYM(loomrt_im2col), SYM(loomrt_col2im),
    SYM(loomrt_attention),
    SYM(loomrt_sgemm_epi), SYM(loomrt_sgemm_packed_epi), SYM(loomrt_dwconv), SYM(loomrt_pwdw),
    SYM(loomrt_dwpw),
    SYM(loomrt_conv2d), SYM(loomrt_conv2d_t), SYM(loomrt_conv2d_winograd),
    SYM(loomrt_conv2d_winograd_maxpool),
    SYM(loomrt_conv2d_direct), SYM(loomrt_conv2d_direct_maxpool),
    SYM(loomrt_maxpool2d),
    SYM(loomrt_threads_swap), SYM(loomrt_parallel_for), SYM(loomrt_parallel_slots),
    SYM(expf),  SYM(exp),   SYM(logf),   SYM(log),   SYM(erff),   SYM(erf),
    SYM(tanhf), SYM(tanh),  SYM(log1pf), SYM(log1p), SYM(powf),   SYM(pow),
    SYM(fmodf), SYM(fmod),  SYM(sinf),   SYM(sin),   SYM(cosf),   SYM(cos),
    SYM(sqrtf), SYM(sqrt),  SYM(floorf), SYM(floor), SYM(ceilf),  SYM(ceil),
    SYM(nearbyintf), SYM(nearbyint), SYM(exp2f), SYM(exp2), SYM(memcpy), SYM(memset),
    SYM(memmove), SYM(sincosf), SYM(sincos), SYM(roundevenf), SYM(roundeven),
    SYM(tanf),  SYM(tan),   SYM(asinf),  SYM(asin),  SYM(acosf),  SYM(acos),
    SYM(atanf), SYM(atan),  SYM(sinhf),  SYM(sinh),  SYM(coshf),  SYM(cosh),
    SYM(asinhf), SYM(asinh), SYM(acoshf), SYM(acosh), SYM(atanhf), SYM(atanh),
    SYM(expm1f), SYM(expm1),
    {NULL, NULL}};
