/*
 * Corpus replay: a main() for the fuzz targets in builds without libFuzzer
 * (gcc, the ASan build). Feeds every file named on the command line, or in
 * a folder named there (sorted), to LLVMFuzzerTestOneInput once. ctest runs
 * it over tests/fuzz/corpus/TARGET; a crash or sanitizer report fails the
 * test, and so does an empty corpus.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads the whole file into memory from malloc; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *p = realloc(buf, cap);
            if (!p)
                break;
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool ok = !ferror(f) && buf;
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

/* Runs one file; returns 1 when it ran, 0 (with a message) when unreadable. */
static int run_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = slurp(path, &size);
    if (!data) {
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
        return 0;
    }
    /* an exact-size copy, so ASan catches a read one past the input */
    uint8_t *exact = malloc(size ? size : 1);
    if (size)
        memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir in name order; returns how many ran, or
 * -1 when one could not be read. */
static int run_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char **p = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!p || !path) {
            fprintf(stderr, "fuzz_replay: out of memory\n");
            exit(2);
        }
        names = p;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        names[n++] = path;
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_names);
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = run_file(names[i]);
        ran = ran < 0 || !ok ? -1 : ran + 1;
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        bool is_dir = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode);
        int ran = is_dir ? run_dir(argv[i]) : run_file(argv[i]);
        if (ran <= 0) {
            fprintf(stderr, "fuzz_replay: %s: no input could be run\n", argv[i]);
            return 1;
        }
        total += ran;
    }
    printf("fuzz_replay: %d input(s) ran without a finding\n", total);
    return 0;
}
