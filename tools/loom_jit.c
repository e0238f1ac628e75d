/*
 * The CLI's ahead-of-time LLVM output (loom_jit.h): `loom compile
 * --emit=llvm|obj` from a loaded graph. Running a model through the JIT
 * goes through libloom (tools/loom_build.c).
 */
#include <string.h>

#include "be.h"
#include "loom_jit.h"

loom_status tool_jit_emit(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                          const char *name, const char *kind, const char *path, ir_diag *d)
{
    loop_func *f = NULL;
    loom_status st = be_compile_with(g, name, po, lo, &f, d);
    if (st == LOOM_STATUS_OK)
        st = be_llvm_emit(f, &(be_llvm_opts){.threads = threads},
                          strcmp(kind, "obj") == 0 ? BE_LLVM_EMIT_OBJ : BE_LLVM_EMIT_IR,
                          path, NULL, d);
    loop_func_free(f);
    return st;
}
