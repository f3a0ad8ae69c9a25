/* builtins.c - the builtin functions: their table (lang/builtins.def) and their shape and dtype
 * rules (docs/language.md section 5 [builtin]).
 *
 * Each rule computes the type of one call from the types of its arguments. The checker evaluates
 * it on symbolic dims (B, dim variables, *S) while it checks a body generically; compiler/lower.c
 * evaluates the same rule on the concrete dims of each call it lowers (builtin_type_concrete) and
 * builds IR for the type it gets back. So `nnc check` and the build accept the same calls and
 * report a refused one with one message at one place.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

const BuiltinInfo check_builtins[BI__COUNT] = {
    [BI_NONE] = {"", BR_NONE, 0, {0}, {0}},
#define BUILTIN(id, name, rule, formals, defaults) \
    [BI_##id] = {name, BR_##rule, (int)(sizeof((const char *[])formals) / sizeof(const char *)), formals, defaults},
#include "builtins.def"
#undef BUILTIN
};

Builtin check_builtin_lookup(const char *name) {
    for (int i = 1; i < BI__COUNT; i++)
        if (strcmp(check_builtins[i].name, name) == 0)
            return (Builtin)i;
    return BI_NONE;
}

static Type *tensor_like(Body *b, DType dt, const Shape *s) {
    Type *t = ty_new(b->C->a, TY_TENSOR);
    t->dtype = dt;
    t->shape = *s;
    return t;
}

/* A tensor operand of a builtin: tensors pass, compile-time numbers become rank-0 tensors of
 * dtype dt (weak, [type.literal]). NULL (diagnosed) for anything else. */
static const Type *as_tensor(Body *b, const char *fname, const char *formal, Node *arg,
                             const Type *t, DType dt) {
    if (t->kind == TY_TENSOR)
        return t;
    if ((t->kind == TY_INT && dt != DT_BOOL) || (t->kind == TY_FLOAT && dt == DT_F32) ||
        (t->kind == TY_BOOL && dt == DT_BOOL))
        return ty_tensor(b->C->a, dt, 0, NULL);
    check_error(b, arg->loc, "%s expects a tensor for '%s', got %s", fname, formal, check_tystr(b, t));
    return NULL;
}

/* Axis a of shape s as an index into s->dims; false (diagnosed) when out of range or inside *S. */
static bool axis_index(Body *b, Node *at, const Type *x, int64_t a, int *pos) {
    const Shape *s = &x->shape;
    if (s->rest < 0) {
        if (a < -s->rank || a >= s->rank) {
            check_error(b, at->loc, "axis %lld is out of range for %s (rank %d)", (long long)a,
                        check_tystr(b, x), s->rank);
            return false;
        }
        *pos = (int)(a < 0 ? a + s->rank : a);
        return true;
    }
    if (a >= 0 && a < s->rest) {
        *pos = (int)a;
        return true;
    }
    if (a < 0 && a >= -(int64_t)(s->rank - s->rest)) {
        *pos = (int)(s->rank + a);
        return true;
    }
    check_error(b, at->loc, "axis %lld of %s is not known here (*%s has no fixed rank)", (long long)a,
                check_tystr(b, x), s->rest_name);
    check_hint(b, "count axes from the end with a negative axis, e.g. axis = -1");
    return false;
}

static bool get_axis(Body *b, Node *at, const Type *t, int64_t *v) {
    if (!check_const_int(t, v)) {
        check_error(b, at->loc, "an axis must be a known int, got %s", check_tystr(b, t));
        if (at->kind == ND_TENSOR)      /* NumPy's mean(x, axis=(1, 2)) */
            check_hint(b, "a list of axes is taken by sum, mean, reduce_max, reduce_min and prod only");
        return false;
    }
    return true;
}

/* prod, argmax, argmin and cumsum run along an axis of known extent: not the batch axis
 * [builtin.batch]. false (diagnosed) when axis pos of x holds B. */
static bool along_batch(Body *b, const char *fname, Node *at, const Type *x, int pos) {
    if (!check_holds_batch(b, x->shape.dims[pos]))
        return true;
    check_error(b, at->loc, "%s cannot run along the batch axis (axis %d of %s)", fname, pos, check_tystr(b, x));
    check_hint(b, "give an axis of known extent, e.g. axis = -1");
    return false;
}

/* [builtin.reduce]: over one axis (dropped, or kept with extent 1) or over all of them;
 * argmax/argmin give i32 indices. */
static const Type *reduce(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty) {
    const char *fname = check_builtins[bi].name;
    BuiltinRule rule = check_builtins[bi].rule;
    const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
    if (!x)
        return ty_error();
    if (x->dtype == DT_BOOL || (rule == BR_REDUCE_F32 && x->dtype != DT_F32)) {
        check_error(b, slot[0]->loc, "%s expects an %s tensor, got %s", fname,
                    rule == BR_REDUCE_F32 ? "f32" : "f32 or i32", check_tystr(b, x));
        if (rule == BR_REDUCE_F32 && x->dtype == DT_I32)
            check_hint(b, "convert with f32(x)");
        return ty_error();
    }
    DType rdt = rule == BR_ARG_REDUCE ? DT_I32 : x->dtype;
    bool keep = false;
    if (slot[2]) {
        if (sty[2]->kind != TY_BOOL || !sty[2]->known) {
            check_error(b, slot[2]->loc, "keepdims must be true or false, got %s", check_tystr(b, sty[2]));
            return ty_error();
        }
        keep = sty[2]->bval;
    }
    const Shape *s = &x->shape;
    Arena *a = b->C->a;
    bool unrolled = rule == BR_ARG_REDUCE || bi == BI_PROD;     /* lowered along static extents */
    if (!slot[1]) {
        for (int i = 0; unrolled && i < s->rank; i++)
            if (!along_batch(b, fname, slot[0], x, i))
                return ty_error();
        if (!keep)
            return ty_tensor(a, rdt, 0, NULL);
        if (s->rest >= 0) {
            check_error(b, n->loc, "%s with keepdims over all axes of %s needs a known rank", fname,
                        check_tystr(b, x));
            return ty_error();
        }
        const SDim **d = arena_alloc(a, sizeof *d * (size_t)(s->rank + 1));
        for (int i = 0; i < s->rank; i++)
            d[i] = ty_dim_const(&b->C->dc, 1);
        return ty_tensor(a, rdt, s->rank, d);
    }
    /* one axis, or a list of distinct axes (NumPy's and TensorFlow's axis = [1, 2]) */
    const Type *at = sty[1];
    int nax = 1;
    if (s->rank == 0 && s->rest < 0) {
        /* a loss of nn (the mean over everything) reduced over the axes Keras' losses keep */
        check_error(b, slot[1]->loc, "%s over an axis of %s, which has none (a rank-0 tensor)", fname,
                    check_tystr(b, x));
        check_hint(b, "the losses of nn (binary_cross_entropy, mse, ...) give the mean over every element: "
                      "write the per-element loss out to reduce it over some axes first");
        return ty_error();
    }
    if (at->kind == TY_TENSOR && at->vals && rule == BR_ARG_REDUCE) {
        check_error(b, slot[1]->loc, "%s takes one axis, got %s", fname, check_tystr(b, at));
        check_hint(b, "reshape the axes into one first, or leave axis out for the flattened tensor");
        return ty_error();
    }
    if (at->kind == TY_TENSOR && at->vals && at->shape.rank == 1) {
        nax = at->nvals;
        if (nax < 1 || nax > s->rank) {
            check_error(b, slot[1]->loc, "%s: an axis list needs 1 to %d axes of %s, got %d", fname, s->rank,
                        check_tystr(b, x), nax);
            return ty_error();
        }
    }
    bool drop[NNC_MAX_RANK + 1] = {0};
    int ndrop_rest = 0;
    for (int q = 0; q < nax; q++) {
        int64_t ax;
        int pos;
        if (!(at->kind == TY_TENSOR && at->vals && at->shape.rank == 1)) {
            if (!get_axis(b, slot[1], at, &ax))
                return ty_error();
        } else if (!ty_dim_is_const(at->vals[q], &ax)) {
            check_error(b, slot[1]->loc, "an axis must be a known int, got %s", check_tystr(b, at));
            return ty_error();
        }
        if (!axis_index(b, slot[1], x, ax, &pos))
            return ty_error();
        if (drop[pos]) {
            check_error(b, slot[1]->loc, "%s: axis %lld appears twice in the list", fname, (long long)ax);
            return ty_error();
        }
        drop[pos] = true;
        if (unrolled && !along_batch(b, fname, slot[1], x, pos))
            return ty_error();
        ndrop_rest += s->rest > pos && !keep;
    }
    const SDim **d = arena_alloc(a, sizeof *d * (size_t)(s->rank + 1));
    int k = 0;
    for (int i = 0; i < s->rank; i++) {
        if (drop[i]) {
            if (keep)
                d[k++] = ty_dim_const(&b->C->dc, 1);
        } else {
            d[k++] = s->dims[i];
        }
    }
    Type *t = tensor_like(b, rdt, s);
    t->shape.rank = k;
    t->shape.dims = d;
    t->shape.rest -= ndrop_rest;
    return t;
}

static const SDim *shape_numel(Body *b, const Shape *s) {
    DimCtx *dc = &b->C->dc;
    const SDim *p = ty_dim_const(dc, 1);
    for (int i = 0; i < s->rank; i++)
        p = ty_dim_mul(dc, p, s->dims[i]);
    if (s->rest >= 0)
        p = ty_dim_mul(dc, p, ty_dim_prod(dc, s->rest_name, s->rest_inst));
    return p;
}

/* The compile-time ints of a list argument ([N, -1]); NULL (diagnosed) when it is not one. */
static const SDim **int_list(Body *b, const char *fname, Node *arg, const Type *t, int *n) {
    if (t->kind != TY_TENSOR || !t->vals) {
        check_error(b, arg->loc, "%s expects a list of compile-time ints like [B, -1], got %s",
                    fname, check_tystr(b, t));
        return NULL;
    }
    for (int i = 0; i < t->nvals; i++)
        if (!t->vals[i]) {
            check_error(b, arg->kids && i < arg->nkids ? arg->kids[i]->loc : arg->loc,
                        "%s needs every entry of the list to be a known int", fname);
            return NULL;
        }
    *n = t->nvals;
    return t->vals;
}

static const Type *reshape(Body *b, Node *n, Node **slot, const Type **sty) {
    DimCtx *dc = &b->C->dc;
    const Type *x = as_tensor(b, "reshape", "x", slot[0], sty[0], DT_F32);
    if (!x)
        return ty_error();
    int nd;
    const SDim **v = int_list(b, "reshape", slot[1], sty[1], &nd);
    if (!v)
        return ty_error();
    const SDim **d = arena_alloc(b->C->a, sizeof *d * (size_t)(nd + 1));
    int infer = -1;
    const SDim *known = ty_dim_const(dc, 1);
    for (int i = 0; i < nd; i++) {
        int64_t c;
        Loc at = slot[1]->kind == ND_TENSOR && i < slot[1]->nkids ? slot[1]->kids[i]->loc : slot[1]->loc;
        if (ty_dim_is_const(v[i], &c) && c == -1) {
            if (infer >= 0) {
                check_error(b, at, "reshape may infer only one dim (-1)");
                return ty_error();
            }
            infer = i;
            continue;
        }
        if (ty_dim_is_const(v[i], &c) && c < 1) {
            check_error(b, at, "reshape dim %lld must be at least 1 (or -1 to infer it)", (long long)c);
            return ty_error();
        }
        d[i] = v[i];
        known = ty_dim_mul(dc, known, v[i]);
    }
    const SDim *total = shape_numel(b, &x->shape);
    if (infer >= 0) {
        const char *why = NULL;
        const SDim *q = ty_dim_div(dc, total, known, &why);
        if (!q) {
            check_error(b, slot[1]->loc, "reshape cannot infer the -1 dim: %s has %s elements, not a "
                        "multiple of %s", check_tystr(b, x), check_dimstr(b, total), check_dimstr(b, known));
            return ty_error();
        }
        d[infer] = q;
    } else if (!ty_dim_eq(total, known)) {
        Type tmp = {.kind = TY_TENSOR, .dtype = x->dtype, .shape = {.rank = nd, .dims = d, .rest = -1}};
        check_error(b, n->loc, "reshape cannot turn %s (%s elements) into %s (%s elements)",
                    check_tystr(b, x), check_dimstr(b, total), check_tystr(b, &tmp),
                    check_dimstr(b, known));
        return ty_error();
    }
    return ty_tensor(b->C->a, x->dtype, nd, d);
}

static const Type *transpose(Body *b, Node *n, Node **slot, const Type **sty) {
    const Type *x = as_tensor(b, "transpose", "x", slot[0], sty[0], DT_F32);
    if (!x)
        return ty_error();
    const Shape *s = &x->shape;
    /* [builtin.transpose] a perm of negative axes -n .. -1 permutes the last n axes only, so
     * f32[*S, T, D] can swap its last two: transpose(k, [-1, -2]) */
    if (slot[1] && sty[1]->kind == TY_TENSOR && sty[1]->vals) {
        int np;
        const SDim **p = int_list(b, "transpose", slot[1], sty[1], &np);
        if (!p)
            return ty_error();
        int64_t v0;
        if (np > 0 && ty_dim_is_const(p[0], &v0) && v0 < 0) {
            int after = s->rest < 0 ? s->rank : s->rank - s->rest;
            bool *seen = arena_alloc(b->C->a, (size_t)np + 1), ok = np <= after;
            const SDim **d = arena_alloc(b->C->a, sizeof *d * (size_t)(s->rank + 1));
            memcpy(d, s->dims, sizeof *d * (size_t)s->rank);
            for (int i = 0; i < np && ok; i++) {
                int64_t v;
                ok = ty_dim_is_const(p[i], &v) && v >= -np && v < 0 && !seen[v + np];
                if (ok) {
                    seen[v + np] = true;
                    d[s->rank - np + i] = s->dims[s->rank + v];
                }
            }
            if (!ok) {
                check_error(b, slot[1]->loc, "transpose needs a permutation of -%d .. -1 (the last %d axes) for %s",
                            np, np, check_tystr(b, x));
                return ty_error();
            }
            Type *t = tensor_like(b, x->dtype, s);
            t->shape.dims = d;
            return t;
        }
    }
    if (s->rest >= 0) {
        check_error(b, n->loc, "transpose needs a tensor of known rank, got %s", check_tystr(b, x));
        return ty_error();
    }
    const SDim **d = arena_alloc(b->C->a, sizeof *d * (size_t)(s->rank + 1));
    if (!slot[1]) {
        for (int i = 0; i < s->rank; i++)
            d[i] = s->dims[s->rank - 1 - i];
        return ty_tensor(b->C->a, x->dtype, s->rank, d);
    }
    int np;
    const SDim **p = int_list(b, "transpose", slot[1], sty[1], &np);
    if (!p)
        return ty_error();
    bool *seen = arena_alloc(b->C->a, (size_t)s->rank + 1);
    bool ok = np == s->rank;
    for (int i = 0; i < np && ok; i++) {
        int64_t v;
        ok = ty_dim_is_const(p[i], &v) && v >= 0 && v < s->rank && !seen[v];
        if (ok) {
            seen[v] = true;
            d[i] = s->dims[v];
        }
    }
    if (!ok) {
        check_error(b, slot[1]->loc, "transpose needs a permutation of 0 .. %d for %s", s->rank - 1,
                    check_tystr(b, x));
        return ty_error();
    }
    return ty_tensor(b->C->a, x->dtype, s->rank, d);
}

static const Type *concat(Body *b, Node *n, Node **slot, const Type **sty) {
    const Type *x = as_tensor(b, "concat", "a", slot[0], sty[0], DT_F32);
    const Type *y = x ? as_tensor(b, "concat", "b", slot[1], sty[1], x->dtype) : NULL;
    if (!x || !y)
        return ty_error();
    int64_t ax = strtoll(check_builtins[BI_CONCAT].defaults[2], NULL, 10);
    int pos;
    if (slot[2] && !get_axis(b, slot[2], sty[2], &ax))
        return ty_error();
    if (x->dtype != y->dtype || x->shape.rank != y->shape.rank || x->shape.rest != y->shape.rest ||
        (x->shape.rest >= 0 && (strcmp(x->shape.rest_name, y->shape.rest_name) != 0 ||
                                x->shape.rest_inst != y->shape.rest_inst))) {
        check_error(b, n->loc, "concat needs tensors of one dtype and rank, got %s and %s",
                    check_tystr(b, x), check_tystr(b, y));
        return ty_error();
    }
    if (!axis_index(b, slot[2] ? slot[2] : n, x, ax, &pos))
        return ty_error();
    const Shape *s = &x->shape;
    const SDim **d = arena_alloc(b->C->a, sizeof *d * (size_t)(s->rank + 1));
    for (int i = 0; i < s->rank; i++) {
        if (i == pos) {
            d[i] = ty_dim_add(&b->C->dc, s->dims[i], y->shape.dims[i]);
        } else if (!ty_dim_eq(s->dims[i], y->shape.dims[i])) {
            check_error(b, n->loc, "concat along axis %lld needs the other dims equal: %s and %s",
                        (long long)ax, check_tystr(b, x), check_tystr(b, y));
            return ty_error();
        } else {
            d[i] = s->dims[i];
        }
    }
    Type *t = tensor_like(b, x->dtype, s);
    t->shape.dims = d;
    return t;
}

/* clip(x, lo, hi) [builtin.clip]: the three broadcast together and keep x's dtype. */
static const Type *clip(Body *b, Node *n, Node **slot, const Type **sty) {
    const Type *x = as_tensor(b, "clip", "x", slot[0], sty[0], DT_F32);
    if (!x)
        return ty_error();
    if (x->dtype == DT_BOOL) {
        check_error(b, slot[0]->loc, "clip expects an f32 or i32 tensor, got %s", check_tystr(b, x));
        return ty_error();
    }
    const Type *t = check_binary(b, n, OP_ADD_, x, sty[1], n->loc, "clip");
    if (ty_is_bad(t))
        return t;
    return check_binary(b, n, OP_ADD_, t, sty[2], n->loc, "clip");
}

/* gather(table: f32[V, D], idx: i32[*S]) -> f32[*S, D] [builtin.gather]: an index i in [-V, 0)
 * means i + V (NumPy); one outside [-V, V) is an error where it is known (a literal list). */
static const Type *gather(Body *b, Node **slot, const Type **sty) {
    Check *C = b->C;
    const Type *tb = sty[0], *ix = sty[1];
    if (tb->kind != TY_TENSOR || tb->shape.rest >= 0 || tb->shape.rank < 2 || tb->dtype != DT_F32) {
        check_error(b, slot[0]->loc, "gather expects a table f32[V, D] (or f32[V, D1, D2, ...]), got %s",
                    check_tystr(b, tb));
        if (tb->kind == TY_TENSOR && tb->dtype == DT_I32 && tb->shape.rank == 2)
            check_hint(b, "convert with f32(x)");
        return ty_error();
    }
    if (ix->kind != TY_TENSOR || ix->dtype != DT_I32) {
        check_error(b, slot[1]->loc, "gather expects i32 indices, got %s", check_tystr(b, ix));
        return ty_error();
    }
    int64_t V, v;
    if (ix->vals && ty_dim_is_const(tb->shape.dims[0], &V))
        for (int i = 0; i < ix->nvals; i++)
            if (ix->vals[i] && ty_dim_is_const(ix->vals[i], &v) && (v >= V || v < -V)) {
                Loc at = slot[1]->kind == ND_TENSOR && i < slot[1]->nkids ? slot[1]->kids[i]->loc : slot[1]->loc;
                check_error(b, at, "gather index %lld is out of range for the table %s (V = %lld)", (long long)v,
                            check_tystr(b, tb), (long long)V);
                check_hint(b, "indices lie in [-V, V); a negative one counts from the end");
                return ty_error();
            }
    /* [*idx, D1, D2, ...]: the table's rows are of any rank (an image batch: mixup's gather(x, perm)) */
    Type *t = tensor_like(b, tb->dtype, &ix->shape);
    int rows = tb->shape.rank - 1;
    const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(ix->shape.rank + rows + 1));
    if (ix->shape.rank > 0)
        memcpy(d, ix->shape.dims, sizeof *d * (size_t)ix->shape.rank);
    memcpy(d + ix->shape.rank, tb->shape.dims + 1, sizeof *d * (size_t)rows);
    t->shape.rank += rows;
    t->shape.dims = d;
    return t;
}

/* cumsum(x, axis) [builtin.cumsum]: running sums along axis, the same type. */
static const Type *scan(Body *b, Builtin bi, Node **slot, const Type **sty) {
    const char *fname = check_builtins[bi].name;
    const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
    if (!x)
        return ty_error();
    if (x->dtype == DT_BOOL) {
        check_error(b, slot[0]->loc, "%s expects an f32 or i32 tensor, got %s", fname, check_tystr(b, x));
        return ty_error();
    }
    int64_t ax;
    int pos;
    if (!get_axis(b, slot[1], sty[1], &ax) || !axis_index(b, slot[1], x, ax, &pos) ||
        !along_batch(b, fname, slot[1], x, pos))
        return ty_error();
    return x;
}

/* ---- pooling and resampling [builtin.pool], [builtin.upsample] ---- */

/* A builtin's default spelled in the table: an int ("2") or a string ("\"valid\""). */
static const char *default_str(Body *b, Builtin bi, int k) {
    const char *s = check_builtins[bi].defaults[k];
    size_t n = strlen(s);
    return n >= 2 && s[0] == '"' ? arena_printf(b->C->a, "%.*s", (int)(n - 2), s + 1) : s;
}

/* Option `formal` of fname as nd ints (nd: 1 or 2 spatial dims), each in [lo, 2^20], into
 * v[0..nd): an int, or (nd == 2) an [h, w] pair. 1: known; 0: ints not known here (a formal of
 * a generic body), diagnosed unless generic_ok; -1: wrong (diagnosed). [builtin.pool]
 * [builtin.conv] */
static int int_or_pair(Body *b, const char *fname, const char *formal, Node *arg, const Type *t, int nd,
                       int64_t lo, bool generic_ok, int64_t *v) {
    int known = 1;
    if (t->kind == TY_INT) {
        known = check_const_int(t, &v[0]);
        v[1] = v[0];
    } else if (t->kind == TY_TENSOR && t->vals && t->nvals == nd) {
        for (int i = 0; i < nd; i++)
            known &= t->vals[i] && ty_dim_is_const(t->vals[i], &v[i]);
    } else {
        known = -1;
    }
    if (known < 0 || (!known && !generic_ok)) {
        check_error(b, arg->loc, "%s expects a known int%s for '%s', got %s", fname, nd == 2 ? " or [h, w] pair" : "",
                    formal, check_tystr(b, t));
        return -1;
    }
    for (int i = 0; known && i < nd; i++)
        if (v[i] < lo || v[i] > (1 << 20)) {
            check_error(b, arg->loc, "%s: '%s' must be in [%lld, 2^20], got %lld", fname, formal, (long long)lo,
                        (long long)v[i]);
            return -1;
        }
    return known;
}

/* x of a pooling, resampling or conv call (`who` names it in the error): f32 [N, *spatial, C] with
 * nd spatial dims, channels last. An image without its channel axis (f32[B, 28, 28]) gets the
 * reshape that adds it; an i32 one, the conversion. false: diagnosed. */
static bool image_arg(Body *b, const char *who, Node *arg, const Type *x, int nd) {
    if (x->dtype == DT_F32 && x->shape.rest < 0 && x->shape.rank == nd + 2)
        return true;
    check_error(b, arg->loc, "%s expects %s, got %s", who,
                nd == 2 ? "an image f32[B, H, W, C] (channels last)" : "a sequence f32[B, L, C] (channels last)",
                check_tystr(b, x));
    const char *name = arg->kind == ND_IDENT ? arg->name : "x";
    if (x->dtype == DT_F32 && x->shape.rest < 0 && x->shape.rank == nd + 1) {
        const char *dims = "";
        for (int i = 0; i < x->shape.rank; i++)
            dims = arena_printf(b->C->a, "%s%s, ", dims, check_dimstr(b, x->shape.dims[i]));
        check_hint(b, "add the channel axis: reshape(%s, [%s1])", name, dims);
    } else if (x->dtype == DT_I32) {
        check_hint(b, "convert with f32(%s)", name);
    }
    return false;
}

/* The padding option of fname (nd spatial dims): "valid" or "same" into *mode, or an int or
 * [ph, pw] into pad[0..nd) with *mode NULL. 1: known; 0, -1: as int_or_pair. */
static int padding_arg(Body *b, const char *fname, Node *arg, const Type *t, int nd, bool generic_ok,
                       const char **mode, int64_t *pad) {
    if (t->kind != TY_STR) {
        *mode = NULL;
        return int_or_pair(b, fname, "padding", arg, t, nd, 0, generic_ok, pad);
    }
    *mode = t->sval;
    if (!t->sval && generic_ok)
        return 0;
    if (t->sval && (!strcmp(t->sval, "valid") || !strcmp(t->sval, "same")))
        return 1;
    /* Keras' Conv1D(padding = "causal"): the sequence's past only (conv of sequences) */
    bool conv = !strcmp(fname, "conv");
    if (t->sval && !strcmp(t->sval, "causal") && conv && nd == 1)
        return 1;
    check_error(b, arg->loc, "%s: padding must be \"valid\", \"same\"%s%s, got %s", fname,
                conv && nd == 1 ? ", \"causal\"" : "", nd == 2 ? ", an int or [ph, pw]" : " or an int",
                t->sval ? arena_printf(b->C->a, "\"%s\"", t->sval) : "a string not known here");
    if (t->sval && !strcmp(t->sval, "causal"))
        check_hint(b, "causal padding is for the convolution of sequences (x: f32[N, L, C]): it pads the past only");
    return -1;
}

/* The window, stride and padding of a pooling call, and its result extents; false (diagnosed) when
 * a size comes out < 1 or a padding reaches the window. Sizes floor as Keras and PyTorch do:
 * (d + lo + hi - k) / s + 1; "same" gives ceil(d / s), its padding split as TensorFlow's (the odd
 * one after). Spatial extents unknown here (a generic body) give out[i] = NULL. */
static bool pool_params(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty, const Type *x, PoolSpec *p,
                        const SDim **out) {
    const char *fname = check_builtins[bi].name;
    int nd = p->nd;
    if (slot[1] && int_or_pair(b, fname, "size", slot[1], sty[1], nd, 1, false, p->k) < 0)
        return false;
    if (!slot[1])
        p->k[0] = p->k[1] = strtoll(check_builtins[bi].defaults[1], NULL, 10);
    if (slot[2] && int_or_pair(b, fname, "stride", slot[2], sty[2], nd, 1, false, p->s) < 0)
        return false;
    if (!slot[2])
        memcpy(p->s, p->k, sizeof p->s);
    const char *mode = slot[3] ? NULL : default_str(b, bi, 3);
    int64_t pad[2] = {0, 0};
    if (slot[3] && padding_arg(b, fname, slot[3], sty[3], nd, false, &mode, pad) < 0)
        return false;
    for (int i = 0; i < nd; i++) {
        const SDim *d = x->shape.dims[1 + i];
        int64_t e, k = p->k[i], s = p->s[i];
        out[i] = NULL;
        if (!ty_dim_is_const(d, &e)) {
            /* a generic body: only the extents that need no division are known */
            if (mode && !strcmp(mode, "same") && s == 1)
                out[i] = d;
            else if (s == 1 && !(mode && !strcmp(mode, "same")))
                out[i] = ty_dim_add(&b->C->dc, d, ty_dim_const(&b->C->dc, 2 * pad[i] - k + 1));
            continue;
        }
        if (mode && !strcmp(mode, "same")) {
            int64_t o = (e + s - 1) / s, tot = (o - 1) * s + k - e;
            tot = tot > 0 ? tot : 0;
            p->lo[i] = tot / 2;
            p->hi[i] = tot - tot / 2;
        } else if (mode) {
            p->lo[i] = p->hi[i] = 0;
        } else {
            p->lo[i] = p->hi[i] = pad[i];
        }
        if (p->lo[i] >= k || p->hi[i] >= k) {
            check_error(b, n->loc, "%s: padding %lld must be less than the window %lld", fname,
                        (long long)(p->lo[i] > p->hi[i] ? p->lo[i] : p->hi[i]), (long long)k);
            return false;
        }
        int64_t num = e + p->lo[i] + p->hi[i] - k;
        int64_t o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
        if (o < 1) {
            check_error(b, n->loc, "%s: (%lld - %lld + %lld) / %lld + 1 = %lld is not a positive size", fname,
                        (long long)e, (long long)k, (long long)(p->lo[i] + p->hi[i]), (long long)s, (long long)o);
            check_hint(b, "a window larger than the input: a smaller size, or padding = \"same\"");
            return false;
        }
        out[i] = ty_dim_const(&b->C->dc, o);
    }
    return true;
}

static const Type *pool_or_upsample(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty, PoolSpec *p) {
    const char *fname = check_builtins[bi].name;
    p->nd = bi == BI_MAXPOOL1D || bi == BI_AVGPOOL1D ? 1 : 2;
    const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
    if (!x || !image_arg(b, fname, slot[0], x, p->nd))
        return ty_error();
    for (int i = 0; i < p->nd; i++)
        if (check_holds_batch(b, x->shape.dims[1 + i])) {
            check_error(b, slot[0]->loc, "%s cannot run along the batch axis (axis %d of %s)", fname, 1 + i,
                        check_tystr(b, x));
            check_hint(b, "the batch axis comes first: [B, %s, C]", p->nd == 2 ? "H, W" : "L");
            return ty_error();
        }
    const SDim *out[2] = {0};
    if (bi == BI_UPSAMPLE2D) {
        if (slot[1] && int_or_pair(b, fname, "size", slot[1], sty[1], 2, 1, false, p->k) < 0)
            return ty_error();
        if (!slot[1])
            p->k[0] = p->k[1] = strtoll(check_builtins[bi].defaults[1], NULL, 10);
        const char *mode = slot[2] ? sty[2]->sval : default_str(b, bi, 2);
        if (slot[2] && (sty[2]->kind != TY_STR || !mode || (strcmp(mode, "nearest") && strcmp(mode, "bilinear")))) {
            check_error(b, slot[2]->loc, "upsample2d: mode must be \"nearest\" or \"bilinear\", got %s",
                        sty[2]->kind == TY_STR && mode ? arena_printf(b->C->a, "\"%s\"", mode) : check_tystr(b, sty[2]));
            return ty_error();
        }
        p->bilinear = !strcmp(mode, "bilinear");
        for (int i = 0; i < 2; i++)
            out[i] = ty_dim_mul(&b->C->dc, x->shape.dims[1 + i], ty_dim_const(&b->C->dc, p->k[i]));
    } else if (!pool_params(b, n, bi, slot, sty, x, p, out)) {
        return ty_error();
    }
    for (int i = 0; i < p->nd; i++)
        if (!out[i])
            return ty_any();    /* an extent a generic body cannot know: checked per instance */
    Type *t = tensor_like(b, DT_F32, &x->shape);
    const SDim **d = arena_alloc(b->C->a, sizeof *d * (size_t)(x->shape.rank + 1));
    memcpy(d, x->shape.dims, sizeof *d * (size_t)x->shape.rank);
    for (int i = 0; i < p->nd; i++)
        d[1 + i] = out[i];
    t->shape.dims = d;
    return t;
}

/* ---- conv and conv_transpose [builtin.conv] ---- */

/* What a conv call resolves to: per spatial dim (H, W; a sequence has one) the stride, dilation
 * and padding of the IR's convolution (for conv_transpose: of the convolution it is the
 * transpose of), the output size, and the output's channels. */
typedef struct ConvSpec {
    int nsp;
    int64_t stride[2], dil[2], lo[2], hi[2], out[2];
    const SDim *F;
} ConvSpec;

/* Option slot i of a conv call, one int per spatial dim (int_or_pair's 1, 0 or -1), or its
 * default from builtins.def. */
static int conv_ints(Body *b, Builtin bi, Node **slot, const Type **sty, int i, int nsp, int64_t lo,
                     int64_t *v) {
    if (!slot[i]) {
        v[0] = v[1] = strtoll(check_builtins[bi].defaults[i], NULL, 10);
        return 1;
    }
    return int_or_pair(b, check_builtins[bi].name, check_builtins[bi].formals[i], slot[i], sty[i], nsp, lo, true, v);
}

/* conv(x: f32[N, *S, C], w: f32[*K, C / groups, F]) -> f32[N, *O, F] and conv_transpose(x: f32[N,
 * *S, C], w: f32[*K, F, C]) -> f32[N, *O, F], one or two spatial dims (x's rank 3 or 4, matching
 * w's). Sizes floor like torch and Keras; "same" gives ceil(S / stride) (conv_transpose: S *
 * stride) with the padding split as TensorFlow does, the extra on the high side. In a generic
 * body whose dims or options are formals the result is known only per call: the body is then
 * checked again at each call (value_dependent), and the result here is unknown. */
static const Type *conv_rule(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty, ConvSpec *cs) {
    const char *fname = check_builtins[bi].name;
    bool tr = bi == BI_CONV_TRANSPOSE;
    const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
    const Type *w = x ? as_tensor(b, fname, "w", slot[1], sty[1], DT_F32) : NULL;
    if (!x || !w)
        return ty_error();
    if (x->dtype != DT_F32 || w->dtype != DT_F32) {
        check_error(b, n->loc, "%s expects f32 tensors, got %s and %s", fname, check_tystr(b, x), check_tystr(b, w));
        return ty_error();
    }
    int nsp = w->shape.rest < 0 ? w->shape.rank - 2 : -1;
    if (nsp < 1 || nsp > 2) {
        check_error(b, slot[1]->loc, "%s expects weights f32[K, %s] (1-D) or f32[KH, KW, %s] (2-D), got %s", fname,
                    tr ? "F, C" : "C / groups, F", tr ? "F, C" : "C / groups, F", check_tystr(b, w));
        return ty_error();
    }
    if (!image_arg(b, arena_printf(b->C->a, "%s with %s weights", fname, check_tystr(b, w)), slot[0], x, nsp))
        return ty_error();
    /* the options: 1-based slots 2.. per builtins.def */
    int64_t st[2], dil[2], opad[2] = {0, 0}, groups[2] = {1, 1}, pad[2] = {0, 0};
    int known = 1, r;
    if ((r = conv_ints(b, bi, slot, sty, 2, nsp, 1, st)) < 0)
        return ty_error();
    known &= r;
    if ((r = conv_ints(b, bi, slot, sty, tr ? 5 : 4, nsp, 1, dil)) < 0)
        return ty_error();
    known &= r;
    if (tr && (r = conv_ints(b, bi, slot, sty, 4, nsp, 0, opad)) < 0)
        return ty_error();
    known &= r;
    if (!tr && (r = conv_ints(b, bi, slot, sty, 5, 1, 1, groups)) < 0)
        return ty_error();
    known &= r;
    const char *mode = "valid";
    if (slot[3] && (r = padding_arg(b, fname, slot[3], sty[3], nsp, true, &mode, pad)) < 0)
        return ty_error();
    known &= slot[3] ? r : 1;
    /* the dims: all but N known ints */
    int64_t xd[4], wd[4];
    for (int k = 1; known && k < x->shape.rank; k++)
        known = ty_dim_is_const(x->shape.dims[k], &xd[k]) && !check_holds_batch(b, x->shape.dims[k]);
    for (int k = 0; known && k < w->shape.rank; k++)
        known = ty_dim_is_const(w->shape.dims[k], &wd[k]);
    if (!known) {
        if (!b->instance && b->info && b->kind != ND_MODEL) {
            b->info->value_dependent = true;    /* checked again at each call, with its values */
            return ty_any();
        }
        check_error(b, n->loc, "%s needs known ints for its options and for every dim of %s and %s but the "
                    "batch", fname, check_tystr(b, x), check_tystr(b, w));
        return ty_error();
    }
    int64_t C = xd[nsp + 1], wc = wd[nsp], wf = wd[nsp + 1];   /* w's last two dims */
    if (!tr && (C % groups[0] != 0 || wc * groups[0] != C || wf % groups[0] != 0)) {
        check_error(b, n->loc, "%s: x %s has %lld channels, w %s takes %lld per group and gives %lld: with "
                    "groups = %lld, C / groups = %lld * %lld must be %lld and F a multiple of %lld", fname,
                    check_tystr(b, x), (long long)C, check_tystr(b, w), (long long)wc, (long long)wf,
                    (long long)groups[0], (long long)wc, (long long)groups[0], (long long)C, (long long)groups[0]);
        return ty_error();
    }
    if (tr && wf != C) {
        check_error(b, n->loc, "%s: x has %lld channels but w %s is f32[..., F, C] with C = %lld", fname,
                    (long long)C, check_tystr(b, w), (long long)wf);
        return ty_error();
    }
    cs->nsp = nsp;
    for (int k = 0; k < nsp; k++) {
        int64_t in = xd[1 + k], K = wd[k], s = st[k], d = dil[k], span = d * (K - 1) + 1;
        cs->stride[k] = s, cs->dil[k] = d;
        if (tr && opad[k] >= s) {
            check_error(b, slot[4]->loc, "%s: output_padding %lld must be smaller than the stride %lld", fname,
                        (long long)opad[k], (long long)s);
            return ty_error();
        }
        if (!tr) {
            int64_t lo = pad[k], hi = pad[k];
            if (mode && !strcmp(mode, "same")) {
                int64_t o = (in + s - 1) / s, tot = (o - 1) * s + span - in;
                tot = tot < 0 ? 0 : tot;
                lo = tot / 2, hi = tot - lo;
            } else if (mode && !strcmp(mode, "causal")) {
                /* every output sees its own step and the span - 1 before it (Keras: the left
                 * padding dilation * (k - 1)); the length stays ceil(L / stride) */
                lo = span - 1, hi = 0;
            }
            int64_t num = in + lo + hi - span;
            if (num < 0) {
                check_error(b, n->loc, "%s: (%lld - %lld + %lld) / %lld + 1 = %lld is not a positive size", fname,
                            (long long)in, (long long)span, (long long)(lo + hi), (long long)s,
                            (long long)(num >= 0 ? num / s + 1 : -((-num + s - 1) / s) + 1));
                if (d > 1)
                    check_note(b, n->loc, "the kernel of %lld taps with dilation %lld spans %lld", (long long)K,
                               (long long)d, (long long)span);
                return ty_error();
            }
            if (hi > (1 << 20)) {
                check_error(b, n->loc, "%s: padding %lld is more than 2^20", fname, (long long)hi);
                return ty_error();
            }
            cs->lo[k] = lo, cs->hi[k] = hi, cs->out[k] = num / s + 1;
        } else {
            /* the output O is the input of the convolution this transposes: that convolution
             * maps O back to `in` */
            int64_t o, lo, hi;
            if (mode && !strcmp(mode, "same")) {
                o = in * s + opad[k];
                int64_t tot = (in - 1) * s + span - in * s;
                tot = tot < 0 ? 0 : tot;
                lo = tot / 2, hi = tot - lo;
            } else {
                lo = hi = pad[k];
                o = (in - 1) * s + span - lo - hi + opad[k];
            }
            if (o < 1) {
                check_error(b, n->loc, "%s: (%lld - 1) * %lld + %lld - %lld + %lld = %lld is not a positive size",
                            fname, (long long)in, (long long)s, (long long)span, (long long)(lo + hi),
                            (long long)opad[k], (long long)o);
                return ty_error();
            }
            if (hi > (1 << 20)) {
                check_error(b, n->loc, "%s: padding %lld is more than 2^20", fname, (long long)hi);
                return ty_error();
            }
            cs->lo[k] = lo, cs->hi[k] = hi, cs->out[k] = o;
        }
    }
    cs->F = ty_dim_const(&b->C->dc, tr ? wd[nsp] : wf);
    const SDim **dd = arena_alloc(b->C->a, sizeof *dd * 4);
    dd[0] = x->shape.dims[0];
    for (int k = 0; k < nsp; k++)
        dd[1 + k] = ty_dim_const(&b->C->dc, cs->out[k]);
    dd[nsp + 1] = cs->F;
    return ty_tensor(b->C->a, DT_F32, nsp + 2, dd);
}

const Type *check_builtin_call(Body *b, Node *n, Builtin bi, Node **slot, const Type **sty) {
    Check *C = b->C;
    const char *fname = check_builtins[bi].name;
    for (int i = 0; i < check_builtins[bi].nformals; i++)
        if (slot[i] && sty[i]->kind == TY_ERROR)
            return ty_error();
    for (int i = 0; i < check_builtins[bi].nformals; i++)
        if (slot[i] && sty[i]->kind == TY_ANY)
            return ty_any();
    switch (check_builtins[bi].rule) {
    case BR_UNARY_F32: case BR_UNARY_NUM: {
        double known_int;
        if (check_builtins[bi].rule == BR_UNARY_F32 &&
            (sty[0]->kind == TY_FLOAT ||
             (sty[0]->kind == TY_INT && (check_num_value(sty[0], &known_int) ||
                                         !(b->kind == ND_MODEL && (!sty[0]->ival || check_holds_batch(b, sty[0]->ival))))))) {
            /* (an int holding the model's batch size B stays a tensor, computed when the model
             * runs; an int not known in a generic body, a dim formal's K, is a float known at
             * each call, as K ** 0.5 is: Kaiming's normal(0, gain / sqrt(K)) in a layer of
             * one's own, an attention's softmax(s, scale = 1.0 / sqrt(D))) */
            /* of a compile-time number, a compile-time float, as `**` gives one: an initializer's
             * normal(0, sqrt(2.0 / K)) (He's), a constant exp(-1.0) [builtin.fold] */
            Type *t = ty_new(C->a, TY_FLOAT);
            double v;
            t->known = check_num_value(sty[0], &v);
            if (t->known) {
                double x0 = v;
                switch (bi) {
                case BI_EXP: v = exp(v); break;
                case BI_LOG: v = log(v); break;
                case BI_SQRT: v = sqrt(v); break;
                case BI_TANH: v = tanh(v); break;
                case BI_SIGMOID: v = 1.0 / (1.0 + exp(-v)); break;
                case BI_ATAN: v = atan(v); break;
                case BI_SIN: v = sin(v); break;
                case BI_COS: v = cos(v); break;
                case BI_ASIN: v = asin(v); break;
                case BI_ACOS: v = acos(v); break;
                default: v = erf(v); break;
                }
                if (!isfinite(v)) {
                    check_error(b, n->loc, "compile-time arithmetic gives %s, not a finite number (%s(%g))",
                                isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf", fname, x0);
                    return ty_error();
                }
                t->fval = v;
            }
            return t;
        }
        const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
        if (!x)
            return ty_error();
        bool int_ok = check_builtins[bi].rule == BR_UNARY_NUM;
        if (x->dtype != DT_F32 && !(int_ok && x->dtype == DT_I32)) {
            check_error(b, slot[0]->loc, "%s expects an %s tensor, got %s", fname, int_ok ? "f32 or i32" : "f32",
                        check_tystr(b, x));
            if (x->dtype == DT_I32)
                check_hint(b, "convert with f32(x)");
            return ty_error();
        }
        return x;
    }
    case BR_BINARY: {
        int op = bi == BI_POW ? OP_POW_ : OP_ADD_;
        const Type *t = check_binary(b, n, op, sty[0], sty[1], n->loc, fname);
        if (t->kind == TY_TENSOR && t->dtype == DT_BOOL) {
            check_error(b, n->loc, "%s cannot take bool tensors", fname);
            return ty_error();
        }
        if (ty_is_bad(t) || t->kind == TY_TENSOR)
            return t;
        if (bi != BI_POW) {
            /* max/min of two compile-time numbers */
            double x, y;
            if (sty[0]->kind == TY_INT && sty[1]->kind == TY_INT) {
                int64_t p, q;
                if (check_const_int(sty[0], &p) && check_const_int(sty[1], &q))
                    return check_int_type(b, ty_dim_const(&C->dc, (bi == BI_MAX) == (p > q) ? p : q));
                /* ints linear in B: their max is no such int (compiler/lower.c refuses it too) */
                for (int i = 0; i < 2; i++)
                    if (sty[i]->ival && check_holds_batch(b, sty[i]->ival)) {
                        check_error(b, n->loc, "%s of ints that depend on the batch size B is not known when "
                                    "compiling; compare tensors instead: %s(f32(a), f32(b))", fname, fname);
                        return ty_error();
                    }
                return check_int_type(b, NULL);
            }
            Type *r = ty_new(C->a, TY_FLOAT);
            r->known = check_num_value(sty[0], &x) && check_num_value(sty[1], &y);
            if (r->known)
                r->fval = (bi == BI_MAX) == (x > y) ? x : y;
            return r;
        }
        return t;
    }
    case BR_CLIP:
        return clip(b, n, slot, sty);
    case BR_WHERE: {
        const Type *c = sty[0];
        if (!((c->kind == TY_TENSOR && c->dtype == DT_BOOL) || c->kind == TY_BOOL)) {
            check_error(b, slot[0]->loc, "where expects a bool condition, got %s", check_tystr(b, c));
            return ty_error();
        }
        const Type *v = check_binary(b, n, OP_ADD_, sty[1], sty[2], n->loc, "where");
        if (ty_is_bad(v))
            return v;
        if (v->kind != TY_TENSOR) {
            /* both branches compile-time numbers: an f32 (or i32) tensor of the condition's shape */
            v = ty_tensor(C->a, v->kind == TY_INT ? DT_I32 : v->kind == TY_BOOL ? DT_BOOL : DT_F32, 0, NULL);
        }
        Shape s = v->shape;
        if (c->kind == TY_TENSOR && !check_broadcast(b, &c->shape, &v->shape, &s)) {
            check_error(b, n->loc, "where cannot broadcast the condition %s with %s", check_tystr(b, c),
                        check_tystr(b, v));
            return ty_error();
        }
        return tensor_like(b, v->dtype, &s);
    }
    case BR_REDUCE: case BR_REDUCE_F32: case BR_ARG_REDUCE:
        return reduce(b, n, bi, slot, sty);
    case BR_SCAN:
        return scan(b, bi, slot, sty);
    case BR_RESHAPE:
        return reshape(b, n, slot, sty);
    case BR_TRANSPOSE:
        return transpose(b, n, slot, sty);
    case BR_CONCAT:
        return concat(b, n, slot, sty);
    case BR_ONE_HOT: {
        const Type *l = sty[0];
        if (l->kind != TY_TENSOR || l->dtype != DT_I32) {
            check_error(b, slot[0]->loc, "one_hot expects an i32 tensor of labels, got %s",
                        check_tystr(b, l));
            return ty_error();
        }
        int64_t v;
        if (sty[1]->kind != TY_INT || !sty[1]->ival) {
            check_error(b, slot[1]->loc, "one_hot expects a known int for 'n', got %s",
                        check_tystr(b, sty[1]));
            return ty_error();
        }
        if (ty_dim_is_const(sty[1]->ival, &v) && v < 1) {
            check_error(b, slot[1]->loc, "one_hot needs at least 1 class, got %lld", (long long)v);
            return ty_error();
        }
        Type *t = tensor_like(b, DT_F32, &l->shape);
        const SDim **d = arena_alloc(C->a, sizeof *d * (size_t)(l->shape.rank + 2));
        if (l->shape.rank > 0)
            memcpy(d, l->shape.dims, sizeof *d * (size_t)l->shape.rank);
        d[l->shape.rank] = sty[1]->ival;
        t->shape.rank++;
        t->shape.dims = d;
        return t;
    }
    case BR_GATHER:
        return gather(b, slot, sty);
    case BR_CAST: {
        DType dt = bi == BI_F32 ? DT_F32 : DT_I32;
        const Type *x = sty[0];
        if (x->kind == TY_TENSOR)
            return tensor_like(b, dt, &x->shape);
        if (x->kind == TY_INT || x->kind == TY_FLOAT || x->kind == TY_BOOL)
            return ty_tensor(C->a, dt, 0, NULL);
        check_error(b, slot[0]->loc, "%s cannot convert %s", fname, check_tystr(b, x));
        return ty_error();
    }
    case BR_SAME: {
        const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
        return x ? x : ty_error();
    }
    case BR_LIKE: case BR_RAND: {
        const Type *x = sty[0];
        if (x->kind != TY_TENSOR) {
            check_error(b, slot[0]->loc, "%s expects a tensor whose shape to copy, got %s", fname,
                        check_tystr(b, x));
            return ty_error();
        }
        return tensor_like(b, check_builtins[bi].rule == BR_RAND ? DT_F32 : x->dtype, &x->shape);
    }
    case BR_RAND_PERM: {
        /* [builtin.rand_perm] i32[n] for x of shape [n, ...]: the first dim must be known where
         * it sits (not inside *S) */
        const Type *x = sty[0];
        if (x->kind != TY_TENSOR || x->shape.rank < 1 || x->shape.rest == 0) {
            check_error(b, slot[0]->loc, "%s expects a tensor whose first axis to permute, got %s", fname,
                        check_tystr(b, x));
            return ty_error();
        }
        Shape sh = {.rank = 1, .dims = x->shape.dims, .rest = -1};
        return tensor_like(b, DT_I32, &sh);
    }
    case BR_ASSERT: {
        /* [builtin.assert] the condition is known at each call: a body whose condition depends
         * on its formals is checked again at every call (value_dependent), through the generic
         * callers whose formals it depends on */
        const Type *c = sty[0], *m = sty[1];
        if (m->kind != TY_STR || !m->sval) {
            check_error(b, slot[1]->loc, "assert expects a string message, got %s", check_tystr(b, m));
            return ty_error();
        }
        if (c->kind != TY_BOOL) {
            check_error(b, slot[0]->loc, "assert expects a compile-time bool, got %s", check_tystr(b, c));
            if (c->kind == TY_TENSOR)
                check_hint(b, "a tensor's values are known only when the model runs");
            return ty_error();
        }
        if (!c->known) {
            for (Body *p = b; p; p = p->caller)
                if (!p->instance) {
                    if (p->info && p->kind != ND_MODEL)
                        p->info->value_dependent = true;
                    break;
                }
        } else if (!c->bval) {
            check_error(b, slot[0]->loc, "%s", m->sval);
            return ty_error();
        }
        Type *t = ty_new(C->a, TY_BOOL);
        t->known = true;
        t->bval = true;
        return t;
    }
    case BR_SHAPE: {
        const Type *x = sty[0];
        if (x->kind != TY_TENSOR) {
            check_error(b, slot[0]->loc, "shape expects a tensor, got %s", check_tystr(b, x));
            return ty_error();
        }
        int64_t ax;
        int pos;
        if (!get_axis(b, slot[1], sty[1], &ax) || !axis_index(b, slot[1], x, ax, &pos))
            return ty_error();
        return check_int_type(b, x->shape.dims[pos]);
    }
    case BR_POOL: case BR_UPSAMPLE: {
        PoolSpec p = {0};
        return pool_or_upsample(b, n, bi, slot, sty, &p);
    }
    case BR_CONV: {
        ConvSpec cs;
        return conv_rule(b, n, bi, slot, sty, &cs);
    }
    case BR_SOFTMAX: {
        const Type *x = as_tensor(b, fname, "x", slot[0], sty[0], DT_F32);
        if (!x)
            return ty_error();
        double sc;
        if (x->dtype != DT_F32) {
            check_error(b, slot[0]->loc, "softmax expects an f32 tensor, got %s", check_tystr(b, x));
            return ty_error();
        }
        (void)sc;   /* a number known only at each call in a generic body: lowering reads it */
        if (slot[1] && !(sty[1]->kind == TY_INT || sty[1]->kind == TY_FLOAT)) {
            check_error(b, slot[1]->loc, "softmax expects a compile-time number for 'scale', got %s",
                        check_tystr(b, sty[1]));
            return ty_error();
        }
        if (slot[2] && sty[2]->kind != TY_BOOL) {
            check_error(b, slot[2]->loc, "softmax expects a compile-time bool for 'causal', got %s",
                        check_tystr(b, sty[2]));
            return ty_error();
        }
        bool causal = slot[2] && sty[2]->known && sty[2]->bval;
        int need = causal ? 2 : 1, after = x->shape.rest < 0 ? x->shape.rank : x->shape.rank - x->shape.rest;
        if (x->shape.rest < 0 && x->shape.rank < need) {
            check_error(b, slot[0]->loc, "softmax%s needs a tensor of rank %d or more, got %s",
                        causal ? " with causal = true" : "", need, check_tystr(b, x));
            return ty_error();
        }
        for (int k = x->shape.rank - (after < 2 ? after : 2); causal && k < x->shape.rank; k++)
            if (check_holds_batch(b, x->shape.dims[k])) {
                check_error(b, slot[0]->loc, "softmax with causal = true masks the last two axes, which must "
                            "not depend on the batch size B, got %s", check_tystr(b, x));
                return ty_error();
            }
        return x;
    }
    case BR_NONE:
        break;
    }
    unreachable();
}

/* ---- the rules on concrete types (compiler/lower.c) ---- */

static const Type *concrete(Arena *a, Diag *d, Node *n, Builtin bi, Node **slot, const Type **sty, int op,
                            const Type *l, const Type *r) {
    /* a model body: B is the batch dim, every other dim a known int */
    Check C = {.a = a, .d = d, .dc = {.a = a}};
    Body b = {.C = &C, .kind = ND_MODEL, .instance = true};
    const Type *t = bi ? check_builtin_call(&b, n, bi, slot, sty) : check_binary(&b, n, op, l, r, n->loc, NULL);
    if (C.dc.overflow && !ty_is_bad(t)) {
        check_error(&b, n->loc, "integer arithmetic overflows");
        return ty_error();
    }
    return t;
}

const Type *builtin_type_concrete(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty) {
    return concrete(a, d, call, bi, slot, sty, 0, NULL, NULL);
}

PoolSpec builtin_pool_spec(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty) {
    Check C = {.a = a, .d = d, .dc = {.a = a}};
    Body b = {.C = &C, .kind = ND_MODEL, .instance = true};
    PoolSpec p = {0};
    pool_or_upsample(&b, call, bi, slot, sty, &p);
    return p;
}

const Type *binary_type_concrete(Arena *a, Diag *d, Node *n, int op, const Type *l, const Type *r) {
    return concrete(a, d, n, BI_NONE, NULL, NULL, op, l, r);
}

int builtin_conv_attrs(Arena *a, Diag *d, Node *call, Builtin bi, Node **slot, const Type **sty, int64_t *at) {
    Check C = {.a = a, .d = d, .dc = {.a = a}};
    Body b = {.C = &C, .kind = ND_MODEL, .instance = true};
    ConvSpec cs;
    if (ty_is_bad(conv_rule(&b, call, bi, slot, sty, &cs)))
        unreachable();      /* lowering asks only after builtin_type_concrete accepted the call */
    int ns = cs.nsp;
    for (int k = 0; k < ns; k++)
        at[k] = cs.stride[k], at[ns + k] = cs.dil[k], at[2 * ns + k] = cs.lo[k], at[3 * ns + k] = cs.hi[k];
    return 4 * ns;
}
