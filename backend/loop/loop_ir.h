/*
 * The loop IR: what both backends (C emitter, LLVM JIT) consume. One
 * function per model:
 *   - buffers: graph inputs and outputs, constant weights, and arena slices
 *     (intermediate tensors and kernel scratch) placed at planned offsets in
 *     the caller's workspace;
 *   - steps: one per lowered graph node, each a block of statements;
 *   - statements: for loops with constant trip counts, stores with affine
 *     indices, scalar local assignments, guarded blocks, calls into
 *     runtime microkernels (GEMM, im2col, ...), and checks of input data
 *     (an index in range, a non-zero divisor) that end the run with an
 *     error code;
 *   - expressions: constants, loop variables, locals, loads with affine
 *     indices (plus at most one data-dependent term, for Gather), and
 *     arithmetic / math intrinsics.
 * Everything lives in the function's arena. docs/loop-ir.md documents the
 * printed form (`loom compile --emit=loops`).
 */
#ifndef LOOM_LOOP_IR_H
#define LOOM_LOOP_IR_H

#include <stdio.h>

#include "ir.h"

#define LOOP_MAX_TERMS 12

typedef enum loop_buf_kind {
    LOOP_BUF_INPUT,  /* graph input io_index (read only) */
    LOOP_BUF_OUTPUT, /* graph output io_index */
    LOOP_BUF_CONST,  /* constant data (weights) */
    LOOP_BUF_ARENA   /* slice of the workspace at offset */
} loop_buf_kind;

typedef struct loop_buf {
    const char *name;      /* a C identifier, unique in the function */
    loop_buf_kind kind;
    ir_dtype dtype;
    int64_t numel;
    int io_index;          /* INPUT / OUTPUT */
    int64_t offset;        /* ARENA: byte offset, set by the planner */
    const void *data;      /* CONST: the graph's data (a backend copies what it keeps) */
    /* the graph value it holds, copied so that a backend's result outlives
     * the graph: its name (NULL for scratch) and shape */
    const char *tensor;
    ir_shape shape;
    struct loop_buf *alias;/* if set, this buffer is a view of alias's storage */
    int64_t alias_offset;  /* a view: the element of alias where it starts (a slice of a
                              Concat's output); alias is always the root storage */
    int64_t alias_stride;  /* a strided view: elements of alias from one image (axis 0) to
                              the next, its images apart (a Concat's slice at batch > 1);
                              0 when dense. numel then spans from its first element to
                              its last: its writers index it with this stride */
    int id;
} loop_buf;

/* An index: sum(coef[k] * var[k]) + offset (+ dyn_coef * dyn when dyn). */
typedef struct loop_expr loop_expr;
typedef struct loop_index {
    int n;
    int var[LOOP_MAX_TERMS];
    int64_t coef[LOOP_MAX_TERMS];
    int64_t offset;
    loop_expr *dyn;     /* integer expression, e.g. a loaded Gather index */
    int64_t dyn_coef;
} loop_index;

typedef enum loop_expr_kind {
    LOOP_EXPR_CONST,  /* f (float dtypes) or i (integer dtypes, bool) */
    LOOP_EXPR_VAR,    /* a loop variable (i64) */
    LOOP_EXPR_LOCAL,  /* a scalar local */
    LOOP_EXPR_LOAD,   /* buf[idx] */
    LOOP_EXPR_UNARY,
    LOOP_EXPR_BINARY,
    LOOP_EXPR_SELECT, /* a ? b : c (a is bool) */
    LOOP_EXPR_CAST    /* a converted to dtype */
} loop_expr_kind;

#define LOOP_UNOPS(X) \
    X(NEG, "neg") X(ABS, "abs") X(SQRT, "sqrt") X(EXP, "exp") X(LOG, "log") X(ERF, "erf") \
    X(TANH, "tanh") X(FLOOR, "floor") X(CEIL, "ceil") X(ROUND, "round") X(NOT, "not") \
    X(SIN, "sin") X(COS, "cos") X(LOG1P, "log1p")                                          \
    /* f32: the runtime's exp/tanh (runtime/loomrt.h, within 2 ulp, branch free so     \
     * loops vectorize); lowering chooses them, both backends compute the same         \
     * algorithm; f64: as exp/tanh */                                                  \
    X(FAST_EXP, "fast_exp") X(FAST_TANH, "fast_tanh")                                   \
    X(TAN, "tan") X(ASIN, "asin") X(ACOS, "acos") X(ATAN, "atan") X(SINH, "sinh")          \
    X(COSH, "cosh") X(ASINH, "asinh") X(ACOSH, "acosh") X(ATANH, "atanh") X(EXPM1, "expm1")

#define LOOP_BINOPS(X)                                                                    \
    X(ADD, "add") X(SUB, "sub") X(MUL, "mul") X(DIV, "div") X(MAX, "max") X(MIN, "min") \
    X(POW, "pow") X(REM, "rem") X(LT, "lt") X(LE, "le") X(GT, "gt") X(GE, "ge")        \
    X(EQ, "eq") X(NE, "ne") X(AND, "and") X(OR, "or")

typedef enum loop_unop {
#define LOOP_UNOP_ENUM(e, s) LOOP_UNOP_##e,
    LOOP_UNOPS(LOOP_UNOP_ENUM)
#undef LOOP_UNOP_ENUM
    LOOP_UNOP_COUNT
} loop_unop;

typedef enum loop_binop {
#define LOOP_BINOP_ENUM(e, s) LOOP_BINOP_##e,
    LOOP_BINOPS(LOOP_BINOP_ENUM)
#undef LOOP_BINOP_ENUM
    LOOP_BINOP_COUNT
} loop_binop;

struct loop_expr {
    loop_expr_kind kind;
    ir_dtype dtype; /* comparisons, AND/OR/NOT yield IR_DTYPE_BOOL */
    union {
        double f;
        int64_t i;
    } c;
    int id;          /* VAR: loop variable id; LOCAL: local id */
    loop_buf *buf;   /* LOAD */
    loop_index idx;  /* LOAD */
    int op;          /* loop_unop or loop_binop */
    loop_expr *a, *b, *c3;
};

/* Runtime microkernels (runtime/loomrt.h), one X row each: the kernel and
 * its printed name. A call's arguments are the named fields of its typed
 * record below (loop_stmt.call), filled by one constructor per kernel
 * (loop_call_sgemm, ...); loop_call_args lists its buffer arguments for
 * the passes that walk every call alike. */
#define LOOP_KERNELS(X)                         \
    X(SGEMM, "sgemm")                           \
    X(SGEMM_PACKED, "sgemm_packed")             \
    X(IM2COL, "im2col")                         \
    X(COL2IM, "col2im")                         \
    X(DWCONV, "dwconv")                          \
    X(ATTENTION, "attention")                   \
    X(CONV2D, "conv2d")                         \
    X(WINOGRAD, "winograd")                     \
    X(CONV_DIRECT, "conv_direct")               \
    X(CONV2D_T, "conv2d_t")                     \
    X(MAXPOOL, "maxpool")                       \
    X(CONV_DIRECT_POOL, "conv_direct_pool")     \
    X(WINOGRAD_POOL, "winograd_pool")

typedef enum loop_kernel {
#define LOOP_KERNEL_ENUM(e, name) LOOP_KERNEL_##e,
    LOOP_KERNELS(LOOP_KERNEL_ENUM)
#undef LOOP_KERNEL_ENUM
    LOOP_KERNEL_COUNT
} loop_kernel;

/* The kernel's printed name, or NULL when k is not a kernel. */
const char *loop_kernel_name(loop_kernel k);

typedef struct loop_slice {
    loop_buf *buf;
    loop_index idx; /* element offset of the slice start */
} loop_slice;

/* The fused epilogue a kernel applies to each output value v while it is
 * in registers or L1 (runtime/loomrt.h, loomrt_epi_run): v += bias, the
 * bias of output element (i, j) at bias[i * bias_rs + j * bias_cs]
 * (dwconv: bias[channel]); v += residual, laid out like the output;
 * v = act(v), act a LOOMRT_ACT_* with its parameters alpha and beta. A
 * slice with a NULL buf is absent. */
typedef struct loop_epilogue {
    loop_slice bias;
    int64_t bias_rs, bias_cs;
    loop_slice residual;
    int act;
    double alpha, beta;
} loop_epilogue;

/* True when e does anything (a bias, a residual or an activation). */
bool loop_epilogue_present(const loop_epilogue *e);

/* C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C, then epi
 * (loomrt_sgemm, loomrt_sgemm_epi); lda/ldb/ldc are row strides as
 * stored, A stored [k,m] when trans_a, B stored [n,k] when trans_b. */
typedef struct loop_sgemm {
    loop_slice a, b, c;
    int64_t m, n, k, lda, ldb, ldc;
    bool trans_a, trans_b;
    double alpha, beta;
    loop_epilogue epi;
} loop_sgemm;

/* The same with B a constant packed by loomrt_sgemm_pack_b (bp holds
 * loomrt_sgemm_packed_size(n, k) floats); C (and the residual) stored
 * [n,m] when trans_c (loomrt_sgemm_packed, loomrt_sgemm_packed_epi). */
typedef struct loop_sgemm_packed {
    loop_slice a, bp, c;
    int64_t m, n, k, lda, ldc;
    bool trans_a, trans_c;
    double alpha, beta;
    loop_epilogue epi;
} loop_sgemm_packed;

/* The 2-D window of one convolution: channels, the h x w grid the taps
 * read, the kernel, the oh x ow grid, begin pads, strides, dilations. */
typedef struct loop_conv2d {
    int64_t channels, h, w, kh, kw, oh, ow, pad_t, pad_l, stride_h, stride_w, dil_h, dil_w;
} loop_conv2d;

/* IM2COL: image src [channels, h, w] unfolded into dst
 * [channels*kh*kw, oh*ow]; COL2IM: src [channels*kh*kw, h*w] added into
 * the image dst [channels, oh, ow] (ConvTranspose's scatter); MAXPOOL:
 * dst [channels, oh, ow] the maximum over each window of src [channels, h,
 * w] (loomrt_maxpool2d, the row within loomrt_maxpool2d_fits). */
typedef struct loop_unfold {
    loop_slice src, dst;
    loop_conv2d g;
} loop_unfold;

/* Depthwise convolution (loomrt_dwconv): x [g.channels / mult, h, w],
 * w [g.channels, kh, kw] -> y [g.channels, oh, ow], output channel m
 * reading input channel m / mult; scratch holds loomrt_dwconv_scratch
 * floats. With pw.buf set, a pointwise convolution fused before it
 * (loomrt_pwdw, mult 1): x is that convolution's input [pw_k, h, w],
 * pw its weights [g.channels, pw_k] packed by loomrt_sgemm_pack_b
 * (transB 1), pw_epi its bias (one per channel) and activation, no
 * residual; scratch holds loomrt_pwdw_scratch floats. With pj.buf set,
 * a 1x1 convolution fused after it (loomrt_dwpw, mult 1, epi without a
 * residual): pj its weights [pj_m, g.channels], y its output [pj_m, oh,
 * ow], pj_epi its bias (one per channel), residual (laid out as y) and
 * activation; scratch holds loomrt_dwpw_scratch floats. */
typedef struct loop_dwconv {
    loop_slice x, w, y, scratch;
    int64_t mult;
    loop_conv2d g;
    loop_epilogue epi;
    loop_slice pw;
    int64_t pw_k;
    loop_epilogue pw_epi;
    loop_slice pj;
    int64_t pj_m;
    loop_epilogue pj_epi;
} loop_dwconv;

/* One group of a 2-D convolution as an implicit GEMM (loomrt_conv2d):
 * x [g.channels, h, w], w [m, g.channels*kh*kw] -> y [m, oh, ow], then the
 * epilogue with one bias per output channel (bias_rs 1, bias_cs 0);
 * scratch holds loomrt_conv2d_scratch floats. */
typedef struct loop_conv {
    loop_slice x, w, y, scratch;
    int64_t m;
    loop_conv2d g;
    loop_epilogue epi;
    int64_t blocks; /* Winograd's: blocks of scratch, a thread's each (0: 1) */
} loop_conv;

/* A 3x3, stride 1, dilation 1 group of a convolution by Winograd's
 * F(2x2, 3x3) (loomrt_conv2d_winograd): the fields of loop_conv, with w
 * the weights transformed at compile time (loomrt_winograd_pack,
 * loomrt_winograd_packed_size floats) and scratch holding blocks times
 * loomrt_winograd_scratch floats. */
typedef loop_conv loop_winograd;

/* A group of a convolution with few taps (C * kh * kw, the first layer
 * of a CNN) computed directly (loomrt_conv2d_direct): the fields of
 * loop_conv, with w the weights packed at compile time
 * (loomrt_conv2d_direct_pack, loomrt_conv2d_direct_packed_size(m,
 * g.channels * kh * kw) floats) and no scratch (scratch.buf NULL). */
typedef loop_conv loop_conv_direct;

/* A direct convolution whose output only a max pool reads, fused
 * (loomrt_conv2d_direct_maxpool): conv the fields of loop_conv_direct but
 * y, now the pooled output [conv.m, pool.oh, pool.ow], and scratch,
 * holding loomrt_conv2d_direct_maxpool_scratch floats; no residual. pool
 * is the max pool's window over the convolution's output (pool.channels
 * conv.m, pool.h x pool.w conv.g.oh x conv.g.ow). */
typedef struct loop_conv_pool {
    loop_conv conv;
    loop_conv2d pool;
} loop_conv_pool;

/* A Winograd convolution whose output only a 2x2, stride 2, unpadded max
 * pool reads, fused (loomrt_conv2d_winograd_maxpool): the fields of
 * loop_conv_pool, conv those of loop_winograd but y, the pooled output
 * [conv.m, pool.oh, pool.ow], and w and scratch, made for the plane of 2
 * pool.oh x 2 pool.ow outputs the pool reads (loomrt_winograd_pack and
 * loomrt_winograd_scratch over it); no residual. */
typedef loop_conv_pool loop_winograd_pool;

/* A group of a convolution over a small plane as im2col (none when
 * pointwise) and the transposed product (loomrt_conv2d_t): the fields of
 * loop_conv, with w the weights transposed and packed at compile time
 * (loomrt_sgemm_pack_b(1, m, K, ...), loomrt_sgemm_packed_size(m, K)
 * floats, K = g.channels * kh * kw) and scratch holding
 * loomrt_conv2d_t_scratch floats. */
typedef loop_conv loop_conv_t;

/* One head of softmax(scale Q K^T + mask [+ causal]) V (loomrt_attention):
 * q [sq, d], k [sk, d], v [sk, dv], y [sq, dv] with row strides ldq, ldk,
 * ldv, ldy; the additive mask (absent: NULL buf) has element (i, j) at
 * i * mask_rs + j * mask_cs; causal masks key j > query i; work holds
 * loomrt_attention_work_size(sq, sk, d, dv) floats. */
typedef struct loop_attention {
    loop_slice q, k, v, mask, y, work;
    int64_t sq, sk, d, dv, ldq, ldk, ldv, mask_rs, mask_cs, ldy;
    bool causal;
    double scale;
} loop_attention;

/* One buffer argument of a call: its name, the slice, the elements the
 * kernel reaches from the slice's start, whether it writes them. */
typedef struct loop_call_arg {
    const char *name;
    const loop_slice *slice;
    int64_t extent;
    bool written;
} loop_call_arg;

#define LOOP_CALL_MAX_ARGS 12

/* One argument of the runtime function a call becomes, in the order of
 * its prototype in runtime/loomrt.h: both emitters pass these and nothing
 * else, so they cannot disagree about the order. */
typedef enum loop_abi_kind {
    LOOP_ABI_PTR,  /* float *: slice */
    LOOP_ABI_NULL, /* float *: NULL (an absent epilogue operand) */
    LOOP_ABI_I32,  /* int: i */
    LOOP_ABI_I64,  /* int64_t: i */
    LOOP_ABI_F32   /* float: f */
} loop_abi_kind;

typedef struct loop_abi_arg {
    loop_abi_kind kind;
    const loop_slice *slice;
    int64_t i;
    double f;
} loop_abi_arg;

#define LOOP_ABI_MAX_ARGS 40

typedef enum loop_stmt_kind {
    LOOP_STMT_FOR,   /* for (var = 0; var < extent; var++) body */
    LOOP_STMT_STORE, /* buf[idx] = value */
    LOOP_STMT_SET,   /* local = value */
    LOOP_STMT_IF,    /* if (cond) body */
    LOOP_STMT_CALL,  /* kernel(args) */
    LOOP_STMT_CHECK  /* unless cond: record (error, step) and return error */
} loop_stmt_kind;

/* Data errors: a CHECK whose condition is false ends the run with one of
 * these codes (the run function's return value, documented in
 * docs/emitted-c.md) and records the code and the failing step in the
 * function's error record in the workspace (loop_func.error_offset). */
#define LOOP_ERRORS(X)                                                         \
    X(INDEX, 1, "index", "an index is out of range")                           \
    X(DIV_ZERO, 2, "div_zero", "integer division by zero")                     \
    X(SEQ_LEN, 3, "seq_len", "a sequence length is outside [0, seq_length]")

typedef enum loop_error {
    LOOP_ERROR_NONE = 0,
#define LOOP_ERROR_ENUM(e, code, name, text) LOOP_ERROR_##e = code,
    LOOP_ERRORS(LOOP_ERROR_ENUM)
#undef LOOP_ERROR_ENUM
} loop_error;

/* The short name of an error code ("index"), or NULL when unknown. */
const char *loop_error_name(int code);
/* What an error code means ("an index is out of range"), or NULL. */
const char *loop_error_text(int code);
/* Size of the error record: int32 code, int32 step index. */
#define LOOP_ERROR_RECORD_BYTES 8

typedef struct loop_stmt loop_stmt;
typedef struct loop_block {
    loop_stmt **stmts;
    int n, cap;
} loop_block;

struct loop_stmt {
    loop_stmt_kind kind;
    int var;             /* FOR */
    int64_t extent;      /* FOR */
    bool parallel;       /* FOR: iterations split over threads (loop_parallel.c) */
    bool slots;          /* FOR: a loop over scratch slots (loop_split_slots): when
                            parallel, split only as loomrt_parallel_slots decides */
    loop_block body;     /* FOR, IF */
    loop_expr *cond;     /* IF, CHECK (must hold to go on) */
    loop_error error;    /* CHECK */
    loop_buf *buf;       /* STORE */
    loop_index idx;      /* STORE */
    loop_expr *value;    /* STORE, SET */
    int local;           /* SET */
    loop_kernel kernel;  /* CALL: which member of call holds the arguments */
    union {
        loop_sgemm sgemm;
        loop_sgemm_packed sgemm_packed;
        loop_unfold unfold; /* IM2COL, COL2IM, MAXPOOL */
        loop_dwconv dwconv;
        loop_attention attention;
        loop_conv conv; /* CONV2D */
        loop_winograd winograd;
        loop_conv_direct conv_direct;
        loop_conv_t conv_t;
        loop_conv_pool conv_pool;
        loop_winograd_pool winograd_pool;
    } call;
};

/* One lowered graph node. */
typedef struct loop_step {
    const char *node_name;
    ir_op op;
    loop_block body;
} loop_step;

typedef struct loop_local {
    ir_dtype dtype;
} loop_local;

typedef struct loop_func {
    ir_arena arena;
    const char *name;     /* C identifier prefix for the model */
    loop_buf **bufs;
    int n_bufs, cap_bufs;
    loop_step **steps;
    int n_steps, cap_steps;
    loop_local *locals;
    int n_locals, cap_locals;
    int n_vars;           /* loop variables are numbered 0..n_vars-1 */
    int n_inputs, n_outputs;
    int64_t workspace_bytes;   /* set by the planner */
    int64_t workspace_lower_bound; /* peak of simultaneously live bytes */
    int64_t error_offset; /* byte offset of the error record in the workspace,
                             -1 when no step checks anything (set by the
                             planner) */
} loop_func;

/* ---- construction (loop_ir.c) ---- */

/* NULL if the first allocation fails. name must be a C identifier. */
loop_func *loop_func_new(const char *name);
void loop_func_free(loop_func *f);

loop_buf *loop_buf_new(loop_func *f, const char *name, loop_buf_kind kind, ir_dtype dtype,
                       int64_t numel);
/* Records the graph value b holds (name and shape, copied into f). */
void loop_buf_set_tensor(loop_func *f, loop_buf *b, const ir_value *v);
loop_step *loop_step_new(loop_func *f, const char *node_name, ir_op op);
int loop_var_new(loop_func *f);
int loop_local_new(loop_func *f, ir_dtype dtype);

/* Statements are appended to a block; FOR/IF return the statement so the
 * caller can append to its body. */
loop_stmt *loop_for(loop_func *f, loop_block *b, int var, int64_t extent);
loop_stmt *loop_if(loop_func *f, loop_block *b, loop_expr *cond);
void loop_store(loop_func *f, loop_block *b, loop_buf *buf, loop_index idx, loop_expr *value);
void loop_set(loop_func *f, loop_block *b, int local, loop_expr *value);
/* Kernel calls, one constructor per kernel (the record is copied). */
void loop_call_sgemm(loop_func *f, loop_block *b, const loop_sgemm *g);
void loop_call_sgemm_packed(loop_func *f, loop_block *b, const loop_sgemm_packed *g);
/* k is LOOP_KERNEL_IM2COL, LOOP_KERNEL_COL2IM or LOOP_KERNEL_MAXPOOL. */
void loop_call_unfold(loop_func *f, loop_block *b, loop_kernel k, const loop_unfold *u);
void loop_call_dwconv(loop_func *f, loop_block *b, const loop_dwconv *d);
void loop_call_conv(loop_func *f, loop_block *b, const loop_conv *cv);
void loop_call_winograd(loop_func *f, loop_block *b, const loop_winograd *wg);
void loop_call_conv_direct(loop_func *f, loop_block *b, const loop_conv_direct *cd);
void loop_call_conv_t(loop_func *f, loop_block *b, const loop_conv_t *ct);
void loop_call_conv_pool(loop_func *f, loop_block *b, const loop_conv_pool *cp);
void loop_call_winograd_pool(loop_func *f, loop_block *b, const loop_winograd_pool *wp);
void loop_call_attention(loop_func *f, loop_block *b, const loop_attention *a);
/* The buffer arguments of call s in order (absent epilogue operands left
 * out) into out[LOOP_CALL_MAX_ARGS]; returns their count (loop_call.c). */
int loop_call_args(const loop_stmt *s, loop_call_arg *out);
/* The runtime function call s becomes (*fn: "loomrt_sgemm_epi", ...) and
 * its arguments into out[LOOP_ABI_MAX_ARGS]; returns their count, -1 for
 * an unknown kernel. */
int loop_call_abi(const loop_stmt *s, const char **fn, loop_abi_arg *out);
/* Appends `check cond else error`: the run goes on only if the bool cond
 * holds. */
void loop_check(loop_func *f, loop_block *b, loop_expr *cond, loop_error error);
/* True when some step of f contains a CHECK. */
bool loop_has_checks(const loop_func *f);
/* True when block b (or a block nested in it) contains a CHECK. */
bool loop_block_has_checks(const loop_block *b);

/* Index helpers. */
loop_index loop_idx_const(int64_t offset);
/* Adds coef * var (merging with an existing term of var). */
void loop_idx_add(loop_index *idx, int var, int64_t coef);

/* Expressions. */
loop_expr *loop_const_f(loop_func *f, ir_dtype t, double v);
loop_expr *loop_const_i(loop_func *f, ir_dtype t, int64_t v);
loop_expr *loop_var(loop_func *f, int var);
loop_expr *loop_local_read(loop_func *f, int local);
loop_expr *loop_load(loop_func *f, loop_buf *buf, loop_index idx);
loop_expr *loop_unary(loop_func *f, loop_unop op, loop_expr *a);
loop_expr *loop_binary(loop_func *f, loop_binop op, loop_expr *a, loop_expr *b);
loop_expr *loop_select(loop_func *f, loop_expr *cond, loop_expr *a, loop_expr *b);
loop_expr *loop_cast(loop_func *f, ir_dtype t, loop_expr *a);

const char *loop_unop_name(loop_unop op);
const char *loop_binop_name(loop_binop op);

/* Splits the loop s of block b over the images of a batch into slots
 * runs of extent / slots images each (the slot loop, s itself, marked
 * slots, around a new loop over each slot's images), each run with its
 * own copy of the scratch buffers the body uses (arena buffers holding no
 * graph value, indexed without s's variable): the slot loop can then run
 * in parallel where the body's kernels shared one scratch. The images
 * past the runs (extent % slots) get a copy of the body of their own,
 * put right after s, on slot 0's scratch. The caller promises that the
 * body rewrites all the scratch it reads in every iteration (a kernel's
 * scratch, an unfolded column). Returns false and changes nothing when
 * the extent is below slots, the body uses no such scratch, reads s's
 * variable as a value, has an index with no room for one more term, or
 * statements of b outside s use that scratch too (loop_slots.c). */
bool loop_split_slots(loop_func *f, loop_block *b, loop_stmt *s, int64_t slots);

/* ---- printing and checking ---- */

/* Prints the function in the documented text form (loop_print.c). */
void loop_print(const loop_func *f, FILE *out);
/* Checks invariants: variables bound by an enclosing FOR, every access in
 * bounds for all iterations (affine bounds), dtypes consistent, kernel
 * argument counts, arena slices inside the workspace. Reports to d. */
loom_status loop_verify(const loop_func *f, ir_diag *d);

/* Marks the outermost loops whose iterations are independent and whose
 * work is at least LOOP_PARALLEL_MIN_WORK units (loop_parallel.c; the
 * rule and the threshold's measurement are docs/loop-ir.md's). *marked
 * gets how many (may be NULL). */
#define LOOP_PARALLEL_MIN_WORK (1 << 19)
loom_status loop_parallelize(loop_func *f, int *marked, ir_diag *d);

/* Places every arena buffer of f at an offset in one workspace: liveness
 * over the step order, in-place reuse where an elementwise step's input
 * dies (two arena buffers may then share storage), then offsets from
 * loop_mem_assign. Sets f->workspace_bytes and f->workspace_lower_bound
 * (the peak of simultaneously live bytes). */
loom_status loop_plan_memory(loop_func *f, ir_diag *d);

#endif
