/*
 * The rewrite API of ir/ir_rewrite.c on small parsed graphs: users and use
 * counts (graph outputs count), replace-all-uses (graph outputs follow),
 * insert before, erase, absorb (a node takes its consumer's output and
 * place), growing a node's operand list. The graph must verify after each
 * rewrite that leaves it well formed.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ir.h"
#include "ir_text.h"

static ir_graph *parse(const char *text)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse(text, strlen(text), "t.lir", &g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    ir_diag_free(&d);
    return g;
}

static void verifies(ir_graph *g)
{
    ir_diag d;
    ir_diag_init(&d);
    jmp_buf jb;
    cr_assert(IR_TRY(&g->arena, jb));
    cr_assert_eq(ir_verify(g, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
    g->arena.oom = NULL;
    ir_diag_free(&d);
}

static const char *const diamond = "graph @g(%x: f32[4]) {\n"
                                   "  %a = Neg(%x)\n"
                                   "  %b = Abs(%a)\n"
                                   "  %c = Add(%a, %a)\n"
                                   "  %d = Add(%b, %c)\n"
                                   "  return %d, %a\n"
                                   "}\n";

Test(rewrite, users_and_uses)
{
    ir_graph *g = parse(diamond);
    ir_value *a = ir_graph_find_value(g, "a"), *b = ir_graph_find_value(g, "b");
    ir_node *users[4];
    cr_assert_eq(ir_value_users(g, a, users, 4), 2); /* Abs, Add (once) */
    cr_assert_eq(users[0], g->nodes[1]);
    cr_assert_eq(users[1], g->nodes[2]);
    cr_assert_eq(ir_value_n_uses(g, a), 4); /* three operand slots, one output */
    cr_assert_null(ir_value_single_user(g, a));
    cr_assert_eq(ir_value_single_user(g, b), g->nodes[3]);
    ir_graph_free(g);
}

Test(rewrite, replace_all_uses_follows_graph_outputs)
{
    ir_graph *g = parse(diamond);
    ir_value *a = ir_graph_find_value(g, "a"), *x = ir_graph_find_value(g, "x");
    ir_replace_all_uses(g, a, x);
    cr_assert_eq(g->nodes[1]->inputs[0], x);
    cr_assert_eq(g->outputs[1], x);
    cr_assert(!a->is_output);
    cr_assert(x->is_output);
    ir_graph_free(g);
}

Test(rewrite, insert_and_erase)
{
    ir_graph *g = parse(diamond);
    jmp_buf jb;
    cr_assert(IR_TRY(&g->arena, jb));
    ir_value *x = ir_graph_find_value(g, "x"), *a = ir_graph_find_value(g, "a");
    ir_value *e = ir_graph_new_value(g, "e", IR_DTYPE_F32);
    ir_node *n = ir_graph_insert_node(g, g->nodes[0], IR_OP_EXP, "e", &x, 1, &e, 1);
    cr_assert_eq(g->nodes[0], n);
    cr_assert_eq(n->id, 0);
    cr_assert_eq(g->nodes[1]->id, 1);
    g->nodes[1]->inputs[0] = e; /* a = Neg(e) */
    cr_assert_eq(ir_infer_graph(g, &(ir_diag){0}), LOOM_STATUS_OK);
    verifies(g);
    ir_node *neg = a->producer;
    ir_replace_all_uses(g, a, e);
    ir_graph_erase_node(g, neg);
    cr_assert_null(a->producer);
    cr_assert_eq(g->n_nodes, 4);
    for (int k = 0; k < g->n_nodes; k++)
        cr_assert_eq(g->nodes[k]->id, k);
    ir_graph_drop_unused_values(g);
    cr_assert_null(ir_graph_find_value(g, "a"));
    verifies(g);
    g->arena.oom = NULL;
    ir_graph_free(g);
}

Test(rewrite, absorb_moves_to_the_consumer)
{
    ir_graph *g = parse("graph @g(%x: f32[4], %w: f32[4,4]) {\n"
                        "  %m = MatMul(%x, %w)\n"
                        "  %s = Sigmoid(%x)\n"
                        "  %y = Relu(%m)\n"
                        "  return %y, %s\n"
                        "}\n");
    jmp_buf jb;
    cr_assert(IR_TRY(&g->arena, jb));
    ir_node *mm = g->nodes[0], *relu = g->nodes[2];
    ir_value *y = relu->outputs[0];
    ir_node_absorb(g, mm, relu);
    cr_assert_eq(g->n_nodes, 2);
    cr_assert_eq(g->nodes[0]->op, IR_OP_SIGMOID);
    cr_assert_eq(g->nodes[1], mm);
    cr_assert_eq(mm->id, 1);
    cr_assert_eq(mm->outputs[0], y);
    cr_assert_eq(y->producer, mm);
    ir_node_set_input(g, mm, 3, ir_graph_find_value(g, "s")); /* grows, 2 omitted */
    cr_assert_eq(mm->n_inputs, 4);
    cr_assert_null(mm->inputs[2]);
    ir_graph_drop_unused_values(g);
    g->arena.oom = NULL;
    ir_graph_free(g);
}
