/*
 * Lowering: graph IR -> loop IR. Each node becomes one loop_step built by
 * the per-op function lower_<fn> generated from IR_OPS (lower_*.c). The
 * graph must be verified and shape-inferred, with all-constant nodes
 * already folded.
 */
#ifndef LOOM_LOWER_H
#define LOOM_LOWER_H

#include "ir.h"
#include "loop_ir.h"

/* Lowers g into a new loop function named name (a C identifier). Buffers
 * are not yet placed (see loop_plan_memory). On error reports every node
 * that cannot be lowered and returns an error status with *out NULL. */
loom_status lower_graph(const ir_graph *g, const char *name, loop_func **out, ir_diag *d);

#endif
