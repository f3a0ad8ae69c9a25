/* memory.c - whether a run's memory plan fits, checked before the run starts.
 *
 * Every allocation of the runtime is checked (rt_alloc); this file refuses up front what cannot
 * fit, with the bytes needed and available, instead of failing halfway or worse: OpenBLAS retries a
 * failed allocation of its GEMM buffers forever (blas_memory_alloc spins when malloc returns NULL),
 * so under an address-space limit (`ulimit -v`) a model would hang at its first matrix product.
 *
 * Available memory is the smaller of what the address-space and data limits leave
 * (RLIMIT_AS / RLIMIT_DATA minus the current size) and /proc/meminfo's MemAvailable + SwapFree.
 * OpenBLAS's buffers are probed for real where a limit is set: a thread runs one threaded SGEMM, and
 * one that does not finish in time is spinning in OpenBLAS's allocator, where the run would hang.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "rt.h"

void rt_human(double bytes, char *buf, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int k = 0;
    while (bytes >= 1024 && k < 5) { bytes /= 1024; k++; }
    snprintf(buf, n, k ? "%.1f %s" : "%.0f %s", bytes, u[k]);
}

/* A /proc/meminfo field in bytes, or -1. */
static double meminfo(const char *field) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    double v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') { v = strtod(line + n + 1, NULL) * 1024; break; }
    fclose(f);
    return v;
}

/* The process's virtual size in bytes (/proc/self/statm), or -1. */
static double vm_size(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    unsigned long pages = 0;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    return ok ? (double)pages * (double)sysconf(_SC_PAGESIZE) : -1;
}

/* Whether an address-space or data limit is set (the only limits under which malloc fails). */
static bool limited(struct rlimit *as) {
    struct rlimit data;
    bool a = getrlimit(RLIMIT_AS, as) == 0 && as->rlim_cur != RLIM_INFINITY;
    bool d = getrlimit(RLIMIT_DATA, &data) == 0 && data.rlim_cur != RLIM_INFINITY;
    if (!a && d) *as = data;
    return a || d;
}

double rt_mem_available(char *why, size_t n) {
    double avail = -1;
    struct rlimit lim;
    if (limited(&lim)) {
        double vm = vm_size();
        if (vm >= 0) {
            avail = (double)lim.rlim_cur > vm ? (double)lim.rlim_cur - vm : 0;
            char l[32];
            rt_human((double)lim.rlim_cur, l, sizeof l);
            snprintf(why, n, "the process's memory limit of %s (ulimit -v / -d) leaves no more", l);
        }
    }
    double ma = meminfo("MemAvailable"), sf = meminfo("SwapFree");
    if (ma >= 0 && (avail < 0 || ma + (sf > 0 ? sf : 0) < avail)) {
        avail = ma + (sf > 0 ? sf : 0);
        snprintf(why, n, "that is the free memory and swap (MemAvailable + SwapFree)");
    }
    return avail;
}

int rt_mem_plan(RtCtx *c, const char *what, double need, const char *parts) {
    char why[256] = "";
    double avail = rt_mem_available(why, sizeof why);
    if (avail < 0 || need <= avail) return 0;
    char h[32], ha[32];
    rt_human(need, h, sizeof h);
    rt_human(avail, ha, sizeof ha);
    return rt_error(c, "%s needs %s (%.0f bytes: %s) more memory, but only %s (%.0f bytes) are available: %s; try "
                       "a smaller --batch or --limit", what, h, need, parts, ha, avail, why);
}

/* The probe's thread: one SGEMM large enough for OpenBLAS to use every thread (and so need every
 * thread's buffer). */
typedef struct Probe { atomic_int done; float *m; } Probe;

static void *blas_probe_main(void *arg) {
    Probe *p = arg;
    enum { N = 256 };
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, p->m, N, p->m + N * N, N, 0.0f,
                p->m + 2 * N * N, N);
    atomic_store(&p->done, 1);
    return NULL;
}

bool rt_blas_stuck(RtCtx *c) {
    struct rlimit lim;
    if (!limited(&lim)) return false;
    /* OpenBLAS's worker threads allocate their buffers when they start (at load time, before main)
     * and the calling thread at its first product; a failed allocation is retried forever. So the
     * probe runs in a thread of its own and is given 3 s (a few milliseconds when the buffers exist). */
    static Probe p;   /* outlives a probe thread that never returns */
    p.m = rt_calloc(c, sizeof(float) * 3 * 256 * 256);
    if (!p.m) return false;   /* the command will meet the same shortage, and say so */
    atomic_store(&p.done, 0);
    pthread_t th;
    if (pthread_create(&th, NULL, blas_probe_main, &p)) {   /* no thread for the probe: run unprobed */
        rt_free(c, p.m);
        return false;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 600 && !atomic_load(&p.done); i++) nanosleep(&ts, NULL);
    if (!atomic_load(&p.done)) return true;   /* p.m stays with the stuck thread */
    pthread_join(th, NULL);
    rt_free(c, p.m);
    return false;
}

int rt_blas_refuse(RtCtx *c) {
    struct rlimit lim;
    limited(&lim);
    char why[256] = "", l[32], ha[32];
    double avail = rt_mem_available(why, sizeof why);
    rt_human((double)lim.rlim_cur, l, sizeof l);
    rt_human(avail > 0 ? avail : 0, ha, sizeof ha);
    return rt_error(c, "OpenBLAS cannot allocate its buffers under the process's memory limit of %s (ulimit -v / -d; "
                       "%s (%.0f bytes) available): its first matrix product never finished, as OpenBLAS retries a "
                       "failed allocation forever; raise the limit: OpenBLAS takes a buffer of up to 128 MiB for "
                       "each of its threads", l, ha, avail > 0 ? avail : 0);
}

/* Transparent huge pages for a large buffer the steps stream through (the training workspace):
 * where the kernel's THP mode is `madvise` (Debian's default), malloc's 4 KiB pages cost one page
 * fault per 4 KiB when the buffer is first touched (tiny_transformer's 310 MB workspace: ~76,000
 * faults, ~0.1 s of CPU at startup) and a TLB entry per 4 KiB for every kernel after. The 2 MiB-
 * aligned part of [p, p + n) is advised (a hint: ignored where THP is off or unavailable). */
void rt_huge_pages(void *p, size_t n) {
#ifdef MADV_HUGEPAGE
    const uintptr_t H = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + H - 1) & ~(H - 1), e = ((uintptr_t)p + n) & ~(H - 1);
    if (e > b)
        (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
    (void)p, (void)n;
#endif
}
