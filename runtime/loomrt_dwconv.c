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
 * computes a range of them, the unit a parallel-for would split (each
 * worker with its own scratch).
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
    return rows * stride_w * q;
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

/* ---- row kernels: y[x] = (init ? y[x] : b) + sum_t wt[t] * src[t][x] ---- */

static void dw_row_c(float *y, const float *const *src, const float *wt, int nt, int64_t n,
                     float b, int init)
{
    for (int64_t x = 0; x < n; x++) {
        float acc = init ? y[x] : b;
        for (int t = 0; t < nt; t++)
            acc += wt[t] * src[t][x];
        y[x] = acc;
    }
}

#ifdef LOOMRT_X86

/* The vector kernels take the row in blocks of 4 vectors, the last block
 * masked (so narrow rows, 7 to 56 outputs in MobileNet, also keep 4
 * independent sums in flight), with two partial sums per vector (even and
 * odd taps), halving the chain of dependent FMAs. */

/* Lanes [0, n) of 8 set, n clamped to [0, 8]. */
LOOMRT_TARGET_AVX2 static inline __m256i dw_mask8(int64_t n)
{
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

LOOMRT_TARGET_AVX2 static void dw_row_avx2(float *y, const float *const *src, const float *wt,
                                            int nt, int64_t n, float b, int init)
{
    __m256 vb = _mm256_set1_ps(b), z = _mm256_setzero_ps();
    for (int64_t x = 0; x < n; x += 32) {
        __m256i m[4];
        __m256 a[4], o[4];
        for (int v = 0; v < 4; v++) {
            m[v] = dw_mask8(n - x - 8 * v);
            a[v] = init ? _mm256_maskload_ps(y + x + 8 * v, m[v]) : vb;
            o[v] = z;
        }
        int t = 0;
        for (; t + 2 <= nt; t += 2) {
            __m256 w0 = _mm256_broadcast_ss(wt + t), w1 = _mm256_broadcast_ss(wt + t + 1);
            for (int v = 0; v < 4; v++) {
                a[v] = _mm256_fmadd_ps(w0, _mm256_maskload_ps(src[t] + x + 8 * v, m[v]), a[v]);
                o[v] = _mm256_fmadd_ps(w1, _mm256_maskload_ps(src[t + 1] + x + 8 * v, m[v]),
                                       o[v]);
            }
        }
        if (t < nt)
            for (int v = 0; v < 4; v++)
                a[v] = _mm256_fmadd_ps(_mm256_broadcast_ss(wt + t),
                                       _mm256_maskload_ps(src[t] + x + 8 * v, m[v]), a[v]);
        for (int v = 0; v < 4; v++)
            _mm256_maskstore_ps(y + x + 8 * v, m[v], _mm256_add_ps(a[v], o[v]));
    }
}

/* Lanes [0, n) of 16 set, n clamped to [0, 16]. */
static inline __mmask16 dw_mask16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

LOOMRT_TARGET_AVX512 static void dw_row_avx512(float *y, const float *const *src, const float *wt,
                                                int nt, int64_t n, float b, int init)
{
    __m512 vb = _mm512_set1_ps(b), z = _mm512_setzero_ps();
    for (int64_t x = 0; x < n; x += 64) {
        __mmask16 m[4];
        __m512 a[4], o[4];
        for (int v = 0; v < 4; v++) {
            m[v] = dw_mask16(n - x - 16 * v);
            a[v] = init ? _mm512_maskz_loadu_ps(m[v], y + x + 16 * v) : vb;
            o[v] = z;
        }
        int t = 0;
        for (; t + 2 <= nt; t += 2) {
            __m512 w0 = _mm512_set1_ps(wt[t]), w1 = _mm512_set1_ps(wt[t + 1]);
            for (int v = 0; v < 4; v++) {
                a[v] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m[v], src[t] + x + 16 * v), a[v]);
                o[v] = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m[v], src[t + 1] + x + 16 * v),
                                       o[v]);
            }
        }
        if (t < nt)
            for (int v = 0; v < 4; v++)
                a[v] = _mm512_fmadd_ps(_mm512_set1_ps(wt[t]),
                                       _mm512_maskz_loadu_ps(m[v], src[t] + x + 16 * v), a[v]);
        for (int v = 0; v < 4; v++) {
            __m512 r = _mm512_add_ps(a[v], o[v]);
            if (m[v] == 0xffff)
                _mm512_storeu_ps(y + x + 16 * v, r);
            else
                _mm512_mask_storeu_ps(y + x + 16 * v, m[v], r);
        }
    }
}

#endif

static void dw_row(int isa, float *y, const float *const *src, const float *wt, int nt, int64_t n,
                   float b, int init)
{
#ifdef LOOMRT_X86
    if (isa == LOOMRT_ISA_AVX512) {
        dw_row_avx512(y, src, wt, nt, n, b, init);
        return;
    }
    if (isa == LOOMRT_ISA_AVX2) {
        dw_row_avx2(y, src, wt, nt, n, b, init);
        return;
    }
#else
    (void)isa;
#endif
    dw_row_c(y, src, wt, nt, n, b, init);
}

/* Output row oy of channel m from the laid-out plane s: the taps in
 * passes of DW_MAX_TAPS (first from the bias), then the epilogue. */
static void dw_out_row(int isa, const dw_geom *g, const float *s, const float *wm, float b,
                       int64_t oy, float *y, const float *res, int act, float aa, float ab)
{
    const float *src[DW_MAX_TAPS];
    float wt[DW_MAX_TAPS];
    int nt = 0, first = 1;
    for (int64_t ki = 0; ki < g->kh; ki++)
        for (int64_t kj = 0; kj < g->kw; kj++) {
            int64_t r = oy * g->sh + ki * g->dh, col = kj * g->dw;
            src[nt] = s + (r * g->sw + col % g->sw) * g->q + col / g->sw;
            wt[nt++] = wm[ki * g->kw + kj];
            if (nt == DW_MAX_TAPS || (ki == g->kh - 1 && kj == g->kw - 1)) {
                dw_row(isa, y, src, wt, nt, g->ow, b, !first);
                first = 0;
                nt = 0;
            }
        }
    loomrt_epi_run(y, g->ow, NULL, 0, res, act, aa, ab);
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
        for (int64_t oy = 0; oy < g->oh; oy++) {
            int64_t off = m * plane + oy * g->ow;
            dw_out_row(isa, g, scratch, w + m * ksz, bias ? bias[m] : 0.0f, oy, y + off,
                       res ? res + off : NULL, act, aa, ab);
        }
    }
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
    dw_channels(&g, x, w, y, scratch, 0, C, bias, res, act, act_alpha, act_beta);
}
