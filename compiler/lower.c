/* lower.c - lowering: evaluate a checked model at compile time into the graph IR.
 *
 * The language has no run-time control flow, so lowering is an interpreter over the AST whose
 * tensor values are IR nodes: fn/layer/optimizer calls are inlined (formals bound from positional,
 * named and default arguments, dim variables bound by matching the formal's declared type against
 * the argument's shape), `for` loops unroll, compile-time ints/floats/bools fold, and every tensor
 * operation appends a primitive node (compiler/ir/ops.def) with its source location. NumPy
 * broadcasting becomes explicit BROADCAST nodes here, so the IR's elementwise ops see equal shapes.
 *
 * Parameter naming follows docs/language.md [layer.naming]: a layer call frame's path prefix is
 * made when the call starts, from the statement that called it (`h = dense(..)` -> "h", a nested
 * call -> "y.dense", "y.dense_2", a rebinding -> "h_2"). Nested calls are numbered in evaluation
 * order, arguments first: in `y = dense(dense(x, 4), 2)` the inner call is y.dense and the outer
 * y.dense_2, as the checker's `--emit types` has it. A layer instance [layer.instance] is a
 * function value carrying its path (`d`); each call of it runs in a frame with that prefix, and a
 * parameter or state it declares again is the tensor the first call made.
 * [train.step.mode]: in the train walk of a step with `over`, a layer call none of whose
 * parameters the step trains runs with `training` false and writes no state.
 * `for i in a .. b` runs i = a, ..., b - 1. A call of several results [fn.results] is a V_TUPLE that
 * a destructuring binding takes apart; the checker lets it go nowhere else.
 *
 * Each graph (forward, evaluate, train.STEP) is a fresh walk of the model body; the walks make the
 * same tensors in the same order, and the module's tensor table is filled by the first one.
 * User errors the checker let through (it checks generically; this walk is concrete) are reported
 * at the node's place and abort the walk through a longjmp: the arena owns every allocation.
 */
#include "lower.h"
#include "ast_text.h"
#include "builtins.h"
#include "intmath.h"
#include "naming.h"
#include "nnc_limits.h"
#include "scope.h"

#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- values ---- */

typedef enum {
    V_NONE,
    V_INT,      /* i + b*B: b != 0 only for dims that involve the batch size */
    V_FLOAT,
    V_BOOL,
    V_STR,
    V_FN,       /* decl (fn/layer/optimizer) or builtin name s; captured named args */
    V_TENSOR,   /* node t of the current graph */
    V_GROUP,    /* s = parameter path prefix (enc.h) */
    V_LIST,     /* [a, b, ...] before it is known to be a shape or a tensor literal */
    V_INIT,     /* a parameter initializer: s = kind, f, f2 = its arguments */
    V_TUPLE,    /* the several results of a fn or layer [fn.results]: items, n */
} VKind;

typedef struct Value Value;
struct Value {
    VKind kind;
    int64_t i, b;
    double f, f2;
    const char *s;
    Node *decl;
    uint32_t t;
    Value *items; int n;            /* V_LIST, V_TUPLE elements; V_FN captured argument values */
    const char **names;             /* V_FN captured argument names */
    const char *ipath;              /* V_FN of a layer instance: the path of its parameters (d) */
};

typedef struct Bind {
    const char *name;
    Value v;
    const char *group;              /* parameter path of the layer call this binding holds */
    int state;                      /* bufs index when the name is a `state`, else -1 */
} Bind;

typedef struct StateUpd { int index; Value v; } StateUpd;

typedef struct Frame Frame;
struct Frame {
    Frame *caller;
    Node *call;                     /* the call node that made this frame (naming) */
    const char *callee;             /* its callee's name */
    Bind *b; int nb, capb;
    int *bx; int bxcap;             /* name -> index + 1 of its latest binding (open addressing,
                                       0 empty), made once the frame has BIND_INDEX bindings:
                                       an unrolled loop binds thousands of names in one frame */
    const char *prefix;             /* parameter path prefix with trailing '.', NULL until needed */
    Naming nm;                      /* numbering of its bindings and calls (lang/naming.h) */
    /* the statement being evaluated */
    const char *st_name;
    Node *st_rhs;
    const char *st_group;
    const char *st_first;           /* a destructuring binding's first name (not `_`): the row of
                                       its fn call in the layer-level picture [fn.results] */
    const char *state_prefix;       /* optimizer frames: "h.W.adam." */
    bool shared;                    /* inside a call of a layer instance: parameters made by an
                                       earlier call of it are taken again [layer.instance] */
    bool infer;                     /* inference mode in a train walk: states are not written */
    const SrcFile *file;            /* the file of the body it runs (NULL: the main file) */
    bool has_result, returned;      /* a result expression was evaluated / a `return` ran */
    Value ret;
};

struct Lower {
    Arena *a;
    Diag *d;
    Node *prog, *model;
    const char *src_dir;
    IrModule *m;
    Node **decls; int ndecls, capdecls;
    Node *train;                    /* the model's train block, or NULL */
    LowerStep *steps; int nsteps, capsteps;
    /* the walk in progress */
    jmp_buf *on_error;
    IrGraph *g;
    bool training;
    bool first_pass;                /* the walk that fills the tensor table */
    const char **made; int nmade, capmade;  /* tensor names made by this walk */
    uint32_t *made_node;
    int depth;
    int64_t work;                   /* inlined calls + unrolled iterations in this walk (spend) */
    Loc loc;                        /* the expression being evaluated */
    int64_t rand_streams;
    Frame *model_frame;             /* the model body's frame after the last walk */
    Bind *tfb; int ntfb;            /* train_frame's bindings of model_frame (its first tf_nb) */
    /* name indexes (open addressing, index + 1, 0 empty) of the tensor table (its first ntx) and
     * of made (its first nmx): a 1,000-layer model has thousands of each */
    int *tx; int txcap, ntx;
    int *mx; int mxcap, nmx;
    bool renamed;                   /* optim renamed tensors (lower_tensors_renamed): scan */
    Frame *tf_of; int tf_nb;
    const LowerStep *step;          /* the train step being walked (NULL: none, or every parameter) */
    StateUpd *upd; int nupd, capupd;    /* states rebound in this walk: their last values */
    bool record;                    /* the walk that records the layer-level picture (IrCall) */
    struct { uint32_t node; int call; } *more; int nmore, capmore;
                                    /* the results after the first of a call of several results
                                       [fn.results] and their call: they belong to its row too */
    Loc fail_loc;                   /* the place of the last fail() */
};

#define MAX_DEPTH NNC_MAX_CALL_DEPTH

static _Noreturn __attribute__((format(printf, 3, 4))) void fail(Lower *L, Loc loc,
                                                                 const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (loc.file)
        diag_error(L->d, loc, "%s", buf);
    else
        diag_plain(L->d, "%s", buf);
    L->fail_loc = loc;
    longjmp(*L->on_error, 1);
}

/* ---- small helpers ---- */

static Value vint(int64_t i) { return (Value){.kind = V_INT, .i = i}; }
static Value vfloat(double f) { return (Value){.kind = V_FLOAT, .f = f}; }
static Value vbool(bool x) { return (Value){.kind = V_BOOL, .i = x}; }
static Value vtensor(uint32_t t) { return (Value){.kind = V_TENSOR, .t = t}; }

static bool is_num(Value v) { return v.kind == V_INT || v.kind == V_FLOAT || v.kind == V_BOOL; }
static double num(Value v) { return v.kind == V_FLOAT ? v.f : (double)v.i; }

static const char *kind_name(VKind k) {
    switch (k) {
    case V_NONE: return "nothing";
    case V_INT: return "an int";
    case V_FLOAT: return "a float";
    case V_BOOL: return "a bool";
    case V_STR: return "a string";
    case V_FN: return "a function";
    case V_TENSOR: return "a tensor";
    case V_GROUP: return "a parameter group";
    case V_LIST: return "a list";
    case V_INIT: return "an initializer";
    case V_TUPLE: return "several results";
    }
    return "?";
}

static const IrType *tty(Lower *L, uint32_t t) { return &L->g->nodes[t].type; }

static IrType mktype(DType dt, int rank, const Dim *dims) {
    IrType t = {.dtype = dt, .rank = rank};
    for (int i = 0; i < rank; i++) t.dim[i] = dims[i];
    return t;
}

static bool dim_eq(Dim x, Dim y) { return x.a == y.a && x.c == y.c; }
static bool dim_one(Dim x) { return x.a == 0 && x.c == 1; }
static Dim dconst(int64_t c) { return (Dim){0, c}; }

static const char *type_str(Lower *L, const IrType *t) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return "?";
    ir_type_print(f, t);
    fclose(f);
    char *s = arena_strdup(L->a, buf);
    free(buf);
    return s;
}

/* Lowering's global budget (lang/nnc_limits.h): every inlined call and unrolled iteration costs
 * one unit of work, and a graph may hold only so many nodes; past either, the program unrolls too
 * far (say exponentially, f_i(x) = f_{i-1}(f_{i-1}(x))) and is rejected at the call or loop. */
static void spend(Lower *L, Loc loc, const char *what) {
    if (++L->work > NNC_MAX_UNROLL_WORK)
        fail(L, loc, "the model unrolls to more than %lld inlined calls and loop iterations (here: %s)",
             (long long)NNC_MAX_UNROLL_WORK, what);
}

static uint32_t add(Lower *L, Op op, IrType t, const uint32_t *src, int n, const IrAttr *attr) {
    if ((int64_t)L->g->len >= NNC_MAX_GRAPH_NODES)
        fail(L, L->loc, "the model unrolls to more than %lld operations", (long long)NNC_MAX_GRAPH_NODES);
    return ir_add(L->g, op, t, src, n, attr, L->loc);
}

static uint32_t scalar(Lower *L, DType dt, double v) {
    IrAttr at = {.f = v};
    return add(L, OP_CONST, mktype(dt, 0, NULL), NULL, 0, &at);
}

static uint32_t hyper(Lower *L, IrHyper h) {
    IrAttr at = {.i = {h}, .ni = 1};
    return add(L, OP_HYPER, mktype(DT_F32, 0, NULL), NULL, 0, &at);
}

static uint32_t broadcast_to(Lower *L, uint32_t x, IrType to) {
    if (ir_type_eq(tty(L, x), &to)) return x;
    uint32_t s[1] = {x};
    return add(L, OP_BROADCAST, to, s, 1, NULL);
}

static uint32_t reshape_to(Lower *L, uint32_t x, IrType to) {
    to.dtype = tty(L, x)->dtype;
    if (ir_type_eq(tty(L, x), &to)) return x;
    uint32_t s[1] = {x};
    return add(L, OP_RESHAPE, to, s, 1, NULL);
}

static uint32_t cast_to(Lower *L, uint32_t x, DType dt) {
    if (tty(L, x)->dtype == dt) return x;
    IrType t = *tty(L, x);
    t.dtype = dt;
    uint32_t s[1] = {x};
    return add(L, OP_CAST, t, s, 1, NULL);
}

/* A compile-time number as a tensor of dtype dt. Ints with a batch part become B-dependent. */
static uint32_t num_tensor(Lower *L, Value v, DType dt) {
    if (v.kind == V_INT && v.b == 1 && v.i == 0) return cast_to(L, hyper(L, HY_BATCH), dt);
    if (v.kind == V_INT && v.b != 0) {
        uint32_t hb = hyper(L, HY_BATCH);
        uint32_t s[2] = {hb, scalar(L, DT_F32, (double)v.b)};
        uint32_t x = add(L, OP_MUL, mktype(DT_F32, 0, NULL), s, 2, NULL);
        if (v.i) {
            uint32_t s2[2] = {x, scalar(L, DT_F32, (double)v.i)};
            x = add(L, OP_ADD, mktype(DT_F32, 0, NULL), s2, 2, NULL);
        }
        return cast_to(L, x, dt);
    }
    return scalar(L, dt, num(v));
}

/* ---- lists and tensor literals ---- */

static void flatten_list(Lower *L, Value v, Loc loc, float *out, int64_t *k, int64_t cap) {
    if (v.kind == V_LIST) {
        for (int i = 0; i < v.n; i++) flatten_list(L, v.items[i], loc, out, k, cap);
        return;
    }
    if (!is_num(v) || (v.kind == V_INT && v.b)) fail(L, loc, "a tensor literal holds %s", kind_name(v.kind));
    if (*k < cap) out[*k] = (float)num(v);
    (*k)++;
}

/* Shape of a nested list of numbers; -1 when ragged or not all numbers. */
static int list_shape(Value v, Dim *dims, int depth) {
    if (v.kind != V_LIST) return is_num(v) ? depth : -1;
    if (depth >= IR_MAXRANK || v.n == 0) return -1;
    dims[depth] = dconst(v.n);
    int r = list_shape(v.items[0], dims, depth + 1);
    for (int i = 1; i < v.n && r >= 0; i++) {
        Dim sub[IR_MAXRANK];
        for (int j = 0; j < IR_MAXRANK; j++) sub[j] = dims[j];
        if (list_shape(v.items[i], sub, depth + 1) != r) return -1;
        for (int j = depth + 1; j < r; j++)
            if (!dim_eq(sub[j], dims[j])) return -1;
    }
    return r;
}

static bool all_numbers(Value v) {
    if (v.kind != V_LIST) return is_num(v) && !(v.kind == V_INT && v.b);
    for (int i = 0; i < v.n; i++)
        if (!all_numbers(v.items[i])) return false;
    return true;
}

static bool any_kind(Value v, VKind k) {
    if (v.kind != V_LIST) return v.kind == k;
    for (int i = 0; i < v.n; i++)
        if (any_kind(v.items[i], k)) return true;
    return false;
}

static uint32_t to_tensor(Lower *L, Value v, DType dt, Loc loc);

static uint32_t list_tensor(Lower *L, Value v, DType dt, Loc loc) {
    if (all_numbers(v)) {
        Dim dims[IR_MAXRANK];
        int r = list_shape(v, dims, 0);
        if (r < 0) fail(L, loc, "a tensor literal must be rectangular");
        IrType t = mktype(dt, r, dims);
        int64_t n = ir_numel(&t, 1), k = 0;
        float *data = arena_alloc(L->a, sizeof(float) * (size_t)(n ? n : 1));
        flatten_list(L, v, loc, data, &k, n);
        IrAttr at = {.i = {n}, .ni = 1, .data = data};
        return add(L, OP_CONST, t, NULL, 0, &at);
    }
    /* a list of tensors of one shape: stack along a new first axis */
    if (v.n == 0) fail(L, loc, "an empty list is not a tensor");
    uint32_t acc = IR_NONE;
    IrType et = {0};
    for (int i = 0; i < v.n; i++) {
        uint32_t x = to_tensor(L, v.items[i], dt, loc);
        IrType xt = *tty(L, x);
        if (i == 0) et = xt;
        else if (!ir_type_eq(&xt, &et))
            fail(L, loc, "the elements of a list differ in type: %s and %s", type_str(L, &et),
                 type_str(L, &xt));
        if (et.rank + 1 > IR_MAXRANK) fail(L, loc, "tensor rank above %d", IR_MAXRANK);
        IrType one = {.dtype = xt.dtype, .rank = xt.rank + 1};
        one.dim[0] = dconst(1);
        for (int j = 0; j < xt.rank; j++) one.dim[j + 1] = xt.dim[j];
        uint32_t r = reshape_to(L, x, one);
        if (acc == IR_NONE) {
            acc = r;
        } else {
            IrType ct = *tty(L, acc);
            ct.dim[0].c += 1;
            uint32_t s[2] = {acc, r};
            IrAttr at = {.i = {0}, .ni = 1};
            acc = add(L, OP_CONCAT, ct, s, 2, &at);
        }
    }
    return acc;
}

static uint32_t to_tensor(Lower *L, Value v, DType dt, Loc loc) {
    switch (v.kind) {
    case V_TENSOR: return v.t;
    case V_INT: case V_FLOAT: return num_tensor(L, v, dt);
    case V_BOOL: return scalar(L, DT_BOOL, (double)v.i);
    case V_LIST: return list_tensor(L, v, any_kind(v, V_BOOL) ? DT_BOOL : dt, loc);  /* [true, false] is bool[2] */
    default: fail(L, loc, "expected a tensor, found %s", kind_name(v.kind));
    }
}

/* ---- frames and names ---- */

static Frame *frame_new(Lower *L, Frame *caller, Node *call, const char *callee) {
    Frame *f = arena_alloc(L->a, sizeof *f);
    f->caller = caller;
    f->call = call;
    f->callee = callee;
    return f;
}

#define BIND_INDEX 16

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of name in f's index: its entry, or the empty one where it goes. */
static int *bind_slot(Frame *f, const char *name) {
    uint32_t mask = (uint32_t)f->bxcap - 1;
    for (uint32_t k = name_hash(name) & mask;; k = (k + 1) & mask) {
        int *e = &f->bx[k];
        if (!*e || !strcmp(f->b[*e - 1].name, name)) return e;
    }
}

/* Index the bindings of f (the latest of each name), in a table of at least twice their number. */
static void bind_reindex(Lower *L, Frame *f) {
    int cap = f->bxcap ? f->bxcap : 64;
    while (cap < 2 * f->nb + 2) cap *= 2;
    f->bx = arena_alloc(L->a, sizeof(int) * (size_t)cap);
    f->bxcap = cap;
    for (int i = 0; i < f->nb; i++) *bind_slot(f, f->b[i].name) = i + 1;
}

static void bind(Lower *L, Frame *f, const char *name, Value v, const char *group, int state) {
    Bind *b = ARENA_PUSH(L->a, f->b, f->nb, f->capb);
    *b = (Bind){name, v, group, state};
    if (f->bx && 2 * f->nb + 2 <= f->bxcap) *bind_slot(f, name) = f->nb;
    else if (f->nb >= BIND_INDEX) bind_reindex(L, f);
}

static Bind *find_bind(Frame *f, const char *name) {
    if (f->bx) {
        int e = *bind_slot(f, name);
        return e ? &f->b[e - 1] : NULL;
    }
    for (int i = f->nb - 1; i >= 0; i--)
        if (!strcmp(f->b[i].name, name)) return &f->b[i];
    return NULL;
}

/* The declaration `name` means in a body of the file `from` (NULL: the main file's) [scope.module]:
 * the best scope_rank, as the checker resolves it. */
static Node *find_decl(Lower *L, const char *name, const SrcFile *from) {
    Node *best = NULL;
    int rank = 0;
    for (int i = 0; i < L->ndecls; i++) {
        Node *d = L->decls[i];
        int r = d->name && !strcmp(d->name, name) ? scope_rank(L->prog, d, from) : 0;
        if (r > rank) best = d, rank = r;
    }
    return rank == SCOPE_BELOW_BUILTINS && check_builtin_lookup(name) ? NULL : best;
}

/* `nn.dense` [scope.qualified]: the declaration `name` of the module file mod.nn, or NULL. */
static Node *qualified_decl(Lower *L, const char *mod, const char *name) {
    const char *last = strrchr(mod, '.');
    last = last ? last + 1 : mod;
    size_t n = strlen(last);
    for (int i = 0; i < L->ndecls; i++) {
        Node *d = L->decls[i];
        const SrcFile *sf = d->loc.file;
        if (!d->name || strcmp(d->name, name) || !sf || !sf->name) continue;
        const char *base = strrchr(sf->name, '/');
        base = base ? base + 1 : sf->name;
        if (strncmp(base, last, n) == 0 && strcmp(base + n, ".nn") == 0) return d;
    }
    return NULL;
}

static const char *frame_prefix(Lower *L, Frame *f);

/* The parameter path of a call made from frame f (without a trailing '.'): the frame's prefix
 * and the path lang/naming.c gives the call in the frame's current statement [layer.naming].
 * Calls are named in evaluation order, arguments first, as the checker records them. */
static const char *call_path(Lower *L, Frame *f, Node *call, const char *callee) {
    const char *pre = frame_prefix(L, f);
    bool direct = call == f->st_rhs && f->st_name;
    const char *path = arena_printf(L->a, "%s%s", pre, naming_call(L->a, &f->nm, callee, direct));
    if (direct) f->st_group = path;
    return path;
}

static const char *frame_prefix(Lower *L, Frame *f) {
    if (!f->prefix) {
        if (!f->caller) f->prefix = "";
        else f->prefix = arena_printf(L->a, "%s.", call_path(L, f->caller, f->call, f->callee));
    }
    return f->prefix;
}

/* ---- the layer-level picture (IrModule.calls): summary tables and --emit dot ---- */

/* The path an l1/l2 argument names as written (W, h.W, enc.h.W); NULL for any other expression. */
static const char *reg_path(Lower *L, const Node *e) {
    if (e->kind == ND_IDENT) return e->name;
    if (e->kind != ND_MEMBER || !e->lhs) return NULL;
    const char *base = reg_path(L, e->lhs);
    return base ? arena_printf(L->a, "%s.%s", base, e->name) : NULL;
}

static bool reg_literal(const Node *e, double *v) {
    if (e->kind == ND_INT) return *v = (double)e->ival, true;
    if (e->kind == ND_FLOAT) return *v = e->fval, true;
    if (e->kind == ND_UNARY && e->op == '-' && e->lhs && reg_literal(e->lhs, v)) return *v = -*v, true;
    return false;
}

/* The l1/l2 terms of loss `loss`'s expression (IrModule.regs, summary): sums, differences and
 * products or quotients by literal numbers are followed; a coefficient that is not a literal is NaN. */
static void loss_regs(Lower *L, const char *loss, const Node *e, double coef) {
    if (!e) return;
    double v;
    switch (e->kind) {
    case ND_BINARY:
        if (e->op == OP_ADD_ || e->op == OP_SUB_) {
            loss_regs(L, loss, e->lhs, coef);
            loss_regs(L, loss, e->rhs, e->op == OP_SUB_ ? -coef : coef);
        } else if (e->op == OP_MUL_) {
            if (reg_literal(e->lhs, &v)) loss_regs(L, loss, e->rhs, coef * v);
            else if (reg_literal(e->rhs, &v)) loss_regs(L, loss, e->lhs, coef * v);
            else loss_regs(L, loss, e->lhs, NAN), loss_regs(L, loss, e->rhs, NAN);
        } else if (e->op == OP_DIV_) {
            loss_regs(L, loss, e->lhs, reg_literal(e->rhs, &v) ? coef / v : NAN);
        }
        break;
    case ND_UNARY:
        if (e->op == '-') loss_regs(L, loss, e->lhs, -coef);
        break;
    case ND_CALL:
        if (e->lhs && e->lhs->kind == ND_IDENT && (!strcmp(e->lhs->name, "l1") || !strcmp(e->lhs->name, "l2")) &&
            e->nkids == 1 && e->kids[0]->kind != ND_ARG) {
            const char *path = reg_path(L, e->kids[0]);
            *ARENA_PUSH(L->a, L->m->regs, L->m->nregs, L->m->capregs) =
                (IrReg){.loss = loss, .fn = e->lhs->name, .path = path ? path : "?", .coef = coef};
        }
        break;
    default: break;
    }
}

static void record_call(Lower *L, const char *name, const char *kind, uint32_t node, const char *prefix,
                        const Value *args, int nargs) {
    if (!L->record) return;
    IrCall *c = ARENA_PUSH(L->a, L->m->calls, L->m->ncalls, L->m->capcalls);
    memset(c, 0, sizeof *c);
    c->name = name;
    c->kind = kind;
    c->node = node;
    c->prefix = prefix;
    if (node != UINT32_MAX) c->type = L->g->nodes[node].type;
    c->args = arena_alloc(L->a, sizeof(uint32_t) * (size_t)(nargs + 1));
    for (int i = 0; i < nargs; i++)
        if (args[i].kind == V_TENSOR) c->args[c->nargs++] = args[i].t;
    for (int i = 0; prefix && i < L->m->ncalls - 1; i++)
        if (L->m->calls[i].prefix && !strcmp(L->m->calls[i].prefix, prefix)) c->shared = true;
}

/* Edges of the picture: from each call's arguments back through the graph to the nearest results
 * of other calls (or inputs). */
static void link_calls(Lower *L, const IrGraph *g) {
    IrModule *m = L->m;
    int *owner = arena_alloc(L->a, sizeof(int) * (size_t)(g->len + 1));
    for (uint32_t i = 0; i < g->len; i++) owner[i] = -1;
    uint8_t *seen = arena_alloc(L->a, g->len + 1);
    uint32_t *stack = arena_alloc(L->a, sizeof(uint32_t) * (size_t)(g->len + 1));
    for (int k = 0; k < m->ncalls; k++) {
        IrCall *c = &m->calls[k];
        /* before recording k's own node: its arguments' producers are the calls made before it */
        memset(seen, 0, g->len + 1);
        c->from = arena_alloc(L->a, sizeof(int) * (size_t)(m->ncalls + 1));
        int sp = 0;
        for (int i = 0; i < c->nargs; i++) stack[sp++] = c->args[i];
        while (sp > 0) {
            uint32_t n = stack[--sp];
            if (n >= g->len || seen[n]) continue;
            seen[n] = 1;
            if (owner[n] >= 0) {
                bool dup = false;
                for (int j = 0; j < c->nfrom; j++) dup |= c->from[j] == owner[n];
                if (!dup) c->from[c->nfrom++] = owner[n];
                continue;
            }
            const IrNode *nd = &g->nodes[n];
            for (int j = 0; j < nd->nsrc; j++) stack[sp++] = nd->src[j];
        }
        if (c->node != UINT32_MAX && c->node < g->len) owner[c->node] = k;
        for (int j = 0; j < L->nmore; j++)
            if (L->more[j].call == k && L->more[j].node < g->len) owner[L->more[j].node] = k;
    }
}

static void stmt_begin(Frame *f, const char *name, Node *rhs) {
    f->st_name = name;
    f->st_rhs = rhs;
    f->st_group = NULL;
    f->st_first = NULL;
    naming_stmt(&f->nm, name);
}

/* ---- tensors of the module ---- */

static bool under_path(const char *name, const char *path) {
    size_t n = strlen(path);
    return !strncmp(name, path, n) && (name[n] == 0 || name[n] == '.');
}

/* [train.step.mode] Does the current step train a parameter under prefix ("g.")? A prefix with no
 * parameters under it counts as trained: such a call runs in its caller's mode. */
static bool frame_trained(Lower *L, const char *prefix) {
    size_t n = strlen(prefix);
    bool any = false;
    for (int i = 0; i < L->m->ntensors; i++) {
        const IrTensor *t = &L->m->tensors[i];
        if (t->role != ROLE_PARAM || strncmp(t->name, prefix, n) != 0) continue;
        any = true;
        for (int k = 0; k < L->step->nover; k++)
            if (under_path(t->name, L->step->over[k])) return true;
    }
    return !any;
}

/* An index of names[0..n) (strings that never change), caught up from *nidx to n; the slot of
 * name in it. */
static int *name_slot(Lower *L, int **tab, int *cap, int *nidx, const char *const *names, size_t stride, int n,
                      const char *name) {
#define NAME_AT(i) (*(const char *const *)((const char *)names + (size_t)(i) * stride))
    if (*nidx > n) *nidx = 0;               /* the list was emptied: start again */
    if (*nidx == 0 && *cap) memset(*tab, 0, sizeof(int) * (size_t)*cap);
    if (2 * n + 2 > *cap) {
        int c = 64;
        while (c < 2 * n + 2) c *= 2;
        *tab = arena_alloc(L->a, sizeof(int) * (size_t)c);
        *cap = c;
        *nidx = 0;
    }
    uint32_t mask = (uint32_t)*cap - 1;
    for (; *nidx < n; (*nidx)++) {
        const char *s = NAME_AT(*nidx);
        uint32_t k = name_hash(s) & mask;
        while ((*tab)[k] && strcmp(NAME_AT((*tab)[k] - 1), s)) k = (k + 1) & mask;
        if (!(*tab)[k]) (*tab)[k] = *nidx + 1;   /* the first of equal names, as a scan finds */
    }
    for (uint32_t k = name_hash(name) & mask;; k = (k + 1) & mask)
        if (!(*tab)[k] || !strcmp(NAME_AT((*tab)[k] - 1), name)) return &(*tab)[k];
#undef NAME_AT
}

static int find_tensor(Lower *L, const char *name) {
    if (L->renamed) {
        for (int i = 0; i < L->m->ntensors; i++)
            if (!strcmp(L->m->tensors[i].name, name)) return i;
        return -1;
    }
    if (L->m->ntensors == 0) return -1;
    return *name_slot(L, &L->tx, &L->txcap, &L->ntx, &L->m->tensors[0].name, sizeof(IrTensor), L->m->ntensors,
                      name) - 1;
}

void lower_tensors_renamed(Lower *L) { L->renamed = true; }

/* The index in made of name, or -1. */
static int find_made(Lower *L, const char *name) {
    if (L->nmade == 0) {
        L->nmx = 0;
        return -1;
    }
    return *name_slot(L, &L->mx, &L->mxcap, &L->nmx, L->made, sizeof(const char *), L->nmade, name) - 1;
}

static const char *role_name(IrRole r) {
    static const char *const n[] = {"input", "target", "output", "param", "state"};
    return n[r];
}

/* Register (first walk) or find (later walks) the tensor t; each name once per walk. */
static int module_tensor(Lower *L, IrTensor t, Loc loc) {
    if (find_made(L, t.name) >= 0)
        fail(L, loc, "the name '%s' is given to two tensors (rename one binding)", t.name);
    int idx = find_tensor(L, t.name);
    if (idx < 0) {
        idx = ir_module_tensor(L->m, t);
    } else {
        IrTensor *o = &L->m->tensors[idx];
        if (o->role != t.role || !ir_type_eq(&o->type, &t.type))
            fail(L, loc, "the %s '%s' is also a %s of another type", role_name(t.role), t.name,
                 role_name(o->role));
    }
    int cap = L->capmade;
    ARENA_PUSH(L->a, L->made, L->nmade, L->capmade);
    if (cap != L->capmade)
        L->made_node = arena_realloc(L->a, L->made_node, sizeof(uint32_t) * (size_t)cap,
                                     sizeof(uint32_t) * (size_t)L->capmade);
    L->made[L->nmade - 1] = t.name;
    L->made_node[L->nmade - 1] = IR_NONE;
    return idx;
}

static uint32_t source_node(Lower *L, Op op, int idx) {
    IrTensor *t = &L->m->tensors[idx];
    IrAttr at = {.i = {idx}, .ni = 1, .name = t->name};
    uint32_t n = add(L, op, t->type, NULL, 0, &at);
    L->made_node[L->nmade - 1] = n;
    return n;
}

/* The node of a tensor made earlier in this walk, by name; IR_NONE when none. */
static uint32_t made_node(Lower *L, const char *name) {
    int i = find_made(L, name);
    return i >= 0 ? L->made_node[i] : IR_NONE;
}

static bool has_prefix_made(Lower *L, const char *prefix) {
    size_t n = strlen(prefix);
    for (int i = 0; i < L->nmade; i++)
        if (!strncmp(L->made[i], prefix, n) && L->made[i][n] == '.') return true;
    return false;
}

/* ---- dims and types written in the source ---- */

static Value eval(Lower *L, Frame *f, Node *n);

static Value dim_value(Dim d) { return (Value){.kind = V_INT, .i = d.c, .b = d.a}; }

static bool value_dim(Value v, Dim *d) {
    if (v.kind != V_INT) return false;
    *d = (Dim){v.b, v.i};
    return true;
}

/* Evaluate a dim expression; false when it names an unbound variable. */
static bool eval_dim(Lower *L, Frame *f, DimExpr *e, Dim *out) {
    switch (e->kind) {
    case DE_INT: *out = dconst(e->ival); return true;
    case DE_VAR: {
        /* B is the batch dim, unless a formal bound it as an ordinary dim variable ([dim.batch]:
         * `fn rows(x: f32[B, N])` given f32[1, 5] has B = 1 in its body, as the checker says) */
        Bind *b = find_bind(f, e->name);
        if (!b && !strcmp(e->name, "B")) {
            *out = (Dim){1, 0};
            return true;
        }
        if (!b) return false;
        if (!value_dim(b->v, out)) fail(L, e->loc, "dim '%s' is %s, not an int", e->name, kind_name(b->v.kind));
        return true;
    }
    case DE_BIN: {
        Dim x, y;
        if (!eval_dim(L, f, e->lhs, &x) || !eval_dim(L, f, e->rhs, &y)) return false;
        switch (e->op) {
        case '+': *out = (Dim){x.a + y.a, x.c + y.c}; return true;
        case '-': *out = (Dim){x.a - y.a, x.c - y.c}; return true;
        case '*':
            if (x.a && y.a) fail(L, e->loc, "a dim may hold B at most once");
            *out = (Dim){x.a * y.c + y.a * x.c, x.c * y.c};
            return true;
        case '/': case '%':
            if (y.a || y.c == 0) fail(L, e->loc, "dim division by a non-constant or zero");
            if (e->op == '%') {
                if (x.a) fail(L, e->loc, "dim remainder of B");
                *out = dconst(x.c % y.c);
                return true;
            }
            if (x.a % y.c || x.c % y.c) fail(L, e->loc, "dim division is not exact");
            *out = (Dim){x.a / y.c, x.c / y.c};
            return true;
        }
        break;
    }
    case DE_REST: break;
    }
    fail(L, e->loc, "unsupported dim expression");
}

/* Are all dims of a written tensor type bound in f (so eval_type can evaluate it)? */
static bool formal_known(Lower *L, Frame *f, TypeExpr *te) {
    for (int i = 0; i < te->ndims; i++) {
        DimExpr *e = te->dims[i];
        Dim d;
        if (e->kind == DE_REST ? !find_bind(f, arena_printf(L->a, "*%s", e->name)) : !eval_dim(L, f, e, &d))
            return false;
    }
    return true;
}

/* Type of a declaration (param, state, input, target) from its written type. */
static IrType eval_type(Lower *L, Frame *f, TypeExpr *te, Loc loc) {
    if (!te || te->kind != TE_TENSOR) fail(L, loc, "a tensor type is required here");
    IrType t = {.dtype = te->dtype};
    for (int i = 0; i < te->ndims; i++) {
        DimExpr *e = te->dims[i];
        if (e->kind == DE_REST) {
            Bind *b = find_bind(f, arena_printf(L->a, "*%s", e->name));
            if (!b) fail(L, e->loc, "shape variable '*%s' is not bound here", e->name);
            for (int j = 0; j < b->v.n; j++) {
                if (t.rank >= IR_MAXRANK) fail(L, loc, "tensor rank above %d", IR_MAXRANK);
                value_dim(b->v.items[j], &t.dim[t.rank++]);
            }
            continue;
        }
        if (t.rank >= IR_MAXRANK) fail(L, loc, "tensor rank above %d", IR_MAXRANK);
        if (!eval_dim(L, f, e, &t.dim[t.rank])) fail(L, e->loc, "dim variable is not bound here");
        if (t.dim[t.rank].a == 0 && t.dim[t.rank].c < 1)
            fail(L, e->loc, "dim evaluates to %lld, below 1", (long long)t.dim[t.rank].c);
        t.rank++;
    }
    return t;
}

/* The first variable of e that f does not bind (B included: in a formal it is an ordinary dim
 * variable), or NULL. */
static const char *unbound_var(Lower *L, Frame *f, DimExpr *e) {
    if (e->kind == DE_VAR) return !find_bind(f, e->name) ? e->name : NULL;
    if (e->kind != DE_BIN) return NULL;
    const char *l = unbound_var(L, f, e->lhs);
    return l ? l : unbound_var(L, f, e->rhs);
}

/* e as coef*var + rest where var is the one unbound variable of e and appears linearly (the
 * checker's [unify.solve]); false when e is not of that form. */
static bool linear_in(Lower *L, Frame *f, DimExpr *e, const char *var, int64_t *coef, Dim *rest) {
    switch (e->kind) {
    case DE_INT: *coef = 0; *rest = dconst(e->ival); return true;
    case DE_VAR:
        if (!strcmp(e->name, var)) {
            *coef = 1;
            *rest = dconst(0);
            return true;
        }
        *coef = 0;
        return eval_dim(L, f, e, rest);
    case DE_BIN: {
        int64_t a, b;
        Dim x, y;
        if (!linear_in(L, f, e->lhs, var, &a, &x) || !linear_in(L, f, e->rhs, var, &b, &y)) return false;
        switch (e->op) {
        case '+': *coef = a + b; *rest = (Dim){x.a + y.a, x.c + y.c}; return true;
        case '-': *coef = a - b; *rest = (Dim){x.a - y.a, x.c - y.c}; return true;
        case '*':
            if ((a && b) || (a && y.a) || (b && x.a) || (x.a && y.a)) return false;
            *coef = a * y.c + b * x.c;
            *rest = (Dim){x.a * y.c + y.a * x.c, x.c * y.c};
            return true;
        default: return false;      /* var under / or %: not linear */
        }
    }
    case DE_REST: break;
    }
    return false;
}

/* Bind the dim variables of a formal's declared type from the argument's type
 * (docs/language.md [unify]); variables already bound must agree. A dim written as a linear
 * form of one unbound variable (`f32[B, 2 * H]`) binds it: 2*H against 28 binds H = 14. */
static void unify(Lower *L, Frame *f, Node *formal, Value v, const char *callee, Loc loc) {
    TypeExpr *te = formal->tyexpr;
    if (!te) return;
    if (te->kind == TE_DIMVAR && te->ndims) {
        /* kernel: 2*R - 1: solve the linear form for its one unbound variable (the checker did) */
        if (v.kind != V_INT || v.b) fail(L, loc, "'%s' of '%s' takes an int, found %s", formal->name, callee, kind_name(v.kind));
        const char *var = unbound_var(L, f, te->dims[0]);
        Dim d0, d1, d;
        if (var) {
            bind(L, f, var, vint(0), NULL, -1);
            bool ok0 = eval_dim(L, f, te->dims[0], &d0);
            bind(L, f, var, vint(1), NULL, -1);
            bool ok1 = eval_dim(L, f, te->dims[0], &d1);
            int64_t a = d1.c - d0.c;
            if (!ok0 || !ok1 || a == 0 || (v.i - d0.c) % a)
                fail(L, loc, "'%s' of '%s' must have the form %s, found %lld", formal->name, callee, te->name, (long long)v.i);
            bind(L, f, var, vint((v.i - d0.c) / a), NULL, -1);
        }
        if (!eval_dim(L, f, te->dims[0], &d) || d.a || d.c != v.i)
            fail(L, loc, "'%s' of '%s' must have the form %s, found %lld", formal->name, callee, te->name, (long long)v.i);
        return;
    }
    if (te->kind == TE_DIMLIST) {
        /* k: [KH, KW]: an int binds every variable, a list of ints one each */
        if (!(v.kind == V_INT && !v.b) && !(v.kind == V_LIST && v.n == te->ndims))
            fail(L, loc, "'%s' of '%s' takes an int or a list of %d ints, found %s", formal->name, callee, te->ndims,
                 kind_name(v.kind));
        for (int i = 0; i < te->ndims; i++) {
            Value e = v.kind == V_LIST ? v.items[i] : v;
            if (e.kind != V_INT || e.b)
                fail(L, loc, "'%s' of '%s' takes a list of ints, found %s", formal->name, callee, kind_name(e.kind));
            Bind *b = find_bind(f, te->dims[i]->name);
            if (b && (b->v.i != e.i || b->v.b != e.b))
                fail(L, loc, "'%s' of '%s' binds %s twice with different values", formal->name, callee, te->dims[i]->name);
            if (!b) bind(L, f, te->dims[i]->name, e, NULL, -1);
        }
        return;
    }
    if (te->kind == TE_DIMVAR) {
        if (v.kind != V_INT) fail(L, loc, "'%s' of '%s' takes an int, found %s", formal->name, callee, kind_name(v.kind));
        Bind *b = find_bind(f, te->name);
        if (b && (b->v.i != v.i || b->v.b != v.b))
            fail(L, loc, "'%s' of '%s' binds %s twice with different values", formal->name, callee, te->name);
        if (!b) bind(L, f, te->name, v, NULL, -1);
        return;
    }
    if (te->kind != TE_TENSOR || v.kind != V_TENSOR) return;
    const IrType *t = tty(L, v.t);
    int rest = -1;
    for (int i = 0; i < te->ndims; i++)
        if (te->dims[i]->kind == DE_REST) rest = i;
    int fixed = te->ndims - (rest >= 0);
    if (rest < 0 ? t->rank != fixed : t->rank < fixed)
        fail(L, loc, "'%s' of '%s' expects rank %s%d, found %s", formal->name, callee,
             rest >= 0 ? "at least " : "", fixed, type_str(L, t));
    for (int i = 0; i < te->ndims; i++) {
        DimExpr *e = te->dims[i];
        if (e->kind == DE_REST) {
            Value lst = {.kind = V_LIST, .n = t->rank - fixed};
            lst.items = arena_alloc(L->a, sizeof(Value) * (size_t)(lst.n + 1));
            for (int j = 0; j < lst.n; j++) lst.items[j] = dim_value(t->dim[i + j]);
            const char *key = arena_printf(L->a, "*%s", e->name);
            if (!find_bind(f, key)) bind(L, f, key, lst, NULL, -1);
            continue;
        }
        int axis = rest >= 0 && i > rest ? t->rank - (te->ndims - i) : i;
        Dim actual = t->dim[axis];
        if (e->kind == DE_VAR && !find_bind(f, e->name)) {     /* B too [dim.batch] */
            bind(L, f, e->name, dim_value(actual), NULL, -1);
            continue;
        }
        const char *var = e->kind == DE_BIN ? unbound_var(L, f, e) : NULL;
        int64_t coef;
        Dim off;
        if (var && linear_in(L, f, e, var, &coef, &off) && coef &&
            (actual.a - off.a) % coef == 0 && (actual.c - off.c) % coef == 0)
            bind(L, f, var, dim_value((Dim){(actual.a - off.a) / coef, (actual.c - off.c) / coef}), NULL, -1);
        Dim want;
        if (!eval_dim(L, f, e, &want)) continue;    /* arithmetic on unknowns: the checker's job */
        if (!dim_eq(want, actual))
            fail(L, loc, "'%s' of '%s' expects %s, found %s", formal->name, callee,
                 type_str(L, &(IrType){.dtype = t->dtype, .rank = 1, .dim = {want}}),
                 type_str(L, t));
    }
}

/* ---- the checker's types (lang/builtins.h): shapes come from the checker's rules ---- */

/* A dim c + a*B as the checker writes it. */
static const SDim *sdim_of(Lower *L, DimCtx *dc, Dim d) {
    (void)L;
    const SDim *r = ty_dim_const(dc, d.c);
    if (d.a) r = ty_dim_add(dc, r, ty_dim_mul(dc, ty_dim_const(dc, d.a), ty_dim_sym(dc, "B", 0)));
    return r;
}

/* A concrete dim of the checker's (an int, or linear in B) as c + a*B. */
static Dim dim_of_sdim(Lower *L, const SDim *s) {
    Dim d = {0, 0};
    for (int i = 0; i < s->n; i++) {
        const DimTerm *t = &s->t[i];
        if (t->n == 0) d.c = t->coef;
        else if (t->n == 1 && t->atoms[0]->kind == DA_SYM && !strcmp(t->atoms[0]->name, "B")) d.a = t->coef;
        else fail(L, L->loc, "internal: the dim %s is not concrete", ty_dim_astr(L->a, s));
    }
    return d;
}

static Type *type_of_ir(Lower *L, DimCtx *dc, const IrType *it) {
    const SDim **d = arena_alloc(L->a, sizeof *d * (size_t)(it->rank + 1));
    for (int i = 0; i < it->rank; i++) d[i] = sdim_of(L, dc, it->dim[i]);
    return ty_tensor(L->a, it->dtype, it->rank, d);
}

static IrType ir_of_type(Lower *L, const Type *t) {
    if (t->kind != TY_TENSOR || t->shape.rest >= 0 || t->shape.rank > IR_MAXRANK)
        fail(L, L->loc, "internal: %s is not a concrete tensor type", ty_str(L->a, t));
    IrType r = {.dtype = t->dtype, .rank = t->shape.rank};
    for (int i = 0; i < r.rank; i++) r.dim[i] = dim_of_sdim(L, t->shape.dims[i]);
    return r;
}

static bool all_ints(Value v) {
    for (int i = 0; i < v.n; i++)
        if (v.items[i].kind != V_INT) return false;
    return v.kind == V_LIST && v.n > 0;
}

/* The checker's type of a value. A list of ints stays a list (reshape's [B, -1]); other lists
 * become tensors here (*v is replaced by the tensor). */
static const Type *value_type(Lower *L, DimCtx *dc, Value *v) {
    switch (v->kind) {
    case V_INT: {
        Type *t = ty_new(L->a, TY_INT);
        t->ival = sdim_of(L, dc, (Dim){v->b, v->i});
        return t;
    }
    case V_FLOAT: {
        Type *t = ty_new(L->a, TY_FLOAT);
        t->known = true;
        t->fval = v->f;
        return t;
    }
    case V_BOOL: {
        Type *t = ty_new(L->a, TY_BOOL);
        t->known = true;
        t->bval = v->i != 0;
        return t;
    }
    case V_STR: {
        Type *t = ty_new(L->a, TY_STR);
        t->sval = v->s;
        return t;
    }
    case V_TENSOR: return type_of_ir(L, dc, tty(L, v->t));
    case V_LIST: {
        if (all_ints(*v)) {
            const SDim **d = arena_alloc(L->a, sizeof *d * 2);
            d[0] = ty_dim_const(dc, v->n);
            Type *t = ty_tensor(L->a, DT_I32, 1, d);
            t->nvals = v->n;
            t->vals = arena_alloc(L->a, sizeof *t->vals * (size_t)v->n);
            for (int i = 0; i < v->n; i++) t->vals[i] = sdim_of(L, dc, (Dim){v->items[i].b, v->items[i].i});
            return t;
        }
        DType dt = any_kind(*v, V_BOOL) ? DT_BOOL : any_kind(*v, V_FLOAT) ? DT_F32 : DT_I32;
        for (int i = 0; i < v->n && any_kind(*v, V_TENSOR); i++)
            if (v->items[i].kind == V_TENSOR) dt = tty(L, v->items[i].t)->dtype;
        *v = vtensor(to_tensor(L, *v, dt, L->loc));
        return type_of_ir(L, dc, tty(L, v->t));
    }
    case V_FN: {
        Type *t = ty_new(L->a, TY_FN);
        t->decl = v->decl;
        t->builtin = v->decl ? 0 : check_builtin_lookup(v->s);
        t->fname = v->s;
        return t;
    }
    case V_GROUP: {
        Type *t = ty_new(L->a, TY_GROUP);
        t->path = v->s;
        return t;
    }
    default: return NULL;
    }
}

/* The type of a tensor result the checker's rule returned; after a refusal (reported by the rule,
 * as `nnc check` reports it) the walk stops. */
static IrType result_type(Lower *L, const Type *t, int errors_before, const char *what) {
    if (t->kind == TY_ERROR || t->kind == TY_ANY) {
        if (L->d->nerrors == errors_before) fail(L, L->loc, "%s cannot take these arguments", what);
        longjmp(*L->on_error, 1);
    }
    return ir_of_type(L, t);
}

/* ---- elementwise ops ---- */

static IrType broadcast_type(Lower *L, const IrType *x, const IrType *y, const char *what) {
    IrType r = {.dtype = x->dtype, .rank = x->rank > y->rank ? x->rank : y->rank};
    for (int i = 0; i < r.rank; i++) {
        int ix = x->rank - r.rank + i, iy = y->rank - r.rank + i;
        Dim dx = ix >= 0 ? x->dim[ix] : dconst(1), dy = iy >= 0 ? y->dim[iy] : dconst(1);
        if (dim_eq(dx, dy) || dim_one(dy)) r.dim[i] = dx;
        else if (dim_one(dx)) r.dim[i] = dy;
        else fail(L, L->loc, "%s: shapes %s and %s do not broadcast", what, type_str(L, x), type_str(L, y));
    }
    return r;
}


/* op over the values vs (numbers become tensors of operand_dt), broadcast to the result type rt
 * (each operand keeps its own dtype). */
static uint32_t elementwise_to(Lower *L, Op op, Value *vs, int n, DType operand_dt, IrType rt) {
    uint32_t t[3];
    for (int i = 0; i < n; i++) {
        t[i] = to_tensor(L, vs[i], operand_dt, L->loc);
        IrType want = rt;
        want.dtype = tty(L, t[i])->dtype;
        t[i] = broadcast_to(L, t[i], want);
    }
    return add(L, op, rt, t, n, NULL);
}

static uint32_t binop_t(Lower *L, Op op, uint32_t x, uint32_t y) {
    uint32_t s[2] = {x, y};
    IrType t = *tty(L, x);
    if (op >= OP_LT && op <= OP_NE) t.dtype = DT_BOOL;
    return add(L, op, t, s, 2, NULL);
}

static uint32_t select_t(Lower *L, uint32_t c, uint32_t x, uint32_t y) {
    uint32_t s[3] = {c, x, y};
    return add(L, OP_SELECT, *tty(L, x), s, 3, NULL);
}

/* A rank-0 constant broadcast to x's shape, in dtype dt. */
static uint32_t fill_like(Lower *L, uint32_t x, DType dt, double v) {
    IrType t = *tty(L, x);
    t.dtype = dt;
    return broadcast_to(L, scalar(L, dt, v), t);
}

static uint32_t reduce(Lower *L, Op op, uint32_t x, uint64_t mask, bool keepdims);
static Value binop(Lower *L, int op, Value x, Value y);

/* Checked int arithmetic (lang/intmath.h, shared with the checker): overflow is an error at
 * the expression, never a wrapped value or a trap. */
static void overflows(Lower *L) { fail(L, L->loc, "integer arithmetic overflows"); }
static int64_t iadd(Lower *L, int64_t x, int64_t y) {
    int64_t r;
    if (!im_add(x, y, &r)) overflows(L);
    return r;
}
static int64_t isub(Lower *L, int64_t x, int64_t y) {
    int64_t r;
    if (!im_sub(x, y, &r)) overflows(L);
    return r;
}
static int64_t imul(Lower *L, int64_t x, int64_t y) {
    int64_t r;
    if (!im_mul(x, y, &r)) overflows(L);
    return r;
}
static int64_t ineg(Lower *L, int64_t x) {
    int64_t r;
    if (!im_neg(x, &r)) overflows(L);
    return r;
}

/* The float arithmetic of fold_arith below (one of its operands a float). */
static Value fold_arith_float(int op, double a, double b) {
    switch (op) {
    case OP_ADD_: return vfloat(a + b);
    case OP_SUB_: return vfloat(a - b);
    case OP_MUL_: return vfloat(a * b);
    case OP_DIV_: return vfloat(a / b);
    case OP_FLOORDIV_: return vfloat(floor(a / b));
    case OP_MOD_: return vfloat(a - b * floor(a / b));     /* [builtin.mod]: the sign of b */
    default: return vfloat(pow(a, b));
    }
}

static Value fold_arith(Lower *L, int op, Value x, Value y) {
    bool ints = x.kind != V_FLOAT && y.kind != V_FLOAT;
    int64_t r = 0, rb = 0;
    bool exact = false;
    if ((x.kind == V_INT && x.b) || (y.kind == V_INT && y.b)) {
        /* dims with B: linear arithmetic only */
        if (!ints) fail(L, L->loc, "the batch size B mixed with a float");
        switch (op) {
        case OP_ADD_: return (Value){.kind = V_INT, .i = iadd(L, x.i, y.i), .b = iadd(L, x.b, y.b)};
        case OP_SUB_: return (Value){.kind = V_INT, .i = isub(L, x.i, y.i), .b = isub(L, x.b, y.b)};
        case OP_MUL_:
            if (x.b && y.b) fail(L, L->loc, "B * B is not a dim");
            rb = iadd(L, imul(L, x.b, y.i), imul(L, y.b, x.i));
            return (Value){.kind = V_INT, .i = imul(L, x.i, y.i), .b = rb};
        case OP_DIV_:
            if (y.b || !im_divides(x.i, y.i) || !im_divides(x.b, y.i))
                fail(L, L->loc, "inexact division of a dim holding B");
            if (!im_div(x.i, y.i, &r, &exact) || !im_div(x.b, y.i, &rb, &exact)) overflows(L);
            return (Value){.kind = V_INT, .i = r, .b = rb};
        default: fail(L, L->loc, "this operator does not apply to B");
        }
    }
    double a = num(x), b = num(y);
    if ((!ints && ((op >= OP_ADD_ && op <= OP_POW_) || op == OP_FLOORDIV_)) || (op == OP_POW_ && y.i < 0)) {
        Value v = fold_arith_float(op, a, b);   /* [lex.float.range]: as the checker, never inf or NaN */
        if (!isfinite(v.f))
            fail(L, L->loc, "compile-time arithmetic gives %s, not a finite number", isnan(v.f) ? "NaN" : v.f > 0 ? "inf" : "-inf");
        return v;
    }
    switch (op) {
    case OP_ADD_: return ints ? vint(iadd(L, x.i, y.i)) : vfloat(a + b);
    case OP_SUB_: return ints ? vint(isub(L, x.i, y.i)) : vfloat(a - b);
    case OP_MUL_: return ints ? vint(imul(L, x.i, y.i)) : vfloat(a * b);
    case OP_DIV_:
        if (ints && y.i != 0) {
            if (!im_div(x.i, y.i, &r, &exact)) overflows(L);
            if (exact) return vint(r);
        }
        return vfloat(a / b);
    case OP_FLOORDIV_:      /* [int.floordiv]: rounds the quotient down, as Python's // */
        if (ints) {
            int64_t m;
            if (!im_mod(x.i, y.i, &m)) fail(L, L->loc, "integer division by zero");
            if (!im_div(isub(L, x.i, m), y.i, &r, &exact)) overflows(L);
            return vint(r);
        }
        return vfloat(floor(a / b));
    case OP_MOD_:
        if (ints) {
            if (!im_mod(x.i, y.i, &r)) fail(L, L->loc, "remainder by zero");
            return vint(r);
        }
        return vfloat(a - b * floor(a / b));     /* [builtin.mod]: the sign of b */
    case OP_POW_:
        if (ints && y.i >= 0) {
            if (!im_pow(x.i, y.i, &r)) overflows(L);    /* [int.overflow], as the checker */
            return vint(r);
        }
        return vfloat(pow(a, b));
    case OP_EQ_: return vbool(a == b);
    case OP_NE_: return vbool(a != b);
    case OP_LT_: return vbool(a < b);
    case OP_LE_: return vbool(a <= b);
    case OP_GT_: return vbool(a > b);
    case OP_GE_: return vbool(a >= b);
    case OP_AND_: return vbool(a != 0 && b != 0);
    case OP_OR_: return vbool(a != 0 || b != 0);
    }
    unreachable();
}

static uint32_t unop(Lower *L, Op op, uint32_t x) {
    uint32_t s[1] = {x};
    IrType t = *tty(L, x);
    return add(L, op, t, s, 1, NULL);
}

/* The primitive of each elementwise unary builtin (compiler/ir/ops.def). */
static Op unary_op(Builtin bi) {
    static const Op op[BI__COUNT] = {
        [BI_EXP] = OP_EXP, [BI_LOG] = OP_LOG, [BI_SQRT] = OP_SQRT, [BI_TANH] = OP_TANH,
        [BI_SIGMOID] = OP_SIGMOID, [BI_ATAN] = OP_ATAN, [BI_SIN] = OP_SIN, [BI_COS] = OP_COS,
        [BI_ASIN] = OP_ASIN, [BI_ACOS] = OP_ACOS, [BI_ERF] = OP_ERF, [BI_ABS] = OP_ABS,
        [BI_SIGN] = OP_SIGN, [BI_FLOOR] = OP_FLOOR, [BI_CEIL] = OP_CEIL, [BI_ROUND] = OP_ROUND,
    };
    if (!op[bi]) unreachable();
    return op[bi];
}

static uint32_t slice_t(Lower *L, uint32_t x, int p, int64_t lo, int64_t hi, int64_t step);

static Dim dmul(Lower *L, Dim x, Dim y) {
    if (x.a && y.a) fail(L, L->loc, "a dim may hold B at most once");
    return (Dim){iadd(L, imul(L, x.a, y.c), imul(L, y.a, x.c)), imul(L, x.c, y.c)};
}

static uint32_t matmul2(Lower *L, uint32_t x, uint32_t y) {
    uint32_t s[2] = {x, y};
    IrAttr at = {.i = {0, 0}, .ni = 2};
    return add(L, OP_MATMUL, mktype(DT_F32, 2, (Dim[]){tty(L, x)->dim[0], tty(L, y)->dim[1]}), s, 2, &at);
}

static uint32_t transpose_t(Lower *L, uint32_t x, const int *perm) {
    IrType t = *tty(L, x);
    IrAttr at = {.ni = t.rank};
    for (int i = 0; i < t.rank; i++) {
        at.i[i] = perm[i];
        t.dim[i] = tty(L, x)->dim[perm[i]];
    }
    uint32_t s[1] = {x};
    return add(L, OP_TRANSPOSE, t, s, 1, &at);
}

/* Whether node x is a TRANSPOSE that swaps its last two axes only. */
static bool swaps_last2(Lower *L, uint32_t x) {
    const IrNode *n = &L->g->nodes[x];
    if (n->op != OP_TRANSPOSE || n->type.rank < 2)
        return false;
    int r = n->type.rank;
    for (int k = 0; k < r - 2; k++)
        if (n->attr.i[k] != k)
            return false;
    return n->attr.i[r - 2] == r - 1 && n->attr.i[r - 1] == r - 2;
}

/* x @ y with the checker's result type rt [shape.matmul]. One 2-D MATMUL when only one side has
 * batch dims (the other side's rows or columns are shared); otherwise, when both do, the batch
 * dims broadcast and each product is a multiply and a SUM over K (which fuse into one loop nest). */
static Value matmul(Lower *L, Value xv, Value yv, IrType rt) {
    uint32_t x = to_tensor(L, xv, DT_F32, L->loc), y = to_tensor(L, yv, DT_F32, L->loc);
    IrType xt = *tty(L, x), yt = *tty(L, y);
    Dim K = xt.dim[xt.rank - 1];
    if (yt.rank <= 2) {
        /* [.., K] @ [K, N] or [K]: the leading dims of x are rows */
        Dim N = yt.rank == 1 ? dconst(1) : yt.dim[1], M = dconst(1);
        for (int i = 0; i + 1 < xt.rank; i++) M = dmul(L, M, xt.dim[i]);
        uint32_t x2 = reshape_to(L, x, mktype(DT_F32, 2, (Dim[]){M, K}));
        if (yt.rank == 2 && swaps_last2(L, y)) {   /* x @ transpose(W): W read transposed (torch's layout) */
            uint32_t s2[2] = {x2, L->g->nodes[y].src[0]};
            IrAttr at = {.i = {0, 1}, .ni = 2};
            return vtensor(reshape_to(L, add(L, OP_MATMUL, mktype(DT_F32, 2, (Dim[]){M, N}), s2, 2, &at), rt));
        }
        uint32_t y2 = reshape_to(L, y, mktype(DT_F32, 2, (Dim[]){K, N}));
        return vtensor(reshape_to(L, matmul2(L, x2, y2), rt));
    }
    /* batched: [bx.., M, K] @ [by.., K, N] -> [bo.., M, N] */
    int nb = rt.rank - 2;
    Dim M = xt.dim[xt.rank - 2], N = yt.dim[yt.rank - 1], P = dconst(1), Px = dconst(1), Py = dconst(1);
    for (int i = 0; i < nb; i++) P = dmul(L, P, rt.dim[i]);
    for (int i = 0; i + 2 < xt.rank; i++) Px = dmul(L, Px, xt.dim[i]);
    for (int i = 0; i + 2 < yt.rank; i++) Py = dmul(L, Py, yt.dim[i]);
    if (dim_one(Py)) {
        /* y is one matrix: x's rows times it */
        uint32_t x2 = reshape_to(L, x, mktype(DT_F32, 2, (Dim[]){dmul(L, Px, M), K}));
        uint32_t y2 = reshape_to(L, y, mktype(DT_F32, 2, (Dim[]){K, N}));
        uint32_t r = matmul2(L, x2, y2);
        IrType full = rt;
        for (int i = 0; i < nb; i++) full.dim[i] = i < nb - (xt.rank - 2) ? dconst(1) : xt.dim[i - (nb - (xt.rank - 2))];
        return vtensor(broadcast_to(L, reshape_to(L, r, full), rt));
    }
    if (dim_one(Px)) {
        /* x is one matrix: [M, K] @ [K, Py*N] after moving y's K to the front */
        uint32_t y3 = reshape_to(L, y, mktype(DT_F32, 3, (Dim[]){Py, K, N}));
        uint32_t yk = transpose_t(L, y3, (int[]){1, 0, 2});
        uint32_t y2 = reshape_to(L, yk, mktype(DT_F32, 2, (Dim[]){K, dmul(L, Py, N)}));
        uint32_t x2 = reshape_to(L, x, mktype(DT_F32, 2, (Dim[]){M, K}));
        uint32_t r = reshape_to(L, matmul2(L, x2, y2), mktype(DT_F32, 3, (Dim[]){M, Py, N}));
        r = transpose_t(L, r, (int[]){1, 0, 2});
        IrType full = rt;
        for (int i = 0; i < nb; i++) full.dim[i] = i < nb - (yt.rank - 2) ? dconst(1) : yt.dim[i - (nb - (yt.rank - 2))];
        return vtensor(broadcast_to(L, reshape_to(L, r, full), rt));
    }
    /* both batched: broadcast to [P, M, K] and [P, K, N], one batched MATMUL; an operand that is
     * a transpose of its last two axes is read transposed (a flag) instead of copied */
    IrType bx = rt, by = rt;
    bx.dim[nb] = M, bx.dim[nb + 1] = K;
    by.dim[nb] = K, by.dim[nb + 1] = N;
    uint32_t xb = broadcast_to(L, x, bx), yb = broadcast_to(L, y, by);
    bool tx = swaps_last2(L, xb), ty = swaps_last2(L, yb);
    IrType px = mktype(DT_F32, 3, (Dim[]){P, M, K}), py = mktype(DT_F32, 3, (Dim[]){P, K, N});
    if (tx) xb = L->g->nodes[xb].src[0], px.dim[1] = K, px.dim[2] = M;
    if (ty) yb = L->g->nodes[yb].src[0], py.dim[1] = N, py.dim[2] = K;
    uint32_t s3[2] = {reshape_to(L, xb, px), reshape_to(L, yb, py)};
    IrAttr at = {.i = {tx, ty}, .ni = 2};
    uint32_t r = add(L, OP_MATMUL, mktype(DT_F32, 3, (Dim[]){P, M, N}), s3, 2, &at);
    return vtensor(reshape_to(L, r, rt));
}

/* A Node that only carries the place being lowered, for the checker's rules. */
static Node *here_node(Lower *L) {
    Node *n = arena_alloc(L->a, sizeof *n);
    n->kind = ND_IDENT;
    n->loc = L->loc;
    return n;
}

static Value binop(Lower *L, int op, Value x, Value y) {
    if (is_num(x) && is_num(y)) return fold_arith(L, op, x, y);
    if (x.kind == V_STR && y.kind == V_STR && (op == OP_EQ_ || op == OP_NE_))
        return vbool((strcmp(x.s, y.s) == 0) == (op == OP_EQ_));
    /* the checker's rule gives the result type (dtype, broadcast shape) or reports the error */
    DimCtx dc = {.a = L->a};
    const Type *lt = value_type(L, &dc, &x), *rt0 = value_type(L, &dc, &y);
    int errs = L->d->nerrors;
    const char *what = arena_printf(L->a, "operator '%s'", ast_op_text(op));
    const Type *t = lt && rt0 ? binary_type_concrete(L->a, L->d, here_node(L), op, lt, rt0) : ty_error();
    IrType rt = result_type(L, t, errs, what);
    if (op == OP_MATMUL_) return matmul(L, x, y, rt);
    /* operands: the tensor side's dtype (numbers are weak) */
    DType dt = x.kind == V_TENSOR ? tty(L, x.t)->dtype : y.kind == V_TENSOR ? tty(L, y.t)->dtype : rt.dtype;
    Value vs[2] = {x, y};
    Op iop;
    switch (op) {
    case OP_ADD_: iop = OP_ADD; break;
    case OP_SUB_: iop = OP_SUB; break;
    case OP_MUL_: iop = OP_MUL; break;
    case OP_DIV_: iop = OP_DIV; break;
    case OP_POW_: iop = OP_POW; break;
    case OP_EQ_: iop = OP_EQ; break;
    case OP_NE_: iop = OP_NE; break;
    case OP_LT_: iop = OP_LT; break;
    case OP_LE_: iop = OP_LE; break;
    case OP_GT_: iop = OP_GT; break;
    case OP_GE_: iop = OP_GE; break;
    case OP_AND_: iop = OP_AND; break;
    case OP_OR_: iop = OP_OR; break;
    case OP_MOD_: iop = OP_MOD; break;     /* [builtin.mod]: the sign of the divisor */
    default: unreachable();
    }
    return vtensor(elementwise_to(L, iop, vs, 2, dt, rt));
}

/* ---- reductions and shapes ---- */

static int norm_axis(Lower *L, int64_t axis, int rank, Loc loc) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) fail(L, loc, "axis %lld is out of range for rank %d", (long long)axis, rank);
    return (int)a;
}

static uint32_t reduce(Lower *L, Op op, uint32_t x, uint64_t mask, bool keepdims) {
    IrType t = *tty(L, x), kt = t, dt = {.dtype = t.dtype};
    for (int i = 0; i < t.rank; i++) {
        if (mask >> i & 1) kt.dim[i] = dconst(1);
        else dt.dim[dt.rank++] = t.dim[i];
    }
    uint32_t s[1] = {x};
    IrAttr at = {.i = {(int64_t)mask}, .ni = 1};
    uint32_t r = add(L, op, kt, s, 1, &at);
    return keepdims ? r : reshape_to(L, r, dt);
}

/* The element count of the axes in mask, as an f32 tensor (it may involve B). */
static uint32_t count_of(Lower *L, const IrType *t, uint64_t mask) {
    double c = 1;
    uint32_t acc = IR_NONE;
    for (int i = 0; i < t->rank; i++) {
        if (!(mask >> i & 1)) continue;
        Dim d = t->dim[i];
        if (!d.a) {
            c *= (double)d.c;
            continue;
        }
        uint32_t dn = num_tensor(L, dim_value(d), DT_F32);
        if (acc == IR_NONE) acc = dn;
        else {
            uint32_t s[2] = {acc, dn};
            acc = add(L, OP_MUL, mktype(DT_F32, 0, NULL), s, 2, NULL);
        }
    }
    uint32_t cn = scalar(L, DT_F32, c);
    if (acc == IR_NONE) return cn;
    if (c == 1) return acc;
    uint32_t s[2] = {acc, cn};
    return add(L, OP_MUL, mktype(DT_F32, 0, NULL), s, 2, NULL);
}

/* ---- calls ---- */

typedef struct Args {
    int n;
    Value *v;
    const char **name;          /* NULL for positional */
    Loc *loc;
    Node **node;                /* the argument expressions (NULL: none, made by lowering) */
} Args;

static Value call_value(Lower *L, Frame *f, Value fn, Args *args, Node *call, Loc loc);

static Value *arg_named(Args *a, const char *name) {
    for (int i = 0; i < a->n; i++)
        if (a->name[i] && !strcmp(a->name[i], name)) return &a->v[i];
    return NULL;
}

static Value *arg_pos(Args *a, int k) {
    int j = 0;
    for (int i = 0; i < a->n; i++)
        if (!a->name[i] && j++ == k) return &a->v[i];
    return NULL;
}

static Value need_arg(Lower *L, Args *a, int k, const char *name, const char *fn, Loc loc) {
    Value *v = arg_pos(a, k);
    if (!v) v = arg_named(a, name);
    if (!v) fail(L, loc, "'%s' needs the argument '%s'", fn, name);
    return *v;
}

static uint32_t need_tensor(Lower *L, Value v, const char *fn, Loc loc) {
    if (v.kind == V_TENSOR) return v.t;
    if (is_num(v) || v.kind == V_LIST) return to_tensor(L, v, v.kind == V_BOOL ? DT_BOOL : DT_F32, loc);
    fail(L, loc, "'%s' needs a tensor, found %s", fn, kind_name(v.kind));
}

static bool need_bool(Lower *L, Value v, const char *what, Loc loc) {
    if (v.kind != V_BOOL) fail(L, loc, "%s must be a compile-time bool, found %s", what, kind_name(v.kind));
    return v.i != 0;
}

static int64_t need_int(Lower *L, Value v, const char *what, Loc loc) {
    if (v.kind != V_INT || v.b) fail(L, loc, "%s must be a compile-time int, found %s", what, kind_name(v.kind));
    return v.i;
}

static const char *const init_names[] = {"zeros", "ones", "glorot_uniform", "glorot_normal",
                                         "xavier_uniform", "xavier_normal", "he_uniform",
                                         "he_normal", "kaiming_uniform", "kaiming_normal"};

static const char *init_canon(const char *name) {
    if (!strcmp(name, "xavier_uniform")) return "glorot_uniform";
    if (!strcmp(name, "xavier_normal")) return "glorot_normal";
    if (!strcmp(name, "kaiming_uniform")) return "he_uniform";
    if (!strcmp(name, "kaiming_normal")) return "he_normal";
    return name;
}

static bool is_init_name(const char *name) {
    for (size_t i = 0; i < sizeof init_names / sizeof *init_names; i++)
        if (!strcmp(init_names[i], name)) return true;
    return false;
}

static uint32_t rand_node(Lower *L, IrType t) {
    t.dtype = DT_F32;
    /* a stream of its own for every RAND node of the module (the graphs share the counter) */
    IrAttr at = {.i = {L->rand_streams++}, .ni = 1};
    return add(L, OP_RAND, t, NULL, 0, &at);
}

/* ---- builtins (lang/builtins.def; docs/language.md section 5) ---- */

/* A default's spelling from the table as a value. */
static Value default_value(const char *s) {
    if (!s || !strcmp(s, "none")) return (Value){0};
    if (!strcmp(s, "false") || !strcmp(s, "true")) return vbool(s[0] == 't');
    return vint(strtoll(s, NULL, 10));
}

/* Positional arguments first, then named ones, as the checker matched them. */
static void builtin_args(Lower *L, Builtin bi, Args *a, Node *call, Value *v, Node **slot) {
    const BuiltinInfo *bf = &check_builtins[bi];
    int pos = 0;
    for (int i = 0; i < a->n; i++) {
        int k = -1;
        if (!a->name[i]) k = pos++;
        else
            for (int j = 0; j < bf->nformals; j++)
                if (!strcmp(bf->formals[j], a->name[i])) k = j;
        if (k < 0 || k >= bf->nformals) fail(L, a->loc[i], "'%s' takes no such argument", bf->name);
        v[k] = a->v[i];
        if (a->node && a->node[i]) {
            slot[k] = a->node[i];
        } else {
            slot[k] = arena_alloc(L->a, sizeof(Node));
            slot[k]->kind = ND_IDENT;
            slot[k]->loc = a->loc[i];
        }
    }
    for (int k = 0; k < bf->nformals; k++)
        if (!slot[k]) {
            if (!bf->defaults[k]) fail(L, call->loc, "'%s' needs the argument '%s'", bf->name, bf->formals[k]);
            v[k] = default_value(bf->defaults[k]);
        }
}

/* The axes a reduction runs over: the one named (slot given) or all. */
static uint64_t reduce_mask(Lower *L, Value ax, bool given, int rank) {
    if (!given || ax.kind == V_NONE) return rank >= 64 ? ~0ull : ((1ull << rank) - 1);
    if (ax.kind == V_LIST) {    /* axis = [1, 2] [builtin.reduce] */
        uint64_t m = 0;
        for (int i = 0; i < ax.n; i++) m |= 1ull << norm_axis(L, need_int(L, ax.items[i], "axis", L->loc), rank, L->loc);
        return m;
    }
    return 1ull << norm_axis(L, need_int(L, ax, "axis", L->loc), rank, L->loc);
}

/* An i32 constant counting 0 .. n-1 along axis p of a tensor shaped like t. */
static uint32_t iota(Lower *L, const IrType *t, int p) {
    int64_t n = t->dim[p].c;
    IrType it = {.dtype = DT_I32, .rank = t->rank};
    for (int i = 0; i < t->rank; i++) it.dim[i] = i == p ? dconst(n) : dconst(1);
    float *data = arena_alloc(L->a, sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) data[i] = (float)i;
    IrAttr at = {.i = {n}, .ni = 1, .data = data};
    IrType full = *t;
    full.dtype = DT_I32;
    return broadcast_to(L, add(L, OP_CONST, it, NULL, 0, &at), full);
}

static uint32_t rmin(Lower *L, uint32_t x, uint64_t mask) {
    return unop(L, OP_NEG, reduce(L, OP_RMAX, unop(L, OP_NEG, x), mask, true));
}

/* argmax / argmin along axis p (keepdims): the first index holding the extreme value, or the
 * first NaN. */
static uint32_t arg_extreme(Lower *L, uint32_t x, int p, bool is_max) {
    IrType t = *tty(L, x);
    uint64_t mask = 1ull << p;
    uint32_t m = is_max ? reduce(L, OP_RMAX, x, mask, true) : rmin(L, x, mask);
    /* rmax lets NaN win, so where there is a NaN the first NaN is the answer (NumPy) */
    uint32_t hit = binop_t(L, OP_OR, binop_t(L, OP_EQ, x, broadcast_to(L, m, t)), binop_t(L, OP_NE, x, x));
    uint32_t idx = iota(L, &t, p);
    uint32_t cand = select_t(L, hit, idx, fill_like(L, idx, DT_I32, (double)t.dim[p].c));
    return rmin(L, cand, mask);
}

/* SLICE of x along axis p: [lo, hi) */
static uint32_t slice_t(Lower *L, uint32_t x, int p, int64_t lo, int64_t hi, int64_t step) {
    IrType t = *tty(L, x);
    t.dim[p] = dconst((hi - lo - 1) / step + 1);    /* ceil, hi > lo; no overflow for a huge step */
    uint32_t s[1] = {x};
    IrAttr at = {.i = {p, lo, hi, step}, .ni = 4};
    return add(L, OP_SLICE, t, s, 1, &at);
}

static uint32_t concat_t(Lower *L, uint32_t x, uint32_t y, int p) {
    IrType t = *tty(L, x);
    t.dim[p].c += tty(L, y)->dim[p].c;
    uint32_t s[2] = {x, y};
    IrAttr at = {.i = {p}, .ni = 1};
    return add(L, OP_CONCAT, t, s, 2, &at);
}

/* cumsum along axis p by log-step scan: y += y shifted by 1, 2, 4, ... (exact for i32) */
static uint32_t cumsum_t(Lower *L, uint32_t x, int p) {
    int64_t n = tty(L, x)->dim[p].c;
    for (int64_t k = 1; k < n; k *= 2) {
        IrType zt = *tty(L, x);
        zt.dim[p] = dconst(k);
        uint32_t zero = broadcast_to(L, scalar(L, zt.dtype, 0), zt);
        x = binop_t(L, OP_ADD, x, concat_t(L, zero, slice_t(L, x, p, 0, n - k, 1), p));
    }
    return x;
}

/* prod along axis p (keepdims) by pairwise products: even * odd positions, halving the axis */
static uint32_t prod_t(Lower *L, uint32_t x, int p) {
    for (int64_t n = tty(L, x)->dim[p].c; n > 1; n = tty(L, x)->dim[p].c) {
        int64_t h = n / 2;
        uint32_t y = binop_t(L, OP_MUL, slice_t(L, x, p, 0, 2 * h, 2), slice_t(L, x, p, 1, 2 * h, 2));
        x = n % 2 ? concat_t(L, y, slice_t(L, x, p, n - 1, n, 1), p) : y;
    }
    return x;
}

/* The reductions [builtin.reduce] with the checker's result type rt. */
static uint32_t reduce_builtin(Lower *L, Builtin bi, uint32_t x, uint64_t mask, IrType rt) {
    IrType t = *tty(L, x);
    if (t.rank == 0) return bi == BI_ARGMAX || bi == BI_ARGMIN ? scalar(L, DT_I32, 0) : x;
    switch (bi) {
    case BI_SUM: return reshape_to(L, reduce(L, OP_SUM, x, mask, true), rt);
    case BI_REDUCE_MAX: return reshape_to(L, reduce(L, OP_RMAX, x, mask, true), rt);
    case BI_REDUCE_MIN: return reshape_to(L, rmin(L, x, mask), rt);
    case BI_MEAN: {
        Value vs[2] = {vtensor(reduce(L, OP_SUM, x, mask, true)), vtensor(count_of(L, &t, mask))};
        IrType kt = *tty(L, vs[0].t);
        return reshape_to(L, elementwise_to(L, OP_DIV, vs, 2, DT_F32, kt), rt);
    }
    case BI_PROD:
        for (int i = 0; i < t.rank; i++)
            if (mask >> i & 1) x = prod_t(L, x, i);
        return reshape_to(L, x, rt);
    case BI_ARGMAX: case BI_ARGMIN: {
        int p = 0;
        if (__builtin_popcountll(mask) != 1 || t.rank == 1) {
            /* over all axes: the index into the flattened tensor, as NumPy's */
            x = reshape_to(L, x, mktype(t.dtype, 1, (Dim[]){dconst(ir_numel(&t, 1))}));
        } else {
            p = __builtin_ctzll(mask);
        }
        return reshape_to(L, arg_extreme(L, x, p, bi == BI_ARGMAX), rt);
    }
    default: unreachable();
    }
}

/* Bilinear interpolation weights along one axis (align_corners = False: torch's
 * F.interpolate(mode = "bilinear") and Keras' UpSampling2D(interpolation = "bilinear")): an
 * [n * f, n] constant whose row o holds the two weights of source position (o + 0.5) / f - 0.5,
 * clamped at 0, and its neighbour clamped at n - 1. */
static uint32_t bilinear_matrix(Lower *L, int64_t n, int64_t f) {
    int64_t m = n * f;
    float *w = arena_alloc(L->a, sizeof(float) * (size_t)(m * n));
    float scale = (float)(1.0 / (double)f);     /* torch's arithmetic, in f32 */
    for (int64_t o = 0; o < m; o++) {
        float src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0) src = 0;
        int64_t i0 = (int64_t)src, i1 = i0 + (i0 < n - 1);
        float l1 = src - (float)i0;
        w[o * n + i0] += 1.0f - l1;
        w[o * n + i1] += l1;
    }
    IrAttr at = {.i = {m * n}, .ni = 1, .data = w};
    return add(L, OP_CONST, mktype(DT_F32, 2, (Dim[]){dconst(m), dconst(n)}), NULL, 0, &at);
}

/* upsample2d [builtin.upsample] on x [N, H, W, C] to rt [N, H*fh, W*fw, C]. nearest: each element
 * repeated, a reshape and a broadcast (no arithmetic); bilinear: along H, then W, one constant
 * matmul each (the interpolation is separable), with the axis brought to the front. */
static uint32_t upsample(Lower *L, uint32_t x, const PoolSpec *p, IrType rt) {
    IrType t = *tty(L, x);
    Dim N = t.dim[0], H = t.dim[1], W = t.dim[2], C = t.dim[3];
    if (!p->bilinear) {
        IrType r6 = mktype(DT_F32, 6, (Dim[]){N, H, dconst(1), W, dconst(1), C});
        IrType b6 = mktype(DT_F32, 6, (Dim[]){N, H, dconst(p->k[0]), W, dconst(p->k[1]), C});
        return reshape_to(L, broadcast_to(L, reshape_to(L, x, r6), b6), rt);
    }
    Dim OH = rt.dim[1], OW = rt.dim[2];
    /* [H, N, W, C] -> [OH, N*W*C] */
    uint32_t h = transpose_t(L, x, (int[]){1, 0, 2, 3});
    h = reshape_to(L, h, mktype(DT_F32, 2, (Dim[]){H, (Dim){N.a * W.c * C.c, N.c * W.c * C.c}}));
    h = matmul2(L, bilinear_matrix(L, H.c, p->k[0]), h);
    h = reshape_to(L, h, mktype(DT_F32, 4, (Dim[]){OH, N, W, C}));
    /* [W, N, OH, C] -> [OW, N*OH*C] */
    uint32_t w = transpose_t(L, h, (int[]){2, 1, 0, 3});
    w = reshape_to(L, w, mktype(DT_F32, 2, (Dim[]){W, (Dim){N.a * OH.c * C.c, N.c * OH.c * C.c}}));
    w = matmul2(L, bilinear_matrix(L, W.c, p->k[1]), w);
    w = reshape_to(L, w, mktype(DT_F32, 4, (Dim[]){OW, N, OH, C}));
    return transpose_t(L, w, (int[]){1, 2, 0, 3});
}

/* Builtin bi called with arguments a at call. The checker's rule (lang/builtins.c) gives the
 * result type from the arguments' concrete types, or reports the error as `nnc check` would;
 * this function only builds the IR for that type. */
static Value call_builtin(Lower *L, Builtin bi, Args *a, Node *call, Loc loc) {
    const BuiltinInfo *bf = &check_builtins[bi];
    Value v[BI_MAXFORMALS] = {0};
    Node *slot[BI_MAXFORMALS] = {0};
    const Type *sty[BI_MAXFORMALS] = {0};
    builtin_args(L, bi, a, call, v, slot);
    DimCtx dc = {.a = L->a};
    for (int i = 0; i < bf->nformals; i++)
        if (slot[i] && !(sty[i] = value_type(L, &dc, &v[i])))
            fail(L, slot[i]->loc, "'%s' cannot take %s for '%s'", bf->name, kind_name(v[i].kind), bf->formals[i]);
    int errs = L->d->nerrors;
    const Type *t = builtin_type_concrete(L->a, L->d, call, bi, slot, sty);
    if (t->kind == TY_INT) {     /* shape(x, axis), max/min of ints */
        if (!t->ival)            /* max/min of ints linear in B: no int is both */
            fail(L, loc, "%s of ints that depend on the batch size B is not known when compiling; "
                 "compare tensors instead: %s(f32(a), f32(b))", bf->name, bf->name);
        Dim d = dim_of_sdim(L, t->ival);
        return (Value){.kind = V_INT, .i = d.c, .b = d.a};
    }
    if (t->kind == TY_FLOAT && t->known) return vfloat(t->fval);
    if (bi == BI_ASSERT && t->kind == TY_BOOL) return vbool(true);     /* [builtin.assert]: it held */
    if (t->kind == TY_FLOAT || t->kind == TY_BOOL) return binop(L, OP_POW_, v[0], v[1]);   /* pow of numbers */
    IrType rt = result_type(L, t, errs, bf->name);
    switch (bf->rule) {
    case BR_UNARY_F32: case BR_UNARY_NUM:
        if (is_num(v[0]) && !(v[0].kind == V_INT && v[0].b) && rt.dtype == DT_F32)   /* folded as the IR computes */
            return vtensor(scalar(L, DT_F32, ir_eval_f32(unary_op(bi), (float)num(v[0]), 0)));
        return vtensor(unop(L, unary_op(bi), to_tensor(L, v[0], rt.dtype, loc)));
    case BR_BINARY: {
        DType dt = v[0].kind == V_TENSOR ? tty(L, v[0].t)->dtype : v[1].kind == V_TENSOR ? tty(L, v[1].t)->dtype : rt.dtype;
        return vtensor(elementwise_to(L, bi == BI_MAX ? OP_MAX : bi == BI_MIN ? OP_MIN : OP_POW, v, 2, dt, rt));
    }
    case BR_CLIP: {
        uint32_t x = elementwise_to(L, OP_MAX, v, 2, rt.dtype, rt);
        Value vs[2] = {vtensor(x), v[2]};
        return vtensor(elementwise_to(L, OP_MIN, vs, 2, rt.dtype, rt));
    }
    case BR_WHERE: {
        if (v[0].kind == V_BOOL) {
            /* a compile-time condition picks a branch, broadcast to the type of the whole */
            return vtensor(broadcast_to(L, to_tensor(L, v[0].i ? v[1] : v[2], rt.dtype, loc), rt));
        }
        uint32_t c = to_tensor(L, v[0], DT_BOOL, loc);
        IrType ct = rt;
        ct.dtype = DT_BOOL;
        uint32_t x = broadcast_to(L, to_tensor(L, v[1], rt.dtype, loc), rt);
        uint32_t y = broadcast_to(L, to_tensor(L, v[2], rt.dtype, loc), rt);
        return vtensor(select_t(L, broadcast_to(L, c, ct), x, y));
    }
    case BR_REDUCE: case BR_REDUCE_F32: case BR_ARG_REDUCE: {
        uint32_t x = to_tensor(L, v[0], DT_F32, loc);
        return vtensor(reduce_builtin(L, bi, x, reduce_mask(L, v[1], slot[1], tty(L, x)->rank), rt));
    }
    case BR_SCAN: {
        uint32_t x = to_tensor(L, v[0], DT_F32, loc);
        return vtensor(cumsum_t(L, x, norm_axis(L, need_int(L, v[1], "axis", loc), tty(L, x)->rank, loc)));
    }
    case BR_RESHAPE:
        return vtensor(reshape_to(L, to_tensor(L, v[0], DT_F32, loc), rt));
    case BR_TRANSPOSE: {
        uint32_t x = to_tensor(L, v[0], DT_F32, loc);
        int r = tty(L, x)->rank, perm[IR_MAXRANK];
        int np = v[1].kind == V_LIST ? v[1].n : r, lead = r - np;   /* negative axes: the last np [builtin.transpose] */
        for (int i = 0; i < r; i++)
            perm[i] = i < lead ? i : v[1].kind == V_LIST ? (int)norm_axis(L, v[1].items[i - lead].i, r, loc) : r - 1 - i;
        return vtensor(r < 2 ? x : transpose_t(L, x, perm));
    }
    case BR_CONCAT: {
        uint32_t x = to_tensor(L, v[0], DT_F32, loc), y = to_tensor(L, v[1], tty(L, x)->dtype, loc);
        int p = norm_axis(L, need_int(L, v[2], "axis", loc), rt.rank, loc);
        uint32_t s[2] = {x, y};
        IrAttr at = {.i = {p}, .ni = 1};
        return vtensor(add(L, OP_CONCAT, rt, s, 2, &at));
    }
    case BR_ONE_HOT: {
        uint32_t s[1] = {to_tensor(L, v[0], DT_I32, loc)};
        IrAttr at = {.i = {rt.dim[rt.rank - 1].c}, .ni = 1};
        return vtensor(add(L, OP_ONE_HOT, rt, s, 1, &at));
    }
    case BR_GATHER: {
        /* a negative index counts from the end (NumPy); one still outside [0, V) gives a row of
         * zeros at run time [builtin.gather] */
        uint32_t tb = to_tensor(L, v[0], DT_F32, loc), ix = to_tensor(L, v[1], DT_I32, loc);
        uint32_t zero = fill_like(L, ix, DT_I32, 0);
        /* V may be the batch (mixup's gather(x, perm)): the wrap adds it as a tensor */
        Dim V = tty(L, tb)->dim[0];
        uint32_t vn = V.a ? broadcast_to(L, cast_to(L, num_tensor(L, dim_value(V), DT_F32), DT_I32), *tty(L, ix))
                          : fill_like(L, ix, DT_I32, (double)V.c);
        uint32_t wrapped = binop_t(L, OP_ADD, ix, vn);
        uint32_t s[2] = {tb, select_t(L, binop_t(L, OP_LT, ix, zero), wrapped, ix)};
        const IrType *tt = tty(L, tb);
        if (tt->rank == 2) return vtensor(add(L, OP_GATHER, rt, s, 2, NULL));
        /* rows of rank > 1 ([V, H, W, C]): gathered as [V, H*W*C] rows, then given their shape */
        IrType flat = {.dtype = DT_F32, .rank = 2, .dim = {tt->dim[0], dconst(1)}};
        for (int i = 1; i < tt->rank; i++) {
            if (tt->dim[i].a) fail(L, loc, "gather: the table's rows may not hold the batch size B");
            flat.dim[1].c *= tt->dim[i].c;
        }
        s[0] = reshape_to(L, tb, flat);
        IrType gt = *tty(L, ix);
        gt.dtype = DT_F32;
        gt.dim[gt.rank++] = flat.dim[1];
        return vtensor(reshape_to(L, add(L, OP_GATHER, gt, s, 2, NULL), rt));
    }
    case BR_CAST: {
        if (is_num(v[0]) && !(v[0].kind == V_INT && v[0].b)) {
            double x = num(v[0]);
            return vtensor(scalar(L, rt.dtype, rt.dtype == DT_I32 ? trunc(x) : x));
        }
        return vtensor(cast_to(L, to_tensor(L, v[0], DT_F32, loc), rt.dtype));
    }
    case BR_SAME:
        return v[0].kind == V_TENSOR ? vtensor(unop(L, OP_STOP_GRAD, v[0].t)) : vtensor(to_tensor(L, v[0], rt.dtype, loc));
    case BR_LIKE:
        return vtensor(broadcast_to(L, scalar(L, rt.dtype, bi == BI_ONES_LIKE), rt));
    case BR_RAND: {
        uint32_t u = rand_node(L, rt);
        if (bi == BI_RAND_UNIFORM) return vtensor(u);
        /* Box-Muller: sqrt(-2 ln(1 - u1)) cos(2 pi u2); 1 - u1 lies in (0, 1] */
        uint32_t u2 = rand_node(L, rt);
        Value one = vfloat(1.0);
        Value lg = vtensor(unop(L, OP_LOG, binop(L, OP_SUB_, one, vtensor(u)).t));
        Value r = vtensor(unop(L, OP_SQRT, binop(L, OP_MUL_, vfloat(-2.0), lg).t));
        Value c = vtensor(unop(L, OP_COS, binop(L, OP_MUL_, vfloat(2.0 * M_PI), vtensor(u2)).t));
        return binop(L, OP_MUL_, r, c);
    }
    case BR_RAND_PERM: {
        /* [builtin.rand_perm] the ranks of n random keys, a uniformly random permutation: element
         * i is the number of keys below key i, keys compared as (u1, u2), two uniform streams, so
         * that two elements tie only where both 24-bit draws agree (about n^2 / 2^49 per step).
         * The [n, n] comparison is O(n^2), a few thousand compares for a batch. */
        Dim n = rt.dim[0];
        IrType n1 = {.dtype = DT_F32, .rank = 1, .dim = {n}};
        IrType col = {.dtype = DT_F32, .rank = 2, .dim = {n, dconst(1)}};
        IrType row = {.dtype = DT_F32, .rank = 2, .dim = {dconst(1), n}};
        IrType sq = {.dtype = DT_F32, .rank = 2, .dim = {n, n}};
        uint32_t u1 = rand_node(L, n1), u2 = rand_node(L, n1);
        uint32_t a1 = broadcast_to(L, reshape_to(L, u1, col), sq), b1 = broadcast_to(L, reshape_to(L, u1, row), sq);
        uint32_t a2 = broadcast_to(L, reshape_to(L, u2, col), sq), b2 = broadcast_to(L, reshape_to(L, u2, row), sq);
        /* below[i][j]: key j sorts before key i */
        uint32_t below = binop_t(L, OP_OR, binop_t(L, OP_LT, b1, a1),
                                 binop_t(L, OP_AND, binop_t(L, OP_EQ, b1, a1), binop_t(L, OP_LT, b2, a2)));
        uint32_t rank = reduce(L, OP_SUM, cast_to(L, below, DT_F32), 2, false);
        return vtensor(cast_to(L, rank, DT_I32));
    }
    case BR_CONV: {
        /* conv_transpose(x, w) is the data gradient of the convolution of its result with w */
        uint32_t s[2] = {to_tensor(L, v[0], DT_F32, loc), to_tensor(L, v[1], DT_F32, loc)};
        IrAttr at = {0};
        at.ni = builtin_conv_attrs(L->a, L->d, call, bi, slot, sty, at.i);
        return vtensor(add(L, bi == BI_CONV ? OP_CONV : OP_CONV_BWD_DATA, rt, s, 2, &at));
    }
    case BR_POOL: case BR_UPSAMPLE: {
        /* the rule's own reading of size, stride and padding [builtin.pool] */
        PoolSpec p = builtin_pool_spec(L->a, L->d, call, bi, slot, sty);
        uint32_t x = to_tensor(L, v[0], DT_F32, loc);
        if (bf->rule == BR_UPSAMPLE) return vtensor(upsample(L, x, &p, rt));
        IrAttr at = {.ni = 4 * p.nd};
        for (int i = 0; i < p.nd; i++) {
            at.i[i] = p.k[i];
            at.i[p.nd + i] = p.s[i];
            at.i[2 * p.nd + i] = p.lo[i];
            at.i[3 * p.nd + i] = p.hi[i];
        }
        Op op = bi == BI_MAXPOOL2D || bi == BI_MAXPOOL1D ? OP_MAXPOOL : OP_AVGPOOL;
        return vtensor(add(L, op, rt, &x, 1, &at));
    }
    case BR_SOFTMAX: {
        uint32_t x = to_tensor(L, v[0], DT_F32, loc);
        IrAttr at = {.i = {slot[2] && v[2].kind == V_BOOL && v[2].i}, .ni = 1, .f = slot[1] ? (float)num(v[1]) : 1.0};
        return vtensor(add(L, OP_SOFTMAX, rt, &x, 1, &at));
    }
    case BR_SHAPE: case BR_ASSERT: case BR_NONE:
        break;
    }
    unreachable();
}

/* The initializers constant(v), uniform(lo, hi), normal(mean, std) [layer.init]. */
static bool call_initializer(Lower *L, const char *name, Args *a, Loc loc, Value *out) {
    if (!strcmp(name, "constant") || !strcmp(name, "uniform") || !strcmp(name, "normal")) {
        Value x = need_arg(L, a, 0, name[0] == 'c' ? "value" : name[0] == 'u' ? "lo" : "mean", name, loc);
        Value y = name[0] == 'c' ? vfloat(0) : need_arg(L, a, 1, name[0] == 'u' ? "hi" : "std", name, loc);
        if (!is_num(x) || !is_num(y)) fail(L, loc, "'%s' takes compile-time numbers", name);
        *out = (Value){.kind = V_INIT, .s = name, .f = num(x), .f2 = num(y)};
        return true;
    }
    return false;
}

/* The value of a name no binding or declaration defines. */
static bool builtin_value(Lower *L, const char *name, Value *out) {
    if (!strcmp(name, "training")) {
        *out = vbool(L->training);
        return true;
    }
    if (!strcmp(name, "step") || !strcmp(name, "total_steps")) {
        *out = vtensor(hyper(L, name[0] == 's' ? HY_STEP : HY_TOTAL_STEPS));
        return true;
    }
    if (!strcmp(name, "B")) {
        *out = (Value){.kind = V_INT, .b = 1};
        return true;
    }
    if (is_init_name(name)) {
        *out = (Value){.kind = V_INIT, .s = init_canon(name)};
        return true;
    }
    Builtin bi = check_builtin_lookup(name);
    if (bi) {
        *out = (Value){.kind = V_FN, .s = check_builtins[bi].name};
        return true;
    }
    return false;
}

static Value lookup(Lower *L, Frame *f, const char *name, Loc loc) {
    Bind *b = find_bind(f, name);
    if (b) return b->v;
    Node *d = find_decl(L, name, f->file);
    if (d && (d->kind == ND_FN || d->kind == ND_LAYER || d->kind == ND_OPTIMIZER))
        return (Value){.kind = V_FN, .decl = d, .s = d->name};
    Value v;
    if (builtin_value(L, name, &v)) return v;
    fail(L, loc, "'%s' is not defined here", name);
}

static void eval_block(Lower *L, Frame *f, Node **stmts, int n);

/* Call a fn/layer/optimizer declaration: bind the formals and evaluate the body in a new frame. */
static Value call_decl(Lower *L, Frame *f, Value fn, Args *a, Node *call, Loc loc,
                       const char *state_prefix) {
    Node *d = fn.decl;
    if (++L->depth > MAX_DEPTH) fail(L, loc, "calls nest deeper than %d (recursion?)", MAX_DEPTH);
    spend(L, loc, "calls");
    Frame *nf = frame_new(L, f, call, d->name);
    nf->file = d->loc.file;
    nf->state_prefix = state_prefix;
    nf->shared = f->shared;
    nf->infer = f->infer;
    /* captured arguments of a partial application come first, by name */
    Value *vals = arena_alloc(L->a, sizeof(Value) * (size_t)(d->nformals + 1));
    bool *have = arena_alloc(L->a, sizeof(bool) * (size_t)(d->nformals + 1));
    bool *captured = arena_alloc(L->a, sizeof(bool) * (size_t)(d->nformals + 1));
    for (int i = 0; i < fn.n; i++)
        for (int j = 0; j < d->nformals; j++)
            if (!strcmp(d->formals[j]->name, fn.names[i])) {
                vals[j] = fn.items[i];
                have[j] = captured[j] = true;
            }
    int k = 0;
    for (int i = 0; i < a->n; i++) {
        if (a->name[i]) continue;
        while (k < d->nformals && have[k]) k++;
        if (k >= d->nformals) fail(L, a->loc[i], "too many arguments to '%s'", d->name);
        vals[k] = a->v[i];
        have[k++] = true;
    }
    for (int i = 0; i < a->n; i++) {
        if (!a->name[i]) continue;
        int j = 0;
        while (j < d->nformals && strcmp(d->formals[j]->name, a->name[i])) j++;
        if (j == d->nformals) fail(L, a->loc[i], "'%s' has no parameter '%s'", d->name, a->name[i]);
        if (have[j] && !captured[j]) fail(L, a->loc[i], "'%s' gets '%s' twice", d->name, a->name[i]);
        vals[j] = a->v[i];
        have[j] = true;
        captured[j] = false;
    }
    /* a fn call that leaves a formal without value or default is a partial application
     * (schedule = step_decay(gamma = 0.5)); a layer's is an error */
    bool instance = d->kind == ND_LAYER && !fn.ipath && call && call == f->st_rhs && f->st_name;
    for (int j = 0; j < d->nformals; j++)
        if (!have[j] && !d->formals[j]->lhs) {
            if (d->kind != ND_FN && !instance)
                fail(L, loc, "'%s' needs the argument '%s'", d->name, d->formals[j]->name);
            Value p = {.kind = V_FN, .decl = d, .s = d->name};
            if (instance) p.ipath = call_path(L, f, call, d->name);    /* d = disc(units = 256) */
            p.items = arena_alloc(L->a, sizeof(Value) * (size_t)(d->nformals + 1));
            p.names = arena_alloc(L->a, sizeof(char *) * (size_t)(d->nformals + 1));
            for (int i = 0; i < d->nformals; i++)
                if (have[i]) {
                    p.items[p.n] = vals[i];
                    p.names[p.n++] = d->formals[i]->name;
                }
            L->depth--;
            return p;
        }
    for (int j = 0; j < d->nformals; j++) {
        Node *fo = d->formals[j];
        Value v = have[j] ? vals[j] : eval(L, nf, fo->lhs);
        unify(L, nf, fo, v, d->name, have[j] ? loc : fo->loc);
        if (is_num(v) && fo->tyexpr && fo->tyexpr->kind == TE_TENSOR && formal_known(L, nf, fo->tyexpr)) {
            /* a number fills a tensor formal the formals before it determined [builtin.like] */
            IrType ft = eval_type(L, nf, fo->tyexpr, fo->loc);
            v = vtensor(broadcast_to(L, to_tensor(L, v, ft.dtype, loc), ft));
        }
        bind(L, nf, fo->name, v, NULL, -1);
    }
    bool training = L->training;
    const char *layer_pre = NULL;
    bool direct = call && call == f->st_rhs && f->st_name;   /* before the body's statements */
    const char *st_name = f->st_name;
    if (d->kind == ND_LAYER) {
        if (fn.ipath) {         /* a call of an instance: its parameters, under its path */
            nf->prefix = arena_printf(L->a, "%s.", fn.ipath);
            nf->shared = true;
        }
        /* the path now, in call order, as the checker numbers every layer call [layer.naming] */
        const char *pre = frame_prefix(L, nf);
        layer_pre = pre;
        if (L->training && L->step && L->step->nover && !nf->infer && !frame_trained(L, pre)) {
            nf->infer = true;       /* [train.step.mode]: a sub-network this step does not train */
            L->training = false;
        }
    }
    eval_block(L, nf, d->kids, d->nkids);
    L->training = training;
    L->depth--;
    if (!nf->has_result) fail(L, d->loc, "'%s' has no result", d->name);
    /* a call the model body makes: a row of the layer-level picture; one of several results
     * [fn.results] is one row, shown with its first result, which the others join */
    const Value *r0 = nf->ret.kind == V_TUPLE && nf->ret.n > 0 ? &nf->ret.items[0] : &nf->ret;
    if (L->record && !f->caller && r0->kind == V_TENSOR && d->kind != ND_OPTIMIZER) {
        int before = L->m->ncalls;
        if (layer_pre && layer_pre[0])
            record_call(L, arena_strndup(L->a, layer_pre, strlen(layer_pre) - 1), d->name, r0->t, layer_pre,
                        a->v, a->n);
        else if (direct)
            record_call(L, st_name, d->name, r0->t, NULL, a->v, a->n);
        else if (call && call == f->st_rhs && f->st_first)     /* lo, hi = halves(x) */
            record_call(L, f->st_first, d->name, r0->t, NULL, a->v, a->n);
        for (int i = 1; nf->ret.kind == V_TUPLE && L->m->ncalls > before && i < nf->ret.n; i++)
            if (nf->ret.items[i].kind == V_TENSOR) {
                L->more = arena_realloc(L->a, L->more, sizeof *L->more * (size_t)L->nmore,
                                        sizeof *L->more * (size_t)(L->nmore + 1));
                L->more[L->nmore].node = nf->ret.items[i].t;
                L->more[L->nmore++].call = before;
            }
    }
    return nf->ret;
}

static Value call_value(Lower *L, Frame *f, Value fn, Args *a, Node *call, Loc loc) {
    if (fn.kind != V_FN) fail(L, loc, "%s is not a function", kind_name(fn.kind));
    if (fn.decl) {
        if (fn.decl->kind == ND_OPTIMIZER) fail(L, loc, "an optimizer is applied by a train block, not called");
        return call_decl(L, f, fn, a, call, loc, NULL);
    }
    Builtin bi = check_builtin_lookup(fn.s);
    if (!bi) fail(L, loc, "'%s' is not a function", fn.s);
    Value r = call_builtin(L, bi, a, call, loc);
    if (L->record && !f->caller && r.kind == V_TENSOR && call && call == f->st_rhs && f->st_name)
        record_call(L, f->st_name, fn.s, r.t, NULL, a->v, a->n);
    return r;
}

static Args eval_args(Lower *L, Frame *f, Node *call) {
    Args a = {.n = call->nkids};
    a.v = arena_alloc(L->a, sizeof(Value) * (size_t)(a.n + 1));
    a.name = arena_alloc(L->a, sizeof(char *) * (size_t)(a.n + 1));
    a.loc = arena_alloc(L->a, sizeof(Loc) * (size_t)(a.n + 1));
    a.node = arena_alloc(L->a, sizeof(Node *) * (size_t)(a.n + 1));
    for (int i = 0; i < a.n; i++) {
        Node *k = call->kids[i];
        a.node[i] = k->kind == ND_ARG ? k->lhs : k;
        if (k->kind == ND_ARG) {
            a.name[i] = k->name;
            a.v[i] = eval(L, f, k->lhs);
        } else {
            a.v[i] = eval(L, f, k);
        }
        a.loc[i] = k->loc;
    }
    return a;
}

/* ---- expressions ---- */

static Value index_value(Lower *L, Frame *f, Node *n) {
    Value base = eval(L, f, n->lhs);
    if (base.kind == V_LIST) {
        if (n->nkids != 1 || n->kids[0]->kind == ND_SLICE) fail(L, n->loc, "a list takes one index");
        int64_t i = need_int(L, eval(L, f, n->kids[0]), "an index", n->kids[0]->loc);
        if (i < 0) i += base.n;
        if (i < 0 || i >= base.n) fail(L, n->loc, "index %lld out of range", (long long)i);
        return base.items[i];
    }
    uint32_t x = need_tensor(L, base, "indexing", n->loc);
    IrType t = *tty(L, x);
    if (n->nkids > t.rank) fail(L, n->loc, "%d indices for a tensor of rank %d", n->nkids, t.rank);
    uint64_t drop = 0;
    for (int ax = 0; ax < n->nkids; ax++) {
        Node *k = n->kids[ax];
        Dim d = t.dim[ax];
        if (d.a) {
            if (k->kind == ND_SLICE && !k->lhs && !k->rhs && !k->body) continue;    /* x[:, ...] */
            fail(L, k->loc, "the batch axis can only be taken whole (':')");
        }
        int64_t lo, hi, st = 1;
        if (k->kind == ND_SLICE && !k->lhs && !k->rhs && k->body &&
            (st = need_int(L, eval(L, f, k->body), "a slice step", k->loc)) < 0) {
            /* x[::-s]: the axis from its end, every s-th element: one-element slices concatenated
             * (as stdlib's flip_lr), which simplify joins into one concatenation */
            if (st <= -(1 << 30)) fail(L, k->loc, "slice step %lld is out of range", (long long)st);
            uint32_t y = IR_NONE;
            for (int64_t i = d.c - 1; i >= 0; i += st) {
                IrType one = *tty(L, x);
                one.dim[ax] = dconst(1);
                uint32_t s1[1] = {x};
                IrAttr at = {.i = {ax, i, i + 1, 1}, .ni = 4};
                uint32_t e = add(L, OP_SLICE, one, s1, 1, &at);
                if (y == IR_NONE) {
                    y = e;
                    continue;
                }
                IrType ct = *tty(L, y);
                ct.dim[ax] = dconst(ct.dim[ax].c + 1);
                uint32_t s2[2] = {y, e};
                IrAttr cat = {.i = {ax}, .ni = 1};
                y = add(L, OP_CONCAT, ct, s2, 2, &cat);
            }
            x = y;
            continue;
        }
        st = 1;
        if (k->kind == ND_SLICE) {
            lo = k->lhs ? need_int(L, eval(L, f, k->lhs), "a slice start", k->loc) : 0;
            hi = k->rhs ? need_int(L, eval(L, f, k->rhs), "a slice end", k->loc) : d.c;
            st = k->body ? need_int(L, eval(L, f, k->body), "a slice step", k->loc) : 1;
            if (lo < 0) lo += d.c;
            if (hi < 0) hi += d.c;
            if (st < 1 || lo < 0 || hi > d.c || lo >= hi)
                fail(L, k->loc, "slice %lld:%lld:%lld is out of range for extent %lld", (long long)lo,
                     (long long)hi, (long long)st, (long long)d.c);
        } else {
            lo = need_int(L, eval(L, f, k), "an index", k->loc);
            if (lo < 0) lo += d.c;
            if (lo < 0 || lo >= d.c) fail(L, k->loc, "index out of range for extent %lld", (long long)d.c);
            hi = lo + 1;
            drop |= 1ull << ax;
        }
        if (lo == 0 && hi == d.c && st == 1) continue;
        IrType st_t = *tty(L, x);
        st_t.dim[ax] = dconst((hi - lo - 1) / st + 1);
        uint32_t s[1] = {x};
        IrAttr at = {.i = {ax, lo, hi, st}, .ni = 4};
        x = add(L, OP_SLICE, st_t, s, 1, &at);
    }
    if (drop) {
        IrType r = {.dtype = t.dtype};
        const IrType *xt = tty(L, x);
        for (int i = 0; i < xt->rank; i++)
            if (!(drop >> i & 1)) r.dim[r.rank++] = xt->dim[i];
        x = reshape_to(L, x, r);
    }
    return vtensor(x);
}

static Value member_value(Lower *L, Frame *f, Node *n) {
    const char *group = NULL;
    if (n->lhs->kind == ND_IDENT) {
        Bind *b = find_bind(f, n->lhs->name);
        if (b && b->group) group = b->group;
        if (!b) {
            /* h_2.W: a parameter by its weights-file name [layer.member]; also encoder.h.W, named
             * after the layer of a call that binds no one name [fn.results] */
            const char *p = arena_printf(L->a, "%s%s", frame_prefix(L, f), n->lhs->name);
            if (made_node(L, p) != IR_NONE || has_prefix_made(L, p)) group = p;
        }
        if (b && !b->group && strcmp(n->name, "T") != 0) {
            /* h = dense(...), then h = dropout(h, 0.5): h.W is the parameter named h.W */
            const char *p = arena_printf(L->a, "%s%s", frame_prefix(L, f), n->lhs->name);
            const char *full = arena_printf(L->a, "%s.%s", p, n->name);
            if (made_node(L, full) != IR_NONE || has_prefix_made(L, full)) group = p;
        }
    }
    if (!group && n->lhs->kind == ND_IDENT && !find_bind(f, n->lhs->name)) {
        /* nn.dense [scope.qualified]: top-level names are unique across the program */
        for (int i = 0; i < L->prog->nkids; i++) {
            Node *u = L->prog->kids[i];
            if (u->kind == ND_USE && u->name && !strcmp(u->name, n->lhs->name)) {
                Node *d = qualified_decl(L, u->name, n->name);
                if (d && d->kind != ND_MODEL) return (Value){.kind = V_FN, .decl = d, .s = d->name};
            }
        }
    }
    Value base = (Value){0};
    if (!group) {
        base = eval(L, f, n->lhs);
        if (base.kind == V_GROUP) group = base.s;
    }
    if (group) {
        const char *full = arena_printf(L->a, "%s.%s", group, n->name);
        uint32_t t = made_node(L, full);
        if (t != IR_NONE) return vtensor(t);
        if (has_prefix_made(L, full)) return (Value){.kind = V_GROUP, .s = full};
        fail(L, n->name_loc.file ? n->name_loc : n->loc, "'%s' has no parameter '%s'", group, n->name);
    }
    if (base.kind == V_TENSOR && !strcmp(n->name, "T")) {
        Args a = {.n = 1, .v = &base, .name = (const char *[]){NULL}, .loc = &n->loc, .node = &n->lhs};
        return call_builtin(L, BI_TRANSPOSE, &a, n, n->loc);
    }
    fail(L, n->loc, "'.%s' does not apply to %s", n->name, kind_name(base.kind));
}

static Value eval(Lower *L, Frame *f, Node *n) {
    Loc saved = L->loc;
    L->loc = n->loc;
    Value r;
    switch (n->kind) {
    case ND_INT: r = vint(n->ival); break;
    case ND_FLOAT: r = vfloat(n->fval); break;
    case ND_BOOL: r = vbool(n->ival != 0); break;
    case ND_STR: r = (Value){.kind = V_STR, .s = n->name}; break;
    case ND_IDENT: r = lookup(L, f, n->name, n->loc); break;
    case ND_TENSOR: {
        r = (Value){.kind = V_LIST, .n = n->nkids};
        r.items = arena_alloc(L->a, sizeof(Value) * (size_t)(n->nkids + 1));
        for (int i = 0; i < n->nkids; i++) r.items[i] = eval(L, f, n->kids[i]);
        break;
    }
    case ND_UNARY: {
        Value x = eval(L, f, n->lhs);
        L->loc = n->loc;
        if (n->op == '-') {
            if (x.kind == V_INT) r = (Value){.kind = V_INT, .i = ineg(L, x.i), .b = ineg(L, x.b)};
            else if (x.kind == V_FLOAT) r = vfloat(-x.f);
            else {
                uint32_t t = need_tensor(L, x, "'-'", n->loc);
                if (tty(L, t)->dtype == DT_BOOL) fail(L, n->loc, "'-' of a bool tensor");
                r = vtensor(unop(L, OP_NEG, t));
            }
        } else {
            if (x.kind == V_BOOL) r = vbool(!x.i);
            else {
                uint32_t t = need_tensor(L, x, "'not'", n->loc);
                if (tty(L, t)->dtype != DT_BOOL) fail(L, n->loc, "'not' needs a bool, found %s", type_str(L, tty(L, t)));
                r = vtensor(unop(L, OP_NOT, t));
            }
        }
        break;
    }
    case ND_BINARY: {
        Value x = eval(L, f, n->lhs);
        /* and/or on compile-time bools short-circuit */
        if (x.kind == V_BOOL && ((n->op == OP_AND_ && !x.i) || (n->op == OP_OR_ && x.i))) {
            r = x;
            break;
        }
        Value y = eval(L, f, n->rhs);
        L->loc = n->loc;
        if (x.kind == V_STR && y.kind == V_STR && (n->op == OP_EQ_ || n->op == OP_NE_)) {
            r = vbool((strcmp(x.s, y.s) == 0) == (n->op == OP_EQ_));     /* padding == "same" */
            break;
        }
        r = binop(L, n->op, x, y);
        break;
    }
    case ND_CALL: {
        Value fn = eval(L, f, n->lhs);
        Args a = eval_args(L, f, n);
        L->loc = n->loc;
        r = call_value(L, f, fn, &a, n, n->loc);
        break;
    }
    case ND_INDEX: r = index_value(L, f, n); break;
    case ND_MEMBER: r = member_value(L, f, n); break;
    case ND_TUPLE: {    /* return mu, logvar [fn.results] */
        r = (Value){.kind = V_TUPLE, .n = n->nkids};
        r.items = arena_alloc(L->a, sizeof(Value) * (size_t)(n->nkids + 1));
        for (int i = 0; i < n->nkids; i++) r.items[i] = eval(L, f, n->kids[i]);
        break;
    }
    default: fail(L, n->loc, "this is not an expression");
    }
    L->loc = saved;
    return r;
}

/* ---- statements ---- */

static void fan(const IrType *t, int64_t *in, int64_t *out) {
    /* 2-D [K, N] (x @ W): fan_in K, fan_out N. Rank 1: both the extent. Rank >= 3, a convolution
     * kernel [k..., I, O] as the language lays it out (channels-last, HWIO, as Keras): fan_in
     * I*k..., fan_out O*k... (Keras' rule: a grouped kernel's I is per group, its O all outputs). */
    if (t->rank == 0) *in = *out = 1;
    else if (t->rank == 1) *in = *out = t->dim[0].c;
    else if (t->rank == 2) *in = t->dim[0].c, *out = t->dim[1].c;
    else {
        int64_t rf = 1;
        for (int i = 0; i < t->rank - 2; i++) rf *= t->dim[i].c;
        *in = t->dim[t->rank - 2].c * rf;
        *out = t->dim[t->rank - 1].c * rf;
    }
}

/* The initializer of a param or state: V_INIT, a number (constant) or a literal. */
static void apply_init(Lower *L, IrTensor *t, Value v, Loc loc) {
    fan(&t->type, &t->fan_in, &t->fan_out);
    if (v.kind == V_INIT) {
        t->init = v.s;
        t->init_a = v.f;
        t->init_b = v.f2;
        return;
    }
    if (is_num(v) && !(v.kind == V_INT && v.b)) {
        t->init = "constant";
        t->init_a = num(v);
        return;
    }
    if (v.kind == V_LIST && all_numbers(v)) {
        Dim dims[IR_MAXRANK];
        int r = list_shape(v, dims, 0);
        int64_t n = ir_numel(&t->type, 1), k = 0;
        if (r < 0) fail(L, loc, "a tensor literal must be rectangular");
        IrType lt = mktype(t->type.dtype, r, dims);
        if (ir_numel(&lt, 1) != n || (r != t->type.rank && r > 0))
            fail(L, loc, "the literal is %s but '%s' is %s", type_str(L, &lt), t->name, type_str(L, &t->type));
        for (int i = 0; i < r; i++)
            if (!dim_eq(dims[i], t->type.dim[i]))
                fail(L, loc, "the literal is %s but '%s' is %s", type_str(L, &lt), t->name, type_str(L, &t->type));
        float *data = arena_alloc(L->a, sizeof(float) * (size_t)(n ? n : 1));
        flatten_list(L, v, loc, data, &k, n);
        t->init = "literal";
        t->data = data;
        return;
    }
    fail(L, loc, "'%s' needs an initializer (zeros, glorot_uniform, uniform(lo, hi), a literal, ...), "
         "found %s", t->name, kind_name(v.kind));
}

/* The initializer expression of a param/state: initializer names win over same-named functions
 * (optim.nn's `constant` schedule). */
static Value eval_init(Lower *L, Frame *f, Node *e) {
    if (e->kind == ND_IDENT && is_init_name(e->name) && !find_bind(f, e->name))
        return (Value){.kind = V_INIT, .s = init_canon(e->name)};
    if (e->kind == ND_CALL && e->lhs->kind == ND_IDENT && !find_bind(f, e->lhs->name) &&
        (!strcmp(e->lhs->name, "constant") || !strcmp(e->lhs->name, "uniform") ||
         !strcmp(e->lhs->name, "normal"))) {
        Args a = eval_args(L, f, e);
        Value out;
        call_initializer(L, e->lhs->name, &a, e->loc, &out);
        return out;
    }
    Value v = eval(L, f, e);
    if (v.kind == V_STR) {
        /* init = "he_normal" (lang/check.c init_strs) [layer.init.str] */
        if (is_init_name(v.s)) return (Value){.kind = V_INIT, .s = init_canon(v.s)};
        if (!strcmp(v.s, "random_normal")) return (Value){.kind = V_INIT, .s = "normal", .f = 0, .f2 = 0.05};
        if (!strcmp(v.s, "random_uniform")) return (Value){.kind = V_INIT, .s = "uniform", .f = -0.05, .f2 = 0.05};
        fail(L, e->loc, "'%s' is not an initializer", v.s);
    }
    return v;
}

static void declare(Lower *L, Frame *f, Node *s, IrRole role) {
    IrType t = eval_type(L, f, s->tyexpr, s->loc);
    const char *name = s->name;
    if (role == ROLE_STATE && f->state_prefix) name = arena_printf(L->a, "%s%s", f->state_prefix, s->name);
    else name = arena_printf(L->a, "%s%s", frame_prefix(L, f), s->name);
    for (int i = 0; i < t.rank; i++)
        if (t.dim[i].a) fail(L, s->loc, "a %s's shape cannot hold B", role_name(role));
    uint32_t again = f->shared ? made_node(L, name) : IR_NONE;
    if (again != IR_NONE) {
        /* a later call of a layer instance: the same tensor; a state holds what the call before
         * stored in it (the calls run in order, as in PyTorch) */
        int idx = find_tensor(L, name);
        if (!ir_type_eq(&L->m->tensors[idx].type, &t))
            fail(L, s->loc, "this call of the instance makes '%s' %s, but an earlier call made it %s", name,
                 type_str(L, &t), type_str(L, &L->m->tensors[idx].type));
        Value v = vtensor(again);
        for (int k = 0; k < L->nupd && role == ROLE_STATE; k++)
            if (L->upd[k].index == idx) v = L->upd[k].v;
        bind(L, f, s->name, v, NULL, role == ROLE_STATE ? idx : -1);
        return;
    }
    IrTensor it = {.name = name, .role = role, .type = t};
    L->loc = s->loc;
    apply_init(L, &it, eval_init(L, f, s->lhs), s->lhs->loc);
    int idx = module_tensor(L, it, s->loc);
    L->loc = s->loc;
    uint32_t node = source_node(L, role == ROLE_PARAM ? OP_PARAM : OP_STATE, idx);
    bind(L, f, s->name, vtensor(node), NULL, role == ROLE_STATE ? idx : -1);
}

static void set_result(Frame *f, Value v, bool is_return) {
    f->has_result = true;
    f->returned = is_return;
    f->ret = v;
}

/* Bind name to v in f (s: the statement, for messages); a `state` bound again gives its new value. */
static void bind_value(Lower *L, Frame *f, Node *s, const char *name, Value v, const char *group) {
    Bind *old = find_bind(f, name);
    int state = old ? old->state : -1;
    if (state >= 0) {
        uint32_t t = need_tensor(L, v, "a state update", s->loc);
        const IrType *want = &L->m->tensors[state].type;
        if (!ir_type_eq(tty(L, t), want)) {
            IrType bt = broadcast_type(L, tty(L, t), want, "a state update");
            if (!ir_type_eq(&bt, want))
                fail(L, s->loc, "state '%s' is %s, the new value %s", name, type_str(L, want), type_str(L, tty(L, t)));
            t = broadcast_to(L, t, *want);
        }
        v = vtensor(t);
        int k = 0;
        while (k < L->nupd && L->upd[k].index != state) k++;
        if (!f->infer) {     /* [train.step.mode]: inference mode reads a state, never writes it */
            if (k == L->nupd) ARENA_PUSH(L->a, L->upd, L->nupd, L->capupd);
            L->upd[k] = (StateUpd){state, v};
        }
    }
    bind(L, f, name, v, group, state);
}

static void eval_stmt(Lower *L, Frame *f, Node *s) {
    L->loc = s->loc;
    switch (s->kind) {
    case ND_BIND: {
        stmt_begin(f, s->name, s->lhs);
        Value v = eval(L, f, s->lhs);
        bind_value(L, f, s, s->name, v, f->st_group);
        break;
    }
    case ND_UNPACK: {   /* mu, logvar = encoder(x, 8): named as a statement that binds none [fn.results] */
        stmt_begin(f, NULL, s->lhs);
        for (int i = 0; i < s->nkids && !f->st_first; i++)
            if (strcmp(s->kids[i]->name, "_")) f->st_first = s->kids[i]->name;
        Value v = eval(L, f, s->lhs);
        L->loc = s->loc;
        if (v.kind != V_TUPLE) fail(L, s->lhs->loc, "this gives %s, not %d results", kind_name(v.kind), s->nkids);
        if (v.n != s->nkids) fail(L, s->loc, "this call gives %d results, but %d names are bound", v.n, s->nkids);
        for (int i = 0; i < s->nkids; i++)
            if (strcmp(s->kids[i]->name, "_")) bind_value(L, f, s->kids[i], s->kids[i]->name, v.items[i], NULL);
        break;
    }
    case ND_PARAM: stmt_begin(f, NULL, NULL); declare(L, f, s, ROLE_PARAM); break;
    case ND_STATE: stmt_begin(f, NULL, NULL); declare(L, f, s, ROLE_STATE); break;
    case ND_RETURN: stmt_begin(f, NULL, s->lhs); set_result(f, eval(L, f, s->lhs), true); break;
    case ND_EXPR: stmt_begin(f, NULL, s->lhs); set_result(f, eval(L, f, s->lhs), false); break;
    case ND_FOR: {
        int64_t lo = need_int(L, eval(L, f, s->lhs), "a loop bound", s->lhs->loc);
        int64_t hi = need_int(L, eval(L, f, s->rhs), "a loop bound", s->rhs->loc);
        int64_t trips = im_trips(lo, hi);
        if (trips > NNC_MAX_LOOP_TRIPS)
            fail(L, s->loc, "a loop of %lld iterations is too long to unroll (the limit is %d)", (long long)trips,
                 NNC_MAX_LOOP_TRIPS);
        for (int64_t i = lo; i < hi && !f->returned; i++) {
            spend(L, s->loc, "loop iterations");
            bind(L, f, s->name, vint(i), NULL, -1);
            eval_block(L, f, s->kids, s->nkids);
        }
        break;
    }
    case ND_IF:         /* [if]: the taken arm only; its bindings stay in the frame */
        for (Node *arm = s; arm; arm = arm->body) {
            if (arm->lhs && !need_bool(L, eval(L, f, arm->lhs), "an 'if' condition", arm->lhs->loc)) continue;
            eval_block(L, f, arm->kids, arm->nkids);
            break;
        }
        break;
    default: fail(L, s->loc, "this statement does not belong here");
    }
}

static void eval_block(Lower *L, Frame *f, Node **stmts, int n) {
    for (int i = 0; i < n && !f->returned; i++) eval_stmt(L, f, stmts[i]);
}

/* ---- the model body ---- */

typedef struct Walk {
    bool want_outputs, want_losses, want_updates;
    uint32_t *loss_node;        /* by loss index */
} Walk;

static int loss_index(Lower *L, const char *name) {
    for (int i = 0; i < L->m->nlosses; i++)
        if (!strcmp(L->m->losses[i], name)) return i;
    return -1;
}

/* [train.metrics.fn] The train block's `metrics` item, or NULL. */
static Node *metrics_item(Lower *L) {
    for (int i = 0; L->train && i < L->train->nkids; i++) {
        Node *it = L->train->kids[i];
        if (it->kind == ND_TRAIN_ITEM && !strcmp(it->name, "metrics")) return it;
    }
    return NULL;
}

static bool builtin_metric(const char *name) {
    return !strcmp(name, "accuracy") || !strcmp(name, "mse") || !strcmp(name, "mae");
}

/* Whether losses[li] is a metric written as a fn (a value reported, never minimized): its name is
 * one of the metrics (the checker keeps loss and metric names apart). */
static bool metric_loss(Lower *L, int li) {
    Node *it = metrics_item(L);
    for (int j = 0; it && j < it->nkids; j++)
        if (it->kids[j]->name && !builtin_metric(it->kids[j]->name) && !strcmp(it->kids[j]->name, L->m->losses[li]))
            return true;
    return false;
}

/* Losses the model declares (those a step may minimize), the fn metrics left out. */
static int model_losses(Lower *L) {
    int n = 0;
    for (int i = 0; i < L->m->nlosses; i++) n += !metric_loss(L, i);
    return n;
}

/* Each metric written as a fn, `metrics r2`, is r2(first output, first target) computed as a loss
 * is, after the model's losses (loss indexes past them): the runtime reports it by name and never
 * minimizes it (runtime/train.c, compiler/passes/autodiff.c objective). */
static void lower_fn_metrics(Lower *L, IrGraph *g, Frame *f, Walk *w) {
    Node *it = metrics_item(L);
    const char *out = NULL, *tg = NULL;
    for (int i = 0; i < L->model->nkids; i++) {
        Node *s = L->model->kids[i];
        if (s->kind == ND_TARGET && !tg) tg = s->name;
        if (s->kind == ND_OUTPUT && !out) out = s->name;   /* lowering made every output [B, ...] */
    }
    for (int j = 0; it && j < it->nkids; j++) {
        Node *mk = it->kids[j];
        if (!mk->name || builtin_metric(mk->name)) continue;
        L->loc = mk->loc;
        if (!out || !tg) fail(L, mk->loc, "metric '%s' needs an output and a target", mk->name);
        Node *call = arena_alloc(L->a, sizeof *call), *callee = arena_alloc(L->a, sizeof *callee);
        Node **args = arena_alloc(L->a, sizeof *args * 2);
        *callee = (Node){.kind = ND_IDENT, .loc = mk->loc, .name_loc = mk->loc, .name = mk->name};
        for (int i = 0; i < 2; i++) {
            args[i] = arena_alloc(L->a, sizeof **args);
            *args[i] = (Node){.kind = ND_IDENT, .loc = mk->loc, .name_loc = mk->loc, .name = i ? tg : out};
        }
        *call = (Node){.kind = ND_CALL, .loc = mk->loc, .lhs = callee, .kids = args, .nkids = 2};
        stmt_begin(f, mk->name, call);
        uint32_t t = need_tensor(L, eval(L, f, call), "a metric", mk->loc);
        const IrType *lt = tty(L, t);
        if (lt->rank != 0 || lt->dtype != DT_F32)
            fail(L, mk->loc, "metric '%s' must be a rank-0 f32, it is %s", mk->name, type_str(L, lt));
        int li = loss_index(L, mk->name);
        if (li < 0) {
            if (!L->first_pass) fail(L, mk->loc, "metric '%s' appeared after the first walk", mk->name);
            li = L->m->nlosses;
            *ARENA_PUSH(L->a, L->m->losses, L->m->nlosses, L->m->caplosses) = mk->name;
        }
        if (w->loss_node) w->loss_node[li] = t;
        ir_result(g, t, RES_LOSS, li);
    }
}

static void walk_model(Lower *L, IrGraph *g, bool training, Walk *w) {
    L->g = g;
    L->training = training;
    L->nmade = L->nmx = 0;
    L->nupd = 0;
    L->depth = 0;
    L->work = 0;
    Frame *f = frame_new(L, NULL, NULL, L->model->name);
    f->prefix = "";
    Node *mo = L->model;
    for (int i = 0; i < mo->nkids; i++) {
        Node *s = mo->kids[i];
        L->loc = s->loc;
        switch (s->kind) {
        case ND_INPUT: case ND_TARGET: {
            IrType t = eval_type(L, f, s->tyexpr, s->loc);
            if (t.rank == 0 || !dim_eq(t.dim[0], (Dim){1, 0}))
                fail(L, s->loc, "the first dim of %s '%s' must be B", s->kind == ND_INPUT ? "input" : "target", s->name);
            for (int j = 1; j < t.rank; j++)
                if (t.dim[j].a) fail(L, s->loc, "only the first dim of '%s' may be B", s->name);
            IrTensor it = {.name = s->name, .role = s->kind == ND_INPUT ? ROLE_INPUT : ROLE_TARGET, .type = t};
            int idx = module_tensor(L, it, s->loc);
            L->loc = s->loc;
            uint32_t src = source_node(L, OP_INPUT, idx);
            record_call(L, s->name, s->kind == ND_INPUT ? "input" : "target", src, NULL, NULL, 0);
            bind(L, f, s->name, vtensor(src), NULL, -1);
            break;
        }
        case ND_OUTPUT: {
            Value v;
            if (s->lhs) {
                stmt_begin(f, s->name, s->lhs);
                v = eval(L, f, s->lhs);
            } else {
                v = lookup(L, f, s->name, s->loc);
            }
            uint32_t t = need_tensor(L, v, "an output", s->loc);
            if (tty(L, t)->rank == 0 || !dim_eq(tty(L, t)->dim[0], (Dim){1, 0}))
                fail(L, s->loc, "output '%s' is %s: an output's first dim must be the batch B", s->name,
                     type_str(L, tty(L, t)));
            IrTensor it = {.name = s->name, .role = ROLE_OUTPUT, .type = *tty(L, t)};
            int idx = module_tensor(L, it, s->loc);
            if (w->want_outputs) ir_result(g, t, RES_OUTPUT, idx);
            Value ov = vtensor(t);
            record_call(L, s->name, "output", UINT32_MAX, NULL, &ov, 1);
            if (L->record) L->m->calls[L->m->ncalls - 1].type = *tty(L, t);
            if (s->lhs) bind(L, f, s->name, vtensor(t), f->st_group, -1);
            break;
        }
        case ND_LOSS: {
            const char *name = s->name ? s->name : "loss";
            stmt_begin(f, name, s->lhs);
            Value v = eval(L, f, s->lhs);
            uint32_t t = need_tensor(L, v, "a loss", s->loc);
            const IrType *lt = tty(L, t);
            if (lt->rank != 0 || lt->dtype != DT_F32)
                fail(L, s->loc, "a loss must be a rank-0 f32, '%s' is %s", name, type_str(L, lt));
            int li = loss_index(L, name);
            if (li < 0) {
                if (!L->first_pass) fail(L, s->loc, "loss '%s' appeared after the first walk", name);
                li = L->m->nlosses;
                *ARENA_PUSH(L->a, L->m->losses, L->m->nlosses, L->m->caplosses) = name;
            }
            if (w->loss_node) w->loss_node[li] = t;
            if (w->want_losses) ir_result(g, t, RES_LOSS, li);
            /* `loss l = f(x)`: the loss row stands for the fn call that made it */
            if (L->record && L->m->ncalls && L->m->calls[L->m->ncalls - 1].node == t &&
                !L->m->calls[L->m->ncalls - 1].prefix)
                L->m->ncalls--;
            if (L->record) loss_regs(L, name, s->lhs, 1.0);
            Value lv = vtensor(t);
            record_call(L, name, "loss", UINT32_MAX, NULL, &lv, 1);
            if (L->record) L->m->calls[L->m->ncalls - 1].type = *tty(L, t);
            bind(L, f, name, vtensor(t), f->st_group, -1);
            break;
        }
        case ND_TRAIN: break;
        default: eval_stmt(L, f, s); break;
        }
    }
    if (w->want_losses) lower_fn_metrics(L, g, f, w);
    if (w->want_updates)
        for (int i = 0; i < L->nupd; i++) ir_result(g, L->upd[i].v.t, RES_UPDATE, L->upd[i].index);
    L->model_frame = f;
}

/* A frame for the train block and the optimizer calls: the model's compile-time bindings
 * (`eta = 0.1` then `optimizer sgd(lr = eta)`), which are the same in every walk; the model's
 * tensors belong to a walk's graph and are not visible there (the checker says so). */
/* A frame for the train block's expressions and the optimizers: the model body's numbers,
 * strings, functions and number lists (the latest such binding of each name, which is what a
 * lookup in a copy of all of them finds). Made once per walk of the model body, not per call:
 * an optimizer runs once per parameter, and an unrolled loop leaves thousands of bindings. */
static Frame *train_frame(Lower *L, const char *name) {
    Frame *f = frame_new(L, NULL, NULL, name);
    f->prefix = "";
    Frame *m = L->model_frame;
    if (m && (L->tf_of != m || L->tf_nb != m->nb)) {
        Frame seen = {0};
        int *pick = arena_alloc(L->a, sizeof(int) * ((size_t)m->nb + 1)), n = 0;
        for (int i = m->nb - 1; i >= 0; i--) {
            Value v = m->b[i].v;
            if (!(is_num(v) || v.kind == V_STR || (v.kind == V_FN && !v.ipath) || (v.kind == V_LIST && all_numbers(v))) ||
                find_bind(&seen, m->b[i].name))
                continue;
            bind(L, &seen, m->b[i].name, v, NULL, -1);
            pick[n++] = i;
        }
        L->tfb = arena_alloc(L->a, sizeof(Bind) * ((size_t)n + 1));
        L->ntfb = n;
        for (int k = 0; k < n; k++)     /* in the model frame's order */
            L->tfb[k] = m->b[pick[n - 1 - k]];
        L->tf_of = m;
        L->tf_nb = m->nb;
    }
    for (int i = 0; m && i < L->ntfb; i++)
        bind(L, f, L->tfb[i].name, L->tfb[i].v, NULL, -1);
    return f;
}

/* ---- pruning ---- */

IrGraph *lower_prune(Arena *a, const IrGraph *g) {
    uint8_t *live = arena_alloc(a, g->len + 1);
    for (int i = 0; i < g->nres; i++) live[g->res[i].node] = 1;
    for (uint32_t i = g->len; i-- > 0;) {
        if (!live[i]) continue;
        for (int k = 0; k < g->nodes[i].nsrc; k++) live[g->nodes[i].src[k]] = 1;
    }
    uint32_t nlive = 0;
    for (uint32_t i = 0; i < g->len; i++) nlive += live[i];
    IrGraph *out = ir_graph_new(a, g->name);
    ir_graph_reserve(out, nlive);
    uint32_t *map = arena_alloc(a, sizeof(uint32_t) * (g->len + 1));
    for (uint32_t i = 0; i < g->len; i++) {
        if (!live[i]) continue;
        const IrNode *n = &g->nodes[i];
        uint32_t src[IR_MAXSRC];
        for (int k = 0; k < n->nsrc; k++) src[k] = map[n->src[k]];
        map[i] = ir_add(out, (Op)n->op, n->type, src, n->nsrc, &n->attr, n->loc);
    }
    for (int i = 0; i < g->nres; i++) ir_result(out, map[g->res[i].node], g->res[i].kind, g->res[i].index);
    return out;
}

/* ---- entry points ---- */

static void collect_decls(Lower *L, Node *prog) {
    for (int i = 0; i < prog->nkids; i++) {
        Node *d = prog->kids[i];
        if (d->kind == ND_FN || d->kind == ND_LAYER || d->kind == ND_OPTIMIZER || d->kind == ND_MODEL)
            *ARENA_PUSH(L->a, L->decls, L->ndecls, L->capdecls) = d;
    }
}

Lower *lower_new(Arena *a, Diag *d, Node *prog, const char *model_name, const char *src_path) {
    Lower *L = arena_alloc(a, sizeof *L);
    L->a = a;
    L->d = d;
    L->prog = prog;
    collect_decls(L, prog);
    /* the model: by name, else the last one of the main file (a `use`d module's models are
     * candidates only by name) */
    const SrcFile *main_file = NULL;
    for (int i = 0; i < prog->nkids && !main_file; i++) {
        const SrcFile *sf = prog->kids[i]->loc.file;
        if (sf && src_path && !strcmp(sf->name, src_path)) main_file = sf;
    }
    for (int i = 0; i < L->ndecls; i++) {
        Node *m = L->decls[i];
        if (m->kind != ND_MODEL) continue;
        if (model_name ? !strcmp(m->name, model_name) : (!L->model || m->loc.file == main_file))
            L->model = m;
    }
    if (!L->model) {
        if (model_name) diag_plain(d, "there is no model '%s' in %s", model_name, src_path ? src_path : "the program");
        else diag_plain(d, "%s declares no model", src_path ? src_path : "the program");
        const char *names = NULL;
        for (int i = 0; i < L->ndecls; i++)
            if (L->decls[i]->kind == ND_MODEL)
                names = names ? arena_printf(a, "%s, %s", names, L->decls[i]->name) : L->decls[i]->name;
        if (names) diag_hint(d, "the models are: %s", names);
        return NULL;
    }
    if (!model_name && main_file) {
        /* several models and no --model: building the last one is the rule, but say so */
        const char *names = NULL;
        int n = 0;
        for (int i = 0; i < L->ndecls; i++) {
            const Node *m = L->decls[i];
            if (m->kind != ND_MODEL || m->loc.file != main_file) continue;
            names = names ? arena_printf(a, "%s, %s", names, m->name) : m->name;
            n++;
        }
        if (n > 1 && d->json)   /* --diagnostics-format=json: a standalone note object */
            diag_note(d, (Loc){0}, "%s has models %s; building '%s' (choose with --model)", src_path, names,
                      L->model->name);
        else if (n > 1)
            fprintf(d->out, "nnc: note: %s has models %s; building '%s' (choose with --model)\n",
                    src_path, names, L->model->name);
    }
    const char *slash = src_path ? strrchr(src_path, '/') : NULL;
    L->src_dir = slash ? arena_strndup(a, src_path, (size_t)(slash - src_path)) : ".";
    return L;
}

/* A data argument in double quotes, `"` and `\\` escaped (runtime/data.c parse_string). */
static const char *quote_data_arg(Lower *L, const char *path, Loc loc) {
    char *q = arena_alloc(L->a, strlen(path) * 2 + 3);
    size_t n = 0;
    q[n++] = '"';
    for (const char *c = path; *c; c++) {
        if (*c == '\n' || *c == '\t') fail(L, loc, "a data argument may not hold a newline or tab");
        if (*c == '"' || *c == '\\') q[n++] = '\\';
        q[n++] = *c;
    }
    q[n++] = '"';
    q[n] = 0;
    return q;
}

/* Render the train block's `data` expression for the descriptor's `data` record, in the source's
 * own syntax (runtime/data.c parses it): csv("file.csv", label = "y"). A relative file name that is
 * not found from the current folder but is beside the model file becomes that file's absolute
 * path, so an executable built from anywhere finds its data. */
static const char *data_tokens(Lower *L, Frame *f, Node *e) {
    if (e->kind == ND_IDENT) return e->name;
    if (e->kind != ND_CALL || e->lhs->kind != ND_IDENT)
        fail(L, e->loc, "a data source is a name or a call: fashion_mnist, csv(\"file.csv\", label = \"y\")");
    const char *s = arena_printf(L->a, "%s(", e->lhs->name);
    for (int i = 0; i < e->nkids; i++) {
        Node *k = e->kids[i];
        if (k->kind == ND_ARG && k->lhs->kind == ND_TENSOR) {
            /* [train.data.labels] label = ["y1", "y2"]: rendered as written, names quoted */
            const char *lst = "[";
            for (int j = 0; j < k->lhs->nkids; j++) {
                Value v = eval(L, f, k->lhs->kids[j]);
                if (v.kind != V_STR) fail(L, k->lhs->kids[j]->loc, "a label list holds column names as strings");
                lst = arena_printf(L->a, "%s%s%s", lst, j ? ", " : "", quote_data_arg(L, v.s, k->loc));
            }
            s = arena_printf(L->a, "%s%s%s = %s]", s, i ? ", " : "", k->name, lst);
            continue;
        }
        Value v = eval(L, f, k->kind == ND_ARG ? k->lhs : k);
        const char *txt;
        if (v.kind == V_STR) {
            const char *path = v.s;
            if (k->kind != ND_ARG && path[0] != '/') {
                const char *beside = arena_printf(L->a, "%s/%s", L->src_dir, path);
                if (access(path, R_OK) != 0 && access(beside, R_OK) == 0) {
                    char *abs = realpath(beside, NULL);
                    if (abs) {
                        path = arena_strdup(L->a, abs);
                        free(abs);
                    }
                }
            }
            txt = quote_data_arg(L, path, k->loc);
        } else if (v.kind == V_INT && !v.b) {
            txt = arena_printf(L->a, "%lld", (long long)v.i);
        } else if (v.kind == V_FLOAT) {
            txt = arena_printf(L->a, "%.9g", v.f);
        } else {
            fail(L, k->loc, "a data argument must be a string or a number");
        }
        s = arena_printf(L->a, "%s%s%s%s%s", s, i ? ", " : "", k->kind == ND_ARG ? k->name : "",
                         k->kind == ND_ARG ? " = " : "", txt);
    }
    return arena_printf(L->a, "%s)", s);
}

static void add_hyper(Lower *L, const char *name, double v) {
    IrModule *m = L->m;
    for (int i = 0; i < m->nhypers; i++)
        if (!strcmp(m->hypers[i], name)) {
            m->hyper_vals[i] = v;
            return;
        }
    int cap = m->caphypers;
    ARENA_PUSH(L->a, m->hypers, m->nhypers, m->caphypers);
    if (cap != m->caphypers)
        m->hyper_vals = arena_realloc(L->a, m->hyper_vals, sizeof(double) * (size_t)cap,
                                      sizeof(double) * (size_t)m->caphypers);
    m->hypers[m->nhypers - 1] = name;
    m->hyper_vals[m->nhypers - 1] = v;
}

static Node *optimizer_decl(Lower *L, Node *call) {
    Node *callee = call->kind == ND_CALL ? call->lhs : call;
    if (callee->kind != ND_IDENT) fail(L, call->loc, "an optimizer is written name(args): adam(lr = 1e-3)");
    Node *d = find_decl(L, callee->name, NULL);
    if (!d || d->kind != ND_OPTIMIZER)
        fail(L, callee->loc, "'%s' is not an optimizer (declare it with `optimizer`, or `use optim`)", callee->name);
    return d;
}

static Node *default_optimizer(Lower *L) {
    if (!L->train) return NULL;
    for (int i = 0; i < L->train->nkids; i++) {
        Node *it = L->train->kids[i];
        if (it->kind == ND_TRAIN_ITEM && !strcmp(it->name, "optimizer") && it->nkids > 0) return it->kids[0];
    }
    return NULL;
}

/* `validation X`: X is a data source (a call of csv, idx or npy, or fashion_mnist / mnist), else a
 * fraction. The checker decides the same way (lang/check.c check_train). */
static bool is_data_source(const Node *e) {
    if (e->kind == ND_IDENT) return !strcmp(e->name, "fashion_mnist") || !strcmp(e->name, "mnist") || !strcmp(e->name, "text");
    return e->kind == ND_CALL && e->lhs->kind == ND_IDENT &&
           (!strcmp(e->lhs->name, "csv") || !strcmp(e->lhs->name, "idx") || !strcmp(e->lhs->name, "npy") ||
            !strcmp(e->lhs->name, "text"));
}

/* The train block: data, batch, epochs, metrics, validation, optimizer and steps. */
static void lower_train_block(Lower *L) {
    Frame *f = train_frame(L, L->model->name);
    Node *t = L->train;
    Node *opt = default_optimizer(L);
    for (int i = 0; i < t->nkids; i++) {
        Node *it = t->kids[i];
        L->loc = it->loc;
        if (it->kind == ND_STEP) {
            LowerStep *s = ARENA_PUSH(L->a, L->steps, L->nsteps, L->capsteps);
            *s = (LowerStep){.name = it->name, .optimizer = it->rhs, .loc = it->loc};
            if (!it->lhs || it->lhs->kind != ND_IDENT) fail(L, it->loc, "a step minimizes a loss by name");
            s->loss = it->lhs->name;
            if (loss_index(L, s->loss) < 0) fail(L, it->lhs->loc, "there is no loss '%s'", s->loss);
            s->over = arena_alloc(L->a, sizeof(char *) * (size_t)(it->nkids + 1));
            for (int k = 0; k < it->nkids; k++) {
                Node *p = it->kids[k];
                const char *path = NULL;
                if (p->kind == ND_IDENT) path = p->name;
                else if (p->kind == ND_MEMBER) {
                    const char *parts[32];
                    int np = 0;
                    Node *q = p;
                    while (q->kind == ND_MEMBER && np < 31) {
                        parts[np++] = q->name;
                        q = q->lhs;
                    }
                    if (q->kind != ND_IDENT) fail(L, p->loc, "a step's path is name.name...");
                    path = q->name;
                    while (np > 0) path = arena_printf(L->a, "%s.%s", path, parts[--np]);
                } else if (p->kind == ND_STR) path = p->name;
                else fail(L, p->loc, "a step's path is name.name...");
                s->over[s->nover++] = path;
            }
            continue;
        }
        if (it->kind != ND_TRAIN_ITEM) continue;
        const char *k = it->name;
        if (!strcmp(k, "data")) {
            if (it->nkids < 1) fail(L, it->loc, "'data' needs a source");
            L->m->data_spec = data_tokens(L, f, it->kids[0]);
        } else if (!strcmp(k, "batch") || !strcmp(k, "epochs")) {
            int64_t v = it->nkids ? need_int(L, eval(L, f, it->kids[0]), k, it->loc) : 0;
            if (v < 1) fail(L, it->loc, "'%s' must be at least 1", k);
            add_hyper(L, k, (double)v);
        } else if (!strcmp(k, "validation") && it->nkids && is_data_source(it->kids[0])) {
            L->m->val_spec = data_tokens(L, f, it->kids[0]);     /* [train.validation.data] */
        } else if (!strcmp(k, "validation")) {
            Value v = it->nkids ? eval(L, f, it->kids[0]) : (Value){0};
            if (!is_num(v) || num(v) < 0 || num(v) >= 1) fail(L, it->loc, "'validation' is a fraction in [0, 1)");
            add_hyper(L, "validation", num(v));
        } else if (!strcmp(k, "metrics")) {
            for (int j = 0; j < it->nkids; j++) {
                Node *mk = it->kids[j];
                const char *name = mk->name;
                if (!name || (!builtin_metric(name) && loss_index(L, name) < 0))
                    fail(L, mk->loc, "unknown metric '%s' (accuracy, mse, mae or a fn)", name ? name : "?");
                *ARENA_PUSH(L->a, L->m->metrics, L->m->nmetrics, L->m->capmetrics) = name;
            }
        } else if (!strcmp(k, "optimizer")) {
            if (it->nkids < 1) fail(L, it->loc, "'optimizer' needs a call: adam(lr = 1e-3)");
            optimizer_decl(L, it->kids[0]);
        } else {
            fail(L, it->loc, "unknown train item '%s'", k);
        }
    }
    int nmodel = model_losses(L);
    if (L->nsteps == 0 && nmodel > 0) {
        if (!opt) fail(L, t->loc, "the train block needs an optimizer: `optimizer adam(lr = 1e-3)`");
        LowerStep *s = ARENA_PUSH(L->a, L->steps, L->nsteps, L->capsteps);
        *s = (LowerStep){.name = "main", .loss = nmodel == 1 ? L->m->losses[0] : NULL,
                         .optimizer = opt, .loc = t->loc};
    }
    for (int i = 0; i < L->nsteps; i++) {
        LowerStep *s = &L->steps[i];
        if (!s->optimizer) s->optimizer = opt;
        if (!s->optimizer) fail(L, s->loc, "step '%s' has no optimizer", s->name);
    }
}

static double optimizer_penalty(Lower *L, Node *call, const char *which);

static IrModule *module(Lower *L) {
    L->m = ir_module_new(L->a, L->model->name);
    for (int i = 0; i < L->model->nkids; i++)
        if (L->model->kids[i]->kind == ND_TRAIN) {
            if (L->train) fail(L, L->model->kids[i]->loc, "a model has one train block");
            L->train = L->model->kids[i];
        }
    /* the evaluate walk first: it registers every input, target, output, loss and param */
    L->first_pass = true;
    L->record = true;
    IrGraph *ev = ir_graph_new(L->a, "evaluate");
    walk_model(L, ev, false, &(Walk){.want_outputs = true, .want_losses = true});
    L->record = false;
    link_calls(L, ev);
    L->first_pass = false;
    IrGraph *fw = ir_graph_new(L->a, "forward");
    walk_model(L, fw, false, &(Walk){.want_outputs = true});
    L->m->forward = lower_prune(L->a, fw);
    L->m->evaluate = lower_prune(L->a, ev);
    if (L->m->nlosses == 0 && L->m->forward->nres == 0)
        fail(L, L->model->loc, "model '%s' has no output and no loss", L->model->name);

    /* descriptor facts */
    if (L->train) lower_train_block(L);
    for (int i = 0; i < L->nsteps; i++) {
        LowerStep *s = &L->steps[i];
        IrStep *st = ARENA_PUSH(L->a, L->m->steps, L->m->nsteps, L->m->capsteps);
        *st = (IrStep){.name = s->name, .loss = s->loss ? s->loss : L->m->losses[0],
                       .optimizer = lower_optimizer_name(L, s->optimizer),
                       .lr = lower_optimizer_lr(L, s->optimizer)};
        st->schedule = lower_optimizer_schedule(L, s->optimizer, &st->sched_a, &st->sched_b);
        st->opt_l1 = optimizer_penalty(L, s->optimizer, "l1");
        st->opt_l2 = optimizer_penalty(L, s->optimizer, "l2");
        if (i == 0) add_hyper(L, "lr", st->lr);
    }
    /* a target the outputs are computed from (a conditional GAN's or VAE's label): predict reads
     * it with the inputs, and it is no classifier's labels */
    for (uint32_t i = 0; i < L->m->forward->len; i++) {
        const IrNode *n = &L->m->forward->nodes[i];
        if (n->op == OP_INPUT && L->m->tensors[n->attr.i[0]].role == ROLE_TARGET)
            L->m->tensors[n->attr.i[0]].conditions = true;
    }
    int target = -1, output = -1;
    for (int i = 0; i < L->m->ntensors; i++) {
        if (L->m->tensors[i].role == ROLE_TARGET && target < 0) target = i;
        if (L->m->tensors[i].role == ROLE_OUTPUT && output < 0) output = i;
    }
    /* a classifier: i32 labels [B] and a first output of scores [B, N], unless the losses read the
     * labels otherwise than as N classes (a one_hot of N): a model that trains on classes made from
     * them (footwear = i32(label == 5 or ...), 2 classes of 10) has no N-class labels to check */
    bool labels_n = true;
    if (target >= 0 && output >= 0 && L->m->tensors[output].type.rank == 2 && L->m->evaluate) {
        const IrGraph *g = L->m->evaluate;
        int64_t N = L->m->tensors[output].type.dim[1].c;
        bool used = false, as_n = false;
        for (uint32_t i = 0; i < g->len; i++) {
            const IrNode *n = &g->nodes[i];
            for (int k = 0; k < n->nsrc; k++) {
                const IrNode *s = &g->nodes[n->src[k]];
                if (s->op != OP_INPUT || s->attr.i[0] != target) continue;
                used = true;
                as_n |= n->op == OP_ONE_HOT && n->type.dim[n->type.rank - 1].c == N;
            }
        }
        labels_n = !used || as_n;
    }
    if (target >= 0 && output >= 0 && L->m->tensors[target].type.dtype == DT_I32 &&
        !L->m->tensors[target].conditions && labels_n &&
        L->m->tensors[target].type.rank == 1 && L->m->tensors[output].type.rank == 2)
        L->m->nclasses = (int)L->m->tensors[output].type.dim[1].c;
    return L->m;
}

const LowerStep *lower_steps(Lower *L, int *n) {
    *n = L->nsteps;
    return L->steps;
}

static void train_graph(Lower *L, IrGraph *g, const char *loss, uint32_t *loss_node) {
    uint32_t *nodes = arena_alloc(L->a, sizeof(uint32_t) * (size_t)(L->m->nlosses + 1));
    /* A model with one train step computes its outputs in the step too (training mode, weights
     * before the update, as Keras' train metrics): the runtime's train metrics read them there;
     * without them it ran a second forward pass per batch for them (a third of mlp_small's and
     * mlp_wide's GEMM flops). With several steps each would compute them: they keep that pass. */
    walk_model(L, g, true, &(Walk){.want_outputs = L->nsteps == 1, .want_losses = true, .want_updates = true,
                                   .loss_node = nodes});
    if (loss) {
        int li = loss_index(L, loss);
        if (li < 0) fail(L, L->model->loc, "there is no loss '%s'", loss);
        *loss_node = nodes[li];
    } else {
        uint32_t acc = nodes[0];
        for (int i = 1; i < L->m->nlosses; i++) {
            if (metric_loss(L, i)) continue;
            uint32_t s[2] = {acc, nodes[i]};
            acc = ir_add(g, OP_ADD, mktype(DT_F32, 0, NULL), s, 2, NULL, L->model->loc);
        }
        *loss_node = acc;
    }
}

const char *lower_optimizer_name(Lower *L, Node *call) {
    if (!call) call = default_optimizer(L);
    Node *callee = call && call->kind == ND_CALL ? call->lhs : call;
    return callee && callee->kind == ND_IDENT ? callee->name : "?";
}

/* The formal an argument of an optimizer call binds: its name, or for the k-th positional one the
 * formal after p and g (adam(0.01) is adam(lr = 0.01) when lr is the third formal). */
static const char *optimizer_arg_name(Lower *L, Node *d, Node *call, int i) {
    Node *k = call->kids[i];
    if (k->kind == ND_ARG) return k->name;
    int pos = 0;
    for (int j = 0; j < i; j++) pos += call->kids[j]->kind != ND_ARG;
    if (2 + pos >= d->nformals) fail(L, k->loc, "too many arguments to optimizer '%s'", d->name);
    return d->formals[2 + pos]->name;
}

static Node *arg_expr(Node *k) { return k->kind == ND_ARG ? k->lhs : k; }

static double optimizer_lr(Lower *L, Node *call) {
    double lr = 0.01;
    if (!call) call = default_optimizer(L);
    if (!call) return lr;
    Frame *f = train_frame(L, "train");
    Node *d = optimizer_decl(L, call);
    bool found = false;
    if (call->kind == ND_CALL)
        for (int i = 0; i < call->nkids; i++)
            if (!strcmp(optimizer_arg_name(L, d, call, i), "lr")) {
                Value v = eval(L, f, arg_expr(call->kids[i]));
                if (!is_num(v)) fail(L, call->kids[i]->loc, "lr must be a number, found %s", kind_name(v.kind));
                lr = num(v);
                /* as the executable's --lr: a negative rate climbs the loss (torch: Invalid learning rate) */
                if (!(lr >= 0))
                    fail(L, call->kids[i]->loc, "lr must be at least 0, got %g (a negative rate climbs the loss)", lr);
                found = true;
            }
    for (int j = 0; !found && j < d->nformals; j++)
        if (!strcmp(d->formals[j]->name, "lr") && d->formals[j]->lhs) lr = num(eval(L, f, d->formals[j]->lhs));
    return lr;
}

static void apply_optimizer(Lower *L, IrGraph *g, Node *call, int pi, uint32_t p, uint32_t grad) {
    if (!call) call = default_optimizer(L);
    if (!call) fail(L, L->model->loc, "no optimizer");
    L->g = g;
    L->training = true;
    L->loc = call->loc;
    Node *d = optimizer_decl(L, call);
    Frame *top = train_frame(L, "train");
    /* the call's own arguments; lr, l1, l2 and schedule are the pass's */
    Args a = {0};
    a.v = arena_alloc(L->a, sizeof(Value) * (size_t)(call->nkids + 3));
    a.name = arena_alloc(L->a, sizeof(char *) * (size_t)(call->nkids + 3));
    a.loc = arena_alloc(L->a, sizeof(Loc) * (size_t)(call->nkids + 3));
    Value l1 = vfloat(0), l2 = vfloat(0), clipnorm = vfloat(0), clipvalue = vfloat(0), sched = {0};
    const char *pname = L->m->tensors[pi].name;
    for (int i = 0; call->kind == ND_CALL && i < call->nkids; i++) {
        Node *k = call->kids[i];
        const char *name = optimizer_arg_name(L, d, call, i);
        if (!strcmp(name, "l1")) l1 = eval(L, top, arg_expr(k));
        else if (!strcmp(name, "l2")) l2 = eval(L, top, arg_expr(k));
        else if (!strcmp(name, "clipnorm")) clipnorm = eval(L, top, arg_expr(k));
        else if (!strcmp(name, "clipvalue")) clipvalue = eval(L, top, arg_expr(k));
        else if (!strcmp(name, "schedule")) sched = eval(L, top, arg_expr(k));
        else if (!strcmp(name, "lr") || !strcmp(name, "global_clipnorm"))
            continue;    /* the run's lr: HYPER lr, below; global_clipnorm: lower_clip_global */
        else {
            a.name[a.n] = name;
            a.loc[a.n] = k->loc;
            a.v[a.n++] = eval(L, top, arg_expr(k));
        }
    }
    L->loc = call->loc;
    Value gv = vtensor(grad);
    /* gradient clipping per parameter, as Keras' optimizers do it (clipvalue, then clipnorm):
     * each element into [-c, c]; g scaled by c / max(||g||, c) (tf.clip_by_norm) */
    if (!is_num(clipnorm) || !is_num(clipvalue)) fail(L, call->loc, "clipnorm and clipvalue are numbers");
    if (!(num(clipnorm) >= 0) || !isfinite(num(clipnorm)))
        fail(L, call->loc, "clipnorm must be a positive number (0, the default, clips nothing), got %g", num(clipnorm));
    if (!(num(clipvalue) >= 0) || !isfinite(num(clipvalue)))
        fail(L, call->loc, "clipvalue must be a positive number (0, the default, clips nothing), got %g", num(clipvalue));
    if (num(clipvalue) > 0) {
        IrType gt = *tty(L, gv.t);
        Value lo[2] = {gv, vfloat(-num(clipvalue))};
        gv = vtensor(elementwise_to(L, OP_MAX, lo, 2, DT_F32, gt));
        Value hi[2] = {gv, clipvalue};
        gv = vtensor(elementwise_to(L, OP_MIN, hi, 2, DT_F32, gt));
    }
    if (num(clipnorm) > 0) {
        int rank = tty(L, gv.t)->rank;
        Value sq = binop(L, OP_MUL_, gv, gv);
        uint32_t ss = rank ? reduce(L, OP_SUM, sq.t, ((uint64_t)1 << rank) - 1, false) : sq.t;
        IrType st = *tty(L, ss);
        Value mx[2] = {vtensor(unop(L, OP_SQRT, ss)), clipnorm};
        Value den = vtensor(elementwise_to(L, OP_MAX, mx, 2, DT_F32, st));
        gv = binop(L, OP_MUL_, gv, binop(L, OP_DIV_, clipnorm, den));
    }
    /* g + l1 sign(p) + l2 p: the gradients of l1 |p| and (l2 / 2) p^2 */
    if (!is_num(l1) || !is_num(l2)) fail(L, call->loc, "l1 and l2 are numbers");
    if (num(l1) != 0) gv = binop(L, OP_ADD_, gv, binop(L, OP_MUL_, l1, vtensor(unop(L, OP_SIGN, p))));
    if (num(l2) != 0) gv = binop(L, OP_ADD_, gv, binop(L, OP_MUL_, l2, vtensor(p)));
    /* lr = schedule(base lr, step, total_steps) */
    Value lr = vtensor(hyper(L, HY_LR));
    if (sched.kind != V_NONE) {
        if (sched.kind != V_FN) fail(L, call->loc, "'schedule' takes a function: constant, step_decay, cosine, warmup_cosine");
        Args sa = {.n = 3};
        Value sv[3] = {lr, vtensor(hyper(L, HY_STEP)), vtensor(hyper(L, HY_TOTAL_STEPS))};
        const char *sn[3] = {NULL, NULL, NULL};
        Loc sl[3] = {call->loc, call->loc, call->loc};
        sa.v = sv;
        sa.name = sn;
        sa.loc = sl;
        lr = call_value(L, top, sched, &sa, call, call->loc);
        if (lr.kind != V_TENSOR && !is_num(lr)) fail(L, call->loc, "the schedule returned %s", kind_name(lr.kind));
    }
    a.name[a.n] = "lr";
    a.loc[a.n] = call->loc;
    a.v[a.n++] = lr;
    /* p and g positionally: the first two formals */
    Args full = a;
    full.v = arena_alloc(L->a, sizeof(Value) * (size_t)(a.n + 2));
    full.name = arena_alloc(L->a, sizeof(char *) * (size_t)(a.n + 2));
    full.loc = arena_alloc(L->a, sizeof(Loc) * (size_t)(a.n + 2));
    full.v[0] = vtensor(p);
    full.v[1] = gv;
    full.loc[0] = full.loc[1] = call->loc;
    for (int i = 0; i < a.n; i++) {
        full.v[i + 2] = a.v[i];
        full.name[i + 2] = a.name[i];
        full.loc[i + 2] = a.loc[i];
    }
    full.n = a.n + 2;
    bool has_lr = false;
    for (int j = 0; j < d->nformals; j++) has_lr |= !strcmp(d->formals[j]->name, "lr");
    if (!has_lr) full.n--;  /* an optimizer without lr */
    if (d->nformals < 2) fail(L, d->loc, "optimizer '%s' needs the formals p and g first", d->name);
    /* make the states' names from the param's: h.W.adam.m */
    L->nmade = L->nmx = 0;
    L->nupd = 0;
    Value fn = {.kind = V_FN, .decl = d, .s = d->name};
    Value nv = call_decl(L, top, fn, &full, call, call->loc, arena_printf(L->a, "%s.%s.", pname, d->name));
    uint32_t np = need_tensor(L, nv, "an optimizer's result", d->loc);
    const IrType *pt = &L->m->tensors[pi].type;
    if (!ir_type_eq(tty(L, np), pt)) {
        IrType bt = broadcast_type(L, tty(L, np), pt, "an optimizer's result");
        if (!ir_type_eq(&bt, pt))
            fail(L, d->loc, "optimizer '%s' returns %s for '%s' of %s", d->name, type_str(L, tty(L, np)), pname, type_str(L, pt));
        np = broadcast_to(L, np, *pt);
    }
    ir_result(g, np, RES_UPDATE, pi);
    for (int i = 0; i < L->nupd; i++) ir_result(g, L->upd[i].v.t, RES_UPDATE, L->upd[i].index);
}

/* The optimizer call's global_clipnorm (0 when not given): a number >= 0. */
static double global_clipnorm(Lower *L, Node *call) {
    if (!call) call = default_optimizer(L);
    if (!call || call->kind != ND_CALL) return 0;
    Node *d = optimizer_decl(L, call);
    Frame *top = train_frame(L, "train");
    double c = 0;
    for (int i = 0; i < call->nkids; i++) {
        if (strcmp(optimizer_arg_name(L, d, call, i), "global_clipnorm")) continue;
        Value v = eval(L, top, arg_expr(call->kids[i]));
        if (!is_num(v)) fail(L, call->kids[i]->loc, "global_clipnorm is a number, found %s", kind_name(v.kind));
        c = num(v);
        if (!(c >= 0) || !isfinite(c))
            fail(L, call->kids[i]->loc, "global_clipnorm must be a positive number (0, the default, clips nothing), got %g", c);
        for (int j = 0; j < call->nkids && c > 0; j++) {
            const char *o = optimizer_arg_name(L, d, call, j);
            if (!strcmp(o, "clipnorm"))
                fail(L, call->kids[j]->loc, "give clipnorm (each parameter's gradient) or global_clipnorm (all of "
                     "them together), not both");
        }
    }
    return c;
}

/* Clipping by the global norm (Keras' global_clipnorm, tf.clip_by_global_norm; PyTorch's
 * torch.nn.utils.clip_grad_norm_ but for its 1e-6): every gradient of the step is scaled by
 * c / max(n, c), n the L2 norm of all of them together, before any per-parameter clipping,
 * penalty or update. grads[k] are replaced. */
static void clip_global(Lower *L, IrGraph *g, Node *call, uint32_t *grads, int n) {
    L->g = g;
    L->training = true;
    double c = global_clipnorm(L, call);
    if (c <= 0 || n == 0) return;
    L->loc = call ? call->loc : L->model->loc;
    Value total = {0};
    for (int k = 0; k < n; k++) {
        Value gv = vtensor(grads[k]);
        int rank = tty(L, grads[k])->rank;
        Value sq = binop(L, OP_MUL_, gv, gv);
        Value ss = rank ? vtensor(reduce(L, OP_SUM, sq.t, ((uint64_t)1 << rank) - 1, false)) : sq;
        total = k ? binop(L, OP_ADD_, total, ss) : ss;
    }
    IrType st = *tty(L, total.t);
    Value mx[2] = {vtensor(unop(L, OP_SQRT, total.t)), vfloat(c)};
    Value scale = binop(L, OP_DIV_, vfloat(c), vtensor(elementwise_to(L, OP_MAX, mx, 2, DT_F32, st)));
    for (int k = 0; k < n; k++) grads[k] = binop(L, OP_MUL_, vtensor(grads[k]), scale).t;
}

/* ---- the entry points: each catches the walk's errors (fail() longjmps here) ---- */

int lower_clip_global(Lower *L, IrGraph *g, Node *call, uint32_t *grads, int n) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    int rc = -1;
    if (!setjmp(jb)) {
        clip_global(L, g, call, grads, n);
        rc = 0;
    }
    L->on_error = saved;
    return rc;
}

IrModule *lower_module(Lower *L) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    IrModule *m = setjmp(jb) ? NULL : module(L);
    L->on_error = saved;
    return m;
}

int lower_step_graphs(Lower *L, IrModule *m) {
    if (L->nsteps != m->nsteps)
        die("lower: the module has %d steps, the train block %d", m->nsteps, L->nsteps);
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    int rc = -1;
    if (!setjmp(jb)) {
        for (int i = 0; i < L->nsteps; i++) {
            const LowerStep *ls = &L->steps[i];
            IrStep *s = &m->steps[i];
            IrGraph *g = ir_graph_new(m->arena, arena_printf(m->arena, "train.%s", ls->name));
            uint32_t loss;
            L->step = ls;     /* its `over` paths decide the layers run in inference mode */
            train_graph(L, g, ls->loss, &loss);
            s->graph = g;
            s->objective = ls->loss;
            s->over = ls->over;
            s->nover = ls->nover;
            s->loc = ls->loc;
        }
        rc = 0;
    }
    L->step = NULL;
    L->on_error = saved;
    return rc;
}

/* The default (0.01) stands when the call has an error; the walk reports it. */
/* The l1 or l2 argument of an optimizer call (its penalty on the gradient); 0 when absent or not a
 * number (apply_optimizer reports that). For the descriptor's `reg` records. */
static double optimizer_penalty_(Lower *L, Node *call, const char *which) {
    if (!call) call = default_optimizer(L);
    if (!call || call->kind != ND_CALL) return 0;
    Frame *f = train_frame(L, "train");
    Node *d = optimizer_decl(L, call);
    double v = 0;
    for (int i = 0; i < call->nkids; i++)
        if (!strcmp(optimizer_arg_name(L, d, call, i), which)) {
            Value x = eval(L, f, arg_expr(call->kids[i]));
            if (is_num(x)) v = num(x);
        }
    return v;
}

static double optimizer_penalty(Lower *L, Node *call, const char *which) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    double v = setjmp(jb) ? 0 : optimizer_penalty_(L, call, which);
    L->on_error = saved;
    return v;
}

double lower_optimizer_lr(Lower *L, Node *call) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    double lr = setjmp(jb) ? 0.01 : optimizer_lr(L, call);
    L->on_error = saved;
    return lr;
}

/* The learning-rate schedule of an optimizer call when it is one of stdlib/optim.nn's (constant,
 * step_decay, cosine, warmup_cosine, exponential_decay, lr_range) with number arguments: its name
 * and arguments (gamma, drops; min_lr; warmup, min_lr; rate, steps; start), which
 * the descriptor's `schedule` record carries so the runtime can report the rate it gives (the
 * graph computes the rate itself; runtime/around.c rt_step_lr repeats the arithmetic). NULL for
 * none or another function. */
static const char *optimizer_schedule(Lower *L, Node *call, double *a, double *b) {
    if (!call) call = default_optimizer(L);
    if (!call || call->kind != ND_CALL) return NULL;
    Node *d = optimizer_decl(L, call);
    Frame *top = train_frame(L, "train");
    Value sched = {0};
    for (int i = 0; i < call->nkids; i++)
        if (!strcmp(optimizer_arg_name(L, d, call, i), "schedule")) sched = eval(L, top, arg_expr(call->kids[i]));
    if (sched.kind != V_FN || !sched.decl) return NULL;
    static const char *const known[][3] = {{"constant", NULL, NULL}, {"step_decay", "gamma", "drops"},
                                           {"cosine", "min_lr", NULL}, {"warmup_cosine", "warmup", "min_lr"},
                                           {"exponential_decay", "rate", "steps"}, {"lr_range", "start", NULL}};
    Node *fd = sched.decl;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (strcmp(fd->name, known[k][0])) continue;
        double v[2] = {0, 0};
        int want = (known[k][1] != NULL) + (known[k][2] != NULL);
        if (fd->nformals != 3 + want) return NULL;
        for (int j = 0; j < want; j++) {
            const char *fname = known[k][1 + j];
            Node *formal = fd->formals[3 + j];
            if (strcmp(formal->name, fname)) return NULL;
            Value x = {0};
            for (int q = 0; q < sched.n; q++)
                if (sched.names && sched.names[q] && !strcmp(sched.names[q], fname)) x = sched.items[q];
            if (x.kind == V_NONE && formal->lhs) x = eval(L, top, formal->lhs);
            if (!is_num(x)) return NULL;
            v[j] = num(x);
        }
        *a = v[0];
        *b = v[1];
        return fd->name;
    }
    return NULL;
}

const char *lower_optimizer_schedule(Lower *L, Node *call, double *a, double *b) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    const char *s = setjmp(jb) ? NULL : optimizer_schedule(L, call, a, b);
    L->on_error = saved;
    return s;
}

int lower_apply_optimizer(Lower *L, IrGraph *g, Node *call, int pi, uint32_t p, uint32_t grad) {
    jmp_buf jb, *saved = L->on_error;
    L->on_error = &jb;
    int rc = -1;
    L->fail_loc = (Loc){0};
    if (!setjmp(jb)) {
        apply_optimizer(L, g, call, pi, p, grad);
        rc = 0;
    } else if (call && call->loc.file &&
               !(L->fail_loc.file == call->loc.file && L->fail_loc.off >= call->loc.off &&
                 L->fail_loc.off < call->loc.off + call->loc.len)) {
        /* an error inside the optimizer's body (stdlib/optim.nn's asserts on its hyper-parameters)
         * points at the train block's call that gave the values */
        diag_note(L->d, call->loc, "in this optimizer call");
    }
    L->on_error = saved;
    return rc;
}
