/*
 * Graph passes, one per file, one entry point each, and the pipeline that
 * runs them. Passes rewrite an ir_graph in place; they never see the loop
 * IR (lowering and memory planning are the backend's: backend/be.h).
 */
#ifndef LOOM_PASSES_H
#define LOOM_PASSES_H

#include "ir.h"

/* Evaluates every node whose inputs are all constant with the interpreter
 * and replaces it by its constant results; drops unused values. */
loom_status pass_fold_constants(ir_graph *g, ir_diag *d);

/* The graph middle end: verify, run the passes with the verifier between
 * them. On error g may be partly rewritten and d says why. */
loom_status pass_pipeline(ir_graph *g, ir_diag *d);

#endif
