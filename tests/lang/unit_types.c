/* unit_types.c - unit tests of the checker's dim algebra and types (lang/types.c), and of a few
 * checker results that golden files cannot show (Node.ty / Node.ref annotations, the parameter
 * list of a model). Each check prints what it expected and what it got; the exit status is the
 * number of failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "types.h"

static int failures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

static Arena A;
static DimCtx C = {&A, false, NULL};

static const SDim *k(int64_t v) { return ty_dim_const(&C, v); }
static const SDim *v(const char *n) { return ty_dim_sym(&C, n, 0); }
static const SDim *add(const SDim *x, const SDim *y) { return ty_dim_add(&C, x, y); }
static const SDim *sub(const SDim *x, const SDim *y) { return ty_dim_sub(&C, x, y); }
static const SDim *mul(const SDim *x, const SDim *y) { return ty_dim_mul(&C, x, y); }
static const SDim *dv(const SDim *x, const SDim *y) {
    const char *why = NULL;
    return ty_dim_div(&C, x, y, &why);
}

static void expect_str(const SDim *d, const char *want, int line) {
    const char *got = ty_dim_astr(&A, d);
    if (strcmp(got, want) != 0) {
        failures++;
        fprintf(stderr, "%s:%d: FAIL: dim prints as '%s', expected '%s'\n", __FILE__, line, got, want);
    }
}
#define STR(d, s) expect_str((d), (s), __LINE__)

static void expect_const(const SDim *d, int64_t want, int line) {
    int64_t got;
    if (!d || !ty_dim_is_const(d, &got) || got != want) {
        failures++;
        fprintf(stderr, "%s:%d: FAIL: expected the constant %lld, got %s\n", __FILE__, line, (long long)want,
                d ? ty_dim_astr(&A, d) : "NULL");
    }
}
#define CONST(d, w) expect_const((d), (w), __LINE__)

/* conv output size (H - K + 2*P)/S + 1 */
static const SDim *conv_out(const SDim *H, const SDim *K, const SDim *P, const SDim *S) {
    return add(dv(add(sub(H, K), mul(k(2), P)), S), k(1));
}

static void test_canonical(void) {
    /* like terms merge; order of construction does not matter */
    EXPECT(ty_dim_eq(add(mul(k(2), v("N")), k(2)), mul(k(2), add(v("N"), k(1)))), "2*N + 2 == 2*(N + 1)");
    EXPECT(ty_dim_eq(add(v("A"), v("B")), add(v("B"), v("A"))), "A + B == B + A");
    EXPECT(ty_dim_eq(mul(v("H"), v("W")), mul(v("W"), v("H"))), "H*W == W*H");
    EXPECT(!ty_dim_eq(v("H"), v("W")), "H != W");
    EXPECT(!ty_dim_eq(ty_dim_sym(&C, "N", 0), ty_dim_sym(&C, "N", 3)), "instances differ");
    CONST(sub(v("N"), v("N")), 0);
    CONST(mul(add(k(3), k(4)), k(6)), 42);
    STR(sub(v("B"), k(1)), "B - 1");
    STR(add(sub(v("H"), v("K")), mul(k(2), v("P"))), "H - K + 2*P");
    STR(sub(k(1), v("N")), "-N + 1");
    STR(mul(v("H"), v("H")), "H*H");
    STR(k(0), "0");
    STR(k(-7), "-7");
}

static void test_division(void) {
    const SDim *H = v("H"), *K = v("K"), *P = v("P"), *S = v("S");
    const SDim *o = conv_out(H, K, P, S);
    STR(o, "(H - K + 2*P)/S + 1");
    /* substitution folds the opaque division once everything is known */
    DimEnv e = {.inst = 0};
    ty_env_bind_dim(&A, &e, "H", k(28), (Loc){0});
    ty_env_bind_dim(&A, &e, "K", k(3), (Loc){0});
    ty_env_bind_dim(&A, &e, "P", k(1), (Loc){0});
    ty_env_bind_dim(&A, &e, "S", k(1), (Loc){0});
    C.div_error = NULL;
    CONST(ty_dim_subst(&C, o, &e), 28);
    EXPECT(!C.div_error, "no division error");
    /* stride 2 over 28 - 3 + 2 = 27 is not exact */
    DimEnv e2 = e;
    e2.b = NULL, e2.n = 0, e2.cap = 0;
    for (int i = 0; i < e.n; i++)
        ty_env_bind_dim(&A, &e2, e.b[i].name, strcmp(e.b[i].name, "S") == 0 ? k(2) : e.b[i].dim, (Loc){0});
    ty_dim_subst(&C, o, &e2);
    EXPECT(C.div_error != NULL, "27/2 reported as inexact");
    C.div_error = NULL;
    /* partially known stays symbolic but comparable */
    DimEnv e3 = {.inst = 0};
    ty_env_bind_dim(&A, &e3, "K", k(3), (Loc){0});
    ty_env_bind_dim(&A, &e3, "P", k(1), (Loc){0});
    ty_env_bind_dim(&A, &e3, "S", k(1), (Loc){0});
    const SDim *r = ty_dim_subst(&C, o, &e3);
    STR(r, "H");
    EXPECT(ty_dim_eq(r, H), "(H - 3 + 2)/1 + 1 == H");
    /* exact divisions simplify */
    STR(dv(mul(k(4), v("N")), k(2)), "2*N");
    STR(dv(mul(v("N"), v("M")), v("N")), "M");
    CONST(dv(add(mul(k(2), v("H")), k(2)), add(v("H"), k(1))), 2);
    const char *why = NULL;
    EXPECT(ty_dim_div(&C, k(7), k(2), &why) == NULL && why && strcmp(why, "not exact") == 0, "7/2 inexact");
    why = NULL;
    EXPECT(ty_dim_div(&C, v("N"), k(0), &why) == NULL && why, "N/0 is an error");
    STR(dv(add(v("N"), k(1)), k(2)), "(N + 1)/2");
    why = NULL;
    CONST(ty_dim_mod(&C, mul(k(4), v("N")), k(2), &why), 0);
    CONST(ty_dim_mod(&C, k(-3), k(5), &why), 2);
}

static void test_solve(void) {
    const char *name = NULL;
    const SDim *val = NULL;
    const SDim *N1 = ty_dim_sym(&C, "N", 1);
    /* 2*N against 10 */
    EXPECT(ty_dim_solve(&C, sub(mul(k(2), N1), k(10)), 1, &name, &val) == 1 && strcmp(name, "N") == 0,
           "2*N = 10 solvable");
    CONST(val, 5);
    EXPECT(ty_dim_solve(&C, sub(mul(k(2), N1), k(7)), 1, &name, &val) == -1, "2*N = 7 has no int solution");
    /* N + 1 against B (symbolic) gives N = B - 1 */
    EXPECT(ty_dim_solve(&C, sub(add(N1, k(1)), v("B")), 1, &name, &val) == 1, "N + 1 = B");
    STR(val, "B - 1");
    const SDim *M1 = ty_dim_sym(&C, "M", 1);
    EXPECT(ty_dim_solve(&C, sub(mul(N1, M1), k(12)), 1, &name, &val) == -2, "N*M = 12 is not solvable");
    EXPECT(ty_dim_solve(&C, sub(add(N1, M1), k(12)), 1, &name, &val) == -2, "N + M = 12: two unknowns");
    EXPECT(ty_dim_solve(&C, sub(v("B"), v("B")), 1, &name, &val) == 0, "B = B");
    EXPECT(ty_dim_solve(&C, sub(v("B"), k(3)), 1, &name, &val) == -1, "B = 3 mismatch (rigid B)");
}

static void test_overflow(void) {
    DimCtx c = {&A, false, NULL};
    ty_dim_mul(&c, ty_dim_const(&c, INT64_MAX), ty_dim_const(&c, 2));
    EXPECT(c.overflow, "INT64_MAX * 2 overflows");
    c.overflow = false;
    ty_dim_add(&c, ty_dim_const(&c, INT64_MAX), ty_dim_const(&c, 1));
    EXPECT(c.overflow, "INT64_MAX + 1 overflows");
    c.overflow = false;
    ty_dim_str(ty_dim_const(&c, INT64_MIN), (char[64]){0}, 64);     /* prints without UB */
}

static void test_shapes(void) {
    /* f32[*S, N] with S = [B, 28] and N = 10 prints f32[B, 28, 10] */
    const SDim *d[1] = {v("N")};
    Type *t = ty_tensor(&A, DT_F32, 1, d);
    t->shape.rest = 0;
    t->shape.rest_name = "S";
    EXPECT(strcmp(ty_str(&A, t), "f32[*S, N]") == 0, "prints %s", ty_str(&A, t));
    DimEnv e = {.inst = 0};
    const SDim *sd[2] = {v("B"), k(28)};
    ty_env_bind_rest(&A, &e, "S", (Shape){.rank = 2, .dims = sd, .rest = -1}, (Loc){0});
    ty_env_bind_dim(&A, &e, "N", k(10), (Loc){0});
    Type *u = ty_subst(&C, t, &e);
    EXPECT(strcmp(ty_str(&A, u), "f32[B, 28, 10]") == 0, "substituted: %s", ty_str(&A, u));
    /* the product of a shape variable folds too: prod(S) with S = [28, 28] */
    DimEnv e2 = {.inst = 0};
    const SDim *sq[2] = {k(28), k(28)};
    ty_env_bind_rest(&A, &e2, "S", (Shape){.rank = 2, .dims = sq, .rest = -1}, (Loc){0});
    CONST(ty_dim_subst(&C, ty_dim_prod(&C, "S", 0), &e2), 784);
    EXPECT(strcmp(ty_str(&A, ty_tensor(&A, DT_I32, 0, NULL)), "i32") == 0, "rank 0 prints as i32");
}

/* ---- the checker through the parser ---- */

static Node *parse_str(Diag *d, const char *src) {
    SrcFile *f = arena_alloc(&A, sizeof *f);
    f->name = "test.nn";
    f->text = arena_strdup(&A, src);
    f->len = strlen(src);
    return parse_file(&A, d, f);
}

static const Node *find_decl(const Node *prog, const char *name) {
    for (int i = 0; i < prog->nkids; i++)
        if (prog->kids[i]->name && strcmp(prog->kids[i]->name, name) == 0)
            return prog->kids[i];
    return NULL;
}

static void test_checker(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    Diag d;
    diag_init(&d, mem);
    Node *prog = parse_str(&d,
        "fn identity(x: f32[*S]) -> f32[*S] { x }\n"
        "layer lin(x: f32[*S, K], units: N, act: fn = identity) -> f32[*S, N] {\n"
        "  param W: f32[K, N] = glorot_uniform\n"
        "  param b: f32[N] = zeros\n"
        "  act(x @ W + b)\n"
        "}\n"
        "fn halves(x: f32[2*N]) { reshape(x, [2, N]) }\n"
        "model m {\n"
        "  input x: f32[B, 6]\n"
        "  h = lin(x, 4)\n"
        "  h = lin(h, 3)\n"
        "  y = max(lin(h, 2), 0.0) + lin(h, 2)\n"
        "  z = halves([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])\n"
        "  output y\n"
        "}\n");
    EXPECT(d.nerrors == 0, "parses");
    int n = check_program(&A, &d, prog);
    fflush(mem);
    EXPECT(n == 0, "checks without errors, got: %s", buf);
    const Node *m = find_decl(prog, "m");
    EXPECT(m && m->ty && m->ty->kind == TY_MODEL, "model annotated");
    const ParamList *pl = m->ty->params;
    const char *want[] = {"h.W", "h.b", "h_2.W", "h_2.b", "y.lin.W", "y.lin.b", "y.lin_2.W", "y.lin_2.b"};
    EXPECT(pl && pl->n == 8, "8 parameters, got %d", pl ? pl->n : -1);
    for (int i = 0; pl && i < pl->n && i < 8; i++)
        EXPECT(strcmp(pl->e[i].path, want[i]) == 0, "param %d is %s, expected %s", i, pl->e[i].path, want[i]);
    const ParamEntry *w2 = ty_params_find(pl, "h_2.W");
    EXPECT(w2 && strcmp(ty_str(&A, w2->ty), "f32[4, 3]") == 0, "h_2.W is %s", w2 ? ty_str(&A, w2->ty) : "?");
    /* Node.ty and Node.ref on the statements and calls */
    const Node *z = m->kids[4];
    EXPECT(z->kind == ND_BIND && z->ty && strcmp(ty_str(&A, z->ty), "f32[2, 3]") == 0, "z is %s",
           z->ty ? ty_str(&A, z->ty) : "?");
    EXPECT(z->lhs->kind == ND_CALL && z->lhs->ref == find_decl(prog, "halves"), "call refers to halves");
    const Node *h = m->kids[1];
    EXPECT(h->lhs->ref == find_decl(prog, "lin"), "h's call refers to lin");
    EXPECT(strcmp(ty_str(&A, h->ty), "f32[B, 4]") == 0, "h is %s", ty_str(&A, h->ty));
    fclose(mem);
    free(buf);

    /* a unification error names the callee, the formal and both types */
    buf = NULL;
    mem = open_memstream(&buf, &len);
    diag_init(&d, mem);
    prog = parse_str(&d,
        "fn dot(a: f32[N], b: f32[N]) -> f32 { sum(a * b) }\n"
        "fn f(x: f32[3], y: f32[4]) -> f32 { dot(x, y) }\n");
    n = check_program(&A, &d, prog);
    fflush(mem);
    EXPECT(n == 1, "one error, got %d", n);
    EXPECT(buf && strstr(buf, "dot expects f32[3] for 'b', got f32[4]"), "message: %s", buf ? buf : "");
    EXPECT(buf && strstr(buf, "note: 'N' was bound to 3 here"), "note: %s", buf ? buf : "");
    fclose(mem);
    free(buf);
}

/* Check src; return the diagnostics printed (arena copy) and the error count in *n. */
static const char *check_src(const char *src, int *n, Node **progp) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    Diag d;
    diag_init(&d, mem);
    Node *prog = parse_str(&d, src);
    *n = d.nerrors ? -1 : check_program(&A, &d, prog);
    fclose(mem);
    const char *r = arena_strdup(&A, buf ? buf : "");
    free(buf);
    if (progp)
        *progp = prog;
    return r;
}

static void test_loops_and_instances(void) {
    int n;
    Node *prog;
    /* a width that grows with the loop variable; the rebound name keeps the last iteration's type */
    const char *out = check_src(
        "layer lin(x: f32[*S, K], units: N) -> f32[*S, N] {\n"
        "  param W: f32[K, N] = zeros\n"
        "  x @ W\n"
        "}\n"
        "model m {\n"
        "  input x: f32[B, 3]\n"
        "  h = x\n"
        "  for i in 0 .. 3 { h = lin(h, 4 * (i + 1)) }\n"
        "  output h\n"
        "}\n", &n, &prog);
    EXPECT(n == 0, "loop model checks: %s", out);
    const Node *m = find_decl(prog, "m");
    const ParamList *pl = m && m->ty ? m->ty->params : NULL;
    EXPECT(pl && pl->n == 3, "3 params, got %d", pl ? pl->n : -1);
    const char *want[][2] = {{"h.W", "f32[3, 4]"}, {"h_2.W", "f32[4, 8]"}, {"h_3.W", "f32[8, 12]"}};
    for (int i = 0; pl && i < 3 && i < pl->n; i++)
        EXPECT(strcmp(pl->e[i].path, want[i][0]) == 0 && strcmp(ty_str(&A, pl->e[i].ty), want[i][1]) == 0,
               "param %d: %s %s, expected %s %s", i, pl->e[i].path, ty_str(&A, pl->e[i].ty), want[i][0], want[i][1]);
    const Node *o = m->kids[3];
    EXPECT(o->kind == ND_OUTPUT && o->ty && strcmp(ty_str(&A, o->ty), "f32[B, 12]") == 0, "output is %s",
           o->ty ? ty_str(&A, o->ty) : "?");

    /* a loop whose type keeps changing is an error [for.type] */
    out = check_src("fn grow(x: f32[K]) {\n  for i in 0 .. 3 { x = concat(x, x) }\n  x\n}\n", &n, NULL);
    EXPECT(n == 1 && strstr(out, "'x' is f32[2*K] after the first iteration of this loop but f32[4*K]"),
           "loop type error: %s", out);

    /* a call through a function-valued formal is checked where the function is known */
    out = check_src(
        "fn app(x: f32[N], f: fn) -> f32[N] { f(x) }\n"
        "fn ok(x: f32[3]) { app(x, exp) }\n"
        "fn bad(x: f32[3]) { app(x, sum) }\n", &n, NULL);
    EXPECT(n == 1 && strstr(out, "'app' is declared to return f32[3], but its body gives f32") &&
               strstr(out, "note: in this call of app (with f = sum)"),
           "instance error: %s", out);

    /* unification solves 2*N = 10 and substitutes into the result */
    out = check_src("fn halves(x: f32[2*N]) -> f32[N] { x[0:N] }\nfn f(x: f32[10]) { halves(x) }\n", &n, &prog);
    const Node *f = find_decl(prog, "f");
    EXPECT(n == 0 && f && f->ty && f->ty->ret && strcmp(ty_str(&A, f->ty->ret), "f32[5]") == 0,
           "halves(f32[10]) is %s (%s)", f && f->ty && f->ty->ret ? ty_str(&A, f->ty->ret) : "?", out);
}

int main(void) {
    test_canonical();
    test_division();
    test_solve();
    test_overflow();
    test_shapes();
    test_checker();
    test_loops_and_instances();
    arena_free(&A);
    if (failures)
        fprintf(stderr, "unit_types: %d failure(s)\n", failures);
    else
        printf("unit_types: all passed\n");
    return failures != 0;
}
