/* ir.c - the graph IR core: the op table, graph and module construction with CSE, the convenience
 * builders, dims and types.
 *
 * Every node goes through ir_add, which merges it with an equal node already in the graph (same
 * op, type, operands - in either order for F_COMMUTE ops - and attributes; CONST data compared by
 * pointer and length) unless the op is F_NOCSE. CSE is therefore free for every pass that rebuilds
 * a graph through ir_add (simplify, autodiff). The shape rules live in ir_shape.c; docs/ir.md is
 * the reference for both.
 */
#include "ir.h"

#include <math.h>
#include <string.h>

#include "diag.h"

const char *const ir_op_name[OP__COUNT] = {
#define OP(name, text, nsrc, flags) [OP_##name] = text,
#include "ops.def"
#undef OP
};
const int ir_op_nsrc[OP__COUNT] = {
#define OP(name, text, nsrc, flags) [OP_##name] = nsrc,
#include "ops.def"
#undef OP
};
const int ir_op_flags[OP__COUNT] = {
#define OP(name, text, nsrc, flags) [OP_##name] = flags,
#include "ops.def"
#undef OP
};

/* ---- graphs ---- */

IrGraph *ir_graph_new(Arena *a, const char *name) {
    IrGraph *g = arena_alloc(a, sizeof *g);
    g->name = arena_strdup(a, name ? name : "graph");
    g->arena = a;
    return g;
}

static uint32_t mix(uint32_t h, uint64_t v) {
    h ^= (uint32_t)v + 0x9e3779b9u + (h << 6) + (h >> 2);
    h ^= (uint32_t)(v >> 32) + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}

static uint32_t node_hash(const IrNode *n) {
    uint32_t h = mix(0, n->op);
    h = mix(h, (uint64_t)n->type.dtype << 8 | (uint64_t)n->type.rank);
    for (int k = 0; k < n->type.rank; k++)
        h = mix(mix(h, (uint64_t)n->type.dim[k].a), (uint64_t)n->type.dim[k].c);
    uint32_t s[IR_MAXSRC];
    memcpy(s, n->src, sizeof s);
    if ((ir_op_flags[n->op] & F_COMMUTE) && n->nsrc == 2 && s[0] > s[1]) {
        uint32_t t = s[0];
        s[0] = s[1];
        s[1] = t;
    }
    for (int k = 0; k < n->nsrc; k++)
        h = mix(h, s[k]);
    h = mix(h, (uint64_t)n->attr.ni);
    for (int k = 0; k < n->attr.ni; k++)
        h = mix(h, (uint64_t)n->attr.i[k]);
    uint64_t fb;
    memcpy(&fb, &n->attr.f, sizeof fb);
    h = mix(h, fb);
    if (n->attr.name)
        for (const char *p = n->attr.name; *p; p++)
            h = mix(h, (unsigned char)*p);
    h = mix(h, (uint64_t)(uintptr_t)n->attr.data);
    return h ? h : 1;
}

static bool attr_eq(const IrAttr *x, const IrAttr *y) {
    if (x->ni != y->ni || memcmp(&x->f, &y->f, sizeof x->f) != 0 || x->data != y->data)
        return false;
    for (int k = 0; k < x->ni; k++)
        if (x->i[k] != y->i[k])
            return false;
    if (!x->name || !y->name)
        return x->name == y->name;
    return strcmp(x->name, y->name) == 0;
}

static bool node_eq(const IrNode *x, const IrNode *y) {
    if (x->op != y->op || x->nsrc != y->nsrc || !ir_type_eq(&x->type, &y->type) ||
        !attr_eq(&x->attr, &y->attr))
        return false;
    bool same = true;
    for (int k = 0; k < x->nsrc; k++)
        same = same && x->src[k] == y->src[k];
    if (!same && (ir_op_flags[x->op] & F_COMMUTE) && x->nsrc == 2)
        same = x->src[0] == y->src[1] && x->src[1] == y->src[0];
    return same;
}

static void hash_insert(IrGraph *g, uint32_t idx, uint32_t h) {
    for (uint32_t k = h & (g->hashcap - 1);; k = (k + 1) & (g->hashcap - 1))
        if (!g->hash[k].node) {
            g->hash[k] = (IrHashSlot){idx + 1, h};
            return;
        }
}

/* A table of at least cap slots (a power of two), the old one's entries moved over by their
 * stored hashes. */
static void hash_resize(IrGraph *g, uint32_t cap) {
    IrHashSlot *old = g->hash;
    uint32_t oldcap = g->hashcap;
    g->hash = arena_alloc(g->arena, sizeof *g->hash * cap);
    g->hashcap = cap;
    for (uint32_t k = 0; k < oldcap; k++)
        if (old[k].node)
            hash_insert(g, old[k].node - 1, old[k].hash);
}

void ir_graph_reserve(IrGraph *g, uint32_t n) {
    uint32_t want = g->len + n;
    if (want > g->cap) {
        g->nodes = arena_realloc(g->arena, g->nodes, sizeof *g->nodes * g->len, sizeof *g->nodes * want);
        g->cap = want;
    }
    uint32_t cap = g->hashcap ? g->hashcap : 256;
    while (2 * (want + 1) > cap)
        cap *= 2;
    if (cap != g->hashcap)
        hash_resize(g, cap);
}

uint32_t ir_add(IrGraph *g, Op op, IrType type, const uint32_t *src, int nsrc, const IrAttr *attr,
                Loc loc) {
    if ((unsigned)op >= OP__COUNT)
        die("ir_add: bad op %d", (int)op);
    if (nsrc != ir_op_nsrc[op])
        die("ir_add: %s takes %d operands, got %d", ir_op_name[op], ir_op_nsrc[op], nsrc);
    if (type.rank < 0 || type.rank > IR_MAXRANK)
        die("ir_add: %s: rank %d out of range", ir_op_name[op], type.rank);
    IrNode n = {.op = (uint16_t)op, .nsrc = (uint8_t)nsrc, .type = type, .loc = loc};
    for (int k = type.rank; k < IR_MAXRANK; k++)
        n.type.dim[k] = (Dim){0, 0};
    for (int k = 0; k < IR_MAXSRC; k++)
        n.src[k] = IR_NONE;
    for (int k = 0; k < nsrc; k++) {
        if (src[k] >= g->len)
            die("ir_add: %s: operand %d is %u, graph %s has %u nodes", ir_op_name[op], k, src[k],
                g->name, g->len);
        n.src[k] = src[k];
    }
    if (attr) {
        n.attr = *attr;
        if (n.attr.ni < 0 || n.attr.ni > 8)
            die("ir_add: %s: %d integer attributes", ir_op_name[op], n.attr.ni);
        for (int k = n.attr.ni; k < 8; k++)
            n.attr.i[k] = 0;
    }
    /* A fill constant holds the value its dtype can represent, so equal constants merge. */
    if (op == OP_CONST && !n.attr.data) {
        if (type.dtype == DT_F32)
            n.attr.f = (double)(float)n.attr.f;
        else if (type.dtype == DT_I32)
            n.attr.f = isnan(n.attr.f)
                           ? 0
                           : (double)(int32_t)fmax(fmin(n.attr.f, 2147483647.0), -2147483648.0);
        else
            n.attr.f = n.attr.f != 0;
    }
    bool cse = !(ir_op_flags[op] & F_NOCSE);
    uint32_t h = 0;
    if (cse) {
        if (2 * (g->len + 1) > g->hashcap)
            hash_resize(g, g->hashcap ? g->hashcap * 2 : 256);
        h = node_hash(&n);
        for (uint32_t k = h & (g->hashcap - 1); g->hash[k].node; k = (k + 1) & (g->hashcap - 1))
            if (g->hash[k].hash == h && node_eq(&g->nodes[g->hash[k].node - 1], &n))
                return g->hash[k].node - 1;
    }
    uint32_t idx = g->len;
    *ARENA_PUSH(g->arena, g->nodes, g->len, g->cap) = n;
    if (cse)
        hash_insert(g, idx, h);
    return idx;
}

void ir_result(IrGraph *g, uint32_t node, IrResultKind kind, int index) {
    if (node >= g->len)
        die("ir_result: node %u out of range in graph %s", node, g->name);
    *ARENA_PUSH(g->arena, g->res, g->nres, g->capres) = (IrResult){node, kind, index};
}

/* ---- builders ---- */

static const IrType *ty(const IrGraph *g, uint32_t x) {
    if (x >= g->len)
        die("node %u out of range in graph %s", x, g->name);
    return &g->nodes[x].type;
}

static uint32_t add_checked(IrGraph *g, Op op, const uint32_t *src, int nsrc, const IrAttr *attr,
                            IrType want) {
    IrType st[IR_MAXSRC];
    for (int k = 0; k < nsrc; k++)
        st[k] = *ty(g, src[k]);
    IrType t = want;
    const char *why = ir_shape_rule((Op)op, st, nsrc, attr, &t);
    if (why)
        die("building %s in graph %s: %s", ir_op_name[op], g->name, why);
    return ir_add(g, op, t, src, nsrc, attr, (Loc){0});
}

uint32_t ir_unary(IrGraph *g, Op op, uint32_t x) {
    return add_checked(g, op, &x, 1, NULL, *ty(g, x));
}

static bool dim_is(Dim d, int64_t v) { return d.a == 0 && d.c == v; }

/* NumPy broadcasting of two shapes; false if they do not broadcast. */
bool ir_broadcast_shape(const IrType *x, const IrType *y, IrType *out) {
    int r = x->rank > y->rank ? x->rank : y->rank;
    IrType t = {.dtype = x->dtype, .rank = r};
    for (int k = 0; k < r; k++) {
        int kx = k - (r - x->rank), ky = k - (r - y->rank);
        Dim dx = kx >= 0 ? x->dim[kx] : (Dim){0, 1};
        Dim dy = ky >= 0 ? y->dim[ky] : (Dim){0, 1};
        if (dx.a == dy.a && dx.c == dy.c)
            t.dim[k] = dx;
        else if (dim_is(dx, 1))
            t.dim[k] = dy;
        else if (dim_is(dy, 1))
            t.dim[k] = dx;
        else
            return false;
    }
    *out = t;
    return true;
}

uint32_t ir_binary(IrGraph *g, Op op, uint32_t x, uint32_t y) {
    const IrType *tx = ty(g, x), *ty_ = ty(g, y);
    if (tx->dtype != ty_->dtype) {
        char a[128], b[128];
        ir_type_fmt(a, sizeof a, tx);
        ir_type_fmt(b, sizeof b, ty_);
        die("ir_binary %s: operand dtypes differ (%s, %s)", ir_op_name[op], a, b);
    }
    IrType shape;
    if (!ir_broadcast_shape(tx, ty_, &shape)) {
        char a[128], b[128];
        ir_type_fmt(a, sizeof a, tx);
        ir_type_fmt(b, sizeof b, ty_);
        die("ir_binary %s: shapes %s and %s do not broadcast", ir_op_name[op], a, b);
    }
    IrType sx = shape, sy = shape;
    sx.dtype = g->nodes[x].type.dtype;
    sy.dtype = g->nodes[y].type.dtype;
    x = ir_broadcast(g, x, sx);
    y = ir_broadcast(g, y, sy);
    uint32_t s[2] = {x, y};
    return add_checked(g, op, s, 2, NULL, sx);
}

uint32_t ir_select(IrGraph *g, uint32_t c, uint32_t x, uint32_t y) {
    IrType s1, shape;
    if (!ir_broadcast_shape(ty(g, x), ty(g, y), &s1) || !ir_broadcast_shape(ty(g, c), &s1, &shape))
        die("ir_select: operand shapes do not broadcast in graph %s", g->name);
    IrType tc = shape, tv = shape;
    tc.dtype = DT_BOOL;
    tv.dtype = g->nodes[x].type.dtype;
    uint32_t s[3] = {ir_broadcast(g, c, tc), ir_broadcast(g, x, tv), ir_broadcast(g, y, tv)};
    return add_checked(g, OP_SELECT, s, 3, NULL, tv);
}

uint32_t ir_fill(IrGraph *g, IrType t, double v) {
    IrAttr at = {.f = v};
    return ir_add(g, OP_CONST, t, NULL, 0, &at, (Loc){0});
}

uint32_t ir_scalar(IrGraph *g, DType dt, double v) {
    return ir_fill(g, (IrType){.dtype = dt, .rank = 0}, v);
}

uint32_t ir_broadcast(IrGraph *g, uint32_t x, IrType to) {
    to.dtype = ty(g, x)->dtype;
    if (ir_type_eq(ty(g, x), &to))
        return x;
    return add_checked(g, OP_BROADCAST, &x, 1, NULL, to);
}

uint32_t ir_reshape(IrGraph *g, uint32_t x, IrType to) {
    to.dtype = ty(g, x)->dtype;
    if (ir_type_eq(ty(g, x), &to))
        return x;
    return add_checked(g, OP_RESHAPE, &x, 1, NULL, to);
}

uint32_t ir_sum(IrGraph *g, uint32_t x, uint64_t axes) {
    IrAttr at = {.i = {(int64_t)axes}, .ni = 1};
    return add_checked(g, OP_SUM, &x, 1, &at, *ty(g, x));
}

uint32_t ir_matmul(IrGraph *g, uint32_t a, uint32_t b, bool ta, bool tb) {
    IrAttr at = {.i = {ta, tb}, .ni = 2};
    uint32_t s[2] = {a, b};
    return add_checked(g, OP_MATMUL, s, 2, &at, *ty(g, a));
}

uint32_t ir_op(IrGraph *g, Op op, const uint32_t *src, int nsrc, const IrAttr *attr, IrType want) {
    return add_checked(g, op, src, nsrc, attr, want);
}

Dim ir_slice_start(const IrAttr *at) { return (Dim){at->ni == 6 ? at->i[4] : 0, at->i[1]}; }
Dim ir_slice_stop(const IrAttr *at) { return (Dim){at->ni == 6 ? at->i[5] : 0, at->i[2]}; }

/* ---- modules ---- */

IrModule *ir_module_new(Arena *a, const char *name) {
    IrModule *m = arena_alloc(a, sizeof *m);
    m->name = arena_strdup(a, name ? name : "model");
    m->arena = a;
    return m;
}

int ir_module_tensor(IrModule *m, IrTensor t) {
    int idx = m->ntensors;
    *ARENA_PUSH(m->arena, m->tensors, m->ntensors, m->captensors) = t;
    return idx;
}

/* ---- dims and types ---- */

bool ir_type_eq(const IrType *x, const IrType *y) {
    if (x->dtype != y->dtype || x->rank != y->rank)
        return false;
    for (int k = 0; k < x->rank; k++)
        if (x->dim[k].a != y->dim[k].a || x->dim[k].c != y->dim[k].c)
            return false;
    return true;
}

int64_t ir_dim_eval(Dim d, int64_t B) {
    int64_t r;
    if (__builtin_mul_overflow(d.a, B, &r) || __builtin_add_overflow(r, d.c, &r))
        return INT64_MAX; /* no real tensor gets there; the verifier rejects such types */
    return r;
}

/* Saturates at INT64_MAX instead of overflowing. */
int64_t ir_numel(const IrType *t, int64_t B) {
    int64_t n = 1;
    for (int k = 0; k < t->rank; k++)
        if (__builtin_mul_overflow(n, ir_dim_eval(t->dim[k], B), &n))
            return INT64_MAX;
    return n;
}

int ir_dtype_size(DType d) { return d == DT_BOOL ? 1 : 4; }

const char *ir_dtype_name(DType d) {
    switch (d) {
    case DT_F32:
        return "f32";
    case DT_I32:
        return "i32";
    case DT_BOOL:
        return "bool";
    }
    return "?";
}

/* v in decimal at p; returns the end. (By hand: types are printed for every kernel's signature,
 * and a chain of snprintf calls per dim was most of the LLVM IR stage's time.) */
static char *put_int(char *p, long long v) {
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* One dim: 784, B, 32*B, B+1, 2*B-3, -B. */
static char *dim_put(char *p, Dim d) {
    if (d.a == 0)
        return put_int(p, (long long)d.c);
    if (d.a == -1)
        *p++ = '-';
    else if (d.a != 1) {
        p = put_int(p, (long long)d.a);
        *p++ = '*';
    }
    *p++ = 'B';
    if (d.c > 0)
        *p++ = '+';
    if (d.c != 0)
        p = put_int(p, (long long)d.c);
    return p;
}

/* As snprintf would: at most n - 1 characters of the text and a NUL. */
void ir_type_fmt(char *buf, size_t n, const IrType *t) {
    char full[8 + IR_MAXRANK * 48], *p = full;
    const char *dt = ir_dtype_name(t->dtype);
    size_t dl = strlen(dt);
    memcpy(p, dt, dl);
    p += dl;
    *p++ = '[';
    for (int k = 0; k < t->rank && k < IR_MAXRANK; k++) {
        if (k)
            *p++ = ',';
        p = dim_put(p, t->dim[k]);
    }
    *p++ = ']';
    if (n == 0)
        return;
    size_t len = (size_t)(p - full) < n - 1 ? (size_t)(p - full) : n - 1;
    memcpy(buf, full, len);
    buf[len] = 0;
}

void ir_type_print(FILE *out, const IrType *t) {
    char buf[256];
    ir_type_fmt(buf, sizeof buf, t);
    fputs(buf, out);
}
