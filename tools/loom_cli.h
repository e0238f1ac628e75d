/*
 * The loom command line, shared by its commands (tools/loom_cmd_*.c): one
 * option table that says which command takes which option, the parser that
 * rejects everything else, and the steps several commands repeat (loading
 * with --dim/--const, reading --input files, building the compiled model,
 * progress notes on stderr). Only the CLI prints and picks exit codes:
 *   0 success, 1 bad model/data or failed run (diagnostics on stderr),
 *   2 wrong usage (with the command's usage text).
 */
#ifndef LOOM_CLI_H
#define LOOM_CLI_H

#include "be_c.h"
#include "be_cc.h"
#include "fe.h"
#include "ir.h"
#include "loop_ir.h"
#include "passes.h"
#include "loom.h"

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2
#define CLI_MAX_ARGS 256

/* One bit per command, for the option table. */
enum {
    CLI_INSPECT = 1 << 0,
    CLI_RUN = 1 << 1,
    CLI_CONVERT = 1 << 2,
    CLI_COMPILE = 1 << 3,
    CLI_BENCH = 1 << 4,
};

typedef struct cli_command cli_command;

/* The parsed command line of one command. */
typedef struct cli_opts {
    const cli_command *cmd;
    const char *model;
    const char *dims[CLI_MAX_ARGS + 1]; /* NULL-terminated, for fe_load_model */
    int n_dims;
    const char *inputs[CLI_MAX_ARGS];   /* --input NAME=FILE or FILE */
    int n_inputs;
    const char *consts[CLI_MAX_ARGS];   /* --const NAME=FILE */
    int n_consts;
    const char *output;       /* -o / --output */
    const char *weights_file; /* convert --weights-file */
    const char *keras_weights; /* --keras-weights: a Keras .json's weights */
    const char *name;         /* compile --name */
    const char *emit;         /* compile --emit: "c" or "loops" */
    const char *backend;      /* run, bench: "interp" or "c" */
    const char *weights_mode; /* compile --weights=MODE */
    long runs, threads;
    long min_time_ms;         /* bench --min-time: runs to fill at least this span */
    bool threads_given;
    bool summary_only, show_weights, inline_weights, standalone, json, mem_report;
    bool unchecked;           /* compile: no checks of input data */
    bool time;                /* run: print the compile phases' times */
    pass_options passes;      /* -O0..-O3, --disable-pass (run, compile, bench) */
} cli_opts;

/* A command: check (may be NULL) vets the options before the model is
 * loaded and returns 0 or EXIT_USAGE; run gets the loaded model and returns
 * the exit code. */
struct cli_command {
    const char *name;
    unsigned bit;
    const char *help; /* usage text, printed by --help and on usage errors */
    int (*check)(const cli_opts *o);
    int (*run)(const cli_opts *o, ir_graph *g, ir_diag *d);
};

extern const cli_command cli_inspect, cli_run, cli_convert, cli_compile, cli_bench;

/* Parses argv[2..] for cmd into o (defaults already set by the caller).
 * Returns 0 to go on, -1 after printing --help, or EXIT_USAGE after
 * printing why and the command's usage. */
int cli_parse(int argc, char **argv, const cli_command *cmd, cli_opts *o);
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints d's text to stderr and clears it. */
void cli_flush_diag(ir_diag *d);
/* After a failed step: prints d's text, or "WHO: WHAT failed: STATUS" when
 * the library left no message, so no failure is silent. */
void cli_report(ir_diag *d, const char *who, const char *what, loom_status st);
/* Loads o->model with o->dims and o->consts, or prints why not (NULL). */
ir_graph *cli_load(const cli_opts *o, ir_diag *d);
/* Reads the --input files into arrays[] (one per graph input, checked
 * against its dtype and shape). A graph input without --input is an error
 * when required, else left empty (data NULL). Prints every problem. */
bool cli_read_inputs(const cli_opts *o, const ir_graph *g, fe_npy *arrays, bool required,
                     ir_diag *d);
/* A zeroed buffer for v, or NULL after printing what could not be had. */
void *cli_alloc_value(const ir_value *v, const char *what);
/* mkdir -p; false after printing why. */
bool cli_make_dirs(const char *dir);
/* Creates the folder part of path, if any (as cli_make_dirs). */
bool cli_make_parent(const char *path);
bool cli_ends_with(const char *s, const char *suffix);

/* Progress notes: cli_progress_begin arms a one-second timer that prints
 * "loom: WHAT..." on stderr if the step is still running; _end disarms it. */
void cli_progress_begin(const char *what);
void cli_progress_end(void);

/* libloom's compile options from the command line's: --backend (default
 * c for bench, else interp), -O, --disable-pass (names into disabled,
 * PASS_MAX_DISABLED + 1 entries), --threads (0: 1), --unchecked,
 * --standalone, and dir as the C backend's build folder. */
loom_compile_options cli_compile_options(const cli_opts *o, const char **disabled,
                                         const char *dir);

/* The model compiled through libloom for --backend (interp, c or jit),
 * with one workspace; the C backend builds in a temporary folder under
 * $TMPDIR, removed by cli_built_free (or by SIGINT/SIGTERM). */
typedef struct cli_built {
    char dir[4096];
    loom_compiled *c;
    loom_workspace *ws;
} cli_built;

/* Compiles g (which the passes change; it must outlive bm) and makes the
 * workspace; with o->time prints the compile phases' times. */
loom_status cli_build(ir_graph *g, const cli_opts *o, cli_built *bm, ir_diag *d);
/* Runs the built model once; false after printing why (the failing node
 * of a data error included). */
bool cli_built_run(const cli_opts *o, cli_built *bm, const void *const *in, void *const *out);
void cli_built_free(cli_built *bm);

/* --backend=jit */
bool cli_is_jit(const cli_opts *o);

/* Prints loom's version, git revision, LLVM and OpenBLAS versions. */
void cli_print_version(const char *tool);

#endif
