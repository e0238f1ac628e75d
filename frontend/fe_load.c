/*
 * fe_load_model: picks the reader by the file's extension (.json, .onnx,
 * .lir, .keras, .h5) so tools and the host API accept any supported model
 * format; a .json is read by the Keras reader when its content is a Keras
 * config ({"class_name": ..., "config": ...} without loom's "format").
 * fe_load_model_bound also freezes graph inputs to given values: the ONNX
 * reader does it before shape inference (fe_onnx_load_bound); for the other
 * formats, whose shapes are static, the input becomes a constant after
 * loading and the graph is verified again.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fe.h"
#include "fe_onnx.h"
#include "ir_text.h"

/* True when path ends in ext (compared ignoring case). */
static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* True when the .json at path holds a Keras model config (read errors are
 * left to the loom JSON reader, which reports them). */
static bool is_keras_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char *text = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    bool yes = false;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (text = ir_malloc((size_t)n)) &&
        fread(text, 1, (size_t)n, f) == (size_t)n)
        yes = fe_keras_is_json(text, (size_t)n);
    ir_free(text);
    fclose(f);
    return yes;
}

/* True for the formats the Keras reader takes. */
static bool is_keras(const char *path)
{
    return has_ext(path, ".keras") || has_ext(path, ".h5") ||
           (has_ext(path, ".json") && is_keras_json(path));
}

/* The formats with static shapes (.json, .lir): dims do not apply. */
static loom_status load_static(const char *path, const char *const *dims, ir_graph **out,
                               ir_diag *d)
{
    if (dims && dims[0]) {
        ir_diag_errorf(d, "%s: dim pins apply to ONNX models only (%s has static shapes)", path,
                       has_ext(path, ".lir") ? ".lir" : "this format");
        return LOOM_STATUS_INVALID_ARG;
    }
    if (has_ext(path, ".json"))
        return fe_json_load(path, out, d);
    if (has_ext(path, ".lir"))
        return ir_parse_file(path, out, d);
    ir_diag_errorf(d, "%s: unknown model format (expected .json, .onnx, .lir, .keras or .h5)",
                   path);
    return LOOM_STATUS_INVALID_ARG;
}

loom_status fe_load_model(const char *path, const char *const *dims, ir_graph **out, ir_diag *d)
{
    return fe_load_model_bound(path, dims, NULL, 0, out, d);
}

/* Makes graph input b->name of a loaded graph the constant b->value. */
static bool bind_loaded(ir_graph *g, const fe_binding *b, ir_diag *d)
{
    ir_value *v = ir_graph_find_value(g, b->name);
    const ir_value *bv = b->value;
    if (!v || !v->is_input) {
        ir_diag_graph(d, g, "binding \"%s\" names no graph input", b->name);
        return false;
    }
    if (bv->dtype != v->dtype || !ir_shape_equal(&bv->shape, &v->shape) || !bv->data) {
        char want[128], got[128];
        ir_shape_format(&v->shape, want, sizeof want);
        ir_shape_format(&bv->shape, got, sizeof got);
        ir_diag_graph(d, g, "binding %s%s for input \"%s\" does not fit its declaration %s%s",
                      ir_dtype_name(bv->dtype), got, v->name, ir_dtype_name(v->dtype), want);
        return false;
    }
    jmp_buf jb;
    if (!IR_TRY(&g->arena, jb)) {
        g->arena.oom = NULL;
        ir_diag_graph(d, g, "out of memory binding input \"%s\"", b->name);
        return false;
    }
    v->data = ir_arena_memdup(&g->arena, bv->data, ir_value_bytes(bv));
    g->arena.oom = NULL;
    v->is_input = false;
    int k = 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] != v)
            g->inputs[k++] = g->inputs[i];
    g->n_inputs = k;
    return true;
}

/* After loading a static-shape model with status st: binds the inputs and
 * verifies again; frees *out on error. Returns the final status. */
static loom_status bind_static(loom_status st, const fe_binding *binds, int n_binds,
                               ir_graph **out, ir_diag *d)
{
    bool ok = true;
    for (int i = 0; !st && i < n_binds; i++)
        ok = bind_loaded(*out, &binds[i], d) && ok;
    if (!st && ok && n_binds)
        st = ir_verify(*out, d);
    if (!st && !ok)
        st = LOOM_STATUS_INVALID_ARG;
    if (st) {
        ir_graph_free(*out);
        *out = NULL;
    }
    return st;
}

loom_status fe_load_model_bound(const char *path, const char *const *dims,
                                const fe_binding *binds, int n_binds, ir_graph **out,
                                ir_diag *d)
{
    return fe_load_model_weights(path, NULL, dims, binds, n_binds, out, d);
}

loom_status fe_load_model_weights(const char *path, const char *weights, const char *const *dims,
                                  const fe_binding *binds, int n_binds, ir_graph **out,
                                  ir_diag *d)
{
    *out = NULL;
    bool keras = is_keras(path);
    if (weights && !(keras && has_ext(path, ".json"))) {
        ir_diag_errorf(d, "%s: a separate weights file (%s) applies to a Keras model.to_json() "
                       "file only", path, weights);
        return LOOM_STATUS_INVALID_ARG;
    }
    if (has_ext(path, ".onnx"))
        return fe_onnx_load_bound(path, dims, binds, n_binds, out, d);
    loom_status st = keras ? fe_keras_load(path, weights, dims, out, d)
                           : load_static(path, dims, out, d);
    return bind_static(st, binds, n_binds, out, d);
}

loom_status fe_load_memory_bound(const void *data, size_t len, fe_format format,
                                 const char *source, const char *base_dir,
                                 const char *const *dims, const fe_binding *binds, int n_binds,
                                 ir_graph **out, ir_diag *d)
{
    *out = NULL;
    if (format == FE_FORMAT_ONNX)
        return fe_onnx_load_memory(data, len, source, base_dir, dims, binds, n_binds, out, d);
    if (dims && dims[0]) {
        ir_diag_errorf(d, "%s: dim pins apply to ONNX models only (%s has static shapes)",
                       source, format == FE_FORMAT_LIR ? ".lir" : "JSON");
        return LOOM_STATUS_INVALID_ARG;
    }
    loom_status st = format == FE_FORMAT_JSON
                         ? fe_json_load_string(data, len, source, base_dir ? base_dir : ".", out, d)
                         : ir_parse(data, len, source, out, d);
    return bind_static(st, binds, n_binds, out, d);
}
