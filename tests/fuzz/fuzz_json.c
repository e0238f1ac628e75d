/*
 * Fuzz target: loom's JSON model reader (fe_json_load_string) on any text.
 * A weights file the JSON names resolves in the scratch folder, where the
 * target keeps a small valid safetensors file (w.safetensors: "w" f32[4],
 * "i" i64[2]) so mutated models reach the weights binding too. A model
 * that loads is written back (fe_json_write) and must load as the same
 * graph.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe.h"
#include "fuzz.h"
#include "ir_text.h"

/* The writer's guarantee (fe.h, docs/model-format.md): loading what
 * fe_json_write wrote gives the same graph; compared as printed .lir. */
static void check_round_trip(const ir_graph *g)
{
    char path[4096 + 16];
    snprintf(path, sizeof path, "%s/written.json", fuzz_dir());
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g2 = NULL;
    loom_status st = fe_json_write(g, path, NULL, &d);
    if (!st)
        st = fe_json_load(path, &g2, &d);
    char *a = st ? NULL : ir_print_string(g, NULL, NULL);
    char *b = st ? NULL : ir_print_string(g2, NULL, NULL);
    if (st && st != LOOM_STATUS_NOMEM && st != LOOM_STATUS_IO) {
        fprintf(stderr, "fuzz: the written model does not load:\n%s", d.text);
        abort();
    }
    if (a && b && strcmp(a, b) != 0) {
        fprintf(stderr, "fuzz: load(write(g)) differs from g:\n%s\n---\n%s", a, b);
        abort();
    }
    ir_free(a);
    ir_free(b);
    ir_graph_free(g2);
    ir_diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = fe_json_load_string((const char *)data, size, "fuzz.json", fuzz_dir(), &g, &d);
    fuzz_finish_graph(st, g, &d, check_round_trip);
    return 0;
}
