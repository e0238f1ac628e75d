/*
 * The backend's entry point: from an optimized graph to the planned loop
 * function that both code generators (backend/c, and the LLVM JIT) consume.
 */
#ifndef LOOM_BE_H
#define LOOM_BE_H

#include "ir.h"
#include "loop_ir.h"
#include "lower.h"

/* The whole compile up to code generation: graph passes (pass_pipeline),
 * lowering to a loop function named name, loop-IR verification, memory
 * planning, verification again. On success *out is the planned function
 * (free with loop_func_free); on error *out is NULL and d says why. */
loom_status be_compile(ir_graph *g, const char *name, loop_func **out, ir_diag *d);
/* be_compile with lowering options (opts NULL: the defaults, checked). */
loom_status be_compile_with(ir_graph *g, const char *name, const lower_opts *opts,
                            loop_func **out, ir_diag *d);

#endif
