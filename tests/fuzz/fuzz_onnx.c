/*
 * Fuzz target: the ONNX reader (fe_onnx_load) on any bytes, as a file,
 * since the reader takes a path. Decoding, conversion, shape inference and
 * the constant folding it does while loading all run.
 */
#include "fe.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const char *path = fuzz_write_file("model.onnx", data, size);
    if (!path)
        return 0;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_onnx_load(path, NULL, &g, &d);
    fuzz_finish_graph(st, g, &d, NULL);
    return 0;
}
