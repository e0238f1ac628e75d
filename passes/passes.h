/*
 * Compiler passes, one per file, one entry point each. Graph passes take an
 * ir_graph; pass_plan_memory works on the lowered loop function.
 */
#ifndef LOOM_PASSES_H
#define LOOM_PASSES_H

#include "ir.h"
#include "loop_ir.h"

/* Evaluates every node whose inputs are all constant with the interpreter
 * and replaces it by its constant results; drops unused values. */
loom_status pass_fold_constants(ir_graph *g, ir_diag *d);

/* Places every arena buffer of f at an offset in one workspace: liveness
 * over the step order, then greedy by size (largest first, lowest offset
 * that overlaps no buffer live at the same time). Sets f->workspace_bytes
 * and f->workspace_lower_bound (the peak of simultaneously live bytes). */
loom_status pass_plan_memory(loop_func *f, ir_diag *d);

/* The whole middle end: verify, fold constants, verify, lower to loop IR
 * named name, check it, plan memory, check again. On success *out is the
 * planned loop function (free with loop_func_free). */
loom_status pass_pipeline(ir_graph *g, const char *name, loop_func **out, ir_diag *d);

#endif
