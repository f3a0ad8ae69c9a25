/* fmt.c - `nnc fmt`: one canonical layout for .nn sources (docs/nnc.md, "nnc fmt").
 *
 * Token based, not an AST printer: the file is lexed by the compiler's own lexer (so a word is a
 * keyword exactly when the compiler thinks so), the comments and line breaks are read from the
 * gaps between the tokens, and every token is written back with canonical spacing. The user's
 * line breaks are kept (a statement ends at a newline, so they are part of the program's shape);
 * what is canonical:
 *   - indentation: 2 spaces per open { }; a line continued inside ( or [ lines up after the
 *     bracket, or is indented 4 more than the line that opened it when the bracket ends its line;
 *   - spacing inside a line: one space around binary operators, `=` and `->`, after `,` `:` `;`,
 *     none inside brackets, before a call's or an index's bracket, around `.`, after a unary `-`,
 *     around a slice's `:`; two spaces between train items sharing a line (`batch 8  epochs 5`);
 *   - alignment, in a run of consecutive lines at the same depth: the `=` of bindings
 *     (`code   = dense(...)`), the word after input/target/output/loss/param/state, the value
 *     after data/optimizer/validation in a train block, and trailing comments (two spaces after
 *     the longest line of a run of non-blank lines);
 *   - at most one blank line in a row, none at the start or the end; a final newline; no trailing
 *     spaces; comments kept verbatim.
 * Formatting its own output changes nothing. The result is parsed again and its tree compared
 * with the input's (positions aside) before anything is written: a bug here cannot change what a
 * program means, it can only stop nnc fmt with an internal error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ast.h"
#include "diag.h"
#include "fmt.h"
#include "frontend.h"
#include "lexer.h"

#define MAX_FMT_SOURCE (64u << 20)

typedef struct FTok {
    const char *s;
    int len;
    TokenKind kind;
} FTok;

typedef struct FLine {
    FTok *toks;
    int ntoks, cap;
    const char *comment;    /* from '#', trailing blanks removed; NULL when none */
    int clen;
    /* computed */
    int depth;              /* brackets open at the start of the line */
    char inner;             /* innermost of them: 0, '{', 'T' (train's brace), '(' or '[' */
    char kind;              /* 'b' binding, 'k' declaration keyword, 't' train source item, 0 */
    int lhs;                /* 'b': tokens before the `=` (several in `mu, logvar = f(x)`) */
    int lhsw;               /* 'b': their width as written out (`mu, logvar`: 10) */
    int pad;                /* width the first token (a binding's names) is padded to (alignment) */
    int pad2;               /* the second's, in `output name = ...` runs */
    char *code;             /* indentation and tokens, without the comment */
    int codelen;
} FLine;

static int tok_is(const FTok *t, const char *s) {
    return t && (int)strlen(s) == t->len && !memcmp(t->s, s, (size_t)t->len);
}

static int is_open(const FTok *t) { return t->kind == TK_PUNCT && (tok_is(t, "(") || tok_is(t, "[") || tok_is(t, "{")); }
static int is_close(const FTok *t) { return t->kind == TK_PUNCT && (tok_is(t, ")") || tok_is(t, "]") || tok_is(t, "}")); }

static int word_in(const FTok *t, const char *const *list) {
    for (; *list; list++)
        if (tok_is(t, *list))
            return 1;
    return 0;
}

static const char *const decl_kws[] = {"input", "target", "output", "loss", "param", "state", NULL};
static const char *const train_src_kws[] = {"data", "optimizer", "validation", NULL};
static const char *const train_kws[] = {"data", "optimizer", "validation", "batch", "epochs", "metrics", "step", NULL};

/* A destructuring binding's names, `mu, logvar =` or `(mu, _) =` [fn.results]: the number of
 * tokens before the `=` (0: the line is no such binding) and their width written out. */
static int unpack_lhs(const FLine *l, int *width) {
    int k = 0, w = 0;
    int paren = l->ntoks && tok_is(&l->toks[0], "(");
    if (paren)
        w += l->toks[k++].len;
    for (;;) {
        if (k >= l->ntoks || l->toks[k].kind != TK_IDENT)
            return 0;
        w += l->toks[k++].len;
        if (k < l->ntoks && tok_is(&l->toks[k], ",")) {
            w += 2;
            k++;
            continue;
        }
        break;
    }
    if (paren) {
        if (k >= l->ntoks || !tok_is(&l->toks[k], ")"))
            return 0;
        w += l->toks[k++].len;
    }
    if (k < 2 || k >= l->ntoks || !tok_is(&l->toks[k], "="))
        return 0;
    *width = w;
    return k;
}

/* The file as lines of tokens and comments. */
static FLine *split_lines(Arena *a, const SrcFile *f, const LexResult *r, int *nlines) {
    FLine *lines = NULL;
    int n = 0, cap = 0;
    ARENA_PUSH(a, lines, n, cap);
    memset(&lines[0], 0, sizeof lines[0]);
    size_t pos = f->len >= 3 && !memcmp(f->text, "\xEF\xBB\xBF", 3) ? 3 : 0;
    for (int i = 0; i <= r->ntoks; i++) {
        const Token *t = i < r->ntoks ? &r->toks[i] : NULL;
        if (t && (t->kind == TK_EOF || (t->kind == TK_NEWLINE && strcmp(t->text, ";"))))
            continue;
        size_t end = t ? (size_t)t->loc.off : f->len;
        while (pos < end) {
            char c = f->text[pos];
            if (c == '\n') {
                FLine *l = ARENA_PUSH(a, lines, n, cap);
                memset(l, 0, sizeof *l);
                pos++;
            } else if (c == '#') {
                size_t s = pos;
                while (pos < f->len && f->text[pos] != '\n')
                    pos++;
                size_t e = pos;
                while (e > s && (f->text[e - 1] == ' ' || f->text[e - 1] == '\t' || f->text[e - 1] == '\r'))
                    e--;
                lines[n - 1].comment = f->text + s;
                lines[n - 1].clen = (int)(e - s);
            } else {
                pos++;
            }
        }
        if (!t)
            break;
        FLine *l = &lines[n - 1];
        FTok *ft = ARENA_PUSH(a, l->toks, l->ntoks, l->cap);
        ft->s = f->text + t->loc.off;
        ft->len = t->loc.len;
        ft->kind = t->kind == TK_NEWLINE ? TK_PUNCT : t->kind;
        pos = (size_t)t->loc.off + (size_t)t->loc.len;
    }
    *nlines = n;
    return lines;
}

/* Bracket depth at each line's start, and each line's alignment kind. */
static void classify(Arena *a, FLine *lines, int n) {
    char *stack = NULL;
    int depth = 0, cap = 0;
    const FTok *prev = NULL;
    for (int i = 0; i < n; i++) {
        FLine *l = &lines[i];
        l->depth = depth;
        l->inner = depth ? stack[depth - 1] : 0;
        if (l->ntoks >= 2 && l->inner != '(' && l->inner != '[') {
            const FTok *t0 = &l->toks[0], *t1 = &l->toks[1];
            int w = 0, k = unpack_lhs(l, &w);
            if (t0->kind == TK_IDENT && tok_is(t1, "=")) {
                l->kind = 'b';
                l->lhs = 1;
                l->lhsw = t0->len;
            } else if (k) {
                l->kind = 'b';
                l->lhs = k;
                l->lhsw = w;
            }
            else if (t0->kind == TK_KEYWORD && l->inner != 'T' && word_in(t0, decl_kws))
                l->kind = 'k';
            else if (t0->kind == TK_KEYWORD && l->inner == 'T' && word_in(t0, train_src_kws))
                l->kind = 't';
        }
        for (int k = 0; k < l->ntoks; k++) {
            const FTok *t = &l->toks[k];
            if (is_open(t)) {
                char c = t->s[0];
                if (c == '{' && prev && prev->kind == TK_KEYWORD && tok_is(prev, "train"))
                    c = 'T';
                *ARENA_PUSH(a, stack, depth, cap) = c;
            } else if (is_close(t) && depth) {
                depth--;
            }
            prev = t;
        }
    }
    /* alignment runs: consecutive lines of one kind at one depth */
    for (int i = 0; i < n;) {
        if (!lines[i].kind) {
            i++;
            continue;
        }
        int j = i, w = 0, w2 = 0;
        while (j < n && lines[j].kind == lines[i].kind && lines[j].depth == lines[i].depth) {
            int w0 = lines[j].kind == 'b' ? lines[j].lhsw : lines[j].toks[0].len;
            if (w0 > w)
                w = w0;
            if (lines[j].kind == 'k' && lines[j].ntoks > 2 && tok_is(&lines[j].toks[2], "=") &&
                lines[j].toks[1].len > w2)
                w2 = lines[j].toks[1].len;
            j++;
        }
        for (int k = i; k < j; k++) {
            lines[k].pad = w;
            if (lines[k].kind == 'k' && lines[k].ntoks > 2 && tok_is(&lines[k].toks[2], "="))
                lines[k].pad2 = w2;
        }
        i = j;
    }
}

typedef struct Open {
    char c;
    int line_indent;        /* indentation of the line that opened it */
    int col_after;          /* output column just after it */
    int hanging;            /* it ended its line */
} Open;

static int is_unary_context(const FTok *prev) {
    if (!prev)
        return 1;
    if (prev->kind == TK_PUNCT)
        return !tok_is(prev, ")") && !tok_is(prev, "]") && !tok_is(prev, "}");
    if (prev->kind == TK_KEYWORD)
        return !tok_is(prev, "true") && !tok_is(prev, "false");
    return 0;
}

/* Spaces between prev and t on one line. inner_prev: the innermost bracket when prev was written;
 * inner: the one now. */
static int spaces(const FTok *prev, int prev_unary, char inner_prev, const FTok *t, char inner) {
    if (tok_is(t, ":"))
        return tok_is(prev, ",") ? 1 : 0;     /* `x: f32`, `a[1:2]`, `a[:, 0, :]` */
    if (tok_is(t, ",") || tok_is(t, ";") || tok_is(t, ")") || tok_is(t, "]"))
        return 0;
    if (tok_is(t, ".") || tok_is(prev, "."))
        return 0;
    if (tok_is(prev, "(") || tok_is(prev, "["))
        return 0;
    if (tok_is(prev, ":"))
        return inner_prev == '[' ? 0 : 1;
    if (prev_unary)
        return 0;
    if ((tok_is(t, "(") || tok_is(t, "[")) &&
        (prev->kind == TK_IDENT || prev->kind == TK_STRING || tok_is(prev, ")") || tok_is(prev, "]")))
        return 0;
    if (inner == 'T' && t->kind == TK_KEYWORD && word_in(t, train_kws))
        return 2;
    return 1;
}

typedef struct Buf {
    char *p;
    int len, cap;
    Arena *a;
} Buf;

static void put(Buf *b, const char *s, int n) {
    for (int i = 0; i < n; i++)
        *ARENA_PUSH(b->a, b->p, b->len, b->cap) = s[i];
}

static void put_spaces(Buf *b, int n) {
    for (int i = 0; i < n; i++)
        *ARENA_PUSH(b->a, b->p, b->len, b->cap) = ' ';
}

/* Each line's code: indentation, then its tokens with canonical spacing. */
static void layout(Arena *a, FLine *lines, int n) {
    Open *stack = NULL;
    int depth = 0, cap = 0;
    const FTok *prev = NULL;
    int prev_unary = 0;
    char inner_prev = 0;
    int stmt_indent = 0;    /* indentation of the line the current statement began on */
    for (int i = 0; i < n; i++) {
        FLine *l = &lines[i];
        if (!l->ntoks && !l->comment)
            continue;
        const FTok *first = l->ntoks ? &l->toks[0] : NULL;
        int indent = 0;
        if (depth) {
            const Open *o = &stack[depth - 1];
            int closes = first && is_close(first);
            if (o->c == '(' || o->c == '[')
                indent = closes ? o->line_indent : o->hanging ? o->line_indent + 4 : o->col_after;
            else
                indent = closes ? o->line_indent : o->line_indent + 2;
        }
        if (l->inner != '(' && l->inner != '[') {
            stmt_indent = indent;
            prev = NULL;    /* a statement's first token: `-x` is a negation */
        }
        Buf b = {.a = a};
        put_spaces(&b, indent);
        for (int k = 0; k < l->ntoks; k++) {
            const FTok *t = &l->toks[k];
            char inner = depth ? stack[depth - 1].c : 0;
            if (k > 0)
                put_spaces(&b, spaces(prev, prev_unary, inner_prev, t, inner));
            int unary = (tok_is(t, "-") || tok_is(t, "*") || tok_is(t, "+")) && is_unary_context(prev);
            put(&b, t->s, t->len);
            if (l->kind == 'b' ? k == l->lhs - 1 && l->pad > l->lhsw : k == 0 && l->pad > t->len)
                put_spaces(&b, l->kind == 'b' ? l->pad - l->lhsw : l->pad - t->len);
            if (k == 1 && l->pad2 > t->len)
                put_spaces(&b, l->pad2 - t->len);
            if (is_open(t)) {
                char c = t->s[0];
                if (c == '{' && prev && prev->kind == TK_KEYWORD && tok_is(prev, "train"))
                    c = 'T';
                Open *o = ARENA_PUSH(a, stack, depth, cap);
                o->c = c;
                o->line_indent = c == '(' || c == '[' ? indent : stmt_indent;
                o->col_after = b.len;
                o->hanging = k == l->ntoks - 1;
            } else if (is_close(t) && depth) {
                depth--;
            }
            inner_prev = inner;
            prev = t;
            prev_unary = unary;
        }
        l->code = b.p;
        l->codelen = b.len;
    }
}

static char *render(Arena *a, FLine *lines, int n) {
    Buf b = {.a = a};
    int pending_blank = 0, any = 0;
    for (int i = 0; i < n;) {
        if (!lines[i].ntoks && !lines[i].comment) {
            pending_blank = any;
            i++;
            continue;
        }
        /* a run of code lines: their trailing comments share a column */
        int j = i, col = 0;
        while (j < n && lines[j].ntoks) {
            if (lines[j].comment && lines[j].codelen + 2 > col)
                col = lines[j].codelen + 2;
            j++;
        }
        if (j == i)
            j = i + 1;  /* a comment alone on its line */
        for (int k = i; k < j; k++) {
            FLine *l = &lines[k];
            if (pending_blank)
                put(&b, "\n", 1);
            pending_blank = 0;
            any = 1;
            put(&b, l->code, l->codelen);
            if (l->comment) {
                if (l->ntoks)
                    put_spaces(&b, col - l->codelen);
                put(&b, l->comment, l->clen);
            }
            put(&b, "\n", 1);
        }
        i = j;
    }
    put(&b, "", 1);
    return b.p;
}

/* The tree without its positions, nor the spaces inside a line (the text of a dimension form,
 * `k: 2*R - 1`, is kept as written and spaced anew), for comparing two parses. */
static char *tree_text(const Node *prog) {
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    if (!m)
        die("open_memstream: %s", strerror(errno));
    ast_dump(m, prog);
    fclose(m);
    char *w = s;
    int bol = 1;
    for (char *r = s; *r;) {
        char *q = r;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > r && *q == ':' && q[1] >= '0' && q[1] <= '9') {
            q++;
            while (*q >= '0' && *q <= '9')
                q++;
            *w++ = '@';
            r = q;
            bol = 0;
        } else if (q > r) {
            while (r < q)
                *w++ = *r++;
            bol = 0;
        } else {
            if (*r == '\n')
                bol = 1;
            else if (*r != ' ')
                bol = 0;
            if (*r != ' ' || bol)
                *w++ = *r;
            r++;
        }
    }
    *w = 0;
    return s;
}

/* A `}` that closes a block opened on an earlier line goes on a line of its own (`output y = x }`
 * becomes `output y = x` and `}`), and a `{` whose block goes on past its line ends that line
 * (`model m { input x: ...` becomes `model m {` and `input x: ...`), so indentation shows the
 * nesting; a block opened and closed on one line (`fn f(x) { x }`) stays as written. A comment
 * stays with the statement's line. */
static FLine *split_closing(Arena *a, FLine *lines, int n, int *nout) {
    FLine *out = NULL;
    int m = 0, cap = 0;
    int *stack = NULL, depth = 0, scap = 0;    /* line (in out) of each open '{' */
    for (int i = 0; i < n; i++) {
        FLine cur = lines[i];
        int start = 0;
        for (int k = 0; k < cur.ntoks; k++) {
            const FTok *t = &cur.toks[k];
            if (t->kind == TK_PUNCT && tok_is(t, "{")) {
                *ARENA_PUSH(a, stack, depth, scap) = m;
                /* a block that goes on past this line starts its statements on the next one */
                int d = 1;
                for (int j = k + 1; j < cur.ntoks && d; j++)
                    if (cur.toks[j].kind == TK_PUNCT)
                        d += tok_is(&cur.toks[j], "{") - tok_is(&cur.toks[j], "}");
                if (d && k + 1 < cur.ntoks) {
                    FLine *l = ARENA_PUSH(a, out, m, cap);
                    memset(l, 0, sizeof *l);
                    l->toks = cur.toks + start;
                    l->ntoks = l->cap = k + 1 - start;
                    start = k + 1;
                }
            } else if (t->kind == TK_PUNCT && tok_is(t, "}")) {
                int opened = depth > 0 ? stack[--depth] : -1;
                if (k > start && opened != m) {
                    FLine *l = ARENA_PUSH(a, out, m, cap);
                    memset(l, 0, sizeof *l);
                    l->toks = cur.toks + start;
                    l->ntoks = l->cap = k - start;
                    l->comment = cur.comment;
                    l->clen = cur.clen;
                    cur.comment = NULL;
                    cur.clen = 0;
                    start = k;
                }
            }
        }
        FLine *l = ARENA_PUSH(a, out, m, cap);
        *l = cur;
        if (start) {    /* (a line without tokens has toks NULL) */
            l->toks = cur.toks + start;
            l->ntoks = l->cap = cur.ntoks - start;
        }
    }
    *nout = m;
    return out;
}

char *fmt_source(Arena *a, Diag *d, const SrcFile *f) {
    int errors = d->nerrors;
    Node *prog = parse_file(a, d, f);
    if (!prog || d->nerrors > errors)
        return NULL;
    LexResult r;
    lex_tokens(a, d, f, 1, &r);
    int n;
    FLine *lines = split_lines(a, f, &r, &n);
    lines = split_closing(a, lines, n, &n);
    classify(a, lines, n);
    layout(a, lines, n);
    char *out = render(a, lines, n);

    /* the meaning must not change */
    SrcFile g = *f;
    g.text = out;
    g.len = strlen(out);
    Diag quiet;
    FILE *null = fopen("/dev/null", "w");
    diag_init(&quiet, null ? null : stderr);
    Node *prog2 = parse_file(a, &quiet, &g);
    if (null)
        fclose(null);
    char *t1 = tree_text(prog), *t2 = prog2 && !quiet.nerrors ? tree_text(prog2) : NULL;
    int same = t2 && !strcmp(t1, t2);
    free(t1);
    free(t2);
    if (!same) {
        diag_plain(d, "internal error: formatting '%s' would change its meaning; the file is left alone", f->name);
        diag_hint(d, "this is a bug in nnc fmt: please report it with the file");
        return NULL;
    }
    return out;
}

/* ---- the command ---- */

static char *read_all(Diag *d, const char *path, size_t *len) {
    FILE *fp = stdin;
    bool fifo = false;
    if (strcmp(path, "-")) {
        /* as the compiler reads a source (lang/frontend.c read_source): a folder is named, and a
         * FIFO is opened without waiting for a writer (a named FIFO nobody writes to blocked
         * `nnc fmt` forever); with none, the read finds end of file at once and says so */
        struct stat st;
        if (stat(path, &st) != 0) {
            diag_plain(d, "cannot open '%s': %s", path, strerror(errno));
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            diag_plain(d, "'%s' is a directory, not a source file", path);
            return NULL;
        }
        fifo = S_ISFIFO(st.st_mode);
        fp = frontend_open(path, fifo);
    }
    if (!fp) {
        diag_plain(d, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            diag_plain(d, "cannot read '%s': out of memory", path);
            break;
        }
        if (n == cap) {
            if (cap > MAX_FMT_SOURCE) {
                diag_plain(d, "'%s' is too large to format", path);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                diag_plain(d, "cannot read '%s': %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (fp != stdin)
        fclose(fp);
    if (buf && fifo && n == 0) {
        diag_plain(d, "'%s' is a FIFO and nothing was written to it (no writer had opened it)", path);
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* Write text beside path, then rename it over path: the file is either the old one or the new
 * one, whatever happens (a full disk, a crash). Keeps the file's permissions. A symbolic link is
 * followed: its target is rewritten and the link stays (it was replaced by a plain file). */
static int write_in_place(Diag *d, const char *given, const char *text) {
    struct stat st;
    if (stat(given, &st) != 0) {
        diag_plain(d, "cannot stat '%s': %s", given, strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode)) {
        diag_plain(d, "cannot rewrite '%s': it is not a regular file", given);
        return 1;
    }
    char *real = realpath(given, NULL);
    if (!real) {
        diag_plain(d, "cannot resolve '%s': %s", given, strerror(errno));
        return 1;
    }
    const char *path = real;
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) {
        diag_plain(d, "out of memory writing '%s'", path);
        free(real);
        return 1;
    }
    snprintf(tmp, n + 16, "%s.fmt-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        diag_plain(d, "cannot write beside '%s': %s", path, strerror(errno));
        free(tmp);
        free(real);
        return 1;
    }
    size_t len = strlen(text), done = 0;
    int err = 0;
    while (done < len && !err) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            err = w < 0 ? errno : EIO;
        else
            done += (size_t)w;
    }
    if (!err && fchmod(fd, st.st_mode & 07777) != 0)
        err = errno;
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        diag_plain(d, "cannot write '%s': %s (the file is unchanged)", given, strerror(err));
        remove(tmp);
    }
    free(tmp);
    free(real);
    return err != 0;
}

static void fmt_usage(FILE *out) {
    fputs("usage: nnc fmt [-w | --check] FILE.nn...\n"
          "  (no flag)  print each file in the canonical layout on stdout ('-' reads stdin)\n"
          "  -w         rewrite the files that are not in the canonical layout, in place\n"
          "  --check    list the files that are not, and exit with status 1 if any is\n"
          "  --diagnostics-format=json  errors of files that do not parse as JSON Lines\n",
          out);
}

int fmt_main(int argc, char **argv) {
    Diag d;
    diag_init(&d, stderr);
    int write = 0, check = 0, nfiles = 0;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-w"))
            write = 1;
        else if (!strcmp(arg, "--check"))
            check = 1;
        else if (!strcmp(arg, "--diagnostics-format=json"))
            diag_set_json(&d);
        else if (!strcmp(arg, "--diagnostics-format=text"))
            ;
        else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fmt_usage(stdout);
            return 0;
        } else if (arg[0] == '-' && arg[1]) {
            diag_plain(&d, "unknown option '%s' for nnc fmt", arg);
            diag_hint(&d, "usage: nnc fmt [-w | --check] FILE.nn...");
            return 1;
        } else {
            nfiles++;
        }
    }
    if (write && check) {
        diag_plain(&d, "nnc fmt takes -w or --check, not both");
        return 1;
    }
    if (!nfiles) {
        diag_plain(&d, "no input file");
        diag_hint(&d, "usage: nnc fmt [-w | --check] FILE.nn...");
        return 1;
    }
    int status = 0;
    for (int i = 2; i < argc; i++) {
        const char *path = argv[i];
        if (path[0] == '-' && path[1])
            continue;
        if (write && !strcmp(path, "-")) {
            diag_plain(&d, "nnc fmt -w needs files, not standard input");
            status = 1;
            continue;
        }
        size_t len;
        char *text = read_all(&d, path, &len);
        if (!text) {
            status = 1;
            continue;
        }
        Arena a = {0};
        SrcFile f = {.name = strcmp(path, "-") ? path : "<stdin>", .text = text, .len = len};
        char *out = fmt_source(&a, &d, &f);
        if (!out) {
            status = 1;
        } else if (check) {
            if (strlen(out) != len || memcmp(out, text, len)) {
                printf("%s\n", path);
                status = 1;
            }
        } else if (write) {
            if ((strlen(out) != len || memcmp(out, text, len)) && write_in_place(&d, path, out))
                status = 1;
        } else {
            fputs(out, stdout);
        }
        arena_free(&a);
        free(text);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "nnc: error: writing to standard output failed: %s\n", strerror(errno ? errno : EIO));
        return 1;
    }
    return status;
}
