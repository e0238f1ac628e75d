/*
 * Compiling a model to C for `loom compile`, and building it into a loaded
 * shared object for `run --backend=c` and `bench`: the build happens in a
 * temporary folder under $TMPDIR (default /tmp), which is removed on every
 * exit path, SIGINT and SIGTERM included (the handler removes the files
 * through a directory stream opened beforehand, then re-raises). Slow steps
 * announce themselves on stderr after a second (cli_progress_begin).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "be.h"
#include "loom_cli.h"

/* ---- progress notes ---- */

static char progress_msg[256];
static size_t progress_len;

static void progress_alarm(int sig)
{
    (void)sig;
    ssize_t n = write(STDERR_FILENO, progress_msg, progress_len);
    (void)n;
}

void cli_progress_begin(const char *what)
{
    int n = snprintf(progress_msg, sizeof progress_msg, "loom: %s...\n", what);
    progress_len = n < 0 ? 0 : (size_t)n < sizeof progress_msg ? (size_t)n
                                                                : sizeof progress_msg - 1;
    struct sigaction sa = {.sa_handler = progress_alarm, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_sec = 1}};
    setitimer(ITIMER_REAL, &it, NULL);
}

void cli_progress_end(void)
{
    struct itimerval it = {0};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- the temporary build folder ---- */

static char temp_dir[4096];
static DIR *temp_stream; /* opened when the folder is made, for the handler */

/* Removes the files of the temporary folder, then the folder. Uses only the
 * stream opened beforehand, unlinkat and rmdir, so a signal handler may
 * call it. */
static void temp_remove(void)
{
    if (!temp_stream)
        return;
    rewinddir(temp_stream);
    struct dirent *e;
    while ((e = readdir(temp_stream)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(temp_stream), e->d_name, 0);
    rmdir(temp_dir);
}

static void temp_signal(int sig)
{
    temp_remove();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Creates $TMPDIR/loom-build-XXXXXX and arms the signal handlers. */
static bool temp_create(char *out, size_t size, ir_diag *d)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(temp_dir, sizeof temp_dir, "%s/loom-build-XXXXXX", tmp);
    if (!mkdtemp(temp_dir)) {
        ir_diag_errorf(d, "%s: cannot create a temporary folder: %s", temp_dir, strerror(errno));
        temp_dir[0] = '\0';
        return false;
    }
    temp_stream = opendir(temp_dir);
    if (!temp_stream) {
        ir_diag_errorf(d, "%s: cannot open: %s", temp_dir, strerror(errno));
        rmdir(temp_dir);
        return false;
    }
    struct sigaction sa = {.sa_handler = temp_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    snprintf(out, size, "%s", temp_dir);
    return true;
}

static void temp_release(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    temp_remove();
    if (temp_stream)
        closedir(temp_stream);
    temp_stream = NULL;
    temp_dir[0] = '\0';
}

/* ---- compiling and building ---- */

loom_status cli_compile_to(ir_graph *g, const cli_opts *o, const char *dir, const char *base,
                           const char *name, be_weights_mode mode, loop_func **out_f,
                           ir_diag *d)
{
    loop_func *f = NULL;
    lower_opts lopts = {.unchecked = o->unchecked};
    loom_status st = be_compile_with(g, name, &o->passes, &lopts, &f, d);
    if (st)
        return st;
    be_c_opts copts = {.weights = mode, .standalone = o->standalone, .source_name = o->model,
                       .threads = (int)o->threads};
    st = be_c_emit(f, &copts, dir, base, d);
    if (!st && !o->standalone)
        st = be_c_write_runtime(dir, d);
    if (out_f && !st)
        *out_f = f;
    else
        loop_func_free(f);
    return st;
}

/* --backend=jit: compiles g in-process through LLVM (tools/loom_jit.c). */
static loom_status build_jit(ir_graph *g, const cli_opts *o, cli_built *bm, ir_diag *d)
{
    lower_opts lopts = {.unchecked = o->unchecked};
    cli_progress_begin("compiling the model with LLVM");
    loom_status st = tool_jit_build(g, &o->passes, &lopts, (int)o->threads, o->time, &bm->jit, d);
    cli_progress_end();
    if (st)
        return st;
    bm->m.run = be_llvm_entry(bm->jit);
    bm->workspace_bytes = be_llvm_workspace_bytes(bm->jit);
    size_t ws = (size_t)(bm->workspace_bytes + 63) / 64 * 64;
    bm->workspace = ws ? aligned_alloc(64, ws) : NULL;
    if (ws && !bm->workspace) {
        ir_diag_errorf(d, "%s: cannot allocate the %zu-byte workspace: %s", o->model, ws,
                       strerror(ENOMEM));
        return LOOM_STATUS_NOMEM;
    }
    return LOOM_STATUS_OK;
}

loom_status cli_build(ir_graph *g, const cli_opts *o, cli_built *bm, ir_diag *d)
{
    /* loom links OpenBLAS (the JIT's kernels); a model loaded into the
     * process shares it, so its thread count is set here too */
    be_llvm_set_threads(o->threads ? (int)o->threads : 1);
    if (cli_is_jit(o))
        return build_jit(g, o, bm, d);
    if (!temp_create(bm->dir, sizeof bm->dir, d)) {
        bm->dir[0] = '\0';
        return LOOM_STATUS_IO;
    }
    loop_func *f = NULL;
    cli_progress_begin("compiling the model to C");
    loom_status st = cli_compile_to(g, o, bm->dir, "model", "model", BE_WEIGHTS_AUTO, &f, d);
    cli_progress_end();
    if (st)
        return st;
    bm->workspace_bytes = f->workspace_bytes;
    loop_func_free(f);
    /* OpenBLAS reads this when the model's shared object loads it */
    char threads[32];
    snprintf(threads, sizeof threads, "%ld", o->threads ? o->threads : 1);
    setenv("OPENBLAS_NUM_THREADS", threads, 1);
    be_cc_opts ccopts = {.standalone = o->standalone};
    cli_progress_begin("building the model with the C compiler ($CC, default cc)");
    st = be_cc_build(bm->dir, "model", "model", &ccopts, &bm->m, d);
    cli_progress_end();
    if (st)
        return st;
    size_t ws = (size_t)(bm->workspace_bytes + 63) / 64 * 64;
    bm->workspace = ws ? aligned_alloc(64, ws) : NULL;
    if (ws && !bm->workspace) {
        ir_diag_errorf(d, "%s: cannot allocate the %zu-byte workspace: %s", o->model, ws,
                       strerror(ENOMEM));
        return LOOM_STATUS_NOMEM;
    }
    return LOOM_STATUS_OK;
}

void cli_built_free(cli_built *bm)
{
    if (bm->jit)
        be_llvm_free(bm->jit);
    else
        be_cc_unload(&bm->m);
    bm->jit = NULL;
    free(bm->workspace);
    bm->workspace = NULL;
    if (bm->dir[0])
        temp_release();
    bm->dir[0] = '\0';
}
