/*
 * Lowering of ArgMax / ArgMin, Hardmax and CumSum (semantics:
 * ir/interp/interp_axis.c) over the [outer, len, inner] view of
 * ir_axis_view_of: a loop nest over (outer, inner) and a sequential loop
 * along the axis carrying locals (the best value and its index; the
 * running sum). EyeLike compares the loop variables.
 */
#include "ir_axis.h"
#include "lower_internal.h"

/* Loops over outer and inner in b; *base is the element (o, 0, i). */
static loop_block *open_view(lower_ctx *c, loop_block *b, const ir_axis_view *v,
                             loop_index *base)
{
    int64_t d[2] = {v->outer, v->inner};
    int vars[2];
    loop_block *body = lower_nest(c, b, 2, d, vars);
    *base = loop_idx_const(0);
    loop_idx_add(base, vars[0], v->len * v->inner);
    loop_idx_add(base, vars[1], 1);
    return body;
}

/* The index (an i64 local) of the first extreme element along the axis
 * (the last one with last); max or min. */
static int lower_extreme(lower_ctx *c, loop_block *b, loop_buf *x, const ir_axis_view *v,
                         loop_index base, bool max, bool last)
{
    loop_func *f = c->f;
    int bv = loop_local_new(f, x->dtype), bi = loop_local_new(f, IR_DTYPE_I64), k;
    loop_set(f, b, bv, loop_load(f, x, base));
    loop_set(f, b, bi, lower_int(c, IR_DTYPE_I64, 0));
    if (v->len < 2)
        return bi;
    int64_t rest = v->len - 1;
    loop_block *kb = lower_nest(c, b, 1, &rest, &k); /* element k + 1 */
    loop_index xi = base;
    xi.offset += v->inner;
    loop_idx_add(&xi, k, v->inner);
    loop_expr *xv = lower_bind(c, kb, loop_load(f, x, xi));
    loop_binop cmp = max ? (last ? LOOP_BINOP_GE : LOOP_BINOP_GT)
                         : (last ? LOOP_BINOP_LE : LOOP_BINOP_LT);
    loop_expr *take = lower_bind(c, kb, lower_bin(c, cmp, xv, loop_local_read(f, bv)));
    loop_set(f, kb, bv, lower_sel(c, take, xv, loop_local_read(f, bv)));
    loop_expr *kk = lower_bin(c, LOOP_BINOP_ADD, loop_var(f, k), lower_int(c, IR_DTYPE_I64, 1));
    loop_set(f, kb, bi, lower_sel(c, take, kk, loop_local_read(f, bi)));
    return bi;
}

loom_status lower_arg_max(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st || v.outer * v.inner == 0)
        return st;
    loop_index base, yi = loop_idx_const(0);
    loop_block *b = open_view(c, &step->body, &v, &base);
    int bi = lower_extreme(c, b, lower_buf(c, n->inputs[0]), &v, base, n->op == IR_OP_ARG_MAX,
                           ir_attr_int(n, "select_last_index", 0) != 0);
    /* output element o * inner + i: base without the len factor */
    for (int t = 0; t < base.n; t++)
        loop_idx_add(&yi, base.var[t], t == 0 ? v.inner : 1);
    loop_store(c->f, b, lower_buf(c, n->outputs[0]), yi, loop_local_read(c->f, bi));
    return LOOM_STATUS_OK;
}

loom_status lower_hardmax(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st || v.outer * v.inner * v.len == 0)
        return st;
    ir_dtype t = n->outputs[0]->dtype;
    loop_index base;
    loop_block *b = open_view(c, &step->body, &v, &base);
    int bi = lower_extreme(c, b, lower_buf(c, n->inputs[0]), &v, base, true, false), k;
    loop_block *kb = lower_nest(c, b, 1, &v.len, &k);
    loop_index yi = base;
    loop_idx_add(&yi, k, v.inner);
    loop_expr *hit = lower_bin(c, LOOP_BINOP_EQ, loop_var(c->f, k), loop_local_read(c->f, bi));
    loop_store(c->f, kb, lower_buf(c, n->outputs[0]), yi,
               lower_sel(c, hit, lower_num(c, t, 1), lower_num(c, t, 0)));
    return LOOM_STATUS_OK;
}

loom_status lower_cum_sum(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st || v.outer * v.inner * v.len == 0)
        return st;
    ir_dtype t = n->outputs[0]->dtype;
    bool rev = ir_attr_int(n, "reverse", 0) != 0, excl = ir_attr_int(n, "exclusive", 0) != 0;
    loop_index base;
    loop_block *b = open_view(c, &step->body, &v, &base);
    int acc = loop_local_new(c->f, t), k;
    loop_set(c->f, b, acc, lower_num(c, t, 0));
    loop_block *kb = lower_nest(c, b, 1, &v.len, &k);
    loop_index xi = base; /* element k, or len - 1 - k with reverse */
    if (rev)
        xi.offset += (v.len - 1) * v.inner;
    loop_idx_add(&xi, k, rev ? -v.inner : v.inner);
    loop_buf *y = lower_buf(c, n->outputs[0]);
    loop_expr *sum = lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, acc),
                               loop_load(c->f, lower_buf(c, n->inputs[0]), xi));
    if (excl)
        loop_store(c->f, kb, y, xi, loop_local_read(c->f, acc));
    loop_set(c->f, kb, acc, sum);
    if (!excl)
        loop_store(c->f, kb, y, xi, loop_local_read(c->f, acc));
    return LOOM_STATUS_OK;
}

/* ONNX EyeLike-9: y[i, j] = j - i == k. */
loom_status lower_eye_like(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    int v[2];
    loop_block *b = lower_nest(c, &step->body, 2, y->shape.dims, v);
    loop_index yi = loop_idx_const(0);
    loop_idx_add(&yi, v[0], y->shape.dims[1]);
    loop_idx_add(&yi, v[1], 1);
    loop_expr *diff = lower_bin(c, LOOP_BINOP_SUB, loop_var(c->f, v[1]), loop_var(c->f, v[0]));
    loop_expr *on = lower_bin(c, LOOP_BINOP_EQ, diff,
                              lower_int(c, IR_DTYPE_I64, ir_attr_int(n, "k", 0)));
    loop_store(c->f, b, lower_buf(c, y), yi,
               lower_sel(c, on, lower_num(c, y->dtype, 1), lower_num(c, y->dtype, 0)));
    return LOOM_STATUS_OK;
}
