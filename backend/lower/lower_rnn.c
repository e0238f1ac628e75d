/*
 * Lowering of LSTM, GRU and RNN (semantics: ir/interp/interp_linear.c, ONNX
 * LSTM-14 / GRU-14 / RNN-14; attributes resolved by ir_rnn_geometry).
 *
 * X is read as a matrix [rows, input_size] whose rows are (t, b) pairs in
 * X's order ((t, b) for layout 0, (b, t) for layout 1). Per node:
 *   1. XW[rows, nd * G * H] = X W^T for every time step and direction in
 *      one SGEMM, on top of the biases Wb + Rb stored first (GRU with
 *      linear_before_reset: Wb only for the h gate, Rbh is added later).
 *   2. Per direction, the state H (and C) [batch, hidden] in scratch is set
 *      from initial_h / initial_c (or 0), then a loop over steps s with
 *      t = s (forward) or seq_length - 1 - s (reverse), an affine index:
 *        - one SGEMM adds H R^T into the step's rows of XW (beta 1, the row
 *          stride of XW as ldc), so XW holds the gate pre-activations;
 *          GRU keeps its h gate apart: a second SGEMM per step adds
 *          (r . H) Rh^T into XW (linear_before_reset = 0) or puts H Rh^T
 *          into scratch for r . (H Rh^T + Rbh) (linear_before_reset = 1);
 *        - elementwise gate loops over [batch, hidden] (hidden innermost)
 *          update the state and store Y[t].
 *   3. Y_h / Y_c from the final state.
 * sequence_lens, unless absent or constant with every entry seq_length,
 * guards each batch entry's update with `if (t < len[b])`: Y is zeroed
 * first and Y_h / Y_c are 0 where len is 0. For the reverse direction this
 * is the same guard: t runs down from seq_length - 1, so entry b starts at
 * t = len[b] - 1, as in the interpreter. Lengths outside [0, seq_length]
 * are a data error (LOOP_ERROR_SEQ_LEN), as the interpreter reports them;
 * lowered unchecked they act as clamped into that range.
 * Only f32 is lowered (the SGEMM kernel is f32).
 */
#include <string.h>

#include "lower_internal.h"

enum { RNN_X, RNN_W, RNN_R, RNN_B, RNN_SEQ_LENS, RNN_INITIAL_H, RNN_INITIAL_C, RNN_P };

/* Roles of the scalar locals of a node (shared by its directions): the
 * argument of an activation that reads it twice, then the gate values
 * (LSTM i f g c o h; GRU z r h~ reuse the first three). */
enum { L_ARG, L_I, L_F, L_G, L_C, L_O, L_H, L_COUNT };
enum { L_Z = L_I, L_R = L_F, L_HH = L_G };

/* Everything the emitters of one node share. */
typedef struct rnn_low {
    lower_ctx *c;
    loop_func *f;
    const ir_node *n;
    ir_rnn_geom g;
    int64_t S, B, I, H, GH, ldx; /* ldx: row length of XW, nd * G * H */
    int64_t row_t, row_b;        /* XW row of (t, b) = t * row_t + b * row_b */
    loop_buf *x, *w, *r, *bias, *lens, *h0, *c0, *p; /* inputs (NULL if omitted) */
    loop_buf *y, *yh, *yc;                         /* outputs (NULL if omitted) */
    loop_buf *xw, *h, *cell, *tmp;                 /* scratch */
    bool masked;
    int locals[L_COUNT]; /* scalar temporaries by role, -1 until first used */
} rnn_low;

/* The time index of a step: t = s, or S - 1 - s in reverse. */
typedef struct tpos {
    int var;
    bool rev;
    int64_t S;
} tpos;

/* ---- loops and indices ---- */

/* A loop over [0, extent) appended to b; returns its body. A loop of one
 * iteration is left out: *var is -1 and index helpers skip it. */
static loop_block *rloop(rnn_low *rl, loop_block *b, int64_t extent, int *var)
{
    *var = -1;
    if (extent == 1)
        return b;
    *var = loop_var_new(rl->f);
    return &loop_for(rl->f, b, *var, extent)->body;
}

/* idx += coef * var (nothing for an elided loop). */
static void iadd(loop_index *idx, int var, int64_t coef)
{
    if (var >= 0)
        loop_idx_add(idx, var, coef);
}

static loop_index idx1(int var, int64_t coef, int64_t offset)
{
    loop_index idx = loop_idx_const(offset);
    iadd(&idx, var, coef);
    return idx;
}

/* idx += coef * t. */
static void add_t(loop_index *idx, const tpos *t, int64_t coef)
{
    if (t->rev) {
        idx->offset += coef * (t->S - 1);
        iadd(idx, t->var, -coef);
    } else {
        iadd(idx, t->var, coef);
    }
}

/* Pre-activation of gate q at (t, b, j) of direction d in XW. */
static loop_index pre_idx(const rnn_low *rl, int d, const tpos *t, int vb, int vj, int q)
{
    loop_index idx = idx1(vb, rl->row_b * rl->ldx, d * rl->GH + q * rl->H);
    add_t(&idx, t, rl->row_t * rl->ldx);
    iadd(&idx, vj, 1);
    return idx;
}

/* Element (b, j) of a [batch, hidden] scratch state. */
static loop_index bh_idx(const rnn_low *rl, int vb, int vj)
{
    loop_index idx = idx1(vb, rl->H, 0);
    iadd(&idx, vj, 1);
    return idx;
}

/* Element (d, b, j) of initial_h/c and Y_h/c ([batch, nd, hidden] for
 * layout 1). */
static loop_index state_idx(const rnn_low *rl, int d, int vb, int vj)
{
    int64_t nd = rl->g.num_directions;
    loop_index idx = rl->g.layout ? idx1(vb, nd * rl->H, d * rl->H)
                                   : idx1(vb, rl->H, d * rl->B * rl->H);
    iadd(&idx, vj, 1);
    return idx;
}

/* Element (t, d, b, j) of Y ([batch, seq, nd, hidden] for layout 1). */
static loop_index y_idx(const rnn_low *rl, int d, const tpos *t, int vb, int vj)
{
    int64_t nd = rl->g.num_directions, H = rl->H;
    loop_index idx;
    if (rl->g.layout) {
        idx = idx1(vb, rl->S * nd * H, d * H);
        add_t(&idx, t, nd * H);
    } else {
        idx = idx1(vb, H, d * rl->B * H);
        add_t(&idx, t, nd * rl->B * H);
    }
    iadd(&idx, vj, 1);
    return idx;
}

/* ---- expressions ---- */

static loop_expr *fc(const rnn_low *rl, double v)
{
    return loop_const_f(rl->f, IR_DTYPE_F32, v);
}

static loop_expr *bin(const rnn_low *rl, loop_binop op, loop_expr *a, loop_expr *b)
{
    return loop_binary(rl->f, op, a, b);
}

static loop_expr *un(const rnn_low *rl, loop_unop op, loop_expr *a)
{
    return loop_unary(rl->f, op, a);
}

static loop_expr *rd(const rnn_low *rl, int local)
{
    return loop_local_read(rl->f, local);
}

/* The f32 local for role k (L_*), made on first use. */
static int local_of(rnn_low *rl, int k)
{
    if (rl->locals[k] < 0)
        rl->locals[k] = loop_local_new(rl->f, IR_DTYPE_F32);
    return rl->locals[k];
}

/* "clip: ... applied to the input of activations": x into [-clip, clip]. */
static loop_expr *clip(const rnn_low *rl, loop_expr *x)
{
    if (!rl->g.has_clip)
        return x;
    x = bin(rl, LOOP_BINOP_MAX, x, fc(rl, -rl->g.clip));
    return bin(rl, LOOP_BINOP_MIN, x, fc(rl, rl->g.clip));
}

/* Whether the formula of act reads its argument more than once. */
static bool act_repeats_x(ir_rnn_act act)
{
    return act == IR_RNN_ACT_LEAKY_RELU || act == IR_RNN_ACT_THRESHOLDED_RELU ||
           act == IR_RNN_ACT_ELU || act == IR_RNN_ACT_SOFTSIGN || act == IR_RNN_ACT_SOFTPLUS;
}

/* The activation functions of ONNX LSTM-7 / GRU-7 / RNN-7 with their
 * alpha / beta (defaults resolved by ir_rnn_geometry). */
static loop_expr *act_formula(const rnn_low *rl, const ir_rnn_fn *fn, loop_expr *x)
{
    loop_expr *a = fc(rl, fn->alpha), *b = fc(rl, fn->beta), *zero = fc(rl, 0), *one = fc(rl, 1);
    switch (fn->act) {
    case IR_RNN_ACT_RELU: return bin(rl, LOOP_BINOP_MAX, x, zero);
    case IR_RNN_ACT_TANH: return lower_tanh(rl->f, x);
    case IR_RNN_ACT_SIGMOID:
        return bin(rl, LOOP_BINOP_DIV, one,
                   bin(rl, LOOP_BINOP_ADD, one, lower_exp(rl->f, un(rl, LOOP_UNOP_NEG, x))));
    case IR_RNN_ACT_AFFINE: return bin(rl, LOOP_BINOP_ADD, bin(rl, LOOP_BINOP_MUL, a, x), b);
    case IR_RNN_ACT_LEAKY_RELU:
        return loop_select(rl->f, bin(rl, LOOP_BINOP_GE, x, zero), x, bin(rl, LOOP_BINOP_MUL, a, x));
    case IR_RNN_ACT_THRESHOLDED_RELU:
        return loop_select(rl->f, bin(rl, LOOP_BINOP_GE, x, a), x, zero);
    case IR_RNN_ACT_SCALED_TANH:
        return bin(rl, LOOP_BINOP_MUL, a, lower_tanh(rl->f, bin(rl, LOOP_BINOP_MUL, b, x)));
    case IR_RNN_ACT_HARD_SIGMOID: {
        loop_expr *v = bin(rl, LOOP_BINOP_ADD, bin(rl, LOOP_BINOP_MUL, a, x), b);
        return bin(rl, LOOP_BINOP_MIN, bin(rl, LOOP_BINOP_MAX, v, zero), one);
    }
    case IR_RNN_ACT_ELU: {
        loop_expr *em1 = bin(rl, LOOP_BINOP_SUB, lower_exp(rl->f, x), one);
        return loop_select(rl->f, bin(rl, LOOP_BINOP_GE, x, zero), x,
                           bin(rl, LOOP_BINOP_MUL, a, em1));
    }
    case IR_RNN_ACT_SOFTSIGN:
        return bin(rl, LOOP_BINOP_DIV, x, bin(rl, LOOP_BINOP_ADD, one, un(rl, LOOP_UNOP_ABS, x)));
    case IR_RNN_ACT_SOFTPLUS: { /* max(x, 0) + log(1 + exp(-|x|)), stable both ways */
        loop_expr *e = lower_exp(rl->f, un(rl, LOOP_UNOP_NEG, un(rl, LOOP_UNOP_ABS, x)));
        return bin(rl, LOOP_BINOP_ADD, bin(rl, LOOP_BINOP_MAX, x, zero),
                   un(rl, LOOP_UNOP_LOG, bin(rl, LOOP_BINOP_ADD, one, e)));
    }
    case IR_RNN_ACT_COUNT: break;
    }
    return x;
}

/* local = fn(clip(x)), a gate activation, appended to b. The argument goes
 * through a local first when the formula reads it more than once. */
static void set_act(rnn_low *rl, loop_block *b, int local, const ir_rnn_fn *fn, loop_expr *x)
{
    x = clip(rl, x);
    if (act_repeats_x(fn->act) && x->kind != LOOP_EXPR_LOCAL) {
        loop_set(rl->f, b, local_of(rl, L_ARG), x);
        x = rd(rl, local_of(rl, L_ARG));
    }
    loop_set(rl->f, b, local, act_formula(rl, fn, x));
}

/* ---- node setup ---- */

static loop_buf *in_buf(rnn_low *rl, int i)
{
    const ir_value *v = ir_input(rl->n, i);
    return v ? lower_buf(rl->c, v) : NULL;
}

static loop_buf *out_buf(rnn_low *rl, int i)
{
    const ir_value *v = ir_output(rl->n, i);
    return v ? lower_buf(rl->c, v) : NULL;
}

/* False when sequence_lens is absent or constant with every entry equal
 * to seq_length: then every step updates every batch entry. */
static bool needs_mask(const rnn_low *rl)
{
    const ir_value *v = ir_input(rl->n, RNN_SEQ_LENS);
    if (!v)
        return false;
    if (!v->data)
        return true;
    for (int64_t b = 0; b < rl->B; b++) {
        int64_t len = v->dtype == IR_DTYPE_I32 ? ((const int32_t *)v->data)[b]
                                               : ((const int64_t *)v->data)[b];
        if (len != rl->S)
            return true;
    }
    return false;
}

/* Resolves the geometry and the buffers. */
static loom_status rnn_setup(rnn_low *rl, lower_ctx *c, const ir_node *n)
{
    loom_status st = ir_rnn_geometry(c->g, n, &rl->g, c->d);
    if (st)
        return st;
    const ir_value *xv = n->inputs[RNN_X];
    if (xv->dtype != IR_DTYPE_F32) {
        ir_diag_node(c->d, c->g, n,
                     "X has dtype %s: compiled %s calls the f32 SGEMM kernel, so only f32 is "
                     "supported",
                     ir_dtype_name(xv->dtype), ir_op_name(n->op));
        return LOOM_STATUS_UNSUPPORTED;
    }
    rl->c = c;
    rl->f = c->f;
    rl->n = n;
    rl->S = rl->g.seq_length;
    rl->B = rl->g.batch_size;
    rl->I = rl->g.input_size;
    rl->H = rl->g.hidden_size;
    rl->GH = rl->g.gates * rl->H;
    rl->ldx = rl->g.num_directions * rl->GH;
    rl->row_t = rl->g.layout ? 1 : rl->B;
    rl->row_b = rl->g.layout ? rl->S : 1;
    rl->x = in_buf(rl, RNN_X);
    rl->w = in_buf(rl, RNN_W);
    rl->r = in_buf(rl, RNN_R);
    rl->bias = in_buf(rl, RNN_B);
    rl->h0 = in_buf(rl, RNN_INITIAL_H);
    rl->lens = in_buf(rl, RNN_SEQ_LENS);
    if (n->op == IR_OP_LSTM) {
        rl->c0 = in_buf(rl, RNN_INITIAL_C);
        rl->p = in_buf(rl, RNN_P);
    }
    rl->y = out_buf(rl, 0);
    rl->yh = out_buf(rl, 1);
    rl->yc = out_buf(rl, 2);
    rl->masked = needs_mask(rl);
    return LOOM_STATUS_OK;
}

/* Zeroes buf when present (nothing when empty). */
static void zero(rnn_low *rl, loop_block *b, loop_buf *buf)
{
    if (!buf || buf->numel == 0)
        return;
    int v;
    loop_block *body = rloop(rl, b, buf->numel, &v);
    loop_store(rl->f, body, buf, idx1(v, 1, 0), fc(rl, 0));
}

/* ---- the input projection ---- */

/* C = A op(B) + beta * C with mnk = {M, N, K}, ld = {lda, ldb, ldc}. A
 * constant B (W, R) is packed at compile time for SGEMM_PACKED. */
static void sgemm(const rnn_low *rl, loop_block *b, loop_slice a, loop_slice bm, loop_slice cm,
                  const int64_t mnk[3], const int64_t ld[3], bool tb, double beta)
{
    if (bm.idx.n == 0 && !bm.idx.dyn && lower_packs(bm.buf, mnk[0], mnk[1], mnk[2])) {
        loop_buf *bp = lower_pack_b(rl->c, bm.buf, tb, mnk[1], mnk[2], ld[1], bm.idx.offset, 1, 0);
        loop_call_sgemm_packed(rl->f, b,
                               &(loop_sgemm_packed){.a = a, .bp = {bp, loop_idx_const(0)},
                                                    .c = cm, .m = mnk[0], .n = mnk[1],
                                                    .k = mnk[2], .lda = ld[0], .ldc = ld[2],
                                                    .alpha = 1.0, .beta = beta});
        return;
    }
    loop_call_sgemm(rl->f, b,
                    &(loop_sgemm){.a = a, .b = bm, .c = cm, .m = mnk[0], .n = mnk[1],
                                  .k = mnk[2], .lda = ld[0], .ldb = ld[1], .ldc = ld[2],
                                  .trans_b = tb, .alpha = 1.0, .beta = beta});
}

static loop_slice at(loop_buf *buf, loop_index idx)
{
    return (loop_slice){.buf = buf, .idx = idx};
}

/* XW[row, d*GH + j] = Wb[d, j] + Rb[d, j] for j in [j0, j1) (with_rb), or
 * Wb[d, j] alone. */
static void bias_block(rnn_low *rl, loop_block *b, int vr, int vd, int64_t j0, int64_t j1,
                       bool with_rb)
{
    int vj;
    loop_block *body = rloop(rl, b, j1 - j0, &vj);
    loop_index wb = idx1(vd, 2 * rl->GH, j0), xi = idx1(vr, rl->ldx, j0);
    iadd(&wb, vj, 1);
    iadd(&xi, vd, rl->GH);
    iadd(&xi, vj, 1);
    loop_expr *v = loop_load(rl->f, rl->bias, wb);
    if (with_rb) {
        wb.offset += rl->GH;
        v = bin(rl, LOOP_BINOP_ADD, v, loop_load(rl->f, rl->bias, wb));
    }
    loop_store(rl->f, body, rl->xw, xi, v);
}

/* Step 1: XW = biases + X W^T over all rows and directions. */
static void input_projection(rnn_low *rl, loop_block *b)
{
    int64_t rows = rl->S * rl->B;
    rl->xw = lower_scratch(rl->c, "xw", IR_DTYPE_F32, rows * rl->ldx);
    if (rl->bias) {
        int vr, vd;
        loop_block *rb = rloop(rl, b, rows, &vr);
        rb = rloop(rl, rb, rl->g.num_directions, &vd);
        if (rl->g.linear_before_reset) { /* Rbh is added inside r . (H Rh^T + Rbh) */
            bias_block(rl, rb, vr, vd, 0, 2 * rl->H, true);
            bias_block(rl, rb, vr, vd, 2 * rl->H, 3 * rl->H, false);
        } else {
            bias_block(rl, rb, vr, vd, 0, rl->GH, true);
        }
    }
    if (rl->I == 0) {
        if (!rl->bias) /* no input features: XW is all zero */
            zero(rl, b, rl->xw);
        return;
    }
    sgemm(rl, b, at(rl->x, loop_idx_const(0)), at(rl->w, loop_idx_const(0)),
          at(rl->xw, loop_idx_const(0)), (int64_t[]){rows, rl->ldx, rl->I},
          (int64_t[]){rl->I, rl->I, rl->ldx}, true, rl->bias ? 1.0 : 0.0);
}

/* ---- states ---- */

/* A [batch, hidden] loop nest appended to b; returns the body. */
static loop_block *bh_nest(rnn_low *rl, loop_block *b, int *vb, int *vj)
{
    b = rloop(rl, b, rl->B, vb);
    return rloop(rl, b, rl->H, vj);
}

/* H (and C) = initial_h (initial_c) of direction d, or 0. */
static void init_state(rnn_low *rl, loop_block *b, int d)
{
    int vb, vj;
    loop_block *body = bh_nest(rl, b, &vb, &vj);
    loop_expr *h = rl->h0 ? loop_load(rl->f, rl->h0, state_idx(rl, d, vb, vj)) : fc(rl, 0);
    loop_store(rl->f, body, rl->h, bh_idx(rl, vb, vj), h);
    if (rl->cell) {
        loop_expr *cv = rl->c0 ? loop_load(rl->f, rl->c0, state_idx(rl, d, vb, vj)) : fc(rl, 0);
        loop_store(rl->f, body, rl->cell, bh_idx(rl, vb, vj), cv);
    }
}

/* len[b] as an i64 expression. */
static loop_expr *len_of(rnn_low *rl, int vb)
{
    loop_expr *len = loop_load(rl->f, rl->lens, idx1(vb, 1, 0));
    return len->dtype == IR_DTYPE_I64 ? len : loop_cast(rl->f, IR_DTYPE_I64, len);
}

/* A check (LOOP_ERROR_SEQ_LEN) that every len[b] lies in [0, seq_length],
 * as the interpreter requires. */
static void check_lens(rnn_low *rl, loop_block *b)
{
    int vb;
    loop_block *body = rloop(rl, b, rl->B, &vb);
    int l = loop_local_new(rl->f, IR_DTYPE_I64);
    loop_set(rl->f, body, l, len_of(rl, vb));
    loop_expr *ok = bin(rl, LOOP_BINOP_AND,
                        bin(rl, LOOP_BINOP_GE, loop_local_read(rl->f, l),
                            loop_const_i(rl->f, IR_DTYPE_I64, 0)),
                        bin(rl, LOOP_BINOP_LE, loop_local_read(rl->f, l),
                            loop_const_i(rl->f, IR_DTYPE_I64, rl->S)));
    loop_check(rl->f, body, ok, LOOP_ERROR_SEQ_LEN);
}

/* Step 3: Y_h (Y_c) of direction d from the final state; 0 for batch
 * entries with len 0. */
static void final_state(rnn_low *rl, loop_block *b, int d)
{
    if (!rl->yh && !rl->yc)
        return;
    int vb, vj;
    loop_block *body = bh_nest(rl, b, &vb, &vj);
    for (int k = 0; k < 2; k++) {
        loop_buf *dst = k ? rl->yc : rl->yh, *src = k ? rl->cell : rl->h;
        if (!dst)
            continue;
        loop_expr *v = loop_load(rl->f, src, bh_idx(rl, vb, vj));
        if (rl->masked)
            v = loop_select(rl->f,
                            bin(rl, LOOP_BINOP_GT, len_of(rl, vb), loop_const_i(rl->f, IR_DTYPE_I64, 0)),
                            v, fc(rl, 0));
        loop_store(rl->f, body, dst, state_idx(rl, d, vb, vj), v);
    }
}

/* ---- one time step ---- */

/* XW[t rows, d*GH + col0 ...] += A[batch, hidden] R[d][row0 .. row0+n)^T. */
static void recurrence(rnn_low *rl, loop_block *b, int d, const tpos *t, loop_buf *a,
                       int64_t row0, int64_t n)
{
    loop_index ci = loop_idx_const(d * rl->GH + row0);
    add_t(&ci, t, rl->row_t * rl->ldx);
    sgemm(rl, b, at(a, loop_idx_const(0)), at(rl->r, loop_idx_const((d * rl->GH + row0) * rl->H)),
          at(rl->xw, ci), (int64_t[]){rl->B, n, rl->H}, (int64_t[]){rl->H, rl->H, rl->row_b * rl->ldx},
          true, 1.0);
}

/* The per-entry loop nest of a step: for b [if (t < len[b])] for j. */
static loop_block *gate_nest(rnn_low *rl, loop_block *b, const tpos *t, bool guard, int *vb,
                             int *vj)
{
    b = rloop(rl, b, rl->B, vb);
    if (guard && rl->masked) {
        loop_expr *tv = t->var >= 0 ? loop_var(rl->f, t->var) : loop_const_i(rl->f, IR_DTYPE_I64, 0);
        if (t->rev && t->var >= 0)
            tv = bin(rl, LOOP_BINOP_SUB, loop_const_i(rl->f, IR_DTYPE_I64, t->S - 1), tv);
        b = &loop_if(rl->f, b, bin(rl, LOOP_BINOP_LT, tv, len_of(rl, *vb)))->body;
    }
    return rloop(rl, b, rl->H, vj);
}

/* H[b, j] = Y[t, d, b, j] = local h. */
static void store_h(rnn_low *rl, loop_block *b, int d, const tpos *t, int vb, int vj, int h)
{
    loop_store(rl->f, b, rl->h, bh_idx(rl, vb, vj), rd(rl, h));
    if (rl->y)
        loop_store(rl->f, b, rl->y, y_idx(rl, d, t, vb, vj), rd(rl, h));
}

static loop_expr *pre(rnn_low *rl, int d, const tpos *t, int vb, int vj, int q)
{
    return loop_load(rl->f, rl->xw, pre_idx(rl, d, t, vb, vj, q));
}

/* Peephole P[d, q*H + j] * state, or NULL without P. */
static loop_expr *peep(rnn_low *rl, int d, int vj, int q, loop_expr *state)
{
    if (!rl->p)
        return NULL;
    loop_expr *pv = loop_load(rl->f, rl->p, idx1(vj, 1, (d * 3 + q) * rl->H));
    return bin(rl, LOOP_BINOP_MUL, pv, state);
}

static loop_expr *plus(rnn_low *rl, loop_expr *a, loop_expr *b)
{
    return b ? bin(rl, LOOP_BINOP_ADD, a, b) : a;
}

/* ONNX LSTM-14, gates iofc, peepholes iof:
 *   i = f(Xt Wi + Ht-1 Ri + Pi . Ct-1 + Wbi + Rbi)
 *   f = f(Xt Wf + Ht-1 Rf + Pf . Ct-1 + Wbf + Rbf)   (1 - i with input_forget)
 *   c = g(Xt Wc + Ht-1 Rc + Wbc + Rbc),   Ct = f . Ct-1 + i . c
 *   o = f(Xt Wo + Ht-1 Ro + Po . Ct + Wbo + Rbo),   Ht = o . h(Ct) */
static void lstm_step(rnn_low *rl, loop_block *b, int d, const tpos *t)
{
    loop_func *f = rl->f;
    const ir_rnn_fn *ff = &rl->g.fns[d][0], *fg = &rl->g.fns[d][1], *fh = &rl->g.fns[d][2];
    recurrence(rl, b, d, t, rl->h, 0, rl->GH);
    int vb, vj, li = local_of(rl, L_I), lf = local_of(rl, L_F), lg = local_of(rl, L_G);
    int lc = local_of(rl, L_C), lo = local_of(rl, L_O), lh = local_of(rl, L_H);
    loop_block *body = gate_nest(rl, b, t, true, &vb, &vj);
    loop_expr *cprev = loop_load(f, rl->cell, bh_idx(rl, vb, vj));
    set_act(rl, body, li, ff, plus(rl, pre(rl, d, t, vb, vj, 0), peep(rl, d, vj, 0, cprev)));
    if (rl->g.input_forget)
        loop_set(f, body, lf, bin(rl, LOOP_BINOP_SUB, fc(rl, 1), rd(rl, li)));
    else
        set_act(rl, body, lf, ff, plus(rl, pre(rl, d, t, vb, vj, 2), peep(rl, d, vj, 2, cprev)));
    set_act(rl, body, lg, fg, pre(rl, d, t, vb, vj, 3));
    loop_set(f, body, lc,
             bin(rl, LOOP_BINOP_ADD, bin(rl, LOOP_BINOP_MUL, rd(rl, lf), cprev),
                 bin(rl, LOOP_BINOP_MUL, rd(rl, li), rd(rl, lg))));
    set_act(rl, body, lo, ff, plus(rl, pre(rl, d, t, vb, vj, 1), peep(rl, d, vj, 1, rd(rl, lc))));
    loop_store(f, body, rl->cell, bh_idx(rl, vb, vj), rd(rl, lc));
    /* h(Ct) is not clipped; Ct is in a local, so it may be read twice */
    loop_set(f, body, lh, bin(rl, LOOP_BINOP_MUL, rd(rl, lo), act_formula(rl, fh, rd(rl, lc))));
    store_h(rl, body, d, t, vb, vj, lh);
}

/* GRU, linear_before_reset = 0: r . H goes into tmp, then (r . H) Rh^T
 * is added into the h gate's pre-activations. */
static void gru_reset_first(rnn_low *rl, loop_block *b, int d, const tpos *t, int lr)
{
    int vb, vj;
    loop_block *body = gate_nest(rl, b, t, false, &vb, &vj);
    set_act(rl, body, lr, &rl->g.fns[d][0], pre(rl, d, t, vb, vj, 1));
    loop_store(rl->f, body, rl->tmp, bh_idx(rl, vb, vj),
               bin(rl, LOOP_BINOP_MUL, rd(rl, lr), loop_load(rl->f, rl->h, bh_idx(rl, vb, vj))));
    recurrence(rl, b, d, t, rl->tmp, 2 * rl->H, rl->H);
}

/* The h gate's pre-activation with linear_before_reset = 1:
 * Xt Wh + Wbh + r . (Ht-1 Rh^T + Rbh), H Rh^T computed into tmp. */
static loop_expr *gru_h_lbr(rnn_low *rl, int d, const tpos *t, int vb, int vj, int lr)
{
    loop_expr *hr = loop_load(rl->f, rl->tmp, bh_idx(rl, vb, vj));
    if (rl->bias)
        hr = bin(rl, LOOP_BINOP_ADD, hr,
                 loop_load(rl->f, rl->bias, idx1(vj, 1, d * 2 * rl->GH + rl->GH + 2 * rl->H)));
    return bin(rl, LOOP_BINOP_ADD, pre(rl, d, t, vb, vj, 2),
               bin(rl, LOOP_BINOP_MUL, rd(rl, lr), hr));
}

/* ONNX GRU-14, gates zrh:
 *   z = f(Xt Wz + Ht-1 Rz + Wbz + Rbz),  r = f(Xt Wr + Ht-1 Rr + Wbr + Rbr)
 *   h = g(Xt Wh + (r . Ht-1) Rh + Rbh + Wbh)      linear_before_reset = 0
 *   h = g(Xt Wh + r . (Ht-1 Rh + Rbh) + Wbh)      linear_before_reset != 0
 *   Ht = (1 - z) . h + z . Ht-1 */
static void gru_step(rnn_low *rl, loop_block *b, int d, const tpos *t)
{
    loop_func *f = rl->f;
    const ir_rnn_fn *ff = &rl->g.fns[d][0], *fg = &rl->g.fns[d][1];
    bool lbr = rl->g.linear_before_reset;
    recurrence(rl, b, d, t, rl->h, 0, 2 * rl->H);
    int lz = local_of(rl, L_Z), lr = local_of(rl, L_R), lhh = local_of(rl, L_HH), vb, vj;
    if (lbr) {
        sgemm(rl, b, at(rl->h, loop_idx_const(0)),
              at(rl->r, loop_idx_const((d * rl->GH + 2 * rl->H) * rl->H)),
              at(rl->tmp, loop_idx_const(0)), (int64_t[]){rl->B, rl->H, rl->H},
              (int64_t[]){rl->H, rl->H, rl->H}, true, 0.0);
    } else {
        gru_reset_first(rl, b, d, t, lr);
    }
    loop_block *body = gate_nest(rl, b, t, true, &vb, &vj);
    set_act(rl, body, lz, ff, pre(rl, d, t, vb, vj, 0));
    if (lbr) {
        set_act(rl, body, lr, ff, pre(rl, d, t, vb, vj, 1));
        set_act(rl, body, lhh, fg, gru_h_lbr(rl, d, t, vb, vj, lr));
    } else {
        set_act(rl, body, lhh, fg, pre(rl, d, t, vb, vj, 2));
    }
    loop_expr *hprev = loop_load(f, rl->h, bh_idx(rl, vb, vj));
    loop_expr *keep = bin(rl, LOOP_BINOP_MUL, rd(rl, lz), hprev);
    loop_expr *upd = bin(rl, LOOP_BINOP_MUL, bin(rl, LOOP_BINOP_SUB, fc(rl, 1), rd(rl, lz)),
                         rd(rl, lhh));
    loop_set(f, body, lhh, bin(rl, LOOP_BINOP_ADD, upd, keep));
    store_h(rl, body, d, t, vb, vj, lhh);
}

/* ONNX RNN-14: Ht = f(Xt Wi + Ht-1 Ri + Wbi + Rbi). */
static void rnn_step(rnn_low *rl, loop_block *b, int d, const tpos *t)
{
    recurrence(rl, b, d, t, rl->h, 0, rl->H);
    int vb, vj, lh = local_of(rl, L_H);
    loop_block *body = gate_nest(rl, b, t, true, &vb, &vj);
    set_act(rl, body, lh, &rl->g.fns[d][0], pre(rl, d, t, vb, vj, 0));
    store_h(rl, body, d, t, vb, vj, lh);
}

/* ---- driver ---- */

typedef void (*step_fn)(rnn_low *rl, loop_block *b, int d, const tpos *t);

/* Shared driver of LSTM, GRU and RNN. */
static loom_status lower_recurrent(lower_ctx *c, const ir_node *n, loop_step *step, step_fn fn)
{
    rnn_low rl = {0};
    for (int k = 0; k < L_COUNT; k++)
        rl.locals[k] = -1;
    loom_status st = rnn_setup(&rl, c, n);
    if (st || rl.B == 0)
        return st; /* with no batch entries every output is empty */
    loop_block *b = &step->body;
    if (rl.S == 0) { /* no steps: Y is empty, Y_h / Y_c are 0 */
        zero(&rl, b, rl.yh);
        zero(&rl, b, rl.yc);
        return LOOM_STATUS_OK;
    }
    if (rl.masked) /* rows past sequence_lens read 0 */
        zero(&rl, b, rl.y);
    if (rl.masked && c->checked)
        check_lens(&rl, b);
    input_projection(&rl, b);
    rl.h = lower_scratch(c, "h", IR_DTYPE_F32, rl.B * rl.H);
    if (n->op == IR_OP_LSTM)
        rl.cell = lower_scratch(c, "c", IR_DTYPE_F32, rl.B * rl.H);
    if (n->op == IR_OP_GRU)
        rl.tmp = lower_scratch(c, "hr", IR_DTYPE_F32, rl.B * rl.H);
    for (int d = 0; d < rl.g.num_directions; d++) {
        init_state(&rl, b, d);
        tpos t = {.rev = rl.g.reverse || d == 1, .S = rl.S};
        fn(&rl, rloop(&rl, b, rl.S, &t.var), d, &t);
        final_state(&rl, b, d);
    }
    return LOOM_STATUS_OK;
}

loom_status lower_lstm(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return lower_recurrent(c, n, step, lstm_step);
}

loom_status lower_gru(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return lower_recurrent(c, n, step, gru_step);
}

loom_status lower_rnn(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return lower_recurrent(c, n, step, rnn_step);
}
