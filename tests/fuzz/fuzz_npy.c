/*
 * Fuzz target: the .npy reader (fe_npy_read) on any bytes, as a file. On
 * success the array's bytes are read in full so ASan sees a size that does
 * not match the allocation.
 */
#include "fe.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const char *path = fuzz_write_file("array.npy", data, size);
    if (!path)
        return 0;
    ir_diag d;
    ir_diag_init(&d);
    fe_npy a = {0};
    loom_status st = fe_npy_read(path, &a, &d);
    fuzz_check_result(st, st ? a.data : NULL, &d);
    if (!st) {
        size_t n = (size_t)ir_shape_numel(&a.shape) * ir_dtype_size(a.dtype);
        unsigned sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += ((const uint8_t *)a.data)[k];
        volatile unsigned sink = sum;
        (void)sink;
        fe_npy_free(&a);
    }
    ir_diag_free(&d);
    return 0;
}
