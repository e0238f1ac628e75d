/*
 * Fuzz target: the Keras reader (fe_keras_load) on any bytes as a
 * .keras zip (libzip, then the config JSON and the HDF5 weights image
 * inside it), written to a file since the reader takes a path.
 */
#include "fe.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const char *path = fuzz_write_file("model.keras", data, size);
    if (!path)
        return 0;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_keras_load(path, NULL, NULL, &g, &d);
    fuzz_finish_graph(st, g, &d, NULL);
    return 0;
}
