/* gemm_view.c - batched products that read a transformer's heads in place (Kernel.view).
 *
 * Multi-head attention splits q, k and v into heads with a transpose: the [B, T, H, D] tensor (or
 * its slice of the qkv product [B, T, 3 H D]) becomes [B, H, T, D], a copy, and the batched
 * products read [B H, T, D]. That copy is only a change of strides: product p = b H + h of the
 * transposed tensor is element b T W + h D of the untransposed one (W the row length: H D, or 3 H D
 * for the slice, offset by the slice's start), its rows W apart. runtime/bmm.c
 * nnc_sgemm_batched_view takes those strides, so the gemm reads the tensor where it is and the
 * transpose (and the slice before it) goes away when nothing else reads its result.
 *
 * Rule, per operand s of a batched gemm without an epilogue: its buffer X is a temporary written by
 * one kernel, a transpose with permutation [0, 2, 1, 3] of a rank-4 [B', T, H, D] (T, H, D without
 * B), read only by batched gemms as an operand (each gets the view); the transpose's operand Y is
 * read in place, or, when Y is a temporary written by one slice of the last dim (step 1) of a
 * [B', T, W] buffer Z and read by nothing but such transposes, Z. The kernels left without readers
 * are removed; their buffers stay unused (plan gives them no bytes). Likewise a product whose
 * only reader is the head merge (the transpose [0, 2, 1, 3] of its [B' H, T, D] result into
 * [B', T, H, D]) writes the merged tensor in place (view[2]), and the transpose goes. Run only where fuse may
 * read slices in place (the LLVM backend; the CUDA backend's kernels take no views).
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "passes.h"

/* the kernel that writes b, when exactly one does (-1 otherwise) */
static int sole_writer(const KGraph *g, int b) {
    int w = -1;
    for (int i = 0; i < g->nkern; i++) {
        if (k_writes(&g->kern[i], b)) {
            if (w >= 0)
                return -1;
            w = i;
        }
    }
    return w;
}

static bool const_dims(const IrType *t, int from) {
    for (int d = from; d < t->rank; d++)
        if (t->dim[d].a != 0)
            return false;
    return true;
}

/* Every reader of b is a batched gemm reading it as an operand (not its result), and no result. */
static bool only_gemm_operand(const KGraph *g, int b, const bool *dead) {
    if (kg_is_result(g, b))
        return false;
    int n = 0;
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (dead[i] || !k_reads(k, b))
            continue;
        if (k->kind != KK_GEMM || k->type.rank != 3 || k->nbody || k->acc || k->out == b || k->nargs != 2)
            return false;
        n++;
    }
    return n > 0;
}

/* the view of the transpose t's result (its operand read in place), and the buffer it reads; false: none */
static bool head_view(const KGraph *g, const Kernel *t, const bool *dead, KView *v, int *base, int *slice) {
    if (t->kind != KK_OP || t->op != OP_TRANSPOSE || t->nbody || t->nx || t->nargs != 1 || t->args[0].kind != KA_BUF ||
        t->type.rank != 4 || t->attr.ni < 4 || t->attr.i[0] != 0 || t->attr.i[1] != 2 || t->attr.i[2] != 1 ||
        t->attr.i[3] != 3)
        return false;
    const IrType *y = &t->args[0].type;     /* [B', T, H, D] */
    if (y->rank != 4 || !const_dims(y, 1) || y->dim[0].c != 0 || y->dim[0].a <= 0)
        return false;
    int64_t T = y->dim[1].c, H = y->dim[2].c, D = y->dim[3].c;
    int yb = t->args[0].ref;
    *v = (KView){H, 0, T * H * D, D, H * D};
    *base = yb;
    *slice = -1;
    const KBuf *ybuf = &g->bufs[yb];
    if (ybuf->kind != KB_TEMP || ybuf->kept || kg_is_result(g, yb))
        return true;
    int s = sole_writer(g, yb);
    if (s < 0)
        return true;
    const Kernel *sk = &g->kern[s];
    if (sk->kind != KK_OP || sk->op != OP_SLICE || sk->nbody || sk->nx || sk->nargs != 1 || sk->args[0].kind != KA_BUF)
        return true;
    const IrType *z = &sk->args[0].type;    /* [B', T, W] */
    Dim st = ir_slice_start(&sk->attr);
    if (z->rank != 3 || sk->type.rank != 3 || !const_dims(z, 1) || z->dim[0].a != y->dim[0].a || z->dim[0].c != 0 ||
        z->dim[1].c != T || sk->attr.i[0] != 2 || sk->attr.i[3] != 1 || st.a != 0 ||
        sk->type.dim[2].a != 0 || sk->type.dim[2].c != H * D || st.c < 0 || st.c + H * D > z->dim[2].c)
        return true;
    for (int i = 0; i < g->nkern; i++)      /* the slice's result: read by head-split transposes only */
        if (!dead[i] && &g->kern[i] != t && k_reads(&g->kern[i], yb)) {
            const Kernel *o = &g->kern[i];
            if (o->kind != KK_OP || o->op != OP_TRANSPOSE)
                return true;
        }
    int64_t W = z->dim[2].c;
    *v = (KView){H, st.c, T * W, D, W};
    *base = sk->args[0].ref;
    *slice = s;
    return true;
}

void gemm_views(KGraph *g) {
    if (g->nkern == 0)
        return;
    bool *dead = calloc((size_t)g->nkern, sizeof(bool));
    if (!dead)
        die("out of memory");
    bool any = false;
    for (int i = 0; i < g->nkern; i++) {
        Kernel *t = &g->kern[i];
        if (t->kind != KK_OP || t->op != OP_TRANSPOSE || dead[i])
            continue;
        int x = t->out;
        const KBuf *xb = &g->bufs[x];
        if (xb->kind != KB_TEMP || xb->kept || sole_writer(g, x) != i || !only_gemm_operand(g, x, dead))
            continue;
        KView v;
        int base, slice;
        if (!head_view(g, t, dead, &v, &base, &slice))
            continue;
        /* the tensor read in place holds its value from its one write on (no kernel updates it in place) */
        int wb = sole_writer(g, base);
        if (g->bufs[base].kind == KB_TEMP ? wb < 0 || wb > i : wb >= 0)
            continue;
        /* every reading gemm: its operand [P, rows, cols] is [B' H, T, D] */
        const IrType *y = &t->args[0].type;
        bool ok = true;
        for (int r = 0; r < g->nkern && ok; r++) {
            const Kernel *k = &g->kern[r];
            if (dead[r] || !k_reads(k, x))
                continue;
            /* (a batched gemm with two operands: only_gemm_operand) */
            for (int s = 0; s < 2 && ok; s++) {
                if (k->args[s].ref != x)
                    continue;
                const IrType *o = &k->args[s].type;
                ok = k->args[s].kind == KA_BUF && k->view[s].h == 0 && o->rank == 3 && o->dim[0].a == y->dim[0].a * v.h &&
                     o->dim[0].c == 0 && o->dim[1].a == 0 && o->dim[1].c == y->dim[1].c && o->dim[2].a == 0 &&
                     o->dim[2].c == y->dim[3].c;
            }
        }
        if (!ok)
            continue;
        for (int r = 0; r < g->nkern; r++) {
            Kernel *k = &g->kern[r];
            if (dead[r] || !k_reads(k, x))
                continue;
            for (int s = 0; s < 2; s++)
                if (k->args[s].ref == x) {
                    k->args[s].ref = base;
                    k->view[s] = v;
                }
        }
        dead[i] = true;
        any = true;
        if (slice >= 0) {   /* the slice goes too once no live kernel reads its result */
            int yb = g->kern[slice].out;
            bool read = false;
            for (int r = 0; r < g->nkern && !read; r++)
                read = !dead[r] && k_reads(&g->kern[r], yb);
            dead[slice] = !read;
        }
    }
    /* C: a product [B' H, T, D] whose only reader is the head merge, a transpose [0, 2, 1, 3] into
     * [B', T, H, D], writes that in place */
    for (int i = 0; i < g->nkern; i++) {
        Kernel *k = &g->kern[i];
        if (dead[i] || k->kind != KK_GEMM || k->type.rank != 3 || k->nbody || k->nx || k->acc ||
            k->causal == K_CAUSAL_OUT || k->view[2].h > 0)
            continue;
        int x = k->out, t = -1;
        const KBuf *xb = &g->bufs[x];
        if (xb->kind != KB_TEMP || xb->kept || kg_is_result(g, x) || sole_writer(g, x) != i)
            continue;
        bool one = true;
        for (int r = 0; r < g->nkern && one; r++)
            if (!dead[r] && r != i && k_reads(&g->kern[r], x)) {
                one = t < 0;
                t = r;
            }
        if (!one || t < 0)
            continue;
        const Kernel *tk = &g->kern[t];
        if (tk->kind != KK_OP || tk->op != OP_TRANSPOSE || tk->nbody || tk->nx || tk->nargs != 1 ||
            tk->args[0].kind != KA_BUF || tk->type.rank != 4 || tk->attr.ni < 4 || tk->attr.i[0] != 0 ||
            tk->attr.i[1] != 2 || tk->attr.i[2] != 1 || tk->attr.i[3] != 3)
            continue;
        const IrType *y = &tk->args[0].type;    /* [B', H, T, D]: C seen as 4-D */
        int yb = tk->out;
        const KBuf *ybuf = &g->bufs[yb];
        if (y->rank != 4 || !const_dims(y, 1) || y->dim[0].c != 0 || y->dim[0].a <= 0 || ybuf->kind != KB_TEMP ||
            ybuf->kept || kg_is_result(g, yb) || sole_writer(g, yb) != t || k->type.dim[0].a != y->dim[0].a * y->dim[1].c ||
            k->type.dim[0].c != 0 || k->type.dim[1].a || k->type.dim[1].c != y->dim[2].c || k->type.dim[2].a ||
            k->type.dim[2].c != y->dim[3].c)
            continue;
        bool between = false;   /* the merged tensor is written at the product now: nothing reads it before t */
        for (int r = i + 1; r < t && !between; r++)
            between = !dead[r] && k_reads(&g->kern[r], yb);
        if (between)
            continue;
        int64_t H = y->dim[1].c, T = y->dim[2].c, D = y->dim[3].c;
        k->out = yb;
        k->view[2] = (KView){H, 0, T * H * D, D, H * D};
        dead[t] = true;
        any = true;
    }
    if (any) {
        int n = 0;
        for (int i = 0; i < g->nkern; i++)
            if (!dead[i])
                g->kern[n++] = g->kern[i];
        g->nkern = n;
    }
    free(dead);
}
