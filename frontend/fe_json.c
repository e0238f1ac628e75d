/*
 * loom's JSON model reader (the format is docs/model-format.md).
 *
 * The reader works in phases and reports every problem a phase can find
 * before it stops:
 *   1. parse the text (fe_jdoc: exact integers, precise syntax errors);
 *   2. check the top-level fields ("format" and "version" first);
 *   3. open and validate the safetensors weights file, if any;
 *   4. read inputs, initializers and nodes: field types, dtypes, shapes,
 *      ops (all unknown ops are listed), arity, attribute names and kinds;
 *   5. define every tensor name once (duplicates are errors) and resolve
 *      node inputs and graph outputs (dangling names are errors);
 *   6. order the nodes topologically (a valid graph listed out of order is
 *      sorted; a cycle is an error naming a node on it);
 *   7. build the graph: constants are made only for the initializers and
 *      weights tensors that are used; weights data points into the mapping;
 *   8. shape inference and the verifier.
 * Everything temporary lives in a scratch arena that shares the graph's
 * out-of-memory handler, so a failed allocation anywhere unwinds cleanly.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fe.h"
#include "fe_jsontext.h"
#include "fe_safetensors.h"

/* An inline tensor: an initializer or a tensor attribute. */
typedef struct jtensor {
    const char *name;
    ir_dtype dtype;
    ir_shape shape;
    void *data; /* in the graph arena */
} jtensor;

/* A checked attribute, applied to the node when the graph is built. */
typedef struct jattr {
    const char *name;
    ir_attr_kind kind;
    int n;
    int64_t i;
    float f;
    const char *s;
    int64_t *ints;
    float *floats;
    const char **strings;
    jtensor *tensor;
} jattr;

typedef struct jnode {
    const char *name, *op_name, *where; /* where: node "NAME" (Op) */
    ir_op op;                           /* IR_OP_COUNT when unknown */
    const char **ins, **outs;           /* "" marks an omitted operand */
    int n_in, n_out;
    jattr *attrs;
    int n_attrs;
    int *producer; /* per input: index of the producing node, or -1 */
} jnode;

typedef enum def_kind { DEF_INPUT, DEF_INIT, DEF_WEIGHT, DEF_NODE } def_kind;

/* One defined tensor name. */
typedef struct def {
    def_kind kind;
    int index;       /* into inits, weights tensors or nodes */
    ir_value *value; /* once created in the graph */
    bool reported;   /* an unsupported weights dtype was reported */
} def;

/* String -> int map with open addressing, in the scratch arena. */
typedef struct smap {
    const char **keys;
    int *vals;
    int cap, n;
} smap;

typedef struct loader {
    const char *source, *base_dir;
    ir_diag *d;
    ir_graph *g;
    ir_arena tmp;
    fe_jdoc doc;
    const char *wts_path;
    fe_st_file wts;
    bool wts_failed; /* the weights file could not be read */
    bool wts_used;
    jtensor *inits;
    int n_inits;
    jnode *nodes;
    int n_nodes;
    def *defs;
    int n_defs, cap_defs;
    smap names;
    int n_invalid, n_unsupported, n_io;
} loader;

/* ---- diagnostics ---- */

static void report(loader *L, loom_status cls, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports "SOURCE: WHERE: message" (or "SOURCE: message") of class cls. */
static void report(loader *L, loom_status cls, const char *where, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (where)
        ir_diag_errorf(L->d, "%s: %s: %s", L->source, where, msg);
    else
        ir_diag_errorf(L->d, "%s: %s", L->source, msg);
    if (cls == LOOM_STATUS_UNSUPPORTED)
        L->n_unsupported++;
    else if (cls == LOOM_STATUS_IO)
        L->n_io++;
    else
        L->n_invalid++;
}

static int n_errors(const loader *L)
{
    return L->n_invalid + L->n_unsupported + L->n_io;
}

static loom_status error_status(const loader *L)
{
    return L->n_invalid ? LOOM_STATUS_INVALID_MODEL
         : L->n_io ? LOOM_STATUS_IO
         : L->n_unsupported ? LOOM_STATUS_UNSUPPORTED : LOOM_STATUS_OK;
}

static const char *where_printf(loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *where_printf(loader *L, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ir_arena_strdup(&L->tmp, buf);
}

/* ---- name map ---- */

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int smap_get(const smap *m, const char *key)
{
    if (!m->cap)
        return -1;
    uint32_t mask = (uint32_t)m->cap - 1;
    for (uint32_t h = str_hash(key) & mask; m->keys[h]; h = (h + 1) & mask)
        if (strcmp(m->keys[h], key) == 0)
            return m->vals[h];
    return -1;
}

static void smap_put(ir_arena *a, smap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap) {
        smap old = *m;
        m->cap = old.cap ? old.cap * 2 : 64;
        m->keys = ir_arena_array(a, (size_t)m->cap, sizeof *m->keys);
        m->vals = ir_arena_array(a, (size_t)m->cap, sizeof *m->vals);
        m->n = 0;
        for (int i = 0; i < old.cap; i++)
            if (old.keys[i])
                smap_put(a, m, old.keys[i], old.vals[i]);
    }
    uint32_t mask = (uint32_t)m->cap - 1;
    uint32_t h = str_hash(key) & mask;
    while (m->keys[h])
        h = (h + 1) & mask;
    m->keys[h] = key;
    m->vals[h] = val;
    m->n++;
}

/* ---- field helpers ---- */

/* Reports unknown and repeated keys of obj; returns false if any. */
static bool check_keys(loader *L, const char *where, const cJSON *obj, const char *const *allowed)
{
    bool ok = true;
    for (const cJSON *c = obj->child; c; c = c->next) {
        int i = 0;
        while (allowed[i] && strcmp(allowed[i], c->string) != 0)
            i++;
        if (!allowed[i]) {
            report(L, LOOM_STATUS_INVALID_MODEL, where, "unknown field \"%s\"", c->string);
            ok = false;
        }
    }
    const char *dup = fe_json_dup_key(&L->tmp, obj);
    if (dup) {
        report(L, LOOM_STATUS_INVALID_MODEL, where, "field \"%s\" appears twice", dup);
        ok = false;
    }
    return ok;
}

typedef cJSON_bool (*json_check)(const cJSON *);

/* Returns field key of obj when it has the wanted type, else reports (a
 * missing field only when required) and returns NULL. */
static const cJSON *field(loader *L, const char *where, const cJSON *obj, const char *key,
                          json_check is, const char *what, bool required)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!c) {
        if (required)
            report(L, LOOM_STATUS_INVALID_MODEL, where, "missing field \"%s\"", key);
        return NULL;
    }
    if (!is(c)) {
        report(L, LOOM_STATUS_INVALID_MODEL, where, "field \"%s\" must be %s, got %s", key, what,
               fe_json_type_name(c));
        return NULL;
    }
    return c;
}

/* Reads an array of strings into *out (scratch arena); false on error. */
static bool string_list(loader *L, const char *where, const cJSON *arr, const char *key,
                        const char ***out, int *n)
{
    *n = cJSON_GetArraySize(arr);
    *out = ir_arena_array(&L->tmp, (size_t)*n + 1, sizeof **out);
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        if (!cJSON_IsString(c)) {
            report(L, LOOM_STATUS_INVALID_MODEL, where, "%s[%d] must be a string, got %s", key, i,
                   fe_json_type_name(c));
            return false;
        }
        (*out)[i] = c->valuestring;
    }
    return true;
}

/* ---- dtypes, shapes, data ---- */

static bool parse_dtype(loader *L, const char *where, const cJSON *item, ir_dtype *t)
{
    *t = ir_dtype_lookup(item->valuestring);
    if (*t == IR_DTYPE_COUNT || ir_dtype_is_half(*t)) { /* f16/bf16: ONNX models only */
        report(L, LOOM_STATUS_INVALID_MODEL, where,
               "unknown dtype \"%s\" (expected f32, f64, i64, i32, i8, u8 or bool)",
               item->valuestring);
        return false;
    }
    return true;
}

/* Reports why item is not an int64 for "FIELD[i]" / "FIELD"; ok is false. */
static void bad_int(loader *L, const char *where, const char *field, int i, const cJSON *item,
                    fe_jnum k)
{
    char txt[64], at[96];
    fe_jdoc_num_text(&L->doc, item, txt, sizeof txt);
    if (i >= 0)
        snprintf(at, sizeof at, "%s[%d]", field, i);
    else
        snprintf(at, sizeof at, "%s", field);
    if (k == FE_JNUM_NOT_NUMBER)
        report(L, LOOM_STATUS_INVALID_MODEL, where, "%s must be an integer, got %s", at,
               fe_json_type_name(item));
    else if (k == FE_JNUM_NOT_INTEGER)
        report(L, LOOM_STATUS_INVALID_MODEL, where, "%s must be an integer, got %s", at, txt);
    else
        report(L, LOOM_STATUS_INVALID_MODEL, where, "%s is %s, which does not fit in int64", at, txt);
}

/* Reads a shape array: rank <= IR_MAX_RANK, dims >= 0, byte size of dtype t
 * representable. */
static bool parse_shape(loader *L, const char *where, const cJSON *arr, ir_dtype t, ir_shape *s)
{
    int rank = cJSON_GetArraySize(arr);
    if (rank > IR_MAX_RANK) {
        report(L, LOOM_STATUS_UNSUPPORTED, where, "shape has rank %d; loom supports at most %d",
               rank, IR_MAX_RANK);
        return false;
    }
    s->rank = rank;
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        fe_jnum k = fe_jdoc_int(&L->doc, c, &s->dims[i]);
        if (k != FE_JNUM_OK) {
            bad_int(L, where, "shape", i, c, k);
            return false;
        }
        if (s->dims[i] < 0) {
            report(L, LOOM_STATUS_INVALID_MODEL, where,
                   "shape[%d] is %lld; dimensions must be >= 0", i, (long long)s->dims[i]);
            return false;
        }
    }
    size_t bytes;
    if (!ir_shape_bytes(s, t, &bytes)) {
        char sh[200];
        ir_shape_format(s, sh, sizeof sh);
        report(L, LOOM_STATUS_INVALID_MODEL, where, "shape %s of %s is too large: its size overflows",
               sh, ir_dtype_name(t));
        return false;
    }
    return true;
}

/* Reads a float-typed element: a number or "inf", "-inf", "nan". */
static bool json_real(loader *L, const cJSON *c, bool f32, double *out)
{
    if (cJSON_IsString(c)) {
        const char *s = c->valuestring;
        if (!strcmp(s, "inf") || !strcmp(s, "-inf") || !strcmp(s, "nan")) {
            *out = s[0] == 'n' ? (double)NAN : s[0] == '-' ? -(double)INFINITY : (double)INFINITY;
            return true;
        }
        return false;
    }
    if (f32) {
        float f;
        bool ok = fe_jdoc_float(&L->doc, c, &f);
        *out = f;
        return ok;
    }
    return fe_jdoc_double(&L->doc, c, out);
}

/* Converts element c of dtype t into dst; false (reported) if it does not
 * fit. */
static bool store_elem(loader *L, const char *where, const char *field, int i, const cJSON *c,
                       ir_dtype t, void *dst)
{
    static const int64_t lo[IR_DTYPE_COUNT] = {
        [IR_DTYPE_I64] = INT64_MIN, [IR_DTYPE_I32] = INT32_MIN, [IR_DTYPE_I8] = INT8_MIN,
        [IR_DTYPE_U8] = 0, [IR_DTYPE_BOOL] = 0};
    static const int64_t hi[IR_DTYPE_COUNT] = {
        [IR_DTYPE_I64] = INT64_MAX, [IR_DTYPE_I32] = INT32_MAX, [IR_DTYPE_I8] = INT8_MAX,
        [IR_DTYPE_U8] = UINT8_MAX, [IR_DTYPE_BOOL] = 1};
    char txt[64];
    if (t == IR_DTYPE_F32 || t == IR_DTYPE_F64) {
        double v;
        if (!json_real(L, c, t == IR_DTYPE_F32, &v)) {
            fe_jdoc_num_text(&L->doc, c, txt, sizeof txt);
            if (cJSON_IsNumber(c))
                report(L, LOOM_STATUS_INVALID_MODEL, where, "%s[%d] is %s, out of range for %s",
                       field, i, txt, ir_dtype_name(t));
            else
                report(L, LOOM_STATUS_INVALID_MODEL, where,
                       "%s[%d] must be a number (or \"inf\", \"-inf\", \"nan\"), got %s", field, i,
                       fe_json_type_name(c));
            return false;
        }
        if (t == IR_DTYPE_F32) {
            float f = (float)v;
            memcpy(dst, &f, 4);
        } else
            memcpy(dst, &v, 8);
        return true;
    }
    int64_t v;
    if (t == IR_DTYPE_BOOL && cJSON_IsBool(c))
        v = cJSON_IsTrue(c);
    else {
        fe_jnum k = fe_jdoc_int(&L->doc, c, &v);
        if (k != FE_JNUM_OK) {
            bad_int(L, where, field, i, c, k);
            return false;
        }
    }
    if (v < lo[t] || v > hi[t]) {
        report(L, LOOM_STATUS_INVALID_MODEL, where, "%s[%d] is %lld, out of range for %s", field,
               i, (long long)v, ir_dtype_name(t));
        return false;
    }
    int8_t b8 = (int8_t)v;
    int32_t b32 = (int32_t)v;
    if (t == IR_DTYPE_I64)
        memcpy(dst, &v, 8);
    else if (t == IR_DTYPE_I32)
        memcpy(dst, &b32, 4);
    else
        memcpy(dst, &b8, 1);
    return true;
}

/* Reads {"dtype", "shape", "data"} (plus "name" when named) into a tensor
 * whose data lives in the graph arena. */
static bool parse_tensor(loader *L, const char *where, const cJSON *obj, bool named, jtensor *t)
{
    static const char *const keys_named[] = {"name", "dtype", "shape", "data", NULL};
    if (!check_keys(L, where, obj, named ? keys_named : keys_named + 1))
        return false;
    const cJSON *dt = field(L, where, obj, "dtype", cJSON_IsString, "a string", true);
    const cJSON *sh = field(L, where, obj, "shape", cJSON_IsArray, "an array", true);
    const cJSON *data = field(L, where, obj, "data", cJSON_IsArray, "an array", true);
    if (!dt || !sh || !data || !parse_dtype(L, where, dt, &t->dtype) ||
        !parse_shape(L, where, sh, t->dtype, &t->shape))
        return false;
    int64_t numel = ir_shape_numel(&t->shape);
    int count = cJSON_GetArraySize(data);
    if (count != numel) {
        char s[200];
        ir_shape_format(&t->shape, s, sizeof s);
        report(L, LOOM_STATUS_INVALID_MODEL, where, "\"data\" has %d elements, shape %s needs %lld",
               count, s, (long long)numel);
        return false;
    }
    size_t es = ir_dtype_size(t->dtype);
    char *p = ir_arena_array(&L->g->arena, (size_t)count, es);
    int i = 0;
    for (const cJSON *c = data->child; c; c = c->next, i++)
        if (!store_elem(L, where, "data", i, c, t->dtype, p + (size_t)i * es))
            return false;
    t->data = p;
    return true;
}

/* ---- attributes ---- */

/* Lists the op's attribute names for a message: "a, b, c" or "none". */
static const char *attr_names(loader *L, ir_op op)
{
    const char *schema = ir_op_table[op].attrs;
    char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (const char *p = schema; *p && n + 2 < sizeof buf;) {
        while (*p == ' ')
            p++;
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.*s", n ? ", " : "", (int)(colon - p), p);
        p = colon;
        while (*p && *p != ' ')
            p++;
    }
    return ir_arena_strdup(&L->tmp, n ? buf : "none");
}

static const char *kind_expect(ir_attr_kind k)
{
    switch (k) {
    case IR_ATTR_INT: return "an integer";
    case IR_ATTR_FLOAT: return "a number";
    case IR_ATTR_STRING: return "a string";
    case IR_ATTR_INTS: return "an array of integers";
    case IR_ATTR_FLOATS: return "an array of numbers";
    case IR_ATTR_STRINGS: return "an array of strings";
    default: return "a tensor object {\"dtype\", \"shape\", \"data\"}";
    }
}

/* Converts the list attribute c of kind a->kind; false (reported) on a bad
 * element. */
static bool parse_attr_list(loader *L, const char *where, const cJSON *c, jattr *a)
{
    a->n = cJSON_GetArraySize(c);
    size_t n = (size_t)a->n + 1;
    if (a->kind == IR_ATTR_INTS)
        a->ints = ir_arena_array(&L->tmp, n, sizeof *a->ints);
    else if (a->kind == IR_ATTR_FLOATS)
        a->floats = ir_arena_array(&L->tmp, n, sizeof *a->floats);
    else
        a->strings = ir_arena_array(&L->tmp, n, sizeof *a->strings);
    const char *field = where_printf(L, "attribute \"%s\"", a->name);
    int i = 0;
    for (const cJSON *e = c->child; e; e = e->next, i++) {
        if (a->kind == IR_ATTR_INTS) {
            if (!store_elem(L, where, field, i, e, IR_DTYPE_I64, &a->ints[i]))
                return false;
        } else if (a->kind == IR_ATTR_FLOATS) {
            if (!store_elem(L, where, field, i, e, IR_DTYPE_F32, &a->floats[i]))
                return false;
        } else if (!cJSON_IsString(e)) {
            report(L, LOOM_STATUS_INVALID_MODEL, where, "%s[%d] must be a string, got %s", field, i,
                   fe_json_type_name(e));
            return false;
        } else
            a->strings[i] = e->valuestring;
    }
    return true;
}

/* Converts attribute c to the kind the op's schema gives; false (reported)
 * when the JSON value does not have that kind. */
static bool parse_attr(loader *L, const jnode *jn, const cJSON *c, jattr *a)
{
    a->name = c->string;
    bool list = a->kind == IR_ATTR_INTS || a->kind == IR_ATTR_FLOATS || a->kind == IR_ATTR_STRINGS;
    bool shape_ok = list ? cJSON_IsArray(c)
                  : a->kind == IR_ATTR_STRING ? cJSON_IsString(c)
                  : a->kind == IR_ATTR_TENSOR ? cJSON_IsObject(c)
                  : a->kind == IR_ATTR_INT ? cJSON_IsNumber(c)
                  : cJSON_IsNumber(c) || cJSON_IsString(c);
    if (!shape_ok) {
        report(L, LOOM_STATUS_INVALID_MODEL, jn->where, "attribute \"%s\" must be %s, got %s",
               a->name, kind_expect(a->kind), fe_json_type_name(c));
        return false;
    }
    const char *field = where_printf(L, "attribute \"%s\"", a->name);
    switch (a->kind) {
    case IR_ATTR_INT: {
        fe_jnum k = fe_jdoc_int(&L->doc, c, &a->i);
        if (k != FE_JNUM_OK)
            bad_int(L, jn->where, field, -1, c, k);
        return k == FE_JNUM_OK;
    }
    case IR_ATTR_FLOAT: {
        double v;
        char txt[64];
        if (json_real(L, c, true, &v)) {
            a->f = (float)v;
            return true;
        }
        fe_jdoc_num_text(&L->doc, c, txt, sizeof txt);
        if (cJSON_IsNumber(c))
            report(L, LOOM_STATUS_INVALID_MODEL, jn->where, "%s is %s, out of range for a float",
                   field, txt);
        else
            report(L, LOOM_STATUS_INVALID_MODEL, jn->where,
                   "%s must be a number (or \"inf\", \"-inf\", \"nan\"), got \"%s\"", field,
                   c->valuestring);
        return false;
    }
    case IR_ATTR_STRING:
        a->s = c->valuestring;
        return true;
    case IR_ATTR_TENSOR:
        a->tensor = ir_arena_alloc(&L->tmp, sizeof *a->tensor);
        a->tensor->name = ir_arena_printf(&L->g->arena, "%s.%s", jn->name, a->name);
        return parse_tensor(L, where_printf(L, "%s: %s", jn->where, field), c, false, a->tensor);
    default:
        return parse_attr_list(L, jn->where, c, a);
    }
}

/* Checks a node's "attrs" against its op's schema. */
static void parse_attrs(loader *L, jnode *jn, const cJSON *attrs)
{
    const char *dup = fe_json_dup_key(&L->tmp, attrs);
    if (dup)
        report(L, LOOM_STATUS_INVALID_MODEL, jn->where, "attribute \"%s\" appears twice", dup);
    jn->attrs = ir_arena_array(&L->tmp, (size_t)cJSON_GetArraySize(attrs) + 1, sizeof *jn->attrs);
    for (const cJSON *c = attrs->child; c; c = c->next) {
        jattr *a = &jn->attrs[jn->n_attrs];
        if (!ir_op_attr_kind(jn->op, c->string, &a->kind)) {
            report(L, LOOM_STATUS_INVALID_MODEL, jn->where,
                   "unknown attribute \"%s\" (%s takes: %s)", c->string, jn->op_name,
                   attr_names(L, jn->op));
            continue;
        }
        if (parse_attr(L, jn, c, a))
            jn->n_attrs++;
    }
}

/* ---- nodes ---- */

/* Reports a count outside [lo, hi] (hi < 0: no upper bound). */
static void check_count(loader *L, const jnode *jn, int n, int lo, int hi, const char *what)
{
    if (n >= lo && (hi < 0 || n <= hi))
        return;
    char range[64];
    if (hi < 0)
        snprintf(range, sizeof range, "at least %d", lo);
    else if (lo == hi)
        snprintf(range, sizeof range, "%d", lo);
    else
        snprintf(range, sizeof range, "%d to %d", lo, hi);
    report(L, LOOM_STATUS_INVALID_MODEL, jn->where, "has %d %s%s, %s takes %s", n, what,
           n == 1 ? "" : "s", jn->op_name, range);
}

/* Checks input and output counts against the op table. */
static void check_arity(loader *L, const jnode *jn)
{
    const ir_op_info *info = &ir_op_table[jn->op];
    check_count(L, jn, jn->n_in, info->min_inputs, info->max_inputs, "input");
    check_count(L, jn, jn->n_out, info->min_outputs, info->max_outputs, "output");
    for (int i = 0; i < info->min_inputs && i < jn->n_in; i++)
        if (!jn->ins[i][0])
            report(L, LOOM_STATUS_INVALID_MODEL, jn->where, "input %d is required but empty", i);
}

/* Reads node i: op, name, operand lists and attributes. Problems are
 * reported; the node's outputs are still recorded when readable so that its
 * users do not produce follow-on errors. */
static void parse_node(loader *L, int idx, const cJSON *item, jnode *jn)
{
    static const char *const keys[] = {"op", "name", "inputs", "outputs", "attrs", NULL};
    const char *at = where_printf(L, "nodes[%d]", idx);
    jn->op = IR_OP_COUNT;
    if (!cJSON_IsObject(item)) {
        report(L, LOOM_STATUS_INVALID_MODEL, at, "expected an object, got %s", fe_json_type_name(item));
        return;
    }
    const cJSON *op = field(L, at, item, "op", cJSON_IsString, "a string", true);
    const cJSON *name = field(L, at, item, "name", cJSON_IsString, "a string", false);
    jn->op_name = op ? op->valuestring : "?";
    jn->name = name ? name->valuestring : where_printf(L, "%s_%d", jn->op_name, idx);
    jn->where = op ? where_printf(L, "node \"%s\" (%s)", jn->name, jn->op_name) : at;
    check_keys(L, jn->where, item, keys);
    const cJSON *ins = field(L, jn->where, item, "inputs", cJSON_IsArray, "an array", false);
    const cJSON *outs = field(L, jn->where, item, "outputs", cJSON_IsArray, "an array", true);
    const cJSON *attrs = field(L, jn->where, item, "attrs", cJSON_IsObject, "an object", false);
    /* operands are usable when their lists are; arity only when both are */
    bool ins_ok = !cJSON_HasObjectItem(item, "inputs") || ins;
    if (ins && !string_list(L, jn->where, ins, "inputs", &jn->ins, &jn->n_in)) {
        jn->n_in = 0;
        ins_ok = false;
    }
    if (!ins)
        jn->ins = ir_arena_array(&L->tmp, 1, sizeof *jn->ins);
    bool outs_ok = outs && string_list(L, jn->where, outs, "outputs", &jn->outs, &jn->n_out);
    if (!outs_ok)
        jn->n_out = 0;
    if (op) {
        jn->op = ir_op_lookup(op->valuestring);
        if (jn->op == IR_OP_COUNT)
            report(L, LOOM_STATUS_UNSUPPORTED, jn->where, "unknown op \"%s\"", op->valuestring);
    }
    if (jn->op == IR_OP_COUNT)
        return;
    if (ins_ok && outs_ok)
        check_arity(L, jn);
    if (attrs)
        parse_attrs(L, jn, attrs);
}

/* ---- definitions ---- */

/* Describes an existing definition for a duplicate-name message. */
static const char *describe_def(loader *L, const def *df)
{
    switch (df->kind) {
    case DEF_INPUT: return "a graph input";
    case DEF_INIT: return "an initializer";
    case DEF_WEIGHT: return "a tensor of the weights file";
    default: return where_printf(L, "an output of %s", L->nodes[df->index].where);
    }
}

/* Defines name; reports a duplicate (at where, introduced by what) and
 * returns -1 when it is taken. */
static int define(loader *L, const char *name, def_kind kind, int index, const char *where,
                  const char *what)
{
    int old = smap_get(&L->names, name);
    if (old >= 0) {
        report(L, LOOM_STATUS_INVALID_MODEL, where, "%s\"%s\": the name is already used by %s", what,
               name, describe_def(L, &L->defs[old]));
        return -1;
    }
    if (L->n_defs == L->cap_defs) {
        int cap = L->cap_defs ? L->cap_defs * 2 : 64;
        def *nd = ir_arena_array(&L->tmp, (size_t)cap, sizeof *nd);
        if (L->n_defs)
            memcpy(nd, L->defs, (size_t)L->n_defs * sizeof *nd);
        L->defs = nd;
        L->cap_defs = cap;
    }
    L->defs[L->n_defs] = (def){kind, index, NULL, false};
    smap_put(&L->tmp, &L->names, name, L->n_defs);
    return L->n_defs++;
}

/* Reads "inputs": graph inputs are created right away. */
static void parse_inputs(loader *L, const cJSON *arr)
{
    static const char *const keys[] = {"name", "dtype", "shape", NULL};
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        const char *at = where_printf(L, "inputs[%d]", i);
        if (!cJSON_IsObject(c)) {
            report(L, LOOM_STATUS_INVALID_MODEL, at, "expected an object, got %s", fe_json_type_name(c));
            continue;
        }
        const cJSON *name = field(L, at, c, "name", cJSON_IsString, "a string", true);
        if (name)
            at = where_printf(L, "input \"%s\"", name->valuestring);
        check_keys(L, at, c, keys);
        const cJSON *dt = field(L, at, c, "dtype", cJSON_IsString, "a string", true);
        const cJSON *sh = field(L, at, c, "shape", cJSON_IsArray, "an array", true);
        ir_dtype t;
        ir_shape s;
        if (!name)
            continue;
        /* defined even when broken, so that its users report nothing more */
        int k = define(L, name->valuestring, DEF_INPUT, i, NULL, "input ");
        if (k < 0 || !dt || !sh || !parse_dtype(L, at, dt, &t) || !parse_shape(L, at, sh, t, &s))
            continue;
        ir_value *v = ir_graph_add_value(L->g, name->valuestring, t);
        ir_value_set_shape(v, s.rank, s.dims);
        ir_graph_add_input(L->g, v);
        L->defs[k].value = v;
    }
}

/* Reads "initializers" (data is kept; values are made when used). */
static void parse_inits(loader *L, const cJSON *arr)
{
    L->inits = ir_arena_array(&L->tmp, (size_t)cJSON_GetArraySize(arr) + 1, sizeof *L->inits);
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        const char *at = where_printf(L, "initializers[%d]", i);
        if (!cJSON_IsObject(c)) {
            report(L, LOOM_STATUS_INVALID_MODEL, at, "expected an object, got %s", fe_json_type_name(c));
            continue;
        }
        const cJSON *name = field(L, at, c, "name", cJSON_IsString, "a string", true);
        if (!name)
            continue;
        jtensor *t = &L->inits[L->n_inits];
        t->name = name->valuestring;
        at = where_printf(L, "initializer \"%s\"", t->name);
        /* defined even when broken, so that its users report nothing more */
        if (define(L, t->name, DEF_INIT, L->n_inits, NULL, "initializer ") >= 0) {
            parse_tensor(L, at, c, true, t);
            L->n_inits++;
        }
    }
}

/* Opens the weights file named by "weights" and defines its tensors. */
static void open_weights(loader *L, const cJSON *w)
{
    if (!w->valuestring[0]) {
        report(L, LOOM_STATUS_INVALID_MODEL, NULL, "field \"weights\" is an empty string");
        L->wts_failed = true;
        return;
    }
    L->wts_path = fe_path_join(&L->tmp, L->base_dir, w->valuestring);
    loom_status st = fe_st_open(L->wts_path, L->source, &L->tmp, &L->wts, L->d);
    if (st == LOOM_STATUS_NOMEM)
        longjmp(*L->tmp.oom, 1);
    if (st) {
        /* fe_st_open has reported; count it in the right class */
        if (st == LOOM_STATUS_IO)
            L->n_io++;
        else if (st == LOOM_STATUS_UNSUPPORTED)
            L->n_unsupported++;
        else
            L->n_invalid++;
        L->wts_failed = true;
        return;
    }
    const char *where = where_printf(L, "weights file \"%s\"", L->wts_path);
    for (int i = 0; i < L->wts.n_tensors; i++)
        define(L, L->wts.tensors[i].name, DEF_WEIGHT, i, where, "tensor ");
}

/* Defines node outputs and resolves node inputs to their producers. */
static void link_nodes(loader *L)
{
    for (int i = 0; i < L->n_nodes; i++) {
        jnode *jn = &L->nodes[i];
        for (int j = 0; j < jn->n_out; j++)
            if (jn->outs[j][0])
                define(L, jn->outs[j], DEF_NODE, i, jn->where ? jn->where : "nodes", "output ");
    }
    for (int i = 0; i < L->n_nodes; i++) {
        jnode *jn = &L->nodes[i];
        jn->producer = ir_arena_array(&L->tmp, (size_t)jn->n_in + 1, sizeof *jn->producer);
        for (int j = 0; j < jn->n_in; j++) {
            jn->producer[j] = -1;
            if (!jn->ins[j][0])
                continue;
            int k = smap_get(&L->names, jn->ins[j]);
            if (k >= 0 && L->defs[k].kind == DEF_NODE)
                jn->producer[j] = L->defs[k].index;
            else if (k < 0 && !L->wts_failed && jn->where)
                report(L, LOOM_STATUS_INVALID_MODEL, jn->where,
                       "input \"%s\" is not defined (no graph input, initializer, weights tensor "
                       "or node output has that name)", jn->ins[j]);
        }
    }
}

/* Checks "outputs": strings naming defined tensors, each once. */
static void check_outputs(loader *L, const cJSON *arr)
{
    int i = 0;
    if (cJSON_GetArraySize(arr) == 0)
        report(L, LOOM_STATUS_INVALID_MODEL, NULL, "\"outputs\" is empty; a graph needs an output");
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        if (!cJSON_IsString(c)) {
            report(L, LOOM_STATUS_INVALID_MODEL, NULL, "outputs[%d] must be a string, got %s", i,
                   fe_json_type_name(c));
            continue;
        }
        for (const cJSON *p = arr->child; p != c; p = p->next)
            if (cJSON_IsString(p) && strcmp(p->valuestring, c->valuestring) == 0) {
                report(L, LOOM_STATUS_INVALID_MODEL, NULL, "outputs[%d]: \"%s\" is listed twice",
                       i, c->valuestring);
                break;
            }
        if (smap_get(&L->names, c->valuestring) < 0 && !L->wts_failed)
            report(L, LOOM_STATUS_INVALID_MODEL, NULL,
                   "outputs[%d]: \"%s\" is not defined by any node, input or constant", i,
                   c->valuestring);
    }
}

/* ---- ordering ---- */

/* Reports the cycle on the DFS stack from the node p to the top. */
static void report_cycle(loader *L, const int *stack, int sp, int p)
{
    int from = sp - 1;
    while (stack[from] != p)
        from--;
    char path[768];
    size_t n = (size_t)snprintf(path, sizeof path, "%s", L->nodes[p].name);
    /* stack[j + 1] produces an input of stack[j]; p's output feeds the top */
    for (int j = sp - 1; j > from && n < sizeof path; j--)
        n += (size_t)snprintf(path + n, sizeof path - n, " -> %s", L->nodes[stack[j]].name);
    if (n < sizeof path)
        snprintf(path + n, sizeof path - n, " -> %s", L->nodes[p].name);
    report(L, LOOM_STATUS_INVALID_MODEL, L->nodes[p].where,
           "is on a cycle: %s (each node uses an output of the one before)", path);
}

/* Fills order with a topological order that keeps the listed order where
 * the data flow allows it (depth-first, producers first); false on a
 * cycle. Iterative so that long chains cannot overflow the stack. */
static bool topo_order(loader *L, int *order)
{
    int n = L->n_nodes, k = 0;
    char *state = ir_arena_alloc(&L->tmp, (size_t)n + 1); /* 0 new, 1 open, 2 done */
    int *stack = ir_arena_array(&L->tmp, (size_t)n + 1, sizeof *stack);
    int *next = ir_arena_array(&L->tmp, (size_t)n + 1, sizeof *next);
    for (int root = 0; root < n; root++) {
        if (state[root])
            continue;
        int sp = 0;
        stack[sp] = root;
        next[sp++] = 0;
        state[root] = 1;
        while (sp) {
            const jnode *jn = &L->nodes[stack[sp - 1]];
            if (next[sp - 1] < jn->n_in) {
                int p = jn->producer[next[sp - 1]++];
                if (p < 0 || state[p] == 2)
                    continue;
                if (state[p] == 1) {
                    report_cycle(L, stack, sp, p);
                    return false;
                }
                state[p] = 1;
                stack[sp] = p;
                next[sp++] = 0;
            } else {
                state[stack[sp - 1]] = 2;
                order[k++] = stack[--sp];
            }
        }
    }
    return true;
}

/* ---- building ---- */

/* Returns the graph value for a defined name, creating constants on first
 * use; NULL (reported) for a weights tensor of an unsupported dtype. */
static ir_value *value_for(loader *L, const char *name, const char *where)
{
    def *df = &L->defs[smap_get(&L->names, name)];
    if (df->value)
        return df->value;
    if (df->kind == DEF_INIT) {
        const jtensor *t = &L->inits[df->index];
        df->value = ir_graph_add_value(L->g, name, t->dtype);
        ir_value_set_shape(df->value, t->shape.rank, t->shape.dims);
        df->value->data = t->data;
    } else if (df->kind == DEF_WEIGHT) {
        const fe_st_tensor *t = &L->wts.tensors[df->index];
        if (t->dtype == IR_DTYPE_COUNT) {
            if (!df->reported)
                report(L, LOOM_STATUS_UNSUPPORTED, where,
                       "weights tensor \"%s\" in \"%s\" has dtype %s, which loom does not support "
                       "(supported: %s)", name, L->wts_path, t->dtype_name, fe_st_supported_dtypes());
            df->reported = true;
            return NULL;
        }
        ir_value *v = ir_graph_add_value(L->g, name, t->dtype);
        ir_value_set_shape(v, t->shape.rank, t->shape.dims);
        size_t bytes = t->end - t->begin, es = ir_dtype_size(t->dtype);
        /* data in the mapping is used in place when aligned for its dtype */
        v->data = (uintptr_t)t->data % es == 0 ? t->data : ir_arena_memdup(&L->g->arena, t->data, bytes);
        L->wts_used = true;
        df->value = v;
    }
    return df->value;
}

/* Adds one node to the graph with its operands and attributes. */
static void build_node(loader *L, const jnode *jn)
{
    ir_value **ins = ir_arena_array(&L->tmp, (size_t)jn->n_in + 1, sizeof *ins);
    ir_value **outs = ir_arena_array(&L->tmp, (size_t)jn->n_out + 1, sizeof *outs);
    bool ok = true;
    for (int j = 0; j < jn->n_in; j++)
        if (jn->ins[j][0])
            ok &= (ins[j] = value_for(L, jn->ins[j], jn->where)) != NULL;
    if (!ok)
        return;
    for (int j = 0; j < jn->n_out; j++)
        if (jn->outs[j][0]) {
            def *df = &L->defs[smap_get(&L->names, jn->outs[j])];
            df->value = outs[j] = ir_graph_add_value(L->g, jn->outs[j], IR_DTYPE_F32);
        }
    ir_node *n = ir_graph_add_node(L->g, jn->op, jn->name, ins, jn->n_in, outs, jn->n_out);
    for (int k = 0; k < jn->n_attrs; k++) {
        const jattr *a = &jn->attrs[k];
        switch (a->kind) {
        case IR_ATTR_INT: ir_node_set_int(L->g, n, a->name, a->i); break;
        case IR_ATTR_FLOAT: ir_node_set_float(L->g, n, a->name, a->f); break;
        case IR_ATTR_STRING: ir_node_set_string(L->g, n, a->name, a->s); break;
        case IR_ATTR_INTS: ir_node_set_ints(L->g, n, a->name, a->ints, a->n); break;
        case IR_ATTR_FLOATS: ir_node_set_floats(L->g, n, a->name, a->floats, a->n); break;
        case IR_ATTR_STRINGS: ir_node_set_strings(L->g, n, a->name, a->strings, a->n); break;
        default: {
            const jtensor *t = a->tensor;
            ir_value *v = ir_graph_detached_value(L->g, t->name, t->dtype);
            ir_value_set_shape(v, t->shape.rank, t->shape.dims);
            v->data = t->data;
            ir_node_set_tensor(L->g, n, a->name, v);
        }
        }
    }
}

/* Builds nodes in topological order, then marks the graph outputs. */
static void build_graph(loader *L, const int *order, const cJSON *outputs)
{
    for (int i = 0; i < L->n_nodes; i++)
        build_node(L, &L->nodes[order[i]]);
    for (const cJSON *c = outputs->child; c; c = c->next) {
        ir_value *v = value_for(L, c->valuestring, "outputs");
        if (v)
            ir_graph_add_output(L->g, v);
    }
    if (L->wts.map && L->wts_used) {
        void *map = L->wts.map;
        L->wts.map = NULL; /* the graph owns it now (unmapped even if this fails) */
        ir_graph_add_mapping(L->g, map, L->wts.map_size);
    }
}

/* ---- top level ---- */

/* Checks "format" and "version"; false when this is not a loom graph. */
static bool check_header(loader *L, const cJSON *root)
{
    const cJSON *fmt = field(L, NULL, root, "format", cJSON_IsString, "a string", true);
    if (fmt && strcmp(fmt->valuestring, "loom-graph") != 0)
        report(L, LOOM_STATUS_INVALID_MODEL, NULL, "\"format\" is \"%s\", expected \"loom-graph\"",
               fmt->valuestring);
    const cJSON *ver = field(L, NULL, root, "version", cJSON_IsNumber, "a number", true);
    int64_t v = 0;
    if (ver && (fe_jdoc_int(&L->doc, ver, &v) != FE_JNUM_OK || v != 1)) {
        char txt[64];
        fe_jdoc_num_text(&L->doc, ver, txt, sizeof txt);
        report(L, LOOM_STATUS_UNSUPPORTED, NULL,
               "\"version\" is %s; this reader supports version 1", txt);
    }
    return n_errors(L) == 0;
}

/* Default graph name: the file name without folder and extension. */
static const char *default_name(loader *L)
{
    const char *base = strrchr(L->source, '/');
    base = base ? base + 1 : L->source;
    const char *dot = strrchr(base, '.');
    return ir_arena_strndup(&L->g->arena, base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* Runs all phases on the parsed document. */
static loom_status load(loader *L)
{
    static const char *const keys[] = {"format", "version", "name", "inputs", "outputs",
                                       "weights", "initializers", "nodes", NULL};
    const cJSON *root = L->doc.root;
    if (!cJSON_IsObject(root)) {
        report(L, LOOM_STATUS_INVALID_MODEL, NULL, "expected a JSON object at the top level, got %s",
               fe_json_type_name(root));
        return error_status(L);
    }
    if (!check_header(L, root))
        return error_status(L);
    check_keys(L, NULL, root, keys);
    const cJSON *name = field(L, NULL, root, "name", cJSON_IsString, "a string", false);
    const cJSON *inputs = field(L, NULL, root, "inputs", cJSON_IsArray, "an array", true);
    const cJSON *outputs = field(L, NULL, root, "outputs", cJSON_IsArray, "an array", true);
    const cJSON *weights = field(L, NULL, root, "weights", cJSON_IsString, "a string", false);
    const cJSON *inits = field(L, NULL, root, "initializers", cJSON_IsArray, "an array", false);
    const cJSON *nodes = field(L, NULL, root, "nodes", cJSON_IsArray, "an array", true);
    L->g->name = name ? ir_arena_strdup(&L->g->arena, name->valuestring) : default_name(L);
    if (inputs)
        parse_inputs(L, inputs);
    if (weights)
        open_weights(L, weights);
    if (inits)
        parse_inits(L, inits);
    if (nodes) {
        L->n_nodes = cJSON_GetArraySize(nodes);
        L->nodes = ir_arena_array(&L->tmp, (size_t)L->n_nodes + 1, sizeof *L->nodes);
        int i = 0;
        for (const cJSON *c = nodes->child; c; c = c->next, i++)
            parse_node(L, i, c, &L->nodes[i]);
        link_nodes(L);
    }
    if (outputs)
        check_outputs(L, outputs);
    if (n_errors(L) || !nodes || !outputs)
        return error_status(L);
    int *order = ir_arena_array(&L->tmp, (size_t)L->n_nodes + 1, sizeof *order);
    if (!topo_order(L, order))
        return error_status(L);
    build_graph(L, order, outputs);
    if (n_errors(L))
        return error_status(L);
    loom_status st = ir_infer_graph(L->g, L->d);
    if (st == LOOM_STATUS_OK)
        st = ir_verify(L->g, L->d);
    return st;
}

/* Parses and loads with the out-of-memory handler installed: a failed
 * allocation anywhere lands here and everything is released by the caller
 * through L. */
static loom_status load_guarded(loader *L, const char *text, size_t len)
{
    jmp_buf jb;
    if (!IR_TRY(&L->g->arena, jb)) {
        ir_diag_errorf(L->d, "%s: out of memory", L->source);
        L->g->arena.oom = L->tmp.oom = NULL;
        return LOOM_STATUS_NOMEM;
    }
    L->tmp.oom = &jb;
    fe_jerr err;
    loom_status st = fe_jdoc_parse(&L->doc, text, len, &err);
    if (st == LOOM_STATUS_INVALID_MODEL)
        ir_diag_errorf(L->d, "%s:%d:%d: invalid JSON: %s", L->source, err.line, err.col, err.msg);
    else if (st == LOOM_STATUS_NOMEM)
        ir_diag_errorf(L->d, "%s: out of memory", L->source);
    else
        st = load(L);
    L->g->arena.oom = L->tmp.oom = NULL;
    return st;
}

loom_status fe_json_load_string(const char *text, size_t len, const char *source,
                                const char *base_dir, ir_graph **out, ir_diag *d)
{
    if (!out || (!text && len))
        return LOOM_STATUS_INVALID_ARG;
    *out = NULL;
    const char *src = source ? source : "<json>";
    loader *L = ir_calloc(1, sizeof *L);
    ir_graph *g = L ? ir_graph_new("", src) : NULL;
    if (!g) {
        ir_free(L);
        ir_diag_errorf(d, "%s: out of memory", src);
        return LOOM_STATUS_NOMEM;
    }
    L->g = g;
    L->source = g->source;
    L->base_dir = base_dir ? base_dir : "";
    L->d = d;
    ir_arena_init(&L->tmp);
    loom_status st = load_guarded(L, text ? text : "", len);
    fe_st_close(&L->wts);
    fe_jdoc_free(&L->doc);
    ir_arena_free(&L->tmp);
    ir_free(L);
    if (st == LOOM_STATUS_OK)
        *out = g;
    else
        ir_graph_free(g);
    return st;
}

/* Reads a whole file into an ir_malloc buffer. */
static loom_status read_file(const char *path, char **buf, size_t *len, ir_diag *d)
{
    FILE *f = fopen(path, "rb");
    struct stat sb = {0};
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ir_diag_errorf(d, "%s: cannot open: %s", path,
                       f && S_ISDIR(sb.st_mode) ? "is a directory" : strerror(errno));
        if (f)
            fclose(f);
        return LOOM_STATUS_IO;
    }
    *len = (size_t)sb.st_size;
    *buf = ir_malloc(*len + 1);
    if (!*buf) {
        fclose(f);
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    size_t got = fread(*buf, 1, *len, f);
    int e = errno;
    fclose(f);
    if (got != *len) {
        ir_free(*buf);
        *buf = NULL;
        ir_diag_errorf(d, "%s: read error: %s", path, strerror(e));
        return LOOM_STATUS_IO;
    }
    return LOOM_STATUS_OK;
}

loom_status fe_json_load(const char *path, ir_graph **out, ir_diag *d)
{
    if (!path || !out)
        return LOOM_STATUS_INVALID_ARG;
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    loom_status st = read_file(path, &text, &len, d);
    if (st)
        return st;
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
    char *dir = ir_malloc(dlen + 1);
    if (!dir) {
        ir_free(text);
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    st = fe_json_load_string(text, len, path, dir, out, d);
    ir_free(dir);
    ir_free(text);
    return st;
}
