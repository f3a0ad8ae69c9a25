/* kernel.h - the kernel IR: what `fuse` (compiler/passes/fuse.c) makes of a graph, what `plan`
 * (compiler/passes/plan.c) places in memory, and what every backend renders (backend/backend.h).
 *
 * A KGraph is a schedule: kernels in the order they run, each writing one buffer. A kernel is
 *   - KK_ELEM: a loop over the index space of its type, out[i] = a scalar body (a small SSA
 *     program of F_ELEM ops over its arguments: buffers read at i, one-element buffers read once,
 *     scalar values, and broadcasts read in place: per row or per column of the result seen as
 *     [rows, last dim]). Chains of elementwise ops and the broadcasts feeding them are one loop.
 *   - KK_FILL: out[i] = one scalar value (a value that some non-elementwise user needs in memory).
 *   - KK_OP: the loop nest of one structured op (broadcast, transpose, slice, unslice, concat,
 *     sum, rmax, one_hot, gather, scatter_add, rand, reshape copy), given by its op, attributes
 *     and the types of its arguments. A sum or rmax may instead reduce a body: the elementwise
 *     chain that produced its operand, computed per element (softmax's exp, a square, ...).
 *   - KK_ROW: a loop over the rows of its index space `pro` seen as [rows, last dim], whose body
 *     mixes instructions that vary along the row with row statistics: a `sum` or `rmax` in the
 *     body reduces its operand over the row. Per row the reductions run in order, each its own
 *     loop over the row, then one loop writes the result (or, when the last instruction is a row
 *     statistic, one element per row). Softmax, log-softmax with cross-entropy and normalisation
 *     statistics (mean, variance, normalise) are one kernel each. Extra outputs hold one value
 *     per element or (xrow) per row: fuse's merge_rows joins a train step's softmax, its
 *     cross-entropy term and the backward row into one kernel with three outputs.
 *   - KK_GEMM: a library call, C = op(A) op(B), the MATMUL's attributes say which is transposed.
 *     It may carry an epilogue (plan puts it there): a body over C's elements whose arguments
 *     follow the two operands and which reads the product as its own output (bias + activation,
 *     an activation's derivative); backends run it after the GEMM.
 *   - KK_CONV: a library call (runtime/conv.c) computing one CONV, CONV_BWD_DATA or CONV_BWD_FILTER;
 *     its im2col scratch, when it needs one, is its one extra output buffer xbuf[0] (a temporary
 *     that lives for the kernel alone, sized by fuse, placed by plan; xexpr unused).
 *   - KK_ALLREDUCE: a library call (runtime/mpi.c, nnc_allreduce_mean) averaging buffers over the
 *     processes of the run: argument j (an f32 buffer) into result j, result 0 being `out` and
 *     result j > 0 xbuf[j-1] (xexpr unused, -1). A result may be its argument's own buffer (in
 *     place); one kernel holds a step's every gradient, so a step makes one reduction.
 * Values are scalars computed once per call, before any kernel (splat constants, hyper-parameters,
 * elementwise math on them), passed into kernels as arguments.
 * Buffers are a->bufs[i] (KB_ARG: inputs, params, state, and outputs written in place), constant
 * globals (KB_GLOBAL) or temporaries (KB_TEMP) that the plan places in the workspace.
 * docs/kernels.md: the structures, the text form (`nnc --emit kernels`), the verifier's rules.
 */
#ifndef NNC_KERNEL_H
#define NNC_KERNEL_H

#include <stdio.h>

#include "diag.h"
#include "ir.h"

typedef enum { KB_ARG, KB_GLOBAL, KB_TEMP } KBufKind;

/* Bytes as a polynomial in the batch size B: b2*B^2 + b*B + c (b2 != 0 only for temporaries of
 * types like [B, B]). Plan offsets are such polynomials with every coefficient a multiple of 64,
 * so a piece is aligned at any B, and x <= y for every B >= 0 when each coefficient is. */
typedef struct KSize { int64_t b2, b, c; } KSize;

/* Lifetime classes of the plan, one workspace slab each (params and state live in their tensors'
 * buffers; the plan reports their bytes too). */
typedef enum { KC_PARAM, KC_STATE, KC_ACT, KC_SCRATCH, KC__COUNT } KClass;
extern const char *const k_class_name[KC__COUNT];   /* param | state | activation | scratch */

typedef struct KBuf {
    KBufKind kind;
    int tensor;                 /* KB_ARG: NncArgs.bufs index */
    IrType type;                /* its size: numel(type) elements */
    const float *data;          /* KB_GLOBAL: the literal contents */
    /* set by plan (KB_TEMP) */
    KClass cls;
    KSize off;                  /* byte offset in the workspace, coefficients 64-aligned */
    int first, last;            /* kernels that write it first and read it last (nkern = results) */
    bool kept;                  /* KB_TEMP, set by plan (accumulators): not in the workspace but in
                                   storage of its own that the backend zeroes once and keeps across
                                   calls; it holds zeros whenever no call is running (an acc GEMM
                                   adds into it, the kernel that reads it last stores the zeros back) */
    int within;                 /* plan: 1 + the temporary whose bytes hold this one (a piece of a
                                   concat placed in it, at byte offset `at`), 0 when none */
    KSize at;
    bool bf16;                  /* KB_TEMP, set by plan when KGraph.bf16 (the CUDA backend's
                                   --precision bf16): an f32 activation (KC_ACT) stored as bfloat16,
                                   2 bytes an element; the backend converts at every load and store */
} KBuf;

/* One scalar instruction of a kernel body or of the values program. */
typedef enum {
    KE_ARG,                     /* kernel body: argument `ref` (per its KArg kind) */
    KE_CONST,                   /* values: the constant f */
    KE_HYPER,                   /* values: hyper-parameter `ref` (IrHyper) */
    KE_OP,                      /* op(src...) */
} KExprKind;

typedef struct KExpr {
    KExprKind kind;
    uint16_t op;                /* KE_OP: an F_ELEM Op */
    DType dt;                   /* result dtype */
    DType sdt;                  /* KE_OP: the dtype its math is done in (src[0]'s; SELECT: src[1]'s) */
    uint32_t src[IR_MAXSRC];    /* earlier instructions of the same program */
    int ref;
    double f;
} KExpr;

typedef enum {
    KA_BUF,                     /* a buffer; KK_ELEM reads element i */
    KA_BUF0,                    /* kernels with a body: a one-element buffer, read once before the loop */
    KA_VAL,                     /* a scalar value */
    KA_ROW,                     /* KK_ELEM only: broadcast along the last dim: element r of the
                                   row r the loop is in (type: the result's with last dim 1) */
    KA_COL,                     /* KK_ELEM only: broadcast along the other dims: element c of the
                                   column (type: as many elements as the result's last dim) */
    KA_TILE,                    /* kernels with a body: broadcast along leading dims: element
                                   i mod n of a buffer of n elements (no B) whose dims are the
                                   index space's last ones (a causal mask [T, S] read by the
                                   softmax of [B, h, T, S]) */
    KA_WIN,                     /* KK_ELEM (and a GEMM's epilogue) only: a window of a buffer read
                                   in place (a slice fuse gave no buffer): element c of row r of
                                   the index space, seen as [rows, last dim], is element
                                   wstart + r * wstride + c of the buffer (type: the buffer's);
                                   the backend adds wstart to the pointer it passes, so one
                                   function serves every window of one stride (a time loop's
                                   x[:, t] and an LSTM's gate columns) */
} KArgKind;

typedef struct KArg {
    KArgKind kind;
    int ref;                    /* buffer or value index */
    IrType type;                /* the type read through it (a RESHAPE views a buffer as another type) */
    int64_t wstart, wstride;    /* KA_WIN: the window's first element and the buffer's row length */
} KArg;

typedef enum { KK_ELEM, KK_FILL, KK_OP, KK_GEMM, KK_CONV, KK_ROW, KK_ALLREDUCE } KernelKind;

typedef struct KView { int64_t h, off, sb, sh, ld; } KView;   /* Kernel.view */

typedef struct Kernel {
    KernelKind kind;
    uint16_t op;                /* KK_OP/KK_GEMM/KK_CONV: the op; KK_ELEM/KK_ROW: the root's op (for names) */
    uint32_t node;              /* the graph node it computes */
    IrType type;                /* of the result: the index space */
    IrAttr attr;                /* KK_OP/KK_GEMM/KK_CONV: the op's attributes */
    int out;                    /* the buffer it writes */
    KArg *args; int nargs;
    KExpr *body; int nbody;     /* KK_ELEM, KK_ROW, KK_GEMM (its epilogue: reads args 2..): the
                                   last instruction is the result; KK_OP
                                   sum/rmax: a fused prologue computing each element of the reduced
                                   operand (its type `pro`) from the arguments, which index that
                                   space; KK_ROW: sum/rmax instructions reduce over a row of `pro` */
    IrType pro;                 /* KK_OP with a body, KK_ROW: the index space the body walks;
                                   KK_CONV with a scratch: the scratch's type */
    /* KK_ELEM, KK_ROW: more results of the same loop: body instruction xexpr[j] is stored into
     * buffer xbuf[j] at each index (an optimizer's state and its param updated in one pass; in a
     * row kernel, at each element of pro) */
    int *xbuf; int *xexpr; int nx;
    /* KK_ROW: xrow[j] != 0 when xbuf[j] holds one value per row of pro (its instruction is one
     * value per row: a row's loss term, a row statistic another kernel reads), stored once per
     * row; NULL or 0: one value per element. fuse's merge_rows makes them (docs/kernels.md) */
    uint8_t *xrow;
    /* KK_GEMM without an epilogue: C += op(A) op(B) (BLAS beta = 1) into a kept buffer, which holds
     * zeros on entry: no zeroing pass over C before the product (plan's accumulators) */
    bool acc;
    /* Causal attention (compiler/passes/causal.c, docs/kernels.md "Causal kernels"): the masked
     * triangle of a [T, S] tile (column j > row i, the last two dims) is not computed.
     * KK_ROW, K_CAUSAL_ROW: row r of pro is query i = r mod T (T: pro's second-last dim); its
     * reductions run over the columns j <= i only and its result is 0 at j > i (no per-element
     * extra outputs). KK_GEMM (batched, no acc), by blocks of rows of C: K_CAUSAL_OUT: C is needed
     * at j <= i only (its readers are causal row kernels), blocks above the diagonal are not
     * computed (left unwritten); K_CAUSAL_A: A [P, T, S] is 0 at j > i, each block of rows sums
     * over the columns of A up to its last row only; K_CAUSAL_AT: the same A read transposed
     * (C = A^T B), each block of C's rows j0.. sums over A's rows i >= j0 only. */
    uint8_t causal;
    /* KK_GEMM, batched (compiler/passes/gemm_view.c, the LLVM backend's graphs): operand s (0: A,
     * 1: B) with view[s].h > 0 is read in place from buffer args[s].ref (args[s].type stays the
     * operand's [P, rows, cols]): product p at element off + (p / h) sb + (p mod h) sh, its rows ld
     * apart (a [B, T, H, D] tensor's heads, or a slice of the last dim of [B, T, W], without the
     * head-split copy); h == 0: the dense operand. view[2]: C written in place the same way into
     * buffer out ([B, T, H, D] from [B H, T, D] products, without the head-merge copy) */
    KView view[3];
} Kernel;

enum { K_CAUSAL_ROW = 1, K_CAUSAL_OUT = 1, K_CAUSAL_A = 2, K_CAUSAL_AT = 3 };
/* KK_ROW after plan: K_CAUSAL_ROW written in place over an argument that already holds 0 at
 * j > i (the softmax's adjoint over the probabilities): those zeros are not stored again */
enum { K_CAUSAL_ROW_IN_PLACE = 2 };
/* KK_ROW after plan: K_CAUSAL_ROW whose result only causal kernels read (the products marked
 * causal a / a^T, causal row kernels, through in-place row kernels too): its zeros are stored up
 * to i rounded up to a multiple of NNC_CAUSAL_BLOCK (runtime/nnc_abi.h: 32, the products' blocks)
 * only; after them the buffer keeps what it held */
enum { K_CAUSAL_ROW_BAND = 3 };

typedef enum { KR_OUTPUT, KR_LOSS, KR_UPDATE } KResKind;

typedef struct KRes {
    KResKind kind;
    int index;                  /* bufs index (output/update), losses index (loss) */
    int buf;                    /* the buffer holding the value */
    IrType type;
    int stage;                  /* KR_UPDATE: a KB_TEMP the value is copied to before any update, or -1 */
    bool direct;                /* nothing to do: written in place (outputs and updates) */
} KRes;

typedef struct KGraph {
    const char *name;
    const IrGraph *ir;          /* the graph it was fused from: Kernel.node indexes its nodes */
    KBuf *bufs; int nbufs, capbufs;
    KExpr *vals; int nvals, capvals;
    Kernel *kern; int nkern, capkern;
    KRes *res; int nres, capres;
    /* set by plan: slab sizes in bytes; the workspace is act | scratch */
    KSize slab[KC__COUNT];
    bool planned;
    /* plan may keep a GEMM's result that one elementwise kernel reads last (an optimizer's
     * gradient) out of the workspace, zeroed across calls (KBuf.kept, Kernel.acc): set by
     * plan_module from KModule.accumulate for the train steps */
    bool accumulate;
    /* set by plan_module from KModule.bf16: its eligible activations are stored in bf16 */
    bool bf16;
} KGraph;

typedef struct KModule {
    const IrModule *m;
    Arena *arena;
    KGraph *forward, *evaluate;     /* NULL when the module has none */
    KGraph **steps; int nsteps;
    KSize workspace;                /* set by plan: bytes covering every graph's workspace */
    KSize bytes[KC__COUNT];           /* set by plan: params, state (their tensors); activation, scratch (the largest slabs) */
    KSize kept;                     /* set by plan: bytes of the kept buffers of every graph */
    /* set before plan: the backend gives kept buffers storage of their own (the LLVM backend's
     * executables: zeroed globals; not `nnc -c`, whose train step stays reentrant, nor CUDA) */
    bool accumulate;
    /* set before plan: nnc --target cuda --precision bf16: the activations kept for the backward
     * pass (KC_ACT) that only kernels the CUDA backend renders touch are stored in bf16 (KBuf.bf16;
     * docs/backend-cuda.md, "--precision bf16") */
    bool bf16;
} KModule;

/* ---- building (fuse.c uses these) ---- */
int k_buf(Arena *a, KGraph *g, KBuf b);
int k_val(Arena *a, KGraph *g, KExpr e);
Kernel *k_kernel(Arena *a, KGraph *g, Kernel k);

/* KK_ROW: lv[e] = 1 when body instruction e is one value per row (a row or scalar argument, a
 * reduction, or math on those only), 0 when it varies along the row. lv has k->nbody entries. */
void k_row_levels(const Kernel *k, uint8_t *lv);
/* KK_ROW: a buffer of type t written by k holds one value per element of its index space (else
 * one per row). */
bool k_row_per_element(const Kernel *k, const IrType *t);
/* A sum or rmax in a row kernel's body: the reduction of its operand over the row. */
bool k_row_reduce(const KExpr *e);
/* Analyses both backends render from (llvm.c, cuda.c): whether a kernel reads per-row or
 * per-column arguments; whether it is a pooling kernel (forward or backward); need[e] = 1 for
 * every row-varying instruction (lv[e] == 0) that instruction `from` uses, from included. */
bool k_reads_rows_cols(const Kernel *k);
/* Whether k reads buffer b as an operand; whether it writes b (its result or a side output); whether
 * b is (or stages) one of g's results. The passes' shared questions about a buffer's uses. */
bool k_reads(const Kernel *k, int b);
bool k_writes(const Kernel *k, int b);
bool kg_is_result(const KGraph *g, int b);
bool k_is_pool(const Kernel *k);
void k_row_need(const Kernel *k, const uint8_t *lv, int from, uint8_t *need);

/* ---- sizes ---- */
/* numel * element size, exactly; b2 = -1 when B appears in more than two dims */
KSize k_bytes(const IrType *t);
KSize k_buf_bytes(const KBuf *b);       /* its storage: k_bytes, halved for a bf16 buffer */
KSize k_align(KSize d);                 /* each coefficient rounded up to 64, at least 0 */
KSize k_size_max(KSize x, KSize y);     /* coefficient-wise: >= both for every B >= 0 */
KSize k_size_add(KSize x, KSize y);
bool k_size_le(KSize x, KSize y);       /* x <= y for every B >= 0 (coefficient-wise) */

/* The descriptor text (ir_module_desc) with the plan's bytes per class as `plan CLASS A C`
 * records before its `end` (runtime/nnc_abi.h): what a compiled model embeds. */
char *k_module_desc(Arena *a, const KModule *km);

/* ---- printing, checking ---- */
void k_graph_print(FILE *out, const KGraph *g);
void k_module_print(FILE *out, const KModule *km);          /* nnc --emit kernels */
void k_plan_print(FILE *out, const KModule *km);            /* nnc --emit plan */
void k_size_print(FILE *out, KSize d);                      /* a*B + c, or a2*B^2 + a*B + c */
/* The kernel's text without its buffer and value numbers: two kernels with the same signature
 * compute the same function of their arguments (backends emit such kernels once). */
void k_kernel_sig(FILE *out, const Kernel *k);
char *k_kernel_sig_str(Arena *a, const Kernel *k);     /* the same text, in a */
/* 0 if g keeps the rules of docs/kernels.md; else prints each broken rule, naming the kernel,
 * and returns -1. With planned, also the plan's rules (offsets aligned, no two temps that are
 * live at once overlap). */
int k_verify(const KGraph *g, FILE *err);
int k_module_verify(const KModule *km, FILE *err);

/* ---- the passes that make and place kernel IR ---- */
/* fuse.c. requires: m verifies (after simplify). The kernel IR of every graph of m, in the
 * arena: values, aliases (RESHAPE, STOP_GRAD share their operand's buffer), single-use
 * elementwise chains fused into one loop, the first output of a node written in place. */
KModule *fuse_module(Arena *a, const IrModule *m);
/* windows = false: every slice is a copy of its own (no KA_WIN; the CUDA backend reads none) */
KModule *fuse_module_ex(Arena *a, const IrModule *m, bool windows);
KGraph *fuse_graph(Arena *a, const IrGraph *g);
/* causal.c, run by fuse on each graph it makes: marks the kernels of causal attention (the
 * masked triangle of a causal softmax and the products around it) so backends skip it
 * (Kernel.causal). Results equal the unmarked kernels' up to the order of the sums in a
 * blocked product, for finite values. */
void causal_kernels(KGraph *kg);
/* causal.c, run by plan on each graph it placed: a causal row kernel written in place over a
 * buffer known to be 0 at j > i becomes K_CAUSAL_ROW_IN_PLACE. */
void causal_in_place(KGraph *kg);
/* gemm_view.c, run by fuse on each graph it makes when slices may be read in place (the LLVM
 * backend): a batched gemm operand that is a head-split transpose [0, 2, 1, 3] (of a slice of the
 * last dim) reads the untransposed tensor in place (Kernel.view); the copies no kernel needs any
 * more are removed. The products' sums are the same. */
void gemm_views(KGraph *kg);

/* plan.c. requires: km from fuse_module. Writes updates in place where no later reader needs the
 * old value, gives each temporary a lifetime, a class and a workspace offset (liveness-based
 * reuse, offsets a*B + c, or with a B^2 term for [B, B] temporaries), and sums the slabs. -1
 * (diagnosed) when B appears in more than two dims of a temporary. */
int plan_module(KModule *km, Diag *d);
int plan_graph(Arena *a, KGraph *g, int ntensors, Diag *d);   /* ntensors: of the module */

#endif
