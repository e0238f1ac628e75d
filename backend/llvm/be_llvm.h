/*
 * The LLVM backend: compiles a planned loop function (be_compile) to
 * machine code in-process through the LLVM C API: loop IR -> LLVM IR
 * (be_llvm_gen.c) -> the new pass manager's default<O2> for the host CPU
 * -> ORC LLJIT (be_llvm.c). The result is a callable function with the
 * signature of the C backend's NAME_run_v, owned by a handle. The same path
 * writes the optimized IR as text or an object file (ahead of time, no C
 * compiler). docs/jit.md describes it.
 */
#ifndef LOOM_BE_LLVM_H
#define LOOM_BE_LLVM_H

#include "ir.h"
#include "loop_ir.h"

/* inputs[i] / outputs[i] in the loop function's input / output order; the
 * workspace holds workspace_bytes (64-byte aligned). Returns 0, or -1 when
 * a workspace is needed and NULL. */
typedef int (*be_llvm_run_fn)(const void *const *inputs, void *const *outputs, void *workspace);

/* Where a JIT module's machine code came from (docs/jit.md, "Object
 * cache"). */
typedef enum be_llvm_cache_use {
    BE_LLVM_CACHE_OFF = 0, /* not used: turned off, or no cache folder */
    BE_LLVM_CACHE_HIT,     /* loaded from the cache: no optimization, no codegen */
    BE_LLVM_CACHE_STORED,  /* compiled, then stored in the cache */
    BE_LLVM_CACHE_UNWRITABLE /* compiled; storing it failed (full disk, ...) */
} be_llvm_cache_use;

/* Milliseconds spent in each phase of one compilation. */
typedef struct be_llvm_times {
    double irgen_ms;   /* loop IR -> LLVM IR */
    double opt_ms;     /* LLVMRunPasses (default<On>); 0 on a cache hit */
    double codegen_ms; /* machine code: the object file (or, from the
                          cache, its key and reading it) and linking it */
    be_llvm_cache_use cache;
} be_llvm_times;

typedef struct be_llvm_opts {
    int opt_level; /* 1..3 (default<O1..3>); 0 means the default, 2 */
    bool no_opt;   /* run no IR passes at all (opt_level is then ignored) */
    int threads;   /* threads NAME_run_v runs the kernels on (0: 1) */
    bool no_cache; /* JIT: neither read nor write the object cache (as the
                      environment's LOOM_JIT_CACHE=0 does) */
} be_llvm_opts;

typedef struct be_llvm_module be_llvm_module;

/* JIT-compiles f (planned: offsets and workspace size set), or loads its
 * object from the on-disk cache when an earlier compilation stored it. The
 * module copies what it needs (constant data included), so f and its graph
 * may be freed afterwards. opts may be NULL. On error *out is NULL and d
 * says why; the cache never makes a compilation fail. */
loom_status be_llvm_jit(const loop_func *f, const be_llvm_opts *opts, be_llvm_module **out,
                        ir_diag *d);
be_llvm_run_fn be_llvm_entry(const be_llvm_module *m);
int64_t be_llvm_workspace_bytes(const be_llvm_module *m);
const be_llvm_times *be_llvm_times_of(const be_llvm_module *m);
/* Frees the machine code and the constants; NULL is allowed. */
void be_llvm_free(be_llvm_module *m);

typedef enum be_llvm_emit_kind {
    BE_LLVM_EMIT_IR, /* optimized LLVM IR, text */
    BE_LLVM_EMIT_OBJ /* an ELF object for the host, defining NAME_run_v */
} be_llvm_emit_kind;

/* Writes f compiled ahead of time to path. Constants are emitted into the
 * module as one read-only blob. times may be NULL. */
loom_status be_llvm_emit(const loop_func *f, const be_llvm_opts *opts, be_llvm_emit_kind kind,
                         const char *path, be_llvm_times *times, ir_diag *d);

#endif
