/*
 * The rewrite API passes use to change a graph in place: who uses a value,
 * replace every use of one value by another, insert a node before another,
 * erase a node. Uses are found by scanning the node list (graphs have at
 * most thousands of nodes, and a pass asks about the few values it matches),
 * so there is no use list to keep in sync. Graph outputs count as uses.
 */
#include <string.h>

#include "ir.h"

int ir_value_users(const ir_graph *g, const ir_value *v, ir_node **users, int max)
{
    int count = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        for (int i = 0; i < n->n_inputs; i++) {
            if (n->inputs[i] != v)
                continue;
            if (count < max)
                users[count] = n;
            count++;
            break;
        }
    }
    return count;
}

int ir_value_n_uses(const ir_graph *g, const ir_value *v)
{
    int count = 0;
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k]->n_inputs; i++)
            count += g->nodes[k]->inputs[i] == v;
    for (int i = 0; i < g->n_outputs; i++)
        count += g->outputs[i] == v;
    return count;
}

ir_node *ir_value_single_user(const ir_graph *g, const ir_value *v)
{
    if (v->is_output || ir_value_n_uses(g, v) != 1)
        return NULL;
    ir_node *user = NULL;
    ir_value_users(g, v, &user, 1);
    return user;
}

void ir_replace_all_uses(ir_graph *g, ir_value *from, ir_value *to)
{
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] == from)
                n->inputs[i] = to;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        if (g->outputs[i] != from)
            continue;
        g->outputs[i] = to;
        from->is_output = false;
        to->is_output = true;
    }
}

/* Moves the last node of g to position pos, shifting the rest down. */
static void move_last_to(ir_graph *g, int pos)
{
    ir_node *n = g->nodes[g->n_nodes - 1];
    memmove(g->nodes + pos + 1, g->nodes + pos,
            (size_t)(g->n_nodes - 1 - pos) * sizeof *g->nodes);
    g->nodes[pos] = n;
    for (int k = pos; k < g->n_nodes; k++)
        g->nodes[k]->id = k;
}

ir_node *ir_graph_insert_node(ir_graph *g, ir_node *before, ir_op op, const char *name,
                              ir_value *const *inputs, int n_inputs, ir_value *const *outputs,
                              int n_outputs)
{
    ir_node *n = ir_graph_add_node(g, op, name, inputs, n_inputs, outputs, n_outputs);
    if (before)
        move_last_to(g, before->id);
    return n;
}

void ir_graph_erase_node(ir_graph *g, ir_node *n)
{
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] && n->outputs[i]->producer == n)
            n->outputs[i]->producer = NULL;
    int pos = n->id;
    memmove(g->nodes + pos, g->nodes + pos + 1, (size_t)(g->n_nodes - 1 - pos) * sizeof *g->nodes);
    g->n_nodes--;
    for (int k = pos; k < g->n_nodes; k++)
        g->nodes[k]->id = k;
    n->id = -1;
}

ir_value *ir_graph_new_const(ir_graph *g, const char *base, ir_dtype dtype, const ir_shape *shape)
{
    ir_value *v = ir_graph_new_value(g, base, dtype);
    ir_value_set_shape(v, shape->rank, shape->dims);
    v->data = ir_arena_alloc(&g->arena, ir_value_bytes(v) ? ir_value_bytes(v) : 1);
    return v;
}

void ir_node_absorb(ir_graph *g, ir_node *n, ir_node *user)
{
    ir_value *y = user->outputs[0];
    n->outputs[0] = y;
    y->producer = n;
    int pos = user->id;
    g->nodes[pos] = n;
    user->id = -1;
    /* take n out of its old slot; everything between moves up one */
    int from = n->id;
    memmove(g->nodes + from, g->nodes + from + 1, (size_t)(pos - from) * sizeof *g->nodes);
    g->nodes[pos - 1] = n;
    memmove(g->nodes + pos, g->nodes + pos + 1, (size_t)(g->n_nodes - 1 - pos) * sizeof *g->nodes);
    g->n_nodes--;
    for (int k = from; k < g->n_nodes; k++)
        g->nodes[k]->id = k;
}

void ir_node_set_input(ir_graph *g, ir_node *n, int i, ir_value *v)
{
    if (i >= n->n_inputs) {
        ir_value **in = ir_arena_array(&g->arena, (size_t)i + 1, sizeof *in);
        memcpy(in, n->inputs, (size_t)n->n_inputs * sizeof *in);
        n->inputs = in; /* the new slots are NULL: omitted inputs */
        n->n_inputs = i + 1;
    }
    n->inputs[i] = v;
}
