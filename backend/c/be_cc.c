/*
 * Driving the system C compiler: builds the emitted model into a shared
 * object with `cc -O3 -march=native -mtune=generic -shared` and loads it with dlopen. The
 * compiler is $CC (default "cc"), split into words the way make hands it to
 * the shell, so CC="gcc -O0" works. OpenBLAS is found through its Debian
 * include and library paths unless standalone.
 *
 * The runtime (loomrt_gemm.c, loomrt_dwconv.c) takes most of the build
 * time (about 14 s of cc at -O3, its files compiled side by side on the
 * CPUs; a model's own .c a second or less) and changes only with loom,
 * so unless the .c carries it inline its objects are built once, with
 * or without OpenBLAS, and kept in loom's cache folder (be_cache.h:
 * $XDG_CACHE_HOME/loom, default ~/.cache/loom), in a folder named after a
 * hash of the runtime sources, the compiler words, the flags and the host
 * CPU. Each object is copied in under a temporary name and renamed, so
 * concurrent builds never see a partial file; a build that uses the folder
 * marks it used, one that fills it prunes the cache to its bound. Without a
 * usable cache folder, the runtime is built beside the model every time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "be_c.h"
#include "be_cache.h"
#include "be_cc.h"
#include "fe_jsontext.h"

extern char **environ;

#define OPENBLAS_INC "/usr/include/x86_64-linux-gnu/openblas-pthread"
#define MAX_ARGV 64
#define BE_CC_MAX_OBJS 16 /* the runtime's source files, with room to grow */

/* An argument vector under construction; strings are copies. */
typedef struct cc_argv {
    char *v[MAX_ARGV + 1];
    int n;
    bool full; /* an argument did not fit or memory ran out */
} cc_argv;

static void push(cc_argv *a, const char *s)
{
    char *c = a->n < MAX_ARGV ? ir_malloc(strlen(s) + 1) : NULL;
    if (!c) {
        a->full = true;
        return;
    }
    a->v[a->n++] = strcpy(c, s);
    a->v[a->n] = NULL;
}

/* Appends X + Y (a folder and a file name, or an option and a path). */
static void push2(cc_argv *a, const char *x, const char *y)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s%s", x, y);
    push(a, buf);
}

static void argv_free(cc_argv *a)
{
    for (int i = 0; i < a->n; i++)
        ir_free(a->v[i]);
    a->n = 0;
}

/* Appends the words of s: blanks separate words, single quotes keep
 * everything, double quotes keep all but the backslash escapes, as sh does
 * with the text make hands it (no variables or globs). */
static void push_words(cc_argv *a, const char *s)
{
    char word[4096];
    size_t n = 0;
    bool in_word = false;
    for (char q = 0;; s++) {
        char c = *s;
        if (c == '\0' || (!q && (c == ' ' || c == '\t' || c == '\n'))) {
            if (in_word) {
                word[n] = '\0';
                push(a, word);
            }
            n = 0;
            in_word = false;
            if (c == '\0')
                return;
            continue;
        }
        in_word = true;
        if (!q && (c == '\'' || c == '"')) {
            q = c;
            continue;
        }
        if (q == c) {
            q = 0;
            continue;
        }
        if (c == '\\' && q != '\'' && s[1])
            c = *++s;
        if (n + 1 < sizeof word)
            word[n++] = c;
    }
}

/* How a child ended, in words. */
static void describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "ended with wait status %d", status);
}

/* Starts argv (a compiler run) as a child; false, with d told, when it
 * cannot. */
static bool cc_start(char *const *argv, pid_t *pid, ir_diag *d)
{
    int rc = posix_spawnp(pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0)
        ir_diag_errorf(d, "cannot run %s: %s%s", argv[0], strerror(rc),
                       rc == ENOENT ? " (set $CC, or install gcc: scripts/install-deps.sh)" : "");
    return rc == 0;
}

/* Reaps child pid, the command cmd (compiling file; NULL for others),
 * named so in messages: false, with d told, when it failed or cannot be
 * waited for. With hang 0 it does not wait: *ended is false while the
 * child runs. */
static bool cc_reap(pid_t pid, const char *cmd, const char *file, int hang, bool *ended,
                    ir_diag *d)
{
    const char *on = file ? " compiling " : "", *f = file ? file : "";
    int status;
    pid_t r;
    *ended = true;
    while ((r = waitpid(pid, &status, hang ? 0 : WNOHANG)) < 0)
        if (errno != EINTR) {
            ir_diag_errorf(d, "waiting for %s%s%s: %s", cmd, on, f, strerror(errno));
            return false;
        }
    if (r == 0) {
        *ended = false;
        return true;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[128];
        describe_status(status, how, sizeof how);
        ir_diag_errorf(d, "%s%s%s %s (its messages are above)", cmd, on, f, how);
        return false;
    }
    return true;
}

bool be_cc_spawn(char *const *argv, ir_diag *d)
{
    pid_t pid;
    bool ended;
    return cc_start(argv, &pid, d) && cc_reap(pid, argv[0], NULL, 1, &ended, d);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The compiler words and the flags every object of this build shares. */
static void push_common(cc_argv *a, const be_cc_opts *opts)
{
    const char *cc = opts->cc ? opts->cc : getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    push_words(a, cc);
    push(a, "-std=c99");
    /* sanitized builds are for checking, not speed: -O1 compiles them
     * several times faster */
    push(a, opts->sanitize ? "-O1" : "-O3");
    push(a, "-march=native");
    /* Generic tuning: GCC 12.2 (Debian 12) tuned for Intel AVX-512 cores
     * (skylake-avx512 and later: its avx256_store_by_pieces) stores a
     * constant array's copy as a wrong broadcast, e.g. {-1,0,-1,0,0,0,0,0}
     * as {-1,0,-1,0,-1,0,-1,0} (docs/emitted-c.md "Compiler flags"). */
    push(a, "-mtune=generic");
    push(a, "-fPIC");
    if (opts->sanitize)
        push(a, "-fsanitize=address,undefined");
    if (!opts->standalone) {
        push(a, "-DLOOMRT_USE_CBLAS");
        push(a, "-I" OPENBLAS_INC);
    }
}

/* ---- the runtime object cache ---- */

/* Hashes the first "flags" line of /proc/cpuinfo: -march=native differs
 * between hosts that share a home folder. */
static void hash_cpu(be_hash *h)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            be_hash_str(h, line);
            break;
        }
    if (f)
        fclose(f);
}

/* The cache folder for these flags (be_cache.h), created if missing;
 * false when there is no usable one. */
static bool cache_dir(const cc_argv *common, char *out, size_t size)
{
    be_hash h;
    be_hash_init(&h);
    for (int k = 0; be_runtime_names[k]; k++) {
        be_hash_str(&h, be_runtime_names[k]);
        be_hash_str(&h, be_runtime_sources[k]);
    }
    for (int i = 0; i < common->n; i++)
        be_hash_str(&h, common->v[i]);
    hash_cpu(&h);
    char name[64], hex[33];
    be_hash_hex(&h, hex);
    snprintf(name, sizeof name, "runtime-%s", hex);
    return be_cache_dir(name, out, size);
}

/* Copies src to dst through a temporary file renamed into place. */
static bool copy_atomic(const char *src, const char *dst)
{
    char buf[65536];
    ir_diag d;
    ir_diag_init(&d);
    fe_wfile w;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    bool ok = in >= 0 && fe_wfile_open(&w, dst, &d) == LOOM_STATUS_OK;
    ssize_t n = 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        fe_wfile_write(&w, buf, (size_t)n);
    if (ok && (n != 0 || fe_wfile_close(&w, &d) != LOOM_STATUS_OK ||
               fe_wfile_commit(&w, &d) != LOOM_STATUS_OK)) {
        fe_wfile_abort(&w); /* a read error; close and commit clean up after themselves */
        ok = false;
    }
    if (in >= 0)
        close(in);
    ir_diag_free(&d);
    return ok;
}

/* The length of name without its ".c", or -1 when it is not a C file
 * (the runtime's headers). */
static int c_stem(const char *name)
{
    size_t len = strlen(name);
    return len >= 2 && strcmp(name + len - 2, ".c") == 0 ? (int)len - 2 : -1;
}

/* Compiles the runtime's sources in dir (be_c_write_runtime's) into
 * objects beside them, one compiler a CPU at once, each next file taken
 * by the first compiler to end: the files' times are uneven (the GEMM's
 * and the depthwise kernels' most of the whole), and one after another
 * they were the sum. On the first failure no more are started; the
 * running ones are waited for. */
static bool compile_runtime(const char *dir, const cc_argv *common, ir_diag *d)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cpus < 1 ? 1 : cpus > BE_CC_MAX_OBJS ? BE_CC_MAX_OBJS : (int)cpus;
    pid_t run[BE_CC_MAX_OBJS];
    const char *run_src[BE_CC_MAX_OBJS]; /* the file each compiles */
    int n_run = 0, k = 0;
    bool ok = true;
    for (;;) {
        while (ok && n_run < jobs && be_runtime_names[k]) {
            const char *name = be_runtime_names[k++];
            int stem = c_stem(name);
            if (stem < 0)
                continue;
            char src[4096], obj[4096];
            snprintf(src, sizeof src, "%s/%s", dir, name);
            snprintf(obj, sizeof obj, "%s/%.*s.o", dir, stem, name);
            cc_argv a = {0};
            for (int w = 0; w < common->n; w++)
                push(&a, common->v[w]);
            push(&a, "-c");
            push(&a, src);
            push(&a, "-o");
            push(&a, obj);
            if (a.full)
                ir_diag_errorf(d, "%s: out of memory or too many compiler words in $CC", src);
            ok = !a.full && cc_start(a.v, &run[n_run], d);
            run_src[n_run] = name;
            n_run += ok;
            argv_free(&a);
        }
        if (n_run == 0)
            return ok;
        int before = n_run;
        for (int i = 0; i < n_run; i++) {
            bool ended;
            ok = cc_reap(run[i], common->v[0], run_src[i], 0, &ended, d) && ok;
            if (ended) {
                n_run--;
                run[i] = run[n_run];
                run_src[i--] = run_src[n_run];
            }
        }
        if (n_run == before) { /* none ended: look again in 2 ms */
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
}

/* Fills objs[] with the runtime's object files: from the cache, else
 * compiled in dir (from the sources be_c_write_runtime put there) and
 * copied into the cache for the next build. */
static bool runtime_objects(const char *dir, const cc_argv *common, char objs[][4096], int *n_objs,
                            ir_diag *d)
{
    char cache[4096];
    bool cached = cache_dir(common, cache, sizeof cache), all = cached;
    *n_objs = 0;
    for (int k = 0; be_runtime_names[k]; k++) {
        const char *name = be_runtime_names[k];
        int stem = c_stem(name);
        if (stem < 0)
            continue;
        if (*n_objs == BE_CC_MAX_OBJS ||
            snprintf(objs[*n_objs], 4096, "%s/%.*s.o", cache, stem, name) >= 4096) {
            ir_diag_errorf(d, "%s: too many runtime files or too long a path", cache);
            return false;
        }
        all = exists(objs[(*n_objs)++]) && all;
    }
    if (all) {
        be_cache_touch(cache);
        return true;
    }
    if (!compile_runtime(dir, common, d))
        return false;
    for (int k = 0, i = 0; be_runtime_names[k]; k++) {
        const char *name = be_runtime_names[k];
        int stem = c_stem(name);
        if (stem < 0)
            continue;
        char obj[4096];
        snprintf(obj, sizeof obj, "%s/%.*s.o", dir, stem, name);
        if (!cached || !copy_atomic(obj, objs[i]))
            snprintf(objs[i], 4096, "%s", obj); /* no cache: use it where it is */
        i++;
    }
    if (cached)
        be_cache_prune();
    return true;
}

/* ---- building and loading ---- */

/* The link command: model, weights, runtime objects, libraries. */
static bool build_so(const char *dir, const char *base, const char *name, const be_cc_opts *opts,
                     ir_diag *d)
{
    cc_argv a = {0};
    push_common(&a, opts);
    char objs[BE_CC_MAX_OBJS][4096];
    int n_objs = 0;
    if (!opts->inline_runtime && !runtime_objects(dir, &a, objs, &n_objs, d)) {
        argv_free(&a);
        return false;
    }
    push(&a, "-shared");
    /* the model's calls bind to its own runtime (-O3 -march=native): in a
     * host linked with libloom.so, whose loomrt_* are exported too, they
     * went to libloom's copy (cnn_ts 1.35x slower there than in `loom`) */
    push(&a, "-Wl,-Bsymbolic");
    push2(&a, "-Wa,-I,", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.so", dir, base);
    push(&a, "-o");
    push(&a, path);
    snprintf(path, sizeof path, "%s/%s.c", dir, base);
    push(&a, path);
    snprintf(path, sizeof path, "%s/%s.weights.S", dir, name);
    if (exists(path))
        push(&a, path);
    for (int i = 0; i < n_objs; i++)
        push(&a, objs[i]);
    if (!opts->standalone)
        push(&a, "-lopenblas");
    push(&a, "-lm");
    if (a.full)
        ir_diag_errorf(d, "%s/%s.c: out of memory or too many compiler words in $CC", dir, base);
    bool ok = !a.full && be_cc_spawn(a.v, d);
    argv_free(&a);
    return ok;
}

loom_status be_cc_build(const char *dir, const char *base, const char *name,
                        const be_cc_opts *opts, be_cc_module *m, ir_diag *d)
{
    if (!build_so(dir, base, name, opts, d))
        return LOOM_STATUS_IO;
    char path[4200], sym[512];
    snprintf(path, sizeof path, "%s/%s.so", dir, base);
    m->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        ir_diag_errorf(d, "%s: cannot load: %s", path, dlerror());
        return LOOM_STATUS_IO;
    }
    snprintf(sym, sizeof sym, "%s_run_v", name);
    *(void **)&m->run = dlsym(m->handle, sym);
    snprintf(sym, sizeof sym, "%s_last_error", name);
    *(void **)&m->last_error = dlsym(m->handle, sym);
    if (!m->run || !m->last_error) {
        ir_diag_errorf(d, "%s: no symbol %s_run_v or %s_last_error", path, name, name);
        be_cc_unload(m);
        return LOOM_STATUS_INTERNAL;
    }
    return LOOM_STATUS_OK;
}

void be_cc_unload(be_cc_module *m)
{
    if (m->handle)
        dlclose(m->handle);
    m->handle = NULL;
    m->run = NULL;
    m->last_error = NULL;
}
