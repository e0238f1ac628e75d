/* STUB: shape inference for the conv ops, to be written. */
#include "ir_infer.h"

loom_status ir_infer_conv(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_conv_transpose(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_max_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_average_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_global_average_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_batch_normalization(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_conv_geometry(const ir_graph *g, const ir_node *n, ir_conv_geom *geom, ir_diag *d)
{
    (void)geom;
    if (d)
        ir_diag_node(d, g, n, "not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}
