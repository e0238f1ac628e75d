/*
 * loom's on-disk cache folder, shared by the backends: the C backend's
 * runtime objects (ROOT/runtime-HASH/, backend/c/be_cc.c) and the JIT's
 * compiled objects (ROOT/jit/, backend/llvm/be_llvm_cache.c), where ROOT
 * is $XDG_CACHE_HOME/loom, default ~/.cache/loom. Here: the folder, the
 * 128-bit hash that names entries, and the bound on the folder's size
 * (oldest entries removed first; using an entry makes it new again).
 */
#ifndef LOOM_BE_CACHE_H
#define LOOM_BE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 128 bits (Fowler, Noll, Vo; IETF draft-eastlake-fnv): fast
 * enough for the keys and checksums here, not meant against an attacker
 * (the folder is the user's own). */
typedef struct be_hash {
    uint64_t lo, hi;
} be_hash;

void be_hash_init(be_hash *h);
void be_hash_bytes(be_hash *h, const void *p, size_t n);
/* Hashes s with its terminating NUL, so ("ab", "c") and ("a", "bc")
 * differ. NULL hashes as "". */
void be_hash_str(be_hash *h, const char *s);
void be_hash_u64(be_hash *h, uint64_t v);
/* 32 lowercase hex digits and a NUL. */
void be_hash_hex(const be_hash *h, char out[33]);
/* The 16 bytes of h, little-endian lo then hi (stored in cache files). */
void be_hash_bytes_of(const be_hash *h, unsigned char out[16]);

/* ROOT/sub (ROOT alone for sub NULL), created with its parents when
 * missing. False when there is no usable folder ($XDG_CACHE_HOME and $HOME
 * unset or empty, a path too long, or mkdir failing). */
bool be_cache_dir(const char *sub, char *out, size_t size);

/* Marks a cache entry (file or folder) as just used: its modification
 * time becomes now, so pruning keeps it. Errors are ignored. */
void be_cache_touch(const char *path);

/* The bound on the cache's size in bytes: $LOOM_CACHE_MAX_MB megabytes
 * when set to a positive number, else 256 MB. */
int64_t be_cache_limit(void);

/* Removes the least recently used entries of ROOT (files in ROOT/jit/,
 * folders ROOT/runtime-*) until their total size is within
 * be_cache_limit(); the newest entry is always kept. Other files in ROOT
 * are left alone; errors (another process pruning at once) are ignored. */
void be_cache_prune(void);

#endif
