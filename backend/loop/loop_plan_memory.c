/*
 * Memory planning for the lowered function, the loop-IR side: each arena
 * buffer is live from the first to the last step that touches it (a view
 * extends its root's range). A step that computes an output elementwise
 * from an input that dies there may write the output over the input (in
 * place): the two buffers become one block live over both ranges. The
 * blocks then get offsets from loop_mem_assign (loop_mem_alloc.c), 64-byte
 * aligned; views take their root's offset (plus their own start in it: a
 * Concat's inputs written in place are views of its output).
 *
 * In place is allowed only where it is provably safe. The step must be a
 * perfect loop nest whose innermost body is local assignments followed by
 * one store, with no ifs or kernel calls; the store's index must be
 * injective over the nest (every element written once); every load of the
 * input must use exactly the store's index (so element i is read in the
 * iteration that writes element i, before the store: no broadcast, no
 * shifted or transposed read); the output must not be read in the step;
 * both are arena buffers of the same dtype and element count, neither a
 * view that starts past its storage's first element; the input is
 * defined before the step and not used after it (graph inputs and outputs
 * are not arena buffers, so never reused).
 *
 * A function with data checks gets its error record after the buffers,
 * live for the whole run.
 */
#include <stdlib.h>

#include "loop_ir.h"
#include "loop_mem_alloc.h"

#define PLAN_ALIGN 64
#define PLAN_NODE_BUDGET 20000

typedef struct plan_item {
    int first, last; /* steps; -1 when never touched */
    int group;       /* union-find parent: buffers sharing storage */
} plan_item;

static loop_buf *root(const loop_buf *b)
{
    return b->alias ? b->alias : (loop_buf *)b;
}

/* ---- liveness ---- */

static void touch(plan_item *items, const loop_buf *b, int step)
{
    plan_item *it = &items[root(b)->id];
    if (it->first < 0 || step < it->first)
        it->first = step;
    if (step > it->last)
        it->last = step;
}

static void scan_expr(plan_item *items, const loop_expr *e, int step)
{
    if (!e)
        return;
    if (e->kind == LOOP_EXPR_LOAD) {
        touch(items, e->buf, step);
        scan_expr(items, e->idx.dyn, step);
    }
    scan_expr(items, e->a, step);
    scan_expr(items, e->b, step);
    scan_expr(items, e->c3, step);
}

/* Records every buffer that block b touches as used at step. */
static void scan_block(plan_item *items, const loop_block *b, int step)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        switch (s->kind) {
        case LOOP_STMT_FOR: scan_block(items, &s->body, step); break;
        case LOOP_STMT_IF:
            scan_expr(items, s->cond, step);
            scan_block(items, &s->body, step);
            break;
        case LOOP_STMT_CHECK: scan_expr(items, s->cond, step); break;
        case LOOP_STMT_STORE:
            touch(items, s->buf, step);
            scan_expr(items, s->idx.dyn, step);
            scan_expr(items, s->value, step);
            break;
        case LOOP_STMT_SET: scan_expr(items, s->value, step); break;
        case LOOP_STMT_CALL: {
            loop_call_arg args[LOOP_CALL_MAX_ARGS];
            for (int a = 0, n = loop_call_args(s, args); a < n; a++)
                touch(items, args[a].slice->buf, step);
            break;
        }
        }
    }
}

/* ---- in-place candidates ---- */

/* The perfect loop nest of a step: its loops and innermost block. */
typedef struct nest {
    int n;
    int var[LOOP_MAX_TERMS];
    int64_t extent[LOOP_MAX_TERMS];
    const loop_block *body;
} nest;

/* Fills *ns; false unless the step is FORs, each holding only the next,
 * around assignments followed by exactly one store. */
static bool perfect_nest(const loop_step *step, nest *ns)
{
    const loop_block *b = &step->body;
    ns->n = 0;
    while (b->n == 1 && b->stmts[0]->kind == LOOP_STMT_FOR) {
        if (ns->n == LOOP_MAX_TERMS)
            return false;
        ns->var[ns->n] = b->stmts[0]->var;
        ns->extent[ns->n++] = b->stmts[0]->extent;
        b = &b->stmts[0]->body;
    }
    ns->body = b;
    if (b->n == 0 || b->stmts[b->n - 1]->kind != LOOP_STMT_STORE)
        return false;
    for (int k = 0; k + 1 < b->n; k++)
        if (b->stmts[k]->kind != LOOP_STMT_SET)
            return false;
    return true;
}

/* True when idx takes a different value at every iteration of the nest:
 * each loop of extent > 1 has a positive coefficient larger than the reach
 * of all smaller ones (a mixed-radix numbering), and no other term. */
static bool injective(const loop_index *idx, const nest *ns)
{
    if (idx->dyn)
        return false;
    int64_t reach = 0;
    bool used[LOOP_MAX_TERMS] = {false};
    for (int done = 0; done < idx->n; done++) {
        int pick = -1, loop = -1; /* the smallest coefficient not yet used */
        for (int k = 0; k < idx->n; k++)
            if (!used[k] && (pick < 0 || idx->coef[k] < idx->coef[pick]))
                pick = k;
        used[pick] = true;
        for (int l = 0; l < ns->n; l++)
            loop = ns->var[l] == idx->var[pick] ? l : loop;
        if (loop < 0 || idx->coef[pick] <= reach)
            return false;
        reach += idx->coef[pick] * (ns->extent[loop] - 1);
    }
    for (int l = 0; l < ns->n; l++) { /* every loop that iterates must move the index */
        bool found = ns->extent[l] == 1;
        for (int k = 0; k < idx->n && !found; k++)
            found = idx->var[k] == ns->var[l];
        if (!found)
            return false;
    }
    return true;
}

static bool same_index(const loop_index *a, const loop_index *b)
{
    if (a->n != b->n || a->offset != b->offset || a->dyn || b->dyn)
        return false;
    for (int k = 0; k < a->n; k++) {
        bool found = false;
        for (int j = 0; j < b->n && !found; j++)
            found = a->var[k] == b->var[j] && a->coef[k] == b->coef[j];
        if (!found)
            return false;
    }
    return true;
}

/* Per root buffer id, during one step: 1 = every load so far is at the
 * store's element, -1 = some load is not (or it is the output). */
static void scan_loads(signed char *ok, const loop_expr *e, const loop_stmt *store)
{
    if (!e)
        return;
    if (e->kind == LOOP_EXPR_LOAD) {
        int r = root(e->buf)->id;
        bool same = root(e->buf) != root(store->buf) && e->buf->dtype == store->buf->dtype &&
                    !e->buf->alias_offset && same_index(&e->idx, &store->idx);
        if (ok[r] >= 0)
            ok[r] = same ? 1 : -1;
        scan_loads(ok, e->idx.dyn, store);
    }
    scan_loads(ok, e->a, store);
    scan_loads(ok, e->b, store);
    scan_loads(ok, e->c3, store);
}

/* The root buffer id the output of step s may overwrite, or -1. ok is
 * zeroed scratch of f->n_bufs entries, left zeroed. */
static int inplace_input(const loop_func *f, const plan_item *items, int s, signed char *ok)
{
    nest ns;
    if (!perfect_nest(f->steps[s], &ns))
        return -1;
    const loop_stmt *store = ns.body->stmts[ns.body->n - 1];
    const loop_buf *out = root(store->buf);
    if (out->kind != LOOP_BUF_ARENA || items[out->id].first != s || store->buf->alias_offset ||
        !injective(&store->idx, &ns))
        return -1;
    for (int k = 0; k < ns.body->n; k++)
        scan_loads(ok, ns.body->stmts[k]->value, store);
    int pick = -1;
    bool out_read = ok[out->id] != 0;
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *in = f->bufs[i];
        if (pick < 0 && !out_read && ok[i] == 1 && in->kind == LOOP_BUF_ARENA && !in->alias &&
            in->dtype == out->dtype && in->numel == out->numel && items[i].last == s &&
            items[i].first < s)
            pick = i;
        ok[i] = 0;
    }
    return pick;
}

/* ---- blocks and offsets ---- */

static int group_of(plan_item *items, int i)
{
    while (items[i].group != i)
        i = items[i].group = items[items[i].group].group;
    return i;
}

/* Merges every in-place pair into one group, the earlier buffer its root. */
static loom_status merge_inplace(loop_func *f, plan_item *items)
{
    signed char *ok = ir_calloc((size_t)f->n_bufs + 1, 1);
    if (!ok)
        return LOOM_STATUS_NOMEM;
    for (int s = 0; s < f->n_steps; s++) {
        int in = inplace_input(f, items, s, ok);
        if (in >= 0) {
            nest ns;
            perfect_nest(f->steps[s], &ns);
            int out = root(ns.body->stmts[ns.body->n - 1]->buf)->id;
            items[group_of(items, out)].group = group_of(items, in);
        }
    }
    ir_free(ok);
    return LOOM_STATUS_OK;
}

static int64_t buf_bytes(const loop_buf *b)
{
    return b->numel * (int64_t)ir_dtype_size(b->dtype);
}

/* One block per group of live arena roots (its members' union of ranges
 * and largest size); block[i] is set for group roots, -1 elsewhere. */
static int make_blocks(const loop_func *f, plan_item *items, loop_mem_block *blocks, int *block)
{
    int n = 0;
    for (int i = 0; i < f->n_bufs; i++)
        block[i] = -1;
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        if (b->kind != LOOP_BUF_ARENA || b->alias || items[i].first < 0)
            continue;
        int g = group_of(items, i);
        if (block[g] < 0) {
            block[g] = n;
            blocks[n++] = (loop_mem_block){.first = items[i].first, .last = items[i].last};
        }
        loop_mem_block *x = &blocks[block[g]];
        x->first = items[i].first < x->first ? items[i].first : x->first;
        x->last = items[i].last > x->last ? items[i].last : x->last;
        x->size = buf_bytes(b) > x->size ? buf_bytes(b) : x->size;
    }
    return n;
}

/* Offsets of the blocks to their buffers, then views to their roots'. */
static void set_offsets(loop_func *f, plan_item *items, const loop_mem_block *blocks,
                        const int *block)
{
    for (int i = 0; i < f->n_bufs; i++) {
        loop_buf *b = f->bufs[i];
        if (b->kind == LOOP_BUF_ARENA && !b->alias && items[i].first >= 0)
            b->offset = blocks[block[group_of(items, i)]].offset;
    }
    for (int i = 0; i < f->n_bufs; i++) {
        loop_buf *b = f->bufs[i];
        if (b->alias && b->kind == LOOP_BUF_ARENA)
            b->offset = b->alias->offset + b->alias_offset * (int64_t)ir_dtype_size(b->dtype);
    }
}

loom_status loop_plan_memory(loop_func *f, ir_diag *d)
{
    size_t n = (size_t)f->n_bufs + 1;
    plan_item *items = ir_calloc(n, sizeof *items);
    loop_mem_block *blocks = ir_calloc(n, sizeof *blocks);
    int *block = ir_calloc(n, sizeof *block);
    loom_status st = items && blocks && block ? LOOM_STATUS_OK : LOOM_STATUS_NOMEM;
    loop_mem_plan plan = {0};
    if (!st) {
        for (int i = 0; i < f->n_bufs; i++)
            items[i] = (plan_item){.first = -1, .last = -1, .group = i};
        for (int s = 0; s < f->n_steps; s++)
            scan_block(items, &f->steps[s]->body, s);
        st = merge_inplace(f, items);
    }
    if (!st) {
        int n_blocks = make_blocks(f, items, blocks, block);
        st = loop_mem_assign(blocks, n_blocks, PLAN_ALIGN, PLAN_NODE_BUDGET, &plan);
    }
    if (!st) {
        set_offsets(f, items, blocks, block);
        /* the error record of the checks goes after the buffers; it is
         * live for the whole run */
        int64_t end = (plan.arena + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
        int64_t rec = loop_has_checks(f) ? PLAN_ALIGN : 0;
        f->error_offset = rec ? end : -1;
        f->workspace_bytes = rec ? end + rec : plan.arena;
        f->workspace_lower_bound = plan.lower_bound + rec;
    } else {
        ir_diag_errorf(d, "%s: out of memory while planning memory", f->name);
    }
    ir_free(items);
    ir_free(blocks);
    ir_free(block);
    return st;
}
