/*
 * safetensors reader and writer (see fe_safetensors.h for the layout).
 *
 * Reading maps the file, parses the header with fe_jdoc (exact integers for
 * shapes and offsets), then checks every entry: known dtype, dims >= 0,
 * offsets inside the data section, byte count equal to dtype size times
 * element count, and no two tensors overlapping. Every problem is reported,
 * each naming the file and the tensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_safetensors.h"

/* safetensors dtypes: name, element size, loom dtype (COUNT: unsupported). */
static const struct {
    const char *name;
    size_t size;
    ir_dtype dtype;
} st_dtypes[] = {
    {"F32", 4, IR_DTYPE_F32},        {"F64", 8, IR_DTYPE_F64},
    {"I64", 8, IR_DTYPE_I64},        {"I32", 4, IR_DTYPE_I32},
    {"I8", 1, IR_DTYPE_I8},          {"U8", 1, IR_DTYPE_U8},
    {"BOOL", 1, IR_DTYPE_BOOL},      {"F16", 2, IR_DTYPE_COUNT},
    {"BF16", 2, IR_DTYPE_COUNT},     {"I16", 2, IR_DTYPE_COUNT},
    {"U16", 2, IR_DTYPE_COUNT},      {"U32", 4, IR_DTYPE_COUNT},
    {"U64", 8, IR_DTYPE_COUNT},      {"F8_E4M3", 1, IR_DTYPE_COUNT},
    {"F8_E5M2", 1, IR_DTYPE_COUNT},
};
#define N_ST_DTYPES (sizeof st_dtypes / sizeof st_dtypes[0])

const char *fe_st_dtype_name(ir_dtype t)
{
    for (size_t i = 0; i < N_ST_DTYPES; i++)
        if (st_dtypes[i].dtype == t && t != IR_DTYPE_COUNT)
            return st_dtypes[i].name;
    return "?";
}

const char *fe_st_supported_dtypes(void)
{
    return "F32, F64, I64, I32, I8, U8, BOOL";
}

const fe_st_tensor *fe_st_find(const fe_st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

void fe_st_close(fe_st_file *f)
{
    if (f->map)
        munmap(f->map, f->map_size);
    f->map = NULL;
    f->map_size = 0;
    f->tensors = NULL;
    f->n_tensors = 0;
}

/* ---- reading ---- */

typedef struct st_reader {
    fe_st_file *f;
    const fe_jdoc *doc;
    ir_diag *d;
    uint64_t data_size; /* bytes after the header */
    int errors;
} st_reader;

static void st_err(st_reader *r, const char *tensor, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports "PATH: tensor "NAME": message" (or "PATH: message"). */
static void st_err(st_reader *r, const char *tensor, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (tensor)
        ir_diag_errorf(r->d, "%s: tensor \"%s\": %s", r->f->path, tensor, msg);
    else
        ir_diag_errorf(r->d, "%s: %s", r->f->path, msg);
    r->errors++;
}

/* Parses "shape" into t->shape; reports and returns false on error. */
static bool st_shape(st_reader *r, const cJSON *item, fe_st_tensor *t)
{
    if (!cJSON_IsArray(item)) {
        st_err(r, t->name, "\"shape\" must be an array of integers, got %s",
               fe_json_type_name(item));
        return false;
    }
    int rank = cJSON_GetArraySize(item);
    if (rank > IR_MAX_RANK) {
        st_err(r, t->name, "rank %d exceeds loom's maximum of %d", rank, IR_MAX_RANK);
        return false;
    }
    t->shape.rank = rank;
    int i = 0;
    for (const cJSON *c = item->child; c; c = c->next, i++) {
        int64_t v;
        fe_jnum k = fe_jdoc_int(r->doc, c, &v);
        if (k != FE_JNUM_OK || v < 0) {
            char txt[64];
            fe_jdoc_num_text(r->doc, c, txt, sizeof txt);
            st_err(r, t->name, "shape[%d] %s%s is not a valid dimension", i,
                   k == FE_JNUM_NOT_NUMBER ? "" : "= ",
                   k == FE_JNUM_NOT_NUMBER ? fe_json_type_name(c) : txt);
            return false;
        }
        t->shape.dims[i] = v;
    }
    return true;
}

/* Parses "data_offsets" into t->begin/end and checks them against the data
 * section and the byte count the dtype and shape need. */
static bool st_offsets(st_reader *r, const cJSON *item, fe_st_tensor *t, size_t elem)
{
    int64_t off[2];
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 ||
        fe_jdoc_int(r->doc, item->child, &off[0]) != FE_JNUM_OK ||
        fe_jdoc_int(r->doc, item->child->next, &off[1]) != FE_JNUM_OK) {
        st_err(r, t->name, "\"data_offsets\" must be an array of two integers");
        return false;
    }
    if (off[0] < 0 || off[1] < 0) {
        st_err(r, t->name, "data_offsets [%lld, %lld] point before the data section, into the header",
               (long long)off[0], (long long)off[1]);
        return false;
    }
    if (off[0] > off[1]) {
        st_err(r, t->name, "data_offsets [%lld, %lld] end before they begin", (long long)off[0],
               (long long)off[1]);
        return false;
    }
    if ((uint64_t)off[1] > r->data_size) {
        st_err(r, t->name, "data_offsets [%lld, %lld] are out of range: the data section has %llu bytes",
               (long long)off[0], (long long)off[1], (unsigned long long)r->data_size);
        return false;
    }
    t->begin = (uint64_t)off[0];
    t->end = (uint64_t)off[1];
    ir_shape s = t->shape;
    size_t bytes = 0;
    char sh[160];
    ir_shape_format(&s, sh, sizeof sh);
    bool fits = true;
    for (int i = 0; i < s.rank && fits; i++)
        fits = ir_mul_size(i ? bytes : elem, (size_t)s.dims[i], &bytes);
    if (s.rank == 0)
        bytes = elem;
    if (!fits || bytes != t->end - t->begin) {
        if (fits)
            st_err(r, t->name, "dtype %s and shape %s need %zu bytes, but data_offsets [%llu, %llu] hold %llu",
                   t->dtype_name, sh, bytes, (unsigned long long)t->begin,
                   (unsigned long long)t->end, (unsigned long long)(t->end - t->begin));
        else
            st_err(r, t->name, "shape %s is too large", sh);
        return false;
    }
    return true;
}

/* Checks one tensor entry of the header; returns false on error. */
static bool st_entry(st_reader *r, ir_arena *a, const cJSON *e, fe_st_tensor *t)
{
    t->name = ir_arena_strdup(a, e->string);
    if (!cJSON_IsObject(e)) {
        st_err(r, t->name, "expected an object, got %s", fe_json_type_name(e));
        return false;
    }
    for (const cJSON *c = e->child; c; c = c->next)
        if (strcmp(c->string, "dtype") && strcmp(c->string, "shape") &&
            strcmp(c->string, "data_offsets")) {
            st_err(r, t->name, "unknown field \"%s\"", c->string);
            return false;
        }
    const char *need[3] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++)
        if (!cJSON_GetObjectItemCaseSensitive(e, need[i])) {
            st_err(r, t->name, "missing field \"%s\"", need[i]);
            return false;
        }
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt)) {
        st_err(r, t->name, "\"dtype\" must be a string, got %s", fe_json_type_name(dt));
        return false;
    }
    size_t k = 0;
    while (k < N_ST_DTYPES && strcmp(st_dtypes[k].name, dt->valuestring) != 0)
        k++;
    if (k == N_ST_DTYPES) {
        st_err(r, t->name, "unknown dtype \"%s\"", dt->valuestring);
        return false;
    }
    t->dtype_name = st_dtypes[k].name;
    t->dtype = st_dtypes[k].dtype;
    return st_shape(r, cJSON_GetObjectItemCaseSensitive(e, "shape"), t) &&
           st_offsets(r, cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), t,
                      st_dtypes[k].size);
}

static int cmp_begin(const void *pa, const void *pb)
{
    const fe_st_tensor *a = *(const fe_st_tensor *const *)pa, *b = *(const fe_st_tensor *const *)pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

/* Reports pairs of non-empty tensors whose byte ranges overlap. */
static void st_check_overlap(st_reader *r, ir_arena *a)
{
    fe_st_file *f = r->f;
    fe_st_tensor **by = ir_arena_array(a, (size_t)(f->n_tensors ? f->n_tensors : 1), sizeof *by);
    int n = 0;
    for (int i = 0; i < f->n_tensors; i++)
        if (f->tensors[i].end > f->tensors[i].begin)
            by[n++] = &f->tensors[i];
    qsort(by, (size_t)n, sizeof *by, cmp_begin);
    const fe_st_tensor *last = NULL; /* the one reaching furthest so far */
    for (int i = 0; i < n; i++) {
        if (last && by[i]->begin < last->end)
            st_err(r, NULL, "tensors \"%s\" and \"%s\" overlap (data_offsets [%llu, %llu] and [%llu, %llu])",
                   last->name, by[i]->name, (unsigned long long)last->begin,
                   (unsigned long long)last->end, (unsigned long long)by[i]->begin,
                   (unsigned long long)by[i]->end);
        if (!last || by[i]->end > last->end)
            last = by[i];
    }
}

/* Validates the parsed header and fills f->tensors. */
static void st_header(st_reader *r, ir_arena *a, const cJSON *root, size_t data_start)
{
    fe_st_file *f = r->f;
    if (!cJSON_IsObject(root)) {
        st_err(r, NULL, "header must be a JSON object, got %s", fe_json_type_name(root));
        return;
    }
    const char *dup = fe_json_dup_key(a, root);
    if (dup) {
        st_err(r, NULL, "header lists tensor \"%s\" twice", dup);
        return;
    }
    f->tensors = ir_arena_array(a, (size_t)cJSON_GetArraySize(root) + 1, sizeof *f->tensors);
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            bool ok = cJSON_IsObject(e);
            for (const cJSON *c = ok ? e->child : NULL; c; c = c->next)
                ok = ok && cJSON_IsString(c);
            if (!ok)
                st_err(r, NULL, "\"__metadata__\" must be an object of strings");
            continue;
        }
        fe_st_tensor *t = &f->tensors[f->n_tensors];
        if (st_entry(r, a, e, t)) {
            t->data = (char *)f->map + data_start + t->begin;
            f->n_tensors++;
        }
    }
    if (!r->errors)
        st_check_overlap(r, a);
}

static void open_failed(const char *path, const char *referrer, const char *why, ir_diag *d)
{
    if (referrer)
        ir_diag_errorf(d, "%s: cannot open weights file \"%s\": %s", referrer, path, why);
    else
        ir_diag_errorf(d, "%s: cannot open: %s", path, why);
}

/* Maps path into f; reports and returns an error status on failure. */
static loom_status st_map(const char *path, const char *referrer, fe_st_file *f, ir_diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        open_failed(path, referrer, strerror(errno), d);
        return LOOM_STATUS_IO;
    }
    struct stat sb = {0};
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        open_failed(path, referrer, S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file", d);
        close(fd);
        return LOOM_STATUS_IO;
    }
    if (sb.st_size < 8) {
        close(fd);
        ir_diag_errorf(d, "%s: truncated: the file has %lld bytes, fewer than the 8-byte header length",
                       path, (long long)sb.st_size);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        ir_diag_errorf(d, "%s: file too large to map", path);
        return LOOM_STATUS_IO;
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        ir_diag_errorf(d, "%s: cannot map: %s", path, strerror(e));
        return LOOM_STATUS_IO;
    }
    f->map = map;
    f->map_size = (size_t)sb.st_size;
    return LOOM_STATUS_OK;
}

/* Reads the header length and parses the header text into doc. */
static loom_status st_parse_header(fe_st_file *f, fe_jdoc *doc, size_t *data_start, ir_diag *d)
{
    const unsigned char *p = f->map;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | p[i];
    if (n == 0) {
        ir_diag_errorf(d, "%s: the header is empty (header length 0)", f->path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (n > f->map_size - 8) {
        ir_diag_errorf(d, "%s: truncated: the header length is %llu bytes, but only %zu bytes follow",
                       f->path, (unsigned long long)n, f->map_size - 8);
        return LOOM_STATUS_INVALID_MODEL;
    }
    fe_jerr err;
    loom_status st = fe_jdoc_parse(doc, (const char *)p + 8, (size_t)n, &err);
    if (st == LOOM_STATUS_NOMEM)
        ir_diag_errorf(d, "%s: out of memory", f->path);
    else if (st)
        ir_diag_errorf(d, "%s: the header is not valid JSON: %s (header line %d, column %d)",
                       f->path, err.msg, err.line, err.col);
    *data_start = 8 + (size_t)n;
    return st;
}

loom_status fe_st_open(const char *path, const char *referrer, ir_arena *a, fe_st_file *f,
                       ir_diag *d)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    loom_status st = st_map(path, referrer, f, d);
    if (st)
        return st;
    fe_jdoc doc;
    size_t data_start = 0;
    st = st_parse_header(f, &doc, &data_start, d);
    if (st) {
        fe_st_close(f);
        return st;
    }
    st_reader r = {f, &doc, d, f->map_size - data_start, 0};
    jmp_buf jb;
    jmp_buf *old = ir_arena_set_oom(a, &jb);
    if (setjmp(jb) == 0) {
        f->path = ir_arena_strdup(a, path);
        st_header(&r, a, doc.root, data_start);
        st = r.errors ? LOOM_STATUS_INVALID_MODEL : LOOM_STATUS_OK;
    } else {
        ir_diag_errorf(d, "%s: out of memory", path);
        st = LOOM_STATUS_NOMEM;
    }
    ir_arena_set_oom(a, old);
    fe_jdoc_free(&doc);
    if (st)
        fe_st_close(f);
    return st;
}

/* ---- writing ---- */

typedef struct st_order {
    int index;
    size_t size;
} st_order;

static int cmp_order(const void *pa, const void *pb)
{
    const st_order *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Builds the header for tensors in the given order; false if a tensor is
 * unwritable (reported). */
static bool st_build_header(fe_jbuf *b, const char *path, const fe_st_entry *t,
                            const st_order *ord, int n, ir_diag *d)
{
    uint64_t off = 0;
    fe_jbuf_puts(b, "{");
    for (int k = 0; k < n; k++) {
        const fe_st_entry *e = &t[ord[k].index];
        size_t bytes;
        if ((unsigned)e->dtype >= IR_DTYPE_COUNT || !ir_shape_bytes(&e->shape, e->dtype, &bytes) ||
            strcmp(e->name, "__metadata__") == 0 || (bytes && !e->data)) {
            ir_diag_errorf(d, "%s: tensor \"%s\" cannot be written (bad name, dtype, shape or data)",
                           path, e->name);
            return false;
        }
        fe_jbuf_puts(b, k ? "," : "");
        fe_jbuf_string(b, e->name);
        fe_jbuf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", fe_st_dtype_name(e->dtype));
        for (int i = 0; i < e->shape.rank; i++)
            fe_jbuf_printf(b, i ? ",%lld" : "%lld", (long long)e->shape.dims[i]);
        fe_jbuf_printf(b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                       (unsigned long long)(off + bytes));
        off += bytes;
    }
    fe_jbuf_puts(b, "}");
    while ((8 + b->len) % 8)
        fe_jbuf_puts(b, " ");
    return true;
}

loom_status fe_st_write_tmp(const char *path, const fe_st_entry *t, int n, fe_wfile *w,
                            ir_diag *d)
{
    memset(w, 0, sizeof *w);
    st_order *ord = ir_malloc((size_t)(n > 0 ? n : 1) * sizeof *ord);
    if (!ord) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    for (int i = 0; i < n; i++)
        ord[i] = (st_order){i, ir_dtype_size(t[i].dtype)};
    qsort(ord, (size_t)n, sizeof *ord, cmp_order);
    fe_jbuf b;
    fe_jbuf_init(&b);
    loom_status st = LOOM_STATUS_OK;
    if (!st_build_header(&b, path, t, ord, n, d))
        st = LOOM_STATUS_INVALID_ARG;
    else if (b.oom) {
        ir_diag_errorf(d, "%s: out of memory", path);
        st = LOOM_STATUS_NOMEM;
    } else
        st = fe_wfile_open(w, path, d);
    if (st == LOOM_STATUS_OK) {
        unsigned char len8[8];
        for (int i = 0; i < 8; i++)
            len8[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
        fe_wfile_write(w, len8, 8);
        fe_wfile_write(w, b.s, b.len);
        for (int k = 0; k < n; k++) {
            const fe_st_entry *e = &t[ord[k].index];
            size_t bytes = 0;
            ir_shape_bytes(&e->shape, e->dtype, &bytes);
            fe_wfile_write(w, e->data, bytes);
        }
        st = fe_wfile_close(w, d);
    }
    fe_jbuf_free(&b);
    ir_free(ord);
    return st;
}

loom_status fe_st_write(const char *path, const fe_st_entry *t, int n, ir_diag *d)
{
    fe_wfile w;
    loom_status st = fe_st_write_tmp(path, t, n, &w, d);
    if (st == LOOM_STATUS_OK)
        st = fe_wfile_commit(&w, d);
    fe_wfile_abort(&w);
    return st;
}
