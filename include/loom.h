/*
 * loom public API. Load a model, compile it for a backend, ask its inputs,
 * outputs and workspace size, run it many times, free it. Every call returns
 * a loom_status and, on failure, fills the caller's loom_diag; the library
 * never prints or exits. docs/api.md describes ownership and threading.
 */
#ifndef LOOM_H
#define LOOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum loom_status {
    LOOM_STATUS_OK = 0,
    LOOM_STATUS_INVALID_MODEL, /* malformed input: bad syntax, bad graph */
    LOOM_STATUS_UNSUPPORTED,   /* well-formed but uses what loom lacks */
    LOOM_STATUS_IO,            /* a file could not be read or written */
    LOOM_STATUS_NOMEM,         /* out of memory */
    LOOM_STATUS_INVALID_ARG,   /* bad argument to an API call */
    LOOM_STATUS_INTERNAL       /* a bug in loom */
} loom_status;

/* A short constant description of a status. */
const char *loom_status_name(loom_status s);

/* The first error of a failed call, split into its parts. Fields that do
 * not apply are empty strings; strings are truncated to fit. */
typedef struct loom_diag {
    loom_status code;
    char file[256];     /* the model file, or "" */
    char node[128];     /* the graph node's name, or "" */
    char op[64];        /* the node's op, or "" */
    char message[1024]; /* the reason (every error, one per line) */
} loom_diag;

typedef enum loom_backend {
    LOOM_BACKEND_INTERP = 0, /* the reference interpreter */
    LOOM_BACKEND_C,          /* emitted C, built by the system compiler, dlopen()ed */
    LOOM_BACKEND_JIT         /* LLVM ORC JIT (when loom is built with it) */
} loom_backend;

typedef enum loom_dtype {
    LOOM_DTYPE_F32 = 0, LOOM_DTYPE_F64, LOOM_DTYPE_I64, LOOM_DTYPE_I32,
    LOOM_DTYPE_I8, LOOM_DTYPE_U8, LOOM_DTYPE_BOOL
} loom_dtype;

#define LOOM_MAX_RANK 8

/* A graph input or output as the compiled model sees it. */
typedef struct loom_tensor_info {
    const char *name; /* owned by the compiled model */
    loom_dtype dtype;
    int rank;
    int64_t dims[LOOM_MAX_RANK];
    size_t bytes;     /* size of the buffer run() reads or writes */
} loom_tensor_info;

/* A graph input frozen into a constant at load time (shape inputs, masks).
 * data is borrowed: it must stay valid until loom_model_free. */
typedef struct loom_const {
    const char *name;
    loom_dtype dtype;
    int rank;
    int64_t dims[LOOM_MAX_RANK];
    const void *data;
} loom_const;

/* What specializes the graph's shapes; NULL means none. */
typedef struct loom_load_options {
    const char *const *dims;  /* NULL-terminated "NAME=VALUE" pins, or NULL */
    const loom_const *consts; /* n_consts bound constants */
    int n_consts;
} loom_load_options;

/* Where the C backend puts the weights (docs/emitted-c.md). */
typedef enum loom_weights {
    LOOM_WEIGHTS_AUTO = 0, /* inline when small, else an .incbin blob */
    LOOM_WEIGHTS_INLINE,   /* bit-exact arrays in the .c file */
    LOOM_WEIGHTS_INCBIN,   /* always a blob beside the .c file */
    LOOM_WEIGHTS_FILE      /* loom_emit only: NAME.weights.bin, which the
                              caller loads at run time (docs/weights.md) */
} loom_weights;

typedef struct loom_compile_options {
    loom_backend backend;
    int opt_level;   /* graph passes: 0..3; -1 means the default (3) */
    int threads;     /* threads the kernels run on (loom's pool and OpenBLAS), the
                        slots a batch's convolution images are split into (at least
                        2, docs/loop-ir.md) and Winograd's scratch blocks at batch
                        1; 0 means 1 */
    /* NULL-terminated names of graph passes to skip (docs/passes.md), or
     * NULL; borrowed for the call */
    const char *const *disabled_passes;
    int unchecked;   /* nonzero: no data checks (indices, divisors) in the code */
    /* C backend only */
    loom_weights weights;
    int standalone;  /* the portable runtime, no OpenBLAS: loom_emit inlines
                        it into the .c; loom_compile links it as objects
                        built once and cached */
    int inline_runtime; /* loom_compile with standalone: the runtime inlined,
                           the one .c file `loom compile --standalone`
                           writes, built whole each time (10-40 s of cc) */
    int sanitize;    /* built with -fsanitize=address,undefined */
    const char *build_dir; /* an existing folder to build in, left in place;
                              NULL: a temporary folder, removed */
    /* JIT only */
    int no_cache;    /* nonzero: neither read nor write the on-disk object
                        cache (docs/api.md; LOOM_JIT_CACHE=0 does the same) */
} loom_compile_options;

/* The defaults: interpreter backend, -O3, one thread, checked code,
 * weights by size, OpenBLAS runtime. */
loom_compile_options loom_compile_options_default(void);

typedef struct loom_model loom_model;
typedef struct loom_compiled loom_compiled;
typedef struct loom_workspace loom_workspace;

/* Loads a model (.json, .onnx or .lir by extension). *out owns the graph;
 * free it with loom_model_free. opts and diag may be NULL. */
loom_status loom_model_load(const char *path, const loom_load_options *opts, loom_model **out,
                            loom_diag *diag);

typedef enum loom_format { LOOM_FORMAT_JSON = 0, LOOM_FORMAT_LIR, LOOM_FORMAT_ONNX } loom_format;
/* Loads a model of format from size bytes at data (copied). base_dir
 * resolves a JSON model's weights file and an ONNX model's external data
 * (NULL: the current folder). opts and diag may be NULL. */
loom_status loom_model_load_memory(const void *data, size_t size, loom_format format,
                                   const char *base_dir, const loom_load_options *opts,
                                   loom_model **out, loom_diag *diag);
/* NULL is allowed. */
void loom_model_free(loom_model *m);

/* Compiles model for opts->backend (opts NULL: the defaults). The result
 * keeps its own copy of what it needs: model may be freed afterwards. */
loom_status loom_compile(const loom_model *model, const loom_compile_options *opts,
                         loom_compiled **out, loom_diag *diag);
/* NULL is allowed. Free every workspace of c first. */
void loom_compiled_free(loom_compiled *c);

int loom_num_inputs(const loom_compiled *c);
int loom_num_outputs(const loom_compiled *c);
/* Describes input (or output) i; INVALID_ARG when i is out of range. */
loom_status loom_input_info(const loom_compiled *c, int i, loom_tensor_info *out,
                            loom_diag *diag);
loom_status loom_output_info(const loom_compiled *c, int i, loom_tensor_info *out,
                             loom_diag *diag);
/* Bytes of scratch memory one run needs (the planner's arena). */
size_t loom_workspace_size(const loom_compiled *c);

/* Where a JIT compilation's machine code came from. */
typedef enum loom_cache_use {
    LOOM_CACHE_OFF = 0,     /* the cache was not used (off, no cache folder, not the JIT) */
    LOOM_CACHE_HIT,         /* loaded from the object cache: no LLVM optimization or codegen */
    LOOM_CACHE_STORED,      /* compiled, and stored for the next compilation */
    LOOM_CACHE_UNWRITABLE   /* compiled; the cache could not store it */
} loom_cache_use;

/* Wall-clock milliseconds of each phase of one loom_compile (0 for a phase
 * the backend does not have). */
typedef struct loom_compile_times {
    double load_ms;    /* reading the model again for this compilation */
    double passes_ms;  /* graph passes */
    double lower_ms;   /* lowering to the loop IR and memory planning */
    double irgen_ms;   /* jit: loop IR -> LLVM IR; c: writing the C files */
    double opt_ms;     /* jit: LLVM optimization */
    double codegen_ms; /* jit: machine code (with the cache: its key, reading or
                          writing the object) and linking; c: the system
                          compiler and dlopen */
    loom_cache_use cache; /* jit: whether the object came from the cache */
} loom_compile_times;
/* Fills *out with the times of c's compilation. */
loom_status loom_compiled_times(const loom_compiled *c, loom_compile_times *out,
                                loom_diag *diag);

/* What loom_emit writes (docs/api.md "Emitting files"). */
typedef enum loom_emit_kind {
    LOOM_EMIT_C = 0, /* path DIR/NAME.c: NAME.c and NAME.h, specialized to the
                        shapes, with the runtime files (loomrt*) beside them,
                        or the portable runtime inlined (standalone); weights
                        as opts->weights says (docs/emitted-c.md) */
    LOOM_EMIT_LOOPS, /* the planned loop IR, text (docs/loop-ir.md) */
    LOOM_EMIT_LIR,   /* the graph after the passes, .lir text (docs/ir.md) */
    LOOM_EMIT_LLVM,  /* the optimized LLVM IR for this CPU, text */
    LOOM_EMIT_OBJ    /* an ELF object for this CPU defining NAME_run_v, with
                        the weights inside; link it with the runtime */
} loom_emit_kind;

/* What loom_emit planned. */
typedef struct loom_emit_info {
    size_t workspace_bytes;       /* the arena NAME_run needs */
    size_t workspace_lower_bound; /* the largest set of tensors live at once */
} loom_emit_info;

/* Compiles model with opts (its backend, build_dir, sanitize and no_cache
 * are not used) and writes kind to path; the symbols are prefixed with name
 * (a C identifier; NULL: "model"). A file is written under a temporary name
 * and renamed, so a failure leaves no partial file at path; path's folder
 * must exist. standalone and weights apply to LOOM_EMIT_C only. info may be
 * NULL. Thread-safe for different paths. */
loom_status loom_emit(const loom_model *model, const loom_compile_options *opts,
                      loom_emit_kind kind, const char *path, const char *name,
                      loom_emit_info *info, loom_diag *diag);

/* A workspace for running c from one thread at a time; one per thread. */
loom_status loom_workspace_new(const loom_compiled *c, loom_workspace **out, loom_diag *diag);
void loom_workspace_free(loom_workspace *w);

/* Runs c: inputs[i] points at loom_input_info(i).bytes bytes, outputs[i]
 * at loom_output_info(i).bytes bytes; n_inputs / n_outputs must match.
 * Calls on different workspaces may run concurrently. */
loom_status loom_run(const loom_compiled *c, loom_workspace *w, const void *const *inputs,
                     int n_inputs, void *const *outputs, int n_outputs, loom_diag *diag);

/* Replaces the allocator every loom call uses (NULL functions restore
 * malloc/realloc/free). Call it before any other loom call. */
typedef struct loom_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} loom_allocator;
void loom_set_allocator(const loom_allocator *a);

#ifdef __cplusplus
}
#endif

#endif
