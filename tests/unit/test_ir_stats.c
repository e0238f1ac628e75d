/*
 * Tests of the graph statistics of `loom inspect` (ir/ir_stats.c): the
 * FLOPs of each op family, worked out by hand from the shapes in the
 * comments (a multiply-add is 2 FLOPs, any other operation 1 per element),
 * and the parameter, activation and input/output byte counts.
 */
#include "ir_stats.h"
#include "leak_check.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})
#define IN(g, name, ...) \
    tl_input(g, name, IR_DTYPE_F32, sizeof D(__VA_ARGS__) / sizeof(int64_t), D(__VA_ARGS__))

/* Adds a node with one output, infers shapes and returns its FLOPs. */
static int64_t flops_of(ir_graph *g, ir_node *n)
{
    tl_mark_outputs(g);
    tl_infer_ok(g);
    return ir_node_flops(g, n);
}

static ir_node *node(ir_graph *g, ir_op op, int n_in, ir_value *const *ins)
{
    return tl_node(g, op, "n", n_in, ins, 1, "y");
}

Test(ir_stats, conv_and_grouped_conv)
{
    /* x [1,4,8,8], w [6,2,3,3], group 2 -> y [1,6,6,6]: 216 outputs, each
     * 2*3*3 = 18 MACs: 2 * 216 * 18 */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_CONV, 2, (ir_value *[]){IN(g, "x", 1, 4, 8, 8), IN(g, "w", 6, 2, 3, 3)});
    ir_node_set_int(g, n, "group", 2);
    cr_assert_eq(flops_of(g, n), 2 * 216 * 18);
    ir_graph_free(g);
}

Test(ir_stats, conv_transpose)
{
    /* x [1,2,3,3], w [2,4,2,2] (C_in, C_out, kh, kw): each of the 18 input
     * elements scatters into 4*2*2 = 16 outputs */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_CONV_TRANSPOSE, 2,
                      (ir_value *[]){IN(g, "x", 1, 2, 3, 3), IN(g, "w", 2, 4, 2, 2)});
    cr_assert_eq(flops_of(g, n), 2 * 18 * 16);
    ir_graph_free(g);
}

Test(ir_stats, gemm_plain_and_transposed)
{
    /* [3,5] x [5,7]: 21 outputs of 5 MACs */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_GEMM, 2, (ir_value *[]){IN(g, "a", 3, 5), IN(g, "b", 5, 7)});
    cr_assert_eq(flops_of(g, n), 2 * 21 * 5);
    ir_graph_free(g);
    /* transA: a [5,3] -> the same product */
    g = tl_graph("g");
    n = node(g, IR_OP_GEMM, 2, (ir_value *[]){IN(g, "a", 5, 3), IN(g, "b", 5, 7)});
    ir_node_set_int(g, n, "transA", 1);
    cr_assert_eq(flops_of(g, n), 2 * 21 * 5);
    ir_graph_free(g);
}

Test(ir_stats, batched_matmul)
{
    /* [2,3,4] x [4,6] -> [2,3,6]: 36 outputs of 4 MACs */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_MAT_MUL, 2, (ir_value *[]){IN(g, "a", 2, 3, 4), IN(g, "b", 4, 6)});
    cr_assert_eq(flops_of(g, n), 2 * 36 * 4);
    ir_graph_free(g);
}

/* A recurrent node with x [seq, batch, input] (or [batch, seq, input] with
 * layout 1), w [dirs, gates*hidden, input], r [dirs, gates*hidden, hidden]. */
static int64_t rnn(ir_op op, int gates, int layout)
{
    ir_graph *g = tl_graph("g");
    int64_t hidden = 3, dirs = 2;
    ir_value *x = layout ? IN(g, "x", 4, 5, 6) : IN(g, "x", 5, 4, 6);
    ir_value *w = tl_input(g, "w", IR_DTYPE_F32, 3, D(dirs, gates * hidden, 6));
    ir_value *r = tl_input(g, "r", IR_DTYPE_F32, 3, D(dirs, gates * hidden, hidden));
    ir_node *n = tl_node(g, op, "n", 3, (ir_value *[]){x, w, r}, 1, "y");
    ir_node_set_int(g, n, "hidden_size", hidden);
    ir_node_set_string(g, n, "direction", "bidirectional");
    ir_node_set_int(g, n, "layout", layout);
    int64_t f = flops_of(g, n);
    ir_graph_free(g);
    return f;
}

Test(ir_stats, recurrent_ops)
{
    /* seq 5, batch 4, 2 directions, gates*hidden * (input 6 + hidden 3) */
    cr_assert_eq(rnn(IR_OP_LSTM, 4, 0), 2 * 5 * 4 * 2 * (12 * 9));
    cr_assert_eq(rnn(IR_OP_GRU, 3, 0), 2 * 5 * 4 * 2 * (9 * 9));
    cr_assert_eq(rnn(IR_OP_RNN, 1, 0), 2 * 5 * 4 * 2 * (3 * 9));
    cr_assert_eq(rnn(IR_OP_LSTM, 4, 1), 2 * 5 * 4 * 2 * (12 * 9), "layout 1: x is [batch, seq]");
}

Test(ir_stats, pooling_and_reductions)
{
    /* MaxPool 2x2 stride 2 on [1,2,4,4] -> 8 outputs of 4 compares */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_MAX_POOL, 1, (ir_value *[]){IN(g, "x", 1, 2, 4, 4)});
    ir_node_set_ints(g, n, "kernel_shape", D(2, 2), 2);
    ir_node_set_ints(g, n, "strides", D(2, 2), 2);
    cr_assert_eq(flops_of(g, n), 8 * 4);
    ir_graph_free(g);
    /* the reductions read every input element once */
    ir_op reduce[] = {IR_OP_GLOBAL_AVERAGE_POOL, IR_OP_GLOBAL_MAX_POOL, IR_OP_REDUCE_MEAN,
                      IR_OP_REDUCE_SUM, IR_OP_REDUCE_MAX};
    for (size_t k = 0; k < sizeof reduce / sizeof *reduce; k++) {
        g = tl_graph("g");
        n = node(g, reduce[k], 1, (ir_value *[]){IN(g, "x", 1, 2, 4, 4)});
        cr_assert_eq(flops_of(g, n), 32, "%s", ir_op_name(reduce[k]));
        ir_graph_free(g);
    }
}

Test(ir_stats, normalizations)
{
    struct {
        ir_op op;
        int64_t per_element;
    } cases[] = {{IR_OP_SOFTMAX, 4}, {IR_OP_LOG_SOFTMAX, 4}, {IR_OP_LAYER_NORMALIZATION, 6}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        ir_graph *g = tl_graph("g");
        ir_value *x = IN(g, "x", 3, 4);
        ir_node *n = cases[k].op == IR_OP_LAYER_NORMALIZATION
                         ? node(g, cases[k].op, 2, (ir_value *[]){x, IN(g, "s", 4)})
                         : node(g, cases[k].op, 1, (ir_value *[]){x});
        cr_assert_eq(flops_of(g, n), 12 * cases[k].per_element, "%s", ir_op_name(cases[k].op));
        ir_graph_free(g);
    }
    /* BatchNormalization (inference): scale and shift, 2 per element */
    ir_graph *g = tl_graph("g");
    ir_value *ins[] = {IN(g, "x", 2, 3, 2, 2), IN(g, "s", 3), IN(g, "b", 3), IN(g, "m", 3),
                       IN(g, "v", 3)};
    ir_node *n = node(g, IR_OP_BATCH_NORMALIZATION, 5, ins);
    cr_assert_eq(flops_of(g, n), 2 * 24);
    ir_graph_free(g);
}

Test(ir_stats, data_movement_is_free_and_elementwise_is_one_per_output)
{
    ir_op moves[] = {IR_OP_TRANSPOSE, IR_OP_IDENTITY, IR_OP_FLATTEN, IR_OP_SHAPE};
    for (size_t k = 0; k < sizeof moves / sizeof *moves; k++) {
        ir_graph *g = tl_graph("g");
        ir_node *n = node(g, moves[k], 1, (ir_value *[]){IN(g, "x", 2, 3)});
        cr_assert_eq(flops_of(g, n), 0, "%s", ir_op_name(moves[k]));
        ir_graph_free(g);
    }
    /* Add broadcasting [2,3] with [3]: 6 outputs */
    ir_graph *g = tl_graph("g");
    ir_node *n = node(g, IR_OP_ADD, 2, (ir_value *[]){IN(g, "a", 2, 3), IN(g, "b", 3)});
    cr_assert_eq(flops_of(g, n), 6);
    ir_graph_free(g);
}

Test(ir_stats, graph_totals)
{
    /* x [2,4] -> Gemm with constant w [4,3] and b [3] -> t [2,3] -> Relu -> y:
     * params 15 (60 bytes), io x + y = 8*4 + 6*4 bytes, one activation t of
     * 24 bytes; FLOPs 2*6*4 for the Gemm (its MACs) + 6 for the Relu */
    ir_graph *g = tl_graph("g");
    ir_value *x = IN(g, "x", 2, 4);
    ir_value *w = tl_const_f32(g, "w", 2, D(4, 3), (float[12]){0});
    ir_value *b = tl_const_f32(g, "b", 1, D(3), (float[3]){0});
    ir_node *gemm = tl_node(g, IR_OP_GEMM, "gemm", 3, (ir_value *[]){x, w, b}, 1, "t");
    tl_node(g, IR_OP_RELU, "relu", 1, (ir_value *[]){gemm->outputs[0]}, 1, "y");
    tl_mark_outputs(g);
    tl_infer_ok(g);
    ir_stats s;
    ir_graph_stats(g, &s);
    cr_assert_eq(s.params, 15);
    cr_assert_eq(s.param_bytes, 60);
    cr_assert_eq(s.io_bytes, 32 + 24);
    cr_assert_eq(s.activation_bytes, 24);
    cr_assert_eq(s.largest_activation_bytes, 24);
    cr_assert_eq(s.flops, 2 * 6 * 4 + 6);
    cr_assert_eq(s.op_count[IR_OP_GEMM], 1);
    cr_assert_eq(s.op_count[IR_OP_RELU], 1);
    cr_assert_eq(s.op_count[IR_OP_ADD], 0);
    ir_graph_free(g);
    assert_no_leaks();
}
