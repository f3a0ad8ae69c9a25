/* check_expr.c - types of operators, indexing and tensor literals (docs/language.md section 3
 * "Operators on tensors", [shape.broadcast], [shape.matmul], [shape.index], [builtin.mod],
 * [builtin.pow]). Names, calls of user functions and statements are in check.c, builtins in
 * builtins.c; this file only computes the type of one construct from the types of its parts.
 * compiler/lower.c evaluates check_binary on concrete types (binary_type_concrete), so an
 * operator's result shape is derived here only.
 *
 * Compile-time numbers (int, float) are weak: next to a tensor they take its dtype
 * ([type.literal]), except that a float never becomes i32 ([type.dtype]). Shapes may end or start
 * with a shape variable (*S) in generic bodies; the rules below work on the known dims around it
 * and refuse what would need the unknown rank.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast_text.h"
#include "check_int.h"

bool check_is_ct(const Type *t) { return t->kind == TY_INT || t->kind == TY_FLOAT || t->kind == TY_BOOL; }

bool check_num_value(const Type *t, double *v) {
    int64_t i;
    if (t->kind == TY_FLOAT && t->known) {
        *v = t->fval;
        return true;
    }
    if (t->kind == TY_INT && t->ival && ty_dim_is_const(t->ival, &i)) {
        *v = (double)i;
        return true;
    }
    return false;
}

Type *check_int_type(Body *b, const SDim *v) {
    Type *t = ty_new(b->C->a, TY_INT);
    t->ival = v;
    return t;
}

/* ---- broadcasting ---- */

static bool is_one(const SDim *d) {
    int64_t v;
    return ty_dim_is_const(d, &v) && v == 1;
}

static bool bcast_dim(const SDim *x, const SDim *y, const SDim **out) {
    if (ty_dim_eq(x, y) || is_one(y))
        *out = x;
    else if (is_one(x))
        *out = y;
    else
        return false;
    return true;
}

/* Right-aligned broadcast of the dims x[0..nx) and y[0..ny) into out (max(nx, ny) dims). */
static bool bcast_dims(const SDim **x, int nx, const SDim **y, int ny, const SDim **out) {
    int n = nx > ny ? nx : ny;
    for (int i = 0; i < n; i++) {
        int xi = nx - n + i, yi = ny - n + i;
        if (xi < 0)
            out[i] = y[yi];
        else if (yi < 0)
            out[i] = x[xi];
        else if (!bcast_dim(x[xi], y[yi], &out[i]))
            return false;
    }
    return true;
}

bool check_broadcast(Body *b, const Shape *x, const Shape *y, Shape *out) {
    Arena *a = b->C->a;
    if (x->rest < 0 && y->rest < 0) {
        int n = x->rank > y->rank ? x->rank : y->rank;
        const SDim **d = arena_alloc(a, sizeof *d * (size_t)(n + 1));
        if (!bcast_dims(x->dims, x->rank, y->dims, y->rank, d))
            return false;
        *out = (Shape){.rank = n, .dims = d, .rest = -1};
        return true;
    }
    if (x->rest < 0 || y->rest < 0) {
        const Shape *r = x->rest >= 0 ? x : y, *k = x->rest >= 0 ? y : x;
        int suffix = r->rank - r->rest;
        if (k->rank > suffix)
            return false;
        const SDim **d = arena_alloc(a, sizeof *d * (size_t)(r->rank + 1));
        if (r->rank > 0)
            memcpy(d, r->dims, sizeof *d * (size_t)r->rank);
        if (!bcast_dims(r->dims + r->rest, suffix, k->dims, k->rank, d + r->rest))
            return false;
        *out = *r;
        out->dims = d;
        return true;
    }
    if (x->rest != y->rest || x->rank != y->rank || strcmp(x->rest_name, y->rest_name) != 0 ||
        x->rest_inst != y->rest_inst)
        return false;
    const SDim **d = arena_alloc(a, sizeof *d * (size_t)(x->rank + 1));
    for (int i = 0; i < x->rank; i++)
        if (!bcast_dim(x->dims[i], y->dims[i], &d[i]))
            return false;
    *out = *x;
    out->dims = d;
    return true;
}

/* ---- operators ---- */

/* Does d hold a division that could not be simplified? */
static bool dim_has_div_atom(const SDim *d) {
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->t[i].n; j++)
            if (d->t[i].atoms[j]->kind == DA_DIV)
                return true;
    return false;
}

static const Type *const_binary(Body *b, Node *n, int op, const Type *l, const Type *r, const char *who) {
    Check *C = b->C;
    bool logic = op == OP_AND_ || op == OP_OR_, cmp = op >= OP_EQ_ && op <= OP_GE_;
    if (logic) {
        if (l->kind != TY_BOOL || r->kind != TY_BOOL) {
            check_error(b, n->loc, "%s needs bool operands, got %s and %s", who,
                        check_tystr(b, l), check_tystr(b, r));
            return ty_error();
        }
        Type *t = ty_new(C->a, TY_BOOL);
        t->known = l->known && r->known;
        t->bval = op == OP_AND_ ? (l->bval && r->bval) : (l->bval || r->bval);
        return t;
    }
    if ((l->kind == TY_BOOL) != (r->kind == TY_BOOL) ||
        (l->kind == TY_BOOL && !(op == OP_EQ_ || op == OP_NE_))) {
        check_error(b, n->loc, "%s cannot take %s and %s", who, check_tystr(b, l),
                    check_tystr(b, r));
        return ty_error();
    }
    double x, y;
    bool known = check_num_value(l, &x) && check_num_value(r, &y);
    if (cmp) {
        Type *t = ty_new(C->a, TY_BOOL);
        if (l->kind == TY_BOOL) {
            t->known = l->known && r->known;
            t->bval = (l->bval == r->bval) == (op == OP_EQ_);
            return t;
        }
        t->known = known;
        if (known) {
            switch (op) {
            case OP_EQ_: t->bval = x == y; break;
            case OP_NE_: t->bval = x != y; break;
            case OP_LT_: t->bval = x < y; break;
            case OP_LE_: t->bval = x <= y; break;
            case OP_GT_: t->bval = x > y; break;
            default: t->bval = x >= y; break;
            }
        }
        return t;
    }
    if (l->kind == TY_INT && r->kind == TY_INT) {
        const SDim *v = NULL, *p = l->ival, *q = r->ival;
        const char *why = NULL;
        if (p && q) {
            switch (op) {
            case OP_ADD_: v = ty_dim_add(&C->dc, p, q); break;
            case OP_SUB_: v = ty_dim_sub(&C->dc, p, q); break;
            case OP_MUL_: v = ty_dim_mul(&C->dc, p, q); break;
            case OP_DIV_:
                v = ty_dim_div(&C->dc, p, q, &why);
                if (!v && strcmp(why, "not exact") == 0) {
                    Type *t = ty_new(C->a, TY_FLOAT);     /* 1/1000 is a real */
                    t->known = known;
                    t->fval = x / y;
                    return t;
                }
                /* [int.div] a quotient of unknowns (t / K with t a loop variable) is an int only
                 * if each call's values divide: the calls check the body again with them */
                if (v && !b->instance && b->info && b->kind != ND_MODEL && dim_has_div_atom(v))
                    b->info->value_dependent = true;
                break;
            case OP_MOD_: v = ty_dim_mod(&C->dc, p, q, &why); break;
            case OP_FLOORDIV_: {    /* [int.floordiv]: (p - p % q) / q, exact by construction */
                const SDim *m = ty_dim_mod(&C->dc, p, q, &why);
                v = m ? ty_dim_div(&C->dc, ty_dim_sub(&C->dc, p, m), q, &why) : NULL;
                break;
            }
            case OP_POW_: {
                int64_t e, base;
                if (ty_dim_is_const(q, &e) && e < 0) {
                    Type *t = ty_new(C->a, TY_FLOAT);
                    t->known = known;
                    t->fval = 1.0;
                    for (int64_t i = 0; i < -e && i < 4096; i++)
                        t->fval /= x;
                    if (known && !isfinite(t->fval)) {     /* 0 ** -1 */
                        check_error(b, n->loc, "compile-time arithmetic gives inf, not a finite number");
                        return ty_error();
                    }
                    return t;
                }
                if (ty_dim_is_const(q, &e) && e <= 64) {
                    v = ty_dim_const(&C->dc, 1);
                    for (int64_t i = 0; i < e; i++)
                        v = ty_dim_mul(&C->dc, v, p);
                } else if (ty_dim_is_const(p, &base) && (base == 0 || base == 1)) {
                    v = p;
                } else if (ty_dim_is_const(p, &base) && base == -1 && ty_dim_is_const(q, &e)) {
                    v = ty_dim_const(&C->dc, e % 2 ? -1 : 1);
                } else if (ty_dim_is_const(p, &base) && ty_dim_is_const(q, &e)) {
                    C->dc.overflow = true;      /* |base| >= 2 to a power above 64 [int.overflow] */
                }
                break;
            }
            }
            if (!v && why) {
                check_error(b, n->loc, "integer %s %s", op == OP_MOD_ ? "remainder" : "division", why);
                return ty_error();
            }
            if (C->dc.overflow) {
                C->dc.overflow = false;
                check_error(b, n->loc, "integer arithmetic overflows");
                return ty_error();
            }
        }
        return check_int_type(b, v);
    }
    Type *t = ty_new(C->a, TY_FLOAT);
    t->known = known;
    if (known) {
        switch (op) {
        case OP_ADD_: t->fval = x + y; break;
        case OP_SUB_: t->fval = x - y; break;
        case OP_MUL_: t->fval = x * y; break;
        case OP_DIV_: t->fval = x / y; break;
        case OP_FLOORDIV_: t->fval = floor(x / y); break;
        case OP_MOD_: t->known = false; break;
        case OP_POW_: t->fval = pow(x, y); break;
        default: t->known = false; break;
        }
        /* [lex.float.range] compile-time reals stay finite: 1e308 * 10.0, 10.0 ** 400 and 0.0 / 0.0
         * are errors here, not an inf or a NaN baked into the model */
        if (t->known && !isfinite(t->fval)) {
            check_error(b, n->loc, "compile-time arithmetic gives %s, not a finite number",
                        isnan(t->fval) ? "NaN" : t->fval > 0 ? "inf" : "-inf");
            return ty_error();
        }
    }
    return t;
}

/* matmul: [.., M, K] @ [K, N] -> [.., M, N]; [.., M, K] @ [K] -> [.., M]; batched when both
 * have rank >= 3 (batch dims broadcast) [shape.matmul]. */
static const Type *matmul(Body *b, Node *n, const Type *l, const Type *r) {
    Arena *a = b->C->a;
    if (l->kind != TY_TENSOR || r->kind != TY_TENSOR) {
        check_error(b, n->loc, "operator '@' needs two tensors, got %s and %s", check_tystr(b, l),
                    check_tystr(b, r));
        return ty_error();
    }
    if (l->dtype != DT_F32 || r->dtype != DT_F32) {
        check_error(b, n->loc, "operator '@' multiplies f32 tensors, got %s and %s", check_tystr(b, l),
                    check_tystr(b, r));
        if (l->dtype == DT_I32 || r->dtype == DT_I32)
            check_hint(b, "convert with f32(x)");
        return ty_error();
    }
    const Shape *x = &l->shape, *y = &r->shape;
    if ((x->rank == 0 && x->rest < 0) || (y->rank == 0 && y->rest < 0)) {
        check_error(b, n->loc, "operator '@' cannot take a rank-0 operand: %s @ %s", check_tystr(b, l),
                    check_tystr(b, r));
        check_hint(b, "use '*' to multiply by a scalar");
        return ty_error();
    }
    if (y->rest >= 0 || (x->rest >= 0 && (x->rank - x->rest < 1 || y->rank > 2))) {
        check_error(b, n->loc, "operator '@' needs operands of known rank here: %s @ %s",
                    check_tystr(b, l), check_tystr(b, r));
        return ty_error();
    }
    const SDim *k1 = x->dims[x->rank - 1];
    const SDim *k2 = y->rank == 1 ? y->dims[0] : y->dims[y->rank - 2];
    if (!ty_dim_eq(k1, k2)) {
        check_error(b, n->loc, "operator '@' needs the inner dims to agree: %s @ %s (%s vs %s)",
                    check_tystr(b, l), check_tystr(b, r), check_dimstr(b, k1), check_dimstr(b, k2));
        return ty_error();
    }
    Type *t = ty_new(a, TY_TENSOR);
    t->dtype = l->dtype;
    if (y->rank <= 2) {
        /* [.., K] @ [K, N] -> [.., N];  [.., K] @ [K] -> [..] */
        int n_out = x->rank - 1 + (y->rank == 2);
        const SDim **d = arena_alloc(a, sizeof *d * (size_t)(n_out + 1));
        if ((x->rank - 1) > 0)
            memcpy(d, x->dims, sizeof *d * (size_t)(x->rank - 1));
        if (y->rank == 2)
            d[x->rank - 1] = y->dims[1];
        t->shape = *x;
        t->shape.rank = n_out;
        t->shape.dims = d;
        if (x->rest >= 0 && x->rest > n_out)
            t->shape.rest = n_out;
        return t;
    }
    if (x->rank < 2) {
        check_error(b, n->loc, "operator '@' cannot multiply %s by the batched %s", check_tystr(b, l),
                    check_tystr(b, r));
        return ty_error();
    }
    Shape bx = {.rank = x->rank - 2, .dims = x->dims, .rest = -1};
    Shape by = {.rank = y->rank - 2, .dims = y->dims, .rest = -1};
    Shape bo;
    if (!check_broadcast(b, &bx, &by, &bo)) {
        check_error(b, n->loc, "operator '@' cannot broadcast the batch dims of %s and %s",
                    check_tystr(b, l), check_tystr(b, r));
        return ty_error();
    }
    const SDim **d = arena_alloc(a, sizeof *d * (size_t)(bo.rank + 3));
    if (bo.rank > 0)
        memcpy(d, bo.dims, sizeof *d * (size_t)bo.rank);
    d[bo.rank] = x->dims[x->rank - 2];
    d[bo.rank + 1] = y->dims[y->rank - 1];
    t->shape = (Shape){.rank = bo.rank + 2, .dims = d, .rest = -1};
    return t;
}

static bool is_value_kind(const Type *t) {
    return t->kind == TY_TENSOR || check_is_ct(t);
}

/* Weak constant c next to a tensor of dtype dt: may it take that dtype? */
static bool weak_fits(const Type *c, DType dt) {
    switch (c->kind) {
    case TY_INT: return dt == DT_F32 || dt == DT_I32;
    case TY_FLOAT: return dt == DT_F32;
    case TY_BOOL: return dt == DT_BOOL;
    default: return false;
    }
}

const Type *check_binary(Body *b, Node *n, int op, const Type *l, const Type *r, Loc where, const char *fname) {
    /* on the stack: every error formats it at once, and this runs for every operator (an arena
     * copy per operator grew a long unrolled loop's check by ~100 bytes an iteration) */
    char whobuf[48] = "operator '";
    if (!fname) {
        strncat(whobuf, ast_op_text(op), 32);
        strcat(whobuf, "'");
    }
    const char *who = fname ? fname : whobuf;
    if (l->kind == TY_ERROR || r->kind == TY_ERROR)
        return ty_error();
    if (l->kind == TY_ANY || r->kind == TY_ANY)
        return ty_any();
    if (!is_value_kind(l) || !is_value_kind(r)) {
        check_error(b, where, "%s cannot take %s and %s", who, check_tystr(b, l),
                    check_tystr(b, r));
        return ty_error();
    }
    if (op == OP_FLOORDIV_ && (l->kind == TY_TENSOR || r->kind == TY_TENSOR)) {
        /* [int.floordiv]: `//` computes compile-time sizes, not tensors */
        check_error(b, where, "%s takes compile-time numbers, got %s and %s", who, check_tystr(b, l),
                    check_tystr(b, r));
        check_hint(b, "for tensors write floor(a / b)");
        return ty_error();
    }
    if (op == OP_MATMUL_)
        return matmul(b, n, l, r);
    if (check_is_ct(l) && check_is_ct(r))
        return const_binary(b, n, op, l, r, who);
    bool logic = op == OP_AND_ || op == OP_OR_, cmp = op >= OP_EQ_ && op <= OP_GE_;
    const Type *tt = l->kind == TY_TENSOR ? l : r;   /* a tensor side gives the dtype */
    DType dt = tt->dtype;
    const Type *other = tt == l ? r : l;
    if (logic && (dt != DT_BOOL || (other->kind == TY_TENSOR ? other->dtype != DT_BOOL : other->kind != TY_BOOL))) {
        check_error(b, where, "%s needs bool operands, got %s and %s", who, check_tystr(b, l), check_tystr(b, r));
        return ty_error();
    }
    if (other->kind == TY_TENSOR) {
        if (other->dtype != dt) {
            check_error(b, where, "%s needs operands of one dtype, got %s and %s",
                        who, check_tystr(b, l), check_tystr(b, r));
            check_hint(b, "convert one side with f32(x) or i32(x)");
            return ty_error();
        }
    } else if (!weak_fits(other, dt)) {
        check_error(b, where, "%s cannot combine %s with %s", who, check_tystr(b, l),
                    check_tystr(b, r));
        if (other->kind == TY_FLOAT && dt == DT_I32)
            check_hint(b, "an i32 tensor never becomes f32 silently; convert it with f32(x)");
        return ty_error();
    }
    if (!logic && dt == DT_BOOL && !(op == OP_EQ_ || op == OP_NE_)) {
        check_error(b, where, "%s cannot take bool tensors (%s and %s)", who,
                    check_tystr(b, l), check_tystr(b, r));
        check_hint(b, "convert with f32(x), or use where(cond, a, b)");
        return ty_error();
    }
    if (op == OP_POW_ && dt == DT_I32) {
        /* [builtin.pow]: powers of ints overflow or are fractions; the IR computes them in f32 */
        check_error(b, where, "%s needs f32 operands, got %s and %s", who, check_tystr(b, l), check_tystr(b, r));
        check_hint(b, "convert with f32(x)");
        return ty_error();
    }
    Shape s = tt->shape;
    if (other->kind == TY_TENSOR && !check_broadcast(b, &l->shape, &r->shape, &s)) {
        check_error(b, where, "%s cannot broadcast %s with %s", who,
                    check_tystr(b, l), check_tystr(b, r));
        check_hint(b, "dims are compared from the right; each pair must be equal or one of them 1");
        return ty_error();
    }
    Type *t = ty_new(b->C->a, TY_TENSOR);
    t->dtype = (cmp || logic) ? DT_BOOL : dt;
    t->shape = s;
    return t;
}

const Type *check_unary(Body *b, Node *n) {
    const Type *x = check_expr(b, n->lhs);
    if (ty_is_bad(x))
        return x;
    Check *C = b->C;
    if (n->op == 'n') {
        if (x->kind == TY_BOOL) {
            Type *t = ty_new(C->a, TY_BOOL);
            t->known = x->known;
            t->bval = !x->bval;
            return t;
        }
        if (x->kind == TY_TENSOR && x->dtype == DT_BOOL)
            return x;
        check_error(b, n->loc, "'not' needs a bool, got %s", check_tystr(b, x));
        return ty_error();
    }
    if (x->kind == TY_INT) {
        const SDim *v = x->ival ? ty_dim_neg(&C->dc, x->ival) : NULL;
        if (C->dc.overflow) {       /* -(-9223372036854775807 - 1) */
            C->dc.overflow = false;
            check_error(b, n->loc, "integer arithmetic overflows");
            return ty_error();
        }
        return check_int_type(b, v);
    }
    if (x->kind == TY_FLOAT) {
        Type *t = ty_new(C->a, TY_FLOAT);
        t->known = x->known;
        t->fval = -x->fval;
        return t;
    }
    if (x->kind == TY_TENSOR && x->dtype != DT_BOOL)
        return x;
    check_error(b, n->loc, "unary '-' needs a number or an f32/i32 tensor, got %s", check_tystr(b, x));
    return ty_error();
}

/* ---- indexing [shape.index] ---- */

bool check_const_int(const Type *t, int64_t *v) {
    return t->kind == TY_INT && t->ival && ty_dim_is_const(t->ival, v);
}

/* Does dim d hold the model's batch size B? (a model body only: elsewhere B is an ordinary
 * variable) [shape.index] */
bool check_holds_batch(Body *b, const SDim *d) {
    if (b->kind != ND_MODEL)
        return false;
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->t[i].n; j++) {
            const DimAtom *a = d->t[i].atoms[j];
            if (a->kind == DA_SYM && a->inst == 0 && strcmp(a->name, "B") == 0)
                return true;
        }
    return false;
}

const Type *check_index(Body *b, Node *n) {
    Check *C = b->C;
    const Type *x = check_expr(b, n->lhs);
    const Type **it = arena_alloc(C->a, sizeof *it * (size_t)(3 * n->nkids + 1));
    bool bad = ty_is_bad(x);
    for (int i = 0; i < n->nkids; i++) {
        Node *k = n->kids[i];
        if (k->kind == ND_SLICE) {
            it[3 * i] = k->lhs ? check_expr(b, k->lhs) : NULL;
            it[3 * i + 1] = k->rhs ? check_expr(b, k->rhs) : NULL;
            it[3 * i + 2] = k->body ? check_expr(b, k->body) : NULL;
        } else {
            it[3 * i] = check_expr(b, k);
        }
        static const char *const what[3] = {"a slice start", "a slice end", "a slice step"};
        for (int j = 0; j < 3; j++) {
            const Type *e = it[3 * i + j];
            if (!e)
                continue;
            if (ty_is_bad(e))
                bad = true;
            else if (e->kind != TY_INT) {
                const Node *part = k->kind != ND_SLICE ? k : j == 0 ? k->lhs : j == 1 ? k->rhs : k->body;
                check_error(b, k->loc, "%s must be a compile-time int, got %s",
                            k->kind == ND_SLICE ? what[j] : "an index", check_tystr(b, e));
                if (e->kind == TY_TENSOR && e->dtype == DT_I32)
                    check_hint(b, "to index with a tensor use gather(table, idx)");
                check_hint_int_div(b, part, e);
                bad = true;
                break;          /* one error per index */
            }
        }
    }
    if (bad)
        return x->kind == TY_ANY ? x : ty_error();
    if (x->kind != TY_TENSOR) {
        check_error(b, n->lhs->loc, "cannot index %s", check_tystr(b, x));
        return ty_error();
    }
    const Shape *s = &x->shape;
    int known = s->rest >= 0 ? s->rest : s->rank;
    if (n->nkids > known) {
        if (s->rest >= 0)
            check_error(b, n->loc, "%d indices into %s reach past its known leading dims",
                        n->nkids, check_tystr(b, x));
        else
            check_error(b, n->loc, "%d indices into %s, which has rank %d", n->nkids,
                        check_tystr(b, x), s->rank);
        return ty_error();
    }
    const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(s->rank + 1));
    int nd = 0;
    for (int i = 0; i < n->nkids; i++) {
        Node *k = n->kids[i];
        const SDim *ext = s->dims[i];
        int64_t e, v;
        bool ek = ty_dim_is_const(ext, &e);
        for (int j = 0; j < 3; j++)
            if (it[3 * i + j] && it[3 * i + j]->ival && check_holds_batch(b, it[3 * i + j]->ival)) {
                /* B is known only when the executable runs: lowering needs indices now */
                check_error(b, k->loc, "an index or slice bound cannot hold the batch size B (axis %d of %s)", i,
                            check_tystr(b, x));
                if (check_holds_batch(b, ext))
                    check_hint(b, "the batch axis can only be taken whole (':')");
                return ty_error();
            }
        if (k->kind != ND_SLICE) {
            if (check_holds_batch(b, ext)) {
                /* one sample of the batch: its place in a batch is not known when compiling */
                check_error(b, k->loc, "cannot index into the batch axis (axis %d of %s)", i,
                            check_tystr(b, x));
                check_hint(b, "the batch axis can only be taken whole (':')");
                return ty_error();
            }
            if (check_const_int(it[3 * i], &v) && ek && (v >= e || v < -e)) {
                check_error(b, k->loc, "index %lld is out of range for axis %d of %s (extent %lld)",
                            (long long)v, i, check_tystr(b, x), (long long)e);
                return ty_error();
            }
            continue;       /* drops the axis */
        }
        /* start, end, step */
        int64_t step = 1;
        const SDim *sstep = NULL;   /* a step from a formal (x[:, ::s]): symbolic */
        const Type *sn = it[3 * i + 2];
        bool cstep = sn && check_const_int(sn, &step), bounds = it[3 * i] || it[3 * i + 1];
        bool batch = check_holds_batch(b, ext);
        if (sn && !cstep && sn->ival) {
            sstep = sn->ival;
        } else if (cstep && step < 0 && step > -(1 << 30) && !bounds && ek && !batch) {
            /* x[::-s] (Python's): the whole axis read from its end, every s-th element, ceil(e / s) */
            d[nd++] = ty_dim_const(&C->dc, (e - 1) / -step + 1);
            continue;
        } else if (sn && (!cstep || step < 1)) {
            if (cstep && step < 0 && bounds && !batch) {
                check_error(b, k->body->loc, "a negative slice step takes the whole axis (x[::-1]), not bounds");
                check_hint(b, "reverse the whole axis, then slice it: y = x[:, ::-1], then y[:, a:b]");
                return ty_error();
            }
            check_error(b, k->body->loc, "a slice step must be a known positive int");
            if (cstep && step < 0)
                check_hint(b, batch ? "the batch axis can only be taken whole (':'): reorder the samples with gather: "
                                      "gather(x, rand_perm(x)) (a mixup's partner, as x[torch.randperm(B)])"
                                    : "a negative step reverses an axis whose extent is known (x[:, ::-1])");
            return ty_error();
        }
        const SDim *lo = it[3 * i] ? it[3 * i]->ival : ty_dim_const(&C->dc, 0);
        const SDim *hi = it[3 * i + 1] ? it[3 * i + 1]->ival : ext;
        if (!lo || !hi) {
            check_error(b, k->loc, "slice bounds must be known compile-time ints");
            return ty_error();
        }
        int64_t lv, hv;
        if (ty_dim_is_const(lo, &lv) && lv < 0)
            lo = ty_dim_add(&C->dc, lo, ext);
        if (ty_dim_is_const(hi, &hv) && hv < 0)
            hi = ty_dim_add(&C->dc, hi, ext);
        if (ek && ty_dim_is_const(lo, &lv) && ty_dim_is_const(hi, &hv) &&
            (lv < 0 || hv > e || lv >= hv)) {
            check_error(b, k->loc, "slice %lld:%lld is out of range or empty for axis %d of %s",
                        (long long)lv, (long long)hv, i, check_tystr(b, x));
            return ty_error();
        }
        const SDim *len = ty_dim_sub(&C->dc, hi, lo);
        if (sstep) {        /* ceil(len / s) = floor((len + s - 1) / s), an exact division */
            const char *why = NULL;
            const SDim *num = ty_dim_sub(&C->dc, ty_dim_add(&C->dc, len, sstep), ty_dim_const(&C->dc, 1));
            const SDim *r = ty_dim_mod(&C->dc, num, sstep, &why);
            len = r ? ty_dim_div(&C->dc, ty_dim_sub(&C->dc, num, r), sstep, &why) : NULL;
            if (!len)
                len = ty_dim_const(&C->dc, 1);
        } else if (step > 1) {
            const char *why = NULL;
            int64_t nv;
            if (ty_dim_is_const(len, &nv))      /* (len - 1) / step + 1: no overflow for a huge step */
                len = ty_dim_const(&C->dc, nv >= 1 ? (nv - 1) / step + 1 : 0);
            else
                len = ty_dim_div(&C->dc, ty_dim_add(&C->dc, len, ty_dim_const(&C->dc, step - 1)),
                                 ty_dim_const(&C->dc, step), &why);
            if (!len)
                len = ty_dim_const(&C->dc, 1);
        }
        int64_t lenv;
        if (ty_dim_is_const(len, &lenv) && lenv < 1) {
            check_error(b, k->loc, "slice of axis %d of %s is empty", i, check_tystr(b, x));
            return ty_error();
        }
        d[nd++] = len;
    }
    int rest = s->rest >= 0 ? s->rest - (n->nkids - nd) : -1;
    for (int i = n->nkids; i < s->rank; i++)
        d[nd++] = s->dims[i];
    Type *t = ty_new(C->a, TY_TENSOR);
    t->dtype = x->dtype;
    t->shape = (Shape){.rank = nd, .dims = d, .rest = rest, .rest_name = s->rest_name,
                       .rest_inst = s->rest_inst};
    return t;
}

/* ---- tensor literals ---- */

const Type *check_tensor_literal(Body *b, Node *n) {
    Check *C = b->C;
    if (n->nkids == 0) {
        check_error(b, n->loc, "a tensor literal needs at least one element");
        return ty_error();
    }
    const Type *first = NULL;
    bool any_float = false, any_bool = false, any_num = false, bad = false;
    const SDim **vals = arena_alloc(C->a, sizeof *vals * (size_t)n->nkids);
    for (int i = 0; i < n->nkids; i++) {
        const Type *e = check_expr(b, n->kids[i]);
        if (ty_is_bad(e)) {
            bad = true;
            continue;
        }
        if (n->kids[i]->kind == ND_TENSOR) {
            if (e->kind != TY_TENSOR) {
                bad = true;
                continue;
            }
            if (!first)
                first = e;
            else if (!ty_shape_eq(&first->shape, &e->shape)) {
                check_error(b, n->kids[i]->loc, "rows of a tensor literal must have one shape: %s vs %s",
                            check_tystr(b, first), check_tystr(b, e));
                return ty_error();
            }
            any_float |= e->dtype == DT_F32;
            any_bool |= e->dtype == DT_BOOL;
            any_num |= e->dtype != DT_BOOL;
            continue;
        }
        if (!check_is_ct(e)) {
            check_error(b, n->kids[i]->loc,
                        "a tensor literal holds compile-time numbers, got %s", check_tystr(b, e));
            if (e->kind == TY_TENSOR)
                check_hint(b, "a list of tensors is an argument of concat only (concat([a, b], axis = 1)); a fn or "
                              "layer gives several results with 'return a, b', bound by name at the call: a, b = f(x)");
            return ty_error();
        }
        if (first) {
            check_error(b, n->kids[i]->loc, "rows of a tensor literal must have one shape");
            return ty_error();
        }
        any_float |= e->kind == TY_FLOAT;
        any_bool |= e->kind == TY_BOOL;
        any_num |= e->kind != TY_BOOL;
        if (e->kind == TY_INT)
            vals[i] = e->ival;
    }
    if (bad)
        return ty_error();
    if (any_bool && any_num) {
        check_error(b, n->loc, "a tensor literal cannot mix bool and numbers");
        return ty_error();
    }
    int inner = first ? first->shape.rank : 0;
    const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(inner + 1));
    d[0] = ty_dim_const(&C->dc, n->nkids);
    for (int i = 0; i < inner; i++)
        d[i + 1] = first->shape.dims[i];
    Type *t = ty_tensor(C->a, any_bool ? DT_BOOL : any_float ? DT_F32 : DT_I32, inner + 1, d);
    if (!first && !any_bool && !any_float) {
        t->nvals = n->nkids;
        t->vals = vals;
    }
    return t;
}

