/*
 * The Keras reader's toolkit: diagnostics that name the layer, typed
 * config fields, node and constant builders (each node is shape-inferred
 * as it is made, so converters see their inputs' shapes), the
 * channels-first layout bookkeeping (fe_keras.h) and the activations
 * (keras.activations, Keras 3).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fe_keras.h"

void fk_error(fk_ctx *c, loom_status st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->layer)
        ir_diag_errorf(c->d, "%s: layer \"%s\" (%s): %s", c->path, c->layer, c->cls, msg);
    else
        ir_diag_errorf(c->d, "%s: %s", c->path, msg);
    if (!c->status)
        c->status = st;
}

const cJSON *fk_field(const fk_ctx *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->cfg, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

bool fk_cfg_bool(fk_ctx *c, const char *key, bool def)
{
    const cJSON *v = fk_field(c, key);
    if (v && !cJSON_IsBool(v))
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" is not a boolean", key);
    return v && cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

double fk_cfg_num(fk_ctx *c, const char *key, double def)
{
    const cJSON *v = fk_field(c, key);
    if (v && !cJSON_IsNumber(v))
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" is not a number", key);
    return v && cJSON_IsNumber(v) ? v->valuedouble : def;
}

int64_t fk_cfg_int(fk_ctx *c, const char *key, int64_t def)
{
    double x = fk_cfg_num(c, key, (double)def);
    if (x != floor(x) || fabs(x) > 1e15) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" is not an integer", key);
        return def;
    }
    return (int64_t)x;
}

const char *fk_cfg_str(fk_ctx *c, const char *key, const char *def)
{
    const cJSON *v = fk_field(c, key);
    if (v && !cJSON_IsString(v))
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" is not a string", key);
    return v && cJSON_IsString(v) ? v->valuestring : def;
}

bool fk_cfg_ints(fk_ctx *c, const char *key, int64_t *out, int n)
{
    const cJSON *v = fk_field(c, key);
    if (!v)
        return false;
    if (cJSON_IsNumber(v)) {
        for (int i = 0; i < n; i++)
            out[i] = (int64_t)v->valuedouble;
        return true;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" is not an int or a list of %d "
                 "ints", key, n);
        return false;
    }
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e)) {
            fk_error(c, LOOM_STATUS_INVALID_MODEL, "config field \"%s\" has a non-number", key);
            return false;
        }
        out[i] = (int64_t)e->valuedouble;
    }
    return true;
}

bool fk_require_str(fk_ctx *c, const char *key, const char *want, const char *def)
{
    const char *s = fk_cfg_str(c, key, def);
    if (s && strcmp(s, want) != 0) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "%s=\"%s\" is not supported (only \"%s\")", key, s,
                 want);
        return false;
    }
    return true;
}

/* ---- nodes ---- */

ir_value *fk_node(fk_ctx *c, ir_op op, ir_value *const *ins, int n_in, int n_out,
                  ir_value **outs)
{
    if (!ins[0])
        return NULL; /* an earlier step failed and reported */
    ir_value *o[FK_MAX_IO];
    char base[512];
    snprintf(base, sizeof base, "%s/%s", c->layer ? c->layer : "keras", ir_op_name(op));
    for (int i = 0; i < n_out; i++)
        o[i] = ir_graph_new_value(c->g, base, IR_DTYPE_F32);
    const char *name = ir_arena_strdup(&c->g->arena, c->layer ? c->layer : "");
    ir_node *n = ir_graph_add_node(c->g, op, name, ins, n_in, o, n_out);
    if (outs)
        memcpy(outs, o, (size_t)n_out * sizeof *o);
    (void)n;
    return o[0];
}

/* Infers the node that made y (after its attributes are set);
 * NULL after reporting. */
ir_value *fk_infer(fk_ctx *c, ir_value *y)
{
    if (!y)
        return NULL;
    if (ir_infer_node(c->g, y->producer, c->d)) {
        if (!c->status)
            c->status = LOOM_STATUS_INVALID_MODEL;
        return NULL;
    }
    return y;
}

ir_value *fk_unary(fk_ctx *c, ir_op op, ir_value *x)
{
    return fk_infer(c, fk_node(c, op, &x, 1, 1, NULL));
}

ir_value *fk_binary(fk_ctx *c, ir_op op, ir_value *a, ir_value *b)
{
    if (!a || !b)
        return NULL;
    return fk_infer(c, fk_node(c, op, (ir_value *[]){a, b}, 2, 1, NULL));
}

ir_value *fk_const(fk_ctx *c, const char *what, int rank, const int64_t *dims, const float *data)
{
    char base[512];
    snprintf(base, sizeof base, "%s/%s", c->layer ? c->layer : "keras", what);
    ir_shape s = {.rank = rank};
    if (rank > 0) /* a scalar has no dims (NULL) */
        memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
    ir_value *v = ir_graph_new_const(c->g, base, IR_DTYPE_F32, &s);
    if (data)
        memcpy(v->data, data, ir_value_bytes(v));
    return v;
}

ir_value *fk_scalar(fk_ctx *c, float x)
{
    return fk_const(c, "scalar", 0, NULL, &x);
}

ir_value *fk_const_i64(fk_ctx *c, const char *what, int n, const int64_t *vals)
{
    char base[512];
    snprintf(base, sizeof base, "%s/%s", c->layer ? c->layer : "keras", what);
    ir_shape s = {.rank = 1, .dims = {n}};
    ir_value *v = ir_graph_new_const(c->g, base, IR_DTYPE_I64, &s);
    memcpy(v->data, vals, (size_t)n * sizeof *vals);
    return v;
}

ir_value *fk_transpose(fk_ctx *c, ir_value *x, const int64_t *perm)
{
    ir_value *y = fk_node(c, IR_OP_TRANSPOSE, &x, 1, 1, NULL);
    if (y)
        ir_node_set_ints(c->g, y->producer, "perm", perm, x->shape.rank);
    return fk_infer(c, y);
}

ir_value *fk_reshape(fk_ctx *c, ir_value *x, int rank, const int64_t *dims)
{
    if (!x)
        return NULL;
    ir_value *s = fk_const_i64(c, "shape", rank, dims);
    return fk_infer(c, fk_node(c, IR_OP_RESHAPE, (ir_value *[]){x, s}, 2, 1, NULL));
}

/* The permutation that moves the last axis to 1 (to_cf) or back. */
static void cf_perm(int rank, bool to_cf, int64_t *perm)
{
    perm[0] = 0;
    for (int i = 1; i < rank; i++)
        perm[i] = to_cf ? (i == 1 ? rank - 1 : i - 1) : (i == rank - 1 ? 1 : i + 1);
}

ir_value *fk_keras_order(fk_ctx *c, fk_tensor t)
{
    if (!t.cf || !t.v)
        return t.v;
    int64_t perm[IR_MAX_RANK];
    cf_perm(t.v->shape.rank, false, perm);
    return fk_transpose(c, t.v, perm);
}

ir_value *fk_channels_first(fk_ctx *c, fk_tensor t)
{
    if (t.cf || !t.v)
        return t.v;
    int r = t.v->shape.rank;
    if (r < 3 || r > 5) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "input of rank %d, expected 3 to 5 (batch, "
                 "spatial..., channels)", r);
        return NULL;
    }
    int64_t perm[IR_MAX_RANK];
    cf_perm(r, true, perm);
    return fk_transpose(c, t.v, perm);
}

ir_shape fk_shape(const fk_tensor *t)
{
    ir_shape s = t->v->shape;
    if (t->cf) {
        int r = s.rank;
        for (int i = 1; i < r; i++)
            s.dims[i] = t->v->shape.dims[i == r - 1 ? 1 : i + 1];
    }
    return s;
}

int fk_axis(fk_ctx *c, const fk_tensor *t, int64_t axis)
{
    int r = t->v->shape.rank;
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "axis %lld is out of range for rank %d",
                 (long long)axis, r);
        return -1;
    }
    if (!t->cf || axis == 0)
        return (int)axis;
    return axis == r - 1 ? 1 : (int)axis + 1;
}

/* ---- activations ---- */

/* A unary op with one float attribute. */
static ir_value *unary_attr(fk_ctx *c, ir_op op, ir_value *x, const char *attr, float v)
{
    ir_value *y = fk_node(c, op, &x, 1, 1, NULL);
    if (y)
        ir_node_set_float(c->g, y->producer, attr, v);
    return fk_infer(c, y);
}

/* Clip(x, lo, hi) with constant bounds. */
static ir_value *clip(fk_ctx *c, ir_value *x, float lo, float hi)
{
    ir_value *ins[3] = {x, fk_scalar(c, lo), fk_scalar(c, hi)};
    return fk_infer(c, fk_node(c, IR_OP_CLIP, ins, 3, 1, NULL));
}

/* Softmax (ONNX Softmax-13: over one axis) along value axis. */
static ir_value *softmax(fk_ctx *c, ir_value *x, int axis)
{
    ir_value *y = fk_node(c, IR_OP_SOFTMAX, &x, 1, 1, NULL);
    if (y)
        ir_node_set_int(c->g, y->producer, "axis", axis);
    return fk_infer(c, y);
}

/* keras.activations by name; channel_axis is the value axis of the last
 * Keras axis (softmax's default). NULL with an error when unknown. */
static ir_value *activation_named(fk_ctx *c, ir_value *x, const char *name, int channel_axis)
{
    if (!strcmp(name, "linear"))
        return x;
    static const struct { const char *name; ir_op op; } plain[] = {
        {"relu", IR_OP_RELU}, {"sigmoid", IR_OP_SIGMOID}, {"tanh", IR_OP_TANH},
        {"softplus", IR_OP_SOFTPLUS}, {"softsign", IR_OP_SOFTSIGN}, {"selu", IR_OP_SELU},
        {"exponential", IR_OP_EXP}, {"elu", IR_OP_ELU},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!strcmp(name, plain[i].name))
            return fk_unary(c, plain[i].op, x);
    if (!strcmp(name, "relu6"))
        return clip(c, x, 0.0f, 6.0f);
    if (!strcmp(name, "leaky_relu")) /* keras.activations.leaky_relu: negative_slope 0.2 */
        return unary_attr(c, IR_OP_LEAKY_RELU, x, "alpha", 0.2f);
    if (!strcmp(name, "hard_sigmoid")) /* Keras 3: relu6(x + 3) / 6 */
        return unary_attr(c, IR_OP_HARD_SIGMOID, x, "alpha", 1.0f / 6.0f);
    if (!strcmp(name, "swish") || !strcmp(name, "silu"))
        return fk_binary(c, IR_OP_MUL, x, fk_unary(c, IR_OP_SIGMOID, x));
    if (!strcmp(name, "hard_silu") || !strcmp(name, "hard_swish"))
        return fk_unary(c, IR_OP_HARD_SWISH, x);
    if (!strcmp(name, "gelu")) { /* keras.activations.gelu: approximate=False */
        ir_value *y = fk_node(c, IR_OP_GELU, &x, 1, 1, NULL);
        return fk_infer(c, y);
    }
    if (!strcmp(name, "softmax"))
        return softmax(c, x, channel_axis);
    if (!strcmp(name, "log_softmax")) {
        ir_value *y = fk_node(c, IR_OP_LOG_SOFTMAX, &x, 1, 1, NULL);
        if (y)
            ir_node_set_int(c->g, y->producer, "axis", channel_axis);
        return fk_infer(c, y);
    }
    fk_error(c, LOOM_STATUS_UNSUPPORTED, "activation \"%s\" is not supported", name);
    return NULL;
}

ir_value *fk_activation(fk_ctx *c, ir_value *x, const cJSON *act, int channel_axis)
{
    if (!x)
        return NULL;
    if (!act || cJSON_IsNull(act))
        return x;
    if (cJSON_IsString(act))
        return activation_named(c, x, act->valuestring, channel_axis);
    /* a serialized function: {"class_name": "function", "config": "relu"} */
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(act, "config");
    if (cJSON_IsString(cfg))
        return activation_named(c, x, cfg->valuestring, channel_axis);
    fk_error(c, LOOM_STATUS_UNSUPPORTED, "an activation that is not a built-in function name");
    return NULL;
}

ir_value *fk_cfg_activation(fk_ctx *c, ir_value *x, const char *key, int channel_axis)
{
    return fk_activation(c, x, fk_field(c, key), channel_axis);
}

ir_value *fk_gelu(fk_ctx *c, ir_value *x, bool approximate)
{
    ir_value *y = fk_node(c, IR_OP_GELU, &x, 1, 1, NULL);
    if (y && approximate)
        ir_node_set_string(c->g, y->producer, "approximate", "tanh");
    return fk_infer(c, y);
}
