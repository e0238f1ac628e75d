/*
 * Shape inference for the elementwise ops: binary arithmetic and comparisons
 * (ONNX multidirectional broadcasting), unary math, Clip, Where, Cast, the
 * Reduce ops, Identity and Dropout (inference form).
 *
 * Each function checks input dtypes against the ONNX type constraints (the
 * union over opsets 7-21, restricted to the dtypes loom has), checks that the
 * shapes broadcast, and sets dtype and shape of the outputs. ir_reduce_axes
 * is shared with the interpreter and the lowering so all read axes alike.
 */
#include <stdio.h>
#include <string.h>

#include "ir_infer.h"

/* dtype sets as bit masks */
#define DT(t) (1u << IR_DTYPE_##t)
#define DT_FLOAT (DT(F32) | DT(F64))
#define DT_SIGNED (DT(I64) | DT(I32) | DT(I8))
#define DT_NUMERIC (DT_FLOAT | DT_SIGNED | DT(U8))
#define DT_ALL (DT_NUMERIC | DT(BOOL))

/* Reports that input i has a dtype outside allowed, listing the allowed ones. */
static loom_status bad_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                             unsigned allowed)
{
    char list[96] = "";
    size_t at = 0;
    for (int t = 0; t < IR_DTYPE_COUNT; t++)
        if (allowed & (1u << t))
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "",
                                   ir_dtype_name((ir_dtype)t));
    ir_diag_node(d, g, n, "input %d (\"%s\") has dtype %s; expected one of %s", i,
                 n->inputs[i]->name, ir_dtype_name(n->inputs[i]->dtype), list);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Checks that present input i has a dtype in allowed. */
static loom_status check_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                               unsigned allowed)
{
    const ir_value *v = ir_input(n, i);
    if (v && !(allowed & (1u << v->dtype)))
        return bad_dtype(g, n, d, i, allowed);
    return LOOM_STATUS_OK;
}

/* Checks that present input i has the same dtype as input 0 (ONNX type T). */
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

/* Broadcasts *acc with s in place; reports "cannot broadcast" on mismatch. */
static loom_status broadcast(const ir_graph *g, const ir_node *n, ir_diag *d, ir_shape *acc,
                             const ir_shape *s)
{
    if (ir_broadcast_shapes(acc, s, acc))
        return LOOM_STATUS_OK;
    char a[128], b[128];
    ir_shape_format(acc, a, sizeof a);
    ir_shape_format(s, b, sizeof b);
    ir_diag_node(d, g, n, "cannot broadcast %s with %s", a, b);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Sets output i after checking that its size is representable. */
static loom_status set_output(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                              const ir_shape *s)
{
    return ir_set_output_checked(g, n, d, i, t, s);
}

/* ONNX Add/Sub/Mul/Div-14, Pow-15: A and B of one type T, except that Pow's
 * exponent has its own type T1; multidirectional broadcasting; output T. */
loom_status ir_infer_binary(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st;
    switch (n->op) {
    case IR_OP_ADD:
    case IR_OP_SUB:
    case IR_OP_MUL:
    case IR_OP_DIV:
        if ((st = check_dtype(g, n, d, 0, DT_NUMERIC)) || (st = check_same_dtype(g, n, d, 1)))
            return st;
        break;
    case IR_OP_POW:
        if ((st = check_dtype(g, n, d, 0, DT_FLOAT | DT(I64) | DT(I32))) ||
            (st = check_dtype(g, n, d, 1, DT_NUMERIC)))
            return st;
        break;
    default:
        ir_diag_node(d, g, n, "not a binary arithmetic op");
        return LOOM_STATUS_INTERNAL;
    }
    ir_shape s = n->inputs[0]->shape;
    if ((st = broadcast(g, n, d, &s, &n->inputs[1]->shape)))
        return st;
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &s);
}

/* The dtypes each unary op takes (ONNX latest; Relu-14 and Neg-6 take signed
 * integers, Abs-13 and Erf-9 all numeric types, the rest float types). */
static unsigned unary_dtypes(ir_op op)
{
    switch (op) {
    case IR_OP_NEG:
    case IR_OP_RELU: return DT_FLOAT | DT_SIGNED;
    case IR_OP_ABS:
    case IR_OP_ERF: return DT_NUMERIC;
    default: return DT_FLOAT;
    }
}

/* Unary math ops: output has the input's dtype and shape. */
loom_status ir_infer_unary(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_dtype(g, n, d, 0, unary_dtypes(n->op));
    if (st)
        return st;
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}

/* ONNX Clip-13: optional scalar min (input 1) and max (input 2) of the
 * input's type; Clip-6: float attributes min and max instead. */
loom_status ir_infer_clip(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    loom_status st = check_dtype(g, n, d, 0, DT_NUMERIC);
    if (st)
        return st;
    static const char *const names[3] = {"", "min", "max"};
    bool attr_form = ir_node_find_attr(n, "min") || ir_node_find_attr(n, "max");
    for (int i = 1; i <= 2; i++) {
        const ir_value *b = ir_input(n, i);
        if (!b)
            continue;
        if (attr_form) {
            ir_diag_node(d, g, n, "min/max given both as attributes (Clip-6) and as inputs");
            return LOOM_STATUS_INVALID_MODEL;
        }
        if ((st = check_same_dtype(g, n, d, i)))
            return st;
        if (ir_shape_numel(&b->shape) != 1) {
            char buf[128];
            ir_shape_format(&b->shape, buf, sizeof buf);
            ir_diag_node(d, g, n, "%s (\"%s\") must be a scalar, got shape %s", names[i],
                         b->name, buf);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    if (attr_form && !(DT_FLOAT & (1u << x->dtype))) {
        ir_diag_node(d, g, n, "min/max attributes (Clip-6) need a float input, got %s",
                     ir_dtype_name(x->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, d, 0, x->dtype, &x->shape);
}

/* ONNX Where-16: bool condition, X and Y of one type, all three broadcast. */
loom_status ir_infer_where(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[1], *y = n->inputs[2];
    loom_status st = check_dtype(g, n, d, 0, DT(BOOL));
    if (st)
        return st;
    if (x->dtype != y->dtype) {
        ir_diag_node(d, g, n, "input dtypes differ: %s (\"%s\") and %s (\"%s\")",
                     ir_dtype_name(x->dtype), x->name, ir_dtype_name(y->dtype), y->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s = n->inputs[0]->shape;
    if ((st = broadcast(g, n, d, &s, &x->shape)) || (st = broadcast(g, n, d, &s, &y->shape)))
        return st;
    return set_output(g, n, d, 0, x->dtype, &s);
}

/* ONNX Equal-13 (numeric and bool), Less/Greater-13 and
 * LessOrEqual/GreaterOrEqual-16 (numeric): inputs of one type, broadcast,
 * bool output. */
loom_status ir_infer_compare(ir_graph *g, ir_node *n, ir_diag *d)
{
    unsigned allowed = n->op == IR_OP_EQUAL ? DT_ALL : DT_NUMERIC;
    loom_status st;
    if ((st = check_dtype(g, n, d, 0, allowed)) || (st = check_same_dtype(g, n, d, 1)))
        return st;
    ir_shape s = n->inputs[0]->shape;
    if ((st = broadcast(g, n, d, &s, &n->inputs[1]->shape)))
        return st;
    return set_output(g, n, d, 0, IR_DTYPE_BOOL, &s);
}

/* Name of an ONNX TensorProto.DataType code, for messages. */
static const char *onnx_type_name(int64_t code)
{
    static const char *const names[] = {
        "UNDEFINED", "FLOAT",  "UINT8",   "INT8",          "UINT16",         "INT16",
        "INT32",     "INT64",  "STRING",  "BOOL",          "FLOAT16",        "DOUBLE",
        "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128",  "BFLOAT16",       "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
    };
    if (code >= 0 && code < (int64_t)(sizeof names / sizeof names[0]))
        return names[code];
    return "unknown";
}

/* ONNX Cast-21: output dtype from the `to` attribute (a TensorProto data
 * type code), same shape. saturate only concerns float8 and is ignored. */
loom_status ir_infer_cast(ir_graph *g, ir_node *n, ir_diag *d)
{
    if (n->op == IR_OP_CAST_LIKE) /* ONNX CastLike-19: to target_type's dtype */
        return set_output(g, n, d, 0, n->inputs[1]->dtype, &n->inputs[0]->shape);
    if (!ir_node_find_attr(n, "to")) {
        ir_diag_node(d, g, n, "required attribute \"to\" is missing");
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t to = ir_attr_int(n, "to", 0);
    ir_dtype t = to > 0 && to <= 64 ? ir_dtype_from_onnx((int)to) : IR_DTYPE_COUNT;
    if (t == IR_DTYPE_COUNT) {
        const char *name = onnx_type_name(to);
        bool known = strcmp(name, "unknown") != 0 && to != 0;
        ir_diag_node(d, g, n, "cast to %s (ONNX data type %lld) is not supported", name,
                     (long long)to);
        return known ? LOOM_STATUS_UNSUPPORTED : LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, d, 0, t, &n->inputs[0]->shape);
}

/* Reads the axes of a Reduce node: the attribute (older opsets) or the
 * constant input 1 (ReduceSum-13, the others 18). Returns the count (0 when
 * absent or empty) in *count, or an error. */
static loom_status read_reduce_axes(const ir_graph *g, const ir_node *n, int rank,
                                    int64_t axes[IR_MAX_RANK], int *count, ir_diag *d)
{
    const int64_t *attr = NULL;
    int na = ir_attr_ints(n, "axes", &attr);
    const ir_value *v = ir_input(n, 1);
    *count = 0;
    if (v && na >= 0) {
        ir_diag_node(d, g, n, "axes given both as attribute and as input");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (v && (v->dtype != IR_DTYPE_I64 || v->shape.rank > 1)) {
        char buf[128];
        ir_shape_format(&v->shape, buf, sizeof buf);
        ir_diag_node(d, g, n, "axes input \"%s\" must be a 1-D i64 tensor, got %s %s", v->name,
                     ir_dtype_name(v->dtype), buf);
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t len = v ? ir_shape_numel(&v->shape) : (na > 0 ? na : 0);
    if (len > 0 && v && !ir_value_is_const(v)) { /* an empty input is known anyway */
        ir_diag_node(d, g, n, "axes input \"%s\" must be a constant", v->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (len > rank) {
        ir_diag_node(d, g, n, "%lld axes given for an input of rank %d", (long long)len, rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (v && len > 0)
        ir_const_ints(v, axes, IR_MAX_RANK);
    else if (!v)
        for (int i = 0; i < len; i++)
            axes[i] = attr[i];
    *count = (int)len;
    return LOOM_STATUS_OK;
}

/* ir_reduce_axes with a non-NULL d. */
static loom_status reduce_axes(const ir_graph *g, const ir_node *n, bool reduced[IR_MAX_RANK],
                               ir_diag *d)
{
    int rank = n->inputs[0]->shape.rank, count;
    int64_t axes[IR_MAX_RANK];
    loom_status st = read_reduce_axes(g, n, rank, axes, &count, d);
    if (st)
        return st;
    /* ONNX Reduce*-18: empty axes reduce everything unless
     * noop_with_empty_axes is set, which makes the op an identity */
    bool all = count == 0 && !ir_attr_int(n, "noop_with_empty_axes", 0);
    for (int i = 0; i < IR_MAX_RANK; i++)
        reduced[i] = all && i < rank;
    for (int i = 0; i < count; i++) {
        int ax;
        if (!ir_normalize_axis(axes[i], rank, &ax)) {
            ir_diag_node(d, g, n, "axis %lld is out of range for rank %d", (long long)axes[i],
                         rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (reduced[ax]) {
            ir_diag_node(d, g, n, "axis %lld repeats axis %d", (long long)axes[i], ax);
            return LOOM_STATUS_INVALID_MODEL;
        }
        reduced[ax] = true;
    }
    return LOOM_STATUS_OK;
}

loom_status ir_reduce_axes(const ir_graph *g, const ir_node *n, bool reduced[IR_MAX_RANK],
                           ir_diag *d)
{
    ir_diag scratch;
    ir_diag_init(&scratch);
    loom_status st = reduce_axes(g, n, reduced, d ? d : &scratch);
    ir_diag_free(&scratch);
    return st;
}

/* ONNX Reduce*-18 (ReduceSum-13): reduced axes are dropped, or kept
 * with size 1 when keepdims (default 1). */
loom_status ir_infer_reduce(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    unsigned allowed = DT_FLOAT | DT(I64) | DT(I32);
    if (n->op == IR_OP_REDUCE_MAX || n->op == IR_OP_REDUCE_MIN) /* Max/Min-20: 8-bit, bool */
        allowed = DT_ALL;
    else if (n->op != IR_OP_REDUCE_SUM && n->op != IR_OP_REDUCE_MEAN)
        allowed = DT_FLOAT; /* loom computes Prod, L1, L2, LogSum(Exp), SumSquare in floats */
    loom_status st = check_dtype(g, n, d, 0, allowed);
    if (st)
        return st;
    bool reduced[IR_MAX_RANK];
    if ((st = ir_reduce_axes(g, n, reduced, d)))
        return st;
    bool keep = ir_attr_int(n, "keepdims", 1) != 0;
    ir_shape s = {.rank = 0};
    for (int i = 0; i < x->shape.rank; i++) {
        if (!reduced[i])
            s.dims[s.rank++] = x->shape.dims[i];
        else if (keep)
            s.dims[s.rank++] = 1;
    }
    return set_output(g, n, d, 0, x->dtype, &s);
}

/* ONNX Identity-21: any type, output equals input. */
loom_status ir_infer_identity(ir_graph *g, ir_node *n, ir_diag *d)
{
    return set_output(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}

/* ONNX Dropout-13 in inference: output = data, optional bool mask of ones.
 * ratio (input 1 or attribute) and seed are ignored; training_mode (input 2)
 * must be absent or a constant false. */
loom_status ir_infer_dropout(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *ratio = ir_input(n, 1), *train = ir_input(n, 2);
    loom_status st = check_dtype(g, n, d, 0, DT_FLOAT);
    if (!st && ratio)
        st = check_dtype(g, n, d, 1, DT_FLOAT);
    if (!st && train)
        st = check_dtype(g, n, d, 2, DT(BOOL));
    if (st)
        return st;
    /* ONNX Dropout-13: ratio and training_mode are scalars */
    if (ratio && ir_shape_numel(&ratio->shape) != 1) {
        ir_diag_node(d, g, n, "ratio (\"%s\") must be a scalar", ratio->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (train && ir_shape_numel(&train->shape) != 1) {
        ir_diag_node(d, g, n, "training_mode (\"%s\") must be a scalar", train->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (train && !ir_value_is_const(train)) {
        ir_diag_node(d, g, n,
                     "training_mode (\"%s\") is not a constant; only inference Dropout "
                     "(training_mode false) is supported",
                     train->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (train && *(const uint8_t *)train->data) {
        ir_diag_node(d, g, n, "training_mode is true; only inference Dropout is supported");
        return LOOM_STATUS_UNSUPPORTED;
    }
    if ((st = set_output(g, n, d, 0, x->dtype, &x->shape)))
        return st;
    return set_output(g, n, d, 1, IR_DTYPE_BOOL, &x->shape);
}
