/*
 * Threads for the kernels: a parallel-for over a range of tiles, run by a
 * small pool of the runtime's own (POSIX threads) or by a parallel-for the
 * host program supplies.
 *
 * How many threads a kernel may use is per calling thread: the emitted
 * NAME_run (and the JIT's caller) brackets a run with loomrt_threads_enter
 * and loomrt_threads_leave, which set and restore a thread-local setting.
 * The emitted code keeps no state; two runs on two threads, each with its
 * own workspace, each see their own count.
 *
 * The pool: one per process (per copy of the runtime: the --standalone
 * build has one per model), its workers started on first use, as many as
 * the largest count asked for (at most LOOMRT_MAX_THREADS - 1 besides the
 * caller), and stopped and joined when the program exits or the library
 * holding the runtime is unloaded. One parallel-for owns the pool at a
 * time: a second one at the same moment (another thread's run, or a call
 * from inside a task) runs its tiles serially on its own thread instead of
 * waiting, so nesting cannot deadlock and results do not depend on who got
 * the pool (tiles compute the same values either way). No allocation: the
 * pool is static, the job lives on the caller's stack.
 *
 * Waiting: a model runs one parallel-for after another, microseconds
 * apart, and waking a sleeping thread (a futex, on a virtual machine an
 * interrupt to a halted CPU) costs tens of microseconds each time. So a
 * worker that finished a job spins on the job counter for POOL_SPIN
 * pauses (a fraction of a millisecond) before it sleeps on the condition
 * variable, and the caller spins the same way on the parts still running
 * before it sleeps until they are done.
 */
#include "loomrt.h"

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define POOL_PTHREADS 1
#endif

#if defined(__GNUC__)
#define POOL_TLS __thread
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define POOL_TLS _Thread_local
#endif

#ifdef POOL_TLS
static POOL_TLS loomrt_threads pool_current = {1, 0, 0};
#endif

#ifdef LOOMRT_USE_CBLAS
void openblas_set_num_threads(int n);

/* Nonzero once OpenBLAS was put on one thread. */
static int pool_blas_single;

/* Puts OpenBLAS on one thread, once: the GEMMs it runs are split over
 * loom's pool (loomrt_gemm.c). OpenBLAS's own workers, once woken, spin
 * in sched_yield long after each call and would take the cores from the
 * pool's threads. */
static void pool_blas_set_single(void)
{
#if defined(__GNUC__)
    /* a plain load on every run after the first, no locked exchange */
    if (!__atomic_load_n(&pool_blas_single, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&pool_blas_single, 1, __ATOMIC_RELAXED))
        openblas_set_num_threads(1);
#else
    if (!pool_blas_single)
        openblas_set_num_threads(pool_blas_single = 1);
#endif
}
#endif

LOOMRT_API loomrt_threads loomrt_threads_enter(int count, loomrt_parallel_fn pfor, void *host)
{
#ifdef POOL_TLS
    loomrt_threads prev = pool_current;
    pool_current.count = count < 1 ? 1 : count > LOOMRT_MAX_THREADS ? LOOMRT_MAX_THREADS : count;
    pool_current.pfor = pfor;
    pool_current.host = host;
#ifdef LOOMRT_USE_CBLAS
    pool_blas_set_single();
#endif
    return prev;
#else
    loomrt_threads one = {1, 0, 0};
    (void)count, (void)pfor, (void)host;
    return one;
#endif
}

LOOMRT_API void loomrt_threads_leave(loomrt_threads prev)
{
#ifdef POOL_TLS
    pool_current = prev;
#else
    (void)prev;
#endif
}

LOOMRT_API int loomrt_threads_get(void)
{
#ifdef POOL_TLS
    return pool_current.count;
#else
    return 1;
#endif
}

LOOMRT_API int loomrt_threads_swap(int count)
{
#ifdef POOL_TLS
    loomrt_threads prev = loomrt_threads_enter(count, pool_current.pfor, pool_current.host);
    return prev.count;
#else
    (void)count;
    return 1;
#endif
}

/* The first nonzero status of parts [0, parts) of fn over [0, n), run in
 * order on this thread: the serial path, and the pool's fallback. */
static int pool_serial(int64_t n, int parts, loomrt_range_fn fn, void *arg)
{
    int st = 0;
    for (int p = 0; p < parts; p++) {
        int s = fn(arg, n * p / parts, n * (p + 1) / parts);
        if (s && !st)
            st = s;
    }
    return st;
}

#if defined(POOL_PTHREADS) && defined(POOL_TLS)

/* Pauses a waiting thread spins for before it sleeps. */
#ifndef POOL_SPIN
#define POOL_SPIN (1 << 14)
#endif

#if defined(LOOMRT_X86) && defined(__GNUC__)
#define POOL_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__) && defined(__GNUC__)
#define POOL_PAUSE() __asm__ __volatile__("yield")
#else
#define POOL_PAUSE() ((void)0)
#endif

/* Spins up to POOL_SPIN pauses while *p equals v (the job counter a
 * worker saw, the count of parts done a caller saw); nonzero when *p
 * changed. The thread then checks again under the lock, and sleeps on the
 * condition variable if it must. */
static int pool_spin_while(const unsigned *p, unsigned v)
{
    for (int i = 0; i < POOL_SPIN; i++) {
        if (__atomic_load_n(p, __ATOMIC_ACQUIRE) != v)
            return 1;
        POOL_PAUSE();
    }
    return 0;
}

/* One parallel-for: parts [0, parts) of [0, n), handed out in order. */
typedef struct pool_job {
    loomrt_range_fn fn;
    void *arg;
    int64_t n;
    int parts, next;
    unsigned done;
    int status, status_part; /* the first error by part: part parts if none */
} pool_job;

static struct {
    pthread_mutex_t owner;      /* held by the parallel-for using the pool */
    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t wake, finished;
    pool_job *job;              /* NULL between jobs */
    unsigned gen;               /* counts jobs, so a worker sees a new one */
    int n_workers, stop;
    pthread_t workers[LOOMRT_MAX_THREADS];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, {0}};

/* Runs parts of j until none is left (called and returning with pool.mu
 * held); the last part to finish wakes the caller. */
static void pool_drain(pool_job *j)
{
    while (j->next < j->parts) {
        int p = j->next++;
        pthread_mutex_unlock(&pool.mu);
        int s = j->fn(j->arg, j->n * p / j->parts, j->n * (p + 1) / j->parts);
        pthread_mutex_lock(&pool.mu);
        /* the lowest part's error wins, whichever thread ran it */
        if (s && p < j->status_part)
            j->status = s, j->status_part = p;
        if (__atomic_add_fetch(&j->done, 1, __ATOMIC_RELEASE) == (unsigned)j->parts)
            pthread_cond_signal(&pool.finished);
    }
}

static void *pool_worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    unsigned seen = pool.gen;
    for (;;) {
        if (!pool.stop && pool.gen == seen) {
            pthread_mutex_unlock(&pool.mu);
            pool_spin_while(&pool.gen, seen);
            pthread_mutex_lock(&pool.mu);
        }
        while (!pool.stop && pool.gen == seen)
            pthread_cond_wait(&pool.wake, &pool.mu);
        if (pool.stop)
            break;
        seen = pool.gen;
        if (pool.job)
            pool_drain(pool.job);
    }
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

/* Starts workers up to want (with pool.mu held); returns how many run. */
static int pool_grow(int want)
{
    while (pool.n_workers < want && !pool.stop) {
        if (pthread_create(&pool.workers[pool.n_workers], 0, pool_worker, 0) != 0)
            break; /* fewer threads, same results */
        pool.n_workers++;
    }
    return pool.n_workers;
}

/* Stops and joins the workers: at exit, or when the library holding this
 * copy of the runtime is unloaded (its code must not outlive it). */
#if defined(__GNUC__)
__attribute__((destructor, unused))
#endif
static void pool_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stop = 1;
    int n = pool.n_workers;
    pool.n_workers = 0;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < n; i++)
        pthread_join(pool.workers[i], 0);
}

/* fn over parts on the pool, the caller taking parts too, *status the
 * first nonzero status by part; 0 when the pool is taken or has no
 * worker (the caller then runs the parts itself). */
static int pool_run(int64_t n, int parts, loomrt_range_fn fn, void *arg, int *status)
{
    if (pthread_mutex_trylock(&pool.owner) != 0)
        return 0;
    pool_job j = {fn, arg, n, parts, 0, 0, 0, parts};
    pthread_mutex_lock(&pool.mu);
    if (pool_grow(parts - 1) < 1 || pool.stop) {
        pthread_mutex_unlock(&pool.mu);
        pthread_mutex_unlock(&pool.owner);
        return 0;
    }
    pool.job = &j;
    __atomic_store_n(&pool.gen, pool.gen + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pool_drain(&j);
    for (unsigned d; (d = j.done) < (unsigned)parts;) {
        pthread_mutex_unlock(&pool.mu);
        int moved = pool_spin_while(&j.done, d);
        pthread_mutex_lock(&pool.mu);
        if (!moved)
            break;
    }
    while (j.done < (unsigned)parts)
        pthread_cond_wait(&pool.finished, &pool.mu);
    pool.job = 0;
    pthread_mutex_unlock(&pool.mu);
    pthread_mutex_unlock(&pool.owner);
    *status = j.status;
    return 1;
}

#endif /* POOL_PTHREADS && POOL_TLS */

LOOMRT_API int loomrt_parallel_for(int64_t n, loomrt_range_fn fn, void *arg)
{
    if (n <= 0)
        return 0;
    int threads = loomrt_threads_get();
    int parts = n < threads ? (int)n : threads;
#ifdef POOL_TLS
    if (parts > 1 && pool_current.pfor) {
        /* the host's pool: it runs the tasks; nested calls from them see
         * this thread's setting only on this thread */
        return pool_current.pfor(pool_current.host, n, parts, fn, arg);
    }
#endif
#if defined(POOL_PTHREADS) && defined(POOL_TLS)
    int st = 0;
    if (parts > 1 && pool_run(n, parts, fn, arg, &st))
        return st;
#endif
    return pool_serial(n, parts, fn, arg);
}

/* A part of a slot loop: fn over its slots with the kernels inside on
 * this thread alone (loomrt_parallel_slots). */
typedef struct pool_slots {
    loomrt_range_fn fn;
    void *arg;
} pool_slots;

static int pool_slots_part(void *arg, int64_t begin, int64_t end)
{
    const pool_slots *j = arg;
    int prev = loomrt_threads_swap(1);
    int st = j->fn(j->arg, begin, end);
    loomrt_threads_swap(prev);
    return st;
}

LOOMRT_API int loomrt_parallel_slots(int64_t n, loomrt_range_fn fn, void *arg)
{
    int threads = loomrt_threads_get();
    if (n <= 0)
        return 0;
    if (threads < 2 || n % threads != 0)
        return fn(arg, 0, n);
    pool_slots j = {fn, arg};
    return loomrt_parallel_for(n, pool_slots_part, &j);
}
