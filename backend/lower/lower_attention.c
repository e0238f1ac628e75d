/*
 * Lowering of FusedAttention (ir_infer_attention.c): one loop nest over the
 * leading (batch, head) dims around one LOOP_KERNEL_ATTENTION call per
 * head, loomrt_attention's tiled online softmax (runtime/
 * loomrt_attention.c). The call's scratch is one score tile and the
 * head's K and V packed (loomrt_attention_work_size) per head of the
 * innermost leading dim, so the step's workspace grows with Sk x (D + Dv),
 * not with Sq x Sk, and the heads' iterations are independent: the loop
 * over them runs in parallel (loop_parallel.c). The mask's slice per head follows its broadcast
 * strides; within a head its row and column strides go to the kernel (0
 * where the mask broadcasts, as BERT's [B, 1, 1, S] padding mask does).
 */
#include <string.h>

#include "loomrt.h"
#include "lower_internal.h"

/* Element offset of the mask for the head at loop variables vars (one per
 * leading dim), and its strides within a head. */
static loop_index mask_slice(const ir_node *n, const ir_attn_geom *ag, const int *vars,
                             int64_t *rs, int64_t *cs)
{
    ir_shape sc = n->inputs[0]->shape;
    sc.dims[sc.rank - 1] = ag->sk;
    int64_t str[IR_MAX_RANK];
    ir_bcast_strides(&n->inputs[3]->shape, &sc, str);
    loop_index idx = loop_idx_const(0);
    for (int i = 0; i < ag->lead; i++)
        if (str[i])
            loop_idx_add(&idx, vars[i], str[i]);
    *rs = str[sc.rank - 2];
    *cs = str[sc.rank - 1];
    return idx;
}

/* The slice of a contiguous [lead dims, rows, cols] buffer for the head
 * at vars. */
static loop_slice head_slice(lower_ctx *c, const ir_value *v, const ir_attn_geom *ag,
                             const int *vars)
{
    const ir_shape *s = &v->shape;
    int64_t stride = s->dims[s->rank - 2] * s->dims[s->rank - 1];
    loop_index idx = loop_idx_const(0);
    for (int i = ag->lead - 1; i >= 0; i--) {
        loop_idx_add(&idx, vars[i], stride);
        stride *= s->dims[i];
    }
    return (loop_slice){lower_buf(c, v), idx};
}

loom_status lower_fused_attention(lower_ctx *c, const ir_node *n, loop_step *step)
{
    ir_attn_geom ag;
    ir_attention_geometry(n, &ag);
    int vars[IR_MAX_RANK];
    loop_block *b = lower_nest(c, &step->body, ag.lead, n->inputs[0]->shape.dims, vars);
    int64_t ws = loomrt_attention_work_size(ag.sq, ag.sk, ag.d, ag.dv);
    int64_t heads = ag.lead ? n->inputs[0]->shape.dims[ag.lead - 1] : 1;
    loop_buf *work = lower_scratch(c, "attn_work", IR_DTYPE_F32, heads * ws);
    loop_index work_at = loop_idx_const(0);
    if (ag.lead)
        loop_idx_add(&work_at, vars[ag.lead - 1], ws);
    loop_attention a = {
        .q = head_slice(c, n->inputs[0], &ag, vars),
        .k = head_slice(c, n->inputs[1], &ag, vars),
        .v = head_slice(c, n->inputs[2], &ag, vars),
        .y = head_slice(c, n->outputs[0], &ag, vars),
        .work = {work, work_at},
        .sq = ag.sq, .sk = ag.sk, .d = ag.d, .dv = ag.dv,
        .ldq = ag.d, .ldk = ag.d, .ldv = ag.dv, .ldy = ag.dv,
        .causal = ag.causal, .scale = ag.scale,
    };
    const ir_value *mask = ir_input(n, 3);
    if (mask) /* absent: a NULL mask the kernel does not read */
        a.mask = (loop_slice){lower_buf(c, mask),
                              mask_slice(n, &ag, vars, &a.mask_rs, &a.mask_cs)};
    loop_call_attention(c->f, b, &a);
    return LOOM_STATUS_OK;
}
