/*
 * End to end through the C backend: each seed example (examples/NAME/
 * model.json, made by scripts/gen_examples.py) goes through libloom
 * (loom_compile_graph): the pipeline and the C emitter (weights mode auto: gan_generator's 2.9 MB become an .incbin
 * blob), is built with the system compiler -- with the runtime files and
 * OpenBLAS, and --standalone with the portable GEMM (the runtime as cached
 * objects, and for two examples the one-file form, runtime inlined, that
 * `loom compile --standalone` writes) -- or JIT-compiled by
 * the LLVM backend (backend/llvm), and run on
 * examples/NAME/input_*.npy. Every output is compared with
 * examples/NAME/expected_*.npy (onnxruntime's), with the tolerances of
 * tests/e2e/test_examples.c, which holds the interpreter to the same
 * references. Each model runs twice, on a zeroed and on a NaN-filled
 * workspace: the outputs must be bit-identical, so no value is read from
 * the workspace before it is written. Every example is compiled at -O3
 * (the default pipeline: BatchNormalization folded, epilogues fused) in
 * both runtimes, and at -O0 (constants folded only) with OpenBLAS, so the
 * passes are held to the same references. In the sanitizer build
 * (LOOM_TEST_SANITIZE) the standalone builds' code is built with
 * ASan+UBSan too, and the -O0 cases are standalone (check_example).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/leak_check.h"
#include "fe.h"
#include "loom_api_internal.h"

#define MAX_IO 8

/* A loaded example with its .npy inputs and references. */
typedef struct example {
    ir_graph *g;
    fe_npy in[MAX_IO], want[MAX_IO];
} example;

/* Reads examples/MODEL/PREFIX_<name>.npy; dtype and shape must match v. */
static void read_npy_for(const char *model, const char *prefix, const ir_value *v, fe_npy *a)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/%s/%s_%s.npy", LOOM_SOURCE_DIR, model, prefix,
             v->name);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = fe_npy_read(path, a, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : loom_status_name(st));
    ir_diag_free(&d);
    cr_assert_eq(a->dtype, v->dtype, "%s: dtype %s, value is %s", path, ir_dtype_name(a->dtype),
                 ir_dtype_name(v->dtype));
    cr_assert(ir_shape_equal(&a->shape, &v->shape), "%s: shape differs from the model's", path);
}

static void example_load(example *e, const char *name)
{
    memset(e, 0, sizeof *e);
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/%s/model.json", LOOM_SOURCE_DIR, name);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = fe_json_load(path, &e->g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : loom_status_name(st));
    ir_diag_free(&d);
    cr_assert(e->g->n_inputs <= MAX_IO && e->g->n_outputs <= MAX_IO);
    cr_assert(e->g->n_outputs > 0);
    for (int i = 0; i < e->g->n_inputs; i++)
        read_npy_for(name, "input", e->g->inputs[i], &e->in[i]);
    for (int i = 0; i < e->g->n_outputs; i++) {
        cr_assert_eq(e->g->outputs[i]->dtype, IR_DTYPE_F32, "only f32 outputs are compared");
        read_npy_for(name, "expected", e->g->outputs[i], &e->want[i]);
    }
}

static void example_free(example *e)
{
    for (int i = 0; i < MAX_IO; i++) {
        fe_npy_free(&e->in[i]);
        fe_npy_free(&e->want[i]);
    }
    ir_graph_free(e->g);
}

/* |got - want| <= atol + rtol * |want| everywhere (NaN never passes); logs
 * the largest error. */
static void compare_output(const char *what, const char *name, const float *got,
                           const float *want, int64_t n, double atol, double rtol)
{
    int64_t n_bad = 0, first = -1;
    double max_abs = 0;
    for (int64_t k = 0; k < n; k++) {
        double err = fabs((double)got[k] - (double)want[k]);
        if (!(err <= atol + rtol * fabs((double)want[k])) && n_bad++ == 0)
            first = k;
        if (isnan(err) || err > max_abs)
            max_abs = err;
    }
    cr_log_info("%s: output \"%s\" (%lld values): max abs err %.3g (atol %g, rtol %g)", what, name,
                (long long)n, max_abs, atol, rtol);
    if (n_bad)
        cr_assert_fail("%s: output \"%s\": %lld of %lld values out of tolerance; first at %lld: "
                       "got %.9g, want %.9g",
                       what, name, (long long)n_bad, (long long)n, (long long)first, got[first],
                       want[first]);
}

/* The backends an example runs on. */
typedef enum backend { OPENBLAS, STANDALONE, ONEFILE, JIT } backend;

/* Compiles examples/NAME through libloom at -O<level> with backend b (the
 * C backend with OpenBLAS or standalone, or the LLVM JIT), runs it twice
 * and checks the outputs against the references. */
static void check_example(const char *name, backend b, int level, double atol, double rtol)
{
    example e;
    example_load(&e, name);
    ir_diag d;
    ir_diag_init(&d);
    loom_compile_options co = loom_compile_options_default();
    co.backend = b == JIT ? LOOM_BACKEND_JIT : LOOM_BACKEND_C;
    co.opt_level = level;
    co.standalone = b == STANDALONE || b == ONEFILE;
    char dir[] = "/tmp/loom-onefile-XXXXXX";
    if (b == ONEFILE) {
        cr_assert(mkdtemp(dir));
        co.build_dir = dir; /* kept files: the one-file standalone form */
        co.inline_runtime = 1;
    }
#ifdef LOOM_TEST_SANITIZE
    /* the emitted code runs under ASan+UBSan too, on loom's own kernels
     * (standalone: the -O3 and the -O0 pipeline's code); not the OpenBLAS
     * runs, whose model code is the standalone one's but for the calls
     * into OpenBLAS (not instrumented; the runtime's side of them runs
     * under the sanitizers in unit_threads_blas), nor the one-file form,
     * the standalone runtime inlined: each sanitized runtime is 20-30 s
     * of cc */
    co.sanitize = b == STANDALONE;
#endif
    loom_compiled *c = NULL;
    loom_status st = loom_compile_graph(e.g, &co, &c, &d);
    if (b == ONEFILE) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
    }
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: compile failed:\n%s", name, d.text ? d.text : "");
    loom_workspace *w = NULL;
    loom_diag diag;
    cr_assert_eq(loom_workspace_new(c, &w, &diag), LOOM_STATUS_OK, "%s", diag.message);

    const ir_graph *g = e.g;
    const void *in[MAX_IO] = {0};
    void *out[2][MAX_IO] = {{0}};
    for (int i = 0; i < g->n_inputs; i++)
        in[i] = e.in[i].data;
    for (int run = 0; run < 2; run++) {
        for (int i = 0; i < g->n_outputs; i++) {
            out[run][i] = malloc(ir_value_bytes(g->outputs[i]));
            cr_assert(out[run][i]);
            memset(out[run][i], 0xff, ir_value_bytes(g->outputs[i])); /* NaN */
        }
        memset(loom_workspace_memory(w), run ? 0xff : 0, loom_workspace_size(c));
        st = loom_run(c, w, in, g->n_inputs, out[run], g->n_outputs, &diag);
        cr_assert_eq(st, LOOM_STATUS_OK, "%s: the run failed: %s", name, diag.message);
    }
    static const char *const whats[] = {"openblas", "standalone", "standalone one file", "jit"};
    const char *what = whats[b];
    for (int i = 0; i < g->n_outputs; i++) {
        const ir_value *v = g->outputs[i];
        char label[256];
        snprintf(label, sizeof label, "%s (%s, -O%d)", name, what, level);
        compare_output(label, v->name, out[0][i], e.want[i].data, ir_shape_numel(&v->shape), atol,
                       rtol);
        cr_assert(!memcmp(out[0][i], out[1][i], ir_value_bytes(v)),
                  "%s: output \"%s\" depends on the workspace's prior contents", label, v->name);
        free(out[0][i]);
        free(out[1][i]);
    }
    loom_workspace_free(w);
    loom_compiled_free(c);
    ir_diag_free(&d);
    example_free(&e);
}

/* The tolerances of tests/e2e/test_examples.c (its comment explains them):
 * TOL_CNN for the CNNs and the generator, TOL_SEQ for the LSTM and the
 * transformer. */
#define TOL_CNN 1e-5, 1e-4
#define TOL_SEQ 1e-4, 1e-3

TestSuite(examples_c, .timeout = 600);

Test(examples_c, mnist_cnn_openblas) { check_example("mnist_cnn", OPENBLAS, 3, TOL_CNN); }
Test(examples_c, mnist_cnn_standalone) { check_example("mnist_cnn", STANDALONE, 3, TOL_CNN); }
Test(examples_c, gan_discriminator_openblas)
{
    check_example("gan_discriminator", OPENBLAS, 3, TOL_CNN);
}
Test(examples_c, gan_discriminator_standalone)
{
    check_example("gan_discriminator", STANDALONE, 3, TOL_CNN);
}
Test(examples_c, gan_generator_openblas) { check_example("gan_generator", OPENBLAS, 3, TOL_CNN); }
Test(examples_c, gan_generator_standalone) { check_example("gan_generator", STANDALONE, 3, TOL_CNN); }
Test(examples_c, lstm_openblas) { check_example("lstm", OPENBLAS, 3, TOL_SEQ); }
Test(examples_c, lstm_standalone) { check_example("lstm", STANDALONE, 3, TOL_SEQ); }
Test(examples_c, transformer_openblas) { check_example("transformer", OPENBLAS, 3, TOL_SEQ); }
Test(examples_c, transformer_standalone) { check_example("transformer", STANDALONE, 3, TOL_SEQ); }
Test(examples_c, mnist_cnn_one_file) { check_example("mnist_cnn", ONEFILE, 3, TOL_CNN); }
/* The one-file form is built without the sanitizers in either build, so in
 * the sanitizer build a second one would repeat the normal build's 7-8 s
 * compile; loom's side of it (emission, the kept build folder) runs under
 * the sanitizers in the case above. */
#ifndef LOOM_TEST_SANITIZE
Test(examples_c, transformer_one_file) { check_example("transformer", ONEFILE, 3, TOL_SEQ); }
#endif

/* The LLVM backend on the same loop functions, same tolerances. */
Test(examples_c, mnist_cnn_jit) { check_example("mnist_cnn", JIT, 3, TOL_CNN); }
Test(examples_c, gan_discriminator_jit) { check_example("gan_discriminator", JIT, 3, TOL_CNN); }
Test(examples_c, gan_generator_jit) { check_example("gan_generator", JIT, 3, TOL_CNN); }
Test(examples_c, lstm_jit) { check_example("lstm", JIT, 3, TOL_SEQ); }
Test(examples_c, transformer_jit) { check_example("transformer", JIT, 3, TOL_SEQ); }

/* -O0: no pass but fold-constants. */
#ifdef LOOM_TEST_SANITIZE
#define O0_BACKEND STANDALONE /* the -O0 pipeline's code under the sanitizers */
#else
#define O0_BACKEND OPENBLAS
#endif
Test(examples_c, mnist_cnn_O0) { check_example("mnist_cnn", O0_BACKEND, 0, TOL_CNN); }
Test(examples_c, gan_discriminator_O0)
{
    check_example("gan_discriminator", O0_BACKEND, 0, TOL_CNN);
}
Test(examples_c, gan_generator_O0) { check_example("gan_generator", O0_BACKEND, 0, TOL_CNN); }
Test(examples_c, lstm_O0) { check_example("lstm", O0_BACKEND, 0, TOL_SEQ); }
Test(examples_c, transformer_O0) { check_example("transformer", O0_BACKEND, 0, TOL_SEQ); }
