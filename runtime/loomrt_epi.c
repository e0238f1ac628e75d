/*
 * The fused epilogue the GEMM and convolution kernels apply to a run of
 * finished outputs while it is still in L1: bias, residual, activation
 * (loomrt.h states the order and the activations). One loop per
 * activation, so that each loop is branch free and vectorizes; the
 * activations follow the loop IR's forms of them (backend/lower/
 * lower_epilogue.c) operation for operation: comparisons that keep NaN
 * and -0 where the ONNX ops do, loomrt_expf / loomrt_tanhf for exp and
 * tanh.
 */
#include "loomrt.h"

/* y = y + bias + res over n elements (either may be NULL). */
static void epi_add(float *y, int64_t n, const float *bias, int64_t bs, const float *res)
{
    if (bias && bs == 0) {
        float b = bias[0];
        for (int64_t k = 0; k < n; k++)
            y[k] += b;
    } else if (bias) {
        for (int64_t k = 0; k < n; k++)
            y[k] += bias[k * bs];
    }
    if (res)
        for (int64_t k = 0; k < n; k++)
            y[k] += res[k];
}

/* max(0, min(1, alpha * x + beta)) with NaN kept (HardSigmoid-6). */
static inline float epi_hard_sigmoid(float x, float alpha, float beta)
{
    float v = alpha * x + beta;
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* ONNX Relu-14, LeakyRelu-16, Clip-13 (min > max gives max),
 * Sigmoid-13, Tanh-13, HardSigmoid-6, HardSwish-14, Gelu-20. */
static void epi_act(float *y, int64_t n, int act, float alpha, float beta)
{
    switch (act) {
    case LOOMRT_ACT_RELU:
        for (int64_t k = 0; k < n; k++)
            y[k] = y[k] < 0.0f ? 0.0f : y[k];
        break;
    case LOOMRT_ACT_LEAKY_RELU:
        for (int64_t k = 0; k < n; k++)
            y[k] = y[k] < 0.0f ? alpha * y[k] : y[k];
        break;
    case LOOMRT_ACT_CLIP: {
        float lo = alpha < beta ? alpha : beta;
        for (int64_t k = 0; k < n; k++)
            y[k] = y[k] < alpha ? lo : y[k] > beta ? beta : y[k];
        break;
    }
    case LOOMRT_ACT_SIGMOID:
        for (int64_t k = 0; k < n; k++)
            y[k] = 1.0f / (1.0f + loomrt_expf(-y[k]));
        break;
    case LOOMRT_ACT_TANH:
        for (int64_t k = 0; k < n; k++)
            y[k] = loomrt_tanhf(y[k]);
        break;
    case LOOMRT_ACT_HARD_SIGMOID:
        for (int64_t k = 0; k < n; k++)
            y[k] = epi_hard_sigmoid(y[k], alpha, beta);
        break;
    case LOOMRT_ACT_HARD_SWISH:
        for (int64_t k = 0; k < n; k++)
            y[k] = y[k] * epi_hard_sigmoid(y[k], alpha, beta);
        break;
    case LOOMRT_ACT_GELU:
        for (int64_t k = 0; k < n; k++)
            y[k] = 0.5f * y[k] * (1.0f + erff(y[k] * 0.70710678118654752440f));
        break;
    case LOOMRT_ACT_GELU_TANH:
        for (int64_t k = 0; k < n; k++) {
            float x = y[k], x3 = x * (x * x);
            y[k] = 0.5f * x * (1.0f + loomrt_tanhf(0.79788456080286535588f * (x + 0.044715f * x3)));
        }
        break;
    default: break; /* LOOMRT_ACT_NONE */
    }
}

LOOMRT_API void loomrt_epi_run(float *y, int64_t n, const float *bias, int64_t bias_step,
                               const float *res, int act, float alpha, float beta)
{
    epi_add(y, n, bias, bias_step, res);
    epi_act(y, n, act, alpha, beta);
}
