/*
 * Times one model's C and JIT builds in one process, in alternating blocks
 * of runs, so both see the same machine load (on a shared machine,
 * separate processes see different loads and their ratios wander by tens
 * of percent). Built and run by bench/jit_vs_c.sh against libloom:
 *
 *   jit_vs_c_pair MODEL ROUNDS RUNS [NAME=VALUE dim pins...]
 *
 * Float inputs are pseudo-random in [-1, 1), integer inputs zero (a valid
 * index everywhere). Prints "c_min jit_min c_med jit_med" in milliseconds:
 * the fastest run of each backend and the median of its blocks' medians.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loom.h"

#define MAX_IO 16

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

typedef struct side {
    loom_compiled *c;
    loom_workspace *w;
    void *in[MAX_IO], *out[MAX_IO];
    double best, *block_med;
} side;

static int die(const char *what, const loom_diag *d)
{
    fprintf(stderr, "jit_vs_c_pair: %s: %s\n", what, d->message);
    return 1;
}

/* Compiles m for backend b with one thread and allocates its buffers. */
static int prepare(side *s, const loom_model *m, loom_backend b, int rounds)
{
    loom_diag d;
    loom_compile_options o = loom_compile_options_default();
    o.backend = b;
    o.threads = 1;
    if (loom_compile(m, &o, &s->c, &d) || loom_workspace_new(s->c, &s->w, &d))
        return die("compile", &d);
    if (loom_num_inputs(s->c) > MAX_IO || loom_num_outputs(s->c) > MAX_IO)
        return fprintf(stderr, "jit_vs_c_pair: too many inputs or outputs\n"), 1;
    unsigned seed = 12345;
    for (int i = 0; i < loom_num_inputs(s->c); i++) {
        loom_tensor_info t;
        loom_input_info(s->c, i, &t, NULL);
        s->in[i] = calloc(1, t.bytes + 1);
        if (t.dtype == LOOM_DTYPE_F32)
            for (size_t k = 0; k < t.bytes / 4; k++) {
                seed = seed * 1103515245u + 12345u;
                ((float *)s->in[i])[k] = (float)(seed >> 8) / 8388608.0f - 1.0f;
            }
    }
    for (int i = 0; i < loom_num_outputs(s->c); i++) {
        loom_tensor_info t;
        loom_output_info(s->c, i, &t, NULL);
        s->out[i] = calloc(1, t.bytes + 1);
    }
    s->best = 1e30;
    s->block_med = calloc((size_t)rounds, sizeof *s->block_med);
    return 0;
}

static void release(side *s)
{
    for (int i = 0; i < MAX_IO; i++) {
        free(s->in[i]);
        free(s->out[i]);
    }
    free(s->block_med);
    loom_workspace_free(s->w);
    loom_compiled_free(s->c);
}

/* Runs s runs times; records the fastest run and the block's median. */
static int block(side *s, int runs, double *t, int round)
{
    loom_diag d;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        if (loom_run(s->c, s->w, (const void *const *)s->in, loom_num_inputs(s->c), s->out,
                     loom_num_outputs(s->c), &d))
            return die("run", &d);
        t[r] = now_ms() - t0;
        if (t[r] < s->best)
            s->best = t[r];
    }
    s->block_med[round] = median(t, runs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return fprintf(stderr, "usage: jit_vs_c_pair MODEL ROUNDS RUNS [PIN...]\n"), 2;
    int rounds = atoi(argv[2]), runs = atoi(argv[3]);
    const char *pins[32] = {0};
    for (int i = 4; i < argc && i - 4 < 31; i++)
        pins[i - 4] = argv[i];
    loom_load_options lo = {.dims = pins};
    loom_model *m = NULL;
    loom_diag d;
    if (rounds < 1 || runs < 1 || loom_model_load(argv[1], &lo, &m, &d))
        return rounds < 1 || runs < 1 ? 2 : die("load", &d);
    side c = {0}, j = {0};
    double *t = calloc((size_t)runs, sizeof *t);
    int failed = !t || prepare(&c, m, LOOM_BACKEND_C, rounds) ||
                 prepare(&j, m, LOOM_BACKEND_JIT, rounds) || block(&c, runs, t, 0) ||
                 block(&j, runs, t, 0); /* the first blocks warm up */
    if (!failed) {
        c.best = j.best = 1e30;
        for (int r = 0; r < rounds && !failed; r++)
            failed = block(&c, runs, t, r) || block(&j, runs, t, r);
    }
    if (!failed)
        printf("%.4f %.4f %.4f %.4f\n", c.best, j.best, median(c.block_med, rounds),
               median(j.block_med, rounds));
    release(&c);
    release(&j);
    free(t);
    loom_model_free(m);
    return failed;
}
