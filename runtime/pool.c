/* pool.c - the thread pool behind nnc_parallel_for.
 *
 * Threads are created once per run (rt_pool_new). [0, n) is cut into C = min(n, T) contiguous
 * chunks by a fixed rule, chunk k = [n*k/C, n*(k+1)/C), and each chunk's work depends only on its
 * bounds, so results are the same from run to run whichever thread runs which chunk. Chunks are
 * claimed, not assigned: the caller and the workers take the next unclaimed chunk until none is
 * left, so when the scheduler delays a worker (a loaded machine) the caller runs its chunk instead
 * of waiting for it to wake. A call made while the pool is already busy (a nested parallel loop)
 * runs inline.
 *
 * Waiting: a thread that waits (a worker for the next job, the caller for the chunks still running)
 * spins on an atomic for up to SPIN_NS, then sleeps on a condition variable. A training step
 * dispatches a few parallel loops a few tens of microseconds apart (mlp_small: the two large GEMMs,
 * the Adam update, the batch gather and the non-finite scan, ~0.3 ms a step at 2 threads), so a
 * worker that slept after each one paid a futex wake-up and a context switch per loop, on both
 * sides; a bounded spin with `pause` catches the next loop without either, and a worker that finds
 * nothing within SPIN_NS sleeps, so idle pools (and a loaded machine) lose at most that much CPU per
 * wait. Measured on mlp_small (bench/README.md, 2026-12-02 17:xx).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "rt.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ volatile("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_NS 50000           /* how long a waiting thread spins before it sleeps */

typedef struct Worker { struct NncPool *p; int id; } Worker;

struct NncPool {
    int nthreads;               /* workers + the caller */
    pthread_t *threads;         /* [nthreads - 1] */
    Worker *workers;            /* [nthreads - 1], each thread's argument */
    pthread_mutex_t mu;         /* guards the sleeps and wake-ups */
    pthread_cond_t start, done;
    atomic_uint generation;     /* bumped per job; workers wait for a change */
    atomic_int sleepers;        /* workers asleep (or about to be) on start */
    atomic_bool caller_asleep;  /* the caller sleeps on done */
    atomic_bool quit;
    atomic_bool busy;           /* a job is running: nested calls run inline */
    /* the current job: claim = generation << 32 | next unclaimed chunk */
    atomic_uint_least64_t claim;
    atomic_int remaining;       /* chunks not finished */
    int64_t n;
    int chunks;
    void (*fn)(void *ctx, int64_t lo, int64_t hi);
    void *ctx;
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Takes the next chunk of job `gen` into *k; false when that job has none left (or is over). */
static bool claim(NncPool *p, unsigned gen, int *k) {
    uint_least64_t v = atomic_load(&p->claim);
    for (;;) {
        if ((unsigned)(v >> 32) != gen || (int)(uint32_t)v >= p->chunks) return false;
        if (atomic_compare_exchange_weak(&p->claim, &v, v + 1)) {
            *k = (int)(uint32_t)v;
            return true;
        }
    }
}

static void run_chunk(NncPool *p, int k) {
    int64_t lo = p->n * k / p->chunks, hi = p->n * (k + 1) / p->chunks;
    if (lo < hi) p->fn(p->ctx, lo, hi);
}

/* A chunk is finished; the last one wakes a sleeping caller. */
static void finish(NncPool *p) {
    if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_asleep)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

static void *worker_main(void *arg) {
    NncPool *p = ((Worker *)arg)->p;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load(&p->generation);
        if (g == seen && !atomic_load(&p->quit)) {
            int64_t until = now_ns() + SPIN_NS;
            for (int i = 1; (g = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit); i++) {
                CPU_RELAX();
                if (!(i & 63) && now_ns() > until) break;
            }
        }
        if (g == seen && !atomic_load(&p->quit)) {   /* sleep until the next job */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->start, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) break;
        seen = g;
        int k;
        while (claim(p, seen, &k)) {
            run_chunk(p, k);
            finish(p);
        }
    }
    return NULL;
}

void nnc_parallel_for(NncPool *p, int64_t n, void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx) {
    if (n <= 0) return;
    bool expect = false;
    if (!p || p->nthreads <= 1 || n == 1 || !atomic_compare_exchange_strong(&p->busy, &expect, true)) {
        fn(ctx, 0, n);
        return;
    }
    /* no job is in flight (busy): the fields are the caller's until claim publishes them */
    unsigned gen = atomic_load(&p->generation) + 1;
    p->n = n;
    p->chunks = n < p->nthreads ? (int)n : p->nthreads;
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->remaining, p->chunks);
    atomic_store(&p->claim, (uint_least64_t)gen << 32);
    atomic_store(&p->generation, gen);
    if (atomic_load(&p->sleepers) > 0) {    /* a worker that checked before the store sleeps */
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->start);
        pthread_mutex_unlock(&p->mu);
    }
    int k;
    while (claim(p, gen, &k)) {
        run_chunk(p, k);
        finish(p);
    }
    if (atomic_load(&p->remaining) > 0) {
        int64_t until = now_ns() + SPIN_NS;
        for (int i = 1; atomic_load(&p->remaining) > 0; i++) {
            CPU_RELAX();
            if (!(i & 63) && now_ns() > until) break;
        }
        if (atomic_load(&p->remaining) > 0) {
            pthread_mutex_lock(&p->mu);
            atomic_store(&p->caller_asleep, true);
            while (atomic_load(&p->remaining) > 0) pthread_cond_wait(&p->done, &p->mu);
            atomic_store(&p->caller_asleep, false);
            pthread_mutex_unlock(&p->mu);
        }
    }
    atomic_store(&p->busy, false);
}

int nnc_pool_threads(const NncPool *p) { return p ? p->nthreads : 1; }

NncPool *rt_pool_new(RtCtx *c, int threads) {
    if (threads < 1) threads = 1;
    NncPool *p = rt_calloc(c, sizeof *p);
    if (!p) return NULL;
    p->nthreads = 1;
    atomic_init(&p->generation, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_asleep, false);
    atomic_init(&p->quit, false);
    atomic_init(&p->busy, false);
    atomic_init(&p->claim, 0);
    atomic_init(&p->remaining, 0);

    int e;
    if ((e = pthread_mutex_init(&p->mu, NULL)) || (e = pthread_cond_init(&p->start, NULL)) ||
        (e = pthread_cond_init(&p->done, NULL))) {
        rt_error(c, "pthread_mutex_init/pthread_cond_init failed: %s", strerror(e));
        rt_free(c, p);
        return NULL;
    }
    if (threads > 1) {
        p->threads = rt_alloc(c, sizeof(pthread_t) * (size_t)(threads - 1));
        p->workers = rt_alloc(c, sizeof(Worker) * (size_t)(threads - 1));
        if (!p->threads || !p->workers) {
            rt_pool_free(c, p);
            return NULL;
        }
        for (int i = 0; i < threads - 1; i++) {
            p->workers[i] = (Worker){p, i + 1};
            if ((e = pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]))) {
                rt_error(c, "pthread_create failed: %s", strerror(e));
                rt_pool_free(c, p);
                return NULL;
            }
            p->nthreads++;
        }
    }
    return p;
}

void rt_pool_free(RtCtx *c, NncPool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads - 1; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    rt_free(c, p->threads);
    rt_free(c, p->workers);
    rt_free(c, p);
}
