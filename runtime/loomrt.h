/*
 * loom's runtime: the small set of microkernels that emitted C code (and
 * JIT code) calls. Linked into users' programs, so every name starts with
 * loomrt_. No allocation: callers pass all memory.
 *
 * Build: with LOOMRT_USE_CBLAS defined, large GEMMs may call cblas_sgemm
 * (OpenBLAS); otherwise (the --standalone build) the runtime's own kernels
 * run (loomrt_gemm.c states the rule). The GEMM kernels are chosen at run
 * time from the CPU's features (loomrt_cpu.c): AVX-512, AVX2 with FMA, or
 * portable C, whatever -march the runtime was compiled with (GCC and clang
 * compile each kernel for its own instruction set). im2col uses AVX2
 * intrinsics when compiled with AVX2 enabled.
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

/* ---- instruction sets ----
 * The levels of the GEMM kernels, lowest first. */
#define LOOMRT_ISA_PORTABLE 0
#define LOOMRT_ISA_AVX2 1   /* AVX2 with FMA, 256-bit */
#define LOOMRT_ISA_AVX512 2 /* AVX-512F, 512-bit */

/* x86 with GCC or clang: kernels compiled per instruction set with the
 * target attribute, chosen by cpuid at run time. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LOOMRT_X86 1
#define LOOMRT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define LOOMRT_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif

/* The highest level this CPU runs (cpuid; the OS saves its registers). */
LOOMRT_API int loomrt_isa_detect(void);

/* The level the kernels use: loomrt_isa_detect(), lowered by the
 * environment variable LOOMRT_ISA (portable, avx2, avx512) or by
 * loomrt_isa_force. Read once and cached. */
LOOMRT_API int loomrt_isa_get(void);

/* Forces the kernels down to level (capped at loomrt_isa_detect()), or
 * back to the default with -1; returns the level now in use. For tests
 * and benchmarks: not to be called while a model runs. */
LOOMRT_API int loomrt_isa_force(int level);

/* Whether loomrt_sgemm hands large products to OpenBLAS: only when its
 * kernel (openblas_get_corename) is as wide as the runtime's own at
 * loomrt_isa_get(). 0 in the standalone build. */
LOOMRT_API int loomrt_blas_preferred(void);

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(A) is [M,K]
 * (A stored [K,M] when transA), op(B) is [K,N] (B stored [N,K] when transB);
 * lda/ldb/ldc are the row strides of A, B, C as stored. beta == 0 ignores
 * C's prior contents (NaN included). */
LOOMRT_API void loomrt_sgemm(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                  int64_t ldc);

/* Panel width of the packed B layout of loomrt_sgemm_packed. */
#define LOOMRT_SGEMM_NR 16

/* The same product with B given packed by loomrt_sgemm_pack_b (the
 * compiler packs constant weights ahead of time): op(A) [M,K] as above,
 * Bp the packed op(B) [K,N]; C stored [N,M] (row stride ldc) when transC,
 * so that C^T = B^T A^T products write C directly. */
LOOMRT_API void loomrt_sgemm_packed(int transA, int transC, int64_t M, int64_t N, int64_t K,
                                    float alpha, const float *A, int64_t lda, const float *Bp,
                                    float beta, float *C, int64_t ldc);

/* Floats in the packed form of a [K,N] matrix: N rounded up to a multiple
 * of LOOMRT_SGEMM_NR, times K. */
LOOMRT_API int64_t loomrt_sgemm_packed_size(int64_t N, int64_t K);

/* Packs op(B) [K,N] (B stored [N,K] when transB, row stride ldb) into Bp
 * (loomrt_sgemm_packed_size floats): panels of LOOMRT_SGEMM_NR columns,
 * each [K][LOOMRT_SGEMM_NR] row-major, zero past column N. */
LOOMRT_API void loomrt_sgemm_pack_b(int transB, int64_t N, int64_t K, const float *B, int64_t ldb,
                                    float *Bp);

/* Whether loomrt_sgemm_packed_part, given room, packs A^T of a product
 * of N columns and K rows of K first (on AVX-512 CPUs; a function of the
 * shape only, so that the compiler plans the room). */
LOOMRT_API int loomrt_sgemm_packs_at(int64_t N, int64_t K);

/* Rows [i0, i0 + M) of loomrt_sgemm_packed_epi's product of m_all rows
 * (the operands A, C, bias and res given at row i0) on the calling
 * thread, each element the sum the whole product computes, bit for bit:
 * for kernels that split a product among their threads themselves. ap
 * (M*K floats, or NULL) is scratch where A^T (transA) is packed first for
 * the CPU's kernel when loomrt_sgemm_packs_at(N, K); its contents are
 * then undefined. */
LOOMRT_API void loomrt_sgemm_packed_part(int transA, int transC, int64_t m_all, int64_t M,
                                         int64_t N, int64_t K, float alpha, const float *A,
                                         int64_t lda, float *ap, const float *Bp, float beta,
                                         float *C, int64_t ldc, const float *bias,
                                         int64_t bias_rs, int64_t bias_cs, const float *res,
                                         int act, float act_alpha, float act_beta);

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

/* Floats of scratch loomrt_conv2d_t needs for the convolution of these
 * arguments: the unfolded image (none when the window is pointwise: x is
 * its own), and as much again when the product packs it
 * (loomrt_sgemm_packs_at(M, C*kh*kw)). */
LOOMRT_API int64_t loomrt_conv2d_t_scratch(int64_t C, int64_t M, int64_t H, int64_t W,
                                           int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                           int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                           int64_t stride_w);

/* One group of a 2-D convolution over a small plane, y [M, oh, ow] =
 * epilogue(w [M, C*kh*kw] x unfold(x [C, H, W])), as loomrt_im2col into
 * scratch (not for a pointwise window: x is its own unfolded image), then
 * y^T = col^T x w^T (loomrt_sgemm_packed_part, col^T packed for the
 * AVX-512 kernel at the start of scratch when it packs, y stored
 * transposed) with wp =
 * w^T packed (loomrt_sgemm_pack_b(1, M, C*kh*kw, w, C*kh*kw, wp)); on
 * several threads each unfolds and multiplies a run of output rows (with
 * fewer rows than threads, or the last window below the image, the image
 * is unfolded first; when it is unfolded, and for a pointwise window,
 * each multiplies an equal run of positions), every output the
 * one-thread sum, bit for bit. bias [M] and res (laid out like y) may be
 * NULL. */
LOOMRT_API void loomrt_conv2d_t(const float *x, const float *wp, float *y, float *scratch,
                                int64_t C, int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                                const float *bias, const float *res, int act, float act_alpha,
                                float act_beta);

/* ---- convolution as an implicit GEMM (loomrt_conv_pack.c) ----
 * The panels [q0, q1) of the unfolded image of loomrt_im2col, written
 * straight in the packed layout of loomrt_sgemm_pack_b: panel q (output
 * positions [q * NR, q * NR + NR)) at bp + (q - q0) * C*kh*kw * NR,
 * [C*kh*kw][NR] row-major, positions past oh*ow as padding (0). */
LOOMRT_API void loomrt_im2col_packed(const float *in, int64_t C, int64_t H, int64_t W,
                                     int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                     int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                     int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t q0,
                                     int64_t q1, float *bp);

/* Floats of scratch loomrt_conv2d needs: one block of packed panels. */
LOOMRT_API int64_t loomrt_conv2d_scratch(int64_t C, int64_t kh, int64_t kw, int64_t oh,
                                         int64_t ow);

/* One group of a 2-D convolution, y [M, oh, ow] = epilogue(w [M, C*kh*kw]
 * x unfold(x [C, H, W])), padding read as 0: the unfolded image is made
 * a block of panels at a time (loomrt_im2col_packed) and multiplied while
 * it is in cache (loomrt_sgemm_packed_epi). bias [M] and res (laid out
 * like y) may be NULL. */
LOOMRT_API void loomrt_conv2d(const float *x, const float *w, float *y, float *scratch, int64_t C,
                              int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                              int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                              int64_t stride_w, int64_t dil_h, int64_t dil_w, const float *bias,
                              const float *res, int act, float act_alpha, float act_beta);

/* ---- Winograd F(2x2, 3x3) convolution (loomrt_winograd.c) ----
 * One group of a 3x3, stride 1, dilation 1 convolution, y [M, oh, ow] =
 * epilogue(conv(x [C, H, W], w [M, C, 3, 3])), padding read as 0, with
 * the weights given transformed by loomrt_winograd_pack (16 matrices
 * [M, C], laid out for the output plane oh x ow, made once, at compile
 * time, from constant weights). bias [M] and res (laid out like y) may be
 * NULL. scratch holds blocks (at least 1) times loomrt_winograd_scratch
 * floats: on up to `blocks` threads each thread runs its share of the
 * plane in a block of its own, as on one thread; more threads share the
 * first block. */
LOOMRT_API int64_t loomrt_winograd_packed_size(int64_t M, int64_t C, int64_t oh, int64_t ow);
LOOMRT_API void loomrt_winograd_pack(const float *w, int64_t M, int64_t C, int64_t oh,
                                     int64_t ow, float *u);
LOOMRT_API int64_t loomrt_winograd_scratch(int64_t C, int64_t M, int64_t oh, int64_t ow);
LOOMRT_API void loomrt_conv2d_winograd(const float *x, const float *u, float *y, float *scratch,
                                       int64_t blocks, int64_t C, int64_t M, int64_t H, int64_t W, int64_t oh,
                                       int64_t ow, int64_t pad_t, int64_t pad_l,
                                       const float *bias, const float *res, int act,
                                       float act_alpha, float act_beta);
/* The same convolution with the 2x2, stride 2 max pool after it, unpadded
 * (floor mode): y [M, oh, ow] the pooled output, the convolution computed
 * over its first 2 oh x 2 ow outputs only, each 2x2 tile one window: the
 * bias and the activation applied to each of a tile's four outputs, then
 * their maximum stored. u and scratch as for loomrt_conv2d_winograd over
 * a 2 oh x 2 ow plane (loomrt_winograd_pack(w, M, C, 2 oh, 2 ow, u)). */
LOOMRT_API void loomrt_conv2d_winograd_maxpool(const float *x, const float *u, float *y,
                                               float *scratch, int64_t blocks, int64_t C, int64_t M, int64_t H,
                                               int64_t W, int64_t oh, int64_t ow,
                                               int64_t pad_t, int64_t pad_l, const float *bias,
                                               int act, float act_alpha, float act_beta);

/* Attention of one head (loomrt_attention.c): Y[Sq,Dv] = softmax(scale *
 * Q[Sq,D] K[Sk,D]^T + mask [+ causal]) V[Sk,Dv], rows at strides ldq,
 * ldk, ldv, ldy; mask (NULL: none) is additive, element (i, j) at
 * mask[i * mask_rs + j * mask_cs]; causal masks key j > query i. work
 * holds loomrt_attention_work_size(Sq, Sk, D, Dv) floats: one score tile
 * and the head's K and V packed; the full score matrix is never formed. */
LOOMRT_API int64_t loomrt_attention_work_size(int64_t Sq, int64_t Sk, int64_t D, int64_t Dv);
LOOMRT_API void loomrt_attention(int64_t Sq, int64_t Sk, int64_t D, int64_t Dv, float scale,
                                 int causal, const float *Q, int64_t ldq, const float *K,
                                 int64_t ldk, const float *V, int64_t ldv, const float *mask,
                                 int64_t mask_rs, int64_t mask_cs, float *Y, int64_t ldy,
                                 float *work);
/* ---- fused epilogues ----
 * What a kernel applies to each output value v before it leaves the
 * kernel, in this order: v += bias, v += residual, v = act(v). The
 * activations are those of ONNX's ops of the same names (loom's
 * ir/ir_fused.h numbers them the same way); alpha and beta are LeakyRelu's
 * alpha, Clip's min and max, HardSigmoid's and HardSwish's alpha and beta.
 * Sigmoid, Tanh and the tanh form of Gelu use loomrt_expf / loomrt_tanhf
 * below, as the loop IR's fast_exp / fast_tanh do. */
#define LOOMRT_ACT_NONE 0
#define LOOMRT_ACT_RELU 1
#define LOOMRT_ACT_LEAKY_RELU 2
#define LOOMRT_ACT_CLIP 3
#define LOOMRT_ACT_SIGMOID 4
#define LOOMRT_ACT_TANH 5
#define LOOMRT_ACT_HARD_SIGMOID 6
#define LOOMRT_ACT_HARD_SWISH 7
#define LOOMRT_ACT_GELU 8 /* 0.5 x (1 + erf(x / sqrt 2)) */
#define LOOMRT_ACT_GELU_TANH 9
#define LOOMRT_ACT_COUNT 10

/* y[k] = act(y[k] + bias[k * bias_step] + res[k]) for k in [0, n); bias
 * and res may be NULL (not added). */
LOOMRT_API void loomrt_epi_run(float *y, int64_t n, const float *bias, int64_t bias_step,
                               const float *res, int act, float alpha, float beta);

/* loomrt_sgemm with an epilogue applied to each tile of C as it is
 * finished (still in L1): element (i, j) of the product (row i of op(A),
 * column j of op(B)) adds bias[i * bias_rs + j * bias_cs] (bias NULL:
 * none) and res at the same offset from res as the element has from C
 * (res NULL: none), then act. */
LOOMRT_API void loomrt_sgemm_epi(int transA, int transB, int64_t M, int64_t N, int64_t K,
                                 float alpha, const float *A, int64_t lda, const float *B,
                                 int64_t ldb, float beta, float *C, int64_t ldc,
                                 const float *bias, int64_t bias_rs, int64_t bias_cs,
                                 const float *res, int act, float act_alpha, float act_beta);

/* loomrt_sgemm_packed with the epilogue of loomrt_sgemm_epi (with
 * transC, res is stored transposed like C). */
LOOMRT_API void loomrt_sgemm_packed_epi(int transA, int transC, int64_t M, int64_t N, int64_t K,
                                        float alpha, const float *A, int64_t lda,
                                        const float *Bp, float beta, float *C, int64_t ldc,
                                        const float *bias, int64_t bias_rs, int64_t bias_cs,
                                        const float *res, int act, float act_alpha,
                                        float act_beta);

/* ---- depthwise convolution ----
 * 2-D convolution with one input channel per group, images [C/mult, H, W]
 * -> y[C, oh, ow]: output channel m reads input channel m / mult with the
 * kernel w[m, kh, kw]; padding reads as 0. With AVX-512 or AVX2 (by
 * loomrt_isa_get()), up to 32 taps and half a vector of channels or more,
 * blocks of 16 or 8 channels are transposed a band of rows at a time into
 * scratch as [row][column][channel], so that each tap of a pixel is one
 * vector for the block, at any stride and plane size. Otherwise each input
 * plane is laid out zero-padded in scratch, its columns split by phase
 * modulo stride_w, so that every tap of a row of outputs is a contiguous
 * run. The epilogue is applied as outputs are finished. Channels are
 * independent: the work splits by channel ranges. */

/* The largest stride_w loomrt_dwconv takes (the lowering uses a loop
 * nest beyond it). */
#define LOOMRT_DW_MAX_STRIDE 16

/* Threads a depthwise convolution uses at most: it splits its channels
 * into this many blocks, each with its own slot of scratch. */
#define LOOMRT_DW_SLOTS 4

/* Floats of scratch loomrt_dwconv needs (LOOMRT_DW_SLOTS padded planes or
 * bands, whichever is larger). */
LOOMRT_API int64_t loomrt_dwconv_scratch(int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                         int64_t stride_h, int64_t stride_w, int64_t dil_h,
                                         int64_t dil_w);

/* y = epilogue(depthwise conv(x, w)); bias[C] and res (laid out like y)
 * may be NULL. */
LOOMRT_API void loomrt_dwconv(const float *x, const float *w, float *y, float *scratch, int64_t C,
                              int64_t mult, int64_t H, int64_t W, int64_t kh, int64_t kw,
                              int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                              int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                              const float *bias, const float *res, int act, float act_alpha,
                              float act_beta);

/* Floats of scratch loomrt_pwdw needs: loomrt_dwconv's and an input
 * plane [H, W] per slot. */
LOOMRT_API int64_t loomrt_pwdw_scratch(int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                                       int64_t ow, int64_t stride_h, int64_t stride_w,
                                       int64_t dil_h, int64_t dil_w);

/* A pointwise convolution fused into the depthwise one after it (the
 * inverted residual blocks of MobileNet): loomrt_dwconv (mult 1) whose
 * input channel m is pw_act(pw_bias[m] + sum_k W[m, k] * x[k, :, :]) for
 * x [K, H, W], computed a band of rows at a time where the depthwise
 * kernel reads it (padding reads as 0), never stored whole. pw is W [C, K]
 * packed by loomrt_sgemm_pack_b(1, C, K, W, K, pw); pw_bias may be NULL;
 * pw_act one of loomrt_epi_run's activations. */
LOOMRT_API void loomrt_pwdw(const float *x, const float *pw, const float *pw_bias, int64_t K,
                            int pw_act, float pw_alpha, float pw_beta, const float *w, float *y,
                            float *scratch, int64_t C, int64_t H, int64_t W, int64_t kh,
                            int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                            int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                            const float *bias, const float *res, int act, float act_alpha,
                            float act_beta);

/* Whether loomrt_dwpw takes C channels of the depthwise kernels' band of
 * rows at once (fewer rows where not: more of them overlap). */
LOOMRT_API int loomrt_dwpw_fits(int64_t C, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                                 int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w);

/* Floats of scratch loomrt_dwpw needs. */
LOOMRT_API int64_t loomrt_dwpw_scratch(int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                       int64_t oh, int64_t ow, int64_t stride_h, int64_t stride_w,
                                       int64_t dil_h, int64_t dil_w);

/* A depthwise convolution (mult 1; with pw set, loomrt_pwdw's fused
 * pointwise convolution before it) whose output only a 1x1 convolution
 * reads (the projections of MobileNet's blocks): y [M, oh, ow] =
 * pj_act(pj_bias[m] + sum_c pj[m, c] * dw[c] + res), dw [C, oh, ow] =
 * act(bias + depthwise conv(x, w)), pj [M, C] unpacked, pj_bias and res
 * (laid out like y) may be NULL; without pw, x is [C, H, W] and K and
 * pw_* unused. The depthwise outputs go a band of rows at a time into
 * scratch, where the projection reads them, never stored whole. */
LOOMRT_API void loomrt_dwpw(const float *x, const float *pw, const float *pw_bias, int64_t K,
                            int pw_act, float pw_alpha, float pw_beta, const float *w,
                            float *scratch, int64_t C, int64_t H, int64_t W, int64_t kh,
                            int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                            int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                            const float *bias, int act, float act_alpha, float act_beta,
                            const float *pj, const float *pj_bias, int64_t M, float *y,
                            const float *res, int pj_act, float pj_alpha, float pj_beta);

/* ---- direct convolution of images with few channels ----
 * One group of a 2-D convolution whose C * kh * kw taps are few (the first
 * convolution of a CNN: 3 channels), y [M, oh, ow] = epilogue(conv(x
 * [C, H, W], w [M, C, kh, kw])), padding read as 0, with the weights
 * packed by loomrt_conv2d_direct_pack (at compile time) into blocks of 16
 * output channels, [block][tap][16]. Vectorized across output channels
 * with AVX-512 or AVX2 (by loomrt_isa_get()), a chunk of pixels of one
 * output row at a time, the epilogue in registers; rows split over the
 * threads. It takes the shapes loomrt_conv2d_direct_fits accepts (and
 * does nothing for others). bias [M] and res (laid out like y) may be
 * NULL. */
#define LOOMRT_CONV_DIRECT_MAX_TAPS 512
#define LOOMRT_CONV_DIRECT_PATCH 4096 /* floats of one chunk's padded input */
LOOMRT_API int loomrt_conv2d_direct_fits(int64_t C, int64_t kh, int64_t kw, int64_t stride_w,
                                         int64_t dil_w);
LOOMRT_API int64_t loomrt_conv2d_direct_packed_size(int64_t M, int64_t K);
LOOMRT_API void loomrt_conv2d_direct_pack(const float *w, int64_t M, int64_t K, float *wp);
LOOMRT_API void loomrt_conv2d_direct(const float *x, const float *wp, float *y, int64_t C,
                                     int64_t M, int64_t H, int64_t W, int64_t kh, int64_t kw,
                                     int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                     int64_t stride_h, int64_t stride_w, int64_t dil_h,
                                     int64_t dil_w, const float *bias, const float *res, int act,
                                     float act_alpha, float act_beta);

/* The direct convolution (bias and activation; no residual) whose output
 * only a 2-D max pool reads, fused: y [M, pool_oh, pool_ow] = maxpool(conv(x)),
 * the pool's window pkh x pkw over the convolution's oh x ow output
 * (begin pads ppad_t, ppad_l; strides; dilations; taps outside never win,
 * as loomrt_maxpool2d). The convolution's rows go a band at a time into
 * scratch (loomrt_conv2d_direct_maxpool_scratch floats), where they are
 * pooled, never stored whole; pooled rows split over the threads. It
 * takes the shapes loomrt_conv2d_direct_maxpool_fits accepts (and does
 * nothing for others). */
LOOMRT_API int loomrt_conv2d_direct_maxpool_fits(int64_t C, int64_t kh, int64_t kw,
                                                 int64_t stride_w, int64_t dil_w, int64_t ow,
                                                 int64_t pkh, int64_t pkw, int64_t pool_ow,
                                                 int64_t ppad_t, int64_t ppad_l, int64_t psh,
                                                 int64_t psw, int64_t pdh, int64_t pdw);
LOOMRT_API int64_t loomrt_conv2d_direct_maxpool_scratch(int64_t M, int64_t ow, int64_t pkh,
                                                        int64_t psh, int64_t pdh);
LOOMRT_API void loomrt_conv2d_direct_maxpool(
    const float *x, const float *wp, float *y, float *scratch, int64_t C, int64_t M, int64_t H,
    int64_t W, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
    int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w, const float *bias, int act,
    float act_alpha, float act_beta, int64_t pkh, int64_t pkw, int64_t pool_oh, int64_t pool_ow,
    int64_t ppad_t, int64_t ppad_l, int64_t psh, int64_t psw, int64_t pdh, int64_t pdw);

/* ---- 2-D max pooling (loomrt_maxpool.c) ----
 * y [planes, oh, ow] = the maximum over each window of x [planes, H, W]
 * (kh x kw taps, strides, dilations, begin pads; taps outside the image
 * never win), the interpreter's MaxPool step: the maximum of the taps that
 * are numbers, NaN when none is. Separable, in vectors with AVX-512 or
 * AVX2 (by loomrt_isa_get()); planes split over the threads. It takes the
 * rows loomrt_maxpool2d_fits accepts (a padded row of at most
 * LOOMRT_MAXPOOL_ROW floats) and does nothing for others. */
#define LOOMRT_MAXPOOL_ROW 4096
LOOMRT_API int loomrt_maxpool2d_fits(int64_t W, int64_t kw, int64_t ow, int64_t pad_l,
                                     int64_t stride_w, int64_t dil_w);
LOOMRT_API void loomrt_maxpool2d(const float *x, int64_t planes, int64_t H, int64_t W, int64_t kh,
                                 int64_t kw, int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l,
                                 int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w,
                                 float *y);

/* loomrt_maxpool2d's output rows [oy0, oy1) of every plane, on the calling
 * thread, from x holding rows [row0, ...) of each plane of the H x W image
 * at a plane stride of xplane floats (every row those outputs read with a
 * tap inside the image), into y at a plane stride of yplane floats (row
 * oy of plane p at y + p * yplane + oy * ow): the pool of a band of an
 * image computed a band at a time (loomrt_conv2d_direct_maxpool). */
LOOMRT_API void loomrt_maxpool2d_rows(const float *x, int64_t xplane, int64_t row0, int64_t planes,
                                      int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t oh,
                                      int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                                      int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t oy0,
                                      int64_t oy1, float *y, int64_t yplane);

/* ---- threads (loomrt_pool.c) ----
 * Kernels split their work into ranges of tiles with loomrt_parallel_for;
 * how many threads run them is set per calling thread around a model's
 * run by loomrt_threads_enter / loomrt_threads_leave (the emitted NAME_run
 * does it), so the emitted code holds no state. */
#define LOOMRT_MAX_THREADS 64

/* A task: the tiles [begin, end) of a range; returns 0 or an error code. */
typedef int (*loomrt_range_fn)(void *arg, int64_t begin, int64_t end);

/* A host program's parallel-for, used instead of the runtime's pool: runs
 * fn(arg, n * p / parts, n * (p + 1) / parts) for every p in [0, parts),
 * each exactly once, in any order and on any threads, returns when all
 * are done, with the first nonzero status by p (0 if none). host is the
 * pointer given to loomrt_threads_enter. */
typedef int (*loomrt_parallel_fn)(void *host, int64_t n, int parts, loomrt_range_fn fn,
                                  void *arg);

/* The calling thread's setting: count threads (1 = serial), and the
 * parallel-for running them (NULL: the runtime's pool). */
typedef struct loomrt_threads {
    int count;
    loomrt_parallel_fn pfor;
    void *host;
} loomrt_threads;

/* Sets the calling thread's setting (count clamped to [1,
 * LOOMRT_MAX_THREADS]) and returns the previous one, for
 * loomrt_threads_leave. With LOOMRT_USE_CBLAS OpenBLAS gets the count too
 * (a process-wide setting of OpenBLAS's). */
LOOMRT_API loomrt_threads loomrt_threads_enter(int count, loomrt_parallel_fn pfor, void *host);
LOOMRT_API void loomrt_threads_leave(loomrt_threads prev);

/* The calling thread's thread count. */
LOOMRT_API int loomrt_threads_get(void);

/* Sets the calling thread's count, keeping its parallel-for, and returns
 * the previous count: the bracket of code that passes only integers (the
 * LLVM backend's NAME_run_v calls it before and after the model). */
LOOMRT_API int loomrt_threads_swap(int count);

/* Runs fn over [0, n) cut into min(n, loomrt_threads_get()) contiguous
 * parts, part p being [n * p / parts, n * (p + 1) / parts), and returns the
 * first nonzero status by part (0 if none). The caller runs a part too.
 * While the pool runs one parallel-for, another one (from another thread,
 * or from inside a task) runs its parts serially on its own thread: the
 * same parts, the same results. */
LOOMRT_API int loomrt_parallel_for(int64_t n, loomrt_range_fn fn, void *arg);

/* A loop over n slots, each owning a copy of its kernels' scratch (the
 * images of a batch in n runs, docs/loop-ir.md "Slot loops"): when the
 * calling thread's count t is above 1 and divides n, loomrt_parallel_for
 * over n, each part's kernels on one thread (its images in its own
 * cache); otherwise fn(arg, 0, n) on the calling thread, its kernels
 * splitting each image over all t threads. */
LOOMRT_API int loomrt_parallel_slots(int64_t n, loomrt_range_fn fn, void *arg);

/* ---- fast math ----
 * exp, tanh and sigmoid for f32, inline so that compilers vectorize the
 * loops that call them (libm's expf/tanhf are calls per element). Within
 * 2 ulp of the correctly rounded result on their whole range; NaN and
 * infinities behave as in libm.
 *
 * Written without data-dependent branches or float selects: clamps and
 * special cases work on the bit patterns with integer min/and/or. GCC
 * (-ftrapping-math, its default) turns a float `c ? a : b` into a branch
 * around the float arithmetic of one side and then cannot vectorize the
 * loop; integer selects stay selects. */

/* Unused ones must not warn where loomrt.h is inlined into a model's .c
 * (--standalone): clang warns about unused static inline functions of the
 * main file. */
#if defined(__GNUC__)
#define LOOMRT_INLINE static inline __attribute__((unused))
#else
#define LOOMRT_INLINE static inline
#endif

LOOMRT_INLINE uint32_t loomrt_f2u(float x)
{
    union { float f; uint32_t u; } v;
    v.f = x;
    return v.u;
}

LOOMRT_INLINE float loomrt_u2f(uint32_t u)
{
    union { uint32_t u; float f; } v;
    v.u = u;
    return v.f;
}

/* b ? x : y on bit patterns, b 0 or 1. */
LOOMRT_INLINE uint32_t loomrt_usel(uint32_t b, uint32_t x, uint32_t y)
{
    uint32_t m = 0u - b;
    return (x & m) | (y & ~m);
}

LOOMRT_INLINE float loomrt_expf(float x)
{
    /* exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2/2; Cephes
     * expf's polynomial for exp(r). x is clamped to [-103.97, 128] on its
     * bits: negative floats order as unsigned integers, positive ones as
     * signed; NaN clamps too and is put back at the end. Below -103.97 the
     * result rounds to 0; above 88.73 2^n overflows to inf. */
    uint32_t ux = loomrt_f2u(x), lo = loomrt_f2u(-103.9721f);
    int32_t hi = (int32_t)loomrt_f2u(128.0f);
    uint32_t cu = ux < lo ? ux : lo;
    int32_t cs = (int32_t)cu < hi ? (int32_t)cu : hi;
    float xc = loomrt_u2f((uint32_t)cs);
    /* round to an integer by adding 1.5 * 2^23: n sits in the low bits */
    float t = xc * 1.44269504089f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n in two steps so n down to -150 stays representable */
    int32_t ni = (int32_t)(loomrt_f2u(t) - loomrt_f2u(12582912.0f)), n1 = ni >> 1;
    float s1 = loomrt_u2f(((uint32_t)n1 + 127u) << 23);
    float s2 = loomrt_u2f(((uint32_t)(ni - n1) + 127u) << 23);
    float y = p * s1 * s2;
    return loomrt_u2f(loomrt_usel((ux & 0x7fffffffu) > 0x7f800000u, ux, loomrt_f2u(y)));
}

LOOMRT_INLINE float loomrt_tanhf(float x)
{
    /* |x| < 0.625: Cephes tanhf's odd polynomial; else
     * 1 - 2 / (exp(2|x|) + 1). Both are computed and selected on the bits
     * of |x| (NaN takes the second, which keeps it NaN); the sign of x is
     * put back last, so tanh(-0) = -0. */
    uint32_t ux = loomrt_f2u(x), ua = ux & 0x7fffffffu;
    float a = loomrt_u2f(ua), z = a * a;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * a + a;
    float large = 1.0f - 2.0f / (loomrt_expf(2.0f * a) + 1.0f);
    uint32_t t = loomrt_usel(ua < loomrt_f2u(0.625f), loomrt_f2u(small), loomrt_f2u(large));
    return loomrt_u2f(t | (ux & 0x80000000u));
}

LOOMRT_INLINE float loomrt_sigmoidf(float x)
{
    return 1.0f / (1.0f + loomrt_expf(-x));
}

/* ---- half-precision storage ----
 * IEEE 754 binary16 (f16) and bfloat16 (bf16) held as uint16_t bit
 * patterns; models compute in f32 and convert at the edges. f32 -> half
 * rounds to nearest, ties to even; NaN stays NaN (quiet, sign and top
 * payload bits kept), infinities stay infinite, f16 overflow gives inf and
 * f16 underflow gives subnormals or a signed zero. half -> f32 is exact.
 * One implementation serves the interpreter, the loaders and emitted code. */

LOOMRT_INLINE float loomrt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, a = h & 0x7fffu;
    if (a >= 0x7c00u) /* inf, NaN: all-ones exponent, payload shifted up */
        return loomrt_u2f(sign | 0x7f800000u | (a & 0x3ffu) << 13);
    if (a >= 0x400u) /* normal: rebias the exponent by 127 - 15 */
        return loomrt_u2f(sign | ((a << 13) + 0x38000000u));
    /* zero and subnormals: a * 2^-24, exact in f32 */
    return loomrt_u2f(sign | loomrt_f2u((float)a * 0x1p-24f));
}

LOOMRT_INLINE uint16_t loomrt_f32_to_f16(float x)
{
    uint32_t u = loomrt_f2u(x), a = u & 0x7fffffffu;
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    if (a > 0x7f800000u) /* NaN: quiet, top 9 payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x1ffu));
    if (a >= 0x477ff000u) /* >= 65520 (half-way past 65504) and inf */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) { /* below 2^-14: subnormal f16; adding 0.5 puts the
                            * 2^-24 unit in f32's last bit, the FPU rounds */
        float f = loomrt_u2f(a) + 0.5f;
        return (uint16_t)(sign | (loomrt_f2u(f) - 0x3f000000u));
    }
    /* normal: rebias (-(127 - 15) << 23) and round the 13 dropped bits to
     * nearest even; a carry into the exponent is the right result */
    a += 0xc8000fffu + ((a >> 13) & 1u);
    return (uint16_t)(sign | (a >> 13));
}

LOOMRT_INLINE float loomrt_bf16_to_f32(uint16_t b)
{
    return loomrt_u2f((uint32_t)b << 16);
}

LOOMRT_INLINE uint16_t loomrt_f32_to_bf16(float x)
{
    uint32_t u = loomrt_f2u(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#ifdef __cplusplus
}
#endif

#endif
