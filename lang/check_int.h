/* check_int.h - what the checker's files share (lang/check.c: declarations, scopes, statements,
 * calls, models; lang/check_expr.c: operators; lang/builtins.c: builtins). Not part of the checker's interface;
 * that is lang/check.h.
 */
#ifndef NNC_CHECK_INT_H
#define NNC_CHECK_INT_H

#include "check.h"
#include "types.h"
#include "intmath.h"
#include "naming.h"
#include "nnc_limits.h"

#define MAX_CALL_DEPTH NNC_MAX_CALL_DEPTH /* nested on-demand checks of callees / instances */
#define MAX_PARAMS (1 << 20)    /* parameter entries one model may expand to */
#define MAX_EXPAND_WORK (1 << 24) /* records one parameter expansion may visit */
#define MAX_INSTANCES 100000    /* instance checks per program; beyond, calls get the generic result */

/* Builtin functions: the table (lang/builtins.def) and their rules (lang/builtins.c). */
#include "builtins.h"

/* ---- naming records [layer.naming] ---- */

typedef struct Items Items;

struct DeclInfo;

/* A layer instance [layer.instance]: `d = disc(units = 256)` leaves formals open; every later
 * call `d(real)`, `d(fake)` runs the layer with the same parameters. */
typedef struct Instance {
    struct DeclInfo *ci;    /* the layer */
    Node *where;            /* the call that made it */
    Node **slot;            /* per formal: the argument given when it was made (NULL: open) */
    const Type **sty;       /* their types */
    DimEnv env;             /* the layer's variables its parameters' types use, bound so far (inst 0) */
    const char **pvars;     /* those variables (NULL: not known, so every variable is kept) */
    int npvars;
    Items *items;           /* a value-dependent layer: the records of its first call's instance
                               check, in the caller's variables (NULL: the generic records) */
} Instance;

typedef struct CallRec {
    const Node *callee;     /* the layer */
    const Node *call;       /* the ND_CALL */
    DimEnv env;             /* callee's variables (inst 0) -> dims of the caller */
    bool direct;            /* the call is the statement's whole right-hand side */
    Instance *ins;          /* the call made this instance: its env (as bound by all calls) counts */
    Node **args;            /* per formal of the callee: the argument (NULL: its default) */
    Items *items;           /* a value-dependent callee: the records its instance check made for
                               this call, in the caller's variables (NULL: the generic records) */
} CallRec;

typedef enum { IT_PARAM, IT_STATE, IT_STMT, IT_LOOP, IT_IF } ItemKind;

typedef struct Item {
    ItemKind kind;
    const char *name;       /* param/state name; statement's bound name (NULL: none); loop var */
    const Type *ty;         /* IT_PARAM / IT_STATE */
    const Node *node;
    CallRec *calls;         /* IT_STMT */
    int ncalls, capcalls;
    const SDim *lo, *hi;    /* IT_LOOP bounds (NULL: not known) */
    Items *first, *rest;    /* IT_LOOP: body records of the first iteration and of the others */
    Items *iters;           /* IT_LOOP unrolled (a model's loop): the records of each iteration, or NULL */
    int niters;
    Items *arms;            /* IT_IF: the records of each arm of node's chain, in order */
    int narms;
    ParamList *local;       /* IT_STMT: its own parameters, relative to the bound name (cache) */
} Item;

struct Items {
    Item *v;
    int n, cap;
};

/* ---- scopes ---- */

typedef enum { BK_VALUE, BK_PARAM, BK_STATE, BK_FORMAL, BK_INPUT, BK_LOOPVAR } BindKind;

typedef struct Binding Binding;
struct Binding {
    const char *name;
    BindKind kind;
    Node *node;             /* where it was bound */
    const Type *ty;
    const Type *state_ty;   /* BK_STATE: the declared type new values must have */
    Item *stmt;             /* the statement that bound it, when it made parameters */
    const DimEnv *member_env; /* after a loop: the last iteration's loop variable, for h.W */
    Binding *shadow;        /* the binding of the same name it hides */
    int seq;                /* its position in the scope's log (older bindings: smaller) */
};

typedef struct ScopeSlot {
    const char *name;
    Binding *top;
} ScopeSlot;

typedef struct Scope {
    ScopeSlot *slot;
    int cap, used;
    Binding **log;          /* bindings in order, to pop back to a mark */
    int nlog, caplog;
} Scope;

/* ---- declarations ---- */

typedef struct DeclInfo {
    Node *decl;
    int index;              /* in Check.order */
    int state;              /* 0 unchecked, 1 being checked, 2 done */
    bool had_errors;
    bool value_dependent;   /* an `if` depends on its formals: each call checks the body again */
    const Type *result;     /* the generic result type (inst 0 variables of the decl) */
    DimEnv dims;            /* its dim variables (generic: themselves) */
    Items items;            /* its parameter-making records */
    bool unroll_done;       /* unroll and nest are set (check_unroll) */
    int64_t unroll;         /* lower bound of the calls + loop iterations one call of it unrolls to */
    int nest;               /* lower bound of how deep calls nest in one call of it (itself: 1) */
    struct DeclInfo *shadow;    /* a module's declaration of the same name, hidden in the main
                                   file by this one [scope.module] */
} DeclInfo;

typedef struct Check {
    Node *prog;             /* the program (its `use` declarations name the modules) */
    Arena *a;
    Diag *d;
    DimCtx dc;
    DeclInfo **decls;       /* open hash by name */
    int capdecls;
    DeclInfo **order;       /* in program order */
    int ndecls, caporder;
    int next_inst;
    int ninstances;
    int depth;
    int64_t unrolled;       /* iterations of a model's loops checked so far [for.model] */
    int mute;               /* > 0: errors are counted in muted, not reported (the arms of an `if`
                               whose condition a generic body does not know: checked per call) */
    int muted;
} Check;

typedef struct Body {
    Check *C;
    Node *decl;             /* ND_FN/LAYER/OPTIMIZER/MODEL */
    DeclInfo *info;
    NodeKind kind;
    DimEnv *dims;           /* names of dims in types -> values */
    Scope scope;
    Items *items;           /* where parameter-making records go */
    Items *root;            /* the body's own records (items is a loop's inside a loop) */
    Item *stmt;             /* the statement being checked */
    Node *stmt_rhs;         /* its right-hand side */
    bool instance;          /* re-check at a call with known function values: no annotations */
    bool no_layers;         /* layer calls are not allowed here (defaults, train block) */
    const Type *result;
    Node *result_node;
    struct ModelInfo *model;/* ND_MODEL: inputs, outputs, losses, train block */
    int loop_depth;
    bool callee;            /* checking a call's callee: an instance is in its place there */
    struct Body *caller;    /* an instance re-check: the body of the call that asked for it */
    Node *tuple_ok;         /* the expression that may have several results (TY_TUPLE): a
                               destructuring binding's value, a body's result [fn.results] */
} Body;

/* check.c */
void check_error(Body *b, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_note(Body *b, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_hint(Body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_hint_int_div(Body *b, const Node *e, const Type *t);
void check_hint_similar(Body *b, const char *name, const char *const *cands, int n,
                        const char *otherwise);
const Type *check_expr(Body *b, Node *n);
const Type *check_set(Body *b, Node *n, const Type *t);
bool check_size(Body *b, Loc loc, const Type *t);
const char *check_tystr(Body *b, const Type *t);
const char *check_dimstr(Body *b, const SDim *d);

/* check_expr.c */
/* The type of l OP r; fname names a builtin in messages (max, where), NULL: the operator. */
const Type *check_binary(Body *b, Node *n, int op, const Type *l, const Type *r, Loc where, const char *fname);
const Type *check_unary(Body *b, Node *n);
const Type *check_index(Body *b, Node *n);
bool check_broadcast(Body *b, const Shape *x, const Shape *y, Shape *out);
const Type *check_tensor_literal(Body *b, Node *n);
bool check_is_ct(const Type *t);                    /* a compile-time int, float or bool */
bool check_num_value(const Type *t, double *v);     /* a known compile-time int or float */
bool check_const_int(const Type *t, int64_t *v);    /* a known compile-time int */
Type *check_int_type(Body *b, const SDim *v);       /* a compile-time int (v NULL: not known) */
bool check_holds_batch(Body *b, const SDim *d);     /* d holds the model's batch size B */

/* builtins.c: the type of a call of builtin bi; slot[i] = the argument of formal i (NULL: left
 * out), sty[i] its type. */
const Type *check_builtin_call(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty);

#endif
