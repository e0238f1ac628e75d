/*
 * Unit tests of ReduceProd, ReduceMin, ReduceL1, ReduceL2, ReduceLogSum,
 * ReduceLogSumExp and ReduceSumSquare (the Reduce family beside Sum, Mean
 * and Max, tested in test_ops_elementwise.c): their dtype rule, the values
 * of empty reductions, and the C backend and the JIT against the
 * interpreter (tl_check_c) for every op over inner, outer, mixed and all
 * axes. The interpreter itself is checked by the ONNX node tests
 * (tests/onnx: test_reduce_*, 85 tests).
 */
#include <stdint.h>

#include "lower.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

static const ir_op ops[] = {IR_OP_REDUCE_PROD,    IR_OP_REDUCE_MIN,
                            IR_OP_REDUCE_L1,      IR_OP_REDUCE_L2,
                            IR_OP_REDUCE_LOG_SUM, IR_OP_REDUCE_LOG_SUM_EXP,
                            IR_OP_REDUCE_SUM_SQUARE};
#define N_OPS (int)(sizeof ops / sizeof ops[0])

/* ReduceMin takes integers (and keeps their dtype); the others take
 * floats only in loom. */
Test(reduce, dtypes)
{
    for (int i = 0; i < N_OPS; i++) {
        ir_graph *g = tl_graph("g");
        ir_value *x = tl_input(g, "x", IR_DTYPE_I32, 2, D(2, 3));
        ir_node *n = tl_node(g, ops[i], "r", 1, (ir_value *[]){x}, 1, "y");
        ir_diag d;
        ir_diag_init(&d);
        loom_status st = ir_infer_graph(g, &d);
        if (ops[i] == IR_OP_REDUCE_MIN) {
            cr_assert_eq(st, LOOM_STATUS_OK, "%s", d.text ? d.text : "");
            cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_I32);
        } else {
            cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL);
            cr_assert(strstr(d.text, "has dtype i32; expected one of f32, f64"), "%s", d.text);
        }
        ir_diag_free(&d);
        ir_graph_free(g);
    }
}

/* An empty reduction gives the fold's identity: Prod 1, Min +inf, L1 / L2 /
 * SumSquare 0, LogSum / LogSumExp -inf (ONNX Reduce*-18), in the
 * interpreter and the compiled code alike. */
Test(reduce_c, empty)
{
    static const float want[N_OPS] = {1, INFINITY, 0, 0, -INFINITY, -INFINITY, 0};
    for (int i = 0; i < N_OPS; i++) {
        ir_graph *g = tl_graph("g");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(0, 2));
        ir_node *n = tl_node(g, ops[i], "r", 1, (ir_value *[]){x}, 1, "y");
        ir_node_set_ints(g, n, "axes", D(0), 1);
        tl_mark_outputs(g);
        tl_infer_ok(g);
        float y[2] = {7, 7};
        tl_run(g, (const void *[]){x}, (void *[]){y});
        tl_assert_close_f32(y, (const float[]){want[i], want[i]}, 2, 0, 0);
        tl_check_c(g, (const void *[]){y}, 0, 0);
        ir_graph_free(g);
    }
}

/* Every op over [3,4,5] (values in [-1, 1), positive for LogSum) reducing
 * the inner axis, the outer axis (accumulated in the output), axes 0 and 2
 * with keepdims, all axes, and the axes input with noop_with_empty_axes;
 * ReduceMin on i64 and f64; LogSumExp with large values (the shift keeps
 * exp from overflowing). */
Test(reduce_c, all_ops)
{
    static const int64_t axes[][3] = {{2}, {0}, {0, 2}, {0}};
    static const int n_axes[] = {1, 1, 2, 0};
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, D(3, 4, 5));
    ir_value *p = tl_input(g, "p", IR_DTYPE_F32, 3, D(3, 4, 5));
    ir_value *ex = tl_const_i64(g, "ex", 1, D(0), D(0));
    for (int i = 0; i < N_OPS; i++)
        for (int k = 0; k < 5; k++) {
            const char *name = ir_arena_printf(&g->arena, "r%d_%d", i, k);
            ir_value *in = ops[i] == IR_OP_REDUCE_LOG_SUM ? p : x;
            ir_node *n = tl_node(g, ops[i], name, k == 4 ? 2 : 1, (ir_value *[]){in, ex}, 1, name);
            if (k < 3)
                ir_node_set_ints(g, n, "axes", axes[k], n_axes[k]);
            ir_node_set_int(g, n, "keepdims", k == 2);
            ir_node_set_int(g, n, "noop_with_empty_axes", k == 4);
        }
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I64, 2, D(4, 6));
    ir_node *n = tl_node(g, IR_OP_REDUCE_MIN, "mini", 1, (ir_value *[]){xi}, 1, "mini");
    ir_node_set_ints(g, n, "axes", D(0), 1);
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 2, D(4, 6));
    tl_node(g, IR_OP_REDUCE_MIN, "mind", 1, (ir_value *[]){xd}, 1, "mind");
    ir_value *big = tl_input(g, "big", IR_DTYPE_F32, 2, D(2, 3));
    n = tl_node(g, IR_OP_REDUCE_LOG_SUM_EXP, "lse", 1, (ir_value *[]){big}, 1, "lse");
    ir_node_set_ints(g, n, "axes", D(1), 1);
    tl_mark_outputs(g);
    tl_infer_ok(g);
    float xv[60], pv[60], bv[6] = {200, 201, 199, -300, -301, -299};
    int64_t iv[24];
    double dv[24];
    tl_fill(xv, IR_DTYPE_F32, 60, 3);
    for (int i = 0; i < 60; i++)
        pv[i] = fabsf(xv[i]) + 0.25f;
    tl_fill(iv, IR_DTYPE_I64, 24, 4);
    tl_fill(dv, IR_DTYPE_F64, 24, 5);
    tl_check_c(g, (const void *[]){xv, pv, iv, dv, bv}, 1e-5f, 1e-5f);
    ir_graph_free(g);
}
