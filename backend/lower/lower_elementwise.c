/*
 * Lowering of the elementwise ops (binary arithmetic, unary math, Clip,
 * Where, comparisons, Cast), the Reduce ops, Identity and Dropout.
 *
 * Elementwise ops become one loop nest over the output. Dims of size 1 are
 * dropped and adjacent dims are merged wherever every operand either spans
 * both or broadcasts along both, so a same-shape op is one flat loop and
 * the innermost loop walks contiguous memory. Scalar constants become
 * literals in the expression.
 *
 * Semantics follow the interpreter (ir/interp/interp_elementwise.c). f32 ops
 * compute in f32 (the interpreter computes in double and rounds, so results
 * of transcendental functions may differ in the last bit). Integer
 * arithmetic wraps like two's complement and is built so that no C
 * expression overflows a signed type: narrow dtypes compute in i64 and
 * convert back (which keeps the low bits, as the interpreter does), i64
 * Add/Sub use an overflow-free formulation, and every division has a
 * divisor that is neither 0 nor -1 with INT64_MIN. One result differs from
 * the interpreter, which wraps it, where C cannot reproduce it cheaply and
 * safely: an i64 Mul whose product overflows saturates to
 * INT64_MIN / INT64_MAX. An integer division by zero is a data error (a
 * LOOP_STMT_CHECK), or gives 0 when lowered unchecked. Float to
 * integer conversions test the range first, as the interpreter does.
 * These guards hold whether a backend evaluates a select lazily (C's ?:)
 * or both arms: divisors are made safe before dividing, and an unchosen
 * arm's overflow or out-of-range conversion is a discarded value there.
 * Bool tensors are assumed to hold 0 or 1.
 */
#include <float.h>
#include <math.h>

#include "lower_internal.h"

#define MAX_OPERANDS 3

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Smallest value of an integer (or bool) dtype, as the interpreter's
 * int_min. */
static int64_t int_min(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_I64: return INT64_MIN;
    case IR_DTYPE_I32: return INT32_MIN;
    case IR_DTYPE_I8: return INT8_MIN;
    default: return 0; /* u8, bool */
    }
}

/* ---- operands and loop nests ---- */

/* Element i of a constant value as a literal of its dtype. */
static loop_expr *const_elem(lower_ctx *c, const ir_value *v, int64_t i)
{
    const void *p = v->data;
    switch (v->dtype) {
    case IR_DTYPE_F32: return loop_const_f(c->f, v->dtype, ((const float *)p)[i]);
    case IR_DTYPE_F64: return loop_const_f(c->f, v->dtype, ((const double *)p)[i]);
    case IR_DTYPE_I64: return lower_int(c, v->dtype, ((const int64_t *)p)[i]);
    case IR_DTYPE_I32: return lower_int(c, v->dtype, ((const int32_t *)p)[i]);
    case IR_DTYPE_I8: return lower_int(c, v->dtype, ((const int8_t *)p)[i]);
    case IR_DTYPE_U8: return lower_int(c, v->dtype, ((const uint8_t *)p)[i]);
    case IR_DTYPE_BOOL: return lower_int(c, v->dtype, ((const uint8_t *)p)[i] != 0);
    case IR_DTYPE_F16: /* the bit pattern: only a Cast reads it */
    case IR_DTYPE_BF16: return lower_int(c, v->dtype, ((const uint16_t *)p)[i]);
    case IR_DTYPE_COUNT: break;
    }
    return lower_int(c, v->dtype, 0);
}

/* The element of v at idx: a literal for a one-element constant, else a
 * load. */
static loop_expr *operand(lower_ctx *c, const ir_value *v, loop_index idx)
{
    if (v->data && ir_shape_numel(&v->shape) == 1)
        return const_elem(c, v, 0);
    return loop_load(c->f, lower_buf(c, v), idx);
}

/* A loop nest walking an output shape in row-major order, with the element
 * index of the output and of each broadcast operand. */
typedef struct bnest {
    loop_block *body;
    loop_index out;
    loop_index in[MAX_OPERANDS];
} bnest;

/* Opens the loops for output shape out with operands of shapes ins[] (numpy
 * broadcasting, aligned at the trailing axis) in block b. Dims of size 1 are
 * dropped; adjacent dims merge when each operand spans both or neither. */
static bnest bcast_nest(lower_ctx *c, loop_block *b, const ir_shape *out,
                        const ir_shape *const *ins, int n_ins)
{
    int64_t ext[IR_MAX_RANK];
    unsigned span[IR_MAX_RANK]; /* bit k: operand k is not broadcast here */
    int m = 0;
    for (int i = 0; i < out->rank; i++) {
        if (out->dims[i] == 1)
            continue;
        unsigned s = 0;
        for (int k = 0; k < n_ins; k++) {
            int j = i - (out->rank - ins[k]->rank);
            if (j >= 0 && ins[k]->dims[j] != 1)
                s |= 1u << k;
        }
        if (m > 0 && span[m - 1] == s) {
            ext[m - 1] *= out->dims[i];
        } else {
            ext[m] = out->dims[i];
            span[m++] = s;
        }
    }
    bnest r = {.out = loop_idx_const(0)};
    int vars[IR_MAX_RANK];
    r.body = lower_nest(c, b, m, ext, vars);
    int64_t so = 1, sk[MAX_OPERANDS] = {1, 1, 1};
    for (int k = 0; k < n_ins; k++)
        r.in[k] = loop_idx_const(0);
    for (int i = m - 1; i >= 0; i--) {
        loop_idx_add(&r.out, vars[i], so);
        so *= ext[i];
        for (int k = 0; k < n_ins; k++)
            if (span[i] >> k & 1) {
                loop_idx_add(&r.in[k], vars[i], sk[k]);
                sk[k] *= ext[i];
            }
    }
    return r;
}

/* One flat loop over n elements (n > 0); *idx receives the element index. */
static loop_block *flat_loop(lower_ctx *c, loop_block *b, int64_t n, loop_index *idx)
{
    ir_shape s = {.rank = 1, .dims = {n}};
    bnest r = bcast_nest(c, b, &s, (const ir_shape *[]){&s}, 1);
    *idx = r.out;
    return r.body;
}

/* ---- integer arithmetic without signed overflow ---- */

/* a + b on i64, wrapping: an overflowing sum is formed from the operands
 * shifted by 2^63 each (C evaluates only the chosen arm of ?:). */
static loop_expr *add_wrap64(lower_ctx *c, loop_expr *a, loop_expr *b)
{
    loop_expr *mn = lower_int(c, IR_DTYPE_I64, INT64_MIN), *mx = lower_int(c, IR_DTYPE_I64, INT64_MAX);
    loop_expr *zero = lower_int(c, IR_DTYPE_I64, 0);
    loop_expr *up = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GT, b, zero),
                        lower_bin(c, LOOP_BINOP_GT, a, lower_bin(c, LOOP_BINOP_SUB, mx, b)));
    loop_expr *down = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_LT, b, zero),
                          lower_bin(c, LOOP_BINOP_LT, a, lower_bin(c, LOOP_BINOP_SUB, mn, b)));
    loop_expr *up_v = lower_bin(c, LOOP_BINOP_ADD,
                          lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_ADD, a, mn), b), mn);
    loop_expr *down_v = lower_bin(c, LOOP_BINOP_SUB,
                            lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_SUB, a, mn), b), mn);
    return lower_sel(c, up, up_v, lower_sel(c, down, down_v, lower_bin(c, LOOP_BINOP_ADD, a, b)));
}

/* a - b on i64, wrapping, likewise. */
static loop_expr *sub_wrap64(lower_ctx *c, loop_expr *a, loop_expr *b)
{
    loop_expr *mn = lower_int(c, IR_DTYPE_I64, INT64_MIN), *mx = lower_int(c, IR_DTYPE_I64, INT64_MAX);
    loop_expr *zero = lower_int(c, IR_DTYPE_I64, 0);
    loop_expr *up = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_LT, b, zero),
                        lower_bin(c, LOOP_BINOP_GT, a, lower_bin(c, LOOP_BINOP_ADD, mx, b)));
    loop_expr *down = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GT, b, zero),
                          lower_bin(c, LOOP_BINOP_LT, a, lower_bin(c, LOOP_BINOP_ADD, mn, b)));
    loop_expr *up_v = lower_bin(c, LOOP_BINOP_ADD,
                          lower_bin(c, LOOP_BINOP_SUB, lower_bin(c, LOOP_BINOP_ADD, a, mn), b), mn);
    loop_expr *down_v = lower_bin(c, LOOP_BINOP_SUB,
                            lower_bin(c, LOOP_BINOP_SUB, lower_bin(c, LOOP_BINOP_SUB, a, mn), b), mn);
    return lower_sel(c, up, up_v, lower_sel(c, down, down_v, lower_bin(c, LOOP_BINOP_SUB, a, b)));
}

/* a * b on i64 (operands are locals; statements go to block b). The
 * product is exact when it fits, tested against INT64_MIN / b and
 * INT64_MAX / b with a divisor that is never 0 or -1; an overflowing
 * product saturates instead of wrapping like the interpreter, as the
 * wrapped value would take a long chain of partial products. */
static loop_expr *mul_sat64(lower_ctx *c, loop_block *blk, loop_expr *a, loop_expr *b)
{
    ir_dtype t = IR_DTYPE_I64;
    loop_expr *mn = lower_int(c, t, INT64_MIN), *mx = lower_int(c, t, INT64_MAX), *zero = lower_int(c, t, 0);
    loop_expr *b0 = lower_bin(c, LOOP_BINOP_EQ, b, zero);
    loop_expr *bm1 = lower_bin(c, LOOP_BINOP_EQ, b, lower_int(c, t, -1));
    loop_expr *bpos = lower_bin(c, LOOP_BINOP_GT, b, zero);
    loop_expr *div = lower_bind(c, blk, lower_sel(c, lower_bin(c, LOOP_BINOP_OR, b0, bm1), lower_int(c, t, 1), b));
    loop_expr *lo = lower_bin(c, LOOP_BINOP_DIV, lower_sel(c, bpos, mn, mx), div);
    loop_expr *hi = lower_bin(c, LOOP_BINOP_DIV, lower_sel(c, bpos, mx, mn), div);
    loop_expr *in_range = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_LE, lo, a),
                              lower_bin(c, LOOP_BINOP_LE, a, hi));
    loop_expr *fits = lower_bin(c, LOOP_BINOP_OR, b0,
                          lower_sel(c, bm1, lower_bin(c, LOOP_BINOP_NE, a, mn), in_range));
    loop_expr *neg = lower_bin(c, LOOP_BINOP_NE, lower_bin(c, LOOP_BINOP_LT, a, zero),
                         lower_bin(c, LOOP_BINOP_LT, b, zero));
    return lower_sel(c, fits, lower_bin(c, LOOP_BINOP_MUL, a, b), lower_sel(c, neg, mn, mx));
}

/* a / b on i64 truncating toward zero. A zero divisor is a data error
 * (checked by the caller); unchecked, division by zero gives 0.
 * INT64_MIN / -1 wraps to INT64_MIN (divided by 1 instead) when
 * min_guard. */
static loop_expr *div_safe64(lower_ctx *c, loop_expr *a, loop_expr *b, bool min_guard)
{
    ir_dtype t = IR_DTYPE_I64;
    loop_expr *b0 = lower_bin(c, LOOP_BINOP_EQ, b, lower_int(c, t, 0)), *bad = b0;
    if (min_guard)
        bad = lower_bin(c, LOOP_BINOP_OR, b0,
                  lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_EQ, b, lower_int(c, t, -1)),
                      lower_bin(c, LOOP_BINOP_EQ, a, lower_int(c, t, INT64_MIN))));
    return lower_bin(c, LOOP_BINOP_DIV, lower_sel(c, b0, lower_int(c, t, 0), a), lower_sel(c, bad, lower_int(c, t, 1), b));
}

/* ONNX Add/Sub/Mul/Div on integers of dtype t, wrapping; Div truncates.
 * Narrow dtypes compute in i64 (no overflow there) and keep the low bits;
 * i64 operands are bound to locals first as the formulas use them often. */
static loop_expr *int_arith(lower_ctx *c, loop_block *b, ir_op op, loop_expr *x, loop_expr *y,
                            ir_dtype t)
{
    ir_dtype w = IR_DTYPE_I64;
    if (t == w || op == IR_OP_DIV) {
        x = lower_bind(c, b, lower_as(c, w, x));
        y = lower_bind(c, b, lower_as(c, w, y));
    } else {
        x = lower_as(c, w, x);
        y = lower_as(c, w, y);
    }
    if (op == IR_OP_DIV)
        lower_check_divisor(c, b, y);
    loop_expr *r;
    switch (op) {
    case IR_OP_ADD: r = t == w ? add_wrap64(c, x, y) : lower_bin(c, LOOP_BINOP_ADD, x, y); break;
    case IR_OP_SUB: r = t == w ? sub_wrap64(c, x, y) : lower_bin(c, LOOP_BINOP_SUB, x, y); break;
    case IR_OP_MUL: r = t == w ? mul_sat64(c, b, x, y) : lower_bin(c, LOOP_BINOP_MUL, x, y); break;
    case IR_OP_DIV: r = div_safe64(c, x, y, t == w); break;
    default: return NULL; /* not integer arithmetic (lower_binary checked) */
    }
    return lower_as(c, t, r);
}

/* Float x to integer dtype t as the interpreter's float_to_int (onnxruntime
 * on x86-64): truncation toward zero; NaN and out-of-range values give
 * INT64_MIN for i64 and INT32_MIN for the others, which go through int32
 * and keep the low byte. The range test makes the C conversion defined. */
static loop_expr *float_to_int(lower_ctx *c, loop_expr *x, ir_dtype t)
{
    ir_dtype ft = x->dtype, mid = t == IR_DTYPE_I64 ? IR_DTYPE_I64 : IR_DTYPE_I32;
    loop_expr *in_range;
    if (mid == IR_DTYPE_I64)
        in_range = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GE, x, lower_num(c, ft, -0x1p63)),
                       lower_bin(c, LOOP_BINOP_LT, x, lower_num(c, ft, 0x1p63)));
    else if (ft == IR_DTYPE_F32) /* no f32 lies strictly between -2^31-1 and -2^31 */
        in_range = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GE, x, lower_num(c, ft, -0x1p31)),
                       lower_bin(c, LOOP_BINOP_LT, x, lower_num(c, ft, 0x1p31)));
    else
        in_range = lower_bin(c, LOOP_BINOP_AND, lower_bin(c, LOOP_BINOP_GT, x, lower_num(c, ft, -2147483649.0)),
                       lower_bin(c, LOOP_BINOP_LT, x, lower_num(c, ft, 0x1p31)));
    loop_expr *r = lower_sel(c, in_range, loop_cast(c->f, mid, x), lower_int(c, mid, int_min(mid)));
    return lower_as(c, t, r);
}

/* ---- binary arithmetic ---- */

/* The loop IR op of a binary arithmetic op; false for another op. */
static bool float_binop(ir_op op, loop_binop *out)
{
    switch (op) {
    case IR_OP_ADD: *out = LOOP_BINOP_ADD; return true;
    case IR_OP_SUB: *out = LOOP_BINOP_SUB; return true;
    case IR_OP_MUL: *out = LOOP_BINOP_MUL; return true;
    case IR_OP_DIV: *out = LOOP_BINOP_DIV; return true;
    case IR_OP_POW: *out = LOOP_BINOP_POW; return true;
    default: return false;
    }
}

/* The value of binary op on a, b for output dtype t. Pow's exponent is
 * converted to the base's float type; integer Pow is computed in double
 * and converted like Cast, as the interpreter (and onnxruntime) do. */
static loop_expr *binary_expr(lower_ctx *c, loop_block *b, ir_op op, loop_expr *x,
                              loop_expr *y, ir_dtype t)
{
    loop_binop fop = LOOP_BINOP_ADD;
    float_binop(op, &fop); /* lower_binary checked op */
    if (is_float(t))
        return lower_bin(c, fop, x, lower_as(c, t, y));
    if (op == IR_OP_POW) {
        loop_expr *p = lower_bin(c, LOOP_BINOP_POW, lower_as(c, IR_DTYPE_F64, x), lower_as(c, IR_DTYPE_F64, y));
        return float_to_int(c, p, t);
    }
    return int_arith(c, b, op, x, y, t);
}

/* ONNX Add/Sub/Mul/Div-14, Pow-15 with multidirectional broadcasting. */
loom_status lower_binary(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    loop_binop op;
    if (!float_binop(n->op, &op))
        return lower_no_case(c, n);
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    bnest e = bcast_nest(c, &step->body, &y->shape, (const ir_shape *[]){&a->shape, &b->shape}, 2);
    loop_expr *r = binary_expr(c, e.body, n->op, operand(c, a, e.in[0]), operand(c, b, e.in[1]),
                               y->dtype);
    loop_store(c->f, e.body, lower_buf(c, y), e.out, r);
    return LOOM_STATUS_OK;
}

/* ---- unary ---- */

/* One unary op on float x of dtype t; alpha and beta are LeakyRelu's and
 * HardSigmoid's. False for an op that is not unary. */
static bool unary_float(lower_ctx *c, loop_block *b, ir_op op, loop_expr *x, double alpha,
                        double beta, loop_expr **out)
{
    loop_expr *one = lower_num(c, x->dtype, 1);
    switch (op) {
    case IR_OP_SQRT: *out = loop_unary(c->f, LOOP_UNOP_SQRT, x); return true;
    case IR_OP_EXP: *out = lower_exp(c->f, x); return true;
    case IR_OP_LOG: *out = loop_unary(c->f, LOOP_UNOP_LOG, x); return true;
    case IR_OP_ERF: *out = loop_unary(c->f, LOOP_UNOP_ERF, x); return true;
    case IR_OP_NEG: *out = loop_unary(c->f, LOOP_UNOP_NEG, x); return true;
    case IR_OP_ABS: *out = loop_unary(c->f, LOOP_UNOP_ABS, x); return true;
    case IR_OP_RECIPROCAL: *out = lower_bin(c, LOOP_BINOP_DIV, one, x); return true;
    /* the activations, shared with fused epilogues */
    case IR_OP_RELU: *out = lower_act(c, b, IR_ACT_RELU, alpha, beta, x); return true;
    case IR_OP_LEAKY_RELU: *out = lower_act(c, b, IR_ACT_LEAKY_RELU, alpha, beta, x); return true;
    case IR_OP_SIGMOID: *out = lower_act(c, b, IR_ACT_SIGMOID, alpha, beta, x); return true;
    case IR_OP_TANH: *out = lower_act(c, b, IR_ACT_TANH, alpha, beta, x); return true;
    case IR_OP_HARD_SIGMOID: *out = lower_act(c, b, IR_ACT_HARD_SIGMOID, alpha, beta, x); return true;
    default: return false;
    }
}

/* The integer forms: Neg and Abs wrap (INT_MIN stays INT_MIN), Relu is
 * x < 0 ? 0 : x, Erf-9 on integers is erf in double truncated (within
 * [-1, 1], so the conversion needs no range test). False for other ops. */
static bool unary_int(lower_ctx *c, loop_block *b, ir_op op, loop_expr *x, loop_expr **out)
{
    ir_dtype t = x->dtype, w = IR_DTYPE_I64;
    loop_unop u = op == IR_OP_NEG ? LOOP_UNOP_NEG : LOOP_UNOP_ABS;
    switch (op) {
    case IR_OP_NEG:
    case IR_OP_ABS:
        if (t == IR_DTYPE_U8 || t == IR_DTYPE_BOOL) { /* Abs of unsigned */
            *out = x;
        } else if (t == w) {
            x = lower_bind(c, b, x);
            *out = lower_sel(c, lower_bin(c, LOOP_BINOP_EQ, x, lower_int(c, w, INT64_MIN)), lower_int(c, w, INT64_MIN),
                       loop_unary(c->f, u, x));
        } else {
            *out = lower_as(c, t, loop_unary(c->f, u, lower_as(c, w, x)));
        }
        return true;
    case IR_OP_RELU:
        *out = lower_sel(c, lower_bin(c, LOOP_BINOP_LT, x, lower_int(c, t, 0)), lower_int(c, t, 0), x);
        return true;
    case IR_OP_ERF:
        *out = loop_cast(c->f, t, loop_unary(c->f, LOOP_UNOP_ERF, lower_as(c, IR_DTYPE_F64, x)));
        return true;
    default: return false;
    }
}

/* ONNX unary math ops; LeakyRelu alpha defaults to 0.01, HardSigmoid alpha
 * to 0.2 and beta to 0.5. */
loom_status lower_unary(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t total = ir_shape_numel(&x->shape);
    if (total == 0)
        return LOOM_STATUS_OK;
    double alpha = ir_attr_float(n, "alpha", n->op == IR_OP_LEAKY_RELU ? 0.01f : 0.2f);
    double beta = ir_attr_float(n, "beta", 0.5f);
    loop_index idx;
    loop_block *body = flat_loop(c, &step->body, total, &idx);
    loop_expr *v = operand(c, x, idx), *r = NULL;
    bool ok = is_float(x->dtype) ? unary_float(c, body, n->op, v, alpha, beta, &r)
                                 : unary_int(c, body, n->op, v, &r);
    if (!ok) {
        ir_diag_node(c->d, c->g, n, "no lowering for %s on %s", ir_op_name(n->op),
                     ir_dtype_name(x->dtype));
        return LOOM_STATUS_UNSUPPORTED;
    }
    loop_store(c->f, body, lower_buf(c, y), idx, r);
    return LOOM_STATUS_OK;
}

/* ---- Clip ---- */

/* One bound of a Clip: absent, a known value, or a runtime scalar. */
typedef struct clip_bound {
    bool present;
    loop_expr *e; /* literal or load of element 0 */
} clip_bound;

/* The bound from input i (Clip-11+), else from the attribute (Clip-6:
 * defaults -FLT_MAX / FLT_MAX once either attribute is given), else none. */
static clip_bound clip_bound_of(lower_ctx *c, const ir_node *n, int i, ir_dtype t)
{
    const char *name = i == 1 ? "min" : "max";
    const ir_value *v = ir_input(n, i);
    if (v)
        return (clip_bound){true, operand(c, v, loop_idx_const(0))};
    if (ir_node_find_attr(n, "min") || ir_node_find_attr(n, "max"))
        return (clip_bound){true, lower_num(c, t, ir_attr_float(n, name, i == 1 ? -FLT_MAX : FLT_MAX))};
    return (clip_bound){false, NULL};
}

/* min(lo, hi) when both are literals, else the select computing it. */
static loop_expr *clip_low(lower_ctx *c, loop_expr *lo, loop_expr *hi)
{
    if (lo->kind == LOOP_EXPR_CONST && hi->kind == LOOP_EXPR_CONST) {
        bool above = is_float(lo->dtype) ? lo->c.f > hi->c.f : lo->c.i > hi->c.i;
        return above ? hi : lo;
    }
    return lower_sel(c, lower_bin(c, LOOP_BINOP_GT, lo, hi), hi, lo);
}

/* ONNX Clip-13: y = min(max(x, lo), hi), written as
 * x < lo ? min(lo, hi) : (x > hi ? hi : x) so that lo > hi gives hi and NaN
 * stays NaN; an absent bound does not clip. */
loom_status lower_clip(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t total = ir_shape_numel(&x->shape);
    if (total == 0)
        return LOOM_STATUS_OK;
    clip_bound lo = clip_bound_of(c, n, 1, x->dtype), hi = clip_bound_of(c, n, 2, x->dtype);
    loop_index idx;
    loop_block *body = flat_loop(c, &step->body, total, &idx);
    loop_expr *v = operand(c, x, idx), *r = v;
    if (hi.present)
        r = lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, hi.e), hi.e, v);
    if (lo.present)
        r = lower_sel(c, lower_bin(c, LOOP_BINOP_LT, v, lo.e), hi.present ? clip_low(c, lo.e, hi.e) : lo.e, r);
    loop_store(c->f, body, lower_buf(c, y), idx, r);
    return LOOM_STATUS_OK;
}

/* ---- Where and comparisons ---- */

/* ONNX Where-16: y = cond ? x : y with three-way broadcasting. */
loom_status lower_where(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *cond = n->inputs[0], *x = n->inputs[1], *yv = n->inputs[2];
    const ir_value *out = n->outputs[0];
    if (ir_shape_numel(&out->shape) == 0)
        return LOOM_STATUS_OK;
    bnest e = bcast_nest(c, &step->body, &out->shape,
                         (const ir_shape *[]){&cond->shape, &x->shape, &yv->shape}, 3);
    loop_expr *r = lower_sel(c, operand(c, cond, e.in[0]), operand(c, x, e.in[1]),
                       operand(c, yv, e.in[2]));
    loop_store(c->f, e.body, lower_buf(c, out), e.out, r);
    return LOOM_STATUS_OK;
}

/* The loop IR comparison of a comparison op; false for another op. */
static bool compare_binop(ir_op op, loop_binop *out)
{
    switch (op) {
    case IR_OP_EQUAL: *out = LOOP_BINOP_EQ; return true;
    case IR_OP_LESS: *out = LOOP_BINOP_LT; return true;
    case IR_OP_GREATER: *out = LOOP_BINOP_GT; return true;
    case IR_OP_LESS_OR_EQUAL: *out = LOOP_BINOP_LE; return true;
    case IR_OP_GREATER_OR_EQUAL: *out = LOOP_BINOP_GE; return true;
    default: return false;
    }
}

/* ONNX Equal/Less/Greater-13, LessOrEqual/GreaterOrEqual-16 with
 * broadcasting; NaN compares false (C's comparisons do the same). */
loom_status lower_compare(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *y = n->outputs[0];
    loop_binop op;
    if (!compare_binop(n->op, &op))
        return lower_no_case(c, n);
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    bnest e = bcast_nest(c, &step->body, &y->shape, (const ir_shape *[]){&a->shape, &b->shape}, 2);
    loop_expr *r = lower_bin(c, op, operand(c, a, e.in[0]), operand(c, b, e.in[1]));
    loop_store(c->f, e.body, lower_buf(c, y), e.out, r);
    return LOOM_STATUS_OK;
}

/* ---- Cast, Identity, Dropout ---- */

/* Makes out hold in's data: a view when lower_alias allows, else a copy. */
static void lower_view(lower_ctx *c, loop_step *step, const ir_value *in, const ir_value *out)
{
    if (lower_alias(c, in, out))
        return;
    int64_t total = ir_shape_numel(&in->shape);
    if (total > 0)
        lower_copy(c, &step->body, lower_buf(c, out), lower_buf(c, in), total);
}

/* x converted to dtype `to` as ONNX Cast-21 and the interpreter: to bool is
 * x != 0 (NaN is true); float to integer by float_to_int; integer narrowing
 * keeps the low bits; to float rounds to nearest; from bool is 0 or 1.
 * f16 and bf16 convert through f32, the only cast the loop IR has for them
 * (round to nearest even at the f32 -> half step). */
static loop_expr *cast_expr(lower_ctx *c, loop_expr *x, ir_dtype to)
{
    ir_dtype from = x->dtype;
    if (ir_dtype_is_half(from))
        return cast_expr(c, loop_cast(c->f, IR_DTYPE_F32, x), to);
    if (ir_dtype_is_half(to))
        return loop_cast(c->f, to, cast_expr(c, x, IR_DTYPE_F32));
    if (to == IR_DTYPE_BOOL)
        return lower_bin(c, LOOP_BINOP_NE, x, lower_num(c, from, 0));
    if (is_float(from) && !is_float(to))
        return float_to_int(c, x, to);
    return lower_as(c, to, x);
}

/* ONNX Cast-21; a cast to the same dtype is a view. */
loom_status lower_cast(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t total = ir_shape_numel(&x->shape);
    if (x->dtype == y->dtype) {
        lower_view(c, step, x, y);
        return LOOM_STATUS_OK;
    }
    if (total == 0)
        return LOOM_STATUS_OK;
    loop_index idx;
    loop_block *body = flat_loop(c, &step->body, total, &idx);
    loop_store(c->f, body, lower_buf(c, y), idx, cast_expr(c, operand(c, x, idx), y->dtype));
    return LOOM_STATUS_OK;
}

/* ONNX Identity: a view of the input (a copy when it must be distinct). */
loom_status lower_identity(lower_ctx *c, const ir_node *n, loop_step *step)
{
    lower_view(c, step, n->inputs[0], n->outputs[0]);
    return LOOM_STATUS_OK;
}

/* ONNX Dropout-13 in inference mode: output = data, mask all true (shape
 * inference rejected training_mode true). */
loom_status lower_dropout(lower_ctx *c, const ir_node *n, loop_step *step)
{
    lower_view(c, step, n->inputs[0], n->outputs[0]);
    const ir_value *mask = ir_output(n, 1);
    int64_t total = ir_shape_numel(&n->inputs[0]->shape);
    if (mask && total > 0) {
        loop_index idx;
        loop_block *body = flat_loop(c, &step->body, total, &idx);
        loop_store(c->f, body, lower_buf(c, mask), idx, lower_int(c, IR_DTYPE_BOOL, 1));
    }
    return LOOM_STATUS_OK;
}

/* ---- Reduce ---- */

/* A reduction's input as merged dims: size-1 dims dropped, adjacent dims
 * merged when both are reduced or both kept. */
typedef struct rdims {
    int m;
    int64_t ext[IR_MAX_RANK];
    bool red[IR_MAX_RANK];
    int64_t count; /* input elements per output element */
} rdims;

static rdims reduce_dims(const ir_shape *x, const bool *reduced)
{
    rdims r = {.count = 1};
    for (int i = 0; i < x->rank; i++) {
        if (reduced[i])
            r.count *= x->dims[i];
        if (x->dims[i] == 1)
            continue;
        if (r.m > 0 && r.red[r.m - 1] == reduced[i]) {
            r.ext[r.m - 1] *= x->dims[i];
        } else {
            r.ext[r.m] = x->dims[i];
            r.red[r.m++] = reduced[i];
        }
    }
    return r;
}

/* The reduction's arithmetic for one op and input dtype t. Sums of
 * integers accumulate in i64 (wrapping for i64 input, and for i32 when the
 * count could overflow i64); Max propagates NaN like ReduceMax-18. */
typedef struct rop {
    ir_op op;
    ir_dtype t, acc; /* input and accumulator dtypes */
    int64_t count;
} rop;

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

/* The accumulator's start: the identity of the fold (the lowest value for
 * Max, the highest for Min, 1 for Prod, else 0). */
static loop_expr *reduce_init(lower_ctx *c, const rop *o)
{
    bool f = is_float(o->t);
    switch (o->op) {
    case IR_OP_REDUCE_MAX:
        return f ? lower_num(c, o->t, -INFINITY) : lower_int(c, o->t, int_min(o->t));
    case IR_OP_REDUCE_MIN:
        return f ? lower_num(c, o->t, INFINITY) : lower_int(c, o->t, int_max(o->t));
    case IR_OP_REDUCE_PROD: return lower_num(c, o->acc, 1);
    default: return lower_num(c, o->acc, 0);
    }
}

/* acc folded with one input element v; m is LogSumExp's shift. */
static loop_expr *reduce_step(lower_ctx *c, loop_block *b, const rop *o, loop_expr *acc,
                              loop_expr *v, loop_expr *m)
{
    bool max = o->op == IR_OP_REDUCE_MAX;
    switch (o->op) {
    case IR_OP_REDUCE_MAX:
    case IR_OP_REDUCE_MIN: {
        loop_binop cmp = max ? LOOP_BINOP_GT : LOOP_BINOP_LT;
        if (!is_float(o->t))
            return lower_sel(c, lower_bin(c, cmp, v, acc), v, acc);
        v = lower_bind(c, b, v); /* v != v: NaN */
        loop_expr *take = lower_bin(c, LOOP_BINOP_OR, lower_bin(c, cmp, v, acc),
                                    lower_bin(c, LOOP_BINOP_NE, v, v));
        return lower_sel(c, take, v, acc);
    }
    case IR_OP_REDUCE_PROD: return lower_bin(c, LOOP_BINOP_MUL, acc, v);
    case IR_OP_REDUCE_L1: return lower_bin(c, LOOP_BINOP_ADD, acc, lower_un(c, LOOP_UNOP_ABS, v));
    case IR_OP_REDUCE_L2:
    case IR_OP_REDUCE_SUM_SQUARE:
        v = lower_bind(c, b, v);
        return lower_bin(c, LOOP_BINOP_ADD, acc, lower_bin(c, LOOP_BINOP_MUL, v, v));
    case IR_OP_REDUCE_LOG_SUM_EXP:
        return lower_bin(c, LOOP_BINOP_ADD, acc,
                         lower_exp(c->f, lower_bin(c, LOOP_BINOP_SUB, v, m)));
    default: break;
    }
    if (is_float(o->t))
        return lower_bin(c, LOOP_BINOP_ADD, acc, v);
    v = lower_as(c, IR_DTYPE_I64, v);
    if (o->t == IR_DTYPE_I64 || o->count >= ((int64_t)1 << 32))
        return add_wrap64(c, acc, lower_bind(c, b, v));
    return lower_bin(c, LOOP_BINOP_ADD, acc, v);
}

/* The output element from the accumulator: Mean divides by the count
 * (truncating for integers), L2 takes the root, LogSum and LogSumExp the
 * log (plus the shift m); integer sums keep the low bits. */
static loop_expr *reduce_finish(lower_ctx *c, const rop *o, loop_expr *acc, loop_expr *m)
{
    switch (o->op) {
    case IR_OP_REDUCE_MEAN:
        acc = lower_bin(c, LOOP_BINOP_DIV, acc, lower_num(c, o->acc, (double)o->count));
        break;
    case IR_OP_REDUCE_L2: acc = lower_un(c, LOOP_UNOP_SQRT, acc); break;
    case IR_OP_REDUCE_LOG_SUM: acc = lower_un(c, LOOP_UNOP_LOG, acc); break;
    case IR_OP_REDUCE_LOG_SUM_EXP:
        acc = lower_bin(c, LOOP_BINOP_ADD, m, lower_un(c, LOOP_UNOP_LOG, acc));
        break;
    default: break;
    }
    return lower_as(c, o->t, acc);
}

/* Input and output indices of the reduction over the merged dims at loop
 * variables vars. */
static void reduce_index(const rdims *r, const int *vars, loop_index *xi, loop_index *yi)
{
    *xi = loop_idx_const(0), *yi = loop_idx_const(0);
    int64_t xs = 1, ys = 1;
    for (int j = r->m - 1; j >= 0; j--) {
        loop_idx_add(xi, vars[j], xs);
        xs *= r->ext[j];
        if (!r->red[j]) {
            loop_idx_add(yi, vars[j], ys);
            ys *= r->ext[j];
        }
    }
}

/* Folds o over the reduced dims (loops opened in b, vars[] of the kept
 * dims already set) into a new local started at init. */
static int fold_reduced(lower_ctx *c, loop_block *b, const rop *o, const rdims *r, int *vars,
                        loop_buf *x, loop_expr *init, loop_expr *m)
{
    int acc = loop_local_new(c->f, o->acc);
    loop_set(c->f, b, acc, init);
    loop_block *inner = b;
    for (int j = 0; j < r->m; j++)
        if (r->red[j])
            inner = lower_nest(c, inner, 1, &r->ext[j], &vars[j]);
    loop_index xi, yi;
    reduce_index(r, vars, &xi, &yi);
    loop_expr *v = loop_load(c->f, x, xi);
    loop_set(c->f, inner, acc, reduce_step(c, inner, o, loop_local_read(c->f, acc), v, m));
    return acc;
}

/* Loops over the kept dims outside and the reduced dims inside, folding
 * into a local: the form for a reduced innermost dim (contiguous inner
 * loop), for integers and for LogSumExp (whose first fold finds the
 * maximum m, replaced by 0 when not finite). */
static void reduce_inner(lower_ctx *c, loop_block *b, const rop *o, const rdims *r,
                         loop_buf *x, loop_buf *y)
{
    int vars[IR_MAX_RANK];
    for (int j = 0; j < r->m; j++)
        if (!r->red[j])
            b = lower_nest(c, b, 1, &r->ext[j], &vars[j]);
    loop_expr *m = NULL;
    if (o->op == IR_OP_REDUCE_LOG_SUM_EXP) {
        rop mo = *o;
        mo.op = IR_OP_REDUCE_MAX;
        int ml = fold_reduced(c, b, &mo, r, vars, x, reduce_init(c, &mo), NULL);
        loop_expr *mr = loop_local_read(c->f, ml);
        loop_expr *finite = lower_bin(c, LOOP_BINOP_EQ, lower_bin(c, LOOP_BINOP_SUB, mr, mr),
                                      lower_num(c, o->t, 0));
        m = lower_bind(c, b, lower_sel(c, finite, mr, lower_num(c, o->t, 0)));
    }
    int acc = fold_reduced(c, b, o, r, vars, x, reduce_init(c, o), m);
    loop_index xi, yi;
    reduce_index(r, vars, &xi, &yi);
    loop_store(c->f, b, y, yi, reduce_finish(c, o, loop_local_read(c->f, acc), m));
}

/* Accumulates into the output while walking the input in order: the form
 * for a kept innermost dim (both accesses contiguous); floats only. */
static void reduce_outer(lower_ctx *c, loop_block *b, const rop *o, const rdims *r,
                         loop_buf *x, loop_buf *y)
{
    loop_index oi;
    loop_block *init = flat_loop(c, b, y->numel, &oi);
    loop_store(c->f, init, y, oi, reduce_init(c, o));
    int vars[IR_MAX_RANK];
    loop_block *body = lower_nest(c, b, r->m, r->ext, vars);
    loop_index xi, yi;
    reduce_index(r, vars, &xi, &yi);
    loop_expr *acc = loop_load(c->f, y, yi);
    loop_store(c->f, body, y, yi, reduce_step(c, body, o, acc, loop_load(c->f, x, xi), NULL));
    if (o->op == IR_OP_REDUCE_MEAN || o->op == IR_OP_REDUCE_L2 || o->op == IR_OP_REDUCE_LOG_SUM) {
        loop_block *fin = flat_loop(c, b, y->numel, &oi);
        loop_store(c->f, fin, y, oi, reduce_finish(c, o, loop_load(c->f, y, oi), NULL));
    }
}

/* ONNX Reduce*-18 over the axes ir_reduce_axes resolves; keepdims changes
 * only the shape. An empty reduction gives the fold's identity: 0 for Sum,
 * L1, L2, SumSquare, NaN (0/0) or 0 for Mean, the lowest value for Max, the
 * highest for Min, 1 for Prod, -inf for LogSum and LogSumExp. */
loom_status lower_reduce(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    switch (n->op) {
    case IR_OP_REDUCE_MEAN: case IR_OP_REDUCE_SUM: case IR_OP_REDUCE_MAX:
    case IR_OP_REDUCE_PROD: case IR_OP_REDUCE_MIN: case IR_OP_REDUCE_L1: case IR_OP_REDUCE_L2:
    case IR_OP_REDUCE_LOG_SUM: case IR_OP_REDUCE_LOG_SUM_EXP: case IR_OP_REDUCE_SUM_SQUARE: break;
    default: return lower_no_case(c, n);
    }
    bool reduced[IR_MAX_RANK];
    loom_status st = ir_reduce_axes(c->g, n, reduced, c->d);
    if (st)
        return st;
    int64_t n_out = ir_shape_numel(&y->shape);
    if (n_out == 0)
        return LOOM_STATUS_OK;
    rdims r = reduce_dims(&x->shape, reduced);
    bool int_sum = !is_float(x->dtype) && n->op != IR_OP_REDUCE_MAX && n->op != IR_OP_REDUCE_MIN;
    rop o = {.op = n->op, .t = x->dtype, .acc = int_sum ? IR_DTYPE_I64 : x->dtype,
             .count = r.count};
    loop_buf *yb = lower_buf(c, y);
    if (ir_shape_numel(&x->shape) == 0) {
        loop_index oi;
        loop_block *body = flat_loop(c, &step->body, n_out, &oi);
        loop_expr *v = reduce_init(c, &o);
        if (n->op == IR_OP_REDUCE_MEAN && is_float(o.t))
            v = lower_num(c, o.t, NAN);
        else if (n->op == IR_OP_REDUCE_LOG_SUM || n->op == IR_OP_REDUCE_LOG_SUM_EXP)
            v = lower_num(c, o.t, -INFINITY); /* log(0) */
        loop_store(c->f, body, yb, oi, lower_as(c, o.t, v));
    } else if (!is_float(o.t) || r.m == 0 || r.red[r.m - 1] ||
               n->op == IR_OP_REDUCE_LOG_SUM_EXP) {
        reduce_inner(c, &step->body, &o, &r, lower_buf(c, x), yb);
    } else {
        reduce_outer(c, &step->body, &o, &r, lower_buf(c, x), yb);
    }
    return LOOM_STATUS_OK;
}
