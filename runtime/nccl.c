/* nccl.c - the gradient allreduce of a `--target cuda` executable trained data-parallel: one
 * process per GPU, NCCL between the GPUs (docs/distributed.md, docs/backend-cuda.md).
 *
 * NCCL (libnccl.so.2, or the file NNC_NCCL_LIB names) is opened with dlopen, never linked, and
 * only at the first allreduce of a run under MPI (runtime/mpi.c up: an MPI launcher or
 * --distributed mpi); a single-process run never loads it. Then: rank 0's ncclGetUniqueId, the id
 * broadcast over MPI (rt_dist_bcast), ncclCommInitRank with one rank per process on the device
 * runtime/cuda.c made current (the local rank's GPU unless --device). Each step's gradients are
 * reduced in place or into their results with ncclAvg (the mean over the ranks, f32: gradients
 * stay f32 with --precision bf16), all of a step's tensors in one ncclGroupStart/ncclGroupEnd, on
 * the stream runtime/cuda.c passes (its communication stream, ordered after the backward kernels
 * and before the update by events). Every NCCL call is checked: a failure names the call, the
 * rank and ncclGetErrorString, and ends the run (MPI_Abort: the other ranks would wait for this
 * one). A machine without libnccl.so.2 gets a message naming it and exit 1.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

typedef int NcclResult;                                 /* ncclResult_t: ncclSuccess = 0 */
typedef struct { char internal[128]; } NcclId;          /* ncclUniqueId (NCCL_UNIQUE_ID_BYTES) */
typedef void *NcclComm;
enum { NCCL_FLOAT32 = 7, NCCL_AVG = 4, NCCL_MIN_VERSION = 21000 };    /* ncclAvg: NCCL 2.10 */

#ifdef NNC_NCCL_H_CHECK     /* tests/dist/nccl.sh compiles this file against NCCL's own header */
#include <nccl.h>
_Static_assert(ncclFloat32 == NCCL_FLOAT32 && ncclAvg == NCCL_AVG && ncclSuccess == 0, "nccl.h's enums");
_Static_assert(sizeof(ncclUniqueId) == sizeof(NcclId) && sizeof(ncclComm_t) == sizeof(NcclComm), "nccl.h's types");
#endif

static struct {
    void *lib;
    const char *used;
    NcclComm comm;
    int version;
    NcclResult (*GetVersion)(int *);
    NcclResult (*GetUniqueId)(NcclId *);
    NcclResult (*CommInitRank)(NcclComm *, int, NcclId, int);
    NcclResult (*AllReduce)(const void *, void *, size_t, int, int, NcclComm, void *);
    NcclResult (*GroupStart)(void);
    NcclResult (*GroupEnd)(void);
    NcclResult (*CommDestroy)(NcclComm);
    const char *(*ErrorString)(NcclResult);
    int64_t calls, bytes;
} N;

static const char *nprog = "model";

static void nfail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void nfail(const char *fmt, ...) {
    char msg[1024];     /* one write: the ranks' messages do not interleave */
    int k = snprintf(msg, sizeof msg, "%s: error: rank %d of %d: ", nprog, rt_dist_rank(), rt_dist_world());
    va_list ap;
    va_start(ap, fmt);
    if (k > 0 && k < (int)sizeof msg - 2) vsnprintf(msg + k, sizeof msg - 2 - (size_t)k, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg);
    msg[len] = '\n', msg[len + 1] = 0;
    fputs(msg, stderr);
    fflush(stderr);
    rt_dist_finish(1);      /* MPI_Abort: the other ranks would wait for this one in NCCL or MPI */
    exit(1);
}

static void ncheck(NcclResult rc, const char *call, const char *what) {
    if (rc == 0) return;
    const char *s = N.ErrorString ? N.ErrorString(rc) : NULL;
    nfail("%s(%s) failed: NCCL error %d: %s", call, what, rc, s ? s : "?");
}

static void *nsym(const char *name) {
    void *p = dlsym(N.lib, name);
    if (!p) nfail("the NCCL library '%s' has no %s: nnc needs NCCL 2.10 or later", N.used, name);
    return p;
}

static void nccl_open(void) {
    const char *env = getenv("NNC_NCCL_LIB");
    N.used = env && *env ? env : "libnccl.so.2";
    N.lib = dlopen(N.used, RTLD_NOW | RTLD_LOCAL);
    if (!N.lib)
        nfail("data-parallel training on GPUs needs NCCL, and %s could not be loaded (%s): install NCCL 2 (NVIDIA's "
              "libnccl2 package, or the library beside the CUDA toolkit, on LD_LIBRARY_PATH), name it with "
              "NNC_NCCL_LIB, or train on one GPU without MPI",
              N.used, dlerror());
    *(void **)&N.ErrorString = nsym("ncclGetErrorString");
    *(void **)&N.GetVersion = nsym("ncclGetVersion");
    *(void **)&N.GetUniqueId = nsym("ncclGetUniqueId");
    *(void **)&N.CommInitRank = nsym("ncclCommInitRank");
    *(void **)&N.AllReduce = nsym("ncclAllReduce");
    *(void **)&N.GroupStart = nsym("ncclGroupStart");
    *(void **)&N.GroupEnd = nsym("ncclGroupEnd");
    *(void **)&N.CommDestroy = nsym("ncclCommDestroy");
    ncheck(N.GetVersion(&N.version), "ncclGetVersion", "");
    if (N.version < NCCL_MIN_VERSION)
        nfail("%s is NCCL version code %d: nnc needs 2.10 or later (ncclAvg)", N.used, N.version);
}

/* The communicator of every process of the MPI run: rank 0's id to all, then ncclCommInitRank on
 * the current CUDA context's device (runtime/cuda.c chose it). */
static void nccl_init(void) {
    nccl_open();
    NcclId id;
    memset(&id, 0, sizeof id);
    if (rt_dist_rank() == 0) ncheck(N.GetUniqueId(&id), "ncclGetUniqueId", "rank 0's communicator id");
    rt_dist_bcast(&id, sizeof id);
    rt_dist_wait_begin("ncclCommInitRank");     /* it waits for every rank: --dist-timeout applies */
    ncheck(N.CommInitRank(&N.comm, rt_dist_world(), id, rt_dist_rank()), "ncclCommInitRank",
           "one rank per GPU");
    rt_dist_wait_end();
}

void nnc_nccl_allreduce_mean(const char *prog, int32_t n, const unsigned long long *in, const unsigned long long *out,
                             const int64_t *count, void *stream) {
    if (prog) nprog = prog;
    if (!N.comm) nccl_init();
    rt_dist_wait_begin("the gradients' NCCL allreduce");    /* returns once queued, unless NCCL waits */
    ncheck(N.GroupStart(), "ncclGroupStart", "the step's gradients");
    for (int32_t j = 0; j < n; j++) {
        if (count[j] <= 0) continue;
        ncheck(N.AllReduce((const void *)(uintptr_t)in[j], (void *)(uintptr_t)out[j], (size_t)count[j], NCCL_FLOAT32,
                           NCCL_AVG, N.comm, stream),
               "ncclAllReduce", "a gradient, f32, ncclAvg");
        N.bytes += count[j] * (int64_t)sizeof(float);
    }
    ncheck(N.GroupEnd(), "ncclGroupEnd", "the step's gradients");
    rt_dist_wait_end();
    N.calls++;
}

void nnc_nccl_stats(int64_t *calls, int64_t *bytes) {
    *calls = N.calls;
    *bytes = N.bytes;
}
