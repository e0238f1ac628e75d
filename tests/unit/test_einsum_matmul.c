/*
 * The einsum-to-matmul rewrite (passes/pass_einsum_to_matmul.c) keeps the
 * values: Einsums of every form the pass rewrites (plain, transposed and
 * permuted operands and outputs, merged row and column labels, a dot
 * product, attention scores and context) run in the interpreter as
 * Einsum (its general loop, held to onnxruntime in test_ops_index.c) and
 * compiled through the default pipeline, where they become MatMul, in
 * every backend (tl_check_c). tests/passes/einsum-to-matmul checks the
 * rewritten graphs.
 */
#include "testlib.h"

#define D(...) ((int64_t[]){__VA_ARGS__})

static const struct em_case {
    const char *eq;
    int rank[2];
    int64_t dims[2][4];
} em_cases[] = {
    {"bij,bjk->bki", {3, 3}, {{2, 3, 4}, {2, 4, 5}}},
    {"bmk,kn->bmn", {3, 2}, {{2, 3, 4}, {4, 5}}},
    {"ij,kj->ik", {2, 2}, {{3, 4}, {5, 4}}},
    {"ji,jk->ki", {2, 2}, {{4, 3}, {4, 5}}},
    {"bhid,bhjd->bhij", {4, 4}, {{1, 2, 3, 8}, {1, 2, 5, 8}}},
    {"bhij,bjhd->bihd", {4, 4}, {{1, 2, 3, 5}, {1, 5, 2, 8}}},
    {"abk,kcd->abcd", {3, 3}, {{2, 3, 4}, {4, 2, 5}}},
    {"i,i->", {1, 1}, {{6}, {6}}},
    {"...ij,...jk->...ik", {4, 4}, {{2, 3, 4, 5}, {2, 3, 5, 6}}},
};
#define N_EM (sizeof em_cases / sizeof em_cases[0])

Test(einsum_matmul, every_backend)
{
    ir_graph *g = tl_graph("g");
    for (size_t c = 0; c < N_EM; c++) {
        ir_value *ins[2];
        for (int k = 0; k < 2; k++) {
            char name[16];
            snprintf(name, sizeof name, "e%zu_%d", c, k);
            ins[k] = tl_input(g, name, IR_DTYPE_F32, em_cases[c].rank[k], em_cases[c].dims[k]);
        }
        char name[16];
        snprintf(name, sizeof name, "e%zu", c);
        ir_node *n = tl_node(g, IR_OP_EINSUM, name, 2, ins, 1, name);
        ir_node_set_string(g, n, "equation", em_cases[c].eq);
    }
    tl_infer_ok(g);
    tl_check_c(g, NULL, 1e-5f, 1e-5f); /* random inputs; f32 sums against double */
    ir_graph_free(g);
}
