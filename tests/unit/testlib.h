/*
 * Small helpers for unit tests that build graphs through the IR API, run
 * shape inference and the interpreter, and compare results.
 *
 *     ir_graph *g = tl_graph("t");
 *     ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){2, 3});
 *     ir_value *w = tl_const_f32(g, "w", 1, (int64_t[]){3}, (float[]){1, 2, 3});
 *     ir_node *n = tl_node(g, IR_OP_ADD, "add", 2, (ir_value *[]){x, w}, 1, "y");
 *     tl_infer_ok(g);                        // infer + verify, fail test on error
 *     float out[6];
 *     tl_run(g, (const void *[]){in}, (void *[]){out});
 *     tl_assert_close_f32(out, expect, 6, 1e-6f, 1e-5f);
 *     ir_graph_free(g);
 *
 * Graphs made here have no OOM handler: an arena failure aborts the test.
 */
#ifndef LOOM_TESTLIB_H
#define LOOM_TESTLIB_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "interp.h"
#include "leak_check.h"
#include "ir.h"

static inline ir_graph *tl_graph(const char *name)
{
    ir_graph *g = ir_graph_new(name, "test.lir");
    cr_assert(g);
    return g; /* no OOM handler: an arena failure aborts the test */
}

static inline ir_value *tl_input(ir_graph *g, const char *name, ir_dtype t, int rank,
                                 const int64_t *dims)
{
    ir_value *v = ir_graph_add_value(g, name, t);
    cr_assert(v, "duplicate value %s", name);
    ir_value_set_shape(v, rank, dims);
    ir_graph_add_input(g, v);
    return v;
}

/* A constant of any dtype; data is copied into the arena. */
static inline ir_value *tl_const(ir_graph *g, const char *name, ir_dtype t, int rank,
                                 const int64_t *dims, const void *data)
{
    ir_value *v = ir_graph_add_value(g, name, t);
    cr_assert(v, "duplicate value %s", name);
    ir_value_set_shape(v, rank, dims);
    v->data = ir_arena_memdup(&g->arena, data, ir_value_bytes(v));
    return v;
}

static inline ir_value *tl_const_f32(ir_graph *g, const char *name, int rank, const int64_t *dims,
                                     const float *data)
{
    return tl_const(g, name, IR_DTYPE_F32, rank, dims, data);
}

static inline ir_value *tl_const_i64(ir_graph *g, const char *name, int rank, const int64_t *dims,
                                     const int64_t *data)
{
    return tl_const(g, name, IR_DTYPE_I64, rank, dims, data);
}

/* Adds a node with n_out fresh outputs named by the trailing arguments
 * ("" for an omitted optional output). The last output made is also marked
 * as a graph output when mark_outputs is used afterwards. */
static inline ir_node *tl_node(ir_graph *g, ir_op op, const char *name, int n_in,
                               ir_value *const *inputs, int n_out, ...)
{
    ir_value *outs[16] = {0};
    va_list ap;
    va_start(ap, n_out);
    for (int i = 0; i < n_out && i < 16; i++) {
        const char *oname = va_arg(ap, const char *);
        if (oname[0]) {
            outs[i] = ir_graph_add_value(g, oname, IR_DTYPE_F32);
            cr_assert(outs[i], "duplicate value %s", oname);
        }
    }
    va_end(ap);
    return ir_graph_add_node(g, op, name, inputs, n_in, outs, n_out);
}

/* Marks every node output that no node reads as a graph output. */
static inline void tl_mark_outputs(ir_graph *g)
{
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k]->n_outputs; i++) {
            ir_value *v = g->nodes[k]->outputs[i];
            if (!v || v->is_output)
                continue;
            bool used = false;
            for (int m = 0; m < g->n_nodes && !used; m++)
                for (int j = 0; j < g->nodes[m]->n_inputs; j++)
                    used |= g->nodes[m]->inputs[j] == v;
            if (!used)
                ir_graph_add_output(g, v);
        }
}

/* Runs shape inference; returns the status and leaves messages in *d. */
static inline loom_status tl_infer(ir_graph *g, ir_diag *d)
{
    return ir_infer_graph(g, d);
}

/* Inference (and marking outputs) must succeed. */
static inline void tl_infer_ok(ir_graph *g)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "inference failed: %s", d.text ? d.text : "");
    if (g->n_outputs == 0)
        tl_mark_outputs(g);
    ir_diag_free(&d);
}

/* Inference must fail with a message containing substr. */
static inline void tl_infer_fails(ir_graph *g, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = ir_infer_graph(g, &d);
    cr_assert_neq(st, LOOM_STATUS_OK, "inference unexpectedly succeeded");
    cr_assert(d.text && strstr(d.text, substr), "diagnostic \"%s\" lacks \"%s\"",
              d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

static inline void tl_assert_shape(const ir_value *v, int rank, const int64_t *dims)
{
    char got[128];
    ir_shape_format(&v->shape, got, sizeof got);
    cr_assert_eq(v->shape.rank, rank, "%s: rank %d, got shape %s", v->name, rank, got);
    for (int i = 0; i < rank; i++)
        cr_assert_eq(v->shape.dims[i], dims[i], "%s: dim %d: expected %lld, got shape %s",
                     v->name, i, (long long)dims[i], got);
}

/* Runs the interpreter; must succeed. */
static inline void tl_run(const ir_graph *g, const void *const *inputs, void *const *outputs)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = interp_run(g, inputs, outputs, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "interpreter failed: %s", d.text ? d.text : "");
    ir_diag_free(&d);
}

/* |got - want| <= atol + rtol * |want| elementwise (NaN equal to NaN). */
static inline void tl_assert_close_f32(const float *got, const float *want, int64_t n, float atol,
                                       float rtol)
{
    for (int64_t i = 0; i < n; i++) {
        if (isnan(want[i]) && isnan(got[i]))
            continue;
        float tol = atol + rtol * fabsf(want[i]);
        cr_assert(fabsf(got[i] - want[i]) <= tol || got[i] == want[i],
                  "element %lld: got %.9g, want %.9g", (long long)i, got[i], want[i]);
    }
}


/* ---- checking the C backend against the interpreter ---- */

#include <stdlib.h>
#include <unistd.h>

#include "be_c.h"
#include "be_cc.h"
#include "be_llvm.h"
#include "interp_internal.h"
#include "be.h"
#include "fe.h"
#include "loom_api_internal.h"
#include "lower.h"
#include "passes.h"

/* Deterministic pseudo-random fill in [-1, 1) for floats, small values for
 * integers, 0/1 for bool. */
static inline void tl_fill(void *data, ir_dtype t, int64_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        double v = (double)(x >> 8) / (double)(1u << 24) * 2.0 - 1.0;
        if (t == IR_DTYPE_F32)
            ((float *)data)[i] = (float)v;
        else if (t == IR_DTYPE_F64)
            ((double *)data)[i] = v;
        else if (t == IR_DTYPE_BOOL)
            ((uint8_t *)data)[i] = v > 0;
        else
            interp_store_i(data, t, i, (int64_t)(v * 4));
    }
}

/* The libloom options of a test build: in the sanitizer build the emitted
 * C is built with ASan+UBSan too. */
static inline loom_compile_options tl_options(loom_backend b, bool standalone)
{
    loom_compile_options o = loom_compile_options_default();
    o.backend = b;
    o.standalone = standalone;
#ifdef LOOM_TEST_SANITIZE
    o.sanitize = b == LOOM_BACKEND_C;
#endif
    return o;
}

/* Compiles g through libloom (loom_compile_graph) with o and runs it once
 * on in -> out; returns loom_run's status with its message in *diag. */
static inline loom_status tl_api_run(ir_graph *g, const loom_compile_options *o,
                                     const void *const *in, void *const *out, loom_diag *diag)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_compiled *c = NULL;
    loom_workspace *w = NULL;
    loom_status st = loom_compile_graph(g, o, &c, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "compile (backend %d, standalone %d) failed: %s",
                 (int)o->backend, o->standalone, d.text ? d.text : "");
    cr_assert_eq(loom_workspace_new(c, &w, diag), LOOM_STATUS_OK, "%s", diag->message);
    st = loom_run(c, w, in, g->n_inputs, out, g->n_outputs, diag);
    loom_workspace_free(w);
    loom_compiled_free(c);
    ir_diag_free(&d);
    return st;
}

/* Data errors agree between the engines: on inputs, the interpreter fails
 * with a diagnostic naming node, and the standalone C build of g (lowered
 * checked) and the JIT fail with the same error code (want_status) and
 * name node too. */
static inline void tl_check_data_error(ir_graph *g, const void *const *inputs, int want_status,
                                       const char *node)
{
    void *out[64] = {0};
    cr_assert(g->n_outputs < 64);
    for (int i = 0; i < g->n_outputs; i++)
        out[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
    ir_diag d;
    ir_diag_init(&d);
    char want[256], code[64];
    snprintf(want, sizeof want, "node \"%s\"", node);
    snprintf(code, sizeof code, "(compiled code, error %d)", want_status);
    cr_assert_neq(interp_run(g, inputs, out, &d), LOOM_STATUS_OK, "the interpreter accepted it");
    cr_assert(d.text && strstr(d.text, want), "interpreter: %s", d.text ? d.text : "");
    ir_diag_free(&d);
    static const loom_backend backends[] = {LOOM_BACKEND_C, LOOM_BACKEND_JIT};
    for (int b = 0; b < 2; b++) {
        loom_compile_options o = tl_options(backends[b], true);
        o.standalone = backends[b] == LOOM_BACKEND_C;
        loom_diag diag;
        cr_assert_neq(tl_api_run(g, &o, inputs, out, &diag), LOOM_STATUS_OK,
                      "backend %d accepted it", (int)backends[b]);
        cr_assert(strstr(diag.message, want) && strstr(diag.message, code),
                  "backend %d: %s", (int)backends[b], diag.message);
        cr_assert_str_eq(diag.node, node);
    }
    for (int i = 0; i < g->n_outputs; i++)
        free(out[i]);
}

/* The backends every lowering test runs: the C backend's OpenBLAS build,
 * its standalone build, and the LLVM JIT. */
typedef enum tl_backend { TL_BACKEND_C, TL_BACKEND_C_STANDALONE, TL_BACKEND_JIT, TL_BACKEND_COUNT } tl_backend;

static const char *const tl_backend_names[TL_BACKEND_COUNT] = {"openblas", "standalone", "jit"};

/* Compiles the planned loop function f (hand-built by a backend test, no
 * graph behind it) with backend b and runs it once: in -> got. Graphs go
 * through libloom (tl_check_c). */
static inline void tl_backend_run(tl_backend b, const loop_func *f, const void *const *in,
                                  void *const *got)
{
    ir_diag d;
    ir_diag_init(&d);
    void *ws = f->workspace_bytes ? aligned_alloc(64, (size_t)(f->workspace_bytes + 63) / 64 * 64)
                                  : NULL;
    if (b == TL_BACKEND_JIT) {
        be_llvm_module *m = NULL;
        loom_status st = be_llvm_jit(f, NULL, &m, &d);
        cr_assert_eq(st, LOOM_STATUS_OK, "jit failed: %s", d.text ? d.text : "");
        cr_assert_eq(be_llvm_entry(m)(in, got, ws), 0);
        be_llvm_free(m);
    } else {
        bool standalone = b == TL_BACKEND_C_STANDALONE;
        char dir[] = "/tmp/loom-test-XXXXXX";
        cr_assert(mkdtemp(dir));
        /* the portable runtime as cached objects: the one-file standalone
         * form is built by tests/emit and e2e_examples_c */
        be_c_opts copts = {0};
        loom_status st = be_c_emit(f, &copts, dir, "m", &d);
        cr_assert_eq(st, LOOM_STATUS_OK, "emit failed: %s", d.text ? d.text : "");
        cr_assert_eq(be_c_write_runtime(dir, &d), LOOM_STATUS_OK);
        be_cc_module m = {0};
        be_cc_opts ccopts = {.standalone = standalone};
#ifdef LOOM_TEST_SANITIZE
        ccopts.sanitize = true; /* the emitted code runs under ASan+UBSan too */
#endif
        st = be_cc_build(dir, "m", "m", &ccopts, &m, &d);
        cr_assert_eq(st, LOOM_STATUS_OK, "cc failed: %s (in %s)", d.text ? d.text : "", dir);
        cr_assert_eq(m.run(in, got, ws), 0);
        be_cc_unload(&m);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
    }
    free(ws);
    ir_diag_free(&d);
}

/* Compiles g (inferred, outputs marked) with every backend (tl_backend)
 * through libloom for `threads` threads (loom_compile_options.threads),
 * runs it on inputs (or random inputs when inputs is NULL) and compares
 * every output with the interpreter: |got - interp| <= atol + rtol *
 * |interp|, the same tolerance for each backend. g is changed by the
 * pipeline (constants folded). */
static inline void tl_check_c_threads(ir_graph *g, const void *const *inputs, float atol,
                                      float rtol, int threads)
{
    int ni = g->n_inputs, no = g->n_outputs;
    const void *in[64] = {0};
    void *want[64] = {0}, *got[64] = {0};
    cr_assert(ni < 64 && no < 64);
    for (int i = 0; i < ni; i++) {
        if (inputs) {
            in[i] = inputs[i];
        } else {
            void *p = calloc(1, ir_value_bytes(g->inputs[i]) + 1);
            tl_fill(p, g->inputs[i]->dtype, ir_shape_numel(&g->inputs[i]->shape), (uint32_t)i + 1);
            in[i] = p;
        }
    }
    for (int i = 0; i < no; i++) {
        want[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
        got[i] = calloc(1, ir_value_bytes(g->outputs[i]) + 1);
    }
    tl_run(g, in, want);
    static const loom_backend backends[TL_BACKEND_COUNT] = {LOOM_BACKEND_C, LOOM_BACKEND_C,
                                                            LOOM_BACKEND_JIT};
    for (int b = 0; b < TL_BACKEND_COUNT; b++) {
        for (int i = 0; i < no; i++)
            memset(got[i], 0, ir_value_bytes(g->outputs[i]) + 1);
        loom_compile_options o = tl_options(backends[b], b == TL_BACKEND_C_STANDALONE);
        o.threads = threads;
        loom_diag diag;
        cr_assert_eq(tl_api_run(g, &o, in, got, &diag), LOOM_STATUS_OK, "%s: %s",
                     tl_backend_names[b], diag.message);
        for (int i = 0; i < no; i++) {
            const ir_value *v = g->outputs[i];
            int64_t n = ir_shape_numel(&v->shape);
            for (int64_t k = 0; k < n; k++) {
                double a = interp_load_f(got[i], v->dtype, k), w = interp_load_f(want[i], v->dtype, k);
                if (isnan(a) && isnan(w))
                    continue;
                cr_assert(a == w || fabs(a - w) <= atol + rtol * fabs(w),
                          "%s output \"%s\"[%lld]: got %.9g, interpreter %.9g",
                          tl_backend_names[b], v->name, (long long)k, a, w);
            }
        }
    }
    for (int i = 0; i < ni; i++)
        if (!inputs)
            free((void *)in[i]);
    for (int i = 0; i < no; i++) {
        free(want[i]);
        free(got[i]);
    }
}

/* tl_check_c_threads with the default options' thread count (0: one). */
static inline void tl_check_c(ir_graph *g, const void *const *inputs, float atol, float rtol)
{
    tl_check_c_threads(g, inputs, atol, rtol, 0);
}

/* ---- lowering ---- */

/* Lowers g (inferred) without folding and verifies the loop function;
 * fails the test on any error. The caller frees the result. */
static inline loop_func *tl_lower_ok(const ir_graph *g)
{
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    loom_status st = lower_graph(g, "m", &f, &d);
    if (!st)
        st = loop_verify(f, &d);
    cr_assert_eq(st, LOOM_STATUS_OK, "lowering failed: %s", d.text ? d.text : "");
    ir_diag_free(&d);
    return f;
}

/* The step lowered from the node named node_name; fails the test if none. */
static inline const loop_step *tl_find_step(const loop_func *f, const char *node_name)
{
    for (int i = 0; i < f->n_steps; i++)
        if (strcmp(f->steps[i]->node_name, node_name) == 0)
            return f->steps[i];
    cr_assert_fail("no step for node %s", node_name);
    return NULL;
}

/* The buffer holding the graph value named name; fails the test if none. */
static inline const loop_buf *tl_find_buf(const loop_func *f, const char *name)
{
    for (int i = 0; i < f->n_bufs; i++)
        if (f->bufs[i]->tensor && strcmp(f->bufs[i]->tensor, name) == 0)
            return f->bufs[i];
    cr_assert_fail("no buffer for value %s", name);
    return NULL;
}

/* ---- files ---- */

/* LOOM_TEST_TMP/<prefix><name>, in one of four rotating buffers (so a call
 * can take two or three paths at once). */
static inline const char *tl_tmp_path(const char *prefix, const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 512, "%s/%s%s", LOOM_TEST_TMP, prefix, name);
    return p;
}

static inline void tl_write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot create %s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Loads the model at path with its k-th allocation failing, for k = 0, 1,
 * ... until the load gets past its last allocation: every failure must be
 * LOOM_STATUS_NOMEM with no graph and no leak, and the first load that
 * completes must return want. */
static inline void tl_load_alloc_sweep(const char *path, loom_status want)
{
    bool done = false;
    long nomem = 0;
    for (long k = 0; !done && k < 100000; k++) {
        ir_diag d;
        ir_diag_init(&d);
        ir_graph *g = NULL;
        ir_alloc_fail_after(k);
        loom_status st = fe_load_model(path, NULL, &g, &d);
        ir_alloc_fail_after(-1);
        if (st == LOOM_STATUS_NOMEM) {
            cr_assert_null(g);
            nomem++;
        } else {
            done = true; /* k is past the loader's last allocation */
            cr_assert_eq(st, want, "%s at k=%ld: %s", path, k, d.text ? d.text : "");
        }
        ir_graph_free(g);
        ir_diag_free(&d);
    }
    cr_assert(done);
    cr_assert_gt(nomem, 0, "%s: no allocation failure was injected", path);
}

#endif
