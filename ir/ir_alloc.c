/*
 * The one allocation hook. Every heap allocation in loom goes through
 * ir_malloc/ir_calloc/ir_realloc so that tests can make the Nth allocation
 * fail (as Lua's ltests.c does) and check that nothing crashes or leaks.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static _Atomic long alloc_count; /* atomic: runs may allocate from several threads */
static long fail_at = -1; /* allocation index from which on all fail */
static size_t size_limit;  /* larger single allocations fail; 0: no limit */
static void *(*hook_malloc)(size_t) = malloc;
static void *(*hook_realloc)(void *, size_t) = realloc;
static void (*hook_free)(void *) = free;

void ir_alloc_set_hooks(void *(*m)(size_t), void *(*r)(void *, size_t), void (*f)(void *))
{
    bool all = m && r && f;
    hook_malloc = all ? m : malloc;
    hook_realloc = all ? r : realloc;
    hook_free = all ? f : free;
}

void ir_alloc_fail_after(long n)
{
    fail_at = n < 0 ? -1 : alloc_count + n;
}

long ir_alloc_count(void)
{
    return alloc_count;
}

void ir_alloc_limit(size_t max_bytes)
{
    size_limit = max_bytes;
}

/* Counts one allocation of size bytes; returns true if it must fail. */
static bool should_fail(size_t size)
{
    long k = atomic_fetch_add(&alloc_count, 1);
    return (fail_at >= 0 && k >= fail_at) || (size_limit && size > size_limit);
}

void *ir_malloc(size_t size)
{
    if (should_fail(size))
        return NULL;
    return hook_malloc(size ? size : 1);
}

void *ir_calloc(size_t count, size_t size)
{
    size_t total;
    bool fits = ir_mul_size(count, size, &total);
    if (should_fail(fits ? total : SIZE_MAX) || !fits)
        return NULL;
    void *p = hook_malloc(total ? total : 1);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *ir_realloc(void *ptr, size_t size)
{
    if (should_fail(size))
        return NULL;
    return hook_realloc(ptr, size ? size : 1);
}

void ir_free(void *ptr)
{
    hook_free(ptr);
}

bool ir_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

bool ir_add_size(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}
