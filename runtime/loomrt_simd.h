/*
 * The register transposes and activations the runtime's x86 kernels
 * share: internal to the runtime (included by its .c files, inlined with
 * them by --standalone), not part of loomrt.h's interface. The depthwise
 * and direct convolutions turn a block of pixels by channels into
 * channels by pixels with the transposes; the GEMM kernels store C
 * transposed with them. The GEMM, convolution and Winograd kernels apply
 * the activations up to Clip in registers as they store, and store and
 * load a partial vector with the AVX2 helpers at the end.
 */
#ifndef LOOMRT_SIMD_H
#define LOOMRT_SIMD_H

#include "loomrt.h"

#ifdef LOOMRT_X86
#include <immintrin.h>

/* In-place 8 x 8 transpose: r[k] lane i <- r[i] lane k. */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void loomrt_tr8(__m256 *r)
{
    __m256 t[8], s[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        __m256d a = _mm256_castps_pd(t[4 * i]), c = _mm256_castps_pd(t[4 * i + 2]);
        __m256d e = _mm256_castps_pd(t[4 * i + 1]), f = _mm256_castps_pd(t[4 * i + 3]);
        s[4 * i] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
        s[4 * i + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
        s[4 * i + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(e, f));
        s[4 * i + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(e, f));
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x31);
    }
}

/* In-place 16 x 16 transpose: r[k] lane i <- r[i] lane k. */
LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) void loomrt_tr16(__m512 *r)
{
    __m512 t[16], s[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), c = _mm512_castps_pd(t[4 * i + 2]);
        __m512d e = _mm512_castps_pd(t[4 * i + 1]), f = _mm512_castps_pd(t[4 * i + 3]);
        s[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        s[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        s[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(e, f));
        s[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(e, f));
    }
    /* s[4i + j], 128-bit lane l: column 4l + j of rows 4i .. 4i + 3 */
    for (int j = 0; j < 4; j++) {
        __m512 u0 = _mm512_shuffle_f32x4(s[j], s[4 + j], 0x44);
        __m512 u1 = _mm512_shuffle_f32x4(s[j], s[4 + j], 0xee);
        __m512 v0 = _mm512_shuffle_f32x4(s[8 + j], s[12 + j], 0x44);
        __m512 v1 = _mm512_shuffle_f32x4(s[8 + j], s[12 + j], 0xee);
        r[j] = _mm512_shuffle_f32x4(u0, v0, 0x88);
        r[4 + j] = _mm512_shuffle_f32x4(u0, v0, 0xdd);
        r[8 + j] = _mm512_shuffle_f32x4(u1, v1, 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(u1, v1, 0xdd);
    }
}

/* ---- activations up to Clip, in registers ----
 * Relu, LeakyRelu and Clip (LOOMRT_ACT_*) as the epilogue loops
 * (loomrt_epi.c) compute them; any other act passes v through (the
 * kernels run it over their outputs after). The constants as vectors:
 * LeakyRelu's slope or Clip's min (alpha), Clip's max (beta) and the
 * smaller of the two (lo); made once per kernel call and passed by
 * value, they stay in registers. The selects keep NaN and -0 as the ops'
 * comparisons do: max/min return their second operand for NaN and for
 * equal zeros. */
typedef struct loomrt_act8_t {
    int act;
    __m256 alpha, beta, lo;
} loomrt_act8_t;

LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) loomrt_act8_t
loomrt_act8_of(int act, float alpha, float beta)
{
    loomrt_act8_t k = {act, _mm256_set1_ps(alpha), _mm256_set1_ps(beta),
                       _mm256_set1_ps(alpha < beta ? alpha : beta)};
    return k;
}

LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) __m256 loomrt_act8(__m256 v,
                                                                                  loomrt_act8_t k)
{
    __m256 zero = _mm256_setzero_ps();
    if (k.act == LOOMRT_ACT_RELU)
        return _mm256_max_ps(zero, v);
    if (k.act == LOOMRT_ACT_LEAKY_RELU)
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, k.alpha), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    if (k.act == LOOMRT_ACT_CLIP)
        return _mm256_blendv_ps(_mm256_min_ps(k.beta, v), k.lo,
                                _mm256_cmp_ps(v, k.alpha, _CMP_LT_OQ));
    return v;
}

/* Lanes [0, n) set, n clamped to [0, 8]. */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) __m256i loomrt_mask8(int64_t n)
{
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

/* c[0:n) = lanes [0, n) of v, n <= 7, by plain stores of 4, 2 and 1
 * floats (masked stores are slow on AMD cores). */
LOOMRT_TARGET_AVX2 static inline __attribute__((always_inline)) void
loomrt_store8n(float *c, __m256 v, int64_t n)
{
    __m128 x = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(c, x);
        x = _mm256_extractf128_ps(v, 1);
        c += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)(void *)c, x);
        x = _mm_movehl_ps(x, x);
        c += 2;
        n -= 2;
    }
    if (n >= 1)
        _mm_store_ss(c, x);
}

/* The same on 16 lanes. */
typedef struct loomrt_act16_t {
    int act;
    __m512 alpha, beta, lo;
} loomrt_act16_t;

LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) loomrt_act16_t
loomrt_act16_of(int act, float alpha, float beta)
{
    loomrt_act16_t k = {act, _mm512_set1_ps(alpha), _mm512_set1_ps(beta),
                        _mm512_set1_ps(alpha < beta ? alpha : beta)};
    return k;
}

LOOMRT_TARGET_AVX512 static inline __attribute__((always_inline)) __m512
loomrt_act16(__m512 v, loomrt_act16_t k)
{
    __m512 zero = _mm512_setzero_ps();
    if (k.act == LOOMRT_ACT_RELU)
        return _mm512_max_ps(zero, v);
    if (k.act == LOOMRT_ACT_LEAKY_RELU)
        return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, k.alpha);
    if (k.act == LOOMRT_ACT_CLIP)
        return _mm512_mask_mov_ps(_mm512_min_ps(k.beta, v),
                                  _mm512_cmp_ps_mask(v, k.alpha, _CMP_LT_OQ), k.lo);
    return v;
}

#endif

#endif
