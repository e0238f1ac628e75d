/*
 * What the hand-written test programs beside the emitted models need
 * (two_models_main.c, weights_main.c): read a float32 .npy file (format
 * 1.0/2.0/3.0, '<f4', C order) into 64-byte aligned memory, read a whole
 * binary file the same way, and compare outputs with a tolerance. Plain C11
 * and libc only, so the programs link with nothing but the emitted code.
 */
#ifndef LOOM_NPY_CHECK_H
#define LOOM_NPY_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns size bytes of 64-byte aligned, zeroed memory, or exits. */
static void *nc_alloc(size_t size)
{
    size_t rounded = (size + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        exit(2);
    }
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

/* Reads the whole file into aligned memory; *size gets its length. Exits
 * on error. */
static void *nc_read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp || fseek(fp, 0, SEEK_END) != 0) {
        fprintf(stderr, "%s: cannot open\n", path);
        exit(2);
    }
    long n = ftell(fp);
    rewind(fp);
    void *p = nc_alloc(n > 0 ? (size_t)n : 0);
    if (n < 0 || fread(p, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(fp);
    *size = (size_t)n;
    return p;
}

/* Reads a float32 .npy file that must hold exactly numel values; returns
 * them in aligned memory. Exits with a message on any mismatch. */
static float *nc_read_npy(const char *path, int64_t numel)
{
    size_t size;
    unsigned char *raw = nc_read_file(path, &size);
    if (size < 10 || memcmp(raw, "\x93NUMPY", 6) != 0) {
        fprintf(stderr, "%s: not a .npy file\n", path);
        exit(2);
    }
    /* version 1.0: 2-byte header length; 2.0 and 3.0: 4 bytes */
    size_t hlen = raw[6] == 1 ? (size_t)(raw[8] | raw[9] << 8)
                              : (size_t)raw[8] | (size_t)raw[9] << 8 | (size_t)raw[10] << 16 |
                                    (size_t)raw[11] << 24;
    size_t start = (raw[6] == 1 ? 10 : 12) + hlen;
    char header[4096];
    snprintf(header, sizeof header, "%.*s", (int)(hlen < sizeof header ? hlen : sizeof header - 1),
             (const char *)raw + (raw[6] == 1 ? 10 : 12));
    if (!strstr(header, "'descr': '<f4'") || !strstr(header, "'fortran_order': False")) {
        fprintf(stderr, "%s: not a C-order float32 array: %s\n", path, header);
        exit(2);
    }
    if (start > size || (size - start) != (size_t)numel * sizeof(float)) {
        fprintf(stderr, "%s: %zu data bytes, the model wants %lld floats\n", path,
                size - (start < size ? start : size), (long long)numel);
        exit(2);
    }
    float *data = nc_alloc((size_t)numel * sizeof(float));
    memcpy(data, raw + start, (size_t)numel * sizeof(float));
    free(raw);
    return data;
}

/* Counts elements with |got - want| > atol + rtol * |want| (NaN never
 * passes) and prints the first and the largest error. Returns the count. */
static int64_t nc_compare(const char *what, const float *got, const float *want, int64_t n,
                          double atol, double rtol)
{
    int64_t bad = 0;
    double max_err = 0;
    for (int64_t k = 0; k < n; k++) {
        double err = fabs((double)got[k] - (double)want[k]);
        if (!(err <= atol + rtol * fabs((double)want[k]))) {
            if (bad++ == 0)
                fprintf(stderr, "%s: element %lld: got %.9g, want %.9g\n", what, (long long)k,
                        got[k], want[k]);
        }
        if (isnan(err) || err > max_err)
            max_err = err;
    }
    printf("%s: %lld values, max abs err %.3g, %lld out of tolerance (atol %g, rtol %g)\n", what,
           (long long)n, max_err, (long long)bad, atol, rtol);
    return bad;
}

#endif
