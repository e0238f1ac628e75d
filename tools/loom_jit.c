/*
 * The CLI's LLVM-backend commands (loom_jit.h): the compile sequence from a
 * loaded graph to JIT code or an ahead-of-time file, and the compile-time
 * report of `loom run --time`.
 */
#include <stdio.h>
#include <string.h>

#include "be.h"
#include "loom_jit.h"

static void print_times(const be_compile_times *ct, const be_llvm_times *lt)
{
    fprintf(stderr, "time: passes %.1f ms, lowering %.1f ms, LLVM IR %.1f ms, "
                    "LLVM optimization %.1f ms, code generation %.1f ms\n",
            ct->passes_ms, ct->lower_ms, lt->irgen_ms, lt->opt_ms, lt->codegen_ms);
}

loom_status tool_jit_build(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                           bool times,
                           be_llvm_module **out, ir_diag *d)
{
    loop_func *f = NULL;
    be_compile_times ct = {0};
    *out = NULL;
    loom_status st = be_compile_timed(g, "model", po, lo, &f, &ct, d);
    if (st == LOOM_STATUS_OK)
        st = be_llvm_jit(f, &(be_llvm_opts){.threads = threads}, out, d);
    loop_func_free(f);
    if (st == LOOM_STATUS_OK && times)
        print_times(&ct, be_llvm_times_of(*out));
    return st;
}

loom_status tool_jit_emit(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                          const char *name, const char *kind, const char *path, ir_diag *d)
{
    loop_func *f = NULL;
    loom_status st = be_compile_with(g, name, po, lo, &f, d);
    if (st == LOOM_STATUS_OK)
        st = be_llvm_emit(f, &(be_llvm_opts){.threads = threads}, strcmp(kind, "obj") == 0 ? BE_LLVM_EMIT_OBJ : BE_LLVM_EMIT_IR,
                          path, NULL, d);
    loop_func_free(f);
    return st;
}
