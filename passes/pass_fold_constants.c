/*
 * Constant folding: a node whose present inputs are all constant is
 * evaluated by the reference interpreter and replaced by its results, which
 * become constants; the node is removed and unused values are dropped.
 * Graph outputs that become constant stay outputs (the lowering copies them).
 */
#include "interp.h"
#include "passes.h"

static bool all_inputs_const(const ir_node *n)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !n->inputs[i]->data)
            return false;
    return true;
}

loom_status pass_fold_constants(ir_graph *g, ir_diag *d)
{
    /* in the graph's arena: an allocation failure while evaluating longjmps
     * to the pipeline's handler, which a heap block here would leak past */
    bool *keep = ir_arena_alloc(&g->arena, ((size_t)g->n_nodes + 1) * sizeof *keep);
    loom_status st = LOOM_STATUS_OK;
    int folded = 0;
    for (int k = 0; k < g->n_nodes && !st; k++) {
        ir_node *n = g->nodes[k];
        keep[k] = true;
        if (!all_inputs_const(n))
            continue;
        st = interp_eval_node(g, n, d);
        if (st)
            break;
        for (int i = 0; i < n->n_outputs; i++)
            if (n->outputs[i])
                n->outputs[i]->producer = NULL;
        keep[k] = false;
        folded++;
    }
    if (!st && folded) {
        ir_graph_compact_nodes(g, keep);
        ir_graph_drop_unused_values(g);
    }
    return st;
}
