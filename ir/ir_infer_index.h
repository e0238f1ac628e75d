/*
 * Resolved attributes and geometry of the indexing ops in ir_infer_index.c
 * (GatherND, ScatterND, ScatterElements, OneHot, TopK, Einsum) and the
 * losses in ir_infer_loss.c (NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss), shared by shape inference, the interpreter
 * (ir/interp/interp_index.c, interp_loss.c) and the lowering
 * (backend/lower/lower_index.c, lower_loss.c) so that all three read
 * attributes and constant inputs alike.
 */
#ifndef LOOM_IR_INFER_INDEX_H
#define LOOM_IR_INFER_INDEX_H

#include "ir_infer.h"

/* ScatterND-18 / ScatterElements-18 reduction: how an update combines with
 * the element it lands on. */
typedef enum ir_scatter_red {
    IR_SCATTER_NONE,
    IR_SCATTER_ADD,
    IR_SCATTER_MUL,
    IR_SCATTER_MAX,
    IR_SCATTER_MIN,
    IR_SCATTER_RED_COUNT /* an unknown reduction string */
} ir_scatter_red;

/* The node's reduction attribute (default "none"). */
ir_scatter_red ir_scatter_reduction(const ir_node *n);

/* GatherND-13 / ScatterND-18 geometry: data [batch..., indexed (m dims)...,
 * slice...], indices [batch..., rows..., m]. An index row addresses one
 * slice of data of `slice` elements; there are `rows` rows per batch entry
 * and `batch` batch entries. */
typedef struct ir_nd_geom {
    int batch_dims, m;
    int64_t batch, rows, slice;
    int64_t dims[IR_MAX_RANK];    /* the m indexed dims of data */
    int64_t strides[IR_MAX_RANK]; /* their strides in data (elements) */
    int64_t data_batch_stride;    /* elements of data per batch entry */
} ir_nd_geom;

/* Resolves the geometry of data and indices (n's inputs 0 and 1) for
 * batch_dims b; false when the shapes do not fit (inference reports why). */
bool ir_nd_geometry(const ir_node *n, int b, ir_nd_geom *geom);

/* OneHot-11: depth (constant input 1, any numeric dtype, one element) as
 * an integer; false when not constant. */
bool ir_onehot_depth(const ir_node *n, int64_t *depth);

/* TopK: k from the attribute (TopK-1) or the constant input 1 (TopK-10);
 * false when given at run time. */
bool ir_topk_k(const ir_node *n, int64_t *k);

/* Einsum-12 parsed: every distinct label (a letter, or one dim covered by
 * the ellipsis) with its size; per operand and for the output the label
 * of each axis. Labels [0, n_out) are the output's in its order, the rest
 * are summed over. */
#define IR_EINSUM_MAX_LABELS 16
#define IR_EINSUM_MAX_INPUTS 8

typedef struct ir_einsum_geom {
    int n_labels, n_out, n_inputs;
    int64_t size[IR_EINSUM_MAX_LABELS];
    int rank[IR_EINSUM_MAX_INPUTS];
    int label[IR_EINSUM_MAX_INPUTS][IR_MAX_RANK]; /* per operand axis */
    bool bcast[IR_EINSUM_MAX_INPUTS][IR_MAX_RANK]; /* axis of size 1 broadcast */
} ir_einsum_geom;

/* Parses n's equation against its input shapes; reports to d (when not
 * NULL) and returns an error status for a malformed equation or sizes
 * that disagree. */
loom_status ir_einsum_geometry(const ir_graph *g, const ir_node *n, ir_einsum_geom *geom,
                               ir_diag *d);

/* Element offset in operand `in` (row-major, its own shape) of the label
 * assignment at[] (one value per label); broadcast axes contribute 0. */
int64_t ir_einsum_offset(const ir_einsum_geom *e, const ir_shape *s, int in, const int64_t *at);

/* ReverseSequence-10: batch_axis (default 1) and time_axis (default 0);
 * false unless they are 0 and 1 in some order. */
bool ir_reverse_sequence_axes(const ir_node *n, int *batch_axis, int *time_axis);

/* MaxUnpool-11: the unpooled shape from X, kernel_shape, strides, pads
 * (what the indices are flat over; output_shape may only add to its
 * end); false when the attributes do not fit X. */
bool ir_max_unpool_inferred(const ir_node *n, ir_shape *out);

/* GridSample-16/20 (4-D): interpolation, padding and align_corners. */
typedef enum ir_grid_mode { IR_GRID_LINEAR, IR_GRID_NEAREST, IR_GRID_CUBIC } ir_grid_mode;
typedef enum ir_grid_pad { IR_GRID_ZEROS, IR_GRID_BORDER, IR_GRID_REFLECTION } ir_grid_pad;

typedef struct ir_grid_geom {
    ir_grid_mode mode;
    ir_grid_pad pad;
    bool align_corners;
} ir_grid_geom;

/* Resolves the attributes (opset 16 names bilinear / bicubic and opset 20
 * linear / cubic alike); false for an unknown mode or padding_mode. */
bool ir_grid_sample_attrs(const ir_node *n, ir_grid_geom *geom);

/* NegativeLogLikelihoodLoss-13 / SoftmaxCrossEntropyLoss-13 over scores
 * [N, C, d...] viewed as [n, c, inner] and targets [N, d...] as [n, inner]. */
typedef enum ir_loss_red {
    IR_LOSS_NONE,
    IR_LOSS_SUM,
    IR_LOSS_MEAN,
    IR_LOSS_RED_COUNT /* an unknown reduction string */
} ir_loss_red;

typedef struct ir_loss_geom {
    int64_t n, c, inner;
    ir_loss_red red;       /* default mean */
    bool has_ignore;       /* ignore_index given */
    int64_t ignore_index;
    bool weighted;         /* input 2 present */
} ir_loss_geom;

/* Resolves the geometry of a loss node whose input shapes are known. */
void ir_loss_geometry(const ir_node *n, ir_loss_geom *geom);

#endif
