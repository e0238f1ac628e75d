/*
 * Lowering of the convolution family (backend/lower/lower_conv.c): graphs of
 * Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool and
 * BatchNormalization nodes in every attribute form, compiled with the C
 * backend (OpenBLAS and standalone builds) and compared with the
 * interpreter by tl_check_c. Several nodes share one graph to keep the
 * number of C compilations small. Also checks which runtime kernels each
 * form calls, and the diagnostic for a spatial rank the lowering rejects.
 */
#include <stdlib.h>

#include "ir_fused.h"
#include "loomrt.h"
#include "lower.h"
#include "testlib.h"

/* f32 GEMMs against the interpreter's double sums */
#define ATOL 1e-4f
#define RTOL 1e-4f

/* A shape literal: SHP(1, 3, 5, 5). */
typedef struct shp {
    int rank;
    int64_t d[IR_MAX_RANK];
} shp;
#define NARGS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define SHP(...) ((shp){NARGS(__VA_ARGS__), {__VA_ARGS__}})
#define INTS(n, name, ...) \
    ir_node_set_ints(g, n, name, (int64_t[]){__VA_ARGS__}, NARGS(__VA_ARGS__))

static uint32_t next_seed = 100;

/* A constant of dtype t with values in [-1, 1) (or in [lo, lo + 1) when
 * positive is set, for variances). */
static ir_value *cst(ir_graph *g, const char *name, ir_dtype t, shp s, bool positive)
{
    ir_shape sh = {.rank = s.rank};
    memcpy(sh.dims, s.d, sizeof s.d);
    int64_t n = ir_shape_numel(&sh);
    void *p = calloc((size_t)n + 1, ir_dtype_size(t));
    tl_fill(p, t, n, next_seed++);
    for (int64_t i = 0; positive && i < n; i++) {
        if (t == IR_DTYPE_F32)
            ((float *)p)[i] = fabsf(((float *)p)[i]) + 0.25f;
        else
            ((double *)p)[i] = fabs(((double *)p)[i]) + 0.25;
    }
    ir_value *v = tl_const(g, name, t, s.rank, s.d, p);
    free(p);
    return v;
}

static ir_value *f32(ir_graph *g, const char *name, shp s)
{
    return cst(g, name, IR_DTYPE_F32, s, false);
}

static ir_value *in(ir_graph *g, const char *name, ir_dtype t, shp s)
{
    return tl_input(g, name, t, s.rank, s.d);
}

/* A node named after its output `out` (and out_idx for a second output). */
static ir_node *node(ir_graph *g, ir_op op, const char *out, int n_in, ir_value **ins, int n_out)
{
    char name[64], idx[64];
    snprintf(name, sizeof name, "n_%s", out);
    snprintf(idx, sizeof idx, "%s_idx", out);
    return tl_node(g, op, name, n_in, ins, n_out, out, idx);
}

static ir_node *conv(ir_graph *g, ir_op op, const char *out, ir_value *x, ir_value *w, ir_value *b)
{
    return node(g, op, out, b ? 3 : 2, (ir_value *[]){x, w, b}, 1);
}

/* The value `name` of g. */
static ir_value *val(ir_graph *g, const char *name)
{
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i]->name, name) == 0)
            return g->values[i];
    cr_assert_fail("no value %s", name);
    return NULL;
}

/* Infers, compiles, runs and compares every output; frees g. */
static void check(ir_graph *g)
{
    tl_infer_ok(g);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

Test(lower_conv, conv_2d_forms)
{
    ir_graph *g = tl_graph("conv2d");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 4, 7, 6));
    ir_node *n = conv(g, IR_OP_CONV, "bias", x, f32(g, "w0", SHP(3, 4, 3, 3)), f32(g, "b0", SHP(3)));
    INTS(n, "kernel_shape", 3, 3);
    n = conv(g, IR_OP_CONV, "strided", x, in(g, "w1", IR_DTYPE_F32, SHP(5, 4, 3, 2)), NULL);
    INTS(n, "strides", 2, 3);
    INTS(n, "pads", 1, 0, 2, 1);
    INTS(n, "dilations", 2, 1);
    n = conv(g, IR_OP_CONV, "group", x, f32(g, "w2", SHP(6, 2, 3, 3)), f32(g, "b2", SHP(6)));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = conv(g, IR_OP_CONV, "depthwise", x, f32(g, "w3", SHP(4, 1, 3, 3)), f32(g, "b3", SHP(4)));
    ir_node_set_int(g, n, "group", 4);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", 2, 2);
    /* depthwise with a channel multiplier of 2 */
    n = conv(g, IR_OP_CONV, "depthwise_x2", x, f32(g, "w3b", SHP(8, 1, 2, 3)), NULL);
    ir_node_set_int(g, n, "group", 4);
    INTS(n, "pads", 0, 2, 1, 1);
    INTS(n, "dilations", 2, 1);
    n = conv(g, IR_OP_CONV, "same_upper", x, f32(g, "w4", SHP(3, 4, 3, 2)), NULL);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV, "same_lower", x, f32(g, "w5", SHP(3, 4, 2, 3)), f32(g, "b5", SHP(3)));
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    INTS(n, "strides", 2, 1);
    INTS(n, "dilations", 1, 2);
    conv(g, IR_OP_CONV, "pointwise", x, f32(g, "w6", SHP(5, 4, 1, 1)), f32(g, "b6", SHP(5)));
    n = conv(g, IR_OP_CONV, "pointwise_group", x, f32(g, "w7", SHP(6, 2, 1, 1)), NULL);
    ir_node_set_int(g, n, "group", 2);
    n = conv(g, IR_OP_CONV, "pointwise_stride", x, f32(g, "w8", SHP(3, 4, 1, 1)), NULL);
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV, "valid", x, f32(g, "w9", SHP(2, 4, 4, 4)), NULL);
    ir_node_set_string(g, n, "auto_pad", "VALID");
    /* kernel 1 with pads 2 and stride 3: some outputs see only padding */
    n = conv(g, IR_OP_CONV, "pad_only", x, f32(g, "w10", SHP(2, 4, 1, 1)), f32(g, "b10", SHP(2)));
    INTS(n, "pads", 2, 2, 2, 2);
    INTS(n, "strides", 3, 3);
    check(g);
}

Test(lower_conv, conv_1d_3d)
{
    ir_graph *g = tl_graph("conv13");
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 3, 9));
    ir_node *n = conv(g, IR_OP_CONV, "c1", x1, f32(g, "w0", SHP(4, 3, 3)), f32(g, "b0", SHP(4)));
    INTS(n, "pads", 1, 2);
    INTS(n, "strides", 2);
    INTS(n, "dilations", 2);
    conv(g, IR_OP_CONV, "c1_pointwise", x1, f32(g, "w1", SHP(2, 3, 1)), NULL);
    n = conv(g, IR_OP_CONV, "c1_depthwise", x1, f32(g, "w2", SHP(3, 1, 2)), NULL);
    ir_node_set_int(g, n, "group", 3);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(2, 4, 5, 6, 4));
    n = conv(g, IR_OP_CONV, "c3", x3, f32(g, "w3", SHP(3, 4, 3, 2, 3)), f32(g, "b3", SHP(3)));
    INTS(n, "pads", 1, 0, 1, 0, 1, 1);
    INTS(n, "strides", 1, 2, 1);
    INTS(n, "dilations", 1, 1, 2);
    n = conv(g, IR_OP_CONV, "c3_group", x3, f32(g, "w4", SHP(4, 2, 2, 2, 2)), NULL);
    ir_node_set_int(g, n, "group", 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    INTS(n, "strides", 2, 2, 2);
    conv(g, IR_OP_CONV, "c3_pointwise", x3, f32(g, "w5", SHP(2, 4, 1, 1, 1)), f32(g, "b5", SHP(2)));
    /* depth 1 padded by 1 with stride 3: the only depth tap is padding */
    ir_value *x3b = in(g, "x3b", IR_DTYPE_F32, SHP(1, 2, 1, 3, 3));
    n = conv(g, IR_OP_CONV, "c3_pad_only", x3b, f32(g, "w6", SHP(2, 2, 1, 2, 2)), f32(g, "b6", SHP(2)));
    INTS(n, "pads", 1, 0, 0, 1, 1, 1);
    INTS(n, "strides", 3, 1, 1);
    check(g);
}

Test(lower_conv, conv_f64_direct)
{
    ir_graph *g = tl_graph("conv64");
    ir_dtype d = IR_DTYPE_F64;
    ir_value *x = in(g, "x", d, SHP(2, 4, 6, 5));
    ir_node *n = conv(g, IR_OP_CONV, "c2", x, cst(g, "w0", d, SHP(4, 2, 3, 3), false),
                      cst(g, "b0", d, SHP(4), false));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 1, 0, 2, 1);
    INTS(n, "strides", 2, 1);
    INTS(n, "dilations", 1, 2);
    conv(g, IR_OP_CONV, "c2_pointwise", x, in(g, "w1", d, SHP(3, 4, 1, 1)), NULL);
    ir_value *x1 = in(g, "x1", d, SHP(1, 2, 7));
    n = conv(g, IR_OP_CONV, "c1", x1, cst(g, "w2", d, SHP(3, 2, 3), false), NULL);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    ir_value *x3 = in(g, "x3", d, SHP(1, 2, 4, 3, 5));
    n = conv(g, IR_OP_CONV, "c3", x3, cst(g, "w3", d, SHP(2, 2, 2, 3, 2), false),
             cst(g, "b3", d, SHP(2), false));
    INTS(n, "pads", 1, 1, 0, 0, 1, 1);
    INTS(n, "strides", 2, 1, 2);
    ir_value *xb = in(g, "xb", d, SHP(1, 2, 1, 5));
    n = conv(g, IR_OP_CONV, "pad_only", xb, cst(g, "w4", d, SHP(2, 2, 1, 1), false),
             cst(g, "b4", d, SHP(2), false));
    INTS(n, "pads", 1, 0, 1, 0);
    INTS(n, "strides", 3, 1);
    check(g);
}

Test(lower_conv, conv_transpose_2d)
{
    ir_graph *g = tl_graph("convt2d");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 4, 5, 4));
    conv(g, IR_OP_CONV_TRANSPOSE, "basic", x, f32(g, "w0", SHP(4, 3, 3, 3)), f32(g, "b0", SHP(3)));
    ir_node *n = conv(g, IR_OP_CONV_TRANSPOSE, "stride", x, in(g, "w1", IR_DTYPE_F32, SHP(4, 2, 3, 3)),
                      NULL);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 0, 1, 1);
    INTS(n, "output_padding", 1, 0);
    /* output_shape one past the full output: pad_end -1, a bias-only row */
    n = conv(g, IR_OP_CONV_TRANSPOSE, "oshape_big", x, f32(g, "w2", SHP(4, 2, 3, 3)),
             f32(g, "b2", SHP(2)));
    INTS(n, "strides", 2, 2);
    INTS(n, "output_shape", 12, 10);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "oshape_small", x, f32(g, "w3", SHP(4, 2, 3, 3)), NULL);
    INTS(n, "strides", 2, 2);
    INTS(n, "output_shape", 1, 2, 9, 7);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "group", x, f32(g, "w4", SHP(4, 3, 3, 2)), f32(g, "b4", SHP(6)));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "dilations", 2, 1);
    INTS(n, "strides", 1, 2);
    conv(g, IR_OP_CONV_TRANSPOSE, "pointwise", x, f32(g, "w5", SHP(4, 5, 1, 1)), f32(g, "b5", SHP(5)));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "pointwise_group", x, f32(g, "w6", SHP(4, 3, 1, 1)), NULL);
    ir_node_set_int(g, n, "group", 2);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "same_upper", x, f32(g, "w7", SHP(4, 2, 3, 3)), NULL);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "same_lower", x, f32(g, "w8", SHP(4, 2, 2, 3)),
             f32(g, "b8", SHP(2)));
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    INTS(n, "strides", 2, 3);
    /* kernel 1 but output_padding 1 (dilation 2): not pointwise */
    n = conv(g, IR_OP_CONV_TRANSPOSE, "k1_outpad", x, f32(g, "w9", SHP(4, 2, 1, 1)),
             f32(g, "b9", SHP(2)));
    INTS(n, "dilations", 2, 2);
    INTS(n, "output_padding", 1, 1);
    check(g);
}

Test(lower_conv, conv_transpose_1d_3d_f64)
{
    ir_graph *g = tl_graph("convt13");
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 3, 6));
    ir_node *n = conv(g, IR_OP_CONV_TRANSPOSE, "t1", x1, f32(g, "w0", SHP(3, 2, 4)),
                      f32(g, "b0", SHP(2)));
    INTS(n, "strides", 3);
    INTS(n, "pads", 1, 2);
    INTS(n, "output_padding", 1);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(2, 4, 3, 4, 2));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "t3", x3, f32(g, "w1", SHP(4, 2, 2, 3, 2)), f32(g, "b1", SHP(4)));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "strides", 2, 1, 2);
    INTS(n, "pads", 1, 1, 0, 0, 0, 1);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "t3_oshape", x3, f32(g, "w2", SHP(4, 1, 2, 2, 2)), NULL);
    INTS(n, "strides", 2, 2, 2);
    INTS(n, "output_shape", 7, 8, 5);
    conv(g, IR_OP_CONV_TRANSPOSE, "t3_pointwise", x3, f32(g, "w3", SHP(4, 3, 1, 1, 1)), NULL);
    ir_dtype d = IR_DTYPE_F64;
    ir_value *x64 = in(g, "x64", d, SHP(2, 4, 4, 3));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "t64", x64, cst(g, "w4", d, SHP(4, 2, 3, 3), false),
             cst(g, "b4", d, SHP(4), false));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "strides", 2, 3);
    INTS(n, "pads", 0, 1, 1, 0);
    INTS(n, "output_padding", 1, 2);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "t64_oshape", x64, cst(g, "w5", d, SHP(4, 1, 2, 2), false), NULL);
    INTS(n, "strides", 2, 2);
    INTS(n, "output_shape", 9, 7);
    ir_value *x64_3 = in(g, "x64_3", d, SHP(1, 2, 2, 3, 2));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "t64_3", x64_3, cst(g, "w6", d, SHP(2, 2, 2, 1, 2), false),
             NULL);
    INTS(n, "strides", 1, 2, 2);
    INTS(n, "pads", 1, 0, 0, 0, 0, 1);
    check(g);
}

Test(lower_conv, max_pool)
{
    ir_graph *g = tl_graph("maxpool");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 9, 8));
    ir_node *n = node(g, IR_OP_MAX_POOL, "basic", 1, &x, 2);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_MAX_POOL, "col_major", 1, &x, 2);
    INTS(n, "kernel_shape", 2, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 0, 0, 2);
    ir_node_set_int(g, n, "storage_order", 1);
    n = node(g, IR_OP_MAX_POOL, "ceil", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    n = node(g, IR_OP_MAX_POOL, "dilated", 1, &x, 2);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "dilations", 2, 3);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", 2, 1);
    ir_node_set_int(g, n, "ceil_mode", 1);
    n = node(g, IR_OP_MAX_POOL, "same_upper", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 2);
    INTS(n, "strides", 2, 3);
    ir_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 3, 10));
    n = node(g, IR_OP_MAX_POOL, "p1", 1, &x1, 2);
    INTS(n, "kernel_shape", 3);
    INTS(n, "strides", 3);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(1, 2, 5, 4, 6));
    n = node(g, IR_OP_MAX_POOL, "p3", 1, &x3, 2);
    INTS(n, "kernel_shape", 2, 3, 2);
    INTS(n, "pads", 1, 1, 0, 0, 1, 1);
    INTS(n, "strides", 2, 1, 2);
    ir_value *x64 = in(g, "x64", IR_DTYPE_F64, SHP(1, 2, 6, 6));
    n = node(g, IR_OP_MAX_POOL, "p64", 1, &x64, 2);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_MAX_POOL, "p64_noidx", 1, &x64, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    check(g);
}

/* NaN taps: a window's max is the max of its numbers, NaN only when every
 * tap is NaN; Indices then point at the first tap. */
Test(lower_conv, max_pool_nan)
{
    ir_graph *g = tl_graph("maxpool_nan");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 1, 4, 5));
    ir_node *n = node(g, IR_OP_MAX_POOL, "idx", 1, &x, 2);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_MAX_POOL, "val", 1, &x, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    tl_infer_ok(g);
    float q = NAN;
    float data[20] = {q, q, 1, q, -2, q, q, q, 3, q, -1, q, q, q, q, 2, q, -3, q, 0.5f};
    tl_check_c(g, (const void *[]){data}, 0, 0);
    ir_graph_free(g);
}

/* Values-only 2-D MaxPool with more taps than rows plus columns runs as
 * two 1-D passes (lower_conv.c max_pool_separable): border rows with
 * guarded kernel rows, NaN padding columns, ceil_mode columns past the
 * padding, dilations, an input shorter than the kernel (every row a
 * border), f64. */
Test(lower_conv, max_pool_separable)
{
    ir_graph *g = tl_graph("maxpool_sep");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 11, 10));
    ir_node *n = node(g, IR_OP_MAX_POOL, "s2", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_MAX_POOL, "dil", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "dilations", 2, 1);
    INTS(n, "pads", 2, 0, 1, 2);
    n = node(g, IR_OP_MAX_POOL, "ceil", 1, &x, 1);
    INTS(n, "kernel_shape", 4, 3);
    INTS(n, "strides", 3, 2);
    INTS(n, "pads", 0, 1, 2, 0);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_value *xs = in(g, "xs", IR_DTYPE_F32, SHP(1, 2, 2, 9));
    n = node(g, IR_OP_MAX_POOL, "short", 1, &xs, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *x64 = in(g, "x64", IR_DTYPE_F64, SHP(1, 2, 7, 8));
    n = node(g, IR_OP_MAX_POOL, "p64", 1, &x64, 1);
    INTS(n, "kernel_shape", 3, 4);
    INTS(n, "strides", 2, 3);
    INTS(n, "pads", 1, 2, 1, 2);
    check(g);
}

/* The separable MaxPool on NaN taps: numbers win, all-NaN windows give
 * NaN, in border and interior rows. */
Test(lower_conv, max_pool_separable_nan)
{
    ir_graph *g = tl_graph("maxpool_sep_nan");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 1, 5, 6));
    ir_node *n = node(g, IR_OP_MAX_POOL, "val", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "pads", 1, 1, 1, 1);
    tl_infer_ok(g);
    float q = NAN;
    float data[30] = {q, q, q, q, 1, q, q, q, q, q, q, -2, q, q, q, q, q, q,
                      3, q, q, q, q, q, q, -1, q, q, q, 0.5f};
    tl_check_c(g, (const void *[]){data}, 0, 0);
    ir_graph_free(g);
}

Test(lower_conv, average_pool)
{
    ir_graph *g = tl_graph("avgpool");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 9, 8));
    ir_node *n = node(g, IR_OP_AVERAGE_POOL, "exclude_pad", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_AVERAGE_POOL, "include_pad", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 2, 2, 1);
    ir_node_set_int(g, n, "count_include_pad", 1);
    /* ceil_mode windows that run past the end pad: those taps never count */
    n = node(g, IR_OP_AVERAGE_POOL, "ceil_include", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 0, 0);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_node_set_int(g, n, "count_include_pad", 1);
    n = node(g, IR_OP_AVERAGE_POOL, "ceil_exclude", 1, &x, 1);
    INTS(n, "kernel_shape", 2, 3);
    INTS(n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    n = node(g, IR_OP_AVERAGE_POOL, "dilated", 1, &x, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "dilations", 2, 2);
    INTS(n, "pads", 1, 0, 1, 1);
    ir_node_set_int(g, n, "count_include_pad", 1);
    n = node(g, IR_OP_AVERAGE_POOL, "same_lower", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    ir_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    n = node(g, IR_OP_AVERAGE_POOL, "unpadded", 1, &x, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 3, 10));
    n = node(g, IR_OP_AVERAGE_POOL, "p1", 1, &x1, 1);
    INTS(n, "kernel_shape", 4);
    INTS(n, "strides", 3);
    INTS(n, "pads", 2, 1);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(1, 2, 5, 4, 6));
    n = node(g, IR_OP_AVERAGE_POOL, "p3", 1, &x3, 1);
    INTS(n, "kernel_shape", 2, 3, 2);
    INTS(n, "pads", 1, 1, 0, 0, 1, 1);
    INTS(n, "strides", 2, 1, 2);
    ir_node_set_int(g, n, "count_include_pad", 1);
    ir_value *x64 = in(g, "x64", IR_DTYPE_F64, SHP(1, 2, 6, 6));
    n = node(g, IR_OP_AVERAGE_POOL, "p64", 1, &x64, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_node_set_int(g, n, "ceil_mode", 1);
    check(g);
}

Test(lower_conv, global_pool_and_batchnorm)
{
    ir_graph *g = tl_graph("gapbn");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 5, 4));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap2", 1, &x, 1);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 3, 7));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap1", 1, &x1, 1);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F64, SHP(1, 2, 3, 2, 2));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap3", 1, &x3, 1);
    node(g, IR_OP_GLOBAL_MAX_POOL, "gmp2", 1, &x, 1);
    node(g, IR_OP_GLOBAL_MAX_POOL, "gmp1", 1, &x1, 1);
    node(g, IR_OP_GLOBAL_MAX_POOL, "gmp3", 1, &x3, 1);
    /* planes summed in 16 lanes: exactly 32 elements, 33 (one left over),
     * 13x13 (9 left over), and f64 7x7 */
    ir_value *xl = in(g, "xl", IR_DTYPE_F32, SHP(2, 3, 4, 8));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap_l32", 1, &xl, 1);
    ir_value *xl1 = in(g, "xl1", IR_DTYPE_F32, SHP(1, 5, 33));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap_l33", 1, &xl1, 1);
    ir_value *xl2 = in(g, "xl2", IR_DTYPE_F32, SHP(1, 7, 13, 13));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap_l169", 1, &xl2, 1);
    ir_value *xl3 = in(g, "xl3", IR_DTYPE_F64, SHP(2, 2, 7, 7));
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap_l49", 1, &xl3, 1);
    ir_value *p[5] = {x, f32(g, "scale", SHP(3)), f32(g, "bias", SHP(3)), f32(g, "mean", SHP(3)),
                      cst(g, "var", IR_DTYPE_F32, SHP(3), true)};
    ir_node *n = node(g, IR_OP_BATCH_NORMALIZATION, "bn4", 5, p, 1);
    ir_node_set_float(g, n, "epsilon", 1e-3f);
    /* rank 2 [N, C]; the parameters as graph inputs (variance kept positive
     * by a constant) */
    ir_value *q[5] = {in(g, "x2", IR_DTYPE_F32, SHP(4, 3)), in(g, "s2", IR_DTYPE_F32, SHP(3)),
                      in(g, "b2", IR_DTYPE_F32, SHP(3)), in(g, "m2", IR_DTYPE_F32, SHP(3)),
                      cst(g, "v2", IR_DTYPE_F32, SHP(3), true)};
    node(g, IR_OP_BATCH_NORMALIZATION, "bn2", 5, q, 1);
    /* rank 1: one channel */
    ir_value *r[5] = {in(g, "xr1", IR_DTYPE_F32, SHP(5)), f32(g, "s1", SHP(1)),
                      f32(g, "b1", SHP(1)), f32(g, "m1", SHP(1)),
                      cst(g, "v1", IR_DTYPE_F32, SHP(1), true)};
    node(g, IR_OP_BATCH_NORMALIZATION, "bn1", 5, r, 1);
    /* f64 data with f32 statistics */
    ir_value *t[5] = {x3, f32(g, "s3", SHP(2)), f32(g, "b3", SHP(2)), f32(g, "m3", SHP(2)),
                      cst(g, "v3", IR_DTYPE_F32, SHP(2), true)};
    node(g, IR_OP_BATCH_NORMALIZATION, "bn64", 5, t, 1);
    check(g);
}

/* Intermediates in the arena: Conv -> BN -> MaxPool -> ConvTranspose ->
 * AveragePool -> GlobalAveragePool. */
Test(lower_conv, chain)
{
    ir_graph *g = tl_graph("chain");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 3, 12, 10));
    ir_node *n = conv(g, IR_OP_CONV, "c", x, f32(g, "w", SHP(8, 3, 3, 3)), f32(g, "b", SHP(8)));
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *p[5] = {val(g, "c"), f32(g, "s", SHP(8)), f32(g, "sh", SHP(8)), f32(g, "m", SHP(8)),
                      cst(g, "v", IR_DTYPE_F32, SHP(8), true)};
    node(g, IR_OP_BATCH_NORMALIZATION, "bn", 5, p, 1);
    ir_value *bn = val(g, "bn");
    n = node(g, IR_OP_MAX_POOL, "mp", 1, &bn, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "ct", val(g, "mp"), f32(g, "wt", SHP(8, 4, 2, 2)), NULL);
    INTS(n, "strides", 2, 2);
    ir_value *ct = val(g, "ct");
    n = node(g, IR_OP_AVERAGE_POOL, "ap", 1, &ct, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *ap = val(g, "ap");
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &ap, 1);
    check(g);
}

/* ---- the shape of the lowered code ---- */

/* Counts CALLs of kernel k in block b (recursively). */
static int count_calls(const loop_block *b, loop_kernel k)
{
    int count = 0;
    for (int i = 0; i < b->n; i++) {
        const loop_stmt *s = b->stmts[i];
        if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF)
            count += count_calls(&s->body, k);
        if (s->kind == LOOP_STMT_CALL && s->kernel == k)
            count += 1;
    }
    return count;
}

/* The index of step `name` in f. */
static int step_index(const loop_func *f, const char *name)
{
    for (int s = 0; s < f->n_steps; s++)
        if (strcmp(f->steps[s]->node_name, name) == 0)
            return s;
    cr_assert_fail("no step %s", name);
    return -1;
}

/* The first call of kernel k in block b (recursively), or NULL. */
static const loop_stmt *find_call(const loop_block *b, loop_kernel k)
{
    for (int i = 0; i < b->n; i++) {
        const loop_stmt *s = b->stmts[i], *in_body = NULL;
        if (s->kind == LOOP_STMT_CALL && s->kernel == k)
            return s;
        if ((s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF) &&
            (in_body = find_call(&s->body, k)))
            return in_body;
    }
    return NULL;
}

/* The number of calls of kernel k in step `name`, -1 without the step. */
static int step_calls(const loop_func *f, const char *name, loop_kernel k)
{
    for (int s = 0; s < f->n_steps; s++)
        if (strcmp(f->steps[s]->node_name, name) == 0)
            return count_calls(&f->steps[s]->body, k);
    return -1;
}

/* Checks that each of the n steps names[i] makes want[i] calls of kernel k. */
static void expect_step_calls(const loop_func *f, loop_kernel k, const char *const *names,
                              const int *want, int n)
{
    for (int i = 0; i < n; i++) {
        int calls = step_calls(f, names[i], k);
        cr_expect_eq(calls, want[i], "%s: %d %s calls, want %d", names[i], calls,
                     loop_kernel_name(k), want[i]);
    }
}

/* g inferred, lowered and verified (d keeps the diagnostics). */
static loop_func *lowered(ir_graph *g, ir_diag *d)
{
    tl_infer_ok(g);
    ir_diag_init(d);
    loop_func *f = NULL;
    cr_assert_eq(lower_graph(g, "m", &f, d), LOOM_STATUS_OK, "lowering failed: %s",
                 d->text ? d->text : "");
    cr_assert_eq(loop_verify(f, d), LOOM_STATUS_OK, "%s", d->text ? d->text : "");
    return f;
}

/* The separable MaxPool's planes each have their own scratch row, so its
 * plane loop (the step's outer loop) is marked parallel. */
Test(lower_conv, max_pool_separable_planes_parallel)
{
    ir_graph *g = tl_graph("maxpool_par");
    ir_value *x = in(g, "x", IR_DTYPE_F64, SHP(1, 64, 111, 111)); /* f32 runs loomrt_maxpool2d */
    ir_node *n = node(g, IR_OP_MAX_POOL, "mp", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    int marked = 0;
    cr_assert_eq(loop_parallelize(f, &marked, &d), LOOM_STATUS_OK);
    const loop_stmt *outer = f->steps[0]->body.n ? f->steps[0]->body.stmts[0] : NULL;
    cr_assert(outer && outer->kind == LOOP_STMT_FOR && outer->parallel,
              "the plane loop of the separable MaxPool is not parallel");
    cr_expect_eq(marked, 1);
    loop_func_free(f);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* f32 MaxPool values over windows of 9 taps and more, 1-D and 2-D, and
 * 2x2 at stride 2, run by loomrt_maxpool2d, one call over all planes; a
 * 2x2 window at stride 1, f64, a second output (Indices), 3-D and a row
 * longer than the kernel's take the loops.
 * Then the C build, the standalone build and the JIT against the
 * interpreter. */
Test(lower_conv, max_pool_kernel_choice)
{
    ir_graph *g = tl_graph("maxpool_kernel");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 19, 23));
    ir_node *n = node(g, IR_OP_MAX_POOL, "k2", 1, &x, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(1, 4, 40));
    n = node(g, IR_OP_MAX_POOL, "k1", 1, &x1, 1);
    INTS(n, "kernel_shape", 9);
    INTS(n, "strides", 4);
    n = node(g, IR_OP_MAX_POOL, "k2x2", 1, &x, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    INTS(node(g, IR_OP_MAX_POOL, "small", 1, &x, 1), "kernel_shape", 2, 2);
    n = node(g, IR_OP_MAX_POOL, "idx", 1, &x, 2);
    INTS(n, "kernel_shape", 3, 3);
    ir_value *x64 = in(g, "x64", IR_DTYPE_F64, SHP(1, 2, 6, 6));
    n = node(g, IR_OP_MAX_POOL, "f64", 1, &x64, 1);
    INTS(n, "kernel_shape", 3, 3);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(1, 2, 3, 4, 5));
    n = node(g, IR_OP_MAX_POOL, "k3", 1, &x3, 1);
    INTS(n, "kernel_shape", 3, 3, 3);
    ir_value *xl = in(g, "xl", IR_DTYPE_F32, SHP(1, 1, 3, 5000)); /* the kernel holds 4096 */
    n = node(g, IR_OP_MAX_POOL, "long", 1, &xl, 1);
    INTS(n, "kernel_shape", 3, 3);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const names[] = {"n_k2",  "n_k1", "n_k2x2", "n_small",
                                        "n_idx", "n_f64", "n_k3",   "n_long"};
    static const int want[] = {1, 1, 1, 0, 0, 0, 0, 0};
    expect_step_calls(f, LOOP_KERNEL_MAXPOOL, names, want, 8);
    loop_func_free(f);
    ir_diag_free(&d);
    tl_check_c(g, NULL, 0, 0);
    ir_graph_free(g);
}

/* Checks step `name` makes the given numbers of SGEMM, IM2COL, COL2IM and
 * CONV2D calls. */
static void expect_calls(const loop_func *f, const char *name, int sgemm, int im2col, int col2im,
                         int conv2d)
{
    for (int s = 0; s < f->n_steps; s++) {
        if (strcmp(f->steps[s]->node_name, name) != 0)
            continue;
        const loop_block *b = &f->steps[s]->body;
        cr_expect_eq(count_calls(b, LOOP_KERNEL_SGEMM), sgemm, "%s: sgemm calls", name);
        cr_expect_eq(count_calls(b, LOOP_KERNEL_IM2COL), im2col, "%s: im2col calls", name);
        cr_expect_eq(count_calls(b, LOOP_KERNEL_COL2IM), col2im, "%s: col2im calls", name);
        cr_expect_eq(count_calls(b, LOOP_KERNEL_CONV2D), conv2d, "%s: conv2d calls", name);
        return;
    }
    cr_assert_fail("no step %s", name);
}

Test(lower_conv, gemm_kernels)
{
    ir_graph *g = tl_graph("kernels");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 4, 6, 6));
    conv(g, IR_OP_CONV, "c3x3", x, f32(g, "w0", SHP(3, 4, 3, 3)), NULL);
    conv(g, IR_OP_CONV, "c1x1", x, f32(g, "w1", SHP(3, 4, 1, 1)), f32(g, "b1", SHP(3)));
    ir_value *xw = in(g, "xw", IR_DTYPE_F32, SHP(1, 16, 28, 28));
    ir_node *nw = conv(g, IR_OP_CONV, "wide", xw, f32(g, "w8", SHP(4, 16, 3, 3)), NULL);
    INTS(nw, "pads", 1, 1, 1, 1);
    ir_value *xs = in(g, "xs", IR_DTYPE_F32, SHP(1, 40, 3, 3));
    conv(g, IR_OP_CONV, "narrow", xs, f32(g, "w7", SHP(40, 40, 2, 2)), NULL);
    ir_value *xd = in(g, "xd", IR_DTYPE_F32, SHP(1, 256, 8, 8));
    conv(g, IR_OP_CONV, "deep", xd, f32(g, "wd", SHP(32, 256, 3, 3)), NULL);
    ir_value *xm = in(g, "xm", IR_DTYPE_F32, SHP(1, 8, 10, 10));
    conv(g, IR_OP_CONV, "mid", xm, f32(g, "wm", SHP(6, 8, 3, 3)), NULL);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(1, 2, 3, 3, 3));
    conv(g, IR_OP_CONV, "c3d", x3, f32(g, "w2", SHP(2, 2, 2, 2, 2)), NULL);
    ir_node *n = conv(g, IR_OP_CONV, "depthwise", x, f32(g, "w6", SHP(8, 1, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 4);
    conv(g, IR_OP_CONV_TRANSPOSE, "t3x3", x, f32(g, "w3", SHP(4, 1, 3, 3)), NULL);
    conv(g, IR_OP_CONV_TRANSPOSE, "t1x1", x, f32(g, "w4", SHP(4, 2, 1, 1)), NULL);
    conv(g, IR_OP_CONV_TRANSPOSE, "t3d", x3, f32(g, "w5", SHP(2, 2, 2, 2, 2)), NULL);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    expect_calls(f, "n_c3x3", 1, 0, 0, 0); /* a 4x4 plane: im2col as a loop nest */
    expect_calls(f, "n_mid", 1, 1, 0, 0);  /* an 8x8 plane: the runtime's im2col */
    expect_calls(f, "n_wide", 0, 0, 0, 1); /* implicit GEMM: 784 outputs, depth 144 */
    expect_calls(f, "n_c1x1", 1, 0, 0, 0);
    expect_calls(f, "n_narrow", 0, 0, 0, 0); /* 2x2 outputs: transposed packed GEMM */
    expect_calls(f, "n_deep", 0, 0, 0, 0);   /* 6x6 outputs, depth 2304: the same */
    cr_expect_eq(step_calls(f, "n_narrow", LOOP_KERNEL_SGEMM_PACKED), 1);
    cr_expect_eq(step_calls(f, "n_deep", LOOP_KERNEL_SGEMM_PACKED), 1);
    expect_calls(f, "n_c3d", 1, 0, 0, 0); /* im2col as a loop nest */
    expect_calls(f, "n_depthwise", 0, 0, 0, 0); /* loomrt_dwconv, see lower_conv.c */
    expect_calls(f, "n_t3x3", 1, 0, 1, 0);
    expect_calls(f, "n_t1x1", 1, 0, 0, 0);
    expect_calls(f, "n_t3d", 1, 0, 0, 0); /* col2im as a loop nest */
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* The only statement of step `name` is one call of kernel k (so its fused
 * epilogue is in the call, not in a loop nest after it); returns it. */
static const loop_stmt *only_call(const loop_func *f, const char *name, loop_kernel k)
{
    for (int s = 0; s < f->n_steps; s++) {
        if (strcmp(f->steps[s]->node_name, name) != 0)
            continue;
        const loop_block *b = &f->steps[s]->body;
        cr_assert_eq(b->n, 1, "%s: %d statements, want one call", name, b->n);
        cr_assert(b->stmts[0]->kind == LOOP_STMT_CALL && b->stmts[0]->kernel == k,
                  "%s: not a %s call", name, loop_kernel_name(k));
        return b->stmts[0];
    }
    cr_assert_fail("no step %s", name);
    return NULL;
}

/* Name `base` + act number, in a static ring (for one call's arguments). */
static const char *nm(const char *base, int act)
{
    static char ring[8][32];
    static int k;
    char *p = ring[k++ % 8];
    snprintf(p, 32, "%s%d", base, act);
    return p;
}

/* Depthwise (stride 1 and 2, channel multiplier 2), 3x3 (implicit GEMM,
 * 784 outputs) and 1x1 Conv with every fused activation, a bias and a residual: each
 * one kernel call
 * carrying the epilogue, and the compiled model (C with OpenBLAS,
 * standalone, JIT) agrees with the interpreter. One graph, so one build
 * per backend. */
Test(lower_conv, fused_epilogues_in_kernels)
{
    ir_graph *g = tl_graph("epi");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 4, 9, 9));
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(1, 4, 9, 9));
    ir_value *r2 = in(g, "r2", IR_DTYPE_F32, SHP(1, 8, 5, 5));
    ir_value *xw = in(g, "xw", IR_DTYPE_F32, SHP(1, 16, 28, 28));
    ir_value *rw = in(g, "rw", IR_DTYPE_F32, SHP(1, 4, 28, 28));
    for (int act = IR_ACT_RELU; act < IR_ACT_COUNT; act++) {
        ir_node *n = node(g, IR_OP_CONV, nm("dw", act), 4,
                          (ir_value *[]){x, f32(g, nm("w0_", act), SHP(4, 1, 3, 3)),
                                         f32(g, nm("b0_", act), SHP(4)), r},
                          1);
        ir_node_set_int(g, n, "group", 4);
        INTS(n, "pads", 1, 1, 1, 1);
        ir_epilogue_set_act(g, n, (ir_act)act, 0.25f, 0.75f);
        n = node(g, IR_OP_CONV, nm("dws", act), 4,
                 (ir_value *[]){x, f32(g, nm("w1_", act), SHP(8, 1, 3, 3)),
                                f32(g, nm("b1_", act), SHP(8)), r2},
                 1);
        ir_node_set_int(g, n, "group", 4);
        INTS(n, "pads", 1, 1, 1, 1);
        INTS(n, "strides", 2, 2);
        ir_epilogue_set_act(g, n, (ir_act)act, -0.5f, 0.5f);
        n = node(g, IR_OP_CONV, nm("c3_", act), 4,
                 (ir_value *[]){xw, f32(g, nm("w2_", act), SHP(4, 16, 3, 3)),
                                f32(g, nm("b2_", act), SHP(4)), rw},
                 1);
        INTS(n, "pads", 1, 1, 1, 1);
        ir_epilogue_set_act(g, n, (ir_act)act, 0.1f, 0.9f);
        n = conv(g, IR_OP_CONV, nm("c1_", act), x, f32(g, nm("w3_", act), SHP(6, 4, 1, 1)),
                 f32(g, nm("b3_", act), SHP(6)));
        ir_epilogue_set_act(g, n, (ir_act)act, 0.0f, 6.0f);
    }
    ir_diag d;
    loop_func *f = lowered(g, &d);
    for (int act = IR_ACT_RELU; act < IR_ACT_COUNT; act++) {
        const loop_stmt *s = only_call(f, nm("n_dw", act), LOOP_KERNEL_DWCONV);
        cr_expect(s->call.dwconv.epi.act == act && s->call.dwconv.epi.bias.buf &&
                  s->call.dwconv.epi.residual.buf);
        cr_expect_eq(only_call(f, nm("n_dws", act), LOOP_KERNEL_DWCONV)->call.dwconv.mult, 2);
        cr_expect_eq(only_call(f, nm("n_c1_", act), LOOP_KERNEL_SGEMM)->call.sgemm.epi.act, act);
        s = only_call(f, nm("n_c3_", act), LOOP_KERNEL_CONV2D);
        cr_expect(s->call.conv.epi.act == act && s->call.conv.epi.bias.buf &&
                  s->call.conv.epi.residual.buf && s->call.conv.m == 4);
    }
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* More spatial dims than index terms allow: reported, never miscompiled. */
Test(lower_conv, too_many_spatial_dims)
{
    ir_graph *g = tl_graph("rank7");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 1, 2, 2, 2, 2, 2));
    conv(g, IR_OP_CONV, "c", x, f32(g, "w", SHP(1, 1, 1, 1, 1, 1, 1)), NULL);
    ir_node *n = node(g, IR_OP_MAX_POOL, "mp", 1, &x, 1);
    INTS(n, "kernel_shape", 1, 1, 1, 1, 1);
    tl_infer_ok(g);
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    loom_status st = lower_graph(g, "m", &f, &d);
    cr_assert_eq(st, LOOM_STATUS_UNSUPPORTED);
    cr_assert_null(f);
    cr_assert(d.text && strstr(d.text, "node \"n_c\" (Conv): 5 spatial dims"), "%s", d.text);
    cr_assert(strstr(d.text, "node \"n_mp\" (MaxPool): 5 spatial dims"), "%s", d.text);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* A 3x3 convolution padded by 1 of m channels from its own input [1, c,
 * h, h] with constant weights (input x_NAME, weights w_NAME). */
static void same_3x3(ir_graph *g, const char *name, int64_t c, int64_t h, int64_t m)
{
    char xn[64], wn[64];
    snprintf(xn, sizeof xn, "x_%s", name);
    snprintf(wn, sizeof wn, "w_%s", name);
    ir_value *x = in(g, xn, IR_DTYPE_F32, SHP(1, c, h, h));
    ir_node *n = conv(g, IR_OP_CONV, name, x, f32(g, wn, SHP(m, c, 3, 3)), NULL);
    INTS(n, "pads", 1, 1, 1, 1);
}

/* 3x3 stride-1 convolutions with constant weights, 8 channels in and out
 * per group and 16 output tiles or more (a 7x7 plane) run by Winograd's
 * F(2x2, 3x3), the bias and the fused activation in the call, with fewer
 * than 16 input channels per group from 64 tiles (a 16x16 plane); stride
 * 2, 3 input channels (loomrt_conv2d_direct's, see below), a 6x6 plane
 * (9 tiles), 8 input channels over 14x14 (49 tiles) and weights given at
 * run time do not. */
static ir_graph *winograd_graph(void)
{
    ir_graph *g = tl_graph("winograd");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(1, 16, 17, 15));
    ir_node *n = conv(g, IR_OP_CONV, "wg", x, f32(g, "w0", SHP(8, 16, 3, 3)), f32(g, "b0", SHP(8)));
    INTS(n, "pads", 1, 1, 1, 1);
    ir_epilogue_set_act(g, n, IR_ACT_LEAKY_RELU, 0.1f, 0.0f);
    n = conv(g, IR_OP_CONV, "wg_grp", x, f32(g, "w1", SHP(16, 8, 3, 3)), NULL);
    INTS(n, "pads", 0, 1, 2, 1);
    ir_node_set_int(g, n, "group", 2);
    n = conv(g, IR_OP_CONV, "wg_s2", x, f32(g, "w2", SHP(8, 16, 3, 3)), NULL);
    INTS(n, "strides", 2, 2);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(1, 3, 17, 15));
    conv(g, IR_OP_CONV, "wg_c3", x3, f32(g, "w3", SHP(8, 3, 3, 3)), NULL);
    same_3x3(g, "wg_small", 16, 6, 8);
    same_3x3(g, "wg_7x7", 16, 7, 24);
    ir_value *wd = in(g, "wd", IR_DTYPE_F32, SHP(8, 16, 3, 3));
    conv(g, IR_OP_CONV, "wg_dyn", x, wd, NULL);
    same_3x3(g, "wg_c8_14", 8, 14, 16);
    same_3x3(g, "wg_c8_16", 8, 16, 16);
    return g;
}

Test(lower_conv, winograd_choice)
{
    ir_graph *g = winograd_graph();
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const names[] = {"n_wg",     "n_wg_grp", "n_wg_s2",     "n_wg_c3",
                                        "n_wg_small", "n_wg_7x7", "n_wg_dyn",  "n_wg_c8_14",
                                        "n_wg_c8_16"};
    static const int want[] = {1, 1, 0, 0, 0, 1, 0, 0, 1};
    for (int i = 0; i < 9; i++) {
        int calls = -1;
        for (int s = 0; s < f->n_steps; s++)
            if (strcmp(f->steps[s]->node_name, names[i]) == 0)
                calls = count_calls(&f->steps[s]->body, LOOP_KERNEL_WINOGRAD);
        cr_expect_eq(calls, want[i], "%s: %d winograd calls, want %d", names[i], calls, want[i]);
    }
    const loop_stmt *s = only_call(f, "n_wg", LOOP_KERNEL_WINOGRAD);
    cr_expect(s->call.winograd.epi.act == IR_ACT_LEAKY_RELU && s->call.winograd.epi.bias.buf &&
              s->call.winograd.m == 8);
    loop_func_free(f);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* The same graph compiled to C against the interpreter. */
Test(lower_conv, winograd_runs)
{
    check(winograd_graph());
}

/* Convolutions with constant weights, up to 16 input channels and 16
 * output channels or more per group over images that unfold to 98304
 * floats or more run by loomrt_conv2d_direct, the bias and the fused
 * activation in the call (checked on the 1-D one, a single call):
 * resnet18's first layer shape (batch 2, stride 2, 7x7, pads 3), a
 * grouped one, a 1-D one and a dilated one with asymmetric pads; 4 and 8
 * output channels, 32 input channels, a pointwise one, weights given at
 * run time, a small image and small planes of deep products do not. */
static ir_graph *direct_graph(void)
{
    ir_graph *g = tl_graph("direct");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 61, 63));
    ir_node *n = conv(g, IR_OP_CONV, "cd", x, f32(g, "w0", SHP(16, 3, 7, 7)), f32(g, "b0", SHP(16)));
    INTS(n, "pads", 3, 3, 3, 3);
    INTS(n, "strides", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    ir_value *x6 = in(g, "x6", IR_DTYPE_F32, SHP(1, 6, 67, 71));
    n = conv(g, IR_OP_CONV, "cd_grp", x6, f32(g, "w1", SHP(34, 3, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 0, 1, 2, 1);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(1, 2, 10007));
    n = conv(g, IR_OP_CONV, "cd_1d", x1, f32(g, "w2", SHP(17, 2, 5)), f32(g, "b2", SHP(17)));
    INTS(n, "pads", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_LEAKY_RELU, 0.1f, 0.0f);
    ir_value *x7 = in(g, "x7", IR_DTYPE_F32, SHP(1, 6, 67, 201));
    n = conv(g, IR_OP_CONV, "cd_dil", x7, f32(g, "w3", SHP(16, 6, 2, 3)), NULL);
    INTS(n, "dilations", 2, 2);
    INTS(n, "pads", 1, 0, 0, 2);
    INTS(n, "strides", 1, 3);
    conv(g, IR_OP_CONV, "cd_m4", x, f32(g, "w4", SHP(4, 3, 3, 3)), NULL);
    ir_value *x32 = in(g, "x32", IR_DTYPE_F32, SHP(1, 32, 9, 9));
    conv(g, IR_OP_CONV, "cd_c32", x32, f32(g, "w5", SHP(8, 32, 3, 3)), NULL);
    conv(g, IR_OP_CONV, "cd_1x1", x, f32(g, "w6", SHP(8, 3, 1, 1)), NULL);
    conv(g, IR_OP_CONV, "cd_dyn", x, in(g, "wd", IR_DTYPE_F32, SHP(8, 3, 3, 3)), NULL);
    /* 8 output channels, and 16 over a small image: GEMMs */
    conv(g, IR_OP_CONV, "cd_m8", x, f32(g, "w9", SHP(8, 3, 3, 3)), NULL);
    ir_value *xs = in(g, "xs", IR_DTYPE_F32, SHP(1, 3, 28, 28));
    conv(g, IR_OP_CONV, "cd_small_col", xs, f32(g, "w10", SHP(16, 3, 3, 3)), NULL);
    /* a 4x4 output of depth 256: the small-plane transposed GEMM */
    ir_value *x16 = in(g, "x16", IR_DTYPE_F32, SHP(2, 16, 8, 8));
    n = conv(g, IR_OP_CONV, "cd_small", x16, f32(g, "w7", SHP(32, 16, 4, 4)), f32(g, "b7", SHP(32)));
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_LEAKY_RELU, 0.2f, 0.0f);
    /* a window over the whole 4x4 image, two groups: the image is the column */
    ir_value *x4 = in(g, "x4", IR_DTYPE_F32, SHP(2, 32, 4, 4));
    n = conv(g, IR_OP_CONV, "cd_whole", x4, f32(g, "w8", SHP(6, 16, 4, 4)), f32(g, "b8", SHP(6)));
    ir_node_set_int(g, n, "group", 2);
    ir_epilogue_set_act(g, n, IR_ACT_SIGMOID, 0.0f, 0.0f);
    return g;
}

Test(lower_conv, direct_choice)
{
    ir_graph *g = direct_graph();
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const names[] = {"n_cd",       "n_cd_grp", "n_cd_1d",  "n_cd_dil",
                                        "n_cd_m4",    "n_cd_c32", "n_cd_1x1", "n_cd_dyn",
                                        "n_cd_small", "n_cd_m8",  "n_cd_small_col"};
    static const int want[] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    expect_step_calls(f, LOOP_KERNEL_CONV_DIRECT, names, want, 11);
    const loop_stmt *s = only_call(f, "n_cd_1d", LOOP_KERNEL_CONV_DIRECT);
    cr_expect(s->call.conv_direct.epi.act == IR_ACT_LEAKY_RELU && s->call.conv_direct.epi.bias.buf &&
              s->call.conv_direct.m == 17 && !s->call.conv_direct.scratch.buf);
    expect_calls(f, "n_cd_small", 0, 0, 0, 0);
    expect_calls(f, "n_cd_whole", 1, 0, 0, 0);
    cr_expect_eq(step_calls(f, "n_cd_small", LOOP_KERNEL_SGEMM_PACKED), 1);
    loop_func_free(f);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Deep Conv over small planes (3x3 of depth 2304, 6x6 and 5x5 outputs;
 * 1x1 of depth 160, strided and not), the transposed GEMM of
 * conv_transposes: batch 2, bias, residual, Relu and Clip, two groups,
 * compiled to C against the interpreter. Over planes the runtime unfolds
 * (8x8 and 9x9 outputs, 99 in 1-D) one loomrt_conv2d_t a group: batch 2
 * with a bias, residual and LeakyRelu, two groups, 1-D; so does a
 * pointwise one whose product the runtime packs (288 -> 200 over 13x13,
 * batch 2, residual, Relu), where one of 48 output channels stays the
 * packed product on x. */
Test(lower_conv, deep_small_planes_run)
{
    ir_graph *g = tl_graph("deep");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 256, 6, 6));
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(2, 40, 6, 6));
    ir_node *n = node(g, IR_OP_CONV, "d", 4,
                      (ir_value *[]){x, f32(g, "w0", SHP(40, 256, 3, 3)), f32(g, "b0", SHP(40)), r},
                      1);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    ir_value *x2 = in(g, "x2", IR_DTYPE_F32, SHP(1, 512, 5, 5));
    n = conv(g, IR_OP_CONV, "d_grp", x2, f32(g, "w1", SHP(32, 256, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *x3 = in(g, "x3", IR_DTYPE_F32, SHP(2, 160, 13, 13));
    n = conv(g, IR_OP_CONV, "d_1x1s2", x3, f32(g, "w2", SHP(32, 160, 1, 1)), f32(g, "b2", SHP(32)));
    INTS(n, "strides", 2, 2);
    ir_value *x4 = in(g, "x4", IR_DTYPE_F32, SHP(2, 160, 7, 7));
    n = conv(g, IR_OP_CONV, "d_1x1", x4, f32(g, "w3", SHP(48, 160, 1, 1)), f32(g, "b3", SHP(48)));
    ir_epilogue_set_act(g, n, IR_ACT_CLIP, 0.0f, 6.0f);
    ir_value *x5 = in(g, "x5", IR_DTYPE_F32, SHP(2, 32, 16, 16));
    ir_value *r5 = in(g, "r5", IR_DTYPE_F32, SHP(2, 40, 8, 8));
    n = node(g, IR_OP_CONV, "d_rows", 4,
             (ir_value *[]){x5, f32(g, "w4", SHP(40, 32, 4, 4)), f32(g, "b4", SHP(40)), r5}, 1);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_LEAKY_RELU, 0.2f, 0.0f);
    ir_value *x6 = in(g, "x6", IR_DTYPE_F32, SHP(1, 64, 17, 17));
    n = conv(g, IR_OP_CONV, "d_rows_grp", x6, f32(g, "w5", SHP(32, 32, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", 2, 2);
    ir_value *x7 = in(g, "x7", IR_DTYPE_F32, SHP(1, 64, 200));
    n = conv(g, IR_OP_CONV, "d_rows_1d", x7, f32(g, "w6", SHP(16, 64, 3)), f32(g, "b6", SHP(16)));
    INTS(n, "strides", 2);
    ir_value *x8 = in(g, "x8", IR_DTYPE_F32, SHP(2, 288, 13, 13));
    ir_value *r8 = in(g, "r8", IR_DTYPE_F32, SHP(2, 200, 13, 13));
    n = node(g, IR_OP_CONV, "d_pw_wide", 4,
             (ir_value *[]){x8, f32(g, "w7", SHP(200, 288, 1, 1)), f32(g, "b7", SHP(200)), r8},
             1);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    n = conv(g, IR_OP_CONV, "d_pw", x8, f32(g, "w8", SHP(48, 288, 1, 1)), f32(g, "b8", SHP(48)));
    tl_infer_ok(g);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    expect_calls(f, "n_d", 0, 0, 0, 0); /* planes of 36 and fewer: im2col as a loop nest */
    expect_calls(f, "n_d_grp", 0, 0, 0, 0);
    expect_calls(f, "n_d_1x1s2", 0, 0, 0, 0);
    static const char *const packed[] = {"n_d", "n_d_grp", "n_d_1x1s2", "n_d_1x1", "n_d_pw"};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(step_calls(f, packed[i], LOOP_KERNEL_SGEMM_PACKED), 1, "%s", packed[i]);
    expect_calls(f, "n_d_1x1", 0, 0, 0, 0); /* pointwise: no im2col, no plain SGEMM */
    expect_calls(f, "n_d_pw", 0, 0, 0, 0);
    static const char *const rows[] = {"n_d_rows", "n_d_rows_grp", "n_d_rows_1d", "n_d_pw_wide"};
    for (int i = 0; i < 4; i++) {
        expect_calls(f, rows[i], 0, 0, 0, 0);
        cr_expect_eq(step_calls(f, rows[i], LOOP_KERNEL_SGEMM_PACKED), 0, "%s", rows[i]);
        cr_expect_eq(step_calls(f, rows[i], LOOP_KERNEL_CONV2D_T), 1, "%s", rows[i]);
    }
    const loop_stmt *s = NULL;
    for (int i = 0; i < f->n_steps; i++)
        if (strcmp(f->steps[i]->node_name, "n_d_rows") == 0)
            s = find_call(&f->steps[i]->body, LOOP_KERNEL_CONV2D_T);
    cr_assert(s);
    cr_expect(s->call.conv_t.epi.act == IR_ACT_LEAKY_RELU && s->call.conv_t.epi.bias.buf &&
              s->call.conv_t.epi.residual.buf && s->call.conv_t.m == 40 &&
              s->call.conv_t.scratch.buf);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* The same graph compiled to C against the interpreter. */
Test(lower_conv, direct_runs)
{
    check(direct_graph());
}

/* A direct Conv (bias, Relu) read only by a MaxPool the pool kernel takes
 * runs inside it, one loomrt_conv2d_direct_maxpool in the MaxPool's step
 * and nothing in the Conv's: resnet18's first layer and pool (batch 2,
 * 7x7/2 padded, then 3x3/2 padded), squeezenet1_1's (3x3/2, then 3x3/2
 * with ceil_mode: 65 x 64 rows pooled to 32 x 32), a 2x2/2 pool of 61 x
 * 61 (the last row and column dropped). Not fused: a Conv read by two
 * MaxPools, a MaxPool with Indices, a 2x2 MaxPool at stride 1 (loops), a
 * Conv with a residual. Then the C build, the standalone build and the
 * JIT against the interpreter. */
static ir_graph *conv_pool_graph(void)
{
    ir_graph *g = tl_graph("conv_pool");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 3, 61, 63));
    ir_node *n =
        conv(g, IR_OP_CONV, "c_rn", x, f32(g, "w0", SHP(16, 3, 7, 7)), f32(g, "b0", SHP(16)));
    INTS(n, "pads", 3, 3, 3, 3);
    INTS(n, "strides", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    ir_value *v = val(g, "c_rn");
    n = node(g, IR_OP_MAX_POOL, "p_rn", 1, &v, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *xs = in(g, "xs", IR_DTYPE_F32, SHP(1, 3, 131, 129));
    n = conv(g, IR_OP_CONV, "c_sq", xs, f32(g, "w1", SHP(24, 3, 3, 3)), f32(g, "b1", SHP(24)));
    INTS(n, "strides", 2, 2);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    v = val(g, "c_sq");
    n = node(g, IR_OP_MAX_POOL, "p_sq", 1, &v, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_value *xm = in(g, "xm", IR_DTYPE_F32, SHP(1, 3, 63, 63)); /* 61 x 61 outputs */
    conv(g, IR_OP_CONV, "c_two", xm, f32(g, "w2", SHP(16, 3, 3, 3)), NULL);
    v = val(g, "c_two");
    INTS(node(g, IR_OP_MAX_POOL, "p_two_a", 1, &v, 1), "kernel_shape", 3, 3);
    INTS(node(g, IR_OP_MAX_POOL, "p_two_b", 1, &v, 1), "kernel_shape", 3, 3);
    conv(g, IR_OP_CONV, "c_idx", xm, f32(g, "w3", SHP(16, 3, 3, 3)), NULL);
    v = val(g, "c_idx");
    INTS(node(g, IR_OP_MAX_POOL, "p_idx", 1, &v, 2), "kernel_shape", 3, 3);
    conv(g, IR_OP_CONV, "c_2x2", xm, f32(g, "w4", SHP(16, 3, 3, 3)), NULL);
    v = val(g, "c_2x2");
    n = node(g, IR_OP_MAX_POOL, "p_2x2", 1, &v, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    conv(g, IR_OP_CONV, "c_s1", xm, f32(g, "w6", SHP(16, 3, 3, 3)), NULL);
    v = val(g, "c_s1");
    INTS(node(g, IR_OP_MAX_POOL, "p_s1", 1, &v, 1), "kernel_shape", 2, 2);
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(1, 16, 63, 63));
    n = node(g, IR_OP_CONV, "c_res", 4,
             (ir_value *[]){xm, f32(g, "w5", SHP(16, 3, 3, 3)), f32(g, "b5", SHP(16)), r}, 1);
    INTS(n, "pads", 1, 1, 1, 1);
    v = val(g, "c_res");
    INTS(node(g, IR_OP_MAX_POOL, "p_res", 1, &v, 1), "kernel_shape", 3, 3);
    return g;
}

Test(lower_conv, conv_into_max_pool)
{
    ir_graph *g = conv_pool_graph();
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const pools[] = {"n_p_rn",  "n_p_sq",  "n_p_two_a", "n_p_two_b",
                                        "n_p_idx", "n_p_2x2", "n_p_s1",    "n_p_res"};
    static const int fused[] = {1, 1, 0, 0, 0, 1, 0, 0}, kernel[] = {0, 0, 1, 1, 0, 0, 0, 1};
    expect_step_calls(f, LOOP_KERNEL_CONV_DIRECT_POOL, pools, fused, 8);
    expect_step_calls(f, LOOP_KERNEL_MAXPOOL, pools, kernel, 8);
    static const char *const convs[] = {"n_c_rn",  "n_c_sq", "n_c_two", "n_c_idx",
                                        "n_c_2x2", "n_c_s1", "n_c_res"};
    static const int direct[] = {0, 0, 1, 1, 0, 1, 1};
    expect_step_calls(f, LOOP_KERNEL_CONV_DIRECT, convs, direct, 7);
    const loop_stmt *s = find_call(&f->steps[step_index(f, "n_p_rn")]->body,
                                   LOOP_KERNEL_CONV_DIRECT_POOL);
    const loop_conv_pool *cp = &s->call.conv_pool;
    cr_expect(cp->conv.m == 16 && cp->conv.g.oh == 31 && cp->conv.g.ow == 32 &&
              cp->conv.epi.act == IR_ACT_RELU && cp->conv.epi.bias.buf &&
              !cp->conv.epi.residual.buf && cp->pool.oh == 16 && cp->pool.ow == 16 &&
              cp->pool.pad_t == 1 && cp->pool.h == 31 && cp->pool.channels == 16);
    s = only_call(f, "n_p_sq", LOOP_KERNEL_CONV_DIRECT_POOL);
    cr_expect(s->call.conv_pool.pool.oh == 32 && s->call.conv_pool.pool.ow == 32,
              "ceil_mode: %lld x %lld pooled rows", (long long)s->call.conv_pool.pool.oh,
              (long long)s->call.conv_pool.pool.ow);
    s = only_call(f, "n_p_2x2", LOOP_KERNEL_CONV_DIRECT_POOL);
    cr_expect(s->call.conv_pool.pool.oh == 30 && s->call.conv_pool.pool.kw == 2,
              "2x2/2: %lld pooled rows", (long long)s->call.conv_pool.pool.oh);
    loop_func_free(f);
    ir_diag_free(&d);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* A Winograd Conv read only by an unpadded 2x2/2 MaxPool runs inside it,
 * one loomrt_conv2d_winograd_maxpool in the MaxPool's step and nothing in
 * the Conv's, its weights transformed for the plane the pool reads: 24 ->
 * 20 channels over 15 x 13 outputs (batch 2, bias, Relu) pooled to 7 x 6
 * (the last row and column dropped), over 14 x 14 with ceil_mode (even:
 * the same windows; GELU, which the kernel applies to each output before
 * the maximum). Not fused: ceil_mode over 13 x 13 (a last window half
 * outside), a padded pool, a 3x3/2 pool, a Conv read by two MaxPools.
 * Then the C build, the standalone build and the JIT against the
 * interpreter. */
static ir_graph *winograd_pool_graph(void)
{
    ir_graph *g = tl_graph("winograd_pool");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 24, 15, 13));
    ir_node *n =
        conv(g, IR_OP_CONV, "c_wg", x, f32(g, "w0", SHP(20, 24, 3, 3)), f32(g, "b0", SHP(20)));
    INTS(n, "pads", 1, 1, 1, 1);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    ir_value *v = val(g, "c_wg");
    n = node(g, IR_OP_MAX_POOL, "p_wg", 1, &v, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    ir_value *xe = in(g, "xe", IR_DTYPE_F32, SHP(1, 24, 16, 16));
    n = conv(g, IR_OP_CONV, "c_even", xe, f32(g, "w1", SHP(20, 24, 3, 3)), NULL);
    ir_epilogue_set_act(g, n, IR_ACT_GELU, 0.0f, 0.0f);
    v = val(g, "c_even");
    n = node(g, IR_OP_MAX_POOL, "p_even", 1, &v, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    ir_node_set_int(g, n, "ceil_mode", 1);
    ir_value *xo = in(g, "xo", IR_DTYPE_F32, SHP(1, 24, 15, 15)); /* 13 x 13 outputs */
    static const char *const others[] = {"ceil", "pad", "k3"};
    for (int i = 0; i < 3; i++) {
        char cn[16], pn[16], wn[16];
        snprintf(cn, sizeof cn, "c_%s", others[i]);
        snprintf(pn, sizeof pn, "p_%s", others[i]);
        snprintf(wn, sizeof wn, "w_%s", others[i]);
        conv(g, IR_OP_CONV, cn, xo, f32(g, wn, SHP(20, 24, 3, 3)), NULL);
        v = val(g, cn);
        n = node(g, IR_OP_MAX_POOL, pn, 1, &v, 1);
        INTS(n, "kernel_shape", i == 2 ? 3 : 2, i == 2 ? 3 : 2);
        INTS(n, "strides", 2, 2);
        if (i == 0)
            ir_node_set_int(g, n, "ceil_mode", 1);
        if (i == 1)
            INTS(n, "pads", 1, 1, 1, 1);
    }
    conv(g, IR_OP_CONV, "c_two", xo, f32(g, "w_two", SHP(20, 24, 3, 3)), NULL);
    v = val(g, "c_two");
    for (int i = 0; i < 2; i++) {
        n = node(g, IR_OP_MAX_POOL, i ? "p_two_b" : "p_two_a", 1, &v, 1);
        INTS(n, "kernel_shape", 2, 2);
        INTS(n, "strides", 2, 2);
    }
    return g;
}

Test(lower_conv, winograd_into_max_pool)
{
    ir_graph *g = winograd_pool_graph();
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const pools[] = {"n_p_wg",  "n_p_even", "n_p_ceil", "n_p_pad",
                                        "n_p_k3",  "n_p_two_a", "n_p_two_b"};
    static const int fused[] = {1, 1, 0, 0, 0, 0, 0};
    expect_step_calls(f, LOOP_KERNEL_WINOGRAD_POOL, pools, fused, 7);
    static const char *const convs[] = {"n_c_wg",  "n_c_even", "n_c_ceil",
                                        "n_c_pad", "n_c_k3",   "n_c_two"};
    static const int alone[] = {0, 0, 1, 1, 1, 1};
    expect_step_calls(f, LOOP_KERNEL_WINOGRAD, convs, alone, 6);
    const loop_stmt *s =
        find_call(&f->steps[step_index(f, "n_p_wg")]->body, LOOP_KERNEL_WINOGRAD_POOL);
    const loop_winograd_pool *wp = &s->call.winograd_pool;
    cr_expect(wp->conv.m == 20 && wp->conv.g.channels == 24 && wp->conv.g.oh == 15 &&
              wp->conv.g.ow == 13 && wp->conv.epi.act == IR_ACT_RELU && wp->conv.epi.bias.buf &&
              !wp->conv.epi.residual.buf && wp->pool.oh == 7 && wp->pool.ow == 6 &&
              wp->pool.h == 15 && wp->pool.channels == 20);
    cr_expect_eq(wp->conv.w.buf->numel, loomrt_winograd_packed_size(20, 24, 14, 12),
                 "the weights transformed for the 14 x 12 outputs pooled");
    s = only_call(f, "n_p_even", LOOP_KERNEL_WINOGRAD_POOL);
    cr_expect(s->call.winograd_pool.pool.oh == 7 && s->call.winograd_pool.conv.epi.act ==
                                                        IR_ACT_GELU);
    loop_func_free(f);
    ir_diag_free(&d);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

/* ConvTranspose by output phases (conv_transpose_phases_fit): 4x4
 * stride 2 with a fused residual and Relu, batch 2; grouped with uneven
 * phases (odd outputs); one input channel per group (depthwise
 * phases, two outputs per channel); stride 1 (one phase, a Winograd Conv); pads that
 * crop the output (phases that leave input rows unread); 1-D with
 * output_padding; asymmetric strides and pads. Not by phases: windows no
 * wider than their strides, few output channels, a window wider than the
 * input (a 1x1 one: conv_transpose_point_fits), dilation. Each compiled
 * to C against the interpreter. */
Test(lower_conv, conv_transpose_phases)
{
    ir_graph *g = tl_graph("phases");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 6, 5, 4));
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(2, 4, 10, 8));
    ir_node *n = node(g, IR_OP_CONV_TRANSPOSE, "k4s2", 4,
                      (ir_value *[]){x, f32(g, "w0", SHP(6, 4, 4, 4)), f32(g, "b0", SHP(4)), r}, 1);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    ir_value *x8 = in(g, "x8", IR_DTYPE_F32, SHP(1, 8, 5, 5));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "grp", x8, f32(g, "w1", SHP(8, 3, 3, 3)), f32(g, "b1", SHP(6)));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "strides", 2, 2);
    ir_value *x16 = in(g, "x16", IR_DTYPE_F32, SHP(1, 8, 16, 15));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "s1", x16, f32(g, "w2", SHP(8, 8, 3, 3)), f32(g, "b2", SHP(8)));
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *x6 = in(g, "x6", IR_DTYPE_F32, SHP(1, 4, 6, 7));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "crop", x6, f32(g, "w3", SHP(4, 4, 4, 4)), NULL);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 3, 2);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(2, 4, 7));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "p1d", x1, f32(g, "w4", SHP(4, 3, 5)), f32(g, "b4", SHP(3)));
    INTS(n, "strides", 2);
    INTS(n, "pads", 2, 1);
    INTS(n, "output_padding", 1);
    /* one input channel per group: each phase a depthwise Conv */
    n = conv(g, IR_OP_CONV_TRANSPOSE, "dw", x6, f32(g, "w10", SHP(4, 2, 4, 4)), f32(g, "b10", SHP(8)));
    ir_node_set_int(g, n, "group", 4);
    INTS(n, "strides", 2, 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "asym", x6, f32(g, "w5", SHP(4, 5, 3, 4)), NULL);
    INTS(n, "strides", 2, 3);
    INTS(n, "pads", 0, 1, 2, 0);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "k2s2", x6, f32(g, "w6", SHP(4, 4, 2, 2)), NULL);
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "thin", x8, f32(g, "w7", SHP(8, 3, 4, 4)), NULL);
    INTS(n, "strides", 2, 2);
    ir_value *xp = in(g, "xp", IR_DTYPE_F32, SHP(1, 4, 1, 1));
    conv(g, IR_OP_CONV_TRANSPOSE, "tiny", xp, f32(g, "w8", SHP(4, 4, 4, 4)), NULL);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "dil", x6, f32(g, "w9", SHP(4, 4, 3, 3)), NULL);
    INTS(n, "dilations", 2, 2);
    tl_infer_ok(g);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const names[] = {"n_k4s2", "n_grp",  "n_s1",   "n_crop", "n_p1d", "n_dw",
                                        "n_asym", "n_k2s2", "n_thin", "n_tiny", "n_dil"};
    static const int col2im[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1}; /* tiny: from a point */
    expect_step_calls(f, LOOP_KERNEL_COL2IM, names, col2im, 11);
    cr_expect_eq(step_calls(f, "n_s1", LOOP_KERNEL_WINOGRAD), 1);
    cr_expect_eq(step_calls(f, "n_dw", LOOP_KERNEL_DWCONV), 4);
    cr_expect_eq(step_calls(f, "n_k4s2", LOOP_KERNEL_SGEMM_PACKED) +
                     step_calls(f, "n_k4s2", LOOP_KERNEL_SGEMM),
                 4);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* ConvTranspose from one input position (conv_transpose_point_fits):
 * one GEMM over the images into y, the bias repeated per column, the
 * epilogue in the call: 2-D batch 2 with LeakyRelu, two groups with a
 * residual, 1-D. A bias given at run time, a pad, an output_padding keep
 * the GEMM into columns. Each compiled to C against the interpreter. */
Test(lower_conv, conv_transpose_from_point)
{
    ir_graph *g = tl_graph("point");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 6, 1, 1));
    ir_node *n = conv(g, IR_OP_CONV_TRANSPOSE, "pt", x, f32(g, "w0", SHP(6, 5, 4, 3)), f32(g, "b0", SHP(5)));
    ir_epilogue_set_act(g, n, IR_ACT_LEAKY_RELU, 0.2f, 0.0f);
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(2, 6, 3, 2));
    n = node(g, IR_OP_CONV_TRANSPOSE, "grp", 4,
             (ir_value *[]){x, f32(g, "w1", SHP(6, 3, 3, 2)), f32(g, "b1", SHP(6)), r}, 1);
    ir_node_set_int(g, n, "group", 2);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(3, 4, 1));
    conv(g, IR_OP_CONV_TRANSPOSE, "p1d", x1, f32(g, "w2", SHP(4, 2, 5)), NULL);
    conv(g, IR_OP_CONV_TRANSPOSE, "dyn_bias", x, f32(g, "w3", SHP(6, 2, 2, 2)),
         in(g, "bd", IR_DTYPE_F32, SHP(2)));
    n = conv(g, IR_OP_CONV_TRANSPOSE, "padded", x, f32(g, "w4", SHP(6, 2, 3, 3)), NULL);
    INTS(n, "pads", 1, 0, 0, 0);
    n = conv(g, IR_OP_CONV_TRANSPOSE, "outpad", x, f32(g, "w5", SHP(6, 2, 3, 3)), NULL);
    INTS(n, "strides", 2, 2);
    INTS(n, "output_padding", 1, 0);
    tl_infer_ok(g);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    const loop_stmt *s = only_call(f, "n_pt", LOOP_KERNEL_SGEMM);
    cr_expect(s->call.sgemm.m == 2 && s->call.sgemm.n == 60 && s->call.sgemm.k == 6 &&
              s->call.sgemm.epi.act == IR_ACT_LEAKY_RELU && s->call.sgemm.epi.bias.buf &&
              s->call.sgemm.epi.bias_cs == 1);
    static const char *const names[] = {"n_grp", "n_p1d", "n_dyn_bias", "n_padded", "n_outpad"};
    static const int col2im[] = {0, 0, 1, 1, 1};
    expect_step_calls(f, LOOP_KERNEL_COL2IM, names, col2im, 5);
    cr_expect_eq(step_calls(f, "n_grp", LOOP_KERNEL_SGEMM), 1);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* The 1x1 Conv of x into `out` (weights pw_w or constant [m, 5, 1, 1], a
 * bias when bias, activation act), then the depthwise 3x3 Conv of it into
 * `dw` (pads 1, strides s, Clip, the residual res unless NULL). */
static void pw_then_dw(ir_graph *g, ir_value *x, const char *out, const char *dw, int64_t m,
                       bool bias, ir_value *pw_w, int64_t s, ir_act act, ir_value *res)
{
    char wn[48], bn[48];
    snprintf(wn, sizeof wn, "w_%s", out);
    snprintf(bn, sizeof bn, "b_%s", out);
    ir_node *n = conv(g, IR_OP_CONV, out, x, pw_w ? pw_w : f32(g, wn, SHP(m, 5, 1, 1)),
                      bias ? f32(g, bn, SHP(m)) : NULL);
    ir_epilogue_set_act(g, n, act, 0.0f, 6.0f);
    snprintf(wn, sizeof wn, "w_%s", dw);
    snprintf(bn, sizeof bn, "b_%s", dw);
    n = node(g, IR_OP_CONV, dw, res ? 4 : 3,
             (ir_value *[]){val(g, out), f32(g, wn, SHP(m, 1, 3, 3)), f32(g, bn, SHP(m)), res}, 1);
    ir_node_set_int(g, n, "group", m);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", s, s);
    ir_epilogue_set_act(g, n, IR_ACT_CLIP, 0.0f, 6.0f);
}

/* The dwconv call of step `name` (one per image), which must exist. */
static const loop_dwconv *dw_call(const loop_func *f, const char *name)
{
    cr_assert_eq(step_calls(f, name, LOOP_KERNEL_DWCONV), 1, "%s: not one dwconv call", name);
    for (int s = 0; s < f->n_steps; s++)
        if (strcmp(f->steps[s]->node_name, name) == 0)
            return &find_call(&f->steps[s]->body, LOOP_KERNEL_DWCONV)->call.dwconv;
    return NULL;
}

/* A 1x1 Conv whose only reader is a depthwise Conv runs inside it
 * (loomrt_pwdw: its step empty, the depthwise call carrying the packed
 * weights, K, its bias and activation): with and without a bias, Clip
 * or Sigmoid (applied over the band rows), stride 1 and 2, batch 2, a
 * residual on the depthwise Conv. Not fused: a 1x1 output read twice, one
 * that is a graph output, weights given at run time, a depthwise Conv
 * with a channel multiplier, a strided 1x1, an output of at most
 * PWDW_STORED_MAX bytes an image (8 x 110 x 105 floats; the fused ones
 * are 12 and 20 channels). The compiled model (C with OpenBLAS,
 * standalone, JIT) agrees with the interpreter. */
Test(lower_conv, pointwise_into_depthwise)
{
    ir_graph *g = tl_graph("pwdw");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 5, 110, 105));
    pw_then_dw(g, x, "e1", "d1", 20, true, NULL, 2, IR_ACT_CLIP, NULL);
    pw_then_dw(g, x, "e2", "d2", 12, false, NULL, 1, IR_ACT_SIGMOID,
               in(g, "r2", IR_DTYPE_F32, SHP(2, 12, 110, 105)));
    pw_then_dw(g, x, "e3", "d3", 8, true, NULL, 1, IR_ACT_RELU, NULL);
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap3", 1, (ir_value *[]){val(g, "e3")}, 1);
    pw_then_dw(g, x, "e4", "d4", 8, true, in(g, "w4", IR_DTYPE_F32, SHP(8, 5, 1, 1)), 1,
               IR_ACT_RELU, NULL);
    pw_then_dw(g, x, "e5", "d5", 8, true, NULL, 1, IR_ACT_RELU, NULL);
    ir_node *n = conv(g, IR_OP_CONV, "e6", x, f32(g, "w_e6", SHP(4, 5, 1, 1)), NULL);
    n = conv(g, IR_OP_CONV, "d6", val(g, "e6"), f32(g, "w_d6", SHP(8, 1, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 4);
    n = conv(g, IR_OP_CONV, "e7", x, f32(g, "w_e7", SHP(4, 5, 1, 1)), NULL);
    INTS(n, "strides", 2, 2);
    n = conv(g, IR_OP_CONV, "d7", val(g, "e7"), f32(g, "w_d7", SHP(4, 1, 3, 3)), NULL);
    ir_node_set_int(g, n, "group", 4);
    pw_then_dw(g, x, "e8", "d8", 8, true, NULL, 1, IR_ACT_RELU, NULL);
    tl_mark_outputs(g);
    ir_graph_add_output(g, val(g, "e5"));
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const fused[] = {"n_e1", "n_e2"};
    static const char *const kept[] = {"n_e3", "n_e4", "n_e5", "n_e6", "n_e7", "n_e8"};
    for (int i = 0; i < 2; i++)
        cr_expect_eq(step_calls(f, fused[i], LOOP_KERNEL_SGEMM) +
                         step_calls(f, fused[i], LOOP_KERNEL_SGEMM_PACKED),
                     0, "%s: not fused", fused[i]);
    for (int i = 0; i < 6; i++)
        cr_expect_eq(step_calls(f, kept[i], LOOP_KERNEL_SGEMM) +
                         step_calls(f, kept[i], LOOP_KERNEL_SGEMM_PACKED),
                     1, "%s: fused", kept[i]);
    const loop_dwconv *d1 = dw_call(f, "n_d1");
    cr_expect(d1->pw.buf && d1->pw_k == 5 && d1->pw_epi.act == IR_ACT_CLIP &&
              d1->pw_epi.bias.buf && d1->g.stride_h == 2 && d1->epi.act == IR_ACT_CLIP);
    const loop_dwconv *d2 = dw_call(f, "n_d2");
    cr_expect(d2->pw.buf && d2->pw_epi.act == IR_ACT_SIGMOID && !d2->pw_epi.bias.buf &&
              d2->epi.residual.buf);
    static const char *const plain[] = {"n_d3", "n_d4", "n_d5", "n_d8"};
    for (int i = 0; i < 4; i++)
        cr_expect(!dw_call(f, plain[i])->pw.buf, "%s fused", plain[i]);
    cr_expect(dw_call(f, "n_d6")->mult == 2 && !dw_call(f, "n_d6")->pw.buf);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* Depthwise Conv `dw` (3x3, stride s, Clip, pads 1) of in's m channels,
 * then the 1x1 Conv `pj` to mo channels (a bias when bias, the residual
 * res when given, activation act). */
static void dw_then_pj(ir_graph *g, ir_value *in_v, const char *dw, const char *pj, int64_t m,
                       int64_t s, int64_t mo, bool bias, ir_value *res, ir_act act)
{
    char wn[48], bn[48];
    snprintf(wn, sizeof wn, "w_%s", dw);
    snprintf(bn, sizeof bn, "b_%s", dw);
    ir_node *n = conv(g, IR_OP_CONV, dw, in_v, f32(g, wn, SHP(m, 1, 3, 3)), f32(g, bn, SHP(m)));
    ir_node_set_int(g, n, "group", m);
    INTS(n, "pads", 1, 1, 1, 1);
    INTS(n, "strides", s, s);
    ir_epilogue_set_act(g, n, IR_ACT_CLIP, 0.0f, 6.0f);
    snprintf(wn, sizeof wn, "w_%s", pj);
    snprintf(bn, sizeof bn, "b_%s", pj);
    n = node(g, IR_OP_CONV, pj, res ? 4 : bias ? 3 : 2,
             (ir_value *[]){val(g, dw), f32(g, wn, SHP(mo, m, 1, 1)),
                            bias ? f32(g, bn, SHP(mo)) : NULL, res},
             1);
    ir_epilogue_set_act(g, n, act, 0.0f, 6.0f);
}

/* A depthwise Conv whose only reader is a 1x1 Conv runs inside it
 * (loomrt_dwpw: its step empty, the 1x1 Conv's step one dwconv call
 * carrying the 1x1 weights, M, bias, residual and activation), batch 2:
 * with the 1x1 Conv before it fused too (24 channels over 110x105, stride
 * 2, Relu after), and alone (5 channels, no bias, a residual). Not fused:
 * a depthwise output read twice, a depthwise Conv with a residual of its
 * own, an output plane of at most CONV_T_MAX_OUT (14x14), a band of 64
 * channels past loomrt_dwpw's (only the 1x1 Conv before it fused), a
 * strided 1x1. The compiled model (C with OpenBLAS, standalone, JIT)
 * agrees with the interpreter. */
Test(lower_conv, depthwise_into_projection)
{
    ir_graph *g = tl_graph("dwpw");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(2, 5, 110, 105));
    ir_node *n = conv(g, IR_OP_CONV, "e1", x, f32(g, "w_e1", SHP(24, 5, 1, 1)), NULL);
    ir_epilogue_set_act(g, n, IR_ACT_CLIP, 0.0f, 6.0f);
    dw_then_pj(g, val(g, "e1"), "d1", "p1", 24, 2, 7, true, NULL, IR_ACT_RELU);
    dw_then_pj(g, x, "d2", "p2", 5, 1, 3, false, in(g, "r2", IR_DTYPE_F32, SHP(2, 3, 110, 105)),
               IR_ACT_NONE);
    dw_then_pj(g, x, "d3", "p3", 5, 1, 3, true, NULL, IR_ACT_NONE);
    node(g, IR_OP_GLOBAL_AVERAGE_POOL, "gap3", 1, (ir_value *[]){val(g, "d3")}, 1);
    n = node(g, IR_OP_CONV, "d4", 4,
             (ir_value *[]){x, f32(g, "w_d4", SHP(5, 1, 3, 3)), f32(g, "b_d4", SHP(5)),
                            in(g, "r4", IR_DTYPE_F32, SHP(2, 5, 110, 105))},
             1);
    ir_node_set_int(g, n, "group", 5);
    INTS(n, "pads", 1, 1, 1, 1);
    conv(g, IR_OP_CONV, "p4", val(g, "d4"), f32(g, "w_p4", SHP(3, 5, 1, 1)), NULL);
    dw_then_pj(g, x, "d5", "p5", 5, 8, 3, true, NULL, IR_ACT_NONE);
    n = conv(g, IR_OP_CONV, "e6", x, f32(g, "w_e6", SHP(64, 5, 1, 1)), NULL);
    dw_then_pj(g, val(g, "e6"), "d6", "p6", 64, 1, 3, true, NULL, IR_ACT_NONE);
    n = node(g, IR_OP_CONV, "d7", 2, (ir_value *[]){x, f32(g, "w_d7", SHP(5, 1, 3, 3))}, 1);
    ir_node_set_int(g, n, "group", 5);
    INTS(n, "pads", 1, 1, 1, 1);
    n = conv(g, IR_OP_CONV, "p7", val(g, "d7"), f32(g, "w_p7", SHP(3, 5, 1, 1)), NULL);
    INTS(n, "strides", 2, 2);
    tl_mark_outputs(g);
    ir_diag d;
    loop_func *f = lowered(g, &d);
    static const char *const inside[] = {"n_e1", "n_d1", "n_d2", "n_e6"};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(step_calls(f, inside[i], LOOP_KERNEL_DWCONV) +
                         step_calls(f, inside[i], LOOP_KERNEL_SGEMM),
                     0, "%s: not fused", inside[i]);
    const loop_dwconv *p1 = dw_call(f, "n_p1"), *p2 = dw_call(f, "n_p2");
    cr_expect(p1->pw.buf && p1->pw_k == 5 && p1->pj.buf && p1->pj_m == 7 &&
              p1->pj_epi.bias.buf && !p1->pj_epi.residual.buf && p1->pj_epi.act == IR_ACT_RELU &&
              p1->epi.act == IR_ACT_CLIP && p1->epi.bias.buf && p1->g.stride_h == 2);
    cr_expect(!p2->pw.buf && p2->pj.buf && p2->pj_m == 3 && !p2->pj_epi.bias.buf &&
              p2->pj_epi.residual.buf && p2->g.channels == 5);
    static const char *const kept[] = {"n_d3", "n_d4", "n_d5", "n_d6", "n_d7"};
    for (int i = 0; i < 5; i++)
        cr_expect(!dw_call(f, kept[i])->pj.buf, "%s fused", kept[i]);
    cr_expect(dw_call(f, "n_d6")->pw.buf, "d6: its expansion not fused");
    static const char *const gemms[] = {"n_p3", "n_p4", "n_p5", "n_p6", "n_p7"};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(step_calls(f, gemms[i], LOOP_KERNEL_DWCONV), 0, "%s: fused", gemms[i]);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
}

/* A Concat along channels at batch 3 of convolutions by every path of
 * conv_emit (Winograd, the GEMM's, grouped and 1-D too, depthwise, the
 * transposed product, the implicit GEMM, the direct kernel, the f64 loop
 * nest): each writes its slice of the output in place, image by image (a
 * view with the output's image stride, lower_concat_strided); a graph
 * input, a Conv with a residual (read at the output's index), one read by
 * another node too and a Concat along another axis are copied. The
 * compiled code agrees with the interpreter on one thread and on two. */
static ir_graph *concat_strided_graph(void)
{
    ir_graph *g = tl_graph("cat_strided");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(3, 16, 10, 10));
    ir_value *r = in(g, "r", IR_DTYPE_F32, SHP(3, 4, 10, 10));
    ir_value *xd = in(g, "xd", IR_DTYPE_F32, SHP(3, 256, 10, 10));
    ir_value *xi = in(g, "xi", IR_DTYPE_F32, SHP(3, 8, 64, 64));
    ir_value *xb = in(g, "xb", IR_DTYPE_F32, SHP(3, 3, 64, 64));
    ir_value *xf = in(g, "xf", IR_DTYPE_F64, SHP(3, 2, 5, 5));
    ir_node *n = conv(g, IR_OP_CONV, "wg", x, f32(g, "w_wg", SHP(8, 16, 3, 3)), NULL);
    INTS(n, "pads", 1, 1, 1, 1);
    n = conv(g, IR_OP_CONV, "pw", x, f32(g, "w_pw", SHP(5, 16, 1, 1)), f32(g, "b_pw", SHP(5)));
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    n = conv(g, IR_OP_CONV, "dw", x, f32(g, "w_dw", SHP(16, 1, 3, 3)), f32(g, "b_dw", SHP(16)));
    ir_node_set_int(g, n, "group", 16);
    INTS(n, "pads", 1, 1, 1, 1);
    node(g, IR_OP_CONV, "res", 4,
         (ir_value *[]){x, f32(g, "w_res", SHP(4, 16, 1, 1)), f32(g, "b_res", SHP(4)), r}, 1);
    conv(g, IR_OP_CONV, "two", x, f32(g, "w_two", SHP(3, 16, 1, 1)), NULL);
    node(g, IR_OP_NEG, "neg_two", 1, (ir_value *[]){val(g, "two")}, 1);
    conv(g, IR_OP_CONV, "tr", xd, f32(g, "w_tr", SHP(16, 256, 1, 1)), NULL);
    n = conv(g, IR_OP_CONV, "gr", x, f32(g, "w_gr", SHP(4, 8, 3, 3)), f32(g, "b_gr", SHP(4)));
    ir_node_set_int(g, n, "group", 2);
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_CONCAT, "cat_a", 8,
             (ir_value *[]){val(g, "wg"), val(g, "pw"), val(g, "dw"), x, val(g, "res"),
                            val(g, "two"), val(g, "tr"), val(g, "gr")},
             1);
    ir_node_set_int(g, n, "axis", 1);
    n = conv(g, IR_OP_CONV, "im", xi, f32(g, "w_im", SHP(8, 8, 5, 5)), NULL);
    INTS(n, "pads", 2, 2, 2, 2);
    n = conv(g, IR_OP_CONV, "bl", xb, f32(g, "w_bl", SHP(16, 3, 3, 3)), f32(g, "b_bl", SHP(16)));
    INTS(n, "pads", 1, 1, 1, 1);
    n = node(g, IR_OP_CONCAT, "cat_b", 2, (ir_value *[]){val(g, "im"), val(g, "bl")}, 1);
    ir_node_set_int(g, n, "axis", 1);
    n = conv(g, IR_OP_CONV, "f1", xf, cst(g, "w_f1", IR_DTYPE_F64, SHP(3, 2, 3, 3), false), NULL);
    INTS(n, "pads", 1, 1, 1, 1);
    conv(g, IR_OP_CONV, "f2", xf, cst(g, "w_f2", IR_DTYPE_F64, SHP(2, 2, 1, 1), false), NULL);
    n = node(g, IR_OP_CONCAT, "cat_c", 2, (ir_value *[]){val(g, "f1"), val(g, "f2")}, 1);
    ir_node_set_int(g, n, "axis", 1);
    conv(g, IR_OP_CONV, "h1", x, f32(g, "w_h1", SHP(2, 16, 1, 1)), NULL);
    conv(g, IR_OP_CONV, "h2", x, f32(g, "w_h2", SHP(2, 16, 1, 1)), NULL);
    n = node(g, IR_OP_CONCAT, "cat_d", 2, (ir_value *[]){val(g, "h1"), val(g, "h2")}, 1);
    ir_node_set_int(g, n, "axis", 2);
    ir_value *x1 = in(g, "x1", IR_DTYPE_F32, SHP(3, 4, 20));
    n = conv(g, IR_OP_CONV, "e1", x1, f32(g, "w_e1", SHP(6, 4, 3)), NULL);
    INTS(n, "pads", 1, 1);
    conv(g, IR_OP_CONV, "e2", x1, f32(g, "w_e2", SHP(2, 4, 1)), NULL);
    n = node(g, IR_OP_CONCAT, "cat_e", 2, (ir_value *[]){val(g, "e1"), val(g, "e2")}, 1);
    ir_node_set_int(g, n, "axis", 1);
    tl_mark_outputs(g);
    return g;
}

Test(lower_conv, concat_strided)
{
    ir_graph *g = concat_strided_graph();
    ir_diag d;
    loop_func *f = lowered(g, &d);
    struct {
        const char *v, *cat, *node;
        int64_t at, stride;
        loop_kernel k;
        int calls; /* 2: with scratch, in slot loops, the third image after them */
    } views[] = {
        {"wg", "cat_a", "n_wg", 0, 7200, LOOP_KERNEL_WINOGRAD, 2},
        {"pw", "cat_a", "n_pw", 800, 7200, LOOP_KERNEL_SGEMM, 1},
        {"dw", "cat_a", "n_dw", 1300, 7200, LOOP_KERNEL_DWCONV, 2},
        {"tr", "cat_a", "n_tr", 5200, 7200, LOOP_KERNEL_SGEMM_PACKED, 1},
        {"gr", "cat_a", "n_gr", 6800, 7200, LOOP_KERNEL_SGEMM, 2},
        {"im", "cat_b", "n_im", 0, 24 * 4096, LOOP_KERNEL_CONV2D, 2},
        {"bl", "cat_b", "n_bl", 8 * 4096, 24 * 4096, LOOP_KERNEL_CONV_DIRECT, 1},
        {"f1", "cat_c", "n_f1", 0, 125, LOOP_KERNEL_COUNT, 0},
        {"f2", "cat_c", "n_f2", 75, 125, LOOP_KERNEL_COUNT, 0},
        {"e1", "cat_e", "n_e1", 0, 160, LOOP_KERNEL_SGEMM, 2},
        {"e2", "cat_e", "n_e2", 120, 160, LOOP_KERNEL_SGEMM, 1},
    };
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        const loop_buf *b = tl_find_buf(f, views[i].v);
        cr_assert(b->alias == tl_find_buf(f, views[i].cat), "%s: not a view of %s", views[i].v,
                  views[i].cat);
        cr_expect(b->alias_offset == views[i].at && b->alias_stride == views[i].stride,
                  "%s at %lld every %lld", views[i].v, (long long)b->alias_offset,
                  (long long)b->alias_stride);
        if (views[i].k != LOOP_KERNEL_COUNT)
            cr_expect_eq(step_calls(f, views[i].node, views[i].k), views[i].calls, "%s: %s",
                         views[i].v, loop_kernel_name(views[i].k));
    }
    static const char *const copied[] = {"res", "two", "h1", "h2"};
    for (int i = 0; i < 4; i++)
        cr_expect(!tl_find_buf(f, copied[i])->alias, "%s: a view", copied[i]);
    /* the copies: x, res and two; none; none; both; none */
    static const char *const cats[] = {"n_cat_a", "n_cat_b", "n_cat_c", "n_cat_d", "n_cat_e"};
    static const int copies[] = {3, 0, 0, 2, 0};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(f->steps[step_index(f, cats[i])]->body.n, copies[i], "%s: %d loop nests",
                     cats[i], f->steps[step_index(f, cats[i])]->body.n);
    loop_func_free(f);
    ir_diag_free(&d);
    check(g);
    g = concat_strided_graph();
    tl_infer_ok(g);
    tl_check_c_threads(g, NULL, ATOL, RTOL, 2);
    ir_graph_free(g);
}

/* Convolutions at a batch by every path whose kernels take a scratch
 * (Winograd, alone and into a max pool, the implicit GEMM, im2col + GEMM,
 * the transposed product, depthwise, the pointwise into the depthwise and
 * the depthwise into the pointwise, the direct kernel into a max pool):
 * their images run in slots (loop_split_slots), a scratch copy each. */
static ir_graph *image_slots_graph(int64_t batch)
{
    ir_graph *g = tl_graph("image_slots");
    ir_value *x = in(g, "x", IR_DTYPE_F32, SHP(batch, 16, 24, 24));
    ir_node *n = conv(g, IR_OP_CONV, "wg", x, f32(g, "w_wg", SHP(16, 16, 3, 3)), NULL);
    INTS(n, "pads", 1, 1, 1, 1);
    n = conv(g, IR_OP_CONV, "cwp", x, f32(g, "w_cwp", SHP(16, 16, 3, 3)), f32(g, "b_cwp", SHP(16)));
    ir_epilogue_set_act(g, n, IR_ACT_RELU, 0.0f, 0.0f);
    n = node(g, IR_OP_MAX_POOL, "wp", 1, (ir_value *[]){val(g, "cwp")}, 1);
    INTS(n, "kernel_shape", 2, 2);
    INTS(n, "strides", 2, 2);
    ir_value *xi = in(g, "xi", IR_DTYPE_F32, SHP(batch, 32, 32, 32));
    n = conv(g, IR_OP_CONV, "im", xi, f32(g, "w_im", SHP(16, 32, 5, 5)), NULL);
    INTS(n, "pads", 2, 2, 2, 2);
    n = conv(g, IR_OP_CONV, "col", x, f32(g, "w_col", SHP(24, 16, 3, 3)), NULL);
    INTS(n, "strides", 2, 2);
    ir_value *xt = in(g, "xt", IR_DTYPE_F32, SHP(batch, 288, 13, 13));
    conv(g, IR_OP_CONV, "tr", xt, f32(g, "w_tr", SHP(200, 288, 1, 1)), f32(g, "b_tr", SHP(200)));
    n = conv(g, IR_OP_CONV, "dw", xi, f32(g, "w_dw", SHP(32, 1, 3, 3)), f32(g, "b_dw", SHP(32)));
    ir_node_set_int(g, n, "group", 32);
    INTS(n, "pads", 1, 1, 1, 1);
    ir_value *xp = in(g, "xp", IR_DTYPE_F32, SHP(batch, 5, 56, 56));
    pw_then_dw(g, xp, "e1", "d1", 48, true, NULL, 1, IR_ACT_CLIP, NULL);
    ir_value *xq = in(g, "xq", IR_DTYPE_F32, SHP(batch, 24, 28, 28));
    dw_then_pj(g, xq, "d2", "p2", 24, 1, 16, true, NULL, IR_ACT_RELU);
    ir_value *xb = in(g, "xb", IR_DTYPE_F32, SHP(batch, 3, 64, 64));
    conv(g, IR_OP_CONV, "cb", xb, f32(g, "w_cb", SHP(16, 3, 3, 3)), f32(g, "b_cb", SHP(16)));
    n = node(g, IR_OP_MAX_POOL, "bp", 1, (ir_value *[]){val(g, "cb")}, 1);
    INTS(n, "kernel_shape", 3, 3);
    INTS(n, "strides", 2, 2);
    tl_mark_outputs(g);
    return g;
}

/* The scratch argument of call s (one, holding no graph value): its
 * slice. */
static const loop_slice *scratch_arg(const loop_stmt *s, const char *name)
{
    loop_call_arg args[LOOP_CALL_MAX_ARGS];
    int n = loop_call_args(s, args);
    const loop_slice *found = NULL;
    for (int k = 0; k < n; k++) {
        const loop_buf *b = args[k].slice->buf;
        if (b->tensor || b->kind != LOOP_BUF_ARENA)
            continue;
        cr_assert(!found, "%s: two scratch arguments", name);
        found = args[k].slice;
    }
    cr_assert(found, "%s: no scratch argument", name);
    return found;
}

/* The slot loop of step name: its first statement, a loop over slots
 * slots of a loop over batch / slots images (none when one), around a
 * kernel call whose scratch is a copy per slot; marked parallel. The
 * images past the slots (batch % slots) follow it: a loop over them
 * (none for one) around the same call on slot 0's scratch. */
static void expect_slot_loop(const loop_func *f, const char *name, int64_t batch,
                             int64_t slots)
{
    const loop_block *body = &f->steps[step_index(f, name)]->body;
    cr_assert(body->n >= 1, "%s: empty", name);
    int64_t rest = batch % slots;
    if (rest) {
        cr_assert(body->n >= 2, "%s: no images past the slots", name);
        const loop_stmt *r = body->stmts[1];
        if (rest > 1) {
            cr_assert(r->kind == LOOP_STMT_FOR && r->extent == rest && !r->slots &&
                          !r->parallel,
                      "%s: no serial loop over %lld images", name, (long long)rest);
            r = r->body.stmts[0];
        }
        cr_assert_eq(r->kind, LOOP_STMT_CALL, "%s", name);
        const loop_slice *sc = scratch_arg(r, name);
        cr_expect(sc->idx.n == 0 && sc->idx.offset == 0, "%s: not slot 0's scratch", name);
    }
    const loop_stmt *s = body->stmts[0];
    cr_assert(s->kind == LOOP_STMT_FOR && s->slots && s->extent == slots && s->parallel,
              "%s: not a parallel loop over %lld slots", name, (long long)slots);
    const loop_stmt *call = s->body.stmts[0];
    if (batch / slots > 1) {
        cr_assert(call->kind == LOOP_STMT_FOR && call->extent == batch / slots && !call->slots,
                  "%s: no loop over a slot's images", name);
        call = call->body.stmts[0];
    }
    cr_assert_eq(call->kind, LOOP_STMT_CALL, "%s", name);
    const loop_slice *sc = scratch_arg(call, name);
    cr_expect(sc->idx.n == 1 && sc->idx.var[0] == s->var &&
                  sc->idx.coef[0] * slots == sc->buf->numel,
              "%s: %s not a copy a slot", name, sc->buf->name);
}

/* The graph at batch lowered for threads threads, planned and its loops
 * marked parallel. */
static loop_func *lowered_for(ir_graph *g, int threads, ir_diag *d)
{
    tl_infer_ok(g);
    ir_diag_init(d);
    loop_func *f = NULL;
    lower_opts o = {.threads = threads};
    cr_assert_eq(lower_graph_with(g, "m", &o, &f, d), LOOM_STATUS_OK, "%s",
                 d->text ? d->text : "");
    cr_assert_eq(loop_plan_memory(f, d), LOOM_STATUS_OK, "%s", d->text ? d->text : "");
    cr_assert_eq(loop_parallelize(f, NULL, d), LOOM_STATUS_OK, "%s", d->text ? d->text : "");
    cr_assert_eq(loop_verify(f, d), LOOM_STATUS_OK, "%s", d->text ? d->text : "");
    return f;
}

static const char *const slot_steps[] = {"n_wg", "n_wp", "n_im", "n_col", "n_tr",
                                         "n_dw", "n_d1", "n_p2", "n_bp"};
#define SLOT_STEPS ((int)(sizeof slot_steps / sizeof *slot_steps))

/* At batch 4: two slots by default and for two threads, three for three
 * (the fourth image after them), four for four; at batch 3 two slots and
 * the third image after them, at batch 5 four and the fifth; for 1000
 * threads at most LOOMRT_MAX_THREADS. The
 * compiled code agrees with the interpreter on the thread count it was
 * compiled for: the slots split over the threads at two and four (and
 * at three for three), or run in order, each image split inside the
 * kernels, at one. */
Test(lower_conv, image_slots)
{
    static const struct {
        int64_t batch;
        int threads;
        int64_t slots;
    } cases[] = {{4, 0, 2}, {4, 2, 2}, {4, 3, 3}, {4, 4, 4}, {3, 2, 2}, {5, 4, 4}};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        ir_graph *g = image_slots_graph(cases[t].batch);
        ir_diag d;
        loop_func *f = lowered_for(g, cases[t].threads, &d);
        for (int i = 0; i < SLOT_STEPS; i++)
            expect_slot_loop(f, slot_steps[i], cases[t].batch, cases[t].slots);
        int calls = cases[t].batch % cases[t].slots ? 2 : 1; /* the slots', the rest's */
        cr_expect_eq(step_calls(f, "n_im", LOOP_KERNEL_CONV2D), calls);
        cr_expect_eq(step_calls(f, "n_col", LOOP_KERNEL_IM2COL), calls);
        cr_expect_eq(step_calls(f, "n_tr", LOOP_KERNEL_CONV2D_T), calls);
        cr_expect_eq(step_calls(f, "n_e1", LOOP_KERNEL_SGEMM) +
                         step_calls(f, "n_e1", LOOP_KERNEL_SGEMM_PACKED), 0, "e1 not fused");
        cr_expect_eq(step_calls(f, "n_d1", LOOP_KERNEL_DWCONV), calls);
        cr_expect_eq(step_calls(f, "n_p2", LOOP_KERNEL_DWCONV), calls);
        if (calls == 1)
            cr_expect(dw_call(f, "n_d1")->pw.buf && dw_call(f, "n_p2")->pj.buf);
        loop_func_free(f);
        ir_diag_free(&d);
        tl_check_c_threads(g, NULL, ATOL, RTOL, cases[t].threads ? cases[t].threads : 1);
        ir_graph_free(g);
    }
    /* compiled for more threads than a run can have: LOOMRT_MAX_THREADS
     * slots, the rest after them */
    ir_graph *g = image_slots_graph(LOOMRT_MAX_THREADS + 6);
    ir_diag d;
    loop_func *f = lowered_for(g, 1000, &d);
    for (int i = 0; i < SLOT_STEPS; i++)
        expect_slot_loop(f, slot_steps[i], LOOMRT_MAX_THREADS + 6, LOOMRT_MAX_THREADS);
    loop_func_free(f);
    ir_diag_free(&d);
    ir_graph_free(g);
}
