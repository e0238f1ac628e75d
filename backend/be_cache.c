/*
 * loom's on-disk cache folder (be_cache.h): locating and creating it,
 * FNV-1a-128 for its keys, and pruning. Pruning lists the entries (each
 * file of ROOT/jit/, each ROOT/runtime-* folder with the files in it),
 * sorts them by modification time, oldest first, and removes them until
 * the rest fit in the bound. Entries are replaced by rename and read
 * whole, so a process removing an entry another one is reading does not
 * disturb the reader (the open file lives on); at worst a removed entry is
 * built again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "be_cache.h"
#include "ir.h"

/* ---- FNV-1a, 128 bits ---- */

__extension__ typedef unsigned __int128 u128;

static u128 get(const be_hash *h)
{
    return (u128)h->hi << 64 | h->lo;
}

static void put(be_hash *h, u128 v)
{
    h->lo = (uint64_t)v;
    h->hi = (uint64_t)(v >> 64);
}

void be_hash_init(be_hash *h)
{
    h->hi = 0x6c62272e07bb0142ull; /* the offset basis */
    h->lo = 0x62b821756295c58dull;
}

void be_hash_bytes(be_hash *h, const void *p, size_t n)
{
    const u128 prime = (u128)1 << 88 | 0x13b;
    const unsigned char *s = p;
    u128 v = get(h);
    for (size_t i = 0; i < n; i++)
        v = (v ^ s[i]) * prime;
    put(h, v);
}

void be_hash_str(be_hash *h, const char *s)
{
    s = s ? s : "";
    be_hash_bytes(h, s, strlen(s) + 1);
}

void be_hash_u64(be_hash *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    be_hash_bytes(h, b, sizeof b);
}

void be_hash_hex(const be_hash *h, char out[33])
{
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h->hi, (unsigned long long)h->lo);
}

void be_hash_bytes_of(const be_hash *h, unsigned char out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(h->lo >> (8 * i));
        out[8 + i] = (unsigned char)(h->hi >> (8 * i));
    }
}

/* ---- the folder ---- */

/* ROOT: $XDG_CACHE_HOME/loom or $HOME/.cache/loom; false if neither. */
static bool cache_root(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, size, "%s/loom", xdg);
    else if (home && *home)
        n = snprintf(out, size, "%s/.cache/loom", home);
    else
        return false;
    return n > 0 && (size_t)n < size;
}

/* mkdir -p path (path is modified in place and restored). */
static bool make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            bool ok = mkdir(path, 0777) == 0 || errno == EEXIST;
            if (!end)
                *p = '/';
            if (!ok || end)
                return ok;
        }
    }
}

bool be_cache_dir(const char *sub, char *out, size_t size)
{
    char root[4096];
    if (!cache_root(root, sizeof root))
        return false;
    int n = sub ? snprintf(out, size, "%s/%s", root, sub) : snprintf(out, size, "%s", root);
    return n > 0 && (size_t)n < size && make_dirs(out);
}

void be_cache_touch(const char *path)
{
    utimensat(AT_FDCWD, path, NULL, 0);
}

int64_t be_cache_limit(void)
{
    const char *s = getenv("LOOM_CACHE_MAX_MB");
    char *end = NULL;
    long long mb = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || mb <= 0 || mb > (INT64_MAX >> 20))
        mb = 256;
    return (int64_t)mb << 20;
}

/* ---- pruning ---- */

typedef struct entry {
    char *path;
    int64_t bytes;
    struct timespec used;
    bool folder;
} entry;

typedef struct entries {
    entry *v;
    int n, cap;
    int64_t total;
    bool oom;
} entries;

static void entries_add(entries *es, const char *path, int64_t bytes, struct timespec used,
                        bool folder)
{
    if (es->n == es->cap) {
        int cap = es->cap ? 2 * es->cap : 64;
        entry *v = ir_realloc(es->v, (size_t)cap * sizeof *v);
        if (!v) {
            es->oom = true;
            return;
        }
        es->v = v;
        es->cap = cap;
    }
    size_t n = strlen(path) + 1;
    char *p = ir_malloc(n);
    if (!p) {
        es->oom = true;
        return;
    }
    es->v[es->n++] = (entry){memcpy(p, path, n), bytes, used, folder};
    es->total += bytes;
}

/* Calls fn(dir/name, stat, ctx) for each entry of dir but . and .. */
static void each_file(const char *dir, void (*fn)(const char *, const struct stat *, void *),
                      void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4352];
    struct stat st;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
            lstat(path, &st) == 0)
            fn(path, &st, ctx);
    if (d)
        closedir(d);
}

static void add_jit_file(const char *path, const struct stat *st, void *ctx)
{
    if (S_ISREG(st->st_mode))
        entries_add(ctx, path, st->st_size, st->st_mtim, false);
}

static void sum_file(const char *path, const struct stat *st, void *ctx)
{
    if (S_ISREG(st->st_mode))
        *(int64_t *)ctx += st->st_size;
}

/* ROOT's entries: jit/ file by file, runtime-* folders whole. */
static void add_root_entry(const char *path, const struct stat *st, void *ctx)
{
    const char *name = strrchr(path, '/') + 1;
    if (!S_ISDIR(st->st_mode))
        return;
    if (strcmp(name, "jit") == 0) {
        each_file(path, add_jit_file, ctx);
    } else if (strncmp(name, "runtime-", 8) == 0) {
        int64_t bytes = 0;
        each_file(path, sum_file, &bytes);
        entries_add(ctx, path, bytes, st->st_mtim, true);
    }
}

static int by_age(const void *a, const void *b)
{
    const struct timespec *x = &((const entry *)a)->used, *y = &((const entry *)b)->used;
    if (x->tv_sec != y->tv_sec)
        return x->tv_sec < y->tv_sec ? -1 : 1;
    return (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

static void unlink_file(const char *path, const struct stat *st, void *ctx)
{
    unlink(path);
}

void be_cache_prune(void)
{
    char root[4096];
    if (!cache_root(root, sizeof root))
        return;
    entries es = {0};
    each_file(root, add_root_entry, &es);
    int64_t limit = be_cache_limit();
    if (!es.oom && es.total > limit) {
        qsort(es.v, (size_t)es.n, sizeof *es.v, by_age);
        for (int i = 0; i + 1 < es.n && es.total > limit; i++) {
            if (es.v[i].folder) {
                each_file(es.v[i].path, unlink_file, NULL);
                rmdir(es.v[i].path);
            } else {
                unlink(es.v[i].path);
            }
            es.total -= es.v[i].bytes;
        }
    }
    for (int i = 0; i < es.n; i++)
        ir_free(es.v[i].path);
    ir_free(es.v);
}
