/*
 * Loop IR construction: buffers, steps, variables, locals, statements and
 * expressions, all allocated in the function's arena (which longjmps to
 * f->arena.oom on failure, like the graph arena).
 */
#include <string.h>

#include "loop_ir.h"

static const char *const kernel_names[LOOP_KERNEL_COUNT] = {
#define LOOP_KERNEL_NAME(e, name) name,
    LOOP_KERNELS(LOOP_KERNEL_NAME)
#undef LOOP_KERNEL_NAME
};

const char *loop_kernel_name(loop_kernel k)
{
    return (unsigned)k < LOOP_KERNEL_COUNT ? kernel_names[k] : NULL;
}

const char *loop_unop_name(loop_unop op)
{
    static const char *names[] = {
#define LOOP_UNOP_NAME(e, s) s,
        LOOP_UNOPS(LOOP_UNOP_NAME)
#undef LOOP_UNOP_NAME
    };
    return (unsigned)op < LOOP_UNOP_COUNT ? names[op] : "?";
}

const char *loop_binop_name(loop_binop op)
{
    static const char *names[] = {
#define LOOP_BINOP_NAME(e, s) s,
        LOOP_BINOPS(LOOP_BINOP_NAME)
#undef LOOP_BINOP_NAME
    };
    return (unsigned)op < LOOP_BINOP_COUNT ? names[op] : "?";
}

loop_func *loop_func_new(const char *name)
{
    loop_func *f = ir_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    ir_arena_init(&f->arena);
    jmp_buf jb;
    if (!IR_TRY(&f->arena, jb)) {
        ir_arena_free(&f->arena);
        ir_free(f);
        return NULL;
    }
    f->name = ir_arena_strdup(&f->arena, name);
    f->error_offset = -1;
    f->arena.oom = NULL;
    return f;
}

void loop_func_free(loop_func *f)
{
    if (!f)
        return;
    ir_arena_free(&f->arena);
    ir_free(f);
}

loop_buf *loop_buf_new(loop_func *f, const char *name, loop_buf_kind kind, ir_dtype dtype,
                       int64_t numel)
{
    loop_buf *b = ir_arena_alloc(&f->arena, sizeof *b);
    b->name = ir_arena_strdup(&f->arena, name);
    b->kind = kind;
    b->dtype = dtype;
    b->numel = numel;
    b->io_index = -1;
    b->offset = -1;
    f->bufs = ir_arena_grow(&f->arena, f->bufs, f->n_bufs, &f->cap_bufs, sizeof *f->bufs);
    b->id = f->n_bufs;
    f->bufs[f->n_bufs++] = b;
    return b;
}

void loop_buf_set_tensor(loop_func *f, loop_buf *b, const ir_value *v)
{
    b->tensor = ir_arena_strdup(&f->arena, v->name);
    b->shape = v->shape;
}

loop_step *loop_step_new(loop_func *f, const char *node_name, ir_op op)
{
    loop_step *s = ir_arena_alloc(&f->arena, sizeof *s);
    s->node_name = ir_arena_strdup(&f->arena, node_name ? node_name : "");
    s->op = op;
    f->steps = ir_arena_grow(&f->arena, f->steps, f->n_steps, &f->cap_steps, sizeof *f->steps);
    f->steps[f->n_steps++] = s;
    return s;
}

int loop_var_new(loop_func *f)
{
    return f->n_vars++;
}

int loop_local_new(loop_func *f, ir_dtype dtype)
{
    f->locals = ir_arena_grow(&f->arena, f->locals, f->n_locals, &f->cap_locals, sizeof *f->locals);
    f->locals[f->n_locals].dtype = dtype;
    return f->n_locals++;
}

static loop_stmt *append(loop_func *f, loop_block *b, loop_stmt_kind kind)
{
    loop_stmt *s = ir_arena_alloc(&f->arena, sizeof *s);
    s->kind = kind;
    b->stmts = ir_arena_grow(&f->arena, b->stmts, b->n, &b->cap, sizeof *b->stmts);
    b->stmts[b->n++] = s;
    return s;
}

loop_stmt *loop_for(loop_func *f, loop_block *b, int var, int64_t extent)
{
    loop_stmt *s = append(f, b, LOOP_STMT_FOR);
    s->var = var;
    s->extent = extent;
    return s;
}

loop_stmt *loop_if(loop_func *f, loop_block *b, loop_expr *cond)
{
    loop_stmt *s = append(f, b, LOOP_STMT_IF);
    s->cond = cond;
    return s;
}

void loop_store(loop_func *f, loop_block *b, loop_buf *buf, loop_index idx, loop_expr *value)
{
    loop_stmt *s = append(f, b, LOOP_STMT_STORE);
    s->buf = buf;
    s->idx = idx;
    s->value = value;
}

void loop_set(loop_func *f, loop_block *b, int local, loop_expr *value)
{
    loop_stmt *s = append(f, b, LOOP_STMT_SET);
    s->local = local;
    s->value = value;
}

static loop_stmt *call(loop_func *f, loop_block *b, loop_kernel k)
{
    loop_stmt *s = append(f, b, LOOP_STMT_CALL);
    s->kernel = k;
    return s;
}

void loop_call_sgemm(loop_func *f, loop_block *b, const loop_sgemm *g)
{
    call(f, b, LOOP_KERNEL_SGEMM)->call.sgemm = *g;
}

void loop_call_sgemm_packed(loop_func *f, loop_block *b, const loop_sgemm_packed *g)
{
    call(f, b, LOOP_KERNEL_SGEMM_PACKED)->call.sgemm_packed = *g;
}

void loop_call_unfold(loop_func *f, loop_block *b, loop_kernel k, const loop_unfold *u)
{
    call(f, b, k)->call.unfold = *u;
}

void loop_call_dwconv(loop_func *f, loop_block *b, const loop_dwconv *d)
{
    call(f, b, LOOP_KERNEL_DWCONV)->call.dwconv = *d;
}

void loop_call_conv(loop_func *f, loop_block *b, const loop_conv *cv)
{
    call(f, b, LOOP_KERNEL_CONV2D)->call.conv = *cv;
}

void loop_call_winograd(loop_func *f, loop_block *b, const loop_winograd *wg)
{
    call(f, b, LOOP_KERNEL_WINOGRAD)->call.winograd = *wg;
}

void loop_call_conv_direct(loop_func *f, loop_block *b, const loop_conv_direct *cd)
{
    call(f, b, LOOP_KERNEL_CONV_DIRECT)->call.conv_direct = *cd;
}

void loop_call_conv_t(loop_func *f, loop_block *b, const loop_conv_t *ct)
{
    call(f, b, LOOP_KERNEL_CONV2D_T)->call.conv_t = *ct;
}

void loop_call_conv_pool(loop_func *f, loop_block *b, const loop_conv_pool *cp)
{
    call(f, b, LOOP_KERNEL_CONV_DIRECT_POOL)->call.conv_pool = *cp;
}

void loop_call_winograd_pool(loop_func *f, loop_block *b, const loop_winograd_pool *wp)
{
    call(f, b, LOOP_KERNEL_WINOGRAD_POOL)->call.winograd_pool = *wp;
}

void loop_call_attention(loop_func *f, loop_block *b, const loop_attention *a)
{
    call(f, b, LOOP_KERNEL_ATTENTION)->call.attention = *a;
}

void loop_check(loop_func *f, loop_block *b, loop_expr *cond, loop_error error)
{
    loop_stmt *s = append(f, b, LOOP_STMT_CHECK);
    s->cond = cond;
    s->error = error;
}

bool loop_block_has_checks(const loop_block *b)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_CHECK)
            return true;
        if ((s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF) && loop_block_has_checks(&s->body))
            return true;
    }
    return false;
}

bool loop_has_checks(const loop_func *f)
{
    for (int s = 0; s < f->n_steps; s++)
        if (loop_block_has_checks(&f->steps[s]->body))
            return true;
    return false;
}

const char *loop_error_name(int code)
{
    switch (code) {
#define LOOP_ERROR_NAME(e, code, name, text) \
    case code: return name;
        LOOP_ERRORS(LOOP_ERROR_NAME)
#undef LOOP_ERROR_NAME
    default: return NULL;
    }
}

const char *loop_error_text(int code)
{
    switch (code) {
#define LOOP_ERROR_TEXT(e, code, name, text) \
    case code: return text;
        LOOP_ERRORS(LOOP_ERROR_TEXT)
#undef LOOP_ERROR_TEXT
    default: return NULL;
    }
}

loop_index loop_idx_const(int64_t offset)
{
    loop_index idx = {0};
    idx.offset = offset;
    return idx;
}

void loop_idx_add(loop_index *idx, int var, int64_t coef)
{
    if (coef == 0)
        return;
    for (int k = 0; k < idx->n; k++)
        if (idx->var[k] == var) {
            idx->coef[k] += coef;
            return;
        }
    /* an index never has more terms than loop depth; LOOP_MAX_TERMS bounds
     * the nest depth the lowering emits */
    if (idx->n < LOOP_MAX_TERMS) {
        idx->var[idx->n] = var;
        idx->coef[idx->n++] = coef;
    }
}

static loop_expr *expr(loop_func *f, loop_expr_kind kind, ir_dtype t)
{
    loop_expr *e = ir_arena_alloc(&f->arena, sizeof *e);
    e->kind = kind;
    e->dtype = t;
    return e;
}

loop_expr *loop_const_f(loop_func *f, ir_dtype t, double v)
{
    loop_expr *e = expr(f, LOOP_EXPR_CONST, t);
    e->c.f = v;
    return e;
}

loop_expr *loop_const_i(loop_func *f, ir_dtype t, int64_t v)
{
    loop_expr *e = expr(f, LOOP_EXPR_CONST, t);
    e->c.i = v;
    return e;
}

loop_expr *loop_var(loop_func *f, int var)
{
    loop_expr *e = expr(f, LOOP_EXPR_VAR, IR_DTYPE_I64);
    e->id = var;
    return e;
}

loop_expr *loop_local_read(loop_func *f, int local)
{
    loop_expr *e = expr(f, LOOP_EXPR_LOCAL, f->locals[local].dtype);
    e->id = local;
    return e;
}

loop_expr *loop_load(loop_func *f, loop_buf *buf, loop_index idx)
{
    loop_expr *e = expr(f, LOOP_EXPR_LOAD, buf->dtype);
    e->buf = buf;
    e->idx = idx;
    return e;
}

loop_expr *loop_unary(loop_func *f, loop_unop op, loop_expr *a)
{
    loop_expr *e = expr(f, LOOP_EXPR_UNARY, op == LOOP_UNOP_NOT ? IR_DTYPE_BOOL : a->dtype);
    e->op = op;
    e->a = a;
    return e;
}

loop_expr *loop_binary(loop_func *f, loop_binop op, loop_expr *a, loop_expr *b)
{
    bool logical = op >= LOOP_BINOP_LT;
    loop_expr *e = expr(f, LOOP_EXPR_BINARY, logical ? IR_DTYPE_BOOL : a->dtype);
    e->op = op;
    e->a = a;
    e->b = b;
    return e;
}

loop_expr *loop_select(loop_func *f, loop_expr *cond, loop_expr *a, loop_expr *b)
{
    loop_expr *e = expr(f, LOOP_EXPR_SELECT, a->dtype);
    e->a = cond;
    e->b = a;
    e->c3 = b;
    return e;
}

loop_expr *loop_cast(loop_func *f, ir_dtype t, loop_expr *a)
{
    loop_expr *e = expr(f, LOOP_EXPR_CAST, t);
    e->a = a;
    return e;
}
