/*
 * Unit tests of the elementwise ops: shape inference (shapes, dtypes and the
 * diagnostics of bad nodes) and interpreter results. Expected values were
 * computed with onnxruntime 1.32 (or numpy, where noted, for cases
 * onnxruntime has no kernel for) and pasted here; none come from loom.
 */
#include <float.h>
#include <stdint.h>

#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

/* Inference must fail with status want and a message containing substr. */
static void infer_fails_with(ir_graph *g, loom_status want, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_eq(st, want, "status %s, want %s (%s)", loom_status_name(st), loom_status_name(want),
                 d.text ? d.text : "");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

/* Element i of a buffer as double, for failure messages only. */
static double elem(const void *p, ir_dtype t, int64_t i)
{
    switch (t) {
    case IR_DTYPE_F32: return ((const float *)p)[i];
    case IR_DTYPE_F64: return ((const double *)p)[i];
    case IR_DTYPE_I64: return (double)((const int64_t *)p)[i];
    case IR_DTYPE_I32: return ((const int32_t *)p)[i];
    case IR_DTYPE_I8: return ((const int8_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

/* Bitwise equality per element, except that any NaN equals any NaN. */
static void assert_exact(const void *got, const void *want, ir_dtype t, int64_t n)
{
    size_t es = ir_dtype_size(t);
    for (int64_t i = 0; i < n; i++) {
        bool both_nan = (t == IR_DTYPE_F32 || t == IR_DTYPE_F64) && isnan(elem(got, t, i)) &&
                        isnan(elem(want, t, i));
        cr_assert(both_nan ||
                      memcmp((const char *)got + i * es, (const char *)want + i * es, es) == 0,
                  "%s element %lld: got %.17g, want %.17g", ir_dtype_name(t), (long long)i,
                  elem(got, t, i), elem(want, t, i));
    }
}

static void assert_close_f64(const double *got, const double *want, int64_t n, double rtol)
{
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) && isnan(got[i]))
            continue;
        cr_assert(got[i] == want[i] || fabs(got[i] - want[i]) <= rtol * fabs(want[i]),
                  "element %lld: got %.17g, want %.17g", (long long)i, got[i], want[i]);
    }
}

/* One-node graph: op over graph inputs of dtype t and shapes given, output
 * "y"; returns the node. */
static ir_node *unary_graph(ir_graph *g, ir_op op, ir_dtype t, int rank, const int64_t *dims)
{
    ir_value *x = tl_input(g, "x", t, rank, dims);
    return tl_node(g, op, "n", 1, (ir_value *[]){x}, 1, "y");
}

static ir_node *binary_graph(ir_graph *g, ir_op op, ir_dtype ta, int ra, const int64_t *da,
                             ir_dtype tb, int rb, const int64_t *db)
{
    ir_value *a = tl_input(g, "a", ta, ra, da);
    ir_value *b = tl_input(g, "b", tb, rb, db);
    return tl_node(g, op, "n", 2, (ir_value *[]){a, b}, 1, "y");
}

/* Runs a one-input graph on x and compares output 0 exactly with want. */
static void run1_exact(ir_graph *g, const void *x, const void *want, int64_t n)
{
    tl_infer_ok(g);
    ir_value *y = g->outputs[0];
    cr_assert_eq(ir_shape_numel(&y->shape), n);
    char out[1024];
    cr_assert(ir_value_bytes(y) <= sizeof out);
    tl_run(g, (const void *[]){x}, (void *[]){out});
    assert_exact(out, want, y->dtype, n);
}

/* Same for a two-input graph. */
static void run2_exact(ir_graph *g, const void *a, const void *b, const void *want, int64_t n)
{
    tl_infer_ok(g);
    ir_value *y = g->outputs[0];
    cr_assert_eq(ir_shape_numel(&y->shape), n);
    char out[1024];
    cr_assert(ir_value_bytes(y) <= sizeof out);
    tl_run(g, (const void *[]){a, b}, (void *[]){out});
    assert_exact(out, want, y->dtype, n);
}

/* ---- shape inference ---- */

Test(elementwise_infer, binary_broadcast_shapes)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 2, D(2, 3));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 1, D(3));
    ir_value *c = tl_input(g, "c", IR_DTYPE_F32, 3, D(4, 1, 5));
    ir_value *e = tl_input(g, "e", IR_DTYPE_F32, 2, D(3, 1));
    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 0, NULL);
    ir_value *z = tl_input(g, "z", IR_DTYPE_F32, 2, D(0, 3));
    ir_value *o = tl_input(g, "o", IR_DTYPE_F32, 2, D(1, 3));
    ir_node *n1 = tl_node(g, IR_OP_ADD, "n1", 2, (ir_value *[]){a, b}, 1, "y1");
    ir_node *n2 = tl_node(g, IR_OP_SUB, "n2", 2, (ir_value *[]){b, a}, 1, "y2");
    ir_node *n3 = tl_node(g, IR_OP_MUL, "n3", 2, (ir_value *[]){c, e}, 1, "y3");
    ir_node *n4 = tl_node(g, IR_OP_DIV, "n4", 2, (ir_value *[]){s, a}, 1, "y4");
    ir_node *n5 = tl_node(g, IR_OP_POW, "n5", 2, (ir_value *[]){s, s}, 1, "y5");
    ir_node *n6 = tl_node(g, IR_OP_ADD, "n6", 2, (ir_value *[]){z, o}, 1, "y6");
    tl_infer_ok(g);
    tl_assert_shape(n1->outputs[0], 2, D(2, 3));
    tl_assert_shape(n2->outputs[0], 2, D(2, 3));
    tl_assert_shape(n3->outputs[0], 3, D(4, 3, 5));
    tl_assert_shape(n4->outputs[0], 2, D(2, 3));
    tl_assert_shape(n5->outputs[0], 0, NULL);
    tl_assert_shape(n6->outputs[0], 2, D(0, 3));
    cr_assert_eq(n1->outputs[0]->dtype, IR_DTYPE_F32);
    ir_graph_free(g);
}

Test(elementwise_infer, binary_cannot_broadcast)
{
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_ADD, IR_DTYPE_F32, 2, D(2, 3), IR_DTYPE_F32, 1, D(4));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "test.lir: node \"n\" (Add): cannot broadcast [2,3] with [4]");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_I64, 3, D(2, 1, 3), IR_DTYPE_I64, 2, D(2, 2));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "cannot broadcast [2,1,3] with [2,2]");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_SUB, IR_DTYPE_F32, 2, D(0, 3), IR_DTYPE_F32, 2, D(2, 3));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "cannot broadcast [0,3] with [2,3]");
    ir_graph_free(g);
}

Test(elementwise_infer, binary_dtypes)
{
    static const ir_op ops[] = {IR_OP_ADD, IR_OP_SUB, IR_OP_MUL, IR_OP_DIV};
    static const ir_dtype ok[] = {IR_DTYPE_F32, IR_DTYPE_F64, IR_DTYPE_I64,
                                  IR_DTYPE_I32, IR_DTYPE_I8,  IR_DTYPE_U8};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 6; k++) {
            ir_graph *g = tl_graph("g");
            ir_node *n = binary_graph(g, ops[i], ok[k], 1, D(2), ok[k], 0, NULL);
            tl_infer_ok(g);
            cr_assert_eq(n->outputs[0]->dtype, ok[k]);
            ir_graph_free(g);
        }
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_ADD, IR_DTYPE_F32, 1, D(2), IR_DTYPE_I64, 1, D(2));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input dtypes differ: f32 (\"a\") and i64 (\"b\")");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_BOOL, 1, D(2), IR_DTYPE_BOOL, 1, D(2));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input 0 (\"a\") has dtype bool; expected one of f32, f64, i64, i32, i8, u8");
    ir_graph_free(g);
}

/* ONNX Pow-15: base f32/f64/i32/i64, exponent any numeric type, output the
 * base's type. */
Test(elementwise_infer, pow_dtypes)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = binary_graph(g, IR_OP_POW, IR_DTYPE_F32, 1, D(3), IR_DTYPE_I64, 1, D(3));
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_F32);
    ir_graph_free(g);
    g = tl_graph("g");
    n = binary_graph(g, IR_OP_POW, IR_DTYPE_I32, 2, D(2, 1), IR_DTYPE_U8, 1, D(3));
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_I32);
    tl_assert_shape(n->outputs[0], 2, D(2, 3));
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_U8, 1, D(3), IR_DTYPE_U8, 1, D(3));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input 0 (\"a\") has dtype u8; expected one of f32, f64, i64, i32");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_F64, 1, D(3), IR_DTYPE_BOOL, 1, D(3));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "input 1 (\"b\") has dtype bool");
    ir_graph_free(g);
}

Test(elementwise_infer, unary_dtypes)
{
    static const struct {
        ir_op op;
        ir_dtype t;
        bool ok;
    } cases[] = {
        {IR_OP_SQRT, IR_DTYPE_F64, true},        {IR_OP_SQRT, IR_DTYPE_I32, false},
        {IR_OP_EXP, IR_DTYPE_I64, false},        {IR_OP_LOG, IR_DTYPE_F32, true},
        {IR_OP_ERF, IR_DTYPE_I32, true},         {IR_OP_ERF, IR_DTYPE_BOOL, false},
        {IR_OP_NEG, IR_DTYPE_I8, true},          {IR_OP_NEG, IR_DTYPE_U8, false},
        {IR_OP_ABS, IR_DTYPE_U8, true},          {IR_OP_ABS, IR_DTYPE_BOOL, false},
        {IR_OP_RECIPROCAL, IR_DTYPE_I64, false}, {IR_OP_RELU, IR_DTYPE_I64, true},
        {IR_OP_RELU, IR_DTYPE_U8, false},        {IR_OP_LEAKY_RELU, IR_DTYPE_F64, true},
        {IR_OP_LEAKY_RELU, IR_DTYPE_I32, false}, {IR_OP_SIGMOID, IR_DTYPE_I32, false},
        {IR_OP_TANH, IR_DTYPE_F32, true},        {IR_OP_HARD_SIGMOID, IR_DTYPE_I8, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, cases[i].op, cases[i].t, 3, D(2, 0, 4));
        if (cases[i].ok) {
            tl_infer_ok(g);
            cr_assert_eq(n->outputs[0]->dtype, cases[i].t);
            tl_assert_shape(n->outputs[0], 3, D(2, 0, 4));
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "(%s): input 0 (\"x\") has dtype %s", ir_op_name(cases[i].op),
                     ir_dtype_name(cases[i].t));
            infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, msg);
        }
        ir_graph_free(g);
    }
}

Test(elementwise_infer, clip)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I32, 2, D(2, 3));
    ir_value *lo = tl_const(g, "lo", IR_DTYPE_I32, 0, NULL, (int32_t[]){-1});
    ir_value *hi = tl_input(g, "hi", IR_DTYPE_I32, 1, D(1));
    ir_node *n1 = tl_node(g, IR_OP_CLIP, "c1", 3, (ir_value *[]){x, lo, hi}, 1, "y1");
    ir_node *n2 = tl_node(g, IR_OP_CLIP, "c2", 3, (ir_value *[]){x, NULL, hi}, 1, "y2");
    ir_node *n3 = tl_node(g, IR_OP_CLIP, "c3", 1, (ir_value *[]){x}, 1, "y3");
    tl_infer_ok(g);
    tl_assert_shape(n1->outputs[0], 2, D(2, 3));
    cr_assert_eq(n1->outputs[0]->dtype, IR_DTYPE_I32);
    tl_assert_shape(n2->outputs[0], 2, D(2, 3));
    tl_assert_shape(n3->outputs[0], 2, D(2, 3));
    ir_graph_free(g);

    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(4));
    lo = tl_input(g, "lo", IR_DTYPE_F32, 1, D(2));
    tl_node(g, IR_OP_CLIP, "c", 2, (ir_value *[]){x, lo}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "min (\"lo\") must be a scalar, got shape [2]");
    ir_graph_free(g);

    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(4));
    hi = tl_input(g, "hi", IR_DTYPE_F64, 0, NULL);
    tl_node(g, IR_OP_CLIP, "c", 3, (ir_value *[]){x, NULL, hi}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "input dtypes differ: f32 (\"x\") and f64");
    ir_graph_free(g);

    /* Clip-6 attributes: float only, and not together with inputs */
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(4));
    ir_node *n = tl_node(g, IR_OP_CLIP, "c", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_float(g, n, "min", 0.0f);
    tl_infer_ok(g);
    ir_graph_free(g);

    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(4));
    lo = tl_input(g, "lo", IR_DTYPE_F32, 0, NULL);
    n = tl_node(g, IR_OP_CLIP, "c", 2, (ir_value *[]){x, lo}, 1, "y");
    ir_node_set_float(g, n, "max", 6.0f);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "given both as attributes (Clip-6) and as inputs");
    ir_graph_free(g);

    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_I64, 1, D(4));
    n = tl_node(g, IR_OP_CLIP, "c", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_float(g, n, "max", 6.0f);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "attributes (Clip-6) need a float input, got i64");
    ir_graph_free(g);

    g = tl_graph("g");
    unary_graph(g, IR_OP_CLIP, IR_DTYPE_BOOL, 1, D(4));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "has dtype bool");
    ir_graph_free(g);
}

Test(elementwise_infer, where)
{
    ir_graph *g = tl_graph("g");
    ir_value *c = tl_input(g, "c", IR_DTYPE_BOOL, 3, D(2, 1, 1));
    ir_value *x = tl_input(g, "x", IR_DTYPE_I64, 2, D(3, 1));
    ir_value *y = tl_input(g, "y", IR_DTYPE_I64, 2, D(1, 4));
    ir_value *s = tl_input(g, "s", IR_DTYPE_I64, 0, NULL);
    ir_node *n1 = tl_node(g, IR_OP_WHERE, "w1", 3, (ir_value *[]){c, x, y}, 1, "o1");
    ir_node *n2 = tl_node(g, IR_OP_WHERE, "w2", 3, (ir_value *[]){c, s, s}, 1, "o2");
    tl_infer_ok(g);
    tl_assert_shape(n1->outputs[0], 3, D(2, 3, 4));
    cr_assert_eq(n1->outputs[0]->dtype, IR_DTYPE_I64);
    tl_assert_shape(n2->outputs[0], 3, D(2, 1, 1));
    ir_graph_free(g);

    g = tl_graph("g");
    c = tl_input(g, "c", IR_DTYPE_BOOL, 2, D(2, 3));
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(3));
    y = tl_input(g, "y", IR_DTYPE_F32, 1, D(2));
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, y}, 1, "o");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "(Where): cannot broadcast [2,3] with [2]");
    ir_graph_free(g);

    g = tl_graph("g");
    c = tl_input(g, "c", IR_DTYPE_U8, 1, D(3));
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(3));
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, x}, 1, "o");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input 0 (\"c\") has dtype u8; expected one of bool");
    ir_graph_free(g);

    g = tl_graph("g");
    c = tl_input(g, "c", IR_DTYPE_BOOL, 1, D(3));
    x = tl_input(g, "x", IR_DTYPE_F32, 1, D(3));
    y = tl_input(g, "y", IR_DTYPE_I32, 1, D(3));
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, y}, 1, "o");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input dtypes differ: f32 (\"x\") and i32 (\"y\")");
    ir_graph_free(g);
}

Test(elementwise_infer, compare)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = binary_graph(g, IR_OP_LESS, IR_DTYPE_F32, 2, D(2, 1), IR_DTYPE_F32, 1, D(5));
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_BOOL);
    tl_assert_shape(n->outputs[0], 2, D(2, 5));
    ir_graph_free(g);
    g = tl_graph("g");
    n = binary_graph(g, IR_OP_EQUAL, IR_DTYPE_BOOL, 0, NULL, IR_DTYPE_BOOL, 1, D(5));
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_BOOL);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_GREATER, IR_DTYPE_BOOL, 1, D(5), IR_DTYPE_BOOL, 1, D(5));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "(Greater): input 0 (\"a\") has dtype bool");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_EQUAL, IR_DTYPE_I32, 1, D(5), IR_DTYPE_I64, 1, D(5));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "input dtypes differ: i32 (\"a\") and i64 (\"b\")");
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_EQUAL, IR_DTYPE_I32, 1, D(5), IR_DTYPE_I32, 1, D(4));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "cannot broadcast [5] with [4]");
    ir_graph_free(g);
}

Test(elementwise_infer, cast)
{
    /* ONNX TensorProto codes, written out independently of ir_dtype_from_onnx */
    static const struct {
        int code;
        ir_dtype t;
    } ok[] = {{1, IR_DTYPE_F32}, {11, IR_DTYPE_F64}, {7, IR_DTYPE_I64}, {6, IR_DTYPE_I32},
              {3, IR_DTYPE_I8},  {2, IR_DTYPE_U8},   {9, IR_DTYPE_BOOL}, {10, IR_DTYPE_F16},
              {16, IR_DTYPE_BF16}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, IR_OP_CAST, IR_DTYPE_F32, 2, D(3, 2));
        ir_node_set_int(g, n, "to", ok[i].code);
        tl_infer_ok(g);
        cr_assert_eq(n->outputs[0]->dtype, ok[i].t);
        tl_assert_shape(n->outputs[0], 2, D(3, 2));
        ir_graph_free(g);
    }
    static const struct {
        int code;
        loom_status st;
        const char *msg;
    } bad[] = {
        {4, LOOM_STATUS_UNSUPPORTED, "cast to UINT16 (ONNX data type 4) is not supported"},
        {8, LOOM_STATUS_UNSUPPORTED, "cast to STRING (ONNX data type 8)"},
        {13, LOOM_STATUS_UNSUPPORTED, "cast to UINT64 (ONNX data type 13)"},
        {0, LOOM_STATUS_INVALID_MODEL, "cast to UNDEFINED (ONNX data type 0)"},
        {99, LOOM_STATUS_INVALID_MODEL, "(ONNX data type 99)"},
        {-3, LOOM_STATUS_INVALID_MODEL, "(ONNX data type -3)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, IR_OP_CAST, IR_DTYPE_F32, 1, D(3));
        ir_node_set_int(g, n, "to", bad[i].code);
        infer_fails_with(g, bad[i].st, bad[i].msg);
        ir_graph_free(g);
    }
    ir_graph *g = tl_graph("g");
    unary_graph(g, IR_OP_CAST, IR_DTYPE_F32, 1, D(3));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "required attribute \"to\" is missing");
    ir_graph_free(g);
}

/* A Reduce node over x [2,3,4] f32; axes_in, when not NULL, becomes input 1. */
static ir_node *reduce_graph(ir_graph *g, ir_op op, ir_value *axes_in)
{
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(2, 3, 4));
    if (axes_in)
        return tl_node(g, op, "r", 2, (ir_value *[]){x, axes_in}, 1, "y");
    return tl_node(g, op, "r", 1, (ir_value *[]){x}, 1, "y");
}

Test(elementwise_infer, reduce_shapes)
{
    static const struct {
        int n_axes;
        int64_t axes[3];
        int keepdims, noop;
        int rank;
        int64_t dims[3];
    } cases[] = {
        {1, {1}, 1, 0, 3, {2, 1, 4}},  {1, {1}, 0, 0, 2, {2, 4}},
        {1, {-1}, 0, 0, 2, {2, 3}},    {2, {0, -1}, 1, 0, 3, {1, 3, 1}},
        {2, {2, 0}, 0, 0, 1, {3}},     {3, {0, 1, 2}, 0, 0, 0, {0}},
        {0, {0}, 1, 0, 3, {1, 1, 1}},  {0, {0}, 0, 0, 0, {0}},
        {0, {0}, 0, 1, 3, {2, 3, 4}},  {-1, {0}, 0, 0, 0, {0}},
        {-1, {0}, 1, 1, 3, {2, 3, 4}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int form = 0; form < 2; form++) { /* attribute, constant input */
            ir_graph *g = tl_graph("g");
            ir_value *axes = NULL;
            if (form == 1 && cases[i].n_axes >= 0)
                axes = tl_const_i64(g, "axes", 1, D(cases[i].n_axes), cases[i].axes);
            ir_node *n = reduce_graph(g, IR_OP_REDUCE_SUM, axes);
            if (form == 0 && cases[i].n_axes >= 0)
                ir_node_set_ints(g, n, "axes", cases[i].axes, cases[i].n_axes);
            ir_node_set_int(g, n, "keepdims", cases[i].keepdims);
            ir_node_set_int(g, n, "noop_with_empty_axes", cases[i].noop);
            tl_infer_ok(g);
            tl_assert_shape(n->outputs[0], cases[i].rank, cases[i].dims);
            cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_F32);
            ir_graph_free(g);
        }
}

Test(elementwise_infer, reduce_keepdims_default_and_scalar)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = reduce_graph(g, IR_OP_REDUCE_MEAN, NULL);
    ir_node_set_ints(g, n, "axes", D(-2), 1);
    ir_value *s = tl_input(g, "s", IR_DTYPE_I64, 0, NULL);
    ir_node *m = tl_node(g, IR_OP_REDUCE_MAX, "m", 1, (ir_value *[]){s}, 1, "z");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 3, D(2, 1, 4));
    tl_assert_shape(m->outputs[0], 0, NULL);
    cr_assert_eq(m->outputs[0]->dtype, IR_DTYPE_I64);
    ir_graph_free(g);
}

Test(elementwise_infer, reduce_errors)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = reduce_graph(g, IR_OP_REDUCE_MEAN, NULL);
    ir_node_set_ints(g, n, "axes", D(3), 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "node \"r\" (ReduceMean): axis 3 is out of range for rank 3");
    ir_graph_free(g);

    g = tl_graph("g");
    reduce_graph(g, IR_OP_REDUCE_SUM, tl_const_i64(g, "axes", 1, D(1), D(-4)));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis -4 is out of range for rank 3");
    ir_graph_free(g);

    g = tl_graph("g");
    n = reduce_graph(g, IR_OP_REDUCE_MAX, NULL);
    ir_node_set_ints(g, n, "axes", D(1, -2), 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis -2 repeats axis 1");
    ir_graph_free(g);

    g = tl_graph("g");
    reduce_graph(g, IR_OP_REDUCE_SUM, tl_const_i64(g, "axes", 1, D(2), D(2, 2)));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 2 repeats axis 2");
    ir_graph_free(g);

    g = tl_graph("g");
    reduce_graph(g, IR_OP_REDUCE_SUM, tl_const_i64(g, "axes", 1, D(4), D(0, 1, 2, 0)));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "4 axes given for an input of rank 3");
    ir_graph_free(g);

    g = tl_graph("g");
    reduce_graph(g, IR_OP_REDUCE_SUM, tl_input(g, "axes", IR_DTYPE_I64, 1, D(1)));
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "axes input \"axes\" must be a constant");
    ir_graph_free(g);

    g = tl_graph("g");
    reduce_graph(g, IR_OP_REDUCE_SUM, tl_const(g, "axes", IR_DTYPE_I32, 1, D(1), (int32_t[]){1}));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "axes input \"axes\" must be a 1-D i64 tensor, got i32 [1]");
    ir_graph_free(g);

    g = tl_graph("g");
    n = reduce_graph(g, IR_OP_REDUCE_MEAN, tl_const_i64(g, "axes", 1, D(1), D(1)));
    ir_node_set_ints(g, n, "axes", D(1), 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axes given both as attribute and as input");
    ir_graph_free(g);
}

Test(elementwise_infer, reduce_dtypes)
{
    static const struct {
        ir_op op;
        ir_dtype t;
        bool ok;
    } cases[] = {
        {IR_OP_REDUCE_SUM, IR_DTYPE_I32, true},   {IR_OP_REDUCE_SUM, IR_DTYPE_U8, false},
        {IR_OP_REDUCE_MEAN, IR_DTYPE_F64, true},  {IR_OP_REDUCE_MEAN, IR_DTYPE_BOOL, false},
        {IR_OP_REDUCE_MAX, IR_DTYPE_I8, true},    {IR_OP_REDUCE_MAX, IR_DTYPE_BOOL, true},
        {IR_OP_REDUCE_SUM, IR_DTYPE_BOOL, false}, {IR_OP_REDUCE_MEAN, IR_DTYPE_I64, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, cases[i].op, cases[i].t, 2, D(2, 3));
        if (cases[i].ok) {
            tl_infer_ok(g);
            cr_assert_eq(n->outputs[0]->dtype, cases[i].t);
            tl_assert_shape(n->outputs[0], 2, D(1, 1));
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "input 0 (\"x\") has dtype %s", ir_dtype_name(cases[i].t));
            infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, msg);
        }
        ir_graph_free(g);
    }
}

Test(elementwise_infer, identity_and_dropout)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I64, 2, D(2, 5));
    ir_value *f = tl_input(g, "f", IR_DTYPE_F64, 1, D(7));
    ir_value *ratio = tl_const_f32(g, "ratio", 0, NULL, (float[]){0.3f});
    ir_value *off = tl_const(g, "off", IR_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
    ir_node *id = tl_node(g, IR_OP_IDENTITY, "id", 1, (ir_value *[]){x}, 1, "y");
    ir_node *d1 =
        tl_node(g, IR_OP_DROPOUT, "d1", 3, (ir_value *[]){f, ratio, off}, 2, "o1", "mask1");
    ir_node *d2 = tl_node(g, IR_OP_DROPOUT, "d2", 1, (ir_value *[]){f}, 1, "o2");
    tl_infer_ok(g);
    cr_assert_eq(id->outputs[0]->dtype, IR_DTYPE_I64);
    tl_assert_shape(id->outputs[0], 2, D(2, 5));
    cr_assert_eq(d1->outputs[0]->dtype, IR_DTYPE_F64);
    cr_assert_eq(d1->outputs[1]->dtype, IR_DTYPE_BOOL);
    tl_assert_shape(d1->outputs[1], 1, D(7));
    tl_assert_shape(d2->outputs[0], 1, D(7));
    ir_graph_free(g);

    g = tl_graph("g");
    f = tl_input(g, "f", IR_DTYPE_F32, 1, D(7));
    ir_value *on = tl_const(g, "on", IR_DTYPE_BOOL, 0, NULL, (uint8_t[]){1});
    tl_node(g, IR_OP_DROPOUT, "d", 3, (ir_value *[]){f, NULL, on}, 1, "o");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED,
                     "node \"d\" (Dropout): training_mode is true; only inference Dropout is "
                     "supported");
    ir_graph_free(g);

    g = tl_graph("g");
    f = tl_input(g, "f", IR_DTYPE_F32, 1, D(7));
    ir_value *t = tl_input(g, "t", IR_DTYPE_BOOL, 0, NULL);
    tl_node(g, IR_OP_DROPOUT, "d", 3, (ir_value *[]){f, NULL, t}, 1, "o");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "training_mode (\"t\") is not a constant");
    ir_graph_free(g);

    g = tl_graph("g");
    unary_graph(g, IR_OP_DROPOUT, IR_DTYPE_I32, 1, D(7));
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "has dtype i32; expected one of f32, f64");
    ir_graph_free(g);
}

/* ---- interpreter: binary arithmetic ---- */

Test(elementwise_interp, add_broadcast_both_directions)
{
    float a[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}; /* [2,1,3] */
    float b[4] = {10, 20, 30, 40};                       /* [4,1] */
    float want[24] = {9.0f,  9.5f,  10.0f, 19.0f, 19.5f, 20.0f, 29.0f, 29.5f,
                      30.0f, 39.0f, 39.5f, 40.0f, 10.5f, 11.0f, 11.5f, 20.5f,
                      21.0f, 21.5f, 30.5f, 31.0f, 31.5f, 40.5f, 41.0f, 41.5f};
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_ADD, IR_DTYPE_F32, 3, D(2, 1, 3), IR_DTYPE_F32, 2, D(4, 1));
    run2_exact(g, a, b, want, 24);
    tl_assert_shape(g->outputs[0], 3, D(2, 4, 3));
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_ADD, IR_DTYPE_F32, 2, D(4, 1), IR_DTYPE_F32, 3, D(2, 1, 3));
    run2_exact(g, b, a, want, 24);
    ir_graph_free(g);
}

Test(elementwise_interp, sub_scalar)
{
    float s = 2.5f, x[6] = {1.5f, 3.0f, 4.5f, 6.0f, 7.5f, 9.0f};
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_SUB, IR_DTYPE_F32, 0, NULL, IR_DTYPE_F32, 2, D(2, 3));
    run2_exact(g, &s, x, (float[]){1.0f, -0.5f, -2.0f, -3.5f, -5.0f, -6.5f}, 6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_SUB, IR_DTYPE_F32, 2, D(2, 3), IR_DTYPE_F32, 0, NULL);
    run2_exact(g, x, &s, (float[]){-1.0f, 0.5f, 2.0f, 3.5f, 5.0f, 6.5f}, 6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_F32, 0, NULL, IR_DTYPE_F32, 0, NULL);
    run2_exact(g, &s, &s, (float[]){6.25f}, 1);
    tl_assert_shape(g->outputs[0], 0, NULL);
    ir_graph_free(g);
}

Test(elementwise_interp, mul_div_f64)
{
    double a[3] = {1, 2, 3}, b[4] = {0.5, 0.25, 2, -1}; /* [3,1] and [1,4] */
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_F64, 2, D(3, 1), IR_DTYPE_F64, 2, D(1, 4));
    run2_exact(g, a, b, (double[]){0.5, 0.25, 2.0, -1.0, 1.0, 0.5, 4.0, -2.0, 1.5, 0.75, 6.0, -3.0},
               12);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_F64, 2, D(3, 1), IR_DTYPE_F64, 2, D(1, 4));
    run2_exact(g, a, b, (double[]){2.0, 4.0, 0.5, -1.0, 4.0, 8.0, 1.0, -2.0, 6.0, 12.0, 1.5, -3.0},
               12);
    ir_graph_free(g);
}

/* Integer Div truncates toward zero; arithmetic wraps in the dtype. */
Test(elementwise_interp, integer_arithmetic)
{
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_I32, 2, D(2, 4), IR_DTYPE_I32, 1, D(4));
    run2_exact(g, (int32_t[]){7, -7, 7, -7, 100, -100, 1, 0}, (int32_t[]){2, 2, -2, -2},
               (int32_t[]){3, -3, -3, 3, 50, -50, 0, 0}, 8);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_I64, 1, D(3), IR_DTYPE_I64, 2, D(2, 3));
    run2_exact(g, (int64_t[]){9, -9, 20}, (int64_t[]){2, 4, -3, -1, 5, 7},
               (int64_t[]){4, -2, -6, -9, -1, 2}, 6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_ADD, IR_DTYPE_I8, 1, D(4), IR_DTYPE_I8, 1, D(4));
    run2_exact(g, (int8_t[]){100, -100, 127, -128}, (int8_t[]){100, -100, 1, -1},
               (int8_t[]){-56, 56, -128, 127}, 4);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_I8, 1, D(3), IR_DTYPE_I8, 1, D(3));
    run2_exact(g, (int8_t[]){-128, -7, 127}, (int8_t[]){-1, 3, -2}, (int8_t[]){-128, -2, -63}, 3);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_SUB, IR_DTYPE_U8, 1, D(2), IR_DTYPE_U8, 1, D(2));
    run2_exact(g, (uint8_t[]){3, 200}, (uint8_t[]){5, 100}, (uint8_t[]){254, 100}, 2);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_U8, 1, D(2), IR_DTYPE_U8, 1, D(2));
    run2_exact(g, (uint8_t[]){16, 20}, (uint8_t[]){16, 13}, (uint8_t[]){0, 4}, 2);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_U8, 1, D(2), IR_DTYPE_U8, 1, D(2));
    run2_exact(g, (uint8_t[]){255, 7}, (uint8_t[]){2, 8}, (uint8_t[]){127, 0}, 2);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_MUL, IR_DTYPE_I64, 1, D(2), IR_DTYPE_I64, 1, D(2));
    run2_exact(g, (int64_t[]){INT64_C(4611686018427387904), 3}, (int64_t[]){4, -5},
               (int64_t[]){0, -15}, 2);
    ir_graph_free(g);
}

Test(elementwise_interp, integer_division_by_zero_is_an_error)
{
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_DIV, IR_DTYPE_I32, 1, D(2), IR_DTYPE_I32, 0, NULL);
    tl_infer_ok(g);
    int32_t out[2];
    ir_diag d;
    ir_diag_init(&d);
    loom_status st =
        interp_run(g, (const void *[]){(int32_t[]){4, 5}, (int32_t[]){0}}, (void *[]){out}, &d);
    cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL);
    cr_assert(d.text && strstr(d.text, "node \"n\" (Div): integer division by zero"), "%s",
              d.text ? d.text : "");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Integer Pow goes through double and converts like Cast (onnxruntime). */
Test(elementwise_interp, pow)
{
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_F32, 1, D(4), IR_DTYPE_F32, 1, D(4));
    run2_exact(g, (float[]){2, -2, 4, 0.5f}, (float[]){3, 2, 0.5f, -1},
               (float[]){8.0f, 4.0f, 2.0f, 2.0f}, 4);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_F32, 1, D(3), IR_DTYPE_I64, 1, D(3));
    run2_exact(g, (float[]){1.5f, 2, -3}, (int64_t[]){2, -1, 3}, (float[]){2.25f, 0.5f, -27.0f}, 3);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_I32, 1, D(4), IR_DTYPE_F32, 1, D(4));
    run2_exact(g, (int32_t[]){2, -3, 2, 4}, (float[]){0.5f, 2, -1, 0.5f}, (int32_t[]){1, 9, 0, 2},
               4);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_I64, 1, D(8), IR_DTYPE_I64, 1, D(8));
    run2_exact(g, (int64_t[]){2, -3, 2, 0, 1, -1, 2, 3}, (int64_t[]){10, 3, -1, 0, -5, -3, 63, 39},
               (int64_t[]){1024, -27, 0, 1, 1, -1, INT64_MIN, INT64_C(4052555153018976256)}, 8);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_POW, IR_DTYPE_I32, 1, D(3), IR_DTYPE_I32, 1, D(3));
    run2_exact(g, (int32_t[]){3, 7, -2}, (int32_t[]){20, 11, 31},
               (int32_t[]){INT32_MIN, 1977326743, INT32_MIN}, 3);
    ir_graph_free(g);
}

/* ---- interpreter: unary ---- */

static const float unary_x[8] = {-2.5f, -1, -0.25f, 0, 0.3f, 1, 2.75f, 4};

/* Runs op (with alpha/beta when >= 0) on unary_x and compares within 1e-6. */
static void check_unary_f32(ir_op op, float alpha, float beta, const float *want)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = unary_graph(g, op, IR_DTYPE_F32, 2, D(2, 4));
    if (alpha >= 0)
        ir_node_set_float(g, n, "alpha", alpha);
    if (beta >= 0)
        ir_node_set_float(g, n, "beta", beta);
    tl_infer_ok(g);
    float out[8];
    tl_run(g, (const void *[]){unary_x}, (void *[]){out});
    tl_assert_close_f32(out, want, 8, 1e-7f, 1e-6f);
    ir_graph_free(g);
}

Test(elementwise_interp, unary_f32)
{
    check_unary_f32(IR_OP_EXP, -1, -1,
                    (float[]){0.08208499848842621f, 0.3678794503211975f, 0.7788007855415344f, 1.0f,
                              1.3498587608337402f, 2.7182817459106445f, 15.642631530761719f,
                              54.598148345947266f});
    check_unary_f32(IR_OP_ERF, -1, -1,
                    (float[]){-0.9995930790901184f, -0.8427007794380188f, -0.27632638812065125f,
                              0.0f, 0.3286267817020416f, 0.8427007794380188f, 0.9998993873596191f,
                              1.0f});
    check_unary_f32(
        IR_OP_NEG, -1, -1,
        (float[]){2.5f, 1.0f, 0.25f, -0.0f, -0.30000001192092896f, -1.0f, -2.75f, -4.0f});
    check_unary_f32(IR_OP_ABS, -1, -1,
                    (float[]){2.5f, 1.0f, 0.25f, 0.0f, 0.30000001192092896f, 1.0f, 2.75f, 4.0f});
    check_unary_f32(IR_OP_RECIPROCAL, -1, -1,
                    (float[]){-0.4000000059604645f, -1.0f, -4.0f, INFINITY, 3.3333332538604736f,
                              1.0f, 0.3636363744735718f, 0.25f});
    check_unary_f32(IR_OP_RELU, -1, -1,
                    (float[]){0.0f, 0.0f, 0.0f, 0.0f, 0.30000001192092896f, 1.0f, 2.75f, 4.0f});
    check_unary_f32(IR_OP_SIGMOID, -1, -1,
                    (float[]){0.07585817575454712f, 0.2689414322376251f, 0.43782350420951843f, 0.5f,
                              0.5744425058364868f, 0.7310585975646973f, 0.9399133920669556f,
                              0.9820137619972229f});
    check_unary_f32(IR_OP_TANH, -1, -1,
                    (float[]){-0.9866143465042114f, -0.7615941762924194f, -0.24491865932941437f,
                              0.0f, 0.2913126051425934f, 0.7615941762924194f, 0.9918597936630249f,
                              0.9993292093276978f});
}

/* LeakyRelu alpha defaults to 0.01; HardSigmoid alpha to 0.2, beta to 0.5. */
Test(elementwise_interp, unary_attributes)
{
    check_unary_f32(IR_OP_LEAKY_RELU, -1, -1,
                    (float[]){-0.02499999850988388f, -0.009999999776482582f,
                              -0.0024999999441206455f, 0.0f, 0.30000001192092896f, 1.0f, 2.75f,
                              4.0f});
    check_unary_f32(
        IR_OP_LEAKY_RELU, 0.5f, -1,
        (float[]){-1.25f, -0.5f, -0.125f, 0.0f, 0.30000001192092896f, 1.0f, 2.75f, 4.0f});
    check_unary_f32(IR_OP_HARD_SIGMOID, -1, -1,
                    (float[]){0.0f, 0.30000001192092896f, 0.44999998807907104f, 0.5f,
                              0.5600000023841858f, 0.699999988079071f, 1.0f, 1.0f});
    check_unary_f32(IR_OP_HARD_SIGMOID, 0.5f, 0.25f,
                    (float[]){0.0f, 0.0f, 0.125f, 0.25f, 0.4000000059604645f, 0.75f, 1.0f, 1.0f});
}

Test(elementwise_interp, sqrt_log_and_specials)
{
    float p[8] = {0.01f, 0.25f, 1, 2, 10, 100, 0, -1};
    float out[8];
    ir_graph *g = tl_graph("g");
    unary_graph(g, IR_OP_SQRT, IR_DTYPE_F32, 1, D(8));
    tl_infer_ok(g);
    tl_run(g, (const void *[]){p}, (void *[]){out});
    tl_assert_close_f32(out,
                        (float[]){0.10000000149011612f, 0.5f, 1.0f, 1.4142135381698608f,
                                  3.1622776985168457f, 10.0f, 0.0f, NAN},
                        8, 0, 1e-6f);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_LOG, IR_DTYPE_F32, 1, D(8));
    tl_infer_ok(g);
    tl_run(g, (const void *[]){p}, (void *[]){out});
    tl_assert_close_f32(out,
                        (float[]){-4.605170249938965f, -1.3862943649291992f, 0.0f,
                                  0.6931471824645996f, 2.3025851249694824f, 4.605170249938965f,
                                  -INFINITY, NAN},
                        8, 0, 1e-6f);
    ir_graph_free(g);

    /* NaN and infinities: {NaN, -inf, inf} */
    static const struct {
        ir_op op;
        float want[3];
    } sp[] = {
        {IR_OP_RELU, {NAN, 0.0f, INFINITY}},
        {IR_OP_SIGMOID, {NAN, 0.0f, 1.0f}},
        {IR_OP_TANH, {NAN, -1.0f, 1.0f}},
        {IR_OP_ABS, {NAN, INFINITY, INFINITY}},
        {IR_OP_EXP, {NAN, 0.0f, INFINITY}},
        {IR_OP_HARD_SIGMOID, {NAN, 0.0f, 1.0f}},
        {IR_OP_LEAKY_RELU, {NAN, -INFINITY, INFINITY}},
        {IR_OP_NEG, {NAN, INFINITY, -INFINITY}},
        {IR_OP_RECIPROCAL, {NAN, -0.0f, 0.0f}},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        g = tl_graph("g");
        unary_graph(g, sp[i].op, IR_DTYPE_F32, 1, D(3));
        run1_exact(g, (float[]){NAN, -INFINITY, INFINITY}, sp[i].want, 3);
        ir_graph_free(g);
    }
}

Test(elementwise_interp, unary_f64)
{
    double x[6] = {-3, -0.5, 0, 0.5, 3, 710};
    static const struct {
        ir_op op;
        double want[6];
    } cases[] = {
        {IR_OP_EXP,
         {0.049787068367863944, 0.6065306597126334, 1.0, 1.6487212707001282, 20.085536923187668,
          INFINITY}},
        {IR_OP_TANH,
         {-0.9950547536867305, -0.4621171572600098, 0.0, 0.4621171572600098, 0.9950547536867305,
          1.0}},
        {IR_OP_SIGMOID, /* numpy 1 / (1 + exp(-x)); onnxruntime's is 3e-15 off */
         {0.04742587317756678, 0.3775406687981454, 0.5, 0.6224593312018546, 0.9525741268224334,
          1.0}},
        {IR_OP_ERF, /* Python math.erf */
         {-0.9999779095030014, -0.5204998778130465, 0.0, 0.5204998778130465, 0.9999779095030014,
          1.0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_graph *g = tl_graph("g");
        unary_graph(g, cases[i].op, IR_DTYPE_F64, 1, D(6));
        tl_infer_ok(g);
        double out[6];
        tl_run(g, (const void *[]){x}, (void *[]){out});
        assert_close_f64(out, cases[i].want, 6, 1e-15);
        ir_graph_free(g);
    }
}

Test(elementwise_interp, unary_integer)
{
    ir_graph *g = tl_graph("g");
    unary_graph(g, IR_OP_NEG, IR_DTYPE_I32, 1, D(4));
    run1_exact(g, (int32_t[]){INT32_MIN, -5, 0, 7}, (int32_t[]){INT32_MIN, 5, 0, -7}, 4);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_NEG, IR_DTYPE_I64, 1, D(2));
    run1_exact(g, (int64_t[]){INT64_MIN, 1}, (int64_t[]){INT64_MIN, -1}, 2);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_ABS, IR_DTYPE_I8, 1, D(4));
    run1_exact(g, (int8_t[]){-128, -5, 0, 7}, (int8_t[]){-128, 5, 0, 7}, 4);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_ABS, IR_DTYPE_U8, 1, D(3));
    run1_exact(g, (uint8_t[]){0, 200, 255}, (uint8_t[]){0, 200, 255}, 3);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_RELU, IR_DTYPE_I64, 1, D(4)); /* numpy maximum(x, 0) */
    run1_exact(g, (int64_t[]){-3, 0, 5, INT64_MIN}, (int64_t[]){0, 0, 5, 0}, 4);
    ir_graph_free(g);
    g = tl_graph("g");
    unary_graph(g, IR_OP_ERF, IR_DTYPE_I32, 1, D(5)); /* numpy: erf(x).astype(int32) */
    run1_exact(g, (int32_t[]){-10, -1, 0, 1, 10}, (int32_t[]){-1, 0, 0, 0, 1}, 5);
    ir_graph_free(g);
}

/* ---- interpreter: Clip ---- */

static const float clip_x[8] = {-3, -1.5f, -0.5f, 0, 0.5f, 1.5f, 3, NAN};

/* Clip of clip_x with optional min/max graph inputs (NULL: omitted). */
static void check_clip_f32(const float *lo, const float *hi, const float *want)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, D(8));
    ir_value *vlo = lo ? tl_input(g, "lo", IR_DTYPE_F32, 0, NULL) : NULL;
    ir_value *vhi = hi ? tl_input(g, "hi", IR_DTYPE_F32, 1, D(1)) : NULL;
    tl_node(g, IR_OP_CLIP, "c", hi ? 3 : lo ? 2 : 1, (ir_value *[]){x, vlo, vhi}, 1, "y");
    tl_infer_ok(g);
    const void *ins[3] = {clip_x};
    int k = 1;
    if (lo)
        ins[k++] = lo;
    if (hi)
        ins[k++] = hi;
    float out[8];
    tl_run(g, ins, (void *[]){out});
    assert_exact(out, want, IR_DTYPE_F32, 8);
    ir_graph_free(g);
}

Test(elementwise_interp, clip)
{
    float lo = -1, hi = 1.25f, big = 2, small = -2;
    check_clip_f32(&lo, &hi, (float[]){-1.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.25f, 1.25f, NAN});
    check_clip_f32(NULL, &hi, (float[]){-3.0f, -1.5f, -0.5f, 0.0f, 0.5f, 1.25f, 1.25f, NAN});
    check_clip_f32(&lo, NULL, (float[]){-1.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.5f, 3.0f, NAN});
    check_clip_f32(NULL, NULL, (float[]){-3.0f, -1.5f, -0.5f, 0.0f, 0.5f, 1.5f, 3.0f, NAN});
    /* min > max: everything becomes max */
    check_clip_f32(&big, &small, (float[]){-2.0f, -2.0f, -2.0f, -2.0f, -2.0f, -2.0f, -2.0f, NAN});
}

Test(elementwise_interp, clip_integer_and_constant_bounds)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I32, 2, D(2, 3));
    ir_value *lo = tl_const(g, "lo", IR_DTYPE_I32, 0, NULL, (int32_t[]){-5});
    ir_value *hi = tl_const(g, "hi", IR_DTYPE_I32, 0, NULL, (int32_t[]){100});
    tl_node(g, IR_OP_CLIP, "c", 3, (ir_value *[]){x, lo, hi}, 1, "y");
    run1_exact(g, (int32_t[]){-300, -5, 0, 5, 300, INT32_MAX}, (int32_t[]){-5, -5, 0, 5, 100, 100},
               6);
    ir_graph_free(g);
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_U8, 1, D(4));
    lo = tl_const(g, "lo", IR_DTYPE_U8, 0, NULL, (uint8_t[]){20});
    tl_node(g, IR_OP_CLIP, "c", 2, (ir_value *[]){x, lo}, 1, "y");
    run1_exact(g, (uint8_t[]){0, 10, 200, 255}, (uint8_t[]){20, 20, 200, 255}, 4);
    ir_graph_free(g);
}

/* Clip-6: a missing attribute bound is -FLT_MAX / FLT_MAX, so infinities are
 * clipped to the largest float (onnxruntime opset 6). */
Test(elementwise_interp, clip6_attributes)
{
    float x[6] = {-INFINITY, -5, 0, 5, INFINITY, NAN};
    static const struct {
        bool has_min, has_max;
        float want[6];
    } cases[] = {
        {true, false, {-1.0f, -1.0f, 0.0f, 5.0f, 3.4028234663852886e+38f, NAN}},
        {false, true, {-3.4028234663852886e+38f, -5.0f, 0.0f, 2.0f, 2.0f, NAN}},
        {true, true, {-1.0f, -1.0f, 0.0f, 2.0f, 2.0f, NAN}},
    };
    for (int i = 0; i < 3; i++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, IR_OP_CLIP, IR_DTYPE_F32, 1, D(6));
        if (cases[i].has_min)
            ir_node_set_float(g, n, "min", -1.0f);
        if (cases[i].has_max)
            ir_node_set_float(g, n, "max", 2.0f);
        run1_exact(g, x, cases[i].want, 6);
        ir_graph_free(g);
    }
}

/* ---- interpreter: Where and comparisons ---- */

Test(elementwise_interp, where)
{
    ir_graph *g = tl_graph("g");
    ir_value *c = tl_input(g, "c", IR_DTYPE_BOOL, 3, D(2, 1, 1));
    ir_value *x = tl_input(g, "x", IR_DTYPE_I64, 2, D(3, 1));
    ir_value *y = tl_input(g, "y", IR_DTYPE_I64, 2, D(1, 4));
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, y}, 1, "o");
    tl_infer_ok(g);
    int64_t out[24];
    tl_run(g,
           (const void *[]){(uint8_t[]){1, 0}, (int64_t[]){1, 2, 3}, (int64_t[]){-1, -2, -3, -4}},
           (void *[]){out});
    assert_exact(out, (int64_t[]){1,  1,  1,  1,  2,  2,  2,  2,  3,  3,  3,  3,
                                  -1, -2, -3, -4, -1, -2, -3, -4, -1, -2, -3, -4},
                 IR_DTYPE_I64, 24);
    ir_graph_free(g);

    /* bool values (numpy.where), scalar y */
    g = tl_graph("g");
    c = tl_input(g, "c", IR_DTYPE_BOOL, 1, D(3));
    x = tl_input(g, "x", IR_DTYPE_BOOL, 2, D(2, 1));
    y = tl_const(g, "y", IR_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, y}, 1, "o");
    run2_exact(g, (uint8_t[]){1, 0, 1}, (uint8_t[]){1, 0}, (uint8_t[]){1, 0, 1, 0, 0, 0}, 6);
    ir_graph_free(g);

    /* scalar x, broadcast y */
    g = tl_graph("g");
    c = tl_input(g, "c", IR_DTYPE_BOOL, 2, D(2, 2));
    x = tl_const_f32(g, "x", 0, NULL, (float[]){7.5f});
    y = tl_input(g, "y", IR_DTYPE_F32, 1, D(2));
    tl_node(g, IR_OP_WHERE, "w", 3, (ir_value *[]){c, x, y}, 1, "o");
    run2_exact(g, (uint8_t[]){1, 0, 0, 1}, (float[]){1.25f, -2},
               (float[]){7.5f, -2.0f, 1.25f, 7.5f}, 4);
    ir_graph_free(g);
}

Test(elementwise_interp, compare)
{
    ir_graph *g = tl_graph("g");
    binary_graph(g, IR_OP_EQUAL, IR_DTYPE_BOOL, 2, D(2, 1), IR_DTYPE_BOOL, 1, D(3));
    run2_exact(g, (uint8_t[]){1, 0}, (uint8_t[]){1, 0, 1}, (uint8_t[]){1, 0, 1, 0, 1, 0}, 6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_EQUAL, IR_DTYPE_I32, 2, D(2, 3), IR_DTYPE_I32, 2, D(2, 1));
    run2_exact(g, (int32_t[]){1, 2, 3, 4, 5, 6}, (int32_t[]){1, 5}, (uint8_t[]){1, 0, 0, 0, 1, 0},
               6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_EQUAL, IR_DTYPE_F32, 1, D(3), IR_DTYPE_F32, 1, D(3));
    run2_exact(g, (float[]){NAN, 1, 0}, (float[]){NAN, 1, -0.0f}, (uint8_t[]){0, 1, 1}, 3);
    ir_graph_free(g);

    float xl[5] = {NAN, -1, 0, 2, INFINITY}, zero = 0;
    g = tl_graph("g");
    binary_graph(g, IR_OP_LESS, IR_DTYPE_F32, 1, D(5), IR_DTYPE_F32, 0, NULL);
    run2_exact(g, xl, &zero, (uint8_t[]){0, 1, 0, 0, 0}, 5);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_GREATER, IR_DTYPE_F32, 1, D(5), IR_DTYPE_F32, 0, NULL);
    run2_exact(g, xl, &zero, (uint8_t[]){0, 0, 0, 1, 1}, 5);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_LESS, IR_DTYPE_F32, 0, NULL, IR_DTYPE_F32, 1, D(5));
    run2_exact(g, &zero, xl, (uint8_t[]){0, 0, 0, 1, 1}, 5);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_GREATER, IR_DTYPE_U8, 1, D(3), IR_DTYPE_U8, 2, D(2, 1));
    run2_exact(g, (uint8_t[]){0, 128, 255}, (uint8_t[]){1, 200}, (uint8_t[]){0, 1, 1, 0, 0, 1}, 6);
    ir_graph_free(g);
    g = tl_graph("g");
    binary_graph(g, IR_OP_LESS, IR_DTYPE_I64, 1, D(2), IR_DTYPE_I64, 1, D(2));
    run2_exact(g, (int64_t[]){INT64_MIN, 5}, (int64_t[]){INT64_C(4611686018427387904), 5},
               (uint8_t[]){1, 0}, 2);
    ir_graph_free(g);
}

/* ---- interpreter: Cast ---- */

typedef struct cast_case {
    ir_dtype from, to;
    int n;
    const void *want;
} cast_case;

/* Source values per dtype, and onnxruntime's Cast of them to every dtype. */
static const float cast_src_f32[] = {
    0.0f,    -0.0f,    1.7000000476837158f, -1.7000000476837158f, 255.89999389648438f,
    -129.0f, 300.0f,   10000000000.0f,      -10000000000.0f,      3.0000000054977558e+38f,
    NAN,     INFINITY, -INFINITY,           16777216.0f};
static const double cast_src_f64[] = {
    1.7, -2.5, 1e-50, 1e+300, -1e+300, 9007199254740992.0, 4294967296.5, NAN};
static const int64_t cast_src_i64[] = {1099511627779, -1099511627777,      300,     -200, 0,
                                       INT64_MIN,     4611686018427387905, 16777217};
static const int32_t cast_src_i32[] = {INT32_MIN, 2147483647, -1, 0, 200, 16777217};
static const int8_t cast_src_i8[] = {-128, 127, -1, 0, 5};
static const uint8_t cast_src_u8[] = {0, 255, 128, 1};
static const uint8_t cast_src_bool[] = {0, 1};

static const cast_case cast_cases[] = {
    {IR_DTYPE_F32, IR_DTYPE_F32, 14,
     (float[]){0.0f, -0.0f, 1.7000000476837158f, -1.7000000476837158f, 255.89999389648438f, -129.0f,
               300.0f, 10000000000.0f, -10000000000.0f, 3.0000000054977558e+38f, NAN, INFINITY,
               -INFINITY, 16777216.0f}},
    {IR_DTYPE_F32, IR_DTYPE_F64, 14,
     (double[]){0.0, -0.0, 1.7000000476837158, -1.7000000476837158, 255.89999389648438, -129.0,
                300.0, 10000000000.0, -10000000000.0, 3.0000000054977558e+38, NAN, INFINITY,
                -INFINITY, 16777216.0}},
    {IR_DTYPE_F32, IR_DTYPE_I64, 14,
     (int64_t[]){0, 0, 1, -1, 255, -129, 300, 10000000000, -10000000000, INT64_MIN, INT64_MIN,
                 INT64_MIN, INT64_MIN, 16777216}},
    {IR_DTYPE_F32, IR_DTYPE_I32, 14,
     (int32_t[]){0, 0, 1, -1, 255, -129, 300, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN,
                 INT32_MIN, 16777216}},
    {IR_DTYPE_F32, IR_DTYPE_I8, 14, (int8_t[]){0, 0, 1, -1, -1, 127, 44, 0, 0, 0, 0, 0, 0, 0}},
    {IR_DTYPE_F32, IR_DTYPE_U8, 14, (uint8_t[]){0, 0, 1, 255, 255, 127, 44, 0, 0, 0, 0, 0, 0, 0}},
    {IR_DTYPE_F32, IR_DTYPE_BOOL, 14, (uint8_t[]){0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {IR_DTYPE_F64, IR_DTYPE_F32, 8,
     (float[]){1.7000000476837158f, -2.5f, 0.0f, INFINITY, -INFINITY, 9007199254740992.0f,
               4294967296.0f, NAN}},
    {IR_DTYPE_F64, IR_DTYPE_F64, 8,
     (double[]){1.7, -2.5, 1e-50, 1e+300, -1e+300, 9007199254740992.0, 4294967296.5, NAN}},
    {IR_DTYPE_F64, IR_DTYPE_I64, 8,
     (int64_t[]){1, -2, 0, INT64_MIN, INT64_MIN, 9007199254740992, 4294967296, INT64_MIN}},
    {IR_DTYPE_F64, IR_DTYPE_I32, 8,
     (int32_t[]){1, -2, 0, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN}},
    {IR_DTYPE_F64, IR_DTYPE_I8, 8, (int8_t[]){1, -2, 0, 0, 0, 0, 0, 0}},
    {IR_DTYPE_F64, IR_DTYPE_U8, 8, (uint8_t[]){1, 254, 0, 0, 0, 0, 0, 0}},
    {IR_DTYPE_F64, IR_DTYPE_BOOL, 8, (uint8_t[]){1, 1, 1, 1, 1, 1, 1, 1}},
    {IR_DTYPE_I64, IR_DTYPE_F32, 8,
     (float[]){1099511627776.0f, -1099511627776.0f, 300.0f, -200.0f, 0.0f, -9.223372036854776e+18f,
               4.611686018427388e+18f, 16777216.0f}},
    {IR_DTYPE_I64, IR_DTYPE_F64, 8,
     (double[]){1099511627779.0, -1099511627777.0, 300.0, -200.0, 0.0, -9.223372036854776e+18,
                4.611686018427388e+18, 16777217.0}},
    {IR_DTYPE_I64, IR_DTYPE_I64, 8,
     (int64_t[]){1099511627779, -1099511627777, 300, -200, 0, INT64_MIN, 4611686018427387905,
                 16777217}},
    {IR_DTYPE_I64, IR_DTYPE_I32, 8, (int32_t[]){3, -1, 300, -200, 0, 0, 1, 16777217}},
    {IR_DTYPE_I64, IR_DTYPE_I8, 8, (int8_t[]){3, -1, 44, 56, 0, 0, 1, 1}},
    {IR_DTYPE_I64, IR_DTYPE_U8, 8, (uint8_t[]){3, 255, 44, 56, 0, 0, 1, 1}},
    {IR_DTYPE_I64, IR_DTYPE_BOOL, 8, (uint8_t[]){1, 1, 1, 1, 0, 1, 1, 1}},
    {IR_DTYPE_I32, IR_DTYPE_F32, 6,
     (float[]){-2147483648.0f, 2147483648.0f, -1.0f, 0.0f, 200.0f, 16777216.0f}},
    {IR_DTYPE_I32, IR_DTYPE_F64, 6,
     (double[]){-2147483648.0, 2147483647.0, -1.0, 0.0, 200.0, 16777217.0}},
    {IR_DTYPE_I32, IR_DTYPE_I64, 6, (int64_t[]){-2147483648, 2147483647, -1, 0, 200, 16777217}},
    {IR_DTYPE_I32, IR_DTYPE_I32, 6, (int32_t[]){INT32_MIN, 2147483647, -1, 0, 200, 16777217}},
    {IR_DTYPE_I32, IR_DTYPE_I8, 6, (int8_t[]){0, -1, -1, 0, -56, 1}},
    {IR_DTYPE_I32, IR_DTYPE_U8, 6, (uint8_t[]){0, 255, 255, 0, 200, 1}},
    {IR_DTYPE_I32, IR_DTYPE_BOOL, 6, (uint8_t[]){1, 1, 1, 0, 1, 1}},
    {IR_DTYPE_I8, IR_DTYPE_F32, 5, (float[]){-128.0f, 127.0f, -1.0f, 0.0f, 5.0f}},
    {IR_DTYPE_I8, IR_DTYPE_F64, 5, (double[]){-128.0, 127.0, -1.0, 0.0, 5.0}},
    {IR_DTYPE_I8, IR_DTYPE_I64, 5, (int64_t[]){-128, 127, -1, 0, 5}},
    {IR_DTYPE_I8, IR_DTYPE_I32, 5, (int32_t[]){-128, 127, -1, 0, 5}},
    {IR_DTYPE_I8, IR_DTYPE_I8, 5, (int8_t[]){-128, 127, -1, 0, 5}},
    {IR_DTYPE_I8, IR_DTYPE_U8, 5, (uint8_t[]){128, 127, 255, 0, 5}},
    {IR_DTYPE_I8, IR_DTYPE_BOOL, 5, (uint8_t[]){1, 1, 1, 0, 1}},
    {IR_DTYPE_U8, IR_DTYPE_F32, 4, (float[]){0.0f, 255.0f, 128.0f, 1.0f}},
    {IR_DTYPE_U8, IR_DTYPE_F64, 4, (double[]){0.0, 255.0, 128.0, 1.0}},
    {IR_DTYPE_U8, IR_DTYPE_I64, 4, (int64_t[]){0, 255, 128, 1}},
    {IR_DTYPE_U8, IR_DTYPE_I32, 4, (int32_t[]){0, 255, 128, 1}},
    {IR_DTYPE_U8, IR_DTYPE_I8, 4, (int8_t[]){0, -1, -128, 1}},
    {IR_DTYPE_U8, IR_DTYPE_U8, 4, (uint8_t[]){0, 255, 128, 1}},
    {IR_DTYPE_U8, IR_DTYPE_BOOL, 4, (uint8_t[]){0, 1, 1, 1}},
    {IR_DTYPE_BOOL, IR_DTYPE_F32, 2, (float[]){0.0f, 1.0f}},
    {IR_DTYPE_BOOL, IR_DTYPE_F64, 2, (double[]){0.0, 1.0}},
    {IR_DTYPE_BOOL, IR_DTYPE_I64, 2, (int64_t[]){0, 1}},
    {IR_DTYPE_BOOL, IR_DTYPE_I32, 2, (int32_t[]){0, 1}},
    {IR_DTYPE_BOOL, IR_DTYPE_I8, 2, (int8_t[]){0, 1}},
    {IR_DTYPE_BOOL, IR_DTYPE_U8, 2, (uint8_t[]){0, 1}},
    {IR_DTYPE_BOOL, IR_DTYPE_BOOL, 2, (uint8_t[]){0, 1}},
};

static const void *cast_source(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_F32: return cast_src_f32;
    case IR_DTYPE_F64: return cast_src_f64;
    case IR_DTYPE_I64: return cast_src_i64;
    case IR_DTYPE_I32: return cast_src_i32;
    case IR_DTYPE_I8: return cast_src_i8;
    case IR_DTYPE_U8: return cast_src_u8;
    default: return cast_src_bool;
    }
}

/* ONNX TensorProto codes of loom's dtypes, written out here. */
static int onnx_code(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_F32: return 1;
    case IR_DTYPE_F64: return 11;
    case IR_DTYPE_I64: return 7;
    case IR_DTYPE_I32: return 6;
    case IR_DTYPE_I8: return 3;
    case IR_DTYPE_U8: return 2;
    default: return 9;
    }
}

Test(elementwise_interp, cast_all_pairs)
{
    size_t n_cases = sizeof cast_cases / sizeof cast_cases[0];
    /* every pair but those with f16/bf16 (tests/unit/test_half.c) */
    cr_assert_eq(n_cases, (size_t)(IR_DTYPE_COUNT - 2) * (IR_DTYPE_COUNT - 2));
    for (size_t i = 0; i < n_cases; i++) {
        const cast_case *cc = &cast_cases[i];
        ir_graph *g = tl_graph("g");
        ir_node *n = unary_graph(g, IR_OP_CAST, cc->from, 1, D(cc->n));
        ir_node_set_int(g, n, "to", onnx_code(cc->to));
        tl_infer_ok(g);
        cr_assert_eq(n->outputs[0]->dtype, cc->to);
        char out[256];
        tl_run(g, (const void *[]){cast_source(cc->from)}, (void *[]){out});
        cr_log_info("cast %s -> %s", ir_dtype_name(cc->from), ir_dtype_name(cc->to));
        assert_exact(out, cc->want, cc->to, cc->n);
        ir_graph_free(g);
    }
}

/* ---- interpreter: Reduce ---- */

/* x [2,3,4] = ((arange(24) * 7) % 11 - 5) * 0.75 */
static const float reduce_x[24] = {-3.75f, 1.5f,  -1.5f,  3.75f,  0.75f, -2.25f, 3.0f,   0.0f,
                                   -3.0f,  2.25f, -0.75f, -3.75f, 1.5f,  -1.5f,  3.75f,  0.75f,
                                   -2.25f, 3.0f,  0.0f,   -3.0f,  2.25f, -0.75f, -3.75f, 1.5f};

/* Reduce of reduce_x. n_axes < 0: no axes; axes_input: axes as a constant
 * input instead of the attribute. */
static void check_reduce(ir_op op, int n_axes, const int64_t *axes, bool axes_input, int keepdims,
                         int noop, int rank, const int64_t *dims, const float *want)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(2, 3, 4));
    ir_value *ax = NULL;
    if (n_axes >= 0 && axes_input)
        ax = tl_const_i64(g, "axes", 1, D(n_axes), axes);
    ir_node *n = tl_node(g, op, "r", ax ? 2 : 1, (ir_value *[]){x, ax}, 1, "y");
    if (n_axes >= 0 && !axes_input)
        ir_node_set_ints(g, n, "axes", axes, n_axes);
    if (keepdims >= 0)
        ir_node_set_int(g, n, "keepdims", keepdims);
    if (noop >= 0)
        ir_node_set_int(g, n, "noop_with_empty_axes", noop);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], rank, dims);
    float out[24];
    tl_run(g, (const void *[]){reduce_x}, (void *[]){out});
    tl_assert_close_f32(out, want, ir_shape_numel(&n->outputs[0]->shape), 1e-6f, 1e-6f);
    ir_graph_free(g);
}

Test(elementwise_interp, reduce_f32)
{
    const float sum1[8] = {-6.0f, 1.5f, 0.75f, 0.0f, 1.5f, 0.75f, 0.0f, -0.75f};
    check_reduce(IR_OP_REDUCE_SUM, 1, D(1), false, 1, -1, 3, D(2, 1, 4), sum1);
    check_reduce(IR_OP_REDUCE_SUM, 1, D(1), true, 0, -1, 2, D(2, 4), sum1);
    check_reduce(IR_OP_REDUCE_SUM, 1, D(-2), true, -1, -1, 3, D(2, 1, 4), sum1);
    const float mean_last[6] = {0.0f, 0.375f, -1.3125f, 1.125f, -0.5625f, -0.1875f};
    check_reduce(IR_OP_REDUCE_MEAN, 1, D(-1), false, 0, -1, 2, D(2, 3), mean_last);
    check_reduce(IR_OP_REDUCE_MEAN, 1, D(2), true, 1, -1, 3, D(2, 3, 1), mean_last);
    const float max02[3] = {3.75f, 3.0f, 2.25f};
    check_reduce(IR_OP_REDUCE_MAX, 2, D(0, 2), false, 1, -1, 3, D(1, 3, 1), max02);
    check_reduce(IR_OP_REDUCE_MAX, 2, D(-3, -1), true, 0, -1, 1, D(3), max02);
    /* empty axes reduce everything, unless noop_with_empty_axes */
    check_reduce(IR_OP_REDUCE_MEAN, -1, NULL, false, 0, -1, 0, NULL, (float[]){-0.09375f});
    check_reduce(IR_OP_REDUCE_SUM, -1, NULL, false, 1, -1, 3, D(1, 1, 1), (float[]){-2.25f});
    check_reduce(IR_OP_REDUCE_SUM, 0, D(0), true, 1, 0, 3, D(1, 1, 1), (float[]){-2.25f});
    check_reduce(IR_OP_REDUCE_SUM, 0, D(0), true, 1, 1, 3, D(2, 3, 4), reduce_x);
    check_reduce(IR_OP_REDUCE_MAX, -1, NULL, false, 0, 1, 3, D(2, 3, 4), reduce_x);
}

/* Runs a one-input Reduce over x (dtype t, shape rank/dims) with the axes
 * attribute and keepdims, compares exactly. */
static void check_reduce_exact(ir_op op, ir_dtype t, int rank, const int64_t *dims, const void *x,
                               int64_t axis, int keepdims, const void *want, int64_t n_want)
{
    ir_graph *g = tl_graph("g");
    ir_node *n = unary_graph(g, op, t, rank, dims);
    ir_node_set_ints(g, n, "axes", (int64_t[]){axis}, 1);
    ir_node_set_int(g, n, "keepdims", keepdims);
    run1_exact(g, x, want, n_want);
    ir_graph_free(g);
}

Test(elementwise_interp, reduce_integer)
{
    int32_t xi[6] = {-7, 3, 2, 5, -4, -2};
    /* integer mean truncates toward zero */
    check_reduce_exact(IR_OP_REDUCE_MEAN, IR_DTYPE_I32, 2, D(2, 3), xi, 1, 0, (int32_t[]){0, 0}, 2);
    check_reduce_exact(IR_OP_REDUCE_MEAN, IR_DTYPE_I32, 2, D(2, 3), xi, 0, 1, (int32_t[]){-1, 0, 0},
                       3);
    check_reduce_exact(IR_OP_REDUCE_SUM, IR_DTYPE_I32, 2, D(2, 3), xi, -1, 1, (int32_t[]){-2, -1},
                       2);
    /* sums wrap (numpy) */
    int64_t xl[4] = {INT64_C(4611686018427387904), INT64_C(4611686018427387904), 1, -3};
    check_reduce_exact(IR_OP_REDUCE_SUM, IR_DTYPE_I64, 2, D(2, 2), xl, 1, 0,
                       (int64_t[]){INT64_MIN, -2}, 2);
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_I64, 2, D(2, 2), xl, 0, 0,
                       (int64_t[]){INT64_C(4611686018427387904), INT64_C(4611686018427387904)}, 2);
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_I8, 2, D(2, 2), (int8_t[]){-128, -5, -100, -128},
                       1, 0, (int8_t[]){-5, -100}, 2);
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_BOOL, 2, D(2, 3), (uint8_t[]){0, 0, 1, 0, 0, 0},
                       1, 0, (uint8_t[]){1, 0}, 2); /* numpy */
}

Test(elementwise_interp, reduce_special_cases)
{
    /* ReduceMax propagates NaN like the ONNX reference (numpy.maximum) */
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_F32, 2, D(2, 3),
                       (float[]){1, NAN, 3, -INFINITY, -1, -2}, 1, 0, (float[]){NAN, -1.0f}, 2);
    /* scalar input, all axes */
    ir_graph *g = tl_graph("g");
    unary_graph(g, IR_OP_REDUCE_SUM, IR_DTYPE_F32, 0, NULL);
    run1_exact(g, (float[]){3.5f}, (float[]){3.5f}, 1);
    ir_graph_free(g);
    /* reducing an empty axis: Sum gives 0, Max -inf (ReduceMax-18) */
    float none[1] = {0};
    check_reduce_exact(IR_OP_REDUCE_SUM, IR_DTYPE_F32, 2, D(2, 0), none, 1, 0,
                       (float[]){0.0f, 0.0f}, 2);
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_F32, 2, D(2, 0), none, 1, 0,
                       (float[]){-INFINITY, -INFINITY}, 2);
    check_reduce_exact(IR_OP_REDUCE_MAX, IR_DTYPE_I32, 2, D(2, 0), none, -1, 1,
                       (int32_t[]){INT32_MIN, INT32_MIN}, 2);
}

/* ---- interpreter: Identity and Dropout ---- */

Test(elementwise_interp, identity_and_dropout)
{
    ir_graph *g = tl_graph("g");
    unary_graph(g, IR_OP_IDENTITY, IR_DTYPE_I64, 2, D(2, 2));
    run1_exact(g, (int64_t[]){INT64_MIN, -1, 0, INT64_MAX},
               (int64_t[]){INT64_MIN, -1, 0, INT64_MAX}, 4);
    ir_graph_free(g);

    g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(2, 3));
    ir_value *ratio = tl_const_f32(g, "ratio", 0, NULL, (float[]){0.5f});
    ir_value *off = tl_const(g, "off", IR_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
    tl_node(g, IR_OP_DROPOUT, "d", 3, (ir_value *[]){x, ratio, off}, 2, "y", "mask");
    tl_infer_ok(g);
    cr_assert_eq(g->n_outputs, 2);
    float in[6] = {1.5f, -2, 0, NAN, INFINITY, 3.25f}, out[6];
    uint8_t mask[6];
    memset(mask, 7, sizeof mask);
    tl_run(g, (const void *[]){in}, (void *[]){out, mask});
    assert_exact(out, in, IR_DTYPE_F32, 6);
    assert_exact(mask, (uint8_t[]){1, 1, 1, 1, 1, 1}, IR_DTYPE_BOOL, 6);
    ir_graph_free(g);

    g = tl_graph("g");
    ir_node *n = unary_graph(g, IR_OP_DROPOUT, IR_DTYPE_F64, 1, D(3));
    ir_node_set_float(g, n, "ratio", 0.9f); /* Dropout-7 attribute form */
    run1_exact(g, (double[]){1, -2, 0.5}, (double[]){1, -2, 0.5}, 3);
    ir_graph_free(g);
}

/* ---- constant folding entry point ---- */

Test(elementwise_interp, eval_node_on_constants)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_const(g, "a", IR_DTYPE_I64, 1, D(3), (int64_t[]){1, 2, 3});
    ir_value *b = tl_const(g, "b", IR_DTYPE_I64, 2, D(2, 1), (int64_t[]){10, -20});
    ir_node *n = tl_node(g, IR_OP_SUB, "s", 2, (ir_value *[]){a, b}, 1, "y");
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(ir_infer_node(g, n, &d), LOOM_STATUS_OK);
    cr_assert_eq(interp_eval_node(g, n, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    cr_assert(ir_value_is_const(n->outputs[0]));
    tl_assert_shape(n->outputs[0], 2, D(2, 3));
    assert_exact(n->outputs[0]->data, (int64_t[]){-9, -8, -7, 21, 22, 23}, IR_DTYPE_I64, 6);
    ir_graph_free(g);
}

/* Every allocation of a run fails in turn: the interpreter reports NOMEM
 * and leaks nothing (checked by the sanitizer build). */
Test(elementwise_interp, allocation_failure)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(2, 3, 4));
    ir_node *e = tl_node(g, IR_OP_EXP, "e", 1, (ir_value *[]){x}, 1, "ex");
    ir_node *r = tl_node(g, IR_OP_REDUCE_SUM, "r", 1, (ir_value *[]){e->outputs[0]}, 1, "y");
    ir_node_set_ints(g, r, "axes", D(1), 1);
    tl_infer_ok(g);
    float out[8];
    bool saw_ok = false;
    long nomem = 0;
    for (long k = 0; k < 20 && !saw_ok; k++) {
        ir_diag d;
        ir_diag_init(&d);
        ir_alloc_fail_after(k);
        loom_status st = interp_run(g, (const void *[]){reduce_x}, (void *[]){out}, &d);
        ir_alloc_fail_after(-1);
        cr_assert(st == LOOM_STATUS_OK || st == LOOM_STATUS_NOMEM, "status %s",
                  loom_status_name(st));
        saw_ok = st == LOOM_STATUS_OK;
        nomem += st == LOOM_STATUS_NOMEM;
        ir_diag_free(&d);
    }
    cr_assert(saw_ok);
    cr_assert_gt(nomem, 0, "no allocation failure was injected");
    /* sum over axis 1 of exp(reduce_x) (numpy) */
    tl_assert_close_f32(out,
                        (float[]){2.19030499458313f, 14.074823379516602f, 20.78103256225586f,
                                  43.54459762573242f, 14.074823379516602f, 20.78103256225586f,
                                  43.54459762573242f, 6.6484761238098145f},
                        8, 1e-6f, 1e-6f);
    ir_graph_free(g);
}
