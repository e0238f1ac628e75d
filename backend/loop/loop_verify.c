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
    int parallel;    /* depth of enclosing parallel loops */
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

/* Each buffer argument of the call inside its buffer over the whole
 * range the kernel reaches (loop_call_args), f32, and writable where the
 * kernel writes; the epilogue's activation a known one. */
/* Whether g is a convolution loomrt_conv2d_winograd takes: 3x3, strides
 * and dilations 1, planes below 2^31 floats. */
static bool winograd_fits(const loop_conv2d *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride_h == 1 && g->stride_w == 1 && g->dil_h == 1 &&
           g->dil_w == 1 && g->h * g->w <= INT32_MAX && g->oh * g->ow <= INT32_MAX;
}

static void check_call(vctx *c, const loop_stmt *s)
{
    loop_call_arg args[LOOP_CALL_MAX_ARGS];
    int n = loop_call_args(s, args);
    if (n < 0) {
        fail(c, "call of an unknown kernel");
        return;
    }
    for (int a = 0; a < n; a++) {
        const loop_slice *sl = args[a].slice;
        if (!sl->buf) {
            char what[64];
            snprintf(what, sizeof what, "kernel call is missing its %s argument", args[a].name);
            fail(c, what);
            continue;
        }
        if (args[a].extent == 0) /* an empty range: nothing is read or written */
            continue;
        loop_index last = sl->idx;
        last.offset += args[a].extent - 1;
        check_access(c, sl->buf, &sl->idx, "kernel argument");
        check_access(c, sl->buf, &last, "kernel argument end");
        if (sl->buf->dtype != IR_DTYPE_F32)
            fail(c, "kernel arguments must be f32 buffers");
        if (args[a].written && !writable(sl->buf))
            fail(c, "kernel writes a read-only buffer");
    }
    const loop_epilogue *e = s->kernel == LOOP_KERNEL_SGEMM          ? &s->call.sgemm.epi
                             : s->kernel == LOOP_KERNEL_SGEMM_PACKED ? &s->call.sgemm_packed.epi
                             : s->kernel == LOOP_KERNEL_DWCONV       ? &s->call.dwconv.epi
                             : s->kernel == LOOP_KERNEL_CONV2D       ? &s->call.conv.epi
                             : s->kernel == LOOP_KERNEL_WINOGRAD     ? &s->call.winograd.epi
                             : s->kernel == LOOP_KERNEL_CONV_DIRECT  ? &s->call.conv_direct.epi
                             : s->kernel == LOOP_KERNEL_CONV2D_T     ? &s->call.conv_t.epi
                             : s->kernel == LOOP_KERNEL_CONV_DIRECT_POOL
                                 ? &s->call.conv_pool.conv.epi
                             : s->kernel == LOOP_KERNEL_WINOGRAD_POOL
                                 ? &s->call.winograd_pool.conv.epi
                                 : NULL;
    if (s->kernel == LOOP_KERNEL_DWCONV) {
        const loop_dwconv *d = &s->call.dwconv;
        if (d->mult < 1 || d->g.stride_w < 1 || d->g.stride_w > LOOMRT_DW_MAX_STRIDE ||
            d->g.stride_h < 1 || d->g.dil_h < 1 || d->g.dil_w < 1)
            fail(c, "dwconv needs mult, strides and dilations >= 1, stride_w <= "
                    "LOOMRT_DW_MAX_STRIDE");
        if (d->pw.buf && (d->mult != 1 || d->pw_k < 1 || d->pw_epi.residual.buf ||
                          d->pw_epi.bias_rs != 1 || d->pw_epi.bias_cs != 0))
            fail(c, "dwconv with a fused pointwise convolution needs mult 1, K >= 1 and one "
                    "bias per channel, no residual, before it");
        if (d->pj.buf && (d->mult != 1 || d->pj_m < 1 || d->epi.residual.buf ||
                          d->pj_epi.bias_rs != 1 || d->pj_epi.bias_cs != 0))
            fail(c, "dwconv with a fused projection needs mult 1, M >= 1, no residual of its "
                    "own and one projection bias per output channel");
    }
    if (s->kernel == LOOP_KERNEL_CONV2D) {
        const loop_conv2d *g = &s->call.conv.g;
        if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 ||
            g->h * g->w > INT32_MAX)
            fail(c, "conv2d needs strides and dilations >= 1 and planes below 2^31 floats");
    }
    if (s->kernel == LOOP_KERNEL_CONV2D_T) {
        const loop_conv2d *g = &s->call.conv_t.g;
        if (g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1)
            fail(c, "conv2d_t needs strides and dilations >= 1");
    }
    if (s->kernel == LOOP_KERNEL_WINOGRAD && !winograd_fits(&s->call.winograd.g))
        fail(c, "winograd needs a 3x3 kernel, strides and dilations 1 and planes below "
                "2^31 floats");
    if (s->kernel == LOOP_KERNEL_CONV_DIRECT) {
        const loop_conv2d *g = &s->call.conv_direct.g;
        if (g->stride_h < 1 || g->dil_h < 1 ||
            !loomrt_conv2d_direct_fits(g->channels, g->kh, g->kw, g->stride_w, g->dil_w))
            fail(c, "conv_direct needs strides and dilations >= 1 and at most "
                    "LOOMRT_CONV_DIRECT_MAX_TAPS taps (loomrt_conv2d_direct_fits)");
    }
    if (s->kernel == LOOP_KERNEL_CONV_DIRECT_POOL) {
        const loop_conv *cv = &s->call.conv_pool.conv;
        const loop_conv2d *g = &cv->g, *p = &s->call.conv_pool.pool;
        if (g->stride_h < 1 || g->dil_h < 1 || p->channels != cv->m || p->h != g->oh ||
            p->w != g->ow ||
            !loomrt_conv2d_direct_maxpool_fits(g->channels, g->kh, g->kw, g->stride_w, g->dil_w,
                                               g->ow, p->kh, p->kw, p->ow, p->pad_t, p->pad_l,
                                               p->stride_h, p->stride_w, p->dil_h, p->dil_w))
            fail(c, "conv_direct_pool needs strides and dilations >= 1, a pool over the "
                    "convolution's M x oh x ow output and the shapes "
                    "loomrt_conv2d_direct_maxpool_fits takes");
        if (cv->epi.residual.buf)
            fail(c, "conv_direct_pool takes no residual");
    }
    if (s->kernel == LOOP_KERNEL_WINOGRAD_POOL) {
        const loop_conv *cv = &s->call.winograd_pool.conv;
        const loop_conv2d *g = &cv->g, *p = &s->call.winograd_pool.pool;
        if (!winograd_fits(g) || p->channels != cv->m || p->h != g->oh || p->w != g->ow ||
            p->kh != 2 || p->kw != 2 || p->stride_h != 2 || p->stride_w != 2 ||
            p->dil_h != 1 || p->dil_w != 1 || p->pad_t != 0 || p->pad_l != 0 || p->oh < 1 ||
            p->ow < 1 || 2 * p->oh > g->oh || 2 * p->ow > g->ow)
            fail(c, "winograd_pool needs winograd's convolution and an unpadded 2x2, stride 2 "
                    "pool over its M x oh x ow output, its windows inside it");
        if (cv->epi.residual.buf)
            fail(c, "winograd_pool takes no residual");
    }
    if (s->kernel == LOOP_KERNEL_MAXPOOL) {
        const loop_conv2d *g = &s->call.unfold.g;
        if (g->kh < 1 || g->stride_h < 1 || g->dil_h < 1 || g->pad_t < 0 ||
            !loomrt_maxpool2d_fits(g->w, g->kw, g->ow, g->pad_l, g->stride_w, g->dil_w))
            fail(c, "maxpool needs a kernel, strides and dilations >= 1 and a row within "
                    "LOOMRT_MAXPOOL_ROW (loomrt_maxpool2d_fits)");
    }
    if (e && (e->act < LOOMRT_ACT_NONE || e->act >= LOOMRT_ACT_COUNT))
        fail(c, "kernel epilogue has an unknown activation");
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
            if (s->parallel && (c->parallel || loop_block_has_checks(&s->body)))
                fail(c, "parallel loop nested in another or containing a check");
            c->extent[s->var] = s->extent;
            c->parallel += s->parallel;
            check_block(c, &s->body);
            c->parallel -= s->parallel;
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

/* A view lies inside its storage, which is a buffer of its own. */
static void check_views(vctx *c)
{
    for (int i = 0; i < c->f->n_bufs; i++) {
        const loop_buf *b = c->f->bufs[i], *r = b->alias;
        if (!r)
            continue;
        c->step = b->name;
        if (r->alias)
            fail(c, "a view of a view");
        else if (b->alias_offset < 0 ||
                 (b->alias_offset + b->numel) * (int64_t)ir_dtype_size(b->dtype) >
                     r->numel * (int64_t)ir_dtype_size(r->dtype))
            fail(c, "view reaches past its storage");
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
    check_views(&c);
    check_plan(&c);
    ir_free(c.extent);
    return c.errors ? LOOM_STATUS_INTERNAL : LOOM_STATUS_OK;
}
