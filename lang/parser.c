/* parser.c - tokens to the AST (docs/language.md section 2, "Grammar").
 *
 * Recursive descent, one function per grammar rule with the rule written above it (chibicc style).
 *
 * Error recovery: a syntax error reports `expected X, found Y` with a caret on the offending token
 * and longjmps to the nearest recovery point: the statement (or train item, or declaration) being
 * parsed. There the parser skips to the next newline or `}` at the same brace depth and goes on,
 * so one run reports several independent errors. Nothing is freed on the jump (arena memory).
 *
 * Depth: every construct that nests (parentheses, brackets, blocks, unary operators, and also the
 * left-deep chains `a + b + c`, `f()()`, `a.b.c` that make the tree deep) counts against a limit
 * of MAX_DEPTH levels [syntax.depth]. That keeps this parser and every later recursive walk of
 * the tree (checker, lowering, dumps) far away from the stack's end whatever the input.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "lexer.h"

#define MAX_DEPTH 256

typedef struct Parser {
    Arena *a;
    Diag *d;
    Token *toks;
    int ntoks, pos;
    int depth;
    jmp_buf *recover;       /* where a syntax error jumps: the innermost statement being parsed */
    int last_error_pos;     /* one error per token: an unclosed block at EOF is reported once */
    LexMsg *lexmsgs;        /* the lexer's messages not printed yet, in source order */
    int nlexmsgs, nextmsg;
    int stmt_start;         /* first token of the statement being parsed */
    int tuple_at;           /* the '(' that may open a parenthesised result tuple `return (a, b)`
                               (-1: none) [fn.results] */
    Node *tuple_made;       /* the tuple parsed there */
} Parser;

/* A syntax error right after a lexical one in the same statement is its echo (`x $ 2`: the `$` is
 * dropped, then `2` is unexpected); only the lexical one is shown. */
static int echoes_lex_error(Parser *p, const Token *t) {
    int from = p->toks[p->stmt_start].loc.off, to = t->loc.off;
    for (int i = 0; i < p->nlexmsgs; i++) {
        const LexMsg *m = &p->lexmsgs[i];
        if (m->error && m->loc.file && m->loc.off >= from && m->loc.off <= to)
            return 1;
    }
    return 0;
}

/* Print the lexer's messages that come before off, so that all messages appear in source order. */
static void flush_lex(Parser *p, int off) {
    while (p->nextmsg < p->nlexmsgs &&
           (p->lexmsgs[p->nextmsg].loc.off <= off || !p->lexmsgs[p->nextmsg].loc.file))
        lex_report(p->d, &p->lexmsgs[p->nextmsg++]);
}

/* Every parser error goes through here, after the lexer's messages that come before it. */
static void vreport(Parser *p, Loc loc, const char *fmt, va_list ap) {
    flush_lex(p, loc.off);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *msg = arena_alloc(p->a, (size_t)(n > 0 ? n : 0) + 1);
    vsnprintf(msg, (size_t)(n > 0 ? n : 0) + 1, fmt, ap2);
    va_end(ap2);
    diag_error(p->d, loc, "%s", msg);
}

static void __attribute__((format(printf, 3, 4))) report(Parser *p, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(p, loc, fmt, ap);
    va_end(ap);
}

/* ---- tokens ---- */

static Token *peek(Parser *p) { return &p->toks[p->pos]; }
static Token *peek_at(Parser *p, int k) {
    int i = p->pos + k;
    return &p->toks[i < p->ntoks ? i : p->ntoks - 1];
}
static Token *prev_tok(Parser *p) { return &p->toks[p->pos > 0 ? p->pos - 1 : 0]; }
static Token *advance(Parser *p) {
    Token *t = &p->toks[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static int is_punct(const Token *t, const char *s) { return t->kind == TK_PUNCT && !strcmp(t->text, s); }
static int is_kw(const Token *t, const char *s) { return t->kind == TK_KEYWORD && !strcmp(t->text, s); }
static int is_ident(const Token *t, const char *s) { return t->kind == TK_IDENT && !strcmp(t->text, s); }

/* How a token is named in "found ..." (long spellings are cut). */
static const char *describe(Parser *p, const Token *t) {
    const char *text = t->text ? t->text : "";
    int n = (int)strlen(text);
    const char *more = n > 32 ? "..." : "";
    if (n > 32)
        n = 32;
    switch (t->kind) {
    case TK_EOF: return "end of file";
    case TK_NEWLINE: return text[0] == ';' ? "';'" : "newline";
    case TK_IDENT: return arena_printf(p->a, "identifier '%.*s%s'", n, text, more);
    case TK_KEYWORD: return arena_printf(p->a, "keyword '%s'", text);
    case TK_INT: return arena_printf(p->a, "integer %.*s%s", n, text, more);
    case TK_FLOAT: return arena_printf(p->a, "real %.*s%s", n, text, more);
    case TK_STRING: return "a string";
    case TK_PUNCT: return arena_printf(p->a, "'%s'", text);
    }
    return "?";
}

static _Noreturn void bail(Parser *p) { longjmp(*p->recover, 1); }

/* Report at token t (once per token), then the hint if any, and jump to the recovery point. */
static _Noreturn void __attribute__((format(printf, 4, 5)))
fail(Parser *p, Token *t, const char *hint, const char *fmt, ...) {
    int idx = (int)(t - p->toks);
    if (idx != p->last_error_pos && !echoes_lex_error(p, t)) {
        p->last_error_pos = idx;
        va_list ap;
        va_start(ap, fmt);
        vreport(p, t->loc, fmt, ap);
        va_end(ap);
        if (hint)
            diag_hint(p->d, "%s", hint);
    }
    bail(p);
}
#define error_at(p, t, ...) fail(p, t, NULL, __VA_ARGS__)

static _Noreturn void expected(Parser *p, const char *what) {
    Token *t = peek(p);
    error_at(p, t, "expected %s, found %s", what, describe(p, t));
}

/* Like expected(), with a note at the bracket that is still open. */
static _Noreturn void expected_close(Parser *p, const char *what, const Token *open) {
    Token *t = peek(p);
    int idx = (int)(t - p->toks);
    if (idx != p->last_error_pos && !echoes_lex_error(p, t)) {
        p->last_error_pos = idx;
        report(p, t->loc, "expected %s, found %s", what, describe(p, t));
        if (open->loc.line != t->loc.line)
            diag_note(p->d, open->loc, "to match this '%s'", open->text);
    }
    bail(p);
}

static Token *expect_punct(Parser *p, const char *s) {
    if (!is_punct(peek(p), s))
        expected(p, arena_printf(p->a, "'%s'", s));
    return advance(p);
}

static Token *expect_kw(Parser *p, const char *s) {
    if (!is_kw(peek(p), s))
        expected(p, arena_printf(p->a, "'%s'", s));
    return advance(p);
}

static Token *expect_ident(Parser *p, const char *what) {
    Token *t = peek(p);
    if (t->kind == TK_KEYWORD)
        fail(p, t, arena_printf(p->a, "'%s' is a reserved word; choose another name", t->text),
             "expected %s, found %s", what, describe(p, t));
    if (t->kind != TK_IDENT)
        expected(p, what);
    return advance(p);
}

static void close_bracket(Parser *p, const char *close, const Token *open) {
    if (!is_punct(peek(p), close))
        expected_close(p, arena_printf(p->a, "'%s'", close), open);
    advance(p);
}

/* NL: a newline or ';'; a `}` or the end of the file also ends a statement (not consumed). */
static void end_stmt(Parser *p) {
    Token *t = peek(p);
    if (t->kind == TK_NEWLINE) {
        advance(p);
        return;
    }
    if (is_punct(t, "}") || t->kind == TK_EOF)
        return;
    if (is_punct(t, ","))   /* Python's x = a, b or output h, c = ... */
        fail(p, t, "nnc has no tuple values: a fn or layer gives several results (return a, b), and a call of "
                   "it binds them by name (h, c = lstm_cell(x, h, c))",
             "expected %s, found %s", "a newline or ';' after the statement", describe(p, t));
    if (is_kw(t, "if"))     /* Python's `a if c else b` */
        fail(p, t, "nnc has no conditional expression: where(c, a, b) chooses per element (training too: "
                   "where(training, a, b)), and an if statement chooses at compile time",
             "expected %s, found %s", "a newline or ';' after the statement", describe(p, t));
    expected(p, "a newline or ';' after the statement");
}

/* "did you mean 'model'?" when t is an identifier one typo away from one of words. */
static const char *typo_hint(Parser *p, const Token *t, const char *const *words, int n) {
    if (t->kind != TK_IDENT)
        return NULL;
    const char *s = diag_suggest(t->text, words, n);
    return s ? arena_printf(p->a, "did you mean '%s'?", s) : NULL;
}

static const char *const decl_words[] = {"use", "fn", "layer", "optimizer", "model"};
static const char *const train_words[] = {"data", "optimizer", "batch", "epochs", "metrics", "validation", "step"};
static const char *const stmt_words[] = {"param", "state", "for", "if", "return", "input", "target", "output", "loss", "train"};
#define NWORDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Keras' fit()/compile() names in a train block: the item that says it, else a near train word */
static const char *train_alias_hint(Parser *p, const Token *t) {
    static const struct { const char *theirs, *hint; } alias[] = {
        {"validation_split", "a held-out fraction is 'validation 0.2'"},
        {"validation_data", "a validation set is 'validation csv(\"val.csv\", label = \"y\")' (any data source)"},
        {"batch_size", "the batch size is 'batch 32'"},
        {"lr", "the learning rate is the optimizer's: 'optimizer adam(lr = 1e-3)'"},
        {"learning_rate", "the learning rate is the optimizer's: 'optimizer adam(lr = 1e-3)'"},
        {"shuffle", "the training samples are shuffled every epoch (--seed chooses the order)"},
        {"callbacks", "early stopping and checkpoints are flags of the executable: train --early-stop N, --save-best FILE"},
    };
    if (t->kind == TK_IDENT)
        for (int i = 0; i < NWORDS(alias); i++)
            if (!strcmp(t->text, alias[i].theirs))
                return alias[i].hint;
    return typo_hint(p, t, train_words, NWORDS(train_words));
}

static void skip_newlines(Parser *p) {
    while (peek(p)->kind == TK_NEWLINE)
        advance(p);
}

/* ---- depth ---- */

static void enter(Parser *p, Token *t) {
    if (++p->depth > MAX_DEPTH) {
        int idx = (int)(t - p->toks);
        if (idx != p->last_error_pos) {
            p->last_error_pos = idx;
            report(p, t->loc, "nesting too deep (more than %d levels)", MAX_DEPTH);
            diag_hint(p->d, is_punct(t, "{") ? "move the inner loops into a function"
                                             : "split the expression into several bindings");
        }
        bail(p);
    }
}
static void leave(Parser *p) { p->depth--; }

/* ---- nodes ---- */

static Node *new_node(Parser *p, NodeKind kind, const Token *start) {
    Node *n = arena_alloc(p->a, sizeof *n);
    n->kind = kind;
    n->loc = start->loc;
    n->name_loc = start->loc;
    return n;
}

/* Extend n->loc to the end of the last token consumed. */
static Node *finish(Parser *p, Node *n) {
    const Token *last = prev_tok(p);
    int end = last->loc.off + last->loc.len;
    if (last->loc.file == n->loc.file && end > n->loc.off)
        n->loc.len = end - n->loc.off;
    return n;
}

static Loc span(Loc from, Loc to) {
    Loc l = from;
    int end = to.off + to.len;
    if (to.file == from.file && end > from.off)
        l.len = end - from.off;
    return l;
}

static void set_name(Node *n, const Token *t) {
    n->name = t->text;
    n->name_loc = t->loc;
}

typedef struct NodeList {
    Node **v;
    int n, cap;
} NodeList;

static void list_push(Parser *p, NodeList *l, Node *n) {
    if (n)
        *ARENA_PUSH(p->a, l->v, l->n, l->cap) = n;
}

static Node *binary(Parser *p, int op, Token *optok, Node *lhs, Node *rhs) {
    Node *n = arena_alloc(p->a, sizeof *n);
    n->kind = ND_BINARY;
    n->op = op;
    n->lhs = lhs;
    n->rhs = rhs;
    n->loc = span(lhs->loc, rhs->loc);
    n->name_loc = optok->loc;
    return n;
}

/* ---- recovery ---- */

static int begins_line(Parser *p, int i) {
    return i > 0 && p->toks[i].loc.line > p->toks[i - 1].loc.line;
}

/* Keywords that begin a statement and can never appear inside ( ) or [ ]. */
static int starts_stmt_kw(const Token *t) {
    static const char *const kws[] = {"param", "state", "for", "if", "return", "input", "target", "output",
                                      "loss", "train"};
    for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
        if (is_kw(t, kws[i]))
            return 1;
    return 0;
}

/* Skip the rest of a broken statement that began at token start: up to and including the next
 * newline at this brace depth, or up to (not including) the `}` that closes the enclosing block.
 *
 * An unclosed ( or [ hides the newlines after it (the lexer drops them), so the statement would
 * swallow the lines that follow. Two guesses keep those lines: when the offending token is the
 * first of its line inside brackets, the statement probably ended before it (a missing `)`), so
 * parsing resumes right there; and while skipping, a line that begins with a statement keyword, or
 * once the skipped text has closed the brackets the statement had open, is the next statement. */
static void sync_stmt(Parser *p, int start) {
    if (p->pos > start && begins_line(p, p->pos) && prev_tok(p)->kind != TK_NEWLINE &&
        !is_punct(peek(p), "}") && peek(p)->kind != TK_EOF)
        return;
    /* brackets the statement had open where it broke */
    int open = 0;
    for (int i = start; i < p->pos; i++)
        open += is_punct(&p->toks[i], "(") || is_punct(&p->toks[i], "[") ? 1
              : is_punct(&p->toks[i], ")") || is_punct(&p->toks[i], "]") ? -1 : 0;
    int depth = 0, balance = 0, first = p->pos;
    for (;;) {
        Token *t = peek(p);
        if (t->kind == TK_EOF)
            return;
        if (depth == 0 && p->pos > first && begins_line(p, p->pos) && prev_tok(p)->kind != TK_NEWLINE &&
            (balance <= -open || starts_stmt_kw(t)))
            return;
        if (is_punct(t, "{")) {
            depth++;
        } else if (is_punct(t, "}")) {
            if (depth == 0)
                return;
            depth--;
        } else if (is_punct(t, "(") || is_punct(t, "[")) {
            balance++;
        } else if (is_punct(t, ")") || is_punct(t, "]")) {
            balance--;
        } else if (t->kind == TK_NEWLINE && depth == 0) {
            advance(p);
            return;
        }
        advance(p);
    }
}

static int starts_decl(const Token *t) {
    return is_kw(t, "use") || is_kw(t, "fn") || is_kw(t, "layer") || is_kw(t, "optimizer") || is_kw(t, "model");
}

/* Skip a broken declaration: to the next declaration keyword that begins a line outside braces. */
static void sync_decl(Parser *p, int start) {
    int depth = 0;
    if (p->pos == start)
        advance(p);
    for (;;) {
        Token *t = peek(p);
        if (t->kind == TK_EOF)
            return;
        if (depth == 0 && starts_decl(t) && begins_line(p, p->pos))
            return;
        if (is_punct(t, "{"))
            depth++;
        else if (is_punct(t, "}") && depth > 0)
            depth--;
        advance(p);
    }
}

typedef Node *(*ParseFn)(Parser *p);

/* Parse one statement-like thing with fn; on a syntax error skip it and return NULL. */
static Node *parse_or_skip(Parser *p, ParseFn fn) {
    jmp_buf jb;
    jmp_buf *saved = p->recover;
    int depth = p->depth, start = p->pos;
    int saved_start = p->stmt_start;
    Node *volatile n = NULL;
    p->recover = &jb;
    p->stmt_start = start;
    if (setjmp(jb) == 0) {
        n = fn(p);
    } else {
        p->depth = depth;
        sync_stmt(p, start);
        if (p->pos == start && !is_punct(peek(p), "}"))
            advance(p);     /* always make progress */
    }
    p->recover = saved;
    p->stmt_start = saved_start;
    return n;
}

/* ---- types ---- */

static DimExpr *dimsum(Parser *p);

static DimExpr *new_dim(Parser *p, DimExprKind kind, const Token *t) {
    DimExpr *e = arena_alloc(p->a, sizeof *e);
    e->kind = kind;
    e->loc = t->loc;
    return e;
}

/* dimatom = INT | IDENT | "(" dimsum ")" ; */
static DimExpr *dimatom(Parser *p) {
    Token *t = peek(p);
    if (t->kind == TK_INT) {
        advance(p);
        DimExpr *e = new_dim(p, DE_INT, t);
        e->ival = t->ival;
        return e;
    }
    if (t->kind == TK_IDENT) {
        advance(p);
        DimExpr *e = new_dim(p, DE_VAR, t);
        e->name = t->text;
        return e;
    }
    if (is_punct(t, "(")) {
        enter(p, t);
        advance(p);
        DimExpr *e = dimsum(p);
        close_bracket(p, ")", t);
        leave(p);
        e->loc = span(t->loc, prev_tok(p)->loc);
        return e;
    }
    expected(p, "a dimension (an integer, a name or '(')");
}

static DimExpr *dim_binary(Parser *p, char op, DimExpr *lhs, DimExpr *rhs) {
    DimExpr *e = arena_alloc(p->a, sizeof *e);
    e->kind = DE_BIN;
    e->op = op;
    e->lhs = lhs;
    e->rhs = rhs;
    e->loc = span(lhs->loc, rhs->loc);
    return e;
}

/* dimprod = dimatom { ( "*" | "/" | "%" ) dimatom } ; */
static DimExpr *dimprod(Parser *p) {
    int depth = p->depth;
    DimExpr *e = dimatom(p);
    for (;;) {
        Token *t = peek(p);
        if (!is_punct(t, "*") && !is_punct(t, "/") && !is_punct(t, "%"))
            break;
        enter(p, t);
        advance(p);
        e = dim_binary(p, t->text[0], e, dimatom(p));
    }
    p->depth = depth;
    return e;
}

/* dimsum = dimprod { ( "+" | "-" ) dimprod } ; */
static DimExpr *dimsum(Parser *p) {
    int depth = p->depth;
    DimExpr *e = dimprod(p);
    for (;;) {
        Token *t = peek(p);
        if (!is_punct(t, "+") && !is_punct(t, "-"))
            break;
        enter(p, t);
        advance(p);
        e = dim_binary(p, t->text[0], e, dimprod(p));
    }
    p->depth = depth;
    return e;
}

/* dim = "*" IDENT | dimsum ; */
static DimExpr *dim(Parser *p) {
    Token *t = peek(p);
    if (is_punct(t, "*")) {
        advance(p);
        Token *id = expect_ident(p, "a shape variable name after '*'");
        DimExpr *e = new_dim(p, DE_REST, t);
        e->name = id->text;
        e->loc = span(t->loc, id->loc);
        return e;
    }
    return dimsum(p);
}

static int is_dtype(const Token *t) {
    return is_ident(t, "f32") || is_ident(t, "i32") || is_ident(t, "bool");
}

/* type  = dtype [ "[" [ dim { "," dim } ] "]" ] ;
 * dtype = "f32" | "i32" | "bool" ; */
static TypeExpr *type(Parser *p) {
    Token *t = peek(p);
    if (t->kind == TK_IDENT && !is_dtype(t) && is_punct(peek_at(p, 1), "["))
        error_at(p, t, "unknown dtype '%s' (the dtypes are f32, i32 and bool)", t->text);
    if (!is_dtype(t))
        expected(p, "a tensor type (f32, i32 or bool)");
    advance(p);
    TypeExpr *ty = arena_alloc(p->a, sizeof *ty);
    ty->kind = TE_TENSOR;
    ty->loc = t->loc;
    ty->dtype = t->text[0] == 'f' ? DT_F32 : t->text[0] == 'i' ? DT_I32 : DT_BOOL;
    if (is_punct(peek(p), "[")) {
        Token *open = advance(p);
        DimExpr **dims = NULL;
        int ndims = 0, cap = 0;
        const DimExpr *rest = NULL;
        if (!is_punct(peek(p), "]")) {
            for (;;) {
                DimExpr *e = dim(p);
                if (e->kind == DE_REST) {
                    if (rest) {
                        report(p, e->loc, "a type may have only one '*' shape variable");
                        diag_note(p->d, rest->loc, "the first one is here");
                    }
                    rest = e;
                }
                *ARENA_PUSH(p->a, dims, ndims, cap) = e;
                if (!is_punct(peek(p), ","))
                    break;
                advance(p);
            }
        }
        if (!is_punct(peek(p), "]"))
            expected_close(p, "',' or ']' in the shape", open);
        advance(p);
        ty->dims = dims;
        ty->ndims = ndims;
    }
    ty->loc = span(t->loc, prev_tok(p)->loc);
    return ty;
}

/* ftype = type | "int" | "float" | "bool" | "str" | "fn" | IDENT | "[" IDENT { "," IDENT } "]" ; */
static TypeExpr *ftype(Parser *p) {
    Token *t = peek(p);
    TypeExpr *ty = NULL;
    if (is_dtype(t) && !(is_ident(t, "bool") && !is_punct(peek_at(p, 1), "[")))
        return type(p);
    ty = arena_alloc(p->a, sizeof *ty);
    ty->loc = t->loc;
    if (is_punct(t, "[")) {
        /* `k: [KH, KW]`: an int or a list of ints, one dim variable each */
        Token *open = t;
        int cap = 0;
        ty->kind = TE_DIMLIST;
        advance(p);
        for (;;) {
            Token *v = peek(p);
            if (v->kind != TK_IDENT)
                expected(p, "a dimension name in the list type");
            DimExpr *e = arena_alloc(p->a, sizeof *e);
            e->kind = DE_VAR;
            e->loc = v->loc;
            e->name = v->text;
            *ARENA_PUSH(p->a, ty->dims, ty->ndims, cap) = e;
            advance(p);
            if (!is_punct(peek(p), ","))
                break;
            advance(p);
        }
        if (!is_punct(peek(p), "]"))
            expected_close(p, "',' or ']' in the list type", open);
        advance(p);
        ty->loc = span(t->loc, prev_tok(p)->loc);
        return ty;
    }
    if (is_kw(t, "fn"))
        ty->kind = TE_FN;
    else if (is_ident(t, "int"))
        ty->kind = TE_INT;
    else if (is_ident(t, "float"))
        ty->kind = TE_FLOAT;
    else if (is_ident(t, "bool"))
        ty->kind = TE_BOOL_SCALAR;
    else if (is_ident(t, "str"))
        ty->kind = TE_STR;
    else if (t->kind == TK_IDENT && is_punct(peek_at(p, 1), "["))
        error_at(p, t, "unknown dtype '%s' (the dtypes are f32, i32 and bool)", t->text);
    else if (t->kind == TK_INT || is_punct(t, "(") ||
             (t->kind == TK_IDENT && (is_punct(peek_at(p, 1), "+") || is_punct(peek_at(p, 1), "-") ||
                                      is_punct(peek_at(p, 1), "*") || is_punct(peek_at(p, 1), "/") ||
                                      is_punct(peek_at(p, 1), "%")))) {
        /* `kernel: 2*R - 1`: an int that must have this form; R is solved at each call */
        ty->kind = TE_DIMVAR;
        ty->dims = arena_alloc(p->a, sizeof *ty->dims);
        ty->dims[0] = dimsum(p);
        ty->ndims = 1;
        ty->loc = span(t->loc, prev_tok(p)->loc);
        const SrcFile *sf = ty->loc.file;
        ty->name = sf && sf->text ? arena_strndup(p->a, sf->text + ty->loc.off, (size_t)ty->loc.len) : "?";
        return ty;
    } else if (t->kind == TK_IDENT) {
        ty->kind = TE_DIMVAR;
        ty->name = t->text;
    } else
        expected(p, "a type (f32[...], i32[...], bool, int, float, str, fn or a dimension name)");
    advance(p);
    return ty;
}

/* ---- expressions ---- */

static Node *expr(Parser *p);

/* arg = [ IDENT "=" ] expr ; */
static Node *arg(Parser *p) {
    Token *t = peek(p);
    if (t->kind == TK_IDENT && is_punct(peek_at(p, 1), "=")) {
        advance(p);
        advance(p);
        Node *n = new_node(p, ND_ARG, t);
        set_name(n, t);
        n->lhs = expr(p);
        return finish(p, n);
    }
    return expr(p);
}

/* index = expr | [ expr ] ":" [ expr ] [ ":" expr ] ; */
static Node *index_(Parser *p) {
    Token *t = peek(p);
    Node *start = NULL;
    if (!is_punct(t, ":"))
        start = expr(p);
    if (!is_punct(peek(p), ":"))
        return start;
    Node *n = new_node(p, ND_SLICE, t);
    n->name_loc = peek(p)->loc;
    advance(p);
    n->lhs = start;
    Token *u = peek(p);
    if (!is_punct(u, ":") && !is_punct(u, ",") && !is_punct(u, "]"))
        n->rhs = expr(p);
    if (is_punct(peek(p), ":")) {
        advance(p);
        n->body = expr(p);
    }
    return finish(p, n);
}

/* primary = INT | FLOAT | STRING | "true" | "false" | IDENT
 *         | "(" expr ")" | "[" [ expr { "," expr } [ "," ] ] "]" ; */
static Node *primary(Parser *p) {
    Token *t = peek(p);
    Node *n;
    switch (t->kind) {
    case TK_INT:
        advance(p);
        n = new_node(p, ND_INT, t);
        n->ival = t->ival;
        return n;
    case TK_FLOAT:
        advance(p);
        n = new_node(p, ND_FLOAT, t);
        n->fval = t->fval;
        return n;
    case TK_STRING:
        advance(p);
        n = new_node(p, ND_STR, t);
        n->name = t->text;
        return n;
    case TK_IDENT:
        advance(p);
        n = new_node(p, ND_IDENT, t);
        n->name = t->text;
        return n;
    case TK_KEYWORD:
        if (is_kw(t, "true") || is_kw(t, "false")) {
            advance(p);
            n = new_node(p, ND_BOOL, t);
            n->ival = is_kw(t, "true");
            return n;
        }
        break;
    case TK_PUNCT:
        if (is_punct(t, "(")) {
            int at = p->pos;
            enter(p, t);
            advance(p);
            n = expr(p);
            if (is_punct(peek(p), ",") && at == p->tuple_at && !p->tuple_made) {
                /* `return (mu, logvar)`: the results of a body [fn.results] */
                Node *tu = new_node(p, ND_TUPLE, t);
                tu->ival = 1;
                NodeList el = {0};
                list_push(p, &el, n);
                while (is_punct(peek(p), ",")) {
                    advance(p);
                    list_push(p, &el, expr(p));
                }
                close_bracket(p, ")", t);
                leave(p);
                tu->kids = el.v;
                tu->nkids = el.n;
                p->tuple_made = tu;
                return finish(p, tu);
            }
            if (is_punct(peek(p), ",") && n->kind == ND_IDENT) {    /* PyTorch's out, (h, c) = lstm(x) */
                int i = p->pos;
                while (i + 2 < p->ntoks && is_punct(&p->toks[i], ",") && p->toks[i + 1].kind == TK_IDENT)
                    i += 2;
                if (i + 1 < p->ntoks && is_punct(&p->toks[i], ")") && is_punct(&p->toks[i + 1], "="))
                    fail(p, t, "a destructuring binding binds one name per result, not nested tuples: out, h, c = f(x) "
                               "for a fn or layer of three results",
                         "only names can be bound, found a parenthesised tuple inside the names");
            }
            if (is_punct(peek(p), ","))     /* Python's tuple (1, 2) */
                fail(p, peek(p), "nnc has no tuples: a list is written [1, 2] (axis = [1, 2], concat([a, b]))",
                     "expected ')', found ','");
            close_bracket(p, ")", t);
            leave(p);
            return n;
        }
        if (is_punct(t, "[")) {
            enter(p, t);
            advance(p);
            n = new_node(p, ND_TENSOR, t);
            NodeList elems = {0};
            while (!is_punct(peek(p), "]")) {
                list_push(p, &elems, expr(p));
                if (!is_punct(peek(p), ","))
                    break;
                advance(p);
            }
            if (!is_punct(peek(p), "]"))
                expected_close(p, "',' or ']' in the tensor literal", t);
            advance(p);
            leave(p);
            n->kids = elems.v;
            n->nkids = elems.n;
            return finish(p, n);
        }
        break;
    default:
        break;
    }
    if (is_punct(t, "=") && p->pos > 0 && prev_tok(p)->kind == TK_PUNCT &&
        (is_punct(prev_tok(p), "+") || is_punct(prev_tok(p), "-") || is_punct(prev_tok(p), "*") ||
         is_punct(prev_tok(p), "/")))     /* Python's y += 1 */
        fail(p, t, arena_printf(p->a, "nnc has no augmented assignment: write y = y %s ...", prev_tok(p)->text),
             "expected an expression, found '='");
    if (t->kind == TK_NEWLINE && p->pos > 0 && prev_tok(p)->kind == TK_PUNCT && !is_punct(prev_tok(p), ")") &&
        !is_punct(prev_tok(p), "]") && !is_punct(prev_tok(p), "}"))
        fail(p, t, "a newline ends the statement: to go on on the next line, put the expression in parentheses "
                   "(a newline inside ( ) or [ ] is white space)",
             "expected an expression, found %s", describe(p, t));
    expected(p, "an expression");
}

/* postfix = primary { "(" [ args ] ")" | "[" index { "," index } "]" | "." IDENT } ;
 * args    = arg { "," arg } [ "," ] ; */
static Node *postfix(Parser *p) {
    int depth = p->depth;
    Node *n = primary(p);
    for (;;) {
        Token *t = peek(p);
        if (is_punct(t, "(")) {
            enter(p, t);
            advance(p);
            Node *call = arena_alloc(p->a, sizeof *call);
            call->kind = ND_CALL;
            call->lhs = n;
            call->loc = n->loc;
            call->name_loc = n->kind == ND_MEMBER ? n->name_loc : n->loc;
            NodeList args = {0};
            while (!is_punct(peek(p), ")")) {
                list_push(p, &args, arg(p));
                if (!is_punct(peek(p), ","))
                    break;
                advance(p);
            }
            if (!is_punct(peek(p), ")"))
                expected_close(p, "',' or ')' in the argument list", t);
            advance(p);
            call->kids = args.v;
            call->nkids = args.n;
            n = finish(p, call);
        } else if (is_punct(t, "[")) {
            enter(p, t);
            advance(p);
            Node *ix = arena_alloc(p->a, sizeof *ix);
            ix->kind = ND_INDEX;
            ix->lhs = n;
            ix->loc = n->loc;
            ix->name_loc = t->loc;
            NodeList idx = {0};
            for (;;) {
                list_push(p, &idx, index_(p));
                if (!is_punct(peek(p), ","))
                    break;
                advance(p);
            }
            if (!is_punct(peek(p), "]"))
                expected_close(p, "',' or ']' in the index", t);
            advance(p);
            ix->kids = idx.v;
            ix->nkids = idx.n;
            n = finish(p, ix);
        } else if (is_punct(t, ".")) {
            enter(p, t);
            advance(p);
            Token *id = expect_ident(p, "a name after '.'");
            Node *m = arena_alloc(p->a, sizeof *m);
            m->kind = ND_MEMBER;
            m->lhs = n;
            m->loc = n->loc;
            set_name(m, id);
            n = finish(p, m);
        } else {
            break;
        }
    }
    p->depth = depth;
    return n;
}

static Node *unary(Parser *p);

/* power = postfix [ "**" unary ] ;   (right-associative through unary) */
static Node *power(Parser *p) {
    Node *n = postfix(p);
    Token *t = peek(p);
    if (is_punct(t, "**")) {
        enter(p, t);
        advance(p);
        n = binary(p, OP_POW_, t, n, unary(p));
        leave(p);
    }
    return n;
}

/* unary = "-" unary | power ; */
static Node *unary(Parser *p) {
    Token *t = peek(p);
    if (is_punct(t, "-")) {
        enter(p, t);
        advance(p);
        Node *n = new_node(p, ND_UNARY, t);
        n->op = '-';
        n->lhs = unary(p);
        leave(p);
        return finish(p, n);
    }
    return power(p);
}

/* prod = unary { ( "*" | "/" | "//" | "%" | "@" ) unary } ; */
static Node *prod(Parser *p) {
    int depth = p->depth;
    Node *n = unary(p);
    for (;;) {
        Token *t = peek(p);
        int op = is_punct(t, "*") ? OP_MUL_ : is_punct(t, "/") ? OP_DIV_ : is_punct(t, "//") ? OP_FLOORDIV_
                                          : is_punct(t, "%") ? OP_MOD_
                                          : is_punct(t, "@") ? OP_MATMUL_ : 0;
        if (!op)
            break;
        enter(p, t);
        advance(p);
        n = binary(p, op, t, n, unary(p));
    }
    p->depth = depth;
    return n;
}

/* sum = prod { ( "+" | "-" ) prod } ; */
static Node *sum(Parser *p) {
    int depth = p->depth;
    Node *n = prod(p);
    for (;;) {
        Token *t = peek(p);
        int op = is_punct(t, "+") ? OP_ADD_ : is_punct(t, "-") ? OP_SUB_ : 0;
        if (!op)
            break;
        enter(p, t);
        advance(p);
        n = binary(p, op, t, n, prod(p));
    }
    p->depth = depth;
    return n;
}

static int cmp_op(const Token *t) {
    return is_punct(t, "==") ? OP_EQ_ : is_punct(t, "!=") ? OP_NE_ : is_punct(t, "<") ? OP_LT_
         : is_punct(t, "<=") ? OP_LE_ : is_punct(t, ">") ? OP_GT_ : is_punct(t, ">=") ? OP_GE_ : 0;
}

/* cmp = sum [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) sum ] ;   (not chained) */
static Node *cmp(Parser *p) {
    Node *n = sum(p);
    Token *t = peek(p);
    int op = cmp_op(t);
    if (!op)
        return n;
    advance(p);
    n = binary(p, op, t, n, sum(p));
    Token *u = peek(p);
    if (cmp_op(u)) {
        int idx = (int)(u - p->toks);
        if (idx != p->last_error_pos) {
            p->last_error_pos = idx;
            report(p, u->loc, "comparisons cannot be chained");
            diag_hint(p->d, "write (a < b) and (b < c)");
        }
        bail(p);
    }
    return n;
}

/* notexpr = "not" notexpr | cmp ; */
static Node *notexpr(Parser *p) {
    Token *t = peek(p);
    if (is_kw(t, "not")) {
        enter(p, t);
        advance(p);
        Node *n = new_node(p, ND_UNARY, t);
        n->op = 'n';
        n->lhs = notexpr(p);
        leave(p);
        return finish(p, n);
    }
    return cmp(p);
}

/* andexpr = notexpr { "and" notexpr } ; */
static Node *andexpr(Parser *p) {
    int depth = p->depth;
    Node *n = notexpr(p);
    while (is_kw(peek(p), "and")) {
        Token *t = peek(p);
        enter(p, t);
        advance(p);
        n = binary(p, OP_AND_, t, n, notexpr(p));
    }
    p->depth = depth;
    return n;
}

/* orexpr = andexpr { "or" andexpr } ; */
static Node *orexpr(Parser *p) {
    int depth = p->depth;
    Node *n = andexpr(p);
    while (is_kw(peek(p), "or")) {
        Token *t = peek(p);
        enter(p, t);
        advance(p);
        n = binary(p, OP_OR_, t, n, andexpr(p));
    }
    p->depth = depth;
    return n;
}

/* expr = orexpr ; */
static Node *expr(Parser *p) { return orexpr(p); }

/* ---- statements ---- */

static Node *stmt(Parser *p);

/* block = "{" { NL | stmt } "}" ;   fills n->kids */
static void block(Parser *p, Node *n, ParseFn item) {
    Token *open = peek(p);
    if (!is_punct(open, "{"))
        expected(p, "'{'");
    enter(p, open);
    advance(p);
    NodeList kids = {0};
    for (;;) {
        skip_newlines(p);
        Token *t = peek(p);
        if (is_punct(t, "}") || t->kind == TK_EOF)
            break;
        list_push(p, &kids, parse_or_skip(p, item));
    }
    close_bracket(p, "}", open);
    leave(p);
    n->kids = kids.v;
    n->nkids = kids.n;
}

/* "param" IDENT ":" type "=" expr NL   (and "state"; with_init = false:)
 * "input" IDENT ":" type NL              (and "target") */
static Node *typed_decl(Parser *p, NodeKind kind, bool with_init) {
    Token *kw = advance(p);
    Node *n = new_node(p, kind, kw);
    /* `state = ...`: a binding named like the keyword (a recurrent network's "state") */
    if (is_punct(peek(p), "="))
        fail(p, kw, "choose another name for the binding (h, hidden, last_state)",
             "'%s' is a reserved word: it declares %s (%s NAME: type%s), so it cannot be bound with '='",
             kw->text, kind == ND_PARAM ? "a parameter" : kind == ND_STATE ? "a tensor kept between steps" :
             kind == ND_INPUT ? "an input" : "a target", kw->text, with_init ? " = init" : "");
    set_name(n, expect_ident(p, arena_printf(p->a, "a name after '%s'", kw->text)));
    expect_punct(p, ":");
    n->tyexpr = type(p);
    if (with_init) {
        expect_punct(p, "=");
        n->lhs = expr(p);
    }
    finish(p, n);
    end_stmt(p);
    return n;
}

static Node *stmt(Parser *p);

/* ifstmt = "if" expr block [ "else" ( ifstmt | block ) ] ; */
static Node *if_stmt(Parser *p) {
    Token *t = advance(p);
    Node *n = new_node(p, ND_IF, t);
    enter(p, t);
    n->lhs = expr(p);
    block(p, n, stmt);
    Token *e = peek(p);
    if (is_kw(e, "else")) {
        advance(p);
        if (is_kw(peek(p), "if")) {
            n->body = if_stmt(p);
        } else {
            Node *el = new_node(p, ND_IF, e);
            block(p, el, stmt);
            n->body = finish(p, el);
        }
    }
    leave(p);
    return finish(p, n);
}

/* results = expr { "," expr } | "(" expr "," expr { "," expr } ")" ;
 * Several: an ND_TUPLE, the results of a body (a return, or the body's last expression)
 * [fn.results]. */
static Node *results(Parser *p) {
    Token *t = peek(p);
    p->tuple_at = is_punct(t, "(") ? p->pos : -1;
    p->tuple_made = NULL;
    Node *e = expr(p);
    Node *made = p->tuple_made;
    p->tuple_at = -1;
    p->tuple_made = NULL;
    if (made && made != e)
        fail(p, t, "several results are the whole of a 'return' or of a body's last expression: return a, b",
             "a tuple of results cannot be an operand");
    if (!is_punct(peek(p), ",") || made)
        return e;
    Node *tu = new_node(p, ND_TUPLE, t);
    NodeList el = {0};
    list_push(p, &el, e);
    while (is_punct(peek(p), ",")) {
        advance(p);
        list_push(p, &el, expr(p));
    }
    tu->kids = el.v;
    tu->nkids = el.n;
    finish(p, tu);
    if (is_punct(peek(p), "="))     /* x[0], y = ... */
        fail(p, peek(p), "a statement binds several names from a call of several results, one name each (no "
                         "nested tuple, no index): a, b, c = f(x)",
             "only names can be bound, found an expression before '='");
    return tu;
}

/* IDENT "," IDENT { "," IDENT } "=" ... or the names in parentheses: a destructuring binding. */
static int starts_unpack(Parser *p) {
    int i = p->pos, n = 0;
    bool paren = is_punct(&p->toks[i], "(");
    if (paren)
        i++;
    for (;;) {
        if (i >= p->ntoks || p->toks[i].kind != TK_IDENT)
            return 0;
        i++;
        n++;
        if (i >= p->ntoks || !is_punct(&p->toks[i], ","))
            break;
        i++;
    }
    if (paren) {
        if (i >= p->ntoks || !is_punct(&p->toks[i], ")"))
            return 0;
        i++;
    }
    return n >= 2 && i < p->ntoks && is_punct(&p->toks[i], "=");
}

/* unpack = names "=" expr NL ;  names = IDENT "," IDENT { "," IDENT } | "(" ... ")" */
static Node *unpack(Parser *p) {
    Token *t = peek(p);
    Node *n = new_node(p, ND_UNPACK, t);
    if (is_punct(t, "(")) {
        advance(p);
        n->ival = 1;
    }
    NodeList names = {0};
    for (;;) {
        Token *id = advance(p);
        Node *k = new_node(p, ND_IDENT, id);
        set_name(k, id);
        list_push(p, &names, k);
        if (!is_punct(peek(p), ","))
            break;
        advance(p);
    }
    if (n->ival)
        advance(p);     /* ')' */
    n->name_loc = span(t->loc, prev_tok(p)->loc);
    advance(p);         /* '=' */
    n->kids = names.v;
    n->nkids = names.n;
    n->lhs = expr(p);
    finish(p, n);
    end_stmt(p);
    return n;
}

/* stmt = "param" IDENT ":" type "=" expr NL
 *      | "state" IDENT ":" type "=" expr NL
 *      | IDENT "=" expr NL
 *      | unpack
 *      | "for" IDENT "in" expr ".." expr block
 *      | ifstmt
 *      | "return" results NL
 *      | results NL ; */
static Node *stmt(Parser *p) {
    Token *t = peek(p);
    Node *n;
    if (is_kw(t, "param"))
        return typed_decl(p, ND_PARAM, true);
    if (is_kw(t, "state"))
        return typed_decl(p, ND_STATE, true);
    if (is_kw(t, "for")) {
        advance(p);
        n = new_node(p, ND_FOR, t);
        set_name(n, expect_ident(p, "a loop variable after 'for'"));
        expect_kw(p, "in");
        n->lhs = expr(p);
        if (!is_punct(peek(p), "..") && n->lhs->kind == ND_CALL && n->lhs->lhs->kind == ND_IDENT &&
            strcmp(n->lhs->lhs->name, "range") == 0)
            fail(p, peek(p), "a loop runs over a range written a .. b: for i in 0 .. 3 { ... }",
                 "expected '..', found %s", describe(p, peek(p)));
        expect_punct(p, "..");
        n->rhs = expr(p);
        block(p, n, stmt);
        return finish(p, n);
    }
    if (is_kw(t, "if"))
        return if_stmt(p);
    if (is_kw(t, "return")) {
        advance(p);
        n = new_node(p, ND_RETURN, t);
        n->lhs = results(p);
        finish(p, n);
        end_stmt(p);
        return n;
    }
    if (starts_unpack(p))
        return unpack(p);
    if (t->kind == TK_IDENT && is_punct(peek_at(p, 1), "=")) {
        advance(p);
        advance(p);
        n = new_node(p, ND_BIND, t);
        set_name(n, t);
        n->lhs = expr(p);
        finish(p, n);
        end_stmt(p);
        return n;
    }
    if (is_kw(t, "else"))
        fail(p, t, "write '} else {' on one line: a newline after '}' ends the 'if'",
             "'else' without an 'if' before it on the same line");
    if (t->kind == TK_KEYWORD && !is_kw(t, "not") && !is_kw(t, "true") && !is_kw(t, "false"))
        expected(p, "a statement");
    n = new_node(p, ND_EXPR, t);
    n->lhs = results(p);
    n->name_loc = n->lhs->loc;
    finish(p, n);
    /* `inptu x: f32[B]` reads as the expression `inptu` followed by junk: name the keyword */
    Token *u = peek(p);
    if (n->lhs->kind == ND_IDENT && u->kind != TK_NEWLINE && !is_punct(u, "}") && u->kind != TK_EOF && !is_punct(u, ","))
        fail(p, u, typo_hint(p, t, stmt_words, NWORDS(stmt_words)),
             "expected a newline or ';' after the statement, found %s", describe(p, u));
    end_stmt(p);
    return n;
}

/* paths = path | "[" path { "," path } "]" ;
 * path  = IDENT { "." IDENT } ; */
static Node *path(Parser *p) {
    int depth = p->depth;
    Token *t = expect_ident(p, "a parameter path");
    Node *n = new_node(p, ND_IDENT, t);
    n->name = t->text;
    while (is_punct(peek(p), ".")) {
        enter(p, peek(p));
        advance(p);
        Token *id = expect_ident(p, "a name after '.'");
        Node *m = arena_alloc(p->a, sizeof *m);
        m->kind = ND_MEMBER;
        m->lhs = n;
        m->loc = n->loc;
        set_name(m, id);
        n = finish(p, m);
    }
    p->depth = depth;
    return n;
}

static Node *int_value(Parser *p, const char *what) {
    Token *t = peek(p);
    if (t->kind != TK_INT)
        expected(p, arena_printf(p->a, "an integer after '%s'", what));
    advance(p);
    Node *v = new_node(p, ND_INT, t);
    v->ival = t->ival;
    return v;
}

/* titem = "data" expr | "optimizer" expr | "batch" INT | "epochs" INT
 *       | "metrics" IDENT { "," IDENT } | "validation" expr
 *       | "step" IDENT ":" "minimize" IDENT [ "over" paths ] "with" expr ; */
static Node *titem(Parser *p) {
    Token *t = peek(p);
    NodeList kids = {0};
    Node *n;
    if (is_kw(t, "step")) {
        advance(p);
        n = new_node(p, ND_STEP, t);
        set_name(n, expect_ident(p, "a step name after 'step'"));
        expect_punct(p, ":");
        expect_kw(p, "minimize");
        /* `loss` is a keyword but also the name of an unnamed loss */
        Token *l = is_kw(peek(p), "loss") ? advance(p) : expect_ident(p, "the name of a loss after 'minimize'");
        n->lhs = new_node(p, ND_IDENT, l);
        n->lhs->name = l->text;
        if (is_kw(peek(p), "over")) {
            advance(p);
            Token *open = peek(p);
            if (is_punct(open, "[")) {
                advance(p);
                for (;;) {
                    list_push(p, &kids, path(p));
                    if (!is_punct(peek(p), ","))
                        break;
                    advance(p);
                }
                close_bracket(p, "]", open);
            } else {
                list_push(p, &kids, path(p));
            }
        }
        if (!is_kw(peek(p), "with"))
            expected(p, kids.n ? "'with'" : "'over' or 'with'");
        advance(p);
        n->rhs = expr(p);
        n->kids = kids.v;
        n->nkids = kids.n;
        return finish(p, n);
    }
    if (t->kind != TK_KEYWORD)
        fail(p, t, train_alias_hint(p, t),
             "expected a train item (data, optimizer, batch, epochs, metrics, validation or step), found %s",
             describe(p, t));
    n = new_node(p, ND_TRAIN_ITEM, t);
    set_name(n, t);
    if (is_kw(t, "data") || is_kw(t, "optimizer") || is_kw(t, "validation")) {
        advance(p);
        list_push(p, &kids, expr(p));
    } else if (is_kw(t, "batch") || is_kw(t, "epochs")) {
        advance(p);
        list_push(p, &kids, int_value(p, t->text));
    } else if (is_kw(t, "metrics")) {
        advance(p);
        for (;;) {
            Token *id = expect_ident(p, "a metric name (accuracy, mse or mae)");
            Node *m = new_node(p, ND_IDENT, id);
            m->name = id->text;
            list_push(p, &kids, m);
            if (!is_punct(peek(p), ","))
                break;
            advance(p);
        }
    } else {
        expected(p, "a train item (data, optimizer, batch, epochs, metrics, validation or step)");
    }
    n->kids = kids.v;
    n->nkids = kids.n;
    return finish(p, n);
}

/* mstmt = "input"  IDENT ":" type NL
 *       | "target" IDENT ":" type NL
 *       | "output" IDENT [ "=" expr ] NL
 *       | "loss" [ IDENT "=" ] expr NL
 *       | "train" "{" { NL | titem } "}"
 *       | stmt ; */
static Node *mstmt(Parser *p) {
    Token *t = peek(p);
    Node *n;
    if (is_kw(t, "input"))
        return typed_decl(p, ND_INPUT, false);
    if (is_kw(t, "target"))
        return typed_decl(p, ND_TARGET, false);
    if (is_kw(t, "output")) {
        advance(p);
        n = new_node(p, ND_OUTPUT, t);
        set_name(n, expect_ident(p, "a name after 'output'"));
        if (is_punct(peek(p), "=")) {
            advance(p);
            n->lhs = expr(p);
        }
        finish(p, n);
        end_stmt(p);
        return n;
    }
    if (is_kw(t, "loss")) {
        advance(p);
        n = new_node(p, ND_LOSS, t);
        n->name = "loss";
        if (peek(p)->kind == TK_IDENT && is_punct(peek_at(p, 1), "=")) {
            set_name(n, advance(p));
            advance(p);
        } else if (is_punct(peek(p), "=")) {
            /* loss = mse(p, y): a Python assignment to a variable named loss */
            fail(p, peek(p), "write 'loss mse(p, y)' for the model's loss, or 'loss NAME = ...' to name it",
                 "expected an expression, found '='");
        }
        n->lhs = expr(p);
        finish(p, n);
        end_stmt(p);
        return n;
    }
    if (is_kw(t, "train")) {
        advance(p);
        n = new_node(p, ND_TRAIN, t);
        block(p, n, titem);
        return finish(p, n);
    }
    return stmt(p);
}

/* ---- declarations ---- */

/* formals = formal { "," formal } [ "," ] ;
 * formal  = IDENT [ ":" ftype ] [ "=" expr ] ; */
static void formals(Parser *p, Node *fn) {
    Token *open = expect_punct(p, "(");
    NodeList v = {0};
    while (!is_punct(peek(p), ")")) {
        Token *t = expect_ident(p, "a formal parameter name");
        Node *f = new_node(p, ND_FORMAL, t);
        set_name(f, t);
        if (is_punct(peek(p), ":")) {
            advance(p);
            f->tyexpr = ftype(p);
        }
        if (is_punct(peek(p), "=")) {
            advance(p);
            f->lhs = expr(p);
        }
        list_push(p, &v, finish(p, f));
        if (!is_punct(peek(p), ","))
            break;
        advance(p);
    }
    if (!is_punct(peek(p), ")"))
        expected_close(p, "',' or ')' in the formal parameters", open);
    advance(p);
    fn->formals = v.v;
    fn->nformals = v.n;
}

/* rtype = type | "(" type "," type { "," type } ")" ;   several results [fn.results] */
static TypeExpr *rtype(Parser *p) {
    Token *open = peek(p);
    if (!is_punct(open, "("))
        return type(p);
    advance(p);
    TypeExpr *ty = arena_alloc(p->a, sizeof *ty);
    ty->kind = TE_TUPLE;
    int cap = 0;
    for (;;) {
        *ARENA_PUSH(p->a, ty->elems, ty->nelems, cap) = type(p);
        if (!is_punct(peek(p), ","))
            break;
        advance(p);
    }
    if (!is_punct(peek(p), ")"))
        expected_close(p, "',' or ')' in the result types", open);
    advance(p);
    if (ty->nelems < 2)
        fail(p, open, arena_printf(p->a, "one result type is written without parentheses: -> %s",
                                   arena_strndup(p->a, open->loc.file->text + ty->elems[0]->loc.off,
                                                 (size_t)ty->elems[0]->loc.len)),
             "parentheses around the result type make a list of several results, and this one has one");
    ty->loc = span(open->loc, prev_tok(p)->loc);
    return ty;
}

/* fn        = "fn"        IDENT "(" [ formals ] ")" [ "->" rtype ] block ;
 * layer     = "layer"     IDENT "(" [ formals ] ")" [ "->" rtype ] block ;
 * optimizer = "optimizer" IDENT "(" [ formals ] ")" block ; */
static Node *function(Parser *p, NodeKind kind) {
    Token *kw = advance(p);
    Node *n = new_node(p, kind, kw);
    set_name(n, expect_ident(p, arena_printf(p->a, "a name after '%s'", kw->text)));
    formals(p, n);
    if (kind != ND_OPTIMIZER && is_punct(peek(p), "->")) {
        advance(p);
        n->tyexpr = rtype(p);
    }
    block(p, n, stmt);
    return finish(p, n);
}

/* decl  = use | fn | layer | optimizer | model ;
 * use   = "use" IDENT { "." IDENT } NL ;
 * model = "model" IDENT "{" { NL | mstmt } "}" ; */
static Node *decl(Parser *p) {
    Token *t = peek(p);
    if (is_kw(t, "use")) {
        advance(p);
        Node *n = new_node(p, ND_USE, t);
        Token *first = expect_ident(p, "a module name after 'use'");
        char *name = (char *)first->text;
        while (is_punct(peek(p), ".")) {
            advance(p);
            name = arena_printf(p->a, "%s.%s", name, expect_ident(p, "a module name after '.'")->text);
        }
        n->name = name;
        n->name_loc = span(first->loc, prev_tok(p)->loc);
        finish(p, n);
        end_stmt(p);
        return n;
    }
    if (is_kw(t, "fn"))
        return function(p, ND_FN);
    if (is_kw(t, "layer"))
        return function(p, ND_LAYER);
    if (is_kw(t, "optimizer"))
        return function(p, ND_OPTIMIZER);
    if (is_kw(t, "model")) {
        advance(p);
        Node *n = new_node(p, ND_MODEL, t);
        set_name(n, expect_ident(p, "a name after 'model'"));
        block(p, n, mstmt);
        return finish(p, n);
    }
    const char *hint = typo_hint(p, t, decl_words, NWORDS(decl_words));
    /* Python's words for them */
    if (t->kind == TK_IDENT && !strcmp(t->text, "def"))
        hint = "a function is written fn NAME(x) { ... } (a layer, which owns parameters, layer NAME(x) { ... })";
    else if (t->kind == TK_IDENT && !strcmp(t->text, "class"))
        hint = "a network is a layer (layer NAME(x) { ... }, its params inside) or a model (model NAME { ... })";
    else if (t->kind == TK_IDENT && (!strcmp(t->text, "import") || !strcmp(t->text, "from")))
        hint = "the standard library is loaded with `use nn` (its optimizers: `use optim`)";
    fail(p, t, hint, "expected a declaration (use, fn, layer, optimizer or model), found %s", describe(p, t));
}

/* program = { NL | decl } EOF ; */
static Node *program(Parser *p, const SrcFile *f) {
    Node *prog = arena_alloc(p->a, sizeof *prog);
    prog->kind = ND_PROGRAM;
    prog->loc = (Loc){.file = f, .line = 1, .col = 1, .off = 0, .len = (int)f->len};
    prog->name_loc = prog->loc;
    NodeList decls = {0};
    for (;;) {
        skip_newlines(p);
        if (peek(p)->kind == TK_EOF)
            break;
        jmp_buf jb;
        int start = p->pos;
        Node *volatile n = NULL;
        p->recover = &jb;
        p->depth = 0;
        p->stmt_start = start;
        if (setjmp(jb) == 0)
            n = decl(p);
        else
            sync_decl(p, start);
        list_push(p, &decls, n);
    }
    p->recover = NULL;
    prog->kids = decls.v;
    prog->nkids = decls.n;
    return prog;
}

Node *parse_file(Arena *a, Diag *d, const SrcFile *f) {
    Parser p = {.a = a, .d = d, .last_error_pos = -1, .tuple_at = -1};
    LexResult lx;
    lex_tokens(a, d, f, 1, &lx);
    p.toks = lx.toks;
    p.ntoks = lx.ntoks;
    p.lexmsgs = lx.msgs;
    p.nlexmsgs = lx.nmsgs;
    /* When the lexer gave up on the file, what it returned is a fragment: parsing it would only add
     * errors about its abrupt end. */
    if (p.toks[p.ntoks - 1].ival) {
        flush_lex(&p, INT_MAX);
        Node *prog = arena_alloc(a, sizeof *prog);
        prog->kind = ND_PROGRAM;
        prog->loc = (Loc){.file = f, .line = 1, .col = 1};
        prog->name_loc = prog->loc;
        return prog;
    }
    Node *prog = program(&p, f);
    flush_lex(&p, INT_MAX);
    return prog;
}
