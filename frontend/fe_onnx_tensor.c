/*
 * ONNX tensors: reading files, decoding protobuf through the allocation
 * hook, and turning a TensorProto into a constant ir_value. Payloads come in
 * every storage form ONNX allows: raw_data (little-endian bytes), the typed
 * repeated fields (float_data, int32_data, int64_data, double_data) and
 * external data (data_location EXTERNAL: a file beside the model named by
 * "location", with optional "offset" and "length"). External files are
 * mmapped when the offset keeps the data aligned and read otherwise; paths
 * that leave the model's folder and ranges past the end of the file are
 * refused. The host is assumed little-endian, like ONNX's raw_data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fe_onnx_pb.h"

/* ---- allocation hook for protobuf-c ---- */

static void *pb_alloc(void *data, size_t size)
{
    void *p = ir_malloc(size);
    if (!p)
        ((fe_onnx_alloc *)data)->failed = true;
    return p;
}

static void pb_free(void *data, void *p)
{
    (void)data;
    ir_free(p);
}

void fe_onnx_alloc_init(fe_onnx_alloc *a)
{
    a->pb = (ProtobufCAllocator){pb_alloc, pb_free, a};
    a->failed = false;
}

/* ---- nesting depth ----
 * protobuf-c decodes sub-messages recursively with large frames, so a file
 * of messages nested thousands deep (subgraph attributes within subgraphs)
 * overflows the stack. This walks the wire format (protobuf's encoding
 * guide: a tag varint of field << 3 | wire type; wire types 0 varint,
 * 1 fixed64, 2 length-delimited, 5 fixed32) with the message descriptors to
 * find the depth first, recursing at most limit + 1 levels. */

/* Reads the varint at *p; false when it is cut short or too long. */
static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Depth of the deepest message in [p, end), a message of type desc at
 * depth depth; stops looking past limit. Malformed input ends the walk
 * (the decoder then reports it). */
static int pb_depth(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end,
                    int depth, int limit)
{
    int deepest = depth;
    uint64_t tag, n;
    while (p < end && deepest <= limit && pb_varint(&p, end, &tag)) {
        int wire = (int)(tag & 7);
        bool ok = wire == 0 ? pb_varint(&p, end, &n)
                  : wire == 1 ? (n = 8) <= (uint64_t)(end - p)
                  : wire == 5 ? (n = 4) <= (uint64_t)(end - p)
                  : wire == 2 && pb_varint(&p, end, &n) && n <= (uint64_t)(end - p);
        if (!ok)
            break;
        if (wire == 0)
            continue;
        const ProtobufCFieldDescriptor *f =
            wire == 2 && tag >> 3 <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3))
                : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
            int sub = pb_depth(f->descriptor, p, p + n, depth + 1, limit);
            deepest = sub > deepest ? sub : deepest;
        }
        p += n;
    }
    return deepest;
}

bool fe_onnx_nesting_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len)
{
    return pb_depth(desc, buf, buf + len, 1, FE_ONNX_MAX_DEPTH) <= FE_ONNX_MAX_DEPTH;
}

/* ---- files ---- */

loom_status fe_onnx_read_file(const char *path, uint8_t **buf, size_t *len, ir_diag *d)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        ir_diag_errorf(d, "%s: cannot open: %s", path, strerror(errno));
        return LOOM_STATUS_IO;
    }
    struct stat st = {0};
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        ir_diag_errorf(d, "%s: %s", path,
                       S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        fclose(f);
        return LOOM_STATUS_IO;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *b = ir_malloc(size ? size : 1);
    if (!b) {
        ir_diag_errorf(d, "%s: out of memory reading %zu bytes", path, size);
        fclose(f);
        return LOOM_STATUS_NOMEM;
    }
    size_t got = fread(b, 1, size, f);
    fclose(f);
    if (got != size) {
        ir_diag_errorf(d, "%s: read %zu of %zu bytes", path, got, size);
        ir_free(b);
        return LOOM_STATUS_IO;
    }
    *buf = b;
    *len = size;
    return LOOM_STATUS_OK;
}

/* ---- dtypes ---- */

const char *fe_onnx_dtype_name(int onnx_type)
{
    /* TensorProto.DataType, onnx.proto (IR version 10) */
    static const char *const names[] = {
        "undefined", "f32",  "u8",       "i8",         "u16",      "i16",        "i32",
        "i64",       "string", "bool",   "f16",        "f64",      "u32",        "u64",
        "c64",       "c128", "bf16",     "f8e4m3fn",   "f8e4m3fnuz", "f8e5m2",   "f8e5m2fnuz",
        "u4",        "i4",   "f4e2m1",
    };
    static char other[32];
    if (onnx_type >= 0 && (size_t)onnx_type < sizeof names / sizeof names[0])
        return names[onnx_type];
    snprintf(other, sizeof other, "dtype %d", onnx_type);
    return other;
}

/* ---- payloads ---- */

/* Copies a typed repeated field into v's data, converting element types. */
static loom_status typed_payload(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                                 ir_value *v, int64_t numel, ir_diag *d)
{
    size_t count;
    switch (v->dtype) {
    case IR_DTYPE_F32: count = t->n_float_data; break;
    case IR_DTYPE_F64: count = t->n_double_data; break;
    case IR_DTYPE_I64: count = t->n_int64_data; break;
    default: count = t->n_int32_data; break; /* i32, i8, u8, bool, f16, bf16 */
    }
    if ((uint64_t)numel != count) {
        ir_diag_graph(d, g, "%s: has %lld elements but %zu values stored", what,
                      (long long)numel, count);
        return LOOM_STATUS_INVALID_MODEL;
    }
    size_t es = ir_dtype_size(v->dtype);
    uint8_t *out = ir_arena_array(&g->arena, count, es);
    for (size_t i = 0; i < count; i++) {
        switch (v->dtype) {
        case IR_DTYPE_F32: memcpy(out + i * 4, &t->float_data[i], 4); break;
        case IR_DTYPE_F64: memcpy(out + i * 8, &t->double_data[i], 8); break;
        case IR_DTYPE_I64: memcpy(out + i * 8, &t->int64_data[i], 8); break;
        case IR_DTYPE_I32: memcpy(out + i * 4, &t->int32_data[i], 4); break;
        case IR_DTYPE_I8: out[i] = (uint8_t)(int8_t)t->int32_data[i]; break;
        case IR_DTYPE_U8: out[i] = (uint8_t)t->int32_data[i]; break;
        case IR_DTYPE_BOOL: out[i] = t->int32_data[i] != 0; break;
        case IR_DTYPE_F16:  /* onnx.proto: the bit pattern in int32_data's low 16 bits */
        case IR_DTYPE_BF16: {
            uint16_t bits = (uint16_t)t->int32_data[i];
            memcpy(out + i * 2, &bits, 2);
            break;
        }
        case IR_DTYPE_COUNT: break;
        }
    }
    v->data = out;
    return LOOM_STATUS_OK;
}

/* Parses a non-negative decimal integer; false when s is not one. */
static bool parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *out = x;
    return true;
}

/* True when location is a relative path that stays inside the model's folder. */
static bool safe_location(const char *loc)
{
    if (!loc[0] || loc[0] == '/')
        return false;
    for (const char *p = loc; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

typedef struct ext_ref {
    const char *location;
    uint64_t offset, length;
    bool has_length;
} ext_ref;

/* Reads the external_data entries of t. */
static loom_status ext_parse(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                             ext_ref *r, ir_diag *d)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < t->n_external_data; i++) {
        const char *k = t->external_data[i]->key, *val = t->external_data[i]->value;
        if (!k || !val)
            continue; /* absent in the file: nothing to read */
        bool ok = true;
        if (strcmp(k, "location") == 0)
            r->location = val;
        else if (strcmp(k, "offset") == 0)
            ok = parse_size(val, &r->offset);
        else if (strcmp(k, "length") == 0)
            ok = r->has_length = parse_size(val, &r->length);
        if (!ok) {
            ir_diag_graph(d, g, "%s: external data %s \"%s\" is not a byte count", what, k, val);
            return LOOM_STATUS_INVALID_MODEL;
        }
    }
    if (!r->location || !safe_location(r->location)) {
        ir_diag_graph(d, g, "%s: external data location \"%s\" must be a relative path inside "
                      "the model's folder", what, r->location ? r->location : "");
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

/* Loads bytes of external data into v->data: mmapped (registered with the
 * graph) when the offset keeps 16-byte alignment, else read into the arena. */
static loom_status ext_payload(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                               const char *base_dir, ir_value *v, size_t bytes, ir_diag *d)
{
    ext_ref r;
    loom_status st = ext_parse(g, t, what, &r, d);
    if (st)
        return st;
    if (r.has_length && r.length != bytes) {
        ir_diag_graph(d, g, "%s: external data length %llu, expected %zu bytes", what,
                      (unsigned long long)r.length, bytes);
        return LOOM_STATUS_INVALID_MODEL;
    }
    char *path = ir_arena_printf(&g->arena, "%s/%s", base_dir, r.location);
    bool map = r.offset % 16 == 0 && bytes > 0;
    uint8_t *buf = map ? NULL : ir_arena_alloc(&g->arena, bytes); /* before open: may longjmp */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ir_diag_graph(d, g, "%s: cannot open external data file %s: %s", what, path,
                      fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return LOOM_STATUS_IO;
    }
    if (r.offset > (uint64_t)sb.st_size || bytes > (uint64_t)sb.st_size - r.offset) {
        ir_diag_graph(d, g, "%s: external data [%llu, +%zu) lies past the end of %s (%lld bytes)",
                      what, (unsigned long long)r.offset, bytes, path, (long long)sb.st_size);
        close(fd);
        return LOOM_STATUS_INVALID_MODEL;
    }
    if (map) {
        long page = sysconf(_SC_PAGESIZE);
        uint64_t start = r.offset - r.offset % (uint64_t)(page > 0 ? page : 4096);
        size_t maplen = (size_t)(r.offset - start) + bytes;
        void *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)start);
        close(fd);
        if (m == MAP_FAILED) {
            ir_diag_graph(d, g, "%s: cannot map %s: %s", what, path, strerror(errno));
            return LOOM_STATUS_IO;
        }
        ir_graph_add_mapping(g, m, maplen); /* unmaps and longjmps on failure */
        v->data = (uint8_t *)m + (r.offset - start);
        return LOOM_STATUS_OK;
    }
    ssize_t got = bytes ? pread(fd, buf, bytes, (off_t)r.offset) : 0;
    close(fd);
    if (got < 0 || (size_t)got != bytes) {
        ir_diag_graph(d, g, "%s: short read of external data from %s", what, path);
        return LOOM_STATUS_IO;
    }
    v->data = buf;
    return LOOM_STATUS_OK;
}

/* Sets v's dtype and shape from t; reports unsupported dtypes and bad dims. */
static loom_status tensor_header(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                                 ir_value *v, ir_diag *d)
{
    ir_dtype dt = ir_dtype_from_onnx(t->data_type);
    if (dt == IR_DTYPE_COUNT) {
        ir_diag_graph(d, g, "%s: unsupported dtype %s", what, fe_onnx_dtype_name(t->data_type));
        return LOOM_STATUS_UNSUPPORTED;
    }
    if (t->n_dims > IR_MAX_RANK) {
        ir_diag_graph(d, g, "%s: rank %zu exceeds loom's maximum of %d", what, t->n_dims,
                      IR_MAX_RANK);
        return LOOM_STATUS_UNSUPPORTED;
    }
    v->dtype = dt;
    ir_value_set_shape(v, (int)t->n_dims, t->dims);
    size_t bytes;
    for (size_t i = 0; i < t->n_dims; i++)
        if (t->dims[i] < 0) {
            ir_diag_graph(d, g, "%s: negative dim %lld", what, (long long)t->dims[i]);
            return LOOM_STATUS_INVALID_MODEL;
        }
    if (!ir_shape_bytes(&v->shape, dt, &bytes)) {
        ir_diag_graph(d, g, "%s: size overflows", what);
        return LOOM_STATUS_INVALID_MODEL;
    }
    return LOOM_STATUS_OK;
}

loom_status fe_onnx_tensor_to_value(ir_graph *g, const Onnx__TensorProto *t, const char *what,
                                    const char *base_dir, ir_value *v, ir_diag *d)
{
    loom_status st = tensor_header(g, t, what, v, d);
    if (st)
        return st;
    if (t->segment) {
        ir_diag_graph(d, g, "%s: segmented tensors are not supported", what);
        return LOOM_STATUS_UNSUPPORTED;
    }
    size_t bytes = ir_value_bytes(v);
    int64_t numel = ir_shape_numel(&v->shape);
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        if (!base_dir) {
            ir_diag_graph(d, g, "%s: external data is not allowed here", what);
            return LOOM_STATUS_INVALID_MODEL;
        }
        return ext_payload(g, t, what, base_dir, v, bytes, d);
    }
    if (t->has_raw_data) {
        if (t->raw_data.len != bytes) {
            ir_diag_graph(d, g, "%s: raw_data has %zu bytes, expected %zu", what,
                          t->raw_data.len, bytes);
            return LOOM_STATUS_INVALID_MODEL;
        }
        v->data = ir_arena_memdup(&g->arena, t->raw_data.data, bytes);
        return LOOM_STATUS_OK;
    }
    return typed_payload(g, t, what, v, numel, d);
}

/* ---- TensorProto files ---- */

/* Builds the value for an unpacked tensor read from path; a UINT16 tensor
 * is read as bf16 bits when u16_as_bf16. */
static loom_status tensor_file_value(ir_graph *g, const Onnx__TensorProto *tp, const char *path,
                                     bool u16_as_bf16, ir_value **out, ir_diag *d)
{
    Onnx__TensorProto copy = *tp;
    const Onnx__TensorProto *t = &copy;
    if (u16_as_bf16 && copy.data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT16)
        copy.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
    const char *name = t->name && t->name[0] ? t->name : path;
    char *what = ir_arena_printf(&g->arena, "tensor \"%s\"", name);
    ir_value *v = ir_graph_detached_value(g, name, IR_DTYPE_F32);
    char *dir = ir_arena_strdup(&g->arena, path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    loom_status st = fe_onnx_tensor_to_value(g, t, what, slash ? dir : ".", v, d);
    if (!st)
        *out = v;
    return st;
}

loom_status fe_onnx_read_tensor(const char *path, ir_graph *g, ir_value **out, ir_diag *d)
{
    return fe_onnx_read_tensor_ex(path, g, false, out, d);
}

loom_status fe_onnx_read_tensor_ex(const char *path, ir_graph *g, bool u16_as_bf16, ir_value **out,
                                   ir_diag *d)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    loom_status st = fe_onnx_read_file(path, &buf, &len, d);
    if (st)
        return st;
    fe_onnx_alloc alloc;
    fe_onnx_alloc_init(&alloc);
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(&alloc.pb, len, buf);
    ir_free(buf);
    if (!t) {
        ir_diag_errorf(d, alloc.failed ? "%s: out of memory decoding the tensor"
                                       : "%s: not a valid TensorProto (truncated or corrupt)",
                       path);
        return alloc.failed ? LOOM_STATUS_NOMEM : LOOM_STATUS_INVALID_MODEL;
    }
    jmp_buf jb;
    jmp_buf *volatile old = g->arena.oom;
    if (IR_TRY(&g->arena, jb)) {
        st = tensor_file_value(g, t, path, u16_as_bf16, out, d);
    } else {
        *out = NULL;
        ir_diag_errorf(d, "%s: out of memory", path);
        st = LOOM_STATUS_NOMEM;
    }
    ir_arena_set_oom(&g->arena, old);
    onnx__tensor_proto__free_unpacked(t, &alloc.pb);
    return st;
}
