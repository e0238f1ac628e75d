/*
 * Unit tests of ArgMax / ArgMin, Hardmax and CumSum (ir_infer_axis.c,
 * interp_axis.c, lower_axis.c): shapes and diagnostics, the interpreter on
 * ties (first or last index) against values worked out by hand from the
 * ONNX definitions, and the C backend and the JIT against the interpreter
 * (tl_check_c) for every attribute. The ONNX node tests (tests/onnx:
 * argmax, argmin, hardmax, cumsum; 48 tests) check the interpreter too.
 */
#include <stdint.h>

#include "lower.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

static void infer_fails_with(ir_graph *g, loom_status want, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_eq(st, want, "status %d (%s)", st, d.text ? d.text : "");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

Test(axis, shapes_and_errors)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(2, 3, 4));
    ir_node *a = tl_node(g, IR_OP_ARG_MAX, "a", 1, (ir_value *[]){x}, 1, "a");
    ir_node_set_int(g, a, "axis", -2);
    ir_node *b = tl_node(g, IR_OP_ARG_MIN, "b", 1, (ir_value *[]){x}, 1, "b");
    ir_node_set_int(g, b, "keepdims", 0);
    ir_value *ax = tl_const_i64(g, "ax", 0, NULL, D(1));
    ir_node *s = tl_node(g, IR_OP_CUM_SUM, "s", 2, (ir_value *[]){x, ax}, 1, "s");
    tl_infer_ok(g);
    tl_assert_shape(a->outputs[0], 3, D(2, 1, 4));
    cr_assert_eq(a->outputs[0]->dtype, IR_DTYPE_I64);
    tl_assert_shape(b->outputs[0], 2, D(3, 4));
    tl_assert_shape(s->outputs[0], 3, D(2, 3, 4));
    ir_graph_free(g);
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, D(2, 3));
    ir_value *rt = tl_input(g, "rt", IR_DTYPE_I64, 0, NULL);
    tl_node(g, IR_OP_CUM_SUM, "s", 2, (ir_value *[]){x, rt}, 1, "s");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "axis (\"rt\") must be a constant");
    ir_graph_free(g);
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, D(0, 3));
    tl_node(g, IR_OP_ARG_MAX, "a", 1, (ir_value *[]){x}, 1, "a");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 0 is empty");
    ir_graph_free(g);
}

/* Ties: ArgMax takes the first maximum, or the last with
 * select_last_index; Hardmax marks the first. */
Test(axis, ties)
{
    static const float x[6] = {1, 3, 3, 2, 2, 0};
    static const int64_t first[2] = {1, 0}, last[2] = {2, 1};
    static const float hard[6] = {0, 1, 0, 1, 0, 0};
    for (int k = 0; k < 2; k++) {
        ir_graph *g = tl_graph("g");
        ir_value *in = tl_input(g, "x", IR_DTYPE_F32, 2, D(2, 3));
        ir_node *n = tl_node(g, IR_OP_ARG_MAX, "a", 1, (ir_value *[]){in}, 1, "a");
        ir_node_set_int(g, n, "axis", 1);
        ir_node_set_int(g, n, "select_last_index", k);
        tl_node(g, IR_OP_HARDMAX, "h", 1, (ir_value *[]){in}, 1, "h");
        tl_mark_outputs(g);
        tl_infer_ok(g);
        int64_t got[2];
        float h[6];
        tl_run(g, (const void *[]){x}, (void *[]){got, h});
        cr_assert(memcmp(got, k ? last : first, sizeof got) == 0, "select_last_index %d", k);
        tl_assert_close_f32(h, hard, 6, 0, 0);
        ir_graph_free(g);
    }
}

/* CumSum of [1, 2, 3, 4] in every combination of exclusive and reverse. */
Test(axis, cumsum_forms)
{
    static const float x[4] = {1, 2, 3, 4};
    static const float want[4][4] = {
        {1, 3, 6, 10}, {0, 1, 3, 6}, {10, 9, 7, 4}, {9, 7, 4, 0}};
    for (int k = 0; k < 4; k++) {
        ir_graph *g = tl_graph("g");
        ir_value *in = tl_input(g, "x", IR_DTYPE_F32, 1, D(4));
        ir_value *ax = tl_const_i64(g, "ax", 1, D(1), D(0));
        ir_node *n = tl_node(g, IR_OP_CUM_SUM, "s", 2, (ir_value *[]){in, ax}, 1, "s");
        ir_node_set_int(g, n, "exclusive", k & 1);
        ir_node_set_int(g, n, "reverse", k >> 1);
        tl_mark_outputs(g);
        tl_infer_ok(g);
        float y[4];
        tl_run(g, (const void *[]){x}, (void *[]){y});
        tl_assert_close_f32(y, want[k], 4, 0, 0);
        ir_graph_free(g);
    }
}

/* Every op and attribute over [3,4,5]: ArgMax / ArgMin on each axis with
 * and without keepdims and select_last_index, on f32 and on i64 with many
 * ties; Hardmax on axis 1 and in the opset-1 coerce_2d form; CumSum on f32,
 * f64 and i64 in every exclusive / reverse combination. */
Test(axis_c, all)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(3, 4, 5));
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I64, 3, D(3, 4, 5));
    for (int k = 0; k < 12; k++) {
        const char *name = ir_arena_printf(&g->arena, "arg%d", k);
        ir_node *n = tl_node(g, k & 1 ? IR_OP_ARG_MIN : IR_OP_ARG_MAX, name, 1,
                             (ir_value *[]){k & 8 ? xi : x}, 1, name);
        ir_node_set_int(g, n, "axis", k % 3 - (k & 4 ? 3 : 0));
        ir_node_set_int(g, n, "keepdims", (k >> 1) & 1);
        ir_node_set_int(g, n, "select_last_index", (k >> 2) & 1);
    }
    ir_node *n = tl_node(g, IR_OP_HARDMAX, "h1", 1, (ir_value *[]){x}, 1, "h1");
    ir_node_set_int(g, n, "axis", 1);
    n = tl_node(g, IR_OP_HARDMAX, "h2d", 1, (ir_value *[]){x}, 1, "h2d");
    ir_node_set_int(g, n, "coerce_2d", 1);
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 2, D(4, 6));
    ir_value *ins[3] = {x, xd, xi};
    for (int k = 0; k < 12; k++) {
        const char *name = ir_arena_printf(&g->arena, "cs%d", k);
        ir_value *ax = tl_const_i64(g, ir_arena_printf(&g->arena, "ax%d", k), 0, NULL,
                                    D(k % 3 == 1 ? -1 : k % 2));
        n = tl_node(g, IR_OP_CUM_SUM, name, 2, (ir_value *[]){ins[k % 3], ax}, 1, name);
        ir_node_set_int(g, n, "exclusive", (k >> 1) & 1);
        ir_node_set_int(g, n, "reverse", (k >> 2) & 1);
    }
    tl_mark_outputs(g);
    tl_infer_ok(g);
    float xv[60];
    int64_t iv[60];
    double dv[24];
    tl_fill(xv, IR_DTYPE_F32, 60, 7);
    for (int i = 0; i < 60; i++)
        iv[i] = (i * 5) % 7 - 3; /* values repeat: ties along every axis */
    tl_fill(dv, IR_DTYPE_F64, 24, 8);
    tl_check_c(g, (const void *[]){xv, iv, dv}, 1e-6f, 1e-6f);
    ir_graph_free(g);
}

/* EyeLike with k = 0, 2, -1 and the dtype attribute (i64, bool), and
 * CastLike to f64 and to i32 (truncating), C backend and JIT against the
 * interpreter; the interpreter's EyeLike against the identity by hand. */
Test(axis_c, eye_like_cast_like)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(3, 4));
    ir_node *e0 = tl_node(g, IR_OP_EYE_LIKE, "e0", 1, (ir_value *[]){x}, 1, "e0");
    ir_node *n = tl_node(g, IR_OP_EYE_LIKE, "e2", 1, (ir_value *[]){x}, 1, "e2");
    ir_node_set_int(g, n, "k", 2);
    ir_node_set_int(g, n, "dtype", 7); /* INT64 */
    n = tl_node(g, IR_OP_EYE_LIKE, "em", 1, (ir_value *[]){x}, 1, "em");
    ir_node_set_int(g, n, "k", -1);
    ir_node_set_int(g, n, "dtype", 9); /* BOOL */
    ir_value *like_d = tl_input(g, "ld", IR_DTYPE_F64, 1, D(1));
    ir_value *like_i = tl_input(g, "li", IR_DTYPE_I32, 0, NULL);
    ir_node *cd = tl_node(g, IR_OP_CAST_LIKE, "cd", 2, (ir_value *[]){x, like_d}, 1, "cd");
    ir_node *ci = tl_node(g, IR_OP_CAST_LIKE, "ci", 2, (ir_value *[]){x, like_i}, 1, "ci");
    tl_mark_outputs(g);
    tl_infer_ok(g);
    cr_assert_eq(cd->outputs[0]->dtype, IR_DTYPE_F64);
    cr_assert_eq(ci->outputs[0]->dtype, IR_DTYPE_I32);
    cr_assert_eq(ir_graph_find_value(g, "em")->dtype, IR_DTYPE_BOOL);
    float xv[12], y0[12];
    tl_fill(xv, IR_DTYPE_F32, 12, 9);
    for (int i = 0; i < 12; i++)
        xv[i] *= 50;
    double dv = 0;
    int32_t iv = 0;
    int64_t y2[12];
    uint8_t ym[12];
    double ycd[12];
    int32_t yci[12];
    tl_run(g, (const void *[]){xv, &dv, &iv}, (void *[]){y0, y2, ym, ycd, yci});
    for (int i = 0; i < 12; i++)
        cr_assert_eq(y0[i], i / 4 == i % 4 ? 1.0f : 0.0f, "element %d", i);
    (void)e0;
    tl_check_c(g, (const void *[]){xv, &dv, &iv}, 0, 0);
    ir_graph_free(g);
}
