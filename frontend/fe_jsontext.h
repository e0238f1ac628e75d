/*
 * Internal helpers shared by the JSON model reader/writer and the
 * safetensors reader/writer:
 *  - fe_jdoc: a cJSON tree (allocations routed through ir_malloc) that also
 *    remembers where each number literal sits in the text, so integers are
 *    read exactly (cJSON keeps only a double) and syntax errors get a precise
 *    line, column and reason;
 *  - fe_jbuf: a growing text buffer for emitting JSON;
 *  - fe_wfile: writing a file through a temporary name and rename(), so an
 *    error never leaves a half-written file behind.
 */
#ifndef LOOM_FE_JSONTEXT_H
#define LOOM_FE_JSONTEXT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "ir.h"

/* ---- parsing ---- */

typedef struct fe_jdoc {
    cJSON *root;
    char *text;        /* NUL-terminated copy of the input (ir_malloc) */
    size_t len;
    size_t *num_pos;   /* offset of the k-th number literal (ir_malloc) */
    int n_nums;
} fe_jdoc;

/* Where and why parsing failed. */
typedef struct fe_jerr {
    size_t pos;        /* byte offset of the error */
    int line, col;     /* 1-based */
    const char *msg;   /* static text */
} fe_jerr;

/* Parses len bytes of text into doc. Returns LOOM_STATUS_OK, or
 * LOOM_STATUS_INVALID_MODEL with *err filled for a syntax error, or
 * LOOM_STATUS_NOMEM. Never longjmps; on error doc holds nothing. */
loom_status fe_jdoc_parse(fe_jdoc *doc, const char *text, size_t len, fe_jerr *err);
void fe_jdoc_free(fe_jdoc *doc);

typedef enum fe_jnum {
    FE_JNUM_OK,
    FE_JNUM_NOT_NUMBER,  /* not a JSON number */
    FE_JNUM_NOT_INTEGER, /* a fraction or an exponent */
    FE_JNUM_RANGE        /* an integer that does not fit in int64 */
} fe_jnum;

/* Reads an integer literal exactly. */
fe_jnum fe_jdoc_int(const fe_jdoc *doc, const cJSON *item, int64_t *out);
/* Reads any number as float / double, correctly rounded from the text.
 * Returns false (and sets *out to the rounded infinity) when a finite
 * literal overflows the type. */
bool fe_jdoc_float(const fe_jdoc *doc, const cJSON *item, float *out);
bool fe_jdoc_double(const fe_jdoc *doc, const cJSON *item, double *out);
/* Copies the literal text of a number item (truncated to size). */
void fe_jdoc_num_text(const fe_jdoc *doc, const cJSON *item, char *buf, size_t size);

/* "an object", "a string", ... for messages. */
const char *fe_json_type_name(const cJSON *item);
/* Returns the first key that occurs twice in object obj, or NULL. Temporary
 * memory comes from arena a (which longjmps on failure). */
const char *fe_json_dup_key(ir_arena *a, const cJSON *obj);

/* ---- emitting ---- */

typedef struct fe_jbuf {
    char *s;
    size_t len, cap;
    bool oom; /* an append failed; the text is incomplete */
} fe_jbuf;

void fe_jbuf_init(fe_jbuf *b);
void fe_jbuf_free(fe_jbuf *b);
void fe_jbuf_put(fe_jbuf *b, const char *s, size_t n);
void fe_jbuf_puts(fe_jbuf *b, const char *s);
void fe_jbuf_printf(fe_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a quoted JSON string. */
void fe_jbuf_string(fe_jbuf *b, const char *s);
/* Appends a float as the shortest text that reads back to the same value;
 * non-finite values become the strings "inf", "-inf", "nan". */
void fe_jbuf_f32(fe_jbuf *b, float x);
void fe_jbuf_f64(fe_jbuf *b, double x);

/* ---- atomic file writing ---- */

typedef struct fe_wfile {
    const char *path;
    char *tmp;   /* temporary name next to path (ir_malloc) */
    FILE *f;
    int err;     /* first errno seen, 0 if none */
} fe_wfile;

/* Creates path's temporary file. Reports to d and returns LOOM_STATUS_IO or
 * LOOM_STATUS_NOMEM on failure (then w holds nothing). */
loom_status fe_wfile_open(fe_wfile *w, const char *path, ir_diag *d);
void fe_wfile_write(fe_wfile *w, const void *p, size_t n);
/* Flushes and closes the temporary file; on failure reports, removes it and
 * returns LOOM_STATUS_IO. */
loom_status fe_wfile_close(fe_wfile *w, ir_diag *d);
/* Renames the closed temporary file to its final path. */
loom_status fe_wfile_commit(fe_wfile *w, ir_diag *d);
/* Removes the temporary file (if any) and releases w; safe to call twice. */
void fe_wfile_abort(fe_wfile *w);

/* Returns the folder part of path ("" when it has none) in arena a. */
char *fe_path_dir(ir_arena *a, const char *path);
/* Joins dir and a relative file name ("" or absolute file: file alone). */
char *fe_path_join(ir_arena *a, const char *dir, const char *file);

#endif
