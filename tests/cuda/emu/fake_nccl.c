/* fake_nccl.c - libnccl.so.2 for tests/cuda/emu: the NCCL calls runtime/nccl.c makes, for a
 * `--target cuda` executable run under mpirun with the emulator's libcuda.so.1 (device memory is
 * host memory there). ncclAllReduce reduces over MPI on the host (the MPI library runtime/mpi.c
 * opened RTLD_GLOBAL: MPI_Allreduce of float sums, then the mean as runtime/mpi.c takes it), at
 * once: the emulator's kernels run at launch, so the host-side order of the calls is the order
 * on the device. Test-only, not NCCL: it checks what a real NCCL would need of the caller - the
 * same unique id on every rank (rank 0's, broadcast), nranks and rank equal to MPI's, one GPU per
 * rank (the emulator's current device is the local rank's unless --device), f32 and ncclAvg, a
 * stream the driver made, calls inside a balanced group. With $NNC_EMU_STATS set it prints at exit
 * what it reduced, which tests/dist/nccl.sh checks. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct { char internal[128]; } Id;
enum { OK = 0, SYSTEM = 2, INVALID_ARGUMENT = 4, INVALID_USAGE = 5 };

static struct {
    int on, nranks, rank, device, group;
    long long calls, groups, floats;
    int (*Allreduce)(const void *, void *, int, void *, void *, void *);
    void *comm, *f32, *sum, *u64, *max;
    int (*StreamSynchronize)(void *);
} F = {.device = -1};

static void stats(void) {
    fprintf(stderr, "emu nccl: rank %d of %d on device %d: %lld allreduces in %lld groups, %lld floats\n", F.rank,
            F.nranks, F.device, F.calls, F.groups, F.floats);
}

int ncclGetVersion(int *v) { *v = 22809; return OK; }
const char *ncclGetErrorString(int rc) {
    return rc == OK ? "no error" : rc == INVALID_ARGUMENT ? "invalid argument (emulated NCCL)" :
           rc == INVALID_USAGE ? "invalid usage (emulated NCCL)" : "system error (emulated NCCL)";
}

int ncclGetUniqueId(Id *id) {
    unsigned long long v[2] = {(unsigned long long)getpid(), (unsigned long long)time(NULL)};
    memset(id, 0, sizeof *id);
    for (int i = 0; i < 16; i++) {      /* a different id every run: the broadcast must carry it */
        v[0] = v[0] * 6364136223846793005ull + v[1] + 1442695040888963407ull;
        memcpy(id->internal + 8 * i % 128, &v[0], 8);
    }
    return OK;
}

static unsigned long long hash(const void *p, size_t n) {
    unsigned long long h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
    return h;
}

int ncclCommInitRank(void **comm, int nranks, Id id, int rank) {
    int (*size)(void *, int *) = dlsym(RTLD_DEFAULT, "MPI_Comm_size");
    int (*crank)(void *, int *) = dlsym(RTLD_DEFAULT, "MPI_Comm_rank");
    *(void **)&F.Allreduce = dlsym(RTLD_DEFAULT, "MPI_Allreduce");
    F.comm = dlsym(RTLD_DEFAULT, "ompi_mpi_comm_world");
    F.f32 = dlsym(RTLD_DEFAULT, "ompi_mpi_float");
    F.sum = dlsym(RTLD_DEFAULT, "ompi_mpi_op_sum");
    F.u64 = dlsym(RTLD_DEFAULT, "ompi_mpi_uint64_t");
    F.max = dlsym(RTLD_DEFAULT, "ompi_mpi_op_max");
    bool mpi = size && crank && F.Allreduce && F.comm && F.f32 && F.sum && F.u64 && F.max;
    if (!mpi && nranks != 1) {
        fprintf(stderr, "fake libnccl: no MPI in the process (it reduces over the MPI runtime/mpi.c opened)\n");
        return SYSTEM;
    }
    int n = 1, r = 0;
    if (mpi) size(F.comm, &n), crank(F.comm, &r);
    else F.Allreduce = NULL;   /* one rank without MPI (NNC_NCCL=1): the mean over one rank */
    if (n != nranks || r != rank || rank < 0 || rank >= nranks) {
        fprintf(stderr, "fake libnccl: rank %d of %d, but MPI says %d of %d\n", rank, nranks, r, n);
        return INVALID_ARGUMENT;
    }
    unsigned long long h = hash(&id, sizeof id), v[2] = {h, ~h};   /* every rank's id the same */
    if (F.Allreduce) F.Allreduce((void *)1, v, 2, F.u64, F.max, F.comm);
    if (v[0] != h || ~v[1] != h) {
        fprintf(stderr, "fake libnccl: rank %d: the ranks hold different unique ids\n", rank);
        return INVALID_USAGE;
    }
    void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    int (*dev)(void) = cuda ? (int (*)(void))dlsym(cuda, "nnc_emu_current_device") : NULL;
    *(void **)&F.StreamSynchronize = cuda ? dlsym(cuda, "cuStreamSynchronize") : NULL;
    if (!dev || !F.StreamSynchronize || dev() < 0) {
        fprintf(stderr, "fake libnccl: no current device of the emulator's libcuda.so.1\n");
        return INVALID_USAGE;
    }
    F.device = dev();
    F.nranks = nranks, F.rank = rank, F.on = 1;
    *comm = &F;
    if (getenv("NNC_EMU_STATS")) atexit(stats);
    return OK;
}

int ncclGroupStart(void) { F.group++; return OK; }
int ncclGroupEnd(void) {
    if (F.group <= 0) return INVALID_USAGE;
    F.group--;
    F.groups++;
    return OK;
}

int ncclAllReduce(const void *send, void *recv, size_t count, int dtype, int op, void *comm, void *stream) {
    if (comm != &F || !F.on || dtype != 7 || op != 4 || count > 0x7fffffff)
        return INVALID_ARGUMENT;    /* the emulator takes what nnc sends: f32, ncclAvg */
    if (F.StreamSynchronize(stream))
        return INVALID_ARGUMENT;    /* not a stream of the driver's */
    if (send != recv) memmove(recv, send, count * sizeof(float));
    if (F.Allreduce) F.Allreduce((void *)1, recv, (int)count, F.f32, F.sum, F.comm);
    float *o = recv, inv = 1.0f / (float)F.nranks;
    bool pow2 = (F.nranks & (F.nranks - 1)) == 0;
    for (size_t e = 0; e < count; e++) o[e] = pow2 ? o[e] * inv : o[e] / (float)F.nranks;
    F.calls++;
    F.floats += (long long)count;
    return OK;
}

int ncclCommDestroy(void *comm) { return comm == &F ? OK : INVALID_ARGUMENT; }
