/*
 * The backend's entry point: from an optimized graph to the planned loop
 * function that both code generators (backend/c, and the LLVM JIT) consume.
 */
#ifndef LOOM_BE_H
#define LOOM_BE_H

#include "ir.h"
#include "loop_ir.h"

/* The whole compile up to code generation: graph passes (pass_pipeline),
 * lowering to a loop function named name, loop-IR verification, memory
 * planning, verification again. On success *out is the planned function
 * (free with loop_func_free); on error *out is NULL and d says why. */
loom_status be_compile(ir_graph *g, const char *name, loop_func **out, ir_diag *d);

/* A monotonic clock in milliseconds, for the compile-time reports. */
double be_now_ms(void);

/* Milliseconds of be_compile's two halves (`loom run --time`). */
typedef struct be_compile_times {
    double passes_ms; /* the graph pipeline */
    double lower_ms;  /* lowering, loop-IR verification and memory planning */
} be_compile_times;

/* be_compile, also filling *t (when not NULL). */
loom_status be_compile_timed(ir_graph *g, const char *name, loop_func **out, be_compile_times *t,
                             ir_diag *d);

#endif
