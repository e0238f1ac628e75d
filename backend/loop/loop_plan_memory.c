/*
 * Memory planning for the lowered function (TFLite Micro's greedy-by-size
 * planner; Pisarchyk & Lee 2020): each arena buffer is live from the first
 * to the last step that touches it (a view extends its root's range);
 * buffers are placed largest first at the lowest 64-byte aligned offset
 * that does not overlap a placed buffer with an intersecting live range.
 * A function with data checks gets its error record after the buffers.
 */
#include <stdlib.h>

#include "loop_ir.h"

#define PLAN_ALIGN 64

typedef struct plan_item {
    loop_buf *buf;
    int first, last;
    int64_t size;
} plan_item;

static loop_buf *root(loop_buf *b)
{
    return b->alias ? b->alias : b;
}

static void touch(plan_item *items, const loop_buf *b, int step)
{
    plan_item *it = &items[root((loop_buf *)b)->id];
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
        case LOOP_STMT_CALL:
            for (int a = 0; a < loop_kernel_get(s->kernel)->n_bufs; a++)
                touch(items, s->bufs[a].buf, step);
            break;
        }
    }
}

/* Largest first; ties by first use, then buffer id, for determinism. */
static int by_size_desc(const void *pa, const void *pb)
{
    const plan_item *a = *(plan_item *const *)pa, *b = *(plan_item *const *)pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->buf->id - b->buf->id;
}

/* Lowest offset where `it` fits beside the placed items live at its time. */
static int64_t place(plan_item *it, plan_item **placed, int n_placed)
{
    int64_t offset = 0;
    for (bool moved = true; moved;) {
        moved = false;
        for (int k = 0; k < n_placed; k++) {
            const plan_item *p = placed[k];
            if (p->last < it->first || p->first > it->last)
                continue;
            int64_t pend = p->buf->offset + p->size;
            if (offset < pend && p->buf->offset < offset + it->size) {
                offset = pend;
                moved = true;
            }
        }
    }
    return offset;
}

/* Peak over steps of the bytes live at once. */
static int64_t lower_bound(const plan_item *items, int n_items, int n_steps)
{
    int64_t peak = 0;
    for (int s = 0; s < n_steps; s++) {
        int64_t live = 0;
        for (int k = 0; k < n_items; k++)
            if (items[k].size && items[k].first <= s && s <= items[k].last)
                live += items[k].size;
        if (live > peak)
            peak = live;
    }
    return peak;
}

loom_status loop_plan_memory(loop_func *f, ir_diag *d)
{
    plan_item *items = ir_calloc((size_t)f->n_bufs + 1, sizeof *items);
    plan_item **order = ir_calloc((size_t)f->n_bufs + 1, sizeof *order);
    if (!items || !order) {
        ir_free(items);
        ir_free(order);
        ir_diag_errorf(d, "%s: out of memory while planning memory", f->name);
        return LOOM_STATUS_NOMEM;
    }
    for (int i = 0; i < f->n_bufs; i++) {
        items[i] = (plan_item){.buf = f->bufs[i], .first = -1, .last = -1};
    }
    for (int s = 0; s < f->n_steps; s++)
        scan_block(items, &f->steps[s]->body, s);
    int n = 0;
    for (int i = 0; i < f->n_bufs; i++) {
        loop_buf *b = f->bufs[i];
        if (b->kind != LOOP_BUF_ARENA || b->alias || items[i].first < 0)
            continue;
        int64_t bytes = b->numel * (int64_t)ir_dtype_size(b->dtype);
        items[i].size = (bytes + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
        order[n++] = &items[i];
    }
    qsort(order, (size_t)n, sizeof *order, by_size_desc);
    int64_t total = 0;
    for (int k = 0; k < n; k++) {
        order[k]->buf->offset = place(order[k], order, k);
        if (order[k]->buf->offset + order[k]->size > total)
            total = order[k]->buf->offset + order[k]->size;
    }
    for (int i = 0; i < f->n_bufs; i++)
        if (f->bufs[i]->alias && f->bufs[i]->kind == LOOP_BUF_ARENA)
            f->bufs[i]->offset = f->bufs[i]->alias->offset;
    /* the error record of the checks goes after the buffers; it is live
     * for the whole run */
    f->error_offset = loop_has_checks(f) ? total : -1;
    f->workspace_bytes = total + (f->error_offset >= 0 ? PLAN_ALIGN : 0);
    f->workspace_lower_bound = lower_bound(items, f->n_bufs, f->n_steps) +
                               (f->error_offset >= 0 ? PLAN_ALIGN : 0);
    ir_free(items);
    ir_free(order);
    return LOOM_STATUS_OK;
}
