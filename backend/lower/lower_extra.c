/*
 * Lowering of the ops of ir_infer_extra.c (semantics: ir/interp/interp_extra.c).
 *
 *   - Elementwise (Min/Max/Sum/Mean, Mod, Not/And/Or/Xor, IsNaN/IsInf,
 *     unary math and activations): one loop nest over the output, a
 *     single flat loop when no operand broadcasts; one-element constants
 *     become literals.
 *   - Data movement (Tile, Pad, GatherElements, Trilu): strided copies whose
 *     indices are affine in the loop variables. Tile walks [repeat, dim]
 *     pairs; Pad splits every padded dim into its begin / middle / end runs,
 *     each with an affine source (edge: a fixed row, reflect and wrap: a
 *     mirrored or shifted one), padding one dim per pass; Trilu selects
 *     with a compare of loop variables. GatherElements loads the index into
 *     a local, wraps negatives and CLAMPS it into the axis (compiled code
 *     never reads out of bounds; the interpreter reports such an index).
 *   - ConstantOfShape and Range (constant inputs, normally folded before
 *     lowering) store their values in a loop.
 * Integer Mod follows lower_elementwise.c's conventions: division by zero
 * gives 0 instead of the interpreter's error, and no C expression
 * overflows.
 */
#include <math.h>
#include <string.h>

#include "ir_infer_extra.h"
#include "lower_internal.h"

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Element i of constant data p of dtype t as a literal. */
static loop_expr *literal(lower_ctx *c, ir_dtype t, const void *p, int64_t i)
{
    if (is_float(t))
        return loop_const_f(c->f, t, t == IR_DTYPE_F32 ? ((const float *)p)[i]
                                                       : ((const double *)p)[i]);
    int64_t v = 0;
    switch (t) {
    case IR_DTYPE_I64: v = ((const int64_t *)p)[i]; break;
    case IR_DTYPE_I32: v = ((const int32_t *)p)[i]; break;
    case IR_DTYPE_I8: v = ((const int8_t *)p)[i]; break;
    case IR_DTYPE_BOOL: v = ((const uint8_t *)p)[i] != 0; break;
    default: v = ((const uint8_t *)p)[i]; break;
    }
    return lower_int(c, t, v);
}

/* The element of v at idx: a literal for a one-element constant, else a
 * load. */
static loop_expr *operand(lower_ctx *c, const ir_value *v, loop_index idx)
{
    if (v->data && ir_shape_numel(&v->shape) == 1)
        return literal(c, v->dtype, v->data, 0);
    return loop_load(c->f, lower_buf(c, v), idx);
}

/* ---- elementwise loop nests ---- */

/* A loop nest over an output shape: one flat loop when every operand has
 * the output's shape (or one element), else one loop per dim. */
typedef struct nest {
    loop_block *body;
    const ir_shape *out;
    bool flat;
    int vars[IR_MAX_RANK];
} nest;

static nest open_nest(lower_ctx *c, loop_block *b, const ir_node *n, const ir_shape *out)
{
    nest e = {.out = out, .flat = true};
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_shape *s = &n->inputs[i]->shape;
        if (!ir_shape_equal(s, out) && ir_shape_numel(s) != 1)
            e.flat = false;
    }
    if (e.flat) {
        int64_t total = ir_shape_numel(out);
        e.body = lower_nest(c, b, 1, &total, e.vars);
    } else {
        e.body = lower_nest(c, b, out->rank, out->dims, e.vars);
    }
    return e;
}

/* Element index of an operand of shape s (broadcast to the output). */
static loop_index nest_index(const nest *e, const ir_shape *s)
{
    loop_index idx = loop_idx_const(0);
    if (!e->flat)
        return lower_bcast_index(s, e->out, e->vars);
    if (ir_shape_numel(s) != 1)
        loop_idx_add(&idx, e->vars[0], 1);
    return idx;
}

static loop_expr *nest_operand(lower_ctx *c, const nest *e, const ir_value *v)
{
    return operand(c, v, nest_index(e, &v->shape));
}

/* ---- ConstantOfShape, Range ---- */

/* ONNX ConstantOfShape-20: the value tensor's element (default f32 0). */
loom_status lower_constant_of_shape(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    int64_t total = ir_shape_numel(&y->shape);
    if (total == 0)
        return LOOM_STATUS_OK;
    ir_attr *a = ir_node_find_attr(n, "value");
    loop_expr *v = a ? literal(c, y->dtype, a->u.tensor->data, 0) : lower_num(c, y->dtype, 0);
    int var;
    loop_block *body = lower_nest(c, &step->body, 1, &total, &var);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, var, 1);
    loop_store(c->f, body, lower_buf(c, y), idx, v);
    return LOOM_STATUS_OK;
}

/* ONNX Range-11: out[i] = start + i * delta (inputs constant, inference
 * requires it); integer ranges whose terms could overflow are refused. */
loom_status lower_range(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    ir_dtype t = y->dtype;
    int64_t count = ir_shape_numel(&y->shape);
    if (count == 0)
        return LOOM_STATUS_OK;
    const ir_value *s = n->inputs[0], *dl = n->inputs[2];
    if (!s->data || !dl->data) {
        ir_diag_node(c->d, c->g, n, "start and delta must be constant");
        return LOOM_STATUS_INTERNAL;
    }
    if (!is_float(t)) {
        double last = (double)(t == IR_DTYPE_I64 ? *(const int64_t *)s->data
                                                 : *(const int32_t *)s->data) +
                      (double)(count - 1) * (double)(t == IR_DTYPE_I64 ? *(const int64_t *)dl->data
                                                                       : *(const int32_t *)dl->data);
        if (fabs(last) >= 0x1p62) {
            ir_diag_node(c->d, c->g, n, "range terms near the i64 limits are not lowered");
            return LOOM_STATUS_UNSUPPORTED;
        }
    }
    int var;
    loop_block *body = lower_nest(c, &step->body, 1, &count, &var);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, var, 1);
    ir_dtype w = is_float(t) ? t : IR_DTYPE_I64;
    loop_expr *i = lower_as(c, w, loop_var(c->f, var));
    loop_expr *v = lower_bin(c, LOOP_BINOP_ADD, lower_as(c, w, literal(c, t, s->data, 0)),
                       lower_bin(c, LOOP_BINOP_MUL, i, lower_as(c, w, literal(c, t, dl->data, 0))));
    loop_store(c->f, body, lower_buf(c, y), idx, lower_as(c, t, v));
    return LOOM_STATUS_OK;
}

/* ---- strided copies (Tile, Pad) ---- */

/* ONNX Tile-13: loops over (repeat r_i, index j_i) pairs per dim; the
 * output index is sum (r_i * n_i + j_i) * ostride_i, the input's
 * sum j_i * istride_i. */
loom_status lower_tile(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t rep[IR_MAX_RANK], xs[IR_MAX_RANK], ys[IR_MAX_RANK];
    if (!ir_tile_repeats(n, rep)) {
        ir_diag_node(c->d, c->g, n, "repeats are not constant");
        return LOOM_STATUS_INTERNAL;
    }
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    ir_shape_strides(&x->shape, xs);
    ir_shape_strides(&y->shape, ys);
    lower_strided s = {.rank = 2 * x->shape.rank};
    for (int i = 0; i < x->shape.rank; i++) {
        s.dims[2 * i] = rep[i];
        s.dst[2 * i] = x->shape.dims[i] * ys[i];
        s.src[2 * i] = 0;
        s.dims[2 * i + 1] = x->shape.dims[i];
        s.dst[2 * i + 1] = ys[i];
        s.src[2 * i + 1] = xs[i];
    }
    lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    return LOOM_STATUS_OK;
}

/* A strided copy over all of shape `in` into itself (identity strides),
 * to be narrowed per run. */
static lower_strided dense(const ir_shape *sh)
{
    lower_strided s = {.rank = sh->rank};
    memcpy(s.dims, sh->dims, sizeof sh->dims);
    ir_shape_strides(sh, s.dst);
    ir_shape_strides(sh, s.src);
    return s;
}

/* Pads dim k of src (shape in) into dst (shape out, in with dim k padded)
 * in edge / reflect / wrap mode: the begin run, the middle and the end run,
 * each an affine copy. Pads that crop shrink the middle run. */
static void pad_one_dim(lower_ctx *c, loop_block *b, const ir_pad_geom *geom, int k,
                        const ir_shape *in, const ir_shape *out, loop_buf *dst, loop_buf *src)
{
    int64_t len = in->dims[k], pb = geom->begin[k], pe = geom->end[k];
    int64_t is[IR_MAX_RANK], os[IR_MAX_RANK];
    ir_shape_strides(in, is);
    ir_shape_strides(out, os);
    lower_strided s = dense(in);
    memcpy(s.dst, os, sizeof os);
    /* middle: out o in [max(pb,0), ...) reads in o - pb */
    int64_t skip = pb < 0 ? -pb : 0, keep = len - skip - (pe < 0 ? -pe : 0);
    lower_strided m = s;
    m.dims[k] = keep;
    m.src_base = skip * is[k];
    m.dst_base = (pb > 0 ? pb : 0) * os[k];
    lower_strided_copy(c, b, dst, src, m);
    for (int side = 0; side < 2; side++) {
        int64_t p = side == 0 ? pb : pe;
        if (p <= 0)
            continue;
        lower_strided r = s;
        r.dims[k] = p;
        int64_t o0 = side == 0 ? 0 : out->dims[k] - p; /* first output index of the run */
        int64_t i0 = ir_pad_source(geom->mode, o0, pb, len);
        int64_t step = geom->mode == IR_PAD_EDGE ? 0 : geom->mode == IR_PAD_REFLECT ? -1 : 1;
        r.dst_base = o0 * os[k];
        r.src_base = i0 * is[k];
        r.src[k] = step * is[k];
        lower_strided_copy(c, b, dst, src, r);
    }
}

/* Constant mode: fill the output, then copy the kept part of the input. */
static void pad_constant(lower_ctx *c, loop_block *b, const ir_node *n, const ir_pad_geom *geom)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    loop_buf *yb = lower_buf(c, y);
    loop_expr *fill = geom->value_input ? operand(c, geom->value_input, loop_idx_const(0))
                                        : lower_num(c, y->dtype, geom->value);
    int64_t total = ir_shape_numel(&y->shape);
    int var;
    loop_block *body = lower_nest(c, b, 1, &total, &var);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, var, 1);
    loop_store(c->f, body, yb, idx, fill);
    int64_t ys[IR_MAX_RANK];
    ir_shape_strides(&y->shape, ys);
    lower_strided s = dense(&x->shape);
    memcpy(s.dst, ys, sizeof ys);
    for (int i = 0; i < geom->rank; i++) {
        int64_t pb = geom->begin[i], pe = geom->end[i];
        int64_t skip = pb < 0 ? -pb : 0;
        s.dims[i] = x->shape.dims[i] - skip - (pe < 0 ? -pe : 0);
        s.src_base += skip * s.src[i];
        s.dst_base += (pb > 0 ? pb : 0) * ys[i];
    }
    lower_strided_copy(c, b, yb, lower_buf(c, x), s);
}

/* ONNX Pad-19 (and Pad-2): constant mode in one fill and one copy; edge,
 * reflect and wrap one padded dim at a time through scratch buffers. */
loom_status lower_pad(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_pad_geom geom;
    loom_status st = ir_pad_geometry(c->g, n, &geom, c->d);
    if (st)
        return st;
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    if (geom.mode == IR_PAD_CONSTANT || ir_shape_numel(&x->shape) == 0) {
        pad_constant(c, &step->body, n, &geom);
        return LOOM_STATUS_OK;
    }
    int last = -1;
    for (int i = 0; i < geom.rank; i++)
        if (geom.begin[i] || geom.end[i])
            last = i;
    if (last < 0) {
        lower_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), ir_shape_numel(&y->shape));
        return LOOM_STATUS_OK;
    }
    ir_shape cur = x->shape;
    loop_buf *src = lower_buf(c, x);
    for (int i = 0; i <= last; i++) {
        if (!geom.begin[i] && !geom.end[i])
            continue;
        ir_shape next = cur;
        next.dims[i] += geom.begin[i] + geom.end[i];
        loop_buf *dst = i == last ? lower_buf(c, y)
                                  : lower_scratch(c, y->name, y->dtype, ir_shape_numel(&next));
        pad_one_dim(c, &step->body, &geom, i, &cur, &next, dst, src);
        cur = next;
        src = dst;
    }
    return LOOM_STATUS_OK;
}

/* ---- Trilu, GatherElements ---- */

/* ONNX Trilu-14: y = keep ? x : 0 with keep = (j - i >= k) for upper, else
 * (j - i <= k), over [batch, rows, cols]; a runtime k is loaded once. */
loom_status lower_trilu(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t total = ir_shape_numel(&x->shape);
    if (total == 0)
        return LOOM_STATUS_OK;
    int r = x->shape.rank;
    int64_t dims[3] = {0, x->shape.dims[r - 2], x->shape.dims[r - 1]}, k;
    dims[0] = total / (dims[1] * dims[2]);
    ir_dtype w = IR_DTYPE_I64;
    loop_expr *ke;
    if (ir_trilu_k(n, &k))
        ke = lower_int(c, w, k);
    else
        ke = lower_bind(c, &step->body, loop_load(c->f, lower_buf(c, n->inputs[1]), loop_idx_const(0)));
    int v[3];
    bool batched = dims[0] > 1; /* no loop of extent 1 */
    loop_block *body = lower_nest(c, &step->body, batched ? 3 : 2, dims + !batched, v + !batched);
    loop_index idx = loop_idx_const(0);
    if (batched)
        loop_idx_add(&idx, v[0], dims[1] * dims[2]);
    loop_idx_add(&idx, v[1], dims[2]);
    loop_idx_add(&idx, v[2], 1);
    loop_expr *diff = lower_bin(c, LOOP_BINOP_SUB, loop_var(c->f, v[2]), loop_var(c->f, v[1]));
    bool upper = ir_attr_int(n, "upper", 1) != 0;
    loop_expr *keep = lower_bin(c, upper ? LOOP_BINOP_GE : LOOP_BINOP_LE, diff, ke);
    loop_expr *val = lower_sel(c, keep, loop_load(c->f, lower_buf(c, x), idx), lower_num(c, x->dtype, 0));
    loop_store(c->f, body, lower_buf(c, y), idx, val);
    return LOOM_STATUS_OK;
}

/* ONNX GatherElements-13 over the indices' shape: the index is loaded,
 * wrapped, checked to lie in [0, dim) (lower_index_in_range), and becomes
 * the data-dependent term of the load (stride of the axis); the other dims
 * are affine. */
loom_status lower_gather_elements(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1], *y = n->outputs[0];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis))
        return LOOM_STATUS_INTERNAL;
    if (ir_shape_numel(&iv->shape) == 0)
        return LOOM_STATUS_OK;
    int64_t dim = x->shape.dims[axis], xs[IR_MAX_RANK], ys[IR_MAX_RANK];
    ir_shape_strides(&x->shape, xs);
    ir_shape_strides(&iv->shape, ys);
    int v[IR_MAX_RANK];
    loop_block *b = lower_nest(c, &step->body, iv->shape.rank, iv->shape.dims, v);
    loop_index oi = loop_idx_const(0), si = loop_idx_const(0);
    for (int i = 0; i < iv->shape.rank; i++) {
        loop_idx_add(&oi, v[i], ys[i]);
        if (i != axis)
            loop_idx_add(&si, v[i], xs[i]);
    }
    loop_expr *k = lower_index_in_range(c, b, loop_load(c->f, lower_buf(c, iv), oi), dim, true, iv);
    si.dyn = k;
    si.dyn_coef = xs[axis];
    loop_store(c->f, b, lower_buf(c, y), oi, loop_load(c->f, lower_buf(c, x), si));
    return LOOM_STATUS_OK;
}

/* ---- broadcasting elementwise ---- */

/* acc folded with v for Min/Max/Sum/Mean. Float Min/Max propagate NaN like
 * the interpreter: v replaces acc when it is smaller (larger) or NaN, and
 * a NaN acc is never replaced (no comparison with it is true). */
static loop_expr *fold_step(lower_ctx *c, ir_op op, loop_expr *acc, loop_expr *v)
{
    if (op == IR_OP_SUM || op == IR_OP_MEAN)
        return lower_bin(c, LOOP_BINOP_ADD, acc, v);
    loop_expr *take = lower_bin(c, op == IR_OP_MIN ? LOOP_BINOP_LT : LOOP_BINOP_GT, v, acc);
    if (is_float(v->dtype))
        take = lower_bin(c, LOOP_BINOP_OR, take, lower_bin(c, LOOP_BINOP_NE, v, v));
    return lower_sel(c, take, v, acc);
}

/* ONNX Min/Max/Sum/Mean-13: a chain through a local over the inputs. */
loom_status lower_variadic(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    switch (n->op) {
    case IR_OP_MIN: case IR_OP_MAX: case IR_OP_SUM: case IR_OP_MEAN: break;
    default: return lower_no_case(c, n);
    }
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *acc = nest_operand(c, &e, n->inputs[0]);
    for (int i = 1; i < n->n_inputs; i++)
        acc = lower_bind(c, e.body, fold_step(c, n->op, lower_bind(c, e.body, acc),
                                        lower_bind(c, e.body, nest_operand(c, &e, n->inputs[i]))));
    if (n->op == IR_OP_MEAN)
        acc = lower_bin(c, LOOP_BINOP_DIV, acc, lower_num(c, y->dtype, n->n_inputs));
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), acc);
    return LOOM_STATUS_OK;
}

/* Integer a mod b in i64 (fmod=0: the divisor's sign; fmod=1: C's %). A
 * zero divisor is a data error (lower_check_divisor); the divisor is also
 * replaced by 1 where it is 0 or -1 (x % -1 is 0, and C's INT64_MIN % -1
 * is undefined), so unchecked a division by zero gives 0. */
static loop_expr *int_mod(lower_ctx *c, loop_block *b, loop_expr *a, loop_expr *m, bool fmod)
{
    ir_dtype w = IR_DTYPE_I64;
    a = lower_bind(c, b, lower_as(c, w, a));
    m = lower_bind(c, b, lower_as(c, w, m));
    lower_check_divisor(c, b, m);
    loop_expr *zero = lower_int(c, w, 0);
    loop_expr *bad = lower_bin(c, LOOP_BINOP_OR, lower_bin(c, LOOP_BINOP_EQ, m, zero),
                         lower_bin(c, LOOP_BINOP_EQ, m, lower_int(c, w, -1)));
    loop_expr *r = lower_bind(c, b, lower_bin(c, LOOP_BINOP_REM, a, lower_sel(c, bad, lower_int(c, w, 1), m)));
    if (!fmod) {
        loop_expr *flip = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_NE, r, zero),
                              lower_bin(c, LOOP_BINOP_NE, lower_bin(c, LOOP_BINOP_LT, r, zero),
                                  lower_bin(c, LOOP_BINOP_LT, m, zero)));
        r = lower_sel(c, flip, lower_bin(c, LOOP_BINOP_ADD, r, m), r);
    }
    return r;
}

/* ONNX Mod-13: fmod for floats (C fmod), int_mod for integers. */
loom_status lower_mod(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *x = nest_operand(c, &e, a), *m = nest_operand(c, &e, b), *r;
    if (is_float(y->dtype))
        r = lower_bin(c, LOOP_BINOP_REM, x, m);
    else
        r = lower_as(c, y->dtype, int_mod(c, e.body, x, m, ir_attr_int(n, "fmod", 0) != 0));
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), r);
    return LOOM_STATUS_OK;
}

/* ONNX PRelu-16: select(x < 0, slope * x, x), slope broadcast. */
loom_status lower_prelu(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *x = lower_bind(c, e.body, nest_operand(c, &e, n->inputs[0]));
    loop_expr *s = nest_operand(c, &e, n->inputs[1]);
    loop_expr *r = lower_sel(c, lower_bin(c, LOOP_BINOP_LT, x, lower_num(c, y->dtype, 0)),
                       lower_bin(c, LOOP_BINOP_MUL, s, x), x);
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), r);
    return LOOM_STATUS_OK;
}

/* ONNX Not-1, And/Or/Xor-7 (Xor is !=) on bool. */
loom_status lower_logical(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *a = nest_operand(c, &e, n->inputs[0]), *r;
    switch (n->op) {
    case IR_OP_NOT: r = lower_un(c, LOOP_UNOP_NOT, a); break;
    case IR_OP_AND: r = lower_bin(c, LOOP_BINOP_AND, a, nest_operand(c, &e, n->inputs[1])); break;
    case IR_OP_OR: r = lower_bin(c, LOOP_BINOP_OR, a, nest_operand(c, &e, n->inputs[1])); break;
    case IR_OP_XOR: r = lower_bin(c, LOOP_BINOP_NE, a, nest_operand(c, &e, n->inputs[1])); break;
    default: return lower_no_case(c, n);
    }
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), r);
    return LOOM_STATUS_OK;
}

/* ---- unary ---- */

/* ONNX IsNaN-20 (x != x) and IsInf-20 (x == +inf when detect_positive,
 * x == -inf when detect_negative). */
loom_status lower_is_nan_inf(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    if (n->op != IR_OP_IS_NAN && n->op != IR_OP_IS_INF)
        return lower_no_case(c, n);
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *v = lower_bind(c, e.body, nest_operand(c, &e, x)), *r;
    ir_dtype t = x->dtype;
    if (n->op == IR_OP_IS_NAN) {
        r = lower_bin(c, LOOP_BINOP_NE, v, v);
    } else {
        bool pos = ir_attr_int(n, "detect_positive", 1) != 0;
        bool neg = ir_attr_int(n, "detect_negative", 1) != 0;
        loop_expr *p = lower_bin(c, LOOP_BINOP_EQ, v, lower_num(c, t, INFINITY));
        loop_expr *m = lower_bin(c, LOOP_BINOP_EQ, v, lower_num(c, t, -INFINITY));
        r = pos && neg ? lower_bin(c, LOOP_BINOP_OR, p, m) : pos ? p : neg ? m : lower_int(c, IR_DTYPE_BOOL, 0);
    }
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), r);
    return LOOM_STATUS_OK;
}

/* The loop unop of a unary math op, or LOOP_UNOP_COUNT. */
static loop_unop math_unop(ir_op op)
{
    switch (op) {
    case IR_OP_SIN: return LOOP_UNOP_SIN;
    case IR_OP_COS: return LOOP_UNOP_COS;
    case IR_OP_TAN: return LOOP_UNOP_TAN;
    case IR_OP_ASIN: return LOOP_UNOP_ASIN;
    case IR_OP_ACOS: return LOOP_UNOP_ACOS;
    case IR_OP_ATAN: return LOOP_UNOP_ATAN;
    case IR_OP_SINH: return LOOP_UNOP_SINH;
    case IR_OP_COSH: return LOOP_UNOP_COSH;
    case IR_OP_ASINH: return LOOP_UNOP_ASINH;
    case IR_OP_ACOSH: return LOOP_UNOP_ACOSH;
    case IR_OP_ATANH: return LOOP_UNOP_ATANH;
    case IR_OP_FLOOR: return LOOP_UNOP_FLOOR;
    case IR_OP_CEIL: return LOOP_UNOP_CEIL;
    case IR_OP_ROUND: return LOOP_UNOP_ROUND;
    default: return LOOP_UNOP_COUNT;
    }
}

/* Activation op n of v (a bound local) as the interpreter computes it
 * (interp_extra.c activation_value); NULL for another op. */
static loop_expr *activation(lower_ctx *c, loop_block *b, const ir_node *n, loop_expr *v)
{
    ir_dtype t = v->dtype;
    double pa, pb;
    ir_unary_params(n, &pa, &pb);
    loop_expr *zero = lower_num(c, t, 0);
    switch (n->op) {
    case IR_OP_SOFTPLUS:
        /* x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)), as onnxruntime, in
         * the form max(x, 0) + log1p(exp(-|x|)): the same values bit for
         * bit, with one log1p call per element where a select of the two
         * arms would make LLVM compute both */
        return lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_MAX, v, zero),
                   lower_un(c, LOOP_UNOP_LOG1P,
                       lower_exp(c->f, lower_un(c, LOOP_UNOP_NEG, lower_un(c, LOOP_UNOP_ABS, v)))));
    case IR_OP_GELU: /* approximate="tanh" is the tanh form */
        return lower_act(c, b,
                         strcmp(ir_attr_string(n, "approximate", "none"), "tanh") == 0
                             ? IR_ACT_GELU_TANH : IR_ACT_GELU,
                         0, 0, v);
    case IR_OP_HARD_SWISH: return lower_act(c, b, IR_ACT_HARD_SWISH, 1.0 / 6.0, 0.5, v);
    case IR_OP_ELU:
        return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, v, zero),
                   lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, pa), lower_un(c, LOOP_UNOP_EXPM1, v)), v);
    case IR_OP_SELU:
        return lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, zero), lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, pb), v),
                   lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, pb * pa), lower_un(c, LOOP_UNOP_EXPM1, v)));
    case IR_OP_CELU: {
        loop_expr *e = lower_un(c, LOOP_UNOP_EXPM1, lower_bin(c, LOOP_BINOP_DIV, v, lower_num(c, t, pa)));
        return lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_MAX, v, zero),
                   lower_bin(c, LOOP_BINOP_MIN, zero, lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, pa), e)));
    }
    case IR_OP_THRESHOLDED_RELU: return lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, lower_num(c, t, pa)), v, zero);
    case IR_OP_SOFTSIGN:
        return lower_bin(c, LOOP_BINOP_DIV, v,
                   lower_bin(c, LOOP_BINOP_ADD, lower_num(c, t, 1), lower_un(c, LOOP_UNOP_ABS, v)));
    case IR_OP_SHRINK: /* bias pa, lambd pb */
        return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, v, lower_num(c, t, -pb)),
                   lower_bin(c, LOOP_BINOP_ADD, v, lower_num(c, t, pa)),
                   lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, lower_num(c, t, pb)),
                       lower_bin(c, LOOP_BINOP_SUB, v, lower_num(c, t, pa)), zero));
    case IR_OP_SIGN:
        return lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, zero), lower_num(c, t, 1),
                   lower_sel(c, lower_bin(c, LOOP_BINOP_LT, v, zero), lower_num(c, t, -1), zero));
    default: return NULL;
    }
}

/* The unary ops of ir_infer_unary_extra: trigonometric, hyperbolic and
 * rounding ops as one loop unop each, Sign and the activations as
 * selects (semantics: interp_extra.c). */
loom_status lower_unary_extra(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    nest e = open_nest(c, &step->body, n, &y->shape);
    loop_expr *v = lower_bind(c, e.body, nest_operand(c, &e, x)), *r;
    loop_unop u = math_unop(n->op);
    r = u != LOOP_UNOP_COUNT ? lower_un(c, u, v) : activation(c, e.body, n, v);
    if (!r) {
        ir_diag_node(c->d, c->g, n, "internal error: %s is not a unary op of this lowering",
                     ir_op_name(n->op));
        return LOOM_STATUS_INTERNAL;
    }
    loop_store(c->f, e.body, lower_buf(c, y), nest_index(&e, &y->shape), r);
    return LOOM_STATUS_OK;
}
