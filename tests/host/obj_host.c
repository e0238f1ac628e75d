/*
 * A host program linked with objects from `loom compile --emit=obj` (the
 * LLVM backend ahead of time: no C compiler ever sees the models) and the
 * runtime: each example's NAME_run_v runs on deterministic inputs and its
 * outputs are compared with the reference interpreter's through libloom.
 * Tolerance |aot - interp| <= atol + rtol |interp|, as tests/e2e_c: 1e-5 and
 * 1e-4 for the CNN, 1e-4 and 1e-3 for the transformer (loom's kernels sum in
 * another order than the interpreter's loops).
 *
 * Usage: obj_host   (exit 0 when every output is within tolerance)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

#define MAX_IO 8

typedef int (*run_fn)(const void *const *inputs, void *const *outputs, void *workspace);

/* What the objects define (docs/jit.md). */
extern int mnist_cnn_run_v(const void *const *, void *const *, void *);
extern const int64_t mnist_cnn_workspace_bytes;
extern int transformer_run_v(const void *const *, void *const *, void *);
extern const int64_t transformer_workspace_bytes;

typedef struct aot_model {
    const char *name;
    run_fn run;
    const int64_t *workspace_bytes;
    double atol, rtol;
} aot_model;

/* Values in [-1, 1) from a fixed sequence (xorshift). */
static void fill(float *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (float)((double)(x >> 8) / (double)(1u << 24) * 2.0 - 1.0);
    }
}

/* Compares n floats; prints the largest error; returns the number out of
 * tolerance. */
static long compare(const aot_model *a, const char *out, const float *got, const float *want,
                    size_t n)
{
    long bad = 0;
    double max_err = 0;
    for (size_t k = 0; k < n; k++) {
        double err = fabs((double)got[k] - (double)want[k]);
        if (!(err <= a->atol + a->rtol * fabs((double)want[k])))
            bad++;
        if (!(err <= max_err))
            max_err = err;
    }
    printf("%s: output \"%s\" (%zu values): max abs err %.3g%s\n", a->name, out, n, max_err,
           bad ? " FAIL" : " ok");
    return bad;
}

/* Runs the object's model and the interpreter on the same inputs. */
static long check(const aot_model *a)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/%s/model.json", LOOM_SOURCE_DIR, a->name);
    loom_model *m = NULL;
    loom_compiled *c = NULL;
    loom_workspace *w = NULL;
    loom_diag dg;
    if (loom_model_load(path, NULL, &m, &dg) || loom_compile(m, NULL, &c, &dg) ||
        loom_workspace_new(c, &w, &dg)) {
        printf("%s: %s\n", a->name, dg.message);
        return 1;
    }
    int ni = loom_num_inputs(c), no = loom_num_outputs(c);
    const void *in[MAX_IO] = {0};
    void *want[MAX_IO] = {0}, *got[MAX_IO] = {0};
    loom_tensor_info ti;
    for (int i = 0; i < ni && i < MAX_IO; i++) {
        loom_input_info(c, i, &ti, NULL);
        in[i] = malloc(ti.bytes);
        fill((float *)in[i], ti.bytes / sizeof(float), (uint32_t)i + 1);
    }
    for (int i = 0; i < no && i < MAX_IO; i++) {
        loom_output_info(c, i, &ti, NULL);
        want[i] = malloc(ti.bytes);
        got[i] = malloc(ti.bytes);
        memset(got[i], 0xff, ti.bytes);
    }
    long bad = loom_run(c, w, in, ni, want, no, &dg) != LOOM_STATUS_OK;
    size_t ws_bytes = (size_t)(*a->workspace_bytes + 63) / 64 * 64;
    void *ws = aligned_alloc(64, ws_bytes ? ws_bytes : 64);
    int status = a->run(in, got, ws);
    if (bad || status) {
        printf("%s: interpreter: %s; object returned %d\n", a->name, bad ? dg.message : "ok",
               status);
        bad = 1;
    }
    for (int i = 0; !bad && i < no; i++) {
        loom_output_info(c, i, &ti, NULL);
        bad += compare(a, ti.name, got[i], want[i], ti.bytes / sizeof(float));
    }
    printf("%s: workspace %lld bytes (from the object)\n", a->name, (long long)*a->workspace_bytes);
    for (int i = 0; i < MAX_IO; i++) {
        free((void *)in[i]);
        free(want[i]);
        free(got[i]);
    }
    free(ws);
    loom_workspace_free(w);
    loom_compiled_free(c);
    loom_model_free(m);
    return bad;
}

int main(void)
{
    static const aot_model models[] = {
        {"mnist_cnn", mnist_cnn_run_v, &mnist_cnn_workspace_bytes, 1e-5, 1e-4},
        {"transformer", transformer_run_v, &transformer_workspace_bytes, 1e-4, 1e-3},
    };
    long bad = 0;
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        bad += check(&models[i]);
    printf("%s\n", bad ? "FAIL" : "PASS");
    return bad ? 1 : 0;
}
