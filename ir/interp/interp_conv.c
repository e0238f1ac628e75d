/*
 * Interpreter kernels for the convolution family: Conv, ConvTranspose,
 * MaxPool, AveragePool, GlobalAveragePool and BatchNormalization.
 *
 * Plain loops, generic in the number of spatial dims: an odometer walks the
 * output positions and, for each, the kernel taps. Geometry (pads, output
 * sizes) comes from ir_conv_geometry, the same that shape inference used.
 * Sums accumulate in double and are rounded once to the output dtype (f32 or
 * f64); Conv and ConvTranspose first copy X, W and B into double scratch.
 */
#include <math.h>
#include <string.h>

#include "interp_internal.h"

/* Where a window tap lands along the padded input. */
enum { TAP_INPUT, TAP_PAD, TAP_OUTSIDE };

/* Advances idx over the box [0, lim) in row-major order; false after the
 * last position (idx is then all zero again). */
static bool next_index(int64_t *idx, const int64_t *lim, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        if (++idx[i] < lim[i])
            return true;
        idx[i] = 0;
    }
    return false;
}

/* Number of positions in the box [0, lim). */
static int64_t box_size(const int64_t *lim, int n)
{
    int64_t s = 1;
    for (int i = 0; i < n; i++)
        s *= lim[i];
    return s;
}

/* Row-major (col_major false) or column-major strides of the box [0, lim). */
static void box_strides(const int64_t *lim, int n, bool col_major, int64_t *str)
{
    int64_t s = 1;
    for (int k = 0; k < n; k++) {
        int i = col_major ? k : n - 1 - k;
        str[i] = s;
        s *= lim[i];
    }
}

static int64_t dot(const int64_t *a, const int64_t *b, int n)
{
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Input position pos[] of tap k of the forward window at output o, and
 * whether it lies in the input, in the pads, or beyond them (a ceil_mode
 * window running past the end pad). */
static int tap_pos(const ir_conv_geom *gm, const int64_t *o, const int64_t *k, int64_t *pos)
{
    int where = TAP_INPUT;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t p = o[i] * gm->stride[i] - gm->pad_begin[i] + k[i] * gm->dilation[i];
        pos[i] = p;
        if (p < -gm->pad_begin[i] || p >= gm->in[i] + gm->pad_end[i])
            return TAP_OUTSIDE;
        if (p < 0 || p >= gm->in[i])
            where = TAP_PAD;
    }
    return where;
}

/* ConvTranspose: the input position i with o + pad_begin = i*stride +
 * k*dilation, as a row-major offset into one channel; false if none. */
static bool transpose_tap(const ir_conv_geom *gm, const int64_t *o, const int64_t *k,
                          const int64_t *str, int64_t *off)
{
    int64_t at = 0;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t t = o[i] + gm->pad_begin[i] - k[i] * gm->dilation[i];
        if (t < 0 || t % gm->stride[i] != 0 || t / gm->stride[i] >= gm->in[i])
            return false;
        at += t / gm->stride[i] * str[i];
    }
    *off = at;
    return true;
}

static loom_status oom(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "out of memory for scratch buffers");
    return LOOM_STATUS_NOMEM;
}

/* A copy of present input i as doubles (ir_malloc), or NULL when out of
 * memory. */
static double *load_doubles(const interp_ctx *c, const ir_node *n, int i)
{
    const ir_value *v = n->inputs[i];
    const void *src = interp_in(c, n, i);
    int64_t count = ir_shape_numel(&v->shape);
    size_t bytes;
    if (!ir_mul_size((size_t)(count ? count : 1), sizeof(double), &bytes))
        return NULL;
    double *p = ir_malloc(bytes);
    if (!p)
        return NULL;
    for (int64_t k = 0; k < count; k++)
        p[k] = interp_load_f(src, v->dtype, k);
    return p;
}

/* X, W and the optional B of a Conv/ConvTranspose node as doubles. */
typedef struct conv_data {
    double *x, *w, *b;
    int64_t batch, c, m; /* N, input channels, output channels */
} conv_data;

static void conv_data_free(conv_data *cd)
{
    ir_free(cd->x);
    ir_free(cd->w);
    ir_free(cd->b);
}

/* Loads the operands; m is the output channel count. */
static loom_status conv_data_load(interp_ctx *c, const ir_node *n, conv_data *cd)
{
    const ir_value *x = n->inputs[0];
    const ir_value *y = n->outputs[0];
    memset(cd, 0, sizeof *cd);
    cd->batch = x->shape.dims[0];
    cd->c = x->shape.dims[1];
    cd->m = y->shape.dims[1];
    cd->x = load_doubles(c, n, 0);
    cd->w = load_doubles(c, n, 1);
    bool has_b = ir_input(n, 2) != NULL;
    if (has_b)
        cd->b = load_doubles(c, n, 2);
    if (!cd->x || !cd->w || (has_b && !cd->b)) {
        conv_data_free(cd);
        return oom(c, n);
    }
    return LOOM_STATUS_OK;
}

/* ONNX Conv-11: y[n, m, o] = B[m] + sum over the C/group channels ci of
 * m's group and taps k of x[n, g*C/group + ci, o*s - pad + k*d] * W[m, ci, k]. */
static void conv_forward(const ir_conv_geom *gm, const conv_data *cd, void *y, ir_dtype t)
{
    int nsp = gm->nsp;
    int64_t cg = cd->c / gm->group, mg = cd->m / gm->group;
    int64_t xsp = box_size(gm->in, nsp), ksp = box_size(gm->kernel, nsp), yi = 0;
    int64_t xstr[IR_MAX_RANK], pos[IR_MAX_RANK];
    box_strides(gm->in, nsp, false, xstr);
    for (int64_t b = 0; b < cd->batch; b++)
        for (int64_t m = 0; m < cd->m; m++) {
            const double *xg = cd->x + (b * cd->c + m / mg * cg) * xsp;
            const double *wm = cd->w + m * cg * ksp;
            int64_t o[IR_MAX_RANK] = {0};
            do {
                double acc = cd->b ? cd->b[m] : 0.0;
                int64_t k[IR_MAX_RANK] = {0}, ki = 0;
                do {
                    if (tap_pos(gm, o, k, pos) == TAP_INPUT) {
                        int64_t off = dot(pos, xstr, nsp);
                        for (int64_t ci = 0; ci < cg; ci++)
                            acc += xg[ci * xsp + off] * wm[ci * ksp + ki];
                    }
                    ki++;
                } while (next_index(k, gm->kernel, nsp));
                interp_store_f(y, t, yi++, acc);
            } while (next_index(o, gm->out, nsp));
        }
}

loom_status interp_conv(interp_ctx *c, const ir_node *n)
{
    ir_conv_geom gm;
    conv_data cd;
    loom_status st = ir_conv_geometry(c->g, n, &gm, c->d);
    if (!st)
        st = conv_data_load(c, n, &cd);
    if (st)
        return st;
    conv_forward(&gm, &cd, interp_out(c, n, 0), n->outputs[0]->dtype);
    conv_data_free(&cd);
    return LOOM_STATUS_OK;
}

/* ONNX ConvTranspose-11, as a gather: y[n, g*M/group + m, o] = B + sum over
 * the channels ci of group g and taps k with o + pad = i*s + k*d of
 * x[n, g*C/group + ci, i] * W[g*C/group + ci, m, k]. */
static void conv_transpose(const ir_conv_geom *gm, const conv_data *cd, void *y, ir_dtype t)
{
    int nsp = gm->nsp;
    int64_t cg = cd->c / gm->group, mg = cd->m / gm->group;
    int64_t xsp = box_size(gm->in, nsp), ksp = box_size(gm->kernel, nsp), yi = 0;
    int64_t xstr[IR_MAX_RANK];
    box_strides(gm->in, nsp, false, xstr);
    for (int64_t b = 0; b < cd->batch; b++)
        for (int64_t mo = 0; mo < cd->m; mo++) {
            int64_t grp = mo / mg, m = mo % mg;
            const double *xg = cd->x + (b * cd->c + grp * cg) * xsp;
            const double *wg = cd->w + (grp * cg * mg + m) * ksp;
            int64_t o[IR_MAX_RANK] = {0};
            do {
                double acc = cd->b ? cd->b[mo] : 0.0;
                int64_t k[IR_MAX_RANK] = {0}, ki = 0, off;
                do {
                    if (transpose_tap(gm, o, k, xstr, &off))
                        for (int64_t ci = 0; ci < cg; ci++)
                            acc += xg[ci * xsp + off] * wg[ci * mg * ksp + ki];
                    ki++;
                } while (next_index(k, gm->kernel, nsp));
                interp_store_f(y, t, yi++, acc);
            } while (next_index(o, gm->out, nsp));
        }
}

loom_status interp_conv_transpose(interp_ctx *c, const ir_node *n)
{
    ir_conv_geom gm;
    conv_data cd;
    loom_status st = ir_conv_geometry(c->g, n, &gm, c->d);
    if (!st)
        st = conv_data_load(c, n, &cd);
    if (st)
        return st;
    conv_transpose(&gm, &cd, interp_out(c, n, 0), n->outputs[0]->dtype);
    conv_data_free(&cd);
    return LOOM_STATUS_OK;
}

/* Max of one window (NaN only if every element is NaN; ties keep the first)
 * and the flat in-channel offsets of the winner, row- and column-major. */
static double window_max(const ir_conv_geom *gm, const void *x, ir_dtype t, int64_t base,
                         const int64_t *o, const int64_t *row, const int64_t *col,
                         int64_t *arg_row, int64_t *arg_col)
{
    int64_t k[IR_MAX_RANK] = {0}, pos[IR_MAX_RANK];
    double best = NAN;
    bool have = false;
    *arg_row = *arg_col = -1;
    do {
        if (tap_pos(gm, o, k, pos) != TAP_INPUT)
            continue;
        int64_t off = dot(pos, row, gm->nsp);
        double v = interp_load_f(x, t, base + off);
        if (!have || v > best || (isnan(best) && !isnan(v))) {
            best = v;
            have = true;
            *arg_row = off;
            *arg_col = dot(pos, col, gm->nsp);
        }
    } while (next_index(k, gm->kernel, gm->nsp));
    return best;
}

/* ONNX MaxPool-12: padding never wins; Indices are flat indices into X
 * (n*C + c) * spatial + offset, the offset row-major for storage_order 0 and
 * column-major for 1. */
loom_status interp_max_pool(interp_ctx *c, const ir_node *n)
{
    ir_conv_geom gm;
    loom_status st = ir_conv_geometry(c->g, n, &gm, c->d);
    if (st)
        return st;
    const ir_value *xv = n->inputs[0];
    const void *x = interp_in(c, n, 0);
    void *y = interp_out(c, n, 0);
    int64_t *idx = interp_out(c, n, 1);
    bool col_major = ir_attr_int(n, "storage_order", 0) != 0;
    int64_t row[IR_MAX_RANK], col[IR_MAX_RANK];
    box_strides(gm.in, gm.nsp, false, row);
    box_strides(gm.in, gm.nsp, true, col);
    int64_t planes = xv->shape.dims[0] * xv->shape.dims[1], xsp = box_size(gm.in, gm.nsp);
    int64_t yi = 0;
    for (int64_t p = 0; p < planes; p++) {
        int64_t o[IR_MAX_RANK] = {0};
        do {
            int64_t ar, ac;
            double v = window_max(&gm, x, xv->dtype, p * xsp, o, row, col, &ar, &ac);
            interp_store_f(y, n->outputs[0]->dtype, yi, v);
            if (idx)
                idx[yi] = ar < 0 ? -1 : p * xsp + (col_major ? ac : ar);
            yi++;
        } while (next_index(o, gm.out, gm.nsp));
    }
    return LOOM_STATUS_OK;
}

/* Mean of one window: the divisor counts the taps inside the input, plus
 * those in the pads when count_include_pad (never taps beyond the end pad
 * that a ceil_mode window reaches, as onnxruntime). */
static double window_mean(const ir_conv_geom *gm, const void *x, ir_dtype t, int64_t base,
                          const int64_t *o, const int64_t *row)
{
    int64_t k[IR_MAX_RANK] = {0}, pos[IR_MAX_RANK], count = 0;
    double sum = 0.0;
    do {
        int where = tap_pos(gm, o, k, pos);
        if (where == TAP_INPUT) {
            sum += interp_load_f(x, t, base + dot(pos, row, gm->nsp));
            count++;
        } else if (where == TAP_PAD && gm->count_include_pad) {
            count++;
        }
    } while (next_index(k, gm->kernel, gm->nsp));
    return count ? sum / (double)count : NAN;
}

/* ONNX AveragePool-19. */
loom_status interp_average_pool(interp_ctx *c, const ir_node *n)
{
    ir_conv_geom gm;
    loom_status st = ir_conv_geometry(c->g, n, &gm, c->d);
    if (st)
        return st;
    const ir_value *xv = n->inputs[0];
    const void *x = interp_in(c, n, 0);
    void *y = interp_out(c, n, 0);
    int64_t row[IR_MAX_RANK];
    box_strides(gm.in, gm.nsp, false, row);
    int64_t planes = xv->shape.dims[0] * xv->shape.dims[1], xsp = box_size(gm.in, gm.nsp);
    int64_t yi = 0;
    for (int64_t p = 0; p < planes; p++) {
        int64_t o[IR_MAX_RANK] = {0};
        do {
            double v = window_mean(&gm, x, xv->dtype, p * xsp, o, row);
            interp_store_f(y, n->outputs[0]->dtype, yi++, v);
        } while (next_index(o, gm.out, gm.nsp));
    }
    return LOOM_STATUS_OK;
}

/* ONNX GlobalAveragePool-1 (GlobalMaxPool-1): the mean (maximum) over all
 * spatial positions of each (n, c) plane. */
loom_status interp_global_average_pool(interp_ctx *c, const ir_node *n)
{
    const ir_value *xv = n->inputs[0];
    const void *x = interp_in(c, n, 0);
    void *y = interp_out(c, n, 0);
    int64_t planes = xv->shape.dims[0] * xv->shape.dims[1];
    int64_t xsp = box_size(xv->shape.dims + 2, xv->shape.rank - 2);
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0.0, max = -INFINITY;
        for (int64_t i = 0; i < xsp; i++) {
            double v = interp_load_f(x, xv->dtype, p * xsp + i);
            sum += v;
            max = v > max ? v : max;
        }
        bool gmp = n->op == IR_OP_GLOBAL_MAX_POOL; /* GlobalMaxPool-1 */
        interp_store_f(y, n->outputs[0]->dtype, p, gmp ? max : sum / (double)xsp);
    }
    return LOOM_STATUS_OK;
}

/* ONNX BatchNormalization-15, inference form: X viewed as [N, C, S];
 * y = (x - input_mean[c]) * scale[c] / sqrt(input_var[c] + epsilon) + B[c]. */
loom_status interp_batch_normalization(interp_ctx *c, const ir_node *n)
{
    const ir_value *xv = n->inputs[0];
    const void *x = interp_in(c, n, 0);
    void *y = interp_out(c, n, 0);
    ir_dtype yt = n->outputs[0]->dtype;
    double eps = ir_attr_float(n, "epsilon", 1e-5f);
    int64_t batch = xv->shape.dims[0];
    int64_t ch = xv->shape.rank >= 2 ? xv->shape.dims[1] : 1;
    int64_t sp = xv->shape.rank >= 2 ? box_size(xv->shape.dims + 2, xv->shape.rank - 2) : 1;
    const ir_value *pv[5];
    const void *pd[5];
    for (int i = 1; i < 5; i++) {
        pv[i] = n->inputs[i];
        pd[i] = interp_in(c, n, i);
    }
    for (int64_t b = 0; b < batch; b++)
        for (int64_t k = 0; k < ch; k++) {
            double scale = interp_load_f(pd[1], pv[1]->dtype, k);
            double bias = interp_load_f(pd[2], pv[2]->dtype, k);
            double mean = interp_load_f(pd[3], pv[3]->dtype, k);
            double var = interp_load_f(pd[4], pv[4]->dtype, k);
            double a = scale / sqrt(var + eps);
            int64_t base = (b * ch + k) * sp;
            for (int64_t i = 0; i < sp; i++) {
                double v = interp_load_f(x, xv->dtype, base + i);
                interp_store_f(y, yt, base + i, (v - mean) * a + bias);
            }
        }
    return LOOM_STATUS_OK;
}
