/* STUB: shape inference for the shape ops, to be written. */
#include "ir_infer.h"

loom_status ir_infer_reshape(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_flatten(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_transpose(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_concat(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_split(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_slice(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_gather(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_squeeze(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_unsqueeze(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_expand(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_constant(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_shape(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

