/*
 * Driving the system C compiler: builds the emitted model and the runtime
 * into one shared object with `cc -O3 -march=native -shared` and loads it
 * with dlopen. The compiler is found through $CC (default "cc"); OpenBLAS
 * through its Debian include and library paths unless standalone.
 */
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "be_cc.h"

extern char **environ;

#define OPENBLAS_INC "/usr/include/x86_64-linux-gnu/openblas-pthread"

bool be_cc_spawn(char *const *argv, ir_diag *d)
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        ir_diag_errorf(d, "cannot run %s: %s", argv[0], strerror(rc));
        return false;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            ir_diag_errorf(d, "waiting for %s: %s", argv[0], strerror(errno));
            return false;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ir_diag_errorf(d, "%s failed (status %d)", argv[0], status);
        return false;
    }
    return true;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Appends a copy of s to argv (strings freed by free_argv). */
static void push(char **argv, int *n, const char *s)
{
    argv[*n] = ir_malloc(strlen(s) + 1);
    if (argv[*n])
        strcpy(argv[(*n)++], s);
}

static void free_argv(char **argv, int n)
{
    for (int i = 0; i < n; i++)
        ir_free(argv[i]);
}

loom_status be_cc_build(const char *dir, const char *base, const char *name,
                        const be_cc_opts *opts, be_cc_module *m, ir_diag *d)
{
    char *argv[32] = {0}, path[4096];
    int n = 0;
    const char *cc = opts->cc ? opts->cc : getenv("CC") ? getenv("CC") : "cc";
    push(argv, &n, cc);
    push(argv, &n, "-std=c99");
    /* sanitized builds are for checking, not speed: -O1 compiles them
     * several times faster */
    push(argv, &n, opts->sanitize ? "-O1" : "-O3");
    push(argv, &n, "-march=native");
    push(argv, &n, "-fPIC");
    push(argv, &n, "-shared");
    if (opts->sanitize)
        push(argv, &n, "-fsanitize=address,undefined");
    snprintf(path, sizeof path, "-Wa,-I,%s", dir);
    push(argv, &n, path);
    snprintf(path, sizeof path, "%s/%s.so", dir, base);
    push(argv, &n, "-o");
    push(argv, &n, path);
    snprintf(path, sizeof path, "%s/%s.c", dir, base);
    push(argv, &n, path);
    snprintf(path, sizeof path, "%s/%s.weights.S", dir, name);
    if (exists(path))
        push(argv, &n, path);
    if (!opts->standalone) {
        push(argv, &n, "-DLOOMRT_USE_CBLAS");
        push(argv, &n, "-I" OPENBLAS_INC);
        snprintf(path, sizeof path, "%s/loomrt_gemm.c", dir);
        push(argv, &n, path);
        snprintf(path, sizeof path, "%s/loomrt_conv.c", dir);
        push(argv, &n, path);
        snprintf(path, sizeof path, "%s/loomrt_cpu.c", dir);
        push(argv, &n, path);
        push(argv, &n, "-lopenblas");
    }
    push(argv, &n, "-lm");
    bool ok = n < 31 && be_cc_spawn(argv, d);
    free_argv(argv, n);
    if (!ok)
        return LOOM_STATUS_INTERNAL;
    snprintf(path, sizeof path, "%s/%s.so", dir, base);
    m->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        ir_diag_errorf(d, "%s: cannot load: %s", path, dlerror());
        return LOOM_STATUS_INTERNAL;
    }
    char sym[512];
    snprintf(sym, sizeof sym, "%s_run_v", name);
    *(void **)&m->run = dlsym(m->handle, sym);
    if (!m->run) {
        ir_diag_errorf(d, "%s: no symbol %s", path, sym);
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
}
