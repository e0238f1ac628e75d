/*
 * The graph verifier: checks the invariants every stage may rely on and
 * reports every violation it finds, not just the first.
 *
 * Order of checks: the value table (ids, names, flags), graph inputs and
 * outputs, then the nodes in execution order while tracking which values are
 * defined so far (graph inputs and constants first, then each node's
 * outputs), which checks def-before-use, single definition and, as a
 * consequence, the absence of cycles. Finally each node that is structurally
 * sound has its shape inference re-run with its outputs saved beforehand and
 * restored afterwards; a recorded dtype, shape or constant payload that
 * inference disagrees with is reported.
 */
#include <stdio.h>
#include <string.h>

#include "ir.h"

/* A node output's recorded state, saved while inference overwrites it. */
typedef struct saved_value {
    ir_dtype dtype;
    ir_shape shape;
    bool shape_known;
    void *data;
} saved_value;

typedef struct verifier {
    ir_graph *g;
    ir_diag *d;
    int n_errors;
    /* per value id: 0 undefined so far, 1 defined */
    unsigned char *defined;
    saved_value *saved; /* room for the widest node's outputs */
} verifier;

static void graph_error(verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void node_error(verifier *v, const ir_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void graph_error(verifier *v, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_diag_graph(v->d, v->g, "%s", msg);
    v->n_errors++;
}

static void node_error(verifier *v, const ir_node *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_diag_node(v->d, v->g, n, "%s", msg);
    v->n_errors++;
}

/* True when val is a member of the graph's value table. */
static bool in_graph(const ir_graph *g, const ir_value *val)
{
    return val->id >= 0 && val->id < g->n_values && g->values[val->id] == val;
}

static bool in_nodes(const ir_graph *g, const ir_node *n)
{
    return n->id >= 0 && n->id < g->n_nodes && g->nodes[n->id] == n;
}

/* True when val is one of n's outputs. */
static bool produces(const ir_node *n, const ir_value *val)
{
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] == val)
            return true;
    return false;
}

/* Value table: ids match positions, names are unique and indexed, the
 * producer link points at a node of this graph that lists the value. */
static void check_values(verifier *v)
{
    ir_graph *g = v->g;
    for (int i = 0; i < g->n_values; i++) {
        ir_value *val = g->values[i];
        if (!val) {
            graph_error(v, "value slot %d is empty", i);
            continue;
        }
        if (val->id != i)
            graph_error(v, "value \"%s\" has id %d but sits at index %d", val->name, val->id, i);
        if (ir_graph_find_value(g, val->name) != val)
            graph_error(v, "value name \"%s\" is not unique or not indexed", val->name);
        if ((unsigned)val->dtype >= IR_DTYPE_COUNT)
            graph_error(v, "value \"%s\" has an invalid dtype %d", val->name, (int)val->dtype);
        if (val->shape_known && (val->shape.rank < 0 || val->shape.rank > IR_MAX_RANK))
            graph_error(v, "value \"%s\" has invalid rank %d", val->name, val->shape.rank);
        if (val->producer && (!in_nodes(g, val->producer) || !produces(val->producer, val)))
            graph_error(v, "value \"%s\" names a producer node that does not output it",
                        val->name);
        if (val->data && !val->shape_known)
            graph_error(v, "constant \"%s\" has no shape", val->name);
    }
}

/* Graph inputs: members of the graph, flagged, not produced, shaped, listed
 * once; constants count as defined from the start as well. */
static void check_inputs(verifier *v)
{
    ir_graph *g = v->g;
    for (int i = 0; i < g->n_inputs; i++) {
        ir_value *val = g->inputs[i];
        if (!val || !in_graph(g, val)) {
            graph_error(v, "graph input %d is not a value of the graph", i);
            continue;
        }
        if (!val->is_input)
            graph_error(v, "graph input \"%s\" is not flagged as an input", val->name);
        if (val->data)
            graph_error(v, "graph input \"%s\" also holds constant data", val->name);
        if (!val->shape_known)
            graph_error(v, "graph input \"%s\" has no shape", val->name);
        if (val->producer)
            graph_error(v, "graph input \"%s\" is also the output of node \"%s\"", val->name,
                        val->producer->name);
        if (v->defined[val->id])
            graph_error(v, "graph input \"%s\" is listed twice", val->name);
        v->defined[val->id] = 1;
    }
    for (int i = 0; i < g->n_values; i++) {
        ir_value *val = g->values[i];
        if (!val)
            continue;
        if (val->is_input && !v->defined[i])
            graph_error(v, "value \"%s\" is flagged as an input but is not a graph input",
                        val->name);
        if (val->data && !val->producer && !val->is_input)
            v->defined[i] = 1;
    }
}

/* "2", "1 to 3" or "at least 1". */
static void arity_text(int lo, int hi, char *buf, size_t size)
{
    if (hi < 0)
        snprintf(buf, size, "at least %d", lo);
    else if (lo == hi)
        snprintf(buf, size, "%d", lo);
    else
        snprintf(buf, size, "%d to %d", lo, hi);
}

/* Arity against the op table; required inputs and outputs present. */
static bool check_arity(verifier *v, const ir_node *n)
{
    const ir_op_info *info = &ir_op_table[n->op];
    char range[40];
    bool ok = true;
    if (n->n_inputs < info->min_inputs ||
        (info->max_inputs >= 0 && n->n_inputs > info->max_inputs)) {
        arity_text(info->min_inputs, info->max_inputs, range, sizeof range);
        node_error(v, n, "has %d inputs, expected %s", n->n_inputs, range);
        ok = false;
    }
    if (n->n_outputs < info->min_outputs ||
        (info->max_outputs >= 0 && n->n_outputs > info->max_outputs)) {
        arity_text(info->min_outputs, info->max_outputs, range, sizeof range);
        node_error(v, n, "has %d outputs, expected %s", n->n_outputs, range);
        ok = false;
    }
    for (int i = 0; i < info->min_inputs && i < n->n_inputs; i++)
        if (!n->inputs[i]) {
            node_error(v, n, "required input %d is missing", i);
            ok = false;
        }
    for (int i = 0; i < info->min_outputs && i < n->n_outputs; i++)
        if (!n->outputs[i]) {
            node_error(v, n, "required output %d is missing", i);
            ok = false;
        }
    return ok;
}

/* A tensor attribute must hold a shaped constant. */
static bool check_tensor_attr(verifier *v, const ir_node *n, const ir_attr *a)
{
    const ir_value *t = a->u.tensor;
    if (!t || !t->data || !t->shape_known || (unsigned)t->dtype >= IR_DTYPE_COUNT) {
        node_error(v, n, "attribute \"%s\" does not hold a shaped constant tensor", a->name);
        return false;
    }
    return true;
}

/* Every attribute is in the op's schema with the schema's kind, given once. */
static bool check_attrs(verifier *v, const ir_node *n)
{
    bool ok = true;
    for (int i = 0; i < n->n_attrs; i++) {
        const ir_attr *a = &n->attrs[i];
        ir_attr_kind want;
        if (!a->name || !ir_op_attr_kind(n->op, a->name, &want)) {
            node_error(v, n, "unknown attribute \"%s\"", a->name ? a->name : "");
            ok = false;
            continue;
        }
        if (a->kind != want) {
            node_error(v, n, "attribute \"%s\" must be %s, not %s", a->name,
                       ir_attr_kind_name(want), ir_attr_kind_name(a->kind));
            ok = false;
            continue;
        }
        if ((a->kind == IR_ATTR_INTS || a->kind == IR_ATTR_FLOATS ||
             a->kind == IR_ATTR_STRINGS) && a->n < 0) {
            node_error(v, n, "attribute \"%s\" has a negative length", a->name);
            ok = false;
        }
        if (a->kind == IR_ATTR_TENSOR && !check_tensor_attr(v, n, a))
            ok = false;
        for (int j = 0; j < i; j++)
            if (n->attrs[j].name && strcmp(n->attrs[j].name, a->name) == 0) {
                node_error(v, n, "attribute \"%s\" is given twice", a->name);
                ok = false;
                break;
            }
    }
    return ok;
}

/* Each present input must already be defined when n runs. */
static bool check_uses(verifier *v, const ir_node *n)
{
    bool ok = true;
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *val = n->inputs[i];
        if (!val)
            continue;
        if (!in_graph(v->g, val)) {
            node_error(v, n, "input %d \"%s\" is not a value of the graph", i, val->name);
            ok = false;
        } else if (!v->defined[val->id]) {
            if (val->producer && in_nodes(v->g, val->producer))
                node_error(v, n, "input %d \"%s\" is used before node \"%s\" defines it", i,
                           val->name, val->producer->name);
            else
                node_error(v, n, "input %d \"%s\" is never defined", i, val->name);
            ok = false;
        }
    }
    return ok;
}

/* Each present output is a graph value defined here for the first time. */
static bool check_defs(verifier *v, const ir_node *n)
{
    bool ok = true;
    for (int i = 0; i < n->n_outputs; i++) {
        ir_value *val = n->outputs[i];
        if (!val)
            continue;
        if (!in_graph(v->g, val)) {
            node_error(v, n, "output %d \"%s\" is not a value of the graph", i, val->name);
            ok = false;
            continue;
        }
        if (v->defined[val->id]) {
            node_error(v, n, "output %d \"%s\" is already defined%s", i, val->name,
                       val->is_input ? " as a graph input" : "");
            ok = false;
        } else if (val->producer != n) {
            node_error(v, n, "output %d \"%s\" records another producer", i, val->name);
            ok = false;
        }
        v->defined[val->id] = 1;
    }
    return ok;
}

/* Graph outputs: defined members of the graph, flagged as outputs. */
static void check_outputs(verifier *v)
{
    ir_graph *g = v->g;
    for (int i = 0; i < g->n_outputs; i++) {
        ir_value *val = g->outputs[i];
        if (!val || !in_graph(g, val)) {
            graph_error(v, "graph output %d is not a value of the graph", i);
            continue;
        }
        if (!v->defined[val->id])
            graph_error(v, "graph output \"%s\" is never defined", val->name);
        if (!val->is_output)
            graph_error(v, "graph output \"%s\" is not flagged as an output", val->name);
    }
    for (int i = 0; i < g->n_values; i++) {
        ir_value *val = g->values[i];
        if (!val || !val->is_output)
            continue;
        bool listed = false;
        for (int k = 0; k < g->n_outputs && !listed; k++)
            listed = g->outputs[k] == val;
        if (!listed)
            graph_error(v, "value \"%s\" is flagged as an output but is not a graph output",
                        val->name);
    }
}

static void format_type(ir_dtype t, const ir_shape *s, bool known, char *buf, size_t size)
{
    char shape[160];
    if (known)
        ir_shape_format(s, shape, sizeof shape);
    else
        snprintf(shape, sizeof shape, "[?]");
    snprintf(buf, size, "%s%s", ir_dtype_name(t), shape);
}

/* Compares output i's inferred state (in the value) with the saved one. */
static void compare_output(verifier *v, const ir_node *n, int i, const saved_value *s)
{
    const ir_value *val = n->outputs[i];
    char rec[200], inf[200];
    if (!s->shape_known) {
        node_error(v, n, "output %d \"%s\" has no shape (shape inference has not run)", i,
                   val->name);
        return;
    }
    if (val->dtype != s->dtype || !val->shape_known || !ir_shape_equal(&val->shape, &s->shape)) {
        format_type(s->dtype, &s->shape, true, rec, sizeof rec);
        format_type(val->dtype, &val->shape, val->shape_known, inf, sizeof inf);
        node_error(v, n, "output %d \"%s\" is %s but shape inference gives %s", i, val->name,
                   rec, inf);
        return;
    }
    if (s->data && val->data && s->data != val->data &&
        memcmp(s->data, val->data, ir_value_bytes(val)) != 0)
        node_error(v, n, "output %d \"%s\" holds data that differs from inference", i,
                   val->name);
}

static void save_outputs(const ir_node *n, saved_value *s)
{
    for (int i = 0; i < n->n_outputs; i++) {
        const ir_value *val = n->outputs[i];
        if (val)
            s[i] = (saved_value){val->dtype, val->shape, val->shape_known, val->data};
    }
}

static void restore_outputs(const ir_node *n, const saved_value *s)
{
    for (int i = 0; i < n->n_outputs; i++) {
        ir_value *val = n->outputs[i];
        if (!val)
            continue;
        val->dtype = s[i].dtype;
        val->shape = s[i].shape;
        val->shape_known = s[i].shape_known;
        val->data = s[i].data;
    }
}

/* Re-runs n's shape inference on its recorded inputs and compares. Returns
 * LOOM_STATUS_NOMEM if the arena ran out, else OK (problems are counted). */
static loom_status recheck_node(verifier *v, ir_node *n)
{
    ir_graph *g = v->g;
    save_outputs(n, v->saved);
    jmp_buf jb;
    jmp_buf *old = g->arena.oom;
    if (setjmp(jb)) {
        restore_outputs(n, v->saved);
        g->arena.oom = old;
        return LOOM_STATUS_NOMEM;
    }
    g->arena.oom = &jb;
    loom_status st = ir_infer_node(g, n, v->d);
    g->arena.oom = old;
    if (st != LOOM_STATUS_OK)
        v->n_errors++;
    else
        for (int i = 0; i < n->n_outputs; i++)
            if (n->outputs[i])
                compare_output(v, n, i, &v->saved[i]);
    restore_outputs(n, v->saved);
    return LOOM_STATUS_OK;
}

/* Walks the nodes in order; returns NOMEM if re-inference ran out. */
static loom_status check_nodes(verifier *v)
{
    ir_graph *g = v->g;
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        if (!n) {
            graph_error(v, "node slot %d is empty", k);
            continue;
        }
        if (n->id != k)
            node_error(v, n, "has id %d but sits at index %d", n->id, k);
        if ((unsigned)n->op >= IR_OP_COUNT) {
            graph_error(v, "node \"%s\" has an invalid op %d", n->name, (int)n->op);
            continue;
        }
        bool ok = check_arity(v, n);
        ok &= check_attrs(v, n);
        ok &= check_uses(v, n);
        ok &= check_defs(v, n);
        if (ok && recheck_node(v, n) != LOOM_STATUS_OK)
            return LOOM_STATUS_NOMEM;
    }
    return LOOM_STATUS_OK;
}

loom_status ir_verify(ir_graph *g, ir_diag *d)
{
    verifier v = {.g = g, .d = d};
    int widest = 1;
    for (int k = 0; k < g->n_nodes; k++)
        if (g->nodes[k] && g->nodes[k]->n_outputs > widest)
            widest = g->nodes[k]->n_outputs;
    v.defined = ir_calloc((size_t)(g->n_values ? g->n_values : 1), 1);
    v.saved = ir_calloc((size_t)widest, sizeof *v.saved);
    loom_status st = LOOM_STATUS_OK;
    if (!v.defined || !v.saved) {
        ir_diag_graph(d, g, "out of memory while verifying");
        st = LOOM_STATUS_NOMEM;
    } else {
        check_values(&v);
        check_inputs(&v);
        st = check_nodes(&v);
        if (st == LOOM_STATUS_OK)
            check_outputs(&v);
        else
            ir_diag_graph(d, g, "out of memory while verifying");
    }
    ir_free(v.defined);
    ir_free(v.saved);
    if (st != LOOM_STATUS_OK)
        return st;
    return v.n_errors ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_OK;
}
