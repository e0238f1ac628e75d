/*
 * Depthwise 2-D convolution (one input channel per group, as in
 * MobileNet): loomrt_dwconv. As a GEMM it would be a one-row product per
 * channel over a kh*kw-times im2col copy. With AVX-512 or AVX2 the
 * channel-blocked kernels further down vectorize across channels (see
 * there); the per-plane kernels here (the portable level, few channels,
 * more than DW_MAX_TAPS taps) sum kh * kw shifted rows of the input,
 * vectorized along the row.
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
 *
 * loomrt_pwdw is loomrt_dwconv with a 1x1 convolution before it computed
 * inside it (dw_pw): where the kernels would read an input row (into a
 * channel-blocked band, or a plane for the per-plane kernels), they compute
 * it from the 1x1 convolution's input instead.
 *
 * The direct convolution of images with few channels (loomrt_conv2d_direct,
 * at the end) lives here too: it vectorizes across output channels and
 * shares the blocked kernels' transposes, masks and activations.
 */
#include <string.h>

#include "loomrt.h"
#include "loomrt_simd.h"

#ifdef LOOMRT_X86
#include <immintrin.h>
#endif

/* Output rows per thread from which a blocked depthwise Conv is split over
 * the threads by its output rows (each thread all channel blocks of its
 * rows) rather than by channel blocks: the 1x1 Conv after it reads its
 * output by pixels, and by rows each core's share is already in its own
 * caches. Measured on the Xeon (2 cores, 2 MB L2 each), mobilenet_v2 on 2
 * threads, steps' medians of 80 interleaved runs, us: the 56x56 block's
 * fused expansion and depthwise Conv 216-220 -> 184-187, the 144 -> 24
 * projection after it 149-151 -> 100-101; at 28x28 (14 rows a thread)
 * the halo rows each band recomputes cost more: 75 -> 89 and 46 -> 54
 * for the projection, at 14x14 and 7x7 40 -> 70, 17-23 -> 43-47. */
#define DW_ROWS_PER_THREAD 28

/* Taps summed per pass over a row: more go through further passes that
 * accumulate onto the row. */
#define DW_MAX_TAPS 32

typedef struct dw_geom {
    int64_t C, mult, H, W, kh, kw, oh, ow, pad_t, pad_l, sh, sw, dh, dw;
    int64_t rows, q; /* scratch: padded rows, columns per phase */
} dw_geom;

/* A pointwise (1x1) convolution fused before the depthwise one
 * (loomrt_pwdw): the depthwise input channel m is
 * act(bias[m] + sum_k w[m, k] * x[k, :, :]), computed where the
 * depthwise kernel would read it, never stored whole. w is packed as
 * loomrt_sgemm_pack_b packs W^T: w[m, k] at w[(m / 16) * K * 16 + k * 16
 * + m % 16], zero past the channels. */
typedef struct dw_pw {
    const float *x, *w, *bias; /* x [K, H, W]; bias [C] or NULL */
    int64_t K;
    int act;
    float aa, ab;
} dw_pw;

/* Padded rows and columns per phase the outputs reach. */
static void dw_scratch_dims(int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                            int64_t dh, int64_t dw, int64_t *rows, int64_t *q)
{
    *rows = (oh - 1) * sh + (kh - 1) * dh + 1;
    *q = ow + (kw - 1) * dw / sw;
}

/* The channel-blocked kernels' band: output rows per band, so that the
 * band's input rows, interleaved DW_LANES channels per pixel, fill at
 * most DW_BAND floats (or kh rows when one row is wider), and padded
 * columns per row. */
#define DW_LANES 16
#define DW_BAND 16384

static void dw_band_dims(int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh, int64_t sw,
                         int64_t dh, int64_t dw, int64_t *rows, int64_t *cols)
{
    int64_t span = (kh - 1) * dh + 1, fit = DW_BAND / (((ow - 1) * sw + (kw - 1) * dw + 1) * DW_LANES);
    int64_t r = fit > span ? (fit - span) / sh + 1 : 1;
    *rows = r < oh ? r : oh;
    *cols = (ow - 1) * sw + (kw - 1) * dw + 1;
}

/* The fused projection's band (loomrt_dwpw): the depthwise band's rows,
 * fewer where C channels of them would pass DW_PJ_BAND floats, so that
 * the band's outputs stay in L2 for the projection's GEMM. */
#define DW_PJ_BAND 32768

/* The fused band's rows for a depthwise band of `rows` rows of ow
 * outputs. */
static int64_t dw_pj_rows_of(int64_t C, int64_t ow, int64_t rows)
{
    int64_t fit = DW_PJ_BAND / (C * ow);
    return fit < 1 ? 1 : fit < rows ? fit : rows;
}

static int64_t dw_pj_rows(int64_t C, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,
                          int64_t sw, int64_t dh, int64_t dw)
{
    int64_t rows, cols;
    dw_band_dims(kh, kw, oh, ow, sh, sw, dh, dw, &rows, &cols);
    return dw_pj_rows_of(C, ow, rows);
}

/* Floats of the fused band: C channels of dw_pj_rows rows. */
static int64_t dw_pj_band(int64_t C, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t sh,
                          int64_t sw, int64_t dh, int64_t dw)
{
    return C * ow * dw_pj_rows(C, kh, kw, oh, ow, sh, sw, dh, dw);
}

LOOMRT_API int64_t loomrt_dwconv_scratch(int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                         int64_t stride_h, int64_t stride_w, int64_t dil_h,
                                         int64_t dil_w)
{
    int64_t rows, q, br, bc;
    if (oh <= 0 || ow <= 0)
        return 0;
    dw_scratch_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &rows, &q);
    dw_band_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &br, &bc);
    int64_t plane = rows * stride_w * q, band = ((br - 1) * stride_h + (kh - 1) * dil_h + 1) * bc *
                                                DW_LANES;
    return LOOMRT_DW_SLOTS * (plane > band ? plane : band);
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
            m[v] = loomrt_mask8(left);
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

/* Input plane m of the fused pointwise convolution, at p [H * W]. */
static void dw_pw_plane(const dw_geom *g, const dw_pw *pw, int64_t m, float *p)
{
    int64_t hw = g->H * g->W;
    const float *wm = pw->w + m / 16 * pw->K * 16 + m % 16;
    float b = pw->bias ? pw->bias[m] : 0.0f;
    for (int64_t i = 0; i < hw; i++)
        p[i] = b;
    for (int64_t k = 0; k < pw->K; k++) {
        float wk = wm[k * 16];
        const float *xk = pw->x + k * hw;
        for (int64_t i = 0; i < hw; i++)
            p[i] += wk * xk[i];
    }
    loomrt_epi_run(p, hw, NULL, 0, NULL, pw->act, pw->aa, pw->ab);
}

/* Output channels [c0, c1), each input plane laid out once in scratch
 * for its mult output channels; with pw the plane is computed first, at
 * plane_in [H * W]. */
static void dw_channels(const dw_geom *g, const dw_pw *pw, const float *x, const float *w,
                        float *y, float *scratch, float *plane_in, int64_t c0, int64_t c1,
                        const float *bias, const float *res, int act, float aa, float ab)
{
    int isa = loomrt_isa_get();
    int64_t plane = g->oh * g->ow, ksz = g->kh * g->kw, laid = -1;
    for (int64_t m = c0; m < c1; m++) {
        int64_t ci = m / g->mult;
        if (ci != laid) {
            if (pw)
                dw_pw_plane(g, pw, ci, plane_in);
            dw_pad(g, pw ? plane_in : x + ci * g->H * g->W, scratch);
            laid = ci;
        }
        dw_plane(isa, g, scratch, w + m * ksz, bias ? bias[m] : 0.0f, y + m * plane,
                 res ? res + m * plane : NULL, act, aa, ab);
    }
}

/* ---- channel-blocked kernels (AVX-512: 16 channels, AVX2: 8) ----
 * The per-plane kernels above waste most of a vector on the narrow rows
 * of late MobileNet layers (7 or 14 outputs) and read strided rows
 * through the phase layout. These take L channels at a time, a band of
 * output rows at a time: the band's input rows are transposed into
 * scratch as [row][padded column][L] (zero outside the image and past the
 * block's channels), so that a tap of one output pixel is one vector load
 * for all L channels at any stride or dilation. The band's outputs,
 * flattened as y stores them, go L pixels at a time: L accumulators of L
 * channels, each the bias then kh * kw FMAs in tap order, then one L x L
 * transpose gives each channel L consecutive outputs, stored with the
 * residual and the activations up to Clip applied in registers (the
 * others by loomrt_epi_run over the band). */

typedef struct dw_blk {
    const dw_geom *g;
    const dw_pw *pw; /* the fused pointwise producer, or NULL */
    const float *x, *w, *bias, *res;
    float *y, *buf;
    int64_t rows, cols; /* a band's output rows; padded columns */
    int act;
    float aa, ab;
    /* output rows [oy0, oy1) go to y, its channel planes ypl floats apart,
     * output (oy, ox) at (oy - oy0) * ow + ox (the whole output: 0, oh,
     * oh * ow) */
    int64_t oy0, oy1, ypl;
} dw_blk;

/* What every tap of block [c0, c0 + cn) needs, for L lanes: the weights
 * as wb[t * L + c], the bias, the taps' offsets into the band, the input
 * plane of each lane (NULL past cn, and with a fused pointwise
 * convolution, whose band rows are computed instead). */
static void dw_blk_setup(const dw_blk *b, int64_t c0, int64_t cn, int L, float *wb, float *bb,
                         int64_t *toff, const float **src)
{
    const dw_geom *g = b->g;
    int64_t nt = g->kh * g->kw;
    for (int64_t t = 0; t < nt; t++) {
        for (int c = 0; c < L; c++)
            wb[t * L + c] = c < cn ? b->w[(c0 + c) * nt + t] : 0.0f;
        toff[t] = ((t / g->kw) * g->dh * b->cols + (t % g->kw) * g->dw) * L;
    }
    for (int c = 0; c < L; c++) {
        bb[c] = c < cn && b->bias ? b->bias[c0 + c] : 0.0f;
        src[c] = c < cn && !b->pw ? b->x + (c0 + c) / g->mult * g->H * g->W : NULL;
    }
}

/* Band row r (padded row pr) at d: returns the image row to transpose in
 * (its columns [0, *xb) go to padded columns from pad_l) after zeroing
 * what lies outside the image, or -1 when the whole row is padding. */
static int64_t dw_band_row(const dw_blk *b, int64_t pr, float *d, int L, int64_t *xb)
{
    const dw_geom *g = b->g;
    int64_t iy = pr - g->pad_t, n = g->W < b->cols - g->pad_l ? g->W : b->cols - g->pad_l;
    if (iy < 0 || iy >= g->H || n <= 0) {
        for (int64_t i = 0; i < b->cols * L; i++)
            d[i] = 0.0f;
        return -1;
    }
    for (int64_t i = 0; i < g->pad_l * L; i++)
        d[i] = 0.0f;
    for (int64_t i = (g->pad_l + n) * L; i < b->cols * L; i++)
        d[i] = 0.0f;
    *xb = n;
    return iy;
}

/* The next chunk of n <= L pixels from output (*oy, *ox) of the band,
 * advanced past them. A whole chunk inside one output row at stride 1 or
 * 2 returns its first pixel's band address, the others lying sw * L
 * floats apart (dw_taps_row8, dw_taps_row16); any other chunk returns
 * NULL with each pixel's address in base (lanes past n repeat the first
 * pixel; their sums are not stored). */
static const float *dw_chunk_next(const dw_blk *b, int L, int64_t n, int64_t *oy, int64_t *ox,
                                  const float **base)
{
    const dw_geom *g = b->g;
    if (n == L && *ox + L <= g->ow && g->sw <= 2) {
        const float *row = b->buf + (*oy * g->sh * b->cols + *ox * g->sw) * L;
        if ((*ox += L) == g->ow) {
            *ox = 0;
            ++*oy;
        }
        return row;
    }
    for (int p = 0; p < L; p++) {
        if (p >= n) {
            base[p] = base[0];
            continue;
        }
        base[p] = b->buf + (*oy * g->sh * b->cols + *ox * g->sw) * L;
        if (++*ox == g->ow) {
            *ox = 0;
            ++*oy;
        }
    }
    return NULL;
}

/* The fused band's pixels in groups of 8 for the AVX-512 pointwise loop
 * (dw_pw_rows16), over nr rows of n pixels: rows of 28, 14 or 7 pixels
 * would leave a group of each row an eighth empty, so the rows' whole
 * groups come first, row by row, then their last n % 8 pixels as one run
 * across the rows (alone,
 * one thread: mobilenet_v2's 32 -> 192 at 28x28 188 -> 176 us, 96 -> 576
 * at 14x14 289 -> 265). Each pixel's offset in the 1x1's input (rows W
 * apart) and in the band (rows ld floats apart, L per pixel); lanes past
 * a group's pixels repeat its last one (their sums are not stored). */
typedef struct dw_pw_walk {
    int64_t nr, n, W, ld, r, x, q; /* r, x: the next whole group; q: the next tail pixel */
    int L;
} dw_pw_walk;

/* The next group into off and doff; how many pixels, 0 at the end. */
static inline int dw_pw_next(dw_pw_walk *w, int64_t *off, int64_t *doff)
{
    int64_t n8 = w->n / 8 * 8, tail = w->n - n8;
    if (w->r < w->nr && w->x < n8) { /* the whole groups, row by row */
        for (int t = 0; t < 8; t++) {
            off[t] = w->r * w->W + w->x + t;
            doff[t] = w->r * w->ld + (w->x + t) * w->L;
        }
        if ((w->x += 8) == n8) {
            w->x = 0;
            w->r++;
        }
        return 8;
    }
    int cnt = 0; /* then the tails: pixel q is row q / tail's column n8 + q % tail */
    for (; cnt < 8 && w->q < w->nr * tail; cnt++, w->q++) {
        int64_t r = w->q / tail, x = n8 + w->q % tail;
        off[cnt] = r * w->W + x;
        doff[cnt] = r * w->ld + x * w->L;
    }
    for (int t = cnt; cnt && t < 8; t++) {
        off[t] = off[cnt - 1];
        doff[t] = doff[cnt - 1];
    }
    return cnt;
}

/* The fused 1x1's activations past Clip over its nr band rows of len
 * floats, ld apart. */
static void dw_pw_rows_act(const dw_blk *b, float *d, int64_t nr, int64_t len, int64_t ld)
{
    for (int64_t r = 0; b->pw->act > LOOMRT_ACT_CLIP && r < nr; r++)
        loomrt_epi_run(d + r * ld, len, NULL, 0, NULL, b->pw->act, b->pw->aa, b->pw->ab);
}

/* After a band: the activations past Clip over each channel's outputs. */
static void dw_band_act(const dw_blk *b, int64_t c0, int64_t cn, int64_t at, int64_t n)
{
    if (b->act <= LOOMRT_ACT_CLIP)
        return;
    for (int64_t c = 0; c < cn; c++)
        loomrt_epi_run(b->y + (c0 + c) * b->ypl + (at - b->oy0 * b->g->ow), n, NULL, 0, NULL,
                       b->act, b->aa, b->ab);
}

#ifdef LOOMRT_X86

/* The fused 1x1 for the block's 8 channels (weights wp[k * 16 + c], bias
 * vb[c]) over nv runs of cnt <= 8 contiguous pixels of image rows (nv 1
 * or 2; run v from x[v], its band pixels from d[v], 8 channel lanes a
 * pixel), with the pixels as the vector: each weight broadcast for nv
 * FMAs, four channels at a time, then a 4 x 8 transpose into the band.
 * The sums are those of a loop over the channels as the vector (bias,
 * then the K products in order). */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
dw_pw_px8(const dw_pw *pw, int64_t hw, const float *const *x, const float *wp, const float *vb,
          int nv, int64_t cnt, float *const *d)
{
    loomrt_act8_t ka = loomrt_act8_of(pw->act, pw->aa, pw->ab);
    __m256i m = loomrt_mask8(cnt);
    _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
        __m256 a[4][2];
        for (int c = 0; c < 4; c++)
            a[c][0] = a[c][1] = _mm256_broadcast_ss(vb + 4 * h + c);
        const float *wk = wp + 4 * h;
        for (int64_t k = 0, o = 0; k < pw->K; k++, o += hw, wk += 16) {
            __m256 p0, p1;
            if (cnt == 8) {
                p0 = _mm256_loadu_ps(x[0] + o);
                p1 = nv > 1 ? _mm256_loadu_ps(x[1] + o) : p0;
            } else {
                p0 = _mm256_maskload_ps(x[0] + o, m);
                p1 = nv > 1 ? _mm256_maskload_ps(x[1] + o, m) : p0;
            }
            _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
                __m256 wv = _mm256_broadcast_ss(wk + c);
                a[c][0] = _mm256_fmadd_ps(wv, p0, a[c][0]);
                if (nv > 1)
                    a[c][1] = _mm256_fmadd_ps(wv, p1, a[c][1]);
            }
        }
        _Pragma("GCC unroll 2") for (int v = 0; v < nv; v++) {
            __m256 t[4];
            for (int c = 0; c < 4; c++)
                t[c] = loomrt_act8(a[c][v], ka);
            __m256 u0 = _mm256_unpacklo_ps(t[0], t[1]), u1 = _mm256_unpackhi_ps(t[0], t[1]);
            __m256 u2 = _mm256_unpacklo_ps(t[2], t[3]), u3 = _mm256_unpackhi_ps(t[2], t[3]);
            /* q[i]: pixels i (low half) and i + 4 (high half), 4 channels */
            __m256 q[4] = {_mm256_shuffle_ps(u0, u2, 0x44), _mm256_shuffle_ps(u0, u2, 0xee),
                           _mm256_shuffle_ps(u1, u3, 0x44), _mm256_shuffle_ps(u1, u3, 0xee)};
            float *dv = d[v] + 4 * h;
            for (int i = 0; i < 4; i++) {
                if (i < cnt)
                    _mm_storeu_ps(dv + i * 8, _mm256_castps256_ps128(q[i]));
                if (i + 4 < cnt)
                    _mm_storeu_ps(dv + (i + 4) * 8, _mm256_extractf128_ps(q[i], 1));
            }
        }
    }
}

/* As dw_pw_rows16 (below), for 8 lanes, with the pixels as the vector
 * (dw_pw_px8): each row's whole groups of 8 pixels two at a time, then
 * the rows' last n % 8 pixels, two rows at a time. With the channels as
 * the vector every FMA had a broadcast of its own, and a Zen 3 core runs
 * one a cycle (mobilenet_v2's features.2, 24 -> 144 channels at 112x112
 * then 3x3/2, 1717 -> 943 us in the model; the whole model 15.9 -> 13.1
 * ms with the whole groups this way, 11.1 with the tails too). */
LOOMRT_TARGET_AVX2 static void dw_pw_rows8(const dw_blk *b, int64_t c0, int64_t cn, int64_t iy,
                                            int64_t nr, int64_t n, float *d, int64_t ld)
{
    const dw_pw *pw = b->pw;
    int64_t K = pw->K, W = b->g->W, hw = b->g->H * W, n8 = n / 8 * 8;
    const float *wp = pw->w + c0 / 16 * K * 16 + c0 % 16, *xr = pw->x + iy * W;
    float bias[8];
    for (int c = 0; c < 8; c++)
        bias[c] = pw->bias && c < cn ? pw->bias[c0 + c] : 0.0f;
    for (int64_t r = 0; r < nr; r++)
        for (int64_t x = 0; x < n8; x += 16) {
            const float *xs[2] = {xr + r * W + x, xr + r * W + x + 8};
            float *ds[2] = {d + r * ld + x * 8, d + r * ld + (x + 8) * 8};
            if (n8 - x >= 16)
                dw_pw_px8(pw, hw, xs, wp, bias, 2, 8, ds);
            else
                dw_pw_px8(pw, hw, xs, wp, bias, 1, 8, ds);
        }
    for (int64_t r = 0; n > n8 && r < nr; r += 2) {
        const float *xs[2] = {xr + r * W + n8, xr + (r + 1) * W + n8};
        float *ds[2] = {d + r * ld + n8 * 8, d + (r + 1) * ld + n8 * 8};
        if (r + 1 < nr)
            dw_pw_px8(pw, hw, xs, wp, bias, 2, n - n8, ds);
        else
            dw_pw_px8(pw, hw, xs, wp, bias, 1, n - n8, ds);
    }
    dw_pw_rows_act(b, d, nr, n * 8, ld);
}

/* As dw_taps_row16 (below), for 8 pixels of 8 channels. */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
dw_taps_row8(const float *a, const float *wb, const int64_t *toff, int64_t nt, int sw,
             __m256 *acc)
{
    for (int64_t t = 0; t < nt; t++) {
        __m256 wv = _mm256_loadu_ps(wb + t * 8);
        const float *r = a + toff[t];
        for (int p = 0; p < 8; p++)
            acc[p] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(r + p * sw * 8), acc[p]);
    }
}

LOOMRT_TARGET_AVX2 static void dw_block_avx2(const dw_blk *b, int64_t c0, int64_t cn)
{
    loomrt_act8_t ka = loomrt_act8_of(b->act, b->aa, b->ab);
    enum { L = 8 };
    const dw_geom *g = b->g;
    float wb[DW_MAX_TAPS * L], bb[L];
    int64_t toff[DW_MAX_TAPS], nt = g->kh * g->kw, plane = g->oh * g->ow;
    /* the output's geometry in locals: the stores below may alias *b */
    int64_t ypl = b->ypl, oy_end = b->oy1, yat = b->oy0 * g->ow;
    float *yb = b->y;
    const float *src[L], *base[L] = {NULL};
    dw_blk_setup(b, c0, cn, L, wb, bb, toff, src);
    __m256 vbias = _mm256_loadu_ps(bb);
    for (int64_t oy0 = b->oy0; oy0 < oy_end; oy0 += b->rows) {
        int64_t rb = b->rows < oy_end - oy0 ? b->rows : oy_end - oy0;
        int64_t nin = (rb - 1) * g->sh + (g->kh - 1) * g->dh + 1, xb = 0;
        int64_t r0 = 0, y0 = 0, nr = 0; /* the fused 1x1's band rows */
        for (int64_t r = 0; r < nin; r++) {
            float *d = b->buf + r * b->cols * L;
            int64_t iy = dw_band_row(b, oy0 * g->sh + r, d, L, &xb);
            if (b->pw && iy >= 0) { /* computed below, as one run of rows */
                if (nr++ == 0)
                    r0 = r, y0 = iy;
                continue;
            }
            for (int64_t x0 = 0; iy >= 0 && x0 < xb; x0 += L) {
                int64_t n = xb - x0 < L ? xb - x0 : L;
                __m256i m = loomrt_mask8(n);
                __m256 v[L];
                /* whole vectors by plain loads: Zen 3's masked loads took 32
                 * channels at 112x112 from 252 to 268 us, 576 at 14x14 87 -> 92 */
                if (n == L && cn == L)
                    for (int c = 0; c < L; c++)
                        v[c] = _mm256_loadu_ps(src[c] + iy * g->W + x0);
                else
                    for (int c = 0; c < L; c++)
                        v[c] = src[c] ? _mm256_maskload_ps(src[c] + iy * g->W + x0, m)
                                      : _mm256_setzero_ps();
                loomrt_tr8(v);
                for (int p = 0; p < n; p++)
                    _mm256_storeu_ps(d + (g->pad_l + x0 + p) * L, v[p]);
            }
        }
        if (nr)
            dw_pw_rows8(b, c0, cn, y0, nr, xb, b->buf + (r0 * b->cols + g->pad_l) * L,
                        b->cols * L);
        int64_t total = rb * g->ow, oy = 0, ox = 0;
        for (int64_t q0 = 0; q0 < total; q0 += L) {
            int64_t n = total - q0 < L ? total - q0 : L, at = oy0 * g->ow + q0;
            const float *row = dw_chunk_next(b, L, n, &oy, &ox, base);
            __m256 acc[L];
            for (int p = 0; p < L; p++)
                acc[p] = vbias;
            if (row && g->sw == 1)
                dw_taps_row8(row, wb, toff, nt, 1, acc);
            else if (row)
                dw_taps_row8(row, wb, toff, nt, 2, acc);
            else
                for (int64_t t = 0; t < nt; t++) {
                    __m256 wv = _mm256_loadu_ps(wb + t * L);
                    for (int p = 0; p < L; p++)
                        acc[p] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(base[p] + toff[t]), acc[p]);
                }
            loomrt_tr8(acc);
            __m256i m = loomrt_mask8(n);
            for (int64_t c = 0; c < cn; c++) {
                float *yc = yb + (c0 + c) * ypl + (at - yat);
                __m256 v = acc[c];
                const float *rc = b->res ? b->res + (c0 + c) * plane + at : NULL;
                if (rc)
                    v = _mm256_add_ps(v, n == L ? _mm256_loadu_ps(rc) : _mm256_maskload_ps(rc, m));
                v = loomrt_act8(v, ka);
                if (n == L)
                    _mm256_storeu_ps(yc, v);
                else
                    _mm256_maskstore_ps(yc, m, v);
            }
        }
        dw_band_act(b, c0, cn, oy0 * g->ow, total);
    }
}

/* Band rows d, d + ld, ... (from their first image column) of block
 * [c0, c0 + cn) from the fused pointwise convolution: nr image rows from
 * iy of n pixels each, 8 pixels at a time (dw_pw_next), each the bias
 * then K FMAs of a broadcast input value and the block's weights, then
 * the activation. */
LOOMRT_TARGET_AVX512 static void dw_pw_rows16(const dw_blk *b, int64_t c0, int64_t cn,
                                               int64_t iy, int64_t nr, int64_t n, float *d,
                                               int64_t ld)
{
    const dw_pw *pw = b->pw;
    loomrt_act16_t ka = loomrt_act16_of(pw->act, pw->aa, pw->ab);
    int64_t K = pw->K, hw = b->g->H * b->g->W, off[8], doff[8];
    const float *wp = pw->w + c0 / 16 * K * 16 + c0 % 16, *xr = pw->x + iy * b->g->W;
    __m512 vb = pw->bias ? _mm512_maskz_loadu_ps(dw_mask16(cn), pw->bias + c0)
                         : _mm512_setzero_ps();
    dw_pw_walk wk = {nr, n, b->g->W, ld, 0, 0, 0, 16};
    for (int cnt; (cnt = dw_pw_next(&wk, off, doff)) > 0;) {
        __m512 acc[8];
        for (int t = 0; t < 8; t++)
            acc[t] = vb;
        const float *xk = xr;
        for (int64_t k = 0; k < K; k++, xk += hw) {
            __m512 wv = _mm512_loadu_ps(wp + k * 16);
            for (int t = 0; t < 8; t++)
                acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(xk[off[t]]), wv, acc[t]);
        }
        for (int t = 0; t < cnt; t++)
            _mm512_storeu_ps(d + doff[t], loomrt_act16(acc[t], ka));
    }
    dw_pw_rows_act(b, d, nr, n * 16, ld);
}

/* acc[p] += the taps of 16 pixels of one output row, pixel p's band at
 * a + p * sw * 16: with sw a constant, every load is one register
 * (a + toff[t]) plus a constant. A chunk that crosses a row end needs its
 * 16 addresses (dw_chunk_next), more than the registers hold, reloaded
 * on every tap: the chunks within a row take this path (mobilenet_v2's
 * depthwise layers alone 2-13% faster). */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
dw_taps_row16(const float *a, const float *wb, const int64_t *toff, int64_t nt, int sw,
              __m512 *acc)
{
    for (int64_t t = 0; t < nt; t++) {
        __m512 wv = _mm512_loadu_ps(wb + t * 16);
        const float *r = a + toff[t];
        for (int p = 0; p < 16; p++)
            acc[p] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(r + p * sw * 16), acc[p]);
    }
}

LOOMRT_TARGET_AVX512 static void dw_block_avx512(const dw_blk *b, int64_t c0, int64_t cn)
{
    loomrt_act16_t ka = loomrt_act16_of(b->act, b->aa, b->ab);
    enum { L = 16 };
    const dw_geom *g = b->g;
    float wb[DW_MAX_TAPS * L], bb[L];
    int64_t toff[DW_MAX_TAPS], nt = g->kh * g->kw, plane = g->oh * g->ow;
    /* the output's geometry in locals: the stores below may alias *b */
    int64_t ypl = b->ypl, oy_end = b->oy1, yat = b->oy0 * g->ow;
    float *yb = b->y;
    const float *src[L], *base[L];
    dw_blk_setup(b, c0, cn, L, wb, bb, toff, src);
    __m512 vbias = _mm512_loadu_ps(bb);
    for (int64_t oy0 = b->oy0; oy0 < oy_end; oy0 += b->rows) {
        int64_t rb = b->rows < oy_end - oy0 ? b->rows : oy_end - oy0;
        int64_t nin = (rb - 1) * g->sh + (g->kh - 1) * g->dh + 1, xb = 0;
        int64_t r0 = 0, y0 = 0, nr = 0; /* the fused 1x1's band rows */
        for (int64_t r = 0; r < nin; r++) {
            float *d = b->buf + r * b->cols * L;
            int64_t iy = dw_band_row(b, oy0 * g->sh + r, d, L, &xb);
            if (b->pw && iy >= 0) { /* computed below, as one run of rows */
                if (nr++ == 0)
                    r0 = r, y0 = iy;
                continue;
            }
            for (int64_t x0 = 0; iy >= 0 && x0 < xb; x0 += L) {
                int64_t n = xb - x0 < L ? xb - x0 : L;
                __mmask16 m = dw_mask16(n);
                __m512 v[L];
                for (int c = 0; c < L; c++)
                    v[c] = src[c] ? _mm512_maskz_loadu_ps(m, src[c] + iy * g->W + x0)
                                  : _mm512_setzero_ps();
                loomrt_tr16(v);
                for (int p = 0; p < n; p++)
                    _mm512_storeu_ps(d + (g->pad_l + x0 + p) * L, v[p]);
            }
        }
        if (nr)
            dw_pw_rows16(b, c0, cn, y0, nr, xb, b->buf + (r0 * b->cols + g->pad_l) * L,
                         b->cols * L);
        int64_t total = rb * g->ow, oy = 0, ox = 0;
        for (int64_t q0 = 0; q0 < total; q0 += L) {
            int64_t n = total - q0 < L ? total - q0 : L, at = oy0 * g->ow + q0;
            const float *row = dw_chunk_next(b, L, n, &oy, &ox, base);
            __m512 acc[L];
            for (int p = 0; p < L; p++)
                acc[p] = vbias;
            if (row && g->sw == 1)
                dw_taps_row16(row, wb, toff, nt, 1, acc);
            else if (row)
                dw_taps_row16(row, wb, toff, nt, 2, acc);
            else
                for (int64_t t = 0; t < nt; t++) {
                    __m512 wv = _mm512_loadu_ps(wb + t * L);
                    for (int p = 0; p < L; p++)
                        acc[p] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(base[p] + toff[t]), acc[p]);
                }
            loomrt_tr16(acc);
            __mmask16 m = dw_mask16(n);
            for (int64_t c = 0; c < cn; c++) {
                float *yc = yb + (c0 + c) * ypl + (at - yat);
                __m512 v = acc[c];
                if (b->res)
                    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, b->res + (c0 + c) * plane + at));
                _mm512_mask_storeu_ps(yc, m, loomrt_act16(v, ka));
            }
        }
        dw_band_act(b, c0, cn, oy0 * g->ow, total);
    }
}

#endif

/* Lanes of the channel-blocked kernel for isa, 0 when there is none. */
static int dw_blk_lanes(int isa)
{
#ifdef LOOMRT_X86
    if (isa == LOOMRT_ISA_AVX512)
        return 16;
    if (isa == LOOMRT_ISA_AVX2)
        return 8;
#else
    (void)isa;
#endif
    return 0;
}

/* Channel blocks [k0, k1) of L channels. */
static void dw_blocks(int isa, const dw_blk *b, int64_t k0, int64_t k1)
{
    int L = dw_blk_lanes(isa);
    for (int64_t k = k0; k < k1; k++) {
        int64_t c0 = k * L, cn = b->g->C - c0 < L ? b->g->C - c0 : L;
#ifdef LOOMRT_X86
        if (L == 16)
            dw_block_avx512(b, c0, cn);
        else
            dw_block_avx2(b, c0, cn);
#else
        (void)cn;
#endif
    }
}

/* A 1x1 convolution fused after the depthwise one (loomrt_dwpw): y [M,
 * oh, ow] = act(bias[m] + sum_c w[m, c] * dw[c, :, :] + res), w [M, C]. */
typedef struct dw_pj {
    const float *w, *bias, *res; /* bias [M], res laid out as y: NULL or not */
    float *y;
    int64_t M;
    int act;
    float aa, ab;
} dw_pj;

/* One depthwise convolution split into parts over the threads: ranges
 * of channels (per-plane kernels), of channel blocks (blocked) or of
 * bands (with pj), each part in the scratch slot of its first part
 * index. */
typedef struct dw_job {
    const dw_geom *g;
    const dw_pw *pw;
    const dw_pj *pj; /* the fused projection, or NULL */
    const float *x, *w, *bias, *res;
    float *y, *scratch;
    int64_t units, parts, slot; /* channels or blocks; parts; floats of scratch per slot */
    int64_t plane_at; /* past the kernels' own scratch in a slot: the fused pointwise
                       * plane, or with pj the band of depthwise outputs */
    int64_t rows, cols;         /* the blocked kernels' band */
    int by_rows;                /* units are parts of the output rows, not blocks */
    int isa, act;
    float aa, ab;
} dw_job;

static void dw_part(const dw_job *j, int64_t u0, int64_t u1, float *scratch)
{
    const dw_geom *g = j->g;
    if (j->rows) { /* channel blocks [u0, u1) over all rows, or all over rows [r0, r1) */
        int64_t k0 = u0, k1 = u1, r0 = 0, r1 = g->oh;
        if (j->by_rows) {
            k0 = 0;
            k1 = (g->C + dw_blk_lanes(j->isa) - 1) / dw_blk_lanes(j->isa);
            r0 = g->oh * u0 / j->units;
            r1 = g->oh * u1 / j->units;
        }
        dw_blk b = {g,       j->pw,  j->x,  j->w,  j->bias, j->res, j->y + r0 * g->ow, scratch,
                    j->rows, j->cols, j->act, j->aa, j->ab, r0,     r1,  g->oh * g->ow};
        dw_blocks(j->isa, &b, k0, k1);
    } else {
        dw_channels(g, j->pw, j->x, j->w, j->y, scratch, scratch + j->plane_at, u0, u1, j->bias,
                    j->res, j->act, j->aa, j->ab);
    }
}

/* Bands [u0, u1) of j->rows output rows with the fused projection: per
 * band every channel block's depthwise outputs into the band buffer [C,
 * rows * ow] (in L2), then the projection's GEMM over the band's columns
 * on this thread, its epilogue in registers. */
static void dw_pj_part(const dw_job *j, int64_t u0, int64_t u1, float *scratch)
{
    const dw_geom *g = j->g;
    const dw_pj *pj = j->pj;
    float *d = scratch + j->plane_at;
    int L = dw_blk_lanes(j->isa);
    int64_t plane = g->oh * g->ow, blocks = (g->C + L - 1) / L;
    int prev = loomrt_threads_swap(1); /* the band's GEMM is this thread's part */
    for (int64_t u = u0; u < u1; u++) {
        int64_t oy0 = u * j->rows, oy1 = oy0 + j->rows < g->oh ? oy0 + j->rows : g->oh;
        int64_t n = (oy1 - oy0) * g->ow, at = oy0 * g->ow;
        dw_blk b = {g,       j->pw,  j->x,  j->w,  j->bias, NULL, d,   scratch, j->rows,
                    j->cols, j->act, j->aa, j->ab, oy0,     oy1,  n};
        dw_blocks(j->isa, &b, 0, blocks);
        loomrt_sgemm_epi(0, 0, pj->M, n, g->C, 1.0f, pj->w, g->C, d, n, 0.0f, pj->y + at, plane,
                         pj->bias, 1, 0, pj->res ? pj->res + at : NULL, pj->act, pj->aa, pj->ab);
    }
    loomrt_threads_swap(prev);
}

/* The fused projection where the blocked kernels do not take the
 * depthwise convolution: a channel's whole output plane at a time (in
 * scratch after the per-plane kernels' own), added into y times the
 * projection's weights of that channel; then the residual and the
 * activation. One thread. */
static void dw_pj_planes(const dw_job *j)
{
    const dw_geom *g = j->g;
    const dw_pj *pj = j->pj;
    int isa = loomrt_isa_get();
    int64_t plane = g->oh * g->ow, ksz = g->kh * g->kw;
    float *plane_in = j->scratch + j->plane_at, *t = plane_in + g->H * g->W;
    for (int64_t i = 0; i < pj->M; i++)
        for (int64_t q = 0; q < plane; q++)
            pj->y[i * plane + q] = pj->bias ? pj->bias[i] : 0.0f;
    for (int64_t m = 0; m < g->C; m++) {
        if (j->pw)
            dw_pw_plane(g, j->pw, m, plane_in);
        dw_pad(g, j->pw ? plane_in : j->x + m * g->H * g->W, j->scratch);
        dw_plane(isa, g, j->scratch, j->w + m * ksz, j->bias ? j->bias[m] : 0.0f, t, NULL,
                 j->act, j->aa, j->ab);
        for (int64_t i = 0; i < pj->M; i++) {
            float wv = pj->w[i * g->C + m], *yi = pj->y + i * plane;
            for (int64_t q = 0; q < plane; q++)
                yi[q] += wv * t[q];
        }
    }
    loomrt_epi_run(pj->y, pj->M * plane, NULL, 0, pj->res, pj->act, pj->aa, pj->ab);
}

static int dw_task(void *arg, int64_t p0, int64_t p1)
{
    const dw_job *j = (const dw_job *)arg;
    int64_t u0 = j->units * p0 / j->parts, u1 = j->units * p1 / j->parts;
    if (j->pj)
        dw_pj_part(j, u0, u1, j->scratch + p0 * j->slot);
    else
        dw_part(j, u0, u1, j->scratch + p0 * j->slot);
    return 0;
}

/* Runs j (its geometry, operands and scratch set) by the blocked kernels
 * when they take it, on the calling thread's threads when it is large. */
static void dw_run(dw_job *j)
{
    const dw_geom *g = j->g;
    j->units = g->C;
    j->isa = loomrt_isa_get();
    /* blocked when the channels fill half a block's lanes or more */
    int L = dw_blk_lanes(j->isa);
    int blocked = L && g->kh * g->kw <= DW_MAX_TAPS && 2 * g->C >= L;
    if (blocked) {
        dw_band_dims(g->kh, g->kw, g->oh, g->ow, g->sh, g->sw, g->dh, g->dw, &j->rows, &j->cols);
        j->units = (g->C + L - 1) / L;
    }
    if (j->pj && !blocked) {
        dw_pj_planes(j);
        return;
    }
    if (j->pj) { /* by bands of at most DW_PJ_BAND floats of depthwise outputs */
        j->rows = dw_pj_rows_of(g->C, g->ow, j->rows);
        j->units = (g->oh + j->rows - 1) / j->rows;
    }
    int t = loomrt_threads_get();
    if (blocked && !j->pj && t > 1 && g->oh >= DW_ROWS_PER_THREAD * t) {
        j->by_rows = 1;
        j->units = t < LOOMRT_DW_SLOTS ? t : LOOMRT_DW_SLOTS;
    }
    j->parts = j->units < LOOMRT_DW_SLOTS ? j->units : LOOMRT_DW_SLOTS;
    /* 2^15 multiply-adds per thread and more (the fused pointwise
     * convolution's counted too) */
    int64_t work = g->C * g->oh * g->ow * g->kh * g->kw;
    if (j->pw)
        work += g->C * g->H * g->W * j->pw->K;
    if (j->pj)
        work += g->C * g->oh * g->ow * j->pj->M;
    if (t > 1 && j->parts > 1 && work >= ((int64_t)1 << 15) * t)
        loomrt_parallel_for(j->parts, dw_task, j);
    else
        dw_task(j, 0, j->parts);
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
    dw_job j = {.g = &g, .x = x, .w = w, .bias = bias, .res = res, .y = y, .scratch = scratch,
                .slot = loomrt_dwconv_scratch(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w) /
                        LOOMRT_DW_SLOTS,
                .act = act, .aa = act_alpha, .ab = act_beta};
    dw_run(&j);
}

LOOMRT_API int64_t loomrt_pwdw_scratch(int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                                       int64_t ow, int64_t stride_h, int64_t stride_w,
                                       int64_t dil_h, int64_t dil_w)
{
    int64_t dw = loomrt_dwconv_scratch(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w);
    return dw ? dw + LOOMRT_DW_SLOTS * H * W : 0;
}

LOOMRT_API void loomrt_pwdw(const float *x, const float *pw, const float *pw_bias, int64_t K,
                            int pw_act, float pw_alpha, float pw_beta, const float *w, float *y,
                            float *scratch, int64_t C, int64_t H, int64_t W, int64_t kh,
                            int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                            int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                            const float *bias, const float *res, int act, float act_alpha,
                            float act_beta)
{
    if (C <= 0 || oh <= 0 || ow <= 0)
        return;
    dw_geom g = {C, 1, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w,
                 0, 0};
    dw_scratch_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &g.rows, &g.q);
    dw_pw p = {x, pw, pw_bias, K, pw_act, pw_alpha, pw_beta};
    int64_t dw_slot =
        loomrt_dwconv_scratch(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w) / LOOMRT_DW_SLOTS;
    dw_job j = {.g = &g, .pw = &p, .x = x, .w = w, .bias = bias, .res = res, .y = y,
                .scratch = scratch, .slot = dw_slot + H * W, .plane_at = dw_slot, .act = act,
                .aa = act_alpha, .ab = act_beta};
    dw_run(&j);
}

LOOMRT_API int loomrt_dwpw_fits(int64_t C, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                 int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w)
{
    int64_t rows, cols;
    if (C <= 0 || oh <= 0 || ow <= 0)
        return 0;
    dw_band_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &rows, &cols);
    return dw_pj_rows_of(C, ow, rows) == rows;
}

LOOMRT_API int64_t loomrt_dwpw_scratch(int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                       int64_t oh, int64_t ow, int64_t stride_h, int64_t stride_w,
                                       int64_t dil_h, int64_t dil_w)
{
    int64_t dw = loomrt_dwconv_scratch(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w);
    if (!dw || C <= 0)
        return 0;
    /* LOOMRT_DW_SLOTS slots of the depthwise band and the fused band, or
     * (one thread, dw_pj_planes) the first slot's and two planes */
    int64_t band = dw_pj_band(C, kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w),
            slots = dw + LOOMRT_DW_SLOTS * band, planes = dw / LOOMRT_DW_SLOTS + H * W + oh * ow;
    return slots > planes ? slots : planes;
}

LOOMRT_API void loomrt_dwpw(const float *x, const float *pw, const float *pw_bias, int64_t K,
                            int pw_act, float pw_alpha, float pw_beta, const float *w,
                            float *scratch, int64_t C, int64_t H, int64_t W, int64_t kh,
                            int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                            int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                            const float *bias, int act, float act_alpha, float act_beta,
                            const float *pj, const float *pj_bias, int64_t M, float *y,
                            const float *res, int pj_act, float pj_alpha, float pj_beta)
{
    if (C <= 0 || M <= 0 || oh <= 0 || ow <= 0)
        return;
    dw_geom g = {C, 1, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w,
                 0, 0};
    dw_scratch_dims(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w, &g.rows, &g.q);
    dw_pw p = {x, pw, pw_bias, K, pw_act, pw_alpha, pw_beta};
    dw_pj q = {pj, pj_bias, res, y, M, pj_act, pj_alpha, pj_beta};
    int64_t dw_slot =
        loomrt_dwconv_scratch(kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w) / LOOMRT_DW_SLOTS;
    dw_job j = {.g = &g, .pw = pw ? &p : NULL, .pj = &q, .x = x, .w = w, .bias = bias,
                .scratch = scratch,
                .slot = dw_slot + dw_pj_band(C, kh, kw, oh, ow, stride_h, stride_w, dil_h, dil_w),
                .plane_at = dw_slot, .act = act, .aa = act_alpha,
                .ab = act_beta};
    dw_run(&j);
}

/* ---- direct convolution of images with few channels ----
 * loomrt_conv2d_direct: the first convolution of a CNN (3 input channels,
 * 3x3 to 7x7, stride 2) is too shallow for a GEMM (K = C * kh * kw of 27
 * to 147 against a panel's packing and unfolding) and too narrow in its
 * input for the depthwise layout. Here the weights are packed at compile
 * time as [output block of 16][tap][16], and L output pixels of one row
 * go at a time against blocks of output channels: with AVX-512 14
 * pixels (CD_PX) against two blocks, 28 accumulators of channels, each
 * tap two weight vectors and 14 broadcasts of the pixels' inputs (at
 * stride sw in the input row), or with few taps 16 pixels against one
 * block, then per block the 16 x 16 transpose and the epilogue of the
 * depthwise kernels (AVX2 has the pixels as the vector instead:
 * cd_rows_px, below). A chunk whose taps all lie in the image reads it
 * in place; one that reaches the padding (or past the row) reads a
 * zero-padded patch of its kh input rows. Rows of outputs are
 * independent: the work splits by rows. */

#define CD_BLOCK 16 /* output channels per packed block */
#define CD_LANES 16 /* pixels per chunk, at most */

LOOMRT_API int64_t loomrt_conv2d_direct_packed_size(int64_t M, int64_t K)
{
    return (M + CD_BLOCK - 1) / CD_BLOCK * CD_BLOCK * K;
}

LOOMRT_API void loomrt_conv2d_direct_pack(const float *w, int64_t M, int64_t K, float *wp)
{
    for (int64_t b = 0; b < (M + CD_BLOCK - 1) / CD_BLOCK; b++)
        for (int64_t t = 0; t < K; t++)
            for (int64_t l = 0, m = b * CD_BLOCK; l < CD_BLOCK; l++, m++)
                wp[(b * K + t) * CD_BLOCK + l] = m < M ? w[m * K + t] : 0.0f;
}

/* Columns of a chunk's patch: the input columns CD_LANES pixels reach. */
static int64_t cd_patch_cols(int64_t kw, int64_t sw, int64_t dw)
{
    return (CD_LANES - 1) * sw + (kw - 1) * dw + 1;
}

LOOMRT_API int loomrt_conv2d_direct_fits(int64_t C, int64_t kh, int64_t kw, int64_t stride_w,
                                         int64_t dil_w)
{
    return C > 0 && kh > 0 && kw > 0 && stride_w > 0 && dil_w > 0 &&
           C * kh * kw <= LOOMRT_CONV_DIRECT_MAX_TAPS &&
           C * kh * cd_patch_cols(kw, stride_w, dil_w) <= LOOMRT_CONV_DIRECT_PATCH;
}

typedef struct cd_geom {
    const float *x, *wp, *bias, *res;
    float *y;
    int64_t C, M, H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, K, pw;
    int64_t yplane, y0;     /* y's plane stride and the first output row it holds */
    const int64_t *tx, *tp; /* the taps' offsets in the image and in a patch */
    int64_t xs, q;          /* cd_rows_px's segment and laid-out row; xs 0: not taken */
    const int64_t *tl;      /* the taps' offsets in its layout */
    int isa, act;
    float aa, ab;
} cd_geom;

/* The input of pixels [x0, x0 + L) of output row oy, n of them real: the
 * address the tap offsets *toff of pixel 0 are relative to, pixel p
 * reading p * sw further. In the image itself when every tap of the n
 * pixels lies inside it (the lanes past n then read on into the next
 * rows, never past the image's end; their sums are not stored), else in
 * patch, laid out [channel][ki][pw columns] with 0 outside the image. */
static const float *cd_source(const cd_geom *g, int64_t oy, int64_t x0, int64_t n, int L,
                              float *patch, const int64_t **toff)
{
    int64_t iy = oy * g->sh - g->pt, ix = x0 * g->sw - g->pl;
    int64_t ylast = iy + (g->kh - 1) * g->dh, reach = (g->kw - 1) * g->dw;
    if (iy >= 0 && ylast < g->H && ix >= 0 && ix + (n - 1) * g->sw + reach < g->W &&
        ((g->C - 1) * g->H + ylast) * g->W + ix + (L - 1) * g->sw + reach < g->C * g->H * g->W) {
        *toff = g->tx;
        return g->x + iy * g->W + ix;
    }
    int64_t a = ix < 0 ? -ix : 0, b = g->W - ix < g->pw ? g->W - ix : g->pw;
    for (int64_t c = 0; c < g->C; c++)
        for (int64_t ki = 0; ki < g->kh; ki++) {
            float *d = patch + (c * g->kh + ki) * g->pw;
            int64_t row = iy + ki * g->dh;
            if (row < 0 || row >= g->H || a >= b) {
                for (int64_t i = 0; i < g->pw; i++)
                    d[i] = 0.0f;
                continue;
            }
            const float *s = g->x + (c * g->H + row) * g->W + ix;
            for (int64_t i = 0; i < a; i++)
                d[i] = 0.0f;
            for (int64_t i = a; i < b; i++)
                d[i] = s[i];
            for (int64_t i = b; i < g->pw; i++)
                d[i] = 0.0f;
        }
    *toff = g->tp;
    return patch;
}

/* The outputs of one chunk for a block of output channels starting at
 * c0: pixel p (< n) of channel m at y + m * plane + at + p, from the
 * input s with tap offsets toff (cd_source). */
typedef void (*cd_block_fn)(const cd_geom *g, const float *s, const int64_t *toff, int64_t c0,
                            int64_t at, int64_t n);

/* Portable: 8 pixels by CD_BLOCK channels, bias and residual added (the
 * activation is left to the row pass). */
static void cd_block_c(const cd_geom *g, const float *s, const int64_t *toff, int64_t c0,
                       int64_t at, int64_t n)
{
    enum { L = 8 };
    float acc[L][CD_BLOCK];
    int64_t cn = g->M - c0 < CD_BLOCK ? g->M - c0 : CD_BLOCK, plane = g->yplane;
    for (int p = 0; p < L; p++)
        for (int l = 0; l < CD_BLOCK; l++)
            acc[p][l] = g->bias && l < cn ? g->bias[c0 + l] : 0.0f;
    const float *w = g->wp + c0 * g->K;
    for (int64_t t = 0; t < g->K; t++, w += CD_BLOCK)
        for (int p = 0; p < L; p++) {
            float v = s[toff[t] + p * g->sw];
            for (int l = 0; l < CD_BLOCK; l++)
                acc[p][l] += v * w[l];
        }
    for (int64_t l = 0; l < cn; l++)
        for (int64_t p = 0; p < n; p++) {
            int64_t i = (c0 + l) * plane + at + p;
            g->y[i] = acc[p][l] + (g->res ? g->res[i] : 0.0f);
        }
}

#ifdef LOOMRT_X86

/* ---- AVX2: the pixels as the vector ----
 * With AVX2 a row of outputs goes with the pixels as the vector: the kh
 * input rows of every channel are laid out as in dw_pad (split by column
 * phase modulo sw, zero outside the image), so that a tap of 8
 * consecutive outputs is one load at any stride; a tile of 3 vectors of
 * pixels by 4 output channels takes per tap 3 loads, 4 broadcasts of
 * weights (from the packed blocks as they are) and 12 FMAs, and stores
 * each channel's 24 outputs as they lie in y (a row's last ones through
 * a buffer: masked stores are microcoded on AMD cores). A row wider than
 * CD_ROW_BUF floats of input goes in segments. The kernel before it
 * (channels as the vector, 6 pixels by 16 channels, as the AVX-512 one)
 * spent on its two 8 x 8 transposes and 16 short stores per chunk a
 * third of what its FMAs took. Alone on Zen 3, one thread, 3 -> 32
 * channels 3x3/2 over 224x224 (mobilenet_v2's first convolution) 459 ->
 * 370 us, 3 -> 64 3x3/2 (squeezenet1_1's) 780-843 -> 651, 3 -> 64 7x7/2
 * (resnet18's) 2967 -> 2687-2718; tiles of 2 x 6, 5 x 2 or 1 x 8 vectors
 * by channels were slower (4 x 3 spills). */
#define CD_ROW_BUF 8192 /* floats of one segment's laid-out input */

/* g's outputs per segment of a row (a multiple of 8) into g->xs, floats
 * per laid-out input row into g->q and the taps' offsets in the layout
 * into tl; g->xs 0 when not even 8 outputs fit. */
static void cd_row_seg(cd_geom *g, int64_t *tl)
{
    int64_t reach = (g->kw - 1) * g->dw / g->sw, rows = g->C * g->kh * g->sw;
    int64_t cap = (CD_ROW_BUF / rows - reach) / 8 * 8, all = (g->ow + 7) / 8 * 8;
    int64_t xs = all <= cap ? all : cap >= 24 ? cap / 24 * 24 : cap;
    g->xs = xs >= 8 ? xs : 0;
    g->q = xs + reach;
    for (int64_t t = 0; g->xs && t < g->K; t++) {
        int64_t c = t / (g->kh * g->kw), ki = t / g->kw % g->kh, col = t % g->kw * g->dw;
        tl[t] = ((c * g->kh + ki) * g->sw + col % g->sw) * g->q + col / g->sw;
    }
    g->tl = tl;
}

/* d[i] = src[s0 + i * sw] for i < n, 0 where that lies outside [0, W). */
LOOMRT_TARGET_AVX2 static void cd_row_take(float *d, const float *src, int64_t s0, int64_t sw,
                                            int64_t n, int64_t W)
{
    int64_t a = s0 >= 0 ? 0 : (-s0 + sw - 1) / sw, b = s0 < W ? (W - 1 - s0) / sw + 1 : 0;
    b = b < n ? b : n;
    a = a < b ? a : b;
    for (int64_t i = 0; i < a; i++)
        d[i] = 0.0f;
    const float *s = src + s0;
    int64_t i = a;
    if (sw == 1) {
        for (; i < b; i++)
            d[i] = s[i];
    } else if (sw == 2) {
        for (; i + 8 <= b && 2 * i + 16 <= W - s0; i += 8) { /* the evens of 16 */
            __m256 lo = _mm256_loadu_ps(s + 2 * i), hi = _mm256_loadu_ps(s + 2 * i + 8);
            __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
            _mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e),
                                                                            0xd8)));
        }
    }
    for (; i < b; i++)
        d[i] = s[i * sw];
    for (i = b; i < n; i++)
        d[i] = 0.0f;
}

/* acc[c * 3 + v] += the taps of the nv <= 3 vectors of pixels from s
 * (tap t at s + toff[t], vector v 8 further) times channel c's weight
 * w[t * CD_BLOCK + c]. K >= 1, as in cd_tile16. */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
cd_px_tile(const float *s, const int64_t *toff, int64_t K, const float *w, int nv, __m256 *acc)
{
    int64_t t = 0;
    do {
        const float *r = s + toff[t], *wt = w + t * CD_BLOCK;
        __m256 x0 = _mm256_loadu_ps(r);
        __m256 x1 = nv > 1 ? _mm256_loadu_ps(r + 8) : x0;
        __m256 x2 = nv > 2 ? _mm256_loadu_ps(r + 16) : x0;
        _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
            __m256 wv = _mm256_broadcast_ss(wt + c);
            acc[c * 3] = _mm256_fmadd_ps(wv, x0, acc[c * 3]);
            if (nv > 1)
                acc[c * 3 + 1] = _mm256_fmadd_ps(wv, x1, acc[c * 3 + 1]);
            if (nv > 2)
                acc[c * 3 + 2] = _mm256_fmadd_ps(wv, x2, acc[c * 3 + 2]);
        }
    } while (++t < K);
}

/* Output channels [m0, m0 + cn) (cn <= 4) of pixels [x, x + n) of output
 * row oy (n <= 8 nv), from the laid-out segment s whose pixel 0 is output
 * x - xs0, then g's activation (ka, made once per call). */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
cd_px_out(const cd_geom *g, loomrt_act8_t ka, const float *s, const int64_t *toff, int64_t m0,
          int64_t cn, int64_t oy, int64_t x, int64_t n, int nv)
{
    int64_t plane = g->yplane;
    __m256 acc[12];
    for (int c = 0; c < 4; c++) {
        __m256 b = _mm256_set1_ps(g->bias && c < cn ? g->bias[m0 + c] : 0.0f);
        for (int v = 0; v < 3; v++)
            acc[c * 3 + v] = b;
    }
    cd_px_tile(s, toff, g->K, g->wp + m0 / CD_BLOCK * g->K * CD_BLOCK + m0 % CD_BLOCK, nv, acc);
    _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {
        if (c >= cn)
            break;
        int64_t at = (m0 + c) * plane + (oy - g->y0) * g->ow + x;
        _Pragma("GCC unroll 3") for (int v = 0; v < nv; v++) {
            int64_t left = n - 8 * v;
            __m256 o = acc[c * 3 + v];
            if (left >= 8) {
                if (g->res)
                    o = _mm256_add_ps(o, _mm256_loadu_ps(g->res + at + 8 * v));
                _mm256_storeu_ps(g->y + at + 8 * v, loomrt_act8(o, ka));
                continue;
            }
            float r[8]; /* the row's last pixels: plain stores */
            _mm256_storeu_ps(r, o);
            for (int64_t p = 0; g->res && p < left; p++)
                r[p] += g->res[at + 8 * v + p];
            _mm256_storeu_ps(r, loomrt_act8(_mm256_loadu_ps(r), ka));
            for (int64_t p = 0; p < left; p++)
                g->y[at + 8 * v + p] = r[p];
        }
    }
}

/* Output rows [oy0, oy1), each in segments of xs outputs: the segment's
 * input laid out, then every block of 4 channels over it in tiles of 24
 * pixels, then the activations past Clip over the row. */
LOOMRT_TARGET_AVX2 static void cd_rows_px(const cd_geom *g, int64_t oy0, int64_t oy1)
{
    float buf[CD_ROW_BUF];
    const int64_t *toff = g->tl, q = g->q, xs = g->xs;
    loomrt_act8_t ka = loomrt_act8_of(g->act, g->aa, g->ab);
    for (int64_t oy = oy0; oy < oy1; oy++) {
        for (int64_t x0 = 0; x0 < g->ow; x0 += xs) {
            int64_t n = g->ow - x0 < xs ? g->ow - x0 : xs;
            for (int64_t c = 0; c < g->C; c++)
                for (int64_t ki = 0; ki < g->kh; ki++) {
                    int64_t iy = oy * g->sh - g->pt + ki * g->dh;
                    for (int64_t p = 0; p < g->sw; p++) {
                        float *d = buf + ((c * g->kh + ki) * g->sw + p) * q;
                        if (iy >= 0 && iy < g->H)
                            cd_row_take(d, g->x + (c * g->H + iy) * g->W,
                                        x0 * g->sw + p - g->pl, g->sw, q, g->W);
                        else
                            for (int64_t i = 0; i < q; i++)
                                d[i] = 0.0f;
                    }
                }
            for (int64_t m0 = 0; m0 < g->M; m0 += 4) {
                int64_t cn = g->M - m0 < 4 ? g->M - m0 : 4, x = 0;
                for (; x + 24 <= n; x += 24)
                    cd_px_out(g, ka, buf + x, toff, m0, cn, oy, x0 + x, 24, 3);
                if (n - x > 16)
                    cd_px_out(g, ka, buf + x, toff, m0, cn, oy, x0 + x, n - x, 3);
                else if (n - x > 8)
                    cd_px_out(g, ka, buf + x, toff, m0, cn, oy, x0 + x, n - x, 2);
                else if (n - x > 0)
                    cd_px_out(g, ka, buf + x, toff, m0, cn, oy, x0 + x, n - x, 1);
            }
        }
        for (int64_t m = 0; g->act > LOOMRT_ACT_CLIP && m < g->M; m++)
            loomrt_epi_run(g->y + m * g->yplane + (oy - g->y0) * g->ow, g->ow, NULL, 0, NULL,
                           g->act, g->aa, g->ab);
    }
}

/* Pixels per chunk of the AVX-512 kernel: 14 pixels by two blocks of 16
 * channels are 28 accumulators, each tap two weight vectors and 14
 * broadcasts for 28 FMAs. With 16 pixels by one block (16 accumulators,
 * 17 loads for 16 FMAs) the loads bound the loop. Alone, one thread,
 * Xeon, warm: resnet18's first convolution (3 -> 64 channels, 7x7/2 over
 * 224x224) 1481-1513 -> 1214-1226 us; 3 -> 64 channels 3x3/2 342-348 ->
 * 314-334, 3 -> 32 (mobilenet_v2's) 182 -> 154-164. 14 divides the
 * 112-pixel rows of these; 12 pixels a chunk: 1316-1374 and 339-356 us.
 * But with few taps (3x3 of 3 channels) the layer waits on memory in a
 * model, its image and output out of cache, and there 32 output planes
 * written a chunk at a time lose to 16 (mobilenet_v2's alone, caches
 * flushed, 2 threads: 127-134 -> 145-147 us; in the model, ab_builds:
 * 167 -> 181 on 2 threads, 226-239 -> 252-254 on one): the two blocks
 * from CD_PX_MIN_K taps, 16 pixels by one block below. In the model,
 * resnet18's, one thread 1628 -> 1479 us, two 919 -> 856. */
#define CD_PX 14
#define CD_PX_MIN_K 64

/* a[p] (and b[p] for a second block, nb 2) += the taps of pixel p < px
 * times the block's 16 weights (the second block's ws floats further). */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
cd_tile(const float *s, const int64_t *toff, int64_t K, const float *w, int64_t ws, int64_t sw,
        int px, int nb, __m512 *a, __m512 *b)
{
    int64_t t = 0;
    do { /* K >= 1 (loomrt_conv2d_direct_fits), said by the loop's form: with K
          * possibly 0, GCC kept the accumulators on the stack for that path
          * and stored and reloaded all of them around the loop of every
          * chunk (squeezenet1_1's first convolution alone, 3 -> 64 channels
          * 3x3/2 over 224x224: 541 -> 484 us) */
        const float *p_ = s + toff[t];
        __m512 w0 = _mm512_loadu_ps(w + t * CD_BLOCK), w1 = w0;
        if (nb > 1)
            w1 = _mm512_loadu_ps(w + ws + t * CD_BLOCK);
        _Pragma("GCC unroll 16") for (int p = 0; p < px; p++) {
            __m512 v = _mm512_set1_ps(p_[p * sw]);
            a[p] = _mm512_fmadd_ps(v, w0, a[p]);
            if (nb > 1)
                b[p] = _mm512_fmadd_ps(v, w1, b[p]);
        }
    } while (++t < K);
}

/* The block's accumulators acc[0, px) (pixels) transposed to channels and
 * stored: channel c < cn of the block at c0, pixels [at, at + n). */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
cd_store16(const cd_geom *g, loomrt_act16_t ka, __m512 *acc, int px, int64_t c0, int64_t cn,
           int64_t at, int64_t n)
{
    int64_t plane = g->yplane;
    for (int p = px; p < 16; p++)
        acc[p] = _mm512_setzero_ps();
    loomrt_tr16(acc);
    __mmask16 m = dw_mask16(n);
    /* unrolled, so that acc[c] names a register: indexed by a variable,
     * the transposed accumulators went through the stack (squeezenet1_1's
     * first convolution alone 484 -> 460 us; AVX2 956 -> 930) */
    _Pragma("GCC unroll 16") for (int c = 0; c < 16; c++) {
        if (c >= cn)
            break;
        __m512 v = acc[c];
        if (g->res)
            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, g->res + (c0 + c) * plane + at));
        _mm512_mask_storeu_ps(g->y + (c0 + c) * plane + at, m, loomrt_act16(v, ka));
    }
}

/* nb blocks of channels from c0 (the last may be partial) over a chunk of
 * px pixels. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
cd_blocks_avx512(const cd_geom *g, const float *s, const int64_t *toff, int64_t c0, int64_t at,
                 int64_t n, int px, int nb)
{
    loomrt_act16_t ka = loomrt_act16_of(g->act, g->aa, g->ab);
    int64_t cn = g->M - c0, n0 = cn < CD_BLOCK ? cn : CD_BLOCK;
    const float *w = g->wp + c0 * g->K;
    __m512 a[16], b[16];
    __m512 va = g->bias ? _mm512_maskz_loadu_ps(dw_mask16(n0), g->bias + c0) : _mm512_setzero_ps();
    __m512 vb = g->bias && nb > 1 ? _mm512_maskz_loadu_ps(dw_mask16(cn - CD_BLOCK),
                                                          g->bias + c0 + CD_BLOCK)
                                  : _mm512_setzero_ps();
    for (int p = 0; p < px; p++)
        a[p] = va, b[p] = vb;
    int64_t ws = CD_BLOCK * g->K;
    if (g->sw == 1)
        cd_tile(s, toff, g->K, w, ws, 1, px, nb, a, b);
    else if (g->sw == 2)
        cd_tile(s, toff, g->K, w, ws, 2, px, nb, a, b);
    else
        cd_tile(s, toff, g->K, w, ws, g->sw, px, nb, a, b);
    cd_store16(g, ka, a, px, c0, n0, at, n);
    if (nb > 1)
        cd_store16(g, ka, b, px, c0 + CD_BLOCK, cn - CD_BLOCK, at, n);
}

/* A chunk of up to CD_PX pixels, the output channels [c0, c0 + 32): two
 * blocks, or the last one. */
LOOMRT_TARGET_AVX512 static void cd_block2_avx512(const cd_geom *g, const float *s,
                                                   const int64_t *toff, int64_t c0, int64_t at,
                                                   int64_t n)
{
    if (g->M - c0 > CD_BLOCK)
        cd_blocks_avx512(g, s, toff, c0, at, n, CD_PX, 2);
    else
        cd_blocks_avx512(g, s, toff, c0, at, n, CD_PX, 1);
}

/* A chunk of up to 16 pixels, the output channels [c0, c0 + 16). */
LOOMRT_TARGET_AVX512 static void cd_block_avx512(const cd_geom *g, const float *s,
                                                  const int64_t *toff, int64_t c0, int64_t at,
                                                  int64_t n)
{
    cd_blocks_avx512(g, s, toff, c0, at, n, 16, 1);
}

#endif

/* Output rows per band of cd_rows. */
#define CD_BAND 8
/* Outputs (floats) from which cd_rows runs each block of channels over a
 * band on its own: a quarter of a 1 MB L2. */
#define CD_SPLIT_OUT ((int64_t)1 << 16)

/* The next band's input, fetched into the caches a few lines per chunk
 * while this band runs: a first convolution's image comes from memory,
 * and the hardware prefetchers, on C * kh rows read at a stride, left
 * each band's first chunks waiting for it (mobilenet_v2's first
 * convolution 292 us with its input in cache, 370-420 in the model).
 * The next band reads rows [r0, r1) of each channel, one run of lines. */
typedef struct cd_ahead {
    const char *at; /* the line to fetch next */
    int64_t run, runs, line, lines, per;
    int64_t r0;
} cd_ahead;

/* The input rows of output rows [b1, b2), over chunks chunks. */
static void cd_ahead_init(cd_ahead *a, const cd_geom *g, int64_t b1, int64_t b2, int64_t chunks)
{
    int64_t r0 = b1 * g->sh - g->pt, r1 = (b2 - 1) * g->sh - g->pt + (g->kh - 1) * g->dh + 1;
    a->r0 = r0 < 0 ? 0 : r0;
    r1 = r1 < g->H ? r1 : g->H;
    a->runs = b2 > b1 && r1 > a->r0 ? g->C : 0;
    a->lines = a->runs ? ((r1 - a->r0) * g->W * (int64_t)sizeof(float) + 63) / 64 : 0;
    a->run = a->line = 0;
    a->per = chunks > 0 ? (a->runs * a->lines + chunks - 1) / chunks : 0;
    a->at = (const char *)(g->x + a->r0 * g->W);
}

static void cd_ahead_step(cd_ahead *a, const cd_geom *g)
{
    for (int64_t i = 0; i < a->per && a->run < a->runs; i++) {
        __builtin_prefetch(a->at);
        a->at += 64;
        if (++a->line < a->lines)
            continue;
        a->line = 0;
        if (++a->run < a->runs)
            a->at = (const char *)(g->x + (a->run * g->H + a->r0) * g->W);
    }
}

/* Rows [b0, b1) in chunks of L pixels, the output channels [c0, c1) of
 * each chunk in blocks of cstep (block), from one source per chunk;
 * ahead (or NULL) fetched meanwhile. */
static void cd_band(const cd_geom *g, int64_t b0, int64_t b1, int L, int64_t c0, int64_t c1,
                    int64_t cstep, cd_block_fn block, float *patch, cd_ahead *ahead)
{
    for (int64_t oy = b0; oy < b1; oy++)
        for (int64_t x0 = 0; x0 < g->ow; x0 += L) {
            int64_t n = g->ow - x0 < L ? g->ow - x0 : L;
            const int64_t *toff;
            const float *s = cd_source(g, oy, x0, n, L, patch, &toff);
            for (int64_t c = c0; c < c1; c += cstep)
                block(g, s, toff, c, (oy - g->y0) * g->ow + x0, n);
            if (ahead)
                cd_ahead_step(ahead, g);
        }
}

/* Rows [oy0, oy1) in bands of CD_BAND rows, then the activations past
 * act_max (the last one block applies itself) over each band. A large
 * output (CD_SPLIT_OUT floats and more) goes one block of channels at a
 * time over the band, so that each of the block's planes gets one
 * contiguous run: with every block per chunk, each chunk wrote one line
 * into each of M planes, M streams that the prefetchers lost track of
 * once the image no longer sat in cache (squeezenet1_1's 3 MB output of
 * its first convolution, 10-25% slower with the caches flushed). A small
 * one keeps every block per chunk, the chunk's source (a patch at the
 * border) built once: on 4x4 outputs every chunk is a border chunk. */
static void cd_rows(const cd_geom *g, int64_t oy0, int64_t oy1, int L, int64_t cstep,
                    cd_block_fn block, int act_max)
{
    float patch[LOOMRT_CONV_DIRECT_PATCH];
    int64_t plane = g->yplane;
    int split = g->M * plane >= CD_SPLIT_OUT;
    for (int64_t b0 = oy0; b0 < oy1; b0 += CD_BAND) {
        int64_t b1 = b0 + CD_BAND < oy1 ? b0 + CD_BAND : oy1;
        cd_ahead ahead;
        cd_ahead_init(&ahead, g, b1, b1 + CD_BAND < oy1 ? b1 + CD_BAND : oy1,
                      (b1 - b0) * ((g->ow + L - 1) / L));
        for (int64_t c0 = 0; split && c0 < g->M; c0 += cstep)
            cd_band(g, b0, b1, L, c0, c0 + cstep < g->M ? c0 + cstep : g->M, cstep, block, patch,
                    c0 ? NULL : &ahead);
        if (!split)
            cd_band(g, b0, b1, L, 0, g->M, cstep, block, patch, &ahead);
        for (int64_t m = 0; g->act > act_max && m < g->M; m++)
            loomrt_epi_run(g->y + m * plane + (b0 - g->y0) * g->ow, (b1 - b0) * g->ow, NULL, 0,
                           NULL, g->act, g->aa, g->ab);
    }
}

/* Output rows [oy0, oy1) of g on the calling thread, by this CPU's
 * level. */
static void cd_run(const cd_geom *g, int64_t oy0, int64_t oy1)
{
#ifdef LOOMRT_X86
    if (g->isa == LOOMRT_ISA_AVX512 && g->K >= CD_PX_MIN_K)
        cd_rows(g, oy0, oy1, CD_PX, 2 * CD_BLOCK, cd_block2_avx512, LOOMRT_ACT_CLIP);
    else if (g->isa == LOOMRT_ISA_AVX512)
        cd_rows(g, oy0, oy1, 16, CD_BLOCK, cd_block_avx512, LOOMRT_ACT_CLIP);
    else if (g->xs)
        cd_rows_px(g, oy0, oy1);
    else
#endif
        cd_rows(g, oy0, oy1, 8, CD_BLOCK, cd_block_c, LOOMRT_ACT_NONE);
}

static int cd_task(void *arg, int64_t oy0, int64_t oy1)
{
    cd_run((const cd_geom *)arg, oy0, oy1);
    return 0;
}

/* The taps' offsets of a geometry: in the image, in a patch, in AVX2's
 * row layout. */
typedef struct cd_taps {
    int64_t tx[LOOMRT_CONV_DIRECT_MAX_TAPS], tp[LOOMRT_CONV_DIRECT_MAX_TAPS];
    int64_t tl[LOOMRT_CONV_DIRECT_MAX_TAPS];
} cd_taps;

/* g for the convolution (its output y [M, oh, ow]) and its taps in t;
 * the shapes loomrt_conv2d_direct_fits accepts. */
static void cd_init(cd_geom *g, cd_taps *t, const float *x, const float *wp, float *y, int64_t C,
                    int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                    int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                    int64_t stride_w, int64_t dil_h, int64_t dil_w, const float *bias,
                    const float *res, int act, float act_alpha, float act_beta)
{
    int64_t K = C * kh * kw, pw = cd_patch_cols(kw, stride_w, dil_w);
    for (int64_t i = 0; i < K; i++) {
        int64_t c = i / (kh * kw), ki = i / kw % kh, kj = i % kw;
        t->tx[i] = (c * H + ki * dil_h) * W + kj * dil_w;
        t->tp[i] = (c * kh + ki) * pw + kj * dil_w;
    }
    *g = (cd_geom){.x = x,         .wp = wp,     .bias = bias,   .res = res,   .y = y,
                   .C = C,         .M = M,       .H = H,         .W = W,       .kh = kh,
                   .kw = kw,       .oh = oh,     .ow = ow,       .pt = pad_t,  .pl = pad_l,
                   .sh = stride_h, .sw = stride_w, .dh = dil_h,  .dw = dil_w,  .K = K,
                   .pw = pw,       .yplane = oh * ow, .y0 = 0,   .tx = t->tx,  .tp = t->tp,
                   .isa = loomrt_isa_get(), .act = act, .aa = act_alpha, .ab = act_beta};
#ifdef LOOMRT_X86
    if (g->isa == LOOMRT_ISA_AVX2)
        cd_row_seg(g, t->tl);
#endif
}

/* Whether g has work enough for the threads: 2^16 multiply-adds per
 * thread and more. */
static int cd_threaded(const cd_geom *g)
{
    int t = loomrt_threads_get();
    return t > 1 && g->oh > 1 && g->M * g->K * g->oh * g->ow >= ((int64_t)1 << 16) * t;
}

LOOMRT_API void loomrt_conv2d_direct(const float *x, const float *wp, float *y, int64_t C,
                                     int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                     int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                     int64_t stride_h, int64_t stride_w, int64_t dil_h,
                                     int64_t dil_w, const float *bias, const float *res, int act,
                                     float act_alpha, float act_beta)
{
    if (M <= 0 || oh <= 0 || ow <= 0 || !loomrt_conv2d_direct_fits(C, kh, kw, stride_w, dil_w))
        return;
    cd_taps t;
    cd_geom g;
    cd_init(&g, &t, x, wp, y, C, M, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h,
            dil_w, bias, res, act, act_alpha, act_beta);
    if (cd_threaded(&g))
        loomrt_parallel_for(oh, cd_task, &g);
    else
        cd_task(&g, 0, oh);
}

/* ---- the direct convolution with the max pool after it ----
 * loomrt_conv2d_direct_maxpool: the first convolution of a CNN is often
 * read only by a max pool (squeezenet1_1's 3 -> 64 channels to 111x111
 * then 3x3/2, resnet18's to 112x112 then 3x3/2 padded), an output of 3.2
 * MB written past the caches and read back. Here each slot (a thread's
 * part of the pooled rows) computes the convolution's rows a band at a
 * time into its scratch, [M][rows][ow], and pools them from there: the
 * rows a band shares with the next (the pool's windows overlap) move to
 * the front of the slot and are not computed again. */

/* Pooled rows per band. */
#define CDP_BAND 4
/* Slots of scratch: the threads the pool splits over, at most. */
#define CDP_SLOTS 4

/* The convolution's rows one band of pooled rows reads, at most. */
static int64_t cdp_rows(int64_t pkh, int64_t psh, int64_t pdh)
{
    return (CDP_BAND - 1) * psh + (pkh - 1) * pdh + 1;
}

LOOMRT_API int64_t loomrt_conv2d_direct_maxpool_scratch(int64_t M, int64_t ow, int64_t pkh,
                                                        int64_t psh, int64_t pdh)
{
    return CDP_SLOTS * M * cdp_rows(pkh, psh, pdh) * ow;
}

typedef struct cdp_job {
    cd_geom g; /* the convolution; its y is the slot's */
    float *y, *scratch;
    int64_t parts, pkh, pkw, pool_oh, pool_ow, ppt, ppl, psh, psw, pdh, pdw;
} cdp_job;

/* Slot p: pooled rows [pool_oh * p / parts, pool_oh * (p + 1) / parts). */
static void cdp_part(const cdp_job *j, int64_t p)
{
    int64_t r0 = j->pool_oh * p / j->parts, r1 = j->pool_oh * (p + 1) / j->parts;
    int64_t ow = j->g.ow, rows = cdp_rows(j->pkh, j->psh, j->pdh), held0 = 0, held1 = 0;
    cd_geom g = j->g;
    g.yplane = rows * ow;
    g.y = j->scratch + p * g.M * g.yplane;
    for (int64_t b0 = r0; b0 < r1; b0 += CDP_BAND) {
        int64_t b1 = b0 + CDP_BAND < r1 ? b0 + CDP_BAND : r1;
        int64_t lo = b0 * j->psh - j->ppt;
        int64_t hi = (b1 - 1) * j->psh - j->ppt + (j->pkh - 1) * j->pdh + 1;
        lo = lo > 0 ? lo : 0;
        hi = hi < g.oh ? hi : g.oh;
        int64_t from = lo;
        if (held0 <= lo && lo < held1) { /* the rows shared with the band before */
            for (int64_t m = 0; lo > held0 && m < g.M; m++)
                memmove(g.y + m * g.yplane, g.y + m * g.yplane + (lo - held0) * ow,
                        (size_t)((held1 - lo) * ow) * sizeof(float));
            from = held1;
        }
        g.y0 = lo;
        if (from < hi)
            cd_run(&g, from, hi);
        held0 = lo;
        held1 = hi > lo ? hi : lo;
        loomrt_maxpool2d_rows(g.y, g.yplane, lo, g.M, g.oh, ow, j->pkh, j->pkw, j->pool_oh,
                              j->pool_ow, j->ppt, j->ppl, j->psh, j->psw, j->pdh, j->pdw, b0, b1,
                              j->y, j->pool_oh * j->pool_ow);
    }
}

static int cdp_task(void *arg, int64_t p0, int64_t p1)
{
    for (int64_t p = p0; p < p1; p++)
        cdp_part((const cdp_job *)arg, p);
    return 0;
}

LOOMRT_API int loomrt_conv2d_direct_maxpool_fits(int64_t C, int64_t kh, int64_t kw,
                                                 int64_t stride_w, int64_t dil_w, int64_t ow,
                                                 int64_t pkh, int64_t pkw, int64_t pool_ow,
                                                 int64_t ppad_t, int64_t ppad_l, int64_t psh,
                                                 int64_t psw, int64_t pdh, int64_t pdw)
{
    return loomrt_conv2d_direct_fits(C, kh, kw, stride_w, dil_w) && pkh > 0 && psh > 0 &&
           pdh > 0 && ppad_t >= 0 && loomrt_maxpool2d_fits(ow, pkw, pool_ow, ppad_l, psw, pdw);
}

LOOMRT_API void loomrt_conv2d_direct_maxpool(
    const float *x, const float *wp, float *y, float *scratch, int64_t C, int64_t M, int64_t H,
    int64_t W, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
    int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w, const float *bias, int act,
    float act_alpha, float act_beta, int64_t pkh, int64_t pkw, int64_t pool_oh, int64_t pool_ow,
    int64_t ppad_t, int64_t ppad_l, int64_t psh, int64_t psw, int64_t pdh, int64_t pdw)
{
    if (M <= 0 || oh <= 0 || ow <= 0 || pool_oh <= 0 ||
        !loomrt_conv2d_direct_maxpool_fits(C, kh, kw, stride_w, dil_w, ow, pkh, pkw, pool_ow,
                                           ppad_t, ppad_l, psh, psw, pdh, pdw))
        return;
    cd_taps t;
    cdp_job j = {.y = y,       .scratch = scratch, .pkh = pkh,         .pkw = pkw,
                 .pool_oh = pool_oh, .pool_ow = pool_ow, .ppt = ppad_t, .ppl = ppad_l,
                 .psh = psh,   .psw = psw,   .pdh = pdh,         .pdw = pdw};
    cd_init(&j.g, &t, x, wp, NULL, C, M, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w,
            dil_h, dil_w, bias, NULL, act, act_alpha, act_beta);
    int threads = loomrt_threads_get();
    j.parts = cd_threaded(&j.g) ? (threads < CDP_SLOTS ? threads : CDP_SLOTS) : 1;
    j.parts = j.parts < pool_oh ? j.parts : pool_oh;
    if (j.parts > 1)
        loomrt_parallel_for(j.parts, cdp_task, &j);
    else
        cdp_part(&j, 0);
}
