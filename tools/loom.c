/*
 * loom: the command-line driver. Each subcommand loads a model through the
 * frontends (fe_load_model), then inspects, runs or converts it. Only this
 * file prints diagnostics and chooses exit codes (docs/cli.md):
 *   0 success, 1 bad model/data or failed run (diagnostics on stderr),
 *   2 wrong usage.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "be_c.h"
#include "be_cc.h"
#include "fe.h"
#include "interp.h"
#include "ir.h"
#include "ir_stats.h"
#include "ir_text.h"
#include "loop_ir.h"
#include "be.h"
#include "loom_jit.h"
#include "passes.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2
#define MAX_ARGS 256

static const char usage_text[] =
    "usage: loom <command> [options]\n"
    "\n"
    "commands:\n"
    "  inspect MODEL     print the model as text IR and a summary\n"
    "  run MODEL         run the model in the reference interpreter\n"
    "  convert MODEL     write the model in another format\n"
    "  compile MODEL     compile the model to C (NAME.c + NAME.h + runtime)\n"
    "  bench MODEL       time the compiled model (or the interpreter)\n"
    "  help [COMMAND]    show help for a command\n"
    "\n"
    "MODEL is a .json (loom model format), .onnx or .lir file.\n"
    "Exit codes: 0 success, 1 bad model or data, 2 wrong usage.\n";

static const char inspect_help[] =
    "usage: loom inspect MODEL [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
    "                          [--elide-constants] [--summary-only]\n"
    "Prints the model as text IR (.lir) and a summary: parameters, FLOPs,\n"
    "op histogram and tensor memory.\n";

static const char run_help[] =
    "usage: loom run MODEL --input NAME=FILE.npy ... [--output DIR] [--backend=interp|c|jit]\n"
    "                      [--time] [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
    "Runs MODEL in the reference interpreter on .npy inputs (with one graph\n"
    "input, --input FILE.npy is enough), prints each output and, with\n"
    "--output, writes DIR/OUTPUT.npy per output (characters outside\n"
    "[A-Za-z0-9._-] in names become '_'). --backend=c compiles the model to C,\n"
    "builds it with the system compiler and runs that instead; --backend=jit\n"
    "compiles it in-process through LLVM. --time prints the compile phases'\n"
    "times (load, passes, lowering, LLVM optimization, code generation).\n";

static const char compile_help[] =
    "usage: loom compile MODEL -o DIR/NAME.c [--name IDENT] [--emit=c|loops|llvm|obj]\n"
    "                          [--standalone] [--weights=auto|inline|incbin|file]\n"
    "                          [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
    "Writes DIR/NAME.c and DIR/NAME.h, specialized to the model's shapes, and\n"
    "the runtime (loomrt.h, loomrt_*.c) beside them; --standalone inlines a\n"
    "portable runtime into NAME.c instead (no OpenBLAS). Weights: inline\n"
    "hex floats up to 1 MiB (auto), else NAME.weights.bin linked through\n"
    "NAME.weights.S (.incbin), or loaded by the caller (file).\n"
    "--emit=loops prints the planned loop IR to -o (or stdout) instead;\n"
    "--emit=llvm writes the optimized LLVM IR and --emit=obj an object file\n"
    "defining NAME_run_v (weights inside) to -o.\n";

static const char bench_help[] =
    "usage: loom bench MODEL [--backend=c|jit|interp] [--runs N] [--threads N]\n"
    "                        [--standalone] [--json] [--input NAME=FILE.npy]...\n"
    "Builds the model, warms up, times the run function in-process and prints\n"
    "min and median latency and the workspace size. Inputs not given are\n"
    "filled with deterministic pseudo-random values in [-1, 1).\n";

static const char convert_help[] =
    "usage: loom convert MODEL -o OUT.lir|OUT.json [--weights-file OUT.safetensors]\n"
    "                          [--inline-weights] [--dim NAME=N]...\n"
    "Writes MODEL as text IR or as loom JSON. JSON weights go to a safetensors\n"
    "file beside OUT (OUT with .safetensors) unless --inline-weights.\n";

/* Options shared by the subcommands. */
typedef struct cli_opts {
    const char *model;
    const char *dims[MAX_ARGS + 1]; /* NULL-terminated, for fe_load_model */
    int n_dims;
    const char *inputs[MAX_ARGS];   /* NAME=FILE or FILE */
    int n_inputs;
    const char *output;             /* -o / --output */
    const char *weights;
    const char *name;
    const char *emit;     /* compile: "c" or "loops" */
    const char *backend;  /* run/bench: "interp" or "c" */
    const char *weights_mode;
    long runs, threads;
    bool elide_constants, summary_only, inline_weights, standalone, json, time;
} cli_opts;

static int usage_error(const char *help, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const char *help, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loom: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", help);
    return EXIT_USAGE;
}

/* Returns the value of an option written "--opt V" or "--opt=V", advancing
 * *i; NULL if argv[*i] is not that option. *missing is set when V is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* A count in [1, 10^6]. */
static bool parse_count(const char *v, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < 1 || x > 1000000)
        return false;
    *out = x;
    return true;
}

/* Parses argv[2..] into o; returns 0 or an exit code after printing usage. */
static int parse_opts(int argc, char **argv, const char *help, cli_opts *o)
{
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return -1;
        } else if ((v = opt_value(argc, argv, &i, "--dim", &missing)) ||
                   (v = opt_value(argc, argv, &i, "--input-shape", &missing))) {
            if (o->n_dims == MAX_ARGS)
                return usage_error(help, "too many %s options", "--dim/--input-shape");
            o->dims[o->n_dims++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--input", &missing))) {
            if (o->n_inputs == MAX_ARGS)
                return usage_error(help, "too many %s options", "--input");
            o->inputs[o->n_inputs++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--output", &missing)) ||
                   (v = opt_value(argc, argv, &i, "-o", &missing))) {
            o->output = v;
        } else if ((v = opt_value(argc, argv, &i, "--name", &missing))) {
            o->name = v;
        } else if ((v = opt_value(argc, argv, &i, "--emit", &missing))) {
            o->emit = v;
        } else if ((v = opt_value(argc, argv, &i, "--backend", &missing))) {
            o->backend = v;
        } else if ((v = opt_value(argc, argv, &i, "--weights-file", &missing))) {
            o->weights = v;
        } else if ((v = opt_value(argc, argv, &i, "--weights", &missing))) {
            o->weights_mode = v;
        } else if ((v = opt_value(argc, argv, &i, "--runs", &missing))) {
            if (!parse_count(v, &o->runs))
                return usage_error(help, "bad --runs %s", v);
        } else if ((v = opt_value(argc, argv, &i, "--threads", &missing))) {
            if (!parse_count(v, &o->threads))
                return usage_error(help, "bad --threads %s", v);
        } else if (strcmp(argv[i], "--standalone") == 0) {
            o->standalone = true;
        } else if (strcmp(argv[i], "--time") == 0) {
            o->time = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if (strcmp(argv[i], "--elide-constants") == 0) {
            o->elide_constants = true;
        } else if (strcmp(argv[i], "--summary-only") == 0) {
            o->summary_only = true;
        } else if (strcmp(argv[i], "--inline-weights") == 0) {
            o->inline_weights = true;
        } else if (missing) {
            return usage_error(help, "option %s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error(help, "unknown option %s", argv[i]);
        } else if (!o->model) {
            o->model = argv[i];
        } else {
            return usage_error(help, "unexpected argument %s", argv[i]);
        }
        if (missing)
            return usage_error(help, "option %s needs a value", argv[i]);
    }
    if (!o->model)
        return usage_error(help, "%s", "no MODEL given");
    o->dims[o->n_dims] = NULL;
    return 0;
}

/* Prints d's text to stderr and frees it. */
static void flush_diag(ir_diag *d)
{
    if (d->text && d->len)
        fputs(d->text, stderr);
    ir_diag_clear(d);
}

/* Loads the model or prints why not; returns NULL on failure. */
static ir_graph *load(const cli_opts *o, ir_diag *d)
{
    ir_graph *g = NULL;
    loom_status st = fe_load_model(o->model, o->dims, &g, d);
    if (st != LOOM_STATUS_OK) {
        if (d->n_errors == 0)
            fprintf(stderr, "%s: %s\n", o->model, loom_status_name(st));
        flush_diag(d);
        return NULL;
    }
    return g;
}

static void print_bytes(const char *label, int64_t bytes)
{
    printf("  %-22s %lld bytes (%.2f MiB)\n", label, (long long)bytes,
           (double)bytes / (1024.0 * 1024.0));
}

/* The summary block of `loom inspect`. */
static void print_summary(const ir_graph *g)
{
    ir_stats s;
    ir_graph_stats(g, &s);
    printf("// summary of %s (%s)\n", g->name, g->source);
    printf("  %-22s %d\n", "nodes", g->n_nodes);
    printf("  %-22s %lld\n", "parameters", (long long)s.params);
    printf("  %-22s %lld (%.3f GFLOP)\n", "FLOPs", (long long)s.flops, (double)s.flops / 1e9);
    print_bytes("weights", s.param_bytes);
    print_bytes("inputs + outputs", s.io_bytes);
    print_bytes("activations (sum)", s.activation_bytes);
    print_bytes("largest activation", s.largest_activation_bytes);
    printf("  ops:\n");
    for (int op = 0; op < IR_OP_COUNT; op++)
        if (s.op_count[op])
            printf("    %-20s %d\n", ir_op_name((ir_op)op), s.op_count[op]);
}

static int cmd_inspect(int argc, char **argv)
{
    cli_opts o = {0};
    int rc = parse_opts(argc, argv, inspect_help, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = load(&o, &d);
    if (!g) {
        ir_diag_free(&d);
        return EXIT_BAD_INPUT;
    }
    if (!o.summary_only) {
        ir_print_opts popts = {.elide_constants = o.elide_constants};
        ir_print(g, &popts, stdout);
        printf("\n");
    }
    print_summary(g);
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}

/* Turns a tensor name into a file name: [A-Za-z0-9._-] kept, others '_'. */
static void safe_name(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        buf[i] = ok ? c : '_';
    }
    buf[i] = '\0';
    if (i == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
        snprintf(buf, size, "output");
}

/* Finds which --input entry names graph input v (NAME=FILE, or the lone
 * FILE when the graph has one input). Returns the file or NULL. */
static const char *input_file(const cli_opts *o, const ir_graph *g, const ir_value *v)
{
    size_t len = strlen(v->name);
    for (int i = 0; i < o->n_inputs; i++) {
        const char *s = o->inputs[i];
        if (strncmp(s, v->name, len) == 0 && s[len] == '=')
            return s + len + 1;
    }
    if (g->n_inputs == 1 && o->n_inputs == 1 && !strchr(o->inputs[0], '='))
        return o->inputs[0];
    return NULL;
}

/* Reads every graph input from its .npy file, checking dtype and shape. */
static bool read_inputs(const cli_opts *o, const ir_graph *g, fe_npy *arrays, ir_diag *d)
{
    bool ok = true;
    for (int i = 0; i < g->n_inputs; i++) {
        const ir_value *v = g->inputs[i];
        const char *file = input_file(o, g, v);
        if (!file) {
            fprintf(stderr, "loom: no --input for graph input \"%s\"\n", v->name);
            ok = false;
            continue;
        }
        if (fe_npy_read(file, &arrays[i], d) != LOOM_STATUS_OK) {
            flush_diag(d);
            ok = false;
            continue;
        }
        char want[128], got[128];
        ir_shape_format(&v->shape, want, sizeof want);
        ir_shape_format(&arrays[i].shape, got, sizeof got);
        if (arrays[i].dtype != v->dtype || !ir_shape_equal(&arrays[i].shape, &v->shape)) {
            fprintf(stderr, "%s: input \"%s\" is %s%s, the model expects %s%s\n", file, v->name,
                    ir_dtype_name(arrays[i].dtype), got, ir_dtype_name(v->dtype), want);
            ok = false;
        }
    }
    for (int i = 0; i < o->n_inputs && ok; i++) {
        const char *eq = strchr(o->inputs[i], '=');
        if (eq && g->n_inputs > 0) {
            char name[512];
            snprintf(name, sizeof name, "%.*s", (int)(eq - o->inputs[i]), o->inputs[i]);
            const ir_value *v = ir_graph_find_value(g, name);
            if (!v || !v->is_input) {
                fprintf(stderr, "loom: --input %s: the model has no input \"%s\"\n",
                        o->inputs[i], name);
                ok = false;
            }
        }
    }
    return ok;
}

/* Prints an output's name, type and up to 16 values. */
static void print_output(const ir_value *v, const void *data)
{
    char shape[128];
    ir_shape_format(&v->shape, shape, sizeof shape);
    printf("%s: %s%s = [", v->name, ir_dtype_name(v->dtype), shape);
    int64_t n = ir_shape_numel(&v->shape);
    for (int64_t i = 0; i < n && i < 16; i++) {
        double x = 0;
        switch (v->dtype) {
        case IR_DTYPE_F32: x = ((const float *)data)[i]; break;
        case IR_DTYPE_F64: x = ((const double *)data)[i]; break;
        case IR_DTYPE_I64: x = (double)((const int64_t *)data)[i]; break;
        case IR_DTYPE_I32: x = ((const int32_t *)data)[i]; break;
        case IR_DTYPE_I8: x = ((const int8_t *)data)[i]; break;
        case IR_DTYPE_U8:
        case IR_DTYPE_BOOL: x = ((const uint8_t *)data)[i]; break;
        case IR_DTYPE_COUNT: break;
        }
        printf(i ? ", %.6g" : "%.6g", x);
    }
    printf(n > 16 ? ", ... (%lld values)]\n" : "]\n", (long long)n);
}

/* Writes every output to DIR/NAME.npy. */
static bool write_outputs(const char *dir, const ir_graph *g, void *const *bufs, ir_diag *d)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "loom: cannot create %s: %s\n", dir, strerror(errno));
        return false;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        char name[256], path[4096];
        safe_name(g->outputs[i]->name, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s.npy", dir, name);
        if (fe_npy_write(path, g->outputs[i]->dtype, &g->outputs[i]->shape, bufs[i], d)) {
            flush_diag(d);
            return false;
        }
    }
    return true;
}


static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- compiling to C ---- */

/* A C identifier from a file name: its base name without extension, with
 * characters outside [A-Za-z0-9_] as '_' and a leading digit prefixed. */
static void ident_from_path(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t n = strcspn(b, ".");
    size_t at = 0;
    if (n == 0 || (b[0] >= '0' && b[0] <= '9'))
        at = (size_t)snprintf(buf, size, "m_");
    for (size_t i = 0; i < n && at + 1 < size; i++) {
        char c = b[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        buf[at++] = ok ? c : '_';
    }
    buf[at] = '\0';
}

static bool weights_mode(const char *s, be_weights_mode *m)
{
    static const struct { const char *name; be_weights_mode mode; } modes[] = {
        {"auto", BE_WEIGHTS_AUTO}, {"inline", BE_WEIGHTS_INLINE},
        {"incbin", BE_WEIGHTS_INCBIN}, {"file", BE_WEIGHTS_FILE},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(s ? s : "auto", modes[i].name) == 0) {
            *m = modes[i].mode;
            return true;
        }
    return false;
}

/* Runs the pipeline on g and writes DIR/BASE.c, .h and the runtime. The
 * planned function is returned in *out_f when out_f is not NULL. */
static loom_status compile_graph(ir_graph *g, const cli_opts *o, const char *dir, const char *base,
                                 const char *name, be_weights_mode mode, loop_func **out_f,
                                 ir_diag *d)
{
    loop_func *f = NULL;
    loom_status st = be_compile(g, name, &f, d);
    if (st)
        return st;
    be_c_opts copts = {.weights = mode, .standalone = o->standalone, .source_name = o->model};
    st = be_c_emit(f, &copts, dir, base, d);
    if (!st && !o->standalone)
        st = be_c_write_runtime(dir, d);
    if (out_f && !st)
        *out_f = f;
    else
        loop_func_free(f);
    return st;
}

/* mkdir -p: creates dir and its missing parents; false (and a message) on
 * failure. */
static bool make_dirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "loom: cannot create %s: %s\n", path, strerror(errno));
                return false;
            }
            if (end)
                return true;
            *p = '/';
        }
    }
}

static int cmd_compile(int argc, char **argv)
{
    cli_opts o = {0};
    int rc = parse_opts(argc, argv, compile_help, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    bool loops = o.emit && strcmp(o.emit, "loops") == 0;
    bool llvm = o.emit && (strcmp(o.emit, "llvm") == 0 || strcmp(o.emit, "obj") == 0);
    be_weights_mode mode;
    if (o.emit && !loops && !llvm && strcmp(o.emit, "c") != 0)
        return usage_error(compile_help, "unknown --emit=%s (c, loops, llvm or obj)", o.emit);
    if (llvm && !o.output)
        return usage_error(compile_help, "--emit=%s needs -o FILE", o.emit);
    if (!weights_mode(o.weights_mode, &mode))
        return usage_error(compile_help, "unknown --weights=%s", o.weights_mode);
    if (!loops && !llvm && (!o.output || !ends_with(o.output, ".c")))
        return usage_error(compile_help, "%s", "-o DIR/NAME.c is required");
    char name[256], dir[4096], base[512];
    ident_from_path(o.name ? o.name : o.output ? o.output : o.model, name, sizeof name);
    if (o.name && strcmp(name, o.name) != 0)
        return usage_error(compile_help, "--name %s is not a C identifier", o.name);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = load(&o, &d);
    if (!g) {
        ir_diag_free(&d);
        return EXIT_BAD_INPUT;
    }
    loom_status st;
    if (llvm) {
        st = tool_jit_emit(g, name, o.emit, o.output, &d);
    } else if (loops) {
        loop_func *f = NULL;
        st = be_compile(g, name, &f, &d);
        FILE *out = !st && o.output ? fopen(o.output, "w") : stdout;
        if (!st && out) {
            loop_print(f, out);
            if (out != stdout)
                fclose(out);
        } else if (!st) {
            fprintf(stderr, "loom: cannot write %s: %s\n", o.output, strerror(errno));
            st = LOOM_STATUS_IO;
        }
        loop_func_free(f);
    } else {
        const char *slash = strrchr(o.output, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - o.output) : 1,
                 slash ? o.output : ".");
        snprintf(base, sizeof base, "%.*s", (int)(strlen(slash ? slash + 1 : o.output) - 2),
                 slash ? slash + 1 : o.output);
        loop_func *f = NULL;
        st = make_dirs(dir) ? compile_graph(g, &o, dir, base, name, mode, &f, &d) : LOOM_STATUS_IO;
        if (!st) {
            /* the planner's report: arena, lower bound, and their ratio */
            printf("%s/%s.c: workspace %lld bytes, lower bound %lld bytes (ratio %.3f)\n", dir,
                   base, (long long)f->workspace_bytes, (long long)f->workspace_lower_bound,
                   f->workspace_lower_bound
                       ? (double)f->workspace_bytes / (double)f->workspace_lower_bound
                       : 1.0);
        }
        loop_func_free(f);
    }
    flush_diag(&d);
    ir_graph_free(g);
    ir_diag_free(&d);
    return st ? EXIT_BAD_INPUT : 0;
}

/* ---- building and loading the compiled model (run --backend=c, bench) ---- */

/* Removes every file in dir, then dir (a temporary build folder). */
static void remove_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(dp);
    }
    rmdir(dir);
}

typedef struct built_model {
    char dir[64];
    be_cc_module m;
    be_llvm_module *jit; /* --backend=jit: m.run is its entry */
    void *workspace;
    int64_t workspace_bytes;
} built_model;

static bool is_jit(const cli_opts *o)
{
    return o->backend && strcmp(o->backend, "jit") == 0;
}

/* Compiles g to C in a temporary folder, builds it and loads it; with
 * --backend=jit compiles it in-process instead. */
static loom_status build_model(ir_graph *g, const cli_opts *o, built_model *bm, ir_diag *d)
{
    /* loom links OpenBLAS (the JIT's kernels); a loaded model shares it */
    be_llvm_set_threads(o->threads ? (int)o->threads : 1);
    if (is_jit(o)) {
        loom_status st = tool_jit_build(g, o->time, &bm->jit, d);
        if (st)
            return st;
        bm->m.run = be_llvm_entry(bm->jit);
        bm->workspace_bytes = be_llvm_workspace_bytes(bm->jit);
        size_t ws = (size_t)(bm->workspace_bytes + 63) / 64 * 64;
        bm->workspace = ws ? aligned_alloc(64, ws) : NULL;
        if (ws && !bm->workspace) {
            ir_diag_errorf(d, "out of memory for a %zu-byte workspace", ws);
            return LOOM_STATUS_NOMEM;
        }
        return LOOM_STATUS_OK;
    }
    snprintf(bm->dir, sizeof bm->dir, "/tmp/loom-build-XXXXXX");
    if (!mkdtemp(bm->dir)) {
        ir_diag_errorf(d, "cannot create a temporary folder: %s", strerror(errno));
        bm->dir[0] = '\0';
        return LOOM_STATUS_IO;
    }
    loop_func *f = NULL;
    loom_status st = compile_graph(g, o, bm->dir, "model", "model", BE_WEIGHTS_AUTO, &f, d);
    if (st)
        return st;
    bm->workspace_bytes = f->workspace_bytes;
    loop_func_free(f);
    char threads[32];
    snprintf(threads, sizeof threads, "%ld", o->threads ? o->threads : 1);
    setenv("OPENBLAS_NUM_THREADS", threads, 1);
    be_cc_opts ccopts = {.standalone = o->standalone};
    st = be_cc_build(bm->dir, "model", "model", &ccopts, &bm->m, d);
    if (st)
        return st;
    size_t ws = (size_t)(bm->workspace_bytes + 63) / 64 * 64;
    bm->workspace = ws ? aligned_alloc(64, ws) : NULL;
    if (ws && !bm->workspace) {
        ir_diag_errorf(d, "out of memory for a %zu-byte workspace", ws);
        return LOOM_STATUS_NOMEM;
    }
    return LOOM_STATUS_OK;
}

static void free_model(built_model *bm)
{
    if (bm->jit)
        be_llvm_free(bm->jit);
    else
        be_cc_unload(&bm->m);
    free(bm->workspace);
    if (bm->dir[0])
        remove_dir(bm->dir);
}

/* Allocates output buffers, runs the interpreter, prints and writes. */
static int run_graph(const cli_opts *o, ir_graph *g, const fe_npy *arrays, ir_diag *d)
{
    const void **in = ir_calloc((size_t)g->n_inputs + 1, sizeof *in);
    void **out = ir_calloc((size_t)g->n_outputs + 1, sizeof *out);
    int rc = EXIT_BAD_INPUT;
    if (!in || !out)
        goto done;
    for (int i = 0; i < g->n_inputs; i++)
        in[i] = arrays[i].data;
    for (int i = 0; i < g->n_outputs; i++)
        if (!(out[i] = ir_calloc(1, ir_value_bytes(g->outputs[i]))))
            goto done;
    if (o->backend && (strcmp(o->backend, "c") == 0 || is_jit(o))) {
        built_model bm = {0};
        loom_status st = build_model(g, o, &bm, d);
        int status = st ? 0 : bm.m.run(in, out, bm.workspace);
        free_model(&bm);
        if (st || status) {
            if (!st)
                fprintf(stderr, "%s: the compiled model returned %d\n", o->model, status);
            flush_diag(d);
            goto done;
        }
    } else if (interp_run(g, in, out, d) != LOOM_STATUS_OK) {
        flush_diag(d);
        goto done;
    }
    for (int i = 0; i < g->n_outputs; i++)
        print_output(g->outputs[i], out[i]);
    rc = o->output && !write_outputs(o->output, g, out, d) ? EXIT_BAD_INPUT : 0;
done:
    if (rc && (!in || !out))
        fprintf(stderr, "loom: out of memory\n");
    for (int i = 0; out && i < g->n_outputs; i++)
        ir_free(out[i]);
    ir_free(out);
    ir_free(in);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    cli_opts o = {0};
    int rc = parse_opts(argc, argv, run_help, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.backend && strcmp(o.backend, "c") != 0 && strcmp(o.backend, "interp") != 0 && !is_jit(&o))
        return usage_error(run_help, "unknown --backend=%s (interp, c or jit)", o.backend);
    ir_diag d;
    ir_diag_init(&d);
    double t0 = be_now_ms();
    ir_graph *g = load(&o, &d);
    if (o.time)
        fprintf(stderr, "time: load %.1f ms\n", be_now_ms() - t0);
    if (!g) {
        ir_diag_free(&d);
        return EXIT_BAD_INPUT;
    }
    fe_npy *arrays = ir_calloc((size_t)g->n_inputs + 1, sizeof *arrays);
    rc = EXIT_BAD_INPUT;
    if (!arrays)
        fprintf(stderr, "loom: out of memory\n");
    else if (read_inputs(&o, g, arrays, &d))
        rc = run_graph(&o, g, arrays, &d);
    for (int i = 0; arrays && i < g->n_inputs; i++)
        fe_npy_free(&arrays[i]);
    ir_free(arrays);
    ir_graph_free(g);
    ir_diag_free(&d);
    return rc;
}


/* Writes text IR to path through a temporary file renamed into place. */
static bool write_lir(const ir_graph *g, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "loom: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    ir_print_opts popts = {.elide_constants = false};
    bool ok = ir_print(g, &popts, f) == LOOM_STATUS_OK;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "loom: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    return ok;
}

static int cmd_convert(int argc, char **argv)
{
    cli_opts o = {0};
    int rc = parse_opts(argc, argv, convert_help, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!o.output)
        return usage_error(convert_help, "%s", "no output given (-o OUT.lir or -o OUT.json)");
    if (!ends_with(o.output, ".lir") && !ends_with(o.output, ".json"))
        return usage_error(convert_help, "cannot tell the format of %s (use .lir or .json)",
                           o.output);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = load(&o, &d);
    if (!g) {
        ir_diag_free(&d);
        return EXIT_BAD_INPUT;
    }
    rc = 0;
    if (ends_with(o.output, ".lir")) {
        rc = write_lir(g, o.output) ? 0 : EXIT_BAD_INPUT;
    } else {
        char weights[4096];
        snprintf(weights, sizeof weights, "%.*s.safetensors", (int)(strlen(o.output) - 5),
                 o.output);
        const char *wpath = o.inline_weights ? NULL : o.weights ? o.weights : weights;
        if (fe_json_write(g, o.output, wpath, &d) != LOOM_STATUS_OK) {
            flush_diag(&d);
            rc = EXIT_BAD_INPUT;
        }
    }
    ir_graph_free(g);
    ir_diag_free(&d);
    return rc;
}

/* ---- bench ---- */

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

/* Times `runs` calls after 3 warm-up calls; fills times[]. */
static bool time_runs(const cli_opts *o, const ir_graph *g, built_model *bm, const void **in,
                      void **out, double *times, ir_diag *d)
{
    for (long r = -3; r < o->runs; r++) {
        double t0 = now_ms();
        bool ok = bm ? bm->m.run(in, out, bm->workspace) == 0
                     : interp_run(g, in, out, d) == LOOM_STATUS_OK;
        double t1 = now_ms();
        if (!ok)
            return false;
        if (r >= 0)
            times[r] = t1 - t0;
    }
    return true;
}

static void print_bench(const cli_opts *o, const double *times, int64_t ws)
{
    qsort((void *)times, (size_t)o->runs, sizeof *times, cmp_double);
    double med = o->runs % 2 ? times[o->runs / 2]
                             : (times[o->runs / 2 - 1] + times[o->runs / 2]) / 2;
    const char *backend = o->backend ? o->backend : "c";
    if (o->json)
        printf("{\"model\": \"%s\", \"backend\": \"%s\", \"threads\": %ld, \"runs\": %ld, "
               "\"min_ms\": %.4f, \"median_ms\": %.4f, \"workspace_bytes\": %lld}\n",
               o->model, backend, o->threads, o->runs, times[0], med, (long long)ws);
    else
        printf("%s (%s, %ld thread%s, %ld runs): min %.4f ms, median %.4f ms, workspace %lld "
               "bytes\n",
               o->model, backend, o->threads, o->threads == 1 ? "" : "s", o->runs, times[0], med,
               (long long)ws);
}

static int cmd_bench(int argc, char **argv)
{
    cli_opts o = {.runs = 20, .threads = 1};
    int rc = parse_opts(argc, argv, bench_help, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    bool compiled = !o.backend || strcmp(o.backend, "c") == 0 || is_jit(&o);
    if (!compiled && strcmp(o.backend, "interp") != 0)
        return usage_error(bench_help, "unknown --backend=%s (c, jit or interp)", o.backend);
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = load(&o, &d);
    if (!g) {
        ir_diag_free(&d);
        return EXIT_BAD_INPUT;
    }
    rc = EXIT_BAD_INPUT;
    size_t nin = (size_t)g->n_inputs + 1, nout = (size_t)g->n_outputs + 1;
    const void **in = ir_calloc(nin, sizeof *in);
    void **out = ir_calloc(nout, sizeof *out);
    double *times = ir_calloc((size_t)o.runs, sizeof *times);
    built_model bm = {0};
    bool ok = in && out && times;
    for (int i = 0; ok && i < g->n_inputs; i++) {
        void *p = ir_calloc(1, ir_value_bytes(g->inputs[i]));
        fill_random(p, g->inputs[i]->dtype, ir_shape_numel(&g->inputs[i]->shape), (uint32_t)i);
        in[i] = p;
        ok = p != NULL;
    }
    for (int i = 0; ok && i < g->n_outputs; i++)
        ok = (out[i] = ir_calloc(1, ir_value_bytes(g->outputs[i]))) != NULL;
    if (!ok)
        fprintf(stderr, "loom: out of memory\n");
    else if (compiled && build_model(g, &o, &bm, &d) != LOOM_STATUS_OK)
        flush_diag(&d);
    else if (!time_runs(&o, g, compiled ? &bm : NULL, in, out, times, &d))
        flush_diag(&d);
    else {
        print_bench(&o, times, compiled ? bm.workspace_bytes : 0);
        rc = 0;
    }
    free_model(&bm);
    for (int i = 0; in && i < g->n_inputs; i++)
        ir_free((void *)in[i]);
    for (int i = 0; out && i < g->n_outputs; i++)
        ir_free(out[i]);
    ir_free(in);
    ir_free(out);
    ir_free(times);
    ir_graph_free(g);
    ir_diag_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "convert") == 0)
        return cmd_convert(argc, argv);
    if (strcmp(cmd, "compile") == 0)
        return cmd_compile(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    if (strcmp(cmd, "help") == 0) {
        const char *topic = argc > 2 ? argv[2] : "";
        fputs(strcmp(topic, "inspect") == 0   ? inspect_help
              : strcmp(topic, "run") == 0     ? run_help
              : strcmp(topic, "convert") == 0 ? convert_help
              : strcmp(topic, "compile") == 0 ? compile_help
              : strcmp(topic, "bench") == 0   ? bench_help
                                              : usage_text,
              stdout);
        return 0;
    }
    fprintf(stderr, "loom: unknown command \"%s\"\n%s", cmd, usage_text);
    return EXIT_USAGE;
}
