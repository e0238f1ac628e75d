/*
 * The .lir printer (grammar in docs/ir.md). Output goes through a small sink
 * that either writes to a FILE or appends to a growing string, so both entry
 * points share one printer.
 *
 * Layout: the graph header with the inputs, then the constants in value
 * order, then one line per node in execution order, then `return`. Names
 * outside [A-Za-z0-9_.] are quoted. Floats print as the shortest decimal
 * that reads back to the same bits (NaNs other than the canonical ones as
 * nan(0xBITS)); small constants print inline, large ones as hex bytes.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir_text.h"
#include "loomrt.h"

typedef struct sink {
    FILE *file;      /* write here, or else append to buf */
    char *buf;
    size_t len, cap;
    bool failed;     /* a write or an allocation failed */
} sink;

static void put(sink *s, const char *p, size_t n)
{
    if (s->failed || n == 0)
        return;
    if (s->file) {
        if (fwrite(p, 1, n, s->file) != n)
            s->failed = true;
        return;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = ir_realloc(s->buf, cap);
        if (!nb) {
            s->failed = true;
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void puts_(sink *s, const char *str)
{
    put(s, str, strlen(str));
}

static void putf(sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(sink *s, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(s, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- names and strings ---- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

/* A string literal with \\ \" \n \t and \XX escapes for other controls. */
static void print_string(sink *s, const char *str)
{
    put(s, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(s, esc, 2);
        } else if (*p == '\n')
            puts_(s, "\\n");
        else if (*p == '\t')
            puts_(s, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            putf(s, "\\%02X", *p);
        else
            put(s, (const char *)p, 1);
    }
    put(s, "\"", 1);
}

/* prefix + name, quoted unless it is a non-empty run of name characters. */
static void print_name(sink *s, char prefix, const char *name)
{
    bool bare = name[0] != '\0';
    for (const char *p = name; *p && bare; p++)
        bare = is_name_char(*p);
    put(s, &prefix, 1);
    if (bare)
        puts_(s, name);
    else
        print_string(s, name);
}

/* Attribute names are bare identifiers when they can be. */
static void print_attr_name(sink *s, const char *name)
{
    bool bare = (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
                name[0] == '_';
    for (const char *p = name; *p && bare; p++)
        bare = is_name_char(*p);
    if (bare)
        puts_(s, name);
    else
        print_string(s, name);
}

/* ---- numbers ---- */

/* True when buf reads back (as f32 or f64) to exactly x. */
static bool reads_back(const char *buf, double x, bool f32)
{
    if (f32) {
        float back = strtof(buf, NULL), want = (float)x;
        return memcmp(&back, &want, 4) == 0;
    }
    double back = strtod(buf, NULL);
    return memcmp(&back, &x, 8) == 0;
}

/* Shortest round-trip decimal of a finite x, laid out like Python's repr:
 * positional for decimal exponents -4..15 ("10.0", "0.0001"), else
 * scientific ("1e-05", "3.4028235e+38"); always with a '.' or an 'e'. */
static void format_finite(double x, bool f32, char *buf, size_t size)
{
    int prec = 1, max = f32 ? 9 : 17;
    for (; prec < max; prec++) {
        snprintf(buf, size, "%.*e", prec - 1, x);
        if (reads_back(buf, x, f32))
            break;
    }
    snprintf(buf, size, "%.*e", prec - 1, x);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 16)
        return;
    int decimals = prec - 1 - exp;
    snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, x);
    if (!strchr(buf, '.')) {
        size_t n = strlen(buf);
        if (n + 3 <= size)
            memcpy(buf + n, ".0", 3);
    }
}

static void format_f32(float f, char *buf, size_t size)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if (isnan(f)) {
        if (bits == 0x7fc00000u || bits == 0xffc00000u)
            snprintf(buf, size, "%s", bits >> 31 ? "-nan" : "nan");
        else
            snprintf(buf, size, "nan(0x%08" PRIx32 ")", bits);
    } else if (isinf(f)) {
        snprintf(buf, size, "%s", f < 0 ? "-inf" : "inf");
    } else {
        format_finite(f, true, buf, size);
    }
}

static void format_f64(double f, char *buf, size_t size)
{
    uint64_t bits;
    memcpy(&bits, &f, 8);
    if (isnan(f)) {
        if (bits == UINT64_C(0x7ff8000000000000) || bits == UINT64_C(0xfff8000000000000))
            snprintf(buf, size, "%s", bits >> 63 ? "-nan" : "nan");
        else
            snprintf(buf, size, "nan(0x%016" PRIx64 ")", bits);
    } else if (isinf(f)) {
        snprintf(buf, size, "%s", f < 0 ? "-inf" : "inf");
    } else {
        format_finite(f, false, buf, size);
    }
}

/* ---- types and constant payloads ---- */

static void print_type(sink *s, const ir_value *v)
{
    puts_(s, ir_dtype_name(v->dtype));
    if (!v->shape_known) {
        puts_(s, "[?]");
        return;
    }
    put(s, "[", 1);
    for (int i = 0; i < v->shape.rank; i++)
        putf(s, i ? ",%" PRId64 : "%" PRId64, v->shape.dims[i]);
    put(s, "]", 1);
}

static double element_f64(const ir_value *v, int64_t i);

/* Element i of a constant as a literal of its dtype. */
static void print_element(sink *s, const ir_value *v, int64_t i)
{
    const unsigned char *p = (const unsigned char *)v->data + (size_t)i * ir_dtype_size(v->dtype);
    char buf[64];
    switch (v->dtype) {
    case IR_DTYPE_F32: { float x; memcpy(&x, p, 4); format_f32(x, buf, sizeof buf); puts_(s, buf); break; }
    case IR_DTYPE_F64: { double x; memcpy(&x, p, 8); format_f64(x, buf, sizeof buf); puts_(s, buf); break; }
    case IR_DTYPE_I64: { int64_t x; memcpy(&x, p, 8); putf(s, "%" PRId64, x); break; }
    case IR_DTYPE_I32: { int32_t x; memcpy(&x, p, 4); putf(s, "%" PRId32, x); break; }
    case IR_DTYPE_I8: putf(s, "%d", (int)(int8_t)*p); break;
    case IR_DTYPE_U8: putf(s, "%u", (unsigned)*p); break;
    case IR_DTYPE_BOOL: puts_(s, *p ? "true" : "false"); break;
    case IR_DTYPE_F16: /* as the f32 it widens to, exactly */
    case IR_DTYPE_BF16: format_f32((float)element_f64(v, i), buf, sizeof buf); puts_(s, buf); break;
    case IR_DTYPE_COUNT: break;
    }
}

/* Inline form: small, and (for bool) every byte 0 or 1 so it reads back. */
static bool prints_inline(const ir_value *v, int64_t numel)
{
    if (numel > IR_PRINT_INLINE_MAX)
        return false;
    if (v->dtype == IR_DTYPE_BOOL)
        for (int64_t i = 0; i < numel; i++)
            if (((const unsigned char *)v->data)[i] > 1)
                return false;
    return true;
}

/* The payload after `const` or a tensor attribute's type. */
static void print_payload(sink *s, const ir_value *v, const ir_print_opts *o)
{
    size_t bytes;
    if (!v->data || !v->shape_known || (unsigned)v->dtype >= IR_DTYPE_COUNT ||
        !ir_shape_bytes(&v->shape, v->dtype, &bytes)) {
        puts_(s, "<elided>");
        return;
    }
    int64_t numel = ir_shape_numel(&v->shape);
    if (prints_inline(v, numel)) {
        put(s, "[", 1);
        for (int64_t i = 0; i < numel; i++) {
            if (i)
                puts_(s, ", ");
            print_element(s, v, i);
        }
        put(s, "]", 1);
        return;
    }
    if (o->elide_constants && numel > IR_PRINT_INLINE_MAX) {
        puts_(s, "<elided>");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = v->data;
    char chunk[256];
    puts_(s, "hex\"");
    for (size_t i = 0; i < bytes;) {
        size_t k = 0;
        for (; k < sizeof chunk && i < bytes; i++) {
            chunk[k++] = hex[p[i] >> 4];
            chunk[k++] = hex[p[i] & 15];
        }
        put(s, chunk, k);
    }
    put(s, "\"", 1);
}

/* Element i of constant v as a double (exact for every dtype but large
 * int64 values; int64 ranges print through range_i64). */
static double element_f64(const ir_value *v, int64_t i)
{
    const unsigned char *p = (const unsigned char *)v->data + (size_t)i * ir_dtype_size(v->dtype);
    switch (v->dtype) {
    case IR_DTYPE_F32: { float x; memcpy(&x, p, 4); return x; }
    case IR_DTYPE_F64: { double x; memcpy(&x, p, 8); return x; }
    case IR_DTYPE_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
    case IR_DTYPE_I32: { int32_t x; memcpy(&x, p, 4); return x; }
    case IR_DTYPE_I8: return (int8_t)*p;
    case IR_DTYPE_U8:
    case IR_DTYPE_BOOL: return *p;
    case IR_DTYPE_F16: { uint16_t x; memcpy(&x, p, 2); return loomrt_f16_to_f32(x); }
    case IR_DTYPE_BF16: { uint16_t x; memcpy(&x, p, 2); return loomrt_bf16_to_f32(x); }
    case IR_DTYPE_COUNT: break;
    }
    return NAN;
}

static void range_i64(sink *s, const ir_value *v, int64_t n)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = 0; i < n; i++) {
        int64_t x;
        memcpy(&x, (const char *)v->data + i * 8, 8);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    putf(s, " // range [%" PRId64 ", %" PRId64 "]", lo, hi);
}

/* ` // range [MIN, MAX]` of constant v (NaNs are left out and counted). */
static void print_range(sink *s, const ir_value *v)
{
    int64_t n = ir_shape_numel(&v->shape), nans = 0;
    if (v->dtype == IR_DTYPE_I64) {
        range_i64(s, v, n);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double x = element_f64(v, i);
        if (isnan(x)) {
            nans++;
            continue;
        }
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    if (nans == n)
        putf(s, " // all %" PRId64 " values are NaN", n);
    else
        putf(s, " // range [%.9g, %.9g]", lo, hi);
    if (nans && nans < n)
        putf(s, ", %" PRId64 " NaN", nans);
}

/* ---- attributes and nodes ---- */

static void print_attr_value(sink *s, const ir_attr *a, const ir_print_opts *o)
{
    char buf[64];
    switch (a->kind) {
    case IR_ATTR_INT: putf(s, "%" PRId64, a->u.i); break;
    case IR_ATTR_FLOAT: format_f32(a->u.f, buf, sizeof buf); puts_(s, buf); break;
    case IR_ATTR_STRING: print_string(s, a->u.s ? a->u.s : ""); break;
    case IR_ATTR_INTS:
    case IR_ATTR_FLOATS:
    case IR_ATTR_STRINGS:
        put(s, "[", 1);
        for (int i = 0; i < a->n; i++) {
            if (i)
                puts_(s, ", ");
            if (a->kind == IR_ATTR_INTS)
                putf(s, "%" PRId64, a->u.ints[i]);
            else if (a->kind == IR_ATTR_FLOATS) {
                format_f32(a->u.floats[i], buf, sizeof buf);
                puts_(s, buf);
            } else
                print_string(s, a->u.strings[i] ? a->u.strings[i] : "");
        }
        put(s, "]", 1);
        break;
    case IR_ATTR_TENSOR:
        if (!a->u.tensor) {
            puts_(s, "tensor<?>");
            break;
        }
        puts_(s, "tensor<");
        print_type(s, a->u.tensor);
        puts_(s, "> ");
        print_payload(s, a->u.tensor, o);
        break;
    case IR_ATTR_KIND_COUNT: puts_(s, "?"); break;
    }
}

/* The node name is printed only when it differs from the default, which is
 * the name of the first output (or "" when that output is omitted). */
static const char *default_node_name(const ir_node *n)
{
    return n->n_outputs > 0 && n->outputs[0] ? n->outputs[0]->name : "";
}

static void print_node(sink *s, const ir_node *n, const ir_print_opts *o)
{
    puts_(s, "  ");
    for (int i = 0; i < n->n_outputs; i++) {
        const ir_value *v = n->outputs[i];
        if (i)
            puts_(s, ", ");
        if (!v) {
            put(s, "_", 1);
            continue;
        }
        print_name(s, '%', v->name);
        if (v->shape_known) {
            puts_(s, ": ");
            print_type(s, v);
        }
    }
    if (n->n_outputs)
        puts_(s, " = ");
    puts_(s, ir_op_name(n->op));
    put(s, "(", 1);
    for (int i = 0; i < n->n_inputs; i++) {
        if (i)
            puts_(s, ", ");
        if (n->inputs[i])
            print_name(s, '%', n->inputs[i]->name);
        else
            put(s, "_", 1);
    }
    put(s, ")", 1);
    for (int i = 0; i < n->n_attrs; i++) {
        puts_(s, i ? ", " : " {");
        print_attr_name(s, n->attrs[i].name);
        puts_(s, " = ");
        print_attr_value(s, &n->attrs[i], o);
    }
    if (n->n_attrs)
        put(s, "}", 1);
    if (strcmp(n->name, default_node_name(n)) != 0) {
        put(s, " ", 1);
        print_name(s, '@', n->name);
    }
    put(s, "\n", 1);
}

/* ---- graph ---- */

/* Values declared with `const`: payload, no producer, not an input. */
static bool is_const_decl(const ir_value *v)
{
    return v && v->data && !v->producer && !v->is_input;
}

static void print_graph(sink *s, const ir_graph *g, const ir_print_opts *o)
{
    puts_(s, "graph ");
    print_name(s, '@', g->name ? g->name : "");
    put(s, "(", 1);
    for (int i = 0; i < g->n_inputs; i++) {
        if (i)
            puts_(s, ", ");
        print_name(s, '%', g->inputs[i]->name);
        puts_(s, ": ");
        print_type(s, g->inputs[i]);
    }
    puts_(s, ") {\n");
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        if (!is_const_decl(v))
            continue;
        puts_(s, "  ");
        print_name(s, '%', v->name);
        puts_(s, ": ");
        print_type(s, v);
        puts_(s, " = const ");
        print_payload(s, v, o);
        if (o->elide_constants && o->constant_ranges && v->data && v->shape_known &&
            ir_shape_numel(&v->shape) > IR_PRINT_INLINE_MAX)
            print_range(s, v);
        put(s, "\n", 1);
    }
    for (int i = 0; i < g->n_nodes; i++)
        print_node(s, g->nodes[i], o);
    puts_(s, "  return");
    for (int i = 0; i < g->n_outputs; i++) {
        puts_(s, i ? ", " : " ");
        print_name(s, '%', g->outputs[i]->name);
    }
    puts_(s, "\n}\n");
}

loom_status ir_print(const ir_graph *g, const ir_print_opts *opts, FILE *out)
{
    static const ir_print_opts defaults = {0};
    sink s = {.file = out};
    print_graph(&s, g, opts ? opts : &defaults);
    if (fflush(out) != 0 || ferror(out))
        s.failed = true;
    return s.failed ? LOOM_STATUS_IO : LOOM_STATUS_OK;
}

char *ir_print_string(const ir_graph *g, const ir_print_opts *opts, size_t *len)
{
    static const ir_print_opts defaults = {0};
    sink s = {0};
    print_graph(&s, g, opts ? opts : &defaults);
    if (s.failed) {
        ir_free(s.buf);
        return NULL;
    }
    if (len)
        *len = s.len;
    return s.buf;
}
