/*
 * Lowering of the indexing ops: GatherND, ScatterND, ScatterElements,
 * OneHot and TopK. A loaded index becomes the data-dependent term of a
 * load or store index (loop_index.dyn), made safe by lower_index_in_range
 * (a checked build reports LOOP_ERROR_INDEX; an unchecked one clamps).
 * Scatters copy data into the output first, then apply the updates in
 * order, so duplicate indices combine as the interpreter does.
 */
#include "ir_infer_index.h"
#include "lower_internal.h"

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Offset in data of index row `row` (an index expression in i's rows of
 * m components): sum over j of the checked index times its stride, in an
 * i64 local of block b. */
static loop_expr *nd_offset(lower_ctx *c, loop_block *b, const ir_node *n, const ir_nd_geom *gm,
                            loop_index row)
{
    const ir_value *iv = n->inputs[1];
    loop_expr *off = lower_int(c, IR_DTYPE_I64, 0);
    for (int j = 0; j < gm->m; j++) {
        loop_index at = row;
        for (int t = 0; t < at.n; t++)
            at.coef[t] *= gm->m;
        at.offset = row.offset * gm->m + j;
        loop_expr *k = lower_index_in_range(c, b, loop_load(c->f, lower_buf(c, iv), at),
                                            gm->dims[j], true, iv);
        off = lower_bin(c, LOOP_BINOP_ADD, off,
                        lower_bin(c, LOOP_BINOP_MUL, k, lower_int(c, IR_DTYPE_I64, gm->strides[j])));
    }
    return lower_bind(c, b, off);
}

/* ONNX GatherND-13 over [batch, rows, slice]: each index row's offset is
 * computed once, then its slice is copied. */
loom_status lower_gather_nd(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_nd_geom gm;
    if (!ir_nd_geometry(n, (int)ir_attr_int(n, "batch_dims", 0), &gm))
        return LOOM_STATUS_INTERNAL;
    if (gm.batch * gm.rows * gm.slice == 0)
        return LOOM_STATUS_OK;
    int v[3];
    loop_block *rb = lower_nest(c, &step->body, 2, (int64_t[]){gm.batch, gm.rows}, v);
    loop_index row = loop_idx_const(0);
    loop_idx_add(&row, v[0], gm.rows);
    loop_idx_add(&row, v[1], 1);
    loop_expr *off = nd_offset(c, rb, n, &gm, row);
    loop_block *b = lower_nest(c, rb, 1, &gm.slice, v + 2);
    loop_index yi = loop_idx_const(0), xi = loop_idx_const(0);
    loop_idx_add(&yi, v[0], gm.rows * gm.slice);
    loop_idx_add(&yi, v[1], gm.slice);
    loop_idx_add(&yi, v[2], 1);
    loop_idx_add(&xi, v[0], gm.data_batch_stride);
    loop_idx_add(&xi, v[2], 1);
    xi.dyn = off;
    xi.dyn_coef = 1;
    loop_store(c->f, b, lower_buf(c, n->outputs[0]),
               yi, loop_load(c->f, lower_buf(c, n->inputs[0]), xi));
    return LOOM_STATUS_OK;
}

/* The value stored where update u lands on the current element cur
 * (ScatterND-18 / ScatterElements-18 reduction; max and min as the
 * interpreter: u replaces cur when strictly larger / smaller). */
static loop_expr *scatter_value(lower_ctx *c, ir_scatter_red red, loop_expr *cur, loop_expr *u)
{
    switch (red) {
    case IR_SCATTER_ADD: return lower_bin(c, LOOP_BINOP_ADD, cur, u);
    case IR_SCATTER_MUL: return lower_bin(c, LOOP_BINOP_MUL, cur, u);
    case IR_SCATTER_MAX: return lower_sel(c, lower_bin(c, LOOP_BINOP_GT, u, cur), u, cur);
    case IR_SCATTER_MIN: return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, u, cur), u, cur);
    default: return u;
    }
}

/* y[yi] = combine(y[yi], u[ui]) in block b. */
static void scatter_store(lower_ctx *c, loop_block *b, const ir_node *n, loop_index yi,
                          loop_index ui)
{
    loop_buf *y = lower_buf(c, n->outputs[0]);
    ir_scatter_red red = ir_scatter_reduction(n);
    loop_expr *u = loop_load(c->f, lower_buf(c, n->inputs[2]), ui);
    loop_expr *val = red == IR_SCATTER_NONE ? u : scatter_value(c, red, loop_load(c->f, y, yi), u);
    loop_store(c->f, b, y, yi, val);
}

/* ONNX ScatterND-18: copy data, then per index row its slice of updates. */
loom_status lower_scatter_nd(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_nd_geom gm;
    if (!ir_nd_geometry(n, 0, &gm))
        return LOOM_STATUS_INTERNAL;
    const ir_value *x = n->inputs[0];
    lower_copy(c, &step->body, lower_buf(c, n->outputs[0]), lower_buf(c, x),
               ir_shape_numel(&x->shape));
    if (gm.rows * gm.slice == 0)
        return LOOM_STATUS_OK;
    int v[2];
    loop_block *rb = lower_nest(c, &step->body, 1, &gm.rows, v);
    loop_index row = loop_idx_const(0);
    loop_idx_add(&row, v[0], 1);
    loop_expr *off = nd_offset(c, rb, n, &gm, row);
    loop_block *b = lower_nest(c, rb, 1, &gm.slice, v + 1);
    loop_index yi = loop_idx_const(0), ui = loop_idx_const(0);
    loop_idx_add(&yi, v[1], 1);
    yi.dyn = off;
    yi.dyn_coef = 1;
    loop_idx_add(&ui, v[0], gm.slice);
    loop_idx_add(&ui, v[1], 1);
    scatter_store(c, b, n, yi, ui);
    return LOOM_STATUS_OK;
}

/* ONNX ScatterElements-18: copy data, then over the indices' shape the
 * update lands at the same position with the axis coordinate replaced by
 * the (checked) index. */
loom_status lower_scatter_elements(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    int axis, r = x->shape.rank;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), r, &axis))
        return LOOM_STATUS_INTERNAL;
    lower_copy(c, &step->body, lower_buf(c, n->outputs[0]), lower_buf(c, x),
               ir_shape_numel(&x->shape));
    if (ir_shape_numel(&iv->shape) == 0)
        return LOOM_STATUS_OK;
    int64_t xs[IR_MAX_RANK], is[IR_MAX_RANK];
    ir_shape_strides(&x->shape, xs);
    ir_shape_strides(&iv->shape, is);
    int v[IR_MAX_RANK];
    loop_block *b = lower_nest(c, &step->body, r, iv->shape.dims, v);
    loop_index ii = loop_idx_const(0), yi = loop_idx_const(0);
    for (int i = 0; i < r; i++) {
        loop_idx_add(&ii, v[i], is[i]);
        if (i != axis)
            loop_idx_add(&yi, v[i], xs[i]);
    }
    yi.dyn = lower_index_in_range(c, b, loop_load(c->f, lower_buf(c, iv), ii),
                                  x->shape.dims[axis], true, iv);
    yi.dyn_coef = xs[axis];
    scatter_store(c, b, n, yi, ii);
    return LOOM_STATUS_OK;
}

/* ONNX OneHot-11 over the output: y = (wrap(index) == j) ? on : off with j
 * the axis coordinate; float indices are truncated. */
loom_status lower_one_hot(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *iv = n->inputs[0], *y = n->outputs[0];
    int axis, r = y->shape.rank;
    int64_t depth, is[IR_MAX_RANK], ys[IR_MAX_RANK];
    if (!ir_normalize_axis(ir_attr_int(n, "axis", -1), r, &axis) || !ir_onehot_depth(n, &depth))
        return LOOM_STATUS_INTERNAL;
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    ir_shape_strides(&iv->shape, is);
    ir_shape_strides(&y->shape, ys);
    int v[IR_MAX_RANK];
    loop_block *b = lower_nest(c, &step->body, r, y->shape.dims, v);
    loop_index ii = loop_idx_const(0), yi = loop_idx_const(0);
    for (int i = 0, k = 0; i < r; i++) {
        loop_idx_add(&yi, v[i], ys[i]);
        if (i != axis)
            loop_idx_add(&ii, v[i], is[k++]);
    }
    ir_dtype w = IR_DTYPE_I64;
    loop_expr *k = lower_bind(c, b, lower_as(c, w, loop_load(c->f, lower_buf(c, iv), ii)));
    k = lower_sel(c, lower_bin(c, LOOP_BINOP_LT, k, lower_int(c, w, 0)),
                  lower_bin(c, LOOP_BINOP_ADD, k, lower_int(c, w, depth)), k);
    loop_buf *vals = lower_buf(c, n->inputs[2]);
    loop_expr *hit = lower_bin(c, LOOP_BINOP_EQ, k, loop_var(c->f, v[axis]));
    loop_store(c->f, b, lower_buf(c, y), yi,
               lower_sel(c, hit, loop_load(c->f, vals, loop_idx_const(1)),
                         loop_load(c->f, vals, loop_idx_const(0))));
    return LOOM_STATUS_OK;
}

/* ---- TopK ---- */

/* True (bool) when kept value a ranks before the new value v: NaN ranks
 * above every number and, a having the lower index, a tie goes to a. */
static loop_expr *ranks_before(lower_ctx *c, bool largest, loop_expr *a, loop_expr *v)
{
    loop_expr *cmp = lower_bin(c, largest ? LOOP_BINOP_GE : LOOP_BINOP_LE, a, v);
    if (!is_float(v->dtype))
        return cmp;
    loop_expr *nan = largest ? lower_bin(c, LOOP_BINOP_NE, a, a) : lower_bin(c, LOOP_BINOP_NE, v, v);
    return lower_bin(c, LOOP_BINOP_OR, cmp, nan);
}

/* The TopK slice being built: outputs Y (values) and I (indices) at
 * base + j * inner for j < k. */
typedef struct topk_slice {
    loop_buf *y, *ix;
    loop_index base;
    int64_t k, inner;
} topk_slice;

static loop_index topk_at(const topk_slice *s, int var, int64_t coef, int64_t offset)
{
    loop_index at = s->base;
    if (var >= 0)
        loop_idx_add(&at, var, coef * s->inner);
    at.offset += offset * s->inner;
    return at;
}

/* Inserts element e (value v) into the sorted slice: p counts the kept
 * entries (j < e) that rank before it; when p < k, entries p..k-2 move
 * up one and v goes to p. */
static void topk_insert(lower_ctx *c, loop_block *b, const topk_slice *s, bool largest, int e,
                        loop_expr *v)
{
    loop_func *f = c->f;
    ir_dtype w = IR_DTYPE_I64;
    int p = loop_local_new(f, w), j;
    loop_set(f, b, p, lower_int(c, w, 0));
    loop_block *cb = lower_nest(c, b, 1, &s->k, &j);
    loop_expr *a = lower_bind(c, cb, loop_load(f, s->y, topk_at(s, j, 1, 0)));
    loop_expr *before = lower_bin(c, LOOP_BINOP_AND,
                                  lower_bin(c, LOOP_BINOP_LT, loop_var(f, j), loop_var(f, e)),
                                  ranks_before(c, largest, a, v));
    loop_set(f, cb, p, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(f, p),
                                 lower_sel(c, before, lower_int(c, w, 1), lower_int(c, w, 0))));
    loop_block *ib = &loop_if(f, b, lower_bin(c, LOOP_BINOP_LT, loop_local_read(f, p),
                                              lower_int(c, w, s->k)))->body;
    if (s->k > 1) { /* for jj < k-1: j = k-1-jj moves from j-1 when j > p */
        int jj;
        loop_block *sb = lower_nest(c, ib, 1, (int64_t[]){s->k - 1}, &jj);
        loop_expr *jv = lower_bin(c, LOOP_BINOP_SUB, lower_int(c, w, s->k - 1), loop_var(f, jj));
        loop_block *mb = &loop_if(f, sb, lower_bin(c, LOOP_BINOP_GT, jv, loop_local_read(f, p)))->body;
        loop_store(f, mb, s->y, topk_at(s, jj, -1, s->k - 1), loop_load(f, s->y, topk_at(s, jj, -1, s->k - 2)));
        loop_store(f, mb, s->ix, topk_at(s, jj, -1, s->k - 1), loop_load(f, s->ix, topk_at(s, jj, -1, s->k - 2)));
    }
    loop_index at = topk_at(s, -1, 0, 0);
    at.dyn = loop_local_read(f, p);
    at.dyn_coef = s->inner;
    loop_store(f, ib, s->y, at, v);
    loop_store(f, ib, s->ix, at, loop_var(f, e));
}

/* ONNX TopK-11 with a constant k: per slice along axis an insertion into
 * the k sorted outputs, O(len * k); ties go to the lower index and NaN
 * ranks above every number, as in the interpreter. sorted=0 returns the
 * sorted order too (ONNX leaves it unspecified). */
loom_status lower_top_k(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    int axis;
    int64_t k;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", -1), x->shape.rank, &axis) || !ir_topk_k(n, &k))
        return LOOM_STATUS_INTERNAL;
    int64_t len = x->shape.dims[axis], outer = 1, inner = 1;
    for (int i = 0; i < axis; i++)
        outer *= x->shape.dims[i];
    for (int i = axis + 1; i < x->shape.rank; i++)
        inner *= x->shape.dims[i];
    if (k == 0 || outer * inner == 0)
        return LOOM_STATUS_OK;
    int v[3];
    loop_block *b = lower_nest(c, &step->body, 3, (int64_t[]){outer, inner, len}, v);
    topk_slice s = {.y = lower_buf(c, n->outputs[0]), .ix = lower_buf(c, n->outputs[1]),
                    .base = loop_idx_const(0), .k = k, .inner = inner};
    loop_idx_add(&s.base, v[0], k * inner);
    loop_idx_add(&s.base, v[1], 1);
    loop_index xi = loop_idx_const(0);
    loop_idx_add(&xi, v[0], len * inner);
    loop_idx_add(&xi, v[1], 1);
    loop_idx_add(&xi, v[2], inner);
    loop_expr *val = lower_bind(c, b, loop_load(c->f, lower_buf(c, x), xi));
    topk_insert(c, b, &s, ir_attr_int(n, "largest", 1) != 0, v[2], val);
    return LOOM_STATUS_OK;
}

/* ---- Einsum ---- */

/* Index of operand k at the label loop variables var[]: each of its axes
 * steps with its label's variable (a repeated label adds up: diagonals);
 * broadcast axes do not move. */
static loop_index einsum_index(const ir_einsum_geom *e, const ir_value *v, int k, const int *var)
{
    int64_t st[IR_MAX_RANK];
    ir_shape_strides(&v->shape, st);
    loop_index idx = loop_idx_const(0);
    for (int i = 0; i < e->rank[k]; i++)
        if (!e->bcast[k][i] && v->shape.dims[i] > 1)
            loop_idx_add(&idx, var[e->label[k][i]], st[i]);
    return idx;
}

/* ONNX Einsum-12 as one loop nest: the output labels outside, a local
 * accumulating the product of the operands over the summed labels inside. */
loom_status lower_einsum(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_einsum_geom e;
    if (ir_einsum_geometry(c->g, n, &e, c->d))
        return LOOM_STATUS_INTERNAL;
    const ir_value *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    int var[IR_EINSUM_MAX_LABELS];
    loop_block *ob = lower_nest(c, &step->body, e.n_out, e.size, var);
    int acc = loop_local_new(c->f, y->dtype);
    loop_set(c->f, ob, acc, lower_num(c, y->dtype, 0));
    int64_t summed = 1;
    for (int l = e.n_out; l < e.n_labels; l++)
        summed *= e.size[l];
    if (summed > 0) {
        loop_block *ib = lower_nest(c, ob, e.n_labels - e.n_out, e.size + e.n_out, var + e.n_out);
        loop_expr *prod = NULL;
        for (int k = 0; k < n->n_inputs; k++) {
            const ir_value *v = n->inputs[k];
            loop_expr *x = loop_load(c->f, lower_buf(c, v), einsum_index(&e, v, k, var));
            prod = prod ? lower_bin(c, LOOP_BINOP_MUL, prod, x) : x;
        }
        loop_set(c->f, ib, acc, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, acc), prod));
    }
    loop_index yi = loop_idx_const(0);
    int64_t st[IR_MAX_RANK];
    ir_shape_strides(&y->shape, st);
    for (int l = 0; l < e.n_out; l++)
        loop_idx_add(&yi, var[l], st[l]);
    loop_store(c->f, ob, lower_buf(c, y), yi, loop_local_read(c->f, acc));
    return LOOM_STATUS_OK;
}

/* ---- ReverseSequence, MaxUnpool ---- */

/* ONNX ReverseSequence-10 over x's shape: the time coordinate t reads
 * len - 1 - t while t < len (len = sequence_lens[b], checked to lie in
 * [0, T]: LOOP_ERROR_SEQ_LEN, clamped unchecked). */
loom_status lower_reverse_sequence(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    int ba, ta, r = x->shape.rank;
    if (!ir_reverse_sequence_axes(n, &ba, &ta))
        return LOOM_STATUS_INTERNAL;
    if (ir_shape_numel(&x->shape) == 0)
        return LOOM_STATUS_OK;
    int64_t xs[IR_MAX_RANK], T = x->shape.dims[ta];
    ir_shape_strides(&x->shape, xs);
    int v[IR_MAX_RANK];
    loop_block *b = lower_nest(c, &step->body, r, x->shape.dims, v);
    loop_index yi = loop_idx_const(0), li = loop_idx_const(0);
    for (int i = 0; i < r; i++)
        loop_idx_add(&yi, v[i], xs[i]);
    loop_idx_add(&li, v[ba], 1);
    ir_dtype w = IR_DTYPE_I64;
    loop_expr *len = lower_bind(c, b, loop_load(c->f, lower_buf(c, n->inputs[1]), li));
    if (c->checked) {
        loop_expr *ok = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GE, len, lower_int(c, w, 0)),
                                  lower_bin(c, LOOP_BINOP_LE, len, lower_int(c, w, T)));
        loop_check(c->f, b, ok, LOOP_ERROR_SEQ_LEN);
    } else {
        len = lower_bind(c, b, lower_bin(c, LOOP_BINOP_MIN, lower_bin(c, LOOP_BINOP_MAX, len, lower_int(c, w, 0)),
                                         lower_int(c, w, T)));
    }
    loop_expr *t = loop_var(c->f, v[ta]);
    loop_expr *shift = lower_sel(c, lower_bin(c, LOOP_BINOP_LT, t, len),
                                 lower_bin(c, LOOP_BINOP_SUB, lower_bin(c, LOOP_BINOP_SUB, len, lower_int(c, w, 1)),
                                           lower_bin(c, LOOP_BINOP_MUL, t, lower_int(c, w, 2))),
                                 lower_int(c, w, 0));
    loop_index xi = yi;
    xi.dyn = shift;
    xi.dyn_coef = xs[ta];
    loop_store(c->f, b, lower_buf(c, n->outputs[0]), yi, loop_load(c->f, lower_buf(c, x), xi));
    return LOOM_STATUS_OK;
}

/* The offset in y (shape ys) of flat index k of shape inf: sum over dims
 * of (k / stride_inf % dim_inf) * stride_y. */
static loop_expr *unpool_offset(lower_ctx *c, loop_block *b, loop_expr *k, const ir_shape *inf,
                                const ir_shape *ys)
{
    int64_t is[IR_MAX_RANK], os[IR_MAX_RANK];
    ir_shape_strides(inf, is);
    ir_shape_strides(ys, os);
    ir_dtype w = IR_DTYPE_I64;
    loop_expr *off = lower_int(c, w, 0);
    for (int i = 0; i < inf->rank; i++) {
        loop_expr *q = lower_bin(c, LOOP_BINOP_REM, lower_bin(c, LOOP_BINOP_DIV, k, lower_int(c, w, is[i])),
                                 lower_int(c, w, inf->dims[i]));
        off = lower_bin(c, LOOP_BINOP_ADD, off, lower_bin(c, LOOP_BINOP_MUL, q, lower_int(c, w, os[i])));
    }
    return lower_bind(c, b, off);
}

/* ONNX MaxUnpool-11: zero the output, then scatter x to the (checked)
 * indices, flat over the unpooled shape. */
loom_status lower_max_unpool(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t ny = ir_shape_numel(&y->shape), nx = ir_shape_numel(&x->shape);
    loop_buf *yb = lower_buf(c, y);
    int v;
    loop_block *zb = lower_nest(c, &step->body, 1, &ny, &v);
    loop_index zi = loop_idx_const(0);
    loop_idx_add(&zi, v, 1);
    loop_store(c->f, zb, yb, zi, lower_num(c, y->dtype, 0));
    if (nx == 0)
        return LOOM_STATUS_OK;
    loop_block *b = lower_nest(c, &step->body, 1, &nx, &v);
    loop_index xi = loop_idx_const(0), yi = loop_idx_const(0);
    loop_idx_add(&xi, v, 1);
    ir_shape inf;
    if (!ir_max_unpool_inferred(n, &inf))
        return LOOM_STATUS_INTERNAL;
    loop_expr *k = lower_index_in_range(c, b, loop_load(c->f, lower_buf(c, n->inputs[1]), xi),
                                        ir_shape_numel(&inf), false, n->inputs[1]);
    yi.dyn = k;
    yi.dyn_coef = 1;
    if (!ir_shape_equal(&inf, &y->shape)) /* k's coordinates, placed in y */
        yi.dyn = unpool_offset(c, b, k, &inf, &y->shape);
    loop_store(c->f, b, yb, yi, loop_load(c->f, lower_buf(c, x), xi));
    return LOOM_STATUS_OK;
}
