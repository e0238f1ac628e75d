/*
 * Shared by the LLVM backend's files: the code generator's entry point and
 * the table of runtime symbols the JIT resolves in-process.
 */
#ifndef LOOM_BE_LLVM_INTERNAL_H
#define LOOM_BE_LLVM_INTERNAL_H

#include <llvm-c/Core.h>

#include "be_llvm.h"

/* Where constant buffers live in the generated code. */
typedef struct be_llvm_weights {
    const unsigned char *base; /* JIT: the blob's address, baked in as a constant */
    bool global;               /* AOT: a private constant global holding the blob */
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

#endif
