/*
 * Shape inference for FusedAttention, loom's own op (not ONNX; made by the
 * fuse-attention pass from the MatMul/Softmax/MatMul chains exporters
 * write). Its semantics follow ONNX Attention-23 for 4-D inputs without
 * grouped heads:
 *   Y = softmax(scale * Q K^T + mask [+ causal -inf above the diagonal]) V
 * with Q [..., Sq, D], K [..., Sk, D] and V [..., Sk, Dv] sharing their
 * leading (batch, head) dims exactly, the optional mask f32 and
 * unidirectionally broadcastable to the scores [..., Sq, Sk], is_causal
 * keeping key j for query i when j <= i, and scale defaulting to
 * 1 / sqrt(D). Y is [..., Sq, Dv]; everything is f32.
 */
#include <math.h>
#include <stdio.h>

#include "ir_infer.h"

#define SHAPE_BUF 200

void ir_attention_geometry(const ir_node *n, ir_attn_geom *ag)
{
    const ir_shape *q = &n->inputs[0]->shape, *k = &n->inputs[1]->shape;
    const ir_shape *v = &n->inputs[2]->shape;
    int r = q->rank;
    ag->lead = r - 2;
    ag->batch = 1;
    for (int i = 0; i < r - 2; i++)
        ag->batch *= q->dims[i];
    ag->sq = q->dims[r - 2];
    ag->d = q->dims[r - 1];
    ag->sk = k->dims[r - 2];
    ag->dv = v->dims[r - 1];
    double def = ag->d > 0 ? 1.0 / sqrt((double)ag->d) : 1.0;
    ag->scale = ir_node_find_attr(n, "scale") ? ir_attr_float(n, "scale", 1.0f) : def;
    ag->causal = ir_attr_int(n, "is_causal", 0) != 0;
}

/* Reports operand v (named what) unless it is f32. */
static loom_status check_f32(const ir_graph *g, const ir_node *n, ir_diag *d, const ir_value *v,
                             const char *what)
{
    if (v->dtype == IR_DTYPE_F32)
        return LOOM_STATUS_OK;
    ir_diag_node(d, g, n, "%s has dtype %s, expected f32", what, ir_dtype_name(v->dtype));
    return LOOM_STATUS_UNSUPPORTED;
}

/* Reports a shape mismatch of Q, K and V. */
static loom_status mismatch(const ir_graph *g, const ir_node *n, ir_diag *d, const char *why)
{
    char qs[SHAPE_BUF], ks[SHAPE_BUF], vs[SHAPE_BUF];
    ir_shape_format(&n->inputs[0]->shape, qs, sizeof qs);
    ir_shape_format(&n->inputs[1]->shape, ks, sizeof ks);
    ir_shape_format(&n->inputs[2]->shape, vs, sizeof vs);
    ir_diag_node(d, g, n, "%s (Q %s, K %s, V %s)", why, qs, ks, vs);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Q, K and V: rank >= 2, one rank, the same leading dims, K's last dim
 * Q's, V's keys K's. */
static loom_status check_qkv(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_shape *q = &n->inputs[0]->shape, *k = &n->inputs[1]->shape;
    const ir_shape *v = &n->inputs[2]->shape;
    int r = q->rank;
    if (r < 2 || k->rank != r || v->rank != r)
        return mismatch(g, n, d, "Q, K and V must have one rank of at least 2");
    for (int i = 0; i < r - 2; i++)
        if (k->dims[i] != q->dims[i] || v->dims[i] != q->dims[i])
            return mismatch(g, n, d, "Q, K and V must have the same leading dims");
    if (k->dims[r - 1] != q->dims[r - 1])
        return mismatch(g, n, d, "K's head size differs from Q's");
    if (v->dims[r - 2] != k->dims[r - 2])
        return mismatch(g, n, d, "V's sequence length differs from K's");
    return LOOM_STATUS_OK;
}

/* The mask broadcasts (unidirectionally) to the scores [..., Sq, Sk]. */
static loom_status check_mask(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_value *m = ir_input(n, 3);
    if (!m)
        return LOOM_STATUS_OK;
    loom_status st = check_f32(g, n, d, m, "mask");
    if (st)
        return st;
    ir_shape s = n->inputs[0]->shape;
    s.dims[s.rank - 1] = n->inputs[1]->shape.dims[s.rank - 2];
    bool ok = m->shape.rank <= s.rank;
    for (int i = 0; ok && i < m->shape.rank; i++) {
        int64_t f = m->shape.dims[i], t = s.dims[s.rank - m->shape.rank + i];
        ok = f == 1 || f == t;
    }
    if (ok)
        return LOOM_STATUS_OK;
    char ms[SHAPE_BUF], ss[SHAPE_BUF];
    ir_shape_format(&m->shape, ms, sizeof ms);
    ir_shape_format(&s, ss, sizeof ss);
    ir_diag_node(d, g, n, "mask of shape %s does not broadcast to the scores %s", ms, ss);
    return LOOM_STATUS_INVALID_MODEL;
}

loom_status ir_infer_fused_attention(ir_graph *g, ir_node *n, ir_diag *d)
{
    static const char *const names[3] = {"Q", "K", "V"};
    loom_status st = LOOM_STATUS_OK;
    for (int i = 0; i < 3 && !st; i++)
        st = check_f32(g, n, d, n->inputs[i], names[i]);
    if (st || (st = check_qkv(g, n, d)) || (st = check_mask(g, n, d)))
        return st;
    int64_t causal = ir_attr_int(n, "is_causal", 0);
    if (causal != 0 && causal != 1) {
        ir_diag_node(d, g, n, "is_causal is %lld, expected 0 or 1", (long long)causal);
        return LOOM_STATUS_INVALID_MODEL;
    }
    float scale = ir_attr_float(n, "scale", 1.0f);
    if (!isfinite(scale)) {
        ir_diag_node(d, g, n, "scale is not finite");
        return LOOM_STATUS_INVALID_MODEL;
    }
    ir_shape y = n->inputs[0]->shape;
    y.dims[y.rank - 1] = n->inputs[2]->shape.dims[y.rank - 1];
    ir_set_output(n, 0, IR_DTYPE_F32, &y);
    return LOOM_STATUS_OK;
}
