/*
 * The public API (include/loom.h, backend/api/loom_api.c): mnist_cnn loaded,
 * compiled for the interpreter and the C backend and run against
 * onnxruntime's outputs (examples/mnist_cnn/expected_probs.npy, |err| <=
 * 1e-5 + 1e-4 |ref| as tests/e2e), several threads on separate workspaces,
 * structured diagnostics, misuse returning errors, and 100 load/compile/
 * run/free cycles without leaks (LeakSanitizer) and with flat RSS.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe.h"
#include "leak_check.h"
#include "loom.h"
#include "testlib.h"

#define MNIST LOOM_SOURCE_DIR "/examples/mnist_cnn/model.json"
#define MNIST_DIR LOOM_SOURCE_DIR "/examples/mnist_cnn/"

static fe_npy read_npy(const char *path)
{
    fe_npy a = {0};
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = fe_npy_read(path, &a, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "%s: %s", path, d.text ? d.text : "");
    ir_diag_free(&d);
    return a;
}

static loom_compiled *compile_mnist_threads(loom_backend b, int threads, bool standalone)
{
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load(MNIST, NULL, &m, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    o.backend = b;
    o.threads = threads;
    o.standalone = standalone;
    loom_compiled *c = NULL;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_model_free(m); /* the compiled model does not need it */
    return c;
}

static loom_compiled *compile_mnist(loom_backend b)
{
    return compile_mnist_threads(b, 0, false);
}

/* Runs c once on w with the example's input; checks probs against onnxruntime's. */
static void run_and_check(const loom_compiled *c, loom_workspace *w, const fe_npy *in,
                          const fe_npy *ref)
{
    float probs[10] = {0};
    const void *ins[1] = {in->data};
    void *outs[1] = {probs};
    loom_diag dg;
    cr_assert_eq(loom_run(c, w, ins, 1, outs, 1, &dg), LOOM_STATUS_OK, "%s", dg.message);
    const float *r = ref->data;
    for (int i = 0; i < 10; i++)
        cr_assert_leq(fabsf(probs[i] - r[i]), 1e-5f + 1e-4f * fabsf(r[i]), "probs[%d] %g vs %g",
                      i, probs[i], r[i]);
}

static void check_backend(loom_backend b)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    loom_compiled *c = compile_mnist(b);
    cr_assert_eq(loom_num_inputs(c), 1);
    cr_assert_eq(loom_num_outputs(c), 1);
    loom_tensor_info ti;
    cr_assert_eq(loom_input_info(c, 0, &ti, NULL), LOOM_STATUS_OK);
    cr_assert_str_eq(ti.name, "image");
    cr_assert_eq(ti.dtype, LOOM_DTYPE_F32);
    cr_assert_eq(ti.rank, 4);
    cr_assert_eq(ti.bytes, 28 * 28 * 4);
    cr_assert_eq(loom_output_info(c, 0, &ti, NULL), LOOM_STATUS_OK);
    cr_assert_str_eq(ti.name, "probs");
    cr_assert_eq(ti.bytes, 40);
    if (b == LOOM_BACKEND_C)
        cr_assert_gt(loom_workspace_size(c), 0, "the planner's arena");
    loom_workspace *w = NULL;
    cr_assert_eq(loom_workspace_new(c, &w, NULL), LOOM_STATUS_OK);
    for (int k = 0; k < 3; k++)
        run_and_check(c, w, &in, &ref);
    loom_workspace_free(w);
    loom_compiled_free(c);
    fe_npy_free(&in);
    fe_npy_free(&ref);
}

Test(api, mnist_interp) { check_backend(LOOM_BACKEND_INTERP); }

Test(api, mnist_c)
{
    check_backend(LOOM_BACKEND_C);
    assert_no_leaks();
}

Test(api, mnist_jit)
{
    check_backend(LOOM_BACKEND_JIT);
    assert_no_leaks();
}

/* ---- several threads, one workspace each ---- */

typedef struct job {
    const loom_compiled *c;
    const fe_npy *in;
    float probs[10];
    loom_status st;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    loom_workspace *w = NULL;
    j->st = loom_workspace_new(j->c, &w, NULL);
    const void *ins[1] = {j->in->data};
    void *outs[1] = {j->probs};
    for (int k = 0; k < 20 && !j->st; k++)
        j->st = loom_run(j->c, w, ins, 1, outs, 1, NULL);
    loom_workspace_free(w);
    return NULL;
}

/* Runs c from four threads at once, one job each, and checks every run
 * succeeded. */
static void run_callers(const loom_compiled *c, const fe_npy *in, job jobs[4])
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){.c = c, .in = in};
        cr_assert_eq(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(jobs[i].st, LOOM_STATUS_OK, "caller %d: %s", i, loom_status_name(jobs[i].st));
}

static void check_threads(loom_backend b)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    loom_compiled *c = compile_mnist(b);
    job jobs[4];
    run_callers(c, &in, jobs);
    const float *r = ref.data;
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 10; k++)
            cr_assert_leq(fabsf(jobs[i].probs[k] - r[k]), 1e-5f + 1e-4f * fabsf(r[k]));
    }
    loom_compiled_free(c);
    fe_npy_free(&in);
    fe_npy_free(&ref);
}

/* Four callers at once, each on its own workspace, the model compiled for
 * 2 threads (the runtime's pool, shared: one caller's kernels get it, the
 * others run theirs on their own thread): every run gives the 1-thread
 * model's outputs, bit for bit with loom's kernels (standalone); a build
 * with OpenBLAS may hand large GEMMs to it, whose threaded products round
 * differently (docs/emitted-c.md), so there within 1e-5 relative. */
static void check_pool(loom_backend b, bool standalone)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    loom_compiled *one = compile_mnist_threads(b, 1, standalone);
    loom_compiled *c = compile_mnist_threads(b, 2, standalone);
    job want = {.c = one, .in = &in}, jobs[4];
    run_job(&want);
    cr_assert_eq(want.st, LOOM_STATUS_OK);
    run_callers(c, &in, jobs);
    for (int i = 0; i < 4; i++) {
        if (standalone)
            cr_assert(memcmp(jobs[i].probs, want.probs, sizeof want.probs) == 0,
                      "caller %d: 2 threads differ from 1", i);
        for (int k = 0; k < 10; k++)
            cr_assert_leq(fabsf(jobs[i].probs[k] - want.probs[k]),
                          1e-7f + 1e-5f * fabsf(want.probs[k]),
                          "caller %d: 2 threads differ from 1 beyond rounding", i);
    }
    loom_compiled_free(one);
    loom_compiled_free(c);
    fe_npy_free(&in);
}

Test(api, threads_interp) { check_threads(LOOM_BACKEND_INTERP); }
Test(api, pool_c_standalone) { check_pool(LOOM_BACKEND_C, true); }
Test(api, pool_c) { check_pool(LOOM_BACKEND_C, false); }
Test(api, pool_jit) { check_pool(LOOM_BACKEND_JIT, false); }
Test(api, threads_c) { check_threads(LOOM_BACKEND_C); }
Test(api, threads_jit) { check_threads(LOOM_BACKEND_JIT); }

/* ---- diagnostics ---- */

Test(api, diag_names_file_node_and_op)
{
    loom_model *m = (loom_model *)1;
    loom_diag dg;
    loom_status st = loom_model_load(LOOM_SOURCE_DIR "/tests/diag/arity.json", NULL, &m, &dg);
    cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL);
    cr_assert_null(m);
    cr_assert_eq(dg.code, LOOM_STATUS_INVALID_MODEL);
    cr_assert(strstr(dg.file, "tests/diag/arity.json"), "file: %s", dg.file);
    cr_assert_str_eq(dg.node, "conv");
    cr_assert_str_eq(dg.op, "Conv");
    cr_assert(strstr(dg.message, "Relu takes 1"), "every error is in message: %s", dg.message);
}

Test(api, missing_file_is_io)
{
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load("/nonexistent/model.json", NULL, &m, &dg), LOOM_STATUS_IO);
    cr_assert_null(m);
    cr_assert(strstr(dg.message, "/nonexistent/model.json"), "%s", dg.message);
}

/* ---- from memory ---- */

/* Reads the whole file at path into a buffer from malloc, with a 0 after
 * its end. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    cr_assert_geq(size, 0, "%s", path);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, (size_t)size, f);
    cr_assert_eq(*len, (size_t)size, "%s: short read", path);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

Test(api, json_from_memory_runs_like_from_file)
{
    size_t len;
    char *text = slurp(MNIST, &len);
    loom_model *m = NULL;
    loom_diag dg;
    loom_status st = loom_model_load_memory(text, len, LOOM_FORMAT_JSON,
                                            LOOM_SOURCE_DIR "/examples/mnist_cnn", NULL, &m, &dg);
    free(text); /* the model keeps a copy */
    cr_assert_eq(st, LOOM_STATUS_OK, "%s", dg.message);
    loom_compiled *c = NULL;
    cr_assert_eq(loom_compile(m, NULL, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_model_free(m);
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    loom_workspace *w = NULL;
    cr_assert_eq(loom_workspace_new(c, &w, NULL), LOOM_STATUS_OK);
    run_and_check(c, w, &in, &ref);
    loom_workspace_free(w);
    loom_compiled_free(c);
    fe_npy_free(&in);
    fe_npy_free(&ref);
}

Test(api, memory_misuse_and_bad_text)
{
    loom_model *m = NULL;
    loom_diag dg;
    loom_status st;
    cr_assert_eq(loom_model_load_memory(NULL, 4, LOOM_FORMAT_JSON, NULL, NULL, &m, &dg),
                 LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_model_load_memory("x", 1, (loom_format)9, NULL, NULL, &m, &dg),
                 LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_model_load_memory("x", 0, LOOM_FORMAT_ONNX, NULL, NULL, &m, &dg),
                 LOOM_STATUS_INVALID_ARG);
    const char *bad_json = "{\"format\": 3", *bad_lir = "graph @g(";
    st = loom_model_load_memory(bad_json, strlen(bad_json), LOOM_FORMAT_JSON, NULL, NULL, &m, &dg);
    cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL);
    cr_assert(strncmp(dg.file, "<memory>:1:", 11) == 0, "file:line:col, got %s", dg.file);
    st = loom_model_load_memory(bad_lir, strlen(bad_lir), LOOM_FORMAT_LIR, NULL, NULL, &m, &dg);
    cr_assert_eq(st, LOOM_STATUS_INVALID_MODEL);
    cr_assert_null(m);
    const char *const pins[] = {"batch=2", NULL};
    loom_load_options lo = {.dims = pins};
    st = loom_model_load_memory(bad_lir, strlen(bad_lir), LOOM_FORMAT_LIR, NULL, &lo, &m, &dg);
    cr_assert_eq(st, LOOM_STATUS_INVALID_ARG, "dims apply to ONNX only: %s", dg.message);
    assert_no_leaks();
}

/* The three formats from memory: each case's file, format and options. */
#define CNN_DIR LOOM_SOURCE_DIR "/tests/models/cnn_ts"
#define ADD_LIR LOOM_SOURCE_DIR "/tests/lit/Inputs/cli/add_const.lir"
static const char *const cnn_pins[] = {"batch=2", NULL};
typedef struct mem_case {
    const char *path, *base_dir;
    loom_format format;
    loom_load_options opts;
} mem_case;
static const mem_case mem_cases[] = {
    {CNN_DIR "/model.onnx", CNN_DIR, LOOM_FORMAT_ONNX, {.dims = cnn_pins}},
    {MNIST, LOOM_SOURCE_DIR "/examples/mnist_cnn", LOOM_FORMAT_JSON, {0}},
    {ADD_LIR, NULL, LOOM_FORMAT_LIR, {0}},
};

/* Loads case k from memory (len bytes of its file, or all when len is 0). */
static loom_status load_case(int k, size_t len, loom_model **m, loom_diag *dg)
{
    size_t all;
    char *buf = slurp(mem_cases[k].path, &all);
    loom_status st = loom_model_load_memory(buf, len ? len : all, mem_cases[k].format,
                                            mem_cases[k].base_dir, &mem_cases[k].opts, m, dg);
    free(buf);
    return st;
}

/* Runs the interpreter on m with every input filled with 0.25 * its index;
 * returns output 0 (malloc'd) and its byte size. */
static void *run_interp(const loom_model *m, size_t *bytes)
{
    loom_compiled *c = NULL;
    loom_diag dg;
    cr_assert_eq(loom_compile(m, NULL, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    int ni = loom_num_inputs(c);
    const void *ins[8] = {0};
    cr_assert(ni <= 8 && loom_num_outputs(c) == 1);
    for (int i = 0; i < ni; i++) {
        loom_tensor_info ti;
        cr_assert_eq(loom_input_info(c, i, &ti, &dg), LOOM_STATUS_OK);
        float *p = malloc(ti.bytes);
        for (size_t k = 0; k < ti.bytes / sizeof *p; k++)
            p[k] = 0.25f * (float)(k % 7);
        ins[i] = p;
    }
    loom_tensor_info to;
    cr_assert_eq(loom_output_info(c, 0, &to, &dg), LOOM_STATUS_OK);
    void *out = malloc(to.bytes);
    loom_workspace *w = NULL;
    cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK);
    cr_assert_eq(loom_run(c, w, ins, ni, (void *[]){out}, 1, &dg), LOOM_STATUS_OK, "%s",
                 dg.message);
    for (int i = 0; i < ni; i++)
        free((void *)ins[i]);
    loom_workspace_free(w);
    loom_compiled_free(c);
    *bytes = to.bytes;
    return out;
}

/* Valid: a model from memory computes bit for bit what the same file does. */
Test(api, every_format_from_memory_runs_like_from_file)
{
    for (int k = 0; k < 3; k++) {
        loom_model *a = NULL, *b = NULL;
        loom_diag dg;
        cr_assert_eq(load_case(k, 0, &a, &dg), LOOM_STATUS_OK, "%s: %s", mem_cases[k].path,
                     dg.message);
        cr_assert_eq(loom_model_load(mem_cases[k].path, &mem_cases[k].opts, &b, &dg),
                     LOOM_STATUS_OK, "%s", dg.message);
        size_t na, nb;
        void *ya = run_interp(a, &na), *yb = run_interp(b, &nb);
        cr_assert(na == nb && memcmp(ya, yb, na) == 0, "%s: memory and file differ",
                  mem_cases[k].path);
        free(ya);
        free(yb);
        loom_model_free(a);
        loom_model_free(b);
    }
    assert_no_leaks();
}

/* Truncated: every format cut at 1/3 and 2/3 of its length is an error
 * with a message, never a crash. */
Test(api, truncated_models_from_memory_are_errors)
{
    for (int k = 0; k < 3; k++) {
        size_t all;
        free(slurp(mem_cases[k].path, &all));
        for (int part = 1; part <= 2; part++) {
            loom_model *m = NULL;
            loom_diag dg;
            loom_status st = load_case(k, all * (size_t)part / 3, &m, &dg);
            cr_assert_neq(st, LOOM_STATUS_OK, "%s cut to %d/3 loaded", mem_cases[k].path, part);
            cr_assert_null(m);
            cr_assert(dg.message[0], "no message");
        }
    }
    assert_no_leaks();
}

/* Garbage: pseudo-random bytes (and text that is almost each format) in
 * every format are errors, never crashes. */
Test(api, garbage_from_memory_is_an_error)
{
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (int seed = 0; seed < 20; seed++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk[i] = (unsigned char)x;
        }
        for (int f = LOOM_FORMAT_JSON; f <= LOOM_FORMAT_ONNX; f++) {
            loom_model *m = NULL;
            loom_diag dg;
            loom_status st = loom_model_load_memory(junk, sizeof junk - (size_t)seed * 97,
                                                    (loom_format)f, NULL, NULL, &m, &dg);
            cr_assert_neq(st, LOOM_STATUS_OK, "garbage loaded as format %d", f);
            cr_assert_null(m);
        }
    }
    assert_no_leaks();
}

/* Fails allocation number fail_at (0-based) of the ones counted since the
 * counter was reset; the others go to malloc. */
static _Atomic long alloc_count, fail_at;
static void *failing_malloc(size_t n) { return alloc_count++ == fail_at ? NULL : malloc(n); }
static void *failing_realloc(void *p, size_t n)
{
    return alloc_count++ == fail_at ? NULL : realloc(p, n);
}

/* Every allocation failing in turn: loading each format from memory fails
 * cleanly (an error status, no model, no leak) until none fails. */
Test(api, every_allocation_failing_in_turn_while_loading_from_memory)
{
    loom_allocator a = {failing_malloc, failing_realloc, free};
    for (int k = 0; k < 3; k++) {
        size_t all;
        char *buf = slurp(mem_cases[k].path, &all);
        loom_set_allocator(&a);
        long n = 0;
        for (;; n++) {
            alloc_count = 0;
            fail_at = n;
            loom_model *m = NULL;
            loom_diag dg;
            loom_status st = loom_model_load_memory(buf, all, mem_cases[k].format,
                                                    mem_cases[k].base_dir, &mem_cases[k].opts,
                                                    &m, &dg);
            if (st == LOOM_STATUS_OK && alloc_count <= n) {
                loom_model_free(m);
                break; /* no allocation left to fail */
            }
            if (st == LOOM_STATUS_OK) {
                loom_model_free(m); /* a failure the reader recovered from */
                continue;
            }
            cr_assert_null(m);
            cr_assert(dg.message[0], "%s: allocation %ld: no message", mem_cases[k].path, n);
            cr_assert(n < 200000, "no end to the allocations");
        }
        loom_set_allocator(NULL);
        cr_log_info("%s: %ld allocations, each failed in turn", mem_cases[k].path, n);
        free(buf);
    }
    assert_no_leaks();
}

/* ---- misuse ---- */

Test(api, misuse_gives_errors)
{
    loom_diag dg;
    loom_model *m = NULL;
    cr_assert_eq(loom_model_load(NULL, NULL, &m, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "loom_model_load"), "%s", dg.message);
    cr_assert_eq(loom_model_load(MNIST, NULL, NULL, NULL), LOOM_STATUS_INVALID_ARG);
    loom_load_options lo = {.n_consts = 2, .consts = NULL};
    cr_assert_eq(loom_model_load(MNIST, &lo, &m, NULL), LOOM_STATUS_INVALID_ARG);
    cr_assert_null(m);
    loom_compiled *c = NULL;
    cr_assert_eq(loom_compile(NULL, NULL, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_model_load(MNIST, NULL, &m, NULL), LOOM_STATUS_OK);
    cr_assert_eq(loom_compile(m, NULL, NULL, NULL), LOOM_STATUS_INVALID_ARG);
    loom_compile_options o = {.backend = (loom_backend)7};
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    o = (loom_compile_options){.opt_level = 9};
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "opt_level"), "%s", dg.message);
    /* run before compile: no compiled model, no workspace */
    loom_workspace *w = NULL;
    cr_assert_eq(loom_workspace_new(NULL, &w, &dg), LOOM_STATUS_INVALID_ARG);
    float buf[28 * 28] = {0}, probs[10];
    const void *ins[1] = {buf};
    void *outs[1] = {probs};
    cr_assert_eq(loom_run(NULL, NULL, ins, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "compile before running"), "%s", dg.message);
    cr_assert_eq(loom_compile(m, NULL, &c, NULL), LOOM_STATUS_OK);
    loom_compiled *c2 = NULL;
    cr_assert_eq(loom_compile(m, NULL, &c2, NULL), LOOM_STATUS_OK);
    cr_assert_eq(loom_workspace_new(c, &w, NULL), LOOM_STATUS_OK);
    cr_assert_eq(loom_run(c, NULL, ins, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_run(c2, w, ins, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG,
                 "a workspace of another compiled model");
    cr_assert_eq(loom_run(c, w, ins, 2, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_run(c, w, ins, 1, outs, 0, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_run(c, w, NULL, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
    const void *null_in[1] = {NULL};
    cr_assert_eq(loom_run(c, w, null_in, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
    loom_tensor_info ti;
    cr_assert_eq(loom_input_info(c, 1, &ti, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_output_info(c, -1, &ti, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_input_info(NULL, 0, &ti, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_input_info(c, 0, NULL, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_num_inputs(NULL), 0);
    cr_assert_eq(loom_workspace_size(NULL), 0);
    cr_assert_eq(loom_run(c, w, ins, 1, outs, 1, &dg), LOOM_STATUS_OK, "%s", dg.message);
    cr_assert_eq(dg.code, LOOM_STATUS_OK);
    loom_workspace_free(w);
    loom_compiled_free(c2);
    loom_compiled_free(c);
    loom_model_free(m);
    loom_workspace_free(NULL);
    loom_compiled_free(NULL);
    loom_model_free(NULL);
    assert_no_leaks();
}

/* Each backend's compiled model refuses bad runs before its code runs
 * (a NULL output pointer reaching the JIT's code would crash), and runs
 * normally afterwards on the same workspace. */
Test(api, run_misuse_on_every_backend)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    loom_compiled *other = compile_mnist(LOOM_BACKEND_INTERP);
    loom_workspace *other_w = NULL;
    cr_assert_eq(loom_workspace_new(other, &other_w, NULL), LOOM_STATUS_OK);
    for (int b = LOOM_BACKEND_INTERP; b <= LOOM_BACKEND_JIT; b++) {
        loom_compiled *c = compile_mnist((loom_backend)b);
        loom_workspace *w = NULL;
        loom_diag dg;
        cr_assert_eq(loom_workspace_new(c, NULL, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK, "%s", dg.message);
        float probs[10];
        const void *ins[1] = {in.data}, *no_in[1] = {NULL};
        void *outs[1] = {probs}, *no_out[1] = {NULL};
        cr_assert_eq(loom_run(c, NULL, ins, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_run(c, other_w, ins, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert(strstr(dg.message, "another compiled model"), "%s", dg.message);
        cr_assert_eq(loom_run(c, w, ins, 0, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_run(c, w, ins, 1, outs, 2, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_run(c, w, no_in, 1, outs, 1, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_run(c, w, ins, 1, no_out, 1, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert(strstr(dg.message, "output pointer is NULL"), "%s", dg.message);
        cr_assert_eq(loom_run(c, w, ins, 1, NULL, 1, &dg), LOOM_STATUS_INVALID_ARG);
        loom_tensor_info ti;
        cr_assert_eq(loom_output_info(c, 1, &ti, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_output_info(c, 0, NULL, &dg), LOOM_STATUS_INVALID_ARG);
        cr_assert_eq(loom_compiled_times(c, NULL, &dg), LOOM_STATUS_INVALID_ARG);
        run_and_check(c, w, &in, &ref);
        loom_workspace_free(w);
        loom_compiled_free(c);
    }
    loom_workspace_free(other_w);
    loom_compiled_free(other);
    fe_npy_free(&in);
    fe_npy_free(&ref);
    assert_no_leaks();
}

/* ---- options, times, data errors ---- */

Test(api, compile_options_are_checked_and_times_reported)
{
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load(MNIST, NULL, &m, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_compiled *c = NULL;
    loom_compile_options o = loom_compile_options_default();
    o.backend = LOOM_BACKEND_JIT;
    o.standalone = 1;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "C backend"), "%s", dg.message);
    o.standalone = 0;
    o.backend = LOOM_BACKEND_C;
    o.inline_runtime = 1; /* the one-file form is a standalone build's */
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "inline_runtime applies to standalone"), "%s", dg.message);
    o.inline_runtime = 0;
    o.no_cache = 1;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "JIT"), "%s", dg.message);
    o.backend = LOOM_BACKEND_JIT; /* no_cache stays: LLVM runs whatever the user's cache holds */
    o.weights = (loom_weights)9;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    o.weights = LOOM_WEIGHTS_AUTO;
    const char *const bad[] = {"no-such-pass", NULL}, *const good[] = {"canonicalize", NULL};
    o.disabled_passes = bad;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "no-such-pass"), "%s", dg.message);
    cr_assert_null(c);
    o.disabled_passes = good;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_times t;
    cr_assert_eq(loom_compiled_times(NULL, &t, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_compiled_times(c, NULL, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_compiled_times(c, &t, &dg), LOOM_STATUS_OK);
    cr_log_info("mnist jit: load %.1f, passes %.1f, lowering %.1f, LLVM IR %.1f, opt %.1f, "
                "codegen %.1f ms", t.load_ms, t.passes_ms, t.lower_ms, t.irgen_ms, t.opt_ms,
                t.codegen_ms);
    cr_assert(t.load_ms > 0 && t.lower_ms > 0 && t.opt_ms > 0 && t.codegen_ms > 0);
    cr_assert_eq(t.cache, LOOM_CACHE_OFF);
    loom_compiled_free(c);
    loom_model_free(m);
    assert_no_leaks();
}

/* x[:, idx] with idx a graph input: an index out of range is a data error. */
static const char gather_lir[] = "graph @gather(%x: f32[2,3], %idx: i64[3]) {\n"
                                 "  %g = Gather(%x, %idx) {axis = 1}\n"
                                 "  return %g\n"
                                 "}\n";

/* Every backend fails a run on an out-of-range index with the node and op
 * in the diagnostic, and runs again on good indices afterwards. */
Test(api, data_errors_name_the_node_on_every_backend)
{
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load_memory(gather_lir, strlen(gather_lir), LOOM_FORMAT_LIR, NULL,
                                        NULL, &m, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t bad[3] = {0, 7, 1}, good[3] = {2, 0, -1};
    const float want[6] = {3, 1, 3, 6, 4, 6};
    for (int b = LOOM_BACKEND_INTERP; b <= LOOM_BACKEND_JIT; b++) {
        loom_compile_options o = loom_compile_options_default();
        o.backend = (loom_backend)b;
        loom_compiled *c = NULL;
        loom_workspace *w = NULL;
        cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
        cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK);
        float y[6] = {0};
        loom_status st = loom_run(c, w, (const void *[]){x, bad}, 2, (void *[]){y}, 1, &dg);
        cr_assert_neq(st, LOOM_STATUS_OK, "backend %d accepted index 7", b);
        cr_assert_str_eq(dg.node, "g", "backend %d: %s", b, dg.message);
        cr_assert_str_eq(dg.op, "Gather", "backend %d: %s", b, dg.message);
        st = loom_run(c, w, (const void *[]){x, good}, 2, (void *[]){y}, 1, &dg);
        cr_assert_eq(st, LOOM_STATUS_OK, "backend %d: %s", b, dg.message);
        cr_assert(!memcmp(y, want, sizeof y), "backend %d: wrong values", b);
        loom_workspace_free(w);
        loom_compiled_free(c);
    }
    loom_model_free(m);
    assert_no_leaks();
}

/* ---- the allocation hook ---- */

static _Atomic long hook_calls;
static void *count_malloc(size_t n) { hook_calls++; return malloc(n); }
static void *count_realloc(void *p, size_t n) { hook_calls++; return realloc(p, n); }

Test(api, allocator_hook_sees_every_load)
{
    loom_allocator a = {count_malloc, count_realloc, free};
    loom_set_allocator(&a);
    loom_compiled *c = compile_mnist(LOOM_BACKEND_INTERP);
    loom_compiled_free(c);
    loom_set_allocator(NULL);
    cr_assert_gt(hook_calls, 0);
}

/* ---- 100 cycles: no leaks, flat memory ---- */

/* Resident set size in KiB, from /proc/self/statm. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = 0;
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%ld %ld", &size, &rss), 2);
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* 100 load/compile/run/free cycles with backend b: RSS after 100 within
 * 4 MiB of RSS after 10 (outside ASan), no leak (LeakSanitizer). */
static void hundred_cycles(loom_backend b)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    long after10 = 0;
    for (int i = 0; i < 100; i++) {
        loom_compiled *c = compile_mnist(b);
        loom_workspace *w = NULL;
        cr_assert_eq(loom_workspace_new(c, &w, NULL), LOOM_STATUS_OK);
        run_and_check(c, w, &in, &ref);
        loom_workspace_free(w);
        loom_compiled_free(c);
        if (i == 9)
            after10 = rss_kib();
    }
    long after100 = rss_kib();
    cr_log_info("backend %d: RSS after 10 cycles: %ld KiB, after 100: %ld KiB", (int)b, after10,
                after100);
#ifndef LOOM_TEST_SANITIZE
    /* a leak of one graph per cycle would be ~0.5 MiB * 90 (the weights).
     * Under ASan freed memory sits in its quarantine, so RSS grows there
     * by design; that build checks with LeakSanitizer instead. */
    cr_assert_leq(after100 - after10, 4096, "RSS grew from %ld to %ld KiB over 90 cycles",
                  after10, after100);
#else
    (void)after10;
    (void)after100;
#endif
    fe_npy_free(&in);
    fe_npy_free(&ref);
    assert_no_leaks();
}

Test(api, hundred_cycles_flat_memory) { hundred_cycles(LOOM_BACKEND_INTERP); }
#ifndef LOOM_TEST_SANITIZE
/* about 9 s of CPU (mnist's JIT compilation, 100 times); the sanitizer
 * build runs the JIT's 100 cycles on the small model below instead */
Test(api, hundred_jit_cycles_flat_memory, .timeout = 600) { hundred_cycles(LOOM_BACKEND_JIT); }
#endif

/* A small model whose JIT compilation takes a few tens of milliseconds:
 * a constant, a kernel call (MatMul: sgemm), fast exp and tanh. */
static const char cycle_lir[] =
    "graph @cycle(%x: f32[2,4]) {\n"
    "  %w: f32[4,3] = const [0.5, -1.0, 0.25, 2.0, 0.75, -0.5, -1.5, 1.0, 0.125, 0.0, -0.25, "
    "1.5]\n"
    "  %m = MatMul(%x, %w)\n"
    "  %s = Sigmoid(%m)\n"
    "  %t = Tanh(%m)\n"
    "  %y = Mul(%s, %t)\n"
    "  return %y\n"
    "}\n";

/* Loads cycle_lir from memory, compiles it with b and runs it on x. */
static void run_cycle_model(loom_backend b, const float *x, float *y)
{
    loom_model *m = NULL;
    loom_compiled *c = NULL;
    loom_workspace *w = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load_memory(cycle_lir, sizeof cycle_lir - 1, LOOM_FORMAT_LIR, NULL,
                                        NULL, &m, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    o.backend = b;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_model_free(m);
    cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK, "%s", dg.message);
    cr_assert_eq(loom_run(c, w, (const void *[]){x}, 1, (void *[]){y}, 1, &dg), LOOM_STATUS_OK,
                 "%s", dg.message);
    loom_workspace_free(w);
    loom_compiled_free(c);
}

/* 100 load-from-memory/compile/run/free cycles through the JIT, each
 * output against the interpreter's; RSS flat (outside ASan), no leak
 * (LeakSanitizer). Runs in a few seconds in both builds. */
Test(api, hundred_small_jit_cycles_flat_memory)
{
    const float x[8] = {-0.75f, -0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f, 1.0f};
    float want[6], got[6];
    run_cycle_model(LOOM_BACKEND_INTERP, x, want);
    long after10 = 0;
    for (int i = 0; i < 100; i++) {
        memset(got, 0, sizeof got);
        run_cycle_model(LOOM_BACKEND_JIT, x, got);
        for (int k = 0; k < 6; k++)
            cr_assert_leq(fabsf(got[k] - want[k]), 1e-6f + 1e-5f * fabsf(want[k]),
                          "cycle %d: y[%d] %g vs the interpreter's %g", i, k, got[k], want[k]);
        if (i == 9)
            after10 = rss_kib();
    }
    long after100 = rss_kib();
    cr_log_info("small jit: RSS after 10 cycles: %ld KiB, after 100: %ld KiB", after10, after100);
#ifndef LOOM_TEST_SANITIZE
    cr_assert_leq(after100 - after10, 4096, "RSS grew from %ld to %ld KiB over 90 cycles",
                  after10, after100);
#endif
    assert_no_leaks();
}

/* ---- emitting files ---- */

#define EMIT_DIR LOOM_TEST_TMP "/api_emit"

/* A driver for the emitted model: reads the image (raw f32) from argv[1],
 * runs mn_run_v with a workspace of argv[3] bytes, writes probs to argv[2]. */
static const char emit_driver[] =
    "#include <stdio.h>\n#include <stdlib.h>\n"
    "int mn_run_v(const void *const *in, void *const *out, void *ws);\n"
    "int main(int argc, char **argv) {\n"
    "    static float x[28 * 28], y[10];\n"
    "    FILE *f = fopen(argv[1], \"rb\");\n"
    "    if (argc != 4 || !f || fread(x, 4, 28 * 28, f) != 28 * 28) return 3;\n"
    "    fclose(f);\n"
    "    void *ws = aligned_alloc(64, ((size_t)atol(argv[3]) + 64) / 64 * 64);\n"
    "    const void *in[1] = {x}; void *out[1] = {y};\n"
    "    if (mn_run_v(in, out, ws)) return 4;\n"
    "    f = fopen(argv[2], \"wb\");\n"
    "    if (!f || fwrite(y, 4, 10, f) != 10) return 5;\n"
    "    return fclose(f) != 0;\n"
    "}\n";

/* Builds the driver with objs (and the runtime emitted beside them), runs
 * it on the example's image and checks probs against onnxruntime's. */
static void build_and_check(const char *objs, size_t workspace)
{
    fe_npy in = read_npy(MNIST_DIR "input_image.npy");
    fe_npy ref = read_npy(MNIST_DIR "expected_probs.npy");
    tl_write_bytes(EMIT_DIR "/driver.c", emit_driver, sizeof emit_driver - 1);
    tl_write_bytes(EMIT_DIR "/image.bin", in.data, 28 * 28 * 4);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd " EMIT_DIR " && cc -std=c11 -O1 -o app driver.c %s loomrt_*.c -lm -lpthread && "
             "./app image.bin probs.bin %zu", objs, workspace);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    size_t len;
    float *probs = (float *)slurp(EMIT_DIR "/probs.bin", &len);
    cr_assert_eq(len, 10 * sizeof(float));
    const float *r = ref.data;
    for (int i = 0; i < 10; i++)
        cr_assert_leq(fabsf(probs[i] - r[i]), 1e-5f + 1e-4f * fabsf(r[i]), "probs[%d] %g vs %g",
                      i, probs[i], r[i]);
    free(probs);
    fe_npy_free(&in);
    fe_npy_free(&ref);
}

/* The C files and the object file, each linked into a program with the
 * portable runtime, classify the example as onnxruntime does; the text
 * kinds hold what they should. */
Test(api, emit_every_kind_builds_and_runs, .timeout = 300)
{
    cr_assert_eq(system("rm -rf " EMIT_DIR " && mkdir -p " EMIT_DIR), 0);
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load(MNIST, NULL, &m, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    loom_emit_info info = {0};
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_C, EMIT_DIR "/mn.c", "mn", &info, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    cr_assert_gt(info.workspace_bytes, 0);
    cr_assert_geq(info.workspace_bytes, info.workspace_lower_bound);
    build_and_check("mn.c", info.workspace_bytes);

    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_OBJ, EMIT_DIR "/mn.o", "mn", &info, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    build_and_check("mn.o", info.workspace_bytes);

    static const struct { loom_emit_kind kind; const char *file, *holds; } text[] = {
        {LOOM_EMIT_LOOPS, "mn.loops", "for "},
        {LOOM_EMIT_LIR, "mn.lir", "graph "},
        {LOOM_EMIT_LLVM, "mn.ll", "define "},
    };
    for (int k = 0; k < 3; k++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", EMIT_DIR, text[k].file);
        cr_assert_eq(loom_emit(m, &o, text[k].kind, path, "mn", NULL, &dg), LOOM_STATUS_OK,
                     "%s", dg.message);
        char *buf = slurp(path, &len);
        cr_assert(strstr(buf, text[k].holds), "%s lacks \"%s\"", path, text[k].holds);
        free(buf);
    }
    loom_model_free(m);
    assert_no_leaks();
}

/* Misuse and unwritable paths are errors that name the reason and leave no
 * file behind. */
Test(api, emit_errors)
{
    cr_assert_eq(system("rm -rf " EMIT_DIR "_err && mkdir -p " EMIT_DIR "_err"), 0);
    loom_model *m = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load(MNIST, NULL, &m, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    const char *p = EMIT_DIR "_err/m.c";
    cr_assert_eq(loom_emit(NULL, &o, LOOM_EMIT_C, p, NULL, NULL, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_C, NULL, NULL, NULL, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert_eq(loom_emit(m, &o, (loom_emit_kind)99, p, NULL, NULL, &dg),
                 LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "unknown emit kind"), "%s", dg.message);
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_C, EMIT_DIR "_err/m.txt", NULL, NULL, &dg),
                 LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "DIR/NAME.c"), "%s", dg.message);
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_C, p, "9bad-name", NULL, &dg),
                 LOOM_STATUS_INVALID_ARG);
    o.standalone = 1;
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_LOOPS, EMIT_DIR "_err/m.loops", NULL, NULL, &dg),
                 LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "standalone"), "%s", dg.message);
    o.inline_runtime = 1; /* the standalone .c always carries the runtime */
    cr_assert_eq(loom_emit(m, &o, LOOM_EMIT_C, p, NULL, NULL, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "inline_runtime applies to loom_compile"), "%s", dg.message);
    o = loom_compile_options_default();
    o.weights = LOOM_WEIGHTS_FILE;
    loom_compiled *c = NULL;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_INVALID_ARG);
    cr_assert(strstr(dg.message, "loom_emit"), "%s", dg.message);
    o = loom_compile_options_default();
    for (int kind = LOOM_EMIT_LOOPS; kind <= LOOM_EMIT_OBJ; kind++) {
        cr_assert_neq(loom_emit(m, &o, (loom_emit_kind)kind, EMIT_DIR "_err/no/such/dir/x",
                                NULL, NULL, &dg), LOOM_STATUS_OK, "kind %d", kind);
        cr_assert_neq(dg.message[0], '\0');
    }
    cr_assert_eq(system("test -z \"$(ls -A " EMIT_DIR "_err)\""), 0, "files were left behind");
    loom_model_free(m);
    assert_no_leaks();
}
