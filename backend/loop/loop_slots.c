/*
 * Slot loops (loop_split_slots): a loop over the images of a batch whose
 * kernels share one scratch buffer cannot run its images in parallel, so
 * the runtime splits each image over the threads inside the kernel. This
 * splits the images into runs, each run (a slot) with its own copy of the
 * scratch:
 *
 *     for iN in 0..8 { conv(x + iN*X, y + iN*Y, scratch + 0) }
 * becomes
 *     for iN in 0..2 slots { for iJ in 0..4 {
 *         conv(x + iN*4X + iJ*X, y + iN*4Y + iJ*Y, scratch + iN*S) } }
 *
 * whose outer loop the parallel analysis (loop_parallel.c) then finds
 * independent. Images past the last whole run (8 images in 3 slots: the
 * last two) follow it in a copy of the body, on slot 0's scratch. The
 * emitters run a parallel slot loop through loomrt_parallel_slots, which
 * splits the slots over the threads when the thread count divides them
 * and otherwise runs them in order, the kernels splitting each image as
 * before. docs/loop-ir.md, "Slot loops".
 */
#include "loop_ir.h"

typedef struct slots_scan {
    const loop_stmt *loop; /* the loop split; NULL when scanning around it */
    int var;
    loop_buf **scratch; /* by buffer id: set for the shared scratch found */
    unsigned char *by_image; /* by buffer id: scratch indexed by the variable */
    bool ok;
} slots_scan;

/* A buffer of the workspace that holds no graph value: a kernel's or a
 * lowering's scratch. */
static bool is_scratch(const loop_buf *b)
{
    return b->kind == LOOP_BUF_ARENA && !b->tensor && !b->alias;
}

static bool has_var(const loop_index *idx, int var)
{
    for (int k = 0; k < idx->n; k++)
        if (idx->var[k] == var && idx->coef[k])
            return true;
    return false;
}

static void scan_expr(slots_scan *p, const loop_expr *x);

/* One access of buf at idx: inside the loop, scratch indexed without the
 * loop's variable is recorded, and every index must leave room for the
 * terms the split adds; around it, the scratch found must not appear. */
static void scan_access(slots_scan *p, const loop_buf *buf, const loop_index *idx)
{
    if (idx->dyn)
        scan_expr(p, idx->dyn);
    if (!p->loop) {
        if (p->scratch[buf->id])
            p->ok = false;
        return;
    }
    if (idx->n + 2 > LOOP_MAX_TERMS)
        p->ok = false;
    if (!is_scratch(buf))
        return;
    if (has_var(idx, p->var))
        p->by_image[buf->id] = 1; /* a scratch of each image's own */
    else
        p->scratch[buf->id] = (loop_buf *)buf;
    if (p->by_image[buf->id] && p->scratch[buf->id])
        p->ok = false;
}

static void scan_expr(slots_scan *p, const loop_expr *x)
{
    if (!x)
        return;
    if (x->kind == LOOP_EXPR_VAR && p->loop && x->id == p->var)
        p->ok = false; /* the image number as a value: not rewritten */
    if (x->kind == LOOP_EXPR_LOAD)
        scan_access(p, x->buf, &x->idx);
    scan_expr(p, x->a);
    scan_expr(p, x->b);
    scan_expr(p, x->c3);
}

static void scan_block(slots_scan *p, const loop_block *b);

static void scan_stmt(slots_scan *p, const loop_stmt *s)
{
    scan_expr(p, s->cond);
    scan_expr(p, s->value);
    if (s->kind == LOOP_STMT_STORE)
        scan_access(p, s->buf, &s->idx);
    if (s->kind == LOOP_STMT_CALL) {
        loop_call_arg args[LOOP_CALL_MAX_ARGS];
        int n = loop_call_args(s, args);
        for (int k = 0; k < n; k++)
            scan_access(p, args[k].slice->buf, &args[k].slice->idx);
    }
    if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF)
        scan_block(p, &s->body);
}

static void scan_block(slots_scan *p, const loop_block *b)
{
    for (int k = 0; k < b->n; k++)
        scan_stmt(p, b->stmts[k]);
}

/* The rewrite of one index in the slots: var's term c becomes c*per on
 * var (the slot) plus c on inner (the image within it); a scratch
 * buffer's index gains the slot's copy, numel elements apart. In the
 * images past the slots (rest): c on inner (none when -1) plus c*first. */
typedef struct slots_map {
    int var, inner;
    int64_t per;
    loop_buf **scratch;
    bool rest;
    int64_t first;
} slots_map;

static void map_index(const slots_map *m, const loop_buf *buf, loop_index *idx)
{
    for (int k = 0; m->rest && k < idx->n; k++) {
        if (idx->var[k] != m->var)
            continue;
        idx->offset += idx->coef[k] * m->first;
        if (m->inner >= 0) {
            idx->var[k] = m->inner;
            continue;
        }
        for (int j = k + 1; j < idx->n; j++)
            idx->var[j - 1] = idx->var[j], idx->coef[j - 1] = idx->coef[j];
        idx->n--, k--;
    }
    if (m->rest)
        return;
    for (int k = 0, n = idx->n; k < n; k++)
        if (idx->var[k] == m->var && m->per > 1) {
            loop_idx_add(idx, m->inner, idx->coef[k]);
            idx->coef[k] *= m->per;
        }
    if (m->scratch[buf->id])
        loop_idx_add(idx, m->var, buf->numel);
}

static void map_expr(const slots_map *m, loop_expr *x)
{
    if (!x)
        return;
    if (x->kind == LOOP_EXPR_LOAD)
        map_index(m, x->buf, &x->idx);
    if (x->kind == LOOP_EXPR_LOAD && x->idx.dyn)
        map_expr(m, x->idx.dyn);
    map_expr(m, x->a);
    map_expr(m, x->b);
    map_expr(m, x->c3);
}

static void map_block(const slots_map *m, loop_block *b)
{
    for (int k = 0; k < b->n; k++) {
        loop_stmt *s = b->stmts[k];
        map_expr(m, s->cond);
        map_expr(m, s->value);
        if (s->kind == LOOP_STMT_STORE) {
            map_index(m, s->buf, &s->idx);
            map_expr(m, s->idx.dyn);
        }
        if (s->kind == LOOP_STMT_CALL) {
            loop_call_arg args[LOOP_CALL_MAX_ARGS];
            int n = loop_call_args(s, args);
            for (int j = 0; j < n; j++) {
                /* the arguments point into s's own record */
                loop_slice *sl = (loop_slice *)args[j].slice;
                bool seen = false;
                for (int i = 0; i < j; i++)
                    seen |= args[i].slice == args[j].slice;
                if (!seen) {
                    map_index(m, sl->buf, &sl->idx);
                    map_expr(m, sl->idx.dyn);
                }
            }
        }
        if (s->kind == LOOP_STMT_FOR || s->kind == LOOP_STMT_IF)
            map_block(m, &s->body);
    }
}

/* ---- the images past the slots: a copy of the body ---- */

static loop_expr *clone_expr(loop_func *f, const int *vars, const loop_expr *x);

/* idx with its variables renamed by vars (-1: kept), its data-dependent
 * term copied. */
static void clone_index(loop_func *f, const int *vars, loop_index *idx)
{
    for (int k = 0; k < idx->n; k++)
        if (vars[idx->var[k]] >= 0)
            idx->var[k] = vars[idx->var[k]];
    idx->dyn = clone_expr(f, vars, idx->dyn);
}

static loop_expr *clone_expr(loop_func *f, const int *vars, const loop_expr *x)
{
    if (!x)
        return NULL;
    loop_expr *y = ir_arena_alloc(&f->arena, sizeof *y);
    *y = *x;
    if (y->kind == LOOP_EXPR_VAR && vars[y->id] >= 0)
        y->id = vars[y->id];
    if (y->kind == LOOP_EXPR_LOAD)
        clone_index(f, vars, &y->idx);
    y->a = clone_expr(f, vars, x->a);
    y->b = clone_expr(f, vars, x->b);
    y->c3 = clone_expr(f, vars, x->c3);
    return y;
}

/* Appends to `to` a copy of the statements of `from`, each loop of it on
 * a new variable (vars[old] = new). */
static void clone_block(loop_func *f, int *vars, const loop_block *from, loop_block *to)
{
    for (int k = 0; k < from->n; k++) {
        const loop_stmt *s = from->stmts[k];
        loop_stmt *t = ir_arena_alloc(&f->arena, sizeof *t);
        *t = *s;
        to->stmts = ir_arena_grow(&f->arena, to->stmts, to->n, &to->cap, sizeof *to->stmts);
        to->stmts[to->n++] = t;
        t->cond = clone_expr(f, vars, s->cond);
        t->value = clone_expr(f, vars, s->value);
        if (t->kind == LOOP_STMT_STORE)
            clone_index(f, vars, &t->idx);
        if (t->kind == LOOP_STMT_FOR)
            t->var = vars[s->var] = loop_var_new(f);
        if (t->kind == LOOP_STMT_FOR || t->kind == LOOP_STMT_IF) {
            t->body = (loop_block){0};
            clone_block(f, vars, &s->body, &t->body);
        }
        if (t->kind == LOOP_STMT_CALL) {
            loop_call_arg args[LOOP_CALL_MAX_ARGS];
            int n = loop_call_args(t, args);
            for (int j = 0; j < n; j++) {
                bool seen = false;
                for (int i = 0; i < j; i++)
                    seen |= args[i].slice == args[j].slice;
                if (!seen) /* the arguments point into t's own record */
                    clone_index(f, vars, &((loop_slice *)args[j].slice)->idx);
            }
        }
    }
}

/* The last rest images after the slots' first images: a copy of s's body
 * with s's variable v's term c * v become c * r + c * first over a new
 * loop r (no loop for one image), the scratch that of slot 0; put in b
 * right after s. vars has an entry per variable of f, all -1. */
static void split_rest(loop_func *f, loop_block *b, const loop_stmt *s, int64_t first,
                       int64_t rest, int *vars)
{
    int r = rest > 1 ? loop_var_new(f) : -1;
    loop_block body = {0};
    clone_block(f, vars, &s->body, &body);
    slots_map m = {s->var, r, 0, NULL, true, first};
    map_block(&m, &body);
    loop_block tail = {0};
    if (rest > 1)
        loop_for(f, &tail, r, rest)->body = body;
    else
        tail = body;
    int at = 0;
    while (b->stmts[at] != s)
        at++;
    for (int k = 0; k < tail.n; k++) {
        b->stmts = ir_arena_grow(&f->arena, b->stmts, b->n, &b->cap, sizeof *b->stmts);
        for (int j = b->n; j > at + 1 + k; j--)
            b->stmts[j] = b->stmts[j - 1];
        b->stmts[at + 1 + k] = tail.stmts[k];
        b->n++;
    }
}

bool loop_split_slots(loop_func *f, loop_block *b, loop_stmt *s, int64_t slots)
{
    if (s->kind != LOOP_STMT_FOR || slots < 2 || s->extent < slots)
        return false;
    loop_buf **scratch = ir_calloc((size_t)f->n_bufs + 1, sizeof *scratch);
    unsigned char *by_image = ir_calloc((size_t)f->n_bufs + 1, 1);
    slots_scan p = {s, s->var, scratch, by_image, scratch && by_image};
    if (!p.ok) {
        ir_free(scratch), ir_free(by_image);
        return false;
    }
    scan_block(&p, &s->body);
    bool any = false;
    for (int i = 0; i < f->n_bufs; i++)
        any |= scratch[i] != NULL;
    p.loop = NULL;
    for (int k = 0; k < b->n && p.ok; k++)
        if (b->stmts[k] != s)
            scan_stmt(&p, b->stmts[k]);
    ir_free(by_image);
    int64_t per = s->extent / slots, rest = s->extent % slots;
    int *vars = rest ? ir_calloc((size_t)f->n_vars + 1, sizeof *vars) : NULL;
    if (!p.ok || !any || (rest && !vars)) {
        ir_free(scratch), ir_free(vars);
        return false;
    }
    if (rest) {
        for (int i = 0; i < f->n_vars; i++)
            vars[i] = -1;
        split_rest(f, b, s, slots * per, rest, vars);
        ir_free(vars);
    }
    slots_map m = {s->var, per > 1 ? loop_var_new(f) : -1, per, scratch, false, 0};
    map_block(&m, &s->body);
    if (per > 1) { /* a slot's images (none when it holds one) */
        loop_block outer = {0};
        loop_stmt *inner = loop_for(f, &outer, m.inner, per);
        inner->body = s->body;
        s->body = outer;
    }
    s->extent = slots;
    s->slots = true;
    for (int i = 0; i < f->n_bufs; i++)
        if (scratch[i])
            scratch[i]->numel *= slots;
    ir_free(scratch);
    return true;
}
