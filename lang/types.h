/* types.h - the checker's types: symbolic dims, shapes, tensor and compile-time value types, and
 * the parameter lists of layer instances and models.
 *
 * Dims are polynomials over symbols in a canonical form (sorted terms, no zero coefficients), so
 * two dims are equal exactly when their forms are; division and remainder that cannot be
 * simplified become opaque atoms, and folding resumes when substitution makes them known:
 * `(H - K + 2*P)/S + 1` with H = 28, K = 3, P = 1, S = 1 is 28. Everything lives in the
 * compilation's Arena. Owned by lang/types.c; the checker (lang/check.c) and compiler/lower.c use it.
 */
#ifndef NNC_TYPES_H
#define NNC_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "ast.h"

/* ---- symbolic dims ---- */

typedef enum {
    DA_SYM,     /* a dim variable: name (inst tells apart instances of one callee's variables) */
    DA_DIV,     /* a / b that could not be simplified */
    DA_MOD,     /* a % b that could not be simplified */
    DA_PROD,    /* the product of the dims of shape variable name (*S) */
} DimAtomKind;

typedef struct SDim SDim;
typedef struct DimAtom {
    DimAtomKind kind;
    const char *name;       /* DA_SYM, DA_PROD */
    int inst;               /* 0: the variables of the body being checked; >0: a call's fresh copy */
    const SDim *a, *b;      /* DA_DIV, DA_MOD */
} DimAtom;

typedef struct DimTerm {
    int64_t coef;           /* never 0 */
    int n;                  /* atoms in the monomial (repeats are powers); 0 = the constant term */
    const DimAtom **atoms;  /* sorted by ty_atom_cmp */
} DimTerm;

struct SDim {
    int n;                  /* 0 terms = the dim 0 */
    const DimTerm *t;       /* sorted by monomial: the constant term first */
};

/* Arithmetic context: the arena, and a sticky flag set when a coefficient overflowed int64 (the
 * result is then meaningless and the checker reports the overflow). */
typedef struct DimCtx {
    Arena *a;
    bool overflow;
    const char *div_error;  /* set when substitution made a division known and inexact / by 0 */
} DimCtx;

const SDim *ty_dim_const(DimCtx *c, int64_t v);
const SDim *ty_dim_sym(DimCtx *c, const char *name, int inst);
const SDim *ty_dim_prod(DimCtx *c, const char *rest_name, int inst);   /* product of *S */
const SDim *ty_dim_add(DimCtx *c, const SDim *x, const SDim *y);
const SDim *ty_dim_sub(DimCtx *c, const SDim *x, const SDim *y);
const SDim *ty_dim_mul(DimCtx *c, const SDim *x, const SDim *y);
const SDim *ty_dim_neg(DimCtx *c, const SDim *x);
/* Exact division. NULL when both sides are known and the division is not exact, or y is 0
 * (*why says which: "not exact" / "by zero"); symbolic quotients that cannot be simplified
 * become an opaque atom. */
const SDim *ty_dim_div(DimCtx *c, const SDim *x, const SDim *y, const char **why);
const SDim *ty_dim_mod(DimCtx *c, const SDim *x, const SDim *y, const char **why);
bool ty_dim_is_const(const SDim *x, int64_t *v);
int ty_dim_cmp(const SDim *x, const SDim *y);   /* a total order; 0 = equal */
bool ty_dim_eq(const SDim *x, const SDim *y);
/* Append the dim as a user writes it (`(H - K + 2*P)/S + 1`) to buf (size n, always terminated). */
void ty_dim_str(const SDim *x, char *buf, size_t n);
const char *ty_dim_astr(Arena *a, const SDim *x);

/* Shape variables (*S) bound to a list of dims, which may itself end in another shape variable. */
typedef struct Shape {
    int rank;               /* number of dims, not counting the shape variable */
    const SDim **dims;
    int rest;               /* index in dims before which the shape variable sits; -1 = none */
    const char *rest_name;
    int rest_inst;
} Shape;

/* Substitution: a set of bindings for one instance's variables. */
typedef struct DimBind {
    const char *name;
    bool is_rest;
    const SDim *dim;        /* !is_rest */
    Shape shape;            /* is_rest */
    Loc where;              /* where it was bound (for notes) */
} DimBind;

typedef struct DimEnv {
    int inst;               /* the atoms this env replaces: DA_SYM/DA_PROD with this inst */
    int n, cap;
    DimBind *b;
} DimEnv;

DimBind *ty_env_find(const DimEnv *e, const char *name);
DimBind *ty_env_bind_dim(Arena *a, DimEnv *e, const char *name, const SDim *d, Loc where);
DimBind *ty_env_bind_rest(Arena *a, DimEnv *e, const char *name, Shape s, Loc where);
const SDim *ty_dim_subst(DimCtx *c, const SDim *x, const DimEnv *e);
/* Solve x == 0 for one unknown DA_SYM of instance inst that appears only linearly: returns 1 and
 * sets name and value; 0 when x is identically 0; -1 when x has no unknowns and is not 0 or the
 * unknown's solution is not an integer; -2 when it cannot be solved (several unknowns, products). */
int ty_dim_solve(DimCtx *c, const SDim *x, int inst, const char **name, const SDim **value);
bool ty_dim_has_inst(const SDim *x, int inst);   /* mentions an atom of instance inst */

/* ---- types ---- */

typedef enum {
    TY_ERROR,       /* already diagnosed: uses of it report nothing more */
    TY_ANY,         /* not known in a generic body (result of calling a function-valued formal) */
    TY_TENSOR,      /* dtype + shape */
    TY_INT,         /* compile-time int; ival is its value when known (maybe symbolic) */
    TY_FLOAT,       /* compile-time real */
    TY_BOOL,        /* compile-time bool */
    TY_STR,
    TY_FN,          /* a function value: decl (fn/layer/optimizer) or builtin, or unknown */
    TY_GROUP,       /* a group of parameters: path prefix (enc.h) */
    TY_MODEL,       /* the type of a model declaration: its parameter list */
    TY_TUPLE,       /* the several results of a fn or layer [fn.results]: elems (each a tensor or a
                       number); only a destructuring binding takes it apart */
} TypeKind;

typedef struct ParamList ParamList;

typedef struct Type {
    TypeKind kind;
    DType dtype;            /* TY_TENSOR */
    Shape shape;            /* TY_TENSOR */
    const SDim *ival;       /* TY_INT: value when known */
    bool known;             /* TY_FLOAT / TY_BOOL: value known */
    double fval;            /* TY_FLOAT */
    bool bval;              /* TY_BOOL */
    const char *sval;       /* TY_STR when known */
    const Node *decl;       /* TY_FN: ND_FN/ND_LAYER/ND_OPTIMIZER; NULL for a builtin or unknown */
    int builtin;            /* TY_FN: builtin id (check.c) when decl is NULL; 0 = unknown */
    const char *fname;      /* TY_FN: name of the function (printing) */
    const struct Type *ret; /* TY_FN of a declaration: its generic result type */
    struct Instance *instance; /* TY_FN: a layer instance (check_int.h), NULL for a plain function */
    const ParamList *params;/* TY_GROUP: the list it points into; TY_MODEL: the model's params */
    const char *path;       /* TY_GROUP: prefix inside params */
    int nvals;              /* TY_TENSOR i32[n] written as a literal of compile-time ints ([N, -1]): */
    const SDim **vals;      /* their values (NULL where not known), for reshape/transpose */
    int nelems;             /* TY_TUPLE */
    const struct Type **elems;
} Type;

const Type *ty_error(void);
const Type *ty_any(void);
Type *ty_new(Arena *a, TypeKind k);
Type *ty_tensor(Arena *a, DType dt, int rank, const SDim **dims);
bool ty_is_scalar_value(const Type *t);    /* TY_INT or TY_FLOAT: weak constants */
bool ty_is_bad(const Type *t);             /* TY_ERROR or TY_ANY: no further diagnostics */
Type *ty_tuple(Arena *a, int n, const Type **elems);
const char *ty_dtype_name(DType dt);
/* `f32[B, 784]`, `f32`, `int`, `fn relu`, ... */
const char *ty_str(Arena *a, const Type *t);
const char *ty_shape_str(Arena *a, const Shape *s);
bool ty_shape_eq(const Shape *x, const Shape *y);
bool ty_eq(const Type *x, const Type *y);
Type *ty_subst(DimCtx *c, const Type *t, const DimEnv *e);
Shape ty_shape_subst(DimCtx *c, const Shape *s, const DimEnv *e);

/* ---- parameters [layer.naming] ---- */

typedef enum { PE_PARAM, PE_STATE } ParamKind;

typedef struct ParamEntry {
    const char *path;       /* h.W, enc.h.W (relative to the list's owner) */
    ParamKind kind;
    const Type *ty;         /* concrete in a model; in terms of the owner's variables in a layer */
    const Node *decl;       /* ND_PARAM / ND_STATE: initializer in decl->lhs */
    const Node *origin;     /* the owner's own statement (or param) that made it */
} ParamEntry;

struct ParamList {
    int n, cap;
    ParamEntry *e;
};

const ParamEntry *ty_params_find(const ParamList *l, const char *path);
bool ty_params_has_prefix(const ParamList *l, const char *prefix);

#endif
