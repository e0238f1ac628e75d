/*
 * einsum-to-matmul: a two-operand f32 Einsum that is a batched matrix
 * product becomes Transpose / Reshape / MatMul / Reshape / Transpose, so it
 * runs on the GEMM kernels (and the attention fusion sees its MatMuls)
 * instead of the general Einsum loop nest.
 *
 * ONNX Einsum-12 labels of "A,B->Y" fall into four classes: batch (in A,
 * B and Y), M (in A and Y), N (in B and Y) and K (in A and B, summed).
 * Then Y = MatMul(A as [batch..., M, K], B as [batch..., K, N]) with the
 * M, N and K labels each merged into one dim, reshaped to the labels and
 * permuted into Y's order. An equation with another shape (a label twice
 * in one operand, a label summed over one operand only, a broadcast
 * ellipsis dim, an empty dim) keeps the general path.
 */
#include <string.h>

#include "ir_infer_index.h"
#include "pass_match.h"
#include "passes.h"

enum { EM_BATCH, EM_M, EM_N, EM_K, EM_CLASSES };

/* The labels of each class in their order (batch in Y's order, M and K in
 * A's, N in B's), for a matmul-shaped einsum. */
typedef struct em_plan {
    int n[EM_CLASSES];
    int label[EM_CLASSES][IR_MAX_RANK];
} em_plan;

/* Each label at most once per operand, and no broadcast (size-1 ellipsis
 * dim against a larger one). */
static bool operands_plain(const ir_einsum_geom *e)
{
    for (int k = 0; k < 2; k++) {
        bool seen[IR_EINSUM_MAX_LABELS] = {false};
        for (int i = 0; i < e->rank[k]; i++) {
            int l = e->label[k][i];
            if (seen[l] || (e->bcast[k][i] && e->size[l] != 1) || e->size[l] <= 0)
                return false;
            seen[l] = true;
        }
    }
    return true;
}

static bool has_label(const ir_einsum_geom *e, int k, int l)
{
    for (int i = 0; i < e->rank[k]; i++)
        if (e->label[k][i] == l)
            return true;
    return false;
}

static void plan_add(em_plan *p, int cls, int l)
{
    for (int i = 0; i < p->n[cls]; i++)
        if (p->label[cls][i] == l)
            return;
    p->label[cls][p->n[cls]++] = l;
}

/* Classifies the labels; false when one is in a single operand only and
 * not in Y (a one-sided sum MatMul cannot do). */
static bool plan_make(const ir_einsum_geom *e, em_plan *p)
{
    memset(p, 0, sizeof *p);
    for (int l = 0; l < e->n_labels; l++) {
        bool a = has_label(e, 0, l), b = has_label(e, 1, l), y = l < e->n_out;
        if (!(a && b) && !y)
            return false;
        if (y && a && b)
            plan_add(p, EM_BATCH, l); /* output labels come first, in Y's order */
    }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < e->rank[k]; i++) {
            int l = e->label[k][i];
            bool other = has_label(e, 1 - k, l), y = l < e->n_out;
            if (!other)
                plan_add(p, k == 0 ? EM_M : EM_N, l);
            else if (!y && k == 0)
                plan_add(p, EM_K, l);
        }
    return true;
}

static int64_t class_size(const ir_einsum_geom *e, const em_plan *p, int cls)
{
    int64_t n = 1;
    for (int i = 0; i < p->n[cls]; i++)
        n *= e->size[p->label[cls][i]];
    return n;
}

/* A new value for an intermediate, or n's output for the last node. */
static ir_value *result_value(ir_graph *g, ir_node *n, ir_dtype t, bool last)
{
    return last ? n->outputs[0] : ir_graph_new_value(g, n->outputs[0]->name, t);
}

/* Inserts op(x, x2) before n and infers it; returns its output. */
static ir_value *emit(ir_graph *g, ir_node *n, ir_op op, ir_value *x, ir_value *x2, bool last,
                      ir_diag *d, loom_status *st)
{
    ir_value *y = result_value(g, n, x->dtype, last);
    ir_value *in[2] = {x, x2};
    ir_node *m = ir_graph_insert_node(g, n, op, n->name, in, 2, &y, 1);
    if (!*st)
        *st = ir_infer_node(g, m, d);
    return y;
}

/* x permuted by perm (nothing when perm is the identity). */
static ir_value *permute(ir_graph *g, ir_node *n, ir_value *x, const int64_t *perm, bool last,
                         ir_diag *d, loom_status *st)
{
    int rank = x->shape.rank;
    bool identity = true;
    for (int i = 0; i < rank; i++)
        identity &= perm[i] == i;
    if (identity && !last)
        return x;
    ir_value *y = result_value(g, n, x->dtype, last);
    ir_node *m = ir_graph_insert_node(g, n, IR_OP_TRANSPOSE, n->name, &x, 1, &y, 1);
    ir_node_set_ints(g, m, "perm", perm, rank);
    if (!*st)
        *st = ir_infer_node(g, m, d);
    return y;
}

/* x reshaped to dims (nothing when it has them already). */
static ir_value *reshape(ir_graph *g, ir_node *n, ir_value *x, int rank, const int64_t *dims,
                         bool last, ir_diag *d, loom_status *st)
{
    ir_shape s = {.rank = rank};
    memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
    if (!last && ir_shape_equal(&s, &x->shape))
        return x;
    ir_shape ss = {.rank = 1, .dims = {rank}};
    ir_value *shape = ir_graph_new_const(g, "shape", IR_DTYPE_I64, &ss);
    memcpy(shape->data, dims, (size_t)rank * sizeof *dims);
    return emit(g, n, IR_OP_RESHAPE, x, shape, last, d, st);
}

/* Operand k as [batch..., rows, cols]: transposed to the classes' label
 * order, then the row and the column classes merged. */
static ir_value *operand(ir_graph *g, ir_node *n, const ir_einsum_geom *e, const em_plan *p,
                         int k, int rows, int cols, ir_diag *d, loom_status *st)
{
    int64_t perm[IR_MAX_RANK], dims[IR_MAX_RANK];
    int r = 0;
    const int order[3] = {EM_BATCH, rows, cols};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < p->n[order[c]]; i++)
            for (int a = 0; a < e->rank[k]; a++)
                if (e->label[k][a] == p->label[order[c]][i])
                    perm[r++] = a;
    ir_value *x = permute(g, n, n->inputs[k], perm, false, d, st);
    for (int i = 0; i < p->n[EM_BATCH]; i++)
        dims[i] = e->size[p->label[EM_BATCH][i]];
    dims[p->n[EM_BATCH]] = class_size(e, p, rows);
    dims[p->n[EM_BATCH] + 1] = class_size(e, p, cols);
    return reshape(g, n, x, p->n[EM_BATCH] + 2, dims, false, d, st);
}

/* The labels of the MatMul result [batch..., M, N] split, their sizes,
 * and the permutation into Y's order; returns whether it is the identity. */
static bool result_layout(const ir_einsum_geom *e, const em_plan *p, int64_t *dims,
                          int64_t *perm)
{
    int lab[IR_MAX_RANK], r = 0;
    const int order[3] = {EM_BATCH, EM_M, EM_N};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < p->n[order[c]]; i++) {
            lab[r] = p->label[order[c]][i];
            dims[r] = e->size[lab[r]];
            r++;
        }
    bool ordered = true;
    for (int j = 0; j < e->n_out; j++)
        for (int i = 0; i < r; i++)
            if (lab[i] == j) {
                perm[j] = i;
                ordered &= i == j;
            }
    return ordered;
}

/* An equation MatMul serves: a contraction (a K label) whose MatMul
 * operands fit the rank limit. */
static bool matmul_shaped(const ir_graph *g, const ir_node *n, ir_einsum_geom *e, em_plan *p)
{
    return n->n_inputs == 2 && n->inputs[0]->dtype == IR_DTYPE_F32 &&
           n->inputs[1]->dtype == IR_DTYPE_F32 && !ir_einsum_geometry(g, n, e, NULL) &&
           operands_plain(e) && plan_make(e, p) && p->n[EM_K] > 0 &&
           p->n[EM_BATCH] + 2 <= IR_MAX_RANK;
}

/* Rewrites Einsum n when it is a matmul; true if it did. */
static bool rewrite(ir_graph *g, ir_node *n, ir_diag *d, loom_status *st)
{
    ir_einsum_geom e;
    em_plan p;
    if (!matmul_shaped(g, n, &e, &p))
        return false;
    int64_t dims[IR_MAX_RANK], perm[IR_MAX_RANK];
    bool ordered = result_layout(&e, &p, dims, perm);
    bool split = p.n[EM_M] != 1 || p.n[EM_N] != 1; /* the MatMul result needs a Reshape */
    ir_value *a = operand(g, n, &e, &p, 0, EM_M, EM_K, d, st);
    ir_value *b = operand(g, n, &e, &p, 1, EM_K, EM_N, d, st);
    ir_value *y = emit(g, n, IR_OP_MAT_MUL, a, b, ordered && !split, d, st);
    if (split)
        y = reshape(g, n, y, e.n_out, dims, ordered, d, st);
    if (!ordered)
        permute(g, n, y, perm, true, d, st);
    ir_graph_erase_node(g, n);
    return true;
}

loom_status pass_einsum_to_matmul(ir_graph *g, ir_diag *d)
{
    return pass_fuse_each(g, IR_OP_EINSUM, IR_OP_COUNT, rewrite, d);
}
