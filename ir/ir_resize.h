/*
 * Resize and Upsample as per-axis sampling tables, shared by shape
 * inference (the output shape), the interpreter (ir/interp/interp_resize.c)
 * and the lowering (backend/lower/lower_resize.c) so that all three resolve
 * modes, scales, sizes, roi and axes alike.
 *
 * ONNX Resize-19 is separable: along each resized axis, output position o
 * reads `taps` input positions index[o * taps + t] (clamped into the axis,
 * which is the reference's edge padding) with weights weight[o * taps + t];
 * a tf_crop_and_resize position whose source lies outside the input is
 * flagged in `outside` and takes extrapolation_value instead.
 */
#ifndef LOOM_IR_RESIZE_H
#define LOOM_IR_RESIZE_H

#include "ir_infer.h"

typedef struct ir_resize_axis {
    int64_t in, out;
    bool identity;   /* output position o reads input position o */
    int taps;        /* samples per output position (1 for nearest) */
    int64_t *index;  /* [out * taps], in [0, in) */
    double *weight;  /* [out * taps] */
    bool *outside;   /* [out]: takes extrapolation_value; NULL when none does */
} ir_resize_axis;

typedef struct ir_resize_geom {
    int rank;
    ir_shape out;
    double extrapolation_value;
    ir_resize_axis axis[IR_MAX_RANK];
} ir_resize_geom;

/* Resolves a Resize or Upsample node whose input shapes are known: the
 * output shape always, the sampling tables of every non-identity axis
 * when tables is true (memory from ir_malloc; free with
 * ir_resize_geom_free). Reports to d (when not NULL) and returns an error
 * status for bad or non-constant scales/sizes/roi, unknown modes and
 * forms loom lacks. */
loom_status ir_resize_geometry(const ir_graph *g, const ir_node *n, bool tables,
                               ir_resize_geom *geom, ir_diag *d);
void ir_resize_geom_free(ir_resize_geom *geom);

#endif
