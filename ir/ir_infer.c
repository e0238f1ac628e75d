/*
 * Shape inference driver: checks arity and that inputs are known, then
 * dispatches to the per-op function generated from IR_OPS. Also the helpers
 * shared by the per-op files.
 */
#include <stdio.h>
#include <string.h>

#include "ir_fused.h"
#include "ir_infer.h"

typedef loom_status (*infer_fn)(ir_graph *g, ir_node *n, ir_diag *d);

static const infer_fn infer_table[IR_OP_COUNT] = {
#define IR_INFER_ENTRY(e, name, mi, ma, mo, mao, fn, attrs) ir_infer_##fn,
    IR_OPS(IR_INFER_ENTRY)
#undef IR_INFER_ENTRY
};

/* Checks input/output counts against the op table. */
static loom_status check_arity(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_op_info *info = &ir_op_table[n->op];
    if (n->n_inputs < info->min_inputs ||
        (info->max_inputs >= 0 && n->n_inputs > info->max_inputs)) {
        ir_diag_node(d, g, n, "has %d inputs, expected %d to %d", n->n_inputs, info->min_inputs,
                     info->max_inputs);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n->n_outputs < info->min_outputs ||
        (info->max_outputs >= 0 && n->n_outputs > info->max_outputs)) {
        ir_diag_node(d, g, n, "has %d outputs, expected %d to %d", n->n_outputs,
                     info->min_outputs, info->max_outputs);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < info->min_inputs; i++)
        if (!n->inputs[i]) {
            ir_diag_node(d, g, n, "required input %d is missing", i);
            return LOOM_STATUS_INVALID_MODEL;
        }
    return LOOM_STATUS_OK;
}

loom_status ir_infer_node(ir_graph *g, ir_node *n, ir_diag *d)
{
    if ((unsigned)n->op >= IR_OP_COUNT)
        return LOOM_STATUS_INTERNAL;
    loom_status st = check_arity(g, n, d);
    if (st)
        return st;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !n->inputs[i]->shape_known) {
            ir_diag_node(d, g, n, "input \"%s\" has no known shape", n->inputs[i]->name);
            return LOOM_STATUS_INVALID_MODEL;
        }
    st = infer_table[n->op](g, n, d);
    if (!st && ir_op_has_epilogue(n->op))
        st = ir_epilogue_check(g, n, d);
    return st;
}

loom_status ir_infer_graph(ir_graph *g, ir_diag *d)
{
    for (int i = 0; i < g->n_nodes; i++) {
        loom_status st = ir_infer_node(g, g->nodes[i], d);
        if (st)
            return st;
    }
    return LOOM_STATUS_OK;
}

void ir_set_output(ir_node *n, int i, ir_dtype dtype, const ir_shape *shape)
{
    ir_value *v = ir_output(n, i);
    if (!v)
        return;
    v->dtype = dtype;
    ir_value_set_shape(v, shape->rank, shape->dims);
}

loom_status ir_check_input_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                 unsigned allowed)
{
    const ir_value *v = ir_input(n, i);
    if (!v || (allowed & (1u << v->dtype)))
        return LOOM_STATUS_OK;
    char list[96] = "";
    size_t at = 0;
    for (int t = 0; t < IR_DTYPE_COUNT; t++)
        if (allowed & (1u << t))
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? ", " : "",
                                   ir_dtype_name((ir_dtype)t));
    ir_diag_node(d, g, n, "input %d (\"%s\") has dtype %s; expected one of %s", i, v->name,
                 ir_dtype_name(v->dtype), list);
    return LOOM_STATUS_INVALID_MODEL;
}

loom_status ir_set_output_checked(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                                  const ir_shape *s)
{
    size_t bytes;
    if (!ir_shape_bytes(s, t, &bytes)) {
        char buf[160];
        ir_shape_format(s, buf, sizeof buf);
        ir_diag_node(d, g, n, "output shape %s is too large", buf);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_set_output(n, i, t, s);
    return LOOM_STATUS_OK;
}

bool ir_broadcast_shapes(const ir_shape *a, const ir_shape *b, ir_shape *out)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    ir_shape r = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            r.dims[i] = da;
        else if (da == 1)
            r.dims[i] = db;
        else
            return false;
    }
    *out = r;
    return true;
}

void ir_bcast_strides(const ir_shape *from, const ir_shape *to, int64_t str[IR_MAX_RANK])
{
    int64_t s = 1;
    for (int i = to->rank - 1; i >= 0; i--) {
        int j = i - (to->rank - from->rank);
        int64_t dim = j >= 0 ? from->dims[j] : 1;
        str[i] = dim == 1 ? 0 : s;
        s *= dim;
    }
}

bool ir_normalize_axis(int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

int ir_const_ints(const ir_value *v, int64_t *out, int max)
{
    if (!v || !v->data || !v->shape_known || v->shape.rank > 1)
        return -1;
    int64_t n = ir_shape_numel(&v->shape);
    if (n > max)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        if (v->dtype == IR_DTYPE_I64)
            memcpy(&out[i], (const char *)v->data + i * 8, 8);
        else if (v->dtype == IR_DTYPE_I32) {
            int32_t x;
            memcpy(&x, (const char *)v->data + i * 4, 4);
            out[i] = x;
        } else
            return -1;
    }
    return (int)n;
}
