/* ir.h - the graph IR: typed primitive tensor ops in SSA form, in topological order.
 *
 * A node is small and uniform {op, type, src[], attr, loc}, linked by 32-bit indices into its
 * graph's node array (STYLE.md: QBE Ref, kann). Nodes are only appended, and only after their
 * operands, so the array order is a topological order: a forward walk is a loop and the backward
 * walk (autodiff) the same loop reversed. ir_add merges a node equal to an existing one (CSE by
 * hashing), except for F_NOCSE ops. The symbolic batch size B appears in dims as Dim{a, c} = a*B + c.
 * docs/ir.md is the reference for the ops, the textual form and the verifier's rules.
 */
#ifndef NNC_IR_H
#define NNC_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"

typedef enum {
#define OP(name, text, nsrc, flags) OP_##name,
#include "ops.def"
#undef OP
    OP__COUNT
} Op;

enum {
    F_SOURCE = 1 << 0,  /* no operands: reads a buffer or makes values */
    F_ELEM = 1 << 1,    /* elementwise over operands of identical shape */
    F_REDUCE = 1 << 2,
    F_NOGRAD = 1 << 3,  /* its result carries no gradient */
    F_NOCSE = 1 << 4,   /* never merged with an equal node */
    F_COMMUTE = 1 << 5, /* operands sorted before hashing */
};

extern const char *const ir_op_name[OP__COUNT];
extern const int ir_op_nsrc[OP__COUNT];
extern const int ir_op_flags[OP__COUNT];

#define IR_MAXRANK 6
#define IR_MAXSRC 3
#define IR_NONE UINT32_MAX

typedef struct Dim { int64_t a, c; } Dim;    /* a*B + c */

typedef struct IrType {
    DType dtype;                /* DT_F32, DT_I32, DT_BOOL (lang/ast.h) */
    int rank;
    Dim dim[IR_MAXRANK];
} IrType;

typedef enum { HY_LR, HY_STEP, HY_TOTAL_STEPS, HY_BATCH } IrHyper;

typedef struct IrAttr {
    int64_t i[8];
    int ni;
    double f;
    const char *name;           /* sources: descriptor name */
    const float *data;          /* CONST with literal contents (i[0] elements) */
} IrAttr;

typedef struct IrNode {
    uint16_t op;
    uint8_t nsrc;
    IrType type;
    uint32_t src[IR_MAXSRC];
    IrAttr attr;
    Loc loc;                    /* source place it came from (zero for compiler-made nodes) */
} IrNode;

typedef enum {
    RES_OUTPUT,                 /* write into bufs[index] (an output tensor) */
    RES_LOSS,                   /* losses[index] = the scalar */
    RES_UPDATE,                 /* param/state bufs[index] takes this value after the call */
    RES_GRAD,                   /* the gradient of the step's objective w.r.t. param bufs[index]:
                                   made by autodiff, consumed by optim (docs/ir.md "Train steps") */
} IrResultKind;

typedef struct IrResult {
    uint32_t node;
    IrResultKind kind;
    int index;
} IrResult;

typedef struct IrHashSlot { uint32_t node, hash; } IrHashSlot;

typedef struct IrGraph {
    const char *name;           /* forward | evaluate | train.NAME */
    Arena *arena;
    IrNode *nodes; uint32_t len, cap;
    IrResult *res; int nres, capres;
    IrHashSlot *hash; uint32_t hashcap; /* CSE table: node index + 1 (0 = empty) and its hash */
} IrGraph;

/* ---- the module: everything a model lowers to, and what the descriptor text says ---- */

typedef enum { ROLE_INPUT, ROLE_TARGET, ROLE_OUTPUT, ROLE_PARAM, ROLE_STATE } IrRole;

typedef struct IrTensor {
    const char *name;           /* "image", "h.W", "h.W.adam.m" */
    IrRole role;
    IrType type;                /* dims of inputs/outputs may hold B (a = 1) in dim[0] only */
    const char *init;           /* params/state: zeros, ones, constant, uniform, normal, glorot_uniform, ... literal */
    double init_a, init_b;
    int64_t fan_in, fan_out;
    const float *data;          /* literal initializer */
    bool frozen;                /* param no step updates */
    bool conditions;            /* target the forward graph reads (a conditional GAN's label): predict needs it */
} IrTensor;

typedef struct IrStep {
    const char *name;           /* "main" for the single implicit step */
    const char *loss;           /* name of the loss it reports (the descriptor's) */
    const char *optimizer;      /* "adam" */
    double lr;
    const char *schedule;       /* a stdlib lr schedule (cosine, ...) for the descriptor; NULL none/other */
    double sched_a, sched_b;    /* its arguments: step_decay gamma, drops; cosine min_lr */
    double opt_l1, opt_l2;      /* the optimizer call's l1, l2 (penalties on the gradient); 0 none */
    IrGraph *graph;
    /* what autodiff reads: */
    const char *objective;      /* the loss it minimizes; NULL = the sum of every loss */
    const char **over; int nover;   /* the parameter paths it trains; 0 = every parameter */
    Loc loc;                    /* its declaration, for diagnostics (zero when parsed from text) */
} IrStep;

/* One row of the model's layer-level picture (`nnc summary`, `--emit dot`): an input or target, a
 * call made by the model body itself (a layer call, or a fn/builtin call bound to a name), an output
 * or a loss, in evaluation order, with the rows whose results reach its arguments. Lowering makes
 * them in the evaluate walk (compiler/lower.c record_call); they describe, they are not executed. */
typedef struct IrCall {
    const char *name;           /* layer: its parameter path (h, d); fn: the bound name; else the tensor's */
    const char *kind;           /* the layer or fn called; "input", "target", "output", "loss" */
    IrType type;                /* its result */
    const char *prefix;         /* a layer's parameter path + "." (NULL otherwise) */
    bool shared;                /* a later call of a layer instance: its parameters are counted once */
    int *from; int nfrom;       /* indices of the calls (and inputs) whose results reach its arguments */
    uint32_t node;              /* lowering only: its result in the evaluate walk's graph */
    uint32_t *args; int nargs;  /* lowering only: its tensor arguments there */
} IrCall;

/* A regulariser term of a loss, as written (`loss l = ce + 1e-4 * l2(h.W)`): the stdlib fn (l1 or
 * l2), the literal coefficient that multiplies it (NaN: not a literal) and the parameter path of its
 * argument as written ("h.W"; "?" for an expression). For summary; lower.c loss_regs. */
typedef struct IrReg {
    const char *loss, *fn, *path;
    double coef;
} IrReg;

typedef struct IrModule {
    const char *name;
    Arena *arena;
    IrTensor *tensors; int ntensors, captensors;   /* index = NncArgs.bufs index */
    const char **losses; int nlosses, caplosses;
    IrStep *steps; int nsteps, capsteps;
    const char **hypers; double *hyper_vals; int nhypers, caphypers;  /* name/value pairs */
    const char *data_spec;      /* the train block's data source, as tokens */
    const char *val_spec;       /* its validation data source (`validation csv(...)`), or NULL */
    const char **metrics; int nmetrics, capmetrics;
    int nclasses;               /* > 0: classifier with this many classes; 0: regression */
    IrGraph *forward;           /* inputs -> outputs, training = false */
    IrGraph *evaluate;          /* + targets -> losses, training = false */
    IrCall *calls; int ncalls, capcalls;   /* the layer-level picture (summary, --emit dot) */
    IrReg *regs; int nregs, capregs;       /* the losses' l1/l2 terms (summary) */
} IrModule;

/* Parameter elements of a call (its prefix's params; 0 when shared or not a layer). */
int64_t ir_call_params(const IrModule *m, const IrCall *c);
/* The layer-level graph as Graphviz DOT (ir_dot.c): calls as boxes, shapes on the edges. */
void ir_dot_layers(FILE *out, const IrModule *m);
/* The primitive graph `g` as DOT: one node per IR node, its op and type. */
void ir_dot_graph(FILE *out, const IrModule *m, const IrGraph *g);

/* ---- building ---- */
IrGraph *ir_graph_new(Arena *a, const char *name);
/* Room for n nodes (and their CSE table) in g, so that adding up to n more copies nothing: for
 * passes that copy a graph of known size. */
void ir_graph_reserve(IrGraph *g, uint32_t n);
/* Append (or find, CSE) a node; the type is the caller's and ir_verify checks it against the op's
 * shape rule. Returns its index. */
uint32_t ir_add(IrGraph *g, Op op, IrType type, const uint32_t *src, int nsrc, const IrAttr *attr,
                Loc loc);
/* Conveniences that infer the result type from the operands' (die on a mismatch: callers checked). */
uint32_t ir_unary(IrGraph *g, Op op, uint32_t x);
uint32_t ir_binary(IrGraph *g, Op op, uint32_t x, uint32_t y);   /* broadcasts as NumPy does */
uint32_t ir_scalar(IrGraph *g, DType dt, double v);              /* rank-0 const */
uint32_t ir_fill(IrGraph *g, IrType t, double v);                /* const of type t */
uint32_t ir_broadcast(IrGraph *g, uint32_t x, IrType to);        /* no-op when equal */
uint32_t ir_reshape(IrGraph *g, uint32_t x, IrType to);
uint32_t ir_sum(IrGraph *g, uint32_t x, uint64_t axes);          /* keepdims */
uint32_t ir_matmul(IrGraph *g, uint32_t a, uint32_t b, bool ta, bool tb);
void ir_result(IrGraph *g, uint32_t node, IrResultKind kind, int index);
/* Additions (ir engineer): SELECT with broadcasting; any op through its shape rule (want = the
 * result type for ops whose operands do not determine it: BROADCAST, RESHAPE, CAST, UNSLICE,
 * SCATTER_ADD, sources); NumPy broadcasting of two shapes (dtype from x), false if they do not. */
uint32_t ir_select(IrGraph *g, uint32_t c, uint32_t x, uint32_t y);
uint32_t ir_op(IrGraph *g, Op op, const uint32_t *src, int nsrc, const IrAttr *attr, IrType want);
bool ir_broadcast_shape(const IrType *x, const IrType *y, IrType *out);
/* SLICE/UNSLICE bounds as dims: i = axis, start, stop, step, and when ni == 6 also the B
 * coefficients of start and stop (concat's VJP along a batch axis makes those): start =
 * i[4]*B + i[1], stop = i[5]*B + i[2]. Backends read the start through this. */
Dim ir_slice_start(const IrAttr *at);
Dim ir_slice_stop(const IrAttr *at);
/* The window geometry of MAXPOOL, AVGPOOL and their adjoints, always as 2-D: x [N, H, W, C]; a
 * 1-D pool (x [N, L, C], ni = 4) is read as H = 1 with window 1, W = L. The shape rule checked
 * the attributes; backends and ir_eval read them through this. */
typedef struct IrPool {
    int64_t k[2], s[2], lo[2];  /* window, stride, padding before, per (H, W) */
    int64_t n, h, w, c;         /* x's extents at one B */
    int64_t oh, ow;             /* the result's */
} IrPool;
IrPool ir_pool_geom(const IrAttr *at, const IrType *x, int64_t B);

IrModule *ir_module_new(Arena *a, const char *name);
int ir_module_tensor(IrModule *m, IrTensor t);                    /* returns its bufs index */

/* ---- types ---- */
bool ir_type_eq(const IrType *x, const IrType *y);
int64_t ir_dim_eval(Dim d, int64_t B);
int64_t ir_numel(const IrType *t, int64_t B);
void ir_type_print(FILE *out, const IrType *t);                   /* f32[B,784] */
void ir_type_fmt(char *buf, size_t n, const IrType *t);          /* the same into buf */
const char *ir_dtype_name(DType d);
int ir_dtype_size(DType d);                                       /* bytes of one element: bool 1, f32/i32 4 */                               /* f32 | i32 | bool */
extern const char *const ir_role_name[];                          /* input | target | ... */
/* Shortest %g text that reads back (strtod / strtof) to exactly x; "nan" for NaN. */
void ir_fmt_double(char *buf, size_t n, double x);
void ir_fmt_float(char *buf, size_t n, float x);
/* The op's shape rule (ir_shape.c, docs/ir.md). src: the operand types. *t on entry: the wanted
 * result type (read only by ops whose operands do not determine it); on return: the type the rule
 * gives. NULL when the operands and attributes are valid, else a message saying what is wrong. */
const char *ir_shape_rule(Op op, const IrType *src, int nsrc, const IrAttr *attr, IrType *t);

/* The geometry of a convolution (CONV, CONV_BWD_DATA, CONV_BWD_FILTER; docs/ir.md): x the
 * input-shaped type [N, *S, C], w the weight-shaped type [*K, C/g, F], at the op's attributes.
 * One spatial dim is seen as two with H = KH = OH = 1. NULL when they are valid, else what is
 * wrong; *y on success: the output type [N, *O, F]. */
typedef struct IrConv {
    Dim N;
    int nsp;                    /* spatial dims: 1 or 2 */
    int64_t H, W, C, OH, OW, F, KH, KW, G;  /* G groups: C/G input, F/G output channels each */
    int64_t sh, sw, dh, dw, ph, pw;         /* stride, dilation, padding before (low side) */
} IrConv;
const char *ir_conv_geom(const IrType *x, const IrType *w, const IrAttr *at, IrConv *c, IrType *y);
/* The geometry of a conv-family node op(a, b) -> t: which of the three types is the input and
 * which the weights depends on the op. */
const char *ir_conv_node_geom(Op op, const IrType *a, const IrType *b, const IrType *t, const IrAttr *at,
                              IrConv *c);

/* ---- semantics (ir_eval.c): what every op computes, shared by the reference interpreter and
 * constant folding (docs/ir.md "Ops" states the rules) ---- */
/* Element i of a dense buffer of dtype d as a double (exact for all three dtypes; bool: 0 or 1). */
double ir_value_at(const void *p, DType d, int64_t i);
/* Store v as dtype d at element i: the conversion of CAST, CONST and HYPER (f32 rounds; i32
 * truncates toward 0 and saturates, NaN -> 0; bool is v != 0). */
void ir_store(void *p, DType d, int64_t i, double v);
/* One element of an elementwise op on f32 or i32 operands (one-operand ops ignore y), and of the
 * ops with a bool result (compares, and, or) on operands read as doubles. */
float ir_eval_f32(Op op, float x, float y);
/* nnc's own f32 exp, log, tanh, sigmoid and erf (compiler/ir/ir_math.h, shared with the LLVM
 * backend; errors in docs/backend-llvm.md "Math functions"): OP_EXP ... evaluate through these. */
float ir_expf(float x);
float ir_logf(float x);
float ir_tanhf(float x);
float ir_sigmoidf(float x);
float ir_erff(float x);
int32_t ir_eval_i32(Op op, int32_t x, int32_t y);
bool ir_eval_bool(Op op, double x, double y);
/* The value of node n at batch size B into out (zeroed, ir_numel(&n->type, B) elements), from its
 * operands' types st[k] and dense values sv[k]. Every op except those that read a call's buffers
 * or arguments (input, param, state, hyper, rand): their caller supplies them. */
void ir_eval_node(const IrNode *n, const IrType *st, const void *const *sv, int64_t B, void *out);

/* ---- checking, printing, parsing ---- */
/* 0 if g is well formed (operands before users, types follow the shape rules); else prints what is
 * wrong, naming the node, and returns -1. Passes call it after themselves in debug builds. */
int ir_verify(const IrGraph *g, FILE *err);
/* ir_verify on every graph of m, plus: INPUT/PARAM/STATE nodes and RES_OUTPUT/RES_UPDATE results
 * match the tensor they name (index in range, role, type). */
int ir_module_verify(const IrModule *m, FILE *err);
void ir_print(FILE *out, const IrGraph *g);
void ir_module_print(FILE *out, const IrModule *m);               /* nnc --emit ir */
/* Parse the textual form back (round trip; lit tests feed passes with it). NULL + message on error. */
IrModule *ir_module_parse(Arena *a, const char *text, const char *filename, FILE *err);
/* The descriptor text of runtime/nnc_abi.h. */
char *ir_module_desc(Arena *a, const IrModule *m);

#endif
