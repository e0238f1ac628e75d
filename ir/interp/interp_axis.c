/*
 * Interpreter kernels of ArgMax / ArgMin, Hardmax and CumSum
 * (ir_infer_axis.c) over the [outer, len, inner] view of ir_axis_view_of,
 * and EyeLike.
 */
#include "interp_internal.h"
#include "ir_axis.h"

/* Index along the view of the extreme element at (o, i): the first one,
 * or the last with select_last_index; max for ArgMax and Hardmax. */
static int64_t extreme(const void *px, ir_dtype t, const ir_axis_view *v, int64_t o, int64_t i,
                       bool max, bool last)
{
    int64_t best = 0, base = o * v->len * v->inner + i;
    double bv = interp_load_f(px, t, base);
    for (int64_t k = 1; k < v->len; k++) {
        double x = interp_load_f(px, t, base + k * v->inner);
        bool take = max ? (last ? x >= bv : x > bv) : (last ? x <= bv : x < bv);
        if (take)
            best = k, bv = x;
    }
    return best;
}

/* ONNX ArgMax/ArgMin-13 (select_last_index); i64 output. */
loom_status interp_arg_max(interp_ctx *c, const ir_node *n)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st)
        return st;
    bool max = n->op == IR_OP_ARG_MAX, last = ir_attr_int(n, "select_last_index", 0) != 0;
    int64_t *y = interp_out(c, n, 0);
    for (int64_t o = 0; o < v.outer; o++)
        for (int64_t i = 0; i < v.inner; i++)
            y[o * v.inner + i] = extreme(interp_in(c, n, 0), n->inputs[0]->dtype, &v, o, i, max,
                                         last);
    return LOOM_STATUS_OK;
}

/* ONNX Hardmax-13: 1 at the first maximum along the axis, 0 elsewhere. */
loom_status interp_hardmax(interp_ctx *c, const ir_node *n)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st)
        return st;
    ir_dtype t = n->inputs[0]->dtype;
    void *y = interp_out(c, n, 0);
    for (int64_t o = 0; o < v.outer; o++)
        for (int64_t i = 0; i < v.inner; i++) {
            int64_t best = v.len ? extreme(interp_in(c, n, 0), t, &v, o, i, true, false) : 0;
            for (int64_t k = 0; k < v.len; k++)
                interp_store_f(y, t, (o * v.len + k) * v.inner + i, k == best);
        }
    return LOOM_STATUS_OK;
}

/* ONNX CumSum-14: running sums along the axis, from the end with reverse,
 * each excluding its own element with exclusive; integers wrap. */
loom_status interp_cum_sum(interp_ctx *c, const ir_node *n)
{
    ir_axis_view v;
    loom_status st = ir_axis_view_of(c->g, n, &v, c->d);
    if (st)
        return st;
    ir_dtype t = n->inputs[0]->dtype;
    bool fl = t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
    bool rev = ir_attr_int(n, "reverse", 0) != 0, excl = ir_attr_int(n, "exclusive", 0) != 0;
    const void *px = interp_in(c, n, 0);
    void *py = interp_out(c, n, 0);
    for (int64_t o = 0; o < v.outer; o++)
        for (int64_t i = 0; i < v.inner; i++) {
            double fs = 0;
            uint64_t is = 0;
            for (int64_t k = 0; k < v.len; k++) {
                int64_t e = (o * v.len + (rev ? v.len - 1 - k : k)) * v.inner + i;
                double fx = fl ? interp_load_f(px, t, e) : 0;
                uint64_t ix = fl ? 0 : (uint64_t)interp_load_i(px, t, e);
                if (!excl)
                    fs += fx, is += ix;
                if (fl)
                    interp_store_f(py, t, e, fs);
                else
                    interp_store_i(py, t, e, (int64_t)is);
                if (excl)
                    fs += fx, is += ix;
            }
        }
    return LOOM_STATUS_OK;
}

/* ONNX EyeLike-9: ones where column - row == k, zeros elsewhere. */
loom_status interp_eye_like(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    int64_t rows = y->shape.dims[0], cols = y->shape.dims[1], k = ir_attr_int(n, "k", 0);
    bool fl = y->dtype == IR_DTYPE_F32 || y->dtype == IR_DTYPE_F64;
    void *py = interp_out(c, n, 0);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            if (fl)
                interp_store_f(py, y->dtype, i * cols + j, j - i == k);
            else
                interp_store_i(py, y->dtype, i * cols + j, j - i == k);
        }
    return LOOM_STATUS_OK;
}
