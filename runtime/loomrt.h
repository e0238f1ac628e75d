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

#ifdef __cplusplus
}
#endif

#endif
