/*
 * Fused scaled dot-product attention for one head (loomrt_attention):
 * Y = softmax(scale * Q K^T + mask [+ causal]) V, computed tile by tile
 * with the online softmax of FlashAttention (Dao et al. 2022, Milakov &
 * Gimelshein 2018), so the Sq x Sk score matrix never exists: only one
 * ATTN_BQ x ATTN_BK tile of it, in the caller's workspace.
 *
 * For each block of query rows, key blocks are visited in order; per row
 * the running maximum m and sum l are kept, the output rows (Y itself)
 * are rescaled by exp(m_old - m_new) when the maximum grows, and P V of
 * the tile is added to them. K^T and V are packed once per head into the
 * workspace (loomrt_sgemm_pack_b's panels; V block by block of keys), and
 * every query block reuses them: both products run through
 * loomrt_sgemm_packed's AVX-512 / AVX2 / portable kernels (loomrt_cpu.c)
 * with no packing or dispatch per tile. The row work
 * (mask, maximum, exp, sums) is plain C over contiguous rows, with the
 * runtime's branch-free loomrt_expf so compilers vectorize it.
 *
 * A row whose scores are all -inf (fully masked) gives NaN, as
 * softmax(-inf, ..., -inf) does in ONNX's reference; a key block that is
 * all -inf for a row contributes nothing (its maximum is taken as 0 so
 * exp(-inf - m) is 0, not NaN). Causal masking keeps key j for query i
 * when j <= i (ONNX Attention-23 is_causal, upper-left aligned) and skips
 * key blocks that lie wholly above the diagonal; a block the diagonal
 * crosses is computed whole and masked (its packed V has that width).
 */
#include "loomrt.h"

/* Query rows and keys per tile: the score tile (32 KB) and a V block of
 * 128 keys of head_dim 64 (32 KB) stay in L1/L2. */
#define ATTN_BQ 64
#define ATTN_BK 128

/* Floats of one packed V block of bk keys: Dv rounded up to panels. */
static int64_t attn_dv_pad(int64_t Dv)
{
    return (Dv + LOOMRT_SGEMM_NR - 1) / LOOMRT_SGEMM_NR * LOOMRT_SGEMM_NR;
}

/* The workspace: score tile, row maxima and sums, packed K^T [Sk keys as
 * columns, D], packed V blocks. */
LOOMRT_API int64_t loomrt_attention_work_size(int64_t Sq, int64_t Sk, int64_t D, int64_t Dv)
{
    int64_t bq = Sq < ATTN_BQ ? Sq : ATTN_BQ, bk = Sk < ATTN_BK ? Sk : ATTN_BK;
    return bq * bk + 2 * bq + loomrt_sgemm_packed_size(Sk, D) + Sk * attn_dv_pad(Dv);
}

/* Lanes of the partial maxima and sums: independent accumulators that
 * compilers turn into vector registers without reassociating anything. */
#define ATTN_LANES 16

/* Adds the mask and the causal -inf to score row s[0..bk) of query i
 * (keys j0..j0+bk). */
static void attn_row_bias(float *s, int64_t bk, int64_t i, int64_t j0, int causal,
                          const float *mrow, int64_t mask_cs)
{
    if (mrow)
        for (int64_t c = 0; c < bk; c++)
            s[c] += mrow[(j0 + c) * mask_cs];
    if (causal)
        for (int64_t c = i - j0 + 1 < 0 ? 0 : i - j0 + 1; c < bk; c++)
            s[c] = -INFINITY;
}

static float attn_row_max(const float *s, int64_t n)
{
    float acc[ATTN_LANES], m = -INFINITY;
    for (int l = 0; l < ATTN_LANES; l++)
        acc[l] = -INFINITY;
    int64_t c = 0;
    for (; c + ATTN_LANES <= n; c += ATTN_LANES)
        for (int l = 0; l < ATTN_LANES; l++)
            acc[l] = s[c + l] > acc[l] ? s[c + l] : acc[l];
    for (; c < n; c++)
        m = s[c] > m ? s[c] : m;
    for (int l = 0; l < ATTN_LANES; l++)
        m = acc[l] > m ? acc[l] : m;
    return m;
}

/* s[c] = exp(s[c] - m); returns their sum. */
static float attn_row_exp(float *s, int64_t n, float m)
{
    for (int64_t c = 0; c < n; c++)
        s[c] = loomrt_expf(s[c] - m);
    float acc[ATTN_LANES] = {0}, sum = 0.0f;
    int64_t c = 0;
    for (; c + ATTN_LANES <= n; c += ATTN_LANES)
        for (int l = 0; l < ATTN_LANES; l++)
            acc[l] += s[c + l];
    for (; c < n; c++)
        sum += s[c];
    for (int l = 0; l < ATTN_LANES; l++)
        sum += acc[l];
    return sum;
}

static void attn_row_scale(float *y, int64_t n, float a)
{
    for (int64_t c = 0; c < n; c++)
        y[c] *= a;
}

/* The geometry of one call, passed between the helpers. */
typedef struct attn_args {
    int64_t Sq, Sk, D, Dv;
    float scale;
    int causal;
    const float *Q, *K, *V, *mask;
    int64_t ldq, ldk, ldv, mask_rs, mask_cs, ldy;
    float *Y;
    int64_t bq, bk; /* tile size: ATTN_BQ x ATTN_BK or the whole head */
    float *kp, *vp; /* packed K^T and V blocks, in the workspace */
} attn_args;

/* Softmax bookkeeping of key block [j0, j0+bk) for query rows [i0, i0+bq)
 * whose scores are in s (row stride bk): s becomes P, rows of Y are
 * rescaled, m and l updated. first: the block is the first one visited. */
static void attn_block_softmax(const attn_args *a, float *s, int64_t i0, int64_t bq, int64_t j0,
                               int64_t bk, float *m, float *l, int first)
{
    for (int64_t r = 0; r < bq; r++) {
        float *row = s + r * bk;
        int64_t i = i0 + r;
        attn_row_bias(row, bk, i, j0, a->causal, a->mask ? a->mask + i * a->mask_rs : 0,
                      a->mask_cs);
        float bm = attn_row_max(row, bk);
        float mn = first || bm > m[r] ? bm : m[r];
        float mu = mn == -INFINITY ? 0.0f : mn; /* all -inf so far */
        float sum = attn_row_exp(row, bk, mu);
        if (first) {
            l[r] = sum;
        } else {
            float alpha = loomrt_expf(m[r] - mu);
            l[r] = l[r] * alpha + sum;
            if (alpha != 1.0f)
                attn_row_scale(a->Y + i * a->ldy, a->Dv, alpha);
        }
        m[r] = mn;
    }
}

/* Packs K^T (keys as the columns of the Q K^T product) and V, block by
 * block of bk keys (block j0 at vp + j0 * dv_pad: [Dv panels][bk][16]),
 * into the workspace after the score tile. */
static void attn_pack(attn_args *a, float *work)
{
    a->kp = work + a->bq * a->bk + 2 * a->bq;
    a->vp = a->kp + loomrt_sgemm_packed_size(a->Sk, a->D);
    loomrt_sgemm_pack_b(1, a->Sk, a->D, a->K, a->ldk, a->kp);
    for (int64_t j0 = 0; j0 < a->Sk; j0 += a->bk) {
        int64_t bk = a->Sk - j0 < a->bk ? a->Sk - j0 : a->bk;
        loomrt_sgemm_pack_b(0, a->Dv, bk, a->V + j0 * a->ldv, a->ldv,
                            a->vp + j0 * attn_dv_pad(a->Dv));
    }
}

/* Query rows [i0, i0+bq): every key block, then the division by l. */
static void attn_rows(const attn_args *a, int64_t i0, int64_t bq, float *work)
{
    float *s = work, *m = work + a->bq * a->bk, *l = m + a->bq;
    int64_t bk_max = a->bk;
    /* causal: keys past the block's last query row are all masked */
    int64_t end = a->causal && i0 + bq < a->Sk ? i0 + bq : a->Sk;
    for (int64_t j0 = 0; j0 < end; j0 += bk_max) {
        int64_t bk = a->Sk - j0 < bk_max ? a->Sk - j0 : bk_max;
        int first = j0 == 0;
        loomrt_sgemm_packed(0, 0, bq, bk, a->D, a->scale, a->Q + i0 * a->ldq, a->ldq,
                            a->kp + j0 * a->D, 0.0f, s, bk);
        attn_block_softmax(a, s, i0, bq, j0, bk, m, l, first);
        loomrt_sgemm_packed(0, 0, bq, a->Dv, bk, 1.0f, s, bk, a->vp + j0 * attn_dv_pad(a->Dv),
                            first ? 0.0f : 1.0f, a->Y + i0 * a->ldy, a->ldy);
    }
    for (int64_t r = 0; r < bq; r++)
        attn_row_scale(a->Y + (i0 + r) * a->ldy, a->Dv, 1.0f / l[r]);
}

LOOMRT_API void loomrt_attention(int64_t Sq, int64_t Sk, int64_t D, int64_t Dv, float scale,
                                 int causal, const float *Q, int64_t ldq, const float *K,
                                 int64_t ldk, const float *V, int64_t ldv, const float *mask,
                                 int64_t mask_rs, int64_t mask_cs, float *Y, int64_t ldy,
                                 float *work)
{
    if (Sq <= 0 || Dv <= 0)
        return;
    attn_args a = {Sq, Sk, D, Dv, scale, causal, Q, K, V, mask, ldq, ldk, ldv, mask_rs, mask_cs,
                   ldy, Y, Sq < ATTN_BQ ? Sq : ATTN_BQ, Sk < ATTN_BK ? Sk : ATTN_BK, 0, 0};
    if (Sk <= 0) { /* softmax over no keys: 0 / 0 */
        for (int64_t i = 0; i < Sq; i++)
            for (int64_t c = 0; c < Dv; c++)
                Y[i * ldy + c] = NAN;
        return;
    }
    attn_pack(&a, work);
    for (int64_t i0 = 0; i0 < Sq; i0 += a.bq)
        attn_rows(&a, i0, Sq - i0 < a.bq ? Sq - i0 : a.bq, work);
}
