/*
 * Marks the loops that run in parallel (loop_stmt.parallel): the outermost
 * loop of each nest whose iterations are independent and whose work is
 * worth a parallel-for. Both backends outline a parallel loop's body into
 * a function over a range of iterations and hand it to the runtime's
 * loomrt_parallel_for (docs/loop-ir.md, "Parallel loops").
 *
 * Independence, decided on the affine indices: within one run of the loop
 * (the enclosing loop variables fixed), every access to a storage that the
 * body writes has the index c * v + r with the same coefficient c != 0 of
 * the loop's variable v, the same terms in the enclosing variables, and r
 * (the inner variables over their ranges, plus a kernel argument's extent)
 * inside one window narrower than |c|: iteration v then touches only its
 * own elements. A data-dependent index on such a storage, two buffers
 * whose storage overlaps (in-place reuse, views of another dtype), a
 * check, or a local the loop shares with code outside it keep the loop
 * serial. Each local the body uses must be set before it is read, in
 * every iteration, so each part can keep its own copy.
 *
 * Worth: the loop's trip count is at least 2 and its estimated work (one
 * unit per expression node, the multiply-adds of a kernel call) at least
 * LOOP_PARALLEL_MIN_WORK. Splitting iterations never changes the order of
 * any sum: a parallel loop computes bit-identical results on any number
 * of threads.
 */
#include "loomrt.h"
#include "loop_ir.h"

typedef struct par_access {
    const loop_buf *buf, *root;
    const loop_index *idx;
    int64_t c, lo, hi; /* c * v + [lo, hi], enclosing terms left out */
    bool written;
} par_access;

typedef struct par_scan {
    const loop_func *f;
    int var;                /* the candidate loop's variable */
    int64_t *inner;         /* by variable: extent when bound inside, else 0 */
    unsigned char *state;   /* by local: 0 untouched, 1 set first, 2 read first */
    int *uses, *total_uses; /* by local: uses inside the candidate, in f */
    par_access *acc;
    int n_acc, cap_acc;
    int cond;               /* inside an IF (or an empty FOR) of the body */
    bool ok;
} par_scan;

static const loop_buf *root_of(const loop_buf *b)
{
    while (b->alias)
        b = b->alias;
    return b;
}

/* Records one access to buf at idx reaching extent elements. */
static void par_add(par_scan *p, const loop_buf *buf, const loop_index *idx, int64_t extent,
                    bool written)
{
    if (!p->ok)
        return;
    if (p->n_acc == p->cap_acc) {
        int cap = p->cap_acc ? 2 * p->cap_acc : 32;
        par_access *a = ir_calloc((size_t)cap, sizeof *a);
        if (!a) {
            p->ok = false;
            return;
        }
        for (int k = 0; k < p->n_acc; k++)
            a[k] = p->acc[k];
        ir_free(p->acc);
        p->acc = a, p->cap_acc = cap;
    }
    par_access *a = &p->acc[p->n_acc++];
    int64_t at = idx->offset + buf->alias_offset; /* in the root's elements */
    *a = (par_access){buf, root_of(buf), idx, 0, at, at + extent - 1, written};
    if (idx->dyn) { /* any element: never disjoint */
        a->lo = INT64_MIN / 4, a->hi = INT64_MAX / 4;
        return;
    }
    for (int k = 0; k < idx->n; k++) {
        int64_t span = p->inner[idx->var[k]] > 0 ? idx->coef[k] * (p->inner[idx->var[k]] - 1) : 0;
        if (idx->var[k] == p->var)
            a->c += idx->coef[k];
        else if (span < 0)
            a->lo += span;
        else
            a->hi += span;
    }
}

static void par_local(par_scan *p, int local, bool set)
{
    p->uses[local]++;
    if (p->state[local] == 0)
        p->state[local] = set && !p->cond ? 1 : 2;
}

static void par_expr(par_scan *p, const loop_expr *x, int64_t *work)
{
    if (!x)
        return;
    (*work)++;
    if (x->kind == LOOP_EXPR_LOAD) {
        par_add(p, x->buf, &x->idx, 1, false);
        par_expr(p, x->idx.dyn, work);
    } else if (x->kind == LOOP_EXPR_LOCAL) {
        par_local(p, x->id, false);
    }
    par_expr(p, x->a, work);
    par_expr(p, x->b, work);
    par_expr(p, x->c3, work);
}

/* Multiply-adds of a kernel call (a copy for im2col / col2im, a
 * comparison for maxpool). */
static int64_t par_call_work(const loop_stmt *s)
{
    switch (s->kernel) {
    case LOOP_KERNEL_SGEMM: return s->call.sgemm.m * s->call.sgemm.n * s->call.sgemm.k;
    case LOOP_KERNEL_SGEMM_PACKED:
        return s->call.sgemm_packed.m * s->call.sgemm_packed.n * s->call.sgemm_packed.k;
    case LOOP_KERNEL_IM2COL:
    case LOOP_KERNEL_COL2IM:
    case LOOP_KERNEL_MAXPOOL: {
        const loop_conv2d *g = &s->call.unfold.g;
        return g->channels * g->kh * g->kw * g->oh * g->ow;
    }
    case LOOP_KERNEL_DWCONV: {
        const loop_conv2d *g = &s->call.dwconv.g;
        return g->channels * (g->kh * g->kw * g->oh * g->ow + s->call.dwconv.pw_k * g->h * g->w +
                              s->call.dwconv.pj_m * g->oh * g->ow);
    }
    case LOOP_KERNEL_CONV2D:
    case LOOP_KERNEL_CONV_DIRECT:
    case LOOP_KERNEL_CONV2D_T: {
        const loop_conv *cv = s->kernel == LOOP_KERNEL_CONV2D        ? &s->call.conv
                              : s->kernel == LOOP_KERNEL_CONV_DIRECT ? &s->call.conv_direct
                                                                     : &s->call.conv_t;
        return cv->m * cv->g.channels * cv->g.kh * cv->g.kw * cv->g.oh * cv->g.ow;
    }
    case LOOP_KERNEL_CONV_DIRECT_POOL: {
        const loop_conv *cv = &s->call.conv_pool.conv;
        const loop_conv2d *p = &s->call.conv_pool.pool;
        return cv->m * (cv->g.channels * cv->g.kh * cv->g.kw * cv->g.oh * cv->g.ow +
                        p->kh * p->kw * p->oh * p->ow);
    }
    case LOOP_KERNEL_WINOGRAD: { /* 16 products of tiles of 4 outputs */
        const loop_conv2d *g = &s->call.winograd.g;
        return s->call.winograd.m * g->channels * 4 * g->oh * g->ow;
    }
    case LOOP_KERNEL_WINOGRAD_POOL: { /* a tile a pooled output */
        const loop_winograd_pool *wp = &s->call.winograd_pool;
        return wp->conv.m * wp->conv.g.channels * 16 * wp->pool.oh * wp->pool.ow;
    }
    case LOOP_KERNEL_ATTENTION: {
        const loop_attention *a = &s->call.attention;
        return a->sq * a->sk * (a->d + a->dv);
    }
    case LOOP_KERNEL_COUNT: break;
    }
    return 0;
}

static int64_t par_block(par_scan *p, const loop_block *b);

/* Scans statement s of the candidate's body; returns its work. */
static int64_t par_stmt(par_scan *p, const loop_stmt *s)
{
    int64_t work = 1;
    switch (s->kind) {
    case LOOP_STMT_FOR:
        p->inner[s->var] = s->extent;
        p->cond += s->extent < 1;
        work = s->extent * par_block(p, &s->body);
        p->cond -= s->extent < 1;
        return work;
    case LOOP_STMT_IF:
        par_expr(p, s->cond, &work);
        p->cond++;
        work += par_block(p, &s->body);
        p->cond--;
        return work;
    case LOOP_STMT_CHECK: p->ok = false; return work; /* one error record per run */
    case LOOP_STMT_STORE:
        par_add(p, s->buf, &s->idx, 1, true);
        par_expr(p, s->idx.dyn, &work);
        par_expr(p, s->value, &work);
        return work;
    case LOOP_STMT_SET:
        par_local(p, s->local, true);
        par_expr(p, s->value, &work);
        return work;
    case LOOP_STMT_CALL: {
        loop_call_arg args[LOOP_CALL_MAX_ARGS];
        for (int a = 0, n = loop_call_args(s, args); a < n; a++)
            par_add(p, args[a].slice->buf, &args[a].slice->idx, args[a].extent,
                    args[a].written);
        return work + par_call_work(s);
    }
    }
    p->ok = false; /* an unknown statement stays serial */
    return work;
}

static int64_t par_block(par_scan *p, const loop_block *b)
{
    int64_t work = 0;
    for (int k = 0; k < b->n && p->ok; k++) {
        work += par_stmt(p, b->stmts[k]);
        if (work > INT64_MAX / 8 / (b->n + 1))
            work = INT64_MAX / 8 / (b->n + 1); /* large enough: saturate */
    }
    return work;
}

/* True when a and b have the same terms in the enclosing variables. */
static bool par_same_outer(const par_scan *p, const loop_index *a, const loop_index *b)
{
    for (int pass = 0; pass < 2; pass++) {
        const loop_index *x = pass ? b : a, *y = pass ? a : b;
        for (int k = 0; k < x->n; k++) {
            int v = x->var[k];
            if (v == p->var || p->inner[v] > 0 || x->coef[k] == 0)
                continue;
            int64_t cy = 0;
            for (int j = 0; j < y->n; j++)
                if (y->var[j] == v)
                    cy += y->coef[j];
            if (cy != x->coef[k])
                return false;
        }
    }
    return true;
}

/* True when the storages of a and b may share an element. */
static bool par_overlap(const loop_buf *a, const loop_buf *b)
{
    if (a == b)
        return true;
    if (a->kind != LOOP_BUF_ARENA || b->kind != LOOP_BUF_ARENA)
        return false; /* inputs, outputs and constants never overlap */
    int64_t ea = a->offset + a->numel * (int64_t)ir_dtype_size(a->dtype);
    int64_t eb = b->offset + b->numel * (int64_t)ir_dtype_size(b->dtype);
    return a->offset < eb && b->offset < ea;
}

/* The independence test of the file comment, for written access w. */
static bool par_disjoint(const par_scan *p, const par_access *w)
{
    int64_t lo = w->lo, hi = w->hi, c = w->c < 0 ? -w->c : w->c;
    if (c == 0 || w->buf->dtype != w->root->dtype)
        return false;
    for (int k = 0; k < p->n_acc; k++) {
        const par_access *a = &p->acc[k];
        if (!par_overlap(a->root, w->root))
            continue;
        if (a->root != w->root || a->buf->dtype != w->root->dtype || a->c != w->c ||
            !par_same_outer(p, a->idx, w->idx))
            return false;
        lo = a->lo < lo ? a->lo : lo;
        hi = a->hi > hi ? a->hi : hi;
    }
    return hi - lo < c;
}

/* True when the locals the body uses are its own, set before read. */
static bool par_locals_private(const par_scan *p)
{
    for (int l = 0; l < p->f->n_locals; l++)
        if (p->uses[l] && (p->state[l] != 1 || p->uses[l] != p->total_uses[l]))
            return false;
    return true;
}

/* Whether loop s may and should run in parallel. */
static bool par_candidate(par_scan *p, const loop_stmt *s)
{
    if (s->extent < 2)
        return false;
    p->var = s->var;
    p->n_acc = 0;
    p->cond = 0;
    p->ok = true;
    for (int v = 0; v < p->f->n_vars; v++)
        p->inner[v] = 0;
    for (int l = 0; l < p->f->n_locals; l++)
        p->state[l] = 0, p->uses[l] = 0;
    int64_t work = par_block(p, &s->body);
    if (!p->ok || work < (LOOP_PARALLEL_MIN_WORK + s->extent - 1) / s->extent)
        return false;
    for (int k = 0; k < p->n_acc; k++)
        if (p->acc[k].written && !par_disjoint(p, &p->acc[k]))
            return false;
    return par_locals_private(p);
}

/* Marks the outermost parallel loops of block b. */
static int par_mark(par_scan *p, loop_block *b)
{
    int marked = 0;
    for (int k = 0; k < b->n; k++) {
        loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_FOR && par_candidate(p, s)) {
            s->parallel = true;
            marked++;
        } else if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF) {
            marked += par_mark(p, &s->body);
        }
    }
    return marked;
}

/* Counts every use of each local in f into total. */
static void par_count_uses(const loop_expr *x, int *total)
{
    if (!x)
        return;
    if (x->kind == LOOP_EXPR_LOCAL)
        total[x->id]++;
    if (x->kind == LOOP_EXPR_LOAD)
        par_count_uses(x->idx.dyn, total);
    par_count_uses(x->a, total);
    par_count_uses(x->b, total);
    par_count_uses(x->c3, total);
}

static void par_count_block(const loop_block *b, int *total)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        if (s->kind == LOOP_STMT_SET)
            total[s->local]++;
        if (s->kind == LOOP_STMT_STORE)
            par_count_uses(s->idx.dyn, total);
        par_count_uses(s->cond, total);
        par_count_uses(s->value, total);
        par_count_block(&s->body, total);
    }
}

loom_status loop_parallelize(loop_func *f, int *marked, ir_diag *d)
{
    par_scan p = {.f = f};
    p.inner = ir_calloc((size_t)f->n_vars + 1, sizeof *p.inner);
    p.state = ir_calloc((size_t)f->n_locals + 1, sizeof *p.state);
    p.uses = ir_calloc((size_t)f->n_locals + 1, sizeof *p.uses);
    p.total_uses = ir_calloc((size_t)f->n_locals + 1, sizeof *p.total_uses);
    loom_status st = LOOM_STATUS_OK;
    int n = 0;
    if (!p.inner || !p.state || !p.uses || !p.total_uses) {
        ir_diag_errorf(d, "%s: out of memory marking parallel loops", f->name);
        st = LOOM_STATUS_NOMEM;
    } else {
        for (int s = 0; s < f->n_steps; s++)
            par_count_block(&f->steps[s]->body, p.total_uses);
        for (int s = 0; s < f->n_steps; s++)
            n += par_mark(&p, &f->steps[s]->body);
    }
    ir_free(p.inner);
    ir_free(p.state);
    ir_free(p.uses);
    ir_free(p.total_uses);
    ir_free(p.acc);
    if (marked)
        *marked = n;
    return st;
}
