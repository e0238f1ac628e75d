/* Unit tests of the safetensors reader and writer (frontend/fe_safetensors.c). */
#include <stdlib.h>

#include "fe_safetensors.h"
#include "leak_check.h"
#include "testlib.h"

/* Writes a file with header text hdr (length field = real length unless
 * hlen >= 0) followed by n data bytes. */
static void make_st(const char *path, const char *hdr, long long hlen, const void *data, size_t n)
{
    size_t h = strlen(hdr);
    unsigned char *buf = malloc(8 + h + n);
    uint64_t len = hlen >= 0 ? (uint64_t)hlen : h;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, hdr, h);
    if (n)
        memcpy(buf + 8 + h, data, n);
    tl_write_bytes(path, buf, 8 + h + n);
    free(buf);
}

/* Opens path expecting status st; returns the diagnostic text (static). */
static const char *open_status(const char *path, loom_status st)
{
    static char text[2048];
    ir_arena a;
    ir_arena_init(&a);
    jmp_buf jb;
    a.oom = &jb;
    ir_diag d;
    ir_diag_init(&d);
    fe_st_file f;
    loom_status got = fe_st_open(path, NULL, &a, &f, &d);
    snprintf(text, sizeof text, "%s", d.text ? d.text : "");
    cr_assert_eq(got, st, "%s: status %s, want %s: %s", path, loom_status_name(got),
                 loom_status_name(st), text);
    if (got == LOOM_STATUS_OK)
        fe_st_close(&f);
    else
        cr_assert_null(f.map);
    ir_diag_free(&d);
    ir_arena_free(&a);
    return text;
}

/* Opening a file with this header (and 16 data bytes) must fail with a
 * message naming the file and containing substr. */
static void header_fails(const char *hdr, const char *substr)
{
    const char *p = tl_tmp_path("st_", "bad.safetensors");
    make_st(p, hdr, -1, "0123456789abcdef", 16);
    const char *text = open_status(p, LOOM_STATUS_INVALID_MODEL);
    cr_assert(strstr(text, substr) && strstr(text, p), "for header %s: \"%s\" lacks \"%s\"", hdr,
              text, substr);
}

Test(safetensors, write_then_read_every_dtype)
{
    double f64[2] = {1.5, -2.25};
    int64_t i64[3] = {INT64_MIN, 0, INT64_MAX};
    float f32[3] = {1, -0.0f, 3.5f};
    int32_t i32[1] = {-7};
    int8_t i8[3] = {-128, 0, 127};
    uint8_t u8[5] = {0, 1, 2, 254, 255};
    bool b[1] = {true};
    fe_st_entry e[] = {
        {"bool", IR_DTYPE_BOOL, {0, {0}}, b},     {"u8", IR_DTYPE_U8, {1, {5}}, u8},
        {"f32", IR_DTYPE_F32, {2, {1, 3}}, f32},  {"i8", IR_DTYPE_I8, {1, {3}}, i8},
        {"i64", IR_DTYPE_I64, {1, {3}}, i64},     {"i32", IR_DTYPE_I32, {3, {1, 1, 1}}, i32},
        {"f64", IR_DTYPE_F64, {1, {2}}, f64},     {"empty", IR_DTYPE_F32, {2, {0, 3}}, NULL},
    };
    int n = (int)(sizeof e / sizeof e[0]);
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(fe_st_write(tl_tmp_path("st_", "all.safetensors"), e, n, &d), LOOM_STATUS_OK, "%s", d.text);
    ir_arena a;
    ir_arena_init(&a);
    jmp_buf jb;
    a.oom = &jb;
    fe_st_file f;
    cr_assert_eq(fe_st_open(tl_tmp_path("st_", "all.safetensors"), NULL, &a, &f, &d), LOOM_STATUS_OK, "%s", d.text);
    cr_assert_eq(f.n_tensors, n);
    /* header padded to 8 bytes; data laid out by decreasing element size */
    uint64_t hl;
    memcpy(&hl, f.map, 8);
    cr_assert_eq((8 + hl) % 8, 0);
    cr_assert_str_eq(f.tensors[0].name, "i64");
    cr_assert_str_eq(f.tensors[1].name, "f64");
    uint64_t last_size = 8;
    for (int i = 0; i < n; i++) {
        const fe_st_tensor *t = fe_st_find(&f, e[i].name);
        cr_assert(t, "%s missing", e[i].name);
        cr_assert_eq(t->dtype, e[i].dtype);
        cr_assert(ir_shape_equal(&t->shape, &e[i].shape));
        size_t bytes;
        ir_shape_bytes(&e[i].shape, e[i].dtype, &bytes);
        cr_assert_eq(t->end - t->begin, bytes);
        if (bytes)
            cr_assert_eq(memcmp(t->data, e[i].data, bytes), 0, "%s data differs", e[i].name);
        cr_assert_eq((uintptr_t)t->data % ir_dtype_size(t->dtype), 0, "%s misaligned", t->name);
        size_t es = ir_dtype_size(f.tensors[i].dtype);
        cr_assert_leq(es, last_size, "tensors not ordered by element size");
        last_size = es;
    }
    fe_st_close(&f);
    ir_arena_free(&a);
    ir_diag_free(&d);
    assert_no_leaks();
}

/* Bytes written by the Python safetensors package (0.8.0):
 * save({"a": arange(3, float32), "b": [[1, -2]] int64, "c": True},
 *      metadata={"format": "np"}) */
static const unsigned char python_file[] = {
    0xc8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0x22, 0x5f, 0x5f, 0x6d, 0x65, 0x74, 0x61,
    0x64, 0x61, 0x74, 0x61, 0x5f, 0x5f, 0x22, 0x3a, 0x7b, 0x22, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74,
    0x22, 0x3a, 0x22, 0x6e, 0x70, 0x22, 0x7d, 0x2c, 0x22, 0x62, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74,
    0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x49, 0x36, 0x34, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x22, 0x3a, 0x5b, 0x31, 0x2c, 0x32, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f,
    0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x30, 0x2c, 0x31, 0x36, 0x5d, 0x7d, 0x2c,
    0x22, 0x61, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0x46, 0x33,
    0x32, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22, 0x3a, 0x5b, 0x33, 0x5d, 0x2c, 0x22,
    0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73, 0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x31,
    0x36, 0x2c, 0x32, 0x38, 0x5d, 0x7d, 0x2c, 0x22, 0x63, 0x22, 0x3a, 0x7b, 0x22, 0x64, 0x74, 0x79,
    0x70, 0x65, 0x22, 0x3a, 0x22, 0x42, 0x4f, 0x4f, 0x4c, 0x22, 0x2c, 0x22, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x22, 0x3a, 0x5b, 0x5d, 0x2c, 0x22, 0x64, 0x61, 0x74, 0x61, 0x5f, 0x6f, 0x66, 0x66, 0x73,
    0x65, 0x74, 0x73, 0x22, 0x3a, 0x5b, 0x32, 0x38, 0x2c, 0x32, 0x39, 0x5d, 0x7d, 0x7d, 0x20, 0x20,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x01,
};

Test(safetensors, reads_a_file_written_by_python)
{
    tl_write_bytes(tl_tmp_path("st_", "py.safetensors"), python_file, sizeof python_file);
    ir_arena a;
    ir_arena_init(&a);
    jmp_buf jb;
    a.oom = &jb;
    ir_diag d;
    ir_diag_init(&d);
    fe_st_file f;
    cr_assert_eq(fe_st_open(tl_tmp_path("st_", "py.safetensors"), NULL, &a, &f, &d), LOOM_STATUS_OK, "%s", d.text);
    cr_assert_eq(f.n_tensors, 3, "__metadata__ is not a tensor");
    const fe_st_tensor *ta = fe_st_find(&f, "a"), *tb = fe_st_find(&f, "b"), *tc = fe_st_find(&f, "c");
    cr_assert(ta && tb && tc);
    cr_assert_eq(ta->dtype, IR_DTYPE_F32);
    cr_assert_eq(((const float *)ta->data)[2], 2.0f);
    cr_assert_eq(tb->shape.rank, 2);
    cr_assert_eq(((const int64_t *)tb->data)[1], -2);
    cr_assert_eq(tc->shape.rank, 0);
    cr_assert_eq(tc->dtype, IR_DTYPE_BOOL);
    cr_assert_eq(*(const unsigned char *)tc->data, 1);
    /* and loom writes the same tensors to the same bytes (but metadata) */
    fe_st_entry e[] = {{"a", ta->dtype, ta->shape, ta->data}, {"b", tb->dtype, tb->shape, tb->data},
                       {"c", tc->dtype, tc->shape, tc->data}};
    cr_assert_eq(fe_st_write(tl_tmp_path("st_", "py2.safetensors"), e, 3, &d), LOOM_STATUS_OK);
    FILE *fp = fopen(tl_tmp_path("st_", "py2.safetensors"), "rb");
    unsigned char got[512];
    size_t n = fread(got, 1, sizeof got, fp);
    fclose(fp);
    cr_assert_eq(memcmp(got + n - 29, python_file + sizeof python_file - 29, 29), 0, "data differs");
    fe_st_close(&f);
    ir_arena_free(&a);
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(safetensors, dtypes_loom_lacks_are_listed_not_rejected)
{
    make_st(tl_tmp_path("st_", "half.safetensors"),
            "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
            "\"u\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[8,16]}}",
            -1, "0123456789abcdef", 16);
    ir_arena a;
    ir_arena_init(&a);
    jmp_buf jb;
    a.oom = &jb;
    ir_diag d;
    ir_diag_init(&d);
    fe_st_file f;
    cr_assert_eq(fe_st_open(tl_tmp_path("st_", "half.safetensors"), NULL, &a, &f, &d), LOOM_STATUS_OK, "%s", d.text);
    cr_assert_eq(f.n_tensors, 3);
    cr_assert_eq(fe_st_find(&f, "h")->dtype, IR_DTYPE_COUNT);
    cr_assert_str_eq(fe_st_find(&f, "b")->dtype_name, "BF16");
    fe_st_close(&f);
    ir_arena_free(&a);
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(safetensors, malformed_headers)
{
    header_fails("[1, 2]", "header must be a JSON object, got an array");
    header_fails("{\"w\": 3}", "tensor \"w\": expected an object, got a number");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":1}}",
                 "tensor \"w\": unknown field \"x\"");
    header_fails("{\"w\":{\"dtype\":32,\"shape\":[4],\"data_offsets\":[0,16]}}",
                 "\"dtype\" must be a string, got a number");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}",
                 "\"shape\" must be an array of integers, got a number");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4.5],\"data_offsets\":[0,16]}}",
                 "shape[0] = 4.5 is not a valid dimension");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,4],\"data_offsets\":[0,16]}}",
                 "rank 9 exceeds loom's maximum of 8");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}",
                 "shape [4611686018427387904,4] is too large");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]}}",
                 "\"data_offsets\" must be an array of two integers");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,18446744073709551616]}}",
                 "\"data_offsets\" must be an array of two integers");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,9223372036854775807]}}",
                 "are out of range: the data section has 16 bytes");
    header_fails("{\"__metadata__\": {\"a\": 1}}", "\"__metadata__\" must be an object of strings");
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"v\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                 "tensors \"w\" and \"v\" overlap");
    header_fails("{\"w\": {", "the header is not valid JSON: unexpected end of input");
    assert_no_leaks();
}

Test(safetensors, truncated_and_missing_files)
{
    const char *p = tl_tmp_path("st_", "trunc.safetensors");
    tl_write_bytes(p, "", 0);
    cr_assert(strstr(open_status(p, LOOM_STATUS_INVALID_MODEL), "the file has 0 bytes"));
    make_st(p, "{}", 0, NULL, 0);
    cr_assert(strstr(open_status(p, LOOM_STATUS_INVALID_MODEL), "the header is empty"));
    make_st(p, "{}", 1000000, NULL, 0);
    cr_assert(strstr(open_status(p, LOOM_STATUS_INVALID_MODEL),
                     "the header length is 1000000 bytes, but only 2 bytes follow"));
    make_st(p, "{}", -1, NULL, 0); /* an empty but valid file */
    open_status(p, LOOM_STATUS_OK);
    cr_assert(strstr(open_status(tl_tmp_path("st_", "missing.safetensors"), LOOM_STATUS_IO),
                     "missing.safetensors: cannot open: No such file or directory"));
    cr_assert(strstr(open_status(LOOM_TEST_TMP, LOOM_STATUS_IO), "is a directory"));
    assert_no_leaks();
}

Test(safetensors, write_errors)
{
    ir_diag d;
    ir_diag_init(&d);
    float x = 1;
    fe_st_entry bad[] = {{"__metadata__", IR_DTYPE_F32, {0, {0}}, &x}};
    cr_assert_eq(fe_st_write(tl_tmp_path("st_", "bad.safetensors"), bad, 1, &d), LOOM_STATUS_INVALID_ARG);
    fe_st_entry ok[] = {{"x", IR_DTYPE_F32, {0, {0}}, &x}};
    cr_assert_eq(fe_st_write(LOOM_TEST_TMP "/no/such/dir/w.safetensors", ok, 1, &d), LOOM_STATUS_IO);
    cr_assert(strstr(d.text, "cannot create"));
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(safetensors, out_of_memory_at_every_allocation)
{
    float w[4] = {1, 2, 3, 4};
    fe_st_entry e[] = {{"w", IR_DTYPE_F32, {1, {4}}, w}, {"v", IR_DTYPE_F32, {2, {2, 2}}, w}};
    ir_diag d;
    ir_diag_init(&d);
    long k = 0;
    for (;; k++) {
        long before = ir_alloc_count();
        ir_alloc_fail_after(k);
        loom_status st = fe_st_write(tl_tmp_path("st_", "oom.safetensors"), e, 2, &d);
        ir_alloc_fail_after(-1);
        bool injected = ir_alloc_count() - before > k;
        cr_assert(st == (injected ? LOOM_STATUS_NOMEM : LOOM_STATUS_OK), "%s",
                  loom_status_name(st));
        if (!injected)
            break;
    }
    cr_assert_gt(k, 0, "no allocation failure was injected while writing");
    for (k = 0;; k++) {
        ir_arena a;
        ir_arena_init(&a);
        jmp_buf jb;
        a.oom = &jb;
        fe_st_file f;
        long before = ir_alloc_count();
        ir_alloc_fail_after(k);
        loom_status st = fe_st_open(tl_tmp_path("st_", "oom.safetensors"), NULL, &a, &f, &d);
        ir_alloc_fail_after(-1);
        bool injected = ir_alloc_count() - before > k;
        cr_assert(st == LOOM_STATUS_OK || (st == LOOM_STATUS_NOMEM && injected), "%s",
                  loom_status_name(st));
        if (st == LOOM_STATUS_OK) {
            cr_assert_eq(f.n_tensors, 2);
            fe_st_close(&f);
        }
        ir_arena_free(&a);
        ir_diag_clear(&d);
        if (!injected)
            break;
    }
    cr_assert_gt(k, 0, "no allocation failure was injected while reading");
    ir_diag_free(&d);
    assert_no_leaks();
}
