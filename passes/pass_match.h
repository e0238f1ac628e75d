/*
 * Pattern-matching helpers shared by the fusion passes that recognize the
 * decomposed forms exporters write (fuse-gelu, fuse-layernorm): constant
 * scalars, the other operand of a binary node, and replacing a matched
 * chain by one node.
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

#endif
