/*
 * The backend's entry point: from an optimized graph to the planned loop
 * function that both code generators (backend/c, and the LLVM JIT in
 * backend/llvm) consume.
 */
#ifndef LOOM_BE_H
#define LOOM_BE_H

#include "ir.h"
#include "loop_ir.h"
#include "lower.h"
#include "passes.h"

/* The whole compile up to code generation: graph passes (pass_pipeline),
 * lowering to a loop function named name, loop-IR verification, memory
 * planning, verification again. On success *out is the planned function
 * (free with loop_func_free); on error *out is NULL and d says why. */
loom_status be_compile(ir_graph *g, const char *name, loop_func **out, ir_diag *d);

/* be_compile with the pass pipeline's options (-O level, disabled passes);
 * opts NULL means the defaults (-O3). */
loom_status be_compile_opts(ir_graph *g, const char *name, const pass_options *opts,
                            loop_func **out, ir_diag *d);

/* be_compile with both: pass options (NULL: -O3) and lowering options
 * (NULL: the defaults, data checks on). */
loom_status be_compile_with(ir_graph *g, const char *name, const pass_options *popts,
                            const lower_opts *lopts, loop_func **out, ir_diag *d);

/* Milliseconds on a monotonic clock, for compile-time reports. */
double be_now_ms(void);

/* Wall time of be_compile's phases (loom run --time). */
typedef struct be_compile_times {
    double passes_ms; /* the graph pipeline */
    double lower_ms;  /* lowering, loop-IR verification and memory planning */
} be_compile_times;

/* be_compile_with that also fills *t (t may be NULL). */
loom_status be_compile_timed(ir_graph *g, const char *name, const pass_options *popts,
                             const lower_opts *lopts, loop_func **out, be_compile_times *t,
                             ir_diag *d);

#endif
