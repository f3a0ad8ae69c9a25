/* types.c - symbolic dim algebra, shapes and types for the checker (see types.h).
 *
 * A dim is a sum of terms coef * atom * atom * ..., kept sorted with like terms merged and zero
 * terms dropped, so equality of dims is equality of their canonical forms. The atoms are dim
 * variables, products of shape variables (*S), and divisions/remainders that could not be
 * simplified; substituting values into an opaque atom re-runs the division, so a conv output
 * size written with unknowns folds to a number once they are known. Coefficients are int64 with
 * overflow detected (DimCtx.overflow), never wrapped.
 */
#include "types.h"
#include "intmath.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- ordering ---- */

static int str_cmp(const char *a, const char *b) {
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

static int atom_cmp(const DimAtom *x, const DimAtom *y) {
    if (x == y)
        return 0;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int r = str_cmp(x->name, y->name);
    if (r)
        return r;
    if (x->inst != y->inst)
        return x->inst < y->inst ? -1 : 1;
    if (x->kind == DA_DIV || x->kind == DA_MOD) {
        r = ty_dim_cmp(x->a, y->a);
        if (r)
            return r;
        return ty_dim_cmp(x->b, y->b);
    }
    return 0;
}

static int mono_cmp(const DimTerm *x, const DimTerm *y) {
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    for (int i = 0; i < x->n; i++) {
        int r = atom_cmp(x->atoms[i], y->atoms[i]);
        if (r)
            return r;
    }
    return 0;
}

int ty_dim_cmp(const SDim *x, const SDim *y) {
    if (x == y)
        return 0;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    for (int i = 0; i < x->n; i++) {
        int r = mono_cmp(&x->t[i], &y->t[i]);
        if (r)
            return r;
        if (x->t[i].coef != y->t[i].coef)
            return x->t[i].coef < y->t[i].coef ? -1 : 1;
    }
    return 0;
}

bool ty_dim_eq(const SDim *x, const SDim *y) { return ty_dim_cmp(x, y) == 0; }

/* ---- construction ---- */

static int64_t add_ov(DimCtx *c, int64_t x, int64_t y) {
    int64_t r;
    if (!im_add(x, y, &r)) {
        c->overflow = true;
        return 1;
    }
    return r;
}

static int64_t mul_ov(DimCtx *c, int64_t x, int64_t y) {
    int64_t r;
    if (!im_mul(x, y, &r)) {
        c->overflow = true;
        return 1;
    }
    return r;
}

/* Sort terms (insertion sort: dims have few terms), merge like ones, drop zeros. */
static const SDim *normalize(DimCtx *c, DimTerm *t, int n) {
    for (int i = 1; i < n; i++) {
        DimTerm k = t[i];
        int j = i - 1;
        while (j >= 0 && mono_cmp(&t[j], &k) > 0) {
            t[j + 1] = t[j];
            j--;
        }
        t[j + 1] = k;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && mono_cmp(&t[m - 1], &t[i]) == 0)
            t[m - 1].coef = add_ov(c, t[m - 1].coef, t[i].coef);
        else
            t[m++] = t[i];
        if (m > 0 && t[m - 1].coef == 0)
            m--;
    }
    SDim *d = arena_alloc(c->a, sizeof *d);
    d->n = m;
    d->t = t;
    return d;
}

const SDim *ty_dim_const(DimCtx *c, int64_t v) {
    SDim *d = arena_alloc(c->a, sizeof *d);
    if (v == 0)
        return d;
    DimTerm *t = arena_alloc(c->a, sizeof *t);
    t->coef = v;
    d->n = 1;
    d->t = t;
    return d;
}

static const SDim *from_atom(DimCtx *c, const DimAtom *at) {
    DimTerm *t = arena_alloc(c->a, sizeof *t);
    const DimAtom **as = arena_alloc(c->a, sizeof *as);
    as[0] = at;
    t->coef = 1;
    t->n = 1;
    t->atoms = as;
    SDim *d = arena_alloc(c->a, sizeof *d);
    d->n = 1;
    d->t = t;
    return d;
}

const SDim *ty_dim_sym(DimCtx *c, const char *name, int inst) {
    DimAtom *at = arena_alloc(c->a, sizeof *at);
    at->kind = DA_SYM;
    at->name = name;
    at->inst = inst;
    return from_atom(c, at);
}

const SDim *ty_dim_prod(DimCtx *c, const char *rest_name, int inst) {
    DimAtom *at = arena_alloc(c->a, sizeof *at);
    at->kind = DA_PROD;
    at->name = rest_name;
    at->inst = inst;
    return from_atom(c, at);
}

static const SDim *opaque(DimCtx *c, DimAtomKind k, const SDim *x, const SDim *y) {
    DimAtom *at = arena_alloc(c->a, sizeof *at);
    at->kind = k;
    at->a = x;
    at->b = y;
    return from_atom(c, at);
}

bool ty_dim_is_const(const SDim *x, int64_t *v) {
    if (x->n == 0) {
        *v = 0;
        return true;
    }
    if (x->n == 1 && x->t[0].n == 0) {
        *v = x->t[0].coef;
        return true;
    }
    return false;
}

const SDim *ty_dim_add(DimCtx *c, const SDim *x, const SDim *y) {
    if (x->n == 0)
        return y;
    if (y->n == 0)
        return x;
    DimTerm *t = arena_alloc(c->a, sizeof *t * (size_t)(x->n + y->n + 1));
    if (x->n > 0)
        memcpy(t, x->t, sizeof *t * (size_t)x->n);
    if (y->n > 0)
        memcpy(t + x->n, y->t, sizeof *t * (size_t)y->n);
    return normalize(c, t, x->n + y->n);
}

const SDim *ty_dim_neg(DimCtx *c, const SDim *x) {
    DimTerm *t = arena_alloc(c->a, sizeof *t * (size_t)(x->n + 1));
    for (int i = 0; i < x->n; i++) {
        t[i] = x->t[i];
        t[i].coef = mul_ov(c, t[i].coef, -1);
    }
    return normalize(c, t, x->n);
}

const SDim *ty_dim_sub(DimCtx *c, const SDim *x, const SDim *y) {
    return ty_dim_add(c, x, ty_dim_neg(c, y));
}

static DimTerm term_mul(DimCtx *c, const DimTerm *x, const DimTerm *y) {
    DimTerm r;
    r.coef = mul_ov(c, x->coef, y->coef);
    r.n = x->n + y->n;
    const DimAtom **as = arena_alloc(c->a, sizeof *as * (size_t)(r.n + 1));
    /* merge two sorted atom lists */
    int i = 0, j = 0, k = 0;
    while (i < x->n || j < y->n) {
        if (j >= y->n || (i < x->n && atom_cmp(x->atoms[i], y->atoms[j]) <= 0))
            as[k++] = x->atoms[i++];
        else
            as[k++] = y->atoms[j++];
    }
    r.atoms = as;
    return r;
}

static bool is_const_one(const SDim *x) { return x->n == 1 && x->t[0].n == 0 && x->t[0].coef == 1; }

static bool term_div(DimCtx *c, const DimTerm *x, const DimTerm *y, DimTerm *out);

/* A term holding an opaque a / b (b one term) and b's factors as well: the quotient is exact
 * (a dim is an exact division: lowering refuses an inexact one), so b * (a / b) is a, and the term
 * becomes (term / (b * (a / b))) * a: H * (E / H) is E (multi_head_attention's heads). NULL when
 * no such atom. */
static const SDim *cancel_div(DimCtx *c, const DimTerm *t) {
    for (int i = 0; i < t->n; i++) {
        const DimAtom *at = t->atoms[i];
        if (at->kind != DA_DIV || at->b->n != 1)
            continue;
        DimTerm rest = {.coef = t->coef, .n = t->n - 1};
        const DimAtom **as = arena_alloc(c->a, sizeof *as * (size_t)t->n);
        for (int j = 0, k = 0; j < t->n; j++)
            if (j != i)
                as[k++] = t->atoms[j];
        rest.atoms = as;
        DimTerm q;
        if (!term_div(c, &rest, &at->b->t[0], &q))
            continue;
        DimTerm *one = arena_alloc(c->a, sizeof *one);
        *one = q;
        return ty_dim_mul(c, normalize(c, one, 1), at->a);
    }
    return NULL;
}

const SDim *ty_dim_mul(DimCtx *c, const SDim *x, const SDim *y) {
    if (is_const_one(x) || y->n == 0)
        return y;
    if (is_const_one(y) || x->n == 0)
        return x;
    int n = x->n * y->n;
    DimTerm *t = arena_alloc(c->a, sizeof *t * (size_t)(n + 1));
    int k = 0;
    for (int i = 0; i < x->n; i++)
        for (int j = 0; j < y->n; j++)
            t[k++] = term_mul(c, &x->t[i], &y->t[j]);
    const SDim *r = normalize(c, t, n);
    for (int i = 0; i < r->n; i++) {
        const SDim *v = cancel_div(c, &r->t[i]);
        if (!v)
            continue;
        /* the other terms, plus the cancelled one */
        DimTerm *o = arena_alloc(c->a, sizeof *o * (size_t)(r->n + 1));
        int m = 0;
        for (int j = 0; j < r->n; j++)
            if (j != i)
                o[m++] = r->t[j];
        return ty_dim_add(c, normalize(c, o, m), v);
    }
    return r;
}

/* Divide term x by monomial-with-coefficient y when that is exact; false otherwise. */
static bool term_div(DimCtx *c, const DimTerm *x, const DimTerm *y, DimTerm *out) {
    int64_t q;
    bool exact;
    if (!im_div(x->coef, y->coef, &q, &exact) || !exact)
        return false;
    const DimAtom **as = arena_alloc(c->a, sizeof *as * (size_t)(x->n + 1));
    int i = 0, j = 0, k = 0;
    while (i < x->n) {
        if (j < y->n && atom_cmp(x->atoms[i], y->atoms[j]) == 0) {
            i++;
            j++;
        } else {
            if (j < y->n && atom_cmp(x->atoms[i], y->atoms[j]) > 0)
                return false;   /* y's atom is missing from x */
            as[k++] = x->atoms[i++];
        }
    }
    if (j < y->n)
        return false;
    out->coef = q;
    out->n = k;
    out->atoms = as;
    return true;
}

const SDim *ty_dim_div(DimCtx *c, const SDim *x, const SDim *y, const char **why) {
    int64_t xv = 0, yv = 0;
    bool xk = ty_dim_is_const(x, &xv), yk = ty_dim_is_const(y, &yv);
    if (yk && yv == 0) {
        *why = "division by zero";
        return NULL;
    }
    if (xk && yk) {
        int64_t q;
        bool exact;
        if (!im_div(xv, yv, &q, &exact)) {     /* INT64_MIN / -1 */
            c->overflow = true;
            return ty_dim_const(c, 1);
        }
        if (!exact) {
            *why = "not exact";
            return NULL;
        }
        return ty_dim_const(c, q);
    }
    if (ty_dim_eq(x, y))
        return ty_dim_const(c, 1);
    if (y->n == 1) {
        /* by a single term: exact when it divides every term of x */
        DimTerm *t = arena_alloc(c->a, sizeof *t * (size_t)(x->n + 1));
        bool ok = true;
        for (int i = 0; i < x->n && ok; i++)
            ok = term_div(c, &x->t[i], &y->t[0], &t[i]);
        if (ok)
            return normalize(c, t, x->n);
    } else if (x->n == y->n && y->n > 0) {
        /* x = q * y for a constant q */
        int64_t q = 0;
        bool exact = false;
        bool ok = im_div(x->t[0].coef, y->t[0].coef, &q, &exact) && exact;
        for (int i = 0; i < x->n && ok; i++) {
            int64_t p;
            ok = mono_cmp(&x->t[i], &y->t[i]) == 0 && im_mul(y->t[i].coef, q, &p) &&
                 p == x->t[i].coef;
        }
        if (ok)
            return ty_dim_const(c, q);
    }
    if (xk && xv == 0)
        return x;
    if (x->n == 1 && y->n == 1) {
        /* monomials: cancel the atoms both hold (E*N*T / (H*N*T) is E / H) */
        const DimTerm *a = &x->t[0], *b = &y->t[0];
        const DimAtom **an = arena_alloc(c->a, sizeof *an * (size_t)(a->n + 1));
        const DimAtom **bn = arena_alloc(c->a, sizeof *bn * (size_t)(b->n + 1));
        int i = 0, j = 0, na = 0, nb = 0;
        while (i < a->n || j < b->n) {
            int r = i >= a->n ? 1 : j >= b->n ? -1 : atom_cmp(a->atoms[i], b->atoms[j]);
            if (r == 0)
                i++, j++;
            else if (r < 0)
                an[na++] = a->atoms[i++];
            else
                bn[nb++] = b->atoms[j++];
        }
        if (na < a->n) {
            DimTerm *ta = arena_alloc(c->a, sizeof *ta), *tb = arena_alloc(c->a, sizeof *tb);
            *ta = (DimTerm){.coef = a->coef, .n = na, .atoms = an};
            *tb = (DimTerm){.coef = b->coef, .n = nb, .atoms = bn};
            return ty_dim_div(c, normalize(c, ta, 1), normalize(c, tb, 1), why);
        }
    }
    return opaque(c, DA_DIV, x, y);
}

const SDim *ty_dim_mod(DimCtx *c, const SDim *x, const SDim *y, const char **why) {
    int64_t xv = 0, yv = 0;
    bool xk = ty_dim_is_const(x, &xv), yk = ty_dim_is_const(y, &yv);
    if (yk && yv == 0) {
        *why = "division by zero";
        return NULL;
    }
    if (xk && yk) {
        int64_t r = 0;
        im_mod(xv, yv, &r);     /* yv != 0 here */
        return ty_dim_const(c, r);
    }
    if (ty_dim_eq(x, y) || (xk && xv == 0))
        return ty_dim_const(c, 0);
    if (yk) {
        bool all = true;
        for (int i = 0; i < x->n && all; i++)
            all = im_divides(x->t[i].coef, yv);
        if (all)
            return ty_dim_const(c, 0);
    }
    return opaque(c, DA_MOD, x, y);
}

/* ---- printing ---- */

typedef struct Buf {
    char *p;
    size_t n, len;
} Buf;

static void put(Buf *b, const char *s) {
    for (; *s; s++) {
        if (b->len + 1 < b->n)
            b->p[b->len] = *s;
        b->len++;
    }
    if (b->n)
        b->p[b->len < b->n ? b->len : b->n - 1] = 0;
}

static void dim_put(Buf *b, const SDim *x);

/* An operand of / or %: parenthesised unless it is a plain number or a single variable. */
static void operand_put(Buf *b, const SDim *x) {
    int64_t v;
    bool simple = (ty_dim_is_const(x, &v) && v >= 0) ||
                  (x->n == 1 && x->t[0].coef == 1 && x->t[0].n == 1 &&
                   (x->t[0].atoms[0]->kind == DA_SYM || x->t[0].atoms[0]->kind == DA_PROD));
    if (!simple)
        put(b, "(");
    dim_put(b, x);
    if (!simple)
        put(b, ")");
}

static void atom_put(Buf *b, const DimAtom *a, bool alone) {
    switch (a->kind) {
    case DA_SYM:
        put(b, a->name);
        break;
    case DA_PROD:
        put(b, "prod(");
        put(b, a->name);
        put(b, ")");
        break;
    case DA_DIV:
    case DA_MOD:
        if (!alone)
            put(b, "(");
        operand_put(b, a->a);
        put(b, a->kind == DA_DIV ? "/" : " % ");
        operand_put(b, a->b);
        if (!alone)
            put(b, ")");
        break;
    }
}

static void term_put(Buf *b, const DimTerm *t, bool first) {
    uint64_t mag = t->coef < 0 ? (uint64_t)0 - (uint64_t)t->coef : (uint64_t)t->coef;
    if (first)
        put(b, t->coef < 0 ? "-" : "");
    else
        put(b, t->coef < 0 ? " - " : " + ");
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, mag);
    if (t->n == 0) {
        put(b, num);
        return;
    }
    if (mag != 1) {
        put(b, num);
        put(b, "*");
    }
    for (int i = 0; i < t->n; i++) {
        if (i)
            put(b, "*");
        atom_put(b, t->atoms[i], t->n == 1 && mag == 1);
    }
}

static void dim_put(Buf *b, const SDim *x) {
    if (x->n == 0) {
        put(b, "0");
        return;
    }
    bool first = true;
    for (int i = 0; i < x->n; i++)      /* variables first, the constant last: `H - K + 1` */
        if (x->t[i].n > 0) {
            term_put(b, &x->t[i], first);
            first = false;
        }
    if (x->t[0].n == 0)
        term_put(b, &x->t[0], first);
}

void ty_dim_str(const SDim *x, char *buf, size_t n) {
    Buf b = {buf, n, 0};
    if (n)
        buf[0] = 0;
    dim_put(&b, x);
}

const char *ty_dim_astr(Arena *a, const SDim *x) {
    char tmp[256];
    Buf b = {tmp, sizeof tmp, 0};
    tmp[0] = 0;
    dim_put(&b, x);
    if (b.len < sizeof tmp)
        return arena_strdup(a, tmp);
    char *p = arena_alloc(a, b.len + 1);
    Buf b2 = {p, b.len + 1, 0};
    dim_put(&b2, x);
    return p;
}

/* ---- environments and substitution ---- */

DimBind *ty_env_find(const DimEnv *e, const char *name) {
    for (int i = e->n - 1; i >= 0; i--)
        if (strcmp(e->b[i].name, name) == 0)
            return &e->b[i];
    return NULL;
}

DimBind *ty_env_bind_dim(Arena *a, DimEnv *e, const char *name, const SDim *d, Loc where) {
    DimBind *b = ARENA_PUSH(a, e->b, e->n, e->cap);
    memset(b, 0, sizeof *b);
    b->name = name;
    b->dim = d;
    b->where = where;
    return b;
}

DimBind *ty_env_bind_rest(Arena *a, DimEnv *e, const char *name, Shape s, Loc where) {
    DimBind *b = ARENA_PUSH(a, e->b, e->n, e->cap);
    memset(b, 0, sizeof *b);
    b->name = name;
    b->is_rest = true;
    b->shape = s;
    b->where = where;
    return b;
}

static const SDim *shape_prod(DimCtx *c, const Shape *s) {
    const SDim *p = ty_dim_const(c, 1);
    for (int i = 0; i < s->rank; i++)
        p = ty_dim_mul(c, p, s->dims[i]);
    if (s->rest >= 0)
        p = ty_dim_mul(c, p, ty_dim_prod(c, s->rest_name, s->rest_inst));
    return p;
}

static const SDim *atom_subst(DimCtx *c, const DimAtom *at, const DimEnv *e) {
    switch (at->kind) {
    case DA_SYM:
        if (at->inst == e->inst) {
            DimBind *b = ty_env_find(e, at->name);
            if (b && !b->is_rest)
                return b->dim;
        }
        return from_atom(c, at);
    case DA_PROD:
        if (at->inst == e->inst) {
            DimBind *b = ty_env_find(e, at->name);
            if (b && b->is_rest)
                return shape_prod(c, &b->shape);
        }
        return from_atom(c, at);
    case DA_DIV:
    case DA_MOD: {
        const SDim *x = ty_dim_subst(c, at->a, e), *y = ty_dim_subst(c, at->b, e);
        const char *why = NULL;
        const SDim *r = at->kind == DA_DIV ? ty_dim_div(c, x, y, &why) : ty_dim_mod(c, x, y, &why);
        if (!r) {
            c->div_error = why;
            return opaque(c, at->kind, x, y);
        }
        return r;
    }
    }
    return from_atom(c, at);
}

const SDim *ty_dim_subst(DimCtx *c, const SDim *x, const DimEnv *e) {
    if (!e || e->n == 0 || !ty_dim_has_inst(x, e->inst))
        return x;
    const SDim *sum = ty_dim_const(c, 0);
    for (int i = 0; i < x->n; i++) {
        const SDim *p = ty_dim_const(c, x->t[i].coef);
        for (int j = 0; j < x->t[i].n; j++)
            p = ty_dim_mul(c, p, atom_subst(c, x->t[i].atoms[j], e));
        sum = ty_dim_add(c, sum, p);
    }
    return sum;
}

static bool atom_has_inst(const DimAtom *a, int inst) {
    if (a->kind == DA_DIV || a->kind == DA_MOD)
        return ty_dim_has_inst(a->a, inst) || ty_dim_has_inst(a->b, inst);
    return a->inst == inst;
}

bool ty_dim_has_inst(const SDim *x, int inst) {
    for (int i = 0; i < x->n; i++)
        for (int j = 0; j < x->t[i].n; j++)
            if (atom_has_inst(x->t[i].atoms[j], inst))
                return true;
    return false;
}

int ty_dim_solve(DimCtx *c, const SDim *x, int inst, const char **name, const SDim **value) {
    const char *unk = NULL;
    int64_t coef = 0;
    int idx = -1;
    for (int i = 0; i < x->n; i++) {
        const DimTerm *t = &x->t[i];
        bool has = false;
        for (int j = 0; j < t->n; j++)
            has |= atom_has_inst(t->atoms[j], inst);
        if (!has)
            continue;
        if (t->n != 1 || t->atoms[0]->kind != DA_SYM)
            return -2;                       /* products, divisions of unknowns */
        if (unk && strcmp(unk, t->atoms[0]->name) != 0)
            return -2;                       /* two unknowns */
        unk = t->atoms[0]->name;
        coef = t->coef;
        idx = i;
    }
    if (!unk)
        return x->n == 0 ? 0 : -1;
    /* coef * N + rest = 0  =>  N = -rest / coef */
    DimTerm *t = arena_alloc(c->a, sizeof *t * (size_t)(x->n + 1));
    int k = 0;
    for (int i = 0; i < x->n; i++) {
        if (i == idx)
            continue;
        int64_t q;
        bool exact;
        if (!im_div(x->t[i].coef, coef, &q, &exact) || !exact)
            return -1;
        t[k] = x->t[i];
        t[k].coef = mul_ov(c, -1, q);
        k++;
    }
    *name = unk;
    *value = normalize(c, t, k);
    return 1;
}

/* ---- types ---- */

static const Type error_type = {.kind = TY_ERROR, .shape = {.rest = -1}};
static const Type any_type = {.kind = TY_ANY, .shape = {.rest = -1}};

const Type *ty_error(void) { return &error_type; }
const Type *ty_any(void) { return &any_type; }

Type *ty_new(Arena *a, TypeKind k) {
    Type *t = arena_alloc(a, sizeof *t);
    t->kind = k;
    t->shape.rest = -1;
    return t;
}

Type *ty_tensor(Arena *a, DType dt, int rank, const SDim **dims) {
    Type *t = ty_new(a, TY_TENSOR);
    t->dtype = dt;
    t->shape.rank = rank;
    t->shape.dims = dims;
    return t;
}

bool ty_is_scalar_value(const Type *t) { return t->kind == TY_INT || t->kind == TY_FLOAT; }
bool ty_is_bad(const Type *t) { return t->kind == TY_ERROR || t->kind == TY_ANY; }

const char *ty_dtype_name(DType dt) {
    switch (dt) {
    case DT_F32: return "f32";
    case DT_I32: return "i32";
    case DT_BOOL: return "bool";
    }
    return "?";
}

const char *ty_shape_str(Arena *a, const Shape *s) {
    const char *r = "";
    int total = s->rank + (s->rest >= 0);
    for (int i = 0, d = 0; i < total; i++) {
        const char *item;
        if (i == s->rest)
            item = arena_printf(a, "*%s", s->rest_name);
        else
            item = ty_dim_astr(a, s->dims[d++]);
        r = arena_printf(a, "%s%s%s", r, i ? ", " : "", item);
    }
    return r;
}

const char *ty_str(Arena *a, const Type *t) {
    switch (t->kind) {
    case TY_ERROR: return "<error>";
    case TY_ANY: return "<unknown>";
    case TY_TENSOR:
        if (t->shape.rank == 0 && t->shape.rest < 0)
            return ty_dtype_name(t->dtype);
        return arena_printf(a, "%s[%s]", ty_dtype_name(t->dtype), ty_shape_str(a, &t->shape));
    case TY_INT: return "int";
    case TY_FLOAT: return "float";
    case TY_BOOL: return "bool";
    case TY_STR: return "str";
    case TY_FN:
        if (t->instance)
            return arena_printf(a, "an instance of layer %s", t->fname);
        return t->fname ? arena_printf(a, "fn %s", t->fname) : "fn";
    case TY_GROUP: return arena_printf(a, "parameter group %s", t->path ? t->path : "");
    case TY_MODEL: return "model";
    case TY_TUPLE: {
        const char *r = "(";
        for (int i = 0; i < t->nelems; i++)
            r = arena_printf(a, "%s%s%s", r, i ? ", " : "", ty_str(a, t->elems[i]));
        return arena_printf(a, "%s)", r);
    }
    }
    return "?";
}

bool ty_shape_eq(const Shape *x, const Shape *y) {
    if (x->rank != y->rank || x->rest != y->rest)
        return false;
    if (x->rest >= 0 && (str_cmp(x->rest_name, y->rest_name) || x->rest_inst != y->rest_inst))
        return false;
    for (int i = 0; i < x->rank; i++)
        if (!ty_dim_eq(x->dims[i], y->dims[i]))
            return false;
    return true;
}

bool ty_eq(const Type *x, const Type *y) {
    if (x->kind != y->kind)
        return false;
    if (x->kind == TY_TENSOR)
        return x->dtype == y->dtype && ty_shape_eq(&x->shape, &y->shape);
    if (x->kind == TY_TUPLE) {
        if (x->nelems != y->nelems)
            return false;
        for (int i = 0; i < x->nelems; i++)
            if (!ty_eq(x->elems[i], y->elems[i]))
                return false;
    }
    return true;
}

Type *ty_tuple(Arena *a, int n, const Type **elems) {
    Type *t = ty_new(a, TY_TUPLE);
    t->nelems = n;
    t->elems = elems;
    return t;
}

Shape ty_shape_subst(DimCtx *c, const Shape *s, const DimEnv *e) {
    Shape r = *s;
    DimBind *rb = NULL;
    if (s->rest >= 0 && e && s->rest_inst == e->inst)
        rb = ty_env_find(e, s->rest_name);
    if (rb && !rb->is_rest)
        rb = NULL;
    int n = s->rank + (rb ? rb->shape.rank : 0);
    const SDim **d = arena_alloc(c->a, sizeof *d * (size_t)(n + 1));
    int k = 0;
    for (int i = 0; i < s->rank; i++) {
        if (rb && i == s->rest) {
            r.rest = rb->shape.rest >= 0 ? k + rb->shape.rest : -1;
            r.rest_name = rb->shape.rest_name;
            r.rest_inst = rb->shape.rest_inst;
            for (int j = 0; j < rb->shape.rank; j++)
                d[k++] = rb->shape.dims[j];
        }
        d[k++] = ty_dim_subst(c, s->dims[i], e);
    }
    if (rb && s->rest == s->rank) {
        r.rest = rb->shape.rest >= 0 ? k + rb->shape.rest : -1;
        r.rest_name = rb->shape.rest_name;
        r.rest_inst = rb->shape.rest_inst;
        for (int j = 0; j < rb->shape.rank; j++)
            d[k++] = rb->shape.dims[j];
    }
    if (r.rest < 0) {
        r.rest_name = NULL;
        r.rest_inst = 0;
    }
    r.rank = k;
    r.dims = d;
    return r;
}

Type *ty_subst(DimCtx *c, const Type *t, const DimEnv *e) {
    Type *r = ty_new(c->a, t->kind);
    *r = *t;
    if (t->kind == TY_TENSOR)
        r->shape = ty_shape_subst(c, &t->shape, e);
    else if (t->kind == TY_INT && t->ival)
        r->ival = ty_dim_subst(c, t->ival, e);
    else if (t->kind == TY_TUPLE) {
        const Type **el = arena_alloc(c->a, sizeof *el * (size_t)(t->nelems + 1));
        for (int i = 0; i < t->nelems; i++)
            el[i] = ty_subst(c, t->elems[i], e);
        r->elems = el;
    }
    return r;
}

/* ---- parameter lists ---- */

const ParamEntry *ty_params_find(const ParamList *l, const char *path) {
    if (!l)
        return NULL;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->e[i].path, path) == 0)
            return &l->e[i];
    return NULL;
}

bool ty_params_has_prefix(const ParamList *l, const char *prefix) {
    if (!l)
        return false;
    size_t n = strlen(prefix);
    for (int i = 0; i < l->n; i++)
        if (strncmp(l->e[i].path, prefix, n) == 0 && l->e[i].path[n] == '.')
            return true;
    return false;
}
