/*
 * RoiAlign (ONNX RoiAlign-10/16) attributes, shared by shape inference
 * (ir_infer_roi_align.c), the interpreter and the lowering.
 */
#ifndef LOOM_IR_ROI_ALIGN_H
#define LOOM_IR_ROI_ALIGN_H

#include "ir.h"

typedef struct ir_roi_geom {
    bool half_pixel;    /* coordinate_transformation_mode half_pixel: rois
                           shifted by -0.5, no minimum size of 1 */
    bool max;           /* mode max (else avg) */
    int64_t out_h, out_w;
    int64_t sampling;   /* samples per bin and axis; 0: ceil(roi size / out) */
    double scale;       /* spatial_scale */
} ir_roi_geom;

/* Resolves the attributes (defaults of RoiAlign-16; the ONNX reader sets
 * output_half_pixel for RoiAlign-10); false for an unknown mode or
 * coordinate_transformation_mode, an output size below 1 or a negative
 * sampling_ratio. */
bool ir_roi_align_attrs(const ir_node *n, ir_roi_geom *geom);

#endif
