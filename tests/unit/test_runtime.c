/* Unit tests of the runtime (runtime/): GEMM (portable build; the OpenBLAS
 * build is exercised by the backend tests), im2col/col2im, and the fast
 * math against libm. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "loomrt.h"

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

Test(fastmath, exp_within_2ulp)
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

Test(fastmath, tanh_and_sigmoid)
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

Test(gemm, matches_reference_all_forms)
{
    static const int shapes[][3] = {{1, 1, 1},  {1, 512, 128}, {2, 3, 4},   {7, 17, 33},
                                    {64, 64, 64}, {100, 130, 257}, {13, 1, 9}, {5, 7, 0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++) {
                    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                    float beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -0.5f;
                    float *A = malloc(sizeof(float) * (size_t)(lda * (ta ? K : M) + 1));
                    float *B = malloc(sizeof(float) * (size_t)(ldb * (tb ? N : K) + 1));
                    float *C = malloc(sizeof(float) * (size_t)(ldc * M + 1));
                    float *R = malloc(sizeof(float) * (size_t)(ldc * M + 1));
                    for (int i = 0; i < lda * (ta ? K : M); i++)
                        A[i] = (float)((i * 37 % 23) - 11) / 7.0f;
                    for (int i = 0; i < ldb * (tb ? N : K); i++)
                        B[i] = (float)((i * 53 % 19) - 9) / 5.0f;
                    for (int i = 0; i < ldc * M; i++)
                        C[i] = R[i] = beta == 0.0f ? NAN : (float)(i % 5);
                    loomrt_sgemm(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, beta, C, ldc);
                    ref_gemm(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, beta, R, ldc);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++)
                            cr_assert(fabsf(C[i * ldc + j] - R[i * ldc + j]) <=
                                          1e-4f * (1 + fabsf(R[i * ldc + j])),
                                      "M=%d N=%d K=%d ta=%d tb=%d beta=%g: C[%d,%d] = %g, want %g",
                                      M, N, K, ta, tb, beta, i, j, C[i * ldc + j], R[i * ldc + j]);
                    free(A);
                    free(B);
                    free(C);
                    free(R);
                }
}

Test(conv, im2col_then_col2im_is_the_adjoint)
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
