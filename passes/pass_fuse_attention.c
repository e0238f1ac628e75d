/*
 * Attention fusion: the scaled dot-product attention that torch's
 * exporters (TorchScript opset 17, dynamo opset 18+) and hand-written
 * models spell out,
 *   s = MatMul(Q', Kt')            Q' = Q [* c1], Kt' = Kt [* c2] (ViT)
 *   s = s * c | s / c              optional constant scalar scale
 *   s = s + mask                   optional additive mask (BERT padding,
 *                                  T5 position bias, a -inf triangle)
 *   s = Where(tril, s, -big)       optional causal mask (GPT)
 *   s = Cast(s, f32)               (T5's TorchScript export)
 *   y = MatMul(Softmax(s, axis=-1), V)
 * becomes one FusedAttention node (ir_infer_attention.c) with K the
 * transpose of Kt over its last two dims (absorbing Kt's own Transpose),
 * is_causal for a causal mask, and the product of the scales. The
 * multi-head Reshape/Transpose around it stays: the fused op works on any
 * [..., S, D] layout. Preconditions (else nothing happens): f32; every
 * intermediate read only by the next node of the chain; the scale a
 * constant scalar; the softmax over the last axis; the mask broadcasting
 * to the scores without widening them; a Where's condition a constant
 * lower triangle (j <= i) and its other arm a constant at most -1e30;
 * Q, Kt, V of one rank with the same leading dims.
 *
 * Always fused when it matches: bench/attention_bench.py (numbers in
 * docs/passes.md) found the fused kernel faster from sequence 32 to 2048
 * on both backends and within timing noise of the unfused C code at 16
 * (2x faster on the JIT there), with a workspace of one score tile
 * against the full [heads, S, S] scores, so no shape keeps the unfused
 * form.
 */
#include <math.h>
#include <string.h>

#include "ir_infer.h"
#include "pass_match.h"
#include "passes.h"

#define ATTN_MAX_CHAIN 10
/* a Where's fill (or an additive mask's masked entries) at most this
 * counts as -inf: exp(fill - max) is 0 in f32 */
#define ATTN_NEG_BIG (-1e30)

/* The chain being matched, from the scores' MatMul to the output's. */
typedef struct attn_match {
    ir_node *chain[ATTN_MAX_CHAIN];
    int n;
    ir_node *qk; /* the scores' MatMul */
    ir_value *q, *kt, *v, *mask;
    double scale;
    bool causal;
} attn_match;

static void take(attn_match *m, ir_node *n)
{
    m->chain[m->n++] = n;
}

/* Puts n first in the chain (a producer of its inputs). */
static void take_first(attn_match *m, ir_node *n)
{
    memmove(m->chain + 1, m->chain, (size_t)m->n * sizeof m->chain[0]);
    m->chain[0] = n;
    m->n++;
}

/* Element i of a constant f32 or bool tensor. */
static double const_at(const ir_value *v, int64_t i)
{
    if (v->dtype == IR_DTYPE_BOOL)
        return ((const uint8_t *)v->data)[i];
    float f;
    memcpy(&f, (const float *)v->data + i, sizeof f);
    return f;
}

/* v is a constant whose leading dims are 1 and whose last two are
 * [sq, sk], each element (i, j) satisfying keep(j <= i, element). */
static bool triangle(const ir_value *v, int64_t sq, int64_t sk, bool (*keep)(bool, double))
{
    const ir_shape *s = &v->shape;
    if (!v->data || (v->dtype != IR_DTYPE_BOOL && v->dtype != IR_DTYPE_F32) || s->rank < 2 ||
        s->dims[s->rank - 2] != sq || s->dims[s->rank - 1] != sk)
        return false;
    for (int i = 0; i < s->rank - 2; i++)
        if (s->dims[i] != 1)
            return false;
    for (int64_t i = 0; i < sq; i++)
        for (int64_t j = 0; j < sk; j++)
            if (!keep(j <= i, const_at(v, i * sk + j)))
                return false;
    return true;
}

static bool tril_cond(bool lower, double x) { return (x != 0) == lower; }
static bool triu_cond(bool lower, double x) { return (x != 0) == !lower; }
static bool causal_bias(bool lower, double x) { return lower ? x == 0 : x <= ATTN_NEG_BIG; }

/* A causal Where: Where(tril, s, fill) or Where(triu, fill, s) with fill a
 * constant scalar at most ATTN_NEG_BIG; the scores operand, else NULL. */
static ir_value *causal_where(const ir_node *w)
{
    const ir_shape *s = &w->outputs[0]->shape;
    if (s->rank < 2)
        return NULL;
    int64_t sq = s->dims[s->rank - 2], sk = s->dims[s->rank - 1];
    for (int slot = 1; slot <= 2; slot++) {
        const ir_value *fill = w->inputs[3 - slot];
        if (!fill->data || fill->dtype != IR_DTYPE_F32 || ir_shape_numel(&fill->shape) != 1 ||
            const_at(fill, 0) > ATTN_NEG_BIG)
            continue;
        if (triangle(w->inputs[0], sq, sk, slot == 1 ? tril_cond : triu_cond))
            return w->inputs[slot];
    }
    return NULL;
}

/* s's producer when it is op and s is read only by `by`, else NULL. */
static ir_node *feeding(const ir_graph *g, const ir_value *s, ir_op op, const ir_node *by)
{
    ir_node *p = pass_producer(s, op);
    return p && ir_value_single_user(g, s) == by ? p : NULL;
}

/* An additive mask: Add(s, mask) with mask f32 of rank <= the scores' and
 * the output the shape of s. The scores operand, else NULL. */
static ir_value *mask_add(const ir_node *a, attn_match *m)
{
    /* the scores come from the MatMul or its scale */
    const ir_node *p0 = a->inputs[0]->producer;
    int first = p0 && (p0->op == IR_OP_MAT_MUL || p0->op == IR_OP_MUL || p0->op == IR_OP_DIV) ? 0 : 1;
    for (int t = 0; t < 2; t++) {
        int k = t ? 1 - first : first;
        ir_value *s = a->inputs[k], *mask = a->inputs[1 - k];
        if (!s->producer || mask->dtype != IR_DTYPE_F32 ||
            !ir_shape_equal(&s->shape, &a->outputs[0]->shape) || mask->shape.rank > s->shape.rank)
            continue;
        const ir_shape *ss = &s->shape;
        if (triangle(mask, ss->dims[ss->rank - 2], ss->dims[ss->rank - 1], causal_bias))
            m->causal = true; /* a -inf triangle is the causal flag */
        else
            m->mask = mask;
        return s;
    }
    return NULL;
}

/* Peels the mask, causal Where and scale nodes off the softmax input s,
 * newest first; returns the scores MatMul's output, else NULL. */
static ir_value *peel(const ir_graph *g, ir_value *s, const ir_node *by, attn_match *m)
{
    ir_node *p;
    for (int guard = 0; guard < 4 && s; guard++) {
        if ((p = feeding(g, s, IR_OP_CAST, by)) && p->inputs[0]->dtype == IR_DTYPE_F32 &&
            p->outputs[0]->dtype == IR_DTYPE_F32) {
            s = p->inputs[0];
        } else if ((p = feeding(g, s, IR_OP_WHERE, by)) && !m->causal && !m->mask) {
            s = causal_where(p);
            m->causal = s != NULL;
        } else if ((p = feeding(g, s, IR_OP_ADD, by)) && !m->causal && !m->mask) {
            s = mask_add(p, m);
        } else {
            break;
        }
        take(m, p);
        by = p;
    }
    if (!s)
        return NULL;
    /* the scale: Mul or Div by a constant scalar */
    if ((p = feeding(g, s, IR_OP_MUL, by)) || (p = feeding(g, s, IR_OP_DIV, by))) {
        int k = p->op == IR_OP_MUL && p->inputs[0]->data ? 0 : 1;
        const ir_value *c = p->inputs[k];
        if (!c->data || c->dtype != IR_DTYPE_F32 || ir_shape_numel(&c->shape) != 1)
            return NULL;
        double x = const_at(c, 0);
        m->scale *= p->op == IR_OP_DIV ? 1.0 / x : x;
        s = p->inputs[1 - k];
        take(m, p);
        by = p;
    }
    return feeding(g, s, IR_OP_MAT_MUL, by) ? s : NULL;
}

/* q scaled by a constant scalar (ViT: Q and K each times sqrt(scale)),
 * read only by `by`: multiplies it into the scale and returns the
 * unscaled operand; else q itself. */
static ir_value *unscaled(const ir_graph *g, ir_value *q, const ir_node *by, attn_match *m)
{
    ir_node *p = feeding(g, q, IR_OP_MUL, by);
    if (!p)
        return q;
    int k = p->inputs[0]->data ? 0 : 1;
    const ir_value *c = p->inputs[k];
    if (!c->data || c->dtype != IR_DTYPE_F32 || ir_shape_numel(&c->shape) != 1 ||
        !ir_shape_equal(&p->inputs[1 - k]->shape, &q->shape))
        return q;
    m->scale *= const_at(c, 0);
    take(m, p);
    return p->inputs[1 - k];
}

/* Q [..., Sq, D], Kt [..., D, Sk], V [..., Sk, Dv]: one rank, the same
 * leading dims, all f32; and y [..., Sq, Dv] (nothing in the chain
 * broadcast the scores to more dims). */
static bool shapes_fit(const attn_match *m, const ir_value *y)
{
    const ir_shape *q = &m->q->shape, *k = &m->kt->shape, *v = &m->v->shape;
    int r = q->rank;
    if (r < 2 || k->rank != r || v->rank != r || y->shape.rank != r ||
        m->q->dtype != IR_DTYPE_F32 || m->kt->dtype != IR_DTYPE_F32 ||
        m->v->dtype != IR_DTYPE_F32)
        return false;
    for (int i = 0; i < r - 2; i++)
        if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i] || y->shape.dims[i] != q->dims[i])
            return false;
    return k->dims[r - 2] == q->dims[r - 1] && v->dims[r - 2] == k->dims[r - 1] &&
           y->shape.dims[r - 2] == q->dims[r - 2] && y->shape.dims[r - 1] == v->dims[r - 1];
}

/* Matches the attention whose softmax is sm; fills m. */
static bool match(const ir_graph *g, ir_node *sm, attn_match *m)
{
    int64_t outer, len, inner;
    const ir_value *x = sm->inputs[0];
    ir_node *pv = pass_single_user(g, sm, IR_OP_MAT_MUL);
    if (!pv || pv->n_inputs != 2 || pv->inputs[0] != sm->outputs[0] || x->dtype != IR_DTYPE_F32 ||
        x->shape.rank < 2 || !ir_softmax_geometry(sm, &x->shape, &outer, &len, &inner) ||
        inner != 1 || len != x->shape.dims[x->shape.rank - 1])
        return false;
    *m = (attn_match){.scale = 1.0};
    ir_node *tail[ATTN_MAX_CHAIN];
    ir_value *s = peel(g, sm->inputs[0], sm, m);
    if (!s)
        return false;
    ir_node *qk = m->qk = s->producer;
    if (qk->n_inputs != 2)
        return false;
    /* chain so far is newest first: put it in execution order */
    int nt = m->n;
    memcpy(tail, m->chain, sizeof tail);
    m->n = 0;
    m->q = unscaled(g, qk->inputs[0], qk, m);
    m->kt = unscaled(g, qk->inputs[1], qk, m);
    take(m, qk);
    for (int i = nt - 1; i >= 0; i--)
        take(m, tail[i]);
    take(m, sm);
    take(m, pv);
    m->v = pv->inputs[1];
    return shapes_fit(m, pv->outputs[0]) && isfinite(m->scale);
}

/* K [..., Sk, D] from Kt: the input of Kt's Transpose with the perm's
 * last two axes swapped back (as it is when that is the identity), else
 * Kt through a new Transpose placed before the scores' MatMul, returned
 * in *tn. Kt's Transpose, when only the scores read it, joins the chain. */
static ir_value *key_of(ir_graph *g, ir_value *kt, attn_match *m, ir_node **tn)
{
    int r = kt->shape.rank;
    int64_t perm[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        perm[i] = i;
    ir_value *src = kt;
    ir_node *t = pass_producer(kt, IR_OP_TRANSPOSE);
    const int64_t *tp = NULL;
    if (t && ir_attr_ints(t, "perm", &tp) == r) {
        memcpy(perm, tp, (size_t)r * sizeof perm[0]);
        src = t->inputs[0];
        if (ir_value_single_user(g, kt))
            take_first(m, t);
    }
    int64_t last = perm[r - 1];
    perm[r - 1] = perm[r - 2];
    perm[r - 2] = last;
    bool identity = true;
    for (int i = 0; i < r; i++)
        identity = identity && perm[i] == i;
    if (identity)
        return src;
    ir_value *k = ir_graph_new_value(g, "attn_k", IR_DTYPE_F32);
    *tn = ir_graph_insert_node(g, m->qk, IR_OP_TRANSPOSE, "attn_k", &src, 1, &k, 1);
    ir_node_set_ints(g, *tn, "perm", perm, r);
    return k;
}

/* Fuses the attention at softmax sm; true if it did. */
static bool fuse_at(ir_graph *g, ir_node *sm, ir_diag *d, loom_status *st)
{
    attn_match m;
    if (!match(g, sm, &m))
        return false;
    ir_node *tn = NULL;
    ir_value *k = key_of(g, m.kt, &m, &tn);
    if (tn && (*st = ir_infer_node(g, tn, d)))
        return true;
    ir_value *in[4] = {m.q, k, m.v, m.mask};
    ir_node *fa = pass_replace_chain(g, m.chain, m.n, IR_OP_FUSED_ATTENTION, in, m.mask ? 4 : 3);
    ir_node_set_float(g, fa, "scale", (float)m.scale);
    if (m.causal)
        ir_node_set_int(g, fa, "is_causal", 1);
    *st = ir_infer_node(g, fa, d);
    return true;
}

loom_status pass_fuse_attention(ir_graph *g, ir_diag *d)
{
    return pass_fuse_each(g, IR_OP_SOFTMAX, IR_OP_COUNT, fuse_at, d);
}
