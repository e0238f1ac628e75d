/*
 * Reference kernel of GridSample (ONNX 16/20, 4-D), in double, following
 * the ONNX reference implementation step by step: denormalize the grid
 * coordinates, round them (nearest), bring the ones outside the border
 * back (border: clamp, reflection: reflect), then read the 1, 4 or 16
 * pixels around them, each through the padding mode again.
 */
#include <math.h>

#include "interp_internal.h"
#include "ir_infer_index.h"

/* Coordinate range of an axis of len pixels: [lo, hi]. */
static void grid_border(int64_t len, bool align, double *lo, double *hi)
{
    *lo = align ? 0 : -0.5;
    *hi = align ? (double)len - 1 : (double)len - 0.5;
}

/* x reflected at lo and hi until it lies in [lo, hi]. */
static double grid_reflect(double x, double lo, double hi)
{
    double rng = hi - lo;
    if (rng <= 0)
        return lo;
    if (x >= lo && x <= hi)
        return x;
    double dx = x < lo ? lo - x : x - hi;
    int64_t k = (int64_t)(dx / rng);
    double r = dx - (double)k * rng;
    return (x < lo) == (k % 2 == 0) ? lo + r : hi - r;
}

/* Grid value v (in [-1, 1]) as a pixel coordinate on an axis of len. */
static double grid_coord(double v, int64_t len, const ir_grid_geom *gm)
{
    double x = gm->align_corners ? (v + 1) / 2 * (double)(len - 1) : ((v + 1) * (double)len - 1) / 2;
    if (gm->mode == IR_GRID_NEAREST)
        x = nearbyint(x);
    double lo, hi;
    grid_border(len, gm->align_corners, &lo, &hi);
    if (x < lo || x > hi) {
        if (gm->pad == IR_GRID_BORDER)
            x = fmin(fmax(x, 0), (double)len - 1);
        else if (gm->pad == IR_GRID_REFLECTION)
            x = grid_reflect(x, lo, hi);
    }
    return x;
}

/* Pixel index i on an axis of len after the padding mode; -1 for a zero. */
static int64_t grid_pixel(int64_t i, int64_t len, const ir_grid_geom *gm)
{
    if (gm->pad == IR_GRID_ZEROS)
        return i >= 0 && i < len ? i : -1;
    if (gm->pad == IR_GRID_REFLECTION) {
        double lo, hi;
        grid_border(len, gm->align_corners, &lo, &hi);
        i = (int64_t)grid_reflect((double)i, lo, hi);
    }
    return i < 0 ? 0 : i >= len ? len - 1 : i;
}

/* Keys' cubic convolution weights (A = -0.75) of the 4 taps around t. */
static void cubic_weights(double t, double w[4])
{
    const double A = -0.75;
    double u = t + 1, v = 1 - t, z = 2 - t;
    w[0] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * v - (A + 3)) * v * v + 1;
    w[3] = ((A * z - 5 * A) * z + 8 * A) * z - 4 * A;
}

/* Taps around coordinate x: first index and weights (1, 2 or 4 taps). */
static int grid_taps(double x, const ir_grid_geom *gm, int64_t *first, double w[4])
{
    if (gm->mode == IR_GRID_NEAREST) {
        *first = (int64_t)x;
        w[0] = 1;
        return 1;
    }
    double f = floor(x), t = x - f;
    if (gm->mode == IR_GRID_LINEAR) {
        *first = (int64_t)f;
        w[0] = 1 - t;
        w[1] = t;
        return 2;
    }
    *first = (int64_t)f - 1;
    cubic_weights(t, w);
    return 4;
}

/* ONNX GridSample-20: y[n, c, ho, wo] = the interpolation of X[n, c] at
 * the grid point (x, y) = grid[n, ho, wo]. */
loom_status interp_grid_sample(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_grid_geom gm;
    ir_grid_sample_attrs(n, &gm);
    int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    int64_t Ho = y->shape.dims[2], Wo = y->shape.dims[3];
    const void *in = interp_in(c, n, 0), *grid = interp_in(c, n, 1);
    void *out = interp_out(c, n, 0);
    for (int64_t b = 0; b < N; b++)
        for (int64_t p = 0; p < Ho * Wo; p++) {
            int64_t x0, y0;
            double wx[4], wy[4];
            int nx = grid_taps(grid_coord(interp_load_f(grid, x->dtype, (b * Ho * Wo + p) * 2), W, &gm),
                               &gm, &x0, wx);
            grid_taps(grid_coord(interp_load_f(grid, x->dtype, (b * Ho * Wo + p) * 2 + 1), H, &gm),
                      &gm, &y0, wy);
            for (int64_t ch = 0; ch < C; ch++) {
                double acc = 0;
                for (int j = 0; j < nx; j++)
                    for (int i = 0; i < nx; i++) {
                        int64_t px = grid_pixel(x0 + i, W, &gm), py = grid_pixel(y0 + j, H, &gm);
                        if (px >= 0 && py >= 0)
                            acc += wy[j] * wx[i] *
                                   interp_load_f(in, x->dtype, ((b * C + ch) * H + py) * W + px);
                    }
                interp_store_f(out, x->dtype, (b * C + ch) * Ho * Wo + p, acc);
            }
        }
    return LOOM_STATUS_OK;
}
