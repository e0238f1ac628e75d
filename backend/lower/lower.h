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

/* Options of the lowering. */
typedef struct lower_opts {
    /* Drop the checks of input data (LOOP_STMT_CHECK): an out-of-range
     * Gather / GatherElements index or RNN sequence length is clamped into
     * range and an integer division by zero gives 0, with no error. */
    bool unchecked;
    /* The thread count the code is compiled for (0: not given): the
     * images of a batch whose convolution kernels share a scratch run in
     * up to this many slots (at least 2, at most LOOMRT_MAX_THREADS), a
     * scratch copy each, so that threads can take whole images
     * (loop_split_slots). */
    int threads;
} lower_opts;

/* Lowers g into a new loop function named name (a C identifier). Buffers
 * are not yet placed (see loop_plan_memory). On error reports every node
 * that cannot be lowered and returns an error status with *out NULL.
 * opts NULL means the defaults (checked). */
loom_status lower_graph_with(const ir_graph *g, const char *name, const lower_opts *opts,
                             loop_func **out, ir_diag *d);
/* lower_graph_with the default options. */
loom_status lower_graph(const ir_graph *g, const char *name, loop_func **out, ir_diag *d);

#endif
