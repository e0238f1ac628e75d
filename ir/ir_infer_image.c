/*
 * Shape inference for the per-image ops of CNNs and GANs besides Resize:
 * InstanceNormalization, DepthToSpace / SpaceToDepth, LRN and
 * MeanVarianceNormalization. Each checks
 * dtypes and the ONNX constraints on shapes and attributes and sets the
 * output; ir_depth_to_space_geometry and ir_mvn_geometry are shared with the
 * interpreter and the lowering.
 */
#include <string.h>

#include "ir_image.h"

/* X of rank >= min_rank (N, C, spatial...) in f32 or f64. */
static loom_status check_image(const ir_graph *g, const ir_node *n, ir_diag *d, int min_rank)
{
    const ir_value *x = n->inputs[0];
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_FLOAT);
    if (!st && x->shape.rank < min_rank) {
        ir_diag_node(d, g, n, "input \"%s\" has rank %d; expected at least %d (N, C, ...)",
                     x->name, x->shape.rank, min_rank);
        st = LOOM_STATUS_INVALID_MODEL;
    }
    return st;
}

/* ONNX InstanceNormalization-6: X [N, C, D1...], scale and B [C] of X's
 * dtype; Y like X. */
loom_status ir_infer_instance_normalization(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    loom_status st = check_image(g, n, d, 3);
    for (int i = 1; !st && i < 3; i++) {
        const ir_value *v = n->inputs[i];
        if (v->dtype != x->dtype || v->shape.rank != 1 || v->shape.dims[0] != x->shape.dims[1]) {
            ir_diag_node(d, g, n, "%s \"%s\" must be a 1-D %s tensor of the %lld channels",
                         i == 1 ? "scale" : "B", v->name, ir_dtype_name(x->dtype),
                         (long long)x->shape.dims[1]);
            st = LOOM_STATUS_INVALID_MODEL;
        }
    }
    return st ? st : ir_set_output_checked(g, n, d, 0, x->dtype, &x->shape);
}

void ir_d2s_strides(const ir_d2s_geom *m, int64_t dims[6], int64_t space[6], int64_t depth[6])
{
    int64_t b = m->b, hw = m->h * m->w, cd = m->c * b * b;
    int64_t d[6] = {m->n, m->c, m->h, b, m->w, b};
    int64_t sp[6] = {m->c * hw * b * b, hw * b * b, b * m->w * b, m->w * b, b, 1};
    /* DCR: depth channel (i b + j) C' + c; CRD: c b^2 + i b + j */
    int64_t dp[6] = {cd * hw, m->crd ? b * b * hw : hw, m->w, m->crd ? b * hw : b * m->c * hw, 1,
                     m->crd ? hw : m->c * hw};
    memcpy(dims, d, sizeof d);
    memcpy(space, sp, sizeof sp);
    memcpy(depth, dp, sizeof dp);
}

loom_status ir_depth_to_space_geometry(const ir_graph *g, const ir_node *n, ir_d2s_geom *geom,
                                       ir_diag *d)
{
    const ir_shape *x = &n->inputs[0]->shape;
    bool d2s = n->op == IR_OP_DEPTH_TO_SPACE;
    int64_t b = ir_attr_int(n, "blocksize", 0);
    const char *mode = d2s ? ir_attr_string(n, "mode", "DCR") : "DCR";
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0) {
        ir_diag_node(d, g, n, "unknown mode \"%s\" (DCR or CRD)", mode);
        return LOOM_STATUS_INVALID_MODEL;
    }
    bool bad = x->rank != 4 || b <= 0 || b > (1 << 20) ||
               (d2s ? x->dims[1] % (b * b) : x->dims[2] % b || x->dims[3] % b);
    if (bad) {
        char buf[160];
        ir_shape_format(x, buf, sizeof buf);
        ir_diag_node(d, g, n, "blocksize %lld does not divide input %s (%s; rank 4 expected)",
                     (long long)b, buf, d2s ? "C by blocksize^2" : "H and W by blocksize");
        return LOOM_STATUS_INVALID_MODEL;
    }
    /* the image side: [N, C', H, W] with C' = C / b^2 for DepthToSpace */
    int64_t c = d2s ? x->dims[1] / (b * b) : x->dims[1];
    int64_t h = d2s ? x->dims[2] : x->dims[2] / b, w = d2s ? x->dims[3] : x->dims[3] / b;
    *geom = (ir_d2s_geom){.n = x->dims[0], .c = c, .h = h, .w = w, .b = b,
                          .crd = strcmp(mode, "CRD") == 0};
    return LOOM_STATUS_OK;
}

/* ONNX DepthToSpace-13 [N, C, H, W] -> [N, C / b^2, H b, W b] and
 * SpaceToDepth-13 the inverse, any dtype. */
loom_status ir_infer_depth_to_space(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_d2s_geom m;
    loom_status st = ir_depth_to_space_geometry(g, n, &m, d);
    if (st)
        return st;
    bool d2s = n->op == IR_OP_DEPTH_TO_SPACE;
    ir_shape s = {.rank = 4,
                  .dims = {m.n, d2s ? m.c : m.c * m.b * m.b, d2s ? m.h * m.b : m.h,
                           d2s ? m.w * m.b : m.w}};
    return ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &s);
}

/* ONNX LRN-13: X [N, C, D1...] in f32 or f64, size >= 1 (required). */
loom_status ir_infer_lrn(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = check_image(g, n, d, 3);
    if (!st && ir_attr_int(n, "size", 0) < 1) {
        ir_diag_node(d, g, n, "size must be given and at least 1");
        st = LOOM_STATUS_INVALID_MODEL;
    }
    return st ? st
              : ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}

loom_status ir_mvn_geometry(const ir_graph *g, const ir_node *n, bool reduced[IR_MAX_RANK],
                            int64_t gstride[IR_MAX_RANK], int64_t *groups, int64_t *count,
                            ir_diag *d)
{
    static const int64_t def[3] = {0, 2, 3};
    const ir_shape *x = &n->inputs[0]->shape;
    const int64_t *axes = def;
    int na = ir_attr_ints(n, "axes", &axes);
    if (na < 0)
        na = 3, axes = def;
    memset(reduced, 0, IR_MAX_RANK * sizeof *reduced);
    for (int i = 0; i < na; i++) {
        int a;
        if (!ir_normalize_axis(axes[i], x->rank, &a) || reduced[a]) {
            ir_diag_node(d, g, n, "axes: %lld is out of range or repeated for rank %d",
                         (long long)axes[i], x->rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
        reduced[a] = true;
    }
    *groups = *count = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        gstride[i] = reduced[i] ? 0 : *groups;
        *(reduced[i] ? count : groups) *= x->dims[i];
    }
    return LOOM_STATUS_OK;
}

/* ONNX MeanVarianceNormalization-13: f32 or f64, X's shape. */
loom_status ir_infer_mvn(ir_graph *g, ir_node *n, ir_diag *d)
{
    bool reduced[IR_MAX_RANK];
    int64_t gs[IR_MAX_RANK], groups, count;
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_FLOAT);
    if (!st)
        st = ir_mvn_geometry(g, n, reduced, gs, &groups, &count, d);
    return st ? st
              : ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}
