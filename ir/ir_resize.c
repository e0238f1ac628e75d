/*
 * Resize (opsets 10 to 19) and Upsample (7, 9) resolved into per-axis
 * sampling tables (ir_resize.h). Follows the ONNX reference
 * (onnx/reference/ops/op_resize.py): the output size is floor(scale * in)
 * for scales and the given size for sizes (keep_aspect_ratio_policy
 * rescales the resized axes by one factor, rounding half up); every output
 * position o maps to a source coordinate x by coordinate_transformation_mode
 * and takes an even number of neighbours around x, weighted by the mode's
 * coefficients (nearest, linear, cubic, their antialiased forms), clamped
 * into the axis. Scales, sizes and roi must be constants: the output shape
 * depends on them. The ONNX reader maps Resize-10 onto this form
 * (asymmetric coordinates, floor rounding, like Upsample).
 */
#include <math.h>
#include <string.h>

#include "ir_resize.h"

/* Most coefficients per output position (an antialiased downscale by 127). */
#define RS_MAX_TAPS 512

typedef enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;

/* The attributes and constant inputs of a node, resolved. */
typedef struct rs_params {
    rs_mode mode;
    const char *coord;   /* coordinate_transformation_mode */
    const char *nearest; /* nearest_mode */
    double cubic_a;
    bool exclude_outside, antialias, has_sizes;
    int n_axes;
    int axes[IR_MAX_RANK];
    double scale[IR_MAX_RANK];   /* per axis of the input */
    int64_t size[IR_MAX_RANK];   /* per axis of the input */
    double roi[2 * IR_MAX_RANK]; /* starts then ends, per axis of the input */
} rs_params;

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* mode, coordinate_transformation_mode and nearest_mode with their
 * defaults: Upsample samples at o / scale and rounds down. */
static loom_status read_modes(const ir_graph *g, const ir_node *n, rs_params *p, ir_diag *d)
{
    static const char *const coords[] = {"half_pixel", "half_pixel_symmetric",
                                         "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_half_pixel_for_nn", "tf_crop_and_resize", NULL};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                           "ceil", NULL};
    bool up = n->op == IR_OP_UPSAMPLE;
    const char *mode = ir_attr_string(n, "mode", "nearest");
    p->coord = ir_attr_string(n, "coordinate_transformation_mode", up ? "asymmetric" : "half_pixel");
    p->nearest = ir_attr_string(n, "nearest_mode", up ? "floor" : "round_prefer_floor");
    p->cubic_a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
    p->exclude_outside = ir_attr_int(n, "exclude_outside", 0) != 0;
    p->antialias = ir_attr_int(n, "antialias", 0) != 0;
    if (strcmp(mode, "nearest") == 0)
        p->mode = RS_NEAREST;
    else if (strcmp(mode, "linear") == 0 || (up && strcmp(mode, "bilinear") == 0))
        p->mode = RS_LINEAR;
    else if (strcmp(mode, "cubic") == 0 && !up)
        p->mode = RS_CUBIC;
    else {
        ir_diag_node(d, g, n, "unknown mode \"%s\"", mode);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!one_of(p->coord, coords) || !one_of(p->nearest, nearests)) {
        bool bad_coord = !one_of(p->coord, coords);
        ir_diag_node(d, g, n, "unknown %s \"%s\"",
                     bad_coord ? "coordinate_transformation_mode" : "nearest_mode",
                     bad_coord ? p->coord : p->nearest);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (p->antialias && p->mode == RS_NEAREST) {
        ir_diag_node(d, g, n, "antialias applies to linear and cubic modes only");
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* The axes attribute (Resize-18), normalized; all axes without it. */
static loom_status read_axes(const ir_graph *g, const ir_node *n, int rank, rs_params *p,
                             ir_diag *d)
{
    const int64_t *ax;
    int na = ir_attr_ints(n, "axes", &ax);
    p->n_axes = na < 0 ? rank : na;
    bool seen[IR_MAX_RANK] = {false};
    for (int i = 0; i < p->n_axes; i++) {
        int a = i;
        if (na >= 0 && (!ir_normalize_axis(ax[i], rank, &a) || seen[a])) {
            ir_diag_node(d, g, n, "axes: %lld is out of range or repeated for rank %d",
                         (long long)ax[i], rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
        seen[a] = true;
        p->axes[i] = a;
    }
    return LOOM_STATUS_OK;
}

/* Reads constant float input v (f32 or f64) of exactly count values into
 * out; reports what is wrong with it. */
static loom_status const_floats(const ir_graph *g, const ir_node *n, const ir_value *v,
                                const char *what, int count, double *out, ir_diag *d)
{
    if (v->dtype != IR_DTYPE_F32 && v->dtype != IR_DTYPE_F64) {
        ir_diag_node(d, g, n, "%s (\"%s\") has dtype %s, expected f32", what, v->name,
                     ir_dtype_name(v->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (v->shape.rank != 1 || v->shape.dims[0] != count) {
        ir_diag_node(d, g, n, "%s (\"%s\") must hold %d values, one per resized axis", what,
                     v->name, count);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!v->data) {
        ir_diag_node(d, g, n, "%s (\"%s\") is not a constant; loom needs it at compile time "
                     "because the output shape depends on it", what, v->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    for (int i = 0; i < count; i++)
        out[i] = v->dtype == IR_DTYPE_F32 ? ((const float *)v->data)[i]
                                          : ((const double *)v->data)[i];
    return LOOM_STATUS_OK;
}

/* The constant sizes input of n_axes values (positive) into p->size. */
static loom_status read_sizes(const ir_graph *g, const ir_node *n, const ir_value *v,
                              rs_params *p, ir_diag *d)
{
    int64_t s[IR_MAX_RANK];
    int k = ir_const_ints(v, s, IR_MAX_RANK);
    if (!v->data) {
        ir_diag_node(d, g, n, "sizes (\"%s\") is not a constant; loom needs it at compile time "
                     "because the output shape depends on it", v->name);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (k != p->n_axes) {
        ir_diag_node(d, g, n, "sizes (\"%s\") must be i64 with %d values, one per resized axis",
                     v->name, p->n_axes);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < k; i++) {
        if (s[i] < 0) {
            ir_diag_node(d, g, n, "sizes[%d] is negative (%lld)", i, (long long)s[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        p->size[p->axes[i]] = s[i];
    }
    return LOOM_STATUS_OK;
}

/* The scales (attribute of Upsample-7, else input 2 of Resize or 1 of
 * Upsample-9) or the sizes (input 3), exactly one of them. */
static loom_status read_scales(const ir_graph *g, const ir_node *n, rs_params *p, ir_diag *d)
{
    bool up = n->op == IR_OP_UPSAMPLE;
    const ir_value *sv = ir_input(n, up ? 1 : 2), *zv = up ? NULL : ir_input(n, 3);
    if (sv && ir_shape_numel(&sv->shape) == 0)
        sv = NULL; /* Resize-11: an empty scales when sizes are given */
    if (zv && ir_shape_numel(&zv->shape) == 0)
        zv = NULL;
    const float *attr;
    int na = up ? ir_attr_floats(n, "scales", &attr) : -1;
    if ((sv != NULL) + (zv != NULL) + (na >= 0) != 1) {
        ir_diag_node(d, g, n, "exactly one of scales and sizes must be given");
        return LOOM_STATUS_INVALID_MODEL;
    }
    p->has_sizes = zv != NULL;
    if (zv)
        return read_sizes(g, n, zv, p, d);
    double s[IR_MAX_RANK];
    if (na >= 0 && na != p->n_axes) {
        ir_diag_node(d, g, n, "scales has %d values for an input of rank %d", na, p->n_axes);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < na; i++)
        s[i] = attr[i];
    loom_status st = sv ? const_floats(g, n, sv, "scales", p->n_axes, s, d) : LOOM_STATUS_OK;
    for (int i = 0; !st && i < p->n_axes; i++) {
        if (!(s[i] > 0) || !isfinite(s[i])) {
            ir_diag_node(d, g, n, "scales[%d] is %g; scales must be positive", i, s[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        p->scale[p->axes[i]] = s[i];
    }
    return st;
}

/* The roi input (tf_crop_and_resize only): starts then ends of the resized
 * axes; defaults 0 and 1. */
static loom_status read_roi(const ir_graph *g, const ir_node *n, int rank, rs_params *p,
                            ir_diag *d)
{
    for (int i = 0; i < rank; i++)
        p->roi[i] = 0, p->roi[rank + i] = 1;
    const ir_value *v = n->op == IR_OP_RESIZE ? ir_input(n, 1) : NULL;
    if (strcmp(p->coord, "tf_crop_and_resize") != 0 || !v || ir_shape_numel(&v->shape) == 0)
        return LOOM_STATUS_OK;
    double r[2 * IR_MAX_RANK];
    loom_status st = const_floats(g, n, v, "roi", 2 * p->n_axes, r, d);
    for (int i = 0; !st && i < p->n_axes; i++) {
        p->roi[p->axes[i]] = r[i];
        p->roi[rank + p->axes[i]] = r[p->n_axes + i];
    }
    return st;
}

/* Output sizes and per-axis scales: floor(scale * in), or the sizes with
 * scale out / in, one factor for all resized axes under
 * keep_aspect_ratio_policy not_larger / not_smaller. */
static loom_status out_shape(const ir_graph *g, const ir_node *n, const ir_shape *x,
                             rs_params *p, ir_shape *out, ir_diag *d)
{
    const char *policy = ir_attr_string(n, "keep_aspect_ratio_policy", "stretch");
    bool larger = strcmp(policy, "not_larger") == 0, smaller = strcmp(policy, "not_smaller") == 0;
    if (!larger && !smaller && strcmp(policy, "stretch") != 0) {
        ir_diag_node(d, g, n, "unknown keep_aspect_ratio_policy \"%s\"", policy);
        return LOOM_STATUS_INVALID_MODEL;
    }
    *out = *x;
    double keep = larger ? INFINITY : 0;
    for (int i = 0; i < p->n_axes && p->has_sizes; i++) {
        int a = p->axes[i];
        p->scale[a] = x->dims[a] ? (double)p->size[a] / (double)x->dims[a] : 1;
        keep = larger ? fmin(keep, p->scale[a]) : fmax(keep, p->scale[a]);
    }
    for (int i = 0; i < p->n_axes; i++) {
        int a = p->axes[i];
        if (p->has_sizes && (larger || smaller))
            p->scale[a] = keep;
        double sz = p->has_sizes && !(larger || smaller) ? (double)p->size[a]
                    : p->has_sizes ? floor(keep * (double)x->dims[a] + 0.5)
                                   : floor(p->scale[a] * (double)x->dims[a]);
        if (!(sz < 1e15) || !(p->scale[a] > 0)) {
            ir_diag_node(d, g, n, "output size along axis %d is out of range", a);
            return LOOM_STATUS_INVALID_MODEL;
        }
        out->dims[a] = (int64_t)sz;
        if (sz > 0 && x->dims[a] == 0) {
            ir_diag_node(d, g, n, "axis %d is empty; it cannot be resized to %lld", a,
                         (long long)out->dims[a]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* Source coordinate of output position o along an axis (ONNX Resize-19
 * coordinate_transformation_mode); *outside for tf_crop_and_resize beyond
 * the input. */
static double source_x(const rs_params *p, int a, int rank, const ir_resize_axis *ax, int64_t o,
                       bool *outside)
{
    double s = p->scale[a], in = (double)ax->in, y = (double)o;
    double w = s * in; /* the output width before truncation */
    const char *m = p->coord;
    *outside = false;
    if (strcmp(m, "align_corners") == 0)
        return w == 1 ? 0 : y * (in - 1) / (w - 1);
    if (strcmp(m, "asymmetric") == 0)
        return y / s;
    if (strcmp(m, "tf_half_pixel_for_nn") == 0) /* Resize-11 */
        return (y + 0.5) / s;
    if (strcmp(m, "pytorch_half_pixel") == 0)
        return w == 1 ? -0.5 : (y + 0.5) / s - 0.5;
    if (strcmp(m, "half_pixel_symmetric") == 0)
        return in / 2 * (1 - (double)ax->out / w) + (y + 0.5) / s - 0.5;
    if (strcmp(m, "tf_crop_and_resize") == 0) {
        double r0 = p->roi[a], r1 = p->roi[rank + a];
        double x = (w == 1 ? (r1 - r0) * (in - 1) / 2 : y * (r1 - r0) * (in - 1) / (w - 1)) +
                   r0 * (in - 1);
        *outside = x < 0 || x > in - 1;
        return x;
    }
    return (y + 0.5) / s - 0.5; /* half_pixel */
}

/* Cubic convolution kernel with parameter A at distance x. */
static double cubic(double x, double A)
{
    x = fabs(x);
    if (x <= 1)
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2)
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
}

/* Number of coefficients per output position along an axis of scale s. */
static int tap_count(const rs_params *p, double s)
{
    if (!p->antialias)
        return p->mode == RS_CUBIC ? 4 : 2;
    s = fmin(s, 1.0);
    int start = (int)floor((p->mode == RS_CUBIC ? -2 : -1) / s) + 1;
    return 2 - 2 * start;
}

/* The coefficients c[0..taps) for the neighbours at offsets 1 - taps/2 ..
 * taps/2 from the left neighbour, the fraction r in (0, 1] past it. */
static void coeffs(const rs_params *p, double r, double s, int taps, double *c)
{
    const char *nm = p->nearest;
    if (p->mode == RS_NEAREST) {
        bool right = r == 1 || strcmp(nm, "ceil") == 0 ||
                     (strcmp(nm, "round_prefer_floor") == 0 && r > 0.5) ||
                     (strcmp(nm, "round_prefer_ceil") == 0 && r >= 0.5);
        c[0] = !right, c[1] = right;
        return;
    }
    if (!p->antialias && p->mode == RS_LINEAR) {
        c[0] = 1 - r, c[1] = r;
        return;
    }
    double sum = 0, k = p->antialias ? fmin(s, 1.0) : 1;
    for (int t = 0; t < taps; t++) {
        double dist = (double)(1 - taps / 2 + t) - r;
        c[t] = p->mode == RS_CUBIC ? cubic(k * dist, p->cubic_a) : fmax(0, 1 - fabs(k * dist));
        sum += c[t];
    }
    for (int t = 0; p->antialias && t < taps; t++)
        c[t] /= sum;
}

/* Fills the tables of axis a: neighbours around the source coordinate,
 * exclude_outside dropping (and renormalizing away) those beyond the
 * input, indices clamped; nearest keeps only its one chosen neighbour. */
static void fill_axis(const rs_params *p, int a, int rank, ir_resize_axis *ax)
{
    int taps = tap_count(p, p->scale[a]);
    ax->taps = p->mode == RS_NEAREST ? 1 : taps;
    ax->index = ir_malloc((size_t)(ax->out * ax->taps + 1) * sizeof *ax->index);
    ax->weight = ir_malloc((size_t)(ax->out * ax->taps + 1) * sizeof *ax->weight);
    double c[RS_MAX_TAPS];
    for (int64_t o = 0; o < ax->out && ax->index && ax->weight; o++) {
        bool out;
        double x = source_x(p, a, rank, ax, o, &out);
        double fl = floor(x), r = x - fl;
        if (r == 0) /* the reference prefers the left neighbour */
            fl -= 1, r = 1;
        coeffs(p, r, p->scale[a], taps, c);
        int pick = c[1] != 0; /* nearest: the neighbour it takes */
        double sum = 0;
        for (int t = 0; t < taps; t++) {
            int64_t i = (int64_t)fl + 1 - taps / 2 + t;
            if (p->exclude_outside && (i < 0 || i >= ax->in))
                c[t] = 0;
            sum += c[t];
        }
        for (int t = 0, k = 0; t < taps; t++) {
            int64_t i = (int64_t)fl + 1 - taps / 2 + t;
            if (p->mode == RS_NEAREST && t != pick)
                continue;
            ax->index[o * ax->taps + k] = i < 0 ? 0 : i >= ax->in ? ax->in - 1 : i;
            ax->weight[o * ax->taps + k++] = p->exclude_outside && sum != 0 ? c[t] / sum : c[t];
        }
        if (out && !ax->outside)
            ax->outside = ir_calloc((size_t)ax->out, sizeof *ax->outside);
        if (out && ax->outside)
            ax->outside[o] = true;
    }
}

/* An axis the resize leaves alone: same size, scale 1, whole roi. */
static bool is_identity(const rs_params *p, int a, int rank, const ir_resize_axis *ax)
{
    bool crop = strcmp(p->coord, "tf_crop_and_resize") == 0;
    return ax->in == ax->out && fabs(p->scale[a] - 1) < 1e-9 &&
           (!crop || (fabs(p->roi[a]) < 1e-9 && fabs(p->roi[rank + a] - 1) < 1e-9));
}

static loom_status geometry(const ir_graph *g, const ir_node *n, bool tables,
                            ir_resize_geom *geom, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank;
    rs_params p;
    memset(&p, 0, sizeof p);
    memset(geom, 0, sizeof *geom);
    for (int i = 0; i < IR_MAX_RANK; i++)
        p.scale[i] = 1;
    loom_status st = read_modes(g, n, &p, d);
    if (!st)
        st = read_axes(g, n, rank, &p, d);
    if (!st)
        st = read_scales(g, n, &p, d);
    if (!st)
        st = read_roi(g, n, rank, &p, d);
    if (!st)
        st = out_shape(g, n, &x->shape, &p, &geom->out, d);
    if (st)
        return st;
    for (int a = 0; a < rank; a++)
        if (tap_count(&p, p.scale[a]) > RS_MAX_TAPS) {
            ir_diag_node(d, g, n, "antialiased downscale by %g along axis %d needs more than %d "
                         "taps; loom supports up to %d", 1 / p.scale[a], a, RS_MAX_TAPS,
                         RS_MAX_TAPS);
            return LOOM_STATUS_UNSUPPORTED;
        }
    geom->rank = rank;
    geom->extrapolation_value = ir_attr_float(n, "extrapolation_value", 0);
    for (int a = 0; a < rank; a++) {
        ir_resize_axis *ax = &geom->axis[a];
        ax->in = x->shape.dims[a];
        ax->out = geom->out.dims[a];
        ax->identity = is_identity(&p, a, rank, ax);
        if (tables && !ax->identity && ax->out > 0 && ax->in > 0)
            fill_axis(&p, a, rank, ax);
    }
    return LOOM_STATUS_OK;
}

/* True when a table of a resized axis could not be allocated. */
static bool tables_missing(const ir_resize_geom *geom)
{
    for (int a = 0; a < geom->rank; a++) {
        const ir_resize_axis *ax = &geom->axis[a];
        if (!ax->identity && ax->out > 0 && ax->in > 0 && (!ax->index || !ax->weight))
            return true;
    }
    return false;
}

loom_status ir_resize_geometry(const ir_graph *g, const ir_node *n, bool tables,
                               ir_resize_geom *geom, ir_diag *d)
{
    ir_diag scratch;
    ir_diag_init(&scratch);
    loom_status st = geometry(g, n, tables, geom, d ? d : &scratch);
    ir_diag_free(&scratch);
    if (!st && tables && tables_missing(geom)) {
        ir_resize_geom_free(geom);
        if (d)
            ir_diag_node(d, g, n, "out of memory for the sampling tables");
        return LOOM_STATUS_NOMEM;
    }
    if (st)
        ir_resize_geom_free(geom);
    return st;
}

void ir_resize_geom_free(ir_resize_geom *geom)
{
    for (int a = 0; a < IR_MAX_RANK; a++) {
        ir_free(geom->axis[a].index);
        ir_free(geom->axis[a].weight);
        ir_free(geom->axis[a].outside);
        geom->axis[a].index = NULL;
        geom->axis[a].weight = NULL;
        geom->axis[a].outside = NULL;
    }
}

/* ONNX Resize-19 / Upsample-9 on f32 or f64: the output shape of the
 * geometry. */
loom_status ir_infer_resize(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_resize_geom geom;
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_FLOAT);
    if (!st)
        st = ir_resize_geometry(g, n, false, &geom, d);
    return st ? st : ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &geom.out);
}
