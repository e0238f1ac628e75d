/*
 * Leak checks for Criterion tests, included by every Criterion test file
 * (through testlib.h or directly).
 *
 * In an AddressSanitizer build, a leak fails the test binary wherever it
 * runs (ctest or by hand, no options needed): the worker process of each
 * test runs its exit handlers (Criterion's no_early_exit, set before the
 * first test), LeakSanitizer checks at that exit and, with abort_on_error
 * (the binary's default ASan options), aborts on a leak; Criterion reports
 * "crashed during its setup or teardown" for that test and the binary
 * exits with status 1. Without this a leak report comes after Criterion
 * has recorded the result and changes nothing.
 *
 * assert_no_leaks() checks at that point of a test and names the test in
 * its failure. Outside sanitizer builds both do nothing.
 */
#ifndef LOOM_LEAK_CHECK_H
#define LOOM_LEAK_CHECK_H

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#include <criterion/hooks.h>
#include <criterion/options.h>
#include <sanitizer/lsan_interface.h>

/* Read by ASan at start-up; ASAN_OPTIONS from the environment still win. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=1:abort_on_error=1";
}

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    (void)tests;
    criterion_options.no_early_exit = true; /* workers exit through LSan's check */
}

#define assert_no_leaks() \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (LeakSanitizer report above)")
#else
#define assert_no_leaks() ((void)0)
#endif

#endif
