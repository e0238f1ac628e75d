/* STUB: lowering of the elementwise ops, to be written. */
#include "lower_internal.h"

loom_status lower_binary(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_unary(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_clip(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_where(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_compare(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_cast(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_reduce(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_identity(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status lower_dropout(lower_ctx *c, const ir_node *n, loop_step *step)
{
    (void)step;
    ir_diag_node(c->d, c->g, n, "lowering not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

