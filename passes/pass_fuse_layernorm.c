/*
 * LayerNorm fusion: the decomposed layer normalization that exporters
 * write (torch before opset 17, Keras, hand-written models)
 *   m = ReduceMean(x, axes)      d = Sub(x, m)
 *   v = ReduceMean(Pow(d, 2), axes)   (or Mul(d, d))
 *   y = Div(d, Sqrt(Add(v, eps)))  [ * gamma ] [ + beta ]
 * becomes one LayerNormalization-17 node (ONNX LayerNormalization:
 * Y = (X - mean) / sqrt(var + epsilon) * Scale + B over the dims from
 * axis on), lowered as one pass per row. axes (attribute, or constant
 * input from ReduceMean-18) must be the same trailing dims of x in both
 * reductions, with keepdims 1; x f32; gamma and beta anything of the
 * normalized shape (leading 1s allowed; constants of another layout are
 * copied to that shape). Without gamma the scale is a constant of ones.
 * Every intermediate must be read only by the next node of the pattern
 * (d by exactly the squaring and the Div).
 */
#include <string.h>

#include "ir_infer.h"
#include "pass_match.h"
#include "passes.h"

#define LN_MAX_CHAIN 9

/* The first reduced axis of reduce mean r over x when its axes are the
 * trailing dims of x (keepdims 1); -1 otherwise. */
static int trailing_axis(const ir_node *r, const ir_value *x)
{
    const int64_t *axes = NULL;
    int n = ir_attr_ints(r, "axes", &axes);
    const ir_value *a = r->n_inputs > 1 ? r->inputs[1] : NULL;
    if (a && a->data && a->dtype == IR_DTYPE_I64) {
        axes = a->data;
        n = (int)ir_shape_numel(&a->shape);
    } else if (a) {
        return -1;
    }
    int rank = x->shape.rank;
    if (n < 1 || n > rank || ir_attr_int(r, "keepdims", 1) != 1 || r->inputs[0] != x)
        return -1;
    bool seen[IR_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        int64_t ax = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (ax < rank - n || ax >= rank || seen[ax])
            return -1;
        seen[ax] = true;
    }
    return rank - n;
}

/* w (gamma or beta) as a value of x's shape from axis on: w itself, a
 * copy of a constant with leading 1s, or NULL when it does not fit. */
static ir_value *norm_param(ir_graph *g, ir_value *w, const ir_value *x, int axis)
{
    ir_shape ns = {.rank = x->shape.rank - axis};
    memcpy(ns.dims, x->shape.dims + axis, (size_t)ns.rank * sizeof ns.dims[0]);
    if (!w || w->dtype != x->dtype || !w->shape_known)
        return NULL;
    if (ir_shape_equal(&w->shape, &ns))
        return w;
    int lead = 0;
    while (lead < w->shape.rank && w->shape.dims[lead] == 1)
        lead++;
    int rest = w->shape.rank - lead;
    if (!w->data || rest > ns.rank || ir_shape_numel(&w->shape) != ir_shape_numel(&ns))
        return NULL;
    for (int i = 0; i < rest; i++)
        if (w->shape.dims[lead + i] != ns.dims[ns.rank - rest + i])
            return NULL;
    ir_value *c = ir_graph_new_const(g, w->name, w->dtype, &ns);
    memcpy(c->data, w->data, ir_value_bytes(c));
    return c;
}

/* A constant of ones of x's shape from axis on. */
static ir_value *ones(ir_graph *g, const ir_value *x, int axis)
{
    ir_shape ns = {.rank = x->shape.rank - axis};
    memcpy(ns.dims, x->shape.dims + axis, (size_t)ns.rank * sizeof ns.dims[0]);
    ir_value *c = ir_graph_new_const(g, "ln_scale", IR_DTYPE_F32, &ns);
    float one = 1.0f;
    for (int64_t i = 0; i < ir_shape_numel(&ns); i++)
        memcpy((float *)c->data + i, &one, sizeof one);
    return c;
}

/* The variance node: ReduceMean(d * d or d ^ 2) over the same axes,
 * reading d's square (sq, read only by it). */
static ir_node *variance(const ir_graph *g, ir_node *sq, const ir_value *d, int axis)
{
    bool square = sq->op == IR_OP_MUL ? sq->inputs[0] == d && sq->inputs[1] == d
                                      : sq->op == IR_OP_POW && sq->inputs[0] == d &&
                                            pass_const_near(sq->inputs[1], 2, 0);
    ir_node *r2 = square ? pass_single_user(g, sq, IR_OP_REDUCE_MEAN) : NULL;
    return r2 && trailing_axis(r2, sq->outputs[0]) == axis ? r2 : NULL;
}

/* Fuses the layer norm whose mean is r1; true if it did. */
static bool fuse_at(ir_graph *g, ir_node *r1, ir_diag *d, loom_status *st)
{
    ir_value *x = r1->inputs[0];
    int axis = trailing_axis(r1, x);
    ir_node *sub = pass_single_user(g, r1, IR_OP_SUB);
    if (axis < 0 || x->dtype != IR_DTYPE_F32 || !sub || sub->inputs[0] != x ||
        sub->inputs[1] != r1->outputs[0])
        return false;
    ir_value *dv = sub->outputs[0];
    ir_node *users[3];
    if (dv->is_output || ir_value_users(g, dv, users, 3) != 2)
        return false;
    ir_node *sq = users[0]->op == IR_OP_DIV ? users[1] : users[0];
    ir_node *div = sq == users[0] ? users[1] : users[0];
    if (ir_value_n_uses(g, dv) != 2 + (sq->op == IR_OP_MUL))
        return false;
    ir_node *r2 = variance(g, sq, dv, axis);
    ir_node *add = pass_single_user(g, r2, IR_OP_ADD);
    ir_value *eps = pass_other_operand(add, IR_OP_ADD, r2 ? r2->outputs[0] : NULL);
    ir_node *sqrt = pass_single_user(g, add, IR_OP_SQRT);
    if (!eps || !eps->data || ir_shape_numel(&eps->shape) != 1 || eps->dtype != IR_DTYPE_F32 ||
        !sqrt || pass_single_user(g, sqrt, IR_OP_DIV) != div || div->inputs[0] != dv)
        return false;
    ir_node *chain[LN_MAX_CHAIN] = {r1, sub, sq, r2, add, sqrt, div};
    int n = 7;
    ir_value *in[3] = {x, NULL, NULL};
    ir_node *mul = pass_single_user(g, div, IR_OP_MUL);
    if (mul && (in[1] = norm_param(g, pass_other_operand(mul, IR_OP_MUL, div->outputs[0]), x,
                                   axis)))
        chain[n++] = mul;
    ir_node *bias = pass_single_user(g, chain[n - 1], IR_OP_ADD);
    if (bias && (in[2] = norm_param(g, pass_other_operand(bias, IR_OP_ADD,
                                                          chain[n - 1]->outputs[0]), x, axis)))
        chain[n++] = bias;
    if (!in[1])
        in[1] = ones(g, x, axis);
    float e;
    memcpy(&e, eps->data, sizeof e);
    ir_node *ln = pass_replace_chain(g, chain, n, IR_OP_LAYER_NORMALIZATION, in, in[2] ? 3 : 2);
    ir_node_set_int(g, ln, "axis", axis);
    ir_node_set_float(g, ln, "epsilon", e);
    *st = ir_infer_node(g, ln, d);
    return true;
}

loom_status pass_fuse_layernorm(ir_graph *g, ir_diag *d)
{
    return pass_fuse_each(g, IR_OP_REDUCE_MEAN, IR_OP_COUNT, fuse_at, d);
}
