/* causal.c - the masked triangle of causal attention, skipped (docs/kernels.md "Causal kernels").
 *
 * A causal softmax (the builtin softmax(x, causal = true): stdlib scaled_dot_product_attention and
 * every layer built on it) is one row kernel that masks column j > row i of each [T, S] tile with
 * a constant [T, S] mask read [tile]: select(mask, z, -inf), then exp, sum and divide. Its masked
 * elements are -inf under the row max, 0 under the sum and 0 in the result, so they need not be
 * computed; its adjoint row kernel multiplies by those zeros; the products around it (q k^T,
 * p v and their gradients) either feed only those masked elements or multiply by those zeros.
 * causal_kernels marks such kernels (Kernel.causal) from the kernel IR alone, whatever program made
 * it, and backends skip the triangle (the LLVM backend; the CUDA backend computes all of it, which
 * gives the same values):
 *
 * - a row kernel whose index space ends in [T, S] (no B) is K_CAUSAL_ROW when, evaluating its body
 *   abstractly at a masked element (j > i): every rmax's operand there is -inf, every sum's is 0,
 *   and its result (one value per element, no extra outputs) is 0. The facts per instruction:
 *   the causal mask argument (a constant bool [T, S] global equal to j <= i); select(mask, a, b)
 *   is b there; the constant -inf and 0; -inf plus or minus a value per row stays -inf; exp(-inf)
 *   is 0; 0 times anything, 0 divided by anything, -0 are 0; and an argument read per element from
 *   a buffer known to be 0 at j > i (the result of an earlier causal row kernel, with the same
 *   [T, S]: the softmax's adjoint reads the probabilities). Values are taken finite (0 * x = 0);
 *   the masked entries of a row are finite in any case where the unmarked kernels' are.
 * - a batched gemm C[P, M, N] = op(A) op(B) without an accumulator is
 *   K_CAUSAL_A when A (not transposed, [P, T, S] with M = T, K = S) holds a buffer known to be 0
 *   at j > i: row i of C sums over k <= i only (blocks: up to the block's last row);
 *   K_CAUSAL_AT when A is that buffer read transposed (A [P, T, S] with K = T, M = S): row j of C
 *   sums over A's rows i >= j only;
 *   K_CAUSAL_OUT when C is a temporary, no result, and every later kernel reading it is a causal
 *   row kernel reading it per element as [..., T, S] with [T, S] = [M, N]: elements j > i are
 *   never read, so the blocks above the diagonal are not computed.
 * After plan, causal_in_place marks a causal row kernel written in place over a buffer that holds
 * 0 at j > i already (K_CAUSAL_ROW_IN_PLACE): it does not store those zeros again; and one whose
 * result only causal kernels read (K_CAUSAL_ROW_BAND, band_readers): it stores its zeros only up
 * to the end of row i's 32-row block of the products (NNC_CAUSAL_BLOCK), the most any reads.
 * The products' sums then hold the same nonzero terms in another grouping (runtime/bmm.c computes
 * C by blocks of rows), so their results equal the unmarked products' to rounding; the row
 * kernels' are the same bits but for the sign of a zero.
 */
#include <math.h>
#include <stdlib.h>

#include "kernel.h"
#include "nnc_abi.h"

typedef struct Fact { int64_t T, S; } Fact;     /* buffer is 0 at j > i of each [T, S] tile; T = 0: unknown */

enum { C_ANY, C_ROW, C_MASK, C_ZERO, C_NINF };

static bool const_tile(const IrType *t, int64_t *T, int64_t *S) {
    if (t->rank < 2 || t->dim[t->rank - 1].a || t->dim[t->rank - 2].a)
        return false;
    *T = t->dim[t->rank - 2].c;
    *S = t->dim[t->rank - 1].c;
    return *T > 0 && *S > 0;
}

/* a constant bool [T, S] buffer holding j <= i */
static bool causal_mask(const KGraph *kg, const KArg *ar, int64_t T, int64_t S) {
    if (ar->kind != KA_TILE || ar->ref < 0 || ar->ref >= kg->nbufs)
        return false;
    const KBuf *b = &kg->bufs[ar->ref];
    int64_t t, s;
    if (b->kind != KB_GLOBAL || !b->data || b->type.dtype != DT_BOOL || ar->type.rank != 2 ||
        !const_tile(&ar->type, &t, &s) || t != T || s != S)
        return false;
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < S; j++)
            if ((b->data[i * S + j] != 0) != (j <= i))
                return false;
    return true;
}

/* a per-element read of a buffer known to be 0 at j > i, viewed with the same [T, S] last dims */
static bool zero_read(const Fact *fact, const KArg *ar, int64_t T, int64_t S) {
    int64_t t, s;
    return ar->kind == KA_BUF && fact[ar->ref].T && const_tile(&ar->type, &t, &s) && t == T && s == S &&
           fact[ar->ref].T == T && fact[ar->ref].S == S;
}

/* the row kernel's body at a masked element (see the top): whether it can skip the triangle */
static bool row_causal(const KGraph *kg, const Kernel *k, const Fact *fact) {
    int64_t T, S;
    if (k->kind != KK_ROW || k->nx || !const_tile(&k->pro, &T, &S) || !k_row_per_element(k, &k->type))
        return false;
    int n = k->nbody;
    uint8_t *lv = calloc((size_t)n + 1, 1), *cl = calloc((size_t)n + 1, 1);
    if (!lv || !cl)
        die("out of memory");
    k_row_levels(k, lv);
    bool ok = true, mask = false;
    for (int e = 0; e < n && ok; e++) {
        const KExpr *x = &k->body[e];
        int c = lv[e] ? C_ROW : C_ANY;
        if (x->kind == KE_ARG) {
            const KArg *ar = &k->args[x->ref];
            if (ar->kind == KA_VAL && kg->vals[ar->ref].kind == KE_CONST) {
                double f = kg->vals[ar->ref].f;
                c = f == 0 ? C_ZERO : isinf(f) && f < 0 ? C_NINF : C_ROW;
            } else if (causal_mask(kg, ar, T, S)) {
                c = C_MASK;
                mask = true;
            } else if (zero_read(fact, ar, T, S)) {
                c = C_ZERO;
            }
        } else if (k_row_reduce(x)) {
            int s = cl[x->src[0]];
            ok = x->op == OP_SUM ? s == C_ZERO : s == C_NINF;
            c = C_ROW;
        } else if (x->kind == KE_OP && !lv[e]) {
            int a = cl[x->src[0]], b = ir_op_nsrc[x->op] > 1 ? cl[x->src[1]] : C_ANY;
            switch ((Op)x->op) {
            case OP_SELECT:
                if (a == C_MASK)
                    c = cl[x->src[2]];
                break;
            case OP_MUL:
                if ((a == C_ZERO && b != C_NINF) || (b == C_ZERO && a != C_NINF))
                    c = C_ZERO;
                break;
            case OP_DIV:
                if (a == C_ZERO && b != C_ZERO && b != C_NINF)
                    c = C_ZERO;
                break;
            case OP_ADD:
                if ((a == C_NINF && b == C_ROW) || (a == C_ROW && b == C_NINF))
                    c = C_NINF;
                else if (a == C_ZERO && b == C_ZERO)
                    c = C_ZERO;
                break;
            case OP_SUB:
                if (a == C_NINF && b == C_ROW)
                    c = C_NINF;
                else if (a == C_ZERO && b == C_ZERO)
                    c = C_ZERO;
                break;
            case OP_NEG:
                if (a == C_ZERO)
                    c = C_ZERO;
                break;
            case OP_EXP:
                if (a == C_NINF)
                    c = C_ZERO;
                break;
            default:
                break;
            }
        }
        cl[e] = (uint8_t)c;
    }
    /* the mask, or a zero-above-the-diagonal input, must be what makes the result 0 there */
    bool zero_in = false;
    for (int a = 0; a < k->nargs; a++)
        zero_in |= zero_read(fact, &k->args[a], T, S);
    ok = ok && (mask || zero_in) && cl[n - 1] == C_ZERO;
    free(lv);
    free(cl);
    return ok;
}

/* after kernel k ran: what its outputs hold */
static void note_writes(const Kernel *k, Fact *fact) {
    int64_t T = 0, S = 0;
    if (k->kind == KK_ROW && k->causal)
        const_tile(&k->pro, &T, &S);
    fact[k->out] = (Fact){T, S};
    for (int x = 0; x < k->nx; x++)
        if (k->xbuf[x] >= 0)
            fact[k->xbuf[x]] = (Fact){0, 0};
}


/* K_CAUSAL_OUT: C only ever read at j <= i */
static bool out_causal(const KGraph *kg, int ki) {
    const Kernel *k = &kg->kern[ki];
    int c = k->out;
    if (kg->bufs[c].kind != KB_TEMP)
        return false;
    for (int r = 0; r < kg->nres; r++)
        if (kg->res[r].buf == c)
            return false;
    int64_t M = k->type.dim[1].c, N = k->type.dim[2].c;
    bool read = false;
    for (int j = ki + 1; j < kg->nkern; j++) {
        const Kernel *q = &kg->kern[j];
        if (k_reads(q, c)) {
            int64_t T, S;
            if (q->kind != KK_ROW || !q->causal || !const_tile(&q->pro, &T, &S) || T != M || S != N)
                return false;
            for (int a = 0; a < q->nargs; a++) {
                const KArg *ar = &q->args[a];
                int64_t t, s;
                if (ar->kind != KA_VAL && ar->ref == c &&
                    (ar->kind != KA_BUF || !const_tile(&ar->type, &t, &s) || t != T || s != S))
                    return false;
            }
            read = true;
        }
        if (k_writes(q, c))
            break;
    }
    return read;
}

/* K_CAUSAL_ROW_BAND: the row kernel ki's result is read, until a kernel writes its buffer over
 * without reading it, only by causal row kernels (per element, as [..., T, S]; one written in place
 * over it carries the band on) and as A of products marked causal a / a^T: none reads row i past
 * i rounded up to NNC_CAUSAL_BLOCK (runtime/bmm.c's blocks; at most NNC_CAUSAL_NBLOCKS of them) */
static bool band_readers(const KGraph *kg, int ki, int64_t T, int64_t S) {
    int b = kg->kern[ki].out;
    if (kg->bufs[b].kind != KB_TEMP || T > (int64_t)NNC_CAUSAL_BLOCK * NNC_CAUSAL_NBLOCKS)
        return false;
    for (int r = 0; r < kg->nres; r++)
        if (kg->res[r].buf == b || kg->res[r].stage == b)
            return false;
    for (int j = ki + 1; j < kg->nkern; j++) {
        const Kernel *q = &kg->kern[j];
        bool rd = k_reads(q, b);
        for (int a = 0; rd && a < q->nargs; a++) {
            const KArg *ar = &q->args[a];
            int64_t t, s;
            if (ar->kind == KA_VAL || ar->ref != b)
                continue;
            if (q->kind == KK_ROW && q->causal) {
                if (ar->kind != KA_BUF || !const_tile(&ar->type, &t, &s) || t != T || s != S)
                    return false;
            } else if (q->kind == KK_GEMM && (q->causal == K_CAUSAL_A || q->causal == K_CAUSAL_AT)) {
                if (a != 0 || ar->type.rank != 3 || !const_tile(&ar->type, &t, &s) || t != T || s != S)
                    return false;
            } else {
                return false;
            }
        }
        if (k_writes(q, b)) {
            if (!rd)
                break;          /* written over: the band's garbage is gone */
            if (q->kind != KK_ROW || q->causal != K_CAUSAL_ROW_IN_PLACE)
                return false;   /* (a causal row storing all its zeros would do too; not needed) */
        }
    }
    return true;
}

void causal_in_place(KGraph *kg) {
    Fact *fact = calloc((size_t)kg->nbufs + 1, sizeof *fact);
    if (!fact)
        die("out of memory");
    for (int i = 0; i < kg->nkern; i++) {
        Kernel *k = &kg->kern[i];
        int64_t T, S;
        if (k->kind == KK_ROW && k->causal && const_tile(&k->pro, &T, &S))
            for (int a = 0; a < k->nargs; a++)
                if (k->args[a].ref == k->out && zero_read(fact, &k->args[a], T, S))
                    k->causal = K_CAUSAL_ROW_IN_PLACE;
        note_writes(k, fact);
    }
    free(fact);
    for (int i = 0; i < kg->nkern; i++) {
        Kernel *k = &kg->kern[i];
        int64_t T, S;
        if (k->kind == KK_ROW && k->causal == K_CAUSAL_ROW && const_tile(&k->pro, &T, &S) && band_readers(kg, i, T, S))
            k->causal = K_CAUSAL_ROW_BAND;
    }
}

void causal_kernels(KGraph *kg) {
    Fact *fact = calloc((size_t)kg->nbufs + 1, sizeof *fact);
    if (!fact)
        die("out of memory");
    for (int i = 0; i < kg->nkern; i++) {   /* the row kernels, in order (one reads another's zeros) */
        Kernel *k = &kg->kern[i];
        k->causal = row_causal(kg, k, fact) ? K_CAUSAL_ROW : 0;
        note_writes(k, fact);
    }
    for (int b = 0; b < kg->nbufs; b++)
        fact[b] = (Fact){0, 0};
    for (int i = 0; i < kg->nkern; i++) {   /* the products, with the facts as they stand at each */
        Kernel *k = &kg->kern[i];
        if (k->kind == KK_GEMM && k->type.rank == 3 && !k->acc && !k->nbody && k->nargs >= 2 &&
            k->type.dim[1].a == 0 && k->type.dim[2].a == 0) {
            const KArg *A = &k->args[0];
            int64_t t, s;
            bool ta = k->attr.i[0] != 0;
            bool az = A->kind == KA_BUF && A->type.rank == 3 && fact[A->ref].T && const_tile(&A->type, &t, &s) &&
                      t == fact[A->ref].T && s == fact[A->ref].S;
            if (az && !ta && t == k->type.dim[1].c)
                k->causal = K_CAUSAL_A;
            else if (az && ta && s == k->type.dim[1].c)
                k->causal = K_CAUSAL_AT;
            else if (out_causal(kg, i))
                k->causal = K_CAUSAL_OUT;
        }
        note_writes(k, fact);
    }
    free(fact);
}
