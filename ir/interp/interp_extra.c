/*
 * Interpreter kernels for the ops of ir_infer_extra.c: ConstantOfShape,
 * Range, Trilu, Pad, Tile, GatherElements, Min/Max/Sum/Mean, Mod,
 * Not/And/Or/Xor, IsNaN/IsInf and the unary math and activations (Sin ...
 * Atanh, Floor/Ceil/Round, Sign, Softplus, Gelu, Elu, Selu, Celu,
 * ThresholdedRelu, HardSwish, Softsign, Shrink).
 *
 * Plain loops over the output in row-major order. Broadcasting ops find
 * each input element through per-input strides (0 along broadcast dims);
 * data-movement ops copy ir_dtype_size bytes per element, so they work for
 * every dtype. Float math runs in double and rounds once to the output
 * dtype; integer math runs in int64 with wrapping (unsigned) arithmetic.
 */
#include <math.h>
#include <string.h>

#include "interp_internal.h"
#include "ir_infer_extra.h"

/* Advances the odometer idx over shape s by one element. */
static void next_index(const ir_shape *s, int64_t idx[IR_MAX_RANK])
{
    for (int i = s->rank - 1; i >= 0; i--) {
        if (++idx[i] < s->dims[i])
            return;
        idx[i] = 0;
    }
}

static int64_t dot(const int64_t *idx, const int64_t *st, int rank)
{
    int64_t off = 0;
    for (int i = 0; i < rank; i++)
        off += idx[i] * st[i];
    return off;
}

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* ---- ConstantOfShape, Range ---- */

/* ONNX ConstantOfShape-20: every element is the value tensor's, or f32 0
 * without one. (Outputs that are graph outputs are the caller's buffers,
 * not zeroed by the driver, so every element is written.) */
loom_status interp_constant_of_shape(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    ir_attr *a = ir_node_find_attr(n, "value");
    static const float zero = 0;
    const void *v = a ? a->u.tensor->data : &zero;
    size_t es = ir_dtype_size(y->dtype);
    char *out = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t i = 0; i < total; i++)
        memcpy(out + (size_t)i * es, v, es);
    return LOOM_STATUS_OK;
}

/* ONNX Range-11: output[i] = start + i * delta, in the inputs' dtype
 * (integers wrap instead of overflowing). */
loom_status interp_range(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    ir_dtype t = y->dtype;
    void *out = interp_out(c, n, 0);
    int64_t count = ir_shape_numel(&y->shape);
    const void *ps = interp_in(c, n, 0), *pd = interp_in(c, n, 2);
    for (int64_t i = 0; i < count; i++) {
        if (t == IR_DTYPE_F32) {
            ((float *)out)[i] = *(const float *)ps + (float)i * *(const float *)pd;
        } else if (t == IR_DTYPE_F64) {
            ((double *)out)[i] = *(const double *)ps + (double)i * *(const double *)pd;
        } else {
            uint64_t s = (uint64_t)interp_load_i(ps, t, 0), dl = (uint64_t)interp_load_i(pd, t, 0);
            interp_store_i(out, t, i, (int64_t)(s + (uint64_t)i * dl));
        }
    }
    return LOOM_STATUS_OK;
}

/* ---- Trilu, Pad, Tile, GatherElements ---- */

/* ONNX Trilu-14: element (.., i, j) is kept when j - i >= k (upper) or
 * j - i <= k (lower), else 0. */
loom_status interp_trilu(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int64_t k = 0;
    if (ir_input(n, 1))
        k = interp_load_i(interp_in(c, n, 1), n->inputs[1]->dtype, 0);
    bool upper = ir_attr_int(n, "upper", 1) != 0;
    int r = x->shape.rank;
    int64_t rows = x->shape.dims[r - 2], cols = x->shape.dims[r - 1];
    int64_t total = ir_shape_numel(&x->shape);
    size_t es = ir_dtype_size(x->dtype);
    const char *in = interp_in(c, n, 0);
    char *out = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++) {
        int64_t j = e % cols, i = e / cols % rows;
        bool keep = upper ? j - i >= k : j - i <= k;
        if (keep)
            memcpy(out + (size_t)e * es, in + (size_t)e * es, es);
        else
            memset(out + (size_t)e * es, 0, es); /* 0 in every dtype */
    }
    return LOOM_STATUS_OK;
}

/* ONNX Pad-19: each output element is the input element ir_pad_source maps
 * it to along every dim, or the constant fill. */
loom_status interp_pad(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_pad_geom geom;
    loom_status st = ir_pad_geometry(c->g, n, &geom, c->d);
    if (st)
        return st;
    size_t es = ir_dtype_size(x->dtype);
    char fill[8] = {0};
    if (geom.value_input)
        memcpy(fill, interp_value_data(c, geom.value_input), es);
    else
        interp_store_f(fill, x->dtype, 0, geom.value);
    int64_t xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, total = ir_shape_numel(&y->shape);
    ir_shape_strides(&x->shape, xs);
    const char *in = interp_in(c, n, 0);
    char *out = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        int64_t off = 0;
        for (int i = 0; i < geom.rank && off >= 0; i++) {
            int64_t s = ir_pad_source(geom.mode, idx[i], geom.begin[i], x->shape.dims[i]);
            off = s < 0 ? -1 : off + s * xs[i];
        }
        memcpy(out + (size_t)e * es, off < 0 ? fill : in + (size_t)off * es, es);
    }
    return LOOM_STATUS_OK;
}

/* ONNX Tile-13: output index i reads input index i mod dim, per dim. */
loom_status interp_tile(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, total = ir_shape_numel(&y->shape);
    ir_shape_strides(&x->shape, xs);
    size_t es = ir_dtype_size(x->dtype);
    const char *in = interp_in(c, n, 0);
    char *out = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        int64_t off = 0;
        for (int i = 0; i < x->shape.rank; i++)
            off += idx[i] % x->shape.dims[i] * xs[i];
        memcpy(out + (size_t)e * es, in + (size_t)off * es, es);
    }
    return LOOM_STATUS_OK;
}

/* ONNX GatherElements-13: out[i..] = data[i.. with i[axis] = indices[i..]];
 * negative indices count from the end; an index out of range is reported. */
loom_status interp_gather_elements(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    int axis;
    ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis);
    int64_t xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, total = ir_shape_numel(&iv->shape);
    ir_shape_strides(&x->shape, xs);
    int64_t dim = x->shape.dims[axis];
    size_t es = ir_dtype_size(x->dtype);
    const char *in = interp_in(c, n, 0);
    const void *ind = interp_in(c, n, 1);
    char *out = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++, next_index(&iv->shape, idx)) {
        int64_t k = interp_load_i(ind, iv->dtype, e);
        if (k < -dim || k >= dim) {
            ir_diag_node(c->d, c->g, n, "index %lld is out of range for an axis of %lld",
                         (long long)k, (long long)dim);
            return LOOM_STATUS_INVALID_MODEL;
        }
        int64_t off = dot(idx, xs, x->shape.rank) + ((k < 0 ? k + dim : k) - idx[axis]) * xs[axis];
        memcpy(out + (size_t)e * es, in + (size_t)off * es, es);
    }
    return LOOM_STATUS_OK;
}

/* ---- broadcasting elementwise ---- */

/* One step of Min/Max/Sum/Mean on floats; NaN propagates through Min and
 * Max (onnxruntime and numpy's minimum/maximum). */
static double fold_f(ir_op op, double acc, double v)
{
    if (op != IR_OP_MIN && op != IR_OP_MAX)
        return acc + v;
    if (isnan(acc) || isnan(v))
        return isnan(acc) ? acc : v;
    return (op == IR_OP_MIN ? v < acc : v > acc) ? v : acc;
}

/* ONNX Min/Max/Sum/Mean-13 over broadcast inputs. */
loom_status interp_variadic(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    switch (n->op) {
    case IR_OP_MIN: case IR_OP_MAX: case IR_OP_SUM: case IR_OP_MEAN: break;
    default: return interp_no_case(c, n);
    }
    int m = n->n_inputs;
    int64_t (*st)[IR_MAX_RANK] = ir_malloc((size_t)m * sizeof *st);
    if (!st) {
        ir_diag_node(c->d, c->g, n, "out of memory");
        return LOOM_STATUS_NOMEM;
    }
    for (int k = 0; k < m; k++)
        ir_bcast_strides(&n->inputs[k]->shape, &y->shape, st[k]);
    ir_dtype t = y->dtype;
    void *out = interp_out(c, n, 0);
    int64_t idx[IR_MAX_RANK] = {0}, total = ir_shape_numel(&y->shape);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        int64_t off0 = dot(idx, st[0], y->shape.rank);
        if (is_float(t)) {
            double acc = interp_load_f(interp_in(c, n, 0), t, off0);
            for (int k = 1; k < m; k++)
                acc = fold_f(n->op, acc, interp_load_f(interp_in(c, n, k), t,
                                                       dot(idx, st[k], y->shape.rank)));
            interp_store_f(out, t, e, n->op == IR_OP_MEAN ? acc / m : acc);
        } else { /* Min / Max on integers */
            int64_t acc = interp_load_i(interp_in(c, n, 0), t, off0);
            for (int k = 1; k < m; k++) {
                int64_t v = interp_load_i(interp_in(c, n, k), t, dot(idx, st[k], y->shape.rank));
                acc = n->op == IR_OP_MIN ? (v < acc ? v : acc) : (v > acc ? v : acc);
            }
            interp_store_i(out, t, e, acc);
        }
    }
    ir_free(st);
    return LOOM_STATUS_OK;
}

/* Integer remainder of a / b (b != 0) with the sign of the divisor
 * (fmod=0, Python's %) or of the dividend (fmod=1, C's %); INT64_MIN % -1
 * is 0. */
static int64_t int_mod(int64_t a, int64_t b, bool fmod)
{
    int64_t r = b == -1 ? 0 : a % b;
    if (!fmod && r != 0 && (r < 0) != (b < 0))
        r += b;
    return r;
}

/* ONNX Mod-13 with broadcasting; an integer division by zero is reported. */
loom_status interp_mod(interp_ctx *c, const ir_node *n)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    ir_bcast_strides(&a->shape, &y->shape, sa);
    ir_bcast_strides(&b->shape, &y->shape, sb);
    bool fm = ir_attr_int(n, "fmod", 0) != 0;
    ir_dtype t = y->dtype;
    const void *pa = interp_in(c, n, 0), *pb = interp_in(c, n, 1);
    void *out = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        int64_t ia = dot(idx, sa, y->shape.rank), ib = dot(idx, sb, y->shape.rank);
        if (is_float(t)) {
            interp_store_f(out, t, e, fmod(interp_load_f(pa, t, ia), interp_load_f(pb, t, ib)));
            continue;
        }
        int64_t x = interp_load_i(pa, t, ia), m = interp_load_i(pb, t, ib);
        if (m == 0) {
            ir_diag_node(c->d, c->g, n, "integer Mod by zero");
            return LOOM_STATUS_INVALID_MODEL;
        }
        interp_store_i(out, t, e, int_mod(x, m, fm));
    }
    return LOOM_STATUS_OK;
}

/* ONNX PRelu-16: x < 0 ? slope * x : x, slope broadcast to x; integers
 * multiply with wrapping. */
loom_status interp_prelu(interp_ctx *c, const ir_node *n)
{
    const ir_value *s = n->inputs[1], *y = n->outputs[0];
    int64_t ss[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    ir_bcast_strides(&s->shape, &y->shape, ss);
    ir_dtype t = y->dtype;
    const void *px = interp_in(c, n, 0), *ps = interp_in(c, n, 1);
    void *out = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        int64_t is = dot(idx, ss, y->shape.rank);
        if (is_float(t)) {
            double x = interp_load_f(px, t, e);
            interp_store_f(out, t, e, x < 0 ? interp_load_f(ps, t, is) * x : x);
        } else {
            int64_t x = interp_load_i(px, t, e);
            uint64_t p = (uint64_t)interp_load_i(ps, t, is) * (uint64_t)x;
            interp_store_i(out, t, e, x < 0 ? (int64_t)p : x);
        }
    }
    return LOOM_STATUS_OK;
}

/* ONNX Not-1, And/Or/Xor-7 on bool with broadcasting. */
loom_status interp_logical(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK] = {0}, idx[IR_MAX_RANK] = {0};
    ir_bcast_strides(&n->inputs[0]->shape, &y->shape, sa);
    if (n->n_inputs > 1)
        ir_bcast_strides(&n->inputs[1]->shape, &y->shape, sb);
    const uint8_t *pa = interp_in(c, n, 0), *pb = interp_in(c, n, 1);
    uint8_t *out = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t e = 0; e < total; e++, next_index(&y->shape, idx)) {
        bool a = pa[dot(idx, sa, y->shape.rank)] != 0;
        bool b = pb && pb[dot(idx, sb, y->shape.rank)] != 0;
        switch (n->op) {
        case IR_OP_NOT: out[e] = !a; break;
        case IR_OP_AND: out[e] = a && b; break;
        case IR_OP_OR: out[e] = a || b; break;
        case IR_OP_XOR: out[e] = a != b; break;
        default: return interp_no_case(c, n);
        }
    }
    return LOOM_STATUS_OK;
}

/* ---- unary ---- */

/* ONNX IsNaN-20; IsInf-20 with detect_negative / detect_positive
 * (default 1 each). */
loom_status interp_is_nan_inf(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    if (n->op != IR_OP_IS_NAN && n->op != IR_OP_IS_INF)
        return interp_no_case(c, n);
    bool neg = ir_attr_int(n, "detect_negative", 1) != 0;
    bool pos = ir_attr_int(n, "detect_positive", 1) != 0;
    const void *in = interp_in(c, n, 0);
    uint8_t *out = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&x->shape);
    for (int64_t e = 0; e < total; e++) {
        double v = interp_load_f(in, x->dtype, e);
        out[e] = n->op == IR_OP_IS_NAN ? isnan(v) : (pos && v == INFINITY) || (neg && v == -INFINITY);
    }
    return LOOM_STATUS_OK;
}

/* The parameters of one unary node (ir_unary_params). */
typedef struct unary_args {
    double a, b;
    bool tanh_gelu;
} unary_args;

/* Activations of this file on x, as the ONNX specs define them (Softplus-1
 * as onnxruntime writes it, no overflow); false for another op. */
static bool activation_value(ir_op op, const unary_args *p, double x, double *y)
{
    switch (op) {
    case IR_OP_SOFTPLUS: *y = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); return true;
    case IR_OP_GELU:
        if (p->tanh_gelu)
            *y = 0.5 * x * (1 + tanh(0.79788456080286535588 /* sqrt(2 / pi) */ * (x + 0.044715 * x * x * x)));
        else
            *y = 0.5 * x * (1 + erf(x / sqrt(2.0)));
        return true;
    case IR_OP_ELU: *y = x < 0 ? p->a * expm1(x) : x; return true;
    case IR_OP_SELU: *y = x > 0 ? p->b * x : p->b * p->a * expm1(x); return true;
    case IR_OP_CELU: *y = fmax(x, 0) + fmin(0, p->a * expm1(x / p->a)); return true;
    case IR_OP_THRESHOLDED_RELU: *y = x > p->a ? x : 0; return true;
    case IR_OP_HARD_SWISH: *y = x * fmax(0, fmin(1, x / 6 + 0.5)); return true;
    case IR_OP_SOFTSIGN: *y = x / (1 + fabs(x)); return true;
    case IR_OP_SHRINK: *y = x < -p->b ? x + p->a : x > p->b ? x - p->a : 0; return true;
    default: return false;
    }
}

/* The other unary math of this file on x; false for another op. */
static bool math_value(ir_op op, double x, double *y)
{
    switch (op) {
    case IR_OP_SIN: *y = sin(x); return true;
    case IR_OP_COS: *y = cos(x); return true;
    case IR_OP_TAN: *y = tan(x); return true;
    case IR_OP_ASIN: *y = asin(x); return true;
    case IR_OP_ACOS: *y = acos(x); return true;
    case IR_OP_ATAN: *y = atan(x); return true;
    case IR_OP_SINH: *y = sinh(x); return true;
    case IR_OP_COSH: *y = cosh(x); return true;
    case IR_OP_ASINH: *y = asinh(x); return true;
    case IR_OP_ACOSH: *y = acosh(x); return true;
    case IR_OP_ATANH: *y = atanh(x); return true;
    case IR_OP_FLOOR: *y = floor(x); return true;
    case IR_OP_CEIL: *y = ceil(x); return true;
    case IR_OP_ROUND: *y = nearbyint(x); return true; /* half to even */
    case IR_OP_SIGN: *y = x > 0 ? 1 : x < 0 ? -1 : 0; return true;
    default: return false;
    }
}

/* ONNX Sign-13 on an integer tensor. */
static void sign_int(const ir_value *x, const void *in, void *out)
{
    int64_t total = ir_shape_numel(&x->shape);
    for (int64_t e = 0; e < total; e++) {
        int64_t v = interp_load_i(in, x->dtype, e);
        interp_store_i(out, x->dtype, e, v > 0 ? 1 : v < 0 ? -1 : 0);
    }
}

/* The unary ops of ir_infer_unary_extra (trigonometric, hyperbolic,
 * rounding, Sign and the activations) on f32 / f64, Sign also on
 * integers. */
loom_status interp_unary_extra(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    unary_args p = {.tanh_gelu = strcmp(ir_attr_string(n, "approximate", "none"), "tanh") == 0};
    ir_unary_params(n, &p.a, &p.b);
    const void *in = interp_in(c, n, 0);
    void *out = interp_out(c, n, 0);
    if (n->op == IR_OP_SIGN && !is_float(x->dtype)) {
        sign_int(x, in, out);
        return LOOM_STATUS_OK;
    }
    int64_t total = ir_shape_numel(&x->shape);
    for (int64_t e = 0; e < total; e++) {
        double v = interp_load_f(in, x->dtype, e), y;
        if (!activation_value(n->op, &p, v, &y) && !math_value(n->op, v, &y)) {
            ir_diag_node(c->d, c->g, n, "internal error: %s is not a unary op of this kernel",
                         ir_op_name(n->op));
            return LOOM_STATUS_INTERNAL;
        }
        interp_store_f(out, x->dtype, e, y);
    }
    return LOOM_STATUS_OK;
}
