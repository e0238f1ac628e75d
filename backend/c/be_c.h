/*
 * The C backend: loop IR -> one C99 source file and its header.
 */
#ifndef LOOM_BE_C_H
#define LOOM_BE_C_H

#include "loop_ir.h"

typedef enum be_weights_mode {
    BE_WEIGHTS_AUTO,   /* inline up to inline_limit bytes, else incbin */
    BE_WEIGHTS_INLINE, /* bit-exact hex-float arrays in the .c file */
    BE_WEIGHTS_INCBIN, /* NAME.weights.bin + NAME.weights.S (.incbin) */
    BE_WEIGHTS_FILE    /* NAME.weights.bin loaded by the caller and passed in */
} be_weights_mode;

typedef struct be_c_opts {
    be_weights_mode weights;
    int64_t inline_limit;    /* AUTO threshold in bytes (0: 1 MiB) */
    bool standalone;         /* inline the runtime sources into the .c */
    const char *source_name; /* model file name, for the header comment */
    int threads;             /* NAME_DEFAULT_THREADS (0: 1) */
} be_c_opts;

/* Writes DIR/BASE.c and DIR/BASE.h (and the weights files the mode needs)
 * for the planned function f. Files are written to temporary names and
 * renamed into place, so an error leaves nothing half-written. */
loom_status be_c_emit(const loop_func *f, const be_c_opts *opts, const char *dir,
                      const char *base, ir_diag *d);

/* The runtime sources the emitted code needs, embedded in loom at build
 * time: NULL-terminated arrays of file names and contents. */
extern const char *const be_runtime_names[];
extern const char *const be_runtime_sources[];

/* Writes the runtime files (loomrt.h and the .c files) into dir. */
loom_status be_c_write_runtime(const char *dir, ir_diag *d);

#endif
