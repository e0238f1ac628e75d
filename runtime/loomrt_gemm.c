/*
 * Single-precision GEMM for the emitted code: loomrt_sgemm (any operands)
 * and loomrt_sgemm_packed (B packed ahead of time, by the compiler for
 * constant weights, with loomrt_sgemm_pack_b).
 *
 * Which code runs (the dispatch rule):
 *   - M == 1 (batch-1 dense layers, recurrent steps): matrix-vector code
 *     here, where a GEMM library spends more on packing and dispatch than
 *     on arithmetic. op(B) [K,N] is read as rows (axpy into register
 *     tiles of 64 outputs), B stored [N,K] as 8 dot products at a time.
 *   - M > 1 with LOOMRT_USE_CBLAS (the OpenBLAS build): the blocked kernel
 *     here when it is compiled with AVX2+FMA and the product is small,
 *     M * N * K <= GEMM_SMALL (2^21 multiply-adds, about 1.5 ms of
 *     OpenBLAS time at most: every GEMM of the example models), where
 *     OpenBLAS's packing of both operands and its dispatch cost more than
 *     the arithmetic (measured single-threaded on an AVX2 EPYC: 1.2-2x
 *     faster up to that size, within 10% up to 2^24); otherwise
 *     cblas_sgemm, which also threads.
 *   - M > 1 without LOOMRT_USE_CBLAS (the standalone build): the blocked
 *     kernel here.
 *   - loomrt_sgemm_packed: always the kernels here.
 *
 * The blocked kernel (BLIS / Goto style, with A not packed): op(B) is cut
 * into GEMM_NR = 16 column panels, each packed as [kc][16] (zero-padded
 * past N) for a block of kc <= GEMM_KC rows of K, so a panel (16 KB) stays
 * in L1 while every MR x 16 tile of C is computed from it; A is read in
 * place with broadcast loads (op(A)[i,k] at A[i*rs + k*cs] covers both
 * layouts). The 6 x 16 register tile is written with AVX2/FMA intrinsics
 * when compiled for them (__AVX2__ && __FMA__; loom builds emitted code
 * with -march=native), else in plain C that compilers vectorize. No
 * allocation: the packing buffer is a 16 KB stack array.
 */
#include "loomrt.h"

#ifdef LOOMRT_USE_CBLAS
#include <cblas.h>
#endif

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GEMM_AVX2 1
#endif

#define GEMM_MR 6
#define GEMM_NR LOOMRT_SGEMM_NR
#define GEMM_KC 256
#define GEMM_SMALL ((int64_t)1 << 21)
/* B read in place (not packed) up to this many floats: 256 KB, so that
 * the cache-set conflicts of rows at power-of-two strides cost L2 hits
 * at worst. */
#define GEMM_INPLACE_B 65536

#if defined(__GNUC__)
#define GEMM_INLINE static inline __attribute__((always_inline))
#define GEMM_ALIGNED __attribute__((aligned(64)))
#else
#define GEMM_INLINE static inline
#define GEMM_ALIGNED
#endif

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
#ifdef GEMM_AVX2
    if (nr == GEMM_NR) {
        for (int64_t k = 0; k < kc; k++) {
            const float *row = B + (k0 + k) * ldb + j0;
            _mm256_storeu_ps(bp + k * GEMM_NR, _mm256_loadu_ps(row));
            _mm256_storeu_ps(bp + k * GEMM_NR + 8, _mm256_loadu_ps(row + 8));
        }
        return;
    }
#endif
    for (int64_t k = 0; k < kc; k++) {
        const float *row = B + (k0 + k) * ldb + j0;
        float *dst = bp + k * GEMM_NR;
        int64_t j = 0;
        for (; j < nr; j++)
            dst[j] = row[j];
        for (; j < GEMM_NR; j++)
            dst[j] = 0.0f;
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

#ifdef GEMM_AVX2

/* ---- AVX2 + FMA kernels ---- */

/* Lanes [0, n) set, 0 <= n <= 8. */
static inline __m256i gemm_mask(int64_t n)
{
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - n));
}

/* c[0:n) = alpha * acc + beta * c (beta 0: c not read), n <= 8. A
 * partial vector goes through a scalar tail: masked stores are microcoded
 * on AMD CPUs. */
GEMM_INLINE void gemm_out8(float *c, __m256 acc, int64_t n, __m256 va, __m256 vb, int beta0)
{
    __m256 v = _mm256_mul_ps(acc, va);
    if (n >= 8) {
        if (!beta0)
            v = _mm256_fmadd_ps(_mm256_loadu_ps(c), vb, v);
        _mm256_storeu_ps(c, v);
    } else if (n > 0) {
        if (!beta0)
            v = _mm256_fmadd_ps(_mm256_maskload_ps(c, gemm_mask(n)), vb, v);
        GEMM_ALIGNED float t[8];
        _mm256_store_ps(t, v);
        for (int64_t j = 0; j < n; j++)
            c[j] = t[j];
    }
}

/* C[i,j] = alpha * acc[i][j] + beta * C[i,j] for C transposed (stored
 * [N, M], element (i, j) at c[j * ldc + i]): through memory, scalar. */
static void gemm_out_t(int mr, const float *acc, float *c, int64_t ldc, int64_t nr, float alpha,
                       float beta)
{
    for (int64_t j = 0; j < nr; j++)
        for (int i = 0; i < mr; i++) {
            float v = alpha * acc[i * GEMM_NR + j], *p = c + j * ldc + i;
            *p = beta == 0.0f ? v : v + beta * *p;
        }
}

/* C[mr x nr] = alpha * op(A)[mr x kc] panel[kc x 16] + beta * C (C
 * transposed when ctr), the accumulators in named registers (arrays may
 * be left in memory when the compiler does not unroll the row loops; mr
 * is a constant after inlining, so the `mr > i` tests fold). */
#define GEMM_FMA_ROW(i)                                                    \
    if (mr > i) {                                                          \
        __m256 ai = _mm256_broadcast_ss(a + i * rs + k * cs);              \
        x##i##0 = _mm256_fmadd_ps(ai, b0, x##i##0);                        \
        x##i##1 = _mm256_fmadd_ps(ai, b1, x##i##1);                        \
    }
#define GEMM_OUT_ROW(i)                                                    \
    if (mr > i) {                                                          \
        gemm_out8(c + i * ldc, x##i##0, nr, va, vb, beta0);                \
        gemm_out8(c + i * ldc + 8, x##i##1, nr - 8, va, vb, beta0);        \
    }
#define GEMM_SAVE_ROW(i)                                                   \
    if (mr > i) {                                                          \
        _mm256_store_ps(t + i * GEMM_NR, x##i##0);                         \
        _mm256_store_ps(t + i * GEMM_NR + 8, x##i##1);                     \
    }

GEMM_INLINE void gemm_tile(int mr, int64_t kc, const float *a, int64_t rs, int64_t cs,
                           const float *bp, int64_t bs, float *c, int64_t ldc, int ctr,
                           int64_t nr, float alpha, float beta)
{
    __m256 x00 = _mm256_setzero_ps(), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00;
    __m256 x30 = x00, x31 = x00, x40 = x00, x41 = x00, x50 = x00, x51 = x00;
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(bp + k * bs), b1 = _mm256_loadu_ps(bp + k * bs + 8);
        GEMM_FMA_ROW(0)
        GEMM_FMA_ROW(1)
        GEMM_FMA_ROW(2)
        GEMM_FMA_ROW(3)
        GEMM_FMA_ROW(4)
        GEMM_FMA_ROW(5)
    }
    if (ctr) {
        GEMM_ALIGNED float t[GEMM_MR * GEMM_NR];
        GEMM_SAVE_ROW(0)
        GEMM_SAVE_ROW(1)
        GEMM_SAVE_ROW(2)
        GEMM_SAVE_ROW(3)
        GEMM_SAVE_ROW(4)
        GEMM_SAVE_ROW(5)
        gemm_out_t(mr, t, c, ldc, nr, alpha, beta);
        return;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    int beta0 = beta == 0.0f;
    GEMM_OUT_ROW(0)
    GEMM_OUT_ROW(1)
    GEMM_OUT_ROW(2)
    GEMM_OUT_ROW(3)
    GEMM_OUT_ROW(4)
    GEMM_OUT_ROW(5)
}

/* Sum of each of x[0..8) in one vector, lane r = sum of x[r]. */
static inline __m256 gemm_hsum8(const __m256 *x)
{
    __m256 s01 = _mm256_hadd_ps(x[0], x[1]), s23 = _mm256_hadd_ps(x[2], x[3]);
    __m256 s45 = _mm256_hadd_ps(x[4], x[5]), s67 = _mm256_hadd_ps(x[6], x[7]);
    __m256 lo4 = _mm256_hadd_ps(s01, s23), hi4 = _mm256_hadd_ps(s45, s67);
    return _mm256_add_ps(_mm256_permute2f128_ps(lo4, hi4, 0x20),
                         _mm256_permute2f128_ps(lo4, hi4, 0x31));
}

static inline float gemm_hsum(__m256 x)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* c[0:8) = alpha * (B[0:8, :] . a) + beta * c for 8 rows of B [.,K]. */
static void gemv_t8(int64_t K, float alpha, const float *a, const float *B, int64_t ldb,
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
        __m256i m = gemm_mask(K - k);
        __m256 av = _mm256_maskload_ps(a + k, m);
        for (int r = 0; r < 8; r++)
            x[r] = _mm256_fmadd_ps(av, _mm256_maskload_ps(B + r * ldb + k, m), x[r]);
    }
    gemm_out8(c, gemm_hsum8(x), 8, _mm256_set1_ps(alpha), _mm256_set1_ps(beta), beta == 0.0f);
}

/* One dot product a . b over K, four accumulators. */
static float gemv_dot(int64_t K, const float *a, const float *b)
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
        __m256i m = gemm_mask(K - k);
        x1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m), _mm256_maskload_ps(b + k, m), x1);
    }
    return gemm_hsum(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)));
}

/* c[0:N] = alpha * B a + beta * c for B stored [N,K] (a contiguous). */
static void gemv_t(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                   int64_t ldb, float beta, float *c)
{
    int64_t j = 0;
    for (; j + 8 <= N; j += 8)
        gemv_t8(K, alpha, a, B + j * ldb, ldb, beta, c + j);
    for (; j < N; j++) {
        float s = alpha * gemv_dot(K, a, B + j * ldb);
        c[j] = beta == 0.0f ? s : s + beta * c[j];
    }
}

/* c[0:n) = alpha * a B + beta * c over nq column groups of 8 (the last
 * with nq * 8 - n lanes masked off) of B [K, .], row stride ldb, a[k]
 * at a[k * sa]. The nq accumulators stay in registers (nq a constant). */
GEMM_INLINE void gemv_n_cols(int nq, int64_t n, int64_t K, float alpha, const float *a,
                             int64_t sa, const float *B, int64_t ldb, float beta, float *c)
{
    __m256 x[8];
    __m256i m = gemm_mask(n - (nq - 1) * 8);
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
static void gemv_n(int64_t N, int64_t K, float alpha, const float *a, int64_t sa, const float *B,
                   int64_t ldb, float beta, float *c)
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
    default: break;
    }
}

/* c[0:n) = alpha * a Bp + beta * c over np <= 4 packed panels from bp
 * (panel stride ps), n <= 16 * np (np a constant after inlining). */
GEMM_INLINE void gemv_p_cols(int np, int64_t n, int64_t K, float alpha, const float *a,
                             int64_t sa, const float *bp, int64_t ps, float beta, float *c)
{
    __m256 x[8];
    for (int q = 0; q < 8; q++)
        x[q] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m256 ak = _mm256_broadcast_ss(a + k * sa);
        for (int p = 0; p < np; p++) {
            const float *b = bp + p * ps + k * GEMM_NR;
            x[2 * p] = _mm256_fmadd_ps(ak, _mm256_loadu_ps(b), x[2 * p]);
            x[2 * p + 1] = _mm256_fmadd_ps(ak, _mm256_loadu_ps(b + 8), x[2 * p + 1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int q = 0; q < 2 * np; q++)
        gemm_out8(c + 8 * q, x[q], n - 8 * q, va, vb, beta == 0.0f);
}

/* c[0:N] = alpha * a B + beta * c with B packed. */
static void gemv_p(int64_t N, int64_t K, float alpha, const float *a, int64_t sa, const float *Bp,
                   float beta, float *c)
{
    int64_t j = 0, ps = K * GEMM_NR;
    for (; j + 4 * GEMM_NR <= N; j += 4 * GEMM_NR)
        gemv_p_cols(4, 4 * GEMM_NR, K, alpha, a, sa, Bp + j * K, ps, beta, c + j);
    int64_t n = N - j;
    switch ((n + GEMM_NR - 1) / GEMM_NR) {
    case 1: gemv_p_cols(1, n, K, alpha, a, sa, Bp + j * K, ps, beta, c + j); break;
    case 2: gemv_p_cols(2, n, K, alpha, a, sa, Bp + j * K, ps, beta, c + j); break;
    case 3: gemv_p_cols(3, n, K, alpha, a, sa, Bp + j * K, ps, beta, c + j); break;
    default: break;
    }
}

#else

/* ---- portable kernels (plain C the compiler vectorizes) ---- */

/* C[mr x nr] = alpha * op(A)[mr x kc] panel[kc x 16] + beta * C (C
 * transposed when ctr: element (i, j) at c[j * ldc + i]). */
static inline void gemm_tile(int mr, int64_t kc, const float *a, int64_t rs, int64_t cs,
                             const float *bp, int64_t bs, float *c, int64_t ldc, int ctr,
                             int64_t nr, float alpha, float beta)
{
    float acc[GEMM_MR][GEMM_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++) {
        const float *b = bp + k * bs;
        for (int i = 0; i < mr; i++) {
            float ai = a[i * rs + k * cs];
            for (int j = 0; j < GEMM_NR; j++)
                acc[i][j] += ai * b[j];
        }
    }
    int64_t rsc = ctr ? 1 : ldc, csc = ctr ? ldc : 1;
    for (int i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) {
            float *cij = c + i * rsc + j * csc;
            *cij = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cij;
        }
}

#define DOT_LANES 16

/* sum_k a[k] * b[k] with DOT_LANES partial sums so the loop vectorizes
 * without reassociating one sum. */
static float gemv_dot(int64_t K, const float *a, const float *b)
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
static void gemv_t(int64_t N, int64_t K, float alpha, const float *a, const float *B,
                   int64_t ldb, float beta, float *c)
{
    for (int64_t j = 0; j < N; j++) {
        float s = alpha * gemv_dot(K, a, B + j * ldb);
        c[j] = beta == 0.0f ? s : s + beta * c[j];
    }
}

/* c[0:N] = alpha * a B + beta * c for B stored [K,N], in column blocks
 * of 64 accumulated in a local array. */
static void gemv_n(int64_t N, int64_t K, float alpha, const float *a, int64_t sa, const float *B,
                   int64_t ldb, float beta, float *c)
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
static void gemv_p(int64_t N, int64_t K, float alpha, const float *a, int64_t sa, const float *Bp,
                   float beta, float *c)
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

#endif

/* ---- drivers ---- */

/* C[0:M, 0:nr] = alpha * op(A)[0:M, 0:kc] panel + beta * C, in tiles of
 * GEMM_MR rows; op(A)[i,k] at a[i*rs + k*cs], panel row k at bp + k*bs,
 * C[i,j] at c[i*ldc + j] (c[j*ldc + i] when ctr). */
static void gemm_panel(int64_t M, int64_t kc, const float *a, int64_t rs, int64_t cs,
                       const float *bp, int64_t bs, float *c, int64_t ldc, int ctr, int64_t nr,
                       float alpha, float beta)
{
    int64_t i = 0, rsc = ctr ? 1 : ldc;
    for (; i + GEMM_MR <= M; i += GEMM_MR)
        gemm_tile(GEMM_MR, kc, a + i * rs, rs, cs, bp, bs, c + i * rsc, ldc, ctr, nr, alpha,
                  beta);
    a += i * rs;
    c += i * rsc;
    switch (M - i) {
    case 1: gemm_tile(1, kc, a, rs, cs, bp, bs, c, ldc, ctr, nr, alpha, beta); break;
    case 2: gemm_tile(2, kc, a, rs, cs, bp, bs, c, ldc, ctr, nr, alpha, beta); break;
    case 3: gemm_tile(3, kc, a, rs, cs, bp, bs, c, ldc, ctr, nr, alpha, beta); break;
    case 4: gemm_tile(4, kc, a, rs, cs, bp, bs, c, ldc, ctr, nr, alpha, beta); break;
    case 5: gemm_tile(5, kc, a, rs, cs, bp, bs, c, ldc, ctr, nr, alpha, beta); break;
    default: break;
    }
}

/* The blocked GEMM: per 16-column panel and block of K rows, pack the
 * panel once and sweep all of M over it. A full panel of an untransposed
 * B smaller than GEMM_INPLACE_B floats is read in place: packing costs
 * more than it saves there. */
static void gemm_blocked(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         float *C, int64_t ldc)
{
    GEMM_ALIGNED float bp[GEMM_KC * GEMM_NR];
    int64_t rs = transA ? 1 : lda, cs = transA ? lda : 1;
    int inplace = !transB && K * ldb < GEMM_INPLACE_B;
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NR) {
        int64_t nr = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
        for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {
            int64_t kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            float b = k0 ? 1.0f : beta;
            if (inplace && nr == GEMM_NR) {
                gemm_panel(M, kc, A + k0 * cs, rs, cs, B + k0 * ldb + j0, ldb, C + j0, ldc, 0, nr,
                           alpha, b);
                continue;
            }
            gemm_pack_panel(B, ldb, transB, k0, kc, j0, nr, bp);
            gemm_panel(M, kc, A + k0 * cs, rs, cs, bp, GEMM_NR, C + j0, ldc, 0, nr, alpha, b);
        }
    }
}

/* The row c = alpha * a op(B) + beta * c of a one-row product; a[k] at
 * a[k * sa]. */
static void gemm_row(int transB, int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                     const float *B, int64_t ldb, float beta, float *c)
{
    if (!transB) {
        gemv_n(N, K, alpha, a, sa, B, ldb, beta, c);
    } else if (sa == 1) {
        gemv_t(N, K, alpha, a, B, ldb, beta, c);
    } else {
        for (int64_t j = 0; j < N; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < K; k++)
                s += a[k * sa] * B[j * ldb + k];
            c[j] = beta == 0.0f ? alpha * s : alpha * s + beta * c[j];
        }
    }
}

LOOMRT_API void loomrt_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                             const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                             float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        gemm_scale(M, N, beta, C, ldc);
        return;
    }
    if (M == 1) {
        gemm_row(transB, N, K, alpha, A, transA ? lda : 1, B, ldb, beta, C);
        return;
    }
#ifdef LOOMRT_USE_CBLAS
#ifdef GEMM_AVX2
    int small = M * N * K <= GEMM_SMALL;
#else
    int small = 0;
#endif
    if (!small) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                    A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
        return;
    }
#endif
    gemm_blocked(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

LOOMRT_API void loomrt_sgemm_packed(int transA, int transC, int64_t M, int64_t N, int64_t K,
                                    float alpha, const float *A, int64_t lda, const float *Bp,
                                    float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (transC)
            gemm_scale(N, M, beta, C, ldc);
        else
            gemm_scale(M, N, beta, C, ldc);
        return;
    }
    if (M == 1 && !transC) {
        gemv_p(N, K, alpha, A, transA ? lda : 1, Bp, beta, C);
        return;
    }
    int64_t rs = transA ? 1 : lda, cs = transA ? lda : 1;
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NR) {
        int64_t nr = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
        for (int64_t k0 = 0; k0 < K; k0 += GEMM_KC) {
            int64_t kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            gemm_panel(M, kc, A + k0 * cs, rs, cs, Bp + j0 * K + k0 * GEMM_NR, GEMM_NR,
                       C + j0 * (transC ? ldc : 1), ldc, transC, nr, alpha, k0 ? 1.0f : beta);
        }
    }
}
