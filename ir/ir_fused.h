/*
 * Fused epilogues: Conv, ConvTranspose, Gemm and MatMul may carry an
 * activation and a residual input applied to their result, which is how
 * fuse-conv-act (passes/pass_fuse_conv_act.c) records what it fused. These
 * are loom extensions, not ONNX:
 *
 *   Y = act(op(X, W) + bias + R)
 *
 *   activation        string, one of the names of IR_ACTS ("Relu", ...)
 *   activation_alpha  float, the activation's first parameter (LeakyRelu
 *                     alpha, Clip min, HardSigmoid alpha)
 *   activation_beta   float, its second (Clip max, HardSigmoid beta)
 *   input 2 of MatMul a bias B[N] added along the last dim (Conv's and
 *                     ConvTranspose's bias and Gemm's C are their own)
 *   input 3           the residual R, of the output's shape and dtype
 *
 * The interpreter (ir/interp) and the lowering (backend/lower/
 * lower_epilogue.c) both read a node's epilogue through ir_epilogue_of.
 */
#ifndef LOOM_IR_FUSED_H
#define LOOM_IR_FUSED_H

#include "ir.h"

/* X(ENUM, "name", default alpha, default beta): activations an epilogue
 * applies; parameters follow the ONNX op of the same name (Clip's are
 * min and max, HardSwish is x * HardSigmoid(x) with alpha 1/6, beta 1/2,
 * GeluTanh is Gelu-20 with approximate="tanh"). */
#define IR_ACTS(X)                                     \
    X(NONE, "", 0.0f, 0.0f)                            \
    X(RELU, "Relu", 0.0f, 0.0f)                        \
    X(LEAKY_RELU, "LeakyRelu", 0.01f, 0.0f)            \
    X(CLIP, "Clip", -INFINITY, INFINITY)               \
    X(SIGMOID, "Sigmoid", 0.0f, 0.0f)                  \
    X(TANH, "Tanh", 0.0f, 0.0f)                        \
    X(HARD_SIGMOID, "HardSigmoid", 0.2f, 0.5f)         \
    X(HARD_SWISH, "HardSwish", 1.0f / 6.0f, 0.5f)      \
    X(GELU, "Gelu", 0.0f, 0.0f)                        \
    X(GELU_TANH, "GeluTanh", 0.0f, 0.0f)

typedef enum ir_act {
#define IR_ACT_ENUM(e, name, a, b) IR_ACT_##e,
    IR_ACTS(IR_ACT_ENUM)
#undef IR_ACT_ENUM
    IR_ACT_COUNT
} ir_act;

/* Input slots of the epilogue operands. */
#define IR_EPILOGUE_MATMUL_BIAS 2
#define IR_EPILOGUE_RESIDUAL 3

typedef struct ir_epilogue {
    ir_act act;
    float alpha, beta;
    const ir_value *bias;     /* MatMul's bias B[N], or NULL */
    const ir_value *residual; /* or NULL */
} ir_epilogue;

const char *ir_act_name(ir_act a);
/* IR_ACT_COUNT when name is not an activation. */
ir_act ir_act_lookup(const char *name);
/* True for the ops that can carry an epilogue. */
bool ir_op_has_epilogue(ir_op op);
/* Reads n's epilogue (parameters defaulted). An unknown activation name
 * reads as IR_ACT_COUNT: ir_epilogue_check reports it. */
void ir_epilogue_of(const ir_node *n, ir_epilogue *e);
/* True when n applies anything after its op: an activation, a residual or
 * (MatMul) a bias. */
bool ir_epilogue_present(const ir_node *n);
/* Shape inference's check of n's epilogue operands and attributes against
 * its inferred output. */
loom_status ir_epilogue_check(ir_graph *g, ir_node *n, ir_diag *d);
/* The activation applied to one value (the reference semantics). */
double ir_act_apply(ir_act a, double alpha, double beta, double x);
/* Sets n's activation attributes (alpha and beta only where they differ
 * from the defaults). */
void ir_epilogue_set_act(ir_graph *g, ir_node *n, ir_act a, float alpha, float beta);

#endif
