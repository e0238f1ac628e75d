/* STUB: lowering of the shape ops, to be written. */
#include "lower_internal.h"

loom_status lower_reshape(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_flatten(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_transpose(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_concat(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_split(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_slice(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_gather(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_squeeze(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_unsqueeze(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_expand(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_constant(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_shape(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

