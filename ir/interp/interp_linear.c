/*
 * Interpreter kernels for Gemm, MatMul, Softmax/LogSoftmax,
 * LayerNormalization, LSTM, GRU and RNN: the reference the backends are
 * held to, so they are plain loops over the ONNX formulas.
 *
 * Arithmetic is done in double whatever the tensor dtype (f32 results are
 * rounded once, at the store). Operands that are read many times (matrix
 * operands, RNN weights and states) are first converted into double scratch
 * buffers; integer Gemm/MatMul therefore are exact while partial sums stay
 * below 2^53, and out-of-range integer results saturate.
 */
#include <math.h>
#include <string.h>

#include "interp_internal.h"

/* ---- scratch memory ---- */

#define SCRATCH_MAX 16

/* Every block a kernel allocates, freed together by scratch_free. */
typedef struct scratch {
    void *blocks[SCRATCH_MAX];
    int n;
    bool failed;
} scratch;

/* Zeroed count * elem bytes; NULL (and s->failed) on failure. */
static void *scratch_alloc(scratch *s, int64_t count, size_t elem)
{
    if (s->n == SCRATCH_MAX || count < 0) {
        s->failed = true;
        return NULL;
    }
    void *p = ir_calloc(count > 0 ? (size_t)count : 1, elem);
    if (!p) {
        s->failed = true;
        return NULL;
    }
    s->blocks[s->n++] = p;
    return p;
}

static void scratch_free(scratch *s)
{
    for (int i = 0; i < s->n; i++)
        ir_free(s->blocks[i]);
    s->n = 0;
}

static loom_status scratch_fail(interp_ctx *c, const ir_node *n, scratch *s)
{
    scratch_free(s);
    ir_diag_node(c->d, c->g, n, "out of memory for scratch buffers");
    return LOOM_STATUS_NOMEM;
}

/* Input i converted to double; NULL when the input is omitted (or on
 * allocation failure, which sets s->failed). */
static double *load_input(scratch *s, const interp_ctx *c, const ir_node *n, int i)
{
    const void *p = interp_in(c, n, i);
    if (!p)
        return NULL;
    const ir_value *v = n->inputs[i];
    int64_t count = ir_shape_numel(&v->shape);
    double *out = scratch_alloc(s, count, sizeof(double));
    for (int64_t k = 0; out && k < count; k++)
        out[k] = interp_load_f(p, v->dtype, k);
    return out;
}

/* Stores x into element i of a tensor of dtype t; integer dtypes saturate
 * (and NaN becomes 0) instead of overflowing the conversion. */
static void store_value(void *p, ir_dtype t, int64_t i, double x)
{
    if (t == IR_DTYPE_F32 || t == IR_DTYPE_F64) {
        interp_store_f(p, t, i, x);
        return;
    }
    double lo = t == IR_DTYPE_I32 ? -2147483648.0 : -9223372036854775808.0;
    double hi = t == IR_DTYPE_I32 ? 2147483647.0 : 9223372036854774784.0;
    x = isnan(x) ? 0 : x < lo ? lo : x > hi ? hi : x;
    interp_store_i(p, t, i, (int64_t)x);
}

/* Offset, under strides str, of the element at flat row-major index f of
 * shape s. */
static int64_t strided_offset(int64_t f, const ir_shape *s, const int64_t *str)
{
    int64_t off = 0;
    for (int i = s->rank - 1; i >= 0; i--) {
        off += (f % s->dims[i]) * str[i];
        f /= s->dims[i];
    }
    return off;
}

/* ---- Gemm, MatMul ---- */

/* ONNX Gemm-13: Y[i,j] = alpha * sum_k A'[i,k] * B'[k,j] + beta * C[i,j],
 * A' = transA ? A^T : A, B' = transB ? B^T : B, C broadcast to [M, N]. */
loom_status interp_gemm(interp_ctx *c, const ir_node *n)
{
    const ir_value *av = n->inputs[0], *bv = n->inputs[1], *cv = ir_input(n, 2);
    bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
    double alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
    int64_t m = av->shape.dims[ta ? 1 : 0], k = av->shape.dims[ta ? 0 : 1];
    int64_t nn = bv->shape.dims[tb ? 0 : 1];
    scratch s = {0};
    const double *a = load_input(&s, c, n, 0), *b = load_input(&s, c, n, 1);
    const double *cm = load_input(&s, c, n, 2);
    double *row = scratch_alloc(&s, nn, sizeof(double));
    if (s.failed)
        return scratch_fail(c, n, &s);
    ir_shape y_shape = n->outputs[0]->shape;
    int64_t cstr[IR_MAX_RANK] = {0};
    if (cv)
        ir_bcast_strides(&cv->shape, &y_shape, cstr);
    void *y = interp_out(c, n, 0);
    for (int64_t i = 0; i < m; i++) {
        memset(row, 0, (size_t)nn * sizeof *row);
        for (int64_t kk = 0; kk < k; kk++) {
            double aik = a[ta ? kk * m + i : i * k + kk];
            for (int64_t j = 0; j < nn; j++)
                row[j] += aik * b[tb ? j * k + kk : kk * nn + j];
        }
        for (int64_t j = 0; j < nn; j++) {
            double v = alpha * row[j] + (cm ? beta * cm[i * cstr[0] + j * cstr[1]] : 0.0);
            store_value(y, av->dtype, i * nn + j, v);
        }
    }
    scratch_free(&s);
    return LOOM_STATUS_OK;
}

/* Y[mm*nn] = A[mm*kk] * B[kk*nn] for one batch entry; row is nn scratch. */
static void matmul_block(const double *a, const double *b, int64_t mm, int64_t kk, int64_t nn,
                         double *row, void *y, ir_dtype t, int64_t y_off)
{
    for (int64_t i = 0; i < mm; i++) {
        memset(row, 0, (size_t)nn * sizeof *row);
        for (int64_t k = 0; k < kk; k++) {
            double aik = a[i * kk + k];
            for (int64_t j = 0; j < nn; j++)
                row[j] += aik * b[k * nn + j];
        }
        for (int64_t j = 0; j < nn; j++)
            store_value(y, t, y_off + i * nn + j, row[j]);
    }
}

/* Strides, in whole matrices, of operand s's batch dims laid over the
 * output's batch shape (0 on broadcast dims). */
static void batch_strides(const ir_shape *s, const ir_shape *out_batch, int64_t str[IR_MAX_RANK])
{
    ir_shape batch = {.rank = s->rank >= 2 ? s->rank - 2 : 0};
    for (int i = 0; i < batch.rank; i++)
        batch.dims[i] = s->dims[i];
    ir_bcast_strides(&batch, out_batch, str);
}

/* ONNX MatMul-13 (numpy.matmul): a 1-D A is [1, K], a 1-D B is [K, 1];
 * leading dims broadcast; each batch entry is a plain [M,K] x [K,N]. */
loom_status interp_mat_mul(interp_ctx *c, const ir_node *n)
{
    const ir_shape *sa = &n->inputs[0]->shape, *sb = &n->inputs[1]->shape;
    int64_t mm = sa->rank >= 2 ? sa->dims[sa->rank - 2] : 1, kk = sa->dims[sa->rank - 1];
    int64_t nn = sb->rank >= 2 ? sb->dims[sb->rank - 1] : 1;
    const ir_shape *so = &n->outputs[0]->shape;
    ir_shape out_batch = {.rank = so->rank - (sa->rank >= 2) - (sb->rank >= 2)};
    for (int i = 0; i < out_batch.rank; i++)
        out_batch.dims[i] = so->dims[i];
    int64_t astr[IR_MAX_RANK], bstr[IR_MAX_RANK];
    batch_strides(sa, &out_batch, astr);
    batch_strides(sb, &out_batch, bstr);
    scratch s = {0};
    const double *a = load_input(&s, c, n, 0), *b = load_input(&s, c, n, 1);
    double *row = scratch_alloc(&s, nn, sizeof(double));
    if (s.failed)
        return scratch_fail(c, n, &s);
    int64_t nbatch = ir_shape_numel(&out_batch);
    for (int64_t bi = 0; bi < nbatch; bi++) {
        int64_t ao = strided_offset(bi, &out_batch, astr), bo = strided_offset(bi, &out_batch, bstr);
        matmul_block(a + ao * mm * kk, b + bo * kk * nn, mm, kk, nn, row, interp_out(c, n, 0),
                     n->outputs[0]->dtype, bi * mm * nn);
    }
    scratch_free(&s);
    return LOOM_STATUS_OK;
}

/* ---- Softmax, LogSoftmax ---- */

/* ONNX Softmax-13: y = exp(x - max) / sum(exp(x - max)) over the reduced
 * elements; LogSoftmax-13: y = (x - max) - log(sum(exp(x - max))). The
 * coerce_2d form (opsets 1-12) differs only in what is reduced, which
 * ir_softmax_geometry resolves. */
loom_status interp_softmax(interp_ctx *c, const ir_node *n)
{
    const ir_value *xv = n->inputs[0];
    int64_t outer, len, inner;
    if (!ir_softmax_geometry(n, &xv->shape, &outer, &len, &inner)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range (shape inference was not run?)");
        return LOOM_STATUS_INTERNAL;
    }
    bool log_out = n->op == IR_OP_LOG_SOFTMAX;
    const void *x = interp_in(c, n, 0);
    void *y = interp_out(c, n, 0);
    ir_dtype t = xv->dtype;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * len * inner + in;
            double mx = -INFINITY, sum = 0;
            for (int64_t k = 0; k < len; k++)
                mx = fmax(mx, interp_load_f(x, t, base + k * inner));
            for (int64_t k = 0; k < len; k++)
                sum += exp(interp_load_f(x, t, base + k * inner) - mx);
            double log_sum = log(sum);
            for (int64_t k = 0; k < len; k++) {
                double e = interp_load_f(x, t, base + k * inner) - mx;
                interp_store_f(y, t, base + k * inner, log_out ? e - log_sum : exp(e) / sum);
            }
        }
    return LOOM_STATUS_OK;
}

/* ---- LayerNormalization ---- */

/* Normalizes row r (cols elements) of X into Y and records its statistics. */
static void layer_norm_row(const interp_ctx *c, const ir_node *n, int64_t r, int64_t cols,
                           const int64_t *sstr, const int64_t *bstr)
{
    const ir_value *xv = n->inputs[0];
    const void *x = interp_in(c, n, 0), *scale = interp_in(c, n, 1), *bias = interp_in(c, n, 2);
    ir_dtype t = xv->dtype;
    double eps = ir_attr_float(n, "epsilon", 1e-5f), mean = 0, var = 0;
    for (int64_t j = 0; j < cols; j++)
        mean += interp_load_f(x, t, r * cols + j);
    mean /= (double)cols;
    for (int64_t j = 0; j < cols; j++) {
        double dx = interp_load_f(x, t, r * cols + j) - mean;
        var += dx * dx;
    }
    var /= (double)cols;
    double inv = 1.0 / sqrt(var + eps);
    for (int64_t j = 0; j < cols; j++) {
        int64_t f = r * cols + j;
        double v = (interp_load_f(x, t, f) - mean) * inv *
                   interp_load_f(scale, t, strided_offset(f, &xv->shape, sstr));
        if (bias)
            v += interp_load_f(bias, t, strided_offset(f, &xv->shape, bstr));
        interp_store_f(interp_out(c, n, 0), t, f, v);
    }
    if (interp_out(c, n, 1))
        interp_store_f(interp_out(c, n, 1), n->outputs[1]->dtype, r, mean);
    if (interp_out(c, n, 2))
        interp_store_f(interp_out(c, n, 2), n->outputs[2]->dtype, r, inv);
}

/* ONNX LayerNormalization-17: per row of X flattened to 2-D at axis,
 * Y = (X - mean) / sqrt(var + epsilon) * Scale + B (population variance;
 * Scale and B broadcast to X); Mean and InvStdDev are per row. */
loom_status interp_layer_normalization(interp_ctx *c, const ir_node *n)
{
    const ir_shape *xs = &n->inputs[0]->shape;
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", -1), xs->rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range (shape inference was not run?)");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t rows = 1, cols = 1;
    for (int i = 0; i < xs->rank; i++)
        *(i < axis ? &rows : &cols) *= xs->dims[i];
    int64_t sstr[IR_MAX_RANK], bstr[IR_MAX_RANK] = {0};
    ir_bcast_strides(&n->inputs[1]->shape, xs, sstr);
    if (ir_input(n, 2))
        ir_bcast_strides(&n->inputs[2]->shape, xs, bstr);
    for (int64_t r = 0; r < rows; r++)
        layer_norm_row(c, n, r, cols, sstr, bstr);
    return LOOM_STATUS_OK;
}

/* ---- LSTM, GRU, RNN ---- */

enum { RNN_X, RNN_W, RNN_R, RNN_B, RNN_SEQ_LENS, RNN_INITIAL_H, RNN_INITIAL_C, RNN_P };

/* The activation functions of ONNX LSTM-7 / GRU-7 / RNN-7. */
static double activate(const ir_rnn_fn *fn, double x)
{
    double a = fn->alpha, b = fn->beta;
    switch (fn->act) {
    case IR_RNN_ACT_RELU: return x > 0 ? x : 0;
    case IR_RNN_ACT_TANH: return tanh(x);
    case IR_RNN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case IR_RNN_ACT_AFFINE: return a * x + b;
    case IR_RNN_ACT_LEAKY_RELU: return x >= 0 ? x : a * x;
    case IR_RNN_ACT_THRESHOLDED_RELU: return x >= a ? x : 0;
    case IR_RNN_ACT_SCALED_TANH: return a * tanh(b * x);
    case IR_RNN_ACT_HARD_SIGMOID: return fmin(fmax(a * x + b, 0.0), 1.0);
    case IR_RNN_ACT_ELU: return x >= 0 ? x : a * expm1(x);
    case IR_RNN_ACT_SOFTSIGN: return x / (1.0 + fabs(x));
    case IR_RNN_ACT_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case IR_RNN_ACT_COUNT: break;
    }
    return x;
}

/* Everything one direction's recurrence reads and writes. Inputs are in
 * double; h and cell are the running state [batch, hidden]. */
typedef struct rnn_data {
    const ir_rnn_geom *g;
    const double *x, *w, *r, *b, *h0, *c0, *p;
    int64_t *lens;   /* per batch entry, in [0, seq_length] */
    double *h, *cell;
    double *xw, *hr; /* gates*hidden pre-activations: W x + Wb, R h + Rb */
    double *gate;    /* gates*hidden activated gate values */
    double *tmp;     /* hidden */
} rnn_data;

/* "clip: bounds the elements of a tensor in the range of [-threshold,
 * +threshold] and is applied to the input of activations." */
static double clip(const ir_rnn_geom *g, double x)
{
    if (!g->has_clip)
        return x;
    return x > g->clip ? g->clip : x < -g->clip ? -g->clip : x;
}

/* out[i] = bias[i] + sum_k m[i * cols + k] * v[k] for i < rows. */
static void matvec(const double *m, const double *v, const double *bias, int64_t rows, int64_t cols,
                   double *out)
{
    for (int64_t i = 0; i < rows; i++) {
        double acc = bias ? bias[i] : 0;
        for (int64_t k = 0; k < cols; k++)
            acc += m[i * cols + k] * v[k];
        out[i] = acc;
    }
}

/* Offsets of X[t, b, :], Y[t, dir, b, :] and Y_h[dir, b, :] per layout. */
static int64_t x_offset(const ir_rnn_geom *g, int64_t t, int64_t b)
{
    return (g->layout ? b * g->seq_length + t : t * g->batch_size + b) * g->input_size;
}

static int64_t y_offset(const ir_rnn_geom *g, int64_t t, int dir, int64_t b)
{
    int64_t nd = g->num_directions;
    return (g->layout ? (b * g->seq_length + t) * nd + dir : (t * nd + dir) * g->batch_size + b) *
           g->hidden_size;
}

static int64_t state_offset(const ir_rnn_geom *g, int dir, int64_t b)
{
    return (g->layout ? b * g->num_directions + dir : dir * g->batch_size + b) * g->hidden_size;
}

/* xw = W[dir] X[t,b] + Wb[dir] (all gates); hr = R[dir] h[b] + Rb[dir] for
 * the first hr_rows rows. */
static void rnn_linear(rnn_data *rd, int dir, int64_t t, int64_t b, int64_t hr_rows)
{
    const ir_rnn_geom *g = rd->g;
    int64_t h = g->hidden_size, gh = g->gates * h;
    const double *wb = rd->b ? rd->b + dir * 2 * gh : NULL;
    matvec(rd->w + dir * gh * g->input_size, rd->x + x_offset(g, t, b), wb, gh, g->input_size,
           rd->xw);
    matvec(rd->r + dir * gh * h, rd->h + b * h, wb ? wb + gh : NULL, hr_rows, h, rd->hr);
}

/* ONNX LSTM-14, gates iofc, peepholes iof:
 *   i = f(Xt Wi + Ht-1 Ri + Pi . Ct-1 + Wbi + Rbi)
 *   f = f(Xt Wf + Ht-1 Rf + Pf . Ct-1 + Wbf + Rbf)   (1 - i with input_forget)
 *   c = g(Xt Wc + Ht-1 Rc + Wbc + Rbc),   Ct = f . Ct-1 + i . c
 *   o = f(Xt Wo + Ht-1 Ro + Po . Ct + Wbo + Rbo),   Ht = o . h(Ct) */
static void lstm_step(rnn_data *rd, int dir, int64_t t, int64_t b)
{
    const ir_rnn_geom *g = rd->g;
    int64_t h = g->hidden_size;
    rnn_linear(rd, dir, t, b, 4 * h);
    const ir_rnn_fn *ff = &g->fns[dir][0], *fg = &g->fns[dir][1], *fh = &g->fns[dir][2];
    const double *p = rd->p ? rd->p + dir * 3 * h : NULL, *xw = rd->xw, *hr = rd->hr;
    double *hs = rd->h + b * h, *cs = rd->cell + b * h;
    for (int64_t j = 0; j < h; j++) {
        double in = activate(ff, clip(g, xw[j] + hr[j] + (p ? p[j] * cs[j] : 0)));
        double fo = g->input_forget
                        ? 1.0 - in
                        : activate(ff, clip(g, xw[2 * h + j] + hr[2 * h + j] +
                                                   (p ? p[2 * h + j] * cs[j] : 0)));
        double cc = activate(fg, clip(g, xw[3 * h + j] + hr[3 * h + j]));
        double cn = fo * cs[j] + in * cc;
        double o = activate(ff, clip(g, xw[h + j] + hr[h + j] + (p ? p[h + j] * cn : 0)));
        cs[j] = cn;
        hs[j] = o * activate(fh, cn);
    }
}

/* ONNX GRU-14, gates zrh:
 *   z = f(Xt Wz + Ht-1 Rz + Wbz + Rbz),  r = f(Xt Wr + Ht-1 Rr + Wbr + Rbr)
 *   h = g(Xt Wh + (r . Ht-1) Rh + Rbh + Wbh)      linear_before_reset = 0
 *   h = g(Xt Wh + r . (Ht-1 Rh + Rbh) + Wbh)      linear_before_reset != 0
 *   Ht = (1 - z) . h + z . Ht-1 */
static void gru_step(rnn_data *rd, int dir, int64_t t, int64_t b)
{
    const ir_rnn_geom *g = rd->g;
    int64_t h = g->hidden_size;
    bool lbr = g->linear_before_reset;
    rnn_linear(rd, dir, t, b, lbr ? 3 * h : 2 * h);
    const ir_rnn_fn *ff = &g->fns[dir][0], *fg = &g->fns[dir][1];
    double *z = rd->gate, *r = rd->gate + h, *hs = rd->h + b * h, *hr_h = rd->hr + 2 * h;
    for (int64_t j = 0; j < 2 * h; j++)
        rd->gate[j] = activate(ff, clip(g, rd->xw[j] + rd->hr[j]));
    if (lbr) {
        for (int64_t j = 0; j < h; j++)
            hr_h[j] *= r[j];
    } else {
        const double *rb = rd->b ? rd->b + dir * 6 * h + 5 * h : NULL;
        for (int64_t j = 0; j < h; j++)
            rd->tmp[j] = r[j] * hs[j];
        matvec(rd->r + (dir * 3 * h + 2 * h) * h, rd->tmp, rb, h, h, hr_h);
    }
    for (int64_t j = 0; j < h; j++) {
        double hc = activate(fg, clip(g, rd->xw[2 * h + j] + hr_h[j]));
        hs[j] = (1.0 - z[j]) * hc + z[j] * hs[j];
    }
}

/* ONNX RNN-14: Ht = f(Xt Wi + Ht-1 Ri + Wbi + Rbi). */
static void rnn_step(rnn_data *rd, int dir, int64_t t, int64_t b)
{
    const ir_rnn_geom *g = rd->g;
    int64_t h = g->hidden_size;
    rnn_linear(rd, dir, t, b, h);
    double *hs = rd->h + b * h;
    for (int64_t j = 0; j < h; j++)
        hs[j] = activate(&g->fns[dir][0], clip(g, rd->xw[j] + rd->hr[j]));
}

typedef void (*rnn_step_fn)(rnn_data *rd, int dir, int64_t t, int64_t b);

/* Runs direction dir over every batch entry. Entry b covers steps
 * [0, lens[b]): forward from 0, reverse from lens[b] - 1 down to 0. Y rows
 * past lens[b] stay zero; Y_h / Y_c are the state after the last step run
 * (zero when lens[b] is 0, as onnxruntime does). */
static void rnn_direction(rnn_data *rd, const interp_ctx *c, const ir_node *n, int dir,
                          rnn_step_fn step)
{
    const ir_rnn_geom *g = rd->g;
    int64_t h = g->hidden_size, nb = g->batch_size, seq = g->seq_length;
    bool rev = g->reverse || dir == 1;
    for (int64_t b = 0; b < nb; b++)
        for (int64_t j = 0; j < h; j++) {
            rd->h[b * h + j] = rd->h0 ? rd->h0[state_offset(g, dir, b) + j] : 0;
            rd->cell[b * h + j] = rd->c0 ? rd->c0[state_offset(g, dir, b) + j] : 0;
        }
    ir_dtype dt = n->inputs[RNN_X]->dtype;
    void *y = interp_out(c, n, 0), *yh = interp_out(c, n, 1), *yc = interp_out(c, n, 2);
    for (int64_t s = 0; s < seq; s++) {
        int64_t t = rev ? seq - 1 - s : s;
        for (int64_t b = 0; b < nb; b++) {
            if (t >= rd->lens[b])
                continue;
            step(rd, dir, t, b);
            for (int64_t j = 0; y && j < h; j++)
                interp_store_f(y, dt, y_offset(g, t, dir, b) + j, rd->h[b * h + j]);
        }
    }
    for (int64_t b = 0; b < nb; b++)
        for (int64_t j = 0; j < h; j++) {
            bool ran = rd->lens[b] > 0;
            if (yh)
                interp_store_f(yh, dt, state_offset(g, dir, b) + j, ran ? rd->h[b * h + j] : 0);
            if (yc)
                interp_store_f(yc, dt, state_offset(g, dir, b) + j, ran ? rd->cell[b * h + j] : 0);
        }
}

/* Fills rd->lens from sequence_lens (or seq_length); reports values
 * outside [0, seq_length]. */
static loom_status rnn_lens(rnn_data *rd, interp_ctx *c, const ir_node *n)
{
    const void *p = interp_in(c, n, RNN_SEQ_LENS);
    for (int64_t b = 0; b < rd->g->batch_size; b++) {
        int64_t len = p ? interp_load_i(p, n->inputs[RNN_SEQ_LENS]->dtype, b) : rd->g->seq_length;
        if (len < 0 || len > rd->g->seq_length) {
            ir_diag_node(c->d, c->g, n, "sequence_lens[%lld] = %lld is outside [0, seq_length=%lld]",
                         (long long)b, (long long)len, (long long)rd->g->seq_length);
            return LOOM_STATUS_INVALID_MODEL;
        }
        rd->lens[b] = len;
    }
    return LOOM_STATUS_OK;
}

/* Loads the inputs in double and allocates the state and gate buffers. */
static void rnn_alloc(rnn_data *rd, scratch *s, const interp_ctx *c, const ir_node *n)
{
    const ir_rnn_geom *g = rd->g;
    int64_t bh = g->batch_size * g->hidden_size, gh = g->gates * g->hidden_size;
    rd->x = load_input(s, c, n, RNN_X);
    rd->w = load_input(s, c, n, RNN_W);
    rd->r = load_input(s, c, n, RNN_R);
    rd->b = load_input(s, c, n, RNN_B);
    rd->h0 = load_input(s, c, n, RNN_INITIAL_H);
    if (n->op == IR_OP_LSTM) {
        rd->c0 = load_input(s, c, n, RNN_INITIAL_C);
        rd->p = load_input(s, c, n, RNN_P);
    }
    rd->lens = scratch_alloc(s, g->batch_size, sizeof(int64_t));
    rd->h = scratch_alloc(s, bh, sizeof(double));
    rd->cell = scratch_alloc(s, bh, sizeof(double));
    rd->xw = scratch_alloc(s, gh, sizeof(double));
    rd->hr = scratch_alloc(s, gh, sizeof(double));
    rd->gate = scratch_alloc(s, gh, sizeof(double));
    rd->tmp = scratch_alloc(s, g->hidden_size, sizeof(double));
}

/* Shared driver of LSTM, GRU and RNN: resolve, load, run each direction. */
static loom_status run_recurrent(interp_ctx *c, const ir_node *n, rnn_step_fn step)
{
    ir_rnn_geom geom;
    loom_status st = ir_rnn_geometry(c->g, n, &geom, c->d);
    if (st)
        return st;
    scratch s = {0};
    rnn_data rd = {.g = &geom};
    rnn_alloc(&rd, &s, c, n);
    if (s.failed)
        return scratch_fail(c, n, &s);
    st = rnn_lens(&rd, c, n);
    if (!st) {
        if (interp_out(c, n, 0)) /* rows past sequence_lens must read 0 */
            memset(interp_out(c, n, 0), 0, ir_value_bytes(n->outputs[0]));
        for (int dir = 0; dir < geom.num_directions; dir++)
            rnn_direction(&rd, c, n, dir, step);
    }
    scratch_free(&s);
    return st;
}

loom_status interp_lstm(interp_ctx *c, const ir_node *n)
{
    return run_recurrent(c, n, lstm_step);
}

loom_status interp_gru(interp_ctx *c, const ir_node *n)
{
    return run_recurrent(c, n, gru_step);
}

loom_status interp_rnn(interp_ctx *c, const ir_node *n)
{
    return run_recurrent(c, n, rnn_step);
}
