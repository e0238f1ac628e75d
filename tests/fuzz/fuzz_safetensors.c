/*
 * Fuzz target: the safetensors reader (fe_st_open) on any bytes, as a file
 * (the reader maps a path). On success every tensor's data must lie inside
 * the mapping; the target reads each byte so ASan sees any overrun.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fe_safetensors.h"
#include "fuzz.h"

/* Touches every tensor's bytes; aborts when a range leaves the mapping. */
static void check_tensors(const fe_st_file *f)
{
    const uint8_t *lo = f->map, *hi = lo + f->map_size;
    unsigned sum = 0;
    for (int i = 0; i < f->n_tensors; i++) {
        const uint8_t *p = f->tensors[i].data;
        uint64_t n = f->tensors[i].end - f->tensors[i].begin;
        if (n && (!p || p < lo || p > hi || n > (uint64_t)(hi - p))) {
            fprintf(stderr, "fuzz: tensor %s lies outside the file\n", f->tensors[i].name);
            abort();
        }
        for (uint64_t k = 0; k < n; k++)
            sum += p[k];
    }
    volatile unsigned sink = sum;
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const char *path = fuzz_write_file("model.safetensors", data, size);
    if (!path)
        return 0;
    ir_arena a;
    ir_arena_init(&a);
    jmp_buf jb;
    a.oom = &jb;
    ir_diag d;
    ir_diag_init(&d);
    fe_st_file f;
    loom_status st = fe_st_open(path, NULL, &a, &f, &d);
    fuzz_check_result(st, st ? f.map : NULL, &d);
    if (!st) {
        check_tensors(&f);
        fe_st_close(&f);
    }
    ir_diag_free(&d);
    ir_arena_free(&a);
    return 0;
}
