/*
 * Graph statistics. FLOPs count a multiply-add as 2 and every other
 * elementwise operation as 1 per output element (the convention of most
 * model-zoo tables); transcendental functions count as 1. Counts saturate
 * at INT64_MAX: a model may declare shapes whose FLOPs do not fit.
 */
#include "ir_stats.h"

#include "ir_infer.h"

/* a * b and a + b, saturating at INT64_MAX instead of overflowing. */
static int64_t mul(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static int64_t numel(const ir_value *v)
{
    return v ? ir_shape_numel(&v->shape) : 0;
}

/* 2 * output elements * (input channels per group * kernel size). */
static int64_t conv_flops(const ir_graph *g, const ir_node *n)
{
    const ir_value *w = ir_input(n, 1);
    int64_t per_out = 1;
    for (int i = 1; i < w->shape.rank; i++)
        per_out = mul(per_out, w->shape.dims[i]);
    if (n->op == IR_OP_CONV)
        return mul(mul(2, numel(n->outputs[0])), per_out);
    /* ConvTranspose: every input element scatters C_out/group * kernel */
    return mul(mul(2, numel(n->inputs[0])), per_out);
}

static int64_t matmul_flops(const ir_node *n)
{
    const ir_value *a = n->inputs[0];
    int64_t k = a->shape.rank ? a->shape.dims[a->shape.rank - 1] : 1;
    if (n->op == IR_OP_GEMM && ir_attr_int(n, "transA", 0) && a->shape.rank == 2)
        k = a->shape.dims[0];
    return mul(mul(2, numel(n->outputs[0])), k);
}

/* Per time step and direction: gates * hidden * (input + hidden) MACs. */
static int64_t rnn_flops(const ir_node *n)
{
    const ir_value *x = n->inputs[0], *w = n->inputs[1], *r = n->inputs[2];
    if (x->shape.rank != 3 || w->shape.rank != 3 || r->shape.rank != 3)
        return 0;
    int layout = (int)ir_attr_int(n, "layout", 0);
    int64_t seq = layout ? x->shape.dims[1] : x->shape.dims[0];
    int64_t batch = layout ? x->shape.dims[0] : x->shape.dims[1];
    int64_t dirs = w->shape.dims[0];
    int64_t macs = mul(w->shape.dims[1], add(w->shape.dims[2], r->shape.dims[2]));
    return mul(mul(mul(mul(2, seq), batch), dirs), macs);
}

int64_t ir_node_flops(const ir_graph *g, const ir_node *n)
{
    switch (n->op) {
    case IR_OP_CONV:
    case IR_OP_CONV_TRANSPOSE: return conv_flops(g, n);
    case IR_OP_GEMM:
    case IR_OP_MAT_MUL: return matmul_flops(n);
    case IR_OP_LSTM:
    case IR_OP_GRU:
    case IR_OP_RNN: return rnn_flops(n);
    case IR_OP_MAX_POOL:
    case IR_OP_AVERAGE_POOL: {
        const int64_t *k;
        int nk = ir_attr_ints(n, "kernel_shape", &k);
        int64_t ksize = 1;
        for (int i = 0; i < nk; i++)
            ksize = mul(ksize, k[i]);
        return mul(numel(n->outputs[0]), ksize);
    }
    case IR_OP_GLOBAL_AVERAGE_POOL:
    case IR_OP_GLOBAL_MAX_POOL:
    case IR_OP_REDUCE_MEAN:
    case IR_OP_REDUCE_SUM:
    case IR_OP_REDUCE_MAX:
    case IR_OP_REDUCE_PROD: case IR_OP_REDUCE_MIN: case IR_OP_REDUCE_L1: case IR_OP_REDUCE_L2:
    case IR_OP_REDUCE_LOG_SUM: case IR_OP_REDUCE_LOG_SUM_EXP:
    case IR_OP_REDUCE_SUM_SQUARE: return numel(n->inputs[0]);
    case IR_OP_SOFTMAX:
    case IR_OP_LOG_SOFTMAX: return mul(4, numel(n->inputs[0]));
    case IR_OP_LAYER_NORMALIZATION: return mul(6, numel(n->inputs[0]));
    case IR_OP_BATCH_NORMALIZATION: return mul(2, numel(n->inputs[0]));
    /* data movement: no arithmetic */
    case IR_OP_RESHAPE: case IR_OP_FLATTEN: case IR_OP_TRANSPOSE: case IR_OP_CONCAT:
    case IR_OP_SPLIT: case IR_OP_SLICE: case IR_OP_GATHER: case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE: case IR_OP_EXPAND: case IR_OP_CONSTANT: case IR_OP_SHAPE:
    case IR_OP_IDENTITY: case IR_OP_DROPOUT: case IR_OP_CAST: return 0;
    default: return numel(n->outputs[0]);
    }
}

void ir_graph_stats(const ir_graph *g, ir_stats *s)
{
    *s = (ir_stats){0};
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        int64_t bytes = (int64_t)ir_value_bytes(v);
        if (v->data) {
            s->params = add(s->params, numel(v));
            s->param_bytes = add(s->param_bytes, bytes);
        } else if (v->is_input || v->is_output) {
            s->io_bytes = add(s->io_bytes, bytes);
        } else {
            s->activation_bytes = add(s->activation_bytes, bytes);
            if (bytes > s->largest_activation_bytes)
                s->largest_activation_bytes = bytes;
        }
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const ir_node *n = g->nodes[k];
        s->op_count[n->op]++;
        s->flops = add(s->flops, ir_node_flops(g, n));
    }
}
