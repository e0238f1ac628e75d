/*
 * The pass registry (passes.def) as a table, and the graph pipeline as one
 * readable function: the registered passes for the -O level, in order,
 * with the verifier after each. The backend (backend/be_compile.c) lowers
 * its result.
 */
#include <string.h>

#include "passes.h"

const pass_info pass_table[] = {
#define PASS(name, entry, level, desc) {name, entry, level, desc},
#include "passes.def"
#undef PASS
};

const int pass_count = (int)(sizeof pass_table / sizeof pass_table[0]);

const pass_info *pass_lookup(const char *name, size_t len)
{
    for (int i = 0; i < pass_count; i++)
        if (strlen(pass_table[i].name) == len && memcmp(pass_table[i].name, name, len) == 0)
            return &pass_table[i];
    return NULL;
}

pass_options pass_options_default(void)
{
    return (pass_options){.opt_level = PASS_MAX_LEVEL};
}

bool pass_options_disable(pass_options *o, const char *name)
{
    const pass_info *p = pass_lookup(name, strlen(name));
    if (!p || o->n_disabled == PASS_MAX_DISABLED)
        return false;
    o->disabled[o->n_disabled++] = p;
    return true;
}

/* Graph passes allocate in the graph arena: catch its out-of-memory jump. */
loom_status pass_run(ir_graph *g, const pass_info *p, ir_diag *d)
{
    jmp_buf jb;
    jmp_buf *saved = g->arena.oom;
    volatile loom_status st = LOOM_STATUS_NOMEM;
    if (IR_TRY(&g->arena, jb)) {
        st = p->run(g, d);
        if (!st && (st = ir_verify(g, d)) != LOOM_STATUS_OK)
            ir_diag_graph(d, g, "the graph is invalid after pass \"%s\"", p->name);
    } else {
        ir_diag_graph(d, g, "out of memory in pass \"%s\"", p->name);
    }
    g->arena.oom = saved;
    return st;
}

static bool selected(const pass_info *p, const pass_options *o)
{
    for (int i = 0; i < o->n_disabled; i++)
        if (o->disabled[i] == p)
            return false;
    return p->min_level <= o->opt_level;
}

/* The verifier under the arena's out-of-memory handler. */
static loom_status verify(ir_graph *g, ir_diag *d)
{
    jmp_buf jb;
    jmp_buf *saved = g->arena.oom;
    volatile loom_status st = LOOM_STATUS_NOMEM;
    if (IR_TRY(&g->arena, jb))
        st = ir_verify(g, d);
    else
        ir_diag_graph(d, g, "out of memory while verifying");
    g->arena.oom = saved;
    return st;
}

loom_status pass_pipeline(ir_graph *g, const pass_options *opts, ir_diag *d)
{
    pass_options def = pass_options_default();
    const pass_options *o = opts ? opts : &def;
    loom_status st = verify(g, d);
    for (int i = 0; i < pass_count && !st; i++)
        if (selected(&pass_table[i], o))
            st = pass_run(g, &pass_table[i], d);
    return st;
}
