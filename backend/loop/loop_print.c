/*
 * Text form of the loop IR (docs/loop-ir.md), printed by
 * `loom compile --emit=loops`. Deterministic; for reading and for tests,
 * not parsed back.
 */
#include <inttypes.h>

#include <string.h>

#include "loomrt.h"
#include "loop_ir.h"

static const char *buf_kind_name(loop_buf_kind k)
{
    switch (k) {
    case LOOP_BUF_INPUT: return "input";
    case LOOP_BUF_OUTPUT: return "output";
    case LOOP_BUF_CONST: return "const";
    case LOOP_BUF_ARENA: return "arena";
    }
    return "?";
}

static void print_expr(const loop_expr *e, FILE *out);

/* "3*i2 + 5*i4 + 7", "0" for an empty index. */
static void print_index(const loop_index *idx, FILE *out)
{
    bool any = false;
    for (int k = 0; k < idx->n; k++) {
        if (idx->coef[k] == 1)
            fprintf(out, "%si%d", any ? " + " : "", idx->var[k]);
        else
            fprintf(out, "%s%" PRId64 "*i%d", any ? " + " : "", idx->coef[k], idx->var[k]);
        any = true;
    }
    if (idx->dyn) {
        fprintf(out, "%s%" PRId64 "*(", any ? " + " : "", idx->dyn_coef);
        print_expr(idx->dyn, out);
        fprintf(out, ")");
        any = true;
    }
    if (idx->offset || !any)
        fprintf(out, "%s%" PRId64, any ? " + " : "", idx->offset);
}

static void print_expr(const loop_expr *e, FILE *out)
{
    switch (e->kind) {
    case LOOP_EXPR_CONST:
        if (e->dtype == IR_DTYPE_F32 || e->dtype == IR_DTYPE_F64)
            fprintf(out, "%.9g", e->c.f);
        else
            fprintf(out, "%" PRId64, e->c.i);
        break;
    case LOOP_EXPR_VAR: fprintf(out, "i%d", e->id); break;
    case LOOP_EXPR_LOCAL: fprintf(out, "$%d", e->id); break;
    case LOOP_EXPR_LOAD:
        fprintf(out, "%%%s[", e->buf->name);
        print_index(&e->idx, out);
        fprintf(out, "]");
        break;
    case LOOP_EXPR_UNARY:
        fprintf(out, "%s(", loop_unop_name((loop_unop)e->op));
        print_expr(e->a, out);
        fprintf(out, ")");
        break;
    case LOOP_EXPR_BINARY:
        fprintf(out, "%s(", loop_binop_name((loop_binop)e->op));
        print_expr(e->a, out);
        fprintf(out, ", ");
        print_expr(e->b, out);
        fprintf(out, ")");
        break;
    case LOOP_EXPR_SELECT:
        fprintf(out, "select(");
        print_expr(e->a, out);
        fprintf(out, ", ");
        print_expr(e->b, out);
        fprintf(out, ", ");
        print_expr(e->c3, out);
        fprintf(out, ")");
        break;
    case LOOP_EXPR_CAST:
        fprintf(out, "cast<%s>(", ir_dtype_name(e->dtype));
        print_expr(e->a, out);
        fprintf(out, ")");
        break;
    }
}

static void print_int(FILE *out, const char *name, int64_t v)
{
    fprintf(out, ", %s=%" PRId64, name, v);
}

static void print_float(FILE *out, const char *name, double v)
{
    fprintf(out, ", %s=%.9g", name, v);
}

static void print_conv2d(FILE *out, const loop_conv2d *g)
{
    const char *names[] = {"C", "H", "W", "kh", "kw", "oh", "ow", "pad_t", "pad_l",
                           "stride_h", "stride_w", "dil_h", "dil_w"};
    int64_t v[] = {g->channels, g->h, g->w, g->kh, g->kw, g->oh, g->ow, g->pad_t, g->pad_l,
                   g->stride_h, g->stride_w, g->dil_h, g->dil_w};
    for (int k = 0; k < 13; k++)
        print_int(out, names[k], v[k]);
}

/* A max pool's window over a convolution's output (its plane printed
 * with the convolution's). */
static void print_pool(FILE *out, const loop_conv2d *p)
{
    const char *names[] = {"pool_kh",       "pool_kw",       "pool_oh",    "pool_ow",
                           "pool_pad_t",    "pool_pad_l",    "pool_stride_h", "pool_stride_w",
                           "pool_dil_h",    "pool_dil_w"};
    int64_t v[] = {p->kh,    p->kw,       p->oh,       p->ow,    p->pad_t,
                   p->pad_l, p->stride_h, p->stride_w, p->dil_h, p->dil_w};
    for (int k = 0; k < 10; k++)
        print_int(out, names[k], v[k]);
}

/* The activation and bias strides of an epilogue that does anything (its
 * operands were printed with the buffers). */
static void print_epilogue(FILE *out, const char *pre, const loop_epilogue *e, bool strides)
{
    static const char *const acts[LOOMRT_ACT_COUNT] = {
        "none", "relu", "leaky_relu", "clip", "sigmoid", "tanh",
        "hard_sigmoid", "hard_swish", "gelu", "gelu_tanh"};
    if (!loop_epilogue_present(e))
        return;
    bool known = e->act >= 0 && e->act < LOOMRT_ACT_COUNT;
    fprintf(out, ", %sact=%s", pre, known ? acts[e->act] : "?");
    if (e->act != LOOMRT_ACT_NONE) {
        char name[32];
        snprintf(name, sizeof name, "%sact_alpha", pre);
        print_float(out, name, e->alpha);
        snprintf(name, sizeof name, "%sact_beta", pre);
        print_float(out, name, e->beta);
    }
    if (e->bias.buf && strides) {
        print_int(out, "bias_rs", e->bias_rs);
        print_int(out, "bias_cs", e->bias_cs);
    }
}

/* The scalar arguments of call s, by name. */
static void print_params(const loop_stmt *s, FILE *out)
{
    switch (s->kernel) {
    case LOOP_KERNEL_SGEMM: {
        const loop_sgemm *g = &s->call.sgemm;
        int64_t v[] = {g->m, g->n, g->k, g->lda, g->ldb, g->ldc, g->trans_a, g->trans_b};
        const char *names[] = {"M", "N", "K", "lda", "ldb", "ldc", "transA", "transB"};
        for (int k = 0; k < 8; k++)
            print_int(out, names[k], v[k]);
        print_float(out, "alpha", g->alpha);
        print_float(out, "beta", g->beta);
        print_epilogue(out, "", &g->epi, true);
        return;
    }
    case LOOP_KERNEL_SGEMM_PACKED: {
        const loop_sgemm_packed *g = &s->call.sgemm_packed;
        int64_t v[] = {g->m, g->n, g->k, g->lda, g->ldc, g->trans_a, g->trans_c};
        const char *names[] = {"M", "N", "K", "lda", "ldc", "transA", "transC"};
        for (int k = 0; k < 7; k++)
            print_int(out, names[k], v[k]);
        print_float(out, "alpha", g->alpha);
        print_float(out, "beta", g->beta);
        print_epilogue(out, "", &g->epi, true);
        return;
    }
    case LOOP_KERNEL_IM2COL:
    case LOOP_KERNEL_COL2IM:
    case LOOP_KERNEL_MAXPOOL: print_conv2d(out, &s->call.unfold.g); return;
    case LOOP_KERNEL_DWCONV:
        print_int(out, "mult", s->call.dwconv.mult);
        print_conv2d(out, &s->call.dwconv.g);
        print_epilogue(out, "", &s->call.dwconv.epi, false);
        if (s->call.dwconv.pw.buf) {
            print_int(out, "pw_K", s->call.dwconv.pw_k);
            print_epilogue(out, "pw_", &s->call.dwconv.pw_epi, false);
        }
        if (s->call.dwconv.pj.buf) {
            print_int(out, "pj_M", s->call.dwconv.pj_m);
            print_epilogue(out, "pj_", &s->call.dwconv.pj_epi, false);
        }
        return;
    case LOOP_KERNEL_CONV2D:
    case LOOP_KERNEL_WINOGRAD:
    case LOOP_KERNEL_CONV_DIRECT:
    case LOOP_KERNEL_CONV2D_T:
        if (s->call.conv.blocks > 1)
            print_int(out, "blocks", s->call.conv.blocks);
        print_int(out, "M", s->call.conv.m);
        print_conv2d(out, &s->call.conv.g);
        print_epilogue(out, "", &s->call.conv.epi, false);
        return;
    case LOOP_KERNEL_CONV_DIRECT_POOL:
        print_int(out, "M", s->call.conv_pool.conv.m);
        print_conv2d(out, &s->call.conv_pool.conv.g);
        print_epilogue(out, "", &s->call.conv_pool.conv.epi, false);
        print_pool(out, &s->call.conv_pool.pool);
        return;
    case LOOP_KERNEL_WINOGRAD_POOL:
        if (s->call.winograd_pool.conv.blocks > 1)
            print_int(out, "blocks", s->call.winograd_pool.conv.blocks);
        print_int(out, "M", s->call.winograd_pool.conv.m);
        print_conv2d(out, &s->call.winograd_pool.conv.g);
        print_epilogue(out, "", &s->call.winograd_pool.conv.epi, false);
        print_pool(out, &s->call.winograd_pool.pool);
        return;
    case LOOP_KERNEL_ATTENTION: {
        const loop_attention *a = &s->call.attention;
        int64_t v[] = {a->sq, a->sk, a->d, a->dv, a->ldq, a->ldk, a->ldv,
                       a->mask_rs, a->mask_cs, a->ldy, a->causal};
        const char *names[] = {"Sq", "Sk", "D", "Dv", "ldq", "ldk", "ldv",
                               "mask_rs", "mask_cs", "ldy", "causal"};
        for (int k = 0; k < 11; k++)
            print_int(out, names[k], v[k]);
        print_float(out, "scale", a->scale);
        return;
    }
    case LOOP_KERNEL_COUNT: break;
    }
}

/* call NAME(buffers..., epilogue operands as name=..., scalars by name). */
static void print_call(const loop_stmt *s, FILE *out)
{
    loop_call_arg args[LOOP_CALL_MAX_ARGS];
    int n = loop_call_args(s, args);
    const char *name = loop_kernel_name(s->kernel);
    fprintf(out, "call %s(", name ? name : "?");
    for (int k = 0; k < n; k++) {
        const char *an = args[k].name;
        bool named = !strcmp(an, "bias") || !strcmp(an, "residual");
        fprintf(out, "%s%s%s%%%s[", k ? ", " : "", named ? an : "", named ? "=" : "",
                args[k].slice->buf ? args[k].slice->buf->name : "?");
        print_index(&args[k].slice->idx, out);
        fprintf(out, "]");
    }
    print_params(s, out);
    fprintf(out, ")\n");
}

static void print_block(const loop_block *b, int depth, FILE *out)
{
    for (int k = 0; k < b->n; k++) {
        const loop_stmt *s = b->stmts[k];
        fprintf(out, "%*s", 2 * depth, "");
        switch (s->kind) {
        case LOOP_STMT_FOR:
            fprintf(out, "%sfor i%d in 0..%" PRId64 "%s {\n", s->parallel ? "parallel " : "",
                    s->var, s->extent, s->slots ? " slots" : "");
            print_block(&s->body, depth + 1, out);
            fprintf(out, "%*s}\n", 2 * depth, "");
            break;
        case LOOP_STMT_IF:
            fprintf(out, "if ");
            print_expr(s->cond, out);
            fprintf(out, " {\n");
            print_block(&s->body, depth + 1, out);
            fprintf(out, "%*s}\n", 2 * depth, "");
            break;
        case LOOP_STMT_STORE:
            fprintf(out, "%%%s[", s->buf->name);
            print_index(&s->idx, out);
            fprintf(out, "] = ");
            print_expr(s->value, out);
            fprintf(out, "\n");
            break;
        case LOOP_STMT_SET:
            fprintf(out, "$%d = ", s->local);
            print_expr(s->value, out);
            fprintf(out, "\n");
            break;
        case LOOP_STMT_CALL: print_call(s, out); break;
        case LOOP_STMT_CHECK:
            fprintf(out, "check ");
            print_expr(s->cond, out);
            fprintf(out, " else error %s\n", loop_error_name((int)s->error));
            break;
        }
    }
}

void loop_print(const loop_func *f, FILE *out)
{
    fprintf(out, "func %s (workspace %" PRId64 " bytes, lower bound %" PRId64, f->name,
            f->workspace_bytes, f->workspace_lower_bound);
    if (f->error_offset >= 0)
        fprintf(out, ", error record @%" PRId64, f->error_offset);
    fprintf(out, ") {\n");
    for (int i = 0; i < f->n_bufs; i++) {
        const loop_buf *b = f->bufs[i];
        fprintf(out, "  buf %%%s: %s %s[%" PRId64 "]", b->name, buf_kind_name(b->kind),
                ir_dtype_name(b->dtype), b->numel);
        if (b->kind == LOOP_BUF_INPUT || b->kind == LOOP_BUF_OUTPUT)
            fprintf(out, " #%d", b->io_index);
        if (b->alias && b->alias_offset)
            fprintf(out, " view of %%%s +%" PRId64, b->alias->name, b->alias_offset);
        else if (b->alias)
            fprintf(out, " view of %%%s", b->alias->name);
        else if (b->kind == LOOP_BUF_ARENA)
            fprintf(out, " @%" PRId64, b->offset);
        if (b->alias_stride)
            fprintf(out, " images every %" PRId64, b->alias_stride);
        fprintf(out, "\n");
    }
    for (int i = 0; i < f->n_locals; i++)
        fprintf(out, "  local $%d: %s\n", i, ir_dtype_name(f->locals[i].dtype));
    for (int i = 0; i < f->n_steps; i++) {
        const loop_step *s = f->steps[i];
        fprintf(out, "  step \"%s\" (%s) {\n", s->node_name, ir_op_name(s->op));
        print_block(&s->body, 2, out);
        fprintf(out, "  }\n");
    }
    fprintf(out, "}\n");
}
