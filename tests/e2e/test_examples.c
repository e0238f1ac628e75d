/*
 * End to end: each seed example (examples/NAME/model.json, made by
 * scripts/gen_examples.py) is loaded with the JSON reader, run in the
 * reference interpreter on examples/NAME/input_*.npy, and every output is
 * compared with examples/NAME/expected_*.npy, which onnxruntime computed from
 * the model's ONNX twin. Where that twin is kept (examples/NAME/model.onnx)
 * it goes through the ONNX reader and the same comparison, so both readers
 * are held to one reference. A further test per model makes each allocation of
 * interp_run fail in turn and checks that every failure is reported cleanly
 * and that nothing leaks: this file's CMakeLists links it with
 * -Wl,--wrap=malloc,... so the C allocator calls of the (static) loom library
 * go through counting wrappers here, and the ASan build also asks
 * LeakSanitizer.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../unit/leak_check.h"
#include "fe.h"
#include "interp.h"

#if defined(__SANITIZE_ADDRESS__)
#define E2E_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define E2E_ASAN 1
#endif
#endif
#ifdef E2E_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#define E2E_MAX_IO 8

/* A loaded example: the graph, its inputs, the expected outputs and buffers
 * for the interpreter's outputs. */
typedef struct example {
    const char *name, *file;
    ir_graph *g;
    fe_npy in[E2E_MAX_IO];
    fe_npy want[E2E_MAX_IO];
    void *out[E2E_MAX_IO];
} example;

static void example_path(char *buf, size_t size, const char *model, const char *file)
{
    int n = snprintf(buf, size, "%s/examples/%s/%s", LOOM_SOURCE_DIR, model, file);
    cr_assert(n > 0 && (size_t)n < size, "path too long");
}

/* Reads PREFIX_<value name>.npy and checks it matches the value's dtype and
 * (inferred) shape. */
static void read_npy_for(const char *model, const char *prefix, const ir_value *v, fe_npy *a)
{
    char file[256], path[1024];
    snprintf(file, sizeof file, "%s_%s.npy", prefix, v->name);
    example_path(path, sizeof path, model, file);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = fe_npy_read(path, a, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : loom_status_name(st));
    ir_diag_free(&d);
    char got[128], want[128];
    ir_shape_format(&a->shape, got, sizeof got);
    ir_shape_format(&v->shape, want, sizeof want);
    cr_assert(v->shape_known, "%s: value \"%s\" has no inferred shape", model, v->name);
    cr_assert_eq(a->dtype, v->dtype, "%s: dtype %s, value \"%s\" is %s", file,
                 ir_dtype_name(a->dtype), v->name, ir_dtype_name(v->dtype));
    cr_assert(ir_shape_equal(&a->shape, &v->shape), "%s: shape %s, value \"%s\" has %s", file,
              got, v->name, want);
}

/* Loads examples/NAME/FILE (model.json with the JSON reader, model.onnx with
 * the ONNX reader) and its .npy files; output buffers are filled with NaN so
 * an output the interpreter never writes cannot pass. */
static void example_load(example *e, const char *name, const char *file)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->file = file;
    char path[1024];
    example_path(path, sizeof path, name, file);
    bool onnx = strstr(file, ".onnx") != NULL;
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = onnx ? fe_onnx_load(path, NULL, &e->g, &d) : fe_json_load(path, &e->g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s(%s) failed (%s):\n%s",
                 onnx ? "fe_onnx_load" : "fe_json_load", path, loom_status_name(st),
                 d.text ? d.text : "");
    ir_diag_free(&d);
    const ir_graph *g = e->g;
    cr_assert(g->n_inputs <= E2E_MAX_IO && g->n_outputs <= E2E_MAX_IO);
    cr_assert(g->n_outputs > 0, "%s has no outputs", name);
    for (int i = 0; i < g->n_inputs; i++)
        read_npy_for(name, "input", g->inputs[i], &e->in[i]);
    for (int i = 0; i < g->n_outputs; i++) {
        read_npy_for(name, "expected", g->outputs[i], &e->want[i]);
        cr_assert_eq(g->outputs[i]->dtype, IR_DTYPE_F32, "only f32 outputs are compared");
        size_t bytes = ir_value_bytes(g->outputs[i]);
        e->out[i] = ir_malloc(bytes);
        cr_assert(e->out[i]);
        memset(e->out[i], 0xff, bytes); /* all-ones bytes: a NaN */
    }
}

static void example_free(example *e)
{
    for (int i = 0; i < E2E_MAX_IO; i++) {
        fe_npy_free(&e->in[i]);
        fe_npy_free(&e->want[i]);
        ir_free(e->out[i]);
    }
    ir_graph_free(e->g);
    memset(e, 0, sizeof *e);
}

/* Runs the interpreter on the example's inputs into its output buffers. */
static loom_status example_run(example *e, ir_diag *d)
{
    const void *ins[E2E_MAX_IO] = {0};
    for (int i = 0; i < e->g->n_inputs; i++)
        ins[i] = e->in[i].data;
    return interp_run(e->g, ins, e->out, d);
}

/* Compares output i with its reference: |got - want| <= atol + rtol * |want|
 * everywhere (NaN never passes). Logs the max abs and max rel error. */
static void compare_output(const example *e, int i, double atol, double rtol)
{
    const float *got = e->out[i], *want = e->want[i].data;
    int64_t n = ir_shape_numel(&e->want[i].shape), n_bad = 0, first_bad = -1;
    double max_abs = 0, max_rel = 0;
    for (int64_t k = 0; k < n; k++) {
        double err = fabs((double)got[k] - (double)want[k]);
        double rel = want[k] != 0 ? err / fabs((double)want[k]) : (err != 0 ? INFINITY : 0);
        bool ok = err <= atol + rtol * fabs((double)want[k]); /* false for NaN */
        if (!ok && n_bad++ == 0)
            first_bad = k;
        if (isnan(err) || err > max_abs)
            max_abs = err;
        if (isnan(rel) || rel > max_rel)
            max_rel = rel;
    }
    const char *name = e->g->outputs[i]->name;
    cr_log_info("%s/%s: output \"%s\" (%lld values): max abs err %.3g, max rel err %.3g "
                "(atol %g, rtol %g)",
                e->name, e->file, name, (long long)n, max_abs, max_rel, atol, rtol);
    if (n_bad)
        cr_assert_fail("%s/%s: output \"%s\": %lld of %lld values out of tolerance; first at "
                       "flat index %lld: got %.9g, want %.9g",
                       e->name, e->file, name, (long long)n_bad, (long long)n, (long long)first_bad,
                       got[first_bad], want[first_bad]);
}

/* Loads examples/NAME/FILE, runs it twice (results must be bit-identical:
 * the interpreter keeps no state between runs) and compares every output. */
static void check_example(const char *name, const char *file, double atol, double rtol)
{
    example e;
    example_load(&e, name, file);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = example_run(&e, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: interp_run failed (%s):\n%s", name,
                 loom_status_name(st), d.text ? d.text : "");
    for (int i = 0; i < e.g->n_outputs; i++)
        compare_output(&e, i, atol, rtol);

    void *first[E2E_MAX_IO] = {0};
    for (int i = 0; i < e.g->n_outputs; i++) {
        size_t bytes = ir_value_bytes(e.g->outputs[i]);
        first[i] = ir_malloc(bytes);
        cr_assert(first[i]);
        memcpy(first[i], e.out[i], bytes);
        memset(e.out[i], 0xff, bytes);
    }
    st = example_run(&e, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: second interp_run failed:\n%s", name,
                 d.text ? d.text : "");
    for (int i = 0; i < e.g->n_outputs; i++) {
        cr_assert(!memcmp(first[i], e.out[i], ir_value_bytes(e.g->outputs[i])),
                  "%s: output \"%s\" differs between two runs", name, e.g->outputs[i]->name);
        ir_free(first[i]);
    }
    ir_diag_free(&d);
    example_free(&e);
}

/*
 * Tolerances. onnxruntime's float32 outputs differ from a float64 evaluation
 * of the same models (gen_examples.py prints it) by at most 1.7e-7 (mnist),
 * 8.7e-8 (discriminator), 1.5e-6 (generator), 4.3e-7 (lstm) and 1.2e-6
 * (transformer). The interpreter is another float32 evaluation with its own
 * summation order, so the two may differ by about twice that.
 * - TOL_CNN (CNNs and the generator): atol 1e-5 + rtol 1e-4, 7x or more
 *   above that bound; their outputs are probabilities or tanh values.
 * - TOL_SEQ (LSTM and transformer): atol 1e-4 + rtol 1e-3. The LSTM feeds
 *   its rounding error back through 32 recurrent steps and the transformer
 *   goes through exp (softmax), erf and 1/sqrt (LayerNorm) with outputs up
 *   to |3.7|, where libm implementations legitimately differ by an ulp or two.
 */
#define TOL_CNN 1e-5, 1e-4
#define TOL_SEQ 1e-4, 1e-3

TestSuite(examples, .timeout = 600);

Test(examples, mnist_cnn) { check_example("mnist_cnn", "model.json", TOL_CNN); }
Test(examples, gan_discriminator) { check_example("gan_discriminator", "model.json", TOL_CNN); }
Test(examples, gan_generator) { check_example("gan_generator", "model.json", TOL_CNN); }
Test(examples, lstm) { check_example("lstm", "model.json", TOL_SEQ); }
Test(examples, transformer) { check_example("transformer", "model.json", TOL_SEQ); }

/* The ONNX twins (gan_generator's, over 1 MB of weights, is not kept). */
TestSuite(examples_onnx, .timeout = 600);

Test(examples_onnx, mnist_cnn) { check_example("mnist_cnn", "model.onnx", TOL_CNN); }
Test(examples_onnx, gan_discriminator)
{
    check_example("gan_discriminator", "model.onnx", TOL_CNN);
}
Test(examples_onnx, lstm) { check_example("lstm", "model.onnx", TOL_SEQ); }
Test(examples_onnx, transformer) { check_example("transformer", "model.onnx", TOL_SEQ); }

/* Link-time wrappers (-Wl,--wrap=SYMBOL) around the C allocator as called by
 * the statically linked loom library: live_blocks is the number of blocks
 * allocated and not yet freed. (ir_realloc never asks for size 0, so a
 * realloc never frees.) */
void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);

static long live_blocks;

void *__wrap_malloc(size_t size)
{
    void *p = __real_malloc(size);
    live_blocks += p != NULL;
    return p;
}

void *__wrap_calloc(size_t count, size_t size)
{
    void *p = __real_calloc(count, size);
    live_blocks += p != NULL;
    return p;
}

void *__wrap_realloc(void *ptr, size_t size)
{
    void *p = __real_realloc(ptr, size);
    live_blocks += !ptr && p;
    return p;
}

void __wrap_free(void *ptr)
{
    live_blocks -= ptr != NULL;
    __real_free(ptr);
}

/*
 * Makes allocation k of interp_run fail, for k = 0, 1, ... until a run needs
 * fewer than k allocations and succeeds. Every failed run must return
 * LOOM_STATUS_NOMEM with a diagnostic. Afterwards loom must hold as many
 * heap blocks as before the loop, and in the ASan build LeakSanitizer must
 * find nothing unreachable once the example is freed.
 */
static void check_no_leak(const char *name)
{
    example e;
    example_load(&e, name, "model.json");
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(example_run(&e, &d), LOOM_STATUS_OK, "%s: interp_run failed:\n%s", name,
                 d.text ? d.text : "");
    ir_diag_free(&d);

    cr_assert_gt(live_blocks, 0, "the allocator wrappers are not linked in");
    long before = live_blocks;
    long k = 0, bad_k = -1;
    loom_status st = LOOM_STATUS_OK, bad_st = LOOM_STATUS_OK;
    bool silent = false;
    for (; k < 100000; k++) {
        ir_diag_init(&d);
        ir_alloc_fail_after(k);
        st = example_run(&e, &d);
        ir_alloc_fail_after(-1);
        if (st != LOOM_STATUS_OK && bad_k < 0 && (st != LOOM_STATUS_NOMEM || d.n_errors == 0)) {
            bad_k = k;
            bad_st = st;
            silent = d.n_errors == 0;
        }
        ir_diag_free(&d);
        if (st == LOOM_STATUS_OK)
            break;
    }
    long after = live_blocks;

    cr_assert_eq(st, LOOM_STATUS_OK, "%s: interp_run never succeeded under failure injection",
                 name);
    cr_assert_gt(k, 0, "%s: no allocation failure was injected", name);
    cr_assert_eq(bad_k, -1, "%s: failing allocation %ld gave status %s%s", name, bad_k,
                 loom_status_name(bad_st), silent ? " and no diagnostic" : "");
    cr_assert_eq(after, before, "%s: %ld heap blocks leaked over %ld failed runs", name,
                 after - before, k);
    cr_log_info("%s: %ld allocation failures injected, each reported as out of memory", name, k);
    example_free(&e);
    cr_assert_eq(live_blocks, 0, "%s: %ld heap blocks held after freeing the example", name,
                 live_blocks);
#ifdef E2E_ASAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "%s: LeakSanitizer found leaks", name);
#endif
}

Test(interp_no_leak, mnist_cnn) { check_no_leak("mnist_cnn"); }
Test(interp_no_leak, gan_discriminator) { check_no_leak("gan_discriminator"); }
Test(interp_no_leak, gan_generator) { check_no_leak("gan_generator"); }
Test(interp_no_leak, lstm) { check_no_leak("lstm"); }
Test(interp_no_leak, transformer) { check_no_leak("transformer"); }
