/* cuda.c - the CUDA backend: planned kernel IR -> CUDA C source + a host schedule (cuda.h).
 *
 * Every kernel of every graph becomes one `extern "C" __global__` function, emitted once per
 * signature (k_kernel_sig: equal signatures compute the same function of their pointers). Every
 * such function takes (long long B, unsigned long long seed, const unsigned *V, pointers...):
 * B the batch size of the call, seed unused (rand reads the module's nnc_seed, which the runtime sets
 * before each call, so a CUDA graph can replay the launches), V the graph's values (one 4-byte slot
 * each, computed on the device by the graph's one-thread values kernel), then the kernel's buffers:
 * its output, its extra outputs, its non-value arguments, in that order. The source depends on B
 * only through expressions in B, so one PTX serves every batch size.
 *
 *   KK_ELEM, KK_FILL, structured ops, pools, conv and conv_bwd_data: one thread per result element,
 *     a grid-stride loop over the element count (a polynomial in B), 256 threads a block.
 *   KK_ROW: one block per row; each row statistic is a block reduction (warp shuffles, then the
 *     warps' partials through shared memory); the final loop writes the row's elements.
 *   KK_OP sum/rmax, conv_bwd_filter: one block per result element, a block reduction.
 *   KK_GEMM: a cuBLAS sgemm step of the schedule (row-major as C^T = op(B)^T op(A)^T), its
 *     epilogue (bias + activation) an elementwise kernel over C right after it; a batched
 *     (3-D) one is a cublasSgemmStridedBatched step with the same mapping and epilogue. A 2-D
 *     GEMM whose epilogue is a column bias, or a column bias then ReLU (lt_epilogue), is a
 *     `gemmlt` step: cuBLASLt's BIAS / RELU_BIAS epilogue, the kernel after it the fallback the
 *     runtime runs only without cuBLASLt.
 *
 * Sums accumulate in double (i32 in long long) as the interpreter does; max keeps NaN and the
 * first of ties (torch.maximum). The schedule is text (docs/backend-cuda.md, "The schedule"):
 * runtime/cuda.c reads it, so what an executable will do on the GPU is visible with `strings`.
 */
#include "cuda.h"

#include <ctype.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#define THREADS 256

typedef struct Src {
    Arena *a;
    FILE *o;                    /* the kernels */
    FILE *s;                    /* the schedule */
    const KModule *km;
    const KGraph *g;            /* the graph being rendered: its buffers' storage (KBuf.bf16) */
    /* kernels emitted so far, by signature */
    char **sig; const char **name; int nsig, capsig;
} Src;

/* ---- small text helpers ---- */

static const char *ctype(DType d) { return d == DT_F32 ? "float" : d == DT_I32 ? "int" : "bool"; }
static const char *mtype(DType d) { return d == DT_F32 ? "float" : d == DT_I32 ? "int" : "unsigned char"; }

/* Buffer b of the graph being rendered is stored in bf16 (plan.c, --precision bf16). */
static bool hb(const Src *S, int b) { return S->g && b >= 0 && b < S->g->nbufs && S->g->bufs[b].bf16; }
/* The element type of buffer b in memory: nnc_bf (the prelude's bf16, read as float and written
 * rounded) for a bf16 one, else mtype. */
static const char *btype(const Src *S, DType d, int b) { return hb(S, b) ? "nnc_bf" : mtype(d); }
static bool any_bf16(const KModule *km);

static const char *dimx(Arena *a, Dim d) {
    if (d.a == 0)
        return arena_printf(a, "%lldLL", (long long)d.c);
    return arena_printf(a, "(%lldLL*B + %lldLL)", (long long)d.a, (long long)d.c);
}

/* The element count of t as an expression in B. */
static const char *numelx(Arena *a, const IrType *t) {
    int64_t c = 1;
    const char *s = NULL;
    for (int k = 0; k < t->rank; k++) {
        if (t->dim[k].a == 0)
            c *= t->dim[k].c;
        else
            s = s ? arena_printf(a, "%s*%s", s, dimx(a, t->dim[k])) : dimx(a, t->dim[k]);
    }
    return s ? arena_printf(a, "(%lldLL*%s)", (long long)c, s) : arena_printf(a, "%lldLL", (long long)c);
}

/* The element count of t as a polynomial: n2*B^2 + n1*B + n0 (k_bytes over the element size). */
static KSize numel_poly(const IrType *t) {
    KSize b = k_bytes(t);
    int64_t e = ir_dtype_size(t->dtype);
    return (KSize){b.b2 / e, b.b / e, b.c / e};
}

static const char *flit(Arena *a, double v) {
    float f = (float)v;
    if (f != f)
        return "__int_as_float(0x7fc00000)";
    if (isinf(f))
        return f > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
    return arena_printf(a, "((float)%.9g)", (double)f);
}

static int32_t sat_i32(double v) {
    return v != v ? 0 : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
}

static const char *const_lit(Arena *a, DType dt, double v) {
    if (dt == DT_F32)
        return flit(a, v);
    if (dt == DT_I32)
        return arena_printf(a, "((int)%lldLL)", (long long)sat_i32(v));
    return v != 0 ? "true" : "false";
}

/* ---- scalar math: one element of an elementwise op, as a C expression ---- */

static const char *cast_x(Arena *a, const char *x, DType from, DType to) {
    if (from == to)
        return x;
    switch (to) {
    case DT_F32: return arena_printf(a, "((float)(%s))", x);
    case DT_I32: return from == DT_BOOL ? arena_printf(a, "((int)(%s))", x) : arena_printf(a, "nnc_f2i(%s)", x);
    case DT_BOOL: return arena_printf(a, "((%s) != 0)", x);
    }
    return x;
}

static const char *op_x(Arena *a, Op op, DType sdt, DType dt, const char *x, const char *y, const char *z) {
    bool f = sdt == DT_F32, i = sdt == DT_I32;
    switch (op) {
    case OP_NEG: return f ? arena_printf(a, "(-%s)", x) : arena_printf(a, "((int)(0u - (unsigned)%s))", x);
    case OP_EXP: return arena_printf(a, "expf(%s)", x);
    case OP_LOG: return arena_printf(a, "logf(%s)", x);
    case OP_SQRT: return arena_printf(a, "sqrtf(%s)", x);
    case OP_TANH: return arena_printf(a, "tanhf(%s)", x);
    case OP_ATAN: return arena_printf(a, "atanf(%s)", x);
    case OP_SIN: return arena_printf(a, "sinf(%s)", x);
    case OP_COS: return arena_printf(a, "cosf(%s)", x);
    case OP_ERF: return arena_printf(a, "erff(%s)", x);
    case OP_ASIN: return arena_printf(a, "asinf(%s)", x);
    case OP_ACOS: return arena_printf(a, "acosf(%s)", x);
    case OP_FLOOR: return f ? arena_printf(a, "floorf(%s)", x) : x;
    case OP_CEIL: return f ? arena_printf(a, "ceilf(%s)", x) : x;
    case OP_ROUND: return f ? arena_printf(a, "rintf(%s)", x) : x;     /* half to even */
    case OP_SIGMOID: return arena_printf(a, "nnc_sigmoid(%s)", x);
    case OP_ABS: return f ? arena_printf(a, "fabsf(%s)", x) : arena_printf(a, "nnc_absi(%s)", x);
    case OP_SIGN: return arena_printf(a, "nnc_sign(%s)", x);
    case OP_CAST: return cast_x(a, x, sdt, dt);
    case OP_NOT: return arena_printf(a, "(!%s)", x);
    case OP_STOP_GRAD: return x;
    case OP_ADD: return i ? arena_printf(a, "((int)((unsigned)%s + (unsigned)%s))", x, y) : arena_printf(a, "(%s + %s)", x, y);
    case OP_SUB: return i ? arena_printf(a, "((int)((unsigned)%s - (unsigned)%s))", x, y) : arena_printf(a, "(%s - %s)", x, y);
    case OP_MUL: return i ? arena_printf(a, "((int)((unsigned)%s * (unsigned)%s))", x, y) : arena_printf(a, "(%s * %s)", x, y);
    case OP_DIV: return f ? arena_printf(a, "(%s / %s)", x, y) : arena_printf(a, "nnc_divi(%s, %s)", x, y);
    case OP_MOD: return arena_printf(a, "nnc_mod(%s, %s)", x, y);
    case OP_POW: return arena_printf(a, "powf(%s, %s)", x, y);
    case OP_MAX: return arena_printf(a, "nnc_max(%s, %s)", x, y);
    case OP_MIN: return arena_printf(a, "nnc_min(%s, %s)", x, y);
    case OP_LT: return arena_printf(a, "(%s < %s)", x, y);
    case OP_LE: return arena_printf(a, "(%s <= %s)", x, y);
    case OP_GT: return arena_printf(a, "(%s > %s)", x, y);
    case OP_GE: return arena_printf(a, "(%s >= %s)", x, y);
    case OP_EQ: return arena_printf(a, "(%s == %s)", x, y);
    case OP_NE: return arena_printf(a, "(%s != %s)", x, y);
    case OP_AND: return arena_printf(a, "(%s && %s)", x, y);
    case OP_OR: return arena_printf(a, "(%s || %s)", x, y);
    case OP_SELECT: return arena_printf(a, "(%s ? %s : %s)", x, y, z);
    default: die("cuda backend: %s is not elementwise", ir_op_name[op]);
    }
}

/* The prelude every source starts with: no #include, so NVRTC needs no headers. */
static const char prelude[] =
    "/* generated by nnc: the CUDA backend (compiler/backend/cuda/cuda.c) */\n"
    "#define NNC_T 256\n"
    "__device__ __forceinline__ float nnc_sigmoid(float x) {\n"
    "    float e = expf(-fabsf(x));\n"
    "    return x >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);\n"
    "}\n"
    "__device__ __forceinline__ int nnc_f2i(float x) {\n"
    "    return x != x ? 0 : x >= 2147483647.f ? 2147483647 : x <= -2147483648.f ? (-2147483647 - 1) : (int)x;\n"
    "}\n"
    "__device__ __forceinline__ int nnc_absi(int x) { return x < 0 ? (int)(0u - (unsigned)x) : x; }\n"
    "__device__ __forceinline__ float nnc_sign(float x) { return x > 0.f ? 1.f : x < 0.f ? -1.f : x; }\n"
    "__device__ __forceinline__ int nnc_sign(int x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }\n"
    "__device__ __forceinline__ int nnc_divi(int x, int y) {\n"
    "    return y == 0 ? 0 : y == -1 ? (int)(0u - (unsigned)x) : x / y;\n"
    "}\n"
    "__device__ __forceinline__ int nnc_mod(int x, int y) {\n"
    "    if (y == 0 || y == -1) return 0;\n"
    "    int m = x % y;\n"
    "    return m != 0 && ((m ^ y) < 0) ? m + y : m;\n"
    "}\n"
    "__device__ __forceinline__ float nnc_mod(float x, float y) {\n"
    "    float m = fmodf(x, y);\n"
    "    return m != 0.f && ((m < 0.f) != (y < 0.f)) ? m + y : m;\n"
    "}\n"
    "__device__ __forceinline__ float nnc_max(float x, float y) { return (x >= y || x != x) ? x : y; }\n"
    "__device__ __forceinline__ float nnc_min(float x, float y) { return (x <= y || x != x) ? x : y; }\n"
    "__device__ __forceinline__ int nnc_max(int x, int y) { return x >= y ? x : y; }\n"
    "__device__ __forceinline__ int nnc_min(int x, int y) { return x <= y ? x : y; }\n"
    "__device__ __forceinline__ double nnc_comb(double a, double b, int mx) { return a + b; }\n"
    "__device__ __forceinline__ long long nnc_comb(long long a, long long b, int mx) { return a + b; }\n"
    "__device__ __forceinline__ float nnc_comb(float a, float b, int mx) { return nnc_max(a, b); }\n"
    "__device__ __forceinline__ int nnc_comb(int a, int b, int mx) { return nnc_max(a, b); }\n"
    "#ifndef NNC_EMU   /* tests/cuda/emu runs the kernels on the CPU, one thread a block */\n"
    "/* v reduced over the block (blockDim.x a multiple of 32, at most 1024): warp shuffles, then\n"
    " * the warps' partials through shared memory; every thread gets the result. */\n"
    "template <typename T> __device__ T nnc_block_reduce(T v, T id) {\n"
    "    __shared__ T sh[32];\n"
    "    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;\n"
    "    for (int o = 16; o > 0; o >>= 1) v = nnc_comb(v, __shfl_down_sync(0xffffffffu, v, o), 0);\n"
    "    __syncthreads();\n"
    "    if (lane == 0) sh[w] = v;\n"
    "    __syncthreads();\n"
    "    if (w == 0) {\n"
    "        v = lane < nw ? sh[lane] : id;\n"
    "        for (int o = 16; o > 0; o >>= 1) v = nnc_comb(v, __shfl_down_sync(0xffffffffu, v, o), 0);\n"
    "        if (lane == 0) sh[0] = v;\n"
    "    }\n"
    "    __syncthreads();\n"
    "    return sh[0];\n"
    "}\n"
    "#endif\n"
    "/* the call's seed (NncArgs.seed): runtime/cuda.c copies it here before each call's kernels, so a\n"
    " * CUDA graph that replays them needs no new parameters (the seed parameter is not read) */\n"
    "__device__ unsigned long long nnc_seed;\n"
    "/* runtime/rand.c's nnc_rand_uniform, bit for bit */\n"
    "__device__ __forceinline__ unsigned long long nnc_mix(unsigned long long z) {\n"
    "    z += 0x9E3779B97F4A7C15ull;\n"
    "    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;\n"
    "    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;\n"
    "    return z ^ (z >> 31);\n"
    "}\n"
    "__device__ __forceinline__ float nnc_rand(unsigned long long seed, unsigned long long stream, unsigned long long i) {\n"
    "    unsigned long long key = nnc_mix(seed ^ nnc_mix(stream));\n"
    "    return (float)(nnc_mix(key ^ i) >> 40) * (1.0f / 16777216.0f);\n"
    "}\n"
    "#define NNC_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); "
    "i += (long long)gridDim.x * blockDim.x)\n"
    "#define NNC_BLOCKS(r, n) for (long long r = blockIdx.x; r < (n); r += gridDim.x)\n"
    "#define NNC_COLS(c, n) for (long long c = threadIdx.x; c < (n); c += blockDim.x)\n"
    "/* runtime/cuda.c after each train step, once per param: *flag = 1 when w[0, B) holds a NaN or an\n"
    " * infinity (exponent bits all ones), so the params need not come back to the host to be checked */\n"
    "extern \"C\" __global__ void __launch_bounds__(NNC_T) nnc_nonfinite(long long B, unsigned long long seed, "
    "const unsigned *V, const unsigned *w, int *flag) {\n"
    "    NNC_LOOP(i, B) if ((w[i] & 0x7f800000u) == 0x7f800000u) *flag = 1;\n"
    "}\n";

/* nnc --precision bf16 (a module with a bf16 buffer): the storage type, 2 bytes, read as float
 * (exact) and written rounded to nearest even (cvt.rn.bf16.f32, sm_80 and newer; the emulator's
 * host build the same in integer arithmetic); the runtime's copy of an f32 operand into bf16 for a
 * GEMM whose other operand or result is bf16 (cuBLAS wants both operands of one type). */
static const char prelude_bf16[] =
    "/* bf16 storage (nnc --precision bf16): the activations kept for the backward pass */\n"
    "__device__ __forceinline__ unsigned short nnc_f2bf(float v) {\n"
    "#ifdef NNC_EMU\n"
    "    unsigned u = (unsigned)__float_as_int(v);\n"
    "    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);\n"
    "    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);\n"
    "#else\n"
    "    unsigned short h;\n"
    "    asm(\"cvt.rn.bf16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(v));\n"
    "    return h;\n"
    "#endif\n"
    "}\n"
    "struct nnc_bf {\n"
    "    unsigned short h;\n"
    "    __device__ __forceinline__ operator float() const { return __int_as_float((int)((unsigned)h << 16)); }\n"
    "    __device__ __forceinline__ nnc_bf &operator=(float v) { h = nnc_f2bf(v); return *this; }\n"
    "};\n"
    "/* runtime/cuda.c: out[0, n) = a0 rounded to bf16 (an f32 GEMM operand beside a bf16 one) */\n"
    "extern \"C\" __global__ void __launch_bounds__(NNC_T) nnc_to_bf16(long long n, unsigned long long seed, "
    "const unsigned *V, nnc_bf *out, const float *a0) {\n"
    "    NNC_LOOP(i, n) out[i] = a0[i];\n"
    "}\n";

bool cuda_module_bf16(const KModule *km) { return any_bf16(km); }

int cuda_check_bf16_archs(Diag *d, const KModule *km, const char *const *archs, int n) {
    for (int i = 0; i < n && any_bf16(km); i++)
        if (atoi(archs[i] + 3) < 80) {
            diag_plain(d, "--precision bf16 needs --gpu-arch sm_80 or newer (bf16 conversions), not %s", archs[i]);
            return -1;
        }
    return 0;
}

static bool any_bf16(const KModule *km) {
    const KGraph *gs[2] = {km->forward, km->evaluate};
    for (int k = 0; k < 2 + km->nsteps; k++) {
        const KGraph *g = k < 2 ? gs[k] : km->steps[k - 2];
        for (int b = 0; g && b < g->nbufs; b++)
            if (g->bufs[b].bf16)
                return true;
    }
    return false;
}

/* ---- kernel bodies ---- */

/* The load of argument ar through parameter p at index `at`. */
static const char *load_x(Arena *a, const Kernel *k, int arg, const char *at) {
    const KArg *ar = &k->args[arg];
    if (ar->kind == KA_VAL)
        return ar->type.dtype == DT_F32 ? arena_printf(a, "__int_as_float((int)V[%d])", ar->ref)
               : ar->type.dtype == DT_I32 ? arena_printf(a, "((int)V[%d])", ar->ref)
                                          : arena_printf(a, "(V[%d] != 0u)", ar->ref);
    const char *idx = ar->kind == KA_BUF0 ? "0" : at;
    if (ar->type.dtype == DT_BOOL)
        return arena_printf(a, "(a%d[%s] != 0)", arg, idx);
    return arena_printf(a, "a%d[%s]", arg, idx);
}

/* One instruction e of k's body as a declaration `T vE = ...;` (i, r, c: the element, its row and
 * column, as C names). */
static void body_instr(Src *S, const Kernel *k, int e, const char *i, const char *r, const char *c, const char *ind) {
    const KExpr *x = &k->body[e];
    Arena *a = S->a;
    if (x->kind == KE_ARG) {
        const KArg *ar = &k->args[x->ref];
        const char *at = ar->kind == KA_ROW   ? r
                         : ar->kind == KA_COL  ? c
                         : ar->kind == KA_TILE ? arena_printf(a, "(%s) %% %lldLL", i, (long long)ir_numel(&ar->type, 0))
                                               : i;
        fprintf(S->o, "%s%s v%d = %s;\n", ind, ctype(x->dt), e, cast_x(a, load_x(a, k, x->ref, at), ar->type.dtype, x->dt));
        return;
    }
    if (x->kind != KE_OP)
        die("cuda backend: kernel body instruction %d is not an op or an argument", e);
    const char *sv[IR_MAXSRC] = {"", "", ""};
    for (int q = 0; q < ir_op_nsrc[x->op]; q++)
        sv[q] = arena_printf(a, "v%u", x->src[q]);
    fprintf(S->o, "%s%s v%d = %s;\n", ind, ctype(x->dt), e, op_x(a, x->op, x->sdt, x->dt, sv[0], sv[1], sv[2]));
}

/* The whole body at element i (every instruction; a reduction in it is a bug here). */
static void body_all(Src *S, const Kernel *k, const char *i, const char *r, const char *c, const char *ind) {
    for (int e = 0; e < k->nbody; e++)
        body_instr(S, k, e, i, r, c, ind);
}

/* The parameter list: B, seed, V, out, extra outputs, the buffers of the arguments. */
static void params(Src *S, const Kernel *k, const char *name, bool out) {
    fprintf(S->o, "extern \"C\" __global__ void __launch_bounds__(NNC_T) %s(long long B, unsigned long long seed, "
                  "const unsigned *V", name);
    if (out)
        fprintf(S->o, ", %s *out", btype(S, k->type.dtype, k->out));
    for (int x = 0; x < k->nx; x++)
        fprintf(S->o, ", %s *x%d", btype(S, k->body[k->xexpr[x]].dt, k->xbuf[x]), x);
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind != KA_VAL)
            fprintf(S->o, ", const %s *a%d", btype(S, k->args[a].type.dtype, k->args[a].ref), a);
    fputs(") {\n", S->o);
}

static const char *store_x(Arena *a, DType dt, const char *v) {
    return dt == DT_BOOL ? arena_printf(a, "(unsigned char)(%s)", v) : v;
}

/* Row and column of flat index `i` in a space whose last dim is cols. */
static void row_col(Src *S, const IrType *t, const char *i, const char *ind) {
    const char *cols = t->rank ? dimx(S->a, t->dim[t->rank - 1]) : "1LL";
    fprintf(S->o, "%slong long r = %s / %s, c = %s - r * %s;\n", ind, i, cols, i, cols);
    fprintf(S->o, "%s(void)r; (void)c;\n", ind);
}

static void k_elem(Src *S, const Kernel *k, const char *name) {
    params(S, k, name, true);
    fprintf(S->o, "    NNC_LOOP(i, %s) {\n", numelx(S->a, &k->type));
    if (k_reads_rows_cols(k))
        row_col(S, &k->type, "i", "        ");
    body_all(S, k, "i", "r", "c", "        ");
    for (int x = 0; x < k->nx; x++)
        fprintf(S->o, "        x%d[i] = %s;\n", x, store_x(S->a, k->body[k->xexpr[x]].dt, arena_printf(S->a, "v%d", k->xexpr[x])));
    fprintf(S->o, "        out[i] = %s;\n    }\n}\n", store_x(S->a, k->type.dtype, arena_printf(S->a, "v%d", k->nbody - 1)));
}

static void k_fill(Src *S, const Kernel *k, const char *name) {
    params(S, k, name, true);
    fprintf(S->o, "    NNC_LOOP(i, %s) out[i] = %s;\n}\n", numelx(S->a, &k->type),
            store_x(S->a, k->type.dtype, load_x(S->a, k, 0, "0")));
}

static void row_elems(Src *S, const Kernel *k, const uint8_t *lv, const uint8_t *need, const char *ind) {
    for (int e = 0; e < k->nbody; e++)
        if (!lv[e] && need[e])
            body_instr(S, k, e, "i", "r", "c", ind);
}

/* KK_ROW: one block per row of pro seen as [rows, cols]. */
static void k_row(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    int n = k->nbody;
    uint8_t *lv = arena_alloc(a, (size_t)n + 1), *need = arena_alloc(a, (size_t)n + 1);
    k_row_levels(k, lv);
    const IrType *p = &k->pro;
    const char *cols = p->rank ? dimx(a, p->dim[p->rank - 1]) : "1LL";
    params(S, k, name, true);
    IrType pr = *p;     /* the rows: pro's other dims (no division: cols may be B, or 0) */
    if (pr.rank)
        pr.rank--;
    fprintf(S->o, "    const long long cols = %s, rows = %s;\n", cols, numelx(a, &pr));
    fputs("    NNC_BLOCKS(r, rows) {\n", S->o);
    for (int e = 0; e < n; e++) {
        const KExpr *x = &k->body[e];
        if (!lv[e])
            continue;
        if (!(x->kind == KE_OP && k_row_reduce(x))) {
            body_instr(S, k, e, "r", "r", "0", "        ");
            continue;
        }
        bool max = x->op == OP_RMAX, f32 = x->dt == DT_F32;
        const char *aty = max ? ctype(x->dt) : f32 ? "double" : "long long";
        const char *id = max ? (f32 ? "__int_as_float(0xff800000)" : "(-2147483647 - 1)") : f32 ? "0.0" : "0LL";
        fprintf(S->o, "        %s acc%d = %s;\n", aty, e, id);
        memset(need, 0, (size_t)n);
        uint32_t s = x->src[0];
        if (!lv[s])
            k_row_need(k, lv, (int)s, need);
        fputs("        NNC_COLS(c, cols) {\n            long long i = r * cols + c;\n            (void)i;\n", S->o);
        row_elems(S, k, lv, need, "            ");
        if (max)
            fprintf(S->o, "            acc%d = nnc_max(acc%d, v%u);\n", e, e, s);
        else
            fprintf(S->o, "            acc%d += (%s)v%u;\n", e, aty, s);
        fputs("        }\n", S->o);
        fprintf(S->o, "        %s v%d = (%s)nnc_block_reduce<%s>(acc%d, (%s)%s);\n", ctype(x->dt), e, ctype(x->dt), aty, e, aty, id);
    }
    bool per_elem = k_row_per_element(k, &k->type);
    if (!per_elem)
        fprintf(S->o, "        if (threadIdx.x == 0) out[r] = %s;\n", store_x(a, k->type.dtype, arena_printf(a, "v%d", n - 1)));
    int nxe = 0;    /* extra outputs per element; those per row (xrow) are stored once, here */
    for (int x = 0; x < k->nx; x++) {
        if (k->xrow && k->xrow[x])
            fprintf(S->o, "        if (threadIdx.x == 0) x%d[r] = %s;\n", x,
                    store_x(a, k->body[k->xexpr[x]].dt, arena_printf(a, "v%d", k->xexpr[x])));
        else
            nxe++;
    }
    if (per_elem || nxe) {
        memset(need, 0, (size_t)n);
        if (per_elem && !lv[n - 1])
            k_row_need(k, lv, n - 1, need);
        for (int x = 0; x < k->nx; x++)
            if (!lv[k->xexpr[x]] && !(k->xrow && k->xrow[x]))
                k_row_need(k, lv, k->xexpr[x], need);
        fputs("        NNC_COLS(c, cols) {\n            long long i = r * cols + c;\n", S->o);
        row_elems(S, k, lv, need, "            ");
        for (int x = 0; x < k->nx; x++)
            if (!(k->xrow && k->xrow[x]))
                fprintf(S->o, "            x%d[i] = %s;\n", x, store_x(a, k->body[k->xexpr[x]].dt, arena_printf(a, "v%d", k->xexpr[x])));
        if (per_elem)
            fprintf(S->o, "            out[i] = %s;\n", store_x(a, k->type.dtype, arena_printf(a, "v%d", n - 1)));
        fputs("        }\n", S->o);
    }
    /* the block's threads finish the row before the shared partials are reused */
    fputs("        __syncthreads();\n    }\n}\n", S->o);
}

/* Declares the coordinates q0..q(rank-1) of flat index `i` in t (row-major). */
static void coords(Src *S, const IrType *t, const char *i, const char *q, const char *ind) {
    if (t->rank == 0)
        return;
    fprintf(S->o, "%slong long %s_rest = %s;\n", ind, q, i);
    for (int d = t->rank - 1; d >= 0; d--) {
        const char *e = dimx(S->a, t->dim[d]);
        if (d == 0)
            fprintf(S->o, "%slong long %s%d = %s_rest;\n", ind, q, d, q);
        else
            fprintf(S->o, "%slong long %s%d = %s_rest %% %s; %s_rest /= %s;\n", ind, q, d, q, e, q, e);
    }
}

/* Row-major strides of t as expressions. */
static void strides_x(Arena *a, const IrType *t, const char **st) {
    const char *s = "1LL";
    for (int d = t->rank - 1; d >= 0; d--) {
        st[d] = s;
        s = arena_printf(a, "%s*%s", s, dimx(a, t->dim[d]));
    }
}

static bool dim_eq(Dim x, Dim y) { return x.a == y.a && x.c == y.c; }

/* broadcast, transpose, slice, unslice, concat, reshape copy, rand, one_hot, gather: one thread
 * per result element, the source offset from the result's coordinates. */
static void k_index_op(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    const IrType *t = &k->type;
    const char *st[IR_MAXRANK], *ss[IR_MAXRANK];
    params(S, k, name, true);
    fprintf(S->o, "    NNC_LOOP(i, %s) {\n", numelx(a, t));
    const char *I = "        ";
    switch ((Op)k->op) {
    case OP_RESHAPE:
        fputs("        out[i] = a0[i];\n", S->o);
        break;
    case OP_RAND:
        fprintf(S->o, "        out[i] = nnc_rand(nnc_seed, %lldULL, (unsigned long long)i);\n", (long long)k->attr.i[0]);
        break;
    case OP_BROADCAST: {
        const IrType *s = &k->args[0].type;
        int lead = t->rank - s->rank;
        if (lead < 0)
            die("cuda backend: broadcast from rank %d to %d", s->rank, t->rank);
        coords(S, t, "i", "q", I);
        strides_x(a, s, ss);
        const char *off = "0LL";
        for (int d = lead; d < t->rank; d++) {
            int sd = d - lead;
            bool stretched = dim_eq(s->dim[sd], (Dim){0, 1}) && !dim_eq(t->dim[d], (Dim){0, 1});
            if (!stretched)
                off = arena_printf(a, "%s + q%d*%s", off, d, ss[sd]);
        }
        fprintf(S->o, "        out[i] = a0[%s];\n", off);
        break;
    }
    case OP_TRANSPOSE: {
        const IrType *s = &k->args[0].type;
        coords(S, t, "i", "q", I);
        strides_x(a, s, ss);
        const char *off = "0LL";
        for (int d = 0; d < t->rank; d++) {
            int64_t from = k->attr.i[d];
            if (from < 0 || from >= s->rank)
                die("cuda backend: transpose: bad permutation entry %lld", (long long)from);
            off = arena_printf(a, "%s + q%d*%s", off, d, ss[from]);
        }
        fprintf(S->o, "        out[i] = a0[%s];\n", off);
        break;
    }
    case OP_SLICE: {
        const IrType *s = &k->args[0].type;
        int64_t axis = k->attr.i[0], step = k->attr.i[3];
        coords(S, t, "i", "q", I);
        strides_x(a, s, ss);
        const char *off = "0LL";
        for (int d = 0; d < t->rank; d++)
            off = d == axis ? arena_printf(a, "%s + (%s + q%d*%lldLL)*%s", off, dimx(a, ir_slice_start(&k->attr)), d,
                                           (long long)step, ss[d])
                            : arena_printf(a, "%s + q%d*%s", off, d, ss[d]);
        fprintf(S->o, "        out[i] = a0[%s];\n", off);
        break;
    }
    case OP_UNSLICE: {
        const IrType *s = &k->args[0].type;
        int64_t axis = k->attr.i[0], step = k->attr.i[3];
        coords(S, t, "i", "q", I);
        strides_x(a, s, ss);
        fprintf(S->o, "        long long u = q%lld - %s;\n", (long long)axis, dimx(a, ir_slice_start(&k->attr)));
        fprintf(S->o, "        bool in = u >= 0 && u %% %lldLL == 0 && u / %lldLL < %s;\n", (long long)step, (long long)step,
                dimx(a, s->dim[axis]));
        const char *off = "0LL";
        for (int d = 0; d < t->rank; d++)
            off = d == axis ? arena_printf(a, "%s + (u / %lldLL)*%s", off, (long long)step, ss[d])
                            : arena_printf(a, "%s + q%d*%s", off, d, ss[d]);
        fprintf(S->o, "        out[i] = in ? a0[%s] : (%s)0;\n", off, mtype(t->dtype));
        break;
    }
    case OP_CONCAT: {
        int64_t axis = k->attr.i[0];
        coords(S, t, "i", "q", I);
        fputs("        long long at = 0;\n", S->o);
        for (int s = 0; s < k->nargs; s++) {
            const IrType *sty = &k->args[s].type;
            strides_x(a, sty, ss);
            const char *off = "0LL";
            for (int d = 0; d < t->rank; d++)
                off = arena_printf(a, "%s + %s*%s", off, d == axis ? arena_printf(a, "(q%d - at)", d) : arena_printf(a, "q%d", d), ss[d]);
            fprintf(S->o, "        if (q%lld >= at && q%lld < at + %s) { out[i] = a%d[%s]; continue; }\n", (long long)axis,
                    (long long)axis, dimx(a, sty->dim[axis]), s, off);
            fprintf(S->o, "        at += %s;\n", dimx(a, sty->dim[axis]));
        }
        break;
    }
    case OP_ONE_HOT: {
        const char *w = dimx(a, t->dim[t->rank - 1]);
        fprintf(S->o, "        long long j = i / %s, q = i - j * %s;\n", w, w);
        fprintf(S->o, "        out[i] = (%s)((long long)a0[j] == q ? 1 : 0);\n", mtype(t->dtype));
        break;
    }
    case OP_GATHER: {
        const char *w = dimx(a, t->dim[t->rank - 1]);
        fprintf(S->o, "        long long j = i / %s, q = i - j * %s, row = a1[j];\n", w, w);
        fprintf(S->o, "        out[i] = row >= 0 && row < %s ? a0[row * %s + q] : (%s)0;\n", dimx(a, k->args[0].type.dim[0]), w,
                mtype(t->dtype));
        break;
    }
    default: die("cuda backend: no kernel for op %s", ir_op_name[k->op]);
    }
    (void)st;
    fputs("    }\n}\n", S->o);
}

/* SCATTER_ADD: the schedule zeroes the result first; one thread per (index element, column) adds
 * atomically. */
static void k_scatter(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    const IrType *t = &k->type, *it = &k->args[1].type;
    const char *w = dimx(a, t->dim[t->rank - 1]);
    params(S, k, name, true);
    fprintf(S->o, "    NNC_LOOP(i, %s*%s) {\n", numelx(a, it), w);
    fprintf(S->o, "        long long j = i / %s, q = i - j * %s, row = a1[j];\n", w, w);
    fprintf(S->o, "        if (row >= 0 && row < %s) atomicAdd(&out[row * %s + q], %sa0[i]);\n    }\n}\n", dimx(a, t->dim[0]), w,
            hb(S, k->args[0].ref) ? "(float)" : "");
}

/* SUM and RMAX (with or without a fused prologue): one block per result element. */
static void k_reduce(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    const IrType *t = &k->type, *s = k->nbody ? &k->pro : &k->args[0].type;
    bool max = k->op == OP_RMAX;
    DType dt = t->dtype;
    if (dt == DT_BOOL)
        die("cuda backend: %s over bool", ir_op_name[k->op]);
    uint64_t mask = (uint64_t)k->attr.i[0];
    const char *ss[IR_MAXRANK];
    strides_x(a, s, ss);
    IrType kept = {.dtype = dt}, red = {.dtype = dt};
    int kd[IR_MAXRANK], rd[IR_MAXRANK];
    for (int d = 0; d < s->rank; d++) {
        if (mask >> d & 1)
            rd[red.rank] = d, red.dim[red.rank++] = s->dim[d];
        else
            kd[kept.rank] = d, kept.dim[kept.rank++] = s->dim[d];
    }
    bool f32 = dt == DT_F32;
    const char *aty = max ? ctype(dt) : f32 ? "double" : "long long";
    const char *id = max ? (f32 ? "__int_as_float(0xff800000)" : "(-2147483647 - 1)") : f32 ? "0.0" : "0LL";
    params(S, k, name, true);
    fprintf(S->o, "    const long long nout = %s, nred = %s;\n", numelx(a, t), numelx(a, &red));
    fputs("    NNC_BLOCKS(o, nout) {\n", S->o);
    coords(S, &kept, "o", "p", "        ");
    const char *base = "0LL";
    for (int j = 0; j < kept.rank; j++)
        base = arena_printf(a, "%s + p%d*%s", base, j, ss[kd[j]]);
    fprintf(S->o, "        const long long base = %s;\n        %s acc = %s;\n", base, aty, id);
    fputs("        NNC_COLS(e, nred) {\n", S->o);
    coords(S, &red, "e", "q", "            ");
    const char *off = "base";
    for (int j = 0; j < red.rank; j++)
        off = arena_printf(a, "%s + q%d*%s", off, j, ss[rd[j]]);
    fprintf(S->o, "            long long i = %s;\n", off);
    const char *v = "a0[i]";
    if (k->nbody) {
        if (k_reads_rows_cols(k))
            row_col(S, s, "i", "            ");
        body_all(S, k, "i", "r", "c", "            ");
        v = arena_printf(a, "v%d", k->nbody - 1);
    }
    if (max)
        fprintf(S->o, "            acc = nnc_max(acc, %s);\n", v);
    else
        fprintf(S->o, "            acc += (%s)%s;\n", aty, v);
    fputs("        }\n", S->o);
    fprintf(S->o, "        %s res = nnc_block_reduce<%s>(acc, (%s)%s);\n", aty, aty, aty, id);
    fprintf(S->o, "        if (threadIdx.x == 0) out[o] = (%s)res;\n        __syncthreads();\n    }\n}\n", ctype(dt));
}

/* Pools, channels-last, as 2-D (ir_pool_geom). Forward: one thread per result element, the
 * window scanned in the interpreter's order (rows, then columns; the first max, NaN wins).
 * Adjoints: one thread per element of dx, summing over the windows that hold it. */
static void k_pool(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    Op op = (Op)k->op;
    bool bwd = op == OP_MAXPOOL_BWD || op == OP_AVGPOOL_BWD;
    if (bwd && k->nbody)
        die("cuda backend: %s with a fused prologue", ir_op_name[op]);
    const IrType *xt = bwd ? &k->type : k->nbody ? &k->pro : &k->args[0].type;
    IrPool p = ir_pool_geom(&k->attr, xt, 0);
    params(S, k, name, true);
    fprintf(S->o, "    const long long H = %lld, W = %lld, C = %lld, OH = %lld, OW = %lld, N = %s;\n", (long long)p.h,
            (long long)p.w, (long long)p.c, (long long)p.oh, (long long)p.ow, dimx(a, xt->dim[0]));
    fprintf(S->o, "    const long long KH = %lld, KW = %lld, SH = %lld, SW = %lld, PH = %lld, PW = %lld;\n", (long long)p.k[0],
            (long long)p.k[1], (long long)p.s[0], (long long)p.s[1], (long long)p.lo[0], (long long)p.lo[1]);
    /* the window of result position (oh, ow), clipped: rows [hs, he), columns [ws, we) */
    const char *win = "long long hs = oh*SH - PH, ws = ow*SW - PW, he = hs + KH, we = ws + KW;\n"
                      "            hs = hs < 0 ? 0 : hs; ws = ws < 0 ? 0 : ws; he = he > H ? H : he; we = we > W ? W : we;\n";
    if (!bwd) {
        fputs("    NNC_LOOP(o, N*OH*OW*C) {\n"
              "        long long ch = o % C, ow = o / C % OW, oh = o / (C*OW) % OH, n = o / (C*OW*OH);\n"
              "        {\n            ", S->o);
        fputs(win, S->o);
        fprintf(S->o, "            float acc = %s;\n", op == OP_MAXPOOL ? "__int_as_float(0xff800000)" : "0.f");
        fputs("            for (long long h = hs; h < he; h++)\n"
              "                for (long long w = ws; w < we; w++) {\n"
              "                    long long i = ((n*H + h)*W + w)*C + ch;\n", S->o);
        const char *xv = "a0[i]";
        if (k->nbody) {
            fputs("                    long long r = (n*H + h)*W + w, c = ch;\n                    (void)r; (void)c;\n", S->o);
            body_all(S, k, "i", "r", "c", "                    ");
            xv = arena_printf(a, "v%d", k->nbody - 1);
        }
        if (op == OP_MAXPOOL)
            fprintf(S->o, "                    float v = %s;\n                    if (v > acc || v != v) acc = v;\n", xv);
        else
            fprintf(S->o, "                    acc += %s;\n", xv);
        fputs("                }\n", S->o);
        if (op == OP_AVGPOOL)
            fputs("            acc = acc / (float)((he - hs) * (we - ws));\n", S->o);
        fputs("            out[o] = acc;\n        }\n    }\n}\n", S->o);
        return;
    }
    /* dx[n, h, w, ch]: windows oh with oh*SH - PH <= h < oh*SH - PH + KH */
    const char *dy = op == OP_MAXPOOL_BWD ? "a1" : "a0";
    fputs("    NNC_LOOP(e, N*H*W*C) {\n"
          "        long long ch = e % C, w = e / C % W, h = e / (C*W) % H, n = e / (C*W*H);\n"
          "        float acc = 0.f;\n"
          "        long long oh0 = h + PH - KH + 1, ow0 = w + PW - KW + 1;\n"
          "        oh0 = oh0 <= 0 ? 0 : (oh0 + SH - 1) / SH; ow0 = ow0 <= 0 ? 0 : (ow0 + SW - 1) / SW;\n"
          "        for (long long oh = oh0; oh < OH && oh*SH - PH <= h; oh++)\n"
          "            for (long long ow = ow0; ow < OW && ow*SW - PW <= w; ow++) {\n            ", S->o);
    fputs(win, S->o);
    fprintf(S->o, "                long long o = ((n*OH + oh)*OW + ow)*C + ch;\n");
    if (op == OP_AVGPOOL_BWD) {
        fprintf(S->o, "                acc += %s[o] / (float)((he - hs) * (we - ws));\n", dy);
    } else {
        fputs("                long long best = ((n*H + hs)*W + ws)*C + ch;\n"
              "                float m = __int_as_float(0xff800000);\n"
              "                for (long long hh = hs; hh < he; hh++)\n"
              "                    for (long long ww = ws; ww < we; ww++) {\n"
              "                        long long i = ((n*H + hh)*W + ww)*C + ch;\n"
              "                        float v = a0[i];\n"
              "                        if (v > m || v != v) { m = v; best = i; }\n"
              "                    }\n", S->o);
        fprintf(S->o, "                if (best == e) acc += %s[o];\n", dy);
    }
    fputs("            }\n        out[e] = acc;\n    }\n}\n", S->o);
}

/* Convolution, channels-last, direct: x [N, H, W, C], w [KH, KW, C/G, F], y [N, OH, OW, F]. */
static void k_conv(Src *S, const Kernel *k, const char *name) {
    Arena *a = S->a;
    IrConv c;
    const char *why = ir_conv_node_geom((Op)k->op, &k->args[0].type, &k->args[1].type, &k->type, &k->attr, &c);
    if (why)
        die("cuda backend: %s: %s", ir_op_name[k->op], why);
    Kernel kk = *k;
    kk.nx = 0;      /* the im2col scratch is not used on the GPU */
    params(S, &kk, name, true);
    fprintf(S->o, "    const long long N = %s, H = %lld, W = %lld, C = %lld, OH = %lld, OW = %lld, F = %lld;\n", dimx(a, c.N),
            (long long)c.H, (long long)c.W, (long long)c.C, (long long)c.OH, (long long)c.OW, (long long)c.F);
    fprintf(S->o, "    const long long KH = %lld, KW = %lld, G = %lld, SH = %lld, SW = %lld, DH = %lld, DW = %lld, PH = %lld, PW = %lld;\n",
            (long long)c.KH, (long long)c.KW, (long long)c.G, (long long)c.sh, (long long)c.sw, (long long)c.dh,
            (long long)c.dw, (long long)c.ph, (long long)c.pw);
    fputs("    const long long CG = C / G, FG = F / G;\n", S->o);
    switch ((Op)k->op) {
    case OP_CONV:       /* a0 = x, a1 = w */
        fprintf(S->o, "    NNC_LOOP(o, N*OH*OW*F) {\n"
              "        long long f = o %% F, ow = o / F %% OW, oh = o / (F*OW) %% OH, n = o / (F*OW*OH), g = f / FG;\n"
              "        float acc = 0.f;\n"
              "        for (long long kh = 0; kh < KH; kh++) {\n"
              "            long long h = oh*SH - PH + kh*DH;\n"
              "            if (h < 0 || h >= H) continue;\n"
              "            for (long long kw = 0; kw < KW; kw++) {\n"
              "                long long w = ow*SW - PW + kw*DW;\n"
              "                if (w < 0 || w >= W) continue;\n"
              "                const %s *xp = a0 + ((n*H + h)*W + w)*C + g*CG;\n"
              "                const %s *wp = a1 + ((kh*KW + kw)*CG)*F + f;\n"
              "                for (long long ci = 0; ci < CG; ci++) acc += xp[ci] * wp[ci*F];\n"
              "            }\n"
              "        }\n"
              "        out[o] = acc;\n", btype(S, DT_F32, k->args[0].ref), btype(S, DT_F32, k->args[1].ref));
        if (k->nbody) {     /* its epilogue (plan.c): the body at element o, reading the product back */
            fputs("        {\n            long long i = o, r = o / F, c = o - r * F;\n            (void)i; (void)r; (void)c;\n", S->o);
            body_all(S, k, "i", "r", "c", "            ");
            fprintf(S->o, "            out[o] = v%d;\n        }\n", k->nbody - 1);
        }
        fputs("    }\n}\n", S->o);
        break;
    case OP_CONV_BWD_DATA:     /* a0 = dy, a1 = w; out = dx */
        fprintf(S->o, "    NNC_LOOP(e, N*H*W*C) {\n"
              "        long long ch = e %% C, w = e / C %% W, h = e / (C*W) %% H, n = e / (C*W*H), g = ch / CG, ci = ch %% CG;\n"
              "        float acc = 0.f;\n"
              "        for (long long kh = 0; kh < KH; kh++) {\n"
              "            long long th = h + PH - kh*DH;\n"
              "            if (th < 0 || th %% SH) continue;\n"
              "            long long oh = th / SH;\n"
              "            if (oh >= OH) continue;\n"
              "            for (long long kw = 0; kw < KW; kw++) {\n"
              "                long long tw = w + PW - kw*DW;\n"
              "                if (tw < 0 || tw %% SW) continue;\n"
              "                long long ow = tw / SW;\n"
              "                if (ow >= OW) continue;\n"
              "                const %s *dp = a0 + ((n*OH + oh)*OW + ow)*F + g*FG;\n"
              "                const %s *wp = a1 + ((kh*KW + kw)*CG + ci)*F + g*FG;\n"
              "                for (long long f = 0; f < FG; f++) acc += dp[f] * wp[f];\n"
              "            }\n"
              "        }\n"
              "        out[e] = acc;\n"
              "    }\n}\n", btype(S, DT_F32, k->args[0].ref), btype(S, DT_F32, k->args[1].ref));
        break;
    case OP_CONV_BWD_FILTER:   /* a0 = x, a1 = dy; out = dw: one block per weight */
        fputs("    NNC_BLOCKS(o, KH*KW*CG*F) {\n"
              "        long long f = o % F, ci = o / F % CG, kw = o / (F*CG) % KW, kh = o / (F*CG*KW), g = f / FG;\n"
              "        double acc = 0.0;\n"
              "        NNC_COLS(p, N*OH*OW) {\n"
              "            long long ow = p % OW, oh = p / OW % OH, n = p / (OW*OH);\n"
              "            long long h = oh*SH - PH + kh*DH, w = ow*SW - PW + kw*DW;\n"
              "            if (h >= 0 && h < H && w >= 0 && w < W)\n"
              "                acc += (double)a0[((n*H + h)*W + w)*C + g*CG + ci] * a1[p*F + f];\n"
              "        }\n"
              "        double res = nnc_block_reduce<double>(acc, 0.0);\n"
              "        if (threadIdx.x == 0) out[o] = (float)res;\n"
              "        __syncthreads();\n"
              "    }\n}\n", S->o);
        break;
    default: die("cuda backend: conv kernel of %s", ir_op_name[k->op]);
    }
}

/* The GEMM's epilogue alone: an elementwise kernel over C (llvm.c's emit_gemm_epilogue). */
static Kernel epilogue(Arena *a, const Kernel *k) {
    Kernel e = *k;
    e.kind = KK_ELEM;
    e.args = k->args + 2;
    e.nargs = k->nargs - 2;
    e.body = arena_alloc(a, sizeof(KExpr) * (size_t)k->nbody);
    for (int b = 0; b < k->nbody; b++) {
        e.body[b] = k->body[b];
        if (e.body[b].kind == KE_ARG)
            e.body[b].ref -= 2;
    }
    return e;
}

/* The cuBLASLt epilogue a 2-D GEMM's body is (docs/backend-cuda.md), or 0 when it is none:
 * 4 (CUBLASLT_EPILOGUE_BIAS): C + bias[c], the bias a column argument (one value per column of C);
 * 6 (CUBLASLT_EPILOGUE_RELU_BIAS): then select(x > 0, x, 0), the 0 a constant value. *bias is the
 * bias's buffer. cuBLASLt adds the bias to the f32 product and clamps, the kernel's arithmetic. */
static int lt_epilogue(const KGraph *g, const Kernel *k, int *bias) {
    const KExpr *b = k->body;
    if (k->kind != KK_GEMM || k->type.rank != 2 || k->type.dtype != DT_F32 || k->nx || (k->nbody != 3 && k->nbody != 6))
        return 0;
    int n = (int)k->type.dim[1].c;
    if (k->type.dim[1].a || n <= 0)
        return 0;
    /* %0 = the product (the kernel's own output), %1 = the column bias, %2 = add of the two */
    if (b[0].kind != KE_ARG || b[1].kind != KE_ARG || b[2].kind != KE_OP || b[2].op != OP_ADD || b[2].dt != DT_F32)
        return 0;
    int pa = b[0].ref, ba = b[1].ref;
    if (!((b[2].src[0] == 0 && b[2].src[1] == 1) || (b[2].src[0] == 1 && b[2].src[1] == 0)))
        return 0;
    if (pa < 2 || ba < 2 || pa >= k->nargs || ba >= k->nargs)
        return 0;
    const KArg *P = &k->args[pa], *Bi = &k->args[ba];
    if (P->kind != KA_BUF || P->ref != k->out || P->type.dtype != DT_F32 || Bi->kind != KA_COL ||
        Bi->type.dtype != DT_F32 || ir_numel(&Bi->type, 0) != n || ir_numel(&Bi->type, 1) != n)
        return 0;
    *bias = Bi->ref;
    if (k->nbody == 3)
        return 4;
    /* %3 = the constant 0, %4 = %2 > %3, %5 = select(%4, %2, %3) */
    if (b[3].kind != KE_ARG || b[3].ref < 2 || b[3].ref >= k->nargs || k->args[b[3].ref].kind != KA_VAL)
        return 0;
    const KExpr *z = &g->vals[k->args[b[3].ref].ref];
    if (z->kind != KE_CONST || z->dt != DT_F32 || z->f != 0.0)
        return 0;
    if (b[4].kind != KE_OP || b[4].op != OP_GT || b[4].src[0] != 2 || b[4].src[1] != 3 || b[5].kind != KE_OP ||
        b[5].op != OP_SELECT || b[5].src[0] != 4 || b[5].src[1] != 2 || b[5].src[2] != 3)
        return 0;
    return 6;
}

/* How a kernel is launched: 'e' one thread per element (grid-stride), 'b' one block per item. */
typedef struct Launch { char mode; KSize n; } Launch;

/* The rows of t seen as [rows, last dim]: the product of its other dims (a batch-sized last dim,
 * the one row of a batch's loss over [B], is one row). */
static KSize rows_of(const IrType *t) {
    if (t->rank && t->dim[t->rank - 1].a == 0 && t->dim[t->rank - 1].c <= 0)
        return (KSize){0, 0, 0};
    IrType r = *t;
    if (r.rank)
        r.rank--;
    return numel_poly(&r);
}

static Launch launch_of(const Kernel *k) {
    switch (k->kind) {
    case KK_ELEM: case KK_FILL: return (Launch){'e', numel_poly(&k->type)};
    case KK_ROW: return (Launch){'b', rows_of(&k->pro)};
    case KK_CONV:
        return (Launch){k->op == OP_CONV_BWD_FILTER ? 'b' : 'e', numel_poly(&k->type)};
    case KK_OP:
        if (k->op == OP_SUM || k->op == OP_RMAX)
            return (Launch){'b', numel_poly(&k->type)};
        if (k->op == OP_SCATTER_ADD) {
            KSize n = numel_poly(&k->args[1].type);
            int64_t w = k->type.dim[k->type.rank - 1].c;
            return (Launch){'e', (KSize){n.b2 * w, n.b * w, n.c * w}};
        }
        return (Launch){'e', numel_poly(&k->type)};
    case KK_GEMM: return (Launch){'e', numel_poly(&k->type)};   /* its epilogue */
    case KK_ALLREDUCE: break;   /* a schedule step, no launch (graph()) */
    }
    return (Launch){'e', {0, 0, 0}};
}

/* The kernel function of k (emitted once per signature and value slots); returns its name. */
static const char *kernel_name(Src *S, const Kernel *k, int gi, int ki) {
    char *sig = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&sig, &n);
    if (!f)
        die("out of memory");
    k_kernel_sig(f, k);
    for (int a = 0; a < k->nargs; a++)      /* values are read from V by index: part of the function */
        if (k->args[a].kind == KA_VAL)
            fprintf(f, " $v%d@%d", k->args[a].ref, a);
    /* the buffers' storage is part of the function too: which of out, extra outputs, arguments are bf16 */
    bool h = hb(S, k->out);
    for (int x = 0; x < k->nx; x++)
        h |= hb(S, k->xbuf[x]);
    for (int a = 0; a < k->nargs; a++)
        h |= k->args[a].kind != KA_VAL && hb(S, k->args[a].ref);
    if (h) {
        fprintf(f, " bf16:%d", hb(S, k->out));
        for (int x = 0; x < k->nx; x++)
            fprintf(f, "%d", hb(S, k->xbuf[x]));
        fputc(':', f);
        for (int a = 0; a < k->nargs; a++)
            fprintf(f, "%d", k->args[a].kind != KA_VAL && hb(S, k->args[a].ref));
    }
    fclose(f);
    for (int i = 0; i < S->nsig; i++)
        if (!strcmp(S->sig[i], sig)) {
            free(sig);
            return S->name[i];
        }
    if (S->nsig == S->capsig) {
        S->capsig = S->capsig ? 2 * S->capsig : 64;
        S->sig = realloc(S->sig, sizeof(char *) * (size_t)S->capsig);
        S->name = realloc(S->name, sizeof(char *) * (size_t)S->capsig);
        if (!S->sig || !S->name)
            die("out of memory");
    }
    const char *kind = k->kind == KK_OP || k->kind == KK_CONV || k->kind == KK_GEMM ? ir_op_name[k->op]
                       : k->kind == KK_ROW ? "row" : k->kind == KK_FILL ? "fill" : "elem";
    const char *name = arena_printf(S->a, "nnc_g%d_k%d_%s", gi, ki, kind);
    S->sig[S->nsig] = sig;
    S->name[S->nsig++] = name;
    fprintf(S->o, "\n/* %s */\n", sig);
    switch (k->kind) {
    case KK_ELEM: k_elem(S, k, name); break;
    case KK_FILL: k_fill(S, k, name); break;
    case KK_ROW: k_row(S, k, name); break;
    case KK_CONV: k_conv(S, k, name); break;
    case KK_ALLREDUCE: die("cuda backend: an allreduce is a schedule step, not a kernel");
    case KK_GEMM: {
        Kernel e = epilogue(S->a, k);
        k_elem(S, &e, name);
        break;
    }
    case KK_OP:
        if (k->op == OP_SUM || k->op == OP_RMAX)
            k_reduce(S, k, name);
        else if (k_is_pool(k))
            k_pool(S, k, name);
        else if (k->op == OP_SCATTER_ADD)
            k_scatter(S, k, name);
        else
            k_index_op(S, k, name);
        break;
    }
    return name;
}

/* ---- the values kernel of a graph ---- */

static void values_kernel(Src *S, const KGraph *g, int gi) {
    Arena *a = S->a;
    fprintf(S->o, "\nextern \"C\" __global__ void nnc_g%d_values(long long B, unsigned long long seed, unsigned *V, "
                  "float lr, long long step, long long total) {\n    if (blockIdx.x || threadIdx.x) return;\n", gi);
    for (int v = 0; v < g->nvals; v++) {
        const KExpr *x = &g->vals[v];
        const char *e = NULL;
        switch (x->kind) {
        case KE_CONST: e = const_lit(a, x->dt, x->f); break;
        case KE_HYPER: {
            if (x->ref == HY_LR) {
                e = cast_x(a, "lr", DT_F32, x->dt);
                break;
            }
            const char *h = x->ref == HY_STEP ? "step" : x->ref == HY_TOTAL_STEPS ? "total" : "B";
            e = x->dt == DT_F32 ? arena_printf(a, "((float)%s)", h)
                : x->dt == DT_I32 ? arena_printf(a, "((int)(%s < -2147483648LL ? -2147483648LL : %s > 2147483647LL ? 2147483647LL : %s))", h, h, h)
                                  : arena_printf(a, "(%s != 0)", h);
            break;
        }
        case KE_OP: {
            const char *sv[IR_MAXSRC] = {"", "", ""};
            for (int q = 0; q < ir_op_nsrc[x->op]; q++)
                sv[q] = arena_printf(a, "u%u", x->src[q]);
            e = op_x(a, x->op, x->sdt, x->dt, sv[0], sv[1], sv[2]);
            break;
        }
        case KE_ARG: die("cuda backend: a value reads a kernel argument");
        }
        fprintf(S->o, "    %s u%d = %s;\n", ctype(x->dt), v, e);
        fprintf(S->o, "    V[%d] = %s;\n", v,
                x->dt == DT_F32 ? arena_printf(a, "(unsigned)__float_as_int(u%d)", v) : arena_printf(a, "(unsigned)u%d", v));
    }
    fputs("}\n", S->o);
}

/* ---- the schedule ---- */

/* Buffer b in a schedule step: t<tensor>, w<workspace offset>, g<global>. */
static void ref_any(Src *S, const KGraph *g, int gi, int b) {
    const KBuf *bf = &g->bufs[b];
    switch (bf->kind) {
    case KB_ARG: fprintf(S->s, " t%d", bf->tensor); break;
    case KB_TEMP: fprintf(S->s, " w%lld,%lld,%lld", (long long)bf->off.b2, (long long)bf->off.b, (long long)bf->off.c); break;
    case KB_GLOBAL: fprintf(S->s, " gnnc_g%d_c%d", gi, b); break;
    }
}

/* The same in a step that copies or reads f32 bytes (copy, zero, loss): never a bf16 buffer
 * (plan.c bf16_ok keeps results, scatters and allreduces in f32). */
static void ref_text(Src *S, const KGraph *g, int gi, int b) {
    if (g->bufs[b].bf16)
        die("cuda backend: bf16 buffer %%b%d of graph %s in a schedule step that copies f32 bytes", b, g->name);
    ref_any(S, g, gi, b);
}

static void size_text(Src *S, KSize n) { fprintf(S->s, " %lld %lld %lld", (long long)n.b2, (long long)n.b, (long long)n.c); }

static void dim_text(Src *S, Dim d) { fprintf(S->s, " %lld %lld", (long long)d.a, (long long)d.c); }

static void globals(Src *S, const KGraph *g, int gi) {
    for (int b = 0; b < g->nbufs; b++) {
        const KBuf *bf = &g->bufs[b];
        if (bf->kind != KB_GLOBAL)
            continue;
        int64_t cnt = ir_numel(&bf->type, 0);
        fprintf(S->o, "__device__ %s nnc_g%d_c%d[%lld] = {", mtype(bf->type.dtype), gi, b, (long long)(cnt ? cnt : 1));
        for (int64_t k = 0; k < cnt; k++) {
            if (k % 8 == 0)
                fputs("\n   ", S->o);
            double v = bf->data[k];
            if (bf->type.dtype == DT_F32)
                fprintf(S->o, " %s,", flit(S->a, v));
            else
                fprintf(S->o, " %d,", bf->type.dtype == DT_I32 ? sat_i32(v) : v != 0);
        }
        fputs(cnt ? "\n};\n" : " 0 };\n", S->o);
    }
}

/* A conv kernel cuDNN can compute (a `conv` step; runtime/cuda_dnn.c): f32, cuDNN's output size
 * (padding PH on both sides, as cuDNN pads) equal to the kernel's, and no conv_bwd_data or
 * conv_bwd_filter with a fused body (plan fuses epilogues into forward convs only). */
static bool conv_dnn(const Src *S, const Kernel *k, IrConv *c) {
    if (k->kind != KK_CONV || hb(S, k->out) || hb(S, k->args[0].ref) || hb(S, k->args[1].ref) || k->type.dtype != DT_F32 || k->args[0].type.dtype != DT_F32 ||
        k->args[1].type.dtype != DT_F32 || (k->op != OP_CONV && k->nbody > 0))
        return false;
    if (ir_conv_node_geom((Op)k->op, &k->args[0].type, &k->args[1].type, &k->type, &k->attr, c))
        return false;
    int64_t oh = (c->H + 2 * c->ph - c->dh * (c->KH - 1) - 1) / c->sh + 1;
    int64_t ow = (c->W + 2 * c->pw - c->dw * (c->KW - 1) - 1) / c->sw + 1;
    return oh == c->OH && ow == c->OW && c->C % c->G == 0 && c->F % c->G == 0;
}

static void graph(Src *S, const KGraph *g, int gi) {
    if (!g->planned)
        die("graph %s reached the cuda backend unplanned", g->name);
    S->g = g;
    globals(S, g, gi);
    fprintf(S->s, "graph %d %s %d\n", gi, g->name, g->nvals);
    if (g->nvals) {
        values_kernel(S, g, gi);
        fprintf(S->s, "values nnc_g%d_values\n", gi);
    }
    for (int ki = 0; ki < g->nkern; ki++) {
        const Kernel *k = &g->kern[ki];
        if (k->kind == KK_ALLREDUCE) {
            /* the gradients' mean over the processes: `allreduce N`, then N copies (result,
             * gradient; the same buffer when reduced in place): without MPI runtime/cuda.c runs
             * the copies (the mean over one process), under MPI NCCL reduces each gradient into
             * its result on the device (runtime/nccl.c) */
            fprintf(S->s, "allreduce %d\n", k->nargs);
            for (int j = 0; j < k->nargs; j++) {
                int o = j ? k->xbuf[j - 1] : k->out;
                fputs("copy", S->s);
                ref_text(S, g, gi, o);
                ref_text(S, g, gi, k->args[j].ref);
                size_text(S, k_bytes(&k->args[j].type));
                fputc('\n', S->s);
            }
            continue;
        }
        if (k->kind == KK_GEMM) {
            const IrType *t = &k->type, *ta = &k->args[0].type, *tb = &k->args[1].type;
            bool tra = k->attr.i[0] != 0, trb = k->attr.i[1] != 0;
            /* a bf16 operand or result: `gemm:XYZ`, the storage of A, B, C (h bf16, f f32) */
            bool ha = hb(S, k->args[0].ref), hbb = hb(S, k->args[1].ref), hc = hb(S, k->out);
            const char *ty = ha || hbb || hc ? arena_printf(S->a, ":%c%c%c", ha ? 'h' : 'f', hbb ? 'h' : 'f', hc ? 'h' : 'f') : "";
            if (t->rank == 3 && ta->rank == 3 && tb->rank == 3) {
                /* batched [P, M, K] @ [P, K, N] (attention's products): one strided batched call */
                fprintf(S->s, "bgemm%s %d %d", ty, tra, trb);
                dim_text(S, t->dim[0]);
                dim_text(S, t->dim[1]);
                dim_text(S, t->dim[2]);
                dim_text(S, ta->dim[tra ? 1 : 2]);
            } else if (t->rank == 2 && ta->rank == 2 && tb->rank == 2) {
                int bias = -1, epi = lt_epilogue(g, k, &bias);
                if (epi && hb(S, bias))
                    epi = 0;
                if (epi)
                    fprintf(S->s, "gemmlt%s %d %d %d", ty, epi, tra, trb);
                else
                    fprintf(S->s, "gemm%s %d %d", ty, tra, trb);
                dim_text(S, t->dim[0]);
                dim_text(S, t->dim[1]);
                dim_text(S, ta->dim[tra ? 0 : 1]);
                dim_text(S, ta->dim[1]);
                dim_text(S, tb->dim[1]);
            } else {
                die("cuda backend: matmul of rank %d x %d -> %d", ta->rank, tb->rank, t->rank);
            }
            ref_any(S, g, gi, k->args[0].ref);
            ref_any(S, g, gi, k->args[1].ref);
            ref_any(S, g, gi, k->out);
            int bias = -1;
            if (t->rank == 2 && lt_epilogue(g, k, &bias) && !hb(S, bias))
                ref_text(S, g, gi, bias);
            fputc('\n', S->s);
            if (!k->nbody)
                continue;
        }
        if (k->kind == KK_OP && k->op == OP_SCATTER_ADD) {
            fputs("zero", S->s);
            ref_text(S, g, gi, k->out);
            size_text(S, k_bytes(&k->type));
            fputc('\n', S->s);
        }
        /* a convolution cuDNN can compute (conv_dnn): its `conv` step, then the direct kernel (the
         * runtime's fallback, run only without cuDNN), then for a forward conv with an epilogue
         * that epilogue alone (run only after cuDNN) */
        IrConv cg;
        bool dnn = conv_dnn(S, k, &cg);
        if (dnn) {
            int kind = k->op == OP_CONV ? 0 : k->op == OP_CONV_BWD_DATA ? 1 : 2;
            fprintf(S->s, "conv %d %d", kind, kind == 0 && k->nbody > 0);
            dim_text(S, cg.N);
            fprintf(S->s, " %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld",
                    (long long)cg.H, (long long)cg.W, (long long)cg.C, (long long)cg.OH, (long long)cg.OW,
                    (long long)cg.F, (long long)cg.KH, (long long)cg.KW, (long long)cg.G, (long long)cg.sh,
                    (long long)cg.sw, (long long)cg.dh, (long long)cg.dw, (long long)cg.ph, (long long)cg.pw);
            ref_text(S, g, gi, k->args[0].ref);
            ref_text(S, g, gi, k->args[1].ref);
            ref_text(S, g, gi, k->out);
            fputc('\n', S->s);
        }
        const char *name = kernel_name(S, k, gi, ki);
        Launch l = launch_of(k);
        fprintf(S->s, "launch %s %c", name, l.mode);
        size_text(S, l.n);
        ref_any(S, g, gi, k->out);
        const Kernel *pk = k;
        Kernel e;
        if (k->kind == KK_GEMM) {
            e = epilogue(S->a, k);
            pk = &e;
        }
        for (int x = 0; x < pk->nx && pk->kind != KK_CONV; x++)
            ref_any(S, g, gi, pk->xbuf[x]);
        for (int a = 0; a < pk->nargs; a++)
            if (pk->args[a].kind != KA_VAL)
                ref_any(S, g, gi, pk->args[a].ref);
        fputc('\n', S->s);
        if (dnn && k->op == OP_CONV && k->nbody > 0) {     /* the epilogue alone, over cuDNN's product */
            Kernel ep = epilogue(S->a, k);
            ep.nx = 0;
            const char *en = kernel_name(S, &ep, gi, ki);
            fprintf(S->s, "launch %s e", en);
            size_text(S, numel_poly(&ep.type));
            ref_any(S, g, gi, ep.out);
            for (int a = 0; a < ep.nargs; a++)
                if (ep.args[a].kind != KA_VAL)
                    ref_any(S, g, gi, ep.args[a].ref);
            fputc('\n', S->s);
        }
    }
    /* results: outputs and losses, then staged updates, then the updates not written in place */
    for (int r = 0; r < g->nres; r++) {
        const KRes *res = &g->res[r];
        if (res->kind == KR_OUTPUT && !res->direct) {
            fprintf(S->s, "copy t%d", res->index);
            ref_text(S, g, gi, res->buf);
            size_text(S, k_bytes(&res->type));
            fputc('\n', S->s);
        }
        if (res->kind == KR_LOSS) {
            fprintf(S->s, "loss %d %s", res->index, ir_dtype_name(res->type.dtype));
            ref_text(S, g, gi, res->buf);
            fputc('\n', S->s);
        }
    }
    for (int r = 0; r < g->nres; r++) {
        const KRes *res = &g->res[r];
        if (res->stage < 0)
            continue;
        fputs("copy", S->s);
        ref_text(S, g, gi, res->stage);
        ref_text(S, g, gi, res->buf);
        size_text(S, k_bytes(&res->type));
        fputc('\n', S->s);
    }
    for (int r = 0; r < g->nres; r++) {
        const KRes *res = &g->res[r];
        if (res->kind != KR_UPDATE || res->direct)
            continue;
        fprintf(S->s, "copy t%d", res->index);
        ref_text(S, g, gi, res->stage >= 0 ? res->stage : res->buf);
        size_text(S, k_bytes(&res->type));
        fputc('\n', S->s);
    }
    fputs("end\n", S->s);
}

/* Both texts at once: the kernels into *src, the schedule into *sched. */
static void render(Arena *a, const KModule *km, char **src, char **sched) {
    size_t n1 = 0, n2 = 0;
    Src S = {.a = a, .km = km};
    S.o = open_memstream(src, &n1);
    S.s = open_memstream(sched, &n2);
    if (!S.o || !S.s)
        die("out of memory");
    fputs(prelude, S.o);
    bool bf16 = any_bf16(km);
    if (bf16)
        fputs(prelude_bf16, S.o);
    const IrModule *m = km->m;
    fprintf(S.s, "nnc-cuda 1\n");
    if (bf16)           /* activations in bf16: the runtime's GEMMs and its nnc_to_bf16 copies */
        fputs("precision bf16\n", S.s);
    for (int t = 0; t < m->ntensors; t++) {
        const IrTensor *tn = &m->tensors[t];
        KSize b = k_bytes(&tn->type);
        fprintf(S.s, "tensor %d %s %lld %lld\n", t, ir_role_name[tn->role], (long long)b.b, (long long)b.c);
    }
    fprintf(S.s, "workspace");
    size_text(&S, km->workspace);
    fputc('\n', S.s);
    if (km->forward)
        graph(&S, km->forward, 0);
    if (km->evaluate)
        graph(&S, km->evaluate, 1);
    for (int s = 0; s < km->nsteps; s++)
        graph(&S, km->steps[s], 2 + s);
    fputs("done\n", S.s);
    fclose(S.o);
    fclose(S.s);
    for (int i = 0; i < S.nsig; i++)
        free(S.sig[i]);
    free(S.sig);
    free(S.name);
}

const char *cuda_source(Arena *a, const KModule *km) {
    char *src = NULL, *sched = NULL;
    render(a, km, &src, &sched);
    const char *r = arena_printf(a, "%s", src);
    free(src);
    free(sched);
    return r;
}

const char *cuda_schedule(Arena *a, const KModule *km) {
    char *src = NULL, *sched = NULL;
    render(a, km, &src, &sched);
    const char *r = arena_printf(a, "%s", sched);
    free(src);
    free(sched);
    return r;
}

void cuda_print_source(FILE *out, const KModule *km) {
    Arena *a = km->arena;
    char *src = NULL, *sched = NULL;
    render(a, km, &src, &sched);
    fputs(src, out);
    fputs("\n/* the host schedule (runtime/cuda.c runs it):\n", out);
    fputs(sched, out);
    fputs("*/\n", out);
    free(src);
    free(sched);
}

/* ---- NVRTC, opened at nnc time ---- */

typedef int (*nvrtcCreateProgram_t)(void **, const char *, const char *, int, const char *const *, const char *const *);
typedef int (*nvrtcCompileProgram_t)(void *, int, const char *const *);
typedef int (*nvrtcGetSize_t)(void *, size_t *);
typedef int (*nvrtcGetText_t)(void *, char *);
typedef int (*nvrtcDestroyProgram_t)(void **);
typedef const char *(*nvrtcGetErrorString_t)(int);

static void *nvrtc_open(Diag *d, int verbose) {
    static void *h;
    if (h)
        return h;
    const char *env = getenv("NNC_NVRTC");
    const char *names[] = {env && *env ? env : NULL, "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                           "/usr/local/cuda/lib64/libnvrtc.so"};
    static char first[512];     /* the first failure: the name users look for */
    for (size_t i = 0; i < sizeof names / sizeof *names && !h; i++) {
        if (!names[i])
            continue;
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h && !first[0])
            snprintf(first, sizeof first, "%s", dlerror());
        else if (h && verbose)
            fprintf(stderr, "nnc: nvrtc: %s\n", names[i]);
    }
    if (!h)
        diag_plain(d, "--target cuda needs NVRTC, which was not found: %s", first[0] ? first : "libnvrtc.so");
    if (!h)
        diag_hint(d, "install the CUDA toolkit (its lib64 on the library path) or set NNC_NVRTC to libnvrtc.so's path");
    return h;
}

const char *cuda_nvrtc_ptx(Arena *a, Diag *d, const char *src, const char *arch, int verbose) {
    void *h = nvrtc_open(d, verbose);
    if (!h)
        return NULL;
    nvrtcCreateProgram_t create = (nvrtcCreateProgram_t)dlsym(h, "nvrtcCreateProgram");
    nvrtcCompileProgram_t compile = (nvrtcCompileProgram_t)dlsym(h, "nvrtcCompileProgram");
    nvrtcGetSize_t logsize = (nvrtcGetSize_t)dlsym(h, "nvrtcGetProgramLogSize");
    nvrtcGetText_t getlog = (nvrtcGetText_t)dlsym(h, "nvrtcGetProgramLog");
    nvrtcGetSize_t ptxsize = (nvrtcGetSize_t)dlsym(h, "nvrtcGetPTXSize");
    nvrtcGetText_t getptx = (nvrtcGetText_t)dlsym(h, "nvrtcGetPTX");
    nvrtcDestroyProgram_t destroy = (nvrtcDestroyProgram_t)dlsym(h, "nvrtcDestroyProgram");
    nvrtcGetErrorString_t errstr = (nvrtcGetErrorString_t)dlsym(h, "nvrtcGetErrorString");
    if (!create || !compile || !logsize || !getlog || !ptxsize || !getptx || !destroy || !errstr) {
        diag_plain(d, "the NVRTC library found lacks nvrtcCreateProgram and the calls nnc needs");
        return NULL;
    }
    void *prog = NULL;
    int rc = create(&prog, src, "model.cu", 0, NULL, NULL);
    if (rc) {
        diag_plain(d, "nvrtcCreateProgram: %s", errstr(rc));
        return NULL;
    }
    const char *opts[] = {arena_printf(a, "--gpu-architecture=compute_%s", arch + 3), "--std=c++17", "-default-device",
                          "--fmad=false"};
    rc = compile(prog, 4, opts);
    size_t ln = 0;
    logsize(prog, &ln);
    char *log = arena_alloc(a, ln + 1);
    if (ln)
        getlog(prog, log);
    if (rc) {
        diag_plain(d, "NVRTC failed to compile the model's CUDA source for %s (%s): %s", arch, errstr(rc), log);
        diag_hint(d, "this is a bug in nnc's CUDA backend; `nnc --emit cuda` prints the source");
        destroy(&prog);
        return NULL;
    }
    if (verbose && ln > 1)
        fprintf(stderr, "nnc: nvrtc log for %s:\n%s\n", arch, log);
    size_t pn = 0;
    ptxsize(prog, &pn);
    char *ptx = arena_alloc(a, pn + 1);
    getptx(prog, ptx);
    destroy(&prog);
    return ptx;
}

int cuda_parse_archs(Arena *a, Diag *d, const char *list, const char **archs) {
    if (!list)
        list = "sm_80,sm_90";
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        const char *s = arena_strndup(a, p, len);
        bool ok = len >= 5 && len <= 7 && !strncmp(s, "sm_", 3) && atoi(s + 3) >= 50;
        for (size_t k = 3; ok && k < len; k++)
            ok = isdigit((unsigned char)s[k]) || (k == len - 1 && (s[k] == 'a' || s[k] == 'f') && len > 5);
        if (!ok) {
            diag_plain(d, "--gpu-arch: '%s' is not an architecture like sm_80", s);
            diag_hint(d, "give a comma-separated list such as sm_80,sm_90 (sm_50 and newer)");
            return -1;
        }
        if (n == 8) {
            diag_plain(d, "--gpu-arch: at most 8 architectures");
            return -1;
        }
        archs[n++] = s;
        if (!q)
            break;
        p = q + 1;
    }
    if (n == 0) {
        diag_plain(d, "--gpu-arch: no architecture given");
        return -1;
    }
    return n;
}

/* ---- the executable's C file ---- */

static void c_string(FILE *f, const char *s) {
    fputc('"', f);
    int col = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            fputs("\\n\"\n\"", f);
            col = 0;
            continue;
        }
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 32 || *p > 126)
            fprintf(f, "\\%03o", *p);
        else
            fputc(*p, f);
        if (++col > 200) {
            fputs("\"\n\"", f);
            col = 0;
        }
    }
    fputc('"', f);
}

int cuda_emit(const KModule *km, const BackendOptions *o, Diag *d) {
    Arena *a = km->arena;
    if (o->kind == BACKEND_OUT_TEXT) {
        FILE *f = fopen(o->output, "w");
        if (!f) {
            diag_plain(d, "cannot write %s", o->output);
            return -1;
        }
        cuda_print_source(f, km);
        return fclose(f) ? -1 : 0;
    }
    const char *archs[8];
    int na = cuda_parse_archs(a, d, o->gpu_arch, archs);
    if (na < 0 || cuda_check_bf16_archs(d, km, archs, na))
        return -1;
    char *src = NULL, *sched = NULL;
    render(a, km, &src, &sched);
    const char *ptx[8];
    for (int i = 0; i < na; i++)
        if (!(ptx[i] = cuda_nvrtc_ptx(a, d, src, archs[i], o->verbose))) {
            free(src);
            free(sched);
            return -1;
        }
    const char *P = o->prefix ? o->prefix : "nnc_model";
    FILE *f = fopen(o->output, "w");
    if (!f) {
        diag_plain(d, "cannot write %s", o->output);
        free(src);
        free(sched);
        return -1;
    }
    fputs("/* generated by nnc --target cuda: the model's descriptor, PTX and schedule; runtime/cuda.c runs it */\n"
          "#include <stdint.h>\n"
          "typedef struct NncArgs NncArgs;\n"
          "void nnc_cuda_call(const char *sched, const char *const *ptx, const char *const *arch, int narch, int graph,\n"
          "                   NncArgs *a);\n"
          "int nnc_cuda_main(const char *desc, const char *sched, const char *const *ptx, const char *const *arch,\n"
          "                  int narch, int argc, char **argv);\n", f);
    fprintf(f, "const char %s_desc[] = ", P);
    c_string(f, k_module_desc(a, km));
    fputs(";\nstatic const char sched[] = ", f);
    c_string(f, sched);
    fputs(";\n", f);
    for (int i = 0; i < na; i++) {
        fprintf(f, "static const char ptx%d[] = ", i);
        c_string(f, ptx[i]);
        fputs(";\n", f);
    }
    fputs("static const char *const ptx[] = {", f);
    for (int i = 0; i < na; i++)
        fprintf(f, "ptx%d, ", i);
    fputs("0};\nstatic const char *const arch[] = {", f);
    for (int i = 0; i < na; i++)
        fprintf(f, "\"%s\", ", archs[i]);
    fprintf(f, "0};\n"
               "int64_t %s_workspace_size(int64_t B) { (void)B; return 64; }   /* device memory: runtime/cuda.c */\n"
               "void %s_forward(NncArgs *a) { nnc_cuda_call(sched, ptx, arch, %d, 0, a); }\n"
               "void %s_evaluate(NncArgs *a) { nnc_cuda_call(sched, ptx, arch, %d, 1, a); }\n"
               "void %s_train_step(NncArgs *a, int32_t step) { nnc_cuda_call(sched, ptx, arch, %d, 2 + step, a); }\n"
               "int main(int argc, char **argv) { return nnc_cuda_main(%s_desc, sched, ptx, arch, %d, argc, argv); }\n",
            P, P, na, P, na, P, na, P, na);
    free(src);
    free(sched);
    if (fclose(f)) {
        diag_plain(d, "cannot write %s", o->output);
        return -1;
    }
    return 0;
}

static int cuda_check_abi(FILE *err) {
    (void)err;
    return 0;
}

const Backend backend_cuda = {"cuda", cuda_emit, cuda_check_abi};
