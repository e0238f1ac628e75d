/*
 * Shape inference for the convolution family: Conv, ConvTranspose, MaxPool,
 * AveragePool, GlobalAveragePool and BatchNormalization (inference form).
 *
 * ir_conv_geometry resolves kernel, strides, dilations, auto_pad and pads
 * into one ir_conv_geom, so that shape inference, the interpreter and the
 * lowering agree on every pad and output size. It validates everything a
 * model can get wrong (ranks, counts, channel/group agreement, ranges) and
 * reports it with ir_diag_node.
 *
 * Older attribute forms accepted: auto_pad "" (= NOTSET), Conv without
 * kernel_shape (taken from W), ConvTranspose output_shape that includes the
 * N and C dims, BatchNormalization spatial=1, is_test=1 and momentum.
 */
#include <string.h>

#include "ir_infer.h"

/* Window attributes above this are rejected so size arithmetic in int64
 * cannot overflow (dims are at most 2^62, see ir_shape_bytes). */
#define ATTR_MAX INT64_C(0x7fffffff)

typedef enum auto_pad {
    AUTO_PAD_NOTSET,
    AUTO_PAD_SAME_UPPER,
    AUTO_PAD_SAME_LOWER,
    AUTO_PAD_VALID
} auto_pad;

static bool is_conv_op(ir_op op)
{
    return op == IR_OP_CONV || op == IR_OP_CONV_TRANSPOSE;
}

static bool is_pool_op(ir_op op)
{
    return op == IR_OP_MAX_POOL || op == IR_OP_AVERAGE_POOL;
}

/* True if the value's dtype is one the float kernels handle. */
static bool is_float(const ir_value *v)
{
    return v->dtype == IR_DTYPE_F32 || v->dtype == IR_DTYPE_F64;
}

/* Reports a non-float input: integer types the ONNX op allows (MaxPool-12
 * i8/u8) are unsupported, anything else is a malformed model. */
static loom_status check_float(const ir_graph *g, const ir_node *n, ir_diag *d,
                               const ir_value *v, const char *what)
{
    if (is_float(v))
        return LOOM_STATUS_OK;
    bool spec_int = n->op == IR_OP_MAX_POOL && (v->dtype == IR_DTYPE_I8 || v->dtype == IR_DTYPE_U8);
    ir_diag_node(d, g, n, "%s \"%s\" has dtype %s; %s", what, v->name, ir_dtype_name(v->dtype),
                 spec_int ? "only f32 and f64 are supported" : "expected f32 or f64");
    return spec_int ? LOOM_STATUS_UNSUPPORTED : LOOM_STATUS_INVALID_MODEL;
}

/* Checks that v (scale, bias, ...) has the same dtype as the data input x. */
static loom_status check_same_dtype(const ir_graph *g, const ir_node *n, ir_diag *d,
                                    const ir_value *v, const ir_value *x, const char *what)
{
    if (v->dtype == x->dtype)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "%s \"%s\" has dtype %s, input X has %s", what, v->name,
                 ir_dtype_name(v->dtype), ir_dtype_name(x->dtype));
    return LOOM_STATUS_INVALID_MODEL;
}

/* Sets output i to shape s after checking its byte size fits. */
static loom_status set_output(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                              const ir_shape *s)
{
    return ir_set_output_checked(g, n, d, i, t, s);
}

/* ---- attribute readers ---- */

/* Reads the ints attribute name into out[0..count): when absent every entry
 * is def; when present it must have count values in [min, ATTR_MAX].
 * *present (if not NULL) tells whether the attribute was given. */
static loom_status window_ints(const ir_graph *g, const ir_node *n, ir_diag *d, const char *name,
                               int count, int64_t def, int64_t min, int64_t *out, bool *present)
{
    const int64_t *v = NULL;
    int k = ir_attr_ints(n, name, &v);
    if (present)
        *present = k >= 0;
    if (k < 0) {
        for (int i = 0; i < count; i++)
            out[i] = def;
        return LOOM_STATUS_OK;
    }
    if (k != count) {
        if (d && strcmp(name, "pads") == 0)
            ir_diag_node(d, g, n,
                         "pads has %d values, expected %d (begin and end of %d spatial dims)", k,
                         count, count / 2);
        else if (d)
            ir_diag_node(d, g, n, "%s has %d %s, input has %d spatial dims", name, k,
                         strcmp(name, "kernel_shape") == 0 ? "dims" : "values", count);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < count; i++) {
        if (v[i] < min || v[i] > ATTR_MAX) {
            if (d && v[i] < min)
                ir_diag_node(d, g, n, "%s[%d] is %lld, must be %s", name, i, (long long)v[i],
                             min > 0 ? "positive" : "non-negative");
            else if (d)
                ir_diag_node(d, g, n, "%s[%d] is %lld, larger than %lld", name, i,
                             (long long)v[i], (long long)ATTR_MAX);
            return LOOM_STATUS_INVALID_MODEL;
        }
        out[i] = v[i];
    }
    return LOOM_STATUS_OK;
}

/* Parses auto_pad (ONNX: NOTSET, SAME_UPPER, SAME_LOWER, VALID; "" is the
 * NOTSET that some exporters write). */
static loom_status read_auto_pad(const ir_graph *g, const ir_node *n, ir_diag *d, auto_pad *out)
{
    static const char *const names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    const char *s = ir_attr_string(n, "auto_pad", "NOTSET");
    if (s[0] == '\0')
        s = "NOTSET";
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (auto_pad)i;
            return LOOM_STATUS_OK;
        }
    if (d)
        ir_diag_node(d, g, n, "auto_pad \"%s\" is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", s);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Reads a 0/1 flag attribute. */
static loom_status read_flag(const ir_graph *g, const ir_node *n, ir_diag *d, const char *name,
                             int64_t def, bool *out)
{
    int64_t v = ir_attr_int(n, name, def);
    if (v != 0 && v != 1) {
        if (d)
            ir_diag_node(d, g, n, "%s is %lld, must be 0 or 1", name, (long long)v);
        return LOOM_STATUS_INVALID_MODEL;
    }
    *out = v != 0;
    return LOOM_STATUS_OK;
}

/* ---- geometry ---- */

/* Checks the data input X (rank >= 3: N, C, spatial...) and records the
 * spatial sizes. */
static loom_status geom_input(const ir_graph *g, const ir_node *n, ir_diag *d, ir_conv_geom *gm)
{
    const ir_value *x = ir_input(n, 0);
    if (!x || !x->shape_known) {
        if (d)
            ir_diag_node(d, g, n, "input X is missing or has no known shape");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (x->shape.rank < 3) {
        if (d)
            ir_diag_node(d, g, n,
                         "input X has rank %d, expected at least 3 (N, C and spatial dims)",
                         x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    gm->nsp = x->shape.rank - 2;
    for (int i = 0; i < gm->nsp; i++) {
        gm->in[i] = x->shape.dims[2 + i];
        if (gm->in[i] <= 0) {
            if (d)
                ir_diag_node(d, g, n, "input X has an empty spatial dim %d", i);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* Conv / ConvTranspose: the weight W must have X's rank; kernel_shape, when
 * given, must match W's spatial dims, else it is taken from W. */
static loom_status geom_weight_kernel(const ir_graph *g, const ir_node *n, ir_diag *d,
                                      ir_conv_geom *gm)
{
    const ir_value *x = ir_input(n, 0), *w = ir_input(n, 1);
    if (!w || w->shape.rank != x->shape.rank) {
        if (d)
            ir_diag_node(d, g, n, "weight W has rank %d, input X has rank %d",
                         w ? w->shape.rank : 0, x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    bool given;
    loom_status st = window_ints(g, n, d, "kernel_shape", gm->nsp, 0, 1, gm->kernel, &given);
    if (st)
        return st;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t wk = w->shape.dims[2 + i];
        if (given && gm->kernel[i] != wk) {
            if (d)
                ir_diag_node(d, g, n, "kernel_shape[%d] is %lld, weight W has %lld", i,
                             (long long)gm->kernel[i], (long long)wk);
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (wk <= 0 || wk > ATTR_MAX) {
            if (d)
                ir_diag_node(d, g, n, "weight W has kernel size %lld in spatial dim %d",
                             (long long)wk, i);
            return LOOM_STATUS_INVALID_MODEL;
        }
        gm->kernel[i] = wk;
    }
    return LOOM_STATUS_OK;
}

/* ONNX Conv-11: W is [M, C/group, k...]; ConvTranspose-11: W is
 * [C, M/group, k...]. Checks group against the channel counts. */
static loom_status geom_group(const ir_graph *g, const ir_node *n, ir_diag *d, ir_conv_geom *gm)
{
    const ir_value *x = ir_input(n, 0), *w = ir_input(n, 1);
    int64_t c = x->shape.dims[1], group = ir_attr_int(n, "group", 1);
    if (group < 1 || group > ATTR_MAX) {
        if (d)
            ir_diag_node(d, g, n, "group is %lld, must be positive", (long long)group);
        return LOOM_STATUS_INVALID_MODEL;
    }
    gm->group = group;
    int64_t w0 = w->shape.dims[0], w1 = w->shape.dims[1];
    if (c % group != 0) {
        if (d)
            ir_diag_node(d, g, n, "input X has %lld channels, not divisible by group %lld",
                         (long long)c, (long long)group);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->op == IR_OP_CONV && w1 != c / group) {
        if (d)
            ir_diag_node(d, g, n,
                         "weight W has %lld input channels per group, "
                         "input X has %lld channels in %lld groups",
                         (long long)w1, (long long)c, (long long)group);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->op == IR_OP_CONV && w0 % group != 0) {
        if (d)
            ir_diag_node(d, g, n, "weight W has %lld output channels, not divisible by group %lld",
                         (long long)w0, (long long)group);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->op == IR_OP_CONV_TRANSPOSE && w0 != c) {
        if (d)
            ir_diag_node(d, g, n, "weight W has %lld input channels, input X has %lld",
                         (long long)w0, (long long)c);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Reads strides, dilations and explicit pads; rejects pads next to an
 * auto_pad other than NOTSET unless they are all zero. */
static loom_status geom_window_attrs(const ir_graph *g, const ir_node *n, ir_diag *d,
                                     ir_conv_geom *gm, auto_pad ap)
{
    int nsp = gm->nsp;
    int64_t pads[2 * IR_MAX_RANK];
    bool has_pads;
    loom_status st = window_ints(g, n, d, "strides", nsp, 1, 1, gm->stride, NULL);
    if (!st)
        st = window_ints(g, n, d, "dilations", nsp, 1, 1, gm->dilation, NULL);
    if (!st)
        st = window_ints(g, n, d, "pads", 2 * nsp, 0, 0, pads, &has_pads);
    if (st)
        return st;
    bool nonzero = false;
    for (int i = 0; i < nsp; i++) {
        gm->pad_begin[i] = pads[i];
        gm->pad_end[i] = pads[nsp + i];
        nonzero |= pads[i] != 0 || pads[nsp + i] != 0;
    }
    if (ap != AUTO_PAD_NOTSET && nonzero) {
        if (d)
            ir_diag_node(d, g, n, "pads cannot be combined with auto_pad %s",
                         ir_attr_string(n, "auto_pad", ""));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (ap != AUTO_PAD_NOTSET)
        for (int i = 0; i < nsp; i++)
            gm->pad_begin[i] = gm->pad_end[i] = 0;
    return LOOM_STATUS_OK;
}

/* Extent of the dilated window along spatial dim i. */
static int64_t window_extent(const ir_conv_geom *gm, int i)
{
    return (gm->kernel[i] - 1) * gm->dilation[i] + 1;
}

/* ONNX Conv-11, MaxPool-22, AveragePool-22: output sizes and pads of a
 * forward window op. SAME_* give ceil(in / stride) outputs with the total pad
 * split evenly, the odd one at the end (UPPER) or the start (LOWER). */
static loom_status geom_forward(const ir_graph *g, const ir_node *n, ir_diag *d,
                                ir_conv_geom *gm, auto_pad ap)
{
    for (int i = 0; i < gm->nsp; i++) {
        int64_t win = window_extent(gm, i), s = gm->stride[i], in = gm->in[i];
        if (ap == AUTO_PAD_SAME_UPPER || ap == AUTO_PAD_SAME_LOWER) {
            int64_t out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + win - in;
            if (total < 0)
                total = 0;
            gm->pad_begin[i] = ap == AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            gm->pad_end[i] = total - gm->pad_begin[i];
            gm->out[i] = out;
            continue;
        }
        int64_t span = in + gm->pad_begin[i] + gm->pad_end[i] - win;
        if (span < 0) {
            if (d)
                ir_diag_node(d, g, n,
                             "window of %lld along spatial dim %d is larger than the padded "
                             "input (%lld)",
                             (long long)win, i, (long long)(span + win));
            return LOOM_STATUS_INVALID_MODEL;
        }
        gm->out[i] = span / s + 1;
        /* ceil_mode (also with VALID, as onnxruntime and ONNX shape inference
         * do); a last window that would start in the right padding is dropped */
        if (gm->ceil_mode && span % s != 0) {
            gm->out[i]++;
            if ((gm->out[i] - 1) * s >= in + gm->pad_begin[i])
                gm->out[i]--;
        }
    }
    return LOOM_STATUS_OK;
}

/* Pooling windows must see at least one input element: pads smaller than
 * the window, and (with dilation larger than the input) no window whose taps
 * all fall into the padding. */
static loom_status geom_pool_windows(const ir_graph *g, const ir_node *n, ir_diag *d,
                                     const ir_conv_geom *gm)
{
    for (int i = 0; i < gm->nsp; i++) {
        int64_t win = window_extent(gm, i);
        if (gm->pad_begin[i] >= win || gm->pad_end[i] >= win) {
            if (d)
                ir_diag_node(d, g, n,
                             "pads of spatial dim %d (%lld, %lld) must be smaller than the "
                             "window (%lld)",
                             i, (long long)gm->pad_begin[i], (long long)gm->pad_end[i],
                             (long long)win);
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (gm->dilation[i] <= gm->in[i])
            continue; /* the first tap at or after 0 is inside the input */
        for (int64_t o = 0; o < gm->out[i] && o * gm->stride[i] < gm->pad_begin[i]; o++) {
            int64_t start = o * gm->stride[i] - gm->pad_begin[i];
            int64_t j = (-start + gm->dilation[i] - 1) / gm->dilation[i];
            if (j >= gm->kernel[i] || start + j * gm->dilation[i] >= gm->in[i]) {
                if (d)
                    ir_diag_node(d, g, n,
                                 "pooling window %lld of spatial dim %d covers only padding",
                                 (long long)o, i);
                return LOOM_STATUS_INVALID_MODEL;
            }
        }
    }
    return LOOM_STATUS_OK;
}

/* Reads ConvTranspose output_shape: nsp spatial sizes, or (an older form)
 * nsp + 2 values whose last nsp are the spatial sizes. */
static loom_status read_output_shape(const ir_graph *g, const ir_node *n, ir_diag *d, int nsp,
                                     int64_t *os, bool *present)
{
    const int64_t *v = NULL;
    int k = ir_attr_ints(n, "output_shape", &v);
    *present = k >= 0;
    if (k < 0)
        return LOOM_STATUS_OK;
    if (k != nsp && k != nsp + 2) {
        if (d)
            ir_diag_node(d, g, n, "output_shape has %d values, input has %d spatial dims", k, nsp);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < nsp; i++) {
        os[i] = v[k - nsp + i];
        if (os[i] <= 0 || os[i] > (INT64_C(1) << 62)) {
            if (d)
                ir_diag_node(d, g, n, "output_shape[%d] is %lld, out of range", k - nsp + i,
                             (long long)os[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* ONNX ConvTranspose-11 along one spatial dim: the full output is
 * stride*(in-1) + output_padding + window. A target size (output_shape, or
 * in*stride for SAME_*) sets total_padding = full - target, split with the
 * odd one at the start unless SAME_UPPER. As in onnxruntime and ONNX shape
 * inference, SAME_* never pads negatively (a full output shorter than
 * in*stride is kept), while an output_shape beyond the full output by less
 * than the stride adds bias-only positions at the end (pad_end < 0). */
static loom_status transpose_dim(const ir_graph *g, const ir_node *n, ir_diag *d,
                                 ir_conv_geom *gm, int i, auto_pad ap, const int64_t *os)
{
    int64_t s = gm->stride[i], full, target = os ? os[i] : -1;
    bool same = ap == AUTO_PAD_SAME_UPPER || ap == AUTO_PAD_SAME_LOWER;
    int64_t extra = gm->output_padding[i] + window_extent(gm, i);
    bool overflow = __builtin_mul_overflow(s, gm->in[i] - 1, &full) ||
                    __builtin_add_overflow(full, extra, &full);
    if (!overflow && !os && same)
        overflow = __builtin_mul_overflow(gm->in[i], s, &target);
    if (overflow) {
        if (d)
            ir_diag_node(d, g, n, "output size of spatial dim %d overflows", i);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (target < 0) { /* explicit pads (zero for VALID) */
        gm->out[i] = full - gm->pad_begin[i] - gm->pad_end[i];
        return LOOM_STATUS_OK;
    }
    if (!os && target > full)
        target = full;
    int64_t total = full - target;
    if (total >= 0)
        gm->pad_begin[i] = ap == AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    else if (-total < s)
        gm->pad_begin[i] = 0;
    else {
        if (d)
            ir_diag_node(d, g, n,
                         "output size %lld of spatial dim %d is larger than the %lld the input "
                         "can produce",
                         (long long)target, i, (long long)(full + s - 1));
        return LOOM_STATUS_INVALID_MODEL;
    }
    gm->pad_end[i] = total - gm->pad_begin[i];
    gm->out[i] = target;
    return LOOM_STATUS_OK;
}

/* ConvTranspose: output_padding, output_shape and the per-dim sizes. When
 * output_shape is given the pads are derived from it (explicit pads are
 * ignored, as the spec says they are auto generated). */
static loom_status geom_transpose(const ir_graph *g, const ir_node *n, ir_diag *d,
                                  ir_conv_geom *gm, auto_pad ap)
{
    int64_t os[IR_MAX_RANK];
    bool has_os;
    loom_status st =
        window_ints(g, n, d, "output_padding", gm->nsp, 0, 0, gm->output_padding, NULL);
    if (!st)
        st = read_output_shape(g, n, d, gm->nsp, os, &has_os);
    if (st)
        return st;
    for (int i = 0; i < gm->nsp; i++) {
        int64_t limit = gm->stride[i] > gm->dilation[i] ? gm->stride[i] : gm->dilation[i];
        if (gm->output_padding[i] >= limit) {
            if (d)
                ir_diag_node(d, g, n,
                             "output_padding[%d] is %lld, must be smaller than the stride or "
                             "dilation (%lld)",
                             i, (long long)gm->output_padding[i], (long long)limit);
            return LOOM_STATUS_INVALID_MODEL;
        }
        st = transpose_dim(g, n, d, gm, i, ap, has_os ? os : NULL);
        if (st)
            return st;
    }
    return LOOM_STATUS_OK;
}

/* Rejects output sizes below 1. */
static loom_status geom_check_out(const ir_graph *g, const ir_node *n, ir_diag *d,
                                  const ir_conv_geom *gm)
{
    for (int i = 0; i < gm->nsp; i++)
        if (gm->out[i] <= 0) {
            if (d)
                ir_diag_node(d, g, n,
                             "output size of spatial dim %d would be %lld (input %lld, window "
                             "%lld, stride %lld, pads %lld+%lld)",
                             i, (long long)gm->out[i], (long long)gm->in[i],
                             (long long)window_extent(gm, i), (long long)gm->stride[i],
                             (long long)gm->pad_begin[i], (long long)gm->pad_end[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    return LOOM_STATUS_OK;
}

/* Pooling only: kernel_shape (required), ceil_mode, count_include_pad. */
static loom_status geom_pool_attrs(const ir_graph *g, const ir_node *n, ir_diag *d,
                                   ir_conv_geom *gm)
{
    const int64_t *k;
    if (ir_attr_ints(n, "kernel_shape", &k) < 0) {
        if (d)
            ir_diag_node(d, g, n, "kernel_shape is required");
        return LOOM_STATUS_INVALID_MODEL;
    }
    gm->group = 1;
    loom_status st = window_ints(g, n, d, "kernel_shape", gm->nsp, 0, 1, gm->kernel, NULL);
    if (!st)
        st = read_flag(g, n, d, "ceil_mode", 0, &gm->ceil_mode);
    if (!st && n->op == IR_OP_AVERAGE_POOL)
        st = read_flag(g, n, d, "count_include_pad", 0, &gm->count_include_pad);
    return st;
}

loom_status ir_conv_geometry(const ir_graph *g, const ir_node *n, ir_conv_geom *geom, ir_diag *d)
{
    memset(geom, 0, sizeof *geom);
    if (!is_conv_op(n->op) && !is_pool_op(n->op)) {
        if (d)
            ir_diag_node(d, g, n, "has no convolution geometry");
        return LOOM_STATUS_INTERNAL;
    }
    auto_pad ap = AUTO_PAD_NOTSET;
    loom_status st = geom_input(g, n, d, geom);
    if (!st && is_conv_op(n->op)) {
        st = geom_weight_kernel(g, n, d, geom);
        if (!st)
            st = geom_group(g, n, d, geom);
    } else if (!st) {
        st = geom_pool_attrs(g, n, d, geom);
    }
    if (!st)
        st = read_auto_pad(g, n, d, &ap);
    if (!st)
        st = geom_window_attrs(g, n, d, geom, ap);
    if (st)
        return st;
    if (n->op == IR_OP_CONV_TRANSPOSE)
        st = geom_transpose(g, n, d, geom, ap);
    else
        st = geom_forward(g, n, d, geom, ap);
    if (!st)
        st = geom_check_out(g, n, d, geom);
    if (!st && is_pool_op(n->op))
        st = geom_pool_windows(g, n, d, geom);
    return st;
}

/* ---- per-op inference ---- */

/* Checks the optional bias B: rank 1 with one value per output channel. */
static loom_status check_bias(const ir_graph *g, const ir_node *n, ir_diag *d, int64_t m)
{
    const ir_value *b = ir_input(n, 2), *x = ir_input(n, 0);
    if (!b)
        return LOOM_STATUS_OK;
    if (b->shape.rank != 1 || b->shape.dims[0] != m) {
        char buf[160];
        ir_shape_format(&b->shape, buf, sizeof buf);
        ir_diag_node(d, g, n, "bias B has shape %s, expected [%lld] (one per output channel)", buf,
                     (long long)m);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return check_same_dtype(g, n, d, b, x, "bias B");
}

/* Shared by Conv and ConvTranspose: dtypes, geometry, bias, output shape
 * [N, M, out...]. */
static loom_status infer_conv_common(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = ir_input(n, 0), *w = ir_input(n, 1);
    loom_status st = check_float(g, n, d, x, "input X");
    if (!st)
        st = check_same_dtype(g, n, d, w, x, "weight W");
    ir_conv_geom gm;
    if (!st)
        st = ir_conv_geometry(g, n, &gm, d);
    if (st)
        return st;
    int64_t m = w->shape.dims[0];
    if (n->op == IR_OP_CONV_TRANSPOSE && __builtin_mul_overflow(w->shape.dims[1], gm.group, &m)) {
        ir_diag_node(d, g, n, "output channel count overflows");
        return LOOM_STATUS_INVALID_MODEL;
    }
    st = check_bias(g, n, d, m);
    if (st)
        return st;
    ir_shape s = {.rank = x->shape.rank, .dims = {x->shape.dims[0], m}};
    for (int i = 0; i < gm.nsp; i++)
        s.dims[2 + i] = gm.out[i];
    return set_output(g, n, d, 0, x->dtype, &s);
}

/* ONNX Conv-11: Y[N, M, out...] from X[N, C, in...], W[M, C/group, k...]. */
loom_status ir_infer_conv(ir_graph *g, ir_node *n, ir_diag *d)
{
    return infer_conv_common(g, n, d);
}

/* ONNX ConvTranspose-11: Y[N, W1*group, out...] from X[N, C, in...],
 * W[C, M/group, k...]. */
loom_status ir_infer_conv_transpose(ir_graph *g, ir_node *n, ir_diag *d)
{
    return infer_conv_common(g, n, d);
}

/* Shared by MaxPool and AveragePool: Y[N, C, out...]. */
static loom_status infer_pool(ir_graph *g, ir_node *n, ir_diag *d, ir_shape *s)
{
    const ir_value *x = ir_input(n, 0);
    loom_status st = check_float(g, n, d, x, "input X");
    ir_conv_geom gm;
    if (!st)
        st = ir_conv_geometry(g, n, &gm, d);
    if (st)
        return st;
    *s = x->shape;
    for (int i = 0; i < gm.nsp; i++)
        s->dims[2 + i] = gm.out[i];
    return set_output(g, n, d, 0, x->dtype, s);
}

/* ONNX MaxPool-12: Y and the optional Indices (i64, flat indices into X,
 * row-major for storage_order 0, column-major over the spatial dims for 1). */
loom_status ir_infer_max_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    bool col_major;
    ir_shape s;
    loom_status st = read_flag(g, n, d, "storage_order", 0, &col_major);
    if (!st)
        st = infer_pool(g, n, d, &s);
    if (!st && ir_output(n, 1))
        st = set_output(g, n, d, 1, IR_DTYPE_I64, &s);
    return st;
}

/* ONNX AveragePool-19. */
loom_status ir_infer_average_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_shape s;
    return infer_pool(g, n, d, &s);
}

/* ONNX GlobalAveragePool-1, GlobalMaxPool-1: Y[N, C, 1, ...] from X[N, C,
 * spatial...]. */
loom_status ir_infer_global_average_pool(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = ir_input(n, 0);
    loom_status st = check_float(g, n, d, x, "input X");
    if (st)
        return st;
    if (x->shape.rank < 3) {
        ir_diag_node(d, g, n, "input X has rank %d, expected at least 3 (N, C and spatial dims)",
                     x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s = x->shape;
    for (int i = 2; i < s.rank; i++) {
        if (s.dims[i] <= 0) {
            ir_diag_node(d, g, n, "input X has an empty spatial dim %d", i - 2);
            return LOOM_STATUS_INVALID_MODEL;
        }
        s.dims[i] = 1;
    }
    ir_set_output(n, 0, x->dtype, &s);
    return LOOM_STATUS_OK;
}

/* BatchNormalization attributes: only the inference form is supported
 * (training_mode=0 from opset 14, spatial=1 in opsets 7-8, is_test=1 before
 * opset 7); momentum only matters for training and is ignored. */
static loom_status check_bn_mode(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    int64_t training = ir_attr_int(n, "training_mode", 0);
    int64_t spatial = ir_attr_int(n, "spatial", 1);
    int64_t is_test = ir_attr_int(n, "is_test", 1);
    if (training != 0 && training != 1) {
        ir_diag_node(d, g, n, "training_mode is %lld, must be 0 or 1", (long long)training);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (training == 1 || is_test == 0) {
        ir_diag_node(d, g, n,
                     "%s (training with batch statistics) is not supported; only the "
                     "inference form is",
                     training == 1 ? "training_mode=1" : "is_test=0");
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (spatial == 0) {
        ir_diag_node(d, g, n, "spatial=0 (per-activation statistics, opsets 7-8) is not supported");
        return LOOM_STATUS_UNSUPPORTED;
    }
    for (int i = 1; i < n->n_outputs; i++)
        if (n->outputs[i]) {
            ir_diag_node(d, g, n,
                         "output %d (\"%s\", running or saved statistics of training) is not "
                         "supported; only Y",
                         i, n->outputs[i]->name);
            return LOOM_STATUS_UNSUPPORTED;
        }
    return LOOM_STATUS_OK;
}

/* ONNX BatchNormalization-15, inference form: Y has X's shape; scale, B,
 * input_mean and input_var are [C] (C = 1 for a rank-1 X). */
loom_status ir_infer_batch_normalization(ir_graph *g, ir_node *n, ir_diag *d)
{
    static const char *const names[] = {"", "scale", "B", "input_mean", "input_var"};
    const ir_value *x = ir_input(n, 0);
    loom_status st = check_bn_mode(g, n, d);
    if (!st)
        st = check_float(g, n, d, x, "input X");
    if (st)
        return st;
    if (x->shape.rank < 1) {
        ir_diag_node(d, g, n, "input X is a scalar, expected at least rank 1");
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t c = x->shape.rank >= 2 ? x->shape.dims[1] : 1;
    for (int i = 1; i < 5; i++) {
        const ir_value *p = ir_input(n, i);
        if (p->shape.rank != 1 || p->shape.dims[0] != c) {
            char buf[160];
            ir_shape_format(&p->shape, buf, sizeof buf);
            ir_diag_node(d, g, n, "%s has shape %s, expected [%lld] (one per channel)", names[i],
                         buf, (long long)c);
            return LOOM_STATUS_INVALID_MODEL;
        }
        st = check_float(g, n, d, p, names[i]);
        if (st)
            return st;
    }
    ir_set_output(n, 0, x->dtype, &x->shape);
    return LOOM_STATUS_OK;
}
