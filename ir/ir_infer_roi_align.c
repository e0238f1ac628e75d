/*
 * Shape inference of RoiAlign (ONNX RoiAlign-16; RoiAlign-10 is the same
 * with coordinate_transformation_mode output_half_pixel): X [N, C, H, W],
 * rois [R, 4] (x1, y1, x2, y2) and batch_indices [R] give [R, C,
 * output_height, output_width].
 */
#include <string.h>

#include "ir_infer.h"
#include "ir_roi_align.h"

bool ir_roi_align_attrs(const ir_node *n, ir_roi_geom *geom)
{
    const char *m = ir_attr_string(n, "mode", "avg");
    const char *t = ir_attr_string(n, "coordinate_transformation_mode", "half_pixel");
    geom->max = !strcmp(m, "max");
    geom->half_pixel = !strcmp(t, "half_pixel");
    geom->out_h = ir_attr_int(n, "output_height", 1);
    geom->out_w = ir_attr_int(n, "output_width", 1);
    geom->sampling = ir_attr_int(n, "sampling_ratio", 0);
    geom->scale = ir_attr_float(n, "spatial_scale", 1.0f);
    return (geom->max || !strcmp(m, "avg")) &&
           (geom->half_pixel || !strcmp(t, "output_half_pixel")) && geom->out_h >= 1 &&
           geom->out_w >= 1 && geom->sampling >= 0;
}

static loom_status roi_fail(ir_graph *g, ir_node *n, ir_diag *d, const char *why)
{
    ir_diag_node(d, g, n, "%s", why);
    return LOOM_STATUS_INVALID_MODEL;
}

loom_status ir_infer_roi_align(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *rois = n->inputs[1], *bi = n->inputs[2];
    ir_roi_geom geom;
    if (!ir_roi_align_attrs(n, &geom))
        return roi_fail(g, n, d, "mode must be avg or max, coordinate_transformation_mode "
                                 "half_pixel or output_half_pixel, output_height and "
                                 "output_width at least 1, sampling_ratio at least 0");
    if ((x->dtype != IR_DTYPE_F32 && x->dtype != IR_DTYPE_F64) || rois->dtype != x->dtype)
        return roi_fail(g, n, d, "X and rois must have one float dtype (f32 or f64)");
    if (bi->dtype != IR_DTYPE_I64 && bi->dtype != IR_DTYPE_I32)
        return roi_fail(g, n, d, "batch_indices must be an integer tensor");
    if (x->shape.rank != 4 || rois->shape.rank != 2 || rois->shape.dims[1] != 4 ||
        bi->shape.rank != 1 || bi->shape.dims[0] != rois->shape.dims[0])
        return roi_fail(g, n, d, "needs X [N, C, H, W], rois [R, 4] and batch_indices [R]");
    ir_shape out = {.rank = 4,
                    .dims = {rois->shape.dims[0], x->shape.dims[1], geom.out_h, geom.out_w}};
    return ir_set_output_checked(g, n, d, 0, x->dtype, &out);
}
