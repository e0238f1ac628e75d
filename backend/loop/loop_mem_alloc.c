/*
 * Offset assignment for blocks with lifetimes (see loop_mem_alloc.h).
 *
 * A placement order and a fit rule make an assignment: blocks are placed
 * one by one, each at the lowest gap among already placed blocks it
 * conflicts with (first fit) or at the smallest such gap (best fit). Every
 * optimal assignment is reachable this way: take an optimal one with the
 * least sum of offsets and place its blocks by increasing offset; first fit
 * puts each at or below its offset, so exactly at it. The allocator tries
 * static orders (by size as TFLite Micro's greedy-by-size; by the breadth
 * of the busiest step a block lives in; by conflict weight; by lifetime;
 * by area; by arrival) and Glow's dynamic order (repeatedly the largest
 * unplaced block of the step with the most unplaced live bytes), each with
 * both fit rules, and keeps the smallest arena. If that is above the lower
 * bound and the instance is small, a depth-first branch and bound over
 * orders whose offsets do not decrease (the canonical orders above) with a
 * node budget improves on it or proves it optimal.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "loop_mem_alloc.h"

#define EXACT_MAX_BLOCKS 64

typedef struct seg {
    int64_t lo, hi;
} seg;

typedef struct okey {
    int64_t k1, k2;
    int id;
} okey;

/* Blocks of non-zero size, renumbered 0..n-1, with their conflicts. */
typedef struct mem_ctx {
    int n;
    int *src;            /* index into the caller's blocks */
    int64_t *size;       /* rounded up to the alignment */
    int *lo, *hi;        /* covered range of step points (see points()) */
    int n_points;
    int64_t *live;       /* bytes live at each point */
    int *adj, *adj_at;   /* conflicts: adj[adj_at[i] .. adj_at[i + 1]) */
    int64_t *off;        /* the assignment being built; -1 unplaced */
    seg *segs;           /* scratch for fit() */
    int *order;
    okey *keys;
    int64_t *best;       /* offsets of the best assignment so far */
    int64_t best_arena;
    const char *best_method;
} mem_ctx;

static int64_t round_up(int64_t v, int64_t align)
{
    return (v + align - 1) / align * align;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* Index of the last point <= v in the sorted pts[0..n) (-1 if none). */
static int point_at(const int64_t *pts, int n, int64_t v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (pts[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* The live bytes are largest at some block's first step, so the distinct
 * first steps are the only points that matter: block i covers points
 * lo[i]..hi[i], and live[p] sums the blocks covering p. */
static void points(mem_ctx *c, const loop_mem_block *b, int64_t *pts)
{
    for (int i = 0; i < c->n; i++)
        pts[i] = b[c->src[i]].first;
    qsort(pts, (size_t)c->n, sizeof *pts, cmp_i64);
    int m = 0;
    for (int i = 0; i < c->n; i++)
        if (m == 0 || pts[m - 1] != pts[i])
            pts[m++] = pts[i];
    c->n_points = m;
    memset(c->live, 0, (size_t)(m + 1) * sizeof *c->live);
    for (int i = 0; i < c->n; i++) {
        c->lo[i] = point_at(pts, m, b[c->src[i]].first);
        c->hi[i] = point_at(pts, m, b[c->src[i]].last);
        for (int p = c->lo[i]; p <= c->hi[i]; p++)
            c->live[p] += c->size[i];
    }
}

/* Fills the conflict lists: blocks whose step ranges intersect. */
static void conflicts(mem_ctx *c, const loop_mem_block *b)
{
    int k = 0;
    for (int i = 0; i < c->n; i++) {
        c->adj_at[i] = k;
        const loop_mem_block *x = &b[c->src[i]];
        for (int j = 0; j < c->n; j++) {
            const loop_mem_block *y = &b[c->src[j]];
            if (j != i && x->first <= y->last && y->first <= x->last)
                c->adj[k++] = j;
        }
    }
    c->adj_at[c->n] = k;
}

static int cmp_seg(const void *pa, const void *pb)
{
    const seg *a = pa, *b = pb;
    return (a->lo > b->lo) - (a->lo < b->lo);
}

/* Offset for block i beside the placed blocks it conflicts with: the lowest
 * gap that holds it, or with best_fit the smallest such gap (lowest on a
 * tie); above all of them when no gap holds it. */
static int64_t fit(mem_ctx *c, int i, bool best_fit)
{
    int m = 0;
    for (int k = c->adj_at[i]; k < c->adj_at[i + 1]; k++) {
        int j = c->adj[k];
        if (c->off[j] >= 0)
            c->segs[m++] = (seg){c->off[j], c->off[j] + c->size[j]};
    }
    qsort(c->segs, (size_t)m, sizeof *c->segs, cmp_seg);
    int64_t top = 0, pick = -1, pick_gap = INT64_MAX;
    for (int k = 0; k < m; k++) {
        int64_t gap = c->segs[k].lo - top;
        if (gap >= c->size[i] && gap < pick_gap) {
            pick = top;
            pick_gap = gap;
            if (!best_fit)
                break;
        }
        if (c->segs[k].hi > top)
            top = c->segs[k].hi;
    }
    return pick >= 0 ? pick : top;
}

/* Records the current assignment if its arena beats the best one. */
static void keep(mem_ctx *c, int64_t arena, const char *method)
{
    if (arena >= c->best_arena)
        return;
    c->best_arena = arena;
    c->best_method = method;
    memcpy(c->best, c->off, (size_t)c->n * sizeof *c->off);
}

/* Places the blocks in c->order with the given fit rule; keeps the result. */
static void run_order(mem_ctx *c, bool best_fit, const char *method)
{
    int64_t arena = 0;
    for (int i = 0; i < c->n; i++)
        c->off[i] = -1;
    for (int k = 0; k < c->n; k++) {
        int i = c->order[k];
        c->off[i] = fit(c, i, best_fit);
        if (c->off[i] + c->size[i] > arena)
            arena = c->off[i] + c->size[i];
    }
    keep(c, arena, method);
}

/* Descending k1, then descending k2, then ascending id. */
static int cmp_key(const void *pa, const void *pb)
{
    const okey *a = pa, *b = pb;
    if (a->k1 != b->k1)
        return a->k1 > b->k1 ? -1 : 1;
    if (a->k2 != b->k2)
        return a->k2 > b->k2 ? -1 : 1;
    return a->id - b->id;
}

typedef enum order_kind {
    ORDER_SIZE,     /* largest first (TFLite Micro's greedy by size) */
    ORDER_BREADTH,  /* busiest step first, largest first within it */
    ORDER_CONFLICT, /* most bytes in conflicting blocks first */
    ORDER_LIFETIME, /* longest lived first */
    ORDER_AREA,     /* largest size x lifetime first */
    ORDER_ARRIVAL,  /* earliest first step first (an online allocator) */
    ORDER_COUNT
} order_kind;

static const char *const order_names[ORDER_COUNT][2] = {
    {"size, first fit", "size, best fit"},
    {"breadth, first fit", "breadth, best fit"},
    {"conflicts, first fit", "conflicts, best fit"},
    {"lifetime, first fit", "lifetime, best fit"},
    {"area, first fit", "area, best fit"},
    {"arrival, first fit", "arrival, best fit"},
};

/* The sort key of block i for order kind k. */
static okey order_key(const mem_ctx *c, const loop_mem_block *b, order_kind k, int i)
{
    const loop_mem_block *x = &b[c->src[i]];
    int64_t span = (int64_t)x->last - x->first + 1, breadth = 0, weight = c->size[i];
    okey key = {.k2 = c->size[i], .id = i};
    switch (k) {
    case ORDER_SIZE: key = (okey){c->size[i], -(int64_t)x->first, i}; break;
    case ORDER_BREADTH:
        for (int p = c->lo[i]; p <= c->hi[i]; p++)
            breadth = c->live[p] > breadth ? c->live[p] : breadth;
        key.k1 = breadth;
        break;
    case ORDER_CONFLICT:
        for (int a = c->adj_at[i]; a < c->adj_at[i + 1]; a++)
            weight += c->size[c->adj[a]];
        key.k1 = weight;
        break;
    case ORDER_LIFETIME: key.k1 = span; break;
    case ORDER_AREA: key.k1 = span * c->size[i]; break;
    case ORDER_ARRIVAL: key.k1 = -(int64_t)x->first; break;
    case ORDER_COUNT: break;
    }
    return key;
}

static void static_order(mem_ctx *c, const loop_mem_block *b, order_kind k)
{
    for (int i = 0; i < c->n; i++)
        c->keys[i] = order_key(c, b, k, i);
    qsort(c->keys, (size_t)c->n, sizeof *c->keys, cmp_key);
    for (int i = 0; i < c->n; i++)
        c->order[i] = c->keys[i].id;
}

/* Glow's order: while blocks remain, the step with the most bytes of
 * unplaced blocks, and among its unplaced blocks the largest (by_lifetime:
 * the longest lived, then the largest). rem is scratch for n_points. */
static void glow_order(mem_ctx *c, const loop_mem_block *b, bool by_lifetime, int64_t *rem)
{
    memcpy(rem, c->live, (size_t)c->n_points * sizeof *rem);
    for (int i = 0; i < c->n; i++)
        c->off[i] = -1; /* marks unordered */
    for (int k = 0; k < c->n; k++) {
        int p = 0;
        for (int q = 1; q < c->n_points; q++)
            if (rem[q] > rem[p])
                p = q;
        int pick = -1;
        okey pk = {0};
        for (int i = 0; i < c->n; i++) {
            if (c->off[i] == 0 || c->lo[i] > p || c->hi[i] < p)
                continue;
            const loop_mem_block *x = &b[c->src[i]];
            okey ki = {by_lifetime ? (int64_t)x->last - x->first : c->size[i], c->size[i], i};
            if (pick < 0 || cmp_key(&ki, &pk) < 0) {
                pick = i;
                pk = ki;
            }
        }
        c->order[k] = pick;
        c->off[pick] = 0;
        for (int q = c->lo[pick]; q <= c->hi[pick]; q++)
            rem[q] -= c->size[pick];
    }
}

/* ---- branch and bound ---- */

typedef struct bnb {
    mem_ctx *c;
    int64_t lower_bound;
    long nodes, budget;
    int64_t *fits; /* n x n: fits[depth * n + i] */
    int *cand;     /* n x n */
} bnb;

/* Candidates at one depth sorted by offset, then larger size, then id:
 * insertion sort, n is small. */
static void sort_cands(const mem_ctx *c, const int64_t *fits, int *cand, int m)
{
    for (int a = 1; a < m; a++) {
        int v = cand[a], k = a - 1;
        while (k >= 0) {
            int u = cand[k];
            bool after = fits[u] > fits[v] ||
                         (fits[u] == fits[v] && (c->size[u] < c->size[v] ||
                                                 (c->size[u] == c->size[v] && u > v)));
            if (!after)
                break;
            cand[k + 1] = u;
            k--;
        }
        cand[k + 1] = v;
    }
}

/* Extends the placement order by one block whose (offset, id) exceeds the
 * last placed (last_off, last_id); top is the arena so far. */
static void search(bnb *s, int depth, int64_t last_off, int last_id, int64_t top)
{
    mem_ctx *c = s->c;
    if (c->best_arena <= s->lower_bound || s->nodes >= s->budget)
        return;
    s->nodes++;
    if (depth == c->n) {
        keep(c, top, "exact search");
        return;
    }
    int64_t *fits = s->fits + (size_t)depth * (size_t)c->n, bound = top;
    int *cand = s->cand + (size_t)depth * (size_t)c->n, m = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->off[i] >= 0)
            continue;
        fits[i] = fit(c, i, false);
        int64_t at = fits[i] > last_off ? fits[i] : last_off;
        if (at + c->size[i] > bound)
            bound = at + c->size[i];
        if (fits[i] > last_off || (fits[i] == last_off && i > last_id))
            cand[m++] = i;
    }
    if (bound >= c->best_arena)
        return;
    sort_cands(c, fits, cand, m);
    for (int k = 0; k < m; k++) {
        int i = cand[k];
        int64_t end = fits[i] + c->size[i];
        c->off[i] = fits[i];
        search(s, depth + 1, fits[i], i, end > top ? end : top);
        c->off[i] = -1;
    }
}

/* Branch and bound from the best heuristic arena; *nodes gets the nodes
 * visited. False when out of memory. */
static bool exact(mem_ctx *c, int64_t lower_bound, long budget, long *nodes)
{
    int n = c->n;
    bnb s = {.c = c, .lower_bound = lower_bound, .budget = budget};
    s.fits = ir_malloc((size_t)n * (size_t)n * sizeof *s.fits);
    s.cand = ir_malloc((size_t)n * (size_t)n * sizeof *s.cand);
    bool ok = s.fits && s.cand;
    if (ok) {
        for (int i = 0; i < n; i++)
            c->off[i] = -1;
        search(&s, 0, -1, -1, 0);
    }
    ir_free(s.fits);
    ir_free(s.cand);
    *nodes = s.nodes;
    return ok;
}

/* ---- entry points ---- */

int64_t loop_mem_lower_bound(const loop_mem_block *blocks, int n, int64_t align)
{
    int64_t peak = 0;
    for (int i = 0; i < n; i++) {
        int64_t live = 0; /* bytes live at blocks[i].first */
        for (int j = 0; j < n; j++)
            if (blocks[j].first <= blocks[i].first && blocks[i].first <= blocks[j].last)
                live += round_up(blocks[j].size, align);
        peak = live > peak ? live : peak;
    }
    return peak;
}

static void ctx_free(mem_ctx *c)
{
    ir_free(c->src);
    ir_free(c->size);
    ir_free(c->lo);
    ir_free(c->hi);
    ir_free(c->live);
    ir_free(c->adj);
    ir_free(c->adj_at);
    ir_free(c->off);
    ir_free(c->segs);
    ir_free(c->order);
    ir_free(c->keys);
    ir_free(c->best);
}

/* Counts the conflicting pairs (each twice) among blocks of non-zero size. */
static size_t count_conflicts(const loop_mem_block *b, int n)
{
    size_t k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (j != i && b[i].size > 0 && b[j].size > 0 && b[i].first <= b[j].last &&
                b[j].first <= b[i].last)
                k++;
    return k;
}

/* Allocates c's arrays for the non-zero blocks of b; false when out of
 * memory (c is then freed). pts receives scratch of n + 1 entries. */
static bool ctx_init(mem_ctx *c, const loop_mem_block *b, int n, int64_t align, int64_t **pts)
{
    size_t m = (size_t)n + 1, n_adj = count_conflicts(b, n) + 1;
    *c = (mem_ctx){.best_arena = INT64_MAX};
    c->src = ir_calloc(m, sizeof *c->src);
    c->size = ir_calloc(m, sizeof *c->size);
    c->lo = ir_calloc(m, sizeof *c->lo);
    c->hi = ir_calloc(m, sizeof *c->hi);
    c->live = ir_calloc(m, sizeof *c->live);
    c->adj = ir_calloc(n_adj, sizeof *c->adj);
    c->adj_at = ir_calloc(m, sizeof *c->adj_at);
    c->off = ir_calloc(m, sizeof *c->off);
    c->segs = ir_calloc(m, sizeof *c->segs);
    c->order = ir_calloc(m, sizeof *c->order);
    c->keys = ir_calloc(m, sizeof *c->keys);
    c->best = ir_calloc(m, sizeof *c->best);
    *pts = ir_calloc(m, sizeof **pts);
    if (!c->src || !c->size || !c->lo || !c->hi || !c->live || !c->adj || !c->adj_at ||
        !c->off || !c->segs || !c->order || !c->keys || !c->best || !*pts) {
        ctx_free(c);
        ir_free(*pts);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (b[i].size > 0) {
            c->src[c->n] = i;
            c->size[c->n++] = round_up(b[i].size, align);
        }
    }
    return true;
}

/* Every heuristic order with both fit rules; pts is scratch. */
static void heuristics(mem_ctx *c, const loop_mem_block *b, int64_t *pts)
{
    static const char *const glow_names[2][2] = {
        {"glow size, first fit", "glow size, best fit"},
        {"glow lifetime, first fit", "glow lifetime, best fit"},
    };
    for (int k = 0; k < ORDER_COUNT; k++) {
        static_order(c, b, (order_kind)k);
        run_order(c, false, order_names[k][0]);
        run_order(c, true, order_names[k][1]);
    }
    for (int by_lifetime = 0; by_lifetime < 2; by_lifetime++) {
        glow_order(c, b, by_lifetime, pts);
        run_order(c, false, glow_names[by_lifetime][0]);
        run_order(c, true, glow_names[by_lifetime][1]);
    }
}

loom_status loop_mem_assign(loop_mem_block *blocks, int n, int64_t align, long node_budget,
                            loop_mem_plan *plan)
{
    mem_ctx c;
    int64_t *pts;
    *plan = (loop_mem_plan){.method = "empty"};
    if (!ctx_init(&c, blocks, n, align, &pts))
        return LOOM_STATUS_NOMEM;
    points(&c, blocks, pts);
    conflicts(&c, blocks);
    for (int p = 0; p < c.n_points; p++)
        plan->lower_bound = c.live[p] > plan->lower_bound ? c.live[p] : plan->lower_bound;
    loom_status st = LOOM_STATUS_OK;
    if (c.n > 0) {
        heuristics(&c, blocks, pts);
        if (c.best_arena > plan->lower_bound && c.n <= EXACT_MAX_BLOCKS && node_budget > 0 &&
            !exact(&c, plan->lower_bound, node_budget, &plan->nodes))
            st = LOOM_STATUS_NOMEM;
        plan->arena = c.best_arena;
        plan->method = c.best_method;
    }
    for (int i = 0; i < n; i++)
        blocks[i].offset = 0;
    for (int i = 0; i < c.n; i++)
        blocks[c.src[i]].offset = c.best[i];
    ctx_free(&c);
    ir_free(pts);
    return st;
}
