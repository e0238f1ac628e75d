/*
 * f16 and bf16 storage (runtime/loomrt.h conversions, ir/ir_half.c
 * widening, Cast in the interpreter and every backend). References: the
 * compiler's _Float16 conversions (IEEE 754 binary16, round to nearest
 * even) for f16, an exact nearest-value search in double for bf16, and
 * onnxruntime's outputs for the ONNX fixture (tests/onnx/make_fixtures.py).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fe_onnx.h"
#include "loomrt.h"
#include "testlib.h"

#define FIXTURES LOOM_SOURCE_DIR "/tests/onnx/fixtures/"

/* GCC and clang on x86-64 have binary16 arithmetic types (ISO/IEC TS
 * 18661-3); __extension__ keeps -Wpedantic quiet about it. */
__extension__ typedef _Float16 ref_half;

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint16_t ref_f16(float f)
{
    ref_half h = (ref_half)f;
    uint16_t b;
    memcpy(&b, &h, 2);
    return b;
}

/* bf16 by search: the nearer of the two bf16 neighbours of f (ties to the
 * even one), computed in double; past the largest finite bf16 the upper
 * neighbour is infinity, reached from 2^128 on as IEEE 754 overflow rounds. */
static uint16_t ref_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
    double vhi = (hi & 0x7fffu) == 0x7f80u ? copysign(0x1p128, f) : loomrt_bf16_to_f32(hi);
    double dl = fabs((double)f - loomrt_bf16_to_f32(lo)), dh = fabs((double)f - vhi);
    return dl < dh || (dl == dh && !(lo & 1)) ? lo : hi;
}

Test(half, f16_to_f32_every_pattern)
{
    for (uint32_t b = 0; b < 65536; b++) {
        ref_half h;
        uint16_t hb = (uint16_t)b;
        memcpy(&h, &hb, 2);
        float want = (float)h, got = loomrt_f16_to_f32(hb);
        if (isnan(want))
            cr_assert(isnan(got), "%04x", b);
        else
            cr_assert(memcmp(&want, &got, 4) == 0, "%04x: %a, want %a", b, got, want);
    }
}

/* Every f16 value, the f32 midpoints between neighbours and one f32 ulp on
 * each side of them (where rounding decides), and a stride through all of
 * f32 (NaN, infinities, overflow, subnormals included). */
static void check_f16(uint32_t u)
{
    float f = bits_f32(u);
    uint16_t got = loomrt_f32_to_f16(f);
    if (isnan(f)) {
        cr_assert((got & 0x7c00u) == 0x7c00u && (got & 0x3ffu), "%08x: NaN gave %04x", u, got);
        return;
    }
    cr_assert_eq(got, ref_f16(f), "%08x (%a): %04x, want %04x", u, (double)f, got, ref_f16(f));
}

Test(half, f32_to_f16_rounds_to_nearest_even)
{
    for (uint32_t b = 0; b < 0x7c00u; b++) {
        for (int s = 0; s < 2; s++) {
            float lo = loomrt_f16_to_f32((uint16_t)(b | (unsigned)s << 15));
            float hi = loomrt_f16_to_f32((uint16_t)((b + 1) | (unsigned)s << 15));
            float mid = (float)(((double)lo + (double)hi) / 2);
            uint32_t m;
            memcpy(&m, &mid, 4);
            for (uint32_t d = 0; d < 3; d++)
                check_f16(m - 1 + d);
            memcpy(&m, &lo, 4);
            check_f16(m);
        }
    }
    for (uint64_t u = 0; u < 0x100000000ull; u += 4099)
        check_f16((uint32_t)u);
    cr_assert_eq(loomrt_f32_to_f16(INFINITY), 0x7c00);
    cr_assert_eq(loomrt_f32_to_f16(-INFINITY), 0xfc00);
    cr_assert_eq(loomrt_f32_to_f16(65520.0f), 0x7c00); /* the tie above 65504 */
    cr_assert_eq(loomrt_f32_to_f16(65519.99f), 0x7bff);
}

Test(half, bf16_round_trip_and_rounding)
{
    for (uint32_t b = 0; b < 65536; b++) {
        float f = loomrt_bf16_to_f32((uint16_t)b);
        cr_assert(isnan(f) || loomrt_f32_to_bf16(f) == b, "%04x", b);
    }
    for (uint64_t u = 0; u < 0x100000000ull; u += 1021) {
        float f = bits_f32((uint32_t)u);
        uint16_t got = loomrt_f32_to_bf16(f);
        if (isnan(f))
            cr_assert((got & 0x7f80u) == 0x7f80u && (got & 0x7fu), "%08x", (uint32_t)u);
        else
            cr_assert_eq(got, ref_bf16(f), "%08x: %04x, want %04x", (uint32_t)u, got, ref_bf16(f));
    }
    cr_assert_eq(loomrt_f32_to_bf16(bits_f32(0x3f808000u)), 0x3f80); /* tie to even */
    cr_assert_eq(loomrt_f32_to_bf16(bits_f32(0x3f818000u)), 0x3f82);
}

/* Cast between f32, f64, i32, bool, f16 and bf16 (special values
 * included): every backend bit-exact with the interpreter. */
Test(half, cast_every_backend)
{
    static const float xs[12] = {0.1f, -2.5f, 65504.f, 65520.f, 1e-7f, -0.0f, 3.0e38f,
                                 1.0009765625f, 1.00048828125f, 2.9e-8f, 6.0e-5f, -7.75f};
    float in[12];
    memcpy(in, xs, sizeof in);
    in[4] = NAN;
    in[5] = -INFINITY;
    ir_graph *g = tl_graph("casts");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, (int64_t[]){12});
    static const struct { ir_dtype to; const char *name; } cs[] = {
        {IR_DTYPE_F16, "h"}, {IR_DTYPE_BF16, "b"}};
    for (int i = 0; i < 2; i++) {
        ir_node *n = tl_node(g, IR_OP_CAST, cs[i].name, 1, (ir_value *[]){x}, 1, cs[i].name);
        ir_node_set_int(g, n, "to", ir_dtype_to_onnx(cs[i].to));
        static const ir_dtype back[] = {IR_DTYPE_F32, IR_DTYPE_F64, IR_DTYPE_I32, IR_DTYPE_BOOL,
                                        IR_DTYPE_BF16, IR_DTYPE_F16};
        for (int k = 0; k < 6; k++) {
            char *out = ir_arena_printf(&g->arena, "%s_to_%s", cs[i].name, ir_dtype_name(back[k]));
            ir_node *m = tl_node(g, IR_OP_CAST, out, 1, (ir_value *[]){n->outputs[0]}, 1, out);
            ir_node_set_int(g, m, "to", ir_dtype_to_onnx(back[k]));
        }
    }
    tl_infer_ok(g);
    tl_mark_outputs(g);
    tl_check_c(g, (const void *[]){in}, 0, 0);
    ir_graph_free(g);
}

/* Reads a fixture tensor (bf16 ones are stored with their dtype). */
static ir_value *tensor(ir_graph *scratch, const char *name)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_value *v = NULL;
    cr_assert_eq(fe_onnx_read_tensor(name, scratch, &v, &d), LOOM_STATUS_OK, "%s",
                 d.text ? d.text : "");
    ir_diag_free(&d);
    return v;
}

/* A half model from ONNX: weights, input and output half, ops widened; the
 * interpreter within one half ulp... of the reference (want_ulps), and
 * every backend equal to the interpreter. */
static void check_model(const char *model, const char *const *names, int n_out, int want_ulps)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    cr_assert_eq(fe_onnx_load(model, NULL, &g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    ir_graph *scratch = tl_graph("data");
    ir_value *x = tensor(scratch, names[0]);
    cr_assert_eq(x->dtype, g->inputs[0]->dtype);
    void *outs[4];
    for (int i = 0; i < n_out; i++)
        outs[i] = calloc(1, ir_value_bytes(g->outputs[i]));
    tl_run(g, (const void *[]){x->data}, outs);
    for (int i = 0; i < n_out; i++) {
        ir_value *want = tensor(scratch, names[1 + i]);
        const ir_value *v = g->outputs[i];
        cr_assert_eq(want->dtype, v->dtype);
        double ulp = v->dtype == IR_DTYPE_F16 ? 0x1p-10 : v->dtype == IR_DTYPE_BF16 ? 0x1p-7 : 0x1p-10;
        for (int64_t k = 0; k < ir_shape_numel(&v->shape); k++) {
            double a = interp_load_f(outs[i], v->dtype, k), w = interp_load_f(want->data, v->dtype, k);
            double tol = want_ulps * ulp * fmax(fabs(w), 1.0);
            cr_assert(fabs(a - w) <= tol, "%s \"%s\"[%lld]: %.9g, want %.9g", model, v->name,
                      (long long)k, a, w);
        }
        free(outs[i]);
    }
    tl_check_c(g, (const void *[]){x->data}, 0, 0);
    ir_graph_free(scratch);
    ir_graph_free(g);
}

/* onnxruntime computes MatMul in f16 with its own accumulation order: one
 * f16 ulp (relative to max(|y|, 1)) apart from loom's f32 sum rounded once. */
Test(half, f16_model_matches_onnxruntime)
{
    check_model(FIXTURES "half_f16.onnx",
                (const char *[]){FIXTURES "half_f16_x.pb", FIXTURES "half_f16_y.pb",
                                 FIXTURES "half_f16_r32.pb"}, 2, 1);
}

/* The numpy reference rounds to bf16 after each op as loom does: exact. */
Test(half, bf16_model_matches_reference)
{
    check_model(FIXTURES "half_bf16.onnx",
                (const char *[]){FIXTURES "half_bf16_x.pb", FIXTURES "half_bf16_y.pb"}, 1, 0);
}
