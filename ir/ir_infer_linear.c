/* STUB: shape inference for the linear ops, to be written. */
#include "ir_infer.h"

loom_status ir_infer_gemm(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_mat_mul(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_softmax(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_layer_normalization(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_lstm(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_gru(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status ir_infer_rnn(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_diag_node(d, g, n, "shape inference not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

