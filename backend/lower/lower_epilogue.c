/*
 * The fused epilogue of Conv, ConvTranspose, Gemm and MatMul (ir/ir_fused.h)
 * and the activations it applies, in one place: the per-op lowerings call
 * lower_epilogue after their kernel call, or lower_epilogue_value where the
 * result is still a scalar in a loop (direct convolution), or
 * lower_kernel_epilogue for the kernels that apply it in their output
 * tiles (SGEMM, depthwise convolution: runtime/loomrt_epi.c), which
 * compute the same activations in the same way.
 */
#include "ir_fused.h"
#include "loomrt.h"
#include "lower_internal.h"

_Static_assert(IR_ACT_RELU == LOOMRT_ACT_RELU && IR_ACT_CLIP == LOOMRT_ACT_CLIP &&
                   IR_ACT_GELU_TANH == LOOMRT_ACT_GELU_TANH && IR_ACT_COUNT == LOOMRT_ACT_COUNT,
               "the runtime numbers the activations like ir_fused.h");

loop_epilogue lower_kernel_epilogue(lower_ctx *c, const ir_node *n, loop_buf *bias,
                                    loop_index bias_idx, int64_t rs, int64_t cs,
                                    loop_index res_idx)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    loop_epilogue k = {.bias = {bias, bias_idx}, .bias_rs = rs, .bias_cs = cs,
                       .act = (int)e.act, .alpha = e.alpha, .beta = e.beta};
    if (e.residual)
        k.residual = (loop_slice){lower_buf(c, e.residual), res_idx};
    return k;
}

loop_expr *lower_bind(lower_ctx *c, loop_block *b, loop_expr *e)
{
    if (e->kind == LOOP_EXPR_CONST || e->kind == LOOP_EXPR_LOCAL || e->kind == LOOP_EXPR_VAR)
        return e;
    int l = loop_local_new(c->f, e->dtype);
    loop_set(c->f, b, l, e);
    return loop_local_read(c->f, l);
}

/* max(0, min(1, alpha * x + beta)), NaN kept (HardSigmoid-6). */
static loop_expr *hard_sigmoid(lower_ctx *c, loop_block *b, double alpha, double beta,
                               loop_expr *x)
{
    ir_dtype t = x->dtype;
    loop_expr *zero = lower_num(c, t, 0), *one = lower_num(c, t, 1);
    loop_expr *v = lower_bind(c, b, lower_bin(c, LOOP_BINOP_ADD, lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, alpha), x),
                                        lower_num(c, t, beta)));
    return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, v, zero), zero, lower_sel(c, lower_bin(c, LOOP_BINOP_GT, v, one), one, v));
}

/* Gelu-20: 0.5 x (1 + erf(x / sqrt 2)), or the tanh form
 * 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
static loop_expr *gelu(lower_ctx *c, loop_expr *x, bool tanh_form)
{
    ir_dtype t = x->dtype;
    loop_expr *inner;
    if (tanh_form) {
        loop_expr *x3 = lower_bin(c, LOOP_BINOP_MUL, x, lower_bin(c, LOOP_BINOP_MUL, x, x));
        inner = lower_tanh(c->f,
                           lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, 0.79788456080286535588),
                               lower_bin(c, LOOP_BINOP_ADD, x, lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, 0.044715), x3))));
    } else {
        inner = loop_unary(c->f, LOOP_UNOP_ERF, lower_bin(c, LOOP_BINOP_MUL, x, lower_num(c, t, 0.70710678118654752440)));
    }
    return lower_bin(c, LOOP_BINOP_MUL, lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, 0.5), x),
               lower_bin(c, LOOP_BINOP_ADD, lower_num(c, t, 1), inner));
}

loop_expr *lower_act(lower_ctx *c, loop_block *b, ir_act a, double alpha, double beta, loop_expr *x)
{
    ir_dtype t = x->dtype;
    loop_expr *zero = lower_num(c, t, 0), *one = lower_num(c, t, 1);
    if (a != IR_ACT_NONE && a != IR_ACT_TANH && x->kind != LOOP_EXPR_LOAD)
        x = lower_bind(c, b, x);
    switch (a) {
    case IR_ACT_NONE: return x;
    /* x < 0 ? 0 : x keeps NaN and -0 (fmax would not) */
    case IR_ACT_RELU: return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, x, zero), zero, x);
    case IR_ACT_LEAKY_RELU:
        return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, x, zero), lower_bin(c, LOOP_BINOP_MUL, lower_num(c, t, alpha), x), x);
    case IR_ACT_CLIP: { /* Clip-13 with constant bounds: lo > hi gives hi */
        double lo = alpha < beta ? alpha : beta;
        return lower_sel(c, lower_bin(c, LOOP_BINOP_LT, x, lower_num(c, t, alpha)), lower_num(c, t, lo),
                   lower_sel(c, lower_bin(c, LOOP_BINOP_GT, x, lower_num(c, t, beta)), lower_num(c, t, beta), x));
    }
    case IR_ACT_SIGMOID: /* 1 / (1 + exp(-x)) */
        return lower_bin(c, LOOP_BINOP_DIV, one,
                   lower_bin(c, LOOP_BINOP_ADD, one,
                       lower_exp(c->f, loop_unary(c->f, LOOP_UNOP_NEG, x))));
    case IR_ACT_TANH: return lower_tanh(c->f, x);
    case IR_ACT_HARD_SIGMOID: return hard_sigmoid(c, b, alpha, beta, x);
    case IR_ACT_HARD_SWISH: return lower_bin(c, LOOP_BINOP_MUL, x, hard_sigmoid(c, b, alpha, beta, x));
    case IR_ACT_GELU: return gelu(c, x, false);
    case IR_ACT_GELU_TANH: return gelu(c, x, true);
    case IR_ACT_COUNT: break;
    }
    return NULL; /* the verifier rejects unknown activations */
}

loop_expr *lower_epilogue_value(lower_ctx *c, loop_block *b, const ir_node *n, loop_expr *v,
                                loop_index yi)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    if (e.residual)
        v = lower_bin(c, LOOP_BINOP_ADD, v, loop_load(c->f, lower_buf(c, e.residual), yi));
    return lower_act(c, b, e.act, e.alpha, e.beta, v);
}

/* Opens `for var < extent` in *b unless extent is 1; returns the var or -1. */
static int open_dim(lower_ctx *c, loop_block **b, int64_t extent)
{
    if (extent == 1)
        return -1;
    int v = loop_var_new(c->f);
    *b = &loop_for(c->f, *b, v, extent)->body;
    return v;
}

void lower_epilogue(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y, loop_buf *bias,
                    int64_t outer, int64_t channels, int64_t inner)
{
    if (outer * channels * inner == 0)
        return;
    int vo = open_dim(c, &b, outer), vc = open_dim(c, &b, channels), vp = open_dim(c, &b, inner);
    loop_index yi = loop_idx_const(0), bi = loop_idx_const(0);
    if (vo >= 0)
        loop_idx_add(&yi, vo, channels * inner);
    if (vc >= 0) {
        loop_idx_add(&yi, vc, inner);
        loop_idx_add(&bi, vc, 1);
    }
    if (vp >= 0)
        loop_idx_add(&yi, vp, 1);
    loop_expr *v = loop_load(c->f, y, yi);
    if (bias)
        v = lower_bin(c, LOOP_BINOP_ADD, v, loop_load(c->f, bias, bi));
    loop_store(c->f, b, y, yi, lower_epilogue_value(c, b, n, v, yi));
}

/* ---- FusedElementwise ---- */

/* One instruction of a FusedElementwise program on f32 expressions. */
static loop_expr *ew_expr(lower_ctx *c, loop_block *b, ir_op op, loop_expr *x, loop_expr *y)
{
    switch (op) {
    case IR_OP_ADD: return lower_bin(c, LOOP_BINOP_ADD, x, y);
    case IR_OP_SUB: return lower_bin(c, LOOP_BINOP_SUB, x, y);
    case IR_OP_MUL: return lower_bin(c, LOOP_BINOP_MUL, x, y);
    case IR_OP_DIV: return lower_bin(c, LOOP_BINOP_DIV, x, y);
    case IR_OP_NEG: return loop_unary(c->f, LOOP_UNOP_NEG, x);
    case IR_OP_ABS: return loop_unary(c->f, LOOP_UNOP_ABS, x);
    case IR_OP_SQRT: return loop_unary(c->f, LOOP_UNOP_SQRT, x);
    case IR_OP_EXP: return lower_exp(c->f, x);
    case IR_OP_LOG: return loop_unary(c->f, LOOP_UNOP_LOG, x);
    case IR_OP_ERF: return loop_unary(c->f, LOOP_UNOP_ERF, x);
    case IR_OP_RECIPROCAL: return lower_bin(c, LOOP_BINOP_DIV, lower_num(c, x->dtype, 1), x);
    case IR_OP_TANH: return lower_act(c, b, IR_ACT_TANH, 0, 0, x);
    case IR_OP_SIGMOID: return lower_act(c, b, IR_ACT_SIGMOID, 0, 0, x);
    case IR_OP_RELU: return lower_act(c, b, IR_ACT_RELU, 0, 0, x);
    default: return NULL; /* ir_ew_parse admits no other op */
    }
}

/* One loop nest over the output; every input loaded once per element at
 * its broadcast index, every instruction's result held in a local. */
loom_status lower_fused_elementwise(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_ew_program p;
    char err[160];
    if (!ir_ew_parse(n, &p, err, sizeof err)) {
        ir_diag_node(c->d, c->g, n, "%s", err);
        return LOOM_STATUS_INVALID_MODEL;
    }
    const ir_value *y = n->outputs[0];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    int vars[IR_MAX_RANK];
    loop_block *body = lower_nest(c, &step->body, y->shape.rank, y->shape.dims, vars);
    loop_expr *reg[IR_EW_MAX_INPUTS + IR_EW_MAX];
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *v = n->inputs[i];
        reg[i] = lower_bind(c, body, loop_load(c->f, lower_buf(c, v),
                                               lower_bcast_index(&v->shape, &y->shape, vars)));
    }
    for (int k = 0; k < p.n; k++) {
        const ir_ew_insn *in = &p.insn[k];
        loop_expr *e = ew_expr(c, body, in->op, reg[in->a], in->b >= 0 ? reg[in->b] : NULL);
        reg[n->n_inputs + k] = k + 1 < p.n ? lower_bind(c, body, e) : e;
    }
    loop_store(c->f, body, lower_buf(c, y), lower_bcast_index(&y->shape, &y->shape, vars),
               reg[n->n_inputs + p.n - 1]);
    return LOOM_STATUS_OK;
}
