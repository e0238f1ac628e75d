/*
 * Interpreter kernels for the elementwise ops, comparisons, Where, Cast, the
 * Reduce ops, Identity and Dropout (inference form).
 *
 * Broadcasting walks the output in row-major order with an odometer that
 * keeps one element offset per operand (stride 0 along broadcast axes), so a
 * step costs O(1) amortized. Float dtypes compute in double and round once
 * on store; integer dtypes compute in int64 with two's-complement wrapping
 * (done in uint64, so there is no signed overflow) and keep the low bits on
 * store, which is what narrower wrapping arithmetic gives.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "interp_internal.h"
#include "ir_fused.h"

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* ---- broadcast walk ---- */

#define MAX_OPERANDS 3

typedef struct bwalk {
    int rank, n_ops;
    int64_t dims[IR_MAX_RANK];
    int64_t stride[MAX_OPERANDS][IR_MAX_RANK];
    int64_t idx[IR_MAX_RANK];
    int64_t off[MAX_OPERANDS]; /* element offset of each operand */
} bwalk;

/* Prepares a walk over shape out where operand k has shape in[k], which
 * broadcasts to out (numpy rules: aligned at the trailing axis). */
static void bwalk_init(bwalk *w, const ir_shape *out, const ir_shape *const *in, int n_ops)
{
    memset(w, 0, sizeof *w);
    w->rank = out->rank;
    w->n_ops = n_ops;
    for (int i = 0; i < out->rank; i++)
        w->dims[i] = out->dims[i];
    for (int k = 0; k < n_ops; k++) {
        int64_t st[IR_MAX_RANK];
        ir_shape_strides(in[k], st);
        int lead = out->rank - in[k]->rank;
        for (int i = lead; i < out->rank; i++)
            w->stride[k][i] = in[k]->dims[i - lead] == 1 ? 0 : st[i - lead];
    }
}

/* Advances to the next output element, updating each operand's offset. */
static void bwalk_next(bwalk *w)
{
    for (int i = w->rank - 1; i >= 0; i--) {
        for (int k = 0; k < w->n_ops; k++)
            w->off[k] += w->stride[k][i];
        if (++w->idx[i] < w->dims[i])
            return;
        for (int k = 0; k < w->n_ops; k++)
            w->off[k] -= w->stride[k][i] * w->dims[i];
        w->idx[i] = 0;
    }
}

/* ---- conversions and integer arithmetic ---- */

/* Float to integer as onnxruntime does it on x86-64 (cvttsd2si): truncation
 * toward zero; NaN and out-of-range values give the minimum of the 32- or
 * 64-bit conversion; i8/u8 convert through int32 and keep the low byte (done
 * by interp_store_i). */
static int64_t float_to_int(double x, ir_dtype t)
{
    if (t == IR_DTYPE_I64) {
        if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
            return INT64_MIN;
        return (int64_t)x;
    }
    if (!(x > -2147483649.0 && x < 2147483648.0))
        return INT32_MIN;
    return (int64_t)x;
}

static int64_t wrap(uint64_t x)
{
    return (int64_t)x; /* modulo 2^64 (GCC and Clang define it so) */
}

/* Smallest value of an integer (or bool) dtype. */
static int64_t int_min(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_I64: return INT64_MIN;
    case IR_DTYPE_I32: return INT32_MIN;
    case IR_DTYPE_I8: return INT8_MIN;
    default: return 0; /* u8, bool */
    }
}

/* ---- binary arithmetic ---- */

/* Float Add/Sub/Mul/Div/Pow; *ok false for another op. */
static double binary_f(ir_op op, double a, double b, bool *ok)
{
    switch (op) {
    case IR_OP_ADD: return a + b;
    case IR_OP_SUB: return a - b;
    case IR_OP_MUL: return a * b;
    case IR_OP_DIV: return a / b;
    case IR_OP_POW: return pow(a, b);
    default: *ok = false; return NAN;
    }
}

/* Integer Add/Sub/Mul/Div with wrapping; Div truncates toward zero (ONNX
 * reference: true division cast back to the integer type). False on a zero
 * divisor; *ok false for another op (Pow goes through double). */
static bool binary_i(ir_op op, int64_t a, int64_t b, int64_t *r, bool *ok)
{
    switch (op) {
    case IR_OP_ADD: *r = wrap((uint64_t)a + (uint64_t)b); return true;
    case IR_OP_SUB: *r = wrap((uint64_t)a - (uint64_t)b); return true;
    case IR_OP_MUL: *r = wrap((uint64_t)a * (uint64_t)b); return true;
    case IR_OP_DIV:
        if (b == 0)
            return false;
        *r = a == INT64_MIN && b == -1 ? INT64_MIN : a / b;
        return true;
    default: *ok = false; *r = 0; return true;
    }
}

/* ONNX Add/Sub/Mul/Div/Pow with multidirectional broadcasting. Integer Pow
 * is computed in double and converted like Cast, as onnxruntime does. */
loom_status interp_binary(interp_ctx *c, const ir_node *n)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    const void *pa = interp_in(c, n, 0), *pb = interp_in(c, n, 1);
    void *py = interp_out(c, n, 0);
    bool ok = true;
    binary_f(n->op, 1, 1, &ok);
    if (!ok)
        return interp_no_case(c, n);
    bwalk w;
    bwalk_init(&w, &y->shape, (const ir_shape *[]){&a->shape, &b->shape}, 2);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t i = 0; i < total; i++, bwalk_next(&w)) {
        if (is_float(y->dtype)) {
            double r = binary_f(n->op, interp_load_f(pa, a->dtype, w.off[0]),
                                interp_load_f(pb, b->dtype, w.off[1]), &ok);
            interp_store_f(py, y->dtype, i, r);
        } else if (n->op == IR_OP_POW) {
            double r = pow(interp_load_f(pa, a->dtype, w.off[0]),
                           interp_load_f(pb, b->dtype, w.off[1]));
            interp_store_i(py, y->dtype, i, float_to_int(r, y->dtype));
        } else {
            int64_t r;
            if (!binary_i(n->op, interp_load_i(pa, a->dtype, w.off[0]),
                          interp_load_i(pb, b->dtype, w.off[1]), &r, &ok)) {
                ir_diag_node(c->d, c->g, n, "integer division by zero");
                return LOOM_STATUS_INVALID_MODEL;
            }
            interp_store_i(py, y->dtype, i, r);
        }
    }
    return LOOM_STATUS_OK;
}

/* ---- unary ---- */

/* max(0, min(1, v)) keeping NaN (fmin/fmax would drop it). */
static double hard_sigmoid(double v)
{
    v = v > 1.0 ? 1.0 : v;
    return v < 0.0 ? 0.0 : v;
}

/* One unary op on a float; alpha and beta are LeakyRelu's / HardSigmoid's.
 * *ok false for an op that is not unary. */
static double unary_f(ir_op op, double x, double alpha, double beta, bool *ok)
{
    switch (op) {
    case IR_OP_SQRT: return sqrt(x);
    case IR_OP_EXP: return exp(x);
    case IR_OP_LOG: return log(x);
    case IR_OP_ERF: return erf(x);
    case IR_OP_NEG: return -x;
    case IR_OP_ABS: return fabs(x);
    case IR_OP_RECIPROCAL: return 1.0 / x;
    case IR_OP_RELU: return x < 0 ? 0.0 : x; /* NaN stays NaN */
    case IR_OP_LEAKY_RELU: return x < 0 ? alpha * x : x;
    case IR_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case IR_OP_TANH: return tanh(x);
    case IR_OP_HARD_SIGMOID: return hard_sigmoid(alpha * x + beta);
    default: *ok = false; return NAN;
    }
}

/* The integer forms: Neg, Abs, Relu wrap like two's complement; Erf-9 on
 * integers is erf cast back (so -1, 0 or 1). *ok false for another op. */
static int64_t unary_i(ir_op op, int64_t x, ir_dtype t, bool *ok)
{
    switch (op) {
    case IR_OP_NEG: return wrap(0 - (uint64_t)x);
    case IR_OP_ABS: return x < 0 ? wrap(0 - (uint64_t)x) : x;
    case IR_OP_RELU: return x < 0 ? 0 : x;
    case IR_OP_ERF: return float_to_int(erf((double)x), t);
    default: *ok = false; return 0;
    }
}

/* ONNX unary math ops; LeakyRelu alpha defaults to 0.01, HardSigmoid alpha
 * to 0.2 and beta to 0.5. */
loom_status interp_unary(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    double alpha = ir_attr_float(n, "alpha", n->op == IR_OP_LEAKY_RELU ? 0.01f : 0.2f);
    double beta = ir_attr_float(n, "beta", 0.5f);
    int64_t total = ir_shape_numel(&x->shape);
    bool ok = true;
    if (is_float(x->dtype))
        unary_f(n->op, 0, alpha, beta, &ok);
    else
        unary_i(n->op, 0, x->dtype, &ok);
    if (!ok)
        return interp_no_case(c, n);
    for (int64_t i = 0; i < total; i++) {
        if (is_float(x->dtype))
            interp_store_f(py, x->dtype, i,
                           unary_f(n->op, interp_load_f(px, x->dtype, i), alpha, beta, &ok));
        else
            interp_store_i(py, x->dtype, i,
                           unary_i(n->op, interp_load_i(px, x->dtype, i), x->dtype, &ok));
    }
    return LOOM_STATUS_OK;
}

/* ---- Clip ---- */

/* ONNX Clip-13: y = min(max(x, min), max), so min > max gives max and NaN
 * stays NaN; an omitted bound does not clip. Clip-6 attributes default to
 * -FLT_MAX / FLT_MAX. */
loom_status interp_clip(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    const void *px = interp_in(c, n, 0), *pmin = interp_in(c, n, 1), *pmax = interp_in(c, n, 2);
    void *py = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&x->shape);
    if (is_float(x->dtype)) {
        double lo = -INFINITY, hi = INFINITY;
        if (ir_node_find_attr(n, "min") || ir_node_find_attr(n, "max")) {
            lo = ir_attr_float(n, "min", -FLT_MAX);
            hi = ir_attr_float(n, "max", FLT_MAX);
        }
        lo = pmin ? interp_load_f(pmin, x->dtype, 0) : lo;
        hi = pmax ? interp_load_f(pmax, x->dtype, 0) : hi;
        for (int64_t i = 0; i < total; i++) {
            double v = interp_load_f(px, x->dtype, i);
            v = v < lo ? lo : v;
            interp_store_f(py, x->dtype, i, v > hi ? hi : v);
        }
        return LOOM_STATUS_OK;
    }
    int64_t lo = pmin ? interp_load_i(pmin, x->dtype, 0) : INT64_MIN;
    int64_t hi = pmax ? interp_load_i(pmax, x->dtype, 0) : INT64_MAX;
    for (int64_t i = 0; i < total; i++) {
        int64_t v = interp_load_i(px, x->dtype, i);
        v = v < lo ? lo : v;
        interp_store_i(py, x->dtype, i, v > hi ? hi : v);
    }
    return LOOM_STATUS_OK;
}

/* ---- Where and comparisons ---- */

/* ONNX Where-16: y = cond ? x : y with three-way broadcasting. */
loom_status interp_where(interp_ctx *c, const ir_node *n)
{
    const ir_value *cond = n->inputs[0], *x = n->inputs[1], *yv = n->inputs[2];
    const ir_value *out = n->outputs[0];
    const uint8_t *pc = interp_in(c, n, 0);
    const char *px = interp_in(c, n, 1), *py = interp_in(c, n, 2);
    char *po = interp_out(c, n, 0);
    size_t es = ir_dtype_size(out->dtype);
    bwalk w;
    bwalk_init(&w, &out->shape, (const ir_shape *[]){&cond->shape, &x->shape, &yv->shape}, 3);
    int64_t total = ir_shape_numel(&out->shape);
    for (int64_t i = 0; i < total; i++, bwalk_next(&w)) {
        const char *src = pc[w.off[0]] ? px + w.off[1] * (int64_t)es : py + w.off[2] * (int64_t)es;
        memcpy(po + i * (int64_t)es, src, es);
    }
    return LOOM_STATUS_OK;
}

/* Whether comparison op holds given cmp (-1, 0, 1, or 2 when unordered);
 * -1 for an op that is not a comparison. */
static int compare_holds(ir_op op, int cmp)
{
    switch (op) {
    case IR_OP_EQUAL: return cmp == 0;
    case IR_OP_LESS: return cmp == -1;
    case IR_OP_GREATER: return cmp == 1;
    case IR_OP_LESS_OR_EQUAL: return cmp == -1 || cmp == 0;
    case IR_OP_GREATER_OR_EQUAL: return cmp == 1 || cmp == 0;
    default: return -1;
    }
}

/* ONNX Equal/Less/Greater-13, LessOrEqual/GreaterOrEqual-16 with
 * broadcasting; NaN compares false. */
loom_status interp_compare(interp_ctx *c, const ir_node *n)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    if (compare_holds(n->op, 0) < 0)
        return interp_no_case(c, n);
    const void *pa = interp_in(c, n, 0), *pb = interp_in(c, n, 1);
    uint8_t *py = interp_out(c, n, 0);
    bwalk w;
    bwalk_init(&w, &y->shape, (const ir_shape *[]){&a->shape, &b->shape}, 2);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t i = 0; i < total; i++, bwalk_next(&w)) {
        int cmp; /* -1, 0, 1, or 2 when unordered */
        if (is_float(a->dtype)) {
            double u = interp_load_f(pa, a->dtype, w.off[0]);
            double v = interp_load_f(pb, b->dtype, w.off[1]);
            cmp = u < v ? -1 : u > v ? 1 : u == v ? 0 : 2;
        } else {
            int64_t u = interp_load_i(pa, a->dtype, w.off[0]);
            int64_t v = interp_load_i(pb, b->dtype, w.off[1]);
            cmp = u < v ? -1 : u > v;
        }
        py[i] = (uint8_t)compare_holds(n->op, cmp);
    }
    return LOOM_STATUS_OK;
}

/* ---- Cast ---- */

/* ONNX Cast-21 between loom's dtypes: to bool is x != 0 (NaN is true); from
 * bool is 0 or 1; float to integer as onnxruntime (float_to_int); integer
 * narrowing keeps the low bits; to float rounds to nearest (to f16/bf16:
 * ties to even, through f32). */
loom_status interp_cast(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&x->shape);
    bool xf = is_float(x->dtype) || ir_dtype_is_half(x->dtype);
    bool yf = is_float(y->dtype) || ir_dtype_is_half(y->dtype);
    for (int64_t i = 0; i < total; i++) {
        if (xf && y->dtype == IR_DTYPE_BOOL)
            interp_store_i(py, y->dtype, i, interp_load_f(px, x->dtype, i) != 0);
        else if (xf && !yf)
            interp_store_i(py, y->dtype, i,
                           float_to_int(interp_load_f(px, x->dtype, i), y->dtype));
        else if (xf)
            interp_store_f(py, y->dtype, i, interp_load_f(px, x->dtype, i));
        else
            interp_store_i(py, y->dtype, i, interp_load_i(px, x->dtype, i));
    }
    return LOOM_STATUS_OK;
}

/* ---- Reduce ---- */

/* Walk state for a reduction: the input's dims with, per input axis, the
 * stride of the matching output element (0 along reduced axes). Returns the
 * number of input elements that fold into each output element. */
static int64_t reduce_walk(bwalk *w, const ir_shape *in, const bool *reduced)
{
    memset(w, 0, sizeof *w);
    w->rank = in->rank;
    w->n_ops = 1;
    int64_t st = 1, count = 1;
    for (int i = in->rank - 1; i >= 0; i--) {
        w->dims[i] = in->dims[i];
        if (reduced[i]) {
            count *= in->dims[i];
        } else {
            w->stride[0][i] = st;
            st *= in->dims[i];
        }
    }
    return count;
}

/* The reduction's start value: the identity of its fold. */
static double fold_init(ir_op op)
{
    switch (op) {
    case IR_OP_REDUCE_MAX: return -INFINITY;
    case IR_OP_REDUCE_MIN: return INFINITY;
    case IR_OP_REDUCE_PROD: return 1;
    default: return 0;
    }
}

/* acc folded with v (ONNX Reduce*-18; Max and Min propagate NaN). LogSumExp
 * sums exp(v - m), m the maximum found by a first walk. */
static double fold(ir_op op, double a, double v, double m)
{
    switch (op) {
    case IR_OP_REDUCE_MAX: return v > a || isnan(v) ? v : a;
    case IR_OP_REDUCE_MIN: return v < a || isnan(v) ? v : a;
    case IR_OP_REDUCE_PROD: return a * v;
    case IR_OP_REDUCE_L1: return a + fabs(v);
    case IR_OP_REDUCE_L2:
    case IR_OP_REDUCE_SUM_SQUARE: return a + v * v;
    case IR_OP_REDUCE_LOG_SUM_EXP: return a + exp(v - m);
    default: return a + v; /* Sum, Mean, LogSum */
    }
}

/* The output element from the folded value. */
static double fold_finish(ir_op op, double a, int64_t count, double m)
{
    switch (op) {
    case IR_OP_REDUCE_MEAN: return a / (double)count;
    case IR_OP_REDUCE_L2: return sqrt(a);
    case IR_OP_REDUCE_LOG_SUM: return log(a);
    case IR_OP_REDUCE_LOG_SUM_EXP: return m + log(a);
    default: return a;
    }
}

/* One walk over the input folding op into acc[]; m[] is LogSumExp's
 * per-output shift. */
static void reduce_walk_fold(ir_op op, const void *px, ir_dtype t, const bwalk *w0, int64_t total,
                             double *acc, const double *m)
{
    bwalk w = *w0;
    for (int64_t i = 0; i < total; i++, bwalk_next(&w)) {
        int64_t o = w.off[0];
        acc[o] = fold(op, acc[o], interp_load_f(px, t, i), m ? m[o] : 0);
    }
}

/* Float reduction accumulated in double; LogSumExp shifts by the maximum
 * (finite, else 0) so that exp cannot overflow. */
static void reduce_float(const ir_node *n, const void *px, ir_dtype t, bwalk *w, int64_t total,
                         double *acc, int64_t n_out, int64_t count, void *py)
{
    double *m = acc + n_out;
    bool lse = n->op == IR_OP_REDUCE_LOG_SUM_EXP;
    for (int64_t o = 0; o < n_out; o++)
        acc[o] = lse ? -INFINITY : fold_init(n->op);
    if (lse) {
        reduce_walk_fold(IR_OP_REDUCE_MAX, px, t, w, total, acc, NULL);
        for (int64_t o = 0; o < n_out; o++)
            m[o] = isfinite(acc[o]) ? acc[o] : 0, acc[o] = 0;
    }
    reduce_walk_fold(n->op, px, t, w, total, acc, lse ? m : NULL);
    for (int64_t o = 0; o < n_out; o++)
        interp_store_f(py, t, o, fold_finish(n->op, acc[o], count, lse ? m[o] : 0));
}

/* Largest value of an integer (or bool) dtype. */
static int64_t int_max(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_I64: return INT64_MAX;
    case IR_DTYPE_I32: return INT32_MAX;
    case IR_DTYPE_I8: return INT8_MAX;
    case IR_DTYPE_BOOL: return 1;
    default: return UINT8_MAX;
    }
}

/* Integer (and bool) reduction in int64 with wrapping sums; Mean truncates
 * like integer division; Max (Min) over an empty set gives the dtype's
 * minimum (maximum). */
static void reduce_int(const ir_node *n, const void *px, ir_dtype t, bwalk *w, int64_t total,
                       int64_t *acc, int64_t n_out, int64_t count, void *py)
{
    bool max = n->op == IR_OP_REDUCE_MAX, min = n->op == IR_OP_REDUCE_MIN;
    for (int64_t o = 0; o < n_out; o++)
        acc[o] = max ? int_min(t) : min ? int_max(t) : 0;
    for (int64_t i = 0; i < total; i++, bwalk_next(w)) {
        int64_t v = interp_load_i(px, t, i);
        int64_t *a = &acc[w->off[0]];
        if (max || min)
            *a = (max ? v > *a : v < *a) ? v : *a;
        else
            *a = wrap((uint64_t)*a + (uint64_t)v);
    }
    for (int64_t o = 0; o < n_out; o++) {
        int64_t r = acc[o];
        if (n->op == IR_OP_REDUCE_MEAN)
            r = count ? r / count : 0;
        interp_store_i(py, t, o, r);
    }
}

/* ONNX Reduce*-18 over the axes ir_reduce_axes resolves; keepdims does not
 * change the element order, only the shape. Integers: Sum, Mean, Max, Min. */
loom_status interp_reduce(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    switch (n->op) {
    case IR_OP_REDUCE_MEAN: case IR_OP_REDUCE_SUM: case IR_OP_REDUCE_MAX:
    case IR_OP_REDUCE_PROD: case IR_OP_REDUCE_MIN: case IR_OP_REDUCE_L1: case IR_OP_REDUCE_L2:
    case IR_OP_REDUCE_LOG_SUM: case IR_OP_REDUCE_LOG_SUM_EXP: case IR_OP_REDUCE_SUM_SQUARE: break;
    default: return interp_no_case(c, n);
    }
    bool reduced[IR_MAX_RANK];
    loom_status st = ir_reduce_axes(c->g, n, reduced, c->d);
    if (st)
        return st;
    bwalk w;
    int64_t count = reduce_walk(&w, &x->shape, reduced);
    int64_t n_out = ir_shape_numel(&y->shape), total = ir_shape_numel(&x->shape);
    void *acc = ir_malloc((size_t)(n_out ? n_out : 1) * 16);
    if (!acc) {
        ir_diag_node(c->d, c->g, n, "out of memory for the reduction");
        return LOOM_STATUS_NOMEM;
    }
    if (is_float(x->dtype))
        reduce_float(n, interp_in(c, n, 0), x->dtype, &w, total, acc, n_out, count,
                     interp_out(c, n, 0));
    else
        reduce_int(n, interp_in(c, n, 0), x->dtype, &w, total, acc, n_out, count,
                   interp_out(c, n, 0));
    ir_free(acc);
    return LOOM_STATUS_OK;
}

/* ---- Identity and Dropout ---- */

/* Copies input 0 to output 0 (the buffers of empty tensors may be NULL). */
static void copy_input(interp_ctx *c, const ir_node *n)
{
    size_t bytes = ir_value_bytes(n->inputs[0]);
    if (bytes)
        memcpy(interp_out(c, n, 0), interp_in(c, n, 0), bytes);
}

/* ONNX Identity: a copy. */
loom_status interp_identity(interp_ctx *c, const ir_node *n)
{
    copy_input(c, n);
    return LOOM_STATUS_OK;
}

/* ONNX Dropout-13 in inference mode: output = data, mask all true. Shape
 * inference has rejected training_mode true. */
loom_status interp_dropout(interp_ctx *c, const ir_node *n)
{
    copy_input(c, n);
    void *mask = interp_out(c, n, 1);
    int64_t total = ir_shape_numel(&n->inputs[0]->shape);
    if (mask && total)
        memset(mask, 1, (size_t)total);
    return LOOM_STATUS_OK;
}

/* FusedElementwise (ir_fused.h): the program per output element, each
 * instruction rounded to f32 as the separate nodes' outputs would be. */
loom_status interp_fused_elementwise(interp_ctx *c, const ir_node *n)
{
    ir_ew_program p;
    char err[160];
    if (!ir_ew_parse(n, &p, err, sizeof err)) {
        ir_diag_node(c->d, c->g, n, "%s", err);
        return LOOM_STATUS_INVALID_MODEL;
    }
    const ir_shape *ys = &n->outputs[0]->shape;
    int ni = n->n_inputs;
    int64_t (*str)[IR_MAX_RANK] = ir_calloc((size_t)ni, sizeof *str);
    if (!str) {
        ir_diag_node(c->d, c->g, n, "out of memory in the interpreter");
        return LOOM_STATUS_NOMEM;
    }
    for (int i = 0; i < ni; i++)
        ir_bcast_strides(&n->inputs[i]->shape, ys, str[i]);
    float *y = interp_out(c, n, 0);
    double reg[IR_EW_MAX_INPUTS + IR_EW_MAX];
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t e = 0, total = ir_shape_numel(ys); e < total; e++) {
        for (int i = 0; i < ni; i++) {
            int64_t off = 0;
            for (int k = 0; k < ys->rank; k++)
                off += idx[k] * str[i][k];
            reg[i] = interp_load_f(interp_in(c, n, i), IR_DTYPE_F32, off);
        }
        for (int k = 0; k < p.n; k++) {
            const ir_ew_insn *in = &p.insn[k];
            reg[ni + k] = (float)ir_ew_apply(in->op, reg[in->a], in->b >= 0 ? reg[in->b] : 0);
        }
        y[e] = (float)reg[ni + p.n - 1];
        for (int k = ys->rank - 1; k >= 0 && ++idx[k] == ys->dims[k]; k--)
            idx[k] = 0;
    }
    ir_free(str);
    return LOOM_STATUS_OK;
}
