/*
 * Depthwise 2-D convolution (one input channel per group, as in
 * MobileNet): loomrt_dwconv. As a GEMM it would be a one-row product per
 * channel over a kh*kw-times im2col copy; here each output row is a sum
 * of kh * kw shifted rows of the input, vectorized along the row.
 *
 * Per input channel the plane is first laid out in scratch, zero-padded
 * and with its columns split by phase modulo stride_w: phase p holds the
 * padded columns p, p + s, p + 2s, ... (s = stride_w). The tap (ki, kj) of
 * output (y, x) reads padded row y * stride_h + ki * dil_h and padded
 * column s * x + kj * dil_w, i.e. column x + (kj * dil_w) / s of phase
 * (kj * dil_w) % s: for every stride and dilation, the taps of a row of
 * outputs are contiguous runs ("streams"), and the row kernel is
 * y[x] = bias + sum_t w[t] * stream_t[x]. The kernel keeps 4 vectors of
 * outputs in registers across the taps (AVX-512 and AVX2, chosen by
 * loomrt_isa_get(); portable C otherwise), then the epilogue (loomrt_epi.c)
 * runs over the finished row, still in L1. Channels are independent: dw_channels
 * computes a range of them. Large convolutions split the channels into
 * LOOMRT_DW_SLOTS blocks over the calling thread's threads
 * (loomrt_parallel_for), each range laying its planes out in the scratch
 * slot of its first block: every output is the same sum on any number of
 * threads.
 */
#include "loomrt.h"

#ifdef LOOMRT_X86
#include <immintrin.h>
#endif

/* Taps summed per pass over a row: more go through further passes that
 * accumulate onto the row. */
#define DW_MAX_TAPS 32

typedef struct dw_geom {
    int64_t C, mult, H, W, kh, kw, oh, ow, pad_t, pad_l, sh, sw, dh, dw;
    int64_t rows, q; /* scratch: padded rows, columns per phase */
} dw_geom;

/* Padded rows and columns per phase the outputs reach. */
static void dw_scratch_dims(int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                            int64_t dh, int64_t dw, int64_t *rows, int64_t *q)
{
    *rows = (oh - 1) * sh + (kh - 1) * dh + 1;
    *q = ow + (kw - 1) * dw / sw;
}

LOOMRT_API int64_t loomrt_dwconv_scratch(int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                         int64_t stride_h, int64_t stride_w, int64_t dil_h,
                                         int64_t dil_w)
{
    int64_t rows, q;
    if (oh <= 0 || ow <= 0)
        return 0;
    dw_scratch_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &rows, &q);
    return LOOMRT_DW_SLOTS * rows * stride_w * q;
}

/* Lays out the plane img [H, W] in s: padded row r, phase p, column i at
 * s[(r * sw + p) * q + i] = img[r - pad_t, i * sw + p - pad_l], 0 outside.
 * Per phase the columns inside the image are found once, [i0, i1); they
 * are copied (contiguously at stride 1), the others zeroed. */
static void dw_pad(const dw_geom *g, const float *img, float *s)
{
    int64_t i0[LOOMRT_DW_MAX_STRIDE], i1[LOOMRT_DW_MAX_STRIDE];
    for (int64_t p = 0; p < g->sw; p++) {
        int64_t a = 0, b = g->q;
        while (a < b && a * g->sw + p - g->pad_l < 0)
            a++;
        while (b > a && (b - 1) * g->sw + p - g->pad_l >= g->W)
            b--;
        i0[p] = a;
        i1[p] = b;
    }
    for (int64_t r = 0; r < g->rows; r++) {
        int64_t iy = r - g->pad_t;
        float *d = s + r * g->sw * g->q;
        if (iy < 0 || iy >= g->H) {
            for (int64_t i = 0; i < g->sw * g->q; i++)
                d[i] = 0.0f;
            continue;
        }
        const float *row = img + iy * g->W;
        for (int64_t p = 0; p < g->sw; p++, d += g->q) {
            const float *src = row + p - g->pad_l;
            for (int64_t i = 0; i < i0[p]; i++)
                d[i] = 0.0f;
            if (g->sw == 1)
                for (int64_t i = i0[p]; i < i1[p]; i++)
                    d[i] = src[i];
            else
                for (int64_t i = i0[p]; i < i1[p]; i++)
                    d[i] = src[i * g->sw];
            for (int64_t i = i1[p]; i < g->q; i++)
                d[i] = 0.0f;
        }
    }
}

/* ---- row kernels ----
 * For rows r < nr of n outputs (y rows n apart) and x < n:
 * y[r*n + x] = (init ? y[r*n + x] : b) + sum_t wt[t] * src[t][r*pitch + x]. */

static void dw_rows_c(float *y, const float *const *src, const float *wt, int nt, int64_t n,
                      int64_t nr, int64_t pitch, float b, int init)
{
    for (int64_t r = 0; r < nr; r++, y += n)
        for (int64_t x = 0; x < n; x++) {
            float acc = init ? y[x] : b;
            for (int t = 0; t < nt; t++)
                acc += wt[t] * src[t][r * pitch + x];
            y[x] = acc;
        }
}

#ifdef LOOMRT_X86

/* The vector kernels cut the rows into chunks of one vector and take
 * the chunks of all rows 4 at a time (so narrow rows, 7 to 56 outputs in
 * MobileNet, also keep 4 independent sums in flight), the last chunk of
 * a row masked; two partial sums per chunk (even and odd taps) halve the
 * chains of dependent FMAs. */

/* Lanes [0, n) of 8 set, n clamped to [0, 8]. */
LOOMRT_TARGET_AVX2 static inline __m256i dw_mask8(int64_t n)
{
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

/* Offsets into y and the streams of chunk u (of width lanes) of the
 * rows; 0 past the last chunk, whose mask is then empty. */
static inline void dw_chunk(int64_t u, int64_t units, int64_t nch, int lanes, int64_t n,
                            int64_t pitch, int64_t *yo, int64_t *so, int64_t *left)
{
    if (u >= units) {
        *yo = *so = *left = 0;
        return;
    }
    int64_t r = u / nch, c = (u - r * nch) * lanes;
    *yo = r * n + c;
    *so = r * pitch + c;
    *left = n - c;
}

LOOMRT_TARGET_AVX2 static void dw_rows_avx2(float *y, const float *const *src, const float *wt,
                                             int nt, int64_t n, int64_t nr, int64_t pitch,
                                             float b, int init)
{
    __m256 vb = _mm256_set1_ps(b), z = _mm256_setzero_ps();
    int64_t nch = (n + 7) / 8, units = nr * nch;
    for (int64_t u0 = 0; u0 < units; u0 += 4) {
        __m256i m[4];
        __m256 a[4], o[4];
        int64_t yo[4], so[4];
        for (int v = 0; v < 4; v++) {
            int64_t left;
            dw_chunk(u0 + v, units, nch, 8, n, pitch, &yo[v], &so[v], &left);
            m[v] = dw_mask8(left);
            a[v] = init ? _mm256_maskload_ps(y + yo[v], m[v]) : vb;
            o[v] = z;
        }
        int t = 0;
        for (; t + 2 <= nt; t += 2) {
            __m256 w0 = _mm256_broadcast_ss(wt + t), w1 = _mm256_broadcast_ss(wt + t + 1);
            for (int v = 0; v < 4; v++) {
                a[v] = _mm256_fmadd_ps(w0, _mm256_maskload_ps(src[t] + so[v], m[v]), a[v]);
                o[v] = _mm256_fmadd_ps(w1, _mm256_maskload_ps(src[t + 1] + so[v], m[v]), o[v]);
            }
        }
        if (t < nt)
            for (int v = 0; v < 4; v++)
                a[v] = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + t),
                                       _mm256_maskload_ps(src[t] + so[v], m[v]), a[v]);
        for (int v = 0; v < 4; v++)
            _mm256_maskstore_ps(y + yo[v], m[v], _mm256_add_ps(a[v], o[v]));
    }
}

/* Lanes [0, n) of 16 set, n clamped to [0, 16]. */
static inline __mmask16 dw_mask16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

LOOMRT_TARGET_AVX512 static void dw_rows_avx512(float *y, const float *const *src,
                                                 const float *wt, int nt, int64_t n, int64_t nr,
                                                 int64_t pitch, float b, int init)
{
    __m512 vb = _mm512_set1_ps(b), z = _mm512_setzero_ps();
    int64_t nch = (n + 15) / 16, units = nr * nch;
    for (int64_t u0 = 0; u0 < units; u0 += 4) {
        __mmask16 m[4];
        __m512 a[4], o[4];
        int64_t yo[4], so[4];
        for (int v = 0; v < 4; v++) {
            int64_t left;
            dw_chunk(u0 + v, units, nch, 16, n, pitch, &yo[v], &so[v], &left);
            m[v] = dw_mask16(left);
            a[v] = init ? _mm512_maskz_loadu_ps(m[v], y + yo[v]) : vb;
            o[v] = z;
        }
        int t = 0;
        for (; t + 2 <= nt; t += 2) {
            __m512 w0 = _mm512_set1_ps(wt[t]), w1 = _mm512_set1_ps(wt[t + 1]);
            for (int v = 0; v < 4; v++) {
                a[v] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m[v], src[t] + so[v]), a[v]);
                o[v] = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m[v], src[t + 1] + so[v]),
                                       o[v]);
            }
        }
        if (t < nt)
            for (int v = 0; v < 4; v++)
                a[v] = _mm512_fmadd_ps(_mm512_set1_ps(wt[t]),
                                       _mm512_maskz_loadu_ps(m[v], src[t] + so[v]), a[v]);
        for (int v = 0; v < 4; v++)
            _mm512_mask_storeu_ps(y + yo[v], m[v], _mm512_add_ps(a[v], o[v]));
    }
}

#endif

static void dw_rows(int isa, float *y, const float *const *src, const float *wt, int nt,
                    int64_t n, int64_t nr, int64_t pitch, float b, int init)
{
#ifdef LOOMRT_X86
    if (isa == LOOMRT_ISA_AVX512) {
        dw_rows_avx512(y, src, wt, nt, n, nr, pitch, b, init);
        return;
    }
    if (isa == LOOMRT_ISA_AVX2) {
        dw_rows_avx2(y, src, wt, nt, n, nr, pitch, b, init);
        return;
    }
#else
    (void)isa;
#endif
    dw_rows_c(y, src, wt, nt, n, nr, pitch, b, init);
}

/* The output plane y [oh, ow] of channel m from the laid-out plane s: all
 * rows at once, the taps in passes of DW_MAX_TAPS (the first from the
 * bias), then the epilogue over the plane. Output row oy's tap (ki, kj)
 * reads padded row oy * sh + ki * dh, so its stream starts oy * pitch
 * after row 0's. */
static void dw_plane(int isa, const dw_geom *g, const float *s, const float *wm, float b, float *y,
                     const float *res, int act, float aa, float ab)
{
    const float *src[DW_MAX_TAPS];
    float wt[DW_MAX_TAPS];
    int nt = 0, first = 1;
    int64_t pitch = g->sh * g->sw * g->q;
    for (int64_t ki = 0; ki < g->kh; ki++)
        for (int64_t kj = 0, col = 0; kj < g->kw; kj++, col += g->dw) {
            src[nt] = s + (ki * g->dh * g->sw + col % g->sw) * g->q + col / g->sw;
            wt[nt++] = wm[ki * g->kw + kj];
            if (nt == DW_MAX_TAPS || (ki == g->kh - 1 && kj == g->kw - 1)) {
                dw_rows(isa, y, src, wt, nt, g->ow, g->oh, pitch, b, !first);
                first = 0;
                nt = 0;
            }
        }
    loomrt_epi_run(y, g->oh * g->ow, NULL, 0, res, act, aa, ab);
}

/* Output channels [c0, c1), each input plane laid out once in scratch
 * for its mult output channels. */
static void dw_channels(const dw_geom *g, const float *x, const float *w, float *y,
                        float *scratch, int64_t c0, int64_t c1, const float *bias,
                        const float *res, int act, float aa, float ab)
{
    int isa = loomrt_isa_get();
    int64_t plane = g->oh * g->ow, ksz = g->kh * g->kw, laid = -1;
    for (int64_t m = c0; m < c1; m++) {
        int64_t ci = m / g->mult;
        if (ci != laid) {
            dw_pad(g, x + ci * g->H * g->W, scratch);
            laid = ci;
        }
        dw_plane(isa, g, scratch, w + m * ksz, bias ? bias[m] : 0.0f, y + m * plane,
                 res ? res + m * plane : NULL, act, aa, ab);
    }
}

/* One depthwise convolution split by blocks of channels. */
typedef struct dw_job {
    const dw_geom *g;
    const float *x, *w, *bias, *res;
    float *y, *scratch;
    int64_t blocks, slot; /* channel blocks; floats of scratch per block */
    int act;
    float aa, ab;
} dw_job;

/* Channel blocks [b0, b1), in the scratch slot of block b0 (ranges of
 * blocks on different threads are disjoint, so are their slots). */
static int dw_task(void *arg, int64_t b0, int64_t b1)
{
    const dw_job *j = (const dw_job *)arg;
    int64_t C = j->g->C;
    dw_channels(j->g, j->x, j->w, j->y, j->scratch + b0 * j->slot, C * b0 / j->blocks,
                C * b1 / j->blocks, j->bias, j->res, j->act, j->aa, j->ab);
    return 0;
}

LOOMRT_API void loomrt_dwconv(const float *x, const float *w, float *y, float *scratch, int64_t C,
                              int64_t mult, int64_t H, int64_t W, int64_t kh, int64_t kw,
                              int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                              int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                              const float *bias, const float *res, int act, float act_alpha,
                              float act_beta)
{
    if (C <= 0 || oh <= 0 || ow <= 0)
        return;
    dw_geom g = {C, mult, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w,
                 0, 0};
    dw_scratch_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &g.rows, &g.q);
    int threads = loomrt_threads_get();
    int64_t blocks = C < LOOMRT_DW_SLOTS ? C : LOOMRT_DW_SLOTS;
    /* 2^15 multiply-adds per thread and more */
    if (threads > 1 && blocks > 1 && C * oh * ow * kh * kw >= ((int64_t)1 << 15) * threads) {
        dw_job j = {&g, x, w, bias, res, y, scratch, blocks, g.rows * stride_w * g.q,
                    act, act_alpha, act_beta};
        loomrt_parallel_for(blocks, dw_task, &j);
    } else {
        dw_channels(&g, x, w, y, scratch, 0, C, bias, res, act, act_alpha, act_beta);
    }
}
