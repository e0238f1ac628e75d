/*
 * 2-D convolution as an implicit GEMM over packed panels: the unfolded
 * image [C*kh*kw, oh*ow] is never written whole. It is produced a block
 * of panels at a time straight in the packed layout of
 * loomrt_sgemm_pack_b (panels of LOOMRT_SGEMM_NR output positions, each
 * [C*kh*kw][NR] row-major, zero past the last position), small enough to
 * stay in L2, and each block is multiplied right away by the weights
 * (loomrt_sgemm_packed_epi), the epilogue applied in registers. Against
 * im2col + GEMM this saves the GEMM's own packing pass over the columns,
 * the traffic of a column matrix the size of kh*kw images, and its
 * workspace.
 *
 * Per panel and tap (ki, kj), the NR lanes' input offsets and whether they
 * land inside the image are found once and applied to every channel: a
 * run of NR contiguous inputs (stride 1, one output row, no padding) is a
 * vector copy, anything else a gather through the offsets with the
 * padding lanes set to 0 (AVX2 gathers, or portable C, by
 * loomrt_isa_get()).
 */
#include "loomrt.h"

#ifdef LOOMRT_X86
#include <immintrin.h>
#endif

#define CP_NR LOOMRT_SGEMM_NR
/* Floats of packed columns per block (192 KB): half of a small L2. */
#define CP_BLOCK ((int64_t)48 * 1024)

/* A convolution's 2-D geometry, as loomrt_conv2d takes it. */
typedef struct cp_geom {
    int64_t C, H, W, kh, kw, oh, ow, pad_t, pad_l, sh, sw, dh, dw;
} cp_geom;

/* One tap of a panel: off[l] the input offset of lane l within a
 * channel (0 for a lane in the padding), valid[l] -1 inside, 0 outside;
 * run set when the lanes read off[0] + l, all inside. */
typedef struct cp_tap {
    int32_t off[CP_NR], valid[CP_NR];
    int run;
} cp_tap;

/* The panels per block: as many as fit CP_BLOCK floats, at least two (a
 * whole AVX-512 tile), at most the panels there are. */
static int64_t cp_panels(int64_t K, int64_t N)
{
    int64_t all = (N + CP_NR - 1) / CP_NR, nb = CP_BLOCK / (K * CP_NR);
    nb = nb < 2 ? 2 : nb & ~(int64_t)1;
    return nb < all ? nb : all;
}

LOOMRT_API int64_t loomrt_conv2d_scratch(int64_t C, int64_t kh, int64_t kw, int64_t oh,
                                         int64_t ow)
{
    int64_t K = C * kh * kw, N = oh * ow;
    return K > 0 && N > 0 ? cp_panels(K, N) * CP_NR * K : 0;
}

/* The tap (ki, kj) of the lanes whose output rows and columns start
 * reading the input at (iy[l], ix[l]). */
static void cp_tap_init(cp_tap *t, const cp_geom *g, const int64_t *iy, const int64_t *ix,
                        int64_t ki, int64_t kj)
{
    t->run = 1;
    for (int l = 0; l < CP_NR; l++) {
        int64_t y = iy[l] + ki * g->dh, x = ix[l] + kj * g->dw;
        int in = y >= 0 && y < g->H && x >= 0 && x < g->W;
        t->off[l] = in ? (int32_t)(y * g->W + x) : 0;
        t->valid[l] = in ? -1 : 0;
        t->run &= in && t->off[l] == t->off[0] + l;
    }
}

/* d[c * step + l] = channel c's lane l for every channel, portable. */
static void cp_channels_c(const cp_tap *t, const float *src, int64_t plane, int64_t C, float *d,
                          int64_t step)
{
    for (int64_t c = 0; c < C; c++, src += plane, d += step) {
        if (t->run)
            for (int l = 0; l < CP_NR; l++)
                d[l] = src[t->off[0] + l];
        else
            for (int l = 0; l < CP_NR; l++)
                d[l] = t->valid[l] ? src[t->off[l]] : 0.0f;
    }
}

#ifdef LOOMRT_X86
/* cp_channels_c with AVX2: two vectors per channel, copied or gathered
 * (masked lanes are not read). */
static LOOMRT_TARGET_AVX2 void cp_channels_avx2(const cp_tap *t, const float *src,
                                                int64_t plane, int64_t C, float *d, int64_t step)
{
    if (t->run) {
        src += t->off[0];
        for (int64_t c = 0; c < C; c++, src += plane, d += step) {
            _mm256_storeu_ps(d, _mm256_loadu_ps(src));
            _mm256_storeu_ps(d + 8, _mm256_loadu_ps(src + 8));
        }
        return;
    }
    __m256i o0 = _mm256_loadu_si256((const __m256i *)t->off);
    __m256i o1 = _mm256_loadu_si256((const __m256i *)(t->off + 8));
    __m256 m0 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)t->valid));
    __m256 m1 = _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(t->valid + 8)));
    __m256 z = _mm256_setzero_ps();
    for (int64_t c = 0; c < C; c++, src += plane, d += step) {
        _mm256_storeu_ps(d, _mm256_mask_i32gather_ps(z, src, o0, m0, 4));
        _mm256_storeu_ps(d + 8, _mm256_mask_i32gather_ps(z, src, o1, m1, 4));
    }
}
#endif

/* Panel q of the packed unfolded image into bp ([C*kh*kw][NR]): lanes
 * past the last output position read as padding. */
static void cp_panel(const cp_geom *g, const float *in, int64_t q, float *bp)
{
    int64_t iy[CP_NR], ix[CP_NR], N = g->oh * g->ow, plane = g->H * g->W;
    for (int l = 0; l < CP_NR; l++) {
        int64_t p = q * CP_NR + l, y = p / g->ow, x = p % g->ow;
        iy[l] = p < N ? y * g->sh - g->pad_t : -((int64_t)1 << 40); /* never inside */
        ix[l] = x * g->sw - g->pad_l;
    }
#ifdef LOOMRT_X86
    int avx2 = loomrt_isa_get() >= LOOMRT_ISA_AVX2;
#endif
    int64_t taps = g->kh * g->kw;
    for (int64_t ki = 0; ki < g->kh; ki++)
        for (int64_t kj = 0; kj < g->kw; kj++) {
            cp_tap t;
            cp_tap_init(&t, g, iy, ix, ki, kj);
            float *d = bp + (ki * g->kw + kj) * CP_NR;
#ifdef LOOMRT_X86
            if (avx2) {
                cp_channels_avx2(&t, in, plane, g->C, d, taps * CP_NR);
                continue;
            }
#endif
            cp_channels_c(&t, in, plane, g->C, d, taps * CP_NR);
        }
}

/* Panels [q0, q1) into bp, panel q at (q - q0) panels in. */
static void cp_panels_into(const cp_geom *g, const float *in, int64_t q0, int64_t q1, float *bp)
{
    int64_t K = g->C * g->kh * g->kw;
    for (int64_t q = q0; q < q1; q++)
        cp_panel(g, in, q, bp + (q - q0) * K * CP_NR);
}

LOOMRT_API void loomrt_im2col_packed(const float *in, int64_t C, int64_t H, int64_t W,
                                     int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                     int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                     int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t q0,
                                     int64_t q1, float *bp)
{
    cp_geom g = {C, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w};
    cp_panels_into(&g, in, q0, q1, bp);
}

/* A convolution's operands for its blocks' products (cp_multiply) and
 * the split of its plane among threads (cp_slots_task). */
typedef struct cp_job {
    const cp_geom *g;
    const float *x, *w, *bias, *res;
    float *y, *bp;
    int64_t M, nb, parts; /* nb panels a block; parts threads (cp_slots_task) */
    int act;
    float alpha, beta;
} cp_job;

/* The columns of panels [q0, q1): y[:, j0, j0 + n) = epilogue(w x the
 * panels at bp), on the calling thread's threads. */
static void cp_multiply(const cp_job *j, int64_t q0, int64_t q1, const float *bp)
{
    const cp_geom *g = j->g;
    int64_t K = g->C * g->kh * g->kw, N = g->oh * g->ow, j0 = q0 * CP_NR;
    int64_t n = q1 * CP_NR < N ? q1 * CP_NR - j0 : N - j0;
    loomrt_sgemm_packed_epi(0, 0, j->M, n, K, 1.0f, j->w, K, bp, 0.0f, j->y + j0, N, j->bias, 1,
                            0, j->res ? j->res + j0 : NULL, j->act, j->alpha, j->beta);
}

/* Slots [k0, k1) of the plane split among j->parts threads: slot k takes
 * the panels [all k / parts, all (k + 1) / parts), a run of output rows
 * like the one the next step gives its thread, and unfolds and
 * multiplies them itself (on one thread: the panels it wrote are in its
 * cache, and no part waits for another) a chunk of nb / parts panels at
 * a time in its share of the block's scratch. Before, each block's
 * unfolding was split by panels and its product then by rows of w, each
 * thread reading every panel, half of them written on the other core,
 * past two waits a block (Xeon, 2 threads, resnet18's 64 -> 128 3x3
 * stride 2 over 56x56, alone, warm 588 -> 400 us, one thread 700; in the
 * model 640 -> 531); then each block's panels were split, one parallel
 * region a block, each thread's columns strewn over the plane. Runs
 * instead, alone, warm, 2 threads: that layer 322 -> 312 us, 128 -> 128
 * over 28x28 771 -> 741, 64 -> 64 over 56x56 701 -> 645; in the model
 * (`bench/ab_builds.py --steps`) 435 -> 383. */
static int cp_slots_task(void *arg, int64_t k0, int64_t k1)
{
    const cp_job *j = (const cp_job *)arg;
    int64_t K = j->g->C * j->g->kh * j->g->kw, all = (j->g->oh * j->g->ow + CP_NR - 1) / CP_NR;
    int64_t sw = j->nb / j->parts;
    int prev = loomrt_threads_swap(1);
    for (int64_t k = k0; k < k1; k++) {
        float *bp = j->bp + k * sw * K * CP_NR;
        int64_t end = all * (k + 1) / j->parts;
        for (int64_t q = all * k / j->parts; q < end; q += sw) {
            int64_t q1 = end - q < sw ? end : q + sw;
            cp_panels_into(j->g, j->x, q, q1, bp);
            cp_multiply(j, q, q1, bp);
        }
    }
    loomrt_threads_swap(prev);
    return 0;
}

/* Multiply-adds of a block's product per thread from which the plane is
 * split over the calling thread's threads (cp_slots_task), one panel a
 * chunk or more: a deep block (two panels from K 1536) split one panel a
 * thread runs the kernels' narrow tiles, yet beats the whole block's
 * product split by rows (2 threads, Xeon, 128 -> 128 channels 3x3 over
 * 28x28, K 1152: AVX-512 1170-1310 -> 775 us, AVX2 1873 -> 1101; 128 ->
 * 256 1695-1708 -> 1488-1491). */
#ifndef CP_PAR_MIN
#define CP_PAR_MIN ((int64_t)1 << 18)
#endif

/* ONNX Conv-11 for one group, as blocks of panels: unfold, then y[:,
 * block] = epilogue(w [M, K] x block); on several threads each takes a
 * run of the plane's panels, unfolding and multiplying its own
 * (cp_slots_task; every column is computed the same way whatever the
 * split). */
LOOMRT_API void loomrt_conv2d(const float *x, const float *w, float *y, float *scratch, int64_t C,
                              int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                              int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                              int64_t stride_w, int64_t dil_h, int64_t dil_w, const float *bias,
                              const float *res, int act, float act_alpha, float act_beta)
{
    int64_t K = C * kh * kw, N = oh * ow;
    if (K <= 0 || N <= 0 || M <= 0)
        return;
    cp_geom g = {C, H, W, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w};
    int64_t all = (N + CP_NR - 1) / CP_NR, nb = cp_panels(K, N);
    int threads = loomrt_threads_get();
    cp_job j = {&g, x, w, bias, res, y, scratch, M, nb, threads, act, act_alpha, act_beta};
    if (threads > 1 && nb >= threads && M * nb * CP_NR * K >= CP_PAR_MIN * threads) {
        loomrt_parallel_for(threads, cp_slots_task, &j);
        return;
    }
    for (int64_t q0 = 0; q0 < all; q0 += nb) {
        int64_t q1 = q0 + nb < all ? q0 + nb : all;
        cp_panels_into(&g, x, q0, q1, scratch);
        cp_multiply(&j, q0, q1, scratch);
    }
}
