/*
 * Diagnostics: a growing text buffer of error lines. Appending never fails
 * from the caller's point of view; out of memory truncates the text.
 */
#include <stdio.h>
#include <string.h>

#include "ir.h"

void ir_diag_init(ir_diag *d)
{
    d->text = NULL;
    d->len = d->cap = 0;
    d->n_errors = 0;
}

void ir_diag_free(ir_diag *d)
{
    ir_free(d->text);
    ir_diag_init(d);
}

void ir_diag_clear(ir_diag *d)
{
    if (d->text)
        d->text[0] = '\0';
    d->len = 0;
    d->n_errors = 0;
}

/* Makes room for n more bytes plus a NUL; false if memory ran out. */
static bool diag_reserve(ir_diag *d, size_t n)
{
    if (d->len + n + 1 <= d->cap)
        return true;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < d->len + n + 1)
        cap *= 2;
    char *t = ir_realloc(d->text, cap);
    if (!t)
        return false;
    d->text = t;
    d->cap = cap;
    return true;
}

void ir_diag_verrorf(ir_diag *d, const char *fmt, va_list ap)
{
    d->n_errors++;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !diag_reserve(d, (size_t)n + 1))
        return;
    vsnprintf(d->text + d->len, (size_t)n + 1, fmt, ap);
    d->len += (size_t)n;
    d->text[d->len++] = '\n';
    d->text[d->len] = '\0';
}

void ir_diag_errorf(ir_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verrorf(d, fmt, ap);
    va_end(ap);
}

/* Formats "FILE: node "NAME" (Op): " + message. */
void ir_diag_node(ir_diag *d, const ir_graph *g, const ir_node *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_diag_errorf(d, "%s: node \"%s\" (%s): %s", g && g->source ? g->source : "<graph>",
                   n->name ? n->name : "", ir_op_name(n->op), msg);
}

void ir_diag_graph(ir_diag *d, const ir_graph *g, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_diag_errorf(d, "%s: %s", g && g->source ? g->source : "<graph>", msg);
}

const char *loom_status_name(loom_status s)
{
    switch (s) {
    case LOOM_STATUS_OK: return "ok";
    case LOOM_STATUS_INVALID_MODEL: return "invalid model";
    case LOOM_STATUS_UNSUPPORTED: return "unsupported";
    case LOOM_STATUS_IO: return "i/o error";
    case LOOM_STATUS_NOMEM: return "out of memory";
    case LOOM_STATUS_INVALID_ARG: return "invalid argument";
    case LOOM_STATUS_INTERNAL: return "internal error";
    }
    return "unknown status";
}
