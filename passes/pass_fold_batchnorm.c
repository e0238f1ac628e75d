/*
 * BatchNormalization folding. Inference BatchNormalization (ONNX
 * BatchNormalization-15, training_mode 0) is per channel c of dim 1
 *   y = s[c] * x + t[c],  s = scale / sqrt(var + epsilon),  t = B - mean * s
 * so after a Conv, ConvTranspose or Gemm whose output only it reads, with
 * scale, B, mean, var and the weights constant f32, it folds into that op:
 * the weights of output channel c are multiplied by s[c] and the bias
 * becomes s * bias + t. Output channel c is
 *   Conv           W[c, ...]             (W is [M, C/group, k...])
 *   ConvTranspose  W[g*C/group + ci, m]  with c = g*M/group + m
 *                                        (W is [C, M/group, k...])
 *   Gemm           column c of op(B)     (B [K, N], or [N, K] with transB)
 * Gemm's C (times beta, broadcast) becomes a new C with beta 1. The folded
 * weights are new constants (the old ones may have other users; dce drops
 * them otherwise), computed in double and rounded once.
 */
#include <math.h>
#include <string.h>

#include "ir_fused.h"
#include "ir_infer.h"
#include "passes.h"

static double get(const ir_value *v, int64_t i)
{
    float f;
    memcpy(&f, (const char *)v->data + i * 4, 4);
    return f;
}

static void put(ir_value *v, int64_t i, double x)
{
    float f = (float)x;
    memcpy((char *)v->data + i * 4, &f, 4);
}

static bool const_f32(const ir_value *v)
{
    return v && v->data && v->dtype == IR_DTYPE_F32;
}

/* The producer BatchNormalization bn can fold into, or NULL. */
static ir_node *fold_target(const ir_graph *g, const ir_node *bn)
{
    for (int i = 1; i < 5; i++)
        if (!const_f32(bn->inputs[i]))
            return NULL;
    for (int i = 1; i < bn->n_outputs; i++)
        if (bn->outputs[i])
            return NULL;
    if (ir_attr_int(bn, "training_mode", 0) || !ir_attr_int(bn, "spatial", 1))
        return NULL;
    ir_value *x = bn->inputs[0];
    ir_node *p = x->producer;
    if (!p || x->dtype != IR_DTYPE_F32 || ir_value_single_user(g, x) != bn)
        return NULL;
    if (p->op != IR_OP_CONV && p->op != IR_OP_CONV_TRANSPOSE && p->op != IR_OP_GEMM)
        return NULL;
    if (ir_epilogue_present(p) || !const_f32(p->inputs[1]))
        return NULL;
    if (ir_input(p, 2) && !const_f32(p->inputs[2]))
        return NULL;
    return p;
}

/* s and t of bn, per channel. */
static void bn_affine(const ir_node *bn, int64_t nc, double *s, double *t)
{
    double eps = ir_attr_float(bn, "epsilon", 1e-5f);
    for (int64_t c = 0; c < nc; c++) {
        s[c] = get(bn->inputs[1], c) / sqrt(get(bn->inputs[4], c) + eps);
        t[c] = get(bn->inputs[2], c) - get(bn->inputs[3], c) * s[c];
    }
}

/* Output channel of element i of a weight tensor w. */
static int64_t weight_channel(const ir_node *p, const ir_value *w, int64_t i, int64_t nc)
{
    const ir_shape *ws = &w->shape;
    if (p->op == IR_OP_GEMM) {
        bool tb = ir_attr_int(p, "transB", 0) != 0;
        return tb ? i / ws->dims[1] : i % ws->dims[1];
    }
    int64_t inner = ir_shape_numel(ws) / (ws->dims[0] * ws->dims[1]);
    int64_t row = i / inner; /* (dim 0, dim 1) index pair, flattened */
    if (p->op == IR_OP_CONV)
        return row / ws->dims[1];
    int64_t mg = ws->dims[1], cg = ws->dims[0] / (nc / mg);
    return (row / ws->dims[1]) / cg * mg + row % ws->dims[1]; /* ConvTranspose */
}

/* The weights scaled per output channel. */
static ir_value *scaled_weights(ir_graph *g, const ir_node *p, const double *s, int64_t nc)
{
    const ir_value *w = p->inputs[1];
    ir_value *nw = ir_graph_new_const(g, w->name, IR_DTYPE_F32, &w->shape);
    for (int64_t i = 0, n = ir_shape_numel(&w->shape); i < n; i++)
        put(nw, i, get(w, i) * s[weight_channel(p, w, i, nc)]);
    return nw;
}

/* Conv / ConvTranspose bias: s * b + t, [M]. */
static ir_value *conv_bias(ir_graph *g, const ir_node *p, const double *s, const double *t,
                           int64_t nc)
{
    const ir_value *b = ir_input(p, 2);
    ir_shape shape = {.rank = 1, .dims = {nc}};
    ir_value *nb = ir_graph_new_const(g, b ? b->name : "bias", IR_DTYPE_F32, &shape);
    for (int64_t c = 0; c < nc; c++)
        put(nb, c, (b ? get(b, c) * s[c] : 0.0) + t[c]);
    return nb;
}

/* Gemm's new C: s * beta * C + t, [N] when C varies only along columns,
 * else [M, N]. */
static ir_value *gemm_bias(ir_graph *g, const ir_node *p, const double *s, const double *t)
{
    const ir_value *cv = ir_input(p, 2), *y = p->outputs[0];
    int64_t m = y->shape.dims[0], nn = y->shape.dims[1];
    bool per_row = cv && cv->shape.rank == 2 && cv->shape.dims[0] != 1;
    ir_shape shape = per_row ? y->shape : (ir_shape){.rank = 1, .dims = {nn}};
    ir_value *nc = ir_graph_new_const(g, cv ? cv->name : "bias", IR_DTYPE_F32, &shape);
    int64_t str[IR_MAX_RANK] = {0};
    if (cv)
        ir_bcast_strides(&cv->shape, &y->shape, str);
    double beta = ir_attr_float(p, "beta", 1.0f);
    for (int64_t i = 0; i < (per_row ? m : 1); i++)
        for (int64_t j = 0; j < nn; j++)
            put(nc, i * nn + j, (cv ? beta * get(cv, i * str[0] + j * str[1]) * s[j] : 0.0) + t[j]);
    return nc;
}

/* Folds bn into p. */
static void fold(ir_graph *g, ir_node *bn, ir_node *p)
{
    int64_t nc = bn->inputs[0]->shape.dims[1];
    double *s = ir_arena_array(&g->arena, (size_t)nc * 2, sizeof *s), *t = s + nc;
    bn_affine(bn, nc, s, t);
    ir_value *w = scaled_weights(g, p, s, nc);
    ir_value *b = p->op == IR_OP_GEMM ? gemm_bias(g, p, s, t) : conv_bias(g, p, s, t, nc);
    p->inputs[1] = w;
    ir_node_set_input(g, p, 2, b);
    if (p->op == IR_OP_GEMM)
        ir_node_remove_attr(p, "beta");
    ir_node_absorb(g, p, bn);
}

loom_status pass_fold_batchnorm(ir_graph *g, ir_diag *d)
{
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *bn = g->nodes[k];
        ir_node *p = bn->op == IR_OP_BATCH_NORMALIZATION ? fold_target(g, bn) : NULL;
        if (!p)
            continue;
        fold(g, bn, p);
        k = p->id;
    }
    ir_graph_drop_unused_values(g);
    return ir_infer_graph(g, d);
}
