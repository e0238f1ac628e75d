/* STUB: interpreter kernels for the conv ops, to be written. */
#include "interp_internal.h"

loom_status interp_conv(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_conv_transpose(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_max_pool(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_average_pool(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_global_average_pool(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

loom_status interp_batch_normalization(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "kernel not implemented");
    return LOOM_STATUS_UNSUPPORTED;
}

