/*
 * Lowering of RoiAlign (ONNX RoiAlign-10/16), the interpreter's steps
 * (ir/interp/interp_roi_align.c) in loop IR: per region its start, bin
 * size and batch index go into locals; per output element (channel, bin)
 * a loop over the sampling grid accumulates the bilinear samples, whose
 * four taps are read with a data-dependent index that is clamped into
 * the image. The grid's trip counts are constants: sampling_ratio > 0
 * gives one loop over the regions; sampling_ratio 0 (a grid from each
 * region's size) needs constant rois and unrolls the regions.
 */
#include <math.h>

#include "ir_roi_align.h"
#include "lower_internal.h"

typedef struct roi_low {
    lower_ctx *c;
    const ir_node *n;
    ir_dtype t;        /* X's float dtype */
    ir_roi_geom gm;
    int64_t N, C, H, W;
    loop_expr *y, *x;  /* the region's start (locals) */
    loop_expr *bin_h, *bin_w;
    loop_expr *plane;  /* batch index * C * H * W (local) */
} roi_low;

static loop_expr *num(const roi_low *r, double v)
{
    return lower_num(r->c, r->t, v);
}

static loop_expr *bin(const roi_low *r, loop_binop op, loop_expr *a, loop_expr *b)
{
    return lower_bin(r->c, op, a, b);
}

static loop_expr *i64(const roi_low *r, int64_t v)
{
    return lower_int(r->c, IR_DTYPE_I64, v);
}

/* Element k of region `roi` (loop variable var, or the constant roi when
 * var < 0) of the [R, width] tensor v. */
static loop_expr *roi_load(const roi_low *r, const ir_value *v, int var, int64_t roi, int64_t k,
                           int64_t width)
{
    loop_index idx = loop_idx_const(var < 0 ? roi * width + k : k);
    if (var >= 0)
        loop_idx_add(&idx, var, width);
    return loop_load(r->c->f, lower_buf(r->c, v), idx);
}

/* The region's start, bin size and plane offset into locals of b. */
static void region(roi_low *r, loop_block *b, int var, int64_t roi)
{
    const ir_value *rois = r->n->inputs[1];
    double off = r->gm.half_pixel ? 0.5 : 0;
    loop_expr *p[4];
    for (int k = 0; k < 4; k++) /* x1, y1, x2, y2 scaled and shifted */
        p[k] = lower_bind(r->c, b, bin(r, LOOP_BINOP_SUB,
                                       bin(r, LOOP_BINOP_MUL, roi_load(r, rois, var, roi, k, 4),
                                           num(r, r->gm.scale)),
                                       num(r, off)));
    loop_expr *rw = bin(r, LOOP_BINOP_SUB, p[2], p[0]), *rh = bin(r, LOOP_BINOP_SUB, p[3], p[1]);
    if (!r->gm.half_pixel) { /* output_half_pixel: regions at least 1 x 1 */
        rw = bin(r, LOOP_BINOP_MAX, rw, num(r, 1));
        rh = bin(r, LOOP_BINOP_MAX, rh, num(r, 1));
    }
    r->x = p[0];
    r->y = p[1];
    r->bin_w = lower_bind(r->c, b, bin(r, LOOP_BINOP_DIV, rw, num(r, (double)r->gm.out_w)));
    r->bin_h = lower_bind(r->c, b, bin(r, LOOP_BINOP_DIV, rh, num(r, (double)r->gm.out_h)));
    const ir_value *bi = r->n->inputs[2];
    loop_expr *k = lower_index_in_range(r->c, b, roi_load(r, bi, var, roi, 0, 1), r->N, false, bi);
    r->plane = lower_bind(r->c, b, bin(r, LOOP_BINOP_MUL, k, i64(r, r->C * r->H * r->W)));
}

/* Sample coordinate of grid point i (a loop variable) in bin p (a loop
 * variable) of grid g: start + p bin + (i + 0.5) bin / g. */
static loop_expr *sample_coord(const roi_low *r, loop_block *b, loop_expr *start,
                               loop_expr *bin_size, int p, int i, int64_t g)
{
    loop_func *f = r->c->f;
    loop_expr *at = bin(r, LOOP_BINOP_MUL, loop_cast(f, r->t, loop_var(f, p)), bin_size);
    loop_expr *in = bin(r, LOOP_BINOP_DIV,
                        bin(r, LOOP_BINOP_MUL,
                            bin(r, LOOP_BINOP_ADD, loop_cast(f, r->t, loop_var(f, i)), num(r, 0.5)),
                            bin_size),
                        num(r, (double)g));
    return lower_bind(r->c, b, bin(r, LOOP_BINOP_ADD, bin(r, LOOP_BINOP_ADD, start, at), in));
}

/* The two taps of coordinate v on an axis of len (clamped at 0 and at the
 * last pixel, as the reference does): low and high index (i64 locals) and
 * the fraction toward the high one. */
static void axis_taps(const roi_low *r, loop_block *b, loop_expr *v, int64_t len, loop_expr **lo,
                      loop_expr **hi, loop_expr **frac)
{
    v = lower_bind(r->c, b, bin(r, LOOP_BINOP_MAX, v, num(r, 0)));
    loop_expr *i = lower_bind(r->c, b, loop_cast(r->c->f, IR_DTYPE_I64, v));
    loop_expr *edge = lower_bind(r->c, b, bin(r, LOOP_BINOP_GE, i, i64(r, len - 1)));
    *lo = lower_bind(r->c, b, lower_sel(r->c, edge, i64(r, len - 1), i));
    *hi = lower_bind(r->c, b, lower_sel(r->c, edge, i64(r, len - 1),
                                        bin(r, LOOP_BINOP_ADD, i, i64(r, 1))));
    *frac = lower_bind(r->c, b, lower_sel(r->c, edge, num(r, 0),
                                          bin(r, LOOP_BINOP_SUB, v, loop_cast(r->c->f, r->t, i))));
}

/* X at plane + ch * H * W + yi * W + xi. */
static loop_expr *tap(const roi_low *r, int ch, loop_expr *yi, loop_expr *xi)
{
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, ch, r->H * r->W);
    idx.dyn = bin(r, LOOP_BINOP_ADD, r->plane,
                  bin(r, LOOP_BINOP_ADD, bin(r, LOOP_BINOP_MUL, yi, i64(r, r->W)), xi));
    idx.dyn_coef = 1;
    return loop_load(r->c->f, lower_buf(r->c, r->n->inputs[0]), idx);
}

/* The bilinear sample at (y, x): the sum (avg) or the largest (max) of
 * the four weighted taps; 0 beyond one pixel outside the image. */
static loop_expr *sample(const roi_low *r, loop_block *b, int ch, loop_expr *y, loop_expr *x)
{
    loop_expr *out = bin(r, LOOP_BINOP_OR,
                         bin(r, LOOP_BINOP_OR, bin(r, LOOP_BINOP_LT, y, num(r, -1)),
                             bin(r, LOOP_BINOP_GT, y, num(r, (double)r->H))),
                         bin(r, LOOP_BINOP_OR, bin(r, LOOP_BINOP_LT, x, num(r, -1)),
                             bin(r, LOOP_BINOP_GT, x, num(r, (double)r->W))));
    loop_expr *y0, *y1, *ly, *x0, *x1, *lx;
    axis_taps(r, b, y, r->H, &y0, &y1, &ly);
    axis_taps(r, b, x, r->W, &x0, &x1, &lx);
    loop_expr *hy = bin(r, LOOP_BINOP_SUB, num(r, 1), ly), *hx = bin(r, LOOP_BINOP_SUB, num(r, 1), lx);
    loop_expr *v[4] = {bin(r, LOOP_BINOP_MUL, bin(r, LOOP_BINOP_MUL, hy, hx), tap(r, ch, y0, x0)),
                       bin(r, LOOP_BINOP_MUL, bin(r, LOOP_BINOP_MUL, hy, lx), tap(r, ch, y0, x1)),
                       bin(r, LOOP_BINOP_MUL, bin(r, LOOP_BINOP_MUL, ly, hx), tap(r, ch, y1, x0)),
                       bin(r, LOOP_BINOP_MUL, bin(r, LOOP_BINOP_MUL, ly, lx), tap(r, ch, y1, x1))};
    loop_binop op = r->gm.max ? LOOP_BINOP_MAX : LOOP_BINOP_ADD;
    loop_expr *s = bin(r, op, bin(r, op, bin(r, op, v[0], v[1]), v[2]), v[3]);
    return lower_sel(r->c, out, num(r, 0), s);
}

/* Every output element of the region in b: y[roi, ch, ph, pw] over a
 * gh x gw sampling grid (roi: loop variable var, or the constant roi). */
static void region_bins(roi_low *r, loop_block *b, int var, int64_t roi, int64_t gh, int64_t gw)
{
    loop_func *f = r->c->f;
    region(r, b, var, roi);
    int v[5];
    loop_block *eb = lower_nest(r->c, b, 3, (int64_t[]){r->C, r->gm.out_h, r->gm.out_w}, v);
    int acc = loop_local_new(f, r->t);
    loop_set(f, eb, acc, num(r, r->gm.max && gh * gw > 0 ? -INFINITY : 0));
    if (gh * gw > 0) {
        loop_block *gb = lower_nest(r->c, eb, 2, (int64_t[]){gh, gw}, v + 3);
        loop_expr *y = sample_coord(r, gb, r->y, r->bin_h, v[1], v[3], gh);
        loop_expr *x = sample_coord(r, gb, r->x, r->bin_w, v[2], v[4], gw);
        loop_set(f, gb, acc, bin(r, r->gm.max ? LOOP_BINOP_MAX : LOOP_BINOP_ADD,
                                 loop_local_read(f, acc), sample(r, gb, v[0], y, x)));
    }
    loop_expr *val = loop_local_read(f, acc);
    if (!r->gm.max && gh * gw > 1)
        val = bin(r, LOOP_BINOP_DIV, val, num(r, (double)(gh * gw)));
    loop_index yi = loop_idx_const(var < 0 ? roi * r->C * r->gm.out_h * r->gm.out_w : 0);
    if (var >= 0)
        loop_idx_add(&yi, var, r->C * r->gm.out_h * r->gm.out_w);
    loop_idx_add(&yi, v[0], r->gm.out_h * r->gm.out_w);
    loop_idx_add(&yi, v[1], r->gm.out_w);
    loop_idx_add(&yi, v[2], 1);
    loop_store(f, eb, lower_buf(r->c, r->n->outputs[0]), yi, val);
}

/* sampling_ratio 0: the grid of constant region roi on one axis,
 * ceil(region size / output size) as the reference computes it. */
static int64_t adaptive_grid(const roi_low *r, int64_t roi, int k, int64_t out)
{
    const ir_value *rois = r->n->inputs[1];
    double a, b;
    if (rois->dtype == IR_DTYPE_F32) {
        a = ((const float *)rois->data)[roi * 4 + k];
        b = ((const float *)rois->data)[roi * 4 + k + 2];
    } else {
        a = ((const double *)rois->data)[roi * 4 + k];
        b = ((const double *)rois->data)[roi * 4 + k + 2];
    }
    double size = b * r->gm.scale - a * r->gm.scale;
    if (!r->gm.half_pixel)
        size = fmax(size, 1);
    double g = ceil(size / (double)out);
    return g > 0 ? (int64_t)g : 0;
}

/* ONNX RoiAlign-16: y[r, c, ph, pw] = the bin (ph, pw) of region r of
 * X[batch_indices[r], c]. */
loom_status lower_roi_align(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *rois = n->inputs[1];
    roi_low r = {.c = c, .n = n, .t = x->dtype};
    if (!ir_roi_align_attrs(n, &r.gm))
        return LOOM_STATUS_INTERNAL;
    r.N = x->shape.dims[0];
    r.C = x->shape.dims[1];
    r.H = x->shape.dims[2];
    r.W = x->shape.dims[3];
    int64_t R = rois->shape.dims[0];
    if (r.gm.sampling > 0) {
        int var;
        loop_block *b = lower_nest(c, &step->body, 1, &R, &var);
        region_bins(&r, b, var, 0, r.gm.sampling, r.gm.sampling);
        return LOOM_STATUS_OK;
    }
    if (!rois->data) {
        ir_diag_node(c->d, c->g, n, "sampling_ratio 0 (a sampling grid from each region's size) "
                                    "needs constant rois: loop trip counts are compile-time "
                                    "constants; give sampling_ratio > 0");
        return LOOM_STATUS_UNSUPPORTED;
    }
    for (int64_t roi = 0; roi < R; roi++)
        region_bins(&r, &step->body, -1, roi, adaptive_grid(&r, roi, 1, r.gm.out_h),
                    adaptive_grid(&r, roi, 0, r.gm.out_w));
    return LOOM_STATUS_OK;
}
