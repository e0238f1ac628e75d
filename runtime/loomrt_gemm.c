/*
 * Single-precision GEMM for the emitted code: loomrt_sgemm (any operands)
 * and loomrt_sgemm_packed (B packed ahead of time, by the compiler for
 * constant weights, with loomrt_sgemm_pack_b).
 *
 * Which code runs (the dispatch rule):
 *   - the instruction set: loomrt_isa_get() (loomrt_cpu.c) picks the
 *     AVX-512, AVX2+FMA or portable kernels below at run time; the first
 *     two are compiled for their instructions with the target attribute,
 *     so a runtime built without -march still uses them.
 *   - M == 1 (batch-1 dense layers, recurrent steps): matrix-vector code
 *     here (AVX-512, AVX2 or portable), where a GEMM library spends more
 *     on packing and dispatch than on arithmetic. op(B) [K,N], packed or
 *     not, is read as rows (axpy into register tiles of 128 outputs with
 *     AVX-512, 64 with AVX2), B stored [N,K] as 8 dot products at a time.
 *   - M > 1 with LOOMRT_USE_CBLAS (the OpenBLAS build): cblas_sgemm when
 *     OpenBLAS's kernel is as wide as ours (loomrt_blas_preferred: Debian's
 *     OpenBLAS 0.3.21 runs its Haswell kernel on AVX-512 CPUs it does not
 *     know) and the product is not small, M * N * K > GEMM_SMALL (2^21
 *     multiply-adds), where OpenBLAS's packing of both operands and its
 *     dispatch cost more than the arithmetic, nor untransposed with K <=
 *     GEMM_OWN_K_AVX2 (AVX2) or GEMM_OWN_K_AVX512; otherwise the blocked
 *     kernel here. OpenBLAS runs on one thread (loomrt_pool.c): a product
 *     for several threads is cut into blocks of rows or columns like
 *     ours, one cblas_sgemm per block on loom's pool, because OpenBLAS's
 *     own workers spin in sched_yield for a long time after each call and
 *     take the cores from loom's pool between its GEMMs. A fused epilogue
 *     goes over C after OpenBLAS, a block of columns at a time when C is
 *     large (gemm_blas_block).
 *   - M > 1 without LOOMRT_USE_CBLAS (the standalone build): the blocked
 *     kernel here.
 *   - loomrt_sgemm_packed: always the kernels here.
 *
 * The blocked kernel (BLIS / Goto style, with A not packed): op(B) is cut
 * into 16-column panels, each packed as [kc][16] (zero-padded past N) for
 * a block of kc <= GEMM_KC rows of K, so a panel stays in L1 while every
 * tile of C is computed from it (B packed at compile time: blocks of
 * GEMM_KC_PACKED rows, from L2); A is read in place with broadcast loads
 * (op(A)[i,k] at A[i*rs + k*cs] covers both layouts). Register tiles:
 * AVX-512 12 x 32 (two panels, 24 zmm accumulators), AVX2 6 x 16 (12 ymm),
 * portable 6 x 16 in plain C that compilers vectorize. No allocation: the
 * packing buffer is a 64 KB stack array.
 *
 * The _epi entry points take a fused epilogue (loomrt.h): each tile of C
 * gets it right after the tile's last block of K is stored, while the
 * tile is in L1; the paths that hand C to OpenBLAS or to the matrix-vector
 * code apply it to C afterwards.
 */
#include "loomrt.h"
#include "loomrt_simd.h"

#ifdef LOOMRT_USE_CBLAS
#include <cblas.h>
#endif

#ifdef LOOMRT_X86
#include <immintrin.h>
#endif

#define GEMM_MR 6
#define GEMM_NR LOOMRT_SGEMM_NR
#ifndef GEMM_KC
#define GEMM_KC 256
#endif
/* Columns of B packed at a time by loomrt_sgemm (a multiple of 32): a
 * 64 KB stack buffer with GEMM_KC. */
#define GEMM_NC 64
/* Rows of K per block of the packed products (B packed at compile time,
 * no buffer): two panels over 1024 rows are 128 KB, read from L2, while
 * C is read back and stored once per block. Measured against 256 (the
 * unpacked products' block) on Zen 4, one thread, best of 60, AVX-512:
 * C^T 169 x 1000 x 512 (squeezenet1_1's classifier) 1557 -> 1513 us, 49 x
 * 1280 x 320 371 -> 353, 3136 x 64 x 576 2168 -> 2061, 196 x 256 x 1152
 * 1027 -> 1006, 49 x 512 x 4608 2081 -> 2019, 64 x 64 x 512 37.2 ->
 * 36.2; C 1000 x 169 x 512 1601 -> 1555, 128 x 784 x 1152 2040 -> 2006;
 * AVX2 169 x 1000 x 512 1897 -> 1835, 49 x 512 x 4608 2813 -> 2641 (512
 * gained about half as much, unbounded a little more on K 4608). */
#ifndef GEMM_KC_PACKED
#define GEMM_KC_PACKED 1024
#endif
#define GEMM_SMALL ((int64_t)1 << 21)
/* Untransposed products with K up to this many rows run the AVX2 kernels
 * rather than OpenBLAS's (its Haswell and Zen kernels are AVX2 too): one
 * block of K, where OpenBLAS's packing of both operands costs more than
 * ours of B. Zen 3, one thread, GFLOP/s OpenBLAS / ours: the 1x1
 * convolutions 16 x 12544 x 32 49 / 60, 24 x 3136 x 144 70 / 77, 32 x
 * 784 x 192 75 / 82, 64 x 3025 x 16 42 / 64, 16 x 196 x 128 52 / 65,
 * 96 x 3136 x 144 82 / 84-92; from K 256 mixed (64 x 784 x 256 79 / 88,
 * 512 x 196 x 256 87 / 78-82), from 384 OpenBLAS's (16 x 196 x 384 68 /
 * 57, 128 x 784 x 1152 90 / 87). */
#define GEMM_OWN_K_AVX2 192
/* The same bound for the AVX-512 kernels against OpenBLAS's SkylakeX ones
 * (which it runs on Intel's AVX-512 cores): ours win from the shallowest
 * products to K 512, most on the 1x1 convolutions. A Xeon (cpuid family
 * 6 model 167), OpenBLAS 0.3.21 on one thread, us OpenBLAS / ours, one
 * thread (two): mobilenet_v2's 14x14 expansions 384 x 196 x 64 79 / 59 (45 /
 * 36), 576 x 196 x 96 152 / 129 (85 / 70); resnet18's downsampling 128 x
 * 784 x 64 98 / 71 (66 / 40); squeezenet1_1's expand1x1 128 x 729 x 32
 * 59 / 41 (44 / 24), 256 x 169 x 64 49 / 36 (28 / 20); 512 x 512 x 512
 * 1577 / 1482 (834 / 736), 128 x 768 x 768 988 / 837. Deeper, OpenBLAS's
 * win: 768 x 768 x 768 5253 / 5576, 1024 x 1024 x 1024 12263 / 15145. */
#define GEMM_OWN_K_AVX512 512
/* B read in place (not packed) up to this many floats: 256 KB, so that
 * the cache-set conflicts of rows at power-of-two strides cost L2 hits
 * at worst. */
#define GEMM_INPLACE_B 65536
/* Products of at most this many rows read B in place at any size with the
 * AVX-512 kernels (and run them rather than OpenBLAS's): B's panels are
 * swept by few row tiles, so packing them costs about what it saves.
 * Measured on Zen 4, one thread, a 1x1 Conv's M x N x K with bias and
 * Relu, OpenBLAS / ours packed / in place (us): squeezenet1_1's squeezes
 * 16 x 3025 x 64 79 / 81 / 66, 16 x 3025 x 128 152 / 155 / 125, 32 x 729
 * x 256 134 / 128 / 113; 64 x 3025 x 64 272 / 271 / 258, 32 x 12544 x 64
 * 656 / 599 / 540, 24 x 4096 x 512 1660 / 1231 / 989 (power-of-two rows
 * too). From 128 rows in place gains 1-2%; the AVX2 kernel's 16-column
 * panels lose in place (32 x 12544 x 64 634 -> 743 us). */
#define GEMM_THIN_M 64
/* Unpacked products of B^T with at most this many rows run as one GEMV
 * per row of A (dot products along B's rows, B read in place M times):
 * packing B^T for the blocked kernel transposes it, which costs more
 * than the product at few rows. One thread, warm, blocked / by rows
 * (us): 2 x 10 x 576 (a classifier at batch 2) 3.1 / 0.5, 4 x 64 x 256
 * 6.1 / 2.9, 8 x 256 x 256 28.8 / 21.1, 8 x 1000 x 512 232 / 205; 16 x
 * 256 x 256 38.5 / 42.4. Each row reads all of B: past GEMM_ROWS_T_B
 * floats (16 MB, out of the caches) only up to half as many rows, as
 * reading B once into panels wins there (8 x 4096 x 4096 17.3 / 22.5 ms;
 * 8 x 2048 x 2048 4.3 / 3.0, 6 x 4096 x 4096 20 / 20, 4 x 4096 x 4096
 * 15.8 / 12.4). */
#define GEMM_ROWS_T 8
#define GEMM_ROWS_T_B ((int64_t)1 << 22)

/* Whether an unpacked product runs by rows (GEMM_ROWS_T). */
static int gemm_rows_t(int transA, int transB, int64_t M, int64_t N, int64_t K)
{
    return transB && !transA && M <= GEMM_ROWS_T &&
           (2 * M <= GEMM_ROWS_T || N * K <= GEMM_ROWS_T_B);
}

/* Whether an unpacked product is thin (GEMM_THIN_M) at level isa. */
static int gemm_thin(int isa, int transB, int64_t M)
{
    return isa == LOOMRT_ISA_AVX512 && !transB && M <= GEMM_THIN_M;
}

#if defined(__GNUC__)
/* Hides how p was computed from the compiler (see gemm_tile_avx512). */
#define GEMM_OPAQUE(p) __asm__("" : "+r"(p))
#define GEMM_INLINE static inline __attribute__((always_inline))
#define GEMM_ALIGNED __attribute__((aligned(64)))
#define GEMM_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define GEMM_OPAQUE(p) (void)(p)
#define GEMM_INLINE static inline
#define GEMM_ALIGNED
#define GEMM_PREFETCH(p) (void)(p)
#endif

/* An epilogue (loomrt_sgemm_epi): bias of element (i, j) at
 * bias[i*rs + j*cs], residual laid out like C. */
typedef struct gemm_epi {
    const float *bias;
    int64_t rs, cs;
    const float *res;
    int act;
    float alpha, beta;
} gemm_epi;

/* One block of the product for a register tile to work on: op(A)[i,k] at
 * a[i*rs + k*cs], a tile from row i0 at a + i0*rt (rt is rs, or the rows
 * of K packed when A is packed by tiles); row k of the 16 columns
 * [16q, 16q + 16) of the B block at b + q*ps + k*bs; C[i,j] at
 * c[i*ldc + j] (c[j*ldc + i] when ctr); nr columns, kc rows of K;
 * C = alpha * op(A) B + beta * C. With epi (the last block of K only), the
 * tile then gets the epilogue; the block starts at column j0 of the
 * product, c at C + coff. When tiled (A^T packed for the kernel by
 * gemm_pack_at_tiles, rt rows of K), the tile of mr rows from row i0 is
 * at a + i0*rt as [rt][mr], the block from row ko of the pack on,
 * whatever rs and cs. With pf (B read in place), the AVX-512 kernel's
 * first tile of rows fetches the next two panels ahead, row k of them at
 * pf + k*bs (gemm_blocked). */
typedef struct gemm_blk {
    int64_t kc, nr;
    const float *a;
    int tiled;
    int64_t ko;
    int64_t rs, cs, rt;
    const float *b;
    int64_t bs, ps;
    float *c;
    int64_t ldc;
    int ctr;
    float alpha, beta;
    const gemm_epi *epi;
    int64_t j0, coff;
    const float *pf;
    float *pfc; /* C's columns the next two panels write, fetched for writing */
} gemm_blk;

/* ---- packing ---- */

/* Packs op(B)[k0:k0+kc, j0:j0+nr] into bp as [kc][GEMM_NR], columns past
 * nr zero. */
static void gemm_pack_panel(const float *B, int64_t ldb, int transB, int64_t k0, int64_t kc,
                            int64_t j0, int64_t nr, float *bp)
{
    if (transB) {
        for (int64_t k = 0; k < kc; k++)
            for (int64_t j = nr; j < GEMM_NR; j++)
                bp[k * GEMM_NR + j] = 0.0f;
        for (int64_t j = 0; j < nr; j++) {
            const float *row = B + (j0 + j) * ldb + k0;
            for (int64_t k = 0; k < kc; k++)
                bp[k * GEMM_NR + j] = row[k];
        }
        return;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *row = B + (k0 + k) * ldb + j0;
        float *dst = bp + k * GEMM_NR;
        if (nr == GEMM_NR) {
            for (int j = 0; j < GEMM_NR; j++)
                dst[j] = row[j];
            continue;
        }
        int64_t j = 0;
        for (; j < nr; j++)
            dst[j] = row[j];
        for (; j < GEMM_NR; j++)
            dst[j] = 0.0f;
    }
}

/* The AVX-512 kernel's register tiles (gemm_rows_avx512): the rows of the
 * tile that starts at row i of a block of M rows. Tiles of
 * GEMM_MR_AVX512 rows, then the rest (with the last full tile when the
 * rest is 1 to 4 rows) as one tile of up to 11 rows or two of near-equal
 * size. */
#define GEMM_MR_AVX512 12
static int64_t gemm_tile_rows(int64_t M, int64_t i)
{
    int64_t r = M % GEMM_MR_AVX512;
    int64_t rest = M > GEMM_MR_AVX512 && r >= 1 && r <= 4 ? GEMM_MR_AVX512 + r : r;
    if (i < M - rest)
        return GEMM_MR_AVX512;
    int64_t first = rest >= GEMM_MR_AVX512 ? (rest + 1) / 2 : rest;
    return i == M - rest ? first : rest - first;
}

/* The AVX2 kernel's register tiles (gemm_panel_avx2): GEMM_MR rows, then
 * the rest. */
static int64_t gemm_tile_rows_avx2(int64_t M, int64_t i)
{
    return M - i < GEMM_MR ? M - i : GEMM_MR;
}

/* op(A) = A^T [M,K] (a 1x1 convolution's input: element (i, k) at
 * A[k*lda + i]) packed tile by tile as the kernel at level isa takes them
 * (gemm_tile_rows_avx2, gemm_tile_rows): the tile of mr rows from row i
 * at ap + i*K as [K][mr], M*K floats in all, so that a tile reads one run
 * of floats rather than a cache line per row of K. */
static void gemm_pack_at_tiles(int isa, const float *A, int64_t lda, int64_t M, int64_t K,
                               float *ap)
{
    for (int64_t i = 0, mr; i < M; i += mr) {
        mr = isa == LOOMRT_ISA_AVX2 ? gemm_tile_rows_avx2(M, i) : gemm_tile_rows(M, i);
        float *d = ap + i * K;
        for (int64_t k = 0; k < K; k++, d += mr)
            for (int64_t r = 0; r < mr; r++)
                d[r] = A[k * lda + i + r];
    }
}

LOOMRT_API int64_t loomrt_sgemm_packed_size(int64_t N, int64_t K)
{
    return (N + GEMM_NR - 1) / GEMM_NR * GEMM_NR * K;
}

LOOMRT_API void loomrt_sgemm_pack_b(int transB, int64_t N, int64_t K, const float *B, int64_t ldb,
                                    float *Bp)
{
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NR)
        gemm_pack_panel(B, ldb, transB, 0, K, j0, N - j0 < GEMM_NR ? N - j0 : GEMM_NR,
                        Bp + j0 * K);
}

/* C[M,N] = beta * C (0 when beta is 0, whatever C held): the K == 0 case. */
static void gemm_scale(int64_t M, int64_t N, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* C[i,j] = alpha * acc[i][j] + beta * C[i,j] for C transposed (stored
 * [N, M], element (i, j) at c[j * ldc + i]), acc rows w floats apart:
 * through memory, scalar (the portable kernel; the AVX-512 and AVX2
 * kernels transpose their tiles in registers, a5_out_t and a2_out_t). */
static void gemm_out_t(int mr, const float *acc, int w, const gemm_blk *g, int64_t i0)
{
    float *c = g->c + i0;
    for (int64_t j = 0; j < g->nr; j++)
        for (int i = 0; i < mr; i++) {
            float v = g->alpha * acc[i * w + j], *p = c + j * g->ldc + i;
            *p = g->beta == 0.0f ? v : v + g->beta * *p;
        }
}

/* The epilogue of the rows [i0, i0 + mr) of block g's tile, as stored
 * rows of C: rows of the product, or its columns when ctr. */
static void gemm_epi_tile(const gemm_blk *g, int64_t i0, int64_t mr)
{
    const gemm_epi *e = g->epi;
    const float *bias = e->bias ? e->bias + g->j0 * e->cs : NULL;
    const float *res = e->res ? e->res + g->coff : NULL;
    if (!g->ctr) {
        for (int64_t i = i0; i < i0 + mr; i++)
            loomrt_epi_run(g->c + i * g->ldc, g->nr, bias ? bias + i * e->rs : NULL, e->cs,
                           res ? res + i * g->ldc : NULL, e->act, e->alpha, e->beta);
        return;
    }
    for (int64_t j = 0; j < g->nr; j++)
        loomrt_epi_run(g->c + j * g->ldc + i0, mr, bias ? bias + j * e->cs + i0 * e->rs : NULL,
                       e->rs, res ? res + j * g->ldc + i0 : NULL, e->act, e->alpha, e->beta);
}

/* The epilogue over all of C [M, N] (stored [N, M] when ctr). */
static void gemm_epi_all(const gemm_epi *e, int64_t M, int64_t N, float *C, int64_t ldc, int ctr)
{
    if (!e)
        return;
    gemm_blk g = {.nr = N, .c = C, .ldc = ldc, .ctr = ctr, .epi = e};
    gemm_epi_tile(&g, 0, M);
}

/* Whether the vector kernels apply e's bias and residual in registers:
 * a bias along rows or columns (cs 0 or 1); the activations up to Clip go
 * in registers too, the others over the stored tile (gemm_epi_rest). */
static int gemm_epi_vec(const gemm_blk *g)
{
    return g->epi && !g->ctr && (g->epi->cs == 0 || g->epi->cs == 1);
}

/* The same for C transposed (the AVX-512 kernel's transposed stores): a
 * bias along the stored columns or rows (rs 0 or 1). */
static int gemm_epi_vec_t(const gemm_blk *g)
{
    return g->epi && g->ctr && (g->epi->rs == 0 || g->epi->rs == 1);
}

/* What a register epilogue left (in_regs: the tile got bias, residual and
 * the activations up to Clip in registers, as gemm_epi_vec or
 * gemm_epi_vec_t allow): the activations past Clip over the stored tile
 * rows [i0, i0 + mr), or everything when the tile got none in registers. */
static void gemm_epi_rest(const gemm_blk *g, int64_t i0, int64_t mr, int in_regs)
{
    if (!g->epi)
        return;
    if (!in_regs) {
        gemm_epi_tile(g, i0, mr);
        return;
    }
    if (g->epi->act <= LOOMRT_ACT_CLIP)
        return;
    gemm_epi act = {.act = g->epi->act, .alpha = g->epi->alpha, .beta = g->epi->beta};
    gemm_blk t = *g;
    t.epi = &act;
    gemm_epi_tile(&t, i0, mr);
}

/* The vector tiles' common output (A2_OUT_FAST, A5_OUT_FAST): a whole
 * panel of `full` columns, alpha 1, beta 0, a bias per row or per column
 * or none, a residual or none, an activation up to Clip. Its epilogue's
 * fields are read once per tile into a local gemm_fast: read through
 * g->epi for every vector, GCC reloaded them each time (a 64 x 3025 x 16
 * product with bias and Relu took 85 us on Zen 4 with AVX-512, 66
 * without them, then 63; 151, 86, then 97 on Zen 3 with AVX2). */
typedef struct gemm_fast {
    const float *brow; /* the bias per row (brs apart), or NULL */
    const float *bcol; /* the bias per column, from the tile's first, or NULL */
    const float *rr;   /* the residual at the tile's first row (as c), or NULL */
    int64_t brs;
} gemm_fast;

/* Whether rows from i0 of block g's tile take that output (f then set). */
static inline int gemm_fast_of(const gemm_blk *g, int64_t i0, int64_t full, gemm_fast *f)
{
    const gemm_epi *e = g->epi;
    if (g->nr != full || g->alpha != 1.0f || g->beta != 0.0f ||
        (e && ((e->bias && e->cs != 0 && !(e->cs == 1 && e->rs == 0)) ||
               e->act > LOOMRT_ACT_CLIP)))
        return 0;
    f->brow = e && e->bias && e->cs == 0 ? e->bias : NULL;
    f->bcol = e && e->bias && e->cs == 1 ? e->bias + g->j0 : NULL;
    f->rr = e && e->res ? e->res + g->coff + i0 * g->ldc : NULL;
    f->brs = e ? e->rs : 0;
    return 1;
}

/* ---- portable kernels (plain C the compiler vectorizes) ---- */

/* On x86 these run only on CPUs without AVX2 (or when forced): compiled
 * for size there (GCC's cold), which keeps the runtime, compiled with
 * every model, quick to build. */
#ifdef LOOMRT_X86
#define PORT_FN static __attribute__((cold))
#else
#define PORT_FN static
#endif

/* Rows [i0, i0 + mr) of the block, mr <= GEMM_MR, nr <= 16; mr is a
 * constant after inlining, so the row loop unrolls and acc can live in
 * vector registers. */
GEMM_INLINE void gemm_tile_c(int mr, const gemm_blk *g, int64_t i0)
{
    float acc[GEMM_MR][GEMM_NR] = {{0}};
    const float *a = g->a + i0 * g->rt, *bk = g->b;
    int64_t rs = g->rs, cs = g->cs, bs = g->bs, kc = g->kc;
    for (int64_t k = 0; k < kc; k++, bk += bs)
        for (int i = 0; i < mr; i++) {
            float ai = a[i * rs + k * cs];
            for (int j = 0; j < GEMM_NR; j++)
                acc[i][j] += ai * bk[j];
        }
    if (g->ctr) {
        gemm_out_t(mr, &acc[0][0], GEMM_NR, g, i0);
    } else {
        for (int i = 0; i < mr; i++)
            for (int64_t j = 0; j < g->nr; j++) {
                float *cij = g->c + (i0 + i) * g->ldc + j;
                *cij = g->beta == 0.0f ? g->alpha * acc[i][j]
                                       : g->alpha * acc[i][j] + g->beta * *cij;
            }
    }
    if (g->epi)
        gemm_epi_tile(g, i0, mr);
}

PORT_FN void gemm_panel_c(int64_t M, const gemm_blk *g)
{
    int64_t i = 0;
    for (; i + GEMM_MR <= M; i += GEMM_MR)
        gemm_tile_c(GEMM_MR, g, i);
    if (i < M) /* one generic instance for the last rows */
        gemm_tile_c((int)(M - i), g, i);
}

#define DOT_LANES 16

/* sum_k a[k] * b[k] with DOT_LANES partial sums so the loop vectorizes
 * without reassociating one sum. */
PORT_FN float gemv_dot_c(int64_t K, const float *a, const float *b)
{
    float acc[DOT_LANES] = {0};
    int64_t k = 0;
    for (; k + DOT_LANES <= K; k += DOT_LANES)
        for (int u = 0; u < DOT_LANES; u++)
            acc[u] += a[k + u] * b[k + u];
    for (int u = 0; u < K - k; u++) /* fewer than DOT_LANES left */
        acc[u] += a[k + u] * b[k + u];
    float s = 0.0f;
    for (int u = 0; u < DOT_LANES; u++)
        s += acc[u];
    return s;
}

/* c[0:N] = alpha * B a + beta * c for B stored [N,K] (a contiguous). */
PORT_FN void gemv_t_c(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                     int64_t ldb, float beta, float *c)
{
    for (int64_t j = 0; j < N; j++) {
        float s = alpha * gemv_dot_c(K, a, B + j * ldb);
        c[j] = beta == 0.0f ? s : s + beta * c[j];
    }
}

/* c[0:N] = alpha * a B + beta * c for B stored [K,N], in column blocks
 * of 64 accumulated in a local array. */
PORT_FN void gemv_n_c(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                     const float *B, int64_t ldb, float beta, float *c)
{
    for (int64_t j0 = 0; j0 < N; j0 += 64) {
        int64_t n = N - j0 < 64 ? N - j0 : 64;
        float acc[64] = {0};
        for (int64_t k = 0; k < K; k++) {
            float ak = a[k * sa];
            const float *b = B + k * ldb + j0;
            for (int64_t j = 0; j < n; j++)
                acc[j] += ak * b[j];
        }
        for (int64_t j = 0; j < n; j++)
            c[j0 + j] = beta == 0.0f ? alpha * acc[j] : alpha * acc[j] + beta * c[j0 + j];
    }
}

/* c[0:N] = alpha * a B + beta * c with B packed. */
PORT_FN void gemv_p_c(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                     const float *Bp, float beta, float *c)
{
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NR) {
        int64_t n = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
        const float *bp = Bp + j0 * K;
        float acc[GEMM_NR] = {0};
        for (int64_t k = 0; k < K; k++)
            for (int j = 0; j < GEMM_NR; j++)
                acc[j] += a[k * sa] * bp[k * GEMM_NR + j];
        for (int64_t j = 0; j < n; j++)
            c[j0 + j] = beta == 0.0f ? alpha * acc[j] : alpha * acc[j] + beta * c[j0 + j];
    }
}

#ifdef LOOMRT_X86

/* ---- AVX2 + FMA kernels ---- */

#define A2_INLINE GEMM_INLINE LOOMRT_TARGET_AVX2
#define A2_FN static LOOMRT_TARGET_AVX2

/* e's activation (e NULL: none), passed by value so that its fields stay
 * in registers. */
A2_INLINE loomrt_act8_t a2_act_of(const gemm_epi *e)
{
    return e ? loomrt_act8_of(e->act, e->alpha, e->beta)
             : loomrt_act8_of(LOOMRT_ACT_NONE, 0.0f, 0.0f);
}

/* v + the bias and residual of columns [j, j + 8) of row i of block g's
 * tile (n lanes valid), then the activation act (a2_act_of(g->epi), made
 * once per tile; gemm_epi_vec). */
A2_INLINE __m256 a2_epi(const gemm_blk *g, loomrt_act8_t act, __m256 v, int64_t i, int64_t j,
                        int64_t n)
{
    const gemm_epi *e = g->epi;
    __m256i m = loomrt_mask8(n);
    if (e->bias) {
        const float *b = e->bias + (g->j0 + j) * e->cs + i * e->rs;
        v = _mm256_add_ps(v, e->cs ? _mm256_maskload_ps(b, m) : _mm256_broadcast_ss(b));
    }
    if (e->res)
        v = _mm256_add_ps(v, _mm256_maskload_ps(e->res + g->coff + i * g->ldc + j, m));
    return loomrt_act8(v, act);
}

/* c[0:n) = alpha * acc + beta * c (beta 0: c not read), n <= 8, then
 * with eg the register epilogue of row i, columns from j (its activation
 * act). A partial
 * vector goes through a scalar tail: masked stores are microcoded on AMD
 * CPUs. */
A2_INLINE void gemm_out8e(float *c, __m256 acc, int64_t n, __m256 va, __m256 vb, int beta0,
                          const gemm_blk *eg, loomrt_act8_t act, int64_t i, int64_t j)
{
    __m256 v = _mm256_mul_ps(acc, va);
    if (n >= 8) {
        if (!beta0)
            v = _mm256_fmadd_ps(_mm256_loadu_ps(c), vb, v);
        if (eg)
            v = a2_epi(eg, act, v, i, j, 8);
        _mm256_storeu_ps(c, v);
    } else if (n > 0) {
        if (!beta0)
            v = _mm256_fmadd_ps(_mm256_maskload_ps(c, loomrt_mask8(n)), vb, v);
        if (eg)
            v = a2_epi(eg, act, v, i, j, n);
        GEMM_ALIGNED float t[8];
        _mm256_store_ps(t, v);
        for (int l = 0; l < 8 && l < n; l++)
            c[l] = t[l];
    }
}

A2_INLINE void gemm_out8(float *c, __m256 acc, int64_t n, __m256 va, __m256 vb, int beta0)
{
    gemm_out8e(c, acc, n, va, vb, beta0, NULL, a2_act_of(NULL), 0, 0);
}

/* Rows [i0, i0 + mr) of block g's tile stored transposed (g->ctr: C^T,
 * element (i, j) at c[j * ldc + i]), lo[i] and hi[i] row i's columns
 * [0, 8) and [8, 16), rows past mr zero: two 8 x 8 transposes make each
 * column one vector of the mr rows, which gets alpha, beta and the
 * register epilogue (gemm_epi_vec_t) and is stored by plain stores. It
 * was a scalar copy through memory and an epilogue call per column: on
 * Zen 3, 49 x 1280 x 320 C^T with bias and Clip (mobilenet_v2's last
 * 1x1 convolution) 564 -> 461 us, against 436 for C. */
A2_INLINE void a2_out_t(const gemm_blk *g, int64_t i0, int mr, __m256 *lo, __m256 *hi)
{
    loomrt_tr8(lo);
    loomrt_tr8(hi);
    __m256i m = loomrt_mask8(mr);
    __m256 va = _mm256_set1_ps(g->alpha), vb = _mm256_set1_ps(g->beta);
    const gemm_epi *e = gemm_epi_vec_t(g) ? g->epi : NULL;
    loomrt_act8_t act = a2_act_of(e);
    float *c = g->c + i0;
    for (int64_t j = 0; j < g->nr; j++, c += g->ldc) {
        __m256 v = j < 8 ? lo[j] : hi[j - 8];
        if (g->alpha != 1.0f)
            v = _mm256_mul_ps(v, va);
        if (g->beta != 0.0f)
            v = _mm256_fmadd_ps(_mm256_maskload_ps(c, m), vb, v);
        if (e) {
            if (e->bias) {
                const float *b = e->bias + (g->j0 + j) * e->cs + i0 * e->rs;
                v = _mm256_add_ps(v, e->rs ? _mm256_maskload_ps(b, m) : _mm256_broadcast_ss(b));
            }
            if (e->res)
                v = _mm256_add_ps(v, _mm256_maskload_ps(e->res + g->coff + (c - g->c), m));
            v = loomrt_act8(v, act);
        }
        loomrt_store8n(c, v, mr);
    }
}

/* Rows of K ahead at which the AVX2 and AVX-512 tiles prefetch op(A) when
 * it is A^T read in place (rs 1, the transposed form of a 1x1 convolution
 * or of an unfolded image: each row of K is in another cache line, a
 * stride the hardware prefetchers follow late). On Zen 3, AVX2, A^T and
 * C^T (us): 49 x 1280 x 320 590 -> 546, 49 x 160 x 960 212 -> 196, 196 x
 * 96 x 576 256 -> 240, 3136 x 24 x 144 378 -> 347 (A and C: 437, 159,
 * 225, 328). On the Xeon, AVX-512, one thread, best of 300, caches
 * evicted before each / warm: 196 x 96 x 576 172 -> 144 / 139 -> 134, 49
 * x 1280 x 320 306 -> 289 / 282 -> 267-273; in the models
 * (bench/ab_builds.py --openblas) mobilenet_v2's 14x14 projections on two
 * threads 20-35 us less each (the model 0.97), resnet18's layer4 on one
 * 30-60 us less a layer (0.99). */
#define GEMM_PF_A 8

/* Rows [i0, i0 + mr) of the block, mr <= 6, nr <= 16: the accumulators in
 * named registers (arrays may be left in memory when the compiler does not
 * unroll the row loops; mr is a constant after inlining, so the `mr > i`
 * tests fold). */
#define A2_FMA_ROW(i)                                                      \
    if (mr > i) {                                                          \
        __m256 ai = _mm256_broadcast_ss(a + i * rs + k * cs);              \
        x##i##0 = _mm256_fmadd_ps(ai, b0, x##i##0);                        \
        x##i##1 = _mm256_fmadd_ps(ai, b1, x##i##1);                        \
    }
/* Row i out when the tile's output is a whole panel (gemm_fast_of, f):
 * the bias per row or per column (its vectors bc0, bc1) or none, the
 * residual or none, then act (loomrt_act8_t); other outputs go through
 * a2_tile_out. */
#define A2_OUT_FAST(i)                                                     \
    if (mr > i) {                                                          \
        __m256 fa = x##i##0, fb = x##i##1;                                 \
        if (f.brow) {                                                      \
            __m256 bi = _mm256_broadcast_ss(f.brow + (i0 + i) * f.brs);    \
            fa = _mm256_add_ps(fa, bi);                                    \
            fb = _mm256_add_ps(fb, bi);                                    \
        } else if (f.bcol) {                                               \
            fa = _mm256_add_ps(fa, bc0);                                   \
            fb = _mm256_add_ps(fb, bc1);                                   \
        }                                                                  \
        if (f.rr) {                                                        \
            fa = _mm256_add_ps(fa, _mm256_loadu_ps(f.rr + i * ldc));       \
            fb = _mm256_add_ps(fb, _mm256_loadu_ps(f.rr + i * ldc + 8));   \
        }                                                                  \
        _mm256_storeu_ps(c + i * ldc, loomrt_act8(fa, act));               \
        _mm256_storeu_ps(c + i * ldc + 8, loomrt_act8(fb, act));           \
    }
#define A2_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5)

/* The tile's rows [i0, i0 + mr) out of x (row i's two halves in x[2 i]
 * and x[2 i + 1]) where the output is not A2_OUT_FAST's: C stored
 * transposed (g->ctr), or alpha, beta, a partial panel or an epilogue
 * the registers do not take; one function for the tile's instances (as
 * a5_tile_out). */
A2_FN __attribute__((noinline)) void a2_tile_out(const gemm_blk *g, int64_t i0, int mr,
                                                 const __m256 *x)
{
    if (g->ctr) {
        __m256 lo[8], hi[8];
        for (int i = 0; i < 8; i++) {
            lo[i] = i < mr ? x[2 * i] : _mm256_setzero_ps();
            hi[i] = i < mr ? x[2 * i + 1] : _mm256_setzero_ps();
        }
        a2_out_t(g, i0, mr, lo, hi);
        gemm_epi_rest(g, i0, mr, gemm_epi_vec_t(g));
        return;
    }
    float *c = g->c + i0 * g->ldc;
    int64_t ldc = g->ldc, nr = g->nr;
    __m256 va = _mm256_set1_ps(g->alpha), vb = _mm256_set1_ps(g->beta);
    int beta0 = g->beta == 0.0f;
    const gemm_blk *eg = gemm_epi_vec(g) ? g : NULL;
    loomrt_act8_t act = a2_act_of(eg ? g->epi : NULL);
    for (int i = 0; i < mr; i++) {
        gemm_out8e(c + i * ldc, x[2 * i], nr, va, vb, beta0, eg, act, i0 + i, 0);
        gemm_out8e(c + i * ldc + 8, x[2 * i + 1], nr - 8, va, vb, beta0, eg, act, i0 + i, 8);
    }
    gemm_epi_rest(g, i0, mr, gemm_epi_vec(g));
}

/* Row i's accumulators into x[2 i] and x[2 i + 1] (a2_tile_out). */
#define A2_SAVE_ROW(i)                                                     \
    if (mr > i) {                                                          \
        x[2 * i] = x##i##0;                                                \
        x[2 * i + 1] = x##i##1;                                            \
    }

A2_INLINE void gemm_tile_avx2(int mr, const gemm_blk *g, int64_t i0)
{
    const float *a = g->a + i0 * g->rt + (g->tiled ? g->ko * mr : 0), *bp = g->b;
    int64_t rs = g->tiled ? 1 : g->rs, cs = g->tiled ? mr : g->cs, bs = g->bs, kc = g->kc;
    __m256 x00 = _mm256_setzero_ps(), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00;
    __m256 x30 = x00, x31 = x00, x40 = x00, x41 = x00, x50 = x00, x51 = x00;
    int64_t pcs = rs == 1 ? cs : 0; /* A^T: prefetched (GEMM_PF_A); else pa stays put */
    const float *pa = a + GEMM_PF_A * pcs;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(bp + k * bs), b1 = _mm256_loadu_ps(bp + k * bs + 8);
        _mm_prefetch((const char *)(pa + k * pcs), _MM_HINT_T0);
        A2_ROWS(A2_FMA_ROW)
    }
    gemm_fast f;
    if (!g->ctr && gemm_fast_of(g, i0, GEMM_NR, &f)) {
        float *c = g->c + i0 * g->ldc;
        int64_t ldc = g->ldc;
        loomrt_act8_t act = a2_act_of(g->epi);
        __m256 bc0 = _mm256_setzero_ps(), bc1 = bc0;
        if (f.bcol) {
            bc0 = _mm256_loadu_ps(f.bcol);
            bc1 = _mm256_loadu_ps(f.bcol + 8);
        }
        A2_ROWS(A2_OUT_FAST)
        return;
    }
    GEMM_ALIGNED __m256 x[2 * GEMM_MR];
    A2_ROWS(A2_SAVE_ROW)
    a2_tile_out(g, i0, mr, x);
}

A2_FN void gemm_panel_avx2(int64_t M, const gemm_blk *g)
{
    int64_t i = 0;
    for (; i + GEMM_MR <= M; i += GEMM_MR) /* as gemm_tile_rows_avx2 */
        gemm_tile_avx2(GEMM_MR, g, i);
    switch (M - i) {
    case 1: gemm_tile_avx2(1, g, i); break;
    case 2: gemm_tile_avx2(2, g, i); break;
    case 3: gemm_tile_avx2(3, g, i); break;
    case 4: gemm_tile_avx2(4, g, i); break;
    case 5: gemm_tile_avx2(5, g, i); break;
    default: break;
    }
}

/* Sum of each of x[0..8) in one vector, lane r = sum of x[r]. */
A2_INLINE __m256 gemm_hsum8(const __m256 *x)
{
    __m256 s01 = _mm256_hadd_ps(x[0], x[1]), s23 = _mm256_hadd_ps(x[2], x[3]);
    __m256 s45 = _mm256_hadd_ps(x[4], x[5]), s67 = _mm256_hadd_ps(x[6], x[7]);
    __m256 lo4 = _mm256_hadd_ps(s01, s23), hi4 = _mm256_hadd_ps(s45, s67);
    return _mm256_add_ps(_mm256_permute2f128_ps(lo4, hi4, 0x20),
                         _mm256_permute2f128_ps(lo4, hi4, 0x31));
}

A2_INLINE float gemm_hsum(__m256 x)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* c[0:8) = alpha * (B[0:8, :] . a) + beta * c for 8 rows of B [.,K]. */
A2_FN void gemv_t8_avx2(int64_t K, float alpha, const float *a, const float *B, int64_t ldb,
                        float beta, float *c)
{
    __m256 x[8];
    for (int r = 0; r < 8; r++)
        x[r] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 av = _mm256_loadu_ps(a + k);
        for (int r = 0; r < 8; r++)
            x[r] = _mm256_fmadd_ps(av, _mm256_loadu_ps(B + r * ldb + k), x[r]);
    }
    if (k < K) {
        __m256i m = loomrt_mask8(K - k);
        __m256 av = _mm256_maskload_ps(a + k, m);
        for (int r = 0; r < 8; r++)
            x[r] = _mm256_fmadd_ps(av, _mm256_maskload_ps(B + r * ldb + k, m), x[r]);
    }
    gemm_out8(c, gemm_hsum8(x), 8, _mm256_set1_ps(alpha), _mm256_set1_ps(beta), beta == 0.0f);
}

/* One dot product a . b over K, four accumulators. */
A2_FN float gemv_dot_avx2(int64_t K, const float *a, const float *b)
{
    __m256 x0 = _mm256_setzero_ps(), x1 = x0, x2 = x0, x3 = x0;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        x0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), x0);
        x1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), x1);
        x2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 16), _mm256_loadu_ps(b + k + 16), x2);
        x3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 24), _mm256_loadu_ps(b + k + 24), x3);
    }
    for (; k + 8 <= K; k += 8)
        x0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), x0);
    if (k < K) {
        __m256i m = loomrt_mask8(K - k);
        x1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m), _mm256_maskload_ps(b + k, m), x1);
    }
    return gemm_hsum(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)));
}

/* c[0:N] = alpha * B a + beta * c for B stored [N,K] (a contiguous). */
A2_FN void gemv_t_avx2(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                       int64_t ldb, float beta, float *c)
{
    int64_t j = 0;
    for (; j + 8 <= N; j += 8)
        gemv_t8_avx2(K, alpha, a, B + j * ldb, ldb, beta, c + j);
    for (; j < N; j++) {
        float s = alpha * gemv_dot_avx2(K, a, B + j * ldb);
        c[j] = beta == 0.0f ? s : s + beta * c[j];
    }
}

/* c[0:n) = alpha * a B + beta * c over nq column groups of 8 (the last
 * with nq * 8 - n lanes masked off) of B [K, .], row stride ldb, a[k]
 * at a[k * sa]. The nq accumulators stay in registers (nq a constant). */
A2_INLINE void gemv_n_cols(int nq, int64_t n, int64_t K, float alpha, const float *a, int64_t sa,
                           const float *B, int64_t ldb, float beta, float *c)
{
    __m256 x[8];
    __m256i m = loomrt_mask8(n - (nq - 1) * 8);
    for (int q = 0; q < 8; q++)
        x[q] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m256 ak = _mm256_broadcast_ss(a + k * sa);
        const float *b = B + k * ldb;
        for (int q = 0; q < nq - 1; q++)
            x[q] = _mm256_fmadd_ps(ak, _mm256_loadu_ps(b + 8 * q), x[q]);
        __m256 last = n == nq * 8 ? _mm256_loadu_ps(b + 8 * (nq - 1))
                                  : _mm256_maskload_ps(b + 8 * (nq - 1), m);
        x[nq - 1] = _mm256_fmadd_ps(ak, last, x[nq - 1]);
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int q = 0; q < nq; q++)
        gemm_out8(c + 8 * q, x[q], n - 8 * q, va, vb, beta == 0.0f);
}

/* c[0:N] = alpha * a B + beta * c for B stored [K,N]. */
A2_FN void gemv_n_avx2(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                       const float *B, int64_t ldb, float beta, float *c)
{
    int64_t j = 0;
    for (; j + 64 <= N; j += 64)
        gemv_n_cols(8, 64, K, alpha, a, sa, B + j, ldb, beta, c + j);
    int64_t n = N - j;
    switch ((n + 7) / 8) {
    case 1: gemv_n_cols(1, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 2: gemv_n_cols(2, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 3: gemv_n_cols(3, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 4: gemv_n_cols(4, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 5: gemv_n_cols(5, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 6: gemv_n_cols(6, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 7: gemv_n_cols(7, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 8: gemv_n_cols(8, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    default: break;
    }
}

/* x[0:2 np) += ak * one row of np packed panels (b, panel stride ps). */
A2_INLINE void gemv_p_row(int np, __m256 ak, const float *b, int64_t ps, __m256 *x)
{
    for (int p = 0; p < np; p++) {
        x[2 * p] = _mm256_fmadd_ps(ak, _mm256_loadu_ps(b + p * ps), x[2 * p]);
        x[2 * p + 1] = _mm256_fmadd_ps(ak, _mm256_loadu_ps(b + p * ps + 8), x[2 * p + 1]);
    }
}

/* c[0:n) = alpha * a Bp + beta * c over np <= 4 packed panels from bp
 * (panel stride ps), n <= 16 * np (np a constant after inlining). Each
 * column's sum is one chain over K whatever np is, so that it does not
 * depend on how a product's columns are grouped (threads or Winograd's
 * slots split it at any panel). Four panels keep 8 chains in flight;
 * fewer wait on the FMA's latency (16 x 512 0.43 -> 0.75 us on the Xeon
 * against two partial sums per column), but two sums in blocks of two
 * panels ran the blocks 8-10% slower (1000 x 512, 512 x 128: a broadcast
 * load for every 4 FMAs, not 8), and blocks of 5 or 6 panels slower
 * still (more streams of B). */
A2_INLINE void gemv_p_cols(int np, int64_t n, int64_t K, float alpha, const float *a, int64_t sa,
                           const float *bp, int64_t ps, float beta, float *c)
{
    const int nv = 2 * np;
    __m256 x[8];
    for (int q = 0; q < nv; q++)
        x[q] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++)
        gemv_p_row(np, _mm256_broadcast_ss(a + k * sa), bp + k * GEMM_NR, ps, x);
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int q = 0; q < nv; q++)
        gemm_out8(c + 8 * q, x[q], n - 8 * q, va, vb, beta == 0.0f);
}

/* c[0:N] = alpha * a B + beta * c with B packed: blocks of 4 panels, then
 * the 1 to 4 panels left (49 to 63 columns need all 4). */
A2_FN void gemv_p_avx2(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                       const float *Bp, float beta, float *c)
{
    int64_t j = 0, ps = K * GEMM_NR;
    for (; j + 4 * GEMM_NR <= N; j += 4 * GEMM_NR)
        gemv_p_cols(4, 4 * GEMM_NR, K, alpha, a, sa, Bp + j * K, ps, beta, c + j);
    int64_t n = N - j;
    const float *bp = Bp + j * K;
    switch ((n + GEMM_NR - 1) / GEMM_NR) {
    case 1: gemv_p_cols(1, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 2: gemv_p_cols(2, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 3: gemv_p_cols(3, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 4: gemv_p_cols(4, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    default: break; /* n == 0 */
    }
}

/* ---- AVX-512 kernels ---- */

#define A5_INLINE GEMM_INLINE LOOMRT_TARGET_AVX512
#define A5_FN static LOOMRT_TARGET_AVX512
#define A5_MR GEMM_MR_AVX512

/* e's activation (e NULL: none), as a2_act_of. */
A5_INLINE loomrt_act16_t a5_act_of(const gemm_epi *e)
{
    return e ? loomrt_act16_of(e->act, e->alpha, e->beta)
             : loomrt_act16_of(LOOMRT_ACT_NONE, 0.0f, 0.0f);
}

/* a2_epi for 16 lanes with what it reads of the epilogue hoisted out of
 * the tile's rows: bias and residual origins, the activation. */
typedef struct a5_epi_t {
    const float *bias, *res;
    int64_t rs, ldr;
    int cs;
    loomrt_act16_t act;
} a5_epi_t;

A5_INLINE void a5_epi_init(a5_epi_t *t, const gemm_blk *g)
{
    const gemm_epi *e = g->epi;
    t->bias = e->bias ? e->bias + g->j0 * e->cs : NULL;
    t->res = e->res ? e->res + g->coff : NULL;
    /* C stored transposed: a stored row is a column of the product, the
     * bias steps by cs from one to the next and runs along it by rs */
    t->rs = g->ctr ? e->cs : e->rs;
    t->ldr = g->ldc;
    t->cs = (g->ctr ? e->rs : e->cs) != 0;
    t->act = a5_act_of(e);
}

/* v of columns [j, j + 16) of row i of the tile, m the valid lanes. */
A5_INLINE __m512 a5_epi(const a5_epi_t *t, __m512 v, int64_t i, int64_t j, __mmask16 m)
{
    if (t->bias) {
        const float *b = t->bias + i * t->rs;
        v = _mm512_add_ps(v, t->cs ? _mm512_maskz_loadu_ps(m, b + j) : _mm512_set1_ps(*b));
    }
    if (t->res)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, t->res + i * t->ldr + j));
    return loomrt_act16(v, t->act);
}

/* c[0:n) = alpha * acc + beta * c (beta 0: c not read), n <= 16, lanes
 * past n neither read nor written; with eg the register epilogue of row
 * i, columns from j. A full vector is stored unmasked, so that a later
 * load of it is forwarded from the store. */
A5_INLINE void gemm_out16(float *c, __m512 acc, int64_t n, __m512 va, __m512 vb, int beta0,
                          const a5_epi_t *eg, int64_t i, int64_t j)
{
    if (n <= 0)
        return;
    __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    __m512 v = _mm512_mul_ps(acc, va);
    if (!beta0)
        v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, c), vb, v);
    if (eg)
        v = a5_epi(eg, v, i, j, m);
    if (n >= 16)
        _mm512_storeu_ps(c, v);
    else
        _mm512_mask_storeu_ps(c, m, v);
}

/* Rows [i0, i0 + mr) of the block, mr <= 12, over np panels of 16
 * columns (np 2: 16 < nr <= 32, np 1: nr <= 16); mr and np are constants
 * after inlining. */
#define A5_FMA_ROW(i)                                                      \
    if (mr > i) {                                                          \
        __m512 ai = _mm512_set1_ps(ak[i * rs]);                            \
        x##i##a = _mm512_fmadd_ps(ai, b0, x##i##a);                        \
        if (np > 1)                                                        \
            x##i##b = _mm512_fmadd_ps(ai, b1, x##i##b);                    \
    }
/* Row i out when the tile's output is whole rows of np panels
 * (gemm_fast_of, f): the bias per row or per column (its vectors bc0, bc1
 * for the tile's two panels) or none, the residual or none, then act
 * (loomrt_act16_t); other outputs go through a5_tile_out. */
#define A5_OUT_FAST(i)                                                     \
    if (mr > i) {                                                          \
        __m512 ya = x##i##a, yb = x##i##b;                                 \
        if (f.brow) {                                                      \
            __m512 bi = _mm512_set1_ps(f.brow[(i0 + i) * f.brs]);          \
            ya = _mm512_add_ps(ya, bi);                                    \
            yb = _mm512_add_ps(yb, bi);                                    \
        } else if (f.bcol) {                                               \
            ya = _mm512_add_ps(ya, bc0);                                   \
            yb = _mm512_add_ps(yb, bc1);                                   \
        }                                                                  \
        if (f.rr) {                                                        \
            ya = _mm512_add_ps(ya, _mm512_loadu_ps(f.rr + i * ldc));       \
            yb = _mm512_add_ps(yb, _mm512_loadu_ps(f.rr + i * ldc + 16 * (np > 1))); \
        }                                                                  \
        _mm512_storeu_ps(c + i * ldc, loomrt_act16(ya, act));              \
        if (np > 1)                                                        \
            _mm512_storeu_ps(c + i * ldc + 16, loomrt_act16(yb, act));     \
    }
#define A5_DECL_ROW(i) __m512 x##i##a = _mm512_setzero_ps(), x##i##b = x##i##a;
#define A5_ROWS(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)

/* Columns [jb, jb + n) of the tile for C stored transposed: r[j] lane i
 * holds C[i0 + i, jb + j], i < mr; alpha * r + beta * c, then the
 * register epilogue when gemm_epi_vec_t allows it, a vector of mr floats
 * per stored column. */
A5_INLINE void a5_out_t(const gemm_blk *g, int64_t i0, int mr, int64_t jb, int64_t n,
                        const __m512 *r)
{
    __mmask16 m = (__mmask16)((1u << mr) - 1);
    __m512 va = _mm512_set1_ps(g->alpha), vb = _mm512_set1_ps(g->beta);
    float *c = g->c + i0 + jb * g->ldc;
    const gemm_epi *e = g->epi;
    if (g->alpha == 1.0f && g->beta == 0.0f &&
        (!e || (gemm_epi_vec_t(g) && !e->res && (!e->bias || e->rs == 0) &&
                e->act <= LOOMRT_ACT_CLIP))) {
        /* as A5_OUT_FAST: a bias per column of the product (a scalar
         * per stored vector) or none, its fields read once; the tile's
         * gemm_epi_rest then has nothing left to do */
        const float *bias = e && e->bias ? e->bias + (g->j0 + jb) * e->cs : NULL;
        int64_t bcs = e ? e->cs : 0;
        loomrt_act16_t act = a5_act_of(e);
        for (int64_t j = 0; j < n; j++, c += g->ldc) {
            __m512 v = r[j];
            if (bias)
                v = _mm512_add_ps(v, _mm512_set1_ps(bias[j * bcs]));
            _mm512_mask_storeu_ps(c, m, loomrt_act16(v, act));
        }
        return;
    }
    a5_epi_t et;
    const a5_epi_t *eg = NULL;
    if (gemm_epi_vec_t(g)) {
        a5_epi_init(&et, g);
        eg = &et;
    }
    for (int64_t j = 0; j < n; j++, c += g->ldc) {
        __m512 v = _mm512_mul_ps(r[j], va);
        if (g->beta != 0.0f)
            v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, c), vb, v);
        if (eg)
            v = a5_epi(eg, v, jb + j, i0, m);
        _mm512_mask_storeu_ps(c, m, v);
    }
}

/* Row i's accumulators into x[2 i] and x[2 i + 1] (a5_tile_out). */
#define A5_SAVE_ROW(i)                                                     \
    if (mr > i) {                                                          \
        x[2 * i] = x##i##a;                                                \
        x[2 * i + 1] = x##i##b;                                            \
    }

/* The tile's rows [i0, i0 + mr) out of x (row i's panels in x[2 i] and
 * x[2 i + 1]) where the output is not A5_OUT_FAST's: C stored transposed
 * (g->ctr), or alpha, beta, a partial panel or an epilogue the registers
 * do not take. A function of its own, not a copy in each of the tile's
 * instances: with them inlined the tiles were 340 KB of code and most of
 * the runtime's build time. */
A5_FN __attribute__((noinline)) void a5_tile_out(const gemm_blk *g, int64_t i0, int mr, int np,
                                                 const __m512 *x)
{
    if (g->ctr) {
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < mr ? x[2 * i] : _mm512_setzero_ps();
        loomrt_tr16(r);
        a5_out_t(g, i0, mr, 0, g->nr < 16 ? g->nr : 16, r);
        if (np > 1 && g->nr > 16) {
            for (int i = 0; i < 16; i++)
                r[i] = i < mr ? x[2 * i + 1] : _mm512_setzero_ps();
            loomrt_tr16(r);
            a5_out_t(g, i0, mr, 16, g->nr - 16, r);
        }
        gemm_epi_rest(g, i0, mr, gemm_epi_vec_t(g));
        return;
    }
    float *c = g->c + i0 * g->ldc;
    int64_t ldc = g->ldc, nr = g->nr;
    __m512 va = _mm512_set1_ps(g->alpha), vb = _mm512_set1_ps(g->beta);
    int beta0 = g->beta == 0.0f;
    a5_epi_t et;
    const a5_epi_t *eg = NULL;
    if (gemm_epi_vec(g)) {
        a5_epi_init(&et, g);
        eg = &et;
    }
    for (int i = 0; i < mr; i++) {
        gemm_out16(c + i * ldc, x[2 * i], nr, va, vb, beta0, eg, i0 + i, 0);
        if (np > 1)
            gemm_out16(c + i * ldc + 16, x[2 * i + 1], nr - 16, va, vb, beta0, eg, i0 + i, 16);
    }
    gemm_epi_rest(g, i0, mr, gemm_epi_vec(g));
}

/* The tile of mr rows from row i0 over np panels (both constants after
 * inlining), C stored in place or transposed (g->ctr); with fetch the
 * next block's panels fetched ahead from g->pf; with g->pfc its rows'
 * lines of C there fetched for writing (GEMM_PFC_MIN). */
A5_INLINE void gemm_tile_avx512(int mr, int np, int fetch, const gemm_blk *g, int64_t i0)
{
    const float *a = g->a + i0 * g->rt + (g->tiled ? g->ko * mr : 0), *bp = g->b;
    int64_t rs = g->tiled ? 1 : g->rs, cs = g->tiled ? mr : g->cs;
    int64_t bs = g->bs, ps = g->ps, kc = g->kc;
    const float *pf = g->pf;
    int pfa = !g->tiled && g->rs == 1; /* A^T in place */
    A5_ROWS(A5_DECL_ROW)
    for (int64_t k = 0; k < kc; k++) {
        /* the rows' addresses from ak in each step: left to derive them
         * from the step before, GCC keeps all 12 in registers and reloads
         * the ones that do not fit from the stack in every step, four
         * loads more beside the 14 of the step (Zen 4: a 169 x 256 x 576
         * product 467 -> 449 us, 64 x 64 x 512 38.5 -> 37.3) */
        const float *ak = a + k * cs;
        GEMM_OPAQUE(ak);
        if (pfa) { /* the row's one or two lines (GEMM_PF_A) */
            GEMM_PREFETCH(ak + GEMM_PF_A * cs);
            GEMM_PREFETCH(ak + GEMM_PF_A * cs + mr - 1);
        }
        if (fetch) { /* the 32 floats' two or three lines */
            GEMM_PREFETCH(pf + k * bs);
            GEMM_PREFETCH(pf + k * bs + 16);
            GEMM_PREFETCH(pf + k * bs + 31);
        }
        __m512 b0 = _mm512_loadu_ps(bp + k * bs), b1 = b0;
        if (np > 1)
            b1 = _mm512_loadu_ps(bp + ps + k * bs);
        A5_ROWS(A5_FMA_ROW)
    }
    if (g->pfc)
        for (int r = 0; r < mr; r++) {
            __builtin_prefetch(g->pfc + (i0 + r) * g->ldc, 1, 3);
            __builtin_prefetch(g->pfc + (i0 + r) * g->ldc + 16, 1, 3);
            __builtin_prefetch(g->pfc + (i0 + r) * g->ldc + 31, 1, 3);
        }
    gemm_fast f;
    if (!g->ctr && gemm_fast_of(g, i0, 16 * np, &f)) {
        float *c = g->c + i0 * g->ldc;
        int64_t ldc = g->ldc;
        loomrt_act16_t act = a5_act_of(g->epi);
        __m512 bc0 = _mm512_setzero_ps(), bc1 = bc0;
        if (f.bcol) {
            bc0 = _mm512_loadu_ps(f.bcol);
            if (np > 1)
                bc1 = _mm512_loadu_ps(f.bcol + 16);
        }
        A5_ROWS(A5_OUT_FAST)
        return;
    }
    GEMM_ALIGNED __m512 x[2 * A5_MR];
    A5_ROWS(A5_SAVE_ROW)
    a5_tile_out(g, i0, mr, np, x);
}

/* The cases 1 to 10 of a switch on mr: the tile of that many rows over
 * np panels at row i0, fetching ahead with fetch (all constants after
 * inlining). */
#define A5_TILE_CASES(np, fetch, i0)                                       \
    case 1: gemm_tile_avx512(1, np, fetch, g, i0); break;                  \
    case 2: gemm_tile_avx512(2, np, fetch, g, i0); break;                  \
    case 3: gemm_tile_avx512(3, np, fetch, g, i0); break;                  \
    case 4: gemm_tile_avx512(4, np, fetch, g, i0); break;                  \
    case 5: gemm_tile_avx512(5, np, fetch, g, i0); break;                  \
    case 6: gemm_tile_avx512(6, np, fetch, g, i0); break;                  \
    case 7: gemm_tile_avx512(7, np, fetch, g, i0); break;                  \
    case 8: gemm_tile_avx512(8, np, fetch, g, i0); break;                  \
    case 9: gemm_tile_avx512(9, np, fetch, g, i0); break;                  \
    case 10: gemm_tile_avx512(10, np, fetch, g, i0); break;

/* A tile of mr rows, 1 <= mr <= 11, over np panels at row i0 of the
 * block. */
#define A5_TILE_N(np)                                                      \
    switch (mr) {                                                          \
    A5_TILE_CASES(np, 0, i0)                                               \
    default: gemm_tile_avx512(11, np, 0, g, i0); break;                    \
    }

/* One function per panel count: as one, its 22 tiles passed GCC's size
 * limit for tracking variables in the debug builds. */
A5_FN __attribute__((noinline)) void gemm_tile_avx512_n1(int64_t mr, const gemm_blk *g,
                                                        int64_t i0)
{
    A5_TILE_N(1)
}

A5_FN __attribute__((noinline)) void gemm_tile_avx512_n2(int64_t mr, const gemm_blk *g,
                                                        int64_t i0)
{
    A5_TILE_N(2)
}

A5_FN void gemm_tile_avx512_n(int64_t mr, int np, const gemm_blk *g, int64_t i0)
{
    if (np > 1)
        gemm_tile_avx512_n2(mr, g, i0);
    else
        gemm_tile_avx512_n1(mr, g, i0);
}

/* The first tile of rows, mr <= 12, over two panels, fetching the next
 * two ahead (gemm_blk.pf; a block with pf has both its panels): a
 * function of its own, so that the other tiles' loops carry neither the
 * fetches nor their pointer (squeezenet1_1's Winograd products 5-7%
 * slower in the model with one loop for both). */
A5_FN __attribute__((noinline)) void gemm_tile_avx512_f(int64_t mr, const gemm_blk *g)
{
    switch (mr) {
    A5_TILE_CASES(2, 1, 0)
    case 11: gemm_tile_avx512(11, 2, 1, g, 0); break;
    default: gemm_tile_avx512(12, 2, 1, g, 0); break;
    }
}

/* The rows [0, M) of the block over np panels in tiles of A5_MR rows;
 * the last rows (the remainder, with the last full tile when the
 * remainder is 1 to 4) as one tile of up to 11 rows or two of
 * near-equal size. A tile of 1 to 3 rows is bound by loading B, not by
 * its FMAs: a 49 x 512 x 4608 product's last row cost three rows' time
 * (its last 13 rows as 7 + 6, alone, warm, best of 5 x 100: 2257 -> 2170
 * us, 13 x 512 x 2304 374 -> 341, 49 x 1280 x 320 399 -> 387, 169 x 1000
 * x 512 1649 -> 1629; mnist_cnn's 9 rows as 5 + 4 rather than 8 + 1
 * below). One of 4 rows still loses to two of 8 (16 rows as 8 + 8 rather
 * than 12 + 4, best of 200, two alternating rounds: mobilenet_v2's 16 x
 * 12544 x 32 155 -> 149-153 us, squeezenet1_1's 16 x 3025 x 128 125 ->
 * 119-120, 16 x 3025 x 64 65-66 -> 63; 64 x 784 x 384 361-362 -> 357).
 * A rest of 9 to 11 rows is one tile, where it was two of 5 or 6 rows
 * (each reading all of B): Xeon, alone, 16 products of packed B (from
 * L2), best of 3000, C stored transposed / not: 9 x 64 x 576 (mnist_cnn's
 * conv3) 132-140 -> 123 / 121-137 -> 118-122 us, 10 x 128 x 256 112 ->
 * 90-96 / 100-106 -> 80-82. */
A5_INLINE void gemm_rows_avx512(int np, int64_t M, const gemm_blk *g)
{
    for (int64_t i = 0, mr; i < M; i += mr) {
        mr = gemm_tile_rows(M, i);
        if (np > 1 && i == 0 && g->pf)
            gemm_tile_avx512_f(mr, g);
        else if (mr == A5_MR)
            gemm_tile_avx512(A5_MR, np, 0, g, i);
        else
            gemm_tile_avx512_n(mr, np, g, i);
    }
}

/* The block's rows over its two panels, or its one when it has 16
 * columns or fewer (a last block). */
A5_FN void gemm_panel_avx512(int64_t M, const gemm_blk *g)
{
    if (g->nr > GEMM_NR)
        gemm_rows_avx512(2, M, g);
    else
        gemm_rows_avx512(1, M, g);
}

/* ---- AVX-512 matrix-vector kernels (M == 1) ----
 * Bandwidth-bound: every float of B is used once, so the kernels keep
 * enough independent FMA chains in flight (8, the FMA latency times its
 * ports) to issue a 64-byte load of B every cycle. Few columns make few
 * accumulators: there K is split into ku interleaved partial sums
 * (columns * ku >= 8 chains), added at the end. */

/* Partial sums per column vector for nv column vectors. */
#define A5_KU(nv) ((nv) <= 2 ? 4 : (nv) <= 4 ? 2 : 1)

/* Interleaved partial sums over K of each column of a packed GEMV, the
 * same for any number of panels a call takes, so that a column's sum does
 * not depend on how the columns are grouped (as gemv_p_cols): four panels
 * take 16 of the 32 registers, one panel keeps 4 chains. Against 2 sums
 * for 3 or 4 panels and 4 for fewer, before: 512 x 128 3.77 -> 3.37 us,
 * 1000 x 512 35.5 -> 33-34 (warm, the Xeon). */
#define GEMV_P_KU_AVX512 4

/* c[0:n) = alpha * a Bp + beta * c over np <= 4 packed panels from bp
 * (panel stride ps), n <= 16 * np (np a constant after inlining). */
A5_INLINE void gemv_p5_cols(int np, int64_t n, int64_t K, float alpha, const float *a,
                            int64_t sa, const float *bp, int64_t ps, float beta, float *c)
{
    const int ku = GEMV_P_KU_AVX512;
    __m512 x[4 * GEMV_P_KU_AVX512];
    for (int q = 0; q < ku * np; q++)
        x[q] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + ku <= K; k += ku)
        for (int u = 0; u < ku; u++) {
            __m512 ak = _mm512_set1_ps(a[(k + u) * sa]);
            for (int p = 0; p < np; p++)
                x[u * np + p] = _mm512_fmadd_ps(
                    ak, _mm512_loadu_ps(bp + p * ps + (k + u) * GEMM_NR), x[u * np + p]);
        }
    for (; k < K; k++) { /* fewer than ku rows left */
        __m512 ak = _mm512_set1_ps(a[k * sa]);
        for (int p = 0; p < np; p++)
            x[p] = _mm512_fmadd_ps(ak, _mm512_loadu_ps(bp + p * ps + k * GEMM_NR), x[p]);
    }
    for (int u = 1; u < ku; u++)
        for (int p = 0; p < np; p++)
            x[p] = _mm512_add_ps(x[p], x[u * np + p]);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int p = 0; p < np; p++)
        gemm_out16(c + 16 * p, x[p], n - 16 * p, va, vb, beta == 0.0f, NULL, 0, 0);
}

/* c[0:N] = alpha * a B + beta * c with B packed: 4 panels (64 columns)
 * at a time, each column over GEMV_P_KU_AVX512 interleaved partial sums
 * of K, then the last 1 to 4 (the last one partial). Four panels read at
 * once are four streams of B; eight (128 columns, one chain each) ran 8%
 * slower from L2 on Zen 4 (a 512 x 128 recurrent weight: 2.45 against
 * 2.27 us), the prefetchers keeping fewer streams ahead. */
A5_FN void gemv_p_avx512(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                         const float *Bp, float beta, float *c)
{
    int64_t j = 0, ps = K * GEMM_NR;
    for (; j + 4 * GEMM_NR <= N; j += 4 * GEMM_NR)
        gemv_p5_cols(4, 4 * GEMM_NR, K, alpha, a, sa, Bp + j * K, ps, beta, c + j);
    int64_t n = N - j;
    const float *bp = Bp + j * K;
    switch ((n + GEMM_NR - 1) / GEMM_NR) {
    case 1: gemv_p5_cols(1, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 2: gemv_p5_cols(2, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 3: gemv_p5_cols(3, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    case 4: gemv_p5_cols(4, n, K, alpha, a, sa, bp, ps, beta, c + j); break;
    default: break;
    }
}

/* x[0:nq) += ak * b[0:16 nq), the last vector of b masked by m. */
A5_INLINE void gemv_n5_row(int nq, __mmask16 m, __m512 ak, const float *b, __m512 *x)
{
    for (int q = 0; q < nq - 1; q++)
        x[q] = _mm512_fmadd_ps(ak, _mm512_loadu_ps(b + 16 * q), x[q]);
    x[nq - 1] = _mm512_fmadd_ps(ak, _mm512_maskz_loadu_ps(m, b + 16 * (nq - 1)), x[nq - 1]);
}

/* c[0:n) = alpha * a B + beta * c over nq <= 8 column vectors of 16 of B
 * [K, .] (row stride ldb; the last vector masked to n), a[k] at
 * a[k * sa]. */
A5_INLINE void gemv_n5_cols(int nq, int64_t n, int64_t K, float alpha, const float *a,
                            int64_t sa, const float *B, int64_t ldb, float beta, float *c)
{
    const int ku = A5_KU(nq);
    int64_t tail = n - (nq - 1) * 16;
    __mmask16 m = tail >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << tail) - 1);
    __m512 x[8];
    for (int q = 0; q < 8; q++)
        x[q] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + ku <= K; k += ku)
        for (int u = 0; u < ku; u++)
            gemv_n5_row(nq, m, _mm512_set1_ps(a[(k + u) * sa]), B + (k + u) * ldb, x + u * nq);
    for (; k < K; k++) /* fewer than ku rows left */
        gemv_n5_row(nq, m, _mm512_set1_ps(a[k * sa]), B + k * ldb, x);
    for (int u = 1; u < ku; u++)
        for (int q = 0; q < nq; q++)
            x[q] = _mm512_add_ps(x[q], x[u * nq + q]);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int q = 0; q < nq; q++)
        gemm_out16(c + 16 * q, x[q], n - 16 * q, va, vb, beta == 0.0f, NULL, 0, 0);
}

/* c[0:N] = alpha * a B + beta * c for B stored [K,N]. */
A5_FN void gemv_n_avx512(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                         const float *B, int64_t ldb, float beta, float *c)
{
    int64_t j = 0;
    for (; j + 128 <= N; j += 128)
        gemv_n5_cols(8, 128, K, alpha, a, sa, B + j, ldb, beta, c + j);
    int64_t n = N - j;
    switch ((n + 15) / 16) {
    case 1: gemv_n5_cols(1, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 2: gemv_n5_cols(2, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 3: gemv_n5_cols(3, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 4: gemv_n5_cols(4, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 5: gemv_n5_cols(5, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 6: gemv_n5_cols(6, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 7: gemv_n5_cols(7, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    case 8: gemv_n5_cols(8, n, K, alpha, a, sa, B + j, ldb, beta, c + j); break;
    default: break;
    }
}

/* c[0:nr) = alpha * (B[0:nr, :] . a) + beta * c for nr <= 8 rows of B
 * [., K] (row stride ldb, a contiguous): one accumulator per row. */
A5_INLINE void gemv_t5_rows(int nr, int64_t K, float alpha, const float *a, const float *B,
                            int64_t ldb, float beta, float *c)
{
    __m512 x[8];
    for (int r = 0; r < 8; r++)
        x[r] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 av = _mm512_loadu_ps(a + k);
        for (int r = 0; r < nr; r++)
            x[r] = _mm512_fmadd_ps(av, _mm512_loadu_ps(B + r * ldb + k), x[r]);
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 av = _mm512_maskz_loadu_ps(m, a + k);
        for (int r = 0; r < nr; r++)
            x[r] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, B + r * ldb + k), x[r]);
    }
    for (int r = 0; r < nr; r++) {
        float s = alpha * _mm512_reduce_add_ps(x[r]);
        c[r] = beta == 0.0f ? s : s + beta * c[r];
    }
}

/* c[0:N] = alpha * B a + beta * c for B stored [N,K] (a contiguous). */
A5_FN void gemv_t_avx512(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                         int64_t ldb, float beta, float *c)
{
    int64_t j = 0;
    for (; j + 8 <= N; j += 8)
        gemv_t5_rows(8, K, alpha, a, B + j * ldb, ldb, beta, c + j);
    for (; j < N; j++)
        gemv_t5_rows(1, K, alpha, a, B + j * ldb, ldb, beta, c + j);
}

#endif /* LOOMRT_X86 */

/* ---- drivers ---- */

/* Columns per block of the kernels of isa: two panels for AVX-512. */
static int64_t gemm_width(int isa)
{
    return isa == LOOMRT_ISA_AVX512 ? 2 * GEMM_NR : GEMM_NR;
}

/* Rows [0, M) of the block g with the kernels of isa. */
static void gemm_panel(int isa, int64_t M, const gemm_blk *g)
{
#ifdef LOOMRT_X86
    if (isa == LOOMRT_ISA_AVX512) {
        gemm_panel_avx512(M, g);
        return;
    }
    if (isa == LOOMRT_ISA_AVX2) {
        gemm_panel_avx2(M, g);
        return;
    }
#else
    (void)isa;
#endif
    gemm_panel_c(M, g);
}

/* Packs the columns [j0, j0 + nc) of op(B)[k0:k0+kc, :] as panels of
 * GEMM_NR columns, panel q at bp + q * kc * GEMM_NR. An untransposed B is
 * read row by row across all panels: nc contiguous floats per row rather
 * than 16, so each cache line and page of B is fetched once per block. */
static void gemm_pack_block(const float *B, int64_t ldb, int transB, int64_t k0, int64_t kc,
                            int64_t j0, int64_t nc, float *bp)
{
    if (transB || nc % GEMM_NR) {
        for (int64_t q = 0; q * GEMM_NR < nc; q++) {
            int64_t n = nc - q * GEMM_NR;
            gemm_pack_panel(B, ldb, transB, k0, kc, j0 + q * GEMM_NR, n < GEMM_NR ? n : GEMM_NR,
                            bp + q * kc * GEMM_NR);
        }
        return;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *row = B + (k0 + k) * ldb + j0;
        for (int64_t q = 0; q < nc / GEMM_NR; q++)
            for (int j = 0; j < GEMM_NR; j++)
                bp[(q * kc + k) * GEMM_NR + j] = row[q * GEMM_NR + j];
    }
}

/* The blocked GEMM: per block of GEMM_NC columns and block of K rows,
 * pack the panels once, then sweep all of M over each one or two panels
 * (the kernel's width). A full block of an untransposed B smaller than
 * GEMM_INPLACE_B floats, or of a thin product's (gemm_thin, decided on the
 * whole product, not a thread's rows of it), is read in place: packing
 * costs more than it saves there. In place, the first tile of rows over
 * two panels fetches the next two ahead (gemm_blk.pf; the next ones
 * this loop takes: in the block, or past it when K is one block): a 1x1
 * convolution's rows of B are a plane apart, more streams than the
 * hardware's prefetchers follow (Xeon, one thread, B from memory, us:
 * squeezenet1_1's squeezes 16 x 3025 x 128 156 -> 138, 16 x 3025 x 64 82
 * -> 66, 32 x 729 x 256 138 -> 106; from L2 within the noise). */
/* A thin product's blocks read in place (gemm_blk.pf) also fetch, for
 * writing, the lines of C that the next two panels write, from
 * GEMM_PFC_MIN outputs a call: a 1x1 convolution writes M planes a panel
 * at a time, more streams than the hardware follows, and its output, in
 * the arena, comes from memory (each tile fetches its rows' lines after
 * its K steps). squeezenet1_1 on two threads (`bench/ab_builds.py
 * --openblas --steps`, medians): its expand1x1 steps over 55x55 and 27x27
 * (16 -> 64, 32 -> 128 channels, 0.4-0.8 MB into the Concat) 7-13 us
 * less each, the model 0.990; one thread 1.006, mobilenet_v2 on two
 * 1.004 (noise). Below it (the 13x13 steps, their outputs in L2) the
 * fetches only cost: fetched at every size, the 13x13 expand1x1 steps ran
 * 2-8 us slower. */
#define GEMM_PFC_MIN ((int64_t)1 << 15)

static void gemm_blocked(int transA, int transB, int thin, int64_t M, int64_t N, int64_t K,
                         float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                         float beta, float *C, int64_t ldc, const gemm_epi *e)
{
    GEMM_ALIGNED float bp[GEMM_NC * GEMM_KC];
    int isa = loomrt_isa_get();
    int64_t w = gemm_width(isa);
    gemm_blk g = {.rs = transA ? 1 : lda, .cs = transA ? lda : 1, .ldc = ldc, .alpha = alpha};
    g.rt = g.rs;
    int inplace = !transB && (thin || K * ldb < GEMM_INPLACE_B);
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NC) {
        int64_t nc = N - j0 < GEMM_NC ? N - j0 : GEMM_NC;
        for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {
            g.kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            g.a = A + k0 * g.cs;
            g.beta = k0 ? 1.0f : beta;
            g.epi = k0 + g.kc == K ? e : NULL;
            int packed = !(inplace && nc % w == 0);
            if (packed)
                gemm_pack_block(B, ldb, transB, k0, g.kc, j0, nc, bp);
            for (int64_t j = 0; j < nc; j += w) {
                g.nr = nc - j < w ? nc - j : w;
                g.c = C + j0 + j;
                g.j0 = g.coff = j0 + j;
                if (packed)
                    g.b = bp + j * g.kc, g.bs = GEMM_NR, g.ps = g.kc * GEMM_NR;
                else
                    g.b = B + k0 * ldb + j0 + j, g.bs = ldb, g.ps = GEMM_NR;
                int next = j + w < nc || g.kc == K; /* the next two panels come next */
                g.pf = !packed && next && j0 + j + 2 * w <= N ? g.b + w : NULL;
                g.pfc = g.pf && M * N >= GEMM_PFC_MIN ? g.c + w : NULL;
                gemm_panel(isa, M, &g);
            }
        }
    }
}

/* The row c = alpha * a op(B) + beta * c of a one-row product; a[k] at
 * a[k * sa]. */
static void gemm_row(int transB, int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                     const float *B, int64_t ldb, float beta, float *c)
{
    int isa = loomrt_isa_get();
    if (!transB) {
#ifdef LOOMRT_X86
        if (isa == LOOMRT_ISA_AVX512) {
            gemv_n_avx512(N, K, alpha, a, sa, B, ldb, beta, c);
            return;
        }
        if (isa == LOOMRT_ISA_AVX2) {
            gemv_n_avx2(N, K, alpha, a, sa, B, ldb, beta, c);
            return;
        }
#endif
        gemv_n_c(N, K, alpha, a, sa, B, ldb, beta, c);
    } else if (sa == 1) {
#ifdef LOOMRT_X86
        if (isa == LOOMRT_ISA_AVX512) {
            gemv_t_avx512(N, K, alpha, a, B, ldb, beta, c);
            return;
        }
        if (isa == LOOMRT_ISA_AVX2) {
            gemv_t_avx2(N, K, alpha, a, B, ldb, beta, c);
            return;
        }
#endif
        gemv_t_c(N, K, alpha, a, B, ldb, beta, c);
    } else {
        (void)isa;
        for (int64_t j = 0; j < N; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < K; k++)
                s += a[k * sa] * B[j * ldb + k];
            c[j] = beta == 0.0f ? alpha * s : alpha * s + beta * c[j];
        }
    }
}

/* The one-row packed product c = alpha * a Bp + beta * c. */
static void gemm_row_packed(int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                            const float *Bp, float beta, float *c)
{
#ifdef LOOMRT_X86
    int isa = loomrt_isa_get();
    if (isa == LOOMRT_ISA_AVX512) {
        gemv_p_avx512(N, K, alpha, a, sa, Bp, beta, c);
        return;
    }
    if (isa == LOOMRT_ISA_AVX2) {
        gemv_p_avx2(N, K, alpha, a, sa, Bp, beta, c);
        return;
    }
#endif
    gemv_p_c(N, K, alpha, a, sa, Bp, beta, c);
}

/* A^T packed by tiles (gemm_pack_at_tiles) for the AVX2 kernel when it is
 * read by GEMM_PACK_A_N columns or more (a packed panel each) and is too
 * large for L1 (GEMM_PACK_A_MIN floats or more), in blocks of K of
 * GEMM_PACK_A floats (a stack array), all of K or GEMM_PACK_A_K rows or
 * more a block (C^T is stored and read again after each block). In place, a tile of
 * A^T takes one cache line per row of K, and A^T (49 x 320 for
 * mobilenet_v2's last 1x1 convolution, 62 KB) does not stay in L1 from
 * one panel to the next. On Zen 3, one thread, A^T and C^T with bias and
 * Clip, B from L2 / from memory (us): 49 x 1280 x 320 542-547 -> 457-461
 * / 589-602 -> 512-518, 49 x 320 x 960 (three blocks) 396-402 -> 342-343
 * / 431-462 -> 387-437, 49 x 160 x 960 198-205 -> 175 / 217-304 ->
 * 200-253, 49 x 960 x 160 202-203 -> 186 / 227-230 -> 209-213; 196 x 576
 * x 96 and 196 x 384 x 64 within 2% (a pack of 16384 floats, more blocks:
 * 49 x 1280 x 320 5% slower than with 24576). Products with A^T in L1 or
 * few panels lose the pack's cost (Winograd's, warm: 36 x 64 x 32 3.6 ->
 * 4.8 us, 36 x 64 x 64 6.5-7.9 -> 8.9, 49 x 128 x 64 12.4 -> 12.5-13.3;
 * mnist_cnn 88.7 -> 93.6 us, gan_discriminator 60 -> 66 with a bound of
 * 64 columns and none on A^T's size). */
#define GEMM_PACK_A 24576
#define GEMM_PACK_A_N 128
#define GEMM_PACK_A_MIN 6144
#define GEMM_PACK_A_K 256

/* The rows of K in each block of A^T packed (gemm_pack_at_tiles) for an
 * M x N x K product at level isa, blocks of equal size, or 0: A read in
 * place. Decided on the whole product, so that every thread's rows get the
 * same blocks of K (the same sums, bit for bit). */
static int64_t gemm_pack_a_k(int isa, int transA, int64_t M, int64_t N, int64_t K)
{
    int64_t most = GEMM_PACK_A / M;
    if (isa != LOOMRT_ISA_AVX2 || !transA || N < GEMM_PACK_A_N || M * K < GEMM_PACK_A_MIN ||
        (most < K && most < GEMM_PACK_A_K))
        return 0;
    int64_t blocks = (K + most - 1) / most;
    return (K + blocks - 1) / blocks;
}

/* Columns [j, n) of g's product (n - j a multiple of w, the kernel's
 * width, or the last columns) from the rows [k0, k0 + g->kc) of K, by
 * panels; beta for the first block of K, the epilogue e after the last. */
static void gemm_packed_cols(int isa, int64_t w, int64_t M, int64_t j, int64_t n, int64_t K,
                             int64_t k0, gemm_blk *g, const float *Bp, float beta, float *C,
                             const gemm_epi *e)
{
    for (int64_t j0 = j; j0 < n; j0 += w) {
        g->nr = n - j0 < w ? n - j0 : w;
        g->j0 = j0;
        g->coff = j0 * (g->ctr ? g->ldc : 1);
        g->c = C + g->coff;
        g->b = Bp + j0 * K + k0 * GEMM_NR;
        g->beta = k0 ? 1.0f : beta;
        g->epi = k0 + g->kc == K ? e : NULL;
        gemm_panel(isa, M, g);
    }
}

/* The packed product on this thread, by panels of the kernel's width,
 * then the epilogue e (NULL: none) on each finished tile; A^T packed in
 * blocks of ka rows of K (gemm_pack_a_k) unless ka is 0; A^T given
 * packed for the AVX-512 kernel (gemm_pack_at_tiles) when tiled. */
static void gemm_packed_blocked(int transA, int transC, int64_t ka, int tiled, int64_t M,
                                int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                                const float *Bp, float beta, float *C, int64_t ldc,
                                const gemm_epi *e)
{
    int isa = loomrt_isa_get();
    int64_t w = gemm_width(isa);
    gemm_blk g = {.tiled = tiled, .rs = transA ? 1 : lda, .cs = transA ? lda : 1, .ldc = ldc,
                  .ctr = transC, .alpha = alpha, .bs = GEMM_NR, .ps = GEMM_NR * K};
    g.rt = tiled ? K : g.rs;
    if (ka) {
        GEMM_ALIGNED float ap[GEMM_PACK_A];
        g.a = ap, g.tiled = 1;
        for (int64_t k0 = 0; k0 < K; k0 += ka) {
            g.kc = g.rt = K - k0 < ka ? K - k0 : ka;
            gemm_pack_at_tiles(isa, A + k0 * lda, lda, M, g.kc, ap);
            gemm_packed_cols(isa, w, M, 0, N, K, k0, &g, Bp, beta, C, e);
        }
        return;
    }
    for (int64_t j0 = 0; j0 < N; j0 += w)
        for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC_PACKED) {
            g.kc = K - k0 < GEMM_KC_PACKED ? K - k0 : GEMM_KC_PACKED;
            g.a = tiled ? A : A + k0 * g.cs;
            g.ko = k0;
            gemm_packed_cols(isa, w, M, j0, j0 + w < N ? j0 + w : N, K, k0, &g, Bp, beta, C, e);
        }
}

/* ---- threads ----
 * A product large enough is cut into ranges of rows of C (tiles of
 * GEMM_PAR_ROWS, a multiple of every kernel's register tile) or of columns
 * (GEMM_PAR_COLS, a multiple of every panel and GEMV block), one range per
 * thread (loomrt_parallel_for). Every element of C is computed by the same
 * sequence of multiply-adds whatever the split, and gets the same
 * epilogue, so the result is the single-threaded one, bit for bit. */
#define GEMM_PAR_ROWS 12
#define GEMM_PAR_COLS 128
/* Multiply-adds per thread below which a product stays on one thread:
 * waking a worker costs a few microseconds. */
#define GEMM_PAR_MIN ((int64_t)1 << 18)
/* A single row (a GEMV, a recurrent step's) reads all of B for few
 * multiply-adds per element: from B of GEMM_PAR_ROW_B floats (256 KB, past
 * L1, half of a 1 MB L2) it is bound by reading B, which two cores halve,
 * and splits by columns from GEMM_PAR_ROW_MIN multiply-adds per thread.
 * Measured on the lstm example (512 x 128 recurrent weights, 64 steps),
 * Zen 4, 2 threads: 217 -> 163 us (one thread: 234). */
#define GEMM_PAR_ROW_B ((int64_t)1 << 16)
#define GEMM_PAR_ROW_MIN ((int64_t)1 << 14)
/* From this many floats of packed B (1 MB), see gemm_wide_by_cols. Xeon, 2
 * threads, in the model (ab_builds --steps): resnet18's 3x3 stride-2
 * 256 -> 512 Conv as C^T 49 x 512 x 2304 (5 tiles of rows, 4.7 MB of
 * weights) 634-663 -> 504-522 us by columns; its 196 x 256 x 1152 (17
 * tiles) lost by columns (520 -> 596), as did mobilenet_v2's 49 x 320 x
 * 960 split 128 / 192 columns (116 -> 142). */
#define GEMM_PAR_WIDE_B ((int64_t)1 << 18)

/* One product for the threads: C = alpha * op(A) op(B) + beta * C, B
 * packed (loomrt_sgemm_packed's operands, C transposed when transC) or
 * not (loomrt_sgemm's), then the epilogue e (NULL: none); the split is by
 * rows or by columns of C. */
typedef struct gemm_par {
    int transA, transB, transC, packed, blas, thin, gemv_rows, by_rows;
    int64_t M, N, K, ka;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int64_t lda, ldb, ldc;
    const gemm_epi *e;
} gemm_par;

/* e for the part of C starting `rows` rows and `cols` columns in, at
 * c_off floats from C: the bias moves with the rows and columns, the
 * residual (laid out as C) by c_off. NULL when e is. */
static const gemm_epi *gemm_epi_at(const gemm_epi *e, int64_t rows, int64_t cols, int64_t c_off,
                                   gemm_epi *sub)
{
    if (!e)
        return NULL;
    *sub = *e;
    if (sub->bias)
        sub->bias += rows * sub->rs + cols * sub->cs;
    if (sub->res)
        sub->res += c_off;
    return sub;
}

#ifdef LOOMRT_USE_CBLAS
/* OpenBLAS's products with an epilogue whose C exceeds GEMM_BLAS_EPI_BIG
 * floats go in blocks of columns of GEMM_BLAS_EPI_BLOCK floats of C, each
 * given the epilogue while it is in L2 rather than in one pass over C
 * from memory afterwards; only when K is at most a quarter of the block's
 * columns, since OpenBLAS packs A again for every block. Measured on Zen
 * 4, one thread, a 1x1 Conv with Clip: mobilenet_v2's 16 -> 96
 * expansion at 112x112 (C 4.8 MB) 662-679 -> 582-590 us; from 24 -> 144
 * at 56x56 (C 1.8 MB) down, blocks and one pass were within the noise. */
#define GEMM_BLAS_EPI_BIG ((int64_t)1 << 20)
#define GEMM_BLAS_EPI_BLOCK ((int64_t)1 << 16)

/* The columns per cblas_sgemm call of an M x N x K product with epilogue
 * e: all of N, or blocks of GEMM_BLAS_EPI_BLOCK floats of C in multiples
 * of 64 columns. */
static int64_t gemm_blas_block(int64_t M, int64_t N, int64_t K, const gemm_epi *e)
{
    if (!e || M * N <= GEMM_BLAS_EPI_BIG)
        return N;
    int64_t nb = GEMM_BLAS_EPI_BLOCK / M / 64 * 64;
    return nb >= 64 && 4 * K <= nb ? nb : N;
}
#endif

/* The rows [0, M) and columns [0, N) of p's product at A, B, C with the
 * epilogue e, on this thread. */
static void gemm_serial(const gemm_par *p, int64_t M, int64_t N, const float *A, const float *B,
                        float *C, const gemm_epi *e)
{
    int64_t sa = p->transA ? p->lda : 1;
#ifdef LOOMRT_USE_CBLAS
    if (p->blas) {
        int64_t nb = gemm_blas_block(M, N, p->K, e);
        for (int64_t j = 0; j < N; j += nb) {
            int64_t n = N - j < nb ? N - j : nb;
            cblas_sgemm(CblasRowMajor, p->transA ? CblasTrans : CblasNoTrans,
                        p->transB ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)n,
                        (blasint)p->K, p->alpha, A, (blasint)p->lda,
                        p->transB ? B + j * p->ldb : B + j, (blasint)p->ldb, p->beta, C + j,
                        (blasint)p->ldc);
            gemm_epi sub;
            gemm_epi_all(gemm_epi_at(e, 0, j, j, &sub), M, n, C + j, p->ldc, 0);
        }
        return;
    }
#endif
    if (p->packed && M == 1 && !p->transC) {
        gemm_row_packed(N, p->K, p->alpha, A, sa, B, p->beta, C);
        gemm_epi_all(e, M, N, C, p->ldc, 0);
    } else if (p->packed) {
        gemm_packed_blocked(p->transA, p->transC, p->ka, 0, M, N, p->K, p->alpha, A, p->lda, B,
                            p->beta, C, p->ldc, e);
    } else if (M == 1 || p->gemv_rows) {
        for (int64_t i = 0; i < M; i++)
            gemm_row(p->transB, N, p->K, p->alpha, A + i * p->lda, sa, B, p->ldb, p->beta,
                     C + i * p->ldc);
        gemm_epi_all(e, M, N, C, p->ldc, 0);
    } else {
        gemm_blocked(p->transA, p->transB, p->thin, M, N, p->K, p->alpha, A, p->lda, B, p->ldb,
                     p->beta, C, p->ldc, e);
    }
}

/* The task: row or column tiles [t0, t1) of the product. */
static int gemm_par_task(void *arg, int64_t t0, int64_t t1)
{
    const gemm_par *p = (const gemm_par *)arg;
    int64_t unit = p->by_rows ? GEMM_PAR_ROWS : GEMM_PAR_COLS, all = p->by_rows ? p->M : p->N;
    int64_t lo = t0 * unit, hi = t1 * unit < all ? t1 * unit : all;
    gemm_epi sub;
    if (p->by_rows) {
        const float *a = p->A + lo * (p->transA ? 1 : p->lda);
        int64_t c_off = lo * (p->transC ? 1 : p->ldc);
        gemm_serial(p, hi - lo, p->N, a, p->B, p->C + c_off, gemm_epi_at(p->e, lo, 0, c_off, &sub));
        return 0;
    }
    const float *b = p->packed ? p->B + lo * p->K : p->transB ? p->B + lo * p->ldb : p->B + lo;
    int64_t c_off = lo * (p->transC ? p->ldc : 1);
    gemm_serial(p, p->M, hi - lo, p->A, b, p->C + c_off, gemm_epi_at(p->e, 0, lo, c_off, &sub));
    return 0;
}

/* The largest of loomrt_parallel_for's parts of n units of `unit`
 * elements (all in all, the last unit partial) over t threads. */
static int64_t gemm_part_max(int64_t n, int64_t unit, int64_t all, int t)
{
    int64_t parts = n < t ? n : t, most = 0;
    for (int64_t q = 0; q < parts; q++) {
        int64_t lo = n * q / parts * unit, hi = n * (q + 1) / parts * unit;
        hi = hi < all ? hi : all;
        most = hi - lo > most ? hi - lo : most;
    }
    return most;
}

/* Whether p, with rows and cols units for t threads, reads a large packed
 * B (GEMM_PAR_WIDE_B floats and more) whose columns split as evenly as
 * its rows: then by columns each thread reads its part of B, not all. */
static int gemm_wide_by_cols(const gemm_par *p, int64_t rows, int64_t cols, int t)
{
    return p->packed && p->N * p->K >= GEMM_PAR_WIDE_B && cols >= t &&
           gemm_part_max(cols, GEMM_PAR_COLS, p->N, t) * p->M <=
               gemm_part_max(rows, GEMM_PAR_ROWS, p->M, t) * p->N;
}

/* Runs p on the calling thread's threads: by rows when there are rows
 * for every thread (four tiles a thread or more), else by rows or by
 * columns, whichever has more of them, on one thread when the product is
 * small; few rows of a large packed B by columns (gemm_wide_by_cols). */
static void gemm_run(gemm_par *p)
{
    int t = loomrt_threads_get();
    int64_t rows = (p->M + GEMM_PAR_ROWS - 1) / GEMM_PAR_ROWS;
    int64_t cols = (p->N + GEMM_PAR_COLS - 1) / GEMM_PAR_COLS;
    int64_t min = p->M == 1 && p->N * p->K >= GEMM_PAR_ROW_B ? GEMM_PAR_ROW_MIN : GEMM_PAR_MIN;
    if (t < 2 || p->M * p->N * p->K < min * t || (rows < 2 && cols < 2)) {
        gemm_serial(p, p->M, p->N, p->A, p->B, p->C, p->e);
        return;
    }
    p->by_rows = rows >= 4 * t || (rows >= cols && !gemm_wide_by_cols(p, rows, cols, t));
    loomrt_parallel_for(p->by_rows ? rows : cols, gemm_par_task, p);
}

/* loomrt_sgemm, then the epilogue e (NULL: none). */
static void gemm_unpacked(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                          float *C, int64_t ldc, const gemm_epi *e)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        gemm_scale(M, N, beta, C, ldc);
        gemm_epi_all(e, M, N, C, ldc, 0);
        return;
    }
    int isa = loomrt_isa_get();
    gemm_par p = {.transA = transA, .transB = transB, .thin = gemm_thin(isa, transB, M),
                  .gemv_rows = gemm_rows_t(transA, transB, M, N, K), .M = M, .N = N, .K = K,
                  .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C,
                  .lda = lda, .ldb = ldb, .ldc = ldc, .e = e};
#ifdef LOOMRT_USE_CBLAS
    int small = M * N * K <= GEMM_SMALL && isa >= LOOMRT_ISA_AVX2;
    int64_t own_k = isa == LOOMRT_ISA_AVX512 ? GEMM_OWN_K_AVX512
                    : isa == LOOMRT_ISA_AVX2 ? GEMM_OWN_K_AVX2
                                             : 0;
    int own = !transA && !transB && K <= own_k;
    p.blas = M > 1 && !small && !own && !p.thin && !p.gemv_rows && loomrt_blas_preferred();
#endif
    gemm_run(&p);
}

LOOMRT_API void loomrt_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                             const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                             float *C, int64_t ldc)
{
    gemm_unpacked(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL);
}

LOOMRT_API void loomrt_sgemm_epi(int transA, int transB, int64_t M, int64_t N, int64_t K,
                                 float alpha, const float *A, int64_t lda, const float *B,
                                 int64_t ldb, float beta, float *C, int64_t ldc,
                                 const float *bias, int64_t bias_rs, int64_t bias_cs,
                                 const float *res, int act, float act_alpha, float act_beta)
{
    gemm_epi e = {bias, bias_rs, bias_cs, res, act, act_alpha, act_beta};
    gemm_unpacked(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, &e);
}

/* loomrt_sgemm_packed, then the epilogue e (NULL: none), K blocked as in
 * a product of m_all rows (gemm_pack_a_k); on this thread when serial,
 * else on the calling thread's threads. */
static void gemm_packed(int transA, int transC, int64_t m_all, int64_t M, int64_t N, int64_t K,
                        float alpha, const float *A, int64_t lda, const float *Bp, float beta,
                        float *C, int64_t ldc, const gemm_epi *e, int serial)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (transC)
            gemm_scale(N, M, beta, C, ldc);
        else
            gemm_scale(M, N, beta, C, ldc);
        gemm_epi_all(e, M, N, C, ldc, transC);
        return;
    }
    gemm_par p = {.transA = transA, .transC = transC, .packed = 1, .M = M, .N = N, .K = K,
                  .ka = gemm_pack_a_k(loomrt_isa_get(), transA, m_all, N, K), .alpha = alpha,
                  .beta = beta, .A = A, .B = Bp, .C = C, .lda = lda, .ldc = ldc, .e = e};
    if (serial)
        gemm_serial(&p, M, N, A, Bp, C, e);
    else
        gemm_run(&p);
}

/* With ap, A^T is packed there whole for the AVX-512 kernel first
 * (gemm_pack_at_tiles; not in blocks of the stack buffer as
 * gemm_pack_a_k's) when the product has GEMM_PACK_AT_N columns and
 * GEMM_PACK_AT_K rows of K or more: in place each row of K of a tile is
 * a cache line of its own, lda floats from the last, read again for
 * every panel. K runs in the same blocks either way, so the sums are the
 * ones in place, bit for bit. Xeon, alone, warm, one thread, in place /
 * packed (us): C^T 169 x 1000 x 512 (squeezenet1_1's classifier)
 * 1004-1037 / 921-946 (two threads 530-555 / 503-523), 169 x 256 x 512
 * 248-252 / 237-242, 196 x 256 x 256 145 / 138, 169 x 192 x 512 187 /
 * 183, resnet18's 196 x 256 x 1152 (after im2col) 725-760 / 678-715;
 * narrower or shallower ones lose the packing (169 x 128 x 512 121 /
 * 123, 169 x 64 x 384 48.0 / 54.8, 196 x 96 x 576 126 / 130, 196 x 256 x
 * 128 72 / 72 and 41 / 42 on two threads). Packed in blocks of the stack
 * buffer's 24576 floats instead, the classifier gained nothing and two
 * blocks of K lost (49 x 160 x 960 85-88 -> 95). */
#define GEMM_PACK_AT_N 192
#define GEMM_PACK_AT_K 256

LOOMRT_API int loomrt_sgemm_packs_at(int64_t N, int64_t K)
{
    return N >= GEMM_PACK_AT_N && K >= GEMM_PACK_AT_K;
}

LOOMRT_API void loomrt_sgemm_packed_part(int transA, int transC, int64_t m_all, int64_t M,
                                         int64_t N, int64_t K, float alpha, const float *A,
                                         int64_t lda, float *ap, const float *Bp, float beta,
                                         float *C, int64_t ldc, const float *bias,
                                         int64_t bias_rs, int64_t bias_cs, const float *res,
                                         int act, float act_alpha, float act_beta)
{
    gemm_epi e = {bias, bias_rs, bias_cs, res, act, act_alpha, act_beta};
    if (ap && transA && M > 0 && loomrt_sgemm_packs_at(N, K) &&
        loomrt_isa_get() == LOOMRT_ISA_AVX512) {
        gemm_pack_at_tiles(LOOMRT_ISA_AVX512, A, lda, M, K, ap);
        gemm_packed_blocked(1, transC, 0, 1, M, N, K, alpha, ap, M, Bp, beta, C, ldc, &e);
        return;
    }
    gemm_packed(transA, transC, m_all, M, N, K, alpha, A, lda, Bp, beta, C, ldc, &e, 1);
}

LOOMRT_API void loomrt_sgemm_packed(int transA, int transC, int64_t M, int64_t N, int64_t K,
                                    float alpha, const float *A, int64_t lda, const float *Bp,
                                    float beta, float *C, int64_t ldc)
{
    gemm_packed(transA, transC, M, M, N, K, alpha, A, lda, Bp, beta, C, ldc, NULL, 0);
}

LOOMRT_API void loomrt_sgemm_packed_epi(int transA, int transC, int64_t M, int64_t N, int64_t K,
                                        float alpha, const float *A, int64_t lda,
                                        const float *Bp, float beta, float *C, int64_t ldc,
                                        const float *bias, int64_t bias_rs, int64_t bias_cs,
                                        const float *res, int act, float act_alpha,
                                        float act_beta)
{
    gemm_epi e = {bias, bias_rs, bias_cs, res, act, act_alpha, act_beta};
    gemm_packed(transA, transC, M, M, N, K, alpha, A, lda, Bp, beta, C, ldc, &e, 0);
}
