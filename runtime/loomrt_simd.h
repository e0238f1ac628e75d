/*
 * The register transposes the runtime's x86 kernels share: internal to
 * the runtime (included by its .c files, inlined with them by
 * --standalone), not part of loomrt.h's interface. The depthwise and
 * direct convolutions turn a block of pixels by channels into channels by
 * pixels with them; the GEMM kernels store C transposed with them.
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

#endif

#endif
