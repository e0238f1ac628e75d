/*
 * Dead code elimination: a node is live when one of its outputs is a graph
 * output or an operand of a live node; one backward sweep over the
 * execution order finds the live nodes (ONNX inference ops have no side
 * effects). Dead nodes are removed, then every value that is neither a
 * graph input or output nor referenced by a node (dead constants, outputs
 * of removed nodes) is dropped.
 */
#include "passes.h"

/* Marks n's operands live. */
static void mark_operands(const ir_node *n, bool *live)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i])
            live[n->inputs[i]->id] = true;
}

static bool produces_live(const ir_node *n, const bool *live)
{
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] && (live[n->outputs[i]->id] || n->outputs[i]->is_output))
            return true;
    return false;
}

loom_status pass_dce(ir_graph *g, ir_diag *d)
{
    bool *live = ir_calloc((size_t)g->n_values + 1, sizeof *live);
    bool *keep = ir_calloc((size_t)g->n_nodes + 1, sizeof *keep);
    if (!live || !keep) {
        ir_free(live);
        ir_free(keep);
        ir_diag_graph(d, g, "out of memory in dce");
        return LOOM_STATUS_NOMEM;
    }
    for (int k = g->n_nodes - 1; k >= 0; k--) {
        keep[k] = produces_live(g->nodes[k], live);
        if (keep[k])
            mark_operands(g->nodes[k], live);
    }
    ir_graph_compact_nodes(g, keep);
    ir_free(live);
    ir_free(keep);
    ir_graph_drop_unused_values(g);
    return LOOM_STATUS_OK;
}
