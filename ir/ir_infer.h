/*
 * Internal interface of shape inference: the per-op functions generated from
 * IR_OPS (ir_infer_<fn>), and helpers shared by the ir_infer_*.c files and
 * by later stages that need the same resolved geometry (interpreter,
 * lowering).
 */
#ifndef LOOM_IR_INFER_H
#define LOOM_IR_INFER_H

#include "ir.h"

/* Each per-op function sets dtype and shape of n's outputs (and data for
 * shape-only ops); it may assume arity was checked against the op table and
 * that every present input has a known shape. On error it reports with
 * ir_diag_node and returns an error status. */
#define IR_INFER_DECL(e, name, mi, ma, mo, mao, fn, attrs) \
    loom_status ir_infer_##fn(ir_graph *g, ir_node *n, ir_diag *d);
IR_OPS(IR_INFER_DECL)
#undef IR_INFER_DECL

/* Present input i, or NULL when omitted or out of range. */
static inline ir_value *ir_input(const ir_node *n, int i)
{
    return i < n->n_inputs ? n->inputs[i] : NULL;
}
static inline ir_value *ir_output(const ir_node *n, int i)
{
    return i < n->n_outputs ? n->outputs[i] : NULL;
}

/* Sets output i's dtype and shape (if the output is present). */
void ir_set_output(ir_node *n, int i, ir_dtype dtype, const ir_shape *shape);

/* Strides of shape `from` laid over `to` (right-aligned numpy broadcast):
 * row-major strides of from, 0 where from's dim is 1 or missing. */
void ir_bcast_strides(const ir_shape *from, const ir_shape *to, int64_t str[IR_MAX_RANK]);
/* Multidirectional (numpy) broadcast of a and b into out; false if
 * incompatible. */
bool ir_broadcast_shapes(const ir_shape *a, const ir_shape *b, ir_shape *out);

/* Normalizes axis in [-rank, rank) to [0, rank); false when out of range. */
bool ir_normalize_axis(int64_t axis, int rank, int *out);

/* Reads a constant integer tensor (i64 or i32) into out[0..max); returns the
 * element count, or -1 if v is not a constant integer tensor or has more than
 * max elements. */
int ir_const_ints(const ir_value *v, int64_t *out, int max);

/* Convolution / pooling geometry after resolving auto_pad, defaults and the
 * older attribute forms; used by shape inference, the interpreter and the
 * lowering so all agree. For ConvTranspose, pads are the resolved pads and
 * out[] the output spatial size. */
typedef struct ir_conv_geom {
    int nsp;                     /* number of spatial dims */
    int64_t kernel[IR_MAX_RANK];
    int64_t stride[IR_MAX_RANK];
    int64_t dilation[IR_MAX_RANK];
    int64_t pad_begin[IR_MAX_RANK];
    int64_t pad_end[IR_MAX_RANK];
    int64_t in[IR_MAX_RANK];     /* input spatial size */
    int64_t out[IR_MAX_RANK];    /* output spatial size */
    int64_t output_padding[IR_MAX_RANK]; /* ConvTranspose only */
    int64_t group;
    bool ceil_mode;              /* pooling */
    bool count_include_pad;      /* AveragePool */
} ir_conv_geom;

/* Resolves the geometry of a Conv, ConvTranspose, MaxPool or AveragePool node
 * whose input shapes are known. Reports problems to d (when d is not NULL)
 * and returns an error status. */
loom_status ir_conv_geometry(const ir_graph *g, const ir_node *n, ir_conv_geom *geom, ir_diag *d);

/* FusedAttention (ir_infer_attention.c) as the interpreter and the
 * lowering read it: Q [lead dims, sq, d], K [lead, sk, d], V [lead, sk,
 * dv]; batch is the product of the lead leading dims; scale resolved
 * (default 1 / sqrt(d)). Needs inferred shapes. */
typedef struct ir_attn_geom {
    int lead;
    int64_t batch, sq, sk, d, dv;
    double scale;
    bool causal;
} ir_attn_geom;
void ir_attention_geometry(const ir_node *n, ir_attn_geom *ag);

/* Softmax / LogSoftmax as a [outer, len, inner] view of the input: the
 * reduction runs over len elements spaced inner apart. Opset 13 reduces one
 * axis (default -1); coerce_2d=1 (opsets 1-12) flattens at axis (default 1)
 * and reduces the whole trailing block (inner = 1). False if axis is out of
 * range. */
bool ir_softmax_geometry(const ir_node *n, const ir_shape *x, int64_t *outer, int64_t *len,
                         int64_t *inner);

/* Activation functions of LSTM / GRU / RNN (ONNX names, matched ignoring
 * case), with alpha/beta resolved from activation_alpha/activation_beta or
 * the defaults of the ONNX operators of the same name. */
typedef enum ir_rnn_act {
    IR_RNN_ACT_RELU,
    IR_RNN_ACT_TANH,
    IR_RNN_ACT_SIGMOID,
    IR_RNN_ACT_AFFINE,
    IR_RNN_ACT_LEAKY_RELU,
    IR_RNN_ACT_THRESHOLDED_RELU,
    IR_RNN_ACT_SCALED_TANH,
    IR_RNN_ACT_HARD_SIGMOID,
    IR_RNN_ACT_ELU,
    IR_RNN_ACT_SOFTSIGN,
    IR_RNN_ACT_SOFTPLUS,
    IR_RNN_ACT_COUNT
} ir_rnn_act;

typedef struct ir_rnn_fn {
    ir_rnn_act act;
    float alpha, beta;
} ir_rnn_fn;

/* Resolved geometry and attributes of an LSTM, GRU or RNN node. Inputs are
 * X, W, R, B, sequence_lens, initial_h (, initial_c, P for LSTM); outputs
 * Y, Y_h (, Y_c). Gate blocks in W, R and B are in ONNX order: LSTM iofc,
 * GRU zrh; P is iof. */
typedef struct ir_rnn_geom {
    int gates;           /* 4 LSTM, 3 GRU, 1 RNN */
    int num_directions;  /* 2 for bidirectional */
    bool reverse;        /* direction "reverse" (num_directions is 1) */
    int layout;          /* 0: X [seq,batch,input]; 1: X [batch,seq,input] */
    int64_t seq_length, batch_size, input_size, hidden_size;
    int n_fns;           /* activations per direction: LSTM 3 (f,g,h), GRU 2, RNN 1 */
    ir_rnn_fn fns[2][3]; /* [direction][f, g, h] */
    bool has_clip;
    float clip;               /* pre-activation clip to [-clip, clip] */
    bool input_forget;        /* LSTM: forget gate is 1 - input gate */
    bool linear_before_reset; /* GRU */
} ir_rnn_geom;

/* Validates an LSTM/GRU/RNN node whose input shapes are known and resolves
 * its geometry. Reports problems to d (when not NULL) and returns an error
 * status. */
loom_status ir_rnn_geometry(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d);

/* Reduced axes of a ReduceMean/ReduceSum/ReduceMax node whose input shape is
 * known: from the axes attribute (older opsets) or the constant axes input
 * (ReduceSum-13, the others 18), with negative axes normalized; empty axes
 * reduce all unless noop_with_empty_axes. Reports problems to d (when not
 * NULL) and returns an error status. */
loom_status ir_reduce_axes(const ir_graph *g, const ir_node *n, bool reduced[IR_MAX_RANK],
                           ir_diag *d);

/* Slice geometry after resolving the attribute form (opsets 1-9) or the
 * constant inputs (10+), defaults, negative indices and clamping: output
 * dim i holds input elements start[i] + k * step[i] for k < count[i]. */
typedef struct ir_slice_geom {
    int rank;
    int64_t start[IR_MAX_RANK];
    int64_t step[IR_MAX_RANK];
    int64_t count[IR_MAX_RANK];
} ir_slice_geom;

/* Resolves the geometry of a Slice node whose input shapes are known.
 * Reports problems to d and returns an error status. */
loom_status ir_slice_geometry(const ir_graph *g, const ir_node *n, ir_slice_geom *geom,
                              ir_diag *d);

/* ONNX Shape-15: the clamped range [*start, *end) of dims a Shape node
 * returns for an input of the given rank. */
void ir_shape_range(const ir_node *n, int rank, int *start, int *end);

/* dtype masks for ir_check_input_dtype: bit 1 << dtype. */
#define IR_DT(t) (1u << IR_DTYPE_##t)
#define IR_DT_FLOAT (IR_DT(F32) | IR_DT(F64))
#define IR_DT_INT (IR_DT(I64) | IR_DT(I32) | IR_DT(I8) | IR_DT(U8))
#define IR_DT_NUMERIC (IR_DT_FLOAT | IR_DT_INT)

/* Checks that present input i has a dtype in the mask allowed; reports the
 * allowed dtypes to d and returns LOOM_STATUS_INVALID_MODEL otherwise. */
loom_status ir_check_input_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                 unsigned allowed);
/* ir_set_output after checking that the output's byte size is
 * representable; reports to d otherwise. */
loom_status ir_set_output_checked(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                                  const ir_shape *s);

#endif
