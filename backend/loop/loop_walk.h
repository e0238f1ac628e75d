/*
 * One walker over the loop IR: visits every statement, expression and
 * buffer reference of a block or function in program order (a statement
 * before its condition, value and body; an expression before its operands;
 * an index's data-dependent term too). Passes that only need to see what a
 * program touches (the C emitter's use marks, the LLVM backend's weights
 * layout, the memory planner's liveness) use it instead of recursing by
 * hand; printers and code generators that need structure keep their own
 * switch.
 */
#ifndef LOOM_LOOP_WALK_H
#define LOOM_LOOP_WALK_H

#include "loop_ir.h"

typedef struct loop_walker loop_walker;
struct loop_walker {
    /* each may be NULL */
    void (*stmt)(loop_walker *w, const loop_stmt *s);
    void (*expr)(loop_walker *w, const loop_expr *x);
    /* a buffer read (load, kernel input) or written (store, kernel output) */
    void (*buf)(loop_walker *w, const loop_buf *b);
    void *ctx;
    int step; /* loop_walk_func: index of the step being walked */
    bool skip_parallel; /* visit a parallel loop, not its body */
};

void loop_walk_expr(loop_walker *w, const loop_expr *x);
void loop_walk_block(loop_walker *w, const loop_block *b);
/* Walks every step in order, setting w->step. */
void loop_walk_func(const loop_func *f, loop_walker *w);

#endif
