/*
 * loom-opt: the .lir driver, like LLVM's opt and mlir-opt. Reads a .lir file
 * (or stdin), which the parser infers and verifies, runs the named passes in
 * order with the verifier after each, and prints the result. With
 * --split-input-file the input is cut at lines starting with `// -----`,
 * each piece is handled on its own (diagnostics keep whole-file line
 * numbers) and the outputs are joined with `// -----` lines.
 * --print-after=PASS and --print-after-all print the graph to stderr after
 * the named pass (or every pass) as `// -----// IR after NAME //----- //`
 * followed by the graph, as mlir-opt does.
 *
 * Exit status: 0 success, 1 bad input (diagnostics on stderr), 2 bad usage.
 * Output is written only at the end; with -o the file is left untouched if
 * any piece failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_text.h"
#include "loom_cli.h"
#include "passes.h"

/* The pass table is the registry, passes/passes.def (pass_table). */

/* ---- command line ---- */

#define MAX_PASSES 64

typedef struct opt_args {
    const char *input;  /* path, or "-" for stdin */
    const char *output; /* NULL: stdout */
    bool split, elide;
    const pass_info *passes[MAX_PASSES];
    int n_passes;
    const pass_info *print_after; /* --print-after=PASS */
    bool print_after_all;
} opt_args;

static const char usage_text[] =
    "usage: loom-opt FILE.lir [options]\n"
    "\n"
    "Reads a .lir graph (FILE may be - for stdin), verifies it, runs the\n"
    "named passes in order (verifying after each) and prints the result.\n"
    "\n"
    "options:\n"
    "  --passes=a,b          run passes a then b\n"
    "  --print-after=PASS    print the graph to stderr after each run of PASS\n"
    "  --print-after-all     print the graph to stderr after every pass\n"
    "  --list-passes         list the passes with a line on each\n"
    "  --split-input-file    handle each piece between '// -----' lines on its own\n"
    "  --elide-constants     print large constants as <elided>\n"
    "  -o OUT                write the result to OUT instead of stdout\n"
    "  --help                show this help\n"
    "  --version             show the versions of loom, LLVM and OpenBLAS\n"
    "\n"
    "exit status: 0 success, 1 invalid input, 2 bad usage\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loom-opt: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'loom-opt --help'.\n");
    va_end(ap);
    return 2;
}

/* Lists the available passes after an unknown name. */
static int unknown_pass(const char *name, size_t len)
{
    fprintf(stderr, "loom-opt: unknown pass \"%.*s\"; available passes:", (int)len, name);
    for (int i = 0; i < pass_count; i++)
        fprintf(stderr, " %s", pass_table[i].name);
    fprintf(stderr, "\n");
    return 2;
}

/* --list-passes: name, default -O level and description of each pass. */
static int list_passes(void)
{
    for (int i = 0; i < pass_count; i++)
        printf("%-16s -O%d  %s\n", pass_table[i].name, pass_table[i].min_level,
               pass_table[i].description);
    return 0;
}

/* Resolves a comma-separated pass list; returns 0 or an exit status. */
static int parse_pass_list(const char *list, opt_args *a)
{
    const char *s = list;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == 0)
            return usage_error("empty pass name in --passes=%s", list);
        const pass_info *p = pass_lookup(s, len);
        if (!p)
            return unknown_pass(s, len);
        if (a->n_passes == MAX_PASSES)
            return usage_error("too many passes in --passes=%s", list);
        a->passes[a->n_passes++] = p;
        s += len + (comma ? 1 : 0);
    }
    return 0;
}

/* Fills a from argv; returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, opt_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int st = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            cli_print_version("loom-opt");
            return 0;
        } else if (strncmp(arg, "--passes=", 9) == 0) {
            st = parse_pass_list(arg + 9, a);
        } else if (strcmp(arg, "--passes") == 0 || strcmp(arg, "-o") == 0) {
            if (i + 1 == argc)
                return usage_error("%s needs an argument", arg);
            if (arg[1] == 'o')
                a->output = argv[++i];
            else
                st = parse_pass_list(argv[++i], a);
        } else if (strcmp(arg, "--list-passes") == 0) {
            return list_passes();
        } else if (strncmp(arg, "--print-after=", 14) == 0) {
            a->print_after = pass_lookup(arg + 14, strlen(arg + 14));
            if (!a->print_after)
                return unknown_pass(arg + 14, strlen(arg + 14));
        } else if (strcmp(arg, "--print-after-all") == 0) {
            a->print_after_all = true;
        } else if (strcmp(arg, "--split-input-file") == 0) {
            a->split = true;
        } else if (strcmp(arg, "--elide-constants") == 0) {
            a->elide = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return usage_error("unknown option %s", arg);
        } else if (a->input) {
            return usage_error("more than one input file (%s)", arg);
        } else {
            a->input = arg;
        }
        if (st)
            return st;
    }
    if (!a->input)
        return usage_error("no input file (use - for stdin)");
    return -1;
}

/* ---- input and output ---- */

/* Reads all of f into an ir_malloc'd buffer; NULL on failure. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = ir_malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = ir_realloc(buf, cap * 2);
        if (!nb)
            ir_free(buf);
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        ir_free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The output collected in memory and written at the end. */
typedef struct out_buf {
    char *text;
    size_t len, cap;
    bool failed;
} out_buf;

static void out_append(out_buf *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n)
            cap *= 2;
        char *nt = ir_realloc(o->text, cap);
        if (!nt) {
            o->failed = true;
            return;
        }
        o->text = nt;
        o->cap = cap;
    }
    memcpy(o->text + o->len, s, n);
    o->len += n;
}

/* ---- processing ---- */

/* Prints g to stderr under an mlir-opt style banner. */
static void print_after(const ir_graph *g, const char *pass, const opt_args *a)
{
    ir_print_opts po = {.elide_constants = a->elide};
    size_t n;
    char *s = ir_print_string(g, &po, &n);
    fprintf(stderr, "// -----// IR after %s //----- //\n", pass);
    if (s)
        fwrite(s, 1, n, stderr);
    else
        fprintf(stderr, "loom-opt: out of memory printing the graph\n");
    ir_free(s);
}

/* Runs the passes in order, each followed by the verifier (pass_run). */
static loom_status run_passes(ir_graph *g, const opt_args *a, ir_diag *d)
{
    loom_status st = LOOM_STATUS_OK;
    for (int i = 0; st == LOOM_STATUS_OK && i < a->n_passes; i++) {
        st = pass_run(g, a->passes[i], d);
        if (!st && (a->print_after_all || a->print_after == a->passes[i]))
            print_after(g, a->passes[i]->name, a);
    }
    return st;
}

/* Parses one piece, runs the passes and appends the printed result;
 * returns false (after printing diagnostics) on failure. */
static bool process(const char *text, size_t len, const char *name, int first_line,
                    const opt_args *a, out_buf *out)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse_at_line(text, len, name, first_line, &g, &d);
    if (st == LOOM_STATUS_OK && a->n_passes)
        st = run_passes(g, a, &d);
    if (st == LOOM_STATUS_OK) {
        ir_print_opts po = {.elide_constants = a->elide};
        size_t n;
        char *s = ir_print_string(g, &po, &n);
        if (s)
            out_append(out, s, n);
        else
            ir_diag_errorf(&d, "loom-opt: out of memory printing the graph");
        st = s ? LOOM_STATUS_OK : LOOM_STATUS_NOMEM;
        ir_free(s);
    }
    if (st != LOOM_STATUS_OK)
        cli_report(&d, name, "loom-opt", st);
    else if (d.text)
        fputs(d.text, stderr);
    ir_diag_free(&d);
    ir_graph_free(g);
    return st == LOOM_STATUS_OK;
}

/* True when the line at s starts (after blanks) with the split marker. */
static bool is_split_line(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return (size_t)(end - s) >= 8 && memcmp(s, "// -----", 8) == 0;
}

/* Handles each piece between split lines; returns the number that failed. */
static int process_split(const char *text, size_t len, const char *name, const opt_args *a,
                         out_buf *out)
{
    const char *end = text + len, *piece = text, *s = text;
    int line = 1, piece_line = 1, failed = 0, n_pieces = 0;
    while (s <= end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol)
            eol = end;
        bool last = eol == end;
        if (is_split_line(s, eol) || last) {
            const char *piece_end = last && !is_split_line(s, eol) ? end : s;
            if (n_pieces++)
                out_append(out, "// -----\n", 9);
            if (!process(piece, (size_t)(piece_end - piece), name, piece_line, a, out))
                failed++;
            piece = eol + (last ? 0 : 1);
            piece_line = line + 1;
        }
        if (last)
            break;
        s = eol + 1;
        line++;
    }
    return failed;
}

static bool write_output(const opt_args *a, const out_buf *out)
{
    FILE *f = a->output ? fopen(a->output, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "loom-opt: cannot write %s: %s\n", a->output, strerror(errno));
        return false;
    }
    int err = fwrite(out->text ? out->text : "", 1, out->len, f) == out->len ? 0 : errno;
    if (fflush(f) != 0 && !err)
        err = errno;
    if (a->output && fclose(f) != 0 && !err)
        err = errno;
    if (err)
        fprintf(stderr, "loom-opt: cannot write %s: %s\n", a->output ? a->output : "stdout",
                strerror(err));
    return !err;
}

int main(int argc, char **argv)
{
    opt_args a = {0};
    int st = parse_args(argc, argv, &a);
    if (st >= 0)
        return st;
    bool from_stdin = strcmp(a.input, "-") == 0;
    const char *name = from_stdin ? "<stdin>" : a.input;
    FILE *f = from_stdin ? stdin : fopen(a.input, "rb");
    if (!f) {
        fprintf(stderr, "loom-opt: cannot open %s: %s\n", a.input, strerror(errno));
        return 1;
    }
    size_t len = 0;
    errno = 0;
    char *text = read_all(f, &len);
    int err = errno ? errno : ENOMEM;
    if (!from_stdin)
        fclose(f);
    if (!text) {
        fprintf(stderr, "loom-opt: cannot read %s: %s\n", name, strerror(err));
        return 1;
    }
    out_buf out = {0};
    int failed = a.split ? process_split(text, len, name, &a, &out)
                         : !process(text, len, name, 1, &a, &out);
    bool ok = !out.failed;
    if (out.failed)
        fprintf(stderr, "loom-opt: out of memory\n");
    else if (!failed || !a.output)
        ok = write_output(&a, &out);
    ir_free(out.text);
    ir_free(text);
    return ok && !failed ? 0 : 1;
}
