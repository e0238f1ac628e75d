/*
 * Fuzz target: the whole compiler on a model the fuzzer mutates: load (JSON
 * when the text starts with '{', .lir when it starts with "graph" or a
 * comment, ONNX otherwise), verify, the graph passes, lowering, loop-IR
 * checks, memory planning and C emission into the scratch folder.
 *
 * Models may legitimately be large, and then compiling them is slow and
 * big but not wrong: a model over the limits below is skipped after
 * loading, so each input takes milliseconds and the fuzzer spends its time
 * on shapes of graphs rather than on folding huge constants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "be_c.h"
#include "fe.h"
#include "fuzz.h"
#include "interp.h"
#include "ir_stats.h"
#include "ir_text.h"
#include "loomrt.h"

#define MAX_FLOPS ((int64_t)20 * 1000 * 1000)
#define MAX_BYTES ((int64_t)16 << 20) /* constants, activations, inputs and outputs each */

/* Loads the model in the format its first bytes say. */
static loom_status load(const uint8_t *data, size_t size, ir_graph **g, ir_diag *d)
{
    size_t k = 0;
    while (k < size && (data[k] == ' ' || data[k] == '\n' || data[k] == '\t' || data[k] == '\r'))
        k++;
    const char *text = (const char *)data;
    if (k < size && data[k] == '{')
        return fe_json_load_string(text, size, "fuzz.json", fuzz_dir(), g, d);
    if ((size - k >= 5 && memcmp(text + k, "graph", 5) == 0) ||
        (size - k >= 2 && memcmp(text + k, "//", 2) == 0))
        return ir_parse(text, size, "fuzz.lir", g, d);
    const char *path = fuzz_write_file("model.onnx", data, size);
    if (!path)
        return LOOM_STATUS_IO;
    return fe_onnx_load(path, NULL, g, d);
}

/* True when g is within the limits above. */
static bool small_enough(const ir_graph *g)
{
    ir_stats s;
    ir_graph_stats(g, &s);
    return s.flops <= MAX_FLOPS && s.param_bytes <= MAX_BYTES &&
           s.activation_bytes <= MAX_BYTES && s.io_bytes <= MAX_BYTES;
}

/* Element k of an input: floats in [-1.5, 1.5], integers in [-2, 2] (so
 * indices are negative, in range and out of range), booleans alternating. */
static void fill(void *data, ir_dtype t, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        int v = (int)(k % 5) - 2;
        switch (t) {
        case IR_DTYPE_F32: ((float *)data)[k] = 0.75f * (float)v; break;
        case IR_DTYPE_F64: ((double *)data)[k] = 0.75 * v; break;
        case IR_DTYPE_I64: ((int64_t *)data)[k] = v; break;
        case IR_DTYPE_I32: ((int32_t *)data)[k] = v; break;
        case IR_DTYPE_I8: ((int8_t *)data)[k] = (int8_t)v; break;
        case IR_DTYPE_U8: ((uint8_t *)data)[k] = (uint8_t)(v + 2); break;
        case IR_DTYPE_BOOL: ((uint8_t *)data)[k] = (uint8_t)(k & 1); break;
        case IR_DTYPE_F16: ((uint16_t *)data)[k] = loomrt_f32_to_f16(0.75f * (float)v); break;
        case IR_DTYPE_BF16: ((uint16_t *)data)[k] = loomrt_f32_to_bf16(0.75f * (float)v); break;
        case IR_DTYPE_COUNT: break;
        }
    }
}

/* Runs the interpreter on g with inputs from fill(); an error must come
 * with a message. */
static void interpret(const ir_graph *g)
{
    void **bufs = calloc((size_t)(g->n_inputs + g->n_outputs + 1), sizeof *bufs);
    for (int i = 0; i < g->n_inputs; i++) {
        const ir_value *v = g->inputs[i];
        bufs[i] = malloc(ir_value_bytes(v));
        fill(bufs[i], v->dtype, ir_shape_numel(&v->shape));
    }
    for (int i = 0; i < g->n_outputs; i++)
        bufs[g->n_inputs + i] = malloc(ir_value_bytes(g->outputs[i]));
    ir_diag d;
    ir_diag_init(&d);
    loom_status st = interp_run(g, (const void *const *)bufs, bufs + g->n_inputs, &d);
    fuzz_check_result(st, NULL, &d);
    ir_diag_free(&d);
    for (int i = 0; i < g->n_inputs + g->n_outputs; i++)
        free(bufs[i]);
    free(bufs);
}

/* Lexes the emitted file at path just enough to see that every comment,
 * string and character literal is closed where it should be (C11 5.1.1.2,
 * 6.4.4.4, 6.4.5, 6.4.9): no literal runs into a newline, no comment is
 * open at the end, no "*" "/" or stray backslash is left in code, no "??"
 * (a trigraph in C99) outside comments. Aborts (a finding) otherwise. */
static void check_lexes(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    enum { CODE, COMMENT, LITERAL } state = CODE;
    int c, prev = 0, quote = 0;
    long line = 1;
    const char *bad = NULL;
    while (!bad && (c = fgetc(f)) != EOF) {
        int next = fgetc(f);
        if (next != EOF)
            ungetc(next, f);
        if (state != COMMENT && c == '?' && next == '?')
            bad = "\"??\" (a trigraph) outside a comment";
        else if (state == CODE && c == '/' && next == '*')
            state = COMMENT, fgetc(f), c = 0;
        else if (state == CODE && (c == '"' || c == '\''))
            state = LITERAL, quote = c;
        else if (state == CODE && c == '*' && next == '/')
            bad = "\"*/\" outside a comment";
        else if (state == CODE && c == '\\' && next != '\n')
            bad = "a backslash outside a literal";
        else if (state == COMMENT && prev == '*' && c == '/')
            state = CODE, c = 0;
        else if (state == LITERAL && c == '\n')
            bad = "a literal that runs into a newline";
        else if (state == LITERAL && c == '\\')
            c = fgetc(f) == '\n' ? '\n' : 0; /* an escape */
        else if (state == LITERAL && c == quote)
            state = CODE;
        line += c == '\n';
        prev = c;
    }
    fclose(f);
    if (!bad && state != CODE)
        bad = state == COMMENT ? "a comment open at the end" : "a literal open at the end";
    if (bad) {
        fprintf(stderr, "fuzz: %s:%ld: emitted C has %s\n", path, line, bad);
        abort();
    }
}

/* Compiles g and writes model.c and model.h into the scratch folder. */
static void compile(ir_graph *g)
{
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    loom_status st = be_compile(g, "model", &f, &d);
    fuzz_check_result(st, st ? f : NULL, &d);
    if (!st) {
        be_c_opts opts = {.weights = BE_WEIGHTS_AUTO, .inline_limit = 64 << 10,
                          .source_name = "fuzz"};
        ir_diag_clear(&d);
        st = be_c_emit(f, &opts, fuzz_dir(), "model", &d);
        fuzz_check_result(st, NULL, &d);
        if (!st) {
            char path[4096 + 16];
            snprintf(path, sizeof path, "%s/model.h", fuzz_dir());
            check_lexes(path);
            snprintf(path, sizeof path, "%s/model.c", fuzz_dir());
            check_lexes(path);
        }
    }
    loop_func_free(f);
    ir_diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    loom_status st = load(data, size, &g, &d);
    if (st != LOOM_STATUS_IO)
        fuzz_check_result(st, st ? g : NULL, &d);
    if (!st && small_enough(g)) {
        interpret(g);
        compile(g);
    }
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}
