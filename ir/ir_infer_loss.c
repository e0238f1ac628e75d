/*
 * Shape inference for the losses: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (ONNX 13), with ir_loss_geometry.
 */
#include <string.h>

#include "ir_infer_index.h"

void ir_loss_geometry(const ir_node *n, ir_loss_geom *geom)
{
    static const char *const names[IR_LOSS_RED_COUNT] = {"none", "sum", "mean"};
    const ir_shape *s = &n->inputs[0]->shape;
    const char *red = ir_attr_string(n, "reduction", "mean");
    *geom = (ir_loss_geom){.n = s->rank > 0 ? s->dims[0] : 0, .c = s->rank > 1 ? s->dims[1] : 0,
                           .inner = 1, .red = IR_LOSS_RED_COUNT,
                           .has_ignore = ir_node_find_attr(n, "ignore_index") != NULL,
                           .ignore_index = ir_attr_int(n, "ignore_index", 0),
                           .weighted = ir_input(n, 2) != NULL};
    for (int i = 2; i < s->rank; i++)
        geom->inner *= s->dims[i];
    for (int r = 0; r < IR_LOSS_RED_COUNT; r++)
        if (strcmp(red, names[r]) == 0)
            geom->red = (ir_loss_red)r;
}

/* Checks scores [N, C, d...] (float), target [N, d...] (i32/i64) and
 * weight [C] (scores' dtype) and the reduction. */
static loom_status loss_check(const ir_graph *g, const ir_node *n, ir_diag *d)
{
    const ir_value *x = n->inputs[0], *t = n->inputs[1], *w = ir_input(n, 2);
    ir_loss_geom geom;
    ir_loss_geometry(n, &geom);
    if (geom.red == IR_LOSS_RED_COUNT) {
        ir_diag_node(d, g, n, "reduction \"%s\" is not one of none, sum, mean",
                     ir_attr_string(n, "reduction", ""));
        return LOOM_STATUS_INVALID_MODEL;
    }
    if ((x->dtype != IR_DTYPE_F32 && x->dtype != IR_DTYPE_F64) ||
        (t->dtype != IR_DTYPE_I64 && t->dtype != IR_DTYPE_I32) || (w && w->dtype != x->dtype)) {
        ir_diag_node(d, g, n, "needs float scores, i64 or i32 targets and weights of the "
                     "scores' dtype; got %s, %s%s%s", ir_dtype_name(x->dtype),
                     ir_dtype_name(t->dtype), w ? ", " : "", w ? ir_dtype_name(w->dtype) : "");
        return LOOM_STATUS_INVALID_MODEL;
    }
    bool ok = x->shape.rank >= 2 && t->shape.rank == x->shape.rank - 1 &&
              t->shape.dims[0] == x->shape.dims[0] &&
              (!w || (w->shape.rank == 1 && w->shape.dims[0] == x->shape.dims[1]));
    for (int i = 1; ok && i < t->shape.rank; i++)
        ok = t->shape.dims[i] == x->shape.dims[i + 1];
    if (!ok) {
        char xs[160], ts[160];
        ir_shape_format(&x->shape, xs, sizeof xs);
        ir_shape_format(&t->shape, ts, sizeof ts);
        ir_diag_node(d, g, n, "scores %s and target %s do not fit: need scores [N, C, d...], "
                     "target [N, d...] and weight [C]", xs, ts);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* The loss output: the target's shape for reduction none, else a scalar. */
static void loss_output(ir_node *n)
{
    ir_loss_geom geom;
    ir_loss_geometry(n, &geom);
    ir_shape scalar = {.rank = 0};
    ir_set_output(n, 0, n->inputs[0]->dtype,
                  geom.red == IR_LOSS_NONE ? &n->inputs[1]->shape : &scalar);
}

/* ONNX NegativeLogLikelihoodLoss-13: loss = -input[n, target, d] * weight
 * over the targets other than ignore_index. */
loom_status ir_infer_nll_loss(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = loss_check(g, n, d);
    if (st)
        return st;
    loss_output(n);
    return LOOM_STATUS_OK;
}

/* ONNX SoftmaxCrossEntropyLoss-13: NLL of log_softmax(scores, axis 1);
 * the optional output 1 is that log-probability tensor. */
loom_status ir_infer_sce_loss(ir_graph *g, ir_node *n, ir_diag *d)
{
    loom_status st = loss_check(g, n, d);
    if (st)
        return st;
    loss_output(n);
    ir_set_output(n, 1, n->inputs[0]->dtype, &n->inputs[0]->shape);
    return LOOM_STATUS_OK;
}
