/*
 * Shape inference for the tensor-manipulation ops: Reshape, Flatten,
 * Transpose, Concat, Split, Slice, Gather, Squeeze, Unsqueeze, Expand,
 * Constant and Shape (ONNX opsets 7-21, older attribute forms accepted).
 *
 * Shapes are static, so every shape-like operand (Reshape's shape, Slice's
 * starts/ends, Squeeze's axes, ...) must be a constant integer tensor; a
 * non-constant one is reported as unsupported, naming the node. Constant and
 * Shape also set their output's data (in the graph arena) so that later
 * shape operands can read it.
 */
#include <string.h>

#include "ir_infer.h"

/* ---- helpers ---- */

/* a * b for non-negative a, b; false on int64 overflow. */
static bool mul_dim(int64_t a, int64_t b, int64_t *out)
{
    if (b != 0 && a > INT64_MAX / b)
        return false;
    *out = a * b;
    return true;
}

/* Sets output i after checking that its byte size is representable. */
static loom_status set_output(ir_graph *g, ir_node *n, int i, ir_dtype t, const ir_shape *s,
                              ir_diag *d)
{
    size_t bytes;
    if (!ir_shape_bytes(s, t, &bytes)) {
        char buf[192];
        ir_shape_format(s, buf, sizeof buf);
        ir_diag_node(d, g, n, "output %d of shape %s is too large", i, buf);
        return LOOM_STATUS_UNSUPPORTED;
    }
    ir_set_output(n, i, t, s);
    return LOOM_STATUS_OK;
}

/* Normalizes attribute/operand axis for a tensor of the given rank. */
static loom_status get_axis(const ir_graph *g, const ir_node *n, const char *what, int64_t axis,
                            int rank, int *out, ir_diag *d)
{
    if (!ir_normalize_axis(axis, rank, out)) {
        ir_diag_node(d, g, n, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Reads constant integer input i (what names it in messages) into
 * out[0..max) and sets *count. i64 is required unless allow_i32. */
static loom_status const_input(const ir_graph *g, const ir_node *n, int i, const char *what,
                               bool allow_i32, int64_t *out, int max, int *count, ir_diag *d)
{
    const ir_value *v = ir_input(n, i);
    if (!v->data) {
        ir_diag_node(d, g, n,
                     "%s input \"%s\" is not a constant; loom needs it to be a constant "
                     "%s tensor for static shapes",
                     what, v->name, allow_i32 ? "integer" : "i64");
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (v->dtype != IR_DTYPE_I64 && !(allow_i32 && v->dtype == IR_DTYPE_I32)) {
        ir_diag_node(d, g, n, "%s input \"%s\" has dtype %s, expected %s", what, v->name,
                     ir_dtype_name(v->dtype), allow_i32 ? "i32 or i64" : "i64");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (v->shape.rank > 1) {
        ir_diag_node(d, g, n, "%s input \"%s\" must be 1-D, has rank %d", what, v->name,
                     v->shape.rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (ir_shape_numel(&v->shape) > max) {
        ir_diag_node(d, g, n, "%s input \"%s\" has %lld elements; at most %d are supported", what,
                     v->name, (long long)ir_shape_numel(&v->shape), max);
        return LOOM_STATUS_UNSUPPORTED;
    }
    *count = ir_const_ints(v, out, max);
    return *count < 0 ? LOOM_STATUS_INTERNAL : LOOM_STATUS_OK;
}

/* Reads ints attribute name into out[0..max); *count is -1 when absent. */
static loom_status ints_attr(const ir_graph *g, const ir_node *n, const char *name, int64_t *out,
                             int max, int *count, ir_diag *d)
{
    const int64_t *p;
    *count = ir_attr_ints(n, name, &p);
    if (*count > max) {
        ir_diag_node(d, g, n, "attribute %s has %d elements; at most %d are supported", name,
                     *count, max);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (*count > 0)
        memcpy(out, p, (size_t)*count * sizeof *out);
    return LOOM_STATUS_OK;
}

/* Axes of Squeeze/Unsqueeze: attribute before opset 13, input 1 from 13.
 * *count is -1 when neither is given. */
static loom_status read_axes(const ir_graph *g, const ir_node *n, int64_t *axes, int *count,
                             ir_diag *d)
{
    bool has_attr = ir_node_find_attr(n, "axes") != NULL;
    if (ir_input(n, 1)) {
        if (has_attr) {
            ir_diag_node(d, g, n, "axes given both as attribute and as input");
            return LOOM_STATUS_INVALID_MODEL;
        }
        return const_input(g, n, 1, "axes", false, axes, IR_MAX_RANK, count, d);
    }
    return ints_attr(g, n, "axes", axes, IR_MAX_RANK, count, d);
}

/* Normalizes axes[0..count) against rank into mask (true = listed);
 * duplicates are an error. */
static loom_status axes_mask(const ir_graph *g, const ir_node *n, const int64_t *axes, int count,
                             int rank, bool mask[IR_MAX_RANK], ir_diag *d)
{
    memset(mask, 0, IR_MAX_RANK * sizeof *mask);
    for (int k = 0; k < count; k++) {
        int a;
        loom_status st = get_axis(g, n, "axis", axes[k], rank, &a, d);
        if (st)
            return st;
        if (mask[a]) {
            ir_diag_node(d, g, n, "axis %lld is repeated", (long long)axes[k]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        mask[a] = true;
    }
    return LOOM_STATUS_OK;
}

/* ---- Reshape, Flatten ---- */

/* ONNX Reshape-14: resolves 0 (copy the input dim unless allowzero) and one
 * -1 (inferred from the element count) in want into out. */
static loom_status reshape_dims(const ir_graph *g, const ir_node *n, const ir_shape *in,
                                const int64_t *want, int count, bool allowzero, ir_shape *out,
                                ir_diag *d)
{
    int infer_at = -1;
    bool has_zero = false;
    int64_t known = 1;
    out->rank = count;
    for (int i = 0; i < count; i++) {
        int64_t w = want[i];
        if (w == -1) {
            if (infer_at >= 0) {
                ir_diag_node(d, g, n, "shape has more than one -1");
                return LOOM_STATUS_INVALID_MODEL;
            }
            infer_at = i;
            continue;
        }
        if (w < -1) {
            ir_diag_node(d, g, n, "shape[%d] is %lld; dims must be >= -1", i, (long long)w);
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (w == 0 && !allowzero) {
            if (i >= in->rank) {
                ir_diag_node(d, g, n, "shape[%d] is 0 (copy input dim) but the input has rank %d",
                             i, in->rank);
                return LOOM_STATUS_INVALID_MODEL;
            }
            w = in->dims[i];
        }
        has_zero |= want[i] == 0;
        out->dims[i] = w;
        if (!mul_dim(known, w, &known)) {
            ir_diag_node(d, g, n, "shape's element count overflows");
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    int64_t numel = ir_shape_numel(in);
    if (infer_at >= 0) {
        if (allowzero && has_zero) {
            ir_diag_node(d, g, n, "shape has both 0 and -1 with allowzero=1");
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (known == 0 || numel % known != 0) {
            ir_diag_node(d, g, n, "cannot infer the -1 dim: %lld elements into blocks of %lld",
                         (long long)numel, (long long)known);
            return LOOM_STATUS_INVALID_MODEL;
        }
        out->dims[infer_at] = numel / known;
        known = numel;
    }
    if (known != numel) {
        char a[192], b[192];
        ir_shape_format(in, a, sizeof a);
        ir_shape_format(out, b, sizeof b);
        ir_diag_node(d, g, n, "cannot reshape %s (%lld elements) to %s (%lld elements)", a,
                     (long long)numel, b, (long long)known);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

loom_status ir_infer_reshape(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int64_t want[IR_MAX_RANK];
    int count;
    loom_status st = const_input(g, n, 1, "shape", false, want, IR_MAX_RANK, &count, d);
    if (st)
        return st;
    ir_shape out;
    st = reshape_dims(g, n, &x->shape, want, count, ir_attr_int(n, "allowzero", 0) != 0, &out, d);
    if (st)
        return st;
    return set_output(g, n, 0, x->dtype, &out, d);
}

/* ONNX Flatten-13: axis in [-r, r]; output [prod(d[:axis]), prod(d[axis:])]. */
loom_status ir_infer_flatten(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank;
    int64_t axis = ir_attr_int(n, "axis", 1);
    if (axis < -rank || axis > rank) {
        ir_diag_node(d, g, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (axis < 0)
        axis += rank;
    ir_shape out = {.rank = 2, .dims = {1, 1}};
    for (int i = 0; i < rank; i++)
        out.dims[i < axis ? 0 : 1] *= x->shape.dims[i]; /* fits: numel(x) fits */
    return set_output(g, n, 0, x->dtype, &out, d);
}

/* ---- Transpose ---- */

/* ONNX Transpose-13: perm defaults to reversing the dims and must be a
 * permutation of 0..rank-1. */
loom_status ir_infer_transpose(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank;
    int64_t perm[IR_MAX_RANK];
    int count;
    loom_status st = ints_attr(g, n, "perm", perm, IR_MAX_RANK, &count, d);
    if (st)
        return st;
    if (count < 0) {
        count = rank;
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
    }
    if (count != rank) {
        ir_diag_node(d, g, n, "perm has %d entries, input has rank %d", count, rank);
        return LOOM_STATUS_INVALID_MODEL;
    }
    bool seen[IR_MAX_RANK] = {0};
    ir_shape out = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]]) {
            ir_diag_node(d, g, n, "perm is not a permutation of 0..%d (entry %d is %lld)", rank - 1,
                         i, (long long)perm[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        seen[perm[i]] = true;
        out.dims[i] = x->shape.dims[perm[i]];
    }
    return set_output(g, n, 0, x->dtype, &out, d);
}

/* ---- Concat, Split ---- */

/* ONNX Concat-13: same dtype and rank everywhere, dims equal except on axis
 * (Concat-1 defaulted axis to 1; it is required from Concat-4). */
loom_status ir_infer_concat(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x0 = n->inputs[0];
    for (int i = 0; i < n->n_inputs; i++)
        if (!n->inputs[i]) {
            ir_diag_node(d, g, n, "input %d is missing", i);
            return LOOM_STATUS_INVALID_MODEL;
        }
    int rank = x0->shape.rank, axis;
    if (rank == 0) {
        ir_diag_node(d, g, n, "cannot concatenate scalars (input \"%s\" has rank 0)", x0->name);
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = get_axis(g, n, "axis", ir_attr_int(n, "axis", 1), rank, &axis, d);
    if (st)
        return st;
    ir_shape out = x0->shape;
    out.dims[axis] = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const ir_value *x = n->inputs[i];
        if (x->dtype != x0->dtype) {
            ir_diag_node(d, g, n, "input \"%s\" has dtype %s, input \"%s\" has %s", x->name,
                         ir_dtype_name(x->dtype), x0->name, ir_dtype_name(x0->dtype));
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (x->shape.rank != rank) {
            ir_diag_node(d, g, n, "input \"%s\" has rank %d, input \"%s\" has rank %d", x->name,
                         x->shape.rank, x0->name, rank);
            return LOOM_STATUS_INVALID_MODEL;
        }
        for (int k = 0; k < rank; k++)
            if (k != axis && x->shape.dims[k] != x0->shape.dims[k]) {
                ir_diag_node(d, g, n, "input \"%s\" has dim %d = %lld, input \"%s\" has %lld",
                             x->name, k, (long long)x->shape.dims[k], x0->name,
                             (long long)x0->shape.dims[k]);
                return LOOM_STATUS_INVALID_MODEL;
            }
        if (x->shape.dims[axis] > INT64_MAX - out.dims[axis]) {
            ir_diag_node(d, g, n, "concatenated dim overflows");
            return LOOM_STATUS_INVALID_MODEL;
        }
        out.dims[axis] += x->shape.dims[axis];
    }
    return set_output(g, n, 0, x0->dtype, &out, d);
}

/* Split sizes given explicitly (attribute before opset 13, input from 13):
 * one per output, non-negative, summing to dim. */
static loom_status split_explicit(const ir_graph *g, const ir_node *n, const int64_t *split,
                                  int count, int64_t dim, ir_diag *d)
{
    if (count != n->n_outputs) {
        ir_diag_node(d, g, n, "split has %d entries for %d outputs", count, n->n_outputs);
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t sum = 0;
    for (int i = 0; i < count; i++) {
        if (split[i] < 0 || split[i] > dim - sum) {
            ir_diag_node(d, g, n, "split sizes do not add up to the dim %lld (entry %d is %lld)",
                         (long long)dim, i, (long long)split[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        sum += split[i];
    }
    if (sum != dim) {
        ir_diag_node(d, g, n, "split sizes add up to %lld, the dim is %lld", (long long)sum,
                     (long long)dim);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Size of output i when no split sizes are given. ONNX Split-18 with
 * num_outputs: chunks of ceil(dim / n), the last one smaller; older opsets:
 * dim must divide evenly. Returns -1 (after reporting) when impossible. */
static int64_t split_chunk(const ir_graph *g, const ir_node *n, int i, int64_t dim, bool uneven_ok,
                           ir_diag *d)
{
    int64_t parts = n->n_outputs;
    if (!uneven_ok && dim % parts != 0) {
        ir_diag_node(d, g, n,
                     "dim %lld cannot be split evenly into %lld outputs "
                     "(give split sizes or num_outputs)",
                     (long long)dim, (long long)parts);
        return -1;
    }
    int64_t chunk = dim / parts + (dim % parts != 0);
    int64_t last = dim - chunk * (parts - 1);
    if (last < 0) {
        ir_diag_node(d, g, n, "dim %lld cannot be split into %lld chunks of %lld", (long long)dim,
                     (long long)parts, (long long)chunk);
        return -1;
    }
    return i == parts - 1 ? last : chunk;
}

/* Reads explicit split sizes (input 1 or attribute split) into split;
 * *count is -1 when none are given. */
static loom_status split_sizes(ir_graph *g, const ir_node *n, const int64_t **split, int *count,
                               ir_diag *d)
{
    *count = ir_attr_ints(n, "split", split);
    if (!ir_input(n, 1))
        return LOOM_STATUS_OK;
    if (*count >= 0) {
        ir_diag_node(d, g, n, "split given both as attribute and as input");
        return LOOM_STATUS_INVALID_MODEL;
    }
    int64_t len = ir_shape_numel(&n->inputs[1]->shape);
    int64_t *buf = ir_arena_array(&g->arena, (size_t)(len > 0 ? len : 1), sizeof *buf);
    *split = buf;
    return const_input(g, n, 1, "split", false, buf, len > INT32_MAX ? INT32_MAX : (int)len, count,
                       d);
}

loom_status ir_infer_split(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int axis;
    loom_status st = get_axis(g, n, "axis", ir_attr_int(n, "axis", 0), x->shape.rank, &axis, d);
    if (st)
        return st;
    const int64_t *split = NULL;
    int64_t dim = x->shape.dims[axis];
    int count;
    if ((st = split_sizes(g, n, &split, &count, d)))
        return st;
    int64_t num_outputs = ir_attr_int(n, "num_outputs", -1);
    bool has_num = ir_node_find_attr(n, "num_outputs") != NULL;
    if (has_num && count >= 0) {
        ir_diag_node(d, g, n, "split sizes and num_outputs are both given");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (has_num && num_outputs != n->n_outputs) {
        ir_diag_node(d, g, n, "num_outputs is %lld but the node has %d outputs",
                     (long long)num_outputs, n->n_outputs);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (count >= 0 && (st = split_explicit(g, n, split, count, dim, d)))
        return st;
    for (int i = 0; i < n->n_outputs; i++) {
        if (!n->outputs[i]) {
            ir_diag_node(d, g, n, "output %d is omitted; Split needs every output", i);
            return LOOM_STATUS_INVALID_MODEL;
        }
        ir_shape out = x->shape;
        out.dims[axis] = count >= 0 ? split[i] : split_chunk(g, n, i, dim, has_num, d);
        if (out.dims[axis] < 0)
            return LOOM_STATUS_INVALID_MODEL;
        ir_set_output(n, i, x->dtype, &out); /* no larger than x */
    }
    return LOOM_STATUS_OK;
}

/* ---- Slice ---- */

/* Slice operands after choosing the form: attributes (opset 1-9) or inputs
 * (opset 10+). Counts are -1 for absent axes/steps. */
typedef struct slice_args {
    int64_t starts[IR_MAX_RANK], ends[IR_MAX_RANK], axes[IR_MAX_RANK], steps[IR_MAX_RANK];
    int n_starts, n_ends, n_axes, n_steps;
} slice_args;

static loom_status slice_read_attrs(const ir_graph *g, const ir_node *n, slice_args *a, ir_diag *d)
{
    loom_status st;
    if (n->n_inputs > 1) {
        ir_diag_node(d, g, n, "starts/ends given both as attributes and as inputs");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if ((st = ints_attr(g, n, "starts", a->starts, IR_MAX_RANK, &a->n_starts, d)) ||
        (st = ints_attr(g, n, "ends", a->ends, IR_MAX_RANK, &a->n_ends, d)) ||
        (st = ints_attr(g, n, "axes", a->axes, IR_MAX_RANK, &a->n_axes, d)))
        return st;
    if (a->n_starts < 0 || a->n_ends < 0) {
        ir_diag_node(d, g, n, "needs both starts and ends attributes");
        return LOOM_STATUS_INVALID_MODEL;
    }
    a->n_steps = -1;
    return LOOM_STATUS_OK;
}

static loom_status slice_read_inputs(const ir_graph *g, const ir_node *n, slice_args *a, ir_diag *d)
{
    loom_status st;
    if (!ir_input(n, 1) || !ir_input(n, 2)) {
        ir_diag_node(d, g, n,
                     "needs starts and ends (inputs 1 and 2, or attributes before "
                     "opset 10)");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (ir_node_find_attr(n, "axes")) {
        ir_diag_node(d, g, n,
                     "the axes attribute needs starts/ends attributes (opsets 1-9); "
                     "from opset 10 axes is input 3");
        return LOOM_STATUS_INVALID_MODEL;
    }
    a->n_axes = a->n_steps = -1;
    if ((st = const_input(g, n, 1, "starts", true, a->starts, IR_MAX_RANK, &a->n_starts, d)) ||
        (st = const_input(g, n, 2, "ends", true, a->ends, IR_MAX_RANK, &a->n_ends, d)))
        return st;
    if (ir_input(n, 3) &&
        (st = const_input(g, n, 3, "axes", true, a->axes, IR_MAX_RANK, &a->n_axes, d)))
        return st;
    if (ir_input(n, 4) &&
        (st = const_input(g, n, 4, "steps", true, a->steps, IR_MAX_RANK, &a->n_steps, d)))
        return st;
    return LOOM_STATUS_OK;
}

/* ONNX Slice-13 for one axis of size dim: negative indices count from the
 * end; start is clamped to [0, dim] (step > 0) or [0, dim-1] (step < 0),
 * end to [0, dim] or [-1, dim-1]. Sets the first index and the count. */
static void slice_axis(int64_t start, int64_t end, int64_t step, int64_t dim, int64_t *first,
                       int64_t *count)
{
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim; /* no overflow: dim >= 0 */
    int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
    start = start < 0 ? 0 : start > hi ? hi : start;
    end = end < lo ? lo : end > hi ? hi : end;
    *first = start;
    if (dim == 0)
        *count = 0;
    else if (step > 0)
        *count = end > start ? (end - start - 1) / step + 1 : 0;
    else /* -step may overflow: divide as unsigned */
        *count =
            start > end ? (int64_t)((uint64_t)(start - end - 1) / (0 - (uint64_t)step)) + 1 : 0;
}

loom_status ir_slice_geometry(const ir_graph *g, const ir_node *n, ir_slice_geom *geom, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank;
    slice_args a;
    bool old_form = ir_node_find_attr(n, "starts") || ir_node_find_attr(n, "ends");
    loom_status st = old_form ? slice_read_attrs(g, n, &a, d) : slice_read_inputs(g, n, &a, d);
    if (st)
        return st;
    if (a.n_ends != a.n_starts || (a.n_axes >= 0 && a.n_axes != a.n_starts) ||
        (a.n_steps >= 0 && a.n_steps != a.n_starts)) {
        ir_diag_node(d, g, n, "starts, ends, axes and steps differ in length");
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (a.n_axes < 0)
        for (int k = 0; k < a.n_starts; k++)
            a.axes[k] = k;
    bool mask[IR_MAX_RANK];
    if ((st = axes_mask(g, n, a.axes, a.n_starts, rank, mask, d)))
        return st;
    geom->rank = rank;
    for (int i = 0; i < rank; i++) {
        geom->start[i] = 0;
        geom->step[i] = 1;
        geom->count[i] = x->shape.dims[i];
    }
    for (int k = 0; k < a.n_starts; k++) {
        int ax = (int)(a.axes[k] < 0 ? a.axes[k] + rank : a.axes[k]);
        int64_t step = a.n_steps >= 0 ? a.steps[k] : 1;
        if (step == 0) {
            ir_diag_node(d, g, n, "steps[%d] is 0", k);
            return LOOM_STATUS_INVALID_MODEL;
        }
        geom->step[ax] = step;
        slice_axis(a.starts[k], a.ends[k], step, x->shape.dims[ax], &geom->start[ax],
                   &geom->count[ax]);
    }
    return LOOM_STATUS_OK;
}

loom_status ir_infer_slice(ir_graph *g, ir_node *n, ir_diag *d)
{
    ir_slice_geom geom;
    loom_status st = ir_slice_geometry(g, n, &geom, d);
    if (st)
        return st;
    ir_shape out = {.rank = geom.rank};
    for (int i = 0; i < geom.rank; i++)
        out.dims[i] = geom.count[i];
    ir_set_output(n, 0, n->inputs[0]->dtype, &out); /* no larger than the input */
    return LOOM_STATUS_OK;
}

/* ---- Gather ---- */

/* Checks constant indices against the gathered dim [-dim, dim-1]. */
static loom_status gather_check_indices(const ir_graph *g, const ir_node *n, const ir_value *idx,
                                        int64_t dim, ir_diag *d)
{
    int64_t count = ir_shape_numel(&idx->shape);
    for (int64_t i = 0; i < count; i++) {
        int64_t k;
        if (idx->dtype == IR_DTYPE_I64)
            memcpy(&k, (const char *)idx->data + i * 8, 8);
        else {
            int32_t k32;
            memcpy(&k32, (const char *)idx->data + i * 4, 4);
            k = k32;
        }
        if (k < -dim || k >= dim) {
            ir_diag_node(d, g, n,
                         "index %lld (element %lld of \"%s\") is out of range for a "
                         "dim of size %lld",
                         (long long)k, (long long)i, idx->name, (long long)dim);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    return LOOM_STATUS_OK;
}

/* ONNX Gather-13: out = data.shape[:axis] + indices.shape + data.shape[axis+1:]. */
loom_status ir_infer_gather(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *idx = n->inputs[1];
    int r = x->shape.rank, q = idx->shape.rank, axis;
    if (idx->dtype != IR_DTYPE_I64 && idx->dtype != IR_DTYPE_I32) {
        ir_diag_node(d, g, n, "indices \"%s\" have dtype %s, expected i32 or i64", idx->name,
                     ir_dtype_name(idx->dtype));
        return LOOM_STATUS_INVALID_MODEL;
    }
    loom_status st = get_axis(g, n, "axis", ir_attr_int(n, "axis", 0), r, &axis, d);
    if (st)
        return st;
    if (r - 1 + q > IR_MAX_RANK) {
        ir_diag_node(d, g, n, "output rank %d exceeds the supported %d", r - 1 + q, IR_MAX_RANK);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (idx->data && (st = gather_check_indices(g, n, idx, x->shape.dims[axis], d)))
        return st;
    ir_shape out = {.rank = r - 1 + q};
    int k = 0;
    for (int i = 0; i < axis; i++)
        out.dims[k++] = x->shape.dims[i];
    for (int i = 0; i < q; i++)
        out.dims[k++] = idx->shape.dims[i];
    for (int i = axis + 1; i < r; i++)
        out.dims[k++] = x->shape.dims[i];
    return set_output(g, n, 0, x->dtype, &out, d);
}

/* ---- Squeeze, Unsqueeze, Expand ---- */

/* ONNX Squeeze-13: removes the listed dims (each must be 1), or every 1-dim
 * when no axes are given. */
loom_status ir_infer_squeeze(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int rank = x->shape.rank, count;
    int64_t axes[IR_MAX_RANK];
    bool mask[IR_MAX_RANK] = {0};
    loom_status st = read_axes(g, n, axes, &count, d);
    if (st)
        return st;
    if (count > 0 && (st = axes_mask(g, n, axes, count, rank, mask, d)))
        return st;
    ir_shape out = {.rank = 0};
    for (int i = 0; i < rank; i++) {
        int64_t dim = x->shape.dims[i];
        bool drop = count > 0 ? mask[i] : dim == 1;
        if (drop && dim != 1) {
            ir_diag_node(d, g, n, "cannot squeeze axis %d of size %lld", i, (long long)dim);
            return LOOM_STATUS_INVALID_MODEL;
        }
        if (!drop)
            out.dims[out.rank++] = dim;
    }
    ir_set_output(n, 0, x->dtype, &out);
    return LOOM_STATUS_OK;
}

/* ONNX Unsqueeze-13: inserts 1-dims at the listed axes of the output
 * (axes are normalized against the output rank). */
loom_status ir_infer_unsqueeze(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int count;
    int64_t axes[IR_MAX_RANK];
    bool mask[IR_MAX_RANK];
    loom_status st = read_axes(g, n, axes, &count, d);
    if (st)
        return st;
    if (count < 0) {
        ir_diag_node(d, g, n, "needs axes (attribute before opset 13, input from 13)");
        return LOOM_STATUS_INVALID_MODEL;
    }
    int rank = x->shape.rank + count;
    if (rank > IR_MAX_RANK) {
        ir_diag_node(d, g, n, "output rank %d exceeds the supported %d", rank, IR_MAX_RANK);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if ((st = axes_mask(g, n, axes, count, rank, mask, d)))
        return st;
    ir_shape out = {.rank = rank};
    for (int i = 0, k = 0; i < rank; i++)
        out.dims[i] = mask[i] ? 1 : x->shape.dims[k++];
    ir_set_output(n, 0, x->dtype, &out);
    return LOOM_STATUS_OK;
}

/* ONNX Expand-13: bidirectional (numpy) broadcast of the input with the
 * constant shape operand. */
loom_status ir_infer_expand(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int64_t want[IR_MAX_RANK];
    int count;
    loom_status st = const_input(g, n, 1, "shape", false, want, IR_MAX_RANK, &count, d);
    if (st)
        return st;
    ir_shape target = {.rank = count}, out;
    for (int i = 0; i < count; i++) {
        if (want[i] < 0) {
            ir_diag_node(d, g, n, "shape[%d] is %lld; dims must be >= 0", i, (long long)want[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
        target.dims[i] = want[i];
    }
    if (!ir_broadcast_shapes(&x->shape, &target, &out)) {
        char a[192], b[192];
        ir_shape_format(&x->shape, a, sizeof a);
        ir_shape_format(&target, b, sizeof b);
        ir_diag_node(d, g, n, "cannot broadcast input shape %s to %s", a, b);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return set_output(g, n, 0, x->dtype, &out, d);
}

/* ---- Constant, Shape ---- */

/* Sets the output of Constant to dtype/shape with a copy of bytes. */
static loom_status constant_out(ir_graph *g, ir_node *n, ir_dtype t, const ir_shape *s,
                                const void *bytes, ir_diag *d)
{
    loom_status st = set_output(g, n, 0, t, s, d);
    if (st)
        return st;
    ir_value *y = n->outputs[0];
    if (y)
        y->data = ir_arena_memdup(&g->arena, bytes, ir_value_bytes(y));
    return LOOM_STATUS_OK;
}

/* ONNX Constant-13: exactly one of value, value_float(s), value_int(s);
 * sparse_value and value_string(s) are not supported. */
loom_status ir_infer_constant(ir_graph *g, ir_node *n, ir_diag *d)
{
    if (n->n_attrs != 1) {
        ir_diag_node(d, g, n,
                     "needs exactly one attribute (value, value_float, value_floats, "
                     "value_int or value_ints), has %d",
                     n->n_attrs);
        return LOOM_STATUS_INVALID_MODEL;
    }
    const ir_attr *a = &n->attrs[0];
    ir_shape s = {.rank = 0};
    if (strcmp(a->name, "value") == 0 && a->kind == IR_ATTR_TENSOR) {
        const ir_value *t = a->u.tensor;
        if (!t || !t->data || !t->shape_known) {
            ir_diag_node(d, g, n, "value attribute has no tensor data");
            return LOOM_STATUS_INVALID_MODEL;
        }
        return constant_out(g, n, t->dtype, &t->shape, t->data, d);
    }
    if (strcmp(a->name, "value_float") == 0 && a->kind == IR_ATTR_FLOAT)
        return constant_out(g, n, IR_DTYPE_F32, &s, &a->u.f, d);
    if (strcmp(a->name, "value_int") == 0 && a->kind == IR_ATTR_INT)
        return constant_out(g, n, IR_DTYPE_I64, &s, &a->u.i, d);
    s = (ir_shape){.rank = 1, .dims = {a->n}};
    if (strcmp(a->name, "value_floats") == 0 && a->kind == IR_ATTR_FLOATS)
        return constant_out(g, n, IR_DTYPE_F32, &s, a->u.floats, d);
    if (strcmp(a->name, "value_ints") == 0 && a->kind == IR_ATTR_INTS)
        return constant_out(g, n, IR_DTYPE_I64, &s, a->u.ints, d);
    ir_diag_node(d, g, n, "attribute %s of kind %s is not supported", a->name,
                 ir_attr_kind_name(a->kind));
    return LOOM_STATUS_UNSUPPORTED;
}

void ir_shape_range(const ir_node *n, int rank, int *start, int *end)
{
    int64_t s = ir_attr_int(n, "start", 0), e = ir_attr_int(n, "end", rank);
    if (s < 0)
        s += rank;
    if (e < 0)
        e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    *start = (int)s;
    *end = (int)(e < s ? s : e);
}

/* ONNX Shape-15: the input's dims [start, end) as i64; the data is set too
 * since shapes are static. */
loom_status ir_infer_shape(ir_graph *g, ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0];
    int start, end;
    ir_shape_range(n, x->shape.rank, &start, &end);
    ir_shape s = {.rank = 1, .dims = {end - start}};
    return constant_out(g, n, IR_DTYPE_I64, &s, x->shape.dims + start, d);
}

/* ONNX Size-21: the input's element count as an i64 scalar (constant). */
loom_status ir_infer_size(ir_graph *g, ir_node *n, ir_diag *d)
{
    int64_t count = ir_shape_numel(&n->inputs[0]->shape);
    ir_shape s = {.rank = 0};
    return constant_out(g, n, IR_DTYPE_I64, &s, &count, d);
}
