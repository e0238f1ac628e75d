/*
 * Fuzz target: the .lir text parser (ir_parse) on any bytes, and on success
 * the printer's guarantee from ir/ir_text.h: printing the parsed graph and
 * parsing that again prints the same text byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ir_text.h"

/* print(parse(print(g))) == print(g); aborts (a finding) when not. */
static void check_round_trip(const ir_graph *g)
{
    size_t len1 = 0, len2 = 0;
    char *text1 = ir_print_string(g, NULL, &len1);
    if (!text1)
        return; /* out of memory under the limit */
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g2 = NULL;
    loom_status st = ir_parse(text1, len1, "printed.lir", &g2, &d);
    if (st == LOOM_STATUS_NOMEM) {
        ir_diag_free(&d);
        ir_free(text1);
        return;
    }
    if (st) {
        fprintf(stderr, "fuzz: printed text does not parse:\n%s\n%s", text1, d.text);
        abort();
    }
    char *text2 = ir_print_string(g2, NULL, &len2);
    if (text2 && (len1 != len2 || memcmp(text1, text2, len1) != 0)) {
        fprintf(stderr, "fuzz: print(parse(print(g))) differs:\n%s\n---\n%s", text1, text2);
        abort();
    }
    ir_free(text2);
    ir_graph_free(g2);
    ir_diag_free(&d);
    ir_free(text1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = ir_parse((const char *)data, size, "fuzz.lir", &g, &d);
    fuzz_finish_graph(st, g, &d, check_round_trip);
    return 0;
}
