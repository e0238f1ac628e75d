/* STUB: lowering of the conv ops, to be written. */
#include "lower_internal.h"

loom_status lower_conv(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_conv_transpose(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_max_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_average_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_global_average_pool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_batch_normalization(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

