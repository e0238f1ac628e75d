/*
 * Unit tests of InstanceNormalization, DepthToSpace / SpaceToDepth, LRN and
 * MeanVarianceNormalization
 * (ir_infer_image.c, interp_image.c, lower_image.c): shape inference and its
 * diagnostics, and the C backend and the JIT against the interpreter
 * (tl_check_c) for every attribute form. The interpreter itself is checked
 * against the ONNX node tests (tests/onnx: instancenorm, depthtospace,
 * spacetodepth, lrn, mvn) and, for DepthToSpace, against an explicit permutation
 * below.
 */
#include <stdint.h>

#include "lower.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

static void infer_fails_with(ir_graph *g, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL, "status %d (%s)", st, d.text ? d.text : "");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

/* Output shapes, and a blocksize that does not divide the input. */
Test(image, shapes)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, D(2, 8, 3, 5));
    ir_node *n = tl_node(g, IR_OP_DEPTH_TO_SPACE, "d2s", 1, (ir_value *[]){x}, 1, "d2s");
    ir_node_set_int(g, n, "blocksize", 2);
    ir_value *y = tl_input(g, "y", IR_DTYPE_I64, 4, D(1, 3, 4, 6));
    n = tl_node(g, IR_OP_SPACE_TO_DEPTH, "s2d", 1, (ir_value *[]){y}, 1, "s2d");
    ir_node_set_int(g, n, "blocksize", 2);
    tl_infer_ok(g);
    tl_assert_shape(ir_graph_find_value(g, "d2s"), 4, D(2, 2, 6, 10));
    tl_assert_shape(ir_graph_find_value(g, "s2d"), 4, D(1, 12, 2, 3));
    ir_graph_free(g);
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 4, D(1, 3, 4, 4));
    n = tl_node(g, IR_OP_DEPTH_TO_SPACE, "d2s", 1, (ir_value *[]){x}, 1, "d2s");
    ir_node_set_int(g, n, "blocksize", 2);
    infer_fails_with(g, "blocksize 2 does not divide input [1,3,4,4]");
    ir_graph_free(g);
    g = tl_graph("g");
    x = tl_input(g, "x", IR_DTYPE_F32, 3, D(1, 3, 4));
    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 1, D(4));
    tl_node(g, IR_OP_INSTANCE_NORMALIZATION, "in", 3, (ir_value *[]){x, s, s}, 1, "in");
    infer_fails_with(g, "scale \"s\" must be a 1-D f32 tensor of the 3 channels");
    ir_graph_free(g);
}

/* DepthToSpace DCR and CRD on [1, 8, 1, 1] with blocksize 2: the channels
 * land in the 2x2 blocks of two output channels as ONNX's reshape and
 * transpose place them. */
Test(image, depth_to_space_order)
{
    static const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const float dcr[8] = {0, 2, 4, 6, 1, 3, 5, 7}, crd[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int m = 0; m < 2; m++) {
        ir_graph *g = tl_graph("g");
        ir_value *in = tl_input(g, "x", IR_DTYPE_F32, 4, D(1, 8, 1, 1));
        ir_node *n = tl_node(g, IR_OP_DEPTH_TO_SPACE, "y", 1, (ir_value *[]){in}, 1, "y");
        ir_node_set_int(g, n, "blocksize", 2);
        ir_node_set_string(g, n, "mode", m ? "CRD" : "DCR");
        tl_mark_outputs(g);
        tl_infer_ok(g);
        float y[8];
        tl_run(g, (const void *[]){x}, (void *[]){y});
        tl_assert_close_f32(y, m ? crd : dcr, 8, 0, 0);
        ir_graph_free(g);
    }
}

/* Every op and attribute form, C backend and JIT against the
 * interpreter: InstanceNormalization on 3-D, 4-D and f64 inputs with an
 * epsilon, DepthToSpace DCR and CRD, SpaceToDepth on i64, LRN with odd and
 * even sizes, MeanVarianceNormalization with the default axes, axes [1]
 * and [-1, 0] on f64. */
Test(image_c, all)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 4, D(2, 8, 3, 5));
    ir_value *s = tl_input(g, "s", IR_DTYPE_F32, 1, D(8));
    ir_value *b = tl_input(g, "b", IR_DTYPE_F32, 1, D(8));
    tl_node(g, IR_OP_INSTANCE_NORMALIZATION, "in4", 3, (ir_value *[]){x, s, b}, 1, "in4");
    ir_value *x3 = tl_input(g, "x3", IR_DTYPE_F32, 3, D(3, 8, 7));
    ir_node *n = tl_node(g, IR_OP_INSTANCE_NORMALIZATION, "in3", 3, (ir_value *[]){x3, s, b}, 1,
                         "in3");
    ir_node_set_float(g, n, "epsilon", 0.5f);
    ir_value *xd = tl_input(g, "xd", IR_DTYPE_F64, 3, D(2, 2, 9));
    ir_value *sd = tl_input(g, "sd", IR_DTYPE_F64, 1, D(2));
    tl_node(g, IR_OP_INSTANCE_NORMALIZATION, "ind", 3, (ir_value *[]){xd, sd, sd}, 1, "ind");
    for (int m = 0; m < 2; m++) {
        n = tl_node(g, IR_OP_DEPTH_TO_SPACE, m ? "crd" : "dcr", 1, (ir_value *[]){x}, 1,
                    m ? "crd" : "dcr");
        ir_node_set_int(g, n, "blocksize", 2);
        ir_node_set_string(g, n, "mode", m ? "CRD" : "DCR");
    }
    ir_value *xi = tl_input(g, "xi", IR_DTYPE_I64, 4, D(1, 3, 6, 9));
    n = tl_node(g, IR_OP_SPACE_TO_DEPTH, "s2d", 1, (ir_value *[]){xi}, 1, "s2d");
    ir_node_set_int(g, n, "blocksize", 3);
    for (int k = 0; k < 2; k++) {
        n = tl_node(g, IR_OP_LRN, k ? "lrn4" : "lrn3", 1, (ir_value *[]){k ? x3 : x}, 1,
                    k ? "lrn4" : "lrn3");
        ir_node_set_int(g, n, "size", k ? 4 : 3);
        ir_node_set_float(g, n, "alpha", k ? 0.02f : 1e-4f);
        ir_node_set_float(g, n, "bias", k ? 2 : 1);
        ir_node_set_float(g, n, "beta", k ? 0.5f : 0.75f);
    }
    tl_node(g, IR_OP_MEAN_VARIANCE_NORMALIZATION, "mvn", 1, (ir_value *[]){x}, 1, "mvn");
    n = tl_node(g, IR_OP_MEAN_VARIANCE_NORMALIZATION, "mvn1", 1, (ir_value *[]){x3}, 1, "mvn1");
    ir_node_set_ints(g, n, "axes", (int64_t[]){1}, 1);
    n = tl_node(g, IR_OP_MEAN_VARIANCE_NORMALIZATION, "mvnd", 1, (ir_value *[]){xd}, 1, "mvnd");
    ir_node_set_ints(g, n, "axes", (int64_t[]){-1, 0}, 2);
    tl_mark_outputs(g);
    tl_infer_ok(g);
    tl_check_c(g, NULL, 1e-5f, 1e-5f);
    ir_graph_free(g);
}
