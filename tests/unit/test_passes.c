/*
 * Numerics of the passes: each graph in tests/passes/Inputs (random
 * weights; BatchNormalization after Conv, depthwise Conv, grouped strided
 * ConvTranspose and Gemm both ways, residual Adds, every kind of
 * activation, a MatMul bias, an elementwise tree, the decomposed layer
 * norm and GELU forms, a multi-head attention block) is run in the
 * reference interpreter as written, then compiled at -O3, where
 * fold-batchnorm, fuse-layernorm, fuse-gelu, fuse-attention, fuse-conv-act
 * and fuse-elementwise rewrite it, and run as C with
 * OpenBLAS and standalone (tl_check_c). Tolerance 1e-5 absolute plus 1e-4
 * relative: folding rounds the scaled weights to f32 once, where the
 * unfused graph rounds the convolution's output before scaling.
 * A second copy of each graph checks that the pipeline did fuse: the node
 * count after -O3 is the expected one.
 */
#include "ir_text.h"
#include "testlib.h"

static ir_graph *load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/passes/Inputs/%s.lir", LOOM_SOURCE_DIR, name);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse_file(path, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : "");
    ir_diag_free(&d);
    return g;
}

/* The pipeline at -O3 leaves `nodes` nodes; the C code agrees with the
 * interpreter on the graph as written. */
static void check(const char *name, int nodes)
{
    ir_graph *g = load(name);
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(pass_pipeline(g, NULL, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    cr_assert_eq(g->n_nodes, nodes, "%s: %d nodes after -O3, expected %d", name, g->n_nodes, nodes);
    ir_diag_free(&d);
    ir_graph_free(g);
    g = load(name);
    tl_check_c(g, NULL, 1e-5f, 1e-4f);
    ir_graph_free(g);
}

TestSuite(passes, .timeout = 300);

Test(passes, conv_bn_residual_relu) { check("conv_bn_residual_relu", 2); }
Test(passes, depthwise_bn_clip) { check("depthwise_bn_clip", 1); }
Test(passes, conv_transpose_groups_bn) { check("conv_transpose_groups_bn", 1); }
Test(passes, gemm_bn_act) { check("gemm_bn_act", 2); }
Test(passes, matmul_bias_gelu) { check("matmul_bias_gelu", 1); }
Test(passes, elementwise_tree) { check("elementwise_tree", 1); }
Test(passes, decomposed_ln_gelu) { check("decomposed_ln_gelu", 3); }
Test(passes, conv_hard_swish) { check("conv_hard_swish", 1); }
Test(passes, attention_heads) { check("attention_heads", 12); }

/* -O0 runs fold-constants only: nothing is fused. */
Test(passes, level_zero_fuses_nothing)
{
    ir_graph *g = load("conv_bn_residual_relu");
    int before = g->n_nodes;
    ir_diag d;
    ir_diag_init(&d);
    pass_options po = pass_options_default();
    po.opt_level = 0;
    cr_assert_eq(pass_pipeline(g, &po, &d), LOOM_STATUS_OK);
    cr_assert_eq(g->n_nodes, before);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* --disable-pass leaves that pass out. */
Test(passes, disabled_pass_does_not_run)
{
    ir_graph *g = load("conv_bn_residual_relu");
    ir_diag d;
    ir_diag_init(&d);
    pass_options po = pass_options_default();
    cr_assert(pass_options_disable(&po, "fuse-conv-act"));
    cr_assert(!pass_options_disable(&po, "no-such-pass"));
    cr_assert_eq(pass_pipeline(g, &po, &d), LOOM_STATUS_OK);
    /* Conv, Conv, and Add + Relu fused by fuse-elementwise instead */
    cr_assert_eq(g->n_nodes, 3, "%d nodes", g->n_nodes);
    ir_diag_free(&d);
    ir_graph_free(g);
}
