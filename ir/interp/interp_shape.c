/*
 * Interpreter kernels for the tensor-manipulation ops. They only move bytes,
 * so they work for every dtype through ir_dtype_size: Reshape, Flatten,
 * Squeeze and Unsqueeze copy the buffer; Transpose, Slice and Expand are one
 * strided gather (each output element read at an input offset that is
 * affine in the output index); Concat, Split and Gather copy contiguous
 * blocks. Constant and Shape write what inference also stores as data.
 */
#include <string.h>

#include "interp_internal.h"

/* Copies every element of an output of shape out (row-major) from src at
 * element offset base + sum(idx[i] * stride[i]); strides may be 0 or
 * negative. Linear in the output size. */
static void strided_copy(char *dst, const char *src, size_t es, const ir_shape *out, int64_t base,
                         const int64_t *stride)
{
    int64_t total = ir_shape_numel(out);
    if (total == 0)
        return;
    int r = out->rank;
    int64_t inner = r ? out->dims[r - 1] : 1, istride = r ? stride[r - 1] : 0;
    int64_t idx[IR_MAX_RANK] = {0}, off = base;
    for (int64_t done = 0; done < total; done += inner) {
        for (int64_t k = 0; k < inner; k++, dst += es)
            memcpy(dst, src + (size_t)(off + k * istride) * es, es);
        for (int i = r - 2; i >= 0; i--) { /* odometer over the outer dims */
            off += stride[i];
            if (++idx[i] < out->dims[i])
                break;
            off -= stride[i] * out->dims[i];
            idx[i] = 0;
        }
    }
}

/* Copies input 0 to output 0 unchanged (Reshape, Flatten, Squeeze,
 * Unsqueeze: only the shape differs). */
static loom_status copy_through(interp_ctx *c, const ir_node *n)
{
    size_t bytes = ir_value_bytes(n->outputs[0]);
    if (bytes != ir_value_bytes(n->inputs[0])) {
        ir_diag_node(c->d, c->g, n, "output size differs from input size");
        return LOOM_STATUS_INTERNAL;
    }
    if (bytes)
        memcpy(interp_out(c, n, 0), interp_in(c, n, 0), bytes);
    return LOOM_STATUS_OK;
}

loom_status interp_reshape(interp_ctx *c, const ir_node *n)
{
    return copy_through(c, n);
}

loom_status interp_flatten(interp_ctx *c, const ir_node *n)
{
    return copy_through(c, n);
}

loom_status interp_squeeze(interp_ctx *c, const ir_node *n)
{
    return copy_through(c, n);
}

loom_status interp_unsqueeze(interp_ctx *c, const ir_node *n)
{
    return copy_through(c, n);
}

/* ONNX Transpose-13: output dim i walks input dim perm[i] (perm defaults to
 * the reversed dims). */
loom_status interp_transpose(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank;
    int64_t perm[IR_MAX_RANK], in_stride[IR_MAX_RANK], stride[IR_MAX_RANK];
    const int64_t *p;
    int count = ir_attr_ints(n, "perm", &p);
    if (count >= 0 && count != rank) {
        ir_diag_node(c->d, c->g, n, "perm does not match the input rank");
        return LOOM_STATUS_INTERNAL;
    }
    for (int i = 0; i < rank; i++) {
        perm[i] = count >= 0 ? p[i] : rank - 1 - i;
        if (perm[i] < 0 || perm[i] >= rank) {
            ir_diag_node(c->d, c->g, n, "perm entry %d is out of range", i);
            return LOOM_STATUS_INTERNAL;
        }
    }
    ir_shape_strides(&x->shape, in_stride);
    for (int i = 0; i < rank; i++)
        stride[i] = in_stride[perm[i]];
    strided_copy(interp_out(c, n, 0), interp_in(c, n, 0), ir_dtype_size(x->dtype),
                 &n->outputs[0]->shape, 0, stride);
    return LOOM_STATUS_OK;
}

/* Splits shape s at axis into outer (dims before) and inner (dims after)
 * element counts. */
static void outer_inner(const ir_shape *s, int axis, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++)
        *outer *= s->dims[i];
    for (int i = axis + 1; i < s->rank; i++)
        *inner *= s->dims[i];
}

/* ONNX Concat-13: for each outer index, the inputs' blocks one after the
 * other. */
loom_status interp_concat(interp_ctx *c, const ir_node *n)
{
    const ir_value *y = n->outputs[0];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 1), y->shape.rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range");
        return LOOM_STATUS_INTERNAL;
    }
    size_t es = ir_dtype_size(y->dtype);
    int64_t outer, inner;
    outer_inner(&y->shape, axis, &outer, &inner);
    size_t row = (size_t)(y->shape.dims[axis] * inner) * es; /* output block per outer */
    char *out = interp_out(c, n, 0);
    size_t at = 0; /* byte offset of the current input's block within a row */
    for (int i = 0; i < n->n_inputs; i++) {
        const char *src = interp_in(c, n, i);
        size_t block = (size_t)(n->inputs[i]->shape.dims[axis] * inner) * es;
        for (int64_t o = 0; o < outer && block; o++)
            memcpy(out + (size_t)o * row + at, src + (size_t)o * block, block);
        at += block;
    }
    return LOOM_STATUS_OK;
}

/* ONNX Split-18: output i takes the next outputs[i].dims[axis] slices along
 * axis (the sizes inference resolved). */
loom_status interp_split(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range");
        return LOOM_STATUS_INTERNAL;
    }
    size_t es = ir_dtype_size(x->dtype);
    int64_t outer, inner;
    outer_inner(&x->shape, axis, &outer, &inner);
    size_t row = (size_t)(x->shape.dims[axis] * inner) * es;
    const char *src = interp_in(c, n, 0);
    size_t at = 0;
    for (int i = 0; i < n->n_outputs; i++) {
        char *out = interp_out(c, n, i);
        if (!out) {
            ir_diag_node(c->d, c->g, n, "output %d is omitted", i);
            return LOOM_STATUS_INTERNAL;
        }
        size_t block = (size_t)(n->outputs[i]->shape.dims[axis] * inner) * es;
        if (at + block > row) {
            ir_diag_node(c->d, c->g, n, "output sizes exceed the input");
            return LOOM_STATUS_INTERNAL;
        }
        for (int64_t o = 0; o < outer && block; o++)
            memcpy(out + (size_t)o * block, src + (size_t)o * row + at, block);
        at += block;
    }
    return LOOM_STATUS_OK;
}

/* ONNX Slice-13: output element k along dim i reads input index
 * start[i] + k * step[i]. */
loom_status interp_slice(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    ir_slice_geom geom;
    loom_status st = ir_slice_geometry(c->g, n, &geom, c->d);
    if (st)
        return st;
    int64_t in_stride[IR_MAX_RANK], stride[IR_MAX_RANK], base = 0;
    ir_shape_strides(&x->shape, in_stride);
    ir_shape out = {.rank = geom.rank};
    for (int i = 0; i < geom.rank; i++) {
        out.dims[i] = geom.count[i];
        /* a step can be huge (INT64_MIN) only when count <= 1: never used */
        stride[i] = geom.count[i] > 1 ? in_stride[i] * geom.step[i] : 0;
        base += geom.start[i] * in_stride[i];
    }
    if (!ir_shape_equal(&out, &n->outputs[0]->shape)) {
        ir_diag_node(c->d, c->g, n, "output shape disagrees with the slice geometry");
        return LOOM_STATUS_INTERNAL;
    }
    strided_copy(interp_out(c, n, 0), interp_in(c, n, 0), ir_dtype_size(x->dtype), &out, base,
                 stride);
    return LOOM_STATUS_OK;
}

/* Reads index i of an i32 or i64 indices buffer. */
static int64_t load_index(const void *p, ir_dtype t, int64_t i)
{
    return t == IR_DTYPE_I64 ? ((const int64_t *)p)[i] : ((const int32_t *)p)[i];
}

/* ONNX Gather-13: out[o, j, k] = data[o, idx[j], k] over outer o, flattened
 * indices j and inner k; negative indices count from the end. An index out
 * of range is reported, never read. */
loom_status interp_gather(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *iv = n->inputs[1];
    int axis;
    if (!ir_normalize_axis(ir_attr_int(n, "axis", 0), x->shape.rank, &axis)) {
        ir_diag_node(c->d, c->g, n, "axis is out of range");
        return LOOM_STATUS_INTERNAL;
    }
    int64_t outer, inner, dim = x->shape.dims[axis], count = ir_shape_numel(&iv->shape);
    outer_inner(&x->shape, axis, &outer, &inner);
    size_t block = (size_t)inner * ir_dtype_size(x->dtype);
    const char *src = interp_in(c, n, 0);
    const void *idx = interp_in(c, n, 1);
    char *out = interp_out(c, n, 0);
    for (int64_t j = 0; j < count; j++) { /* check first: no partial output */
        int64_t k = load_index(idx, iv->dtype, j);
        if (k < -dim || k >= dim) {
            ir_diag_node(c->d, c->g, n,
                         "index %lld (element %lld of \"%s\") is out of range "
                         "for a dim of size %lld",
                         (long long)k, (long long)j, iv->name, (long long)dim);
            return LOOM_STATUS_INVALID_ARG;
        }
    }
    for (int64_t o = 0; o < outer && block; o++)
        for (int64_t j = 0; j < count; j++) {
            int64_t k = load_index(idx, iv->dtype, j);
            k += k < 0 ? dim : 0;
            memcpy(out, src + (size_t)(o * dim + k) * block, block);
            out += block;
        }
    return LOOM_STATUS_OK;
}

/* ONNX Expand-13: numpy broadcast; input dims of size 1 (or missing in
 * front) are read with stride 0. */
loom_status interp_expand(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0], *y = n->outputs[0];
    int64_t in_stride[IR_MAX_RANK], stride[IR_MAX_RANK];
    int lead = y->shape.rank - x->shape.rank;
    if (lead < 0) {
        ir_diag_node(c->d, c->g, n, "output rank is below the input rank");
        return LOOM_STATUS_INTERNAL;
    }
    ir_shape_strides(&x->shape, in_stride);
    for (int i = 0; i < y->shape.rank; i++)
        stride[i] = i < lead || x->shape.dims[i - lead] == 1 ? 0 : in_stride[i - lead];
    strided_copy(interp_out(c, n, 0), interp_in(c, n, 0), ir_dtype_size(x->dtype), &y->shape, 0,
                 stride);
    return LOOM_STATUS_OK;
}

/* The payload of a Constant node's attribute and its size in bytes; NULL
 * for an attribute kind Constant does not support. */
static const void *constant_payload(const ir_attr *a, size_t *bytes)
{
    switch (a->kind) {
    case IR_ATTR_TENSOR:
        *bytes = a->u.tensor ? ir_value_bytes(a->u.tensor) : 0;
        return a->u.tensor ? a->u.tensor->data : NULL;
    case IR_ATTR_FLOAT: *bytes = sizeof a->u.f; return &a->u.f;
    case IR_ATTR_INT: *bytes = sizeof a->u.i; return &a->u.i;
    case IR_ATTR_FLOATS: *bytes = (size_t)a->n * sizeof *a->u.floats; return a->u.floats;
    case IR_ATTR_INTS: *bytes = (size_t)a->n * sizeof *a->u.ints; return a->u.ints;
    default: return NULL;
    }
}

/* ONNX Constant-13: writes the attribute's payload (inference has checked
 * the attribute and sized the output). */
loom_status interp_constant(interp_ctx *c, const ir_node *n)
{
    void *out = interp_out(c, n, 0);
    if (!out)
        return LOOM_STATUS_OK; /* the output is constant data already */
    size_t want = ir_value_bytes(n->outputs[0]), have = 0;
    const void *src = n->n_attrs == 1 ? constant_payload(&n->attrs[0], &have) : NULL;
    if (!src || have != want) {
        ir_diag_node(c->d, c->g, n, "the value attribute does not match the output");
        return LOOM_STATUS_INTERNAL;
    }
    if (want)
        memcpy(out, src, want);
    return LOOM_STATUS_OK;
}

/* ONNX Shape-15: the input's dims [start, end) as i64. */
loom_status interp_shape(interp_ctx *c, const ir_node *n)
{
    const ir_value *x = n->inputs[0];
    int64_t *out = interp_out(c, n, 0);
    int start, end;
    ir_shape_range(n, x->shape.rank, &start, &end);
    if (!out)
        return LOOM_STATUS_OK; /* the output is constant data already */
    for (int i = start; i < end; i++)
        out[i - start] = x->shape.dims[i];
    return LOOM_STATUS_OK;
}

/* ONNX Size-21 (normally constant data from inference). */
loom_status interp_size(interp_ctx *c, const ir_node *n)
{
    int64_t *out = interp_out(c, n, 0);
    if (out)
        *out = ir_shape_numel(&n->inputs[0]->shape);
    return LOOM_STATUS_OK;
}
