/* STUB: interpreter kernels for the shape ops, to be written. */
#include "interp_internal.h"

loom_status interp_reshape(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_flatten(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_transpose(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_concat(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_split(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_slice(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_gather(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_squeeze(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_unsqueeze(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_expand(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_constant(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_shape(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

