/*
 * ONNX control flow (If, Loop, Scan), expanded into ordinary nodes while
 * the reader builds the graph, so the graph IR, the passes and every backend
 * only ever see straight-line code.
 *
 * Before a control node is expanded, the nodes built so far are inferred
 * and folded (fe_onnx_infer_pending), so a condition or trip count computed
 * from initializers, Constant nodes, shapes or inputs bound as constants is
 * known. If inlines the branch its constant condition takes. Loop and Scan
 * are unrolled: each iteration converts the body once more in a fresh
 * scope whose inputs are bound to that iteration's values; a Loop's
 * condition output must fold to a constant after every iteration (so it
 * decides the trip count at compile time). Names a subgraph does not define
 * resolve in the enclosing scopes (outer-scope references). The node's
 * outputs are Identity nodes on the final values, so they keep their ONNX
 * names. Anything else (a condition or trip count known only at run time,
 * sequence-typed state, a body too large to unroll) is reported with the
 * node, op and reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fe_onnx_ctx.h"

/* Largest number of body nodes one Loop or Scan may unroll into (counting
 * one more per iteration, so empty bodies are bounded too). */
#define FE_UNROLL_MAX_NODES 16384

bool fe_onnx_is_control(const char *op_type)
{
    return strcmp(op_type, "If") == 0 || strcmp(op_type, "Loop") == 0 ||
           strcmp(op_type, "Scan") == 0;
}

/* The GraphProto attribute called attr of np, or NULL (reported). */
static const Onnx__GraphProto *graph_attr(onnx_ctx *c, const Onnx__NodeProto *np,
                                          const char *name, const char *attr)
{
    const Onnx__AttributeProto *a = fe_onnx_proto_attr(np, attr);
    if (!a || !a->g)
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "needs the graph attribute \"%s\"", attr);
    return a ? a->g : NULL;
}

/* An int attribute of np, or def when absent. */
static int64_t int_attr(const Onnx__NodeProto *np, const char *attr, int64_t def)
{
    const Onnx__AttributeProto *a = fe_onnx_proto_attr(np, attr);
    return a ? a->i : def;
}

/* Entry i of the ints attribute attr of np, or def when absent or short. */
static int64_t ints_attr(const Onnx__NodeProto *np, const char *attr, size_t i, int64_t def)
{
    const Onnx__AttributeProto *a = fe_onnx_proto_attr(np, attr);
    return a && i < a->n_ints ? a->ints[i] : def;
}

/* Input i of np, NULL when omitted ("" or past the end) or undefined
 * (reported). */
static ir_value *node_input(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, size_t i)
{
    if (i >= np->n_input || !np->input[i][0])
        return NULL;
    ir_value *v = fe_onnx_lookup(c, np->input[i]);
    if (!v)
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "input \"%s\" is not defined by an earlier node, input or initializer",
                           np->input[i]);
    return v;
}

/* A new scalar i64 constant holding x. */
static ir_value *const_i64(onnx_ctx *c, const char *base, int64_t x)
{
    ir_value *v = ir_graph_new_const(c->g, base, IR_DTYPE_I64, &(ir_shape){0});
    *(int64_t *)v->data = x;
    return v;
}

/* A new node op(ins) -> one fresh value named after base; returns it. */
static ir_value *add_op(onnx_ctx *c, ir_op op, const char *base, ir_value *const *ins, int n_ins)
{
    ir_value *out = ir_graph_new_value(c->g, base, IR_DTYPE_F32);
    ir_graph_add_node(c->g, op, out->name, ins, n_ins, &out, 1);
    return out;
}

/* Why value v is not a compile-time constant, for messages. */
static const char *not_const_hint(const ir_value *v)
{
    return v->is_input ? "a graph input: bind it with --const IN=FILE.npy"
                       : "computed from the inputs at run time";
}

/* Reads the scalar value v (bool or integer) into *x; false when v is not a
 * compile-time constant with one element. */
static bool const_scalar(const ir_value *v, int64_t *x)
{
    if (!v || !v->data || !v->shape_known || ir_shape_numel(&v->shape) != 1)
        return false;
    switch (v->dtype) {
    case IR_DTYPE_BOOL: *x = *(const uint8_t *)v->data != 0; return true;
    case IR_DTYPE_I64: *x = *(const int64_t *)v->data; return true;
    case IR_DTYPE_I32: *x = *(const int32_t *)v->data; return true;
    default: return false;
    }
}

/* Converts subgraph gp once more, in a new scope under prefix whose inputs
 * are ins[0..gp->n_input), and sets outs[0..gp->n_output) to its outputs.
 * Returns false when something was reported. */
static bool expand_graph(onnx_ctx *c, const Onnx__GraphProto *gp, const char *prefix,
                         ir_value *const *ins, ir_value **outs)
{
    fe_onnx_scope s = {.parent = c->scope, .prefix = prefix};
    c->scope = &s;
    for (size_t i = 0; i < gp->n_input; i++)
        fe_onnx_scope_bind(c, gp->input[i]->name, ins[i]);
    for (size_t i = 0; i < gp->n_initializer; i++)
        fe_onnx_convert_initializer(c, gp->initializer[i]);
    for (size_t i = 0; i < gp->n_node; i++)
        fe_onnx_convert_node(c, gp->node[i], (int)i);
    for (size_t i = 0; i < gp->n_output; i++) {
        outs[i] = fe_onnx_lookup(c, gp->output[i]->name);
        if (!outs[i]) {
            ir_diag_errorf(c->d, "%s: subgraph %s: output \"%s\" is not defined", c->g->source,
                           prefix, gp->output[i]->name);
            fe_onnx_note(c, LOOM_STATUS_INVALID_MODEL);
        }
    }
    if (gp->n_sparse_initializer) {
        ir_diag_errorf(c->d, "%s: subgraph %s: sparse initializers are not supported",
                       c->g->source, prefix);
        fe_onnx_note(c, LOOM_STATUS_UNSUPPORTED);
    }
    c->scope = s.parent;
    return !c->status;
}

/* Defines the outputs of np as Identity nodes on vals (its results). */
static void bind_outputs(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                         ir_value *const *vals)
{
    for (size_t i = 0; i < np->n_output; i++) {
        if (!np->output[i][0])
            continue;
        ir_value *out = fe_onnx_define(c, np->output[i], IR_DTYPE_F32);
        if (!out) {
            fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                               "output \"%s\" is defined twice", np->output[i]);
            continue;
        }
        const char *n = ir_arena_printf(&c->g->arena, "%s/%s", name, np->output[i]);
        ir_graph_add_node(c->g, IR_OP_IDENTITY, n, &vals[i], 1, &out, 1);
    }
}

/* Stacks vals[0..n) along a new axis (ONNX Loop scan outputs: axis 0;
 * Scan-9 scan_output_axes, counted in the output's rank), in reverse order
 * when reverse is set. */
static ir_value *stack(onnx_ctx *c, const char *base, ir_value *const *vals, int64_t n,
                       int64_t axis, bool reverse)
{
    ir_value *axes = ir_graph_new_const(c->g, base, IR_DTYPE_I64, &(ir_shape){1, {1}});
    *(int64_t *)axes->data = axis;
    ir_value **parts = ir_arena_array(&c->g->arena, (size_t)n, sizeof *parts);
    for (int64_t i = 0; i < n; i++)
        parts[i] = add_op(c, IR_OP_UNSQUEEZE, base,
                          (ir_value *[]){vals[reverse ? n - 1 - i : i], axes}, 2);
    ir_value *out = add_op(c, IR_OP_CONCAT, base, parts, (int)n);
    ir_node_set_int(c->g, out->producer, "axis", axis);
    return out;
}

/* Checks that one more iteration of a body of body_nodes nodes stays
 * within FE_UNROLL_MAX_NODES (*cost counts what was unrolled so far). */
static bool unroll_budget(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                          int64_t *cost, size_t body_nodes)
{
    *cost += (int64_t)body_nodes + 1;
    if (*cost <= FE_UNROLL_MAX_NODES)
        return true;
    fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                       "too large to unroll: its body of %zu nodes would run past %d unrolled "
                       "nodes (loom unrolls loops at compile time)",
                       body_nodes, FE_UNROLL_MAX_NODES);
    return false;
}

/* ---- If ---- */

/* ONNX If-1/11/13/16/19/21: the branch the constant cond selects is
 * inlined; the other is never read. */
static void convert_if(onnx_ctx *c, const Onnx__NodeProto *np, const char *name)
{
    ir_value *cond = node_input(c, np, name, 0);
    int64_t taken;
    if (!cond && (np->n_input == 0 || !np->input[0][0]))
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "needs a condition input");
    if (!cond || !fe_onnx_infer_pending(c))
        return;
    if (!const_scalar(cond, &taken)) {
        fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                           "condition is not a compile-time constant (\"%s\" is %s)",
                           np->input[0], not_const_hint(cond));
        return;
    }
    const char *which = taken ? "then_branch" : "else_branch";
    const Onnx__GraphProto *gp = graph_attr(c, np, name, which);
    if (!gp)
        return;
    if (gp->n_input != 0 || gp->n_output != np->n_output) {
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "%s has %zu inputs and %zu outputs, expected 0 and %zu", which,
                           gp->n_input, gp->n_output, np->n_output);
        return;
    }
    ir_value **outs = ir_arena_array(&c->g->arena, gp->n_output + 1, sizeof *outs);
    const char *prefix = ir_arena_printf(&c->g->arena, "%s/%s", name, taken ? "then" : "else");
    if (expand_graph(c, gp, prefix, NULL, outs))
        bind_outputs(c, np, name, outs);
}

/* ---- Loop and Scan ---- */

/* Per-iteration values of a loop's scan outputs: vals[t * n + j] is output
 * j of iteration t. */
typedef struct scan_vals {
    ir_value **vals;
    size_t n;
    int64_t trips, cap;
} scan_vals;

/* Appends the n values at it as one more iteration's scan outputs. */
static void scan_vals_push(onnx_ctx *c, scan_vals *sv, ir_value *const *it)
{
    if (sv->trips == sv->cap) {
        sv->cap = 2 * sv->cap + 8;
        ir_value **grown = ir_arena_array(&c->g->arena, (size_t)sv->cap * (sv->n + 1),
                                          sizeof *grown);
        if (sv->trips)
            memcpy(grown, sv->vals, (size_t)sv->trips * sv->n * sizeof *grown);
        sv->vals = grown;
    }
    if (sv->n)
        memcpy(sv->vals + sv->trips * (int64_t)sv->n, it, sv->n * sizeof *it);
    sv->trips++;
}

/* Scan output j over all iterations, stacked along axis (reversed when
 * reverse is set); reports a loop that ran zero times. */
static ir_value *scan_vals_stack(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                                 const scan_vals *sv, size_t j, int64_t axis, bool reverse)
{
    if (sv->trips == 0) {
        fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                           "runs zero times, so its scan outputs are empty tensors of unknown "
                           "shape");
        return NULL;
    }
    ir_value **col = ir_arena_array(&c->g->arena, (size_t)sv->trips, sizeof *col);
    for (int64_t t = 0; t < sv->trips; t++)
        col[t] = sv->vals[t * (int64_t)sv->n + (int64_t)j];
    const char *base = ir_arena_printf(&c->g->arena, "%s/scan%zu", name, j);
    return stack(c, base, col, sv->trips, axis, reverse);
}

/* Reads Loop's trip count M and initial condition (both optional inputs)
 * into *trips and *cond; reports the one that is not a compile-time
 * constant. */
static bool loop_bounds(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, int64_t *trips,
                        ir_value **cond)
{
    ir_value *m = node_input(c, np, name, 0);
    *cond = node_input(c, np, name, 1);
    int64_t x;
    *trips = INT64_MAX;
    if (m && !const_scalar(m, trips)) {
        fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                           "trip count is not a compile-time constant (\"%s\" is %s)",
                           np->input[0], not_const_hint(m));
        return false;
    }
    if (*cond && !const_scalar(*cond, &x)) {
        fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                           "condition is not a compile-time constant (\"%s\" is %s)",
                           np->input[1], not_const_hint(*cond));
        return false;
    }
    if (!*cond) { /* absent: true */
        *cond = ir_graph_new_const(c->g, name, IR_DTYPE_BOOL, &(ir_shape){0});
        *(uint8_t *)(*cond)->data = 1;
    }
    return true;
}

/* Runs the Loop body while the trip count and the condition allow:
 * vals[0] is the condition, vals[1..] the loop-carried values, both
 * updated; the scan outputs go to sv. */
static bool loop_unroll(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                        const Onnx__GraphProto *body, int64_t trips, ir_value **vals,
                        scan_vals *sv)
{
    ir_arena *ar = &c->g->arena;
    size_t n_carried = np->n_input - 2;
    ir_value **ins = ir_arena_array(ar, n_carried + 2, sizeof *ins);
    ir_value **outs = ir_arena_array(ar, body->n_output + 1, sizeof *outs);
    int64_t cost = 0, go;
    for (int64_t i = 0; i < trips && const_scalar(vals[0], &go) && go; i++) {
        if (!unroll_budget(c, np, name, &cost, body->n_node))
            return false;
        const char *prefix = ir_arena_printf(ar, "%s/iter%" PRId64, name, i);
        ins[0] = const_i64(c, ir_arena_printf(ar, "%s/iteration_num", prefix), i);
        memcpy(ins + 1, vals, (n_carried + 1) * sizeof *ins);
        if (!expand_graph(c, body, prefix, ins, outs) || !fe_onnx_infer_pending(c))
            return false;
        memcpy(vals, outs, (n_carried + 1) * sizeof *outs);
        scan_vals_push(c, sv, outs + 1 + n_carried);
        if (!const_scalar(vals[0], &go)) {
            fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                               "the condition the body computes (\"%s\") is not a compile-time "
                               "constant, so the trip count is not static",
                               body->output[0]->name);
            return false;
        }
    }
    return true;
}

/* ONNX Loop-1/11/13/16/19/21 with a static trip count: inputs (M, cond,
 * v_initial...), body (iteration_num, cond, v...) -> (cond, v..., scan...);
 * outputs the final v... and the scan outputs stacked along axis 0. */
static void convert_loop(onnx_ctx *c, const Onnx__NodeProto *np, const char *name)
{
    const Onnx__GraphProto *body = graph_attr(c, np, name, "body");
    if (!body || !fe_onnx_infer_pending(c))
        return;
    size_t n_carried = np->n_input >= 2 ? np->n_input - 2 : 0;
    if (np->n_input < 2 || body->n_input != n_carried + 2 || body->n_output < n_carried + 1 ||
        np->n_output > body->n_output - 1) {
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "has %zu inputs and %zu outputs, its body %zu inputs and %zu outputs",
                           np->n_input, np->n_output, body->n_input, body->n_output);
        return;
    }
    ir_value **vals = ir_arena_array(&c->g->arena, n_carried + 1, sizeof *vals);
    int64_t trips;
    if (!loop_bounds(c, np, name, &trips, &vals[0]))
        return;
    for (size_t i = 0; i < n_carried; i++)
        if (!(vals[1 + i] = node_input(c, np, name, 2 + i)))
            return;
    scan_vals sv = {.n = body->n_output - 1 - n_carried};
    if (!loop_unroll(c, np, name, body, trips, vals, &sv))
        return;
    ir_value **res = ir_arena_array(&c->g->arena, np->n_output + 1, sizeof *res);
    memcpy(res, vals + 1, n_carried * sizeof *res);
    for (size_t j = 0; n_carried + j < np->n_output; j++)
        if (!(res[n_carried + j] = scan_vals_stack(c, np, name, &sv, j, 0, false)))
            return;
    bind_outputs(c, np, name, res);
}

/* A Scan being unrolled: the body, its loop-carried states (updated as it
 * runs) and scan inputs with their axes and directions. */
typedef struct scan_run {
    const Onnx__GraphProto *body;
    size_t n_states, n_xs;
    ir_value **states, **xs;
    int64_t *in_axes, *in_dirs; /* per scan input; axes made non-negative */
    int64_t cost;               /* for unroll_budget */
} scan_run;

/* The sequence length of r's scan inputs: their lengths along their scan
 * axes, which must agree and be known; -1 (reported) otherwise. */
static int64_t scan_length(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                           scan_run *r)
{
    int64_t len = -1;
    for (size_t j = 0; j < r->n_xs; j++) {
        const ir_value *x = r->xs[j];
        int64_t a = r->in_axes[j] < 0 ? r->in_axes[j] + x->shape.rank : r->in_axes[j];
        if (!x->shape_known || a < 0 || a >= x->shape.rank) {
            fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                               "scan input \"%s\" has no axis %" PRId64, x->name, r->in_axes[j]);
            return -1;
        }
        r->in_axes[j] = a;
        if (len >= 0 && x->shape.dims[a] != len) {
            fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                               "scan inputs have sequence lengths %" PRId64 " and %" PRId64, len,
                               x->shape.dims[a]);
            return -1;
        }
        len = x->shape.dims[a];
    }
    return len;
}

/* Runs r's body over the sequence: iteration t reads element t of each
 * scan input along its axis (from the end when its direction is 1) and
 * updates r->states; the scan outputs go to sv. */
static bool scan_unroll(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                        const char *prefix, scan_run *r, scan_vals *sv)
{
    ir_arena *ar = &c->g->arena;
    int64_t len = fe_onnx_infer_pending(c) ? scan_length(c, np, name, r) : -1;
    size_t n_in = r->n_states + r->n_xs;
    ir_value **ins = ir_arena_array(ar, n_in + 1, sizeof *ins);
    ir_value **outs = ir_arena_array(ar, r->body->n_output + 1, sizeof *outs);
    for (int64_t t = 0; t < len; t++) {
        if (!unroll_budget(c, np, name, &r->cost, r->body->n_node))
            return false;
        const char *it = ir_arena_printf(ar, "%s/iter%" PRId64, prefix, t);
        memcpy(ins, r->states, r->n_states * sizeof *ins);
        for (size_t j = 0; j < r->n_xs; j++) {
            ir_value *idx = const_i64(c, it, r->in_dirs[j] ? len - 1 - t : t);
            ir_value *x = add_op(c, IR_OP_GATHER, it, (ir_value *[]){r->xs[j], idx}, 2);
            ir_node_set_int(c->g, x->producer, "axis", r->in_axes[j]);
            ins[r->n_states + j] = x;
        }
        if (!expand_graph(c, r->body, it, ins, outs))
            return false;
        memcpy(r->states, outs, r->n_states * sizeof *outs);
        scan_vals_push(c, sv, outs + r->n_states);
    }
    return len >= 0 && fe_onnx_infer_pending(c);
}

/* Sets up r for np with n_states loop-carried states from input first on,
 * then the scan inputs; checks the body's arity. */
static bool scan_setup(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, scan_run *r,
                       size_t first)
{
    ir_arena *ar = &c->g->arena;
    int64_t m = int_attr(np, "num_scan_inputs", -1);
    r->body = graph_attr(c, np, name, "body");
    if (!r->body || !fe_onnx_infer_pending(c))
        return false;
    if (m < 1 || (size_t)m + first > np->n_input) {
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "num_scan_inputs %" PRId64 " does not fit its %zu inputs", m,
                           np->n_input);
        return false;
    }
    r->n_xs = (size_t)m;
    r->n_states = np->n_input - first - r->n_xs;
    const Onnx__GraphProto *b = r->body;
    if (b->n_input != r->n_states + r->n_xs || b->n_output < r->n_states ||
        np->n_output != b->n_output) {
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "has %zu inputs and %zu outputs, its body %zu inputs and %zu outputs",
                           np->n_input, np->n_output, b->n_input, b->n_output);
        return false;
    }
    r->states = ir_arena_array(ar, r->n_states + 1, sizeof *r->states);
    r->xs = ir_arena_array(ar, r->n_xs, sizeof *r->xs);
    r->in_axes = ir_arena_array(ar, r->n_xs, sizeof *r->in_axes);
    r->in_dirs = ir_arena_array(ar, r->n_xs, sizeof *r->in_dirs);
    for (size_t i = 0; i < r->n_states + r->n_xs; i++) {
        ir_value *v = node_input(c, np, name, first + i);
        if (!v) {
            fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name, "input %zu is missing",
                               first + i);
            return false;
        }
        *(i < r->n_states ? &r->states[i] : &r->xs[i - r->n_states]) = v;
    }
    return true;
}

/* ONNX Scan-9/11/16/19/21: inputs (states..., scan inputs...) with
 * scan_input_axes / scan_input_directions; outputs the final states and
 * the scan outputs stacked along scan_output_axes (reversed where
 * scan_output_directions is 1). */
static void convert_scan9(onnx_ctx *c, const Onnx__NodeProto *np, const char *name)
{
    scan_run r = {0};
    if (!scan_setup(c, np, name, &r, 0))
        return;
    for (size_t j = 0; j < r.n_xs; j++) {
        r.in_axes[j] = ints_attr(np, "scan_input_axes", j, 0);
        r.in_dirs[j] = ints_attr(np, "scan_input_directions", j, 0);
    }
    scan_vals sv = {.n = r.body->n_output - r.n_states};
    if (!scan_unroll(c, np, name, name, &r, &sv))
        return;
    ir_value **res = ir_arena_array(&c->g->arena, np->n_output + 1, sizeof *res);
    memcpy(res, r.states, r.n_states * sizeof *res);
    for (size_t j = 0; j < sv.n; j++) {
        int64_t axis = ints_attr(np, "scan_output_axes", j, 0);
        bool reverse = ints_attr(np, "scan_output_directions", j, 0) != 0;
        if (!(res[r.n_states + j] = scan_vals_stack(c, np, name, &sv, j, axis, reverse)))
            return;
    }
    bind_outputs(c, np, name, res);
}

/* Checks Scan-8's optional sequence_lens: every batch entry must run the
 * whole sequence (loom unrolls one static length). */
static bool scan8_lengths(onnx_ctx *c, const Onnx__NodeProto *np, const char *name,
                          int64_t batch, int64_t len)
{
    ir_value *lens = node_input(c, np, name, 0);
    if (!lens)
        return !(np->n_input > 0 && np->input[0][0]);
    bool ok = lens->data && lens->dtype == IR_DTYPE_I64 && ir_shape_numel(&lens->shape) == batch;
    for (int64_t b = 0; ok && b < batch; b++)
        ok = ((const int64_t *)lens->data)[b] == len;
    if (!ok)
        fe_onnx_node_error(c, LOOM_STATUS_UNSUPPORTED, np, name,
                           "sequence_lens \"%s\" must be a compile-time constant equal to the "
                           "sequence length %" PRId64 " for every batch entry",
                           np->input[0], len);
    return ok;
}

/* Runs Scan-8 on batch entry b of r0: the entry's states and scan inputs
 * (axis 0 of each) scanned along what was axis 1. Writes the final states
 * and stacked scan outputs of the entry to res. */
static bool scan8_entry(onnx_ctx *c, const Onnx__NodeProto *np, const char *name, scan_run *r0,
                        int64_t b, ir_value **res)
{
    ir_arena *ar = &c->g->arena;
    const char *prefix = ir_arena_printf(ar, "%s/batch%" PRId64, name, b);
    scan_run r = *r0;
    r.states = ir_arena_array(ar, r.n_states + 1, sizeof *r.states);
    r.xs = ir_arena_array(ar, r.n_xs, sizeof *r.xs);
    ir_value *idx = const_i64(c, prefix, b);
    for (size_t i = 0; i < r.n_states + r.n_xs; i++) {
        ir_value *whole = i < r.n_states ? r0->states[i] : r0->xs[i - r.n_states];
        ir_value *v = add_op(c, IR_OP_GATHER, prefix, (ir_value *[]){whole, idx}, 2);
        *(i < r.n_states ? &r.states[i] : &r.xs[i - r.n_states]) = v;
    }
    for (size_t j = 0; j < r.n_xs; j++)
        r.in_axes[j] = 0;
    scan_vals sv = {.n = r.body->n_output - r.n_states};
    bool ok = scan_unroll(c, np, name, prefix, &r, &sv);
    r0->cost = r.cost;
    memcpy(res, r.states, r.n_states * sizeof *res);
    for (size_t j = 0; ok && j < sv.n; j++)
        ok = (res[r.n_states + j] = scan_vals_stack(c, np, prefix, &sv, j, 0, false)) != NULL;
    return ok;
}

/* ONNX Scan-8: inputs (sequence_lens, states..., scan inputs...) with a
 * batch axis 0 and the sequence on axis 1, directions per scan input;
 * each batch entry is scanned on its own and the results stacked on axis
 * 0 again. */
static void convert_scan8(onnx_ctx *c, const Onnx__NodeProto *np, const char *name)
{
    scan_run r = {0};
    if (!scan_setup(c, np, name, &r, 1))
        return;
    for (size_t j = 0; j < r.n_xs; j++) {
        r.in_axes[j] = 1;
        r.in_dirs[j] = ints_attr(np, "directions", j, 0);
    }
    const ir_value *x0 = r.xs[0];
    if (!x0->shape_known || x0->shape.rank < 2) {
        fe_onnx_node_error(c, LOOM_STATUS_INVALID_MODEL, np, name,
                           "scan input \"%s\" needs a batch and a sequence axis", x0->name);
        return;
    }
    int64_t batch = x0->shape.dims[0];
    if (!scan8_lengths(c, np, name, batch, x0->shape.dims[1]))
        return;
    size_t n_out = np->n_output;
    ir_value **all = ir_arena_array(&c->g->arena, (size_t)batch * n_out + 1, sizeof *all);
    for (int64_t b = 0; b < batch; b++)
        if (!scan8_entry(c, np, name, &r, b, all + b * (int64_t)n_out))
            return;
    scan_vals per_out = {.vals = all, .n = n_out, .trips = batch, .cap = batch};
    ir_value **res = ir_arena_array(&c->g->arena, n_out + 1, sizeof *res);
    for (size_t j = 0; j < n_out; j++)
        if (!(res[j] = scan_vals_stack(c, np, name, &per_out, j, 0, false)))
            return;
    bind_outputs(c, np, name, res);
}

/* ---- entry ---- */

void fe_onnx_convert_control(onnx_ctx *c, const Onnx__NodeProto *np, const char *name)
{
    loom_status before = c->status;
    if (strcmp(np->op_type, "If") == 0)
        convert_if(c, np, name);
    else if (strcmp(np->op_type, "Loop") == 0)
        convert_loop(c, np, name);
    else if (c->opset && c->opset < 9)
        convert_scan8(c, np, name);
    else
        convert_scan9(c, np, name);
    if (c->status || before)
        fe_onnx_placeholder_outputs(c, np);
}
