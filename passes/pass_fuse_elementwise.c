/*
 * Elementwise fusion: a tree of f32 elementwise ops (the ops of
 * ir_ew_op: Add, Sub, Mul, Div, Neg, Abs, Sqrt, Exp, Log, Erf, Tanh,
 * Sigmoid, Relu, Reciprocal) becomes one FusedElementwise node (ir_fused.h),
 * lowered to one loop nest: one pass over memory instead of one per op, and
 * no intermediate tensors. A node joins the tree of the node reading its
 * output when that is its only use, the value is not a graph output, and
 * both outputs have the same shape (a smaller operand would be recomputed
 * for every element it is broadcast to). Trees of one node, and trees
 * past IR_EW_MAX instructions or IR_EW_MAX_INPUTS inputs, stay as they
 * are. The fused node takes the root's place, output and name.
 */
#include <stdio.h>

#include "ir_fused.h"
#include "ir_infer.h"
#include "passes.h"

static bool candidate(const ir_node *n)
{
    bool unary;
    if (!ir_ew_op(n->op, &unary) || n->outputs[0]->dtype != IR_DTYPE_F32)
        return false;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i]->dtype != IR_DTYPE_F32)
            return false;
    return true;
}

/* The node n's operand i is computed by, when that node joins n's tree. */
static ir_node *child(const ir_graph *g, const ir_node *n, int i, const int *parent)
{
    ir_value *v = n->inputs[i];
    ir_node *p = v->producer;
    if (!p || parent[p->id] != n->id)
        return NULL;
    (void)g;
    return p;
}

/* A tree being flattened into a program. */
typedef struct tree {
    ir_value *inputs[IR_EW_MAX_INPUTS];
    int n_inputs;
    const ir_node *nodes[IR_EW_MAX]; /* in program order */
    int n_nodes;
} tree;

/* Collects the nodes of n's tree in post-order; false when it is too big. */
static bool collect(const ir_graph *g, const ir_node *n, const int *parent, tree *t)
{
    for (int i = 0; i < n->n_inputs; i++) {
        ir_node *c = child(g, n, i, parent);
        if (c && !collect(g, c, parent, t))
            return false;
        if (!c) {
            int k = 0;
            while (k < t->n_inputs && t->inputs[k] != n->inputs[i])
                k++;
            if (k == IR_EW_MAX_INPUTS)
                return false;
            if (k == t->n_inputs)
                t->inputs[t->n_inputs++] = n->inputs[i];
        }
    }
    if (t->n_nodes == IR_EW_MAX)
        return false;
    t->nodes[t->n_nodes++] = n;
    return true;
}

/* Operand index of value v in the program of t: an input, or the result of
 * the instruction computing it. */
static int operand(const tree *t, const ir_value *v)
{
    for (int k = 0; k < t->n_nodes; k++)
        if (t->nodes[k]->outputs[0] == v)
            return t->n_inputs + k;
    for (int k = 0; k < t->n_inputs; k++)
        if (t->inputs[k] == v)
            return k;
    return -1;
}

/* Replaces the tree t rooted at its last node by one FusedElementwise. */
static void fuse(ir_graph *g, const tree *t)
{
    const char *prog[IR_EW_MAX];
    for (int k = 0; k < t->n_nodes; k++) {
        const ir_node *n = t->nodes[k];
        int a = operand(t, n->inputs[0]), b = n->n_inputs > 1 ? operand(t, n->inputs[1]) : -1;
        prog[k] = b >= 0 ? ir_arena_printf(&g->arena, "%s %d %d", ir_op_name(n->op), a, b)
                         : ir_arena_printf(&g->arena, "%s %d", ir_op_name(n->op), a);
    }
    ir_node *root = (ir_node *)t->nodes[t->n_nodes - 1];
    ir_value *y = root->outputs[0];
    ir_node *f = ir_graph_insert_node(g, root, IR_OP_FUSED_ELEMENTWISE, root->name, t->inputs,
                                      t->n_inputs, &y, 1);
    ir_node_set_strings(g, f, "program", prog, t->n_nodes);
    for (int k = 0; k < t->n_nodes; k++)
        ir_graph_erase_node(g, (ir_node *)t->nodes[k]);
}

/* parent[k]: the id of the node whose tree node k joins, or -1. */
static void link_trees(const ir_graph *g, int *parent)
{
    for (int k = 0; k < g->n_nodes; k++) {
        const ir_node *n = g->nodes[k];
        parent[k] = -1;
        ir_value *y = n->outputs[0];
        ir_node *u = candidate(n) ? ir_value_single_user(g, y) : NULL;
        if (u && candidate(u) && ir_shape_equal(&y->shape, &u->outputs[0]->shape))
            parent[k] = u->id;
    }
}

loom_status pass_fuse_elementwise(ir_graph *g, ir_diag *d)
{
    int *parent = ir_calloc((size_t)g->n_nodes + 1, sizeof *parent);
    ir_node **roots = ir_calloc((size_t)g->n_nodes + 1, sizeof *roots);
    if (!parent || !roots) {
        ir_free(parent);
        ir_free(roots);
        ir_diag_graph(d, g, "out of memory in fuse-elementwise");
        return LOOM_STATUS_NOMEM;
    }
    link_trees(g, parent);
    int n_roots = 0;
    for (int k = 0; k < g->n_nodes; k++)
        if (parent[k] < 0 && candidate(g->nodes[k]))
            roots[n_roots++] = g->nodes[k];
    tree *t = ir_arena_alloc(&g->arena, sizeof *t);
    for (int r = 0; r < n_roots; r++) {
        t->n_inputs = t->n_nodes = 0;
        /* ids change as trees are replaced: relink against the current ones */
        link_trees(g, parent);
        if (collect(g, roots[r], parent, t) && t->n_nodes > 1)
            fuse(g, t);
    }
    ir_free(parent);
    ir_free(roots);
    ir_graph_drop_unused_values(g);
    return ir_infer_graph(g, d);
}
