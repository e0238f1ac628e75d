/*
 * im2col / col2im for 2-D convolutions: the layout transforms that turn a
 * convolution into one GEMM (Chellapilla et al. 2006; Caffe's im2col).
 */
#include "loomrt.h"

LOOMRT_API void loomrt_im2col(const float *in, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *col)
{
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++) {
                float *row = col + ((c * kh + ki) * kw + kj) * oh * ow;
                for (int64_t y = 0; y < oh; y++) {
                    int64_t iy = y * stride_h - pad_t + ki * dil_h;
                    float *dst = row + y * ow;
                    if (iy < 0 || iy >= H) {
                        for (int64_t x = 0; x < ow; x++)
                            dst[x] = 0.0f;
                        continue;
                    }
                    const float *src = in + (c * H + iy) * W;
                    for (int64_t x = 0; x < ow; x++) {
                        int64_t ix = x * stride_w - pad_l + kj * dil_w;
                        dst[x] = ix >= 0 && ix < W ? src[ix] : 0.0f;
                    }
                }
            }
}

LOOMRT_API void loomrt_col2im(const float *col, int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw,
                   int64_t oh, int64_t ow, int64_t pad_t, int64_t pad_l, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, float *out)
{
    for (int64_t c = 0; c < C; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++) {
                const float *row = col + ((c * kh + ki) * kw + kj) * H * W;
                for (int64_t y = 0; y < H; y++) {
                    int64_t oy = y * stride_h - pad_t + ki * dil_h;
                    if (oy < 0 || oy >= oh)
                        continue;
                    float *dst = out + (c * oh + oy) * ow;
                    for (int64_t x = 0; x < W; x++) {
                        int64_t ox = x * stride_w - pad_l + kj * dil_w;
                        if (ox >= 0 && ox < ow)
                            dst[ox] += row[y * W + x];
                    }
                }
            }
}
