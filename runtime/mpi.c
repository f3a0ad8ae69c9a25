/* mpi.c - data-parallel training over MPI (docs/distributed.md): the processes of a run, the
 * gradient allreduce that compiled code calls once per step (nnc_allreduce_mean), the broadcast of
 * the starting parameters, the parameter-hash check (--check-sync) and the watchdog (--dist-timeout).
 *
 * OpenMPI is opened with dlopen, never linked: an executable runs on a machine without MPI, and
 * MPI is loaded only when the process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE or PMIX_RANK in the environment) or asked for with --distributed mpi. The library is
 * libmpi.so.40 (Debian's OpenMPI 4), else libmpi.so, or the file NNC_MPI_LIB names. The
 * predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are OpenMPI's exported objects
 * (ompi_mpi_comm_world, ...), whose addresses are the handles, as OpenMPI's mpi.h defines them.
 *
 * The state is the process's (generated code calls nnc_allreduce_mean without a context): one run
 * per process. Without MPI every function here is a no-op for a world of one.
 * A `--target cuda` executable reduces its gradients on the GPUs instead, through NCCL
 * (runtime/nccl.c, called from runtime/cuda.c's `allreduce` step whenever MPI is up); this file
 * still gives it the ranks, the broadcasts, the metrics' sums and --check-sync.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

typedef void *MpiHandle;        /* OpenMPI: MPI_Comm, MPI_Datatype, MPI_Op are pointers */
#define MPI_IN_PLACE_OMPI ((void *)1)
#define MPI_THREAD_FUNNELED_OMPI 1

static struct {
    void *lib;
    int rank, world;
    bool on;                    /* MPI_Init_thread succeeded */
    int (*Init_thread)(int *, char ***, int, int *);
    int (*Comm_rank)(MpiHandle, int *);
    int (*Comm_size)(MpiHandle, int *);
    int (*Allreduce)(const void *, void *, int, MpiHandle, MpiHandle, MpiHandle);
    int (*Bcast)(void *, int, MpiHandle, int, MpiHandle);
    int (*Barrier)(MpiHandle);
    int (*Abort)(MpiHandle, int);
    int (*Finalize)(void);
    MpiHandle comm, f32, f64, u64, byte, sum, max;
    float *flat;                /* the packed gradients of one step */
    size_t flat_cap;
    double seconds;             /* spent in nnc_allreduce_mean */
    int64_t calls;
    int64_t bytes;              /* reduced, in all */
    /* the watchdog: the time (CLOCK_MONOTONIC, ns) a collective started, 0 outside one */
    _Atomic int64_t in_since;
    const char *in_what;
    double timeout;
    pthread_t dog;
    bool dog_on;
    const char *prog;
} D = {.rank = 0, .world = 1};

int rt_dist_rank(void) { return D.rank; }
int rt_dist_world(void) { return D.world; }
bool rt_dist_on(void) { return D.on; }

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The watchdog: a collective that has not returned for --dist-timeout seconds means another
 * process died or hangs (OpenMPI's mpirun usually ends the others itself when one dies; this is
 * the backstop for a launcher that does not, or a process stopped without dying). */
static void *watchdog(void *arg) {
    (void)arg;
    for (;;) {
        sleep(1);
        int64_t t = atomic_load(&D.in_since);
        if (t && (double)(mono_ns() - t) * 1e-9 > D.timeout) {
            fprintf(stderr, "%s: error: rank %d of %d: no answer from the other processes for %g s in %s: a process "
                            "died or hangs (--dist-timeout); exiting\n",
                    D.prog, D.rank, D.world, D.timeout, D.in_what ? D.in_what : "a collective");
            fflush(stderr);
            _exit(1);
        }
    }
    return NULL;
}

static void enter(const char *what) {
    D.in_what = what;
    atomic_store(&D.in_since, mono_ns());
}
static void leave(void) { atomic_store(&D.in_since, 0); }

/* A wait on the other processes outside MPI (runtime/nccl.c's NCCL calls, runtime/cuda.c's wait
 * for a step whose gradients NCCL reduces): under the watchdog too. */
void rt_dist_wait_begin(const char *what) {
    if (D.world > 1) enter(what);
}
void rt_dist_wait_end(void) {
    if (D.world > 1) leave();
}

/* The collective failed: OpenMPI's default error handler aborts the job before this returns, so
 * this is for a library set up otherwise. */
static void mpi_fail(const char *what, int rc) {
    fprintf(stderr, "%s: error: rank %d: %s failed (MPI error %d)\n", D.prog ? D.prog : "nnc", D.rank, what, rc);
    fflush(stderr);
    if (D.Abort) D.Abort(D.comm, 1);
    _exit(1);
}

bool rt_dist_launched(void) {
    const char *v[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    for (int i = 0; i < 3; i++)
        if (getenv(v[i]) && *getenv(v[i])) return true;
    return false;
}

static void *sym(RtCtx *c, const char *lib, const char *name, bool *ok) {
    void *p = dlsym(D.lib, name);
    if (!p && *ok) {
        rt_error(c, "the MPI library '%s' has no symbol '%s' (nnc needs OpenMPI 4 or later)", lib, name);
        *ok = false;
    }
    return p;
}

int rt_dist_init(RtCtx *c, int mode, double timeout) {
    D.prog = c->prog;
    if (mode < 0 || (mode == 0 && !rt_dist_launched())) return 0;
    const char *env = getenv("NNC_MPI_LIB");
    const char *names[3] = {env && *env ? env : "libmpi.so.40", env && *env ? NULL : "libmpi.so", NULL};
    const char *used = NULL;
    char why[512] = "";
    for (int i = 0; names[i] && !D.lib; i++) {
        D.lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);   /* GLOBAL: OpenMPI's plugins link against it */
        if (D.lib) used = names[i];
        else if (!why[0]) snprintf(why, sizeof why, "%s", dlerror());
    }
    if (!D.lib)
        return rt_error(c, "%s, but no MPI library could be loaded (%s): install OpenMPI (Debian: apt install "
                           "openmpi-bin libopenmpi-dev) or name the library with NNC_MPI_LIB",
                        mode > 0 ? "--distributed mpi asks for MPI" : "started by an MPI launcher", why);
    bool ok = true;
    *(void **)&D.Init_thread = sym(c, used, "MPI_Init_thread", &ok);
    *(void **)&D.Comm_rank = sym(c, used, "MPI_Comm_rank", &ok);
    *(void **)&D.Comm_size = sym(c, used, "MPI_Comm_size", &ok);
    *(void **)&D.Allreduce = sym(c, used, "MPI_Allreduce", &ok);
    *(void **)&D.Bcast = sym(c, used, "MPI_Bcast", &ok);
    *(void **)&D.Barrier = sym(c, used, "MPI_Barrier", &ok);
    *(void **)&D.Abort = sym(c, used, "MPI_Abort", &ok);
    *(void **)&D.Finalize = sym(c, used, "MPI_Finalize", &ok);
    D.comm = sym(c, used, "ompi_mpi_comm_world", &ok);
    D.f32 = sym(c, used, "ompi_mpi_float", &ok);
    D.f64 = sym(c, used, "ompi_mpi_double", &ok);
    D.u64 = sym(c, used, "ompi_mpi_uint64_t", &ok);
    D.byte = sym(c, used, "ompi_mpi_byte", &ok);
    D.sum = sym(c, used, "ompi_mpi_op_sum", &ok);
    D.max = sym(c, used, "ompi_mpi_op_max", &ok);
    if (!ok) return -1;
    int provided = 0;
    /* FUNNELED: only this (the main) thread calls MPI; the pool's threads never do */
    if (D.Init_thread(NULL, NULL, MPI_THREAD_FUNNELED_OMPI, &provided))
        return rt_error(c, "MPI_Init_thread failed (%s)", used);
    D.on = true;
    D.Comm_rank(D.comm, &D.rank);
    D.Comm_size(D.comm, &D.world);
    D.timeout = timeout;
    if (D.world > 1 && timeout > 0 && pthread_create(&D.dog, NULL, watchdog, NULL) == 0) {
        pthread_detach(D.dog);
        D.dog_on = true;
    }
    return 0;
}

void rt_dist_finish(int rc) {
    if (!D.on) return;
    if (rc != 0 && D.world > 1) {
        /* this process failed: the others would wait for it in their next allreduce. An error every
         * rank meets (a batch the ranks do not divide) makes them all abort at once, which can
         * wedge OpenMPI 4's mpirun ("Data unpack would read past end of buffer" in show_help.c):
         * rank 0 aborts first, the others a moment later, so one abort ends the job. */
        fflush(stdout);
        fflush(stderr);
        if (D.rank > 0) sleep(2);
        D.Abort(D.comm, rc);
    }
    D.Finalize();
    D.on = false;
    free(D.flat);
    D.flat = NULL;
}

/* Every chunk of at most INT_MAX elements (MPI counts are int). */
static void allreduce_sum(void *buf, int64_t n, MpiHandle type, size_t esize, MpiHandle op, const char *what) {
    enter(what);
    for (int64_t at = 0; at < n; at += INT_MAX) {
        int k = n - at < INT_MAX ? (int)(n - at) : INT_MAX;
        int rc = D.Allreduce(MPI_IN_PLACE_OMPI, (char *)buf + (size_t)at * esize, k, type, op, D.comm);
        if (rc) mpi_fail(what, rc);
    }
    leave();
}

/* The ABI's allreduce (nnc_abi.h): out[j] = mean over the ranks of in[j] (count[j] floats each),
 * for every j, as one reduction over the gradients packed into one flat buffer. */
void nnc_allreduce_mean(int32_t n, void *const *in, void *const *out, const int64_t *count) {
    if (D.world <= 1) {
        for (int32_t j = 0; j < n; j++)
            if (in[j] != out[j]) memmove(out[j], in[j], (size_t)count[j] * sizeof(float));
        return;
    }
    double t0 = rt_now();
    int64_t total = 0;
    for (int32_t j = 0; j < n; j++) total += count[j];
    if ((size_t)total > D.flat_cap) {
        float *p = realloc(D.flat, (size_t)total * sizeof(float));
        if (!p) {
            fprintf(stderr, "%s: error: out of memory for the %lld gradient values of the allreduce\n", D.prog,
                    (long long)total);
            mpi_fail("allocating the allreduce buffer", -1);
        }
        D.flat = p;
        D.flat_cap = (size_t)total;
    }
    int64_t at = 0;
    for (int32_t j = 0; j < n; j++) {
        memcpy(D.flat + at, in[j], (size_t)count[j] * sizeof(float));
        at += count[j];
    }
    allreduce_sum(D.flat, total, D.f32, sizeof(float), D.sum, "the gradient allreduce");
    /* the mean: a sum divided by N, the same rounding on every rank (every rank gets the same sum) */
    float inv = 1.0f / (float)D.world;
    bool pow2 = (D.world & (D.world - 1)) == 0;
    at = 0;
    for (int32_t j = 0; j < n; j++) {
        float *o = out[j];
        const float *s = D.flat + at;
        if (pow2)
            for (int64_t e = 0; e < count[j]; e++) o[e] = s[e] * inv;   /* exact: a power of two */
        else
            for (int64_t e = 0; e < count[j]; e++) o[e] = s[e] / (float)D.world;
        at += count[j];
    }
    D.seconds += rt_now() - t0;
    D.calls++;
    D.bytes += total * (int64_t)sizeof(float);
}

void rt_dist_allreduce_stats(double *seconds, int64_t *calls, int64_t *bytes) {
    *seconds = D.seconds;
    *calls = D.calls;
    *bytes = D.bytes;
}

void rt_dist_sum_f64(double *v, int64_t n) {
    if (D.world > 1 && n > 0) allreduce_sum(v, n, D.f64, sizeof(double), D.sum, "the sum of the epoch's metrics");
}

void rt_dist_bcast(void *buf, size_t bytes) {
    if (D.world <= 1) return;
    enter("the broadcast of the starting parameters");
    for (size_t at = 0; at < bytes; at += INT_MAX) {
        int k = bytes - at < INT_MAX ? (int)(bytes - at) : INT_MAX;
        int rc = D.Bcast((char *)buf + at, k, D.byte, 0, D.comm);
        if (rc) mpi_fail("MPI_Bcast", rc);
    }
    leave();
}

/* FNV-1a over the bytes, 8 at a time (a checksum, not a defence). */
static uint64_t hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, b + k, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; k < n; k++) h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

int rt_dist_check_sync(RtCtx *c, int64_t step) {
    if (D.world <= 1) return 0;
    uint64_t h = hash_bytes((const uint8_t *)(((uintptr_t)c->slab_raw + 63) & ~(uintptr_t)63), c->slab_bytes);
    uint64_t v[2] = {h, ~h};      /* max of h and of ~h: the largest and the smallest hash */
    allreduce_sum(v, 2, D.u64, sizeof(uint64_t), D.max, "the parameter hash check (--check-sync)");
    if (v[0] != h || ~v[1] != h)
        return rt_error(c, "rank %d of %d: the parameters or state differ between processes after step %lld (hash %016llx, "
                           "the processes hold %016llx to %016llx): data-parallel training lost its sync",
                        D.rank, D.world, (long long)step, (unsigned long long)h, (unsigned long long)~v[1],
                        (unsigned long long)v[0]);
    return 0;
}
