/*
 * Interface between the interpreter driver (interp.c) and the kernels
 * (interp_*.c). A kernel reads its inputs and writes its outputs through
 * interp_in/interp_out; output buffers are allocated (zeroed) by the driver
 * from the inferred shapes, so kernels never allocate outputs.
 */
#ifndef LOOM_INTERP_INTERNAL_H
#define LOOM_INTERP_INTERNAL_H

#include "interp.h"
#include "ir_infer.h"

typedef struct interp_ctx {
    const ir_graph *g;
    void **data; /* by value id: the buffer of each non-constant value */
    ir_diag *d;
} interp_ctx;

/* Data of a present input or output value (constant data or buffer). */
static inline void *interp_value_data(const interp_ctx *c, const ir_value *v)
{
    return v->data ? v->data : c->data[v->id];
}
static inline const void *interp_in(const interp_ctx *c, const ir_node *n, int i)
{
    return i < n->n_inputs && n->inputs[i] ? interp_value_data(c, n->inputs[i]) : NULL;
}
static inline void *interp_out(const interp_ctx *c, const ir_node *n, int i)
{
    return i < n->n_outputs && n->outputs[i] ? c->data[n->outputs[i]->id] : NULL;
}

/* Kernels: interp_<fn> for each fn in IR_OPS. Return LOOM_STATUS_OK, or
 * report with ir_diag_node(c->d, c->g, n, ...) and return an error status
 * (for example LOOM_STATUS_NOMEM when scratch memory cannot be had). Scratch
 * memory comes from ir_malloc and is freed before returning. */
#define INTERP_DECL(e, name, mi, ma, mo, mao, fn, attrs) \
    loom_status interp_##fn(interp_ctx *c, const ir_node *n);
IR_OPS(INTERP_DECL)
#undef INTERP_DECL

/* Reads element i of a buffer of dtype t as double / int64 (helpers for
 * dtype-generic kernels). */
/* Reports that op n has no case in the switch of its family's kernel (a
 * bug: an op added to the table without its semantics); returns
 * LOOM_STATUS_INTERNAL. */
loom_status interp_no_case(interp_ctx *c, const ir_node *n);

double interp_load_f(const void *p, ir_dtype t, int64_t i);
void interp_store_f(void *p, ir_dtype t, int64_t i, double x);
int64_t interp_load_i(const void *p, ir_dtype t, int64_t i);
void interp_store_i(void *p, ir_dtype t, int64_t i, int64_t x);

#endif
