/* STUB: shape inference for the elementwise ops, to be written. */
#include "ir_infer.h"

loom_status ir_infer_binary(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_unary(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_clip(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_where(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_compare(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_cast(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_reduce(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_identity(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_dropout(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

