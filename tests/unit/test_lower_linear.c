/*
 * Lowering of the linear ops (backend/lower/lower_linear.c, backend/lower/lower_rnn.c):
 * graphs covering every op and attribute form are compiled with the C
 * backend (OpenBLAS and standalone builds) and compared with the
 * double-accumulating interpreter (tl_check_c). The loop IR is inspected
 * where its form is the point: SGEMM calls instead of multiply loops
 * (MatMul batch folded into M, one input projection plus one call per
 * time step for the recurrent ops), contiguous innermost stores, and the
 * dtypes that are reported as unsupported.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lower.h"
#include "testlib.h"

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define ATOL 1e-4f
#define RTOL 1e-4f
#define RNN_ATOL 1e-4f
#define RNN_RTOL 1e-3f

/* ---- graph building ---- */

/* A constant f32 tensor with pseudo-random values in [-scale, scale). */
static ir_value *rand_const(ir_graph *g, const char *name, int rank, const int64_t *dims,
                            uint32_t seed, float scale)
{
    ir_shape s = {.rank = rank};
    memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
    int64_t n = ir_shape_numel(&s);
    float *data = malloc((size_t)(n ? n : 1) * sizeof *data);
    cr_assert(data);
    tl_fill(data, IR_DTYPE_F32, n, seed);
    for (int64_t i = 0; i < n; i++)
        data[i] *= scale;
    ir_value *v = tl_const_f32(g, name, rank, dims, data);
    free(data);
    return v;
}

static ir_value *in_f32(ir_graph *g, const char *name, int rank, const int64_t *dims)
{
    return tl_input(g, name, IR_DTYPE_F32, rank, dims);
}

/* Names made from a prefix and a suffix ("g3" + "_A"). */
static const char *nm(char *buf, size_t size, const char *prefix, const char *suffix)
{
    snprintf(buf, size, "%s%s", prefix, suffix);
    return buf;
}

/* Counts SGEMM calls (either kernel: SGEMM_PACKED for a constant B) in
 * b: *top those outside any loop, *in_loops the others (a call inside
 * loops of depth k is counted once). */
static void count_sgemm(const loop_block *b, int depth, int *top, int *in_loops)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF)
            count_sgemm(&s->body, depth + (s->kind == LOOP_STMT_FOR), top, in_loops);
        if (s->kind == LOOP_STMT_CALL &&
            (s->kernel == LOOP_KERNEL_SGEMM || s->kernel == LOOP_KERNEL_SGEMM_PACKED))
            ++*(depth ? in_loops : top);
    }
}

/* Every store in b sits in a loop whose variable has coefficient 1 in the
 * store index (the innermost loop walks contiguous memory). */
static int check_contiguous_stores(const loop_block *b, int inner_var)
{
    int n = 0;
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR)
            n += check_contiguous_stores(&s->body, s->var);
        if (s->kind == LOOP_STMT_IF)
            n += check_contiguous_stores(&s->body, inner_var);
        if (s->kind != LOOP_STMT_STORE)
            continue;
        bool unit = false;
        for (int t = 0; t < s->idx.n; t++)
            unit |= s->idx.var[t] == inner_var && s->idx.coef[t] == 1;
        cr_assert(unit, "store to %s: innermost loop i%d is not contiguous", s->buf->name,
                  inner_var);
        n++;
    }
    return n;
}

/* ---- Gemm ---- */

/* One Gemm node with M=3, K=5, N=4 (stored per trans flags), optional C of
 * shape cshape (rank -1: none). */
static void add_gemm(ir_graph *g, const char *p, int ta, int tb, int crank, const int64_t *cdims,
                     float alpha, float beta)
{
    char a[32], b[32], cn[32], y[32];
    ir_value *av = in_f32(g, nm(a, sizeof a, p, "_A"), 2, ta ? DIMS(5, 3) : DIMS(3, 5));
    ir_value *bv = in_f32(g, nm(b, sizeof b, p, "_B"), 2, tb ? DIMS(4, 5) : DIMS(5, 4));
    ir_value *cv = crank >= 0 ? rand_const(g, nm(cn, sizeof cn, p, "_C"), crank, cdims, 7, 1) : NULL;
    ir_node *n = tl_node(g, IR_OP_GEMM, p, cv ? 3 : 2, (ir_value *[]){av, bv, cv}, 1,
                         nm(y, sizeof y, p, "_Y"));
    if (ta)
        ir_node_set_int(g, n, "transA", 1);
    if (tb)
        ir_node_set_int(g, n, "transB", 1);
    if (alpha != 1.0f)
        ir_node_set_float(g, n, "alpha", alpha);
    if (beta != 1.0f)
        ir_node_set_float(g, n, "beta", beta);
}

Test(lower_linear, gemm_forms)
{
    ir_graph *g = tl_graph("gemm");
    add_gemm(g, "nn", 0, 0, -1, NULL, 1.0f, 1.0f);
    add_gemm(g, "nt", 0, 1, -1, NULL, 0.5f, 1.0f);
    add_gemm(g, "tn", 1, 0, -1, NULL, 1.0f, 1.0f);
    add_gemm(g, "tt", 1, 1, -1, NULL, -2.0f, 1.0f);
    add_gemm(g, "nnc", 0, 0, 2, DIMS(3, 4), 1.0f, 1.0f);
    add_gemm(g, "ntc", 0, 1, 1, DIMS(4), 1.5f, 0.25f);
    add_gemm(g, "tnc", 1, 0, 2, DIMS(3, 1), 1.0f, -1.0f);
    add_gemm(g, "ttc", 1, 1, 0, DIMS(0), 0.5f, 2.0f);
    add_gemm(g, "row", 0, 0, 2, DIMS(1, 4), 1.0f, 0.0f);
    /* K = 0: Y is beta * C alone */
    ir_value *a0 = in_f32(g, "k0_A", 2, DIMS(3, 0)), *b0 = in_f32(g, "k0_B", 2, DIMS(0, 4));
    ir_value *c0 = rand_const(g, "k0_C", 1, DIMS(4), 9, 1);
    ir_node *n = tl_node(g, IR_OP_GEMM, "k0", 3, (ir_value *[]){a0, b0, c0}, 1, "k0_Y");
    ir_node_set_float(g, n, "beta", 3.0f);
    tl_node(g, IR_OP_GEMM, "k0n", 2, (ir_value *[]){a0, b0}, 1, "k0n_Y");
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* A larger Gemm exercises the blocked standalone kernel past one block. */
Test(lower_linear, gemm_large)
{
    ir_graph *g = tl_graph("gemm_large");
    ir_value *a = in_f32(g, "A", 2, DIMS(150, 77)), *b = in_f32(g, "B", 2, DIMS(133, 150));
    ir_value *cv = rand_const(g, "C", 1, DIMS(133), 3, 1);
    ir_node *n = tl_node(g, IR_OP_GEMM, "big", 3, (ir_value *[]){a, b, cv}, 1, "Y");
    ir_node_set_int(g, n, "transA", 1);
    ir_node_set_int(g, n, "transB", 1);
    ir_node_set_float(g, n, "alpha", 0.5f);
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    int top = 0, inner = 0;
    count_sgemm(&tl_find_step(f, "big")->body, 0, &top, &inner);
    cr_assert_eq(top, 1);
    cr_assert_eq(inner, 0);
    loop_func_free(f);
    tl_check_c(g, NULL, 1e-3f, 1e-4f);
    ir_graph_free(g);
}

/* ---- MatMul ---- */

static void add_matmul(ir_graph *g, const char *p, int ra, const int64_t *da, int rb,
                       const int64_t *db)
{
    char a[32], b[32], y[32];
    ir_value *av = in_f32(g, nm(a, sizeof a, p, "_A"), ra, da);
    ir_value *bv = in_f32(g, nm(b, sizeof b, p, "_B"), rb, db);
    tl_node(g, IR_OP_MAT_MUL, p, 2, (ir_value *[]){av, bv}, 1, nm(y, sizeof y, p, "_Y"));
}

Test(lower_linear, matmul_forms)
{
    ir_graph *g = tl_graph("matmul");
    add_matmul(g, "vm", 1, DIMS(5), 2, DIMS(5, 4));           /* 1-D A */
    add_matmul(g, "mv", 2, DIMS(3, 5), 1, DIMS(5));           /* 1-D B */
    add_matmul(g, "vv", 1, DIMS(5), 1, DIMS(5));              /* scalar result */
    add_matmul(g, "mm", 2, DIMS(3, 5), 2, DIMS(5, 4));
    add_matmul(g, "fold", 4, DIMS(2, 3, 3, 5), 2, DIMS(5, 4)); /* batch folds into M */
    add_matmul(g, "foldv", 3, DIMS(2, 3, 5), 1, DIMS(5));      /* ... with N = 1 */
    add_matmul(g, "fold1", 3, DIMS(2, 3, 5), 3, DIMS(1, 5, 4)); /* B's batch broadcast */
    add_matmul(g, "bc", 4, DIMS(2, 1, 3, 5), 3, DIMS(3, 5, 4)); /* both broadcast */
    add_matmul(g, "ab", 2, DIMS(3, 5), 3, DIMS(2, 5, 4));       /* A broadcast */
    add_matmul(g, "vb", 1, DIMS(5), 3, DIMS(2, 5, 4));          /* 1-D A, batched B */
    add_matmul(g, "b4", 4, DIMS(4, 2, 3, 5), 4, DIMS(4, 1, 5, 2)); /* inner batch dim bcast */
    add_matmul(g, "same", 3, DIMS(3, 2, 6), 3, DIMS(3, 6, 2)); /* plain batched */
    add_matmul(g, "k0", 2, DIMS(3, 0), 2, DIMS(0, 2));         /* K = 0: zeros */
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    static const struct {
        const char *node;
        int top, inner;
    } want[] = {{"vm", 1, 0}, {"mv", 1, 0},   {"vv", 1, 0}, {"mm", 1, 0},
                {"fold", 1, 0}, {"foldv", 1, 0}, {"fold1", 1, 0}, {"bc", 0, 1},
                {"ab", 0, 1}, {"vb", 0, 1},   {"b4", 0, 1}, {"same", 0, 1}, {"k0", 0, 0}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int top = 0, inner = 0;
        count_sgemm(&tl_find_step(f, want[i].node)->body, 0, &top, &inner);
        cr_assert(top == want[i].top && inner == want[i].inner,
                  "%s: %d top-level and %d looped SGEMM calls", want[i].node, top, inner);
    }
    loop_func_free(f);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* ---- Softmax, LogSoftmax ---- */

static void add_softmax(ir_graph *g, ir_value *x, ir_op op, const char *name, int64_t axis,
                        bool coerce)
{
    char y[32];
    ir_node *n = tl_node(g, op, name, 1, (ir_value *[]){x}, 1, nm(y, sizeof y, name, "_Y"));
    if (axis != 99)
        ir_node_set_int(g, n, "axis", axis);
    if (coerce)
        ir_node_set_int(g, n, "coerce_2d", 1);
}

Test(lower_linear, softmax_axes)
{
    ir_graph *g = tl_graph("softmax");
    ir_value *x = in_f32(g, "x", 4, DIMS(2, 3, 4, 5));
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_last", 99, false);
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_ax1", 1, false);
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_ax0", 0, false);
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_neg2", -2, false);
    add_softmax(g, x, IR_OP_LOG_SOFTMAX, "lsm_last", -1, false);
    add_softmax(g, x, IR_OP_LOG_SOFTMAX, "lsm_ax2", 2, false);
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_legacy", 99, true);      /* flattened at axis 1 */
    add_softmax(g, x, IR_OP_LOG_SOFTMAX, "lsm_legacy", 2, true);
    add_softmax(g, x, IR_OP_SOFTMAX, "sm_legacy0", 0, true);      /* the whole tensor */
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 3, DIMS(3, 4, 2));
    add_softmax(g, xd, IR_OP_SOFTMAX, "sm_f64", 1, false);
    add_softmax(g, xd, IR_OP_LOG_SOFTMAX, "lsm_f64", -1, false);
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    const char *names[] = {"sm_last", "sm_ax1", "lsm_ax2", "sm_legacy", "lsm_f64"};
    for (int i = 0; i < 5; i++)
        cr_assert_gt(check_contiguous_stores(&tl_find_step(f, names[i])->body, -1), 0);
    loop_func_free(f);
    tl_check_c(g, NULL, 1e-6f, 1e-4f);
    ir_graph_free(g);
}

/* Large logits: the max is subtracted before exp. */
Test(lower_linear, softmax_stable)
{
    ir_graph *g = tl_graph("softmax_big");
    ir_value *x = in_f32(g, "x", 2, DIMS(3, 6));
    add_softmax(g, x, IR_OP_SOFTMAX, "sm", 99, false);
    add_softmax(g, x, IR_OP_LOG_SOFTMAX, "lsm", 0, false);
    tl_infer_ok(g);
    float xin[18] = {1000,  999,   998,  -1000, 0,     1000, -500, -501, 80,
                     90,    100,   110,  -1000, -1001, -999, -1000, -1002, -998};
    tl_check_c(g, (const void *[]){xin}, 1e-6f, 1e-4f);
    ir_graph_free(g);
}

/* ---- LayerNormalization ---- */

Test(lower_linear, layer_norm_forms)
{
    ir_graph *g = tl_graph("layernorm");
    ir_value *x = in_f32(g, "x", 3, DIMS(2, 3, 8));
    ir_value *s8 = rand_const(g, "s8", 1, DIMS(8), 1, 1), *b8 = rand_const(g, "b8", 1, DIMS(8), 2, 1);
    /* axis -1, all three outputs */
    tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln_all", 3, (ir_value *[]){x, s8, b8}, 3, "Y1", "Mean1",
            "Inv1");
    /* axis 1 over [3, 8], no bias, InvStdDev only */
    ir_value *s38 = rand_const(g, "s38", 2, DIMS(3, 8), 3, 1);
    ir_node *n = tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln_ax1", 2, (ir_value *[]){x, s38}, 3,
                         "Y2", "", "Inv2");
    ir_node_set_int(g, n, "axis", 1);
    ir_node_set_float(g, n, "epsilon", 1e-3f);
    /* Scale with a leading dim (per-row scale), bias [1, 8]; stats in f64 */
    ir_value *s218 = rand_const(g, "s218", 3, DIMS(2, 1, 8), 4, 1);
    ir_value *b18 = rand_const(g, "b18", 2, DIMS(1, 8), 5, 1);
    n = tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln_bcast", 3, (ir_value *[]){x, s218, b18}, 3,
                "Y3", "Mean3", "Inv3");
    ir_node_set_int(g, n, "axis", -2);
    ir_node_set_int(g, n, "stash_type", 11);
    /* axis 0: one row; scalar scale */
    ir_value *s1 = rand_const(g, "s1", 0, DIMS(0), 6, 1);
    n = tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln_ax0", 2, (ir_value *[]){x, s1}, 2, "Y4", "Mean4");
    ir_node_set_int(g, n, "axis", 0);
    /* f64 X */
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 2, DIMS(3, 5));
    ir_value *sd = tl_input(g, "sd", IR_DTYPE_F64, 1, DIMS(5));
    tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln_f64", 2, (ir_value *[]){xd, sd}, 1, "Y5");
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    cr_assert_gt(check_contiguous_stores(&tl_find_step(f, "ln_all")->body, -1), 0);
    loop_func_free(f);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* ---- LSTM, GRU, RNN ---- */

/* The inputs of a recurrent node with seq S, batch B, input I, hidden H,
 * G gates and nd directions; weights are constants scaled by wscale. */
typedef struct rnn_in {
    ir_value *x, *w, *r, *b, *lens, *h0, *c0, *p;
} rnn_in;

static rnn_in rnn_inputs(ir_graph *g, const char *p, int layout, int64_t S, int64_t B, int64_t I,
                         int64_t H, int G, int nd, float wscale)
{
    char buf[8][48];
    rnn_in in = {0};
    in.x = in_f32(g, nm(buf[0], 48, p, "_X"), 3, layout ? DIMS(B, S, I) : DIMS(S, B, I));
    in.w = rand_const(g, nm(buf[1], 48, p, "_W"), 3, DIMS(nd, G * H, I), 11, wscale);
    in.r = rand_const(g, nm(buf[2], 48, p, "_R"), 3, DIMS(nd, G * H, H), 12, wscale);
    in.b = rand_const(g, nm(buf[3], 48, p, "_B"), 2, DIMS(nd, 2 * G * H), 13, wscale);
    in.h0 = in_f32(g, nm(buf[4], 48, p, "_h0"), 3, layout ? DIMS(B, nd, H) : DIMS(nd, B, H));
    in.c0 = in_f32(g, nm(buf[5], 48, p, "_c0"), 3, layout ? DIMS(B, nd, H) : DIMS(nd, B, H));
    in.p = rand_const(g, nm(buf[6], 48, p, "_P"), 2, DIMS(nd, 3 * H), 14, wscale);
    return in;
}

static ir_value *lens_const(ir_graph *g, const char *name, int n, const int32_t *v)
{
    return tl_const(g, name, IR_DTYPE_I32, 1, (int64_t[]){n}, v);
}

/* Bidirectional LSTM with initial states, peepholes, bias and all three
 * outputs; and a forward LSTM at layout 1 with input_forget, clip, custom
 * activations and variable sequence lengths (a constant). */
Test(lower_linear, lstm_forms)
{
    ir_graph *g = tl_graph("lstm");
    rnn_in a = rnn_inputs(g, "bi", 0, 4, 3, 5, 6, 4, 2, 0.5f);
    ir_node *n = tl_node(g, IR_OP_LSTM, "bi", 8,
                         (ir_value *[]){a.x, a.w, a.r, a.b, NULL, a.h0, a.c0, a.p}, 3, "bi_Y",
                         "bi_Yh", "bi_Yc");
    ir_node_set_string(g, n, "direction", "bidirectional");
    ir_node_set_int(g, n, "hidden_size", 6);
    rnn_in b = rnn_inputs(g, "l1", 1, 5, 3, 4, 3, 4, 1, 1.0f);
    ir_value *lens = lens_const(g, "l1_lens", 3, (const int32_t[]){5, 0, 2});
    n = tl_node(g, IR_OP_LSTM, "l1", 8, (ir_value *[]){b.x, b.w, b.r, b.b, lens, b.h0, b.c0, b.p},
                3, "l1_Y", "l1_Yh", "l1_Yc");
    ir_node_set_int(g, n, "layout", 1);
    ir_node_set_int(g, n, "input_forget", 1);
    ir_node_set_float(g, n, "clip", 0.7f);
    ir_node_set_strings(g, n, "activations", (const char *[]){"HardSigmoid", "Elu", "Softsign"}, 3);
    ir_node_set_floats(g, n, "activation_alpha", (const float[]){0.3f, 0.8f}, 2);
    ir_node_set_floats(g, n, "activation_beta", (const float[]){0.4f}, 1);
    /* reverse, no bias / peepholes / initial states, Y_c only */
    rnn_in c = rnn_inputs(g, "rv", 0, 3, 2, 4, 5, 4, 1, 0.5f);
    n = tl_node(g, IR_OP_LSTM, "rv", 3, (ir_value *[]){c.x, c.w, c.r}, 3, "", "", "rv_Yc");
    ir_node_set_string(g, n, "direction", "reverse");
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    int top = 0, inner = 0;
    count_sgemm(&tl_find_step(f, "bi")->body, 0, &top, &inner);
    cr_assert(top == 1 && inner == 2, "bi: %d top-level and %d looped SGEMM calls", top, inner);
    loop_func_free(f);
    tl_check_c(g, NULL, RNN_ATOL, RNN_RTOL);
    ir_graph_free(g);
}

/* GRU with both linear_before_reset values, bidirectional with initial
 * state, reverse without bias, layout 1, sequence_lens all seq_length. */
Test(lower_linear, gru_forms)
{
    ir_graph *g = tl_graph("gru");
    const char *dirs[] = {"bidirectional", "reverse"};
    for (int lbr = 0; lbr < 2; lbr++)
        for (int k = 0; k < 2; k++) {
            char p[32], y[40], yh[40];
            snprintf(p, sizeof p, "g%d%d", lbr, k);
            int nd = k == 0 ? 2 : 1, layout = lbr && k;
            rnn_in a = rnn_inputs(g, p, layout, 4, 3, 5, 6, 3, nd, 0.6f);
            ir_value *lens = NULL;
            if (k == 1) {
                char ln[40];
                lens = lens_const(g, nm(ln, sizeof ln, p, "_lens"), 3, (const int32_t[]){4, 4, 4});
            }
            ir_node *n = tl_node(g, IR_OP_GRU, p, 6,
                                 (ir_value *[]){a.x, a.w, a.r, k == 0 ? a.b : NULL, lens,
                                                k == 0 ? a.h0 : NULL},
                                 2, nm(y, sizeof y, p, "_Y"), nm(yh, sizeof yh, p, "_Yh"));
            ir_node_set_string(g, n, "direction", dirs[k]);
            ir_node_set_int(g, n, "linear_before_reset", lbr);
            if (layout)
                ir_node_set_int(g, n, "layout", 1);
        }
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    int top = 0, inner = 0;
    count_sgemm(&tl_find_step(f, "g00")->body, 0, &top, &inner);
    cr_assert(top == 1 && inner == 4, "g00: %d top-level and %d looped SGEMM calls", top, inner);
    loop_func_free(f);
    tl_check_c(g, NULL, RNN_ATOL, RNN_RTOL);
    ir_graph_free(g);
}

/* RNN reverse and bidirectional with sequence_lens as a graph input (a
 * runtime `if` on the loaded length), layout 0 and 1; lengths out of range
 * are a data error. */
Test(lower_linear, rnn_sequence_lens)
{
    ir_graph *g = tl_graph("rnn_lens");
    rnn_in a = rnn_inputs(g, "rv", 0, 5, 4, 3, 4, 1, 1, 0.8f);
    ir_value *lens = tl_input(g, "lens", IR_DTYPE_I32, 1, DIMS(4));
    ir_node *n = tl_node(g, IR_OP_RNN, "rv", 6, (ir_value *[]){a.x, a.w, a.r, a.b, lens, a.h0}, 2,
                         "rv_Y", "rv_Yh");
    ir_node_set_string(g, n, "direction", "reverse");
    rnn_in b = rnn_inputs(g, "bi", 1, 5, 4, 3, 4, 1, 2, 0.8f);
    n = tl_node(g, IR_OP_RNN, "bi", 6, (ir_value *[]){b.x, b.w, b.r, b.b, lens, b.h0}, 2, "bi_Y",
                "bi_Yh");
    ir_node_set_string(g, n, "direction", "bidirectional");
    ir_node_set_int(g, n, "layout", 1);
    tl_infer_ok(g);
    /* random inputs, except the lengths */
    const void *in[16] = {0};
    void *bufs[16] = {0};
    int32_t lv[4] = {5, 0, 3, 1};
    for (int i = 0; i < g->n_inputs; i++) {
        if (g->inputs[i] == lens) {
            in[i] = lv;
            continue;
        }
        bufs[i] = malloc(ir_value_bytes(g->inputs[i]));
        tl_fill(bufs[i], IR_DTYPE_F32, ir_shape_numel(&g->inputs[i]->shape), (uint32_t)i + 1);
        in[i] = bufs[i];
    }
    tl_check_c(g, in, RNN_ATOL, RNN_RTOL);
    /* a length past seq_length (5) or below 0 is a data error of the
     * first node reading it, in both engines */
    lv[1] = 6;
    tl_check_data_error(g, in, LOOP_ERROR_SEQ_LEN, "rv");
    lv[1] = 0;
    lv[3] = -1;
    tl_check_data_error(g, in, LOOP_ERROR_SEQ_LEN, "rv");
    for (int i = 0; i < g->n_inputs; i++)
        free(bufs[i]);
    ir_graph_free(g);
}

/* Every activation function, with alpha/beta where they apply, and clip. */
Test(lower_linear, rnn_activations)
{
    ir_graph *g = tl_graph("rnn_acts");
    static const char *acts[6][2] = {
        {"Relu", "Tanh"},           {"Sigmoid", "Affine"},     {"LeakyRelu", "ThresholdedRelu"},
        {"ScaledTanh", "HardSigmoid"}, {"Elu", "Softsign"}, {"Softplus", "relu"},
    };
    for (int k = 0; k < 6; k++) {
        char p[8], y[16], yh[16];
        snprintf(p, sizeof p, "a%d", k);
        rnn_in a = rnn_inputs(g, p, 0, 3, 2, 4, 5, 1, 2, 0.9f);
        ir_node *n = tl_node(g, IR_OP_RNN, p, 6, (ir_value *[]){a.x, a.w, a.r, a.b, NULL, a.h0}, 2,
                             nm(y, sizeof y, p, "_Y"), nm(yh, sizeof yh, p, "_Yh"));
        ir_node_set_string(g, n, "direction", "bidirectional");
        ir_node_set_strings(g, n, "activations", acts[k], 2);
        if (k == 1 || k == 2 || k == 3)
            ir_node_set_floats(g, n, "activation_alpha", (const float[]){0.7f, 0.2f}, 2 - (k == 1));
        if (k == 1 || k == 3)
            ir_node_set_floats(g, n, "activation_beta", (const float[]){-0.3f, 0.6f}, 2 - (k == 1));
        if (k == 5)
            ir_node_set_float(g, n, "clip", 0.5f);
    }
    tl_infer_ok(g);
    tl_check_c(g, NULL, RNN_ATOL, RNN_RTOL);
    ir_graph_free(g);
}

/* ---- what is not lowered ---- */

/* Gemm, MatMul and the recurrent ops call the f32 SGEMM kernel: other
 * dtypes are reported, each with its node. */
Test(lower_linear, non_f32_unsupported)
{
    ir_graph *g = tl_graph("f64");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F64, 2, DIMS(2, 3));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F64, 2, DIMS(3, 2));
    tl_node(g, IR_OP_GEMM, "gemm64", 2, (ir_value *[]){a, b}, 1, "y1");
    ir_value *ai = tl_input(g, "ai", IR_DTYPE_I64, 2, DIMS(2, 3));
    ir_value *bi = tl_input(g, "bi", IR_DTYPE_I64, 2, DIMS(3, 2));
    tl_node(g, IR_OP_MAT_MUL, "mm64", 2, (ir_value *[]){ai, bi}, 1, "y2");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F64, 3, DIMS(2, 1, 3));
    double wd[12] = {0}, rd[16] = {0};
    ir_value *w = tl_const(g, "w", IR_DTYPE_F64, 3, DIMS(1, 4, 3), wd);
    ir_value *r = tl_const(g, "r", IR_DTYPE_F64, 3, DIMS(1, 4, 4), rd);
    tl_node(g, IR_OP_RNN, "rnn64", 3, (ir_value *[]){x, w, r}, 2, "y3", "");
    tl_infer_ok(g);
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    cr_assert_eq(lower_graph(g, "m", &f, &d), LOOM_STATUS_UNSUPPORTED);
    cr_assert_null(f);
    cr_assert_eq(d.n_errors, 3, "%s", d.text);
    cr_assert(strstr(d.text, "node \"gemm64\" (Gemm): a has dtype f64"), "%s", d.text);
    cr_assert(strstr(d.text, "node \"mm64\" (MatMul): ai has dtype i64"), "%s", d.text);
    cr_assert(strstr(d.text, "node \"rnn64\" (RNN): X has dtype f64"), "%s", d.text);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Empty dims: no loops over zero trip counts, and the values the
 * interpreter gives (LayerNorm statistics of an empty row are NaN; an RNN
 * without input features runs on its biases alone; Y_h of zero steps is 0). */
Test(lower_linear, empty_dims)
{
    ir_graph *g = tl_graph("empty");
    ir_value *x = in_f32(g, "x", 2, DIMS(2, 0));
    ir_value *s = rand_const(g, "s", 1, DIMS(0), 1, 1);
    tl_node(g, IR_OP_LAYER_NORMALIZATION, "ln", 2, (ir_value *[]){x, s}, 3, "ln_Y", "ln_M", "ln_I");
    tl_node(g, IR_OP_SOFTMAX, "sm", 1, (ir_value *[]){x}, 1, "sm_Y");
    rnn_in a = rnn_inputs(g, "i0", 0, 3, 2, 0, 4, 3, 1, 0.5f);
    tl_node(g, IR_OP_GRU, "i0", 6, (ir_value *[]){a.x, a.w, a.r, a.b, NULL, a.h0}, 2, "i0_Y",
            "i0_Yh");
    rnn_in b = rnn_inputs(g, "n0", 0, 3, 2, 0, 4, 1, 1, 0.5f);
    tl_node(g, IR_OP_RNN, "n0", 3, (ir_value *[]){b.x, b.w, b.r}, 2, "n0_Y", "n0_Yh");
    rnn_in e = rnn_inputs(g, "s0", 0, 0, 2, 3, 4, 4, 1, 0.5f);
    tl_node(g, IR_OP_LSTM, "s0", 7, (ir_value *[]){e.x, e.w, e.r, e.b, NULL, e.h0, e.c0}, 3, "s0_Y",
            "s0_Yh", "s0_Yc");
    tl_infer_ok(g);
    tl_check_c(g, NULL, RNN_ATOL, RNN_RTOL);
    ir_graph_free(g);
}
