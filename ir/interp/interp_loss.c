/*
 * Reference kernels of the losses: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (log-softmax over axis 1, then the same NLL), in
 * double. A target outside [0, C) that is not ignore_index is reported.
 */
#include <math.h>

#include "interp_internal.h"
#include "ir_infer_index.h"

/* ONNX NegativeLogLikelihoodLoss-13 on log-probabilities lp (dtype t,
 * [n, c, inner]): per element -lp[n, target, i] * w[target] (0 where the
 * target is ignore_index); then none, sum, or mean = sum / the summed
 * weights of the elements not ignored. */
static loom_status nll(interp_ctx *c, const ir_node *n, const void *lp, ir_dtype t)
{
    ir_loss_geom gm;
    ir_loss_geometry(n, &gm);
    const ir_value *tv = n->inputs[1];
    const void *tgt = interp_in(c, n, 1), *w = gm.weighted ? interp_in(c, n, 2) : NULL;
    void *out = interp_out(c, n, 0);
    double sum = 0, wsum = 0;
    for (int64_t b = 0; b < gm.n; b++)
        for (int64_t i = 0; i < gm.inner; i++) {
            int64_t e = b * gm.inner + i, k = interp_load_i(tgt, tv->dtype, e);
            double loss = 0, wt = 0;
            if (!gm.has_ignore || k != gm.ignore_index) {
                if (k < 0 || k >= gm.c) {
                    ir_diag_node(c->d, c->g, n, "target %lld is outside [0, %lld)",
                                 (long long)k, (long long)gm.c);
                    return LOOM_STATUS_INVALID_MODEL;
                }
                wt = w ? interp_load_f(w, t, k) : 1;
                loss = -interp_load_f(lp, t, (b * gm.c + k) * gm.inner + i) * wt;
            }
            if (gm.red == IR_LOSS_NONE)
                interp_store_f(out, t, e, loss);
            sum += loss;
            wsum += wt;
        }
    if (gm.red != IR_LOSS_NONE)
        interp_store_f(out, t, 0, gm.red == IR_LOSS_SUM ? sum : sum / wsum);
    return LOOM_STATUS_OK;
}

loom_status interp_nll_loss(interp_ctx *c, const ir_node *n)
{
    return nll(c, n, interp_in(c, n, 0), n->inputs[0]->dtype);
}

/* log_softmax of scores x over axis 1 into lp ([n, c, inner], dtype t). */
static void log_softmax_axis1(const void *x, void *lp, ir_dtype t, const ir_loss_geom *gm)
{
    for (int64_t b = 0; b < gm->n; b++)
        for (int64_t i = 0; i < gm->inner; i++) {
            int64_t base = b * gm->c * gm->inner + i;
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < gm->c; k++)
                m = fmax(m, interp_load_f(x, t, base + k * gm->inner));
            for (int64_t k = 0; k < gm->c; k++)
                s += exp(interp_load_f(x, t, base + k * gm->inner) - m);
            for (int64_t k = 0; k < gm->c; k++)
                interp_store_f(lp, t, base + k * gm->inner,
                               interp_load_f(x, t, base + k * gm->inner) - m - log(s));
        }
}

/* ONNX SoftmaxCrossEntropyLoss-13: NLL of log_softmax(scores, 1); the
 * log-probabilities go to output 1 when present, else to scratch. */
loom_status interp_sce_loss(interp_ctx *c, const ir_node *n)
{
    ir_loss_geom gm;
    ir_loss_geometry(n, &gm);
    const ir_value *x = n->inputs[0];
    void *lp = interp_out(c, n, 1), *scratch = NULL;
    if (!lp && !(lp = scratch = ir_malloc(ir_value_bytes(x) + 1)))
        return LOOM_STATUS_NOMEM;
    log_softmax_axis1(interp_in(c, n, 0), lp, x->dtype, &gm);
    loom_status st = nll(c, n, lp, x->dtype);
    ir_free(scratch);
    return st;
}
