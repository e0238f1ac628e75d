/*
 * Fused epilogues of Conv, ConvTranspose, Gemm and MatMul (ir_fused.h): the
 * activation table, reading and checking the epilogue of a node, and the
 * reference activation the interpreter applies. The activations follow
 * ONNX Relu-14, LeakyRelu-16, Clip-13, Sigmoid-13, Tanh-13,
 * HardSigmoid-6, HardSwish-14 and Gelu-20.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir_fused.h"
#include "ir_infer.h"

static const struct {
    const char *name;
    float alpha, beta;
} act_table[IR_ACT_COUNT] = {
#define IR_ACT_ROW(e, name, a, b) {name, a, b},
    IR_ACTS(IR_ACT_ROW)
#undef IR_ACT_ROW
};

const char *ir_act_name(ir_act a)
{
    return (unsigned)a < IR_ACT_COUNT ? act_table[a].name : "?";
}

ir_act ir_act_lookup(const char *name)
{
    for (int a = 0; a < IR_ACT_COUNT; a++)
        if (strcmp(act_table[a].name, name) == 0)
            return (ir_act)a;
    return IR_ACT_COUNT;
}

bool ir_op_has_epilogue(ir_op op)
{
    return op == IR_OP_CONV || op == IR_OP_CONV_TRANSPOSE || op == IR_OP_GEMM ||
           op == IR_OP_MAT_MUL;
}

void ir_epilogue_of(const ir_node *n, ir_epilogue *e)
{
    memset(e, 0, sizeof *e);
    if (!ir_op_has_epilogue(n->op))
        return;
    e->act = ir_act_lookup(ir_attr_string(n, "activation", ""));
    ir_act a = e->act < IR_ACT_COUNT ? e->act : IR_ACT_NONE;
    e->alpha = ir_attr_float(n, "activation_alpha", act_table[a].alpha);
    e->beta = ir_attr_float(n, "activation_beta", act_table[a].beta);
    if (n->op == IR_OP_MAT_MUL)
        e->bias = ir_input(n, IR_EPILOGUE_MATMUL_BIAS);
    e->residual = ir_input(n, IR_EPILOGUE_RESIDUAL);
}

bool ir_epilogue_present(const ir_node *n)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    return e.act != IR_ACT_NONE || e.bias || e.residual;
}

/* MatMul's bias: [N] of the output's dtype, N its last dim. */
static loom_status check_bias(ir_graph *g, ir_node *n, const ir_value *b, const ir_value *y,
                              ir_diag *d)
{
    int64_t nn = y->shape.rank ? y->shape.dims[y->shape.rank - 1] : 1;
    if (b->dtype == y->dtype && b->shape.rank == 1 && b->shape.dims[0] == nn)
        return LOOM_STATUS_OK;
    char bs[64];
    ir_shape_format(&b->shape, bs, sizeof bs);
    ir_diag_node(d, g, n, "bias \"%s\" is %s%s, expected %s[%lld]", b->name,
                 ir_dtype_name(b->dtype), bs, ir_dtype_name(y->dtype), (long long)nn);
    return LOOM_STATUS_INVALID_MODEL;
}

loom_status ir_epilogue_check(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    const ir_value *y = n->outputs[0];
    if (e.act == IR_ACT_COUNT) {
        ir_diag_node(d, g, n, "unknown activation \"%s\"", ir_attr_string(n, "activation", ""));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (e.act != IR_ACT_NONE && y->dtype != IR_DTYPE_F32 && y->dtype != IR_DTYPE_F64) {
        ir_diag_node(d, g, n, "activation \"%s\" on %s; needs f32 or f64", ir_act_name(e.act),
                     ir_dtype_name(y->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (e.bias && check_bias(g, n, e.bias, y, d))
        return LOOM_STATUS_INVALID_MODEL;
    if (e.residual && (e.residual->dtype != y->dtype || !ir_shape_equal(&e.residual->shape, &y->shape))) {
        char rs[64], ys[64];
        ir_shape_format(&e.residual->shape, rs, sizeof rs);
        ir_shape_format(&y->shape, ys, sizeof ys);
        ir_diag_node(d, g, n, "residual \"%s\" is %s%s, the output is %s%s", e.residual->name,
                     ir_dtype_name(e.residual->dtype), rs, ir_dtype_name(y->dtype), ys);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* max(0, min(1, alpha * x + beta)) with NaN kept. */
static double hard_sigmoid(double alpha, double beta, double x)
{
    double v = alpha * x + beta;
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

double ir_act_apply(ir_act a, double alpha, double beta, double x)
{
    switch (a) {
    case IR_ACT_NONE: return x;
    case IR_ACT_RELU: return x < 0 ? 0 : x;
    case IR_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;
    case IR_ACT_CLIP: return x < alpha ? fmin(alpha, beta) : x > beta ? beta : x;
    case IR_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case IR_ACT_TANH: return tanh(x);
    case IR_ACT_HARD_SIGMOID: return hard_sigmoid(alpha, beta, x);
    case IR_ACT_HARD_SWISH: return x * hard_sigmoid(alpha, beta, x);
    case IR_ACT_GELU: return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
    case IR_ACT_GELU_TANH:
        return 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case IR_ACT_COUNT: break;
    }
    return x;
}

void ir_epilogue_set_act(ir_graph *g, ir_node *n, ir_act a, float alpha, float beta)
{
    ir_node_set_string(g, n, "activation", act_table[a].name);
    if (alpha != act_table[a].alpha)
        ir_node_set_float(g, n, "activation_alpha", alpha);
    if (beta != act_table[a].beta)
        ir_node_set_float(g, n, "activation_beta", beta);
}

/* ---- FusedElementwise programs ---- */

bool ir_ew_op(ir_op op, bool *unary)
{
    switch (op) {
    case IR_OP_ADD:
    case IR_OP_SUB:
    case IR_OP_MUL:
    case IR_OP_DIV: *unary = false; return true;
    case IR_OP_NEG:
    case IR_OP_ABS:
    case IR_OP_SQRT:
    case IR_OP_EXP:
    case IR_OP_LOG:
    case IR_OP_ERF:
    case IR_OP_TANH:
    case IR_OP_SIGMOID:
    case IR_OP_RELU:
    case IR_OP_RECIPROCAL: *unary = true; return true;
    default: return false;
    }
}

/* Parses "Op a [b]" into *in; operands must name inputs or earlier
 * results (below limit). */
static bool parse_insn(const char *s, int limit, ir_ew_insn *in, char *err, size_t err_size)
{
    char name[32];
    int a = -1, b = -1, used = 0;
    int got = sscanf(s, "%31s %d %d%n", name, &a, &b, &used);
    if (got < 3)
        got = sscanf(s, "%31s %d%n", name, &a, &used);
    bool unary;
    in->op = ir_op_lookup(name);
    if (got < 2 || s[used] != '\0' || !ir_ew_op(in->op, &unary)) {
        snprintf(err, err_size, "bad instruction \"%s\"", s);
        return false;
    }
    if (unary != (b < 0) || a < 0 || a >= limit || b >= limit) {
        snprintf(err, err_size, "instruction \"%s\": operands must be %s below %d", s,
                 unary ? "one index" : "two indices", limit);
        return false;
    }
    in->a = a;
    in->b = b;
    return true;
}

bool ir_ew_parse(const ir_node *n, ir_ew_program *p, char *err, size_t err_size)
{
    const char *const *prog;
    int count = ir_attr_strings(n, "program", &prog);
    if (count < 1 || count > IR_EW_MAX) {
        snprintf(err, err_size, "program has %d instructions, expected 1 to %d", count < 0 ? 0 : count,
                 IR_EW_MAX);
        return false;
    }
    p->n = count;
    for (int i = 0; i < count; i++)
        if (!parse_insn(prog[i], n->n_inputs + i, &p->insn[i], err, err_size))
            return false;
    return true;
}

double ir_ew_apply(ir_op op, double a, double b)
{
    switch (op) {
    case IR_OP_ADD: return a + b;
    case IR_OP_SUB: return a - b;
    case IR_OP_MUL: return a * b;
    case IR_OP_DIV: return a / b;
    case IR_OP_NEG: return -a;
    case IR_OP_ABS: return fabs(a);
    case IR_OP_SQRT: return sqrt(a);
    case IR_OP_EXP: return exp(a);
    case IR_OP_LOG: return log(a);
    case IR_OP_ERF: return erf(a);
    case IR_OP_TANH: return tanh(a);
    case IR_OP_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case IR_OP_RELU: return a < 0 ? 0 : a;
    case IR_OP_RECIPROCAL: return 1.0 / a;
    default: break;
    }
    return NAN; /* ir_ew_parse admits no other op */
}

/* ONNX-style broadcasting of every input; all f32. */
loom_status ir_infer_fused_elementwise(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_ew_program p;
    char err[160];
    if (!ir_ew_parse(n, &p, err, sizeof err)) {
        ir_diag_node(d, g, n, "%s", err);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->n_inputs > IR_EW_MAX_INPUTS) {
        ir_diag_node(d, g, n, "%d inputs; FusedElementwise takes at most %d", n->n_inputs,
                     IR_EW_MAX_INPUTS);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape out = {0};
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *v = n->inputs[i];
        if (!v || v->dtype != IR_DTYPE_F32) {
            ir_diag_node(d, g, n, "input %d is %s; FusedElementwise takes f32", i,
                         v ? ir_dtype_name(v->dtype) : "missing");
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (!ir_broadcast_shapes(&out, &v->shape, &out)) {
            ir_diag_node(d, g, n, "input %d (\"%s\") does not broadcast with the others", i,
                         v->name);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    ir_set_output(n, 0, IR_DTYPE_F32, &out);
    return LOOM_STATUS_OK;
}
