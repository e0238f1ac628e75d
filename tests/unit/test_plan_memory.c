/*
 * The memory planner: the offset assignment on abstract blocks
 * (backend/loop/loop_mem_alloc.c) against a brute-force optimum on random
 * small instances, and the loop-IR side (backend/loop/loop_plan_memory.c):
 * in-place reuse where an elementwise step's input dies, and the cases
 * where it must not happen (a broadcast or transposed read, an input used
 * later, graph inputs and outputs), with the compiled code checked against
 * the interpreter.
 */
#include <stdint.h>
#include <stdlib.h>

#include "be.h"
#include "loop_mem_alloc.h"
#include "testlib.h"

/* ---- abstract blocks ---- */

#define MAX_N 12

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
}

static bool live_together(const loop_mem_block *a, const loop_mem_block *b)
{
    return a->first <= b->last && b->first <= a->last;
}

static int64_t up64(int64_t v)
{
    return (v + 63) / 64 * 64;
}

/* Checks alignment and that blocks live together do not overlap; returns
 * the arena the offsets use. */
static int64_t check_offsets(const loop_mem_block *b, int n)
{
    int64_t arena = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(b[i].offset % 64, 0, "block %d at %lld", i, (long long)b[i].offset);
        if (b[i].size > 0 && b[i].offset + up64(b[i].size) > arena)
            arena = b[i].offset + up64(b[i].size);
        for (int j = 0; j < i; j++)
            if (b[i].size > 0 && b[j].size > 0 && live_together(&b[i], &b[j]))
                cr_assert(b[i].offset >= b[j].offset + up64(b[j].size) ||
                              b[j].offset >= b[i].offset + up64(b[i].size),
                          "blocks %d and %d overlap", i, j);
    }
    return arena;
}

/* First fit in the order perm, written independently of the allocator. */
static int64_t first_fit_arena(const loop_mem_block *b, int n, const int *perm)
{
    int64_t off[MAX_N], arena = 0;
    for (int k = 0; k < n; k++) {
        int i = perm[k];
        int64_t at = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (int q = 0; q < k; q++) {
                int j = perm[q];
                if (live_together(&b[i], &b[j]) && at < off[j] + up64(b[j].size) &&
                    off[j] < at + up64(b[i].size)) {
                    at = off[j] + up64(b[j].size);
                    moved = true;
                }
            }
        }
        off[i] = at;
        arena = at + up64(b[i].size) > arena ? at + up64(b[i].size) : arena;
    }
    return arena;
}

/* The optimum: the best first fit over all orders (some order's first fit
 * reaches every optimal assignment). */
static int64_t brute_force(const loop_mem_block *b, int n, int *perm, int k)
{
    if (k == n)
        return first_fit_arena(b, n, perm);
    int64_t best = INT64_MAX;
    for (int i = k; i < n; i++) {
        int t = perm[k];
        perm[k] = perm[i];
        perm[i] = t;
        int64_t a = brute_force(b, n, perm, k + 1);
        best = a < best ? a : best;
        perm[i] = perm[k];
        perm[k] = t;
    }
    return best;
}

static void random_blocks(loop_mem_block *b, int n)
{
    for (int i = 0; i < n; i++) {
        int first = (int)(next_rand() % 8), len = (int)(next_rand() % 5);
        b[i] = (loop_mem_block){.size = 1 + (int64_t)(next_rand() % 6) * 64 + next_rand() % 64,
                                .first = first, .last = first + len};
    }
}

Test(mem_alloc, random_instances_reach_the_optimum)
{
    for (int trial = 0; trial < 400; trial++) {
        int n = 3 + trial % 5, perm[MAX_N]; /* 3..7 blocks: 5040 orders at most */
        loop_mem_block b[MAX_N], again[MAX_N];
        random_blocks(b, n);
        for (int i = 0; i < n; i++)
            perm[i] = i;
        int64_t optimum = brute_force(b, n, perm, 0);
        loop_mem_plan plan;
        cr_assert_eq(loop_mem_assign(b, n, 64, 1000000, &plan), LOOM_STATUS_OK);
        cr_assert_eq(check_offsets(b, n), plan.arena);
        cr_assert_eq(plan.arena, optimum, "trial %d: arena %lld, optimum %lld (%s)", trial,
                     (long long)plan.arena, (long long)optimum, plan.method);
        cr_assert_eq(plan.lower_bound, loop_mem_lower_bound(b, n, 64));
        cr_assert_leq(plan.lower_bound, plan.arena);
        memcpy(again, b, sizeof b); /* deterministic: the same offsets again */
        cr_assert_eq(loop_mem_assign(again, n, 64, 1000000, &plan), LOOM_STATUS_OK);
        for (int i = 0; i < n; i++)
            cr_assert_eq(again[i].offset, b[i].offset);
    }
}

/* An instance (found by random search) where every heuristic needs 832
 * bytes and the exact search reaches the lower bound, 768. */
Test(mem_alloc, exact_search_beats_the_heuristics)
{
    const loop_mem_block in[7] = {{128, 6, 6, 0}, {256, 4, 7, 0}, {320, 1, 3, 0}, {320, 1, 5, 0},
                                  {384, 7, 7, 0}, {64, 0, 2, 0},  {192, 5, 6, 0}};
    loop_mem_block b[7];
    loop_mem_plan plan;
    memcpy(b, in, sizeof b);
    cr_assert_eq(loop_mem_assign(b, 7, 64, 0, &plan), LOOM_STATUS_OK);
    cr_assert_eq(plan.arena, 832);
    memcpy(b, in, sizeof b);
    cr_assert_eq(loop_mem_assign(b, 7, 64, 100000, &plan), LOOM_STATUS_OK);
    cr_assert_eq(check_offsets(b, 7), 768);
    cr_assert_eq(plan.arena, 768);
    cr_assert_eq(plan.lower_bound, 768);
    cr_assert_str_eq(plan.method, "exact search");
    cr_assert_gt(plan.nodes, 0);
}

Test(mem_alloc, alignment_and_empty_blocks)
{
    loop_mem_block b[4] = {
        {.size = 1, .first = 0, .last = 2},
        {.size = 65, .first = 1, .last = 3},
        {.size = 0, .first = 0, .last = 9},  /* empty: no space */
        {.size = 64, .first = 4, .last = 5}, /* fits where block 0 was */
    };
    loop_mem_plan plan;
    cr_assert_eq(loop_mem_assign(b, 4, 64, 1000, &plan), LOOM_STATUS_OK);
    cr_assert_eq(plan.arena, 64 + 128);
    cr_assert_eq(plan.lower_bound, 64 + 128);
    cr_assert_eq(check_offsets(b, 4), 192);
    cr_assert_eq(loop_mem_assign(b, 0, 64, 1000, &plan), LOOM_STATUS_OK);
    cr_assert_eq(plan.arena, 0);
    cr_assert_eq(plan.lower_bound, 0);
}

/* Against TFLite Micro's greedy by size (largest first, then earliest,
 * each at the lowest offset that fits), the planner's previous algorithm:
 * never worse, and better on some random instances. */
Test(mem_alloc, better_than_greedy_by_size)
{
    int better = 0;
    for (int trial = 0; trial < 300; trial++) {
        int n = 8 + trial % 5, perm[MAX_N];
        loop_mem_block b[MAX_N];
        random_blocks(b, n);
        for (int i = 0; i < n; i++)
            perm[i] = i;
        for (int i = 1; i < n; i++) /* insertion sort: size desc, first asc */
            for (int k = i; k > 0; k--) {
                const loop_mem_block *x = &b[perm[k - 1]], *y = &b[perm[k]];
                if (up64(x->size) > up64(y->size) ||
                    (up64(x->size) == up64(y->size) && x->first <= y->first))
                    break;
                int t = perm[k];
                perm[k] = perm[k - 1];
                perm[k - 1] = t;
            }
        int64_t greedy = first_fit_arena(b, n, perm);
        loop_mem_plan plan;
        cr_assert_eq(loop_mem_assign(b, n, 64, 0, &plan), LOOM_STATUS_OK);
        cr_assert_eq(check_offsets(b, n), plan.arena);
        cr_assert_leq(plan.arena, greedy);
        better += plan.arena < greedy;
    }
    cr_assert_gt(better, 0);
}

Test(mem_alloc, out_of_memory_is_reported)
{
    loop_mem_block b[3] = {{64, 0, 1, 0}, {64, 1, 2, 0}, {64, 2, 3, 0}};
    loop_mem_plan plan;
    for (long k = 0;; k++) {
        ir_alloc_fail_after(k);
        loom_status st = loop_mem_assign(b, 3, 64, 1000, &plan);
        ir_alloc_fail_after(-1);
        if (st == LOOM_STATUS_OK)
            break;
        cr_assert_eq(st, LOOM_STATUS_NOMEM);
        cr_assert_lt(k, 100);
    }
    cr_assert_eq(plan.arena, 128);
}

/* ---- in-place reuse in lowered functions ---- */

static const int64_t shape[2] = {2, 8}; /* 64 bytes of f32 */

static ir_value *unary(ir_graph *g, ir_op op, const char *name, ir_value *x)
{
    return tl_node(g, op, name, 1, (ir_value *[]){x}, 1, name)->outputs[0];
}

static ir_value *binary(ir_graph *g, ir_op op, const char *name, ir_value *a, ir_value *b)
{
    return tl_node(g, op, name, 2, (ir_value *[]){a, b}, 1, name)->outputs[0];
}

/* Compiles g through the pipeline (lowering and planning) at -O1, so that
 * fuse-elementwise keeps the elementwise steps whose buffers these tests
 * inspect. */
static loop_func *compile(ir_graph *g)
{
    ir_diag d;
    ir_diag_init(&d);
    loop_func *f = NULL;
    pass_options po = pass_options_default();
    po.opt_level = 1;
    cr_assert_eq(be_compile_opts(g, "m", &po, &f, &d), LOOM_STATUS_OK, "%s",
                 d.text ? d.text : "");
    ir_diag_free(&d);
    return f;
}

static const loop_buf *buf_of(const loop_func *f, const char *value)
{
    for (int i = 0; i < f->n_bufs; i++)
        if (f->bufs[i]->value && strcmp(f->bufs[i]->value->name, value) == 0)
            return f->bufs[i];
    cr_assert_fail("no buffer holds %s", value);
    return NULL;
}

static bool shares(const loop_func *f, const char *a, const char *b)
{
    const loop_buf *x = buf_of(f, a), *y = buf_of(f, b);
    cr_assert_eq(x->kind, LOOP_BUF_ARENA, "%s is not in the arena", a);
    cr_assert_eq(y->kind, LOOP_BUF_ARENA, "%s is not in the arena", b);
    return x->offset == y->offset;
}

/* Builds the graph twice: once to inspect the plan, once to compare the
 * compiled code with the interpreter. */
typedef ir_graph *(*build_fn)(void);

static ir_graph *planned_graph; /* the buffers point at its values */

static loop_func *plan_and_check(build_fn build)
{
    ir_graph *g = build();
    tl_check_c(g, NULL, 1e-6f, 1e-6f);
    ir_graph_free(g);
    planned_graph = build();
    return compile(planned_graph);
}

static void release(loop_func *f)
{
    loop_func_free(f);
    ir_graph_free(planned_graph);
    planned_graph = NULL;
}

/* x -> Relu a -> Sigmoid b -> Tanh y: b overwrites a. */
static ir_graph *chain(void)
{
    ir_graph *g = tl_graph("chain");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, shape);
    ir_value *a = unary(g, IR_OP_RELU, "a", x);
    ir_value *b = unary(g, IR_OP_SIGMOID, "b", a);
    ir_graph_add_output(g, unary(g, IR_OP_TANH, "y", b));
    tl_infer_ok(g);
    return g;
}

Test(inplace, elementwise_chain_reuses_the_dying_input)
{
    loop_func *f = plan_and_check(chain);
    cr_assert(shares(f, "a", "b"));
    cr_assert_eq(f->workspace_bytes, 64);
    cr_assert_eq(f->workspace_lower_bound, 64);
    release(f);
}

/* a is read again after b = Sigmoid(a): b cannot overwrite it. c = a + b
 * may overwrite either (both die there). */
static ir_graph *used_later(void)
{
    ir_graph *g = tl_graph("used_later");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, shape);
    ir_value *a = unary(g, IR_OP_RELU, "a", x);
    ir_value *b = unary(g, IR_OP_SIGMOID, "b", a);
    ir_value *c = binary(g, IR_OP_ADD, "c", b, a);
    ir_graph_add_output(g, unary(g, IR_OP_NEG, "y", c));
    tl_infer_ok(g);
    return g;
}

Test(inplace, input_used_later_is_kept)
{
    loop_func *f = plan_and_check(used_later);
    cr_assert_not(shares(f, "a", "b"));
    cr_assert(shares(f, "c", "a") || shares(f, "c", "b"));
    cr_assert_eq(f->workspace_bytes, 128);
    release(f);
}

/* c = a[2,8] + v[8]: v is broadcast (read at a different element than the
 * one written), a is not; both die at c. */
static ir_graph *broadcast(void)
{
    ir_graph *g = tl_graph("broadcast");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, shape);
    ir_value *z = tl_input(g, "z", IR_DTYPE_F32, 1, (int64_t[]){8});
    ir_value *a = unary(g, IR_OP_RELU, "a", x);
    ir_value *v = unary(g, IR_OP_EXP, "v", z);
    ir_value *c = binary(g, IR_OP_ADD, "c", v, a);
    ir_graph_add_output(g, unary(g, IR_OP_NEG, "y", c));
    tl_infer_ok(g);
    return g;
}

Test(inplace, broadcast_input_is_not_overwritten)
{
    loop_func *f = plan_and_check(broadcast);
    cr_assert(shares(f, "c", "a"));
    cr_assert_not(shares(f, "c", "v"));
    release(f);
}

/* t = Transpose(a): same size, but element i is written from another
 * element of a, which a later iteration would read after it changed. */
static ir_graph *transpose(void)
{
    ir_graph *g = tl_graph("transpose");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, (int64_t[]){4, 4});
    ir_value *a = unary(g, IR_OP_RELU, "a", x);
    ir_value *t = unary(g, IR_OP_TRANSPOSE, "t", a);
    ir_graph_add_output(g, unary(g, IR_OP_NEG, "y", t));
    tl_infer_ok(g);
    return g;
}

Test(inplace, transposed_read_is_not_in_place)
{
    loop_func *f = plan_and_check(transpose);
    cr_assert_not(shares(f, "a", "t"));
    cr_assert_eq(f->workspace_bytes, 128);
    release(f);
}

/* a is a graph output that b also reads: b must not overwrite it, and the
 * graph input x is never written either. */
static ir_graph *graph_io(void)
{
    ir_graph *g = tl_graph("graph_io");
    ir_value *x = tl_input(g, "x", IR_DTYPE_F32, 2, shape);
    ir_value *a = unary(g, IR_OP_RELU, "a", x);
    ir_value *b = unary(g, IR_OP_SIGMOID, "b", a);
    ir_graph_add_output(g, a);
    ir_graph_add_output(g, unary(g, IR_OP_TANH, "y", b));
    tl_infer_ok(g);
    return g;
}

Test(inplace, graph_inputs_and_outputs_are_not_reused)
{
    loop_func *f = plan_and_check(graph_io);
    cr_assert_eq(buf_of(f, "x")->kind, LOOP_BUF_INPUT);
    cr_assert_eq(buf_of(f, "a")->kind, LOOP_BUF_OUTPUT);
    cr_assert_eq(buf_of(f, "b")->kind, LOOP_BUF_ARENA);
    cr_assert_eq(f->workspace_bytes, 64); /* b alone */
    release(f);
}
