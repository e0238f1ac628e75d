/* Unit tests of the runtime's fused epilogues and depthwise convolution
 * (runtime/loomrt_epi.c, loomrt_dwconv.c, the _epi entry points of
 * loomrt_gemm.c), each instruction-set level forced in turn, against plain
 * references accumulated in double: loomrt_dwconv over the odd sizes 1, 3,
 * 7, 17, 33, 65 of the image and 1, 3, 7, 17, 33 channels (per-plane and
 * channel-blocked kernels, full and partial blocks) with kernels, strides,
 * dilations, pads and channel multipliers; loomrt_pwdw (a pointwise
 * convolution of 1 to 19 input channels fused before it) over the same
 * shapes with and without its bias, with several activations; every
 * activation kind with and without bias and residual; the same sums on 1,
 * 2 and 3 threads; loomrt_sgemm_epi and loomrt_sgemm_packed_epi with per-row and
 * per-column bias, residual and transposed C. Tolerance: 1e-5 relative to
 * the sum of the magnitudes of a result's terms (the kernels reorder and
 * fuse the sums), 4e-6 relative more for the activations (the fast exp and
 * tanh are within 2 ulp). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "leak_check.h"
#include "loomrt.h"

/* Deterministic values in [-1, 1). */
static float rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

static float *rnd_buf(size_t n, uint32_t seed)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = rnd(&seed);
    return p;
}

/* The ONNX definitions, in double. */
static double ref_act(int act, double a, double b, double x)
{
    double hs = fmin(1.0, fmax(0.0, a * x + b));
    switch (act) {
    case LOOMRT_ACT_RELU: return x < 0 ? 0 : x;
    case LOOMRT_ACT_LEAKY_RELU: return x < 0 ? a * x : x;
    case LOOMRT_ACT_CLIP: return x < a ? fmin(a, b) : x > b ? b : x;
    case LOOMRT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case LOOMRT_ACT_TANH: return tanh(x);
    case LOOMRT_ACT_HARD_SIGMOID: return hs;
    case LOOMRT_ACT_HARD_SWISH: return x * hs;
    case LOOMRT_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case LOOMRT_ACT_GELU_TANH:
        return 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    default: return x;
    }
}

/* Parameters per activation: LeakyRelu's alpha, Clip's bounds, the hard
 * ones' alpha and beta. */
static void act_params(int act, float *a, float *b)
{
    *a = act == LOOMRT_ACT_LEAKY_RELU ? 0.1f
         : act == LOOMRT_ACT_CLIP     ? -0.25f
         : act == LOOMRT_ACT_HARD_SWISH ? 1.0f / 6.0f
                                        : 0.2f;
    *b = act == LOOMRT_ACT_CLIP ? 0.5f : 0.5f;
}

static void check_val(float got, double want, double mag, const char *what, int64_t at)
{
    double tol = 1e-5 * (1.0 + mag) + 4e-6 * fabs(want);
    cr_assert(fabs(got - want) <= tol, "%s: [%lld] = %.9g, want %.9g", what, (long long)at, got,
              want);
}

/* Runs fn once per instruction-set level this CPU has. */
static void for_each_isa(void (*fn)(int isa))
{
    for (int isa = LOOMRT_ISA_PORTABLE; isa <= loomrt_isa_detect(); isa++) {
        cr_assert_eq(loomrt_isa_force(isa), isa);
        fn(isa);
    }
    loomrt_isa_force(-1);
}

/* ---- depthwise convolution ---- */

/* K > 0: loomrt_pwdw, the input x [K, H, W] through a pointwise
 * convolution (bias when pw_bias, activation pw_act) first. M > 0:
 * loomrt_dwpw, the output through a 1x1 convolution to M channels after
 * (bias when pj_bias, a residual when pj_res, activation pj_act). */
typedef struct dw_case {
    int64_t C, mult, H, W, kh, kw, pt, pl, pb, pr, sh, sw, dh, dw;
    int bias, res, act;
    int64_t K;
    int pw_bias, pw_act;
    int64_t M;
    int pj_bias, pj_res, pj_act;
} dw_case;

static int64_t out_dim(int64_t in, int64_t k, int64_t p0, int64_t p1, int64_t s, int64_t d)
{
    int64_t span = in + p0 + p1 - (k - 1) * d - 1;
    return span < 0 ? 0 : span / s + 1;
}

/* The pointwise convolution's operands of a loomrt_pwdw case. */
typedef struct pw_ops {
    const float *w, *b; /* w [C, K]; b [C] or NULL */
    float aa, ab;
} pw_ops;

/* The depthwise input of case k at channel ci, row iy, column ix: x's,
 * or with K > 0 the pointwise convolution's output, *mag growing by the
 * magnitude of its terms. */
static double dw_in(const dw_case *k, const pw_ops *p, const float *x, int64_t ci, int64_t iy,
                    int64_t ix, double *mag)
{
    int64_t hw = k->H * k->W, at = iy * k->W + ix;
    if (!k->K) {
        *mag += fabs(x[ci * hw + at]);
        return x[ci * hw + at];
    }
    double acc = p->b ? p->b[ci] : 0.0, m = fabs(acc);
    for (int64_t j = 0; j < k->K; j++) {
        double t = (double)p->w[ci * k->K + j] * x[j * hw + at];
        acc += t;
        m += fabs(t);
    }
    double v = ref_act(k->pw_act, p->aa, p->ab, acc);
    *mag += m + fabs(v);
    return v;
}

/* The depthwise output m at (oy, ox) of case k before its residual and
 * activation, *mag growing by the magnitude of its terms. */
static double dw_ref(const dw_case *k, const pw_ops *p, const float *x, const float *w,
                     const float *b, int64_t m, int64_t oy, int64_t ox, double *mag)
{
    double acc = b ? b[m] : 0.0;
    *mag += fabs(acc);
    for (int64_t i = 0; i < k->kh; i++)
        for (int64_t j = 0; j < k->kw; j++) {
            int64_t iy = oy * k->sh + i * k->dh - k->pt, ix = ox * k->sw + j * k->dw - k->pl;
            if (iy < 0 || iy >= k->H || ix < 0 || ix >= k->W)
                continue;
            double in_mag = 0.0;
            double v = dw_in(k, p, x, m / k->mult, iy, ix, &in_mag);
            double wt = w[(m * k->kh + i) * k->kw + j];
            acc += v * wt;
            *mag += in_mag * fabs(wt);
        }
    return acc;
}

/* One case against the reference; the scratch is surrounded by guard
 * floats that must stay untouched, and so is y. */
static void dw_check(int isa, const dw_case *k)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    int64_t cin = k->K ? k->K : k->C / k->mult, ny = k->C * oh * ow;
    int64_t ns = k->K ? loomrt_pwdw_scratch(k->H, k->W, k->kh, k->kw, oh, ow, k->sh, k->sw, k->dh,
                                            k->dw)
                      : loomrt_dwconv_scratch(k->kh, k->kw, oh, ow, k->sh, k->sw, k->dh, k->dw);
    float *x = rnd_buf((size_t)(cin * k->H * k->W), 1), *w = rnd_buf((size_t)(k->C * k->kh * k->kw), 2);
    float *b = rnd_buf((size_t)k->C, 3), *r = rnd_buf((size_t)ny, 4);
    float *y = malloc(sizeof(float) * (size_t)(ny + 2)), *s = malloc(sizeof(float) * (size_t)(ns + 2));
    float *pw = rnd_buf((size_t)(k->C * k->K), 5), *pb = rnd_buf((size_t)k->C, 6);
    float *pwp = malloc(sizeof(float) * (size_t)(loomrt_sgemm_packed_size(k->C, k->K) + 1));
    pw_ops p = {pw, k->pw_bias ? pb : NULL, 0, 0};
    act_params(k->pw_act, &p.aa, &p.ab);
    y[0] = y[ny + 1] = s[0] = s[ns + 1] = 1234.5f;
    float aa, ab;
    act_params(k->act, &aa, &ab);
    if (k->K) {
        loomrt_sgemm_pack_b(1, k->C, k->K, pw, k->K, pwp);
        loomrt_pwdw(x, pwp, p.b, k->K, k->pw_act, p.aa, p.ab, w, y + 1, s + 1, k->C, k->H, k->W,
                    k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh, k->sw, k->dh, k->dw,
                    k->bias ? b : NULL, k->res ? r : NULL, k->act, aa, ab);
    } else {
        loomrt_dwconv(x, w, y + 1, s + 1, k->C, k->mult, k->H, k->W, k->kh, k->kw, oh, ow, k->pt,
                      k->pl, k->sh, k->sw, k->dh, k->dw, k->bias ? b : NULL, k->res ? r : NULL,
                      k->act, aa, ab);
    }
    char what[240];
    snprintf(what, sizeof what,
             "isa %d dwconv C=%lld mult=%lld %lldx%lld k=%lldx%lld pads %lld,%lld,%lld,%lld "
             "s=%lld,%lld d=%lld,%lld bias %d res %d act %d pw K=%lld bias %d act %d",
             isa, (long long)k->C, (long long)k->mult, (long long)k->H, (long long)k->W,
             (long long)k->kh, (long long)k->kw, (long long)k->pt, (long long)k->pl,
             (long long)k->pb, (long long)k->pr, (long long)k->sh, (long long)k->sw,
             (long long)k->dh, (long long)k->dw, k->bias, k->res, k->act, (long long)k->K,
             k->pw_bias, k->pw_act);
    cr_assert(y[0] == 1234.5f && y[ny + 1] == 1234.5f, "%s: wrote outside y", what);
    cr_assert(s[0] == 1234.5f && s[ns + 1] == 1234.5f, "%s: wrote outside scratch", what);
    for (int64_t m = 0; m < k->C; m++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t at = (m * oh + oy) * ow + ox;
                double mag = 0.0, acc = dw_ref(k, &p, x, w, k->bias ? b : NULL, m, oy, ox, &mag);
                if (k->res) {
                    acc += r[at];
                    mag += fabs(r[at]);
                }
                check_val(y[1 + at], ref_act(k->act, aa, ab, acc), mag, what, at);
            }
    free(x);
    free(w);
    free(b);
    free(r);
    free(y);
    free(s);
    free(pw);
    free(pb);
    free(pwp);
}

static const int64_t odd_dims[] = {1, 3, 7, 17, 33, 65};
#define N_ODD (int)(sizeof odd_dims / sizeof odd_dims[0])

/* Geometries: 3x3 at stride 1 and 2 (MobileNet's), 5x5, 1x1, 2x3
 * dilated, stride 3, channel multiplier 2, asymmetric pads. */
static const dw_case dw_geoms[] = {
    {.C = 3, .mult = 1, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1},
    {.C = 2, .mult = 1, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1},
    {.C = 2, .mult = 1, .kh = 5, .kw = 5, .pt = 2, .pl = 2, .pb = 2, .pr = 2, .sh = 1, .sw = 2, .dh = 1, .dw = 1, .bias = 1},
    {.C = 2, .mult = 2, .kh = 1, .kw = 1, .pt = 0, .pl = 1, .pb = 0, .pr = 0, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1},
    {.C = 4, .mult = 2, .kh = 2, .kw = 3, .pt = 0, .pl = 2, .pb = 1, .pr = 0, .sh = 1, .sw = 1, .dh = 2, .dw = 2, .res = 1},
    {.C = 1, .mult = 1, .kh = 3, .kw = 3, .pt = 2, .pl = 0, .pb = 0, .pr = 2, .sh = 3, .sw = 3, .dh = 1, .dw = 2, .bias = 1, .res = 1},
    {.C = 1, .mult = 1, .kh = 7, .kw = 7, .pt = 3, .pl = 3, .pb = 3, .pr = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1},
};

/* Every geometry over the odd image sizes, with its own channel count
 * and with 1, 7, 17 and 33 input channels (times the multiplier): the
 * blocked kernels take 4 or 8 channels and more, in blocks of 8 or 16. */
static void dw_odd_at(int isa)
{
    static const int64_t chans[] = {0, 1, 7, 17, 33};
    for (size_t g = 0; g < sizeof dw_geoms / sizeof dw_geoms[0]; g++)
        for (int c = 0; c < 5; c++)
            for (int h = 0; h < N_ODD; h++)
                for (int wi = 0; wi < N_ODD; wi++) {
                    dw_case k = dw_geoms[g];
                    if (chans[c])
                        k.C = chans[c] * k.mult;
                    k.H = odd_dims[h];
                    k.W = odd_dims[wi];
                    if (out_dim(k.H, k.kh, k.pt, k.pb, k.sh, k.dh) > 0 &&
                        out_dim(k.W, k.kw, k.pl, k.pr, k.sw, k.dw) > 0)
                        dw_check(isa, &k);
                }
}

Test(dwconv, odd_shapes_every_isa)
{
    for_each_isa(dw_odd_at);
}

/* loomrt_pwdw: the geometries with one output channel per input channel
 * over odd image sizes, 1 to 33 channels from 1, 5 or 19 input channels,
 * the pointwise bias on and off and its activation none, Clip (in
 * registers) or Sigmoid (over the band rows after). The widths give the
 * AVX2 pointwise step's runs of 16 and of 8 pixels and rows of tails
 * only. */
static void pwdw_odd_at(int isa)
{
    static const int64_t chans[] = {1, 7, 17, 33}, ks[] = {1, 5, 19};
    static const int64_t widths[N_ODD] = {1, 7, 9, 17, 25, 65};
    static const int acts[] = {LOOMRT_ACT_NONE, LOOMRT_ACT_CLIP, LOOMRT_ACT_SIGMOID};
    int n = 0;
    for (size_t g = 0; g < sizeof dw_geoms / sizeof dw_geoms[0]; g++)
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < N_ODD; h++)
                for (int wi = 0; wi < N_ODD; wi++, n++) {
                    dw_case k = dw_geoms[g];
                    if (k.mult != 1)
                        continue;
                    k.C = chans[c];
                    k.H = odd_dims[h];
                    k.W = widths[wi];
                    k.K = ks[n % 3];
                    k.pw_bias = n % 2;
                    k.pw_act = acts[n / 3 % 3];
                    k.act = n % 4 == 0 ? LOOMRT_ACT_CLIP : LOOMRT_ACT_NONE;
                    if (out_dim(k.H, k.kh, k.pt, k.pb, k.sh, k.dh) > 0 &&
                        out_dim(k.W, k.kw, k.pl, k.pr, k.sw, k.dw) > 0)
                        dw_check(isa, &k);
                }
}

Test(dwconv, pointwise_fused_odd_shapes_every_isa)
{
    for_each_isa(pwdw_odd_at);
}

/* A loomrt_dwpw case against the reference (the depthwise outputs in
 * double, then the projection), guards around y and scratch. */
static void dwpw_check(int isa, const dw_case *k)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw), plane = oh * ow;
    int64_t cin = k->K ? k->K : k->C, ny = k->M * plane;
    int64_t ns = loomrt_dwpw_scratch(k->C, k->H, k->W, k->kh, k->kw, oh, ow, k->sh, k->sw,
                                     k->dh, k->dw);
    float *x = rnd_buf((size_t)(cin * k->H * k->W), 1);
    float *w = rnd_buf((size_t)(k->C * k->kh * k->kw), 2);
    float *b = rnd_buf((size_t)k->C, 3), *r = rnd_buf((size_t)ny, 4);
    float *pw = rnd_buf((size_t)(k->C * k->K), 5), *pb = rnd_buf((size_t)k->C, 6);
    float *pj = rnd_buf((size_t)(k->M * k->C), 7), *qb = rnd_buf((size_t)k->M, 8);
    float *pwp = malloc(sizeof(float) * (size_t)(loomrt_sgemm_packed_size(k->C, k->K) + 1));
    float *y = malloc(sizeof(float) * (size_t)(ny + 2));
    float *s = malloc(sizeof(float) * (size_t)(ns + 2));
    double *dv = malloc(sizeof(double) * (size_t)(k->C * plane + 1));
    double *dm = malloc(sizeof(double) * (size_t)(k->C * plane + 1));
    pw_ops p = {pw, k->pw_bias ? pb : NULL, 0, 0};
    act_params(k->pw_act, &p.aa, &p.ab);
    float aa, ab, qa, qbeta;
    act_params(k->act, &aa, &ab);
    act_params(k->pj_act, &qa, &qbeta);
    y[0] = y[ny + 1] = s[0] = s[ns + 1] = 1234.5f;
    if (k->K)
        loomrt_sgemm_pack_b(1, k->C, k->K, pw, k->K, pwp);
    loomrt_dwpw(x, k->K ? pwp : NULL, p.b, k->K, k->pw_act, p.aa, p.ab, w, s + 1, k->C, k->H,
                k->W, k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh, k->sw, k->dh, k->dw,
                k->bias ? b : NULL, k->act, aa, ab, pj, k->pj_bias ? qb : NULL, k->M, y + 1,
                k->pj_res ? r : NULL, k->pj_act, qa, qbeta);
    char what[240];
    snprintf(what, sizeof what,
             "isa %d dwpw C=%lld %lldx%lld k=%lldx%lld s=%lld,%lld act %d pw K=%lld act %d "
             "M=%lld bias %d res %d act %d",
             isa, (long long)k->C, (long long)k->H, (long long)k->W, (long long)k->kh,
             (long long)k->kw, (long long)k->sh, (long long)k->sw, k->act, (long long)k->K,
             k->pw_act, (long long)k->M, k->pj_bias, k->pj_res, k->pj_act);
    cr_assert(y[0] == 1234.5f && y[ny + 1] == 1234.5f, "%s: wrote outside y", what);
    cr_assert(s[0] == 1234.5f && s[ns + 1] == 1234.5f, "%s: wrote outside scratch", what);
    for (int64_t c = 0; c < k->C; c++)
        for (int64_t q = 0; q < plane; q++) {
            double mag = 0.0, v = dw_ref(k, &p, x, w, k->bias ? b : NULL, c, q / ow, q % ow, &mag);
            dv[c * plane + q] = ref_act(k->act, aa, ab, v);
            dm[c * plane + q] = mag + fabs(dv[c * plane + q]);
        }
    for (int64_t i = 0; i < k->M; i++)
        for (int64_t q = 0; q < plane; q++) {
            double acc = k->pj_bias ? qb[i] : 0.0, mag = fabs(acc);
            for (int64_t c = 0; c < k->C; c++) {
                acc += (double)pj[i * k->C + c] * dv[c * plane + q];
                mag += fabs(pj[i * k->C + c]) * dm[c * plane + q];
            }
            if (k->pj_res) {
                acc += r[i * plane + q];
                mag += fabs(r[i * plane + q]);
            }
            check_val(y[1 + i * plane + q], ref_act(k->pj_act, qa, qbeta, acc), mag, what,
                      i * plane + q);
        }
    free(x);
    free(w);
    free(b);
    free(r);
    free(pw);
    free(pb);
    free(pj);
    free(qb);
    free(pwp);
    free(y);
    free(s);
    free(dv);
    free(dm);
}

/* loomrt_dwpw: the geometries with one output channel per input channel
 * over odd image sizes, 1 to 33 channels (below 4 or 8 the per-plane
 * kernels' path), with and without the pointwise convolution before, 1
 * to 17 outputs of the projection, its bias, residual and activation on
 * and off; then planes of several bands. */
static void dwpw_odd_at(int isa)
{
    static const int64_t chans[] = {1, 3, 7, 17, 33}, ms[] = {1, 7, 17};
    static const int64_t hs[] = {1, 7, 17, 65}, ws[] = {1, 9, 33, 65};
    static const int acts[] = {LOOMRT_ACT_NONE, LOOMRT_ACT_CLIP, LOOMRT_ACT_RELU};
    int n = 0;
    for (size_t g = 0; g < sizeof dw_geoms / sizeof dw_geoms[0]; g++)
        for (int c = 0; c < 5; c++)
            for (int h = 0; h < 4; h++)
                for (int wi = 0; wi < 4; wi++, n++) {
                    dw_case k = dw_geoms[g];
                    if (k.mult != 1)
                        continue;
                    k.C = chans[c];
                    k.H = hs[h];
                    k.W = ws[wi];
                    k.K = n % 2 ? 5 : 0;
                    k.pw_bias = n % 3 == 0;
                    k.pw_act = LOOMRT_ACT_CLIP;
                    k.act = acts[n % 3];
                    k.M = ms[n / 2 % 3];
                    k.pj_bias = n % 5 != 0;
                    k.pj_res = n % 4 < 2;
                    k.pj_act = n % 7 == 0 ? LOOMRT_ACT_CLIP : LOOMRT_ACT_NONE;
                    if (out_dim(k.H, k.kh, k.pt, k.pb, k.sh, k.dh) > 0 &&
                        out_dim(k.W, k.kw, k.pl, k.pr, k.sw, k.dw) > 0)
                        dwpw_check(isa, &k);
                }
    for (int t = 0; t < 4; t++) { /* MobileNet's shapes, cut small: bands of 6 or 4 rows */
        dw_case k = dw_geoms[t % 2];
        k.C = t < 2 ? 32 : 40;
        k.H = t < 2 ? 61 : 57;
        k.W = t < 2 ? 67 : 113;
        k.K = t % 2 ? 16 : 0;
        k.pw_act = LOOMRT_ACT_CLIP;
        k.act = LOOMRT_ACT_CLIP;
        k.M = t < 2 ? 16 : 24;
        k.pj_bias = 1;
        k.pj_res = t % 2 == 0 && k.sh == 1;
        dwpw_check(isa, &k);
    }
}

Test(dwconv, projection_fused_odd_shapes_every_isa)
{
    for_each_isa(dwpw_odd_at);
}

static void dw_acts_at(int isa)
{
    for (int act = LOOMRT_ACT_NONE; act < LOOMRT_ACT_COUNT; act++)
        for (int br = 0; br < 8; br++) {
            dw_case k = {.C = br < 4 ? 3 : 19, .mult = 1, .H = 17, .W = 33, .kh = 3, .kw = 3, .pt = 1, .pl = 1,
                         .pb = 1, .pr = 1, .sh = 1 + br % 2, .sw = 1 + br % 2, .dh = 1, .dw = 1,
                         .bias = br & 1, .res = br >> 1, .act = act};
            dw_check(isa, &k);
        }
}

Test(dwconv, every_epilogue_every_isa)
{
    for_each_isa(dw_acts_at);
}

/* On 2 and 3 threads loomrt_dwconv gives the one-thread result bit for
 * bit: 40 channels (blocks of 8 or 16 split over the parts, a partial
 * last block) on a plane of several bands, and 6 channels (the per-plane
 * kernels on AVX-512), with bias, residual and Clip; so does loomrt_pwdw
 * (40 channels from 7, the third case) and loomrt_dwpw (the bands split
 * over the parts: 40 channels to 24, the fourth, with the pointwise
 * convolution from 7 before, the fifth). The last two split the blocked
 * kernels' output rows over the threads (DW_ROWS_PER_THREAD and more a
 * thread): loomrt_dwconv at stride 2, 61 rows (by rows on 2 threads, by
 * blocks on 3), loomrt_pwdw at stride 1, 87 rows (by rows on 2 and 3). */
static void dw_threads_at(int isa)
{
    static const int64_t chans[] = {40, 6, 40, 40, 40, 40, 40};
    for (int c = 0; c < 7; c++) {
        int64_t st = c == 6 ? 1 : 2, H = c == 5 ? 121 : c == 6 ? 87 : 61, W = c >= 5 ? 45 : 67;
        int64_t C = chans[c], oh = (H - 1) / st + 1, ow = (W - 1) / st + 1;
        int64_t K = c == 2 || c == 4 || c == 6 ? 7 : 0;
        int64_t M = c == 3 || c == 4 ? 24 : 0, ny = (M ? M : C) * oh * ow;
        int64_t ns = M   ? loomrt_dwpw_scratch(C, H, W, 3, 3, oh, ow, st, st, 1, 1)
                     : K ? loomrt_pwdw_scratch(H, W, 3, 3, oh, ow, st, st, 1, 1)
                         : loomrt_dwconv_scratch(3, 3, oh, ow, st, st, 1, 1);
        float *x = rnd_buf((size_t)(C * H * W), 1), *w = rnd_buf((size_t)(C * 9), 2);
        float *b = rnd_buf((size_t)C, 3), *r = rnd_buf((size_t)ny, 4);
        float *pw = rnd_buf((size_t)loomrt_sgemm_packed_size(C, 7), 5);
        float *pj = rnd_buf((size_t)(24 * C), 6), *pb = rnd_buf(24, 7);
        float *s = malloc(sizeof(float) * (size_t)ns), *y[3];
        for (int t = 1; t <= 3; t++) {
            y[t - 1] = malloc(sizeof(float) * (size_t)ny);
            for (int64_t i = 0; i < ns; i++) /* nothing left from the run before */
                s[i] = NAN;
            loomrt_threads prev = loomrt_threads_enter(t, NULL, NULL);
            if (M)
                loomrt_dwpw(x, K ? pw : NULL, b, K, LOOMRT_ACT_CLIP, 0.0f, 6.0f, w, s, C, H, W, 3,
                            3, oh, ow, 1, 1, st, st, 1, 1, b, LOOMRT_ACT_CLIP, 0.0f, 6.0f, pj, pb,
                            M, y[t - 1], r, LOOMRT_ACT_NONE, 0.0f, 0.0f);
            else if (K)
                loomrt_pwdw(x, pw, b, K, LOOMRT_ACT_CLIP, 0.0f, 6.0f, w, y[t - 1], s, C, H, W,
                            3, 3, oh, ow, 1, 1, st, st, 1, 1, b, r, LOOMRT_ACT_CLIP, 0.0f, 6.0f);
            else
                loomrt_dwconv(x, w, y[t - 1], s, C, 1, H, W, 3, 3, oh, ow, 1, 1, st, st, 1, 1, b,
                              r, LOOMRT_ACT_CLIP, 0.0f, 6.0f);
            loomrt_threads_leave(prev);
            cr_assert(memcmp(y[0], y[t - 1], sizeof(float) * (size_t)ny) == 0,
                      "isa %d: dwconv of %lld channels (pointwise K %lld) on %d threads "
                      "differs from one thread",
                      isa, (long long)C, (long long)K, t);
        }
        free(pw);
        free(pj);
        free(pb);
        free(x);
        free(w);
        free(b);
        free(r);
        free(s);
        for (int t = 0; t < 3; t++)
            free(y[t]);
    }
}

Test(dwconv, threads_bit_exact_every_isa)
{
    for_each_isa(dw_threads_at);
}

/* ---- max pooling ---- */

/* The interpreter's MaxPool step (v if v > best or best is NaN) over the
 * window's taps inside the image, in window order, from NaN. */
static float mp_ref(const float *x, int64_t H, int64_t W, const int64_t *g, int64_t oy,
                    int64_t ox)
{
    int64_t kh = g[0], kw = g[1], pt = g[2], pl = g[3], sh = g[4], sw = g[5], dh = g[6],
            dw = g[7];
    float best = NAN;
    for (int64_t i = 0; i < kh; i++)
        for (int64_t j = 0; j < kw; j++) {
            int64_t iy = oy * sh - pt + i * dh, ix = ox * sw - pl + j * dw;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                continue;
            float v = x[iy * W + ix];
            if (v > best || best != best)
                best = v;
        }
    return best;
}

/* P planes of H x W random floats, a fifth of them NaN, some -0.0 and
 * +inf. */
static float *mp_input(int64_t P, int64_t H, int64_t W, uint32_t seed)
{
    float *x = rnd_buf((size_t)(P * H * W), seed);
    for (int64_t i = 0; i < P * H * W; i++) {
        uint32_t r = (uint32_t)(i * 2654435761u + seed) >> 24;
        x[i] = r < 51 ? NAN : r < 56 ? -0.0f : r < 58 ? INFINITY : x[i];
    }
    return x;
}

/* y (P planes of oh x ow between 16 guard floats each side, 12345) holds
 * mp_ref's values for window g over x: the same number (of equal zeros
 * either sign: the separable order may meet the other one first) or
 * NaN. */
static void mp_expect(const float *x, int64_t P, int64_t H, int64_t W, const int64_t *g,
                      const float *y, int64_t oh, int64_t ow, int isa, int t)
{
    int64_t ny = P * oh * ow;
    for (int64_t i = 0; i < 16; i++)
        cr_assert(y[i] == 12345.0f && y[16 + ny + i] == 12345.0f,
                  "isa %d: maxpool wrote outside y", isa);
    for (int64_t p = 0; p < P; p++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                float want = mp_ref(x + p * H * W, H, W, g, oy, ox);
                float got = y[16 + (p * oh + oy) * ow + ox];
                cr_assert(got == want || (got != got && want != want),
                          "isa %d: maxpool %lldx%lld %lldx%lld/%lld, [%lld, %lld, %lld] = %g, "
                          "want %g (%d threads)", isa, (long long)g[0], (long long)g[1],
                          (long long)H, (long long)W, (long long)g[4], (long long)p,
                          (long long)oy, (long long)ox, got, want, t);
            }
}

/* loomrt_maxpool2d against mp_ref over the odd sizes of the image, for
 * windows {kh, kw, pt, pl, sh, sw, dh, dw} with strides 1, 2 (the
 * deinterleaving passes; 2 or 3 adjacent columns in registers) and 3
 * (scalar), pads, dilations and windows past
 * the image's end (ceil mode), on 1 and 2 threads: the same values (of
 * equal zeros either sign: the separable order may meet the other one
 * first), with a fifth of the inputs NaN, -0.0 and +inf among them. Guard
 * floats around y must stay untouched. */
static void mp_odd_at(int isa)
{
    static const int64_t geoms[][8] = {
        {3, 3, 0, 0, 2, 2, 1, 1}, {3, 3, 1, 1, 2, 2, 1, 1}, {2, 2, 0, 0, 2, 2, 1, 1},
        {3, 3, 1, 1, 1, 1, 1, 1}, {2, 3, 1, 0, 1, 3, 2, 1}, {1, 4, 0, 2, 1, 2, 1, 2},
        {4, 2, 2, 1, 3, 2, 1, 3}, {5, 5, 2, 2, 2, 1, 1, 1}, {3, 1, 1, 0, 1, 1, 1, 1},
        {3, 3, 0, 2, 2, 2, 1, 1}, {2, 2, 1, 1, 2, 2, 1, 1}, {1, 3, 0, 1, 1, 2, 1, 1},
    };
    for (size_t gi = 0; gi < sizeof geoms / sizeof geoms[0]; gi++)
        for (int hi = 0; hi < N_ODD; hi++)
            for (int wi = 0; wi < N_ODD; wi++) {
                const int64_t *g = geoms[gi];
                int64_t H = odd_dims[hi], W = odd_dims[wi], P = 3;
                /* ceil mode: the last window may start past the image */
                int64_t oh = (H + 2 * g[2] - (g[0] - 1) * g[6] - 1 + g[4] - 1) / g[4] + 1;
                int64_t ow = (W + 2 * g[3] - (g[1] - 1) * g[7] - 1 + g[5] - 1) / g[5] + 1;
                if (oh < 1 || ow < 1)
                    continue;
                float *x = mp_input(P, H, W, (uint32_t)(gi * 131 + hi * 17 + wi));
                int64_t ny = P * oh * ow;
                float *y = malloc(sizeof(float) * (size_t)(ny + 32));
                for (int t = 1; t <= 2; t++) {
                    for (int64_t i = 0; i < ny + 32; i++)
                        y[i] = 12345.0f;
                    loomrt_threads prev = loomrt_threads_enter(t, NULL, NULL);
                    loomrt_maxpool2d(x, P, H, W, g[0], g[1], oh, ow, g[2], g[3], g[4], g[5],
                                     g[6], g[7], y + 16);
                    loomrt_threads_leave(prev);
                    mp_expect(x, P, H, W, g, y, oh, ow, isa, t);
                }
                free(x);
                free(y);
            }
}

Test(maxpool, odd_shapes_every_isa)
{
    for_each_isa(mp_odd_at);
}

/* The k x k pools (k 2 or 3) at stride 2 whose windows all lie in the
 * image (floor mode) over sizes from one window to 130, against mp_ref
 * with NaN, -0.0 and +inf among the inputs, guards around y, on 1 and 2
 * threads (130 x 130: split by output rows). */
static void mp_stride2_at(int isa, int64_t k)
{
    const int64_t g[8] = {k, k, 0, 0, 2, 2, 1, 1};
    static const int64_t sizes[] = {3, 4, 7, 17, 26, 33, 34, 35, 45, 65, 130};
    for (int hi = 0; hi < 11; hi++)
        for (int wi = 0; wi < 11; wi++) {
            int64_t H = sizes[hi], W = sizes[wi], P = H * W > 4000 ? 4 : 3;
            int64_t oh = (H - k) / 2 + 1, ow = (W - k) / 2 + 1, ny = P * oh * ow;
            float *x = mp_input(P, H, W, (uint32_t)(hi * 31 + wi));
            float *y = malloc(sizeof(float) * (size_t)(ny + 32));
            for (int t = 1; t <= 2; t++) {
                for (int64_t i = 0; i < ny + 32; i++)
                    y[i] = 12345.0f;
                loomrt_threads prev = loomrt_threads_enter(t, NULL, NULL);
                loomrt_maxpool2d(x, P, H, W, k, k, oh, ow, 0, 0, 2, 2, 1, 1, y + 16);
                loomrt_threads_leave(prev);
                mp_expect(x, P, H, W, g, y, oh, ow, isa, t);
            }
            free(x);
            free(y);
        }
}

/* 2x2, a plane at a time on AVX-512 (mp_2x2_avx512): rows of 1 to 65
 * outputs (vectors and a part). */
static void mp_two_at(int isa)
{
    mp_stride2_at(isa, 2);
}

Test(maxpool, two_by_two_every_isa)
{
    for_each_isa(mp_two_at);
}

/* 3x3, a plane at a time on AVX-512 on rows of at most 16 outputs
 * (mp_3x3_avx512: 3 to 35 columns, the rows pass's third vector empty,
 * one column or none), by the row kernel on longer ones. */
static void mp_three_at(int isa)
{
    mp_stride2_at(isa, 3);
}

Test(maxpool, three_by_three_stride_two_every_isa)
{
    for_each_isa(mp_three_at);
}

/* Large planes split by output rows over the threads (MP_ROWS_PER_THREAD
 * rows a thread and more: 61 and 55 rows on 2 and 3 threads) give the
 * reference's values, each window whole whichever thread has its row:
 * ResNet's 3x3/2 pad 1 pool and SqueezeNet's unpadded one, 4 planes. */
static void mp_rows_at(int isa)
{
    static const int64_t geoms[][8] = {{3, 3, 1, 1, 2, 2, 1, 1}, {3, 3, 0, 0, 2, 2, 1, 1}};
    static const int64_t sizes[] = {121, 111};
    for (int gi = 0; gi < 2; gi++) {
        const int64_t *g = geoms[gi];
        int64_t H = sizes[gi], W = H + 6, P = 4;
        int64_t oh = (H + 2 * g[2] - g[0]) / g[4] + 1, ow = (W + 2 * g[3] - g[1]) / g[5] + 1;
        float *x = rnd_buf((size_t)(P * H * W), (uint32_t)(gi + 7));
        float *y = malloc(sizeof(float) * (size_t)(P * oh * ow));
        for (int t = 1; t <= 3; t++) {
            for (int64_t i = 0; i < P * oh * ow; i++) /* no row left from the run before */
                y[i] = 12345.0f;
            loomrt_threads prev = loomrt_threads_enter(t, NULL, NULL);
            loomrt_maxpool2d(x, P, H, W, g[0], g[1], oh, ow, g[2], g[3], g[4], g[5], g[6],
                             g[7], y);
            loomrt_threads_leave(prev);
            for (int64_t p = 0; p < P; p++)
                for (int64_t oy = 0; oy < oh; oy++)
                    for (int64_t ox = 0; ox < ow; ox++) {
                        float want = mp_ref(x + p * H * W, H, W, g, oy, ox);
                        float got = y[(p * oh + oy) * ow + ox];
                        cr_assert(got == want, "isa %d: maxpool %lldx%lld [%lld, %lld, %lld] "
                                  "= %g, want %g (%d threads)", isa, (long long)H,
                                  (long long)W, (long long)p, (long long)oy, (long long)ox,
                                  got, want, t);
                    }
        }
        free(x);
        free(y);
    }
}

Test(maxpool, rows_split_every_isa)
{
    for_each_isa(mp_rows_at);
}

/* Rows the kernel's padded row cannot hold are refused (and left alone). */
Test(maxpool, long_rows_refused)
{
    cr_assert(loomrt_maxpool2d_fits(1000, 3, 499, 0, 2, 1));
    cr_assert(!loomrt_maxpool2d_fits(LOOMRT_MAXPOOL_ROW, 3, LOOMRT_MAXPOOL_ROW / 2, 0, 2, 1));
    cr_assert(!loomrt_maxpool2d_fits(10, 3, 4, -1, 2, 1));
    float x[4] = {1, 2, 3, 4}, y[2] = {-1, -1};
    loomrt_maxpool2d(x, 1, 1, 4, 1, 2, 1, 2, 0, -1, 1, 2, 1, 1, y);
    cr_assert(y[0] == -1 && y[1] == -1);
}

/* ---- the epilogue ---- */

Test(epilogue, keeps_nan_and_signed_zero_like_the_ops)
{
    /* Relu and Clip keep NaN (x < 0 is false), Relu keeps -0 */
    float y[3] = {NAN, -0.0f, -2.0f};
    loomrt_epi_run(y, 3, NULL, 0, NULL, LOOMRT_ACT_RELU, 0, 0);
    cr_assert(isnan(y[0]) && y[1] == 0.0f && signbit(y[1]) && y[2] == 0.0f);
    float z[3] = {NAN, 7.0f, -7.0f};
    loomrt_epi_run(z, 3, NULL, 0, NULL, LOOMRT_ACT_CLIP, 0.0f, 6.0f);
    cr_assert(isnan(z[0]) && z[1] == 6.0f && z[2] == 0.0f);
    float b[2] = {1.0f, 2.0f}, r[2] = {10.0f, 20.0f}, v[2] = {0.5f, 0.25f};
    loomrt_epi_run(v, 2, b, 1, r, LOOMRT_ACT_NONE, 0, 0);
    cr_assert(v[0] == 11.5f && v[1] == 22.25f);
}

/* ---- GEMM with an epilogue ---- */

/* loomrt_sgemm_epi (packed: loomrt_sgemm_packed_epi, C transposed when
 * tc) on M x N x K with activation act, the bias per row or per column,
 * with and without residual. */
static void gemm_epi_check(int isa, int packed, int M, int N, int K, int act, int per_col,
                           int use_res, int tc)
{
    int ta = (M + K) % 2, tb = N % 2, lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2;
    int ldc = (tc ? M : N) + 3, rows = tc ? N : M;
    float *A = rnd_buf((size_t)(lda * (ta ? K : M)), 5), *B = rnd_buf((size_t)(ldb * (tb ? N : K)), 6);
    float *bias = rnd_buf((size_t)(per_col ? N : M), 7), *res = rnd_buf((size_t)(ldc * rows), 8);
    float *C = rnd_buf((size_t)(ldc * rows), 9);
    float aa, ab;
    act_params(act, &aa, &ab);
    int64_t brs = per_col ? 0 : 1, bcs = per_col ? 1 : 0;
    if (packed) {
        float *Bp = malloc(sizeof(float) * (size_t)loomrt_sgemm_packed_size(N, K));
        loomrt_sgemm_pack_b(tb, N, K, B, ldb, Bp);
        loomrt_sgemm_packed_epi(ta, tc, M, N, K, 1.0f, A, lda, Bp, 0.0f, C, ldc, bias, brs, bcs,
                                use_res ? res : NULL, act, aa, ab);
        free(Bp);
    } else {
        loomrt_sgemm_epi(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, bias, brs, bcs,
                         use_res ? res : NULL, act, aa, ab);
    }
    char what[160];
    snprintf(what, sizeof what, "isa %d %s M=%d N=%d K=%d act %d per_col %d res %d tc %d", isa,
             packed ? "sgemm_packed_epi" : "sgemm_epi", M, N, K, act, per_col, use_res, tc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = per_col ? bias[j] : bias[i], mag = fabs(acc);
            for (int k = 0; k < K; k++) {
                double t = (double)A[ta ? k * lda + i : i * lda + k] * B[tb ? j * ldb + k : k * ldb + j];
                acc += t;
                mag += fabs(t);
            }
            int64_t at = tc ? (int64_t)j * ldc + i : (int64_t)i * ldc + j;
            if (use_res) {
                acc += res[at];
                mag += fabs(res[at]);
            }
            check_val(C[at], ref_act(act, aa, ab, acc), mag, what, at);
        }
    free(A);
    free(B);
    free(bias);
    free(res);
    free(C);
}

static const int gemm_dims[] = {1, 3, 17, 33, 65};
#define N_GD (int)(sizeof gemm_dims / sizeof gemm_dims[0])

static void gemm_epi_at(int isa)
{
    for (int m = 0; m < N_GD; m++)
        for (int n = 0; n < N_GD; n++)
            for (int k = 0; k < N_GD; k++) {
                int v = m + n + k, M = gemm_dims[m], N = gemm_dims[n], K = gemm_dims[k];
                gemm_epi_check(isa, 0, M, N, K, v % LOOMRT_ACT_COUNT, v % 2, v % 3 == 0, 0);
                gemm_epi_check(isa, 1, M, N, K, (v + 3) % LOOMRT_ACT_COUNT, (v + 1) % 2,
                               v % 2 == 0, v % 3 == 1);
            }
    /* C transposed, the bias along its stored rows (per output channel
     * of a convolution's transposed product), no residual */
    for (int act = 0; act < LOOMRT_ACT_COUNT; act++)
        for (int m = 0; m < N_GD; m++)
            gemm_epi_check(isa, 1, gemm_dims[m], 33 + m, 17, act, 1, 0, 1);
    /* K past one block (256 rows, 1024 packed): the epilogue only after
     * the last */
    for (int act = 0; act < LOOMRT_ACT_COUNT; act++) {
        gemm_epi_check(isa, 0, 13, 40, 300, act, act % 2, 1, 0);
        gemm_epi_check(isa, 1, 13, 40, 1100, act, act % 2, 1, act % 2);
    }
}

Test(gemm_epi, odd_shapes_every_act_every_isa)
{
    for_each_isa(gemm_epi_at);
}
