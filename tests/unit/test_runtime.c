/* Unit tests of the runtime (runtime/): GEMM (loomrt_sgemm and
 * loomrt_sgemm_packed, every layout and the tile, panel and K-block edges),
 * im2col against a plain reference over random geometries, col2im as its
 * adjoint, and the fast math against libm. This file tests the runtime as
 * compiled into loomc (portable C; the OpenBLAS build is exercised by the
 * backend tests); test_runtime_avx2.c includes it to run the same tests on
 * the runtime compiled with AVX2 and FMA. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "leak_check.h"
#include "loomrt.h"

/* test_runtime_avx2.c sets an init function that skips where its build
 * cannot run. */
#ifdef RT_TEST_INIT
#define RT_TEST(suite, name) Test(suite, name, .init = RT_TEST_INIT)
#else
#define RT_TEST(suite, name) Test(suite, name)
#endif

/* Distance in units in the last place between two finite floats. */
static int64_t ulps(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0)
        ia = INT32_MIN - ia;
    if (ib < 0)
        ib = INT32_MIN - ib;
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

RT_TEST(fastmath, exp_within_2ulp)
{
    int64_t worst = 0;
    for (float x = -103.0f; x < 88.7f; x += 0.000731f) {
        float want = expf(x), got = loomrt_expf(x);
        if (want < 1.2e-38f) /* subnormal results: absolute error only */
            cr_assert(fabsf(got - want) <= 1e-44f + 1e-6f * want, "exp(%g)", x);
        else if (ulps(got, want) > worst)
            worst = ulps(got, want);
    }
    cr_assert_leq(worst, 2, "exp is %lld ulp off", (long long)worst);
    cr_assert(isnan(loomrt_expf(NAN)));
    cr_assert(isinf(loomrt_expf(INFINITY)));
    cr_assert_eq(loomrt_expf(-INFINITY), 0.0f);
    cr_assert(isinf(loomrt_expf(100.0f)));
    cr_assert_eq(loomrt_expf(0.0f), 1.0f);
}

RT_TEST(fastmath, tanh_and_sigmoid)
{
    int64_t worst = 0;
    for (float x = -20.0f; x < 20.0f; x += 0.0001f) {
        float want = tanhf(x), got = loomrt_tanhf(x);
        if (ulps(got, want) > worst && fabsf(want) > 1e-30f)
            worst = ulps(got, want);
        float s = 1.0f / (1.0f + expf(-x));
        cr_assert(fabsf(loomrt_sigmoidf(x) - s) <= 5e-7f * s, "sigmoid(%g)", x);
    }
    cr_assert_leq(worst, 4, "tanh is %lld ulp off", (long long)worst);
    cr_assert_eq(loomrt_tanhf(1e-6f), tanhf(1e-6f));
    cr_assert(isnan(loomrt_tanhf(NAN)));
    cr_assert_eq(loomrt_tanhf(INFINITY), 1.0f);
    cr_assert_eq(loomrt_tanhf(-INFINITY), -1.0f);
    cr_assert_eq(loomrt_sigmoidf(-200.0f), 0.0f);
    cr_assert_eq(loomrt_sigmoidf(200.0f), 1.0f);
}

/* Naive double-precision reference for op(A) op(B). */
static void ref_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                     (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = (float)(alpha * s + (beta == 0 ? 0 : beta * C[i * ldc + j]));
        }
}

/* Deterministic values in [-1.5, 1.5] for operand fills. */
static float val(int64_t i, int64_t mul, int64_t mod)
{
    return (float)(i * mul % mod - mod / 2) / (float)(mod / 3 + 1);
}

/* Checks C [M,N] (row stride ldc) against R within GEMM rounding, and that
 * the padding columns of each row kept their fill. */
static void check_gemm(const float *C, const float *R, int M, int N, int ldc, const char *what)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            float c = C[i * ldc + j], r = R[i * ldc + j];
            if (j >= N)
                cr_assert(c == r || (isnan(c) && isnan(r)), "%s: C[%d,%d] (padding) written",
                          what, i, j);
            else
                cr_assert(fabsf(c - r) <= 1e-4f * (1 + fabsf(r)), "%s: C[%d,%d] = %g, want %g",
                          what, i, j, c, r);
        }
}

/* The shapes cover one-row products (the GEMV paths), tiles of 1 to 6
 * rows, panels of 16 columns with partial ones, K blocks of 256 (1024
 * when B is packed) with remainders, K = 0, and B both small (read in
 * place) and large (packed), and large B read in place by thin products
 * (at most 64 rows, AVX-512), over several K blocks and a last partial
 * column block; 12k + 1 to 3 rows, whose last 13 to 15 go in two AVX-512
 * tiles, and 12k + 9 to 11, whose last rows do too; thin products of 2 to
 * 16 rows over blocks of columns, whose first tile of rows (1 to 12 rows)
 * fetches the next block of B ahead with AVX-512, and one of 16 rows over
 * 2100 columns (2^15 outputs or more), whose tiles fetch the lines of C
 * the next block writes. */
static const int gemm_shapes[][3] = {
    {1, 1, 1},    {1, 512, 128}, {1, 70, 33},   {1, 1, 4096}, {2, 3, 4},   {7, 17, 33},
    {6, 16, 256}, {13, 1, 9},    {5, 7, 0},     {64, 64, 64}, {12, 40, 300}, {3, 100, 257},
    {32, 65, 9},  {100, 130, 257}, {1, 9, 600}, {65, 31, 520}, {17, 1000, 300},
    {64, 1030, 70}, {49, 40, 300}, {14, 33, 20}, {27, 64, 70}, {9, 40, 300}, {10, 33, 20},
    {23, 64, 70}, {16, 45, 33}, {28, 70, 20}, {13, 40, 1100}, {25, 17, 2100},
    {2, 100, 20}, {3, 100, 20}, {4, 100, 20}, {5, 130, 300}, {6, 100, 20}, {7, 100, 20},
    {8, 100, 20}, {9, 100, 20}, {10, 100, 20}, {11, 100, 20}, {12, 100, 20}, {15, 100, 20},
    {16, 200, 40},  {16, 2100, 20},
};

/* Runs fn once per instruction-set level this CPU has (portable, AVX2,
 * AVX-512), the GEMM dispatch forced to it, then restores the default. */
static void for_each_isa(void (*fn)(int isa))
{
    int top = loomrt_isa_detect();
    for (int isa = LOOMRT_ISA_PORTABLE; isa <= top; isa++) {
        cr_assert_eq(loomrt_isa_force(isa), isa);
        cr_assert_eq(loomrt_isa_get(), isa);
        fn(isa);
    }
    loomrt_isa_force(-1);
}

/* loomrt_sgemm on M x N x K in every layout, against the reference. */
static void gemm_check_shape(int isa, int M, int N, int K)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int bi = 0; bi < 3; bi++) {
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                float beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -0.5f;
                float *A = malloc(sizeof(float) * (size_t)(lda * (ta ? K : M) + 1));
                float *B = malloc(sizeof(float) * (size_t)(ldb * (tb ? N : K) + 1));
                float *C = malloc(sizeof(float) * (size_t)(ldc * M + 1));
                float *R = malloc(sizeof(float) * (size_t)(ldc * M + 1));
                for (int i = 0; i < lda * (ta ? K : M); i++)
                    A[i] = val(i, 37, 23);
                for (int i = 0; i < ldb * (tb ? N : K); i++)
                    B[i] = val(i, 53, 19);
                for (int i = 0; i < ldc * M; i++)
                    C[i] = R[i] = beta == 0.0f ? NAN : (float)(i % 5);
                loomrt_sgemm(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, beta, C, ldc);
                ref_gemm(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, beta, R, ldc);
                char what[112];
                snprintf(what, sizeof what, "isa %d: sgemm M=%d N=%d K=%d ta=%d tb=%d beta=%g",
                         isa, M, N, K, ta, tb, beta);
                check_gemm(C, R, M, N, ldc, what);
                free(A);
                free(B);
                free(C);
                free(R);
            }
}

static void gemm_shapes_at(int isa)
{
    for (size_t s = 0; s < sizeof gemm_shapes / sizeof gemm_shapes[0]; s++)
        gemm_check_shape(isa, gemm_shapes[s][0], gemm_shapes[s][1], gemm_shapes[s][2]);
}

RT_TEST(gemm, matches_reference_all_forms)
{
    for_each_isa(gemm_shapes_at);
}

/* The odd sizes of every dimension, all combinations: tile, panel and
 * vector remainders of each kernel. */
static const int odd_dims[] = {1, 3, 7, 17, 33, 65};
#define N_ODD (int)(sizeof odd_dims / sizeof odd_dims[0])

static void gemm_odd_at(int isa)
{
    for (int m = 0; m < N_ODD; m++)
        for (int n = 0; n < N_ODD; n++)
            for (int k = 0; k < N_ODD; k++)
                gemm_check_shape(isa, odd_dims[m], odd_dims[n], odd_dims[k]);
}

RT_TEST(gemm, odd_shapes_every_isa)
{
    for_each_isa(gemm_odd_at);
}

/* Forcing the dispatch: capped at what the CPU runs, -1 goes back to the
 * default, which LOOMRT_ISA lowers. */
RT_TEST(gemm, isa_dispatch_is_forced_and_capped)
{
    int top = loomrt_isa_detect();
    cr_assert(top >= LOOMRT_ISA_PORTABLE && top <= LOOMRT_ISA_AVX512);
    cr_assert_eq(loomrt_isa_force(LOOMRT_ISA_AVX512), top);
    cr_assert_eq(loomrt_isa_force(LOOMRT_ISA_PORTABLE), LOOMRT_ISA_PORTABLE);
    cr_assert_eq(loomrt_isa_get(), LOOMRT_ISA_PORTABLE);
    setenv("LOOMRT_ISA", "portable", 1);
    cr_assert_eq(loomrt_isa_force(-1), LOOMRT_ISA_PORTABLE);
    setenv("LOOMRT_ISA", "avx2", 1);
    cr_assert_eq(loomrt_isa_force(-1), top < LOOMRT_ISA_AVX2 ? top : LOOMRT_ISA_AVX2);
    setenv("LOOMRT_ISA", "bogus", 1);
    cr_assert_eq(loomrt_isa_force(-1), top);
    unsetenv("LOOMRT_ISA");
    cr_assert_eq(loomrt_isa_force(-1), top);
    cr_assert_eq(loomrt_blas_preferred(), 0, "loomc's runtime has no OpenBLAS");
}

/* loomrt_sgemm_packed against the reference: B packed from either layout,
 * A either layout, C row-major or transposed (then written through a
 * transposed copy with its own padding). */
static void packed_check_shape(int isa, int M, int N, int K)
{
    for (int form = 0; form < 8; form++) {
        int ta = form & 1, tb = form >> 1 & 1, tc = form >> 2;
        int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2, ldt = M + 1;
        float beta = form % 3 == 0 ? 0.0f : form % 3 == 1 ? 1.0f : 0.25f;
        int64_t ps = loomrt_sgemm_packed_size(N, K);
        cr_assert_eq(ps, (N + LOOMRT_SGEMM_NR - 1) / LOOMRT_SGEMM_NR * LOOMRT_SGEMM_NR * K);
        float *A = malloc(sizeof(float) * (size_t)(lda * (ta ? K : M) + 1));
        float *B = malloc(sizeof(float) * (size_t)(ldb * (tb ? N : K) + 1));
        float *Bp = malloc(sizeof(float) * (size_t)(ps + 1));
        float *C = malloc(sizeof(float) * (size_t)(ldc * M + 1));
        float *R = malloc(sizeof(float) * (size_t)(ldc * M + 1));
        float *T = malloc(sizeof(float) * (size_t)(ldt * N + 1));
        for (int i = 0; i < lda * (ta ? K : M); i++)
            A[i] = val(i, 29, 17);
        for (int i = 0; i < ldb * (tb ? N : K); i++)
            B[i] = val(i, 41, 13);
        for (int i = 0; i < ldc * M; i++)
            C[i] = R[i] = beta == 0.0f ? NAN : (float)(i % 7) - 3.0f;
        loomrt_sgemm_pack_b(tb, N, K, B, ldb, Bp);
        if (tc) { /* C^T [N, M] with row stride ldt, padding NaN */
            for (int j = 0; j < N; j++)
                for (int i = 0; i < ldt; i++)
                    T[j * ldt + i] = i < M ? C[i * ldc + j] : NAN;
            loomrt_sgemm_packed(ta, 1, M, N, K, -0.75f, A, lda, Bp, beta, T, ldt);
            for (int j = 0; j < N; j++) {
                for (int i = 0; i < M; i++)
                    C[i * ldc + j] = T[j * ldt + i];
                cr_assert(isnan(T[j * ldt + M]), "transposed C: padding written");
            }
        } else {
            loomrt_sgemm_packed(ta, 0, M, N, K, -0.75f, A, lda, Bp, beta, C, ldc);
        }
        ref_gemm(ta, tb, M, N, K, -0.75f, A, lda, B, ldb, beta, R, ldc);
        char what[112];
        snprintf(what, sizeof what, "isa %d: packed M=%d N=%d K=%d ta=%d tb=%d tc=%d beta=%g",
                 isa, M, N, K, ta, tb, tc, beta);
        check_gemm(C, R, M, N, ldc, what);
        free(A);
        free(B);
        free(Bp);
        free(C);
        free(R);
        free(T);
    }
}

static void packed_shapes_at(int isa)
{
    for (size_t s = 0; s < sizeof gemm_shapes / sizeof gemm_shapes[0]; s++)
        packed_check_shape(isa, gemm_shapes[s][0], gemm_shapes[s][1], gemm_shapes[s][2]);
}

RT_TEST(gemm, packed_matches_reference_all_forms)
{
    for_each_isa(packed_shapes_at);
}

static void packed_odd_at(int isa)
{
    for (int m = 0; m < N_ODD; m++)
        for (int n = 0; n < N_ODD; n++)
            for (int k = 0; k < N_ODD; k++)
                packed_check_shape(isa, odd_dims[m], odd_dims[n], odd_dims[k]);
}

RT_TEST(gemm, packed_odd_shapes_every_isa)
{
    for_each_isa(packed_odd_at);
}

/* A^T packed by tiles for the AVX2 kernel (128 columns or more, 6144
 * floats of A^T or more, blocks of K of at most 24576 floats, all of K or
 * 256 rows or more): partial and single tiles, A^T at the size bound and
 * just under it (64 x 95: read in place), the pack exactly full (48 x
 * 512), two blocks (48 x 513, 96 x 257: the fewest rows a block may have;
 * one row of 7000), three of unequal length (49 x 961), and too many rows
 * for blocks of 256 (97 x 257: read in place). */
static const int pack_at_shapes[][3] = {
    {5, 128, 1300}, {6, 128, 1024}, {7, 130, 1000}, {13, 144, 480}, {64, 128, 95},
    {48, 128, 512}, {48, 128, 513}, {96, 128, 257}, {1, 128, 7000}, {49, 129, 961},
    {97, 128, 257},
};

static void packed_at_at(int isa)
{
    for (size_t s = 0; s < sizeof pack_at_shapes / sizeof pack_at_shapes[0]; s++)
        packed_check_shape(isa, pack_at_shapes[s][0], pack_at_shapes[s][1], pack_at_shapes[s][2]);
}

RT_TEST(gemm, packed_at_tiles_every_isa)
{
    for_each_isa(packed_at_at);
}

/* One-row products (the matrix-vector kernels): N across their column
 * groups (8 and 16 lanes, panels of 16, blocks of 64 and 128 columns) and
 * K across the interleaved partial sums (1 to 4 rows per step, with
 * remainders), in every layout of loomrt_sgemm and loomrt_sgemm_packed. */
static const int gemv_n[] = {1, 15, 16, 17, 31, 48, 63, 64, 65, 127, 128, 129, 143, 257};
static const int gemv_k[] = {1, 2, 3, 4, 5, 7, 17, 255};

static void gemv_at(int isa)
{
    for (size_t n = 0; n < sizeof gemv_n / sizeof gemv_n[0]; n++)
        for (size_t k = 0; k < sizeof gemv_k / sizeof gemv_k[0]; k++) {
            gemm_check_shape(isa, 1, gemv_n[n], gemv_k[k]);
            packed_check_shape(isa, 1, gemv_n[n], gemv_k[k]);
        }
}

RT_TEST(gemm, gemv_every_isa)
{
    for_each_isa(gemv_at);
}

/* A one-row packed product computed over any run of its panels gives
 * each column the sum the whole product gives, bit for bit: Winograd's
 * slots and the GEMM's threads split such products at any panel. Every
 * start and length of 1 to 9 panels of 9 (all the kernels' groupings of
 * 1 to 4 panels and their blocks), K across the partial sums. */
static void gemv_grouping_at(int isa)
{
    static const int ks[] = {1, 3, 4, 5, 37, 256};
    const int N = 9 * LOOMRT_SGEMM_NR - 5;
    for (size_t kk = 0; kk < sizeof ks / sizeof ks[0]; kk++) {
        int K = ks[kk];
        float *B = malloc(sizeof(float) * (size_t)(N * K));
        float *Bp = malloc(sizeof(float) * (size_t)loomrt_sgemm_packed_size(N, K));
        float *a = malloc(sizeof(float) * (size_t)K);
        float whole[9 * LOOMRT_SGEMM_NR], part[9 * LOOMRT_SGEMM_NR];
        for (int i = 0; i < N * K; i++)
            B[i] = val(i, 41, 13) * 0.37f;
        for (int k = 0; k < K; k++)
            a[k] = val(k, 29, 17) * 1.3f;
        loomrt_sgemm_pack_b(0, N, K, B, N, Bp);
        loomrt_sgemm_packed(0, 0, 1, N, K, 1.0f, a, K, Bp, 0.0f, whole, N);
        for (int p0 = 0; p0 < 9; p0++)
            for (int np = 1; p0 + np <= 9; np++) {
                int j0 = p0 * LOOMRT_SGEMM_NR, n = np * LOOMRT_SGEMM_NR;
                n = j0 + n < N ? n : N - j0;
                loomrt_sgemm_packed(0, 0, 1, n, K, 1.0f, a, K, Bp + (int64_t)j0 * K, 0.0f,
                                    part, n);
                for (int j = 0; j < n; j++)
                    cr_assert(memcmp(&part[j], &whole[j0 + j], sizeof(float)) == 0,
                              "isa %d K=%d: panels [%d, %d) column %d: %.9g, whole %.9g", isa,
                              K, p0, p0 + np, j0 + j, part[j], whole[j0 + j]);
            }
        free(B);
        free(Bp);
        free(a);
    }
}

RT_TEST(gemm, gemv_packed_grouping_bit_exact_every_isa)
{
    for_each_isa(gemv_grouping_at);
}

/* The packed layout itself: panel p holds columns [16p, 16p + 16) as
 * [K][16] rows, zero past N. */
RT_TEST(gemm, pack_b_layout)
{
    enum { K = 3, N = 20 };
    float B[K * N], Bt[N * K], p1[2 * 16 * K], p2[2 * 16 * K];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            B[k * N + j] = Bt[j * K + k] = (float)(100 * k + j);
    loomrt_sgemm_pack_b(0, N, K, B, N, p1);
    loomrt_sgemm_pack_b(1, N, K, Bt, K, p2);
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < 16; j++) {
                float want = 16 * p + j < N ? (float)(100 * k + 16 * p + j) : 0.0f;
                cr_assert_eq(p1[(p * K + k) * 16 + j], want, "panel %d row %d col %d", p, k, j);
                cr_assert_eq(p2[(p * K + k) * 16 + j], want, "transposed: panel %d", p);
            }
}

/* Plain im2col: every output element tested against the image. */
static void ref_im2col(const float *in, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                       int64_t oh, int64_t ow, int64_t pt, int64_t pl, int64_t sh, int64_t sw,
                       int64_t dh, int64_t dw, float *col)
{
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++)
                for (int64_t y = 0; y < oh; y++)
                    for (int64_t x = 0; x < ow; x++) {
                        int64_t iy = y * sh - pt + ki * dh, ix = x * sw - pl + kj * dw;
                        col[(((c * kh + ki) * kw + kj) * oh + y) * ow + x] =
                            iy >= 0 && iy < H && ix >= 0 && ix < W ? in[(c * H + iy) * W + ix]
                                                                   : 0.0f;
                    }
}

/* Random geometries (strides 1-3, dilations 1-2, pads 0-2 on each side,
 * rows from 1 to 30 outputs, and planes past the padded copy's 2048
 * floats, unfolded in place): im2col equals the reference exactly and
 * writes nothing past its output. */
RT_TEST(conv, im2col_matches_reference)
{
    uint32_t seed = 1;
    int cases = 0, large = 0, rows8 = 0, rows16 = 0;
    for (int t = 0; t < 4600; t++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 4;
        seed = seed * 1103515245u + 12345u;
        uint32_t q = seed >> 4;
        int big = t >= 4000; /* H 40 to 71, W 50 to 113 */
        int64_t C = 1 + r % 3, H = big ? 40 + (r >> 2) % 32 : 1 + (r >> 2) % 13;
        int64_t W = big ? 50 + (r >> 6) % 64 : 1 + (r >> 6) % 31, kh = 1 + (r >> 11) % 4;
        int64_t kw = 1 + (r >> 13) % 4, sh = 1 + (r >> 15) % 3, sw = 1 + (r >> 17) % 3;
        int64_t dh = 1 + (r >> 19) % 2, dw = 1 + (r >> 20) % 2, pt = (r >> 21) % 3;
        int64_t pl = (r >> 23) % 3, pb = q % 3, pr = (q >> 2) % 3;
        int64_t eh = H + pt + pb - (kh - 1) * dh - 1, ew = W + pl + pr - (kw - 1) * dw - 1;
        if (eh < 0 || ew < 0)
            continue;
        int64_t oh = eh / sh + 1, ow = ew / sw + 1;
        size_t ni = (size_t)(C * H * W), nc = (size_t)(C * kh * kw * oh * ow);
        float *in = malloc(sizeof(float) * ni), *got = malloc(sizeof(float) * (nc + 1));
        float *want = malloc(sizeof(float) * (nc + 1));
        for (size_t i = 0; i < ni; i++)
            in[i] = (float)(i + 1);
        for (size_t i = 0; i <= nc; i++)
            got[i] = want[i] = -7.0f;
        loomrt_im2col(in, C, H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, got);
        ref_im2col(in, C, H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, want);
        cr_assert(memcmp(got, want, sizeof(float) * (nc + 1)) == 0,
                  "C=%lld H=%lld W=%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld pads %lld,%lld",
                  (long long)C, (long long)H, (long long)W, (long long)kh, (long long)kw,
                  (long long)sh, (long long)sw, (long long)dh, (long long)dw, (long long)pt,
                  (long long)pl);
        free(in);
        free(got);
        free(want);
        cases++;
        large += ((oh - 1) * sh + (kh - 1) * dh + 1) * ((ow - 1) * sw + (kw - 1) * dw + 1) > 2048;
        /* im2col_plane's nests of row pairs and of rows */
        rows8 += sw == 2 && ow == 8 && oh % 2 == 0;
        rows16 += sw == 2 && ow == 16;
    }
    cr_assert_gt(cases, 3000);
    cr_assert_gt(large, 200);
    cr_assert_gt(rows8, 20);
    cr_assert_gt(rows16, 20);
}

/* Plain col2im: every column element added where it lands. */
static void ref_col2im(const float *col, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                       int64_t oh, int64_t ow, int64_t pt, int64_t pl, int64_t sh, int64_t sw,
                       int64_t dh, int64_t dw, float *out)
{
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++)
                for (int64_t y = 0; y < H; y++)
                    for (int64_t x = 0; x < W; x++) {
                        int64_t oy = y * sh - pt + ki * dh, ox = x * sw - pl + kj * dw;
                        if (oy >= 0 && oy < oh && ox >= 0 && ox < ow)
                            out[(c * oh + oy) * ow + ox] +=
                                col[(((c * kh + ki) * kw + kj) * H + y) * W + x];
                    }
}

/* Random geometries, outputs from 1 to 40 wide: col2im adds exactly what
 * the reference adds, in the same order, and nothing past the output.
 * Every other case has integer-valued data (any order of the sums would
 * be exact), the rest fractions whose sums round differently in another
 * order. */
RT_TEST(conv, col2im_matches_reference)
{
    uint32_t seed = 7;
    for (int t = 0; t < 3000; t++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 4;
        seed = seed * 1103515245u + 12345u;
        uint32_t q = seed >> 4;
        int64_t C = 1 + r % 3, H = 1 + (r >> 2) % 13, W = 1 + (r >> 6) % 23, kh = 1 + (r >> 11) % 4;
        int64_t kw = 1 + (r >> 13) % 4, sh = 1 + (r >> 15) % 3, sw = 1 + (r >> 17) % 3;
        int64_t dh = 1 + (r >> 19) % 2, dw = 1 + (r >> 20) % 2, pt = (r >> 21) % 3;
        int64_t pl = (r >> 23) % 3, oh = 1 + q % 40, ow = 1 + (q >> 6) % 40;
        size_t no = (size_t)(C * oh * ow), nc = (size_t)(C * kh * kw * H * W);
        float *col = malloc(sizeof(float) * nc), *got = malloc(sizeof(float) * (no + 1));
        float *want = malloc(sizeof(float) * (no + 1));
        float frac = t % 2 ? 0.1f : 1.0f;
        for (size_t i = 0; i < nc; i++)
            col[i] = ((float)(i * 7 % 13) - 6.0f) * frac + (t % 2 ? 1e-5f * (float)(i % 7) : 0.0f);
        for (size_t i = 0; i <= no; i++)
            got[i] = want[i] = ((float)(i % 3) - 1.0f) * frac * 1000.0f;
        loomrt_col2im(col, C, H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, got);
        ref_col2im(col, C, H, W, kh, kw, oh, ow, pt, pl, sh, sw, dh, dw, want);
        cr_assert(memcmp(got, want, sizeof(float) * (no + 1)) == 0,
                  "C=%lld H=%lld W=%lld k=%lldx%lld s=%lld,%lld d=%lld,%lld pads %lld,%lld "
                  "out %lldx%lld",
                  (long long)C, (long long)H, (long long)W, (long long)kh, (long long)kw,
                  (long long)sh, (long long)sw, (long long)dh, (long long)dw, (long long)pt,
                  (long long)pl, (long long)oh, (long long)ow);
        free(col);
        free(got);
        free(want);
    }
}

/* col2im at column stride 2 with windows 3 columns wide and more (the
 * vector kernels' col2im_plane_s2: 16 or 32 outputs a step, the taps past
 * a row's ends moved into place): rows of 8 inputs and more, outputs in
 * whole steps, with 1 to 7 left over, and 8 or more (another path),
 * windows over both edges, dilated, against the reference bit for bit. */
RT_TEST(conv, col2im_stride2_rows_match_reference)
{
    static const int64_t geo[][7] = {
        /* W, kw, pad_l, dil_w, ow, kh, stride_h */
        {16, 4, 1, 1, 32, 4, 2}, {8, 4, 1, 1, 16, 4, 2},  {9, 3, 1, 1, 17, 3, 2},
        {12, 5, 2, 1, 23, 5, 2}, {13, 4, 1, 1, 26, 4, 2}, {16, 3, 0, 2, 33, 3, 1},
        {20, 4, 2, 1, 40, 2, 2}, {11, 4, 0, 1, 24, 1, 1}, {30, 3, 1, 1, 63, 4, 2},
        {8, 3, 2, 2, 16, 3, 2},
    };
    for (size_t t = 0; t < sizeof geo / sizeof geo[0]; t++) {
        int64_t W = geo[t][0], kw = geo[t][1], pl = geo[t][2], dw = geo[t][3], ow = geo[t][4];
        int64_t kh = geo[t][5], sh = geo[t][6], C = 3, H = 7, oh = (H - 1) * sh + kh - 1;
        size_t no = (size_t)(C * oh * ow), nc = (size_t)(C * kh * kw * H * W);
        float *col = malloc(sizeof(float) * nc), *got = malloc(sizeof(float) * (no + 1));
        float *want = malloc(sizeof(float) * (no + 1));
        for (size_t i = 0; i < nc; i++)
            col[i] = ((float)(i * 7 % 13) - 6.0f) * 0.1f + 1e-5f * (float)(i % 7);
        for (size_t i = 0; i <= no; i++)
            got[i] = want[i] = ((float)(i % 3) - 1.0f) * 100.0f;
        loomrt_col2im(col, C, H, W, kh, kw, oh, ow, 1, pl, sh, 2, 1, dw, got);
        ref_col2im(col, C, H, W, kh, kw, oh, ow, 1, pl, sh, 2, 1, dw, want);
        cr_assert(memcmp(got, want, sizeof(float) * (no + 1)) == 0,
                  "W=%lld kw=%lld pad_l=%lld dil_w=%lld out %lldx%lld kh=%lld stride_h=%lld",
                  (long long)W, (long long)kw, (long long)pl, (long long)dw, (long long)oh,
                  (long long)ow, (long long)kh, (long long)sh);
        free(col);
        free(got);
        free(want);
    }
}

RT_TEST(conv, im2col_then_col2im_is_the_adjoint)
{
    /* <im2col(x), y> == <x, col2im(y)> for random x, y: the two kernels are
     * exact adjoints, which is what ConvTranspose relies on */
    enum { C = 2, H = 5, W = 6, KH = 3, KW = 2, OH = 3, OW = 4 };
    float x[C * H * W], col[C * KH * KW * OH * OW], y[C * KH * KW * OH * OW], back[C * H * W];
    for (int i = 0; i < C * H * W; i++)
        x[i] = (float)((i * 7 % 11) - 5);
    for (int i = 0; i < C * KH * KW * OH * OW; i++)
        y[i] = (float)((i * 5 % 13) - 6);
    loomrt_im2col(x, C, H, W, KH, KW, OH, OW, 1, 0, 2, 1, 1, 2, col);
    memset(back, 0, sizeof back);
    /* col2im's grid is the small one: here the "input" of the transposed
     * conv is OH x OW and its output H x W */
    loomrt_col2im(y, C, OH, OW, KH, KW, H, W, 1, 0, 2, 1, 1, 2, back);
    double lhs = 0, rhs = 0;
    for (int i = 0; i < C * KH * KW * OH * OW; i++)
        lhs += (double)col[i] * y[i];
    for (int i = 0; i < C * H * W; i++)
        rhs += (double)x[i] * back[i];
    cr_assert_float_eq(lhs, rhs, 1e-6);
    /* a padded position of im2col reads as zero */
    cr_assert_eq(col[0], 0.0f, "top padding row");
}
