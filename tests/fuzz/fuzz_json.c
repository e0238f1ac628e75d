/*
 * Fuzz target: loom's JSON model reader (fe_json_load_string) on any text.
 * A weights file the JSON names resolves in the scratch folder, where the
 * target keeps a small valid safetensors file (w.safetensors: "w" f32[4],
 * "i" i64[2]) so mutated models reach the weights binding too.
 */
#include "fe.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        fuzz_init();
        fuzz_write_weights();
        ready = true;
    }
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_json_load_string((const char *)data, size, "fuzz.json", fuzz_dir(), &g, &d);
    fuzz_check_result(st, st ? g : NULL, &d);
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}
