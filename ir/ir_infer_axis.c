/*
 * Shape inference for the ops that work along one axis by position:
 * ArgMax / ArgMin, Hardmax and CumSum, and the ir_axis_view_of geometry
 * they share with the interpreter and the lowering; and EyeLike, which
 * writes by position too.
 */
#include "ir_axis.h"

/* CumSum-14's axis: a constant scalar (or one-element) integer input. */
static loom_status cumsum_axis(const ir_graph *g, const ir_node *n, int64_t *axis, ir_diag *d)
{
    const ir_value *a = n->inputs[1];
    int64_t v[1];
    if (!a->data || ir_const_ints(a, v, 1) != 1) {
        ir_diag_node(d, g, n, "axis (\"%s\") must be a constant i64 or i32 scalar%s", a->name,
                     a->data ? "" : "; loom needs it at compile time");
        return a->data ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    }
    *axis = v[0];
    return LOOM_STATUS_OK;
}

loom_status ir_axis_view_of(const ir_graph *g, const ir_node *n, ir_axis_view *v, ir_diag *d)
{
    const ir_shape *s = &n->inputs[0]->shape;
    if (n->op == IR_OP_HARDMAX) {
        v->axis = -1;
        if (!ir_softmax_geometry(n, s, &v->outer, &v->len, &v->inner)) {
            ir_diag_node(d, g, n, "axis %lld is out of range for rank %d",
                         (long long)ir_attr_int(n, "axis", -1), s->rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
        return LOOM_STATUS_OK;
    }
    int64_t axis = ir_attr_int(n, "axis", 0);
    loom_status st = n->op == IR_OP_CUM_SUM ? cumsum_axis(g, n, &axis, d) : LOOM_STATUS_OK;
    if (st)
        return st;
    if (!ir_normalize_axis(axis, s->rank, &v->axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for rank %d", (long long)axis, s->rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    v->outer = v->len = v->inner = 1;
    for (int i = 0; i < s->rank; i++)
        *(i < v->axis ? &v->outer : i == v->axis ? &v->len : &v->inner) *= s->dims[i];
    return LOOM_STATUS_OK;
}

/* ONNX ArgMax/ArgMin-13: i64 indices along axis, kept as a 1 with
 * keepdims (default 1); the axis must not be empty. */
loom_status ir_infer_arg_max(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_axis_view v;
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_NUMERIC);
    if (!st)
        st = ir_axis_view_of(g, n, &v, d);
    if (st)
        return st;
    const ir_shape *x = &n->inputs[0]->shape;
    if (x->dims[v.axis] == 0) {
        ir_diag_node(d, g, n, "axis %d is empty; there is no index to return", v.axis);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape s = *x;
    if (ir_attr_int(n, "keepdims", 1)) {
        s.dims[v.axis] = 1;
    } else {
        for (int i = v.axis; i + 1 < s.rank; i++)
            s.dims[i] = s.dims[i + 1];
        s.rank--;
    }
    return ir_set_output_checked(g, n, d, 0, IR_DTYPE_I64, &s);
}

/* ONNX Hardmax-13 (coerce_2d: opsets 1-11): X's shape and dtype. */
loom_status ir_infer_hardmax(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_axis_view v;
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_FLOAT);
    if (!st)
        st = ir_axis_view_of(g, n, &v, d);
    return st ? st
              : ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}

/* ONNX CumSum-14: f32, f64, i32, i64; X's shape and dtype. */
loom_status ir_infer_cum_sum(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_axis_view v;
    loom_status st = ir_check_input_dtype(g, n, d, 0, IR_DT_FLOAT | IR_DT(I64) | IR_DT(I32));
    if (!st)
        st = ir_axis_view_of(g, n, &v, d);
    return st ? st
              : ir_set_output_checked(g, n, d, 0, n->inputs[0]->dtype, &n->inputs[0]->shape);
}

/* ONNX EyeLike-9: a 2-D input's shape, dtype the dtype attribute (an ONNX
 * type code) or the input's. */
loom_status ir_infer_eye_like(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int64_t code = ir_attr_int(n, "dtype", 0);
    ir_dtype t = code ? (code > 0 && code <= 64 ? ir_dtype_from_onnx((int)code) : IR_DTYPE_COUNT)
                      : x->dtype;
    if (t == IR_DTYPE_COUNT) {
        ir_diag_node(d, g, n, "dtype %lld is not supported", (long long)code);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (x->shape.rank != 2) {
        ir_diag_node(d, g, n, "input \"%s\" has rank %d; expected 2", x->name, x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return ir_set_output_checked(g, n, d, 0, t, &x->shape);
}
