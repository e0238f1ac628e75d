/*
 * JSON text helpers for the frontends (see fe_jsontext.h).
 *
 * cJSON parses; afterwards a scan of the text records the offset of every
 * number literal, in document order, and the k-th number item of the tree
 * (pre-order is document order) gets k stored in its otherwise unused
 * valueint. Integers are then read from the literal text exactly. When cJSON
 * rejects a text, a small validating scanner finds the first error with its
 * reason, because cJSON's own error position is approximate.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_jsontext.h"

/* ---- cJSON allocation hooks ---- */

static _Thread_local bool cjson_oom;

static void *cjson_malloc(size_t n)
{
    void *p = ir_malloc(n);
    if (!p)
        cjson_oom = true;
    return p;
}

static void cjson_install_hooks(void)
{
    cJSON_Hooks h = {cjson_malloc, ir_free};
    cJSON_InitHooks(&h);
}

/* ---- syntax checker (runs only when cJSON failed) ---- */

typedef struct scan {
    const char *s;
    size_t len, pos;
} scan;

static void skip_ws(scan *sc)
{
    while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
                                 sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r'))
        sc->pos++;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans a string starting at its opening quote; returns an error or NULL. */
static const char *scan_string(scan *sc)
{
    size_t start = sc->pos++;
    while (sc->pos < sc->len) {
        char c = sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return NULL;
        }
        if (c == '\\') {
            char e = sc->pos + 1 < sc->len ? sc->s[sc->pos + 1] : '\0';
            if (e == 'u') {
                for (int k = 2; k < 6; k++)
                    if (sc->pos + (size_t)k >= sc->len || !is_hex(sc->s[sc->pos + (size_t)k]))
                        return "invalid \\u escape in string";
                sc->pos += 6;
                continue;
            }
            if (!e || !strchr("\"\\/bfnrt", e))
                return "invalid escape in string";
            sc->pos += 2;
            continue;
        }
        sc->pos++;
    }
    sc->pos = start;
    return "unterminated string";
}

/* Scans a number (cJSON also accepts leading zeros); returns an error. */
static const char *scan_number(scan *sc)
{
    if (sc->s[sc->pos] == '-')
        sc->pos++;
    if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
        return "invalid number";
    while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
        sc->pos++;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        sc->pos++;
        if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
            return "invalid number";
        while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            sc->pos++;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
            sc->pos++;
        if (sc->pos >= sc->len || !is_digit(sc->s[sc->pos]))
            return "invalid number";
        while (sc->pos < sc->len && is_digit(sc->s[sc->pos]))
            sc->pos++;
    }
    return NULL;
}

/* Scans a scalar value at sc->pos; returns an error or NULL. */
static const char *scan_scalar(scan *sc)
{
    char c = sc->s[sc->pos];
    if (c == '"')
        return scan_string(sc);
    if (c == '-' || is_digit(c))
        return scan_number(sc);
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, words[i], n) == 0) {
            sc->pos += n;
            return NULL;
        }
    }
    return "expected a value";
}

#define MAX_DEPTH 1000 /* cJSON's CJSON_NESTING_LIMIT */

typedef struct checker {
    scan sc;
    char stack[MAX_DEPTH]; /* open '{' and '[' */
    int depth;
    enum { EXPECT_VALUE, EXPECT_KEY, AFTER_VALUE, DONE } state;
} checker;

/* At a value: opens a container or scans a scalar. */
static const char *check_value(checker *k)
{
    scan *sc = &k->sc;
    if (sc->pos >= sc->len)
        return "unexpected end of input, expected a value";
    char c = sc->s[sc->pos];
    if (c != '{' && c != '[') {
        k->state = AFTER_VALUE;
        return scan_scalar(sc);
    }
    if (k->depth == MAX_DEPTH)
        return "nesting too deep";
    k->stack[k->depth++] = c;
    sc->pos++;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == (c == '{' ? '}' : ']')) {
        k->depth--;
        sc->pos++;
        k->state = AFTER_VALUE;
    } else
        k->state = c == '{' ? EXPECT_KEY : EXPECT_VALUE;
    return NULL;
}

/* At an object key: scans "key" and the colon. */
static const char *check_key(checker *k)
{
    scan *sc = &k->sc;
    if (sc->pos >= sc->len)
        return "unexpected end of input, expected a string key";
    if (sc->s[sc->pos] != '"')
        return sc->s[sc->pos] == '}' ? "trailing comma before '}'" : "expected a string key";
    const char *e = scan_string(sc);
    if (e)
        return e;
    skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
        return "expected ':' after the key";
    sc->pos++;
    k->state = EXPECT_VALUE;
    return NULL;
}

/* After a value: a comma, the closing bracket, or the end of the text. */
static const char *check_after(checker *k)
{
    scan *sc = &k->sc;
    bool end = sc->pos >= sc->len;
    if (k->depth == 0) {
        k->state = DONE;
        return end ? NULL : "unexpected text after the end of the document";
    }
    bool obj = k->stack[k->depth - 1] == '{';
    if (end)
        return obj ? "unexpected end of input, expected ',' or '}'"
                   : "unexpected end of input, expected ',' or ']'";
    char c = sc->s[sc->pos];
    if (c == (obj ? '}' : ']')) {
        k->depth--;
        sc->pos++;
        return NULL;
    }
    if (c != ',')
        return obj ? "expected ',' or '}'" : "expected ',' or ']'";
    sc->pos++;
    skip_ws(sc);
    if (!obj && sc->pos < sc->len && sc->s[sc->pos] == ']')
        return "trailing comma before ']'";
    k->state = obj ? EXPECT_KEY : EXPECT_VALUE;
    return NULL;
}

/* Finds the first syntax error; returns its reason (and *pos) or NULL. */
static const char *syntax_error(const char *s, size_t len, size_t *pos)
{
    checker k = {.sc = {s, len, 0}, .depth = 0, .state = EXPECT_VALUE};
    const char *e = NULL;
    while (!e && k.state != DONE) {
        skip_ws(&k.sc);
        e = k.state == EXPECT_VALUE ? check_value(&k)
          : k.state == EXPECT_KEY ? check_key(&k) : check_after(&k);
    }
    *pos = k.sc.pos;
    return e;
}

/* ---- parse ---- */

static void set_err(fe_jerr *err, const char *text, size_t pos, const char *msg)
{
    err->pos = pos;
    err->msg = msg;
    err->line = 1;
    err->col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            err->line++;
            err->col = 1;
        } else
            err->col++;
    }
}

/* Records the offset of every number literal outside strings. */
static int scan_numbers(const char *s, size_t len, size_t *out)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '-' || is_digit(c)) {
            if (out)
                out[n] = i;
            n++;
            while (i < len && (is_digit(s[i]) || strchr("+-.eE", s[i])))
                i++;
        } else
            i++;
    }
    return n;
}

/* Numbers the number items in document order through valueint. */
static void number_items(cJSON *item, int *k)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item))
            item->valueint = (*k)++;
        number_items(item->child, k);
    }
}

loom_status fe_jdoc_parse(fe_jdoc *doc, const char *text, size_t len, fe_jerr *err)
{
    memset(doc, 0, sizeof *doc);
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        set_err(err, text, (size_t)(nul - text), "NUL byte in the text");
        return LOOM_STATUS_INVALID_MODEL;
    }
    doc->text = ir_malloc(len + 1);
    if (!doc->text)
        return LOOM_STATUS_NOMEM;
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    doc->len = len;
    cjson_install_hooks();
    cjson_oom = false;
    const char *end = NULL;
    doc->root = cJSON_ParseWithLengthOpts(doc->text, len + 1, &end, 1);
    if (!doc->root) {
        bool oom = cjson_oom;
        size_t pos = end && end >= doc->text ? (size_t)(end - doc->text) : 0;
        const char *msg = oom ? NULL : syntax_error(doc->text, len, &pos);
        if (!oom)
            set_err(err, doc->text, pos > len ? len : pos, msg ? msg : "invalid JSON");
        fe_jdoc_free(doc);
        return oom ? LOOM_STATUS_NOMEM : LOOM_STATUS_INVALID_MODEL;
    }
    int n = scan_numbers(doc->text, len, NULL);
    doc->num_pos = ir_malloc((size_t)(n ? n : 1) * sizeof *doc->num_pos);
    if (!doc->num_pos) {
        fe_jdoc_free(doc);
        return LOOM_STATUS_NOMEM;
    }
    doc->n_nums = scan_numbers(doc->text, len, doc->num_pos);
    int k = 0;
    number_items(doc->root, &k);
    if (k != n) { /* cannot happen for a text cJSON accepted; be safe */
        set_err(err, doc->text, 0, "number literals could not be located");
        fe_jdoc_free(doc);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

void fe_jdoc_free(fe_jdoc *doc)
{
    if (doc->root) {
        cjson_install_hooks();
        cJSON_Delete(doc->root);
    }
    ir_free(doc->num_pos);
    ir_free(doc->text);
    memset(doc, 0, sizeof *doc);
}

/* The literal text of a number item, or NULL. */
static const char *num_text(const fe_jdoc *doc, const cJSON *item)
{
    if (!cJSON_IsNumber(item) || item->valueint < 0 || item->valueint >= doc->n_nums)
        return NULL;
    return doc->text + doc->num_pos[item->valueint];
}

fe_jnum fe_jdoc_int(const fe_jdoc *doc, const cJSON *item, int64_t *out)
{
    const char *p = num_text(doc, item);
    if (!p)
        return FE_JNUM_NOT_NUMBER;
    bool neg = *p == '-';
    if (neg)
        p++;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool range = false;
    for (; is_digit(*p); p++) {
        uint64_t dgt = (uint64_t)(*p - '0');
        if (v > (limit - dgt) / 10)
            range = true;
        else
            v = v * 10 + dgt;
    }
    if (*p == '.' || *p == 'e' || *p == 'E')
        return FE_JNUM_NOT_INTEGER;
    if (range)
        return FE_JNUM_RANGE;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return FE_JNUM_OK;
}

bool fe_jdoc_float(const fe_jdoc *doc, const cJSON *item, float *out)
{
    const char *p = num_text(doc, item);
    if (!p)
        return false;
    *out = strtof(p, NULL);
    return !isinf(*out);
}

bool fe_jdoc_double(const fe_jdoc *doc, const cJSON *item, double *out)
{
    const char *p = num_text(doc, item);
    if (!p)
        return false;
    *out = strtod(p, NULL);
    return !isinf(*out);
}

void fe_jdoc_num_text(const fe_jdoc *doc, const cJSON *item, char *buf, size_t size)
{
    const char *p = num_text(doc, item);
    size_t n = 0;
    if (p)
        while (n + 1 < size && (is_digit(p[n]) || (p[n] && strchr("+-.eE", p[n]))))
            n++;
    if (size) {
        memcpy(buf, p ? p : "", n);
        buf[n] = '\0';
    }
}

const char *fe_json_type_name(const cJSON *item)
{
    if (!item)
        return "nothing";
    if (cJSON_IsObject(item))
        return "an object";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    return "an invalid value";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *fe_json_dup_key(ir_arena *a, const cJSON *obj)
{
    int n = cJSON_GetArraySize(obj);
    if (n < 2)
        return NULL;
    const char **keys = ir_arena_array(a, (size_t)n, sizeof *keys);
    int k = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        keys[k++] = c->string ? c->string : "";
    qsort(keys, (size_t)k, sizeof *keys, cmp_str);
    for (int i = 1; i < k; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            return keys[i];
    return NULL;
}

/* ---- emitting ---- */

void fe_jbuf_init(fe_jbuf *b)
{
    memset(b, 0, sizeof *b);
}

void fe_jbuf_free(fe_jbuf *b)
{
    ir_free(b->s);
    fe_jbuf_init(b);
}

void fe_jbuf_put(fe_jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *t = ir_realloc(b->s, cap);
        if (!t) {
            b->oom = true;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void fe_jbuf_puts(fe_jbuf *b, const char *s)
{
    fe_jbuf_put(b, s, strlen(s));
}

void fe_jbuf_printf(fe_jbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        fe_jbuf_put(b, small, (size_t)n);
        return;
    }
    char *big = ir_malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fe_jbuf_put(b, big, (size_t)n);
    ir_free(big);
}

void fe_jbuf_string(fe_jbuf *b, const char *s)
{
    fe_jbuf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f" : NULL;
        if (esc)
            fe_jbuf_puts(b, esc);
        else if (c < 0x20)
            fe_jbuf_printf(b, "\\u%04x", c);
        else
            fe_jbuf_put(b, (const char *)&c, 1);
    }
    fe_jbuf_put(b, "\"", 1);
}

/* Writes a non-finite value as a string; returns false for finite x. */
static bool put_nonfinite(fe_jbuf *b, double x)
{
    if (isnan(x))
        fe_jbuf_puts(b, "\"nan\"");
    else if (isinf(x))
        fe_jbuf_puts(b, x > 0 ? "\"inf\"" : "\"-inf\"");
    else
        return false;
    return true;
}

void fe_jbuf_f32(fe_jbuf *b, float x)
{
    if (put_nonfinite(b, x))
        return;
    char buf[64];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x)
            break;
    }
    fe_jbuf_puts(b, buf);
}

void fe_jbuf_f64(fe_jbuf *b, double x)
{
    if (put_nonfinite(b, x))
        return;
    char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fe_jbuf_puts(b, buf);
}

/* ---- atomic file writing ---- */

loom_status fe_wfile_open(fe_wfile *w, const char *path, ir_diag *d)
{
    static unsigned counter;
    memset(w, 0, sizeof *w);
    w->path = path;
    size_t n = strlen(path) + 64;
    w->tmp = ir_malloc(n);
    if (!w->tmp) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(w->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)); /* threads write too */
        fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd >= 0)
        w->f = fdopen(fd, "wb");
    if (!w->f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        ir_diag_errorf(d, "%s: cannot create: %s", path, strerror(e));
        ir_free(w->tmp);
        w->tmp = NULL;
        return LOOM_STATUS_IO;
    }
    return LOOM_STATUS_OK;
}

void fe_wfile_write(fe_wfile *w, const void *p, size_t n)
{
    if (w->err || !w->f || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->err = errno ? errno : EIO;
}

loom_status fe_wfile_close(fe_wfile *w, ir_diag *d)
{
    if (!w->f)
        return LOOM_STATUS_IO;
    if (fflush(w->f) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    if (fclose(w->f) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    w->f = NULL;
    if (w->err) {
        ir_diag_errorf(d, "%s: write failed: %s", w->path, strerror(w->err));
        fe_wfile_abort(w);
        return LOOM_STATUS_IO;
    }
    return LOOM_STATUS_OK;
}

loom_status fe_wfile_commit(fe_wfile *w, ir_diag *d)
{
    if (!w->tmp)
        return LOOM_STATUS_IO;
    if (rename(w->tmp, w->path) != 0) {
        ir_diag_errorf(d, "%s: cannot rename the temporary file into place: %s", w->path,
                       strerror(errno));
        fe_wfile_abort(w);
        return LOOM_STATUS_IO;
    }
    ir_free(w->tmp);
    w->tmp = NULL;
    return LOOM_STATUS_OK;
}

void fe_wfile_abort(fe_wfile *w)
{
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    if (w->tmp) {
        unlink(w->tmp);
        ir_free(w->tmp);
        w->tmp = NULL;
    }
}

/* ---- paths ---- */

char *fe_path_dir(ir_arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ir_arena_strdup(a, "");
    if (slash == path)
        return ir_arena_strdup(a, "/");
    return ir_arena_strndup(a, path, (size_t)(slash - path));
}

char *fe_path_join(ir_arena *a, const char *dir, const char *file)
{
    if (!dir || !dir[0] || file[0] == '/')
        return ir_arena_strdup(a, file);
    size_t n = strlen(dir);
    return ir_arena_printf(a, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", file);
}
