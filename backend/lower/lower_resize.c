/*
 * Lowering of Resize and Upsample (semantics: ir/interp/interp_resize.c,
 * geometry: ir/ir_resize.h). The resize is separable, so it runs one
 * resized axis at a time, viewing the tensor as [outer, axis, inner]:
 *
 *     for p, o:  dst[p, o, :] = bias[o]
 *                for t in taps:  k = index[o, t]; w = weight[o, t]
 *                                dst[p, o, :] += w * src[p, k, :]
 *
 * with the sampling tables as constants (the source index is the load's
 * data-dependent term, always in range by construction) and the inner
 * loop contiguous. Nearest (one tap of weight 1) is a plain copy of rows.
 * tf_crop_and_resize positions outside the crop have weight 0 and bias
 * extrapolation_value. Intermediate axes go to scratch buffers.
 */
#include "ir_resize.h"
#include "lower_internal.h"

/* The tables of one axis as constants of the tensor's dtype t. */
typedef struct rs_tables {
    loop_buf *index, *weight, *bias; /* bias NULL when no position is outside */
    bool copy;                       /* one tap of weight 1 everywhere */
} rs_tables;

static rs_tables make_tables(lower_ctx *c, const ir_resize_axis *ax, double ev, ir_dtype t)
{
    int64_t n = ax->out * ax->taps;
    size_t es = ir_dtype_size(t);
    char *w = ir_arena_array(&c->f->arena, (size_t)n, es);
    char *bias = ir_arena_array(&c->f->arena, (size_t)ax->out, es);
    rs_tables r = {.copy = ax->taps == 1 && !ax->outside};
    for (int64_t i = 0; i < n; i++) {
        double v = ax->outside && ax->outside[i / ax->taps] ? 0 : ax->weight[i];
        r.copy = r.copy && v == 1;
        if (t == IR_DTYPE_F32)
            ((float *)w)[i] = (float)v;
        else
            ((double *)w)[i] = v;
    }
    for (int64_t o = 0; ax->outside && o < ax->out; o++) {
        double v = ax->outside[o] ? ev : 0;
        if (t == IR_DTYPE_F32)
            ((float *)bias)[o] = (float)v;
        else
            ((double *)bias)[o] = v;
    }
    r.index = lower_const_table(c, "resize_index", IR_DTYPE_I64, n, ax->index);
    r.weight = lower_const_table(c, "resize_weight", t, n, w);
    r.bias = ax->outside ? lower_const_table(c, "resize_bias", t, ax->out, bias) : NULL;
    return r;
}

/* Adds var * coef to i unless var < 0 (a loop of one iteration left out). */
static void add_term(loop_index *i, int var, int64_t coef)
{
    if (var >= 0)
        loop_idx_add(i, var, coef);
}

/* A loop over [0, n) in b, or b itself for n == 1 (*var = -1). */
static loop_block *maybe_loop(lower_ctx *c, loop_block *b, int64_t n, int *var)
{
    *var = -1;
    return n == 1 ? b : lower_nest(c, b, 1, &n, var);
}

/* dst [outer, ax->out, inner] from src [outer, ax->in, inner] along one
 * axis. */
static void resize_axis(lower_ctx *c, loop_block *b, const ir_resize_axis *ax, double ev,
                        loop_buf *src, loop_buf *dst, int64_t outer, int64_t inner)
{
    loop_func *f = c->f;
    rs_tables tb = make_tables(c, ax, ev, dst->dtype);
    int vp, vo, vt, vi;
    loop_block *po = maybe_loop(c, maybe_loop(c, b, outer, &vp), ax->out, &vo);
    loop_index yi = loop_idx_const(0), ti = loop_idx_const(0), oi = loop_idx_const(0);
    add_term(&yi, vp, ax->out * inner);
    add_term(&yi, vo, inner);
    add_term(&ti, vo, ax->taps);
    add_term(&oi, vo, 1);
    if (!tb.copy) {
        loop_block *ib = maybe_loop(c, po, inner, &vi);
        loop_expr *init = tb.bias ? loop_load(f, tb.bias, oi) : lower_num(c, dst->dtype, 0);
        loop_index di = yi;
        add_term(&di, vi, 1);
        loop_store(f, ib, dst, di, init);
    }
    loop_block *tbody = maybe_loop(c, po, ax->taps, &vt);
    add_term(&ti, vt, 1);
    loop_expr *k = lower_bind(c, tbody, loop_load(f, tb.index, ti));
    loop_expr *w = tb.copy ? NULL : lower_bind(c, tbody, loop_load(f, tb.weight, ti));
    loop_block *ib = maybe_loop(c, tbody, inner, &vi);
    loop_index si = loop_idx_const(0), di = yi;
    add_term(&si, vp, ax->in * inner);
    add_term(&si, vi, 1);
    add_term(&di, vi, 1);
    si.dyn = k;
    si.dyn_coef = inner;
    loop_expr *v = loop_load(f, src, si);
    if (!tb.copy)
        v = lower_bin(c, LOOP_BINOP_ADD, loop_load(f, dst, di), lower_bin(c, LOOP_BINOP_MUL, w, v));
    loop_store(f, ib, dst, di, v);
}

/* ONNX Resize-19 and Upsample-9: one pass per resized axis, in axis order;
 * a copy when no axis changes. */
loom_status lower_resize(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    ir_resize_geom gm;
    loom_status st = ir_resize_geometry(c->g, n, true, &gm, c->d);
    if (st)
        return st;
    int last = -1;
    for (int a = 0; a < gm.rank; a++)
        if (!gm.axis[a].identity)
            last = a;
    loop_buf *src = lower_buf(c, x), *yb = lower_buf(c, y);
    if (last < 0)
        lower_copy(c, &step->body, yb, src, ir_shape_numel(&y->shape));
    ir_shape cur = x->shape;
    for (int a = 0; a <= last; a++) {
        if (gm.axis[a].identity)
            continue;
        int64_t outer = 1, inner = 1;
        for (int i = 0; i < cur.rank; i++)
            *(i < a ? &outer : &inner) *= i == a ? 1 : cur.dims[i];
        cur.dims[a] = gm.axis[a].out;
        loop_buf *dst = a == last ? yb : lower_scratch(c, "resize", y->dtype, ir_shape_numel(&cur));
        resize_axis(c, &step->body, &gm.axis[a], gm.extrapolation_value, src, dst, outer, inner);
        src = dst;
    }
    ir_resize_geom_free(&gm);
    return LOOM_STATUS_OK;
}
