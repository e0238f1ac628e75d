/*
 * A host program for a model compiled by `loom compile`: reads the input
 * from a .npy file, runs the model, prints the outputs and the time per
 * run. It uses only the generated header's contract (docs/emitted-c.md):
 *
 *   loom compile examples/mnist_cnn/model.json -o out/mnist_cnn.c
 *   cc -O2 -Iout -DMODEL_HEADER='"mnist_cnn.h"' -DMODEL=mnist_cnn -DMODEL_UP=MNIST_CNN \
 *      examples/demo/main.c out/mnist_cnn.c out/loomrt_*.c -lm
 *   ./a.out examples/mnist_cnn/input_image.npy
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include MODEL_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define RUN CAT(MODEL, _run_v)
#define WORKSPACE_BYTES CAT(MODEL_UP, _WORKSPACE_BYTES)
#define INPUT_SIZE CAT(MODEL_UP, _INPUT0_SIZE)
#define OUTPUT_SIZE CAT(MODEL_UP, _OUTPUT0_SIZE)
#define OUTPUT_NAME CAT(MODEL_UP, _OUTPUT0_NAME)

/* Reads a little-endian f32 .npy file of exactly n values into out. */
static int read_npy_f32(const char *path, float *out, long n)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    if (!f || fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6) != 0) {
        fprintf(stderr, "%s: not a .npy file\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    long hlen = head[8] | (long)head[9] << 8; /* format 1.0 header length */
    char header[1024];
    if (hlen >= (long)sizeof header || fread(header, 1, (size_t)hlen, f) != (size_t)hlen ||
        !strstr(header, "'<f4'") || fread(out, sizeof *out, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: expected %ld little-endian f32 values\n", path, n);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    static float input[INPUT_SIZE], output[OUTPUT_SIZE];
    static _Alignas(64) unsigned char workspace[WORKSPACE_BYTES + 1];
    if (argc != 2) {
        fprintf(stderr, "usage: %s INPUT.npy\n", argv[0]);
        return 2;
    }
    if (read_npy_f32(argv[1], input, INPUT_SIZE) != 0)
        return 1;
    const void *in[] = {input};
    void *out[] = {output};
    if (RUN(in, out, workspace) != 0)
        return 1;
    int runs = 200;
    double t0 = now_ms();
    for (int r = 0; r < runs; r++)
        RUN(in, out, workspace);
    double per_run = (now_ms() - t0) / runs;
    int best = 0;
    printf("%s = [", OUTPUT_NAME);
    for (int i = 0; i < OUTPUT_SIZE; i++) {
        printf(i ? ", %.5f" : "%.5f", output[i]);
        if (output[i] > output[best])
            best = i;
    }
    printf("]\nargmax %d; %.4f ms per run (mean of %d), workspace %d bytes\n", best, per_run,
           runs, (int)WORKSPACE_BYTES);
    return 0;
}
