/* unit_front.c - unit tests of the front end's pieces that golden files see only indirectly: the
 * diagnostic printer (carets under tabs, clipping, safe bytes, the error limit, suggestions), the
 * lexer (newlines inside brackets, train-only keywords, number forms) and the parser (precedence,
 * associativity, spans). Each check prints what it expected and what it got when it fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static SrcFile src(const char *text) {
    return (SrcFile){.name = "t.nn", .text = text, .len = strlen(text)};
}

/* Run fn with a Diag writing to a string; returns the text. */
typedef struct Capture {
    char *buf;
    size_t len;
    FILE *f;
    Diag d;
} Capture;

static void cap_open(Capture *c) {
    c->buf = NULL;
    c->f = open_memstream(&c->buf, &c->len);
    if (!c->f) {
        perror("open_memstream");
        exit(2);
    }
    diag_init(&c->d, c->f);
}

static char *cap_close(Capture *c) {
    fclose(c->f);
    return c->buf;
}

static Loc loc_of(const SrcFile *f, const char *needle, int len) {
    const char *p = strstr(f->text, needle);
    Loc l = {.file = f, .off = (int)(p - f->text), .len = len, .line = 1};
    for (const char *q = f->text; q < p; q++)
        if (*q == '\n')
            l.line++;
    const char *ls = p;
    while (ls > f->text && ls[-1] != '\n')
        ls--;
    l.col = (int)(p - ls) + 1;
    return l;
}

static void test_diag(void) {
    Capture c;
    /* caret under a span after a tab: the tab expands to column 8 */
    SrcFile f = src("model m {\n\th = dense(x)\n}\n");
    cap_open(&c);
    diag_error(&c.d, loc_of(&f, "dense", 5), "bad %s", "call");
    diag_hint(&c.d, "try %d", 1);
    char *out = cap_close(&c);
    const char *want = "t.nn:2:6: error: bad call\n"
                       "    2 |         h = dense(x)\n"
                       "      |             ^~~~~\n"
                       "hint: try 1\n";
    CHECK(!strcmp(out, want), "got\n%s\nwant\n%s", out, want);
    free(out);

    /* a span running past its line is clipped; control bytes print as '?' */
    SrcFile g = src("x = a\001" "b + c\nnext line\n");
    cap_open(&c);
    diag_error(&c.d, loc_of(&g, "b +", 100), "clipped");
    out = cap_close(&c);
    want = "t.nn:1:7: error: clipped\n"
           "    1 | x = a?b + c\n"
           "      |       ^~~~~\n";
    CHECK(!strcmp(out, want), "got\n%s\nwant\n%s", out, want);
    free(out);

    /* errors past the limit are counted, not printed, and neither are their notes */
    cap_open(&c);
    c.d.max_errors = 2;
    for (int i = 0; i < 5; i++) {
        diag_plain(&c.d, "e%d", i);
        diag_note(&c.d, (Loc){0}, "n%d", i);
    }
    out = cap_close(&c);
    want = "nnc: error: e0\nnote: n0\nnnc: error: e1\nnote: n1\nnnc: error: too many errors (2); the rest are not shown\n";
    CHECK(!strcmp(out, want), "got\n%s\nwant\n%s", out, want);
    CHECK(c.d.nerrors == 5, "nerrors = %d", c.d.nerrors);
    free(out);

    const char *names[] = {"relu", "softmax", "dense", "dropout"};
    const char *s = diag_suggest("rleu", names, 4);
    CHECK(s && !strcmp(s, "relu"), "suggest(rleu) = %s", s ? s : "NULL");
    s = diag_suggest("dropot", names, 4);
    CHECK(s && !strcmp(s, "dropout"), "suggest(dropot) = %s", s ? s : "NULL");
    s = diag_suggest("conv2d", names, 4);
    CHECK(!s, "suggest(conv2d) = %s", s);
}

static void test_lexer(void) {
    Arena a = {0};
    Capture c;
    cap_open(&c);
    SrcFile f = src("f(a,\n  b)\n\n\nx = [1,\n 2];y\ntrain { batch 64 epochs 5 }\nbatch = .5 + 1e-3 + 2.5E+4\n"
                    "for i in 0..3\ns = \"a\\tb\\\"\"\n");
    int n;
    Token *t = lex_file(&a, &c.d, &f, &n);
    char *out = cap_close(&c);
    CHECK(c.d.nerrors == 0, "errors:\n%s", out);
    free(out);
    char kinds[128] = "";
    for (int i = 0; i < n && i < 120; i++) {
        static const char letter[] = {[TK_EOF] = '$', [TK_NEWLINE] = '\\', [TK_IDENT] = 'I', [TK_INT] = 'N',
                                      [TK_FLOAT] = 'F', [TK_STRING] = 'S', [TK_KEYWORD] = 'K', [TK_PUNCT] = 'p'};
        char ch = letter[t[i].kind];
        kinds[i] = ch;
    }
    /* no newline inside ( ) or [ ]; repeats collapse; ';' is a newline; batch/epochs are keywords
     * only inside train { } */
    const char *want = "Ip" "IpI" "p\\" "Ipp" "NpN" "p\\" "I\\" "KpKNKNp\\" "IpFpFpF\\" "KIKNpN\\" "IpS\\" "$";
    CHECK(!strcmp(kinds, want), "kinds %s, want %s", kinds, want);
    int i = 0;
    while (i < n && !(t[i].kind == TK_FLOAT))
        i++;
    CHECK(i + 4 < n && t[i].fval == 0.5 && t[i + 2].fval == 1e-3 && t[i + 4].fval == 2.5e4,
          "reals %g %g %g", t[i].fval, t[i + 2].fval, t[i + 4].fval);
    CHECK(!strcmp(t[n - 3].text, "a\tb\""), "string decoded as '%s'", t[n - 3].text);

    /* the largest integer is fine, one more is an error reported once */
    cap_open(&c);
    SrcFile g = src("9223372036854775807 9223372036854775808\n");
    t = lex_file(&a, &c.d, &g, &n);
    out = cap_close(&c);
    CHECK(t[0].kind == TK_INT && t[0].ival == INT64_MAX, "ival %lld", (long long)t[0].ival);
    CHECK(c.d.nerrors == 1 && strstr(out, "t.nn:1:21: error: integer literal too large"), "got\n%s", out);
    free(out);
    arena_free(&a);
}

/* The dump of the first statement of `model m { <stmt> }`, flattened to one line. */
static char *dump_stmt(Arena *a, const char *stmt) {
    char *text = arena_printf(a, "model m {\n  %s\n}\n", stmt);
    SrcFile *f = arena_alloc(a, sizeof *f);
    *f = src(text);
    Capture c;
    cap_open(&c);
    Node *prog = parse_file(a, &c.d, f);
    char *errs = cap_close(&c);
    CHECK(c.d.nerrors == 0, "'%s': %s", stmt, errs);
    free(errs);
    if (c.d.nerrors || prog->nkids != 1 || prog->kids[0]->nkids < 1)
        return arena_strdup(a, "");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ast_dump(m, prog->kids[0]->kids[0]);
    fclose(m);
    /* flatten: newlines and indentation become one space */
    char *flat = arena_alloc(a, len + 1), *o = flat;
    for (char *p = buf; *p; p++) {
        if (*p == '\n') {
            while (p[1] == ' ')
                p++;
            if (p[1])
                *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    free(buf);
    return flat;
}

static void test_parser(void) {
    Arena a = {0};
    struct {
        const char *stmt, *want;
    } cases[] = {
        {"y = -x ** 2", "(bind y 2:3 (unary - 2:7 (binary ** 2:8 (ident x 2:8) (int 2 2:13))))"},
        {"y = a - b - c", "(bind y 2:3 (binary - 2:7 (binary - 2:7 (ident a 2:7) (ident b 2:11)) (ident c 2:15)))"},
        {"y = 2 ** 3 ** 2", "(bind y 2:3 (binary ** 2:7 (int 2 2:7) (binary ** 2:12 (int 3 2:12) (int 2 2:17))))"},
        {"y = not a == b or c", "(bind y 2:3 (binary or 2:7 (unary not 2:7 (binary == 2:11 (ident a 2:11) (ident b 2:16))) (ident c 2:21)))"},
        {"y = a + b @ c", "(bind y 2:3 (binary + 2:7 (ident a 2:7) (binary @ 2:11 (ident b 2:11) (ident c 2:15))))"},
        {"y = x[1:, ::2]", "(bind y 2:3 (index 2:7 (ident x 2:7) (slice 2:9 (int 1 2:9) _ _) (slice 2:13 _ _ (int 2 2:15))))"},
        {"loss l = f(h.W, k = 2,)", "(loss l 2:3 (call 2:12 (ident f 2:12) (member W 2:14 (ident h 2:14)) (arg k 2:19 (int 2 2:23))))"},
        {"input x: f32[*S, (H - K + 2*P) / S + 1]", "(input x 2:3 : f32[*S, (H - K + 2 * P) / S + 1])"},
        {"output p", "(output p 2:3)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = dump_stmt(&a, cases[i].stmt);
        CHECK(!strcmp(got, cases[i].want), "'%s'\n  got  %s\n  want %s", cases[i].stmt, got, cases[i].want);
    }

    /* loc spans the whole construct, name_loc the name */
    SrcFile f = src("model m {\n  hh = dense(x, 3)\n}\n");
    Capture c;
    cap_open(&c);
    Node *prog = parse_file(&a, &c.d, &f);
    free(cap_close(&c));
    Node *bind = prog->kids[0]->kids[0];
    CHECK(bind->loc.off == 12 && bind->loc.len == 16, "bind loc %d+%d", bind->loc.off, bind->loc.len);
    CHECK(bind->name_loc.off == 12 && bind->name_loc.len == 2, "name loc %d+%d", bind->name_loc.off,
          bind->name_loc.len);
    CHECK(bind->lhs->loc.off == 17 && bind->lhs->loc.len == 11, "call loc %d+%d", bind->lhs->loc.off,
          bind->lhs->loc.len);

    /* three independent syntax errors in one run */
    SrcFile g = src("model m {\n  a = )\n  b = (1\n  c = 1 2\n  d = 4\n}\n");
    cap_open(&c);
    prog = parse_file(&a, &c.d, &g);
    char *out = cap_close(&c);
    CHECK(c.d.nerrors == 3, "errors: %d\n%s", c.d.nerrors, out);
    CHECK(prog->nkids == 1 && prog->kids[0]->nkids == 1, "statements kept: %d",
          prog->nkids ? prog->kids[0]->nkids : -1);
    free(out);
    arena_free(&a);
}

int main(void) {
    test_diag();
    test_lexer();
    test_parser();
    if (failures) {
        fprintf(stderr, "unit_front: %d checks failed\n", failures);
        return 1;
    }
    printf("unit_front: all checks passed\n");
    return 0;
}
