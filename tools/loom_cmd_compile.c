/*
 * loom compile: compiles the model to C (DIR/NAME.c and NAME.h, plus the
 * runtime files or, with --standalone, the portable runtime inlined), or
 * prints the planned loop IR with --emit=loops, and reports the memory
 * planner's workspace against its lower bound.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "be.h"
#include "ir_text.h"
#include "loom_cli.h"

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

/* --mem-report: the planner's arena, its lower bound and their ratio. */
static void mem_report(const loop_func *f, const char *model, FILE *out)
{
    double lb = (double)f->workspace_lower_bound;
    fprintf(out, "%s: workspace %lld bytes, lower bound %lld bytes (ratio %.3f)\n", model,
            (long long)f->workspace_bytes, (long long)f->workspace_lower_bound,
            lb > 0 ? (double)f->workspace_bytes / lb : 1.0);
}

/* --emit=loops: the planned loop IR to -o or stdout. */
static loom_status emit_loops(ir_graph *g, const cli_opts *o, const char *name, ir_diag *d)
{
    loop_func *f = NULL;
    lower_opts lopts = {.unchecked = o->unchecked};
    loom_status st = be_compile_with(g, name, &o->passes, &lopts, &f, d);
    FILE *out = st || !o->output ? stdout : fopen(o->output, "w");
    if (!out) {
        ir_diag_errorf(d, "%s: cannot write: %s", o->output, strerror(errno));
        st = LOOM_STATUS_IO;
    } else if (!st) {
        if (o->mem_report)
            mem_report(f, o->model, out == stdout ? stderr : stdout);
        loop_print(f, out);
        int err = ferror(out) || fflush(out) ? (errno ? errno : EIO) : 0;
        if (out != stdout && fclose(out) != 0 && !err)
            err = errno;
        if (err) {
            ir_diag_errorf(d, "%s: cannot write: %s", o->output ? o->output : "stdout",
                           strerror(err));
            st = LOOM_STATUS_IO;
        }
    }
    loop_func_free(f);
    return st;
}

/* --emit=lir: the graph after the pass pipeline, as .lir, to -o or stdout,
 * so a user sees what was folded and fused. */
static loom_status emit_lir(ir_graph *g, const cli_opts *o, ir_diag *d)
{
    loom_status st = pass_pipeline(g, &o->passes, d);
    if (st)
        return st;
    FILE *out = o->output ? fopen(o->output, "w") : stdout;
    if (!out) {
        ir_diag_errorf(d, "%s: cannot write: %s", o->output, strerror(errno));
        return LOOM_STATUS_IO;
    }
    st = ir_print(g, &(ir_print_opts){0}, out);
    int err = ferror(out) || fflush(out) ? (errno ? errno : EIO) : 0;
    if (out != stdout && fclose(out) != 0 && !err)
        err = errno;
    if (err) {
        ir_diag_errorf(d, "%s: cannot write: %s", o->output ? o->output : "stdout", strerror(err));
        st = LOOM_STATUS_IO;
    }
    return st;
}

/* The C files into the folder of -o; prints the planner's report. */
static loom_status emit_c(ir_graph *g, const cli_opts *o, const char *name, be_weights_mode mode,
                          ir_diag *d)
{
    char dir[4096], base[512];
    const char *slash = strrchr(o->output, '/');
    const char *file = slash ? slash + 1 : o->output;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - o->output) : 1,
             slash ? o->output : ".");
    snprintf(base, sizeof base, "%.*s", (int)(strlen(file) - 2), file);
    if (!cli_make_dirs(dir[0] ? dir : "/"))
        return LOOM_STATUS_IO;
    loop_func *f = NULL;
    loom_status st = cli_compile_to(g, o, dir, base, name, mode, &f, d);
    if (!st && o->mem_report)
        mem_report(f, o->model, stdout);
    loop_func_free(f);
    return st;
}

static int check_compile(const cli_opts *o)
{
    bool llvm = o->emit && (strcmp(o->emit, "llvm") == 0 || strcmp(o->emit, "obj") == 0);
    bool loops = o->emit && (strcmp(o->emit, "loops") == 0 || strcmp(o->emit, "lir") == 0);
    be_weights_mode mode;
    char name[256];
    if (o->emit && !loops && !llvm && strcmp(o->emit, "c") != 0)
        return cli_usage_error(o->cmd, "unknown --emit=%s (c, loops, lir, llvm or obj)", o->emit);
    if (llvm && !o->output)
        return cli_usage_error(o->cmd, "--emit=%s needs -o FILE", o->emit);
    loops = loops || llvm;
    if (!weights_mode(o->weights_mode, &mode))
        return cli_usage_error(o->cmd, "unknown --weights=%s", o->weights_mode);
    if (!loops && (!o->output || !cli_ends_with(o->output, ".c") ||
                   cli_ends_with(o->output, "/.c") || strcmp(o->output, ".c") == 0))
        return cli_usage_error(o->cmd, "%s", "-o DIR/NAME.c is required");
    if (loops && (o->standalone || o->weights_mode))
        return cli_usage_error(o->cmd, "%s", "--standalone and --weights apply to --emit=c");
    ident_from_path(o->name ? o->name : o->model, name, sizeof name);
    if (o->name && strcmp(name, o->name) != 0)
        return cli_usage_error(o->cmd, "--name %s is not a C identifier", o->name);
    return 0;
}

static int cmd_compile(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    be_weights_mode mode = BE_WEIGHTS_AUTO; /* check_compile accepted the name */
    char name[256];
    weights_mode(o->weights_mode, &mode);
    ident_from_path(o->name ? o->name : o->output ? o->output : o->model, name, sizeof name);
    bool loops = o->emit && strcmp(o->emit, "loops") == 0;
    bool lir = o->emit && strcmp(o->emit, "lir") == 0;
    bool llvm = o->emit && (strcmp(o->emit, "llvm") == 0 || strcmp(o->emit, "obj") == 0);
    lower_opts lopts = {.unchecked = o->unchecked};
    loom_status st = llvm    ? tool_jit_emit(g, &o->passes, &lopts, (int)o->threads, name, o->emit,
                                            o->output, d)
                     : lir   ? emit_lir(g, o, d)
                     : loops ? emit_loops(g, o, name, d)
                             : emit_c(g, o, name, mode, d);
    if (st)
        cli_report(d, o->model, "compiling", st);
    return st ? EXIT_BAD_INPUT : 0;
}

const cli_command cli_compile = {
    .name = "compile",
    .bit = CLI_COMPILE,
    .check = check_compile,
    .run = cmd_compile,
    .help =
        "usage: loom compile MODEL -o DIR/NAME.c [--name IDENT] [--emit=c|loops|lir|llvm|obj]\n"
        "                          [-O0|-O1|-O2|-O3] [--disable-pass=NAME]...\n"
        "                          [--standalone] [--weights=auto|inline|incbin|file]\n"
        "                          [--mem-report] [--unchecked] [--threads N]\n"
        "                          [--dim NAME=N]... [--input-shape IN=D,D,...]...\n"
        "                          [--const IN=FILE.npy]... [--keras-weights FILE]\n"
        "Writes DIR/NAME.c and DIR/NAME.h, specialized to the model's shapes, and\n"
        "the runtime (loomrt.h, loomrt_*.c) beside them; --standalone inlines a\n"
        "portable runtime into NAME.c instead (no OpenBLAS). Weights: inline\n"
        "hex floats up to 1 MiB (auto), else NAME.weights.bin linked through\n"
        "NAME.weights.S (.incbin), or loaded by the caller (file).\n"
        "--emit=loops prints the planned loop IR to -o (or stdout) instead;\n"
        "--emit=lir the graph after the passes (what was folded and fused);\n"
        "--emit=llvm writes the optimized LLVM IR and --emit=obj an object file\n"
        "defining NAME_run_v (weights inside) to -o.\n"
        "-O0 only folds constants; -O1 adds canonicalize, cse, dce; -O2 and -O3\n"
        "(the default) fold BatchNormalization and fuse epilogues (docs/passes.md).\n"
        "NAME_run returns a non-zero data error for an index out of range or an\n"
        "integer division by zero (docs/emitted-c.md); --unchecked drops those\n"
        "checks (indices are clamped, x / 0 gives 0).\n"
        "--threads N sets NAME_DEFAULT_THREADS, the thread count of NAME_run and\n"
        "NAME_run_v (default 1; NAME_run_threads takes one per call).\n"
        "--mem-report prints the workspace (arena) bytes, the planner's lower\n"
        "bound and their ratio.\n"
        "--const binds a graph input to a constant when the model is loaded.\n",
};
