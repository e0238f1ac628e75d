/*
 * Builds emitted C with the system C compiler into a shared object and
 * loads it, for `loom run --backend=c`, `loom bench` and the tests.
 */
#ifndef LOOM_BE_CC_H
#define LOOM_BE_CC_H

#include "ir.h"

typedef int (*be_run_fn)(const void *const *inputs, void *const *outputs, void *workspace);

typedef int (*be_last_error_fn)(const void *workspace, const char **node, const char **op);

typedef struct be_cc_module {
    void *handle;
    be_run_fn run;
    be_last_error_fn last_error; /* NAME_last_error: the failing node */
} be_cc_module;

typedef struct be_cc_opts {
    bool standalone;     /* the portable runtime, no OpenBLAS */
    bool inline_runtime; /* the .c carries the runtime (be_c's standalone form);
                            otherwise the runtime files in DIR are built once
                            per flags and cached */
    bool sanitize;     /* build with -fsanitize=address,undefined */
    const char *cc;    /* compiler; NULL: $CC or "cc" */
} be_cc_opts;

/* Compiles DIR/BASE.c (plus, unless inline_runtime, the runtime files in
 * DIR, and the weights assembly if present) into DIR/BASE.so, loads it and finds NAME_run_v
 * and NAME_last_error. */
loom_status be_cc_build(const char *dir, const char *base, const char *name,
                        const be_cc_opts *opts, be_cc_module *m, ir_diag *d);
void be_cc_unload(be_cc_module *m);

/* Runs argv (argv[0] looked up in PATH), waiting for it; true on exit 0.
 * Its output goes to the caller's stderr. */
bool be_cc_spawn(char *const *argv, ir_diag *d);

#endif
