/*
 * Keras merge and attention layers: Add, Subtract, Multiply, Average,
 * Maximum, Minimum, Concatenate, Dot, LayerNormalization,
 * MultiHeadAttention and Attention. Merges keep the channels-first layout
 * when all their inputs have it; otherwise every input is brought to
 * Keras order first.
 *
 * MultiHeadAttention (keras.layers.MultiHeadAttention, Keras 3):
 *   q = (query @ Wq + bq) / sqrt(key_dim), Wq (D, heads, key_dim)
 *   k = key @ Wk + bk, v = value @ Wv + bv   (key defaults to value)
 *   out = (softmax(q k^T) v) @ Wo + bo, Wo (heads, value_dim, D)
 * built from MatMul, Reshape, Transpose and Softmax per head axis.
 */
#include <math.h>
#include <string.h>

#include "fe_keras.h"

/* True when every input is held channels first. */
static bool all_cf(const fk_tensor *ins, int n)
{
    for (int i = 0; i < n; i++)
        if (!ins[i].cf)
            return false;
    return true;
}

/* The merge inputs' values in one layout; *cf says which. */
static bool merge_values(fk_ctx *c, const fk_tensor *ins, int n, ir_value **vs, bool *cf)
{
    *cf = all_cf(ins, n);
    for (int i = 0; i < n; i++)
        if (!(vs[i] = *cf ? ins[i].v : fk_keras_order(c, ins[i])))
            return false;
    return true;
}

/* Add, Subtract, Multiply, Maximum, Minimum, Average: a chain of binary
 * ops (Average: the sum times 1/n). */
static bool elementwise(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_out;
    ir_value *vs[FK_MAX_IO];
    bool cf;
    if (n_in < 2 || (!strcmp(c->cls, "Subtract") && n_in != 2)) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "%d inputs", n_in);
        return false;
    }
    if (!merge_values(c, ins, n_in, vs, &cf))
        return false;
    ir_op op = !strcmp(c->cls, "Subtract")   ? IR_OP_SUB
               : !strcmp(c->cls, "Multiply") ? IR_OP_MUL
               : !strcmp(c->cls, "Maximum")  ? IR_OP_MAX
               : !strcmp(c->cls, "Minimum")  ? IR_OP_MIN
                                             : IR_OP_ADD;
    ir_value *y = vs[0];
    for (int i = 1; i < n_in; i++)
        y = fk_binary(c, op, y, vs[i]);
    if (!strcmp(c->cls, "Average"))
        y = fk_binary(c, IR_OP_MUL, y, fk_scalar(c, 1.0f / (float)n_in));
    outs[0] = (fk_tensor){y, cf};
    return y != NULL;
}

/* Concatenate(axis=-1). */
static bool concatenate(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_out;
    ir_value *vs[FK_MAX_IO];
    bool cf;
    if (!merge_values(c, ins, n_in, vs, &cf))
        return false;
    fk_tensor t = {vs[0], cf};
    int ax = fk_axis(c, &t, fk_cfg_int(c, "axis", -1));
    ir_value *y = ax < 0 ? NULL : fk_node(c, IR_OP_CONCAT, vs, n_in, 1, NULL);
    if (y)
        ir_node_set_int(c->g, y->producer, "axis", ax);
    outs[0] = (fk_tensor){fk_infer(c, y), cf};
    return outs[0].v != NULL;
}

/* L2-normalizes x along axis (Dot's normalize=True). */
static ir_value *l2_normalize(fk_ctx *c, ir_value *x, int axis)
{
    ir_value *sq = fk_binary(c, IR_OP_MUL, x, x);
    ir_value *s = fk_binary(c, IR_OP_REDUCE_SUM, sq, fk_const_i64(c, "axes", 1,
                                                                 (int64_t[]){axis}));
    ir_value *in3[3] = {s, fk_scalar(c, 1e-12f), NULL};
    ir_value *cl = s ? fk_infer(c, fk_node(c, IR_OP_MAX, in3, 2, 1, NULL)) : NULL;
    return fk_binary(c, IR_OP_DIV, x, fk_unary(c, IR_OP_SQRT, cl));
}

/* Dot(axes) for rank 2 and 3 inputs: batch matrix product over the axes. */
static bool dot(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_out;
    if (n_in != 2)
        return false;
    ir_value *a = fk_keras_order(c, ins[0]), *b = fk_keras_order(c, ins[1]);
    int64_t axes[2];
    if (!a || !b || !fk_cfg_ints(c, "axes", axes, 2))
        return false;
    int r = a->shape.rank;
    for (int i = 0; i < 2; i++)
        axes[i] = axes[i] < 0 ? axes[i] + r : axes[i];
    if (r != b->shape.rank || r < 2 || r > 3 || axes[0] < 1 || axes[1] < 1) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "Dot over inputs of rank %d (axes %lld, %lld) is "
                 "not supported (rank 2 or 3, non-batch axes)", r, (long long)axes[0],
                 (long long)axes[1]);
        return false;
    }
    if (fk_cfg_bool(c, "normalize", false)) {
        a = l2_normalize(c, a, (int)axes[0]);
        b = l2_normalize(c, b, (int)axes[1]);
    }
    ir_value *y;
    if (r == 2) {
        y = fk_binary(c, IR_OP_MUL, a, b);
        y = fk_binary(c, IR_OP_REDUCE_SUM, y, fk_const_i64(c, "axes", 1, (int64_t[]){1}));
    } else {
        /* (B, M, K) x (B, K, N): a's axes[0] last, b's axes[1] in the middle */
        if (axes[0] == 1)
            a = fk_transpose(c, a, (int64_t[]){0, 2, 1});
        if (axes[1] == 2)
            b = fk_transpose(c, b, (int64_t[]){0, 2, 1});
        y = fk_binary(c, IR_OP_MAT_MUL, a, b);
    }
    outs[0] = (fk_tensor){y, false};
    return y != NULL;
}

/* LayerNormalization over the last axis (ONNX LayerNormalization-17). */
static bool layer_norm(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    ir_value *x = fk_keras_order(c, ins[0]);
    int64_t axis = -1;
    const cJSON *a = fk_field(c, "axis");
    if ((cJSON_IsArray(a) && cJSON_GetArraySize(a) != 1) || fk_cfg_bool(c, "rms_scaling", false)) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "several axes or rms_scaling=True are not supported");
        return false;
    }
    fk_cfg_ints(c, "axis", &axis, 1);
    if (!x)
        return false;
    int r = x->shape.rank;
    if (axis != -1 && axis != r - 1) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "axis %lld: only the last axis is supported",
                 (long long)axis);
        return false;
    }
    int64_t ch = x->shape.dims[r - 1];
    bool scale = fk_cfg_bool(c, "scale", true), center = fk_cfg_bool(c, "center", true);
    int k = 0;
    float *gm = scale ? fk_weight(c, NULL, k++, 1, &ch) : NULL;
    float *bt = center && (gm || !scale) ? fk_weight(c, NULL, k++, 1, &ch) : NULL;
    if ((scale && !gm) || (center && !bt))
        return false;
    ir_value *g = fk_const(c, "gamma", 1, &ch, gm), *b = fk_const(c, "beta", 1, &ch, bt);
    for (int64_t j = 0; !gm && j < ch; j++)
        ((float *)g->data)[j] = 1.0f;
    ir_value *y = fk_node(c, IR_OP_LAYER_NORMALIZATION, (ir_value *[]){x, g, b}, 3, 1, NULL);
    ir_node_set_int(c->g, y->producer, "axis", -1);
    ir_node_set_float(c->g, y->producer, "epsilon", (float)fk_cfg_num(c, "epsilon", 1e-3));
    outs[0] = (fk_tensor){fk_infer(c, y), false};
    return outs[0].v != NULL;
}

/* One MHA projection: x (B, T, D) @ W (D, heads*dim) + b -> (B, heads, T,
 * dim); sub is the dense sublayer's weight path. */
static ir_value *project(fk_ctx *c, ir_value *x, const char *sub, int64_t heads, int64_t dim,
                         bool bias)
{
    int64_t b = x->shape.dims[0], t = x->shape.dims[1], d = x->shape.dims[2];
    float *w = fk_weight(c, sub, 0, 3, (int64_t[]){d, heads, dim});
    float *bv = w && bias ? fk_weight(c, sub, 1, 2, (int64_t[]){heads, dim}) : NULL;
    if (!w || (bias && !bv))
        return NULL;
    ir_value *y = fk_binary(c, IR_OP_MAT_MUL, x,
                            fk_const(c, sub, 2, (int64_t[]){d, heads * dim}, w));
    if (bias)
        y = fk_binary(c, IR_OP_ADD, y, fk_const(c, sub, 1, (int64_t[]){heads * dim}, bv));
    y = fk_reshape(c, y, 4, (int64_t[]){b, t, heads, dim});
    return y ? fk_transpose(c, y, (int64_t[]){0, 2, 1, 3}) : NULL;
}

/* MultiHeadAttention(query, value[, key]) without masks. */
static bool mha(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_out;
    int64_t heads = fk_cfg_int(c, "num_heads", 0), kd = fk_cfg_int(c, "key_dim", 0);
    int64_t vd = fk_cfg_int(c, "value_dim", kd);
    bool bias = fk_cfg_bool(c, "use_bias", true);
    const cJSON *axes = fk_field(c, "attention_axes");
    bool seq_axis = !axes || (cJSON_GetArraySize(axes) == 1 &&
                              cJSON_GetArrayItem(axes, 0)->valuedouble == 1);
    if (n_in < 2 || n_in > 3 || !seq_axis || fk_field(c, "output_shape") ||
        fk_cfg_bool(c, "use_gate", false) || fk_field(c, "sliding_window")) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "only query, value and key inputs (%d given), "
                 "attention over axis 1, no output_shape, use_gate or sliding_window are "
                 "supported", n_in);
        return false;
    }
    ir_value *q = fk_keras_order(c, ins[0]), *v = fk_keras_order(c, ins[1]);
    ir_value *k = n_in == 3 ? fk_keras_order(c, ins[2]) : v;
    if (!q || !v || !k || q->shape.rank != 3 || heads < 1 || kd < 1) {
        if (q && v && k)
            fk_error(c, LOOM_STATUS_UNSUPPORTED, "inputs must be (batch, seq, features)");
        return false;
    }
    int64_t b = q->shape.dims[0], t = q->shape.dims[1], d = q->shape.dims[2];
    ir_value *qp = project(c, q, "query_dense", heads, kd, bias);
    ir_value *kp = qp ? project(c, k, "key_dense", heads, kd, bias) : NULL;
    ir_value *vp = kp ? project(c, v, "value_dense", heads, vd, bias) : NULL;
    if (!vp)
        return false;
    qp = fk_binary(c, IR_OP_MUL, qp, fk_scalar(c, 1.0f / sqrtf((float)kd)));
    ir_value *kt = fk_transpose(c, kp, (int64_t[]){0, 1, 3, 2});
    ir_value *s = fk_binary(c, IR_OP_MAT_MUL, qp, kt);
    ir_value *p = s ? fk_node(c, IR_OP_SOFTMAX, &s, 1, 1, NULL) : NULL;
    if (p)
        ir_node_set_int(c->g, p->producer, "axis", -1);
    ir_value *o = fk_binary(c, IR_OP_MAT_MUL, fk_infer(c, p), vp);
    o = o ? fk_transpose(c, o, (int64_t[]){0, 2, 1, 3}) : NULL;
    o = fk_reshape(c, o, 3, (int64_t[]){b, t, heads * vd});
    float *wo = o ? fk_weight(c, "output_dense", 0, 3, (int64_t[]){heads, vd, d}) : NULL;
    float *bo = wo && bias ? fk_weight(c, "output_dense", 1, 1, &d) : NULL;
    if (!wo || (bias && !bo))
        return false;
    o = fk_binary(c, IR_OP_MAT_MUL, o, fk_const(c, "output_dense", 2,
                                                (int64_t[]){heads * vd, d}, wo));
    if (bias)
        o = fk_binary(c, IR_OP_ADD, o, fk_const(c, "output_dense", 1, &d, bo));
    outs[0] = (fk_tensor){o, false};
    return o != NULL;
}

/* Attention([query, value(, key)]): dot-product attention, score_mode
 * "dot", use_scale adds the learned scalar scale. */
static bool attention(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_out;
    if (n_in < 2 || n_in > 3 || !fk_require_str(c, "score_mode", "dot", "dot") ||
        fk_cfg_bool(c, "use_causal_mask", false)) {
        if (!c->status)
            fk_error(c, LOOM_STATUS_UNSUPPORTED, "only [query, value(, key)] without a causal "
                     "mask is supported");
        return false;
    }
    ir_value *q = fk_keras_order(c, ins[0]), *v = fk_keras_order(c, ins[1]);
    ir_value *k = n_in == 3 ? fk_keras_order(c, ins[2]) : v;
    if (!q || !v || !k)
        return false;
    ir_value *s = fk_binary(c, IR_OP_MAT_MUL, q, fk_transpose(c, k, (int64_t[]){0, 2, 1}));
    if (fk_cfg_bool(c, "use_scale", false)) {
        float *sc = fk_weight(c, NULL, 0, 0, NULL);
        if (!sc)
            return false;
        s = fk_binary(c, IR_OP_MUL, s, fk_scalar(c, *sc));
    }
    ir_value *p = s ? fk_node(c, IR_OP_SOFTMAX, &s, 1, 1, NULL) : NULL;
    if (p)
        ir_node_set_int(c->g, p->producer, "axis", -1);
    outs[0] = (fk_tensor){fk_binary(c, IR_OP_MAT_MUL, fk_infer(c, p), v), false};
    return outs[0].v != NULL;
}

fk_layer_fn fk_layer_lookup_merge(const char *cls)
{
    static const char *const elementwise_cls[] = {"Add", "Subtract", "Multiply",
                                                  "Average", "Maximum", "Minimum"};
    for (size_t i = 0; i < sizeof elementwise_cls / sizeof elementwise_cls[0]; i++)
        if (!strcmp(cls, elementwise_cls[i]))
            return elementwise;
    if (!strcmp(cls, "Concatenate"))
        return concatenate;
    if (!strcmp(cls, "Dot"))
        return dot;
    if (!strcmp(cls, "LayerNormalization"))
        return layer_norm;
    if (!strcmp(cls, "MultiHeadAttention"))
        return mha;
    if (!strcmp(cls, "Attention"))
        return attention;
    return NULL;
}
