/*
 * im2col / col2im for 2-D convolutions: the layout transforms that turn a
 * convolution into one GEMM (Chellapilla et al. 2006; Caffe's im2col).
 */
#include "loomrt.h"
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#define UNFOLD_AVX2 1

/* s[0], s[2], ..., s[14] (reads s[0..16)). */
static inline __m256 unfold_even(const float *s)
{
    __m256 v = _mm256_shuffle_ps(_mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8));
}

/* v, hidden from the compiler: a loop of vector loads and stores that it
 * would otherwise turn into a memcpy call per row, whose call and
 * dispatch cost more than the copy on rows of 8 to 32 floats. */
static inline __m256 unfold_opaque(__m256 v)
{
#if defined(__GNUC__)
    __asm__("" : "+x"(v));
#endif
    return v;
}
#endif

#if defined(UNFOLD_AVX2) && defined(__AVX512F__) && defined(__AVX512VL__)
#define UNFOLD_AVX512 1

/* The lanes of parity r of a then b: a[r], a[r + 2], ..., a[r + 14], then
 * b's the same (one two-source permute). */
static inline __m512 unfold_parity16(__m512 a, __m512 b, int r)
{
    __m512i at = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, _mm512_add_epi32(at, _mm512_set1_epi32(r)), b);
}
#endif

/* The outputs x in [0, out) whose tap x * stride + off lands in [0, n),
 * as [*lo, *hi). */
static void unfold_range(int64_t off, int64_t stride, int64_t n, int64_t out, int64_t *lo,
                         int64_t *hi)
{
    /* steps instead of divisions (this runs per row block, divisions are
     * slow next to a few short rows); the steps are only as many as the
     * outputs whose taps fall in the padding */
    int64_t a = 0, b = out;
    while (a < out && a * stride + off < 0)
        a++;
    while (b > a && (b - 1) * stride + off >= n)
        b--;
    *lo = a;
    *hi = b;
}

/* dst[0:n) = 0. With AVX2 in vectors, not through a memset call, whose
 * overhead is the whole cost for the short runs of padding. */
static inline void unfold_zero(float *dst, int64_t n)
{
    int64_t i = 0;
#ifdef UNFOLD_AVX2
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_setzero_ps());
#endif
    for (; i < n; i++)
        dst[i] = 0.0f;
}

/* One row of col, scalar: d[x] = row[x * stride + off] for x in [x0, x1),
 * 0 elsewhere in [0, ow). */
static void unfold_row(float *d, const float *row, int64_t stride, int64_t off, int64_t x0,
                       int64_t x1, int64_t ow)
{
    unfold_zero(d, x0);
    if (stride == 1)
        for (int64_t x = x0; x < x1; x++)
            d[x] = row[x + off];
    else
        for (int64_t x = x0; x < x1; x++)
            d[x] = row[x * stride + off];
    unfold_zero(d + x1, ow - x1);
}

#ifdef UNFOLD_AVX2
/* d[l] = img[first + l * stride] for the lanes l < 8 whose output x + l
 * lies in [x0, x1), 0 for the others. */
static void unfold_lanes(float *d, const float *img, int64_t first, int64_t stride, int64_t x,
                         int64_t x0, int64_t x1)
{
    for (int64_t l = 0; l < 8; l++)
        d[l] = x + l >= x0 && x + l < x1 ? img[first + l * stride] : 0.0f;
}

/* Rows [y0, y1) of a row block for ow >= 8 and stride 1 or 2, d at row
 * y0: 8 outputs per vector (the last vector overlapping the one before),
 * lanes outside [x0, x1) masked to 0. The tap of output (y, x) is
 * img[(y * stride_h + offy) * W + offx + x * stride_w]; the vector loads
 * may reach into the neighbouring rows and channels (those lanes are
 * masked), so only a vector that would leave the whole input in[lo, hi)
 * (lo <= 0 < hi relative to img) is gathered lane by lane. One column of
 * vectors at a time, so its mask is computed once. */
static void unfold_rows8(float *d, const float *img, int64_t lo, int64_t hi, int64_t W,
                         int64_t y0, int64_t y1, int64_t stride_h, int64_t offy, int64_t stride_w,
                         int64_t offx, int64_t x0, int64_t x1, int64_t ow)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mlo = _mm256_set1_epi32((int32_t)x0 - 1), mhi = _mm256_set1_epi32((int32_t)x1);
    int64_t reach = 8 * stride_w, step = stride_h * W; /* loads read [first, first + reach) */
    for (int64_t x = 0;; x += 8) {
        if (x > ow - 8)
            x = ow - 8;
        __m256i lane = _mm256_add_epi32(_mm256_set1_epi32((int32_t)x), iota);
        __m256 m = _mm256_castsi256_ps(
            _mm256_and_si256(_mm256_cmpgt_epi32(lane, mlo), _mm256_cmpgt_epi32(mhi, lane)));
        float *dy = d + x;
        int64_t first = (y0 * stride_h + offy) * W + offx + x * stride_w;
        int64_t last = first + (y1 - 1 - y0) * step;
        if (first >= lo && last + reach <= hi) { /* the usual case: no checks */
            const float *sy = img + first;
            if (stride_w == 1)
                for (int64_t y = y0; y < y1; y++, dy += ow, sy += step)
                    _mm256_storeu_ps(dy, _mm256_and_ps(_mm256_loadu_ps(sy), m));
            else
                for (int64_t y = y0; y < y1; y++, dy += ow, sy += step)
                    _mm256_storeu_ps(dy, _mm256_and_ps(unfold_even(sy), m));
        } else {
            for (int64_t y = y0; y < y1; y++, dy += ow, first += step) {
                if (first < lo || first + reach > hi)
                    unfold_lanes(dy, img, first, stride_w, x, x0, x1);
                else if (stride_w == 1)
                    _mm256_storeu_ps(dy, _mm256_and_ps(_mm256_loadu_ps(img + first), m));
                else
                    _mm256_storeu_ps(dy, _mm256_and_ps(unfold_even(img + first), m));
            }
        }
        if (x == ow - 8)
            break;
    }
}
#endif

/* rows x n block copy, d[y*dd + x] = s[y*ds + x]: the taps of a
 * (channel, tap) row block that needs no column padding at stride 1. The
 * loops are tight on purpose: with rows of 3 to 30 floats the per-row
 * cost decides im2col's speed. */
static inline void unfold_copy_rows(float *d, int64_t dd, const float *s, int64_t ds, int64_t rows,
                                    int64_t n)
{
#ifdef UNFOLD_AVX2
    if (n >= 8) { /* whole vectors, then one overlapping the last */
        for (int64_t y = 0; y < rows; y++, d += dd, s += ds) {
            for (int64_t x = 0; x + 8 <= n; x += 8)
                _mm256_storeu_ps(d + x, unfold_opaque(_mm256_loadu_ps(s + x)));
            _mm256_storeu_ps(d + n - 8, _mm256_loadu_ps(s + n - 8));
        }
        return;
    }
    if (n >= 4) {
        for (int64_t y = 0; y < rows; y++, d += dd, s += ds) {
            _mm_storeu_ps(d, _mm_loadu_ps(s));
            _mm_storeu_ps(d + n - 4, _mm_loadu_ps(s + n - 4));
        }
        return;
    }
#endif
    for (int64_t y = 0; y < rows; y++, d += dd, s += ds)
        for (int64_t x = 0; x < n; x++)
            d[x] = s[x];
}

/* Rows [y0, y1) of one (channel, tap) row block of col, d at output row
 * y0; the image row of output row y starts at img[(y * stride_h + offy)
 * * W] within the image img of the input in[lo, hi) (relative to img). */
static void unfold_rows(float *d, const float *img, int64_t lo, int64_t hi, int64_t W, int64_t y0,
                        int64_t y1, int64_t stride_h, int64_t offy, int64_t stride_w, int64_t offx,
                        int64_t x0, int64_t x1, int64_t ow)
{
    if (y0 >= y1)
        return;
    if (stride_w == 1 && x0 == 0 && x1 == ow) {
        unfold_copy_rows(d, ow, img + (y0 * stride_h + offy) * W + offx, stride_h * W, y1 - y0,
                         ow);
        return;
    }
#ifdef UNFOLD_AVX2
    if (ow >= 8 && (stride_w == 1 || stride_w == 2)) {
        unfold_rows8(d, img, lo, hi, W, y0, y1, stride_h, offy, stride_w, offx, x0, x1, ow);
        return;
    }
#else
    (void)lo;
    (void)hi;
#endif
    for (int64_t y = y0; y < y1; y++, d += ow)
        unfold_row(d, img + (y * stride_h + offy) * W, stride_w, offx, x0, x1, ow);
}

/* im2col when every tap lands inside the image (no padding reached) at
 * stride 1 along rows: plain block copies, nothing computed per block.
 * Channel c's plane at in + c * chw. */
static void unfold_inside(const float *in, int64_t C, int64_t chw, int64_t W, int64_t kh,
                          int64_t kw, int64_t oh, int64_t ow, int64_t stride_h, int64_t dil_h,
                          int64_t dil_w, float *col)
{
    int64_t plane = oh * ow;
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++) {
            const float *src = in + c * chw + ki * dil_h * W;
            for (int64_t kj = 0; kj < kw; kj++, col += plane)
                unfold_copy_rows(col, ow, src + kj * dil_w, stride_h * W, oh, ow);
        }
}

/* Floats of im2col_plane's padded plane, at most. */
#define UNFOLD_PLANE 2048

/* Rows of n outputs d[y * n + x] = s[y * ds + 2 x] for y < rows, from a
 * padded plane (read up to 2 n floats from a row's start, one past its
 * last tap). */
static inline __attribute__((always_inline)) void
unfold_even_rows(float *d, const float *s, int64_t ds, int64_t rows, int64_t n)
{
#ifdef UNFOLD_AVX512
    /* one two-source permute takes the even lanes of two loads: of two
     * rows' taps at 8 (4) outputs a row, of one row's halves from 16 */
    if (n == 8 || n == 4) {
        const __m256i even8 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        for (; rows >= 2; rows -= 2, d += 2 * n, s += 2 * ds) {
            if (n == 8)
                _mm512_storeu_ps(d,
                                 unfold_parity16(_mm512_loadu_ps(s), _mm512_loadu_ps(s + ds), 0));
            else
                _mm256_storeu_ps(d, _mm256_permutex2var_ps(_mm256_loadu_ps(s), even8,
                                                           _mm256_loadu_ps(s + ds)));
        }
    } else if (n >= 16) {
        for (int64_t y = 0; y < rows; y++, d += n, s += ds) {
            /* whole vectors, then one overlapping the last */
            for (int64_t x = 0;; x += 16) {
                x = x + 16 <= n ? x : n - 16;
                const float *t = s + 2 * x;
                __m512 v = unfold_parity16(_mm512_loadu_ps(t), _mm512_loadu_ps(t + 16), 0);
                _mm512_storeu_ps(d + x, v);
                if (x == n - 16)
                    break;
            }
        }
        return;
    }
#endif
#ifdef UNFOLD_AVX2
    if (n >= 8) {
        for (int64_t y = 0; y < rows; y++, d += n, s += ds) {
            for (int64_t x = 0; x + 8 <= n; x += 8)
                _mm256_storeu_ps(d + x, unfold_even(s + 2 * x));
            if (n % 8)
                _mm256_storeu_ps(d + n - 8, unfold_even(s + 2 * (n - 8)));
        }
        return;
    }
    if (n >= 4) {
        for (int64_t y = 0; y < rows; y++, d += n, s += ds) {
            _mm_storeu_ps(d, _mm_shuffle_ps(_mm_loadu_ps(s), _mm_loadu_ps(s + 4), 0x88));
            const float *t = s + 2 * (n - 4);
            _mm_storeu_ps(d + n - 4, _mm_shuffle_ps(_mm_loadu_ps(t), _mm_loadu_ps(t + 4), 0x88));
        }
        return;
    }
#endif
    for (int64_t y = 0; y < rows; y++, d += n, s += ds)
        for (int64_t x = 0; x < n; x++)
            d[x] = s[2 * x];
}

/* unfold_even_rows for every tap of a channel's padded plane p (row
 * stride wp): tap (ki, kj)'s rows of n outputs from p + ki * dh * wp + kj
 * * dw, ds apart, into col's blocks of rows * n in the taps' order. The
 * rows of 8 and 16 (4x4/2 convolutions to 8x8 and 16x16 planes) are
 * inlined with n a constant, so that the width's tests run once per
 * channel, not once per tap: per tap they cost a third of
 * gan_discriminator's conv2 unfolding (AVX-512, timed with the same
 * loads, permutes and stores written out as a nest: 32 channels, 16 taps
 * of 8x8, 4.06 us, then 3.05; 3 channels to 16x16 1.34 -> 1.18, 64
 * channels to 16x16 28.4-29.7 -> 24.3-24.9; AVX2 as it stands, 32
 * channels 16x16 4x4/2 5.7 -> 4.5). */
#define UNFOLD_EVEN_TAPS(nn)                                                     \
    for (int64_t ki = 0; ki < kh; ki++)                                          \
        for (int64_t kj = 0; kj < kw; kj++, col += rows * (nn))                  \
            unfold_even_rows(col, p + ki * dh * wp + kj * dw, ds, rows, nn)

static void unfold_even_taps(float *col, const float *p, int64_t wp, int64_t kh, int64_t kw,
                             int64_t dh, int64_t dw, int64_t ds, int64_t rows, int64_t n)
{
    if (n == 8)
        UNFOLD_EVEN_TAPS(8);
    else if (n == 16)
        UNFOLD_EVEN_TAPS(16);
    else
        UNFOLD_EVEN_TAPS(n);
}

/* im2col through a zero-padded copy of each channel's plane, holding the
 * taps of every output: each (channel, tap) row block is then a strided
 * copy without bounds tests or range finding. For small planes, where
 * those per block and per row cost more than the copies (16 to 64
 * floats a block). The padding is the same for every channel: the
 * planes are zeroed once, then each channel's rows copied in. Two
 * planes in turn, the next channel's laid out before this one's blocks
 * are read: read right after its stores, loads that span two of them
 * waited for the stores to reach the cache. Channel c's plane at in + c *
 * chw. */
static void im2col_plane(const float *in, int64_t C, int64_t H, int64_t W, int64_t chw,
                         int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t pad_t,
                         int64_t pad_l, int64_t stride_h, int64_t stride_w, int64_t dil_h,
                         int64_t dil_w, float *col)
{
    float pad[2][UNFOLD_PLANE];
    int64_t hp = (oh - 1) * stride_h + (kh - 1) * dil_h + 1;
    int64_t wp = (ow - 1) * stride_w + (kw - 1) * dil_w + 1;
    /* the image's rows [y0, y1) and columns [x0, x1) in the padded plane */
    int64_t y0 = pad_t < hp ? pad_t : hp, y1 = pad_t + H < hp ? pad_t + H : hp;
    int64_t x0 = pad_l < wp ? pad_l : wp, x1 = pad_l + W < wp ? pad_l + W : wp;
    /* with the vector reads' slack. At most UNFOLD_PLANE floats (the
     * caller's test), said again here for GCC 12, and by memset: at -O3,
     * inlined into a model's one-file form, it warned of unfold_zero's
     * loops running long enough to overflow, and of an unbounded memset
     * past pad */
    size_t zeros = (size_t)(hp * wp + 16 < UNFOLD_PLANE ? hp * wp + 16 : UNFOLD_PLANE);
    memset(pad[0], 0, zeros * sizeof(float));
    memset(pad[1], 0, zeros * sizeof(float));
    int rows = y0 < y1 && x0 < x1;
    const float *first = rows ? in + (y0 - pad_t) * W + x0 - pad_l : in;
    if (rows)
        unfold_copy_rows(pad[0] + y0 * wp + x0, wp, first, W, y1 - y0, x1 - x0);
    for (int64_t c = 0; c < C; c++) {
        if (rows && c + 1 < C)
            unfold_copy_rows(pad[(c + 1) & 1] + y0 * wp + x0, wp, first + (c + 1) * chw, W,
                             y1 - y0, x1 - x0);
        const float *p = pad[c & 1];
        if (stride_w == 2) {
            unfold_even_taps(col, p, wp, kh, kw, dil_h, dil_w, stride_h * wp, oh, ow);
            col += kh * kw * oh * ow;
            continue;
        }
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++, col += oh * ow) {
                const float *s = p + ki * dil_h * wp + kj * dil_w;
                if (stride_w == 1)
                    unfold_copy_rows(col, ow, s, stride_h * wp, oh, ow);
                else
                    for (int64_t y = 0; y < oh; y++)
                        for (int64_t x = 0; x < ow; x++)
                            col[y * ow + x] = s[y * stride_h * wp + x * stride_w];
            }
    }
}

/* Per (channel, tap) row block of col, in the order of col (writes in
 * another order collide in the cache: the blocks are often 4 KB apart),
 * the output rows [y0, y1) and columns [x0, x1) whose taps land inside
 * the image are found; the rows outside are zero-filled, the rows inside
 * copied without per-element tests. Channel c's plane of H x W floats at
 * in + c * chw (chw >= H * W: H rows of a taller image, whose rows above
 * and below are not read). */
static void im2col_serial(const float *in, int64_t C, int64_t H, int64_t W, int64_t chw,
                          int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t pad_t,
                          int64_t pad_l, int64_t stride_h, int64_t stride_w, int64_t dil_h,
                          int64_t dil_w, float *col)
{
    int64_t total = (C - 1) * chw + H * W;
    if (pad_t == 0 && pad_l == 0 && stride_w == 1 && (oh - 1) * stride_h + (kh - 1) * dil_h < H &&
        ow + (kw - 1) * dil_w <= W) {
        unfold_inside(in, C, chw, W, kh, kw, oh, ow, stride_h, dil_h, dil_w, col);
        return;
    }
    int64_t hp = (oh - 1) * stride_h + (kh - 1) * dil_h + 1;
    int64_t wp = (ow - 1) * stride_w + (kw - 1) * dil_w + 1;
    if (hp * wp + 16 <= UNFOLD_PLANE) {
        im2col_plane(in, C, H, W, chw, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h,
                     dil_w, col);
        return;
    }
    int64_t plane = oh * ow;
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++) {
            int64_t offy = ki * dil_h - pad_t, y0, y1;
            unfold_range(offy, stride_h, H, oh, &y0, &y1);
            for (int64_t kj = 0; kj < kw; kj++, col += plane) {
                int64_t offx = kj * dil_w - pad_l, x0, x1;
                unfold_range(offx, stride_w, W, ow, &x0, &x1);
                int64_t r0 = x0 < x1 ? y0 : 0, r1 = x0 < x1 ? y1 : 0; /* no column: all 0 */
                unfold_zero(col, r0 * ow);
                unfold_rows(col + r0 * ow, in + c * chw, -c * chw, total - c * chw, W, r0, r1,
                            stride_h, offy, stride_w, offx, x0, x1, ow);
                unfold_zero(col + r1 * ow, (oh - r1) * ow);
            }
        }
}

/* im2col's operands, for a range of channels on a thread. */
typedef struct im2col_job {
    const float *in;
    float *col;
    int64_t H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w;
} im2col_job;

/* Channels [c0, c1): their rows of col are a block of their own. */
static int im2col_task(void *arg, int64_t c0, int64_t c1)
{
    const im2col_job *j = (const im2col_job *)arg;
    im2col_serial(j->in + c0 * j->H * j->W, c1 - c0, j->H, j->W, j->H * j->W, j->kh, j->kw,
                  j->oh, j->ow, j->pad_t, j->pad_l, j->stride_h, j->stride_w, j->dil_h,
                  j->dil_w, j->col + c0 * j->kh * j->kw * j->oh * j->ow);
    return 0;
}

/* Large unfolds (2^16 floats of col per thread and more) are split by
 * channels over the calling thread's threads (loomrt_parallel_for). */
LOOMRT_API void loomrt_im2col(const float *in, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *col)
{
    im2col_job j = {in, col, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w};
    if (C > 1 && C * kh * kw * oh * ow >= ((int64_t)1 << 16) * loomrt_threads_get())
        loomrt_parallel_for(C, im2col_task, &j);
    else
        im2col_serial(in, C, H, W, H * W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h,
                      dil_w, col);
}

/* ---- convolution over a small plane as im2col and a transposed product ----
 * y^T [oh*ow, M] = unfold(x)^T [oh*ow, K] x W^T [K, M], W^T packed at
 * compile time, C = y stored transposed (loomrt_sgemm_packed_epi's trans
 * flags): the lowering's choice for deep products over planes of up to
 * 256 outputs (conv_small_plane in backend/lower/lower_conv.c). The
 * scratch holds K*oh*ow floats where the product packs the unfolded image
 * for the AVX-512 kernel when it does (loomrt_sgemm_packs_at), then the
 * unfolded image [K][oh*ow] (none for a pointwise convolution: x is its
 * own). */

/* Multiply-adds a thread from which the plane is split over the calling
 * thread's threads (as GEMM_PAR_MIN for a product). */
#define CT_PAR_MIN ((int64_t)1 << 18)

/* A convolution's operands and geometry for its threads (ct_task). */
typedef struct ct_job {
    const float *x, *wp, *bias, *res;
    float *y, *col, *ap;
    int64_t C, M, H, W, kh, kw, oh, ow, pad_t, pad_l, sh, sw, dh, dw;
    int parts, act, unfolded;
    float alpha, beta;
} ct_job;

/* Whether the convolution is pointwise (1x1, stride 1, no padding): x is
 * then its own unfolded image. */
static int ct_pointwise(int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                        int64_t pad_t, int64_t pad_l, int64_t sh, int64_t sw)
{
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pad_t == 0 && pad_l == 0 && oh == H &&
           ow == W;
}

/* Parts [k0, k1) of the plane, a run of output rows a part (when x is
 * already unfolded, a pointwise convolution's input or the scratch's
 * unfolded image, equal runs of positions: a 13x13 plane split as 6 + 7
 * rows left one thread 91 positions of 169, and squeezenet1_1's
 * classifier, 512 -> 1000 channels, took 555-565 us alone on two
 * threads, 533-542 split as 84 + 85; mobilenet_v2's 7x7 ones 1-11%
 * less): each unfolds its rows from the input rows they read into its
 * own columns of the scratch ([K][its positions], at K times its first
 * position; x's own columns when unfolded) and multiplies them (packing
 * them at the same place of the scratch's first half), so that the
 * columns it reads are the ones it wrote, in its own cache. Before, the
 * unfolding was split by channels (or not split) and the product by rows
 * of y^T, each thread reading all K rows of its positions, half of them
 * written on the other core. The product of each part blocks K as the
 * whole product does (loomrt_sgemm_packed_part): every element is the
 * one-thread sum, bit for bit. */
static int ct_task(void *arg, int64_t k0, int64_t k1)
{
    const ct_job *j = (const ct_job *)arg;
    int64_t K = j->C * j->kh * j->kw, N = j->oh * j->ow;
    int prev = loomrt_threads_swap(1);
    for (int64_t k = k0; k < k1; k++) {
        int64_t y0 = j->oh * k / j->parts, y1 = j->oh * (k + 1) / j->parts;
        int64_t p0 = y0 * j->ow, n = (y1 - y0) * j->ow, top = y0 * j->sh - j->pad_t;
        if (j->unfolded) { /* no rows to unfold: equal runs of positions */
            p0 = N * k / j->parts;
            n = N * (k + 1) / j->parts - p0;
        }
        /* the part's first window row, inside the image (top >= 0; it
         * starts there, as a shorter image) or in its padding */
        int64_t skip = top > 0 ? top : 0;
        const float *col = j->x + p0;
        int64_t ld = N;
        if (!j->unfolded) {
            float *part = j->col + K * p0;
            im2col_serial(j->x + skip * j->W, j->C, j->H - skip, j->W, j->H * j->W, j->kh,
                          j->kw, y1 - y0, j->ow, skip - top, j->pad_l, j->sh, j->sw, j->dh,
                          j->dw, part);
            col = part, ld = n;
        }
        loomrt_sgemm_packed_part(1, 1, N, n, j->M, K, 1.0f, col, ld,
                                 j->ap ? j->ap + K * p0 : NULL, j->wp, 0.0f, j->y + p0, N,
                                 j->bias, 0, 1, j->res ? j->res + p0 : NULL, j->act, j->alpha,
                                 j->beta);
    }
    loomrt_threads_swap(prev);
    return 0;
}

LOOMRT_API int64_t loomrt_conv2d_t_scratch(int64_t C, int64_t M, int64_t H, int64_t W,
                                           int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                           int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                           int64_t stride_w)
{
    int64_t n = C * kh * kw * oh * ow;
    int unfolds = !ct_pointwise(H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w);
    return (unfolds + loomrt_sgemm_packs_at(M, C * kh * kw)) * n;
}

/* On several threads, parts of a run of output rows each (ct_task), as
 * many as there are threads, rows, and CT_PAR_MIN multiply-adds for;
 * when there are fewer rows than parts (a 1-D convolution's one) or the
 * last output row's window starts below the image, the unfolding on its
 * own, then the product in equal runs of positions, as a pointwise one.
 * Xeon, 2 threads, alone, warm, us: gan_discriminator's 32 -> 64 4x4
 * stride 2 over 16x16 29.4 -> 27.0, resnet18's 128 -> 256 3x3 stride 2
 * over 28x28 473 -> 410, 64 -> 128 4x4 stride 2 over 32x32 316 -> 242;
 * in the models (bench/ab_builds.py --steps) gan_discriminator's 33.5 ->
 * 28.1 and the convolution before it 11.0 -> 6.2 (it no longer writes
 * over lines the other core held), resnet18's 507-521 -> 446-451. The
 * product packing the unfolded image for the AVX-512 kernel in the
 * scratch (loomrt_sgemm_packed_part), in the models, medians: resnet18's
 * layer3.0.conv1 865 -> 841 us on one thread, squeezenet1_1's classifier
 * (pointwise, 512 -> 1000 over 13x13, until then the transposed product
 * on x in place) 1101 -> 1077 on one thread, 604 -> 585 on two. */
LOOMRT_API void loomrt_conv2d_t(const float *x, const float *wp, float *y, float *scratch,
                                int64_t C, int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                                const float *bias, const float *res, int act, float act_alpha,
                                float act_beta)
{
    int64_t K = C * kh * kw, N = oh * ow;
    if (K <= 0 || N <= 0 || M <= 0)
        return;
    int64_t t = loomrt_threads_get(), most = M * N * K / CT_PAR_MIN;
    int64_t parts = t < most ? t : most;
    parts = parts < N ? parts : N;
    int pw = ct_pointwise(H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w);
    int by_rows = parts > 1 && !pw && parts <= oh && (oh - 1) * stride_h - pad_t < H;
    float *ap = loomrt_sgemm_packs_at(M, K) ? scratch : NULL;
    float *col_s = ap ? scratch + K * N : scratch;
    const float *col = x;
    if (!pw && !by_rows) {
        loomrt_im2col(x, C, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w,
                      col_s);
        col = col_s;
    }
    if (parts < 2) {
        loomrt_sgemm_packed_part(1, 1, N, N, M, K, 1.0f, col, N, ap, wp, 0.0f, y, N, bias, 0, 1,
                                 res, act, act_alpha, act_beta);
        return;
    }
    ct_job j = {.x = col, .wp = wp, .bias = bias, .res = res, .y = y, .col = col_s, .ap = ap,
                .C = C, .M = M, .H = H, .W = W, .kh = kh, .kw = kw, .oh = oh, .ow = ow,
                .pad_t = pad_t, .pad_l = pad_l, .sh = stride_h, .sw = stride_w, .dh = dil_h,
                .dw = dil_w, .parts = (int)parts, .act = act, .unfolded = !by_rows,
                .alpha = act_alpha, .beta = act_beta};
    loomrt_parallel_for(parts, ct_task, &j);
}

/* dst[x * stride] += src[x] for x in [0, n), no bounds tests. With AVX2
 * at stride 2, 8 sources are interleaved with -0.0 (x + -0.0 == x for
 * every x, -0.0 and NaN included) and added to 16 contiguous outputs,
 * only while those stay at or before the last target. */
static void fold_row(float *restrict dst, const float *restrict src, int64_t stride, int64_t n)
{
    int64_t x = 0;
#ifdef UNFOLD_AVX2
    if (stride == 1) {
        for (; x + 8 <= n; x += 8)
            _mm256_storeu_ps(dst + x, _mm256_add_ps(_mm256_loadu_ps(dst + x),
                                                    _mm256_loadu_ps(src + x)));
    } else if (stride == 2) {
        __m256 z = _mm256_set1_ps(-0.0f);
        for (; x + 9 <= n; x += 8) { /* touches dst[2x, 2x + 16) <= 2(n - 1) */
            __m256 v = _mm256_loadu_ps(src + x);
            __m256 lo = _mm256_unpacklo_ps(v, z), hi = _mm256_unpackhi_ps(v, z);
            float *d = dst + 2 * x;
            _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d),
                                              _mm256_permute2f128_ps(lo, hi, 0x20)));
            _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8),
                                                  _mm256_permute2f128_ps(lo, hi, 0x31)));
        }
    }
#endif
    for (; x < n; x++)
        dst[x * stride] += src[x];
}

/* col2im's operands, for a range of channels on a thread. */
typedef struct col2im_job {
    const float *col;
    float *out;
    int64_t H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w;
} col2im_job;

#ifdef UNFOLD_AVX2
/* A tap of col2im_plane_s2: its row of col, and the offset e by which
 * output column x0 + 2i + r takes input column x0 / 2 + i + e. */
typedef struct fold_tap {
    const float *row;
    int64_t e;
} fold_tap;

/* Taps (kh * kw) col2im_plane_s2 lists per output row, at most. */
#define FOLD_S2_TAPS 64

/* The taps reaching output row oy of a col2im at column stride 2, by the
 * parity r of the output columns they reach (tap[r][0, n[r])), in col's
 * order. */
static void fold_taps_s2(const col2im_job *j, const float *col, int64_t oy,
                         fold_tap tap[2][FOLD_S2_TAPS], int n[2])
{
    int64_t kh = j->kh, kw = j->kw, sh = j->stride_h, H = j->H, W = j->W, plane = H * W;
    int64_t dw = j->dil_w, pl = j->pad_l;
    int nr0 = 0, nr1 = 0;
    for (int64_t ki = 0; ki < kh; ki++) {
        int64_t t = oy + j->pad_t - ki * j->dil_h;
        int64_t y = sh == 2 ? t >> 1 : t / sh;
        if (t < 0 || y * sh != t || y >= H)
            continue;
        const float *row = col + ki * kw * plane + y * W;
        for (int64_t kj = 0; kj < kw; kj++, row += plane) {
            int64_t off = kj * dw - pl; /* r - off is even: >> 1 halves it */
            if (off & 1)
                tap[1][nr1++] = (fold_tap){row, (1 - off) >> 1};
            else
                tap[0][nr0++] = (fold_tap){row, -off >> 1};
        }
    }
    n[0] = nr0;
    n[1] = nr1;
}
#endif

#if defined(UNFOLD_AVX2) && !defined(UNFOLD_AVX512)
/* Whether col2im_plane_s2 takes j's rows (the AVX-512 kernel's, any): the
 * AVX2 kernel's of 8 inputs or more, 16 outputs or more with fewer than 8
 * left over (its tail, one at a time, costs more than fold_row beyond:
 * 4 channels from 13x13 to 26 columns 5.2 -> 6.8 us). */
#define FOLD_S2_ROWS(j) ((j)->W >= 8 && (j)->ow >= 16 && (j)->ow % 16 < 8)

/* The taps of one column parity added onto acc: the 8 outputs of that
 * parity from x0 (col2im_plane_s2, whole steps; rows of W >= 8). A
 * tap whose 8 inputs are not all inside the row loads the row's first or
 * last 8 and moves them into place (a permute, the lanes outside the row
 * zeroed): through memory, lane by lane, the vector load waits for the
 * scalar stores (3 channels 4x4 stride 2 from 16x16 6.4 us against 6.0
 * for fold_row). */
static inline __m256 fold_phase8(__m256 acc, const fold_tap *tap, int n, int64_t W, int64_t x0)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int t = 0; t < n; t++) {
        int64_t b = x0 / 2 + tap[t].e;
        if (b >= 0 && b + 8 <= W) {
            acc = _mm256_add_ps(acc, _mm256_loadu_ps(tap[t].row + b));
            continue;
        }
        int64_t lo = b < 0 ? -b : 0, hi = W - b < 8 ? W - b : 8;
        if (lo >= hi)
            continue;
        /* lane i takes row[b + i], at lane b + i - at of the 8 from at */
        int64_t at = b < 0 ? 0 : W - 8;
        __m256i idx = _mm256_add_epi32(iota, _mm256_set1_epi32((int32_t)(b - at)));
        __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32((int32_t)lo - 1)),
                                      _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)hi), iota));
        __m256 v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tap[t].row + at), idx);
        acc = _mm256_add_ps(acc, _mm256_and_ps(v, _mm256_castsi256_ps(in)));
    }
    return acc;
}

/* One channel of col2im at column stride 2 (AVX2): per output row, 16
 * outputs at a time held as their even and odd columns in two vectors,
 * as the AVX-512 kernel does with 32, then the last ow % 16 one at a
 * time. On Zen 3, one thread, 4x4 stride 2 pad 1 (us, fold_row -> this):
 * 3 channels from 16x16 (dcgan's last layer) 5.9-6.9 -> 4.0, 64 from
 * 16x16 131-136 -> 91, 16 from 8x8 14.6-14.7 -> 8.2-8.4; 3x3 stride 2,
 * 8 channels from 9x9 (17 columns) 4.2-4.6 -> 3.0. Listing the taps per
 * row (fold_taps_s2) was half of the instructions before its loop
 * invariants were hoisted (3 channels from 16x16 4.3 -> 4.0 us). */
static void col2im_plane_s2(const col2im_job *j, const float *col, float *out)
{
    int64_t W = j->W, ow = j->ow;
    for (int64_t oy = 0; oy < j->oh; oy++, out += ow) {
        fold_tap tap[2][FOLD_S2_TAPS];
        int n[2];
        fold_taps_s2(j, col, oy, tap, n);
        int64_t x0 = 0;
        for (; x0 + 16 <= ow; x0 += 16) {
            __m256 a = _mm256_loadu_ps(out + x0), b = _mm256_loadu_ps(out + x0 + 8);
            __m256 ev = _mm256_shuffle_ps(a, b, 0x88), od = _mm256_shuffle_ps(a, b, 0xdd);
            ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xd8));
            od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xd8));
            ev = fold_phase8(ev, tap[0], n[0], W, x0);
            od = fold_phase8(od, tap[1], n[1], W, x0);
            __m256 lo = _mm256_unpacklo_ps(ev, od), hi = _mm256_unpackhi_ps(ev, od);
            _mm256_storeu_ps(out + x0, _mm256_permute2f128_ps(lo, hi, 0x20));
            _mm256_storeu_ps(out + x0 + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        }
        for (; x0 < ow; x0++) { /* the last ow % 16 outputs, one at a time */
            const fold_tap *tp = tap[x0 & 1];
            float acc = out[x0];
            for (int t = 0; t < n[x0 & 1]; t++) {
                int64_t ix = x0 / 2 + tp[t].e;
                if (ix >= 0 && ix < W)
                    acc += tp[t].row[ix];
            }
            out[x0] = acc;
        }
    }
}
#endif

#ifdef UNFOLD_AVX512
#define FOLD_S2_ROWS(j) 1

/* Lanes [lo, hi) of a 16-lane mask. */
static inline __mmask16 fold_lanes(int64_t lo, int64_t hi)
{
    return (__mmask16)((0xffffu >> (16 - hi)) & (0xffffu << lo));
}

/* The taps of one column parity, in col's order, added onto acc: lanes
 * i < m of the 16 outputs of that parity from x0. A window that starts
 * left of a row is expand-loaded from the row's start. */
static inline __m512 fold_phase(__m512 acc, const fold_tap *tap, int n, int64_t W, int64_t x0,
                                int64_t m)
{
    for (int t = 0; t < n; t++) {
        int64_t b = x0 / 2 + tap[t].e;
        if (b >= 0 && b + 16 <= W) { /* lanes from m on are not stored */
            acc = _mm512_add_ps(acc, _mm512_loadu_ps(tap[t].row + b));
            continue;
        }
        int64_t lo = b < 0 ? -b : 0, hi = W - b < m ? W - b : m;
        if (lo >= hi)
            continue;
        __mmask16 k = fold_lanes(lo, hi);
        acc = _mm512_add_ps(acc, b < 0 ? _mm512_maskz_expandloadu_ps(k, tap[t].row)
                                       : _mm512_maskz_loadu_ps(k, tap[t].row + b));
    }
    return acc;
}

/* One channel of col2im at column stride 2 (AVX-512): per output row, 32
 * outputs at a time held as their even and odd columns in two vectors;
 * the taps that reach the row, listed once per row and parity, are
 * loaded into place and added; the outputs are stored once. Each output
 * receives its taps in the plain loop's order, so the sums are the same;
 * the outputs are not read and written back per tap, as fold_row does
 * (where at stride 2 each tap's loads span the previous tap's stores one
 * column over and wait for them to reach the cache, and rows of fewer
 * than 9 taps run scalar). */
static void col2im_plane_s2(const col2im_job *j, const float *col, float *out)
{
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_add_epi32(ilo, _mm512_set1_epi32(8));
    int64_t W = j->W, ow = j->ow;
    for (int64_t oy = 0; oy < j->oh; oy++, out += ow) {
        fold_tap tap[2][FOLD_S2_TAPS];
        int n[2];
        fold_taps_s2(j, col, oy, tap, n);
        for (int64_t x0 = 0; x0 < ow; x0 += 32) {
            int64_t m = ow - x0 < 32 ? ow - x0 : 32;
            /* no address past the row's end is formed (m <= 16: none) */
            __mmask16 ka = fold_lanes(0, m < 16 ? m : 16), kb = fold_lanes(0, m > 16 ? m - 16 : 0);
            __m512 a = _mm512_maskz_loadu_ps(ka, out + x0);
            __m512 b = m > 16 ? _mm512_maskz_loadu_ps(kb, out + x0 + 16) : _mm512_setzero_ps();
            __m512 ev = fold_phase(unfold_parity16(a, b, 0), tap[0], n[0], W, x0, (m + 1) / 2);
            __m512 od = fold_phase(unfold_parity16(a, b, 1), tap[1], n[1], W, x0, m / 2);
            _mm512_mask_storeu_ps(out + x0, ka, _mm512_permutex2var_ps(ev, ilo, od));
            if (m > 16)
                _mm512_mask_storeu_ps(out + x0 + 16, kb, _mm512_permutex2var_ps(ev, ihi, od));
        }
    }
}
#endif

/* Channels [c0, c1). Per (channel, tap) row block of col, in col's order
 * (so each output element receives its taps in the same order as a plain
 * loop), the input rows [y0, y1) and columns [x0, x1) that land inside
 * the output are found once and added without per-element tests. */
static void col2im_channels(const col2im_job *j, int64_t c0, int64_t c1)
{
    int64_t H = j->H, W = j->W, oh = j->oh, ow = j->ow;
    const float *col = j->col + c0 * j->kh * j->kw * H * W;
#ifdef UNFOLD_AVX2
    /* windows of 3 columns and more: with 2 or 1 (no overlap, one tap per
     * output) the two permutes per row cost more than fold_row's stalls
     * (AVX-512, 64 channels 16x16 2x2/2, U-Net's: 23.5-24.1 -> 26.7-27.3
     * us) */
    if (j->stride_w == 2 && j->kw > 2 && j->kh * j->kw <= FOLD_S2_TAPS && FOLD_S2_ROWS(j)) {
        for (int64_t c = c0; c < c1; c++, col += j->kh * j->kw * H * W)
            col2im_plane_s2(j, col, j->out + c * oh * ow);
        return;
    }
#endif
    for (int64_t c = c0; c < c1; c++)
        for (int64_t ki = 0; ki < j->kh; ki++) {
            int64_t offy = ki * j->dil_h - j->pad_t, y0, y1;
            unfold_range(offy, j->stride_h, oh, H, &y0, &y1);
            for (int64_t kj = 0; kj < j->kw; kj++, col += H * W) {
                int64_t offx = kj * j->dil_w - j->pad_l, x0, x1;
                unfold_range(offx, j->stride_w, ow, W, &x0, &x1);
                if (x0 == x1)
                    continue;
                for (int64_t y = y0; y < y1; y++)
                    fold_row(j->out + (c * oh + y * j->stride_h + offy) * ow + x0 * j->stride_w +
                                 offx,
                             col + y * W + x0, j->stride_w, x1 - x0);
            }
        }
}

static int col2im_task(void *arg, int64_t c0, int64_t c1)
{
    col2im_channels((const col2im_job *)arg, c0, c1);
    return 0;
}

/* Large folds (2^16 floats of col per thread and more) are split by
 * channels, each adding into its own output planes (loomrt_parallel_for):
 * the same sums in the same order on any number of threads. */
LOOMRT_API void loomrt_col2im(const float *col, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *out)
{
    col2im_job j = {col, out, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w};
    if (C > 1 && C * kh * kw * H * W >= ((int64_t)1 << 16) * loomrt_threads_get())
        loomrt_parallel_for(C, col2im_task, &j);
    else
        col2im_channels(&j, 0, C);
}
