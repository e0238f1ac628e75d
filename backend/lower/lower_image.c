/*
 * Lowering of InstanceNormalization, DepthToSpace / SpaceToDepth and LRN
 * (semantics: ir/interp/interp_image.c).
 *
 *   - InstanceNormalization: per (n, c) row, a mean loop, a variance loop
 *     over the centred values, then y = x a + b with a = scale / sqrt(var
 *     + eps) and b = B - mean a, all in the input's dtype.
 *   - DepthToSpace / SpaceToDepth: one strided copy over the 6-D walk of
 *     ir_d2s_strides.
 *   - LRN: per element, the squares of the channel window summed under a
 *     guard that skips channels outside [0, C), then x / (bias + alpha /
 *     size * sum)^beta.
 *   - MeanVarianceNormalization: sums of x and x^2 per group in two
 *     scratch buffers (indices affine, stride 0 along reduced axes), then
 *     the mean and sqrt(E[x^2] - mean^2) + 1e-9 per group, then one pass
 *     over x.
 */
#include "ir_image.h"
#include "lower_internal.h"

/* Appends local l = l + v. */
static void accumulate(lower_ctx *c, loop_block *b, int l, loop_expr *v)
{
    loop_set(c->f, b, l, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, l), v));
}

/* A loop over the sp elements of a row starting at base; *idx is the
 * element index. */
static loop_block *row_loop(lower_ctx *c, loop_block *b, int64_t sp, const loop_index *base,
                            loop_index *idx)
{
    int v;
    loop_block *body = lower_nest(c, b, 1, &sp, &v);
    *idx = *base;
    loop_idx_add(idx, v, 1);
    return body;
}

loom_status lower_instance_normalization(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    ir_dtype t = x->dtype;
    int64_t nc[2] = {x->shape.dims[0], x->shape.dims[1]}, total = ir_shape_numel(&x->shape);
    if (total == 0)
        return LOOM_STATUS_OK;
    int64_t sp = total / (nc[0] * nc[1]);
    loop_buf *xb = lower_buf(c, x), *yb = lower_buf(c, n->outputs[0]);
    int v[2];
    loop_block *b = lower_nest(c, &step->body, 2, nc, v);
    loop_index base = loop_idx_const(0), ci = loop_idx_const(0), xi;
    loop_idx_add(&base, v[0], nc[1] * sp);
    loop_idx_add(&base, v[1], sp);
    loop_idx_add(&ci, v[1], 1);
    int mean = loop_local_new(c->f, t), var = loop_local_new(c->f, t);
    loop_set(c->f, b, mean, lower_num(c, t, 0));
    loop_block *r = row_loop(c, b, sp, &base, &xi);
    accumulate(c, r, mean, loop_load(c->f, xb, xi));
    loop_expr *count = lower_num(c, t, (double)sp);
    loop_set(c->f, b, mean, lower_bin(c, LOOP_BINOP_DIV, loop_local_read(c->f, mean), count));
    loop_set(c->f, b, var, lower_num(c, t, 0));
    r = row_loop(c, b, sp, &base, &xi);
    loop_expr *dv = lower_bind(c, r, lower_bin(c, LOOP_BINOP_SUB, loop_load(c->f, xb, xi),
                                               loop_local_read(c->f, mean)));
    accumulate(c, r, var, lower_bin(c, LOOP_BINOP_MUL, dv, dv));
    loop_expr *den = lower_un(c, LOOP_UNOP_SQRT,
                              lower_bin(c, LOOP_BINOP_ADD,
                                        lower_bin(c, LOOP_BINOP_DIV, loop_local_read(c->f, var), count),
                                        lower_num(c, t, ir_attr_float(n, "epsilon", 1e-5f))));
    loop_expr *a = lower_bind(c, b, lower_bin(c, LOOP_BINOP_DIV,
                                              loop_load(c->f, lower_buf(c, n->inputs[1]), ci), den));
    loop_expr *sh = lower_bind(c, b, lower_bin(c, LOOP_BINOP_SUB,
                                               loop_load(c->f, lower_buf(c, n->inputs[2]), ci),
                                               lower_bin(c, LOOP_BINOP_MUL, loop_local_read(c->f, mean), a)));
    r = row_loop(c, b, sp, &base, &xi);
    loop_store(c->f, r, yb, xi,
               lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_MUL, loop_load(c->f, xb, xi), a), sh));
    return LOOM_STATUS_OK;
}

loom_status lower_depth_to_space(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_d2s_geom m;
    loom_status st = ir_depth_to_space_geometry(c->g, n, &m, c->d);
    if (st)
        return st;
    lower_strided s = {.rank = 6};
    int64_t sp[6], dp[6];
    ir_d2s_strides(&m, s.dims, sp, dp);
    bool d2s = n->op == IR_OP_DEPTH_TO_SPACE;
    for (int i = 0; i < 6; i++) {
        s.dst[i] = d2s ? sp[i] : dp[i];
        s.src[i] = d2s ? dp[i] : sp[i];
    }
    lower_strided_copy(c, &step->body, lower_buf(c, n->outputs[0]), lower_buf(c, n->inputs[0]), s);
    return LOOM_STATUS_OK;
}

loom_status lower_lrn(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    ir_dtype t = x->dtype;
    int64_t total = ir_shape_numel(&x->shape), size = ir_attr_int(n, "size", 1);
    if (total == 0)
        return LOOM_STATUS_OK;
    int64_t d[3] = {x->shape.dims[0], x->shape.dims[1], 0}, lo = (size - 1) / 2;
    d[2] = total / (d[0] * d[1]);
    loop_buf *xb = lower_buf(c, x);
    int v[3], k;
    loop_block *b = lower_nest(c, &step->body, 3, d, v);
    loop_index xi = loop_idx_const(0);
    loop_idx_add(&xi, v[0], d[1] * d[2]);
    loop_idx_add(&xi, v[1], d[2]);
    loop_idx_add(&xi, v[2], 1);
    int sum = loop_local_new(c->f, t);
    loop_set(c->f, b, sum, lower_num(c, t, 0));
    loop_block *kb = lower_nest(c, b, 1, &size, &k);
    /* channel ch = c - lo + k, summed when 0 <= ch < C */
    loop_expr *ch = lower_bind(c, kb, lower_bin(c, LOOP_BINOP_ADD, loop_var(c->f, v[1]),
                                                lower_bin(c, LOOP_BINOP_SUB, loop_var(c->f, k),
                                                          lower_int(c, IR_DTYPE_I64, lo))));
    loop_expr *in = lower_bin(c, LOOP_BINOP_AND,
                              lower_bin(c, LOOP_BINOP_GE, ch, lower_int(c, IR_DTYPE_I64, 0)),
                              lower_bin(c, LOOP_BINOP_LT, ch, lower_int(c, IR_DTYPE_I64, d[1])));
    loop_block *g = &loop_if(c->f, kb, in)->body;
    loop_index wi = xi;
    wi.offset -= lo * d[2];
    loop_idx_add(&wi, k, d[2]);
    loop_expr *w = lower_bind(c, g, loop_load(c->f, xb, wi));
    accumulate(c, g, sum, lower_bin(c, LOOP_BINOP_MUL, w, w));
    double alpha = ir_attr_float(n, "alpha", 1e-4f) / (double)size;
    loop_expr *den = lower_bin(c, LOOP_BINOP_ADD, lower_num(c, t, ir_attr_float(n, "bias", 1.0f)),
                               lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, alpha),
                                         loop_local_read(c->f, sum)));
    den = lower_bin(c, LOOP_BINOP_POW, den, lower_num(c, t, ir_attr_float(n, "beta", 0.75f)));
    loop_store(c->f, b, lower_buf(c, n->outputs[0]), xi,
               lower_bin(c, LOOP_BINOP_DIV, loop_load(c->f, xb, xi), den));
    return LOOM_STATUS_OK;
}

/* A loop nest over shape s in b; *xi is the element index, *gi the group
 * index (strides gs). */
static loop_block *mvn_nest(lower_ctx *c, loop_block *b, const ir_shape *s, const int64_t *gs,
                            loop_index *xi, loop_index *gi)
{
    int v[IR_MAX_RANK];
    int64_t st[IR_MAX_RANK];
    ir_shape_strides(s, st);
    loop_block *body = lower_nest(c, b, s->rank, s->dims, v);
    *xi = loop_idx_const(0), *gi = loop_idx_const(0);
    for (int i = 0; i < s->rank; i++) {
        loop_idx_add(xi, v[i], st[i]);
        if (gs[i])
            loop_idx_add(gi, v[i], gs[i]);
    }
    return body;
}

loom_status lower_mvn(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    ir_dtype t = x->dtype;
    bool reduced[IR_MAX_RANK];
    int64_t gs[IR_MAX_RANK], groups, count;
    loom_status st = ir_mvn_geometry(c->g, n, reduced, gs, &groups, &count, c->d);
    if (st || ir_shape_numel(&x->shape) == 0)
        return st;
    loop_buf *xb = lower_buf(c, x), *yb = lower_buf(c, n->outputs[0]);
    loop_buf *m = lower_scratch(c, "mvn_mean", t, groups), *q = lower_scratch(c, "mvn_sq", t, groups);
    int gv;
    loop_index gi, xi;
    loop_block *b = lower_nest(c, &step->body, 1, &groups, &gv);
    loop_index g1 = loop_idx_const(0);
    loop_idx_add(&g1, gv, 1);
    loop_store(c->f, b, m, g1, lower_num(c, t, 0));
    loop_store(c->f, b, q, g1, lower_num(c, t, 0));
    b = mvn_nest(c, &step->body, &x->shape, gs, &xi, &gi);
    loop_expr *v = lower_bind(c, b, loop_load(c->f, xb, xi));
    loop_store(c->f, b, m, gi, lower_bin(c, LOOP_BINOP_ADD, loop_load(c->f, m, gi), v));
    loop_store(c->f, b, q, gi,
               lower_bin(c, LOOP_BINOP_ADD, loop_load(c->f, q, gi), lower_bin(c, LOOP_BINOP_MUL, v, v)));
    b = lower_nest(c, &step->body, 1, &groups, &gv);
    g1 = loop_idx_const(0);
    loop_idx_add(&g1, gv, 1);
    loop_expr *cnt = lower_num(c, t, (double)count);
    loop_expr *mean = lower_bind(c, b, lower_bin(c, LOOP_BINOP_DIV, loop_load(c->f, m, g1), cnt));
    loop_expr *var = lower_bin(c, LOOP_BINOP_SUB,
                               lower_bin(c, LOOP_BINOP_DIV, loop_load(c->f, q, g1), cnt),
                               lower_bin(c, LOOP_BINOP_MUL, mean, mean));
    loop_store(c->f, b, m, g1, mean);
    loop_store(c->f, b, q, g1, lower_bin(c, LOOP_BINOP_ADD, lower_un(c, LOOP_UNOP_SQRT, var),
                                         lower_num(c, t, 1e-9)));
    b = mvn_nest(c, &step->body, &x->shape, gs, &xi, &gi);
    loop_store(c->f, b, yb, xi,
               lower_bin(c, LOOP_BINOP_DIV,
                         lower_bin(c, LOOP_BINOP_SUB, loop_load(c->f, xb, xi), loop_load(c->f, m, gi)),
                         loop_load(c->f, q, gi)));
    return LOOM_STATUS_OK;
}
