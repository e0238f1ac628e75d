/*
 * loom's JSON model writer: the inverse of fe_json.c. The text has a fixed
 * layout (one input, initializer or node per line; fields in the order of
 * docs/model-format.md; attributes in the node's order; floats in their
 * shortest exact form), so the same graph always gives the same bytes.
 *
 * Constants (values with data and no producer that a node or the outputs
 * use) go to a safetensors file when weights_path is given, else inline as
 * "initializers". Both files are written under temporary names and renamed
 * into place only when both are complete.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fe.h"
#include "fe_jsontext.h"
#include "fe_safetensors.h"

static void put_shape(fe_jbuf *b, const ir_shape *s)
{
    fe_jbuf_puts(b, "[");
    for (int i = 0; i < s->rank; i++)
        fe_jbuf_printf(b, i ? ", %lld" : "%lld", (long long)s->dims[i]);
    fe_jbuf_puts(b, "]");
}

/* Writes the elements of a constant as a flat JSON array. */
static void put_data(fe_jbuf *b, ir_dtype t, const ir_shape *s, const void *data)
{
    int64_t n = ir_shape_numel(s);
    const unsigned char *p = data;
    fe_jbuf_puts(b, "[");
    for (int64_t i = 0; i < n && !b->oom; i++) {
        fe_jbuf_puts(b, i ? ", " : "");
        const unsigned char *e = p + (size_t)i * ir_dtype_size(t);
        float f;
        double x;
        int64_t i64;
        int32_t i32;
        switch (t) {
        case IR_DTYPE_F32: memcpy(&f, e, 4); fe_jbuf_f32(b, f); break;
        case IR_DTYPE_F64: memcpy(&x, e, 8); fe_jbuf_f64(b, x); break;
        case IR_DTYPE_I64: memcpy(&i64, e, 8); fe_jbuf_printf(b, "%lld", (long long)i64); break;
        case IR_DTYPE_I32: memcpy(&i32, e, 4); fe_jbuf_printf(b, "%d", (int)i32); break;
        case IR_DTYPE_I8: fe_jbuf_printf(b, "%d", (int)(int8_t)*e); break;
        case IR_DTYPE_U8: fe_jbuf_printf(b, "%u", (unsigned)*e); break;
        default: fe_jbuf_puts(b, *e ? "true" : "false"); break;
        }
    }
    fe_jbuf_puts(b, "]");
}

/* "dtype", "shape" and "data" fields of an inline tensor. */
static void put_tensor_fields(fe_jbuf *b, const ir_value *v)
{
    fe_jbuf_printf(b, "\"dtype\": \"%s\", \"shape\": ", ir_dtype_name(v->dtype));
    put_shape(b, &v->shape);
    fe_jbuf_puts(b, ", \"data\": ");
    put_data(b, v->dtype, &v->shape, v->data);
}

static void put_attr(fe_jbuf *b, const ir_attr *a)
{
    fe_jbuf_string(b, a->name);
    fe_jbuf_puts(b, ": ");
    switch (a->kind) {
    case IR_ATTR_INT: fe_jbuf_printf(b, "%lld", (long long)a->u.i); return;
    case IR_ATTR_FLOAT: fe_jbuf_f32(b, a->u.f); return;
    case IR_ATTR_STRING: fe_jbuf_string(b, a->u.s); return;
    case IR_ATTR_TENSOR:
        fe_jbuf_puts(b, "{");
        put_tensor_fields(b, a->u.tensor);
        fe_jbuf_puts(b, "}");
        return;
    default: break;
    }
    fe_jbuf_puts(b, "[");
    for (int i = 0; i < a->n; i++) {
        fe_jbuf_puts(b, i ? ", " : "");
        if (a->kind == IR_ATTR_INTS)
            fe_jbuf_printf(b, "%lld", (long long)a->u.ints[i]);
        else if (a->kind == IR_ATTR_FLOATS)
            fe_jbuf_f32(b, a->u.floats[i]);
        else
            fe_jbuf_string(b, a->u.strings[i]);
    }
    fe_jbuf_puts(b, "]");
}

/* ["a", "", "b"]: operand names, "" for omitted ones. */
static void put_names(fe_jbuf *b, ir_value *const *v, int n)
{
    fe_jbuf_puts(b, "[");
    for (int i = 0; i < n; i++) {
        fe_jbuf_puts(b, i ? ", " : "");
        fe_jbuf_string(b, v[i] ? v[i]->name : "");
    }
    fe_jbuf_puts(b, "]");
}

static void put_node(fe_jbuf *b, const ir_node *n)
{
    fe_jbuf_printf(b, "{\"op\": \"%s\", \"name\": ", ir_op_name(n->op));
    fe_jbuf_string(b, n->name);
    fe_jbuf_puts(b, ", \"inputs\": ");
    put_names(b, n->inputs, n->n_inputs);
    fe_jbuf_puts(b, ", \"outputs\": ");
    put_names(b, n->outputs, n->n_outputs);
    if (n->n_attrs) {
        fe_jbuf_puts(b, ", \"attrs\": {");
        for (int k = 0; k < n->n_attrs; k++) {
            fe_jbuf_puts(b, k ? ", " : "");
            put_attr(b, &n->attrs[k]);
        }
        fe_jbuf_puts(b, "}");
    }
    fe_jbuf_puts(b, "}");
}

/* Collects the constants that nodes and outputs use, in first-use order,
 * into consts (ir_malloc); returns the count or -1 when out of memory. */
static int collect_constants(const ir_graph *g, const ir_value ***consts)
{
    bool *seen = ir_calloc((size_t)g->n_values + 1, sizeof *seen);
    *consts = ir_malloc(((size_t)g->n_values + 1) * sizeof **consts);
    if (!seen || !*consts) {
        ir_free(seen);
        ir_free((void *)*consts);
        *consts = NULL;
        return -1;
    }
    int n = 0;
    for (int k = 0; k <= g->n_nodes; k++) {
        ir_value *const *vs = k < g->n_nodes ? g->nodes[k]->inputs : g->outputs;
        int nv = k < g->n_nodes ? g->nodes[k]->n_inputs : g->n_outputs;
        for (int i = 0; i < nv; i++) {
            const ir_value *v = vs[i];
            if (!v || !v->data || v->producer || v->is_input || v->id < 0 || v->id >= g->n_values ||
                seen[v->id])
                continue;
            seen[v->id] = true;
            (*consts)[n++] = v;
        }
    }
    ir_free(seen);
    return n;
}

/* Writes the whole JSON text into b. */
static void put_graph(fe_jbuf *b, const ir_graph *g, const char *weights_rel,
                      const ir_value **consts, int n_consts)
{
    fe_jbuf_puts(b, "{\n  \"format\": \"loom-graph\",\n  \"version\": 1,\n  \"name\": ");
    fe_jbuf_string(b, g->name ? g->name : "");
    fe_jbuf_puts(b, ",\n  \"inputs\": [");
    for (int i = 0; i < g->n_inputs; i++) {
        const ir_value *v = g->inputs[i];
        fe_jbuf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
        fe_jbuf_string(b, v->name);
        fe_jbuf_printf(b, ", \"dtype\": \"%s\", \"shape\": ", ir_dtype_name(v->dtype));
        put_shape(b, &v->shape);
        fe_jbuf_puts(b, "}");
    }
    fe_jbuf_puts(b, g->n_inputs ? "\n  ],\n  \"outputs\": " : "],\n  \"outputs\": ");
    put_names(b, g->outputs, g->n_outputs);
    if (weights_rel) {
        fe_jbuf_puts(b, ",\n  \"weights\": ");
        fe_jbuf_string(b, weights_rel);
    } else if (n_consts) {
        fe_jbuf_puts(b, ",\n  \"initializers\": [");
        for (int i = 0; i < n_consts; i++) {
            fe_jbuf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
            fe_jbuf_string(b, consts[i]->name);
            fe_jbuf_puts(b, ", ");
            put_tensor_fields(b, consts[i]);
            fe_jbuf_puts(b, "}");
        }
        fe_jbuf_puts(b, "\n  ]");
    }
    fe_jbuf_puts(b, ",\n  \"nodes\": [");
    for (int k = 0; k < g->n_nodes; k++) {
        fe_jbuf_puts(b, k ? ",\n    " : "\n    ");
        put_node(b, g->nodes[k]);
    }
    fe_jbuf_puts(b, g->n_nodes ? "\n  ]\n}\n" : "]\n}\n");
}

/* Canonical folder of path (which need not exist) into out[PATH_MAX]. */
static bool canonical_dir(const char *path, char *out)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
    if (n >= sizeof dir)
        return false;
    memcpy(dir, n ? path : ".", n ? n : 1);
    dir[n ? n : 1] = '\0';
    return realpath(dir, out) != NULL;
}

/* Sets *out to the weights path relative to the JSON file's folder
 * (ir_malloc); reports failures. */
static loom_status weights_relative(const char *json_path, const char *weights_path, char **out,
                                    ir_diag *d)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!canonical_dir(json_path, a) || !canonical_dir(weights_path, b)) {
        ir_diag_errorf(d, "%s: cannot resolve the folders of the JSON and weights files: %s",
                       json_path, strerror(errno));
        return LOOM_STATUS_IO;
    }
    if (strcmp(a, "/") == 0) /* the root: no component */
        a[0] = '\0';
    if (strcmp(b, "/") == 0)
        b[0] = '\0';
    /* common prefix of whole components */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        if ((a[i] == '/' || !a[i]) && (b[i] == '/' || !b[i]))
            common = i;
        if (!a[i] || !b[i] || a[i] != b[i])
            break;
    }
    const char *base = strrchr(weights_path, '/');
    base = base ? base + 1 : weights_path;
    size_t ups = 0;
    for (const char *p = a + common; *p; p++)
        ups += *p == '/';
    const char *rest = b + common + (b[common] == '/');
    *out = ir_malloc(ups * 3 + strlen(rest) + 1 + strlen(base) + 1);
    if (!*out) {
        ir_diag_errorf(d, "%s: out of memory", json_path);
        return LOOM_STATUS_NOMEM;
    }
    (*out)[0] = '\0';
    for (size_t i = 0; i < ups; i++)
        strcat(*out, "../");
    if (*rest) {
        strcat(*out, rest);
        strcat(*out, "/");
    }
    strcat(*out, base);
    return LOOM_STATUS_OK;
}

/* Checks that every graph input has a known shape. */
static bool check_writable(const ir_graph *g, const char *json_path, ir_diag *d)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (!g->inputs[i]->shape_known) {
            ir_diag_errorf(d, "%s: input \"%s\" has no known shape", json_path, g->inputs[i]->name);
            return false;
        }
    return true;
}

/* Writes the constants to a temporary safetensors file. */
static loom_status write_weights(const char *path, const ir_value **consts, int n, fe_wfile *w,
                                 ir_diag *d)
{
    fe_st_entry *e = ir_malloc((size_t)(n ? n : 1) * sizeof *e);
    if (!e) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    for (int i = 0; i < n; i++)
        e[i] = (fe_st_entry){consts[i]->name, consts[i]->dtype, consts[i]->shape, consts[i]->data};
    loom_status st = fe_st_write_tmp(path, e, n, w, d);
    ir_free(e);
    return st;
}

loom_status fe_json_write(const ir_graph *g, const char *json_path, const char *weights_path,
                          ir_diag *d)
{
    if (!g || !json_path || (weights_path && strcmp(json_path, weights_path) == 0)) {
        ir_diag_errorf(d, "%s: invalid arguments to fe_json_write", json_path ? json_path : "?");
        return LOOM_STATUS_INVALID_ARG;
    }
    if (!check_writable(g, json_path, d))
        return LOOM_STATUS_INVALID_ARG;
    const ir_value **consts = NULL;
    int n_consts = collect_constants(g, &consts);
    char *rel = NULL;
    fe_jbuf b;
    fe_jbuf_init(&b);
    fe_wfile wj = {0}, ww = {0};
    loom_status st = LOOM_STATUS_OK;
    if (n_consts < 0) {
        ir_diag_errorf(d, "%s: out of memory", json_path);
        st = LOOM_STATUS_NOMEM;
    } else if (weights_path)
        st = weights_relative(json_path, weights_path, &rel, d);
    if (!st) {
        put_graph(&b, g, rel, consts, n_consts);
        if (b.oom) {
            ir_diag_errorf(d, "%s: out of memory", json_path);
            st = LOOM_STATUS_NOMEM;
        }
    }
    if (!st && weights_path)
        st = write_weights(weights_path, consts, n_consts, &ww, d);
    if (!st && !(st = fe_wfile_open(&wj, json_path, d))) {
        fe_wfile_write(&wj, b.s, b.len);
        st = fe_wfile_close(&wj, d);
    }
    if (!st && weights_path)
        st = fe_wfile_commit(&ww, d);
    if (!st)
        st = fe_wfile_commit(&wj, d);
    fe_wfile_abort(&ww);
    fe_wfile_abort(&wj);
    fe_jbuf_free(&b);
    ir_free(rel);
    ir_free((void *)consts);
    return st;
}
