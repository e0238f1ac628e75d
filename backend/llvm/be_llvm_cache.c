/*
 * The JIT's object cache (docs/jit.md, "Object cache"): a compiled object
 * is kept in ROOT/jit/KEY.obj (ROOT as in be_cache.h), KEY being the hash
 * be_llvm.c computes of everything that decides the machine code. A file
 * is a 64-byte header, then the ELF object:
 *
 *   0  "LOOMJITO"       magic
 *   8  u32 format       BE_LLVM_CACHE_FORMAT
 *  12  u32 0
 *  16  u64 size         bytes of the object that follows
 *  24  u8 key[16]       KEY again (the name alone is not trusted)
 *  40  u8 sum[16]       FNV-1a-128 of the object
 *  56  u8 0[8]
 *
 * little-endian. A file that is short, long, of another format or whose
 * sum does not match is not used (the caller compiles and stores a fresh
 * one over it). Files are written under a temporary name and renamed
 * (fe_wfile), so readers in other processes see a whole file or none.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "be_cache.h"
#include "be_llvm_internal.h"
#include "fe_jsontext.h"

/* Bump when the file layout or the meaning of a key changes. */
#define BE_LLVM_CACHE_FORMAT 1u
#define HEADER_BYTES 64
#define MAX_OBJECT_BYTES ((int64_t)1 << 30)

static const char magic[8] = {'L', 'O', 'O', 'M', 'J', 'I', 'T', 'O'};

bool be_llvm_cache_on(const be_llvm_opts *o)
{
    const char *env = getenv("LOOM_JIT_CACHE");
    char dir[4096];
    return !o->no_cache && !(env && strcmp(env, "0") == 0) && be_cache_dir("jit", dir, sizeof dir);
}

/* ROOT/jit/KEY.obj (the folder created); false without a cache folder. */
static bool entry_path(const be_hash *key, char *out, size_t size)
{
    char dir[4096], hex[33];
    if (!be_cache_dir("jit", dir, sizeof dir))
        return false;
    be_hash_hex(key, hex);
    int n = snprintf(out, size, "%s/%s.obj", dir, hex);
    return n > 0 && (size_t)n < size;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The header for an object of n bytes stored under key. */
static void make_header(unsigned char h[HEADER_BYTES], const be_hash *key, const void *obj,
                        size_t n)
{
    memset(h, 0, HEADER_BYTES);
    memcpy(h, magic, sizeof magic);
    put_u64(h + 8, BE_LLVM_CACHE_FORMAT);
    put_u64(h + 16, n);
    be_hash_bytes_of(key, h + 24);
    be_hash sum;
    be_hash_init(&sum);
    be_hash_bytes(&sum, obj, n);
    be_hash_bytes_of(&sum, h + 40);
}

/* Reads the whole file at path (at most max bytes) into *data. */
static bool read_file(const char *path, int64_t max, unsigned char **data, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    *data = NULL;
    if (fd < 0)
        return false;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= max &&
              (*data = ir_malloc((size_t)st.st_size));
    size_t got = 0;
    while (ok && got < (size_t)st.st_size) {
        ssize_t r = read(fd, *data + got, (size_t)st.st_size - got);
        ok = r > 0;
        got += ok ? (size_t)r : 0;
    }
    close(fd);
    if (!ok) {
        ir_free(*data);
        *data = NULL;
    }
    *n = got;
    return ok;
}

LLVMMemoryBufferRef be_llvm_cache_load(const be_hash *key)
{
    char path[4200];
    unsigned char *data, expect[HEADER_BYTES];
    size_t n;
    if (!entry_path(key, path, sizeof path) ||
        !read_file(path, MAX_OBJECT_BYTES + HEADER_BYTES, &data, &n))
        return NULL;
    LLVMMemoryBufferRef buf = NULL;
    if (n > HEADER_BYTES && get_u64(data + 16) == n - HEADER_BYTES) {
        make_header(expect, key, data + HEADER_BYTES, n - HEADER_BYTES);
        if (memcmp(expect, data, HEADER_BYTES) == 0)
            buf = LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)data + HEADER_BYTES,
                                                            n - HEADER_BYTES, path);
    }
    ir_free(data);
    if (buf)
        be_cache_touch(path);
    return buf;
}

bool be_llvm_cache_store(const be_hash *key, const void *obj, size_t n)
{
    char path[4200];
    unsigned char header[HEADER_BYTES];
    if (!n || (int64_t)n > MAX_OBJECT_BYTES || !entry_path(key, path, sizeof path))
        return false;
    make_header(header, key, obj, n);
    ir_diag d;
    ir_diag_init(&d);
    fe_wfile w;
    bool ok = fe_wfile_open(&w, path, &d) == LOOM_STATUS_OK;
    if (ok) {
        fe_wfile_write(&w, header, sizeof header);
        fe_wfile_write(&w, obj, n);
        ok = fe_wfile_close(&w, &d) == LOOM_STATUS_OK && fe_wfile_commit(&w, &d) == LOOM_STATUS_OK;
    }
    ir_diag_free(&d);
    if (ok)
        be_cache_prune();
    return ok;
}
