/* builtins.h - the table of builtin functions (lang/builtins.def) and their shape rules, shared by
 * the checker (symbolic dims) and compiler/lower.c (the concrete dims of one call).
 *
 * Lowering does not derive a builtin's (or an operator's) result shape again: it hands the
 * concrete types of the arguments to the checker's rule (builtin_type_concrete) and builds the IR
 * for the type it gets back. A call the rule refuses is reported by the rule, with the checker's
 * message, at the checker's place. Owned by lang/builtins.c.
 */
#ifndef NNC_BUILTINS_H
#define NNC_BUILTINS_H

#include "ast.h"
#include "diag.h"
#include "types.h"

typedef enum {
    BI_NONE,
#define BUILTIN(id, name, rule, formals, defaults) BI_##id,
#include "builtins.def"
#undef BUILTIN
    BI__COUNT
} Builtin;

/* Shape and dtype rules (lang/builtins.c builtin_type) */
typedef enum {
    BR_NONE,
    BR_UNARY_F32,   /* f32[*S] -> f32[*S] */
    BR_UNARY_NUM,   /* f32[*S] -> f32[*S], i32[*S] -> i32[*S] */
    BR_BINARY,      /* elementwise, broadcasting (two compile-time numbers: a number) */
    BR_CLIP,        /* x, lo, hi broadcast together; x's dtype */
    BR_WHERE,       /* bool condition; all three broadcast */
    BR_REDUCE,      /* f32 or i32, over one axis or all */
    BR_REDUCE_F32,  /* likewise, f32 only (mean) */
    BR_ARG_REDUCE,  /* f32 or i32 -> i32 indices, over one axis or all */
    BR_SCAN,        /* f32 or i32, along one axis: the same shape */
    BR_RESHAPE, BR_TRANSPOSE, BR_CONCAT, BR_ONE_HOT, BR_GATHER, BR_SHAPE,
    BR_CAST,        /* tensors of any dtype or compile-time numbers -> the named dtype */
    BR_SAME,        /* a tensor -> the same type */
    BR_LIKE,        /* a tensor -> its shape and dtype (zeros_like, ones_like) */
    BR_RAND,        /* a tensor -> f32 of its shape */
    BR_RAND_PERM,   /* a tensor of rank >= 1 -> i32[its first dim] */
    BR_ASSERT,      /* a compile-time bool and a message: an error where the bool is false */
    BR_POOL,        /* maxpool2d, avgpool2d, maxpool1d, avgpool1d: f32[N, *spatial, C] windows */
    BR_UPSAMPLE,    /* upsample2d: f32[N, H, W, C] -> f32[N, H * sh, W * sw, C] */
    BR_CONV,        /* conv, conv_transpose: channels-last images or sequences */
    BR_SOFTMAX,     /* f32[*S, N] (causal: f32[*S, T, N], T and N without B) -> the same */
} BuiltinRule;

#define BI_MAXFORMALS 6

typedef struct BuiltinInfo {
    const char *name;
    BuiltinRule rule;
    int nformals;
    const char *formals[BI_MAXFORMALS];
    const char *defaults[BI_MAXFORMALS];    /* NULL: required; "none": may be left out; else its spelling */
} BuiltinInfo;

extern const BuiltinInfo check_builtins[BI__COUNT];
Builtin check_builtin_lookup(const char *name);

/* The result type of builtin bi at call, with slot[i] the argument expression of formal i (NULL:
 * left out) and sty[i] its type, for lowering: the types are concrete (dims are ints, or c + a*B
 * with B the symbol "B" of instance 0). Errors are reported to d exactly as `nnc check` reports
 * them; the result is then TY_ERROR. */
const Type *builtin_type_concrete(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty);
/* The geometry of a BR_POOL or BR_UPSAMPLE call whose builtin_type_concrete succeeded: per
 * spatial dim (nd of them) the window, stride and padding before/after (BR_POOL), or the scale
 * factors in k and bilinear (BR_UPSAMPLE). The rule's own reading of the arguments, so lowering
 * builds the IR from exactly what was checked. */
typedef struct PoolSpec {
    int nd;
    int64_t k[2], s[2], lo[2], hi[2];
    bool bilinear;
} PoolSpec;
PoolSpec builtin_pool_spec(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty);
/* conv and conv_transpose on concrete types (a call builtin_type_concrete accepted): the IR's
 * attributes, stride, dilation, pad_lo, pad_hi per spatial dim (compiler/ir/ops.def), into at;
 * returns their count (4 per spatial dim). */
int builtin_conv_attrs(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty, int64_t *at);
/* The same for the operator op (BinOp) applied to l and r at n. */
const Type *binary_type_concrete(Arena *a, Diag *d, Node *n, int op, const Type *l, const Type *r);

#endif
