/*
 * loom's text IR (.lir): a printer and a parser for the graph IR. The
 * grammar with examples is in docs/ir.md. In short:
 *
 *     graph @tiny(%x: f32[1,4]) {
 *       %w: f32[4] = const [0.5, -1.0, 2.0, 0.0]
 *       %s: f32[1,4] = Add(%x, %w)
 *       %y: f32[1,4] = LeakyRelu(%s) {alpha = 0.1} @act
 *       return %y
 *     }
 *
 * Guarantees: print(parse(x)) == x byte for byte for any text x the printer
 * produced from a graph with known shapes (every graph ir_parse returns), and
 * printing is deterministic. Comments (// to end of line) are accepted and
 * never echoed.
 */
#ifndef LOOM_IR_TEXT_H
#define LOOM_IR_TEXT_H

#include <stdio.h>

#include "ir.h"

/* Constants with at most this many elements print inline as numbers; larger
 * ones print as exact hex bytes (or <elided>, see ir_print_opts). */
#define IR_PRINT_INLINE_MAX 16

typedef struct ir_print_opts {
    /* Large constants print as <elided>. Parsing <elided> yields a
     * zero-filled constant of the declared type. */
    bool elide_constants;
    /* With elide_constants: an elided constant's line ends in a comment
     * with its smallest and largest value (`// range [MIN, MAX]`). */
    bool constant_ranges;
} ir_print_opts;

/* Prints g to out. opts may be NULL (defaults). Returns LOOM_STATUS_IO if
 * writing failed. */
loom_status ir_print(const ir_graph *g, const ir_print_opts *opts, FILE *out);
/* Prints g into a NUL-terminated string from ir_malloc (release with
 * ir_free); *len, when len is not NULL, receives its length. NULL when memory
 * ran out. */
char *ir_print_string(const ir_graph *g, const ir_print_opts *opts, size_t *len);

/* Parses one graph from text[0..len) (need not be NUL-terminated). filename
 * names the source in diagnostics (file:line:col: error: ...) and becomes
 * the graph's source. The result is shape-inferred and verified; on error
 * *out is NULL, every problem found is in d and nothing is leaked. */
loom_status ir_parse(const char *text, size_t len, const char *filename, ir_graph **out,
                     ir_diag *d);
/* Same, for a piece of a larger file that starts at line first_line (1 for
 * the whole file): diagnostics carry line numbers of the whole file. */
loom_status ir_parse_at_line(const char *text, size_t len, const char *filename, int first_line,
                             ir_graph **out, ir_diag *d);
/* Reads and parses the file at path. */
loom_status ir_parse_file(const char *path, ir_graph **out, ir_diag *d);

#endif
