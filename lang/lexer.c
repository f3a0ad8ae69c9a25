/* lexer.c - source text to tokens (docs/language.md section 1, "Lexical structure").
 *
 * One pass over the bytes, producing the whole token array at once: the parser wants to look two
 * tokens ahead (`h = ...` vs an expression statement) and that is simplest on an array.
 *
 * Newlines are tokens because they end statements, but not inside ( ) or [ ]: the lexer keeps a
 * stack of open brackets and drops a newline whose innermost open bracket is ( or [. Repeated
 * newlines collapse into one; `;` is a newline token too (spelled ";").
 *
 * `data batch epochs metrics validation step` are keywords only directly inside `train { }`
 * [lex.keyword]: the bracket stack marks the brace that follows the keyword `train`.
 *
 * Any input must give diagnostics, never a crash or a hang: bad bytes are reported once per run,
 * every loop advances, number literals are scanned in linear time however long they are, and the
 * lexer gives up on a file after LEX_MAX_ERRORS errors.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"
#include "lexer.h"
#include "utf8.h"

/* An implementation limit that keeps memory bounded (a token takes 56 bytes) whatever the input;
 * real models are a few thousand tokens. */
#define MAX_TOKENS 1000000
#define LEX_MAX_ERRORS 20
#define STR_(x) #x
#define STR(x) STR_(x)

/* Reserved everywhere. */
static const char *const keywords[] = {
    "use",   "fn",     "layer",  "optimizer", "model",  "param", "state", "input", "target",
    "output", "loss",  "train",  "minimize",  "over",   "with",  "for",   "in",    "return",
    "true",  "false",  "and",    "or",        "not",    "if",    "else",
};
/* Keywords only directly inside `train { }`; identifiers elsewhere (`step` is an optimizer builtin). */
static const char *const train_keywords[] = {
    "data", "batch", "epochs", "metrics", "validation", "step",
};

#define NELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Multi-byte punctuators first: the longest match wins. */
static const char *const puncts[] = {
    "**", "//", "==", "!=", "<=", ">=", "->", "..",
    "+", "-", "*", "/", "%", "@", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ":", ".",
};

typedef struct Lexer {
    Arena *a;
    Diag *d;
    const SrcFile *f;
    const unsigned char *s;
    size_t len, pos;
    int line;
    size_t line_start;
    int nerrors;
    int keep;               /* keep messages in msgs instead of printing them */
    LexMsg *msgs;
    int nmsgs, capmsgs;

    Token *toks;
    int ntoks, captoks;

    char *brackets;         /* open brackets: ( [ { and T (the brace of train { }) */
    int nbrackets, capbrackets;
} Lexer;

static Loc loc_at(Lexer *L, size_t start, size_t end) {
    Loc l = {0};
    l.file = L->f;
    l.line = L->line;
    l.col = (int)(start - L->line_start) + 1;
    l.off = (int)start;
    l.len = (int)(end - start);
    return l;
}

static int gave_up(Lexer *L) { return L->nerrors >= LEX_MAX_ERRORS; }

void lex_report(Diag *d, const LexMsg *m) {
    if (m->error)
        diag_error(d, m->loc, "%s", m->error);
    if (m->hint)
        diag_hint(d, "%s", m->hint);
    if (m->note)
        diag_note(d, (Loc){0}, "%s", m->note);
}

/* An error at [start, end) with an optional hint: printed now, or kept for the parser. */
static void lex_error_hint(Lexer *L, size_t start, size_t end, const char *hint, const char *msg, const char *arg) {
    L->nerrors++;
    if (L->nerrors > LEX_MAX_ERRORS)
        return;
    LexMsg m = {.loc = loc_at(L, start, end), .error = arena_printf(L->a, msg, arg), .hint = hint};
    if (L->nerrors == LEX_MAX_ERRORS)
        m.note = arena_printf(L->a, "nnc stops reading '%s' here", L->f->name);
    if (L->keep)
        *ARENA_PUSH(L->a, L->msgs, L->nmsgs, L->capmsgs) = m;
    else
        lex_report(L->d, &m);
}

static void lex_error(Lexer *L, size_t start, size_t end, const char *msg, const char *arg) {
    lex_error_hint(L, start, end, NULL, msg, arg);
}

static Token *push_token(Lexer *L, TokenKind kind, size_t start, size_t end) {
    if (L->ntoks == MAX_TOKENS && kind != TK_EOF && kind != TK_NEWLINE) {
        L->nerrors = LEX_MAX_ERRORS - 1;
        lex_error(L, start, end, "too many tokens in one file (the limit is %s)", STR(MAX_TOKENS));
    }
    Token *t = ARENA_PUSH(L->a, L->toks, L->ntoks, L->captoks);
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->loc = loc_at(L, start, end);
    return t;
}

static int in_parens(Lexer *L) {
    if (!L->nbrackets)
        return 0;
    char top = L->brackets[L->nbrackets - 1];
    return top == '(' || top == '[';
}

static int in_train(Lexer *L) { return L->nbrackets && L->brackets[L->nbrackets - 1] == 'T'; }

static void newline_token(Lexer *L, size_t start, size_t end, const char *text) {
    if (L->ntoks == 0 || L->toks[L->ntoks - 1].kind == TK_NEWLINE)
        return;     /* collapse repeats; none at the start of a file */
    Token *t = push_token(L, TK_NEWLINE, start, end);
    t->text = text;
}

/* Keep the bracket stack in step with a punctuator just lexed. */
static void track_bracket(Lexer *L, char c) {
    if (c == '(' || c == '[' || c == '{') {
        char kind = c;
        if (c == '{' && L->ntoks >= 2) {
            const Token *prev = &L->toks[L->ntoks - 2];
            if (prev->kind == TK_KEYWORD && !strcmp(prev->text, "train"))
                kind = 'T';
        }
        /* Braces never occur inside ( ) or [ ]: a { closes any left open, so that one unclosed
         * bracket does not hide the newlines of the rest of the file. */
        if (c == '{')
            while (in_parens(L))
                L->nbrackets--;
        *ARENA_PUSH(L->a, L->brackets, L->nbrackets, L->capbrackets) = kind;
    } else if (c == ')' || c == ']') {
        /* Pop only a match: a stray ) must not close an enclosing { (the parser reports it). */
        char want = c == ')' ? '(' : '[';
        if (L->nbrackets && L->brackets[L->nbrackets - 1] == want)
            L->nbrackets--;
    } else if (c == '}') {
        /* A } closes its { and any ( [ left open inside it. */
        while (L->nbrackets) {
            char top = L->brackets[--L->nbrackets];
            if (top == '{' || top == 'T')
                break;
        }
    }
}

static int is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_ident_char(int c) { return is_ident_start(c) || is_digit(c); }

/* Checks the UTF-8 of a comment or string body byte at L->pos; reports and skips a bad byte.
 * Returns the number of bytes the character takes (>= 1). */
static size_t check_utf8(Lexer *L) {
    unsigned cp;
    int n = utf8_decode(L->s + L->pos, L->len - L->pos, &cp);
    if (n > 0)
        return (size_t)n;
    char buf[8];
    snprintf(buf, sizeof buf, "0x%02X", L->s[L->pos]);
    lex_error(L, L->pos, L->pos + 1, "invalid UTF-8 byte %s", buf);
    return 1;
}

static int is_bad_byte(unsigned c) {
    return c >= 0x80 || c == 0x7F || (c < 0x20 && c != '\n' && c != '\t' && c != '\r');
}

/* A run of bytes that cannot start a token: control characters, non-ASCII (valid or not). One
 * diagnostic for the run, named after its first character. */
static void bad_bytes(Lexer *L) {
    size_t start = L->pos;
    unsigned cp;
    int n = utf8_decode(L->s + L->pos, L->len - L->pos, &cp);
    char buf[32];
    const char *fmt;
    if (L->s[start] >= 0x80 && n > 0) {
        snprintf(buf, sizeof buf, "U+%04X", cp);
        fmt = "non-ASCII character %s outside a string or comment";
    } else if (L->s[start] >= 0x80) {
        snprintf(buf, sizeof buf, "0x%02X", L->s[start]);
        fmt = "invalid UTF-8 byte %s";
    } else {
        snprintf(buf, sizeof buf, "0x%02X", L->s[start]);
        fmt = "invalid character %s";
    }
    while (L->pos < L->len && is_bad_byte(L->s[L->pos]))
        L->pos++;
    lex_error(L, start, L->pos, fmt, buf);
}

static void lex_string(Lexer *L) {
    size_t start = L->pos++;
    char *buf = NULL;
    int nbuf = 0, capbuf = 0;
    for (;;) {
        if (L->pos >= L->len || L->s[L->pos] == '\n') {
            lex_error(L, start, L->pos, "unterminated string literal%s",
                      L->pos >= L->len ? " at end of file" : "");
            break;  /* the token is still produced, so the parser goes on */
        }
        unsigned char c = L->s[L->pos];
        if (c == '"') {
            L->pos++;
            break;
        }
        if (c == '\\') {
            if (L->pos + 1 >= L->len || L->s[L->pos + 1] == '\n') {
                L->pos++;
                continue;   /* the unterminated-string error comes next */
            }
            char e = (char)L->s[L->pos + 1], out;
            switch (e) {
            case '\\': out = '\\'; break;
            case '"': out = '"'; break;
            case 'n': out = '\n'; break;
            case 't': out = '\t'; break;
            default: {
                char esc[8];
                snprintf(esc, sizeof esc, (e >= 0x20 && e < 0x7F) ? "\\%c" : "\\?", e);
                lex_error(L, L->pos, L->pos + 2, "unknown escape sequence '%s' (use \\\\ \\\" \\n or \\t)", esc);
                out = e;
            }
            }
            *ARENA_PUSH(L->a, buf, nbuf, capbuf) = out;
            L->pos += 2;
            continue;
        }
        if (c == 0) {
            /* a string's value is a C string (a file name, a padding mode): a NUL would cut it
             * short, and nnc fmt could not write it back */
            size_t s0 = L->pos;
            while (L->pos < L->len && L->s[L->pos] == 0)
                L->pos++;
            lex_error(L, s0, L->pos, "a NUL byte in a string literal%s", "");
            if (gave_up(L))
                return;
            continue;
        }
        size_t n = c < 0x80 ? 1 : check_utf8(L);
        for (size_t k = 0; k < n; k++)
            *ARENA_PUSH(L->a, buf, nbuf, capbuf) = (char)L->s[L->pos + k];
        L->pos += n;
        if (gave_up(L))
            return;
    }
    Token *t = push_token(L, TK_STRING, start, L->pos);
    t->text = arena_strndup(L->a, buf ? buf : "", (size_t)nbuf);
}

/* INT or FLOAT. Scans digits in linear time whatever their count; an integer that overflows is
 * reported once, after the whole literal has been consumed. */
static void lex_number(Lexer *L) {
    size_t start = L->pos;
    int is_real = 0, overflow = 0;
    uint64_t v = 0;
    while (L->pos < L->len && is_digit(L->s[L->pos])) {
        unsigned dgt = L->s[L->pos] - '0';
        if (!overflow) {
            if (v > ((uint64_t)INT64_MAX - dgt) / 10)
                overflow = 1;
            else
                v = v * 10 + dgt;
        }
        L->pos++;
    }
    if (L->pos + 1 < L->len && L->s[L->pos] == '.' && is_digit(L->s[L->pos + 1])) {
        is_real = 1;
        L->pos++;
        while (L->pos < L->len && is_digit(L->s[L->pos]))
            L->pos++;
    } else if (L->pos < L->len && L->s[L->pos] == '.' && L->pos > start &&
               !(L->pos + 1 < L->len && (L->s[L->pos + 1] == '.' || is_ident_start(L->s[L->pos + 1])))) {
        lex_error(L, start, L->pos + 1, "expected a digit after '.' in the real literal '%s'",
                  arena_strndup(L->a, (const char *)L->s + start, L->pos + 1 - start > 40 ? 40 : L->pos + 1 - start));
        L->pos++;
        is_real = 1;
    }
    if (L->pos < L->len && (L->s[L->pos] == 'e' || L->s[L->pos] == 'E')) {
        size_t p = L->pos + 1;
        if (p < L->len && (L->s[p] == '+' || L->s[p] == '-'))
            p++;
        if (p < L->len && is_digit(L->s[p])) {
            is_real = 1;
            L->pos = p;
            while (L->pos < L->len && is_digit(L->s[L->pos]))
                L->pos++;
        }
    }
    if (L->pos < L->len && is_ident_char(L->s[L->pos])) {
        size_t sfx = L->pos;
        while (L->pos < L->len && is_ident_char(L->s[L->pos]))
            L->pos++;
        size_t n = L->pos - sfx > 40 ? 40 : L->pos - sfx;
        lex_error(L, sfx, L->pos, "invalid suffix '%s' on a number literal",
                  arena_strndup(L->a, (const char *)L->s + sfx, n));
    }
    size_t end = L->pos;
    Token *t = push_token(L, is_real ? TK_FLOAT : TK_INT, start, end);
    t->text = arena_strndup(L->a, (const char *)L->s + start, end - start);
    if (is_real) {
        /* Only the digits strtod needs are handed to it, so a huge literal stays linear. */
        t->fval = strtod(t->text, NULL);
        if (!isfinite(t->fval)) {
            lex_error(L, start, end, "real literal out of range: %s",
                      end - start > 40 ? "it does not fit in f64" : t->text);
            t->fval = 0;
        }
    } else if (overflow) {
        lex_error(L, start, end, "integer literal too large (the largest is %s)", "9223372036854775807");
        t->ival = 0;
    } else {
        t->ival = (int64_t)v;
    }
}

static void lex_word(Lexer *L) {
    size_t start = L->pos;
    while (L->pos < L->len && is_ident_char(L->s[L->pos]))
        L->pos++;
    const char *w = (const char *)L->s + start;
    size_t n = L->pos - start;
    const char *kw = NULL;
    for (int i = 0; i < NELEMS(keywords) && !kw; i++)
        if (strlen(keywords[i]) == n && !memcmp(w, keywords[i], n))
            kw = keywords[i];
    for (int i = 0; i < NELEMS(train_keywords) && !kw && in_train(L); i++)
        if (strlen(train_keywords[i]) == n && !memcmp(w, train_keywords[i], n))
            kw = train_keywords[i];
    Token *t = push_token(L, kw ? TK_KEYWORD : TK_IDENT, start, L->pos);
    t->text = kw ? kw : arena_strndup(L->a, w, n);
}

static void lex_punct(Lexer *L) {
    size_t start = L->pos;
    for (int i = 0; i < NELEMS(puncts); i++) {
        size_t n = strlen(puncts[i]);
        if (L->len - L->pos >= n && !memcmp(L->s + L->pos, puncts[i], n)) {
            L->pos += n;
            push_token(L, TK_PUNCT, start, L->pos)->text = puncts[i];
            if (n == 1)
                track_bracket(L, puncts[i][0]);
            return;
        }
    }
    unsigned char c = L->s[L->pos];
    char buf[4] = {(char)c, 0};
    size_t end = L->pos + 1;
    if ((c == '&' || c == '|') && end < L->len && L->s[end] == c)
        end++;
    const char *hint = c == '!' || c == '&' || c == '|' ? "the logical operators are 'not', 'and' and 'or'"
                     : c == '\'' ? "strings are written in double quotes: \"...\"" : NULL;
    lex_error_hint(L, start, end, hint, "unexpected character '%s'", buf);
    L->pos = end;
}

void lex_tokens(Arena *a, Diag *d, const SrcFile *f, int keep, LexResult *r) {
    Lexer L = {.a = a, .d = d, .f = f, .s = (const unsigned char *)f->text, .len = f->len, .line = 1,
               .keep = keep};
    if (f->len > INT_MAX) {
        diag_plain(d, "'%s' is too large to compile", f->name);
        L.pos = L.len;
    }
    /* A UTF-8 byte order mark (some editors write one) is not part of the program. */
    if (L.len >= 3 && !memcmp(L.s, "\xEF\xBB\xBF", 3))
        L.pos = L.line_start = 3;
    while (L.pos < L.len && !gave_up(&L)) {
        unsigned char c = L.s[L.pos];
        if (c == '\n') {
            if (!in_parens(&L))
                newline_token(&L, L.pos, L.pos + 1, "\n");
            L.pos++;
            L.line++;
            L.line_start = L.pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            L.pos++;
        } else if (c == '#') {
            /* a comment is any UTF-8 text but NUL: a NUL byte means a binary or damaged file, and
             * tools that keep comments (nnc fmt) could not write it back */
            while (L.pos < L.len && L.s[L.pos] != '\n' && !gave_up(&L)) {
                if (L.s[L.pos] == 0) {
                    size_t s0 = L.pos;
                    while (L.pos < L.len && L.s[L.pos] == 0)
                        L.pos++;
                    lex_error(&L, s0, L.pos, "a NUL byte in a comment%s", "");
                } else {
                    L.pos += L.s[L.pos] < 0x80 ? 1 : check_utf8(&L);
                }
            }
        } else if (c == ';') {
            newline_token(&L, L.pos, L.pos + 1, ";");
            L.pos++;
        } else if (c == '"') {
            lex_string(&L);
        } else if (is_digit(c) || (c == '.' && L.pos + 1 < L.len && is_digit(L.s[L.pos + 1]) &&
                                   !(L.pos > 0 && L.s[L.pos - 1] == '.'))) {
            lex_number(&L);
        } else if (is_ident_start(c)) {
            lex_word(&L);
        } else if (is_bad_byte(c)) {
            bad_bytes(&L);
        } else {
            lex_punct(&L);
        }
    }
    /* A file that does not end in a newline still ends its last statement. */
    newline_token(&L, L.pos, L.pos, "\n");
    /* The end of a file that ends in a newline is shown at the end of its last line. */
    size_t end = L.pos;
    if (end > 0 && end == L.len && L.s[end - 1] == '\n' && L.line > 1) {
        end--;
        L.line--;
        L.line_start = end;
        while (L.line_start > 0 && L.s[L.line_start - 1] != '\n')
            L.line_start--;
    }
    Token *eof = push_token(&L, TK_EOF, end, end);
    eof->text = "";
    eof->ival = gave_up(&L);
    r->toks = L.toks;
    r->ntoks = L.ntoks;
    r->msgs = L.msgs;
    r->nmsgs = L.nmsgs;
}

Token *lex_file(Arena *a, Diag *d, const SrcFile *f, int *ntok) {
    LexResult r;
    lex_tokens(a, d, f, 0, &r);
    *ntok = r.ntoks;
    return r.toks;
}
