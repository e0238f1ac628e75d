/*
 * Reference kernels of the indexing ops: GatherND, ScatterND,
 * ScatterElements, OneHot and TopK (Einsum: interp_einsum.c). Plain loops
 * over flat offsets; an index out of range is reported with the node.
 */
#include <stdlib.h>
#include <string.h>

#include "interp_internal.h"
#include "ir_infer_index.h"

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Index element e of input i, wrapped into [0, dim); false (reported) when
 * outside [-dim, dim). */
static bool load_index(interp_ctx *c, const ir_node *n, int i, int64_t e, int64_t dim,
                       int64_t *out)
{
    int64_t k = interp_load_i(interp_in(c, n, i), n->inputs[i]->dtype, e);
    if (k < -dim || k >= dim) {
        ir_diag_node(c->d, c->g, n, "index %lld is out of range for an axis of %lld",
                     (long long)k, (long long)dim);
        return false;
    }
    *out = k < 0 ? k + dim : k;
    return true;
}

/* Offset in data of index row `row` (m components) of a GatherND /
 * ScatterND node, batch entry excluded; -1 (reported) when out of range. */
static int64_t nd_row_offset(interp_ctx *c, const ir_node *n, const ir_nd_geom *gm, int64_t row)
{
    int64_t off = 0, k;
    for (int j = 0; j < gm->m; j++) {
        if (!load_index(c, n, 1, row * gm->m + j, gm->dims[j], &k))
            return -1;
        off += k * gm->strides[j];
    }
    return off;
}

/* ONNX GatherND-13: out[bt, row, s] = data[bt, idx(bt, row), s]. */
loom_status interp_gather_nd(interp_ctx *c, const ir_node *n)
{
    ir_nd_geom gm;
    ir_nd_geometry(n, (int)ir_attr_int(n, "batch_dims", 0), &gm);
    size_t es = ir_dtype_size(n->inputs[0]->dtype), len = (size_t)gm.slice * es;
    const char *x = interp_in(c, n, 0);
    char *y = interp_out(c, n, 0);
    for (int64_t bt = 0; bt < gm.batch; bt++)
        for (int64_t r = 0; r < gm.rows; r++) {
            int64_t row = bt * gm.rows + r, off = nd_row_offset(c, n, &gm, row);
            if (off < 0)
                return LOOM_STATUS_INVALID_MODEL;
            if (len)
                memcpy(y + (size_t)row * len, x + (size_t)(bt * gm.data_batch_stride + off) * es,
                       len);
        }
    return LOOM_STATUS_OK;
}

/* y[i] combined with update u[j] under reduction red (ScatterND-18 /
 * ScatterElements-18): integers in i64, floats in double. */
static void combine(void *y, int64_t i, const void *u, int64_t j, ir_dtype t, ir_scatter_red red)
{
    if (is_float(t)) {
        double a = interp_load_f(y, t, i), b = interp_load_f(u, t, j);
        double r = red == IR_SCATTER_ADD ? a + b
                   : red == IR_SCATTER_MUL ? a * b
                   : red == IR_SCATTER_MAX ? (b > a ? b : a)
                   : red == IR_SCATTER_MIN ? (b < a ? b : a)
                                           : b;
        interp_store_f(y, t, i, r);
        return;
    }
    int64_t a = interp_load_i(y, t, i), b = interp_load_i(u, t, j);
    int64_t r = red == IR_SCATTER_ADD ? (int64_t)((uint64_t)a + (uint64_t)b)
                : red == IR_SCATTER_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                : red == IR_SCATTER_MAX ? (b > a ? b : a)
                : red == IR_SCATTER_MIN ? (b < a ? b : a)
                                        : b;
    interp_store_i(y, t, i, r);
}

/* ONNX ScatterND-18: y = data, then for each index row in order the
 * addressed slice of y combined with the row's slice of updates. */
loom_status interp_scatter_nd(interp_ctx *c, const ir_node *n)
{
    ir_nd_geom gm;
    ir_nd_geometry(n, 0, &gm);
    const ir_value *x = n->inputs[0];
    ir_scatter_red red = ir_scatter_reduction(n);
    void *y = interp_out(c, n, 0);
    const void *u = interp_in(c, n, 2);
    memcpy(y, interp_in(c, n, 0), ir_value_bytes(x));
    for (int64_t r = 0; r < gm.rows; r++) {
        int64_t off = nd_row_offset(c, n, &gm, r);
        if (off < 0)
            return LOOM_STATUS_INVALID_MODEL;
        for (int64_t s = 0; s < gm.slice; s++)
            combine(y, off + s, u, r * gm.slice + s, x->dtype, red);
    }
    return LOOM_STATUS_OK;
}

/* ONNX ScatterElements-18: y = data, then for each index position p in
 * order y[p with p[axis] = indices[p]] combined with updates[p]. */
loom_status interp_scatter_elements(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    int axis, r = x->shape.rank;
    ir_normalize_axis(ir_attr_int(n, "axis", 0), r, &axis);
    ir_scatter_red red = ir_scatter_reduction(n);
    int64_t xs[IR_MAX_RANK], is[IR_MAX_RANK], total = ir_shape_numel(&iv->shape);
    ir_shape_strides(&x->shape, xs);
    ir_shape_strides(&iv->shape, is);
    void *y = interp_out(c, n, 0);
    memcpy(y, interp_in(c, n, 0), ir_value_bytes(x));
    for (int64_t e = 0; e < total; e++) {
        int64_t k, off = 0;
        if (!load_index(c, n, 1, e, x->shape.dims[axis], &k))
            return LOOM_STATUS_INVALID_MODEL;
        for (int i = 0; i < r; i++)
            off += (i == axis ? k : e / is[i] % iv->shape.dims[i]) * xs[i];
        combine(y, off, interp_in(c, n, 2), e, x->dtype, red);
    }
    return LOOM_STATUS_OK;
}

/* ONNX OneHot-11: y[.., j (at axis), ..] = j == wrap(indices[..]) ? on :
 * off; an index outside [-depth, depth) gives an all-off row. Float
 * indices are truncated. */
loom_status interp_one_hot(interp_ctx *c, const ir_node *n)
{
    const ir_value *iv = n->inputs[0], *vv = n->inputs[2], *yv = n->outputs[0];
    int axis;
    int64_t depth;
    ir_normalize_axis(ir_attr_int(n, "axis", -1), yv->shape.rank, &axis);
    ir_onehot_depth(n, &depth);
    int64_t inner = 1, total = ir_shape_numel(&yv->shape);
    for (int i = axis + 1; i < yv->shape.rank; i++)
        inner *= yv->shape.dims[i];
    const void *ind = interp_in(c, n, 0), *vals = interp_in(c, n, 2);
    void *y = interp_out(c, n, 0);
    size_t es = ir_dtype_size(vv->dtype);
    for (int64_t e = 0; e < total; e++) {
        int64_t j = e / inner % depth, src = e / (inner * depth) * inner + e % inner;
        int64_t k = is_float(iv->dtype) ? (int64_t)interp_load_f(ind, iv->dtype, src)
                                        : interp_load_i(ind, iv->dtype, src);
        if (k < 0)
            k += depth;
        memcpy((char *)y + (size_t)e * es, (const char *)vals + (k == j ? es : 0), es);
    }
    return LOOM_STATUS_OK;
}

/* ---- TopK ---- */

typedef struct topk_item {
    double v;
    int64_t i;
    bool nan;
} topk_item;

/* Orders items by value, NaN above everything (numpy / PyTorch), ties by
 * the lower index: descending for largest, ascending for smallest. */
static int cmp_value(const topk_item *a, const topk_item *b)
{
    if (a->nan || b->nan)
        return a->nan - b->nan;
    return (a->v > b->v) - (a->v < b->v);
}

static int cmp_largest(const void *pa, const void *pb)
{
    const topk_item *a = pa, *b = pb;
    int k = cmp_value(b, a);
    return k ? k : (a->i > b->i) - (a->i < b->i);
}

static int cmp_smallest(const void *pa, const void *pb)
{
    const topk_item *a = pa, *b = pb;
    int k = cmp_value(a, b);
    return k ? k : (a->i > b->i) - (a->i < b->i);
}

/* ONNX TopK-11: per slice along axis, the first k items of the sorted
 * order above (sorted=0 returns them in that order too). */
loom_status interp_top_k(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int axis;
    int64_t k;
    ir_normalize_axis(ir_attr_int(n, "axis", -1), x->shape.rank, &axis);
    ir_topk_k(n, &k);
    int64_t len = x->shape.dims[axis], inner = 1, outer = 1;
    for (int i = 0; i < axis; i++)
        outer *= x->shape.dims[i];
    for (int i = axis + 1; i < x->shape.rank; i++)
        inner *= x->shape.dims[i];
    topk_item *items = ir_malloc((size_t)(len ? len : 1) * sizeof *items);
    if (!items)
        return LOOM_STATUS_NOMEM;
    bool largest = ir_attr_int(n, "largest", 1) != 0;
    const void *in = interp_in(c, n, 0);
    void *vals = interp_out(c, n, 0), *idx = interp_out(c, n, 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t e = 0; e < len; e++) {
                int64_t at = (o * len + e) * inner + i;
                double v = interp_load_f(in, x->dtype, at);
                items[e] = (topk_item){.v = v, .i = e, .nan = v != v};
            }
            qsort(items, (size_t)len, sizeof *items, largest ? cmp_largest : cmp_smallest);
            for (int64_t j = 0; j < k; j++) {
                int64_t at = (o * k + j) * inner + i, from = (o * len + items[j].i) * inner + i;
                if (vals)
                    memcpy((char *)vals + at * (int64_t)ir_dtype_size(x->dtype),
                           (const char *)in + from * (int64_t)ir_dtype_size(x->dtype),
                           ir_dtype_size(x->dtype));
                if (idx)
                    ((int64_t *)idx)[at] = items[j].i;
            }
        }
    ir_free(items);
    return LOOM_STATUS_OK;
}

/* ---- Einsum ---- */

/* Steps the label assignment at[from..to) like an odometer over sizes;
 * false after the last one. */
static bool next_assignment(int64_t *at, const int64_t *size, int from, int to)
{
    for (int l = to - 1; l >= from; l--) {
        if (++at[l] < size[l])
            return true;
        at[l] = 0;
    }
    return false;
}

/* The product of the operands at the assignment at (double or i64). */
static void einsum_term(interp_ctx *c, const ir_node *n, const ir_einsum_geom *e,
                        const int64_t *at, double *fp, int64_t *ip)
{
    *fp = 1;
    *ip = 1;
    for (int k = 0; k < n->n_inputs; k++) {
        const ir_value *v = n->inputs[k];
        int64_t off = ir_einsum_offset(e, &v->shape, k, at);
        if (is_float(v->dtype))
            *fp *= interp_load_f(interp_in(c, n, k), v->dtype, off);
        else
            *ip = (int64_t)((uint64_t)*ip * (uint64_t)interp_load_i(interp_in(c, n, k), v->dtype, off));
    }
}

/* ONNX Einsum-12: y[out labels] = sum over the other labels of the
 * product of the operands (in double for floats, i64 for integers). */
loom_status interp_einsum(interp_ctx *c, const ir_node *n)
{
    ir_einsum_geom e;
    if (ir_einsum_geometry(c->g, n, &e, c->d))
        return LOOM_STATUS_INTERNAL;
    const ir_value *y = n->outputs[0];
    int64_t total = ir_shape_numel(&y->shape), at[IR_EINSUM_MAX_LABELS] = {0};
    bool empty_sum = false;
    for (int l = e.n_out; l < e.n_labels; l++)
        empty_sum |= e.size[l] == 0;
    void *out = interp_out(c, n, 0);
    for (int64_t o = 0; o < total; o++) {
        double fs = 0, fp;
        int64_t is = 0, ip;
        for (int l = e.n_out; l < e.n_labels; l++)
            at[l] = 0;
        do {
            if (empty_sum)
                break;
            einsum_term(c, n, &e, at, &fp, &ip);
            fs += fp;
            is = (int64_t)((uint64_t)is + (uint64_t)ip);
        } while (next_assignment(at, e.size, e.n_out, e.n_labels));
        if (is_float(y->dtype))
            interp_store_f(out, y->dtype, o, fs);
        else
            interp_store_i(out, y->dtype, o, is);
        next_assignment(at, e.size, 0, e.n_out);
    }
    return LOOM_STATUS_OK;
}

/* ---- ReverseSequence, MaxUnpool ---- */

/* ONNX ReverseSequence-10: y[t, b] = x[len_b - 1 - t, b] for t < len_b,
 * x[t, b] after; a length outside [0, T] is reported. */
loom_status interp_reverse_sequence(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int ba, ta;
    ir_reverse_sequence_axes(n, &ba, &ta);
    int64_t xs[IR_MAX_RANK], total = ir_shape_numel(&x->shape), T = x->shape.dims[ta];
    ir_shape_strides(&x->shape, xs);
    size_t es = ir_dtype_size(x->dtype);
    const char *in = interp_in(c, n, 0);
    char *out = interp_out(c, n, 0);
    for (int64_t e = 0; e < total; e++) {
        int64_t b = e / xs[ba] % x->shape.dims[ba], t = e / xs[ta] % T;
        int64_t len = interp_load_i(interp_in(c, n, 1), n->inputs[1]->dtype, b);
        if (len < 0 || len > T) {
            ir_diag_node(c->d, c->g, n, "sequence length %lld is outside [0, %lld]",
                         (long long)len, (long long)T);
            return LOOM_STATUS_INVALID_MODEL;
        }
        int64_t src = e + (t < len ? len - 1 - 2 * t : 0) * xs[ta];
        memcpy(out + (size_t)e * es, in + (size_t)src * es, es);
    }
    return LOOM_STATUS_OK;
}

/* ONNX MaxUnpool-11: y = 0, then x[e] goes to the element of y with the
 * coordinates of indices[e], which is flat over the unpooled shape (as
 * MaxPool's Indices output; output_shape only pads its end); an index
 * out of range is reported. */
loom_status interp_max_unpool(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_shape inf;
    ir_max_unpool_inferred(n, &inf);
    int64_t total = ir_shape_numel(&x->shape), ny = ir_shape_numel(&inf), ins[IR_MAX_RANK];
    ir_shape_strides(&inf, ins);
    size_t es = ir_dtype_size(x->dtype);
    char *out = interp_out(c, n, 0);
    memset(out, 0, ir_value_bytes(y));
    for (int64_t e = 0; e < total; e++) {
        int64_t k = interp_load_i(interp_in(c, n, 1), n->inputs[1]->dtype, e);
        if (k < 0 || k >= ny) {
            ir_diag_node(c->d, c->g, n, "index %lld is out of range for an output of %lld elements",
                         (long long)k, (long long)ny);
            return LOOM_STATUS_INVALID_MODEL;
        }
        int64_t off = 0; /* k's coordinates in the unpooled shape, placed in y */
        for (int i = 0; i < y->shape.rank; i++)
            off = off * y->shape.dims[i] + k / ins[i] % inf.dims[i];
        memcpy(out + (size_t)off * es, (const char *)interp_in(c, n, 0) + (size_t)e * es, es);
    }
    return LOOM_STATUS_OK;
}
