/*
 * ONNX backend conformance runner. Loads every test of Debian's
 * libonnx-testdata (every suite folder found under the data folder: node,
 * pytorch-converted, pytorch-operator, simple, ...; DIR/<suite>/<test>/
 * model.onnx with test_data_set_N/input_I.pb and output_I.pb as
 * TensorProto) through fe_onnx_load, runs it in the reference interpreter
 * and compares with the expected outputs. Output buffers are filled with a
 * sentinel before each run, so an output the interpreter never writes fails
 * even where the expected values are all zero.
 *
 * A test is in scope when every op of its model is one loom has (default
 * domain, in the IR op table); a model whose ops cannot be listed is in
 * scope and fails as "unreadable". Every in-scope test must be either in
 * expected_pass.txt (and pass: a failure is a regression) or in
 * known_failures.txt with the kind of failure expected and the reason
 * ("ID KIND REASON"); the run fails on an in-scope test in neither list, on
 * a known failure that fails in another way (say a crash where a rejection
 * was recorded) or passes, on a listed test that did not run, and when
 * nothing ran. Out-of-scope tests are counted and listed by missing op.
 * --update-lists rewrites both lists from the results of the run, keeping
 * the recorded reason of a known failure whose kind is unchanged (so a
 * hand-written explanation survives).
 *
 * Each test runs in a child process with a time limit, so a crash or hang in
 * one kernel is reported as that test's failure (and, in a sanitizer build,
 * a leak makes the child's exit status non-zero and fails the test).
 *
 * --backend=jit|c runs each test compiled (the pass pipeline, lowering and
 * the LLVM JIT, or the emitted C built with the system compiler) instead
 * of interpreted; each backend keeps its own lists (--lists DIR, e.g.
 * tests/onnx/jit). The C build links each test's code against the runtime
 * objects built once and cached (be_cc.c), about 0.1 s a test.
 *
 * Usage: onnx_conformance [--data DIR] [--lists DIR] [--update-lists]
 *                         [--backend=interp|jit|c] [--verbose] [--no-fork]
 *                         [-k SUBSTRING]
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fe_onnx.h"
#include "be.h"
#include "be_c.h"
#include "be_cc.h"
#include "be_llvm.h"
#include "interp.h"

#ifndef LOOM_SOURCE_DIR
#define LOOM_SOURCE_DIR "."
#endif
#define DEFAULT_DATA "/usr/share/libonnx-testdata/data"
#define DEFAULT_LISTS LOOM_SOURCE_DIR "/tests/onnx"
#define TEST_TIMEOUT_S 20
#define TEST_TIMEOUT_COMPILED_S 90 /* LLVM O3 or cc on a loaded machine */

/* How a test failed; known_failures.txt records one per test. */
typedef enum fail_kind {
    FAIL_NONE,         /* passed */
    FAIL_REJECTED,     /* loom reported an error (load, tensor read, run) */
    FAIL_SIGNATURE,    /* the model's inputs/outputs differ from the data's */
    FAIL_WRONG_OUTPUT, /* ran, but an output differs from the expected one */
    FAIL_NO_DATA,      /* no data set to run */
    FAIL_UNREADABLE,   /* the model's ops cannot be listed */
    FAIL_CRASH,        /* killed by a signal */
    FAIL_TIMEOUT,      /* over TEST_TIMEOUT_S */
    FAIL_EXIT,         /* the child exited non-zero (sanitizer report) */
    FAIL_UNSUPPORTED_OP, /* not run: the model has an op loom lacks */
    FAIL_KIND_COUNT
} fail_kind;

static const char *const fail_names[FAIL_KIND_COUNT] = {
    "pass",        "rejected", "signature", "wrong-output", "no-data",
    "unreadable",  "crash",    "timeout",   "exit-status", "unsupported-op",
};

static fail_kind fail_lookup(const char *name)
{
    for (int k = FAIL_REJECTED; k < FAIL_KIND_COUNT; k++)
        if (strcmp(fail_names[k], name) == 0)
            return (fail_kind)k;
    return FAIL_KIND_COUNT;
}

typedef struct test_case {
    char id[300];      /* "node/test_abs" */
    char dir[1024];
    char ops[512];     /* op types of the model, space-separated */
    char group[64];    /* op the test is counted under */
    bool in_scope;     /* every op is one loom has */
    bool ran;
    fail_kind kind;    /* FAIL_NONE when passed */
    char reason[512];  /* why it failed (one line) */
} test_case;

typedef struct list_entry {
    char id[300];
    fail_kind kind;    /* expected failure (known_failures.txt only) */
    char reason[512];
} list_entry;

typedef struct list {
    list_entry *e;
    int n, cap;
} list;

/* ---- tolerances ----
 * |got - want| <= atol + rtol * |want|, NaN equals NaN, infinities exact.
 * f32: the expected outputs were computed by numpy (f32, or f64 rounded to
 * f32) and loom's kernels may accumulate in another order or in double, so
 * results differ by a few ulps per op and by up to ~sqrt(n) ulps over an
 * n-term reduction: rtol 1e-4 is ~800 ulps, a 10x margin for the longest
 * reductions in the suite. atol 1e-5 covers results near zero produced by
 * cancellation (x - mean, sin(pi)), where relative error means nothing, and
 * is still far below the O(1) magnitudes the tests use (ONNX's own runner
 * uses rtol 1e-3, atol 1e-7).
 * f64: same reasoning at double precision.
 * Integers and bool: exact. */
static const struct {
    double atol, rtol;
} tolerance[IR_DTYPE_COUNT] = {
    [IR_DTYPE_F32] = {1e-5, 1e-4},
    [IR_DTYPE_F64] = {1e-12, 1e-10},
};

/* ---- small helpers ---- */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* First line of the diagnostic, with a count of the rest. */
static void diag_reason(const ir_diag *d, const char *prefix, char *out, size_t size)
{
    const char *t = d->text ? d->text : "";
    size_t n = strcspn(t, "\n");
    int more = d->n_errors > 1 ? d->n_errors - 1 : 0;
    if (more)
        snprintf(out, size, "%s%.*s [+%d more]", prefix, (int)n, t, more);
    else
        snprintf(out, size, "%s%.*s", prefix, (int)n, t);
}

/* ---- one data set ---- */

#define MAX_IO 64

/* The tensors of one test_data_set_N folder, in its scratch graph's arena. */
typedef struct data_set {
    ir_graph *scratch;
    ir_value *ins[MAX_IO], *outs[MAX_IO];
    int n_ins, n_outs;
    bool bound[MAX_IO]; /* input bound as a constant into the model */
} data_set;

static bool same_type(const ir_value *a, const ir_value *b)
{
    return a->dtype == b->dtype && ir_shape_equal(&a->shape, &b->shape);
}

/* Integer and bool inputs are what a static-shape compiler may need as
 * constants (shapes, axes, starts, training flags), and so are scalars of
 * any dtype (OneHot's depth is often f32) and short 1-D float inputs
 * (Resize's scales and roi). */
static bool bindable(const ir_value *v)
{
    bool shape_like = v->shape.rank == 1 && v->shape.dims[0] <= 2 * IR_MAX_RANK;
    return v->dtype == IR_DTYPE_I64 || v->dtype == IR_DTYPE_I32 || v->dtype == IR_DTYPE_BOOL ||
           ir_shape_numel(&v->shape) == 1 || (v->dtype == IR_DTYPE_F32 && shape_like);
}

/* Reads input_K.pb / output_K.pb (K = 0, 1, ... while present) of set. */
static bool read_set(const char *set, data_set *ds, char *reason, size_t rsize)
{
    memset(ds, 0, sizeof *ds);
    ds->scratch = ir_graph_new("data", set);
    if (!ds->scratch) {
        snprintf(reason, rsize, "out of memory");
        return false;
    }
    ir_diag d;
    ir_diag_init(&d);
    bool ok = true;
    for (int out = 0; ok && out < 2; out++)
        for (int k = 0; ok; k++) {
            char path[128];
            snprintf(path, sizeof path, "%s/%s_%d.pb", set, out ? "output" : "input", k);
            if (!file_exists(path))
                break;
            if (k == MAX_IO) {
                snprintf(reason, rsize, "%s: more than %d tensors", set, MAX_IO);
                ok = false;
            } else if (fe_onnx_read_tensor_ex(path, ds->scratch, true,
                                              out ? &ds->outs[k] : &ds->ins[k], &d)) {
                diag_reason(&d, "", reason, rsize);
                ok = false;
            } else {
                *(out ? &ds->n_outs : &ds->n_ins) = k + 1;
            }
        }
    ir_diag_free(&d);
    return ok;
}

/* Checks that the tensors vs[0..n) (skipping bound ones when skip is not
 * NULL) match the graph values gvs[0..ng) in order, count, dtype and shape. */
static bool match_values(const char *what, ir_value *const *gvs, int ng, ir_value *const *vs,
                         int n, const bool *skip, const ir_value **order, char *reason,
                         size_t rsize)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        if (k == ng || !same_type(gvs[k], vs[i])) {
            char a[96] = "none", b[96];
            if (k < ng)
                ir_shape_format(&gvs[k]->shape, a, sizeof a);
            ir_shape_format(&vs[i]->shape, b, sizeof b);
            snprintf(reason, rsize, "%s %d: model has %s%s, data has %s%s", what, k,
                     k < ng ? ir_dtype_name(gvs[k]->dtype) : "", a, ir_dtype_name(vs[i]->dtype),
                     b);
            return false;
        }
        order[k++] = vs[i];
    }
    if (k != ng)
        snprintf(reason, rsize, "the model has %d %ss, the data set %d", ng, what, k);
    return k == ng;
}

/* Compares output v's result got with want; describes the first mismatch. */
static bool compare(const ir_value *v, const void *got, const ir_value *want, char *reason,
                    size_t rsize)
{
    int64_t n = ir_shape_numel(&v->shape);
    double atol = tolerance[v->dtype].atol, rtol = tolerance[v->dtype].rtol;
    bool is_float = v->dtype == IR_DTYPE_F32 || v->dtype == IR_DTYPE_F64;
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        double g = 0, w = 0;
        if (is_float) {
            g = v->dtype == IR_DTYPE_F32 ? ((const float *)got)[i] : ((const double *)got)[i];
            w = v->dtype == IR_DTYPE_F32 ? ((const float *)want->data)[i]
                                         : ((const double *)want->data)[i];
            ok = (isnan(g) && isnan(w)) || g == w ||
                 (isfinite(w) && fabs(g - w) <= atol + rtol * fabs(w));
        } else {
            size_t es = ir_dtype_size(v->dtype);
            ok = memcmp((const char *)got + i * (int64_t)es,
                        (const char *)want->data + i * (int64_t)es, es) == 0;
        }
        if (!ok) {
            if (is_float)
                snprintf(reason, rsize, "output \"%s\" element %lld: got %.9g, want %.9g "
                         "(atol %g, rtol %g)", v->name, (long long)i, g, w, atol, rtol);
            else
                snprintf(reason, rsize, "output \"%s\" (%s) element %lld differs", v->name,
                         ir_dtype_name(v->dtype), (long long)i);
            return false;
        }
    }
    return true;
}

/* Fills an output buffer with a pattern no test expects (0x7f bytes: f32
 * 3.4e38, f64 1.4e306, large integers, a bool that is neither 0 nor 1), so
 * an element the run never writes fails the comparison. */
static void *alloc_sentinel(const ir_value *v)
{
    size_t bytes = ir_value_bytes(v);
    void *p = ir_malloc(bytes);
    if (p)
        memset(p, 0x7f, bytes);
    return p;
}

/* Runs g on the data set (its unbound inputs, in order) and compares. */
/* ---- backends ---- */

typedef enum backend { BACKEND_INTERP, BACKEND_JIT, BACKEND_C, BACKEND_COUNT } backend;
static const char *const backend_names[BACKEND_COUNT] = {"interp", "jit", "c"};
static backend run_backend = BACKEND_INTERP; /* --backend, read by the children */

/* Runs the compiled f on in -> out with the JIT or the C build; a non-zero
 * status from the model is reported as a data error. */
static loom_status run_compiled(const loop_func *f, const void **in, void **out, ir_diag *d)
{
    size_t ws_bytes = ((size_t)f->workspace_bytes + 63) / 64 * 64;
    void *ws = ws_bytes ? aligned_alloc(64, ws_bytes) : NULL;
    loom_status st = ws_bytes && !ws ? LOOM_STATUS_NOMEM : LOOM_STATUS_OK;
    int rc = 0;
    if (!st && run_backend == BACKEND_JIT) {
        be_llvm_module *m = NULL;
        if (!(st = be_llvm_jit(f, NULL, &m, d)))
            rc = be_llvm_entry(m)((const void *const *)in, out, ws);
        be_llvm_free(m);
    } else if (!st) {
        char dir[] = "/tmp/loom-conformance-XXXXXX";
        be_c_opts copts = {.standalone = false};
        be_cc_opts ccopts = {.standalone = false};
        be_cc_module m = {0};
        if (!mkdtemp(dir)) {
            ir_diag_errorf(d, "mkdtemp: %s", strerror(errno));
            st = LOOM_STATUS_IO;
        } else if (!(st = be_c_emit(f, &copts, dir, "m", d)) && !(st = be_c_write_runtime(dir, d)) &&
                   !(st = be_cc_build(dir, "m", "m", &ccopts, &m, d))) {
            rc = m.run((const void *const *)in, out, ws);
        }
        be_cc_unload(&m);
        char *argv[] = {"rm", "-rf", dir, NULL};
        be_cc_spawn(argv, d);
    }
    if (!st && rc) {
        ir_diag_errorf(d, "the compiled model returned status %d", rc);
        st = LOOM_STATUS_INVALID_ARG; /* a data error, as the interpreter's */
    }
    free(ws);
    return st;
}

/* Runs g on in -> out with the chosen backend; reports to d. */
static loom_status run_graph(ir_graph *g, const void **in, void **out, ir_diag *d)
{
    if (run_backend == BACKEND_INTERP)
        return interp_run(g, in, out, d);
    loop_func *f = NULL;
    loom_status st = be_compile(g, "m", &f, d);
    if (!st)
        st = run_compiled(f, in, out, d);
    loop_func_free(f);
    return st;
}

static fail_kind run_set(ir_graph *g, const data_set *ds, char *reason, size_t rsize)
{
    const ir_value *ins[MAX_IO], *wants[MAX_IO];
    if (!match_values("input", g->inputs, g->n_inputs, ds->ins, ds->n_ins, ds->bound, ins,
                      reason, rsize) ||
        !match_values("output", g->outputs, g->n_outputs, ds->outs, ds->n_outs, NULL, wants,
                      reason, rsize))
        return FAIL_SIGNATURE;
    const void *in_ptrs[MAX_IO];
    void *out_ptrs[MAX_IO] = {0};
    for (int i = 0; i < g->n_inputs; i++)
        in_ptrs[i] = ins[i]->data;
    fail_kind kind = FAIL_NONE;
    for (int i = 0; !kind && i < g->n_outputs; i++)
        if (!(out_ptrs[i] = alloc_sentinel(g->outputs[i])))
            kind = FAIL_REJECTED;
    ir_diag d;
    ir_diag_init(&d);
    if (kind)
        snprintf(reason, rsize, "out of memory");
    else if (run_graph(g, in_ptrs, out_ptrs, &d)) {
        diag_reason(&d, "", reason, rsize);
        kind = FAIL_REJECTED;
    }
    ir_diag_free(&d);
    for (int i = 0; !kind && i < g->n_outputs; i++)
        if (!compare(g->outputs[i], out_ptrs[i], wants[i], reason, rsize))
            kind = FAIL_WRONG_OUTPUT;
    for (int i = 0; i < g->n_outputs; i++)
        ir_free(out_ptrs[i]);
    return kind;
}

/* True when two reasons start with the same problem (ignoring "[+N more]"). */
static bool same_first_problem(const char *a, const char *b)
{
    const char *ea = strstr(a, " [+"), *eb = strstr(b, " [+");
    size_t na = ea ? (size_t)(ea - a) : strlen(a), nb = eb ? (size_t)(eb - b) : strlen(b);
    return na == nb && strncmp(a, b, na) == 0;
}

/* Loads the model with the set's integer and bool inputs bound as constants
 * (for models whose shapes depend on them) and runs the set. */
static fail_kind run_bound(data_set *ds, const char *plain_reason, char *reason, size_t rsize)
{
    fe_binding binds[MAX_IO];
    int n = 0;
    for (int i = 0; i < ds->n_ins; i++)
        if ((ds->bound[i] = bindable(ds->ins[i])))
            binds[n++] = (fe_binding){ds->ins[i]->name, ds->ins[i]};
    snprintf(reason, rsize, "%s", plain_reason);
    if (n == 0)
        return FAIL_REJECTED;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g;
    loom_status st = fe_load_model_bound("model.onnx", NULL, binds, n, &g, &d);
    if (st) {
        char why[400]; /* binding may get further than the plain load */
        diag_reason(&d, "", why, sizeof why);
        if (!same_first_problem(why, plain_reason))
            snprintf(reason, rsize, "with integer inputs bound as constants: %.400s", why);
        ir_diag_free(&d);
        return FAIL_REJECTED;
    }
    ir_diag_free(&d);
    char why[400];
    fail_kind kind = run_set(g, ds, why, sizeof why);
    if (kind)
        snprintf(reason, rsize, "with integer inputs bound as constants: %s", why);
    ir_graph_free(g);
    return kind;
}

/* Loads the model in the current directory and runs every data set. A model
 * that does not load as it is (shapes computed from inputs) is retried per
 * data set with its integer inputs bound as constants. */
static fail_kind run_case(char *reason, size_t rsize)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    char plain[400] = "";
    if (fe_onnx_load("model.onnx", NULL, &g, &d))
        diag_reason(&d, "", plain, sizeof plain);
    ir_diag_free(&d);
    fail_kind kind = FAIL_NONE;
    int sets = 0;
    for (; !kind; sets++) {
        char set[64];
        data_set ds;
        snprintf(set, sizeof set, "test_data_set_%d", sets);
        if (!file_exists(set))
            break;
        if (!read_set(set, &ds, reason, rsize)) {
            kind = FAIL_REJECTED;
            if (!g) /* the model's own problem comes first */
                snprintf(reason, rsize, "%s", plain);
        } else {
            kind = g ? run_set(g, &ds, reason, rsize) : run_bound(&ds, plain, reason, rsize);
        }
        ir_graph_free(ds.scratch);
    }
    if (!kind && sets == 0) {
        snprintf(reason, rsize, "no test_data_set_0");
        kind = FAIL_NO_DATA;
    }
    ir_graph_free(g);
    return kind;
}

/* Runs t in the current process (for --no-fork and in the child). */
static void run_in_process(test_case *t)
{
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd) || chdir(t->dir) != 0) {
        snprintf(t->reason, sizeof t->reason, "cannot enter %.400s", t->dir);
        t->kind = FAIL_NO_DATA;
        return;
    }
    t->kind = run_case(t->reason, sizeof t->reason);
    if (chdir(cwd) != 0)
        perror("chdir");
}

/* Runs t in a child process with a time limit; a crash, timeout or non-zero
 * exit (sanitizer reports) is the test's failure. */
static void run_forked(test_case *t)
{
    int fds[2];
    t->ran = true;
    t->kind = FAIL_CRASH;
    if (pipe(fds) != 0) {
        snprintf(t->reason, sizeof t->reason, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        alarm(run_backend == BACKEND_INTERP ? TEST_TIMEOUT_S : TEST_TIMEOUT_COMPILED_S);
        run_in_process(t);
        char msg[sizeof t->reason + 1];
        int n = snprintf(msg, sizeof msg, "%c%s", 'A' + t->kind, t->reason);
        if (write(fds[1], msg, (size_t)n) != n)
            exit(2);
        close(fds[1]);
        exit(0); /* exit, not _exit: a sanitizer build checks for leaks here */
    }
    close(fds[1]);
    char msg[sizeof t->reason + 1];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof msg - 1 && (r = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)r;
    msg[len] = '\0';
    close(fds[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        snprintf(t->reason, sizeof t->reason, "cannot run the test in a child process");
    } else if (WIFSIGNALED(status)) {
        bool alarm_sig = WTERMSIG(status) == SIGALRM;
        t->kind = alarm_sig ? FAIL_TIMEOUT : FAIL_CRASH;
        snprintf(t->reason, sizeof t->reason, "%s (signal %d)",
                 alarm_sig ? "timed out" : "crashed", WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
        t->kind = FAIL_EXIT;
        snprintf(t->reason, sizeof t->reason, "exited with status %d (sanitizer report?)",
                 WEXITSTATUS(status));
    } else if (len == 0 || msg[0] < 'A' || msg[0] >= 'A' + FAIL_KIND_COUNT) {
        snprintf(t->reason, sizeof t->reason, "the child reported no result");
    } else {
        t->kind = (fail_kind)(msg[0] - 'A');
        snprintf(t->reason, sizeof t->reason, "%s", msg + 1);
    }
}

/* ---- discovery and classification ---- */

static int cmp_case(const void *a, const void *b)
{
    return strcmp(((const test_case *)a)->id, ((const test_case *)b)->id);
}

/* Appends a test to cases; false when out of memory. */
static bool add_case(test_case **cases, int *n, int *cap, const char *suite, const char *dir,
                     const char *name)
{
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 256;
        test_case *nc = ir_realloc(*cases, (size_t)ncap * sizeof *nc);
        if (!nc)
            return false;
        *cases = nc;
        *cap = ncap;
    }
    test_case *t = &(*cases)[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%.40s/%.255s", suite, name);
    snprintf(t->dir, sizeof t->dir, "%.700s/%.255s", dir, name);
    return true;
}

/* Appends the tests of one suite folder (those with a model.onnx; the
 * "real" suite has only download links, which are counted and reported);
 * returns false when out of memory. */
static bool find_suite(const char *data, const char *suite, test_case **cases, int *n, int *cap)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", data, suite);
    DIR *dp = opendir(dir);
    if (!dp)
        return true; /* a file, not a suite folder */
    struct dirent *e;
    bool ok = true;
    int no_model = 0;
    while (ok && (e = readdir(dp))) {
        char model[1024];
        snprintf(model, sizeof model, "%s/%s/model.onnx", dir, e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (!file_exists(model))
            no_model++;
        else
            ok = add_case(cases, n, cap, suite, dir, e->d_name);
    }
    closedir(dp);
    if (no_model)
        printf("suite %s: %d folder(s) without model.onnx not run\n", suite, no_model);
    return ok;
}

/* Every folder of data is a suite; returns false when out of memory. */
static bool find_suites(const char *data, test_case **cases, int *n, int *cap)
{
    DIR *dp = opendir(data);
    if (!dp) {
        fprintf(stderr, "onnx_conformance: cannot open %s: %s\n", data, strerror(errno));
        return true;
    }
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(dp)))
        if (e->d_name[0] != '.')
            ok = find_suite(data, e->d_name, cases, n, cap);
    closedir(dp);
    return ok;
}

/* Lists t's ops and decides whether it is in scope and which op it counts
 * under: the model's op when it has one kind, else "(multi-op)"; for an
 * out-of-scope test, the first op loom lacks. A model whose ops cannot be
 * listed is in scope and has failed as unreadable. */
static void classify(test_case *t)
{
    char model[sizeof t->dir + 16];
    ir_diag d;
    ir_diag_init(&d);
    snprintf(model, sizeof model, "%s/model.onnx", t->dir);
    int n = fe_onnx_list_ops(model, t->ops, sizeof t->ops, &d);
    if (n <= 0) {
        t->in_scope = t->ran = true;
        t->kind = FAIL_UNREADABLE;
        snprintf(t->group, sizeof t->group, "(unreadable)");
        if (n < 0)
            diag_reason(&d, "", t->reason, sizeof t->reason);
        else
            snprintf(t->reason, sizeof t->reason, "the model has no nodes");
        ir_diag_free(&d);
        return;
    }
    ir_diag_free(&d);
    t->in_scope = true;
    snprintf(t->group, sizeof t->group, "%.63s", n == 1 ? t->ops : "(multi-op)");
    char ops[sizeof t->ops];
    snprintf(ops, sizeof ops, "%s", t->ops);
    for (char *save, *op = strtok_r(ops, " ", &save); op; op = strtok_r(NULL, " ", &save))
        if (strchr(op, ':') || (fe_onnx_op(op) == IR_OP_COUNT && !fe_onnx_is_control(op))) {
            if (t->in_scope) {
                snprintf(t->group, sizeof t->group, "%.63s", op);
                snprintf(t->reason, sizeof t->reason, "needs %.63s, which loom lacks", op);
            }
            t->in_scope = false;
            t->kind = FAIL_UNSUPPORTED_OP;
        }
}

/* ---- the checked-in lists ---- */

/* Adds an entry to l; false when out of memory. */
static list_entry *list_add(list *l)
{
    if (l->n == l->cap) {
        int ncap = l->cap ? l->cap * 2 : 256;
        list_entry *ne = ir_realloc(l->e, (size_t)ncap * sizeof *ne);
        if (!ne)
            return NULL;
        l->e = ne;
        l->cap = ncap;
    }
    list_entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Reads "ID" lines (with_kind false) or "ID KIND REASON" lines ('#'
 * comments); a missing file is empty. A line without a known kind is an
 * error, reported with its line number. */
static bool list_read(const char *path, list *l, bool with_kind)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT;
    char line[1024];
    bool ok = true;
    for (int no = 1; ok && fgets(line, sizeof line, f); no++) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        list_entry *e = list_add(l);
        if (!(ok = e != NULL))
            break;
        size_t idlen = strcspn(line, " \t");
        snprintf(e->id, sizeof e->id, "%.*s", (int)idlen, line);
        const char *k = line + idlen + strspn(line + idlen, " \t");
        size_t klen = strcspn(k, " \t");
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)(klen < sizeof kind ? klen : 0), k);
        e->kind = with_kind ? fail_lookup(kind) : FAIL_NONE;
        snprintf(e->reason, sizeof e->reason, "%s", k + klen + strspn(k + klen, " \t"));
        if (e->kind == FAIL_KIND_COUNT || (!with_kind && *k)) {
            fprintf(stderr, "%s:%d: expected \"%s\"\n", path, no,
                    with_kind ? "ID KIND REASON" : "ID");
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

static list_entry *list_find(list *l, const char *id)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->e[i].id, id) == 0)
            return &l->e[i];
    return NULL;
}

/* Rewrites both lists from the results of this run; a known failure of the
 * same kind as recorded in old keeps its recorded reason. */
static bool lists_write(const char *dir, const test_case *cases, int n, list *old)
{
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/expected_pass.txt", dir);
    snprintf(p2, sizeof p2, "%s/known_failures.txt", dir);
    FILE *fp = fopen(p1, "w"), *ff = fopen(p2, "w");
    if (!fp || !ff) {
        fprintf(stderr, "onnx_conformance: cannot write %s\n", !fp ? p1 : p2);
        if (fp)
            fclose(fp);
        if (ff)
            fclose(ff);
        return false;
    }
    fprintf(fp, "# ONNX backend tests (libonnx-testdata) that loom must pass. Generated by\n"
                "# onnx_conformance --update-lists from an actual run; a listed test that\n"
                "# fails is a regression.\n");
    fprintf(ff, "# ONNX backend tests that do not pass yet: ID KIND REASON.\n"
                "# Generated by onnx_conformance --update-lists from an actual run, which\n"
                "# keeps a REASON edited here while the KIND stays the same. A test that\n"
                "# fails with another KIND, or passes, fails the run. Kinds: rejected\n"
                "# (loom reports an error), signature (model and data disagree on inputs or\n"
                "# outputs), wrong-output, no-data, unreadable, crash, timeout, exit-status,\n"
                "# unsupported-op (not run: the model has an op loom lacks).\n");
    for (int i = 0; i < n; i++) {
        const test_case *t = &cases[i];
        const list_entry *e = list_find(old, t->id);
        if (t->kind == FAIL_NONE)
            fprintf(fp, "%s\n", t->id);
        else
            fprintf(ff, "%s %s %s\n", t->id, fail_names[t->kind],
                    e && e->kind == t->kind ? e->reason : t->reason);
    }
    bool ok = !ferror(fp) && !ferror(ff);
    ok &= fclose(fp) == 0;
    ok &= fclose(ff) == 0;
    return ok;
}
/* ---- report ---- */

typedef struct options {
    const char *data, *lists, *filter;
    bool update, verbose, fork;
} options;

typedef struct group_count {
    char name[64];
    int pass, total, out_of_scope;
} group_count;

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const group_count *)a)->name, ((const group_count *)b)->name);
}

/* Prints passing / total per op, in scope first, then the ops loom lacks. */
static void print_by_op(const test_case *cases, int n)
{
    group_count *gs = ir_calloc((size_t)n + 1, sizeof *gs);
    if (!gs)
        return;
    int ng = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < ng && strcmp(gs[k].name, cases[i].group) != 0)
            k++;
        if (k == ng)
            snprintf(gs[ng++].name, sizeof gs->name, "%s", cases[i].group);
        gs[k].total++;
        gs[k].pass += cases[i].in_scope && cases[i].kind == FAIL_NONE;
        gs[k].out_of_scope += !cases[i].in_scope;
    }
    qsort(gs, (size_t)ng, sizeof *gs, cmp_group);
    printf("%-28s %5s / %-5s\n", "op (tests of ops loom has)", "pass", "total");
    for (int k = 0; k < ng; k++)
        if (gs[k].out_of_scope < gs[k].total)
            printf("%-28s %5d / %-5d\n", gs[k].name, gs[k].pass, gs[k].total - gs[k].out_of_scope);
    printf("\nops loom lacks (tests not run):");
    int col = 80;
    for (int k = 0; k < ng; k++)
        if (gs[k].out_of_scope) {
            char item[96];
            int len = snprintf(item, sizeof item, " %s(%d)", gs[k].name, gs[k].out_of_scope);
            if (col + len > 78) {
                printf("\n ");
                col = 1;
            }
            printf("%s", item);
            col += len;
        }
    printf("\n\n");
    ir_free(gs);
}

/* Checks one test against the lists; prints its problem and returns 1, or
 * returns 0. */
static int check_case(const test_case *t, const list_entry *p, const list_entry *f, bool verbose)
{
    bool passed = t->kind == FAIL_NONE;
    if (!t->ran && f && f->kind == FAIL_UNSUPPORTED_OP) {
        return 0;
    } else if (!t->ran && (p || f)) {
        printf("NOT RUN     %s: listed in %s but not run (needs %s, which loom lacks)\n",
               t->id, p ? "expected_pass.txt" : "known_failures.txt", t->group);
    } else if (!t->ran) {
        printf("UNLISTED    %s (unsupported-op): %s\n", t->id, t->reason);
    } else if (p && f) {
        printf("BOTH LISTS  %s: in expected_pass.txt and known_failures.txt\n", t->id);
    } else if (p && !passed) {
        printf("REGRESSION  %s: %s: %s\n", t->id, fail_names[t->kind], t->reason);
    } else if (!p && !f) {
        printf("UNLISTED    %s (%s): %s\n", t->id, passed ? "passes" : fail_names[t->kind],
               passed ? "add it to expected_pass.txt" : t->reason);
    } else if (f && passed) {
        printf("XPASS       %s: listed as a known failure (%s) but passes; move it to "
               "expected_pass.txt\n", t->id, fail_names[f->kind]);
    } else if (f && f->kind != t->kind) {
        printf("NEW FAILURE %s: %s: %s (listed: %s: %s)\n", t->id, fail_names[t->kind],
               t->reason, fail_names[f->kind], f->reason);
    } else {
        if (f && verbose && strcmp(f->reason, t->reason) != 0)
            printf("NEW REASON  %s: %s (listed: %s)\n", t->id, t->reason, f->reason);
        return 0;
    }
    return 1;
}

/* Checks results against the lists, then that every list entry names a test
 * of the data; prints every problem and returns their count. */
static int check_lists(const test_case *cases, int n, list *pass, list *fail, const options *o)
{
    int problems = 0;
    for (int i = 0; i < n; i++)
        problems += check_case(&cases[i], list_find(pass, cases[i].id),
                               list_find(fail, cases[i].id), o->verbose);
    for (int l = 0; l < 2 && !o->filter; l++) {
        const list *li = l ? fail : pass;
        for (int i = 0; i < li->n; i++) {
            test_case key;
            snprintf(key.id, sizeof key.id, "%s", li->e[i].id);
            if (!bsearch(&key, cases, (size_t)n, sizeof *cases, cmp_case)) {
                printf("STALE       %s: listed in %s but not in the test data\n", li->e[i].id,
                       l ? "known_failures.txt" : "expected_pass.txt");
                problems++;
            }
        }
    }
    return problems;
}

/* ---- main ---- */

/* Sets run_backend from its name; false when unknown. */
static bool parse_backend(const char *name)
{
    for (int b = 0; b < BACKEND_COUNT; b++)
        if (strcmp(name, backend_names[b]) == 0) {
            run_backend = (backend)b;
            return true;
        }
    return false;
}

static bool parse_args(int argc, char **argv, options *o)
{
    *o = (options){.data = DEFAULT_DATA, .lists = DEFAULT_LISTS, .fork = true};
    for (int i = 1; i < argc; i++) {
        bool more = i + 1 < argc;
        if (strcmp(argv[i], "--data") == 0 && more)
            o->data = argv[++i];
        else if (strcmp(argv[i], "--lists") == 0 && more)
            o->lists = argv[++i];
        else if (strcmp(argv[i], "-k") == 0 && more)
            o->filter = argv[++i];
        else if (strcmp(argv[i], "--update-lists") == 0)
            o->update = true;
        else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
            o->verbose = true;
        else if (strcmp(argv[i], "--no-fork") == 0)
            o->fork = false;
        else if (strncmp(argv[i], "--backend=", 10) == 0 && parse_backend(argv[i] + 10))
            ;
        else {
            fprintf(stderr, "usage: onnx_conformance [--data DIR] [--lists DIR] "
                            "[--update-lists] [--backend=interp|jit|c] [--verbose] [--no-fork] "
                            "[-k SUBSTRING]\n");
            return false;
        }
    }
    if (o->update && o->filter) {
        fprintf(stderr, "onnx_conformance: --update-lists needs the full run (no -k)\n");
        return false;
    }
    return true;
}

/* Runs the in-scope tests and prints per-test lines when verbose. */
static void run_all(test_case *cases, int n, const options *o, int *passed, int *in_scope)
{
    for (int i = 0; i < n; i++) {
        test_case *t = &cases[i];
        classify(t);
        if (!t->in_scope)
            continue;
        (*in_scope)++;
        if (t->ran) /* failed already (unreadable) */
            ;
        else if (o->fork)
            run_forked(t);
        else {
            t->ran = true;
            run_in_process(t);
        }
        *passed += t->kind == FAIL_NONE;
        if (o->verbose)
            printf("%s %s%s%s\n", t->kind ? "FAIL" : "PASS", t->id, t->kind ? ": " : "",
                   t->kind ? t->reason : "");
    }
}

/* Compares the run with the lists, or rewrites them (--update-lists);
 * returns the exit status. */
static int finish(const test_case *cases, int n, int in_scope, const options *o)
{
    list pass = {0}, fail = {0};
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/expected_pass.txt", o->lists);
    snprintf(p2, sizeof p2, "%s/known_failures.txt", o->lists);
    int status = 0;
    if (!list_read(p1, &pass, false) || !list_read(p2, &fail, true)) {
        fprintf(stderr, "onnx_conformance: cannot read the lists in %s\n", o->lists);
        status = 2;
    } else if (o->update) {
        status = lists_write(o->lists, cases, n, &fail) ? 0 : 1;
        printf("wrote %s and known_failures.txt\n", p1);
    } else {
        int problems = check_lists(cases, n, &pass, &fail, o);
        if (in_scope == 0) {
            printf("NOTHING RAN no test of the data is in scope\n");
            problems++;
        }
        if (problems)
            printf("%d problem(s): see the REGRESSION / UNLISTED / NEW FAILURE / XPASS / "
                   "NOT RUN / STALE lines above\n", problems);
        status = problems ? 1 : 0;
    }
    ir_free(pass.e);
    ir_free(fail.e);
    return status;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    test_case *cases = NULL;
    int n = 0, cap = 0;
    if (!find_suites(o.data, &cases, &n, &cap)) {
        ir_free(cases);
        return 2;
    }
    if (n == 0) {
        fprintf(stderr, "onnx_conformance: no tests under %s (install libonnx-testdata)\n",
                o.data);
        return 2;
    }
    qsort(cases, (size_t)n, sizeof *cases, cmp_case);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!o.filter || strstr(cases[i].id, o.filter))
            cases[k++] = cases[i];
    n = k;
    int passed = 0, in_scope = 0;
    run_all(cases, n, &o, &passed, &in_scope);
    print_by_op(cases, n);
    printf("in scope: %d / %d passed (%d tests of ops loom lacks not run; %d tests in all)\n",
           passed, in_scope, n - in_scope, n);
    int status = finish(cases, n, in_scope, &o);
    ir_free(cases);
    return status;
}
