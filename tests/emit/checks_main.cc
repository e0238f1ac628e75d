/* Driver of emit_header_*: the emitted checks.h used from C++ (its
 * extern "C" guard links the C object) and the data-error contract of
 * NAME_run and NAME_last_error: a good run returns CHECKS_OK, an index out
 * of range CHECKS_ERROR_INDEX in node "rows" (Gather), a zero divisor
 * CHECKS_ERROR_DIV_ZERO in node "q" (Div), a NULL workspace
 * CHECKS_ERROR_WORKSPACE; the error stays in its own workspace, so two
 * instances do not disturb each other. Exits 0 when all hold. */
#include <stdio.h>
#include <string.h>

#include "checks.h"

static int fails = 0;

static void expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "checks_main: %s\n", what);
        fails++;
    }
}

static bool names(const void *ws, const char *node, const char *op)
{
    const char *n = 0, *o = 0;
    checks_last_error(ws, &n, &o);
    if (!node)
        return !n && !o;
    return n && o && strcmp(n, node) == 0 && strcmp(o, op) == 0;
}

int main()
{
    alignas(64) static unsigned char ws1[CHECKS_WORKSPACE_BYTES], ws2[CHECKS_WORKSPACE_BYTES];
    float table[CHECKS_INPUT0_SIZE], rows[CHECKS_OUTPUT0_SIZE];
    for (int i = 0; i < CHECKS_INPUT0_SIZE; i++)
        table[i] = (float)i;
    const int64_t good_ids[5] = {0, 3, -1, 2, -4}, bad_ids[5] = {0, 1, 4, 2, 1};
    int64_t num = 7, den = 2, zero = 0, q = 0;
    static const int64_t shape0[] = CHECKS_OUTPUT0_SHAPE;
    expect(CHECKS_OUTPUT1_RANK == 0 && shape0[1] == 3, "shape macros");

    expect(checks_run(table, good_ids, &num, &den, rows, &q, ws1) == CHECKS_OK, "good run");
    expect(q == 3 && rows[3] == 9 && rows[6] == 9 && rows[12] == 0, "good values");
    expect(checks_last_error(ws1, 0, 0) == CHECKS_OK && names(ws1, 0, 0), "no error after a good run");

    expect(checks_run(table, bad_ids, &num, &den, rows, &q, ws1) == CHECKS_ERROR_INDEX, "bad index");
    expect(checks_last_error(ws1, 0, 0) == CHECKS_ERROR_INDEX, "last_error: index");
    expect(names(ws1, "rows", "Gather"), "index error names node rows (Gather)");

    expect(checks_run(table, good_ids, &num, &zero, rows, &q, ws2) == CHECKS_ERROR_DIV_ZERO, "x / 0");
    expect(names(ws2, "q", "Div"), "division error names node q (Div)");
    expect(checks_last_error(ws1, 0, 0) == CHECKS_ERROR_INDEX, "the other instance keeps its error");

    expect(checks_run(table, good_ids, &num, &den, rows, &q, ws2) == CHECKS_OK, "good run again");
    expect(checks_last_error(ws2, 0, 0) == CHECKS_OK, "a good run clears the error");
    expect(checks_run(table, good_ids, &num, &den, rows, &q, 0) == CHECKS_ERROR_WORKSPACE, "NULL workspace");
    if (!fails)
        printf("checks_main: all data-error checks hold\n");
    return fails ? 1 : 0;
}
