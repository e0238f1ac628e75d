/*
 * The CLI's seam to the LLVM backend (backend/llvm/be_llvm.h): `loom run
 * --backend=jit`, `loom bench --backend=jit` and `loom compile
 * --emit=llvm|obj` go through these two calls.
 */
#ifndef LOOM_TOOLS_JIT_H
#define LOOM_TOOLS_JIT_H

#include "be_llvm.h"
#include "ir.h"
#include "lower.h"
#include "passes.h"

/* Compiles g (graph passes, lowering, planning) and JIT-compiles the
 * result; *out is the callable module. With times, prints the phases
 * (passes, lowering, LLVM IR, LLVM optimization, code generation) to
 * stderr. */
loom_status tool_jit_build(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                           bool times,
                           be_llvm_module **out, ir_diag *d);

/* Compiles g and writes the optimized LLVM IR (kind "llvm") or an object
 * file (kind "obj") defining NAME_run_v to path. */
loom_status tool_jit_emit(ir_graph *g, const pass_options *po, const lower_opts *lo, int threads,
                          const char *name, const char *kind, const char *path, ir_diag *d);

#endif
