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
 * first polls for up to $NNC_POOL_SPIN_US microseconds (default POOL_SPIN_US = 100; 0: no polling),
 * yielding the core between polls (spin_until), then sleeps on a condition variable (each side
 * checks an atomic first, so a job whose chunks are all done costs no sleep, and a job published
 * while its worker polls costs no futex call). A recurrent model dispatches a job every few tens of
 * microseconds (char_lstm: ~1,000 a training step, a GEMM and a cell kernel per layer and time
 * step), so without the poll every job woke a sleeping worker through the kernel, and when the
 * wake-up was slow the caller claimed both chunks itself: one core ran the step. A pure `pause`
 * spin was measured twice as worse on this project's loaded 2-core machines (a spinning thread takes
 * the core the other one needs: mlp_small at 2 threads, 2026-12-02, load 10, 37.6k vs 46.9k
 * samples/s with a 50 us spin; char_lstm, 2026-12-03, load 11-14, +10% CPU time with a 100 us
 * one), which is why the poll yields. On a loaded machine a yielding thread waits behind the other
 * processes while a woken one runs at once, so there a polling worker often finds its job done by
 * the caller, and a polling thread takes half the process's share of a loaded machine: after
 * POLL_MISSES failed polls in a row the pool sleeps for the next POLL_BACKOFF jobs (wait_begin).
 * With both, char_lstm's CPU time is that of the sleeping pool at load 10-17 (bench/README.md,
 * 2026-12-03); with the process owning both cores (`chrt -f 1`) the poll gave +12% samples/s at 2
 * threads.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#include "rt.h"

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
    int64_t spin_ns;            /* how long a waiting thread polls before it sleeps (0: never) */
    atomic_int backoff;         /* jobs left before waiting threads poll again (wait_begin) */
    int caller_fails;           /* the caller's failed polls in a row (one caller at a time: busy) */
    /* the current job: claim = generation << 32 | next unclaimed chunk */
    atomic_uint_least64_t claim;
    atomic_int remaining;       /* chunks not finished */
    int64_t n;
    int chunks;
    void (*fn)(void *ctx, int64_t lo, int64_t hi);
    void *ctx;
};

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

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls until done(p, arg) or p->spin_ns have passed since t0; true when done. The clock is read
 * every 32 `pause`s (tens of ns each on current x86 cores), so the bound holds whatever pause costs,
 * and after the first 32 each poll yields the core: on an idle core sched_yield returns at once (a
 * poll every ~1 us), on a loaded one the threads that wait for the core run instead of the poll. */
static bool spin_until(NncPool *p, bool (*done)(NncPool *, unsigned), unsigned arg, int64_t t0) {
    int64_t end = t0 + p->spin_ns;
    for (;;) {
        for (int i = 0; i < 32; i++) {
            if (done(p, arg)) return true;
            cpu_relax();
        }
        if (now_ns() >= end) return done(p, arg);
        sched_yield();
    }
}

/* Whether to poll: not while p->backoff > 0. POLL_MISSES polls in a row that fail set it to
 * POLL_BACKOFF jobs, after which polling is tried again. A poll fails when it times out (the other
 * thread is late: on a loaded machine it is descheduled for milliseconds) or when the worker that
 * polled finds its job done by the caller (a thread that yields waits behind the other processes,
 * while a woken one runs at once). On a loaded machine a polling thread is also worse than a
 * sleeping one for the process as a whole: it is runnable, so it takes half of the share of the
 * CPU the scheduler gives the process (its cgroup) and yields it to other processes, while the
 * thread with work gets the other half. On an idle machine the jobs of a recurrent step come
 * microseconds apart, and the polls succeed. */
#define POLL_MISSES 4
#define POLL_BACKOFF 256

enum { WAIT_DONE, WAIT_POLL_FAILED, WAIT_NO_POLL };

/* The start of a wait for done(p, arg): WAIT_DONE when it is done already or becomes so while
 * polling; otherwise the thread must sleep. */
static int wait_begin(NncPool *p, bool (*done)(NncPool *, unsigned), unsigned arg) {
    if (done(p, arg)) return WAIT_DONE;
    if (p->spin_ns <= 0 || atomic_load_explicit(&p->backoff, memory_order_relaxed) > 0) return WAIT_NO_POLL;
    return spin_until(p, done, arg, now_ns()) ? WAIT_DONE : WAIT_POLL_FAILED;
}

/* Counts a poll's outcome in *fails (the thread's failures in a row); enough of them: back off. */
static void poll_outcome(NncPool *p, int *fails, bool failed) {
    if (!failed) {
        *fails = 0;
    } else if (++*fails >= POLL_MISSES) {
        atomic_store_explicit(&p->backoff, POLL_BACKOFF, memory_order_relaxed);
        *fails = 0;
    }
}

static bool new_job(NncPool *p, unsigned seen) {
    return atomic_load_explicit(&p->generation, memory_order_acquire) != seen ||
           atomic_load_explicit(&p->quit, memory_order_acquire);
}

static bool chunks_done(NncPool *p, unsigned unused) {
    (void)unused;
    return atomic_load_explicit(&p->remaining, memory_order_acquire) <= 0;
}

static void *worker_main(void *arg) {
    NncPool *p = ((Worker *)arg)->p;
    unsigned seen = 0;
    int misses = 0;
    for (;;) {
        int w = wait_begin(p, new_job, seen);
        unsigned g = atomic_load(&p->generation);
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
        int k, ran = 0;
        while (claim(p, seen, &k)) {
            run_chunk(p, k);
            finish(p);
            ran++;
        }
        if (w != WAIT_NO_POLL)
            poll_outcome(p, &misses, w == WAIT_POLL_FAILED || !ran);
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
    int64_t t0 = p->spin_ns > 0 ? now_ns() : 0;
    while (claim(p, gen, &k)) {
        run_chunk(p, k);
        finish(p);
    }
    /* A failed poll of the caller counts only when its own chunks took less than the poll: then
     * the worker's chunk of the same size is late by more than the poll (descheduled). After long
     * chunks (a large GEMM's blocks end some 100 us apart on an idle machine too) it does not. */
    int w = wait_begin(p, chunks_done, 0);
    if (w == WAIT_POLL_FAILED && now_ns() - t0 < 2 * p->spin_ns)
        poll_outcome(p, &p->caller_fails, true);
    else if (w == WAIT_DONE && atomic_load_explicit(&p->backoff, memory_order_relaxed) == 0)
        p->caller_fails = 0;
    if (w != WAIT_DONE) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_asleep, true);
        while (atomic_load(&p->remaining) > 0) pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->caller_asleep, false);
        pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load_explicit(&p->backoff, memory_order_relaxed) > 0)
        atomic_fetch_sub_explicit(&p->backoff, 1, memory_order_relaxed);
    atomic_store(&p->busy, false);
}

int nnc_pool_threads(const NncPool *p) { return p ? p->nthreads : 1; }

typedef void (*ConcatPart)(void *out, void *src, int64_t at, int64_t B);
typedef struct PartsJob {
    void **part, *out, **src;
    const int64_t *at;
    int64_t B;
} PartsJob;

static void parts_run(void *ctx, int64_t lo, int64_t hi) {
    const PartsJob *j = ctx;
    for (int64_t i = lo; i < hi; i++)
        if (j->src[i]) {
            ConcatPart f;
            memcpy(&f, &j->part[i], sizeof f);   /* a function pointer passed as void * */
            f(j->out, j->src[i], j->at[i], j->B);
        }
}

#define CONCAT_PAR_BYTES (256 << 10)
void nnc_concat_parts(NncPool *pool, int64_t n, int64_t bytes, void **part, void *out, const int64_t *at, void **src,
                      int64_t B) {
    PartsJob j = {part, out, src, at, B};
    if (bytes < CONCAT_PAR_BYTES)
        parts_run(&j, 0, n);
    else
        nnc_parallel_for(pool, n, parts_run, &j);
}


/* $NNC_POOL_SPIN_US: how long a waiting thread polls before it sleeps, in microseconds (default
 * POOL_SPIN_US; 0 turns the spin off). */
#define POOL_SPIN_US 100
static int64_t pool_spin_ns(void) {
    const char *e = getenv("NNC_POOL_SPIN_US");
    if (!e || !*e) return (int64_t)POOL_SPIN_US * 1000;
    char *end;
    long v = strtol(e, &end, 10);
    if (*end || v < 0 || v > 1000000) return (int64_t)POOL_SPIN_US * 1000;
    return (int64_t)v * 1000;
}

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
    atomic_init(&p->backoff, 0);
    p->spin_ns = pool_spin_ns();

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
