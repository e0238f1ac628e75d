/* STUB: interpreter kernels for the linear ops, to be written. */
#include "interp_internal.h"

loom_status interp_gemm(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_mat_mul(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_softmax(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_layer_normalization(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_lstm(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_gru(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_rnn(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

