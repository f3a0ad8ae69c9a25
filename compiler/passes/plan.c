/* plan.c - memory placement over the kernel schedule (docs/kernels.md "plan"): which update is
 * written in place, when each temporary is live, its lifetime class and its workspace offset.
 *
 * Sizes and offsets are polynomials in the batch size B, `a*B + c` bytes (a B^2 term only for
 * temporaries like [B, B]) with every coefficient a multiple of 64, so one plan serves every B,
 * each piece is 64-byte aligned at any B, and `x <= y` for all B >= 0 is a test of each
 * coefficient. A temporary goes to the lowest offset
 * (of 0 and the ends of the temporaries live with it) where it overlaps none of them for any B:
 * buffers whose lifetimes do not meet share bytes. The workspace is two slabs, activations (live
 * across the loss kernel of a train step: kept for the backward pass) then scratch, so a later
 * change can keep the first across calls. Params and state stay in their tensors' buffers.
 *
 * In place: an update T <- V is written by V's kernel straight into T's buffer when no kernel
 * after it and no other result reads the old T, and V's own kernel reads T only elementwise at
 * the index it writes. Then no copy follows the step (Adam's m, v and the param all qualify).
 */
#include <math.h>
#include <string.h>

#include "kernel.h"


static bool is_tensor_buf(const KGraph *g, int b, int tensor) {
    return g->bufs[b].kind == KB_ARG && g->bufs[b].tensor == tensor;
}

/* A kernel that writes element i of its result after its last read of element i of each argument
 * read per element, and of no other: an elementwise kernel, or a row kernel with one result per
 * element (its reductions over a row run before the row's write). */
static bool elementwise_out(const Kernel *k) {
    if (k->kind == KK_ELEM)
        return true;
    return k->kind == KK_ROW && k_row_per_element(k, &k->type);
}

static void in_place(Arena *A, KGraph *g, int ntensors) {
    /* per buffer: the kernel that writes it; per tensor: the last kernel that reads or writes it */
    int *def = arena_alloc(A, sizeof(int) * ((size_t)g->nbufs + 1));
    int *last_use = arena_alloc(A, sizeof(int) * ((size_t)ntensors + 1));
    for (int b = 0; b < g->nbufs; b++)
        def[b] = -1;
    for (int t = 0; t < ntensors; t++)
        last_use[t] = -1;
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (def[k->out] < 0)
            def[k->out] = i;
        for (int x = 0; x < k->nx; x++) {
            if (def[k->xbuf[x]] < 0)
                def[k->xbuf[x]] = i;
            if (g->bufs[k->xbuf[x]].kind == KB_ARG && g->bufs[k->xbuf[x]].tensor < ntensors)
                last_use[g->bufs[k->xbuf[x]].tensor] = g->nkern;
        }
        if (g->bufs[k->out].kind == KB_ARG && g->bufs[k->out].tensor < ntensors)
            last_use[g->bufs[k->out].tensor] = g->nkern;   /* written by a kernel: never in place */
        for (int a = 0; a < k->nargs; a++) {
            const KArg *ar = &k->args[a];
            if (ar->kind != KA_VAL && g->bufs[ar->ref].kind == KB_ARG && g->bufs[ar->ref].tensor < ntensors &&
                last_use[g->bufs[ar->ref].tensor] < i)
                last_use[g->bufs[ar->ref].tensor] = i;
        }
    }
    for (int r = 0; r < g->nres; r++) {
        KRes *res = &g->res[r];
        int v = res->buf, d = v >= 0 ? def[v] : -1;
        if (res->kind != KR_UPDATE || res->stage >= 0 || g->bufs[v].kind != KB_TEMP || d < 0 ||
            res->index < 0 || res->index >= ntensors || last_use[res->index] > d)
            continue;
        bool ok = true;
        for (int q = 0; ok && q < g->nres; q++) {
            const KRes *o = &g->res[q];
            ok = q == r || (o->buf != v && !is_tensor_buf(g, o->buf, res->index) &&
                            (o->stage < 0 || !is_tensor_buf(g, o->stage, res->index)));
        }
        Kernel *k = &g->kern[d];
        for (int a = 0; ok && a < k->nargs; a++) {
            const KArg *ar = &k->args[a];
            if (ar->kind != KA_VAL && is_tensor_buf(g, ar->ref, res->index))
                ok = elementwise_out(k) && ar->kind == KA_BUF;
        }
        if (!ok)
            continue;
        g->bufs[v].kind = KB_ARG;
        g->bufs[v].tensor = res->index;
        res->direct = true;
        last_use[res->index] = g->nkern;    /* its buffer now holds the new value */
        for (int a = 0; a < k->nargs; a++)
            if (k->args[a].kind != KA_VAL && is_tensor_buf(g, k->args[a].ref, res->index))
                k->args[a].ref = v;
    }
}

/* An elementwise kernel (or a row kernel with a result per element) writes over an argument that dies with it: a temporary of its result's
 * size and dtype, read element by element, that nothing after the kernel reads. The result then
 * lives in that buffer, and the buffer fuse gave it is left unused. So bias + activation after a
 * GEMM is the GEMM's epilogue, in place in the GEMM's output, and a chain of elementwise kernels
 * over one shape walks one buffer. */
static void reuse_dying(Arena *A, KGraph *g) {
    int nk = g->nkern;
    int *last = arena_alloc(A, sizeof(int) * ((size_t)g->nbufs + 1));
    int *map = arena_alloc(A, sizeof(int) * ((size_t)g->nbufs + 1));
    for (int b = 0; b < g->nbufs; b++)
        last[b] = -1, map[b] = b;
    for (int i = 0; i < nk; i++)
        for (int a = 0; a < g->kern[i].nargs; a++)
            if (g->kern[i].args[a].kind != KA_VAL)
                last[g->kern[i].args[a].ref] = i;
    for (int r = 0; r < g->nres; r++) {
        last[g->res[r].buf] = nk;
        if (g->res[r].stage >= 0)
            last[g->res[r].stage] = nk;
    }
    for (int i = 0; i < nk; i++) {
        Kernel *k = &g->kern[i];
        for (int a = 0; a < k->nargs; a++)
            if (k->args[a].kind != KA_VAL)
                k->args[a].ref = map[k->args[a].ref];
        for (int x = 0; x < k->nx; x++)
            k->xbuf[x] = map[k->xbuf[x]];
        /* the result, and a row kernel's extra outputs per element (merge_rows: the forward
         * log-softmax's exp(z) beside the row's loss term, over the dying logits) */
        int nout = 1 + (k->kind == KK_ROW ? k->nx : 0);
        for (int s = 0; s < nout; s++) {
            int o = s ? k->xbuf[s - 1] : k->out;
            bool pe = s ? !(k->xrow && k->xrow[s - 1]) : elementwise_out(k);
            if (!pe || g->bufs[o].kind != KB_TEMP)
                continue;
            for (int a = 0; a < k->nargs; a++) {
                int b = k->args[a].ref;
                const KBuf *bb = &g->bufs[b];
                if (k->args[a].kind != KA_BUF || k_writes(k, b) || bb->kind != KB_TEMP || last[b] != i ||
                    bb->type.dtype != g->bufs[o].type.dtype)
                    continue;
                KSize x = k_bytes(&bb->type), y = k_bytes(&g->bufs[o].type);
                bool only_elementwise = true;
                for (int q = 0; q < k->nargs; q++)
                    only_elementwise &= k->args[q].kind == KA_VAL || k->args[q].ref != b || k->args[q].kind == KA_BUF;
                if (x.b2 != y.b2 || x.b != y.b || x.c != y.c || !only_elementwise)
                    continue;
                map[o] = b;
                last[b] = last[o];
                if (s)
                    k->xbuf[s - 1] = b;
                else
                    k->out = b;
                break;
            }
        }
    }
    for (int r = 0; r < g->nres; r++)
        g->res[r].buf = map[g->res[r].buf];
}

static bool touches(const Kernel *k, int b) { return k_writes(k, b) || k_reads(k, b); }

/* A GEMM's epilogue: the next kernel that uses a GEMM's output, when it is an elementwise kernel
 * that writes over that output (reuse_dying put it there: bias + activation after a forward GEMM,
 * the activation's derivative after a backward one) and stores nothing else, becomes the GEMM
 * kernel's body, when no kernel between them writes a buffer it reads (so it can run right after
 * the GEMM). The body's arguments follow the GEMM's two operands. A forward convolution takes its
 * epilogue the same way (bias + activation, an inference batchnorm's scale and shift: the backend
 * folds what it can into the library call, docs/backend-llvm.md "Convolution epilogues"); its
 * im2col scratch stays its extra output. */
/* Conv kernel i writes a temporary that dies in the elementwise kernel j, which writes another
 * buffer of its size (a graph output: reuse_dying leaves those alone): the conv writes j's buffer
 * instead, and j reads it there, so that j can become its epilogue (written over it in place).
 * Only when no kernel between them touches j's buffer and neither kernel reads it before. The
 * caller looks at kernel i again (i is not advanced) after a true return. */
static bool conv_into_output(KGraph *g, const bool *gone, int i, int j) {
    Kernel *k = &g->kern[i], *e = &g->kern[j];
    int t = k->out, o = e->out;
    if (e->kind != KK_ELEM || e->nx || g->bufs[t].kind != KB_TEMP || o == t || g->bufs[o].kind == KB_GLOBAL ||
        g->bufs[o].type.dtype != g->bufs[t].type.dtype)
        return false;
    KSize x = k_bytes(&g->bufs[t].type), y = k_bytes(&g->bufs[o].type);
    if (x.b2 != y.b2 || x.b != y.b || x.c != y.c)
        return false;
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind != KA_VAL && k->args[a].ref == o)
            return false;
    bool reads_t = false;
    for (int a = 0; a < e->nargs; a++) {
        const KArg *ar = &e->args[a];
        if (ar->kind == KA_VAL)
            continue;
        if (ar->ref == o || (ar->ref == t && ar->kind != KA_BUF))
            return false;
        reads_t |= ar->ref == t;
    }
    if (!reads_t)
        return false;
    for (int m = i + 1; m < j; m++)
        if (!gone[m] && touches(&g->kern[m], o))
            return false;
    for (int m = j + 1; m < g->nkern; m++)
        if (!gone[m] && touches(&g->kern[m], t))
            return false;
    for (int r = 0; r < g->nres; r++)
        if (g->res[r].buf == t || g->res[r].stage == t)
            return false;
    k->out = o;
    for (int a = 0; a < e->nargs; a++)
        if (e->args[a].kind != KA_VAL && e->args[a].ref == t)
            e->args[a].ref = o;
    return true;
}

/* A train step's conv epilogue that is a ReLU and also stores its mask (`gt(z, 0)`, kept for the
 * backward pass): the value ref of its 0 when it is, else -1. relu(z) > 0 exactly when z > 0
 * (NaN and -0 included), so the mask can be taken from the conv's output once the conv has run
 * the ReLU: the conv takes the epilogue without the mask, and a kernel `gt(y, 0)` after it writes
 * the mask (it reads y where the epilogue read and wrote it, 4 bytes an element less). */
static int relu_mask(const KGraph *g, const Kernel *e) {
    if (e->kind != KK_ELEM || e->nx != 1 || e->nbody < 3 || e->xexpr[0] < 0 || e->xexpr[0] >= e->nbody)
        return -1;
    const KExpr *sel = &e->body[e->nbody - 1], *gt = &e->body[e->xexpr[0]];
    if (sel->kind != KE_OP || sel->op != OP_SELECT || sel->dt != DT_F32 || sel->src[0] != (uint32_t)e->xexpr[0] ||
        gt->kind != KE_OP || gt->op != OP_GT || gt->sdt != DT_F32 || gt->src[0] != sel->src[1] ||
        g->bufs[e->xbuf[0]].type.dtype != DT_BOOL)
        return -1;
    int zero = -1;
    for (int q = 0; q < 2; q++) {   /* the select's else and the comparison's right side: a constant 0 */
        const KExpr *c = &e->body[q ? gt->src[1] : sel->src[2]];
        if (c->kind != KE_ARG || e->args[c->ref].kind != KA_VAL)
            return -1;
        const KExpr *v = &g->vals[e->args[c->ref].ref];
        if (v->kind != KE_CONST || v->f != 0.0 || v->dt != DT_F32)
            return -1;
        zero = e->args[c->ref].ref;
    }
    return zero;
}

static void gemm_epilogues(Arena *A, KGraph *g) {
    int capgone = 2 * g->nkern + 2;    /* a conv's ReLU mask adds a kernel (relu_mask) */
    bool *gone = arena_alloc(A, (size_t)capgone);
    for (int i = 0; i < g->nkern; i++) {
        Kernel *k = &g->kern[i];
        if (!(k->kind == KK_GEMM || (k->kind == KK_CONV && k->op == OP_CONV)) || k->nbody)
            continue;
        int j = i + 1;
        while (j < g->nkern && (gone[j] || !touches(&g->kern[j], k->out)))
            j++;
        Kernel *e = j < g->nkern ? &g->kern[j] : NULL;
        if (e && k->kind == KK_CONV && e->out != k->out && conv_into_output(g, gone, i, j)) {
            i--;    /* it now writes the epilogue's output: looked at again */
            continue;
        }
        int zero = e && k->kind == KK_CONV && e->out == k->out && g->nkern + 1 < capgone ? relu_mask(g, e) : -1;
        bool ok = e && e->kind == KK_ELEM && e->out == k->out && (e->nx == 0 || zero >= 0);
        bool reads = false, between = false;
        for (int a = 0; ok && a < e->nargs; a++) {
            const KArg *ar = &e->args[a];
            reads |= ar->kind == KA_BUF && ar->ref == k->out;
            for (int m = i + 1; ar->kind != KA_VAL && m < j; m++)
                between |= !gone[m] && k_writes(&g->kern[m], ar->ref);
        }
        if (!ok || !reads)
            continue;
        if (between) {
            /* A kernel between them computes something the epilogue reads (an inference
             * batchnorm's [F] scale, gamma / sqrt(running_var + eps), between its conv and the
             * conv's epilogue). A conv commutes with the kernels between when none of them writes
             * what it reads (none touches its output: j is the first that does; its scratch is its
             * own), so it moves down to just before its epilogue and is looked at again there. */
            bool hoist = k->kind == KK_CONV;
            for (int m = i + 1; hoist && m < j; m++)
                for (int a = 0; hoist && !gone[m] && a < k->nargs; a++)
                    hoist = k->args[a].kind == KA_VAL || !k_writes(&g->kern[m], k->args[a].ref);
            for (int m = i + 1; hoist && m < j; m++)
                hoist = !gone[m];   /* (gone only marks epilogues merged after their kernel, i.e. after j) */
            if (!hoist)
                continue;
            Kernel c = *k;
            memmove(&g->kern[i], &g->kern[i + 1], sizeof(Kernel) * (size_t)(j - 1 - i));
            g->kern[j - 1] = c;
            i--;    /* the kernel now at i is looked at next; the conv at j - 1 after it */
            continue;
        }
        Kernel m = *k;
        m.nargs = 2 + e->nargs;
        m.args = arena_alloc(A, sizeof(KArg) * (size_t)m.nargs);
        memcpy(m.args, k->args, sizeof(KArg) * 2);
        memcpy(m.args + 2, e->args, sizeof(KArg) * (size_t)e->nargs);
        m.nbody = e->nbody;
        m.body = arena_alloc(A, sizeof(KExpr) * (size_t)e->nbody);
        for (int b = 0; b < e->nbody; b++) {
            m.body[b] = e->body[b];
            if (m.body[b].kind == KE_ARG)
                m.body[b].ref += 2;
        }
        Kernel mk = {0};
        if (zero >= 0) {    /* the mask after the conv: gt(y, 0) */
            mk = (Kernel){.kind = KK_ELEM, .op = OP_GT, .node = e->node, .out = e->xbuf[0],
                          .type = g->bufs[e->xbuf[0]].type};
            mk.args = arena_alloc(A, sizeof(KArg) * 2);
            mk.args[0] = (KArg){.kind = KA_BUF, .ref = k->out, .type = k->type};
            mk.args[1] = (KArg){.kind = KA_VAL, .ref = zero, .type = k->type};
            mk.nargs = 2;
            mk.body = arena_alloc(A, sizeof(KExpr) * 3);
            mk.body[0] = (KExpr){.kind = KE_ARG, .ref = 0, .dt = DT_F32, .sdt = DT_F32};
            mk.body[1] = (KExpr){.kind = KE_ARG, .ref = 1, .dt = DT_F32, .sdt = DT_F32};
            mk.body[2] = (KExpr){.kind = KE_OP, .op = OP_GT, .dt = DT_BOOL, .sdt = DT_F32, .src = {0, 1}};
            mk.nbody = 3;
            mk.type.dtype = DT_BOOL;
        }
        *k = m;
        gone[j] = true;
        if (zero >= 0) {    /* inserted right after the epilogue's place */
            k_kernel(A, g, mk);     /* (may move g->kern) */
            memmove(&g->kern[j + 2], &g->kern[j + 1], sizeof(Kernel) * (size_t)(g->nkern - 2 - j));
            memmove(&gone[j + 2], &gone[j + 1], sizeof(bool) * (size_t)(g->nkern - 2 - j));
            g->kern[j + 1] = mk;
            gone[j + 1] = false;
        }
    }
    int n = 0;
    for (int i = 0; i < g->nkern; i++)
        if (!gone[i])
            g->kern[n++] = g->kern[i];
    g->nkern = n;
}

/* Accumulators (g->accumulate): a GEMM's result that an elementwise kernel reads last, element by
 * element (an optimizer's update reading the weight gradient dW = x^T dz), is kept out of the
 * workspace in a buffer of its own that holds zeros between calls. The GEMM adds into it (BLAS
 * beta = 1: OpenBLAS zeroes C in a pass of its own before a beta = 0 product, ~9% of mlp_small's
 * step) and the update stores 0 over each element after reading it, in the loop it runs anyway,
 * while the line is in cache. 0 + the product is the product to the bit (OpenBLAS computes
 * C = beta C + alpha A B either way, with C zeroed first for beta = 0), so results do not change.
 * Between the two only an allreduce may touch it (in place: the average of the processes'
 * gradients). The buffer's size may not depend on B (its storage is fixed) and the GEMM must
 * have more than one row (the batch-1 path of the LLVM backend writes C itself). */
/* The buffer kernel k's slot q names (q < 0: out and the extra outputs; else argument q), or -1. */
static int slot_buf(const Kernel *k, int q) {
    if (q == -1 - k->nx)
        return k->out;
    if (q < 0)
        return k->xbuf[q + k->nx];
    return k->args[q].kind == KA_VAL ? -1 : k->args[q].ref;
}

/* For each buffer b, the kernels that read or write it, in order: touch[first[b] .. first[b + 1]). */
static int *touch_lists(Arena *A, const KGraph *g, int **touch) {
    int nb = g->nbufs;
    int *first = arena_alloc(A, sizeof(int) * ((size_t)nb + 2));
    int *pos = arena_alloc(A, sizeof(int) * ((size_t)nb + 1));
    int *seen = arena_alloc(A, sizeof(int) * ((size_t)nb + 1));
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < nb; b++)
            seen[b] = -1;
        for (int i = 0; i < g->nkern; i++) {
            const Kernel *k = &g->kern[i];
            for (int q = -1 - k->nx; q < k->nargs; q++) {
                int b = slot_buf(k, q);
                if (b < 0 || b >= nb || seen[b] == i)
                    continue;
                seen[b] = i;
                if (pass == 0)
                    first[b + 1]++;
                else
                    (*touch)[pos[b]++] = i;
            }
        }
        if (pass == 0) {
            for (int b = 0; b < nb; b++) {
                first[b + 1] += first[b];
                pos[b] = first[b];
            }
            *touch = arena_alloc(A, sizeof(int) * ((size_t)first[nb] + 1));
        }
    }
    return first;
}

static void accumulators(Arena *A, KGraph *g) {
    int *touch;
    int *tfirst = touch_lists(A, g, &touch);
    for (int i = 0; i < g->nkern; i++) {
        Kernel *k = &g->kern[i];
        int b = k->out;
        KBuf *bf = &g->bufs[b];
        KSize sz = k_bytes(&bf->type);
        if (k->kind != KK_GEMM || k->nbody || k->nx || k->acc || bf->kind != KB_TEMP || bf->kept ||
            bf->type.dtype != DT_F32 || bf->type.rank != 2 || sz.b2 || sz.b || bf->type.dim[0].c < 2)
            continue;
        bool ok = true;
        for (int r = 0; ok && r < g->nres; r++)
            ok = g->res[r].buf != b && g->res[r].stage != b;
        /* the kernels that touch b (the lists stay right: an update below only adds b to the
         * extra outputs of a kernel that reads it) */
        int t0 = tfirst[b], t1 = tfirst[b + 1];
        ok = ok && t0 < t1 && touch[t0] >= i;     /* none before i */
        int last = -1;
        for (int t = t0; ok && t < t1; t++) {
            int j = touch[t];
            if (j <= i)
                continue;
            const Kernel *u = &g->kern[j];
            if (last >= 0) {        /* a reader after the one that was to zero it */
                ok = false;
                break;
            }
            if (u->kind == KK_ALLREDUCE) {      /* in place only: result x of argument x */
                for (int a = 0; ok && a < u->nargs; a++) {
                    int res = a ? u->xbuf[a - 1] : u->out;
                    ok = (u->args[a].ref == b) == (res == b);
                }
                continue;
            }
            ok = u->kind == KK_ELEM && !k_writes(u, b) && ir_numel(&u->type, 0) == ir_numel(&bf->type, 0) &&
                 ir_numel(&u->type, 0) > 0;
            for (int a = 0; ok && a < u->nargs; a++)
                if (u->args[a].kind != KA_VAL && u->args[a].ref == b)
                    ok = u->args[a].kind == KA_BUF;
            last = j;
        }
        if (!ok || last < 0)
            continue;
        /* the reader stores 0 over what it read: an extra output of a zero value, the body's new
         * first instruction (the others move up one; the last stays the result) */
        Kernel *u = &g->kern[last];
        int zv = -1;
        for (int v = 0; v < g->nvals && zv < 0; v++)
            if (g->vals[v].kind == KE_CONST && g->vals[v].dt == DT_F32 && g->vals[v].f == 0 && !signbit(g->vals[v].f))
                zv = v;
        if (zv < 0)
            zv = k_val(A, g, (KExpr){.kind = KE_CONST, .dt = DT_F32, .sdt = DT_F32, .f = 0});
        IrType zt = u->type;
        zt.dtype = DT_F32;
        KArg *args = arena_alloc(A, sizeof(KArg) * (size_t)(u->nargs + 1));
        memcpy(args, u->args, sizeof(KArg) * (size_t)u->nargs);
        args[u->nargs] = (KArg){.kind = KA_VAL, .ref = zv, .type = zt};
        KExpr *body = arena_alloc(A, sizeof(KExpr) * (size_t)(u->nbody + 1));
        body[0] = (KExpr){.kind = KE_ARG, .dt = DT_F32, .sdt = DT_F32, .ref = u->nargs};
        for (int e = 0; e < u->nbody; e++) {
            body[e + 1] = u->body[e];
            if (body[e + 1].kind == KE_OP)
                for (int q = 0; q < IR_MAXSRC; q++)
                    body[e + 1].src[q] += q < ir_op_nsrc[body[e + 1].op];
        }
        int *xbuf = arena_alloc(A, sizeof(int) * (size_t)(u->nx + 1));
        int *xexpr = arena_alloc(A, sizeof(int) * (size_t)(u->nx + 1));
        for (int x = 0; x < u->nx; x++)
            xbuf[x] = u->xbuf[x], xexpr[x] = u->xexpr[x] + 1;
        xbuf[u->nx] = b, xexpr[u->nx] = 0;
        u->args = args, u->nargs++;
        u->body = body, u->nbody++;
        u->xbuf = xbuf, u->xexpr = xexpr, u->nx++;
        k->acc = true;
        bf->kept = true;
    }
}

typedef struct Live { int buf; KSize off, end; } Live;
typedef struct Cand { int64_t key; int c; KSize at; } Cand;     /* a place plan_graph tries */

/* A temporary is placed at the lowest free place among the live ones (a search quadratic in
 * their number) while at most this many are live; above, after all of them (constant time).
 * An unrolled time loop keeps hundreds of activations live: 64 keeps planning linear there
 * (a 2-layer LSTM at T = 256: 1 s of plan at 256, docs/architecture.md). */
#define PLAN_SEARCH 64

/* Temporary b has B in three or more dims (B^3 bytes and up): offsets are polynomials of degree
 * two, so it cannot be placed. The error names the op that makes it, at its source place when the
 * node has one. */
static void too_big(const KGraph *g, int b, Diag *d) {
    char t[128];
    ir_type_fmt(t, sizeof t, &g->bufs[b].type);
    const IrNode *nd = NULL;
    for (int i = 0; i < g->nkern && !nd; i++) {
        const Kernel *k = &g->kern[i];
        bool writes = k->out == b;
        for (int x = 0; x < k->nx; x++)
            writes |= k->xbuf[x] == b;
        if (writes && g->ir && k->node < g->ir->len)
            nd = &g->ir->nodes[k->node];
    }
    const char *op = nd ? ir_op_name[nd->op] : "(a staged update)";
    const char *msg = "graph %s: the result of %s, %s, has the batch size B in %d dims; the planner places "
                      "temporaries whose bytes are at most quadratic in B (b2*B^2 + b*B + c)";
    int nb = 0;
    for (int k = 0; k < g->bufs[b].type.rank; k++)
        nb += g->bufs[b].type.dim[k].a != 0;
    if (nd && nd->loc.file)
        diag_error(d, nd->loc, msg, g->name, op, t, nb);
    else
        diag_plain(d, msg, g->name, op, t, nb);
    diag_hint(d, "reduce over a batch-sized axis before the third one is added");
}

/* Concat pieces placed in the result (docs/kernels.md "plan"): a concat whose operands are
 * contiguous blocks of its result (every axis before the concat axis has size 1: [T*B, H] from
 * T pieces [B, H], the gathers of an unrolled time loop's per-step values) gets each operand that
 * is a temporary written before it and never after it placed at its block's offset inside the
 * result's bytes, and the result's lifetime grows to cover the pieces'. The concat kernel then
 * finds each piece already in place (the backends skip a copy onto itself). A piece is placed in
 * one concat only; blocks must be 64-byte multiples (every earlier block's size coefficients). */
static void concat_places(KGraph *g) {
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (k->kind != KK_OP || k->op != OP_CONCAT || g->bufs[k->out].kind != KB_TEMP || kg_is_result(g, k->out))
            continue;
        int axis = (int)k->attr.i[0];
        bool contiguous = axis >= 0 && axis < k->type.rank;
        for (int d = 0; contiguous && d < axis; d++)
            contiguous = k->type.dim[d].a == 0 && k->type.dim[d].c == 1;
        if (!contiguous)
            continue;
        KBuf *c = &g->bufs[k->out];
        KSize at = {0, 0, 0};
        for (int a = 0; a < k->nargs; a++) {
            const KArg *ar = &k->args[a];
            if (ar->kind != KA_BUF)
                break;
            int s = ar->ref;
            KBuf *p = &g->bufs[s];
            KSize size = k_bytes(&ar->type);
            KSize next = k_size_add(at, size);
            bool aligned = size.b2 % 64 == 0 && size.b % 64 == 0 && size.c % 64 == 0;
            bool ok = p->kind == KB_TEMP && s != k->out && !p->within && !p->kept &&
                      p->type.dtype == k->type.dtype && p->first >= 0 && p->first < i && !kg_is_result(g, s);
            for (int q = 0; ok && q < k->nargs; q++)     /* once in this concat */
                ok = q == a || k->args[q].kind == KA_VAL || k->args[q].ref != s;
            for (int j = i + 1; ok && j < g->nkern; j++)  /* never written after it, nor its block */
                ok = !k_writes(&g->kern[j], s) && (j > p->last || !k_writes(&g->kern[j], k->out));
            KSize own = k_bytes(&p->type);
            ok = ok && own.b2 == size.b2 && own.b == size.b && own.c == size.c;
            if (ok) {
                p->within = 1 + k->out;
                p->at = at;
                if (c->first > p->first)
                    c->first = p->first;
                if (c->last < p->last)
                    c->last = p->last;
            }
            if (!aligned)
                break;      /* the next block's offset would not be 64-aligned */
            at = next;
        }
    }
}

/* A piece's offset: its container's (itself perhaps a piece) plus its own. */
static void resolve_piece(KGraph *g, int b) {
    KBuf *p = &g->bufs[b];
    if (!p->within)
        return;
    KBuf *c = &g->bufs[p->within - 1];
    resolve_piece(g, p->within - 1);
    p->off = k_size_add(c->off, p->at);
    p->cls = c->cls;
}

/* order[] sorted by the buffers' first kernel, then index (an insertion sort: nearly sorted) */
static void sort_by_first(int *order, int n, const KGraph *g) {
    for (int i = 1; i < n; i++) {
        int b = order[i], j = i;
        while (j > 0 && (g->bufs[order[j - 1]].first > g->bufs[b].first ||
                         (g->bufs[order[j - 1]].first == g->bufs[b].first && order[j - 1] > b))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = b;
    }
}

/* May activation b be stored in bf16 (KGraph.bf16, the CUDA backend's --precision bf16)? An f32
 * temporary that only kernels the backend renders with a conversion at each load and store touch:
 * not a result (outputs, losses and updates are copied as f32 bytes), not kept, not a concat's piece
 * nor holding one (their byte offsets are f32's), not written by a scatter (atomic f32 adds) nor
 * read by an allreduce (NCCL reduces f32), never read through a window. GEMMs on it are the
 * runtime's bf16 GEMMs; a conv on it runs the direct kernel (docs/backend-cuda.md). */
static bool bf16_ok(const KGraph *g, int b) {
    const KBuf *bf = &g->bufs[b];
    if (bf->kind != KB_TEMP || bf->type.dtype != DT_F32 || bf->kept || bf->within)
        return false;
    for (int o = 0; o < g->nbufs; o++)
        if (g->bufs[o].within == b + 1)
            return false;
    for (int r = 0; r < g->nres; r++)
        if (g->res[r].buf == b || g->res[r].stage == b)
            return false;
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (!touches(k, b))
            continue;
        if (k->kind == KK_ALLREDUCE || k->acc || (k->kind == KK_OP && k->op == OP_SCATTER_ADD && k->out == b))
            return false;
        for (int a = 0; a < k->nargs; a++)
            if (k->args[a].kind == KA_WIN && k->args[a].ref == b)
                return false;
    }
    return true;
}

int plan_graph(Arena *A, KGraph *g, int ntensors, Diag *d) {
    in_place(A, g, ntensors);
    reuse_dying(A, g);
    gemm_epilogues(A, g);
    if (g->accumulate)
        accumulators(A, g);
    int nk = g->nkern;
    for (int b = 0; b < g->nbufs; b++) {
        KBuf *bf = &g->bufs[b];
        bf->first = nk;
        bf->last = -1;
        if (bf->kind == KB_TEMP && k_bytes(&bf->type).b2 < 0) {
            too_big(g, b, d);
            return -1;
        }
    }
    for (int i = 0; i < nk; i++) {
        const Kernel *k = &g->kern[i];
        if (g->bufs[k->out].first > i)
            g->bufs[k->out].first = i;
        if (g->bufs[k->out].last < i)
            g->bufs[k->out].last = i;
        for (int x = 0; x < k->nx; x++) {
            KBuf *xb = &g->bufs[k->xbuf[x]];
            if (xb->first > i)
                xb->first = i;
            if (xb->last < i)
                xb->last = i;
        }
        for (int a = 0; a < k->nargs; a++)
            if (k->args[a].kind != KA_VAL)
                g->bufs[k->args[a].ref].last = i;
    }
    for (int r = 0; r < g->nres; r++) {     /* results are read after the last kernel */
        g->bufs[g->res[r].buf].last = nk;
        if (g->res[r].stage >= 0)
            g->bufs[g->res[r].stage].first = g->bufs[g->res[r].stage].last = nk;
    }
    concat_places(g);
    /* activations: temporaries live across the kernel of the loss in a step with updates */
    int loss_k = -1;
    bool updates = false;
    for (int r = 0; r < g->nres; r++)
        updates |= g->res[r].kind == KR_UPDATE;
    for (int r = 0; r < g->nres && loss_k < 0 && updates; r++)
        if (g->res[r].kind == KR_LOSS)
            for (int i = 0; i < nk; i++)
                if (g->kern[i].out == g->res[r].buf)
                    loss_k = i;
    /* placement, class by class, temporaries in the order they are first written */
    Live *active[KC__COUNT];
    int nactive[KC__COUNT] = {0};
    for (int c = 0; c < KC__COUNT; c++) {
        active[c] = arena_alloc(A, sizeof(Live) * ((size_t)g->nbufs + 1));
        g->slab[c] = (KSize){0, 0, 0};
    }
    /* in the order they are first written (a buffer fuse made early may be written late: a
     * value stored by a later kernel that computes it, fuse.c), ties by index */
    int *order = arena_alloc(A, sizeof(int) * ((size_t)g->nbufs + 1)), ntemp = 0;
    for (int b = 0; b < g->nbufs; b++)
        if (g->bufs[b].kind == KB_TEMP && !g->bufs[b].within)    /* pieces: placed with their concat */
            order[ntemp++] = b;
    sort_by_first(order, ntemp, g);
    for (int ob = 0; ob < ntemp; ob++) {
        int b = order[ob];
        KBuf *bf = &g->bufs[b];
        if (bf->first == nk && bf->last < 0) {    /* written by no kernel, read by nothing */
            bf->first = bf->last = -1;
            continue;
        }
        if (bf->last < bf->first)   /* written, never read: still needs its bytes while written */
            bf->last = bf->first;
        if (bf->kept) {     /* storage of its own (accumulators), not in the workspace */
            bf->cls = KC_SCRATCH;
            bf->off = (KSize){0, 0, 0};
            continue;
        }
        bf->cls = loss_k >= 0 && bf->first <= loss_k && bf->last > loss_k ? KC_ACT : KC_SCRATCH;
        bf->bf16 = g->bf16 && bf->cls == KC_ACT && bf16_ok(g, b);
        Live *L = active[bf->cls];
        int n = 0;
        for (int k = 0; k < nactive[bf->cls]; k++)
            if (g->bufs[L[k].buf].last >= bf->first)
                L[n++] = L[k];
        nactive[bf->cls] = n;
        KSize size = k_align(k_buf_bytes(bf)), best = {0, 0, 0};
        if (n > PLAN_SEARCH) {   /* many live at once: above everything placed so far (constant time) */
            best = g->slab[bf->cls];
        } else {            /* the lowest free place: 0 or the end of a live one */
            /* the candidates in the order of that measure (ties: 0 first, then the live ones
             * in order), so the first that fits is the lowest: fewer fit tests than trying all */
            Cand cand[PLAN_SEARCH + 1];
            int nc = 0;
            for (int c = -1; c < n; c++) {
                KSize at = c < 0 ? (KSize){0, 0, 0} : L[c].end;
                cand[nc++] = (Cand){at.b2 * 4096 + at.b * 64 + at.c, c, at};
            }
            for (int x = 1; x < nc; x++) {  /* insertion sort: stable, at most 65 */
                Cand v = cand[x];
                int y = x;
                for (; y > 0 && cand[y - 1].key > v.key; y--)
                    cand[y] = cand[y - 1];
                cand[y] = v;
            }
            bool found = false;
            for (int q = 0; q < nc && !found; q++) {
                KSize at = cand[q].at, end = k_size_add(at, size);
                bool fits = true;
                for (int k = 0; fits && k < n; k++)
                    fits = k_size_le(end, L[k].off) || k_size_le(L[k].end, at);
                if (fits)
                    best = at, found = true;
            }
            if (!found)
                for (int k = 0; k < n; k++)
                    best = k_size_max(best, L[k].end);
        }
        bf->off = best;
        L[nactive[bf->cls]++] = (Live){b, best, k_size_add(best, size)};
        g->slab[bf->cls] = k_size_max(g->slab[bf->cls], k_size_add(best, size));
    }
    for (int b = 0; b < g->nbufs; b++)   /* the workspace: activations, then scratch */
        if (g->bufs[b].kind == KB_TEMP && !g->bufs[b].within && g->bufs[b].cls == KC_SCRATCH
            && !g->bufs[b].kept)
            g->bufs[b].off = k_size_add(g->bufs[b].off, g->slab[KC_ACT]);
    for (int b = 0; b < g->nbufs; b++)
        resolve_piece(g, b);
    g->planned = true;
    return 0;
}

int plan_module(KModule *km, Diag *d) {
    const IrModule *m = km->m;
    KGraph *fixed[2] = {km->forward, km->evaluate};
    km->workspace = (KSize){0, 0, 0};
    km->kept = (KSize){0, 0, 0};
    for (int k = 0; k < 2 + km->nsteps; k++) {
        KGraph *g = k < 2 ? fixed[k] : km->steps[k - 2];
        if (!g)
            continue;
        g->accumulate = km->accumulate && k >= 2;
        g->bf16 = km->bf16;
        if (plan_graph(km->arena, g, m->ntensors, d))
            return -1;
        causal_in_place(g);     /* causal.c: a causal row kernel over zeros it need not store */
        for (int b = 0; b < g->nbufs; b++)
            if (g->bufs[b].kind == KB_TEMP && g->bufs[b].kept && g->bufs[b].first >= 0)
                km->kept = k_size_add(km->kept, k_align(k_bytes(&g->bufs[b].type)));
        km->workspace = k_size_max(km->workspace, k_size_add(g->slab[KC_ACT], g->slab[KC_SCRATCH]));
        km->bytes[KC_ACT] = k_size_max(km->bytes[KC_ACT], g->slab[KC_ACT]);
        km->bytes[KC_SCRATCH] = k_size_max(km->bytes[KC_SCRATCH], g->slab[KC_SCRATCH]);
    }
    for (int t = 0; t < m->ntensors; t++) {
        const IrTensor *tn = &m->tensors[t];
        if (tn->role == ROLE_PARAM || tn->role == ROLE_STATE) {
            KClass c = tn->role == ROLE_PARAM ? KC_PARAM : KC_STATE;
            km->bytes[c] = k_size_add(km->bytes[c], k_bytes(&tn->type));
        }
    }
    return 0;
}
