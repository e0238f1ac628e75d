/*
 * The graph pipeline as one readable function: the passes in order, with
 * the verifier between them. The backend (backend/be_compile.c) lowers its
 * result.
 */
#include "passes.h"

/* Graph passes allocate in the graph arena: catch its out-of-memory jump. */
loom_status pass_pipeline(ir_graph *g, ir_diag *d)
{
    jmp_buf jb;
    jmp_buf *saved = g->arena.oom;
    volatile loom_status st = LOOM_STATUS_NOMEM;
    if (IR_TRY(&g->arena, jb)) {
        st = ir_verify(g, d);
        if (!st)
            st = pass_fold_constants(g, d);
        if (!st)
            st = ir_verify(g, d);
    } else {
        ir_diag_graph(d, g, "out of memory while compiling");
    }
    g->arena.oom = saved;
    return st;
}
