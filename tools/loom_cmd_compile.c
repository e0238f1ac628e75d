/*
 * loom compile: compiles the model to C (DIR/NAME.c and NAME.h, plus the
 * runtime files or, with --standalone, the portable runtime inlined), or
 * writes the planned loop IR, the graph after the passes, LLVM IR or an
 * object file (--emit), all through libloom's loom_emit; reports the memory
 * planner's workspace against its lower bound.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loom_api_internal.h"
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

static bool weights_mode(const char *s, loom_weights *m)
{
    static const struct { const char *name; loom_weights mode; } modes[] = {
        {"auto", LOOM_WEIGHTS_AUTO}, {"inline", LOOM_WEIGHTS_INLINE},
        {"incbin", LOOM_WEIGHTS_INCBIN}, {"file", LOOM_WEIGHTS_FILE},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(s ? s : "auto", modes[i].name) == 0) {
            *m = modes[i].mode;
            return true;
        }
    return false;
}

/* --mem-report: the planner's arena, its lower bound and their ratio. */
static void mem_report(const loom_emit_info *info, const char *model, FILE *out)
{
    double lb = (double)info->workspace_lower_bound;
    fprintf(out, "%s: workspace %lld bytes, lower bound %lld bytes (ratio %.3f)\n", model,
            (long long)info->workspace_bytes, (long long)info->workspace_lower_bound,
            lb > 0 ? (double)info->workspace_bytes / lb : 1.0);
}

/* The kind --emit names (no --emit: C); false for an unknown name. */
static bool emit_kind(const char *emit, loom_emit_kind *kind)
{
    static const struct { const char *name; loom_emit_kind kind; } kinds[] = {
        {"c", LOOM_EMIT_C},       {"loops", LOOM_EMIT_LOOPS}, {"lir", LOOM_EMIT_LIR},
        {"llvm", LOOM_EMIT_LLVM}, {"obj", LOOM_EMIT_OBJ},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(emit ? emit : "c", kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    return false;
}

static int check_compile(const cli_opts *o)
{
    loom_emit_kind kind;
    loom_weights mode;
    char name[256];
    if (!emit_kind(o->emit, &kind))
        return cli_usage_error(o->cmd, "unknown --emit=%s (c, loops, lir, llvm or obj)", o->emit);
    if ((kind == LOOM_EMIT_LLVM || kind == LOOM_EMIT_OBJ) && !o->output)
        return cli_usage_error(o->cmd, "--emit=%s needs -o FILE", o->emit);
    if (!weights_mode(o->weights_mode, &mode))
        return cli_usage_error(o->cmd, "unknown --weights=%s", o->weights_mode);
    if (kind == LOOM_EMIT_C && (!o->output || !cli_ends_with(o->output, ".c") ||
                                cli_ends_with(o->output, "/.c") || strcmp(o->output, ".c") == 0))
        return cli_usage_error(o->cmd, "%s", "-o DIR/NAME.c is required");
    if (kind != LOOM_EMIT_C && (o->standalone || o->weights_mode))
        return cli_usage_error(o->cmd, "%s", "--standalone and --weights apply to --emit=c");
    ident_from_path(o->name ? o->name : o->model, name, sizeof name);
    if (o->name && strcmp(name, o->name) != 0)
        return cli_usage_error(o->cmd, "--name %s is not a C identifier", o->name);
    return 0;
}

static int cmd_compile(const cli_opts *o, ir_graph *g, ir_diag *d)
{
    const char *disabled[PASS_MAX_DISABLED + 1];
    loom_compile_options co = cli_compile_options(o, disabled, NULL);
    co.threads = (int)o->threads; /* NAME_DEFAULT_THREADS: 0 means 1 */
    weights_mode(o->weights_mode, &co.weights); /* check_compile accepted it */
    char name[256];
    ident_from_path(o->name ? o->name : o->output ? o->output : o->model, name, sizeof name);
    loom_emit_kind kind = LOOM_EMIT_C;
    emit_kind(o->emit, &kind); /* check_compile accepted it */
    loom_emit_info info;
    loom_status st = LOOM_STATUS_OK;
    if (kind == LOOM_EMIT_C && !cli_make_parent(o->output))
        st = LOOM_STATUS_IO;
    if (!st)
        st = loom_emit_graph(g, &co, kind, o->output, name, &info, d);
    if (st)
        cli_report(d, o->model, "compiling", st);
    else if (o->mem_report && kind != LOOM_EMIT_LIR)
        mem_report(&info, o->model, kind == LOOM_EMIT_LOOPS && !o->output ? stderr : stdout);
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
        "NAME_run_v (default 1; NAME_run_threads takes one per call), and the\n"
        "runs (slots, at least 2) a batch's convolution images are split into,\n"
        "each with its own scratch (docs/loop-ir.md), and at batch 1 the blocks\n"
        "of Winograd's scratch, one a thread.\n"
        "--mem-report prints the workspace (arena) bytes, the planner's lower\n"
        "bound and their ratio.\n"
        "--const binds a graph input to a constant when the model is loaded.\n",
};
