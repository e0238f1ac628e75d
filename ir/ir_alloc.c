/*
 * The one allocation hook. Every heap allocation in loom goes through
 * ir_malloc/ir_calloc/ir_realloc so that tests can make the Nth allocation
 * fail (as Lua's ltests.c does) and check that nothing crashes or leaks.
 */
#include <stdlib.h>

#include "ir.h"

static long alloc_count;
static long fail_at = -1; /* allocation index from which on all fail */
static size_t size_limit;  /* larger single allocations fail; 0: no limit */

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
    long k = alloc_count++;
    return (fail_at >= 0 && k >= fail_at) || (size_limit && size > size_limit);
}

void *ir_malloc(size_t size)
{
    if (should_fail(size))
        return NULL;
    return malloc(size ? size : 1);
}

void *ir_calloc(size_t count, size_t size)
{
    size_t total;
    if (should_fail(ir_mul_size(count, size, &total) ? total : SIZE_MAX))
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *ir_realloc(void *ptr, size_t size)
{
    if (should_fail(size))
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void ir_free(void *ptr)
{
    free(ptr);
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
