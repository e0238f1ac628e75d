/*
 * The memory planner's algorithm (backend/loop/loop_mem_alloc.c) on the 79
 * allocation traces of real models in glow-allocation-traces.txt (format
 * in README.md). Each buffer is live from its ALLOC to its FREE
 * instruction, instructions counted from the model's first; sizes are
 * rounded up to the model's ALIGN and offsets are multiples of it, as the
 * traces' README defines the lower bound. For every model the runner checks
 * the assignment independently (aligned offsets, no two live buffers
 * overlapping), checks the lower bound against a replay of the trace, and
 * requires an arena no larger than Glow's (MEM); it requires the lower
 * bound on every model where Glow reaches it, and prints the totals.
 *
 *     memplan_traces FILE [--budget NODES] [--verbose]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "loop_mem_alloc.h"

#define MAX_BUFS 4096

typedef struct model {
    char name[512];
    int64_t align, glow_mem;
    int n, n_instr;
    long ids[MAX_BUFS];
    loop_mem_block b[MAX_BUFS];
    int64_t replay_peak; /* the most aligned bytes live at once, by replay */
    int64_t live;
} model;

typedef struct totals {
    int models, at_lb, glow_at_lb, at_lb_where_glow, failures;
    int64_t arena, lb, glow;
} totals;

static int find_id(const model *m, long id)
{
    for (int i = 0; i < m->n; i++)
        if (m->ids[i] == id)
            return i;
    return -1;
}

/* Applies one trace line to m; false with a message on a malformed line. */
static bool apply(model *m, const char *line, char *err, size_t err_len)
{
    long id;
    long long v;
    if (sscanf(line, "ALIGN %lld", &v) == 1 && v > 0 && (v & (v - 1)) == 0) {
        m->align = v;
    } else if (sscanf(line, "MEM %lld", &v) == 1) {
        m->glow_mem = v;
    } else if (strncmp(line, "EFF ", 4) == 0) {
        /* Glow's own ratio; recomputed from MEM */
    } else if (sscanf(line, "ALLOC %ld %lld", &id, &v) == 2 && v >= 0) {
        if (m->n == MAX_BUFS || find_id(m, id) >= 0 || m->align <= 0) {
            snprintf(err, err_len, "ALLOC %ld: duplicate id, no ALIGN yet or too many", id);
            return false;
        }
        m->ids[m->n] = id;
        m->b[m->n++] = (loop_mem_block){.size = v, .first = m->n_instr, .last = -1};
        m->live += (v + m->align - 1) / m->align * m->align;
        m->replay_peak = m->live > m->replay_peak ? m->live : m->replay_peak;
        m->n_instr++;
    } else if (sscanf(line, "FREE %ld", &id) == 1) {
        int i = find_id(m, id);
        if (i < 0 || m->b[i].last >= 0) {
            snprintf(err, err_len, "FREE %ld: not allocated or freed twice", id);
            return false;
        }
        m->b[i].last = m->n_instr++;
        m->live -= (m->b[i].size + m->align - 1) / m->align * m->align;
    } else {
        snprintf(err, err_len, "unknown instruction");
        return false;
    }
    return true;
}

/* Independent check of an assignment: aligned, and buffers live at once
 * (intersecting instruction ranges) do not overlap. Returns the arena. */
static int64_t check_assignment(const model *m, bool *ok)
{
    int64_t arena = 0;
    for (int i = 0; i < m->n; i++) {
        const loop_mem_block *x = &m->b[i];
        int64_t end = x->offset + x->size;
        if (x->offset < 0 || x->offset % m->align != 0) {
            fprintf(stderr, "%s: buffer %ld at unaligned offset %" PRId64 "\n", m->name,
                    m->ids[i], x->offset);
            *ok = false;
        }
        arena = end > arena ? end : arena;
        for (int j = 0; j < i; j++) {
            const loop_mem_block *y = &m->b[j];
            bool live_together = x->first <= y->last && y->first <= x->last;
            bool overlap = x->offset < y->offset + y->size && y->offset < end;
            if (live_together && overlap && x->size > 0 && y->size > 0) {
                fprintf(stderr, "%s: buffers %ld and %ld overlap\n", m->name, m->ids[i],
                        m->ids[j]);
                *ok = false;
            }
        }
    }
    return (arena + m->align - 1) / m->align * m->align;
}

/* Plans one complete model and adds it to t. */
static void finish(model *m, long budget, bool verbose, totals *t)
{
    bool ok = true;
    for (int i = 0; i < m->n; i++)
        if (m->b[i].last < 0) {
            fprintf(stderr, "%s: buffer %ld is never freed\n", m->name, m->ids[i]);
            ok = false;
        }
    loop_mem_plan plan;
    if (ok && loop_mem_assign(m->b, m->n, m->align, budget, &plan) != LOOM_STATUS_OK) {
        fprintf(stderr, "%s: out of memory\n", m->name);
        ok = false;
    }
    if (!ok) {
        t->failures++;
        return;
    }
    int64_t arena = check_assignment(m, &ok);
    int64_t lb = loop_mem_lower_bound(m->b, m->n, m->align);
    if (arena != plan.arena || lb != plan.lower_bound || lb != m->replay_peak) {
        fprintf(stderr, "%s: arena %" PRId64 "/%" PRId64 ", lower bound %" PRId64 "/%" PRId64
                        "/%" PRId64 " disagree\n",
                m->name, arena, plan.arena, lb, plan.lower_bound, m->replay_peak);
        ok = false;
    }
    if (arena > m->glow_mem) {
        fprintf(stderr, "%s: arena %" PRId64 " is above Glow's %" PRId64 "\n", m->name, arena,
                m->glow_mem);
        ok = false;
    }
    if (m->glow_mem == lb && arena != lb) {
        fprintf(stderr, "%s: arena %" PRId64 " misses the lower bound %" PRId64
                        " that Glow reaches\n", m->name, arena, lb);
        ok = false;
    }
    t->models++;
    t->failures += !ok;
    t->at_lb += arena == lb;
    t->glow_at_lb += m->glow_mem == lb;
    t->at_lb_where_glow += arena == lb && m->glow_mem == lb;
    t->arena += arena;
    t->lb += lb;
    t->glow += m->glow_mem;
    if (verbose || !ok)
        printf("%-36s %4d bufs  arena %10" PRId64 "  lower bound %10" PRId64 "  glow %10" PRId64
               "  %.4f  %s; %ld search nodes\n",
               m->name, m->n, arena, lb, m->glow_mem, (double)arena / (double)lb, plan.method,
               plan.nodes);
}

/* Reads the trace file; returns the number of malformed lines. */
static int run(FILE *in, const char *path, long budget, bool verbose, totals *t)
{
    static model m;
    char line[512], err[256];
    int bad = 0, lineno = 0;
    bool open = false;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (strncmp(line, "MODEL ", 6) == 0) {
            if (open)
                finish(&m, budget, verbose, t);
            memset(&m, 0, sizeof m);
            snprintf(m.name, sizeof m.name, "%s", line + 6);
            open = true;
        } else if (!open || !apply(&m, line, err, sizeof err)) {
            fprintf(stderr, "%s:%d: %s: %s\n", path, lineno, open ? err : "no MODEL yet", line);
            bad++;
        }
    }
    if (open)
        finish(&m, budget, verbose, t);
    return bad;
}

int main(int argc, char **argv)
{
    long budget = 200000;
    bool verbose = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc)
            budget = strtol(argv[++i], NULL, 10);
        else
            path = argv[i];
    }
    FILE *in = path ? fopen(path, "r") : NULL;
    if (!in) {
        fprintf(stderr, "usage: memplan_traces FILE [--budget NODES] [--verbose]%s%s\n",
                path ? ": cannot open " : "", path ? path : "");
        return 2;
    }
    totals t = {0};
    int bad = run(in, path, budget, verbose, &t);
    fclose(in);
    printf("%d models: arena at the lower bound on %d (Glow: %d; on %d of Glow's)\n", t.models,
           t.at_lb, t.glow_at_lb, t.at_lb_where_glow);
    printf("total arena %" PRId64 ", lower bounds %" PRId64 " (%.4fx), Glow %" PRId64
           " (%.4fx the lower bounds; ours %.4fx Glow's)\n",
           t.arena, t.lb, (double)t.arena / (double)t.lb, t.glow, (double)t.glow / (double)t.lb,
           (double)t.arena / (double)t.glow);
    if (t.models != 79 || t.glow_at_lb != 76)
        fprintf(stderr, "expected 79 models, 76 with Glow at the lower bound\n");
    return bad || t.failures || t.models != 79 || t.glow_at_lb != 76 ? 1 : 0;
}
