/*
 * ONNX control flow expanded by the reader (frontend/fe_onnx_control.c):
 * the expanded graph keeps the control node's output names and shapes,
 * binding a Loop's trip count with --const fixes the unrolled length, and
 * every allocation failure during an expansion is reported as out of
 * memory without a leak. Numbers are checked against onnxruntime by
 * test_models (tests/models/cf_*, loop_if_ts) and the ONNX node tests.
 */
#include "fe_onnx.h"
#include "testlib.h"

#define MODELS LOOM_SOURCE_DIR "/tests/models/"
#define DIAG LOOM_SOURCE_DIR "/tests/diag/"

static ir_graph *load(const char *path)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_onnx_load(path, NULL, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : "");
    ir_diag_free(&d);
    return g;
}

static void assert_shape(const ir_value *v, int rank, const int64_t *dims)
{
    cr_assert_eq(v->shape.rank, rank, "%s", v->name);
    for (int i = 0; i < rank; i++)
        cr_assert_eq(v->shape.dims[i], dims[i], "%s dim %d", v->name, i);
}

Test(onnx_control, loop_and_if_keep_output_names_and_shapes)
{
    ir_graph *g = load(MODELS "cf_loop_nested/model.onnx");
    cr_assert_eq(g->n_outputs, 2);
    cr_assert_str_eq(g->outputs[0]->name, "x_final");
    cr_assert_str_eq(g->outputs[1]->name, "totals");
    assert_shape(g->outputs[0], 2, (int64_t[]){2, 3});
    assert_shape(g->outputs[1], 1, (int64_t[]){4}); /* one total per iteration */
    int matmuls = 0;
    for (int i = 0; i < g->n_nodes; i++)
        matmuls += g->nodes[i]->op == IR_OP_MAT_MUL;
    cr_assert_eq(matmuls, 4, "the body is unrolled once per iteration");
    ir_graph_free(g);
}

Test(onnx_control, bound_trip_count_sets_the_unrolled_length)
{
    ir_graph *scratch = ir_graph_new("b", "b");
    ir_value *n = ir_graph_new_const(scratch, "n", IR_DTYPE_I64, &(ir_shape){0});
    *(int64_t *)n->data = 3;
    fe_binding bind = {"n", n};
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_onnx_load_bound(DIAG "cf_loop_dynamic_trip.onnx", NULL, &bind, 1, &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    int adds = 0;
    for (int i = 0; i < g->n_nodes; i++)
        adds += g->nodes[i]->op == IR_OP_ADD;
    cr_assert_eq(adds, 3);
    ir_graph_free(g);
    ir_graph_free(scratch);
    ir_diag_free(&d);
}

Test(onnx_control, every_allocation_failure)
{
    tl_load_alloc_sweep(MODELS "cf_loop_nested/model.onnx", LOOM_STATUS_OK);
    tl_load_alloc_sweep(MODELS "cf_scan_axes/model.onnx", LOOM_STATUS_OK);
}
