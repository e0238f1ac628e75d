/* STUB: lowering of the linear ops, to be written. */
#include "lower_internal.h"

loom_status lower_gemm(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_mat_mul(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_softmax(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_layer_normalization(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_lstm(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_gru(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_rnn(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

