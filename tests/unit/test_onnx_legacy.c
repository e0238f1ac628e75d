/*
 * The ONNX reader on models of opsets 1-6 (tests/onnx/legacy, written by
 * make_legacy.py): older operator forms are mapped onto the IR and give the
 * outputs numpy computed from the operator's definition at that opset
 * (legacy broadcast with axis, Reshape-1's shape attribute, Cast-1's type
 * names, Concat-1's default axis, BatchNormalization / Dropout is_test,
 * Pad-1's paddings, consumed_inputs), and forms loom cannot map are
 * rejected with the node, op, opset and reason.
 */
#include "fe.h"
#include "testlib.h"

#define LEGACY_DIR LOOM_SOURCE_DIR "/tests/onnx/legacy/"

/* Loads NAME.onnx, runs it on NAME.in<i>.npy and compares output 0 with
 * NAME.out.npy (floats within 1e-6 relative, others exactly). */
static void check_legacy(const char *name)
{
    char path[512];
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    snprintf(path, sizeof path, LEGACY_DIR "%s.onnx", name);
    loom_status st = fe_onnx_load(path, NULL, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", name, d.text ? d.text : "");
    fe_npy in[4] = {0}, want = {0};
    const void *ins[4] = {0};
    cr_assert(g->n_inputs <= 4);
    for (int i = 0; i < g->n_inputs; i++) {
        snprintf(path, sizeof path, LEGACY_DIR "%s.in%d.npy", name, i);
        cr_assert_eq(fe_npy_read(path, &in[i], &d), LOOM_STATUS_OK, "%s", d.text);
        ins[i] = in[i].data;
    }
    snprintf(path, sizeof path, LEGACY_DIR "%s.out.npy", name);
    cr_assert_eq(fe_npy_read(path, &want, &d), LOOM_STATUS_OK, "%s", d.text);
    const ir_value *y = g->outputs[0];
    cr_assert_eq(y->dtype, want.dtype, "%s: output dtype %s", name, ir_dtype_name(y->dtype));
    cr_assert(ir_shape_equal(&y->shape, &want.shape), "%s: output shape differs", name);
    void *out = calloc(1, ir_value_bytes(y) + 1);
    tl_run(g, ins, (void *[]){out});
    int64_t n = ir_shape_numel(&y->shape);
    if (y->dtype == IR_DTYPE_F32)
        tl_assert_close_f32(out, want.data, n, 1e-6f, 1e-6f);
    else
        cr_assert(memcmp(out, want.data, ir_value_bytes(y)) == 0, "%s: output differs", name);
    free(out);
    for (int i = 0; i < 4; i++)
        fe_npy_free(&in[i]);
    fe_npy_free(&want);
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* NAME.onnx must be rejected with status want and a message holding each
 * of the given substrings. */
static void check_rejected(const char *name, loom_status want, const char *s1, const char *s2)
{
    char path[512];
    snprintf(path, sizeof path, LEGACY_DIR "%s.onnx", name);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_onnx_load(path, NULL, &g, &d);
    cr_assert_eq(st, want, "%s: status %s, want %s (%s)", name, loom_status_name(st),
                 loom_status_name(want), d.text ? d.text : "");
    cr_assert_null(g);
    cr_assert(d.text && strstr(d.text, s1) && strstr(d.text, s2),
              "%s: diagnostic \"%s\" lacks \"%s\" or \"%s\"", name, d.text ? d.text : "", s1, s2);
    ir_diag_free(&d);
}

Test(onnx_legacy, broadcast_with_axis) { check_legacy("add_axis"); }
Test(onnx_legacy, broadcast_with_axis_constant_b) { check_legacy("mul_axis_const"); }
Test(onnx_legacy, broadcast_without_axis) { check_legacy("sub_suffix"); }
Test(onnx_legacy, reshape_shape_attribute) { check_legacy("reshape_attr"); }
Test(onnx_legacy, cast_type_name) { check_legacy("cast_string"); }
Test(onnx_legacy, concat_default_axis) { check_legacy("concat_default"); }
Test(onnx_legacy, batchnorm_is_test) { check_legacy("bn_test"); }
Test(onnx_legacy, dropout_is_test) { check_legacy("dropout_test"); }
Test(onnx_legacy, pad_paddings) { check_legacy("pad_paddings"); }

Test(onnx_legacy, rejected)
{
    check_rejected("add_axis_bad", LOOM_STATUS_INVALID_MODEL,
                   "node \"Add_0\" (Add): legacy broadcast: B [3,4] does not match A [2,3,4] at "
                   "axis 2",
                   "opset 6");
    check_rejected("bn_train", LOOM_STATUS_UNSUPPORTED,
                   "(BatchNormalization): is_test=0 is the training form (batch statistics)",
                   "opset 6");
    check_rejected("dropout_train", LOOM_STATUS_UNSUPPORTED,
                   "(Dropout): is_test=0 is the training form (random dropout)", "opset 6");
    check_rejected("tile_v1", LOOM_STATUS_UNSUPPORTED, "(Tile): Tile-1 (tiles and axis inputs)",
                   "opset 5");
    check_rejected("cast_string_bad", LOOM_STATUS_INVALID_MODEL,
                   "(Cast): unknown type \"COMPLEX64\"", "opset 5");
    check_rejected("range_opset8", LOOM_STATUS_INVALID_MODEL,
                   "(Range): Range does not exist before opset 11", "opset 8");
}
