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

#endif
