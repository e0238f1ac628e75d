/*
 * Lowering of the losses: NegativeLogLikelihoodLoss, and
 * SoftmaxCrossEntropyLoss as a log-softmax over axis 1 (into its output 1
 * or a scratch buffer) followed by the same NLL loop nest. A target
 * outside [0, C) that is not ignore_index is a data error (checked build)
 * or clamped (unchecked).
 */
#include "ir_infer_index.h"
#include "lower_internal.h"

/* sum += v in block b (local sum). */
static void accumulate(lower_ctx *c, loop_block *b, int sum, loop_expr *v)
{
    loop_set(c->f, b, sum, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, sum), v));
}

/* ONNX NegativeLogLikelihoodLoss-13 over log-probabilities lp [n, c,
 * inner]: per element -lp[target] * w[target] (0 for ignore_index), stored
 * (none) or summed with the weights (sum; mean = sum / summed weights). */
static void lower_nll(lower_ctx *c, loop_block *blk, const ir_node *n, loop_buf *lp)
{
    ir_loss_geom gm;
    ir_loss_geometry(n, &gm);
    ir_dtype t = n->inputs[0]->dtype, w = IR_DTYPE_I64;
    loop_buf *y = lower_buf(c, n->outputs[0]);
    int sum = loop_local_new(c->f, t), wsum = loop_local_new(c->f, t), v[2];
    loop_set(c->f, blk, sum, lower_num(c, t, 0));
    loop_set(c->f, blk, wsum, lower_num(c, t, 0));
    loop_block *b = lower_nest(c, blk, 2, (int64_t[]){gm.n, gm.inner}, v);
    loop_index ti = loop_idx_const(0);
    loop_idx_add(&ti, v[0], gm.inner);
    loop_idx_add(&ti, v[1], 1);
    loop_expr *k = lower_bind(c, b, lower_as(c, w, loop_load(c->f, lower_buf(c, n->inputs[1]), ti)));
    loop_expr *ign = gm.has_ignore ? lower_bin(c, LOOP_BINOP_EQ, k, lower_int(c, w, gm.ignore_index))
                                   : NULL;
    if (ign)
        k = lower_sel(c, ign, lower_int(c, w, 0), k);
    k = lower_index_in_range(c, b, k, gm.c, false, NULL);
    loop_index wi = loop_idx_const(0);
    wi.dyn = k;
    wi.dyn_coef = 1;
    loop_expr *wt = gm.weighted ? loop_load(c->f, lower_buf(c, n->inputs[2]), wi) : lower_num(c, t, 1);
    if (ign)
        wt = lower_sel(c, lower_bin(c, LOOP_BINOP_EQ, loop_load(c->f, lower_buf(c, n->inputs[1]), ti),
                                    lower_as(c, n->inputs[1]->dtype, lower_int(c, w, gm.ignore_index))),
                       lower_num(c, t, 0), wt);
    wt = lower_bind(c, b, wt);
    loop_index xi = loop_idx_const(0);
    loop_idx_add(&xi, v[0], gm.c * gm.inner);
    loop_idx_add(&xi, v[1], 1);
    xi.dyn = k;
    xi.dyn_coef = gm.inner;
    loop_expr *loss = lower_bin(c, LOOP_BINOP_MUL, lower_un(c, LOOP_UNOP_NEG, loop_load(c->f, lp, xi)), wt);
    if (gm.red == IR_LOSS_NONE) {
        loop_store(c->f, b, y, ti, loss);
        return;
    }
    accumulate(c, b, sum, loss);
    accumulate(c, b, wsum, wt);
    loop_expr *r = loop_local_read(c->f, sum);
    if (gm.red == IR_LOSS_MEAN)
        r = lower_bin(c, LOOP_BINOP_DIV, r, loop_local_read(c->f, wsum));
    loop_store(c->f, blk, y, loop_idx_const(0), r);
}

loom_status lower_nll_loss(lower_ctx *c, const ir_node *n, loop_step *step)
{
    lower_nll(c, &step->body, n, lower_buf(c, n->inputs[0]));
    return LOOM_STATUS_OK;
}

/* log_softmax of x over axis 1 into lp, both [n, c, inner]: max, sum of
 * exp(x - max), then x - max - log(sum), per (n, inner). */
static void log_softmax_axis1(lower_ctx *c, loop_block *blk, loop_buf *x, loop_buf *lp,
                              const ir_loss_geom *gm)
{
    ir_dtype t = x->dtype;
    int v[3], m = loop_local_new(c->f, t), s = loop_local_new(c->f, t);
    loop_block *b = lower_nest(c, blk, 2, (int64_t[]){gm->n, gm->inner}, v);
    loop_index base = loop_idx_const(0);
    loop_idx_add(&base, v[0], gm->c * gm->inner);
    loop_idx_add(&base, v[1], 1);
    loop_set(c->f, b, m, loop_load(c->f, x, base));
    loop_set(c->f, b, s, lower_num(c, t, 0));
    loop_block *mb = lower_nest(c, b, 1, &gm->c, v + 2);
    loop_index xi = base;
    loop_idx_add(&xi, v[2], gm->inner);
    loop_set(c->f, mb, m, lower_bin(c, LOOP_BINOP_MAX, loop_local_read(c->f, m), loop_load(c->f, x, xi)));
    loop_block *sb = lower_nest(c, b, 1, &gm->c, v + 2);
    xi = base;
    loop_idx_add(&xi, v[2], gm->inner);
    loop_expr *d = lower_bin(c, LOOP_BINOP_SUB, loop_load(c->f, x, xi), loop_local_read(c->f, m));
    accumulate(c, sb, s, lower_exp(c->f, d));
    loop_expr *lse = lower_bind(c, b, lower_bin(c, LOOP_BINOP_ADD, loop_local_read(c->f, m),
                                                lower_un(c, LOOP_UNOP_LOG, loop_local_read(c->f, s))));
    loop_block *lb = lower_nest(c, b, 1, &gm->c, v + 2);
    xi = base;
    loop_idx_add(&xi, v[2], gm->inner);
    loop_store(c->f, lb, lp, xi, lower_bin(c, LOOP_BINOP_SUB, loop_load(c->f, x, xi), lse));
}

/* ONNX SoftmaxCrossEntropyLoss-13: log-softmax over axis 1, then NLL. */
loom_status lower_sce_loss(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_loss_geom gm;
    ir_loss_geometry(n, &gm);
    const ir_value *x = n->inputs[0], *lpv = ir_output(n, 1);
    int64_t numel = ir_shape_numel(&x->shape);
    loop_buf *lp = lpv ? lower_buf(c, lpv) : lower_scratch(c, "log_prob", x->dtype, numel);
    if (numel > 0)
        log_softmax_axis1(c, &step->body, lower_buf(c, x), lp, &gm);
    lower_nll(c, &step->body, n, lp);
    return LOOM_STATUS_OK;
}
