/*
 * Pattern-matching helpers of the fusion passes (pass_match.h).
 */
#include <math.h>
#include <string.h>

#include "pass_match.h"

bool pass_const_near(const ir_value *v, double want, double tol)
{
    if (!v || !v->data || ir_shape_numel(&v->shape) != 1)
        return false;
    double x;
    if (v->dtype == IR_DTYPE_F32) {
        float f;
        memcpy(&f, v->data, sizeof f);
        x = f;
    } else if (v->dtype == IR_DTYPE_F64) {
        memcpy(&x, v->data, sizeof x);
    } else {
        return false;
    }
    return fabs(x - want) <= tol;
}

ir_node *pass_producer(const ir_value *v, ir_op op)
{
    return v && v->producer && v->producer->op == op ? v->producer : NULL;
}

ir_value *pass_other_operand(const ir_node *n, ir_op op, const ir_value *v)
{
    if (!n || n->op != op || n->n_inputs != 2)
        return NULL;
    if (n->inputs[0] == v)
        return n->inputs[1];
    return n->inputs[1] == v ? n->inputs[0] : NULL;
}

ir_node *pass_single_user(const ir_graph *g, const ir_node *n, ir_op op)
{
    if (!n)
        return NULL;
    ir_node *u = ir_value_single_user(g, n->outputs[0]);
    return u && u->op == op ? u : NULL;
}

loom_status pass_fuse_each(ir_graph *g, ir_op op1, ir_op op2, pass_fuse_fn fuse, ir_diag *d)
{
    loom_status st = LOOM_STATUS_OK;
    bool changed = false;
    for (int i = 0; i < g->n_nodes && st == LOOM_STATUS_OK; i++) {
        ir_node *n = g->nodes[i];
        if ((n->op == op1 || n->op == op2) && fuse(g, n, d, &st)) {
            changed = true;
            i = -1; /* node positions moved: start over */
        }
    }
    if (st == LOOM_STATUS_OK && changed)
        ir_graph_drop_unused_values(g);
    return st;
}

ir_node *pass_replace_chain(ir_graph *g, ir_node *const *chain, int n, ir_op op,
                            ir_value *const *inputs, int n_inputs)
{
    ir_node *last = chain[n - 1];
    ir_value *y = last->outputs[0];
    const char *name = last->name;
    for (int i = 0; i < n; i++)
        ir_graph_erase_node(g, chain[i]);
    /* the first erased node's slot: every input is defined before it or
     * is computed outside the chain before the last node; take the slot
     * after the last input's producer instead when that is later */
    int pos = 0;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] && inputs[i]->producer && inputs[i]->producer->id + 1 > pos)
            pos = inputs[i]->producer->id + 1;
    ir_node *before = pos < g->n_nodes ? g->nodes[pos] : NULL;
    return ir_graph_insert_node(g, before, op, name, inputs, n_inputs, &y, 1);
}
