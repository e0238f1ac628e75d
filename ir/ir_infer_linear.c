/*
 * Shape inference for the linear-algebra and sequence ops: Gemm, MatMul,
 * Softmax/LogSoftmax, LayerNormalization, LSTM, GRU and RNN.
 *
 * Each function checks what a model can get wrong (ranks, inner dimensions,
 * weight shapes against hidden_size, attribute values, dtypes), reports it
 * with the node's location and sets the output dtypes and shapes. The RNN
 * family shares ir_rnn_geometry, which the interpreter and the lowering call
 * too so that every stage reads the attributes the same way.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ir_infer.h"

#define SHAPE_BUF 200

/* ---- helpers ---- */

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* The dtypes of Gemm and MatMul: float, double, int32, int64. */
static bool is_matmul_dtype(ir_dtype t)
{
    return is_float(t) || t == IR_DTYPE_I32 || t == IR_DTYPE_I64;
}

/* Reports v's dtype unless ok; what names the operand. */
static loom_status check_dtype(const ir_graph *g, const ir_node *n, ir_diag *d,
                               const ir_value *v, const char *what, bool ok, const char *expected)
{
    if (ok)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "%s has dtype %s, expected %s", what, ir_dtype_name(v->dtype), expected);
    return LOOM_STATUS_UNSUPPORTED;
}

/* Reports v unless its dtype equals ref's (named ref_what). */
static loom_status check_same_dtype(const ir_graph *g, const ir_node *n, ir_diag *d,
                                    const ir_value *v, const char *what, const ir_value *ref,
                                    const char *ref_what)
{
    if (!v || v->dtype == ref->dtype)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "%s has dtype %s, expected %s (the dtype of %s)", what,
                 ir_dtype_name(v->dtype), ir_dtype_name(ref->dtype), ref_what);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Sets output i after checking that its byte size is representable. */
static loom_status set_output(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                              const ir_shape *s)
{
    size_t bytes;
    if (!ir_shape_bytes(s, t, &bytes)) {
        char buf[SHAPE_BUF];
        ir_shape_format(s, buf, sizeof buf);
        ir_diag_node(d, g, n, "output %d would have shape %s, which is too large", i, buf);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_set_output(n, i, t, s);
    return LOOM_STATUS_OK;
}

/* True if from broadcasts to to in one direction (ONNX "unidirectional
 * broadcasting"): from has rank <= to's and each aligned dim is 1 or equal. */
static bool broadcasts_to(const ir_shape *from, const ir_shape *to)
{
    if (from->rank > to->rank)
        return false;
    for (int i = 0; i < from->rank; i++) {
        int64_t f = from->dims[i], t = to->dims[to->rank - from->rank + i];
        if (f != 1 && f != t)
            return false;
    }
    return true;
}

static ir_shape shape_of(int rank, const int64_t *dims)
{
    ir_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++)
        s.dims[i] = dims[i];
    return s;
}

/* ---- Gemm ---- */

/* Gemm's operand dtypes: A in the matmul set, B and C like A. */
static loom_status gemm_dtypes(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_value *a = n->inputs[0];
    loom_status st = check_dtype(g, n, d, a, "A", is_matmul_dtype(a->dtype), "f32, f64, i32 or i64");
    if (!st)
        st = check_same_dtype(g, n, d, n->inputs[1], "B", a, "A");
    if (!st)
        st = check_same_dtype(g, n, d, ir_input(n, 2), "C", a, "A");
    return st;
}

/* ONNX Gemm-13: Y = alpha * A' * B' + beta * C with A' = transA ? A^T : A of
 * shape [M, K] and B' = transB ? B^T : B of shape [K, N]; C (optional since
 * Gemm-11) broadcasts unidirectionally to [M, N]. Gemm-1..6 `broadcast` = 0
 * demanded C be exactly [M, N]; that older form is still accepted. */
loom_status ir_infer_gemm(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1], *cv = ir_input(n, 2);
    loom_status st = gemm_dtypes(g, n, d);
    if (st)
        return st;
    if (a->shape.rank != 2 || b->shape.rank != 2) {
        ir_diag_node(d, g, n, "%s has rank %d, expected 2", a->shape.rank != 2 ? "A" : "B",
                     a->shape.rank != 2 ? a->shape.rank : b->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
    int64_t m = a->shape.dims[ta ? 1 : 0], k = a->shape.dims[ta ? 0 : 1];
    int64_t kb = b->shape.dims[tb ? 1 : 0], nn = b->shape.dims[tb ? 0 : 1];
    if (k != kb) {
        ir_diag_node(d, g, n,
                     "inner dimensions differ: A' is [%lld,%lld] and B' is [%lld,%lld] "
                     "(transA=%d, transB=%d)",
                     (long long)m, (long long)k, (long long)kb, (long long)nn, ta, tb);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape y = shape_of(2, (int64_t[]){m, nn});
    if (cv) {
        bool legacy_exact = ir_node_find_attr(n, "broadcast") && ir_attr_int(n, "broadcast", 1) == 0;
        if (legacy_exact ? !ir_shape_equal(&cv->shape, &y) : !broadcasts_to(&cv->shape, &y)) {
            char buf[SHAPE_BUF];
            ir_shape_format(&cv->shape, buf, sizeof buf);
            ir_diag_node(d, g, n, "C has shape %s, which does not %s [M=%lld,N=%lld]", buf,
                         legacy_exact ? "equal (broadcast=0)" : "broadcast to", (long long)m,
                         (long long)nn);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return set_output(g, n, d, 0, a->dtype, &y);
}

/* ---- MatMul ---- */

/* Leading (batch) dims of a matmul operand: all but the last two. */
static ir_shape batch_dims(const ir_shape *s)
{
    return shape_of(s->rank >= 2 ? s->rank - 2 : 0, s->dims);
}

/* ONNX MatMul-13: numpy.matmul. A 1-D A is [1, K] and a 1-D B is [K, 1] with
 * the added dim removed from the result; leading dims broadcast. */
loom_status ir_infer_mat_mul(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *a = n->inputs[0], *b = n->inputs[1];
    loom_status st = check_dtype(g, n, d, a, "A", is_matmul_dtype(a->dtype), "f32, f64, i32 or i64");
    if (!st)
        st = check_same_dtype(g, n, d, b, "B", a, "A");
    if (st)
        return st;
    const ir_shape *sa = &a->shape, *sb = &b->shape;
    if (sa->rank < 1 || sb->rank < 1) {
        ir_diag_node(d, g, n, "%s is a scalar; MatMul needs rank >= 1", sa->rank < 1 ? "A" : "B");
        return LOOM_STATUS_INVALID_MODEL;
    }
    char ba[SHAPE_BUF], bb[SHAPE_BUF];
    ir_shape_format(sa, ba, sizeof ba);
    ir_shape_format(sb, bb, sizeof bb);
    int64_t ka = sa->dims[sa->rank - 1], kb = sb->dims[sb->rank >= 2 ? sb->rank - 2 : 0];
    if (ka != kb) {
        ir_diag_node(d, g, n, "inner dimensions differ: A is %s (K=%lld) and B is %s (K=%lld)", ba,
                     (long long)ka, bb, (long long)kb);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape bta = batch_dims(sa), btb = batch_dims(sb), y;
    if (!ir_broadcast_shapes(&bta, &btb, &y)) {
        ir_diag_node(d, g, n, "batch dimensions of A %s and B %s do not broadcast", ba, bb);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (sa->rank >= 2)
        y.dims[y.rank++] = sa->dims[sa->rank - 2];
    if (sb->rank >= 2)
        y.dims[y.rank++] = sb->dims[sb->rank - 1];
    return set_output(g, n, d, 0, a->dtype, &y);
}

/* ---- Softmax, LogSoftmax ---- */

bool ir_softmax_geometry(const ir_node *n, const ir_shape *x, int64_t *outer, int64_t *len,
                         int64_t *inner)
{
    bool coerce = ir_attr_int(n, "coerce_2d", 0) != 0;
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", coerce ? 1 : -1), x->rank, &axis))
        return false;
    int64_t o = 1, l = 1, in = 1;
    for (int i = 0; i < x->rank; i++) {
        if (i < axis)
            o *= x->dims[i];
        else if (i == axis || coerce)
            l *= x->dims[i];
        else
            in *= x->dims[i];
    }
    *outer = o;
    *len = l;
    *inner = in;
    return true;
}

/* ONNX Softmax-13 / LogSoftmax-13 along `axis` (default -1); with
 * coerce_2d = 1, Softmax-1..11 over the input flattened to 2-D at `axis`
 * (default 1). The output has the input's shape and dtype. */
loom_status ir_infer_softmax(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    loom_status st = check_dtype(g, n, d, x, "input", is_float(x->dtype), "f32 or f64");
    if (st)
        return st;
    if (x->shape.rank < 1) {
        ir_diag_node(d, g, n, "input is a scalar; %s needs rank >= 1", ir_op_name(n->op));
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t outer, len, inner;
    if (!ir_softmax_geometry(n, &x->shape, &outer, &len, &inner)) {
        bool coerce = ir_attr_int(n, "coerce_2d", 0) != 0;
        ir_diag_node(d, g, n, "axis %lld is out of range for input of rank %d",
                     (long long)ir_attr_int(n, "axis", coerce ? 1 : -1), x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, d, 0, x->dtype, &x->shape);
}

/* ---- LayerNormalization ---- */

/* dtype of Mean / InvStdDev from stash_type (an ONNX TensorProto type). */
static loom_status stash_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, ir_dtype *out)
{
    int64_t stash = ir_attr_int(n, "stash_type", 1);
    if (stash == 1 || stash == 11) {
        *out = stash == 1 ? IR_DTYPE_F32 : IR_DTYPE_F64;
        return LOOM_STATUS_OK;
    }
    if (stash == 10 || stash == 16) {
        ir_diag_node(d, g, n, "stash_type %lld (%s) is not supported; use 1 (float) or 11 (double)",
                     (long long)stash, stash == 10 ? "float16" : "bfloat16");
        return LOOM_STATUS_UNSUPPORTED;
    }
    ir_diag_node(d, g, n, "stash_type %lld is not a floating-point type (expected 1 or 11)",
                 (long long)stash);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Scale and B must have X's dtype and broadcast to X. */
static loom_status layer_norm_params(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    static const char *names[] = {"X", "Scale", "B"};
    for (int i = 1; i < 3; i++) {
        const ir_value *v = ir_input(n, i);
        if (!v)
            continue;
        loom_status st = check_same_dtype(g, n, d, v, names[i], x, "X");
        if (st)
            return st;
        if (!broadcasts_to(&v->shape, &x->shape)) {
            char bv[SHAPE_BUF], bx[SHAPE_BUF];
            ir_shape_format(&v->shape, bv, sizeof bv);
            ir_shape_format(&x->shape, bx, sizeof bx);
            ir_diag_node(d, g, n, "%s has shape %s, which does not broadcast to X %s", names[i],
                         bv, bx);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* ONNX LayerNormalization-17: normalizes over dims [axis, rank) (axis default
 * -1); Y has X's shape, Mean and InvStdDev have X's leading dims followed by
 * ones, in the dtype named by stash_type. */
loom_status ir_infer_layer_normalization(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    loom_status st = check_dtype(g, n, d, x, "X", is_float(x->dtype), "f32 or f64");
    if (st)
        return st;
    int axis;
    int64_t axis_attr = ir_attr_int(n, "axis", -1);
    if (!ir_normalize_axis(axis_attr, x->shape.rank, &axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for X of rank %d", (long long)axis_attr,
                     x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_dtype stash;
    if ((st = stash_dtype(g, n, d, &stash)) || (st = layer_norm_params(g, n, d)))
        return st;
    ir_shape stat = x->shape;
    for (int i = axis; i < stat.rank; i++)
        stat.dims[i] = 1;
    if ((st = set_output(g, n, d, 0, x->dtype, &x->shape)))
        return st;
    ir_set_output(n, 1, stash, &stat);
    ir_set_output(n, 2, stash, &stat);
    return LOOM_STATUS_OK;
}

/* ---- LSTM, GRU, RNN ---- */

enum { RNN_X, RNN_W, RNN_R, RNN_B, RNN_SEQ_LENS, RNN_INITIAL_H, RNN_INITIAL_C, RNN_P };

static const struct {
    const char *name;
    bool alpha, beta;        /* uses activation_alpha / activation_beta */
    float def_alpha, def_beta; /* defaults of the ONNX op of the same name */
} rnn_act_table[IR_RNN_ACT_COUNT] = {
    [IR_RNN_ACT_RELU] = {"Relu", false, false, 0, 0},
    [IR_RNN_ACT_TANH] = {"Tanh", false, false, 0, 0},
    [IR_RNN_ACT_SIGMOID] = {"Sigmoid", false, false, 0, 0},
    [IR_RNN_ACT_AFFINE] = {"Affine", true, true, 1.0f, 0.0f},
    [IR_RNN_ACT_LEAKY_RELU] = {"LeakyRelu", true, false, 0.01f, 0},
    [IR_RNN_ACT_THRESHOLDED_RELU] = {"ThresholdedRelu", true, false, 1.0f, 0},
    [IR_RNN_ACT_SCALED_TANH] = {"ScaledTanh", true, true, 1.0f, 1.0f},
    [IR_RNN_ACT_HARD_SIGMOID] = {"HardSigmoid", true, true, 0.2f, 0.5f},
    [IR_RNN_ACT_ELU] = {"Elu", true, false, 1.0f, 0},
    [IR_RNN_ACT_SOFTSIGN] = {"Softsign", false, false, 0, 0},
    [IR_RNN_ACT_SOFTPLUS] = {"Softplus", false, false, 0, 0},
};

static bool name_eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

static bool rnn_act_lookup(const char *name, ir_rnn_act *out)
{
    for (int i = 0; i < IR_RNN_ACT_COUNT; i++)
        if (name_eq_nocase(name, rnn_act_table[i].name)) {
            *out = (ir_rnn_act)i;
            return true;
        }
    return false;
}

/* direction, layout, clip and the op-specific flags. */
static loom_status rnn_attrs(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d)
{
    const char *dir = ir_attr_string(n, "direction", "forward");
    if (strcmp(dir, "forward") && strcmp(dir, "reverse") && strcmp(dir, "bidirectional")) {
        ir_diag_node(d, g, n, "direction \"%s\" is not forward, reverse or bidirectional", dir);
        return LOOM_STATUS_INVALID_MODEL;
    }
    geom->num_directions = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
    geom->reverse = strcmp(dir, "reverse") == 0;
    int64_t layout = ir_attr_int(n, "layout", 0);
    if (layout != 0 && layout != 1) {
        ir_diag_node(d, g, n, "layout %lld is not 0 or 1", (long long)layout);
        return LOOM_STATUS_INVALID_MODEL;
    }
    geom->layout = (int)layout;
    geom->has_clip = ir_node_find_attr(n, "clip") != NULL;
    geom->clip = ir_attr_float(n, "clip", 0.0f);
    if (geom->has_clip && !(geom->clip >= 0)) {
        ir_diag_node(d, g, n, "clip %g is not a threshold >= 0", (double)geom->clip);
        return LOOM_STATUS_INVALID_MODEL;
    }
    geom->input_forget = n->op == IR_OP_LSTM && ir_attr_int(n, "input_forget", 0) != 0;
    geom->linear_before_reset = n->op == IR_OP_GRU && ir_attr_int(n, "linear_before_reset", 0) != 0;
    return LOOM_STATUS_OK;
}

/* The op's default activations for function k of a direction. */
static ir_rnn_act rnn_default_act(ir_op op, int k)
{
    if (op == IR_OP_RNN)
        return IR_RNN_ACT_TANH;
    return k == 0 ? IR_RNN_ACT_SIGMOID : IR_RNN_ACT_TANH; /* LSTM f,g,h; GRU f,g */
}

/* Reads the `activations` names into fns[dir][k] (or the op's defaults). */
static loom_status rnn_act_names(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d)
{
    const char *const *names;
    int count = ir_attr_strings(n, "activations", &names);
    int want = geom->n_fns * geom->num_directions;
    if (count < 0) {
        for (int i = 0; i < want; i++)
            geom->fns[i / geom->n_fns][i % geom->n_fns].act = rnn_default_act(n->op, i % geom->n_fns);
        return LOOM_STATUS_OK;
    }
    /* ONNX RNN documents ["Tanh", "Tanh"] as its default; with one
     * direction only the first entry applies (as in onnxruntime) */
    if (n->op == IR_OP_RNN && geom->num_directions == 1 && count == 2)
        count = 1;
    if (count != want) {
        ir_diag_node(d, g, n, "activations has %d entries, expected %d (%d per direction, %d %s)",
                     count, want, geom->n_fns, geom->num_directions,
                     geom->num_directions == 2 ? "directions" : "direction");
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < want; i++)
        if (!rnn_act_lookup(names[i], &geom->fns[i / geom->n_fns][i % geom->n_fns].act)) {
            ir_diag_node(d, g, n,
                         "activations[%d] \"%s\" is not one of Relu, Tanh, Sigmoid, Affine, "
                         "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, "
                         "Softplus",
                         i, names[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    return LOOM_STATUS_OK;
}

/* Gives each activation its alpha/beta: activation_alpha and activation_beta
 * are consumed in order by the functions that take them (ONNX LSTM-7: "the
 * values are consumed in the order of activation functions"); the rest get
 * the defaults of the ONNX operator of the same name. */
static loom_status rnn_act_params(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d)
{
    const float *alphas = NULL, *betas = NULL;
    int na = ir_attr_floats(n, "activation_alpha", &alphas);
    int nb = ir_attr_floats(n, "activation_beta", &betas);
    int ia = 0, ib = 0;
    for (int i = 0; i < geom->n_fns * geom->num_directions; i++) {
        ir_rnn_fn *fn = &geom->fns[i / geom->n_fns][i % geom->n_fns];
        fn->alpha = rnn_act_table[fn->act].def_alpha;
        fn->beta = rnn_act_table[fn->act].def_beta;
        if (rnn_act_table[fn->act].alpha && ia < na)
            fn->alpha = alphas[ia++];
        if (rnn_act_table[fn->act].beta && ib < nb)
            fn->beta = betas[ib++];
    }
    if (ia < na || ib < nb) {
        bool a = ia < na;
        ir_diag_node(d, g, n, "activation_%s has %d values but the activations take only %d",
                     a ? "alpha" : "beta", a ? na : nb, a ? ia : ib);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Formats "[num_directions=2, 4*hidden_size=512, input_size=16]". */
static void format_expected(char *buf, size_t size, int rank, const char *const *labels,
                            const int64_t *dims)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s=%lld%s", i ? ", " : "[", labels[i],
                         (long long)dims[i], i == rank - 1 ? "]" : "");
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Reports v unless its shape is dims (rank entries, named by labels). */
static loom_status expect_shape(const ir_graph *g, const ir_node *n, ir_diag *d, const ir_value *v,
                                const char *what, int rank, const char *const *labels,
                                const int64_t *dims)
{
    ir_shape want = shape_of(rank, dims);
    if (!v || ir_shape_equal(&v->shape, &want))
        return LOOM_STATUS_OK;
    char got[SHAPE_BUF], exp[SHAPE_BUF];
    ir_shape_format(&v->shape, got, sizeof got);
    format_expected(exp, sizeof exp, rank, labels, dims);
    ir_diag_node(d, g, n, "%s has shape %s, expected %s", what, got, exp);
    return LOOM_STATUS_INVALID_MODEL;
}

/* X: rank 3, seq/batch order by layout; W, R: rank 3; hidden_size from the
 * attribute or, when absent, from R. */
static loom_status rnn_sizes(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d)
{
    const ir_value *x = n->inputs[RNN_X], *w = n->inputs[RNN_W], *r = n->inputs[RNN_R];
    if (x->shape.rank != 3) {
        ir_diag_node(d, g, n, "X has rank %d, expected 3 ([%s, input_size])", x->shape.rank,
                     geom->layout ? "batch_size, seq_length" : "seq_length, batch_size");
        return LOOM_STATUS_INVALID_MODEL;
    }
    geom->seq_length = x->shape.dims[geom->layout ? 1 : 0];
    geom->batch_size = x->shape.dims[geom->layout ? 0 : 1];
    geom->input_size = x->shape.dims[2];
    if (w->shape.rank != 3 || r->shape.rank != 3) {
        bool bad_w = w->shape.rank != 3;
        ir_diag_node(d, g, n, "%s has rank %d, expected 3", bad_w ? "W" : "R",
                     bad_w ? w->shape.rank : r->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    geom->hidden_size = ir_attr_int(n, "hidden_size", r->shape.dims[2]);
    if (geom->hidden_size <= 0) {
        ir_diag_node(d, g, n, "hidden_size %lld is not positive", (long long)geom->hidden_size);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (geom->hidden_size > INT64_MAX / 8 / geom->gates) {
        ir_diag_node(d, g, n, "hidden_size %lld is too large", (long long)geom->hidden_size);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* W, R, B and P against num_directions, hidden_size and input_size. */
static loom_status rnn_weight_shapes(const ir_graph *g, const ir_node *n, const ir_rnn_geom *geom,
                                     ir_diag *d)
{
    int64_t nd = geom->num_directions, h = geom->hidden_size, gh = geom->gates * h;
    char gl[32], bl[32];
    snprintf(gl, sizeof gl, "%d*hidden_size", geom->gates);
    snprintf(bl, sizeof bl, "%d*hidden_size", 2 * geom->gates);
    const char *glabel = geom->gates == 1 ? "hidden_size" : gl;
    loom_status st = expect_shape(g, n, d, n->inputs[RNN_W], "W", 3,
                                  (const char *[]){"num_directions", glabel, "input_size"},
                                  (int64_t[]){nd, gh, geom->input_size});
    if (!st)
        st = expect_shape(g, n, d, n->inputs[RNN_R], "R", 3,
                          (const char *[]){"num_directions", glabel, "hidden_size"},
                          (int64_t[]){nd, gh, h});
    if (!st)
        st = expect_shape(g, n, d, ir_input(n, RNN_B), "B", 2,
                          (const char *[]){"num_directions", bl}, (int64_t[]){nd, 2 * gh});
    if (!st && n->op == IR_OP_LSTM)
        st = expect_shape(g, n, d, ir_input(n, RNN_P), "P", 2,
                          (const char *[]){"num_directions", "3*hidden_size"},
                          (int64_t[]){nd, 3 * h});
    return st;
}

/* sequence_lens: [batch_size] of i32 (i64 accepted), constant values in
 * [0, seq_length]; initial_h / initial_c: [num_directions, batch_size,
 * hidden_size], batch first for layout 1. */
static loom_status rnn_state_shapes(const ir_graph *g, const ir_node *n, const ir_rnn_geom *geom,
                                    ir_diag *d)
{
    const ir_value *lens = ir_input(n, RNN_SEQ_LENS);
    if (lens && lens->dtype != IR_DTYPE_I32 && lens->dtype != IR_DTYPE_I64) {
        ir_diag_node(d, g, n, "sequence_lens has dtype %s, expected i32", ir_dtype_name(lens->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = expect_shape(g, n, d, lens, "sequence_lens", 1,
                                  (const char *[]){"batch_size"}, (int64_t[]){geom->batch_size});
    for (int64_t b = 0; !st && lens && lens->data && b < geom->batch_size; b++) {
        int64_t len = lens->dtype == IR_DTYPE_I32 ? ((const int32_t *)lens->data)[b]
                                                  : ((const int64_t *)lens->data)[b];
        if (len < 0 || len > geom->seq_length) {
            ir_diag_node(d, g, n, "sequence_lens[%lld] = %lld is outside [0, seq_length=%lld]",
                         (long long)b, (long long)len, (long long)geom->seq_length);
            st = LOOM_STATUS_INVALID_MODEL;
        }
    }
    const char *labels0[] = {"num_directions", "batch_size", "hidden_size"};
    const char *labels1[] = {"batch_size", "num_directions", "hidden_size"};
    int64_t nd = geom->num_directions, b = geom->batch_size, h = geom->hidden_size;
    int64_t dims0[] = {nd, b, h}, dims1[] = {b, nd, h};
    for (int i = RNN_INITIAL_H; !st && i <= (n->op == IR_OP_LSTM ? RNN_INITIAL_C : RNN_INITIAL_H);
         i++)
        st = expect_shape(g, n, d, ir_input(n, i), i == RNN_INITIAL_H ? "initial_h" : "initial_c",
                          3, geom->layout ? labels1 : labels0, geom->layout ? dims1 : dims0);
    return st;
}

/* X is f32 or f64; every other float input has X's dtype. */
static loom_status rnn_dtypes(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    static const char *names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
    const ir_value *x = n->inputs[RNN_X];
    loom_status st = check_dtype(g, n, d, x, "X", is_float(x->dtype), "f32 or f64");
    for (int i = 1; !st && i < n->n_inputs && i < 8; i++)
        if (i != RNN_SEQ_LENS)
            st = check_same_dtype(g, n, d, n->inputs[i], names[i], x, "X");
    return st;
}

loom_status ir_rnn_geometry(const ir_graph *g, const ir_node *n, ir_rnn_geom *geom, ir_diag *d)
{
    memset(geom, 0, sizeof *geom);
    geom->gates = n->op == IR_OP_LSTM ? 4 : n->op == IR_OP_GRU ? 3 : 1;
    geom->n_fns = n->op == IR_OP_LSTM ? 3 : n->op == IR_OP_GRU ? 2 : 1;
    loom_status st = rnn_dtypes(g, n, d);
    if (!st)
        st = rnn_attrs(g, n, geom, d);
    if (!st)
        st = rnn_act_names(g, n, geom, d);
    if (!st)
        st = rnn_act_params(g, n, geom, d);
    if (!st)
        st = rnn_sizes(g, n, geom, d);
    if (!st)
        st = rnn_weight_shapes(g, n, geom, d);
    if (!st)
        st = rnn_state_shapes(g, n, geom, d);
    return st;
}

/* ONNX LSTM-14 / GRU-14 / RNN-14 (and -7): Y is [seq_length, num_directions,
 * batch_size, hidden_size] ([batch_size, seq_length, num_directions,
 * hidden_size] for layout 1); Y_h and Y_c are [num_directions, batch_size,
 * hidden_size] ([batch_size, num_directions, hidden_size]). */
static loom_status infer_recurrent(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_rnn_geom geom;
    loom_status st = ir_rnn_geometry(g, n, &geom, d);
    if (st)
        return st;
    int64_t s = geom.seq_length, b = geom.batch_size, nd = geom.num_directions,
            h = geom.hidden_size;
    ir_shape y = geom.layout ? shape_of(4, (int64_t[]){b, s, nd, h})
                             : shape_of(4, (int64_t[]){s, nd, b, h});
    ir_shape state = geom.layout ? shape_of(3, (int64_t[]){b, nd, h})
                                 : shape_of(3, (int64_t[]){nd, b, h});
    ir_dtype t = n->inputs[RNN_X]->dtype;
    st = set_output(g, n, d, 0, t, &y);
    for (int i = 1; !st && i < n->n_outputs; i++)
        st = set_output(g, n, d, i, t, &state);
    return st;
}

loom_status ir_infer_lstm(ir_graph *g, ir_node *n, ir_diag *d)
{
    return infer_recurrent(g, n, d);
}

loom_status ir_infer_gru(ir_graph *g, ir_node *n, ir_diag *d)
{
    return infer_recurrent(g, n, d);
}

loom_status ir_infer_rnn(ir_graph *g, ir_node *n, ir_diag *d)
{
    return infer_recurrent(g, n, d);
}
