/*
 * Reference kernel of RoiAlign (ONNX RoiAlign-10/16), in double, following
 * the ONNX reference implementation (and onnxruntime's CPU kernel) step by
 * step: per region the bin size and the sampling grid, per sample point
 * the bilinear interpolation of its four neighbours (zero outside
 * [-1, size]), per bin the average (or maximum) of the samples.
 */
#include <math.h>

#include "interp_internal.h"
#include "ir_roi_align.h"

/* Bilinear sample of one channel plane p (h x w) at (y, x), the ONNX
 * reference's way: a point beyond one pixel outside is 0; otherwise the
 * point is clamped into the image. In max mode the largest of the four
 * weighted taps, else their sum. */
static double roi_sample(const void *p, ir_dtype t, int64_t off, int64_t h, int64_t w, double y,
                         double x, bool max)
{
    if (y < -1.0 || y > (double)h || x < -1.0 || x > (double)w)
        return 0;
    y = y <= 0 ? 0 : y;
    x = x <= 0 ? 0 : x;
    int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1 = y0 + 1, x1 = x0 + 1;
    if (y0 >= h - 1) {
        y0 = y1 = h - 1;
        y = (double)y0;
    }
    if (x0 >= w - 1) {
        x0 = x1 = w - 1;
        x = (double)x0;
    }
    double ly = y - (double)y0, lx = x - (double)x0, hy = 1 - ly, hx = 1 - lx;
    double v[4] = {hy * hx * interp_load_f(p, t, off + y0 * w + x0),
                   hy * lx * interp_load_f(p, t, off + y0 * w + x1),
                   ly * hx * interp_load_f(p, t, off + y1 * w + x0),
                   ly * lx * interp_load_f(p, t, off + y1 * w + x1)};
    if (max)
        return fmax(fmax(fmax(v[0], v[1]), v[2]), v[3]);
    return v[0] + v[1] + v[2] + v[3];
}

/* The region of roi r: start (y, x), bin size (h, w) and grid (h, w). */
typedef struct roi_box {
    double y, x, bin_h, bin_w;
    int64_t grid_h, grid_w;
} roi_box;

static roi_box roi_region(const void *rois, ir_dtype t, int64_t r, const ir_roi_geom *gm)
{
    double off = gm->half_pixel ? 0.5 : 0, s = gm->scale;
    double x1 = interp_load_f(rois, t, r * 4) * s - off, y1 = interp_load_f(rois, t, r * 4 + 1) * s - off;
    double x2 = interp_load_f(rois, t, r * 4 + 2) * s - off, y2 = interp_load_f(rois, t, r * 4 + 3) * s - off;
    double rh = y2 - y1, rw = x2 - x1;
    if (!gm->half_pixel) { /* output_half_pixel: regions at least 1 x 1 */
        rh = fmax(rh, 1);
        rw = fmax(rw, 1);
    }
    roi_box b = {y1, x1, rh / (double)gm->out_h, rw / (double)gm->out_w, gm->sampling,
                 gm->sampling};
    if (gm->sampling == 0) {
        b.grid_h = (int64_t)ceil(rh / (double)gm->out_h);
        b.grid_w = (int64_t)ceil(rw / (double)gm->out_w);
    }
    return b;
}

/* One output bin (ph, pw) of plane off: the average or the maximum of
 * its grid's samples. */
static double roi_bin(const void *x, ir_dtype t, int64_t off, int64_t h, int64_t w,
                      const roi_box *b, int64_t ph, int64_t pw, bool max)
{
    double acc = 0;
    bool first = true;
    for (int64_t iy = 0; iy < b->grid_h; iy++) {
        double y = b->y + (double)ph * b->bin_h + ((double)iy + 0.5) * b->bin_h / (double)b->grid_h;
        for (int64_t ix = 0; ix < b->grid_w; ix++) {
            double xx = b->x + (double)pw * b->bin_w + ((double)ix + 0.5) * b->bin_w / (double)b->grid_w;
            double v = roi_sample(x, t, off, h, w, y, xx, max);
            acc = max ? (first ? v : fmax(acc, v)) : acc + v;
            first = false;
        }
    }
    int64_t count = b->grid_h * b->grid_w;
    return max ? acc : acc / (double)(count > 1 ? count : 1);
}

/* ONNX RoiAlign-16: y[r, c, ph, pw] = the bin (ph, pw) of region r of
 * X[batch_indices[r], c]. */
loom_status interp_roi_align(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *bi = n->inputs[2];
    ir_roi_geom gm;
    ir_roi_align_attrs(n, &gm);
    int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    int64_t R = bi->shape.dims[0];
    const void *in = interp_in(c, n, 0), *rois = interp_in(c, n, 1), *idx = interp_in(c, n, 2);
    void *out = interp_out(c, n, 0);
    for (int64_t r = 0; r < R; r++) {
        int64_t b = interp_load_i(idx, bi->dtype, r);
        if (b < 0 || b >= N) {
            ir_diag_node(c->d, c->g, n, "batch_indices[%lld] is %lld, outside [0, %lld)",
                         (long long)r, (long long)b, (long long)N);
            return LOOM_STATUS_INVALID_MODEL;
        }
        roi_box box = roi_region(rois, x->dtype, r, &gm);
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t ph = 0; ph < gm.out_h; ph++)
                for (int64_t pw = 0; pw < gm.out_w; pw++)
                    interp_store_f(out, x->dtype, ((r * C + ch) * gm.out_h + ph) * gm.out_w + pw,
                                   roi_bin(in, x->dtype, (b * C + ch) * H * W, H, W, &box, ph,
                                           pw, gm.max));
    }
    return LOOM_STATUS_OK;
}
