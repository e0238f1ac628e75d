/*
 * The compilation pipeline as one readable function: the graph passes with
 * the verifier between them, lowering to loop IR, loop-IR checks, memory
 * planning and the choice of parallel loops. Both code generators start
 * from its result.
 */
#include <time.h>

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

double be_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

loom_status be_compile_timed(ir_graph *g, const char *name, const pass_options *popts,
                             const lower_opts *lopts, loop_func **out, be_compile_times *t,
                             ir_diag *d)
{
    loop_func *f = NULL;
    be_compile_times local;
    t = t ? t : &local;
    *out = NULL;
    double t0 = be_now_ms();
    RUN(pass_pipeline(g, popts, d));
    double t1 = be_now_ms();
    t->passes_ms = t1 - t0;
    RUN(lower_graph_with(g, name, lopts, &f, d));
    RUN(loop_verify(f, d));
    RUN(loop_plan_memory(f, d));
    RUN(loop_parallelize(f, NULL, d));
    RUN(loop_verify(f, d));
    t->lower_ms = be_now_ms() - t1;
    *out = f;
    return LOOM_STATUS_OK;
}

loom_status be_compile_with(ir_graph *g, const char *name, const pass_options *popts,
                            const lower_opts *lopts, loop_func **out, ir_diag *d)
{
    return be_compile_timed(g, name, popts, lopts, out, NULL, d);
}

loom_status be_compile_opts(ir_graph *g, const char *name, const pass_options *opts,
                            loop_func **out, ir_diag *d)
{
    return be_compile_timed(g, name, opts, NULL, out, NULL, d);
}

loom_status be_compile(ir_graph *g, const char *name, loop_func **out, ir_diag *d)
{
    return be_compile_timed(g, name, NULL, NULL, out, NULL, d);
}
