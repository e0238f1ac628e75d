/*
 * The on-disk cache (backend/be_cache.c, backend/llvm/be_llvm_cache.c):
 * a second JIT compilation of a model loads the stored object and runs
 * bit-identically; a changed option misses; a corrupt or truncated entry
 * is compiled and stored again; with the cache off nothing is written;
 * processes compiling at once all succeed; pruning removes the oldest
 * entries past the bound. Every test points XDG_CACHE_HOME at a folder of
 * its own (the suite sets LOOM_JIT_CACHE=0, which these tests clear), so
 * the user's cache is neither read nor written. A small model (a few tens
 * of milliseconds to compile); about 1 s in all.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "be_cache.h"
#include "leak_check.h"
#include "loom.h"

/* A constant, a kernel call (MatMul: sgemm), fast exp and tanh. */
static const char model_lir[] =
    "graph @cached(%x: f32[2,4]) {\n"
    "  %w: f32[4,3] = const [0.5, -1.0, 0.25, 2.0, 0.75, -0.5, -1.5, 1.0, 0.125, 0.0, -0.25, "
    "1.5]\n"
    "  %m = MatMul(%x, %w)\n"
    "  %s = Sigmoid(%m)\n"
    "  %t = Tanh(%m)\n"
    "  %y = Mul(%s, %t)\n"
    "  return %y\n"
    "}\n";

static const float x[8] = {-0.75f, -0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f, 1.0f};

static char root[512]; /* this test's XDG_CACHE_HOME */
static char jit_dir[600];

/* Gives the test a fresh, empty cache home with the JIT cache on. */
static void private_cache(void)
{
    snprintf(root, sizeof root, "%s/cache-XXXXXX", LOOM_TEST_TMP);
    cr_assert(mkdtemp(root));
    snprintf(jit_dir, sizeof jit_dir, "%s/loom/jit", root);
    setenv("XDG_CACHE_HOME", root, 1);
    unsetenv("LOOM_JIT_CACHE");
    unsetenv("LOOM_CACHE_MAX_MB");
}

static void remove_cache(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

/* Compiles the model with the JIT (threads, no_cache as given), runs it on
 * x into y and returns where the object came from. */
static loom_cache_use compile_run(int threads, int no_cache, float y[6])
{
    loom_model *m = NULL;
    loom_compiled *c = NULL;
    loom_workspace *w = NULL;
    loom_diag dg;
    cr_assert_eq(loom_model_load_memory(model_lir, sizeof model_lir - 1, LOOM_FORMAT_LIR, NULL,
                                        NULL, &m, &dg),
                 LOOM_STATUS_OK, "%s", dg.message);
    loom_compile_options o = loom_compile_options_default();
    o.backend = LOOM_BACKEND_JIT;
    o.threads = threads;
    o.no_cache = no_cache;
    cr_assert_eq(loom_compile(m, &o, &c, &dg), LOOM_STATUS_OK, "%s", dg.message);
    loom_model_free(m);
    loom_compile_times t;
    cr_assert_eq(loom_compiled_times(c, &t, &dg), LOOM_STATUS_OK);
    if (t.cache == LOOM_CACHE_HIT)
        cr_assert_eq(t.opt_ms, 0.0, "a cache hit runs no LLVM passes");
    cr_assert_eq(loom_workspace_new(c, &w, &dg), LOOM_STATUS_OK, "%s", dg.message);
    memset(y, 0, 6 * sizeof *y);
    cr_assert_eq(loom_run(c, w, (const void *[]){x}, 1, (void *[]){y}, 1, &dg), LOOM_STATUS_OK,
                 "%s", dg.message);
    loom_workspace_free(w);
    loom_compiled_free(c);
    return t.cache;
}

/* Number of files in the JIT cache folder; *path gets the last one. */
static int entries(char *path, size_t size)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s' 2>/dev/null", jit_dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char name[256];
    int n = 0;
    while (fgets(name, sizeof name, p)) {
        name[strcspn(name, "\n")] = '\0';
        if (path)
            snprintf(path, size, "%s/%s", jit_dir, name);
        n++;
    }
    pclose(p);
    return n;
}

Test(cache, second_compile_hits_and_runs_bit_identically)
{
    private_cache();
    float a[6], b[6], off[6];
    cr_assert_eq(compile_run(1, 0, a), LOOM_CACHE_STORED);
    cr_assert_eq(entries(NULL, 0), 1);
    cr_assert_eq(compile_run(1, 0, b), LOOM_CACHE_HIT);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "outputs from the cached object differ");
    cr_assert_eq(compile_run(1, 1, off), LOOM_CACHE_OFF);
    cr_assert_eq(memcmp(a, off, sizeof a), 0, "outputs with the cache off differ");
    cr_assert_eq(entries(NULL, 0), 1);
    remove_cache();
    assert_no_leaks();
}

Test(cache, changed_option_misses)
{
    private_cache();
    float a[6], b[6];
    cr_assert_eq(compile_run(1, 0, a), LOOM_CACHE_STORED);
    cr_assert_eq(compile_run(2, 0, b), LOOM_CACHE_STORED, "two threads share one thread's object");
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    cr_assert_eq(entries(NULL, 0), 2);
    cr_assert_eq(compile_run(2, 0, b), LOOM_CACHE_HIT);
    remove_cache();
}

/* Overwrites the entry at path with n bytes of its own start, one byte
 * flipped at flip (flip < 0: none). */
static void damage(const char *path, off_t n, off_t flip)
{
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    if (flip >= 0) {
        unsigned char c;
        cr_assert_eq(pread(fd, &c, 1, flip), 1);
        c ^= 0x5a;
        cr_assert_eq(pwrite(fd, &c, 1, flip), 1);
    }
    cr_assert_eq(ftruncate(fd, n), 0);
    close(fd);
}

Test(cache, corrupt_or_truncated_entry_is_rebuilt)
{
    private_cache();
    float want[6], y[6];
    char path[900];
    struct stat st;
    cr_assert_eq(compile_run(1, 0, want), LOOM_CACHE_STORED);
    cr_assert_eq(entries(path, sizeof path), 1);
    cr_assert_eq(stat(path, &st), 0);
    const off_t cases[][2] = {
        {st.st_size, st.st_size - 100}, /* a byte of the object */
        {st.st_size, 30},               /* a byte of the key */
        {st.st_size / 2, -1},           /* truncated */
        {10, -1},                       /* shorter than the header */
        {0, -1},                        /* empty */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        damage(path, cases[k][0], cases[k][1]);
        cr_assert_eq(compile_run(1, 0, y), LOOM_CACHE_STORED, "case %zu: not rebuilt", k);
        cr_assert_eq(memcmp(want, y, sizeof y), 0, "case %zu", k);
        cr_assert_eq(compile_run(1, 0, y), LOOM_CACHE_HIT, "case %zu: rebuilt entry not used", k);
    }
    cr_assert_eq(entries(NULL, 0), 1, "no temporary files left behind");
    remove_cache();
}

Test(cache, off_writes_nothing)
{
    private_cache();
    float y[6];
    char loom_dir[600];
    struct stat st;
    snprintf(loom_dir, sizeof loom_dir, "%s/loom", root);
    cr_assert_eq(compile_run(1, 1, y), LOOM_CACHE_OFF);
    setenv("LOOM_JIT_CACHE", "0", 1);
    cr_assert_eq(compile_run(1, 0, y), LOOM_CACHE_OFF);
    cr_assert_neq(stat(loom_dir, &st), 0, "%s was created", loom_dir);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    unsetenv("LOOM_JIT_CACHE");
    cr_assert_eq(compile_run(1, 0, y), LOOM_CACHE_OFF, "no cache folder: off");
    remove_cache();
}

/* Four processes compile the model at once into an empty cache (before
 * this process initializes LLVM or OpenBLAS), each sending its output
 * through a pipe; all succeed, agree with the uncached build and leave
 * one entry. */
Test(cache, processes_compiling_at_once_all_succeed)
{
    private_cache();
    int fds[4][2];
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pipe(fds[i]), 0);
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            float y[6];
            compile_run(1, 0, y);
            _exit(write(fds[i][1], y, sizeof y) != (ssize_t)sizeof y);
        }
        close(fds[i][1]);
    }
    float want[6], y[6];
    for (int i = 0; i < 4; i++) {
        int status;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", i);
        cr_assert_eq(read(fds[i][0], y, sizeof y), (ssize_t)sizeof y);
        close(fds[i][0]);
        cr_assert_eq(compile_run(1, 1, want), LOOM_CACHE_OFF);
        cr_assert_eq(memcmp(want, y, sizeof y), 0, "process %d", i);
    }
    cr_assert_eq(entries(NULL, 0), 1);
    cr_assert_eq(compile_run(1, 0, y), LOOM_CACHE_HIT);
    remove_cache();
}

/* ---- the bound ---- */

/* Sets path's modification time to age seconds ago. */
static void set_age(const char *path, int age)
{
    time_t when = time(NULL) - age;
    struct timespec t[2] = {{.tv_sec = when}, {.tv_sec = when}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Writes dir/name, kib KiB, last modified age seconds ago. */
static void put(const char *dir, const char *name, int kib, int age)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    static char block[1024];
    for (int i = 0; i < kib; i++)
        cr_assert_eq(fwrite(block, 1, sizeof block, f), sizeof block);
    fclose(f);
    set_age(path, age);
}

static bool exists(const char *dir, const char *name)
{
    char path[800];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

Test(cache, prune_removes_oldest_past_the_bound)
{
    private_cache();
    char loom[600], rt[700], dir[600], path[800];
    cr_assert(be_cache_dir("jit", dir, sizeof dir));
    cr_assert(be_cache_dir(NULL, loom, sizeof loom));
    cr_assert(be_cache_dir("runtime-0123", rt, sizeof rt));
    /* 2.3 MB of entries against a 1 MB bound: the oldest go first, the
     * runtime folder (older than the newest two objects) as one entry */
    put(dir, "a.obj", 512, 500);
    put(dir, "b.obj", 512, 400);
    put(rt, "loomrt_gemm.o", 512, 300);
    set_age(rt, 300);
    put(dir, "c.obj", 400, 200);
    put(dir, "d.obj", 400, 100);
    put(loom, "notes.txt", 2048, 900);
    setenv("LOOM_CACHE_MAX_MB", "1", 1);
    cr_assert_eq(be_cache_limit(), 1 << 20);
    be_cache_prune();
    cr_assert(!exists(dir, "a.obj") && !exists(dir, "b.obj"));
    cr_assert(!exists(loom, "runtime-0123"), "the runtime folder is older than c and d");
    cr_assert(exists(dir, "c.obj") && exists(dir, "d.obj"));
    cr_assert(exists(loom, "notes.txt"), "files that are not entries stay");
    /* a recently used entry survives: touching c makes d the oldest */
    snprintf(path, sizeof path, "%s/c.obj", dir);
    be_cache_touch(path);
    put(dir, "e.obj", 400, 50);
    be_cache_prune();
    cr_assert(exists(dir, "c.obj") && exists(dir, "e.obj") && !exists(dir, "d.obj"));
    /* the newest entry stays even alone past the bound */
    put(dir, "f.obj", 1500, -60);
    be_cache_prune();
    cr_assert(exists(dir, "f.obj") && !exists(dir, "c.obj") && !exists(dir, "e.obj"));
    setenv("LOOM_CACHE_MAX_MB", "0.5", 1);
    cr_assert_eq(be_cache_limit(), (int64_t)256 << 20, "not a whole number: the default");
    remove_cache();
    assert_no_leaks();
}
