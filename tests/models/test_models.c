/*
 * End to end over exported models: every folder under tests/models (made by
 * scripts/export_torch.py from PyTorch with the TorchScript and the dynamo
 * exporters) holds model.onnx, input_<name>.npy, expected_<name>.npy
 * (onnxruntime's outputs) and dims.txt (values of the symbolic dims). Each
 * model is loaded with fe_onnx_load (dims pinned from dims.txt), run in the
 * reference interpreter, and every output compared with onnxruntime's; the
 * max abs and max rel error are printed per output. Then the same graph
 * goes through libloom (loom_compile_graph) with the C backend (standalone
 * build: emitted C with the portable runtime, compiled with cc and loaded), and
 * the compiled model's outputs are compared with onnxruntime's in the same
 * way, at -O0 (constants folded only) and at -O3 (the default pipeline);
 * the -O3 graph is also run in the interpreter, which checks the passes
 * apart from the lowering; the -O3 loop function is also JIT-compiled by the
 * LLVM backend and checked the same way. A model the pipeline reports as unsupported (an
 * op whose lowering is missing) fails unless tests/models/c_unsupported.txt
 * lists it ("NAME REASON" lines); a listed model that compiles fails too, so
 * the list stays true. Any other failure of the C path fails the model.
 *
 * The large models (torchvision classifiers and a segmentation net, an
 * ESPCN, a style-transfer net and transformers encoders; the list is in
 * scripts/export_torch.py) are checked the same way from the folder named by the environment variable
 * LOOM_LARGE_MODELS (`scripts/export_torch.py --out DIR`); without it the
 * run says that they were skipped and why.
 *
 * Tolerance: |got - want| <= atol + rtol * |want| with rtol 1e-4 (loom's
 * kernels may sum in another order than onnxruntime's, a few ulps per op
 * over chains of ~50 ops) and atol 1e-5 for outputs near zero, where
 * cancellation (x - mean, attention scores) makes a relative bound
 * meaningless; both as in tests/onnx/onnx_conformance.c. Integer and bool
 * outputs must match exactly.
 *
 * A folder may hold a Keras model instead (tests/keras, made by
 * scripts/gen_keras.py): model.keras, model.json (+ model.weights.h5) and
 * model.h5, each file form checked as "FOLDER/FILE": the first form
 * present in every engine, the others (which load to the same graph) in
 * the interpreter, to keep the suite's time; the expected outputs are
 * then Keras's own.
 *
 * With --subset (the sanitizer build, to keep the suite's time), every
 * model still loads and runs in the interpreter before and after the -O3
 * pipeline, but only the TorchScript exports and the Keras models are
 * compiled, and only at -O3 (C and JIT): the dynamo exports of the same
 * modules reach the same lowerings.
 *
 * Usage: test_models [--subset] [DIR...]   (default: LOOM_SOURCE_DIR/tests/models)
 * Prints one line per model and "N passed, N failed"; exits 1 on failure.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe.h"
#include "interp.h"
#include "loom_api_internal.h"
#include "passes.h"

#ifndef LOOM_SOURCE_DIR
#define LOOM_SOURCE_DIR "."
#endif
#define MAX_IO 16
#define MAX_PINS 16
#define RTOL 1e-4
#define ATOL 1e-5

/* --subset: see the file comment. */
static bool subset;

typedef struct counts {
    int passed, failed;
    int c_unsupported; /* listed models the C backend cannot compile yet */
} counts;

#define UNSUPPORTED_LIST LOOM_SOURCE_DIR "/tests/models/c_unsupported.txt"

/* Returns true when c_unsupported.txt lists model (a line "NAME REASON");
 * copies the reason. A missing list is empty. */
static bool listed_unsupported(const char *model, char *reason, size_t size)
{
    FILE *f = fopen(UNSUPPORTED_LIST, "r");
    char line[512];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t n = strcspn(line, " \t");
        if (line[0] != '#' && n == strlen(model) && strncmp(line, model, n) == 0) {
            snprintf(reason, size, "%s", line + n + strspn(line + n, " \t"));
            found = true;
        }
    }
    if (f)
        fclose(f);
    return found;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Reads dims.txt ("name=value" lines) into pins (NULL-terminated); returns
 * false when the file is malformed. A missing file means no pins. */
static bool read_pins(const char *dir, char lines[MAX_PINS][128], const char *pins[MAX_PINS + 1])
{
    char path[1300];
    snprintf(path, sizeof path, "%s/dims.txt", dir);
    int n = 0;
    pins[0] = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    while (n < MAX_PINS && fgets(lines[n], sizeof lines[n], f)) {
        lines[n][strcspn(lines[n], "\r\n")] = '\0';
        if (!lines[n][0])
            continue;
        pins[n] = lines[n];
        n++;
    }
    bool ok = feof(f);
    fclose(f);
    pins[n] = NULL;
    return ok;
}

/* Reads PREFIX_<value>.npy of folder dir into a and checks dtype and shape
 * against v; on error writes why into msg. */
static bool read_npy(const char *dir, const char *prefix, const ir_value *v, fe_npy *a, char *msg,
                     size_t size)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s_%s.npy", dir, prefix, v->name);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = fe_npy_read(path, a, &d);
    if (st) {
        snprintf(msg, size, "%s", d.text ? d.text : loom_status_name(st));
        ir_diag_free(&d);
        return false;
    }
    ir_diag_free(&d);
    if (a->dtype != v->dtype || !ir_shape_equal(&a->shape, &v->shape)) {
        char got[128], want[128];
        ir_shape_format(&a->shape, got, sizeof got);
        ir_shape_format(&v->shape, want, sizeof want);
        snprintf(msg, size, "%s_%s.npy is %s%s, the graph has %s%s", prefix, v->name,
                 ir_dtype_name(a->dtype), got, ir_dtype_name(v->dtype), want);
        return false;
    }
    return true;
}

/* Compares one output; prints its errors; returns whether it passes. */
static bool compare(const char *model, const char *engine, const ir_value *v, const void *got,
                    const fe_npy *want)
{
    int64_t n = ir_shape_numel(&v->shape), bad = 0, first = -1;
    double max_abs = 0, max_rel = 0;
    bool is_f = v->dtype == IR_DTYPE_F32 || v->dtype == IR_DTYPE_F64;
    size_t es = ir_dtype_size(v->dtype);
    for (int64_t k = 0; k < n; k++) {
        bool ok;
        if (is_f) {
            double g = v->dtype == IR_DTYPE_F32 ? ((const float *)got)[k] : ((const double *)got)[k];
            double w = v->dtype == IR_DTYPE_F32 ? ((const float *)want->data)[k]
                                                : ((const double *)want->data)[k];
            double err = fabs(g - w), rel = w != 0 ? err / fabs(w) : (err != 0 ? INFINITY : 0);
            ok = err <= ATOL + RTOL * fabs(w) || (isnan(g) && isnan(w));
            if (isnan(err) || err > max_abs)
                max_abs = err;
            if (isnan(rel) || rel > max_rel)
                max_rel = rel;
        } else {
            ok = memcmp((const char *)got + k * es, (const char *)want->data + k * es, es) == 0;
        }
        if (!ok && bad++ == 0)
            first = k;
    }
    printf("  %s %s: output \"%s\" (%lld values): max abs err %.3g, max rel err %.3g%s\n",
           model, engine, v->name, (long long)n, max_abs, max_rel, bad ? "" : " ok");
    if (bad)
        printf("  %s %s: output \"%s\": %lld values out of tolerance (rtol %g, atol %g), first "
               "at flat index %lld\n",
               model, engine, v->name, (long long)bad, RTOL, ATOL, (long long)first);
    return bad == 0;
}

/* Runs the compiled c on ins into out and compares with want. */
static bool run_compiled(const char *name, const char *engine, loom_compiled *c,
                         const ir_graph *g, const void *const *ins, void *const *out,
                         const fe_npy *want)
{
    loom_workspace *w = NULL;
    loom_diag diag;
    loom_status st = loom_workspace_new(c, &w, &diag);
    for (int i = 0; !st && i < g->n_outputs; i++)
        memset(out[i], 0xff, ir_value_bytes(g->outputs[i]));
    if (!st)
        st = loom_run(c, w, ins, g->n_inputs, out, g->n_outputs, &diag);
    loom_workspace_free(w);
    if (st) {
        printf("  %s: %s: %s\n", engine, name, diag.message);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < g->n_outputs; i++)
        ok &= compare(name, engine, g->outputs[i], out[i], &want[i]);
    return ok;
}

/* Compiles g through libloom at -O<level> with the standalone C backend
 * (and at -O3 the JIT too), runs it on ins into out and compares with
 * want. An unsupported lowering fails unless the model is listed in
 * c_unsupported.txt (then it is counted in n->c_unsupported); a listed
 * model that compiles fails. */
static bool check_c(const char *name, ir_graph *g, int level, const void *const *ins,
                    void *const *out, const fe_npy *want, counts *n)
{
    ir_diag d;
    ir_diag_init(&d);
    loom_compile_options co = loom_compile_options_default();
    co.backend = LOOM_BACKEND_C;
    co.standalone = 1;
    co.opt_level = level;
    char engine[16];
    snprintf(engine, sizeof engine, "C -O%d", level);
    loom_compiled *c = NULL;
    loom_status st = loom_compile_graph(g, &co, &c, &d);
    char why[400];
    bool listed = listed_unsupported(name, why, sizeof why);
    if (st == LOOM_STATUS_UNSUPPORTED) {
        printf("  C backend: %s not compiled (unsupported): %.*s%s%s\n", name,
               (int)strcspn(d.text ? d.text : "", "\n"), d.text ? d.text : "",
               listed ? "; listed: " : "; not in " UNSUPPORTED_LIST, listed ? why : "");
        n->c_unsupported += listed;
        ir_diag_free(&d);
        return listed;
    }
    if (listed && st == LOOM_STATUS_OK)
        printf("  C backend: %s compiles but is listed in " UNSUPPORTED_LIST "\n", name);
    if (st)
        printf("  C backend: %s: %s\n%s", name, loom_status_name(st), d.text ? d.text : "");
    bool ok = st == LOOM_STATUS_OK && !listed && run_compiled(name, engine, c, g, ins, out, want);
    loom_compiled_free(c);
    c = NULL;
    co = loom_compile_options_default();
    co.backend = LOOM_BACKEND_JIT;
    if (ok && level == 3 && (st = loom_compile_graph(g, &co, &c, &d))) {
        printf("  JIT: %s: %s\n%s", name, loom_status_name(st), d.text ? d.text : "");
        ok = false;
    }
    if (ok && c)
        ok = run_compiled(name, "JIT", c, g, ins, out, want);
    loom_compiled_free(c);
    ir_diag_free(&d);
    return ok;
}

/* Loads the model at path again, runs the -O3 pipeline, runs the result
 * in the interpreter and then (when compiled is set) through the C backend
 * and the JIT, comparing each. */
static bool check_optimized(const char *path, const char *const *pins, const char *name,
                            const void *const *ins, void *const *out, const fe_npy *want,
                            bool compiled, counts *n)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_load_model(path, pins, &g, &d);
    if (!st)
        st = pass_pipeline(g, NULL, &d);
    if (!st)
        st = interp_run(g, ins, out, &d);
    bool ok = st == LOOM_STATUS_OK;
    if (!ok)
        printf("  %s -O3: %s\n%s", name, loom_status_name(st), d.text ? d.text : "");
    else
        printf("  %s -O3: %d nodes\n", name, g->n_nodes);
    for (int i = 0; ok && i < g->n_outputs; i++)
        ok &= compare(name, "interpreter -O3", g->outputs[i], out[i], &want[i]);
    if (ok && compiled)
        ok = check_c(name, g, 3, ins, out, want, n);
    ir_graph_free(g);
    ir_diag_free(&d);
    return ok;
}

/* The model files a folder may hold, each checked on its own. */
static const char *const model_files[] = {"model.onnx", "model.keras", "model.json", "model.h5"};
#define N_MODEL_FILES (sizeof model_files / sizeof model_files[0])

/* Loads, runs and compares model file `file` in dir (in the interpreter;
 * when passes is set, after the -O3 pipeline too; when compiled is set, in
 * the C backend and the JIT as well); prints why it fails. */
static bool run_model(const char *dir, const char *file, const char *name, bool passes,
                      bool compiled, counts *n)
{
    char path[1300], lines[MAX_PINS][128], msg[512];
    const char *pins[MAX_PINS + 1];
    if (!read_pins(dir, lines, pins)) {
        printf("FAIL %s: cannot read dims.txt\n", name);
        return false;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_load_model(path, pins, &g, &d);
    if (st) {
        printf("FAIL %s: fe_load_model: %s\n%s", name, loom_status_name(st), d.text ? d.text : "");
        ir_diag_free(&d);
        return false;
    }
    fe_npy in[MAX_IO] = {0}, want[MAX_IO] = {0};
    void *out[MAX_IO] = {0};
    const void *ins[MAX_IO] = {0};
    bool ok = g->n_inputs <= MAX_IO && g->n_outputs <= MAX_IO && g->n_outputs > 0;
    if (!ok)
        snprintf(msg, sizeof msg, "%d inputs, %d outputs", g->n_inputs, g->n_outputs);
    for (int i = 0; ok && i < g->n_inputs; i++) {
        ok = read_npy(dir, "input", g->inputs[i], &in[i], msg, sizeof msg);
        ins[i] = in[i].data;
    }
    for (int i = 0; ok && i < g->n_outputs; i++) {
        ok = read_npy(dir, "expected", g->outputs[i], &want[i], msg, sizeof msg);
        size_t bytes = ir_value_bytes(g->outputs[i]);
        out[i] = ir_malloc(bytes ? bytes : 1);
        if (out[i])
            memset(out[i], 0xff, bytes); /* NaN until written */
        else if (ok)
            snprintf(msg, sizeof msg, "out of memory");
        ok = ok && out[i];
    }
    if (!ok) {
        printf("FAIL %s: %s\n", name, msg);
    } else if ((st = interp_run(g, ins, out, &d))) {
        printf("FAIL %s: interp_run: %s\n%s", name, loom_status_name(st), d.text ? d.text : "");
        ok = false;
    } else {
        printf("run  %s: %d nodes\n", name, g->n_nodes);
        for (int i = 0; i < g->n_outputs; i++)
            ok &= compare(name, "interpreter", g->outputs[i], out[i], &want[i]);
        if (ok && compiled && !subset)
            ok = check_c(name, g, 0, ins, out, want, n);
        if (ok && (compiled || passes))
            ok = check_optimized(path, pins, name, ins, out, want, compiled, n);
        printf("%s %s\n", ok ? "PASS" : "FAIL", name);
    }
    for (int i = 0; i < MAX_IO; i++) {
        fe_npy_free(&in[i]);
        fe_npy_free(&want[i]);
        ir_free(out[i]);
    }
    ir_graph_free(g);
    ir_diag_free(&d);
    return ok;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every model folder under root (sorted by name). */
static void run_folder(const char *root, counts *n)
{
    DIR *dp = opendir(root);
    if (!dp) {
        printf("FAIL %s: cannot open the folder\n", root);
        n->failed++;
        return;
    }
    char *names[512];
    int count = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && count < 512) {
        char path[1400];
        bool any = false;
        for (size_t k = 0; k < N_MODEL_FILES; k++) {
            snprintf(path, sizeof path, "%s/%s/%s", root, de->d_name, model_files[k]);
            any |= file_exists(path);
        }
        if (de->d_name[0] != '.' && any)
            names[count++] = strdup(de->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)count, sizeof *names, cmp_names);
    if (count == 0) {
        printf("FAIL %s: no model folders\n", root);
        n->failed++;
    }
    for (int i = 0; i < count; i++) {
        char dir[1200], path[1400], name[700];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        bool first = true;
        for (size_t k = 0; k < N_MODEL_FILES; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, model_files[k]);
            if (!file_exists(path))
                continue;
            snprintf(name, sizeof name, k ? "%s/%s" : "%s", names[i], model_files[k]);
            bool compiled = first && !(subset && strstr(names[i], "_dynamo"));
            bool passes = first;
            first = false;
            if (run_model(dir, model_files[k], name, passes, compiled, n))
                n->passed++;
            else
                n->failed++;
        }
        free(names[i]);
    }
}

int main(int argc, char **argv)
{
    counts n = {0};
    int first_dir = 1;
    if (argc > 1 && strcmp(argv[1], "--subset") == 0) {
        subset = true;
        first_dir = 2;
    }
    if (argc > first_dir) {
        for (int i = first_dir; i < argc; i++)
            run_folder(argv[i], &n);
    } else {
        run_folder(LOOM_SOURCE_DIR "/tests/models", &n);
        const char *large = getenv("LOOM_LARGE_MODELS");
        if (large && large[0])
            run_folder(large, &n);
        else
            printf("note: large models (resnet18, mobilenet_v3_small, efficientnet_b0, ...) "
                   "skipped: set "
                   "LOOM_LARGE_MODELS to the folder written by scripts/export_torch.py --out\n");
    }
    if (n.c_unsupported)
        printf("note: %d model(s) not compiled by the C backend (see \"C backend:\" lines)\n",
               n.c_unsupported);
    printf("%d passed, %d failed\n", n.passed, n.failed);
    return n.failed ? 1 : 0;
}
