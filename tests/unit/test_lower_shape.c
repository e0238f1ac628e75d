/*
 * Lowering of the tensor-manipulation ops (backend/lower/lower_shape.c): graphs
 * covering every op and attribute form are compiled with the C backend and
 * compared with the interpreter (tl_check_c); the loop IR is inspected where
 * the form of the code matters (views instead of copies, affine instead of
 * data-dependent Gather loads, contiguous innermost stores). Cases the
 * interpreter rejects (an out-of-range runtime Gather index) or that the
 * pipeline always folds (Constant) run the compiled code directly.
 */
#include <stdint.h>

#include "be.h"
#include "lower.h"
#include "testlib.h"

static ir_value *c_i64(ir_graph *g, const char *name, int n, const int64_t *vals)
{
    return tl_const_i64(g, name, 1, (int64_t[]){n}, vals);
}

/* A one-element i64 constant named PREFIX_SUFFIX. */
static ir_value *c_named(ir_graph *g, const char *prefix, const char *suffix, int64_t v)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%s", prefix, suffix);
    return c_i64(g, name, 1, &v);
}

/* A single-output node. */
static ir_node *node(ir_graph *g, ir_op op, const char *name, int n_in, ir_value *const *in,
                     const char *out)
{
    return tl_node(g, op, name, n_in, in, 1, out);
}

static const loop_buf *find_buf(const loop_func *f, const ir_value *v)
{
    return tl_find_buf(f, v->name);
}

static int count_dyn_expr(const loop_expr *e)
{
    if (!e)
        return 0;
    int n = e->kind == LOOP_EXPR_LOAD && e->idx.dyn ? 1 : 0;
    return n + count_dyn_expr(e->a) + count_dyn_expr(e->b) + count_dyn_expr(e->c3);
}

/* Number of loads with a data-dependent index term in b. */
static int count_dyn(const loop_block *b)
{
    int n = 0;
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF)
            n += count_dyn(&s->body);
        if (s->kind == LOOP_STMT_STORE || s->kind == LOOP_STMT_SET)
            n += count_dyn_expr(s->value);
    }
    return n;
}

/* Every store in b sits in a loop whose variable has coefficient 1 in the
 * store index (the innermost loop walks contiguous output). Returns the
 * number of stores checked. */
static int check_contiguous_stores(const loop_block *b, int inner_var)
{
    int n = 0;
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR)
            n += check_contiguous_stores(&s->body, s->var);
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

/* Compiles g with the standalone C backend (lowered with opts) and runs
 * it on in, writing out; the run must return want_status, and for a data
 * error NAME_last_error must name want_node. With fold the whole pipeline
 * runs; without, the graph is lowered as is (so Constant nodes reach the
 * lowering). No interpreter involved. */
static void run_c_with(ir_graph *g, bool fold, const lower_opts *opts, const void *const *in,
                       void *const *out, int want_status, const char *want_node)
{
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    loom_status st;
    if (fold) {
        st = be_compile_with(g, "m", NULL, opts, &f, &d);
    } else {
        st = lower_graph(g, "m", &f, &d);
        if (!st)
            st = loop_verify(f, &d);
        if (!st)
            st = loop_plan_memory(f, &d);
        if (!st)
            st = loop_verify(f, &d);
    }
    cr_assert_eq(st, LOOM_STATUS_OK, "compile failed: %s", d.text ? d.text : "");
    char dir[] = "/tmp/loom-test-XXXXXX";
    cr_assert(mkdtemp(dir));
    be_c_opts copts = {.standalone = true};
    cr_assert_eq(be_c_emit(f, &copts, dir, "m", &d), LOOM_STATUS_OK, "%s", d.text);
    be_cc_module m = {0};
    be_cc_opts ccopts = {.standalone = true};
    cr_assert_eq(be_cc_build(dir, "m", "m", &ccopts, &m, &d), LOOM_STATUS_OK, "%s", d.text);
    void *ws = f->workspace_bytes ? aligned_alloc(64, (size_t)(f->workspace_bytes + 63) / 64 * 64)
                                  : NULL;
    cr_assert_eq(m.run(in, out, ws), want_status);
    const char *node = NULL, *op = NULL;
    cr_assert_eq(m.last_error(ws, &node, &op), want_status);
    if (want_status)
        cr_assert(node && op && strcmp(node, want_node) == 0, "failing node %s",
                  node ? node : "(none)");
    else
        cr_assert(!node && !op);
    free(ws);
    be_cc_unload(&m);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    loop_func_free(f);
    ir_diag_free(&d);
}

static void run_c(ir_graph *g, bool fold, const void *const *in, void *const *out)
{
    run_c_with(g, fold, NULL, in, out, 0, NULL);
}

/* ---- constants ---- */

/* A graph output folded to a constant is copied from the weights. GCC 12.2
 * tuned for Intel AVX-512 cores stored this very copy as a broadcast of its
 * first 8 bytes (docs/emitted-c.md "Compiler flags"): every backend must
 * give the constant back exactly. */
Test(lower_shape, folded_constant_output_copy)
{
    ir_graph *g = tl_graph("t");
    int32_t w[32] = {-1, 0, -1, 0, 0, 0, 0, 0, 1, -1, 0, -1, 0, 0, 0, 0};
    for (int i = 16; i < 32; i++)
        w[i] = i % 3 - 1;
    ir_value *c = tl_const(g, "c", IR_DTYPE_I32, 1, (int64_t[]){32}, w);
    tl_node(g, IR_OP_IDENTITY, "id", 1, (ir_value *[]){c}, 1, "y");
    tl_infer_ok(g);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- views ---- */

/* Reshape/Flatten/Squeeze/Unsqueeze of inputs and intermediates are views;
 * the ones whose output is a graph output copy. */
Test(lower_shape, views_and_copies)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_value *x2 = tl_input(g, "x2", IR_DTYPE_F32, 3, (int64_t[]){1, 3, 1});
    ir_value *s1 = c_i64(g, "s1", 2, (int64_t[]){6, 4});
    ir_value *s2 = c_i64(g, "s2", 2, (int64_t[]){2, -1});
    ir_value *s3 = c_i64(g, "s3", 1, (int64_t[]){24}), *ax = c_i64(g, "ax", 1, (int64_t[]){0});
    ir_value *r1 = node(g, IR_OP_RESHAPE, "r1", 2, (ir_value *[]){x, s1}, "r1")->outputs[0];
    ir_node *un = node(g, IR_OP_UNSQUEEZE, "u", 1, (ir_value *[]){r1}, "u"); /* axes attr */
    ir_node_set_ints(g, un, "axes", (int64_t[]){0}, 1);
    ir_value *u = un->outputs[0];
    ir_value *sq = node(g, IR_OP_SQUEEZE, "s", 2, (ir_value *[]){u, ax}, "s")->outputs[0];
    ir_value *t = node(g, IR_OP_TRANSPOSE, "t", 1, (ir_value *[]){sq}, "t")->outputs[0];
    ir_value *rt = node(g, IR_OP_RESHAPE, "rt", 2, (ir_value *[]){t, s2}, "rt")->outputs[0];
    node(g, IR_OP_TRANSPOSE, "out1", 1, (ir_value *[]){rt}, "out1");
    ir_node *fl = node(g, IR_OP_FLATTEN, "fl", 1, (ir_value *[]){x}, "fl");
    ir_node_set_int(g, fl, "axis", 2);
    node(g, IR_OP_RESHAPE, "out2", 2, (ir_value *[]){t, s3}, "out2");
    node(g, IR_OP_SQUEEZE, "sq2", 1, (ir_value *[]){x2}, "sq2"); /* no axes: all 1-dims */
    tl_infer_ok(g);
    cr_assert_eq(g->n_outputs, 4);

    loop_func *f = tl_lower_ok(g);
    const ir_value *views[] = {r1, u, sq, rt};
    for (int i = 0; i < 4; i++) {
        const loop_buf *b = find_buf(f, views[i]);
        cr_assert(b->alias, "%s should be a view", views[i]->name);
        cr_assert_eq(tl_find_step(f, views[i]->producer->name)->body.n, 0);
    }
    cr_assert_eq(find_buf(f, r1)->alias->kind, LOOP_BUF_INPUT);
    cr_assert_eq(find_buf(f, rt)->alias->kind, LOOP_BUF_ARENA);
    const char *copies[] = {"fl", "out2", "sq2"};
    for (int i = 0; i < 3; i++) {
        const loop_step *s = tl_find_step(f, copies[i]);
        cr_assert_eq(s->body.n, 1, "%s should copy", copies[i]);
        cr_assert_eq(s->body.stmts[0]->kind, LOOP_STMT_FOR);
    }
    loop_func_free(f);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Transpose ---- */

Test(lower_shape, transpose_rank4_perms)
{
    static const int64_t perms[][4] = {{0, 2, 3, 1}, {3, 1, 0, 2}, {0, 1, 3, 2}, {1, 0, 2, 3}};
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, (int64_t[]){2, 3, 4, 5});
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I64, 4, (int64_t[]){3, 1, 4, 2});
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        ir_node *n = node(g, IR_OP_TRANSPOSE, name, 1, (ir_value *[]){x}, name);
        ir_node_set_ints(g, n, "perm", perms[i], 4);
    }
    node(g, IR_OP_TRANSPOSE, "rev", 1, (ir_value *[]){x}, "rev"); /* default: reversed */
    ir_node *ti = node(g, IR_OP_TRANSPOSE, "ti", 1, (ir_value *[]){xi}, "ti");
    ir_node_set_ints(g, ti, "perm", (int64_t[]){2, 0, 3, 1}, 4);
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    const char *names[] = {"t0", "t1", "t2", "t3", "rev", "ti"};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(check_contiguous_stores(&tl_find_step(f, names[i])->body, -1), 1);
    /* perm {1,0,2,3}: dims 2,3 stay contiguous on both sides and merge */
    const loop_stmt *outer = tl_find_step(f, "t3")->body.stmts[0];
    cr_assert_eq(outer->body.stmts[0]->body.stmts[0]->extent, 20);
    loop_func_free(f);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Concat, Split ---- */

Test(lower_shape, concat_axes)
{
    float w[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        w[i] = (float)i * 0.5f;
    ir_graph *g = tl_graph("t");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 3, (int64_t[]){2, 5, 4});
    ir_value *d = tl_input(g, "d", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 2});
    ir_value *e = tl_input(g, "e", IR_DTYPE_F32, 3, (int64_t[]){2, 0, 4});
    ir_value *w0 = tl_const_f32(g, "w", 3, (int64_t[]){2, 3, 4}, w);
    ir_value *ta = node(g, IR_OP_TRANSPOSE, "ta", 1, (ir_value *[]){a}, "ta")->outputs[0];
    struct {
        int64_t axis;
        int n;
        ir_value *in[3];
    } cases[] = {
        {1, 3, {a, b, e}},  /* middle axis, with an empty input */
        {0, 3, {a, w0, a}}, /* outer axis, a constant input */
        {-1, 2, {d, a}},    /* innermost axis, negative */
        {2, 3, {a, d, w0}},
    };
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        ir_node *n = node(g, IR_OP_CONCAT, name, cases[i].n, cases[i].in, name);
        ir_node_set_int(g, n, "axis", cases[i].axis);
    }
    ir_node *n = node(g, IR_OP_CONCAT, "ct", 2, (ir_value *[]){ta, ta}, "ct"); /* intermediate */
    ir_node_set_int(g, n, "axis", 0);
    tl_infer_ok(g);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* A Concat whose dims before the axis are 1: the inputs computed by
 * nodes become views of their block of the output and are not copied;
 * graph inputs, constants and a value given twice are; with a batch of 2
 * every input is copied. The output is an arena value read on, or a graph
 * output written straight by the producers. */
Test(lower_shape, concat_in_place)
{
    float w[1 * 2 * 4 * 5];
    for (int i = 0; i < 40; i++)
        w[i] = (float)i * 0.25f - 3.0f;
    ir_graph *g = tl_graph("t");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 4, (int64_t[]){1, 3, 4, 5});
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 4, (int64_t[]){1, 2, 4, 5});
    ir_value *a2 = tl_input(g, "a2", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ir_value *a4 = tl_input(g, "a4", IR_DTYPE_F32, 4, (int64_t[]){1, 1, 4, 5});
    ir_value *a5 = tl_input(g, "a5", IR_DTYPE_F32, 4, (int64_t[]){1, 1, 2, 5});
    ir_value *k = tl_const_f32(g, "k", 4, (int64_t[]){1, 2, 4, 5}, w);
    ir_value *r1 = node(g, IR_OP_RELU, "r1", 1, (ir_value *[]){a}, "r1")->outputs[0];
    ir_value *s1 = node(g, IR_OP_SIGMOID, "s1", 1, (ir_value *[]){b}, "s1")->outputs[0];
    ir_value *t1 = node(g, IR_OP_TANH, "t1", 1, (ir_value *[]){a}, "t1")->outputs[0];
    ir_value *e1 = node(g, IR_OP_EXP, "e1", 1, (ir_value *[]){b}, "e1")->outputs[0];
    ir_value *n1 = node(g, IR_OP_NEG, "n1", 1, (ir_value *[]){a4}, "n1")->outputs[0];
    ir_value *r2 = node(g, IR_OP_RELU, "r2", 1, (ir_value *[]){a2}, "r2")->outputs[0];
    ir_value *ab = node(g, IR_OP_ABS, "ab", 1, (ir_value *[]){a5}, "ab")->outputs[0];
    /* c0: r1 and s1 in place between an input and a constant */
    ir_node *c0 = node(g, IR_OP_CONCAT, "c0", 4, (ir_value *[]){r1, b, s1, k}, "c0");
    ir_node_set_int(g, c0, "axis", 1);
    node(g, IR_OP_NEG, "y0", 1, (ir_value *[]){c0->outputs[0]}, "y0");
    /* c1, a graph output: t1 given twice is copied, e1 goes in place */
    ir_node *c1 = node(g, IR_OP_CONCAT, "c1", 3, (ir_value *[]){t1, e1, t1}, "c1");
    ir_node_set_int(g, c1, "axis", 1);
    /* c2: along axis 2 (dims 0 and 1 are 1), both in place */
    ir_node *c2 = node(g, IR_OP_CONCAT, "c2", 2, (ir_value *[]){n1, ab}, "c2");
    ir_node_set_int(g, c2, "axis", 2);
    /* c3: a batch of 2, copies */
    ir_node *c3 = node(g, IR_OP_CONCAT, "c3", 2, (ir_value *[]){r2, r2}, "c3");
    ir_node_set_int(g, c3, "axis", 1);
    ir_value *r3 = node(g, IR_OP_RELU, "r3", 1, (ir_value *[]){a2}, "r3")->outputs[0];
    ir_node *c4 = node(g, IR_OP_CONCAT, "c4", 2, (ir_value *[]){r3, a2}, "c4");
    ir_node_set_int(g, c4, "axis", 1);
    tl_infer_ok(g);

    loop_func *f = tl_lower_ok(g);
    struct {
        const ir_value *v, *of;
        int64_t at;
    } views[] = {{r1, c0->outputs[0], 0}, {s1, c0->outputs[0], 100},
                 {e1, c1->outputs[0], 60}, {n1, c2->outputs[0], 0},
                 {ab, c2->outputs[0], 20}};
    for (int i = 0; i < 5; i++) {
        const loop_buf *v = find_buf(f, views[i].v);
        cr_assert_eq(v->alias, find_buf(f, views[i].of), "%s should be a view", views[i].v->name);
        cr_assert_eq(v->alias_offset, views[i].at, "%s at %lld", views[i].v->name,
                     (long long)v->alias_offset);
    }
    cr_assert_eq(find_buf(f, e1)->kind, LOOP_BUF_OUTPUT);
    cr_assert(!find_buf(f, t1)->alias && !find_buf(f, r2)->alias && !find_buf(f, r3)->alias);
    /* copies: c0 of b and k, c1 of t1 twice, c2 none, c3 and c4 both */
    const char *steps[] = {"c0", "c1", "c2", "c3", "c4"};
    const int copies[] = {2, 2, 0, 2, 2};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(tl_find_step(f, steps[i])->body.n, copies[i], "%s: %d loop nests", steps[i],
                     tl_find_step(f, steps[i])->body.n);
    loop_func_free(f);
    tl_check_c(g, NULL, 1e-6f, 1e-6f); /* Sigmoid, Tanh, Exp: the fast exp */
    ir_graph_free(g);
}

Test(lower_shape, split_forms)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){6, 4, 5});
    ir_value *sizes = c_i64(g, "sizes", 4, (int64_t[]){1, 2, 0, 3});
    ir_node *s0 = tl_node(g, IR_OP_SPLIT, "s0", 2, (ir_value *[]){x, sizes}, 4, "a0", "a1", "a2",
                          "a3"); /* split input (13+), axis 0, an empty part */
    ir_node *s1 = tl_node(g, IR_OP_SPLIT, "s1", 1, (ir_value *[]){x}, 2, "b0", "b1");
    ir_node_set_int(g, s1, "axis", 1);
    ir_node_set_ints(g, s1, "split", (int64_t[]){1, 3}, 2); /* attribute (before 13) */
    ir_node *s2 = tl_node(g, IR_OP_SPLIT, "s2", 1, (ir_value *[]){x}, 2, "c0", "c1");
    ir_node_set_int(g, s2, "axis", -1);
    ir_node_set_int(g, s2, "num_outputs", 2); /* 18: chunks of 3, 2 */
    ir_node *s3 = tl_node(g, IR_OP_SPLIT, "s3", 1, (ir_value *[]){x}, 2, "d0", "d1");
    ir_node_set_int(g, s3, "axis", 1); /* even split */
    tl_infer_ok(g);
    tl_assert_shape(s0->outputs[2], 3, (int64_t[]){0, 4, 5});
    tl_assert_shape(s2->outputs[1], 3, (int64_t[]){6, 4, 2});
    tl_assert_shape(s3->outputs[0], 3, (int64_t[]){6, 2, 5});
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Slice ---- */

Test(lower_shape, slice_forms)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){5, 6, 7});
    /* negative steps on two axes, one end far past the front */
    ir_value *in0[] = {x, c_i64(g, "st0", 2, (int64_t[]){-1, 5}),
                       c_i64(g, "en0", 2, (int64_t[]){INT64_MIN, 0}),
                       c_i64(g, "ax0", 2, (int64_t[]){0, 2}),
                       c_i64(g, "sp0", 2, (int64_t[]){-1, -2})};
    node(g, IR_OP_SLICE, "neg", 5, in0, "neg");
    /* positive steps > 1, negative axes, clamped end */
    ir_value *in1[] = {x, c_i64(g, "st1", 2, (int64_t[]){1, 0}),
                       c_i64(g, "en1", 2, (int64_t[]){100, -1}),
                       c_i64(g, "ax1", 2, (int64_t[]){-2, -1}),
                       c_i64(g, "sp1", 2, (int64_t[]){2, 3})};
    node(g, IR_OP_SLICE, "pos", 5, in1, "pos");
    /* no axes / steps inputs: leading axes, step 1 */
    ir_value *in2[] = {x, c_i64(g, "st2", 2, (int64_t[]){1, -4}),
                       c_i64(g, "en2", 2, (int64_t[]){4, -1})};
    node(g, IR_OP_SLICE, "lead", 3, in2, "lead");
    /* attribute form (opsets 1-9) */
    ir_node *at = node(g, IR_OP_SLICE, "attr", 1, (ir_value *[]){x}, "attr");
    ir_node_set_ints(g, at, "starts", (int64_t[]){2}, 1);
    ir_node_set_ints(g, at, "ends", (int64_t[]){1000}, 1);
    ir_node_set_ints(g, at, "axes", (int64_t[]){1}, 1);
    /* whole dim reversed with the most negative step; an empty slice */
    ir_value *in3[] = {x, c_i64(g, "st3", 1, (int64_t[]){INT64_MAX}),
                       c_i64(g, "en3", 1, (int64_t[]){INT64_MIN}),
                       c_i64(g, "ax3", 1, (int64_t[]){1}), c_i64(g, "sp3", 1, (int64_t[]){-1})};
    node(g, IR_OP_SLICE, "rev", 5, in3, "rev");
    ir_value *in4[] = {x, c_i64(g, "st4", 1, (int64_t[]){3}), c_i64(g, "en4", 1, (int64_t[]){3})};
    ir_node *empty = node(g, IR_OP_SLICE, "empty", 3, in4, "empty");
    tl_infer_ok(g);
    cr_assert_eq(empty->outputs[0]->shape.dims[0], 0);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Gather ---- */

/* Indices as graph inputs (2-D i64, 1-D i32): the data-dependent path,
 * along the outer, a middle and the innermost axis. Random indices are in
 * [-4, 4], so every gathered dim is >= 5 and negatives wrap. */
Test(lower_shape, gather_dynamic)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){6, 5});
    ir_value *x3 = tl_input(g, "x3", IR_DTYPE_F32, 3, (int64_t[]){2, 5, 3});
    ir_value *i2 = tl_input(g, "i2", IR_DTYPE_I64, 2, (int64_t[]){2, 3});
    ir_value *i32 = tl_input(g, "i32", IR_DTYPE_I32, 1, (int64_t[]){4});
    node(g, IR_OP_GATHER, "g0", 2, (ir_value *[]){x, i2}, "g0");
    ir_node *n = node(g, IR_OP_GATHER, "g1", 2, (ir_value *[]){x, i2}, "g1");
    ir_node_set_int(g, n, "axis", 1);
    n = node(g, IR_OP_GATHER, "g2", 2, (ir_value *[]){x3, i2}, "g2");
    ir_node_set_int(g, n, "axis", 1);
    n = node(g, IR_OP_GATHER, "g3", 2, (ir_value *[]){x3, i32}, "g3");
    ir_node_set_int(g, n, "axis", -2);
    n = node(g, IR_OP_GATHER, "g4", 2, (ir_value *[]){x, i32}, "g4");
    ir_node_set_int(g, n, "axis", -1);
    tl_infer_ok(g);
    tl_assert_shape(g->outputs[2], 4, (int64_t[]){2, 2, 3, 3});
    loop_func *f = tl_lower_ok(g);
    const char *names[] = {"g0", "g1", "g2", "g3", "g4"};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(count_dyn(&tl_find_step(f, names[i])->body), 1, "%s", names[i]);
    loop_func_free(f);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* Constant indices: affine ones (2-D, scalar, negative, i32) become plain
 * strided loads; a non-affine list takes the data-dependent path. */
Test(lower_shape, gather_constant_indices)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){4, 6, 3});
    struct {
        const char *name;
        int64_t axis;
        ir_value *idx;
        bool affine;
    } cases[] = {
        {"aff2d", 1, tl_const_i64(g, "k0", 2, (int64_t[]){2, 2}, (int64_t[]){1, 2, 3, 4}), true},
        {"scalar", 1, tl_const_i64(g, "k1", 0, NULL, (int64_t[]){-2}), true},
        {"negstep", -2, c_i64(g, "k2", 3, (int64_t[]){-1, -2, -3}), true},
        {"repeat", 0, tl_const_i64(g, "k3", 2, (int64_t[]){2, 3}, (int64_t[]){1, 1, 1, 3, 3, 3}),
         true},
        {"i32", 2, tl_const(g, "k4", IR_DTYPE_I32, 1, (int64_t[]){2}, (int32_t[]){0, 2}), true},
        {"shuffle", 0, c_i64(g, "k5", 4, (int64_t[]){3, 0, -1, 2}), false},
    };
    for (int i = 0; i < 6; i++) {
        ir_node *n = node(g, IR_OP_GATHER, cases[i].name, 2, (ir_value *[]){x, cases[i].idx},
                          cases[i].name);
        ir_node_set_int(g, n, "axis", cases[i].axis);
    }
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(count_dyn(&tl_find_step(f, cases[i].name)->body), cases[i].affine ? 0 : 1,
                     "%s", cases[i].name);
    loop_func_free(f);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* y = Gather(x f32[5,2], idx i64[5]) in node "g", and x's values. */
static const float gather_xs[10] = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41};
static ir_graph *gather_graph(void)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){5, 2});
    ir_value *idx = tl_input(g, "idx", IR_DTYPE_I64, 1, (int64_t[]){5});
    node(g, IR_OP_GATHER, "g", 2, (ir_value *[]){x, idx}, "y");
    tl_infer_ok(g);
    return g;
}

/* An out-of-range runtime index is a data error in both engines: the
 * compiled run returns LOOP_ERROR_INDEX naming the node, the interpreter
 * reports the node; in-range indices (negative ones wrapped) pass. */
Test(lower_shape, gather_out_of_range_is_a_data_error)
{
    ir_graph *g = gather_graph();
    const float *xs = gather_xs;
    static const int64_t good[5] = {4, -5, 2, -1, 0};
    float y[10] = {0};
    run_c(g, true, (const void *[]){xs, good}, (void *[]){y});
    static const float want[10] = {40, 41, 0, 1, 20, 21, 40, 41, 0, 1};
    tl_assert_close_f32(y, want, 10, 0, 0);
    static const int64_t bad[3][5] = {
        {0, 1, 2, 3, 5}, {-6, 0, 0, 0, 0}, {0, 0, INT64_MIN, 0, 0}};
    for (int k = 0; k < 3; k++) {
        run_c_with(g, true, NULL, (const void *[]){xs, bad[k]}, (void *[]){y}, LOOP_ERROR_INDEX,
                   "g");
        ir_diag d;
        ir_diag_init(&d);
        cr_assert_neq(interp_run(g, (const void *[]){xs, bad[k]}, (void *[]){y}, &d),
                      LOOM_STATUS_OK);
        cr_assert(d.text && strstr(d.text, "node \"g\" (Gather)"), "%s", d.text);
        ir_diag_free(&d);
    }
    ir_graph_free(g);
}

/* GatherElements: an index outside [-dim, dim) along the axis is a data
 * error in both engines; wrapped negative indices pass. */
Test(lower_shape, gather_elements_out_of_range_is_a_data_error)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){3, 4});
    ir_value *idx = tl_input(g, "idx", IR_DTYPE_I64, 2, (int64_t[]){3, 2});
    ir_node *n = node(g, IR_OP_GATHER_ELEMENTS, "ge", 2, (ir_value *[]){x, idx}, "y");
    ir_node_set_int(g, n, "axis", 1);
    tl_infer_ok(g);
    float xs[12];
    for (int i = 0; i < 12; i++)
        xs[i] = (float)i;
    int64_t is[6] = {0, 3, -4, -1, 2, 1};
    float y[6];
    run_c_with(g, true, NULL, (const void *[]){xs, is}, (void *[]){y}, 0, NULL);
    static const float want[6] = {0, 3, 4, 7, 10, 9};
    tl_assert_close_f32(y, want, 6, 0, 0);
    is[3] = 4;
    tl_check_data_error(g, (const void *[]){xs, is}, LOOP_ERROR_INDEX, "ge");
    is[3] = -5;
    tl_check_data_error(g, (const void *[]){xs, is}, LOOP_ERROR_INDEX, "ge");
    ir_graph_free(g);
}

/* Lowered unchecked (`loom compile --unchecked`), an out-of-range index is
 * clamped into the axis: 7 reads row 4, -9 (-4 after wrapping) reads row
 * 0, and the run returns 0. */
Test(lower_shape, gather_unchecked_clamps_out_of_range)
{
    ir_graph *g = gather_graph();
    const float *xs = gather_xs;
    static const int64_t is[5] = {7, -9, 2, -1, INT64_MIN};
    float y[10] = {0};
    lower_opts unchecked = {.unchecked = true};
    run_c_with(g, true, &unchecked, (const void *[]){xs, is}, (void *[]){y}, 0, NULL);
    static const float want[10] = {40, 41, 0, 1, 20, 21, 40, 41, 0, 1};
    tl_assert_close_f32(y, want, 10, 0, 0);
    ir_graph_free(g);
}

/* ---- Expand ---- */

Test(lower_shape, expand_forms)
{
    ir_graph *g = tl_graph("t");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 2, (int64_t[]){3, 1});
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 3, (int64_t[]){2, 1, 4});
    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 0, NULL);
    struct {
        const char *name;
        ir_value *x;
        int n;
        int64_t shape[4];
    } cases[] = {
        {"lead", a, 3, {2, 3, 4}},  /* new leading dim, 1 -> 4 */
        {"mid", b, 3, {2, 3, 4}},   /* middle 1 -> 3 */
        {"lower", a, 1, {4}},       /* shape of lower rank than the input */
        {"same", b, 3, {2, 1, 4}},  /* plain copy */
        {"ones", b, 2, {1, 1}},     /* output equals the input shape */
        {"scalar", s, 2, {3, 2}},
    };
    for (int i = 0; i < 6; i++) {
        char sname[16];
        snprintf(sname, sizeof sname, "sh%d", i);
        ir_value *shape = c_i64(g, sname, cases[i].n, cases[i].shape);
        node(g, IR_OP_EXPAND, cases[i].name, 2, (ir_value *[]){cases[i].x, shape},
             cases[i].name);
    }
    tl_infer_ok(g);
    tl_assert_shape(g->outputs[2], 2, (int64_t[]){3, 4});
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- every dtype ---- */

Test(lower_shape, all_dtypes)
{
    static const ir_dtype types[] = {IR_DTYPE_F64, IR_DTYPE_I64, IR_DTYPE_I32,
                                     IR_DTYPE_I8,  IR_DTYPE_U8,  IR_DTYPE_BOOL};
    ir_graph *g = tl_graph("t");
    ir_value *idx = tl_input(g, "idx", IR_DTYPE_I64, 1, (int64_t[]){3});
    for (int i = 0; i < 6; i++) {
        char name[32];
        const char *tn = ir_dtype_name(types[i]);
        snprintf(name, sizeof name, "x_%s", tn);
        ir_value *x = tl_input(g, name, types[i], 2, (int64_t[]){5, 4});
        snprintf(name, sizeof name, "t_%s", tn);
        ir_value *t = node(g, IR_OP_TRANSPOSE, name, 1, (ir_value *[]){x}, name)->outputs[0];
        snprintf(name, sizeof name, "sl_%s", tn);
        ir_value *in[] = {t, c_named(g, "st", tn, -1), c_named(g, "en", tn, -100),
                          c_named(g, "ax", tn, 1), c_named(g, "sp", tn, -2)};
        ir_value *sl = node(g, IR_OP_SLICE, name, 5, in, name)->outputs[0];
        snprintf(name, sizeof name, "cat_%s", tn);
        ir_node *cat = node(g, IR_OP_CONCAT, name, 2, (ir_value *[]){sl, t}, name);
        ir_node_set_int(g, cat, "axis", 1);
        snprintf(name, sizeof name, "g_%s", tn);
        node(g, IR_OP_GATHER, name, 2, (ir_value *[]){x, idx}, name);
    }
    tl_infer_ok(g);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Constant, Shape ---- */

/* Shape of a runtime input is not folded: its output is constant data that
 * a graph output copies. With the data removed (a graph that never stored
 * it), the lowering copies the dims itself. */
Test(lower_shape, shape)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, (int64_t[]){2, 3, 5, 7});
    ir_value *w = c_i64(g, "w", 2, (int64_t[]){-1, 9});
    node(g, IR_OP_SHAPE, "full", 1, (ir_value *[]){x}, "full");
    ir_node *part = node(g, IR_OP_SHAPE, "part", 1, (ir_value *[]){x}, "part");
    ir_node_set_int(g, part, "start", 1);
    ir_node_set_int(g, part, "end", -1);
    ir_node *raw = node(g, IR_OP_SHAPE, "raw", 1, (ir_value *[]){x}, "raw");
    ir_node_set_int(g, raw, "start", -3);
    ir_node *cat = node(g, IR_OP_CONCAT, "cat", 2, (ir_value *[]){raw->outputs[0], w}, "cat");
    ir_node_set_int(g, cat, "axis", 0);
    tl_infer_ok(g);
    raw->outputs[0]->data = NULL;
    loop_func *f = tl_lower_ok(g);
    cr_assert_eq(tl_find_step(f, "full")->body.n, 0); /* constant data already */
    cr_assert_eq(tl_find_step(f, "raw")->body.n, 1);  /* copied from a constant */
    loop_func_free(f);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* Constant nodes are always folded by the pipeline; lowered directly their
 * output is the constant data (or, without it, a copy of the attribute). */
Test(lower_shape, constant)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){2});
    ir_node *ct = node(g, IR_OP_CONSTANT, "ct", 0, NULL, "ct");
    ir_value *tv = ir_graph_detached_value(g, "tv", IR_DTYPE_F32);
    ir_value_set_shape(tv, 1, (int64_t[]){3});
    tv->data = ir_arena_memdup(&g->arena, (float[]){1.5f, -2, 3}, 12);
    ir_node_set_tensor(g, ct, "value", tv);
    ir_node *cf = node(g, IR_OP_CONSTANT, "cf", 0, NULL, "cf");
    ir_node_set_floats(g, cf, "value_floats", (float[]){7, 8}, 2);
    ir_node *ci = node(g, IR_OP_CONSTANT, "ci", 0, NULL, "ci");
    ir_node_set_int(g, ci, "value_int", -5);
    ir_node *cis = node(g, IR_OP_CONSTANT, "cis", 0, NULL, "cis");
    ir_node_set_ints(g, cis, "value_ints", (int64_t[]){4, 5, 6}, 3);
    ir_node *cx = node(g, IR_OP_CONSTANT, "cx", 0, NULL, "cx");
    ir_node_set_float(g, cx, "value_float", 0.25f);
    ir_value *cat_in[] = {ct->outputs[0], x, cf->outputs[0]};
    ir_node *cat = node(g, IR_OP_CONCAT, "cat", 3, cat_in, "cat");
    ir_node_set_int(g, cat, "axis", 0);
    tl_infer_ok(g);
    cr_assert_eq(g->n_outputs, 4); /* ci, cis, cx, cat */
    ct->outputs[0]->data = NULL;   /* lowered from the attribute */
    cf->outputs[0]->data = NULL;
    cis->outputs[0]->data = NULL;
    static const float xs[2] = {10, 11};
    float cat_y[7];
    int64_t ci_y, cis_y[3];
    float cx_y;
    run_c(g, false, (const void *[]){xs}, (void *[]){&ci_y, cis_y, &cx_y, cat_y});
    tl_assert_close_f32(cat_y, (float[]){1.5f, -2, 3, 10, 11, 7, 8}, 7, 0, 0);
    cr_assert_eq(ci_y, -5);
    cr_assert(cis_y[0] == 4 && cis_y[1] == 5 && cis_y[2] == 6);
    cr_assert_eq(cx_y, 0.25f);
    ir_graph_free(g);
}
