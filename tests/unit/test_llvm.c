/*
 * The LLVM backend (backend/llvm) on hand-built loop functions: the
 * numerics docs/loop-ir.md states (fast exp/tanh bit-identical to the
 * runtime's loomrt_expf/loomrt_tanhf, the NaN rule of min/max, Round half
 * to even, integer wrap-around) held against the C backend and fixed
 * expectations; a compiled function outliving its graph and loop function;
 * the ahead-of-time outputs (IR text, object file); an unknown statement
 * failing with an internal error, not silently. The lowering tests
 * (tl_check_c) hold the JIT to the interpreter op by op.
 */
#include <stdint.h>

#include "testlib.h"

#include "loomrt.h"

#define N_SWEEP (1 << 20)

/* y[i] = op(x[i]) over n elements of dtype t. */
static loop_func *unary_func(loop_unop op, ir_dtype t, int64_t n)
{
    loop_func *f = loop_func_new("m");
    cr_assert(f);
    loop_buf *x = loop_buf_new(f, "x", LOOP_BUF_INPUT, t, n);
    loop_buf *y = loop_buf_new(f, "y", LOOP_BUF_OUTPUT, t, n);
    x->io_index = y->io_index = 0;
    f->n_inputs = f->n_outputs = 1;
    loop_step *s = loop_step_new(f, "s", IR_OP_EXP);
    int i = loop_var_new(f);
    loop_stmt *l = loop_for(f, &s->body, i, n);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, i, 1);
    loop_store(f, &l->body, y, idx, loop_unary(f, op, loop_load(f, x, idx)));
    return f;
}

/* z[i] = op(x[i], y[i]); the result dtype follows loop_binary. */
static loop_func *binary_func(loop_binop op, ir_dtype t, ir_dtype rt, int64_t n)
{
    loop_func *f = loop_func_new("m");
    cr_assert(f);
    loop_buf *x = loop_buf_new(f, "x", LOOP_BUF_INPUT, t, n);
    loop_buf *y = loop_buf_new(f, "y", LOOP_BUF_INPUT, t, n);
    loop_buf *z = loop_buf_new(f, "z", LOOP_BUF_OUTPUT, rt, n);
    x->io_index = 0;
    y->io_index = 1;
    z->io_index = 0;
    f->n_inputs = 2;
    f->n_outputs = 1;
    loop_step *s = loop_step_new(f, "s", IR_OP_ADD);
    int i = loop_var_new(f);
    loop_stmt *l = loop_for(f, &s->body, i, n);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, i, 1);
    loop_store(f, &l->body, z, idx,
               loop_binary(f, op, loop_load(f, x, idx), loop_load(f, y, idx)));
    return f;
}

static void plan(loop_func *f)
{
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(loop_verify(f, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    cr_assert_eq(loop_plan_memory(f, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
}

/* Runs f with the JIT; in -> out. */
static void run_jit(const loop_func *f, const void *const *in, void *const *out)
{
    tl_backend_run(TL_BACKEND_JIT, f, in, out);
}

/* Every 2^12-th float bit pattern plus the special values. */
static float *sweep(int64_t *n)
{
    static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 88.72f, 88.73f,
                                    -87.5f, -103.97f, -104.0f, 1e-40f, -1e-40f, 0.625f, -0.625f,
                                    0.62499994f, 9.0f, 1e-8f};
    int64_t k = 0, total = N_SWEEP + (int64_t)(sizeof special / sizeof *special);
    float *x = malloc((size_t)total * sizeof *x);
    cr_assert(x);
    for (uint64_t u = 0; u < (1ull << 32); u += 1ull << 12) {
        uint32_t b = (uint32_t)u;
        memcpy(&x[k++], &b, sizeof b);
    }
    for (size_t s = 0; s < sizeof special / sizeof *special; s++)
        x[k++] = special[s];
    *n = k;
    return x;
}

static void check_fast(loop_unop op, float (*ref)(float))
{
    int64_t n;
    float *x = sweep(&n), *y = malloc((size_t)n * sizeof *y);
    cr_assert(y);
    loop_func *f = unary_func(op, IR_DTYPE_F32, n);
    plan(f);
    run_jit(f, (const void *[]){x}, (void *[]){y});
    for (int64_t k = 0; k < n; k++) {
        float want = ref(x[k]);
        cr_assert(!memcmp(&want, &y[k], sizeof want) || (isnan(want) && isnan(y[k])),
                  "%s(%a): JIT %a, runtime %a", loop_unop_name(op), (double)x[k], (double)y[k],
                  (double)want);
    }
    loop_func_free(f);
    free(x);
    free(y);
}

Test(llvm, fast_exp_is_the_runtimes_bit_for_bit)
{
    check_fast(LOOP_UNOP_FAST_EXP, loomrt_expf);
}

Test(llvm, fast_tanh_is_the_runtimes_bit_for_bit)
{
    check_fast(LOOP_UNOP_FAST_TANH, loomrt_tanhf);
}

/* Runs f on the C backend (both builds, unless jit_only) and the JIT; the
 * bytes of output 0 must equal want. */
static void check_both(loop_func *f, const void *const *in, const void *want, size_t bytes,
                       bool jit_only)
{
    plan(f);
    for (int b = jit_only ? TL_BACKEND_JIT : 0; b < TL_BACKEND_COUNT; b++) {
        unsigned char got[256];
        cr_assert(bytes <= sizeof got);
        memset(got, 0xa5, sizeof got);
        tl_backend_run((tl_backend)b, f, in, (void *[]){got});
        for (size_t k = 0; k < bytes; k++)
            cr_assert_eq(got[k], ((const unsigned char *)want)[k], "%s: byte %zu differs",
                         tl_backend_names[b], k);
    }
    loop_func_free(f);
}

Test(llvm, float_min_max_ignore_nan)
{
    float x[4] = {NAN, 1.0f, -1.0f, -0.0f}, y[4] = {2.0f, NAN, -INFINITY, 3.0f};
    float mx[4] = {2.0f, 1.0f, -1.0f, 3.0f}, mn[4] = {2.0f, 1.0f, -INFINITY, -0.0f};
    check_both(binary_func(LOOP_BINOP_MAX, IR_DTYPE_F32, IR_DTYPE_F32, 4), (const void *[]){x, y},
               mx, sizeof mx, false);
    check_both(binary_func(LOOP_BINOP_MIN, IR_DTYPE_F32, IR_DTYPE_F32, 4), (const void *[]){x, y},
               mn, sizeof mn, false);
}

Test(llvm, round_is_half_to_even)
{
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4999998f, -3.5f, 1e30f};
    float want[8] = {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 2.0f, -4.0f, 1e30f};
    check_both(unary_func(LOOP_UNOP_ROUND, IR_DTYPE_F32, 8), (const void *[]){x}, want,
               sizeof want, false);
}

/* i32 add wraps in the JIT (C's int overflow is undefined, so the C
 * backend is not asked: lowering never emits an overflowing i32/i64 add);
 * i8 products wrap on the store in both. */
Test(llvm, integers_wrap_around)
{
    int32_t a[3] = {INT32_MAX, INT32_MIN, 7}, b[3] = {1, -1, -9};
    check_both(binary_func(LOOP_BINOP_ADD, IR_DTYPE_I32, IR_DTYPE_I32, 3), (const void *[]){a, b},
               (int32_t[]){INT32_MIN, INT32_MAX, -2}, 3 * sizeof(int32_t), true);
    int8_t c[2] = {100, -128}, e[2] = {2, -1};
    check_both(binary_func(LOOP_BINOP_MUL, IR_DTYPE_I8, IR_DTYPE_I8, 2), (const void *[]){c, e},
               (int8_t[]){-56, -128}, 2, false);
}

Test(llvm, comparisons_are_bool_bytes)
{
    float x[3] = {1.0f, NAN, 2.0f}, y[3] = {2.0f, NAN, 2.0f};
    check_both(binary_func(LOOP_BINOP_LT, IR_DTYPE_F32, IR_DTYPE_BOOL, 3), (const void *[]){x, y},
               (uint8_t[]){1, 0, 0}, 3, false);
    check_both(binary_func(LOOP_BINOP_NE, IR_DTYPE_F32, IR_DTYPE_BOOL, 3), (const void *[]){x, y},
               (uint8_t[]){1, 1, 0}, 3, false);
}

/* The compiled function keeps working after its graph and loop function
 * are freed: constants are copied, nothing points back into them. */
Test(llvm, module_outlives_graph)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){4});
    ir_value *w = tl_const_f32(g, "w", 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    tl_node(g, IR_OP_MUL, "mul", 2, (ir_value *[]){x, w}, 1, "y");
    tl_infer_ok(g);
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    cr_assert_eq(be_compile(g, "m", &f, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    be_llvm_module *m = NULL;
    cr_assert_eq(be_llvm_jit(f, NULL, &m, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    loop_func_free(f);
    ir_graph_free(g);
    float in[4] = {1, -1, 0.5f, 2}, out[4] = {0};
    char ws[64];
    cr_assert_eq(be_llvm_entry(m)((const void *[]){in}, (void *[]){out}, ws), 0);
    tl_assert_close_f32(out, (float[]){1, -2, 1.5f, 8}, 4, 0, 0);
    be_llvm_free(m);
    ir_diag_free(&d);
}

/* A statement kind the backend does not know (one added to loop_ir.h
 * without code generation) is an internal error with a message. */
Test(llvm, unknown_statement_fails_loudly)
{
    loop_func *f = unary_func(LOOP_UNOP_NEG, IR_DTYPE_F32, 4);
    plan(f);
    f->steps[0]->body.stmts[0]->kind = (loop_stmt_kind)99;
    ir_diag d;
    ir_diag_init(&d);
    be_llvm_module *m = NULL;
    cr_assert_eq(be_llvm_jit(f, NULL, &m, &d), LOOM_STATUS_INTERNAL);
    cr_assert_null(m);
    cr_assert(d.text && strstr(d.text, "statement kind 99"), "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    loop_func_free(f);
}

Test(llvm, emits_ir_and_objects)
{
    loop_func *f = unary_func(LOOP_UNOP_FAST_EXP, IR_DTYPE_F32, 64);
    plan(f);
    char dir[] = LOOM_TEST_TMP "/llvm-XXXXXX", ll[512], obj[512];
    cr_assert(mkdtemp(dir));
    snprintf(ll, sizeof ll, "%s/m.ll", dir);
    snprintf(obj, sizeof obj, "%s/m.o", dir);
    ir_diag d;
    ir_diag_init(&d);
    be_llvm_times t;
    cr_assert_eq(be_llvm_emit(f, NULL, BE_LLVM_EMIT_IR, ll, &t, &d), LOOM_STATUS_OK, "%s", d.text);
    cr_assert_eq(be_llvm_emit(f, NULL, BE_LLVM_EMIT_OBJ, obj, NULL, &d), LOOM_STATUS_OK, "%s", d.text);
    char text[65536] = {0};
    FILE *fp = fopen(ll, "r");
    cr_assert(fp);
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    cr_assert(len > 0 && strstr(text, "i32 @m_run_v(ptr"), "%s", text);
    cr_assert(strstr(text, "x float>"), "the fast exp loop did not vectorize:\n%s", text);
    unsigned char magic[4] = {0};
    fp = fopen(obj, "rb");
    cr_assert(fp && fread(magic, 1, 4, fp) == 4);
    fclose(fp);
    cr_assert(!memcmp(magic, "\177ELF", 4));
    cr_assert(t.opt_ms >= 0 && t.irgen_ms >= 0);
    /* an unwritable path is an I/O error with a message */
    cr_assert_eq(be_llvm_emit(f, NULL, BE_LLVM_EMIT_OBJ, "/nonexistent/x.o", NULL, &d),
                 LOOM_STATUS_IO);
    cr_assert(d.text && strstr(d.text, "/nonexistent/x.o"));
    unlink(ll);
    unlink(obj);
    rmdir(dir);
    ir_diag_free(&d);
    loop_func_free(f);
}

/* Many compile/run/free cycles: no leak (LeakSanitizer in the sanitizer
 * build) and no state kept between modules. */
Test(llvm, compile_free_cycles)
{
    loop_func *f = unary_func(LOOP_UNOP_ABS, IR_DTYPE_F32, 16);
    plan(f);
    float in[16], out[16];
    for (int k = 0; k < 16; k++)
        in[k] = (float)(k - 8);
    for (int cycle = 0; cycle < 20; cycle++) {
        memset(out, 0, sizeof out);
        run_jit(f, (const void *[]){in}, (void *[]){out});
        for (int k = 0; k < 16; k++)
            cr_assert_eq(out[k], fabsf(in[k]));
    }
    loop_func_free(f);
}
