/*
 * Lowering of the tensor-manipulation ops (semantics: ir/interp/interp_shape.c).
 * They only move elements, so every dtype lowers the same way.
 *   - Reshape, Flatten, Squeeze, Unsqueeze: a view of the input
 *     (lower_alias), or one flat copy when the output must be distinct.
 *   - Transpose, Slice, Expand, Concat (per input), Split (per output) and
 *     Gather with constant affine indices: strided copies, one loop nest in
 *     the destination's row-major order whose load index is affine in the
 *     loop variables (permuted, negative or zero strides). Dims of size 1
 *     are dropped and neighbours contiguous on both sides merged, so the
 *     innermost loop is as long as possible and stores contiguously.
 *   - Gather with data-dependent indices: the index is loaded into a local,
 *     wrapped (negative counts from the end) and CLAMPED into [0, dim): an
 *     out-of-range index, which the interpreter reports as an error, reads
 *     the nearest valid row in compiled code instead of out of bounds.
 *   - Constant, Shape: their output normally is constant data already
 *     (inference sets it); otherwise the payload is copied from a constant
 *     buffer.
 */
#include <string.h>

#include "lower_internal.h"

/* ---- strided copies ---- */

/* A strided copy over shape out, written contiguously (row-major). */
static lower_strided dense_dst(const ir_shape *out)
{
    lower_strided s = {.rank = out->rank};
    memcpy(s.dims, out->dims, sizeof out->dims);
    ir_shape_strides(out, s.dst);
    return s;
}

/* ---- views ---- */

/* Reshape, Flatten, Squeeze, Unsqueeze: same elements, new shape. The
 * output becomes a view of the input, or a copy when it must stay
 * distinct (a graph output). */
static loom_status view_or_copy(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t numel = ir_shape_numel(&y->shape);
    if (numel != ir_shape_numel(&x->shape) || x->dtype != y->dtype) {
        ir_diag_node(c->d, c->g, n, "output size or dtype differs from the input's");
        return LOOM_STATUS_INTERNAL;
    }
    if (lower_alias(c, x, y))
        return LOOM_STATUS_OK;
    if (numel > 0)
        lower_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), numel);
    return LOOM_STATUS_OK;
}

/* ONNX Reshape-21: row-major order is kept; only the shape changes. */
loom_status lower_reshape(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return view_or_copy(c, n, step);
}

/* ONNX Flatten-21: a 2-D view at axis. */
loom_status lower_flatten(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return view_or_copy(c, n, step);
}

/* ONNX Squeeze-21: drops 1-dims. */
loom_status lower_squeeze(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return view_or_copy(c, n, step);
}

/* ONNX Unsqueeze-21: inserts 1-dims. */
loom_status lower_unsqueeze(lower_ctx *c, const ir_node *n, loop_step *step)
{
    return view_or_copy(c, n, step);
}

/* ---- Transpose, Concat, Split, Slice, Expand ---- */

/* ONNX Transpose-21: output dim i walks input dim perm[i] (default: the
 * dims reversed). Stores run in output order; loads are permuted. */
loom_status lower_transpose(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int rank = x->shape.rank;
    const int64_t *p;
    int count = ir_attr_ints(n, "perm", &p);
    if ((count >= 0 && count != rank) || y->shape.rank != rank) {
        ir_diag_node(c->d, c->g, n, "perm does not match the input rank");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t in_stride[IR_MAX_RANK];
    ir_shape_strides(&x->shape, in_stride);
    lower_strided s = dense_dst(&y->shape);
    for (int i = 0; i < rank; i++) {
        int64_t pi = count >= 0 ? p[i] : rank - 1 - i;
        if (pi < 0 || pi >= rank || x->shape.dims[pi] != y->shape.dims[i]) {
            ir_diag_node(c->d, c->g, n, "perm entry %d does not match the shapes", i);
            return LOOM_STATUS_INTERNAL;
        }
        s.src[i] = in_stride[pi];
    }
    lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    return LOOM_STATUS_OK;
}

/* Whether input i of Concat n may be written in place: computed by a node
 * of the graph (not an input, constant or output, which have storage of
 * their own), of the output's dtype, not empty, its buffer not yet made
 * (by an earlier Concat) and not given twice. */
static bool concat_slice_ok(lower_ctx *c, const ir_node *n, int i)
{
    const ir_value *x = n->inputs[i];
    if (!x->producer || x->data || x->is_input || x->is_output || c->bufs[x->id] ||
        x->dtype != n->outputs[0]->dtype || ir_shape_numel(&x->shape) == 0)
        return false;
    for (int j = 0; j < n->n_inputs; j++)
        if (j != i && n->inputs[j] == x)
            return false;
    return true;
}

/* Concat in place: when the dims before the axis are all 1 (batch 1 along
 * channels, the common case), each input is one contiguous block of the
 * output, so its buffer can be a view of that block and its producer
 * writes the output directly; lower_concat then copies only the other
 * inputs. Saves the copy and the inputs' separate storage (squeezenet's
 * Fire modules, a U-Net's skip connections). At batch > 1, producers that
 * can write a strided view ask for one (lower_concat_strided). */
void lower_concat_in_place(lower_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    int axis;
    if (!y || y->data || !ir_normalize_axis(ir_attr_int(n, "axis", 1), y->shape.rank, &axis))
        return;
    for (int d = 0; d < axis; d++)
        if (y->shape.dims[d] != 1)
            return;
    loop_buf *yb = lower_buf(c, y);
    if (yb->alias || (yb->kind != LOOP_BUF_ARENA && yb->kind != LOOP_BUF_OUTPUT))
        return;
    int64_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *x = n->inputs[i];
        if (concat_slice_ok(c, n, i))
            lower_view_at(c, x, yb, at);
        at += ir_shape_numel(&x->shape);
    }
}

/* Concat in place at batch > 1, along channels: an input's slice of the
 * output is then one block per image, the images the output's image
 * apart. Its producer, if it indexes its output by images (lower_conv),
 * writes there through a strided view and lower_concat copies the other
 * inputs. squeezenet1_1's Fire modules at batch 8: their copies were 9%
 * of the run. x must be computed, read by that Concat alone and once
 * (nothing reads the view densely), and not yet have a buffer. */
loop_buf *lower_concat_strided(lower_ctx *c, const ir_value *x)
{
    const ir_node *n = ir_value_single_user(c->g, x);
    int axis, i = 0;
    if (!n || n->op != IR_OP_CONCAT)
        return NULL;
    const ir_value *y = n->outputs[0];
    if (!y || y->data || y->shape.rank < 2 || x->shape.rank != y->shape.rank ||
        !ir_normalize_axis(ir_attr_int(n, "axis", 1), y->shape.rank, &axis) || axis != 1 ||
        y->shape.dims[0] < 2 || x->shape.dims[0] != y->shape.dims[0])
        return NULL;
    int64_t images = y->shape.dims[0], at = 0;
    for (; i < n->n_inputs && n->inputs[i] != x; i++)
        at += ir_shape_numel(&n->inputs[i]->shape) / images; /* per image */
    if (i == n->n_inputs || !concat_slice_ok(c, n, i))
        return NULL;
    loop_buf *yb = lower_buf(c, y);
    if (yb->alias || (yb->kind != LOOP_BUF_ARENA && yb->kind != LOOP_BUF_OUTPUT))
        return NULL;
    int64_t stride = ir_shape_numel(&y->shape) / images;
    loop_buf *b = lower_view_at(c, x, yb, at);
    b->alias_stride = stride;
    b->numel = (images - 1) * stride + ir_shape_numel(&x->shape) / images;
    return b;
}

/* ONNX Concat-13: input i is copied into the output at its running offset
 * along axis, one loop nest per input, unless it is already there
 * (lower_concat_in_place). */
loom_status lower_concat(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *y = n->outputs[0];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 1), y->shape.rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t out_stride[IR_MAX_RANK], at = 0;
    ir_shape_strides(&y->shape, out_stride);
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *x = n->inputs[i];
        lower_strided s = {.rank = x->shape.rank, .dst_base = at * out_stride[axis]};
        memcpy(s.dims, x->shape.dims, sizeof x->shape.dims);
        memcpy(s.dst, out_stride, sizeof out_stride);
        ir_shape_strides(&x->shape, s.src);
        at += x->shape.dims[axis];
        if (at > y->shape.dims[axis]) {
            ir_diag_node(c->d, c->g, n, "input sizes exceed the output");
            return LOOM_STATUS_INTERNAL;
        }
        loop_buf *yb = lower_buf(c, y), *xb = lower_buf(c, x);
        if (xb->alias == yb && xb->alias_offset == s.dst_base &&
            (!xb->alias_stride || xb->alias_stride == out_stride[0]))
            continue; /* written in place */
        lower_strided_copy(c, &step->body, yb, xb, s);
    }
    return LOOM_STATUS_OK;
}

/* ONNX Split-18: output i is the next outputs[i].dims[axis] slices of the
 * input along axis (sizes as inference resolved them). */
loom_status lower_split(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t in_stride[IR_MAX_RANK], at = 0;
    ir_shape_strides(&x->shape, in_stride);
    for (int i = 0; i < n->n_outputs; i++) {
        const ir_value *y = n->outputs[i];
        if (!y || at + y->shape.dims[axis] > x->shape.dims[axis]) {
            ir_diag_node(c->d, c->g, n, "output %d is omitted or exceeds the input", i);
            return LOOM_STATUS_INTERNAL;
        }
        lower_strided s = dense_dst(&y->shape);
        memcpy(s.src, in_stride, sizeof in_stride);
        s.src_base = at * in_stride[axis];
        at += y->shape.dims[axis];
        lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    }
    return LOOM_STATUS_OK;
}

/* ONNX Slice-13: output element k along dim i reads input index
 * start[i] + k * step[i]; a negative step is a negative coefficient. */
loom_status lower_slice(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    ir_slice_geom geom;
    loom_status st = ir_slice_geometry(c->g, n, &geom, c->d);
    if (st)
        return st;
    int64_t in_stride[IR_MAX_RANK];
    ir_shape_strides(&x->shape, in_stride);
    lower_strided s = dense_dst(&y->shape);
    for (int i = 0; i < geom.rank; i++) {
        if (geom.count[i] != y->shape.dims[i]) {
            ir_diag_node(c->d, c->g, n, "output shape disagrees with the slice geometry");
            return LOOM_STATUS_INTERNAL;
        }
        /* a step can be huge (INT64_MIN) only when count <= 1: never used */
        s.src[i] = geom.count[i] > 1 ? in_stride[i] * geom.step[i] : 0;
        s.src_base += geom.start[i] * in_stride[i];
    }
    lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    return LOOM_STATUS_OK;
}

/* ONNX Expand-13: numpy broadcast; input dims of size 1 (or missing in
 * front) are read with stride 0, as in lower_bcast_index. */
loom_status lower_expand(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int lead = y->shape.rank - x->shape.rank;
    if (lead < 0) {
        ir_diag_node(c->d, c->g, n, "output rank is below the input rank");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t in_stride[IR_MAX_RANK];
    ir_shape_strides(&x->shape, in_stride);
    lower_strided s = dense_dst(&y->shape);
    for (int i = 0; i < y->shape.rank; i++)
        s.src[i] = i < lead || x->shape.dims[i - lead] == 1 ? 0 : in_stride[i - lead];
    lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    return LOOM_STATUS_OK;
}

/* ---- Gather ---- */

/* Constant index j of iv (i64 or i32), negative ones wrapped by dim; -1
 * when out of range (inference rejects those; never trusted here). */
static int64_t const_index(const ir_value *iv, int64_t j, int64_t dim)
{
    int64_t k;
    if (iv->dtype == IR_DTYPE_I64) {
        memcpy(&k, (const char *)iv->data + j * 8, 8);
    } else {
        int32_t k32;
        memcpy(&k32, (const char *)iv->data + j * 4, 4);
        k = k32;
    }
    if (k < -dim || k >= dim)
        return -1;
    return k < 0 ? k + dim : k;
}

/* True when iv is constant, in range, and its wrapped values are affine in
 * the index coordinates: idx[j_0..j_q) = *first + sum coef[d] * j_d. */
static bool gather_affine(const ir_value *iv, int64_t dim, int64_t *first, int64_t *coef)
{
    int64_t count = ir_shape_numel(&iv->shape), st[IR_MAX_RANK];
    const ir_shape *s = &iv->shape;
    if (!iv->data || count == 0)
        return false;
    ir_shape_strides(s, st);
    *first = const_index(iv, 0, dim);
    for (int d = 0; d < s->rank; d++)
        coef[d] = s->dims[d] > 1 ? const_index(iv, st[d], dim) - *first : 0;
    for (int64_t j = 0; j < count; j++) {
        int64_t want = *first, k = const_index(iv, j, dim);
        for (int d = 0; d < s->rank; d++)
            want += coef[d] * (j / st[d] % s->dims[d]);
        if (k < 0 || k >= dim || k != want)
            return false;
    }
    return true;
}

/* Adds coef * var to idx unless var is -1 (a loop of extent 1, omitted). */
static void add_term(loop_index *idx, int var, int64_t coef)
{
    if (var >= 0)
        loop_idx_add(idx, var, coef);
}

/* Opens a loop of the given extent in *b, or none (-1) for extent 1. */
static int open_loop(lower_ctx *c, loop_block **b, int64_t extent)
{
    if (extent == 1)
        return -1;
    int v = loop_var_new(c->f);
    *b = &loop_for(c->f, *b, v, extent)->body;
    return v;
}

/* Gather with runtime indices, out[o, j, k] = x[o, idx[j], k] over outer o,
 * flattened indices j and inner k: idx[j] goes to a local, negative values
 * count from the end, and an index outside [0, dim) is a data error (or,
 * unchecked, clamped into range), so compiled code never reads out of
 * bounds. */
static void gather_dynamic(lower_ctx *c, const ir_node *n, loop_step *step, int axis)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1], *y = n->outputs[0];
    loop_func *f = c->f;
    int64_t outer = 1, inner = 1, dim = x->shape.dims[axis], count = ir_shape_numel(&iv->shape);
    for (int i = 0; i < axis; i++)
        outer *= x->shape.dims[i];
    for (int i = axis + 1; i < x->shape.rank; i++)
        inner *= x->shape.dims[i];
    loop_block *b = &step->body;
    int vo = open_loop(c, &b, outer), vj = open_loop(c, &b, count);
    loop_index ji = loop_idx_const(0);
    add_term(&ji, vj, 1);
    loop_expr *k = lower_index_in_range(c, b, loop_load(f, lower_buf(c, iv), ji), dim, true, iv);
    int vk = open_loop(c, &b, inner);
    loop_index si = loop_idx_const(0), di = loop_idx_const(0);
    add_term(&si, vo, dim * inner);
    add_term(&si, vk, 1);
    si.dyn = k;
    si.dyn_coef = inner;
    add_term(&di, vo, count * inner);
    add_term(&di, vj, inner);
    add_term(&di, vk, 1);
    loop_store(f, b, lower_buf(c, y), di, loop_load(f, lower_buf(c, x), si));
}

/* ONNX Gather-13: out = x[:axis] x indices x x[axis+1:]. Constant indices
 * that form an affine sequence become a strided copy (no index loads);
 * others take the data-dependent path. */
loom_status lower_gather(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1], *y = n->outputs[0];
    int axis, q = iv->shape.rank;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis) ||
        y->shape.rank != x->shape.rank - 1 + q) {
        ir_diag_node(c->d, c->g, n, "axis is out of range or the output rank is wrong");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t dim = x->shape.dims[axis], first, coef[IR_MAX_RANK];
    if (ir_shape_numel(&y->shape) == 0)
        return LOOM_STATUS_OK;
    if (dim == 0) { /* every index is out of range: nothing can be read */
        ir_diag_node(c->d, c->g, n, "gathers from an empty axis");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (!gather_affine(iv, dim, &first, coef)) {
        gather_dynamic(c, n, step, axis);
        return LOOM_STATUS_OK;
    }
    int64_t in_stride[IR_MAX_RANK];
    ir_shape_strides(&x->shape, in_stride);
    lower_strided s = dense_dst(&y->shape);
    s.src_base = first * in_stride[axis];
    for (int i = 0, o = 0; i < x->shape.rank; i++) {
        if (i != axis) {
            s.src[o++] = in_stride[i];
            continue;
        }
        for (int d = 0; d < q; d++)
            s.src[o++] = coef[d] * in_stride[axis];
    }
    lower_strided_copy(c, &step->body, lower_buf(c, y), lower_buf(c, x), s);
    return LOOM_STATUS_OK;
}

/* ---- Constant, Shape ---- */

/* Output 0 of n gets the payload data (dtype t, bytes long). Inference
 * normally stores it as the output's constant data, so there is nothing to
 * emit; otherwise it is copied from a new constant buffer. */
static loom_status lower_payload(lower_ctx *c, const ir_node *n, loop_step *step, ir_dtype t,
                                 const void *data, size_t bytes)
{
    const ir_value *y = ir_output(n, 0);
    if (!y)
        return LOOM_STATUS_OK;
    loop_buf *dst = lower_buf(c, y);
    if (dst->kind == LOOP_BUF_CONST)
        return LOOM_STATUS_OK;
    if (!data || t != y->dtype || bytes != ir_value_bytes(y)) {
        ir_diag_node(c->d, c->g, n, "the payload does not match the output");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t numel = ir_shape_numel(&y->shape);
    if (numel == 0)
        return LOOM_STATUS_OK;
    loop_buf *src = lower_scratch(c, y->name, t, numel);
    src->kind = LOOP_BUF_CONST; /* a constant, not a workspace slice */
    src->data = ir_arena_memdup(&c->f->arena, data, bytes);
    lower_copy(c, &step->body, dst, src, numel);
    return LOOM_STATUS_OK;
}

/* ONNX Constant-13: the payload of the one value* attribute. */
loom_status lower_constant(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_attr *a = n->n_attrs == 1 ? &n->attrs[0] : NULL;
    if (!a)
        return lower_payload(c, n, step, IR_DTYPE_COUNT, NULL, 0);
    switch (a->kind) {
    case IR_ATTR_TENSOR:
        if (!a->u.tensor)
            break;
        return lower_payload(c, n, step, a->u.tensor->dtype, a->u.tensor->data,
                             ir_value_bytes(a->u.tensor));
    case IR_ATTR_FLOAT: return lower_payload(c, n, step, IR_DTYPE_F32, &a->u.f, sizeof a->u.f);
    case IR_ATTR_INT: return lower_payload(c, n, step, IR_DTYPE_I64, &a->u.i, sizeof a->u.i);
    case IR_ATTR_FLOATS:
        return lower_payload(c, n, step, IR_DTYPE_F32, a->u.floats,
                             (size_t)a->n * sizeof *a->u.floats);
    case IR_ATTR_INTS:
        return lower_payload(c, n, step, IR_DTYPE_I64, a->u.ints,
                             (size_t)a->n * sizeof *a->u.ints);
    default: break;
    }
    return lower_payload(c, n, step, IR_DTYPE_COUNT, NULL, 0);
}

/* ONNX Shape-15: the input's dims [start, end) as i64. */
loom_status lower_shape(lower_ctx *c, const ir_node *n, loop_step *step)
{
    const ir_shape *s = &n->inputs[0]->shape;
    int start, end;
    ir_shape_range(n, s->rank, &start, &end);
    return lower_payload(c, n, step, IR_DTYPE_I64, s->dims + start,
                         (size_t)(end - start) * sizeof *s->dims);
}

/* ONNX Size-21: the element count as a constant payload. */
loom_status lower_size(lower_ctx *c, const ir_node *n, loop_step *step)
{
    int64_t count = ir_shape_numel(&n->inputs[0]->shape);
    return lower_payload(c, n, step, IR_DTYPE_I64, &count, sizeof count);
}
