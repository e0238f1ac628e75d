/*
 * Keras core, convolution, pooling, normalization and reshaping layers
 * (keras.layers, Keras 3), and the class table every converter is found
 * through. Convolutions and pooling work on the channels-first value
 * (fe_keras.h); their weights are transposed once at load, from Keras's
 * (k..., in, out) to ONNX's (out, in, k...). padding="same" follows
 * TensorFlow's rule, which Keras keeps on every backend: total padding
 * max((ceil(n/s) - 1) s + (k - 1) d + 1 - n, 0), the odd one at the end.
 */
#include <math.h>
#include <string.h>

#include "fe_keras.h"

/* dst = src permuted: dst dims[i] = src dims[perm[i]]. */
static void permute(const float *src, int rank, const int64_t *dims, const int64_t *perm,
                    float *dst)
{
    int64_t sstr[IR_MAX_RANK], ddims[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, n = 1;
    ir_shape s = {.rank = rank};
    memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
    ir_shape_strides(&s, sstr);
    for (int i = 0; i < rank; i++) {
        ddims[i] = dims[perm[i]];
        n *= ddims[i];
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < rank; i++)
            off += idx[i] * sstr[perm[i]];
        dst[k] = src[off];
        for (int i = rank - 1; i >= 0 && ++idx[i] == ddims[i]; i--)
            idx[i] = 0;
    }
}

/* A constant: weight w of Keras shape dims permuted by perm. */
static ir_value *permuted_const(fk_ctx *c, const char *what, const float *w, int rank,
                                const int64_t *dims, const int64_t *perm)
{
    int64_t od[IR_MAX_RANK] = {0};
    for (int i = 0; i < rank; i++)
        od[i] = dims[perm[i]];
    ir_value *v = fk_const(c, what, rank, od, NULL);
    permute(w, rank, dims, perm, v->data);
    return v;
}

/* The optional bias (units) as a constant, NULL when use_bias is false
 * (*ok false after an error). */
static ir_value *bias_const(fk_ctx *c, int index, int64_t units, bool *ok)
{
    if (!fk_cfg_bool(c, "use_bias", true))
        return NULL;
    float *b = fk_weight(c, NULL, index, 1, &units);
    *ok = b != NULL;
    return b ? fk_const(c, "bias", 1, &units, b) : NULL;
}

/* ---- core ---- */

/* Dense: x @ kernel + bias on the last axis (Gemm for rank 2). */
static bool dense(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_keras_order(c, ins[0]);
    int64_t units = fk_cfg_int(c, "units", 0);
    if (!x || units < 1) {
        if (x)
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "units is not positive");
        return false;
    }
    int r = x->shape.rank;
    int64_t wd[2] = {x->shape.dims[r - 1], units};
    float *w = fk_weight(c, NULL, 0, 2, wd);
    bool ok = w != NULL;
    ir_value *k = w ? fk_const(c, "kernel", 2, wd, w) : NULL;
    ir_value *b = ok ? bias_const(c, 1, units, &ok) : NULL;
    if (!ok)
        return false;
    ir_value *y;
    if (r == 2) {
        ir_value *in3[3] = {x, k, b};
        y = fk_infer(c, fk_node(c, IR_OP_GEMM, in3, b ? 3 : 2, 1, NULL));
    } else {
        y = fk_binary(c, IR_OP_MAT_MUL, x, k);
        y = b ? fk_binary(c, IR_OP_ADD, y, b) : y;
    }
    outs[0] = (fk_tensor){fk_cfg_activation(c, y, "activation", y ? r - 1 : 0), false};
    return outs[0].v != NULL;
}

/* Layers that are the identity at inference. */
static bool identity(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)c, (void)n_in, (void)n_out;
    outs[0] = ins[0];
    return true;
}

static bool activation(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    int axis = fk_axis(c, &ins[0], -1);
    outs[0] = (fk_tensor){fk_cfg_activation(c, ins[0].v, "activation", axis), ins[0].cf};
    return outs[0].v != NULL;
}

/* ReLU(max_value, negative_slope, threshold=0). */
static bool relu(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    const cJSON *mv = fk_field(c, "max_value");
    double slope = fk_cfg_num(c, "negative_slope", 0), th = fk_cfg_num(c, "threshold", 0);
    ir_value *x = ins[0].v, *y;
    if (th != 0 || (slope != 0 && mv)) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "threshold != 0, or negative_slope with max_value, "
                 "is not supported");
        return false;
    }
    if (mv) {
        ir_value *in3[3] = {x, fk_scalar(c, 0), fk_scalar(c, (float)fk_cfg_num(c, "max_value", 0))};
        y = fk_infer(c, fk_node(c, IR_OP_CLIP, in3, 3, 1, NULL));
    } else if (slope != 0) {
        y = fk_node(c, IR_OP_LEAKY_RELU, &x, 1, 1, NULL);
        ir_node_set_float(c->g, y->producer, "alpha", (float)slope);
        y = fk_infer(c, y);
    } else {
        y = fk_unary(c, IR_OP_RELU, x);
    }
    outs[0] = (fk_tensor){y, ins[0].cf};
    return y != NULL;
}

/* LeakyReLU(negative_slope=0.3; "alpha" in Keras 2) and ELU(alpha=1). */
static bool leaky_relu(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    bool elu = !strcmp(c->cls, "ELU");
    float a = (float)fk_cfg_num(c, elu ? "alpha" : "negative_slope",
                                fk_cfg_num(c, "alpha", elu ? 1.0 : 0.3));
    ir_value *x = ins[0].v, *y = fk_node(c, elu ? IR_OP_ELU : IR_OP_LEAKY_RELU, &x, 1, 1, NULL);
    ir_node_set_float(c->g, y->producer, "alpha", a);
    outs[0] = (fk_tensor){fk_infer(c, y), ins[0].cf};
    return outs[0].v != NULL;
}

/* PReLU: alpha of the input's shape without batch (1 on shared_axes). */
static bool prelu(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_keras_order(c, ins[0]);
    if (!x)
        return false;
    int r = x->shape.rank;
    int64_t ad[IR_MAX_RANK];
    for (int i = 1; i < r; i++)
        ad[i - 1] = x->shape.dims[i];
    const cJSON *sh = fk_field(c, "shared_axes");
    for (const cJSON *e = cJSON_IsArray(sh) ? sh->child : NULL; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble < r)
            ad[(int)e->valuedouble - 1] = 1;
    float *a = fk_weight(c, NULL, 0, r - 1, ad);
    if (!a)
        return false;
    ir_value *y = fk_binary(c, IR_OP_PRELU, x, fk_const(c, "alpha", r - 1, ad, a));
    outs[0] = (fk_tensor){y, false};
    return y != NULL;
}

/* Softmax(axis=-1), one axis. */
static bool softmax(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    int64_t axis = -1;
    const cJSON *a = fk_field(c, "axis");
    if (cJSON_IsArray(a) && cJSON_GetArraySize(a) != 1) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "softmax over several axes is not supported");
        return false;
    }
    fk_cfg_ints(c, "axis", &axis, 1);
    int ax = fk_axis(c, &ins[0], axis);
    ir_value *x = ins[0].v, *y = ax < 0 ? NULL : fk_node(c, IR_OP_SOFTMAX, &x, 1, 1, NULL);
    if (y)
        ir_node_set_int(c->g, y->producer, "axis", ax);
    outs[0] = (fk_tensor){fk_infer(c, y), ins[0].cf};
    return outs[0].v != NULL;
}

/* Rescaling: x * scale + offset (scalars). */
static bool rescaling(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    if (!fk_field(c, "scale") || !cJSON_IsNumber(fk_field(c, "scale")) ||
        (fk_field(c, "offset") && !cJSON_IsNumber(fk_field(c, "offset")))) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "scale and offset must be numbers (per-channel "
                 "lists are not supported)");
        return false;
    }
    ir_value *y = fk_binary(c, IR_OP_MUL, ins[0].v, fk_scalar(c, (float)fk_cfg_num(c, "scale", 1)));
    y = fk_binary(c, IR_OP_ADD, y, fk_scalar(c, (float)fk_cfg_num(c, "offset", 0)));
    outs[0] = (fk_tensor){y, ins[0].cf};
    return y != NULL;
}

/* ---- convolution ---- */

typedef enum conv_kind { CONV_PLAIN, CONV_DEPTHWISE, CONV_SEPARABLE, CONV_TRANSPOSE } conv_kind;

/* Spatial rank of a class name ending in 1D/2D/3D. */
static int spatial_rank(const char *cls)
{
    const char *p = strstr(cls, "D");
    while (p && p[1] && strstr(p + 1, "D"))
        p = strstr(p + 1, "D");
    return p && p > cls && p[-1] >= '1' && p[-1] <= '3' ? p[-1] - '0' : 2;
}

/* The geometry shared by convolutions and pooling. */
typedef struct geom {
    int sr;                        /* spatial rank */
    int64_t k[3], s[3], dil[3];
    int64_t pads[6];               /* begins, then ends */
} geom;

/* Reads kernel (key), strides and dilation_rate; pads by the padding
 * option over the spatial dims of the channels-first x. */
static bool read_geom(fk_ctx *c, ir_value *x, const char *kkey, bool pool, geom *g)
{
    g->sr = x->shape.rank - 2;
    for (int i = 0; i < 3; i++)
        g->k[i] = g->s[i] = g->dil[i] = 1;
    if (!fk_cfg_ints(c, kkey, g->k, g->sr)) {
        if (!c->status)
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "no %s", kkey);
        return false;
    }
    if (pool)
        memcpy(g->s, g->k, sizeof g->s);
    fk_cfg_ints(c, "strides", g->s, g->sr);
    fk_cfg_ints(c, "dilation_rate", g->dil, g->sr);
    const char *pad = fk_cfg_str(c, "padding", "valid");
    bool same = !strcmp(pad, "same"), causal = !strcmp(pad, "causal");
    if (!same && !causal && strcmp(pad, "valid")) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "padding=\"%s\" is not supported", pad);
        return false;
    }
    for (int i = 0; i < g->sr; i++) {
        int64_t n = x->shape.dims[2 + i], ke = (g->k[i] - 1) * g->dil[i] + 1;
        int64_t total = same ? (n + g->s[i] - 1) / g->s[i] * g->s[i] - g->s[i] + ke - n : 0;
        total = total > 0 ? total : 0;
        g->pads[i] = causal ? ke - 1 : total / 2;
        g->pads[g->sr + i] = causal ? 0 : total - total / 2;
    }
    return fk_require_str(c, "data_format", "channels_last", "channels_last");
}

/* Sets the Conv/ConvTranspose/pool attributes of y's node from g. */
static void set_geom(fk_ctx *c, ir_value *y, const geom *g, bool dilations)
{
    ir_node *n = y->producer;
    ir_node_set_ints(c->g, n, "kernel_shape", g->k, g->sr);
    ir_node_set_ints(c->g, n, "strides", g->s, g->sr);
    ir_node_set_ints(c->g, n, "pads", g->pads, 2 * g->sr);
    if (dilations)
        ir_node_set_ints(c->g, n, "dilations", g->dil, g->sr);
}

/* A Conv over channels-first x with ONNX weight w, bias b, group. */
static ir_value *conv(fk_ctx *c, ir_value *x, ir_value *w, ir_value *b, const geom *g,
                      int64_t group)
{
    ir_value *in3[3] = {x, w, b};
    ir_value *y = fk_node(c, IR_OP_CONV, in3, b ? 3 : 2, 1, NULL);
    set_geom(c, y, g, true);
    if (group != 1)
        ir_node_set_int(c->g, y->producer, "group", group);
    return fk_infer(c, y);
}

/* The Keras kernel (k..., a, b) -> ONNX (b, a, k...) as a constant. */
static ir_value *kernel_const(fk_ctx *c, const char *what, int index, const geom *g, int64_t a,
                              int64_t b)
{
    int64_t kd[5], perm[5];
    int r = g->sr + 2;
    for (int i = 0; i < g->sr; i++) {
        kd[i] = g->k[i];
        perm[2 + i] = i;
    }
    kd[g->sr] = a;
    kd[g->sr + 1] = b;
    perm[0] = g->sr + 1;
    perm[1] = g->sr;
    float *w = fk_weight(c, NULL, index, r, kd);
    return w ? permuted_const(c, what, w, r, kd, perm) : NULL;
}

/* Depthwise kernel (k..., cin, dm) -> ONNX (cin*dm, 1, k...). */
static ir_value *depthwise_const(fk_ctx *c, const geom *g, int64_t cin, int64_t dm)
{
    int64_t kd[5], perm[5];
    int r = g->sr + 2;
    for (int i = 0; i < g->sr; i++) {
        kd[i] = g->k[i];
        perm[2 + i] = i;
    }
    kd[g->sr] = cin;
    kd[g->sr + 1] = dm;
    perm[0] = g->sr;
    perm[1] = g->sr + 1;
    float *w = fk_weight(c, NULL, 0, r, kd);
    if (!w)
        return NULL;
    ir_value *v = permuted_const(c, "depthwise_kernel", w, r, kd, perm);
    v->shape.dims[0] = cin * dm; /* (cin, dm, k...) read as (cin*dm, 1, k...) */
    v->shape.dims[1] = 1;
    return v;
}

/* ConvTranspose with Keras's output length (deconv_output_length). */
static ir_value *conv_transpose(fk_ctx *c, ir_value *x, ir_value *w, ir_value *b, geom *g)
{
    int64_t out_pad[3] = {0}, opk[3];
    bool has_op = fk_cfg_ints(c, "output_padding", opk, g->sr);
    bool same = !strcmp(fk_cfg_str(c, "padding", "valid"), "same");
    for (int i = 0; i < g->sr; i++) {
        int64_t n = x->shape.dims[2 + i], ke = (g->k[i] - 1) * g->dil[i] + 1, len;
        if (!has_op)
            len = same ? n * g->s[i] : n * g->s[i] + (ke > g->s[i] ? ke - g->s[i] : 0);
        else
            len = (n - 1) * g->s[i] + ke - 2 * (same ? ke / 2 : 0) + opk[i];
        int64_t total = (n - 1) * g->s[i] + ke - len;
        out_pad[i] = total < 0 ? -total : 0;
        total = total < 0 ? 0 : total;
        g->pads[i] = has_op ? (same ? ke / 2 : 0) : total / 2;
        g->pads[g->sr + i] = total - g->pads[i];
    }
    ir_value *in3[3] = {x, w, b};
    ir_value *y = fk_node(c, IR_OP_CONV_TRANSPOSE, in3, b ? 3 : 2, 1, NULL);
    set_geom(c, y, g, true);
    ir_node_set_ints(c->g, y->producer, "output_padding", out_pad, g->sr);
    return fk_infer(c, y);
}

/* Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1D/2DTranspose. */
static bool convolution(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    conv_kind kind = strstr(c->cls, "Transpose") ? CONV_TRANSPOSE
                     : strstr(c->cls, "Depthwise") ? CONV_DEPTHWISE
                     : strstr(c->cls, "Separable") ? CONV_SEPARABLE
                                                   : CONV_PLAIN;
    ir_value *x = fk_channels_first(c, ins[0]);
    geom g;
    if (!x || x->shape.rank != spatial_rank(c->cls) + 2 ||
        !read_geom(c, x, "kernel_size", false, &g)) {
        if (x && !c->status)
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "input of rank %d", x->shape.rank);
        return false;
    }
    int64_t cin = x->shape.dims[1], filters = fk_cfg_int(c, "filters", 0);
    int64_t groups = fk_cfg_int(c, "groups", 1), dm = fk_cfg_int(c, "depth_multiplier", 1);
    int64_t cout = kind == CONV_DEPTHWISE ? cin * dm : filters;
    if (cout < 1 || groups < 1 || cin % groups) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "filters/groups do not fit %lld input channels",
                 (long long)cin);
        return false;
    }
    ir_value *w, *b, *y;
    bool ok = true;
    switch (kind) {
    case CONV_DEPTHWISE:
        w = depthwise_const(c, &g, cin, dm);
        b = w ? bias_const(c, 1, cout, &ok) : NULL;
        y = w && ok ? conv(c, x, w, b, &g, cin) : NULL;
        break;
    case CONV_SEPARABLE: {
        w = depthwise_const(c, &g, cin, dm);
        geom pg = g;
        for (int i = 0; i < g.sr; i++)
            pg.k[i] = pg.s[i] = pg.dil[i] = 1, pg.pads[i] = pg.pads[g.sr + i] = 0;
        ir_value *pw = w ? kernel_const(c, "pointwise_kernel", 1, &pg, cin * dm, cout) : NULL;
        b = pw ? bias_const(c, 2, cout, &ok) : NULL;
        y = pw && ok ? conv(c, x, w, NULL, &g, cin) : NULL;
        y = y ? conv(c, y, pw, b, &pg, 1) : NULL;
        break;
    }
    case CONV_TRANSPOSE:
        w = kernel_const(c, "kernel", 0, &g, cout, cin);
        b = w ? bias_const(c, 1, cout, &ok) : NULL;
        y = w && ok ? conv_transpose(c, x, w, b, &g) : NULL;
        break;
    default:
        w = kernel_const(c, "kernel", 0, &g, cin / groups, cout);
        b = w ? bias_const(c, 1, cout, &ok) : NULL;
        y = w && ok ? conv(c, x, w, b, &g, groups) : NULL;
        break;
    }
    outs[0] = (fk_tensor){fk_cfg_activation(c, y, "activation", 1), true};
    return outs[0].v != NULL;
}

/* ---- pooling ---- */

/* MaxPooling1D/2D/3D, AveragePooling1D/2D/3D. */
static bool pooling(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_channels_first(c, ins[0]);
    geom g;
    if (!x || !read_geom(c, x, "pool_size", true, &g))
        return false;
    bool avg = !strncmp(c->cls, "Average", 7);
    ir_value *y = fk_node(c, avg ? IR_OP_AVERAGE_POOL : IR_OP_MAX_POOL, &x, 1, 1, NULL);
    set_geom(c, y, &g, false); /* AveragePool: padding excluded (count_include_pad=0), as TF */
    outs[0] = (fk_tensor){fk_infer(c, y), true};
    return outs[0].v != NULL;
}

/* GlobalAverage/MaxPooling1D/2D/3D (keepdims). */
static bool global_pooling(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs,
                           int *n_out)
{
    (void)n_in, (void)n_out;
    if (!fk_require_str(c, "data_format", "channels_last", "channels_last"))
        return false;
    ir_value *x = fk_channels_first(c, ins[0]);
    bool avg = !strncmp(c->cls, "GlobalAverage", 13);
    ir_value *y = fk_unary(c, avg ? IR_OP_GLOBAL_AVERAGE_POOL : IR_OP_GLOBAL_MAX_POOL, x);
    if (!y)
        return false;
    if (fk_cfg_bool(c, "keepdims", false)) {
        outs[0] = (fk_tensor){y, true};
        return true;
    }
    outs[0] = (fk_tensor){fk_reshape(c, y, 2, y->shape.dims), false};
    return outs[0].v != NULL;
}

/* ---- normalization ---- */

/* BatchNormalization (inference: moving statistics). ONNX
 * BatchNormalization where the channel is value axis 1, else x * scale +
 * shift with the folded constants broadcast along the axis. */
static bool batch_norm(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    int64_t axis = -1;
    fk_cfg_ints(c, "axis", &axis, 1);
    int ax = fk_axis(c, &ins[0], axis);
    if (ax < 0)
        return false;
    ir_value *x = ins[0].v;
    int64_t ch = x->shape.dims[ax];
    float eps = (float)fk_cfg_num(c, "epsilon", 1e-3);
    bool scale = fk_cfg_bool(c, "scale", true), center = fk_cfg_bool(c, "center", true);
    float *p[4] = {NULL, NULL, NULL, NULL};
    int k = 0;
    for (int i = 0; i < 4; i++)
        if ((i == 0 && !scale) || (i == 1 && !center))
            p[i] = NULL;
        else if (!(p[i] = fk_weight(c, NULL, k++, 1, &ch)))
            return false;
    ir_value *y;
    if (ax == 1) {
        ir_value *in5[5];
        static const char *const what[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        for (int i = 0; i < 4; i++) {
            in5[1 + i] = fk_const(c, what[i], 1, &ch, p[i]);
            if (!p[i] && i == 0)
                for (int64_t j = 0; j < ch; j++)
                    ((float *)in5[1 + i]->data)[j] = 1.0f;
        }
        in5[0] = x;
        y = fk_node(c, IR_OP_BATCH_NORMALIZATION, in5, 5, 1, NULL);
        ir_node_set_float(c->g, y->producer, "epsilon", eps);
        y = fk_infer(c, y);
    } else {
        int64_t d[IR_MAX_RANK];
        int r = x->shape.rank - ax;
        d[0] = ch;
        for (int i = 1; i < r; i++)
            d[i] = 1;
        ir_value *s = fk_const(c, "scale", r, d, NULL), *t = fk_const(c, "shift", r, d, NULL);
        for (int64_t j = 0; j < ch; j++) {
            float m = (p[0] ? p[0][j] : 1.0f) / sqrtf(p[3][j] + eps);
            ((float *)s->data)[j] = m;
            ((float *)t->data)[j] = (p[1] ? p[1][j] : 0.0f) - p[2][j] * m;
        }
        y = fk_binary(c, IR_OP_ADD, fk_binary(c, IR_OP_MUL, x, s), t);
    }
    outs[0] = (fk_tensor){y, ins[0].cf};
    return y != NULL;
}

/* ---- reshaping ---- */

static bool flatten(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    if (!fk_require_str(c, "data_format", "channels_last", "channels_last"))
        return false;
    ir_value *x = fk_keras_order(c, ins[0]);
    if (!x)
        return false;
    int64_t d[2] = {x->shape.dims[0], x->shape.dims[0] ? ir_shape_numel(&x->shape) / x->shape.dims[0] : 0};
    outs[0] = (fk_tensor){fk_reshape(c, x, 2, d), false};
    return outs[0].v != NULL;
}

static bool reshape(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    const cJSON *ts = fk_field(c, "target_shape");
    int r = cJSON_GetArraySize(ts);
    if (!cJSON_IsArray(ts) || r + 1 > IR_MAX_RANK) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "target_shape is not a list of at most %d dims",
                 IR_MAX_RANK - 1);
        return false;
    }
    ir_value *x = fk_keras_order(c, ins[0]);
    if (!x)
        return false;
    int64_t d[IR_MAX_RANK];
    d[0] = x->shape.dims[0];
    fk_cfg_ints(c, "target_shape", d + 1, r);
    outs[0] = (fk_tensor){fk_reshape(c, x, r + 1, d), false};
    return outs[0].v != NULL;
}

static bool permute_layer(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_keras_order(c, ins[0]);
    if (!x)
        return false;
    int r = x->shape.rank;
    int64_t perm[IR_MAX_RANK] = {0};
    if (!fk_cfg_ints(c, "dims", perm + 1, r - 1)) {
        if (!c->status)
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "no dims");
        return false;
    }
    outs[0] = (fk_tensor){fk_transpose(c, x, perm), false};
    return outs[0].v != NULL;
}

/* RepeatVector(n): (B, F) -> (B, n, F). */
static bool repeat_vector(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = ins[0].v;
    int64_t n = fk_cfg_int(c, "n", 1), b = x->shape.dims[0], f = x->shape.dims[1];
    ir_value *y = fk_reshape(c, x, 3, (int64_t[]){b, 1, f});
    ir_value *shape = fk_const_i64(c, "shape", 3, (int64_t[]){b, n, f});
    outs[0] = (fk_tensor){fk_binary(c, IR_OP_EXPAND, y, shape), false};
    return outs[0].v != NULL;
}

/* Reads a per-spatial-dim (begin, end) option: int, [a, b] per dim, or
 * [[a, b], ...]; into be[0..sr) begins and be[sr..2sr) ends. */
static bool begin_end(fk_ctx *c, const char *key, int sr, int64_t *be)
{
    const cJSON *v = fk_field(c, key);
    int i = 0;
    if (cJSON_IsNumber(v)) {
        for (i = 0; i < 2 * sr; i++)
            be[i] = (int64_t)v->valuedouble;
        return true;
    }
    bool nested = cJSON_IsArray(v) && cJSON_IsArray(cJSON_GetArrayItem(v, 0));
    for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e && i < sr; e = e->next, i++) {
        const cJSON *a = nested ? cJSON_GetArrayItem(e, 0) : e;
        const cJSON *b = nested ? cJSON_GetArrayItem(e, 1) : (sr == 1 ? e->next : e);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
            break;
        be[i] = (int64_t)a->valuedouble;
        be[sr + i] = (int64_t)b->valuedouble;
        if (sr == 1)
            return true;
    }
    if (i != sr)
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "malformed %s", key);
    return i == sr;
}

/* ZeroPadding1D/2D/3D: Pad on the channels-first value. */
static bool zero_padding(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_channels_first(c, ins[0]);
    int64_t be[6];
    if (!x || !fk_require_str(c, "data_format", "channels_last", "channels_last") ||
        !begin_end(c, "padding", x->shape.rank - 2, be))
        return false;
    int r = x->shape.rank, sr = r - 2;
    int64_t pads[2 * IR_MAX_RANK] = {0};
    for (int i = 0; i < sr; i++) {
        pads[2 + i] = be[i];
        pads[r + 2 + i] = be[sr + i];
    }
    ir_value *y = fk_binary(c, IR_OP_PAD, x, fk_const_i64(c, "pads", 2 * r, pads));
    outs[0] = (fk_tensor){y, true};
    return y != NULL;
}

/* Cropping1D/2D/3D: Slice on the channels-first value. */
static bool cropping(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_channels_first(c, ins[0]);
    int64_t be[6];
    if (!x || !fk_require_str(c, "data_format", "channels_last", "channels_last") ||
        !begin_end(c, "cropping", x->shape.rank - 2, be))
        return false;
    int sr = x->shape.rank - 2;
    int64_t st[3], en[3], ax[3];
    for (int i = 0; i < sr; i++) {
        st[i] = be[i];
        en[i] = x->shape.dims[2 + i] - be[sr + i];
        ax[i] = 2 + i;
    }
    ir_value *in4[4] = {x, fk_const_i64(c, "starts", sr, st), fk_const_i64(c, "ends", sr, en),
                        fk_const_i64(c, "axes", sr, ax)};
    outs[0] = (fk_tensor){fk_infer(c, fk_node(c, IR_OP_SLICE, in4, 4, 1, NULL)), true};
    return outs[0].v != NULL;
}

/* UpSampling1D/2D/3D (nearest): each spatial dim n -> n*s by a reshape to
 * (.., n, 1, ..), an Expand to (.., n, s, ..) and a reshape back. */
static bool upsampling(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_channels_first(c, ins[0]);
    if (!x || !fk_require_str(c, "interpolation", "nearest", "nearest") ||
        !fk_require_str(c, "data_format", "channels_last", "channels_last"))
        return false;
    int sr = x->shape.rank - 2;
    int64_t s[3] = {2, 2, 2}, d1[IR_MAX_RANK], d2[IR_MAX_RANK], d3[IR_MAX_RANK];
    fk_cfg_ints(c, "size", s, sr);
    if (2 + 2 * sr > IR_MAX_RANK)
        return false;
    d1[0] = d2[0] = d3[0] = x->shape.dims[0];
    d1[1] = d2[1] = d3[1] = x->shape.dims[1];
    for (int i = 0; i < sr; i++) {
        d1[2 + 2 * i] = d2[2 + 2 * i] = x->shape.dims[2 + i];
        d1[3 + 2 * i] = 1;
        d2[3 + 2 * i] = s[i];
        d3[2 + i] = x->shape.dims[2 + i] * s[i];
    }
    ir_value *y = fk_reshape(c, x, 2 + 2 * sr, d1);
    y = fk_binary(c, IR_OP_EXPAND, y, fk_const_i64(c, "shape", 2 + 2 * sr, d2));
    outs[0] = (fk_tensor){fk_reshape(c, y, 2 + sr, d3), true};
    return outs[0].v != NULL;
}

/* ---- the class table ---- */

static const struct {
    const char *cls;
    fk_layer_fn fn;
} layers[] = {
    {"Dense", dense},
    {"Activation", activation},
    {"ReLU", relu},
    {"LeakyReLU", leaky_relu},
    {"ELU", leaky_relu},
    {"PReLU", prelu},
    {"Softmax", softmax},
    {"Rescaling", rescaling},
    {"Dropout", identity},
    {"SpatialDropout1D", identity},
    {"SpatialDropout2D", identity},
    {"SpatialDropout3D", identity},
    {"GaussianNoise", identity},
    {"GaussianDropout", identity},
    {"AlphaDropout", identity},
    {"ActivityRegularization", identity},
    {"Conv1D", convolution},
    {"Conv2D", convolution},
    {"Conv3D", convolution},
    {"Conv1DTranspose", convolution},
    {"Conv2DTranspose", convolution},
    {"DepthwiseConv1D", convolution},
    {"DepthwiseConv2D", convolution},
    {"SeparableConv1D", convolution},
    {"SeparableConv2D", convolution},
    {"MaxPooling1D", pooling},
    {"MaxPooling2D", pooling},
    {"MaxPooling3D", pooling},
    {"AveragePooling1D", pooling},
    {"AveragePooling2D", pooling},
    {"AveragePooling3D", pooling},
    {"GlobalAveragePooling1D", global_pooling},
    {"GlobalAveragePooling2D", global_pooling},
    {"GlobalMaxPooling1D", global_pooling},
    {"GlobalMaxPooling2D", global_pooling},
    {"BatchNormalization", batch_norm},
    {"Flatten", flatten},
    {"Reshape", reshape},
    {"Permute", permute_layer},
    {"RepeatVector", repeat_vector},
    {"ZeroPadding1D", zero_padding},
    {"ZeroPadding2D", zero_padding},
    {"Cropping1D", cropping},
    {"Cropping2D", cropping},
    {"UpSampling1D", upsampling},
    {"UpSampling2D", upsampling},
};

fk_layer_fn fk_layer_lookup(const char *cls)
{
    if (!cls)
        return NULL;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if (!strcmp(layers[i].cls, cls))
            return layers[i].fn;
    fk_layer_fn fn = fk_layer_lookup_rnn(cls);
    return fn ? fn : fk_layer_lookup_merge(cls);
}
