/*
 * Resolved axis geometry of ArgMax / ArgMin, Hardmax and CumSum
 * (ir_infer_axis.c), shared by shape inference, the interpreter and the
 * lowering: the input as [outer, len, inner] around one axis.
 */
#ifndef LOOM_IR_AXIS_H
#define LOOM_IR_AXIS_H

#include "ir_infer.h"

typedef struct ir_axis_view {
    int axis;
    int64_t outer, len, inner;
} ir_axis_view;

/* The view of an ArgMax/ArgMin (axis attribute, default 0), Hardmax
 * (softmax's axis rules) or CumSum (constant axis input) node whose input
 * shape is known; reports to d a bad or non-constant axis. */
loom_status ir_axis_view_of(const ir_graph *g, const ir_node *n, ir_axis_view *v, ir_diag *d);

#endif
