/*
 * Interpreter kernel of Resize and Upsample (ir_resize.h): every output
 * element at once, as the sum over all combinations of its per-axis
 * samples of the product of their weights times the input element (the
 * N-D form, where the lowering resizes one axis at a time), in double;
 * extrapolation_value where any axis is outside the crop.
 */
#include "interp_internal.h"
#include "ir_resize.h"

/* Samples of output position o along axis a: *idx and *w point at its
 * taps; an identity axis reads position o with weight 1. */
static int axis_taps(const ir_resize_axis *ax, int64_t o, int64_t *own, const int64_t **idx,
                     const double **w)
{
    static const double one = 1;
    if (ax->identity) {
        *own = o;
        *idx = own;
        *w = &one;
        return 1;
    }
    *idx = ax->index + o * ax->taps;
    *w = ax->weight + o * ax->taps;
    return ax->taps;
}

/* Output element at output index o[] from input x (row-major strides xs). */
static double sample(const ir_resize_geom *gm, const int64_t *o, const void *x, ir_dtype t,
                     const int64_t *xs)
{
    int rank = gm->rank, taps[IR_MAX_RANK], k[IR_MAX_RANK] = {0};
    int64_t own[IR_MAX_RANK];
    const int64_t *idx[IR_MAX_RANK];
    const double *w[IR_MAX_RANK];
    for (int a = 0; a < rank; a++) {
        const ir_resize_axis *ax = &gm->axis[a];
        if (!ax->identity && ax->outside && ax->outside[o[a]])
            return gm->extrapolation_value;
        taps[a] = axis_taps(ax, o[a], &own[a], &idx[a], &w[a]);
    }
    double sum = 0;
    for (;;) {
        double wt = 1;
        int64_t off = 0;
        for (int a = 0; a < rank; a++) {
            wt *= w[a][k[a]];
            off += idx[a][k[a]] * xs[a];
        }
        if (wt != 0) /* skips 0 * inf */
            sum += wt * interp_load_f(x, t, off);
        int a = rank - 1;
        for (; a >= 0 && ++k[a] == taps[a]; a--)
            k[a] = 0;
        if (a < 0)
            return sum;
    }
}

/* ONNX Resize-19 (and Upsample-9 through the same geometry). */
loom_status interp_resize(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_resize_geom gm;
    loom_status st = ir_resize_geometry(c->g, n, true, &gm, c->d);
    if (st)
        return st;
    int64_t xs[IR_MAX_RANK], o[IR_MAX_RANK] = {0};
    ir_shape_strides(&x->shape, xs);
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    int64_t total = ir_shape_numel(&y->shape);
    for (int64_t e = 0; e < total; e++) {
        interp_store_f(py, y->dtype, e, sample(&gm, o, px, x->dtype, xs));
        for (int a = gm.rank - 1; a >= 0 && ++o[a] == y->shape.dims[a]; a--)
            o[a] = 0;
    }
    ir_resize_geom_free(&gm);
    return LOOM_STATUS_OK;
}
