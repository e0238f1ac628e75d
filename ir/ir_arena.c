/*
 * Bump allocator that owns a graph's memory. Chunks come from ir_malloc and
 * are freed together. A request larger than the chunk size gets a chunk of
 * its own. On failure the arena longjmps to the handler in a->oom.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define CHUNK_SIZE (64 * 1024)
#define ALIGN 16

struct ir_chunk {
    ir_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char mem[];
};

void ir_arena_init(ir_arena *a)
{
    a->head = NULL;
    a->oom = NULL;
    a->bytes = 0;
}

void ir_arena_free(ir_arena *a)
{
    ir_chunk *c = a->head;
    while (c) {
        ir_chunk *next = c->next;
        ir_free(c);
        c = next;
    }
    a->head = NULL;
    a->bytes = 0;
}

static _Noreturn void arena_fail(ir_arena *a)
{
    if (!a->oom) {
        /* A missing handler is a bug in loom, not bad input. */
        fprintf(stderr, "loom: internal error: arena allocation failed with no handler\n");
        abort();
    }
    longjmp(*a->oom, 1);
}

void *ir_arena_alloc(ir_arena *a, size_t size)
{
    size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < size)
        arena_fail(a);
    ir_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t cap = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;
        size_t total;
        if (!ir_add_size(sizeof(ir_chunk), cap, &total))
            arena_fail(a);
        ir_chunk *nc = ir_malloc(total);
        if (!nc)
            arena_fail(a);
        nc->used = 0;
        nc->size = cap;
        if (cap > CHUNK_SIZE && c) {
            /* keep the partly used chunk at the head for small requests */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->mem + c->used;
    c->used += need;
    a->bytes += need;
    memset(p, 0, size);
    return p;
}

void *ir_arena_array(ir_arena *a, size_t count, size_t size)
{
    size_t total;
    if (!ir_mul_size(count, size, &total))
        arena_fail(a);
    return ir_arena_alloc(a, total);
}

void *ir_arena_grow(ir_arena *a, void *arr, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return arr;
    int ncap = *cap ? *cap * 2 : 16;
    void *na = ir_arena_array(a, (size_t)ncap, elem);
    if (n)
        memcpy(na, arr, (size_t)n * elem);
    *cap = ncap;
    return na;
}

char *ir_arena_strndup(ir_arena *a, const char *s, size_t n)
{
    char *p = ir_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ir_arena_strdup(ir_arena *a, const char *s)
{
    return ir_arena_strndup(a, s, strlen(s));
}

void *ir_arena_memdup(ir_arena *a, const void *p, size_t size)
{
    void *q = ir_arena_alloc(a, size);
    if (size)
        memcpy(q, p, size);
    return q;
}

char *ir_arena_printf(ir_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = ir_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
