/*
 * Single-precision GEMM. A single row (M == 1: batch-1 dense layers and
 * recurrent steps) is computed here as matrix-vector products, where a GEMM
 * library spends more on packing and dispatch than on arithmetic. Otherwise,
 * with LOOMRT_USE_CBLAS it forwards to cblas_sgemm (OpenBLAS); without, a
 * portable blocked kernel in the style of BLIS / Goto: B is packed into
 * KC x NR panels, A into MR x KC slivers, and an MR x NR micro-kernel
 * accumulates in registers (plain C written so that compilers vectorize the
 * NR loop). No allocation: packing buffers are fixed-size stack arrays.
 */
#include "loomrt.h"

#ifdef LOOMRT_USE_CBLAS
#include <cblas.h>
#endif

#define DOT_LANES 16

/* sum_k a[k * sa] * b[k], with DOT_LANES independent partial sums so the
 * loop vectorizes without reassociating one sum. */
static float gemm_dot(const float *a, int64_t sa, const float *b, int64_t K)
{
    float acc[DOT_LANES] = {0};
    int64_t k = 0;
    if (sa == 1)
        for (; k + DOT_LANES <= K; k += DOT_LANES)
            for (int u = 0; u < DOT_LANES; u++)
                acc[u] += a[k + u] * b[k + u];
    for (; k < K; k++)
        acc[k % DOT_LANES] += a[k * sa] * b[k];
    float s = 0.0f;
    for (int u = 0; u < DOT_LANES; u++)
        s += acc[u];
    return s;
}

/* c[0:N] = alpha * a op(B) + beta * c for the row a of op(A) (stride sa). */
static void gemm_row(int transB, int64_t N, int64_t K, float alpha, const float *a, int64_t sa,
                     const float *B, int64_t ldb, float beta, float *c)
{
    for (int64_t j = 0; j < N; j++)
        c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    if (transB) {
        for (int64_t j = 0; j < N; j++)
            c[j] += alpha * gemm_dot(a, sa, B + j * ldb, K);
        return;
    }
    for (int64_t k = 0; k < K; k++) {
        float ak = alpha * a[k * sa];
        const float *b = B + k * ldb;
        for (int64_t j = 0; j < N; j++)
            c[j] += ak * b[j];
    }
}

#ifndef LOOMRT_USE_CBLAS

#define MR 6
#define NR 16
#define KC 128
#define MC 72
#define NC 128

/* op(A)[i,k] and op(B)[k,j] for the stored layouts. */
static float gemm_a_at(const float *A, int64_t lda, int transA, int64_t i, int64_t k)
{
    return transA ? A[k * lda + i] : A[i * lda + k];
}
static float gemm_b_at(const float *B, int64_t ldb, int transB, int64_t k, int64_t j)
{
    return transB ? B[j * ldb + k] : B[k * ldb + j];
}

/* Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-wide panels, zero-padded. */
static void gemm_pack_b(const float *B, int64_t ldb, int transB, int64_t k0, int64_t kc,
                        int64_t j0, int64_t nc, float *bp)
{
    for (int64_t jp = 0; jp < nc; jp += NR)
        for (int64_t k = 0; k < kc; k++)
            for (int64_t j = 0; j < NR; j++)
                *bp++ = jp + j < nc ? gemm_b_at(B, ldb, transB, k0 + k, j0 + jp + j) : 0.0f;
}

/* Packs alpha * op(A)[i0:i0+mc, k0:k0+kc] into MR-tall slivers. */
static void gemm_pack_a(const float *A, int64_t lda, int transA, int64_t i0, int64_t mc,
                        int64_t k0, int64_t kc, float alpha, float *ap)
{
    for (int64_t ip = 0; ip < mc; ip += MR)
        for (int64_t k = 0; k < kc; k++)
            for (int64_t i = 0; i < MR; i++)
                *ap++ = ip + i < mc ? alpha * gemm_a_at(A, lda, transA, i0 + ip + i, k0 + k) : 0.0f;
}

/* acc[MR][NR] = sliver(ap) x panel(bp) over kc; adds into C[mr x nr]. */
static void gemm_micro(int64_t kc, const float *ap, const float *bp, float *C, int64_t ldc,
                       int64_t mr, int64_t nr)
{
    float acc[MR][NR] = {{0}};
    for (int64_t k = 0; k < kc; k++) {
        const float *b = bp + k * NR;
        const float *a = ap + k * MR;
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += a[i] * b[j];
    }
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++)
            C[i * ldc + j] += acc[i][j];
}

/* The blocked GEMM for M > 1 (C already scaled by beta). */
static void gemm_blocked(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float *C,
                         int64_t ldc)
{
    float ap[MC * KC], bp[KC * NC];
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        int64_t nc = N - j0 < NC ? N - j0 : NC;
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            int64_t kc = K - k0 < KC ? K - k0 : KC;
            gemm_pack_b(B, ldb, transB, k0, kc, j0, nc, bp);
            for (int64_t i0 = 0; i0 < M; i0 += MC) {
                int64_t mc = M - i0 < MC ? M - i0 : MC;
                gemm_pack_a(A, lda, transA, i0, mc, k0, kc, alpha, ap);
                for (int64_t jr = 0; jr < nc; jr += NR)
                    for (int64_t ir = 0; ir < mc; ir += MR)
                        gemm_micro(kc, ap + ir * kc, bp + jr * kc, C + (i0 + ir) * ldc + j0 + jr,
                                   ldc, mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR);
            }
        }
    }
}

#endif

LOOMRT_API void loomrt_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                             const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                             float *C, int64_t ldc)
{
    if (M == 1) {
        gemm_row(transB, N, K, alpha, A, transA ? lda : 1, B, ldb, beta, C);
        return;
    }
#ifdef LOOMRT_USE_CBLAS
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha, A,
                (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
#else
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    gemm_blocked(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
#endif
}
