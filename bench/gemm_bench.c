/*
 * GEMM speed, side by side: the runtime's kernels at each instruction-set
 * level (loomrt_isa_force) and OpenBLAS's cblas_sgemm, on the shapes of
 * convolutions and dense layers, one thread. Best of several repetitions
 * (the machine is shared); prints GFLOP/s and loom / OpenBLAS time ratios.
 *
 *   cc -O3 -o gemm_bench bench/gemm_bench.c runtime/loomrt_*.c -Iruntime \
 *      -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -lm
 *   OPENBLAS_NUM_THREADS=1 ./gemm_bench
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loomrt.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* M N K transB packedB: conv layers of resnet18 at 224 (C = W col),
 * the transposed conv form, square, and dense layers. */
static const int shapes[][5] = {
    {64, 3136, 576, 0, 0},  {128, 784, 1152, 0, 0}, {256, 196, 2304, 0, 0},
    {512, 49, 4608, 0, 0},  {49, 512, 4608, 0, 1},  {512, 512, 512, 0, 0},
    {128, 1024, 256, 1, 0}, {32, 1000, 512, 0, 1},
    /* mobilenet_v2's 1x1 convolutions: pixels few and channels many */
    {1280, 49, 320, 0, 0},  {320, 49, 960, 0, 0},   {96, 196, 576, 0, 0},
    {24, 3136, 144, 0, 0},  {16, 12544, 32, 0, 0},
    /* one-row products: recurrent steps (N = 4H, K = H) and batch-1 dense */
    {1, 1024, 256, 0, 1},   {1, 3072, 1024, 0, 1},  {1, 1000, 512, 0, 1},
    {1, 200, 50, 0, 1},     {1, 1024, 256, 0, 0},   {1, 1024, 256, 1, 0},
};

enum { REPS = 7 };

/* Best seconds of REPS runs of one product (kind 0 loom, 1 OpenBLAS). */
static double time_one(int kind, const int *s, const float *A, const float *B, const float *Bp,
                       float *C)
{
    int M = s[0], N = s[1], K = s[2], tb = s[3];
    double best = 1e30;
    /* small products repeated to some 10^7 multiply-adds per timing */
    int64_t iters = (int64_t)1e7 / ((int64_t)M * N * K) + 1;
    for (int r = 0; r < REPS; r++) {
        double t = now();
        for (int64_t it = 0; it < iters; it++) {
            if (kind == 1)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                            1.0f, A, K, B, tb ? K : N, 0.0f, C, N);
            else if (s[4])
                loomrt_sgemm_packed(0, 0, M, N, K, 1.0f, A, K, Bp, 0.0f, C, N);
            else
                loomrt_sgemm(0, tb, M, N, K, 1.0f, A, K, B, tb ? K : N, 0.0f, C, N);
        }
        t = (now() - t) / (double)iters;
        best = t < best ? t : best;
    }
    return best;
}

int main(void)
{
    static const char *const names[] = {"portable", "avx2", "avx512"};
    int top = loomrt_isa_detect();
    printf("%-22s %10s", "M x N x K (tB, packed)", "openblas");
    for (int isa = 0; isa <= top; isa++)
        printf(" %10s", names[isa]);
    printf("  GFLOP/s; best ratio loom/openblas\n");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        size_t M = (size_t)s[0], N = (size_t)s[1], K = (size_t)s[2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *Bp = malloc(sizeof(float) * (size_t)loomrt_sgemm_packed_size((int64_t)N, (int64_t)K));
        float *C = malloc(sizeof(float) * M * N);
        for (size_t k = 0; k < M * K; k++)
            A[k] = (float)(k % 7) * 0.1f;
        for (size_t k = 0; k < K * N; k++)
            B[k] = (float)(k % 5) * 0.1f;
        loomrt_sgemm_pack_b(s[3], (int64_t)N, (int64_t)K, B, s[3] ? (int64_t)K : (int64_t)N, Bp);
        double flop = 2.0 * (double)(M * N * K), tb = time_one(1, s, A, B, Bp, C), best = 1e30;
        char label[64];
        snprintf(label, sizeof label, "%zux%zux%zu (%d,%d)", M, N, K, s[3], s[4]);
        printf("%-22s %10.1f", label, flop / tb / 1e9);
        for (int isa = 0; isa <= top; isa++) {
            loomrt_isa_force(isa);
            double t = time_one(0, s, A, B, Bp, C);
            best = t < best ? t : best;
            printf(" %10.1f", flop / t / 1e9);
        }
        printf("  %.2f\n", best / tb);
        loomrt_isa_force(-1);
        free(A);
        free(B);
        free(Bp);
        free(C);
    }
    return 0;
}
