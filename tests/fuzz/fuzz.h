/*
 * Shared by the fuzz targets (tests/fuzz/fuzz_*.c): the libFuzzer entry
 * point's prototype, the per-process scratch folder where readers that take
 * a path find the input, and the limits every target runs under.
 *
 * Each target is built twice: with clang's -fsanitize=fuzzer (LOOM_FUZZ=ON,
 * `make fuzz`) and, in every build, with fuzz_replay.c, a main() that feeds
 * the committed corpus to LLVMFuzzerTestOneInput under ctest.
 */
#ifndef LOOM_FUZZ_H
#define LOOM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* A single allocation above this fails inside loom (ir_alloc_limit): a few
 * bytes of input may declare a tensor of any size, and loom must report
 * that it is out of memory, not take the machine's memory. */
#define FUZZ_ALLOC_LIMIT ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a file named name in this process's scratch folder (made
 * on first use, removed at exit) and returns its path (static storage),
 * or NULL when it cannot be written (the input is then skipped). */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);
/* The scratch folder. */
const char *fuzz_dir(void);
/* Once per process: sets the allocation limit and writes w.safetensors
 * ("w" f32[4] and "i" i64[2]) into the scratch folder, for JSON models that
 * name a weights file. Every target calls it first. */
void fuzz_init(void);
/* Checks the reader's contract on one input: an error status comes with
 * at least one message and no result, success with no error counted.
 * Aborts (a finding) when broken. */
void fuzz_check_result(loom_status st, const void *result, const ir_diag *d);
/* The end of a reader target: checks the contract for (st, g, d), runs
 * check (may be NULL) on a graph that loaded, frees g and d. */
void fuzz_finish_graph(loom_status st, ir_graph *g, ir_diag *d, void (*check)(const ir_graph *));

#endif
