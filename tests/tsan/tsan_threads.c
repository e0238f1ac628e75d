/* The threading code under ThreadSanitizer, without Criterion (its
 * fork-server arena does not start under TSan): the runtime's pool, a
 * depthwise convolution and col2im, and the convolutions whose threads
 * each take a run of the plane (the implicit GEMM, Winograd, im2col with
 * the transposed product) at 1, 2, 3 and 7 threads, then a model
 * with parallel loops (elementwise, reduction, attention heads, the slot
 * loops of two convolutions at batch 4, docs/loop-ir.md) JIT-
 * compiled for 2 threads and run by three callers at once, each on its
 * own workspace, against the 1-thread model bit for bit. Exits non-zero on
 * a mismatch; TSan reports a race itself (make test-tsan). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "loomrt.h"

static int failures;

#define CHECK(c, ...)                                  \
    do {                                               \
        if (!(c)) {                                    \
            fprintf(stderr, "tsan_threads: " __VA_ARGS__); \
            fprintf(stderr, "\n");                     \
            failures++;                                \
        }                                              \
    } while (0)

static float *rand_floats(size_t n, unsigned seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t k = 0; k < n; k++) {
        seed = seed * 1103515245u + 12345u;
        x[k] = (float)(seed >> 8 & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

static int sum_task(void *arg, int64_t lo, int64_t hi)
{
    int64_t *v = arg;
    for (int64_t i = lo; i < hi; i++)
        v[i] = i * i;
    return 0;
}

/* Depthwise conv (13 channels, 65 x 67) and col2im (16 channels) at
 * threads threads into y and out. */
static void kernels(int threads, float *y, float *out)
{
    float *x = rand_floats(13 * 65 * 67, 1), *w = rand_floats(13 * 9, 2);
    float *col = rand_floats(16 * 9 * 37 * 37, 3);
    int64_t ns = loomrt_dwconv_scratch(3, 3, 65, 67, 1, 1, 1, 1);
    float *scratch = calloc((size_t)ns, sizeof *scratch);
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_dwconv(x, w, y, scratch, 13, 1, 65, 67, 3, 3, 65, 67, 1, 1, 1, 1, 1, 1, NULL, NULL, 0,
                  0.0f, 0.0f);
    memset(out, 0, 16 * 75 * 75 * sizeof *out);
    loomrt_col2im(col, 16, 37, 37, 3, 3, 75, 75, 0, 0, 2, 2, 1, 1, out);
    int64_t v[1000];
    loomrt_parallel_for(1000, sum_task, v);
    loomrt_threads_leave(prev);
    for (int i = 0; i < 1000; i++)
        CHECK(v[i] == (int64_t)i * i, "parallel-for missed index %d", i);
    free(x), free(w), free(col), free(scratch);
}

/* Floats of each output of convs. */
#define CONV_Y (24 * 41 * 37)
#define WG_Y (24 * 41 * 37)
#define CT_Y (200 * 16 * 15)
#define CP_Y (40 * 16 * 18)
#define WP_Y (24 * 20 * 18)
#define C1_Y (200 * 301)

/* loomrt_conv2d (32 -> 24 channels, 3x3 over 41x37), loomrt_conv2d_winograd
 * (40 -> 24 over 41x37), loomrt_conv2d_t (33 -> 200, 4x4 stride 2 over
 * 33x31: enough channels for the product to pack each part's unfolded
 * image in the scratch) and loomrt_conv2d_direct_maxpool (3 -> 40, 7x7
 * stride 2 over 61x70, then 3x3 stride 2 padded: each thread its slot of
 * the scratch) and loomrt_conv2d_winograd_maxpool (40 -> 24 over 41x37,
 * pooled to 20x18) and a 1-D loomrt_conv2d_t (40 -> 200, 1x7 over one
 * row of 301: unfolded first, each thread packing its run of positions)
 * at threads threads into y (CONV_Y, WG_Y, CT_Y, CP_Y, WP_Y, then C1_Y
 * floats), each with a scratch of its own. */
static void convs(int threads, float *y)
{
    float *x = rand_floats(40 * 41 * 37, 4), *w = rand_floats(24 * 40 * 9, 5);
    float *w4 = rand_floats(200 * 33 * 16, 6), *bias = rand_floats(200, 7);
    int64_t ncp = loomrt_conv2d_scratch(32, 3, 3, 41, 37);
    int64_t nu = loomrt_winograd_packed_size(24, 40, 41, 37);
    int64_t nwg = loomrt_winograd_scratch(40, 24, 41, 37);
    int64_t nct = loomrt_conv2d_t_scratch(33, 200, 33, 31, 4, 4, 16, 15, 1, 1, 2, 2);
    float *u = malloc((size_t)nu * sizeof *u), *s1 = calloc((size_t)ncp, sizeof(float));
    float *s2 = calloc((size_t)nwg, sizeof(float)), *s3 = calloc((size_t)nct, sizeof(float));
    float *wp = malloc((size_t)loomrt_sgemm_packed_size(200, 33 * 16) * sizeof *wp);
    float *wd = malloc((size_t)loomrt_conv2d_direct_packed_size(40, 147) * sizeof *wd);
    int64_t ncd = loomrt_conv2d_direct_maxpool_scratch(40, 35, 3, 2, 1);
    float *s4 = calloc((size_t)ncd, sizeof(float));
    float *up = malloc((size_t)loomrt_winograd_packed_size(24, 40, 40, 36) * sizeof *up);
    float *s5 = calloc((size_t)loomrt_winograd_scratch(40, 24, 40, 36), sizeof(float));
    float *w7 = rand_floats(200 * 40 * 7, 8);
    float *wp7 = malloc((size_t)loomrt_sgemm_packed_size(200, 40 * 7) * sizeof *wp7);
    float *s6 = calloc((size_t)loomrt_conv2d_t_scratch(40, 200, 1, 301, 1, 7, 1, 301, 0, 3, 1, 1),
                       sizeof(float));
    loomrt_sgemm_pack_b(1, 200, 40 * 7, w7, 40 * 7, wp7);
    loomrt_winograd_pack(w, 24, 40, 40, 36, up);
    loomrt_conv2d_direct_pack(w, 40, 147, wd);
    loomrt_winograd_pack(w, 24, 40, 41, 37, u);
    loomrt_sgemm_pack_b(1, 200, 33 * 16, w4, 33 * 16, wp);
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    loomrt_conv2d(x, w, y, s1, 32, 24, 41, 37, 3, 3, 41, 37, 1, 1, 1, 1, 1, 1, bias, NULL,
                  LOOMRT_ACT_RELU, 0.0f, 0.0f);
    loomrt_conv2d_winograd(x, u, y + CONV_Y, s2, 1, 40, 24, 41, 37, 41, 37, 1, 1, bias, NULL,
                           LOOMRT_ACT_NONE, 0.0f, 0.0f);
    loomrt_conv2d_t(x, wp, y + CONV_Y + WG_Y, s3, 33, 200, 33, 31, 4, 4, 16, 15, 1, 1, 2, 2, 1, 1,
                    bias, NULL, LOOMRT_ACT_NONE, 0.0f, 0.0f);
    loomrt_conv2d_direct_maxpool(x, wd, y + CONV_Y + WG_Y + CT_Y, s4, 3, 40, 61, 70, 7, 7, 31, 35,
                                 3, 3, 2, 2, 1, 1, bias, LOOMRT_ACT_RELU, 0.0f, 0.0f, 3, 3, 16,
                                 18, 1, 1, 2, 2, 1, 1);
    loomrt_conv2d_winograd_maxpool(x, up, y + CONV_Y + WG_Y + CT_Y + CP_Y, s5, 1, 40, 24, 41, 37,
                                   20, 18, 1, 1, bias, LOOMRT_ACT_RELU, 0.0f, 0.0f);
    loomrt_conv2d_t(x, wp7, y + CONV_Y + WG_Y + CT_Y + CP_Y + WP_Y, s6, 40, 200, 1, 301, 1, 7, 1,
                    301, 0, 3, 1, 1, 1, 1, bias, NULL, LOOMRT_ACT_RELU, 0.0f, 0.0f);
    loomrt_threads_leave(prev);
    free(x), free(w), free(w4), free(bias), free(u), free(s1), free(s2), free(s3), free(wp);
    free(wd), free(s4), free(up), free(s5), free(w7), free(wp7), free(s6);
}

#define MODEL_INPUTS 7
#define MODEL_OUTPUTS 5

static const char *model =
    "graph @tsan(%x: f32[4,37,531], %q: f32[1,3,37,16], %k: f32[1,3,41,16], "
    "%v: f32[1,3,41,16], %xc: f32[4,32,40,40], %wc: f32[16,32,5,5], %wd: f32[32,1,3,3]) {\n"
    "  %s = Sigmoid(%x)\n"
    "  %m = ReduceMean(%s) {axes = [2], keepdims = 0}\n"
    "  %a = FusedAttention(%q, %k, %v)\n"
    "  %c = Conv(%xc, %wc) {pads = [2, 2, 2, 2]}\n"
    "  %d = Conv(%xc, %wd) {group = 32, pads = [1, 1, 1, 1]}\n"
    "  return %s, %m, %a, %c, %d\n}\n";

typedef struct caller {
    const loom_compiled *c;
    float *in[MODEL_INPUTS], *out[MODEL_OUTPUTS];
    size_t bytes[MODEL_OUTPUTS];
    loom_status st;
} caller;

static void *run_caller(void *arg)
{
    caller *r = arg;
    loom_workspace *w = NULL;
    loom_diag d;
    r->st = loom_workspace_new(r->c, &w, &d);
    if (r->st == LOOM_STATUS_OK)
        r->st = loom_run(r->c, w, (const void *const *)r->in, MODEL_INPUTS,
                         (void *const *)r->out, MODEL_OUTPUTS, &d);
    loom_workspace_free(w);
    return NULL;
}

static loom_compiled *compile(int threads)
{
    loom_model *m = NULL;
    loom_compiled *c = NULL;
    loom_diag d;
    if (loom_model_load_memory(model, strlen(model), LOOM_FORMAT_LIR, NULL, NULL, &m, &d)) {
        fprintf(stderr, "tsan_threads: %s\n", d.message);
        return NULL;
    }
    loom_compile_options o = loom_compile_options_default();
    o.backend = LOOM_BACKEND_JIT;
    o.threads = threads;
    if (loom_compile(m, &o, &c, &d) != LOOM_STATUS_OK)
        fprintf(stderr, "tsan_threads: %s\n", d.message);
    loom_model_free(m);
    return c;
}

static void setup(caller *r, const loom_compiled *c, float *const *in)
{
    loom_tensor_info info;
    loom_diag d;
    r->c = c;
    for (int i = 0; i < MODEL_INPUTS; i++)
        r->in[i] = in[i];
    for (int o = 0; o < MODEL_OUTPUTS; o++) {
        loom_output_info(c, o, &info, &d);
        r->bytes[o] = info.bytes;
        r->out[o] = calloc(1, info.bytes);
    }
}

static void models(void)
{
    static const size_t n_in[MODEL_INPUTS] = {4 * 37 * 531, 3 * 37 * 16, 3 * 41 * 16,
                                              3 * 41 * 16,  4 * 32 * 40 * 40, 16 * 32 * 25,
                                              32 * 9};
    float *in[MODEL_INPUTS];
    for (int i = 0; i < MODEL_INPUTS; i++)
        in[i] = rand_floats(n_in[i], 10u + (unsigned)i);
    loom_compiled *one = compile(1), *two = compile(2);
    CHECK(one && two, "the model did not compile");
    if (!one || !two)
        return;
    caller want, r[3];
    setup(&want, one, in);
    run_caller(&want);
    pthread_t t[3];
    for (int k = 0; k < 3; k++) {
        setup(&r[k], two, in);
        pthread_create(&t[k], NULL, run_caller, &r[k]);
    }
    for (int k = 0; k < 3; k++) {
        pthread_join(t[k], NULL);
        CHECK(r[k].st == LOOM_STATUS_OK, "caller %d failed", k);
        for (int o = 0; o < MODEL_OUTPUTS; o++) {
            CHECK(memcmp(r[k].out[o], want.out[o], want.bytes[o]) == 0,
                  "caller %d: output %d at 2 threads differs from 1", k, o);
            free(r[k].out[o]);
        }
    }
    for (int o = 0; o < MODEL_OUTPUTS; o++)
        free(want.out[o]);
    for (int i = 0; i < MODEL_INPUTS; i++)
        free(in[i]);
    loom_compiled_free(one);
    loom_compiled_free(two);
}

int main(void)
{
    static float y1[13 * 65 * 67], o1[16 * 75 * 75], y[13 * 65 * 67], o[16 * 75 * 75];
    static float c1[CONV_Y + WG_Y + CT_Y + CP_Y + WP_Y + C1_Y];
    static float c[CONV_Y + WG_Y + CT_Y + CP_Y + WP_Y + C1_Y];
    static const int counts[] = {2, 3, 7};
    kernels(1, y1, o1);
    convs(1, c1);
    for (int k = 0; k < 3; k++) {
        kernels(counts[k], y, o);
        CHECK(memcmp(y, y1, sizeof y) == 0, "dwconv at %d threads differs", counts[k]);
        CHECK(memcmp(o, o1, sizeof o) == 0, "col2im at %d threads differs", counts[k]);
        convs(counts[k], c);
        CHECK(memcmp(c, c1, CONV_Y * sizeof *c) == 0, "conv2d at %d threads differs", counts[k]);
        CHECK(memcmp(c + CONV_Y, c1 + CONV_Y, WG_Y * sizeof *c) == 0,
              "winograd at %d threads differs", counts[k]);
        CHECK(memcmp(c + CONV_Y + WG_Y, c1 + CONV_Y + WG_Y, CT_Y * sizeof *c) == 0,
              "conv2d_t at %d threads differs", counts[k]);
        CHECK(memcmp(c + CONV_Y + WG_Y + CT_Y, c1 + CONV_Y + WG_Y + CT_Y, CP_Y * sizeof *c) == 0,
              "conv2d_direct_maxpool at %d threads differs", counts[k]);
        int64_t at = CONV_Y + WG_Y + CT_Y + CP_Y;
        CHECK(memcmp(c + at, c1 + at, WP_Y * sizeof *c) == 0,
              "conv2d_winograd_maxpool at %d threads differs", counts[k]);
        CHECK(memcmp(c + at + WP_Y, c1 + at + WP_Y, C1_Y * sizeof *c) == 0,
              "1-D conv2d_t at %d threads differs", counts[k]);
    }
    models();
    printf("tsan_threads: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
