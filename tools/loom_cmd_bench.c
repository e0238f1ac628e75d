/*
 * loom bench: builds the model (or uses the interpreter), warms up, times
 * the run function in-process and prints min and median latency and the
 * workspace size. Inputs come from --input files or are filled with
 * deterministic pseudo-random values. --threads sets the compiled
 * model's thread count (the runtime's kernels and OpenBLAS's); the
 * interpreter runs on one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loom_cli.h"

/* Deterministic pseudo-random values in [-1, 1) (xorshift), or 0/1 for
 * integer and bool inputs. */
static void fill_random(void *data, ir_dtype t, int64_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        double v = (double)(x >> 8) / (double)(1u << 24) * 2.0 - 1.0;
        if (t == IR_DTYPE_F32)
            ((float *)data)[i] = (float)v;
        else if (t == IR_DTYPE_F64)
            ((double *)data)[i] = v;
        else
            memset((char *)data + i * (int64_t)ir_dtype_size(t), v > 0, 1);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs --min-time may add, at most. */
#define BENCH_MAX_RUNS 20000

/* Times calls after 3 warm-up calls: --runs of them, or more (up to
 * BENCH_MAX_RUNS) when the last warm-up's time says they would span less
 * than --min-time ms, so that a fast model's median is not that of a
 * fraction of a millisecond, which one preemption on a shared machine
 * moves by 2x (bench/bench.py times onnxruntime the same way). *times
 * (allocated here) and *runs get the times. */
static bool time_runs(const cli_opts *o, cli_built *bm, const void **in, void **out,
                      double **times, long *runs)
{
    double once = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = now_ms();
        if (!cli_built_run(o, bm, in, out))
            return false;
        once = now_ms() - t0;
    }
    *runs = o->runs;
    if ((double)*runs * once < (double)o->min_time_ms) {
        double fill = (double)o->min_time_ms / (once > 1e-6 ? once : 1e-6) + 1;
        *runs = fill < BENCH_MAX_RUNS ? (long)fill : BENCH_MAX_RUNS;
    }
    if (!(*times = ir_calloc((size_t)*runs, sizeof **times))) {
        fprintf(stderr, "loom: out of memory\n");
        return false;
    }
    for (long r = 0; r < *runs; r++) {
        double t0 = now_ms();
        bool ok = cli_built_run(o, bm, in, out);
        (*times)[r] = now_ms() - t0;
        if (!ok)
            return false;
    }
    return true;
}

static void print_bench(const cli_opts *o, bool blas, double *times, long runs, int64_t ws)
{
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double med = runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    const char *backend = o->backend ? o->backend : "c";
    const char *runtime = strcmp(backend, "interp") == 0 ? "interpreter"
                          : strcmp(backend, "jit") == 0  ? "jit, llvm"
                          : blas                         ? "c, openblas"
                                                         : "c, standalone";
    long threads = strcmp(backend, "interp") == 0 ? 1 : o->threads;
    if (o->json)
        printf("{\"model\": \"%s\", \"backend\": \"%s\", \"runtime\": \"%s\", \"threads\": %ld, "
               "\"runs\": %ld, \"min_ms\": %.4f, \"median_ms\": %.4f, \"workspace_bytes\": %lld}\n",
               o->model, backend, strchr(runtime, ' ') ? strchr(runtime, ' ') + 1 : runtime, threads, runs, times[0], med,
               (long long)ws);
    else
        printf("%s (%s, %ld thread%s, %ld runs): min %.4f ms, median %.4f ms, workspace %lld "
               "bytes\n",
               o->model, runtime, threads, threads == 1 ? "" : "s", runs, times[0], med,
               (long long)ws);
}

/* Input buffers: the --input files, else random values. */
static bool make_inputs(const cli_opts *o, const ir_graph *g, fe_npy *arrays, const void **in,
                        ir_diag *d)
{
    if (!cli_read_inputs(o, g, arrays, false, d))
        return false;
    for (int i = 0; i < g->n_inputs; i++) {
        if (arrays[i].data) {
            in[i] = arrays[i].data;
            continue;
        }
        const ir_value *v = g->inputs[i];
        if (!(arrays[i].data = cli_alloc_value(v, "input")))
            return false;
        fill_random(arrays[i].data, v->dtype, ir_shape_numel(&v->shape), (uint32_t)i);
        in[i] = arrays[i].data;
    }
    return true;
}

/* Allocates the buffers, builds, times and prints; returns the exit code. */
static int cmd_bench(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    bool compiled = !o->backend || strcmp(o->backend, "c") == 0 || cli_is_jit(o);
    size_t nin = (size_t)g->n_inputs + 1, nout = (size_t)g->n_outputs + 1;
    fe_npy *arrays = ir_calloc(nin, sizeof *arrays);
    const void **in = ir_calloc(nin, sizeof *in);
    void **out = ir_calloc(nout, sizeof *out);
    double *times = NULL;
    long runs = 0;
    cli_built bm = {0};
    bool ok = arrays && in && out;
    if (!ok)
        fprintf(stderr, "loom: out of memory\n");
    ok = ok && make_inputs(o, g, arrays, in, d);
    for (int i = 0; ok && i < g->n_outputs; i++)
        ok = (out[i] = cli_alloc_value(g->outputs[i], "output")) != NULL;
    loom_status st = ok ? cli_build(g, o, &bm, d) : LOOM_STATUS_OK;
    if (st)
        cli_report(d, o->model, "building", st);
    ok = ok && !st;
    ok = ok && time_runs(o, &bm, in, out, &times, &runs);
    cli_flush_diag(d);
    if (ok)
        print_bench(o, compiled && !o->standalone, times, runs,
                    compiled ? (int64_t)loom_workspace_size(bm.c) : 0);
    cli_built_free(&bm);
    for (int i = 0; arrays && i < g->n_inputs; i++)
        fe_npy_free(&arrays[i]);
    for (int i = 0; out && i < g->n_outputs; i++)
        ir_free(out[i]);
    ir_free(arrays);
    ir_free(in);
    ir_free(out);
    ir_free(times);
    return ok ? 0 : EXIT_BAD_INPUT;
}

static int check_bench(const cli_opts *o)
{
    bool compiled = !o->backend || strcmp(o->backend, "c") == 0 || cli_is_jit(o);
    if (!compiled && strcmp(o->backend, "interp") != 0)
        return cli_usage_error(o->cmd, "unknown --backend=%s (c, jit or interp)", o->backend);
    if (!compiled && o->standalone)
        return cli_usage_error(o->cmd, "%s", "--standalone applies to --backend=c");
    if (o->threads_given && o->threads != 1 && !compiled)
        return cli_usage_error(o->cmd, "%s", "--threads applies to --backend=c|jit; the "
                                             "interpreter runs on one thread");
    return 0;
}

const cli_command cli_bench = {
    .name = "bench",
    .bit = CLI_BENCH,
    .check = check_bench,
    .run = cmd_bench,
    .help =
        "usage: loom bench MODEL [--backend=c|jit|interp] [--runs N] [--min-time MS]\n"
        "                        [--threads N] [--standalone] [--json]\n"
        "                        [--input NAME=FILE.npy]...\n"
        "                        [-O0|-O1|-O2|-O3] [--disable-pass=NAME]...\n"
        "                        [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
        "                        [--const IN=FILE.npy]... [--keras-weights FILE]\n"
        "Builds the model, warms up, times the run function in-process and prints\n"
        "min and median latency and the workspace size: --runs calls (default 20),\n"
        "more when they would span under --min-time MS milliseconds (at most 20000).\n"
        "Inputs not given by\n"
        "--input are filled with deterministic pseudo-random values in [-1, 1).\n"
        "--threads N runs the compiled model's kernels (loom's and OpenBLAS's) on N\n"
        "threads (default 1).\n",
};
