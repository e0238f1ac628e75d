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

/* Checks that input i has dtype i64 (the indices of GatherND, ScatterND,
 * MaxUnpool; ReverseSequence's lengths). */
static loom_status check_index_dtype(const ir_graph *g, const ir_node *n, ir_diag *d, int i)
{
    const ir_value *v = n->inputs[i];
    if (v->dtype == IR_DTYPE_I64)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "input %d (\"%s\") has dtype %s; expected i64", i, v->name,
                 ir_dtype_name(v->dtype));
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
    loom_status st = check_index_dtype(g, n, d, 1);
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

/* ONNX ScatterElements-18 (and Scatter-9): data and indices as for
 * GatherElements (same rank, index dims within data's off the axis,
 * constant indices in range), updates of the indices' shape; the output
 * has data's shape. */
loom_status ir_infer_scatter_elements(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    loom_status st = check_reduction(g, n, d);
    if (st || (st = ir_infer_gather_elements(g, n, d)) ||
        (st = check_updates(g, n, d, &iv->shape)))
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

/* ---- Einsum ---- */

/* Symbol codes while parsing: letters 'A'-'Z' 0..25, 'a'-'z' 26..51;
 * ellipsis dim t (of E, right-aligned across operands) 52 + t. */
#define EIN_LETTERS 52
#define EIN_CODES (EIN_LETTERS + IR_MAX_RANK)

typedef struct ein_term {
    int n;                   /* symbols, ellipsis expanded */
    int code[IR_MAX_RANK];
    int ell_at, ell_len;     /* where "..." stands and how many dims (-1: none) */
} ein_term;

typedef struct ein_parse {
    const ir_graph *g;
    const ir_node *n;
    ir_diag *d;
} ein_parse;

static loom_status ein_fail(const ein_parse *p, const char *why)
{
    if (p->d)
        ir_diag_node(p->d, p->g, p->n, "equation \"%s\": %s", ir_attr_string(p->n, "equation", ""),
                     why);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Parses one term of s (up to ',', '-' or the end; spaces skipped) for an
 * operand of the given rank (-1: the output, whose ellipsis has ell_dims
 * dims); advances *s. */
static loom_status ein_term_parse(const ein_parse *p, const char **s, int rank, int ell_dims,
                                  ein_term *t)
{
    int letters = 0;
    t->ell_at = -1;
    int codes[IR_MAX_RANK + 1];
    for (; **s && **s != ',' && **s != '-'; (*s)++) {
        char ch = **s;
        if (ch == ' ')
            continue;
        if (ch == '.') {
            if (t->ell_at >= 0 || strncmp(*s, "...", 3) != 0)
                return ein_fail(p, "a '.' that is not one \"...\"");
            t->ell_at = letters;
            *s += 2;
        } else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')) {
            if (letters == IR_MAX_RANK)
                return ein_fail(p, "a term has too many labels");
            codes[letters++] = ch >= 'a' ? ch - 'a' + 26 : ch - 'A';
        } else {
            return ein_fail(p, "a character that is not a letter, ',', \"...\" or \"->\"");
        }
    }
    int ell = t->ell_at < 0 ? 0 : rank >= 0 ? rank - letters : ell_dims;
    if (rank >= 0 && (ell < 0 || (t->ell_at < 0 && letters != rank)))
        return ein_fail(p, "a term's label count differs from its operand's rank");
    if (letters + ell > IR_MAX_RANK)
        return ein_fail(p, "a term has too many dims");
    t->ell_len = t->ell_at < 0 ? -1 : ell;
    t->n = 0;
    for (int i = 0; i <= letters; i++) {
        if (i == t->ell_at)
            for (int k = 0; k < ell; k++)
                t->code[t->n++] = -1 - k; /* resolved once E is known */
        if (i < letters)
            t->code[t->n++] = codes[i];
    }
    return LOOM_STATUS_OK;
}

/* Right-aligns each operand's ellipsis dims among the E of all. */
static void ein_resolve_ellipsis(ein_term *t, int E)
{
    for (int i = 0; i < t->n; i++)
        if (t->code[i] < 0)
            t->code[i] = EIN_LETTERS + E - t->ell_len + (-1 - t->code[i]);
}

/* The implicit output (no "->"): the ellipsis dims, then the letters that
 * appear once over all inputs, in alphabetical (ASCII) order. */
static void ein_implicit_output(const ein_term *ins, int n_in, int E, ein_term *out)
{
    int count[EIN_CODES] = {0};
    for (int k = 0; k < n_in; k++)
        for (int i = 0; i < ins[k].n; i++)
            count[ins[k].code[i]]++;
    out->n = 0;
    for (int t = 0; t < E; t++)
        out->code[out->n++] = EIN_LETTERS + t;
    for (int c = 0; c < EIN_LETTERS && out->n < IR_MAX_RANK; c++)
        if (count[c] == 1)
            out->code[out->n++] = c;
}

/* Splits the equation into input terms and the output term. */
static loom_status ein_terms(const ein_parse *p, ein_term *ins, ein_term *out, int *E)
{
    const char *s = ir_attr_string(p->n, "equation", NULL);
    if (!s)
        return ein_fail(p, "missing");
    *E = 0;
    for (int k = 0; k < p->n->n_inputs; k++) {
        loom_status st = ein_term_parse(p, &s, p->n->inputs[k]->shape.rank, 0, &ins[k]);
        if (st)
            return st;
        *E = ins[k].ell_len > *E ? ins[k].ell_len : *E;
        if (k + 1 < p->n->n_inputs && *s++ != ',')
            return ein_fail(p, "fewer terms than inputs");
    }
    if (*s == ',')
        return ein_fail(p, "more terms than inputs");
    for (int k = 0; k < p->n->n_inputs; k++)
        ein_resolve_ellipsis(&ins[k], *E);
    if (!*s) {
        ein_implicit_output(ins, p->n->n_inputs, *E, out);
        return LOOM_STATUS_OK;
    }
    if (strncmp(s, "->", 2) != 0)
        return ein_fail(p, "a '-' that is not \"->\"");
    s += 2;
    loom_status st = ein_term_parse(p, &s, -1, *E, out);
    if (st)
        return st;
    if (*s)
        return ein_fail(p, "text after the output term");
    ein_resolve_ellipsis(out, *E); /* ellipsis dims it lacks are summed */
    return LOOM_STATUS_OK;
}

/* Label ids: the output's codes in order, then the other codes in order
 * of appearance; sizes from the operands (ellipsis dims broadcast). */
static loom_status ein_labels(const ein_parse *p, const ein_term *ins, const ein_term *out,
                              ir_einsum_geom *e)
{
    int id[EIN_CODES];
    for (int c = 0; c < EIN_CODES; c++)
        id[c] = -1;
    e->n_labels = 0;
    for (int i = 0; i < out->n; i++) {
        if (id[out->code[i]] >= 0)
            return ein_fail(p, "the output repeats a label");
        id[out->code[i]] = e->n_labels;
        e->size[e->n_labels++] = -1;
    }
    e->n_out = e->n_labels;
    for (int k = 0; k < e->n_inputs; k++)
        for (int i = 0; i < ins[k].n; i++) {
            int c = ins[k].code[i];
            if (id[c] < 0) {
                if (e->n_labels == IR_EINSUM_MAX_LABELS)
                    return ein_fail(p, "more distinct labels than loom supports (16)");
                id[c] = e->n_labels;
                e->size[e->n_labels++] = -1;
            }
            int64_t dim = p->n->inputs[k]->shape.dims[i], *sz = &e->size[id[c]];
            bool ell = c >= EIN_LETTERS;
            e->label[k][i] = id[c];
            e->bcast[k][i] = ell && dim == 1;
            if (*sz < 0 || (ell && *sz == 1))
                *sz = dim;
            else if (*sz != dim && !(ell && dim == 1))
                return ein_fail(p, "a label's dims differ between operands");
        }
    for (int l = 0; l < e->n_out; l++)
        if (e->size[l] < 0)
            return ein_fail(p, "an output label appears in no input");
    return LOOM_STATUS_OK;
}

loom_status ir_einsum_geometry(const ir_graph *g, const ir_node *n, ir_einsum_geom *geom,
                               ir_diag *d)
{
    ein_parse p = {g, n, d};
    ein_term ins[IR_EINSUM_MAX_INPUTS], out;
    int E;
    if (n->n_inputs > IR_EINSUM_MAX_INPUTS)
        return ein_fail(&p, "more than 8 operands");
    memset(geom, 0, sizeof *geom);
    geom->n_inputs = n->n_inputs;
    loom_status st = ein_terms(&p, ins, &out, &E);
    if (st)
        return st;
    for (int k = 0; k < n->n_inputs; k++)
        geom->rank[k] = n->inputs[k]->shape.rank;
    return ein_labels(&p, ins, &out, geom);
}

int64_t ir_einsum_offset(const ir_einsum_geom *e, const ir_shape *s, int in, const int64_t *at)
{
    int64_t off = 0;
    for (int i = 0; i < e->rank[in]; i++)
        off = off * s->dims[i] + (e->bcast[in][i] ? 0 : at[e->label[in][i]]);
    return off;
}

/* ONNX Einsum-12: the output has the output labels' sizes, input 0's
 * dtype; every operand has one numeric dtype. */
loom_status ir_infer_einsum(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_einsum_geom e;
    const ir_value *x = n->inputs[0];
    for (int k = 1; k < n->n_inputs; k++)
        if (n->inputs[k]->dtype != x->dtype) {
            ir_diag_node(d, g, n, "operands have dtypes %s and %s", ir_dtype_name(x->dtype),
                         ir_dtype_name(n->inputs[k]->dtype));
            return LOOM_STATUS_INVALID_MODEL;
        }
    if (x->dtype == IR_DTYPE_BOOL) {
        ir_diag_node(d, g, n, "operands have dtype bool; expected a numeric dtype");
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = ir_einsum_geometry(g, n, &e, d);
    if (st)
        return st;
    ir_shape out = {.rank = e.n_out};
    for (int l = 0; l < e.n_out; l++)
        out.dims[l] = e.size[l];
    return set_out(g, n, d, 0, x->dtype, &out);
}

/* ---- ReverseSequence, MaxUnpool ---- */

bool ir_reverse_sequence_axes(const ir_node *n, int *batch_axis, int *time_axis)
{
    *batch_axis = (int)ir_attr_int(n, "batch_axis", 1);
    *time_axis = (int)ir_attr_int(n, "time_axis", 0);
    return (*batch_axis == 0 && *time_axis == 1) || (*batch_axis == 1 && *time_axis == 0);
}

/* ONNX ReverseSequence-10: x [T, B, ...] or [B, T, ...], sequence_lens [B]
 * (i64); the output has x's shape. */
loom_status ir_infer_reverse_sequence(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *lens = n->inputs[1];
    int ba, ta;
    if (!ir_reverse_sequence_axes(n, &ba, &ta)) {
        ir_diag_node(d, g, n, "batch_axis %d and time_axis %d must be 0 and 1 in some order", ba,
                     ta);
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = check_index_dtype(g, n, d, 1);
    if (st)
        return st;
    if (x->shape.rank < 2 || lens->shape.rank != 1 || lens->shape.dims[0] != x->shape.dims[ba]) {
        ir_diag_node(d, g, n, "needs input of rank >= 2 and sequence_lens [batch size]");
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_out(g, n, d, 0, x->dtype, &x->shape);
}

bool ir_max_unpool_inferred(const ir_node *n, ir_shape *out)
{
    const ir_value *x = n->inputs[0];
    int nsp = x->shape.rank - 2;
    const int64_t *k, *st, *pads;
    int nk = ir_attr_ints(n, "kernel_shape", &k), ns = ir_attr_ints(n, "strides", &st);
    int np = ir_attr_ints(n, "pads", &pads);
    if (nsp < 1 || nk != nsp || (ns >= 0 && ns != nsp) || (np >= 0 && np != 2 * nsp))
        return false;
    *out = x->shape;
    for (int i = 0; i < nsp; i++)
        out->dims[2 + i] = (x->shape.dims[2 + i] - 1) * (ns > 0 ? st[i] : 1) -
                           (np > 0 ? pads[i] + pads[nsp + i] : 0) + k[i];
    return true;
}

/* ONNX MaxUnpool-11: the output shape is the constant output_shape input
 * (at least the inferred shape), else the inferred shape. */
loom_status ir_infer_max_unpool(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1], *osv = ir_input(n, 2);
    ir_shape inf, out;
    loom_status s = check_index_dtype(g, n, d, 1);
    if (s)
        return s;
    if (!ir_max_unpool_inferred(n, &inf) || !ir_shape_equal(&iv->shape, &x->shape)) {
        ir_diag_node(d, g, n, "needs X [N, C, spatial...], indices of X's shape, and "
                     "kernel_shape (strides, pads) for each spatial dim");
        return LOOM_STATUS_INVALID_MODEL;
    }
    out = inf;
    if (osv) {
        if (!osv->data)
            return runtime_shape_input(g, n, d, 2, "output_shape");
        if (ir_const_ints(osv, out.dims, IR_MAX_RANK) != x->shape.rank) {
            ir_diag_node(d, g, n, "output_shape must hold %d values", x->shape.rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    for (int i = 0; i < out.rank; i++)
        if (i < 2 ? out.dims[i] != x->shape.dims[i] : out.dims[i] < inf.dims[i] || inf.dims[i] < 1) {
            ir_diag_node(d, g, n, "output dim %d (%lld) is smaller than the unpooled size %lld",
                         i, (long long)out.dims[i], (long long)inf.dims[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    return set_out(g, n, d, 0, x->dtype, &out);
}

/* ---- GridSample ---- */

bool ir_grid_sample_attrs(const ir_node *n, ir_grid_geom *geom)
{
    const char *m = ir_attr_string(n, "mode", "bilinear");
    const char *p = ir_attr_string(n, "padding_mode", "zeros");
    geom->align_corners = ir_attr_int(n, "align_corners", 0) != 0;
    if (!strcmp(m, "bilinear") || !strcmp(m, "linear"))
        geom->mode = IR_GRID_LINEAR;
    else if (!strcmp(m, "nearest"))
        geom->mode = IR_GRID_NEAREST;
    else if (!strcmp(m, "bicubic") || !strcmp(m, "cubic"))
        geom->mode = IR_GRID_CUBIC;
    else
        return false;
    if (!strcmp(p, "zeros"))
        geom->pad = IR_GRID_ZEROS;
    else if (!strcmp(p, "border"))
        geom->pad = IR_GRID_BORDER;
    else if (!strcmp(p, "reflection"))
        geom->pad = IR_GRID_REFLECTION;
    else
        return false;
    return true;
}

/* ONNX GridSample-20 in 4-D: X [N, C, H, W] sampled at grid [N, Ho, Wo, 2]
 * (x, y in [-1, 1]) gives [N, C, Ho, Wo]. */
loom_status ir_infer_grid_sample(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *gr = n->inputs[1];
    ir_grid_geom geom;
    if (!ir_grid_sample_attrs(n, &geom)) {
        ir_diag_node(d, g, n, "mode \"%s\" or padding_mode \"%s\" is unknown",
                     ir_attr_string(n, "mode", "bilinear"),
                     ir_attr_string(n, "padding_mode", "zeros"));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if ((x->dtype != IR_DTYPE_F32 && x->dtype != IR_DTYPE_F64) || gr->dtype != x->dtype) {
        ir_diag_node(d, g, n, "X and grid must have one float dtype; got %s and %s",
                     ir_dtype_name(x->dtype), ir_dtype_name(gr->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (x->shape.rank != 4 || gr->shape.rank != 4 || gr->shape.dims[0] != x->shape.dims[0] ||
        gr->shape.dims[3] != 2) {
        ir_diag_node(d, g, n, "needs X [N, C, H, W] and grid [N, Ho, Wo, 2] (loom supports the "
                     "4-D form only)");
        return x->shape.rank == 4 ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_UNSUPPORTED;
    }
    ir_shape out = {.rank = 4, .dims = {x->shape.dims[0], x->shape.dims[1], gr->shape.dims[1],
                                        gr->shape.dims[2]}};
    return set_out(g, n, d, 0, x->dtype, &out);
}
