/*
 * Loop IR verifier. Checks that every loop variable is bound by an
 * enclosing loop, that dtypes agree, that stores only target writable
 * buffers, and that every access outside a guarded block stays in bounds
 * for all iterations (interval arithmetic over the constant trip counts;
 * accesses under an `if` and data-dependent terms are the lowering's
 * responsibility). After planning, every arena slice lies inside the
 * workspace.
 */
#include <inttypes.h>

#include "loomrt.h"
#include "loop_ir.h"

typedef struct vctx {
    const loop_func *f;
    ir_diag *d;
    int64_t *extent; /* by var: trip count while bound, 0 when not bound */
    const char *step;
    int guarded;     /* depth of enclosing ifs */
    int errors;
} vctx;

static void fail(vctx *c, const char *what)
{
    if (c->errors++ < 20)
        ir_diag_errorf(c->d, "%s: loop IR: step \"%s\": %s", c->f->name, c->step, what);
}

/* Range [lo, hi] of an affine index; false if a var is unbound. */
static bool index_range(vctx *c, const loop_index *idx, int64_t *lo, int64_t *hi)
{
    *lo = *hi = idx->offset;
    for (int k = 0; k < idx->n; k++) {
        int v = idx->var[k];
        if (v < 0 || v >= c->f->n_vars || c->extent[v] <= 0) {
            fail(c, "index uses a loop variable outside its loop");
            return false;
        }
        int64_t span = idx->coef[k] * (c->extent[v] - 1);
        if (span < 0)
            *lo += span;
        else
            *hi += span;
    }
    return true;
}

static void check_access(vctx *c, const loop_buf *b, const loop_index *idx, const char *what)
{
    int64_t lo, hi;
    if (!index_range(c, idx, &lo, &hi) || c->guarded || idx->dyn)
        return;
    if (lo < 0 || hi >= b->numel) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s of %%%s[%" PRId64 "] spans [%" PRId64 ", %" PRId64 "]", what,
                 b->name, b->numel, lo, hi);
        fail(c, msg);
    }
}

static void check_expr(vctx *c, const loop_expr *e)
{
    switch (e->kind) {
    case LOOP_EXPR_CONST: break;
    case LOOP_EXPR_VAR:
        if (e->id < 0 || e->id >= c->f->n_vars || c->extent[e->id] <= 0)
            fail(c, "expression uses a loop variable outside its loop");
        break;
    case LOOP_EXPR_LOCAL:
        if (e->id < 0 || e->id >= c->f->n_locals)
            fail(c, "expression uses an undeclared local");
        break;
    case LOOP_EXPR_LOAD:
        check_access(c, e->buf, &e->idx, "load");
        if (e->idx.dyn)
            check_expr(c, e->idx.dyn);
        break;
    case LOOP_EXPR_UNARY: check_expr(c, e->a); break;
    case LOOP_EXPR_BINARY:
        check_expr(c, e->a);
        check_expr(c, e->b);
        if (e->a->dtype != e->b->dtype)
            fail(c, "binary operands differ in dtype");
        break;
    case LOOP_EXPR_SELECT:
        check_expr(c, e->a);
        check_expr(c, e->b);
        check_expr(c, e->c3);
        if (e->a->dtype != IR_DTYPE_BOOL || e->b->dtype != e->c3->dtype)
            fail(c, "select needs a bool condition and arms of one dtype");
        break;
    case LOOP_EXPR_CAST: check_expr(c, e->a); break;
    }
}

static bool writable(const loop_buf *b)
{
    const loop_buf *r = b->alias ? b->alias : b;
    return r->kind == LOOP_BUF_ARENA || r->kind == LOOP_BUF_OUTPUT;
}

/* Elements a kernel argument slice needs from its start. */
static int64_t kernel_extent(const loop_stmt *s, int arg)
{
    const int64_t *v = s->ints;
    switch (s->kernel) {
    case LOOP_KERNEL_SGEMM: {
        int64_t M = v[0], N = v[1], K = v[2];
        int64_t rows = arg == 0 ? (v[6] ? K : M) : arg == 1 ? (v[7] ? N : K) : M;
        int64_t cols = arg == 0 ? (v[6] ? M : K) : arg == 1 ? (v[7] ? K : N) : N;
        int64_t ld = v[3 + arg];
        return rows && cols ? (rows - 1) * ld + cols : 0;
    }
    case LOOP_KERNEL_IM2COL:
        return arg == 0 ? v[0] * v[1] * v[2] : v[0] * v[3] * v[4] * v[5] * v[6];
    case LOOP_KERNEL_COL2IM:
        return arg == 0 ? v[0] * v[3] * v[4] * v[1] * v[2] : v[0] * v[5] * v[6];
    case LOOP_KERNEL_SGEMM_PACKED: {
        int64_t M = v[0], N = v[1], K = v[2];
        if (arg == 1)
            return (N + LOOMRT_SGEMM_NR - 1) / LOOMRT_SGEMM_NR * LOOMRT_SGEMM_NR * K;
        int64_t rows = arg == 0 ? (v[5] ? K : M) : (v[6] ? N : M);
        int64_t cols = arg == 0 ? (v[5] ? M : K) : (v[6] ? M : N);
        int64_t ld = arg == 0 ? v[3] : v[4];
        return rows && cols ? (rows - 1) * ld + cols : 0;
    }
    case LOOP_KERNEL_ATTENTION: {
        /* Q [Sq,D], K [Sk,D], V [Sk,Dv], mask (i, j) at rs, cs, Y [Sq,Dv] */
        int64_t Sq = v[0], Sk = v[1];
        int64_t rows[5] = {Sq, Sk, Sk, Sq, Sq}, cols[5] = {v[2], v[2], v[3], Sk, v[3]};
        int64_t ld[5] = {v[4], v[5], v[6], v[7], v[9]};
        if (arg == 5)
            return loomrt_attention_work_size(Sq, Sk);
        if (arg == 3)
            return v[11] && Sq && Sk ? (Sq - 1) * v[7] + (Sk - 1) * v[8] + 1 : 0;
        return rows[arg] && cols[arg] ? (rows[arg] - 1) * ld[arg] + cols[arg] : 0;
    }
    case LOOP_KERNEL_COUNT: break;
    }
    return 0;
}

static void check_call(vctx *c, const loop_stmt *s)
{
    const loop_kernel_info *ki = loop_kernel_get(s->kernel);
    if (!ki) {
        fail(c, "call of an unknown kernel");
        return;
    }
    for (int a = 0; a < ki->n_bufs; a++) {
        const loop_slice *sl = &s->bufs[a];
        if (!sl->buf) {
            fail(c, "kernel call is missing a buffer argument");
            continue;
        }
        int64_t extent = kernel_extent(s, a);
        if (extent == 0) /* an argument the call does not read */
            continue;
        loop_index last = sl->idx;
        last.offset += extent - 1;
        check_access(c, sl->buf, &sl->idx, "kernel argument");
        check_access(c, sl->buf, &last, "kernel argument end");
        if (sl->buf->dtype != IR_DTYPE_F32)
            fail(c, "kernel arguments must be f32 buffers");
    }
    if (s->kernel == LOOP_KERNEL_COL2IM || s->kernel == LOOP_KERNEL_IM2COL ||
        s->kernel == LOOP_KERNEL_SGEMM || s->kernel == LOOP_KERNEL_SGEMM_PACKED) {
        const loop_buf *dst = s->bufs[ki->n_bufs - 1].buf;
        if (dst && !writable(dst))
            fail(c, "kernel writes a read-only buffer");
    }
    if (s->kernel == LOOP_KERNEL_ATTENTION && !(writable(s->bufs[4].buf) && writable(s->bufs[5].buf)))
        fail(c, "kernel writes a read-only buffer");
}

static void check_block(vctx *c, const loop_block *b)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        switch (s->kind) {
        case LOOP_STMT_FOR:
            if (s->var < 0 || s->var >= c->f->n_vars || c->extent[s->var] > 0 || s->extent <= 0) {
                fail(c, "loop variable rebound or non-positive trip count");
                break;
            }
            c->extent[s->var] = s->extent;
            check_block(c, &s->body);
            c->extent[s->var] = 0;
            break;
        case LOOP_STMT_IF:
            check_expr(c, s->cond);
            c->guarded++;
            check_block(c, &s->body);
            c->guarded--;
            break;
        case LOOP_STMT_STORE:
            check_access(c, s->buf, &s->idx, "store");
            check_expr(c, s->value);
            if (!writable(s->buf))
                fail(c, "store to a read-only buffer");
            if (s->value->dtype != s->buf->dtype)
                fail(c, "stored value's dtype differs from the buffer's");
            break;
        case LOOP_STMT_SET:
            check_expr(c, s->value);
            if (s->local < 0 || s->local >= c->f->n_locals ||
                c->f->locals[s->local].dtype != s->value->dtype)
                fail(c, "local assignment of the wrong dtype");
            break;
        case LOOP_STMT_CALL: check_call(c, s); break;
        case LOOP_STMT_CHECK:
            check_expr(c, s->cond);
            if (s->cond->dtype != IR_DTYPE_BOOL)
                fail(c, "check needs a bool condition");
            if (!loop_error_name((int)s->error))
                fail(c, "check of an unknown error code");
            break;
        }
    }
}

/* Planned arena slices must lie inside the workspace, and a function with
 * checks has an error record there, overlapping no buffer. */
static void check_plan(vctx *c)
{
    const loop_func *f = c->f;
    bool planned = f->workspace_bytes > 0 || f->error_offset >= 0;
    if (planned && loop_has_checks(f) &&
        (f->error_offset < 0 || f->error_offset % 4 ||
         f->error_offset + LOOP_ERROR_RECORD_BYTES > f->workspace_bytes)) {
        c->step = "(error record)";
        fail(c, "checks without an error record inside the workspace");
    }
    for (int i = 0; i < c->f->n_bufs; i++) {
        const loop_buf *b = c->f->bufs[i];
        if (b->kind != LOOP_BUF_ARENA || b->alias || b->offset < 0)
            continue;
        int64_t end = b->offset + b->numel * (int64_t)ir_dtype_size(b->dtype);
        if (end > c->f->workspace_bytes) {
            c->step = b->name;
            fail(c, "arena slice ends past the workspace");
        }
    }
}

loom_status loop_verify(const loop_func *f, ir_diag *d)
{
    vctx c = {.f = f, .d = d};
    c.extent = ir_calloc((size_t)f->n_vars + 1, sizeof *c.extent);
    if (!c.extent) {
        ir_diag_errorf(d, "%s: out of memory in the loop verifier", f->name);
        return LOOM_STATUS_NOMEM;
    }
    for (int s = 0; s < f->n_steps; s++) {
        c.step = f->steps[s]->node_name;
        check_block(&c, &f->steps[s]->body);
    }
    check_plan(&c);
    ir_free(c.extent);
    return c.errors ? LOOM_STATUS_INTERNAL : LOOM_STATUS_OK;
}
