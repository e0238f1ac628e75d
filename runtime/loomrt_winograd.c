/*
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * CVPR 2016). The output plane is cut into 2x2 tiles; a tile of output
 * channel m is
 *     A^T [ sum over input channels c of (G g G^T) * (B^T d B) ] A
 * with g = w[m, c] (3x3), d the 4x4 input patch under the tile and *
 * elementwise: 16 multiplications per tile and channel pair instead of 36.
 * The sums over c are 16 GEMMs, one per element xi of the 4x4 transformed
 * tile:
 *     P[xi] [M, tiles] = U[xi] [M, C] x V[xi] [C, tiles]
 * U = G g G^T is made once, at compile time (loomrt_winograd_pack). V, the
 * transformed input, is written a block of tiles at a time straight in
 * the packed layout of loomrt_sgemm_pack_b (panels of LOOMRT_SGEMM_NR
 * tiles, [C][NR] each), so the products run on loom's packed GEMM
 * kernels; the output transform then adds the bias and the residual and
 * applies the activation as it writes y. When the tiles would pad the
 * kernels' columns more than the channels do (wg_transposed: 36 or 49
 * tiles), the products run transposed, P[xi]^T = V[xi]^T U[xi]^T, with U
 * packed as panels of output channels and V written [C][tiles], and
 * store P as before (the GEMM's transposed stores).
 *
 * Tiles are numbered row-major over the ceil(oh/2) x ceil(ow/2) grid and
 * the panels take them in order, so only the last panel has padding
 * lanes; a panel's lanes are runs of consecutive tiles of one tile row
 * each, whose taps in an input row are every other column (permutations
 * of two masked vector loads with AVX-512, shuffles of two with AVX2 on
 * each half of the lanes, a strided copy in portable C) and whose outputs
 * in an output row are contiguous (the tile's two columns interleaved).
 *
 * On several threads, each thread takes a run of the plane's panels and
 * runs all three steps on a chunk of them at a time in its share of the
 * block's scratch (wg_slots_task); a plane too narrow for that runs block
 * by block, each block's three steps split among the threads: the input
 * transform by (panel, channel), the 16 products by xi, the output
 * transform by output channel. Every value is computed by the same
 * operations whatever the split, so results do not depend on the thread
 * count.
 *
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5;
 * .5 -.5 .5; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
 */
#include "loomrt.h"
#include "loomrt_simd.h"

#ifdef LOOMRT_X86
#include <immintrin.h>
#endif

#define WG_NR LOOMRT_SGEMM_NR
/* Floats of scratch per block (V and P, 1 MB): measured on resnet18's
 * layers (Zen 4, 1 MB L2), half as much made the deep layers' blocks a
 * single 16-tile panel, which runs the narrower kernel and reads the
 * weights of all 16 products once more per panel. */
#ifndef WG_BLOCK
#define WG_BLOCK ((int64_t)256 * 1024)
#endif

/* Floats between one product's V (and P) and the next, past its C x ld
 * (M x ld): ld is a multiple of 16 floats, so without them the 16 rows of
 * a channel in V or P are a multiple of 4 KB apart as often as not, all
 * in one set of L1 (8 ways), and the transforms, which write or read the
 * 16 at a time, miss on each. Measured on Zen 3, one thread, one Conv +
 * Relu, with the output transform by panels (the AVX-512 one's order):
 * 32 -> 128 channels over 27x27 518 -> 474 us, 32 -> 64 over 11x11 63 ->
 * 59; by tile rows (wg_output_avx2), below. The output transform reads up
 * to 7 floats past a row of P, into the skew after the last. */
#define WG_SKEW 16

/* Panels of a block per thread from which the threads split the plane by
 * its tiles, each running all three steps on its own panels
 * (wg_slots_task), rather than each step by channels or products: those
 * hand every step's output to the other cores. Each thread takes one run
 * of the plane's panels, where it once took a share of every block (one
 * parallel region a block, each thread's tiles strewn over the plane):
 * alone, 2 threads, us, 16 -> 64 over 55x55 177 -> 153, 64 -> 64 over
 * 56x56 436 -> 398, 32 -> 32 over 112x112 598 -> 509; in the model
 * (`bench/ab_builds.py --steps`), squeezenet1_1's features.4 expand3x3
 * 222 -> 172 and the squeeze after it 107 -> 69 (it reads the pixels its
 * own core wrote), resnet18's 56x56 layers 50-62 less each (the models
 * 0.95 and 0.98 of the build before). Measured alone on the
 * Xeon (AVX-512, 2 cores, 2 MB L2 each), 2 threads, us, by steps / by
 * tiles: squeezenet1_1's 16 -> 64 channels over 55x55 (12 panels a
 * block) 227-234 / 166-171 (one thread 223), 32 -> 32 over 112x112 774 /
 * 565, 64 -> 64 over 56x56 431 / 388-401; fewer panels a thread read
 * all of U per block for fewer columns: 32 -> 128 over 27x27 (6 panels)
 * 136-138 / 136-138, 64 -> 128 over 56x56 (5) 830 / 1000, 48 -> 192 over
 * 13x13 (4) 88 / 121-126. */
#define WG_TILES_PER_THREAD 4

/* Multiply-adds of the 16 products per thread from which a block too
 * narrow to split by tiles is split step by step (three parallel regions,
 * each step's output read by the other cores); below, it stays on one
 * thread. Alone, warm, Xeon, 2 threads (one): 32 -> 64 channels over
 * 14x14 (mnist_cnn's, 1.6M multiply-adds) 35.8 us (35.0), 64 -> 64 over
 * 14x14 (3.2M) 59 (65), 128 -> 128 over 7x7 (4.2M) 37 (64); in mnist_cnn
 * on 2 threads its step took 30.5 us, 27.9 on one. */
#define WG_STEPS_MIN ((int64_t)1 << 21)

/* The transposed products' cost per multiply-add over the others', in
 * percent (their outputs are transposed in registers as they are stored):
 * measured alone on 16 to 256 channels (Zen 4, AVX-512, one thread). */
#define WG_T_COST 115

/* Input channels up to which the transposed products leave P a tile a
 * row on AVX-512 (wg_output_t_avx512): a product's two 16 x 16
 * transposes per tile of rows weigh against its C steps of
 * multiply-adds. Xeon, one thread, the 16 products alone (warm, us,
 * stored a channel a row / a tile a row): 36 tiles x 64 x 32 (mnist_cnn's
 * conv2) 16.5 / 13.7, 49 x 256 x 48 (squeezenet1_1's features.9) 141 /
 * 111, 49 x 256 x 256 (resnet18's layer3) 748 / 670, 16 x 512 x 512
 * (layer4) 1038 / 1046; in the models (`bench/ab_builds.py --steps`,
 * medians) mnist_cnn's conv2 28.0 -> 24.8 us, squeezenet1_1's 13x13
 * expand3x3 layers 16-20 us less each, resnet18's layer3 15-57 less and
 * its layer4 27-146 more (its P of 512 KB read back 16 channels at a
 * time, 256 lines 2 KB apart, after 16 MB of weights passed). */
#define WG_PT_MAX_C 256

/* A convolution's geometry as loomrt_conv2d_winograd takes it, its tile
 * grid (th x tw tiles, T in all, P panels) and the products' orientation
 * (wg_transposed). */
typedef struct wg_geom {
    int64_t C, M, H, W, oh, ow, pad_t, pad_l;
    int64_t th, tw, T, P;
    int tr;
    int pt;   /* transposed products leave P by tiles ([tile][M]): on AVX-512 */
    int pool; /* y the 2x2/2 max pool of the output: a tile's maximum, T a plane */
} wg_geom;

/* Whether the products run transposed, P[xi]^T [tiles, M] = V[xi]^T
 * U[xi]^T: the widest kernels take 32 columns at a time and rows one at a
 * time, so the tiles as columns pad them to 32 (49 tiles to 64), the
 * channels as columns pad M; the side that wastes less. A function of the
 * shape only: the weights are packed for it at compile time, whatever CPU
 * runs them. */
static int wg_transposed(int64_t M, int64_t T)
{
    int64_t w = 2 * WG_NR;
    return T * ((M + w - 1) / w * w) * WG_T_COST < (T + w - 1) / w * w * M * 100;
}

/* Output tiles of 2x2 over an oh x ow plane. */
static int64_t wg_tiles(int64_t oh, int64_t ow)
{
    return (oh + 1) / 2 * ((ow + 1) / 2);
}

static wg_geom wg_geom_of(int64_t C, int64_t M, int64_t H, int64_t W, int64_t oh, int64_t ow,
                          int64_t pad_t, int64_t pad_l)
{
    wg_geom g = {C, M, H, W, oh, ow, pad_t, pad_l, (oh + 1) / 2, (ow + 1) / 2, 0, 0, 0, 0, 0};
    g.T = wg_tiles(oh, ow);
    g.P = (g.T + WG_NR - 1) / WG_NR;
    g.tr = wg_transposed(M, g.T);
    return g;
}

/* Floats of y's plane: the output's, or a value a tile when pooled. */
static int64_t wg_oplane(const wg_geom *g)
{
    return g->pool ? g->T : g->oh * g->ow;
}

/* Panels per block: as many as fit WG_BLOCK floats of V and P, at least
 * one, at most the panels there are. */
static int64_t wg_panels(const wg_geom *g)
{
    int64_t nb = WG_BLOCK / (16 * WG_NR * (g->C + g->M));
    nb = nb < 1 ? 1 : nb;
    return nb < g->P ? nb : g->P;
}

/* Floats from V[xi] (rows = C) or P[xi] (rows = M) to the next, ld
 * lanes a row: the rows and the skew (WG_SKEW). */
static int64_t wg_xi_stride(int64_t rows, int64_t ld)
{
    return rows * ld + WG_SKEW;
}

/* Floats of a block of scratch of nb panels: the 16 V, then the 16 P. */
static int64_t wg_block_size(const wg_geom *g, int64_t nb)
{
    return 16 * (wg_xi_stride(g->C, nb * WG_NR) + wg_xi_stride(g->M, nb * WG_NR));
}

/* Floats of one of the 16 transformed weight matrices as packed: panels
 * of output channels for the transposed products, [M][C] for the others. */
static int64_t wg_u_size(int64_t M, int64_t C, int tr)
{
    return tr ? loomrt_sgemm_packed_size(M, C) : M * C;
}

LOOMRT_API int64_t loomrt_winograd_packed_size(int64_t M, int64_t C, int64_t oh, int64_t ow)
{
    if (M <= 0 || C <= 0 || oh <= 0 || ow <= 0)
        return 0;
    return 16 * wg_u_size(M, C, wg_transposed(M, wg_tiles(oh, ow)));
}

LOOMRT_API int64_t loomrt_winograd_scratch(int64_t C, int64_t M, int64_t oh, int64_t ow)
{
    if (C <= 0 || M <= 0 || oh <= 0 || ow <= 0)
        return 0;
    wg_geom g = wg_geom_of(C, M, 0, 0, oh, ow, 0, 0);
    return wg_block_size(&g, wg_panels(&g));
}

LOOMRT_API void loomrt_winograd_pack(const float *w, int64_t M, int64_t C, int64_t oh,
                                     int64_t ow, float *u)
{
    static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    int tr = wg_transposed(M, wg_tiles(oh, ow));
    int64_t us = wg_u_size(M, C, tr);
    for (int64_t i = 0; tr && i < 16 * us; i++)
        u[i] = 0.0f; /* the last panel's columns past M */
    for (int64_t m = 0; m < M; m++)
        for (int64_t c = 0; c < C; c++) {
            const float *k = w + (m * C + c) * 9;
            double t[4][3]; /* G g */
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++)
                    t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    u[(i * 4 + j) * us + (tr ? (m / WG_NR * C + c) * WG_NR + m % WG_NR
                                             : m * C + c)] =
                        (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
        }
}

/* Lanes [l0, l0 + n) of a panel: tiles tx0 .. tx0 + n - 1 of tile row ty.
 * A panel's lanes are such runs, one per tile row they reach. */
typedef struct wg_seg {
    int l0, n;
    int64_t ty, tx0;
} wg_seg;

/* The runs of panel q into s; returns their count (lanes past the last
 * tile are in none). */
static int wg_segs(const wg_geom *g, int64_t q, wg_seg *s)
{
    int k = 0;
    int64_t t = q * WG_NR, end = t + WG_NR < g->T ? t + WG_NR : g->T;
    while (t < end) {
        int64_t ty = t / g->tw, tx = t % g->tw, n = g->tw - tx;
        n = n < end - t ? n : end - t;
        s[k++] = (wg_seg){(int)(t - q * WG_NR), (int)n, ty, tx};
        t += n;
    }
    return k;
}

/* ---- transforms, portable: loops over the 16 lanes ----
 * A run's taps in one input row are every other column from
 * 2 tx0 - pad_l + s (tap column s); the columns inside the row are a
 * strided copy, the others 0. */

/* v[xi] = (B^T d B)[xi] for every lane, d[p] the taps. */
static void wg_in_c(float d[16][WG_NR], float v[16][WG_NR])
{
    float e[16][WG_NR];
    for (int s = 0; s < 4; s++)
        for (int l = 0; l < WG_NR; l++) {
            e[0 + s][l] = d[s][l] - d[8 + s][l];
            e[4 + s][l] = d[4 + s][l] + d[8 + s][l];
            e[8 + s][l] = d[8 + s][l] - d[4 + s][l];
            e[12 + s][l] = d[4 + s][l] - d[12 + s][l];
        }
    for (int r = 0; r < 4; r++)
        for (int l = 0; l < WG_NR; l++) {
            v[r * 4 + 0][l] = e[r * 4][l] - e[r * 4 + 2][l];
            v[r * 4 + 1][l] = e[r * 4 + 1][l] + e[r * 4 + 2][l];
            v[r * 4 + 2][l] = e[r * 4 + 2][l] - e[r * 4 + 1][l];
            v[r * 4 + 3][l] = e[r * 4 + 1][l] - e[r * 4 + 3][l];
        }
}

/* Channels [c0, c1) of panel q into v (xi stride xs, channel c at
 * c * cs), portable. */
static void wg_input_c(const wg_geom *g, int64_t q, const float *x, int64_t c0, int64_t c1,
                       float *v, int64_t cs, int64_t xs)
{
    wg_seg sg[WG_NR];
    int ns = wg_segs(g, q, sg);
    int64_t plane = g->H * g->W;
    for (int64_t c = c0; c < c1; c++) {
        const float *src = x + c * plane;
        float d[16][WG_NR] = {{0}}, t[16][WG_NR];
        for (int k = 0; k < ns; k++)
            for (int r = 0; r < 4; r++) {
                int64_t iy = 2 * sg[k].ty - g->pad_t + r;
                if (iy < 0 || iy >= g->H)
                    continue;
                const float *row = src + iy * g->W;
                for (int s = 0; s < 4; s++) {
                    /* lanes i of the run whose column x0 + 2 i is in [0, W) */
                    int64_t x0 = 2 * sg[k].tx0 - g->pad_l + s, lo = 0, hi = sg[k].n;
                    while (lo < hi && x0 + 2 * lo < 0)
                        lo++;
                    while (hi > lo && x0 + 2 * (hi - 1) >= g->W)
                        hi--;
                    float *dl = d[r * 4 + s] + sg[k].l0;
                    for (int64_t i = lo; i < hi; i++)
                        dl[i] = row[x0 + 2 * i];
                }
            }
        wg_in_c(d, t);
        for (int xi = 0; xi < 16; xi++)
            for (int l = 0; l < WG_NR; l++)
                v[xi * xs + c * cs + l] = t[xi][l];
    }
}

/* Output channel m of panel q from P (xi stride ps, the panel's lanes at
 * pm), plus bias, then the residual and the activation as the outputs are
 * written, portable. */
static void wg_output_c(const wg_geom *g, int64_t q, const float *pm, int64_t ps, float bias,
                        const float *res, int act, float alpha, float beta, float *y)
{
    float r0[4][WG_NR], r1[4][WG_NR], o[4][WG_NR];
    for (int s = 0; s < 4; s++)
        for (int l = 0; l < WG_NR; l++) {
            float a = pm[s * ps + l], b = pm[(4 + s) * ps + l];
            float c = pm[(8 + s) * ps + l], d = pm[(12 + s) * ps + l];
            r0[s][l] = a + b + c;
            r1[s][l] = b - c - d;
        }
    for (int l = 0; l < WG_NR; l++) {
        o[0][l] = r0[0][l] + r0[1][l] + r0[2][l] + bias;
        o[1][l] = r0[1][l] - r0[2][l] - r0[3][l] + bias;
        o[2][l] = r1[0][l] + r1[1][l] + r1[2][l] + bias;
        o[3][l] = r1[1][l] - r1[2][l] - r1[3][l] + bias;
    }
    if (g->pool) { /* y at the panel's first tile: a value a tile */
        int64_t t0 = q * WG_NR, nt = g->T - t0 < WG_NR ? g->T - t0 : WG_NR;
        for (int k = 0; k < 4 && act != LOOMRT_ACT_NONE; k++)
            loomrt_epi_run(o[k], nt, NULL, 0, NULL, act, alpha, beta);
        for (int64_t l = 0; l < nt; l++) {
            float a = o[0][l] > o[1][l] ? o[0][l] : o[1][l];
            float b = o[2][l] > o[3][l] ? o[2][l] : o[3][l];
            y[t0 + l] = a > b ? a : b;
        }
        return;
    }
    wg_seg sg[WG_NR];
    int ns = wg_segs(g, q, sg);
    for (int k = 0; k < ns; k++)
        for (int dy = 0; dy < 2; dy++) {
            int64_t oy = 2 * sg[k].ty + dy, ox = 2 * sg[k].tx0;
            if (oy >= g->oh)
                continue;
            /* the run's two columns per tile, interleaved, up to the edge */
            int64_t cols = 2 * sg[k].n < g->ow - ox ? 2 * sg[k].n : g->ow - ox;
            const float *e = o[2 * dy] + sg[k].l0, *f = o[2 * dy + 1] + sg[k].l0;
            int64_t at = oy * g->ow + ox;
            float *yr = y + at;
            int64_t i = 0;
            for (; 2 * i + 1 < cols; i++) {
                yr[2 * i] = e[i];
                yr[2 * i + 1] = f[i];
            }
            if (2 * i < cols)
                yr[2 * i] = e[i];
            if (res || act != LOOMRT_ACT_NONE)
                loomrt_epi_run(yr, cols, NULL, 0, res ? res + at : NULL, act, alpha, beta);
        }
}

/* ---- transforms, AVX-512 ----
 * Without gathers: a run's taps in one input row are every other column
 * of a window of 32 (two vectors per window, at columns 2 tx0 - pad_l and
 * two further, masked to the row: the padding reads as 0), moved to the
 * run's lanes by one permutation per tap column. The outputs go back the
 * same way, the two columns of a tile interleaved. */

#ifdef LOOMRT_X86

/* The lanes j of a 16-wide window at column x0 with 0 <= x0 + j < n. */
static __mmask16 wg_window(int64_t x0, int64_t n)
{
    int64_t lo = x0 < 0 ? -x0 : 0, hi = n - x0 < 16 ? n - x0 : 16;
    if (hi <= lo)
        return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

static LOOMRT_TARGET_AVX512 void wg_input_avx512(const wg_geom *g, int64_t q, const float *x,
                                                  int64_t c0, int64_t c1, float *v, int64_t cs,
                                                  int64_t xs)
{
    wg_seg sg[WG_NR];
    int ns = wg_segs(g, q, sg);
    __m512i ie[WG_NR], io[WG_NR];
    __mmask16 lm[WG_NR], mw[WG_NR][4];
    for (int k = 0; k < ns; k++) {
        __m512i lane = _mm512_sub_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                          12, 13, 14, 15),
                                        _mm512_set1_epi32(sg[k].l0));
        ie[k] = _mm512_add_epi32(lane, lane); /* 2 (l - l0): even columns */
        io[k] = _mm512_add_epi32(ie[k], _mm512_set1_epi32(1));
        lm[k] = (__mmask16)(((1u << sg[k].n) - 1) << sg[k].l0);
        int64_t xa = 2 * sg[k].tx0 - g->pad_l;
        for (int w = 0; w < 4; w++) /* windows at xa, xa + 16, xa + 2, xa + 18 */
            mw[k][w] = wg_window(xa + (w & 1) * 16 + (w >> 1) * 2, g->W);
    }
    int64_t plane = g->H * g->W;
    for (int64_t c = c0; c < c1; c++) {
        const float *src = x + c * plane;
        __m512 d[16], e[16];
        for (int p = 0; p < 16; p++)
            d[p] = _mm512_setzero_ps();
        for (int k = 0; k < ns; k++) {
            int64_t xa = 2 * sg[k].tx0 - g->pad_l;
            for (int r = 0; r < 4; r++) {
                int64_t iy = 2 * sg[k].ty - g->pad_t + r;
                if (iy < 0 || iy >= g->H)
                    continue;
                /* masked lanes are not read: the window may start before
                 * the row or end past it */
                const float *row = src + iy * g->W + xa;
                __m512 a0 = _mm512_maskz_loadu_ps(mw[k][0], row);
                __m512 a1 = _mm512_maskz_loadu_ps(mw[k][1], row + 16);
                __m512 b0 = _mm512_maskz_loadu_ps(mw[k][2], row + 2);
                __m512 b1 = _mm512_maskz_loadu_ps(mw[k][3], row + 18);
                __m512 *dr = d + 4 * r;
                dr[0] = _mm512_mask_mov_ps(dr[0], lm[k], _mm512_permutex2var_ps(a0, ie[k], a1));
                dr[1] = _mm512_mask_mov_ps(dr[1], lm[k], _mm512_permutex2var_ps(a0, io[k], a1));
                dr[2] = _mm512_mask_mov_ps(dr[2], lm[k], _mm512_permutex2var_ps(b0, ie[k], b1));
                dr[3] = _mm512_mask_mov_ps(dr[3], lm[k], _mm512_permutex2var_ps(b0, io[k], b1));
            }
        }
        for (int s = 0; s < 4; s++) {
            e[0 + s] = _mm512_sub_ps(d[s], d[8 + s]);
            e[4 + s] = _mm512_add_ps(d[4 + s], d[8 + s]);
            e[8 + s] = _mm512_sub_ps(d[8 + s], d[4 + s]);
            e[12 + s] = _mm512_sub_ps(d[4 + s], d[12 + s]);
        }
        float *o = v + c * cs;
        for (int r = 0; r < 4; r++) {
            const __m512 *er = e + 4 * r;
            _mm512_storeu_ps(o + (r * 4 + 0) * xs, _mm512_sub_ps(er[0], er[2]));
            _mm512_storeu_ps(o + (r * 4 + 1) * xs, _mm512_add_ps(er[1], er[2]));
            _mm512_storeu_ps(o + (r * 4 + 2) * xs, _mm512_sub_ps(er[2], er[1]));
            _mm512_storeu_ps(o + (r * 4 + 3) * xs, _mm512_sub_ps(er[1], er[3]));
        }
    }
}

/* wg_input_avx512 with AVX2: each half of the panel's 16 lanes on its own
 * (8 lanes), a run's taps the even or odd lanes of two masked loads. */

static LOOMRT_TARGET_AVX2 __m256 wg_even8(__m256 a, __m256 b)
{
    __m256 t = _mm256_shuffle_ps(a, b, 0x88); /* a0 a2 b0 b2 a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xd8));
}

static LOOMRT_TARGET_AVX2 __m256 wg_odd8(__m256 a, __m256 b)
{
    __m256 t = _mm256_shuffle_ps(a, b, 0xdd);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xd8));
}

/* Lanes j of 8 with lo <= x0 + j < hi, as -1. */
static LOOMRT_TARGET_AVX2 __m256i wg_lanes8(int64_t x0, int64_t lo, int64_t hi)
{
    __m256i j = _mm256_add_epi32(_mm256_set1_epi32((int32_t)x0),
                                 _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(j, _mm256_set1_epi32((int32_t)lo - 1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)hi), j));
}

static LOOMRT_TARGET_AVX2 void wg_input_avx2(const wg_geom *g, int64_t q, const float *x,
                                              int64_t c0, int64_t c1, float *v, int64_t cs,
                                              int64_t xs)
{
    wg_seg sg[WG_NR];
    int ns = wg_segs(g, q, sg);
    /* per half h and run k: the run's lanes, the image columns of the four
     * windows (at base, base + 8, base + 2, base + 10), base the column of
     * the half's first lane at tap column 0 */
    __m256i lm[2][WG_NR], mw[2][WG_NR][4];
    int64_t base[2][WG_NR];
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < ns; k++) {
            lm[h][k] = wg_lanes8(8 * h, sg[k].l0, sg[k].l0 + sg[k].n);
            base[h][k] = 2 * sg[k].tx0 - g->pad_l + 16 * h - 2 * sg[k].l0;
            for (int w = 0; w < 4; w++)
                mw[h][k][w] = wg_lanes8(base[h][k] + (w & 1) * 8 + (w >> 1) * 2, 0, g->W);
        }
    int64_t plane = g->H * g->W;
    for (int64_t c = c0; c < c1; c++) {
        const float *src = x + c * plane;
        for (int h = 0; h < 2; h++) {
            __m256 d[16], e[16];
            for (int p = 0; p < 16; p++)
                d[p] = _mm256_setzero_ps();
            for (int k = 0; k < ns; k++) {
                if (sg[k].l0 >= 8 * h + 8 || sg[k].l0 + sg[k].n <= 8 * h)
                    continue; /* no lane of this half */
                __m256 m = _mm256_castsi256_ps(lm[h][k]);
                for (int r = 0; r < 4; r++) {
                    int64_t iy = 2 * sg[k].ty - g->pad_t + r;
                    if (iy < 0 || iy >= g->H)
                        continue;
                    /* masked lanes are not read (the windows may reach
                     * outside the row) */
                    const float *row = src + iy * g->W + base[h][k];
                    __m256 a0 = _mm256_maskload_ps(row, mw[h][k][0]);
                    __m256 a1 = _mm256_maskload_ps(row + 8, mw[h][k][1]);
                    __m256 b0 = _mm256_maskload_ps(row + 2, mw[h][k][2]);
                    __m256 b1 = _mm256_maskload_ps(row + 10, mw[h][k][3]);
                    __m256 *dr = d + 4 * r;
                    dr[0] = _mm256_blendv_ps(dr[0], wg_even8(a0, a1), m);
                    dr[1] = _mm256_blendv_ps(dr[1], wg_odd8(a0, a1), m);
                    dr[2] = _mm256_blendv_ps(dr[2], wg_even8(b0, b1), m);
                    dr[3] = _mm256_blendv_ps(dr[3], wg_odd8(b0, b1), m);
                }
            }
            for (int s = 0; s < 4; s++) {
                e[0 + s] = _mm256_sub_ps(d[s], d[8 + s]);
                e[4 + s] = _mm256_add_ps(d[4 + s], d[8 + s]);
                e[8 + s] = _mm256_sub_ps(d[8 + s], d[4 + s]);
                e[12 + s] = _mm256_sub_ps(d[4 + s], d[12 + s]);
            }
            float *o = v + c * cs + 8 * h;
            for (int r = 0; r < 4; r++) {
                const __m256 *er = e + 4 * r;
                _mm256_storeu_ps(o + (r * 4 + 0) * xs, _mm256_sub_ps(er[0], er[2]));
                _mm256_storeu_ps(o + (r * 4 + 1) * xs, _mm256_add_ps(er[1], er[2]));
                _mm256_storeu_ps(o + (r * 4 + 2) * xs, _mm256_sub_ps(er[2], er[1]));
                _mm256_storeu_ps(o + (r * 4 + 3) * xs, _mm256_sub_ps(er[1], er[3]));
            }
        }
    }
}

/* Outputs [0, n) of 8 at y = act(v + residual at r), n >= 1: a whole
 * vector stored whole, a part by loomrt_store8n. */
static LOOMRT_TARGET_AVX2 void wg_put8(float *y, const float *r, __m256 v, int64_t n, int act,
                                       loomrt_act8_t ka)
{
    if (r)
        v = _mm256_add_ps(v, n == 8 ? _mm256_loadu_ps(r)
                                    : _mm256_maskload_ps(r, loomrt_mask8(n)));
    if (act <= LOOMRT_ACT_CLIP)
        v = loomrt_act8(v, ka);
    if (n == 8)
        _mm256_storeu_ps(y, v);
    else
        loomrt_store8n(y, v, n);
}

/* A^T m A + bias of the 16 vectors of 8 at t, t + ps, ..., t + 15 ps
 * (the first n lanes loaded, the others 0): the four output pixels, (dy,
 * dx) in o[2 dy + dx]. */
static LOOMRT_TARGET_AVX2 inline void wg_at8(const float *t, int64_t ps, int64_t n, __m256 vb,
                                             __m256 o[4])
{
    __m256i lm = n < 8 ? loomrt_mask8(n) : _mm256_setzero_si256();
    __m256 r0[4], r1[4];
    for (int k = 0; k < 4; k++) {
        __m256 v[4];
        for (int e = 0; e < 4; e++)
            v[e] = n < 8 ? _mm256_maskload_ps(t + (4 * e + k) * ps, lm)
                         : _mm256_loadu_ps(t + (4 * e + k) * ps);
        r0[k] = _mm256_add_ps(_mm256_add_ps(v[0], v[1]), v[2]);
        r1[k] = _mm256_sub_ps(_mm256_sub_ps(v[1], v[2]), v[3]);
    }
    o[0] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0[0], r0[1]), r0[2]), vb);
    o[1] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r0[1], r0[2]), r0[3]), vb);
    o[2] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r1[0], r1[1]), r1[2]), vb);
    o[3] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r1[1], r1[2]), r1[3]), vb);
}

/* act(v): Relu, LeakyRelu and Clip in registers (ka), the others by
 * loomrt_epi_run. */
static LOOMRT_TARGET_AVX2 inline __m256 wg_act8(__m256 v, int act, loomrt_act8_t ka, float alpha,
                                                float beta)
{
    if (act <= LOOMRT_ACT_CLIP)
        return loomrt_act8(v, ka);
    float t[8];
    _mm256_storeu_ps(t, v);
    loomrt_epi_run(t, 8, NULL, 0, NULL, act, alpha, beta);
    return _mm256_loadu_ps(t);
}

/* wg_output_avx2 pooled (wg_geom.pool): tiles [t0, t0 + n), 8 a step,
 * each tile's four outputs through the activation, their maximum stored
 * at the tile's place in y's plane. */
static LOOMRT_TARGET_AVX2 void wg_pool_avx2(const wg_geom *g, int64_t t0, int64_t n,
                                             const float *p, int64_t ld, int64_t ps, int64_t m0,
                                             int64_t m1, const float *bias, int act,
                                             float alpha, float beta, float *y)
{
    loomrt_act8_t ka = loomrt_act8_of(act, alpha, beta);
    for (int64_t m = m0; m < m1; m++) {
        __m256 vb = _mm256_set1_ps(bias ? bias[m] : 0.0f), o[4];
        float *ym = y + m * g->T + t0;
        for (int64_t s = 0; s < n; s += 8) {
            int64_t k = n - s < 8 ? n - s : 8;
            wg_at8(p + m * ld + s, ps, k, vb, o);
            for (int e = 0; e < 4; e++)
                o[e] = wg_act8(o[e], act, ka, alpha, beta);
            __m256 v = _mm256_max_ps(_mm256_max_ps(o[0], o[1]), _mm256_max_ps(o[2], o[3]));
            if (k == 8)
                _mm256_storeu_ps(ym + s, v);
            else
                loomrt_store8n(ym + s, v, k);
        }
    }
}

/* The output transform of a block with AVX2: tiles [t0, t0 + n) (P's
 * lanes [0, n), ld of them per row), output channels [m0, m1), by runs of
 * a tile row, 8 tiles (16 columns of two output rows) a step, whatever
 * panels they are in. A step's lanes past the run are other tiles,
 * computed and not stored; past the row of P (ld) they read the next row
 * or, after the last, the skew (WG_SKEW of 8 floats or more). By panels,
 * each half of a panel's lanes on its own, the loops over a panel's runs
 * and halves took more instructions than the sums (mnist_cnn's 11x11
 * rows: a run of 6 tiles each). Measured on Zen 3, one thread, one Conv +
 * Relu, by panels -> by tile rows, V and P skewed (WG_SKEW) (us): 32 ->
 * 128 channels over 27x27 474 -> 428, 32 -> 64 over 11x11 59 -> 53;
 * unskewed, tile rows lost (518 -> 552, 63 -> 64). */
static LOOMRT_TARGET_AVX2 void wg_output_avx2(const wg_geom *g, int64_t t0, int64_t n,
                                               const float *p, int64_t ld, int64_t ps,
                                               int64_t m0, int64_t m1, const float *bias,
                                               const float *res, int act, float alpha,
                                               float beta, float *y)
{
    if (g->pool) {
        wg_pool_avx2(g, t0, n, p, ld, ps, m0, m1, bias, act, alpha, beta, y);
        return;
    }
    loomrt_act8_t ka = loomrt_act8_of(act, alpha, beta);
    int64_t oplane = g->oh * g->ow;
    for (int64_t m = m0; m < m1; m++) {
        const float *pm = p + m * ld;
        __m256 vb = _mm256_set1_ps(bias ? bias[m] : 0.0f);
        float *ym = y + m * oplane;
        const float *rm = res ? res + m * oplane : NULL;
        for (int64_t s = 0; s < n;) {
            int64_t ty = (t0 + s) / g->tw, tx = (t0 + s) % g->tw;
            int64_t run = g->tw - tx < n - s ? g->tw - tx : n - s;
            for (int64_t i = 0; i < run; i += 8) {
                const float *t = pm + s + i;
                /* the last vector of the tiles [t0, t0 + n) loads only
                 * theirs: past them may be another thread's (wg_slots_task) */
                int last = s + i + 8 > n;
                __m256 o[4];
                wg_at8(t, ps, last ? n - s - i : 8, vb, o);
                /* columns [ox, end) of the two rows, a tile's two interleaved */
                int64_t ox = 2 * (tx + i), cnt = run - i < 8 ? run - i : 8;
                int64_t end = ox + 2 * cnt < g->ow ? ox + 2 * cnt : g->ow;
                for (int dy = 0; dy < 2 && 2 * ty + dy < g->oh; dy++) {
                    int64_t row = (2 * ty + dy) * g->ow;
                    __m256 lo = _mm256_unpacklo_ps(o[2 * dy], o[2 * dy + 1]);
                    __m256 hi = _mm256_unpackhi_ps(o[2 * dy], o[2 * dy + 1]);
                    __m256 v[2] = {_mm256_permute2f128_ps(lo, hi, 0x20),
                                   _mm256_permute2f128_ps(lo, hi, 0x31)};
                    for (int u = 0; u < 2 && ox + 8 * u < end; u++) {
                        int64_t c = row + ox + 8 * u, k = end - (ox + 8 * u);
                        wg_put8(ym + c, rm ? rm + c : NULL, v[u], k < 8 ? k : 8, act, ka);
                    }
                    if (act > LOOMRT_ACT_CLIP)
                        loomrt_epi_run(ym + row + ox, end - ox, NULL, 0, NULL, act, alpha, beta);
                }
            }
            s += run;
        }
    }
}

/* act(v): Relu, LeakyRelu and Clip in registers, the others by
 * loomrt_epi_run. */
static LOOMRT_TARGET_AVX512 inline __m512 wg_act16(__m512 v, int act, float alpha, float beta)
{
    if (act <= LOOMRT_ACT_CLIP)
        return loomrt_act16(v, loomrt_act16_of(act, alpha, beta));
    float t[16];
    _mm512_storeu_ps(t, v);
    loomrt_epi_run(t, 16, NULL, 0, NULL, act, alpha, beta);
    return _mm512_loadu_ps(t);
}

/* 16 outputs at c (mask m) = act(v + residual at r). */
static LOOMRT_TARGET_AVX512 void wg_put(float *c, const float *r, __m512 v, __mmask16 m,
                                        int act, float alpha, float beta)
{
    if (r)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, r));
    _mm512_mask_storeu_ps(c, m, wg_act16(v, act, alpha, beta));
}

/* The output transform fetches the lines the next panel writes in this
 * row (its 2 * WG_NR columns), and those of the residual it reads, while
 * it writes this panel's: a panel writes two rows of 32 columns in every
 * output channel's plane, more streams than the hardware prefetchers
 * follow, and a step that is the first in a run to write its storage in
 * the arena waits on memory for every line (resnet18's layer1 since its
 * first convolution and MaxPool are one step). Xeon, `ab_builds.py
 * --openblas --steps`, medians: resnet18's layer1.0 convolutions 1207 ->
 * 1092-1167 and 1294-1331 -> 1127-1171 us on one thread (652-666 ->
 * 600-637, 639-665 -> 573-599 on two), squeezenet1_1's expand3x3 at
 * 55x55 403 -> 373, 362 -> 343; the models within the noise of a loaded
 * machine: resnet18 0.985-1.016 on one thread, 0.974-0.981 on two, unet
 * 0.970, squeezenet1_1 1.001-1.011, mnist_cnn 0.975 (by the median).
 * Into L2 only (hint T1) resnet18 was 2% slower than into L1. From
 * WG_FETCH_MIN floats of output (256 KB): below, the output stays in L2
 * and the fetches only cost (mnist_cnn's conv2, 31 KB: the model 1.02-1.04;
 * squeezenet1_1's 13x13 layers, 173 KB, 17 us slower each). On rows of
 * a panel's width or more: on narrower ones a panel's run is not its
 * row's, and the lines fetched are not the next panel's (resnet18's
 * layer2.0.conv2, 128 planes of 28x28, 76-131 us slower). AVX2's
 * transform is unchanged (not measured on an AVX2 core). */
#define WG_FETCH_MIN ((int64_t)1 << 16)

static inline void wg_fetch_next(const float *y, const float *res)
{
    __builtin_prefetch(y + 2 * WG_NR, 1, 3);
    __builtin_prefetch(y + 3 * WG_NR, 1, 3);
    if (res) {
        __builtin_prefetch(res + 2 * WG_NR, 0, 3);
        __builtin_prefetch(res + 3 * WG_NR, 0, 3);
    }
}

/* Whether the output transform fetches its lines ahead (wg_fetch_next). */
static int wg_fetches(const wg_geom *g)
{
    return g->M * g->oh * g->ow >= WG_FETCH_MIN && g->ow >= 2 * WG_NR;
}

/* Where a panel's outputs go: its ns runs of tiles (wg_segs) and for each
 * run k its two windows of 16 output columns: ix[k][h] interleaves a tile
 * row's two output columns (the lanes of o[2 dy] and o[2 dy + 1]) into
 * columns 16 h .. 16 h + 15 of the run, mo[k][h] masks those inside the
 * plane; fetch: wg_fetches. Pooled (wg_geom.pool), the panel's tiles
 * from t0, mt masking those in the plane, are its outputs' places, and
 * only these two are set. */
typedef struct wg_lanes {
    wg_seg sg[WG_NR];
    __m512i ix[WG_NR][2];
    __mmask16 mo[WG_NR][2];
    int ns, fetch;
    int64_t t0;
    __mmask16 mt;
} wg_lanes;

/* l for panel q. */
static LOOMRT_TARGET_AVX512 void wg_lanes_avx512(const wg_geom *g, int64_t q, wg_lanes *l)
{
    const wg_seg *sg = l->sg;
    l->t0 = q * WG_NR;
    l->mt = (__mmask16)((1u << (g->T - l->t0 < WG_NR ? g->T - l->t0 : WG_NR)) - 1);
    if (g->pool) /* a value a tile at t0: no runs nor windows */
        return;
    int ns = l->ns = wg_segs(g, q, l->sg);
    l->fetch = wg_fetches(g);
    for (int k = 0; k < ns; k++) {
        /* the run's columns, up to the plane's edge */
        int64_t ox = 2 * sg[k].tx0, cols = 2 * sg[k].n < g->ow - ox ? 2 * sg[k].n : g->ow - ox;
        for (int h = 0; h < 2; h++) {
            /* column j = 16 h + i of the window: lane l0 + j / 2 of the
             * tile's column j % 2 (the second operand) */
            int32_t id[16];
            for (int i = 0; i < 16; i++) {
                int j = 16 * h + i;
                id[i] = (sg[k].l0 + j / 2) % 16 + (j % 2) * 16;
            }
            l->ix[k][h] = _mm512_loadu_si512(id);
            int64_t lo = 16 * h, hi = cols < lo + 16 ? cols : lo + 16;
            l->mo[k][h] = hi > lo ? (__mmask16)((1u << (hi - lo)) - 1) : 0;
        }
    }
}

/* wg_store_avx512 pooled: each of the four pixels o[k] through the
 * activation, their maximum into the panel's tiles' places in plane y. */
static LOOMRT_TARGET_AVX512 void wg_pool_avx512(const wg_lanes *l, const __m512 *o, int act,
                                                float alpha, float beta, float *y)
{
    __m512 r[4];
    for (int k = 0; k < 4; k++)
        r[k] = wg_act16(o[k], act, alpha, beta);
    __m512 v = _mm512_max_ps(_mm512_max_ps(r[0], r[1]), _mm512_max_ps(r[2], r[3]));
    _mm512_mask_storeu_ps(y + l->t0, l->mt, v);
}

/* Output channel m of a panel laid out by l: o[2 dy + dx] holds output
 * pixel (dy, dx) of each of the panel's tiles (a lane a tile, the bias
 * added); into y's plane m, with res's (NULL: none). */
static LOOMRT_TARGET_AVX512 inline void wg_store_avx512(const wg_geom *g, const wg_lanes *l,
                                                        const __m512 *o, int64_t m,
                                                        const float *res, int act, float alpha,
                                                        float beta, float *y)
{
    if (g->pool) {
        wg_pool_avx512(l, o, act, alpha, beta, y + m * g->T);
        return;
    }
    int64_t oplane = g->oh * g->ow;
    float *ym = y + m * oplane;
    const float *rm = res ? res + m * oplane : NULL;
    for (int k = 0; k < l->ns; k++)
        for (int dy = 0; dy < 2; dy++) {
            int64_t oy = 2 * l->sg[k].ty + dy;
            if (oy >= g->oh)
                continue;
            int64_t at = oy * g->ow + 2 * l->sg[k].tx0;
            if (l->fetch)
                wg_fetch_next(ym + at, rm ? rm + at : NULL);
            for (int h = 0; h < 2; h++)
                if (l->mo[k][h])
                    wg_put(ym + at + 16 * h, rm ? rm + at + 16 * h : NULL,
                           _mm512_permutex2var_ps(o[2 * dy], l->ix[k][h], o[2 * dy + 1]),
                           l->mo[k][h], act, alpha, beta);
        }
}

/* A^T m A of the 16 vectors at t, t + ps, ..., t + 15 ps (lanes m, the
 * others 0): the four output pixels, (dy, dx) in o[2 dy + dx]. */
static LOOMRT_TARGET_AVX512 inline void wg_at_avx512(const float *t, int64_t ps, __mmask16 m,
                                                     __m512 o[4])
{
    __m512 r0[4], r1[4];
    for (int s = 0; s < 4; s++) {
        __m512 a = _mm512_maskz_loadu_ps(m, t + s * ps);
        __m512 b = _mm512_maskz_loadu_ps(m, t + (4 + s) * ps);
        __m512 c = _mm512_maskz_loadu_ps(m, t + (8 + s) * ps);
        __m512 d = _mm512_maskz_loadu_ps(m, t + (12 + s) * ps);
        r0[s] = _mm512_add_ps(_mm512_add_ps(a, b), c);
        r1[s] = _mm512_sub_ps(_mm512_sub_ps(b, c), d);
    }
    o[0] = _mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]);
    o[1] = _mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]);
    o[2] = _mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]);
    o[3] = _mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]);
}

/* Output channels [m0, m1) of panel q: P of channel m at pm + m * ldp
 * (xi stride ps); bias, res and y at channel m's plane. */
static LOOMRT_TARGET_AVX512 void wg_output_avx512(const wg_geom *g, int64_t q, const float *pm,
                                                   int64_t ldp, int64_t ps, int64_t m0,
                                                   int64_t m1, const float *bias,
                                                   const float *res, int act, float alpha,
                                                   float beta, float *y)
{
    wg_lanes l;
    wg_lanes_avx512(g, q, &l);
    for (int64_t m = m0; m < m1; m++) {
        __m512 vb = _mm512_set1_ps(bias ? bias[m] : 0.0f), o[4];
        wg_at_avx512(pm + m * ldp, ps, (__mmask16)0xffff, o);
        for (int k = 0; k < 4; k++)
            o[k] = _mm512_add_ps(o[k], vb);
        wg_store_avx512(g, &l, o, m, res, act, alpha, beta, y);
    }
}

/* wg_output_avx512 over P stored by tiles, as the transposed products
 * leave it on AVX-512 (wg_geom.pt): tile i's channel m at pq + i * M + m
 * (xi stride ps). For 16 channels at a time, each tile's four output
 * pixels with the channels as the vector, then each pixel's 16 x 16
 * block transposed to the tiles as the vector: four transposes for the
 * 16 the products would make storing P a channel a row (one per xi).
 * The arithmetic is wg_output_avx512's, in its order. */
static LOOMRT_TARGET_AVX512 void wg_output_t_avx512(const wg_geom *g, int64_t q,
                                                     const float *pq, int64_t ps, int64_t m0,
                                                     int64_t m1, const float *bias,
                                                     const float *res, int act, float alpha,
                                                     float beta, float *y)
{
    wg_lanes l;
    wg_lanes_avx512(g, q, &l);
    int64_t nt = g->T - q * WG_NR < WG_NR ? g->T - q * WG_NR : WG_NR;
    __attribute__((aligned(64))) float px[4][WG_NR][16]; /* [pixel][tile][channel], then
                                                           * [pixel][channel][tile] */
    for (int64_t mc = m0; mc < m1; mc += 16) {
        int nc = m1 - mc < 16 ? (int)(m1 - mc) : 16;
        __mmask16 cm = (__mmask16)((1u << nc) - 1);
        for (int64_t i = 0; i < WG_NR; i++) {
            if (i >= nt) {
                for (int o = 0; o < 4; o++)
                    _mm512_store_ps(px[o][i], _mm512_setzero_ps());
                continue;
            }
            const float *t = pq + i * g->M + mc;
            if (mc + 16 < m1) /* the next 16 channels' lines */
                for (int s = 0; s < 16; s++)
                    __builtin_prefetch(t + 16 + s * ps, 0, 3);
            __m512 o[4];
            wg_at_avx512(t, ps, cm, o);
            for (int k = 0; k < 4; k++)
                _mm512_store_ps(px[k][i], o[k]);
        }
        for (int o = 0; o < 4; o++) {
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = _mm512_load_ps(px[o][i]);
            loomrt_tr16(r);
            for (int i = 0; i < 16; i++)
                _mm512_store_ps(px[o][i], r[i]);
        }
        for (int c = 0; c < nc; c++) {
            int64_t m = mc + c;
            __m512 vb = _mm512_set1_ps(bias ? bias[m] : 0.0f);
            __m512 o[4];
            for (int k = 0; k < 4; k++)
                o[k] = _mm512_add_ps(_mm512_load_ps(px[k][c]), vb);
            wg_store_avx512(g, &l, o, m, res, act, alpha, beta, y);
        }
    }
}
#endif

/* ---- the three steps of a block, as tasks ---- */

typedef struct wg_job {
    const wg_geom *g;
    const float *x, *u, *bias, *res;
    float *y, *v, *pr;
    int64_t q0, nb;  /* the block's first panel, its panels */
    int64_t parts;   /* threads splitting the plane by tiles (wg_slots_task) */
    int act;
    float alpha, beta;
} wg_job;

/* Units [t0, t1) of (panel, channel) pairs of the block's input. */
static int wg_input_task(void *arg, int64_t t0, int64_t t1)
{
    const wg_job *j = (const wg_job *)arg;
    const wg_geom *g = j->g;
    int64_t ld = j->nb * WG_NR, xs = wg_xi_stride(g->C, ld);
    while (t0 < t1) {
        int64_t q = t0 / g->C, c0 = t0 % g->C;
        int64_t c1 = q == (t1 - 1) / g->C ? (t1 - 1) % g->C + 1 : g->C;
        /* the tiles as rows: [C][block's tiles]; as columns: packed panels */
        float *v = j->v + q * (g->tr ? WG_NR : g->C * WG_NR);
        int64_t cs = g->tr ? ld : WG_NR;
#ifdef LOOMRT_X86
        int isa = loomrt_isa_get();
        if (isa >= LOOMRT_ISA_AVX2) {
            if (isa == LOOMRT_ISA_AVX512)
                wg_input_avx512(g, j->q0 + q, j->x, c0, c1, v, cs, xs);
            else
                wg_input_avx2(g, j->q0 + q, j->x, c0, c1, v, cs, xs);
            t0 += c1 - c0;
            continue;
        }
#endif
        wg_input_c(g, j->q0 + q, j->x, c0, c1, v, cs, xs);
        t0 += c1 - c0;
    }
    return 0;
}

/* Tiles of the block's panels [qa, qb): from qa * WG_NR, as many as the
 * plane has there. */
static int64_t wg_tiles_of(const wg_job *j, int64_t qa, int64_t qb)
{
    int64_t end = (j->q0 + qb) * WG_NR < j->g->T ? (j->q0 + qb) * WG_NR : j->g->T;
    return end - (j->q0 + qa) * WG_NR;
}

/* The products xi in [xi0, xi1) over the block's panels [qa, qb): P[xi]
 * = U[xi] V[xi], or transposed, stored transposed back a channel a row
 * or, on AVX-512 (wg_geom.pt), left a tile a row for wg_output_t_avx512.
 * The transposed ones compute the panels' tiles only: P's lanes past them
 * hold what the scratch held, which the output transform computes with
 * but never stores. */
static void wg_products(const wg_job *j, int64_t xi0, int64_t xi1, int64_t qa, int64_t qb)
{
    const wg_geom *g = j->g;
    int64_t ld = j->nb * WG_NR, us = wg_u_size(g->M, g->C, g->tr);
    int64_t first = qa * WG_NR, n = wg_tiles_of(j, qa, qb);
    for (int64_t xi = xi0; xi < xi1; xi++) {
        const float *u = j->u + xi * us, *v = j->v + xi * wg_xi_stride(g->C, ld);
        float *p = j->pr + xi * wg_xi_stride(g->M, ld);
        if (g->pt)
            loomrt_sgemm_packed(1, 0, n, g->M, g->C, 1.0f, v + first, ld, u, 0.0f,
                                p + first * g->M, g->M);
        else if (g->tr)
            loomrt_sgemm_packed(1, 1, n, g->M, g->C, 1.0f, v + first, ld, u, 0.0f, p + first, ld);
        else
            loomrt_sgemm_packed(0, 0, g->M, n, g->C, 1.0f, u, g->C, v + qa * g->C * WG_NR,
                                0.0f, p + first, ld);
    }
}

/* The products xi in [t0, t1) over all the block's tiles. */
static int wg_gemm_task(void *arg, int64_t t0, int64_t t1)
{
    const wg_job *j = (const wg_job *)arg;
    wg_products(j, t0, t1, 0, j->nb);
    return 0;
}

/* Output channels [m0, m1) of the block's panels [qa, qb). */
static void wg_outputs(const wg_job *j, int64_t m0, int64_t m1, int64_t qa, int64_t qb)
{
    const wg_geom *g = j->g;
    int64_t ld = j->nb * WG_NR, ps = wg_xi_stride(g->M, ld), oplane = wg_oplane(g);
#ifdef LOOMRT_X86
    if (loomrt_isa_get() == LOOMRT_ISA_AVX2) {
        int64_t first = qa * WG_NR;
        wg_output_avx2(g, j->q0 * WG_NR + first, wg_tiles_of(j, qa, qb), j->pr + first, ld,
                       ps, m0, m1, j->bias, j->res, j->act, j->alpha, j->beta, j->y);
        return;
    }
#endif
    for (int64_t q = qa; q < qb; q++) {
        const float *pq = j->pr + q * WG_NR;
#ifdef LOOMRT_X86
        if (g->pt) {
            wg_output_t_avx512(g, j->q0 + q, j->pr + q * WG_NR * g->M, ps, m0, m1, j->bias,
                               j->res, j->act, j->alpha, j->beta, j->y);
            continue;
        }
        if (loomrt_isa_get() == LOOMRT_ISA_AVX512) {
            wg_output_avx512(g, j->q0 + q, pq, ld, ps, m0, m1, j->bias, j->res, j->act,
                             j->alpha, j->beta, j->y);
            continue;
        }
#endif
        for (int64_t m = m0; m < m1; m++)
            wg_output_c(g, j->q0 + q, pq + m * ld, ps, j->bias ? j->bias[m] : 0.0f,
                        j->res ? j->res + m * oplane : NULL, j->act, j->alpha, j->beta,
                        j->y + m * oplane);
    }
}

/* Output channels [t0, t1) of all the block's tiles. */
static int wg_output_task(void *arg, int64_t t0, int64_t t1)
{
    const wg_job *j = (const wg_job *)arg;
    wg_outputs(j, t0, t1, 0, j->nb);
    return 0;
}

/* The block's panels [qa, qb), all three steps on the calling thread:
 * their input transform, their columns of the 16 products and their
 * output transform, so that V and P of these tiles stay in this core's
 * caches. */
static void wg_chunk(wg_job *j, int64_t qa, int64_t qb)
{
    wg_input_task(j, qa * j->g->C, qb * j->g->C);
    wg_products(j, 0, 16, qa, qb);
    wg_outputs(j, 0, j->g->M, qa, qb);
}

/* Slots [k0, k1) of the whole plane split by tiles among j->parts
 * threads: slot k takes the panels [P k / parts, P (k + 1) / parts) of the
 * plane, a run of tile rows like the rows or pixels the step before gave
 * its thread, and runs them a chunk of sw = nb / parts panels at a time
 * in the block's scratch columns [k sw, (k + 1) sw). A chunk is a block
 * whose first panel is placed so that its panels land there (j.q0 may be
 * below 0; only panels from k sw are touched). */
static int wg_slots_task(void *arg, int64_t k0, int64_t k1)
{
    const wg_job *b = (const wg_job *)arg;
    const wg_geom *g = b->g;
    int64_t sw = b->nb / b->parts;
    int prev = loomrt_threads_swap(1); /* the products as this part's share */
    for (int64_t k = k0; k < k1; k++) {
        int64_t end = g->P * (k + 1) / b->parts;
        for (int64_t q = g->P * k / b->parts; q < end; q += sw) {
            int64_t len = end - q < sw ? end - q : sw;
            wg_job j = *b;
            j.q0 = q - k * sw;
            wg_chunk(&j, k * sw, k * sw + len);
        }
    }
    loomrt_threads_swap(prev);
    return 0;
}

/* Parts [k0, k1) of the whole plane split by tiles among j->parts
 * threads, each part in block k of the scratch: part k takes the panels
 * [P k / parts, P (k + 1) / parts), a whole block of nb panels at a time,
 * as on one thread. With one block shared (wg_slots_task) the chunks are
 * a block's share, and shorter chunks pay the products' set-up more
 * often: bench/winograd_batch.c (squeezenet1_1's expand3x3, 16 -> 64
 * channels over 55x55, 12 panels a block, Xeon, two threads each image
 * split) with a block twice as large went 1.57-1.61x one thread ->
 * 1.77-1.88x; in squeezenet1_1 on two threads 0.96 of its time
 * (docs/performance.md, "a thirteenth time"). */
static int wg_blocks_task(void *arg, int64_t k0, int64_t k1)
{
    const wg_job *b = (const wg_job *)arg;
    const wg_geom *g = b->g;
    int64_t size = wg_block_size(g, b->nb);
    int prev = loomrt_threads_swap(1); /* the products as this part's share */
    for (int64_t k = k0; k < k1; k++) {
        int64_t end = g->P * (k + 1) / b->parts;
        for (int64_t q = g->P * k / b->parts; q < end; q += b->nb) {
            wg_job j = *b;
            j.v = b->v + k * size;
            j.pr = b->pr + k * size;
            j.q0 = q;
            wg_chunk(&j, 0, end - q < b->nb ? end - q : b->nb);
        }
    }
    loomrt_threads_swap(prev);
    return 0;
}

/* Convolution g (its pooling set) of x into y, scratch blocks blocks of
 * wg_block_size floats. */
static void wg_run(wg_geom g, const float *x, const float *u, float *y, float *scratch,
                   int64_t blocks, const float *bias, const float *res, int act,
                   float act_alpha, float act_beta)
{
    int64_t C = g.C, M = g.M;
#ifdef LOOMRT_X86
    g.pt = g.tr && C <= WG_PT_MAX_C && loomrt_isa_get() == LOOMRT_ISA_AVX512;
#endif
    int64_t nb = wg_panels(&g);
    float *pr = scratch + 16 * wg_xi_stride(C, nb * WG_NR); /* P after the 16 V */
    wg_job j = {&g, x, u, bias, res, y, scratch, pr, 0, nb, 0, act, act_alpha, act_beta};
    /* threads from 2^16 multiply-adds of the 16 products per thread, as the
     * other kernels: below, three parallel regions per block cost more than
     * they share (cnn_ts's 8 -> 16 channels over 12x12, 12.9 us on one
     * thread, took 20.6 us on two); a block split by its tiles when each
     * thread gets WG_TILES_PER_THREAD panels, else step by step */
    int t = loomrt_threads_get();
    int64_t macs = 16 * M * C * g.T;
    int par = t > 1 && macs >= ((int64_t)1 << 16) * t;
    int steps = par && macs >= WG_STEPS_MIN * t;
    if (par && t <= blocks && g.P >= WG_TILES_PER_THREAD * t) {
        j.parts = t;
        loomrt_parallel_for(t, wg_blocks_task, &j);
        return;
    }
    if (par && nb >= WG_TILES_PER_THREAD * t) {
        j.parts = t;
        loomrt_parallel_for(t, wg_slots_task, &j);
        return;
    }
    for (int64_t q0 = 0; q0 < g.P; q0 += nb) {
        j.q0 = q0;
        j.nb = q0 + nb < g.P ? nb : g.P - q0;
        if (steps) {
            loomrt_parallel_for(j.nb * C, wg_input_task, &j);
            loomrt_parallel_for(16, wg_gemm_task, &j);
            loomrt_parallel_for(M, wg_output_task, &j);
        } else {
            wg_input_task(&j, 0, j.nb * C);
            wg_gemm_task(&j, 0, 16);
            wg_output_task(&j, 0, M);
        }
    }
}

LOOMRT_API void loomrt_conv2d_winograd(const float *x, const float *u, float *y, float *scratch,
                                       int64_t blocks, int64_t C, int64_t M, int64_t H, int64_t W, int64_t oh,
                                       int64_t ow, int64_t pad_t, int64_t pad_l,
                                       const float *bias, const float *res, int act,
                                       float act_alpha, float act_beta)
{
    if (C <= 0 || M <= 0 || oh <= 0 || ow <= 0)
        return;
    wg_run(wg_geom_of(C, M, H, W, oh, ow, pad_t, pad_l), x, u, y, scratch, blocks, bias, res,
           act, act_alpha, act_beta);
}

LOOMRT_API void loomrt_conv2d_winograd_maxpool(const float *x, const float *u, float *y,
                                               float *scratch, int64_t blocks, int64_t C, int64_t M, int64_t H,
                                               int64_t W, int64_t oh, int64_t ow,
                                               int64_t pad_t, int64_t pad_l, const float *bias,
                                               int act, float act_alpha, float act_beta)
{
    if (C <= 0 || M <= 0 || oh <= 0 || ow <= 0)
        return;
    wg_geom g = wg_geom_of(C, M, H, W, 2 * oh, 2 * ow, pad_t, pad_l);
    g.pool = 1;
    wg_run(g, x, u, y, scratch, blocks, bias, NULL, act, act_alpha, act_beta);
}
