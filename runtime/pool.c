/* pool.c - the thread pool behind nnc_parallel_for.
 *
 * Threads are created once per run (rt_pool_new) and wait on a condition variable between calls.
 * [0, n) is cut into T contiguous chunks by a fixed rule, chunk k = [n*k/T, n*(k+1)/T), and chunk
 * k always runs on worker k (the caller runs chunk 0), so which element is computed with which
 * partial sums never depends on scheduling: results are the same from run to run. A call made
 * while the pool is already busy (a nested parallel loop) runs inline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "rt.h"

typedef struct Worker { struct NncPool *p; int id; } Worker;

/* Workers sleep on a condition variable between jobs. Spinning before sleeping was measured (a
 * 4096-element loop, 2 threads, back to back): on this project's 2-core shared machines it doubled
 * the cost of a call (~45 us vs ~25 us under load), so the pool does not spin. */
struct NncPool {
    int nthreads;               /* workers + the caller */
    pthread_t *threads;         /* [nthreads - 1] */
    Worker *workers;            /* [nthreads - 1], each thread's argument */
    pthread_mutex_t mu;         /* guards everything below but busy */
    pthread_cond_t start, done;
    uint64_t generation;        /* bumped per job; workers wait for a change */
    int pending;                /* workers still running the current job */
    bool quit;
    atomic_bool busy;           /* a job is running: nested calls run inline */
    /* the current job */
    int64_t n;
    int chunks;
    void (*fn)(void *ctx, int64_t lo, int64_t hi);
    void *ctx;
};

static void run_chunk(NncPool *p, int k) {
    int64_t lo = p->n * k / p->chunks, hi = p->n * (k + 1) / p->chunks;
    if (lo < hi) p->fn(p->ctx, lo, hi);
}

static void *worker_main(void *arg) {
    NncPool *p = ((Worker *)arg)->p;
    int id = ((Worker *)arg)->id;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        if (id < p->chunks) run_chunk(p, id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void nnc_parallel_for(NncPool *p, int64_t n, void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx) {
    if (n <= 0) return;
    bool expect = false;
    if (!p || p->nthreads <= 1 || n == 1 || !atomic_compare_exchange_strong(&p->busy, &expect, true)) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->chunks = n < p->nthreads ? (int)n : p->nthreads;
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->nthreads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_chunk(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->busy, false);
}

int nnc_pool_threads(const NncPool *p) { return p ? p->nthreads : 1; }

NncPool *rt_pool_new(RtCtx *c, int threads) {
    if (threads < 1) threads = 1;
    NncPool *p = rt_calloc(c, sizeof *p);
    if (!p) return NULL;
    p->nthreads = 1;
    atomic_init(&p->busy, false);

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
    p->quit = true;
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
