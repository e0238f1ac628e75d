/*
 * The compilation pipeline as one readable function: the graph passes with
 * the verifier between them, lowering to loop IR, loop-IR checks and memory
 * planning. Both code generators start from its result.
 */
#include "be.h"
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

loom_status be_compile_with(ir_graph *g, const char *name, const pass_options *popts,
                            const lower_opts *lopts, loop_func **out, ir_diag *d)
{
    loop_func *f = NULL;
    *out = NULL;
    RUN(pass_pipeline(g, popts, d));
    RUN(lower_graph_with(g, name, lopts, &f, d));
    RUN(loop_verify(f, d));
    RUN(loop_plan_memory(f, d));
    RUN(loop_verify(f, d));
    *out = f;
    return LOOM_STATUS_OK;
}

loom_status be_compile_opts(ir_graph *g, const char *name, const pass_options *opts,
                            loop_func **out, ir_diag *d)
{
    return be_compile_with(g, name, opts, NULL, out, d);
}

loom_status be_compile(ir_graph *g, const char *name, loop_func **out, ir_diag *d)
{
    return be_compile_with(g, name, NULL, NULL, out, d);
}
