/* Unit tests of parallel loops (backend/loop/loop_parallel.c, the C
 * emitter's and the LLVM backend's outlined bodies) and of the kernels
 * split at the call level (depthwise convolution by channel blocks,
 * col2im by channels, attention heads as a parallel loop):
 *   - loop_parallelize marks an independent elementwise nest at its
 *     outermost loop and refuses a reduction over the loop's variable,
 *     overlapping windows, a shared local, a check and too little work;
 *   - loop_split_slots gives a loop over images a scratch copy per slot
 *     (the slot loop then marked parallel), the images past the slots a
 *     copy of the body, and leaves alone the loops it cannot split;
 *   - a model with odd sizes (depthwise Conv, Sigmoid, ReduceMean,
 *     ConvTranspose, FusedAttention) compiled by both backends gives
 *     bit-identical outputs at 1, 2, 3 and 7 threads (no split changes the
 *     order of a sum), and at 1 thread agrees with the interpreter. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "leak_check.h"
#include "loom.h"
#include "loop_ir.h"

/* ---- the pass ---- */

/* y[rows, cols] = x + 1 over a rows x cols nest (an arena y at offset 0,
 * x an input); returns the outer loop. */
static loop_stmt *add_nest(loop_func *f, loop_buf *x, loop_buf *y, int64_t rows, int64_t cols)
{
    loop_step *st = loop_step_new(f, "n", IR_OP_RELU);
    int i = loop_var_new(f), j = loop_var_new(f);
    loop_stmt *outer = loop_for(f, &st->body, i, rows);
    loop_stmt *inner = loop_for(f, &outer->body, j, cols);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, i, cols);
    loop_idx_add(&idx, j, 1);
    loop_store(f, &inner->body, y, idx,
               loop_binary(f, LOOP_BINOP_ADD, loop_load(f, x, idx),
                           loop_const_f(f, IR_DTYPE_F32, 1.0)));
    return outer;
}

static loop_func *new_func(loop_buf **x, loop_buf **y, int64_t n)
{
    loop_func *f = loop_func_new("t");
    cr_assert(f);
    *x = loop_buf_new(f, "x", LOOP_BUF_INPUT, IR_DTYPE_F32, n);
    *y = loop_buf_new(f, "y", LOOP_BUF_OUTPUT, IR_DTYPE_F32, n);
    return f;
}

static int marks(loop_func *f)
{
    ir_diag d;
    ir_diag_init(&d);
    int n = -1;
    cr_assert_eq(loop_parallelize(f, &n, &d), LOOM_STATUS_OK);
    cr_assert_eq(loop_verify(f, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    return n;
}

Test(parallel_pass, elementwise_nest_outermost)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 37 * 8001);
    loop_stmt *outer = add_nest(f, x, y, 37, 8001);
    cr_assert_eq(marks(f), 1);
    cr_assert(outer->parallel);
    cr_assert(!outer->body.stmts[0]->parallel, "only the outermost loop");
    loop_func_free(f);
}

Test(parallel_pass, inner_loop_when_outer_has_one_iteration)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 8001 * 37);
    loop_stmt *outer = add_nest(f, x, y, 1, 8001 * 37);
    cr_assert_eq(marks(f), 1);
    cr_assert(!outer->parallel);
    cr_assert(outer->body.stmts[0]->parallel);
    loop_func_free(f);
}

Test(parallel_pass, too_little_work_stays_serial)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 7 * 33);
    add_nest(f, x, y, 7, 33);
    cr_assert_eq(marks(f), 0);
    loop_func_free(f);
}

/* y[j] = y[j] + x[i, j]: every iteration of i writes all of y. */
Test(parallel_pass, reduction_over_the_loop_stays_serial)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 301 * 1203);
    loop_step *st = loop_step_new(f, "r", IR_OP_RELU);
    int i = loop_var_new(f), j = loop_var_new(f);
    loop_stmt *outer = loop_for(f, &st->body, i, 301);
    loop_stmt *inner = loop_for(f, &outer->body, j, 1203);
    loop_index xi = loop_idx_const(0), yi = loop_idx_const(0);
    loop_idx_add(&xi, i, 1203);
    loop_idx_add(&xi, j, 1);
    loop_idx_add(&yi, j, 1);
    loop_store(f, &inner->body, y, yi,
               loop_binary(f, LOOP_BINOP_ADD, loop_load(f, y, yi), loop_load(f, x, xi)));
    cr_assert_eq(marks(f), 0);
    loop_func_free(f);
}

/* y[i + j] for j in 0..3: neighbouring iterations write the same element. */
Test(parallel_pass, overlapping_windows_stay_serial)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 250000);
    loop_step *st = loop_step_new(f, "w", IR_OP_RELU);
    int i = loop_var_new(f), j = loop_var_new(f);
    loop_stmt *outer = loop_for(f, &st->body, i, 240000);
    loop_stmt *inner = loop_for(f, &outer->body, j, 3);
    loop_index yi = loop_idx_const(0);
    loop_idx_add(&yi, i, 1);
    loop_idx_add(&yi, j, 1);
    loop_store(f, &inner->body, y, yi, loop_load(f, x, yi));
    cr_assert_eq(marks(f), 0);
    loop_func_free(f);
}

/* $0 set before the loop and read in it: the loop does not own it. */
Test(parallel_pass, local_shared_with_the_step_stays_serial)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 300 * 1200);
    loop_step *st = loop_step_new(f, "l", IR_OP_RELU);
    int l = loop_local_new(f, IR_DTYPE_F32);
    loop_set(f, &st->body, l, loop_const_f(f, IR_DTYPE_F32, 2.0));
    int i = loop_var_new(f), j = loop_var_new(f);
    loop_stmt *outer = loop_for(f, &st->body, i, 300);
    loop_stmt *inner = loop_for(f, &outer->body, j, 1200);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, i, 1200);
    loop_idx_add(&idx, j, 1);
    loop_store(f, &inner->body, y, idx,
               loop_binary(f, LOOP_BINOP_MUL, loop_load(f, x, idx), loop_local_read(f, l)));
    cr_assert_eq(marks(f), 0);
    loop_func_free(f);
}

/* ---- slot loops (loop_split_slots) ---- */

/* Over n images: s[j] = x[i, j] + 1, then y[i, j] = 2 s[j] (+ i when
 * use_var), the scratch s rewritten by each image before it is read.
 * Returns the images' loop. */
static loop_stmt *scratch_nest(loop_func *f, loop_block *b, loop_buf *x, loop_buf *y,
                               loop_buf *s, int64_t n, int64_t cols, bool use_var)
{
    int i = loop_var_new(f), j = loop_var_new(f), k = loop_var_new(f);
    loop_stmt *outer = loop_for(f, b, i, n);
    loop_stmt *fill = loop_for(f, &outer->body, j, cols);
    loop_index xi = loop_idx_const(0), si = loop_idx_const(0);
    loop_idx_add(&xi, i, cols);
    loop_idx_add(&xi, j, 1);
    loop_idx_add(&si, j, 1);
    loop_store(f, &fill->body, s, si,
               loop_binary(f, LOOP_BINOP_ADD, loop_load(f, x, xi),
                           loop_const_f(f, IR_DTYPE_F32, 1.0)));
    loop_stmt *use = loop_for(f, &outer->body, k, cols);
    loop_index yi = loop_idx_const(0), sk = loop_idx_const(0);
    loop_idx_add(&yi, i, cols);
    loop_idx_add(&yi, k, 1);
    loop_idx_add(&sk, k, 1);
    loop_expr *v = loop_binary(f, LOOP_BINOP_MUL, loop_load(f, s, sk),
                               loop_const_f(f, IR_DTYPE_F32, 2.0));
    if (use_var)
        v = loop_binary(f, LOOP_BINOP_ADD, v, loop_cast(f, IR_DTYPE_F32, loop_var(f, i)));
    loop_store(f, &use->body, y, yi, v);
    return outer;
}

static loop_func *scratch_func(int64_t n, int64_t cols, loop_buf **x, loop_buf **y,
                               loop_buf **s)
{
    loop_func *f = new_func(x, y, n * cols);
    *s = loop_buf_new(f, "s", LOOP_BUF_ARENA, IR_DTYPE_F32, cols);
    return f;
}

/* The term of var in idx (0 when none). */
static int64_t coef_of(const loop_index *idx, int var)
{
    for (int k = 0; k < idx->n; k++)
        if (idx->var[k] == var)
            return idx->coef[k];
    return 0;
}

/* Four images in two slots: the loop over slots around one over a slot's
 * two images, the image's index i*cols split into 2cols per slot plus
 * cols per image, the scratch a copy per slot; the slot loop is then the
 * one marked parallel, where the shared scratch kept every loop serial. */
Test(parallel_pass, slot_loop_owns_its_scratch)
{
    const int64_t cols = 200003;
    loop_buf *x, *y, *s;
    loop_func *f = scratch_func(4, cols, &x, &y, &s);
    loop_step *st = loop_step_new(f, "c", IR_OP_CONV);
    loop_stmt *outer = scratch_nest(f, &st->body, x, y, s, 4, cols, false);
    cr_assert(loop_split_slots(f, &st->body, outer, 2));
    cr_assert(outer->slots && outer->extent == 2 && outer->body.n == 1);
    const loop_stmt *per = outer->body.stmts[0];
    cr_assert(per->kind == LOOP_STMT_FOR && per->extent == 2 && !per->slots);
    cr_assert_eq(s->numel, 2 * cols);
    const loop_stmt *fill = per->body.stmts[0]->body.stmts[0];
    const loop_stmt *use = per->body.stmts[1]->body.stmts[0];
    cr_expect(coef_of(&fill->idx, outer->var) == cols && fill->idx.n == 2, "s[cols i + j]");
    const loop_index *xi = &fill->value->a->idx;
    cr_expect(coef_of(xi, outer->var) == 2 * cols && coef_of(xi, per->var) == cols);
    cr_expect(coef_of(&use->idx, outer->var) == 2 * cols && coef_of(&use->idx, per->var) == cols);
    cr_expect(coef_of(&use->value->a->idx, outer->var) == cols);
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(loop_plan_memory(f, &d), LOOM_STATUS_OK);
    ir_diag_free(&d);
    cr_assert_eq(marks(f), 1);
    cr_assert(outer->parallel);
    loop_func_free(f);
}

/* Seven images in three slots: the slot loop over two images each, then
 * the seventh image, its copy of the body on slot 0's scratch, image 6's
 * offset in place of the variable's term, its loops on new variables;
 * eight images: the last two in a loop of their own. */
Test(parallel_pass, slot_loop_images_past_the_slots)
{
    const int64_t cols = 200003;
    for (int64_t n = 7; n <= 8; n++) {
        loop_buf *x, *y, *s;
        loop_func *f = scratch_func(n, cols, &x, &y, &s);
        loop_step *st = loop_step_new(f, "c", IR_OP_CONV);
        loop_stmt *outer = scratch_nest(f, &st->body, x, y, s, n, cols, false);
        int fill_var = outer->body.stmts[0]->var;
        cr_assert(loop_split_slots(f, &st->body, outer, 3));
        /* the seventh image's two loops, or the loop over the last two */
        cr_assert(st->body.n == (n == 7 ? 3 : 2) && st->body.stmts[0] == outer &&
                  outer->extent == 3);
        cr_assert_eq(s->numel, 3 * cols);
        const loop_stmt *rest = st->body.stmts[1];
        int r = -1;
        if (n == 8) {
            cr_assert(rest->kind == LOOP_STMT_FOR && rest->extent == 2 && !rest->slots);
            r = rest->var;
            rest = rest->body.stmts[0];
        }
        cr_assert(rest->kind == LOOP_STMT_FOR && rest->extent == cols);
        cr_expect(rest->var != fill_var, "the copy's loop on a new variable");
        const loop_stmt *fill = rest->body.stmts[0];
        cr_expect(fill->buf == s && fill->idx.n == 1 && fill->idx.offset == 0 &&
                      coef_of(&fill->idx, rest->var) == 1,
                  "s[j]: slot 0's scratch");
        const loop_index *xi = &fill->value->a->idx;
        cr_expect(xi->offset == 6 * cols && coef_of(xi, outer->var) == 0 &&
                      coef_of(xi, r) == (r >= 0 ? cols : 0),
                  "x at image 6");
        ir_diag d;
        ir_diag_init(&d);
        cr_assert_eq(loop_plan_memory(f, &d), LOOM_STATUS_OK);
        ir_diag_free(&d);
        cr_assert(marks(f) >= 1);
        cr_assert(outer->parallel);
        for (int k = 1; k < st->body.n; k++)
            cr_assert(!st->body.stmts[k]->parallel || n == 7,
                      "the last two images share slot 0's scratch");
        loop_func_free(f);
    }
}

/* What loop_split_slots leaves alone: fewer images than slots, no
 * scratch, the image's number read as a value, and a scratch also used
 * outside the loop. */
Test(parallel_pass, slot_loop_refusals)
{
    const int64_t cols = 64;
    loop_buf *x, *y, *s;
    for (int c = 0; c < 4; c++) {
        loop_func *f = scratch_func(c == 0 ? 1 : 4, cols, &x, &y, &s);
        loop_step *st = loop_step_new(f, "c", IR_OP_CONV);
        if (c == 1)
            s->tensor = "t"; /* a graph value: not scratch */
        if (c == 3)
            loop_store(f, &st->body, s, loop_idx_const(0), loop_const_f(f, IR_DTYPE_F32, 0.0));
        loop_stmt *outer = scratch_nest(f, &st->body, x, y, s, c == 0 ? 1 : 4, cols, c == 2);
        int n_vars = f->n_vars;
        cr_expect(!loop_split_slots(f, &st->body, outer, 2), "case %d split", c);
        cr_expect(!outer->slots && outer->extent == (c == 0 ? 1 : 4) && outer->body.n == 2 &&
                      s->numel == cols && f->n_vars == n_vars,
                  "case %d changed", c);
        loop_func_free(f);
    }
}

/* A check records one error per run: its loop stays serial. */
Test(parallel_pass, check_stays_serial)
{
    loop_buf *x, *y;
    loop_func *f = new_func(&x, &y, 300 * 1200);
    loop_stmt *outer = add_nest(f, x, y, 300, 1200);
    loop_expr *ok = loop_binary(f, LOOP_BINOP_LT, loop_load(f, x, loop_idx_const(0)),
                                loop_const_f(f, IR_DTYPE_F32, 5.0));
    loop_check(f, &outer->body.stmts[0]->body, ok, LOOP_ERROR_INDEX);
    f->error_offset = 0;
    f->workspace_bytes = LOOP_ERROR_RECORD_BYTES;
    cr_assert_eq(marks(f), 0);
    loop_func_free(f);
}

/* ---- models at several thread counts ---- */

#define C_DW 13
#define C_T 8

/* n pseudo-random values in [-1, 1) as a .lir constant list. */
static void put_values(char *buf, size_t cap, size_t *len, int n, unsigned *seed)
{
    for (int k = 0; k < n; k++) {
        *seed = *seed * 1103515245u + 12345u;
        double v = (double)(*seed >> 8 & 0xffff) / 32768.0 - 1.0;
        *len += (size_t)snprintf(buf + *len, cap - *len, "%s%.4f", k ? ", " : "", v);
    }
}

/* Depthwise Conv (13 channels, 65 x 67, group 13), Sigmoid, ReduceMean
 * over rows, ConvTranspose (8 -> 16 channels, stride 2 from 37 x 37: a GEMM
 * below 2^21 multiply-adds, which loom's own kernel computes, as OpenBLAS's
 * threaded one may round differently at another thread count) and
 * FusedAttention over 2 x 3 heads of 37 queries and 41 keys. */
static char *model_text(void)
{
    size_t cap = 1 << 17, len = 0;
    char *s = malloc(cap);
    unsigned seed = 7;
    len += (size_t)snprintf(s + len, cap - len,
                            "graph @par(%%x: f32[1,13,65,67], %%u: f32[1,8,37,37], "
                            "%%q: f32[2,3,37,16], %%k: f32[2,3,41,16], %%v: f32[2,3,41,16]) {\n"
                            "  %%w: f32[13,1,3,3] = const [");
    put_values(s, cap, &len, C_DW * 9, &seed);
    len += (size_t)snprintf(s + len, cap - len, "]\n  %%b: f32[13] = const [");
    put_values(s, cap, &len, C_DW, &seed);
    len += (size_t)snprintf(s + len, cap - len, "]\n  %%wt: f32[8,16,3,3] = const [");
    put_values(s, cap, &len, C_T * 16 * 9, &seed);
    snprintf(s + len, cap - len,
             "]\n"
             "  %%d = Conv(%%x, %%w, %%b) {group = 13, kernel_shape = [3, 3], "
             "pads = [1, 1, 1, 1]}\n"
             "  %%s = Sigmoid(%%d)\n"
             "  %%m = ReduceMean(%%s) {axes = [3], keepdims = 0}\n"
             "  %%t = ConvTranspose(%%u, %%wt) {strides = [2, 2], kernel_shape = [3, 3]}\n"
             "  %%a = FusedAttention(%%q, %%k, %%v)\n"
             "  return %%s, %%m, %%t, %%a\n}\n");
    return s;
}

#define N_IN 5
#define N_OUT 4

typedef struct io {
    float *in[N_IN];
    float *out[N_OUT];
    size_t out_bytes[N_OUT];
} io;

static loom_compiled *compile_at(const char *text, loom_backend b, int threads)
{
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load_memory(text, strlen(text), LOOM_FORMAT_LIR, NULL, NULL, &m, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    o.backend = b;
    o.threads = threads;
    loom_compiled *c = NULL;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_model_free(m);
    return c;
}

/* Runs c on the inputs of r (made on the first call) into fresh outputs. */
static void run_model(const loom_compiled *c, io *r)
{
    loom_diag dg;
    loom_tensor_info info;
    unsigned seed = 11;
    for (int i = 0; i < N_IN; i++) {
        if (r->in[i])
            continue;
        cr_assert_eq(loom_input_info(c, i, &info, &dg), LOOM_STATUS_OK);
        size_t n = info.bytes / sizeof(float);
        r->in[i] = malloc(info.bytes);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            r->in[i][k] = (float)(seed >> 8 & 0xffff) / 16384.0f - 2.0f;
        }
    }
    for (int o = 0; o < N_OUT; o++) {
        cr_assert_eq(loom_output_info(c, o, &info, &dg), LOOM_STATUS_OK);
        r->out_bytes[o] = info.bytes;
        r->out[o] = calloc(1, info.bytes);
    }
    loom_workspace *w = NULL;
    cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK, "%s", dg.message);
    cr_assert_eq(loom_run(c, w, (const void *const *)r->in, N_IN, (void *const *)r->out, N_OUT,
                          &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    loom_workspace_free(w);
}

static void free_outputs(io *r)
{
    for (int o = 0; o < N_OUT; o++)
        free(r->out[o]), r->out[o] = NULL;
}

/* The outputs of backend b at each thread count equal its 1-thread
 * outputs bit for bit; those agree with the interpreter's within
 * 1e-5 + 1e-4 |ref| (the kernels sum in another order). */
static void check_threads(loom_backend b)
{
    static const int counts[] = {1, 2, 3, 7};
    char *text = model_text();
    io ref, one;
    memset(&ref, 0, sizeof ref);
    memset(&one, 0, sizeof one);
    loom_compiled *interp = compile_at(text, LOOM_BACKEND_INTERP, 1);
    run_model(interp, &ref);
    loom_compiled_free(interp);
    for (int i = 0; i < N_IN; i++)
        one.in[i] = ref.in[i];
    for (size_t t = 0; t < sizeof counts / sizeof *counts; t++) {
        loom_compiled *c = compile_at(text, b, counts[t]);
        io r = one;
        run_model(c, t ? &r : &one);
        for (int o = 0; o < N_OUT && t; o++)
            cr_assert(memcmp(r.out[o], one.out[o], r.out_bytes[o]) == 0,
                      "output %d at %d threads differs from 1 thread", o, counts[t]);
        if (t)
            free_outputs(&r);
        loom_compiled_free(c);
    }
    for (int o = 0; o < N_OUT; o++)
        for (size_t k = 0; k < one.out_bytes[o] / sizeof(float); k++)
            cr_assert(fabsf(one.out[o][k] - ref.out[o][k]) <= 1e-5f + 1e-4f * fabsf(ref.out[o][k]),
                      "output %d [%zu]: %g, the interpreter %g", o, k, one.out[o][k],
                      ref.out[o][k]);
    free_outputs(&one);
    free_outputs(&ref);
    for (int i = 0; i < N_IN; i++)
        free(ref.in[i]);
    free(text);
    assert_no_leaks();
}

Test(parallel_model, c_threads_1_2_3_7_bit_identical) { check_threads(LOOM_BACKEND_C); }
Test(parallel_model, jit_threads_1_2_3_7_bit_identical) { check_threads(LOOM_BACKEND_JIT); }
