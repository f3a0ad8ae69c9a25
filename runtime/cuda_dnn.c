/* cuda_dnn.c - convolutions through cuDNN for a `--target cuda` executable (docs/backend-cuda.md,
 * "Convolutions"), beside the generated direct kernels, when NNC_CUDNN=1 asks for it.
 *
 * cuDNN 9 (libcudnn.so.9, or the file NNC_CUDNN_LIB names) is opened with dlopen, never linked;
 * asked for and missing, the executable stops with a message naming it (exit 1). runtime/cuda.c
 * calls nnc_dnn_plan for each `conv` step of the schedule at each batch size (the descriptors and
 * the algorithm, outside any CUDA graph capture) and nnc_dnn_run at each call, on its run stream.
 *
 * Layouts: nnc's activations are channels-last, [N, H, W, C]: cuDNN's NHWC tensors. Its filters
 * are [KH, KW, C/G, F], a layout cuDNN's filter descriptors do not have: the filter is copied into
 * cuDNN's NHWC filter layout [F, KH, KW, C/G] (KRSC) in a scratch buffer by cudnnTransformTensor
 * (the same 4-D tensor described with nnc's strides) before a forward or backward-data
 * convolution, and a filter gradient is computed there and transformed back into nnc's layout.
 * The filters are small (fashion_cnn's largest is 73 KB), the activations are not copied.
 *
 * The algorithm: cuDNN's heuristic (cudnnGetConvolution*Algorithm_v7), its first algorithm that
 * succeeds within a 256 MiB workspace; NNC_CUDNN_FIND=1 times them instead
 * (cudnnFindConvolution*Algorithm, which runs each on the GPU). Math: CUDNN_FMA_MATH under
 * --precision f32 (f32 products, no TF32, as the direct kernels), CUDNN_DEFAULT_MATH under bf16
 * (tensor cores allowed: TF32 on f32 data).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* cuDNN's types as this file uses them: opaque handles are pointers, enums ints. tests/cuda/
 * cudnn_h.sh compiles this file with NNC_CUDNN_H_CHECK against the toolkit's cudnn.h, where every
 * function pointer type below must equal the prototype's. */
#ifdef NNC_CUDNN_H_CHECK
#include <cudnn.h>
#include <stddef.h>
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"     /* the legacy convolution API: still cuDNN 9's */
typedef cudnnHandle_t DnnHandle;
typedef cudnnTensorDescriptor_t DnnTensor;
typedef cudnnFilterDescriptor_t DnnFilter;
typedef cudnnConvolutionDescriptor_t DnnConv;
typedef cudnnStatus_t DnnStatus;
typedef cudnnTensorFormat_t DnnFormat;
typedef cudnnDataType_t DnnType;
typedef cudnnConvolutionMode_t DnnMode;
typedef cudnnMathType_t DnnMath;
typedef cudnnConvolutionFwdAlgo_t DnnFwdAlgo;
typedef cudnnConvolutionBwdDataAlgo_t DnnBwdDataAlgo;
typedef cudnnConvolutionBwdFilterAlgo_t DnnBwdFilterAlgo;
typedef cudnnConvolutionFwdAlgoPerf_t DnnFwdPerf;
typedef cudnnConvolutionBwdDataAlgoPerf_t DnnBwdDataPerf;
typedef cudnnConvolutionBwdFilterAlgoPerf_t DnnBwdFilterPerf;
typedef cudaStream_t DnnStream;
typedef cudnnConvolutionFwdAlgoPerf_t DnnPerf;
_Static_assert(sizeof(DnnFwdPerf) == sizeof(DnnBwdDataPerf) && sizeof(DnnFwdPerf) == sizeof(DnnBwdFilterPerf) &&
               offsetof(DnnFwdPerf, memory) == offsetof(DnnBwdDataPerf, memory) &&
               offsetof(DnnFwdPerf, memory) == offsetof(DnnBwdFilterPerf, memory) &&
               offsetof(DnnFwdPerf, status) == offsetof(DnnBwdFilterPerf, status), "the perf structs' layouts");
_Static_assert(sizeof(DnnFwdPerf) == 48 && offsetof(DnnFwdPerf, memory) == 16, "the perf struct as this file has it");
#else
typedef void *DnnHandle, *DnnTensor, *DnnFilter, *DnnConv, *DnnStream;
typedef int DnnStatus, DnnFormat, DnnType, DnnMode, DnnMath, DnnFwdAlgo, DnnBwdDataAlgo, DnnBwdFilterAlgo;
/* cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: one layout for the three */
typedef struct DnnPerf {
    int algo, status;
    float time;
    size_t memory;
    int determinism, mathType, reserved[3];
} DnnPerf;
typedef DnnPerf DnnFwdPerf, DnnBwdDataPerf, DnnBwdFilterPerf;
#endif
#define DNN_NHWC ((DnnFormat)1)
#define DNN_FLOAT ((DnnType)0)
#define DNN_CROSS_CORRELATION ((DnnMode)1)
#define DNN_DEFAULT_MATH ((DnnMath)0)
#define DNN_FMA_MATH ((DnnMath)3)
#ifdef NNC_CUDNN_H_CHECK
_Static_assert((int)DNN_NHWC == (int)CUDNN_TENSOR_NHWC && (int)DNN_FLOAT == (int)CUDNN_DATA_FLOAT &&
               (int)DNN_CROSS_CORRELATION == (int)CUDNN_CROSS_CORRELATION &&
               (int)DNN_DEFAULT_MATH == (int)CUDNN_DEFAULT_MATH && (int)DNN_FMA_MATH == (int)CUDNN_FMA_MATH &&
               CUDNN_STATUS_SUCCESS == 0, "cudnn.h's enums");
#define SAME(f, T) _Static_assert(__builtin_types_compatible_p(__typeof__(&f), T), #f "'s prototype")
#else
#define SAME(f, T)
#endif

typedef DnnStatus (*FCreate)(DnnHandle *);
typedef DnnStatus (*FSetStream)(DnnHandle, DnnStream);
typedef const char *(*FErr)(DnnStatus);
typedef size_t (*FVersion)(void);
typedef DnnStatus (*FCreateTensor)(DnnTensor *);
typedef DnnStatus (*FSetTensor)(DnnTensor, DnnFormat, DnnType, int, int, int, int);
typedef DnnStatus (*FSetTensorEx)(DnnTensor, DnnType, int, int, int, int, int, int, int, int);
typedef DnnStatus (*FCreateFilter)(DnnFilter *);
typedef DnnStatus (*FSetFilter)(DnnFilter, DnnType, DnnFormat, int, int, int, int);
typedef DnnStatus (*FCreateConv)(DnnConv *);
typedef DnnStatus (*FSetConv)(DnnConv, int, int, int, int, int, int, DnnMode, DnnType);
typedef DnnStatus (*FSetGroups)(DnnConv, int);
typedef DnnStatus (*FSetMath)(DnnConv, DnnMath);
typedef DnnStatus (*FFwdAlgo)(DnnHandle, const DnnTensor, const DnnFilter, const DnnConv, const DnnTensor, const int,
                              int *, DnnFwdPerf *);
typedef DnnStatus (*FBwdDataAlgo)(DnnHandle, const DnnFilter, const DnnTensor, const DnnConv, const DnnTensor,
                                  const int, int *, DnnBwdDataPerf *);
typedef DnnStatus (*FBwdFilterAlgo)(DnnHandle, const DnnTensor, const DnnTensor, const DnnConv, const DnnFilter,
                                    const int, int *, DnnBwdFilterPerf *);
typedef DnnStatus (*FFwdFind)(DnnHandle, const DnnTensor, const DnnFilter, const DnnConv, const DnnTensor, const int,
                              int *, DnnFwdPerf *);
typedef DnnStatus (*FBwdDataFind)(DnnHandle, const DnnFilter, const DnnTensor, const DnnConv, const DnnTensor,
                                  const int, int *, DnnBwdDataPerf *);
typedef DnnStatus (*FBwdFilterFind)(DnnHandle, const DnnTensor, const DnnTensor, const DnnConv, const DnnFilter,
                                    const int, int *, DnnBwdFilterPerf *);
typedef DnnStatus (*FFwdWs)(DnnHandle, const DnnTensor, const DnnFilter, const DnnConv, const DnnTensor, DnnFwdAlgo,
                            size_t *);
typedef DnnStatus (*FBwdDataWs)(DnnHandle, const DnnFilter, const DnnTensor, const DnnConv, const DnnTensor,
                                DnnBwdDataAlgo, size_t *);
typedef DnnStatus (*FBwdFilterWs)(DnnHandle, const DnnTensor, const DnnTensor, const DnnConv, const DnnFilter,
                                  DnnBwdFilterAlgo, size_t *);
typedef DnnStatus (*FFwd)(DnnHandle, const void *, const DnnTensor, const void *, const DnnFilter, const void *,
                          const DnnConv, DnnFwdAlgo, void *, size_t, const void *, const DnnTensor, void *);
typedef DnnStatus (*FBwdData)(DnnHandle, const void *, const DnnFilter, const void *, const DnnTensor, const void *,
                              const DnnConv, DnnBwdDataAlgo, void *, size_t, const void *, const DnnTensor, void *);
typedef DnnStatus (*FBwdFilter)(DnnHandle, const void *, const DnnTensor, const void *, const DnnTensor, const void *,
                                const DnnConv, DnnBwdFilterAlgo, void *, size_t, const void *, const DnnFilter, void *);
typedef DnnStatus (*FTransform)(DnnHandle, const void *, const DnnTensor, const void *, const void *, const DnnTensor,
                                void *);
typedef DnnStatus (*FDestroyTensor)(DnnTensor);
typedef DnnStatus (*FDestroyFilter)(DnnFilter);
typedef DnnStatus (*FDestroyConv)(DnnConv);
SAME(cudnnCreate, FCreate);
SAME(cudnnSetStream, FSetStream);
SAME(cudnnGetErrorString, FErr);
SAME(cudnnGetVersion, FVersion);
SAME(cudnnCreateTensorDescriptor, FCreateTensor);
SAME(cudnnSetTensor4dDescriptor, FSetTensor);
SAME(cudnnSetTensor4dDescriptorEx, FSetTensorEx);
SAME(cudnnCreateFilterDescriptor, FCreateFilter);
SAME(cudnnSetFilter4dDescriptor, FSetFilter);
SAME(cudnnCreateConvolutionDescriptor, FCreateConv);
SAME(cudnnSetConvolution2dDescriptor, FSetConv);
SAME(cudnnSetConvolutionGroupCount, FSetGroups);
SAME(cudnnSetConvolutionMathType, FSetMath);
SAME(cudnnGetConvolutionForwardAlgorithm_v7, FFwdAlgo);
SAME(cudnnGetConvolutionBackwardDataAlgorithm_v7, FBwdDataAlgo);
SAME(cudnnGetConvolutionBackwardFilterAlgorithm_v7, FBwdFilterAlgo);
SAME(cudnnFindConvolutionForwardAlgorithm, FFwdFind);
SAME(cudnnFindConvolutionBackwardDataAlgorithm, FBwdDataFind);
SAME(cudnnFindConvolutionBackwardFilterAlgorithm, FBwdFilterFind);
SAME(cudnnGetConvolutionForwardWorkspaceSize, FFwdWs);
SAME(cudnnGetConvolutionBackwardDataWorkspaceSize, FBwdDataWs);
SAME(cudnnGetConvolutionBackwardFilterWorkspaceSize, FBwdFilterWs);
SAME(cudnnConvolutionForward, FFwd);
SAME(cudnnConvolutionBackwardData, FBwdData);
SAME(cudnnConvolutionBackwardFilter, FBwdFilter);
SAME(cudnnTransformTensor, FTransform);
SAME(cudnnDestroyTensorDescriptor, FDestroyTensor);
SAME(cudnnDestroyFilterDescriptor, FDestroyFilter);
SAME(cudnnDestroyConvolutionDescriptor, FDestroyConv);

static struct {
    void *lib;
    const char *used;
    DnnHandle h;
    DnnMath math;
    bool find;
    FCreate Create;
    FSetStream SetStream;
    FErr Err;
    FVersion Version;
    FCreateTensor CreateTensor;
    FSetTensor SetTensor;
    FSetTensorEx SetTensorEx;
    FCreateFilter CreateFilter;
    FSetFilter SetFilter;
    FCreateConv CreateConv;
    FSetConv SetConv;
    FSetGroups SetGroups;
    FSetMath SetMath;
    FFwdAlgo FwdAlgo;
    FBwdDataAlgo BwdDataAlgo;
    FBwdFilterAlgo BwdFilterAlgo;
    FFwdFind FwdFind;
    FBwdDataFind BwdDataFind;
    FBwdFilterFind BwdFilterFind;
    FFwdWs FwdWs;
    FBwdDataWs BwdDataWs;
    FBwdFilterWs BwdFilterWs;
    FFwd Fwd;
    FBwdData BwdData;
    FBwdFilter BwdFilter;
    FTransform Transform;
    FDestroyTensor DestroyTensor;
    FDestroyFilter DestroyFilter;
    FDestroyConv DestroyConv;
} D;

static const char *dprog = "model";

static void dfail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void dfail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", dprog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

const char *nnc_dnn_error(int rc) {
    const char *s = D.Err ? D.Err((DnnStatus)rc) : NULL;
    return s ? s : "cuDNN error";
}

static void dcheck(DnnStatus rc, const char *call, const char *what) {
    if (rc)
        dfail("%s(%s): %s (status %d)", call, what, nnc_dnn_error((int)rc), (int)rc);
}

static void *dsym(const char *name) {
    void *p = dlsym(D.lib, name);
    if (!p)
        dfail("the cuDNN library '%s' has no %s: nnc needs cuDNN 9", D.used, name);
    return p;
}

/* Opens cuDNN on the run stream (bf16: tensor cores allowed). Missing: a message and exit 1. */
void nnc_dnn_open(const char *prog, void *stream, int bf16) {
    dprog = prog;
    const char *env = getenv("NNC_CUDNN_LIB");
    const char *names[] = {env && *env ? env : "libcudnn.so.9"};     /* NNC_CUDNN_LIB: that file only */
    const char *err = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !D.lib; i++) {
        if (!names[i])
            continue;
        D.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (D.lib)
            D.used = names[i];
        else if (!err)
            err = dlerror();
    }
    if (!D.lib)
        dfail("NNC_CUDNN=1 asks for cuDNN, and it could not be loaded: %s (install cuDNN 9, name the file with "
              "NNC_CUDNN_LIB, or unset NNC_CUDNN for the direct convolution kernels)", err ? err : "libcudnn.so.9");
#define G(f, n) *(void **)&D.f = dsym(n)
    G(Create, "cudnnCreate");
    G(SetStream, "cudnnSetStream");
    G(Err, "cudnnGetErrorString");
    G(Version, "cudnnGetVersion");
    G(CreateTensor, "cudnnCreateTensorDescriptor");
    G(SetTensor, "cudnnSetTensor4dDescriptor");
    G(SetTensorEx, "cudnnSetTensor4dDescriptorEx");
    G(CreateFilter, "cudnnCreateFilterDescriptor");
    G(SetFilter, "cudnnSetFilter4dDescriptor");
    G(CreateConv, "cudnnCreateConvolutionDescriptor");
    G(SetConv, "cudnnSetConvolution2dDescriptor");
    G(SetGroups, "cudnnSetConvolutionGroupCount");
    G(SetMath, "cudnnSetConvolutionMathType");
    G(FwdAlgo, "cudnnGetConvolutionForwardAlgorithm_v7");
    G(BwdDataAlgo, "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    G(BwdFilterAlgo, "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
    G(FwdFind, "cudnnFindConvolutionForwardAlgorithm");
    G(BwdDataFind, "cudnnFindConvolutionBackwardDataAlgorithm");
    G(BwdFilterFind, "cudnnFindConvolutionBackwardFilterAlgorithm");
    G(FwdWs, "cudnnGetConvolutionForwardWorkspaceSize");
    G(BwdDataWs, "cudnnGetConvolutionBackwardDataWorkspaceSize");
    G(BwdFilterWs, "cudnnGetConvolutionBackwardFilterWorkspaceSize");
    G(Fwd, "cudnnConvolutionForward");
    G(BwdData, "cudnnConvolutionBackwardData");
    G(BwdFilter, "cudnnConvolutionBackwardFilter");
    G(Transform, "cudnnTransformTensor");
    G(DestroyTensor, "cudnnDestroyTensorDescriptor");
    G(DestroyFilter, "cudnnDestroyFilterDescriptor");
    G(DestroyConv, "cudnnDestroyConvolutionDescriptor");
#undef G
    size_t v = D.Version();
    if (v < 90000)
        dfail("the cuDNN library '%s' is version %zu: nnc needs cuDNN 9", D.used, v);
    dcheck(D.Create(&D.h), "cudnnCreate", D.used);
    dcheck(D.SetStream(D.h, (DnnStream)stream), "cudnnSetStream", "the kernels' stream");
    D.math = bf16 ? DNN_DEFAULT_MATH : DNN_FMA_MATH;
    const char *f = getenv("NNC_CUDNN_FIND");
    D.find = f && !strcmp(f, "1");
}

/* One convolution at one batch size: the geometry of the schedule's `conv` step. */
typedef struct NncDnnGeom {
    int kind;                   /* 0 forward (x, w -> y), 1 backward data (dy, w -> dx), 2 backward filter (x, dy -> dw) */
    long long N, H, W, C, OH, OW, F, KH, KW, G, SH, SW, DH, DW, PH, PW;
} NncDnnGeom;

typedef struct NncDnnPlan {
    NncDnnGeom g;
    DnnTensor x, y;             /* NHWC activations: x [N, C, H, W], y [N, F, OH, OW] */
    DnnFilter w;                /* KRSC: [F, C/G, KH, KW] */
    DnnTensor wk, wn;           /* the filter as a tensor: cuDNN's KRSC layout, nnc's [KH, KW, C/G, F] */
    DnnConv conv;
    int algo;
    size_t ws;                  /* workspace bytes of the algorithm */
    size_t filt;                /* the KRSC filter's bytes (the scratch before the workspace) */
} NncDnnPlan;

static int ival(long long v, const char *what) {
    if (v <= 0 || v > 2147483647LL)
        dfail("a convolution's %s (%lld) is beyond cuDNN's int", what, v);
    return (int)v;
}

/* The descriptors and the algorithm of a convolution (outside a capture: Find runs kernels). */
void *nnc_dnn_plan(const NncDnnGeom *g, size_t *ws, size_t *filt) {
    NncDnnPlan *p = calloc(1, sizeof *p);
    if (!p)
        dfail("out of memory");
    p->g = *g;
    int N = ival(g->N, "batch"), H = ival(g->H, "height"), W = ival(g->W, "width"), C = ival(g->C, "channels");
    int OH = ival(g->OH, "output height"), OW = ival(g->OW, "output width"), F = ival(g->F, "filters");
    int KH = ival(g->KH, "kernel height"), KW = ival(g->KW, "kernel width"), G = ival(g->G, "groups");
    int CG = C / G;
    const char *what = g->kind == 0 ? "a forward convolution" : g->kind == 1 ? "a convolution's data gradient"
                                                                               : "a convolution's filter gradient";
    dcheck(D.CreateTensor(&p->x), "cudnnCreateTensorDescriptor", what);
    dcheck(D.CreateTensor(&p->y), "cudnnCreateTensorDescriptor", what);
    dcheck(D.CreateTensor(&p->wk), "cudnnCreateTensorDescriptor", what);
    dcheck(D.CreateTensor(&p->wn), "cudnnCreateTensorDescriptor", what);
    dcheck(D.CreateFilter(&p->w), "cudnnCreateFilterDescriptor", what);
    dcheck(D.CreateConv(&p->conv), "cudnnCreateConvolutionDescriptor", what);
    dcheck(D.SetTensor(p->x, DNN_NHWC, DNN_FLOAT, N, C, H, W), "cudnnSetTensor4dDescriptor", "x, NHWC");
    dcheck(D.SetTensor(p->y, DNN_NHWC, DNN_FLOAT, N, F, OH, OW), "cudnnSetTensor4dDescriptor", "y, NHWC");
    dcheck(D.SetFilter(p->w, DNN_FLOAT, DNN_NHWC, F, CG, KH, KW), "cudnnSetFilter4dDescriptor", "w, KRSC");
    dcheck(D.SetTensor(p->wk, DNN_NHWC, DNN_FLOAT, F, CG, KH, KW), "cudnnSetTensor4dDescriptor", "w as KRSC");
    /* nnc's w[kh][kw][ci][f]: f stride 1, ci F, kh KW*CG*F, kw CG*F */
    dcheck(D.SetTensorEx(p->wn, DNN_FLOAT, F, CG, KH, KW, 1, F, KW * CG * F, CG * F), "cudnnSetTensor4dDescriptorEx",
           "w in nnc's layout");
    dcheck(D.SetConv(p->conv, (int)g->PH, (int)g->PW, (int)g->SH, (int)g->SW, (int)g->DH, (int)g->DW,
                     DNN_CROSS_CORRELATION, DNN_FLOAT), "cudnnSetConvolution2dDescriptor", what);
    dcheck(D.SetGroups(p->conv, G), "cudnnSetConvolutionGroupCount", what);
    dcheck(D.SetMath(p->conv, D.math), "cudnnSetConvolutionMathType", what);
    enum { MAXALGO = 16 };
    DnnPerf perf[MAXALGO];
    int n = 0;
    memset(perf, 0, sizeof perf);
    const size_t limit = (size_t)256 << 20;
    switch (g->kind) {
    case 0:
        dcheck((D.find ? D.FwdFind : D.FwdAlgo)(D.h, p->x, p->w, p->conv, p->y, MAXALGO, &n, (DnnFwdPerf *)perf),
               D.find ? "cudnnFindConvolutionForwardAlgorithm" : "cudnnGetConvolutionForwardAlgorithm_v7", what);
        break;
    case 1:
        dcheck((D.find ? D.BwdDataFind : D.BwdDataAlgo)(D.h, p->w, p->y, p->conv, p->x, MAXALGO, &n,
                                                         (DnnBwdDataPerf *)perf),
               D.find ? "cudnnFindConvolutionBackwardDataAlgorithm" : "cudnnGetConvolutionBackwardDataAlgorithm_v7", what);
        break;
    default:
        dcheck((D.find ? D.BwdFilterFind : D.BwdFilterAlgo)(D.h, p->x, p->y, p->conv, p->w, MAXALGO, &n,
                                                             (DnnBwdFilterPerf *)perf),
               D.find ? "cudnnFindConvolutionBackwardFilterAlgorithm" : "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
               what);
    }
    int best = -1;
    for (int i = 0; i < n && i < MAXALGO && best < 0; i++)
        if (perf[i].status == 0 && perf[i].memory <= limit)
            best = i;
    if (best < 0)
        dfail("cuDNN has no algorithm for %s (N %d, %dx%dx%d -> %dx%dx%d, kernel %dx%d, %d groups) within 256 MiB of "
              "workspace: unset NNC_CUDNN for the direct kernels", what, N, H, W, C, OH, OW, F, KH, KW, G);
    p->algo = perf[best].algo;
    size_t need = 0;
    if (g->kind == 0)
        dcheck(D.FwdWs(D.h, p->x, p->w, p->conv, p->y, p->algo, &need), "cudnnGetConvolutionForwardWorkspaceSize", what);
    else if (g->kind == 1)
        dcheck(D.BwdDataWs(D.h, p->w, p->y, p->conv, p->x, p->algo, &need), "cudnnGetConvolutionBackwardDataWorkspaceSize",
               what);
    else
        dcheck(D.BwdFilterWs(D.h, p->x, p->y, p->conv, p->w, p->algo, &need),
               "cudnnGetConvolutionBackwardFilterWorkspaceSize", what);
    p->ws = need;
    p->filt = ((size_t)F * (size_t)CG * (size_t)KH * (size_t)KW * 4 + 255) & ~(size_t)255;
    *ws = p->ws, *filt = p->filt;
    return p;
}

void nnc_dnn_free(void *plan) {
    NncDnnPlan *p = plan;
    if (!p)
        return;
    D.DestroyTensor(p->x), D.DestroyTensor(p->y), D.DestroyTensor(p->wk), D.DestroyTensor(p->wn);
    D.DestroyFilter(p->w);
    D.DestroyConv(p->conv);
    free(p);
}

int nnc_dnn_algo(const void *plan) { return ((const NncDnnPlan *)plan)->algo; }

/* The convolution on the run stream: a0, a1, out as the `conv` step names them; scratch holds
 * the KRSC filter (plan's filt bytes) then the workspace (its ws bytes). Returns cuDNN's status. */
int nnc_dnn_run(void *plan, uint64_t a0, uint64_t a1, uint64_t out, uint64_t scratch) {
    const NncDnnPlan *p = plan;
    const float one = 1.0f, zero = 0.0f;
    void *wk = (void *)(uintptr_t)scratch, *ws = p->ws ? (void *)(uintptr_t)(scratch + p->filt) : NULL;
    DnnStatus rc;
    switch (p->g.kind) {
    case 0:     /* y = conv(x, w): w into KRSC first */
        rc = D.Transform(D.h, &one, p->wn, (const void *)(uintptr_t)a1, &zero, p->wk, wk);
        if (!rc)
            rc = D.Fwd(D.h, &one, p->x, (const void *)(uintptr_t)a0, p->w, wk, p->conv, p->algo, ws, p->ws, &zero, p->y,
                       (void *)(uintptr_t)out);
        return (int)rc;
    case 1:     /* dx = conv_bwd_data(dy, w) */
        rc = D.Transform(D.h, &one, p->wn, (const void *)(uintptr_t)a1, &zero, p->wk, wk);
        if (!rc)
            rc = D.BwdData(D.h, &one, p->w, wk, p->y, (const void *)(uintptr_t)a0, p->conv, p->algo, ws, p->ws, &zero,
                           p->x, (void *)(uintptr_t)out);
        return (int)rc;
    default:    /* dw = conv_bwd_filter(x, dy): computed in KRSC, then into nnc's layout */
        rc = D.BwdFilter(D.h, &one, p->x, (const void *)(uintptr_t)a0, p->y, (const void *)(uintptr_t)a1, p->conv,
                         p->algo, ws, p->ws, &zero, p->w, wk);
        if (!rc)
            rc = D.Transform(D.h, &one, p->wk, wk, &zero, p->wn, (void *)(uintptr_t)out);
        return (int)rc;
    }
}
