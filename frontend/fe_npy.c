/*
 * .npy arrays (numpy's NEP 1 format, versions 1.0, 2.0 and 3.0): the magic
 * "\x93NUMPY", a version byte pair, a little-endian header length (2 bytes in
 * 1.0, 4 bytes after), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a newline, then the raw C-order data.
 *
 * Only little-endian numeric dtypes that map onto loom's (<f4 <f8 <i8 <i4 |i1
 * |u1 |b1 <f2, and <V2 for bf16) and C order are read. Sizes are checked against the file size
 * before anything is allocated; every failure names the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fe.h"
#include "fe_jsontext.h"

static const struct {
    const char *descr;
    ir_dtype dtype;
} npy_dtypes[] = {
    {"<f4", IR_DTYPE_F32}, {"<f8", IR_DTYPE_F64}, {"<i8", IR_DTYPE_I64}, {"<i4", IR_DTYPE_I32},
    {"|i1", IR_DTYPE_I8},  {"|u1", IR_DTYPE_U8},  {"|b1", IR_DTYPE_BOOL}, {"<f2", IR_DTYPE_F16},
    /* bf16: numpy has none; ml_dtypes.bfloat16 arrays save as 2-byte void
     * ('<V2', written so), read back with .view(ml_dtypes.bfloat16) */
    {"|V2", IR_DTYPE_BF16}, {"<V2", IR_DTYPE_BF16},
};
#define N_NPY_DTYPES (sizeof npy_dtypes / sizeof npy_dtypes[0])

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

void fe_npy_free(fe_npy *a)
{
    if (!a)
        return;
    ir_free(a->data);
    a->data = NULL;
    a->shape.rank = 0;
}

/* ---- header dict parsing ---- */

typedef struct hdr {
    const char *s;
    size_t len, pos;
    const char *path;
    ir_diag *d;
} hdr;

static void hdr_ws(hdr *h)
{
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t' ||
                               h->s[h->pos] == '\n' || h->s[h->pos] == '\r'))
        h->pos++;
}

static bool hdr_eat(hdr *h, char c)
{
    hdr_ws(h);
    if (h->pos < h->len && h->s[h->pos] == c) {
        h->pos++;
        return true;
    }
    return false;
}

/* Reads a quoted Python string (no escapes needed for npy keys and descrs)
 * into buf; false if there is none. */
static bool hdr_string(hdr *h, char *buf, size_t size)
{
    hdr_ws(h);
    if (h->pos >= h->len || (h->s[h->pos] != '\'' && h->s[h->pos] != '"'))
        return false;
    char q = h->s[h->pos++];
    size_t n = 0;
    while (h->pos < h->len && h->s[h->pos] != q) {
        if (n + 1 < size)
            buf[n++] = h->s[h->pos];
        h->pos++;
    }
    buf[n] = '\0';
    if (h->pos >= h->len)
        return false;
    h->pos++;
    return true;
}

/* Reads a shape tuple "()", "(3,)", "(2, 3)" (Python 2 "3L" accepted). */
static loom_status hdr_shape(hdr *h, ir_shape *s)
{
    if (!hdr_eat(h, '('))
        goto bad;
    s->rank = 0;
    while (!hdr_eat(h, ')')) {
        hdr_ws(h);
        if (h->pos >= h->len || h->s[h->pos] < '0' || h->s[h->pos] > '9')
            goto bad;
        int64_t v = 0;
        while (h->pos < h->len && h->s[h->pos] >= '0' && h->s[h->pos] <= '9') {
            int dgt = h->s[h->pos++] - '0';
            if (v > (INT64_MAX - dgt) / 10) {
                ir_diag_errorf(h->d, "%s: shape dimension does not fit in int64", h->path);
                return LOOM_STATUS_INVALID_MODEL;
            }
            v = v * 10 + dgt;
        }
        if (h->pos < h->len && h->s[h->pos] == 'L')
            h->pos++;
        if (s->rank == IR_MAX_RANK) {
            ir_diag_errorf(h->d, "%s: rank exceeds loom's maximum of %d", h->path, IR_MAX_RANK);
            return LOOM_STATUS_UNSUPPORTED;
        }
        s->dims[s->rank++] = v;
        if (!hdr_eat(h, ',')) {
            if (!hdr_eat(h, ')'))
                goto bad;
            break;
        }
    }
    return LOOM_STATUS_OK;
bad:
    ir_diag_errorf(h->d, "%s: header: 'shape' must be a tuple of integers", h->path);
    return LOOM_STATUS_INVALID_MODEL;
}

/* Maps a descr string onto a loom dtype, reporting unsupported ones. */
static loom_status npy_descr(hdr *h, const char *descr, ir_dtype *t)
{
    for (size_t i = 0; i < N_NPY_DTYPES; i++)
        if (strcmp(npy_dtypes[i].descr, descr) == 0) {
            *t = npy_dtypes[i].dtype;
            return LOOM_STATUS_OK;
        }
    if (descr[0] == '>')
        ir_diag_errorf(h->d, "%s: big-endian dtype '%s' is not supported (save it little-endian)",
                       h->path, descr);
    else
        ir_diag_errorf(h->d, "%s: dtype '%s' is not supported (loom reads <f4, <f8, <i8, <i4, "
                       "|i1, |u1, |b1, <f2, and <V2 as bf16)", h->path, descr);
    return LOOM_STATUS_UNSUPPORTED;
}

/* Reads 'fortran_order': False (True is reported as unsupported). */
static loom_status npy_fortran(hdr *h)
{
    hdr_ws(h);
    if (h->len - h->pos >= 4 && memcmp(h->s + h->pos, "True", 4) == 0) {
        ir_diag_errorf(h->d, "%s: Fortran-order arrays are not supported (save a C-order "
                       "array, e.g. numpy.ascontiguousarray)", h->path);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (h->len - h->pos < 5 || memcmp(h->s + h->pos, "False", 5) != 0) {
        ir_diag_errorf(h->d, "%s: header: 'fortran_order' must be True or False", h->path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    h->pos += 5;
    return LOOM_STATUS_OK;
}

/* Reads the value of key k (0 descr, 1 fortran_order, 2 shape). */
static loom_status npy_value(hdr *h, int k, ir_dtype *t, ir_shape *shape)
{
    if (k == 1)
        return npy_fortran(h);
    if (k == 2)
        return hdr_shape(h, shape);
    char val[64];
    if (!hdr_string(h, val, sizeof val)) {
        ir_diag_errorf(h->d, "%s: header: 'descr' is not a simple dtype string "
                       "(structured dtypes are not supported)", h->path);
        return LOOM_STATUS_UNSUPPORTED;
    }
    return npy_descr(h, val, t);
}

/* Parses the header dict into dtype and shape: exactly the keys descr,
 * fortran_order and shape, in any order. */
static loom_status npy_header(hdr *h, ir_dtype *t, ir_shape *shape)
{
    static const char *const names[3] = {"descr", "fortran_order", "shape"};
    bool seen[3] = {false, false, false};
    if (!hdr_eat(h, '{')) {
        ir_diag_errorf(h->d, "%s: header is not a dict", h->path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    while (!hdr_eat(h, '}')) {
        char key[32];
        if (!hdr_string(h, key, sizeof key) || !hdr_eat(h, ':')) {
            ir_diag_errorf(h->d, "%s: header: expected a quoted key and ':'", h->path);
            return LOOM_STATUS_INVALID_MODEL;
        }
        int k = 0;
        while (k < 3 && strcmp(key, names[k]) != 0)
            k++;
        if (k == 3 || seen[k]) {
            ir_diag_errorf(h->d, "%s: header: %s key '%s'", h->path, k == 3 ? "unexpected" : "repeated", key);
            return LOOM_STATUS_INVALID_MODEL;
        }
        seen[k] = true;
        loom_status st = npy_value(h, k, t, shape);
        if (st)
            return st;
        if (!hdr_eat(h, ',')) {
            if (!hdr_eat(h, '}')) {
                ir_diag_errorf(h->d, "%s: header: expected ',' or '}'", h->path);
                return LOOM_STATUS_INVALID_MODEL;
            }
            break;
        }
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k]) {
            ir_diag_errorf(h->d, "%s: header lacks the '%s' key", h->path, names[k]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    hdr_ws(h);
    if (h->pos != h->len) {
        ir_diag_errorf(h->d, "%s: header: unexpected text after the dict", h->path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* ---- reading ---- */

/* Reads the preamble; sets the header length and where it starts. */
static loom_status npy_preamble(FILE *f, const char *path, uint64_t fsize, size_t *hlen,
                                size_t *hstart, ir_diag *d)
{
    unsigned char p[12];
    size_t got = fread(p, 1, sizeof p < fsize ? sizeof p : (size_t)fsize, f);
    if (got < 6 || memcmp(p, npy_magic, 6) != 0) {
        if (got < 6 && memcmp(p, npy_magic, got) == 0)
            ir_diag_errorf(d, "%s: truncated: the file has %zu bytes, fewer than the .npy magic", path, got);
        else
            ir_diag_errorf(d, "%s: not a .npy file (bad magic)", path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (got < 8 || (p[6] >= 2 && got < 12) || (p[6] == 1 && got < 10)) {
        ir_diag_errorf(d, "%s: truncated: the file ends inside the preamble", path);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (p[6] < 1 || p[6] > 3 || p[7] != 0) {
        ir_diag_errorf(d, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                       path, p[6], p[7]);
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (p[6] == 1) {
        *hlen = (size_t)p[8] | (size_t)p[9] << 8;
        *hstart = 10;
    } else {
        *hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        *hstart = 12;
    }
    if (*hlen > fsize - *hstart) {
        ir_diag_errorf(d, "%s: truncated: the header length is %zu bytes, but only %llu bytes follow",
                       path, *hlen, (unsigned long long)(fsize - *hstart));
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Reads and parses the header, then the data; fills out. */
static loom_status npy_read_file(FILE *f, const char *path, uint64_t fsize, fe_npy *out, ir_diag *d)
{
    size_t hlen, hstart;
    loom_status st = npy_preamble(f, path, fsize, &hlen, &hstart, d);
    if (st)
        return st;
    char *text = ir_malloc(hlen + 1);
    if (!text) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    if (fseek(f, (long)hstart, SEEK_SET) != 0 || fread(text, 1, hlen, f) != hlen) {
        ir_free(text);
        ir_diag_errorf(d, "%s: read error: %s", path, strerror(errno));
        return LOOM_STATUS_IO;
    }
    hdr h = {text, hlen, 0, path, d};
    st = npy_header(&h, &out->dtype, &out->shape);
    ir_free(text);
    if (st)
        return st;
    size_t bytes;
    if (!ir_shape_bytes(&out->shape, out->dtype, &bytes)) {
        char sh[160];
        ir_shape_format(&out->shape, sh, sizeof sh);
        ir_diag_errorf(d, "%s: shape %s is too large", path, sh);
        return LOOM_STATUS_INVALID_MODEL;
    }
    uint64_t avail = fsize - hstart - hlen;
    if (bytes > avail) {
        char sh[160];
        ir_shape_format(&out->shape, sh, sizeof sh);
        ir_diag_errorf(d, "%s: truncated: %s %s needs %zu data bytes, the file has %llu", path,
                       ir_dtype_name(out->dtype), sh, bytes, (unsigned long long)avail);
        return LOOM_STATUS_INVALID_MODEL;
    }
    out->data = ir_malloc(bytes);
    if (!out->data) {
        ir_diag_errorf(d, "%s: out of memory", path);
        return LOOM_STATUS_NOMEM;
    }
    if (fread(out->data, 1, bytes, f) != bytes) {
        fe_npy_free(out);
        ir_diag_errorf(d, "%s: read error: %s", path, strerror(errno));
        return LOOM_STATUS_IO;
    }
    return LOOM_STATUS_OK;
}

loom_status fe_npy_read(const char *path, fe_npy *out, ir_diag *d)
{
    if (!out || !path)
        return LOOM_STATUS_INVALID_ARG;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    struct stat sb = {0};
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ir_diag_errorf(d, "%s: cannot open: %s", path,
                       !f || !S_ISDIR(sb.st_mode) ? strerror(errno) : "is a directory");
        if (f)
            fclose(f);
        return LOOM_STATUS_IO;
    }
    loom_status st = npy_read_file(f, path, (uint64_t)sb.st_size, out, d);
    fclose(f);
    if (st)
        memset(out, 0, sizeof *out);
    return st;
}

/* ---- writing ---- */

loom_status fe_npy_write(const char *path, ir_dtype dtype, const ir_shape *shape, const void *data,
                         ir_diag *d)
{
    size_t bytes;
    if ((unsigned)dtype >= IR_DTYPE_COUNT || !shape || shape->rank < 0 ||
        shape->rank > IR_MAX_RANK || !ir_shape_bytes(shape, dtype, &bytes) || (bytes && !data)) {
        ir_diag_errorf(d, "%s: invalid array to write", path);
        return LOOM_STATUS_INVALID_ARG;
    }
    const char *descr = NULL;
    for (size_t i = 0; i < N_NPY_DTYPES; i++)
        if (npy_dtypes[i].dtype == dtype)
            descr = npy_dtypes[i].descr;
    /* numpy's own layout: dict, spaces, '\n'; preamble + header a multiple of 64 */
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < shape->rank; i++)
        n += snprintf(h + n, sizeof h - (size_t)n, i ? ", %lld" : "%lld", (long long)shape->dims[i]);
    n += snprintf(h + n, sizeof h - (size_t)n, "%s), }", shape->rank == 1 ? "," : "");
    while ((10 + n + 1) % 64)
        h[n++] = ' ';
    h[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff),
                             (unsigned char)(n >> 8)};
    fe_wfile w;
    loom_status st = fe_wfile_open(&w, path, d);
    if (st)
        return st;
    fe_wfile_write(&w, pre, sizeof pre);
    fe_wfile_write(&w, h, (size_t)n);
    fe_wfile_write(&w, data, bytes);
    st = fe_wfile_close(&w, d);
    if (st == LOOM_STATUS_OK)
        st = fe_wfile_commit(&w, d);
    fe_wfile_abort(&w);
    return st;
}
