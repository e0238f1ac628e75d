/*
 * The fuzz targets' shared helpers (see fuzz.h): a scratch folder for
 * readers that take a path, the allocation limit, and the reader contract
 * check that turns a silent failure into a finding.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char scratch[4096];

/* Removes the scratch folder and the files in it (atexit). */
static void remove_scratch(void)
{
    DIR *dir = opendir(scratch);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char path[4096 + 256];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(scratch);
}

const char *fuzz_dir(void)
{
    if (scratch[0])
        return scratch;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/loom-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(scratch)) {
        perror("fuzz: cannot create a scratch folder");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || put != size)
        return NULL;
    return path;
}

/* w.safetensors: an 8-byte header length, the JSON header, then data. */
static void write_weights(void)
{
    static const char hdr[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                              "\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]}}";
    uint8_t buf[8 + sizeof hdr - 1 + 32] = {0};
    uint64_t n = sizeof hdr - 1;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + 8, hdr, n);
    float w[4] = {0.5f, -1.0f, 2.0f, 0.0f};
    int64_t ix[2] = {1, -1};
    memcpy(buf + 8 + n, w, sizeof w);
    memcpy(buf + 8 + n + sizeof w, ix, sizeof ix);
    fuzz_write_file("w.safetensors", buf, sizeof buf);
}

void fuzz_init(void)
{
    static bool ready;
    if (ready)
        return;
    ready = true;
    ir_alloc_limit(FUZZ_ALLOC_LIMIT);
    write_weights();
}

void fuzz_check_result(loom_status st, const void *result, const ir_diag *d)
{
    if (st != LOOM_STATUS_OK && (result || d->n_errors < 1 || !d->text)) {
        fprintf(stderr, "fuzz: status %s with %s and %d error(s)\n", loom_status_name(st),
                result ? "a result" : "no result", d->n_errors);
        abort();
    }
    if (st == LOOM_STATUS_OK && d->n_errors) {
        fprintf(stderr, "fuzz: success with %d error(s): %s\n", d->n_errors, d->text);
        abort();
    }
}

void fuzz_finish_graph(loom_status st, ir_graph *g, ir_diag *d, void (*check)(const ir_graph *))
{
    fuzz_check_result(st, st ? g : NULL, d);
    if (!st && check)
        check(g);
    ir_graph_free(g);
    ir_diag_free(d);
}
