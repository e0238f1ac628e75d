/*
 * How a batch of images should go to the threads in a Winograd
 * convolution: squeezenet1_1's Fire module expand3x3 (16 -> 64 channels,
 * 3x3 padded over 55x55, bias and Relu) over 8 images, warm, by
 * loomrt_conv2d_winograd three ways: on one thread; on THREADS threads,
 * one image after another, each split over the threads inside the kernel
 * (what the compiled models do: the scratch is shared, so the images'
 * loop stays serial); and the images split between the threads, each
 * thread with a scratch of its own and its kernel on one thread. Prints
 * the fastest of 30 runs of each, three rounds (docs/performance.md, "a
 * twelfth time").
 *
 *   cc -O3 -std=c11 -Iruntime -o winograd_batch bench/winograd_batch.c \
 *       runtime/loomrt_*.c -lpthread -lm && ./winograd_batch [THREADS]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loomrt.h"

enum { WB_N = 8, WB_C = 16, WB_M = 64, WB_H = 55, WB_W = 55, WB_RUNS = 30 };
#define WB_MAX_THREADS 8

typedef struct wb_job {
    const float *x, *u, *bias;
    float *y, *scratch;
    int64_t scratch_size;
    int parts;
} wb_job;

static double wb_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Image n of the batch with scratch s. */
static void wb_image(const wb_job *j, int n, float *s)
{
    loomrt_conv2d_winograd(j->x + (int64_t)n * WB_C * WB_H * WB_W, j->u,
                           j->y + (int64_t)n * WB_M * WB_H * WB_W, s, 1, WB_C, WB_M, WB_H, WB_W,
                           WB_H, WB_W, 1, 1, j->bias, NULL, 1, 0.0f, 0.0f);
}

/* Parts [p0, p1): each its run of images with its own scratch, its kernel
 * on one thread. */
static int wb_part(void *arg, int64_t p0, int64_t p1)
{
    const wb_job *j = arg;
    loomrt_threads prev = loomrt_threads_enter(1, NULL, NULL);
    for (int64_t p = p0; p < p1; p++)
        for (int64_t n = p * WB_N / j->parts; n < (p + 1) * WB_N / j->parts; n++)
            wb_image(j, (int)n, j->scratch + p * j->scratch_size);
    loomrt_threads_leave(prev);
    return 0;
}

/* The seconds of one run of the batch: on `threads` threads, by images
 * split between them when `split`, else one image after another. */
static double wb_run(wb_job *j, int threads, int split)
{
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    double t = wb_now();
    if (split) {
        j->parts = threads;
        loomrt_parallel_for(threads, wb_part, j);
    } else {
        for (int n = 0; n < WB_N; n++)
            wb_image(j, n, j->scratch);
    }
    t = wb_now() - t;
    loomrt_threads_leave(prev);
    return t;
}

static float *wb_alloc(int64_t n)
{
    float *p = aligned_alloc(64, (size_t)((n + 15) / 16 * 16) * sizeof(float));
    if (!p) {
        fprintf(stderr, "winograd_batch: out of memory\n");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > WB_MAX_THREADS) {
        fprintf(stderr, "usage: winograd_batch [THREADS, 1 to %d]\n", WB_MAX_THREADS);
        return 2;
    }
    int64_t xn = (int64_t)WB_N * WB_C * WB_H * WB_W, wn = (int64_t)WB_M * WB_C * 9;
    float *x = wb_alloc(xn), *w = wb_alloc(wn), *bias = wb_alloc(WB_M);
    for (int64_t i = 0; i < xn; i++)
        x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < wn; i++)
        w[i] = (float)((i * 31) % 97) / 97.0f - 0.5f;
    for (int i = 0; i < WB_M; i++)
        bias[i] = 0.01f * (float)i;
    float *u = wb_alloc(loomrt_winograd_packed_size(WB_M, WB_C, WB_H, WB_W));
    loomrt_winograd_pack(w, WB_M, WB_C, WB_H, WB_W, u);
    int64_t ss = loomrt_winograd_scratch(WB_C, WB_M, WB_H, WB_W);
    ss = (ss + 15) / 16 * 16; /* each slot on its own lines */
    wb_job j = {.x = x, .u = u, .bias = bias, .y = wb_alloc((int64_t)WB_N * WB_M * WB_H * WB_W),
                .scratch = wb_alloc(ss * threads), .scratch_size = ss};
    printf("%d images, scratch %.2f MB an image\n", WB_N, (double)ss * 4.0 / 1e6);
    for (int round = 0; round < 3; round++) {
        double best[3] = {1e9, 1e9, 1e9};
        for (int r = 0; r < WB_RUNS; r++) {
            double t[3] = {wb_run(&j, 1, 0), wb_run(&j, threads, 0), wb_run(&j, threads, 1)};
            for (int k = 0; k < 3; k++)
                best[k] = t[k] < best[k] ? t[k] : best[k];
        }
        printf("1 thread %.0f us; %d threads, each image split %.0f us (%.2fx), "
               "the images split %.0f us (%.2fx)\n",
               best[0] * 1e6, threads, best[1] * 1e6, best[0] / best[1], best[2] * 1e6,
               best[0] / best[2]);
    }
    free(x), free(w), free(bias), free(u), free(j.y), free(j.scratch);
    return 0;
}
