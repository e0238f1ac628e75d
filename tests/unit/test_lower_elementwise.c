/*
 * Tests of the elementwise lowering (backend/lower/lower_elementwise.c): graphs
 * covering every op and attribute form are compiled with the C backend and
 * compared with the interpreter (tl_check_c, random inputs). Special values
 * (NaN, infinities, integer extremes, out-of-range casts) go through
 * check_ub, which builds the emitted C with UBSan (any undefined behaviour
 * aborts the program) and compares exactly, infinities included. The two
 * results that knowingly differ from the interpreter (integer division by
 * zero, overflowing i64 Mul) are checked against their documented values.
 */
#include <float.h>
#include <stdint.h>

#include "be.h"
#include "lower.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})
#define ATOL 1e-6f
#define RTOL 1e-5f

/* ---- graph building ---- */

static ir_value *op1(ir_graph *g, ir_op op, ir_value *x, const char *out)
{
    return tl_node(g, op, out, 1, (ir_value *[]){x}, 1, out)->outputs[0];
}

static ir_value *op2(ir_graph *g, ir_op op, ir_value *a, ir_value *b, const char *out)
{
    return tl_node(g, op, out, 2, (ir_value *[]){a, b}, 1, out)->outputs[0];
}

static ir_value *cast(ir_graph *g, ir_value *x, ir_dtype to, const char *out)
{
    ir_node *n = tl_node(g, IR_OP_CAST, out, 1, (ir_value *[]){x}, 1, out);
    ir_node_set_int(g, n, "to", ir_dtype_to_onnx(to));
    return n->outputs[0];
}

/* A Reduce node with the axes attribute (naxes < 0: none) and keepdims
 * (< 0: default). */
static ir_node *reduce(ir_graph *g, ir_op op, ir_value *x, const int64_t *axes, int naxes,
                       int keepdims, const char *out)
{
    ir_node *n = tl_node(g, op, out, 1, (ir_value *[]){x}, 1, out);
    if (naxes >= 0)
        ir_node_set_ints(g, n, "axes", axes, naxes);
    if (keepdims >= 0)
        ir_node_set_int(g, n, "keepdims", keepdims);
    return n;
}

/* ---- running the C code under UBSan ---- */

static void write_file(const char *dir, const char *name, const void *data, size_t bytes)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    cr_assert(fp, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, bytes, fp), bytes);
    fclose(fp);
}

static void read_file(const char *dir, const char *name, void *data, size_t bytes)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    cr_assert(fp, "cannot read %s", path);
    cr_assert_eq(fread(data, 1, bytes, fp), bytes);
    fclose(fp);
}

/* A driver that loads inN.bin, runs the model and writes outN.bin. A
 * want_status other than 0 is the data error the run must return, with
 * m_last_error naming node want_node; nothing is written then. */
static void write_driver(const char *dir, const ir_graph *g, int64_t ws_bytes, int want_status,
                         const char *want_node)
{
    char path[256];
    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *fp = fopen(path, "w");
    cr_assert(fp);
    fprintf(fp, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                "#include \"m.h\"\n"
                "static void *slurp(const char *p, size_t n) {\n"
                "    void *b = calloc(1, n + 1); FILE *f = fopen(p, \"rb\");\n"
                "    if (!b || !f || fread(b, 1, n, f) != n) exit(2);\n"
                "    fclose(f); return b;\n}\n"
                "int main(void) {\n    const void *in[%d]; void *out[%d];\n",
            g->n_inputs + 1, g->n_outputs + 1);
    for (int i = 0; i < g->n_inputs; i++)
        fprintf(fp, "    in[%d] = slurp(\"in%d.bin\", %zu);\n", i, i,
                ir_value_bytes(g->inputs[i]));
    for (int i = 0; i < g->n_outputs; i++)
        fprintf(fp, "    out[%d] = calloc(1, %zu);\n", i, ir_value_bytes(g->outputs[i]) + 1);
    fprintf(fp, "    void *ws = aligned_alloc(64, %lld);\n", (long long)(ws_bytes + 64) / 64 * 64);
    if (want_status) {
        fprintf(fp, "    const char *node = 0, *op = 0;\n"
                    "    if (m_run_v(in, out, ws) != %d) return 3;\n"
                    "    if (m_last_error(ws, &node, &op) != %d || !node || !op) return 5;\n"
                    "    return strcmp(node, \"%s\") != 0 ? 6 : 0;\n}\n",
                want_status, want_status, want_node);
        fclose(fp);
        return;
    }
    fprintf(fp, "    if (m_run_v(in, out, ws) != 0) return 3;\n"
                "    if (m_last_error(ws, 0, 0) != 0) return 5;\n");
    for (int i = 0; i < g->n_outputs; i++)
        fprintf(fp,
                "    { FILE *f = fopen(\"out%d.bin\", \"wb\");\n"
                "      if (!f || fwrite(out[%d], 1, %zu, f) != %zu) return 4; fclose(f); }\n",
                i, i, ir_value_bytes(g->outputs[i]), ir_value_bytes(g->outputs[i]));
    fprintf(fp, "    return 0;\n}\n");
    fclose(fp);
}

/* Compiles g (inferred, outputs marked) with the standalone C backend,
 * lowered with opts, and UBSan, float-cast-overflow included, with
 * sanitizer reports fatal; runs it on inputs and fills outputs, or, when
 * want_status is not 0, checks that the run fails with that data error in
 * node want_node. */
static void run_c_ubsan_with(ir_graph *g, const lower_opts *opts, const void *const *inputs,
                             void *const *outputs, int want_status, const char *want_node)
{
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    loom_status st = be_compile_with(g, "m", NULL, opts, &f, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "pipeline failed: %s", d.text ? d.text : "");
    char dir[] = "/tmp/loom-ub-XXXXXX";
    cr_assert(mkdtemp(dir));
    be_c_opts copts = {.standalone = true};
    cr_assert_eq(be_c_emit(f, &copts, dir, "m", &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    for (int i = 0; i < g->n_inputs; i++) {
        char name[32];
        snprintf(name, sizeof name, "in%d.bin", i);
        write_file(dir, name, inputs[i], ir_value_bytes(g->inputs[i]));
    }
    write_driver(dir, g, f->workspace_bytes, want_status, want_node);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd %s && cc -std=c11 -O1 -fsanitize=undefined,float-cast-overflow "
             "-fno-sanitize-recover=all -o prog main.c m.c -lm && ./prog",
             dir);
    cr_assert_eq(system(cmd), 0, "UBSan build or run failed (in %s)", dir);
    for (int i = 0; i < g->n_outputs && !want_status; i++) {
        char name[32];
        snprintf(name, sizeof name, "out%d.bin", i);
        read_file(dir, name, outputs[i], ir_value_bytes(g->outputs[i]));
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    loop_func_free(f);
    ir_diag_free(&d);
}

/* run_c_ubsan_with the default (checked) lowering, expecting success. */
static void run_c_ubsan(ir_graph *g, const void *const *inputs, void *const *outputs)
{
    run_c_ubsan_with(g, NULL, inputs, outputs, 0, NULL);
}

/* got equals want: integers exactly, floats within atol + rtol * |want|
 * or equal (infinities), NaN matching NaN. */
static void assert_match(const ir_value *v, const void *got, const void *want, double atol,
                         double rtol)
{
    int64_t n = ir_shape_numel(&v->shape);
    bool fl = v->dtype == IR_DTYPE_F32 || v->dtype == IR_DTYPE_F64;
    for (int64_t k = 0; k < n; k++) {
        if (!fl) {
            int64_t a = interp_load_i(got, v->dtype, k), b = interp_load_i(want, v->dtype, k);
            cr_assert_eq(a, b, "output \"%s\"[%lld]: C %lld, want %lld", v->name, (long long)k,
                         (long long)a, (long long)b);
            continue;
        }
        double a = interp_load_f(got, v->dtype, k), b = interp_load_f(want, v->dtype, k);
        bool ok = (isnan(a) && isnan(b)) || a == b || fabs(a - b) <= atol + rtol * fabs(b);
        cr_assert(ok, "output \"%s\"[%lld]: C %.17g, want %.17g", v->name, (long long)k, a, b);
    }
}

/* Runs g in the interpreter and as UBSan-checked C on inputs and compares
 * every output (see assert_match). */
static void check_ub(ir_graph *g, const void *const *inputs, double atol, double rtol)
{
    void *want[64] = {0}, *got[64] = {0};
    cr_assert(g->n_outputs < 64);
    for (int i = 0; i < g->n_outputs; i++) {
        want[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
        got[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
    }
    tl_run(g, inputs, want);
    run_c_ubsan(g, inputs, got);
    for (int i = 0; i < g->n_outputs; i++) {
        assert_match(g->outputs[i], got[i], want[i], atol, rtol);
        free(want[i]);
        free(got[i]);
    }
}

/* ---- binary arithmetic ---- */

/* f32 Add/Sub/Mul/Div/Pow broadcasting both ways, with scalar inputs, a
 * scalar constant (a literal) and a vector constant. */
Test(lower_elementwise, binary_f32_broadcast)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 3, D(2, 3, 4));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 2, D(3, 1));
    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 0, NULL);
    ir_value *r = tl_input(g, "r", IR_DTYPE_F32, 2, D(1, 4));
    ir_value *half = tl_const_f32(g, "half", 1, D(1), (float[]){0.5f});
    ir_value *v = tl_const_f32(g, "v", 1, D(4), (float[]){1.5f, -2, 4, 0.25f});
    op2(g, IR_OP_ADD, a, b, "add");
    op2(g, IR_OP_SUB, b, a, "sub_rev");
    op2(g, IR_OP_MUL, a, s, "mul_scalar");
    op2(g, IR_OP_DIV, a, v, "div_const");
    op2(g, IR_OP_MUL, half, a, "mul_literal");
    op2(g, IR_OP_ADD, r, b, "outer");
    op2(g, IR_OP_SUB, a, a, "same");
    op2(g, IR_OP_DIV, s, v, "div_scalar");
    op2(g, IR_OP_POW, a, b, "pow");
    op2(g, IR_OP_MUL, s, s, "scalar_only");
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

Test(lower_elementwise, binary_f64)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F64, 2, D(4, 3));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F64, 1, D(3));
    ir_value *c = tl_input(g, "c", IR_DTYPE_F64, 3, D(2, 1, 1));
    op2(g, IR_OP_ADD, a, b, "add");
    op2(g, IR_OP_SUB, c, a, "sub");
    op2(g, IR_OP_MUL, b, c, "mul");
    op2(g, IR_OP_DIV, a, c, "div");
    op2(g, IR_OP_POW, a, b, "pow");
    tl_infer_ok(g);
    tl_check_c(g, NULL, 1e-12f, 1e-12f);
    ir_graph_free(g);
}

/* Integer Add/Sub/Mul/Div per dtype at the extremes: wrapping sums and
 * products, truncating division, INT_MIN / -1 wrapping, all without UB. */
Test(lower_elementwise, binary_int_extremes)
{
    ir_graph *g = tl_graph("g");
    static const ir_dtype types[] = {IR_DTYPE_I64, IR_DTYPE_I32, IR_DTYPE_I8, IR_DTYPE_U8};
    static const char *names[] = {"i64", "i32", "i8", "u8"};
    static const int64_t a64[6] = {INT64_MAX, INT64_MIN, -7, INT64_MIN, INT64_MAX, 7};
    static const int32_t a32[6] = {INT32_MAX, INT32_MIN, -7, INT32_MIN, INT32_MAX, 7};
    static const int8_t a8[6] = {127, -128, -7, -128, 127, 7};
    static const uint8_t au8[6] = {255, 0, 7, 200, 255, 9};
    static const int64_t b64[3] = {1, -1, 2};
    static const int32_t b32[3] = {1, -1, 2};
    static const int8_t b8[3] = {1, -1, 2};
    static const uint8_t bu8[3] = {1, 3, 2};
    const void *inputs[10] = {a64, b64, a32, b32, a8, b8, au8, bu8};
    for (int k = 0; k < 4; k++) {
        char an[16], bn[16], out[32];
        snprintf(an, sizeof an, "a_%s", names[k]);
        snprintf(bn, sizeof bn, "b_%s", names[k]);
        ir_value *a = tl_input(g, an, types[k], 2, D(2, 3));
        ir_value *b = tl_input(g, bn, types[k], 1, D(3));
        op2(g, IR_OP_ADD, a, b, (snprintf(out, sizeof out, "add_%s", names[k]), out));
        op2(g, IR_OP_SUB, a, b, (snprintf(out, sizeof out, "sub_%s", names[k]), out));
        op2(g, IR_OP_SUB, b, a, (snprintf(out, sizeof out, "sub_rev_%s", names[k]), out));
        op2(g, IR_OP_DIV, a, b, (snprintf(out, sizeof out, "div_%s", names[k]), out));
        if (k > 0) /* i64: MIN * -1 overflows; products are tested below */
            op2(g, IR_OP_MUL, a, b, (snprintf(out, sizeof out, "mul_%s", names[k]), out));
    }
    /* i64 products at the edge of the range, none overflowing: a at the
     * bounds INT64_MIN / b and INT64_MAX / b of the overflow test */
    static const int64_t m1[6] = {INT64_MAX, INT64_MIN, 3037000500, INT64_MIN / 3,
                                  4611686018427387904, -3074457345618258602};
    static const int64_t m2[6] = {1, 1, 3037000499, 3, -2, -3};
    inputs[8] = m1;
    inputs[9] = m2;
    ir_value *x = tl_input(g, "m1", IR_DTYPE_I64, 1, D(6));
    ir_value *y = tl_input(g, "m2", IR_DTYPE_I64, 1, D(6));
    op2(g, IR_OP_MUL, x, y, "mul_edge");
    op2(g, IR_OP_MUL, y, x, "mul_edge_rev");
    tl_infer_ok(g);
    check_ub(g, inputs, 0, 0);
    tl_check_c(g, inputs, 0, 0);
    ir_graph_free(g);
}

/* Runs g in the interpreter on inputs, which must fail naming node: the
 * same data error the compiled code reports. */
static void interp_rejects(ir_graph *g, const void *const *inputs, const char *node)
{
    void *out[64] = {0};
    for (int i = 0; i < g->n_outputs; i++)
        out[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
    ir_diag d;
    ir_diag_init(&d);
    char want[128];
    snprintf(want, sizeof want, "node \"%s\"", node);
    cr_assert_neq(interp_run(g, inputs, out, &d), LOOM_STATUS_OK);
    cr_assert(d.text && strstr(d.text, want), "diagnostic: %s", d.text ? d.text : "");
    ir_diag_free(&d);
    for (int i = 0; i < g->n_outputs; i++)
        free(out[i]);
}

/* Checked (the default): an integer division by zero in any dtype makes
 * the run return LOOP_ERROR_DIV_ZERO with the node's name, as the
 * interpreter rejects it; a non-zero divisor passes the check. */
Test(lower_elementwise, int_div_zero_is_a_data_error)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_I64, 1, D(3));
    ir_value *z = tl_input(g, "z", IR_DTYPE_I64, 1, D(3));
    ir_value *a32 = tl_input(g, "a32", IR_DTYPE_I32, 1, D(2));
    op2(g, IR_OP_DIV, a, a, "ok_div");
    op2(g, IR_OP_DIV, a32, a32, "div_i32");
    op2(g, IR_OP_DIV, a, z, "div_i64");
    tl_infer_ok(g);
    int64_t av[3] = {4, 5, 6}, zv[3] = {1, 0, 2};
    int32_t ok32[2] = {3, 7}, bad32[2] = {3, 0};
    int64_t o1[3], o3[3];
    int32_t o2[2];
    run_c_ubsan_with(g, NULL, (const void *[]){av, zv, bad32}, (void *[]){o1, o2, o3},
                     LOOP_ERROR_DIV_ZERO, "div_i32");
    interp_rejects(g, (const void *[]){av, zv, bad32}, "div_i32");
    run_c_ubsan_with(g, NULL, (const void *[]){av, zv, ok32}, (void *[]){o1, o2, o3},
                     LOOP_ERROR_DIV_ZERO, "div_i64");
    interp_rejects(g, (const void *[]){av, zv, ok32}, "div_i64");
    ir_graph_free(g);
}

/* Unchecked (lower_opts.unchecked, `loom compile --unchecked`), the
 * documented departures from the interpreter (which rejects division by
 * zero and wraps i64 products): x / 0 is 0 for every integer dtype, and an
 * overflowing i64 Mul saturates. */
Test(lower_elementwise, int_div_zero_and_mul_overflow)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_I64, 1, D(4));
    ir_value *z = tl_input(g, "z", IR_DTYPE_I64, 1, D(4));
    ir_value *a32 = tl_input(g, "a32", IR_DTYPE_I32, 1, D(2));
    ir_value *a8 = tl_input(g, "a8", IR_DTYPE_U8, 1, D(2));
    op2(g, IR_OP_DIV, a, z, "div0");
    op2(g, IR_OP_MUL, a, a, "sq");
    op2(g, IR_OP_DIV, a32, a32, "div0_i32");
    op2(g, IR_OP_DIV, a8, a8, "div0_u8");
    tl_infer_ok(g);
    int64_t av[4] = {INT64_MIN, 5, 3037000500, -3037000500}, zv[4] = {0, 0, 0, 0};
    int32_t v32[2] = {0, 7};
    uint8_t v8[2] = {0, 9};
    int64_t div0[4], sq[4];
    int32_t d32[2];
    uint8_t d8[2];
    lower_opts unchecked = {.unchecked = true};
    run_c_ubsan_with(g, &unchecked, (const void *[]){av, zv, v32, v8},
                     (void *[]){div0, sq, d32, d8}, 0, NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(div0[i], 0);
    cr_assert_eq(sq[0], INT64_MAX); /* MIN * MIN overflows: positive */
    cr_assert_eq(sq[1], 25);
    cr_assert_eq(sq[2], INT64_MAX);
    cr_assert_eq(sq[3], INT64_MAX);
    cr_assert(d32[0] == 0 && d32[1] == 1 && d8[0] == 0 && d8[1] == 1);
    ir_graph_free(g);
}

/* Pow with a mixed exponent dtype and integer Pow through double, whose
 * overflowing and NaN results convert like Cast. */
Test(lower_elementwise, pow_mixed_dtypes)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(2, 3));
    ir_value *e = tl_input(g, "e", IR_DTYPE_I64, 1, D(3));
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 1, D(3));
    ir_value *ef = tl_input(g, "ef", IR_DTYPE_F32, 1, D(3));
    ir_value *ib = tl_input(g, "ib", IR_DTYPE_I64, 1, D(6));
    ir_value *ie = tl_input(g, "ie", IR_DTYPE_I64, 1, D(6));
    ir_value *jb = tl_input(g, "jb", IR_DTYPE_I32, 1, D(6));
    ir_value *je = tl_input(g, "je", IR_DTYPE_F32, 1, D(6));
    op2(g, IR_OP_POW, x, e, "f32_i64");
    op2(g, IR_OP_POW, xd, ef, "f64_f32");
    op2(g, IR_OP_POW, ib, ie, "i64_i64");
    op2(g, IR_OP_POW, jb, je, "i32_f32");
    tl_infer_ok(g);
    float xv[6] = {1.5f, -2, 0.25f, 3, -0.5f, 10};
    int64_t ev[3] = {2, 3, -1};
    double xdv[3] = {2.5, 0.1, 7};
    float efv[3] = {0.5f, -1.25f, 3};
    int64_t ibv[6] = {2, -3, 3, 0, 10, 7}, iev[6] = {3, 3, 40, 0, 18, -1};
    int32_t jbv[6] = {-3, 2, 5, 4, 2, -2};
    float jev[6] = {0.5f, 31, 2, 0.5f, 30, 3};
    const void *in[] = {xv, ev, xdv, efv, ibv, iev, jbv, jev};
    check_ub(g, in, ATOL, RTOL);
    tl_check_c(g, in, ATOL, RTOL);
    ir_graph_free(g);
}

/* ---- unary ---- */

static const ir_op float_unary[] = {
    IR_OP_SQRT, IR_OP_EXP,       IR_OP_LOG,     IR_OP_ERF,  IR_OP_NEG,
    IR_OP_ABS,  IR_OP_RECIPROCAL, IR_OP_RELU,   IR_OP_LEAKY_RELU,
    IR_OP_SIGMOID, IR_OP_TANH,   IR_OP_HARD_SIGMOID,
};

/* Every float unary op on x, plus LeakyRelu and HardSigmoid with their
 * attributes set. */
static void add_unary_ops(ir_graph *g, ir_value *x, const char *suffix)
{
    char name[64];
    for (size_t i = 0; i < sizeof float_unary / sizeof float_unary[0]; i++) {
        snprintf(name, sizeof name, "%s_%s", ir_op_name(float_unary[i]), suffix);
        op1(g, float_unary[i], x, name);
    }
    snprintf(name, sizeof name, "leaky_alpha_%s", suffix);
    ir_node *n = tl_node(g, IR_OP_LEAKY_RELU, name, 1, (ir_value *[]){x}, 1, name);
    ir_node_set_float(g, n, "alpha", 0.3f);
    snprintf(name, sizeof name, "hard_ab_%s", suffix);
    n = tl_node(g, IR_OP_HARD_SIGMOID, name, 1, (ir_value *[]){x}, 1, name);
    ir_node_set_float(g, n, "alpha", 0.7f);
    ir_node_set_float(g, n, "beta", 0.1f);
}

Test(lower_elementwise, unary_float_random)
{
    ir_graph *g = tl_graph("g");
    add_unary_ops(g, tl_input(g, "x", IR_DTYPE_F32, 3, D(2, 3, 5)), "f32");
    add_unary_ops(g, tl_input(g, "xd", IR_DTYPE_F64, 1, D(7)), "f64");
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* NaN, infinities, signed zeros, huge and tiny values. */
Test(lower_elementwise, unary_float_specials)
{
    ir_graph *g = tl_graph("g");
    add_unary_ops(g, tl_input(g, "x", IR_DTYPE_F32, 1, D(14)), "f32");
    add_unary_ops(g, tl_input(g, "xd", IR_DTYPE_F64, 1, D(14)), "f64");
    tl_infer_ok(g);
    float xv[14] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, 100, -100,
                    88.8f, -1e30f, 1e30f, 0.75f, -3.5f, 1};
    double xd[14];
    for (int i = 0; i < 14; i++)
        xd[i] = i == 9 ? -1e300 : i == 10 ? 1e300 : (double)xv[i];
    check_ub(g, (const void *[]){xv, xd}, ATOL, RTOL);
    ir_graph_free(g);
}

/* Neg/Abs/Relu/Erf on integers: Neg and Abs of the minimum wrap. */
Test(lower_elementwise, unary_int)
{
    ir_graph *g = tl_graph("g");
    ir_value *x64 = tl_input(g, "x64", IR_DTYPE_I64, 1, D(6));
    ir_value *x32 = tl_input(g, "x32", IR_DTYPE_I32, 1, D(6));
    ir_value *x8 = tl_input(g, "x8", IR_DTYPE_I8, 1, D(6));
    ir_value *xu = tl_input(g, "xu", IR_DTYPE_U8, 1, D(6));
    ir_value *xs[] = {x64, x32, x8};
    static const ir_op ops[] = {IR_OP_NEG, IR_OP_ABS, IR_OP_RELU, IR_OP_ERF};
    for (int k = 0; k < 3; k++)
        for (int o = 0; o < 4; o++) {
            char name[32];
            snprintf(name, sizeof name, "%s_%d", ir_op_name(ops[o]), k);
            op1(g, ops[o], xs[k], name);
        }
    op1(g, IR_OP_ABS, xu, "abs_u8");
    op1(g, IR_OP_ERF, xu, "erf_u8");
    tl_infer_ok(g);
    int64_t v64[6] = {INT64_MIN, INT64_MAX, -1, 0, 6, -6};
    int32_t v32[6] = {INT32_MIN, INT32_MAX, -1, 0, 6, -6};
    int8_t v8[6] = {-128, 127, -1, 0, 6, -6};
    uint8_t vu[6] = {0, 1, 5, 6, 200, 255};
    const void *in[] = {v64, v32, v8, vu};
    check_ub(g, in, 0, 0);
    tl_check_c(g, in, 0, 0);
    ir_graph_free(g);
}

/* ---- Clip ---- */

/* Clip with an input bound: lo (or NULL), hi (or NULL). */
static ir_value *clip_in(ir_graph *g, ir_value *x, ir_value *lo, ir_value *hi, const char *out)
{
    int n = hi ? 3 : lo ? 2 : 1;
    return tl_node(g, IR_OP_CLIP, out, n, (ir_value *[]){x, lo, hi}, 1, out)->outputs[0];
}

/* Clip-6 with the attributes that are set (has_lo / has_hi). */
static void clip_attr(ir_graph *g, ir_value *x, bool has_lo, float lo, bool has_hi, float hi,
                      const char *out)
{
    ir_node *n = tl_node(g, IR_OP_CLIP, out, 1, (ir_value *[]){x}, 1, out);
    if (has_lo)
        ir_node_set_float(g, n, "min", lo);
    if (has_hi)
        ir_node_set_float(g, n, "max", hi);
}

/* Every Clip form on f32 x, f64 xd and i32 xi; lo/hi are runtime scalars. */
static void add_clips(ir_graph *g, ir_value *x, ir_value *xd, ir_value *xi, ir_value *lo,
                      ir_value *hi)
{
    ir_value *c_lo = tl_const_f32(g, "c_lo", 0, NULL, (float[]){-0.25f});
    ir_value *c_hi = tl_const_f32(g, "c_hi", 0, NULL, (float[]){0.5f});
    ir_value *c_big = tl_const_f32(g, "c_big", 0, NULL, (float[]){0.75f});
    clip_in(g, x, NULL, NULL, "none");
    clip_in(g, x, c_lo, NULL, "min_only");
    clip_in(g, x, NULL, c_hi, "max_only");
    clip_in(g, x, c_lo, c_hi, "both");
    clip_in(g, x, c_big, c_hi, "min_above_max");
    clip_in(g, x, lo, hi, "runtime");
    clip_in(g, x, hi, lo, "runtime_swapped");
    clip_attr(g, x, true, -0.5f, false, 0, "attr_min");
    clip_attr(g, x, false, 0, true, 0.25f, "attr_max");
    clip_attr(g, x, true, -0.1f, true, 0.1f, "attr_both");
    clip_attr(g, xd, true, -0.5f, false, 0, "attr_min_f64");
    ir_value *d_lo = tl_const(g, "d_lo", IR_DTYPE_F64, 0, NULL, (double[]){-0.3});
    clip_in(g, xd, d_lo, NULL, "min_f64");
    ir_value *i_lo = tl_const(g, "i_lo", IR_DTYPE_I32, 0, NULL, (int32_t[]){-2});
    ir_value *i_hi = tl_const(g, "i_hi", IR_DTYPE_I32, 1, D(1), (int32_t[]){1});
    clip_in(g, xi, i_lo, i_hi, "int_both");
    clip_in(g, xi, NULL, i_hi, "int_max");
    clip_in(g, xi, i_lo, NULL, "int_min");
}

Test(lower_elementwise, clip_forms)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(3, 5));
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 1, D(15));
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I32, 1, D(15));
    ir_value *lo = tl_input(g, "lo", IR_DTYPE_F32, 0, NULL);
    ir_value *hi = tl_input(g, "hi", IR_DTYPE_F32, 1, D(1));
    add_clips(g, x, xd, xi, lo, hi);
    tl_infer_ok(g);
    float xv[15] = {NAN, INFINITY, -INFINITY, -0.0f, 0.3f, -0.3f, 0.9f, -0.9f, 0.6f, -0.1f,
                    1e30f, -1e30f, 0.25f, -0.25f, 0.5f};
    double xdv[15];
    int32_t xiv[15];
    for (int i = 0; i < 15; i++) {
        xdv[i] = xv[i];
        xiv[i] = i - 7;
    }
    xiv[0] = INT32_MIN;
    xiv[14] = INT32_MAX;
    float lov = -0.2f, hiv = 0.4f;
    check_ub(g, (const void *[]){xv, xdv, xiv, &lov, &hiv}, 0, 0);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Where and comparisons ---- */

Test(lower_elementwise, where_broadcast)
{
    ir_graph *g = tl_graph("g");
    ir_value *cond = tl_input(g, "cond", IR_DTYPE_BOOL, 3, D(2, 1, 4));
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(3, 1));
    ir_value *y = tl_input(g, "y", IR_DTYPE_F32, 0, NULL);
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I64, 3, D(2, 3, 4));
    ir_value *yi = tl_input(g, "yi", IR_DTYPE_I64, 1, D(4));
    ir_value *cs = tl_input(g, "cs", IR_DTYPE_BOOL, 0, NULL);
    ir_value *k = tl_const_f32(g, "k", 0, NULL, (float[]){7});
    ir_value *ck = tl_const(g, "ck", IR_DTYPE_BOOL, 1, D(4), (uint8_t[]){1, 0, 0, 1});
    tl_node(g, IR_OP_WHERE, "w_f32", 3, (ir_value *[]){cond, x, y}, 1, "w_f32");
    tl_node(g, IR_OP_WHERE, "w_i64", 3, (ir_value *[]){cond, xi, yi}, 1, "w_i64");
    tl_node(g, IR_OP_WHERE, "w_scalar_cond", 3, (ir_value *[]){cs, x, k}, 1, "w_scalar_cond");
    tl_node(g, IR_OP_WHERE, "w_const_cond", 3, (ir_value *[]){ck, k, x}, 1, "w_const_cond");
    tl_infer_ok(g);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* Equal, Less, Greater, LessOrEqual, GreaterOrEqual on every dtype class,
 * NaN, infinities, -0 and the integer extremes, C against the
 * interpreter (which the ONNX node tests check). */
Test(lower_elementwise, compare)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 2, D(4, 3));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 1, D(3));
    ir_value *ia = tl_input(g, "ia", IR_DTYPE_I64, 2, D(2, 1));
    ir_value *ib = tl_input(g, "ib", IR_DTYPE_I64, 1, D(5));
    ir_value *ba = tl_input(g, "ba", IR_DTYPE_BOOL, 1, D(6));
    ir_value *bb = tl_input(g, "bb", IR_DTYPE_BOOL, 0, NULL);
    ir_value *ua = tl_input(g, "ua", IR_DTYPE_U8, 1, D(4));
    ir_value *da = tl_input(g, "da", IR_DTYPE_F64, 1, D(4));
    ir_value *zero = tl_const_f32(g, "zero", 0, NULL, (float[]){0});
    static const ir_op ops[] = {IR_OP_EQUAL, IR_OP_LESS, IR_OP_GREATER, IR_OP_LESS_OR_EQUAL,
                                IR_OP_GREATER_OR_EQUAL};
    for (int o = 0; o < 5; o++) {
        char name[32];
        snprintf(name, sizeof name, "%s_f32", ir_op_name(ops[o]));
        op2(g, ops[o], a, b, name);
        snprintf(name, sizeof name, "%s_rev", ir_op_name(ops[o]));
        op2(g, ops[o], b, a, name);
        snprintf(name, sizeof name, "%s_i64", ir_op_name(ops[o]));
        op2(g, ops[o], ia, ib, name);
        snprintf(name, sizeof name, "%s_u8", ir_op_name(ops[o]));
        op2(g, ops[o], ua, ua, name);
        snprintf(name, sizeof name, "%s_f64", ir_op_name(ops[o]));
        op2(g, ops[o], da, da, name);
        snprintf(name, sizeof name, "%s_zero", ir_op_name(ops[o]));
        op2(g, ops[o], a, zero, name);
    }
    op2(g, IR_OP_EQUAL, ba, bb, "eq_bool");
    tl_infer_ok(g);
    float av[12] = {NAN, 1, -0.0f, INFINITY, 2, 3, 0, 0, 0, -INFINITY, 5, 1};
    float bv[3] = {NAN, 1, 0};
    int64_t iav[2] = {INT64_MIN, 3}, ibv[5] = {INT64_MIN, 3, 4, 2, INT64_MAX};
    uint8_t bav[6] = {0, 1, 1, 0, 1, 0}, bbv = 1, uav[4] = {0, 255, 7, 128};
    double dav[4] = {NAN, 1, -1, 0};
    const void *in[] = {av, bv, iav, ibv, bav, &bbv, uav, dav};
    check_ub(g, in, 0, 0);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Cast ---- */

/* Every Cast pair class: float->float, float->int (every width), float->
 * bool, int->float, int->int narrowing and widening, int->bool, bool->
 * float and int, and same-dtype casts (a view, then a copy for an output). */
static void add_casts(ir_graph *g, ir_value *f, ir_value *d, ir_value *i64, ir_value *i8,
                      ir_value *u8, ir_value *b)
{
    static const ir_dtype all[] = {IR_DTYPE_F32, IR_DTYPE_F64, IR_DTYPE_I64, IR_DTYPE_I32,
                                   IR_DTYPE_I8,  IR_DTYPE_U8,  IR_DTYPE_BOOL};
    ir_value *srcs[] = {f, d, i64, i8, u8, b};
    for (int s = 0; s < 6; s++)
        for (int t = 0; t < 7; t++) {
            char name[48];
            snprintf(name, sizeof name, "%s_to_%s", srcs[s]->name, ir_dtype_name(all[t]));
            cast(g, srcs[s], all[t], name);
        }
    /* a same-dtype cast feeding another op is a view */
    ir_value *view = cast(g, f, IR_DTYPE_F32, "view");
    op1(g, IR_OP_NEG, view, "neg_view");
}

Test(lower_elementwise, cast_pairs)
{
    ir_graph *g = tl_graph("g");
    ir_value *f = tl_input(g, "f", IR_DTYPE_F32, 1, D(16));
    ir_value *d = tl_input(g, "d", IR_DTYPE_F64, 1, D(16));
    ir_value *i64 = tl_input(g, "l", IR_DTYPE_I64, 1, D(16));
    ir_value *i8 = tl_input(g, "c", IR_DTYPE_I8, 1, D(16));
    ir_value *u8 = tl_input(g, "u", IR_DTYPE_U8, 1, D(16));
    ir_value *b = tl_input(g, "b", IR_DTYPE_BOOL, 1, D(16));
    add_casts(g, f, d, i64, i8, u8, b);
    tl_infer_ok(g);
    float fv[16] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, 2.5f, -2.5f, 1e10f, -1e10f,
                    2147483520.0f, -2147483648.0f, 0x1p63f, -0x1p63f, 255.9f, -128.7f, 300.2f};
    double dv[16] = {NAN, 1e300, -1e300, -0.0, 1e-300, 2.5, -2.5, 2147483647.9, -2147483648.9,
                     2147483648.0, -2147483649.0, 0x1p63, -0x1p63, 9.2e18, -9.2e18, 3.4e38};
    int64_t lv[16] = {INT64_MIN, INT64_MAX, 0, 1, -1, 255, 256, -129, 128, 16777217,
                      (int64_t)1 << 40, -((int64_t)1 << 53) - 1, INT32_MAX, INT32_MIN, 7, -7};
    int8_t cv[16];
    uint8_t uv[16], bv[16];
    for (int i = 0; i < 16; i++) {
        cv[i] = (int8_t)(i * 17 - 128);
        uv[i] = (uint8_t)(i * 17);
        bv[i] = (uint8_t)(i % 3 == 0);
    }
    const void *in[] = {fv, dv, lv, cv, uv, bv};
    check_ub(g, in, 0, 0);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Reduce ---- */

/* f32 reductions in both loop forms (reduced innermost dim: inner loop;
 * kept innermost dim: accumulate into the output), keepdims 0/1, negative
 * axes, all axes, axes as an input, noop_with_empty_axes. */
static void add_reductions(ir_graph *g, ir_value *x, const char *sfx)
{
    static const ir_op ops[] = {IR_OP_REDUCE_MEAN, IR_OP_REDUCE_SUM, IR_OP_REDUCE_MAX};
    for (int o = 0; o < 3; o++) {
        char name[64];
        const char *op = ir_op_name(ops[o]);
        snprintf(name, sizeof name, "%s_last_%s", op, sfx);
        reduce(g, ops[o], x, D(-1), 1, 0, name);
        snprintf(name, sizeof name, "%s_axis1_%s", op, sfx);
        reduce(g, ops[o], x, D(1), 1, 1, name);
        snprintf(name, sizeof name, "%s_first_third_%s", op, sfx);
        reduce(g, ops[o], x, D(0, -2), 2, 0, name);
        snprintf(name, sizeof name, "%s_mid_last_%s", op, sfx);
        reduce(g, ops[o], x, D(-3, 3), 2, 1, name);
        snprintf(name, sizeof name, "%s_all_%s", op, sfx);
        reduce(g, ops[o], x, NULL, -1, -1, name);
        snprintf(name, sizeof name, "%s_all0_%s", op, sfx);
        reduce(g, ops[o], x, NULL, -1, 0, name);
        snprintf(name, sizeof name, "%s_noop_%s", op, sfx);
        ir_node *n = reduce(g, ops[o], x, NULL, -1, -1, name);
        ir_node_set_int(g, n, "noop_with_empty_axes", 1);
        char axn[64];
        snprintf(axn, sizeof axn, "axes_%s_%s", op, sfx);
        ir_value *axes = tl_const_i64(g, axn, 1, D(2), D(-1, 0));
        snprintf(name, sizeof name, "%s_input_axes_%s", op, sfx);
        tl_node(g, ops[o], name, 2, (ir_value *[]){x, axes}, 1, name);
    }
}

Test(lower_elementwise, reduce_f32)
{
    ir_graph *g = tl_graph("g");
    add_reductions(g, tl_input(g, "x", IR_DTYPE_F32, 4, D(2, 3, 4, 5)), "f32");
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* f64, and an input of size-1 dims only (no loops left). */
Test(lower_elementwise, reduce_f64_and_ones)
{
    ir_graph *g = tl_graph("g");
    add_reductions(g, tl_input(g, "xd", IR_DTYPE_F64, 4, D(3, 1, 2, 4)), "f64");
    add_reductions(g, tl_input(g, "xs", IR_DTYPE_F32, 4, D(1, 1, 1, 1)), "ones");
    tl_infer_ok(g);
    tl_check_c(g, NULL, 1e-12f, 1e-12f);
    ir_graph_free(g);
}

/* NaN propagation of ReduceMax (either form), infinities in sums, and
 * the empty reductions: Sum 0, Mean NaN (0/0), Max -inf or the dtype's
 * minimum. */
Test(lower_elementwise, reduce_specials_and_empty)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(3, 4));
    ir_value *e = tl_input(g, "e", IR_DTYPE_F32, 3, D(2, 0, 3));
    ir_value *ei = tl_input(g, "ei", IR_DTYPE_I32, 2, D(0, 3));
    ir_value *eb = tl_input(g, "eb", IR_DTYPE_BOOL, 2, D(2, 0));
    reduce(g, IR_OP_REDUCE_MAX, x, D(1), 1, 0, "max_rows");
    reduce(g, IR_OP_REDUCE_MAX, x, D(0), 1, 0, "max_cols");
    reduce(g, IR_OP_REDUCE_SUM, x, D(1), 1, 0, "sum_rows");
    reduce(g, IR_OP_REDUCE_MEAN, x, D(0), 1, 0, "mean_cols");
    static const ir_op ops[] = {IR_OP_REDUCE_MEAN, IR_OP_REDUCE_SUM, IR_OP_REDUCE_MAX};
    for (int o = 0; o < 3; o++) {
        char name[48];
        snprintf(name, sizeof name, "%s_empty", ir_op_name(ops[o]));
        reduce(g, ops[o], e, D(1), 1, 1, name);
        snprintf(name, sizeof name, "%s_empty_i32", ir_op_name(ops[o]));
        reduce(g, ops[o], ei, D(0), 1, 0, name);
        snprintf(name, sizeof name, "%s_empty_out", ir_op_name(ops[o]));
        reduce(g, ops[o], e, D(2), 1, 0, name);
    }
    reduce(g, IR_OP_REDUCE_MAX, eb, D(-1), 1, 0, "max_empty_bool");
    tl_infer_ok(g);
    float xv[12] = {1, NAN, 3, -2, INFINITY, 2, -INFINITY, 0, 5, 4, 6, NAN};
    check_ub(g, (const void *[]){xv, xv, xv, xv}, ATOL, RTOL);
    ir_graph_free(g);
}

/* Integer reductions: i64 sums wrap, i32 sums and means accumulate in
 * i64, Max over i8/u8/bool. */
Test(lower_elementwise, reduce_int)
{
    ir_graph *g = tl_graph("g");
    ir_value *l = tl_input(g, "l", IR_DTYPE_I64, 2, D(2, 3));
    ir_value *i = tl_input(g, "i", IR_DTYPE_I32, 2, D(2, 3));
    ir_value *c = tl_input(g, "c", IR_DTYPE_I8, 2, D(2, 3));
    ir_value *u = tl_input(g, "u", IR_DTYPE_U8, 2, D(2, 3));
    ir_value *b = tl_input(g, "b", IR_DTYPE_BOOL, 2, D(2, 3));
    static const ir_op ops[] = {IR_OP_REDUCE_MEAN, IR_OP_REDUCE_SUM, IR_OP_REDUCE_MAX};
    ir_value *wide[] = {l, i};
    for (int k = 0; k < 2; k++)
        for (int o = 0; o < 3; o++) {
            char name[48];
            snprintf(name, sizeof name, "%s_%s_rows", ir_op_name(ops[o]), wide[k]->name);
            reduce(g, ops[o], wide[k], D(1), 1, 0, name);
            snprintf(name, sizeof name, "%s_%s_cols", ir_op_name(ops[o]), wide[k]->name);
            reduce(g, ops[o], wide[k], D(-2), 1, 1, name);
        }
    ir_value *narrow[] = {c, u, b};
    for (int k = 0; k < 3; k++) {
        char name[48];
        snprintf(name, sizeof name, "max_%s_rows", narrow[k]->name);
        reduce(g, IR_OP_REDUCE_MAX, narrow[k], D(1), 1, 0, name);
        snprintf(name, sizeof name, "max_%s_all", narrow[k]->name);
        reduce(g, IR_OP_REDUCE_MAX, narrow[k], NULL, -1, 0, name);
    }
    tl_infer_ok(g);
    int64_t lv[6] = {INT64_MAX, 1, 5, INT64_MIN, -1, -9};
    int32_t iv[6] = {INT32_MAX, INT32_MAX, 3, INT32_MIN, INT32_MIN, -7};
    int8_t cv[6] = {-128, -100, -5, 3, 127, -1};
    uint8_t uv[6] = {0, 200, 255, 1, 2, 3}, bv[6] = {0, 0, 0, 0, 1, 0};
    const void *in[] = {lv, iv, cv, uv, bv};
    check_ub(g, in, 0, 0);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* ---- Identity and Dropout ---- */

Test(lower_elementwise, identity_dropout)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, D(3, 4));
    ir_value *k = tl_const_f32(g, "k", 1, D(3), (float[]){1, 2, 3});
    op1(g, IR_OP_IDENTITY, x, "copy");              /* input -> output: copy */
    ir_value *v = op1(g, IR_OP_IDENTITY, x, "view"); /* a view of the input */
    op1(g, IR_OP_RELU, v, "relu_view");
    op1(g, IR_OP_IDENTITY, k, "const_copy");
    tl_node(g, IR_OP_DROPOUT, "drop", 1, (ir_value *[]){x}, 2, "drop", "mask");
    ir_value *ratio = tl_const_f32(g, "ratio", 0, NULL, (float[]){0.3f});
    ir_value *train = tl_const(g, "train", IR_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
    ir_value *dv = tl_node(g, IR_OP_DROPOUT, "drop_view", 3, (ir_value *[]){x, ratio, train}, 1,
                           "drop_view")->outputs[0];
    op1(g, IR_OP_TANH, dv, "tanh_drop");
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* ---- loop structure ---- */

/* Trip counts of the first chain of nested loops of step s. */
static int loop_chain(const loop_step *s, int64_t *ext, int max)
{
    int n = 0;
    const loop_block *b = &s->body;
    while (n < max && b->n > 0 && b->stmts[0]->kind == LOOP_STMT_FOR) {
        ext[n++] = b->stmts[0]->extent;
        b = &b->stmts[0]->body;
    }
    return n;
}

/* Same-shape ops are one flat loop; broadcasting merges the dims where
 * every operand agrees; a kept innermost dim accumulates in place. */
Test(lower_elementwise, loop_structure)
{
    ir_graph *g = tl_graph("g");
    ir_value *a = tl_input(g, "a", IR_DTYPE_F32, 4, D(2, 3, 4, 5));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 2, D(4, 5));
    ir_value *c = tl_input(g, "c", IR_DTYPE_F32, 4, D(2, 1, 1, 5));
    op2(g, IR_OP_ADD, a, a, "same");
    op2(g, IR_OP_MUL, a, b, "trailing");
    op2(g, IR_OP_SUB, a, c, "mixed");
    reduce(g, IR_OP_REDUCE_SUM, a, D(1), 1, 0, "keep_inner");
    reduce(g, IR_OP_REDUCE_SUM, a, D(-1), 1, 0, "reduce_inner");
    tl_infer_ok(g);
    loop_func *f = tl_lower_ok(g);
    cr_assert_eq(f->n_steps, 5);
    int64_t e[8];
    cr_assert_eq(loop_chain(f->steps[0], e, 8), 1);
    cr_assert_eq(e[0], 120);
    cr_assert_eq(loop_chain(f->steps[1], e, 8), 2);
    cr_assert(e[0] == 6 && e[1] == 20);
    cr_assert_eq(loop_chain(f->steps[2], e, 8), 3);
    cr_assert(e[0] == 2 && e[1] == 12 && e[2] == 5);
    /* keep_inner: init loop, then [2, 3, 20] accumulating into the output */
    cr_assert_eq(f->steps[3]->body.n, 2);
    cr_assert_eq(loop_chain(f->steps[3], e, 8), 1);
    const loop_step tail = {.body = {.stmts = f->steps[3]->body.stmts + 1, .n = 1}};
    cr_assert_eq(loop_chain(&tail, e, 8), 3);
    cr_assert(e[0] == 2 && e[1] == 3 && e[2] == 20);
    /* reduce_inner: one loop over the 24 outputs around the 5 inputs */
    cr_assert_eq(loop_chain(f->steps[4], e, 8), 1);
    cr_assert_eq(e[0], 24);
    loop_func_free(f);
    ir_graph_free(g);
}
