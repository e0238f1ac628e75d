/*
 * Shape inference for the indexing ops: GatherND, ScatterND,
 * ScatterElements, OneHot, TopK and Einsum, with the geometry helpers of
 * ir_infer_index.h.
 *
 * Shapes are static in loom: OneHot's depth and TopK's k decide the output
 * shape, so they must be constant by the time inference runs; a runtime
 * value is reported as unsupported, naming the op.
 */
#include <stdio.h>
#include <string.h>

#include "ir_infer_index.h"

/* ---- helpers ---- */

/* Checks that input i has an index dtype: i64, or i32 too when i32_ok
 * (ScatterElements; GatherND and ScatterND take i64 only). */
static loom_status check_index_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                     bool i32_ok)
{
    const ir_value *v = n->inputs[i];
    if (v->dtype == IR_DTYPE_I64 || (i32_ok && v->dtype == IR_DTYPE_I32))
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "input %d (\"%s\") has dtype %s; expected i64%s", i, v->name,
                 ir_dtype_name(v->dtype), i32_ok ? " or i32" : "");
    return LOOM_STATUS_INVALID_MODEL;
}

/* Sets output i (dtype t, shape s) after checking that its size is
 * representable. */
static loom_status set_out(const ir_graph *g, ir_node *n, ir_diag *d, int i, ir_dtype t,
                           const ir_shape *s)
{
    size_t bytes;
    if (s->rank > IR_MAX_RANK || !ir_shape_bytes(s, t, &bytes)) {
        ir_diag_node(d, g, n, "output %d has more than %d dims or is too large", i, IR_MAX_RANK);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_set_output(n, i, t, s);
    return LOOM_STATUS_OK;
}

/* Reports that input i decides the output shape but is only known at run
 * time (a dynamic output shape). */
static loom_status runtime_shape_input(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                       const char *what)
{
    ir_diag_node(d, g, n,
                 "%s (input %d, \"%s\") is not a constant: %s's output shape would depend on "
                 "run-time data, and loom compiles static shapes only",
                 what, i, n->inputs[i]->name, ir_op_name(n->op));
    return LOOM_STATUS_UNSUPPORTED;
}

/* Checks that the constant indices of input i (when constant) lie in
 * [-dim, dim); dim_of(j) is the dim element j indexes. */
static loom_status check_const_range(const ir_graph *g, const ir_node *n, ir_diag *d, int i,
                                     const int64_t *dims, int period)
{
    const ir_value *iv = n->inputs[i];
    int64_t count = ir_shape_numel(&iv->shape);
    for (int64_t e = 0; iv->data && e < count; e++) {
        int64_t k = iv->dtype == IR_DTYPE_I64 ? ((const int64_t *)iv->data)[e]
                                              : ((const int32_t *)iv->data)[e];
        int64_t dim = dims[e % period];
        if (k < -dim || k >= dim) {
            ir_diag_node(d, g, n, "index %lld is out of range for an axis of %lld",
                         (long long)k, (long long)dim);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

ir_scatter_red ir_scatter_reduction(const ir_node *n)
{
    static const char *const names[IR_SCATTER_RED_COUNT] = {"none", "add", "mul", "max", "min"};
    const char *s = ir_attr_string(n, "reduction", "none");
    for (int r = 0; r < IR_SCATTER_RED_COUNT; r++)
        if (strcmp(s, names[r]) == 0)
            return (ir_scatter_red)r;
    return IR_SCATTER_RED_COUNT;
}

static loom_status check_reduction(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    if (ir_scatter_reduction(n) != IR_SCATTER_RED_COUNT)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "reduction \"%s\" is not one of none, add, mul, max, min",
                 ir_attr_string(n, "reduction", ""));
    return LOOM_STATUS_INVALID_MODEL;
}

/* ---- GatherND, ScatterND ---- */

bool ir_nd_geometry(const ir_node *n, int b, ir_nd_geom *geom)
{
    const ir_shape *ds = &n->inputs[0]->shape, *is = &n->inputs[1]->shape;
    int r = ds->rank, q = is->rank;
    if (b < 0 || q < 1 || b >= q || b > r)
        return false;
    int m = (int)is->dims[q - 1];
    if (m < 1 || b + m > r)
        return false;
    *geom = (ir_nd_geom){.batch_dims = b, .m = m, .batch = 1, .rows = 1, .slice = 1};
    for (int i = 0; i < b; i++) {
        if (ds->dims[i] != is->dims[i])
            return false;
        geom->batch *= ds->dims[i];
    }
    for (int i = b; i < q - 1; i++)
        geom->rows *= is->dims[i];
    for (int i = b + m; i < r; i++)
        geom->slice *= ds->dims[i];
    int64_t st[IR_MAX_RANK];
    ir_shape_strides(ds, st);
    for (int j = 0; j < m; j++) {
        geom->dims[j] = ds->dims[b + j];
        geom->strides[j] = st[b + j];
    }
    geom->data_batch_stride = b < r ? ds->dims[b] * st[b] : 1;
    return true;
}

/* Checks data / indices of a GatherND or ScatterND node and resolves the
 * geometry. */
static loom_status nd_check(const ir_graph *g, const ir_node *n, ir_diag *d, int b,
                            ir_nd_geom *geom)
{
    loom_status st = check_index_dtype(g, n, d, 1, false);
    if (st)
        return st;
    if (!ir_nd_geometry(n, b, geom)) {
        char ds[160], is[160];
        ir_shape_format(&n->inputs[0]->shape, ds, sizeof ds);
        ir_shape_format(&n->inputs[1]->shape, is, sizeof is);
        ir_diag_node(d, g, n,
                     "indices %s do not fit data %s with batch_dims %d: need indices of rank "
                     "> batch_dims, the batch dims equal, and 1 <= indices.shape[-1] <= "
                     "rank(data) - batch_dims",
                     is, ds, b);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return check_const_range(g, n, d, 1, geom->dims, geom->m);
}

/* ONNX GatherND-13: output shape indices.shape[:-1] + data.shape[b+m:]. */
loom_status ir_infer_gather_nd(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_nd_geom geom;
    int b = (int)ir_attr_int(n, "batch_dims", 0);
    loom_status st = nd_check(g, n, d, b, &geom);
    if (st)
        return st;
    const ir_shape *ds = &n->inputs[0]->shape, *is = &n->inputs[1]->shape;
    ir_shape out = {.rank = is->rank - 1 + ds->rank - b - geom.m};
    if (out.rank > IR_MAX_RANK)
        return set_out(g, n, d, 0, n->inputs[0]->dtype, &out);
    int k = 0;
    for (int i = 0; i < is->rank - 1; i++)
        out.dims[k++] = is->dims[i];
    for (int i = b + geom.m; i < ds->rank; i++)
        out.dims[k++] = ds->dims[i];
    return set_out(g, n, d, 0, n->inputs[0]->dtype, &out);
}

/* Checks that updates (input 2) has data's dtype and the shape want. */
static loom_status check_updates(const ir_graph *g, const ir_node *n, ir_diag *d,
                                 const ir_shape *want)
{
    const ir_value *x = n->inputs[0], *u = n->inputs[2];
    if (u->dtype != x->dtype) {
        ir_diag_node(d, g, n, "updates has dtype %s, data %s", ir_dtype_name(u->dtype),
                     ir_dtype_name(x->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!ir_shape_equal(&u->shape, want)) {
        char got[160], exp[160];
        ir_shape_format(&u->shape, got, sizeof got);
        ir_shape_format(want, exp, sizeof exp);
        ir_diag_node(d, g, n, "updates has shape %s, expected %s", got, exp);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* ONNX ScatterND-18: updates of shape indices.shape[:-1] + data.shape[m:];
 * the output is data with the addressed slices replaced or combined. */
loom_status ir_infer_scatter_nd(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_nd_geom geom;
    loom_status st = check_reduction(g, n, d);
    if (st || (st = nd_check(g, n, d, 0, &geom)))
        return st;
    const ir_shape *ds = &n->inputs[0]->shape, *is = &n->inputs[1]->shape;
    ir_shape want = {.rank = is->rank - 1 + ds->rank - geom.m};
    if (want.rank > IR_MAX_RANK)
        return set_out(g, n, d, 0, n->inputs[0]->dtype, &want);
    int k = 0;
    for (int i = 0; i < is->rank - 1; i++)
        want.dims[k++] = is->dims[i];
    for (int i = geom.m; i < ds->rank; i++)
        want.dims[k++] = ds->dims[i];
    if ((st = check_updates(g, n, d, &want)))
        return st;
    return set_out(g, n, d, 0, n->inputs[0]->dtype, ds);
}

/* ---- ScatterElements ---- */

/* ONNX ScatterElements-18 (and Scatter-9): indices and updates of one
 * shape and data's rank; index dims other than axis within data's. */
loom_status ir_infer_scatter_elements(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    loom_status st = check_reduction(g, n, d);
    if (st || (st = check_index_dtype(g, n, d, 1, true)) || (st = check_updates(g, n, d, &iv->shape)))
        return st;
    int axis, r = x->shape.rank;
    if (r < 1 || iv->shape.rank != r) {
        ir_diag_node(d, g, n, "data has rank %d and indices rank %d; need the same rank >= 1", r,
                     iv->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), r, &axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for rank %d",
                     (long long)ir_attr_int(n, "axis", 0), r);
        return LOOM_STATUS_INVALID_MODEL;
    }
    for (int i = 0; i < r; i++)
        if (iv->shape.dims[i] > x->shape.dims[i]) {
            ir_diag_node(d, g, n, "indices dim %d (%lld) exceeds data's (%lld)", i,
                         (long long)iv->shape.dims[i], (long long)x->shape.dims[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    if ((st = check_const_range(g, n, d, 1, &x->shape.dims[axis], 1)))
        return st;
    return set_out(g, n, d, 0, x->dtype, &x->shape);
}

/* ---- OneHot ---- */

/* Reads element 0 of a constant numeric value as an integer (floats
 * truncated, as onnxruntime casts them). */
static bool const_scalar_int(const ir_value *v, int64_t *out)
{
    if (!v->data || ir_shape_numel(&v->shape) != 1 || v->dtype == IR_DTYPE_BOOL)
        return false;
    switch (v->dtype) {
    case IR_DTYPE_F32: *out = (int64_t)((const float *)v->data)[0]; return true;
    case IR_DTYPE_F64: *out = (int64_t)((const double *)v->data)[0]; return true;
    default: break;
    }
    int64_t k[1];
    if (ir_const_ints(v, k, 1) == 1) {
        *out = k[0];
        return true;
    }
    switch (v->dtype) {
    case IR_DTYPE_I8: *out = ((const int8_t *)v->data)[0]; return true;
    case IR_DTYPE_U8: *out = ((const uint8_t *)v->data)[0]; return true;
    default: return false;
    }
}

bool ir_onehot_depth(const ir_node *n, int64_t *depth)
{
    return const_scalar_int(n->inputs[1], depth);
}

/* ONNX OneHot-11: output rank(indices) + 1 with depth inserted at axis
 * (default -1: last), dtype of values ([off, on]). */
loom_status ir_infer_one_hot(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *iv = n->inputs[0], *vv = n->inputs[2];
    int64_t depth;
    if (iv->dtype == IR_DTYPE_BOOL || n->inputs[1]->dtype == IR_DTYPE_BOOL) {
        ir_diag_node(d, g, n, "indices and depth must be numeric, not bool");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!n->inputs[1]->data)
        return runtime_shape_input(g, n, d, 1, "depth");
    if (!ir_onehot_depth(n, &depth) || depth < 1) {
        ir_diag_node(d, g, n, "depth must hold one value >= 1");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (ir_shape_numel(&vv->shape) != 2 || vv->shape.rank != 1) {
        ir_diag_node(d, g, n, "values must be a 1-D tensor [off_value, on_value]");
        return LOOM_STATUS_INVALID_MODEL;
    }
    int r = iv->shape.rank + 1, axis;
    if (r > IR_MAX_RANK || !ir_normalize_axis(ir_attr_int(n, "axis", -1), r, &axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for an output of rank %d",
                     (long long)ir_attr_int(n, "axis", -1), r);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape out = {.rank = r};
    for (int i = 0, k = 0; i < r; i++)
        out.dims[i] = i == axis ? depth : iv->shape.dims[k++];
    return set_out(g, n, d, 0, vv->dtype, &out);
}

/* ---- TopK ---- */

bool ir_topk_k(const ir_node *n, int64_t *k)
{
    int64_t v[1];
    if (n->n_inputs < 2 || !n->inputs[1]) {
        *k = ir_attr_int(n, "k", -1);
        return true;
    }
    if (ir_const_ints(n->inputs[1], v, 1) != 1)
        return false;
    *k = v[0];
    return true;
}

/* ONNX TopK-11: the k largest (smallest) elements along axis and their
 * i64 indices; both outputs have the input's shape with k on axis. */
loom_status ir_infer_top_k(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int64_t k;
    int axis;
    if (ir_input(n, 1) && !n->inputs[1]->data)
        return runtime_shape_input(g, n, d, 1, "k");
    if (!ir_topk_k(n, &k)) {
        ir_diag_node(d, g, n, "k must be a 1-D i64 tensor of one value");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (x->dtype == IR_DTYPE_BOOL) {
        ir_diag_node(d, g, n, "input has dtype bool; expected a numeric dtype");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!ir_normalize_axis(ir_attr_int(n, "axis", -1), x->shape.rank, &axis)) {
        ir_diag_node(d, g, n, "axis %lld is out of range for rank %d",
                     (long long)ir_attr_int(n, "axis", -1), x->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (k < 0 || k > x->shape.dims[axis]) {
        ir_diag_node(d, g, n, "k = %lld is outside [0, %lld] (the axis' size)", (long long)k,
                     (long long)x->shape.dims[axis]);
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape out = x->shape;
    out.dims[axis] = k;
    loom_status st = set_out(g, n, d, 0, x->dtype, &out);
    if (st == LOOM_STATUS_OK && ir_output(n, 1))
        st = set_out(g, n, d, 1, IR_DTYPE_I64, &out);
    return st;
}
