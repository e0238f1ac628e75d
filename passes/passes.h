/*
 * Graph passes, one per file, one entry point each, listed once in
 * passes.def, and the pipeline that runs them. Passes rewrite an ir_graph in
 * place through the rewrite API (ir.h, ir_rewrite.c); they never see the
 * loop IR (lowering and memory planning are the backend's: backend/be.h).
 */
#ifndef LOOM_PASSES_H
#define LOOM_PASSES_H

#include "ir.h"

/* A pass takes a verified graph and leaves one that verifies again; on
 * error it reports to d and returns an error status. */
typedef loom_status (*pass_fn)(ir_graph *g, ir_diag *d);

#define PASS(name, entry, level, desc) loom_status entry(ir_graph *g, ir_diag *d);
#include "passes.def"
#undef PASS

typedef struct pass_info {
    const char *name;
    pass_fn run;
    int min_level;
    const char *description;
} pass_info;

/* The registry in pipeline order, and its length. */
extern const pass_info pass_table[];
extern const int pass_count;

/* The pass called name[0..len), or NULL. */
const pass_info *pass_lookup(const char *name, size_t len);

#define PASS_MAX_LEVEL 3
#define PASS_MAX_DISABLED 16

/* How the default pipeline runs: -O level and passes left out. */
typedef struct pass_options {
    int opt_level; /* 0..PASS_MAX_LEVEL */
    const pass_info *disabled[PASS_MAX_DISABLED];
    int n_disabled;
} pass_options;

/* The defaults: -O3, nothing disabled. */
pass_options pass_options_default(void);
/* Adds the pass called name to the disabled list; false when there is no
 * such pass or the list is full. */
bool pass_options_disable(pass_options *o, const char *name);

/* Runs one pass, then the verifier; catches the arena's out-of-memory
 * jump. A graph that no longer verifies is reported against the pass. */
loom_status pass_run(ir_graph *g, const pass_info *p, ir_diag *d);

/* The graph middle end: verify, then every registered pass whose level is
 * at most opts->opt_level and that is not disabled, in registry order,
 * with the verifier after each. opts NULL means the defaults. On error g
 * may be partly rewritten and d says why. */
loom_status pass_pipeline(ir_graph *g, const pass_options *opts, ir_diag *d);

#endif
