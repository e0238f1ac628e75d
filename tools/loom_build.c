/*
 * Compiling a model to C for `loom compile`, and compiling it through
 * libloom (loom_compile_graph) for `run` and `bench`: the C backend builds
 * in a temporary folder under $TMPDIR (default /tmp), which is removed on
 * every exit path, SIGINT and SIGTERM included (the handler removes the
 * files through a directory stream opened beforehand, then re-raises).
 * Slow steps announce themselves on stderr after a second
 * (cli_progress_begin).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "be.h"
#include "loom_api_internal.h"
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

/* The API's options from the command line's. */
loom_compile_options cli_compile_options(const cli_opts *o, const char **disabled,
                                         const char *dir)
{
    loom_compile_options co = loom_compile_options_default();
    /* no --backend: bench builds C, run interprets */
    const char *b = o->backend ? o->backend : o->cmd->bit == CLI_BENCH ? "c" : "interp";
    co.backend = strcmp(b, "jit") == 0   ? LOOM_BACKEND_JIT
                 : strcmp(b, "c") == 0   ? LOOM_BACKEND_C
                                         : LOOM_BACKEND_INTERP;
    co.opt_level = o->passes.opt_level;
    co.threads = o->threads ? (int)o->threads : 1;
    for (int i = 0; i < o->passes.n_disabled; i++)
        disabled[i] = o->passes.disabled[i]->name;
    disabled[o->passes.n_disabled] = NULL;
    co.disabled_passes = disabled;
    co.unchecked = o->unchecked;
    co.standalone = o->standalone;
    /* bench times the one file compile --standalone writes (the runtime
     * inlined, which the compiler may specialize into the model); run
     * checks the same code linked as cached objects, a build of a second
     * or two instead of 10-40 s */
    co.inline_runtime = o->standalone && o->cmd->bit == CLI_BENCH;
    co.build_dir = co.backend == LOOM_BACKEND_C ? dir : NULL;
    return co;
}

/* CPU time of the process in milliseconds (all threads). */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Prints the compile phases' wall times and the whole compilation's wall
 * and CPU time (loom run --time): on a loaded machine the two differ. */
static void print_times(const loom_compiled *c, double wall_ms, double cpu)
{
    static const char *cache[] = {
        [LOOM_CACHE_OFF] = "object cache off", [LOOM_CACHE_HIT] = "object from the cache",
        [LOOM_CACHE_STORED] = "object compiled and stored in the cache",
        [LOOM_CACHE_UNWRITABLE] = "object compiled, the cache could not store it"};
    loom_compile_times t;
    if (loom_compiled_times(c, &t, NULL) == LOOM_STATUS_OK)
        fprintf(stderr, "time: passes %.1f ms, lowering %.1f ms, LLVM IR %.1f ms, "
                        "LLVM optimization %.1f ms, code generation %.1f ms\n"
                        "time: compile %.1f ms wall, %.1f ms CPU (%s)\n",
                t.passes_ms, t.lower_ms, t.irgen_ms, t.opt_ms, t.codegen_ms, wall_ms, cpu,
                cache[t.cache]);
}

loom_status cli_build(ir_graph *g, const cli_opts *o, cli_built *bm, ir_diag *d)
{
    const char *disabled[PASS_MAX_DISABLED + 1];
    loom_compile_options co = cli_compile_options(o, disabled, bm->dir);
    if (co.backend == LOOM_BACKEND_C && !temp_create(bm->dir, sizeof bm->dir, d)) {
        bm->dir[0] = '\0';
        return LOOM_STATUS_IO;
    }
    cli_progress_begin(co.backend == LOOM_BACKEND_JIT ? "compiling the model with LLVM"
                       : co.backend == LOOM_BACKEND_C
                           ? "building the model with the C compiler ($CC, default cc)"
                           : "preparing the interpreter");
    double wall0 = be_now_ms(), cpu0 = cpu_ms();
    loom_status st = loom_compile_graph(g, &co, &bm->c, d);
    cli_progress_end();
    if (st)
        return st;
    if (o->time)
        print_times(bm->c, be_now_ms() - wall0, cpu_ms() - cpu0);
    loom_diag diag;
    st = loom_workspace_new(bm->c, &bm->ws, &diag);
    if (st)
        ir_diag_errorf(d, "%s: %s", o->model, diag.message);
    return st;
}

bool cli_built_run(const cli_opts *o, cli_built *bm, const void *const *in, void *const *out)
{
    const ir_graph *g = loom_compiled_graph(bm->c);
    loom_diag diag;
    loom_status st = loom_run(bm->c, bm->ws, in, g->n_inputs, out, g->n_outputs, &diag);
    if (st)
        fprintf(stderr, "%s\n", diag.message[0] ? diag.message : o->model);
    return st == LOOM_STATUS_OK;
}

void cli_built_free(cli_built *bm)
{
    loom_workspace_free(bm->ws);
    loom_compiled_free(bm->c);
    bm->ws = NULL;
    bm->c = NULL;
    if (bm->dir[0])
        temp_release();
    bm->dir[0] = '\0';
}
