/*
 * Tests of the loop IR verifier (backend/loop/loop_verify.c): a small valid
 * function passes, and each rejection is reached by a function with exactly
 * one defect, which must give LOOM_STATUS_INTERNAL and the verifier's
 * message naming the function and step. Accesses under an `if` and
 * data-dependent indices are the lowering's responsibility and pass.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "leak_check.h"
#include "loomrt.h"
#include "loop_ir.h"

/* The function every test starts from:
 *   step "relu": for i < 8: y[i] = max(x[i] + w[i], t[i])
 * with x an input, w a constant, t an arena slice, y an output (f32[8]). */
typedef struct fixture {
    loop_func *f;
    loop_buf *x, *w, *t, *y;
    loop_step *step;
    int i;
} fixture;

static const float weights[8];

static fixture make(void)
{
    fixture c;
    c.f = loop_func_new("m");
    cr_assert(c.f);
    c.x = loop_buf_new(c.f, "x", LOOP_BUF_INPUT, IR_DTYPE_F32, 8);
    c.w = loop_buf_new(c.f, "w", LOOP_BUF_CONST, IR_DTYPE_F32, 8);
    c.w->data = weights;
    c.t = loop_buf_new(c.f, "t", LOOP_BUF_ARENA, IR_DTYPE_F32, 8);
    c.t->offset = 0;
    c.y = loop_buf_new(c.f, "y", LOOP_BUF_OUTPUT, IR_DTYPE_F32, 8);
    c.f->workspace_bytes = 32;
    c.step = loop_step_new(c.f, "relu", IR_OP_RELU);
    c.i = loop_var_new(c.f);
    return c;
}

static loop_index at(int var, int64_t coef, int64_t offset)
{
    loop_index idx = loop_idx_const(offset);
    loop_idx_add(&idx, var, coef);
    return idx;
}

/* Appends b[0] = value to the step. */
static void store0(fixture *c, loop_buf *b, loop_expr *value)
{
    loop_store(c->f, &c->step->body, b, loop_idx_const(0), value);
}

/* The valid body: y[i] = max(x[i] + w[i], t[i]) inside for i < 8. */
static loop_stmt *valid_body(fixture *c)
{
    loop_stmt *loop = loop_for(c->f, &c->step->body, c->i, 8);
    loop_expr *sum = loop_binary(c->f, LOOP_BINOP_ADD, loop_load(c->f, c->x, at(c->i, 1, 0)),
                                 loop_load(c->f, c->w, at(c->i, 1, 0)));
    loop_store(c->f, &loop->body, c->y, at(c->i, 1, 0),
               loop_binary(c->f, LOOP_BINOP_MAX, sum, loop_load(c->f, c->t, at(c->i, 1, 0))));
    return loop;
}

/* Verifies c's function and checks the status and that the diagnostic
 * contains want (NULL: the function must pass). Frees the function. */
static void expect(fixture *c, const char *want)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = loop_verify(c->f, &d);
    if (!want) {
        cr_assert_eq(st, LOOM_STATUS_OK, "rejected a valid function: %s", d.text ? d.text : "");
    } else {
        cr_assert_eq(st, LOOM_STATUS_INTERNAL, "accepted a function with: %s", want);
        cr_assert(d.text && strstr(d.text, want), "diagnostic \"%s\" lacks \"%s\"",
                  d.text ? d.text : "", want);
        cr_assert(strstr(d.text, "m: loop IR: step \""), "no location in \"%s\"", d.text);
    }
    ir_diag_free(&d);
    loop_func_free(c->f);
    assert_no_leaks();
}

Test(loop_verify, valid_function_passes)
{
    fixture c = make();
    valid_body(&c);
    expect(&c, NULL);
}

/* ---- loops and variables ---- */

Test(loop_verify, non_positive_trip_count)
{
    fixture c = make();
    loop_for(c.f, &c.step->body, c.i, 0);
    expect(&c, "loop variable rebound or non-positive trip count");
}

Test(loop_verify, loop_variable_rebound_inside_its_loop)
{
    fixture c = make();
    loop_stmt *outer = loop_for(c.f, &c.step->body, c.i, 2);
    loop_for(c.f, &outer->body, c.i, 2);
    expect(&c, "loop variable rebound or non-positive trip count");
}

Test(loop_verify, loop_variable_never_declared)
{
    fixture c = make();
    loop_for(c.f, &c.step->body, c.i + 5, 2);
    expect(&c, "loop variable rebound or non-positive trip count");
}

Test(loop_verify, index_uses_a_variable_outside_its_loop)
{
    fixture c = make();
    int j = loop_var_new(c.f);
    loop_stmt *loop = loop_for(c.f, &c.step->body, c.i, 8);
    loop_store(c.f, &loop->body, c.y, at(j, 1, 0), loop_const_f(c.f, IR_DTYPE_F32, 0));
    expect(&c, "index uses a loop variable outside its loop");
}

Test(loop_verify, expression_uses_a_variable_outside_its_loop)
{
    fixture c = make();
    int j = loop_var_new(c.f);
    loop_stmt *loop = loop_for(c.f, &c.step->body, c.i, 8);
    loop_store(c.f, &loop->body, c.y, at(c.i, 1, 0),
               loop_cast(c.f, IR_DTYPE_F32, loop_var(c.f, j)));
    expect(&c, "expression uses a loop variable outside its loop");
}

Test(loop_verify, expression_uses_an_undeclared_local)
{
    fixture c = make();
    loop_expr *e = loop_local_read(c.f, loop_local_new(c.f, IR_DTYPE_F32));
    e->id = 3; /* one local is declared */
    store0(&c, c.y, e);
    expect(&c, "expression uses an undeclared local");
}

/* ---- bounds ---- */

Test(loop_verify, load_past_the_end)
{
    fixture c = make();
    loop_stmt *loop = loop_for(c.f, &c.step->body, c.i, 8);
    loop_store(c.f, &loop->body, c.y, at(c.i, 1, 0), loop_load(c.f, c.x, at(c.i, 1, 1)));
    expect(&c, "load of %x[8] spans [1, 8]");
}

Test(loop_verify, store_before_the_start)
{
    fixture c = make();
    loop_stmt *loop = loop_for(c.f, &c.step->body, c.i, 8);
    loop_store(c.f, &loop->body, c.y, at(c.i, -1, 6), loop_const_f(c.f, IR_DTYPE_F32, 1));
    expect(&c, "store of %y[8] spans [-1, 6]");
}

Test(loop_verify, guarded_and_data_dependent_accesses_are_not_bounds_checked)
{
    fixture c = make();
    loop_stmt *loop = loop_for(c.f, &c.step->body, c.i, 8);
    loop_expr *in_range = loop_binary(c.f, LOOP_BINOP_LT, loop_var(c.f, c.i),
                                      loop_const_i(c.f, IR_DTYPE_I64, 4));
    loop_stmt *guard = loop_if(c.f, &loop->body, in_range);
    loop_store(c.f, &guard->body, c.y, at(c.i, 2, 0), loop_const_f(c.f, IR_DTYPE_F32, 1));
    loop_index dyn = loop_idx_const(100);
    dyn.dyn = loop_var(c.f, c.i);
    dyn.dyn_coef = 1;
    loop_store(c.f, &loop->body, c.y, at(c.i, 1, 0), loop_load(c.f, c.x, dyn));
    expect(&c, NULL);
}

/* ---- dtypes ---- */

Test(loop_verify, binary_operands_of_two_dtypes)
{
    fixture c = make();
    store0(&c, c.y, loop_binary(c.f, LOOP_BINOP_ADD, loop_const_f(c.f, IR_DTYPE_F32, 1),
                                loop_const_f(c.f, IR_DTYPE_F64, 1)));
    expect(&c, "binary operands differ in dtype");
}

Test(loop_verify, select_with_a_float_condition)
{
    fixture c = make();
    loop_expr *one = loop_const_f(c.f, IR_DTYPE_F32, 1);
    store0(&c, c.y, loop_select(c.f, one, one, one));
    expect(&c, "select needs a bool condition and arms of one dtype");
}

Test(loop_verify, select_with_arms_of_two_dtypes)
{
    fixture c = make();
    loop_expr *cond = loop_const_i(c.f, IR_DTYPE_BOOL, 1);
    loop_expr *s = loop_select(c.f, cond, loop_const_f(c.f, IR_DTYPE_F32, 1),
                               loop_const_f(c.f, IR_DTYPE_F64, 1));
    s->dtype = IR_DTYPE_F32;
    store0(&c, c.y, s);
    expect(&c, "select needs a bool condition and arms of one dtype");
}

Test(loop_verify, stored_value_of_another_dtype)
{
    fixture c = make();
    store0(&c, c.y, loop_const_f(c.f, IR_DTYPE_F64, 1));
    expect(&c, "stored value's dtype differs from the buffer's");
}

Test(loop_verify, local_set_with_another_dtype)
{
    fixture c = make();
    int acc = loop_local_new(c.f, IR_DTYPE_F32);
    loop_set(c.f, &c.step->body, acc, loop_const_i(c.f, IR_DTYPE_I64, 1));
    expect(&c, "local assignment of the wrong dtype");
}

Test(loop_verify, local_set_of_an_undeclared_local)
{
    fixture c = make();
    loop_set(c.f, &c.step->body, 3, loop_const_f(c.f, IR_DTYPE_F32, 1));
    expect(&c, "local assignment of the wrong dtype");
}

/* ---- writes ---- */

Test(loop_verify, store_to_an_input)
{
    fixture c = make();
    store0(&c, c.x, loop_const_f(c.f, IR_DTYPE_F32, 1));
    expect(&c, "store to a read-only buffer");
}

Test(loop_verify, store_to_a_view_of_a_constant)
{
    fixture c = make();
    loop_buf *v = loop_buf_new(c.f, "v", LOOP_BUF_ARENA, IR_DTYPE_F32, 8);
    v->alias = c.w;
    store0(&c, v, loop_const_f(c.f, IR_DTYPE_F32, 1));
    expect(&c, "store to a read-only buffer");
}

/* A view inside its storage (the last 3 of t's 8 elements) passes; one
 * that runs past its end, starts before it, or views a view fails. */
Test(loop_verify, views_inside_their_storage)
{
    static const int64_t bad_offsets[] = {6, -1};
    fixture c = make();
    loop_buf *v = loop_buf_new(c.f, "v", LOOP_BUF_ARENA, IR_DTYPE_F32, 3);
    v->alias = c.t, v->alias_offset = 5;
    store0(&c, v, loop_const_f(c.f, IR_DTYPE_F32, 1));
    expect(&c, NULL);
    for (int k = 0; k < 2; k++) {
        c = make();
        v = loop_buf_new(c.f, "v", LOOP_BUF_ARENA, IR_DTYPE_F32, 3);
        v->alias = c.t, v->alias_offset = bad_offsets[k];
        expect(&c, "view reaches past its storage");
    }
    c = make();
    v = loop_buf_new(c.f, "v", LOOP_BUF_ARENA, IR_DTYPE_F32, 4);
    v->alias = c.t;
    loop_buf *vv = loop_buf_new(c.f, "vv", LOOP_BUF_ARENA, IR_DTYPE_F32, 2);
    vv->alias = v;
    expect(&c, "a view of a view");
}

/* ---- kernel calls ---- */

/* out[2x4] = a[2x2] b[2x4]: an SGEMM with M=2, N=4, K=2 on f32[8] buffers. */
static loop_stmt *gemm(fixture *c, loop_buf *a, loop_buf *b, loop_buf *out)
{
    loop_call_sgemm(c->f, &c->step->body,
                    &(loop_sgemm){.a = {a, loop_idx_const(0)}, .b = {b, loop_idx_const(0)},
                                  .c = {out, loop_idx_const(0)}, .m = 2, .n = 4, .k = 2,
                                  .lda = 2, .ldb = 4, .ldc = 4, .alpha = 1});
    return c->step->body.stmts[c->step->body.n - 1];
}

Test(loop_verify, valid_kernel_call_passes)
{
    fixture c = make();
    gemm(&c, c.x, c.w, c.y);
    expect(&c, NULL);
}

Test(loop_verify, call_of_an_unknown_kernel)
{
    fixture c = make();
    gemm(&c, c.x, c.w, c.y)->kernel = LOOP_KERNEL_COUNT;
    expect(&c, "call of an unknown kernel");
}

Test(loop_verify, kernel_call_without_a_buffer)
{
    fixture c = make();
    gemm(&c, c.x, NULL, c.y);
    expect(&c, "kernel call is missing its B argument");
}

Test(loop_verify, kernel_argument_runs_past_the_end)
{
    fixture c = make();
    gemm(&c, c.x, c.w, c.y)->call.sgemm.ldc = 5; /* ldc 5: C spans 5 + 4 = 9 elements */
    expect(&c, "kernel argument end of %y[8] spans [8, 8]");
}

Test(loop_verify, kernel_argument_starts_out_of_range)
{
    fixture c = make();
    gemm(&c, c.x, c.w, c.y)->call.sgemm.a.idx.offset = -1;
    expect(&c, "kernel argument of %x[8] spans [-1, -1]");
}

Test(loop_verify, kernel_argument_not_f32)
{
    fixture c = make();
    loop_buf *ints = loop_buf_new(c.f, "n", LOOP_BUF_INPUT, IR_DTYPE_I32, 8);
    gemm(&c, ints, c.w, c.y);
    expect(&c, "kernel arguments must be f32 buffers");
}

Test(loop_verify, epilogue_residual_runs_past_the_end)
{
    fixture c = make();
    loop_sgemm *g = &gemm(&c, c.x, c.w, c.t)->call.sgemm;
    g->epi.residual = (loop_slice){c.x, loop_idx_const(1)}; /* 8 elements from 1 */
    expect(&c, "kernel argument end of %x[8] spans [8, 8]");
}

Test(loop_verify, epilogue_bias_strides_are_checked)
{
    fixture c = make();
    loop_sgemm *g = &gemm(&c, c.x, c.w, c.t)->call.sgemm;
    g->epi.bias = (loop_slice){c.w, loop_idx_const(0)};
    g->epi.bias_rs = 1;
    g->epi.bias_cs = 2; /* (1, 3) reaches 1 + 6 = 7: inside */
    g->epi.act = LOOMRT_ACT_RELU;
    expect(&c, NULL);
}

Test(loop_verify, epilogue_bias_past_the_end)
{
    fixture c = make();
    loop_sgemm *g = &gemm(&c, c.x, c.w, c.t)->call.sgemm;
    g->epi.bias = (loop_slice){c.w, loop_idx_const(0)};
    g->epi.bias_rs = 3;
    g->epi.bias_cs = 2; /* (1, 3) reaches 3 + 6 = 9: past the end */
    expect(&c, "kernel argument end of %w[8] spans [9, 9]");
}

Test(loop_verify, epilogue_activation_must_be_known)
{
    fixture c = make();
    gemm(&c, c.x, c.w, c.t)->call.sgemm.epi.act = LOOMRT_ACT_COUNT;
    expect(&c, "kernel epilogue has an unknown activation");
}

Test(loop_verify, kernel_writes_a_constant)
{
    fixture c = make();
    gemm(&c, c.x, c.y, c.w);
    expect(&c, "kernel writes a read-only buffer");
}

/* A Winograd convolution with the 2x2/2 max pool after it: 8 -> 8
 * channels, 3x3 pad 1 over 7x7, pooled to 3x3, its buffers sized as the
 * kernel reaches them. */
static loop_stmt *winograd_pool(fixture *c)
{
    static float u[16 * 64 * 8];
    loop_buf *x = loop_buf_new(c->f, "wx", LOOP_BUF_INPUT, IR_DTYPE_F32, 8 * 49);
    loop_buf *w = loop_buf_new(c->f, "wu", LOOP_BUF_CONST, IR_DTYPE_F32,
                               loomrt_winograd_packed_size(8, 8, 6, 6));
    loop_buf *y = loop_buf_new(c->f, "wy", LOOP_BUF_OUTPUT, IR_DTYPE_F32, 8 * 9);
    loop_buf *s = loop_buf_new(c->f, "ws", LOOP_BUF_ARENA, IR_DTYPE_F32,
                               loomrt_winograd_scratch(8, 8, 6, 6));
    cr_assert(w->numel <= (int64_t)(sizeof u / sizeof u[0]));
    w->data = u;
    s->offset = 0;
    c->f->workspace_bytes = 4 * s->numel;
    loop_conv2d g = {8, 7, 7, 3, 3, 7, 7, 1, 1, 1, 1, 1, 1};
    loop_conv2d p = {8, 7, 7, 2, 2, 3, 3, 0, 0, 2, 2, 1, 1};
    loop_call_winograd_pool(c->f, &c->step->body,
                            &(loop_winograd_pool){.conv = {.x = {x, loop_idx_const(0)},
                                                           .w = {w, loop_idx_const(0)},
                                                           .y = {y, loop_idx_const(0)},
                                                           .scratch = {s, loop_idx_const(0)},
                                                           .m = 8,
                                                           .g = g},
                                                  .pool = p});
    return c->step->body.stmts[c->step->body.n - 1];
}

/* The fused pool passes as the lowering makes it; a padded pool, a 3x3
 * one, a stride 2 convolution and a residual are rejected. */
Test(loop_verify, winograd_pool_geometry)
{
    fixture c = make();
    winograd_pool(&c);
    expect(&c, NULL);
    c = make();
    winograd_pool(&c)->call.winograd_pool.pool.pad_t = 1;
    expect(&c, "winograd_pool needs winograd's convolution and an unpadded 2x2");
    c = make();
    winograd_pool(&c)->call.winograd_pool.pool.kh = 3;
    expect(&c, "winograd_pool needs");
    c = make();
    winograd_pool(&c)->call.winograd_pool.conv.g.stride_h = 2;
    expect(&c, "winograd_pool needs");
    c = make();
    loop_stmt *st = winograd_pool(&c);
    st->call.winograd_pool.conv.epi.residual = (loop_slice){c.t, loop_idx_const(0)};
    expect(&c, "winograd_pool takes no residual");
}

/* ---- memory plan ---- */

Test(loop_verify, arena_slice_past_the_workspace)
{
    fixture c = make();
    valid_body(&c);
    c.t->offset = 4;
    expect(&c, "step \"t\": arena slice ends past the workspace");
}

Test(loop_verify, out_of_memory_is_reported)
{
    fixture c = make();
    valid_body(&c);
    ir_diag d;
    ir_diag_init(&d);
    ir_alloc_fail_after(0);
    loom_status st = loop_verify(c.f, &d);
    ir_alloc_fail_after(-1);
    cr_assert_eq(st, LOOM_STATUS_NOMEM); /* the diagnostic's own allocation fails too */
    ir_diag_free(&d);
    loop_func_free(c.f);
}

/* Twenty messages at most, however many defects. */
Test(loop_verify, many_defects_are_capped)
{
    fixture c = make();
    for (int k = 0; k < 30; k++)
        store0(&c, c.x, loop_const_f(c.f, IR_DTYPE_F32, 0));
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(loop_verify(c.f, &d), LOOM_STATUS_INTERNAL);
    cr_assert_eq(d.n_errors, 20);
    ir_diag_free(&d);
    loop_func_free(c.f);
}
