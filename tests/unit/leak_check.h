/*
 * assert_no_leaks(): in an AddressSanitizer build, fails the current
 * Criterion test when memory allocated so far is no longer reachable.
 * LeakSanitizer's own report at process exit comes after Criterion has
 * recorded the result, so without this a leak would print but not fail.
 * Outside sanitizer builds it does nothing.
 */
#ifndef LOOM_LEAK_CHECK_H
#define LOOM_LEAK_CHECK_H

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define assert_no_leaks() \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (LeakSanitizer report above)")
#else
#define assert_no_leaks() ((void)0)
#endif

#endif
