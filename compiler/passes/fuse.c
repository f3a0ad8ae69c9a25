/* fuse.c - graph IR -> kernel IR (compiler/kernel/kernel.h): decides what is a scalar value,
 * which nodes share a buffer, and which elementwise nodes are computed inside another's loop.
 * Backends render the result without knowing any of these rules (docs/kernels.md).
 *
 * The rules, per graph:
 *   - live: nodes some result needs; the rest get nothing.
 *   - values: splat CONSTs, HYPERs and elementwise / broadcast / reshape math on values only are
 *     scalars computed once per call and passed into kernels; they get a buffer (a KK_FILL kernel)
 *     only when a non-elementwise user or a result reads memory.
 *   - buffers: INPUT/PARAM/STATE are their tensors' buffers; a CONST with literal data a global;
 *     RESHAPE and STOP_GRAD view their operand's buffer; the first RES_OUTPUT of a computed node
 *     is written straight into its output buffer; every other computed node gets a temporary.
 *   - fusion: an elementwise node with one user (which may read it more than once), an
 *     elementwise node of the same shape, has no buffer: it is an instruction in its user's loop body, so a chain (Adam's update, a
 *     derivative times a gradient) is one loop that reads each operand once.
 *   - views: a reshape keeping the last dim, read only by such a loop, is in that loop too, and so
 *     is a chain whose users are such views (a chain split only by a reshape is one loop).
 *   - a sum or rmax whose operand is such a chain (used by nothing else) reduces the chain's
 *     values as it computes them: exp(x - max) of a log-sum-exp never goes through memory.
 *   - an update whose value is another param/state/input buffer (a swap) is staged through a
 *     temporary before any update is written.
 *   - merge_rows (on the kernel list): a kernel over the same rows as an earlier row kernel or
 *     row reduction whose output it reads joins it, one row kernel with several outputs (per
 *     element and per row): a train step's softmax, cross-entropy term and backward row.
 */
#include <string.h>

#include "kernel.h"
#include "passes.h"

/* NB_BVIEW: a BROADCAST no buffer holds: its elementwise users read its operand in place */
/* NB_FLAT: a concat whose one user is a concat along the same axis: that kernel copies its
 * operands in its place (flatten_concats), so a chain of T concats is one kernel of T operands */
/* NB_STORED: computed in its users' kernel like NB_FUSED, and stored from there into its own
 * buffer, which a result reads (an optimizer's new state, used by the param's update) */
/* NB_WVIEW: a SLICE no buffer holds: the elementwise kernels that read it read a window of its
 * operand in place (KA_WIN), so a time loop's x[:, t] and an LSTM's four gate columns are no
 * copies */
typedef enum { NB_DEAD, NB_VALUE, NB_ARG, NB_GLOBAL, NB_ALIAS, NB_OUT, NB_TEMP, NB_FUSED, NB_BVIEW, NB_STORED, NB_FLAT,
               NB_WVIEW } NodeHow;

typedef struct Fuse {
    Arena *A;
    const IrGraph *g;
    KGraph *kg;
    uint8_t *isval;
    NodeHow *how;
    int *out_index;             /* NB_OUT: the output's bufs index */
    uint8_t *isout;             /* written into its output buffer (NB_OUT, and NB_STORED that was) */
    int *buf;                   /* per node: its buffer, or -1 */
    int *val;                   /* per node: its value, or -1 */
    uint32_t *root;             /* per node: the node whose kernel computes it */
    uint32_t *size;             /* per root: its nodes and their operands */
    uint8_t *bkind;             /* NB_BVIEW: how users read it (KA_BUF0, KA_ROW, KA_COL) */
    int64_t *wstart, *wstride;  /* NB_WVIEW: the window in its operand (KArg's wstart, wstride) */
    bool windows;               /* slices may be read in place (KA_WIN: the LLVM backend) */
    uint8_t *hasrow;            /* per root: a row statistic (a reduction, or math on one) is fused
                                   into its kernel, which is then a row kernel (KK_ROW) */
    uint32_t *first_user, *users;   /* live users of node x: users[first_user[x] .. first_user[x+1]) */
} Fuse;

/* The most nodes fused into one kernel besides its root (classify). */
#define FUSE_MAX_NODES 256

static bool is_source_buf(Op op) { return op == OP_INPUT || op == OP_PARAM || op == OP_STATE; }

/* A node computed by a flat elementwise loop (not a value, not an alias). */
static bool is_loop_elem(const Fuse *f, uint32_t i) {
    const IrNode *nd = &f->g->nodes[i];
    return (ir_op_flags[nd->op] & F_ELEM) && nd->op != OP_STOP_GRAD && !f->isval[i];
}

/* The structured ops that may compute their (one) operand per element from a fused elementwise
 * chain: the reductions, and the forward pools whose windows do not overlap (window <= stride:
 * each element is computed once, as in its own loop; docs/kernels.md). */
static bool takes_prologue(const IrNode *nd) {
    if (nd->op == OP_SUM || nd->op == OP_RMAX)
        return true;
    if (nd->op != OP_MAXPOOL && nd->op != OP_AVGPOOL)
        return false;
    int dims = nd->attr.ni / 4;
    for (int d = 0; d < dims; d++)
        if (nd->attr.i[d] > nd->attr.i[dims + d])
            return false;
    return true;
}

static bool same_shape(const IrType *x, const IrType *y) {
    if (x->rank != y->rank)
        return false;
    for (int k = 0; k < x->rank; k++)
        if (x->dim[k].a != y->dim[k].a || x->dim[k].c != y->dim[k].c)
            return false;
    return true;
}

static bool same_dim(Dim x, Dim y) { return x.a == y.a && x.c == y.c; }

static bool static_one(const IrType *t) {
    for (int k = 0; k < t->rank; k++)
        if (t->dim[k].a != 0 || t->dim[k].c != 1)
            return false;
    return true;
}

/* t is one value per row of s seen as [rows, last dim]: s without its last dim, or with it 1. */
static bool rows_like(const IrType *t, const IrType *s) {
    int r = s->rank;
    if (r < 1 || (t->rank != r && t->rank != r - 1))
        return false;
    for (int k = 0; k < r - 1; k++)
        if (t->dim[k].a != s->dim[k].a || t->dim[k].c != s->dim[k].c)
            return false;
    return t->rank == r - 1 || (t->dim[r - 1].a == 0 && t->dim[r - 1].c == 1);
}

/* A reshape from s to t that an elementwise loop over t can read through: the same last dim (and
 * so the same rows), hence the same flat, row and column index of every element. */
static bool view_keeps_rows(const IrType *s, const IrType *t) {
    return s->rank >= 1 && t->rank >= 1 && same_dim(s->dim[s->rank - 1], t->dim[t->rank - 1]);
}

/* A sum or rmax over the last axis only of a non-bool operand of rank >= 1: a row statistic. */
static bool is_row_reduce(const IrGraph *g, uint32_t i) {
    const IrNode *nd = &g->nodes[i];
    if ((nd->op != OP_SUM && nd->op != OP_RMAX) || nd->type.dtype == DT_BOOL || nd->attr.ni < 1)
        return false;
    const IrType *s = &g->nodes[nd->src[0]].type;
    return s->rank >= 1 && (uint64_t)nd->attr.i[0] == (uint64_t)1 << (s->rank - 1);
}

/* How an elementwise loop over t can read the broadcast of s to t in place: KA_BUF0 (one
 * element), KA_ROW (s is t with last dim 1), KA_COL (s is t's last dim), KA_TILE (s, after its
 * leading 1s, is t's last two dims or more, without B), or -1. */
static int bcast_kind(const IrType *s, const IrType *t) {
    int r = t->rank;
    if (static_one(s))
        return static_one(t) ? -1 : KA_BUF0;
    if (r < 1 || s->rank > r)
        return -1;
    bool row = true, col = true;
    for (int k = 0; k < r; k++) {
        Dim sd = k < r - s->rank ? (Dim){0, 1} : s->dim[k - (r - s->rank)];
        bool one = sd.a == 0 && sd.c == 1, same = sd.a == t->dim[k].a && sd.c == t->dim[k].c;
        row = row && (k < r - 1 ? same : one);
        col = col && (k < r - 1 ? one : same);
    }
    if (row || col)
        return row ? KA_ROW : KA_COL;
    /* a tile: s's own dims (no B) are t's last ones, the broadcast only adds leading dims */
    int lead = r - s->rank;
    while (lead < r && s->dim[lead - (r - s->rank)].a == 0 && s->dim[lead - (r - s->rank)].c == 1)
        lead++;
    bool tile = lead < r - 1;
    for (int k = lead; tile && k < r; k++) {
        Dim sd = s->dim[k - (r - s->rank)];
        tile = sd.a == 0 && t->dim[k].a == 0 && sd.c == t->dim[k].c;
    }
    return tile ? KA_TILE : -1;
}

/* SELECT's operand 0 is the bool; its math happens in the dtype of the branches */
static DType math_dtype(const IrGraph *g, const IrNode *nd) {
    return g->nodes[nd->src[nd->op == OP_SELECT ? 1 : 0]].type.dtype;
}

/* The index space a row kernel rooted at r walks: an elementwise node's type (rank >= 1), or the
 * operand of a row reduction; NULL when r cannot root a row kernel. */
static const IrType *row_space(const Fuse *f, uint32_t r) {
    const IrNode *nd = &f->g->nodes[r];
    if (f->how[r] != NB_TEMP && f->how[r] != NB_OUT && f->how[r] != NB_STORED)
        return NULL;
    if (is_loop_elem(f, r))
        return nd->type.rank >= 1 ? &nd->type : NULL;
    if (is_row_reduce(f->g, r) && f->how[r] != NB_STORED)
        return &f->g->nodes[nd->src[0]].type;
    return NULL;
}

/* A slice read in place by elementwise loops whose last dim is `cols`: step 1, along one axis,
 * every axis after it whole, and the window (its extent times those axes) exactly cols wide, so
 * that row r of the loop is the window in row r of the operand seen as [rows, *wstride]. Sets
 * the window's start and the operand's row length (elements, without B). */
static bool slice_window(const IrGraph *g, uint32_t i, Dim cols, int64_t *start, int64_t *stride) {
    const IrNode *nd = &g->nodes[i];
    const IrType *s = &g->nodes[nd->src[0]].type;
    int ax = (int)nd->attr.i[0];
    Dim st = ir_slice_start(&nd->attr);
    if (nd->op != OP_SLICE || nd->attr.i[3] != 1 || st.a != 0 || cols.a != 0 || ax < 0 || ax >= s->rank ||
        nd->type.dim[ax].a != 0)
        return false;
    int64_t inner = 1;
    for (int k = ax + 1; k < s->rank; k++) {
        if (s->dim[k].a != 0 || __builtin_mul_overflow(inner, s->dim[k].c, &inner))
            return false;
    }
    int64_t w, full, at;
    if (s->dim[ax].a != 0 || __builtin_mul_overflow(nd->type.dim[ax].c, inner, &w) || w != cols.c ||
        __builtin_mul_overflow(s->dim[ax].c, inner, &full) || __builtin_mul_overflow(st.c, inner, &at))
        return false;
    *start = at, *stride = full;
    return true;
}

/* The kernel that computes node u is a plain elementwise loop over u's shape (no row kernel, no
 * reduction's prologue): one that can read a window. */
static bool plain_elem_reader(const Fuse *f, uint32_t u) {
    uint32_t r = f->root[u];
    return is_loop_elem(f, u) && is_loop_elem(f, r) && !f->hasrow[r] && (f->how[r] == NB_TEMP || f->how[r] == NB_OUT) &&
           same_shape(&f->g->nodes[u].type, &f->g->nodes[r].type);
}

/* Slices read in place (NB_WVIEW): every user a plain elementwise loop of the slice's rows, or a
 * reshape keeping the last dim that only such loops read (x[:, t] is a slice [B, 1, D] reshaped
 * to [B, D]). */
static void window_views(Fuse *f, const uint8_t *isres) {
    const IrGraph *g = f->g;
    const uint32_t *first = f->first_user, *users = f->users;
    for (uint32_t i = 0; i < g->len; i++) {
        const IrNode *nd = &g->nodes[i];
        if (nd->op != OP_SLICE)
            continue;
        uint32_t src = nd->src[0];
        while (f->how[src] == NB_ALIAS)
            src = g->nodes[src].src[0];
        NodeHow hs = f->how[src];     /* the operand is read through its buffer */
        if (nd->op != OP_SLICE || f->how[i] != NB_TEMP || isres[i] || first[i] == first[i + 1] || nd->type.rank < 1 ||
            !(hs == NB_ARG || hs == NB_GLOBAL || hs == NB_OUT || hs == NB_TEMP || hs == NB_STORED))
            continue;
        Dim cols = nd->type.dim[nd->type.rank - 1];
        int64_t start, stride;
        bool ok = slice_window(g, i, cols, &start, &stride);
        for (uint32_t u = first[i]; ok && u < first[i + 1]; u++) {
            uint32_t x = users[u];
            if (g->nodes[x].op == OP_RESHAPE && (f->how[x] == NB_ALIAS || f->how[x] == NB_FUSED) && !isres[x] &&
                view_keeps_rows(&nd->type, &g->nodes[x].type)) {
                ok = first[x] < first[x + 1];
                for (uint32_t v = first[x]; ok && v < first[x + 1]; v++)
                    ok = plain_elem_reader(f, users[v]) && same_shape(&g->nodes[x].type, &g->nodes[users[v]].type);
            } else {
                ok = plain_elem_reader(f, x) && same_shape(&nd->type, &g->nodes[x].type);
            }
        }
        if (ok) {
            f->how[i] = NB_WVIEW;
            f->wstart[i] = start, f->wstride[i] = stride;
        }
    }
}

static void classify(Fuse *f) {
    const IrGraph *g = f->g;
    uint32_t n = g->len;
    uint8_t *live = arena_alloc(f->A, n + 1), *needbuf = arena_alloc(f->A, n + 1);
    for (int r = 0; r < g->nres; r++) {
        if (g->res[r].node >= n)
            die("graph %s: result %d names node %u of %u", g->name, r, g->res[r].node, n);
        live[g->res[r].node] = needbuf[g->res[r].node] = 1;
    }
    for (uint32_t i = n; i-- > 0;)
        if (live[i])
            for (int s = 0; s < g->nodes[i].nsrc; s++)
                live[g->nodes[i].src[s]] = 1;
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *nd = &g->nodes[i];
        Op op = (Op)nd->op;
        if (op == OP_CONST)
            f->isval[i] = nd->attr.data == NULL;
        else if (op == OP_HYPER)
            f->isval[i] = 1;
        else if (op == OP_RESHAPE || op == OP_BROADCAST || (ir_op_flags[op] & F_ELEM)) {
            bool all = nd->nsrc > 0;
            for (int s = 0; s < nd->nsrc; s++)
                all = all && f->isval[nd->src[s]];
            f->isval[i] = all;
        }
    }
    /* a value needs a buffer when some live user reads memory: not a value, not elementwise */
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *nd = &g->nodes[i];
        if (!live[i] || f->isval[i] || (ir_op_flags[nd->op] & F_ELEM))
            continue;
        for (int s = 0; s < nd->nsrc; s++)
            needbuf[nd->src[s]] = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *nd = &g->nodes[i];
        Op op = (Op)nd->op;
        if (!live[i])
            f->how[i] = NB_DEAD;
        else if (f->isval[i] && !needbuf[i])
            f->how[i] = NB_VALUE;
        else if (is_source_buf(op))
            f->how[i] = NB_ARG;
        else if (op == OP_CONST && nd->attr.data)
            f->how[i] = NB_GLOBAL;
        else if ((op == OP_RESHAPE || op == OP_STOP_GRAD) && f->how[nd->src[0]] != NB_VALUE)
            f->how[i] = NB_ALIAS;
        else
            f->how[i] = NB_TEMP;
    }
    for (int r = 0; r < g->nres; r++) {
        const IrResult *res = &g->res[r];
        if (res->kind == RES_OUTPUT && f->how[res->node] == NB_TEMP) {
            f->how[res->node] = NB_OUT;
            f->out_index[res->node] = res->index;
            f->isout[res->node] = 1;
        }
    }
    /* users of each live node (CSR: first[x] .. first[x+1]) */
    uint32_t *first = arena_alloc(f->A, sizeof(uint32_t) * (n + 2));
    for (uint32_t i = 0; i < n; i++)
        if (live[i])
            for (int s = 0; s < g->nodes[i].nsrc; s++)
                first[g->nodes[i].src[s] + 1]++;
    for (uint32_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    uint32_t *users = arena_alloc(f->A, sizeof(uint32_t) * (first[n] + 1));
    uint32_t *fill = arena_alloc(f->A, sizeof(uint32_t) * (n + 1));
    for (uint32_t i = 0; i < n; i++)
        if (live[i])
            for (int s = 0; s < g->nodes[i].nsrc; s++) {
                uint32_t x = g->nodes[i].src[s];
                users[first[x] + fill[x]++] = i;
            }
    f->first_user = first;
    f->users = users;
    uint8_t *isres = arena_alloc(f->A, n + 1);
    for (int r = 0; r < g->nres; r++)
        isres[g->res[r].node] = 1;
    /* broadcasts read in place: every user an elementwise loop over the broadcast's shape */
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *nd = &g->nodes[i];
        if (nd->op != OP_BROADCAST || f->how[i] != NB_TEMP || isres[i] || first[i] == first[i + 1])
            continue;
        int kind = bcast_kind(&g->nodes[nd->src[0]].type, &nd->type);
        bool ok = kind >= 0;
        for (uint32_t u = first[i]; ok && u < first[i + 1]; u++)
            ok = is_loop_elem(f, users[u]) && same_shape(&nd->type, &g->nodes[users[u]].type);
        if (ok) {
            f->how[i] = NB_BVIEW;
            f->bkind[i] = (uint8_t)kind;
        }
    }
    /* fusion, users before their operands: an elementwise node that is no result, whose users are
     * all elementwise nodes of its shape computed in one kernel, is computed in that kernel too
     * (an instruction of its body, evaluated once per element however often it is read).
     * Row kernels: when that kernel walks rows (an elementwise root of rank >= 1, or a sum/rmax
     * over the last axis), a row statistic whose users are all in it joins it too: a sum or rmax
     * over the last axis of that space, elementwise math on row statistics, and the reshapes,
     * stop_gradients and row broadcasts that carry them back to the elements. */
    uint32_t *fused = arena_alloc(f->A, sizeof(uint32_t) * (n + 1));     /* nodes fused into each root */
    for (uint32_t i = n; i-- > 0;) {
        f->root[i] = i;
        if (first[i] == first[i + 1])
            continue;
        bool stored = isres[i] || f->how[i] == NB_OUT;    /* a result: keeps its buffer */
        NodeHow h = f->how[i];
        uint32_t root = f->root[users[first[i]]];
        bool same_root = true;
        for (uint32_t u = first[i]; same_root && u < first[i + 1]; u++)
            same_root = f->root[users[u]] == root;
        const IrType *space = same_root ? row_space(f, root) : NULL, *ti = &g->nodes[i].type;
        bool ok = false, row = false;
        if ((h == NB_TEMP || h == NB_OUT) && is_loop_elem(f, i)) {
            ok = same_root;
            for (uint32_t u = first[i]; ok && u < first[i + 1]; u++) {
                uint32_t x = users[u];
                ok = (is_loop_elem(f, x) && same_shape(ti, &g->nodes[x].type)) ||
                     (g->nodes[x].op == OP_RESHAPE && f->how[x] == NB_FUSED);  /* a view fused below */
            }
            /* or the operand of one sum/rmax (or max/avg pool), which then reduces the chain's
             * values per element: relu before a max-pool is no pass of its own */
            const IrNode *r = &g->nodes[root];
            if (!ok && takes_prologue(r) && (f->how[root] == NB_TEMP || f->how[root] == NB_OUT) &&
                r->type.dtype != DT_BOOL && r->src[0] == i) {
                ok = true;
                for (uint32_t u = first[i]; ok && u < first[i + 1]; u++)
                    ok = users[u] == root;
            }
            /* or an element of a row kernel's space read by its elementwise nodes and row reductions */
            if (!ok && space && same_shape(ti, space)) {
                ok = true;
                for (uint32_t u = first[i]; ok && u < first[i + 1]; u++) {
                    uint32_t x = users[u];
                    ok = (is_loop_elem(f, x) && same_shape(ti, &g->nodes[x].type)) ||
                         (is_row_reduce(g, x) && g->nodes[x].src[0] == i);
                }
            } else if (!ok && space && rows_like(ti, space)) {
                ok = row = true;        /* math on row statistics: once per row */
            }
            if (ok && stored && (!is_loop_elem(f, root) || !same_shape(ti, &g->nodes[root].type)))
                ok = false;         /* stores come from elementwise and row kernels only, per element */
        } else if (!stored && h == NB_TEMP && space && root != i && is_row_reduce(g, i)) {
            ok = row = same_shape(&g->nodes[g->nodes[i].src[0]].type, space);
        } else if (!isres[i] && space && h == NB_ALIAS) {
            const IrType *ts = &g->nodes[g->nodes[i].src[0]].type;
            ok = rows_like(ti, space) && rows_like(ts, space);
            /* or a reshape that keeps the rows, read only by elementwise nodes of its shape: the
             * chain on both sides of the view is one loop */
            if (!ok && g->nodes[i].op == OP_RESHAPE && is_loop_elem(f, root) && view_keeps_rows(ts, ti)) {
                ok = true;
                for (uint32_t u = first[i]; ok && u < first[i + 1]; u++)
                    ok = is_loop_elem(f, users[u]) && same_shape(ti, &g->nodes[users[u]].type);
            }
        } else if (!isres[i] && space && h == NB_BVIEW) {
            ok = f->bkind[i] == KA_ROW && same_shape(ti, space);
        }
        /* or, read by kernels of its own shape and by later ones: computed in the first such
         * kernel and stored from there for the rest (an LSTM's gates, used by the cell's kernel
         * and again by the backward pass: one loop, not one per gate) */
        if (!ok && !stored && h == NB_TEMP && is_loop_elem(f, i) && ti->rank >= 1) {
            uint32_t first_root = UINT32_MAX;
            for (uint32_t u = first[i]; u < first[i + 1]; u++) {
                uint32_t x = users[u], rx = f->root[x];
                if (is_loop_elem(f, x) && same_shape(ti, &g->nodes[x].type) && is_loop_elem(f, rx) &&
                    (f->how[rx] == NB_TEMP || f->how[rx] == NB_OUT) && same_shape(ti, &g->nodes[rx].type) &&
                    rx < first_root)
                    first_root = rx;
            }
            bool store = first_root != UINT32_MAX;
            for (uint32_t u = first[i]; store && u < first[i + 1]; u++) {
                uint32_t x = users[u];
                NodeHow hx = f->how[x];
                if (f->root[x] == first_root)
                    store = is_loop_elem(f, x) && same_shape(ti, &g->nodes[x].type);
                else    /* a kernel after it reads the stored buffer (a view would hide its readers) */
                    store = (hx == NB_TEMP || hx == NB_OUT || hx == NB_FUSED || hx == NB_STORED) &&
                            f->root[x] > first_root;
            }
            if (store) {
                f->how[i] = NB_STORED;
                f->root[i] = first_root;
                continue;
            }
        }
        /* a bound on the nodes of one kernel: a chain of 10000 elementwise ops was one kernel whose
         * code LLVM took 115 s to compile (5000: 25 s; it grows quadratically); cut at FUSE_MAX_NODES
         * it is a few kernels that compile in seconds (tests/e2e/limits.sh) */
        if (ok && fused[root] >= FUSE_MAX_NODES)
            ok = false;
        if (ok) {
            f->how[i] = stored ? NB_STORED : NB_FUSED;
            f->root[i] = root;
            f->hasrow[root] |= row;
            fused[root]++;
        }
    }
    if (f->windows)
        window_views(f, isres);
    f->size = arena_alloc(f->A, sizeof(uint32_t) * (n + 1));
    for (uint32_t i = 0; i < n; i++)
        f->size[f->root[i]] += 1 + (uint32_t)g->nodes[i].nsrc;
}

/* ---- an elementwise kernel: the tree of fused nodes under root, leaves as arguments ---- */

typedef struct Tree {
    Fuse *f;
    Kernel *k;
    uint32_t root;
    uint32_t kroot;             /* the node whose kernel this is (f->root of the nodes inside) */
    uint32_t *leaf;             /* per argument: the node */
    int *leaf_expr;             /* per argument: its KE_ARG instruction */
    uint32_t *done_node;        /* fused nodes already in the body ... */
    int *done_expr, ndone;      /* ... and their instructions */
    int cap;
} Tree;

/* An upper bound of the instructions of root's kernel: its nodes and their operands. */
static int tree_count(const Fuse *f, uint32_t root) { return (int)f->size[root]; }

static int push_expr(Tree *t, KExpr e) {
    if (t->k->nbody >= t->cap)
        die("fuse: kernel body overflow");
    t->k->body[t->k->nbody] = e;
    return t->k->nbody++;
}

/* Argument x of the kernel, read per element of the index space, or (row) once per row of it. */
static int leaf_arg(Tree *t, uint32_t x, bool row) {
    Kernel *k = t->k;
    const Fuse *f = t->f;
    const IrType *xt = &f->g->nodes[x].type, *rt = &f->g->nodes[t->root].type;
    KArg ar = {.type = *xt};
    if (f->isval[x] && f->how[x] == NB_VALUE) {
        ar.kind = KA_VAL, ar.ref = f->val[x];
    } else if (f->how[x] == NB_WVIEW ||
               (f->how[x] == NB_ALIAS && f->how[f->g->nodes[x].src[0]] == NB_WVIEW)) {
        uint32_t w = f->how[x] == NB_WVIEW ? x : f->g->nodes[x].src[0], src = f->g->nodes[w].src[0];
        ar.kind = KA_WIN, ar.ref = f->buf[src], ar.type = f->g->nodes[src].type;
        ar.wstart = f->wstart[w], ar.wstride = f->wstride[w];
        if (ar.ref < 0)
            die("graph %s: slice %u of node %u, which has no buffer", f->g->name, w, src);
    } else if (f->how[x] == NB_BVIEW) {
        uint32_t src = f->g->nodes[x].src[0];
        ar.kind = f->bkind[x], ar.ref = f->buf[src], ar.type = f->g->nodes[src].type;
        if (ar.ref < 0)
            die("graph %s: broadcast %u of node %u, which has no buffer", f->g->name, x, src);
    } else {
        if (f->buf[x] < 0)
            die("graph %s: node %u reads node %u, which has no buffer", f->g->name, t->root, x);
        ar.kind = static_one(xt) && !static_one(rt) ? KA_BUF0 : row ? KA_ROW : KA_BUF, ar.ref = f->buf[x];
    }
    if (f->isval[x] && f->how[x] != NB_VALUE)   /* a value with a buffer: pass the scalar */
        ar.kind = KA_VAL, ar.ref = f->val[x];
    for (int a = 0; a < k->nargs; a++)
        if (t->leaf[a] == x && k->args[a].kind == ar.kind && k->args[a].wstart == ar.wstart)
            return t->leaf_expr[a];
    int a = k->nargs++;
    k->args[a] = ar;
    t->leaf[a] = x;
    t->leaf_expr[a] = push_expr(t, (KExpr){.kind = KE_ARG, .ref = a, .dt = xt->dtype});
    return t->leaf_expr[a];
}

/* The instruction of node n (row: one value per row of a row kernel). A row broadcast, reshape
 * or stop_gradient computed in the kernel is its operand's instruction; a row reduction is a
 * sum/rmax instruction of its operand's, which varies along the row. */
static int tree_emit(Tree *t, uint32_t n, bool row) {
    for (int d = 0; d < t->ndone; d++)
        if (t->done_node[d] == n)
            return t->done_expr[d];
    const IrGraph *g = t->f->g;
    const IrNode *nd = &g->nodes[n];
    int at;
    if (nd->op == OP_BROADCAST || nd->op == OP_RESHAPE || nd->op == OP_STOP_GRAD || (n != t->root && is_row_reduce(g, n))) {
        bool reduce = nd->op == OP_SUM || nd->op == OP_RMAX;
        uint32_t x = nd->src[0];
        bool inside = (t->f->how[x] == NB_FUSED || t->f->how[x] == NB_STORED) && t->f->root[x] == t->kroot;
        bool xrow = nd->op == OP_BROADCAST || (row && !reduce);
        int s = inside ? tree_emit(t, x, xrow) : leaf_arg(t, x, xrow);
        if (!reduce)
            return s;
        at = push_expr(t, (KExpr){.kind = KE_OP, .op = nd->op, .dt = nd->type.dtype, .sdt = nd->type.dtype,
                                  .src = {(uint32_t)s}});
    } else {
        KExpr e = {.kind = KE_OP, .op = nd->op, .dt = nd->type.dtype, .sdt = math_dtype(g, nd)};
        for (int s = 0; s < nd->nsrc; s++) {
            uint32_t x = nd->src[s];
            bool inside = (t->f->how[x] == NB_FUSED || t->f->how[x] == NB_STORED) && t->f->root[x] == t->kroot;
            e.src[s] = (uint32_t)(inside ? tree_emit(t, x, row) : leaf_arg(t, x, row));
        }
        at = push_expr(t, e);
    }
    t->done_node[t->ndone] = n;
    t->done_expr[t->ndone++] = at;
    if (t->f->how[n] == NB_STORED) {    /* a result computed here: stored into its buffer too */
        Kernel *k = t->k;
        k->xbuf[k->nx] = t->f->buf[n];
        k->xexpr[k->nx++] = at;
    }
    return at;
}

/* The body of kernel root's kernel: the tree of fused nodes under node i (root itself for an
 * elementwise kernel, the reduced operand for a reduction with a prologue). */
static void emit_elem(Fuse *f, uint32_t root, uint32_t i, Kernel *k) {
    int cap = tree_count(f, root) * 2 + 1;
    Tree t = {.f = f, .k = k, .root = i, .kroot = root, .cap = cap};
    t.leaf = arena_alloc(f->A, sizeof(uint32_t) * (size_t)cap);
    t.leaf_expr = arena_alloc(f->A, sizeof(int) * (size_t)cap);
    t.done_node = arena_alloc(f->A, sizeof(uint32_t) * (size_t)cap);
    t.done_expr = arena_alloc(f->A, sizeof(int) * (size_t)cap);
    k->args = arena_alloc(f->A, sizeof(KArg) * (size_t)cap);
    k->body = arena_alloc(f->A, sizeof(KExpr) * (size_t)cap);
    k->xbuf = arena_alloc(f->A, sizeof(int) * (size_t)cap);
    k->xexpr = arena_alloc(f->A, sizeof(int) * (size_t)cap);
    if (k->kind == KK_ROW && i == root && is_row_reduce(f->g, root)) {
        /* a row kernel whose result is a row statistic: the root's own reduction is its last
         * instruction */
        uint32_t x = f->g->nodes[root].src[0];
        t.root = x;
        int s = f->how[x] == NB_FUSED ? tree_emit(&t, x, false) : leaf_arg(&t, x, false);
        const IrNode *nd = &f->g->nodes[root];
        push_expr(&t, (KExpr){.kind = KE_OP, .op = nd->op, .dt = nd->type.dtype, .sdt = nd->type.dtype,
                              .src = {(uint32_t)s}});
        return;
    }
    tree_emit(&t, i, false);
}

static void emit_value(Fuse *f, uint32_t i) {
    const IrNode *nd = &f->g->nodes[i];
    switch ((Op)nd->op) {
    case OP_CONST:
        f->val[i] = k_val(f->A, f->kg, (KExpr){.kind = KE_CONST, .dt = nd->type.dtype, .f = nd->attr.f});
        return;
    case OP_HYPER:
        f->val[i] = k_val(f->A, f->kg, (KExpr){.kind = KE_HYPER, .dt = nd->type.dtype, .ref = (int)nd->attr.i[0]});
        return;
    case OP_RESHAPE: case OP_BROADCAST: case OP_STOP_GRAD:
        f->val[i] = f->val[nd->src[0]];
        return;
    default: {
        KExpr e = {.kind = KE_OP, .op = nd->op, .dt = nd->type.dtype, .sdt = math_dtype(f->g, nd)};
        for (int s = 0; s < nd->nsrc; s++)
            e.src[s] = (uint32_t)f->val[nd->src[s]];
        f->val[i] = k_val(f->A, f->kg, e);
    }
    }
}

/* A convolution's im2col scratch (runtime/conv.c): the im2col matrix of as many images as fit
 * CONV_COL_BYTES (at least one; all of them when N is a constant that fits), as the kernel's
 * extra output: a temporary that plan places for this kernel alone. None for a 1x1 convolution
 * with stride 1 and no padding (x is its own im2col) or a depthwise one (direct loops): the
 * runtime tells those apart by the same rule, chunk = 0 or C/G = 1. */
#define CONV_COL_BYTES ((int64_t)8 << 20)
static void conv_scratch(Arena *A, KGraph *kg, const IrGraph *g, const IrNode *nd, Kernel *k) {
    IrConv c;
    const char *why = ir_conv_node_geom((Op)nd->op, &g->nodes[nd->src[0]].type, &g->nodes[nd->src[1]].type,
                                        &nd->type, &nd->attr, &c);
    if (why)
        die("graph %s: %s: %s", g->name, ir_op_name[nd->op], why);
    bool one = c.KH == 1 && c.KW == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 &&
               c.OH == c.H && c.OW == c.W;
    if (one || (c.C / c.G == 1 && c.G > 1))
        return;
    int64_t per = 4;    /* bytes of one image's im2col matrix */
    const int64_t f[5] = {c.OH, c.OW, c.KH, c.KW, c.C};
    for (int q = 0; q < 5; q++)
        if (__builtin_mul_overflow(per, f[q], &per) || per > ((int64_t)1 << 50))
            die("graph %s: %s: the im2col matrix of one image exceeds 2^50 bytes", g->name, ir_op_name[nd->op]);
    int64_t chunk = CONV_COL_BYTES / per < 1 ? 1 : CONV_COL_BYTES / per;
    if (c.N.a == 0 && chunk > c.N.c)
        chunk = c.N.c < 1 ? 1 : c.N.c;
    k->pro = (IrType){.dtype = DT_F32, .rank = 1, .dim = {{0, chunk * per / 4}}};
    k->xbuf = arena_alloc(A, sizeof(int));
    k->xexpr = arena_alloc(A, sizeof(int));
    k->xbuf[0] = k_buf(A, kg, (KBuf){.kind = KB_TEMP, .type = k->pro});
    k->xexpr[0] = -1;
    k->nx = 1;
}

/* An allreduce reduces its operand's buffer in place when nothing else reads that buffer: a
 * temporary (not a parameter, input, constant or output) whose only reader is the allreduce and
 * which no result names. Then a run of one process touches no gradient byte. */
static bool allreduce_in_place(const Fuse *f, uint32_t i) {
    uint32_t x = f->g->nodes[i].src[0];
    for (;;) {      /* through views (a bias gradient's reshape) to the buffer's kernel */
        if (f->isval[x] || f->first_user[x + 1] - f->first_user[x] != 1)
            return false;
        for (int r = 0; r < f->g->nres; r++)
            if (f->g->res[r].node == x)
                return false;
        if (f->how[x] == NB_TEMP)
            return true;
        if (f->how[x] != NB_ALIAS)
            return false;
        x = f->g->nodes[x].src[0];
    }
}

/* Concats feeding one concat along the same axis (a time loop's collected states, the adjoint of
 * its slices) are flattened into it: NB_FLAT, no buffer and no kernel of their own. */
static void flatten_concats(Fuse *f) {
    const IrGraph *g = f->g;
    uint8_t *isres = arena_alloc(f->A, g->len + 1);
    for (int r = 0; r < g->nres; r++)
        isres[g->res[r].node] = 1;
    for (uint32_t i = 0; i < g->len; i++) {
        const IrNode *nd = &g->nodes[i];
        if (nd->op != OP_CONCAT || f->how[i] != NB_TEMP || isres[i] ||
            f->first_user[i + 1] - f->first_user[i] != 1)
            continue;
        const IrNode *u = &g->nodes[f->users[f->first_user[i]]];
        if (u->op == OP_CONCAT && u->attr.i[0] == nd->attr.i[0])
            f->how[i] = NB_FLAT;
    }
}

/* The operands of concat x, with those of the NB_FLAT concats among them in their place. */
static void concat_args(Fuse *f, uint32_t x, Kernel *k, int *cap) {
    const IrNode *nd = &f->g->nodes[x];
    for (int s = 0; s < nd->nsrc; s++) {
        uint32_t y = nd->src[s];
        if (f->how[y] == NB_FLAT) {
            concat_args(f, y, k, cap);
            continue;
        }
        if (f->buf[y] < 0)
            die("graph %s: concat %u reads node %u, which has no buffer", f->g->name, x, y);
        *ARENA_PUSH(f->A, k->args, k->nargs, *cap) =
            (KArg){.kind = KA_BUF, .ref = f->buf[y], .type = f->g->nodes[y].type};
    }
}


/* ---- merge_rows: row kernels with several outputs ----
 * fuse makes one kernel per root node, and a value that two kernels read keeps its buffer: in a
 * train step the log-softmax's z and exp(z) also feed the backward pass, so the forward
 * log-softmax, the cross-entropy term and the backward row were five kernels over the same rows
 * (bias + row max, row sum, divide, the row's loss, the backward row), each reading what the
 * one before wrote. This pass, on the kernel list, merges a kernel B into an earlier kernel A
 * over the same rows whose output B reads: B's reads of A's outputs become A's instructions,
 * the merged kernel is a row kernel whose outputs are B's result, B's extra outputs and those of
 * A's outputs that something else still reads (per element, or per row: the row's loss term).
 * Kernels that walk rows: row kernels, elementwise kernels of rank >= 1 and a sum or rmax over
 * the last axis; A must be a row kernel or such a reduction (an elementwise A whose values feed
 * B's reduction would be computed in two loops over the row instead of stored once). An
 * elementwise B of one value per row of A (the batch's loss from the rows' terms: a sum over the
 * one row of [B], a divide, a negation) joins as math on row statistics. B moves up to A, or A
 * down to B, across kernels that touch neither's buffers. */

/* One storage: a buffer, or the argument buffers of one tensor. */
static bool same_store(const KGraph *g, int a, int b) {
    if (a == b)
        return true;
    const KBuf *x = &g->bufs[a], *y = &g->bufs[b];
    return x->kind == KB_ARG && y->kind == KB_ARG && x->tensor == y->tensor;
}

static bool writes_store(const KGraph *g, const Kernel *k, int b) {
    if (same_store(g, k->out, b))
        return true;
    for (int x = 0; x < k->nx; x++)
        if (k->xbuf[x] >= 0 && same_store(g, k->xbuf[x], b))
            return true;
    return false;
}

static bool reads_store(const KGraph *g, const Kernel *k, int b) {
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind != KA_VAL && same_store(g, k->args[a].ref, b))
            return true;
    return false;
}

/* p and q may swap: neither writes what the other reads or writes. */
static bool commute(const KGraph *g, const Kernel *p, const Kernel *q) {
    const Kernel *ks[2] = {p, q};
    for (int t = 0; t < 2; t++) {
        const Kernel *w = ks[t], *o = ks[1 - t];
        int nw = 1 + w->nx;
        for (int x = 0; x < nw; x++) {
            int b = x ? w->xbuf[x - 1] : w->out;
            if (b >= 0 && (reads_store(g, o, b) || writes_store(g, o, b)))
                return false;
        }
    }
    return true;
}

/* k as a row kernel (a copy in r): a row kernel, an elementwise kernel of rank >= 1 reading no
 * window, or a sum/rmax over the last axis (its body, if any, then the reduction). *red: k
 * reduces over rows (a row kernel or such a reduction). */
static bool as_row(Arena *A, const Kernel *k, Kernel *r, bool *red) {
    *r = *k;
    *red = false;
    if (k->kind == KK_ROW) {
        *red = true;
        return k->pro.rank >= 1;
    }
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind == KA_WIN)
            return false;
    if (k->kind == KK_ELEM) {   /* rank 0: only as one value per row of another kernel */
        r->kind = KK_ROW;
        r->pro = k->type;
        return true;
    }
    if (k->kind != KK_OP || (k->op != OP_SUM && k->op != OP_RMAX) || k->type.dtype == DT_BOOL || k->attr.ni < 1 ||
        k->nx)
        return false;
    const IrType *s = k->nbody ? &k->pro : k->nargs == 1 ? &k->args[0].type : NULL;
    if (!s || s->rank < 1 || (uint64_t)k->attr.i[0] != (uint64_t)1 << (s->rank - 1) || s->dtype != k->type.dtype)
        return false;
    *red = true;
    r->kind = KK_ROW;
    r->pro = *s;
    r->attr = (IrAttr){0};
    int n = k->nbody;
    r->body = arena_alloc(A, sizeof(KExpr) * (size_t)(n + 2));
    if (n) {
        memcpy(r->body, k->body, sizeof(KExpr) * (size_t)n);
    } else {
        if (k->args[0].kind != KA_BUF)
            return false;
        r->body[n++] = (KExpr){.kind = KE_ARG, .ref = 0, .dt = s->dtype};
    }
    r->body[n] = (KExpr){.kind = KE_OP, .op = k->op, .dt = k->type.dtype, .sdt = k->type.dtype, .src = {(uint32_t)n - 1}};
    r->nbody = n + 1;
    return true;
}

static bool same_type(const IrType *x, const IrType *y) { return x->dtype == y->dtype && same_shape(x, y); }

static bool same_rows_numel(const IrType *p, const IrType *q) {
    KSize a = k_bytes(p), b = k_bytes(q);
    int64_t sa = ir_dtype_size(p->dtype), sb = ir_dtype_size(q->dtype);
    return a.b2 * sb == b.b2 * sa && a.b * sb == b.b * sa && a.c * sb == b.c * sa;
}

/* The rows of p and q are the same: as many elements, the same last dim. */
static bool same_rows(const IrType *p, const IrType *q) {
    KSize a = k_bytes(p), b = k_bytes(q);
    int64_t sa = ir_dtype_size(p->dtype), sb = ir_dtype_size(q->dtype);
    return p->rank >= 1 && q->rank >= 1 && same_dim(p->dim[p->rank - 1], q->dim[q->rank - 1]) &&
           a.b2 * sb == b.b2 * sa && a.b * sb == b.b * sa && a.c * sb == b.c * sa;
}

/* The merged kernel of a (rows) and b (rows) or false. needed(o): A's output buffer o is read by
 * a kernel other than a and b, or a result, or is a tensor's. */
typedef struct Outs { int buf[64], expr[64]; uint8_t row[64]; int n; } Outs;

static void outs_of(const KGraph *g, const Kernel *k, Outs *o, const uint8_t *lv) {
    o->n = 0;
    for (int x = 0; x < k->nx && o->n < 64; x++, o->n++) {
        o->buf[o->n] = k->xbuf[x], o->expr[o->n] = k->xexpr[x];
        o->row[o->n] = k->xrow && k->xrow[x];
    }
    if (o->n < 64) {
        o->buf[o->n] = k->out, o->expr[o->n] = k->nbody - 1;
        o->row[o->n] = !k_row_per_element(k, &g->bufs[k->out].type) && lv[k->nbody - 1];
        o->n++;
    }
}

static void row_tidy(Arena *A, Kernel *c);

static bool merge_pair(Arena *A, KGraph *g, const Kernel *ka, const Kernel *kb, bool brow, const uint8_t *needed_a,
                       Kernel *c) {
    int na = ka->nbody, nb = kb->nbody;
    if (ka->nx + 1 > 63 || kb->nx + 1 > 63)
        return false;
    uint8_t *lva = arena_alloc(A, (size_t)na + 1);
    k_row_levels(ka, lva);
    Outs oa;
    outs_of(g, ka, &oa, lva);
    if (!oa.row[oa.n - 1] && !k_row_per_element(ka, &g->bufs[ka->out].type))
        return false;
    /* args of c: a's, then b's that are not a's outputs (those become a's instructions) */
    int cap = ka->nargs + kb->nargs + 1;
    KArg *args = arena_alloc(A, sizeof(KArg) * (size_t)cap);
    memcpy(args, ka->args, sizeof(KArg) * (size_t)ka->nargs);
    int nargs = ka->nargs;
    int *amap = arena_alloc(A, sizeof(int) * (size_t)(kb->nargs + 1));   /* b's arg -> c's arg, or -2 - a's instr */
    bool reads_a = false;
    for (int q = 0; q < kb->nargs; q++) {
        const KArg *ar = &kb->args[q];
        amap[q] = -1;
        if (ar->kind != KA_VAL)
            for (int o = 0; o < oa.n; o++) {
                if (!same_store(g, ar->ref, oa.buf[o]))
                    continue;
                const KExpr *e = &ka->body[oa.expr[o]];
                bool ok = oa.row[o] ? ar->kind == (brow ? KA_BUF : KA_ROW)
                                    : !brow && ar->kind == KA_BUF && k_row_per_element(ka, &ar->type);
                if (!ok || e->dt != ar->type.dtype)
                    return false;
                amap[q] = -2 - oa.expr[o];
                reads_a = true;
                break;
            }
        if (amap[q] != -1)
            continue;
        KArg cr = *ar;
        if (brow) {     /* b is one value per row of a: its element reads are row reads */
            if (ar->kind == KA_BUF)
                cr.kind = KA_ROW;
            else if (ar->kind != KA_VAL && ar->kind != KA_BUF0)
                return false;
        }
        for (int p = 0; p < nargs && amap[q] < 0; p++)
            if (args[p].kind == cr.kind && args[p].ref == cr.ref && args[p].wstart == cr.wstart &&
                same_type(&args[p].type, &cr.type))
                amap[q] = p;
        if (amap[q] < 0) {
            amap[q] = nargs;
            args[nargs++] = cr;
        }
    }
    if (!reads_a)
        return false;
    /* b writes what a reads: only element by element (an update in place) */
    for (int p = 0; p < ka->nargs; p++)
        if (ka->args[p].kind != KA_VAL && writes_store(g, kb, ka->args[p].ref) && ka->args[p].kind != KA_BUF)
            return false;
    /* the body: a's, then b's with its argument reads of a's outputs replaced */
    KExpr *body = arena_alloc(A, sizeof(KExpr) * (size_t)(na + nb + 1));
    memcpy(body, ka->body, sizeof(KExpr) * (size_t)na);
    int *emap = arena_alloc(A, sizeof(int) * (size_t)(nb + 1));
    int n = na;
    for (int e = 0; e < nb; e++) {
        KExpr x = kb->body[e];
        if (x.kind == KE_ARG) {
            if (x.ref < 0 || x.ref >= kb->nargs)
                return false;
            if (amap[x.ref] <= -2) {
                emap[e] = -2 - amap[x.ref];
                continue;
            }
            x.ref = amap[x.ref];
        } else if (x.kind == KE_OP) {
            for (int s = 0; s < (k_row_reduce(&x) ? 1 : ir_op_nsrc[x.op]); s++)
                x.src[s] = (uint32_t)emap[x.src[s]];
        }
        emap[e] = n;
        body[n++] = x;
    }
    if (emap[nb - 1] != n - 1)      /* b's result is a's instruction: no merge (b copies) */
        return false;
    /* outputs: a's that something else reads (and b does not overwrite), then b's */
    *c = *kb;
    c->kind = KK_ROW;
    c->pro = ka->pro;
    c->attr = (IrAttr){0};
    c->args = args, c->nargs = nargs;
    c->body = body, c->nbody = n;
    int capx = oa.n + kb->nx + 1;
    c->xbuf = arena_alloc(A, sizeof(int) * (size_t)capx);
    c->xexpr = arena_alloc(A, sizeof(int) * (size_t)capx);
    c->xrow = arena_alloc(A, (size_t)capx);
    c->nx = 0;
    for (int o = 0; o < oa.n; o++) {
        if (!needed_a[o] || writes_store(g, kb, oa.buf[o]))
            continue;
        c->xbuf[c->nx] = oa.buf[o], c->xexpr[c->nx] = oa.expr[o], c->xrow[c->nx++] = oa.row[o];
    }
    for (int x = 0; x < kb->nx; x++) {
        c->xbuf[c->nx] = kb->xbuf[x], c->xexpr[c->nx] = emap[kb->xexpr[x]];
        c->xrow[c->nx++] = brow || (kb->xrow && kb->xrow[x]);
    }
    /* an argument that is one of c's outputs under another buffer of its tensor names that
     * buffer: read in place through the output */
    for (int p = 0; p < c->nargs; p++) {
        KArg *ar = &c->args[p];
        int nw = 1 + c->nx;
        for (int x = 0; ar->kind != KA_VAL && x < nw; x++) {
            int b = x ? c->xbuf[x - 1] : c->out;
            if (ar->ref != b && same_store(g, ar->ref, b)) {
                if (ar->kind != KA_BUF || (x && c->xrow[x - 1]))
                    return false;
                ar->ref = b;
            }
        }
    }
    row_tidy(A, c);
    return true;
}

/* Two instructions compute the same value. */
static bool same_expr(const KExpr *x, const KExpr *y) {
    if (x->kind != y->kind || x->dt != y->dt)
        return false;
    if (x->kind == KE_ARG)
        return x->ref == y->ref;
    if (x->kind != KE_OP || x->op != y->op || x->sdt != y->sdt)
        return false;
    for (int s = 0; s < (k_row_reduce(x) ? 1 : ir_op_nsrc[x->op]); s++)
        if (x->src[s] != y->src[s])
            return false;
    return true;
}

/* A merged body: equal instructions once (both kernels read the same argument, compute the same
 * log of a sum), instructions no output needs and arguments nothing reads dropped. The last
 * instruction stays last: it is the result. */
static void row_tidy(Arena *A, Kernel *c) {
    int n = c->nbody;
    int *rep = arena_alloc(A, sizeof(int) * (size_t)(n + 1));
    for (int e = 0; e < n; e++) {
        KExpr *x = &c->body[e];
        if (x->kind == KE_OP)
            for (int s = 0; s < (k_row_reduce(x) ? 1 : ir_op_nsrc[x->op]); s++)
                x->src[s] = (uint32_t)rep[x->src[s]];
        rep[e] = e;
        for (int f = 0; f < e && e < n - 1; f++)
            if (rep[f] == f && same_expr(&c->body[f], x)) {
                rep[e] = f;
                break;
            }
    }
    uint8_t *live = arena_alloc(A, (size_t)n + 1);
    live[n - 1] = 1;
    for (int x = 0; x < c->nx; x++)
        c->xexpr[x] = rep[c->xexpr[x]], live[c->xexpr[x]] = 1;
    for (int e = n - 1; e >= 0; e--) {
        const KExpr *x = &c->body[e];
        if (live[e] && x->kind == KE_OP)
            for (int s = 0; s < (k_row_reduce(x) ? 1 : ir_op_nsrc[x->op]); s++)
                live[x->src[s]] = 1;
    }
    int *at = arena_alloc(A, sizeof(int) * (size_t)(n + 1)), m = 0;
    int *amap = arena_alloc(A, sizeof(int) * (size_t)(c->nargs + 1)), na = 0;
    for (int a = 0; a < c->nargs; a++)
        amap[a] = -1;
    for (int e = 0; e < n; e++)
        if (live[e] && c->body[e].kind == KE_ARG && amap[c->body[e].ref] < 0)
            amap[c->body[e].ref] = na++;
    for (int a = 0; a < c->nargs; a++)
        if (amap[a] >= 0)
            c->args[amap[a]] = c->args[a];
    c->nargs = na;
    for (int e = 0; e < n; e++) {
        if (!live[e])
            continue;
        KExpr x = c->body[e];
        if (x.kind == KE_ARG)
            x.ref = amap[x.ref];
        else if (x.kind == KE_OP)
            for (int s = 0; s < (k_row_reduce(&x) ? 1 : ir_op_nsrc[x.op]); s++)
                x.src[s] = (uint32_t)at[x.src[s]];
        at[e] = m;
        c->body[m++] = x;
    }
    c->nbody = m;
    for (int x = 0; x < c->nx; x++)
        c->xexpr[x] = at[c->xexpr[x]];
}

/* Reads buffer b's storage: a kernel after kernel i other than j, or a result. */
static bool read_after(const KGraph *g, int b, int i, int j) {
    if (g->bufs[b].kind != KB_TEMP)
        return true;    /* a tensor's: kept */
    for (int m = i + 1; m < g->nkern; m++)
        if (m != j && reads_store(g, &g->kern[m], b))
            return true;
    for (int r = 0; r < g->nres; r++)
        if (same_store(g, g->res[r].buf, b))
            return true;
    return false;
}

#define MERGE_WINDOW 16     /* how far back a kernel looks for a producer to merge with */

static void merge_rows(Arena *A, KGraph *g) {
    for (int j = 1; j < g->nkern; j++) {
        Kernel rb;
        bool redb;      /* whether b reduces does not matter: a must */
        const Kernel *kb = &g->kern[j];
        if (!as_row(A, kb, &rb, &redb))
            continue;
        for (int i = j - 1; i >= 0 && i >= j - MERGE_WINDOW; i--) {
            const Kernel *ka = &g->kern[i];
            bool rd = reads_store(g, kb, ka->out);
            for (int x = 0; x < ka->nx; x++)
                rd |= reads_store(g, kb, ka->xbuf[x]);
            Kernel ra;
            bool reda;
            if (!rd || !as_row(A, ka, &ra, &reda) || !reda)
                continue;
            /* b over the same rows, or (an elementwise b) one value per row of a */
            bool brow = false;
            if (!same_rows(&ra.pro, &rb.pro)) {
                if (kb->kind != KK_ELEM || !reda || ra.pro.rank < 1)
                    continue;
                IrType rows = ra.pro;
                rows.dim[rows.rank - 1] = (Dim){0, 1};
                rows.dtype = kb->type.dtype;
                if (!same_rows_numel(&rows, &kb->type))
                    continue;
                brow = true;
                rb.pro = ra.pro;
            }
            bool hoist = true, sink = true;
            for (int m = i + 1; m < j; m++) {
                hoist = hoist && commute(g, &g->kern[m], kb);
                sink = sink && commute(g, &g->kern[m], ka);
            }
            if (!hoist && !sink)
                continue;
            uint8_t *lva = arena_alloc(A, (size_t)ra.nbody + 1), needed[64];
            k_row_levels(&ra, lva);
            Outs oa;
            outs_of(g, &ra, &oa, lva);
            for (int o = 0; o < oa.n; o++)
                needed[o] = read_after(g, oa.buf[o], i, j);
            Kernel c;
            if (!merge_pair(A, g, &ra, &rb, brow, needed, &c))
                continue;
            int at = hoist ? i : j, gone = hoist ? j : i;
            g->kern[at] = c;
            memmove(&g->kern[gone], &g->kern[gone + 1], sizeof(Kernel) * (size_t)(g->nkern - gone - 1));
            g->nkern--;
            j = (hoist ? i : j - 1) - 1;    /* the merged kernel looks for a producer again */
            break;
        }
    }
}

static KGraph *fuse_graph_ex(Arena *A, const IrGraph *g0, bool windows) {
    const IrGraph *g = expand((IrGraph *)g0);   /* softmax as the primitives of its row kernel */
    uint32_t n = g->len;
    KGraph *kg = arena_alloc(A, sizeof *kg);
    kg->name = g->name;
    kg->ir = g;
    Fuse f = {.A = A, .g = g, .kg = kg, .windows = windows};
    f.isval = arena_alloc(A, n + 1);
    f.how = arena_alloc(A, sizeof(NodeHow) * (n + 1));
    f.out_index = arena_alloc(A, sizeof(int) * (n + 1));
    f.isout = arena_alloc(A, n + 1);
    f.buf = arena_alloc(A, sizeof(int) * (n + 1));
    f.val = arena_alloc(A, sizeof(int) * (n + 1));
    f.root = arena_alloc(A, sizeof(uint32_t) * (n + 1));
    f.bkind = arena_alloc(A, n + 1);
    f.wstart = arena_alloc(A, sizeof(int64_t) * (n + 1));
    f.wstride = arena_alloc(A, sizeof(int64_t) * (n + 1));
    f.hasrow = arena_alloc(A, n + 1);
    classify(&f);
    flatten_concats(&f);
    /* allreduce groups: each allreduce joins the kernel of the first one of its group when its
     * operand is computed before that one (the pass appends them after every gradient: one group,
     * one kernel, one reduction per step), else it starts a group */
    uint32_t *arlead = arena_alloc(A, sizeof(uint32_t) * (n + 1));
    int *arkern = arena_alloc(A, sizeof(int) * (n + 1));
    int nar = 0;
    for (uint32_t i = 0, lead = IR_NONE; i < n; i++) {
        if (g->nodes[i].op != OP_ALLREDUCE || f.how[i] == NB_DEAD)
            continue;
        nar++;
        if (lead == IR_NONE || g->nodes[i].src[0] >= lead)
            lead = i;
        arlead[i] = lead;
    }
    for (uint32_t i = 0; i < n; i++) {
        const IrNode *nd = &g->nodes[i];
        f.buf[i] = f.val[i] = -1;
        if (f.how[i] == NB_DEAD)
            continue;
        if (f.isval[i])
            emit_value(&f, i);
        switch (f.how[i]) {
        case NB_DEAD: case NB_VALUE: case NB_FUSED: case NB_BVIEW: case NB_FLAT: case NB_WVIEW: continue;
        case NB_STORED:     /* its buffer now; its kernel's loop (a later one) writes it */
            f.buf[i] = f.isout[i]
                           ? k_buf(A, kg, (KBuf){.kind = KB_ARG, .tensor = f.out_index[i], .type = nd->type})
                           : k_buf(A, kg, (KBuf){.kind = KB_TEMP, .type = nd->type});
            continue;
        case NB_ARG:
            f.buf[i] = k_buf(A, kg, (KBuf){.kind = KB_ARG, .tensor = (int)nd->attr.i[0], .type = nd->type});
            continue;
        case NB_GLOBAL:
            for (int k = 0; k < nd->type.rank; k++)
                if (nd->type.dim[k].a)
                    die("const with literal data has a B-dependent shape");
            f.buf[i] = k_buf(A, kg, (KBuf){.kind = KB_GLOBAL, .type = nd->type, .data = nd->attr.data});
            continue;
        case NB_ALIAS: f.buf[i] = f.buf[nd->src[0]]; continue;     /* -1 for a window's: read as KA_WIN */
        case NB_OUT:
            f.buf[i] = k_buf(A, kg, (KBuf){.kind = KB_ARG, .tensor = f.out_index[i], .type = nd->type});
            break;
        case NB_TEMP:
            if (nd->op == OP_ALLREDUCE && allreduce_in_place(&f, i))
                f.buf[i] = f.buf[nd->src[0]];
            else
                f.buf[i] = k_buf(A, kg, (KBuf){.kind = KB_TEMP, .type = nd->type});
            break;
        }
        if (nd->op == OP_ALLREDUCE && f.how[i] == NB_TEMP) {
            uint32_t x = nd->src[0];
            if (f.buf[x] < 0)
                die("graph %s: node %u reads node %u, which has no buffer", g->name, i, x);
            KArg ar = {.kind = KA_BUF, .ref = f.buf[x], .type = g->nodes[x].type};
            if (arlead[i] != i) {   /* one more gradient of its group's kernel: operand and result */
                Kernel *lk = &kg->kern[arkern[arlead[i]]];
                lk->args[lk->nargs++] = ar;
                lk->xbuf[lk->nx] = f.buf[i];
                lk->xexpr[lk->nx++] = -1;
                continue;
            }
            Kernel k = {.kind = KK_ALLREDUCE, .op = nd->op, .node = i, .type = nd->type, .out = f.buf[i]};
            k.args = arena_alloc(A, sizeof(KArg) * (size_t)nar);
            k.xbuf = arena_alloc(A, sizeof(int) * (size_t)nar);
            k.xexpr = arena_alloc(A, sizeof(int) * (size_t)nar);
            k.args[k.nargs++] = ar;
            arkern[i] = kg->nkern;
            k_kernel(A, kg, k);
            continue;
        }
        Kernel k = {.op = nd->op, .node = i, .type = nd->type, .out = f.buf[i]};
        if (f.isval[i]) {   /* a value that needs its buffer */
            k.kind = KK_FILL;
            k.args = arena_alloc(A, sizeof(KArg));
            k.args[0] = (KArg){.kind = KA_VAL, .ref = f.val[i], .type = nd->type};
            k.nargs = 1;
        } else if (f.hasrow[i]) {
            k.kind = KK_ROW;    /* row statistics and the elements they are used with */
            k.pro = is_loop_elem(&f, i) ? nd->type : g->nodes[nd->src[0]].type;
            emit_elem(&f, i, i, &k);
        } else if (is_loop_elem(&f, i)) {
            k.kind = KK_ELEM;
            emit_elem(&f, i, i, &k);
        } else if (takes_prologue(nd) && f.how[nd->src[0]] == NB_FUSED) {
            k.kind = KK_OP;     /* a reduction (or pool) of its operand's chain, computed per element */
            k.attr = nd->attr;
            k.attr.name = NULL;
            k.attr.data = NULL;
            k.pro = g->nodes[nd->src[0]].type;
            emit_elem(&f, i, nd->src[0], &k);
        } else {
            bool conv = nd->op == OP_CONV || nd->op == OP_CONV_BWD_DATA || nd->op == OP_CONV_BWD_FILTER;
            k.kind = nd->op == OP_MATMUL ? KK_GEMM : conv ? KK_CONV : KK_OP;
            k.attr = nd->attr;
            k.attr.name = NULL;
            k.attr.data = NULL;
            k.args = arena_alloc(A, sizeof(KArg) * (IR_MAXSRC + 1));
            int cap = IR_MAXSRC + 1;
            if (nd->op == OP_CONCAT)
                concat_args(&f, i, &k, &cap);
            for (int s = 0; s < nd->nsrc && nd->op != OP_CONCAT; s++) {
                uint32_t x = nd->src[s];
                if (f.buf[x] < 0)
                    die("graph %s: node %u reads node %u, which has no buffer", g->name, i, x);
                k.args[k.nargs++] = (KArg){.kind = KA_BUF, .ref = f.buf[x], .type = g->nodes[x].type};
            }
            if (conv)
                conv_scratch(A, kg, g, nd, &k);
        }
        k_kernel(A, kg, k);
    }
    bool *first_out = arena_alloc(A, n + 1);
    for (int r = 0; r < g->nres; r++) {
        const IrResult *res = &g->res[r];
        uint32_t x = res->node;
        if (res->kind == RES_GRAD)      /* a gradient no optimizer consumed: computed, kept nowhere */
            continue;
        KRes kr = {.kind = res->kind == RES_OUTPUT ? KR_OUTPUT : res->kind == RES_LOSS ? KR_LOSS : KR_UPDATE,
                   .index = res->index, .buf = f.buf[x], .type = g->nodes[x].type, .stage = -1};
        if (kr.buf < 0)
            die("graph %s: result %d (node %u) has no buffer", g->name, r, x);
        if (res->kind == RES_OUTPUT && f.isout[x] && f.out_index[x] == res->index && !first_out[x]) {
            first_out[x] = true;
            kr.direct = true;
        }
        /* an update whose value lives in another param/state/input buffer is staged first */
        const KBuf *b = &kg->bufs[kr.buf];
        if (kr.kind == KR_UPDATE && b->kind == KB_ARG && b->tensor != res->index)
            kr.stage = k_buf(A, kg, (KBuf){.kind = KB_TEMP, .type = kr.type});
        *ARENA_PUSH(A, kg->res, kg->nres, kg->capres) = kr;
    }
    merge_rows(A, kg);
    causal_kernels(kg);     /* causal.c: causal attention's masked triangle, skipped */
    if (windows)
        gemm_views(kg);     /* gemm_view.c: head-split copies read in place by the products */
    return kg;
}

KGraph *fuse_graph(Arena *A, const IrGraph *g) { return fuse_graph_ex(A, g, true); }

KModule *fuse_module(Arena *A, const IrModule *m) { return fuse_module_ex(A, m, true); }

KModule *fuse_module_ex(Arena *A, const IrModule *m, bool windows) {
    KModule *km = arena_alloc(A, sizeof *km);
    km->m = m;
    km->arena = A;
    if (m->forward)
        km->forward = fuse_graph_ex(A, m->forward, windows);
    if (m->evaluate)
        km->evaluate = fuse_graph_ex(A, m->evaluate, windows);
    km->nsteps = m->nsteps;
    km->steps = arena_alloc(A, sizeof(KGraph *) * ((size_t)m->nsteps + 1));
    for (int s = 0; s < m->nsteps; s++)
        km->steps[s] = fuse_graph_ex(A, m->steps[s].graph, windows);
    return km;
}
