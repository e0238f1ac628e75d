/*
 * Tests of constant folding (passes/pass_fold_constants.c): constant
 * subgraphs become constants with the values worked out by hand in the
 * comments, nodes with a computed input stay, graph outputs that become
 * constant stay outputs, and an allocation failure is reported.
 */
#include "leak_check.h"
#include "passes.h"
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

/* x * sqrt(a + b) with a, b constant; the Relu of a constant is an output. */
static ir_graph *build(void)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, D(2));
    ir_value *a = tl_const_f32(g, "a", 1, D(2), (float[]){1.0f, 4.0f});
    ir_value *b = tl_const_f32(g, "b", 1, D(2), (float[]){0.5f, -2.0f});
    ir_node *s = tl_node(g, IR_OP_ADD, "s", 2, (ir_value *[]){a, b}, 1, "s");
    ir_node *q = tl_node(g, IR_OP_SQRT, "q", 1, (ir_value *[]){s->outputs[0]}, 1, "q");
    tl_node(g, IR_OP_MUL, "m", 2, (ir_value *[]){x, q->outputs[0]}, 1, "m");
    tl_node(g, IR_OP_RELU, "r", 1, (ir_value *[]){b}, 1, "r");
    tl_mark_outputs(g);
    tl_infer_ok(g);
    return g;
}

Test(fold_constants, folds_constant_chains_and_keeps_the_rest)
{
    ir_graph *g = build();
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(pass_fold_constants(g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    tl_infer_ok(g);
    /* only the Mul, which reads the input, is left */
    cr_assert_eq(g->n_nodes, 1);
    ir_node *m = g->nodes[0];
    cr_assert_eq(m->op, IR_OP_MUL);
    cr_assert_eq(m->inputs[0], g->inputs[0]);
    const ir_value *q = m->inputs[1];
    cr_assert_not_null(q->data, "sqrt(a + b) was not folded");
    cr_assert_null(q->producer);
    /* sqrt(1 + 0.5) = 1.22474487, sqrt(4 - 2) = 1.41421356 */
    tl_assert_close_f32(q->data, (float[]){1.22474487f, 1.41421356f}, 2, 1e-7f, 1e-7f);
    /* relu(b) = [0.5, 0] stays the second graph output, now a constant */
    cr_assert_eq(g->n_outputs, 2);
    const ir_value *r = g->outputs[1];
    cr_assert_str_eq(r->name, "r");
    cr_assert_not_null(r->data);
    tl_assert_close_f32(r->data, (float[]){0.5f, 0.0f}, 2, 0, 0);
    /* a, b and s are gone: values nothing reads are dropped */
    for (int i = 0; i < g->n_values; i++)
        cr_assert(strcmp(g->values[i]->name, "s") != 0 && strcmp(g->values[i]->name, "a") != 0,
                  "%s was not dropped", g->values[i]->name);
    ir_diag_free(&d);
    ir_graph_free(g);
    assert_no_leaks();
}

Test(fold_constants, nothing_to_fold_leaves_the_graph)
{
    ir_graph *g = tl_graph("g");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 1, D(3));
    tl_node(g, IR_OP_RELU, "r", 1, (ir_value *[]){x}, 1, "y");
    tl_mark_outputs(g);
    tl_infer_ok(g);
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(pass_fold_constants(g, &d), LOOM_STATUS_OK);
    cr_assert_eq(g->n_nodes, 1);
    cr_assert_null(g->outputs[0]->data);
    ir_diag_free(&d);
    ir_graph_free(g);
}

/* Runs the pass with an arena failure handler, as pass_pipeline does. */
static loom_status fold_guarded(ir_graph *g, ir_diag *d)
{
    jmp_buf jb;
    volatile loom_status st = LOOM_STATUS_NOMEM; /* the arena's failures jump here */
    if (IR_TRY(&g->arena, jb))
        st = pass_fold_constants(g, d);
    g->arena.oom = NULL;
    return st;
}

Test(fold_constants, out_of_memory_is_reported)
{
    long nomem = 0;
    for (long k = 0;; k++) {
        ir_graph *g = build();
        ir_diag d;
        ir_diag_init(&d);
        long before = ir_alloc_count();
        ir_alloc_fail_after(k);
        loom_status st = fold_guarded(g, &d);
        ir_alloc_fail_after(-1);
        bool injected = ir_alloc_count() - before > k;
        cr_assert_eq(st, injected ? LOOM_STATUS_NOMEM : LOOM_STATUS_OK, "allocation %ld: %s", k,
                     loom_status_name(st));
        nomem += st == LOOM_STATUS_NOMEM;
        ir_diag_free(&d);
        ir_graph_free(g);
        if (!injected)
            break;
    }
    cr_assert_gt(nomem, 0, "no allocation failure was injected");
    assert_no_leaks();
}
