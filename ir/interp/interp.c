/*
 * Interpreter driver: walks the nodes in order, allocates each output when
 * its producer runs and frees each intermediate after its last use, and
 * dispatches to the kernel generated from IR_OPS.
 */
#include <string.h>

#include "interp_internal.h"
#include "loomrt.h"
#include "ir_fused.h"

typedef loom_status (*kernel_fn)(interp_ctx *c, const ir_node *n);

static const kernel_fn kernel_table[IR_OP_COUNT] = {
#define INTERP_ENTRY(e, name, mi, ma, mo, mao, fn, attrs) interp_##fn,
    IR_OPS(INTERP_ENTRY)
#undef INTERP_ENTRY
};

/* The fused epilogue (ir_fused.h) on n's output, in place:
 * y = act(y + bias[i % N] + residual). */
static void apply_epilogue(interp_ctx *c, const ir_node *n)
{
    ir_epilogue e;
    ir_epilogue_of(n, &e);
    const ir_value *yv = n->outputs[0];
    void *y = interp_out(c, n, 0);
    const void *bias = e.bias ? interp_value_data(c, e.bias) : NULL;
    const void *res = e.residual ? interp_value_data(c, e.residual) : NULL;
    int64_t total = ir_shape_numel(&yv->shape);
    int64_t nn = e.bias ? e.bias->shape.dims[0] : 1;
    for (int64_t i = 0; i < total; i++) {
        double v = interp_load_f(y, yv->dtype, i);
        if (bias)
            v += interp_load_f(bias, e.bias->dtype, i % nn);
        if (res)
            v += interp_load_f(res, e.residual->dtype, i);
        interp_store_f(y, yv->dtype, i, ir_act_apply(e.act, e.alpha, e.beta, v));
    }
}

/* The op's kernel, then its fused epilogue if it has one. */
static loom_status run_kernel(interp_ctx *c, const ir_node *n)
{
    loom_status st = kernel_table[n->op](c, n);
    if (!st && ir_epilogue_present(n))
        apply_epilogue(c, n);
    return st;
}

loom_status interp_no_case(interp_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "internal error: the interpreter has no case for %s",
                 ir_op_name(n->op));
    return LOOM_STATUS_INTERNAL;
}

double interp_load_f(const void *p, ir_dtype t, int64_t i)
{
    switch (t) {
    case IR_DTYPE_F32: return ((const float *)p)[i];
    case IR_DTYPE_F64: return ((const double *)p)[i];
    case IR_DTYPE_I64: return (double)((const int64_t *)p)[i];
    case IR_DTYPE_I32: return ((const int32_t *)p)[i];
    case IR_DTYPE_I8: return ((const int8_t *)p)[i];
    case IR_DTYPE_U8: return ((const uint8_t *)p)[i];
    case IR_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    case IR_DTYPE_F16: return loomrt_f16_to_f32(((const uint16_t *)p)[i]);
    case IR_DTYPE_BF16: return loomrt_bf16_to_f32(((const uint16_t *)p)[i]);
    case IR_DTYPE_COUNT: break;
    }
    return 0;
}

/* f64 -> f16/bf16 rounds through f32, as the backends' casts do. */
void interp_store_f(void *p, ir_dtype t, int64_t i, double x)
{
    switch (t) {
    case IR_DTYPE_F32: ((float *)p)[i] = (float)x; break;
    case IR_DTYPE_F64: ((double *)p)[i] = x; break;
    case IR_DTYPE_I64: ((int64_t *)p)[i] = (int64_t)x; break;
    case IR_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)x; break;
    case IR_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)x; break;
    case IR_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)x; break;
    case IR_DTYPE_BOOL: ((uint8_t *)p)[i] = x != 0; break;
    case IR_DTYPE_F16: ((uint16_t *)p)[i] = loomrt_f32_to_f16((float)x); break;
    case IR_DTYPE_BF16: ((uint16_t *)p)[i] = loomrt_f32_to_bf16((float)x); break;
    case IR_DTYPE_COUNT: break;
    }
}

int64_t interp_load_i(const void *p, ir_dtype t, int64_t i)
{
    switch (t) {
    case IR_DTYPE_F32: return (int64_t)((const float *)p)[i];
    case IR_DTYPE_F64: return (int64_t)((const double *)p)[i];
    case IR_DTYPE_I64: return ((const int64_t *)p)[i];
    case IR_DTYPE_I32: return ((const int32_t *)p)[i];
    case IR_DTYPE_I8: return ((const int8_t *)p)[i];
    case IR_DTYPE_U8: return ((const uint8_t *)p)[i];
    case IR_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    case IR_DTYPE_F16:
    case IR_DTYPE_BF16: return (int64_t)interp_load_f(p, t, i);
    case IR_DTYPE_COUNT: break;
    }
    return 0;
}

void interp_store_i(void *p, ir_dtype t, int64_t i, int64_t x)
{
    switch (t) {
    case IR_DTYPE_F32: ((float *)p)[i] = (float)x; break;
    case IR_DTYPE_F64: ((double *)p)[i] = (double)x; break;
    case IR_DTYPE_I64: ((int64_t *)p)[i] = x; break;
    case IR_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)x; break;
    case IR_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)x; break;
    case IR_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)x; break;
    case IR_DTYPE_BOOL: ((uint8_t *)p)[i] = x != 0; break;
    case IR_DTYPE_F16:
    case IR_DTYPE_BF16: interp_store_f(p, t, i, (double)x); break;
    case IR_DTYPE_COUNT: break;
    }
}

/* True if the driver owns v's buffer (neither constant, input nor output). */
static bool owned(const ir_value *v)
{
    return v && !v->data && !v->is_input && !v->is_output;
}

/* Allocates zeroed buffers for n's owned outputs. */
static loom_status alloc_outputs(interp_ctx *c, const ir_node *n)
{
    for (int i = 0; i < n->n_outputs; i++) {
        ir_value *v = n->outputs[i];
        if (!owned(v))
            continue;
        c->data[v->id] = ir_calloc(1, ir_value_bytes(v));
        if (!c->data[v->id]) {
            ir_diag_node(c->d, c->g, n, "out of memory for output \"%s\"", v->name);
            return LOOM_STATUS_NOMEM;
        }
    }
    return LOOM_STATUS_OK;
}

/* last_use[v] = index of the last node reading v (or producing it, if unread). */
static void compute_last_use(const ir_graph *g, int *last_use)
{
    for (int i = 0; i < g->n_values; i++)
        last_use[i] = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        const ir_node *n = g->nodes[k];
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i])
                last_use[n->inputs[i]->id] = k;
        for (int i = 0; i < n->n_outputs; i++)
            if (n->outputs[i] && last_use[n->outputs[i]->id] < k)
                last_use[n->outputs[i]->id] = k;
    }
}

/* Binds graph inputs and outputs to the caller's buffers. Outputs that are
 * also inputs or constants are copied at the end instead. */
static void bind_io(interp_ctx *c, const void *const *inputs, void *const *outputs)
{
    const ir_graph *g = c->g;
    for (int i = 0; i < g->n_inputs; i++)
        c->data[g->inputs[i]->id] = (void *)inputs[i];
    for (int i = 0; i < g->n_outputs; i++) {
        ir_value *v = g->outputs[i];
        if (!v->is_input && !v->data && !c->data[v->id])
            c->data[v->id] = outputs[i];
    }
}

static void copy_outputs(interp_ctx *c, void *const *outputs)
{
    const ir_graph *g = c->g;
    for (int i = 0; i < g->n_outputs; i++) {
        const ir_value *v = g->outputs[i];
        const void *src = interp_value_data(c, v);
        if (src != outputs[i])
            memcpy(outputs[i], src, ir_value_bytes(v));
    }
}

loom_status interp_run(const ir_graph *g, const void *const *inputs, void *const *outputs,
                       ir_diag *d)
{
    size_t nv = (size_t)(g->n_values ? g->n_values : 1);
    interp_ctx c = {.g = g, .data = ir_calloc(nv, sizeof(void *)), .d = d};
    int *last_use = ir_calloc(nv, sizeof *last_use);
    loom_status st = LOOM_STATUS_OK;
    if (!c.data || !last_use) {
        ir_diag_graph(d, g, "out of memory in the interpreter");
        st = LOOM_STATUS_NOMEM;
        goto done;
    }
    compute_last_use(g, last_use);
    bind_io(&c, inputs, outputs);
    for (int k = 0; k < g->n_nodes && !st; k++) {
        const ir_node *n = g->nodes[k];
        st = alloc_outputs(&c, n);
        if (!st)
            st = run_kernel(&c, n);
        /* free what died at this node: only its operands can have */
        for (int i = 0; i < n->n_inputs + n->n_outputs; i++) {
            ir_value *v = i < n->n_inputs ? n->inputs[i] : n->outputs[i - n->n_inputs];
            if (owned(v) && last_use[v->id] == k && c.data[v->id]) {
                ir_free(c.data[v->id]);
                c.data[v->id] = NULL;
            }
        }
    }
    if (!st)
        copy_outputs(&c, outputs);
done:
    if (c.data)
        for (int i = 0; i < g->n_values; i++)
            if (owned(g->values[i]))
                ir_free(c.data[i]);
    ir_free(c.data);
    ir_free(last_use);
    return st;
}

loom_status interp_eval_node(ir_graph *g, ir_node *n, ir_diag *d)
{
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !n->inputs[i]->data) {
            ir_diag_node(d, g, n, "input \"%s\" is not constant", n->inputs[i]->name);
            return LOOM_STATUS_INTERNAL;
        }
    /* outputs go straight into the arena, which longjmps on failure to the
     * caller's handler: allocate them before anything that would leak */
    void **outs = ir_arena_array(&g->arena, (size_t)n->n_outputs + 1, sizeof *outs);
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i])
            outs[i] = ir_arena_alloc(&g->arena, ir_value_bytes(n->outputs[i]));
    size_t nv = (size_t)(g->n_values ? g->n_values : 1);
    interp_ctx c = {.g = g, .data = ir_calloc(nv, sizeof(void *)), .d = d};
    if (!c.data) {
        ir_diag_node(d, g, n, "out of memory in the interpreter");
        return LOOM_STATUS_NOMEM;
    }
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i])
            c.data[n->outputs[i]->id] = outs[i];
    loom_status st = run_kernel(&c, n);
    if (!st)
        for (int i = 0; i < n->n_outputs; i++)
            if (n->outputs[i])
                n->outputs[i]->data = outs[i];
    ir_free(c.data);
    return st;
}
