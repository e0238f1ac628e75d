/*
 * C emitter: walks the planned loop IR and prints one C99 function per
 * model, NAME_run(inputs..., outputs..., workspace), plus a header stating
 * the contract (names, dtypes, shapes, workspace bytes). Loops keep their
 * constant trip counts so the C compiler sees fully specialized code.
 * Weights are emitted bit-exact as hex floats, or into a binary blob.
 * The output is a pure function of the loop IR and options: the same model
 * and flags always give byte-identical files.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "be_c.h"
#include "loop_walk.h"

#define DEFAULT_INLINE_LIMIT (1 << 20)
#define BLOB_ALIGN 64
#define LOCAL_SET 1
#define LOCAL_READ 2

typedef struct emitter {
    const loop_func *f;
    const be_c_opts *opts;
    FILE *out;
    bool *used;          /* by buffer id: referenced by some statement */
    int64_t *blob_off;   /* by buffer id: offset of a constant in the blob */
    int64_t blob_bytes;
    be_weights_mode mode;
    int *check_slot;     /* by step: its row in the error-node table, or -1 */
    int n_check_steps;
    int step;            /* the step being emitted */
    /* the function being written (the model or one parallel loop's body):
     * what it references, by buffer and by local id */
    bool *scope_used;
    unsigned char *scope_local;
    int *outer;          /* variables of the loops enclosing the statement */
    int n_outer, max_outer;
    int n_par;           /* parallel loops written so far */
} emitter;

/* Model text (value, node and file names) goes into the emitted C only
 * through these two, so a name cannot end a comment or a string early or
 * inject code (C11 6.4.9 comments, 6.4.5 string literals, 5.2.1.1
 * trigraphs). Inside a comment: "*" "/" and "/" "*" are split by a
 * backslash, control characters become '?'. */
static void put_comment_text(FILE *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
        if ((c == '*' && p[1] == '/') || (c == '/' && p[1] == '*'))
            fputc('\\', out);
    }
}

/* The characters of a C string literal for s (without the quotes): quote,
 * backslash and control characters escaped, "??" written "?\?". */
static void put_string_text(FILE *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\%03o", c);
        else if (c == '?' && p[1] == '?')
            fputs("?\\", out);
        else
            fputc(c, out);
    }
}

static const char *c_type(ir_dtype t)
{
    switch (t) {
    case IR_DTYPE_F32: return "float";
    case IR_DTYPE_F64: return "double";
    case IR_DTYPE_I64: return "int64_t";
    case IR_DTYPE_I32: return "int32_t";
    case IR_DTYPE_I8: return "int8_t";
    case IR_DTYPE_U8:
    case IR_DTYPE_BOOL: return "uint8_t";
    case IR_DTYPE_F16: /* bit patterns; docs/emitted-c.md */
    case IR_DTYPE_BF16: return "uint16_t";
    case IR_DTYPE_COUNT: break;
    }
    return "void";
}

static bool is_float(ir_dtype t)
{
    return t == IR_DTYPE_F32 || t == IR_DTYPE_F64;
}

/* Bit-exact float literal: hex float, or a macro for non-finite values. */
static void emit_float(FILE *out, double v, ir_dtype t)
{
    const char *suffix = t == IR_DTYPE_F32 ? "f" : "";
    if (isnan(v))
        fprintf(out, "NAN");
    else if (isinf(v))
        fprintf(out, v < 0 ? "(-INFINITY)" : "INFINITY");
    else if (t == IR_DTYPE_F32)
        fprintf(out, "%a%s", (double)(float)v, suffix);
    else
        fprintf(out, "%a", v);
}

static void emit_int(FILE *out, int64_t v)
{
    if (v == INT64_MIN)
        fprintf(out, "(-INT64_C(9223372036854775807) - 1)");
    else if (v > INT32_MAX || v < INT32_MIN)
        fprintf(out, "INT64_C(%" PRId64 ")", v);
    else
        fprintf(out, "%" PRId64, v);
}

static void emit_expr(emitter *e, const loop_expr *x);
static void emit_cast(emitter *e, const loop_expr *x);

static void emit_index(emitter *e, const loop_index *idx)
{
    bool any = false;
    for (int k = 0; k < idx->n; k++) {
        if (idx->coef[k] == 1)
            fprintf(e->out, "%si%d", any ? " + " : "", idx->var[k]);
        else
            fprintf(e->out, "%s%" PRId64 " * i%d", any ? " + " : "", idx->coef[k], idx->var[k]);
        any = true;
    }
    if (idx->dyn) {
        fprintf(e->out, "%s%" PRId64 " * (int64_t)(", any ? " + " : "", idx->dyn_coef);
        emit_expr(e, idx->dyn);
        fprintf(e->out, ")");
        any = true;
    }
    if (idx->offset || !any)
        fprintf(e->out, "%s%" PRId64, any ? " + " : "", idx->offset);
}

/* libm function name for a float dtype: expf for f32, exp for f64. */
static void emit_call1(emitter *e, const char *fn, const loop_expr *a, ir_dtype t)
{
    fprintf(e->out, "%s%s(", fn, t == IR_DTYPE_F32 ? "f" : "");
    emit_expr(e, a);
    fprintf(e->out, ")");
}

static void emit_unary(emitter *e, const loop_expr *x)
{
    static const char *fns[LOOP_UNOP_COUNT] = {
        [LOOP_UNOP_ABS] = "fabs", [LOOP_UNOP_SQRT] = "sqrt", [LOOP_UNOP_EXP] = "exp",
        [LOOP_UNOP_LOG] = "log",  [LOOP_UNOP_ERF] = "erf",   [LOOP_UNOP_TANH] = "tanh",
        [LOOP_UNOP_FLOOR] = "floor", [LOOP_UNOP_CEIL] = "ceil",
        [LOOP_UNOP_ROUND] = "nearbyint", /* ONNX Round: half to even */
        [LOOP_UNOP_SIN] = "sin", [LOOP_UNOP_COS] = "cos", [LOOP_UNOP_LOG1P] = "log1p",
        [LOOP_UNOP_FAST_EXP] = "exp", [LOOP_UNOP_FAST_TANH] = "tanh", /* f64 */
        [LOOP_UNOP_TAN] = "tan", [LOOP_UNOP_ASIN] = "asin", [LOOP_UNOP_ACOS] = "acos",
        [LOOP_UNOP_ATAN] = "atan", [LOOP_UNOP_SINH] = "sinh", [LOOP_UNOP_COSH] = "cosh",
        [LOOP_UNOP_ASINH] = "asinh", [LOOP_UNOP_ACOSH] = "acosh", [LOOP_UNOP_ATANH] = "atanh",
        [LOOP_UNOP_EXPM1] = "expm1",
    };
    FILE *out = e->out;
    if (x->op == LOOP_UNOP_NEG || x->op == LOOP_UNOP_NOT) {
        fprintf(out, x->op == LOOP_UNOP_NEG ? "(-" : "(!");
        emit_expr(e, x->a);
        fprintf(out, ")");
    } else if (x->op == LOOP_UNOP_ABS && !is_float(x->dtype)) {
        fprintf(out, "(");
        emit_expr(e, x->a);
        fprintf(out, " < 0 ? -");
        emit_expr(e, x->a);
        fprintf(out, " : ");
        emit_expr(e, x->a);
        fprintf(out, ")");
    } else if (!is_float(x->dtype)) {
        emit_expr(e, x->a); /* floor/ceil/round of integers are identities */
    } else if (x->dtype == IR_DTYPE_F32 &&
               (x->op == LOOP_UNOP_FAST_EXP || x->op == LOOP_UNOP_FAST_TANH)) {
        /* chosen by lowering: the runtime's inline fast math vectorizes */
        fprintf(out, "loomrt_%sf(", x->op == LOOP_UNOP_FAST_EXP ? "exp" : "tanh");
        emit_expr(e, x->a);
        fprintf(out, ")");
    } else {
        emit_call1(e, fns[x->op], x->a, x->dtype);
    }
}

static void emit_binary(emitter *e, const loop_expr *x)
{
    static const char *infix[LOOP_BINOP_COUNT] = {
        [LOOP_BINOP_ADD] = "+", [LOOP_BINOP_SUB] = "-", [LOOP_BINOP_MUL] = "*",
        [LOOP_BINOP_DIV] = "/", [LOOP_BINOP_REM] = "%", [LOOP_BINOP_LT] = "<",
        [LOOP_BINOP_LE] = "<=", [LOOP_BINOP_GT] = ">",  [LOOP_BINOP_GE] = ">=",
        [LOOP_BINOP_EQ] = "==", [LOOP_BINOP_NE] = "!=", [LOOP_BINOP_AND] = "&&",
        [LOOP_BINOP_OR] = "||",
    };
    FILE *out = e->out;
    ir_dtype t = x->a->dtype;
    const char *fn = NULL;
    if (x->op == LOOP_BINOP_POW)
        fn = "pow";
    else if (x->op == LOOP_BINOP_REM && is_float(t))
        fn = "fmod";
    else if ((x->op == LOOP_BINOP_MAX || x->op == LOOP_BINOP_MIN) && is_float(t))
        fn = x->op == LOOP_BINOP_MAX ? "fmax" : "fmin";
    if (fn) {
        fprintf(out, "%s%s(", fn, t == IR_DTYPE_F32 ? "f" : "");
        emit_expr(e, x->a);
        fprintf(out, ", ");
        emit_expr(e, x->b);
        fprintf(out, ")");
    } else if (x->op == LOOP_BINOP_MAX || x->op == LOOP_BINOP_MIN) {
        fprintf(out, "(");
        emit_expr(e, x->a);
        fprintf(out, x->op == LOOP_BINOP_MAX ? " > " : " < ");
        emit_expr(e, x->b);
        fprintf(out, " ? ");
        emit_expr(e, x->a);
        fprintf(out, " : ");
        emit_expr(e, x->b);
        fprintf(out, ")");
    } else {
        fprintf(out, "(");
        emit_expr(e, x->a);
        fprintf(out, " %s ", infix[x->op]);
        emit_expr(e, x->b);
        fprintf(out, ")");
    }
}

static void emit_expr(emitter *e, const loop_expr *x)
{
    FILE *out = e->out;
    switch (x->kind) {
    case LOOP_EXPR_CONST:
        if (is_float(x->dtype))
            emit_float(out, x->c.f, x->dtype);
        else
            emit_int(out, x->c.i);
        break;
    case LOOP_EXPR_VAR: fprintf(out, "i%d", x->id); break;
    case LOOP_EXPR_LOCAL: fprintf(out, "l%d", x->id); break;
    case LOOP_EXPR_LOAD:
        fprintf(out, "%s[", x->buf->name);
        emit_index(e, &x->idx);
        fprintf(out, "]");
        break;
    case LOOP_EXPR_UNARY: emit_unary(e, x); break;
    case LOOP_EXPR_BINARY: emit_binary(e, x); break;
    case LOOP_EXPR_SELECT:
        fprintf(out, "(");
        emit_expr(e, x->a);
        fprintf(out, " ? ");
        emit_expr(e, x->b);
        fprintf(out, " : ");
        emit_expr(e, x->c3);
        fprintf(out, ")");
        break;
    case LOOP_EXPR_CAST: emit_cast(e, x); break;
    }
}

/* cast<t>(a) as C's conversion; f16 and bf16 (uint16_t bit patterns, the
 * other side f32 as the loop verifier checks) through the runtime's
 * round-to-nearest-even conversions. */
static void emit_cast(emitter *e, const loop_expr *x)
{
    static const char *const to_f32[IR_DTYPE_COUNT] = {
        [IR_DTYPE_F16] = "loomrt_f16_to_f32", [IR_DTYPE_BF16] = "loomrt_bf16_to_f32"};
    static const char *const from_f32[IR_DTYPE_COUNT] = {
        [IR_DTYPE_F16] = "loomrt_f32_to_f16", [IR_DTYPE_BF16] = "loomrt_f32_to_bf16"};
    if (to_f32[x->a->dtype])
        fprintf(e->out, "%s(", to_f32[x->a->dtype]);
    else if (from_f32[x->dtype])
        fprintf(e->out, "%s(", from_f32[x->dtype]);
    else
        fprintf(e->out, "((%s)", c_type(x->dtype));
    emit_expr(e, x->a);
    fprintf(e->out, ")");
}

static void emit_slice(emitter *e, const loop_slice *s)
{
    fprintf(e->out, "%s + ", s->buf->name);
    emit_index(e, &s->idx);
}

/* Runtime calls: the function and arguments loop_call_abi lists, in the
 * order of runtime/loomrt.h. */
static void emit_call(emitter *e, const loop_stmt *s)
{
    FILE *out = e->out;
    loop_abi_arg args[LOOP_ABI_MAX_ARGS];
    const char *fn;
    int n = loop_call_abi(s, &fn, args);
    if (n < 0) /* the verifier rejects unknown kernels */
        return;
    fprintf(out, "%s(", fn);
    for (int k = 0; k < n; k++) {
        if (k)
            fprintf(out, ", ");
        switch (args[k].kind) {
        case LOOP_ABI_PTR: emit_slice(e, args[k].slice); break;
        case LOOP_ABI_NULL: fprintf(out, "(const float *)0"); break;
        case LOOP_ABI_I32:
        case LOOP_ABI_I64: fprintf(out, "%" PRId64, args[k].i); break;
        case LOOP_ABI_F32: emit_float(out, args[k].f, IR_DTYPE_F32); break;
        }
    }
    fprintf(out, ");\n");
}

/* A parallel loop in the model: the enclosing loops' variables into the
 * context, then its outlined body (NAME_parK, emit_par_fn) over the
 * runtime's parallel-for (a slot loop's, loomrt_parallel_slots). It has
 * no check, so it cannot fail. */
static void emit_par_call(emitter *e, const loop_stmt *s, int depth)
{
    for (int j = 0; j < e->n_outer; j++)
        fprintf(e->out, "par.outer[%d] = i%d;\n%*s", j, e->outer[j], 4 * depth, "");
    fprintf(e->out, "(void)loomrt_parallel_%s(%" PRId64 ", %s_par%d, &par);\n",
            s->slots ? "slots" : "for", s->extent, e->f->name, e->n_par++);
}

static void emit_block(emitter *e, const loop_block *b, int depth)
{
    FILE *out = e->out;
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        fprintf(out, "%*s", 4 * depth, "");
        switch (s->kind) {
        case LOOP_STMT_FOR:
            if (s->parallel) {
                emit_par_call(e, s, depth);
                break;
            }
            fprintf(out, "for (int64_t i%d = 0; i%d < %" PRId64 "; i%d++) {\n", s->var, s->var,
                    s->extent, s->var);
            e->outer[e->n_outer++] = s->var;
            emit_block(e, &s->body, depth + 1);
            e->n_outer--;
            fprintf(out, "%*s}\n", 4 * depth, "");
            break;
        case LOOP_STMT_IF:
            fprintf(out, "if (");
            emit_expr(e, s->cond);
            fprintf(out, ") {\n");
            emit_block(e, &s->body, depth + 1);
            fprintf(out, "%*s}\n", 4 * depth, "");
            break;
        case LOOP_STMT_STORE:
            fprintf(out, "%s[", s->buf->name);
            emit_index(e, &s->idx);
            fprintf(out, "] = ");
            emit_expr(e, s->value);
            fprintf(out, ";\n");
            break;
        case LOOP_STMT_SET:
            fprintf(out, "l%d = ", s->local);
            emit_expr(e, s->value);
            fprintf(out, ";\n");
            break;
        case LOOP_STMT_CALL: emit_call(e, s); break;
        case LOOP_STMT_CHECK:
            /* a data error: record it in the workspace and stop */
            fprintf(out, "if (!");
            emit_expr(e, s->cond);
            fprintf(out, ") {\n%*serr[0] = %d;\n%*serr[1] = %d;\n%*sreturn %d;\n%*s}\n",
                    4 * depth + 4, "", (int)s->error, 4 * depth + 4, "",
                    e->check_slot[e->step], 4 * depth + 4, "", (int)s->error, 4 * depth, "");
            break;
        }
    }
}

/* ---- which buffers are referenced ---- */

static void mark_buf(loop_walker *w, const loop_buf *b)
{
    ((emitter *)w->ctx)->used[b->id] = true;
}

static void mark_check(loop_walker *w, const loop_stmt *s)
{
    emitter *e = w->ctx;
    if (s->kind == LOOP_STMT_CHECK && e->check_slot[w->step] < 0)
        e->check_slot[w->step] = e->n_check_steps++;
}

static void scope_buf(loop_walker *w, const loop_buf *b)
{
    ((emitter *)w->ctx)->scope_used[b->id] = true;
}

static void scope_local_read(loop_walker *w, const loop_expr *x)
{
    if (x->kind == LOOP_EXPR_LOCAL)
        ((emitter *)w->ctx)->scope_local[x->id] |= LOCAL_READ;
}

static void scope_local_set(loop_walker *w, const loop_stmt *s)
{
    if (s->kind == LOOP_STMT_SET)
        ((emitter *)w->ctx)->scope_local[s->local] |= LOCAL_SET;
}

/* What the function being written references: a parallel loop's body,
 * or (body NULL) the model without its parallel loops' bodies. Only
 * those are declared (no unused variables in the emitted code); a view's
 * root is declared before it. */
static void mark_scope(emitter *e, const loop_block *body)
{
    const loop_func *f = e->f;
    memset(e->scope_used, 0, (size_t)f->n_bufs * sizeof *e->scope_used);
    memset(e->scope_local, 0, (size_t)f->n_locals);
    loop_walker w = {.stmt = scope_local_set, .expr = scope_local_read, .buf = scope_buf,
                     .ctx = e, .skip_parallel = true};
    if (body)
        loop_walk_block(&w, body);
    else
        loop_walk_func(f, &w);
    for (int i = 0; i < f->n_bufs; i++)
        if (e->scope_used[i] && f->bufs[i]->alias)
            e->scope_used[f->bufs[i]->alias->id] = true;
}

/* Every buffer the program references (and the roots of used views),
 * for the weights layout; the steps with checks. */
static void mark_used(emitter *e)
{
    const loop_func *f = e->f;
    for (int s = 0; s < f->n_steps; s++)
        e->check_slot[s] = -1;
    loop_walker w = {.stmt = mark_check, .buf = mark_buf, .ctx = e};
    loop_walk_func(f, &w);
    for (int i = 0; i < f->n_bufs; i++)
        if (e->used[i] && f->bufs[i]->alias)
            e->used[f->bufs[i]->alias->id] = true;
}

/* ---- file parts ---- */

static int64_t const_bytes(const loop_buf *b)
{
    return b->numel * (int64_t)ir_dtype_size(b->dtype);
}

/* Decides the weights mode and lays out the blob. */
static void layout_weights(emitter *e)
{
    const loop_func *f = e->f;
    int64_t total = 0;
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        e->blob_off[i] = -1;
        if (b->kind != LOOP_BUF_CONST || b->alias || !e->used[i])
            continue;
        e->blob_off[i] = total;
        total += (const_bytes(b) + BLOB_ALIGN - 1) / BLOB_ALIGN * BLOB_ALIGN;
    }
    e->blob_bytes = total;
    int64_t limit = e->opts->inline_limit ? e->opts->inline_limit : DEFAULT_INLINE_LIMIT;
    e->mode = e->opts->weights;
    if (e->mode == BE_WEIGHTS_AUTO)
        e->mode = total <= limit ? BE_WEIGHTS_INLINE : BE_WEIGHTS_INCBIN;
}

/* Inline constant arrays are aligned as the weights blob's constants are
 * (BLOB_ALIGN): the compilers align a large array to 32 bytes only, and
 * an AVX-512 kernel's 64-byte loads from weights 32 bytes off a line each
 * touch two lines (the lstm example's one-file form, whose recurrent
 * weights sat so, ran its matrix-vector kernel 1.4x slower, on a Xeon). */
#define CONST_ALIGN_DEF                                                                   \
    "#if defined(__GNUC__)\n#define LOOM_CONST_ALIGN __attribute__((aligned(64)))\n"      \
    "#else\n#define LOOM_CONST_ALIGN\n#endif\n\n"

/* One inline constant array, 8 values per line. */
static void emit_const_array(emitter *e, const loop_buf *b)
{
    FILE *out = e->out;
    fprintf(out, "static const %s %s[%" PRId64 "] LOOM_CONST_ALIGN = {", c_type(b->dtype),
            b->name, b->numel ? b->numel : 1);
    for (int64_t k = 0; k < b->numel; k++) {
        fprintf(out, k % 8 ? " " : "\n    ");
        if (b->dtype == IR_DTYPE_F32)
            emit_float(out, ((const float *)b->data)[k], IR_DTYPE_F32);
        else if (b->dtype == IR_DTYPE_F64)
            emit_float(out, ((const double *)b->data)[k], IR_DTYPE_F64);
        else {
            int64_t v = 0;
            switch (b->dtype) {
            case IR_DTYPE_I64: v = ((const int64_t *)b->data)[k]; break;
            case IR_DTYPE_I32: v = ((const int32_t *)b->data)[k]; break;
            case IR_DTYPE_I8: v = ((const int8_t *)b->data)[k]; break;
            case IR_DTYPE_F16:
            case IR_DTYPE_BF16: v = ((const uint16_t *)b->data)[k]; break;
            default: v = ((const uint8_t *)b->data)[k]; break;
            }
            emit_int(out, v);
        }
        fprintf(out, ",");
    }
    if (b->numel == 0)
        fprintf(out, "0");
    fprintf(out, "\n};\n\n");
}

/* How emit_params_as writes the model function's parameters: a
 * parameter list, an argument list, the fields of the parallel loops'
 * context (NAME_par_ctx), or their copies out of it. */
typedef enum param_style { PARAM_DECL, PARAM_ARG, PARAM_FIELD, PARAM_UNPACK } param_style;

static void emit_param(FILE *out, param_style st, const char *type, const char *name, bool last)
{
    switch (st) {
    case PARAM_DECL: fprintf(out, "%s%s%s", type, name, last ? "" : ", "); break;
    case PARAM_ARG: fprintf(out, "%s%s", name, last ? "" : ", "); break;
    case PARAM_FIELD: fprintf(out, "    %s%s;\n", type, name); break;
    case PARAM_UNPACK:
        fprintf(out, "    %s%s = par->%s;\n    (void)%s;\n", type, name, name, name);
        break;
    }
}

/* The run function's parameters (weights, inputs, outputs, workspace)
 * in style st. */
static void emit_params_as(emitter *e, FILE *out, param_style st)
{
    const loop_func *f = e->f;
    char type[64];
    if (e->mode == BE_WEIGHTS_FILE)
        emit_param(out, st, "const void *", "weights", false);
    for (int io = 0; io < f->n_inputs; io++)
        for (int i = 0; i < f->n_bufs; i++)
            if (f->bufs[i]->kind == LOOP_BUF_INPUT && !f->bufs[i]->alias &&
                f->bufs[i]->io_index == io) {
                snprintf(type, sizeof type, "const %s *", c_type(f->bufs[i]->dtype));
                emit_param(out, st, type, f->bufs[i]->name, false);
            }
    for (int io = 0; io < f->n_outputs; io++)
        for (int i = 0; i < f->n_bufs; i++)
            if (f->bufs[i]->kind == LOOP_BUF_OUTPUT && !f->bufs[i]->alias &&
                f->bufs[i]->io_index == io) {
                snprintf(type, sizeof type, "%s *", c_type(f->bufs[i]->dtype));
                emit_param(out, st, type, f->bufs[i]->name, false);
            }
    emit_param(out, st, "void *", "workspace", true);
}

static void emit_params(emitter *e, FILE *out)
{
    emit_params_as(e, out, PARAM_DECL);
}

/* The arguments of the model function from the arrays inputs and
 * outputs (and weights) of NAME_run_v and NAME_run_threads. */
static void emit_array_args(emitter *e, FILE *out)
{
    if (e->mode == BE_WEIGHTS_FILE)
        fprintf(out, "weights, ");
    for (int io = 0; io < e->f->n_inputs; io++)
        fprintf(out, "inputs[%d], ", io);
    for (int io = 0; io < e->f->n_outputs; io++)
        fprintf(out, "outputs[%d], ", io);
    fprintf(out, "workspace");
}

/* The array parameters of NAME_run_v and NAME_run_threads. */
static const char *array_params(const emitter *e)
{
    return e->mode == BE_WEIGHTS_FILE
               ? "const void *weights, const void *const *inputs, void *const *outputs, "
                 "void *workspace"
               : "const void *const *inputs, void *const *outputs, void *workspace";
}

/* Local pointer declarations for blob constants, arena slices and views. */
static void emit_buffer_decls(emitter *e)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    fprintf(out, "    unsigned char *ws = (unsigned char *)workspace;\n");
    fprintf(out, "    (void)ws;\n");
    /* (void)wb: a model without constants still takes the blob */
    if (e->mode == BE_WEIGHTS_INCBIN)
        fprintf(out, "    const unsigned char *wb = %s_weights;\n    (void)wb;\n", f->name);
    else if (e->mode == BE_WEIGHTS_FILE)
        fprintf(out, "    const unsigned char *wb = (const unsigned char *)weights;\n"
                     "    (void)wb;\n");
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        const char *t = c_type(b->dtype);
        if (!e->scope_used[i])
            continue;
        if (b->alias) {
            bool writable = b->alias->kind == LOOP_BUF_ARENA || b->alias->kind == LOOP_BUF_OUTPUT;
            fprintf(out, "    %s%s *%s = (%s%s *)%s", writable ? "" : "const ", t, b->name,
                    writable ? "" : "const ", t, b->alias->name);
            if (b->alias_offset)
                fprintf(out, " + %" PRId64, b->alias_offset);
            fprintf(out, ";\n");
        } else if (b->kind == LOOP_BUF_ARENA) {
            fprintf(out, "    %s *%s = (%s *)(ws + %" PRId64 ");\n", t, b->name, t, b->offset);
        } else if (b->kind == LOOP_BUF_CONST && e->mode != BE_WEIGHTS_INLINE) {
            fprintf(out, "    const %s *%s = (const %s *)(wb + %" PRId64 ");\n", t, b->name, t,
                    e->blob_off[i]);
        }
    }
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        if ((b->kind == LOOP_BUF_INPUT || b->kind == LOOP_BUF_OUTPUT) && !b->alias && !e->scope_used[i])
            fprintf(out, "    (void)%s;\n", b->name);
    }
    for (int i = 0; i < f->n_locals; i++) {
        if (e->scope_local[i])
            fprintf(out, "    %s l%d = 0;\n", c_type(f->locals[i].dtype), i);
        if (e->scope_local[i] == LOCAL_SET)
            fprintf(out, "    (void)l%d;\n", i); /* set, never read */
    }
}

/* Upper-case C macro prefix from the function name. */
static void upper(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++)
        buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    buf[i] = '\0';
}

/* NAME_last_error: the error record the run left in the workspace, and
 * the node of the step that failed (a table of the steps with checks). */
static void emit_last_error(emitter *e)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    if (e->n_check_steps) {
        fprintf(out, "\nstatic const char *const %s_error_nodes[%d][2] = {\n", f->name,
                e->n_check_steps);
        for (int s = 0; s < f->n_steps; s++) {
            if (e->check_slot[s] < 0)
                continue;
            fprintf(out, "    {\"");
            put_string_text(out, f->steps[s]->node_name);
            fprintf(out, "\", \"%s\"},\n", ir_op_name(f->steps[s]->op));
        }
        fprintf(out, "};\n");
    }
    fprintf(out, "\nint %s_last_error(const void *workspace, const char **node, const char **op)\n"
                 "{\n", f->name);
    if (!e->n_check_steps) {
        fprintf(out, "    (void)workspace;\n    if (node)\n        *node = 0;\n"
                     "    if (op)\n        *op = 0;\n    return 0;\n}\n");
        return;
    }
    fprintf(out, "    const int32_t *err = workspace ? (const int32_t *)((const unsigned char *)"
                 "workspace + %" PRId64 ") : 0;\n"
                 "    int code = err ? err[0] : 0, k = err ? err[1] : -1;\n"
                 "    int known = code != 0 && k >= 0 && k < %d;\n"
                 "    if (node)\n        *node = known ? %s_error_nodes[k][0] : 0;\n"
                 "    if (op)\n        *op = known ? %s_error_nodes[k][1] : 0;\n"
                 "    return code;\n}\n",
            f->error_offset, e->n_check_steps, f->name, f->name);
}

/* NAME_run (the default thread count), NAME_run_v (the same with arrays)
 * and NAME_run_threads (a count and a parallel-for from the caller): each
 * sets the calling thread's threads around the model and restores them. */
static void emit_entry_points(emitter *e)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    char up[256];
    upper(f->name, up, sizeof up);
    fprintf(out, "int %s_run(", f->name);
    emit_params(e, out);
    fprintf(out, ")\n{\n    loomrt_threads prev = loomrt_threads_enter(%s_DEFAULT_THREADS, 0, 0);\n"
                 "    int status = %s_model(", up, f->name);
    emit_params_as(e, out, PARAM_ARG);
    fprintf(out, ");\n    loomrt_threads_leave(prev);\n    return status;\n}\n\n");
    fprintf(out, "int %s_run_v(%s)\n{\n    (void)inputs;\n    (void)outputs;\n    return %s_run(",
            f->name, array_params(e), f->name);
    emit_array_args(e, out);
    fprintf(out, ");\n}\n\n");
    fprintf(out, "int %s_run_threads(int threads, %s_parallel_fn parallel_for, void *host, %s)\n{\n"
                 "    loomrt_threads prev = loomrt_threads_enter(threads > 0 ? threads : "
                 "%s_DEFAULT_THREADS, parallel_for, host);\n"
                 "    (void)inputs;\n    (void)outputs;\n    int status = %s_model(",
            f->name, f->name, array_params(e), up, f->name);
    emit_array_args(e, out);
    fprintf(out, ");\n    loomrt_threads_leave(prev);\n    return status;\n}\n");
}

/* ---- parallel loops ---- */

/* Parallel loop s's body as NAME_parK(arg, lo, hi), iterations [lo, hi)
 * (the runtime's loomrt_range_fn): the model's parameters and the
 * enclosing loops' variables come from the context arg, the buffers and
 * locals are its own. */
static void emit_par_fn(emitter *e, const loop_stmt *s)
{
    FILE *out = e->out;
    const char *name = e->f->name;
    fprintf(out, "static int %s_par%d(void *arg, int64_t lo, int64_t hi)\n{\n"
                 "    const %s_par_ctx *par = (const %s_par_ctx *)arg;\n",
            name, e->n_par++, name, name);
    emit_params_as(e, out, PARAM_UNPACK);
    for (int j = 0; j < e->n_outer; j++)
        fprintf(out, "    const int64_t i%d = par->outer[%d];\n    (void)i%d;\n", e->outer[j], j,
                e->outer[j]);
    mark_scope(e, &s->body);
    emit_buffer_decls(e);
    fprintf(out, "    for (int64_t i%d = lo; i%d < hi; i%d++) {\n", s->var, s->var, s->var);
    emit_block(e, &s->body, 2);
    fprintf(out, "    }\n    return 0;\n}\n\n");
}

/* Finds the parallel loops of b (in the order emit_block meets them),
 * tracking the enclosing loops; writes their functions when write. */
static void emit_par_block(emitter *e, const loop_block *b, bool write)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR && s->parallel) {
            if (write)
                emit_par_fn(e, s);
            else
                e->n_par++;
            e->max_outer = e->n_outer > e->max_outer ? e->n_outer : e->max_outer;
        } else if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF) {
            if (s->kind == LOOP_STMT_FOR)
                e->outer[e->n_outer++] = s->var;
            emit_par_block(e, &s->body, write);
            e->n_outer -= s->kind == LOOP_STMT_FOR;
        }
    }
}

/* NAME_par_ctx (the model's parameters and the enclosing loops'
 * variables) and the parallel loops' functions; returns their count. */
static int emit_par_fns(emitter *e)
{
    const loop_func *f = e->f;
    e->n_par = e->max_outer = 0;
    for (int s = 0; s < f->n_steps; s++)
        emit_par_block(e, &f->steps[s]->body, false);
    int n = e->n_par;
    if (!n)
        return 0;
    fprintf(e->out, "/* what the parallel loops' bodies read from the model */\n"
                    "typedef struct %s_par_ctx {\n", f->name);
    emit_params_as(e, e->out, PARAM_FIELD);
    fprintf(e->out, "    int64_t outer[%d];\n} %s_par_ctx;\n\n", e->max_outer ? e->max_outer : 1,
            f->name);
    e->n_par = 0;
    for (int s = 0; s < f->n_steps; s++)
        emit_par_block(e, &f->steps[s]->body, true);
    return n;
}

static void emit_source(emitter *e, const char *base)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    fputs("/* Generated by loom from ", out);
    put_comment_text(out, e->opts->source_name ? e->opts->source_name : f->name);
    fputs(". Do not edit. */\n", out);
    fprintf(out, "#include <math.h>\n#include <stdint.h>\n\n#include \"%s.h\"\n", base);
    if (!e->opts->standalone)
        fprintf(out, "#include \"loomrt.h\"\n");
    fprintf(out, "\n");
    if (e->mode == BE_WEIGHTS_INCBIN)
        fprintf(out, "extern const unsigned char %s_weights[];\n\n", f->name);
    int n_const = 0;
    if (e->mode == BE_WEIGHTS_INLINE)
        for (int i = 0; i < f->n_bufs; i++)
            if (f->bufs[i]->kind == LOOP_BUF_CONST && !f->bufs[i]->alias && e->used[i]) {
                if (n_const++ == 0)
                    fputs(CONST_ALIGN_DEF, out);
                emit_const_array(e, f->bufs[i]);
            }
    int n_par = emit_par_fns(e);
    /* the model, on the thread count its caller entered */
    fprintf(out, "static int %s_model(", f->name);
    emit_params(e, out);
    fprintf(out, ")\n{\n");
    if (f->workspace_bytes)
        fprintf(out, "    if (!workspace)\n        return -1;\n");
    mark_scope(e, NULL);
    emit_buffer_decls(e);
    if (n_par) {
        fprintf(out, "    %s_par_ctx par = {", f->name);
        emit_params_as(e, out, PARAM_ARG);
        fprintf(out, ", {0}};\n");
    }
    e->n_par = 0;
    if (e->n_check_steps)
        fprintf(out, "    int32_t *err = (int32_t *)(ws + %" PRId64 ");\n"
                     "    err[0] = 0;\n    err[1] = -1;\n",
                f->error_offset);
    for (int s = 0; s < f->n_steps; s++) {
        const loop_step *st = f->steps[s];
        e->step = s;
        fputs("\n    /* ", out);
        put_comment_text(out, st->node_name);
        fprintf(out, " (%s) */\n", ir_op_name(st->op));
        emit_block(e, &st->body, 1);
    }
    fprintf(out, "    return 0;\n}\n\n");
    emit_entry_points(e);
    emit_last_error(e);
}

static void emit_io_macros(emitter *e, const char *up, loop_buf_kind kind, const char *what)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        if (b->kind != kind || b->alias || !b->tensor)
            continue;
        const ir_shape *s = &b->shape;
        fprintf(out, "/* %s %d: \"", what, b->io_index);
        put_comment_text(out, b->tensor);
        fprintf(out, "\" %s[", ir_dtype_name(b->dtype));
        for (int d = 0; d < s->rank; d++)
            fprintf(out, d ? ",%" PRId64 : "%" PRId64, s->dims[d]);
        fprintf(out, "] */\n");
        fprintf(out, "#define %s_%s%d_NAME \"", up, what[0] == 'i' ? "INPUT" : "OUTPUT",
                b->io_index);
        put_string_text(out, b->tensor);
        fputs("\"\n", out);
        fprintf(out, "#define %s_%s%d_SIZE %" PRId64 "\n", up,
                what[0] == 'i' ? "INPUT" : "OUTPUT", b->io_index, b->numel);
        fprintf(out, "#define %s_%s%d_RANK %d\n", up, what[0] == 'i' ? "INPUT" : "OUTPUT",
                b->io_index, s->rank);
        fprintf(out, "#define %s_%s%d_SHAPE {", up, what[0] == 'i' ? "INPUT" : "OUTPUT",
                b->io_index);
        for (int d = 0; d < s->rank; d++)
            fprintf(out, d ? ", %" PRId64 : "%" PRId64, s->dims[d]);
        /* a scalar has no dims, but a C initializer needs one element */
        fprintf(out, s->rank ? "}\n" : "0} /* rank 0: no dims */\n");
    }
}

/* The run function's return values. */
static void emit_status_macros(emitter *e, const char *up)
{
    FILE *out = e->out;
    fprintf(out, "\n/* return values of %s_run */\n#define %s_OK 0\n"
                 "#define %s_ERROR_WORKSPACE (-1) /* the workspace is NULL */\n",
            e->f->name, up, up);
#define EMIT_ERROR_MACRO(en, code, name, text) \
    fprintf(out, "#define %s_ERROR_%s %d /* %s */\n", up, #en, code, text);
    LOOP_ERRORS(EMIT_ERROR_MACRO)
#undef EMIT_ERROR_MACRO
    if (!e->n_check_steps)
        fprintf(out, "/* (this model checks no data: %s_run returns no data error) */\n",
                e->f->name);
}

/* The threads part of the header: the default count and NAME_run_threads
 * with its parallel-for types (those of loomrt.h, which the header does
 * not include). */
static void emit_threads_api(emitter *e, const char *up)
{
    const char *n = e->f->name;
    FILE *out = e->out;
    fprintf(out, "\n/* Threads: %s_run and %s_run_v run the kernels on\n"
                 "   %s_DEFAULT_THREADS threads (loom compile --threads N);\n"
                 "   %s_run_threads on threads threads (0: the default), with the\n"
                 "   runtime's pool when parallel_for is NULL, else with the caller's:\n"
                 "   parallel_for(host, n, parts, fn, arg) must run\n"
                 "   fn(arg, n * p / parts, n * (p + 1) / parts) once for every p in\n"
                 "   [0, parts), on any threads, and return when all are done, with the\n"
                 "   first nonzero result by p (0 if none). */\n",
            n, n, up, n);
    fprintf(out, "#define %s_DEFAULT_THREADS %d\n", up, e->opts->threads > 0 ? e->opts->threads : 1);
    fprintf(out, "typedef int (*%s_range_fn)(void *arg, int64_t begin, int64_t end);\n"
                 "typedef int (*%s_parallel_fn)(void *host, int64_t n, int parts,\n"
                 "    %s_range_fn fn, void *arg);\n",
            n, n, n);
    fprintf(out, "int %s_run_threads(int threads, %s_parallel_fn parallel_for, void *host,\n"
                 "    %s);\n",
            n, n, array_params(e));
}

static void emit_header(emitter *e)
{
    const loop_func *f = e->f;
    FILE *out = e->out;
    char up[256];
    upper(f->name, up, sizeof up);
    fputs("/* Generated by loom from ", out);
    put_comment_text(out, e->opts->source_name ? e->opts->source_name : f->name);
    fputs(". Do not edit.\n", out);
    fprintf(out, " *\n * %s_run computes the model's outputs from its inputs. The caller\n"
                 " * passes a workspace of %s_WORKSPACE_BYTES bytes (aligned to 64);\n"
                 " * nothing is allocated and no state is kept between calls, so\n"
                 " * separate workspaces make concurrent calls safe.\n"
                 " * Returns %s_OK, %s_ERROR_WORKSPACE if the workspace is NULL, or a\n"
                 " * data error (below) for which %s_last_error names the node. */\n",
            f->name, up, up, up, f->name);
    fprintf(out, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n", up, up);
    fprintf(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(out, "#define %s_WORKSPACE_BYTES %" PRId64 "\n", up, f->workspace_bytes);
    fprintf(out, "/* the largest set of simultaneously live intermediates: the planner's\n"
                 "   lower bound; arena / lower bound = %.3f */\n",
            f->workspace_lower_bound ? (double)f->workspace_bytes / (double)f->workspace_lower_bound
                                     : 1.0);
    fprintf(out, "#define %s_WORKSPACE_LOWER_BOUND %" PRId64 "\n", up, f->workspace_lower_bound);
    if (e->mode == BE_WEIGHTS_FILE)
        fprintf(out, "/* the weights file %s.weights.bin, loaded by the caller */\n"
                     "#define %s_WEIGHTS_BYTES %" PRId64 "\n",
                f->name, up, e->blob_bytes);
    fprintf(out, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n\n", up, f->n_inputs, up,
            f->n_outputs);
    emit_io_macros(e, up, LOOP_BUF_INPUT, "input");
    emit_io_macros(e, up, LOOP_BUF_OUTPUT, "output");
    emit_status_macros(e, up);
    fprintf(out, "\nint %s_run(", f->name);
    emit_params(e, out);
    fprintf(out, ");\n");
    fprintf(out, "/* The same with inputs and outputs in arrays, in the order above. */\n");
    fprintf(out, "int %s_run_v(%s);\n", f->name, array_params(e));
    emit_threads_api(e, up);
    fprintf(out, "/* The status of the last run in this workspace; on a data error *node\n"
                 "   and *op (when not NULL) get the failing node's name and op, else\n"
                 "   NULL. */\n"
                 "int %s_last_error(const void *workspace, const char **node, const char **op);\n",
            f->name);
    fprintf(out, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

/* ---- files ---- */

typedef struct out_file {
    char path[4096], tmp[4200]; /* tmp is "" until opened */
    FILE *fp;
    bool written; /* closed with every write done */
} out_file;

static bool file_open(out_file *o, const char *dir, const char *name, const char *mode,
                      ir_diag *d)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", o->path, (long)getpid());
    o->fp = fopen(o->tmp, mode);
    if (!o->fp) {
        ir_diag_errorf(d, "%s: cannot write: %s", o->path, strerror(errno));
        o->tmp[0] = '\0';
    }
    return o->fp != NULL;
}

/* Flushes and closes; false after reporting the OS reason when any write
 * to the file failed (a full disk shows up here). An unopened file is
 * fine: its open failure was reported. */
static bool file_finish(out_file *o, ir_diag *d)
{
    if (!o->fp)
        return true;
    int err = fflush(o->fp) != 0 ? errno : 0;
    if (!err && ferror(o->fp))
        err = EIO;
    if (fclose(o->fp) != 0 && !err)
        err = errno;
    o->fp = NULL;
    o->written = !err;
    if (err)
        ir_diag_errorf(d, "%s: cannot write: %s", o->path, strerror(err));
    return !err;
}

/* Renames a finished file into place when keep, else removes it. */
static bool file_commit(out_file *o, bool keep, ir_diag *d)
{
    if (!o->tmp[0])
        return true;
    if (keep && o->written && rename(o->tmp, o->path) == 0)
        return true;
    if (keep && o->written)
        ir_diag_errorf(d, "%s: cannot write: %s", o->path, strerror(errno));
    remove(o->tmp);
    return !keep;
}

/* Finishes and, when every write worked, commits. */
static bool file_close(out_file *o, ir_diag *d)
{
    bool ok = file_finish(o, d);
    return file_commit(o, ok, d) && ok;
}

static bool write_blob(emitter *e, FILE *fp)
{
    static const unsigned char zeros[BLOB_ALIGN];
    int64_t at = 0;
    for (int i = 0; i < e->f->n_bufs; i++) {
        if (e->blob_off[i] < 0)
            continue;
        const loop_buf *b = e->f->bufs[i];
        fwrite(zeros, 1, (size_t)(e->blob_off[i] - at), fp);
        fwrite(b->data, 1, (size_t)const_bytes(b), fp);
        at = e->blob_off[i] + const_bytes(b);
    }
    fwrite(zeros, 1, (size_t)(e->blob_bytes - at), fp);
    return !ferror(fp);
}

static bool write_incbin(emitter *e, FILE *fp)
{
    fprintf(fp, "/* Generated by loom: the weights of %s, linked from %s.weights.bin.\n"
                "   Assemble with the folder of the .bin on the include path\n"
                "   (cc -c -Wa,-I,DIR DIR/%s.weights.S). */\n",
            e->f->name, e->f->name, e->f->name);
    fprintf(fp, "    .section .rodata\n    .balign %d\n    .globl %s_weights\n"
                "    .type %s_weights, @object\n%s_weights:\n    .incbin \"%s.weights.bin\"\n"
                "    .size %s_weights, %" PRId64 "\n"
                "    .section .note.GNU-stack,\"\",@progbits\n",
            BLOB_ALIGN, e->f->name, e->f->name, e->f->name, e->f->name, e->f->name,
            e->blob_bytes);
    return !ferror(fp);
}

/* The runtime's internal headers (loomrt_*.h), then its sources, each
 * without its includes of runtime headers: loomrt.h inlined at the top of
 * the file and the internal headers written first stand in for them. */
static bool write_runtime_inline(FILE *fp)
{
    fprintf(fp, "\n/* ---- loom runtime (portable build) ---- */\n");
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; be_runtime_names[k]; k++) {
            const char *name = be_runtime_names[k], *src = be_runtime_sources[k];
            bool header = name[strlen(name) - 1] == 'h'; /* the runtime is loomrt*.[ch] */
            if (strcmp(name, "loomrt.h") == 0 || header != (pass == 0))
                continue;
            while (*src) {
                const char *nl = strchr(src, '\n');
                size_t len = nl ? (size_t)(nl - src + 1) : strlen(src);
                if (strncmp(src, "#include \"loomrt", 16) != 0)
                    fwrite(src, 1, len, fp);
                src += len;
            }
        }
    return !ferror(fp);
}

static void emitter_free(emitter *e)
{
    ir_free(e->used);
    ir_free(e->blob_off);
    ir_free(e->check_slot);
    ir_free(e->scope_used);
    ir_free(e->scope_local);
    ir_free(e->outer);
}

loom_status be_c_emit(const loop_func *f, const be_c_opts *opts, const char *dir,
                      const char *base, ir_diag *d)
{
    emitter e = {.f = f, .opts = opts};
    e.used = ir_calloc((size_t)f->n_bufs + 1, sizeof *e.used);
    e.blob_off = ir_calloc((size_t)f->n_bufs + 1, sizeof *e.blob_off);
    e.check_slot = ir_calloc((size_t)f->n_steps + 1, sizeof *e.check_slot);
    e.scope_used = ir_calloc((size_t)f->n_bufs + 1, sizeof *e.scope_used);
    e.scope_local = ir_calloc((size_t)f->n_locals + 1, sizeof *e.scope_local);
    e.outer = ir_calloc((size_t)f->n_vars + 1, sizeof *e.outer);
    if (!e.used || !e.blob_off || !e.check_slot || !e.scope_used ||
        !e.scope_local || !e.outer) {
        emitter_free(&e);
        ir_diag_errorf(d, "%s: out of memory in the C emitter", f->name);
        return LOOM_STATUS_NOMEM;
    }
    mark_used(&e);
    layout_weights(&e);
    char name[1024];
    out_file c = {0}, h = {0}, bin = {0}, s = {0};
    bool ok = true;
    snprintf(name, sizeof name, "%s.h", base);
    if ((ok = file_open(&h, dir, name, "w", d))) {
        e.out = h.fp;
        emit_header(&e);
    }
    snprintf(name, sizeof name, "%s.c", base);
    if (ok && (ok = file_open(&c, dir, name, "w", d))) {
        e.out = c.fp;
        if (opts->standalone) {
            /* unused: a model that calls no im2col must not warn about it */
            fprintf(c.fp, "/* loomrt.h, inlined by --standalone */\n"
                          "#if defined(__GNUC__)\n"
                          "#define LOOMRT_API static inline __attribute__((unused))\n"
                          "#else\n#define LOOMRT_API static inline\n#endif\n");
            for (int k = 0; be_runtime_names[k]; k++)
                if (strcmp(be_runtime_names[k], "loomrt.h") == 0)
                    fputs(be_runtime_sources[k], c.fp);
        }
        emit_source(&e, base);
        if (opts->standalone)
            ok = write_runtime_inline(c.fp);
    }
    if (ok && (e.mode == BE_WEIGHTS_INCBIN || e.mode == BE_WEIGHTS_FILE)) {
        snprintf(name, sizeof name, "%s.weights.bin", f->name);
        ok = file_open(&bin, dir, name, "wb", d) && write_blob(&e, bin.fp);
        if (ok && e.mode == BE_WEIGHTS_INCBIN) {
            snprintf(name, sizeof name, "%s.weights.S", f->name);
            ok = file_open(&s, dir, name, "w", d) && write_incbin(&e, s.fp);
        }
    }
    /* all or nothing: every file is renamed into place only if all were
     * written; each failed write is reported with its reason */
    out_file *files[] = {&h, &c, &bin, &s};
    for (int i = 0; i < 4; i++)
        ok = file_finish(files[i], d) && ok;
    bool all = ok;
    for (int i = 0; i < 4; i++)
        ok = file_commit(files[i], all, d) && ok;
    if (d->n_errors == 0 && !ok)
        ir_diag_errorf(d, "%s/%s: writing the generated files failed", dir, base);
    emitter_free(&e);
    return ok ? LOOM_STATUS_OK : LOOM_STATUS_IO;
}

loom_status be_c_write_runtime(const char *dir, ir_diag *d)
{
    for (int k = 0; be_runtime_names[k]; k++) {
        out_file o = {0};
        if (!file_open(&o, dir, be_runtime_names[k], "w", d))
            return LOOM_STATUS_IO;
        fputs(be_runtime_sources[k], o.fp);
        if (!file_close(&o, d))
            return LOOM_STATUS_IO;
    }
    return LOOM_STATUS_OK;
}
