/*
 * The buffer arguments of kernel calls, read from each kernel's typed
 * record (loop_ir.h): names, slices, and the elements each kernel reaches
 * from a slice's start, derived from the sizes and strides the runtime
 * functions take (runtime/loomrt.h). The verifier checks these ranges, the
 * memory planner and the walkers visit these buffers; the emitters read
 * the runtime functions' argument lists from loop_call_abi, the one place
 * that knows their order.
 */
#include "loomrt.h"
#include "loop_ir.h"

bool loop_epilogue_present(const loop_epilogue *e)
{
    return e->bias.buf || e->residual.buf || e->act != LOOMRT_ACT_NONE;
}

/* Elements of a rows x cols matrix with row stride ld. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld)
{
    return rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0;
}

static void put(loop_call_arg *out, int *n, const char *name, const loop_slice *s, int64_t extent,
                bool written)
{
    out[(*n)++] = (loop_call_arg){name, s, extent, written};
}

/* The elements of a bias over a rows x cols product. */
static int64_t bias_extent(const loop_epilogue *e, int64_t rows, int64_t cols)
{
    return rows > 0 && cols > 0 ? (rows - 1) * e->bias_rs + (cols - 1) * e->bias_cs + 1 : 0;
}

/* The epilogue's operands: the bias over the m x n product, the residual
 * over res_extent elements (laid out like the output). */
static void epi_args(const loop_epilogue *e, int64_t m, int64_t n_cols, int64_t res_extent,
                     loop_call_arg *out, int *n)
{
    if (e->bias.buf)
        put(out, n, "bias", &e->bias, bias_extent(e, m, n_cols), false);
    if (e->residual.buf)
        put(out, n, "residual", &e->residual, res_extent, false);
}

static int sgemm_args(const loop_sgemm *g, loop_call_arg *out)
{
    int n = 0;
    put(out, &n, "A", &g->a, span(g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda),
        false);
    put(out, &n, "B", &g->b, span(g->trans_b ? g->n : g->k, g->trans_b ? g->k : g->n, g->ldb),
        false);
    put(out, &n, "C", &g->c, span(g->m, g->n, g->ldc), true);
    epi_args(&g->epi, g->m, g->n, span(g->m, g->n, g->ldc), out, &n);
    return n;
}

static int sgemm_packed_args(const loop_sgemm_packed *g, loop_call_arg *out)
{
    int n = 0;
    int64_t rows = g->trans_c ? g->n : g->m, cols = g->trans_c ? g->m : g->n;
    put(out, &n, "A", &g->a, span(g->trans_a ? g->k : g->m, g->trans_a ? g->m : g->k, g->lda),
        false);
    put(out, &n, "Bp", &g->bp, loomrt_sgemm_packed_size(g->n, g->k), false);
    put(out, &n, "C", &g->c, span(rows, cols, g->ldc), true);
    epi_args(&g->epi, g->m, g->n, span(rows, cols, g->ldc), out, &n);
    return n;
}

static int unfold_args(loop_kernel k, const loop_unfold *u, loop_call_arg *out)
{
    const loop_conv2d *g = &u->g;
    int64_t taps = g->channels * g->kh * g->kw, n_img, n_col;
    if (k == LOOP_KERNEL_MAXPOOL) {
        int n = 0;
        put(out, &n, "in", &u->src, g->channels * g->h * g->w, false);
        put(out, &n, "out", &u->dst, g->channels * g->oh * g->ow, true);
        return n;
    }
    if (k == LOOP_KERNEL_IM2COL) {
        n_img = g->channels * g->h * g->w;
        n_col = taps * g->oh * g->ow;
    } else {
        n_col = taps * g->h * g->w;
        n_img = g->channels * g->oh * g->ow;
    }
    int n = 0;
    put(out, &n, k == LOOP_KERNEL_IM2COL ? "in" : "col", &u->src,
        k == LOOP_KERNEL_IM2COL ? n_img : n_col, false);
    put(out, &n, k == LOOP_KERNEL_IM2COL ? "col" : "out", &u->dst,
        k == LOOP_KERNEL_IM2COL ? n_col : n_img, true);
    return n;
}

static int dwconv_args(const loop_dwconv *d, loop_call_arg *out)
{
    const loop_conv2d *g = &d->g;
    int n = 0;
    bool pw = d->pw.buf != NULL, pj = d->pj.buf != NULL;
    int64_t ny = (pj ? d->pj_m : g->channels) * g->oh * g->ow;
    put(out, &n, "x", &d->x,
        pw ? d->pw_k * g->h * g->w : d->mult > 0 ? g->channels / d->mult * g->h * g->w : 0, false);
    if (pw) {
        put(out, &n, "pw", &d->pw, loomrt_sgemm_packed_size(g->channels, d->pw_k), false);
        if (d->pw_epi.bias.buf)
            put(out, &n, "pw_bias", &d->pw_epi.bias, g->channels, false);
    }
    put(out, &n, "w", &d->w, g->channels * g->kh * g->kw, false);
    put(out, &n, "y", &d->y, ny, true);
    put(out, &n, "scratch", &d->scratch,
        pj   ? loomrt_dwpw_scratch(g->channels, g->h, g->w, g->kh, g->kw, g->oh, g->ow,
                                   g->stride_h, g->stride_w, g->dil_h, g->dil_w)
        : pw ? loomrt_pwdw_scratch(g->h, g->w, g->kh, g->kw, g->oh, g->ow, g->stride_h,
                                   g->stride_w, g->dil_h, g->dil_w)
             : loomrt_dwconv_scratch(g->kh, g->kw, g->oh, g->ow, g->stride_h, g->stride_w,
                                     g->dil_h, g->dil_w),
        true);
    if (d->epi.bias.buf)
        put(out, &n, "bias", &d->epi.bias, g->channels, false);
    if (d->epi.residual.buf)
        put(out, &n, "residual", &d->epi.residual, ny, false);
    if (pj) {
        put(out, &n, "pj", &d->pj, d->pj_m * g->channels, false);
        if (d->pj_epi.bias.buf)
            put(out, &n, "pj_bias", &d->pj_epi.bias, d->pj_m, false);
        if (d->pj_epi.residual.buf)
            put(out, &n, "pj_residual", &d->pj_epi.residual, ny, false);
    }
    return n;
}

/* loomrt_conv2d's operands, loomrt_conv2d_direct's (k; its weights
 * packed in blocks of output channels, no scratch) or loomrt_conv2d_t's
 * (its weights transposed and packed). */
static int conv_args(loop_kernel k, const loop_conv *cv, loop_call_arg *out)
{
    const loop_conv2d *g = &cv->g;
    int n = 0;
    int64_t kdim = g->channels * g->kh * g->kw, ny = cv->m * g->oh * g->ow;
    bool direct = k == LOOP_KERNEL_CONV_DIRECT, t = k == LOOP_KERNEL_CONV2D_T;
    put(out, &n, "x", &cv->x, g->channels * g->h * g->w, false);
    put(out, &n, "w", &cv->w,
        direct ? loomrt_conv2d_direct_packed_size(cv->m, kdim)
        : t    ? loomrt_sgemm_packed_size(cv->m, kdim)
               : cv->m * kdim,
        false);
    put(out, &n, "y", &cv->y, ny, true);
    if (!direct)
        put(out, &n, "scratch", &cv->scratch,
            t ? loomrt_conv2d_t_scratch(g->channels, cv->m, g->h, g->w, g->kh, g->kw, g->oh,
                                        g->ow, g->pad_t, g->pad_l, g->stride_h, g->stride_w)
              : loomrt_conv2d_scratch(g->channels, g->kh, g->kw, g->oh, g->ow),
            true);
    epi_args(&cv->epi, cv->m, g->oh * g->ow, ny, out, &n);
    return n;
}

/* loomrt_conv2d_direct_maxpool's operands: those of the direct
 * convolution, y the pooled output, and its scratch. */
static int conv_pool_args(const loop_conv_pool *cp, loop_call_arg *out)
{
    const loop_conv *cv = &cp->conv;
    const loop_conv2d *g = &cv->g, *p = &cp->pool;
    int n = 0;
    int64_t kdim = g->channels * g->kh * g->kw;
    put(out, &n, "x", &cv->x, g->channels * g->h * g->w, false);
    put(out, &n, "w", &cv->w, loomrt_conv2d_direct_packed_size(cv->m, kdim), false);
    put(out, &n, "y", &cv->y, cv->m * p->oh * p->ow, true);
    put(out, &n, "scratch", &cv->scratch,
        loomrt_conv2d_direct_maxpool_scratch(cv->m, g->ow, p->kh, p->stride_h, p->dil_h), true);
    epi_args(&cv->epi, cv->m, g->oh * g->ow, 0, out, &n);
    return n;
}

/* loomrt_conv2d_winograd_maxpool's operands: those of the Winograd
 * convolution over the 2 pool.oh x 2 pool.ow outputs the pool reads, y
 * the pooled output. */
/* The blocks of a Winograd call's scratch (0 given: 1). */
static int64_t wg_blocks(const loop_conv *cv)
{
    return cv->blocks > 1 ? cv->blocks : 1;
}

static int winograd_pool_args(const loop_winograd_pool *wp, loop_call_arg *out)
{
    const loop_conv *cv = &wp->conv;
    const loop_conv2d *g = &cv->g, *p = &wp->pool;
    int n = 0;
    int64_t ch = 2 * p->oh, cw = 2 * p->ow;
    put(out, &n, "x", &cv->x, g->channels * g->h * g->w, false);
    put(out, &n, "w", &cv->w, loomrt_winograd_packed_size(cv->m, g->channels, ch, cw), false);
    put(out, &n, "y", &cv->y, cv->m * p->oh * p->ow, true);
    put(out, &n, "scratch", &cv->scratch,
        wg_blocks(cv) * loomrt_winograd_scratch(g->channels, cv->m, ch, cw), true);
    epi_args(&cv->epi, cv->m, p->oh * p->ow, 0, out, &n);
    return n;
}

static int winograd_args(const loop_winograd *wg, loop_call_arg *out)
{
    const loop_conv2d *g = &wg->g;
    int n = 0;
    int64_t ny = wg->m * g->oh * g->ow;
    put(out, &n, "x", &wg->x, g->channels * g->h * g->w, false);
    put(out, &n, "w", &wg->w, loomrt_winograd_packed_size(wg->m, g->channels, g->oh, g->ow),
        false);
    put(out, &n, "y", &wg->y, ny, true);
    put(out, &n, "scratch", &wg->scratch,
        wg_blocks(wg) * loomrt_winograd_scratch(g->channels, wg->m, g->oh, g->ow), true);
    epi_args(&wg->epi, wg->m, g->oh * g->ow, ny, out, &n);
    return n;
}

/* Q [sq, d], K [sk, d], V [sk, dv], Y [sq, dv] at their row strides; the
 * mask's element (i, j) at i * mask_rs + j * mask_cs. */
static int attention_args(const loop_attention *a, loop_call_arg *out)
{
    int n = 0;
    put(out, &n, "Q", &a->q, span(a->sq, a->d, a->ldq), false);
    put(out, &n, "K", &a->k, span(a->sk, a->d, a->ldk), false);
    put(out, &n, "V", &a->v, span(a->sk, a->dv, a->ldv), false);
    if (a->mask.buf)
        put(out, &n, "mask", &a->mask,
            a->sq > 0 && a->sk > 0 ? (a->sq - 1) * a->mask_rs + (a->sk - 1) * a->mask_cs + 1 : 0,
            false);
    put(out, &n, "Y", &a->y, span(a->sq, a->dv, a->ldy), true);
    put(out, &n, "work", &a->work, loomrt_attention_work_size(a->sq, a->sk, a->d, a->dv), true);
    return n;
}

int loop_call_args(const loop_stmt *s, loop_call_arg *out)
{
    switch (s->kernel) {
    case LOOP_KERNEL_SGEMM: return sgemm_args(&s->call.sgemm, out);
    case LOOP_KERNEL_SGEMM_PACKED: return sgemm_packed_args(&s->call.sgemm_packed, out);
    case LOOP_KERNEL_IM2COL:
    case LOOP_KERNEL_COL2IM:
    case LOOP_KERNEL_MAXPOOL: return unfold_args(s->kernel, &s->call.unfold, out);
    case LOOP_KERNEL_DWCONV: return dwconv_args(&s->call.dwconv, out);
    case LOOP_KERNEL_ATTENTION: return attention_args(&s->call.attention, out);
    case LOOP_KERNEL_CONV2D: return conv_args(s->kernel, &s->call.conv, out);
    case LOOP_KERNEL_WINOGRAD: return winograd_args(&s->call.winograd, out);
    case LOOP_KERNEL_CONV_DIRECT: return conv_args(s->kernel, &s->call.conv_direct, out);
    case LOOP_KERNEL_CONV2D_T: return conv_args(s->kernel, &s->call.conv_t, out);
    case LOOP_KERNEL_CONV_DIRECT_POOL: return conv_pool_args(&s->call.conv_pool, out);
    case LOOP_KERNEL_WINOGRAD_POOL: return winograd_pool_args(&s->call.winograd_pool, out);
    case LOOP_KERNEL_COUNT: break;
    }
    return -1; /* the verifier reports an unknown kernel */
}

/* ---- the runtime functions' arguments ---- */

typedef struct abi {
    loop_abi_arg *out;
    int n;
} abi;

static void a_ptr(abi *a, const loop_slice *s)
{
    a->out[a->n++] = (loop_abi_arg){.kind = s->buf ? LOOP_ABI_PTR : LOOP_ABI_NULL, .slice = s};
}

static void a_i64(abi *a, int64_t v)
{
    a->out[a->n++] = (loop_abi_arg){.kind = LOOP_ABI_I64, .i = v};
}

static void a_i32(abi *a, int64_t v)
{
    a->out[a->n++] = (loop_abi_arg){.kind = LOOP_ABI_I32, .i = v};
}

static void a_f32(abi *a, double v)
{
    a->out[a->n++] = (loop_abi_arg){.kind = LOOP_ABI_F32, .f = v};
}

/* ..., bias, bias_rs, bias_cs, res, act, act_alpha, act_beta (the _epi
 * GEMMs; dwconv has no bias strides). */
static void abi_epilogue(abi *a, const loop_epilogue *e, bool strides)
{
    a_ptr(a, &e->bias);
    if (strides) {
        a_i64(a, e->bias_rs);
        a_i64(a, e->bias_cs);
    }
    a_ptr(a, &e->residual);
    a_i32(a, e->act);
    a_f32(a, e->alpha);
    a_f32(a, e->beta);
}

static void abi_conv2d(abi *a, const loop_conv2d *g)
{
    int64_t v[] = {g->h, g->w, g->kh, g->kw, g->oh, g->ow, g->pad_t, g->pad_l,
                   g->stride_h, g->stride_w, g->dil_h, g->dil_w};
    for (int k = 0; k < 12; k++)
        a_i64(a, v[k]);
}

/* loomrt_sgemm(_epi)(transA, transB, M, N, K, alpha, A, lda, B, ldb,
 * beta, C, ldc[, epilogue]). */
static const char *abi_sgemm(abi *a, const loop_sgemm *g)
{
    a_i32(a, g->trans_a);
    a_i32(a, g->trans_b);
    a_i64(a, g->m);
    a_i64(a, g->n);
    a_i64(a, g->k);
    a_f32(a, g->alpha);
    a_ptr(a, &g->a);
    a_i64(a, g->lda);
    a_ptr(a, &g->b);
    a_i64(a, g->ldb);
    a_f32(a, g->beta);
    a_ptr(a, &g->c);
    a_i64(a, g->ldc);
    if (!loop_epilogue_present(&g->epi))
        return "loomrt_sgemm";
    abi_epilogue(a, &g->epi, true);
    return "loomrt_sgemm_epi";
}

/* loomrt_sgemm_packed(_epi)(transA, transC, M, N, K, alpha, A, lda, Bp,
 * beta, C, ldc[, epilogue]). */
static const char *abi_sgemm_packed(abi *a, const loop_sgemm_packed *g)
{
    a_i32(a, g->trans_a);
    a_i32(a, g->trans_c);
    a_i64(a, g->m);
    a_i64(a, g->n);
    a_i64(a, g->k);
    a_f32(a, g->alpha);
    a_ptr(a, &g->a);
    a_i64(a, g->lda);
    a_ptr(a, &g->bp);
    a_f32(a, g->beta);
    a_ptr(a, &g->c);
    a_i64(a, g->ldc);
    if (!loop_epilogue_present(&g->epi))
        return "loomrt_sgemm_packed";
    abi_epilogue(a, &g->epi, true);
    return "loomrt_sgemm_packed_epi";
}

/* loomrt_im2col / loomrt_col2im / loomrt_maxpool2d(src, C, H, W, kh, kw,
 * oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w, dst). */
static const char *abi_unfold(abi *a, loop_kernel k, const loop_unfold *u)
{
    a_ptr(a, &u->src);
    a_i64(a, u->g.channels);
    abi_conv2d(a, &u->g);
    a_ptr(a, &u->dst);
    return k == LOOP_KERNEL_IM2COL   ? "loomrt_im2col"
           : k == LOOP_KERNEL_COL2IM ? "loomrt_col2im"
                                     : "loomrt_maxpool2d";
}

/* x, pw, pw_bias, K, pw_act, pw_alpha, pw_beta, w: the leading operands
 * of loomrt_pwdw and loomrt_dwpw. */
static void abi_pw(abi *a, const loop_dwconv *d)
{
    a_ptr(a, &d->x);
    a_ptr(a, &d->pw);
    a_ptr(a, &d->pw_epi.bias);
    a_i64(a, d->pw_k);
    a_i32(a, d->pw_epi.act);
    a_f32(a, d->pw_epi.alpha);
    a_f32(a, d->pw_epi.beta);
    a_ptr(a, &d->w);
}

/* loomrt_dwconv(x, w, y, scratch, C, mult, H, ..., dil_w, bias, res, act,
 * act_alpha, act_beta); with a fused pointwise convolution
 * loomrt_pwdw(x, pw, pw_bias, K, pw_act, pw_alpha, pw_beta, w, y,
 * scratch, C, H, ..., the same); with a fused projection
 * loomrt_dwpw(x, pw, pw_bias, K, pw_act, pw_alpha, pw_beta, w, scratch,
 * C, H, ..., dil_w, bias, act, act_alpha, act_beta, pj, pj_bias, M, y,
 * res, pj_act, pj_alpha, pj_beta), pw NULL without the one before. */
static const char *abi_dwconv(abi *a, const loop_dwconv *d)
{
    if (d->pj.buf) {
        abi_pw(a, d);
        a_ptr(a, &d->scratch);
        a_i64(a, d->g.channels);
        abi_conv2d(a, &d->g);
        a_ptr(a, &d->epi.bias);
        a_i32(a, d->epi.act);
        a_f32(a, d->epi.alpha);
        a_f32(a, d->epi.beta);
        a_ptr(a, &d->pj);
        a_ptr(a, &d->pj_epi.bias);
        a_i64(a, d->pj_m);
        a_ptr(a, &d->y);
        a_ptr(a, &d->pj_epi.residual);
        a_i32(a, d->pj_epi.act);
        a_f32(a, d->pj_epi.alpha);
        a_f32(a, d->pj_epi.beta);
        return "loomrt_dwpw";
    }
    if (d->pw.buf) {
        abi_pw(a, d);
        a_ptr(a, &d->y);
        a_ptr(a, &d->scratch);
        a_i64(a, d->g.channels);
        abi_conv2d(a, &d->g);
        abi_epilogue(a, &d->epi, false);
        return "loomrt_pwdw";
    }
    a_ptr(a, &d->x);
    a_ptr(a, &d->w);
    a_ptr(a, &d->y);
    a_ptr(a, &d->scratch);
    a_i64(a, d->g.channels);
    a_i64(a, d->mult);
    abi_conv2d(a, &d->g);
    abi_epilogue(a, &d->epi, false);
    return "loomrt_dwconv";
}

/* loomrt_conv2d(x, w, y, scratch, C, M, H, ..., dil_w, bias, res, act,
 * act_alpha, act_beta), loomrt_conv2d_t the same (its w transposed and
 * packed), and loomrt_conv2d_direct, the same without scratch (its w
 * packed). */
static const char *abi_conv(abi *a, loop_kernel k, const loop_conv *cv)
{
    a_ptr(a, &cv->x);
    a_ptr(a, &cv->w);
    a_ptr(a, &cv->y);
    if (k != LOOP_KERNEL_CONV_DIRECT)
        a_ptr(a, &cv->scratch);
    a_i64(a, cv->g.channels);
    a_i64(a, cv->m);
    abi_conv2d(a, &cv->g);
    abi_epilogue(a, &cv->epi, false);
    return k == LOOP_KERNEL_CONV_DIRECT ? "loomrt_conv2d_direct"
           : k == LOOP_KERNEL_CONV2D_T  ? "loomrt_conv2d_t"
                                        : "loomrt_conv2d";
}

/* loomrt_conv2d_direct_maxpool(x, w, y, scratch, C, M, H, ..., dil_w,
 * bias, act, act_alpha, act_beta, pool kh, kw, oh, ow, pad_t, pad_l,
 * stride_h, stride_w, dil_h, dil_w). */
static const char *abi_conv_pool(abi *a, const loop_conv_pool *cp)
{
    const loop_conv *cv = &cp->conv;
    const loop_conv2d *p = &cp->pool;
    a_ptr(a, &cv->x);
    a_ptr(a, &cv->w);
    a_ptr(a, &cv->y);
    a_ptr(a, &cv->scratch);
    a_i64(a, cv->g.channels);
    a_i64(a, cv->m);
    abi_conv2d(a, &cv->g);
    a_ptr(a, &cv->epi.bias);
    a_i32(a, cv->epi.act);
    a_f32(a, cv->epi.alpha);
    a_f32(a, cv->epi.beta);
    int64_t v[] = {p->kh,    p->kw,       p->oh,       p->ow,    p->pad_t,
                   p->pad_l, p->stride_h, p->stride_w, p->dil_h, p->dil_w};
    for (int i = 0; i < 10; i++)
        a_i64(a, v[i]);
    return "loomrt_conv2d_direct_maxpool";
}

/* loomrt_conv2d_winograd(x, u, y, scratch, blocks, C, M, H, W, oh, ow, pad_t,
 * pad_l, bias, res, act, act_alpha, act_beta). */
static const char *abi_winograd(abi *a, const loop_winograd *wg)
{
    a_ptr(a, &wg->x);
    a_ptr(a, &wg->w);
    a_ptr(a, &wg->y);
    a_ptr(a, &wg->scratch);
    a_i64(a, wg_blocks(wg));
    a_i64(a, wg->g.channels);
    a_i64(a, wg->m);
    a_i64(a, wg->g.h);
    a_i64(a, wg->g.w);
    a_i64(a, wg->g.oh);
    a_i64(a, wg->g.ow);
    a_i64(a, wg->g.pad_t);
    a_i64(a, wg->g.pad_l);
    abi_epilogue(a, &wg->epi, false);
    return "loomrt_conv2d_winograd";
}

/* loomrt_conv2d_winograd_maxpool(x, u, y, scratch, blocks, C, M, H, W, pool oh,
 * ow, pad_t, pad_l, bias, act, act_alpha, act_beta). */
static const char *abi_winograd_pool(abi *a, const loop_winograd_pool *wp)
{
    const loop_conv *cv = &wp->conv;
    a_ptr(a, &cv->x);
    a_ptr(a, &cv->w);
    a_ptr(a, &cv->y);
    a_ptr(a, &cv->scratch);
    int64_t v[] = {wg_blocks(cv), cv->g.channels, cv->m,        cv->g.h,    cv->g.w,
                   wp->pool.oh,   wp->pool.ow,    cv->g.pad_t, cv->g.pad_l};
    for (int i = 0; i < 9; i++)
        a_i64(a, v[i]);
    a_ptr(a, &cv->epi.bias);
    a_i32(a, cv->epi.act);
    a_f32(a, cv->epi.alpha);
    a_f32(a, cv->epi.beta);
    return "loomrt_conv2d_winograd_maxpool";
}

/* loomrt_attention(Sq, Sk, D, Dv, scale, causal, Q, ldq, K, ldk, V, ldv,
 * mask, mask_rs, mask_cs, Y, ldy, work). */
static const char *abi_attention(abi *a, const loop_attention *t)
{
    a_i64(a, t->sq);
    a_i64(a, t->sk);
    a_i64(a, t->d);
    a_i64(a, t->dv);
    a_f32(a, t->scale);
    a_i32(a, t->causal);
    a_ptr(a, &t->q);
    a_i64(a, t->ldq);
    a_ptr(a, &t->k);
    a_i64(a, t->ldk);
    a_ptr(a, &t->v);
    a_i64(a, t->ldv);
    a_ptr(a, &t->mask);
    a_i64(a, t->mask_rs);
    a_i64(a, t->mask_cs);
    a_ptr(a, &t->y);
    a_i64(a, t->ldy);
    a_ptr(a, &t->work);
    return "loomrt_attention";
}

int loop_call_abi(const loop_stmt *s, const char **fn, loop_abi_arg *out)
{
    abi a = {out, 0};
    switch (s->kernel) {
    case LOOP_KERNEL_SGEMM: *fn = abi_sgemm(&a, &s->call.sgemm); return a.n;
    case LOOP_KERNEL_SGEMM_PACKED: *fn = abi_sgemm_packed(&a, &s->call.sgemm_packed); return a.n;
    case LOOP_KERNEL_IM2COL:
    case LOOP_KERNEL_COL2IM:
    case LOOP_KERNEL_MAXPOOL: *fn = abi_unfold(&a, s->kernel, &s->call.unfold); return a.n;
    case LOOP_KERNEL_DWCONV: *fn = abi_dwconv(&a, &s->call.dwconv); return a.n;
    case LOOP_KERNEL_ATTENTION: *fn = abi_attention(&a, &s->call.attention); return a.n;
    case LOOP_KERNEL_CONV2D: *fn = abi_conv(&a, s->kernel, &s->call.conv); return a.n;
    case LOOP_KERNEL_WINOGRAD: *fn = abi_winograd(&a, &s->call.winograd); return a.n;
    case LOOP_KERNEL_CONV_DIRECT: *fn = abi_conv(&a, s->kernel, &s->call.conv_direct); return a.n;
    case LOOP_KERNEL_CONV2D_T: *fn = abi_conv(&a, s->kernel, &s->call.conv_t); return a.n;
    case LOOP_KERNEL_CONV_DIRECT_POOL: *fn = abi_conv_pool(&a, &s->call.conv_pool); return a.n;
    case LOOP_KERNEL_WINOGRAD_POOL:
        *fn = abi_winograd_pool(&a, &s->call.winograd_pool);
        return a.n;
    case LOOP_KERNEL_COUNT: break;
    }
    *fn = NULL;
    return -1;
}
