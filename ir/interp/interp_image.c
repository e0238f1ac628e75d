/*
 * Interpreter kernels of InstanceNormalization, DepthToSpace /
 * SpaceToDepth, LRN and MeanVarianceNormalization (ir_infer_image.c): plain loops in double, rounded
 * once to the output dtype.
 */
#include <math.h>
#include <string.h>

#include "interp_internal.h"
#include "ir_image.h"

/* ONNX InstanceNormalization-6: per (n, c) over the spatial elements,
 * y = scale[c] (x - mean) / sqrt(var + epsilon) + B[c], population
 * variance. */
loom_status interp_instance_normalization(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    ir_dtype t = x->dtype;
    int64_t ch = x->shape.dims[1], sp = ir_shape_numel(&x->shape), rows = x->shape.dims[0] * ch;
    sp = rows ? sp / rows : 0;
    const void *px = interp_in(c, n, 0), *ps = interp_in(c, n, 1), *pb = interp_in(c, n, 2);
    void *py = interp_out(c, n, 0);
    double eps = ir_attr_float(n, "epsilon", 1e-5f);
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < sp; i++)
            mean += interp_load_f(px, t, r * sp + i);
        mean /= (double)sp;
        for (int64_t i = 0; i < sp; i++) {
            double dv = interp_load_f(px, t, r * sp + i) - mean;
            var += dv * dv;
        }
        double a = interp_load_f(ps, t, r % ch) / sqrt(var / (double)sp + eps);
        for (int64_t i = 0; i < sp; i++)
            interp_store_f(py, t, r * sp + i,
                           (interp_load_f(px, t, r * sp + i) - mean) * a +
                               interp_load_f(pb, t, r % ch));
    }
    return LOOM_STATUS_OK;
}

/* ONNX DepthToSpace-13 (DCR, CRD) and SpaceToDepth-13: a permutation of
 * elements, copied byte for byte along the 6-D walk of ir_d2s_strides. */
loom_status interp_depth_to_space(interp_ctx *c, const ir_node *n)
{
    ir_d2s_geom m;
    loom_status st = ir_depth_to_space_geometry(c->g, n, &m, c->d);
    if (st)
        return st;
    int64_t dims[6], sp[6], dp[6], k[6] = {0};
    ir_d2s_strides(&m, dims, sp, dp);
    bool d2s = n->op == IR_OP_DEPTH_TO_SPACE;
    const char *src = interp_in(c, n, 0);
    char *dst = interp_out(c, n, 0);
    size_t es = ir_dtype_size(n->inputs[0]->dtype);
    int64_t total = ir_shape_numel(&n->inputs[0]->shape);
    for (int64_t e = 0; e < total; e++) {
        int64_t so = 0, dof = 0;
        for (int i = 0; i < 6; i++)
            so += k[i] * sp[i], dof += k[i] * dp[i];
        memcpy(dst + (d2s ? so : dof) * (int64_t)es, src + (d2s ? dof : so) * (int64_t)es, es);
        for (int i = 5; i >= 0 && ++k[i] == dims[i]; i--)
            k[i] = 0;
    }
    return LOOM_STATUS_OK;
}

/* ONNX LRN-13: y = x / (bias + alpha / size * sum of x^2 over channels
 * c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2))^beta. */
loom_status interp_lrn(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    ir_dtype t = x->dtype;
    int64_t ch = x->shape.dims[1], size = ir_attr_int(n, "size", 1), total = ir_shape_numel(&x->shape);
    int64_t sp = total ? total / (x->shape.dims[0] * ch) : 0;
    double alpha = ir_attr_float(n, "alpha", 1e-4f), beta = ir_attr_float(n, "beta", 0.75f);
    double bias = ir_attr_float(n, "bias", 1.0f);
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++) {
        int64_t cc = e / sp % ch, base = e - cc * sp;
        double sum = 0;
        for (int64_t k = cc - (size - 1) / 2; k <= cc + size / 2; k++)
            if (k >= 0 && k < ch) {
                double v = interp_load_f(px, t, base + k * sp);
                sum += v * v;
            }
        interp_store_f(py, t, e, interp_load_f(px, t, e) / pow(bias + alpha / (double)size * sum, beta));
    }
    return LOOM_STATUS_OK;
}

/* ONNX MeanVarianceNormalization-13 (its function body): per group,
 * y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9). */
loom_status interp_mvn(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    bool reduced[IR_MAX_RANK];
    int64_t gs[IR_MAX_RANK], groups, count, idx[IR_MAX_RANK] = {0};
    loom_status st = ir_mvn_geometry(c->g, n, reduced, gs, &groups, &count, c->d);
    if (st)
        return st;
    double *acc = ir_calloc((size_t)(groups ? groups : 1), 2 * sizeof(double));
    if (!acc) {
        ir_diag_node(c->d, c->g, n, "out of memory for the statistics");
        return LOOM_STATUS_NOMEM;
    }
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&x->shape);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t e = 0; e < total; e++) {
            int64_t gi = 0;
            for (int i = 0; i < x->shape.rank; i++)
                gi += idx[i] * gs[i];
            double v = interp_load_f(px, x->dtype, e), *a = &acc[2 * gi];
            if (pass == 0)
                a[0] += v / (double)count, a[1] += v * v / (double)count;
            else
                interp_store_f(py, x->dtype, e, (v - a[0]) / (sqrt(a[1] - a[0] * a[0]) + 1e-9));
            for (int i = x->shape.rank - 1; i >= 0 && ++idx[i] == x->shape.dims[i]; i--)
                idx[i] = 0;
        }
    ir_free(acc);
    return LOOM_STATUS_OK;
}
