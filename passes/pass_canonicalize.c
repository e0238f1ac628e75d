/*
 * Canonicalization: local rewrites that put the graph in the one form the
 * other passes match, each keeping the values exactly:
 *   - Identity, and Dropout whose mask is unused (inference Dropout is the
 *     identity: ONNX Dropout-13 with training_mode false), forward their
 *     input;
 *   - Transpose(Transpose(x, p1), p2) is Transpose(x, p1[p2[i]]), and
 *     nothing when that is the identity permutation;
 *   - a chain of two reshaping ops (Reshape, Flatten, Squeeze, Unsqueeze)
 *     is one Reshape to the final, fully specified shape;
 *   - Add and Mul with a constant first operand and a computed second one
 *     take them the other way round (both ops commute, broadcasting too).
 * The first of a chain must have no other use. A graph output keeps its
 * name: the node producing the forwarded value is made to produce it.
 */
#include <string.h>

#include "ir_infer.h"
#include "passes.h"

/* y takes x's place: users of y read x. When y is a graph output, x's
 * producer writes y instead (and x's users read y). False when neither is
 * possible (y is an output and x an input, constant or output). */
static bool forward(ir_graph *g, ir_value *x, ir_value *y)
{
    if (!y->is_output) {
        ir_replace_all_uses(g, y, x);
        return true;
    }
    ir_node *p = x->producer;
    if (!p || x->is_output)
        return false;
    for (int i = 0; i < p->n_outputs; i++)
        if (p->outputs[i] == x)
            p->outputs[i] = y;
    y->producer = p;
    ir_replace_all_uses(g, x, y);
    return true;
}

/* Identity, and Dropout without a used mask. */
static bool is_identity(const ir_graph *g, const ir_node *n)
{
    if (n->op == IR_OP_IDENTITY)
        return true;
    if (n->op != IR_OP_DROPOUT)
        return false;
    const ir_value *mask = ir_output(n, 1);
    return !mask || (!mask->is_output && ir_value_n_uses(g, mask) == 0);
}

/* The permutation of a Transpose (default: reversed). */
static void transpose_perm(const ir_node *n, int rank, int64_t *perm)
{
    const int64_t *p;
    int count = ir_attr_ints(n, "perm", &p);
    for (int i = 0; i < rank; i++)
        perm[i] = count == rank ? p[i] : rank - 1 - i;
}

/* Transpose of a single-use Transpose: one Transpose, or none (then n is
 * erased too). The inner one is erased. */
static bool merge_transposes(ir_graph *g, ir_node *n)
{
    ir_node *inner = n->inputs[0]->producer;
    if (!inner || inner->op != IR_OP_TRANSPOSE || !ir_value_single_user(g, n->inputs[0]))
        return false;
    int rank = n->inputs[0]->shape.rank;
    int64_t p1[IR_MAX_RANK], p2[IR_MAX_RANK], p[IR_MAX_RANK];
    transpose_perm(inner, rank, p1);
    transpose_perm(n, rank, p2);
    bool identity = true;
    for (int i = 0; i < rank; i++) {
        p[i] = p1[p2[i]];
        identity &= p[i] == i;
    }
    ir_value *x = inner->inputs[0];
    if (identity) {
        if (!forward(g, x, n->outputs[0]))
            return false;
        ir_graph_erase_node(g, n);
    } else {
        n->inputs[0] = x;
        ir_node_set_ints(g, n, "perm", p, rank);
    }
    ir_graph_erase_node(g, inner);
    return true;
}

static bool is_reshaping(ir_op op)
{
    return op == IR_OP_RESHAPE || op == IR_OP_FLATTEN || op == IR_OP_SQUEEZE ||
           op == IR_OP_UNSQUEEZE;
}

/* A reshaping op of a single-use reshaping op: Reshape(x, final shape). */
static bool merge_reshapes(ir_graph *g, ir_node *n)
{
    ir_value *y = n->outputs[0];
    ir_node *inner = n->inputs[0]->producer;
    if (!inner || !is_reshaping(inner->op) || !ir_value_single_user(g, n->inputs[0]))
        return false;
    for (int i = 0; i < y->shape.rank; i++)
        if (y->shape.dims[i] == 0) /* 0 would mean "copy" to Reshape */
            return false;
    ir_shape s = {.rank = 1, .dims = {y->shape.rank}};
    ir_value *shape = ir_graph_new_const(g, "shape", IR_DTYPE_I64, &s);
    memcpy(shape->data, y->shape.dims, (size_t)y->shape.rank * sizeof(int64_t));
    ir_value *ops[2] = {inner->inputs[0], shape};
    ir_graph_insert_node(g, n, IR_OP_RESHAPE, n->name, ops, 2, &y, 1);
    ir_graph_erase_node(g, n);
    ir_graph_erase_node(g, inner);
    return true;
}

/* Add(c, x) / Mul(c, x) with c constant and x not: Add(x, c). */
static bool constant_second(ir_node *n)
{
    if ((n->op != IR_OP_ADD && n->op != IR_OP_MUL) || !n->inputs[0]->data || n->inputs[1]->data)
        return false;
    ir_value *t = n->inputs[0];
    n->inputs[0] = n->inputs[1];
    n->inputs[1] = t;
    return true;
}

/* One rewrite of n; true if the graph changed (n may be gone). */
static bool rewrite(ir_graph *g, ir_node *n)
{
    if (is_identity(g, n)) {
        if (!forward(g, n->inputs[0], n->outputs[0]))
            return false;
        ir_graph_erase_node(g, n);
        return true;
    }
    if (n->op == IR_OP_TRANSPOSE && merge_transposes(g, n))
        return true;
    if (is_reshaping(n->op) && merge_reshapes(g, n))
        return true;
    return constant_second(n);
}

loom_status pass_canonicalize(ir_graph *g, ir_diag *d)
{
    (void)d;
    bool changed = true;
    for (int round = 0; changed && round < 64; round++) {
        changed = false;
        for (int k = 0; k < g->n_nodes; k++)
            if (rewrite(g, g->nodes[k])) {
                changed = true;
                k = -1; /* nodes before k may have moved: start over */
            }
    }
    ir_graph_drop_unused_values(g);
    return LOOM_STATUS_OK;
}
