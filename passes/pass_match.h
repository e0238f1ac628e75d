/*
 * Pattern-matching helpers shared by the fusion passes that recognize the
 * decomposed forms exporters write (fuse-gelu, fuse-layernorm,
 * fuse-attention): constant scalars, the other operand of a binary node,
 * replacing a matched chain by one node, and the driver loop.
 */
#ifndef LOOM_PASS_MATCH_H
#define LOOM_PASS_MATCH_H

#include "ir.h"

/* v is a constant float with one element within tol of want. */
bool pass_const_near(const ir_value *v, double want, double tol);
/* The producer of v when it is op, else NULL. */
ir_node *pass_producer(const ir_value *v, ir_op op);
/* n is binary op and reads v: its other operand, else NULL. */
ir_value *pass_other_operand(const ir_node *n, ir_op op, const ir_value *v);
/* n's output is read by exactly one node (and is not a graph output):
 * that node when it is op, else NULL. */
ir_node *pass_single_user(const ir_graph *g, const ir_node *n, ir_op op);
/* Erases the chain[0..n) and puts a new node op(inputs) named after the
 * last of them, in its place, computing its output. chain is in
 * execution order: chain[n-1] computes the result. */
ir_node *pass_replace_chain(ir_graph *g, ir_node *const *chain, int n, ir_op op,
                            ir_value *const *inputs, int n_inputs);

/* A fusion rooted at node n: true when it rewrote the graph; on error
 * it reports to d and sets *st. */
typedef bool (*pass_fuse_fn)(ir_graph *g, ir_node *n, ir_diag *d, loom_status *st);
/* Tries fuse at every node whose op is op1 or op2, starting over after
 * each rewrite (node positions move), then drops the values left unused. */
loom_status pass_fuse_each(ir_graph *g, ir_op op1, ir_op op2, pass_fuse_fn fuse, ir_diag *d);

#endif
