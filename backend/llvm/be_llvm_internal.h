/*
 * Shared by the LLVM backend's files: the code generator's entry point,
 * the table of runtime symbols the JIT resolves in-process and the object
 * cache.
 */
#ifndef LOOM_BE_LLVM_INTERNAL_H
#define LOOM_BE_LLVM_INTERNAL_H

#include <llvm-c/Core.h>

#include "be_cache.h"
#include "be_llvm.h"

/* Where constant buffers live in the generated code: in the blob
 * NAME_weights, which the code refers to by symbol. Ahead of time the
 * module defines it (a private constant global holding base); in the JIT
 * it is only declared and the JIT defines it at the module's copy, so the
 * machine code does not depend on where this process put the weights. */
typedef struct be_llvm_weights {
    const unsigned char *base; /* AOT: the blob's contents */
    bool global;               /* AOT: define NAME_weights in the module */
    const int64_t *offset;     /* by buffer id: offset in the blob, -1 if none */
    int64_t bytes;
} be_llvm_weights;

/* Lays out the used constant buffers of f in one blob (64-byte aligned
 * slices). offset gets f->n_bufs entries; returns the blob's size. */
int64_t be_llvm_weights_layout(const loop_func *f, int64_t *offset);
/* Copies the constants into blob (be_llvm_weights_layout's size). */
void be_llvm_weights_fill(const loop_func *f, const int64_t *offset, unsigned char *blob);

/* Adds NAME_run_v for f to mod (in mod's context), with the host CPU's
 * name and features as function attributes, running the kernels on
 * threads threads (0: 1). */
loom_status be_llvm_gen(const loop_func *f, LLVMModuleRef mod, const be_llvm_weights *w,
                        const char *cpu, const char *features, int threads, ir_diag *d);

/* The runtime kernels and libm functions generated code may call, as
 * compiled into loom (be_llvm_runtime.c); NULL-terminated. */
typedef struct be_llvm_symbol {
    const char *name;
    void (*fn)(void);
} be_llvm_symbol;
extern const be_llvm_symbol be_llvm_symbols[];

/* ---- the object cache (be_llvm_cache.c) ---- */

/* Whether o and the environment (LOOM_JIT_CACHE=0 turns it off) let the
 * JIT use the cache, and it has a folder (created here). */
bool be_llvm_cache_on(const be_llvm_opts *o);
/* The object stored under key, or NULL when there is none or it is
 * truncated or corrupt. The buffer is the caller's. */
LLVMMemoryBufferRef be_llvm_cache_load(const be_hash *key);
/* Stores n bytes of object under key (atomically, replacing any entry),
 * then prunes the cache to its bound; false when it could not be written. */
bool be_llvm_cache_store(const be_hash *key, const void *obj, size_t n);

#endif
