/*
 * libloom's entries for loom's own tools and tests, not installed: compile
 * a graph already in memory (built by a test, or loaded by the CLI with its
 * --const files) and see the graph a compiled model describes. Diagnostics
 * stay ir_diag text, every error of a failed compile, for the CLI to print.
 */
#ifndef LOOM_API_INTERNAL_H
#define LOOM_API_INTERNAL_H

#include "ir.h"
#include "loom.h"

/* Compiles g for o->backend (o NULL: the defaults). The graph passes change
 * g; the result borrows it (inputs, outputs and, for the interpreter, the
 * program), so g must outlive it. On error *out is NULL and d says why. */
loom_status loom_compile_graph(ir_graph *g, const loom_compile_options *o, loom_compiled **out,
                               ir_diag *d);

/* loom_emit of a graph in memory (changed by the passes); path NULL
 * writes the text kinds (loops, lir) to stdout, for the CLI. */
loom_status loom_emit_graph(ir_graph *g, const loom_compile_options *opts, loom_emit_kind kind,
                            const char *path, const char *name, loom_emit_info *info,
                            ir_diag *d);

/* The graph c was compiled from (for its inputs' and outputs' values). */
const ir_graph *loom_compiled_graph(const loom_compiled *c);

/* The workspace's memory (loom_workspace_size bytes, 64-byte aligned), for
 * tests that fill it before a run. */
void *loom_workspace_memory(loom_workspace *w);

#endif
