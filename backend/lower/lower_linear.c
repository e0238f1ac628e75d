/*
 * Lowering of Gemm, MatMul, Softmax/LogSoftmax and LayerNormalization
 * (semantics: ir/interp/interp_linear.c; LSTM, GRU and RNN are in
 * lower_rnn.c).
 *   - Gemm: beta * C (broadcast) is stored into Y, then one SGEMM adds
 *     alpha * op(A) op(B) (beta 1; beta 0 and no prefill without C).
 *   - MatMul: 1-D operands become [1,K] / [K,1]; a loop nest over the
 *     output's batch dims (merged where contiguous) around one SGEMM whose
 *     slice offsets are affine in the batch variables (stride 0 on
 *     broadcast dims). When B has no batch (or only broadcast) dims and A's
 *     batch is laid out like the output's, the batch folds into M: a single
 *     SGEMM.
 *   - Softmax/LogSoftmax: the input seen as [outer, len, inner]
 *     (ir_softmax_geometry); max, sum of exp, then the scaled output, each
 *     pass with the innermost loop over contiguous elements: over len when
 *     inner is 1 (running values in locals), else over inner with the
 *     running values in scratch vectors of inner elements.
 *   - LayerNormalization: per row, mean and variance (two passes) in
 *     locals, then Y over the row with Scale and B broadcast as the
 *     interpreter allows (any unidirectional broadcast to X).
 * Gemm and MatMul call the f32 SGEMM kernel, so other dtypes are reported
 * as unsupported; Softmax and LayerNormalization lower for f32 and f64.
 * Empty tensors produce no loops (the loop verifier rejects zero trip
 * counts).
 */
#include <math.h>
#include <string.h>

#include "loomrt.h"
#include "lower_internal.h"

/* ---- shared helpers ---- */

#define NEST_OPS 4

/* A loop nest over dims[0..rank) and, for each of n_ops operands, its
 * element stride along each dim (0 on broadcast dims). */
typedef struct nest {
    int rank, n_ops;
    int64_t dims[IR_MAX_RANK];
    int64_t str[NEST_OPS][IR_MAX_RANK];
} nest;

/* Drops dims of size 1 and merges a dim into its outer neighbour when
 * every operand walks the pair as one run, so the innermost loop is as
 * long as possible. */
static void nest_coalesce(nest *ns)
{
    int r = 0;
    for (int i = 0; i < ns->rank; i++) {
        int64_t n = ns->dims[i];
        if (n == 1)
            continue;
        bool merge = r > 0;
        for (int k = 0; merge && k < ns->n_ops; k++)
            merge = ns->str[k][r - 1] == ns->str[k][i] * n;
        if (merge)
            ns->dims[r - 1] *= n;
        else
            ns->dims[r++] = n;
        for (int k = 0; k < ns->n_ops; k++)
            ns->str[k][r - 1] = ns->str[k][i];
    }
    ns->rank = r;
}

/* Adds operand k's position at loop variables vars (scaled by scale) to
 * idx. */
static void nest_index(const nest *ns, int k, const int *vars, int64_t scale, loop_index *idx)
{
    for (int i = 0; i < ns->rank; i++)
        loop_idx_add(idx, vars[i], ns->str[k][i] * scale);
}

/* idx + var * coef (idx itself for an elided loop, var -1). */
static loop_index idx_plus(loop_index idx, int var, int64_t coef)
{
    if (var >= 0)
        loop_idx_add(&idx, var, coef);
    return idx;
}

/* A loop over [0, extent) appended to b; returns its body. A loop of one
 * iteration is left out (*var = -1, which idx_plus skips). */
static loop_block *loop1(lower_ctx *c, loop_block *b, int64_t extent, int *var)
{
    *var = -1;
    if (extent == 1)
        return b;
    *var = loop_var_new(c->f);
    return &loop_for(c->f, b, *var, extent)->body;
}

/* buf[0..numel) = 0 (nothing when empty). */
static void zero_fill(lower_ctx *c, loop_block *b, loop_buf *buf, int64_t numel)
{
    if (numel <= 0)
        return;
    int v;
    loop_block *body = loop1(c, b, numel, &v);
    loop_store(c->f, body, buf, idx_plus(loop_idx_const(0), v, 1),
               loop_const_f(c->f, buf->dtype, 0.0));
}

/* ---- constant B operands, packed at compile time ---- */

#define PACK_MAX_MNK ((int64_t)1 << 24)

bool lower_packs(const loop_buf *b, int64_t m, int64_t n, int64_t k)
{
    /* up to 2^24 multiply-adds the runtime's kernel on a packed B is as
     * fast as OpenBLAS or faster (runtime/loomrt_gemm.c); past that
     * OpenBLAS's blocking and threads win. Panels pad n to a multiple of
     * 16: a narrow B would grow the weights for nothing. */
    int64_t padded = (n + LOOMRT_SGEMM_NR - 1) / LOOMRT_SGEMM_NR * LOOMRT_SGEMM_NR;
    return b->data && b->dtype == IR_DTYPE_F32 && n > 0 && k > 0 && 4 * padded <= 5 * n &&
           (m == 1 || m * n * k <= PACK_MAX_MNK);
}

const char *lower_const_name(lower_ctx *c, const char *name, const char *suffix)
{
    const char *s = ir_arena_printf(&c->f->arena, "%s_%s", name, suffix);
    for (int k = 1;; k++) {
        bool taken = false;
        for (int i = 0; i < c->f->n_bufs && !taken; i++)
            taken = strcmp(c->f->bufs[i]->name, s) == 0;
        if (!taken)
            return s;
        s = ir_arena_printf(&c->f->arena, "%s_%s_%d", name, suffix, k);
    }
}

loop_buf *lower_pack_b(lower_ctx *c, const loop_buf *b, bool tb, int64_t n, int64_t k, int64_t ldb,
                       int64_t off, int64_t count, int64_t stride)
{
    int64_t ps = loomrt_sgemm_packed_size(n, k);
    float *data = ir_arena_alloc(&c->f->arena, (size_t)(ps * count) * sizeof(float));
    const float *src = b->data;
    for (int64_t i = 0; i < count; i++)
        loomrt_sgemm_pack_b(tb, n, k, src + off + i * stride, ldb, data + i * ps);
    loop_buf *p = loop_buf_new(c->f, lower_const_name(c, b->name, "packed"), LOOP_BUF_CONST, IR_DTYPE_F32,
                               ps * count);
    p->data = data;
    return p;
}

/* The SGEMM as LOOP_KERNEL_SGEMM_PACKED when B is a constant worth
 * packing: every matrix of B (its slice offsets are whole matrices apart)
 * is packed, and the slice index scales to packed matrices. False when B
 * stays as it is. */
static bool emit_sgemm_packed(lower_ctx *c, loop_block *b, const loop_sgemm *g)
{
    int64_t mat = g->k * g->n;
    if (!lower_packs(g->b.buf, g->m, g->n, g->k) || g->ldb != (g->trans_b ? g->k : g->n) ||
        g->b.buf->numel % mat || g->b.idx.dyn || g->b.idx.offset % mat)
        return false;
    for (int t = 0; t < g->b.idx.n; t++)
        if (g->b.idx.coef[t] % mat)
            return false;
    loop_buf *bp = lower_pack_b(c, g->b.buf, g->trans_b, g->n, g->k, g->ldb, 0,
                                g->b.buf->numel / mat, mat);
    int64_t ps = loomrt_sgemm_packed_size(g->n, g->k);
    loop_index pi = g->b.idx;
    pi.offset = pi.offset / mat * ps;
    for (int t = 0; t < pi.n; t++)
        pi.coef[t] = pi.coef[t] / mat * ps;
    loop_call_sgemm_packed(c->f, b,
                           &(loop_sgemm_packed){.a = g->a, .bp = {bp, pi}, .c = g->c, .m = g->m,
                                                .n = g->n, .k = g->k, .lda = g->lda,
                                                .ldc = g->ldc, .trans_a = g->trans_a,
                                                .alpha = g->alpha, .beta = g->beta,
                                                .epi = g->epi});
    return true;
}

/* C = alpha * op(A) op(B) + beta * C: SGEMM, or SGEMM_PACKED for a
 * constant B. */
static void emit_sgemm(lower_ctx *c, loop_block *b, const loop_sgemm *g)
{
    if (emit_sgemm_packed(c, b, g))
        return;
    loop_call_sgemm(c->f, b, g);
}

static loop_slice slice(loop_buf *buf, loop_index idx)
{
    return (loop_slice){.buf = buf, .idx = idx};
}

/* Gemm and MatMul lower through the f32 SGEMM kernel only. */
static bool require_f32(lower_ctx *c, const ir_node *n, const ir_value *v)
{
    if (v->dtype == IR_DTYPE_F32)
        return true;
    ir_diag_node(c->d, c->g, n,
                 "%s has dtype %s: compiled %s calls the f32 SGEMM kernel, so only f32 is "
                 "supported",
                 v->name, ir_dtype_name(v->dtype), ir_op_name(n->op));
    return false;
}

/* ---- Gemm ---- */

/* Y[i,j] = beta * C[i,j] with C broadcast to [m, nn] (ONNX Gemm-13). */
static void gemm_prefill(lower_ctx *c, loop_block *b, const ir_node *n, double beta)
{
    const ir_value *cv = n->inputs[2], *yv = n->outputs[0];
    nest ns = {.rank = 2, .n_ops = 2, .dims = {yv->shape.dims[0], yv->shape.dims[1]}};
    ir_bcast_strides(&cv->shape, &yv->shape, ns.str[0]);
    ir_shape_strides(&yv->shape, ns.str[1]);
    nest_coalesce(&ns);
    int vars[IR_MAX_RANK];
    loop_block *body = lower_nest(c, b, ns.rank, ns.dims, vars);
    loop_index ci = loop_idx_const(0), yi = loop_idx_const(0);
    nest_index(&ns, 0, vars, 1, &ci);
    nest_index(&ns, 1, vars, 1, &yi);
    loop_expr *v = loop_load(c->f, lower_buf(c, cv), ci);
    if (beta != 1.0)
        v = lower_bin(c, LOOP_BINOP_MUL, loop_const_f(c->f, IR_DTYPE_F32, beta), v);
    loop_store(c->f, body, lower_buf(c, yv), yi, v);
}

static void gemm_product(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y, double alpha,
                         bool accumulate);

/* ONNX Gemm-13: Y = alpha * A' B' + beta * C, A' = transA ? A^T : A,
 * B' = transB ? B^T : B; C (optional) broadcast to [M, N]. */
loom_status lower_gemm(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *av = n->inputs[0], *cv = ir_input(n, 2), *yv = n->outputs[0];
    if (!require_f32(c, n, av))
        return LOOM_STATUS_UNSUPPORTED;
    bool ta = ir_attr_int(n, "transA", 0) != 0;
    double alpha = ir_attr_float(n, "alpha", 1.0f), beta = ir_attr_float(n, "beta", 1.0f);
    int64_t m = yv->shape.dims[0], nn = yv->shape.dims[1], k = av->shape.dims[ta ? 0 : 1];
    if (m == 0 || nn == 0)
        return LOOM_STATUS_OK;
    loop_buf *y = lower_buf(c, yv);
    if (cv)
        gemm_prefill(c, &step->body, n, beta);
    else if (k == 0)
        zero_fill(c, &step->body, y, m * nn);
    if (k > 0)
        gemm_product(c, &step->body, n, y, alpha, cv != NULL);
    if (ir_epilogue_present(n) && k == 0) /* else applied by the SGEMM */
        lower_epilogue(c, &step->body, n, y, NULL, 1, m * nn, 1);
    return LOOM_STATUS_OK;
}

/* Y += alpha * A' B' (accumulate) or Y = alpha * A' B'. */
static void gemm_product(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y, double alpha,
                         bool accumulate)
{
    const ir_value *av = n->inputs[0], *bv = n->inputs[1], *yv = n->outputs[0];
    bool ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
    int64_t m = yv->shape.dims[0], nn = yv->shape.dims[1], k = av->shape.dims[ta ? 0 : 1];
    loop_sgemm g = {
        .a = slice(lower_buf(c, av), loop_idx_const(0)),
        .b = slice(lower_buf(c, bv), loop_idx_const(0)),
        .c = slice(y, loop_idx_const(0)),
        .m = m, .n = nn, .k = k,
        .lda = av->shape.dims[1], .ldb = bv->shape.dims[1], .ldc = nn,
        .trans_a = ta, .trans_b = tb, .alpha = alpha, .beta = accumulate ? 1.0 : 0.0,
        .epi = lower_kernel_epilogue(c, n, NULL, loop_idx_const(0), 0, 0, loop_idx_const(0)),
    };
    emit_sgemm(c, b, &g);
}

/* ---- MatMul ---- */

/* The batch nest of a MatMul: dims are the output's batch dims; operand
 * strides in whole matrices: 0 = A, 1 = B, 2 = Y. */
static nest matmul_batch(const ir_shape *sa, const ir_shape *sb, const ir_shape *so)
{
    ir_shape ob = {.rank = so->rank - (sa->rank >= 2) - (sb->rank >= 2)};
    memcpy(ob.dims, so->dims, sizeof ob.dims);
    ir_shape ab = {.rank = sa->rank >= 2 ? sa->rank - 2 : 0};
    ir_shape bb = {.rank = sb->rank >= 2 ? sb->rank - 2 : 0};
    memcpy(ab.dims, sa->dims, sizeof ab.dims);
    memcpy(bb.dims, sb->dims, sizeof bb.dims);
    nest ns = {.rank = ob.rank, .n_ops = 3};
    memcpy(ns.dims, ob.dims, sizeof ns.dims);
    ir_bcast_strides(&ab, &ob, ns.str[0]);
    ir_bcast_strides(&bb, &ob, ns.str[1]);
    ir_shape_strides(&ob, ns.str[2]);
    return ns;
}

/* True when every batch entry uses the same B and A's matrices follow one
 * another like Y's: the batch folds into M. */
static bool matmul_folds(const nest *ns)
{
    for (int i = 0; i < ns->rank; i++)
        if (ns->dims[i] != 1 && (ns->str[1][i] != 0 || ns->str[0][i] != ns->str[2][i]))
            return false;
    return true;
}

static void matmul_product(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y);

/* ONNX MatMul-13 (numpy.matmul): a 1-D A is [1, K], a 1-D B is [K, 1];
 * batch dims broadcast; each batch entry is one [M,K] x [K,N] SGEMM. */
loom_status lower_mat_mul(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *av = n->inputs[0], *bv = n->inputs[1], *yv = n->outputs[0];
    if (!require_f32(c, n, av))
        return LOOM_STATUS_UNSUPPORTED;
    const ir_shape *sa = &av->shape, *sb = &bv->shape, *so = &yv->shape;
    int64_t k = sa->dims[sa->rank - 1], nn = sb->rank >= 2 ? sb->dims[sb->rank - 1] : 1;
    loop_buf *y = lower_buf(c, yv);
    if (ir_shape_numel(so) == 0)
        return LOOM_STATUS_OK;
    if (k == 0)
        zero_fill(c, &step->body, y, ir_shape_numel(so));
    else
        matmul_product(c, &step->body, n, y);
    const ir_value *bias = ir_input(n, IR_EPILOGUE_MATMUL_BIAS);
    if (ir_epilogue_present(n) && k == 0) /* else applied by the SGEMMs */
        lower_epilogue(c, &step->body, n, y, bias ? lower_buf(c, bias) : NULL,
                       ir_shape_numel(so) / nn, nn, 1);
    return LOOM_STATUS_OK;
}

/* Y = A B, one SGEMM per batch entry (one for all when they fold). */
static void matmul_product(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y)
{
    const ir_value *av = n->inputs[0], *bv = n->inputs[1], *yv = n->outputs[0];
    const ir_shape *sa = &av->shape, *sb = &bv->shape, *so = &yv->shape;
    int64_t m = sa->rank >= 2 ? sa->dims[sa->rank - 2] : 1, k = sa->dims[sa->rank - 1];
    int64_t nn = sb->rank >= 2 ? sb->dims[sb->rank - 1] : 1;
    nest ns = matmul_batch(sa, sb, so);
    loop_sgemm g = {
        .a = slice(lower_buf(c, av), loop_idx_const(0)),
        .b = slice(lower_buf(c, bv), loop_idx_const(0)),
        .c = slice(y, loop_idx_const(0)),
        .m = m, .n = nn, .k = k, .lda = k, .ldb = nn, .ldc = nn, .alpha = 1.0, .beta = 0.0,
    };
    const ir_value *bias = ir_input(n, IR_EPILOGUE_MATMUL_BIAS);
    g.epi = lower_kernel_epilogue(c, n, bias ? lower_buf(c, bias) : NULL, loop_idx_const(0), 0,
                                  1, loop_idx_const(0));
    if (matmul_folds(&ns)) {
        g.m = m * (ir_shape_numel(so) / (m * nn)); /* [batch * M, K] x [K, N] */
        emit_sgemm(c, b, &g);
        return;
    }
    nest_coalesce(&ns);
    int vars[IR_MAX_RANK];
    loop_block *body = lower_nest(c, b, ns.rank, ns.dims, vars);
    nest_index(&ns, 0, vars, m * k, &g.a.idx);
    nest_index(&ns, 1, vars, k * nn, &g.b.idx);
    nest_index(&ns, 2, vars, m * nn, &g.c.idx);
    g.epi.residual.idx = g.c.idx;
    emit_sgemm(c, body, &g);
}

/* ---- Softmax, LogSoftmax ---- */

/* A running value per reduced row: a local when the rows are contiguous
 * (inner == 1), else element i of a scratch vector. */
typedef struct racc {
    loop_buf *buf;
    int local;
} racc;

static racc racc_new(lower_ctx *c, const char *name, ir_dtype t, int64_t inner)
{
    racc r = {.local = -1};
    if (inner == 1)
        r.local = loop_local_new(c->f, t);
    else
        r.buf = lower_scratch(c, name, t, inner);
    return r;
}

/* The value for inner position var (-1 when inner == 1). */
static loop_expr *racc_get(lower_ctx *c, const racc *r, int var)
{
    if (r->buf)
        return loop_load(c->f, r->buf, idx_plus(loop_idx_const(0), var, 1));
    return loop_local_read(c->f, r->local);
}

static void racc_set(lower_ctx *c, loop_block *b, const racc *r, int var, loop_expr *v)
{
    if (r->buf)
        loop_store(c->f, b, r->buf, idx_plus(loop_idx_const(0), var, 1), v);
    else
        loop_set(c->f, b, r->local, v);
}

/* One Softmax row loop: the body ob of the loop over outer (variable vo)
 * and what its passes share. */
typedef struct sm_row {
    loop_buf *x, *y;
    ir_dtype t;
    int64_t len, inner;
    int vo;
    loop_block *ob;
    racc mx, sum;
} sm_row;

/* The loop over k in [0, len) around the inner loop, in the row's body;
 * *idx is element (o, k, i) of the [outer, len, inner] view. */
static loop_block *sm_pass(lower_ctx *c, const sm_row *r, int *vi, loop_index *idx)
{
    int vk;
    loop_block *b = loop1(c, loop1(c, r->ob, r->len, &vk), r->inner, vi);
    *idx = idx_plus(idx_plus(loop_idx_const(0), r->vo, r->len * r->inner), vk, r->inner);
    if (*vi >= 0)
        loop_idx_add(idx, *vi, 1);
    return b;
}

/* acc[i] = v for every inner position, in the row's body. */
static void sm_init(lower_ctx *c, const sm_row *r, const racc *acc, double v)
{
    int vi;
    loop_block *b = loop1(c, r->ob, r->inner, &vi);
    racc_set(c, b, acc, vi, loop_const_f(c->f, r->t, v));
}

/* Pass 1: the running max. */
static void sm_max(lower_ctx *c, const sm_row *r)
{
    int vi;
    loop_index xi;
    sm_init(c, r, &r->mx, -INFINITY);
    loop_block *b = sm_pass(c, r, &vi, &xi);
    loop_expr *m = lower_bin(c, LOOP_BINOP_MAX, racc_get(c, &r->mx, vi), loop_load(c->f, r->x, xi));
    racc_set(c, b, &r->mx, vi, m);
}

/* Pass 2: sum of exp(x - max), then 1 / sum (Softmax, which keeps the
 * exps in y) or log(sum) (LogSoftmax). */
static void sm_sum(lower_ctx *c, const sm_row *r, bool log_out)
{
    loop_func *f = c->f;
    int vi;
    loop_index xi;
    sm_init(c, r, &r->sum, 0.0);
    loop_block *b = sm_pass(c, r, &vi, &xi);
    loop_expr *d = lower_bin(c, LOOP_BINOP_SUB, loop_load(f, r->x, xi), racc_get(c, &r->mx, vi));
    loop_expr *e = lower_exp(f, d);
    if (!log_out) {
        loop_store(f, b, r->y, xi, e);
        e = loop_load(f, r->y, xi);
    }
    racc_set(c, b, &r->sum, vi, lower_bin(c, LOOP_BINOP_ADD, racc_get(c, &r->sum, vi), e));
    b = loop1(c, r->ob, r->inner, &vi);
    loop_expr *s = racc_get(c, &r->sum, vi);
    s = log_out ? loop_unary(f, LOOP_UNOP_LOG, s)
                : lower_bin(c, LOOP_BINOP_DIV, loop_const_f(f, r->t, 1.0), s);
    racc_set(c, b, &r->sum, vi, s);
}

/* Pass 3: y = exp * (1 / sum), or (x - max) - log(sum). */
static void sm_out(lower_ctx *c, const sm_row *r, bool log_out)
{
    loop_func *f = c->f;
    int vi;
    loop_index yi;
    loop_block *b = sm_pass(c, r, &vi, &yi);
    loop_expr *v;
    if (log_out) {
        v = lower_bin(c, LOOP_BINOP_SUB, loop_load(f, r->x, yi), racc_get(c, &r->mx, vi));
        v = lower_bin(c, LOOP_BINOP_SUB, v, racc_get(c, &r->sum, vi));
    } else {
        v = lower_bin(c, LOOP_BINOP_MUL, loop_load(f, r->y, yi), racc_get(c, &r->sum, vi));
    }
    loop_store(f, b, r->y, yi, v);
}

/* ONNX Softmax-13: y = exp(x - max) / sum(exp(x - max)); LogSoftmax-13:
 * y = (x - max) - log(sum(exp(x - max))); the reduced elements are those
 * of ir_softmax_geometry (coerce_2d: the whole trailing block). */
loom_status lower_softmax(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *xv = n->inputs[0];
    int64_t outer, len, inner;
    if (!ir_softmax_geometry(n, &xv->shape, &outer, &len, &inner)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range (shape inference was not run?)");
        return LOOM_STATUS_INTERNAL;
    }
    if (outer == 0 || len == 0 || inner == 0)
        return LOOM_STATUS_OK;
    bool log_out = n->op == IR_OP_LOG_SOFTMAX;
    sm_row r = {
        .x = lower_buf(c, xv), .y = lower_buf(c, n->outputs[0]), .t = xv->dtype,
        .len = len, .inner = inner,
        .mx = racc_new(c, "max", xv->dtype, inner), .sum = racc_new(c, "sum", xv->dtype, inner),
    };
    r.ob = loop1(c, &step->body, outer, &r.vo);
    sm_max(c, &r);
    sm_sum(c, &r, log_out);
    sm_out(c, &r, log_out);
    return LOOM_STATUS_OK;
}

/* ---- LayerNormalization ---- */

/* Operands of the LayerNormalization nests. */
enum { LN_X, LN_SCALE, LN_BIAS, LN_STAT };

/* The nest over dims [lo, hi) of X with the strides of X, Scale, B and
 * (rows, lo = 0) the statistics, laid out as X's dims before hi. */
static nest ln_nest(const ir_node *n, int lo, int hi)
{
    const ir_shape *xs = &n->inputs[0]->shape;
    int64_t str[NEST_OPS][IR_MAX_RANK] = {{0}};
    ir_shape_strides(xs, str[LN_X]);
    ir_bcast_strides(&n->inputs[1]->shape, xs, str[LN_SCALE]);
    if (ir_input(n, 2))
        ir_bcast_strides(&n->inputs[2]->shape, xs, str[LN_BIAS]);
    ir_shape stat = {.rank = hi};
    memcpy(stat.dims, xs->dims, sizeof stat.dims);
    ir_shape_strides(&stat, str[LN_STAT]);
    nest ns = {.rank = hi - lo, .n_ops = NEST_OPS};
    for (int i = lo; i < hi; i++) {
        ns.dims[i - lo] = xs->dims[i];
        for (int k = 0; k < NEST_OPS; k++)
            ns.str[k][i - lo] = str[k][i];
    }
    nest_coalesce(&ns);
    return ns;
}

/* Row statistics: locals mean and inv = 1 / sqrt(var + epsilon) of the
 * cols elements of X from xrow, in dtype ct (two passes, as the
 * interpreter). */
static void ln_stats(lower_ctx *c, loop_block *b, const ir_node *n, loop_index xrow,
                     int64_t cols, ir_dtype ct, int mean, int inv)
{
    loop_func *f = c->f;
    loop_buf *x = lower_buf(c, n->inputs[0]);
    double eps = ir_attr_float(n, "epsilon", 1e-5f);
    int acc = loop_local_new(f, ct), dx = loop_local_new(f, ct), v;
    loop_set(f, b, acc, loop_const_f(f, ct, 0.0));
    loop_block *body = loop1(c, b, cols, &v);
    loop_expr *xe = lower_as(c, ct, loop_load(f, x, idx_plus(xrow, v, 1)));
    loop_set(f, body, acc, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(f, acc), xe));
    loop_set(f, b, mean,
             lower_bin(c, LOOP_BINOP_DIV, loop_local_read(f, acc), loop_const_f(f, ct, (double)cols)));
    loop_set(f, b, acc, loop_const_f(f, ct, 0.0));
    body = loop1(c, b, cols, &v);
    xe = lower_as(c, ct, loop_load(f, x, idx_plus(xrow, v, 1)));
    loop_set(f, body, dx, lower_bin(c, LOOP_BINOP_SUB, xe, loop_local_read(f, mean)));
    loop_set(f, body, acc,
             lower_bin(c, LOOP_BINOP_ADD, loop_local_read(f, acc),
                 lower_bin(c, LOOP_BINOP_MUL, loop_local_read(f, dx), loop_local_read(f, dx))));
    loop_expr *var = lower_bin(c, LOOP_BINOP_DIV, loop_local_read(f, acc),
                         loop_const_f(f, ct, (double)cols));
    loop_expr *sd = loop_unary(f, LOOP_UNOP_SQRT,
                               lower_bin(c, LOOP_BINOP_ADD, var, loop_const_f(f, ct, eps)));
    loop_set(f, b, inv, lower_bin(c, LOOP_BINOP_DIV, loop_const_f(f, ct, 1.0), sd));
}

/* Stores the row's statistics (locals mean, inv; NaN constants when the
 * row is empty) into the Mean / InvStdDev outputs that are present. */
static void ln_store_stats(lower_ctx *c, loop_block *b, const ir_node *n, loop_index srow,
                           int mean, int inv)
{
    for (int i = 1; i <= 2; i++) {
        const ir_value *o = ir_output(n, i);
        if (!o)
            continue;
        int l = i == 1 ? mean : inv;
        loop_expr *v = l >= 0 ? loop_local_read(c->f, l) : loop_const_f(c->f, o->dtype, NAN);
        loop_store(c->f, b, lower_buf(c, o), srow, lower_as(c, o->dtype, v));
    }
}

/* Y over one row (row nest rn at rvars; X's row starts at xrow):
 * (x - mean) * inv * Scale + B computed in ct, stored in X's dtype. The
 * column nest walks dims [axis, rank) with Scale and B broadcast. */
static void ln_output(lower_ctx *c, loop_block *rb, const ir_node *n, int axis, const nest *rn,
                      const int *rvars, loop_index xrow, int mean, int inv, ir_dtype ct)
{
    loop_func *f = c->f;
    const ir_value *xv = n->inputs[0], *bv = ir_input(n, 2);
    nest cn = ln_nest(n, axis, xv->shape.rank);
    int cvars[IR_MAX_RANK];
    loop_block *cb = lower_nest(c, rb, cn.rank, cn.dims, cvars);
    loop_index xi = xrow, si = loop_idx_const(0), bi = loop_idx_const(0);
    nest_index(&cn, LN_X, cvars, 1, &xi);
    nest_index(rn, LN_SCALE, rvars, 1, &si);
    nest_index(&cn, LN_SCALE, cvars, 1, &si);
    nest_index(rn, LN_BIAS, rvars, 1, &bi);
    nest_index(&cn, LN_BIAS, cvars, 1, &bi);
    loop_expr *v = lower_bin(c, LOOP_BINOP_SUB, lower_as(c, ct, loop_load(f, lower_buf(c, xv), xi)),
                       loop_local_read(f, mean));
    v = lower_bin(c, LOOP_BINOP_MUL, v, loop_local_read(f, inv));
    v = lower_bin(c, LOOP_BINOP_MUL, v, lower_as(c, ct, loop_load(f, lower_buf(c, n->inputs[1]), si)));
    if (bv)
        v = lower_bin(c, LOOP_BINOP_ADD, v, lower_as(c, ct, loop_load(f, lower_buf(c, bv), bi)));
    loop_store(f, cb, lower_buf(c, n->outputs[0]), xi, lower_as(c, xv->dtype, v));
}

/* ONNX LayerNormalization-17: per row of X flattened to 2-D at axis,
 * Y = (X - mean) / sqrt(var + epsilon) * Scale + B with the population
 * variance; Mean and InvStdDev per row. The computation runs in the wider
 * of X's dtype and stash_type's (the interpreter uses double throughout). */
loom_status lower_layer_normalization(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *xv = n->inputs[0];
    const ir_shape *xs = &xv->shape;
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", -1), xs->rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range (shape inference was not run?)");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t rows = 1, cols = 1;
    for (int i = 0; i < xs->rank; i++)
        *(i < axis ? &rows : &cols) *= xs->dims[i];
    if (rows == 0)
        return LOOM_STATUS_OK;
    ir_dtype ct = ir_attr_int(n, "stash_type", 1) == 11 ? IR_DTYPE_F64 : xv->dtype;
    nest rn = ln_nest(n, 0, axis);
    int rvars[IR_MAX_RANK];
    loop_block *rb = lower_nest(c, &step->body, rn.rank, rn.dims, rvars);
    loop_index xrow = loop_idx_const(0), srow = loop_idx_const(0);
    nest_index(&rn, LN_X, rvars, 1, &xrow);
    nest_index(&rn, LN_STAT, rvars, 1, &srow);
    if (cols == 0) { /* mean = 0 / 0: the interpreter's NaN */
        ln_store_stats(c, rb, n, srow, -1, -1);
        return LOOM_STATUS_OK;
    }
    int mean = loop_local_new(c->f, ct), inv = loop_local_new(c->f, ct);
    ln_stats(c, rb, n, xrow, cols, ct, mean, inv);
    ln_store_stats(c, rb, n, srow, mean, inv);
    ln_output(c, rb, n, axis, &rn, rvars, xrow, mean, inv, ct);
    return LOOM_STATUS_OK;
}
