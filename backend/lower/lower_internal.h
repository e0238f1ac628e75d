/*
 * Interface between the lowering driver (lower.c) and the per-op lowerings
 * (lower_*.c), with the helpers they share.
 */
#ifndef LOOM_LOWER_INTERNAL_H
#define LOOM_LOWER_INTERNAL_H

#include "ir_fused.h"
#include "ir_infer.h"
#include "lower.h"

typedef struct lower_ctx {
    const ir_graph *g;
    loop_func *f;
    loop_buf **bufs; /* by value id */
    ir_diag *d;
    bool checked; /* emit LOOP_STMT_CHECKs of input data (lower_opts) */
    int threads;  /* lower_opts.threads in [1, LOOMRT_MAX_THREADS] */
} lower_ctx;

/* Per-op lowerings: append statements for node n to step->body. Return OK,
 * or report with ir_diag_node and return LOOM_STATUS_UNSUPPORTED for a form
 * that cannot be lowered. */
#define LOWER_DECL(e, name, mi, ma, mo, mao, fn, attrs) \
    loom_status lower_##fn(lower_ctx *c, const ir_node *n, loop_step *step);
IR_OPS(LOWER_DECL)
#undef LOWER_DECL

/* Reports that op n has no case in its family's lowering (a bug: an op
 * added to the table without its lowering); returns LOOM_STATUS_INTERNAL. */
loom_status lower_no_case(lower_ctx *c, const ir_node *n);

/* The buffer holding value v (input, output, constant or arena). */
loop_buf *lower_buf(lower_ctx *c, const ir_value *v);
/* A scratch arena buffer live only within the current step. */
loop_buf *lower_scratch(lower_ctx *c, const char *base, ir_dtype t, int64_t numel);
/* A new constant buffer (a fresh name from base) holding a copy of
 * numel elements of dtype t from data: tables the lowering computes at
 * compile time. */
loop_buf *lower_const_table(lower_ctx *c, const char *base, ir_dtype t, int64_t numel,
                            const void *data);
/* Makes the output value out a view of in's storage (Reshape and friends)
 * when possible; returns false when a copy is needed (out is a graph
 * output, or in is a graph input/output that must stay distinct). */
bool lower_alias(lower_ctx *c, const ir_value *in, const ir_value *out);
/* Makes v's buffer a view of the storage of `of` starting at its element
 * at (views of views refer to the storage itself). */
loop_buf *lower_view_at(lower_ctx *c, const ir_value *v, loop_buf *of, int64_t at);
/* Before any node is lowered: the inputs of Concat n that its producers
 * can write straight into the output become views of it (lower_shape.c). */
void lower_concat_in_place(lower_ctx *c, const ir_node *n);
/* As x's producer is lowered, when it writes each image at a stride of its
 * own: x becomes a strided view of its slice of the Concat along axis 1
 * that alone reads it, at batch > 1 (lower_shape.c); NULL when it cannot. */
loop_buf *lower_concat_strided(lower_ctx *c, const ir_value *x);

/* Opens a loop nest over dims[0..rank) in block b; vars[] receives the loop
 * variables; returns the innermost block. rank 0 returns b itself. */
loop_block *lower_nest(lower_ctx *c, loop_block *b, int rank, const int64_t *dims, int *vars);

/* Row-major index of value shape `s` at loop variables vars (one per dim of
 * out_shape, right-aligned numpy broadcasting: dims of size 1 in s get
 * stride 0). */
loop_index lower_bcast_index(const ir_shape *s, const ir_shape *out_shape, const int *vars);

/* An index k (integer expression) into an axis of dim entries, made safe
 * in block b: negative values count from the end when wrap; then a check
 * (LOOP_ERROR_INDEX) that it lies in [0, dim), or, unchecked, a clamp into
 * that range. Neither when k is loaded from src, a constant whose values
 * are all in range. Returns a read of the i64 local holding it. */
loop_expr *lower_index_in_range(lower_ctx *c, loop_block *b, loop_expr *k, int64_t dim,
                                 bool wrap, const ir_value *src);

/* Appends a check (LOOP_ERROR_DIV_ZERO) that the integer divisor m is not
 * 0, unless unchecked or m is a non-zero literal. The division itself
 * must still be made safe: unchecked, a zero divisor gives 0. */
void lower_check_divisor(lower_ctx *c, loop_block *b, loop_expr *m);

/* exp(x) and tanh(x) as lowering decides them (docs/loop-ir.md): the
 * runtime's fast versions (LOOP_UNOP_FAST_EXP / FAST_TANH) for f32, libm's
 * for f64. Every lowering builds exp and tanh through these. */
loop_expr *lower_exp(loop_func *f, loop_expr *x);
loop_expr *lower_tanh(loop_func *f, loop_expr *x);

/* Copies src into dst elementwise (same numel and dtype). */
void lower_copy(lower_ctx *c, loop_block *b, loop_buf *dst, loop_buf *src, int64_t numel);

/* ---- expression shorthands ---- */

static inline loop_expr *lower_bin(lower_ctx *c, loop_binop op, loop_expr *a, loop_expr *b)
{
    return loop_binary(c->f, op, a, b);
}
static inline loop_expr *lower_un(lower_ctx *c, loop_unop op, loop_expr *a)
{
    return loop_unary(c->f, op, a);
}
static inline loop_expr *lower_sel(lower_ctx *c, loop_expr *cond, loop_expr *a, loop_expr *b)
{
    return loop_select(c->f, cond, a, b);
}
/* An integer literal of dtype t. */
static inline loop_expr *lower_int(lower_ctx *c, ir_dtype t, int64_t v)
{
    return loop_const_i(c->f, t, v);
}
/* v as a literal of dtype t (truncated for integer dtypes). */
static inline loop_expr *lower_num(lower_ctx *c, ir_dtype t, double v)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64 ? loop_const_f(c->f, t, v)
                                                  : loop_const_i(c->f, t, (int64_t)v);
}
/* a converted to t; a itself when it already has dtype t. */
static inline loop_expr *lower_as(lower_ctx *c, ir_dtype t, loop_expr *a)
{
    return a->dtype == t ? a : loop_cast(c->f, t, a);
}

/* ---- strided copies (lower.c) ---- */

#define LOWER_STRIDED_DIMS (2 * IR_MAX_RANK)

/* dst[dst_base + sum i_k * dst[k]] = src[src_base + sum i_k * src[k]] for
 * every i in dims[0..rank) (strides in elements). */
typedef struct lower_strided {
    int rank;
    int64_t dims[LOWER_STRIDED_DIMS];
    int64_t dst[LOWER_STRIDED_DIMS], src[LOWER_STRIDED_DIMS];
    int64_t dst_base, src_base;
} lower_strided;

/* Appends the copy loop nest of s to b, dims of size 1 dropped and runs
 * that both sides walk contiguously merged (nothing when s is empty). */
void lower_strided_copy(lower_ctx *c, loop_block *b, loop_buf *dst, loop_buf *src, lower_strided s);

/* Stores e in a fresh local in b and returns a read of it (constants,
 * locals and loop variables are returned as they are), so that a value
 * used several times is computed once. */
loop_expr *lower_bind(lower_ctx *c, loop_block *b, loop_expr *e);

/* ---- fused epilogues (lower_epilogue.c) ---- */

/* Activation a (ir_fused.h) of x; helper locals go into b. */
loop_expr *lower_act(lower_ctx *c, loop_block *b, ir_act a, double alpha, double beta,
                     loop_expr *x);
/* n's epilogue on a value v of its output at index yi: act(v + R[yi]). */
loop_expr *lower_epilogue_value(lower_ctx *c, loop_block *b, const ir_node *n, loop_expr *v,
                                loop_index yi);
/* The fused epilogue of n (ir/ir_fused.h) for a kernel call that applies
 * it in its output tiles: bias (NULL: none) at bias_idx with strides rs,
 * cs over the kernel's output (i, j), n's residual at res_idx (the output
 * slice's index), n's activation. */
loop_epilogue lower_kernel_epilogue(lower_ctx *c, const ir_node *n, loop_buf *bias,
                                    loop_index bias_idx, int64_t rs, int64_t cs,
                                    loop_index res_idx);
/* n's epilogue in place over its output y, viewed as [outer, channels,
 * inner], in one loop nest: y = act(y + bias[channel] + R); bias may be
 * NULL (already applied, or none). */
void lower_epilogue(lower_ctx *c, loop_block *b, const ir_node *n, loop_buf *y, loop_buf *bias,
                    int64_t outer, int64_t channels, int64_t inner);

/* GEMMs with a constant B (lower_linear.c). True when an m x n x k
 * product with a constant B should run as LOOP_KERNEL_SGEMM_PACKED, B
 * packed at compile time: b holds f32 constant data and the product is
 * small enough that the runtime's kernel beats a BLAS library. */
bool lower_packs(const loop_buf *b, int64_t m, int64_t n, int64_t k);

/* NAME_SUFFIX, or NAME_SUFFIX_N when taken: a fresh C identifier for a
 * constant made from the constant NAME at compile time. */
const char *lower_const_name(lower_ctx *c, const char *name, const char *suffix);
/* A new constant holding `count` packed matrices (loomrt_sgemm_pack_b
 * layout) of op(B) [k, n], B stored [n, k] when tb, row stride ldb; matrix
 * i is read from b's data at element offset off + i * stride. */
loop_buf *lower_pack_b(lower_ctx *c, const loop_buf *b, bool tb, int64_t n, int64_t k, int64_t ldb,
                       int64_t off, int64_t count, int64_t stride);

#endif
