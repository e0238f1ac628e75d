/*
 * The reference interpreter: plain loops for every op, the oracle that the
 * backends and passes are tested against and the engine of constant folding.
 */
#ifndef LOOM_INTERP_H
#define LOOM_INTERP_H

#include "ir.h"

/* Runs a verified, shape-inferred graph. inputs[i] points at the data of
 * g->inputs[i], outputs[i] at a buffer of ir_value_bytes(g->outputs[i]).
 * Intermediates are freed as soon as their last user has run. */
loom_status interp_run(const ir_graph *g, const void *const *inputs, void *const *outputs,
                       ir_diag *d);

/* Evaluates one node whose present inputs are all constant and stores the
 * results as constant data (in the graph arena) on its outputs. */
loom_status interp_eval_node(ir_graph *g, ir_node *n, ir_diag *d);

#endif
