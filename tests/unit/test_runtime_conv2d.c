/* Unit tests of the convolution kernels, each instruction-set level
 * forced in turn.
 *
 * The implicit-GEMM convolution (runtime/loomrt_conv_pack.c): loomrt_im2col_packed equal,
 * bit for bit, to loomrt_im2col followed by loomrt_sgemm_pack_b (both are
 * copies), and loomrt_conv2d against a reference convolution accumulated
 * in double over the odd sizes 1, 3, 7, 17, 33, 65 of the image, the
 * channels and the output channels, with kernels, strides, dilations,
 * asymmetric pads and the fused epilogue (bias, residual, activation).
 * Tolerance: 1e-5 relative to the sum of the magnitudes of a result's
 * terms. Guard floats around every output and scratch buffer must stay
 * untouched.
 *
 * The Winograd F(2x2, 3x3) convolution (runtime/loomrt_winograd.c)
 * against a reference 3x3 convolution accumulated in double: the odd
 * sizes of the image and the channels, symmetric, one-sided and no
 * padding, and the epilogue (bias, residual, each activation the kernel
 * applies in registers and one it hands to loomrt_epi_run). Tolerance:
 * 2e-5 relative to the sum of the magnitudes of a result's terms (the
 * transforms add a few roundings to the direct sum's); 2 and 3 threads
 * give the one-thread result bit for bit.
 *
 * The direct convolution of few channels (loomrt_conv2d_direct, in
 * runtime/loomrt_dwconv.c) against the same reference: 1, 3, 7 and 16
 * input channels and 1 to 65 output channels over the geometries and odd
 * sizes above, the activations, and 2 and 3 threads bit for bit. With
 * the max pool after it (loomrt_conv2d_direct_maxpool) over the same
 * shapes and the pools of CNNs, ceil_mode, strides past the window and
 * dilation: bit for bit the unfused convolution's output pooled by a
 * scalar loop, on 1, 2 and 3 threads, its scratch NaN-filled.
 *
 * Winograd with the 2x2/2 max pool after it
 * (loomrt_conv2d_winograd_maxpool) over the Winograd shapes, every
 * activation, on 1, 2 and 3 threads: equal to the unfused convolution's
 * output pooled by the scalar loop.
 *
 * im2col and the transposed product over a small plane (loomrt_conv2d_t,
 * in runtime/loomrt_conv.c) against the same reference over the
 * geometries and odd sizes above, on one thread; on 2 and 3 threads
 * (each unfolding and multiplying a run of output rows) bit for bit the
 * one-thread result, its scratch NaN-filled before each run: pads the
 * first rows' windows start in, bottom padding past the image, 1-D, more
 * threads than rows, and 130 output channels (K blocked on AVX2 as the
 * whole product's).
 *
 * The sanitizer build runs every third shape. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "leak_check.h"
#include "loomrt.h"

#ifdef LOOM_TEST_SANITIZE
#define SHAPE_STEP 3
#else
#define SHAPE_STEP 1
#endif

#define GUARD 1234.5f

/* Deterministic values in [-1, 1). */
static float rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

/* n floats between two guard floats: the returned pointer is p + 1. */
static float *guarded(size_t n, uint32_t seed)
{
    float *p = malloc(sizeof(float) * (n + 2));
    for (size_t i = 0; i < n; i++)
        p[i + 1] = rnd(&seed);
    p[0] = p[n + 1] = GUARD;
    return p + 1;
}

static void guard_check(const float *p, size_t n, const char *what, const char *buf)
{
    cr_assert(p[-1] == GUARD && p[n] == GUARD, "%s: wrote outside %s", what, buf);
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

/* run(arg, t) on t = 1, 2 and 3 threads, each returning a new guarded y
 * of ny floats: the results are the one-thread one, bit for bit. */
static void expect_threads_bit_exact(float *(*run)(void *arg, int threads), void *arg,
                                     size_t ny, const char *what)
{
    float *y[3];
    for (int t = 1; t <= 3; t++) {
        y[t - 1] = run(arg, t);
        cr_assert(memcmp(y[0], y[t - 1], ny * sizeof(float)) == 0,
                  "%s: %d threads differ from one", what, t);
    }
    for (int t = 0; t < 3; t++)
        free(y[t] - 1);
}

typedef struct conv_case {
    int64_t C, M, H, W, kh, kw, pt, pl, pb, pr, sh, sw, dh, dw;
    int bias, res, act;
} conv_case;

static int64_t out_dim(int64_t in, int64_t k, int64_t p0, int64_t p1, int64_t s, int64_t d)
{
    int64_t span = in + p0 + p1 - (k - 1) * d - 1;
    return span < 0 ? 0 : span / s + 1;
}

static void describe(char *out, size_t n, int isa, const conv_case *k)
{
    snprintf(out, n,
             "isa %d C=%lld M=%lld %lldx%lld k=%lldx%lld pads %lld,%lld,%lld,%lld s=%lld,%lld "
             "d=%lld,%lld bias %d res %d act %d",
             isa, (long long)k->C, (long long)k->M, (long long)k->H, (long long)k->W,
             (long long)k->kh, (long long)k->kw, (long long)k->pt, (long long)k->pl,
             (long long)k->pb, (long long)k->pr, (long long)k->sh, (long long)k->sw,
             (long long)k->dh, (long long)k->dw, k->bias, k->res, k->act);
}

/* The packed unfolding of every block of panels equals the unfolding
 * packed afterwards. */
static void pack_check(int isa, const conv_case *k, int64_t oh, int64_t ow)
{
    int64_t K = k->C * k->kh * k->kw, N = oh * ow, np = (N + LOOMRT_SGEMM_NR - 1) / LOOMRT_SGEMM_NR;
    size_t nx = (size_t)(k->C * k->H * k->W), ns = (size_t)loomrt_sgemm_packed_size(N, K);
    float *x = guarded(nx, 1), *col = malloc(sizeof(float) * (size_t)(K * N));
    float *want = malloc(sizeof(float) * ns), *got = guarded(ns, 2);
    loomrt_im2col(x, k->C, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh, k->sw, k->dh,
                  k->dw, col);
    loomrt_sgemm_pack_b(0, N, K, col, N, want);
    int64_t half = np / 2; /* two blocks: the second starts mid-image */
    loomrt_im2col_packed(x, k->C, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh, k->sw,
                         k->dh, k->dw, 0, half, got);
    loomrt_im2col_packed(x, k->C, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh, k->sw,
                         k->dh, k->dw, half, np, got + half * K * LOOMRT_SGEMM_NR);
    char what[240];
    describe(what, sizeof what, isa, k);
    guard_check(got, ns, what, "the packed panels");
    cr_assert(memcmp(got, want, sizeof(float) * ns) == 0, "%s: packed unfolding differs", what);
    free(x - 1);
    free(col);
    free(want);
    free(got - 1);
}

/* ONNX Conv-11 for one group, in double, then the epilogue. */
static double ref_at(const conv_case *k, const float *x, const float *w, const float *b,
                     const float *r, int64_t m, int64_t oy, int64_t ox, int64_t at, double *mag)
{
    double acc = k->bias ? b[m] : 0.0;
    *mag = fabs(acc);
    for (int64_t c = 0; c < k->C; c++)
        for (int64_t i = 0; i < k->kh; i++)
            for (int64_t j = 0; j < k->kw; j++) {
                int64_t iy = oy * k->sh + i * k->dh - k->pt, ix = ox * k->sw + j * k->dw - k->pl;
                if (iy < 0 || iy >= k->H || ix < 0 || ix >= k->W)
                    continue;
                double t = (double)x[(c * k->H + iy) * k->W + ix] *
                           w[((m * k->C + c) * k->kh + i) * k->kw + j];
                acc += t;
                *mag += fabs(t);
            }
    if (k->res) {
        acc += r[at];
        *mag += fabs(r[at]);
    }
    if (k->act == LOOMRT_ACT_RELU && acc < 0)
        acc = 0;
    return acc;
}

static void conv_check(int isa, const conv_case *k)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    if (oh <= 0 || ow <= 0)
        return;
    pack_check(isa, k, oh, ow);
    size_t ny = (size_t)(k->M * oh * ow);
    size_t ns = (size_t)loomrt_conv2d_scratch(k->C, k->kh, k->kw, oh, ow);
    float *x = guarded((size_t)(k->C * k->H * k->W), 3);
    float *w = guarded((size_t)(k->M * k->C * k->kh * k->kw), 4);
    float *b = guarded((size_t)k->M, 5), *r = guarded(ny, 6), *y = guarded(ny, 7);
    float *s = guarded(ns, 8);
    loomrt_conv2d(x, w, y, s, k->C, k->M, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl, k->sh,
                  k->sw, k->dh, k->dw, k->bias ? b : NULL, k->res ? r : NULL, k->act, 0.0f, 0.0f);
    char what[240];
    describe(what, sizeof what, isa, k);
    guard_check(y, ny, what, "y");
    guard_check(s, ns, what, "scratch");
    for (int64_t m = 0; m < k->M; m++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t at = (m * oh + oy) * ow + ox;
                double mag, want = ref_at(k, x, w, b, r, m, oy, ox, at, &mag);
                cr_assert(fabs(y[at] - want) <= 1e-5 * (1.0 + mag),
                          "%s: y[%lld] = %.9g, want %.9g", what, (long long)at, y[at], want);
            }
    free(x - 1);
    free(w - 1);
    free(b - 1);
    free(r - 1);
    free(y - 1);
    free(s - 1);
}

static const int64_t odd_dims[] = {1, 3, 7, 17, 33, 65};
#define N_ODD (int)(sizeof odd_dims / sizeof odd_dims[0])

/* Geometries: ResNet's 3x3 at stride 1 and 2 and 7x7 stride 2, 1x1 at
 * stride 2, 5x5, dilated 2x3, stride 3, asymmetric and one-sided pads;
 * the epilogue varies with them. */
static const conv_case geoms[] = {
    {.kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1, .act = LOOMRT_ACT_RELU},
    {.kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .res = 1},
    {.kh = 7, .kw = 7, .pt = 3, .pl = 3, .pb = 3, .pr = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1},
    {.kh = 1, .kw = 1, .pt = 0, .pl = 0, .pb = 0, .pr = 0, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .res = 1},
    {.kh = 5, .kw = 5, .pt = 2, .pl = 0, .pb = 0, .pr = 2, .sh = 1, .sw = 2, .dh = 1, .dw = 1, .act = LOOMRT_ACT_RELU},
    {.kh = 2, .kw = 3, .pt = 0, .pl = 2, .pb = 1, .pr = 0, .sh = 1, .sw = 1, .dh = 2, .dw = 2, .bias = 1, .res = 1, .act = LOOMRT_ACT_RELU},
    {.kh = 3, .kw = 1, .pt = 2, .pl = 0, .pb = 0, .pr = 1, .sh = 3, .sw = 3, .dh = 1, .dw = 1},
};

/* check(isa, k) for every geometry over every H x W of odd sizes, the
 * channel counts C and M walking the odd sizes with them (C up to 33: the
 * reference is slow). */
static void for_odd_shapes(int isa, void (*check)(int isa, const conv_case *k))
{
    int n = 0;
    for (size_t g = 0; g < sizeof geoms / sizeof geoms[0]; g++)
        for (int h = 0; h < N_ODD; h++)
            for (int wi = 0; wi < N_ODD; wi++, n++) {
                if (n % SHAPE_STEP)
                    continue;
                conv_case k = geoms[g];
                k.H = odd_dims[h];
                k.W = odd_dims[wi];
                k.C = odd_dims[(h + wi + (int)g) % (N_ODD - 1)];
                k.M = odd_dims[(h + 2 * wi + (int)g) % N_ODD];
                check(isa, &k);
            }
}

static void odd_at(int isa)
{
    for_odd_shapes(isa, conv_check);
}

Test(conv2d, odd_shapes_every_isa)
{
    for_each_isa(odd_at);
}

/* Blocks of several panels: a large K keeps them at two panels, a small
 * one packs many; the output rows straddle panels. */
static void blocks_at(int isa)
{
    conv_case big = {.C = 65, .M = 17, .H = 17, .W = 7, .kh = 3, .kw = 3, .pt = 1, .pl = 1,
                     .pb = 1, .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1};
    conv_case small = {.C = 1, .M = 3, .H = 65, .W = 33, .kh = 3, .kw = 3, .pt = 0, .pl = 1,
                       .pb = 2, .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .res = 1};
    conv_check(isa, &big);
    conv_check(isa, &small);
}

Test(conv2d, blocks_every_isa)
{
    for_each_isa(blocks_at);
}

/* The one-row packed product the blocks of a single-channel output make:
 * every panel count of a partial block of four (49 to 63 columns were
 * once left uncomputed by the AVX2 path). */
static void row_at(int isa)
{
    static const int64_t ns[] = {1, 17, 33, 49, 55, 63, 64, 65, 113};
    const int64_t K = 7;
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        int64_t N = ns[t];
        size_t np = (size_t)loomrt_sgemm_packed_size(N, K);
        float *a = guarded((size_t)K, 9), *b = guarded((size_t)(K * N), 10);
        float *bp = malloc(sizeof(float) * np), *c = guarded((size_t)N, 11);
        loomrt_sgemm_pack_b(0, N, K, b, N, bp);
        loomrt_sgemm_packed(0, 0, 1, N, K, 1.0f, a, K, bp, 0.0f, c, N);
        guard_check(c, (size_t)N, "sgemm_packed M=1", "C");
        for (int64_t j = 0; j < N; j++) {
            double want = 0.0, mag = 0.0;
            for (int64_t k = 0; k < K; k++) {
                want += (double)a[k] * b[k * N + j];
                mag += fabs((double)a[k] * b[k * N + j]);
            }
            cr_assert(fabs(c[j] - want) <= 1e-5 * (1.0 + mag),
                      "isa %d sgemm_packed M=1 N=%lld: C[%lld] = %.9g, want %.9g", isa,
                      (long long)N, (long long)j, c[j], want);
        }
        free(a - 1);
        free(b - 1);
        free(bp);
        free(c - 1);
    }
}

Test(conv2d, packed_row_every_isa)
{
    for_each_isa(row_at);
}

/* On 2 and 3 threads (the plane's 95 panels split into one run a
 * thread, each unfolded and multiplied by its thread a chunk at a time:
 * 47 and 48 panels in chunks of 5 on 2 threads, the last chunks of 2 and
 * 3; 31, 32 and 32 in chunks of 3 on 3 threads, the last of 1 and 2)
 * loomrt_conv2d gives the one-thread result bit for bit, with the
 * scratch guards intact: K 288, 10 panels a block, at every
 * instruction-set level. */
/* loomrt_conv2d's operands for threads_at. */
typedef struct conv_threads {
    conv_case k;
    int64_t oh, ow;
    size_t ny, ns;
    float *x, *w, *b, *r, *s;
} conv_threads;

static float *conv_threads_run(void *arg, int threads)
{
    conv_threads *c = arg;
    const conv_case *k = &c->k;
    float *y = guarded(c->ny, 7);
    for (size_t i = 0; i < c->ns; i++) /* no panel left from another run */
        c->s[i] = NAN;
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_conv2d(c->x, c->w, y, c->s, k->C, k->M, k->H, k->W, k->kh, k->kw, c->oh, c->ow,
                  k->pt, k->pl, k->sh, k->sw, k->dh, k->dw, c->b, c->r, k->act, 0.0f, 0.0f);
    loomrt_threads_leave(prev);
    guard_check(y, c->ny, "conv2d threads", "y");
    guard_check(c->s, c->ns, "conv2d threads", "scratch");
    return y;
}

static void threads_at(int isa)
{
    conv_threads c = {.k = {.C = 32, .M = 24, .H = 41, .W = 37, .kh = 3, .kw = 3, .pt = 1,
                            .pl = 1, .pb = 1, .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                            .bias = 1, .res = 1, .act = LOOMRT_ACT_RELU}};
    const conv_case *k = &c.k;
    c.oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    c.ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    c.ny = (size_t)(k->M * c.oh * c.ow);
    c.ns = (size_t)loomrt_conv2d_scratch(k->C, k->kh, k->kw, c.oh, c.ow);
    c.x = guarded((size_t)(k->C * k->H * k->W), 3);
    c.w = guarded((size_t)(k->M * k->C * k->kh * k->kw), 4);
    c.b = guarded((size_t)k->M, 5);
    c.r = guarded(c.ny, 6);
    c.s = guarded(c.ns, 8);
    char what[32];
    snprintf(what, sizeof what, "isa %d: conv2d", isa);
    expect_threads_bit_exact(conv_threads_run, &c, c.ny, what);
    free(c.x - 1);
    free(c.w - 1);
    free(c.b - 1);
    free(c.r - 1);
    free(c.s - 1);
}

Test(conv2d, threads_bit_exact_every_isa)
{
    for_each_isa(threads_at);
}

/* ---- Winograd F(2x2, 3x3) ---- */

typedef struct wg_case {
    int64_t C, M, H, W, pt, pl, pb, pr;
    int bias, res, act;
} wg_case;

static const float ACT_ALPHA[LOOMRT_ACT_COUNT] = {0, 0, 0.1f, -0.25f, 0, 0, 0, 1.0f / 6};
static const float ACT_BETA[LOOMRT_ACT_COUNT] = {0, 0, 0, 0.5f, 0, 0, 0, 0.5f};

static double act_ref(double v, int act)
{
    double a = ACT_ALPHA[act], b = ACT_BETA[act];
    switch (act) {
    case LOOMRT_ACT_RELU: return v < 0 ? 0 : v;
    case LOOMRT_ACT_LEAKY_RELU: return v < 0 ? a * v : v;
    case LOOMRT_ACT_CLIP: return v < a ? a : v > b ? b : v;
    case LOOMRT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case LOOMRT_ACT_HARD_SWISH: {
        double h = a * v + b;
        return v * (h < 0 ? 0 : h > 1 ? 1 : h);
    }
    default: return v;
    }
}

typedef struct wg_run {
    wg_case k;
    int64_t oh, ow, blocks; /* blocks of scratch, at least 1 */
    size_t ny, ns;
    float *x, *w, *u, *b, *r, *s;
} wg_run;

static void wg_describe(char *out, size_t n, int isa, const wg_case *k)
{
    snprintf(out, n, "isa %d C=%lld M=%lld %lldx%lld pads %lld,%lld,%lld,%lld bias %d res %d act %d",
             isa, (long long)k->C, (long long)k->M, (long long)k->H, (long long)k->W,
             (long long)k->pt, (long long)k->pl, (long long)k->pb, (long long)k->pr, k->bias,
             k->res, k->act);
}

/* Inputs, transformed weights and scratch of case k; oh or ow 0 when the
 * window does not fit. */
static wg_run wg_run_blocks(const wg_case *k, int64_t blocks)
{
    wg_run t = {.k = *k, .blocks = blocks};
    t.oh = k->H + k->pt + k->pb - 2;
    t.ow = k->W + k->pl + k->pr - 2;
    if (t.oh <= 0 || t.ow <= 0)
        return t;
    t.ny = (size_t)(k->M * t.oh * t.ow);
    t.ns = (size_t)(blocks * loomrt_winograd_scratch(k->C, k->M, t.oh, t.ow));
    t.x = guarded((size_t)(k->C * k->H * k->W), 3);
    t.w = guarded((size_t)(k->M * k->C * 9), 4);
    t.u = guarded((size_t)loomrt_winograd_packed_size(k->M, k->C, t.oh, t.ow), 5);
    t.b = guarded((size_t)k->M, 6);
    t.r = guarded(t.ny, 7);
    t.s = guarded(t.ns, 8);
    loomrt_winograd_pack(t.w, k->M, k->C, t.oh, t.ow, t.u);
    guard_check(t.u, (size_t)loomrt_winograd_packed_size(k->M, k->C, t.oh, t.ow), "pack", "u");
    return t;
}

static wg_run wg_run_new(const wg_case *k)
{
    return wg_run_blocks(k, 1);
}

static void wg_run_free(wg_run *t)
{
    if (!t->x)
        return;
    free(t->x - 1);
    free(t->w - 1);
    free(t->u - 1);
    free(t->b - 1);
    free(t->r - 1);
    free(t->s - 1);
}

/* y = the kernel's output (guarded, to be freed by the caller). */
static float *wg_run_conv(const wg_run *t, const char *what)
{
    const wg_case *k = &t->k;
    float *y = guarded(t->ny, 9);
    loomrt_conv2d_winograd(t->x, t->u, y, t->s, t->blocks, k->C, k->M, k->H, k->W, t->oh,
                           t->ow, k->pt, k->pl, k->bias ? t->b : NULL, k->res ? t->r : NULL,
                           k->act, ACT_ALPHA[k->act], ACT_BETA[k->act]);
    guard_check(y, t->ny, what, "y");
    guard_check(t->s, t->ns, what, "scratch");
    return y;
}

static void wg_check(int isa, const wg_case *k)
{
    wg_run t = wg_run_new(k);
    if (!t.x)
        return;
    char what[200];
    wg_describe(what, sizeof what, isa, k);
    float *y = wg_run_conv(&t, what);
    for (int64_t m = 0; m < k->M; m++)
        for (int64_t oy = 0; oy < t.oh; oy++)
            for (int64_t ox = 0; ox < t.ow; ox++) {
                int64_t at = (m * t.oh + oy) * t.ow + ox;
                double acc = k->bias ? t.b[m] : 0.0, mag = fabs(acc);
                for (int64_t c = 0; c < k->C; c++)
                    for (int64_t i = 0; i < 3; i++)
                        for (int64_t j = 0; j < 3; j++) {
                            int64_t iy = oy + i - k->pt, ix = ox + j - k->pl;
                            if (iy < 0 || iy >= k->H || ix < 0 || ix >= k->W)
                                continue;
                            double p = (double)t.x[(c * k->H + iy) * k->W + ix] *
                                       t.w[(m * k->C + c) * 9 + i * 3 + j];
                            acc += p;
                            mag += fabs(p);
                        }
                if (k->res) {
                    acc += t.r[at];
                    mag += fabs(t.r[at]);
                }
                double want = act_ref(acc, k->act);
                cr_assert(fabs(y[at] - want) <= 2e-5 * (1.0 + mag),
                          "%s: y[%lld] = %.9g, want %.9g", what, (long long)at, y[at], want);
            }
    free(y - 1);
    wg_run_free(&t);
}

/* Pads (top, left, bottom, right) and the epilogue that goes with them. */
static const wg_case wg_pads[] = {
    {.pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1, .act = LOOMRT_ACT_RELU},
    {.pt = 0, .pl = 0, .pb = 0, .pr = 0, .res = 1},
    {.pt = 2, .pl = 0, .pb = 0, .pr = 2, .bias = 1, .res = 1, .act = LOOMRT_ACT_CLIP},
    {.pt = 0, .pl = 1, .pb = 2, .pr = 1, .act = LOOMRT_ACT_LEAKY_RELU},
    {.pt = 1, .pl = 2, .pb = 1, .pr = 0, .bias = 1, .res = 1, .act = LOOMRT_ACT_SIGMOID},
    {.pt = 1, .pl = 1, .pb = 1, .pr = 1, .res = 1, .act = LOOMRT_ACT_HARD_SWISH},
};

/* check(isa, k) for every pad case over every H x W of odd sizes, the
 * channel counts walking the odd sizes with them (C up to 33: the
 * reference is slow). */
static void wg_for_odd(int isa, void (*check)(int isa, const wg_case *k))
{
    int n = 0;
    for (size_t p = 0; p < sizeof wg_pads / sizeof wg_pads[0]; p++)
        for (int h = 0; h < N_ODD; h++)
            for (int wi = 0; wi < N_ODD; wi++, n++) {
                if (n % SHAPE_STEP)
                    continue;
                wg_case k = wg_pads[p];
                k.H = odd_dims[h];
                k.W = odd_dims[wi];
                k.C = odd_dims[(h + wi + (int)p) % (N_ODD - 1)];
                k.M = odd_dims[(h + 2 * wi + (int)p) % N_ODD];
                check(isa, &k);
            }
}

static void wg_odd_at(int isa)
{
    wg_for_odd(isa, wg_check);
}

Test(winograd, odd_shapes_every_isa)
{
    for_each_isa(wg_odd_at);
}

/* Several blocks of panels (many channels make one-panel blocks, few make
 * a block of all), tile rows wider than a panel and narrower, runs of a
 * panel's tiles over several tile rows; the products transposed (36
 * tiles) over three one-panel blocks and over one, M past a multiple of
 * the kernels' columns. */
static void wg_blocks_at(int isa)
{
    static const wg_case ks[] = {
        {.C = 300, .M = 260, .H = 9, .W = 37, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1},
        {.C = 400, .M = 300, .H = 12, .W = 12, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .res = 1, .act = LOOMRT_ACT_RELU},
        {.C = 70, .M = 70, .H = 11, .W = 11, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .res = 1},
        {.C = 8, .M = 9, .H = 101, .W = 70, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .res = 1},
        {.C = 5, .M = 3, .H = 40, .W = 4, .pt = 0, .pl = 1, .pb = 0, .pr = 1, .bias = 1},
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        wg_check(isa, &ks[i]);
}

Test(winograd, blocks_every_isa)
{
    for_each_isa(wg_blocks_at);
}

/* A Winograd run and its description, for wg_threads_at. */
typedef struct wg_threads {
    wg_run t;
    char what[200];
} wg_threads;

static float *wg_threads_run(void *arg, int threads)
{
    wg_threads *c = arg;
    /* the scratch made NaN, so that a step left undone on some thread
     * count does not find the one-thread run's values there */
    for (size_t i = 0; i < c->t.ns; i++)
        c->t.s[i] = NAN;
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    float *y = wg_run_conv(&c->t, c->what);
    loomrt_threads_leave(prev);
    return y;
}

/* On 2 and 3 threads the result is the one-thread one, bit for bit, with
 * the products as they are and transposed: the plane split by its tiles
 * (each thread all steps of a run of panels, a chunk at a time: 40 -> 24
 * channels over 41x37, 25 panels in blocks of 16, chunks of 8 + 4 and 8 +
 * 5 panels on 2 threads, 5 + 3, 5 + 3 and 5 + 4 on 3; 32 -> 64 over
 * 20x26, 130 tiles in 9 panels, transposed, 4 and 4 + 1 on 2 threads, on
 * one thread on 3, too small a product to split step by step), step by
 * step (each block's input transform split by panel and channel, its
 * products by element, its output by channel: 96 -> 128 over 13x13, 49
 * tiles in 4 panels) and not at all (40 -> 64 over 13x13, WG_STEPS_MIN);
 * one output channel (17 -> 1 over 64x64, products as GEMVs, whose order
 * of sums depends on the panels of a call: not split by tiles). Each with
 * a scratch of 1, 2 and 3 blocks: with as many blocks as threads, each
 * thread runs its run of panels a whole block at a time in a block of its
 * own (40 -> 24: 12 and 13 panels on 2 threads, 8, 8 and 9 on 3), the
 * same values as with one block. */
static void wg_threads_at(int isa)
{
    static const wg_case ks[] = {
        {.C = 40, .M = 24, .H = 41, .W = 37, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .res = 1, .act = LOOMRT_ACT_RELU},
        {.C = 32, .M = 64, .H = 20, .W = 26, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .res = 1, .act = LOOMRT_ACT_CLIP},
        {.C = 40, .M = 64, .H = 13, .W = 13, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .act = LOOMRT_ACT_RELU},
        {.C = 96, .M = 128, .H = 13, .W = 13, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .res = 1, .act = LOOMRT_ACT_RELU},
        {.C = 17, .M = 1, .H = 65, .W = 65, .pt = 0, .pl = 1, .pb = 1, .pr = 0,
         .act = LOOMRT_ACT_LEAKY_RELU},
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        float *y[3];
        for (int64_t blocks = 1; blocks <= 3; blocks++) {
            wg_threads c = {.t = wg_run_blocks(&ks[i], blocks)};
            wg_describe(c.what, sizeof c.what, isa, &ks[i]);
            expect_threads_bit_exact(wg_threads_run, &c, c.t.ny, c.what);
            y[blocks - 1] = wg_threads_run(&c, 2);
            cr_assert(memcmp(y[0], y[blocks - 1], c.t.ny * sizeof(float)) == 0,
                      "%s: %lld blocks of scratch differ from one", c.what, (long long)blocks);
            wg_run_free(&c.t);
        }
        for (int b = 0; b < 3; b++)
            free(y[b] - 1);
    }
}

Test(winograd, threads_bit_exact_every_isa)
{
    for_each_isa(wg_threads_at);
}

/* ---- direct convolution of few channels ---- */

/* y [M, oh, ow] is k's convolution of x by w, bias b, residual r (each
 * used as k says), then k's activation with ACT_ALPHA / ACT_BETA. */
static void expect_ref(const char *what, const conv_case *k, const float *x, const float *w,
                       const float *b, const float *r, const float *y, int64_t oh, int64_t ow)
{
    conv_case plain = *k;
    plain.act = LOOMRT_ACT_NONE;
    for (int64_t m = 0; m < k->M; m++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t at = (m * oh + oy) * ow + ox;
                double mag, want = act_ref(ref_at(&plain, x, w, b, r, m, oy, ox, at, &mag), k->act);
                cr_assert(fabs(y[at] - want) <= 1e-5 * (1.0 + mag) + 4e-6 * fabs(want),
                          "%s: y[%lld] = %.9g, want %.9g", what, (long long)at, y[at], want);
            }
}

/* loomrt_conv2d_direct on threads threads into a new guarded y (checked
 * against the reference when check is set); returns y. */
static float *direct_run(int isa, const conv_case *k, int threads, int check)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    int64_t K = k->C * k->kh * k->kw;
    size_t ny = (size_t)(k->M * oh * ow), np = (size_t)loomrt_conv2d_direct_packed_size(k->M, K);
    float *x = guarded((size_t)(k->C * k->H * k->W), 3), *w = guarded((size_t)(k->M * K), 4);
    float *b = guarded((size_t)k->M, 5), *r = guarded(ny, 6), *y = guarded(ny, 7);
    float *wp = guarded(np, 8);
    loomrt_conv2d_direct_pack(w, k->M, K, wp);
    char what[240];
    describe(what, sizeof what, isa, k);
    guard_check(wp, np, what, "the packed weights");
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_conv2d_direct(x, wp, y, k->C, k->M, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl,
                         k->sh, k->sw, k->dh, k->dw, k->bias ? b : NULL, k->res ? r : NULL,
                         k->act, ACT_ALPHA[k->act], ACT_BETA[k->act]);
    loomrt_threads_leave(prev);
    guard_check(y, ny, what, "y");
    if (check)
        expect_ref(what, k, x, w, b, r, y, oh, ow);
    free(x - 1);
    free(w - 1);
    free(b - 1);
    free(r - 1);
    free(wp - 1);
    return y;
}

/* The shapes of the direct kernel's tests: every geometry over every H x
 * W of odd sizes with 1, 3, 7 and 16 input channels and 1 to 65 output
 * channels (partial blocks of 16 and 8) walking with them; check(isa, k,
 * i, arg) for each with an output, i counting the shapes. */
static void for_direct_shapes(int isa, void (*check)(int isa, const conv_case *k, int i, void *arg),
                              void *arg)
{
    static const int64_t chans[] = {1, 3, 7, 16};
    int n = 0;
    for (size_t g = 0; g < sizeof geoms / sizeof geoms[0]; g++)
        for (int h = 0; h < N_ODD; h++)
            for (int wi = 0; wi < N_ODD; wi++, n++) {
                if (n % SHAPE_STEP)
                    continue;
                conv_case k = geoms[g];
                k.H = odd_dims[h];
                k.W = odd_dims[wi];
                k.C = chans[(h + wi + (int)g) % 4];
                k.M = odd_dims[(h + 2 * wi + (int)g) % N_ODD];
                if (out_dim(k.H, k.kh, k.pt, k.pb, k.sh, k.dh) > 0 &&
                    out_dim(k.W, k.kw, k.pl, k.pr, k.sw, k.dw) > 0)
                    check(isa, &k, n, arg);
            }
}

/* Shapes run and shapes the kernel does not take. */
typedef struct shape_count {
    int run, skipped;
} shape_count;

static void direct_odd_one(int isa, const conv_case *k, int i, void *arg)
{
    shape_count *c = arg;
    (void)i;
    if (!loomrt_conv2d_direct_fits(k->C, k->kh, k->kw, k->sw, k->dw)) {
        c->skipped++;
        return;
    }
    free(direct_run(isa, k, 1, 1) - 1);
    c->run++;
}

/* Every shape of for_direct_shapes: chunks inside the image, in the
 * padding, past the row's end, in the last rows of the last channel.
 * Shapes the kernel does not take (too many taps for its patch) are
 * counted and must be few. */
static void direct_odd_at(int isa)
{
    shape_count c = {0, 0};
    for_direct_shapes(isa, direct_odd_one, &c);
    cr_assert(c.run > 20 * c.skipped, "isa %d: %d shapes run, %d not taken", isa, c.run,
              c.skipped);
}

Test(conv_direct, odd_shapes_every_isa)
{
    for_each_isa(direct_odd_at);
}

/* Each activation the kernels apply in registers (Relu, LeakyRelu, Clip)
 * and ones applied over the finished rows (Sigmoid, HardSwish), with and
 * without bias and residual, at strides 1 and 2. */
static void direct_acts_at(int isa)
{
    static const int acts[] = {LOOMRT_ACT_NONE, LOOMRT_ACT_RELU, LOOMRT_ACT_LEAKY_RELU,
                               LOOMRT_ACT_CLIP, LOOMRT_ACT_SIGMOID, LOOMRT_ACT_HARD_SWISH};
    for (int a = 0; a < 6; a++)
        for (int br = 0; br < 8; br++) {
            conv_case k = {.C = 3, .M = br < 4 ? 19 : 32, .H = 23, .W = 37, .kh = 3, .kw = 3,
                           .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 1 + br % 2, .sw = 1 + br % 2,
                           .dh = 1, .dw = 1, .bias = br & 1, .res = (br >> 1) & 1, .act = acts[a]};
            free(direct_run(isa, &k, 1, 1) - 1);
        }
}

Test(conv_direct, every_epilogue_every_isa)
{
    for_each_isa(direct_acts_at);
}

/* Rows wider than the AVX2 kernel lays out at once go in segments of
 * it: 10 channels of 7x7/2 taps (segments of 48 outputs, the last of 7),
 * 3 channels of 3x3/2 taps (432, then 69) and 5 of 3x3/1 (a row of 1001
 * outputs); every level is checked against the reference. */
static void direct_wide_at(int isa)
{
    static const conv_case wide[] = {
        {.C = 10, .M = 21, .H = 9, .W = 301, .kh = 7, .kw = 7, .pt = 3, .pl = 3, .pb = 3,
         .pr = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .res = 1,
         .act = LOOMRT_ACT_RELU},
        {.C = 3, .M = 8, .H = 5, .W = 1001, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1,
         .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .act = LOOMRT_ACT_CLIP},
        {.C = 5, .M = 6, .H = 3, .W = 1003, .kh = 3, .kw = 3, .pt = 0, .pl = 0, .pb = 0,
         .pr = 0, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .res = 1},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        const conv_case *k = &wide[i];
        cr_assert(loomrt_conv2d_direct_fits(k->C, k->kh, k->kw, k->sw, k->dw));
        free(direct_run(isa, k, 1, 1) - 1);
    }
}

Test(conv_direct, wide_rows_every_isa)
{
    for_each_isa(direct_wide_at);
}

/* A case for expect_threads_bit_exact: k run by run (direct_run,
 * ct_run) at level isa. */
typedef struct threads_case {
    int isa;
    conv_case k;
    float *(*run)(int isa, const conv_case *k, int threads, int check);
} threads_case;

/* The one-thread run is also checked against the reference. */
static float *threads_case_run(void *arg, int threads)
{
    const threads_case *c = arg;
    return c->run(c->isa, &c->k, threads, threads == 1);
}

/* On 2 and 3 threads (split by output rows) the result is the one-thread
 * one, bit for bit: resnet18's first convolution on a smaller image. */
static void direct_threads_at(int isa)
{
    conv_case k = {.C = 3, .M = 40, .H = 61, .W = 70, .kh = 7, .kw = 7, .pt = 3, .pl = 3,
                   .pb = 3, .pr = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .res = 1,
                   .act = LOOMRT_ACT_RELU};
    threads_case c = {isa, k, direct_run};
    char what[40];
    snprintf(what, sizeof what, "isa %d: conv2d_direct", isa);
    expect_threads_bit_exact(threads_case_run, &c, (size_t)(k.M * 31 * 35), what);
}

Test(conv_direct, threads_bit_exact_every_isa)
{
    for_each_isa(direct_threads_at);
}

/* What the kernel takes: few taps, a chunk's padded input within its
 * patch, positive strides and dilations. */
Test(conv_direct, fits)
{
    cr_expect(loomrt_conv2d_direct_fits(3, 7, 7, 2, 1));
    cr_expect(loomrt_conv2d_direct_fits(16, 3, 3, 1, 1));
    cr_expect(!loomrt_conv2d_direct_fits(64, 3, 3, 1, 1)); /* 576 taps */
    cr_expect(!loomrt_conv2d_direct_fits(16, 5, 5, 4, 1)); /* 400 taps, a 5200-float patch */
    cr_expect(!loomrt_conv2d_direct_fits(3, 3, 3, 0, 1));
    cr_expect(!loomrt_conv2d_direct_fits(0, 3, 3, 1, 1));
}

/* ---- the direct convolution with the max pool after it ---- */

/* A max pool's window over a convolution's output: kernel, begin and
 * end pads (an end pad past the begin one: ceil_mode's last window),
 * stride, dilation; square. */
typedef struct pool_case {
    int64_t k, pb, pe, s, d;
} pool_case;

/* The pooled output of y [M, oh, ow], the maximum of each window's taps
 * inside the plane, into a new buffer of M * poh * pow floats. */
static float *pool_ref(const float *y, int64_t M, int64_t oh, int64_t ow, const pool_case *p,
                       int64_t poh, int64_t pow_)
{
    float *z = malloc(sizeof(float) * (size_t)(M * poh * pow_));
    for (int64_t m = 0; m < M; m++)
        for (int64_t i = 0; i < poh; i++)
            for (int64_t j = 0; j < pow_; j++) {
                float best = NAN;
                for (int64_t a = 0; a < p->k; a++)
                    for (int64_t b = 0; b < p->k; b++) {
                        int64_t r = i * p->s - p->pb + a * p->d, c = j * p->s - p->pb + b * p->d;
                        if (r < 0 || r >= oh || c < 0 || c >= ow)
                            continue;
                        float v = y[(m * oh + r) * ow + c];
                        if (v > best || best != best)
                            best = v;
                    }
                z[(m * poh + i) * pow_ + j] = best;
            }
    return z;
}

/* loomrt_conv2d_direct_maxpool of k (no residual) and pool p on threads
 * threads into a new guarded output, its scratch guarded and NaN-filled;
 * with check, equal bit for bit to the pool of loomrt_conv2d_direct's
 * output (itself checked against the reference convolution). Returns the
 * output (*nz floats), NULL when the kernel does not take the shape. */
static float *direct_pool_run(int isa, const conv_case *k, const pool_case *p, int threads,
                              int check, size_t *nz)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    int64_t poh = out_dim(oh, p->k, p->pb, p->pe, p->s, p->d);
    int64_t pow_ = out_dim(ow, p->k, p->pb, p->pe, p->s, p->d), K = k->C * k->kh * k->kw;
    if (oh <= 0 || ow <= 0 || poh <= 0 || pow_ <= 0 ||
        !loomrt_conv2d_direct_maxpool_fits(k->C, k->kh, k->kw, k->sw, k->dw, ow, p->k, p->k, pow_,
                                           p->pb, p->pb, p->s, p->s, p->d, p->d))
        return NULL;
    *nz = (size_t)(k->M * poh * pow_);
    size_t np = (size_t)loomrt_conv2d_direct_packed_size(k->M, K);
    size_t ns = (size_t)loomrt_conv2d_direct_maxpool_scratch(k->M, ow, p->k, p->s, p->d);
    float *x = guarded((size_t)(k->C * k->H * k->W), 3), *w = guarded((size_t)(k->M * K), 4);
    float *b = guarded((size_t)k->M, 5), *wp = guarded(np, 8), *z = guarded(*nz, 9);
    float *s = guarded(ns, 10);
    for (size_t i = 0; i < ns; i++)
        s[i] = NAN;
    loomrt_conv2d_direct_pack(w, k->M, K, wp);
    char what[300];
    describe(what, sizeof what, isa, k);
    snprintf(what + strlen(what), sizeof what - strlen(what),
             " pool k=%lld pads %lld,%lld s=%lld d=%lld threads %d", (long long)p->k,
             (long long)p->pb, (long long)p->pe, (long long)p->s, (long long)p->d, threads);
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_conv2d_direct_maxpool(x, wp, z, s, k->C, k->M, k->H, k->W, k->kh, k->kw, oh, ow, k->pt,
                                 k->pl, k->sh, k->sw, k->dh, k->dw, k->bias ? b : NULL, k->act,
                                 ACT_ALPHA[k->act], ACT_BETA[k->act], p->k, p->k, poh, pow_,
                                 p->pb, p->pb, p->s, p->s, p->d, p->d);
    loomrt_threads_leave(prev);
    guard_check(z, *nz, what, "the pooled output");
    guard_check(s, ns, what, "the scratch");
    if (check) {
        conv_case kc = *k;
        kc.res = 0;
        float *y = direct_run(isa, &kc, 1, 1);
        float *want = pool_ref(y, k->M, oh, ow, p, poh, pow_);
        for (size_t i = 0; i < *nz; i++)
            cr_assert(memcmp(&z[i], &want[i], sizeof(float)) == 0,
                      "%s: z[%zu] = %.9g, want %.9g", what, i, z[i], want[i]);
        free(y - 1);
        free(want);
    }
    free(x - 1);
    free(w - 1);
    free(b - 1);
    free(wp - 1);
    free(s - 1);
    return z;
}

/* The pools of CNNs (3x3/2 unpadded as squeezenet1_1's, padded as
 * resnet18's, 2x2/2, 3x3/1), a last window past the plane (ceil_mode), a
 * stride past the kernel (rows no window reads) and a dilated window,
 * after the shapes of for_direct_shapes without residual, every other
 * one with a Relu. */
static void direct_pool_one(int isa, const conv_case *k, int i, void *arg)
{
    static const pool_case pools[] = {{3, 0, 0, 2, 1}, {3, 1, 1, 2, 1}, {2, 0, 0, 2, 1},
                                      {3, 1, 1, 1, 1}, {3, 0, 1, 2, 1}, {2, 0, 0, 3, 1},
                                      {3, 2, 2, 2, 2}};
    shape_count *c = arg;
    conv_case kp = *k;
    kp.res = 0;
    kp.act = i % 2 ? LOOMRT_ACT_RELU : k->act;
    size_t nz;
    float *z = direct_pool_run(isa, &kp, &pools[(size_t)i % 7], 1, 1, &nz);
    if (z) {
        free(z - 1);
        c->run++;
    }
}

static void direct_pool_odd_at(int isa)
{
    shape_count c = {0, 0};
    for_direct_shapes(isa, direct_pool_one, &c);
    cr_assert(c.run > 100 / SHAPE_STEP, "isa %d: %d shapes run", isa, c.run);
}

Test(conv_direct_pool, odd_shapes_every_isa)
{
    for_each_isa(direct_pool_odd_at);
}

typedef struct pool_threads_case {
    int isa;
    conv_case k;
    pool_case p;
    size_t nz;
} pool_threads_case;

static float *pool_threads_run(void *arg, int threads)
{
    pool_threads_case *c = arg;
    return direct_pool_run(c->isa, &c->k, &c->p, threads, 1, &c->nz);
}

/* On 2 and 3 threads (each a slot of pooled rows, its bands' shared rows
 * carried over) the result is the one-thread one, bit for bit, and each
 * run's the pool of the unfused convolution (an output row no slot writes
 * keeps the same guarded values in every run): resnet18's
 * first convolution and pool on a smaller image, squeezenet1_1's with
 * more threads than some slots have bands. */
static void direct_pool_threads_at(int isa)
{
    pool_threads_case c[] = {
        {isa,
         {.C = 3, .M = 40, .H = 61, .W = 70, .kh = 7, .kw = 7, .pt = 3, .pl = 3, .pb = 3,
          .pr = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .act = LOOMRT_ACT_RELU},
         {3, 1, 1, 2, 1},
         16 * 18 * 40},
        {isa,
         {.C = 3, .M = 64, .H = 47, .W = 47, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1,
          .bias = 1, .act = LOOMRT_ACT_RELU},
         {3, 0, 0, 2, 1},
         11 * 11 * 64},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char what[60];
        snprintf(what, sizeof what, "isa %d: conv2d_direct_maxpool case %zu", isa, i);
        expect_threads_bit_exact(pool_threads_run, &c[i], c[i].nz, what);
    }
}

Test(conv_direct_pool, threads_bit_exact_every_isa)
{
    for_each_isa(direct_pool_threads_at);
}

/* What the fused kernel takes: the direct convolution's shapes, a pool
 * row within loomrt_maxpool2d's, no negative pads. */
Test(conv_direct_pool, fits)
{
    cr_expect(loomrt_conv2d_direct_maxpool_fits(3, 3, 3, 2, 1, 111, 3, 3, 55, 0, 0, 2, 2, 1, 1));
    cr_expect(loomrt_conv2d_direct_maxpool_fits(3, 7, 7, 2, 1, 112, 3, 3, 56, 1, 1, 2, 2, 1, 1));
    cr_expect(!loomrt_conv2d_direct_maxpool_fits(64, 3, 3, 1, 1, 56, 3, 3, 28, 1, 1, 2, 2, 1, 1));
    cr_expect(!loomrt_conv2d_direct_maxpool_fits(3, 3, 3, 2, 1, 111, 3, 3, 55, -1, 0, 2, 2, 1, 1));
    cr_expect(!loomrt_conv2d_direct_maxpool_fits(3, 3, 3, 2, 1, 111, 3, 3, 55, 0, 0, 0, 2, 1, 1));
    cr_expect(!loomrt_conv2d_direct_maxpool_fits(3, 3, 3, 2, 1, 9000, 3, 3, 4499, 0, 0, 2, 2, 1,
                                                 1)); /* a row past LOOMRT_MAXPOOL_ROW */
}

/* ---- Winograd with the 2x2 max pool after it ---- */

/* Case k (its residual dropped) as loomrt_conv2d_winograd_maxpool takes
 * it, on 1, 2 and 3 threads, its scratch NaN-filled before each run:
 * each output equal (==) to the 2x2/2 pool (pool_ref) of
 * loomrt_conv2d_winograd's output over the plane of even size the pool
 * reads (the case with its bottom and right pads one less where the
 * output is odd: the same rows and columns from the top left, which
 * wg_check holds against the reference convolution). */
static void wgp_check(int isa, const wg_case *k0)
{
    wg_case k = *k0;
    k.res = 0;
    int64_t oh = k.H + k.pt + k.pb - 2, ow = k.W + k.pl + k.pr - 2;
    if (oh < 2 || ow < 2)
        return;
    k.pb -= oh % 2;
    k.pr -= ow % 2;
    wg_run t = wg_run_new(&k);
    char what[240];
    wg_describe(what, sizeof what, isa, &k);
    strcat(what, " pooled");
    float *y = wg_run_conv(&t, what);
    int64_t poh = t.oh / 2, pow_ = t.ow / 2;
    size_t nz = (size_t)(k.M * poh * pow_);
    float *want = pool_ref(y, k.M, t.oh, t.ow, &(pool_case){2, 0, 0, 2, 1}, poh, pow_);
    for (int th = 1; th <= 3; th++) {
        for (size_t i = 0; i < t.ns; i++)
            t.s[i] = NAN;
        float *z = guarded(nz, 10);
        loomrt_threads prev = loomrt_threads_enter(th, NULL, NULL);
        loomrt_conv2d_winograd_maxpool(t.x, t.u, z, t.s, 1, k.C, k.M, k.H, k.W, poh, pow_, k.pt,
                                       k.pl, k.bias ? t.b : NULL, k.act, ACT_ALPHA[k.act],
                                       ACT_BETA[k.act]);
        loomrt_threads_leave(prev);
        guard_check(z, nz, what, "y");
        guard_check(t.s, t.ns, what, "scratch");
        for (size_t i = 0; i < nz; i++)
            cr_assert(z[i] == want[i], "%s, %d threads: y[%zu] = %.9g, want %.9g", what, th, i,
                      z[i], want[i]);
        free(z - 1);
    }
    free(want);
    free(y - 1);
    wg_run_free(&t);
}

/* The pad cases and odd sizes of wg_odd_at (odd planes drop their last
 * row or column of tiles, planes of one or two outputs give a pool of
 * none or one), every activation the kernel applies (GELU through
 * loomrt_epi_run); mnist_cnn's conv2 (32 -> 64 channels over 11x11, 25
 * of 36 tiles, the products transposed); the blocks of wg_blocks_at and
 * the thread splits of wg_threads_at. */
static void wgp_odd_at(int isa)
{
    wg_for_odd(isa, wgp_check);
    for (int act = 0; act < LOOMRT_ACT_COUNT; act++)
        wgp_check(isa, &(wg_case){.C = 17, .M = 33, .H = 19, .W = 18, .pt = 1, .pl = 1, .pb = 1,
                                  .pr = 1, .bias = 1, .act = act});
    static const wg_case ks[] = {
        {.C = 32, .M = 64, .H = 13, .W = 13, .bias = 1, .act = LOOMRT_ACT_RELU},
        {.C = 300, .M = 260, .H = 9, .W = 37, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1},
        {.C = 70, .M = 70, .H = 12, .W = 12, .pt = 1, .pl = 1, .pb = 1, .pr = 1},
        {.C = 8, .M = 9, .H = 101, .W = 70, .pt = 1, .pl = 1, .pb = 1, .pr = 1},
        {.C = 40, .M = 24, .H = 81, .W = 75, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .act = LOOMRT_ACT_RELU},
        {.C = 32, .M = 64, .H = 40, .W = 52, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .act = LOOMRT_ACT_CLIP},
        {.C = 96, .M = 128, .H = 26, .W = 26, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .bias = 1,
         .act = LOOMRT_ACT_RELU},
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        wgp_check(isa, &ks[i]);
}

Test(winograd_pool, odd_shapes_threads_every_isa)
{
    for_each_isa(wgp_odd_at);
}

/* ---- im2col and the transposed product (loomrt_conv2d_t) ---- */

/* loomrt_conv2d_t on threads threads into a new guarded y, its scratch
 * NaN-filled first (checked against the reference when check is set);
 * returns y. */
static float *ct_run(int isa, const conv_case *k, int threads, int check)
{
    int64_t oh = out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh);
    int64_t ow = out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw);
    int64_t K = k->C * k->kh * k->kw;
    size_t ny = (size_t)(k->M * oh * ow), np = (size_t)loomrt_sgemm_packed_size(k->M, K);
    size_t ns = (size_t)loomrt_conv2d_t_scratch(k->C, k->M, k->H, k->W, k->kh, k->kw, oh, ow,
                                                k->pt, k->pl, k->sh, k->sw);
    float *x = guarded((size_t)(k->C * k->H * k->W), 3), *w = guarded((size_t)(k->M * K), 4);
    float *b = guarded((size_t)k->M, 5), *r = guarded(ny, 6), *y = guarded(ny, 7);
    float *wp = malloc(sizeof(float) * np), *s = guarded(ns, 8);
    for (size_t i = 0; i < ns; i++)
        s[i] = NAN;
    loomrt_sgemm_pack_b(1, k->M, K, w, K, wp);
    char what[240];
    describe(what, sizeof what, isa, k);
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_conv2d_t(x, wp, y, s, k->C, k->M, k->H, k->W, k->kh, k->kw, oh, ow, k->pt, k->pl,
                    k->sh, k->sw, k->dh, k->dw, k->bias ? b : NULL, k->res ? r : NULL, k->act,
                    ACT_ALPHA[k->act], ACT_BETA[k->act]);
    loomrt_threads_leave(prev);
    guard_check(y, ny, what, "y");
    guard_check(s, ns, what, "scratch");
    if (check)
        expect_ref(what, k, x, w, b, r, y, oh, ow);
    free(x - 1);
    free(w - 1);
    free(b - 1);
    free(r - 1);
    free(wp);
    free(s - 1);
    return y;
}

/* k on one thread, when it has outputs. */
static void ct_check(int isa, const conv_case *k)
{
    if (out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh) > 0 &&
        out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw) > 0)
        free(ct_run(isa, k, 1, 1) - 1);
}

/* Every geometry over every H x W of odd sizes (for_odd_shapes), and
 * pointwise convolutions (x is its own unfolded image) over them; then,
 * over the smaller planes, products wide and deep enough for AVX-512 to
 * pack the unfolded image first (GEMM_PACK_AT_N, GEMM_PACK_AT_K in
 * loomrt_gemm.c): 193 output channels, a pointwise window over 257
 * channels and a 3x3 one over 29 (261 rows of K). */
static void ct_odd_at(int isa)
{
    for_odd_shapes(isa, ct_check);
    for (int h = 0; h < N_ODD; h++)
        for (int wi = 0; wi < N_ODD; wi++) {
            conv_case k = {.kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .bias = (h + wi) % 2, .res = h % 2, .act = LOOMRT_ACT_RELU};
            k.H = odd_dims[h];
            k.W = odd_dims[wi];
            k.C = odd_dims[(h + wi) % N_ODD];
            k.M = odd_dims[(h + 2 * wi) % N_ODD];
            ct_check(isa, &k);
        }
    static const conv_case wide[] = {
        {.C = 257, .M = 193, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1,
         .act = LOOMRT_ACT_RELU},
        {.C = 29, .M = 193, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .sh = 1,
         .sw = 1, .dh = 1, .dw = 1, .res = 1},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        for (int h = 0; h < 4; h++)
            for (int wi = 0; wi < 4; wi++) {
                conv_case k = wide[i];
                k.H = odd_dims[h];
                k.W = odd_dims[wi];
                ct_check(isa, &k);
            }
}

Test(conv2d_t, odd_shapes_every_isa)
{
    for_each_isa(ct_odd_at);
}

/* On 2 and 3 threads, each unfolding and multiplying a run of output
 * rows, the result is the one-thread one, bit for bit: gan_discriminator's
 * 4x4 stride 2 on odd sizes with a bias, residual and LeakyRelu
 * (16 rows of 15); resnet18's 3x3 stride 2 (14 rows of 14); a dilated
 * 2x3 window with one-sided pads, the first rows' windows starting in
 * the padding, the others inside; 1-D (one row) and bottom padding past
 * the image's last window, unfolded first, then multiplied in equal runs
 * of positions (a 1-D one wide and deep enough for AVX-512 to pack its
 * unfolded image, 200 output channels over 64 x 5 rows of K: packed by
 * each part); two output rows for three threads; K past one block of the
 * packed product's (1080 rows: the unfolded image packed for AVX-512, 200
 * output channels, is read from row 1024 of each tile on); pointwise ones (squeezenet1_1's
 * classifier's shape with fewer channels, packed for AVX-512, and one
 * with a residual, not; mobilenet_v2's 7x7 planes, 49 positions as 24 +
 * 25 and 16 + 16 + 17), which multiply x itself, in equal runs of
 * positions. */
static void ct_threads_at(int isa)
{
    static const conv_case cases[] = {
        {.C = 33, .M = 17, .H = 33, .W = 31, .kh = 4, .kw = 4, .pt = 1, .pl = 1, .pb = 1,
         .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .res = 1,
         .act = LOOMRT_ACT_LEAKY_RELU},
        {.C = 64, .M = 130, .H = 28, .W = 28, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1,
         .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .act = LOOMRT_ACT_RELU},
        {.C = 48, .M = 33, .H = 17, .W = 23, .kh = 2, .kw = 3, .pt = 3, .pl = 0, .pb = 0,
         .pr = 2, .sh = 1, .sw = 2, .dh = 2, .dw = 2, .res = 1},
        {.C = 64, .M = 24, .H = 1, .W = 301, .kh = 1, .kw = 5, .pt = 0, .pl = 2, .pb = 0,
         .pr = 2, .sh = 1, .sw = 3, .dh = 1, .dw = 1, .bias = 1},
        {.C = 64, .M = 200, .H = 1, .W = 97, .kh = 1, .kw = 5, .pt = 0, .pl = 2, .pb = 0,
         .pr = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1, .res = 1,
         .act = LOOMRT_ACT_RELU},
        {.C = 96, .M = 32, .H = 7, .W = 20, .kh = 1, .kw = 3, .pt = 0, .pl = 1, .pb = 9,
         .pr = 1, .sh = 3, .sw = 1, .dh = 1, .dw = 1, .bias = 1, .act = LOOMRT_ACT_CLIP},
        {.C = 128, .M = 64, .H = 4, .W = 40, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1,
         .pr = 1, .sh = 2, .sw = 2, .dh = 1, .dw = 1, .bias = 1, .res = 1},
        {.C = 120, .M = 200, .H = 9, .W = 9, .kh = 3, .kw = 3, .pt = 1, .pl = 1, .pb = 1,
         .pr = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .bias = 1},
        {.C = 300, .M = 200, .H = 13, .W = 13, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1,
         .dw = 1, .bias = 1, .act = LOOMRT_ACT_RELU},
        {.C = 40, .M = 33, .H = 9, .W = 11, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1,
         .dw = 1, .res = 1},
        {.C = 160, .M = 96, .H = 7, .W = 7, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1,
         .dw = 1, .bias = 1, .act = LOOMRT_ACT_CLIP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const conv_case *k = &cases[i];
        threads_case c = {isa, *k, ct_run};
        char what[240];
        describe(what, sizeof what, isa, k);
        size_t ny = (size_t)(k->M * out_dim(k->H, k->kh, k->pt, k->pb, k->sh, k->dh) *
                             out_dim(k->W, k->kw, k->pl, k->pr, k->sw, k->dw));
        expect_threads_bit_exact(threads_case_run, &c, ny, what);
    }
}

Test(conv2d_t, threads_bit_exact_every_isa)
{
    for_each_isa(ct_threads_at);
}
