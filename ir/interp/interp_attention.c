/*
 * Reference kernel of FusedAttention (semantics in ir_infer_attention.c):
 * for each (batch, head) and query row, the full score row in double,
 * softmax as ONNX Softmax-13 computes it (exp(x - max) / sum), then the
 * weighted sum of V's rows. Plain loops, the oracle of the fused kernel.
 */
#include <math.h>

#include "interp_internal.h"

/* Everything one head's rows read. */
typedef struct attn_head {
    const float *q, *k, *v, *mask; /* this head's Q, K, V; mask at (0, 0) */
    float *y;
    int64_t mask_rs, mask_cs;      /* broadcast strides of the mask */
} attn_head;

/* Scores of query i into s[0..sk): scale q.k + mask, -inf past the
 * diagonal when causal. */
static void score_row(const ir_attn_geom *ag, const attn_head *h, int64_t i, double *s)
{
    for (int64_t j = 0; j < ag->sk; j++) {
        double dot = 0;
        for (int64_t t = 0; t < ag->d; t++)
            dot += (double)h->q[i * ag->d + t] * h->k[j * ag->d + t];
        s[j] = ag->scale * dot;
        if (h->mask)
            s[j] += h->mask[i * h->mask_rs + j * h->mask_cs];
        if (ag->causal && j > i)
            s[j] = -INFINITY;
    }
}

static void head_rows(const ir_attn_geom *ag, const attn_head *h, double *s)
{
    for (int64_t i = 0; i < ag->sq; i++) {
        score_row(ag, h, i, s);
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < ag->sk; j++)
            mx = s[j] > mx ? s[j] : mx;
        for (int64_t j = 0; j < ag->sk; j++)
            sum += s[j] = exp(s[j] - mx);
        for (int64_t c = 0; c < ag->dv; c++) {
            double acc = 0;
            for (int64_t j = 0; j < ag->sk; j++)
                acc += s[j] * h->v[j * ag->dv + c];
            h->y[i * ag->dv + c] = (float)(acc / sum);
        }
    }
}

/* Element offset of head b's mask and the strides of its last two dims
 * (0 where broadcast). */
static int64_t mask_head(const ir_node *n, const ir_attn_geom *ag, int64_t b, int64_t *rs,
                         int64_t *cs)
{
    ir_shape sc = n->inputs[0]->shape;
    sc.dims[sc.rank - 1] = ag->sk;
    int64_t str[IR_MAX_RANK], off = 0;
    ir_bcast_strides(&n->inputs[3]->shape, &sc, str);
    for (int i = ag->lead - 1; i >= 0; i--) {
        off += (b % sc.dims[i]) * str[i];
        b /= sc.dims[i];
    }
    *rs = str[sc.rank - 2];
    *cs = str[sc.rank - 1];
    return off;
}

loom_status interp_fused_attention(interp_ctx *c, const ir_node *n)
{
    ir_attn_geom ag;
    ir_attention_geometry(n, &ag);
    double *s = ir_malloc(sizeof(double) * (size_t)(ag.sk > 0 ? ag.sk : 1));
    if (!s) {
        ir_diag_node(c->d, c->g, n, "out of memory for a score row");
        return LOOM_STATUS_NOMEM;
    }
    const float *q = interp_in(c, n, 0), *k = interp_in(c, n, 1), *v = interp_in(c, n, 2);
    const float *mask = interp_in(c, n, 3);
    float *y = interp_out(c, n, 0);
    for (int64_t b = 0; b < ag.batch; b++) {
        attn_head h = {q + b * ag.sq * ag.d, k + b * ag.sk * ag.d, v + b * ag.sk * ag.dv, NULL,
                       y + b * ag.sq * ag.dv, 0, 0};
        if (mask)
            h.mask = mask + mask_head(n, &ag, b, &h.mask_rs, &h.mask_cs);
        head_rows(&ag, &h, s);
    }
    ir_free(s);
    return LOOM_STATUS_OK;
}
