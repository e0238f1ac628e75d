/*
 * Lowering of GridSample (ONNX 16/20, 4-D), the interpreter's steps
 * (ir/interp/interp_grid.c) in loop IR: per output pixel the grid point's
 * coordinates, tap indices (through the padding mode: a zero tap is a
 * select, the index itself always clamped into the image) and weights go
 * into locals once; per channel the taps are summed.
 */
#include "ir_infer_index.h"
#include "lower_internal.h"

typedef struct grid_low {
    lower_ctx *c;
    loop_block *b;  /* the per-pixel block */
    ir_dtype t;     /* X's float dtype */
    ir_grid_geom gm;
} grid_low;

static loop_expr *num(const grid_low *g, double v)
{
    return lower_num(g->c, g->t, v);
}

static loop_expr *bin(const grid_low *g, loop_binop op, loop_expr *a, loop_expr *b)
{
    return lower_bin(g->c, op, a, b);
}

static void border(const grid_low *g, int64_t len, double *lo, double *hi)
{
    *lo = g->gm.align_corners ? 0 : -0.5;
    *hi = g->gm.align_corners ? (double)len - 1 : (double)len - 0.5;
}

/* x (a bound local) reflected at lo and hi until it lies in [lo, hi]. */
static loop_expr *reflect(const grid_low *g, loop_expr *x, double lo, double hi)
{
    double rng = hi - lo;
    if (rng <= 0)
        return num(g, lo);
    loop_expr *below = bin(g, LOOP_BINOP_LT, x, num(g, lo));
    loop_expr *dx = lower_bind(g->c, g->b, lower_sel(g->c, below, bin(g, LOOP_BINOP_SUB, num(g, lo), x),
                                                     bin(g, LOOP_BINOP_SUB, x, num(g, hi))));
    loop_expr *k = lower_bind(g->c, g->b, loop_cast(g->c->f, IR_DTYPE_I64,
                                                     bin(g, LOOP_BINOP_DIV, dx, num(g, rng))));
    loop_expr *r = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_SUB, dx,
                                               bin(g, LOOP_BINOP_MUL, loop_cast(g->c->f, g->t, k), num(g, rng))));
    loop_expr *even = bin(g, LOOP_BINOP_EQ, bin(g, LOOP_BINOP_REM, k, lower_int(g->c, IR_DTYPE_I64, 2)),
                          lower_int(g->c, IR_DTYPE_I64, 0));
    loop_expr *up = bin(g, LOOP_BINOP_ADD, num(g, lo), r), *down = bin(g, LOOP_BINOP_SUB, num(g, hi), r);
    loop_expr *out = lower_sel(g->c, below, lower_sel(g->c, even, up, down),
                               lower_sel(g->c, even, down, up));
    loop_expr *inside = bin(g, LOOP_BINOP_AND, bin(g, LOOP_BINOP_GE, x, num(g, lo)),
                            bin(g, LOOP_BINOP_LE, x, num(g, hi)));
    return lower_bind(g->c, g->b, lower_sel(g->c, inside, x, out));
}

/* Grid value v as a pixel coordinate on an axis of len (bound local). */
static loop_expr *coord(const grid_low *g, loop_expr *v, int64_t len)
{
    loop_expr *v1 = bin(g, LOOP_BINOP_ADD, v, num(g, 1));
    loop_expr *x = g->gm.align_corners
                       ? bin(g, LOOP_BINOP_MUL, bin(g, LOOP_BINOP_DIV, v1, num(g, 2)), num(g, (double)len - 1))
                       : bin(g, LOOP_BINOP_DIV, bin(g, LOOP_BINOP_SUB, bin(g, LOOP_BINOP_MUL, v1, num(g, (double)len)),
                                                    num(g, 1)),
                             num(g, 2));
    if (g->gm.mode == IR_GRID_NEAREST)
        x = lower_un(g->c, LOOP_UNOP_ROUND, x);
    x = lower_bind(g->c, g->b, x);
    double lo, hi;
    border(g, len, &lo, &hi);
    if (g->gm.pad == IR_GRID_REFLECTION)
        return reflect(g, x, lo, hi);
    if (g->gm.pad == IR_GRID_BORDER) {
        loop_expr *out = bin(g, LOOP_BINOP_OR, bin(g, LOOP_BINOP_LT, x, num(g, lo)),
                             bin(g, LOOP_BINOP_GT, x, num(g, hi)));
        loop_expr *cl = bin(g, LOOP_BINOP_MIN, bin(g, LOOP_BINOP_MAX, x, num(g, 0)), num(g, (double)len - 1));
        return lower_bind(g->c, g->b, lower_sel(g->c, out, cl, x));
    }
    return x;
}

/* Tap k of a coordinate x: *idx the pixel index clamped into [0, len),
 * *ok (NULL when always valid) whether it reads the image (zeros). */
static void tap(const grid_low *g, loop_expr *first, int k, int64_t len, loop_expr **idx,
                loop_expr **ok)
{
    ir_dtype w = IR_DTYPE_I64;
    loop_expr *q = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_ADD, first, lower_int(g->c, w, k)));
    *ok = NULL;
    if (g->gm.pad == IR_GRID_ZEROS)
        *ok = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_AND, bin(g, LOOP_BINOP_GE, q, lower_int(g->c, w, 0)),
                                         bin(g, LOOP_BINOP_LT, q, lower_int(g->c, w, len))));
    if (g->gm.pad == IR_GRID_REFLECTION) {
        double lo, hi;
        border(g, len, &lo, &hi);
        q = loop_cast(g->c->f, w, reflect(g, lower_bind(g->c, g->b, loop_cast(g->c->f, g->t, q)), lo, hi));
    }
    *idx = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_MIN, bin(g, LOOP_BINOP_MAX, q, lower_int(g->c, w, 0)),
                                      lower_int(g->c, w, len - 1)));
}

/* Taps of coordinate x: count, indices, validity and weights (locals). */
static int taps(const grid_low *g, loop_expr *x, int64_t len, loop_expr **idx, loop_expr **ok,
                loop_expr **wt)
{
    ir_dtype w = IR_DTYPE_I64;
    int nt = g->gm.mode == IR_GRID_NEAREST ? 1 : g->gm.mode == IR_GRID_LINEAR ? 2 : 4;
    loop_expr *f = g->gm.mode == IR_GRID_NEAREST ? x : lower_bind(g->c, g->b, lower_un(g->c, LOOP_UNOP_FLOOR, x));
    loop_expr *first = lower_bind(g->c, g->b, loop_cast(g->c->f, w, f));
    if (nt == 4)
        first = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_SUB, first, lower_int(g->c, w, 1)));
    for (int k = 0; k < nt; k++)
        tap(g, first, k, len, &idx[k], &ok[k]);
    loop_expr *t = nt > 1 ? lower_bind(g->c, g->b, bin(g, LOOP_BINOP_SUB, x, f)) : NULL;
    if (nt == 1) {
        wt[0] = num(g, 1);
    } else if (nt == 2) {
        wt[0] = lower_bind(g->c, g->b, bin(g, LOOP_BINOP_SUB, num(g, 1), t));
        wt[1] = t;
    } else { /* Keys' cubic convolution, A = -0.75 */
        const double A = -0.75;
        loop_expr *u[4] = {bin(g, LOOP_BINOP_ADD, t, num(g, 1)), t, bin(g, LOOP_BINOP_SUB, num(g, 1), t),
                           bin(g, LOOP_BINOP_SUB, num(g, 2), t)};
        for (int k = 0; k < 4; k++) {
            loop_expr *z = lower_bind(g->c, g->b, u[k]), *e;
            if (k == 0 || k == 3) /* ((A z - 5A) z + 8A) z - 4A */
                e = bin(g, LOOP_BINOP_SUB,
                        bin(g, LOOP_BINOP_MUL,
                            bin(g, LOOP_BINOP_ADD,
                                bin(g, LOOP_BINOP_MUL, bin(g, LOOP_BINOP_SUB, bin(g, LOOP_BINOP_MUL, num(g, A), z), num(g, 5 * A)), z),
                                num(g, 8 * A)),
                            z),
                        num(g, 4 * A));
            else /* ((A + 2) z - (A + 3)) z z + 1 */
                e = bin(g, LOOP_BINOP_ADD,
                        bin(g, LOOP_BINOP_MUL,
                            bin(g, LOOP_BINOP_MUL, bin(g, LOOP_BINOP_SUB, bin(g, LOOP_BINOP_MUL, num(g, A + 2), z), num(g, A + 3)), z),
                            z),
                        num(g, 1));
            wt[k] = lower_bind(g->c, g->b, e);
        }
    }
    return nt;
}

/* ONNX GridSample-20: per (n, ho, wo) the taps, per channel their sum. */
loom_status lower_grid_sample(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    grid_low g = {.c = c, .t = x->dtype};
    if (!ir_grid_sample_attrs(n, &g.gm))
        return LOOM_STATUS_INTERNAL;
    if (ir_shape_numel(&y->shape) == 0 || ir_shape_numel(&x->shape) == 0)
        return LOOM_STATUS_OK;
    int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    int64_t Ho = y->shape.dims[2], Wo = y->shape.dims[3];
    int v[4];
    g.b = lower_nest(c, &step->body, 3, (int64_t[]){N, Ho, Wo}, v);
    loop_index gi = loop_idx_const(0);
    loop_idx_add(&gi, v[0], Ho * Wo * 2);
    loop_idx_add(&gi, v[1], Wo * 2);
    loop_idx_add(&gi, v[2], 2);
    loop_buf *gb = lower_buf(c, n->inputs[1]);
    loop_expr *gx = lower_bind(c, g.b, loop_load(c->f, gb, gi));
    gi.offset = 1;
    loop_expr *gy = lower_bind(c, g.b, loop_load(c->f, gb, gi));
    loop_expr *ix[4], *iy[4], *okx[4], *oky[4], *wx[4], *wy[4];
    int nt = taps(&g, coord(&g, gx, W), W, ix, okx, wx);
    taps(&g, coord(&g, gy, H), H, iy, oky, wy);
    loop_block *cb = lower_nest(c, g.b, 1, &C, v + 3);
    loop_expr *acc = NULL;
    for (int j = 0; j < nt; j++)
        for (int i = 0; i < nt; i++) {
            loop_index xi = loop_idx_const(0);
            loop_idx_add(&xi, v[0], C * H * W);
            loop_idx_add(&xi, v[3], H * W);
            xi.dyn = bin(&g, LOOP_BINOP_ADD, bin(&g, LOOP_BINOP_MUL, iy[j], lower_int(c, IR_DTYPE_I64, W)), ix[i]);
            xi.dyn_coef = 1;
            loop_expr *p = loop_load(c->f, lower_buf(c, x), xi);
            if (okx[i])
                p = lower_sel(c, bin(&g, LOOP_BINOP_AND, okx[i], oky[j]), p, num(&g, 0));
            p = bin(&g, LOOP_BINOP_MUL, bin(&g, LOOP_BINOP_MUL, wy[j], wx[i]), p);
            acc = acc ? bin(&g, LOOP_BINOP_ADD, acc, p) : p;
        }
    loop_index yi = loop_idx_const(0);
    loop_idx_add(&yi, v[0], C * Ho * Wo);
    loop_idx_add(&yi, v[3], Ho * Wo);
    loop_idx_add(&yi, v[1], Wo);
    loop_idx_add(&yi, v[2], 1);
    loop_store(c->f, cb, lower_buf(c, y), yi, acc);
    return LOOM_STATUS_OK;
}
