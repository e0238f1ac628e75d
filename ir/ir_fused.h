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

/* ---- FusedElementwise ----
 * A tree of f32 elementwise ops as one node (fuse-elementwise,
 * passes/pass_fuse_elementwise.c), with the attribute
 *   program = ["Mul 0 1", "Add 3 2", "Relu 4"]
 * one instruction per string: an ONNX op name and its operands, where
 * operand k < n (the node's input count) is input k and k >= n is the
 * result of instruction k - n. The last instruction's result is the
 * output, whose shape is the inputs' shapes broadcast together. The ops,
 * with the semantics of the ONNX ops of the same name: Add, Sub, Mul, Div
 * (binary, broadcasting) and Neg, Abs, Sqrt, Exp, Log, Erf, Tanh,
 * Sigmoid, Relu, Reciprocal (unary). Every instruction rounds to f32, as
 * the separate nodes would. */
#define IR_EW_MAX 32        /* instructions */
#define IR_EW_MAX_INPUTS 32 /* inputs */

typedef struct ir_ew_insn {
    ir_op op;
    int a, b; /* operands (b is -1 for a unary op) */
} ir_ew_insn;

typedef struct ir_ew_program {
    int n;
    ir_ew_insn insn[IR_EW_MAX];
} ir_ew_program;

/* True for the ops a program can hold; *unary says whether it takes one
 * operand. */
bool ir_ew_op(ir_op op, bool *unary);
/* Parses and checks n's program; false (with a message in err) when it is
 * malformed. */
bool ir_ew_parse(const ir_node *n, ir_ew_program *p, char *err, size_t err_size);
/* One instruction on doubles (the reference semantics). */
double ir_ew_apply(ir_op op, double a, double b);

#endif
