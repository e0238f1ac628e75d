/* Unit tests of the runtime's threads (runtime/loomrt_pool.c) and of the
 * threaded GEMM: the parallel-for's parts (n = 0, n below and far above
 * the thread count), nesting, errors from workers, a host's parallel-for,
 * the slot loops' parallel-for (loomrt_parallel_slots), two threads
 * sharing the pool, and loomrt_sgemm / loomrt_sgemm_packed on 2, 3 and 4
 * threads bit-exact against one thread on odd shapes, at every
 * instruction-set level the CPU runs. The sanitizer build runs them under
 * ASan. unit_threads_blas runs them again against the OpenBLAS build of
 * the runtime (LOOMRT_USE_CBLAS), where the large unpacked products go to
 * OpenBLAS, one call per block on loom's pool. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "leak_check.h"
#include "loomrt.h"

/* ---- the parallel-for ---- */

/* Counts how often each index was covered and how many tasks ran. */
typedef struct cover {
    int64_t n;
    int *hits;
    int tasks;
    int64_t fail_from; /* tasks starting at or past this index fail */
    pthread_mutex_t mu;
} cover;

static int cover_task(void *arg, int64_t begin, int64_t end)
{
    cover *c = arg;
    pthread_mutex_lock(&c->mu);
    c->tasks++;
    for (int64_t i = begin; i < end; i++)
        c->hits[i]++;
    pthread_mutex_unlock(&c->mu);
    return begin >= c->fail_from ? (int)(100 + begin) : 0;
}

/* Runs cover_task over n on threads threads; returns the status, the
 * task count in *tasks; every index must be covered exactly once. */
static int run_cover(int64_t n, int threads, int64_t fail_from, int *tasks)
{
    cover c = {.n = n, .hits = calloc((size_t)n + 1, sizeof(int)), .fail_from = fail_from};
    pthread_mutex_init(&c.mu, NULL);
    loomrt_threads prev = loomrt_threads_enter(threads, NULL, NULL);
    int st = loomrt_parallel_for(n, cover_task, &c);
    loomrt_threads_leave(prev);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(c.hits[i], 1, "n=%lld threads=%d: index %lld ran %d times", (long long)n,
                     threads, (long long)i, c.hits[i]);
    *tasks = c.tasks;
    pthread_mutex_destroy(&c.mu);
    free(c.hits);
    return st;
}

Test(pool, empty_range_runs_nothing)
{
    int tasks = -1;
    cr_assert_eq(run_cover(0, 4, INT64_MAX, &tasks), 0);
    cr_assert_eq(tasks, 0);
}

Test(pool, fewer_items_than_threads)
{
    int tasks = 0;
    cr_assert_eq(run_cover(3, 8, INT64_MAX, &tasks), 0);
    cr_assert_eq(tasks, 3, "one part per item when n < threads");
}

Test(pool, many_items_per_thread)
{
    int tasks = 0;
    for (int t = 1; t <= 4; t++) {
        cr_assert_eq(run_cover(100003, t, INT64_MAX, &tasks), 0);
        cr_assert_eq(tasks, t);
    }
}

Test(pool, default_is_one_thread_and_leave_restores)
{
    cr_assert_eq(loomrt_threads_get(), 1);
    loomrt_threads a = loomrt_threads_enter(3, NULL, NULL);
    cr_assert_eq(loomrt_threads_get(), 3);
    loomrt_threads b = loomrt_threads_enter(1000, NULL, NULL);
    cr_assert_eq(loomrt_threads_get(), LOOMRT_MAX_THREADS, "clamped");
    cr_assert_eq(loomrt_threads_swap(0), LOOMRT_MAX_THREADS);
    cr_assert_eq(loomrt_threads_get(), 1, "clamped to 1");
    loomrt_threads_leave(b);
    cr_assert_eq(loomrt_threads_get(), 3);
    loomrt_threads_leave(a);
    cr_assert_eq(loomrt_threads_get(), 1);
}

Test(pool, error_from_a_worker_lowest_part_wins)
{
    int tasks = 0;
    /* 4 parts of 400: parts 2 and 3 fail (begin 200, 300); part 2's code */
    cr_assert_eq(run_cover(400, 4, 150, &tasks), 300);
    cr_assert_eq(tasks, 4, "the other parts still run");
    cr_assert_eq(run_cover(400, 4, 0, &tasks), 100, "part 0 (the caller's) first");
}

/* A task that runs a parallel-for itself: it must run serially (the pool
 * is taken), covering its own range, without deadlock. */
static int nested_task(void *arg, int64_t begin, int64_t end)
{
    cover *outer = arg;
    for (int64_t i = begin; i < end; i++) {
        int tasks = 0;
        cr_assert_eq(run_cover(5, 4, INT64_MAX, &tasks), 0);
        pthread_mutex_lock(&outer->mu);
        outer->hits[i]++;
        pthread_mutex_unlock(&outer->mu);
    }
    return 0;
}

Test(pool, nested_call_is_serialized)
{
    cover c = {.n = 16, .hits = calloc(16, sizeof(int))};
    pthread_mutex_init(&c.mu, NULL);
    loomrt_threads prev = loomrt_threads_enter(4, NULL, NULL);
    cr_assert_eq(loomrt_parallel_for(16, nested_task, &c), 0);
    loomrt_threads_leave(prev);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(c.hits[i], 1);
    pthread_mutex_destroy(&c.mu);
    free(c.hits);
}

/* A host's parallel-for: runs the parts backwards on the calling thread
 * and counts its calls. */
static int host_calls;

static int host_pfor(void *host, int64_t n, int parts, loomrt_range_fn fn, void *arg)
{
    cr_assert_eq(host, &host_calls);
    host_calls++;
    int st = 0;
    for (int p = parts - 1; p >= 0; p--) {
        int s = fn(arg, n * p / parts, n * (p + 1) / parts);
        st = s ? s : st;
    }
    return st;
}

Test(pool, host_parallel_for_runs_the_parts)
{
    cover c = {.n = 1000, .hits = calloc(1000, sizeof(int)), .fail_from = INT64_MAX};
    pthread_mutex_init(&c.mu, NULL);
    loomrt_threads prev = loomrt_threads_enter(3, host_pfor, &host_calls);
    cr_assert_eq(loomrt_parallel_for(1000, cover_task, &c), 0);
    cr_assert_eq(loomrt_threads_swap(2), 3, "swap keeps the host's parallel-for");
    cr_assert_eq(loomrt_parallel_for(1000, cover_task, &c), 0);
    loomrt_threads_leave(prev);
    cr_assert_eq(host_calls, 2);
    cr_assert_eq(c.tasks, 5);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(c.hits[i], 2);
    pthread_mutex_destroy(&c.mu);
    free(c.hits);
}

/* A slot loop's part: covers its range, and records the thread count its
 * kernels would see (the lowest seen in slots[0], the highest in slots[1]). */
typedef struct slot_cover {
    cover c;
    int seen[2];
} slot_cover;

static int slot_task(void *arg, int64_t begin, int64_t end)
{
    slot_cover *s = arg;
    int t = loomrt_threads_get();
    pthread_mutex_lock(&s->c.mu);
    s->seen[0] = t < s->seen[0] ? t : s->seen[0];
    s->seen[1] = t > s->seen[1] ? t : s->seen[1];
    pthread_mutex_unlock(&s->c.mu);
    return cover_task(&s->c, begin, end);
}

/* loomrt_parallel_slots over n slots on threads threads, the host's
 * parallel-for or the pool: the tasks run and the thread counts their
 * kernels saw; every slot covered once, the caller's count restored. */
static void run_slots(int64_t n, int threads, loomrt_parallel_fn pfor, int *tasks, int seen[2])
{
    slot_cover s = {.c = {.n = n, .hits = calloc((size_t)n + 1, sizeof(int)),
                          .fail_from = INT64_MAX},
                    .seen = {1000, 0}};
    pthread_mutex_init(&s.c.mu, NULL);
    loomrt_threads prev = loomrt_threads_enter(threads, pfor, pfor ? &host_calls : NULL);
    cr_assert_eq(loomrt_parallel_slots(n, slot_task, &s), 0);
    cr_assert_eq(loomrt_threads_get(), threads, "the count is restored");
    loomrt_threads_leave(prev);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(s.c.hits[i], 1, "n=%lld threads=%d: slot %lld ran %d times",
                     (long long)n, threads, (long long)i, s.c.hits[i]);
    *tasks = s.c.tasks;
    seen[0] = s.seen[0], seen[1] = s.seen[1];
    pthread_mutex_destroy(&s.c.mu);
    free(s.c.hits);
}

/* A slot loop splits its slots over the threads when their count divides
 * them, each part's kernels then on one thread; otherwise one task on
 * the calling thread, its kernels on all the threads. */
Test(pool, slots_split_when_the_threads_divide_them)
{
    int tasks, seen[2];
    run_slots(4, 2, NULL, &tasks, seen);
    cr_assert(tasks == 2 && seen[0] == 1 && seen[1] == 1, "tasks %d, counts %d-%d", tasks,
              seen[0], seen[1]);
    run_slots(4, 4, NULL, &tasks, seen);
    cr_assert(tasks == 4 && seen[1] == 1);
    run_slots(2, 4, NULL, &tasks, seen); /* more threads than slots */
    cr_assert(tasks == 1 && seen[0] == 4, "tasks %d, count %d", tasks, seen[0]);
    run_slots(4, 3, NULL, &tasks, seen); /* 3 does not divide 4 */
    cr_assert(tasks == 1 && seen[0] == 3);
    run_slots(2, 1, NULL, &tasks, seen);
    cr_assert(tasks == 1 && seen[0] == 1);
    run_slots(0, 2, NULL, &tasks, seen);
    cr_assert_eq(tasks, 0);
}

Test(pool, slots_on_the_hosts_parallel_for)
{
    int tasks, seen[2], calls = host_calls;
    run_slots(6, 2, host_pfor, &tasks, seen);
    cr_assert(tasks == 2 && seen[0] == 1 && seen[1] == 1 && host_calls == calls + 1);
    run_slots(6, 4, host_pfor, &tasks, seen);
    cr_assert(tasks == 1 && seen[0] == 4 && host_calls == calls + 1, "not the host's");
}

/* Two threads, each running parallel-fors with its own count: one gets
 * the pool, the other runs serially while it is taken; all cover. */
static void *hammer(void *arg)
{
    int threads = (int)(intptr_t)arg, bad = 0;
    for (int r = 0; r < 200; r++) {
        int tasks = 0;
        bad += run_cover(997 + r, threads, INT64_MAX, &tasks) != 0;
    }
    return (void *)(intptr_t)bad;
}

Test(pool, concurrent_callers_share_the_pool)
{
    pthread_t a, b;
    void *ra, *rb;
    cr_assert_eq(pthread_create(&a, NULL, hammer, (void *)(intptr_t)2), 0);
    cr_assert_eq(pthread_create(&b, NULL, hammer, (void *)(intptr_t)3), 0);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    cr_assert_eq((intptr_t)ra + (intptr_t)rb, 0);
}

/* ---- threaded GEMM: bit-exact against one thread ---- */

static float *rand_floats(int64_t n, unsigned seed)
{
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}

/* One product C = 0.5 op(A) op(B) + 0.25 C on 1 and on t threads, packed
 * (B as loomrt_sgemm_pack_b packs it; transB picks its layout) or not;
 * the results must be identical. */
static void check_gemm(int packed, int tA, int tB, int tC, int64_t M, int64_t N, int64_t K, int t)
{
    int64_t lda = tA ? M : K, ldb = tB ? K : N, ldc = tC ? M : N;
    float *A = rand_floats(M * K, 1), *B = rand_floats(K * N, 2), *C0 = rand_floats(M * N, 3);
    float *C1 = malloc((size_t)(M * N) * sizeof *C1), *Bp = NULL;
    memcpy(C1, C0, (size_t)(M * N) * sizeof *C1);
    if (packed) {
        Bp = malloc((size_t)loomrt_sgemm_packed_size(N, K) * sizeof *Bp);
        loomrt_sgemm_pack_b(tB, N, K, B, ldb, Bp);
    }
    for (int run = 0; run < 2; run++) {
        float *C = run ? C1 : C0;
        loomrt_threads prev = loomrt_threads_enter(run ? t : 1, NULL, NULL);
        if (packed)
            loomrt_sgemm_packed(tA, tC, M, N, K, 0.5f, A, lda, Bp, 0.25f, C, ldc);
        else
            loomrt_sgemm(tA, tB, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C, ldc);
        loomrt_threads_leave(prev);
    }
#ifdef LOOMRT_USE_CBLAS
    /* OpenBLAS's blocks may round differently from its whole product */
    if (!packed) {
        for (int64_t i = 0; i < M * N; i++)
            cr_assert_float_eq(C0[i], C1[i], 1e-6f * (1.0f + fabsf(C0[i])) * (float)K,
                               "sgemm tA=%d tB=%d M=%lld N=%lld K=%lld: %d threads, C[%lld]",
                               tA, tB, (long long)M, (long long)N, (long long)K, t,
                               (long long)i);
        free(A), free(B), free(C0), free(C1), free(Bp);
        return;
    }
#endif
    cr_assert(memcmp(C0, C1, (size_t)(M * N) * sizeof *C0) == 0,
              "%s tA=%d tB=%d tC=%d M=%lld N=%lld K=%lld: %d threads differ from one",
              packed ? "packed" : "sgemm", tA, tB, tC, (long long)M, (long long)N, (long long)K,
              t);
    free(A), free(B), free(C0), free(C1), free(Bp);
}

/* Shapes with odd sizes in every dimension, large enough to be split
 * (the runtime keeps products under 2^18 multiply-adds per thread on one
 * thread, single rows reading 2^16 floats of B or more under 2^14), and a
 * few too small to be; 49 x 321 x 961 packs A^T in three blocks of K on
 * AVX2 (split by rows, each thread's blocks must be the whole product's).
 * Packed, 49 x 513 x 515 (few rows, B of 2^18 floats and more) splits by
 * columns on 2 and 4 threads and by rows on 3, 49 x 321 x 961 by columns
 * on 3 only (gemm_run: the columns must split as evenly as the rows). */
static const int64_t shapes[][3] = {
    {301, 257, 300}, {1, 4099, 333}, {7, 1001, 129}, {65, 65, 301}, {33, 17, 1025},
    {1025, 3, 257},  {17, 33, 7},    {3, 7, 65},     {1, 65, 17},   {1, 513, 129},
    {49, 321, 961},  {49, 513, 515},
};

static void check_all(int packed)
{
    for (int level = LOOMRT_ISA_PORTABLE; level <= loomrt_isa_detect(); level++) {
        loomrt_isa_force(level);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int layout = 0; layout < 4; layout++)
                for (int t = 2; t <= 4; t++)
                    check_gemm(packed, layout & 1, packed ? 0 : layout >> 1,
                               packed ? layout >> 1 : 0, shapes[s][0], shapes[s][1],
                               shapes[s][2], t);
    }
    loomrt_isa_force(-1);
}

Test(threaded_gemm, sgemm_exact_against_one_thread)
{
    check_all(0);
}

Test(threaded_gemm, packed_exact_against_one_thread)
{
    check_all(1);
}

/* The large shapes are split (through a host parallel-for that counts its
 * calls), and a single row whose B has 2^16 floats or more (bound by
 * reading B) from 2^14 multiply-adds per thread; the small ones are not. */
Test(threaded_gemm, large_products_are_split)
{
    int64_t M = 301, N = 257, K = 300;
    float *A = rand_floats(M * K, 1), *B = rand_floats(K * N, 2), *C = rand_floats(M * N, 3);
    float *Bp = malloc((size_t)loomrt_sgemm_packed_size(N, K) * sizeof *Bp);
    loomrt_sgemm_pack_b(0, N, K, B, N, Bp);
    host_calls = 0;
    loomrt_threads prev = loomrt_threads_enter(2, host_pfor, &host_calls);
    loomrt_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    loomrt_sgemm_packed(0, 1, M, N, K, 1.0f, A, K, Bp, 0.0f, C, M);
    loomrt_sgemm_packed(0, 0, 1, N, K, 1.0f, A, K, Bp, 0.0f, C, N); /* a row of B 77k */
    loomrt_sgemm(0, 0, 1, N, 200, 1.0f, A, K, B, N, 0.0f, C, N); /* B 51k: too small */
    loomrt_sgemm(0, 0, 2, N, 60, 1.0f, A, K, B, N, 0.0f, C, N);  /* 31k: too small */
    loomrt_threads_leave(prev);
    cr_assert_eq(host_calls, 3);
    free(A), free(B), free(C), free(Bp);
}

#ifdef LOOMRT_USE_CBLAS
/* The OpenBLAS build: a product OpenBLAS runs (over 2^21 multiply-adds,
 * when its kernel is as wide as loom's) is cut into blocks on the pool,
 * and each block gets its part of the epilogue (a bias per column, a
 * residual, ReLU); the result is the one-thread result within rounding
 * and the epilogue's, computed here. */
Test(threaded_gemm, blas_products_split_with_their_epilogue)
{
    int64_t M = 301, N = 257, K = 300;
    float *A = rand_floats(M * K, 1), *B = rand_floats(K * N, 2), *bias = rand_floats(N, 4);
    float *res = rand_floats(M * N, 5), *C1 = malloc((size_t)(M * N) * sizeof *C1);
    float *Ct = malloc((size_t)(M * N) * sizeof *Ct);
    for (int t = 1; t <= 3; t += 2) {
        host_calls = 0;
        loomrt_threads prev = loomrt_threads_enter(t, t > 1 ? host_pfor : NULL, &host_calls);
        loomrt_sgemm_epi(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, t > 1 ? Ct : C1, N, bias, 0, 1,
                         res, LOOMRT_ACT_RELU, 0.0f, 0.0f);
        loomrt_threads_leave(prev);
        cr_assert_eq(host_calls, t > 1, "%d threads: %d parallel-for calls", t, host_calls);
    }
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double want = 0;
            for (int64_t k = 0; k < K; k++)
                want += (double)A[i * K + k] * B[k * N + j];
            want += bias[j] + res[i * N + j];
            want = want > 0 ? want : 0;
            cr_assert_float_eq(C1[i * N + j], want, 1e-3, "one thread [%lld,%lld]", (long long)i,
                               (long long)j);
            cr_assert_float_eq(Ct[i * N + j], C1[i * N + j], 1e-4, "3 threads [%lld,%lld]",
                               (long long)i, (long long)j);
        }
    free(A), free(B), free(bias), free(res), free(C1), free(Ct);
}

/* A product OpenBLAS runs whose C (24 x 45000, over 2^20 floats) is cut
 * into blocks of columns, each given the epilogue (Clip, a residual, a
 * bias per row, then per column) while in cache; the last block partial.
 * One thread and three, against the sums computed here. */
Test(threaded_gemm, blas_epilogue_in_column_blocks)
{
    int64_t M = 24, N = 45000, K = 17;
    float *A = rand_floats(M * K, 11), *B = rand_floats(K * N, 12), *bias = rand_floats(N, 13);
    float *res = rand_floats(M * N, 14), *C = malloc((size_t)(M * N) * sizeof *C);
    for (int t = 1; t <= 3; t += 2)
        for (int per_col = 0; per_col < 2; per_col++) {
            loomrt_threads prev = loomrt_threads_enter(t, NULL, NULL);
            loomrt_sgemm_epi(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, bias, !per_col, per_col,
                             res, LOOMRT_ACT_CLIP, -0.5f, 1.5f);
            loomrt_threads_leave(prev);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double want = 0;
                    for (int64_t k = 0; k < K; k++)
                        want += (double)A[i * K + k] * B[k * N + j];
                    want += bias[per_col ? j : i] + res[i * N + j];
                    want = want < -0.5 ? -0.5 : want > 1.5 ? 1.5 : want;
                    cr_assert_float_eq(C[i * N + j], want, 1e-4, "%d threads, bias per %s [%lld,%lld]",
                                       t, per_col ? "column" : "row", (long long)i, (long long)j);
                }
        }
    free(A), free(B), free(bias), free(res), free(C);
}
#endif
