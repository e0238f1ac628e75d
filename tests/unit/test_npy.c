/* Unit tests of .npy reading and writing (frontend/fe_npy.c). */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "fe.h"
#include "leak_check.h"
#include "testlib.h"

static size_t read_bytes(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Builds a .npy file: version major.0, the given header dict (padded with
 * spaces and '\n' to 64 bytes like numpy), then data. */
static void make_npy(const char *path, int major, const char *dict, const void *data, size_t n)
{
    unsigned char buf[4096];
    size_t pre = major == 1 ? 10 : 12, hl = strlen(dict);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    memcpy(buf + pre, dict, hl);
    while ((pre + hl + 1) % 64)
        buf[pre + hl++] = ' ';
    buf[pre + hl++] = '\n';
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hl >> (8 * i));
    cr_assert_lt(pre + hl + n, sizeof buf);
    memcpy(buf + pre + hl, data, n);
    tl_write_bytes(path, buf, pre + hl + n);
}

/* Reading path must fail with status st and a message containing substr
 * (and the file name). */
static void read_fails(const char *path, loom_status st, const char *substr)
{
    ir_diag d;
    ir_diag_init(&d);
    fe_npy a;
    loom_status got = fe_npy_read(path, &a, &d);
    cr_assert_eq(got, st, "%s: status %s, want %s: %s", path, loom_status_name(got),
                 loom_status_name(st), d.text ? d.text : "");
    cr_assert_null(a.data);
    cr_assert(d.text && strstr(d.text, substr) && strstr(d.text, path),
              "diagnostic \"%s\" lacks \"%s\" or the path", d.text ? d.text : "", substr);
    ir_diag_free(&d);
}

Test(npy, round_trip_every_dtype_and_rank)
{
    static const ir_dtype types[] = {IR_DTYPE_F32, IR_DTYPE_F64, IR_DTYPE_I64, IR_DTYPE_I32,
                                     IR_DTYPE_I8, IR_DTYPE_U8, IR_DTYPE_BOOL, IR_DTYPE_F16,
                                     IR_DTYPE_BF16};
    static const ir_shape shapes[] = {{0, {0}}, {1, {5}}, {3, {2, 1, 3}}, {2, {0, 4}},
                                      {8, {1, 2, 1, 1, 1, 1, 1, 2}}};
    unsigned char data[64];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 % 2 ? i * 37 % 256 : i % 2); /* bools stay 0/1 */
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const unsigned char *src = types[t] == IR_DTYPE_BOOL ? (const unsigned char *)"\1\0\1\1\0\1\0\0\1\1\0\1\0\0\0\1" : data;
            ir_diag d;
            ir_diag_init(&d);
            const char *p = tl_tmp_path("npy_", "rt.npy");
            cr_assert_eq(fe_npy_write(p, types[t], &shapes[s], src, &d), LOOM_STATUS_OK, "%s",
                         d.text ? d.text : "");
            fe_npy a;
            cr_assert_eq(fe_npy_read(p, &a, &d), LOOM_STATUS_OK, "%s", d.text ? d.text : "");
            cr_assert_eq(a.dtype, types[t]);
            cr_assert(ir_shape_equal(&a.shape, &shapes[s]));
            size_t bytes;
            cr_assert(ir_shape_bytes(&a.shape, a.dtype, &bytes));
            cr_assert_eq(memcmp(a.data, src, bytes), 0);
            fe_npy_free(&a);
            cr_assert_null(a.data);
            ir_diag_free(&d);
        }
    assert_no_leaks();
}

/* The header bytes numpy 2.x writes with np.save for the same arrays. */
Test(npy, writes_exactly_what_numpy_writes)
{
    static const struct {
        ir_dtype t;
        ir_shape s;
        const char *dict;
        size_t total;
    } cases[] = {
        {IR_DTYPE_F32, {2, {2, 3}}, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 152},
        {IR_DTYPE_I64, {1, {5}}, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 168},
        {IR_DTYPE_F64, {0, {0}}, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 136},
        {IR_DTYPE_BOOL, {2, {0, 2}}, "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 2), }", 128},
        {IR_DTYPE_F16, {1, {5}}, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", 138},
        /* ml_dtypes.bfloat16 arrays: a 2-byte void */
        {IR_DTYPE_BF16, {1, {3}}, "{'descr': '<V2', 'fortran_order': False, 'shape': (3,), }", 134},
    };
    unsigned char zeros[64] = {0}, got[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ir_diag d;
        ir_diag_init(&d);
        cr_assert_eq(fe_npy_write(tl_tmp_path("npy_", "np.npy"), cases[i].t, &cases[i].s, zeros, &d), LOOM_STATUS_OK);
        size_t n = read_bytes(tl_tmp_path("npy_", "np.npy"), got, sizeof got);
        cr_assert_eq(n, cases[i].total, "case %zu: %zu bytes, numpy writes %zu", i, n, cases[i].total);
        cr_assert_eq(memcmp(got, "\x93NUMPY\x01\x00\x76\x00", 10), 0);
        size_t dl = strlen(cases[i].dict);
        cr_assert_eq(memcmp(got + 10, cases[i].dict, dl), 0, "case %zu: header differs", i);
        for (size_t k = 10 + dl; k < 127; k++)
            cr_assert_eq(got[k], ' ');
        cr_assert_eq(got[127], '\n');
        ir_diag_free(&d);
    }
    assert_no_leaks();
}

Test(npy, reads_versions_1_2_3_and_python2_longs)
{
    const int32_t v[6] = {1, -2, 3, -4, 5, -6};
    const char *dicts[] = {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
                           "{\"descr\": \"<i4\", \"shape\": (2, 3), \"fortran_order\": False}",
                           "{'descr':'<i4','fortran_order':False,'shape':(2L, 3L)}"};
    for (int major = 1; major <= 3; major++)
        for (int k = 0; k < 3; k++) {
            make_npy(tl_tmp_path("npy_", "ver.npy"), major, dicts[k], v, sizeof v);
            ir_diag d;
            ir_diag_init(&d);
            fe_npy a;
            cr_assert_eq(fe_npy_read(tl_tmp_path("npy_", "ver.npy"), &a, &d), LOOM_STATUS_OK,
                         "version %d.0, dict %d: %s", major, k, d.text ? d.text : "");
            cr_assert_eq(a.dtype, IR_DTYPE_I32);
            cr_assert_eq(a.shape.rank, 2);
            cr_assert_eq(a.shape.dims[1], 3);
            cr_assert_eq(memcmp(a.data, v, sizeof v), 0);
            fe_npy_free(&a);
            ir_diag_free(&d);
        }
    assert_no_leaks();
}

Test(npy, malformed_files_give_clear_errors)
{
    const float v[4] = {1, 2, 3, 4};
    const char *p = tl_tmp_path("npy_", "bad.npy");
    tl_write_bytes(p, "\x93NUM", 4);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "truncated: the file has 4 bytes");
    tl_write_bytes(p, "PK\3\4 this is a zip", 19);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "not a .npy file");
    tl_write_bytes(p, "\x93NUMPY\x01\x00\x10", 9);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "ends inside the preamble");
    tl_write_bytes(p, "\x93NUMPY\x04\x00\x10\x00{}", 12);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "version 4.0 is not supported");
    tl_write_bytes(p, "\x93NUMPY\x01\x00\xff\x00{'descr'", 17);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "truncated: the header length is 255 bytes");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "Fortran-order arrays are not supported");
    make_npy(p, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "big-endian dtype '>f4'");
    make_npy(p, 1, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "dtype '<u2' is not supported");
    make_npy(p, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "structured dtypes are not supported");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False}", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "header lacks the 'shape' key");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "unexpected key 'x'");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'shape': (4,)}", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "repeated key 'shape'");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, -1), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "'shape' must be a tuple of integers");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': [4], }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "'shape' must be a tuple of integers");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } junk", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "unexpected text after the dict");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "'fortran_order' must be True or False");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "does not fit in int64");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "is too large");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_UNSUPPORTED, "rank exceeds loom's maximum of 8");
    make_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", v, sizeof v);
    read_fails(p, LOOM_STATUS_INVALID_MODEL, "truncated: f32 [5] needs 20 data bytes, the file has 16");
    read_fails(tl_tmp_path("npy_", "does_not_exist.npy"), LOOM_STATUS_IO, "cannot open");
    read_fails(LOOM_TEST_TMP, LOOM_STATUS_IO, "is a directory");
    assert_no_leaks();
}

Test(npy, write_errors_leave_no_file)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_shape s = {1, {4}};
    float v[4] = {0};
    cr_assert_eq(fe_npy_write(LOOM_TEST_TMP "/no/such/dir/x.npy", IR_DTYPE_F32, &s, v, &d),
                 LOOM_STATUS_IO);
    cr_assert(strstr(d.text, "cannot create"));
    ir_shape neg = {1, {-1}};
    cr_assert_eq(fe_npy_write(tl_tmp_path("npy_", "neg.npy"), IR_DTYPE_F32, &neg, v, &d), LOOM_STATUS_INVALID_ARG);
    FILE *f = fopen(tl_tmp_path("npy_", "neg.npy"), "rb");
    cr_assert_null(f);
    /* renaming onto a directory fails after the data is written: the
     * temporary file must be gone */
    cr_assert_eq(fe_npy_write(LOOM_TEST_TMP, IR_DTYPE_F32, &s, v, &d), LOOM_STATUS_IO);
    char parent[512];
    snprintf(parent, sizeof parent, "%s/..", LOOM_TEST_TMP);
    char pat[64];
    snprintf(pat, sizeof pat, ".tmp.%ld.", (long)getpid());
    DIR *dir = opendir(parent);
    cr_assert(dir);
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        cr_assert_null(strstr(e->d_name, pat), "temporary file %s left behind", e->d_name);
    closedir(dir);
    ir_diag_free(&d);
    assert_no_leaks();
}

Test(npy, out_of_memory_at_every_allocation)
{
    ir_shape s = {2, {3, 4}};
    float v[12] = {1, 2, 3};
    ir_diag d;
    ir_diag_init(&d);
    cr_assert_eq(fe_npy_write(tl_tmp_path("npy_", "oom.npy"), IR_DTYPE_F32, &s, v, &d), LOOM_STATUS_OK);
    long k = 0;
    for (;; k++) {
        fe_npy a;
        long before = ir_alloc_count();
        ir_alloc_fail_after(k);
        loom_status st = fe_npy_read(tl_tmp_path("npy_", "oom.npy"), &a, &d);
        ir_alloc_fail_after(-1);
        bool injected = ir_alloc_count() - before > k;
        cr_assert_eq(st, injected ? LOOM_STATUS_NOMEM : LOOM_STATUS_OK, "allocation %ld: %s", k,
                     loom_status_name(st));
        fe_npy_free(&a);
        ir_diag_clear(&d);
        ir_alloc_fail_after(k);
        st = fe_npy_write(tl_tmp_path("npy_", "oom2.npy"), IR_DTYPE_F32, &s, v, &d);
        ir_alloc_fail_after(-1);
        cr_assert(st == LOOM_STATUS_OK || st == LOOM_STATUS_NOMEM);
        ir_diag_clear(&d);
        if (!injected)
            break;
    }
    cr_assert_gt(k, 0, "no allocation failure was injected");
    ir_diag_free(&d);
    assert_no_leaks();
}
