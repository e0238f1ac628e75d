/*
 * Offset assignment for blocks with known lifetimes (dynamic storage
 * allocation), independent of the loop IR: each block has a size and a
 * closed range of steps in which it is live; the allocator gives every
 * block an offset so that no two blocks live at a common step overlap, and
 * reports the arena size and a lower bound for it. loop_plan_memory.c
 * computes the blocks of a lowered function; tests/memplan feeds it
 * allocation traces of other compilers.
 */
#ifndef LOOM_LOOP_MEM_ALLOC_H
#define LOOM_LOOP_MEM_ALLOC_H

#include <stdint.h>

#include "loom.h"

typedef struct loop_mem_block {
    int64_t size;      /* bytes, >= 0; rounded up to the alignment */
    int first, last;   /* live at steps first..last inclusive, first <= last */
    int64_t offset;    /* out: a multiple of the alignment */
} loop_mem_block;

typedef struct loop_mem_plan {
    int64_t arena;       /* bytes: the largest offset + aligned size */
    int64_t lower_bound; /* the most aligned bytes live at one step */
    const char *method;  /* the heuristic or search that gave the offsets */
    long nodes;          /* exact-search nodes visited (0 when not run) */
} loop_mem_plan;

/* The largest sum of sizes (each rounded up to align) of blocks live at
 * one step: no assignment can use a smaller arena. */
int64_t loop_mem_lower_bound(const loop_mem_block *blocks, int n, int64_t align);

/* Sets every block's offset (a multiple of align, a power of two) so that
 * blocks with intersecting step ranges do not overlap. Runs several greedy
 * orderings and placements and keeps the smallest arena; when that is above
 * the lower bound and n is small, a branch-and-bound search over placement
 * orders visits at most node_budget nodes. Deterministic. Returns
 * LOOM_STATUS_NOMEM when scratch memory cannot be allocated. */
loom_status loop_mem_assign(loop_mem_block *blocks, int n, int64_t align, long node_budget,
                            loop_mem_plan *plan);

#endif
