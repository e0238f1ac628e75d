/*
 * Lowering driver: creates a buffer for every graph input, output and
 * constant up front, then one loop step per node via the per-op table, and
 * intermediates' arena buffers on first use.
 */
#include <ctype.h>
#include <string.h>

#include "loomrt.h"
#include "lower_internal.h"

typedef loom_status (*lower_fn)(lower_ctx *c, const ir_node *n, loop_step *step);

static const lower_fn lower_table[IR_OP_COUNT] = {
#define LOWER_ENTRY(e, name, mi, ma, mo, mao, fn, attrs) lower_##fn,
    IR_OPS(LOWER_ENTRY)
#undef LOWER_ENTRY
};

/* A C identifier from a tensor name: [A-Za-z0-9_] kept, others '_', made
 * unique in the function with a numeric suffix. */
static const char *c_name(lower_ctx *c, const char *prefix, const char *name)
{
    char *s = ir_arena_printf(&c->f->arena, "%s%s", prefix, name);
    for (char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            *p = '_';
    const char *base = s;
    for (int k = 1;; k++) {
        bool taken = false;
        for (int i = 0; i < c->f->n_bufs && !taken; i++)
            taken = strcmp(c->f->bufs[i]->name, s) == 0;
        if (!taken)
            return s;
        s = ir_arena_printf(&c->f->arena, "%s_%d", base, k);
    }
}

loom_status lower_no_case(lower_ctx *c, const ir_node *n)
{
    ir_diag_node(c->d, c->g, n, "internal error: the lowering has no case for %s",
                 ir_op_name(n->op));
    return LOOM_STATUS_INTERNAL;
}

loop_buf *lower_buf(lower_ctx *c, const ir_value *v)
{
    if (c->bufs[v->id])
        return c->bufs[v->id];
    loop_buf_kind kind = v->data ? LOOP_BUF_CONST : LOOP_BUF_ARENA;
    loop_buf *b = loop_buf_new(c->f, c_name(c, v->data ? "w_" : "t_", v->name), kind, v->dtype,
                               ir_shape_numel(&v->shape));
    loop_buf_set_tensor(c->f, b, v);
    b->data = v->data;
    c->bufs[v->id] = b;
    return b;
}

/* f32 exp/tanh are the runtime's fast versions: within 2 ulp of libm,
 * NaN and infinities as libm, and branch free so the loops that call them
 * vectorize in both backends. */
loop_expr *lower_exp(loop_func *f, loop_expr *x)
{
    return loop_unary(f, x->dtype == IR_DTYPE_F32 ? LOOP_UNOP_FAST_EXP : LOOP_UNOP_EXP, x);
}

loop_expr *lower_tanh(loop_func *f, loop_expr *x)
{
    return loop_unary(f, x->dtype == IR_DTYPE_F32 ? LOOP_UNOP_FAST_TANH : LOOP_UNOP_TANH, x);
}

loop_buf *lower_scratch(lower_ctx *c, const char *base, ir_dtype t, int64_t numel)
{
    return loop_buf_new(c->f, c_name(c, "s_", base), LOOP_BUF_ARENA, t, numel);
}

loop_buf *lower_const_table(lower_ctx *c, const char *base, ir_dtype t, int64_t numel,
                            const void *data)
{
    loop_buf *b = loop_buf_new(c->f, c_name(c, "k_", base), LOOP_BUF_CONST, t, numel);
    b->data = ir_arena_memdup(&c->f->arena, data, (size_t)numel * ir_dtype_size(t));
    return b;
}

loop_buf *lower_view_at(lower_ctx *c, const ir_value *v, loop_buf *of, int64_t at)
{
    loop_buf *b = loop_buf_new(c->f, c_name(c, "t_", v->name), of->kind, v->dtype,
                               ir_shape_numel(&v->shape));
    loop_buf_set_tensor(c->f, b, v);
    b->io_index = of->io_index;
    b->data = of->data;
    b->alias = of->alias ? of->alias : of;
    b->alias_offset = (of->alias ? of->alias_offset : 0) + at;
    c->bufs[v->id] = b;
    return b;
}

bool lower_alias(lower_ctx *c, const ir_value *in, const ir_value *out)
{
    if (out->is_output || c->bufs[out->id])
        return false;
    lower_view_at(c, out, lower_buf(c, in), 0);
    return true;
}

loop_block *lower_nest(lower_ctx *c, loop_block *b, int rank, const int64_t *dims, int *vars)
{
    for (int i = 0; i < rank; i++) {
        vars[i] = loop_var_new(c->f);
        b = &loop_for(c->f, b, vars[i], dims[i])->body;
    }
    return b;
}

loop_index lower_bcast_index(const ir_shape *s, const ir_shape *out_shape, const int *vars)
{
    loop_index idx = loop_idx_const(0);
    int64_t stride = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        int oi = i + out_shape->rank - s->rank;
        if (s->dims[i] != 1)
            loop_idx_add(&idx, vars[oi], stride);
        stride *= s->dims[i];
    }
    return idx;
}

/* True when v is a constant i64/i32 tensor whose every value lies in
 * [lo, hi). */
static bool const_in_range(const ir_value *v, int64_t lo, int64_t hi)
{
    if (!v || !v->data || (v->dtype != IR_DTYPE_I64 && v->dtype != IR_DTYPE_I32))
        return false;
    int64_t n = ir_shape_numel(&v->shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t x = v->dtype == IR_DTYPE_I64 ? ((const int64_t *)v->data)[i]
                                             : ((const int32_t *)v->data)[i];
        if (x < lo || x >= hi)
            return false;
    }
    return true;
}

loop_expr *lower_index_in_range(lower_ctx *c, loop_block *b, loop_expr *k, int64_t dim,
                                 bool wrap, const ir_value *src)
{
    loop_func *f = c->f;
    bool known = const_in_range(src, wrap ? -dim : 0, dim); /* nothing to check */
    ir_dtype w = IR_DTYPE_I64;
    int l = loop_local_new(f, w);
    loop_set(f, b, l, k->dtype == w ? k : loop_cast(f, w, k));
    loop_expr *zero = loop_const_i(f, w, 0);
    if (wrap) /* negative indices count from the end */
        loop_set(f, b, l,
                 loop_select(f, loop_binary(f, LOOP_BINOP_LT, loop_local_read(f, l), zero),
                             loop_binary(f, LOOP_BINOP_ADD, loop_local_read(f, l),
                                         loop_const_i(f, w, dim)),
                             loop_local_read(f, l)));
    if (known) {
        return loop_local_read(f, l);
    } else if (c->checked) {
        loop_expr *ok = loop_binary(f, LOOP_BINOP_AND,
                                    loop_binary(f, LOOP_BINOP_GE, loop_local_read(f, l), zero),
                                    loop_binary(f, LOOP_BINOP_LT, loop_local_read(f, l),
                                                loop_const_i(f, w, dim)));
        loop_check(f, b, ok, LOOP_ERROR_INDEX);
    } else {
        loop_set(f, b, l, loop_binary(f, LOOP_BINOP_MAX, loop_local_read(f, l), zero));
        loop_set(f, b, l,
                 loop_binary(f, LOOP_BINOP_MIN, loop_local_read(f, l),
                             loop_const_i(f, w, dim - 1)));
    }
    return loop_local_read(f, l);
}

void lower_check_divisor(lower_ctx *c, loop_block *b, loop_expr *m)
{
    if (!c->checked || (m->kind == LOOP_EXPR_CONST && m->c.i != 0))
        return;
    loop_check(c->f, b, loop_binary(c->f, LOOP_BINOP_NE, m, loop_const_i(c->f, m->dtype, 0)),
               LOOP_ERROR_DIV_ZERO);
}

void lower_copy(lower_ctx *c, loop_block *b, loop_buf *dst, loop_buf *src, int64_t numel)
{
    if (numel <= 0)
        return; /* an empty tensor gets no loop (trip counts are positive) */
    int v;
    loop_block *body = lower_nest(c, b, 1, &numel, &v);
    loop_index idx = loop_idx_const(0);
    loop_idx_add(&idx, v, 1);
    loop_store(c->f, body, dst, idx, loop_load(c->f, src, idx));
}

/* Drops dims of size 1 and merges a dim into its outer neighbour when both
 * sides walk them as one run (outer stride == inner stride * inner size). */
static void strided_coalesce(lower_strided *s)
{
    int r = 0;
    for (int i = 0; i < s->rank; i++) {
        int64_t n = s->dims[i];
        if (n == 1)
            continue;
        if (r > 0 && s->dst[r - 1] == s->dst[i] * n && s->src[r - 1] == s->src[i] * n) {
            s->dims[r - 1] *= n;
        } else {
            s->dims[r] = n;
            r++;
        }
        s->dst[r - 1] = s->dst[i];
        s->src[r - 1] = s->src[i];
    }
    s->rank = r;
}

void lower_strided_copy(lower_ctx *c, loop_block *b, loop_buf *dst, loop_buf *src, lower_strided s)
{
    for (int i = 0; i < s.rank; i++)
        if (s.dims[i] <= 0)
            return;
    strided_coalesce(&s);
    int vars[LOWER_STRIDED_DIMS];
    loop_block *body = lower_nest(c, b, s.rank, s.dims, vars);
    loop_index di = loop_idx_const(s.dst_base), si = loop_idx_const(s.src_base);
    for (int i = 0; i < s.rank; i++) {
        loop_idx_add(&di, vars[i], s.dst[i]);
        loop_idx_add(&si, vars[i], s.src[i]);
    }
    loop_store(c->f, body, dst, di, loop_load(c->f, src, si));
}

/* Input and output buffers first, in graph order, so io_index is stable.
 * An output that is also an input or a constant gets a copy step. */
static void lower_io(lower_ctx *c)
{
    const ir_graph *g = c->g;
    for (int i = 0; i < g->n_inputs; i++) {
        loop_buf *b = lower_buf(c, g->inputs[i]);
        b->kind = LOOP_BUF_INPUT;
        b->io_index = i;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const ir_value *v = g->outputs[i];
        loop_buf *b = loop_buf_new(c->f, c_name(c, "out_", v->name), LOOP_BUF_OUTPUT, v->dtype,
                                   ir_shape_numel(&v->shape));
        b->io_index = i;
        loop_buf_set_tensor(c->f, b, v);
        if (v->is_input || v->data || c->bufs[v->id]) {
            /* an output that is an input, a constant or listed twice */
            loop_step *s = loop_step_new(c->f, v->name, IR_OP_IDENTITY);
            lower_copy(c, &s->body, b, lower_buf(c, v), b->numel);
        } else {
            c->bufs[v->id] = b;
        }
    }
    c->f->n_inputs = g->n_inputs;
    c->f->n_outputs = g->n_outputs;
}

/* True when every output of n is empty: such a node computes nothing and
 * gets an empty step (loop trip counts are positive, see loop_verify.c). */
static bool outputs_empty(const ir_node *n)
{
    for (int i = 0; i < n->n_outputs; i++)
        if (n->outputs[i] && ir_shape_numel(&n->outputs[i]->shape) > 0)
            return false;
    return n->n_outputs > 0;
}

loom_status lower_graph(const ir_graph *g, const char *name, loop_func **out, ir_diag *d)
{
    return lower_graph_with(g, name, NULL, out, d);
}

loom_status lower_graph_with(const ir_graph *g, const char *name, const lower_opts *opts,
                             loop_func **out, ir_diag *d)
{
    *out = NULL;
    loop_func *f = loop_func_new(name);
    int threads = opts && opts->threads > 1 ? opts->threads : 1;
    lower_ctx c = {.g = g, .f = f, .d = d, .checked = !(opts && opts->unchecked),
                   .threads = threads < LOOMRT_MAX_THREADS ? threads : LOOMRT_MAX_THREADS};
    if (!f || !(c.bufs = ir_calloc((size_t)g->n_values + 1, sizeof *c.bufs))) {
        loop_func_free(f);
        ir_diag_graph(d, g, "out of memory while lowering");
        return LOOM_STATUS_NOMEM;
    }
    jmp_buf jb;
    volatile loom_status st = LOOM_STATUS_OK;
    if (IR_TRY(&f->arena, jb)) {
        lower_io(&c);
        for (int k = 0; k < g->n_nodes; k++)
            if (g->nodes[k]->op == IR_OP_CONCAT)
                lower_concat_in_place(&c, g->nodes[k]);
        /* copies of outputs that are inputs must run last: move them after */
        int n_copies = f->n_steps;
        for (int k = 0; k < g->n_nodes; k++) {
            const ir_node *n = g->nodes[k];
            loop_step *step = loop_step_new(f, n->name, n->op);
            loom_status s = outputs_empty(n) ? LOOM_STATUS_OK : lower_table[n->op](&c, n, step);
            if (s)
                st = s;
        }
        /* rotate the output copies to the end */
        for (int k = 0; k < n_copies; k++) {
            loop_step *s = f->steps[0];
            memmove(f->steps, f->steps + 1, (size_t)(f->n_steps - 1) * sizeof *f->steps);
            f->steps[f->n_steps - 1] = s;
        }
    } else {
        ir_diag_graph(d, g, "out of memory while lowering");
        st = LOOM_STATUS_NOMEM;
    }
    f->arena.oom = NULL;
    ir_free(c.bufs);
    if (st) {
        loop_func_free(f);
        return st;
    }
    *out = f;
    return LOOM_STATUS_OK;
}
