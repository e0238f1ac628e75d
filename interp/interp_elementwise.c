/* STUB: interpreter kernels for the elementwise ops, to be written. */
#include "interp_internal.h"

loom_status interp_binary(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_unary(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_clip(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_where(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_compare(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_cast(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_reduce(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_identity(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_dropout(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

