/*
 * Graph IR core: dtypes, shapes, values, nodes, attributes and the graph
 * container with its name index. Everything is allocated in the graph arena.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ir.h"

/* ---- dtypes ---- */

static const struct { const char *name; size_t size; int onnx; } dtype_info[IR_DTYPE_COUNT] = {
    [IR_DTYPE_F32] = {"f32", 4, 1},  [IR_DTYPE_F64] = {"f64", 8, 11}, [IR_DTYPE_I64] = {"i64", 8, 7},
    [IR_DTYPE_I32] = {"i32", 4, 6},  [IR_DTYPE_I8] = {"i8", 1, 3},    [IR_DTYPE_U8] = {"u8", 1, 2},
    [IR_DTYPE_BOOL] = {"bool", 1, 9}, [IR_DTYPE_F16] = {"f16", 2, 10}, [IR_DTYPE_BF16] = {"bf16", 2, 16},
};

const char *ir_dtype_name(ir_dtype t)
{
    return (unsigned)t < IR_DTYPE_COUNT ? dtype_info[t].name : "?";
}

size_t ir_dtype_size(ir_dtype t)
{
    return (unsigned)t < IR_DTYPE_COUNT ? dtype_info[t].size : 0;
}

ir_dtype ir_dtype_lookup(const char *name)
{
    for (int i = 0; i < IR_DTYPE_COUNT; i++)
        if (strcmp(dtype_info[i].name, name) == 0)
            return (ir_dtype)i;
    return IR_DTYPE_COUNT;
}

ir_dtype ir_dtype_from_onnx(int onnx_type)
{
    for (int i = 0; i < IR_DTYPE_COUNT; i++)
        if (dtype_info[i].onnx == onnx_type)
            return (ir_dtype)i;
    return IR_DTYPE_COUNT;
}

int ir_dtype_to_onnx(ir_dtype t)
{
    return (unsigned)t < IR_DTYPE_COUNT ? dtype_info[t].onnx : 0;
}

/* ---- shapes ---- */

int64_t ir_shape_numel(const ir_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dims[i];
    return n;
}

bool ir_shape_equal(const ir_shape *a, const ir_shape *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

void ir_shape_format(const ir_shape *s, char *buf, size_t size)
{
    size_t at = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    at += (size_t)snprintf(buf + at, size - at, "[");
    for (int i = 0; i < s->rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, i ? ",%lld" : "%lld", (long long)s->dims[i]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

void ir_shape_strides(const ir_shape *s, int64_t strides[IR_MAX_RANK])
{
    int64_t st = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        strides[i] = st;
        st *= s->dims[i];
    }
}

bool ir_shape_bytes(const ir_shape *s, ir_dtype t, size_t *bytes)
{
    size_t n = ir_dtype_size(t);
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0 || (uint64_t)s->dims[i] > (uint64_t)INT64_MAX)
            return false;
        if (!ir_mul_size(n, (size_t)s->dims[i], &n))
            return false;
    }
    if (n > (size_t)INT64_MAX)
        return false;
    *bytes = n;
    return true;
}

size_t ir_value_bytes(const ir_value *v)
{
    size_t b = 0;
    return ir_shape_bytes(&v->shape, v->dtype, &b) ? b : 0;
}

void ir_value_set_shape(ir_value *v, int rank, const int64_t *dims)
{
    v->shape.rank = rank;
    for (int i = 0; i < rank; i++)
        v->shape.dims[i] = dims[i];
    for (int i = rank; i < IR_MAX_RANK; i++)
        v->shape.dims[i] = 0;
    v->shape_known = true;
}

/* ---- graph ---- */

struct ir_mapping {
    struct ir_mapping *next;
    void *addr;
    size_t len;
};

ir_graph *ir_graph_new(const char *name, const char *source)
{
    ir_graph *g = ir_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    ir_arena_init(&g->arena);
    jmp_buf jb;
    if (!IR_TRY(&g->arena, jb)) {
        ir_arena_free(&g->arena);
        ir_free(g);
        return NULL;
    }
    g->name = ir_arena_strdup(&g->arena, name ? name : "");
    g->source = ir_arena_strdup(&g->arena, source ? source : "<graph>");
    g->arena.oom = NULL;
    return g;
}

void ir_graph_free(ir_graph *g)
{
    if (!g)
        return;
    struct ir_mapping *m = g->mappings;
    while (m) {
        struct ir_mapping *next = m->next;
        munmap(m->addr, m->len);
        ir_free(m);
        m = next;
    }
    ir_free(g->name_index);
    ir_arena_free(&g->arena);
    ir_free(g);
}

void ir_graph_add_mapping(ir_graph *g, void *addr, size_t len)
{
    struct ir_mapping *m = ir_malloc(sizeof *m);
    if (!m) {
        munmap(addr, len);
        longjmp(*g->arena.oom, 1);
    }
    m->addr = addr;
    m->len = len;
    m->next = g->mappings;
    g->mappings = m;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Inserts value index i into the name index, growing it as needed. */
static void index_insert(ir_graph *g, int i)
{
    if ((g->n_values + 1) * 2 > g->name_index_cap) {
        int ncap = g->name_index_cap ? g->name_index_cap * 2 : 64;
        int *ni = ir_malloc((size_t)ncap * sizeof *ni);
        if (!ni)
            longjmp(*g->arena.oom, 1);
        for (int k = 0; k < ncap; k++)
            ni[k] = -1;
        ir_free(g->name_index);
        g->name_index = ni;
        g->name_index_cap = ncap;
        for (int k = 0; k < g->n_values; k++)
            if (k != i)
                index_insert(g, k);
    }
    uint32_t mask = (uint32_t)g->name_index_cap - 1;
    uint32_t h = name_hash(g->values[i]->name) & mask;
    while (g->name_index[h] >= 0)
        h = (h + 1) & mask;
    g->name_index[h] = i;
}

ir_value *ir_graph_find_value(const ir_graph *g, const char *name)
{
    if (!g->name_index_cap)
        return NULL;
    uint32_t mask = (uint32_t)g->name_index_cap - 1;
    uint32_t h = name_hash(name) & mask;
    while (g->name_index[h] >= 0) {
        ir_value *v = g->values[g->name_index[h]];
        if (strcmp(v->name, name) == 0)
            return v;
        h = (h + 1) & mask;
    }
    return NULL;
}

/* Rebuilds the name index after values were removed or renumbered. */
static void index_rebuild(ir_graph *g)
{
    for (int k = 0; k < g->name_index_cap; k++)
        g->name_index[k] = -1;
    int n = g->n_values;
    g->n_values = 0;
    for (int k = 0; k < n; k++) {
        g->values[k]->id = k;
        g->n_values = k;
        index_insert(g, k);
    }
    g->n_values = n;
}

static ir_value *value_alloc(ir_graph *g, const char *name, ir_dtype dtype)
{
    ir_value *v = ir_arena_alloc(&g->arena, sizeof *v);
    v->name = ir_arena_strdup(&g->arena, name);
    v->dtype = dtype;
    v->id = -1;
    return v;
}

ir_value *ir_graph_add_value(ir_graph *g, const char *name, ir_dtype dtype)
{
    if (ir_graph_find_value(g, name))
        return NULL;
    ir_value *v = value_alloc(g, name, dtype);
    g->values = ir_arena_grow(&g->arena, g->values, g->n_values, &g->cap_values, sizeof *g->values);
    v->id = g->n_values;
    g->values[g->n_values] = v;
    index_insert(g, g->n_values);
    g->n_values++;
    return v;
}

ir_value *ir_graph_new_value(ir_graph *g, const char *base, ir_dtype dtype)
{
    ir_value *v = ir_graph_add_value(g, base, dtype);
    for (int k = 1; !v; k++) {
        char *name = ir_arena_printf(&g->arena, "%s.%d", base, k);
        v = ir_graph_add_value(g, name, dtype);
    }
    return v;
}

ir_value *ir_graph_detached_value(ir_graph *g, const char *name, ir_dtype dtype)
{
    return value_alloc(g, name, dtype);
}

void ir_graph_add_input(ir_graph *g, ir_value *v)
{
    g->inputs = ir_arena_grow(&g->arena, g->inputs, g->n_inputs, &g->cap_inputs, sizeof *g->inputs);
    g->inputs[g->n_inputs++] = v;
    v->is_input = true;
}

void ir_graph_add_output(ir_graph *g, ir_value *v)
{
    g->outputs =
        ir_arena_grow(&g->arena, g->outputs, g->n_outputs, &g->cap_outputs, sizeof *g->outputs);
    g->outputs[g->n_outputs++] = v;
    v->is_output = true;
}

ir_node *ir_graph_add_node(ir_graph *g, ir_op op, const char *name, ir_value *const *inputs,
                           int n_inputs, ir_value *const *outputs, int n_outputs)
{
    ir_node *n = ir_arena_alloc(&g->arena, sizeof *n);
    n->op = op;
    n->name = ir_arena_strdup(&g->arena, name ? name : "");
    n->n_inputs = n_inputs;
    n->inputs = ir_arena_array(&g->arena, (size_t)(n_inputs ? n_inputs : 1), sizeof *n->inputs);
    if (n_inputs)
        memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
    n->n_outputs = n_outputs;
    n->outputs = ir_arena_array(&g->arena, (size_t)(n_outputs ? n_outputs : 1), sizeof *n->outputs);
    if (n_outputs)
        memcpy(n->outputs, outputs, (size_t)n_outputs * sizeof *outputs);
    for (int i = 0; i < n_outputs; i++)
        if (outputs[i])
            outputs[i]->producer = n;
    g->nodes = ir_arena_grow(&g->arena, g->nodes, g->n_nodes, &g->cap_nodes, sizeof *g->nodes);
    n->id = g->n_nodes;
    g->nodes[g->n_nodes++] = n;
    return n;
}

void ir_graph_compact_nodes(ir_graph *g, const bool *keep)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (keep[i]) {
            g->nodes[k] = g->nodes[i];
            g->nodes[k]->id = k;
            k++;
        }
    }
    g->n_nodes = k;
}

void ir_graph_drop_unused_values(ir_graph *g)
{
    bool *used = ir_calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *used);
    if (!used)
        longjmp(*g->arena.oom, 1);
    for (int i = 0; i < g->n_values; i++)
        used[i] = g->values[i]->is_input || g->values[i]->is_output;
    for (int i = 0; i < g->n_nodes; i++) {
        ir_node *n = g->nodes[i];
        for (int j = 0; j < n->n_inputs; j++)
            if (n->inputs[j] && n->inputs[j]->id >= 0)
                used[n->inputs[j]->id] = true;
        for (int j = 0; j < n->n_outputs; j++)
            if (n->outputs[j] && n->outputs[j]->id >= 0)
                used[n->outputs[j]->id] = true;
    }
    int k = 0;
    for (int i = 0; i < g->n_values; i++) {
        if (used[i])
            g->values[k++] = g->values[i];
        else
            g->values[i]->id = -1;
    }
    g->n_values = k;
    ir_free(used);
    index_rebuild(g);
}

/* ---- attributes ---- */

ir_attr *ir_node_find_attr(const ir_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

/* Returns the attribute slot for name, appending a new one if absent. */
static ir_attr *attr_slot(ir_graph *g, ir_node *n, const char *name, ir_attr_kind kind)
{
    ir_attr *a = ir_node_find_attr(n, name);
    if (!a) {
        ir_attr *na = ir_arena_array(&g->arena, (size_t)n->n_attrs + 1, sizeof *na);
        if (n->n_attrs)
            memcpy(na, n->attrs, (size_t)n->n_attrs * sizeof *na);
        n->attrs = na;
        a = &na[n->n_attrs++];
        a->name = ir_arena_strdup(&g->arena, name);
    }
    a->kind = kind;
    a->n = 0;
    return a;
}

void ir_node_set_int(ir_graph *g, ir_node *n, const char *name, int64_t v)
{
    attr_slot(g, n, name, IR_ATTR_INT)->u.i = v;
}

void ir_node_set_float(ir_graph *g, ir_node *n, const char *name, float v)
{
    attr_slot(g, n, name, IR_ATTR_FLOAT)->u.f = v;
}

void ir_node_set_string(ir_graph *g, ir_node *n, const char *name, const char *v)
{
    attr_slot(g, n, name, IR_ATTR_STRING)->u.s = ir_arena_strdup(&g->arena, v);
}

void ir_node_set_ints(ir_graph *g, ir_node *n, const char *name, const int64_t *v, int count)
{
    int64_t *copy = ir_arena_array(&g->arena, (size_t)(count ? count : 1), sizeof *copy);
    if (count)
        memcpy(copy, v, (size_t)count * sizeof *copy);
    ir_attr *a = attr_slot(g, n, name, IR_ATTR_INTS);
    a->u.ints = copy;
    a->n = count;
}

void ir_node_set_floats(ir_graph *g, ir_node *n, const char *name, const float *v, int count)
{
    float *copy = ir_arena_array(&g->arena, (size_t)(count ? count : 1), sizeof *copy);
    if (count)
        memcpy(copy, v, (size_t)count * sizeof *copy);
    ir_attr *a = attr_slot(g, n, name, IR_ATTR_FLOATS);
    a->u.floats = copy;
    a->n = count;
}

void ir_node_set_strings(ir_graph *g, ir_node *n, const char *name, const char *const *v,
                         int count)
{
    const char **copy = ir_arena_array(&g->arena, (size_t)(count ? count : 1), sizeof *copy);
    for (int i = 0; i < count; i++)
        copy[i] = ir_arena_strdup(&g->arena, v[i]);
    ir_attr *a = attr_slot(g, n, name, IR_ATTR_STRINGS);
    a->u.strings = copy;
    a->n = count;
}

void ir_node_set_tensor(ir_graph *g, ir_node *n, const char *name, ir_value *v)
{
    attr_slot(g, n, name, IR_ATTR_TENSOR)->u.tensor = v;
}

void ir_node_remove_attr(ir_node *n, const char *name)
{
    ir_attr *a = ir_node_find_attr(n, name);
    if (!a)
        return;
    int i = (int)(a - n->attrs);
    memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attrs - i - 1) * sizeof *a);
    n->n_attrs--;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    return a && a->kind == IR_ATTR_INT ? a->u.i : def;
}

float ir_attr_float(const ir_node *n, const char *name, float def)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    return a && a->kind == IR_ATTR_FLOAT ? a->u.f : def;
}

const char *ir_attr_string(const ir_node *n, const char *name, const char *def)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    return a && a->kind == IR_ATTR_STRING ? a->u.s : def;
}

int ir_attr_ints(const ir_node *n, const char *name, const int64_t **out)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    if (!a || a->kind != IR_ATTR_INTS)
        return -1;
    *out = a->u.ints;
    return a->n;
}

int ir_attr_floats(const ir_node *n, const char *name, const float **out)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    if (!a || a->kind != IR_ATTR_FLOATS)
        return -1;
    *out = a->u.floats;
    return a->n;
}

int ir_attr_strings(const ir_node *n, const char *name, const char *const **out)
{
    const ir_attr *a = ir_node_find_attr(n, name);
    if (!a || a->kind != IR_ATTR_STRINGS)
        return -1;
    *out = a->u.strings;
    return a->n;
}
