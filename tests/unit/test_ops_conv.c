/*
 * Unit tests of the convolution family (Conv, ConvTranspose, MaxPool,
 * AveragePool, GlobalAveragePool, BatchNormalization): shape inference for
 * each attribute form, the diagnostics for malformed nodes, and interpreter
 * results on small cases.
 *
 * Expected values were computed outside loom with onnxruntime 1.32 (opset
 * 21; the f64 Conv with the onnx reference evaluator, which onnxruntime lacks
 * a double Conv for), from inputs made by the same formula as fill():
 *     x[i] = ((i * 97 + seed * 31) % 257 - 128) / 16,  seed = input index + 1
 */
#include "ir_infer.h"
#include "testlib.h"

#define MAX_ELEMS 2048

/* Deterministic, exactly representable test data; distinct for i < 257. */
static void fill(float *p, int64_t n, int seed)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)((i * 97 + seed * 31) % 257 - 128) / 16.0f;
}

/* A shape literal: SHP(1, 3, 5, 5). */
typedef struct shp {
    int rank;
    int64_t d[IR_MAX_RANK];
} shp;
#define NARGS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define SHP(...) ((shp){NARGS(__VA_ARGS__), {__VA_ARGS__}})
#define SET_INTS(g, n, name, ...) \
    ir_node_set_ints(g, n, name, (int64_t[]){__VA_ARGS__}, NARGS(__VA_ARGS__))

/* A graph with one node "n" of op whose inputs are f32 graph inputs x0, x1,
 * ... of the given shapes; outputs "y" (and "idx" when n_out is 2). */
static ir_node *one_node(ir_graph *g, ir_op op, int n_in, const shp *shapes, int n_out)
{
    ir_value *ins[8];
    for (int i = 0; i < n_in; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        ins[i] = tl_input(g, name, IR_DTYPE_F32, shapes[i].rank, shapes[i].d);
    }
    if (n_out == 2)
        return tl_node(g, op, "n", n_in, ins, 2, "y", "idx");
    return tl_node(g, op, "n", n_in, ins, 1, "y");
}

/* Infers, checks output 0 has shape want, and frees the graph. */
static void check_shape(ir_graph *g, shp want)
{
    tl_infer_ok(g);
    tl_assert_shape(g->nodes[0]->outputs[0], want.rank, want.d);
    ir_graph_free(g);
}

/* Inference must fail with status want and a diagnostic containing substr;
 * frees the graph. */
static void check_error(ir_graph *g, loom_status want, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_eq(st, want, "status \"%s\", want \"%s\" (%s)", loom_status_name(st),
                 loom_status_name(want), d.text ? d.text : "");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Fills every graph input with fill(seed = index + 1), runs the graph and
 * compares output 0 (shape want_shape) with want and, when want_idx is not
 * NULL, output 1 with want_idx. Frees the graph. */
static void check_run(ir_graph *g, shp want_shape, const float *want, const int64_t *want_idx)
{
    static float in[8][MAX_ELEMS], out[MAX_ELEMS];
    static int64_t idx[MAX_ELEMS];
    const void *ins[8];
    tl_infer_ok(g);
    cr_assert_leq(g->n_inputs, 8);
    for (int i = 0; i < g->n_inputs; i++) {
        int64_t count = ir_shape_numel(&g->inputs[i]->shape);
        cr_assert_leq(count, MAX_ELEMS);
        fill(in[i], count, i + 1);
        ins[i] = in[i];
    }
    const ir_value *y = g->nodes[0]->outputs[0];
    tl_assert_shape(y, want_shape.rank, want_shape.d);
    int64_t count = ir_shape_numel(&y->shape);
    cr_assert_leq(count, MAX_ELEMS);
    memset(idx, 0xff, sizeof idx);
    tl_run(g, ins, (void *[]){out, idx});
    tl_assert_close_f32(out, want, count, 1e-5f, 1e-5f);
    if (want_idx) {
        cr_assert_eq(g->nodes[0]->outputs[1]->dtype, IR_DTYPE_I64);
        for (int64_t i = 0; i < count; i++)
            cr_assert_eq(idx[i], want_idx[i], "index %lld: got %lld, want %lld", (long long)i,
                         (long long)idx[i], (long long)want_idx[i]);
    }
    ir_graph_free(g);
}

/* ---- Conv: shape inference ---- */

/* A Conv node with X and W (and a bias when m_bias > 0). */
static ir_node *conv_node(ir_graph *g, shp x, shp w, int64_t m_bias)
{
    if (m_bias > 0)
        return one_node(g, IR_OP_CONV, 3, (shp[]){x, w, SHP(m_bias)}, 1);
    return one_node(g, IR_OP_CONV, 2, (shp[]){x, w}, 1);
}

Test(conv_shape, basic_2d_kernel_from_weight)
{
    ir_graph *g = tl_graph("t");
    conv_node(g, SHP(2, 3, 7, 6), SHP(4, 3, 3, 2), 4);
    check_shape(g, SHP(2, 4, 5, 5));
}

Test(conv_shape, kernel_shape_given_pads_strides)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 3, 7, 6), SHP(8, 3, 3, 3), 0);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    SET_INTS(g, n, "pads", 1, 0, 2, 1); /* H: 1 + 2, W: 0 + 1 */
    SET_INTS(g, n, "strides", 2, 3);
    check_shape(g, SHP(1, 8, 4, 2)); /* (7+3-3)/2+1, (6+1-3)/3+1 */
}

Test(conv_shape, one_and_three_spatial_dims)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 2, 10), SHP(5, 2, 4), 5);
    SET_INTS(g, n, "dilations", 3);
    check_shape(g, SHP(1, 5, 1)); /* window (4-1)*3+1 = 10 */
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 2, 5, 6, 7), SHP(3, 2, 3, 3, 3), 0);
    SET_INTS(g, n, "pads", 1, 1, 1, 1, 1, 1);
    SET_INTS(g, n, "strides", 1, 2, 3);
    check_shape(g, SHP(1, 3, 5, 3, 3));
}

Test(conv_shape, group_and_depthwise)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 6, 8, 8), SHP(4, 3, 3, 3), 4);
    ir_node_set_int(g, n, "group", 2);
    check_shape(g, SHP(1, 4, 6, 6));
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 32, 9, 9), SHP(32, 1, 3, 3), 32);
    ir_node_set_int(g, n, "group", 32);
    SET_INTS(g, n, "pads", 1, 1, 1, 1);
    SET_INTS(g, n, "strides", 2, 2);
    check_shape(g, SHP(1, 32, 5, 5));
}

Test(conv_shape, auto_pad_forms)
{
    static const char *const forms[] = {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET", ""};
    static const int64_t want[] = {4, 4, 3, 3, 3}; /* in 7, window 3 (k 2, d 2), stride 2 */
    for (int i = 0; i < 5; i++) {
        ir_graph *g = tl_graph("t");
        ir_node *n = conv_node(g, SHP(1, 1, 7, 7), SHP(1, 1, 2, 2), 0);
        ir_node_set_string(g, n, "auto_pad", forms[i]);
        SET_INTS(g, n, "strides", 2, 2);
        SET_INTS(g, n, "dilations", 2, 2);
        check_shape(g, SHP(1, 1, want[i], want[i]));
    }
}

Test(conv_shape, same_ignores_all_zero_pads)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    SET_INTS(g, n, "pads", 0, 0, 0, 0);
    check_shape(g, SHP(1, 1, 5, 5));
}

Test(conv_shape, geometry_resolves_same_pads)
{
    ir_graph *g = tl_graph("t");
    ir_node *up = conv_node(g, SHP(1, 1, 5, 6), SHP(1, 1, 2, 3), 0);
    ir_node_set_string(g, up, "auto_pad", "SAME_UPPER");
    SET_INTS(g, up, "strides", 2, 1);
    ir_conv_geom gm;
    cr_assert_eq(ir_conv_geometry(g, up, &gm, NULL), LOOM_STATUS_OK);
    cr_assert_eq(gm.nsp, 2);
    /* H: out 3, total (3-1)*2+2-5 = 1; W: out 6, total 2 */
    cr_assert_eq(gm.out[0], 3);
    cr_assert_eq(gm.pad_begin[0], 0);
    cr_assert_eq(gm.pad_end[0], 1);
    cr_assert_eq(gm.pad_begin[1], 1);
    cr_assert_eq(gm.pad_end[1], 1);
    ir_node_set_string(g, up, "auto_pad", "SAME_LOWER");
    cr_assert_eq(ir_conv_geometry(g, up, &gm, NULL), LOOM_STATUS_OK);
    cr_assert_eq(gm.pad_begin[0], 1);
    cr_assert_eq(gm.pad_end[0], 0);
    cr_assert_eq(gm.kernel[1], 3);
    cr_assert_eq(gm.group, 1);
    ir_graph_free(g);
}

Test(conv_shape, f64_and_dtype_kept)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F64, 4, (int64_t[]){1, 2, 4, 4});
    ir_value *w = tl_input(g, "w", IR_DTYPE_F64, 4, (int64_t[]){3, 2, 3, 3});
    ir_node *n = tl_node(g, IR_OP_CONV, "n", 2, (ir_value *[]){x, w}, 1, "y");
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_F64);
    tl_assert_shape(n->outputs[0], 4, (int64_t[]){1, 3, 2, 2});
    ir_graph_free(g);
}

/* ---- Conv: diagnostics ---- */

Test(conv_error, message_format)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "kernel_shape", 3, 3, 3);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "test.lir: node \"n\" (Conv): kernel_shape has 3 dims, input has 2 spatial dims\n");
}

Test(conv_error, ranks)
{
    ir_graph *g = tl_graph("t");
    conv_node(g, SHP(1, 3), SHP(1, 3), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "input X has rank 2, expected at least 3 (N, C and spatial dims)");
    g = tl_graph("t");
    conv_node(g, SHP(1, 3, 5, 5), SHP(1, 3, 3), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "weight W has rank 3, input X has rank 4");
}

Test(conv_error, kernel_shape_vs_weight)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "kernel_shape", 3, 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "kernel_shape[1] is 2, weight W has 3");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "kernel_shape", 3, 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "kernel_shape[1] is 0, must be positive");
    g = tl_graph("t");
    conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 0, 3), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "weight W has kernel size 0 in spatial dim 0");
}

Test(conv_error, strides_dilations_pads)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "strides", 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "strides has 1 values, input has 2 spatial dims");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "strides", 1, 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "strides[1] is 0, must be positive");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "dilations", -1, 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "dilations[0] is -1, must be positive");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "dilations", 1, INT64_C(1) << 40);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "dilations[1] is 1099511627776, larger than");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "pads", 1, 1, 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "pads has 3 values, expected 4 (begin and end of 2 spatial dims)");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "pads", 0, 0, -1, 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "pads[2] is -1, must be non-negative");
}

Test(conv_error, auto_pad)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    ir_node_set_string(g, n, "auto_pad", "SAME");
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "auto_pad \"SAME\" is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 3, 3), 0);
    ir_node_set_string(g, n, "auto_pad", "VALID");
    SET_INTS(g, n, "pads", 1, 1, 1, 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "pads cannot be combined with auto_pad VALID");
}

Test(conv_error, channels_and_group)
{
    ir_graph *g = tl_graph("t");
    conv_node(g, SHP(1, 3, 5, 5), SHP(4, 2, 3, 3), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "weight W has 2 input channels per group, input X has 3 channels in 1 groups");
    g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 6, 5, 5), SHP(4, 3, 3, 3), 0);
    ir_node_set_int(g, n, "group", 4);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "input X has 6 channels, not divisible by group 4");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 6, 5, 5), SHP(5, 3, 3, 3), 0);
    ir_node_set_int(g, n, "group", 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "weight W has 5 output channels, not divisible by group 2");
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 6, 5, 5), SHP(4, 6, 3, 3), 0);
    ir_node_set_int(g, n, "group", 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "group is 0, must be positive");
}

Test(conv_error, output_size)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 4, 5), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "dilations", 1, 3); /* window 7 over 5 */
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "window of 7 along spatial dim 1 is larger than the padded input (5)");
    g = tl_graph("t");
    conv_node(g, SHP(1, 1, 0, 5), SHP(1, 1, 1, 1), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "input X has an empty spatial dim 0");
}

Test(conv_error, dtypes_and_bias)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I64, 3, (int64_t[]){1, 1, 5});
    ir_value *w = tl_input(g, "w", IR_DTYPE_I64, 3, (int64_t[]){1, 1, 3});
    tl_node(g, IR_OP_CONV, "n", 2, (ir_value *[]){x, w}, 1, "y");
    check_error(g, LOOM_STATUS_INVALID_MODEL, "input X \"x\" has dtype i64; expected f32 or f64");
    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){1, 1, 5});
    w = tl_input(g, "w", IR_DTYPE_F64, 3, (int64_t[]){1, 1, 3});
    tl_node(g, IR_OP_CONV, "n", 2, (ir_value *[]){x, w}, 1, "y");
    check_error(g, LOOM_STATUS_INVALID_MODEL, "weight W \"w\" has dtype f64, input X has f32");
    g = tl_graph("t");
    conv_node(g, SHP(1, 2, 5), SHP(3, 2, 3), 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "bias B has shape [2], expected [3] (one per output channel)");
}

/* ---- ConvTranspose: shape inference and diagnostics ---- */

static ir_node *convt_node(ir_graph *g, shp x, shp w, int64_t m_bias)
{
    if (m_bias > 0)
        return one_node(g, IR_OP_CONV_TRANSPOSE, 3, (shp[]){x, w, SHP(m_bias)}, 1);
    return one_node(g, IR_OP_CONV_TRANSPOSE, 2, (shp[]){x, w}, 1);
}

Test(convt_shape, pads_strides_output_padding)
{
    ir_graph *g = tl_graph("t");
    convt_node(g, SHP(1, 4, 3, 5), SHP(4, 2, 3, 3), 2);
    check_shape(g, SHP(1, 2, 5, 7));
    g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 4, 3, 5), SHP(4, 2, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 3);
    SET_INTS(g, n, "pads", 1, 0, 0, 2);
    SET_INTS(g, n, "output_padding", 1, 2);
    SET_INTS(g, n, "dilations", 1, 2);
    /* H: 2*2 + 1 + 3 - 1 = 7; W: 3*4 + 2 + 5 - 2 = 17 */
    check_shape(g, SHP(1, 2, 7, 17));
}

Test(convt_shape, group_multiplies_output_channels)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(2, 6, 4), SHP(6, 5, 2), 15);
    ir_node_set_int(g, n, "group", 3);
    check_shape(g, SHP(2, 15, 5));
}

Test(convt_shape, output_shape_and_same)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 1, 3, 3), SHP(1, 2, 3, 3), 0);
    SET_INTS(g, n, "strides", 3, 2);
    SET_INTS(g, n, "output_shape", 10, 8);
    check_shape(g, SHP(1, 2, 10, 8));
    /* the older form with N and C in output_shape */
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 1, 3, 3), SHP(1, 2, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "output_shape", 1, 2, 6, 5);
    check_shape(g, SHP(1, 2, 6, 5));
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 1, 3, 4), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 3);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    check_shape(g, SHP(1, 1, 6, 12));
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 1, 3, 4), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 3);
    ir_node_set_string(g, n, "auto_pad", "VALID");
    check_shape(g, SHP(1, 1, 7, 12));
    /* SAME never pads negatively: with kernel 1 < stride 3 the full output
     * 3*2+1 = 7 is kept, not 3*3 (onnxruntime, ONNX shape inference) */
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 1, 3), SHP(1, 1, 1), 0);
    SET_INTS(g, n, "strides", 3);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    check_shape(g, SHP(1, 1, 7));
}

Test(convt_shape, geometry_output_shape_pads)
{
    /* full size 7 (stride 2, in 3, kernel 3); output_shape 6 -> total pad 1:
     * ONNX puts the odd pad at the start unless SAME_UPPER */
    static const char *const forms[] = {"NOTSET", "SAME_LOWER", "SAME_UPPER"};
    static const int64_t begin[] = {1, 1, 0};
    for (int i = 0; i < 3; i++) {
        ir_graph *g = tl_graph("t");
        ir_node *n = convt_node(g, SHP(1, 1, 3), SHP(1, 1, 3), 0);
        SET_INTS(g, n, "strides", 2);
        SET_INTS(g, n, "output_shape", 6);
        ir_node_set_string(g, n, "auto_pad", forms[i]);
        ir_conv_geom gm;
        cr_assert_eq(ir_conv_geometry(g, n, &gm, NULL), LOOM_STATUS_OK);
        cr_assert_eq(gm.out[0], 6);
        cr_assert_eq(gm.pad_begin[0], begin[i], "%s", forms[i]);
        cr_assert_eq(gm.pad_end[0], 1 - begin[i], "%s", forms[i]);
        ir_graph_free(g);
    }
}

Test(convt_error, diagnostics)
{
    ir_graph *g = tl_graph("t");
    convt_node(g, SHP(1, 3, 5), SHP(4, 2, 3), 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "weight W has 4 input channels, input X has 3");
    g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 0);
    SET_INTS(g, n, "strides", 2);
    SET_INTS(g, n, "output_padding", 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "output_padding[0] is 2, must be smaller than the stride or dilation (2)");
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 0);
    SET_INTS(g, n, "output_padding", -1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "output_padding[0] is -1, must be non-negative");
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 0);
    SET_INTS(g, n, "strides", 2);
    SET_INTS(g, n, "output_shape", 13); /* full 11, at most 12 */
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "output size 13 of spatial dim 0 is larger than the 12 the input can produce");
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 0);
    SET_INTS(g, n, "output_shape", 4, 4);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "output_shape has 2 values, input has 1 spatial dims");
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 0);
    SET_INTS(g, n, "pads", 4, 4);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "output size of spatial dim 0 would be -1");
    g = tl_graph("t");
    convt_node(g, SHP(1, 3, 5), SHP(3, 2, 3), 3);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "bias B has shape [3], expected [2]");
}

/* ---- pooling: shape inference and diagnostics ---- */

static ir_node *pool_node(ir_graph *g, ir_op op, shp x, int n_out)
{
    return one_node(g, op, 1, (shp[]){x}, n_out);
}

Test(pool_shape, max_pool_forms)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 3, 8, 7), 2);
    SET_INTS(g, n, "kernel_shape", 2, 3);
    SET_INTS(g, n, "strides", 2, 2);
    tl_infer_ok(g);
    tl_assert_shape(n->outputs[0], 4, (int64_t[]){1, 3, 4, 3});
    tl_assert_shape(n->outputs[1], 4, (int64_t[]){1, 3, 4, 3});
    cr_assert_eq(n->outputs[1]->dtype, IR_DTYPE_I64);
    ir_graph_free(g);
    /* ceil_mode: W ceil((7-3)/2)+1 = 3 (same as floor), H ceil((8-2)/3)+1 = 3 */
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 3, 8, 8), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    SET_INTS(g, n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    check_shape(g, SHP(1, 3, 4, 4)); /* floor would give 3 */
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5, 5), 1);
    SET_INTS(g, n, "kernel_shape", 2, 2, 2);
    SET_INTS(g, n, "dilations", 1, 2, 3);
    check_shape(g, SHP(1, 1, 4, 3, 2));
}

Test(pool_shape, ceil_mode_drops_window_starting_in_pad)
{
    /* in 7, k 2, s 2, pads 1+1: ceil(7/2)+1 = 5, but window 4 would start at
     * 8 - 1 = 7, in the right pad, so 4 remain (ONNX MaxPool-22) */
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 7), 1);
    SET_INTS(g, n, "kernel_shape", 2);
    SET_INTS(g, n, "strides", 2);
    SET_INTS(g, n, "pads", 1, 1);
    ir_node_set_int(g, n, "ceil_mode", 1);
    check_shape(g, SHP(1, 1, 4));
}

Test(pool_shape, auto_pad_forms)
{
    /* in 7, k 2, s 2; SAME: ceil(7/2) = 4; VALID: (7-2)/2+1 = 3 */
    static const char *const forms[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    static const int64_t want[] = {4, 4, 3};
    for (int i = 0; i < 3; i++) {
        ir_graph *g = tl_graph("t");
        ir_node *n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(2, 3, 7), 1);
        SET_INTS(g, n, "kernel_shape", 2);
        SET_INTS(g, n, "strides", 2);
        ir_node_set_string(g, n, "auto_pad", forms[i]);
        check_shape(g, SHP(2, 3, want[i]));
    }
    /* ONNX: SAME pads use the dilated window (onnxruntime uses the plain one) */
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 7), 1);
    SET_INTS(g, n, "kernel_shape", 2);
    SET_INTS(g, n, "strides", 2);
    SET_INTS(g, n, "dilations", 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    ir_conv_geom gm;
    cr_assert_eq(ir_conv_geometry(g, n, &gm, NULL), LOOM_STATUS_OK);
    cr_assert_eq(gm.out[0], 4);
    cr_assert_eq(gm.pad_begin[0], 1);
    cr_assert_eq(gm.pad_end[0], 1);
    ir_graph_free(g);
}

Test(pool_shape, global_average_pool)
{
    ir_graph *g = tl_graph("t");
    one_node(g, IR_OP_GLOBAL_AVERAGE_POOL, 1, (shp[]){SHP(2, 5, 7, 3, 4)}, 1);
    check_shape(g, SHP(2, 5, 1, 1, 1));
    g = tl_graph("t");
    one_node(g, IR_OP_GLOBAL_AVERAGE_POOL, 1, (shp[]){SHP(2, 5)}, 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "input X has rank 2, expected at least 3");
}

Test(pool_error, diagnostics)
{
    ir_graph *g = tl_graph("t");
    pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "kernel_shape is required");
    g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 5, 5), 1);
    SET_INTS(g, n, "kernel_shape", 3);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "kernel_shape has 1 dims, input has 2 spatial dims");
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    SET_INTS(g, n, "pads", 0, 3, 0, 0);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "pads of spatial dim 1 (3, 0) must be smaller than the window (3)");
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    ir_node_set_int(g, n, "ceil_mode", 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "ceil_mode is 2, must be 0 or 1");
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 2);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    ir_node_set_int(g, n, "storage_order", 3);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "storage_order is 3, must be 0 or 1");
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 5, 5), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    ir_node_set_int(g, n, "count_include_pad", -1);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "count_include_pad is -1, must be 0 or 1");
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 2, 5), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "window of 3 along spatial dim 0 is larger than the padded input (2)");
}

Test(pool_error, window_covering_only_padding)
{
    /* in 2, k 2, dilation 3 (window 4), pad 2: taps of window 0 at -2 and 1,
     * window 1 at -1 and 2: window 0 sees x[1]; window 1 sees nothing */
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 2), 1);
    SET_INTS(g, n, "kernel_shape", 2);
    SET_INTS(g, n, "dilations", 3);
    SET_INTS(g, n, "pads", 2, 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "pooling window 1 of spatial dim 0 covers only padding");
}

Test(pool_error, dtypes)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_I8, 3, (int64_t[]){1, 1, 5});
    ir_node *n = tl_node(g, IR_OP_MAX_POOL, "n", 1, (ir_value *[]){x}, 1, "y");
    SET_INTS(g, n, "kernel_shape", 2);
    check_error(g, LOOM_STATUS_UNSUPPORTED,
                "input X \"x\" has dtype i8; only f32 and f64 are supported");
    g = tl_graph("t");
    x = tl_input(g, "x", IR_DTYPE_BOOL, 3, (int64_t[]){1, 1, 5});
    n = tl_node(g, IR_OP_AVERAGE_POOL, "n", 1, (ir_value *[]){x}, 1, "y");
    SET_INTS(g, n, "kernel_shape", 2);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "has dtype bool; expected f32 or f64");
}

/* ---- BatchNormalization: shape inference and diagnostics ---- */

static ir_node *bn_node(ir_graph *g, shp x, int64_t c, int n_out)
{
    ir_value *ins[5];
    ins[0] = tl_input(g, "x", IR_DTYPE_F32, x.rank, x.d);
    static const char *const names[] = {"", "scale", "b", "mean", "var"};
    for (int i = 1; i < 5; i++)
        ins[i] = tl_input(g, names[i], IR_DTYPE_F32, 1, (int64_t[]){c});
    if (n_out == 3)
        return tl_node(g, IR_OP_BATCH_NORMALIZATION, "n", 5, ins, 3, "y", "rm", "rv");
    return tl_node(g, IR_OP_BATCH_NORMALIZATION, "n", 5, ins, 1, "y");
}

Test(bn_shape, inference_forms)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = bn_node(g, SHP(2, 3, 4, 5), 3, 1);
    ir_node_set_float(g, n, "epsilon", 1e-3f);
    ir_node_set_float(g, n, "momentum", 0.9f);
    ir_node_set_int(g, n, "training_mode", 0);
    check_shape(g, SHP(2, 3, 4, 5));
    /* opsets 7-8 and older: spatial=1, is_test=1 */
    g = tl_graph("t");
    n = bn_node(g, SHP(2, 3), 3, 1);
    ir_node_set_int(g, n, "spatial", 1);
    ir_node_set_int(g, n, "is_test", 1);
    check_shape(g, SHP(2, 3));
    g = tl_graph("t");
    bn_node(g, SHP(6), 1, 1);
    check_shape(g, SHP(6));
}

Test(bn_error, training_is_unsupported)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = bn_node(g, SHP(2, 3, 4), 3, 1);
    ir_node_set_int(g, n, "training_mode", 1);
    check_error(g, LOOM_STATUS_UNSUPPORTED,
                "training_mode=1 (training with batch statistics) is not supported");
    g = tl_graph("t");
    bn_node(g, SHP(2, 3, 4), 3, 3);
    check_error(g, LOOM_STATUS_UNSUPPORTED,
                "output 1 (\"rm\", running or saved statistics of training) is not supported");
    g = tl_graph("t");
    n = bn_node(g, SHP(2, 3, 4), 3, 1);
    ir_node_set_int(g, n, "spatial", 0);
    check_error(g, LOOM_STATUS_UNSUPPORTED, "spatial=0 (per-activation statistics");
    g = tl_graph("t");
    n = bn_node(g, SHP(2, 3, 4), 3, 1);
    ir_node_set_int(g, n, "is_test", 0);
    check_error(g, LOOM_STATUS_UNSUPPORTED, "is_test=0 (training with batch statistics)");
    g = tl_graph("t");
    n = bn_node(g, SHP(2, 3, 4), 3, 1);
    ir_node_set_int(g, n, "training_mode", 7);
    check_error(g, LOOM_STATUS_INVALID_MODEL, "training_mode is 7, must be 0 or 1");
}

Test(bn_error, parameter_shapes)
{
    ir_graph *g = tl_graph("t");
    bn_node(g, SHP(2, 4, 4), 3, 1);
    check_error(g, LOOM_STATUS_INVALID_MODEL,
                "scale has shape [3], expected [4] (one per channel)");
    g = tl_graph("t");
    ir_value *ins[5];
    ins[0] = tl_input(g, "x", IR_DTYPE_F32, 3, (int64_t[]){2, 3, 4});
    ins[1] = tl_input(g, "s", IR_DTYPE_F32, 1, (int64_t[]){3});
    ins[2] = tl_input(g, "b", IR_DTYPE_F32, 1, (int64_t[]){3});
    ins[3] = tl_input(g, "m", IR_DTYPE_F32, 1, (int64_t[]){3});
    ins[4] = tl_input(g, "v", IR_DTYPE_I32, 1, (int64_t[]){3});
    tl_node(g, IR_OP_BATCH_NORMALIZATION, "n", 5, ins, 1, "y");
    check_error(g, LOOM_STATUS_INVALID_MODEL, "input_var \"v\" has dtype i32; expected f32 or f64");
}

/* ---- interpreter: Conv ---- */

Test(conv_run, asymmetric_pads_strides_bias)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 2, 4, 5), SHP(3, 2, 3, 2), 3);
    SET_INTS(g, n, "pads", 1, 0, 0, 1);
    SET_INTS(g, n, "strides", 1, 2);
    static const float want[27] = {
        -117.792969f, 139.171875f, 89.3867188f, -23.4453125f, 149.011719f, -45.4101562f,
        209.425781f, 58.625f, -100.304688f, 123.9375f, -61.5273438f, -25.515625f,
        -78.0703125f, -34.1757812f, 29.640625f, -98.3398438f, 1.7734375f, 106.179688f,
        -35.8945312f, 41.9570312f, 42.2929688f, 94.1875f, 72.765625f, -57.9414062f,
        107.894531f, 6.16015625f, -78.859375f,
    };
    check_run(g, SHP(1, 3, 3, 3), want, NULL);
}

Test(conv_run, same_upper_vs_same_lower)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 2, 2), 0);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    SET_INTS(g, n, "strides", 2, 2);
    {
        static const float want[9] = {
            -34.3671875f, 12.8632812f, -6.265625f, 14.0546875f, -33.0820312f, -20.3125f,
            -25.390625f, 14.34375f, 21.140625f,
        };
        check_run(g, SHP(1, 1, 3, 3), want, NULL);
    }
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 2, 2), 0);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    SET_INTS(g, n, "strides", 2, 2);
    {
        static const float want[9] = {
            12.125f, -12.125f, -35.75f, -28.0078125f, -18.1640625f, -33.1757812f,
            3.33984375f, -31.984375f, 15.2460938f,
        };
        check_run(g, SHP(1, 1, 3, 3), want, NULL);
    }
    g = tl_graph("t");
    n = conv_node(g, SHP(1, 1, 5, 5), SHP(1, 1, 2, 2), 0);
    ir_node_set_string(g, n, "auto_pad", "VALID");
    SET_INTS(g, n, "strides", 2, 2);
    {
        static const float want[4] = {
            -34.3671875f, 12.8632812f, 14.0546875f, -33.0820312f,
        };
        check_run(g, SHP(1, 1, 2, 2), want, NULL);
    }
}

Test(conv_run, same_lower_with_dilation)
{
    /* onnxruntime has no dilated SAME Conv: want is its Conv with the pads
     * the spec gives (out 3, total (3-1)*2 + 5 - 6 = 3: begin 2, end 1) */
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 1, 6, 6), SHP(1, 1, 3, 3), 0);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "dilations", 2, 2);
    static const float want[9] = {
        -39.8242188f, 35.890625f, -37.3242188f, -2.8359375f, 106.066406f, -20.15625f,
        -69.6601562f, -35.9570312f, -5.90625f,
    };
    check_run(g, SHP(1, 1, 3, 3), want, NULL);
}

Test(conv_run, group_with_dilation)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 4, 6, 6), SHP(4, 2, 2, 2), 0);
    ir_node_set_int(g, n, "group", 2);
    SET_INTS(g, n, "dilations", 2, 2);
    SET_INTS(g, n, "pads", 1, 1, 0, 0);
    static const float want[100] = {
        -23.1953125f, 20.7695312f, -5.98046875f, -59.8359375f, 44.9257812f, 66.0625f,
        124.894531f, -149.351562f, 28.1601562f, 11.9179688f, 66.859375f, 29.4492188f,
        13.2070312f, 28.0859375f, -146.773438f, -62.8515625f, -129.242188f, 112.519531f,
        32.0273438f, 15.7851562f, -62.0546875f, 31.3085938f, 17.0742188f, -31.2929688f,
        115.097656f, -22.609375f, 51.0546875f, -75.5351562f, 33.7929688f, 38.7148438f,
        62.2148438f, 88.0859375f, -30.4570312f, 54.7929688f, -63.75f, 68.3242188f,
        -75.0390625f, 64.421875f, -17.9804688f, -32.1171875f, -66.1132812f, -43.40625f,
        96.0546875f, -76.6992188f, 62.7617188f, -60.0039062f, 44.4453125f, -67.0703125f,
        45.2851562f, 94.3945312f, -6.73046875f, 36.6640625f, -80.3398438f, 53.6328125f,
        -75.4179688f, 65.9257812f, -68.0664062f, 44.3867188f, 93.59375f, -149.335938f,
        -32.078125f, -35.8476562f, 42.4726562f, -68.9453125f, 43.5078125f, -61.8164062f,
        59.6171875f, -22.6875f, -36.7265625f, 41.59375f, 34.9375f, 91.8359375f,
        -151.09375f, 58.7382812f, -23.5664062f, -4.38671875f, 36.3320312f, -78.1132812f,
        53.3984375f, -78.1132812f, 65.59375f, -68.7304688f, 43.8203125f, 93.125f,
        -149.707031f, -32.1171875f, -35.9257812f, 42.4921875f, -68.828125f, 43.7226562f,
        -61.5625f, 60.125f, -22.0820312f, -36.0234375f, 42.3945312f, 35.484375f,
        92.9296875f, -149.902344f, 60.0273438f, -22.1796875f,
    };
    check_run(g, SHP(1, 4, 5, 5), want, NULL);
}

Test(conv_run, depthwise_1d_batch2)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(2, 3, 7), SHP(3, 1, 3), 3);
    ir_node_set_int(g, n, "group", 3);
    SET_INTS(g, n, "pads", 1, 1);
    static const float want[42] = {
        -13.9335938f, 71.3203125f, -21.9414062f, -17.8242188f, -44.828125f, -40.7109375f,
        26.7851562f, 55.28125f, -29.8398438f, -21.2070312f, 50.671875f, -38.0742188f,
        65.9296875f, -31.7226562f, -32.8007812f, 42.6484375f, -41.5820312f, -28.4335938f,
        47.9609375f, -36.2695312f, 10.4765625f, -25.734375f, 64.4179688f, -28.84375f,
        -24.7265625f, 76.7695312f, -16.4921875f, -36.875f, 57.5078125f, -25.2382812f,
        -16.6054688f, 55.2734375f, -33.4726562f, -24.8398438f, 31.0820312f, -35.6210938f,
        39.6796875f, -44.5507812f, -31.4023438f, 44.9921875f, -39.2382812f, 2.98046875f,
    };
    check_run(g, SHP(2, 3, 7), want, NULL);
}

Test(conv_run, three_spatial_dims)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = conv_node(g, SHP(1, 2, 3, 4, 4), SHP(2, 2, 2, 2, 2), 0);
    SET_INTS(g, n, "strides", 1, 2, 1);
    SET_INTS(g, n, "pads", 0, 1, 0, 1, 0, 1);
    static const float want[48] = {
        -1.33203125f, -46.25f, -33.9453125f, -16.5585938f, 53.6484375f, -13.875f,
        54.1289062f, -7.8515625f, 4.80078125f, -13.0117188f, 96.671875f, -16.0507812f,
        55.484375f, -12.0390625f, 55.9648438f, -7.03125f, -23.5078125f, -17.2421875f,
        118.527344f, -15.203125f, -82.0429688f, 28.984375f, 142.019531f, -65.9296875f,
        87.140625f, -34.8828125f, -129.800781f, 39.96875f, 130.539062f, -33.9726562f,
        -42.8789062f, 58.1875f, 86.359375f, -18.5976562f, -16.1367188f, 32.0f,
        128.585938f, -35.9257812f, -44.8320312f, 52.09375f, 51.6835938f, -34.3125f,
        -0.84375f, 25.7773438f, -12.8085938f, 1.03515625f, 26.9257812f, -21.53125f,
    };
    check_run(g, SHP(1, 2, 3, 2, 4), want, NULL);
}

Test(conv_run, f64)
{
    ir_graph *g = tl_graph("t");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F64, 4, (int64_t[]){1, 2, 4, 4});
    ir_value *w = tl_input(g, "w", IR_DTYPE_F64, 4, (int64_t[]){2, 2, 3, 3});
    ir_node *n = tl_node(g, IR_OP_CONV, "n", 2, (ir_value *[]){x, w}, 1, "y");
    SET_INTS(g, n, "pads", 1, 1, 1, 1);
    SET_INTS(g, n, "strides", 2, 2);
    tl_infer_ok(g);
    cr_assert_eq(n->outputs[0]->dtype, IR_DTYPE_F64);
    double xd[32], wd[36], y[8];
    float tmp[36];
    fill(tmp, 32, 1);
    for (int i = 0; i < 32; i++)
        xd[i] = tmp[i];
    fill(tmp, 36, 2);
    for (int i = 0; i < 36; i++)
        wd[i] = tmp[i];
    tl_run(g, (const void *[]){xd, wd}, (void *[]){y});
    static const double want[8] = {
        21.19921875, -47.203125, -48.51953125, 1.48828125,
        3.8359375, 6.4921875, 14, 63.5390625,
    };
    for (int i = 0; i < 8; i++)
        cr_assert(fabs(y[i] - want[i]) <= 1e-12 * fabs(want[i]),
                  "element %d: got %.17g, want %.17g", i, y[i], want[i]);
    ir_graph_free(g);
}

Test(conv_run, constant_folding_via_eval_node)
{
    ir_graph *g = tl_graph("t");
    float xd[40], wd[36], bd[3];
    fill(xd, 40, 1);
    fill(wd, 36, 2);
    fill(bd, 3, 3);
    ir_value *x = tl_const_f32(g, "x", 4, (int64_t[]){1, 2, 4, 5}, xd);
    ir_value *w = tl_const_f32(g, "w", 4, (int64_t[]){3, 2, 3, 2}, wd);
    ir_value *b = tl_const_f32(g, "b", 1, (int64_t[]){3}, bd);
    ir_node *n = tl_node(g, IR_OP_CONV, "n", 3, (ir_value *[]){x, w, b}, 1, "y");
    SET_INTS(g, n, "pads", 1, 0, 0, 1);
    SET_INTS(g, n, "strides", 1, 2);
    tl_infer_ok(g);
    ir_diag d;
    ir_diag_init(&d);
    jmp_buf jb;
    if (!IR_TRY(&g->arena, jb))
        cr_assert_fail("out of memory");
    cr_assert_eq(interp_eval_node(g, n, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    cr_assert(n->outputs[0]->data);
    static const float want[27] = {
        -117.792969f, 139.171875f, 89.3867188f, -23.4453125f, 149.011719f, -45.4101562f,
        209.425781f, 58.625f, -100.304688f, 123.9375f, -61.5273438f, -25.515625f,
        -78.0703125f, -34.1757812f, 29.640625f, -98.3398438f, 1.7734375f, 106.179688f,
        -35.8945312f, 41.9570312f, 42.2929688f, 94.1875f, 72.765625f, -57.9414062f,
        107.894531f, 6.16015625f, -78.859375f,
    };
    tl_assert_close_f32(n->outputs[0]->data, want, 27, 1e-5f, 1e-5f);
    ir_graph_free(g);
}

/* ---- interpreter: ConvTranspose ---- */

Test(convt_run, output_padding_asymmetric_pads_bias)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 2, 3, 3), SHP(2, 3, 3, 3), 3);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "output_padding", 1, 0);
    SET_INTS(g, n, "pads", 1, 0, 0, 1);
    static const float want[126] = {
        10.2695312f, -24.5898438f, 39.6835938f, 43.234375f, -36.4921875f, -3.38671875f,
        11.703125f, -37.2695312f, -3.40625f, -79.3125f, 71.125f, 37.2617188f,
        8.27734375f, -0.81640625f, 1.8984375f, -47.4375f, 21.09375f, -44.8671875f,
        7.71875f, -23.8554688f, -61.9101562f, 43.5273438f, 73.859375f, -48.7109375f,
        6.28515625f, 22.9570312f, -18.8203125f, -23.6640625f, 0.375f, -21.09375f,
        12.1289062f, -44.484375f, -15.5f, 61.1523438f, -13.0390625f, -42.0234375f,
        -2.1875f, -2.1875f, -2.1875f, -2.1875f, -2.1875f, -2.1875f,
        -20.3242188f, 37.1757812f, 49.7304688f, -12.4609375f, 25.75f, -20.9375f,
        -33.4726562f, 44.046875f, -76.7382812f, 20.0664062f, 63.03125f, 52.3046875f,
        4.77734375f, 19.7773438f, -36.265625f, 11.3007812f, -67.2734375f, 52.015625f,
        -17.4023438f, 9.25f, 60.4726562f, -7.703125f, -98.921875f, 73.7265625f,
        29.8789062f, 2.37890625f, -2.796875f, -6.09765625f, -33.8046875f, 34.6171875f,
        -37.5625f, 8.22265625f, 87.8632812f, -8.62109375f, -57.2578125f, 23.7265625f,
        3.875f, 3.875f, 3.875f, 3.875f, 3.875f, 3.875f,
        25.3789062f, -9.48046875f, -63.703125f, 18.1796875f, -69.6210938f, -15.3984375f,
        31.78125f, -12.171875f, 52.71875f, 16.0429688f, -34.4101562f, -1.921875f,
        9.30859375f, 0.21484375f, -42.3046875f, -33.3632812f, 100.355469f, -17.75f,
        -0.359375f, 7.21875f, 25.2421875f, -59.9375f, 52.5585938f, -28.7109375f,
        -6.76171875f, 9.91015625f, -57.046875f, -23.6679688f, 85.6132812f, -8.0546875f,
        -0.91796875f, 15.7539062f, -24.6132812f, -26.1914062f, 3.93359375f, -18.9453125f,
        -6.125f, -6.125f, -6.125f, -6.125f, -6.125f, -6.125f,
    };
    check_run(g, SHP(1, 3, 7, 6), want, NULL);
}

Test(convt_run, output_shape_notset_vs_same_upper)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 1, 3, 3), SHP(1, 2, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "output_shape", 6, 5);
    {
        static const float want[60] = {
            -24.6289062f, 35.9960938f, 0.0f, -12.125f, 24.6289062f, -45.140625f,
            -17.1523438f, 4.1171875f, 50.2421875f, 22.2539062f, -15.9960938f, 19.1289062f,
            8.6328125f, 3.1328125f, -31.9921875f, -27.875f, -16.7539062f, 21.3828125f,
            48.6328125f, -59.8671875f, -7.36328125f, 2.26171875f, 17.265625f, -13.734375f,
            -23.359375f, -11.2148438f, 7.44140625f, 26.296875f, -16.921875f, -35.578125f,
            34.1015625f, -2.65234375f, 0.0f, 26.5234375f, -34.1015625f, 51.734375f,
            -4.109375f, -16.46875f, 18.1015625f, 39.8125f, 22.1484375f, 7.57421875f,
            -11.953125f, -33.5234375f, 44.296875f, 27.828125f, 16.34375f, -40.375f,
            -65.8515625f, 72.125f, 10.1953125f, 17.8007812f, -23.90625f, -23.296875f,
            32.34375f, 6.34375f, 22.9804688f, -14.875f, -26.484375f, 20.125f,
        };
        check_run(g, SHP(1, 2, 6, 5), want, NULL);
    }
    g = tl_graph("t");
    n = convt_node(g, SHP(1, 1, 3, 3), SHP(1, 2, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "output_shape", 6, 5);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    {
        static const float want[60] = {
            -11.7460938f, -48.5f, 0.0f, -25.0078125f, 11.7460938f, -24.6289062f,
            35.9960938f, 0.0f, -12.125f, 24.6289062f, -45.140625f, -17.1523438f,
            4.1171875f, 50.2421875f, 22.2539062f, -15.9960938f, 19.1289062f, 8.6328125f,
            3.1328125f, -31.9921875f, -27.875f, -16.7539062f, 21.3828125f, 48.6328125f,
            -59.8671875f, -7.36328125f, 2.26171875f, 17.265625f, -13.734375f, -23.359375f,
            46.984375f, 10.2304688f, 0.0f, 13.640625f, -46.984375f, 34.1015625f,
            -2.65234375f, 0.0f, 26.5234375f, -34.1015625f, 51.734375f, -4.109375f,
            -16.46875f, 18.1015625f, 39.8125f, 22.1484375f, 7.57421875f, -11.953125f,
            -33.5234375f, 44.296875f, 27.828125f, 16.34375f, -40.375f, -65.8515625f,
            72.125f, 10.1953125f, 17.8007812f, -23.90625f, -23.296875f, 32.34375f,
        };
        check_run(g, SHP(1, 2, 6, 5), want, NULL);
    }
}

Test(convt_run, same_lower)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 1, 3, 3), SHP(1, 1, 3, 3), 0);
    SET_INTS(g, n, "strides", 2, 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    static const float want[36] = {
        -24.6289062f, 35.9960938f, 0.0f, -12.125f, 24.6289062f, -35.9960938f,
        -45.140625f, -17.1523438f, 4.1171875f, 50.2421875f, 22.2539062f, -86.1132812f,
        -15.9960938f, 19.1289062f, 8.6328125f, 3.1328125f, -31.9921875f, 46.7578125f,
        -27.875f, -16.7539062f, 21.3828125f, 48.6328125f, -59.8671875f, -15.9765625f,
        -7.36328125f, 2.26171875f, 17.265625f, -13.734375f, -23.359375f, 34.140625f,
        -11.2148438f, 7.44140625f, 26.296875f, -16.921875f, -35.578125f, 21.921875f,
    };
    check_run(g, SHP(1, 1, 6, 6), want, NULL);
}

Test(convt_run, group_dilation_1d)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(2, 4, 4), SHP(4, 1, 2), 2);
    ir_node_set_int(g, n, "group", 2);
    SET_INTS(g, n, "dilations", 2);
    SET_INTS(g, n, "strides", 3);
    SET_INTS(g, n, "output_padding", 2);
    static const float want[56] = {
        39.8203125f, -2.1875f, -18.1835938f, -65.1875f, -2.1875f, 13.5625f,
        -41.6953125f, -2.1875f, 13.1835938f, 48.0546875f, -2.1875f, -18.3164062f,
        -2.1875f, -2.1875f, -19.1796875f, 3.875f, 53.0976562f, 4.19921875f,
        3.875f, -44.7734375f, 29.5859375f, 3.875f, -43.2578125f, -10.28125f,
        3.875f, 53.6289062f, 3.875f, 3.875f, 42.2421875f, -2.1875f,
        -18.2226562f, -62.765625f, -2.1875f, 13.5234375f, -39.2734375f, -2.1875f,
        13.1445312f, 50.4765625f, -2.1875f, -18.3554688f, -2.1875f, -2.1875f,
        -16.5625f, 3.875f, 53.2539062f, 6.81640625f, 3.875f, -44.6171875f,
        32.203125f, 3.875f, -43.1015625f, -7.6640625f, 3.875f, 53.7851562f,
        3.875f, 3.875f,
    };
    check_run(g, SHP(2, 2, 14), want, NULL);
}

Test(convt_run, output_shape_beyond_full_output)
{
    /* full output 8; output_shape 10 adds two bias-only positions at the end */
    ir_graph *g = tl_graph("t");
    ir_node *n = convt_node(g, SHP(1, 1, 3), SHP(1, 1, 2), 1);
    SET_INTS(g, n, "strides", 3);
    SET_INTS(g, n, "output_shape", 10);
    static const float want[10] = {
        22.8203125f, -13.9335938f, -2.1875f, -2.1875f, -2.1875f, -2.1875f,
        -27.1953125f, 9.55859375f, -2.1875f, -2.1875f,
    };
    check_run(g, SHP(1, 1, 10), want, NULL);
}

/* ---- interpreter: pooling ---- */

Test(pool_run, max_pool_pads_and_indices)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 2, 5, 6), 2);
    SET_INTS(g, n, "kernel_shape", 3, 2);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "pads", 1, 0, 1, 1);
    {
        static const float want[18] = {
            4.25f, 6.0625f, 6.375f, 6.6875f, 4.5625f, 6.375f,
            6.6875f, 7.0f, 4.875f, 5.1875f, 5.5f, 7.3125f,
            7.625f, 7.9375f, 5.8125f, 6.125f, 7.9375f, 4.0f,
        };
        static const int64_t want_idx[18] = {
            7, 2, 10, 18, 15, 10,
            18, 26, 23, 31, 39, 34,
            42, 50, 47, 55, 50, 52,
        };
        check_run(g, SHP(1, 2, 3, 3), want, want_idx);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 2, 5, 6), 2);
    SET_INTS(g, n, "kernel_shape", 3, 2);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "pads", 1, 0, 1, 1);
    ir_node_set_int(g, n, "storage_order", 1);
    {
        static const float want[18] = {
            4.25f, 6.0625f, 6.375f, 6.6875f, 4.5625f, 6.375f,
            6.6875f, 7.0f, 4.875f, 5.1875f, 5.5f, 7.3125f,
            7.625f, 7.9375f, 5.8125f, 6.125f, 7.9375f, 4.0f,
        };
        static const int64_t want_idx[18] = {
            6, 10, 21, 3, 17, 21,
            3, 14, 28, 35, 46, 50,
            32, 43, 57, 39, 43, 53,
        };
        check_run(g, SHP(1, 2, 3, 3), want, want_idx);
    }
}

Test(pool_run, max_pool_ceil_mode)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 7), 2);
    SET_INTS(g, n, "kernel_shape", 3);
    SET_INTS(g, n, "strides", 3);
    SET_INTS(g, n, "pads", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    {
        static const float want[3] = {
            -6.0625f, 6.0625f, 2.125f,
        };
        static const int64_t want_idx[3] = {
            0, 2, 4,
        };
        check_run(g, SHP(1, 1, 3), want, want_idx);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 6, 7), 2);
    SET_INTS(g, n, "kernel_shape", 2, 2);
    SET_INTS(g, n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    {
        static const float want[12] = {
            4.25f, 6.375f, 2.4375f, -1.8125f, 4.5625f, 4.875f,
            7.0f, 2.75f, 3.375f, 5.1875f, 5.5f, 7.3125f,
        };
        static const int64_t want_idx[12] = {
            7, 10, 12, 6, 15, 23,
            26, 20, 36, 31, 39, 34,
        };
        check_run(g, SHP(1, 1, 3, 4), want, want_idx);
    }
}

Test(pool_run, max_pool_dilation)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 6, 6), 2);
    SET_INTS(g, n, "kernel_shape", 2, 2);
    SET_INTS(g, n, "dilations", 2, 2);
    SET_INTS(g, n, "pads", 1, 1, 1, 1);
    static const float want[36] = {
        4.25f, -1.8125f, 4.25f, 6.375f, 0.3125f, 6.375f,
        0.0f, 6.0625f, 4.5625f, 6.0625f, 4.5625f, 2.125f,
        4.25f, 6.6875f, 4.25f, 6.375f, 4.875f, 6.375f,
        0.9375f, 7.0f, 4.5625f, 7.0f, 4.5625f, 3.0625f,
        5.1875f, 6.6875f, 5.1875f, 7.3125f, 4.875f, 7.3125f,
        0.9375f, 7.0f, 0.9375f, 7.0f, -3.0f, 3.0625f,
    };
    static const int64_t want_idx[36] = {
        7, 6, 7, 10, 9, 10,
        1, 2, 15, 2, 15, 4,
        7, 18, 7, 10, 23, 10,
        25, 26, 15, 26, 15, 28,
        31, 18, 31, 34, 23, 34,
        25, 26, 25, 26, 27, 28,
    };
    check_run(g, SHP(1, 1, 6, 6), want, want_idx);
}

Test(pool_run, max_pool_same_upper_vs_same_lower)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 2);
    SET_INTS(g, n, "kernel_shape", 2, 2);
    SET_INTS(g, n, "strides", 2, 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    {
        static const float want[9] = {
            0.0f, 6.0625f, 2.125f, 6.375f, 6.6875f, -1.5f,
            2.75f, 4.875f, -5.125f,
        };
        static const int64_t want_idx[9] = {
            1, 2, 4, 10, 18, 14,
            20, 23, 24,
        };
        check_run(g, SHP(1, 1, 3, 3), want, want_idx);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 5, 5), 2);
    SET_INTS(g, n, "kernel_shape", 2, 2);
    SET_INTS(g, n, "strides", 2, 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    {
        static const float want[9] = {
            -6.0625f, 6.0625f, 2.125f, 6.375f, 4.25f, 0.3125f,
            4.5625f, 0.625f, 6.6875f,
        };
        static const int64_t want_idx[9] = {
            0, 2, 4, 10, 7, 9,
            15, 17, 18,
        };
        check_run(g, SHP(1, 1, 3, 3), want, want_idx);
    }
}

Test(pool_run, max_pool_3d)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 3, 4, 4), 2);
    SET_INTS(g, n, "kernel_shape", 2, 2, 2);
    SET_INTS(g, n, "strides", 1, 2, 2);
    SET_INTS(g, n, "pads", 0, 1, 0, 1, 0, 1);
    static const float want[12] = {
        0.625f, 6.6875f, 2.75f, 7.0f, 1.25f, 7.3125f,
        3.375f, 7.625f, 1.25f, 7.3125f, 3.375f, 7.625f,
    };
    static const int64_t want_idx[12] = {
        17, 18, 20, 26, 33, 34,
        36, 42, 33, 34, 36, 42,
    };
    check_run(g, SHP(1, 1, 3, 2, 2), want, want_idx);
}

Test(pool_run, max_pool_nan_and_ties)
{
    /* NaN loses to numbers (a window of only NaN gives NaN); ties keep the
     * first element in row-major window order */
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_MAX_POOL, SHP(1, 1, 6), 2);
    SET_INTS(g, n, "kernel_shape", 2);
    SET_INTS(g, n, "strides", 2);
    tl_infer_ok(g);
    float x[6] = {NAN, 1.0f, NAN, NAN, 2.0f, 2.0f}, y[3];
    int64_t idx[3];
    tl_run(g, (const void *[]){x}, (void *[]){y, idx});
    cr_assert_eq(y[0], 1.0f);
    cr_assert_eq(idx[0], 1);
    cr_assert(isnan(y[1]));
    cr_assert_eq(y[2], 2.0f);
    cr_assert_eq(idx[2], 4);
    ir_graph_free(g);
}

Test(pool_run, average_pool_ceil_mode_count_include_pad)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 2, 4, 7), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "pads", 1, 1, 0, 0);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_node_set_int(g, n, "count_include_pad", 1);
    {
        static const float want[16] = {
            -0.840277791f, 0.340277791f, -0.5f, -2.46875f, -0.763888896f, -0.0833333358f,
            1.33333337f, -0.28125f, -0.354166657f, -0.715277791f, 0.229166672f, 0.9375f,
            1.75f, 0.118055552f, -0.25f, 0.8125f,
        };
        check_run(g, SHP(1, 2, 2, 4), want, NULL);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 2, 4, 7), 1);
    SET_INTS(g, n, "kernel_shape", 3, 3);
    SET_INTS(g, n, "strides", 2, 2);
    SET_INTS(g, n, "pads", 1, 1, 0, 0);
    ir_node_set_int(g, n, "ceil_mode", 1);
    {
        static const float want[16] = {
            -1.890625f, 0.510416687f, -0.75f, -3.703125f, -1.14583337f, -0.0833333358f,
            1.33333337f, -0.28125f, -0.796875f, -1.07291663f, 0.34375f, 1.40625f,
            2.625f, 0.118055552f, -0.25f, 0.8125f,
        };
        check_run(g, SHP(1, 2, 2, 4), want, NULL);
    }
}

Test(pool_run, average_pool_same_upper_vs_same_lower)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 7), 1);
    SET_INTS(g, n, "kernel_shape", 4);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    ir_node_set_int(g, n, "count_include_pad", 1);
    {
        static const float want[7] = {
            0.0f, -0.984375f, 1.0625f, -0.90625f, -2.875f, -1.890625f,
            -2.421875f,
        };
        check_run(g, SHP(1, 1, 7), want, NULL);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 7), 1);
    SET_INTS(g, n, "kernel_shape", 4);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    ir_node_set_int(g, n, "count_include_pad", 1);
    {
        static const float want[7] = {
            -1.515625f, 0.0f, -0.984375f, 1.0625f, -0.90625f, -2.875f,
            -1.890625f,
        };
        check_run(g, SHP(1, 1, 7), want, NULL);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 7), 1);
    SET_INTS(g, n, "kernel_shape", 4);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    {
        static const float want[7] = {
            -3.03125f, 0.0f, -0.984375f, 1.0625f, -0.90625f, -2.875f,
            -2.52083325f,
        };
        check_run(g, SHP(1, 1, 7), want, NULL);
    }
}

Test(pool_run, average_pool_dilation)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 7, 6), 1);
    SET_INTS(g, n, "kernel_shape", 2, 3);
    SET_INTS(g, n, "dilations", 2, 2);
    SET_INTS(g, n, "pads", 1, 0, 1, 2);
    ir_node_set_int(g, n, "count_include_pad", 1);
    {
        static const float want[28] = {
            -0.197916672f, 0.15625f, 0.104166664f, -0.552083313f, -0.395833343f, -2.36458325f,
            0.208333328f, -1.10416663f, 1.17708337f, -0.791666687f, 0.364583343f, -0.947916687f,
            0.0729166642f, -1.89583337f, 0.520833313f, -0.791666687f, 1.64583337f, -0.322916657f,
            0.677083313f, -0.635416687f, 0.541666687f, -1.42708337f, 0.833333313f, -0.479166657f,
            0.270833343f, 0.625f, 0.416666657f, -0.239583328f,
        };
        check_run(g, SHP(1, 1, 7, 4), want, NULL);
    }
    g = tl_graph("t");
    n = pool_node(g, IR_OP_AVERAGE_POOL, SHP(1, 1, 7, 6), 1);
    SET_INTS(g, n, "kernel_shape", 2, 3);
    SET_INTS(g, n, "dilations", 2, 2);
    SET_INTS(g, n, "pads", 1, 0, 1, 2);
    {
        static const float want[28] = {
            -0.395833343f, 0.3125f, 0.3125f, -1.65625f, -0.395833343f, -2.36458325f,
            0.3125f, -1.65625f, 1.17708337f, -0.791666687f, 0.546875f, -1.421875f,
            0.0729166642f, -1.89583337f, 0.78125f, -1.1875f, 1.64583337f, -0.322916657f,
            1.015625f, -0.953125f, 0.541666687f, -1.42708337f, 1.25f, -0.71875f,
            0.541666687f, 1.25f, 1.25f, -0.71875f,
        };
        check_run(g, SHP(1, 1, 7, 4), want, NULL);
    }
}

Test(pool_run, global_average_pool)
{
    ir_graph *g = tl_graph("t");
    one_node(g, IR_OP_GLOBAL_AVERAGE_POOL, 1, (shp[]){SHP(2, 3, 3, 4)}, 1);
    {
        static const float want[6] = {
            -0.828125f, -0.359375f, 0.109375f, 0.578125f, -0.291666657f, 0.177083328f,
        };
        check_run(g, SHP(2, 3, 1, 1), want, NULL);
    }
    g = tl_graph("t");
    one_node(g, IR_OP_GLOBAL_AVERAGE_POOL, 1, (shp[]){SHP(1, 2, 5)}, 1);
    {
        static const float want[2] = {
            -0.362500012f, -2.17499995f,
        };
        check_run(g, SHP(1, 2, 1), want, NULL);
    }
}

/* ---- interpreter: BatchNormalization ---- */

/* X from fill(seed 1); the per-channel parameters are constants. */
static ir_node *bn_const_node(ir_graph *g, shp x)
{
    ir_value *ins[5];
    ins[0] = tl_input(g, "x", IR_DTYPE_F32, x.rank, x.d);
    ins[1] = tl_const_f32(g, "scale", 1, (int64_t[]){3}, (float[]){0.5f, -1.25f, 2.0f});
    ins[2] = tl_const_f32(g, "b", 1, (int64_t[]){3}, (float[]){0.1f, 0.2f, -0.3f});
    ins[3] = tl_const_f32(g, "mean", 1, (int64_t[]){3}, (float[]){0.25f, -0.5f, 1.0f});
    ins[4] = tl_const_f32(g, "var", 1, (int64_t[]){3}, (float[]){0.5f, 2.0f, 0.125f});
    return tl_node(g, IR_OP_BATCH_NORMALIZATION, "n", 5, ins, 1, "y");
}

Test(bn_run, nchw_with_epsilon)
{
    ir_graph *g = tl_graph("t");
    ir_node *n = bn_const_node(g, SHP(2, 3, 2, 2));
    ir_node_set_float(g, n, "epsilon", 1e-3f);
    static const float want[24] = {
        -4.3591547f, -0.0766001865f, 4.20595455f, -2.85805297f, -2.11961436f, 6.71701193f,
        1.35980725f, -3.99739742f, -38.3319397f, -4.17362404f, 29.9846935f, -26.358923f,
        1.64525163f, -5.41875553f, -1.13620126f, 3.14635324f, 4.56308413f, -0.794120431f,
        -6.15132523f, 2.6853013f, 9.56013298f, -46.7834816f, -12.6251659f, 21.5331516f,
    };
    check_run(g, SHP(2, 3, 2, 2), want, NULL);
}

Test(bn_run, rank2_default_epsilon)
{
    ir_graph *g = tl_graph("t");
    bn_const_node(g, SHP(2, 3));
    static const float want[6] = {
        -4.36356688f, -0.241940603f, 28.3366776f, -2.8609798f, -2.12018824f, -50.5025711f,
    };
    check_run(g, SHP(2, 3), want, NULL);
}
