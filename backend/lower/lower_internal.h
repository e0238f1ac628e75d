/*
 * Interface between the lowering driver (lower.c) and the per-op lowerings
 * (lower_*.c), with the helpers they share.
 */
#ifndef LOOM_LOWER_INTERNAL_H
#define LOOM_LOWER_INTERNAL_H

#include "ir_infer.h"
#include "lower.h"

typedef struct lower_ctx {
    const ir_graph *g;
    loop_func *f;
    loop_buf **bufs; /* by value id */
    ir_diag *d;
} lower_ctx;

/* Per-op lowerings: append statements for node n to step->body. Return OK,
 * or report with ir_diag_node and return LOOM_STATUS_UNSUPPORTED for a form
 * that cannot be lowered. */
#define LOWER_DECL(e, name, mi, ma, mo, mao, fn, attrs) \
    loom_status lower_##fn(lower_ctx *c, const ir_node *n, loop_step *step);
IR_OPS(LOWER_DECL)
#undef LOWER_DECL

/* The buffer holding value v (input, output, constant or arena). */
loop_buf *lower_buf(lower_ctx *c, const ir_value *v);
/* A scratch arena buffer live only within the current step. */
loop_buf *lower_scratch(lower_ctx *c, const char *base, ir_dtype t, int64_t numel);
/* Makes the output value out a view of in's storage (Reshape and friends)
 * when possible; returns false when a copy is needed (out is a graph
 * output, or in is a graph input/output that must stay distinct). */
bool lower_alias(lower_ctx *c, const ir_value *in, const ir_value *out);

/* Opens a loop nest over dims[0..rank) in block b; vars[] receives the loop
 * variables; returns the innermost block. rank 0 returns b itself. */
loop_block *lower_nest(lower_ctx *c, loop_block *b, int rank, const int64_t *dims, int *vars);

/* Row-major index of value shape `s` at loop variables vars (one per dim of
 * out_shape, right-aligned numpy broadcasting: dims of size 1 in s get
 * stride 0). */
loop_index lower_bcast_index(const ir_shape *s, const ir_shape *out_shape, const int *vars);

/* exp(x) and tanh(x) as lowering decides them (docs/loop-ir.md): the
 * runtime's fast versions (LOOP_UNOP_FAST_EXP / FAST_TANH) for f32, libm's
 * for f64. Every lowering builds exp and tanh through these. */
loop_expr *lower_exp(loop_func *f, loop_expr *x);
loop_expr *lower_tanh(loop_func *f, loop_expr *x);

/* Copies src into dst elementwise (same numel and dtype). */
void lower_copy(lower_ctx *c, loop_block *b, loop_buf *dst, loop_buf *src, int64_t numel);

/* GEMMs with a constant B (lower_linear.c). True when an m x n x k
 * product with a constant B should run as LOOP_KERNEL_SGEMM_PACKED, B
 * packed at compile time: b holds f32 constant data and the product is
 * small enough that the runtime's kernel beats a BLAS library. */
bool lower_packs(const loop_buf *b, int64_t m, int64_t n, int64_t k);
/* A new constant holding `count` packed matrices (loomrt_sgemm_pack_b
 * layout) of op(B) [k, n], B stored [n, k] when tb, row stride ldb; matrix
 * i is read from b's data at element offset off + i * stride. */
loop_buf *lower_pack_b(lower_ctx *c, const loop_buf *b, bool tb, int64_t n, int64_t k, int64_t ldb,
                       int64_t off, int64_t count, int64_t stride);

#endif
