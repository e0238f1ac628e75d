/*
 * Widening of ops on f16/bf16 operands to f32 (see ir_half.h): Cast nodes
 * inserted around the op, so that only Cast ever reads or writes a half
 * value and every kernel, interpreter case and lowering works in f32.
 */
#include "ir_half.h"

/* A Cast of x to dtype t, inserted before `before` (appended when NULL),
 * writing y; y gets x's shape. */
static ir_node *insert_cast(ir_graph *g, ir_node *before, const char *name, ir_value *x,
                            ir_value *y, ir_dtype t)
{
    ir_node *c = ir_graph_insert_node(g, before, IR_OP_CAST, name, &x, 1, &y, 1);
    ir_node_set_int(g, c, "to", ir_dtype_to_onnx(t));
    return c;
}

ir_dtype ir_half_widen_inputs(ir_graph *g, ir_node *n, int *inserted)
{
    ir_dtype half = IR_DTYPE_COUNT;
    *inserted = 0;
    if (n->op == IR_OP_CAST)
        return half;
    for (int i = 0; i < n->n_inputs; i++) {
        ir_value *x = n->inputs[i];
        if (!x || !ir_dtype_is_half(x->dtype))
            continue;
        half = x->dtype;
        ir_value *w = ir_graph_new_value(g, x->name, IR_DTYPE_F32);
        const char *name = ir_arena_printf(&g->arena, "%s.widen%d", n->name, i);
        insert_cast(g, n, name, x, w, IR_DTYPE_F32);
        for (int j = i; j < n->n_inputs; j++) /* the same value in another slot */
            if (n->inputs[j] == x)
                n->inputs[j] = w;
        (*inserted)++;
    }
    return half;
}

int ir_half_narrow_outputs(ir_graph *g, ir_node *n, ir_dtype half)
{
    int count = 0;
    ir_node *after = n->id + 1 < g->n_nodes ? g->nodes[n->id + 1] : NULL;
    for (int i = 0; i < n->n_outputs; i++) {
        ir_value *v = n->outputs[i];
        if (!v || v->dtype != IR_DTYPE_F32)
            continue;
        ir_value *w = ir_graph_new_value(g, v->name, IR_DTYPE_F32);
        ir_value_set_shape(w, v->shape.rank, v->shape.dims);
        w->data = v->data;
        v->data = NULL;
        w->producer = n;
        n->outputs[i] = w;
        v->dtype = half;
        const char *name = ir_arena_printf(&g->arena, "%s.narrow%d", n->name, i);
        insert_cast(g, after, name, w, v, half);
        count++;
    }
    return count;
}
