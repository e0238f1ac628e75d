/*
 * Fused attention: the runtime kernel loomrt_attention against a plain
 * double-precision reference (full score rows, softmax, weighted sum) on
 * odd shapes (sequence 1, 3, 17, 65, 130 and more, head_dim 1 to 128,
 * strided rows, no mask, broadcast and full masks, causal, fully masked
 * rows) at every instruction-set level this CPU runs (loomrt_isa_force);
 * the FusedAttention op in the interpreter against the same reference;
 * and the op lowered and run by every backend (tl_check_c: OpenBLAS C,
 * standalone C, the JIT) against the interpreter.
 *
 * Tolerance: |got - want| <= 2e-5 + 1e-4 |want|. The kernel sums q.k and
 * p.v in f32 in blocked order and uses loomrt_expf (2 ulp); over head_dim
 * 128 and 300 keys that stays within a few 1e-6 of the double reference
 * for the [-1, 1) inputs used here.
 */
#include <math.h>
#include <stdlib.h>

#include "loomrt.h"
#include "testlib.h"

#define ATOL 2e-5f
#define RTOL 1e-4f

/* One head's problem: rows at strides ld*, mask element (i, j) at
 * mask[i * mrs + j * mcs]. */
typedef struct head {
    int64_t sq, sk, d, dv, ldq, ldk, ldv, ldy, mrs, mcs;
    float scale;
    int causal;
    float *q, *k, *v, *mask;
} head;

static void ref_attention(const head *h, float *y)
{
    double *s = malloc(sizeof(double) * (size_t)h->sk);
    cr_assert(s);
    for (int64_t i = 0; i < h->sq; i++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < h->sk; j++) {
            double dot = 0;
            for (int64_t t = 0; t < h->d; t++)
                dot += (double)h->q[i * h->ldq + t] * h->k[j * h->ldk + t];
            s[j] = h->scale * dot + (h->mask ? h->mask[i * h->mrs + j * h->mcs] : 0.0);
            if (h->causal && j > i)
                s[j] = -INFINITY;
            mx = s[j] > mx ? s[j] : mx;
        }
        for (int64_t j = 0; j < h->sk; j++)
            sum += s[j] = exp(s[j] - mx);
        for (int64_t c = 0; c < h->dv; c++) {
            double acc = 0;
            for (int64_t j = 0; j < h->sk; j++)
                acc += s[j] * h->v[j * h->ldv + c];
            y[i * h->ldy + c] = (float)(acc / sum);
        }
    }
    free(s);
}

static float *rand_buf(int64_t n, uint32_t seed)
{
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    cr_assert(p);
    tl_fill(p, IR_DTYPE_F32, n, seed);
    return p;
}

/* Mask kinds of a case. */
enum { MASK_NONE, MASK_ROW, MASK_FULL };

/* Runs one case at the current ISA level: the kernel against the
 * reference. Rows are padded (ld = width + 3) to test the strides. */
static void check_case(int64_t sq, int64_t sk, int64_t d, int64_t dv, int mask_kind, int causal)
{
    static uint32_t seed = 1;
    head h = {sq, sk, d, dv, d + 3, d + 3, dv + 3, dv + 3, 0, 0, 1.0f / sqrtf((float)d),
              causal, NULL, NULL, NULL, NULL};
    h.q = rand_buf(sq * h.ldq, seed++);
    h.k = rand_buf(sk * h.ldk, seed++);
    h.v = rand_buf(sk * h.ldv, seed++);
    if (mask_kind != MASK_NONE) {
        h.mask = rand_buf(sq * sk, seed++);
        for (int64_t j = 0; j < sq * sk; j += 5)
            h.mask[j] = -10000.0f; /* BERT's padding value */
        h.mrs = mask_kind == MASK_FULL ? sk : 0;
        h.mcs = 1;
    }
    float *got = rand_buf(sq * h.ldy, seed++), *want = rand_buf(sq * h.ldy, 7);
    memcpy(want, got, sizeof(float) * (size_t)(sq * h.ldy));
    float *work = malloc(sizeof(float) * (size_t)loomrt_attention_work_size(sq, sk, d, dv));
    cr_assert(work);
    loomrt_attention(sq, sk, d, dv, h.scale, causal, h.q, h.ldq, h.k, h.ldk, h.v, h.ldv, h.mask,
                     h.mrs, h.mcs, got, h.ldy, work);
    ref_attention(&h, want);
    for (int64_t i = 0; i < sq; i++)
        for (int64_t c = 0; c < h.ldy; c++) {
            float w = want[i * h.ldy + c], g = got[i * h.ldy + c];
            cr_assert(fabsf(g - w) <= ATOL + RTOL * fabsf(w),
                      "isa %d sq %lld sk %lld d %lld dv %lld mask %d causal %d: y[%lld,%lld] = "
                      "%.9g, want %.9g",
                      loomrt_isa_get(), (long long)sq, (long long)sk, (long long)d, (long long)dv,
                      mask_kind, causal, (long long)i, (long long)c, g, w);
        }
    free(h.q), free(h.k), free(h.v), free(h.mask), free(got), free(want), free(work);
}

static const int64_t seqs[] = {1, 3, 17, 65, 130};
static const int64_t dims[] = {1, 8, 64, 128};

Test(attention_kernel, matches_reference_at_every_isa)
{
    int top = loomrt_isa_detect();
    for (int isa = LOOMRT_ISA_PORTABLE; isa <= top; isa++) {
        cr_assert_eq(loomrt_isa_force(isa), isa);
        for (size_t a = 0; a < sizeof seqs / sizeof seqs[0]; a++)
            for (size_t b = 0; b < sizeof seqs / sizeof seqs[0]; b++)
                for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++)
                    check_case(seqs[a], seqs[b], dims[t], dims[(t + 1) % 4], (int)((a + b) % 3),
                               (int)((a + t) % 2));
    }
    loomrt_isa_force(-1);
}

Test(attention_kernel, long_sequences_cross_tiles)
{
    /* several 64-row and 128-key tiles, the last ones partial */
    check_case(300, 300, 64, 64, MASK_FULL, 0);
    check_case(300, 300, 64, 64, MASK_NONE, 1);
    check_case(257, 129, 32, 48, MASK_ROW, 0);
}

Test(attention_kernel, fully_masked_rows_are_nan_like_softmax)
{
    /* row 1's keys all -inf: NaN as softmax(-inf, ...) gives; row 0's
     * first key tile all -inf, a later one finite: finite */
    int64_t sq = 2, sk = 200, d = 4;
    float *q = rand_buf(sq * d, 1), *k = rand_buf(sk * d, 2), *v = rand_buf(sk * d, 3);
    float *mask = malloc(sizeof(float) * (size_t)(sq * sk)), y[8], work[2 * 128 + 4 + 208 * 4 + 200 * 16];
    cr_assert(mask);
    cr_assert_geq((int64_t)(sizeof work / sizeof work[0]),
                  loomrt_attention_work_size(sq, sk, d, d));
    for (int64_t j = 0; j < sk; j++) {
        mask[j] = j < 150 ? -INFINITY : 0.0f;
        mask[sk + j] = -INFINITY;
    }
    loomrt_attention(sq, sk, d, d, 0.5f, 0, q, d, k, d, v, d, mask, sk, 1, y, d, work);
    head h = {1, sk, d, d, d, d, d, d, sk, 1, 0.5f, 0, q, k, v, mask};
    float want[4];
    ref_attention(&h, want);
    for (int c = 0; c < 4; c++) {
        cr_assert(fabsf(y[c] - want[c]) <= ATOL + RTOL * fabsf(want[c]), "y[0,%d]", c);
        cr_assert(isnan(y[4 + c]), "y[1,%d] = %g, want NaN", c, y[4 + c]);
    }
    free(q), free(k), free(v), free(mask);
}

/* ---- the FusedAttention op ---- */

/* A graph y = FusedAttention(q, k, v [, mask]) of the given shapes. */
static ir_graph *attention_graph(int rank, const int64_t *qs, const int64_t *ks, const int64_t *vs,
                                 int mrank, const int64_t *ms, float scale, int causal)
{
    ir_graph *g = tl_graph("attn");
    ir_value *in[4] = {tl_input(g, "q", IR_DTYPE_F32, rank, qs),
                       tl_input(g, "k", IR_DTYPE_F32, rank, ks),
                       tl_input(g, "v", IR_DTYPE_F32, rank, vs),
                       mrank ? tl_input(g, "mask", IR_DTYPE_F32, mrank, ms) : NULL};
    ir_node *n = tl_node(g, IR_OP_FUSED_ATTENTION, "y", mrank ? 4 : 3, in, 1, "y");
    if (scale > 0)
        ir_node_set_float(g, n, "scale", scale);
    if (causal)
        ir_node_set_int(g, n, "is_causal", 1);
    tl_mark_outputs(g);
    tl_infer_ok(g);
    return g;
}

Test(attention_op, interpreter_matches_reference)
{
    /* [2, 3, 17, 8] heads, a [2, 1, 1, 9]-style padding mask over keys */
    int64_t qs[4] = {2, 3, 17, 8}, ks[4] = {2, 3, 9, 8}, vs[4] = {2, 3, 9, 5}, ms[4] = {2, 1, 1, 9};
    ir_graph *g = attention_graph(4, qs, ks, vs, 4, ms, 0, 0);
    float *q = rand_buf(2 * 3 * 17 * 8, 11), *k = rand_buf(2 * 3 * 9 * 8, 12);
    float *v = rand_buf(2 * 3 * 9 * 5, 13), *m = rand_buf(2 * 9, 14);
    float got[2 * 3 * 17 * 5], want[2 * 3 * 17 * 5];
    tl_run(g, (const void *[]){q, k, v, m}, (void *[]){got});
    for (int b = 0; b < 2; b++)
        for (int hh = 0; hh < 3; hh++) {
            int64_t bh = b * 3 + hh;
            head h = {17, 9, 8, 5, 8, 8, 5, 5, 0, 1, 1.0f / sqrtf(8.0f), 0,
                      q + bh * 17 * 8, k + bh * 9 * 8, v + bh * 9 * 5, m + b * 9};
            ref_attention(&h, want + bh * 17 * 5);
        }
    tl_assert_close_f32(got, want, 2 * 3 * 17 * 5, ATOL, RTOL);
    free(q), free(k), free(v), free(m);
    ir_graph_free(g);
}

/* The op of these shapes on every backend against the interpreter. */
static void check_backends(int rank, const int64_t *qs, const int64_t *ks, const int64_t *vs,
                           int mrank, const int64_t *ms, float scale, int causal)
{
    ir_graph *g = attention_graph(rank, qs, ks, vs, mrank, ms, scale, causal);
    tl_check_c(g, NULL, ATOL, RTOL);
    ir_graph_free(g);
}

Test(attention_op, backends_match_interpreter_bert_style_mask)
{
    int64_t qs[4] = {2, 4, 17, 16}, vs[4] = {2, 4, 17, 16}, ms[4] = {2, 1, 1, 17};
    check_backends(4, qs, qs, vs, 4, ms, 0.25f, 0);
}

Test(attention_op, backends_match_interpreter_causal_and_full_mask)
{
    /* rank 3 ([B*H, S, D] as ViT's TorchScript export reshapes), a
     * [S, S] mask broadcast over heads, causal, Sq != Sk, D != Dv */
    int64_t qs[3] = {3, 65, 24}, ks[3] = {3, 70, 24}, vs[3] = {3, 70, 7}, ms[2] = {65, 70};
    check_backends(3, qs, ks, vs, 2, ms, 0, 1);
}

Test(attention_op, backends_match_interpreter_single_query)
{
    int64_t qs[4] = {1, 2, 1, 128}, ks[4] = {1, 2, 3, 128}, vs[4] = {1, 2, 3, 1};
    check_backends(4, qs, ks, vs, 0, NULL, 0.1f, 0);
}
