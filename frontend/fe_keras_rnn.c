/*
 * Keras recurrent and sequence layers: SimpleRNN, LSTM, GRU (as the ONNX
 * RNN/LSTM/GRU ops with layout=1, batch first like Keras), Bidirectional
 * (direction="bidirectional": Y is (batch, seq, 2, hidden), so the merge
 * "concat" is a reshape), TimeDistributed and Embedding.
 *
 * Weights: Keras's kernel (in, G*H) and recurrent_kernel (H, G*H) become
 * ONNX's W (dirs, G*H, in) and R (dirs, G*H, H), gate blocks reordered:
 *   LSTM  Keras i, f, c, o    ONNX i, o, f, c   (ONNX LSTM-14)
 *   GRU   Keras z, r, h       ONNX z, r, h; reset_after=True is
 *         linear_before_reset=1 with bias (2, 3H) = [input; recurrent]
 * and the bias (G*H) is ONNX B's input half (the recurrent half zero).
 */
#include <string.h>

#include "fe_keras.h"

typedef enum rnn_kind { RNN_SIMPLE, RNN_LSTM, RNN_GRU } rnn_kind;

/* ONNX gate g takes Keras gate block order[g]. */
static const int lstm_order[4] = {0, 3, 1, 2};
static const int gru_order[3] = {0, 1, 2};
static const int simple_order[1] = {0};

typedef struct rnn_spec {
    rnn_kind kind;
    int gates;
    const int *order;
    int64_t in, hidden;
    bool reset_after;
} rnn_spec;

/* Copies Keras matrix k (rows, G*H) into ONNX layout (G*H, rows) at dst,
 * gate blocks in ONNX order. */
static void gate_matrix(const rnn_spec *s, const float *k, int64_t rows, float *dst)
{
    int64_t gh = s->gates * s->hidden;
    for (int g = 0; g < s->gates; g++)
        for (int64_t j = 0; j < s->hidden; j++)
            for (int64_t r = 0; r < rows; r++)
                dst[(g * s->hidden + j) * rows + r] = k[r * gh + s->order[g] * s->hidden + j];
}

/* Copies bias vector b (G*H, Keras order) into ONNX order at dst. */
static void gate_bias(const rnn_spec *s, const float *b, float *dst)
{
    for (int g = 0; g < s->gates; g++)
        memcpy(dst + g * s->hidden, b + s->order[g] * s->hidden, (size_t)s->hidden * sizeof *b);
}

/* Reads one direction's weights (sub: "cell", "forward_layer/cell", ...)
 * into W, R, B at direction dir. */
static bool read_direction(fk_ctx *c, const rnn_spec *s, const char *sub, int dir, ir_value *w,
                           ir_value *r, ir_value *b, bool use_bias)
{
    int64_t gh = s->gates * s->hidden;
    float *k = fk_weight(c, sub, 0, 2, (int64_t[]){s->in, gh});
    float *rk = k ? fk_weight(c, sub, 1, 2, (int64_t[]){s->hidden, gh}) : NULL;
    if (!rk)
        return false;
    gate_matrix(s, k, s->in, (float *)w->data + dir * gh * s->in);
    gate_matrix(s, rk, s->hidden, (float *)r->data + dir * gh * s->hidden);
    if (!use_bias)
        return true;
    bool two = s->kind == RNN_GRU && s->reset_after;
    float *bias = two ? fk_weight(c, sub, 2, 2, (int64_t[]){2, gh})
                      : fk_weight(c, sub, 2, 1, &gh);
    if (!bias)
        return false;
    float *bd = (float *)b->data + dir * 2 * gh;
    gate_bias(s, bias, bd);
    if (two)
        gate_bias(s, bias + gh, bd + gh);
    return true;
}

/* Checks the options loom does not implement; fills spec. */
static bool rnn_options(fk_ctx *c, rnn_kind kind, int64_t in, rnn_spec *s)
{
    *s = (rnn_spec){.kind = kind, .in = in, .hidden = fk_cfg_int(c, "units", 0),
                    .gates = kind == RNN_LSTM ? 4 : kind == RNN_GRU ? 3 : 1,
                    .order = kind == RNN_LSTM ? lstm_order : kind == RNN_GRU ? gru_order
                                                                               : simple_order,
                    .reset_after = fk_cfg_bool(c, "reset_after", true)};
    const char *act = fk_cfg_str(c, "activation", "tanh");
    const char *rec = fk_cfg_str(c, "recurrent_activation", "sigmoid");
    if (s->hidden < 1) {
        fk_error(c, LOOM_STATUS_INVALID_MODEL, "units is not positive");
        return false;
    }
    if (strcmp(act, "tanh") || (kind != RNN_SIMPLE && strcmp(rec, "sigmoid"))) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "activation=\"%s\", recurrent_activation=\"%s\": "
                 "only tanh and sigmoid are supported", act, rec);
        return false;
    }
    if (fk_cfg_bool(c, "stateful", false) || fk_cfg_bool(c, "go_backwards", false)) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "stateful=True and go_backwards=True are not "
                 "supported");
        return false;
    }
    return true;
}

static const ir_op rnn_ops[] = {IR_OP_RNN, IR_OP_LSTM, IR_OP_GRU};

/* The recurrent node over x (batch, seq, in), dirs directions; outputs
 * Y (b, seq, dirs, H), Y_h (b, dirs, H) and for LSTM Y_c. */
static bool rnn_node(fk_ctx *c, const rnn_spec *s, ir_value *x, int dirs, const char *const *subs,
                     ir_value **ys)
{
    int64_t gh = s->gates * s->hidden;
    bool use_bias = fk_cfg_bool(c, "use_bias", true);
    ir_value *w = fk_const(c, "W", 3, (int64_t[]){dirs, gh, s->in}, NULL);
    ir_value *r = fk_const(c, "R", 3, (int64_t[]){dirs, gh, s->hidden}, NULL);
    ir_value *b = fk_const(c, "B", 2, (int64_t[]){dirs, 2 * gh}, NULL);
    for (int dir = 0; dir < dirs; dir++)
        if (!read_direction(c, s, subs[dir], dir, w, r, b, use_bias))
            return false;
    int n_out = s->kind == RNN_LSTM ? 3 : 2;
    ir_value *ins[4] = {x, w, r, b};
    fk_node(c, rnn_ops[s->kind], ins, 4, n_out, ys);
    ir_node *n = ys[0]->producer;
    ir_node_set_int(c->g, n, "hidden_size", s->hidden);
    ir_node_set_int(c->g, n, "layout", 1);
    if (dirs == 2)
        ir_node_set_string(c->g, n, "direction", "bidirectional");
    if (s->kind == RNN_GRU && s->reset_after)
        ir_node_set_int(c->g, n, "linear_before_reset", 1);
    return fk_infer(c, ys[0]) != NULL;
}

/* The Keras outputs of one RNN layer: [seq or last] (+ states). */
static int rnn_outputs(fk_ctx *c, const rnn_spec *s, ir_value **ys, int dirs, fk_tensor *outs)
{
    int64_t b = ys[0]->shape.dims[0], t = ys[0]->shape.dims[1], h = s->hidden;
    bool seq = fk_cfg_bool(c, "return_sequences", false);
    outs[0].v = seq ? fk_reshape(c, ys[0], 3, (int64_t[]){b, t, dirs * h})
                    : fk_reshape(c, ys[1], 2, (int64_t[]){b, dirs * h});
    outs[0].cf = false;
    if (!fk_cfg_bool(c, "return_state", false))
        return 1;
    int n = 1;
    for (int k = 1; k < (s->kind == RNN_LSTM ? 3 : 2); k++)
        outs[n++] = (fk_tensor){fk_reshape(c, ys[k], 2, (int64_t[]){b, h}), false};
    return n;
}

static rnn_kind kind_of(const char *cls)
{
    return strstr(cls, "LSTM") ? RNN_LSTM : strstr(cls, "GRU") ? RNN_GRU : RNN_SIMPLE;
}

/* SimpleRNN, LSTM, GRU. */
static bool recurrent(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    ir_value *x = fk_keras_order(c, ins[0]);
    rnn_spec s;
    if (n_in != 1) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "initial_state inputs are not supported");
        return false;
    }
    if (!x || x->shape.rank != 3 || !rnn_options(c, kind_of(c->cls), x->shape.dims[2], &s))
        return false;
    ir_value *ys[3];
    const char *subs[1] = {"cell"};
    if (!rnn_node(c, &s, x, 1, subs, ys))
        return false;
    *n_out = rnn_outputs(c, &s, ys, 1, outs);
    return true;
}

/* Bidirectional(LSTM/GRU/SimpleRNN), merge_mode "concat". */
static bool bidirectional(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in;
    const cJSON *inner = fk_field(c, "layer");
    const cJSON *icls = cJSON_GetObjectItemCaseSensitive(inner, "class_name");
    const char *merge = fk_cfg_str(c, "merge_mode", "concat");
    const cJSON *back = cJSON_GetObjectItemCaseSensitive(fk_field(c, "backward_layer"),
                                                         "class_name");
    if (!cJSON_IsString(icls) || fk_layer_lookup_rnn(icls->valuestring) != recurrent) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "the wrapped layer is not SimpleRNN, LSTM or GRU");
        return false;
    }
    if (strcmp(merge, "concat") || (back && strcmp(back->valuestring, icls->valuestring))) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "merge_mode=\"%s\" or a backward_layer of another "
                 "class is not supported (concat only)", merge);
        return false;
    }
    ir_value *x = fk_keras_order(c, ins[0]);
    const cJSON *outer = c->cfg;
    c->cfg = cJSON_GetObjectItemCaseSensitive(inner, "config");
    rnn_spec s;
    bool ok = x && x->shape.rank == 3 && rnn_options(c, kind_of(icls->valuestring),
                                                     x->shape.dims[2], &s);
    const char *subs[2] = {"forward_layer/cell", "backward_layer/cell"};
    ir_value *ys[3];
    ok = ok && rnn_node(c, &s, x, 2, subs, ys);
    if (ok && fk_cfg_bool(c, "return_state", false)) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "return_state=True in Bidirectional is not "
                 "supported");
        ok = false;
    }
    if (ok)
        *n_out = rnn_outputs(c, &s, ys, 2, outs);
    c->cfg = outer;
    return ok;
}

/* TimeDistributed(layer): the inner layer on (batch*seq, ...), reshaped back. */
static bool time_distributed(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs,
                             int *n_out)
{
    (void)n_in;
    const cJSON *inner = fk_field(c, "layer");
    const cJSON *icls = cJSON_GetObjectItemCaseSensitive(inner, "class_name");
    fk_layer_fn fn = cJSON_IsString(icls) ? fk_layer_lookup(icls->valuestring) : NULL;
    if (!fn) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "the wrapped layer %s is not supported",
                 cJSON_IsString(icls) ? icls->valuestring : "(none)");
        return false;
    }
    ir_value *x = fk_keras_order(c, ins[0]);
    if (!x || x->shape.rank < 3)
        return false;
    int r = x->shape.rank;
    int64_t b = x->shape.dims[0], t = x->shape.dims[1], d[IR_MAX_RANK];
    d[0] = b * t;
    memcpy(d + 1, x->shape.dims + 2, (size_t)(r - 2) * sizeof *d);
    fk_tensor flat = {fk_reshape(c, x, r - 1, d), false};
    const cJSON *outer = c->cfg;
    const char *ocls = c->cls;
    c->cfg = cJSON_GetObjectItemCaseSensitive(inner, "config");
    c->cls = icls->valuestring;
    c->wprefix = "layer";
    fk_tensor y[FK_MAX_IO];
    bool ok = flat.v && fn(c, &flat, 1, y, n_out) && *n_out == 1;
    c->cfg = outer;
    c->cls = ocls;
    c->wprefix = NULL;
    ir_value *yv = ok ? fk_keras_order(c, y[0]) : NULL;
    if (!yv)
        return false;
    int yr = yv->shape.rank;
    d[0] = b;
    d[1] = t;
    memcpy(d + 2, yv->shape.dims + 1, (size_t)(yr - 1) * sizeof *d);
    outs[0] = (fk_tensor){fk_reshape(c, yv, yr + 1, d), false};
    return outs[0].v != NULL;
}

/* Embedding: Gather(embeddings, indices). */
static bool embedding(fk_ctx *c, const fk_tensor *ins, int n_in, fk_tensor *outs, int *n_out)
{
    (void)n_in, (void)n_out;
    int64_t dims[2] = {fk_cfg_int(c, "input_dim", 0), fk_cfg_int(c, "output_dim", 0)};
    if (fk_cfg_bool(c, "mask_zero", false)) {
        fk_error(c, LOOM_STATUS_UNSUPPORTED, "mask_zero=True (masking) is not supported");
        return false;
    }
    float *e = fk_weight(c, NULL, 0, 2, dims);
    if (!e)
        return false;
    ir_value *idx = ins[0].v;
    if (idx->dtype == IR_DTYPE_F32) {
        idx = fk_node(c, IR_OP_CAST, &idx, 1, 1, NULL);
        ir_node_set_int(c->g, idx->producer, "to", ir_dtype_to_onnx(IR_DTYPE_I64));
        idx = fk_infer(c, idx);
    }
    ir_value *y = fk_binary(c, IR_OP_GATHER, fk_const(c, "embeddings", 2, dims, e), idx);
    outs[0] = (fk_tensor){y, false};
    return y != NULL;
}

fk_layer_fn fk_layer_lookup_rnn(const char *cls)
{
    if (!strcmp(cls, "SimpleRNN") || !strcmp(cls, "LSTM") || !strcmp(cls, "GRU"))
        return recurrent;
    if (!strcmp(cls, "Bidirectional"))
        return bidirectional;
    if (!strcmp(cls, "TimeDistributed"))
        return time_distributed;
    if (!strcmp(cls, "Embedding"))
        return embedding;
    return NULL;
}
