/*
 * libloom's public API (include/loom.h): load, compile, query, run, free.
 * A model keeps its source path and load options; each compilation reloads
 * its own graph from them, so a compiled model owns everything it uses and
 * a model can be compiled many times, by several backends. Errors come back
 * as a status plus a loom_diag parsed from the ir_diag text that the rest
 * of loom writes ("FILE: node "NAME" (Op): reason").
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "be.h"
#include "be_llvm.h"
#include "be_c.h"
#include "be_cc.h"
#include "fe.h"
#include "fe_jsontext.h"
#include "interp.h"
#include "ir_text.h"
#include "loom_api_internal.h"
#include "loom.h"

struct loom_model {
    char *path;         /* the file, or for a model in memory its base folder */
    char *text;         /* a model in memory (copied bytes), or NULL */
    size_t text_len;
    loom_format format;
    char **dims;        /* NULL-terminated copies, or NULL */
    fe_binding *binds;
    ir_value *bound;    /* the values binds point at (data borrowed) */
    int n_binds;
    ir_graph *g;        /* loaded once, for validation */
};

struct loom_compiled {
    loom_backend backend;
    ir_graph *g;        /* I/O descriptions, the interpreter's program */
    bool owns_graph;    /* loom_compile's own graph, not loom_compile_graph's */
    be_cc_module cc;    /* LOOM_BACKEND_C; for LOOM_BACKEND_JIT, cc.run is jit's entry */
    be_llvm_module *jit; /* LOOM_BACKEND_JIT */
    size_t workspace_bytes;
    loom_compile_times times;
    /* JIT: the steps' nodes and ops, by the step index of the error record */
    char **step_nodes;
    ir_op *step_ops;
    int n_steps;
    int64_t error_offset;
};

struct loom_workspace {
    const loom_compiled *c;
    void *raw;          /* from ir_malloc; mem is raw aligned to 64 bytes */
    void *mem;
};

/* ---- diagnostics ---- */

static void copy_field(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Splits the first line of text ("FILE: node "N" (Op): msg") into out. */
static void diag_parse(loom_diag *out, const char *text)
{
    size_t line = strcspn(text, "\n");
    const char *node = strstr(text, ": node \"");
    if (node && (size_t)(node - text) < line) {
        copy_field(out->file, sizeof out->file, text, (size_t)(node - text));
        const char *name = node + 8, *q = strchr(name, '"');
        if (q && strncmp(q, "\" (", 3) == 0) {
            copy_field(out->node, sizeof out->node, name, (size_t)(q - name));
            const char *op = q + 3, *e = strchr(op, ')');
            if (e)
                copy_field(out->op, sizeof out->op, op, (size_t)(e - op));
        }
    } else {
        const char *colon = strstr(text, ": ");
        if (colon && (size_t)(colon - text) < line && !memchr(text, ' ', (size_t)(colon - text)))
            copy_field(out->file, sizeof out->file, text, (size_t)(colon - text));
    }
    copy_field(out->message, sizeof out->message, text, strlen(text));
    size_t n = strlen(out->message);
    if (n && out->message[n - 1] == '\n')
        out->message[n - 1] = '\0';
}

/* Fills out (if not NULL) from d and st; returns st and clears d. */
static loom_status diag_set(loom_diag *out, ir_diag *d, loom_status st)
{
    if (out) {
        memset(out, 0, sizeof *out);
        out->code = st;
        if (st)
            diag_parse(out, d->text && d->len ? d->text : loom_status_name(st));
    }
    ir_diag_free(d);
    return st;
}

/* Clears out for a call that succeeded; returns OK. */
static loom_status diag_ok(loom_diag *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    return LOOM_STATUS_OK;
}

/* Reports a misuse of the API: an INVALID_ARG (or given) status. */
static loom_status diag_fail(loom_diag *out, loom_status st, const char *fn, const char *why)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_diag_errorf(&d, "%s: %s", fn, why);
    return diag_set(out, &d, st);
}

/* ---- models ---- */

void loom_set_allocator(const loom_allocator *a)
{
    if (a)
        ir_alloc_set_hooks(a->malloc_fn, a->realloc_fn, a->free_fn);
    else
        ir_alloc_set_hooks(NULL, NULL, NULL);
}

loom_compile_options loom_compile_options_default(void)
{
    return (loom_compile_options){.backend = LOOM_BACKEND_INTERP, .opt_level = -1};
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ir_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void loom_model_free(loom_model *m)
{
    if (!m)
        return;
    for (int i = 0; m->dims && m->dims[i]; i++)
        ir_free(m->dims[i]);
    ir_free(m->dims);
    ir_free(m->binds);
    ir_free(m->bound);
    ir_free(m->path);
    ir_free(m->text);
    ir_graph_free(m->g);
    ir_free(m);
}

/* Copies the pins of opts into m; false when out of memory. */
static bool copy_dims(loom_model *m, const char *const *dims)
{
    int n = 0;
    while (dims && dims[n])
        n++;
    if (!dims)
        return true;
    m->dims = ir_calloc((size_t)n + 1, sizeof *m->dims);
    for (int i = 0; m->dims && i < n; i++)
        if (!(m->dims[i] = dup_str(dims[i])))
            return false;
    return m->dims != NULL;
}

/* Checks and copies the bound constants of opts; sets *why on bad ones. */
static loom_status copy_consts(loom_model *m, const loom_load_options *o, const char **why)
{
    if (o->n_consts < 0 || (o->n_consts && !o->consts)) {
        *why = "n_consts is negative, or consts is NULL";
        return LOOM_STATUS_INVALID_ARG;
    }
    if (!o->n_consts)
        return LOOM_STATUS_OK;
    m->binds = ir_calloc((size_t)o->n_consts, sizeof *m->binds);
    m->bound = ir_calloc((size_t)o->n_consts, sizeof *m->bound);
    if (!m->binds || !m->bound)
        return LOOM_STATUS_NOMEM;
    for (int i = 0; i < o->n_consts; i++) {
        const loom_const *k = &o->consts[i];
        if (!k->name || !k->data || k->rank < 0 || k->rank > LOOM_MAX_RANK ||
            (unsigned)k->dtype > LOOM_DTYPE_BOOL) {
            *why = "a bound constant has no name or data, a bad rank or a bad dtype";
            return LOOM_STATUS_INVALID_ARG;
        }
        ir_value *v = &m->bound[i];
        *v = (ir_value){.name = k->name, .dtype = (ir_dtype)k->dtype, .shape_known = true,
                        .data = (void *)k->data, .shape = {.rank = k->rank}};
        memcpy(v->shape.dims, k->dims, sizeof k->dims[0] * (size_t)k->rank);
        m->binds[i] = (fe_binding){.name = k->name, .value = v};
    }
    m->n_binds = o->n_consts;
    return LOOM_STATUS_OK;
}

/* Loads a fresh graph from m's source and options. */
static loom_status model_graph(const loom_model *m, ir_graph **out, ir_diag *d)
{
    static const fe_format formats[] = {FE_FORMAT_JSON, FE_FORMAT_LIR, FE_FORMAT_ONNX};
    const char *const *dims = (const char *const *)m->dims;
    if (m->text)
        return fe_load_memory_bound(m->text, m->text_len, formats[m->format], "<memory>", m->path,
                                    dims, m->binds, m->n_binds, out, d);
    return fe_load_model_bound(m->path, dims, m->binds, m->n_binds, out, d);
}

/* Copies opts into m and loads its graph once, to report a bad model now;
 * frees m on error. fn names the API call in argument errors. */
static loom_status model_finish(loom_model *m, const loom_load_options *opts, loom_model **out,
                                loom_diag *diag, const char *fn)
{
    const char *why = "out of memory";
    loom_status st = LOOM_STATUS_OK;
    if (opts && !copy_dims(m, opts->dims))
        st = LOOM_STATUS_NOMEM;
    if (!st && opts)
        st = copy_consts(m, opts, &why);
    if (st) {
        loom_model_free(m);
        return diag_fail(diag, st, fn, why);
    }
    ir_diag d;
    ir_diag_init(&d);
    st = model_graph(m, &m->g, &d);
    if (st) {
        loom_model_free(m);
        return diag_set(diag, &d, st);
    }
    *out = m;
    return diag_set(diag, &d, LOOM_STATUS_OK);
}

loom_status loom_model_load(const char *path, const loom_load_options *opts, loom_model **out,
                            loom_diag *diag)
{
    static const char fn[] = "loom_model_load";
    if (!out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, "out is NULL");
    *out = NULL;
    if (!path)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, "path is NULL");
    loom_model *m = ir_calloc(1, sizeof *m);
    if (!m || !(m->path = dup_str(path))) {
        loom_model_free(m);
        return diag_fail(diag, LOOM_STATUS_NOMEM, fn, "out of memory");
    }
    return model_finish(m, opts, out, diag, fn);
}

/* Checks load_memory's arguments; returns NULL or what is wrong. */
static const char *check_memory(const void *data, size_t size, loom_format format)
{
    if (!data || !size)
        return "data is NULL or size is 0";
    if ((unsigned)format > LOOM_FORMAT_ONNX)
        return "unknown format";
    return NULL;
}

loom_status loom_model_load_memory(const void *data, size_t size, loom_format format,
                                   const char *base_dir, const loom_load_options *opts,
                                   loom_model **out, loom_diag *diag)
{
    static const char fn[] = "loom_model_load_memory";
    if (!out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, "out is NULL");
    *out = NULL;
    const char *why = check_memory(data, size, format);
    if (why)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, why);
    loom_model *m = ir_calloc(1, sizeof *m);
    if (!m || !(m->path = dup_str(base_dir ? base_dir : ".")) || !(m->text = ir_malloc(size))) {
        loom_model_free(m);
        return diag_fail(diag, LOOM_STATUS_NOMEM, fn, "out of memory");
    }
    memcpy(m->text, data, size);
    m->text_len = size;
    m->format = format;
    return model_finish(m, opts, out, diag, fn);
}

/* ---- compiling ---- */

void loom_compiled_free(loom_compiled *c)
{
    if (!c)
        return;
    if (c->jit)
        be_llvm_free(c->jit);
    else
        be_cc_unload(&c->cc);
    for (int i = 0; c->step_nodes && i < c->n_steps; i++)
        ir_free(c->step_nodes[i]);
    ir_free(c->step_nodes);
    ir_free(c->step_ops);
    if (c->owns_graph)
        ir_graph_free(c->g);
    ir_free(c);
}

/* Removes dir and the files in it (the build leaves no subfolders). */
static void remove_dir(const char *dir)
{
    DIR *s = opendir(dir);
    struct dirent *e;
    while (s && (e = readdir(s)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4096 + sizeof e->d_name + 2];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (s)
        closedir(s);
    rmdir(dir);
}

/* The C backend's options from the API's. */
static be_c_opts c_options(const loom_compile_options *o, const char *source)
{
    static const be_weights_mode modes[] = {BE_WEIGHTS_AUTO, BE_WEIGHTS_INLINE,
                                            BE_WEIGHTS_INCBIN, BE_WEIGHTS_FILE};
    return (be_c_opts){.weights = modes[o->weights], .standalone = o->standalone,
                       .source_name = source, .threads = o->threads};
}

/* Emits f as C into dir, builds it with the system compiler and loads it.
 * A standalone build links the portable runtime as separate objects, built
 * once per flags and cached (be_cc.c); with o->inline_runtime it is the
 * one-file form --standalone writes (the runtime inlined), which runs the
 * same code and builds several times slower. */
static loom_status build_c(loom_compiled *c, const loom_compile_options *o, const loop_func *f,
                           const char *dir, ir_diag *d)
{
    double t0 = be_now_ms();
    bool inline_runtime = o->inline_runtime; /* only with standalone (check_options) */
    be_c_opts copts = c_options(o, c->g->source);
    copts.standalone = inline_runtime;
    loom_status st = be_c_emit(f, &copts, dir, "model", d);
    if (!st && !inline_runtime)
        st = be_c_write_runtime(dir, d);
    double t1 = be_now_ms();
    /* OpenBLAS reads this when the model's shared object loads it */
    char threads[32];
    snprintf(threads, sizeof threads, "%d", o->threads > 0 ? o->threads : 1);
    setenv("OPENBLAS_NUM_THREADS", threads, 1);
    be_cc_opts ccopts = {.standalone = o->standalone,
                         .inline_runtime = inline_runtime,
                         .sanitize = o->sanitize};
    if (!st)
        st = be_cc_build(dir, "model", "model", &ccopts, &c->cc, d);
    c->times.irgen_ms = t1 - t0;
    c->times.codegen_ms = be_now_ms() - t1;
    return st;
}

/* Builds f with the C backend in o->build_dir, or in a temporary folder
 * removed once the object is loaded. */
static loom_status compile_c(loom_compiled *c, const loom_compile_options *o, const loop_func *f,
                             ir_diag *d)
{
    if (o->build_dir)
        return build_c(c, o, f, o->build_dir, d);
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/loom-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        ir_diag_errorf(d, "%s: cannot create a temporary folder for the build", dir);
        return LOOM_STATUS_IO;
    }
    loom_status st = build_c(c, o, f, dir, d);
    remove_dir(dir);
    return st;
}

/* Keeps the node and op of every step, which name a data error the JIT's
 * code records by step index. */
static loom_status keep_step_names(loom_compiled *c, const loop_func *f)
{
    if (f->error_offset < 0 || !f->n_steps)
        return LOOM_STATUS_OK;
    c->step_nodes = ir_calloc((size_t)f->n_steps, sizeof *c->step_nodes);
    c->step_ops = ir_calloc((size_t)f->n_steps, sizeof *c->step_ops);
    if (!c->step_nodes || !c->step_ops)
        return LOOM_STATUS_NOMEM;
    c->n_steps = f->n_steps;
    for (int i = 0; i < f->n_steps; i++) {
        c->step_ops[i] = f->steps[i]->op;
        if (!(c->step_nodes[i] = dup_str(f->steps[i]->node_name ? f->steps[i]->node_name : "")))
            return LOOM_STATUS_NOMEM;
    }
    c->error_offset = f->error_offset;
    return LOOM_STATUS_OK;
}

/* Compiles f in-process through the LLVM backend (backend/llvm). */
static loom_status compile_jit(loom_compiled *c, const loom_compile_options *o,
                               const loop_func *f, ir_diag *d)
{
    be_llvm_opts lo = {.threads = o->threads, .no_cache = o->no_cache != 0};
    loom_status st = be_llvm_jit(f, &lo, &c->jit, d);
    if (st)
        return st;
    const be_llvm_times *lt = be_llvm_times_of(c->jit);
    c->times.irgen_ms = lt->irgen_ms;
    c->times.opt_ms = lt->opt_ms;
    c->times.codegen_ms = lt->codegen_ms;
    c->times.cache = (loom_cache_use)lt->cache;
    c->cc.run = be_llvm_entry(c->jit);
    return keep_step_names(c, f);
}

/* Checks the options loom_compile and loom_emit share; returns NULL or
 * what is wrong. */
static const char *check_common(const loom_compile_options *o)
{
    if (o->opt_level < -1 || o->opt_level > PASS_MAX_LEVEL)
        return "opt_level is not -1 or 0..3";
    if (o->threads < 0)
        return "threads is negative";
    if ((unsigned)o->weights > LOOM_WEIGHTS_FILE)
        return "unknown weights mode";
    return NULL;
}

/* Checks opts; returns NULL or what is wrong. */
static const char *check_options(const loom_compile_options *o)
{
    if ((unsigned)o->backend > LOOM_BACKEND_JIT)
        return "unknown backend";
    const char *why = check_common(o);
    if (why)
        return why;
    if (o->weights == LOOM_WEIGHTS_FILE)
        return "weights mode LOOM_WEIGHTS_FILE applies to loom_emit (the caller loads them)";
    if ((o->standalone || o->sanitize || o->build_dir) && o->backend != LOOM_BACKEND_C)
        return "standalone, sanitize and build_dir apply to the C backend";
    if (o->inline_runtime && !o->standalone)
        return "inline_runtime applies to standalone builds";
    if (o->no_cache && o->backend != LOOM_BACKEND_JIT)
        return "no_cache applies to the JIT backend";
    return NULL;
}

/* The pass pipeline's options from o; false (with d) on an unknown pass. */
static bool pass_opts(const loom_compile_options *o, pass_options *po, ir_diag *d)
{
    *po = pass_options_default();
    if (o->opt_level >= 0)
        po->opt_level = o->opt_level;
    for (int i = 0; o->disabled_passes && o->disabled_passes[i]; i++)
        if (!pass_options_disable(po, o->disabled_passes[i])) {
            ir_diag_errorf(d, "loom_compile: unknown pass \"%s\" in disabled_passes, or more "
                              "than %d disabled", o->disabled_passes[i], PASS_MAX_DISABLED);
            return false;
        }
    return true;
}

/* Runs the pipeline on c->g and hands the planned function to the backend. */
static loom_status compile_backend(loom_compiled *c, const loom_compile_options *o, ir_diag *d)
{
    pass_options po;
    if (!pass_opts(o, &po, d))
        return LOOM_STATUS_INVALID_ARG;
    if (o->backend == LOOM_BACKEND_INTERP)
        return LOOM_STATUS_OK;
    loop_func *f = NULL;
    lower_opts lo = {.unchecked = o->unchecked, .threads = o->threads};
    be_compile_times ct = {0};
    loom_status st = be_compile_timed(c->g, "model", &po, &lo, &f, &ct, d);
    c->times.passes_ms = ct.passes_ms;
    c->times.lower_ms = ct.lower_ms;
    if (!st) {
        c->workspace_bytes = (size_t)f->workspace_bytes;
        st = o->backend == LOOM_BACKEND_C ? compile_c(c, o, f, d) : compile_jit(c, o, f, d);
    }
    loop_func_free(f);
    return st;
}

/* loom_compile_graph for a graph c may own (c->owns_graph set by the
 * caller); c is freed on error. */
static loom_status compile_into(loom_compiled *c, const loom_compile_options *opts,
                                loom_compiled **out, ir_diag *d)
{
    loom_compile_options o = opts ? *opts : loom_compile_options_default();
    const char *why = check_options(&o);
    if (why)
        ir_diag_errorf(d, "loom_compile: %s", why);
    loom_status st = why ? LOOM_STATUS_INVALID_ARG : LOOM_STATUS_OK;
    c->backend = o.backend;
    if (!st)
        st = compile_backend(c, &o, d);
    if (st) {
        loom_compiled_free(c);
        return st;
    }
    *out = c;
    return LOOM_STATUS_OK;
}

loom_status loom_compile_graph(ir_graph *g, const loom_compile_options *o, loom_compiled **out,
                               ir_diag *d)
{
    *out = NULL;
    loom_compiled *c = ir_calloc(1, sizeof *c);
    if (!c) {
        ir_diag_errorf(d, "loom_compile: out of memory");
        return LOOM_STATUS_NOMEM;
    }
    c->g = g;
    return compile_into(c, o, out, d);
}

loom_status loom_compile(const loom_model *model, const loom_compile_options *opts,
                         loom_compiled **out, loom_diag *diag)
{
    if (!out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_compile", "out is NULL");
    *out = NULL;
    if (!model)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_compile", "model is NULL");
    loom_compiled *c = ir_calloc(1, sizeof *c);
    if (!c)
        return diag_fail(diag, LOOM_STATUS_NOMEM, "loom_compile", "out of memory");
    c->owns_graph = true;
    ir_diag d;
    ir_diag_init(&d);
    double t0 = be_now_ms();
    loom_status st = model_graph(model, &c->g, &d);
    if (st) {
        loom_compiled_free(c);
        return diag_set(diag, &d, st);
    }
    double load_ms = be_now_ms() - t0;
    st = compile_into(c, opts, out, &d);
    if (!st)
        (*out)->times.load_ms = load_ms;
    return diag_set(diag, &d, st);
}

/* ---- emitting files ---- */

/* Checks loom_emit's options; returns NULL or what is wrong. */
static const char *check_emit(const loom_compile_options *o, loom_emit_kind kind,
                              const char *path)
{
    if ((unsigned)kind > LOOM_EMIT_OBJ)
        return "unknown emit kind";
    if (!path && (kind == LOOM_EMIT_C || kind == LOOM_EMIT_LLVM || kind == LOOM_EMIT_OBJ))
        return "path is NULL";
    if (kind == LOOM_EMIT_C && (strlen(path) < 3 || strcmp(path + strlen(path) - 2, ".c") != 0 ||
                                path[strlen(path) - 3] == '/'))
        return "the C output's path must be DIR/NAME.c";
    const char *why = check_common(o);
    if (why)
        return why;
    if (kind != LOOM_EMIT_C && (o->standalone || o->weights != LOOM_WEIGHTS_AUTO))
        return "standalone and weights apply to LOOM_EMIT_C";
    if (o->inline_runtime)
        return "inline_runtime applies to loom_compile (LOOM_EMIT_C's standalone form "
               "always inlines the runtime)";
    return NULL;
}

/* Writes the text of the loop IR (f) or of the graph (g) to path through a
 * temporary file, or to stdout when path is NULL. */
static loom_status emit_text(const loop_func *f, const ir_graph *g, const char *path, ir_diag *d)
{
    fe_wfile w = {0};
    FILE *out = stdout;
    if (path) {
        loom_status st = fe_wfile_open(&w, path, d);
        if (st)
            return st;
        out = w.f;
    }
    loom_status st = f ? (loop_print(f, out), LOOM_STATUS_OK) : ir_print(g, &(ir_print_opts){0}, out);
    if (!path) {
        if (!st && (ferror(stdout) || fflush(stdout))) {
            ir_diag_errorf(d, "stdout: cannot write");
            st = LOOM_STATUS_IO;
        }
        return st;
    }
    if (!st)
        st = fe_wfile_close(&w, d);
    if (!st)
        st = fe_wfile_commit(&w, d);
    fe_wfile_abort(&w);
    return st;
}

/* Writes f as C: path's folder and its base name without ".c". */
static loom_status emit_c(const loop_func *f, const loom_compile_options *o, const char *source,
                          const char *path, ir_diag *d)
{
    char dir[4096], base[512];
    const char *slash = strrchr(path, '/');
    const char *file = slash ? slash + 1 : path;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(base, sizeof base, "%.*s", (int)(strlen(file) - 2), file);
    be_c_opts copts = c_options(o, source);
    loom_status st = be_c_emit(f, &copts, dir[0] ? dir : "/", base, d);
    if (!st && !o->standalone)
        st = be_c_write_runtime(dir[0] ? dir : "/", d);
    return st;
}

loom_status loom_emit_graph(ir_graph *g, const loom_compile_options *opts, loom_emit_kind kind,
                            const char *path, const char *name, loom_emit_info *info, ir_diag *d)
{
    loom_compile_options o = opts ? *opts : loom_compile_options_default();
    const char *why = check_emit(&o, kind, path);
    pass_options po;
    if (why) {
        ir_diag_errorf(d, "loom_emit: %s", why);
        return LOOM_STATUS_INVALID_ARG;
    }
    if (!pass_opts(&o, &po, d))
        return LOOM_STATUS_INVALID_ARG;
    if (kind == LOOM_EMIT_LIR) {
        loom_status st = pass_pipeline(g, &po, d);
        return st ? st : emit_text(NULL, g, path, d);
    }
    loop_func *f = NULL;
    lower_opts lo = {.unchecked = o.unchecked, .threads = o.threads};
    loom_status st = be_compile_with(g, name ? name : "model", &po, &lo, &f, d);
    if (!st && info)
        *info = (loom_emit_info){.workspace_bytes = (size_t)f->workspace_bytes,
                                 .workspace_lower_bound = (size_t)f->workspace_lower_bound};
    if (!st && kind == LOOM_EMIT_LOOPS)
        st = emit_text(f, NULL, path, d);
    else if (!st && kind == LOOM_EMIT_C)
        st = emit_c(f, &o, g->source, path, d);
    else if (!st)
        st = be_llvm_emit(f, &(be_llvm_opts){.threads = o.threads},
                          kind == LOOM_EMIT_OBJ ? BE_LLVM_EMIT_OBJ : BE_LLVM_EMIT_IR, path, NULL,
                          d);
    loop_func_free(f);
    return st;
}

/* True when name is a C identifier. */
static bool is_ident(const char *name)
{
    if (!name[0] || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

loom_status loom_emit(const loom_model *model, const loom_compile_options *opts,
                      loom_emit_kind kind, const char *path, const char *name,
                      loom_emit_info *info, loom_diag *diag)
{
    if (!model || !path)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_emit", "model or path is NULL");
    if (name && !is_ident(name))
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_emit", "name is not a C identifier");
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = model_graph(model, &g, &d);
    if (!st)
        st = loom_emit_graph(g, opts, kind, path, name, info, &d);
    ir_graph_free(g);
    return diag_set(diag, &d, st);
}

const ir_graph *loom_compiled_graph(const loom_compiled *c)
{
    return c ? c->g : NULL;
}

loom_status loom_compiled_times(const loom_compiled *c, loom_compile_times *out,
                                loom_diag *diag)
{
    if (!c || !out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_compiled_times",
                         "compiled model or out is NULL");
    *out = c->times;
    return diag_ok(diag);
}

/* ---- queries ---- */

int loom_num_inputs(const loom_compiled *c)
{
    return c ? c->g->n_inputs : 0;
}

int loom_num_outputs(const loom_compiled *c)
{
    return c ? c->g->n_outputs : 0;
}

size_t loom_workspace_size(const loom_compiled *c)
{
    return c ? c->workspace_bytes : 0;
}

static void tensor_info(const ir_value *v, loom_tensor_info *out)
{
    *out = (loom_tensor_info){.name = v->name, .dtype = (loom_dtype)v->dtype,
                              .rank = v->shape.rank, .bytes = ir_value_bytes(v)};
    memcpy(out->dims, v->shape.dims, sizeof out->dims[0] * (size_t)v->shape.rank);
}

/* Describes vals[i] of n values for the function fn. */
static loom_status io_info(const loom_compiled *c, ir_value *const *vals, int n, int i,
                           loom_tensor_info *out, loom_diag *diag, const char *fn)
{
    if (!c || !out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, "compiled model or out is NULL");
    if (i < 0 || i >= n)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, fn, "index out of range");
    tensor_info(vals[i], out);
    return diag_ok(diag);
}

loom_status loom_input_info(const loom_compiled *c, int i, loom_tensor_info *out,
                            loom_diag *diag)
{
    return io_info(c, c ? c->g->inputs : NULL, loom_num_inputs(c), i, out, diag,
                   "loom_input_info");
}

loom_status loom_output_info(const loom_compiled *c, int i, loom_tensor_info *out,
                             loom_diag *diag)
{
    return io_info(c, c ? c->g->outputs : NULL, loom_num_outputs(c), i, out, diag,
                   "loom_output_info");
}

/* ---- running ---- */

loom_status loom_workspace_new(const loom_compiled *c, loom_workspace **out, loom_diag *diag)
{
    if (!out)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_workspace_new", "out is NULL");
    *out = NULL;
    if (!c)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_workspace_new",
                         "compiled model is NULL (compile before making a workspace)");
    loom_workspace *w = ir_calloc(1, sizeof *w);
    size_t bytes;
    if (!w || !ir_add_size(c->workspace_bytes, 64, &bytes) || !(w->raw = ir_malloc(bytes))) {
        ir_free(w);
        return diag_fail(diag, LOOM_STATUS_NOMEM, "loom_workspace_new",
                         "cannot allocate the workspace");
    }
    w->c = c;
    w->mem = (void *)(((uintptr_t)w->raw + 63) & ~(uintptr_t)63);
    *out = w;
    return diag_ok(diag);
}

void *loom_workspace_memory(loom_workspace *w)
{
    return w ? w->mem : NULL;
}

void loom_workspace_free(loom_workspace *w)
{
    if (!w)
        return;
    ir_free(w->raw);
    ir_free(w);
}

/* Checks run()'s arguments; returns NULL or what is wrong. */
static const char *check_run(const loom_compiled *c, const loom_workspace *w,
                             const void *const *inputs, int n_inputs, void *const *outputs,
                             int n_outputs)
{
    if (!c)
        return "compiled model is NULL (compile before running)";
    if (!w || w->c != c)
        return "workspace is NULL or belongs to another compiled model";
    if (n_inputs != c->g->n_inputs || n_outputs != c->g->n_outputs)
        return "n_inputs or n_outputs differs from the model's";
    if ((n_inputs && !inputs) || (n_outputs && !outputs))
        return "inputs or outputs is NULL";
    for (int i = 0; i < n_inputs; i++)
        if (!inputs[i])
            return "an input pointer is NULL";
    for (int i = 0; i < n_outputs; i++)
        if (!outputs[i])
            return "an output pointer is NULL";
    return NULL;
}

/* The node and op of the data error the compiled code left in ws. */
static void failed_node(const loom_compiled *c, const void *ws, const char **node,
                        const char **op)
{
    *node = *op = NULL;
    if (c->cc.last_error) {
        c->cc.last_error(ws, node, op);
        return;
    }
    if (c->error_offset < 0 || !c->step_nodes)
        return;
    int32_t rec[2];
    memcpy(rec, (const unsigned char *)ws + c->error_offset, sizeof rec);
    if (rec[1] >= 0 && rec[1] < c->n_steps) {
        *node = c->step_nodes[rec[1]];
        *op = ir_op_name(c->step_ops[rec[1]]);
    }
}

/* Says why the compiled code returned status: the failing node and the
 * data error (loop_error_text), as the interpreter's diagnostic does. */
static loom_status run_error(const loom_compiled *c, const void *ws, int status, ir_diag *d)
{
    const char *node, *op, *what = loop_error_text(status);
    failed_node(c, ws, &node, &op);
    if (node && what) {
        ir_diag_errorf(d, "%s: node \"%s\" (%s): %s (compiled code, error %d)", c->g->source,
                       node, op, what, status);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_diag_errorf(d, "%s: the compiled model returned %d", c->g->source, status);
    return what ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_INTERNAL;
}

loom_status loom_run(const loom_compiled *c, loom_workspace *w, const void *const *inputs,
                     int n_inputs, void *const *outputs, int n_outputs, loom_diag *diag)
{
    const char *why = check_run(c, w, inputs, n_inputs, outputs, n_outputs);
    if (why)
        return diag_fail(diag, LOOM_STATUS_INVALID_ARG, "loom_run", why);
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = LOOM_STATUS_OK;
    if (c->backend == LOOM_BACKEND_INTERP) {
        st = interp_run(c->g, inputs, outputs, &d);
    } else {
        int status = c->cc.run(inputs, outputs, w->mem);
        if (status)
            st = run_error(c, w->mem, status, &d);
    }
    return diag_set(diag, &d, st);
}
