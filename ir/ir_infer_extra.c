/*
 * Shape inference for the ops today's exporters add to transformer and
 * CNN/GAN graphs: ConstantOfShape, Range, Trilu, Pad, Tile, GatherElements,
 * the variadic Min/Max/Sum/Mean, Mod, Not/And/Or/Xor, IsNaN/IsInf and the
 * unary math (trigonometric, hyperbolic, rounding, Sign) and activations.
 *
 * Shapes are static in loom, so the inputs an output shape depends on
 * (ConstantOfShape's shape, Range's bounds, Pad's pads, Tile's repeats) must
 * be constant by the time inference runs; the ONNX reader folds the shape
 * arithmetic that computes them. A runtime value there is reported as
 * unsupported. The geometry helpers of ir_infer_extra.h live here too.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir_infer_extra.h"
#include "loomrt.h"

#define DT(t) (1u << IR_DTYPE_##t)
#define DT_FLOAT (DT(F32) | DT(F64))
#define DT_INT (DT(I64) | DT(I32) | DT(I8) | DT(U8))
#define DT_NUMERIC (DT_FLOAT | DT_INT)
#define DT_ALL (DT_NUMERIC | DT(BOOL))

/* ---- helpers ---- */

/* Checks that present input i has a dtype in allowed. */
static loom_status check_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                               unsigned allowed)
{
    return ir_check_input_dtype(g, n, d, i, allowed);
}

/* Checks that present input i has input 0's dtype. */
static loom_status check_same_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i)
{
    const ir_value *a = n->inputs[0], *b = ir_input(n, i);
    if (b && b->dtype != a->dtype) {
        ir_diag_node(d, g, n, "input dtypes differ: %s (\"%s\") and %s (\"%s\")",
                     ir_dtype_name(a->dtype), a->name, ir_dtype_name(b->dtype), b->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Sets output i after checking that its size is representable. */
static loom_status set_output(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                              const ir_shape *s)
{
    return ir_set_output_checked(g, n, d, i, t, s);
}

/* Reports (when d) that the output shape needs input i's values, which are
 * only known at run time. */
static loom_status not_constant(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                const char *what)
{
    if (d)
        ir_diag_node(d, g, n,
                     "%s (input %d, \"%s\") is not a constant; loom needs it at compile time "
                     "because the output shape depends on it",
                     what, i, n->inputs[i]->name);
    return LOOM_STATUS_UNSUPPORTED;
}

/* Reads constant integer input i (rank <= 1, at most max values); returns
 * the count, or -1 after reporting. */
static int const_ints(const ir_graph *g, const ir_node *n, ir_diag *d, int i, const char *what,
                      int64_t *out, int max)
{
    const ir_value *v = n->inputs[i];
    if (v->dtype != IR_DTYPE_I64 && v->dtype != IR_DTYPE_I32) {
        if (d)
            ir_diag_node(d, g, n, "%s (\"%s\") has dtype %s, expected i64", what, v->name,
                         ir_dtype_name(v->dtype));
        return -1;
    }
    if (!v->data) {
        not_constant(g, n, d, i, what);
        return -1;
    }
    int k = ir_const_ints(v, out, max);
    if (k < 0 && d) {
        char buf[160];
        ir_shape_format(&v->shape, buf, sizeof buf);
        ir_diag_node(d, g, n, "%s (\"%s\") has shape %s, expected a 1-D tensor of at most %d "
                     "values", what, v->name, buf, max);
    }
    return k;
}

/* Numpy broadcast of all present inputs into *out. */
static loom_status broadcast_all(const ir_graph *g, const ir_node *n, ir_diag *d, ir_shape *out)
{
    *out = n->inputs[0]->shape;
    for (int i = 1; i < n->n_inputs; i++) {
        if (!n->inputs[i])
            continue;
        if (!ir_broadcast_shapes(out, &n->inputs[i]->shape, out)) {
            char a[160], b[160];
            ir_shape_format(out, a, sizeof a);
            ir_shape_format(&n->inputs[i]->shape, b, sizeof b);
            ir_diag_node(d, g, n, "cannot broadcast %s with %s (input %d)", a, b, i);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* ---- ConstantOfShape, Range ---- */

/* ONNX ConstantOfShape-20: a tensor of the shape given by the constant i64
 * input, filled with the one-element `value` tensor (default f32 0). */
loom_status ir_infer_constant_of_shape(ir_graph *g, ir_node *n, ir_diag *d)
{
    int64_t dims[IR_MAX_RANK + 1];
    const ir_value *sv = n->inputs[0];
    if (sv->dtype != IR_DTYPE_I64) {
        ir_diag_node(d, g, n, "input shape (\"%s\") has dtype %s, expected i64", sv->name,
                     ir_dtype_name(sv->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    int rank = const_ints(g, n, d, 0, "shape", dims, IR_MAX_RANK);
    if (rank < 0) /* not constant, or more dims than loom has */
        return sv->data && sv->shape.rank > 1 ? LOOM_STATUS_INVALID_MODEL
                                              : LOOM_STATUS_UNSUPPORTED;
    ir_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) {
            ir_diag_node(d, g, n, "shape has a negative dim %lld", (long long)dims[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        s.dims[i] = dims[i];
    }
    ir_dtype t = IR_DTYPE_F32;
    ir_attr *a = ir_node_find_attr(n, "value");
    if (a) {
        const ir_value *v = a->u.tensor;
        if (a->kind != IR_ATTR_TENSOR || !v || !v->data || ir_shape_numel(&v->shape) != 1) {
            ir_diag_node(d, g, n, "value must be a tensor of one element");
            return LOOM_STATUS_INVALID_MODEL;
        }
        t = v->dtype;
    }
    return set_output(g, n, d, 0, t, &s);
}

/* Element 0 of constant v as double. */
static double scalar_value(const ir_value *v)
{
    switch (v->dtype) {
    case IR_DTYPE_F32: return *(const float *)v->data;
    case IR_DTYPE_F64: return *(const double *)v->data;
    case IR_DTYPE_I64: return (double)*(const int64_t *)v->data;
    case IR_DTYPE_I32: return *(const int32_t *)v->data;
    case IR_DTYPE_I8: return *(const int8_t *)v->data;
    case IR_DTYPE_U8:
    case IR_DTYPE_BOOL: return *(const uint8_t *)v->data;
    case IR_DTYPE_F16: return loomrt_f16_to_f32(*(const uint16_t *)v->data);
    case IR_DTYPE_BF16: return loomrt_bf16_to_f32(*(const uint16_t *)v->data);
    case IR_DTYPE_COUNT: break;
    }
    return 0;
}

/* ONNX Range-11: [start, limit) in steps of delta, all three scalars of one
 * type; max(ceil((limit - start) / delta), 0) elements. f32 computes the
 * count in f32 like onnxruntime, the others in double. */
loom_status ir_infer_range(ir_graph *g, ir_node *n, ir_diag *d)
{
    static const char *const names[3] = {"start", "limit", "delta"};
    loom_status st = check_dtype(g, n, d, 0, DT_FLOAT | DT(I64) | DT(I32));
    for (int i = 0; i < 3 && !st; i++) {
        if (!st)
            st = check_same_dtype(g, n, d, i);
        if (!st && ir_shape_numel(&n->inputs[i]->shape) != 1) {
            ir_diag_node(d, g, n, "%s (\"%s\") must be a scalar", names[i], n->inputs[i]->name);
            st = LOOM_STATUS_INVALID_MODEL;
        }
        if (!st && !n->inputs[i]->data)
            st = not_constant(g, n, d, i, names[i]);
    }
    if (st)
        return st;
    double start = scalar_value(n->inputs[0]), limit = scalar_value(n->inputs[1]);
    double delta = scalar_value(n->inputs[2]);
    if (delta == 0 || isnan(delta) || isnan(start) || isnan(limit)) {
        ir_diag_node(d, g, n, "delta is 0 or a bound is NaN");
        return LOOM_STATUS_INVALID_MODEL;
    }
    double count = n->inputs[0]->dtype == IR_DTYPE_F32
                       ? ceil((double)(((float)limit - (float)start) / (float)delta))
                       : ceil((limit - start) / delta);
    if (!(count <= (double)INT32_MAX)) {
        ir_diag_node(d, g, n, "the range has too many elements (%g)", count);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s = {.rank = 1, .dims = {count > 0 ? (int64_t)count : 0}};
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &s);
}

/* ---- Trilu, Tile, GatherElements ---- */

bool ir_trilu_k(const ir_node *n, int64_t *k)
{
    const ir_value *kv = ir_input(n, 1);
    *k = 0;
    return !kv || ir_const_ints(kv, k, 1) == 1;
}

/* ONNX Trilu-14: keeps the upper (upper=1, default) or lower triangle of
 * the last two dims, shifted by the optional scalar i64 k. */
loom_status ir_infer_trilu(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *k = ir_input(n, 1);
    if (x->shape.rank < 2) {
        ir_diag_node(d, g, n, "input has rank %d, expected at least 2", x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (k && (k->dtype != IR_DTYPE_I64 || ir_shape_numel(&k->shape) != 1 || k->shape.rank > 1)) {
        ir_diag_node(d, g, n, "k (\"%s\") must be an i64 scalar", k->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t upper = ir_attr_int(n, "upper", 1);
    if (upper != 0 && upper != 1) {
        ir_diag_node(d, g, n, "upper is %lld, must be 0 or 1", (long long)upper);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, d, 0, x->dtype, &x->shape);
}

bool ir_tile_repeats(const ir_node *n, int64_t repeats[IR_MAX_RANK])
{
    return ir_const_ints(n->inputs[1], repeats, IR_MAX_RANK) == n->inputs[0]->shape.rank;
}

/* ONNX Tile-13: output dim i is input dim i times repeats[i] (constant i64,
 * one per dim, >= 0). */
loom_status ir_infer_tile(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int64_t rep[IR_MAX_RANK];
    int k = const_ints(g, n, d, 1, "repeats", rep, IR_MAX_RANK);
    if (k < 0)
        return n->inputs[1]->data ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    if (k != x->shape.rank) {
        ir_diag_node(d, g, n, "repeats has %d values, input has rank %d", k, x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s = x->shape;
    for (int i = 0; i < k; i++) {
        if (rep[i] < 0 || (x->shape.dims[i] && rep[i] > INT64_MAX / x->shape.dims[i])) {
            ir_diag_node(d, g, n, "repeats[%d] is %lld", i, (long long)rep[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        s.dims[i] *= rep[i];
    }
    return set_output(g, n, d, 0, x->dtype, &s);
}

/* Checks constant GatherElements indices against the axis length. */
static loom_status check_const_indices(const ir_graph *g, const ir_node *n, ir_diag *d,
                                       int64_t dim)
{
    const ir_value *iv = n->inputs[1];
    int64_t count = ir_shape_numel(&iv->shape);
    for (int64_t i = 0; iv->data && i < count; i++) {
        int64_t k = iv->dtype == IR_DTYPE_I64 ? ((const int64_t *)iv->data)[i]
                                              : ((const int32_t *)iv->data)[i];
        if (k < -dim || k >= dim) {
            ir_diag_node(d, g, n, "index %lld is out of range for an axis of %lld", (long long)k,
                         (long long)dim);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* ONNX GatherElements-13: indices (i32/i64) of data's rank pick elements
 * along axis; the output has the indices' shape. Other dims of indices may
 * not exceed data's (every element the output names exists). */
loom_status ir_infer_gather_elements(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    loom_status st = check_dtype(g, n, d, 1, DT(I64) | DT(I32));
    if (st)
        return st;
    int axis, r = x->shape.rank;
    if (r < 1 || iv->shape.rank != r) {
        ir_diag_node(d, g, n, "data has rank %d and indices rank %d; need the same rank >= 1", r,
                     iv->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), r, &axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for rank %d",
                     (long long)ir_attr_int(n, "axis", 0), r);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < r; i++)
        if (i != axis && iv->shape.dims[i] > x->shape.dims[i]) {
            ir_diag_node(d, g, n, "indices dim %d (%lld) exceeds data's (%lld)", i,
                         (long long)iv->shape.dims[i], (long long)x->shape.dims[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    if (ir_shape_numel(&iv->shape) > 0 && x->shape.dims[axis] == 0) {
        ir_diag_node(d, g, n, "gathers from an empty axis");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if ((st = check_const_indices(g, n, d, x->shape.dims[axis])))
        return st;
    return set_output(g, n, d, 0, x->dtype, &iv->shape);
}

/* ---- Pad ---- */

static bool pad_mode(const char *s, ir_pad_mode *m)
{
    static const char *const names[] = {"constant", "reflect", "edge", "wrap"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (ir_pad_mode)i;
            return true;
        }
    return false;
}

/* Reads the pads (attribute or constant input, with the Pad-18 axes input)
 * into geom->begin/end. */
static loom_status pad_amounts(const ir_graph *g, const ir_node *n, ir_pad_geom *geom,
                               ir_diag *d)
{
    int r = geom->rank;
    int64_t pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
    int np;
    const int64_t *ap;
    if (ir_input(n, 1)) {
        np = const_ints(g, n, d, 1, "pads", pads, 2 * IR_MAX_RANK);
        if (np < 0)
            return n->inputs[1]->data ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    } else {
        np = ir_attr_ints(n, "pads", &ap);
        for (int i = 0; i < np && i < 2 * IR_MAX_RANK; i++)
            pads[i] = ap[i];
    }
    int na = r;
    for (int i = 0; i < r; i++)
        axes[i] = i;
    if (ir_input(n, 3)) {
        na = const_ints(g, n, d, 3, "axes", axes, IR_MAX_RANK);
        if (na < 0)
            return n->inputs[3]->data ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    }
    if (np != 2 * na) {
        if (d)
            ir_diag_node(d, g, n, "pads has %d values, expected %d (begin and end of %d axes)",
                         np < 0 ? 0 : np, 2 * na, na);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < na; i++) {
        int ax;
        if (!ir_normalize_axis(axes[i], r, &ax)) {
            if (d)
                ir_diag_node(d, g, n, "axes[%d] = %lld is out of range for rank %d", i,
                             (long long)axes[i], r);
            return LOOM_STATUS_INVALID_MODEL;
        }
        geom->begin[ax] = pads[i];
        geom->end[ax] = pads[na + i];
    }
    return LOOM_STATUS_OK;
}

/* Checks the pads of one dim of size len against the mode. */
static loom_status pad_check_dim(const ir_graph *g, const ir_node *n, const ir_pad_geom *geom,
                                 int i, int64_t len, ir_diag *d)
{
    int64_t b = geom->begin[i], e = geom->end[i], out;
    bool overflow = __builtin_add_overflow(len, b, &out) || __builtin_add_overflow(out, e, &out);
    if (b < -len || e < -len || overflow || out < 0 || b > INT32_MAX || e > INT32_MAX) {
        if (d)
            ir_diag_node(d, g, n, "pads %lld, %lld of dim %d (size %lld) are out of range",
                         (long long)b, (long long)e, i, (long long)len);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (geom->mode == IR_PAD_CONSTANT || (b <= 0 && e <= 0))
        return LOOM_STATUS_OK;
    /* the source of a padded element must lie in the part that is kept */
    int64_t lim = geom->mode == IR_PAD_REFLECT ? len - 1 : len;
    if (len == 0 || b > lim || e > lim) {
        if (d)
            ir_diag_node(d, g, n,
                         "pads %lld, %lld of dim %d (size %lld) are larger than %s mode "
                         "can fill from the input (at most %lld)",
                         (long long)b, (long long)e, i, (long long)len,
                         geom->mode == IR_PAD_REFLECT ? "reflect"
                         : geom->mode == IR_PAD_EDGE  ? "edge"
                                                      : "wrap",
                         (long long)(len ? lim : 0));
        return len == 0 ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    }
    if ((b < 0 || e < 0) && geom->mode != IR_PAD_EDGE) {
        if (d)
            ir_diag_node(d, g, n, "dim %d both crops and pads in %s mode", i,
                         geom->mode == IR_PAD_REFLECT ? "reflect" : "wrap");
        return LOOM_STATUS_UNSUPPORTED;
    }
    return LOOM_STATUS_OK;
}

loom_status ir_pad_geometry(const ir_graph *g, const ir_node *n, ir_pad_geom *geom, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *cv = ir_input(n, 2);
    *geom = (ir_pad_geom){.rank = x->shape.rank};
    const char *mode = ir_attr_string(n, "mode", "constant");
    if (!pad_mode(mode, &geom->mode)) {
        if (d)
            ir_diag_node(d, g, n, "mode \"%s\" is not one of constant, reflect, edge, wrap", mode);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (ir_input(n, 1) && ir_node_find_attr(n, "pads")) {
        if (d)
            ir_diag_node(d, g, n, "pads given both as an attribute (Pad-2) and an input");
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = pad_amounts(g, n, geom, d);
    for (int i = 0; i < geom->rank && !st; i++)
        st = pad_check_dim(g, n, geom, i, x->shape.dims[i], d);
    if (st)
        return st;
    geom->value = ir_attr_float(n, "value", 0.0f);
    if (cv && ir_shape_numel(&cv->shape) == 1) { /* an empty one means 0 */
        geom->value_input = cv;
        if (cv->data)
            geom->value = scalar_value(cv);
    }
    return LOOM_STATUS_OK;
}

/* ONNX Pad-19 (constant, reflect, edge, wrap; pads and axes as constant
 * inputs) and Pad-2 (pads and value attributes). */
loom_status ir_infer_pad(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *cv = ir_input(n, 2);
    if (cv) {
        loom_status st = check_same_dtype(g, n, d, 2);
        if (st)
            return st;
        if (ir_shape_numel(&cv->shape) > 1) {
            ir_diag_node(d, g, n, "constant_value (\"%s\") must be a scalar", cv->name);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    ir_pad_geom geom;
    loom_status st = ir_pad_geometry(g, n, &geom, d);
    if (st)
        return st;
    ir_shape s = x->shape;
    for (int i = 0; i < s.rank; i++)
        s.dims[i] += geom.begin[i] + geom.end[i];
    return set_output(g, n, d, 0, x->dtype, &s);
}

/* ---- elementwise ---- */

/* ONNX Min/Max-13 (numeric), Sum/Mean-13 (float): one or more inputs of one
 * dtype, broadcast together. */
loom_status ir_infer_variadic(ir_graph *g, ir_node *n, ir_diag *d)
{
    bool minmax = n->op == IR_OP_MIN || n->op == IR_OP_MAX;
    loom_status st = check_dtype(g, n, d, 0, minmax ? DT_NUMERIC : DT_FLOAT);
    for (int i = 0; i < n->n_inputs && !st; i++) {
        if (!n->inputs[i]) {
            ir_diag_node(d, g, n, "input %d is missing", i);
            return LOOM_STATUS_INVALID_MODEL;
        }
        st = check_same_dtype(g, n, d, i);
    }
    ir_shape s;
    if (st || (st = broadcast_all(g, n, d, &s)))
        return st;
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &s);
}

/* ONNX Mod-13: A and B of one numeric dtype, broadcast. fmod=0 (integers
 * only) takes the divisor's sign, fmod=1 the dividend's (C fmod). */
/* ONNX PRelu-16 (older forms alike): slope broadcasts unidirectionally to
 * X; output of X's dtype and shape. */
loom_status ir_infer_prelu(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_dtype(g, n, d, 0, DT_NUMERIC);
    if (!st)
        st = check_same_dtype(g, n, d, 1);
    ir_shape s;
    if (st || (st = broadcast_all(g, n, d, &s)))
        return st;
    const ir_value *x = n->inputs[0];
    if (!ir_shape_equal(&s, &x->shape)) {
        ir_diag_node(d, g, n, "slope \"%s\" does not broadcast to the shape of X \"%s\"",
                     n->inputs[1]->name, x->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, d, 0, x->dtype, &x->shape);
}

loom_status ir_infer_mod(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_dtype(g, n, d, 0, DT_NUMERIC);
    if (!st)
        st = check_same_dtype(g, n, d, 1);
    if (st)
        return st;
    int64_t fmod = ir_attr_int(n, "fmod", 0);
    if (fmod != 0 && fmod != 1) {
        ir_diag_node(d, g, n, "fmod is %lld, must be 0 or 1", (long long)fmod);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (fmod == 0 && (DT_FLOAT & (1u << n->inputs[0]->dtype))) {
        ir_diag_node(d, g, n, "fmod=0 on %s; floating-point Mod needs fmod=1",
                     ir_dtype_name(n->inputs[0]->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s;
    if ((st = broadcast_all(g, n, d, &s)))
        return st;
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &s);
}

/* ONNX Not-1, And/Or/Xor-7: bool inputs (broadcast), bool output. */
loom_status ir_infer_logical(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = LOOM_STATUS_OK;
    for (int i = 0; i < n->n_inputs && !st; i++)
        st = check_dtype(g, n, d, i, DT(BOOL));
    ir_shape s;
    if (st || (st = broadcast_all(g, n, d, &s)))
        return st;
    return set_output(g, n, d, 0, IR_DTYPE_BOOL, &s);
}

/* ONNX IsNaN-20, IsInf-20: float input, bool output of its shape. */
loom_status ir_infer_is_nan_inf(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_dtype(g, n, d, 0, DT_FLOAT);
    if (st)
        return st;
    return set_output(g, n, d, 0, IR_DTYPE_BOOL, &n->inputs[0]->shape);
}

void ir_unary_params(const ir_node *n, double *a, double *b)
{
    *a = *b = 0;
    switch (n->op) {
    case IR_OP_ELU:
    case IR_OP_CELU:
    case IR_OP_THRESHOLDED_RELU: *a = ir_attr_float(n, "alpha", 1.0f); break;
    case IR_OP_SELU:
        *a = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
        *b = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case IR_OP_SHRINK:
        *a = ir_attr_float(n, "bias", 0.0f);
        *b = ir_attr_float(n, "lambd", 0.5f);
        break;
    default: break;
    }
}

/* ONNX Sin/Cos/Tan/Asin/Acos/Atan-7, Sinh/Cosh/Asinh/Acosh/Atanh-9,
 * Floor/Ceil/Round-11+, Softplus-1, Gelu-20 (approximate "none" or "tanh"),
 * Elu/Selu-6, Celu-12 (alpha not 0), ThresholdedRelu-10, HardSwish-14,
 * Softsign-1, Shrink-9 (float forms), Sign-13 (any numeric dtype): output
 * of the input's dtype and shape. */
loom_status ir_infer_unary_extra(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_dtype(g, n, d, 0, n->op == IR_OP_SIGN ? DT_NUMERIC : DT_FLOAT);
    if (st)
        return st;
    if (n->op == IR_OP_CELU && ir_attr_float(n, "alpha", 1.0f) == 0.0f) {
        ir_diag_node(d, g, n, "alpha is 0; Celu divides by it");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->op == IR_OP_GELU) {
        const char *a = ir_attr_string(n, "approximate", "none");
        if (strcmp(a, "none") != 0 && strcmp(a, "tanh") != 0) {
            ir_diag_node(d, g, n, "approximate is \"%s\", must be \"none\" or \"tanh\"", a);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}
