/*
 * The loop-IR walker (loop_walk.h): a pre-order traversal calling the
 * walker's hooks for statements, expressions and buffer references.
 */
#include "loop_walk.h"

static void walk_index(loop_walker *w, const loop_index *idx)
{
    if (idx->dyn)
        loop_walk_expr(w, idx->dyn);
}

static void walk_buf(loop_walker *w, const loop_buf *b)
{
    if (w->buf)
        w->buf(w, b);
}

void loop_walk_expr(loop_walker *w, const loop_expr *x)
{
    if (!x)
        return;
    if (w->expr)
        w->expr(w, x);
    if (x->kind == LOOP_EXPR_LOAD) {
        walk_buf(w, x->buf);
        walk_index(w, &x->idx);
    }
    loop_walk_expr(w, x->a);
    loop_walk_expr(w, x->b);
    loop_walk_expr(w, x->c3);
}

static void walk_stmt(loop_walker *w, const loop_stmt *s)
{
    if (w->stmt)
        w->stmt(w, s);
    switch (s->kind) {
    case LOOP_STMT_FOR:
        if (!s->parallel || !w->skip_parallel)
            loop_walk_block(w, &s->body);
        return;
    case LOOP_STMT_IF:
        loop_walk_expr(w, s->cond);
        loop_walk_block(w, &s->body);
        return;
    case LOOP_STMT_CHECK: loop_walk_expr(w, s->cond); return;
    case LOOP_STMT_STORE:
        walk_buf(w, s->buf);
        walk_index(w, &s->idx);
        loop_walk_expr(w, s->value);
        return;
    case LOOP_STMT_SET: loop_walk_expr(w, s->value); return;
    case LOOP_STMT_CALL: {
        loop_call_arg args[LOOP_CALL_MAX_ARGS];
        for (int a = 0, n = loop_call_args(s, args); a < n; a++) {
            walk_buf(w, args[a].slice->buf);
            walk_index(w, &args[a].slice->idx);
        }
        return;
    }
    }
}

void loop_walk_block(loop_walker *w, const loop_block *b)
{
    for (int k = 0; k < b->n; k++)
        walk_stmt(w, b->stmts[k]);
}

void loop_walk_func(const loop_func *f, loop_walker *w)
{
    for (int s = 0; s < f->n_steps; s++) {
        w->step = s;
        loop_walk_block(w, &f->steps[s]->body);
    }
}
