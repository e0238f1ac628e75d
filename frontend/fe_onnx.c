/*
 * ONNX reader: ModelProto (decoded by protobuf-c, generated at build time
 * from onnx.proto) to graph IR.
 *
 * One pass over the model builds values and nodes and reports every problem
 * it finds (unsupported opsets, ops, attributes and dtypes; undefined names;
 * unpinned symbolic dims) before giving up, so a user sees all of them at
 * once. Constant nodes and initializers become constant values; graph inputs
 * that are also initializers are constants. Opsets 1 to 21 are read: the
 * older forms are mapped onto the IR's latest-opset semantics ("older
 * opsets" below: legacy broadcast with axis, Reshape-1's shape attribute,
 * Cast-1's type names, is_test, ...), and what has no equivalent is
 * reported with node, op, opset and reason. Symbolic dims are pinned from
 * the dims argument ("name=value" for a dim_param, "input=1,3,224,224" for
 * a whole input shape).
 *
 * After building, shape inference runs node by node; a node whose inputs are
 * all constant and whose outputs are small (shape arithmetic: Shape, Gather,
 * Unsqueeze, Concat, ... feeding Reshape/Expand/Slice) is evaluated by the
 * interpreter and becomes constant data, so the graph handed to the passes is
 * the real computation. Folded nodes and unused values are then dropped and
 * the verifier runs. All graph memory is the graph's arena (IR_TRY catches
 * out of memory); the protobuf message is allocated through ir_malloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_onnx_ctx.h"
#include "interp.h"
#include "ir_half.h"

/* Opsets of the default domain that loom reads. */
#define OPSET_MIN 1
#define OPSET_MAX 21
/* Largest output (in elements) that load-time folding evaluates. */
#define FOLD_MAX_ELEMS 4096


/* Records an error status; an invalid model outranks unsupported features. */
void fe_onnx_note(onnx_ctx *c, loom_status st)
{
    if (st == LOOM_STATUS_OK)
        return;
    if (c->status == LOOM_STATUS_OK || c->status == LOOM_STATUS_UNSUPPORTED ||
        (c->status == LOOM_STATUS_INVALID_ARG && st == LOOM_STATUS_INVALID_MODEL))
        c->status = st;
}

static void note(onnx_ctx *c, loom_status st) { fe_onnx_note(c, st); }

static bool is_default_domain(const char *domain)
{
    return !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
}

/* The imported version of domain, or 0 when the model does not import it. */
static int64_t domain_opset(const Onnx__ModelProto *m, const char *domain)
{
    bool want_default = is_default_domain(domain);
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (want_default ? is_default_domain(o->domain)
                         : !is_default_domain(o->domain) && strcmp(o->domain, domain) == 0)
            return o->version;
    }
    return 0;
}

/* Reports a problem with node np in the usual location format:
 *   FILE: node "NAME" (OpType): message (domain D, opset N) */
static void node_verror(onnx_ctx *c, loom_status st, const Onnx__NodeProto *np, const char *name,
                        const char *fmt, va_list ap)
{
    char msg[768], where[128];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *domain = is_default_domain(np->domain) ? "ai.onnx" : np->domain;
    int64_t v = domain_opset(c->m, np->domain);
    if (v)
        snprintf(where, sizeof where, "domain %s, opset %lld", domain, (long long)v);
    else
        snprintf(where, sizeof where, "domain %s, not imported", domain);
    ir_diag_errorf(c->d, "%s: node \"%s\" (%s): %s (%s)", c->g->source, name, np->op_type, msg,
                   where);
    note(c, st);
}

void fe_onnx_node_error(onnx_ctx *c, loom_status st, const Onnx__NodeProto *np, const char *name,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    node_verror(c, st, np, name, fmt, ap);
    va_end(ap);
}

static void node_error(onnx_ctx *c, loom_status st, const Onnx__NodeProto *np, const char *name,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void node_error(onnx_ctx *c, loom_status st, const Onnx__NodeProto *np, const char *name,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    node_verror(c, st, np, name, fmt, ap);
    va_end(ap);
}

/* ---- opsets and dim pins ---- */

/* Checks the opset imports: the default domain's version must be one loom
 * reads. */
static void check_opsets(onnx_ctx *c)
{
    c->opset = domain_opset(c->m, "");
    if (c->opset == 0) {
        ir_diag_graph(c->d, c->g, "the model imports no opset of the default domain ai.onnx");
        note(c, LOOM_STATUS_INVALID_MODEL);
    } else if (c->opset < OPSET_MIN || c->opset > OPSET_MAX) {
        ir_diag_graph(c->d, c->g, "opset %lld of domain ai.onnx is not supported (loom reads "
                      "opsets %d to %d)", (long long)c->opset, OPSET_MIN, OPSET_MAX);
        note(c, LOOM_STATUS_UNSUPPORTED);
    }
}

/* Splits the dims argument into pins (in the arena). */
static void parse_pins(onnx_ctx *c, const char *const *dims)
{
    int n = 0;
    while (dims && dims[n])
        n++;
    c->pins = ir_arena_array(&c->g->arena, (size_t)(n ? n : 1), sizeof *c->pins);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(dims[i], '=');
        if (!eq || eq == dims[i] || !eq[1]) {
            ir_diag_graph(c->d, c->g, "dim pin \"%s\" is not of the form name=value", dims[i]);
            note(c, LOOM_STATUS_INVALID_ARG);
            continue;
        }
        pin *p = &c->pins[c->n_pins++];
        p->name = ir_arena_strndup(&c->g->arena, dims[i], (size_t)(eq - dims[i]));
        p->value = eq + 1;
        p->text = dims[i];
    }
}

static pin *find_pin(onnx_ctx *c, const char *name)
{
    for (int i = 0; i < c->n_pins; i++)
        if (strcmp(c->pins[i].name, name) == 0)
            return &c->pins[i];
    return NULL;
}

/* Parses a comma-separated list of non-negative dims; returns the count or
 * -1 when malformed or longer than max. */
static int parse_dim_list(const char *s, int64_t *out, int max)
{
    int n = 0;
    for (;;) {
        char *end;
        if (*s < '0' || *s > '9' || n == max)
            return -1;
        long long x = strtoll(s, &end, 10);
        if (x < 0 || x > INT32_MAX)
            return -1;
        out[n++] = x;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

static void report_unused_pins(onnx_ctx *c)
{
    for (int i = 0; i < c->n_pins; i++)
        if (!c->pins[i].used) {
            ir_diag_graph(c->d, c->g, "dim pin \"%s\" matches no input and no symbolic dim",
                          c->pins[i].text);
            note(c, LOOM_STATUS_INVALID_ARG);
        }
}

/* ---- graph inputs ---- */

/* Applies a whole-shape pin to input vi; false (reported) on conflict. */
static bool pin_input_shape(onnx_ctx *c, const char *name, const Onnx__TensorShapeProto *sp,
                            pin *p, ir_shape *s)
{
    p->used = true;
    s->rank = parse_dim_list(p->value, s->dims, IR_MAX_RANK);
    if (s->rank < 0) {
        ir_diag_graph(c->d, c->g, "dim pin \"%s\": expected a list of dims like %s=1,3,224,224",
                      p->text, name);
        note(c, LOOM_STATUS_INVALID_ARG);
        return false;
    }
    bool ok = !sp || sp->n_dim == (size_t)s->rank;
    for (int i = 0; ok && sp && i < s->rank; i++)
        ok = sp->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
             sp->dim[i]->dim_value == s->dims[i];
    if (!ok) {
        ir_diag_graph(c->d, c->g, "dim pin \"%s\" conflicts with the declared shape of input "
                      "\"%s\"", p->text, name);
        note(c, LOOM_STATUS_INVALID_ARG);
    }
    return ok;
}

/* Resolves dim i of input name from its declaration or a dim_param pin. */
static bool input_dim(onnx_ctx *c, const char *name, const Onnx__TensorShapeProto__Dimension *dim,
                      int i, int64_t *out)
{
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
        dim->dim_value >= 0) {
        *out = dim->dim_value;
        return true;
    }
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
        dim->dim_param[0]) {
        pin *p = find_pin(c, dim->dim_param);
        int64_t v;
        if (p && parse_dim_list(p->value, &v, 1) == 1) {
            p->used = true;
            *out = v;
            return true;
        }
        ir_diag_graph(c->d, c->g, p ? "dim pin \"%s\" must give one dim (input \"%s\" dim %d)"
                                    : "%sinput \"%s\" dim %d (\"%s\") is symbolic; pin it with "
                                      "--dim %s=N or --input-shape %s=d0,d1,...",
                      p ? p->text : "", name, i, dim->dim_param, dim->dim_param, name);
        note(c, p ? LOOM_STATUS_INVALID_ARG : LOOM_STATUS_UNSUPPORTED);
        return false;
    }
    ir_diag_graph(c->d, c->g, "input \"%s\" dim %d is unknown; pin the shape with --input-shape "
                  "%s=d0,d1,...",
                  name, i, name);
    note(c, LOOM_STATUS_UNSUPPORTED);
    return false;
}

/* Reads the tensor type of a value_info: dtype and declared shape (NULL when
 * absent). Returns false (reported) for non-tensor or unsupported types. */
static bool tensor_type(onnx_ctx *c, const Onnx__ValueInfoProto *vi, const char *what,
                        ir_dtype *dt, const Onnx__TensorShapeProto **sp)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        ir_diag_graph(c->d, c->g, "%s \"%s\": only tensor types are supported", what, vi->name);
        note(c, LOOM_STATUS_UNSUPPORTED);
        return false;
    }
    *dt = ir_dtype_from_onnx(tp->tensor_type->elem_type);
    *sp = tp->tensor_type->shape;
    if (*dt == IR_DTYPE_COUNT) {
        ir_diag_graph(c->d, c->g, "%s \"%s\": unsupported dtype %s", what, vi->name,
                      fe_onnx_dtype_name(tp->tensor_type->elem_type));
        note(c, LOOM_STATUS_UNSUPPORTED);
        return false;
    }
    return true;
}

/* Makes input v the constant of binding b after checking it fits the
 * declaration (dtype dt, shape sp). */
static void bind_input(onnx_ctx *c, ir_value *v, const Onnx__TensorShapeProto *sp,
                       const fe_binding *b)
{
    const ir_value *bv = b->value;
    bool ok = bv->dtype == v->dtype && bv->data && (!sp || sp->n_dim == (size_t)bv->shape.rank);
    for (size_t i = 0; ok && sp && i < sp->n_dim; i++)
        ok = sp->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
             sp->dim[i]->dim_value == bv->shape.dims[i];
    if (!ok) {
        char s[128];
        ir_shape_format(&bv->shape, s, sizeof s);
        ir_diag_graph(c->d, c->g, "binding %s%s for input \"%s\" does not fit its declaration",
                      ir_dtype_name(bv->dtype), s, v->name);
        note(c, LOOM_STATUS_INVALID_ARG);
        return;
    }
    ir_value_set_shape(v, bv->shape.rank, bv->shape.dims);
    v->data = ir_arena_memdup(&c->g->arena, bv->data, ir_value_bytes(bv));
}

static const fe_binding *find_binding(onnx_ctx *c, const char *name)
{
    for (int i = 0; i < c->n_binds; i++)
        if (strcmp(c->binds[i].name, name) == 0) {
            c->bind_used[i] = true;
            return &c->binds[i];
        }
    return NULL;
}

/* Creates graph input vi with its static shape, or a constant when bound. */
static void convert_input(onnx_ctx *c, const Onnx__ValueInfoProto *vi)
{
    ir_dtype dt;
    const Onnx__TensorShapeProto *sp = NULL;
    if (!tensor_type(c, vi, "input", &dt, &sp))
        dt = IR_DTYPE_F32; /* keep going with a placeholder */
    ir_value *v = ir_graph_add_value(c->g, vi->name, dt);
    if (!v) {
        ir_diag_graph(c->d, c->g, "input \"%s\" is defined twice", vi->name);
        note(c, LOOM_STATUS_INVALID_MODEL);
        return;
    }
    const fe_binding *b = find_binding(c, vi->name);
    if (b) {
        bind_input(c, v, sp, b);
        return;
    }
    ir_graph_add_input(c->g, v);
    ir_shape s = {0};
    bool ok = true;
    pin *p = find_pin(c, vi->name);
    if (p) {
        ok = pin_input_shape(c, vi->name, sp, p, &s);
    } else if (!sp) {
        ir_diag_graph(c->d, c->g, "input \"%s\" has no shape; pin it with --input-shape %s=d0,d1,...",
                      vi->name,
                      vi->name);
        note(c, LOOM_STATUS_UNSUPPORTED);
        ok = false;
    } else if (sp->n_dim > IR_MAX_RANK) {
        ir_diag_graph(c->d, c->g, "input \"%s\": rank %zu exceeds loom's maximum of %d", vi->name,
                      sp->n_dim, IR_MAX_RANK);
        note(c, LOOM_STATUS_UNSUPPORTED);
        ok = false;
    } else {
        s.rank = (int)sp->n_dim;
        for (int i = 0; i < s.rank; i++)
            ok &= input_dim(c, vi->name, sp->dim[i], i, &s.dims[i]);
    }
    if (ok)
        ir_value_set_shape(v, s.rank, s.dims);
}

/* ---- names and subgraph scopes ---- */

ir_value *fe_onnx_lookup(onnx_ctx *c, const char *name)
{
    for (const fe_onnx_scope *s = c->scope; s; s = s->parent)
        for (int i = s->n - 1; i >= 0; i--)
            if (strcmp(s->names[i], name) == 0)
                return s->values[i];
    return ir_graph_find_value(c->g, name);
}

void fe_onnx_scope_bind(onnx_ctx *c, const char *name, ir_value *v)
{
    fe_onnx_scope *s = c->scope;
    if (s->n == s->cap) {
        int cap = 2 * s->cap + 16;
        const char **names = ir_arena_array(&c->g->arena, (size_t)cap, sizeof *names);
        ir_value **values = ir_arena_array(&c->g->arena, (size_t)cap, sizeof *values);
        if (s->n) {
            memcpy(names, s->names, (size_t)s->n * sizeof *names);
            memcpy(values, s->values, (size_t)s->n * sizeof *values);
        }
        s->names = names, s->values = values, s->cap = cap;
    }
    s->names[s->n] = name;
    s->values[s->n++] = v;
}

ir_value *fe_onnx_define(onnx_ctx *c, const char *name, ir_dtype dtype)
{
    fe_onnx_scope *s = c->scope;
    if (!s)
        return ir_graph_add_value(c->g, name, dtype);
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return NULL;
    const char *base = ir_arena_printf(&c->g->arena, "%s/%s", s->prefix, name);
    ir_value *v = ir_graph_new_value(c->g, base, dtype);
    fe_onnx_scope_bind(c, name, v);
    return v;
}

/* ---- initializers and Constant nodes ---- */

void fe_onnx_convert_initializer(onnx_ctx *c, const Onnx__TensorProto *t)
{
    const char *name = t->name ? t->name : "";
    ir_value *v = fe_onnx_define(c, name, IR_DTYPE_F32);
    if (!v) {
        ir_diag_graph(c->d, c->g, "initializer \"%s\" is defined twice", name);
        note(c, LOOM_STATUS_INVALID_MODEL);
        return;
    }
    char *what = ir_arena_printf(&c->g->arena, "initializer \"%s\"", name);
    note(c, fe_onnx_tensor_to_value(c->g, t, what, c->base_dir, v, c->d));
}

/* Sets v from the one value attribute of a Constant node (ONNX Constant-13:
 * exactly one of value, value_float(s), value_int(s), value_string(s),
 * sparse_value). */
static void constant_value(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, ir_value *v)
{
    if (np->n_attribute != 1) {
        node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "needs exactly one value attribute, "
                   "has %zu attributes", np->n_attribute);
        return;
    }
    const Onnx__AttributeProto *a = np->attribute[0];
    ir_arena *ar = &c->g->arena;
    int64_t n = (int64_t)(strstr(a->name, "floats") ? a->n_floats : a->n_ints);
    if (strcmp(a->name, "value") == 0 && a->t) {
        char *what = ir_arena_printf(ar, "node \"%s\" (Constant): attribute \"value\"", name);
        note(c, fe_onnx_tensor_to_value(c->g, a->t, what, c->base_dir, v, c->d));
    } else if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_floats") == 0) {
        bool one = strcmp(a->name, "value_float") == 0;
        v->dtype = IR_DTYPE_F32;
        ir_value_set_shape(v, one ? 0 : 1, &n);
        v->data = one ? ir_arena_memdup(ar, &a->f, sizeof a->f)
                      : ir_arena_memdup(ar, a->floats, (size_t)n * sizeof *a->floats);
    } else if (strcmp(a->name, "value_int") == 0 || strcmp(a->name, "value_ints") == 0) {
        bool one = strcmp(a->name, "value_int") == 0;
        v->dtype = IR_DTYPE_I64;
        ir_value_set_shape(v, one ? 0 : 1, &n);
        v->data = one ? ir_arena_memdup(ar, &a->i, sizeof a->i)
                      : ir_arena_memdup(ar, a->ints, (size_t)n * sizeof *a->ints);
    } else {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name, "unsupported attribute \"%s\"", a->name);
    }
}

/* ---- nodes ---- */

/* Defines the outputs of a node that is not built (unsupported), so later
 * nodes that read them report their own problems, not undefined names. */
void fe_onnx_placeholder_outputs(onnx_ctx *c, const Onnx__NodeProto *np)
{
    for (size_t i = 0; i < np->n_output; i++)
        if (np->output[i][0] && !fe_onnx_lookup(c, np->output[i]))
            fe_onnx_define(c, np->output[i], IR_DTYPE_F32);
}

/* Makes the output values of np ("" stays NULL); NULL entries are also made
 * for duplicates, which are reported. Returns the count without trailing
 * omitted outputs. */
static int node_outputs(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                        ir_value **outs)
{
    int n = (int)np->n_output;
    while (n > 0 && !np->output[n - 1][0])
        n--;
    for (int i = 0; i < n; i++) {
        outs[i] = NULL;
        if (!np->output[i][0])
            continue;
        outs[i] = fe_onnx_define(c, np->output[i], IR_DTYPE_F32);
        if (!outs[i])
            node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "output \"%s\" is defined twice",
                       np->output[i]);
    }
    return n;
}

/* Looks up the inputs of np ("" is an omitted optional input). Returns the
 * count without trailing omitted inputs. */
static int node_inputs(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, ir_value **ins)
{
    int n = (int)np->n_input;
    while (n > 0 && !np->input[n - 1][0])
        n--;
    for (int i = 0; i < n; i++) {
        ins[i] = NULL;
        if (!np->input[i][0])
            continue;
        ins[i] = fe_onnx_lookup(c, np->input[i]);
        if (!ins[i])
            node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                       "input \"%s\" is not defined by an earlier node, input or initializer",
                       np->input[i]);
    }
    return n;
}

/* The attribute kind an AttributeProto holds; IR_ATTR_KIND_COUNT for graphs,
 * sparse tensors, type protos and lists of tensors. Old models may leave the
 * type unset; then it is taken from the field that is filled. */
static ir_attr_kind attr_proto_kind(const Onnx__AttributeProto *a)
{
    switch (a->has_type ? a->type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return IR_ATTR_FLOAT;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return IR_ATTR_INT;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return IR_ATTR_STRING;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return IR_ATTR_TENSOR;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return IR_ATTR_FLOATS;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return IR_ATTR_INTS;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return IR_ATTR_STRINGS;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
        if (a->has_f) return IR_ATTR_FLOAT;
        if (a->has_i) return IR_ATTR_INT;
        if (a->has_s) return IR_ATTR_STRING;
        if (a->t) return IR_ATTR_TENSOR;
        if (a->n_floats) return IR_ATTR_FLOATS;
        if (a->n_ints) return IR_ATTR_INTS;
        if (a->n_strings) return IR_ATTR_STRINGS;
        return IR_ATTR_KIND_COUNT;
    default: return IR_ATTR_KIND_COUNT;
    }
}

/* A protobuf bytes field as a NUL-terminated string in the arena. */
static const char *bytes_str(ir_arena *ar, const ProtobufCBinaryData *b)
{
    return b->data ? ir_arena_strndup(ar, (const char *)b->data, b->len) : "";
}

/* Stores attribute a (already checked against the schema) on n. */
static void set_attr(onnx_ctx *c, ir_node *n, const Onnx__NodeProto *np, const char *name,
                     const Onnx__AttributeProto *a, ir_attr_kind kind)
{
    ir_graph *g = c->g;
    ir_arena *ar = &g->arena;
    switch (kind) {
    case IR_ATTR_INT: ir_node_set_int(g, n, a->name, a->i); break;
    case IR_ATTR_FLOAT: ir_node_set_float(g, n, a->name, a->f); break;
    case IR_ATTR_STRING:
        ir_node_set_string(g, n, a->name, bytes_str(ar, &a->s));
        break;
    case IR_ATTR_INTS: ir_node_set_ints(g, n, a->name, a->ints, (int)a->n_ints); break;
    case IR_ATTR_FLOATS: ir_node_set_floats(g, n, a->name, a->floats, (int)a->n_floats); break;
    case IR_ATTR_STRINGS: {
        const char **s = ir_arena_array(ar, a->n_strings ? a->n_strings : 1, sizeof *s);
        for (size_t i = 0; i < a->n_strings; i++)
            s[i] = bytes_str(ar, &a->strings[i]);
        ir_node_set_strings(g, n, a->name, s, (int)a->n_strings);
        break;
    }
    case IR_ATTR_TENSOR: {
        ir_value *v = ir_graph_detached_value(g, a->name, IR_DTYPE_F32);
        char *what = ir_arena_printf(ar, "node \"%s\" (%s): attribute \"%s\"", name, np->op_type,
                                     a->name);
        loom_status st = fe_onnx_tensor_to_value(g, a->t, what, c->base_dir, v, c->d);
        note(c, st);
        if (!st)
            ir_node_set_tensor(g, n, a->name, v);
        break;
    }
    case IR_ATTR_KIND_COUNT: break;
    }
}

/* Checks attribute a of np against the op's schema and stores it on n. */
static void convert_attr(onnx_ctx *c, ir_node *n, const Onnx__NodeProto *np, const char *name,
                         const Onnx__AttributeProto *a)
{
    ir_attr_kind want, have = attr_proto_kind(a);
    if (have == IR_ATTR_TENSOR && !a->t) {
        node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "tensor attribute \"%s\" has no tensor",
                   a->name);
    } else if (a->ref_attr_name && a->ref_attr_name[0]) {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                   "attribute \"%s\" refers to a function attribute", a->name);
    } else if (!ir_op_attr_kind(n->op, a->name, &want)) {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name, "unsupported attribute \"%s\"", a->name);
    } else if (have != want) {
        node_error(c, have == IR_ATTR_KIND_COUNT ? LOOM_STATUS_UNSUPPORTED
                                                 : LOOM_STATUS_INVALID_MODEL,
                   np, name, "attribute \"%s\" is %s, expected %s", a->name,
                   have == IR_ATTR_KIND_COUNT ? "of an unsupported kind" : ir_attr_kind_name(have),
                   ir_attr_kind_name(want));
    } else if (n->op == IR_OP_CAST && strcmp(a->name, "to") == 0 &&
               ir_dtype_from_onnx((int)a->i) == IR_DTYPE_COUNT) {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name, "unsupported dtype %s in attribute \"to\"",
                   fe_onnx_dtype_name((int)a->i));
    } else {
        set_attr(c, n, np, name, a, have);
    }
}

/* ---- older opsets ----
 * loom's IR follows the latest ONNX semantics; these map the forms of
 * opsets 1-6 (and a few later ones) onto it, or reject what has no
 * equivalent with the node, op, opset and reason. */

/* First opset of the default domain in which each op exists, for the ops
 * that came after opset 1. */
static int op_since(ir_op op)
{
    switch (op) {
    case IR_OP_SIN:
    case IR_OP_COS:
    case IR_OP_UPSAMPLE: return 7;
    case IR_OP_EXPAND: return 8;
    case IR_OP_WHERE:
    case IR_OP_ERF:
    case IR_OP_CONSTANT_OF_SHAPE:
    case IR_OP_EYE_LIKE:
    case IR_OP_MEAN_VARIANCE_NORMALIZATION:
    case IR_OP_IS_NAN: return 9;
    case IR_OP_MOD:
    case IR_OP_IS_INF:
    case IR_OP_RESIZE: return 10;
    case IR_OP_RANGE:
    case IR_OP_GATHER_ELEMENTS:
    case IR_OP_CUM_SUM: return 11;
    case IR_OP_GREATER_OR_EQUAL:
    case IR_OP_LESS_OR_EQUAL: return 12;
    case IR_OP_TRILU: return 14;
    case IR_OP_ONE_HOT: return 9;
    case IR_OP_TOP_K: return 1;
    case IR_OP_MAX_UNPOOL: return 9;
    case IR_OP_REVERSE_SEQUENCE: return 10;
    case IR_OP_GRID_SAMPLE: return 16;
    case IR_OP_ROI_ALIGN: return 10;
    case IR_OP_EINSUM:
    case IR_OP_NLL_LOSS:
    case IR_OP_SCE_LOSS: return 12;
    case IR_OP_GATHER_ND:
    case IR_OP_SCATTER_ND:
    case IR_OP_SCATTER_ELEMENTS: return 11;
    case IR_OP_CAST_LIKE: return 15;
    case IR_OP_LAYER_NORMALIZATION: return 17;
    case IR_OP_GELU: return 20;
    default: return 1;
    }
}

/* The attribute of np called name, or NULL. */
const Onnx__AttributeProto *fe_onnx_proto_attr(const Onnx__NodeProto *np, const char *name)
{
    for (size_t i = 0; i < np->n_attribute; i++)
        if (strcmp(np->attribute[i]->name, name) == 0)
            return np->attribute[i];
    return NULL;
}

/* Binary ops that had the legacy `broadcast` / `axis` attributes before
 * opset 7. */
static bool legacy_broadcast_op(ir_op op)
{
    switch (op) {
    case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV: case IR_OP_POW:
    case IR_OP_EQUAL: case IR_OP_LESS: case IR_OP_GREATER:
    case IR_OP_AND: case IR_OP_OR: case IR_OP_XOR: return true;
    default: return false;
    }
}

/* ONNX Add-1/6 (and the other legacy_broadcast_op ops) with broadcast=1
 * and axis: B's dims line up with A's starting at axis, so B needs
 * rank(A) - axis - rank(B) trailing 1s to broadcast the numpy way. That
 * count is known only once shapes are inferred, so B goes through an
 * Unsqueeze whose constant axes legacy_axes fills in (or which becomes an
 * Identity) when inference reaches it. Without axis, legacy broadcasting
 * aligns the trailing dims, which numpy broadcasting already does. */
static void legacy_broadcast(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                             ir_value **ins, int n_in)
{
    const Onnx__AttributeProto *b = fe_onnx_proto_attr(np, "broadcast");
    const Onnx__AttributeProto *ax = fe_onnx_proto_attr(np, "axis");
    if (!b || b->i == 0 || !ax || n_in != 2 || !ins[0] || !ins[1])
        return;
    ir_graph *g = c->g;
    ir_value *axes = ir_graph_new_value(g, "legacy_axes", IR_DTYPE_I64);
    ir_value_set_shape(axes, 1, (int64_t[]){0});
    axes->data = ir_arena_array(&g->arena, IR_MAX_RANK, sizeof(int64_t));
    ir_value *out = ir_graph_new_value(g, ins[1]->name, ins[1]->dtype);
    const char *uname = ir_arena_printf(&g->arena, "%s/legacy_broadcast", name);
    ir_node *u = ir_graph_add_node(g, IR_OP_UNSQUEEZE, uname, (ir_value *[]){ins[1], axes}, 2,
                                   &out, 1);
    if (c->n_bcasts == c->cap_bcasts) { /* subgraphs add nodes */
        c->cap_bcasts = 2 * c->cap_bcasts + 8;
        legacy_bcast *grown = ir_arena_array(&g->arena, (size_t)c->cap_bcasts, sizeof *grown);
        if (c->n_bcasts)
            memcpy(grown, c->bcasts, (size_t)c->n_bcasts * sizeof *grown);
        c->bcasts = grown;
    }
    legacy_bcast *p = &c->bcasts[c->n_bcasts++];
    *p = (legacy_bcast){.unsqueeze = u, .a = ins[0], .axis = ax->i, .np = np, .name = name};
    ins[1] = out;
}

/* Sets the axes of the Unsqueeze that legacy_broadcast made (p), now that
 * the shapes of A and B are known; reports a B that does not fit A. */
static void legacy_axes(onnx_ctx *c, const legacy_bcast *p)
{
    ir_node *u = p->unsqueeze;
    const ir_value *a = p->a, *b = u->inputs[0];
    if (!a->shape_known || !b->shape_known)
        return; /* inference reports it */
    int ra = a->shape.rank, rb = b->shape.rank;
    int64_t axis = p->axis < 0 ? p->axis + ra : p->axis;
    bool fits = axis >= 0 && axis + rb <= ra;
    for (int i = 0; fits && i < rb; i++)
        fits = b->shape.dims[i] == a->shape.dims[axis + i] || b->shape.dims[i] == 1;
    if (!fits) {
        char sa[128], sb[128];
        ir_shape_format(&a->shape, sa, sizeof sa);
        ir_shape_format(&b->shape, sb, sizeof sb);
        node_error(c, LOOM_STATUS_INVALID_MODEL, p->np, p->name,
                   "legacy broadcast: B %s does not match A %s at axis %lld", sb, sa,
                   (long long)p->axis);
        return;
    }
    int trailing = ra - (int)axis - rb;
    if (trailing == 0) { /* numpy broadcasting already lines them up */
        u->op = IR_OP_IDENTITY;
        u->n_inputs = 1;
        return;
    }
    ir_value *axes = u->inputs[1];
    for (int i = 0; i < trailing; i++)
        ((int64_t *)axes->data)[i] = rb + i;
    ir_value_set_shape(axes, 1, (int64_t[]){trailing});
}

/* ONNX Reshape-1/4: the target shape is the `shape` attribute; it becomes
 * the constant shape input of Reshape-5. */
static void legacy_reshape(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                           ir_value **ins, int *n_in)
{
    const Onnx__AttributeProto *a = fe_onnx_proto_attr(np, "shape");
    if (*n_in >= 2)
        return;
    if (!a) {
        node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                   "has neither a shape input nor a shape attribute");
        return;
    }
    ir_value *v = ir_graph_new_value(c->g, "legacy_shape", IR_DTYPE_I64);
    ir_value_set_shape(v, 1, (int64_t[]){(int64_t)a->n_ints});
    v->data = ir_arena_memdup(&c->g->arena, a->ints, a->n_ints * sizeof *a->ints);
    ins[1] = v;
    *n_in = 2;
}

/* Adjusts the inputs of np for older opsets before the node is built. */
static void legacy_inputs(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, ir_op op,
                          ir_value **ins, int *n_in)
{
    if (c->opset < 7 && legacy_broadcast_op(op))
        legacy_broadcast(c, np, name, ins, *n_in);
    if (c->opset < 5 && op == IR_OP_RESHAPE)
        legacy_reshape(c, np, name, ins, n_in);
    if (c->opset < 11 && op == IR_OP_RESIZE && *n_in == 2) { /* Resize-10: X, scales */
        ins[2] = ins[1];
        ins[1] = NULL;
        *n_in = 3;
    }
}

/* The TensorProto.DataType of a Cast-1 `to` string ("FLOAT", ...); 0 when
 * unknown. */
static int cast_type_code(const char *s)
{
    static const char *const names[] = {"",      "FLOAT",  "UINT8",  "INT8",   "UINT16",
                                        "INT16", "INT32",  "INT64",  "STRING", "BOOL",
                                        "FLOAT16", "DOUBLE", "UINT32", "UINT64"};
    for (int i = 1; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return 0;
}

/* Handles attribute a of the older opsets that has no place in the IR's
 * schema; returns true when it was taken care of (stored in another form,
 * or dropped because it changes nothing at inference). */
static bool legacy_attr(onnx_ctx *c, ir_node *n, const Onnx__NodeProto *np, const char *name,
                        const Onnx__AttributeProto *a)
{
    int64_t v = c->opset;
    const char *an = a->name;
    /* opsets 1-5: a hint for in-place buffer reuse, no effect on values */
    if (v < 6 && strcmp(an, "consumed_inputs") == 0)
        return true;
    if (v < 7 && legacy_broadcast_op(n->op) &&
        (strcmp(an, "broadcast") == 0 || strcmp(an, "axis") == 0))
        return true; /* handled by legacy_broadcast */
    if (v < 5 && n->op == IR_OP_RESHAPE && strcmp(an, "shape") == 0)
        return true; /* handled by legacy_reshape */
    /* LSTM/GRU/RNN-1: output_sequence only says whether Y may be left out;
     * loom computes Y whenever the node lists it */
    if (v < 7 && (n->op == IR_OP_LSTM || n->op == IR_OP_GRU || n->op == IR_OP_RNN) &&
        strcmp(an, "output_sequence") == 0)
        return true;
    if (v < 2 && n->op == IR_OP_PAD && strcmp(an, "paddings") == 0) { /* Pad-1 */
        ir_node_set_ints(c->g, n, "pads", a->ints, (int)a->n_ints);
        return true;
    }
    if (v < 6 && n->op == IR_OP_CAST && strcmp(an, "to") == 0 &&
        attr_proto_kind(a) == IR_ATTR_STRING) { /* Cast-1: the type by name */
        const char *s = bytes_str(&c->g->arena, &a->s);
        int code = cast_type_code(s);
        if (!code || ir_dtype_from_onnx(code) == IR_DTYPE_COUNT)
            node_error(c, code ? LOOM_STATUS_UNSUPPORTED : LOOM_STATUS_INVALID_MODEL, np, name,
                       "%s type \"%s\" in attribute \"to\"", code ? "unsupported" : "unknown", s);
        else
            ir_node_set_int(c->g, n, "to", code);
        return true;
    }
    return false;
}

/* Maps older-opset forms onto the IR's (ir_ops.h) after the attributes are
 * stored, or rejects those with no equivalent. Attribute-vs-input forms
 * (Split, Slice, Squeeze, Unsqueeze, Reduce*, Clip, Dropout, Pad) need
 * nothing: the schemas accept both. */
static void legacy_forms(onnx_ctx *c, ir_node *n, const Onnx__NodeProto *np, const char *name)
{
    int64_t v = c->opset;
    /* ONNX Softmax-1/11, LogSoftmax-1/11 (and Hardmax-1/11): coerce the input to 2-D at axis
     * (default 1); Softmax-13 works along one axis (default -1). */
    if ((n->op == IR_OP_SOFTMAX || n->op == IR_OP_LOG_SOFTMAX || n->op == IR_OP_HARDMAX) &&
        v < 13) {
        ir_node_set_int(c->g, n, "coerce_2d", 1);
        if (!ir_node_find_attr(n, "axis"))
            ir_node_set_int(c->g, n, "axis", 1);
    }
    /* ONNX Concat-1: axis defaults to 1 (required from Concat-4) */
    if (n->op == IR_OP_CONCAT && v < 4 && !ir_node_find_attr(n, "axis"))
        ir_node_set_int(c->g, n, "axis", 1);
    /* BatchNormalization-1/6 and Dropout-1/6: is_test defaults to 0, the
     * training form (batch statistics; random dropout) */
    if ((n->op == IR_OP_BATCH_NORMALIZATION || n->op == IR_OP_DROPOUT) && v < 7) {
        if (ir_attr_int(n, "is_test", 0) != 1)
            node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                       "is_test=0 is the training form (%s), which loom does not support; only "
                       "is_test=1",
                       n->op == IR_OP_DROPOUT ? "random dropout" : "batch statistics");
        ir_node_remove_attr(n, "is_test");
    }
    /* ONNX Resize-10 samples like Upsample: at o / scale, rounding down */
    if (n->op == IR_OP_RESIZE && v < 11) {
        ir_node_set_string(c->g, n, "coordinate_transformation_mode", "asymmetric");
        ir_node_set_string(c->g, n, "nearest_mode", "floor");
    }
    /* ONNX RoiAlign-10 has no coordinate_transformation_mode: it maps pixels
     * like RoiAlign-16's output_half_pixel */
    if (n->op == IR_OP_ROI_ALIGN && v < 16)
        ir_node_set_string(c->g, n, "coordinate_transformation_mode", "output_half_pixel");
        /* ONNX Tile-1: tiles and axis inputs instead of Tile-6's repeats */
    if (n->op == IR_OP_TILE && v < 6)
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                   "Tile-1 (tiles and axis inputs) is not supported; Tile-6 (repeats) is");
}

/* ONNX Scatter-9 (deprecated in 11) is ScatterElements without reduction. */
ir_op fe_onnx_op(const char *op_type)
{
    return strcmp(op_type, "Scatter") == 0 ? IR_OP_SCATTER_ELEMENTS : ir_op_lookup(op_type);
}

/* ONNX ops whose output shape depends on input values (NonZero, Unique,
 * NonMaxSuppression): out of scope for a compiler of static shapes. */
static bool dynamic_shape_op(const char *op_type)
{
    static const char *const ops[] = {"NonZero", "Unique", "NonMaxSuppression"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op_type, ops[i]) == 0)
            return true;
    return false;
}

/* Builds node np (index k of its graph), or reports why it cannot. */
void fe_onnx_convert_node(onnx_ctx *c, const Onnx__NodeProto *np, int k)
{
    ir_graph *g = c->g;
    const char *name = np->name && np->name[0]
                           ? np->name
                           : ir_arena_printf(&g->arena, "%s_%d", np->op_type, k);
    if (c->scope) /* a subgraph's node: named by its path */
        name = ir_arena_printf(&g->arena, "%s/%s", c->scope->prefix, name);
    if (is_default_domain(np->domain) && fe_onnx_is_control(np->op_type)) {
        fe_onnx_convert_control(c, np, name);
        return;
    }
    ir_op op = fe_onnx_op(np->op_type);
    if (is_default_domain(np->domain) && dynamic_shape_op(np->op_type)) {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                   "its output shape depends on the input values (a dynamic shape); loom "
                   "compiles static shapes only");
        fe_onnx_placeholder_outputs(c, np);
        return;
    }
    if (!is_default_domain(np->domain) || op == IR_OP_COUNT) {
        node_error(c, LOOM_STATUS_UNSUPPORTED, np, name, "unsupported op");
        fe_onnx_placeholder_outputs(c, np);
        return;
    }
    bool scatter9 = strcmp(np->op_type, "Scatter") == 0; /* ScatterElements' older name */
    if (c->opset && c->opset < op_since(op) && !scatter9) {
        node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "%s does not exist before opset %d",
                   np->op_type, op_since(op));
        fe_onnx_placeholder_outputs(c, np);
        return;
    }
    ir_value **ins = ir_arena_array(&g->arena, np->n_input + 2, sizeof *ins);
    ir_value **outs = ir_arena_array(&g->arena, np->n_output + 1, sizeof *outs);
    int n_in = node_inputs(c, np, name, ins);
    if (op == IR_OP_CONSTANT) {
        ir_value *v = np->n_output == 1 && np->output[0][0]
                          ? fe_onnx_define(c, np->output[0], IR_DTYPE_F32)
                          : NULL;
        if (v)
            constant_value(c, np, name, v);
        else
            node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                       "needs one output with a fresh name");
        return;
    }
    legacy_inputs(c, np, name, op, ins, &n_in);
    int n_out = node_outputs(c, np, name, outs);
    ir_node *n = ir_graph_add_node(g, op, name, ins, n_in, outs, n_out);
    for (size_t i = 0; i < np->n_attribute; i++)
        if (!legacy_attr(c, n, np, name, np->attribute[i]))
            convert_attr(c, n, np, name, np->attribute[i]);
    legacy_forms(c, n, np, name);
}

/* ---- outputs and declared types ---- */

static void convert_outputs(onnx_ctx *c, const Onnx__GraphProto *gp)
{
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name;
        ir_value *v = ir_graph_find_value(c->g, name);
        if (!v) {
            ir_diag_graph(c->d, c->g, "output \"%s\" is not defined by any node, input or "
                          "initializer", name);
            note(c, LOOM_STATUS_INVALID_MODEL);
        } else if (v->is_output) {
            ir_diag_graph(c->d, c->g, "output \"%s\" is listed twice", name);
            note(c, LOOM_STATUS_INVALID_MODEL);
        } else {
            ir_graph_add_output(c->g, v);
        }
    }
}

/* Checks a declared value_info (graph output or value_info entry) against
 * the inferred dtype and the dims it fixes; dim_params are not checked. */
static void check_declared(onnx_ctx *c, const Onnx__ValueInfoProto *vi)
{
    ir_value *v = ir_graph_find_value(c->g, vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!v || !v->shape_known || !tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    ir_dtype dt = ir_dtype_from_onnx(tt->elem_type);
    bool ok = !tt->has_elem_type || tt->elem_type == 0 || dt == v->dtype;
    const Onnx__TensorShapeProto *sp = tt->shape;
    if (sp && sp->n_dim != (size_t)v->shape.rank)
        ok = false;
    for (size_t i = 0; ok && sp && i < sp->n_dim; i++)
        if (sp->dim[i]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            ok = sp->dim[i]->dim_value == v->shape.dims[i];
    if (!ok) {
        char s[128];
        ir_shape_format(&v->shape, s, sizeof s);
        ir_diag_graph(c->d, c->g, "value \"%s\" is declared %s with %zu dims, inferred %s%s",
                      vi->name, fe_onnx_dtype_name(tt->elem_type), sp ? sp->n_dim : 0,
                      ir_dtype_name(v->dtype), s);
        note(c, LOOM_STATUS_INVALID_MODEL);
    }
}

/* ---- inference and load-time folding ---- */

/* True when n's inputs are all constant and its outputs small enough to
 * evaluate at load time. */
static bool foldable(const ir_node *n)
{
    int present = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        if (n->inputs[i] && !ir_value_is_const(n->inputs[i]))
            return false;
        present += n->inputs[i] != NULL;
    }
    int64_t elems = 0;
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i])
            elems += ir_shape_numel(&n->outputs[i]->shape);
    return present > 0 && elems <= FOLD_MAX_ELEMS;
}

/* True when every present output of n already carries data (inference
 * computes it for shape-only ops such as Shape). */
static bool outputs_known(const ir_node *n)
{
    int present = 0;
    for (int i = 0; i < n->n_outputs; i++) {
        if (n->outputs[i] && !n->outputs[i]->data)
            return false;
        present += n->outputs[i] != NULL;
    }
    return present > 0;
}

/* Infers n's outputs and evaluates n when its inputs are constant. */
static loom_status infer_one(onnx_ctx *c, ir_node *n)
{
    loom_status st = ir_infer_node(c->g, n, c->d);
    if (!st && !outputs_known(n) && foldable(n))
        st = interp_eval_node(c->g, n, c->d);
    return st;
}

/* Infers node k, first widening its f16/bf16 operands to f32 (ir_half.h);
 * returns the status and in *k the index of the last node it handled. */
static loom_status infer_widened(onnx_ctx *c, int *k)
{
    ir_graph *g = c->g;
    ir_node *n = g->nodes[*k];
    int m;
    ir_dtype half = ir_half_widen_inputs(g, n, &m);
    loom_status st = LOOM_STATUS_OK;
    for (int i = 0; !st && i <= m; i++) /* the inserted Casts, then n */
        st = infer_one(c, g->nodes[(*k)++]);
    (*k)--;
    if (st || half == IR_DTYPE_COUNT)
        return st;
    m = ir_half_narrow_outputs(g, n, half);
    for (int i = 0; !st && i < m; i++)
        st = infer_one(c, g->nodes[++(*k)]);
    return st;
}

/* Infers shapes node by node from the first node not inferred yet, folding
 * constant shape arithmetic. */
static loom_status infer_nodes(onnx_ctx *c)
{
    ir_graph *g = c->g;
    for (int k = c->n_inferred; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        for (int j = 0; j < c->n_bcasts; j++)
            if (c->bcasts[j].unsqueeze == n)
                legacy_axes(c, &c->bcasts[j]);
        if (c->status)
            return c->status;
        loom_status st = infer_widened(c, &k);
        if (st)
            return st;
        c->n_inferred = k + 1;
    }
    return LOOM_STATUS_OK;
}

bool fe_onnx_infer_pending(onnx_ctx *c)
{
    if (c->status)
        return false;
    note(c, infer_nodes(c));
    return !c->status;
}

/* Infers and folds the nodes left, then drops the folded nodes and the
 * values nothing uses. */
static loom_status infer_and_fold(onnx_ctx *c)
{
    ir_graph *g = c->g;
    loom_status st = infer_nodes(c);
    if (st)
        return st;
    bool *keep = ir_arena_array(&g->arena, (size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *keep);
    for (int k = 0; k < g->n_nodes; k++) {
        ir_node *n = g->nodes[k];
        keep[k] = !outputs_known(n);
        for (int i = 0; !keep[k] && i < n->n_outputs; i++)
            if (n->outputs[i])
                n->outputs[i]->producer = NULL; /* now a constant */
    }
    ir_graph_compact_nodes(g, keep);
    ir_graph_drop_unused_values(g);
    return LOOM_STATUS_OK;
}

/* ---- the model ---- */

/* Writes the folder of path into the arena ("." when it has none). */
static const char *folder_of(ir_arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ".";
    return slash == path ? "/" : ir_arena_strndup(a, path, (size_t)(slash - path));
}

/* Builds the whole graph; returns the first error status after reporting
 * every problem found. Not inlined into fe_onnx_load, so no local of it
 * lives in the frame that calls setjmp. */
static __attribute__((noinline)) loom_status load_model(onnx_ctx *c, const char *const *dims)
{
    const Onnx__GraphProto *gp = c->m->graph;
    if (!c->base_dir)
        c->base_dir = folder_of(&c->g->arena, c->g->source);
    c->bind_used = ir_arena_array(&c->g->arena, (size_t)c->n_binds + 1, sizeof *c->bind_used);
    check_opsets(c);
    if (!gp) {
        ir_diag_graph(c->d, c->g, "the model has no graph");
        note(c, LOOM_STATUS_INVALID_MODEL);
        return c->status;
    }
    parse_pins(c, dims);
    for (size_t i = 0; i < gp->n_initializer; i++)
        fe_onnx_convert_initializer(c, gp->initializer[i]);
    if (gp->n_sparse_initializer) {
        ir_diag_graph(c->d, c->g, "sparse initializers are not supported");
        note(c, LOOM_STATUS_UNSUPPORTED);
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        ir_value *v = ir_graph_find_value(c->g, gp->input[i]->name);
        if (!v || !ir_value_is_const(v))
            convert_input(c, gp->input[i]); /* an input that is an initializer is constant */
    }
    for (size_t i = 0; i < gp->n_node; i++)
        fe_onnx_convert_node(c, gp->node[i], (int)i);
    convert_outputs(c, gp);
    report_unused_pins(c);
    for (int i = 0; i < c->n_binds; i++)
        if (!c->bind_used[i]) {
            ir_diag_graph(c->d, c->g, "binding \"%s\" names no graph input", c->binds[i].name);
            note(c, LOOM_STATUS_INVALID_ARG);
        }
    if (c->status)
        return c->status;
    loom_status st = infer_and_fold(c);
    if (st)
        return st;
    for (size_t i = 0; i < gp->n_output; i++)
        check_declared(c, gp->output[i]);
    for (size_t i = 0; i < gp->n_value_info; i++)
        check_declared(c, gp->value_info[i]);
    if (c->status)
        return c->status;
    return ir_verify(c->g, c->d);
}

/* protobuf-c leaves absent proto2 strings NULL: true when the strings the
 * reader relies on (op types, attribute and value names) are all present.
 * Optional ones (node name, domain) are checked where they are used. */
static bool required_strings(const Onnx__ModelProto *m)
{
    const Onnx__GraphProto *gp = m->graph;
    for (size_t i = 0; gp && i < gp->n_node; i++) {
        if (!gp->node[i]->op_type)
            return false;
        for (size_t j = 0; j < gp->node[i]->n_attribute; j++)
            if (!gp->node[i]->attribute[j]->name)
                return false;
    }
    for (size_t i = 0; gp && i < gp->n_input + gp->n_output + gp->n_value_info; i++) {
        size_t k = i;
        const Onnx__ValueInfoProto *vi =
            k < gp->n_input ? gp->input[k]
            : (k -= gp->n_input) < gp->n_output ? gp->output[k]
                                                : gp->value_info[k - gp->n_output];
        if (!vi->name)
            return false;
    }
    return true;
}

/* Decodes the ModelProto in len bytes at buf with allocator a (already
 * initialized); source names it in messages to d. */
static loom_status decode_model(const uint8_t *buf, size_t len, const char *source,
                                fe_onnx_alloc *a, Onnx__ModelProto **out, ir_diag *d)
{
    *out = NULL;
    if (len == 0) {
        ir_diag_errorf(d, "%s: the file is empty (0 bytes), not an ONNX model", source);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!fe_onnx_nesting_ok(&onnx__model_proto__descriptor, buf, len)) {
        ir_diag_errorf(d, "%s: messages nested more than %d levels deep (subgraphs within "
                       "subgraphs), past the limit of loom and of protobuf's parsers", source,
                       FE_ONNX_MAX_DEPTH);
        return LOOM_STATUS_UNSUPPORTED;
    }
    *out = onnx__model_proto__unpack(&a->pb, len, buf);
    if (!*out && a->failed) {
        ir_diag_errorf(d, "%s: out of memory decoding the model", source);
        return LOOM_STATUS_NOMEM;
    }
    if (!*out) {
        ir_diag_errorf(d, "%s: not a valid ONNX model (truncated or corrupt protobuf)", source);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!required_strings(*out)) {
        ir_diag_errorf(d, "%s: not a valid ONNX model (a node without op_type, or an attribute "
                       "or graph value without a name)", source);
        onnx__model_proto__free_unpacked(*out, &a->pb);
        *out = NULL;
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Reads and decodes the ModelProto at path with allocator a; reports to d. */
static loom_status unpack_model(const char *path, fe_onnx_alloc *a, Onnx__ModelProto **out,
                                ir_diag *d)
{
    uint8_t *buf;
    size_t len;
    fe_onnx_alloc_init(a);
    loom_status st = fe_onnx_read_file(path, &buf, &len, d);
    if (st)
        return st;
    st = decode_model(buf, len, path, a, out, d);
    ir_free(buf);
    return st;
}

/* Builds the graph of the decoded m (then freed) named source, external
 * data relative to base_dir (NULL: source's folder). */
static loom_status load_decoded(Onnx__ModelProto *m, fe_onnx_alloc *alloc, const char *source,
                                const char *base_dir, const char *const *dims,
                                const fe_binding *binds, int n_binds, ir_graph **out,
                                ir_diag *d)
{
    const char *gname = m->graph && m->graph->name ? m->graph->name : "";
    ir_graph *g = ir_graph_new(gname, source);
    if (!g) {
        onnx__model_proto__free_unpacked(m, &alloc->pb);
        ir_diag_errorf(d, "%s: out of memory", source);
        return LOOM_STATUS_NOMEM;
    }
    onnx_ctx c = {.g = g, .d = d, .m = m, .binds = binds, .n_binds = n_binds,
                  .base_dir = base_dir};
    jmp_buf jb;
    loom_status st;
    if (IR_TRY(&g->arena, jb)) {
        st = load_model(&c, dims);
    } else {
        ir_diag_errorf(d, "%s: out of memory", source);
        st = LOOM_STATUS_NOMEM;
    }
    g->arena.oom = NULL;
    onnx__model_proto__free_unpacked(m, &alloc->pb);
    if (st) {
        ir_graph_free(g);
        return st;
    }
    *out = g;
    return LOOM_STATUS_OK;
}

loom_status fe_onnx_load(const char *path, const char *const *dims, ir_graph **out, ir_diag *d)
{
    return fe_onnx_load_bound(path, dims, NULL, 0, out, d);
}

loom_status fe_onnx_load_bound(const char *path, const char *const *dims,
                               const fe_binding *binds, int n_binds, ir_graph **out,
                               ir_diag *d)
{
    *out = NULL;
    Onnx__ModelProto *m;
    fe_onnx_alloc alloc;
    loom_status st = unpack_model(path, &alloc, &m, d);
    if (st)
        return st;
    return load_decoded(m, &alloc, path, NULL, dims, binds, n_binds, out, d);
}

loom_status fe_onnx_load_memory(const void *buf, size_t len, const char *source,
                                const char *base_dir, const char *const *dims,
                                const fe_binding *binds, int n_binds, ir_graph **out,
                                ir_diag *d)
{
    *out = NULL;
    Onnx__ModelProto *m;
    fe_onnx_alloc alloc;
    fe_onnx_alloc_init(&alloc);
    loom_status st = decode_model(buf, len, source, &alloc, &m, d);
    if (st)
        return st;
    return load_decoded(m, &alloc, source, base_dir ? base_dir : ".", dims, binds, n_binds, out,
                        d);
}

int fe_onnx_list_ops(const char *path, char *buf, size_t size, ir_diag *d)
{
    if (size)
        buf[0] = '\0';
    Onnx__ModelProto *m;
    fe_onnx_alloc alloc;
    if (unpack_model(path, &alloc, &m, d))
        return -1;
    int count = 0;
    size_t at = 0;
    for (size_t i = 0; m->graph && i < m->graph->n_node; i++) {
        const Onnx__NodeProto *np = m->graph->node[i];
        char op[256];
        snprintf(op, sizeof op, "%s%s%s", is_default_domain(np->domain) ? "" : np->domain,
                 is_default_domain(np->domain) ? "" : ":", np->op_type);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const Onnx__NodeProto *q = m->graph->node[j];
            seen = strcmp(q->op_type, np->op_type) == 0 &&
                   is_default_domain(q->domain) == is_default_domain(np->domain) &&
                   (is_default_domain(q->domain) || strcmp(q->domain, np->domain) == 0);
        }
        if (seen)
            continue;
        count++;
        if (at < size)
            at += (size_t)snprintf(buf + at, size - at, "%s%s", at ? " " : "", op);
    }
    onnx__model_proto__free_unpacked(m, &alloc.pb);
    return count;
}
