/*
 * 2-D max pooling of NCHW planes (loomrt_maxpool2d), separable: per output
 * row the maximum over the kernel rows inside the image into a row padded
 * with NaN (which never wins), then the maximum over the kernel columns,
 * kh + kw taps per output instead of kh * kw. The step is the
 * interpreter's, best = v when v > best or best is NaN, so the result is
 * the maximum of the taps that are numbers, NaN when none is: a maximum
 * over a set, the same whatever the grouping (but for which of two equal
 * zeros of either sign comes first). AVX-512 and AVX2 run
 * branch-free in vectors, the column pass at stride 2 deinterleaving the
 * row (the 3x3/2 and 2x2/2 pools of CNNs: both passes of such a row in
 * registers; on AVX-512 a 2x2/2 pool inside the image a plane at a time);
 * other strides and the portable level go a scalar at a time.
 */
#include <math.h>

#include "loomrt.h"
#include "loomrt_simd.h"

/* Floats of the padded row: the begin padding and the input row, and the
 * taps of the outputs, each rounded up to whole vectors of 16, which the
 * vector passes write and read (their lanes past W hold NaN, those past
 * ow are not stored). */
static int64_t mp_row_len(int64_t W, int64_t kw, int64_t ow, int64_t pad_l, int64_t sw,
                          int64_t dw)
{
    int64_t reach = ((ow + 15) / 16 * 16) * sw + (kw - 1) * dw;
    int64_t image = pad_l + (W + 15) / 16 * 16; /* the AVX2 rows pass stores whole vectors */
    return image > reach ? image : reach;
}

LOOMRT_API int loomrt_maxpool2d_fits(int64_t W, int64_t kw, int64_t ow, int64_t pad_l,
                                     int64_t stride_w, int64_t dil_w)
{
    return W > 0 && kw > 0 && ow > 0 && pad_l >= 0 && stride_w > 0 && dil_w > 0 &&
           mp_row_len(W, kw, ow, pad_l, stride_w, dil_w) <= LOOMRT_MAXPOOL_ROW;
}

typedef struct mp_geom {
    const float *x;
    float *y;
    int64_t H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, rw, planes;
    int64_t xplane, row0, yplane; /* x holds rows [row0, H) of each plane */
} mp_geom;

/* The interpreter's step. */
static inline float mp_max(float best, float v)
{
    return v > best || best != best ? v : best;
}

/* The rows of output row oy inside the image: kernel rows [*k0, *k1). */
static void mp_rows(const mp_geom *g, int64_t oy, int64_t *k0, int64_t *k1)
{
    int64_t iy = oy * g->sh - g->pt, a = 0, b = g->kh;
    while (a < b && iy + a * g->dh < 0)
        a++;
    while (b > a && iy + (b - 1) * g->dh >= g->H)
        b--;
    *k0 = a;
    *k1 = b;
}

/* row[pl + x] = the maximum over the kernel rows [k0, k1) of plane p's
 * row iy + k * dh at x, NaN when there are none. */
static void mp_rows_c(const mp_geom *g, const float *p, int64_t iy, int64_t k0, int64_t k1,
                      float *row)
{
    float *r = row + g->pl;
    for (int64_t x = 0; x < g->W; x++)
        r[x] = NAN;
    for (int64_t k = k0; k < k1; k++) {
        const float *s = p + (iy + k * g->dh) * g->W;
        for (int64_t x = 0; x < g->W; x++)
            r[x] = mp_max(r[x], s[x]);
    }
}

/* y[0, ow) = the maximum over the kernel columns of row (scalar). */
static void mp_cols_c(const mp_geom *g, const float *row, float *y)
{
    for (int64_t o = 0; o < g->ow; o++) {
        const float *s = row + o * g->sw;
        float best = s[0];
        for (int64_t k = 1; k < g->kw; k++)
            best = mp_max(best, s[k * g->dw]);
        y[o] = best;
    }
}

#ifdef LOOMRT_X86
#include <immintrin.h>

/* The step: max(v, best) keeps best where v is NaN (or not greater),
 * and a NaN best takes v. */
LOOMRT_TARGET_AVX512 static inline __m512 mp_max16(__m512 best, __m512 v)
{
    return _mm512_mask_max_ps(v, _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q), v, best);
}

/* Lanes 2i + first of two vectors. */
LOOMRT_TARGET_AVX512 static inline __m512i mp_idx(int first)
{
    return _mm512_add_epi32(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                              28, 30),
                            _mm512_set1_epi32(first));
}

/* s[0], s[2], ..., s[30]. */
LOOMRT_TARGET_AVX512 static inline __m512 mp_even16(const float *s)
{
    return _mm512_permutex2var_ps(_mm512_loadu_ps(s), mp_idx(0), _mm512_loadu_ps(s + 16));
}

/* The rows pass over n >= 1 kernel rows from `first`, `step` floats apart,
 * from the first row on (whole vectors unmasked); n a constant after
 * inlining for the common windows, so that the taps of a vector unroll. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
mp_rows16(const float *first, int64_t step, int64_t n, int64_t W, float *r)
{
    int64_t x = 0;
    for (; x + 16 <= W; x += 16) {
        __m512 best = _mm512_loadu_ps(first + x);
        for (int64_t k = 1; k < n; k++)
            best = mp_max16(best, _mm512_loadu_ps(first + k * step + x));
        _mm512_storeu_ps(r + x, best);
    }
    if (x < W) {
        __mmask16 m = (__mmask16)((1u << (W - x)) - 1);
        __m512 best = _mm512_maskz_loadu_ps(m, first + x);
        for (int64_t k = 1; k < n; k++)
            best = mp_max16(best, _mm512_maskz_loadu_ps(m, first + k * step + x));
        _mm512_mask_storeu_ps(r + x, m, best);
    }
}

/* The rows pass over kernel rows [k0, k1), k0 < k1 (mp_task lays out a
 * row with none itself); so is mp_rows_avx2's. */
LOOMRT_TARGET_AVX512 static void mp_rows_avx512(const mp_geom *g, const float *p, int64_t iy,
                                               int64_t k0, int64_t k1, float *row)
{
    const float *first = p + (iy + k0 * g->dh) * g->W;
    int64_t step = g->dh * g->W;
    switch (k1 - k0) {
    case 2: mp_rows16(first, step, 2, g->W, row + g->pl); break;
    case 3: mp_rows16(first, step, 3, g->W, row + g->pl); break;
    default: mp_rows16(first, step, k1 - k0, g->W, row + g->pl); break;
    }
}

/* The columns pass at stride sw (1 or 2) over kw taps dw apart; constants
 * after inlining for the common windows. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
mp_cols16(const float *row, int64_t ow, int64_t sw, int64_t kw, int64_t dw, float *y)
{
    for (int64_t o = 0; o < ow; o += 16) {
        __mmask16 m = ow - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ow - o)) - 1);
        const float *s = row + o * sw;
        __m512 lo = _mm512_loadu_ps(s), hi = sw == 1 ? lo : _mm512_loadu_ps(s + 16);
        __m512 best = sw == 1 ? lo : _mm512_permutex2var_ps(lo, mp_idx(0), hi);
        for (int64_t k = 1; k < kw; k++) {
            const float *t = s + k * dw;
            __m512 v = sw == 1    ? _mm512_loadu_ps(t)
                       : k * dw == 1 ? _mm512_permutex2var_ps(lo, mp_idx(1), hi) /* the odd */
                                     : mp_even16(t);
            best = mp_max16(best, v);
        }
        _mm512_mask_storeu_ps(y + o, m, best);
    }
}

/* The stride-2 windows of 2 or 3 columns run in registers (mp_row2_16,
 * below); this pass meets them only on rows wholly in the padding. */
LOOMRT_TARGET_AVX512 static void mp_cols_avx512(const mp_geom *g, const float *row, float *y)
{
    if (g->sw > 2)
        mp_cols_c(g, row, y);
    else if (g->sw == 1 && g->kw == 3 && g->dw == 1)
        mp_cols16(row, g->ow, 1, 3, 1, y);
    else
        mp_cols16(row, g->ow, g->sw, g->kw, g->dw, y);
}

/* The rows pass of 16 columns from column c on (NaN outside the image),
 * over n >= 1 kernel rows from `first`, `step` floats apart. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
mp_rows_at16(const float *first, int64_t step, int64_t n, int64_t W, int64_t c)
{
    if (c >= 0 && c + 16 <= W) {
        __m512 best = _mm512_loadu_ps(first + c);
        for (int64_t k = 1; k < n; k++)
            best = mp_max16(best, _mm512_loadu_ps(first + k * step + c));
        return best;
    }
    int64_t lo = c < 0 ? -c : 0, hi = W - c < 16 ? W - c : 16;
    __m512 nan = _mm512_set1_ps(NAN);
    if (lo >= hi)
        return nan;
    __mmask16 m = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
    if (c < 0) { /* columns [0, hi - lo) into lanes [lo, hi) */
        __m512 best = _mm512_mask_expandloadu_ps(nan, m, first);
        for (int64_t k = 1; k < n; k++)
            best = mp_max16(best, _mm512_mask_expandloadu_ps(nan, m, first + k * step));
        return best;
    }
    __m512 best = _mm512_mask_loadu_ps(nan, m, first + c);
    for (int64_t k = 1; k < n; k++)
        best = mp_max16(best, _mm512_mask_loadu_ps(nan, m, first + k * step + c));
    return best;
}

/* One output row of a pool at column stride 2 over kw = 2 or 3 adjacent
 * columns, both passes in registers: for outputs [o, o + 16) the rows
 * pass of input columns [2 o - pl, + 32) as two vectors a, b, and for
 * the third tap the next 16 (the next outputs' a), then the taps at even
 * and odd lanes. Storing
 * the rows pass's row and loading it back at other offsets (the two
 * passes above) waited on each store: 16-float loads spanning the
 * row's stores are not forwarded from them. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void
mp_row2_16(const float *first, int64_t step, int64_t n, int64_t W, int64_t pl, int64_t ow,
           int64_t kw, float *y)
{
    __m512 a = mp_rows_at16(first, step, n, W, -pl);
    for (int64_t o = 0; o < ow; o += 16) {
        int64_t c = 2 * o - pl;
        __m512 b = mp_rows_at16(first, step, n, W, c + 16);
        __m512 best = _mm512_permutex2var_ps(a, mp_idx(0), b);
        best = mp_max16(best, _mm512_permutex2var_ps(a, mp_idx(1), b));
        __m512 next = a;
        if (kw == 3 || o + 16 < ow)
            next = mp_rows_at16(first, step, n, W, c + 32);
        if (kw == 3) {
            __m512i ai = _mm512_castps_si512(a), bi = _mm512_castps_si512(b);
            __m512 lo = _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 2));
            __m512 hi = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), bi, 2));
            best = mp_max16(best, _mm512_permutex2var_ps(lo, mp_idx(0), hi));
        }
        __mmask16 m = ow - o >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ow - o)) - 1);
        _mm512_mask_storeu_ps(y + o, m, best);
        a = next;
    }
}

/* The body of mp_fused_avx512 and mp_fused_avx2 over their row kernel
 * (the window's rows and kw constants after inlining for the common
 * ones). */
#define MP_FUSED(row2)                                                                 \
    const float *first = p + (iy + k0 * g->dh) * g->W;                                 \
    int64_t step = g->dh * g->W;                                                       \
    if (g->kw == 3 && k1 - k0 == 3)                                                    \
        row2(first, step, 3, g->W, g->pl, g->ow, 3, y);                                \
    else if (g->kw == 3)                                                               \
        row2(first, step, k1 - k0, g->W, g->pl, g->ow, 3, y);                          \
    else if (k1 - k0 == 2)                                                             \
        row2(first, step, 2, g->W, g->pl, g->ow, 2, y);                                \
    else                                                                               \
        row2(first, step, k1 - k0, g->W, g->pl, g->ow, 2, y);

/* Output row oy over kernel rows [k0, k1) (k0 < k1) in registers, at
 * column stride 2 and kw 2 or 3 (mp_fused_fits). */
LOOMRT_TARGET_AVX512 static void mp_fused_avx512(const mp_geom *g, const float *p, int64_t iy,
                                                int64_t k0, int64_t k1, float *y)
{
    MP_FUSED(mp_row2_16)
}

/* mp_max16's step. */
LOOMRT_TARGET_AVX2 static inline __m256 mp_max8(__m256 best, __m256 v)
{
    return _mm256_blendv_ps(_mm256_max_ps(v, best), v, _mm256_cmp_ps(best, best, _CMP_UNORD_Q));
}

/* s[0], s[2], ..., s[14]. */
LOOMRT_TARGET_AVX2 static inline __m256 mp_even8(const float *s)
{
    __m256 v = _mm256_shuffle_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

/* The AVX2 passes have no scalar remainder (a select an element there
 * became a mispredicted branch: squeezenet1_1's first pool ran 740 us
 * with them against 132 without) and no masked stores (microcoded on
 * some CPUs): the rows pass loads the last vector masked and stores it
 * whole with NaN past W (the row has room), the columns pass stores its
 * last partial vector through a buffer. */
LOOMRT_TARGET_AVX2 static void mp_rows_avx2(const mp_geom *g, const float *p, int64_t iy,
                                            int64_t k0, int64_t k1, float *row)
{
    float *r = row + g->pl;
    int64_t W = g->W;
    const float *first = p + (iy + k0 * g->dh) * W;
    int64_t step = g->dh * W, x = 0;
    for (; x + 8 <= W; x += 8) {
        __m256 best = _mm256_loadu_ps(first + x);
        for (int64_t k = 1; k < k1 - k0; k++)
            best = mp_max8(best, _mm256_loadu_ps(first + k * step + x));
        _mm256_storeu_ps(r + x, best);
    }
    if (x < W) {
        __m256i m = loomrt_mask8(W - x);
        __m256 best = _mm256_maskload_ps(first + x, m);
        for (int64_t k = 1; k < k1 - k0; k++)
            best = mp_max8(best, _mm256_maskload_ps(first + k * step + x, m));
        best = _mm256_blendv_ps(_mm256_set1_ps(NAN), best, _mm256_castsi256_ps(m));
        _mm256_storeu_ps(r + x, best);
    }
}

LOOMRT_TARGET_AVX2 static void mp_cols_avx2(const mp_geom *g, const float *row, float *y)
{
    if (g->sw > 2) {
        mp_cols_c(g, row, y);
        return;
    }
    for (int64_t o = 0; o < g->ow; o += 8) {
        const float *s = row + o * g->sw;
        __m256 best = g->sw == 1 ? _mm256_loadu_ps(s) : mp_even8(s);
        for (int64_t k = 1; k < g->kw; k++) {
            const float *t = s + k * g->dw;
            best = mp_max8(best, g->sw == 1 ? _mm256_loadu_ps(t) : mp_even8(t));
        }
        if (g->ow - o >= 8) {
            _mm256_storeu_ps(y + o, best);
        } else {
            float last[8];
            _mm256_storeu_ps(last, best);
            for (int64_t i = 0; i < g->ow - o; i++)
                y[o + i] = last[i];
        }
    }
}

/* As mp_rows_at16, 8 columns from column c. */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) __m256
mp_rows_at8(const float *first, int64_t step, int64_t n, int64_t W, int64_t c)
{
    if (c >= 0 && c + 8 <= W) {
        __m256 best = _mm256_loadu_ps(first + c);
        for (int64_t k = 1; k < n; k++)
            best = mp_max8(best, _mm256_loadu_ps(first + k * step + c));
        return best;
    }
    int64_t lo = c < 0 ? -c : 0, hi = W - c < 8 ? W - c : 8;
    __m256 nan = _mm256_set1_ps(NAN);
    if (lo >= hi)
        return nan;
    /* columns [c + lo, c + hi) from first + c + lo into lanes [0, hi - lo),
     * then moved up to lanes [lo, hi) */
    const float *at = first + c + lo;
    __m256i m = loomrt_mask8(hi - lo);
    __m256 best = _mm256_maskload_ps(at, m);
    for (int64_t k = 1; k < n; k++)
        best = mp_max8(best, _mm256_maskload_ps(at + k * step, m));
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    best = _mm256_permutevar8x32_ps(best, _mm256_sub_epi32(lane, _mm256_set1_epi32((int)lo)));
    __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32((int)lo - 1)),
                                  _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), lane));
    return _mm256_blendv_ps(nan, best, _mm256_castsi256_ps(in));
}

/* s[0], s[2], ..., s[14] of s = a then b. */
LOOMRT_TARGET_AVX2 static inline __m256 mp_evens8(__m256 a, __m256 b)
{
    __m256 v = _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

/* s[1], s[3], ..., s[15] of s = a then b. */
LOOMRT_TARGET_AVX2 static inline __m256 mp_odds8(__m256 a, __m256 b)
{
    __m256 v = _mm256_shuffle_ps(a, b, 0xdd);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

/* As mp_row2_16, 8 outputs at a time: the third tap is the even lanes
 * moved down one, the last from the next 8 columns' first. The last
 * partial vector is stored through a buffer (mp_rows_avx2). */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
mp_row2_8(const float *first, int64_t step, int64_t n, int64_t W, int64_t pl, int64_t ow,
          int64_t kw, float *y)
{
    __m256 a = mp_rows_at8(first, step, n, W, -pl);
    const __m256i down = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    for (int64_t o = 0; o < ow; o += 8) {
        int64_t c = 2 * o - pl;
        __m256 b = mp_rows_at8(first, step, n, W, c + 8);
        __m256 even = mp_evens8(a, b);
        __m256 best = mp_max8(even, mp_odds8(a, b));
        __m256 next = a;
        if (kw == 3 || o + 8 < ow)
            next = mp_rows_at8(first, step, n, W, c + 16);
        if (kw == 3) {
            __m256 third = _mm256_permutevar8x32_ps(even, down);
            third = _mm256_blend_ps(third, _mm256_permutevar8x32_ps(next, _mm256_setzero_si256()),
                                    0x80);
            best = mp_max8(best, third);
        }
        if (ow - o >= 8) {
            _mm256_storeu_ps(y + o, best);
        } else {
            float last[8];
            _mm256_storeu_ps(last, best);
            for (int64_t i = 0; i < ow - o; i++)
                y[o + i] = last[i];
        }
        a = next;
    }
}

/* Output rows [oy0, oy1) of planes [p0, p1) of a 2x2 pool at stride 2
 * whose windows all lie inside the image (mp_2x2_fits), on AVX-512: each
 * 16 outputs of a row from two rows of 32 columns, a whole plane at a
 * time, without the row loop's per-row set-up (the pools after the
 * convolutions of small CNNs: mnist_cnn's 32 planes of 26x26, alone,
 * warm, 2.7 -> 1.0 us with the row kernels, the loops 4.2). The steps
 * are mp_max16's in the passes' order: the rows, then the columns. */
LOOMRT_TARGET_AVX512 static void mp_2x2_avx512(const mp_geom *g, int64_t p0, int64_t p1,
                                              int64_t oy0, int64_t oy1)
{
    __m512i even = mp_idx(0), odd = mp_idx(1);
    for (int64_t p = p0; p < p1; p++) {
        const float *x = g->x + p * g->xplane;
        float *y = g->y + p * g->yplane + oy0 * g->ow;
        for (int64_t oy = oy0; oy < oy1; oy++, y += g->ow) {
            const float *r0 = x + (2 * oy - g->row0) * g->W, *r1 = r0 + g->W;
            for (int64_t o = 0; o < g->ow; o += 16) {
                int64_t n = g->ow - o < 16 ? g->ow - o : 16;
                __mmask16 ma = (__mmask16)(n >= 8 ? 0xffff : (1u << (2 * n)) - 1);
                __mmask16 mb = (__mmask16)(n > 8 ? (1u << (2 * n - 16)) - 1 : 0);
                __m512 a = mp_max16(_mm512_maskz_loadu_ps(ma, r0 + 2 * o),
                                    _mm512_maskz_loadu_ps(ma, r1 + 2 * o));
                __m512 b = mp_max16(_mm512_maskz_loadu_ps(mb, r0 + 2 * o + 16),
                                    _mm512_maskz_loadu_ps(mb, r1 + 2 * o + 16));
                __m512 v = mp_max16(_mm512_permutex2var_ps(a, even, b),
                                    _mm512_permutex2var_ps(a, odd, b));
                _mm512_mask_storeu_ps(y + o, (__mmask16)((1u << n) - 1), v);
            }
        }
    }
}

/* Output rows [oy0, oy1) of planes [p0, p1) of a 3x3 pool at stride 2
 * whose windows all lie inside the image (mp_3x3_fits), on AVX-512, a
 * plane at a time as mp_2x2_avx512: each 16 outputs of a row from the
 * rows pass of input columns [2 o, 2 o + 2 n + 1) as three vectors (the
 * third one column), then the taps at even lanes, odd lanes and even
 * lanes a column on, in mp_row2_16's order. The row kernels set up each
 * output row (squeezenet1_1's features.8, 256 planes of 13 rows, took
 * 30 us alone, warm, against 27 for onnxruntime's in the model). */
LOOMRT_TARGET_AVX512 static void mp_3x3_avx512(const mp_geom *g, int64_t p0, int64_t p1,
                                              int64_t oy0, int64_t oy1)
{
    __m512i even = mp_idx(0), odd = mp_idx(1);
    int64_t W = g->W;
    for (int64_t p = p0; p < p1; p++) {
        const float *x = g->x + p * g->xplane;
        float *y = g->y + p * g->yplane + oy0 * g->ow;
        for (int64_t oy = oy0; oy < oy1; oy++, y += g->ow) {
            const float *r = x + (2 * oy - g->row0) * W;
            for (int64_t o = 0; o < g->ow; o += 16) {
                int64_t n = g->ow - o < 16 ? g->ow - o : 16, cols = 2 * n + 1;
                __mmask16 ma = (__mmask16)(cols >= 16 ? 0xffff : (1u << cols) - 1);
                __mmask16 mb = (__mmask16)(cols >= 32 ? 0xffff
                                           : cols > 16 ? (1u << (cols - 16)) - 1
                                                       : 0);
                __mmask16 mc = (__mmask16)(cols > 32 ? 1 : 0);
                const float *c0 = r + 2 * o;
                __m512 v[3];
                for (int h = 0; h < 3; h++) {
                    __mmask16 m = h == 0 ? ma : h == 1 ? mb : mc;
                    v[h] = _mm512_maskz_loadu_ps(m, c0 + 16 * h);
                    for (int k = 1; k < 3; k++)
                        v[h] = mp_max16(v[h], _mm512_maskz_loadu_ps(m, c0 + k * W + 16 * h));
                }
                __m512 best = mp_max16(_mm512_permutex2var_ps(v[0], even, v[1]),
                                       _mm512_permutex2var_ps(v[0], odd, v[1]));
                __m512i ai = _mm512_castps_si512(v[0]), bi = _mm512_castps_si512(v[1]);
                __m512 lo = _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 2));
                __m512 hi = _mm512_castsi512_ps(
                    _mm512_alignr_epi32(_mm512_castps_si512(v[2]), bi, 2));
                best = mp_max16(best, _mm512_permutex2var_ps(lo, even, hi));
                _mm512_mask_storeu_ps(y + o, (__mmask16)((1u << n) - 1), best);
            }
        }
    }
}

/* As mp_fused_avx512. */
LOOMRT_TARGET_AVX2 static void mp_fused_avx2(const mp_geom *g, const float *p, int64_t iy,
                                             int64_t k0, int64_t k1, float *y)
{
    MP_FUSED(mp_row2_8)
}
#endif

/* The row and column passes of one instruction-set level, and a row of
 * both in registers (or NULL) for the windows mp_fused_fits takes. */
typedef struct mp_passes {
    void (*rows)(const mp_geom *g, const float *p, int64_t iy, int64_t k0, int64_t k1,
                 float *row);
    void (*cols)(const mp_geom *g, const float *row, float *y);
    void (*fused)(const mp_geom *g, const float *p, int64_t iy, int64_t k0, int64_t k1,
                  float *y);
} mp_passes;

/* Column stride 2 over 2 or 3 adjacent columns: the pools of CNNs. */
static int mp_fused_fits(const mp_geom *g)
{
    return g->sw == 2 && g->dw == 1 && (g->kw == 2 || g->kw == 3);
}

/* The passes of this CPU's level for g. */
static mp_passes mp_passes_get(const mp_geom *g)
{
#ifdef LOOMRT_X86
    int isa = loomrt_isa_get();
    if (isa == LOOMRT_ISA_AVX512)
        return (mp_passes){mp_rows_avx512, mp_cols_avx512,
                           mp_fused_fits(g) ? mp_fused_avx512 : NULL};
    if (isa == LOOMRT_ISA_AVX2)
        return (mp_passes){mp_rows_avx2, mp_cols_avx2,
                           mp_fused_fits(g) ? mp_fused_avx2 : NULL};
#endif
    (void)g;
    return (mp_passes){mp_rows_c, mp_cols_c, NULL};
}

/* Whether output rows [oy0, oy1) of g are a 2x2 pool at stride 2 whose
 * windows all lie in the image (its rows held from row0), for
 * mp_2x2_avx512. */
static int mp_2x2_fits(const mp_geom *g, int64_t oy0, int64_t oy1)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           g->pt == 0 && g->pl == 0 && 2 * oy0 >= g->row0 && 2 * oy1 <= g->H &&
           2 * g->ow <= g->W;
}

/* Whether output rows [oy0, oy1) of g are a 3x3 pool at stride 2 whose
 * windows all lie in the image, rows of at most 16 outputs, for
 * mp_3x3_avx512. On longer rows the row kernel, which carries each 16
 * columns' rows pass to the next outputs, was as fast or faster (alone,
 * warm: 128 planes 55x55 -> 27x27 46 us, 47-49 by planes; 64 of 111x111
 * -> 55x55 124, 119-124); on rows of 13, 256 planes of 27x27 (squeezenet1_1's
 * features.8) 30.3 -> 21.0 us. */
static int mp_3x3_fits(const mp_geom *g, int64_t oy0, int64_t oy1)
{
    return g->kh == 3 && g->kw == 3 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           g->pt == 0 && g->pl == 0 && 2 * oy0 >= g->row0 && 2 * oy1 + 1 <= g->H &&
           2 * g->ow + 1 <= g->W && g->ow <= 16;
}

/* Output rows [oy0, oy1) of planes [p0, p1), with the passes of this
 * CPU's level. */
static void mp_part(const mp_geom *g, int64_t p0, int64_t p1, int64_t oy0, int64_t oy1)
{
#ifdef LOOMRT_X86
    if (loomrt_isa_get() == LOOMRT_ISA_AVX512 && mp_2x2_fits(g, oy0, oy1)) {
        mp_2x2_avx512(g, p0, p1, oy0, oy1);
        return;
    }
    if (loomrt_isa_get() == LOOMRT_ISA_AVX512 && mp_3x3_fits(g, oy0, oy1)) {
        mp_3x3_avx512(g, p0, p1, oy0, oy1);
        return;
    }
#endif
    float row[LOOMRT_MAXPOOL_ROW];
    for (int64_t i = 0; i < g->rw; i++) /* the padding: never wins */
        row[i] = NAN;
    mp_passes pass = mp_passes_get(g);
    for (int64_t p = p0; p < p1; p++) {
        const float *x = g->x + p * g->xplane;
        float *y = g->y + p * g->yplane + oy0 * g->ow;
        for (int64_t oy = oy0; oy < oy1; oy++, y += g->ow) {
            int64_t k0, k1, iy = oy * g->sh - g->pt - g->row0;
            mp_rows(g, oy, &k0, &k1);
            if (k0 < k1 && pass.fused) {
                pass.fused(g, x, iy, k0, k1, y);
                continue;
            }
            if (k0 < k1)
                pass.rows(g, x, iy, k0, k1, row);
            else /* no kernel row inside the image: the row is padding */
                for (int64_t i = 0; i < g->W; i++)
                    row[g->pl + i] = NAN;
            pass.cols(g, row, y);
        }
    }
}

/* Planes [p0, p1), all their rows. */
static int mp_task(void *arg, int64_t p0, int64_t p1)
{
    const mp_geom *g = (const mp_geom *)arg;
    mp_part(g, p0, p1, 0, g->oh);
    return 0;
}

/* Output rows [oy0, oy1) of every plane. */
static int mp_rows_task(void *arg, int64_t oy0, int64_t oy1)
{
    const mp_geom *g = (const mp_geom *)arg;
    mp_part(g, 0, g->planes, oy0, oy1);
    return 0;
}

/* Output rows a thread from which the threads split the pool by rows of
 * every plane rather than by planes: the first pools of CNNs follow a
 * convolution split by rows (loomrt_conv2d_direct, Winograd by tiles), so
 * each thread then reads what its own core wrote. Xeon, 2 threads, in the
 * model (`bench/ab_builds.py --steps`): resnet18's 123 -> 118 us,
 * squeezenet1_1's first 99 -> 93. */
#define MP_ROWS_PER_THREAD 16

/* Split over the threads from 2^15 taps per thread: by output rows from
 * MP_ROWS_PER_THREAD rows a thread, else by planes. */
LOOMRT_API void loomrt_maxpool2d(const float *x, int64_t planes, int64_t H, int64_t W, int64_t kh,
                                 int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                 int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                                 float *y)
{
    if (planes <= 0 || oh <= 0 || H <= 0 || kh <= 0 || stride_h <= 0 || dil_h <= 0 ||
        !loomrt_maxpool2d_fits(W, kw, ow, pad_l, stride_w, dil_w))
        return;
    mp_geom g = {x,     y,     H,        W,        kh,    kw,    oh,
                 ow,    pad_t, pad_l,    stride_h, stride_w, dil_h, dil_w,
                 mp_row_len(W, kw, ow, pad_l, stride_w, dil_w), planes, H * W, 0, oh * ow};
    int64_t work = planes * oh * (kh * W + kw * ow);
    int t = loomrt_threads_get();
    if (work < ((int64_t)1 << 15) * t)
        mp_task(&g, 0, planes);
    else if (oh >= MP_ROWS_PER_THREAD * t)
        loomrt_parallel_for(oh, mp_rows_task, &g);
    else
        loomrt_parallel_for(planes, mp_task, &g);
}

LOOMRT_API void loomrt_maxpool2d_rows(const float *x, int64_t xplane, int64_t row0, int64_t planes,
                                      int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                                      int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                      int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t oy0,
                                      int64_t oy1, float *y, int64_t yplane)
{
    if (planes <= 0 || oy0 >= oy1 || H <= 0 || kh <= 0 || stride_h <= 0 || dil_h <= 0 ||
        !loomrt_maxpool2d_fits(W, kw, ow, pad_l, stride_w, dil_w))
        return;
    mp_geom g = {x,     y,     H,        W,        kh,    kw,    oh,
                 ow,    pad_t, pad_l,    stride_h, stride_w, dil_h, dil_w,
                 mp_row_len(W, kw, ow, pad_l, stride_w, dil_w), planes, xplane, row0, yplane};
    mp_part(&g, 0, planes, oy0, oy1);
}
