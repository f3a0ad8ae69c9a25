/* ast.h - source locations, tokens and the abstract syntax tree of the nnc language.
 *
 * Shared by the lexer, the parser, the checker and compiler/lower.c. The AST is built once by the
 * parser and then annotated in place by the checker (Node.ty, Node.ref); nothing rewrites it.
 * All of it is allocated from the compilation's Arena and never freed piecemeal.
 * docs/language.md is the spec this tree follows.
 */
#ifndef NNC_AST_H
#define NNC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* ---- sources and locations ---- */

typedef struct SrcFile {
    const char *name;       /* path as given (diagnostics print it) */
    const char *text;       /* NUL-terminated contents */
    size_t len;
    int id;
} SrcFile;

typedef struct Loc {
    const SrcFile *file;
    int line, col;          /* 1-based; col counts bytes */
    int off, len;           /* byte span, for carets/underlines */
} Loc;

/* ---- tokens ---- */

typedef enum {
    TK_EOF, TK_NEWLINE,     /* NEWLINE only outside () and [] (docs/language.md "Lexical structure") */
    TK_IDENT, TK_INT, TK_FLOAT, TK_STRING, TK_KEYWORD,
    TK_PUNCT,               /* operators and punctuation: text in Token.loc span */
} TokenKind;

typedef struct Token {
    TokenKind kind;
    Loc loc;
    const char *text;       /* arena copy of the spelling (string literals: decoded contents) */
    int64_t ival;           /* TK_INT */
    double fval;            /* TK_FLOAT */
} Token;

/* ---- the tree ---- */

typedef enum {
    /* expressions */
    ND_INT,         /* ival */
    ND_FLOAT,       /* fval */
    ND_STR,         /* name = contents */
    ND_BOOL,        /* ival 0/1 */
    ND_IDENT,       /* name; checker sets ref to the binding/decl it names */
    ND_TENSOR,      /* kids = elements (nested ND_TENSOR for rows) */
    ND_UNARY,       /* op ('-', 'n' for not), lhs */
    ND_BINARY,      /* op (see BinOp), lhs, rhs */
    ND_CALL,        /* lhs = callee expr, kids = arguments (ND_ARG when named) */
    ND_ARG,         /* name = argument name, lhs = value (named argument only) */
    ND_INDEX,       /* lhs = indexed expr, kids = ND_SLICE or plain exprs, one per axis */
    ND_SLICE,       /* lhs = start, rhs = end, body = step; each may be NULL */
    ND_MEMBER,      /* lhs . name  (a parameter of a layer call: h.W, or a path prefix: enc.h) */
    ND_TUPLE,       /* kids = the results of a body: `return mu, logvar` (ival 1: written in
                       parentheses); only a return or a body's last expression [fn.results] */

    /* statements (fn/layer/optimizer/model bodies) */
    ND_BIND,        /* name = lhs */
    ND_UNPACK,      /* kids = ND_IDENT names (`_`: dropped) = lhs, a call of several results
                       [fn.results]; ival 1: the names written in parentheses */
    ND_PARAM,       /* param name: type = lhs (initializer) */
    ND_STATE,       /* state name: type = lhs (initializer); later binds of name update it */
    ND_RETURN,      /* return lhs */
    ND_EXPR,        /* lhs as a statement; the last one of a body is its result */
    ND_FOR,         /* for name in lhs .. rhs { kids }  (unrolled at compile time) */
    ND_IF,          /* if lhs { kids } else body: body is NULL, an ND_IF (else if), or an ND_IF with
                       lhs NULL (the final else); lhs is a compile-time bool */
    ND_INPUT,       /* input name: type */
    ND_TARGET,      /* target name: type */
    ND_OUTPUT,      /* output name [= lhs] */
    ND_LOSS,        /* loss [name =] lhs ; name defaults to "loss" */
    ND_TRAIN,       /* train { kids } */
    ND_TRAIN_ITEM,  /* name = data|optimizer|batch|epochs|metrics|validation|..., kids = values */
    ND_STEP,        /* step name: minimize lhs(ident) over kids(paths) with rhs(optimizer call) */

    /* declarations (top level) */
    ND_USE,         /* name = module path ("nn", "mylayers") */
    ND_FN,          /* fn name(params) -> ret { body } */
    ND_LAYER,       /* layer name(params) -> ret { body } */
    ND_OPTIMIZER,   /* optimizer name(params) { body } */
    ND_MODEL,       /* model name { body } */
    ND_FORMAL,      /* a formal parameter: name [: tyexpr] [= lhs default] */
    ND_PROGRAM,     /* kids = top-level declarations of every file, in load order */
} NodeKind;

typedef enum {
    OP_ADD_ = 1, OP_SUB_, OP_MUL_, OP_DIV_, OP_MOD_, OP_POW_, OP_MATMUL_,
    OP_EQ_, OP_NE_, OP_LT_, OP_LE_, OP_GT_, OP_GE_, OP_AND_, OP_OR_,
    OP_FLOORDIV_,   /* `//`: floor division of compile-time numbers [int.floordiv] */
} BinOp;    /* trailing underscore: the IR owns the OP_ names without it */

/* Type expressions as written. The checker turns them into Type (lang/types.h). */
typedef enum {
    TE_TENSOR,      /* dtype[dims]; no brackets = rank 0 */
    TE_INT,         /* int: a compile-time integer */
    TE_FLOAT,       /* float: a compile-time real */
    TE_BOOL_SCALAR, /* bool without brackets in a formal: a compile-time flag */
    TE_FN,          /* fn: a function value */
    TE_STR,         /* str */
    TE_DIMVAR,      /* units: N  (a compile-time integer that also names dim variable N); or
                       kernel: 2*R - 1 (ndims 1, dims[0] the form; name its text) */
    TE_TUPLE,       /* (f32[B, L], f32[B, L]): several results [fn.results]; elems */
    TE_DIMLIST,     /* k: [KH, KW]  (an int, or a list of ndims ints; dims[i] DE_VAR names dim
                       variable i, all of them the int's value when an int is given) */
} TypeExprKind;

typedef enum { DT_F32, DT_I32, DT_BOOL } DType;

typedef enum { DE_INT, DE_VAR, DE_BIN, DE_REST } DimExprKind;

typedef struct DimExpr DimExpr;
struct DimExpr {
    DimExprKind kind;
    Loc loc;
    int64_t ival;           /* DE_INT */
    const char *name;       /* DE_VAR (B is the batch dim), DE_REST (*S) */
    char op;                /* DE_BIN: + - * / % */
    DimExpr *lhs, *rhs;
};

typedef struct TypeExpr {
    TypeExprKind kind;
    Loc loc;
    DType dtype;            /* TE_TENSOR */
    int ndims;
    DimExpr **dims;         /* TE_TENSOR; at most one DE_REST */
    const char *name;       /* TE_DIMVAR */
    struct TypeExpr **elems;/* TE_TUPLE: the result types */
    int nelems;
} TypeExpr;

struct Type;                /* lang/types.h */

typedef struct Node Node;
struct Node {
    NodeKind kind;
    Loc loc;                /* the whole construct; diagnostics underline it */
    Loc name_loc;           /* where name is spelled, when there is one */
    const char *name;
    int op;                 /* BinOp, or '-' / 'n' for ND_UNARY */
    int64_t ival;
    double fval;
    Node *lhs, *rhs;
    Node *body;             /* ND_SLICE step */
    Node **kids; int nkids; /* arguments, elements, statements, formals (see kinds) */
    Node **formals; int nformals;   /* ND_FN/LAYER/OPTIMIZER */
    TypeExpr *tyexpr;       /* formal, param, state, input, target, return type */

    /* set by the checker */
    struct Type *ty;        /* type of an expression / declared entity */
    Node *ref;              /* ND_IDENT: the declaration or binding; ND_CALL: the callee decl */
};

/* Parse a whole file into an ND_PROGRAM (kids = declarations). Errors are reported through diag;
 * the parser recovers at statement boundaries and returns what it could build. */
struct Diag;
Node *parse_file(Arena *a, struct Diag *d, const SrcFile *f);

/* Lexer: all tokens of f, ending in TK_EOF. Bad bytes become diagnostics, never crashes. After too
 * many errors in one file the lexer stops reading it and sets ival = 1 on the TK_EOF token (the
 * parser then leaves the fragment alone). */
Token *lex_file(Arena *a, struct Diag *d, const SrcFile *f, int *ntok);

/* Print the tree as an indented S-expression (nnc --emit ast). */
#include <stdio.h>
void ast_dump(FILE *out, const Node *n);

#endif
