/*
 * Common subexpression elimination, as MLIR's CSE: two nodes with the same
 * op, the same operands (the same values, in order), the same attributes
 * and the same output count compute the same results, so the later one's
 * users read the earlier one's outputs and the later node goes. Identical
 * constants (dtype, shape and bytes) are merged first, so that nodes fed by
 * equal copies of a weight or a shape match too. A value that is a graph
 * output is never replaced: its name is part of the model's interface.
 * Nodes are compared pairwise (graphs have at most thousands of nodes, and
 * the op and first operand reject almost every pair at once).
 */
#include <string.h>

#include "passes.h"

static bool same_const(const ir_value *a, const ir_value *b)
{
    return a->dtype == b->dtype && ir_shape_equal(&a->shape, &b->shape) &&
           memcmp(a->data, b->data, ir_value_bytes(a)) == 0;
}

static bool same_attr(const ir_attr *a, const ir_attr *b)
{
    if (a->kind != b->kind || a->n != b->n)
        return false;
    switch (a->kind) {
    case IR_ATTR_INT: return a->u.i == b->u.i;
    case IR_ATTR_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case IR_ATTR_STRING: return strcmp(a->u.s, b->u.s) == 0;
    case IR_ATTR_INTS: return memcmp(a->u.ints, b->u.ints, (size_t)a->n * sizeof *a->u.ints) == 0;
    case IR_ATTR_FLOATS:
        return memcmp(a->u.floats, b->u.floats, (size_t)a->n * sizeof *a->u.floats) == 0;
    case IR_ATTR_STRINGS:
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->u.strings[i], b->u.strings[i]) != 0)
                return false;
        return true;
    case IR_ATTR_TENSOR: return same_const(a->u.tensor, b->u.tensor);
    case IR_ATTR_KIND_COUNT: break;
    }
    return false;
}

/* Same attributes, in any order. */
static bool same_attrs(const ir_node *a, const ir_node *b)
{
    if (a->n_attrs != b->n_attrs)
        return false;
    for (int i = 0; i < a->n_attrs; i++) {
        const ir_attr *o = ir_node_find_attr(b, a->attrs[i].name);
        if (!o || !same_attr(&a->attrs[i], o))
            return false;
    }
    return true;
}

static bool same_node(const ir_node *a, const ir_node *b)
{
    if (a->op != b->op || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs)
        return false;
    for (int i = 0; i < a->n_inputs; i++)
        if (a->inputs[i] != b->inputs[i])
            return false;
    for (int i = 0; i < a->n_outputs; i++)
        if (!a->outputs[i] != !b->outputs[i])
            return false;
    return same_attrs(a, b);
}

/* Users of b's outputs read a's; false (nothing changed) if one of b's
 * outputs is a graph output. */
static bool merge_node(ir_graph *g, ir_node *a, ir_node *b)
{
    for (int i = 0; i < b->n_outputs; i++)
        if (b->outputs[i] && b->outputs[i]->is_output)
            return false;
    for (int i = 0; i < b->n_outputs; i++)
        if (b->outputs[i])
            ir_replace_all_uses(g, b->outputs[i], a->outputs[i]);
    ir_graph_erase_node(g, b);
    return true;
}

/* Merges equal constants into the first of them. */
static void merge_constants(ir_graph *g)
{
    for (int i = 0; i < g->n_values; i++) {
        ir_value *a = g->values[i];
        if (!a->data || a->is_output)
            continue;
        for (int j = i + 1; j < g->n_values; j++) {
            ir_value *b = g->values[j];
            if (b->data && !b->is_output && !b->is_input && !b->producer && same_const(a, b))
                ir_replace_all_uses(g, b, a);
        }
    }
}

loom_status pass_cse(ir_graph *g, ir_diag *d)
{
    (void)d;
    merge_constants(g);
    for (int k = 0; k < g->n_nodes; k++)
        for (int j = k + 1; j < g->n_nodes; j++)
            if (same_node(g->nodes[k], g->nodes[j]) && merge_node(g, g->nodes[k], g->nodes[j]))
                j--;
    ir_graph_drop_unused_values(g);
    return LOOM_STATUS_OK;
}
