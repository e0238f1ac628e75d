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
#define LOOP_MAX_ARGS 24

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

/* Runtime microkernels (runtime/loomrt.h). Arguments are listed per kernel
 * in loop_kernel_info; each is a buffer slice or an integer / float. */
#define LOOP_KERNELS(X)                                                              \
    /* C[M,N] = alpha * op(A)[M,K] op(B)[K,N] + beta * C; lda/ldb/ldc row strides */ \
    X(SGEMM, "sgemm", "A B C", "M N K lda ldb ldc transA transB", "alpha beta")        \
    /* 2-D im2col of one image: col[C*kh*kw, oh*ow] */                                  \
    X(IM2COL, "im2col", "in col",                                                    \
      "C H W kh kw oh ow pad_t pad_l stride_h stride_w dil_h dil_w", "")              \
    /* accumulate col[C*kh*kw, h*w] into image out[C, oh, ow] (ConvTranspose) */     \
    X(COL2IM, "col2im", "col out",                                                   \
      "C H W kh kw oh ow pad_t pad_l stride_h stride_w dil_h dil_w", "")              \
    /* SGEMM with B a constant packed by loomrt_sgemm_pack_b (Bp holds               \
     * loomrt_sgemm_packed_size(N, K) floats); C stored [N,M] when transC */         \
    X(SGEMM_PACKED, "sgemm_packed", "A Bp C", "M N K lda ldc transA transC",         \
      "alpha beta")                                                                  \
    /* one head of softmax(scale Q K^T + mask) V, tiled with an online softmax;    \
     * mask read only when has_mask; work: loomrt_attention_work_size floats */    \
    X(ATTENTION, "attention", "Q K V mask Y work",                                   \
      "Sq Sk D Dv ldq ldk ldv mask_rs mask_cs ldy causal has_mask", "scale")

typedef enum loop_kernel {
#define LOOP_KERNEL_ENUM(e, name, bufs, ints, floats) LOOP_KERNEL_##e,
    LOOP_KERNELS(LOOP_KERNEL_ENUM)
#undef LOOP_KERNEL_ENUM
    LOOP_KERNEL_COUNT
} loop_kernel;

typedef struct loop_kernel_info {
    const char *name;
    const char *bufs, *ints, *floats; /* space-separated argument names */
    int n_bufs, n_ints, n_floats;
} loop_kernel_info;

const loop_kernel_info *loop_kernel_get(loop_kernel k);

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

typedef struct loop_slice {
    loop_buf *buf;
    loop_index idx; /* element offset of the slice start */
} loop_slice;

struct loop_stmt {
    loop_stmt_kind kind;
    int var;             /* FOR */
    int64_t extent;      /* FOR */
    loop_block body;     /* FOR, IF */
    loop_expr *cond;     /* IF, CHECK (must hold to go on) */
    loop_error error;    /* CHECK */
    loop_buf *buf;       /* STORE */
    loop_index idx;      /* STORE */
    loop_expr *value;    /* STORE, SET */
    int local;           /* SET */
    loop_kernel kernel;  /* CALL */
    loop_slice bufs[LOOP_MAX_ARGS];
    int64_t ints[LOOP_MAX_ARGS];
    double floats[LOOP_MAX_ARGS];
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
loop_stmt *loop_call(loop_func *f, loop_block *b, loop_kernel k);
/* Appends `check cond else error`: the run goes on only if the bool cond
 * holds. */
void loop_check(loop_func *f, loop_block *b, loop_expr *cond, loop_error error);
/* True when some step of f contains a CHECK. */
bool loop_has_checks(const loop_func *f);

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

/* ---- printing and checking ---- */

/* Prints the function in the documented text form (loop_print.c). */
void loop_print(const loop_func *f, FILE *out);
/* Checks invariants: variables bound by an enclosing FOR, every access in
 * bounds for all iterations (affine bounds), dtypes consistent, kernel
 * argument counts, arena slices inside the workspace. Reports to d. */
loom_status loop_verify(const loop_func *f, ir_diag *d);

/* Places every arena buffer of f at an offset in one workspace: liveness
 * over the step order, in-place reuse where an elementwise step's input
 * dies (two arena buffers may then share storage), then offsets from
 * loop_mem_assign. Sets f->workspace_bytes and f->workspace_lower_bound
 * (the peak of simultaneously live bytes). */
loom_status loop_plan_memory(loop_func *f, ir_diag *d);

#endif
