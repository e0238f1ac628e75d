/*
 * loom's runtime: the small set of microkernels that emitted C code (and
 * JIT code) calls. Linked into users' programs, so every name starts with
 * loomrt_. No allocation: callers pass all memory.
 *
 * Build: with LOOMRT_USE_CBLAS defined, GEMM calls cblas_sgemm (OpenBLAS);
 * otherwise a portable blocked kernel is used (the --standalone build).
 */
#ifndef LOOMRT_H
#define LOOMRT_H

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --standalone defines this as `static inline` so that several models
 * inlining the runtime link into one program. */
#ifndef LOOMRT_API
#define LOOMRT_API
#endif

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(A) is [M,K]
 * (A stored [K,M] when transA), op(B) is [K,N] (B stored [N,K] when transB);
 * lda/ldb/ldc are the row strides of A, B, C as stored. beta == 0 ignores
 * C's prior contents (NaN included). */
LOOMRT_API void loomrt_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc);

/* Unfolds one image in[C,H,W] into col[C*kh*kw, oh*ow] for a 2-D
 * convolution; padding reads as 0. */
LOOMRT_API void loomrt_im2col(const float *in, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *col);

/* The adjoint of im2col: adds col[C*kh*kw, H*W] (computed on the H x W
 * input grid of a transposed convolution) into out[C, oh, ow]; positions
 * falling in the padding are dropped. out must be initialized. */
LOOMRT_API void loomrt_col2im(const float *col, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *out);

/* ---- fast math ----
 * exp, tanh and sigmoid for f32, inline so that compilers vectorize the
 * loops that call them (libm's expf/tanhf are calls per element). Within
 * 2 ulp of the correctly rounded result on their whole range; NaN and
 * infinities behave as in libm. */

static inline float loomrt_expf(float x)
{
    /* exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2/2; Cephes
     * expf's polynomial for exp(r) */
    float xc = x > 88.7228f ? 88.7228f : x < -103.9721f ? -103.9721f : x;
    xc = x == x ? xc : 0.0f; /* NaN: keep the integer conversion defined */
    float n = floorf(xc * 1.44269504089f + 0.5f);
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n in two steps so n down to -150 stays representable */
    int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;
    union { int32_t i; float f; } s1 = {(n1 + 127) << 23}, s2 = {(n2 + 127) << 23};
    float y = p * s1.f * s2.f;
    return x != x ? x : x > 88.7228f ? INFINITY : y;
}

static inline float loomrt_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    if (a < 0.625f) { /* Cephes tanhf: odd polynomial near 0 */
        float z = x * x;
        float p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        return p * z * x + x;
    }
    float t = 1.0f - 2.0f / (loomrt_expf(2.0f * a) + 1.0f);
    return x != x ? x : x < 0 ? -t : t;
}

static inline float loomrt_sigmoidf(float x)
{
    return 1.0f / (1.0f + loomrt_expf(-x));
}

#ifdef __cplusplus
}
#endif

#endif
