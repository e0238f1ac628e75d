/*
 * The compilation pipeline as one readable function: graph passes with the
 * verifier between them, lowering to loop IR, loop-IR checks and memory
 * planning. Both backends start from its result.
 */
#include "lower.h"
#include "passes.h"

#define RUN(call)                    \
    do {                             \
        loom_status st_ = (call);    \
        if (st_ != LOOM_STATUS_OK) { \
            loop_func_free(f);       \
            return st_;              \
        }                            \
    } while (0)

/* Graph passes allocate in the graph arena: catch its out-of-memory jump. */
static loom_status graph_passes(ir_graph *g, ir_diag *d)
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

loom_status pass_pipeline(ir_graph *g, const char *name, loop_func **out, ir_diag *d)
{
    loop_func *f = NULL;
    *out = NULL;
    RUN(graph_passes(g, d));
    RUN(lower_graph(g, name, &f, d));
    RUN(loop_verify(f, d));
    RUN(pass_plan_memory(f, d));
    RUN(loop_verify(f, d));
    *out = f;
    return LOOM_STATUS_OK;
}
