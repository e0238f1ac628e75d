/*
 * Unit tests of the tensor-manipulation ops: shape inference for each op and
 * attribute form, diagnostics for malformed nodes, and interpreter results.
 * Expected values come from onnxruntime 1.32 (and onnx.shape_inference for
 * shapes) run on the same inputs; they are pasted here, never computed with
 * loom code.
 */
#include <stdint.h>

#include "testlib.h"

/* A 1-D i64 constant. */
static ir_value *c_i64(ir_graph *g, const char *name, int n, const int64_t *vals)
{
    return tl_const_i64(g, name, 1, (int64_t[]){n}, vals);
}

/* Inference must fail with status st and a message containing substr. */
static void infer_fails_with(ir_graph *g, loom_status st, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status got = ir_infer_graph(g, &d);
    cr_assert_eq(got, st, "status %s, expected %s (%s)", loom_status_name(got),
                 loom_status_name(st), d.text ? d.text : "");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

static void assert_i64(const int64_t *got, const int64_t *want, int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "element %d: got %lld, want %lld", i, (long long)got[i],
                     (long long)want[i]);
}

/* ---- Reshape ---- */

static const float reshape_x[24] = {-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5,
                                    3,  3.5,  4,  4.5,  5,  5.5,  6, 6.5, 7, 7.5, 8, 8.5};

Test(ops_shape, reshape_zero_and_minus_one)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_value *s = c_i64(g, "s", 2, (int64_t[]){0, -1});
    ir_node *n = tl_node(g, IR_OP_RESHAPE, "r", 2, (ir_value *[]){x, s}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){2, 12});
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_F32);
    float out[24];
    tl_run(g, (const void *[]){reshape_x}, (void *[]){out});
    /* onnxruntime: same row-major order */
    tl_assert_close_f32(out, reshape_x, 24, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, reshape_allowzero)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){0, 4});
    ir_value *s = c_i64(g, "s", 2, (int64_t[]){4, 0});
    ir_node *n = tl_node(g, IR_OP_RESHAPE, "r", 2, (ir_value *[]){x, s}, 1, "y");
    ir_node_set_int(g, n, "allowzero", 1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){4, 0});
    /* without allowzero the 0 copies input dim 1 (4): 16 elements from 0 */
    ir_node_set_int(g, n, "allowzero", 0);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "cannot reshape [0,4] (0 elements) to [4,4] (16 elements)");
    ir_graph_free(g);
}

Test(ops_shape, reshape_errors)
{
    struct {
        int n;
        int64_t dims[3];
        int64_t allowzero;
        const char *msg;
    } cases[] = {
        {2, {-1, -1}, 0, "more than one -1"},
        {2, {5, 5}, 0, "cannot reshape [2,3,4] (24 elements) to [5,5] (25 elements)"},
        {3, {-1, 0, 5}, 0, "cannot infer the -1 dim: 24 elements into blocks of 15"},
        {3, {-1, 0, 4}, 1, "both 0 and -1 with allowzero=1"},
        {2, {-2, 12}, 0, "shape[0] is -2"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
        ir_value *s = c_i64(g, "s", cases[k].n, cases[k].dims);
        ir_node *n = tl_node(g, IR_OP_RESHAPE, "r", 2, (ir_value *[]){x, s}, 1, "y");
        ir_node_set_int(g, n, "allowzero", cases[k].allowzero);
        infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, cases[k].msg);
        ir_graph_free(g);
    }
    /* 0 past the input rank */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){6});
    ir_value *s = c_i64(g, "s", 2, (int64_t[]){6, 0});
    tl_node(g, IR_OP_RESHAPE, "r", 2, (ir_value *[]){x, s}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "shape[1] is 0 (copy input dim)");
    ir_graph_free(g);
}

Test(ops_shape, reshape_shape_must_be_constant_i64)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    ir_value *s = tl_input(g, "s", IR_DTYPE_I64, 1, (int64_t[]){2});
    tl_node(g, IR_OP_RESHAPE, "resh", 2, (ir_value *[]){x, s}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED,
                     "test.lir: node \"resh\" (Reshape): shape input \"s\" is not a constant");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    s = tl_const(g, "s", IR_DTYPE_I32, 1, (int64_t[]){2}, (int32_t[]){3, 2});
    tl_node(g, IR_OP_RESHAPE, "resh", 2, (ir_value *[]){x, s}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "node \"resh\" (Reshape): shape input \"s\" has dtype i32, expected i64");
    ir_graph_free(g);
}

/* ---- Flatten ---- */

Test(ops_shape, flatten_axes)
{
    struct {
        int64_t axis;
        int64_t dims[2];
    } cases[] = {{0, {1, 24}}, {-1, {6, 4}}, {3, {24, 1}}, {1, {2, 12}}, {-3, {1, 24}}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
        ir_node *n = tl_node(g, IR_OP_FLATTEN, "f", 1, (ir_value *[]){x}, 1, "y");
        ir_node_set_int(g, n, "axis", cases[k].axis);
        tl_infer_ok(g);
        tl_assert_shape(n->outputs[0], 2, cases[k].dims);
        ir_graph_free(g);
    }
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_node *n = tl_node(g, IR_OP_FLATTEN, "f", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_int(g, n, "axis", 4);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 4 is out of range for rank 3");
    ir_graph_free(g);
}

Test(ops_shape, flatten_run_i64)
{
    static const int64_t x_data[24] = {-50, -43, -36, -29, -22, -15, -8, -1, 6,  13, 20,  27,
                                       34,  41,  48,  55,  62,  69,  76, 83, 90, 97, 104, 111};
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I64, 3, (int64_t[]){2, 3, 4});
    ir_node *n = tl_node(g, IR_OP_FLATTEN, "f", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_int(g, n, "axis", -1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){6, 4});
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_I64);
    int64_t out[24];
    tl_run(g, (const void *[]){x_data}, (void *[]){out});
    assert_i64(out, x_data, 24); /* onnxruntime: unchanged order */
    ir_graph_free(g);
}

/* ---- Transpose ---- */

Test(ops_shape, transpose_perm_and_default)
{
    static const float want_perm[24] = {-3, 3, -2.5, 3.5, -2, 4, -1.5, 4.5, -1, 5, -0.5, 5.5,
                                        0,  6, 0.5,  6.5, 1,  7, 1.5,  7.5, 2,  8, 2.5,  8.5};
    static const float want_rev[24] = {-3, 3, -1, 5, 1, 7, -2.5, 3.5, -0.5, 5.5, 1.5, 7.5,
                                       -2, 4, 0,  6, 2, 8, -1.5, 4.5, 0.5,  6.5, 2.5, 8.5};
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_node *a = tl_node(g, IR_OP_TRANSPOSE, "tp", 1, (ir_value *[]){x}, 1, "a");
    ir_node_set_ints(g, a, "perm", (int64_t[]){1, 2, 0}, 3);
    ir_node *b = tl_node(g, IR_OP_TRANSPOSE, "tr", 1, (ir_value *[]){x}, 1, "b");
    tl_infer_ok(g);
    tl_assert_shape(a->outputs[0], 3, (int64_t[]){3, 4, 2});
    tl_assert_shape(b->outputs[0], 3, (int64_t[]){4, 3, 2});
    float out_a[24], out_b[24];
    tl_run(g, (const void *[]){reshape_x}, (void *[]){out_a, out_b});
    tl_assert_close_f32(out_a, want_perm, 24, 0, 0);
    tl_assert_close_f32(out_b, want_rev, 24, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, transpose_errors)
{
    struct {
        int n;
        int64_t perm[3];
        const char *msg;
    } cases[] = {
        {3, {0, 0, 1}, "perm is not a permutation of 0..2 (entry 1 is 0)"},
        {3, {0, 3, 1}, "perm is not a permutation of 0..2 (entry 1 is 3)"},
        {3, {-1, 0, 1}, "entry 0 is -1"},
        {2, {1, 0}, "perm has 2 entries, input has rank 3"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
        ir_node *n = tl_node(g, IR_OP_TRANSPOSE, "t", 1, (ir_value *[]){x}, 1, "y");
        ir_node_set_ints(g, n, "perm", cases[k].perm, cases[k].n);
        infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, cases[k].msg);
        ir_graph_free(g);
    }
}

/* ---- Concat ---- */

Test(ops_shape, concat_negative_axis_i64)
{
    ir_graph *g = tl_graph("t");
    ir_value *a = tl_input(g, "a", IR_DTYPE_I64, 2, (int64_t[]){2, 1});
    ir_value *b = tl_input(g, "b", IR_DTYPE_I64, 2, (int64_t[]){2, 3});
    ir_value *c = tl_input(g, "c", IR_DTYPE_I64, 2, (int64_t[]){2, 2});
    ir_node *n = tl_node(g, IR_OP_CONCAT, "cat", 3, (ir_value *[]){a, b, c}, 1, "y");
    ir_node_set_int(g, n, "axis", -1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){2, 6});
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_I64);
    int64_t out[12];
    tl_run(g,
           (const void *[]){(int64_t[]){1, 2}, (int64_t[]){10, 11, 12, 13, 14, 15},
                            (int64_t[]){-1, -2, -3, -4}},
           (void *[]){out});
    assert_i64(out, (int64_t[]){1, 10, 11, 12, -1, -2, 2, 13, 14, 15, -3, -4}, 12);
    ir_graph_free(g);
}

Test(ops_shape, concat_bool_axis0)
{
    ir_graph *g = tl_graph("t");
    ir_value *a = tl_input(g, "a", IR_DTYPE_BOOL, 2, (int64_t[]){1, 3});
    ir_value *b = tl_input(g, "b", IR_DTYPE_BOOL, 2, (int64_t[]){2, 3});
    ir_node *n = tl_node(g, IR_OP_CONCAT, "cat", 2, (ir_value *[]){a, b}, 1, "y");
    ir_node_set_int(g, n, "axis", 0);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){3, 3});
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_BOOL);
    uint8_t out[9];
    tl_run(g, (const void *[]){(uint8_t[]){1, 0, 1}, (uint8_t[]){0, 0, 1, 1, 1, 0}},
           (void *[]){out});
    cr_assert_arr_eq(out, ((uint8_t[]){1, 0, 1, 0, 0, 1, 1, 1, 0}), 9);
    ir_graph_free(g);
}

Test(ops_shape, concat_errors)
{
    struct {
        ir_dtype tb;
        int rank_b;
        int64_t dims_b[3];
        int64_t axis;
        const char *msg;
    } cases[] = {
        {IR_DTYPE_F32, 3, {2, 3, 1}, 1, "input \"b\" has rank 3, input \"a\" has rank 2"},
        {IR_DTYPE_F32, 2, {3, 5}, 1, "input \"b\" has dim 0 = 3, input \"a\" has 2"},
        {IR_DTYPE_I32, 2, {2, 5}, 1, "input \"b\" has dtype i32, input \"a\" has f32"},
        {IR_DTYPE_F32, 2, {2, 5}, 2, "axis 2 is out of range for rank 2"},
        {IR_DTYPE_F32, 2, {2, 5}, -3, "axis -3 is out of range for rank 2"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
        ir_value *b = tl_input(g, "b", cases[k].tb, cases[k].rank_b, cases[k].dims_b);
        ir_node *n = tl_node(g, IR_OP_CONCAT, "cat", 2, (ir_value *[]){a, b}, 1, "y");
        ir_node_set_int(g, n, "axis", cases[k].axis);
        infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, cases[k].msg);
        ir_graph_free(g);
    }
}

/* ---- Split ---- */

static const float split_x[14] = {0.5, 1.5, 2.5, 3.5,  4.5,  5.5,  6.5,
                                  7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5};

Test(ops_shape, split_num_outputs_uneven)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 7});
    ir_node *n = tl_node(g, IR_OP_SPLIT, "sp", 1, (ir_value *[]){x}, 3, "a", "b", "c");
    ir_node_set_int(g, n, "axis", -1);
    ir_node_set_int(g, n, "num_outputs", 3);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){2, 3});
    tl_assert_shape(n->outputs[1], 2, (int64_t[]){2, 3});
    tl_assert_shape(n->outputs[2], 2, (int64_t[]){2, 1});
    float a[6], b[6], c[2];
    tl_run(g, (const void *[]){split_x}, (void *[]){a, b, c});
    tl_assert_close_f32(a, (float[]){0.5, 1.5, 2.5, 7.5, 8.5, 9.5}, 6, 0, 0);
    tl_assert_close_f32(b, (float[]){3.5, 4.5, 5.5, 10.5, 11.5, 12.5}, 6, 0, 0);
    tl_assert_close_f32(c, (float[]){6.5, 13.5}, 2, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, split_num_outputs_empty_last_chunk)
{
    /* onnx shape inference, Split-18: 4 into 3 -> 2, 2, 0 */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){4});
    ir_node *n = tl_node(g, IR_OP_SPLIT, "sp", 1, (ir_value *[]){x}, 3, "a", "b", "c");
    ir_node_set_int(g, n, "num_outputs", 3);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 1, (int64_t[]){2});
    tl_assert_shape(n->outputs[2], 1, (int64_t[]){0});
    ir_graph_free(g);

    /* 5 into 4 would need a chunk of -1 */
    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){5});
    n = tl_node(g, IR_OP_SPLIT, "sp", 1, (ir_value *[]){x}, 4, "a", "b", "c", "d");
    ir_node_set_int(g, n, "num_outputs", 4);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "dim 5 cannot be split into 4 chunks of 2");
    ir_graph_free(g);
}

Test(ops_shape, split_sizes_input)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 7});
    ir_value *s = c_i64(g, "s", 2, (int64_t[]){2, 5});
    ir_node *n = tl_node(g, IR_OP_SPLIT, "sp", 2, (ir_value *[]){x, s}, 2, "a", "b");
    ir_node_set_int(g, n, "axis", 1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){2, 2});
    tl_assert_shape(n->outputs[1], 2, (int64_t[]){2, 5});
    float a[4], b[10];
    tl_run(g, (const void *[]){split_x}, (void *[]){a, b});
    tl_assert_close_f32(a, (float[]){0.5, 1.5, 7.5, 8.5}, 4, 0, 0);
    tl_assert_close_f32(b, (float[]){2.5, 3.5, 4.5, 5.5, 6.5, 9.5, 10.5, 11.5, 12.5, 13.5}, 10, 0,
                        0);
    ir_graph_free(g);
}

Test(ops_shape, split_attribute_and_equal)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 7});
    ir_node *n = tl_node(g, IR_OP_SPLIT, "old", 1, (ir_value *[]){x}, 2, "a", "b");
    ir_node_set_ints(g, n, "split", (int64_t[]){1, 1}, 2); /* Split-11 form, axis 0 */
    ir_value *y = tl_input(g, "y", IR_DTYPE_I32, 2, (int64_t[]){2, 6});
    ir_node *m = tl_node(g, IR_OP_SPLIT, "eq", 1, (ir_value *[]){y}, 3, "c", "d", "e");
    ir_node_set_int(g, m, "axis", 1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){1, 7});
    tl_assert_shape(n->outputs[1], 2, (int64_t[]){1, 7});
    for (int i = 0; i < 3; i++) {
        tl_assert_shape(m->outputs[i], 2, (int64_t[]){2, 2});
        cr_assert_eq(m->outputs[i]->dtype, IR_DTYPE_I32);
    }
    ir_graph_free(g);
}

Test(ops_shape, split_errors)
{
    /* equal split without num_outputs must divide evenly (Split-13) */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 7});
    ir_node *n = tl_node(g, IR_OP_SPLIT, "sp", 1, (ir_value *[]){x}, 3, "a", "b", "c");
    ir_node_set_int(g, n, "axis", 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "dim 7 cannot be split evenly into 3 outputs");
    ir_node_set_ints(g, n, "split", (int64_t[]){3, 3, 3}, 3);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "split sizes do not add up to the dim 7");
    ir_node_set_ints(g, n, "split", (int64_t[]){3, 3}, 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "split has 2 entries for 3 outputs");
    ir_node_set_ints(g, n, "split", (int64_t[]){3, 3, 0}, 3);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "split sizes add up to 6, the dim is 7");
    ir_node_set_int(g, n, "num_outputs", 3);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "split sizes and num_outputs are both given");
    ir_node_remove_attr(n, "split");
    ir_node_set_int(g, n, "num_outputs", 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "num_outputs is 2 but the node has 3 outputs");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 7});
    ir_value *s = tl_input(g, "s", IR_DTYPE_I64, 1, (int64_t[]){2});
    tl_node(g, IR_OP_SPLIT, "sp", 2, (ir_value *[]){x, s}, 2, "a", "b");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "split input \"s\" is not a constant");
    ir_graph_free(g);
}

/* ---- Slice ---- */

static const float slice_x[20] = {0,  1.5,  3,  4.5,  6,  7.5,  9,  10.5, 12, 13.5,
                                  15, 16.5, 18, 19.5, 21, 22.5, 24, 25.5, 27, 28.5};

/* Builds Slice(x [4,5], starts, ends, axes, steps) with i64 operands
 * (axes/steps omitted when their count is 0) and runs it. */
static void slice_case(int k, const int64_t *starts, const int64_t *ends, const int64_t *axes,
                       const int64_t *steps, const int64_t *want_dims, const float *want)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
    ir_value *in[5] = {x, c_i64(g, "st", k, starts), c_i64(g, "en", k, ends),
                       axes ? c_i64(g, "ax", k, axes) : NULL,
                       steps ? c_i64(g, "sp", k, steps) : NULL};
    ir_node *n = tl_node(g, IR_OP_SLICE, "sl", steps ? 5 : axes ? 4 : 3, in, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, want_dims);
    float out[20];
    tl_run(g, (const void *[]){slice_x}, (void *[]){out});
    tl_assert_close_f32(out, want, want_dims[0] * want_dims[1], 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, slice_negative_steps_and_int64_limits)
{
    /* rows reversed (INT64_MIN end), every other column (INT64_MAX end) */
    slice_case(2, (int64_t[]){-1, 0}, (int64_t[]){INT64_MIN, INT64_MAX}, (int64_t[]){0, 1},
               (int64_t[]){-1, 2}, (int64_t[]){4, 3},
               (float[]){22.5, 25.5, 28.5, 15, 18, 21, 7.5, 10.5, 13.5, 0, 3, 6});
    /* step INT64_MIN takes just the start element */
    slice_case(1, (int64_t[]){2}, (int64_t[]){INT64_MIN}, (int64_t[]){1}, (int64_t[]){INT64_MIN},
               (int64_t[]){4, 1}, (float[]){3, 10.5, 18, 25.5});
}

Test(ops_shape, slice_extreme_steps_on_outer_axis)
{
    /* |step| far past the dim on a strided axis: one row each */
    slice_case(1, (int64_t[]){3}, (int64_t[]){INT64_MIN}, (int64_t[]){0}, (int64_t[]){INT64_MIN},
               (int64_t[]){1, 5}, (float[]){22.5, 24, 25.5, 27, 28.5});
    slice_case(1, (int64_t[]){1}, (int64_t[]){INT64_MAX}, (int64_t[]){0}, (int64_t[]){INT64_MAX},
               (int64_t[]){1, 5}, (float[]){7.5, 9, 10.5, 12, 13.5});
}

Test(ops_shape, slice_clamping)
{
    /* starts -100 -> 0, ends 100 -> 5, step 3: columns 0, 3 */
    slice_case(1, (int64_t[]){-100}, (int64_t[]){100}, (int64_t[]){-1}, (int64_t[]){3},
               (int64_t[]){4, 2}, (float[]){0, 4.5, 7.5, 12, 15, 19.5, 22.5, 27});
    /* negative step: start 10 -> 4, end -10 -> -1: columns 4, 2, 0 */
    slice_case(1, (int64_t[]){10}, (int64_t[]){-10}, (int64_t[]){1}, (int64_t[]){-2},
               (int64_t[]){4, 3},
               (float[]){6, 3, 0, 13.5, 10.5, 7.5, 21, 18, 15, 28.5, 25.5, 22.5});
    /* no axes, no steps: the first k axes */
    slice_case(2, (int64_t[]){1, -2}, (int64_t[]){3, 5}, NULL, NULL, (int64_t[]){2, 2},
               (float[]){12, 13.5, 19.5, 21});
}

Test(ops_shape, slice_i32_operands_empty_result)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
    ir_value *st = tl_const(g, "st", IR_DTYPE_I32, 1, (int64_t[]){1}, (int32_t[]){3});
    ir_value *en = tl_const(g, "en", IR_DTYPE_I32, 1, (int64_t[]){1}, (int32_t[]){1});
    ir_value *ax = tl_const(g, "ax", IR_DTYPE_I32, 1, (int64_t[]){1}, (int32_t[]){0});
    ir_node *n = tl_node(g, IR_OP_SLICE, "sl", 4, (ir_value *[]){x, st, en, ax}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){0, 5});
    float out[1] = {42};
    tl_run(g, (const void *[]){slice_x}, (void *[]){out});
    cr_assert_eq(out[0], 42, "an empty output is not written");
    ir_graph_free(g);
}

Test(ops_shape, slice_attribute_form)
{
    /* Slice-1..9: starts/ends/axes attributes */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
    ir_node *n = tl_node(g, IR_OP_SLICE, "sl", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_ints(g, n, "starts", (int64_t[]){1}, 1);
    ir_node_set_ints(g, n, "ends", (int64_t[]){-1}, 1);
    ir_node_set_ints(g, n, "axes", (int64_t[]){0}, 1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){2, 5});
    float out[10];
    tl_run(g, (const void *[]){slice_x}, (void *[]){out});
    tl_assert_close_f32(out, (float[]){7.5, 9, 10.5, 12, 13.5, 15, 16.5, 18, 19.5, 21}, 10, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, slice_errors)
{
    struct {
        int k;
        int64_t axes[2], steps[2];
        const char *msg;
    } cases[] = {
        {1, {0}, {0}, "steps[0] is 0"},
        {2, {1, -1}, {1, 1}, "axis -1 is repeated"},
        {1, {2}, {1}, "axis 2 is out of range for rank 2"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int k = cases[c].k;
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
        ir_value *in[5] = {x, c_i64(g, "st", k, (int64_t[]){0, 0}),
                           c_i64(g, "en", k, (int64_t[]){1, 1}), c_i64(g, "ax", k, cases[c].axes),
                           c_i64(g, "sp", k, cases[c].steps)};
        tl_node(g, IR_OP_SLICE, "sl", 5, in, 1, "y");
        infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, cases[c].msg);
        ir_graph_free(g);
    }

    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
    ir_value *st = c_i64(g, "st", 2, (int64_t[]){0, 0});
    ir_value *en = c_i64(g, "en", 1, (int64_t[]){1});
    ir_node *n = tl_node(g, IR_OP_SLICE, "sl", 3, (ir_value *[]){x, st, en}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "starts, ends, axes and steps differ in length");
    ir_node_set_ints(g, n, "starts", (int64_t[]){0}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "given both as attributes and as inputs");
    ir_node_remove_attr(n, "starts");
    ir_node_set_ints(g, n, "axes", (int64_t[]){0}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "the axes attribute needs starts/ends");
    ir_node_remove_attr(n, "axes");
    n->n_inputs = 2;
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "needs starts and ends");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 5});
    ir_value *dyn = tl_input(g, "dyn", IR_DTYPE_I64, 1, (int64_t[]){1});
    en = c_i64(g, "en", 1, (int64_t[]){1});
    tl_node(g, IR_OP_SLICE, "sl", 3, (ir_value *[]){x, dyn, en}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "starts input \"dyn\" is not a constant");
    ir_graph_free(g);
}

/* ---- Gather ---- */

static const float gather_x[12] = {-5.5, -4.5, -3.5, -2.5, -1.5, -0.5,
                                   0.5,  1.5,  2.5,  3.5,  4.5,  5.5};

Test(ops_shape, gather_2d_indices_axis0)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *i = tl_const_i64(g, "i", 2, (int64_t[]){2, 2}, (int64_t[]){0, 2, -1, 1});
    ir_node *n = tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 3, (int64_t[]){2, 2, 4});
    float out[16];
    tl_run(g, (const void *[]){gather_x}, (void *[]){out});
    tl_assert_close_f32(out,
                        (float[]){-5.5, -4.5, -3.5, -2.5, 2.5, 3.5, 4.5, 5.5, 2.5, 3.5, 4.5, 5.5,
                                  -1.5, -0.5, 0.5, 1.5},
                        16, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, gather_negative_axis_i32_negative_indices)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *i = tl_input(g, "i", IR_DTYPE_I32, 1, (int64_t[]){3});
    ir_node *n = tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    ir_node_set_int(g, n, "axis", -1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){3, 3});
    float out[9];
    tl_run(g, (const void *[]){gather_x, (int32_t[]){-1, 0, -4}}, (void *[]){out});
    tl_assert_close_f32(out, (float[]){-2.5, -5.5, -5.5, 1.5, -1.5, -1.5, 5.5, 2.5, 2.5}, 9, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, gather_scalar_index_and_shapes)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *i = tl_const_i64(g, "i", 0, NULL, (int64_t[]){-2});
    ir_node *n = tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    ir_value *z = tl_input(g, "z", IR_DTYPE_U8, 3, (int64_t[]){2, 3, 4});
    ir_value *j = tl_input(g, "j", IR_DTYPE_I64, 2, (int64_t[]){5, 6});
    ir_node *m = tl_node(g, IR_OP_GATHER, "gb", 2, (ir_value *[]){z, j}, 1, "w");
    ir_node_set_int(g, m, "axis", 1);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 1, (int64_t[]){4});
    tl_assert_shape(m->outputs[0], 4, (int64_t[]){2, 5, 6, 4});
    cr_assert_eq(m->outputs[0]->dtype, IR_DTYPE_U8);
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    i = tl_const_i64(g, "i", 0, NULL, (int64_t[]){-2});
    tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    tl_infer_ok(g);
    float out[4];
    tl_run(g, (const void *[]){gather_x}, (void *[]){out});
    tl_assert_close_f32(out, (float[]){-1.5, -0.5, 0.5, 1.5}, 4, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, gather_errors)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *i = c_i64(g, "i", 3, (int64_t[]){0, -3, 3});
    tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL,
                     "index 3 (element 2 of \"i\") is out of range for a dim of size 3");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    i = tl_const(g, "i", IR_DTYPE_I32, 1, (int64_t[]){1}, (int32_t[]){-4});
    tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "index -4 (element 0 of \"i\")");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    i = tl_input(g, "i", IR_DTYPE_F32, 1, (int64_t[]){2});
    ir_node *n = tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "have dtype f32, expected i32 or i64");
    n->inputs[1] = c_i64(g, "k", 1, (int64_t[]){0});
    ir_node_set_int(g, n, "axis", 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 2 is out of range for rank 2");
    ir_graph_free(g);
}

Test(ops_shape, gather_runtime_index_out_of_range)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *i = tl_input(g, "i", IR_DTYPE_I64, 1, (int64_t[]){2});
    tl_node(g, IR_OP_GATHER, "ga", 2, (ir_value *[]){x, i}, 1, "y");
    tl_infer_ok(g);
    float out[8];
    ir_diag d;
    ir_diag_init(&d);
    loom_status st =
        interp_run(g, (const void *[]){gather_x, (int64_t[]){1, 5}}, (void *[]){out}, &d);
    cr_assert_eq(st, LOOM_STATUS_INVALID_ARG);
    cr_assert(d.text && strstr(d.text, "node \"ga\" (Gather): index 5 (element 1 of \"i\") is "
                                       "out of range for a dim of size 3"),
              "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    ir_diag_init(&d);
    st = interp_run(g, (const void *[]){gather_x, (int64_t[]){INT64_MIN, 0}}, (void *[]){out}, &d);
    cr_assert_eq(st, LOOM_STATUS_INVALID_ARG, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* ---- Squeeze, Unsqueeze ---- */

Test(ops_shape, squeeze_forms)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_U8, 4, (int64_t[]){1, 2, 1, 3});
    ir_node *all = tl_node(g, IR_OP_SQUEEZE, "all", 1, (ir_value *[]){x}, 1, "a");
    ir_node *attr = tl_node(g, IR_OP_SQUEEZE, "attr", 1, (ir_value *[]){x}, 1, "b");
    ir_node_set_ints(g, attr, "axes", (int64_t[]){-2}, 1); /* Squeeze-11 */
    ir_value *ax = c_i64(g, "ax", 2, (int64_t[]){0, -2});
    ir_node *inp = tl_node(g, IR_OP_SQUEEZE, "inp", 2, (ir_value *[]){x, ax}, 1, "c");
    tl_infer_ok(g);
    tl_assert_shape(all->outputs[0], 2, (int64_t[]){2, 3});
    tl_assert_shape(attr->outputs[0], 3, (int64_t[]){1, 2, 3});
    tl_assert_shape(inp->outputs[0], 2, (int64_t[]){2, 3});
    cr_assert_eq(all->outputs[0]->dtype, IR_DTYPE_U8);
    uint8_t a[6], b[6], c[6];
    const uint8_t want[6] = {0, 1, 2, 3, 4, 5};
    tl_run(g, (const void *[]){want}, (void *[]){a, b, c});
    cr_assert_arr_eq(a, want, 6);
    cr_assert_arr_eq(b, want, 6);
    cr_assert_arr_eq(c, want, 6);
    ir_graph_free(g);
}

Test(ops_shape, squeeze_errors)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){1, 2, 1});
    ir_node *n = tl_node(g, IR_OP_SQUEEZE, "sq", 1, (ir_value *[]){x}, 1, "y");
    ir_node_set_ints(g, n, "axes", (int64_t[]){1}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "cannot squeeze axis 1 of size 2");
    ir_node_set_ints(g, n, "axes", (int64_t[]){3}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 3 is out of range for rank 3");
    ir_node_set_ints(g, n, "axes", (int64_t[]){0, -3}, 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis -3 is repeated");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){1, 2, 1});
    ir_value *ax = c_i64(g, "ax", 1, (int64_t[]){0});
    n = tl_node(g, IR_OP_SQUEEZE, "sq", 2, (ir_value *[]){x, ax}, 1, "y");
    ir_node_set_ints(g, n, "axes", (int64_t[]){0}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axes given both as attribute and as input");
    ir_graph_free(g);
}

Test(ops_shape, unsqueeze_forms)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    ir_node *attr = tl_node(g, IR_OP_UNSQUEEZE, "attr", 1, (ir_value *[]){x}, 1, "a");
    ir_node_set_ints(g, attr, "axes", (int64_t[]){0, 3}, 2); /* Unsqueeze-11 */
    ir_value *ax = c_i64(g, "ax", 1, (int64_t[]){-1});
    ir_node *inp = tl_node(g, IR_OP_UNSQUEEZE, "inp", 2, (ir_value *[]){x, ax}, 1, "b");
    tl_infer_ok(g);
    tl_assert_shape(attr->outputs[0], 4, (int64_t[]){1, 2, 3, 1});
    tl_assert_shape(inp->outputs[0], 3, (int64_t[]){2, 3, 1});
    ir_graph_free(g);

    /* onnxruntime: Unsqueeze([1,2,1,3] u8, axes [0,-1]) -> [1,1,2,1,3,1] */
    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_U8, 4, (int64_t[]){1, 2, 1, 3});
    ax = c_i64(g, "ax", 2, (int64_t[]){0, -1});
    ir_node *n = tl_node(g, IR_OP_UNSQUEEZE, "u", 2, (ir_value *[]){x, ax}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 6, (int64_t[]){1, 1, 2, 1, 3, 1});
    uint8_t out[6];
    const uint8_t want[6] = {0, 1, 2, 3, 4, 5};
    tl_run(g, (const void *[]){want}, (void *[]){out});
    cr_assert_arr_eq(out, want, 6);
    ir_graph_free(g);
}

Test(ops_shape, unsqueeze_errors)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    ir_node *n = tl_node(g, IR_OP_UNSQUEEZE, "u", 1, (ir_value *[]){x}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "needs axes");
    ir_node_set_ints(g, n, "axes", (int64_t[]){1, 1}, 2);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 1 is repeated");
    ir_node_set_ints(g, n, "axes", (int64_t[]){3}, 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "axis 3 is out of range for rank 3");
    ir_node_set_ints(g, n, "axes", (int64_t[]){0, 1, 2, 3, 4, 5, 6}, 7);
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "output rank 9 exceeds the supported 8");
    ir_graph_free(g);
}

/* ---- Expand ---- */

Test(ops_shape, expand_bidirectional)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I8, 2, (int64_t[]){3, 1});
    ir_value *s = c_i64(g, "s", 3, (int64_t[]){2, 1, 4});
    ir_node *n = tl_node(g, IR_OP_EXPAND, "ex", 2, (ir_value *[]){x, s}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 3, (int64_t[]){2, 3, 4});
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_I8);
    int8_t out[24];
    tl_run(g, (const void *[]){(int8_t[]){1, 2, 3}}, (void *[]){out});
    cr_assert_arr_eq(
        out, ((int8_t[]){1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}),
        24);
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){1, 4});
    s = c_i64(g, "s", 2, (int64_t[]){3, 1});
    n = tl_node(g, IR_OP_EXPAND, "ex", 2, (ir_value *[]){x, s}, 1, "y");
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 2, (int64_t[]){3, 4});
    float outf[12];
    tl_run(g, (const void *[]){(float[]){1.5, -2.5, 3.5, 4.5}}, (void *[]){outf});
    tl_assert_close_f32(
        outf, (float[]){1.5, -2.5, 3.5, 4.5, 1.5, -2.5, 3.5, 4.5, 1.5, -2.5, 3.5, 4.5}, 12, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, expand_shapes_and_errors)
{
    /* onnx shape inference: [2,3] with [1] -> [2,3]; [1,3] with [0,1] -> [0,3] */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    ir_node *a = tl_node(g, IR_OP_EXPAND, "a", 2,
                         (ir_value *[]){x, c_i64(g, "s1", 1, (int64_t[]){1})}, 1, "ya");
    ir_value *z = tl_input(g, "z", IR_DTYPE_F32, 2, (int64_t[]){1, 3});
    ir_node *b = tl_node(g, IR_OP_EXPAND, "b", 2,
                         (ir_value *[]){z, c_i64(g, "s2", 2, (int64_t[]){0, 1})}, 1, "yb");
    tl_infer_ok(g);
    tl_assert_shape(a->outputs[0], 2, (int64_t[]){2, 3});
    tl_assert_shape(b->outputs[0], 2, (int64_t[]){0, 3});
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    tl_node(g, IR_OP_EXPAND, "ex", 2, (ir_value *[]){x, c_i64(g, "s", 1, (int64_t[]){4})}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "cannot broadcast input shape [2,3] to [4]");
    ir_graph_free(g);

    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
    ir_value *s = tl_input(g, "s", IR_DTYPE_I64, 1, (int64_t[]){2});
    tl_node(g, IR_OP_EXPAND, "ex", 2, (ir_value *[]){x, s}, 1, "y");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED, "node \"ex\" (Expand): shape input \"s\" is not");
    ir_graph_free(g);
}

/* ---- Constant ---- */

Test(ops_shape, constant_value_tensor)
{
    ir_graph *g = tl_graph("t");
    ir_value *t = ir_graph_detached_value(g, "t", IR_DTYPE_I32);
    ir_value_set_shape(t, 2, (int64_t[]){2, 2});
    t->data = ir_arena_memdup(&g->arena, (int32_t[]){7, -8, 9, 10}, 16);
    ir_node *n = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "y");
    ir_node_set_tensor(g, n, "value", t);
    tl_infer_ok(g);
    ir_value *y = n->outputs[0];
    tl_assert_shape(y, 2, (int64_t[]){2, 2});
    cr_assert_eq(y->dtype, IR_DTYPE_I32);
    cr_assert(y->data && y->data != t->data, "output data is a copy");
    cr_assert_arr_eq(y->data, ((int32_t[]){7, -8, 9, 10}), 16);
    ir_graph_free(g);
}

Test(ops_shape, constant_scalar_and_list_forms)
{
    ir_graph *g = tl_graph("t");
    ir_node *f = tl_node(g, IR_OP_CONSTANT, "f", 0, NULL, 1, "vf");
    ir_node_set_float(g, f, "value_float", 2.5f);
    ir_node *fs = tl_node(g, IR_OP_CONSTANT, "fs", 0, NULL, 1, "vfs");
    ir_node_set_floats(g, fs, "value_floats", (float[]){1.25f, -3.0f, 0.5f}, 3);
    ir_node *i = tl_node(g, IR_OP_CONSTANT, "i", 0, NULL, 1, "vi");
    ir_node_set_int(g, i, "value_int", -7);
    ir_node *is = tl_node(g, IR_OP_CONSTANT, "is", 0, NULL, 1, "vis");
    ir_node_set_ints(g, is, "value_ints", (int64_t[]){3, INT64_MAX}, 2);
    tl_infer_ok(g);
    tl_assert_shape(f->outputs[0], 0, NULL);
    cr_assert_eq(f->outputs[0]->dtype, IR_DTYPE_F32);
    cr_assert_eq(*(float *)f->outputs[0]->data, 2.5f);
    tl_assert_shape(fs->outputs[0], 1, (int64_t[]){3});
    cr_assert_arr_eq(fs->outputs[0]->data, ((float[]){1.25f, -3.0f, 0.5f}), 12);
    tl_assert_shape(i->outputs[0], 0, NULL);
    cr_assert_eq(i->outputs[0]->dtype, IR_DTYPE_I64);
    cr_assert_eq(*(int64_t *)i->outputs[0]->data, -7);
    tl_assert_shape(is->outputs[0], 1, (int64_t[]){2});
    assert_i64(is->outputs[0]->data, (int64_t[]){3, INT64_MAX}, 2);
    /* the whole graph is constant: the interpreter just copies */
    float of, ofs[3];
    int64_t oi, ois[2];
    tl_run(g, (const void *[]){NULL}, (void *[]){&of, ofs, &oi, ois});
    cr_assert_eq(of, 2.5f);
    tl_assert_close_f32(ofs, (float[]){1.25f, -3.0f, 0.5f}, 3, 0, 0);
    cr_assert_eq(oi, -7);
    assert_i64(ois, (int64_t[]){3, INT64_MAX}, 2);
    ir_graph_free(g);
}

Test(ops_shape, constant_eval_node_kernel)
{
    /* interp_eval_node runs the kernel into fresh arena memory */
    ir_graph *g = tl_graph("t");
    ir_node *n = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "y");
    ir_node_set_ints(g, n, "value_ints", (int64_t[]){4, -5, 6}, 3);
    tl_infer_ok(g);
    void *inferred = n->outputs[0]->data;
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(interp_eval_node(g, n, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    cr_assert_neq(n->outputs[0]->data, inferred);
    assert_i64(n->outputs[0]->data, (int64_t[]){4, -5, 6}, 3);
    ir_diag_free(&d);
    ir_graph_free(g);
}

Test(ops_shape, constant_errors)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "y");
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "needs exactly one attribute");
    ir_node_set_string(g, n, "value_string", "hello");
    infer_fails_with(g, LOOM_STATUS_UNSUPPORTED,
                     "node \"k\" (Constant): attribute value_string of kind");
    ir_node_remove_attr(n, "value_string");
    ir_node_set_int(g, n, "value_int", 1);
    ir_node_set_float(g, n, "value_float", 1);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "needs exactly one attribute");
    ir_graph_free(g);

    g = tl_graph("t");
    ir_value *t = ir_graph_detached_value(g, "t", IR_DTYPE_F32);
    ir_value_set_shape(t, 1, (int64_t[]){2});
    n = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "y");
    ir_node_set_tensor(g, n, "value", t);
    infer_fails_with(g, LOOM_STATUS_INVALID_MODEL, "value attribute has no tensor data");
    ir_graph_free(g);
}

/* ---- Shape ---- */

Test(ops_shape, shape_start_end)
{
    struct {
        bool has_start, has_end;
        int64_t start, end;
        int n;
        int64_t want[4];
    } cases[] = {
        {false, false, 0, 0, 4, {2, 3, 5, 7}},
        {true, true, 1, -1, 2, {3, 5}},
        {true, true, -10, 100, 4, {2, 3, 5, 7}},
        {true, true, 3, 1, 0, {0}},
        {true, false, -1, 0, 1, {7}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, (int64_t[]){2, 3, 5, 7});
        ir_node *n = tl_node(g, IR_OP_SHAPE, "sh", 1, (ir_value *[]){x}, 1, "y");
        if (cases[k].has_start)
            ir_node_set_int(g, n, "start", cases[k].start);
        if (cases[k].has_end)
            ir_node_set_int(g, n, "end", cases[k].end);
        tl_infer_ok(g);
        ir_value *y = n->outputs[0];
        tl_assert_shape(y, 1, (int64_t[]){cases[k].n});
        cr_assert_eq(y->dtype, IR_DTYPE_I64);
        cr_assert(y->data, "Shape's output data is set by inference");
        assert_i64(y->data, cases[k].want, cases[k].n);
        /* the kernel computes the same (through interp_eval_node) */
        ir_value *c = tl_const_f32(g, "c", 4, (int64_t[]){2, 3, 5, 7},
                                   ir_arena_alloc(&g->arena, 210 * sizeof(float)));
        n->inputs[0] = c;
        ir_diag d;
        ir_diag_init(&d);
        cr_assert_eq(interp_eval_node(g, n, &d), LOOM_STATUS_OK);
        assert_i64(y->data, cases[k].want, cases[k].n);
        ir_diag_free(&d);
        ir_graph_free(g);
    }
}

/* Size-21: the element count as a constant i64 scalar, for empty and
 * rank-0 inputs too; the kernel agrees and the C backend emits it. */
Test(ops_shape, size)
{
    static const struct { int rank; int64_t dims[3], want; } cases[] = {
        {3, {2, 3, 5}, 30}, {0, {0}, 1}, {2, {4, 0}, 0}, {1, {7}, 7}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", IR_DTYPE_F32, cases[k].rank, cases[k].dims);
        ir_node *n = tl_node(g, IR_OP_SIZE, "sz", 1, (ir_value *[]){x}, 1, "y");
        tl_infer_ok(g);
        ir_value *y = n->outputs[0];
        cr_assert_eq(y->shape.rank, 0);
        cr_assert_eq(y->dtype, IR_DTYPE_I64);
        cr_assert(y->data, "Size's output data is set by inference");
        assert_i64(y->data, &cases[k].want, 1);
        ((int64_t *)y->data)[0] = -1;
        /* the kernel computes the same (interp_eval_node needs constant inputs) */
        size_t bytes = (size_t)(ir_shape_numel(&x->shape) + 1) * sizeof(float);
        n->inputs[0] = tl_const_f32(g, "c", cases[k].rank, cases[k].dims,
                                    ir_arena_alloc(&g->arena, bytes));
        ir_diag d;
        ir_diag_init(&d);
        cr_assert_eq(interp_eval_node(g, n, &d), LOOM_STATUS_OK);
        assert_i64(y->data, &cases[k].want, 1);
        ir_diag_free(&d);
        ir_graph_free(g);
    }
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    tl_node(g, IR_OP_SIZE, "sz", 1, (ir_value *[]){x}, 1, "y");
    tl_infer_ok(g);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

Test(ops_shape, shape_and_constant_feed_reshape)
{
    /* Reshape(x, Shape(z)) and Reshape(x, Constant(value_ints)) both infer,
     * since inference stores Shape's and Constant's data */
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 12});
    ir_value *z = tl_input(g, "z", IR_DTYPE_U8, 3, (int64_t[]){4, 6, 1});
    ir_node *sh = tl_node(g, IR_OP_SHAPE, "sh", 1, (ir_value *[]){z}, 1, "zs");
    ir_node_set_int(g, sh, "end", 2);
    ir_node *r1 = tl_node(g, IR_OP_RESHAPE, "r1", 2, (ir_value *[]){x, sh->outputs[0]}, 1, "y1");
    ir_node *k = tl_node(g, IR_OP_CONSTANT, "k", 0, NULL, 1, "ks");
    ir_node_set_ints(g, k, "value_ints", (int64_t[]){3, -1}, 2);
    ir_node *r2 = tl_node(g, IR_OP_RESHAPE, "r2", 2, (ir_value *[]){x, k->outputs[0]}, 1, "y2");
    tl_infer_ok(g);
    tl_assert_shape(r1->outputs[0], 2, (int64_t[]){4, 6});
    tl_assert_shape(r2->outputs[0], 2, (int64_t[]){3, 8});
    float o1[24], o2[24];
    uint8_t zdata[24] = {0};
    tl_run(g, (const void *[]){reshape_x, zdata}, (void *[]){o1, o2});
    tl_assert_close_f32(o1, reshape_x, 24, 0, 0);
    tl_assert_close_f32(o2, reshape_x, 24, 0, 0);
    ir_graph_free(g);
}

/* ---- every dtype ---- */

Test(ops_shape, transpose_and_reverse_every_dtype)
{
    /* onnxruntime: Transpose of [[a,b,c],[d,e,f]] and Slice(axis 1, step -1) */
    static const float f32[3][6] = {
        {1, -2, 3, 4, 5, -6}, {1, 4, -2, 5, 3, -6}, {3, -2, 1, -6, 5, 4}};
    static const double f64[3][6] = {
        {1, -2, 3, 4, 5, -6}, {1, 4, -2, 5, 3, -6}, {3, -2, 1, -6, 5, 4}};
    static const int64_t i64[3][6] = {
        {1, -2, 3, 4, 5, -6}, {1, 4, -2, 5, 3, -6}, {3, -2, 1, -6, 5, 4}};
    static const int32_t i32[3][6] = {
        {1, -2, 3, 4, 5, -6}, {1, 4, -2, 5, 3, -6}, {3, -2, 1, -6, 5, 4}};
    static const int8_t i8[3][6] = {
        {1, -2, 3, 4, 5, -6}, {1, 4, -2, 5, 3, -6}, {3, -2, 1, -6, 5, 4}};
    static const uint8_t u8[3][6] = {{1, 2, 3, 4, 5, 6}, {1, 4, 2, 5, 3, 6}, {3, 2, 1, 6, 5, 4}};
    static const uint8_t b8[3][6] = {{1, 0, 1, 1, 0, 0}, {1, 1, 0, 0, 1, 0}, {1, 0, 1, 0, 0, 1}};
    /* f16 bit patterns of 1, -2, 3, 4, 5, -6 (moved as they are; bf16 too) */
    static const uint16_t h16[3][6] = {{0x3c00, 0xc000, 0x4200, 0x4400, 0x4500, 0xc600},
                                       {0x3c00, 0x4400, 0xc000, 0x4500, 0x4200, 0xc600},
                                       {0x4200, 0xc000, 0x3c00, 0xc600, 0x4500, 0x4400}};
    const struct {
        ir_dtype t;
        const void *data; /* input, transposed, reversed; 6 elements each */
    } cases[] = {{IR_DTYPE_F32, f32}, {IR_DTYPE_F64, f64}, {IR_DTYPE_I64, i64}, {IR_DTYPE_I32, i32},
                 {IR_DTYPE_I8, i8},   {IR_DTYPE_U8, u8},   {IR_DTYPE_BOOL, b8}, {IR_DTYPE_F16, h16},
                 {IR_DTYPE_BF16, h16}};
    cr_assert_eq(sizeof cases / sizeof cases[0], IR_DTYPE_COUNT, "a dtype is not covered");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t es = ir_dtype_size(cases[k].t);
        const char *in = cases[k].data;
        ir_graph *g = tl_graph("t");
        ir_value *x = tl_input(g, "x", cases[k].t, 2, (int64_t[]){2, 3});
        ir_node *tr = tl_node(g, IR_OP_TRANSPOSE, "tr", 1, (ir_value *[]){x}, 1, "yt");
        ir_value *sl_in[5] = {
            x, c_i64(g, "st", 1, (int64_t[]){-1}), c_i64(g, "en", 1, (int64_t[]){INT64_MIN}),
            c_i64(g, "ax", 1, (int64_t[]){1}), c_i64(g, "sp", 1, (int64_t[]){-1})};
        ir_node *sl = tl_node(g, IR_OP_SLICE, "sl", 5, sl_in, 1, "ys");
        tl_infer_ok(g);
        cr_assert_eq(tr->outputs[0]->dtype, cases[k].t);
        cr_assert_eq(sl->outputs[0]->dtype, cases[k].t);
        tl_assert_shape(tr->outputs[0], 2, (int64_t[]){3, 2});
        char out_t[48], out_s[48];
        tl_run(g, (const void *[]){in}, (void *[]){out_t, out_s});
        cr_assert(memcmp(out_t, in + 6 * es, 6 * es) == 0, "Transpose, dtype %s",
                  ir_dtype_name(cases[k].t));
        cr_assert(memcmp(out_s, in + 12 * es, 6 * es) == 0, "Slice, dtype %s",
                  ir_dtype_name(cases[k].t));
        ir_graph_free(g);
    }
}
