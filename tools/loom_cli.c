/*
 * The command line's shared half: the option table (which command takes
 * which option), the parser, loading a model with --dim and --const, and
 * reading --input files. A command sees only its own options: anything
 * else is a usage error (exit 2) with the command's usage text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loom_cli.h"
#include "loomrt.h"

enum { ALL = CLI_INSPECT | CLI_RUN | CLI_CONVERT | CLI_COMPILE | CLI_BENCH };

typedef enum opt_id {
    O_DIM, O_CONST, O_INPUT, O_OUTPUT, O_NAME, O_EMIT, O_BACKEND, O_WEIGHTS_FILE,
    O_WEIGHTS_MODE, O_SHOW_WEIGHTS, O_RUNS, O_MIN_TIME, O_THREADS, O_STANDALONE, O_JSON, O_SUMMARY_ONLY,
    O_INLINE_WEIGHTS, O_OPT_LEVEL, O_DISABLE_PASS, O_MEM_REPORT, O_UNCHECKED, O_TIME,
    O_KERAS_WEIGHTS,
} opt_id;

typedef struct cli_option {
    const char *name;
    opt_id id;
    bool value; /* takes a value: "--opt V" or "--opt=V" */
    unsigned cmds;
} cli_option;

/* docs/cli.md lists the same; `--weights` is a value on compile and a flag
 * on inspect. */
static const cli_option options[] = {
    {"--dim", O_DIM, true, ALL},
    {"--input-shape", O_DIM, true, ALL},
    {"--const", O_CONST, true, ALL},
    {"--keras-weights", O_KERAS_WEIGHTS, true, ALL},
    {"--input", O_INPUT, true, CLI_RUN | CLI_BENCH},
    {"--output", O_OUTPUT, true, CLI_RUN | CLI_CONVERT | CLI_COMPILE},
    {"-o", O_OUTPUT, true, CLI_RUN | CLI_CONVERT | CLI_COMPILE},
    {"--name", O_NAME, true, CLI_COMPILE},
    {"--emit", O_EMIT, true, CLI_COMPILE},
    {"--backend", O_BACKEND, true, CLI_RUN | CLI_BENCH},
    {"--weights-file", O_WEIGHTS_FILE, true, CLI_CONVERT},
    {"--weights", O_WEIGHTS_MODE, true, CLI_COMPILE},
    {"--weights", O_SHOW_WEIGHTS, false, CLI_INSPECT},
    {"--runs", O_RUNS, true, CLI_BENCH},
    {"--min-time", O_MIN_TIME, true, CLI_BENCH},
    {"--threads", O_THREADS, true, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"--standalone", O_STANDALONE, false, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"--json", O_JSON, false, CLI_BENCH},
    {"--summary-only", O_SUMMARY_ONLY, false, CLI_INSPECT},
    {"--inline-weights", O_INLINE_WEIGHTS, false, CLI_CONVERT},
    {"--mem-report", O_MEM_REPORT, false, CLI_COMPILE},
    {"--unchecked", O_UNCHECKED, false, CLI_COMPILE},
    {"--time", O_TIME, false, CLI_RUN},
    {"-O0", O_OPT_LEVEL, false, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"-O1", O_OPT_LEVEL, false, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"-O2", O_OPT_LEVEL, false, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"-O3", O_OPT_LEVEL, false, CLI_RUN | CLI_COMPILE | CLI_BENCH},
    {"--disable-pass", O_DISABLE_PASS, true, CLI_RUN | CLI_COMPILE | CLI_BENCH},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loom: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", cmd->help);
    return EXIT_USAGE;
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

/* The NAME of "NAME=FILE" (or "" for a bare FILE) into buf. */
static void binding_name(const char *s, char *buf, size_t size)
{
    const char *eq = strchr(s, '=');
    snprintf(buf, size, "%.*s", eq ? (int)(eq - s) : 0, s);
}

/* Usage error when v names the same graph input as an earlier --input or
 * --const (two bare --input FILEs count as the same). */
static int check_duplicate(const cli_opts *o, const char *opt, const char *v)
{
    char name[512], other[512];
    binding_name(v, name, sizeof name);
    if (strcmp(opt, "--const") == 0 && !name[0])
        return cli_usage_error(o->cmd, "--const %s: write NAME=FILE.npy", v);
    for (int k = 0; k < 2; k++) {
        const char *const *list = k ? o->consts : o->inputs;
        for (int i = 0, n = k ? o->n_consts : o->n_inputs; i < n; i++) {
            binding_name(list[i], other, sizeof other);
            if (strcmp(name, other) == 0 && name[0])
                return cli_usage_error(o->cmd, "%s %s: input \"%s\" is already given by %s %s",
                                       opt, v, name, k ? "--const" : "--input", list[i]);
            if (strcmp(name, other) == 0)
                return cli_usage_error(o->cmd, "--input %s: a second --input without NAME= "
                                       "(the first is %s)", v, list[i]);
        }
    }
    return 0;
}

/* Appends v to a list of at most CLI_MAX_ARGS entries. */
static int push_arg(const cli_opts *o, const char **list, int *n, const char *opt, const char *v)
{
    if (*n == CLI_MAX_ARGS)
        return cli_usage_error(o->cmd, "too many %s options", opt);
    list[(*n)++] = v;
    return 0;
}

/* Stores a single-valued option, refusing a second one. */
static int set_once(const cli_opts *o, const char **slot, const char *opt, const char *v)
{
    if (*slot)
        return cli_usage_error(o->cmd, "%s given twice (%s and %s)", opt, *slot, v);
    *slot = v;
    return 0;
}

/* --disable-pass=NAME: NAME must be a registered pass (passes/passes.def). */
static int disable_pass(cli_opts *o, const char *name)
{
    if (pass_options_disable(&o->passes, name))
        return 0;
    fprintf(stderr, "loom: unknown pass \"%s\" in --disable-pass; passes:", name);
    for (int i = 0; i < pass_count; i++)
        fprintf(stderr, " %s", pass_table[i].name);
    fprintf(stderr, "\n%s", o->cmd->help);
    return EXIT_USAGE;
}

/* Applies option opt with value v (NULL for flags) to o. */
static int apply(cli_opts *o, const cli_option *opt, const char *v)
{
    int rc;
    switch (opt->id) {
    case O_DIM: return push_arg(o, o->dims, &o->n_dims, opt->name, v);
    case O_CONST:
        if ((rc = check_duplicate(o, opt->name, v)))
            return rc;
        return push_arg(o, o->consts, &o->n_consts, opt->name, v);
    case O_INPUT:
        if ((rc = check_duplicate(o, opt->name, v)))
            return rc;
        return push_arg(o, o->inputs, &o->n_inputs, opt->name, v);
    case O_OUTPUT: return set_once(o, &o->output, "-o/--output", v);
    case O_NAME: return set_once(o, &o->name, opt->name, v);
    case O_EMIT: return set_once(o, &o->emit, opt->name, v);
    case O_BACKEND: return set_once(o, &o->backend, opt->name, v);
    case O_WEIGHTS_FILE: return set_once(o, &o->weights_file, opt->name, v);
    case O_KERAS_WEIGHTS: return set_once(o, &o->keras_weights, opt->name, v);
    case O_WEIGHTS_MODE: return set_once(o, &o->weights_mode, opt->name, v);
    case O_RUNS:
        return parse_count(v, &o->runs) ? 0 : cli_usage_error(o->cmd, "bad --runs %s", v);
    case O_MIN_TIME:
        return parse_count(v, &o->min_time_ms) ? 0
                                               : cli_usage_error(o->cmd, "bad --min-time %s", v);
    case O_THREADS:
        o->threads_given = true;
        return parse_count(v, &o->threads) && o->threads <= LOOMRT_MAX_THREADS
                   ? 0
                   : cli_usage_error(o->cmd, "bad --threads %s (1 to %d)", v, LOOMRT_MAX_THREADS);
    case O_SHOW_WEIGHTS: o->show_weights = true; return 0;
    case O_STANDALONE: o->standalone = true; return 0;
    case O_JSON: o->json = true; return 0;
    case O_SUMMARY_ONLY: o->summary_only = true; return 0;
    case O_INLINE_WEIGHTS: o->inline_weights = true; return 0;
    case O_MEM_REPORT: o->mem_report = true; return 0;
    case O_UNCHECKED: o->unchecked = true; return 0;
    case O_TIME: o->time = true; return 0;
    case O_OPT_LEVEL: o->passes.opt_level = opt->name[2] - '0'; return 0;
    case O_DISABLE_PASS: return disable_pass(o, v);
    }
    return cli_usage_error(o->cmd, "internal error: option %s has no handler", opt->name);
}

/* The table entry for `name` (the part of the argument before any '=')
 * that cmd takes; NULL with *known set when only other commands take it. */
static const cli_option *find_option(const char *name, size_t len, unsigned cmd, bool *known)
{
    *known = false;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strlen(options[i].name) != len || strncmp(options[i].name, name, len) != 0)
            continue;
        *known = true;
        if (options[i].cmds & cmd)
            return &options[i];
    }
    return NULL;
}

/* Handles the option at argv[*i], advancing *i past its value. */
static int parse_option(int argc, char **argv, int *i, cli_opts *o)
{
    const char *arg = argv[*i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    bool known;
    const cli_option *opt = find_option(arg, len, o->cmd->bit, &known);
    if (!opt && known)
        return cli_usage_error(o->cmd, "loom %s does not take %.*s", o->cmd->name, (int)len, arg);
    if (!opt)
        return cli_usage_error(o->cmd, "unknown option %s", arg);
    if (!opt->value && eq)
        return cli_usage_error(o->cmd, "option %s takes no value", opt->name);
    const char *v = NULL;
    if (opt->value) {
        if (!eq && *i + 1 >= argc)
            return cli_usage_error(o->cmd, "option %s needs a value", arg);
        v = eq ? eq + 1 : argv[++*i];
    }
    return apply(o, opt, v);
}

int cli_parse(int argc, char **argv, const cli_command *cmd, cli_opts *o)
{
    o->cmd = cmd;
    o->passes = pass_options_default();
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(cmd->help, stdout);
            return -1;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            rc = parse_option(argc, argv, &i, o);
        } else if (!o->model) {
            o->model = arg;
        } else {
            rc = cli_usage_error(cmd, "unexpected argument %s", arg);
        }
        if (rc)
            return rc;
    }
    if (!o->model)
        return cli_usage_error(cmd, "%s", "no MODEL given");
    o->dims[o->n_dims] = NULL;
    return 0;
}

bool cli_is_jit(const cli_opts *o)
{
    return o->backend && strcmp(o->backend, "jit") == 0;
}

void cli_flush_diag(ir_diag *d)
{
    if (d->text && d->len)
        fputs(d->text, stderr);
    ir_diag_clear(d);
}

void cli_report(ir_diag *d, const char *who, const char *what, loom_status st)
{
    if (d->n_errors == 0)
        fprintf(stderr, "%s: %s failed: %s\n", who, what, loom_status_name(st));
    cli_flush_diag(d);
}

bool cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the --const files into arrays[] and binds[]; prints problems. */
static bool read_consts(const cli_opts *o, fe_npy *arrays, ir_value *vals, fe_binding *binds,
                        ir_diag *d)
{
    bool ok = true;
    for (int i = 0; i < o->n_consts; i++) {
        const char *eq = strchr(o->consts[i], '=');
        loom_status st = fe_npy_read(eq + 1, &arrays[i], d);
        if (st) {
            cli_report(d, eq + 1, "reading", st);
            ok = false;
            continue;
        }
        vals[i] = (ir_value){.name = eq + 1, .dtype = arrays[i].dtype, .shape = arrays[i].shape,
                             .shape_known = true, .data = arrays[i].data};
        binds[i] = (fe_binding){.name = NULL, .value = &vals[i]};
    }
    return ok;
}

ir_graph *cli_load(const cli_opts *o, ir_diag *d)
{
    fe_npy arrays[CLI_MAX_ARGS] = {0};
    ir_value vals[CLI_MAX_ARGS];
    fe_binding binds[CLI_MAX_ARGS];
    char names[CLI_MAX_ARGS][512];
    ir_graph *g = NULL;
    loom_status st = LOOM_STATUS_IO;
    if (read_consts(o, arrays, vals, binds, d)) {
        for (int i = 0; i < o->n_consts; i++) {
            binding_name(o->consts[i], names[i], sizeof names[i]);
            binds[i].name = names[i];
        }
        cli_progress_begin("loading the model");
        st = fe_load_model_weights(o->model, o->keras_weights, o->dims, binds, o->n_consts, &g,
                                   d);
        cli_progress_end();
        if (st != LOOM_STATUS_OK)
            cli_report(d, o->model, "loading", st);
    }
    for (int i = 0; i < o->n_consts; i++)
        fe_npy_free(&arrays[i]);
    cli_flush_diag(d);
    return st ? NULL : g;
}

/* Which --input names graph input v (NAME=FILE, or the lone FILE when the
 * graph has one input): its file, or NULL. */
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

/* Every --input must name a graph input; a bare FILE needs a graph with
 * exactly one input. Prints each problem. */
static bool check_input_names(const cli_opts *o, const ir_graph *g)
{
    bool ok = true;
    for (int i = 0; i < o->n_inputs; i++) {
        char name[512];
        binding_name(o->inputs[i], name, sizeof name);
        const ir_value *v = name[0] ? ir_graph_find_value(g, name) : NULL;
        if (!name[0] && g->n_inputs == 1 && o->n_inputs == 1)
            continue;
        if (v && v->is_input)
            continue;
        fprintf(stderr, "loom: --input %s: ", o->inputs[i]);
        if (!name[0])
            fprintf(stderr, "write NAME=FILE.npy: the model has %d inputs;", g->n_inputs);
        else
            fprintf(stderr, "the model has no input \"%s\"; its inputs are", name);
        for (int k = 0; k < g->n_inputs; k++)
            fprintf(stderr, "%s \"%s\"", k ? "," : "", g->inputs[k]->name);
        fprintf(stderr, "%s\n", g->n_inputs ? "" : " none");
        ok = false;
    }
    return ok;
}

bool cli_read_inputs(const cli_opts *o, const ir_graph *g, fe_npy *arrays, bool required,
                     ir_diag *d)
{
    bool ok = check_input_names(o, g);
    for (int i = 0; ok && i < g->n_inputs; i++) {
        const ir_value *v = g->inputs[i];
        const char *file = input_file(o, g, v);
        if (!file) {
            if (required)
                fprintf(stderr, "loom: no --input for graph input \"%s\"\n", v->name);
            ok = !required && ok;
            continue;
        }
        loom_status st = fe_npy_read(file, &arrays[i], d);
        if (st) {
            cli_report(d, file, "reading", st);
            ok = false;
            continue;
        }
        if (arrays[i].dtype != v->dtype || !ir_shape_equal(&arrays[i].shape, &v->shape)) {
            char want[128], got[128];
            ir_shape_format(&v->shape, want, sizeof want);
            ir_shape_format(&arrays[i].shape, got, sizeof got);
            fprintf(stderr, "%s: input \"%s\" is %s%s, the model expects %s%s\n", file, v->name,
                    ir_dtype_name(arrays[i].dtype), got, ir_dtype_name(v->dtype), want);
            ok = false;
        }
    }
    return ok;
}

void *cli_alloc_value(const ir_value *v, const char *what)
{
    size_t bytes;
    void *p = NULL;
    if (ir_shape_bytes(&v->shape, v->dtype, &bytes))
        p = ir_calloc(1, bytes ? bytes : 1);
    if (!p) {
        char shape[128];
        ir_shape_format(&v->shape, shape, sizeof shape);
        fprintf(stderr, "loom: cannot allocate %s \"%s\" (%s%s, %.0f bytes): %s\n", what, v->name,
                ir_dtype_name(v->dtype), shape,
                (double)ir_shape_numel(&v->shape) * (double)ir_dtype_size(v->dtype),
                strerror(ENOMEM));
    }
    return p;
}

bool cli_make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        fprintf(stderr, "loom: cannot create %s: %s\n", dir, strerror(ENAMETOOLONG));
        return false;
    }
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

bool cli_make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return true;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return cli_make_dirs(dir);
}
