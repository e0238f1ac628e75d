/*
 * Epilogue fusion: Conv, ConvTranspose, Gemm and MatMul absorb what follows
 * them elementwise into their fused epilogue (ir/ir_fused.h),
 *   Y = act(op(X, W) + bias + R)
 * so the lowering writes the output once, with the kernel call followed by
 * one pass over it (backend/lower/lower_epilogue.c). Matched, repeatedly,
 * on the op's output when nothing else reads it:
 *   - Add(Y, R) with R of Y's shape and dtype: the residual (ResNet's
 *     shortcut), unless there is one already or an activation;
 *   - for MatMul, Add(Y, c) with c a constant [N] or [1, ..., N]: the bias;
 *   - an activation, unless there is one already: Relu, LeakyRelu,
 *     Sigmoid, Tanh, HardSigmoid, Gelu (both forms), Clip with constant or
 *     absent bounds, HardSwish, and HardSwish written as Mul(Y,
 *     HardSigmoid(Y)) with alpha 1/6 and beta 1/2 (then Y has exactly
 *     those two users).
 * The fused op takes the place of the last node it absorbs, so a residual
 * computed between the two (the other branch of a block) is ready, and
 * takes over that node's output value and name.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ir_fused.h"
#include "ir_infer.h"
#include "passes.h"

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Element 0 of a constant float scalar bound into *out; false if v is not
 * one. NULL v (absent) leaves *out. */
static bool const_scalar(const ir_value *v, float *out)
{
    if (!v)
        return true;
    if (!v->data || ir_shape_numel(&v->shape) != 1 || !is_float(v->dtype))
        return false;
    if (v->dtype == IR_DTYPE_F32) {
        memcpy(out, v->data, sizeof *out);
    } else {
        double x;
        memcpy(&x, v->data, sizeof x);
        *out = (float)x;
    }
    return true;
}

/* ONNX Clip-13 bounds from its inputs, or Clip-6's attributes (defaults
 * -FLT_MAX / FLT_MAX once either is given); false if not constant. */
static bool clip_bounds(const ir_node *u, float *lo, float *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    if (ir_node_find_attr(u, "min") || ir_node_find_attr(u, "max")) {
        *lo = ir_attr_float(u, "min", -FLT_MAX);
        *hi = ir_attr_float(u, "max", FLT_MAX);
    }
    return const_scalar(ir_input(u, 1), lo) && const_scalar(ir_input(u, 2), hi);
}

/* The activation that node u computes, with its parameters; IR_ACT_COUNT
 * when u is not one. */
static ir_act activation_of(const ir_node *u, float *alpha, float *beta)
{
    *alpha = *beta = 0;
    switch (u->op) {
    case IR_OP_RELU: return IR_ACT_RELU;
    case IR_OP_SIGMOID: return IR_ACT_SIGMOID;
    case IR_OP_TANH: return IR_ACT_TANH;
    case IR_OP_LEAKY_RELU: *alpha = ir_attr_float(u, "alpha", 0.01f); return IR_ACT_LEAKY_RELU;
    case IR_OP_HARD_SIGMOID:
        *alpha = ir_attr_float(u, "alpha", 0.2f);
        *beta = ir_attr_float(u, "beta", 0.5f);
        return IR_ACT_HARD_SIGMOID;
    case IR_OP_HARD_SWISH: /* HardSwish-14: x * HardSigmoid(x, 1/6, 1/2) */
        *alpha = 1.0f / 6.0f;
        *beta = 0.5f;
        return IR_ACT_HARD_SWISH;
    case IR_OP_GELU:
        return strcmp(ir_attr_string(u, "approximate", "none"), "tanh") == 0 ? IR_ACT_GELU_TANH
                                                                             : IR_ACT_GELU;
    case IR_OP_CLIP: return clip_bounds(u, alpha, beta) ? IR_ACT_CLIP : IR_ACT_COUNT;
    default: return IR_ACT_COUNT;
    }
}

/* A constant c of shape [N] or [1, ..., 1, N] with y's last dim N: the
 * MatMul bias as a [N] constant, or NULL. */
static ir_value *row_bias(ir_graph *g, const ir_value *c, const ir_value *y)
{
    int64_t nn = y->shape.rank ? y->shape.dims[y->shape.rank - 1] : 0;
    if (!c->data || c->dtype != y->dtype || c->shape.rank < 1 || c->shape.rank > y->shape.rank ||
        c->shape.dims[c->shape.rank - 1] != nn || ir_shape_numel(&c->shape) != nn)
        return NULL;
    if (c->shape.rank == 1)
        return (ir_value *)c;
    ir_shape s = {.rank = 1, .dims = {nn}};
    ir_value *b = ir_graph_new_const(g, c->name, c->dtype, &s);
    memcpy(b->data, c->data, ir_value_bytes(b));
    return b;
}

/* Add(Y, other) into n's epilogue as its bias or residual. */
static bool fuse_add(ir_graph *g, ir_node *n, ir_node *add, const ir_epilogue *e)
{
    ir_value *y = n->outputs[0];
    ir_value *other = add->inputs[0] == y ? add->inputs[1] : add->inputs[0];
    if (other == y || e->act != IR_ACT_NONE)
        return false;
    ir_value *bias = n->op == IR_OP_MAT_MUL && !e->bias ? row_bias(g, other, y) : NULL;
    if (bias) {
        ir_node_set_input(g, n, IR_EPILOGUE_MATMUL_BIAS, bias);
    } else if (!e->residual && other->dtype == y->dtype &&
               ir_shape_equal(&other->shape, &y->shape)) {
        ir_node_set_input(g, n, IR_EPILOGUE_RESIDUAL, other);
    } else {
        return false;
    }
    ir_node_absorb(g, n, add);
    return true;
}

/* Mul(Y, HardSigmoid(Y)) with HardSwish's parameters, Y read by just
 * those two: HardSwish-14. */
static bool fuse_hard_swish(ir_graph *g, ir_node *n)
{
    ir_value *y = n->outputs[0];
    ir_node *users[3];
    if (y->is_output || ir_value_users(g, y, users, 3) != 2 || ir_value_n_uses(g, y) != 2)
        return false;
    ir_node *hs = users[0]->op == IR_OP_HARD_SIGMOID ? users[0] : users[1];
    ir_node *mul = hs == users[0] ? users[1] : users[0];
    if (hs->op != IR_OP_HARD_SIGMOID || mul->op != IR_OP_MUL ||
        ir_value_single_user(g, hs->outputs[0]) != mul)
        return false;
    float alpha = ir_attr_float(hs, "alpha", 0.2f), beta = ir_attr_float(hs, "beta", 0.5f);
    if (fabsf(alpha - 1.0f / 6.0f) > 1e-6f || beta != 0.5f)
        return false;
    ir_graph_erase_node(g, hs);
    ir_epilogue_set_act(g, n, IR_ACT_HARD_SWISH, alpha, beta);
    ir_node_absorb(g, n, mul);
    return true;
}

/* One fusion into n; true if the graph changed. */
static bool fuse_one(ir_graph *g, ir_node *n)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    ir_node *u = ir_value_single_user(g, n->outputs[0]);
    if (!u)
        return e.act == IR_ACT_NONE && fuse_hard_swish(g, n);
    if (u->op == IR_OP_ADD)
        return fuse_add(g, n, u, &e);
    float alpha, beta;
    ir_act a = activation_of(u, &alpha, &beta);
    if (a == IR_ACT_COUNT || e.act != IR_ACT_NONE || u->inputs[0] != n->outputs[0])
        return false;
    ir_epilogue_set_act(g, n, a, alpha, beta);
    ir_node_absorb(g, n, u);
    return true;
}

loom_status pass_fuse_conv_act(ir_graph *g, ir_diag *d)
{
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        if (!ir_op_has_epilogue(n->op) || !is_float(n->outputs[0]->dtype))
            continue;
        bool moved = false;
        while (fuse_one(g, n))
            moved = true;
        if (moved)
            k--; /* n moved on: another node is at k now */
    }
    ir_graph_drop_unused_values(g);
    return ir_infer_graph(g, d);
}
