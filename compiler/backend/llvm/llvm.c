/* llvm.c - the CPU backend: each graph of an IrModule becomes one LLVM function, each node of it a
 * loop (or a cblas_sgemm call) in its own small kernel function, and LLVM optimises, vectorises and
 * writes the object file that runtime/nnc_abi.h describes.
 *
 * Why kernels are separate functions: their buffer parameters carry `noalias` (every node writes a
 * buffer of its own that no operand shares), so once the inliner folds them into the graph function
 * LLVM keeps that knowledge as scoped alias metadata and the loop vectoriser widens the flat loops
 * without runtime overlap checks. The same shape (pointers + sizes in, nothing out) lets large
 * elementwise loops be outlined into chunks for nnc_parallel_for.
 *
 * Fusion: an elementwise node used once, by an elementwise node of its shape, gets no buffer and
 * is computed inside its user's loop (the kernel evaluates the tree of such nodes per element).
 *
 * Memory: inputs/params/state are read from a->bufs[i]; a node that is the first RES_OUTPUT of its
 * value writes straight into its output buffer; every other computed node gets a piece of the
 * workspace, at an offset computed at run time from B (pieces 64-byte aligned, in node order;
 * workspace_size(B) is the largest graph's total). RESHAPE and STOP_GRAD reuse their operand's
 * buffer. "Values" - splat constants, hyper-parameters and elementwise math on them - are scalars
 * computed once in the graph function and passed into kernels; they get a buffer only when a
 * non-elementwise user or a result needs one. RES_UPDATE results are copied into their param/state
 * buffers after the whole graph has run (an update whose value is itself another param's buffer is
 * staged through the workspace first), so no update clobbers a value still needed.
 *
 * docs/backend-llvm.md has the user-level picture; runtime/nnc_abi.h the contract.
 */
#include "llvm.h"
#include "nnc_abi.h"

#include <pthread.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Support.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "kernel.h"
#include "nnc_abi.h"

/* CBLAS enum values (cblas.h); the generated code passes them as plain i32. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

/* A failed LLVM call that cannot be the user's fault: a compiler bug, die naming the call. */
#define LLVM_CHECK(failed, call, msg)                                                            \
    do {                                                                                         \
        if (failed)                                                                              \
            die("%s failed: %s", call, (msg) ? (msg) : "(no message)");                        \
    } while (0)

/* Kernel functions by signature (emit_kernel): an open-addressing table in the arena. */
typedef struct FnCache { char **key; LLVMValueRef *fn; int n, cap; } FnCache;

typedef struct Cg {
    const KModule *km;
    const IrModule *m;
    const LlvmOptions *o;
    const char *prefix;
    Arena arena;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTargetDataRef td;
    LLVMTypeRef vd, i1, i8, i32, i64, f32, f64, i8p, i8pp, f32p, args_ty, args_p;
    /* the function being emitted */
    LLVMValueRef fn;
    LLVMValueRef B;             /* i64 batch size inside the current function */
    FnCache cache;
    /* packed weights (pack_groups): per kernel of the graph being emitted, its group's handle
     * (an i8* global, the runtime's key for the group; NULL: not packed) and whether it packs
     * again; pk_handle and
     * pk_repack: those of the kernel call being emitted */
    LLVMValueRef *pack_handle;
    bool *pack_repack;
    LLVMValueRef pk_handle;
    bool pk_repack;
    bool row_ordered;           /* -O0 or $NNC_ROW_ORDERED: row kernels without row_max_fast / row_sum_fast */
} Cg;

/* ---- small helpers ---- */

static LLVMValueRef ci64(Cg *g, int64_t v) { return LLVMConstInt(g->i64, (unsigned long long)v, 1); }
static LLVMValueRef ci32(Cg *g, int64_t v) { return LLVMConstInt(g->i32, (unsigned long long)v, 1); }
static LLVMValueRef cf32(Cg *g, double v) { return LLVMConstReal(g->f32, v); }


/* The type a dtype has in memory (bool buffers are uint8_t) and as a scalar value (bool is i1). */
static LLVMTypeRef mem_type(Cg *g, DType dt) {
    return dt == DT_F32 ? g->f32 : dt == DT_I32 ? g->i32 : g->i8;
}
static LLVMTypeRef val_type(Cg *g, DType dt) {
    return dt == DT_F32 ? g->f32 : dt == DT_I32 ? g->i32 : g->i1;
}

static void add_attr(Cg *g, LLVMValueRef fn, unsigned idx, const char *name) {
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    if (!kind)
        die("LLVMGetEnumAttributeKindForName: no attribute '%s'", name);
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(g->ctx, kind, 0));
}

/* A declaration of an external or intrinsic function, made once. */
static LLVMValueRef declare(Cg *g, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, int n,
                            bool pure) {
    LLVMValueRef f = LLVMGetNamedFunction(g->mod, name);
    if (f)
        return f;
    f = LLVMAddFunction(g->mod, name, LLVMFunctionType(ret, params, (unsigned)n, 0));
    add_attr(g, f, LLVMAttributeFunctionIndex, "nounwind");
    if (pure) {
        add_attr(g, f, LLVMAttributeFunctionIndex, "readnone");
        add_attr(g, f, LLVMAttributeFunctionIndex, "willreturn");
    }
    return f;
}

static LLVMValueRef call(Cg *g, LLVMValueRef f, LLVMValueRef *args, int n) {
    LLVMTypeRef ft = LLVMGlobalGetValueType(f);
    return LLVMBuildCall2(g->b, ft, f, args, (unsigned)n, "");
}

static LLVMValueRef call_f1(Cg *g, const char *name, LLVMValueRef x) {
    LLVMTypeRef p[1] = {g->f32};
    return call(g, declare(g, name, g->f32, p, 1, true), &x, 1);
}

/* A call of a math-library function (tanhf, erff, ...) that the loop vectoriser can widen: the
 * call carries vector variants (the "vector-function-abi-variant" attribute, LLVM's VFABI names)
 * of 4, 8 and 16 lanes, functions that call the scalar function once per lane. Every element gets
 * the library's own value, as the interpreter's; the arithmetic around the calls is vectorised
 * (an opaque call alone kept a whole fused loop scalar: an LSTM cell, GELU's erf). */
static LLVMValueRef call_lib1(Cg *g, const char *name, LLVMValueRef x) {
    LLVMValueRef sf = declare(g, name, g->f32, (LLVMTypeRef[]){g->f32}, 1, true);
    if (g->o->opt_level < 2)    /* no loop vectoriser to use them */
        return LLVMBuildCall2(g->b, LLVMGlobalGetValueType(sf), sf, &x, 1, "");
    static const int lanes[3] = {4, 8, 16};
    const char *variants = "";
    for (int v = 0; v < 3; v++) {
        int n = lanes[v];
        const char *vname = arena_printf(&g->arena, "%s.vec.%s.%d", g->prefix, name, n);
        if (!LLVMGetNamedFunction(g->mod, vname)) {
            LLVMTypeRef vt = LLVMVectorType(g->f32, (unsigned)n);
            LLVMValueRef vf = LLVMAddFunction(g->mod, vname, LLVMFunctionType(vt, &vt, 1, 0));
            /* weak_odr, hidden: kept until the vectoriser has run (an unused internal function
             * would be gone by then), one copy per executable */
            LLVMSetLinkage(vf, LLVMWeakODRLinkage);
            LLVMSetVisibility(vf, LLVMHiddenVisibility);
            add_attr(g, vf, LLVMAttributeFunctionIndex, "nounwind");
            add_attr(g, vf, LLVMAttributeFunctionIndex, "readnone");
            add_attr(g, vf, LLVMAttributeFunctionIndex, "willreturn");
            LLVMBasicBlockRef at = LLVMGetInsertBlock(g->b);
            LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, vf, "entry"));
            LLVMValueRef acc = LLVMGetUndef(vt), in = LLVMGetParam(vf, 0);
            for (int l = 0; l < n; l++) {
                LLVMValueRef e = LLVMBuildExtractElement(g->b, in, ci32(g, l), "");
                e = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(sf), sf, &e, 1, "");
                acc = LLVMBuildInsertElement(g->b, acc, e, ci32(g, l), "");
            }
            LLVMBuildRet(g->b, acc);
            if (at)
                LLVMPositionBuilderAtEnd(g->b, at);
        }
        variants = arena_printf(&g->arena, "%s%s_ZGV_LLVM_N%dv_%s(%s)", variants, v ? "," : "", n, name, vname);
    }
    LLVMValueRef c = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(sf), sf, &x, 1, "");
    static const char key[] = "vector-function-abi-variant";
    LLVMAddCallSiteAttribute(c, LLVMAttributeFunctionIndex,
                             LLVMCreateStringAttribute(g->ctx, key, sizeof key - 1, variants, (unsigned)strlen(variants)));
    return c;
}

static LLVMValueRef call_f2(Cg *g, const char *name, LLVMValueRef x, LLVMValueRef y) {
    LLVMTypeRef p[2] = {g->f32, g->f32};
    LLVMValueRef args[2] = {x, y};
    return call(g, declare(g, name, g->f32, p, 2, true), args, 2);
}

static LLVMValueRef dimv(Cg *g, Dim d) {
    if (d.a == 0)
        return ci64(g, d.c);
    LLVMValueRef v = d.a == 1 ? g->B : LLVMBuildMul(g->b, g->B, ci64(g, d.a), "");
    return d.c ? LLVMBuildAdd(g->b, v, ci64(g, d.c), "") : v;
}

/* A plan's size or offset, b2*B^2 + b*B + c, at the current B. */
static LLVMValueRef sizev(Cg *g, KSize s) {
    LLVMValueRef v = ci64(g, s.c);
    if (s.b)
        v = LLVMBuildAdd(g->b, LLVMBuildMul(g->b, g->B, ci64(g, s.b), ""), v, "");
    if (s.b2)
        v = LLVMBuildAdd(g->b, LLVMBuildMul(g->b, LLVMBuildMul(g->b, g->B, g->B, ""), ci64(g, s.b2), ""), v, "");
    return v;
}

static LLVMValueRef numelv(Cg *g, const IrType *t) {
    LLVMValueRef n = ci64(g, 1);
    for (int k = 0; k < t->rank; k++)
        n = LLVMBuildMul(g->b, n, dimv(g, t->dim[k]), "");
    return n;
}

static LLVMValueRef bytesv(Cg *g, const IrType *t) {
    return LLVMBuildMul(g->b, numelv(g, t), ci64(g, ir_dtype_size(t->dtype)), "");
}

/* Row-major strides of t, in elements. */
static void strides(Cg *g, const IrType *t, LLVMValueRef *st) {
    LLVMValueRef s = ci64(g, 1);
    for (int k = t->rank - 1; k >= 0; k--) {
        st[k] = s;
        s = LLVMBuildMul(g->b, s, dimv(g, t->dim[k]), "");
    }
}

static bool dim_eq(Dim x, Dim y) { return x.a == y.a && x.c == y.c; }

static LLVMValueRef elem_ptr(Cg *g, DType dt, LLVMValueRef base, LLVMValueRef idx) {
    LLVMTypeRef ty = mem_type(g, dt);
    LLVMValueRef p = LLVMBuildBitCast(g->b, base, LLVMPointerType(ty, 0), "");
    return LLVMBuildInBoundsGEP2(g->b, ty, p, &idx, 1, "");
}

/* Load element idx of a buffer as a scalar value (bool: i8 -> i1). */
static LLVMValueRef load_elem(Cg *g, DType dt, LLVMValueRef base, LLVMValueRef idx) {
    LLVMValueRef v = LLVMBuildLoad2(g->b, mem_type(g, dt), elem_ptr(g, dt, base, idx), "");
    if (dt == DT_BOOL)
        v = LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstInt(g->i8, 0, 0), "");
    return v;
}

static void store_elem(Cg *g, DType dt, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v) {
    if (dt == DT_BOOL)
        v = LLVMBuildZExt(g->b, v, g->i8, "");
    LLVMBuildStore(g->b, v, elem_ptr(g, dt, base, idx));
}

/* ---- loops: for (i = lo; i < hi; i++), the induction variable an i64 ---- */

typedef struct Loop {
    LLVMBasicBlockRef body, exit;
    LLVMValueRef iv, n;
    LLVMValueRef latch;     /* the back edge's branch (loop_end) */
} Loop;

static LLVMValueRef loop_range(Cg *g, Loop *l, LLVMValueRef lo, LLVMValueRef hi) {
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    l->n = hi;
    l->body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "loop");
    l->exit = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "loop.end");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, lo, hi, ""), l->body, l->exit);
    LLVMPositionBuilderAtEnd(g->b, l->body);
    l->iv = LLVMBuildPhi(g->b, g->i64, "i");
    LLVMAddIncoming(l->iv, &lo, &pre, 1);
    return l->iv;
}

static LLVMValueRef loop_begin(Cg *g, Loop *l, LLVMValueRef n) { return loop_range(g, l, ci64(g, 0), n); }

static void loop_end(Cg *g, Loop *l) {
    LLVMValueRef next = LLVMBuildNSWAdd(g->b, l->iv, ci64(g, 1), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    l->latch = LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, next, l->n, ""), l->body, l->exit);
    LLVMAddIncoming(l->iv, &next, &latch, 1);
    LLVMMoveBasicBlockAfter(l->exit, latch);
    LLVMPositionBuilderAtEnd(g->b, l->exit);
}

/* After loop_end: a hint in the loop's llvm.loop metadata, `what` with the operand count
 * (count < 0: none). */
static void loop_hint(Cg *g, Loop *l, const char *what, int count) {
    LLVMMetadataRef prop[2] = {LLVMMDStringInContext2(g->ctx, what, strlen(what)), NULL};
    if (count >= 0)
        prop[1] = LLVMValueAsMetadata(ci32(g, count));
    LLVMMetadataRef hint = LLVMMDNodeInContext2(g->ctx, prop, count >= 0 ? 2 : 1);
    LLVMMetadataRef self = LLVMTemporaryMDNode(g->ctx, NULL, 0);
    LLVMMetadataRef ops[2] = {self, hint};
    LLVMMetadataRef id = LLVMMDNodeInContext2(g->ctx, ops, 2);
    LLVMMetadataReplaceAllUsesWith(self, id);     /* the loop's ID names itself (distinct) */
    LLVMSetMetadata(l->latch, LLVMGetMDKindIDInContext(g->ctx, "llvm.loop", 9), LLVMMetadataAsValue(g->ctx, id));
}

/* After loop_end: asks LLVM's unroller to unroll the loop count times (0: fully). -O2's pass list
 * unrolls only the loops that ask (docs/backend-llvm.md "Compile time"); the loop vectoriser keeps
 * the request on the vector loop it makes. */
static void loop_unroll_hint(Cg *g, Loop *l, int count) {
    if (count)
        loop_hint(g, l, "llvm.loop.unroll.count", count);
    else
        loop_hint(g, l, "llvm.loop.unroll.full", -1);
}

/* After loop_end: asks the loop vectoriser for one vector per iteration (no interleaving), so a
 * loop whose trip count is a multiple of the vector width runs no scalar remainder: a causal row
 * kernel's loops over a row's first columns (row_range). */
static void loop_no_interleave(Cg *g, Loop *l) { loop_hint(g, l, "llvm.loop.interleave.count", 1); }

/* A loop nest over an index space of rank dims; each of nops operands walks it with its own
 * strides (0 = broadcast) from its own base offset. body gets the operands' element offsets and
 * the loop indices. The innermost loop is the last dim, so contiguous copies vectorise. */
#define NEST_MAXOPS 3
typedef void (*NestBody)(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx);

static void nest_level(Cg *g, int k, int rank, LLVMValueRef *dims, int nops,
                       LLVMValueRef st[][IR_MAXRANK], LLVMValueRef *off, LLVMValueRef *ivs,
                       NestBody body, void *ctx) {
    if (k == rank) {
        body(g, off, ivs, ctx);
        return;
    }
    Loop l;
    LLVMValueRef i = loop_begin(g, &l, dims[k]);
    ivs[k] = i;
    LLVMValueRef sub[NEST_MAXOPS];
    for (int o = 0; o < nops; o++)
        sub[o] = LLVMBuildAdd(g->b, off[o], LLVMBuildMul(g->b, i, st[o][k], ""), "");
    nest_level(g, k + 1, rank, dims, nops, st, sub, ivs, body, ctx);
    loop_end(g, &l);
}

static void nest(Cg *g, int rank, LLVMValueRef *dims, int nops, LLVMValueRef st[][IR_MAXRANK],
                 LLVMValueRef *base, NestBody body, void *ctx) {
    LLVMValueRef ivs[IR_MAXRANK];
    nest_level(g, 0, rank, dims, nops, st, base, ivs, body, ctx);
}

/* ---- scalar math: one element of an elementwise op ---- */

/* double -> i32 as the interpreter converts: toward zero, saturating, NaN -> 0 */
static int32_t sat_i32(double v) {
    return v != v ? 0 : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
}

static LLVMValueRef const_val(Cg *g, DType dt, double v) {
    if (dt == DT_F32)
        return cf32(g, (float)v);
    if (dt == DT_I32)
        return ci32(g, sat_i32(v));
    return LLVMConstInt(g->i1, v != 0, 0);
}

static LLVMValueRef cast_val(Cg *g, LLVMValueRef x, DType from, DType to) {
    if (from == to)
        return x;
    switch (to) {
    case DT_F32:
        return from == DT_I32 ? LLVMBuildSIToFP(g->b, x, g->f32, "")
                              : LLVMBuildUIToFP(g->b, x, g->f32, "");
    case DT_I32:
        if (from == DT_BOOL)
            return LLVMBuildZExt(g->b, x, g->i32, "");
        {   /* saturating, like the interpreter's clamped conversion; NaN -> 0 */
            LLVMTypeRef p[1] = {g->f32};
            LLVMValueRef f = declare(g, "llvm.fptosi.sat.i32.f32", g->i32, p, 1, true);
            return call(g, f, &x, 1);
        }
    case DT_BOOL:
        return from == DT_F32 ? LLVMBuildFCmp(g->b, LLVMRealUNE, x, cf32(g, 0), "")
                              : LLVMBuildICmp(g->b, LLVMIntNE, x, ci32(g, 0), "");
    }
    unreachable();
}

/* exp, log, tanh, sigmoid and erf: compiler/ir/ir_math.h, the interpreter's own text,
 * instantiated on LLVM IR (llvm_math_exp(g, x) ...): inline f32 arithmetic, compares, selects and
 * integer bit operations, no calls, so the loop vectoriser widens a loop around them. Each
 * operation is rounded on its own (no fast-math flags: nothing is contracted into an FMA), so
 * every element gets the interpreter's bits on any CPU. */
#define MF LLVMValueRef
#define MI LLVMValueRef
#define MB LLVMValueRef
#define MATH_NAME(n) llvm_math_##n
#define MATH_CTX Cg *g,
#define MATH_ARG g,
#define FC(c) cf32(g, (c))
#define IC(c) ci32(g, (c))
#define FADD(u, v) LLVMBuildFAdd(g->b, (u), (v), "")
#define FSUB(u, v) LLVMBuildFSub(g->b, (u), (v), "")
#define FMUL(u, v) LLVMBuildFMul(g->b, (u), (v), "")
#define FDIV(u, v) LLVMBuildFDiv(g->b, (u), (v), "")
#define IADD(u, v) LLVMBuildAdd(g->b, (u), (v), "")
#define ISUB(u, v) LLVMBuildSub(g->b, (u), (v), "")
#define IAND(u, v) LLVMBuildAnd(g->b, (u), (v), "")
#define IOR(u, v) LLVMBuildOr(g->b, (u), (v), "")
#define ISHL(u, n) LLVMBuildShl(g->b, (u), ci32(g, (n)), "")
#define IASHR(u, n) LLVMBuildAShr(g->b, (u), ci32(g, (n)), "")
#define FLT(u, v) LLVMBuildFCmp(g->b, LLVMRealOLT, (u), (v), "")
#define FGT(u, v) LLVMBuildFCmp(g->b, LLVMRealOGT, (u), (v), "")
#define FGE(u, v) LLVMBuildFCmp(g->b, LLVMRealOGE, (u), (v), "")
#define FEQ(u, v) LLVMBuildFCmp(g->b, LLVMRealOEQ, (u), (v), "")
#define SELF(m, u, v) LLVMBuildSelect(g->b, (m), (u), (v), "")
#define SELI(m, u, v) LLVMBuildSelect(g->b, (m), (u), (v), "")
#define F2BITS(u) LLVMBuildBitCast(g->b, (u), g->i32, "")
#define BITS2F(u) LLVMBuildBitCast(g->b, (u), g->f32, "")
#define I2F(u) LLVMBuildSIToFP(g->b, (u), g->f32, "")
#include "ir_math.h"

static LLVMValueRef cmp(Cg *g, Op op, DType dt, LLVMValueRef x, LLVMValueRef y) {
    static const LLVMRealPredicate fp[] = {LLVMRealOLT, LLVMRealOLE, LLVMRealOGT, LLVMRealOGE,
                                           LLVMRealOEQ, LLVMRealUNE};
    static const LLVMIntPredicate sp[] = {LLVMIntSLT, LLVMIntSLE, LLVMIntSGT, LLVMIntSGE,
                                          LLVMIntEQ, LLVMIntNE};
    static const LLVMIntPredicate up[] = {LLVMIntULT, LLVMIntULE, LLVMIntUGT, LLVMIntUGE,
                                          LLVMIntEQ, LLVMIntNE};
    int k = (int)op - OP_LT;
    if (dt == DT_F32)
        return LLVMBuildFCmp(g->b, fp[k], x, y, "");
    return LLVMBuildICmp(g->b, dt == DT_I32 ? sp[k] : up[k], x, y, "");
}

/* The value of elementwise node nd from its operands' values; dt is src[0]'s dtype. */
static LLVMValueRef scalar_op(Cg *g, const IrNode *nd, DType dt, LLVMValueRef *v) {
    LLVMBuilderRef b = g->b;
    bool f = dt == DT_F32;
    LLVMValueRef x = v[0], y = v[1];
    switch ((Op)nd->op) {
    case OP_NEG: return f ? LLVMBuildFNeg(b, x, "") : LLVMBuildNeg(b, x, "");
    case OP_EXP: return llvm_math_exp(g, x);
    case OP_LOG: return llvm_math_log(g, x);
    case OP_SQRT: return call_f1(g, "llvm.sqrt.f32", x);
    case OP_TANH: return llvm_math_tanh(g, x);
    case OP_ATAN: return call_lib1(g, "atanf", x);
    case OP_SIN: return call_f1(g, "llvm.sin.f32", x);
    case OP_COS: return call_f1(g, "llvm.cos.f32", x);
    case OP_FLOOR: return f ? call_f1(g, "llvm.floor.f32", x) : x;
    case OP_CEIL: return f ? call_f1(g, "llvm.ceil.f32", x) : x;
    case OP_ROUND: return f ? call_f1(g, "llvm.roundeven.f32", x) : x;    /* half to even */
    case OP_ERF: return llvm_math_erf(g, x);
    case OP_ASIN: return call_lib1(g, "asinf", x);
    case OP_ACOS: return call_lib1(g, "acosf", x);
    case OP_SIGMOID: return llvm_math_sigmoid(g, x);
    case OP_ABS:
        if (f)
            return call_f1(g, "llvm.fabs.f32", x);
        return LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, x, ci32(g, 0), ""),
                               LLVMBuildNeg(b, x, ""), x, "");
    case OP_SIGN: {   /* zeros (either sign) and NaN pass through */
        LLVMValueRef zero = const_val(g, dt, 0);
        LLVMValueRef pos = cmp(g, OP_GT, dt, x, zero), neg = cmp(g, OP_LT, dt, x, zero);
        return LLVMBuildSelect(b, pos, const_val(g, dt, 1),
                               LLVMBuildSelect(b, neg, const_val(g, dt, -1), x, ""), "");
    }
    case OP_CAST: return cast_val(g, x, dt, nd->type.dtype);
    case OP_NOT: return LLVMBuildNot(b, x, "");
    case OP_STOP_GRAD: return x;
    case OP_ADD: return f ? LLVMBuildFAdd(b, x, y, "") : LLVMBuildAdd(b, x, y, "");
    case OP_SUB: return f ? LLVMBuildFSub(b, x, y, "") : LLVMBuildSub(b, x, y, "");
    case OP_MUL: return f ? LLVMBuildFMul(b, x, y, "") : LLVMBuildMul(b, x, y, "");
    case OP_DIV:
        if (f)
            return LLVMBuildFDiv(b, x, y, "");
        {   /* x / 0 is 0 and INT32_MIN / -1 wraps (docs/ir.md), never a trap */
            LLVMValueRef z = LLVMBuildICmp(b, LLVMIntEQ, y, ci32(g, 0), "");
            LLVMValueRef m1 = LLVMBuildICmp(b, LLVMIntEQ, y, ci32(g, -1), "");
            LLVMValueRef safe = LLVMBuildSelect(b, LLVMBuildOr(b, z, m1, ""), ci32(g, 1), y, "");
            LLVMValueRef q = LLVMBuildSDiv(b, x, safe, "");
            q = LLVMBuildSelect(b, m1, LLVMBuildNeg(b, x, ""), q, "");
            return LLVMBuildSelect(b, z, ci32(g, 0), q, "");
        }
    case OP_MOD:
        if (f) {    /* fmod moved to the divisor's sign (torch.remainder; docs/ir.md) */
            LLVMValueRef m = LLVMBuildFRem(b, x, y, "");
            LLVMValueRef nz = LLVMBuildFCmp(b, LLVMRealUNE, m, cf32(g, 0), "");
            LLVMValueRef differ = LLVMBuildXor(b, LLVMBuildFCmp(b, LLVMRealOLT, m, cf32(g, 0), ""),
                                               LLVMBuildFCmp(b, LLVMRealOLT, y, cf32(g, 0), ""), "");
            return LLVMBuildSelect(b, LLVMBuildAnd(b, nz, differ, ""), LLVMBuildFAdd(b, m, y, ""), m, "");
        }
        {   /* x mod 0 and x mod -1 are 0, never a trap; else srem moved to the divisor's sign */
            LLVMValueRef z = LLVMBuildICmp(b, LLVMIntEQ, y, ci32(g, 0), "");
            LLVMValueRef m1 = LLVMBuildICmp(b, LLVMIntEQ, y, ci32(g, -1), "");
            LLVMValueRef bad = LLVMBuildOr(b, z, m1, "");
            LLVMValueRef safe = LLVMBuildSelect(b, bad, ci32(g, 1), y, "");
            LLVMValueRef m = LLVMBuildSRem(b, x, safe, "");
            LLVMValueRef nz = LLVMBuildICmp(b, LLVMIntNE, m, ci32(g, 0), "");
            LLVMValueRef differ = LLVMBuildICmp(b, LLVMIntSLT, LLVMBuildXor(b, m, safe, ""), ci32(g, 0), "");
            return LLVMBuildSelect(b, LLVMBuildAnd(b, nz, differ, ""), LLVMBuildAdd(b, m, safe, ""), m, "");
        }
    case OP_POW:
        if (!f)
            die("pow on %s operands reached the llvm backend", dt == DT_I32 ? "i32" : "bool");
        return call_f2(g, "llvm.pow.f32", x, y);
    case OP_MAX:
    case OP_MIN: {
        /* NaN from either side wins and ties pick x, as in the interpreter (torch.maximum); a
         * compare and a select, which vectorise as well as maxnum would */
        LLVMValueRef keep = cmp(g, nd->op == OP_MAX ? OP_GE : OP_LE, dt, x, y);
        if (f)
            keep = LLVMBuildOr(b, keep, LLVMBuildFCmp(b, LLVMRealUNO, x, x, ""), "");
        return LLVMBuildSelect(b, keep, x, y, "");
    }
    case OP_LT: case OP_LE: case OP_GT: case OP_GE: case OP_EQ: case OP_NE:
        return cmp(g, (Op)nd->op, dt, x, y);
    case OP_AND: return LLVMBuildAnd(b, x, y, "");
    case OP_OR: return LLVMBuildOr(b, x, y, "");
    case OP_SELECT: return LLVMBuildSelect(b, x, y, v[2], "");
    default: die("scalar_op: %s is not elementwise", ir_op_name[nd->op]);
    }
}

/* ---- kernels: one internal function per computed node ---- */

typedef struct KEnv {
    const Kernel *k;            /* the kernel IR */
    LLVMValueRef out;           /* i8* */
    LLVMValueRef src[IR_MAXSRC];/* i8* buffers of the arguments */
    LLVMValueRef seed;          /* RAND */
    LLVMValueRef *argv;         /* a reduction with a body: per argument, its parameter */
    LLVMValueRef lo, hi;        /* a pool: the samples n in [lo, hi) it computes (emit_pool_kernel) */
    LLVMValueRef pool;          /* a batched GEMM: the thread pool */
    LLVMValueRef start;         /* SLICE, UNSLICE: the window's start, a parameter (is_window) */
    LLVMValueRef pack, repack;  /* a GEMM of a packed-weight group: its handle (i8**), i32 flag */
} KEnv;

/* A batched (3-D) matmul: nnc_sgemm_batched splits its products across the thread pool. */

static const IrType *src_type(const KEnv *k, int s) { return &k->k->args[s].type; }

static void k_fill(Cg *g, KEnv *k, LLVMValueRef v) {
    Loop l;
    LLVMValueRef i = loop_begin(g, &l, numelv(g, &k->k->type));
    store_elem(g, k->k->type.dtype, k->out, i, v);
    loop_end(g, &l);
}

/* splitmix64's step and finaliser on an i64 (or a vector of them): runtime/rand.c's rt_mix64 */
static LLVMValueRef rand_mix(Cg *g, LLVMValueRef z) {
    LLVMTypeRef t = LLVMTypeOf(z);
    LLVMValueRef k1 = LLVMConstInt(t, 0x9E3779B97F4A7C15ull, 0), k2 = LLVMConstInt(t, 0xBF58476D1CE4E5B9ull, 0);
    LLVMValueRef k3 = LLVMConstInt(t, 0x94D049BB133111EBull, 0);
    z = LLVMBuildAdd(g->b, z, k1, "");
    z = LLVMBuildMul(g->b, LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, LLVMConstInt(t, 30, 0), ""), ""), k2, "");
    z = LLVMBuildMul(g->b, LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, LLVMConstInt(t, 27, 0), ""), ""), k3, "");
    return LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, LLVMConstInt(t, 31, 0), ""), "");
}

/* rand_uniform (dropout's masks): nnc_rand_uniform(seed, stream, i) for every i, inline. Its key
 * mix(seed ^ mix(stream)) does not depend on i, so it is computed once; each element is then one
 * mix of key ^ i, the top 24 bits times 2^-24 (runtime/rand.c's formula, so the same bits as the
 * runtime's function and the interpreter), in a loop the vectoriser takes (a call per element,
 * three mixes each, was a tenth of a dropout MLP's training step). */
static void k_rand(Cg *g, KEnv *k) {
    LLVMValueRef key = rand_mix(g, LLVMBuildXor(g->b, k->seed, rand_mix(g, ci64(g, k->k->attr.i[0])), ""));
    Loop l;
    LLVMValueRef i = loop_begin(g, &l, numelv(g, &k->k->type));
    LLVMValueRef bits = LLVMBuildLShr(g->b, rand_mix(g, LLVMBuildXor(g->b, key, i, "")), ci64(g, 40), "");
    LLVMValueRef v = LLVMBuildFMul(g->b, LLVMBuildUIToFP(g->b, bits, g->f32, ""), cf32(g, 1.0 / 16777216.0), "");
    store_elem(g, DT_F32, k->out, i, v);
    loop_end(g, &l);
}

/* copy: operand 0 is the destination offset, operand 1 the source offset */
typedef struct CopyCtx { DType dt; LLVMValueRef dst, src; } CopyCtx;

static void copy_body(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    CopyCtx *c = ctx;
    LLVMTypeRef ty = mem_type(g, c->dt);
    LLVMValueRef v = LLVMBuildLoad2(g->b, ty, elem_ptr(g, c->dt, c->src, off[1]), "");
    LLVMBuildStore(g->b, v, elem_ptr(g, c->dt, c->dst, off[0]));
}

static void zero_fill(Cg *g, KEnv *k) {
    LLVMBuildMemSet(g->b, k->out, LLVMConstInt(g->i8, 0, 0), bytesv(g, &k->k->type), 1);
}

static void k_broadcast(Cg *g, KEnv *k) {
    const IrType *t = &k->k->type, *s = src_type(k, 0);
    LLVMValueRef dims[IR_MAXRANK], st[2][IR_MAXRANK], sst[IR_MAXRANK], base[2] = {ci64(g, 0), ci64(g, 0)};
    strides(g, t, st[0]);
    strides(g, s, sst);
    int lead = t->rank - s->rank;
    if (lead < 0)
        die("broadcast from rank %d to rank %d", s->rank, t->rank);
    for (int d = 0; d < t->rank; d++) {
        dims[d] = dimv(g, t->dim[d]);
        int sd = d - lead;
        bool stretched = sd < 0 || (dim_eq(s->dim[sd], (Dim){0, 1}) && !dim_eq(t->dim[d], (Dim){0, 1}));
        st[1][d] = stretched ? ci64(g, 0) : sst[sd];
    }
    CopyCtx c = {t->dtype, k->out, k->src[0]};
    nest(g, t->rank, dims, 2, st, base, copy_body, &c);
}

static void k_transpose(Cg *g, KEnv *k) {
    const IrType *t = &k->k->type, *s = src_type(k, 0);
    LLVMValueRef dims[IR_MAXRANK], st[2][IR_MAXRANK], sst[IR_MAXRANK], base[2] = {ci64(g, 0), ci64(g, 0)};
    strides(g, t, st[0]);
    strides(g, s, sst);
    for (int d = 0; d < t->rank; d++) {
        int64_t from = k->k->attr.i[d];
        if (from < 0 || from >= s->rank)
            die("transpose: bad permutation entry %lld", (long long)from);
        dims[d] = dimv(g, t->dim[d]);
        st[1][d] = sst[from];
    }
    CopyCtx c = {t->dtype, k->out, k->src[0]};
    nest(g, t->rank, dims, 2, st, base, copy_body, &c);
}

/* SLICE reads a strided window of the operand into a dense result; UNSLICE writes the dense
 * operand into that window of a zeroed result. `big` is the un-sliced type. */
static void k_slice(Cg *g, KEnv *k, bool un) {
    const IrType *big = un ? &k->k->type : src_type(k, 0);
    const IrType *small = un ? src_type(k, 0) : &k->k->type;
    int64_t axis = k->k->attr.i[0], step = k->k->attr.i[3];
    if (axis < 0 || axis >= big->rank)
        die("slice: bad axis %lld", (long long)axis);
    LLVMValueRef dims[IR_MAXRANK], bst[IR_MAXRANK], sst[IR_MAXRANK], st[2][IR_MAXRANK];
    strides(g, big, bst);
    strides(g, small, sst);
    for (int d = 0; d < small->rank; d++)
        dims[d] = dimv(g, small->dim[d]);
    /* the start may depend on B (the gradient of a concat along a batch-sized axis) */
    LLVMValueRef bbase = LLVMBuildMul(g->b, k->start, bst[axis], "");
    bst[axis] = LLVMBuildMul(g->b, ci64(g, step), bst[axis], "");
    int bi = un ? 0 : 1, si = un ? 1 : 0;   /* operand 0 is the destination */
    LLVMValueRef base[2];
    base[bi] = bbase;
    base[si] = ci64(g, 0);
    memcpy(st[bi], bst, sizeof bst);
    memcpy(st[si], sst, sizeof sst);
    if (un)
        zero_fill(g, k);
    CopyCtx c = {k->k->type.dtype, k->out, k->src[0]};
    nest(g, small->rank, dims, 2, st, base, copy_body, &c);
}

/* Concats of more operands than this copy each through a shared function (concat_part_fn). */
#define CONCAT_INLINE 4
static LLVMValueRef concat_part_fn(Cg *g, const IrType *t, const IrType *st_, int axis);

static void concat_parts_pooled(Cg *g, KEnv *k);

static void k_concat(Cg *g, KEnv *k) {
    const IrType *t = &k->k->type;
    int64_t axis = k->k->attr.i[0];
    if (axis < 0 || axis >= t->rank)
        die("concat: bad axis %lld", (long long)axis);
    if (k->k->nargs > CONCAT_INLINE && k->pool) {
        concat_parts_pooled(g, k);
        return;
    }
    LLVMValueRef ost[IR_MAXRANK];
    strides(g, t, ost);
    LLVMValueRef at = ci64(g, 0);
    /* operands are contiguous blocks of the result (every axis before `axis` of size 1): plan may
     * have placed an operand in its block already (plan.c concat_places), then it is not copied */
    bool blocks = true;
    for (int d = 0; d < axis; d++)
        blocks = blocks && t->dim[d].a == 0 && t->dim[d].c == 1;
    for (int s = 0; s < k->k->nargs; s++) {
        const IrType *st_ = src_type(k, s);
        LLVMBasicBlockRef next = NULL;
        if (blocks && k->k->args[s].kind != KA_VAL) {
            LLVMValueRef off = LLVMBuildMul(g->b, LLVMBuildMul(g->b, at, ost[axis], ""),
                                            ci64(g, ir_dtype_size(t->dtype)), "");
            LLVMValueRef dst = LLVMBuildInBoundsGEP2(g->b, g->i8, k->out, &off, 1, "");
            LLVMValueRef same = LLVMBuildICmp(g->b, LLVMIntEQ, dst, k->argv[s], "in_place");
            LLVMBasicBlockRef copy = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "concat.copy");
            next = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "concat.next");
            LLVMBuildCondBr(g->b, same, next, copy);
            LLVMPositionBuilderAtEnd(g->b, copy);
        }
        if (k->k->nargs > CONCAT_INLINE) {  /* a flattened chain: one call per operand */
            LLVMValueRef fn = concat_part_fn(g, t, st_, (int)axis);
            LLVMValueRef args[4] = {k->out, k->argv[s], at, g->B};
            LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, 4, "");
            if (next) {
                LLVMBuildBr(g->b, next);
                LLVMPositionBuilderAtEnd(g->b, next);
            }
            at = LLVMBuildAdd(g->b, at, dimv(g, st_->dim[axis]), "");
            continue;
        }
        LLVMValueRef dims[IR_MAXRANK], st[2][IR_MAXRANK];
        memcpy(st[0], ost, sizeof ost);
        strides(g, st_, st[1]);
        for (int d = 0; d < st_->rank; d++)
            dims[d] = dimv(g, st_->dim[d]);
        LLVMValueRef base[2] = {LLVMBuildMul(g->b, at, ost[axis], ""), ci64(g, 0)};
        CopyCtx c = {t->dtype, k->out, k->argv[s]};   /* argv: a flattened chain has many */
        nest(g, st_->rank, dims, 2, st, base, copy_body, &c);
        if (next) {
            LLVMBuildBr(g->b, next);
            LLVMPositionBuilderAtEnd(g->b, next);
        }
        /* the extent again, here: dims[axis] of an extent holding B was computed in the copy
         * block, which does not dominate the join (an LSTM instance called on two sequences) */
        at = LLVMBuildAdd(g->b, at, next ? dimv(g, st_->dim[axis]) : dims[axis], "");
    }
}

/* The element a KA_TILE argument holds at flat index i of the index space: i mod its size. */
static LLVMValueRef tile_index(Cg *g, const KArg *ar, LLVMValueRef i) {
    return LLVMBuildURem(g->b, i, ci64(g, ir_numel(&ar->type, 0)), "");
}

/* The values of kernel k's body at one element (the last is its result): i is its flat index in the kernel's index space,
 * r and c its row and column with the space seen as [rows, last dim] (NULL when no argument reads
 * by row or column). argv: per argument its parameter (a pointer or a value; NULL for one read
 * through out), pre: the elements of KA_BUF0 arguments loaded before the loop. */
static LLVMValueRef *body_values(Cg *g, const Kernel *k, LLVMValueRef *argv, LLVMValueRef *pre,
                                 LLVMValueRef out, LLVMValueRef i, LLVMValueRef r, LLVMValueRef c) {
    LLVMValueRef *v = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)k->nbody);
    for (int e = 0; e < k->nbody; e++) {
        const KExpr *x = &k->body[e];
        if (x->kind == KE_ARG) {
            const KArg *ar = &k->args[x->ref];
            LLVMValueRef at = ar->kind == KA_ROW    ? r
                              : ar->kind == KA_COL  ? c
                              : ar->kind == KA_TILE ? tile_index(g, ar, i)
                              : ar->kind == KA_WIN  ? LLVMBuildAdd(g->b, LLVMBuildMul(g->b, r, ci64(g, ar->wstride), ""), c, "")
                                                    : i;
            LLVMValueRef base = argv[x->ref] ? argv[x->ref] : out;
            v[e] = ar->kind == KA_VAL    ? argv[x->ref]
                   : ar->kind == KA_BUF0 ? pre[x->ref]
                                         : load_elem(g, ar->type.dtype, base, at);
            continue;
        }
        if (x->kind != KE_OP)
            die("kernel body instruction %d is not an op or an argument", e);
        LLVMValueRef sv[IR_MAXSRC] = {0};
        for (int q = 0; q < ir_op_nsrc[x->op]; q++)
            sv[q] = v[x->src[q]];
        IrNode nd = {.op = x->op, .type = {.dtype = x->dt}};
        v[e] = scalar_op(g, &nd, x->sdt, sv);
    }
    return v;
}

/* A reduction walks the kept axes outside and the reduced axes inside, accumulating each result
 * element in a register: sums in double (i64 for i32) rounded once at the end, in the operand's
 * element order - what the interpreter does, so both agree to the bit. */
typedef struct ReduceCtx {
    DType dt;
    bool max;
    LLVMValueRef out, src, acc, init;
    LLVMTypeRef acc_ty;
    int rrank;
    LLVMValueRef rdims[IR_MAXRANK], rst[1][IR_MAXRANK];
    /* a body (a fused elementwise prologue) computes each operand element */
    const Kernel *k;
    LLVMValueRef *argv, *pre, cols, o;
    bool last_axis;             /* the reduced axis is the last: row = result index, column = inner index */
    LLVMValueRef inner;         /* columns: the kept run after the reduced axes, one accumulator each */
    int64_t ninner;             /* its length, a constant */
    LLVMValueRef w;             /* columns: the length of the current piece of the run */
} ReduceCtx;

/* The operand element at source offset off (ivs: the reduced axes' indices, for last_axis). */
static LLVMValueRef reduce_operand(Cg *g, ReduceCtx *c, LLVMValueRef off, LLVMValueRef *ivs) {
    if (!(c->k && c->k->nbody))
        return load_elem(g, c->dt, c->src, off);
    LLVMValueRef r = NULL, col = NULL;
    if (k_reads_rows_cols(c->k)) {
        if (c->last_axis) {
            r = c->o, col = ivs[c->rrank - 1];
        } else {
            r = LLVMBuildUDiv(g->b, off, c->cols, "");
            col = LLVMBuildSub(g->b, off, LLVMBuildMul(g->b, r, c->cols, ""), "");
        }
    }
    return body_values(g, c->k, c->argv, c->pre, c->out, off, r, col)[c->k->nbody - 1];
}

/* an accumulator's value a combined with the operand x */
static LLVMValueRef reduce_combine(Cg *g, ReduceCtx *c, LLVMValueRef a, LLVMValueRef x) {
    if (c->max) {
        IrNode mx = {.op = OP_MAX, .type = {.dtype = c->dt}};
        return scalar_op(g, &mx, c->dt, (LLVMValueRef[]){a, x, NULL});
    }
    if (c->dt == DT_F32)
        return LLVMBuildFAdd(g->b, a, LLVMBuildFPExt(g->b, x, g->f64, ""), "");
    return LLVMBuildAdd(g->b, a, LLVMBuildSExt(g->b, x, g->i64, ""), "");
}

/* acc (an accumulator's address) combined with the operand x */
static void reduce_add(Cg *g, ReduceCtx *c, LLVMValueRef acc, LLVMValueRef x) {
    LLVMBuildStore(g->b, reduce_combine(g, c, LLVMBuildLoad2(g->b, c->acc_ty, acc, ""), x), acc);
}

static void reduce_inner(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    ReduceCtx *c = ctx;
    reduce_add(g, c, c->acc, reduce_operand(g, c, off[0], ivs));
}

static void reduce_outer(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    ReduceCtx *c = ctx;
    c->o = off[0];
    LLVMBuildStore(g->b, c->init, c->acc);
    nest(g, c->rrank, c->rdims, 1, c->rst, &off[1], reduce_inner, c);
    LLVMValueRef v = LLVMBuildLoad2(g->b, c->acc_ty, c->acc, "");
    if (!c->max)
        v = c->dt == DT_F32 ? LLVMBuildFPTrunc(g->b, v, g->f32, "") : LLVMBuildTrunc(g->b, v, g->i32, "");
    store_elem(g, c->dt, c->out, off[0], v);
}

/* Column reductions: the kept axes after the last reduced one form a contiguous run of `inner`
 * elements in source and result ([n, C] -> [1, C]: batchnorm's statistics, a bias gradient).
 * The element-at-a-time walk would read the source with stride `inner` (a cache line per
 * element, `inner` times over); this walk reads it in order, with one accumulator per run
 * element (c->acc is an array of them). Each result element still adds its operands in their
 * element order, so the bits are those of reduce_outer and of the interpreter. A run longer than
 * COL_MAX_INNER (a position embedding's gradient, [N, T, D] -> [1, T, D]: 16384) is walked in
 * pieces of COL_MAX_INNER elements, each piece over all the rows: still each row's piece in
 * order, where the element-at-a-time walk took a cache line per element (~15x slower there). */
#define COL_MAX_INNER 4096      /* accumulators on the stack: 32 KiB of doubles at most */

static LLVMValueRef col_acc(Cg *g, ReduceCtx *c, LLVMValueRef q) {
    return LLVMBuildGEP2(g->b, c->acc_ty, c->acc, &q, 1, "");
}

static void col_add(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    ReduceCtx *c = ctx;
    reduce_add(g, c, col_acc(g, c, ivs[0]), reduce_operand(g, c, off[0], NULL));
}

static void col_row(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    (void)ivs;
    LLVMValueRef st[1][IR_MAXRANK] = {{ci64(g, 1)}};
    nest(g, 1, &((ReduceCtx *)ctx)->w, 1, st, off, col_add, ctx);
}

/* the piece [q0, q0 + c->w) of one result run: off = {result offset, source offset} of the run's
 * first element */
static void col_piece(Cg *g, ReduceCtx *c, LLVMValueRef *off, LLVMValueRef q0) {
    Loop l;
    LLVMValueRef q = loop_begin(g, &l, c->w);
    LLVMBuildStore(g->b, c->init, col_acc(g, c, q));
    loop_end(g, &l);
    LLVMValueRef src = LLVMBuildAdd(g->b, off[1], q0, "");
    nest(g, c->rrank, c->rdims, 1, c->rst, &src, col_row, c);
    q = loop_begin(g, &l, c->w);
    LLVMValueRef v = LLVMBuildLoad2(g->b, c->acc_ty, col_acc(g, c, q), "");
    if (!c->max)
        v = c->dt == DT_F32 ? LLVMBuildFPTrunc(g->b, v, g->f32, "") : LLVMBuildTrunc(g->b, v, g->i32, "");
    store_elem(g, c->dt, c->out, LLVMBuildAdd(g->b, LLVMBuildAdd(g->b, off[0], q0, ""), q, ""), v);
    loop_end(g, &l);
}

/* The first nd axes of a reduction's operand s: the reduced ones (mask) into c's loop over them
 * (rdims, rst), the kept ones into the outer nest (odims, and st: the result's strides ost, the
 * operand's sst). Returns the outer nest's rank. */
static int split_axes(Cg *g, const IrType *s, int nd, uint64_t mask, ReduceCtx *c, const LLVMValueRef *ost,
                      const LLVMValueRef *sst, LLVMValueRef *odims, LLVMValueRef st[2][IR_MAXRANK]) {
    int n = 0;
    for (int d = 0; d < nd; d++) {
        if (mask >> d & 1) {
            c->rdims[c->rrank] = dimv(g, s->dim[d]);
            c->rst[0][c->rrank++] = sst[d];
        } else {
            odims[n] = dimv(g, s->dim[d]);
            st[0][n] = ost[d];
            st[1][n++] = sst[d];
        }
    }
    return n;
}

/* one result run: off = {result offset, source offset} of its first element; in pieces of at
 * most COL_MAX_INNER */
static void col_outer(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    (void)ivs;
    ReduceCtx *c = ctx;
    if (c->ninner <= COL_MAX_INNER) {
        c->w = c->inner;
        col_piece(g, c, off, ci64(g, 0));
        return;
    }
    Loop l;
    LLVMValueRef p = loop_begin(g, &l, ci64(g, (c->ninner + COL_MAX_INNER - 1) / COL_MAX_INNER));
    LLVMValueRef q0 = LLVMBuildMul(g->b, p, ci64(g, COL_MAX_INNER), "");
    LLVMValueRef left = LLVMBuildSub(g->b, c->inner, q0, "");
    c->w = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, left, ci64(g, COL_MAX_INNER), ""), left,
                           ci64(g, COL_MAX_INNER), "");
    col_piece(g, c, off, q0);
    loop_end(g, &l);
}

static void k_reduce(Cg *g, KEnv *k, bool max) {
    const Kernel *kk = k->k;
    const IrType *t = &kk->type, *s = kk->nbody ? &kk->pro : src_type(k, 0);
    uint64_t mask = (uint64_t)kk->attr.i[0];
    DType dt = t->dtype;
    if (dt == DT_BOOL)
        die("%s over bool reached the llvm backend", max ? "rmax" : "sum");
    ReduceCtx c = {.dt = dt, .max = max, .out = k->out, .src = kk->nbody ? NULL : k->src[0], .k = kk,
                   .argv = k->argv};
    if (kk->nbody) {
        c.pre = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kk->nargs + 1));
        for (int a = 0; a < kk->nargs; a++)
            if (kk->args[a].kind == KA_BUF0)
                c.pre[a] = load_elem(g, kk->args[a].type.dtype, k->argv[a], ci64(g, 0));
        c.cols = s->rank ? dimv(g, s->dim[s->rank - 1]) : ci64(g, 1);
        c.last_axis = s->rank > 0 && mask == (uint64_t)1 << (s->rank - 1);
    }
    c.acc_ty = max ? val_type(g, dt) : dt == DT_F32 ? g->f64 : g->i64;
    c.init = max ? (dt == DT_F32 ? cf32(g, -__builtin_inf()) : ci32(g, INT32_MIN))
                 : dt == DT_F32 ? LLVMConstReal(g->f64, 0) : ci64(g, 0);
    LLVMValueRef ost[IR_MAXRANK], sst[IR_MAXRANK], odims[IR_MAXRANK], st[2][IR_MAXRANK];
    strides(g, t, ost);
    strides(g, s, sst);
    /* columns: kept axes after the last reduced axis r1, of a known size; the kept axes before r1
     * (before the reduced block, or between reduced axes: nearest upsampling's gradient sums
     * [N, H, 2, W, 2, C] over the two 2s) walk outside, the reduced axes in their order inside:
     * each result still adds its operands in element order */
    int r1 = -1;
    for (int d = 0; d < s->rank; d++)
        if (mask >> d & 1) r1 = d;
    int64_t inner = 1;
    bool cols = r1 >= 0 && r1 < s->rank - 1;
    for (int d = r1 + 1; cols && d < s->rank; d++) {
        cols = s->dim[d].a == 0 && (inner *= s->dim[d].c) <= ((int64_t)1 << 40);
    }
    if (cols) {
        c.ninner = inner;
        c.inner = ci64(g, inner);
        c.acc = LLVMBuildArrayAlloca(g->b, c.acc_ty, ci64(g, inner < COL_MAX_INNER ? inner : COL_MAX_INNER),
                                     "accs");     /* entry block, fixed size */
        int nout = split_axes(g, s, r1 + 1, mask, &c, ost, sst, odims, st);
        LLVMValueRef base[2] = {ci64(g, 0), ci64(g, 0)};
        nest(g, nout, odims, 2, st, base, col_outer, &c);
        return;
    }
    c.acc = LLVMBuildAlloca(g->b, c.acc_ty, "acc");     /* in the entry block: promoted */
    int orank = split_axes(g, s, s->rank, mask, &c, ost, sst, odims, st);
    LLVMValueRef base[2] = {ci64(g, 0), ci64(g, 0)};
    nest(g, orank, odims, 2, st, base, reduce_outer, &c);
}

/* y = x B for one row x [K] and a row-major B [K, N] of a constant N <= GEMV_REGS_N: y in vector
 * registers for the whole pass, stored once at the end. Those of the 4-row passes (k_matmul) keep y
 * in memory between rows, and for N = 10 (mlp_small's logits) the vectoriser folds the 2-column
 * tail into masked loads and stores (vmaskmovps) that do not forward a store to the next load.
 * One chain of fmuladds over k in order is latency-bound (K x the FMA's 4-5 cycles: 128 x 10 took
 * ~3% of predict.c's bound, the weights being 1%); S independent chains, row k in chain k mod S
 * (the last K mod S rows in chain 0), added pairwise at the end ((c0 + c1) + (c2 + c3)), take K / S
 * (docs/backend-llvm.md "Ops"). The sums' order is not the in-order chain's: results agree with it
 * and the interpreter's to float rounding, not to the bit. Not at -O0, whose IR has no vector types
 * (tests/llvm/emit_llvm.check): the passes there. */
#define GEMV_REGS_N 16
#define GEMV_CHAINS 4

typedef struct GemvRegs {
    LLVMValueRef x, bm, ldb;
    int np, off[GEMV_REGS_N / 8 + 3], w[GEMV_REGS_N / 8 + 3];  /* y's pieces: columns off.. off + w */
    LLVMTypeRef vt[GEMV_REGS_N / 8 + 3];
    LLVMValueRef fma[GEMV_REGS_N / 8 + 3];
} GemvRegs;

/* next[j] = acc[j] + x[k] B[k, :] for the rows k = k0 + j, j < nrow: one row a chain */
static void gemv_rows(Cg *g, const GemvRegs *v, LLVMValueRef k0, int nrow, LLVMValueRef (*acc)[GEMV_REGS_N / 8 + 3],
                      LLVMValueRef (*next)[GEMV_REGS_N / 8 + 3]) {
    for (int j = 0; j < nrow; j++) {
        LLVMValueRef kj = LLVMBuildAdd(g->b, k0, ci64(g, j), "");
        LLVMValueRef xk = load_elem(g, DT_F32, v->x, kj), row = LLVMBuildMul(g->b, kj, v->ldb, "");
        for (int p = 0; p < v->np; p++) {
            LLVMValueRef xs = LLVMBuildInsertElement(g->b, LLVMGetUndef(v->vt[p]), xk, ci32(g, 0), "");
            xs = LLVMBuildShuffleVector(g->b, xs, LLVMGetUndef(v->vt[p]),
                                        LLVMConstNull(LLVMVectorType(g->i32, (unsigned)v->w[p])), "");
            LLVMValueRef ptr = elem_ptr(g, DT_F32, v->bm, LLVMBuildAdd(g->b, row, ci64(g, v->off[p]), ""));
            LLVMValueRef b = LLVMBuildLoad2(g->b, v->vt[p], LLVMBuildBitCast(g->b, ptr, LLVMPointerType(v->vt[p], 0), ""), "");
            LLVMSetAlignment(b, 4);
            next[j][p] = call(g, v->fma[p], (LLVMValueRef[]){xs, b, acc[j][p]}, 3);
        }
    }
}

static void gemv_regs(Cg *g, LLVMValueRef x, LLVMValueRef bm, LLVMValueRef y, LLVMValueRef K, LLVMValueRef ldb,
                      int n) {
    enum { MAXP = GEMV_REGS_N / 8 + 3 };
    GemvRegs v = {.x = x, .bm = bm, .ldb = ldb};
    /* y's columns in pieces of 8, 4, 2, 1 (a phi of a vector of another width is split into
     * scalars by the code generator, with inserts and extracts in every iteration) */
    for (int c = 0; c < n; v.np++) {
        v.w[v.np] = n - c >= 8 ? 8 : n - c >= 4 ? 4 : n - c >= 2 ? 2 : 1;
        v.off[v.np] = c;
        c += v.w[v.np];
    }
    int np = v.np;
    /* chains x pieces accumulators: at most 12 of AVX2's 16 vector registers, the rest hold the
     * broadcasts and the rows' loads */
    int S = 12 / np < GEMV_CHAINS ? 12 / np : GEMV_CHAINS;
    LLVMValueRef zero[MAXP], acc[GEMV_CHAINS][MAXP], next[GEMV_CHAINS][MAXP], out[GEMV_CHAINS][MAXP];
    for (int p = 0; p < np; p++) {
        v.vt[p] = LLVMVectorType(g->f32, (unsigned)v.w[p]);
        char fname[32];
        snprintf(fname, sizeof fname, "llvm.fmuladd.v%df32", v.w[p]);
        v.fma[p] = declare(g, fname, v.vt[p], (LLVMTypeRef[]){v.vt[p], v.vt[p], v.vt[p]}, 3, true);
        zero[p] = LLVMConstNull(v.vt[p]);
    }
    /* the rows in groups of S, row S q + j in chain j */
    LLVMValueRef sv = ci64(g, S), kq = LLVMBuildSDiv(g->b, K, sv, ""), ks = LLVMBuildMul(g->b, kq, sv, "");
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    Loop l;
    LLVMValueRef q = loop_begin(g, &l, kq);
    for (int j = 0; j < S; j++)
        for (int p = 0; p < np; p++) {
            acc[j][p] = LLVMBuildPhi(g->b, v.vt[p], "y");
            LLVMAddIncoming(acc[j][p], &zero[p], &pre, 1);
        }
    gemv_rows(g, &v, LLVMBuildMul(g->b, q, sv, ""), S, acc, next);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    for (int j = 0; j < S; j++)
        for (int p = 0; p < np; p++)
            LLVMAddIncoming(acc[j][p], &next[j][p], &latch, 1);
    loop_end(g, &l);
    for (int j = 0; j < S; j++)
        for (int p = 0; p < np; p++) {
            out[j][p] = LLVMBuildPhi(g->b, v.vt[p], "y.out");
            LLVMAddIncoming(out[j][p], (LLVMValueRef[]){zero[p], next[j][p]}, (LLVMBasicBlockRef[]){pre, latch}, 2);
        }
    /* the last K mod S rows, in order, in chain 0 */
    LLVMBasicBlockRef mid = LLVMGetInsertBlock(g->b);
    Loop t;
    LLVMValueRef kt = loop_range(g, &t, ks, K);
    for (int p = 0; p < np; p++) {
        acc[0][p] = LLVMBuildPhi(g->b, v.vt[p], "y.tail");
        LLVMAddIncoming(acc[0][p], &out[0][p], &mid, 1);
    }
    gemv_rows(g, &v, kt, 1, acc, next);
    latch = LLVMGetInsertBlock(g->b);
    for (int p = 0; p < np; p++)
        LLVMAddIncoming(acc[0][p], &next[0][p], &latch, 1);
    loop_end(g, &t);
    for (int p = 0; p < np; p++) {
        LLVMValueRef c0 = LLVMBuildPhi(g->b, v.vt[p], "y.out");
        LLVMAddIncoming(c0, (LLVMValueRef[]){out[0][p], next[0][p]}, (LLVMBasicBlockRef[]){mid, latch}, 2);
        out[0][p] = c0;
    }
    for (int p = 0; p < np; p++) {  /* pairwise: (c0 + c1) + (c2 + c3); of three, (c0 + c1) + c2 */
        LLVMValueRef r = S > 1 ? LLVMBuildFAdd(g->b, out[0][p], out[1][p], "") : out[0][p];
        if (S > 2)
            r = LLVMBuildFAdd(g->b, r, S > 3 ? LLVMBuildFAdd(g->b, out[2][p], out[3][p], "") : out[2][p], "");
        LLVMValueRef ptr = elem_ptr(g, DT_F32, y, ci64(g, v.off[p]));
        LLVMValueRef st = LLVMBuildStore(g->b, r, LLVMBuildBitCast(g->b, ptr, LLVMPointerType(v.vt[p], 0), ""));
        LLVMSetAlignment(st, 4);
    }
}

static void k_matmul(Cg *g, KEnv *k) {
    const IrType *t = &k->k->type, *ta = src_type(k, 0), *tb = src_type(k, 1);
    bool tra = k->k->attr.i[0] != 0, trb = k->k->attr.i[1] != 0;
    if (!(t->rank == 2 && ta->rank == 2 && tb->rank == 2) && !(t->rank == 3 && ta->rank == 3 && tb->rank == 3))
        die("matmul of rank %d x %d -> %d reached the llvm backend", ta->rank, tb->rank, t->rank);
    int o = t->rank - 2;        /* batched: [P, M, K] @ [P, K, N], runtime/bmm.c */
    if (o && (k->k->view[0].h > 0 || k->k->view[1].h > 0 || k->k->view[2].h > 0)) {
        /* operands read or written in place (compiler/passes/gemm_view.c): nnc_sgemm_batched_view,
         * the causal mode first (0: none), A, B, C each as its pointer (at the view's offset), h,
         * sb, sh, ld */
        LLVMTypeRef vp[23] = {g->i32, g->i32, g->i32, g->i64, g->i64, g->i64, g->i64, g->f32p, g->i64, g->i64, g->i64,
                              g->i64, g->f32p, g->i64, g->i64, g->i64, g->i64, g->f32p, g->i64, g->i64, g->i64, g->i64,
                              g->i8p};
        LLVMValueRef f = declare(g, "nnc_sgemm_batched_view", g->vd, vp, 23, false);
        LLVMValueRef va[23] = {ci32(g, k->k->causal), ci32(g, tra), ci32(g, trb), dimv(g, t->dim[0]), dimv(g, t->dim[1]),
                               dimv(g, t->dim[2]), dimv(g, ta->dim[tra ? 1 : 2])};
        for (int s = 0; s < 3; s++) {
            const KView *v = &k->k->view[s];
            const IrType *st = s == 2 ? t : s ? tb : ta;
            LLVMValueRef *w = va + 7 + 5 * s, ptr = s == 2 ? k->out : k->src[s];
            if (v->h > 0) {
                w[0] = elem_ptr(g, DT_F32, ptr, ci64(g, v->off));
                w[1] = ci64(g, v->h), w[2] = ci64(g, v->sb), w[3] = ci64(g, v->sh), w[4] = ci64(g, v->ld);
            } else {    /* dense [P, rows, cols]: h 1, products rows x cols apart */
                w[0] = LLVMBuildBitCast(g->b, ptr, g->f32p, "");
                w[1] = ci64(g, 1), w[2] = LLVMBuildMul(g->b, dimv(g, st->dim[1]), dimv(g, st->dim[2]), "");
                w[3] = ci64(g, 0), w[4] = dimv(g, st->dim[2]);
            }
        }
        va[22] = k->pool ? k->pool : LLVMConstNull(g->i8p);
        call(g, f, va, 23);
        return;
    }
    if (o) {    /* causal (compiler/passes/causal.c): nnc_sgemm_batched_causal, its mode first */
        LLVMTypeRef bp[11] = {g->i32, g->i32, g->i32, g->i64, g->i64, g->i64, g->i64, g->f32p, g->f32p, g->f32p, g->i8p};
        int c = k->k->causal ? 1 : 0;
        LLVMValueRef bf = declare(g, c ? "nnc_sgemm_batched_causal" : "nnc_sgemm_batched", g->vd, bp + 1 - c, 10 + c, false);
        LLVMValueRef bargs[11] = {
            ci32(g, k->k->causal), ci32(g, tra), ci32(g, trb), dimv(g, t->dim[0]), dimv(g, t->dim[1]), dimv(g, t->dim[2]),
            dimv(g, ta->dim[tra ? 1 : 2]), LLVMBuildBitCast(g->b, k->src[0], g->f32p, ""),
            LLVMBuildBitCast(g->b, k->src[1], g->f32p, ""), LLVMBuildBitCast(g->b, k->out, g->f32p, ""),
            k->pool ? k->pool : LLVMConstNull(g->i8p)};
        call(g, bf, bargs + 1 - c, 10 + c);
        return;
    }
    LLVMValueRef M = dimv(g, t->dim[0]), N = dimv(g, t->dim[1]);
    LLVMValueRef K = dimv(g, ta->dim[tra ? 0 : 1]);
    LLVMValueRef lda = dimv(g, ta->dim[1]), ldb = dimv(g, tb->dim[1]);
    /* nnc_sgemm (runtime/bmm.c): cblas_sgemm's arguments less the layout and alpha, then the
     * pool it splits a large product across */
    LLVMTypeRef p[13] = {g->i32, g->i32, g->i32, g->i32, g->i32, g->f32p, g->i32, g->f32p, g->i32, g->f32,
                         g->f32p, g->i32, g->i8p};
    LLVMValueRef f = declare(g, "nnc_sgemm", g->vd, p, 13, false);
    if (k->pack) {  /* runtime/packed_gemm.c: the handle first, the same arguments after it */
        LLVMTypeRef pb[2] = {g->i8pp, g->i32};
        LLVMValueRef bargs[2] = {k->pack, k->repack};
        call(g, declare(g, "nnc_packed_begin", g->vd, pb, 2, false), bargs, 2);
        LLVMTypeRef pp[14] = {g->i8pp};
        memcpy(pp + 1, p, sizeof p);
        f = declare(g, "nnc_sgemm_packed", g->vd, pp, 14, false);
    }
    LLVMValueRef one = ci64(g, 1);
#define I32(x) LLVMBuildTrunc(g->b, (x), g->i32, "")
#define LD(x) I32(LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, (x), one, ""), (x), one, ""))
    LLVMValueRef args[14] = {
        ci32(g, CBLAS_ROW_MAJOR), ci32(g, tra ? CBLAS_TRANS : CBLAS_NO_TRANS),
        ci32(g, trb ? CBLAS_TRANS : CBLAS_NO_TRANS), I32(M), I32(N), I32(K), cf32(g, 1),
        LLVMBuildBitCast(g->b, k->src[0], g->f32p, ""), LD(lda),
        LLVMBuildBitCast(g->b, k->src[1], g->f32p, ""), LD(ldb), cf32(g, k->k->acc ? 1 : 0),   /* acc: C += */
        LLVMBuildBitCast(g->b, k->out, g->f32p, ""), LD(N)};
#undef LD
#undef I32
    /* an empty product is all zeros; BLAS is not asked about degenerate sizes */
    LLVMValueRef mn = LLVMBuildMul(g->b, M, N, "");
    LLVMBasicBlockRef docall = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemm");
    LLVMBasicBlockRef zero = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemm.k0");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemm.end");
    LLVMValueRef nonempty = LLVMBuildICmp(g->b, LLVMIntSGT, mn, ci64(g, 0), "");
    LLVMValueRef kpos = LLVMBuildICmp(g->b, LLVMIntSGT, K, ci64(g, 0), "");
    LLVMBasicBlockRef check_k = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemm.chk");
    LLVMBuildCondBr(g->b, nonempty, check_k, done);
    LLVMPositionBuilderAtEnd(g->b, check_k);
    LLVMBuildCondBr(g->b, kpos, docall, zero);
    LLVMPositionBuilderAtEnd(g->b, docall);
    /* One row (a batch-1 forward): OpenBLAS's sgemm packs all of B for a single row, which cost
     * more than the product itself (mlp_small's predict spent 40% in sgemm_itcopy); sgemv streams
     * B once. op(A)'s one row is contiguous either way (A is [1, K], or [K, 1] transposed). */
    LLVMBasicBlockRef gemv = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemv");
    LLVMBasicBlockRef gemm = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "gemm.mn");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, M, one, ""), gemv, gemm);
    LLVMPositionBuilderAtEnd(g->b, gemv);
    if (!trb && g->o->opt_level >= 1 && LLVMIsAConstantInt(N) && LLVMConstIntGetSExtValue(N) <= GEMV_REGS_N) {
        gemv_regs(g, LLVMBuildBitCast(g->b, k->src[0], g->f32p, ""), LLVMBuildBitCast(g->b, k->src[1], g->f32p, ""),
                  LLVMBuildBitCast(g->b, k->out, g->f32p, ""), K, ldb, (int)LLVMConstIntGetSExtValue(N));
    } else if (!trb) {
        /* y = x B with B [K, N] row-major: the backend's own loop, y zeroed, then one pass over y
         * per 4 rows of B (y[n] += x[k] B[k, n] for the 4 k in order, llvm.fmuladd): B streams
         * once, in order, and the loop over n vectorises. OpenBLAS's sgemv read W1 at ~70% of
         * the rate of bench/predict.c's bound loop (docs/backend-llvm.md). */
        LLVMValueRef x = LLVMBuildBitCast(g->b, k->src[0], g->f32p, ""), bm = LLVMBuildBitCast(g->b, k->src[1], g->f32p, "");
        LLVMValueRef y = LLVMBuildBitCast(g->b, k->out, g->f32p, "");
        LLVMBuildMemSet(g->b, k->out, LLVMConstInt(g->i8, 0, 0), LLVMBuildMul(g->b, N, ci64(g, 4), ""), 1);
        LLVMTypeRef fp[3] = {g->f32, g->f32, g->f32};
        LLVMValueRef fma = declare(g, "llvm.fmuladd.f32", g->f32, fp, 3, true);
        LLVMValueRef K4 = LLVMBuildAnd(g->b, K, ci64(g, ~(int64_t)3), "");
        for (int pass = 0; pass < 2; pass++) {      /* rows in fours, then the last K mod 4 */
            int w = pass == 0 ? 4 : 1;
            Loop lq, ln;
            LLVMValueRef q = pass == 0 ? loop_begin(g, &lq, LLVMBuildLShr(g->b, K, ci64(g, 2), "")) : loop_range(g, &lq, K4, K);
            LLVMValueRef k0 = pass == 0 ? LLVMBuildShl(g->b, q, ci64(g, 2), "") : q;
            LLVMValueRef xs[4], rows[4];
            for (int j = 0; j < w; j++) {
                LLVMValueRef kj = LLVMBuildAdd(g->b, k0, ci64(g, j), "");
                xs[j] = load_elem(g, DT_F32, x, kj);
                rows[j] = LLVMBuildMul(g->b, kj, ldb, "");
            }
            LLVMValueRef n = loop_begin(g, &ln, N);
            LLVMValueRef acc = load_elem(g, DT_F32, y, n);
            for (int j = 0; j < w; j++) {
                LLVMValueRef fa[3] = {xs[j], load_elem(g, DT_F32, bm, LLVMBuildAdd(g->b, rows[j], n, "")), acc};
                acc = call(g, fma, fa, 3);
            }
            store_elem(g, DT_F32, y, n, acc);
            loop_end(g, &ln);
            loop_end(g, &lq);
            /* y of at most 128 floats stays in registers across the rows (16 AVX2 registers):
             * the loop over n fully unrolled (after vectorising), two passes of 4 rows per
             * iteration. LLVM's default<O2> did this by its own heuristics; -O2's pass list
             * unrolls only on request (docs/backend-llvm.md "Compile time"). */
            if (pass == 0 && LLVMIsAConstantInt(N) && LLVMConstIntGetSExtValue(N) <= 128) {
                loop_unroll_hint(g, &ln, 0);
                loop_unroll_hint(g, &lq, 2);
            }
        }
    } else {
        LLVMTypeRef pv[12] = {g->i32, g->i32, g->i32, g->i32, g->f32, g->f32p, g->i32,
                              g->f32p, g->i32, g->f32, g->f32p, g->i32};
        LLVMValueRef fv = declare(g, "cblas_sgemv", g->vd, pv, 12, false);
        /* row-major B: [K, N] -> y = B^T x (Trans, K x N); transposed, [N, K] -> y = B x (NoTrans, N x K) */
        LLVMValueRef av[12] = {
            ci32(g, CBLAS_ROW_MAJOR), ci32(g, trb ? CBLAS_NO_TRANS : CBLAS_TRANS),
            LLVMBuildTrunc(g->b, trb ? N : K, g->i32, ""), LLVMBuildTrunc(g->b, trb ? K : N, g->i32, ""),
            cf32(g, 1), args[9], args[10], args[7], ci32(g, 1), cf32(g, 0), args[12], ci32(g, 1)};
        call(g, fv, av, 12);
    }
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, gemm);
    LLVMValueRef sargs[14] = {ci32(g, tra), ci32(g, trb), args[3], args[4], args[5], args[7], args[8], args[9], args[10],
                              args[11], args[12], args[13], k->pool ? k->pool : LLVMConstNull(g->i8p)};
    if (k->pack) {
        memmove(sargs + 1, sargs, 13 * sizeof sargs[0]);
        sargs[0] = k->pack;
    }
    call(g, f, sargs, k->pack ? 14 : 13);
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, zero);
    zero_fill(g, k);
    LLVMBuildBr(g->b, done);
    LLVMPositionBuilderAtEnd(g->b, done);
}

/* MAXPOOL, AVGPOOL and their adjoints: a loop nest over the result's positions (n, oh, ow) and
 * each window's real rows and columns (clipped: no padding is read), with the channels innermost:
 * channels-last makes them the contiguous axis, so each step over them is one vector loop. The
 * order of every element's operations is ir_eval.c's pool_eval, so both agree to the bit. */
static LLVMValueRef clampv(Cg *g, LLVMValueRef v, LLVMValueRef lo, LLVMValueRef hi) {
    LLVMValueRef a = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, v, lo, ""), lo, v, "");
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, a, hi, ""), hi, a, "");
}

/* A disjoint window of maxpool_bwd: each element x[n, h, w, c] of the window gets dy[o + c] where
 * it is the channel's argmax (arow[c], the scan's), else 0: the bits of zero + dy and of the
 * zeroing (0 + dy is dy + 0, which turns -0 into +0: kept). Channels innermost: vectorised. */
static void maxpool_dx(Cg *g, KEnv *k, LLVMValueRef arow, LLVMValueRef dy, LLVMValueRef hs, LLVMValueRef he,
                       LLVMValueRef ws, LLVMValueRef we, LLVMValueRef o, LLVMValueRef nh, LLVMValueRef W,
                       LLVMValueRef C) {
    LLVMBuilderRef b = g->b;
    Loop lkh, lkw, lc;
    LLVMValueRef h = loop_range(g, &lkh, hs, he);
    LLVMValueRef w = loop_range(g, &lkw, ws, we);
    LLVMValueRef xb = LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, nh, h, ""), W, ""), w, ""), C, "");
    LLVMValueRef c = loop_begin(g, &lc, C);
    LLVMValueRef e = LLVMBuildAdd(b, xb, c, "");
    LLVMValueRef at = LLVMBuildLoad2(b, g->i64, LLVMBuildInBoundsGEP2(b, g->i64, arow, (LLVMValueRef[]){c}, 1, ""), "");
    LLVMValueRef d = LLVMBuildFAdd(b, load_elem(g, DT_F32, dy, LLVMBuildAdd(b, o, c, "")), cf32(g, 0), "");
    store_elem(g, DT_F32, k->out, e, LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntEQ, e, at, ""), d, cf32(g, 0), ""));
    loop_end(g, &lc);
    loop_end(g, &lkw);
    loop_end(g, &lkh);
}

static void k_pool(Cg *g, KEnv *k) {
    LLVMBuilderRef b = g->b;
    Op op = (Op)k->k->op;
    bool bwd = op == OP_MAXPOOL_BWD || op == OP_AVGPOOL_BWD;
    const IrType *xt = bwd ? &k->k->type : k->k->nbody ? &k->k->pro : src_type(k, 0);   /* a fused chain: the pooled operand is its result, not argument 0 */
    IrPool p = ir_pool_geom(&k->k->attr, xt, 0);
    const Kernel *kk = k->k;
    LLVMValueRef x = op == OP_AVGPOOL_BWD || kk->nbody ? NULL : k->src[0];
    LLVMValueRef *pre = NULL;     /* a forward pool of a fused chain: its one-element arguments */
    if (kk->nbody) {
        pre = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kk->nargs + 1));
        for (int a = 0; a < kk->nargs; a++)
            if (kk->args[a].kind == KA_BUF0)
                pre[a] = load_elem(g, kk->args[a].type.dtype, k->argv[a], ci64(g, 0));
    }
    LLVMValueRef dy = op == OP_MAXPOOL_BWD ? k->src[1] : op == OP_AVGPOOL_BWD ? k->src[0] : NULL;
    /* maxpool_bwd: per channel, the best value so far and where it is (the window scan keeps
     * the channels innermost, so it vectorises like the forward pool) */
    LLVMValueRef mrow = LLVMBuildArrayAlloca(b, g->f32, ci64(g, p.c), "m");
    LLVMValueRef arow = LLVMBuildArrayAlloca(b, g->i64, ci64(g, p.c), "arg");
#define AT(c) LLVMBuildInBoundsGEP2(b, g->i64, arow, (LLVMValueRef[]){(c)}, 1, "")
    LLVMValueRef H = ci64(g, p.h), W = ci64(g, p.w), C = ci64(g, p.c), OH = ci64(g, p.oh), OW = ci64(g, p.ow);
    /* maxpool_bwd with windows that do not overlap (stride >= window: the usual 2x2 pool): each
     * x element is in at most one window, so the window's elements are written once (maxpool_dx)
     * instead of a scatter-add into a zeroed result; the zeroing is left only where windows do
     * not cover x (padding, a remainder row or column) */
    bool disjoint = op == OP_MAXPOOL_BWD && p.s[0] >= p.k[0] && p.s[1] >= p.k[1];
    bool covered = disjoint && p.s[0] == p.k[0] && p.s[1] == p.k[1] && p.lo[0] == 0 && p.lo[1] == 0 &&
                   p.oh * p.s[0] == p.h && p.ow * p.s[1] == p.w;
    if (bwd && !covered) {      /* the adjoint's samples [lo, hi) start at zero */
        LLVMValueRef per = ci64(g, p.h * p.w * p.c * 4);
        LLVMValueRef at = LLVMBuildGEP2(b, g->i8, k->out, (LLVMValueRef[]){LLVMBuildMul(b, k->lo, per, "")}, 1, "");
        LLVMBuildMemSet(b, at, LLVMConstInt(g->i8, 0, 0), LLVMBuildMul(b, LLVMBuildSub(b, k->hi, k->lo, ""), per, ""), 1);
    }
    LLVMValueRef ninf = cf32(g, -__builtin_inf());
    Loop ln, lh, lw, lkh, lkw, lc;
    LLVMValueRef n = loop_range(g, &ln, k->lo, k->hi);
    LLVMValueRef oh = loop_begin(g, &lh, OH);
    LLVMValueRef ow = loop_begin(g, &lw, OW);
    LLVMValueRef h0 = LLVMBuildSub(b, LLVMBuildMul(b, oh, ci64(g, p.s[0]), ""), ci64(g, p.lo[0]), "");
    LLVMValueRef w0 = LLVMBuildSub(b, LLVMBuildMul(b, ow, ci64(g, p.s[1]), ""), ci64(g, p.lo[1]), "");
    LLVMValueRef hs = clampv(g, h0, ci64(g, 0), H), he = clampv(g, LLVMBuildAdd(b, h0, ci64(g, p.k[0]), ""), ci64(g, 0), H);
    LLVMValueRef ws = clampv(g, w0, ci64(g, 0), W), we = clampv(g, LLVMBuildAdd(b, w0, ci64(g, p.k[1]), ""), ci64(g, 0), W);
    LLVMValueRef cnt = LLVMBuildSIToFP(b, LLVMBuildMul(b, LLVMBuildSub(b, he, hs, ""), LLVMBuildSub(b, we, ws, ""), ""), g->f32, "");
    LLVMValueRef o = LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, n, OH, ""), oh, ""), OW, ""), ow, ""), C, "");
    LLVMValueRef nh = LLVMBuildMul(b, n, H, "");
#define XAT(h, w) LLVMBuildMul(b, LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, nh, (h), ""), W, ""), (w), ""), C, "")
    LLVMValueRef c, oc, e, v;
    if (op == OP_MAXPOOL || op == OP_AVGPOOL) {     /* the result row starts at -inf or 0 */
        c = loop_begin(g, &lc, C);
        store_elem(g, DT_F32, k->out, LLVMBuildAdd(b, o, c, ""), op == OP_MAXPOOL ? ninf : cf32(g, 0));
        loop_end(g, &lc);
    }
    if (op == OP_MAXPOOL_BWD) {      /* each channel's argmax starts at the window's first element */
        LLVMValueRef first = XAT(hs, ws);
        c = loop_begin(g, &lc, C);
        store_elem(g, DT_F32, mrow, c, ninf);
        LLVMBuildStore(b, LLVMBuildAdd(b, first, c, ""), AT(c));
        loop_end(g, &lc);
    }
    LLVMValueRef h = loop_range(g, &lkh, hs, he);
    LLVMValueRef w = loop_range(g, &lkw, ws, we);
    LLVMValueRef xb = XAT(h, w);
    c = loop_begin(g, &lc, C);
    oc = LLVMBuildAdd(b, o, c, "");
    e = LLVMBuildAdd(b, xb, c, "");
    LLVMValueRef xv = NULL;     /* the element of x at e: loaded, or computed by the fused chain */
    if (kk->nbody) {
        LLVMValueRef row = LLVMBuildAdd(b, LLVMBuildMul(b, LLVMBuildAdd(b, nh, h, ""), W, ""), w, "");
        xv = body_values(g, kk, k->argv, pre, k->out, e, row, c)[kk->nbody - 1];
    } else if (op != OP_AVGPOOL_BWD) {
        xv = load_elem(g, DT_F32, x, e);
    }
    switch (op) {
    case OP_MAXPOOL:
    case OP_MAXPOOL_BWD: {
        v = xv;
        LLVMValueRef cur = load_elem(g, DT_F32, op == OP_MAXPOOL ? k->out : mrow, op == OP_MAXPOOL ? oc : c);
        LLVMValueRef take = LLVMBuildOr(b, LLVMBuildFCmp(b, LLVMRealOGT, v, cur, ""),
                                        LLVMBuildFCmp(b, LLVMRealUNO, v, v, ""), "");
        LLVMValueRef best = LLVMBuildSelect(b, take, v, cur, "");
        if (op == OP_MAXPOOL) {
            store_elem(g, DT_F32, k->out, oc, best);
        } else {
            store_elem(g, DT_F32, mrow, c, best);
            LLVMBuildStore(b, LLVMBuildSelect(b, take, e, LLVMBuildLoad2(b, g->i64, AT(c), ""), ""), AT(c));
        }
        break;
    }
    case OP_AVGPOOL:
        store_elem(g, DT_F32, k->out, oc, LLVMBuildFAdd(b, load_elem(g, DT_F32, k->out, oc), xv, ""));
        break;
    case OP_AVGPOOL_BWD:
        store_elem(g, DT_F32, k->out, e,
                   LLVMBuildFAdd(b, load_elem(g, DT_F32, k->out, e), LLVMBuildFDiv(b, load_elem(g, DT_F32, dy, oc), cnt, ""), ""));
        break;
    default: die("k_pool: %s", ir_op_name[op]);
    }
    loop_end(g, &lc);
    loop_end(g, &lkw);
    loop_end(g, &lkh);
    if (disjoint) {
        maxpool_dx(g, k, arow, dy, hs, he, ws, we, o, nh, W, C);
    } else if (op == OP_MAXPOOL_BWD) {      /* then one add per channel, in channel order */
        c = loop_begin(g, &lc, C);
        LLVMValueRef at = LLVMBuildLoad2(b, g->i64, AT(c), "");
        store_elem(g, DT_F32, k->out, at,
                   LLVMBuildFAdd(b, load_elem(g, DT_F32, k->out, at), load_elem(g, DT_F32, dy, LLVMBuildAdd(b, o, c, "")), ""));
        loop_end(g, &lc);
    }
    if (op == OP_AVGPOOL) {
        c = loop_begin(g, &lc, C);
        oc = LLVMBuildAdd(b, o, c, "");
        store_elem(g, DT_F32, k->out, oc, LLVMBuildFDiv(b, load_elem(g, DT_F32, k->out, oc), cnt, ""));
        loop_end(g, &lc);
    }
#undef XAT
#undef AT
    loop_end(g, &lw);
    loop_end(g, &lh);
    loop_end(g, &ln);
}

/* CONV, CONV_BWD_DATA, CONV_BWD_FILTER: a call into runtime/conv.c with the geometry as an i64
 * array on the stack (nnc_abi.h's NNC_CONV_* order); N is the only entry that may depend on B.
 * CHUNK, the images per im2col block, is what the scratch fuse sized holds (0: none). */
/* The geometry array (NNC_CONV_*) of conv kernel k, on the stack; *cp: its geometry. */
static LLVMValueRef conv_geo(Cg *g, KEnv *k, IrConv *cp) {
    const Kernel *kk = k->k;
    IrConv c;
    const char *why = ir_conv_node_geom((Op)kk->op, src_type(k, 0), src_type(k, 1), &kk->type, &kk->attr, &c);
    if (why)
        die("llvm backend: %s: %s", ir_op_name[kk->op], why);
    *cp = c;
    int64_t chunk = 0;
    if (kk->nx == 1)
        chunk = ir_numel(&kk->pro, 0) / (c.OH * c.OW * c.KH * c.KW * c.C);
    int64_t geo[NNC_CONV__COUNT] = {0, c.H, c.W, c.C, c.OH, c.OW, c.F, c.KH, c.KW, c.G,
                                    c.sh, c.sw, c.dh, c.dw, c.ph, c.pw, chunk};
    LLVMTypeRef at = LLVMArrayType(g->i64, NNC_CONV__COUNT);
    LLVMValueRef arr = LLVMBuildAlloca(g->b, at, "geo");
    for (int e = 0; e < NNC_CONV__COUNT; e++) {
        LLVMValueRef idx[2] = {ci64(g, 0), ci64(g, e)};
        LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, at, arr, idx, 2, "");
        LLVMBuildStore(g->b, e == NNC_CONV_N ? dimv(g, c.N) : ci64(g, geo[e]), p);
    }
    return arr;
}

static void k_conv(Cg *g, KEnv *k, LLVMValueRef scratch, LLVMValueRef pool) {
    const Kernel *kk = k->k;
    IrConv c;
    LLVMValueRef arr = conv_geo(g, k, &c);
    const char *fn = kk->op == OP_CONV ? "nnc_conv_forward"
                     : kk->op == OP_CONV_BWD_DATA ? "nnc_conv_backward_data" : "nnc_conv_backward_filter";
    LLVMTypeRef i64p = LLVMPointerType(g->i64, 0);
    LLVMTypeRef p[6] = {g->f32p, g->f32p, g->f32p, g->f32p, i64p, g->i8p};
    LLVMValueRef f = declare(g, fn, g->vd, p, 6, false);
    LLVMValueRef null = LLVMConstNull(g->f32p);
    LLVMValueRef args[6] = {LLVMBuildBitCast(g->b, k->src[0], g->f32p, ""),
                            LLVMBuildBitCast(g->b, k->src[1], g->f32p, ""),
                            LLVMBuildBitCast(g->b, k->out, g->f32p, ""),
                            scratch ? LLVMBuildBitCast(g->b, scratch, g->f32p, "") : null,
                            LLVMBuildBitCast(g->b, arr, i64p, ""), pool};
    call(g, f, args, 6);
}

/* ONE_HOT, GATHER, SCATTER_ADD: a 2-level nest [n, width] over the index tensor's elements. */
typedef struct IndexCtx { Op op; KEnv *k; LLVMValueRef rows, idx; } IndexCtx;

static void index_body(Cg *g, LLVMValueRef *off, LLVMValueRef *ivs, void *ctx) {
    IndexCtx *c = ctx;
    KEnv *k = c->k;
    LLVMBuilderRef b = g->b;
    /* off[0] = element of the dense side ([n, width]); off[1] = element of the index tensor */
    LLVMValueRef r = LLVMBuildSExt(b, load_elem(g, DT_I32, c->idx, off[1]), g->i64, "");
    if (c->op == OP_ONE_HOT) {
        LLVMValueRef hit = LLVMBuildICmp(b, LLVMIntEQ, r, ivs[1], "");
        DType dt = k->k->type.dtype;
        LLVMValueRef v = LLVMBuildSelect(b, hit, const_val(g, dt, 1), const_val(g, dt, 0), "");
        store_elem(g, dt, k->out, off[0], v);
        return;
    }
    /* an index outside [0, rows) reads zeros (gather) and adds nothing (scatter_add) */
    LLVMValueRef ok = LLVMBuildAnd(b, LLVMBuildICmp(b, LLVMIntSGE, r, ci64(g, 0), ""),
                                   LLVMBuildICmp(b, LLVMIntSLT, r, c->rows, ""), "");
    LLVMValueRef rr = LLVMBuildSelect(b, ok, r, ci64(g, 0), "");
    DType dt = k->k->type.dtype;
    LLVMValueRef width = dimv(g, k->k->type.dim[k->k->type.rank - 1]);
    LLVMValueRef tab = LLVMBuildAdd(b, LLVMBuildMul(b, rr, width, ""), ivs[1], "");
    LLVMValueRef zero = const_val(g, dt, 0);
    if (c->op == OP_GATHER) {
        LLVMValueRef v = load_elem(g, dt, k->src[0], tab);
        store_elem(g, dt, k->out, off[0], LLVMBuildSelect(b, ok, v, zero, ""));
    } else {
        LLVMValueRef gv = load_elem(g, dt, k->src[0], off[0]);
        LLVMValueRef acc = load_elem(g, dt, k->out, tab);
        IrNode add = {.op = OP_ADD, .type = {.dtype = dt}};
        LLVMValueRef sum = scalar_op(g, &add, dt, (LLVMValueRef[]){acc, LLVMBuildSelect(b, ok, gv, zero, ""), NULL});
        store_elem(g, dt, k->out, tab, sum);
    }
}

static void k_index(Cg *g, KEnv *k) {
    Op op = (Op)(Op)k->k->op;
    const IrType *t = &k->k->type;
    int idx_src = op == OP_ONE_HOT ? 0 : 1;
    const IrType *it = src_type(k, idx_src);
    if (it->dtype != DT_I32)
        die("%s with a non-i32 index reached the llvm backend", ir_op_name[op]);
    IndexCtx c = {op, k, ci64(g, 0), k->src[idx_src]};
    LLVMValueRef width = dimv(g, t->dim[t->rank - 1]);
    if (op == OP_GATHER)
        c.rows = dimv(g, src_type(k, 0)->dim[0]);
    if (op == OP_SCATTER_ADD) {
        c.rows = dimv(g, t->dim[0]);
        zero_fill(g, k);
    }
    LLVMValueRef dims[2] = {numelv(g, it), width};
    LLVMValueRef st[2][IR_MAXRANK] = {{width, ci64(g, 1)}, {ci64(g, 1), ci64(g, 0)}};
    LLVMValueRef base[2] = {ci64(g, 0), ci64(g, 0)};
    nest(g, 2, dims, 2, st, base, index_body, &c);
}

/* Functions are emitted one inside another (graph -> kernel -> its range and chunk functions):
 * entering one saves the builder's place, B and the current function. */
typedef struct Saved { LLVMBasicBlockRef bb; LLVMValueRef fn, B; } Saved;

static Saved enter_fn(Cg *g, LLVMValueRef fn) {
    Saved s = {LLVMGetInsertBlock(g->b), g->fn, g->B};
    g->fn = fn;
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
    return s;
}

static void leave_fn(Cg *g, Saved s) {
    g->fn = s.fn;
    g->B = s.B;
    LLVMPositionBuilderAtEnd(g->b, s.bb);
}

/* The parameter of one kernel argument at pt[np]: its value (a KA_VAL), else a noalias pointer
 * to its buffer. Returns np + 1. */
static int arg_param(Cg *g, const KArg *arg, LLVMTypeRef *pt, bool *noalias, int np) {
    bool val = arg->kind == KA_VAL;
    pt[np] = val ? val_type(g, arg->type.dtype) : g->i8p;
    noalias[np] = !val;
    return np + 1;
}

static LLVMValueRef new_fn(Cg *g, const char *name, LLVMTypeRef *pt, int np, const bool *noalias) {
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(g->vd, pt, (unsigned)np, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_attr(g, fn, LLVMAttributeFunctionIndex, "nounwind");
    /* kernels stay functions: the graph function stays a short list of calls, so optimising the
     * module costs time linear in the number of different kernels (noalias parameters still let
     * the vectoriser widen each loop without overlap checks) */
    add_attr(g, fn, LLVMAttributeFunctionIndex, "noinline");
    for (int a = 0; noalias && a < np; a++)
        if (noalias[a])
            add_attr(g, fn, (unsigned)a + 1, "noalias");
    return fn;
}

/* Elementwise loops of at least this many elements go to the thread pool when the call has one:
 * below it, waking the workers costs more than the loop (a few microseconds each). */
#define PAR_MIN_ELEMS (1 << 15)
/* ... and at least this many when they call the math library (par_min_elems) */
#define PAR_MIN_CALL_ELEMS (1 << 11)

/* A slice or unslice kernel: its window's start is a parameter, not part of its code, so the
 * windows of one shape at every step of an unrolled time loop (x[:, t, :]) share one function. */
static bool is_window(const Kernel *k) {
    return k->kind == KK_OP && (k->op == OP_SLICE || k->op == OP_UNSLICE);
}

/* A structured op whose function takes the thread pool (after B): a concat of many operands
 * (concat_parts_pooled). */
static bool op_takes_pool(const Kernel *k) {
    return k->kind == KK_OP && k->op == OP_CONCAT && k->nargs > CONCAT_INLINE;
}

/* A kernel's function is keyed by its signature (k_kernel_sig: the kernel's text without buffer
 * and value numbers): kernels that compute the same function of their arguments - the same layer
 * repeated, each layer's optimizer update - share one function, so the code LLVM optimises grows
 * with the number of different kernels, not with the depth of the model. */
static const char *sig_of(Cg *g, const Kernel *k) {
    Kernel w;
    if (is_window(k)) {     /* the window's start is a parameter: keep its extent only */
        w = *k;
        Dim st = ir_slice_start(&k->attr);
        w.attr.i[1] = 0;
        w.attr.i[2] -= st.c;
        if (w.attr.ni == 6) {
            w.attr.i[4] = 0;
            w.attr.i[5] -= st.a;
        }
        k = &w;
    }
    return k_kernel_sig_str(&g->arena, k);
}

static uint64_t str_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The slot of key in the open-addressing table (empty or holding key). */
static int cache_slot(Cg *g, const char *key) {
    FnCache *c = &g->cache;
    if (2 * (c->n + 1) > c->cap) {
        int ncap = c->cap ? c->cap * 2 : 256;
        char **nk = arena_alloc(&g->arena, sizeof(char *) * (size_t)ncap);
        LLVMValueRef *nf = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)ncap);
        for (int i = 0; i < c->cap; i++)
            if (c->key[i]) {
                size_t j = str_hash(c->key[i]) & (size_t)(ncap - 1);
                while (nk[j])
                    j = (j + 1) & (size_t)(ncap - 1);
                nk[j] = c->key[i], nf[j] = c->fn[i];
            }
        c->key = nk, c->fn = nf, c->cap = ncap;
    }
    size_t j = str_hash(key) & (size_t)(c->cap - 1);
    while (c->key[j] && strcmp(c->key[j], key))
        j = (j + 1) & (size_t)(c->cap - 1);
    return (int)j;
}

/* part(out, src, at, B): src copied into out at offset `at` along axis: one operand of a concat
 * of many (a time loop's states or an adjoint's windows), made once per (types, axis) so a concat
 * of T operands is T calls in one block, not T loop nests for LLVM to optimise. */
static LLVMValueRef concat_part_fn(Cg *g, const IrType *t, const IrType *st_, int axis) {
    char ts[128], ss[128];
    ir_type_fmt(ts, sizeof ts, t);
    ir_type_fmt(ss, sizeof ss, st_);
    const char *key = arena_printf(&g->arena, "#concat_part %s %s %d", ts, ss, axis);
    int slot = cache_slot(g, key);
    if (g->cache.key[slot])
        return g->cache.fn[slot];
    LLVMTypeRef pt[4] = {g->i8p, g->i8p, g->i64, g->i64};
    bool noalias[4] = {true, true, false, false};
    LLVMValueRef fn = new_fn(g, arena_printf(&g->arena, "%s.concat_part%d", g->prefix, g->cache.n), pt, 4, noalias);
    Saved sv = enter_fn(g, fn);
    g->B = LLVMGetParam(fn, 3);
    LLVMValueRef ost[IR_MAXRANK], dims[IR_MAXRANK], st[2][IR_MAXRANK];
    strides(g, t, ost);
    memcpy(st[0], ost, sizeof ost);
    strides(g, st_, st[1]);
    for (int d = 0; d < st_->rank; d++)
        dims[d] = dimv(g, st_->dim[d]);
    LLVMValueRef base[2] = {LLVMBuildMul(g->b, LLVMGetParam(fn, 2), ost[axis], ""), ci64(g, 0)};
    CopyCtx c = {t->dtype, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1)};
    nest(g, st_->rank, dims, 2, st, base, copy_body, &c);
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    g->cache.key[slot] = (char *)key;
    g->cache.fn[slot] = fn;
    g->cache.n++;
    return fn;
}

/* A concat of many operands (a time loop's gathered states or gate gradients: T operands, each a
 * strided window of the result) through the thread pool: the operands' pointers, offsets and part
 * functions (concat_part_fn) go into arrays on the stack and nnc_concat_parts (runtime/pool.c)
 * copies them, split by operands across the pool when the result is large. An operand plan placed
 * in its block already (k_concat) is passed as NULL and not copied. The copies are the same as
 * k_concat's, so the bits are too. */
static void concat_parts_pooled(Cg *g, KEnv *k) {
    const IrType *t = &k->k->type;
    int axis = (int)k->k->attr.i[0], n = k->k->nargs;
    LLVMValueRef ost[IR_MAXRANK];
    strides(g, t, ost);
    bool blocks = true;
    for (int d = 0; d < axis; d++)
        blocks = blocks && t->dim[d].a == 0 && t->dim[d].c == 1;
    LLVMTypeRef fnp = g->i8p;
    LLVMValueRef srcs = LLVMBuildArrayAlloca(g->b, g->i8p, ci64(g, n), "parts");
    /* the part functions and, when no operand's extent along the axis depends on B, the offsets
     * are constants: private constant tables rather than n stores each (LLVM's optimiser spent
     * ~80 ms on char_lstm's stores) */
    bool const_at = true;
    for (int s = 0; s < n; s++)
        const_at = const_at && src_type(k, s)->dim[axis].a == 0;
    LLVMValueRef *fnv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)n);
    LLVMValueRef *atv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)n);
    LLVMValueRef ats = const_at ? NULL : LLVMBuildArrayAlloca(g->b, g->i64, ci64(g, n), "at");
    LLVMValueRef at = ci64(g, 0);
    int64_t atc = 0;
    for (int s = 0; s < n; s++) {
        const IrType *st_ = src_type(k, s);
        LLVMValueRef src = k->argv[s];
        if (blocks) {   /* placed in its block by plan: nothing to copy */
            LLVMValueRef off = LLVMBuildMul(g->b, LLVMBuildMul(g->b, at, ost[axis], ""),
                                            ci64(g, ir_dtype_size(t->dtype)), "");
            LLVMValueRef dst = LLVMBuildInBoundsGEP2(g->b, g->i8, k->out, &off, 1, "");
            src = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, dst, src, "in_place"),
                                  LLVMConstNull(g->i8p), src, "");
        }
        LLVMValueRef idx = ci64(g, s);
        LLVMBuildStore(g->b, src, LLVMBuildInBoundsGEP2(g->b, g->i8p, srcs, &idx, 1, ""));
        if (const_at)
            atv[s] = ci64(g, atc);
        else
            LLVMBuildStore(g->b, at, LLVMBuildInBoundsGEP2(g->b, g->i64, ats, &idx, 1, ""));
        fnv[s] = LLVMConstBitCast(concat_part_fn(g, t, st_, axis), fnp);
        atc += st_->dim[axis].c;
        at = LLVMBuildAdd(g->b, at, dimv(g, st_->dim[axis]), "");
    }
    LLVMValueRef fns = LLVMAddGlobal(g->mod, LLVMArrayType(fnp, (unsigned)n), "concat.parts");
    LLVMSetInitializer(fns, LLVMConstArray(fnp, fnv, (unsigned)n));
    LLVMSetGlobalConstant(fns, 1);
    LLVMSetLinkage(fns, LLVMPrivateLinkage);
    fns = LLVMBuildBitCast(g->b, fns, g->i8pp, "");
    if (const_at) {
        ats = LLVMAddGlobal(g->mod, LLVMArrayType(g->i64, (unsigned)n), "concat.at");
        LLVMSetInitializer(ats, LLVMConstArray(g->i64, atv, (unsigned)n));
        LLVMSetGlobalConstant(ats, 1);
        LLVMSetLinkage(ats, LLVMPrivateLinkage);
        ats = LLVMBuildBitCast(g->b, ats, LLVMPointerType(g->i64, 0), "");
    }
    LLVMTypeRef pt[8] = {g->i8p, g->i64, g->i64, g->i8pp, g->i8p, LLVMPointerType(g->i64, 0), g->i8pp, g->i64};
    LLVMValueRef f = declare(g, "nnc_concat_parts", g->vd, pt, 8, false);
    LLVMValueRef args[8] = {k->pool, ci64(g, n), bytesv(g, t), fns, k->out, ats, srcs, g->B};
    call(g, f, args, 8);
}

/* An argument of an elementwise kernel that reads one of the kernel's own outputs (an update
 * written in place) is not a parameter of its own: it is read through that output's pointer,
 * which keeps every pointer parameter noalias. -1, or 0 for out, 1 + x for extra output x. */
static int out_slot(const Kernel *k, int a) {
    if (k->args[a].kind == KA_VAL)
        return -1;
    if (k->args[a].ref == k->out)
        return 0;
    for (int x = 0; x < k->nx; x++)
        if (k->args[a].ref == k->xbuf[x])
            return 1 + x;
    return -1;
}

/* A row kernel's instructions that vary along the row, at element i (column c of its row), for
 * the instructions marked in need; v holds the row's values already computed (lv: which are). */
static void row_elems(Cg *g, const Kernel *k, const uint8_t *lv, const uint8_t *need, LLVMValueRef *v,
                      LLVMValueRef *argv, LLVMValueRef *pre, LLVMValueRef out, LLVMValueRef i, LLVMValueRef c) {
    for (int e = 0; e < k->nbody; e++) {
        const KExpr *x = &k->body[e];
        if (lv[e] || !need[e])
            continue;
        if (x->kind == KE_ARG) {
            const KArg *ar = &k->args[x->ref];
            LLVMValueRef base = argv[x->ref] ? argv[x->ref] : out;
            v[e] = ar->kind == KA_BUF0 ? pre[x->ref]
                   : load_elem(g, ar->type.dtype, base, ar->kind == KA_COL ? c : ar->kind == KA_TILE ? tile_index(g, ar, i) : i);
            continue;
        }
        LLVMValueRef sv[IR_MAXSRC] = {0};
        for (int q = 0; q < ir_op_nsrc[x->op]; q++)
            sv[q] = v[x->src[q]];
        IrNode nd = {.op = x->op, .type = {.dtype = x->dt}};
        v[e] = scalar_op(g, &nd, x->sdt, sv);
    }
}

/* An instruction that calls the math library (kept rather than computed twice). */
static bool row_call(const KExpr *x) {
    switch ((Op)x->op) {
    case OP_EXP: case OP_LOG: case OP_TANH: case OP_ATAN: case OP_SIN: case OP_COS: case OP_ERF:
    case OP_ASIN: case OP_ACOS: case OP_SIGMOID: case OP_POW:
        return x->dt == DT_F32;
    default:
        return false;
    }
}

/* The instructions of kernel k's body that call the math library or run ir_math.h's functions. */
static int math_calls(const Kernel *k) {
    int calls = 0;
    for (int e = 0; e < k->nbody; e++)
        calls += k->body[e].kind == KE_OP && row_call(&k->body[e]);
    return calls;
}

/* Row reductions without the ordered loop's serial chain, where that cannot change a bit.
 *
 * rmax (f32): the ordered loop (the interpreter's) keeps the first of equal values and the first
 * NaN. Its result differs from any other order's only when the maximum is ±0 (which zero comes
 * first) or there is a NaN (which payload). So one pass computes the maximum as an integer: each
 * float's bits mapped to a key that orders as the floats do (negative: the bits ^ 0x7fffffff),
 * whose max and min reductions are exact in any order and vectorise; the ordered loop runs only
 * for a row whose maximum key is ±0 or whose keys show a NaN (above +inf's, below -inf's). */
static void row_fast_fallback(Cg *g, LLVMValueRef ok, LLVMBasicBlockRef *done) {
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "row.ordered");
    *done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "row.fast");
    LLVMBuildCondBr(g->b, ok, *done, slow);
    LLVMPositionBuilderAtEnd(g->b, slow);
}

static LLVMValueRef f32_key(Cg *g, LLVMValueRef x, LLVMTypeRef ity, LLVMValueRef c31, LLVMValueRef cmask) {
    LLVMValueRef b = LLVMBuildBitCast(g->b, x, ity, "");
    return LLVMBuildXor(g->b, b, LLVMBuildAnd(g->b, LLVMBuildAShr(g->b, b, c31, ""), cmask, ""), "");
}

static LLVMValueRef imax_min(Cg *g, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b) {
    return LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, p, a, b, ""), a, b, "");
}

static LLVMBasicBlockRef row_max_fast(Cg *g, const Kernel *k, const uint8_t *ll, const uint8_t *need, LLVMValueRef *v,
                                      LLVMValueRef *argv, LLVMValueRef *pre, LLVMValueRef out, LLVMValueRef base,
                                      LLVMValueRef cols, int s, LLVMValueRef acc, LLVMValueRef kmax, LLVMValueRef kmin) {
    const int32_t ninf = (int32_t)(0xff800000u ^ 0x7fffffffu);   /* -inf's key */
    LLVMBuildStore(g->b, ci32(g, ninf), kmax);
    LLVMBuildStore(g->b, ci32(g, ninf), kmin);
    Loop lc;
    LLVMValueRef c = loop_begin(g, &lc, cols);
    row_elems(g, k, ll, need, v, argv, pre, out, LLVMBuildAdd(g->b, base, c, ""), c);
    LLVMValueRef key = f32_key(g, v[s], g->i32, ci32(g, 31), ci32(g, 0x7fffffff));
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSGT, LLVMBuildLoad2(g->b, g->i32, kmax, ""), key), kmax);
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSLT, LLVMBuildLoad2(g->b, g->i32, kmin, ""), key), kmin);
    loop_end(g, &lc);
    if (k->causal)
        loop_no_interleave(g, &lc);
    LLVMValueRef hi = LLVMBuildLoad2(g->b, g->i32, kmax, ""), lo = LLVMBuildLoad2(g->b, g->i32, kmin, "");
    LLVMValueRef bits = LLVMBuildXor(g->b, hi, LLVMBuildAnd(g->b, LLVMBuildAShr(g->b, hi, ci32(g, 31), ""), ci32(g, 0x7fffffff), ""), "");
    LLVMBuildStore(g->b, LLVMBuildBitCast(g->b, bits, g->f32, ""), acc);
    LLVMValueRef ok = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSLE, hi, ci32(g, 0x7f800000), ""),
                                   LLVMBuildICmp(g->b, LLVMIntSGE, lo, ci32(g, ninf), ""), "");
    ok = LLVMBuildAnd(g->b, ok, LLVMBuildICmp(g->b, LLVMIntNE, hi, ci32(g, 0), ""), "");
    ok = LLVMBuildAnd(g->b, ok, LLVMBuildICmp(g->b, LLVMIntNE, hi, ci32(g, -1), ""), "");
    LLVMBasicBlockRef done;
    row_fast_fallback(g, ok, &done);
    return done;
}

/* sum (f32, in double) of the kept operand, already stored in out[base, base + cols): the ordered
 * double sum's bits are those of the exact sum whenever every partial sum is exact, in any order.
 * Every value is a multiple of u, the ulp of the smallest nonzero magnitude (2^(E - 150), E its
 * exponent field, at least 1), so every partial sum is a multiple of u no larger in magnitude than
 * cols · max|v|; a double holds every multiple k u with |k| <= 2^53. So one pass, 8 floats at a
 * time (doubles in two vector accumulators, the smallest nonzero and the largest magnitude as
 * integers), then a scalar tail, gives the sum; the ordered loop runs only for a row where
 * cols · max|v| >= 2^(E - 98) (2^53 u with a factor 2 to spare for the rounding of the product),
 * or with an inf or NaN. Softmax's exp(z - max) rows pass unless a probability is below about
 * 2^-22 / (cols / 128). */
static LLVMBasicBlockRef row_sum_fast(Cg *g, LLVMValueRef out, LLVMValueRef base, LLVMValueRef cols,
                                      LLVMValueRef acc, LLVMValueRef *fa) {
    const int W = 8;
    LLVMTypeRef vf = LLVMVectorType(g->f32, W), vd = LLVMVectorType(g->f64, W), vi = LLVMVectorType(g->i32, W);
    LLVMValueRef vsum = fa[0], vmax = fa[1], vmin = fa[2], ssum = fa[3], smax = fa[4], smin = fa[5];
    LLVMValueRef big = ci32(g, 0x7fffffff), vbig = LLVMConstVector((LLVMValueRef[]){big, big, big, big, big, big, big, big}, W);
    LLVMBuildStore(g->b, LLVMConstNull(vd), vsum);
    LLVMBuildStore(g->b, LLVMConstNull(vi), vmax);
    LLVMBuildStore(g->b, vbig, vmin);
    LLVMBuildStore(g->b, LLVMConstReal(g->f64, 0), ssum);
    LLVMBuildStore(g->b, ci32(g, 0), smax);
    LLVMBuildStore(g->b, big, smin);
    LLVMValueRef nv = LLVMBuildSDiv(g->b, cols, ci64(g, W), "");
    Loop l;
    LLVMValueRef j = loop_begin(g, &l, nv);
    LLVMValueRef p = elem_ptr(g, DT_F32, out, LLVMBuildAdd(g->b, base, LLVMBuildMul(g->b, j, ci64(g, W), ""), ""));
    LLVMValueRef x = LLVMBuildLoad2(g->b, vf, LLVMBuildBitCast(g->b, p, LLVMPointerType(vf, 0), ""), "");
    LLVMSetAlignment(x, 4);
    LLVMBuildStore(g->b, LLVMBuildFAdd(g->b, LLVMBuildLoad2(g->b, vd, vsum, ""), LLVMBuildFPExt(g->b, x, vd, ""), ""), vsum);
    LLVMValueRef a = LLVMBuildAnd(g->b, LLVMBuildBitCast(g->b, x, vi, ""), vbig, "");
    LLVMValueRef nz = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, a, LLVMConstNull(vi), ""), vbig, a, "");
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSGT, LLVMBuildLoad2(g->b, vi, vmax, ""), a), vmax);
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSLT, LLVMBuildLoad2(g->b, vi, vmin, ""), nz), vmin);
    loop_end(g, &l);
    LLVMValueRef t = loop_range(g, &l, LLVMBuildMul(g->b, nv, ci64(g, W), ""), cols);
    LLVMValueRef y = load_elem(g, DT_F32, out, LLVMBuildAdd(g->b, base, t, ""));
    LLVMBuildStore(g->b, LLVMBuildFAdd(g->b, LLVMBuildLoad2(g->b, g->f64, ssum, ""), LLVMBuildFPExt(g->b, y, g->f64, ""), ""), ssum);
    LLVMValueRef ya = LLVMBuildAnd(g->b, LLVMBuildBitCast(g->b, y, g->i32, ""), big, "");
    LLVMValueRef ynz = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, ya, ci32(g, 0), ""), big, ya, "");
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSGT, LLVMBuildLoad2(g->b, g->i32, smax, ""), ya), smax);
    LLVMBuildStore(g->b, imax_min(g, LLVMIntSLT, LLVMBuildLoad2(g->b, g->i32, smin, ""), ynz), smin);
    loop_end(g, &l);
    LLVMValueRef sum = LLVMBuildLoad2(g->b, g->f64, ssum, ""), hi = LLVMBuildLoad2(g->b, g->i32, smax, "");
    LLVMValueRef lo = LLVMBuildLoad2(g->b, g->i32, smin, "");
    LLVMValueRef vs = LLVMBuildLoad2(g->b, vd, vsum, ""), vh = LLVMBuildLoad2(g->b, vi, vmax, ""), vl = LLVMBuildLoad2(g->b, vi, vmin, "");
    for (int q = 0; q < W; q++) {   /* any order: the sum is used only where it is exact */
        LLVMValueRef iq = ci32(g, q);
        sum = LLVMBuildFAdd(g->b, sum, LLVMBuildExtractElement(g->b, vs, iq, ""), "");
        hi = imax_min(g, LLVMIntSGT, hi, LLVMBuildExtractElement(g->b, vh, iq, ""));
        lo = imax_min(g, LLVMIntSLT, lo, LLVMBuildExtractElement(g->b, vl, iq, ""));
    }
    LLVMBuildStore(g->b, sum, acc);
    /* E: lo's exponent field, at least 1 (lo = 0x7fffffff when every value is zero: E = 255, and
     * then hi = 0 passes); the bound 2^(E - 98) as a double built from its exponent */
    LLVMValueRef E = LLVMBuildLShr(g->b, lo, ci32(g, 23), "");
    E = imax_min(g, LLVMIntSGT, E, ci32(g, 1));
    LLVMValueRef bound = LLVMBuildBitCast(g->b, LLVMBuildShl(g->b, LLVMBuildZExt(g->b, LLVMBuildAdd(g->b, E, ci32(g, 1023 - 98), ""), g->i64, ""), ci64(g, 52), ""), g->f64, "");
    LLVMValueRef mx = LLVMBuildFPExt(g->b, LLVMBuildBitCast(g->b, hi, g->f32, ""), g->f64, "");
    LLVMValueRef need = LLVMBuildFMul(g->b, mx, LLVMBuildSIToFP(g->b, cols, g->f64, ""), "");
    LLVMValueRef ok = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, hi, ci32(g, 0x7f800000), ""),
                                   LLVMBuildFCmp(g->b, LLVMRealOLT, need, bound, ""), "");
    LLVMBasicBlockRef done;
    row_fast_fallback(g, ok, &done);
    return done;
}

/* KK_ROW, rows r in [lo, hi) of pro seen as [rows, cols]: per row the instructions in order; one
 * that is a value per row is computed once (a reduction: its own loop over the row, accumulating
 * as k_reduce does, so the bits are the interpreter's), one that varies along the row inside each
 * loop that needs it (recomputed, never stored); then one loop over the row writes the result
 * (a per-row result is stored once instead) and the extra outputs, which hold one value per
 * element. The loops over the row are flat and walk memory contiguously: the vectoriser widens
 * the final write. */
static void row_range(Cg *g, const Kernel *k, LLVMValueRef *argv, LLVMValueRef *pre, LLVMValueRef out,
                      LLVMValueRef *xout, LLVMValueRef lo, LLVMValueRef hi) {
    int n = k->nbody;
    uint8_t *lv = arena_alloc(&g->arena, (size_t)n + 1), *need = arena_alloc(&g->arena, (size_t)n + 1);
    k_row_levels(k, lv);
    LLVMValueRef *v = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)n + 1));
    LLVMValueRef *acc = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)n + 1));
    LLVMValueRef kmax = NULL, kmin = NULL, fa[6] = {0};    /* row_max_fast's, row_sum_fast's */
    for (int e = 0; e < n; e++)     /* accumulators in the entry block: promoted to registers */
        if (k_row_reduce(&k->body[e])) {
            DType dt = k->body[e].dt;
            acc[e] = LLVMBuildAlloca(g->b, k->body[e].op == OP_RMAX ? val_type(g, dt) : dt == DT_F32 ? g->f64 : g->i64, "acc");
            if (k->body[e].op == OP_RMAX && dt == DT_F32 && !kmax) {
                kmax = LLVMBuildAlloca(g->b, g->i32, "kmax");
                kmin = LLVMBuildAlloca(g->b, g->i32, "kmin");
            }
        }
    LLVMValueRef cols = dimv(g, k->pro.dim[k->pro.rank - 1]);
    /* keep: the operand of the last reduction, when the result is per element and needs it too
     * (softmax's exp(z - max), under its sum and its divide): the reduction's loop stores it into
     * out at each element (after reading that element), the writing loop reads it back instead of
     * computing it again: the same bits, one exp per element instead of two. Only when the
     * writing loop then needs no argument read through out (softmax in place over its scores
     * needs only exp(z - max)) and there are no extra outputs. */
    int keep = -1;
    for (int e = 0; e < n; e++)
        if (k_row_reduce(&k->body[e]))
            keep = (int)k->body[e].src[0];
    if (keep >= 0) {
        bool ok = k_row_per_element(k, &k->type) && !k->nx && !lv[keep] && k->body[keep].kind == KE_OP &&
                  k->body[keep].dt == k->type.dtype && !lv[n - 1] && n - 1 != keep;
        memset(need, 0, (size_t)n);
        if (ok)
            k_row_need(k, lv, n - 1, need);
        ok = ok && need[keep];
        if (ok) {   /* what the writing loop needs once keep is known */
            uint8_t *lk = arena_alloc(&g->arena, (size_t)n + 1);
            memcpy(lk, lv, (size_t)n);
            lk[keep] = 1;
            memset(need, 0, (size_t)n);
            k_row_need(k, lk, n - 1, need);
            for (int e = 0; ok && e < n; e++)
                ok = !(need[e] && k->body[e].kind == KE_ARG && out_slot(k, k->body[e].ref) >= 0);
        }
        if (!ok)
            keep = -1;
    }
    /* xkeep (a row kernel with extra outputs, fuse's merge_rows): a math-library call that a
     * reduction's loop and the writing loop both need (exp(z) under softmax's sum and in the
     * probabilities and the gradient) is stored by the first loop that computes it into a
     * per-element output that no argument reads through (its final value is written after, in
     * the writing loop), and read back by the later loops: one call per element, the same bits. */
    int xkeep = -1;
    LLVMValueRef kslot = NULL;
    uint8_t *lk = NULL;
    if (keep < 0 && k->nx) {
        uint8_t *wneed = arena_alloc(&g->arena, (size_t)n + 1), *rneed = arena_alloc(&g->arena, (size_t)n + 1);
        bool pe = k_row_per_element(k, &k->type);
        if (pe && !lv[n - 1])
            k_row_need(k, lv, n - 1, wneed);
        for (int x = 0; x < k->nx; x++)
            if (!lv[k->xexpr[x]] && !(k->xrow && k->xrow[x]))
                k_row_need(k, lv, k->xexpr[x], wneed);
        for (int e = 0; e < n; e++)
            if (k_row_reduce(&k->body[e]) && !lv[k->body[e].src[0]])
                k_row_need(k, lv, (int)k->body[e].src[0], rneed);
        for (int e = 0; e < n && xkeep < 0; e++) {
            const KExpr *x = &k->body[e];
            if (!wneed[e] || !rneed[e] || lv[e] || x->kind != KE_OP || !row_call(x))
                continue;
            for (int q = -1; q < k->nx && !kslot; q++) {    /* -1: out */
                if (q < 0 ? !pe || k->type.dtype != x->dt
                          : (k->xrow && k->xrow[q]) || k->body[k->xexpr[q]].dt != x->dt)
                    continue;
                bool read = false;
                for (int a = 0; a < k->nargs; a++)
                    read |= out_slot(k, a) == q + 1;
                if (!read)
                    kslot = q < 0 ? out : xout[q];
            }
            if (kslot)
                xkeep = e;
        }
        if (xkeep >= 0) {
            lk = arena_alloc(&g->arena, (size_t)n + 1);
            memcpy(lk, lv, (size_t)n);
            lk[xkeep] = 1;
        }
    }
    bool kstored = false;   /* xkeep's value is in kslot for this row */
    Loop l, lc;
    LLVMValueRef r = loop_range(g, &l, lo, hi);
    LLVMValueRef base = LLVMBuildMul(g->b, r, cols, "");
    /* causal (compiler/passes/causal.c): row r is query i = r mod T; the loops cover the columns
     * j <= i rounded up to a multiple of rw = 8 (rcols: whole vectors, the loops not interleaved,
     * so no scalar remainder runs, whose stores into the stage, read back as vectors, stalled store
     * forwarding) and the result is 0 after them (stored unless K_CAUSAL_ROW_IN_PLACE). A kernel
     * with a math function (softmax's exp) rounds up to rw = 16 instead and its stage loop takes
     * two vectors an iteration: the exp's long dependency chain is what bounds that loop, and two
     * independent chains took 12% fewer samples in the softmax of bench's tiny_transformer than
     * one, with the extra columns. The masked columns up to rcols are computed as the unmarked
     * kernel would (-inf or 0 under the reductions, 0 in the result); runtime/bmm.c computes them
     * in a product marked causal out (rw <= NNC_CAUSAL_BLOCK) */
    LLVMValueRef rcols = cols;
    int64_t rw = k->causal && math_calls(k) ? 16 : 8;
    if (k->causal) {
        LLVMValueRef q = LLVMBuildAdd(g->b, LLVMBuildURem(g->b, r, dimv(g, k->pro.dim[k->pro.rank - 2]), ""), ci64(g, 1), "");
        q = LLVMBuildAnd(g->b, LLVMBuildAdd(g->b, q, ci64(g, rw - 1), ""), ci64(g, ~(int64_t)(rw - 1)), "");
        rcols = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, q, cols, ""), q, cols, "");
    }
    for (int e = 0; e < n; e++) {
        const KExpr *x = &k->body[e];
        if (!lv[e])
            continue;
        if (x->kind == KE_ARG) {
            const KArg *ar = &k->args[x->ref];
            v[e] = ar->kind == KA_VAL    ? argv[x->ref]
                   : ar->kind == KA_BUF0 ? pre[x->ref]
                                         : load_elem(g, ar->type.dtype, argv[x->ref], r);
            continue;
        }
        if (!k_row_reduce(x)) {
            LLVMValueRef sv[IR_MAXSRC] = {0};
            for (int q = 0; q < ir_op_nsrc[x->op]; q++)
                sv[q] = v[x->src[q]];
            IrNode nd = {.op = x->op, .type = {.dtype = x->dt}};
            v[e] = scalar_op(g, &nd, x->sdt, sv);
            continue;
        }
        bool max = x->op == OP_RMAX, f32 = x->dt == DT_F32;
        LLVMTypeRef aty = max ? val_type(g, x->dt) : f32 ? g->f64 : g->i64;
        LLVMValueRef init =
            max ? (f32 ? cf32(g, -__builtin_inf()) : ci32(g, INT32_MIN)) : f32 ? LLVMConstReal(g->f64, 0) : ci64(g, 0);
        memset(need, 0, (size_t)n);
        uint32_t s = x->src[0];
        const uint8_t *ll = kstored ? lk : lv;
        if (!ll[s])
            k_row_need(k, ll, (int)s, need);
        bool load_k = false, store_k = false;
        if (xkeep >= 0 && kstored) {    /* read back where this loop uses it */
            load_k = (int)s == xkeep;
            for (int q = 0; q < n && !load_k; q++)
                if (need[q] && k->body[q].kind == KE_OP)
                    for (int t = 0; t < (k_row_reduce(&k->body[q]) ? 1 : ir_op_nsrc[k->body[q].op]); t++)
                        load_k |= (int)k->body[q].src[t] == xkeep;
        } else if (xkeep >= 0) {
            store_k = need[xkeep];
        }
        /* the fast passes (row_max_fast, row_sum_fast): the ordered loop below only for the rows
         * where another order could change a bit */
        LLVMBasicBlockRef fdone = NULL;
        if (max && f32 && kmax && !load_k && !store_k && (int)s != keep && !g->row_ordered)
            fdone = row_max_fast(g, k, ll, need, v, argv, pre, out, base, rcols, (int)s, acc[e], kmax, kmin);
        if ((int)s != keep)
            LLVMBuildStore(g->b, init, acc[e]);
        /* stage: where the sum's operand is stored by a loop of its own and read back by
         * row_sum_fast and the ordered loop: out (the kept operand), or for another f32 sum over
         * rows of a known length (layer norm's mean and variance) a buffer on the stack */
        LLVMValueRef stage = (int)s == keep ? out : NULL, sbase = base;
        int64_t ncols = LLVMIsAConstantInt(cols) ? LLVMConstIntGetSExtValue(cols) : 0;
        if (!max && f32 && !stage && !load_k && !store_k && !g->row_ordered && k->body[s].dt == DT_F32 &&
            ncols >= 8 && ncols <= 4096) {
            LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
            LLVMValueRef first = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(g->fn));
            LLVMPositionBuilderBefore(g->b, first);
            LLVMValueRef buf = LLVMBuildAlloca(g->b, LLVMArrayType(g->f32, (unsigned)ncols), "stage");
            LLVMSetAlignment(buf, 32);
            stage = LLVMBuildBitCast(g->b, buf, g->i8p, "");
            LLVMPositionBuilderAtEnd(g->b, here);
            sbase = ci64(g, 0);
        }
        LLVMValueRef c = loop_begin(g, &lc, rcols);
        LLVMValueRef ie = LLVMBuildAdd(g->b, base, c, "");
        if (load_k)
            v[xkeep] = load_elem(g, k->body[xkeep].dt, kslot, ie);
        row_elems(g, k, ll, need, v, argv, pre, out, ie, c);
        if (store_k)
            store_elem(g, k->body[xkeep].dt, kslot, ie, v[xkeep]);
        LLVMValueRef y = v[s];
        if (stage) {
            /* the kept operand in a loop of its own, which the vectoriser widens (the ordered sum
             * below keeps a loop scalar, and softmax's exp with it); the sum reads it back */
            store_elem(g, k->body[s].dt, stage, LLVMBuildAdd(g->b, sbase, c, ""), v[s]);
            loop_end(g, &lc);
            if (k->causal)
                loop_hint(g, &lc, "llvm.loop.interleave.count", rw / 8);
            if (!max && f32 && !g->row_ordered) {
                if (!fa[0]) {   /* row_sum_fast's accumulators, in the entry block */
                    LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
                    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(g->fn);
                    LLVMValueRef first = LLVMGetFirstInstruction(entry);
                    if (first)
                        LLVMPositionBuilderBefore(g->b, first);
                    else
                        LLVMPositionBuilderAtEnd(g->b, entry);
                    LLVMTypeRef ty[6] = {LLVMVectorType(g->f64, 8), LLVMVectorType(g->i32, 8), LLVMVectorType(g->i32, 8),
                                         g->f64, g->i32, g->i32};
                    for (int q = 0; q < 6; q++)
                        fa[q] = LLVMBuildAlloca(g->b, ty[q], "fsum");
                    LLVMPositionBuilderAtEnd(g->b, here);
                }
                fdone = row_sum_fast(g, stage, sbase, rcols, acc[e], fa);
            }
            LLVMBuildStore(g->b, init, acc[e]);
            c = loop_begin(g, &lc, rcols);
            y = load_elem(g, k->body[s].dt, stage, LLVMBuildAdd(g->b, sbase, c, ""));
        }
        LLVMValueRef a = LLVMBuildLoad2(g->b, aty, acc[e], ""), sum;
        if (max) {
            IrNode mx = {.op = OP_MAX, .type = {.dtype = x->dt}};
            sum = scalar_op(g, &mx, x->dt, (LLVMValueRef[]){a, y, NULL});
        } else {
            sum = f32 ? LLVMBuildFAdd(g->b, a, LLVMBuildFPExt(g->b, y, g->f64, ""), "")
                      : LLVMBuildAdd(g->b, a, LLVMBuildSExt(g->b, y, g->i64, ""), "");
        }
        LLVMBuildStore(g->b, sum, acc[e]);
        loop_end(g, &lc);
        if (k->causal)
            loop_no_interleave(g, &lc);
        if (fdone) {
            LLVMBuildBr(g->b, fdone);
            LLVMPositionBuilderAtEnd(g->b, fdone);
        }
        kstored |= store_k;
        v[e] = LLVMBuildLoad2(g->b, aty, acc[e], "");
        if (!max)
            v[e] = f32 ? LLVMBuildFPTrunc(g->b, v[e], g->f32, "") : LLVMBuildTrunc(g->b, v[e], g->i32, "");
    }
    /* the result: one value per row, stored here, or per element (a value per row is written to
     * each element of its row), stored by one more loop over the row with the extra outputs */
    bool per_elem = k_row_per_element(k, &k->type);
    if (!per_elem)
        store_elem(g, k->type.dtype, out, r, v[n - 1]);
    int nxe = 0;    /* extra outputs per element; those per row (xrow) are stored here once */
    for (int x = 0; x < k->nx; x++) {
        if (k->xrow && k->xrow[x])
            store_elem(g, k->body[k->xexpr[x]].dt, xout[x], r, v[k->xexpr[x]]);
        else
            nxe++;
    }
    if (per_elem || nxe) {
        /* the kept operand counts as known in this loop: read from out, not recomputed */
        uint8_t *lw = kstored ? lk : lv;
        if (keep >= 0) {
            lw = arena_alloc(&g->arena, (size_t)n + 1);
            memcpy(lw, lv, (size_t)n);
            lw[keep] = 1;
        }
        memset(need, 0, (size_t)n);
        if (per_elem && !lw[n - 1])
            k_row_need(k, lw, n - 1, need);
        for (int x = 0; x < k->nx; x++)
            if (!lw[k->xexpr[x]] && !(k->xrow && k->xrow[x]))
                k_row_need(k, lw, k->xexpr[x], need);
        LLVMValueRef c = loop_begin(g, &lc, rcols);
        LLVMValueRef i = LLVMBuildAdd(g->b, base, c, "");
        if (keep >= 0)
            v[keep] = load_elem(g, k->type.dtype, out, i);
        if (kstored)
            v[xkeep] = load_elem(g, k->body[xkeep].dt, kslot, i);
        row_elems(g, k, lw, need, v, argv, pre, out, i, c);
        for (int x = 0; x < k->nx; x++)
            if (!(k->xrow && k->xrow[x]))
                store_elem(g, k->body[k->xexpr[x]].dt, xout[x], i, v[k->xexpr[x]]);
        if (per_elem)
            store_elem(g, k->type.dtype, out, i, v[n - 1]);
        loop_end(g, &lc);
        if (k->causal)
            loop_no_interleave(g, &lc);
        if (k->causal == K_CAUSAL_ROW || k->causal == K_CAUSAL_ROW_BAND) {
            /* the masked columns: 0 (causal.c: no extra outputs); K_CAUSAL_ROW_IN_PLACE: they hold 0
             * already; K_CAUSAL_ROW_BAND: up to i rounded up to NNC_CAUSAL_BLOCK, the most read */
            LLVMValueRef end = cols;
            if (k->causal == K_CAUSAL_ROW_BAND) {
                LLVMValueRef q = LLVMBuildAdd(g->b, LLVMBuildURem(g->b, r, dimv(g, k->pro.dim[k->pro.rank - 2]), ""),
                                              ci64(g, NNC_CAUSAL_BLOCK), "");
                q = LLVMBuildAnd(g->b, q, ci64(g, -(int64_t)NNC_CAUSAL_BLOCK), "");
                end = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, q, cols, ""), q, cols, "");
            }
            c = loop_range(g, &lc, rcols, end);
            store_elem(g, k->type.dtype, out, LLVMBuildAdd(g->b, base, c, ""), const_val(g, k->type.dtype, 0));
            loop_end(g, &lc);
        }
    }
    loop_end(g, &l);
}

/* The kernel around range(params[0..np), lo, hi), which computes the leading indices [lo, hi)
 * of `space` (the product of its first `lead` dims): the kernel (params, pool) calls range over
 * all of them itself, or splits them into chunks through nnc_parallel_for when there is a pool
 * and space holds at least PAR_MIN_ELEMS elements; name.chunk(ctx, lo, hi) unpacks the params
 * from ctx and calls range. params ends with B; pt and noalias have room for np + 2. */
static LLVMValueRef split_by_lead(Cg *g, const char *name, LLVMValueRef range, LLVMTypeRef *pt, bool *noalias,
                                  int np, const IrType *space, int lead, int64_t min_elems) {
    LLVMValueRef *cargs = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)np + 2));
    LLVMTypeRef range_ty = LLVMGlobalGetValueType(range);
    LLVMTypeRef cty = LLVMStructTypeInContext(g->ctx, pt, (unsigned)np, 0);
    LLVMTypeRef chpt[3] = {g->i8p, g->i64, g->i64};
    LLVMValueRef chunk = new_fn(g, arena_printf(&g->arena, "%s.chunk", name), chpt, 3, NULL);
    Saved sv = enter_fn(g, chunk);
    LLVMValueRef cp = LLVMBuildBitCast(g->b, LLVMGetParam(chunk, 0), LLVMPointerType(cty, 0), "");
    for (int a = 0; a < np; a++)
        cargs[a] = LLVMBuildLoad2(g->b, pt[a], LLVMBuildStructGEP2(g->b, cty, cp, (unsigned)a, ""), "");
    cargs[np] = LLVMGetParam(chunk, 1);
    cargs[np + 1] = LLVMGetParam(chunk, 2);
    LLVMBuildCall2(g->b, range_ty, range, cargs, (unsigned)np + 2, "");
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);

    pt[np] = g->i8p;    /* the kernel: out, args, B, pool */
    noalias[np] = false;
    LLVMValueRef kern = new_fn(g, name, pt, np + 1, noalias);
    sv = enter_fn(g, kern);
    LLVMValueRef ctxp = LLVMBuildAlloca(g->b, cty, "ctx");
    for (int a = 0; a < np; a++)
        cargs[a] = LLVMGetParam(kern, (unsigned)a);
    g->B = cargs[np - 1];
    LLVMValueRef kpool = LLVMGetParam(kern, (unsigned)np);
    LLVMValueRef total = numelv(g, space), n = total;     /* n: range's extent */
    if (lead < space->rank) {
        n = ci64(g, 1);
        for (int d = 0; d < lead; d++)
            n = LLVMBuildMul(g->b, n, dimv(g, space->dim[d]), "");
    }
    LLVMValueRef par = LLVMBuildAnd(g->b, LLVMBuildIsNotNull(g->b, kpool, ""),
                                    LLVMBuildICmp(g->b, LLVMIntSGE, total, ci64(g, min_elems), ""), "");
    LLVMBasicBlockRef pb = LLVMAppendBasicBlockInContext(g->ctx, kern, "parallel");
    LLVMBasicBlockRef sb = LLVMAppendBasicBlockInContext(g->ctx, kern, "serial");
    LLVMBuildCondBr(g->b, par, pb, sb);
    LLVMPositionBuilderAtEnd(g->b, sb);
    cargs[np] = ci64(g, 0);
    cargs[np + 1] = n;
    LLVMBuildCall2(g->b, range_ty, range, cargs, (unsigned)np + 2, "");
    LLVMBuildRetVoid(g->b);
    LLVMPositionBuilderAtEnd(g->b, pb);
    for (int a = 0; a < np; a++)
        LLVMBuildStore(g->b, cargs[a], LLVMBuildStructGEP2(g->b, cty, ctxp, (unsigned)a, ""));
    LLVMTypeRef chunk_ptr = LLVMPointerType(LLVMGlobalGetValueType(chunk), 0);
    LLVMTypeRef ppt[4] = {g->i8p, g->i64, chunk_ptr, g->i8p};
    LLVMValueRef pf = declare(g, "nnc_parallel_for", g->vd, ppt, 4, false);
    LLVMValueRef pargs[4] = {kpool, n, chunk, LLVMBuildBitCast(g->b, ctxp, g->i8p, "")};
    call(g, pf, pargs, 4);
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    return kern;
}

/* The fewest elements for which kernel k's loop goes to the thread pool: PAR_MIN_ELEMS for cheap
 * arithmetic, fewer when each element calls the math library (atan, sin ... scalar calls of some
 * 10-20 ns) or runs ir_math.h's exp, tanh, erf ... (inline and vectorised, some 20-40 operations
 * each: an LSTM cell's [32, 256] gates still cost more than waking the workers). */
static int64_t par_min_elems(const Kernel *k) {
    int calls = math_calls(k);
    int64_t n = PAR_MIN_ELEMS / (1 + 8 * (int64_t)calls);
    return n < PAR_MIN_CALL_ELEMS ? PAR_MIN_CALL_ELEMS : n;
}

/* The interleave count of an elementwise loop whose body runs a math function (GELU's erf, its
 * derivative's exp in a GEMM epilogue, an LSTM's sigmoid and tanh): LLVM's cost model picks 1 for
 * these long bodies (register pressure), and one vector's polynomial is a dependency chain of
 * some 25 operations that the out-of-order core overlaps with the next iteration's only in part.
 * Four independent vectors an iteration: the GELU kernel of bench's tiny_transformer took 8% fewer
 * samples, its derivative's epilogue 29% fewer (docs/backend-llvm.md "Math functions"). */
#define ELEM_MATH_INTERLEAVE 4

/* An elementwise kernel becomes three functions: NAME.range(out, args, B, lo, hi) runs the flat
 * loop over [lo, hi) (or, when it reads a row or column broadcast, rows [lo, hi) of the result
 * seen as [rows, last dim], the inner loop over the columns so it still vectorises); NAME.chunk(ctx, lo, hi) unpacks the parameters from a struct and calls it,
 * the shape nnc_parallel_for wants; NAME(out, args, B, pool) runs range(0, n) inline, or the
 * chunks through nnc_parallel_for when there is a pool and n >= PAR_MIN_ELEMS. Chunks are
 * contiguous and each element's math does not depend on the split, so these loops give the same
 * bits with any thread count (whole steps still differ in the last bits across thread counts:
 * OpenBLAS's summation order depends on its own thread count). Returns NAME's function. */
static LLVMValueRef emit_elementwise(Cg *g, const KGraph *kg, const Kernel *k, const char *name) {
    (void)kg;
    int na = k->nargs;
    bool two_d = false, row = k->kind == KK_ROW;   /* row: a loop over rows, see row_range */
    for (int a = 0; a < na; a++)
        two_d |= k->args[a].kind == KA_ROW || k->args[a].kind == KA_COL || k->args[a].kind == KA_WIN;
    /* parameters: out, the extra outputs, the arguments not read through an output, B; then lo,
     * hi (range) or pool */
    int nmax = na + k->nx + 4;
    LLVMTypeRef *pt = arena_alloc(&g->arena, sizeof(LLVMTypeRef) * (size_t)nmax);
    int *pidx = arena_alloc(&g->arena, sizeof(int) * (size_t)(na + 1));
    bool *noalias = arena_alloc(&g->arena, (size_t)nmax);
    int np = 0;
    pt[np] = g->i8p, noalias[np++] = true;
    for (int x = 0; x < k->nx; x++)
        pt[np] = g->i8p, noalias[np++] = true;
    for (int a = 0; a < na; a++) {
        pidx[a] = -1;
        if (out_slot(k, a) >= 0)
            continue;
        pidx[a] = np;
        np = arg_param(g, &k->args[a], pt, noalias, np);
    }
    pt[np++] = g->i64;  /* B */
    pt[np] = pt[np + 1] = g->i64;
    LLVMValueRef range = new_fn(g, arena_printf(&g->arena, "%s.range", name), pt, np + 2, noalias);
    Saved sv = enter_fn(g, range);
    LLVMValueRef out = LLVMGetParam(range, 0);
    LLVMValueRef *pre = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(na + 1));
    for (int a = 0; a < na; a++)
        if (k->args[a].kind == KA_BUF0)
            pre[a] = load_elem(g, k->args[a].type.dtype, LLVMGetParam(range, (unsigned)pidx[a]), ci64(g, 0));
    g->B = LLVMGetParam(range, (unsigned)np - 1);
    /* flat: i in [lo, hi); with row/col broadcasts: rows r in [lo, hi), columns c in [0, cols) */
    Loop l, lc;
    LLVMValueRef i = NULL, r = NULL, c = NULL, cols = NULL;
    LLVMValueRef lo = LLVMGetParam(range, (unsigned)np), hi = LLVMGetParam(range, (unsigned)np + 1);
    LLVMValueRef *argv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(na + 1));
    for (int a = 0; a < na; a++) {
        int os = out_slot(k, a);
        argv[a] = os > 0 ? LLVMGetParam(range, (unsigned)os) : os == 0 ? NULL : LLVMGetParam(range, (unsigned)pidx[a]);
    }
    if (row) {
        LLVMValueRef *xout = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(k->nx + 1));
        for (int x = 0; x < k->nx; x++)
            xout[x] = LLVMGetParam(range, (unsigned)(1 + x));
        row_range(g, k, argv, pre, out, xout, lo, hi);
    } else if (two_d) {
        cols = dimv(g, k->type.dim[k->type.rank - 1]);
        r = loop_range(g, &l, lo, hi);
        LLVMValueRef base = LLVMBuildMul(g->b, r, cols, "");
        c = loop_begin(g, &lc, cols);
        i = LLVMBuildAdd(g->b, base, c, "");
    } else {
        i = loop_range(g, &l, lo, hi);
    }
    if (!row) {
        LLVMValueRef *vals = body_values(g, k, argv, pre, out, i, r, c);
        LLVMValueRef res = vals[k->nbody - 1];
        for (int x = 0; x < k->nx; x++)
            store_elem(g, k->body[k->xexpr[x]].dt, LLVMGetParam(range, (unsigned)(1 + x)), i, vals[k->xexpr[x]]);
        store_elem(g, k->type.dtype, out, i, res);
        if (two_d)
            loop_end(g, &lc);
        loop_end(g, &l);
        if (math_calls(k))
            loop_hint(g, two_d ? &lc : &l, "llvm.loop.interleave.count", ELEM_MATH_INTERLEAVE);
    }
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    const IrType *space = row ? &k->pro : &k->type;
    return split_by_lead(g, name, range, pt, noalias, np, space, two_d || row ? space->rank - 1 : space->rank,
                         par_min_elems(k));
}

/* A pool kernel: out, its arguments, B, pool. Samples never share output memory and each keeps
 * the interpreter's order of operations, so the batch is split into chunks of samples
 * (split_by_lead, as emit_elementwise splits elements or rows): .range(out, args, B, lo, hi)
 * computes samples [lo, hi). */
static LLVMValueRef emit_pool_kernel(Cg *g, const Kernel *k, const char *name) {
    int na = k->nargs, np = 0;
    LLVMTypeRef *pt = arena_alloc(&g->arena, sizeof(LLVMTypeRef) * ((size_t)na + 4));
    bool *noalias = arena_alloc(&g->arena, (size_t)na + 4);
    pt[np] = g->i8p, noalias[np++] = true;
    for (int a = 0; a < na; a++)
        np = arg_param(g, &k->args[a], pt, noalias, np);
    pt[np++] = g->i64;  /* B */
    pt[np] = pt[np + 1] = g->i64;
    LLVMValueRef range = new_fn(g, arena_printf(&g->arena, "%s.range", name), pt, np + 2, noalias);
    Saved sv = enter_fn(g, range);
    KEnv e = {.k = k, .out = LLVMGetParam(range, 0)};
    e.argv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)na + 1));
    for (int a = 0; a < na; a++) {
        e.argv[a] = LLVMGetParam(range, (unsigned)a + 1);
        if (a < IR_MAXSRC)
            e.src[a] = e.argv[a];
    }
    g->B = LLVMGetParam(range, (unsigned)np - 1);
    e.lo = LLVMGetParam(range, (unsigned)np);
    e.hi = LLVMGetParam(range, (unsigned)np + 1);
    k_pool(g, &e);
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    const IrType *xt = k->op == OP_MAXPOOL_BWD || k->op == OP_AVGPOOL_BWD ? &k->type : k->nbody ? &k->pro : &k->args[0].type;
    return split_by_lead(g, name, range, pt, noalias, np, xt, 1, PAR_MIN_ELEMS);
}

/* The function of a fill, structured-op or GEMM kernel: out, the argument buffers (or the fill
 * value), B, [seed]. */
static LLVMValueRef emit_op_kernel(Cg *g, const Kernel *k, const char *name) {
    LLVMTypeRef *pt = arena_alloc(&g->arena, sizeof(LLVMTypeRef) * ((size_t)k->nargs + 6));
    bool *isptr = arena_alloc(&g->arena, (size_t)k->nargs + 6);
    int np = 0;
    pt[np] = g->i8p, isptr[np++] = true;
    if (k->kind == KK_CONV && k->nx == 1)       /* the im2col scratch, after out as call_kernel passes it */
        pt[np] = g->i8p, isptr[np++] = true;
    for (int a = 0; a < k->nargs; a++) {
        if (k->args[a].kind == KA_VAL)
            pt[np++] = val_type(g, k->args[a].type.dtype);
        else
            pt[np] = g->i8p, isptr[np++] = true;
    }
    pt[np++] = g->i64;
    if (k->op == OP_RAND && k->kind == KK_OP)
        pt[np++] = g->i64;
    if (is_window(k))
        pt[np++] = g->i64;
    if (k->kind == KK_CONV || k->kind == KK_GEMM || op_takes_pool(k))   /* the thread pool, as elementwise kernels get it */
        pt[np] = g->i8p, isptr[np++] = false;
    bool packed = k->kind == KK_GEMM && g->pk_handle;   /* its group's handle and repack flag */
    if (packed) {
        pt[np] = g->i8pp, isptr[np++] = false;
        pt[np] = g->i32, isptr[np++] = false;
    }
    LLVMValueRef fn = new_fn(g, name, pt, np, isptr);
    Saved sv = enter_fn(g, fn);
    KEnv e = {.k = k};
    int a = 0;
    e.out = LLVMGetParam(fn, (unsigned)a++);
    LLVMValueRef scratch = k->kind == KK_CONV && k->nx == 1 ? LLVMGetParam(fn, (unsigned)a++) : NULL;
    LLVMValueRef fillv = NULL;
    e.argv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)k->nargs + 1));
    for (int s = 0; s < k->nargs; s++) {
        e.argv[s] = LLVMGetParam(fn, (unsigned)a++);
        if (k->args[s].kind == KA_VAL)
            fillv = e.argv[s];
        else if (s < IR_MAXSRC)
            e.src[s] = e.argv[s];
    }
    g->B = LLVMGetParam(fn, (unsigned)a++);
    if (k->op == OP_RAND && k->kind == KK_OP)
        e.seed = LLVMGetParam(fn, (unsigned)a++);
    if (is_window(k))
        e.start = LLVMGetParam(fn, (unsigned)a++);
    LLVMValueRef pool = k->kind == KK_CONV || k->kind == KK_GEMM || op_takes_pool(k) ? LLVMGetParam(fn, (unsigned)a++) : NULL;
    e.pool = pool;
    if (packed) {
        e.pack = LLVMGetParam(fn, (unsigned)a++);
        e.repack = LLVMGetParam(fn, (unsigned)a++);
    }
    if (k->kind == KK_FILL)
        k_fill(g, &e, fillv);
    else if (k->kind == KK_GEMM)
        k_matmul(g, &e);
    else if (k->kind == KK_CONV)
        k_conv(g, &e, scratch, pool);
    else
        switch ((Op)k->op) {
        case OP_RAND: k_rand(g, &e); break;
        case OP_BROADCAST: k_broadcast(g, &e); break;
        case OP_RESHAPE: /* of a value that needs no buffer cannot happen; a copy otherwise */
            LLVMBuildMemCpy(g->b, e.out, 1, e.src[0], 1, bytesv(g, &k->type));
            break;
        case OP_TRANSPOSE: k_transpose(g, &e); break;
        case OP_SLICE: k_slice(g, &e, false); break;
        case OP_UNSLICE: k_slice(g, &e, true); break;
        case OP_CONCAT: k_concat(g, &e); break;
        case OP_SUM: k_reduce(g, &e, false); break;
        case OP_RMAX: k_reduce(g, &e, true); break;
        case OP_ONE_HOT: case OP_GATHER: case OP_SCATTER_ADD: k_index(g, &e); break;
        default: die("llvm backend: no kernel for op %s", ir_op_name[k->op]);
        }
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    return fn;
}

/* The epilogue of a library-call kernel alone: an elementwise kernel over the result, its
 * arguments those after the call's first two (out and the first operand). */
static Kernel epilogue_alone(Cg *g, const Kernel *k) {
    Kernel e = *k;
    e.kind = KK_ELEM;
    e.args = k->args + 2;
    e.nargs = k->nargs - 2;
    e.body = arena_alloc(&g->arena, sizeof(KExpr) * (size_t)k->nbody);
    for (int b = 0; b < k->nbody; b++) {
        e.body[b] = k->body[b];
        if (e.body[b].kind == KE_ARG)
            e.body[b].ref -= 2;
    }
    return e;
}

/* A GEMM with an epilogue (docs/kernels.md "GEMM epilogues"): out, the operands, the epilogue's
 * arguments not read through out, B, pool. The GEMM over all of C, then the epilogue as the
 * elementwise kernel of its own (parallel when large). Running the epilogue on blocks of rows of
 * C right after the GEMM computed each (while the block is in L2) was measured slower on both
 * bench models (docs/backend-llvm.md), so C is not split. */
static LLVMValueRef emit_gemm_epilogue(Cg *g, const KGraph *kg, const Kernel *k, const char *name) {
    Kernel e = epilogue_alone(g, k);
    LLVMValueRef epi = emit_elementwise(g, kg, &e, arena_printf(&g->arena, "%s.epi", name));
    int np = 0, na = e.nargs;
    LLVMTypeRef *pt = arena_alloc(&g->arena, sizeof(LLVMTypeRef) * (size_t)(k->nargs + 6));
    bool *noalias = arena_alloc(&g->arena, (size_t)k->nargs + 6);
    for (int a = 0; a < 3; a++)                 /* out, A, B */
        pt[np] = g->i8p, noalias[np++] = true;
    for (int a = 0; a < na; a++) {
        if (out_slot(&e, a) >= 0)
            continue;
        np = arg_param(g, &e.args[a], pt, noalias, np);
    }
    pt[np] = g->i64, noalias[np++] = false;     /* B */
    pt[np] = g->i8p, noalias[np++] = false;     /* pool */
    int nown = np;                              /* the parameters the epilogue shares */
    if (g->pk_handle) {                         /* a packed-weight group's handle and repack flag */
        pt[np] = g->i8pp, noalias[np++] = false;
        pt[np] = g->i32, noalias[np++] = false;
    }
    LLVMValueRef fn = new_fn(g, name, pt, np, noalias);
    Saved sv = enter_fn(g, fn);
    g->B = LLVMGetParam(fn, (unsigned)nown - 2);
    KEnv ke = {.k = k, .out = LLVMGetParam(fn, 0), .pool = LLVMGetParam(fn, (unsigned)nown - 1)};
    if (g->pk_handle) {
        ke.pack = LLVMGetParam(fn, (unsigned)nown);
        ke.repack = LLVMGetParam(fn, (unsigned)nown + 1);
    }
    ke.src[0] = LLVMGetParam(fn, 1);
    ke.src[1] = LLVMGetParam(fn, 2);
    k_matmul(g, &ke);
    /* the epilogue's parameters: out, its arguments not read through out, B, pool */
    LLVMValueRef *eargs = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)np);
    int ne = 0;
    eargs[ne++] = ke.out;
    for (int p = 3; p < nown; p++)
        eargs[ne++] = LLVMGetParam(fn, (unsigned)p);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(epi), epi, eargs, (unsigned)ne, "");
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    return fn;
}

/* ---- convolution epilogues (docs/backend-llvm.md "Convolution epilogues") ----
 * A forward conv kernel's body (plan.c) is run by the library call itself when it has the form
 * act(a[f] * y + b[f]): y the convolution's output, a and b per output channel f (computed from
 * column arguments, values and constants: a bias, an inference batchnorm's running statistics,
 * scale and shift), act one of the activations of stdlib/nn.nn that oneDNN has as an eltwise
 * post-op. The kernel computes a and b for the F channels once a call and hands them to
 * nnc_conv_forward_ep, which folds a into the weights and b into the bias; where the runtime
 * cannot (the im2col path, groups, no oneDNN) it returns 0 and the body runs as the elementwise
 * epilogue function right after the convolution, as a GEMM's does. */

typedef struct ConvEpi {
    const KGraph *kg;
    const Kernel *e;    /* the epilogue alone, an elementwise kernel (arguments from 0) */
} ConvEpi;

/* body instruction i reads the convolution's output */
static bool ce_y(const ConvEpi *c, uint32_t i) {
    const KExpr *x = &c->e->body[i];
    return x->kind == KE_ARG && c->e->args[x->ref].kind == KA_BUF && c->e->args[x->ref].ref == c->e->out;
}

/* body instruction i is one f32 value per output channel: column arguments, values, one-element
 * buffers and math on them */
static bool ce_chan(const ConvEpi *c, uint32_t i) {
    const KExpr *x = &c->e->body[i];
    if (x->kind == KE_ARG) {
        const KArg *a = &c->e->args[x->ref];
        return (a->kind == KA_COL || a->kind == KA_VAL || a->kind == KA_BUF0) && a->type.dtype == DT_F32 &&
               x->dt == DT_F32;
    }
    if (x->kind != KE_OP)
        return false;
    for (int s = 0; s < ir_op_nsrc[x->op]; s++)
        if (!ce_chan(c, x->src[s]))
            return false;
    return true;
}

/* the compile-time value of instruction i, when it reads a constant value */
static bool ce_const(const ConvEpi *c, uint32_t i, double *v) {
    const KExpr *x = &c->e->body[i];
    if (x->kind != KE_ARG || c->e->args[x->ref].kind != KA_VAL)
        return false;
    const KExpr *val = &c->kg->vals[c->e->args[x->ref].ref];
    if (val->kind != KE_CONST || val->dt != DT_F32)
        return false;
    *v = val->f;
    return true;
}

static bool ce_is(const ConvEpi *c, uint32_t i, double want) {
    double v;
    return ce_const(c, i, &v) && (float)v == (float)want;
}

/* Instruction i is a[f] * y + b[f]; *a1: a is 1, *b0: b is 0 (known at compile time). */
static bool ce_affine(const ConvEpi *c, uint32_t i, bool *a1, bool *a0, bool *b0) {
    const KExpr *x = &c->e->body[i];
    if (ce_y(c, i)) {
        *a1 = true, *a0 = false, *b0 = true;
        return x->dt == DT_F32;
    }
    if (ce_chan(c, i)) {
        *a1 = false, *a0 = true, *b0 = false;
        return true;
    }
    if (x->kind != KE_OP || x->dt != DT_F32)
        return false;
    bool p1, p0, pb, q1, q0, qb;
    switch ((Op)x->op) {
    case OP_ADD: case OP_SUB:
        if (!ce_affine(c, x->src[0], &p1, &p0, &pb) || !ce_affine(c, x->src[1], &q1, &q0, &qb))
            return false;
        *a1 = (p1 && q0) || (x->op == OP_ADD && p0 && q1);
        *a0 = p0 && q0;
        *b0 = pb && qb;
        return !*a0;    /* y must take part */
    case OP_NEG:
        if (!ce_affine(c, x->src[0], &p1, &p0, &pb))
            return false;
        *a1 = false, *a0 = p0, *b0 = pb;
        return true;
    case OP_MUL: case OP_DIV:
        for (int s = 0; s < 2; s++) {   /* affine times (or over) one value per channel */
            if (s == 1 && x->op == OP_DIV)
                break;
            if (ce_chan(c, x->src[1 - s]) && ce_affine(c, x->src[s], &p1, &p0, &pb) && !p0) {
                *a1 = false, *a0 = false, *b0 = pb;
                return true;
            }
        }
        return false;
    default: return false;
    }
}

/* instruction i is op(*p, *q) (callers try both orders where op commutes) */
static bool ce_op(const ConvEpi *c, uint32_t i, Op op, uint32_t *p, uint32_t *q) {
    const KExpr *x = &c->e->body[i];
    if (x->kind != KE_OP || x->op != op)
        return false;
    *p = x->src[0], *q = x->src[1];
    return true;
}

/* gt(z, 0): *z */
static bool ce_pos(const ConvEpi *c, uint32_t i, uint32_t *z) {
    uint32_t p, q;
    return ce_op(c, i, OP_GT, &p, &q) && ce_is(c, q, 0.0) && (*z = p, true);
}

/* 0.5 * z * (1 + inner): the two GELUs; *inner */
static bool ce_half_z(const ConvEpi *c, uint32_t i, uint32_t z, uint32_t *inner) {
    uint32_t p, q, h, y, one, t;
    if (!ce_op(c, i, OP_MUL, &p, &q))
        return false;
    for (int s = 0; s < 2; s++, h = p, p = q, q = h) {
        /* p = mul(0.5, z), q = add(1, inner) */
        if (ce_op(c, p, OP_MUL, &h, &y) && ((ce_is(c, h, 0.5) && y == z) || (ce_is(c, y, 0.5) && h == z)) &&
            ce_op(c, q, OP_ADD, &one, &t)) {
            if (ce_is(c, one, 1.0))
                return *inner = t, true;
            if (ce_is(c, t, 1.0))
                return *inner = one, true;
        }
    }
    return false;
}

/* The activation the last instruction applies to an affine instruction *z: NNC_ACT_*, -1 none. */
static int ce_act(const ConvEpi *c, uint32_t *z, float *alpha) {
    const Kernel *e = c->e;
    uint32_t r = (uint32_t)e->nbody - 1, p, q, t, u, v;
    const KExpr *x = &e->body[r];
    bool a1, a0, b0;
    *alpha = 0;
    if (ce_affine(c, r, &a1, &a0, &b0))
        return *z = r, NNC_ACT_NONE;
    if (x->kind != KE_OP)
        return -1;
    if (x->op == OP_TANH || x->op == OP_SIGMOID)
        return *z = x->src[0], x->op == OP_TANH ? NNC_ACT_TANH : NNC_ACT_SIGMOID;
    if (x->op == OP_SELECT && ce_pos(c, x->src[0], z) && x->src[1] == *z) {
        uint32_t g = x->src[0], f = x->src[2];
        double a;
        if (ce_is(c, f, 0.0))   /* relu: where(z > 0, z, 0) */
            return NNC_ACT_RELU;
        if (ce_op(c, f, OP_MUL, &p, &q) && ((q == *z && ce_const(c, p, &a)) || (p == *z && ce_const(c, q, &a))))
            return *alpha = (float)a, NNC_ACT_RELU;     /* leaky_relu: where(z > 0, z, alpha z) */
        /* elu: where(z > 0, z, [alpha *] (exp(where(z > 0, 0, z)) - 1)) */
        a = 1.0;
        if (ce_op(c, f, OP_MUL, &p, &q) && !(ce_const(c, p, &a) && (f = q, true)) && !(ce_const(c, q, &a) && (f = p, true)))
            return -1;
        if (ce_op(c, f, OP_SUB, &p, &q) && ce_is(c, q, 1.0) && e->body[p].kind == KE_OP && e->body[p].op == OP_EXP) {
            const KExpr *w = &e->body[e->body[p].src[0]];
            if (w->kind == KE_OP && w->op == OP_SELECT && w->src[0] == g && ce_is(c, w->src[1], 0.0) && w->src[2] == *z)
                return *alpha = (float)a, NNC_ACT_ELU;
        }
        return -1;
    }
    if (x->op == OP_MUL) {      /* silu: z * sigmoid(z) */
        for (int s = 0; s < 2; s++) {
            const KExpr *sg = &e->body[x->src[1 - s]];
            if (sg->kind == KE_OP && sg->op == OP_SIGMOID && sg->src[0] == x->src[s])
                return *z = x->src[s], NNC_ACT_SWISH;
        }
        /* the GELUs: 0.5 z (1 + erf(z / sqrt 2)), 0.5 z (1 + tanh(sqrt(2 / pi) (z + 0.044715 z^3))) */
        for (int s = 0; s < 2; s++) {
            uint32_t h = x->src[s], y;
            if (!ce_op(c, h, OP_MUL, &p, &q))
                continue;
            uint32_t zz = ce_is(c, p, 0.5) ? q : ce_is(c, q, 0.5) ? p : UINT32_MAX;
            if (zz == UINT32_MAX || !ce_half_z(c, r, zz, &t))
                continue;
            const KExpr *f = &e->body[t];
            if (f->kind == KE_OP && f->op == OP_ERF && ce_op(c, f->src[0], OP_MUL, &u, &v) &&
                ((u == zz && ce_is(c, v, 0.7071067811865476)) || (v == zz && ce_is(c, u, 0.7071067811865476))))
                return *z = zz, NNC_ACT_GELU_ERF;
            /* tanh(k * (z + ((c3 * z) * z) * z)) */
            if (f->kind != KE_OP || f->op != OP_TANH || !ce_op(c, f->src[0], OP_MUL, &u, &v))
                continue;
            uint32_t sum = ce_is(c, u, 0.7978845608028654) ? v : ce_is(c, v, 0.7978845608028654) ? u : UINT32_MAX;
            if (sum == UINT32_MAX || !ce_op(c, sum, OP_ADD, &u, &v))
                continue;
            uint32_t cube = u == zz ? v : v == zz ? u : UINT32_MAX, m2, m1;
            if (cube == UINT32_MAX || !ce_op(c, cube, OP_MUL, &m2, &y) || y != zz || !ce_op(c, m2, OP_MUL, &m1, &y) ||
                y != zz || !ce_op(c, m1, OP_MUL, &u, &v) ||
                !((ce_is(c, u, 0.044715) && v == zz) || (ce_is(c, v, 0.044715) && u == zz)))
                continue;
            return *z = zz, NNC_ACT_GELU_TANH;
        }
    }
    return -1;
}

/* The fit of conv epilogue e: act, alpha, the affine instruction z, whether a is 1 and b is 0. */
typedef struct CeFit { int act; float alpha; uint32_t z; bool a1, b0; } CeFit;

static bool conv_epi_fit(const KGraph *kg, const Kernel *e, CeFit *f) {
    ConvEpi c = {kg, e};
    bool a0;
    if (e->nbody < 1 || e->type.dtype != DT_F32 || e->nx)
        return false;
    f->act = ce_act(&c, &f->z, &f->alpha);
    return f->act >= 0 && ce_affine(&c, f->z, &f->a1, &a0, &f->b0) && !a0;
}

/* Emits a[f] (*a) and b[f] (*b) of affine instruction i at channel ch; argv: the epilogue's
 * argument parameters; memo: the channel values computed so far. */
static void ce_emit(Cg *g, const ConvEpi *c, uint32_t i, LLVMValueRef *argv, LLVMValueRef ch, LLVMValueRef *memo,
                    LLVMValueRef *a, LLVMValueRef *b);

static LLVMValueRef ce_chan_val(Cg *g, const ConvEpi *c, uint32_t i, LLVMValueRef *argv, LLVMValueRef ch,
                                LLVMValueRef *memo) {
    if (memo[i])
        return memo[i];
    const KExpr *x = &c->e->body[i];
    LLVMValueRef v;
    if (x->kind == KE_ARG) {
        const KArg *ar = &c->e->args[x->ref];
        v = ar->kind == KA_VAL ? argv[x->ref] : load_elem(g, DT_F32, argv[x->ref], ar->kind == KA_COL ? ch : ci64(g, 0));
    } else {
        LLVMValueRef s[IR_MAXSRC] = {0};
        for (int q = 0; q < ir_op_nsrc[x->op]; q++)
            s[q] = ce_chan_val(g, c, x->src[q], argv, ch, memo);
        IrNode nd = {.op = x->op, .type = {.dtype = x->dt}};
        v = scalar_op(g, &nd, x->sdt, s);
    }
    return memo[i] = v;
}

static void ce_emit(Cg *g, const ConvEpi *c, uint32_t i, LLVMValueRef *argv, LLVMValueRef ch, LLVMValueRef *memo,
                    LLVMValueRef *a, LLVMValueRef *b) {
    const KExpr *x = &c->e->body[i];
    LLVMBuilderRef bd = g->b;
    if (ce_y(c, i)) {
        *a = cf32(g, 1.0), *b = cf32(g, 0.0);
        return;
    }
    if (ce_chan(c, i)) {
        *a = cf32(g, 0.0), *b = ce_chan_val(g, c, i, argv, ch, memo);
        return;
    }
    LLVMValueRef pa, pb, qa, qb;
    switch ((Op)x->op) {
    case OP_ADD: case OP_SUB:
        ce_emit(g, c, x->src[0], argv, ch, memo, &pa, &pb);
        ce_emit(g, c, x->src[1], argv, ch, memo, &qa, &qb);
        *a = x->op == OP_ADD ? LLVMBuildFAdd(bd, pa, qa, "") : LLVMBuildFSub(bd, pa, qa, "");
        *b = x->op == OP_ADD ? LLVMBuildFAdd(bd, pb, qb, "") : LLVMBuildFSub(bd, pb, qb, "");
        return;
    case OP_NEG:
        ce_emit(g, c, x->src[0], argv, ch, memo, &pa, &pb);
        *a = LLVMBuildFNeg(bd, pa, ""), *b = LLVMBuildFNeg(bd, pb, "");
        return;
    case OP_MUL: case OP_DIV: {
        bool a1, a0, b0;
        int s = ce_chan(c, x->src[1]) && ce_affine(c, x->src[0], &a1, &a0, &b0) && !a0 ? 0 : 1;
        LLVMValueRef k = ce_chan_val(g, c, x->src[1 - s], argv, ch, memo);
        ce_emit(g, c, x->src[s], argv, ch, memo, &pa, &pb);
        *a = x->op == OP_MUL ? LLVMBuildFMul(bd, pa, k, "") : LLVMBuildFDiv(bd, pa, k, "");
        *b = x->op == OP_MUL ? LLVMBuildFMul(bd, pb, k, "") : LLVMBuildFDiv(bd, pb, k, "");
        return;
    }
    default: die("llvm backend: conv epilogue instruction %u is not affine", i);
    }
}

/* A forward convolution with an epilogue: out, [scratch], x, w, the epilogue's arguments not read
 * through out, B, pool. When the epilogue fits (conv_epi_fit) the per-channel a and b go to
 * nnc_conv_forward_ep; the elementwise epilogue runs when that returns 0 or the epilogue does not
 * fit. */
static LLVMValueRef emit_conv_epilogue(Cg *g, const KGraph *kg, const Kernel *k, const char *name) {
    Kernel e = epilogue_alone(g, k);
    e.nx = 0;           /* (a conv's extra output is its scratch) */
    e.xbuf = NULL;
    e.xexpr = NULL;
    LLVMValueRef epi = emit_elementwise(g, kg, &e, arena_printf(&g->arena, "%s.epi", name));
    int np = 0, na = e.nargs, sc = k->nx == 1;
    LLVMTypeRef *pt = arena_alloc(&g->arena, sizeof(LLVMTypeRef) * (size_t)(k->nargs + 6));
    bool *noalias = arena_alloc(&g->arena, (size_t)k->nargs + 6);
    for (int a = 0; a < 3 + sc; a++)            /* out, [scratch], x, w */
        pt[np] = g->i8p, noalias[np++] = true;
    LLVMValueRef *argv = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)na + 1));
    int *argp = arena_alloc(&g->arena, sizeof(int) * ((size_t)na + 1));
    for (int a = 0; a < na; a++) {
        argp[a] = -1;
        if (out_slot(&e, a) >= 0)
            continue;
        argp[a] = np;
        np = arg_param(g, &e.args[a], pt, noalias, np);
    }
    pt[np] = g->i64, noalias[np++] = false;     /* B */
    pt[np] = g->i8p, noalias[np++] = false;     /* pool */
    LLVMValueRef fn = new_fn(g, name, pt, np, noalias);
    Saved sv = enter_fn(g, fn);
    g->B = LLVMGetParam(fn, (unsigned)np - 2);
    KEnv ke = {.k = k, .out = LLVMGetParam(fn, 0), .pool = LLVMGetParam(fn, (unsigned)np - 1)};
    LLVMValueRef scratch = sc ? LLVMGetParam(fn, 1) : NULL;
    ke.src[0] = LLVMGetParam(fn, (unsigned)(1 + sc));
    ke.src[1] = LLVMGetParam(fn, (unsigned)(2 + sc));
    for (int a = 0; a < na; a++)
        argv[a] = argp[a] >= 0 ? LLVMGetParam(fn, (unsigned)argp[a]) : ke.out;
    LLVMValueRef *eargs = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)np);
    int ne = 0;
    eargs[ne++] = ke.out;
    for (int p = 3 + sc; p < np; p++)
        eargs[ne++] = LLVMGetParam(fn, (unsigned)p);
    CeFit fit;
    IrConv cg;
    const char *why = ir_conv_node_geom((Op)k->op, &k->args[0].type, &k->args[1].type, &k->type, &k->attr, &cg);
    /* (a[f] and b[f] live on the stack: up to 2 x 16 KiB) */
    if (why || cg.F > 4096 || !conv_epi_fit(kg, &e, &fit)) {
        k_conv(g, &ke, scratch, ke.pool);
        LLVMBuildCall2(g->b, LLVMGlobalGetValueType(epi), epi, eargs, (unsigned)ne, "");
        LLVMBuildRetVoid(g->b);
        leave_fn(g, sv);
        return fn;
    }
    IrConv c;
    LLVMValueRef geo = conv_geo(g, &ke, &c);
    /* a[f] and b[f] for the F channels, on the stack */
    LLVMTypeRef ft = LLVMArrayType(g->f32, (unsigned)c.F);
    LLVMValueRef sa = LLVMBuildAlloca(g->b, ft, "scale"), sb = LLVMBuildAlloca(g->b, ft, "shift");
    ConvEpi ce = {kg, &e};
    Loop l;
    LLVMValueRef ch = loop_begin(g, &l, ci64(g, c.F));
    LLVMValueRef *memo = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)e.nbody);
    LLVMValueRef av, bv;
    ce_emit(g, &ce, fit.z, argv, ch, memo, &av, &bv);
    LLVMValueRef idx[2] = {ci64(g, 0), ch};
    LLVMBuildStore(g->b, av, LLVMBuildInBoundsGEP2(g->b, ft, sa, idx, 2, ""));
    LLVMBuildStore(g->b, bv, LLVMBuildInBoundsGEP2(g->b, ft, sb, idx, 2, ""));
    loop_end(g, &l);
    LLVMTypeRef i64p = LLVMPointerType(g->i64, 0);
    LLVMTypeRef p[10] = {g->f32p, g->f32p, g->f32p, g->f32p, i64p, g->f32p, g->f32p, g->i32, g->f32, g->i8p};
    LLVMValueRef f = declare(g, "nnc_conv_forward_ep", g->i32, p, 10, false);
    LLVMValueRef null = LLVMConstNull(g->f32p);
    LLVMValueRef args[10] = {LLVMBuildBitCast(g->b, ke.src[0], g->f32p, ""),
                             LLVMBuildBitCast(g->b, ke.src[1], g->f32p, ""),
                             LLVMBuildBitCast(g->b, ke.out, g->f32p, ""),
                             scratch ? LLVMBuildBitCast(g->b, scratch, g->f32p, "") : null,
                             LLVMBuildBitCast(g->b, geo, i64p, ""),
                             fit.a1 ? null : LLVMBuildBitCast(g->b, sa, g->f32p, ""),
                             fit.b0 ? null : LLVMBuildBitCast(g->b, sb, g->f32p, ""),
                             ci32(g, fit.act),
                             cf32(g, fit.alpha),
                             ke.pool};
    LLVMValueRef done = call(g, f, args, 10);
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "epi"),
                      end = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "done");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, done, ci32(g, 0), ""), run, end);
    LLVMPositionBuilderAtEnd(g->b, run);
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(epi), epi, eargs, (unsigned)ne, "");
    LLVMBuildBr(g->b, end);
    LLVMPositionBuilderAtEnd(g->b, end);
    LLVMBuildRetVoid(g->b);
    leave_fn(g, sv);
    return fn;
}

/* The function of kernel ki of kg, made once per signature. */
static LLVMValueRef kernel_fn(Cg *g, const KGraph *kg, int ki, int gi) {
    const Kernel *k = &kg->kern[ki];
    const char *key = sig_of(g, k);
    if (g->pk_handle)       /* a packed-weight GEMM takes two more parameters */
        key = arena_printf(&g->arena, "%s packed", key);
    int slot = cache_slot(g, key);
    if (!g->cache.key[slot]) {
        const char *name = arena_printf(&g->arena, "%s.g%d.k%d.%s", g->prefix, gi, ki, ir_op_name[k->op]);
        Saved sv = {LLVMGetInsertBlock(g->b), g->fn, g->B};
        LLVMValueRef fn = k->kind == KK_ELEM || k->kind == KK_ROW ? emit_elementwise(g, kg, k, name)
                          : k_is_pool(k)                             ? emit_pool_kernel(g, k, name)
                          : k->kind == KK_GEMM && k->nbody         ? emit_gemm_epilogue(g, kg, k, name)
                          : k->kind == KK_CONV && k->nbody         ? emit_conv_epilogue(g, kg, k, name)
                                                                   : emit_op_kernel(g, k, name);
        leave_fn(g, sv);
        g->cache.key[slot] = (char *)key;
        g->cache.fn[slot] = fn;
        g->cache.n++;
    }
    return g->cache.fn[slot];
}

/* The scalar of value v, in the graph function. */
static LLVMValueRef emit_value(Cg *g, const KExpr *x, LLVMValueRef *val, LLVMValueRef *hyper) {
    switch (x->kind) {
    case KE_CONST: return const_val(g, x->dt, x->f);
    case KE_HYPER: {
        int h = x->ref;
        if (h < HY_LR || h > HY_BATCH)
            die("hyper: unknown kind %d", h);
        if (h == HY_LR)
            return cast_val(g, hyper[h], DT_F32, x->dt);
        if (x->dt == DT_F32)
            return LLVMBuildSIToFP(g->b, hyper[h], g->f32, "");
        /* an i64 count as i32, saturating */
        LLVMValueRef lo = ci64(g, INT32_MIN), hi = ci64(g, INT32_MAX), v = hyper[h];
        v = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, v, lo, ""), lo, v, "");
        v = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, v, hi, ""), hi, v, "");
        return cast_val(g, LLVMBuildTrunc(g->b, v, g->i32, ""), DT_I32, x->dt);
    }
    case KE_OP: {
        LLVMValueRef v[IR_MAXSRC] = {0};
        for (int s = 0; s < ir_op_nsrc[x->op]; s++)
            v[s] = val[x->src[s]];
        IrNode nd = {.op = x->op, .type = {.dtype = x->dt}};
        return scalar_op(g, &nd, x->sdt, v);
    }
    case KE_ARG: break;
    }
    die("a value reads a kernel argument");
}

static LLVMValueRef load_field(Cg *g, LLVMValueRef a, unsigned field, LLVMTypeRef ty, const char *name) {
    return LLVMBuildLoad2(g->b, ty, LLVMBuildStructGEP2(g->b, g->args_ty, a, field, ""), name);
}

enum { FA_B, FA_BUFS, FA_WS, FA_LOSSES, FA_STEP, FA_TOTAL, FA_LR, FA_SEED, FA_POOL, FA_USER, FA__COUNT };

static LLVMValueRef buf_ptr(Cg *g, LLVMValueRef bufs, int64_t index) {
    if (index < 0 || index >= g->m->ntensors)
        die("buffer index %lld outside the module's %d tensors", (long long)index, g->m->ntensors);
    LLVMValueRef idx = ci64(g, index);
    return LLVMBuildLoad2(g->b, g->i8p, LLVMBuildInBoundsGEP2(g->b, g->i8p, bufs, &idx, 1, ""), "");
}

/* What a function that calls kernels reads from NncArgs, and the values and buffer pointers it
 * has made so far (made on first use, so each part computes only what its kernels need). */
typedef struct Env {
    const KGraph *kg;
    int gi;
    LLVMValueRef bufs, ws, losses, seed, pool, hyper[4];
    LLVMValueRef *val, *ptr;
    LLVMValueRef *global;       /* per buffer: its constant global (shared by the functions) */
} Env;

static void env_begin(Cg *g, Env *e, LLVMValueRef fn) {
    g->fn = fn;
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fn, "entry"));
    LLVMValueRef a = LLVMGetParam(fn, 0);
    g->B = load_field(g, a, FA_B, g->i64, "B");
    e->bufs = load_field(g, a, FA_BUFS, g->i8pp, "bufs");
    e->ws = load_field(g, a, FA_WS, g->i8p, "workspace");
    e->losses = load_field(g, a, FA_LOSSES, g->f32p, "losses");
    e->seed = load_field(g, a, FA_SEED, g->i64, "seed");
    e->pool = load_field(g, a, FA_POOL, g->i8p, "pool");
    e->hyper[HY_LR] = load_field(g, a, FA_LR, g->f32, "lr");   /* lr is a float, the others i64 */
    e->hyper[HY_STEP] = load_field(g, a, FA_STEP, g->i64, "step");
    e->hyper[HY_TOTAL_STEPS] = load_field(g, a, FA_TOTAL, g->i64, "total_steps");
    e->hyper[HY_BATCH] = g->B;
    memset(e->val, 0, sizeof(LLVMValueRef) * ((size_t)e->kg->nvals + 1));
    memset(e->ptr, 0, sizeof(LLVMValueRef) * ((size_t)e->kg->nbufs + 1));
}

static LLVMValueRef get_val(Cg *g, Env *e, int v) {
    if (e->val[v])
        return e->val[v];
    const KExpr *x = &e->kg->vals[v];
    if (x->kind == KE_OP)
        for (int s = 0; s < ir_op_nsrc[x->op]; s++)
            get_val(g, e, (int)x->src[s]);
    return e->val[v] = emit_value(g, x, e->val, e->hyper);
}

static LLVMValueRef get_ptr(Cg *g, Env *e, int b) {
    if (e->ptr[b])
        return e->ptr[b];
    const KBuf *bf = &e->kg->bufs[b];
    switch (bf->kind) {
    case KB_ARG: return e->ptr[b] = buf_ptr(g, e->bufs, bf->tensor);
    case KB_TEMP: {
        if (bf->kept) {     /* an accumulator (plan.c): zeroed storage of its own, kept across calls */
            if (!e->global[b]) {
                LLVMTypeRef at = LLVMArrayType(g->f32, (unsigned)ir_numel(&bf->type, 0));
                LLVMValueRef glob = LLVMAddGlobal(g->mod, at, arena_printf(&g->arena, "%s.g%d.kept%d", g->prefix, e->gi, b));
                LLVMSetInitializer(glob, LLVMConstNull(at));
                LLVMSetLinkage(glob, LLVMInternalLinkage);
                LLVMSetAlignment(glob, 64);
                e->global[b] = glob;
            }
            return e->ptr[b] = LLVMBuildBitCast(g->b, e->global[b], g->i8p, "");
        }
        LLVMValueRef off = sizev(g, bf->off);
        return e->ptr[b] = LLVMBuildInBoundsGEP2(g->b, g->i8, e->ws, &off, 1, "");
    }
    case KB_GLOBAL:
        if (!e->global[b]) {
            int64_t cnt = ir_numel(&bf->type, 0);
            LLVMTypeRef et = mem_type(g, bf->type.dtype);
            LLVMValueRef *elems = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)cnt + 1));
            for (int64_t k = 0; k < cnt; k++)
                elems[k] = bf->type.dtype == DT_F32  ? cf32(g, bf->data[k])
                           : bf->type.dtype == DT_I32 ? ci32(g, sat_i32(bf->data[k]))
                                                      : LLVMConstInt(g->i8, bf->data[k] != 0, 0);
            LLVMTypeRef at = LLVMArrayType(et, (unsigned)cnt);
            const char *name = arena_printf(&g->arena, "%s.g%d.const%d", g->prefix, e->gi, b);
            LLVMValueRef glob = LLVMAddGlobal(g->mod, at, name);
            LLVMSetInitializer(glob, LLVMConstArray(et, elems, (unsigned)cnt));
            LLVMSetGlobalConstant(glob, 1);
            LLVMSetLinkage(glob, LLVMPrivateLinkage);
            LLVMSetUnnamedAddress(glob, LLVMGlobalUnnamedAddr);
            LLVMSetAlignment(glob, 64);
            e->global[b] = glob;
        }
        return e->ptr[b] = LLVMBuildBitCast(g->b, e->global[b], g->i8p, "");
    }
    unreachable();
}

/* KK_ALLREDUCE: no function of its own; the graph function calls runtime/mpi.c's
 * nnc_allreduce_mean(n, in[], out[], count[]) with the three arrays on its stack (it returns at
 * once in a run of one process when every result is in place). */
static void call_allreduce(Cg *g, Env *e, const Kernel *k) {
    int n = k->nargs;
    LLVMTypeRef pt = LLVMArrayType(g->i8p, (unsigned)n), ct = LLVMArrayType(g->i64, (unsigned)n);
    LLVMValueRef in = LLVMBuildAlloca(g->b, pt, "ar.in"), out = LLVMBuildAlloca(g->b, pt, "ar.out");
    LLVMValueRef cnt = LLVMBuildAlloca(g->b, ct, "ar.count");
    for (int j = 0; j < n; j++) {
        LLVMValueRef idx[2] = {ci64(g, 0), ci64(g, j)};
        LLVMBuildStore(g->b, get_ptr(g, e, k->args[j].ref), LLVMBuildInBoundsGEP2(g->b, pt, in, idx, 2, ""));
        LLVMBuildStore(g->b, get_ptr(g, e, j ? k->xbuf[j - 1] : k->out), LLVMBuildInBoundsGEP2(g->b, pt, out, idx, 2, ""));
        LLVMBuildStore(g->b, numelv(g, &k->args[j].type), LLVMBuildInBoundsGEP2(g->b, ct, cnt, idx, 2, ""));
    }
    LLVMTypeRef i64p = LLVMPointerType(g->i64, 0);
    LLVMTypeRef p[4] = {g->i32, g->i8pp, g->i8pp, i64p};
    LLVMValueRef f = declare(g, "nnc_allreduce_mean", g->vd, p, 4, false);
    LLVMValueRef args[4] = {ci32(g, n), LLVMBuildBitCast(g->b, in, g->i8pp, ""), LLVMBuildBitCast(g->b, out, g->i8pp, ""),
                            LLVMBuildBitCast(g->b, cnt, i64p, "")};
    call(g, f, args, 4);
}

/* ---- a kernel call, described, then emitted alone or rolled into a loop ----
 * A call's arguments are, in call_kernel's order: buffer pointers (the workspace at a plan offset
 * b2*B^2 + b*B + c, an NncArgs buffer, or a constant/kept global; plus a window's byte offset),
 * values, B, the pool, the seed, a window's start, a packed weight's handle and its repack flag.
 * The integers of each (offsets, NncArgs indices, starts, flags) are what differ between the calls
 * of an unrolled time loop or of a stack of equal layers; the rest must be the same. */
enum { RA_WS, RA_ARG, RA_GPTR, RA_VAL, RA_B, RA_POOL, RA_SEED, RA_DIM, RA_HANDLE, RA_I32 };

typedef struct RArg {
    uint8_t kind;
    int id;             /* RA_WS/RA_ARG/RA_GPTR: the buffer; RA_VAL: the value (RA_GPTR, RA_VAL: fixed) */
    LLVMValueRef fx;    /* RA_HANDLE: the handle's global (fixed) */
    int64_t v[3];       /* the integers: RA_WS {b2, b, c + window bytes}; RA_ARG {tensor, window
                           bytes}; RA_GPTR {window bytes}; RA_DIM {a, c}; RA_I32 {flag} */
} RArg;

typedef struct RCall {
    LLVMValueRef fn;
    int np, ki;
    RArg *a;
} RCall;

#define RA_NV(kind) ((kind) == RA_WS ? 3 : (kind) == RA_ARG || (kind) == RA_DIM ? 2 : (kind) == RA_GPTR || (kind) == RA_I32 ? 1 : 0)

static RArg ra_buf(const Env *e, int b, int64_t wbytes) {
    const KBuf *bf = &e->kg->bufs[b];
    if (bf->kind == KB_ARG)
        return (RArg){.kind = RA_ARG, .id = b, .v = {bf->tensor, wbytes}};
    if (bf->kind == KB_TEMP && !bf->kept)
        return (RArg){.kind = RA_WS, .id = b, .v = {bf->off.b2, bf->off.b, bf->off.c + wbytes}};
    return (RArg){.kind = RA_GPTR, .id = b, .v = {wbytes}};
}

/* The call of kernel ki (not an allreduce), its function made if new. */
static RCall describe_call(Cg *g, Env *e, int ki) {
    const Kernel *k = &e->kg->kern[ki];
    g->pk_handle = g->pack_handle ? g->pack_handle[ki] : NULL;
    g->pk_repack = g->pack_repack && g->pack_repack[ki];
    RCall c = {.fn = kernel_fn(g, e->kg, ki, e->gi), .ki = ki};
    c.a = arena_alloc(&g->arena, sizeof(RArg) * (size_t)(k->nargs + k->nx + 6));
    c.a[c.np++] = ra_buf(e, k->out, 0);
    for (int x = 0; x < k->nx; x++)
        c.a[c.np++] = ra_buf(e, k->xbuf[x], 0);
    for (int a = 0; a < k->nargs; a++) {
        const KArg *ar = &k->args[a];
        if ((k->kind == KK_ELEM || k->kind == KK_ROW || ((k->kind == KK_GEMM || k->kind == KK_CONV) && k->nbody)) &&
            out_slot(k, a) >= 0)
            continue;
        if (ar->kind == KA_VAL)
            c.a[c.np++] = (RArg){.kind = RA_VAL, .id = ar->ref};
        else    /* a window's start: the pointer's offset */
            c.a[c.np++] = ra_buf(e, ar->ref, ar->kind == KA_WIN ? ar->wstart * ir_dtype_size(ar->type.dtype) : 0);
    }
    c.a[c.np++] = (RArg){.kind = RA_B};
    if (k->kind == KK_ELEM || k->kind == KK_ROW || k->kind == KK_CONV || k_is_pool(k) || k->kind == KK_GEMM ||
        op_takes_pool(k))
        c.a[c.np++] = (RArg){.kind = RA_POOL};
    else if (k->kind == KK_OP && k->op == OP_RAND)
        c.a[c.np++] = (RArg){.kind = RA_SEED};
    if (is_window(k)) {
        Dim st = ir_slice_start(&k->attr);
        c.a[c.np++] = (RArg){.kind = RA_DIM, .v = {st.a, st.c}};
    }
    if (g->pk_handle) {
        c.a[c.np++] = (RArg){.kind = RA_HANDLE, .fx = g->pk_handle};
        c.a[c.np++] = (RArg){.kind = RA_I32, .v = {g->pk_repack}};
    }
    g->pk_handle = NULL;
    return c;
}

/* An argument's fixed part (what is not one of its integers) in the current block. */
static LLVMValueRef ra_fixed(Cg *g, Env *e, const RArg *r) {
    switch (r->kind) {
    case RA_GPTR: return get_ptr(g, e, r->id);
    case RA_VAL: return get_val(g, e, r->id);
    case RA_B: return g->B;
    case RA_POOL: return e->pool;
    case RA_SEED: return e->seed;
    case RA_HANDLE: return r->fx;
    default: return NULL;
    }
}

static bool const_zero(LLVMValueRef v) { return LLVMIsAConstantInt(v) && LLVMConstIntGetSExtValue(v) == 0; }

static LLVMValueRef add_bytes(Cg *g, LLVMValueRef p, LLVMValueRef off) {
    return const_zero(off) ? p : LLVMBuildInBoundsGEP2(g->b, g->i8, p, &off, 1, "");
}

/* c + x a, without the product when a is a constant 0 */
static LLVMValueRef mul_add(Cg *g, LLVMValueRef x, LLVMValueRef a, LLVMValueRef c) {
    return const_zero(a) ? c : LLVMBuildAdd(g->b, LLVMBuildMul(g->b, x, a, ""), c, "");
}

/* One call, as call_kernel made it before calls could be rolled: the pointers of the function
 * (get_ptr, made once), a window's offset added. */
static void emit_call(Cg *g, Env *e, const RCall *c) {
    LLVMValueRef *args = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(c->np + 1));
    for (int i = 0; i < c->np; i++) {
        const RArg *r = &c->a[i];
        switch (r->kind) {
        case RA_WS: {
            KSize o = e->kg->bufs[r->id].off;
            args[i] = add_bytes(g, get_ptr(g, e, r->id), ci64(g, r->v[2] - o.c));
            break;
        }
        case RA_ARG: args[i] = add_bytes(g, get_ptr(g, e, r->id), ci64(g, r->v[1])); break;
        case RA_GPTR: args[i] = add_bytes(g, get_ptr(g, e, r->id), ci64(g, r->v[0])); break;
        case RA_DIM: args[i] = dimv(g, (Dim){r->v[0], r->v[1]}); break;
        case RA_I32: args[i] = ci32(g, r->v[0]); break;
        default: args[i] = ra_fixed(g, e, r); break;
        }
    }
    LLVMBuildCall2(g->b, LLVMGlobalGetValueType(c->fn), c->fn, args, (unsigned)c->np, "");
}

static void call_kernel(Cg *g, Env *e, int ki) {
    const Kernel *k = &e->kg->kern[ki];
    if (k->kind == KK_ALLREDUCE) {
        call_allreduce(g, e, k);
        return;
    }
    RCall c = describe_call(g, e, ki);
    emit_call(g, e, &c);
}

/* Two calls that one loop can make: the same function, and arguments that differ only in their
 * integers. */
static bool calls_alike(const RCall *x, const RCall *y) {
    if (!x->fn || x->fn != y->fn || x->np != y->np)
        return false;
    for (int i = 0; i < x->np; i++) {
        const RArg *a = &x->a[i], *b = &y->a[i];
        if (a->kind != b->kind || a->fx != b->fx)
            return false;
        if ((a->kind == RA_GPTR || a->kind == RA_VAL) && a->id != b->id)
            return false;
    }
    return true;
}

/* A loop of r iterations over calls c[0..p) (iteration i makes the calls c[i*p + j]): each integer
 * of each argument is a constant, an affine function of i, or read from a constant table. */
static void emit_rolled(Cg *g, Env *e, const RCall *c, int p, int r) {
    /* columns: per call j of the period, per argument, per integer */
    int ncol = 0;
    for (int j = 0; j < p; j++)
        for (int i = 0; i < c[j].np; i++)
            ncol += RA_NV(c[j].a[i].kind);
    int64_t *v0 = arena_alloc(&g->arena, sizeof(int64_t) * (size_t)(ncol + 1));
    int64_t *d = arena_alloc(&g->arena, sizeof(int64_t) * (size_t)(ncol + 1));
    int *tcol = arena_alloc(&g->arena, sizeof(int) * (size_t)(ncol + 1));   /* table column, or -1 */
    int ntab = 0, col = 0;
    for (int j = 0; j < p; j++)
        for (int i = 0; i < c[j].np; i++)
            for (int q = 0; q < RA_NV(c[j].a[i].kind); q++, col++) {
                v0[col] = c[j].a[i].v[q];
                d[col] = r > 1 ? c[p + j].a[i].v[q] - v0[col] : 0;
                bool affine = true;
                for (int it = 2; it < r && affine; it++)
                    affine = c[it * p + j].a[i].v[q] == v0[col] + it * d[col];
                tcol[col] = affine ? -1 : ntab++;
            }
    LLVMValueRef table = NULL;
    if (ntab) {
        LLVMValueRef *el = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)ntab * (size_t)r);
        col = 0;
        for (int j = 0; j < p; j++)
            for (int i = 0; i < c[j].np; i++)
                for (int q = 0; q < RA_NV(c[j].a[i].kind); q++, col++)
                    if (tcol[col] >= 0)
                        for (int it = 0; it < r; it++)
                            el[(size_t)it * (size_t)ntab + (size_t)tcol[col]] = ci64(g, c[it * p + j].a[i].v[q]);
        LLVMTypeRef at = LLVMArrayType(g->i64, (unsigned)(ntab * r));
        table = LLVMAddGlobal(g->mod, at, arena_printf(&g->arena, "%s.g%d.roll%d", g->prefix, e->gi, c[0].ki));
        LLVMSetInitializer(table, LLVMConstArray(g->i64, el, (unsigned)(ntab * r)));
        LLVMSetGlobalConstant(table, 1);
        LLVMSetLinkage(table, LLVMPrivateLinkage);
        LLVMSetUnnamedAddress(table, LLVMGlobalUnnamedAddr);
    }
    /* the fixed arguments before the loop (get_ptr's and get_val's values stay valid after it) */
    LLVMValueRef **fixed = arena_alloc(&g->arena, sizeof(LLVMValueRef *) * (size_t)p);
    for (int j = 0; j < p; j++) {
        fixed[j] = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(c[j].np + 1));
        for (int i = 0; i < c[j].np; i++)
            fixed[j][i] = ra_fixed(g, e, &c[j].a[i]);
    }
    LLVMValueRef B2 = NULL;     /* B^2, made in the loop's body when an offset has a B^2 term */
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "roll");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->fn, "roll.done");
    LLVMBuildBr(g->b, body);
    LLVMPositionBuilderAtEnd(g->b, body);
    LLVMValueRef it = LLVMBuildPhi(g->b, g->i64, "it");
    LLVMValueRef row = ntab ? LLVMBuildMul(g->b, it, ci64(g, ntab), "") : NULL;
    col = 0;
    for (int j = 0; j < p; j++) {
        LLVMValueRef *args = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(c[j].np + 1));
        for (int i = 0; i < c[j].np; i++) {
            const RArg *ra = &c[j].a[i];
            LLVMValueRef v[3] = {0};
            for (int q = 0; q < RA_NV(ra->kind); q++, col++) {
                if (tcol[col] >= 0) {
                    LLVMValueRef idx[2] = {ci64(g, 0), LLVMBuildAdd(g->b, row, ci64(g, tcol[col]), "")};
                    v[q] = LLVMBuildLoad2(g->b, g->i64,
                                          LLVMBuildInBoundsGEP2(g->b, LLVMGlobalGetValueType(table), table, idx, 2, ""), "");
                } else if (d[col]) {
                    v[q] = LLVMBuildAdd(g->b, ci64(g, v0[col]), LLVMBuildMul(g->b, it, ci64(g, d[col]), ""), "");
                } else {
                    v[q] = ci64(g, v0[col]);
                }
            }
            switch (ra->kind) {
            case RA_WS: {   /* b2 B^2 + b B + c */
                LLVMValueRef off = mul_add(g, g->B, v[1], v[2]);
                if (!const_zero(v[0]))
                    off = mul_add(g, B2 ? B2 : (B2 = LLVMBuildMul(g->b, g->B, g->B, "")), v[0], off);
                args[i] = LLVMBuildInBoundsGEP2(g->b, g->i8, e->ws, &off, 1, "");
                break;
            }
            case RA_ARG: {
                LLVMValueRef ptr = LLVMBuildLoad2(g->b, g->i8p, LLVMBuildInBoundsGEP2(g->b, g->i8p, e->bufs, &v[0], 1, ""), "");
                args[i] = add_bytes(g, ptr, v[1]);
                break;
            }
            case RA_GPTR: args[i] = add_bytes(g, fixed[j][i], v[0]); break;
            case RA_DIM: args[i] = mul_add(g, g->B, v[0], v[1]); break;     /* a B + c */
            case RA_I32: args[i] = LLVMBuildTrunc(g->b, v[0], g->i32, ""); break;
            default: args[i] = fixed[j][i]; break;
            }
        }
        LLVMBuildCall2(g->b, LLVMGlobalGetValueType(c[j].fn), c[j].fn, args, (unsigned)c[j].np, "");
    }
    LLVMValueRef next = LLVMBuildAdd(g->b, it, ci64(g, 1), "");
    LLVMBasicBlockRef end = LLVMGetInsertBlock(g->b);
    LLVMValueRef in[2] = {ci64(g, 0), next};
    LLVMBasicBlockRef from[2] = {pre, end};
    LLVMAddIncoming(it, in, from, 2);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, next, ci64(g, r), ""), body, done);
    LLVMPositionBuilderAtEnd(g->b, done);
}

/* A graph's calls as items: a call alone (p = 1, r = 1) or a loop of r iterations over p calls.
 * At each kernel, the period (at most ROLL_MAX_PERIOD calls) whose repetitions from there save
 * the most calls; a run is taken when it saves at least ROLL_MIN_SAVED. */
#define ROLL_MAX_PERIOD 64
#define ROLL_MIN_SAVED 6

typedef struct RItem { int start, p, r; } RItem;

static int roll_items(const KGraph *kg, const RCall *c, RItem *item) {
    int n = kg->nkern, ni = 0;
    for (int s = 0; s < n;) {
        int bp = 1, br = 1;
        for (int p = 1; p <= ROLL_MAX_PERIOD && s + 2 * p <= n; p++) {
            int r = 1;
            for (;;) {
                if (s + (r + 1) * p > n)
                    break;
                int j = 0;
                while (j < p && calls_alike(&c[s + j], &c[s + r * p + j]))
                    j++;
                if (j < p)
                    break;
                r++;
            }
            if (r > 1 && p * (r - 1) > bp * (br - 1))
                bp = p, br = r;
        }
        if (bp * (br - 1) < ROLL_MIN_SAVED)
            bp = 1, br = 1;
        item[ni++] = (RItem){s, bp, br};
        s += bp * br;
    }
    return ni;
}

/* ---- packed weights (runtime/packed_gemm.c, docs/backend-llvm.md "Packed weights") ----
 * An unrolled recurrent layer multiplies by the same weight matrix once per time step (h W_hh^T
 * forward, dgates W_hh backward). The 2-D matmul kernels of a graph whose B is the same argument
 * buffer (a parameter) with the same transposition and sizes form a group; a run of at least
 * PACK_MIN_USES members with no write to that argument between them shares one packed copy of B:
 * the run's first member packs it (repack = 1), the others reuse it. The first member of each
 * call packs too (a caller may have changed the weights between calls). */
#define PACK_MIN_USES 16

typedef struct PackKey {
    int tensor;         /* the argument (NncArgs.bufs index) */
    int trb;
    Dim n, k;
    int run;            /* how many runs of this key so far (the current one's index) */
} PackKey;

/* kernel ki's B operand: the KB_ARG buffer of a packable matmul, or -1 */
static int pack_operand(const KGraph *kg, const Kernel *k) {
    if (k->kind != KK_GEMM || k->type.rank != 2 || k->nargs < 2 || k->type.dtype != DT_F32)
        return -1;
    const KArg *b = &k->args[1];
    if (b->kind != KA_BUF || b->type.rank != 2 || b->type.dtype != DT_F32 || kg->bufs[b->ref].kind != KB_ARG)
        return -1;
    return b->ref;
}

/* Fills g->pack_handle and g->pack_repack for graph kg (NULL when no kernel is packed). */
static void pack_groups(Cg *g, const KGraph *kg, int gi) {
    g->pack_handle = NULL;
    g->pack_repack = NULL;
    int n = kg->nkern, nkeys = 0;
    PackKey *keys = arena_alloc(&g->arena, sizeof(PackKey) * (size_t)(n + 1));
    int *key_of = arena_alloc(&g->arena, sizeof(int) * (size_t)(n + 1));   /* per kernel: key or -1 */
    int *run_of = arena_alloc(&g->arena, sizeof(int) * (size_t)(n + 1));   /* per member: its run */
    bool *dirty = arena_alloc(&g->arena, (size_t)n + 1);                   /* per key */
    bool *first = arena_alloc(&g->arena, (size_t)n + 1);                   /* per kernel */
    for (int ki = 0; ki < n; ki++) {
        const Kernel *k = &kg->kern[ki];
        key_of[ki] = -1;
        first[ki] = false;
        int b = pack_operand(kg, k);
        if (b >= 0) {
            int trb = k->attr.i[1] != 0;
            Dim nd = k->type.dim[1], kd = k->args[0].type.dim[k->attr.i[0] ? 0 : 1];
            int j = 0;
            while (j < nkeys && !(keys[j].tensor == kg->bufs[b].tensor && keys[j].trb == trb &&
                                  dim_eq(keys[j].n, nd) && dim_eq(keys[j].k, kd)))
                j++;
            if (j == nkeys) {
                keys[nkeys++] = (PackKey){kg->bufs[b].tensor, trb, nd, kd, -1};
                dirty[j] = true;
            }
            if (dirty[j]) {     /* a new run: its first member packs */
                keys[j].run++;
                dirty[j] = false;
                first[ki] = true;
            }
            key_of[ki] = j;
            run_of[ki] = keys[j].run;
        }
        /* what ki writes: its output and extra results; an argument written makes its keys dirty */
        for (int x = -1; x < k->nx; x++) {
            int w = x < 0 ? k->out : k->xbuf[x];
            if (w < 0 || w >= kg->nbufs || kg->bufs[w].kind != KB_ARG)
                continue;
            for (int j = 0; j < nkeys; j++)
                if (keys[j].tensor == kg->bufs[w].tensor)
                    dirty[j] = true;
        }
    }
    if (!nkeys)
        return;
    /* the members of each run, then the runs long enough to pack */
    LLVMValueRef *handle = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)(n + 1));
    bool *repack = arena_alloc(&g->arena, (size_t)n + 1);
    for (int ki = 0; ki < n; ki++)
        handle[ki] = NULL, repack[ki] = false;
    bool any = false;
    for (int j = 0; j < nkeys; j++) {
        LLVMValueRef h = NULL;
        for (int r = 0; r <= keys[j].run; r++) {
            int count = 0;
            for (int ki = 0; ki < n; ki++)
                count += key_of[ki] == j && run_of[ki] == r;
            if (count < PACK_MIN_USES)
                continue;
            if (!h) {   /* one handle per key: its runs follow each other */
                h = LLVMAddGlobal(g->mod, g->i8p, arena_printf(&g->arena, "%s.g%d.packed%d", g->prefix, gi, j));
                LLVMSetInitializer(h, LLVMConstNull(g->i8p));
                LLVMSetLinkage(h, LLVMInternalLinkage);
            }
            for (int ki = 0; ki < n; ki++)
                if (key_of[ki] == j && run_of[ki] == r) {
                    handle[ki] = h;
                    repack[ki] = first[ki];
                    any = true;
                }
        }
    }
    if (any) {
        g->pack_handle = handle;
        g->pack_repack = repack;
    }
}

/* Kernels per part function: LLVM's code generator works one basic block at a time and its cost
 * grows faster than the block, so a long graph is cut into parts of this many kernel calls, each
 * its own function (NncArgs *a) that loads what it needs. */
#define PART_KERNELS 64

/* Fill the body of fn(NncArgs *a) with kernel graph kg: the kernels (in parts when there are
 * many), then the results. */
static void emit_graph(Cg *g, const KGraph *kg, LLVMValueRef fn, int gi) {
    if (!kg->planned)
        die("graph %s reached the llvm backend unplanned", kg->name);
    Env e = {.kg = kg, .gi = gi};
    pack_groups(g, kg, gi);
    e.val = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kg->nvals + 1));
    e.ptr = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kg->nbufs + 1));
    e.global = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kg->nbufs + 1));
    if (kg->nkern <= PART_KERNELS) {
        env_begin(g, &e, fn);
        for (int k = 0; k < kg->nkern; k++)
            call_kernel(g, &e, k);
    } else {
        /* a long graph: its calls, runs of alike calls rolled into loops (an unrolled time loop,
         * a stack of equal layers; NNC_ROLL=0 keeps every call), in part functions of at most
         * PART_KERNELS calls each (a loop counts its period) */
        RCall *c = arena_alloc(&g->arena, sizeof(RCall) * (size_t)kg->nkern);
        RItem *item = arena_alloc(&g->arena, sizeof(RItem) * (size_t)kg->nkern);
        for (int k = 0; k < kg->nkern; k++)
            c[k] = kg->kern[k].kind == KK_ALLREDUCE ? (RCall){.ki = k} : describe_call(g, &e, k);
        const char *roll = getenv("NNC_ROLL");
        int ni;
        if (roll && !strcmp(roll, "0"))
            for (ni = 0; ni < kg->nkern; ni++)
                item[ni] = (RItem){ni, 1, 1};
        else
            ni = roll_items(kg, c, item);
        if (g->o->verbose) {
            int nloops = 0, nrolled = 0;
            for (int i = 0; i < ni; i++)
                if (item[i].r > 1)
                    nloops++, nrolled += item[i].p * item[i].r;
            fprintf(stderr, "nnc: llvm: graph %s: %d calls, %d of them in %d loops\n", kg->name, kg->nkern, nrolled,
                    nloops);
        }
        int nparts = 0;
        LLVMValueRef *part = arena_alloc(&g->arena, sizeof(LLVMValueRef) * (size_t)ni);
        for (int i = 0; i < ni;) {
            LLVMValueRef pf = new_fn(g, arena_printf(&g->arena, "%s.g%d.part%d", g->prefix, gi, nparts), &g->args_p, 1, NULL);
            add_attr(g, pf, LLVMAttributeFunctionIndex, "optnone");
            part[nparts++] = pf;
            env_begin(g, &e, pf);
            for (int cost = 0; i < ni && (cost == 0 || cost + item[i].p <= PART_KERNELS); cost += item[i].p, i++) {
                if (item[i].r > 1)
                    emit_rolled(g, &e, &c[item[i].start], item[i].p, item[i].r);
                else if (c[item[i].start].fn)
                    emit_call(g, &e, &c[item[i].start]);
                else
                    call_kernel(g, &e, item[i].start);     /* an allreduce */
            }
            LLVMBuildRetVoid(g->b);
        }
        env_begin(g, &e, fn);
        LLVMValueRef a = LLVMGetParam(fn, 0);
        for (int p = 0; p < nparts; p++)
            LLVMBuildCall2(g->b, LLVMGlobalGetValueType(part[p]), part[p], &a, 1, "");
    }

    /* results: outputs and losses, then staged updates, then the updates not written in place */
    for (int r = 0; r < kg->nres; r++) {
        const KRes *res = &kg->res[r];
        const IrType *t = &res->type;
        if (res->kind == KR_OUTPUT && !res->direct)
            LLVMBuildMemMove(g->b, buf_ptr(g, e.bufs, res->index), 1, get_ptr(g, &e, res->buf), 1, bytesv(g, t));
        if (res->kind == KR_LOSS) {
            if (res->index < 0 || res->index >= g->m->nlosses)
                die("loss index %d outside the module's %d losses", res->index, g->m->nlosses);
            LLVMValueRef v = cast_val(g, load_elem(g, t->dtype, get_ptr(g, &e, res->buf), ci64(g, 0)), t->dtype, DT_F32);
            LLVMValueRef li = ci64(g, res->index);
            LLVMBuildStore(g->b, v, LLVMBuildInBoundsGEP2(g->b, g->f32, e.losses, &li, 1, ""));
        }
    }
    LLVMValueRef *src = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)kg->nres + 1));
    for (int r = 0; r < kg->nres; r++) {
        const KRes *res = &kg->res[r];
        src[r] = get_ptr(g, &e, res->buf);
        if (res->stage >= 0) {
            LLVMBuildMemCpy(g->b, get_ptr(g, &e, res->stage), 64, src[r], 1, bytesv(g, &res->type));
            src[r] = get_ptr(g, &e, res->stage);
        }
    }
    for (int r = 0; r < kg->nres; r++) {
        const KRes *res = &kg->res[r];
        if (res->kind != KR_UPDATE || res->direct)
            continue;
        LLVMBuildMemMove(g->b, buf_ptr(g, e.bufs, res->index), 1, src[r], 1, bytesv(g, &res->type));
    }
    LLVMBuildRetVoid(g->b);
}

/* ---- the module ---- */

static void build_args_type(Cg *g) {
    LLVMTypeRef f[FA__COUNT] = {g->i64, g->i8pp, g->i8p, g->f32p, g->i64,
                                g->i64, g->f32,  g->i64, g->i8p,  g->i8p};
    g->args_ty = LLVMStructCreateNamed(g->ctx, "NncArgs");
    LLVMStructSetBody(g->args_ty, f, FA__COUNT, 0);
    g->args_p = LLVMPointerType(g->args_ty, 0);
}

static void init_types(Cg *g) {
    g->vd = LLVMVoidTypeInContext(g->ctx);
    g->i1 = LLVMInt1TypeInContext(g->ctx);
    g->i8 = LLVMInt8TypeInContext(g->ctx);
    g->i32 = LLVMInt32TypeInContext(g->ctx);
    g->i64 = LLVMInt64TypeInContext(g->ctx);
    g->f32 = LLVMFloatTypeInContext(g->ctx);
    g->f64 = LLVMDoubleTypeInContext(g->ctx);
    g->i8p = LLVMPointerType(g->i8, 0);
    g->i8pp = LLVMPointerType(g->i8p, 0);
    g->f32p = LLVMPointerType(g->f32, 0);
    build_args_type(g);
}

static int check_layout(Cg *g, FILE *err) {
    static const struct { const char *name; size_t off; } c[FA__COUNT] = {
        {"B", offsetof(NncArgs, B)},          {"bufs", offsetof(NncArgs, bufs)},
        {"workspace", offsetof(NncArgs, workspace)}, {"losses", offsetof(NncArgs, losses)},
        {"step", offsetof(NncArgs, step)},    {"total_steps", offsetof(NncArgs, total_steps)},
        {"lr", offsetof(NncArgs, lr)},        {"seed", offsetof(NncArgs, seed)},
        {"pool", offsetof(NncArgs, pool)},    {"user", offsetof(NncArgs, user)},
    };
    for (unsigned k = 0; k < FA__COUNT; k++) {
        unsigned long long off = LLVMOffsetOfElement(g->td, g->args_ty, k);
        if (off != c[k].off) {
            fprintf(err, "NncArgs.%s: LLVM offset %llu, C offset %zu\n", c[k].name, off, c[k].off);
            return -1;
        }
    }
    if (LLVMABISizeOfType(g->td, g->args_ty) != sizeof(NncArgs)) {
        fprintf(err, "NncArgs: LLVM size %llu, C size %zu\n", LLVMABISizeOfType(g->td, g->args_ty),
                sizeof(NncArgs));
        return -1;
    }
    return 0;
}

/* LLVM's loop vectoriser leaves a loop with an in-order floating-point reduction scalar unless
 * told that it may vectorise it keeping the order (its strict reductions; on by default only for
 * targets that prefer them). nnc's sums add in element order in double, the interpreter's order,
 * so a full reduction with a fused prologue (a loss: binary cross-entropy's two logs per pixel)
 * ran its prologue a value at a time; with the option the prologue runs 4-8 values at a time and
 * the adds stay in order (llvm.vector.reduce.fadd with a start value, one add after another):
 * the same bits. Set once per process, before any pass runs (LLVM's options are global). */
static void ordered_reductions(void) {
    static bool done;
    if (done)
        return;
    done = true;
    const char *argv[] = {"nnc", "-force-ordered-reductions"};
    LLVMParseCommandLineOptions(2, argv, NULL);
}

static void init_native(void) {
    LLVM_CHECK(LLVMInitializeNativeTarget(), "LLVMInitializeNativeTarget", "no native target");
    LLVM_CHECK(LLVMInitializeNativeAsmPrinter(), "LLVMInitializeNativeAsmPrinter", "no asm printer");
    ordered_reductions();
}

/* The code generator's level at nnc's -O0..-O3 */
static const LLVMCodeGenOptLevel codegen_level[4] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                     LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};

/* LLVM does not reject a CPU name it does not know: creating the target machine warns on stderr
 * and ignores the name (and code generation may then fail hard). To make `--cpu typo` one clear
 * error, a named CPU's target machine is created with fd 2 pointed at a temporary file, and
 * LLVM's "is not a recognized processor" warning is looked for there; anything else it printed is
 * passed on to stderr. *known is false for such a name. */
static LLVMTargetMachineRef create_checked(LLVMTargetRef target, const char *triple, const char *cpu,
                                           const char *features, LLVMCodeGenOptLevel lv, bool *known) {
    *known = true;
    FILE *tmp = tmpfile();
    int saved = tmp ? dup(2) : -1;
    fflush(stderr);
    bool redirected = saved >= 0 && dup2(fileno(tmp), 2) >= 0;
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, cpu, features, lv, LLVMRelocPIC,
                                                      LLVMCodeModelDefault);
    if (redirected) {
        dup2(saved, 2);
        char text[4096];
        rewind(tmp);
        size_t n = fread(text, 1, sizeof text - 1, tmp);
        text[n] = 0;
        *known = strstr(text, "is not a recognized processor") == NULL;
        if (*known && n)
            fputs(text, stderr);
    }
    if (saved >= 0)
        close(saved);
    if (tmp)
        fclose(tmp);
    return tm;
}

static LLVMTargetMachineRef make_target_machine(const char *cpu_opt, int opt, int verbose, bool *known) {
    init_native();
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *err = NULL;
    LLVM_CHECK(LLVMGetTargetFromTriple(triple, &target, &err), "LLVMGetTargetFromTriple", err);
    char *cpu = cpu_opt ? NULL : LLVMGetHostCPUName();
    char *features = cpu_opt ? NULL : LLVMGetHostCPUFeatures();
    LLVMTargetMachineRef tm;
    *known = true;
    if (cpu_opt)
        tm = create_checked(target, triple, cpu_opt, "", codegen_level[opt], known);
    else
        tm = LLVMCreateTargetMachine(target, triple, cpu, features ? features : "", codegen_level[opt],
                                     LLVMRelocPIC, LLVMCodeModelDefault);
    LLVM_CHECK(!tm, "LLVMCreateTargetMachine", triple);
    if (verbose)
        fprintf(stderr, "nnc: llvm: target %s, cpu %s%s%s\n", triple, cpu_opt ? cpu_opt : cpu,
                features ? ", features " : "", features ? features : "");
    LLVMDisposeMessage(triple);
    if (cpu)
        LLVMDisposeMessage(cpu);
    if (features)
        LLVMDisposeMessage(features);
    return tm;
}

int llvm_check_args_layout(FILE *err) {
    Cg g = {0};
    g.ctx = LLVMContextCreate();
    init_types(&g);
    bool known;
    LLVMTargetMachineRef tm = make_target_machine(NULL, 0, 0, &known);
    g.td = LLVMCreateTargetDataLayout(tm);
    int rc = check_layout(&g, err);
    LLVMDisposeTargetData(g.td);
    LLVMDisposeTargetMachine(tm);
    LLVMContextDispose(g.ctx);
    return rc;
}

static LLVMValueRef add_entry(Cg *g, const char *suffix, LLVMTypeRef ret, LLVMTypeRef *params, int n) {
    char *name = arena_printf(&g->arena, "%s_%s", g->prefix, suffix);
    LLVMValueRef f = LLVMAddFunction(g->mod, name, LLVMFunctionType(ret, params, (unsigned)n, 0));
    add_attr(g, f, LLVMAttributeFunctionIndex, "nounwind");
    return f;
}

static void emit_module(Cg *g) {
    const IrModule *m = g->m;
    /* P_desc */
    char *desc = k_module_desc(&g->arena, g->km);
    size_t dlen = strlen(desc);
    LLVMValueRef ds = LLVMConstStringInContext(g->ctx, desc, (unsigned)dlen, 0);
    LLVMValueRef dg = LLVMAddGlobal(g->mod, LLVMTypeOf(ds), arena_printf(&g->arena, "%s_desc", g->prefix));
    LLVMSetInitializer(dg, ds);
    LLVMSetGlobalConstant(dg, 1);
    /* P_version: what `./model --version` prints (runtime/main.c), NUL-terminated */
    if (g->o->version) {
        LLVMValueRef vs = LLVMConstStringInContext(g->ctx, g->o->version, (unsigned)strlen(g->o->version), 0);
        LLVMValueRef vg = LLVMAddGlobal(g->mod, LLVMTypeOf(vs), arena_printf(&g->arena, "%s_version", g->prefix));
        LLVMSetInitializer(vg, vs);
        LLVMSetGlobalConstant(vg, 1);
    }

    /* graphs: forward, evaluate, then one internal function per train step */
    LLVMTypeRef ap[2] = {g->args_p, g->i32};
    LLVMValueRef fwd = add_entry(g, "forward", g->vd, ap, 1);
    LLVMValueRef ev = add_entry(g, "evaluate", g->vd, ap, 1);
    LLVMValueRef ts = add_entry(g, "train_step", g->vd, ap, 2);
    int ng = 0;
    const KGraph *fixed[2] = {g->km->forward, g->km->evaluate};
    LLVMValueRef fixed_fn[2] = {fwd, ev};
    for (int k = 0; k < 2; k++) {
        if (fixed[k]) {
            emit_graph(g, fixed[k], fixed_fn[k], ng++);
        } else {    /* the model has no such graph: the entry point does nothing */
            LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, fixed_fn[k], "entry"));
            LLVMBuildRetVoid(g->b);
        }
    }
    LLVMValueRef *stepfn = arena_alloc(&g->arena, sizeof(LLVMValueRef) * ((size_t)m->nsteps + 1));
    for (int s = 0; s < m->nsteps; s++) {
        stepfn[s] = add_entry(g, arena_printf(&g->arena, "train_%d", s), g->vd, ap, 1);
        LLVMSetLinkage(stepfn[s], LLVMInternalLinkage);
        emit_graph(g, g->km->steps[s], stepfn[s], ng++);
    }
    /* P_train_step: switch over the steps; an unknown step number does nothing */
    g->fn = ts;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->ctx, ts, "entry");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, ts, "done");
    LLVMPositionBuilderAtEnd(g->b, entry);
    LLVMValueRef sw = LLVMBuildSwitch(g->b, LLVMGetParam(ts, 1), done, (unsigned)m->nsteps);
    for (int s = 0; s < m->nsteps; s++) {
        LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(g->ctx, ts, "step");
        LLVMAddCase(sw, ci32(g, s), bb);
        LLVMPositionBuilderAtEnd(g->b, bb);
        LLVMValueRef arg = LLVMGetParam(ts, 0);
        LLVMBuildCall2(g->b, LLVMGlobalGetValueType(stepfn[s]), stepfn[s], &arg, 1, "");
        LLVMBuildBr(g->b, done);
    }
    LLVMPositionBuilderAtEnd(g->b, done);
    LLVMBuildRetVoid(g->b);

    /* P_workspace_size(B): the plan's bytes, covering every graph */
    LLVMTypeRef i64p[1] = {g->i64};
    LLVMValueRef wsf = add_entry(g, "workspace_size", g->i64, i64p, 1);
    add_attr(g, wsf, LLVMAttributeFunctionIndex, "readnone");
    g->fn = wsf;
    LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, wsf, "entry"));
    g->B = LLVMGetParam(wsf, 0);
    LLVMBuildRet(g->b, sizev(g, g->km->workspace));
}

/* Symbols P_desc, P_forward, ... must be C identifiers. */
static bool c_identifier(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

/* -O2's passes. LLVM's default<O2> spent most of a compile (inception_small: 1.2 s of CPU in the
 * passes, 1.9 s in code generation) unrolling: fully unrolling loops of constant trip count
 * around vectorised inner loops, and runtime-unrolling the vectorised loops' remainders, five
 * times the IR for the code generator. nnc's kernels are simple loop nests over noalias buffers
 * with constant or B-scaled trip counts, calls of the runtime library and outlined parallel
 * ranges, and the kernel functions are noinline: what they need is SSA form, loop-invariant code
 * hoisted out of the nests, loops rotated with canonical induction variables, the loop vectoriser
 * (which interleaves the vector loop by itself) and clean-up; no inliner, and an unroller that
 * unrolls only the loops that ask (loop_unroll_hint: full-unroll-max=0 turns its heuristics off).
 * constmerge folds the equal constant buffers the graphs emit (tiny_transformer's causal masks:
 * 180 KB of .rodata otherwise). docs/backend-llvm.md "Compile time" has the measurements. */
#define O2_MODULE "ipsccp,globalopt,deadargelim,constmerge"
#define O2_FUNCTION                                                                                    \
    "function(sroa,early-cse<memssa>,simplifycfg,instcombine,"                                         \
    "loop-mssa(licm),loop(loop-rotate,indvars,loop-deletion),simplifycfg,instcombine,"                 \
    "loop-vectorize,loop-load-elim,instcombine,simplifycfg,slp-vectorizer,instcombine,"                \
    "loop-unroll<O2;no-partial;no-runtime;no-upperbound;no-peeling;full-unroll-max=0>,instcombine,"     \
    "loop-mssa(licm),simplifycfg)"
static const char o2_passes[] = O2_MODULE "," O2_FUNCTION ",globaldce";

/* The pass pipeline of level: nnc's list at -O2, LLVM's default<On> at the others (buf holds
 * that text); $NNC_LLVM_PASSES, when set, replaces it (LLVM's textual pipeline syntax, for
 * measuring other lists: docs/backend-llvm.md). */
static const char *pass_pipeline(int level, char *buf, size_t size) {
    const char *env = getenv("NNC_LLVM_PASSES");
    if (env && *env)
        return env;
    if (level == 2)
        return o2_passes;
    snprintf(buf, size, "default<O%d>", level);
    return buf;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* -v / --time: the time of one part of the emit stage since *t, in the driver's format
 * (compiler/driver/pipeline.c, done()). */
static void lap(const LlvmOptions *o, const char *what, double *t) {
    double n = mono();
    if (o->verbose || o->time)
        fprintf(stderr, "nnc: %-14s %8.1f ms\n", what, (n - *t) * 1e3);
    *t = n;
}

/* ---- code generation in parts ----
 * LLVM's code generator works one function at a time and one LLVMContext is one thread's, so the
 * optimised module is cut into parts, each a copy of the module (bitcode, parsed into its own
 * context) keeping the definitions it owns and declaring the rest: part 0 is the module itself,
 * on this thread; the others run on threads of their own, each into its own object file, which
 * the link puts together. What a part owns is decided by the functions' sizes (instructions),
 * largest first onto the least loaded part, ties by module order: the same module gives the same
 * parts and the same bytes on every machine. Every global variable stays in part 0. Internal
 * definitions become hidden external symbols, so the parts can call each other and nothing new
 * is exported from the executable. */
#define SPLIT_MIN_INSNS 4000    /* below this a second thread costs more than it saves */

static int fn_size(LLVMValueRef f) {
    int n = 0;
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
        for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i))
            n++;
    return n;
}

static bool is_optnone(LLVMValueRef f) {
    unsigned kind = LLVMGetEnumAttributeKindForName("optnone", 7);
    return LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind) != NULL;
}

static bool local_linkage(LLVMLinkage l) { return l == LLVMInternalLinkage || l == LLVMPrivateLinkage; }

/* Keep the definitions of mod that owner[] gives to part `part` (functions with a body, in
 * module order), declare the others; every global variable's definition stays in part 0. */
static void keep_part(LLVMModuleRef mod, const unsigned char *owner, int part) {
    int nf = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        nf++;
    LLVMValueRef *fs = malloc(sizeof(LLVMValueRef) * (size_t)(nf + 1));
    if (!fs)
        die("out of memory");
    nf = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        fs[nf++] = f;
    int k = 0;
    for (int j = 0; j < nf; j++) {
        LLVMValueRef f = fs[j];
        if (LLVMIsDeclaration(f))
            continue;
        if (owner[k++] == part) {
            if (local_linkage(LLVMGetLinkage(f))) {
                LLVMSetLinkage(f, LLVMExternalLinkage);
                LLVMSetVisibility(f, LLVMHiddenVisibility);
            }
            continue;
        }
        /* another part's: a declaration of the same name, type and calling convention */
        size_t len;
        char *name = strdup(LLVMGetValueName2(f, &len));
        if (!name)
            die("out of memory");
        bool hidden = local_linkage(LLVMGetLinkage(f)) || LLVMGetVisibility(f) == LLVMHiddenVisibility;
        LLVMValueRef d = LLVMAddFunction(mod, "", LLVMGlobalGetValueType(f));
        LLVMSetFunctionCallConv(d, LLVMGetFunctionCallConv(f));
        LLVMReplaceAllUsesWith(f, d);
        LLVMDeleteFunction(f);
        LLVMSetValueName2(d, name, len);
        if (hidden)
            LLVMSetVisibility(d, LLVMHiddenVisibility);
        free(name);
    }
    free(fs);
    for (LLVMValueRef v = LLVMGetFirstGlobal(mod); v; v = LLVMGetNextGlobal(v)) {
        size_t len;
        const char *name = LLVMGetValueName2(v, &len);
        if (LLVMIsDeclaration(v) || !strncmp(name, "llvm.", 5))
            continue;
        bool local = local_linkage(LLVMGetLinkage(v));
        if (part != 0) {
            LLVMSetInitializer(v, NULL);
            LLVMSetLinkage(v, LLVMExternalLinkage);
            LLVMSetGlobalConstant(v, 0);
        } else if (local) {
            LLVMSetLinkage(v, LLVMExternalLinkage);
        }
        if (local)
            LLVMSetVisibility(v, LLVMHiddenVisibility);
    }
}

typedef struct Part {
    const char *bitcode;
    size_t size;
    const unsigned char *owner;
    int index;
    LLVMTargetMachineRef tm;
    const char *path;
    const char *fpipe;  /* function passes to run on the part first (O2_FUNCTION), or NULL */
    char *err;      /* LLVM's message when writing failed */
} Part;

/* LLVMRunPasses' options at an optimisation level: the loop and SLP vectorisers, unrolling and
 * interleaving from -O2 on */
static LLVMPassBuilderOptionsRef pass_options(int level) {
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(po, level >= 2);
    LLVMPassBuilderOptionsSetLoopUnrolling(po, level >= 2);
    LLVMPassBuilderOptionsSetLoopInterleaving(po, level >= 2);
    return po;
}

/* The -O2 list's function passes on one part's functions (a split code generation runs them in
 * each part's thread: they see one function at a time, so the code is the same as over the whole
 * module, and LLVM's optimiser no longer runs on one thread: char_lstm's 230 ms of it) */
static void run_function_passes(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *fpipe) {
    LLVMPassBuilderOptionsRef po = pass_options(2);
    LLVMErrorRef perr = LLVMRunPasses(mod, fpipe, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (perr) {
        char *msg = LLVMGetErrorMessage(perr);
        fprintf(stderr, "nnc: internal error: LLVMRunPasses(%s): %s\n", fpipe, msg);
        LLVMDisposeErrorMessage(msg);
        die("LLVMRunPasses failed");
    }
}

static void *emit_part(void *arg) {
    Part *p = arg;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMMemoryBufferRef mb = LLVMCreateMemoryBufferWithMemoryRange(p->bitcode, p->size, "part", 0);
    LLVMModuleRef mod;
    if (LLVMParseBitcodeInContext2(ctx, mb, &mod))
        die("cannot read back the module's bitcode");
    LLVMDisposeMemoryBuffer(mb);
    keep_part(mod, p->owner, p->index);
    if (p->fpipe)
        run_function_passes(mod, p->tm, p->fpipe);
    if (LLVMTargetMachineEmitToFile(p->tm, mod, (char *)p->path, LLVMObjectFile, &p->err) && !p->err)
        p->err = strdup("LLVMTargetMachineEmitToFile failed");
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    return NULL;
}

/* Code generation of mod into o->output and, when the module is large enough, o->more_outputs:
 * 0, or -1 after a diagnostic. *nwritten (when asked) is the number of files. */
static int emit_objects(LLVMModuleRef mod, LLVMTargetMachineRef tm, const LlvmOptions *o, const char *fpipe,
                        Diag *d) {
    int nparts = 1 + (o->more_outputs ? o->nmore : 0);
    int nf = 0, total = 0, nslow = 0, tslow = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        nf += !LLVMIsDeclaration(f);
    /* per definition, in module order: its instructions, and whether it is a graph's part function
     * (optnone: straight-line calls, PART_KERNELS per function) */
    int *size = malloc(sizeof(int) * (size_t)(nf + 1)), *order = malloc(sizeof(int) * (size_t)(nf + 1));
    unsigned char *owner = malloc((size_t)nf + 1);
    bool *slow = malloc((size_t)nf + 1);
    if (!size || !order || !owner || !slow)
        die("out of memory");
    int k = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        if (!LLVMIsDeclaration(f)) {
            size[k] = fn_size(f);
            slow[k] = is_optnone(f);
            total += size[k];
            if (slow[k])
                nslow++, tslow += size[k];
            k++;
        }
    bool unnamed = false;   /* a definition without a name could not be declared in another part */
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        size_t len;
        LLVMGetValueName2(f, &len);
        unnamed |= !LLVMIsDeclaration(f) && len == 0;
    }
    for (LLVMValueRef v = LLVMGetFirstGlobal(mod); v; v = LLVMGetNextGlobal(v)) {
        size_t len;
        LLVMGetValueName2(v, &len);
        unnamed |= !LLVMIsDeclaration(v) && len == 0;
    }
    if (total < SPLIT_MIN_INSNS || nf < 2 || unnamed)
        nparts = 1;
    if (nparts > nf)
        nparts = nf;
    if (nparts > 8)
        nparts = 8;
    /* a long graph's part functions take the last part, compiled at -O0: the greedy register
     * allocator and the machine passes that do not skip optnone functions cost char_lstm's parts
     * 3x the time -O0's fast allocator does, for calls whose speed does not matter beside the
     * kernels they call */
    bool slow_part = nparts >= 3 && nslow > 0 && nslow < nf && tslow >= SPLIT_MIN_INSNS;
    if (!slow_part && nparts > 2)
        nparts = 2;
    int nfast = slow_part ? nparts - 1 : nparts;   /* the parts compiled at o->opt_level */
    char *err = NULL;
    int rc = 0;
    if (nparts == 1) {
        if (fpipe)      /* the rest of the -O2 list on the whole module */
            run_function_passes(mod, tm, O2_FUNCTION ",globaldce");
        if (o->nwritten)
            *o->nwritten = 1;
        if (LLVMTargetMachineEmitToFile(tm, mod, (char *)o->output, LLVMObjectFile, &err)) {
            diag_plain(d, "cannot write '%s': %s", o->output, err ? err : "LLVMTargetMachineEmitToFile failed");
            rc = -1;
        }
        LLVMDisposeMessage(err);
        free(size), free(order), free(owner), free(slow);
        return rc;
    }
    /* owners: the part functions onto the -O0 part; the rest largest first onto the least loaded */
    long load[8] = {0};
    int nord = 0;
    for (k = 0; k < nf; k++) {
        if (slow_part && slow[k]) {
            owner[k] = (unsigned char)(nparts - 1);
            load[nparts - 1] += size[k];
        } else {
            order[nord++] = k;
        }
    }
    for (int i = 1; i < nord; i++)      /* insertion sort: larger first, then module order */
        for (int j = i; j > 0 && size[order[j]] > size[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < nord; i++) {
        int best = 0;
        for (int q = 1; q < nfast; q++)
            if (load[q] < load[best])
                best = q;
        owner[order[i]] = (unsigned char)best;
        load[best] += size[order[i]];
    }
    LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(mod);
    char *triple = LLVMGetTargetMachineTriple(tm), *cpu = LLVMGetTargetMachineCPU(tm),
         *features = LLVMGetTargetMachineFeatureString(tm);
    Part parts[8];
    pthread_t th[8];
    for (int q = 1; q < nparts; q++) {
        bool o0 = q >= nfast;
        parts[q] = (Part){.bitcode = LLVMGetBufferStart(bc), .size = LLVMGetBufferSize(bc), .owner = owner,
                          .index = q, .path = o->more_outputs[q - 1], .fpipe = o0 ? NULL : fpipe};
        LLVMTargetRef target = LLVMGetTargetMachineTarget(tm);
        parts[q].tm = LLVMCreateTargetMachine(target, triple, cpu, features, codegen_level[o0 ? 0 : o->opt_level],
                                              LLVMRelocPIC, LLVMCodeModelDefault);
        LLVM_CHECK(!parts[q].tm, "LLVMCreateTargetMachine", triple);
        if (pthread_create(&th[q], NULL, emit_part, &parts[q]))
            die("cannot start a code generation thread");
    }
    keep_part(mod, owner, 0);
    if (fpipe)
        run_function_passes(mod, tm, fpipe);
    if (LLVMTargetMachineEmitToFile(tm, mod, (char *)o->output, LLVMObjectFile, &err)) {
        diag_plain(d, "cannot write '%s': %s", o->output, err ? err : "LLVMTargetMachineEmitToFile failed");
        rc = -1;
    }
    LLVMDisposeMessage(err);
    for (int q = 1; q < nparts; q++) {
        pthread_join(th[q], NULL);
        if (parts[q].err && !rc) {
            diag_plain(d, "cannot write '%s': %s", parts[q].path, parts[q].err);
            rc = -1;
        }
        free(parts[q].err);
        LLVMDisposeTargetMachine(parts[q].tm);
    }
    if (o->verbose)
        for (int q = 0; q < nparts; q++)
            fprintf(stderr, "nnc: llvm: part %d: %ld instructions\n", q, load[q]);
    if (o->nwritten)
        *o->nwritten = nparts;
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    LLVMDisposeMemoryBuffer(bc);
    free(size), free(order), free(owner), free(slow);
    return rc;
}

int llvm_emit(const KModule *km, const LlvmOptions *o, Diag *d) {
    const IrModule *m = km->m;
    if (o->opt_level < 0 || o->opt_level > 3) {
        diag_plain(d, "optimisation level %d is not one of 0..3", o->opt_level);
        return -1;
    }
    if (!o->output || !*o->output) {
        diag_plain(d, "no output file for the llvm backend");
        return -1;
    }
    const char *prefix = o->prefix ? o->prefix : "nnc_model";
    if (!c_identifier(prefix)) {
        diag_plain(d, "symbol prefix '%s' is not a C identifier", prefix);
        return -1;
    }
    Cg g = {.km = km, .m = m, .o = o, .prefix = prefix};
    const char *ord = getenv("NNC_ROW_ORDERED");   /* and at -O0, where nothing would vectorise them */
    g.row_ordered = (ord && *ord && strcmp(ord, "0") != 0) || o->opt_level < 1;
    double t = mono();
    g.ctx = LLVMContextCreate();
    bool known;
    LLVMTargetMachineRef tm = make_target_machine(o->cpu, o->opt_level, o->verbose, &known);
    if (!known) {
        char *triple = LLVMGetTargetMachineTriple(tm);
        diag_plain(d, "unknown CPU '%s' for target %s", o->cpu, triple);
        diag_hint(d, "'llc-14 -mcpu=help' lists the names; without --cpu nnc targets this machine");
        LLVMDisposeMessage(triple);
        LLVMDisposeTargetMachine(tm);
        LLVMContextDispose(g.ctx);
        return -1;
    }
    g.mod = LLVMModuleCreateWithNameInContext(m->name ? m->name : "model", g.ctx);
    g.b = LLVMCreateBuilderInContext(g.ctx);
    init_types(&g);

    g.td = LLVMCreateTargetDataLayout(tm);
    if (check_layout(&g, stderr))
        die("the LLVM type of NncArgs does not match runtime/nnc_abi.h");
    char *layout_str = LLVMCopyStringRepOfTargetData(g.td);
    LLVMSetDataLayout(g.mod, layout_str);
    LLVMDisposeMessage(layout_str);
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(g.mod, triple);
    LLVMDisposeMessage(triple);

    emit_module(&g);

    char *err = NULL;
    if (LLVMVerifyModule(g.mod, LLVMReturnStatusAction, &err)) {
        fprintf(stderr, "nnc: internal error: the llvm backend built an invalid module:\n%s\n", err);
        if (o->verbose)
            LLVMDumpModule(g.mod);
        die("LLVMVerifyModule failed");
    }
    LLVMDisposeMessage(err);
    err = NULL;

    lap(o, "  llvm ir", &t);

    char passes[32];
    const char *pipe = pass_pipeline(o->opt_level, passes, sizeof passes);
    if (o->verbose)
        fprintf(stderr, "nnc: llvm: passes %s\n", pipe);
    LLVMPassBuilderOptionsRef po = pass_options(o->opt_level);
    /* -O2 into objects that may be split (emit_objects): the module passes here, the function
     * passes in each part's thread */
    const char *fpipe = NULL;
    if (pipe == o2_passes && o->kind != LLVM_OUT_IR && o->more_outputs && o->nmore > 0) {
        pipe = O2_MODULE;
        fpipe = O2_FUNCTION;
    }
    LLVMErrorRef perr = LLVMRunPasses(g.mod, pipe, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (perr) {
        char *msg = LLVMGetErrorMessage(perr);
        if (pipe != passes && pipe != o2_passes && !fpipe) {  /* $NNC_LLVM_PASSES: the user's text */
            diag_plain(d, "NNC_LLVM_PASSES: %s", msg);
            LLVMDisposeErrorMessage(msg);
            LLVMDisposeBuilder(g.b);
            LLVMDisposeModule(g.mod);
            LLVMDisposeTargetData(g.td);
            LLVMDisposeTargetMachine(tm);
            LLVMContextDispose(g.ctx);
            arena_free(&g.arena);
            return -1;
        }
        fprintf(stderr, "nnc: internal error: LLVMRunPasses(%s): %s\n", pipe, msg);
        LLVMDisposeErrorMessage(msg);
        die("LLVMRunPasses failed");
    }
    lap(o, "  llvm opt", &t);

    int rc = 0;
    if (o->verbose)
        fprintf(stderr, "nnc: llvm: writing %s %s\n", o->kind == LLVM_OUT_IR ? "LLVM IR" : "object",
                o->output);
    if (o->kind == LLVM_OUT_IR) {
        if (LLVMPrintModuleToFile(g.mod, o->output, &err)) {
            diag_plain(d, "cannot write '%s': %s", o->output, err ? err : "LLVMPrintModuleToFile failed");
            rc = -1;
        }
    } else {
        rc = emit_objects(g.mod, tm, o, fpipe, d);
    }
    if (err)
        LLVMDisposeMessage(err);
    if (!rc)
        lap(o, o->kind == LLVM_OUT_IR ? "  llvm print" : "  llvm codegen", &t);

    LLVMDisposeBuilder(g.b);
    LLVMDisposeModule(g.mod);
    LLVMDisposeTargetData(g.td);
    LLVMDisposeTargetMachine(tm);
    LLVMContextDispose(g.ctx);
    arena_free(&g.arena);
    return rc;
}

const Backend backend_llvm = {"llvm", llvm_emit, llvm_check_args_layout};
