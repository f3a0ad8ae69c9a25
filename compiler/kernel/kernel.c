/* kernel.c - the kernel IR core: builders, sizes as polynomials in B, the text form (`nnc --emit kernels`,
 * `nnc --emit plan`, the signatures backends use to emit equal kernels once) and the verifier.
 * docs/kernels.md is the reference for the rules k_verify checks.
 */
#include "kernel.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

const char *const k_class_name[KC__COUNT] = {"param", "state", "activation", "scratch"};

static const char *const kind_name[] = {"elem", "fill", "op", "gemm", "conv", "row", "allreduce"};
static const char *const buf_kind_name[] = {"arg", "global", "temp"};
static const char *const hyper_name[] = {"lr", "step", "total_steps", "batch"};

int k_buf(Arena *a, KGraph *g, KBuf b) {
    *ARENA_PUSH(a, g->bufs, g->nbufs, g->capbufs) = b;
    return g->nbufs - 1;
}

int k_val(Arena *a, KGraph *g, KExpr e) {
    *ARENA_PUSH(a, g->vals, g->nvals, g->capvals) = e;
    return g->nvals - 1;
}

Kernel *k_kernel(Arena *a, KGraph *g, Kernel k) {
    Kernel *p = ARENA_PUSH(a, g->kern, g->nkern, g->capkern);
    *p = k;
    return p;
}


bool k_row_reduce(const KExpr *e) { return e->kind == KE_OP && (e->op == OP_SUM || e->op == OP_RMAX); }

bool k_reads_rows_cols(const Kernel *k) {
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind == KA_ROW || k->args[a].kind == KA_COL || k->args[a].kind == KA_WIN)
            return true;
    return false;
}

bool k_reads(const Kernel *k, int b) {
    for (int a = 0; a < k->nargs; a++)
        if (k->args[a].kind != KA_VAL && k->args[a].ref == b)
            return true;
    return false;
}

bool k_writes(const Kernel *k, int b) {
    if (k->out == b)
        return true;
    for (int x = 0; x < k->nx; x++)
        if (k->xbuf[x] == b)
            return true;
    return false;
}

bool kg_is_result(const KGraph *g, int b) {
    for (int r = 0; r < g->nres; r++)
        if (g->res[r].buf == b || g->res[r].stage == b)
            return true;
    return false;
}

bool k_is_pool(const Kernel *k) {
    return k->kind == KK_OP && (k->op == OP_MAXPOOL || k->op == OP_AVGPOOL || k->op == OP_MAXPOOL_BWD ||
                                k->op == OP_AVGPOOL_BWD);
}

void k_row_need(const Kernel *k, const uint8_t *lv, int from, uint8_t *need) {
    need[from] = 1;
    for (int e = from; e >= 0; e--) {
        const KExpr *x = &k->body[e];
        if (!need[e] || (e != from && lv[e]) || x->kind != KE_OP)
            continue;
        for (int q = 0; q < (k_row_reduce(x) ? 1 : ir_op_nsrc[x->op]); q++)
            if (!lv[x->src[q]])
                need[x->src[q]] = 1;
    }
}

bool k_row_per_element(const Kernel *k, const IrType *t) {
    KSize a = k_bytes(t), b = k_bytes(&k->pro);
    int64_t sa = ir_dtype_size(t->dtype), sb = ir_dtype_size(k->pro.dtype);
    return a.b2 * sb == b.b2 * sa && a.b * sb == b.b * sa && a.c * sb == b.c * sa;
}

void k_row_levels(const Kernel *k, uint8_t *lv) {
    for (int e = 0; e < k->nbody; e++) {
        const KExpr *x = &k->body[e];
        if (x->kind == KE_ARG) {
            KArgKind ak = x->ref >= 0 && x->ref < k->nargs ? k->args[x->ref].kind : KA_BUF;
            lv[e] = ak == KA_ROW || ak == KA_VAL || ak == KA_BUF0;
        } else if (k_row_reduce(x)) {
            lv[e] = 1;
        } else {
            lv[e] = 1;
            for (int s = 0; x->kind == KE_OP && x->op < OP__COUNT && s < ir_op_nsrc[x->op]; s++)
                lv[e] &= x->src[s] < (uint32_t)e ? lv[x->src[s]] : 0;
        }
    }
}

KSize k_bytes(const IrType *t) {
    KSize n = {0, 0, ir_dtype_size(t->dtype)};
    for (int k = 0; k < t->rank; k++) {
        Dim d = t->dim[k];      /* (b2 B^2 + b B + c)(a B + c') */
        if (d.a && n.b2)
            return (KSize){-1, -1, -1};
        n = (KSize){n.b2 * d.c + n.b * d.a, n.b * d.c + n.c * d.a, n.c * d.c};
    }
    return n;
}

KSize k_buf_bytes(const KBuf *b) {
    KSize n = k_bytes(&b->type);
    if (b->bf16 && n.b2 >= 0)   /* an f32 buffer (4 bytes an element) stored in 2 */
        n = (KSize){n.b2 / 2, n.b / 2, n.c / 2};
    return n;
}

/* Rounded up to 64, and never below 0: a size like 4*B - 100 (a slice without its first rows)
 * becomes 64*B + 0, which covers it for every B >= 0, so offsets never go negative. */
static int64_t up64(int64_t x) { return x <= 0 ? 0 : (x + 63) & ~(int64_t)63; }
KSize k_align(KSize d) { return (KSize){up64(d.b2), up64(d.b), up64(d.c)}; }
static int64_t max64(int64_t x, int64_t y) { return x > y ? x : y; }
KSize k_size_max(KSize x, KSize y) { return (KSize){max64(x.b2, y.b2), max64(x.b, y.b), max64(x.c, y.c)}; }
KSize k_size_add(KSize x, KSize y) { return (KSize){x.b2 + y.b2, x.b + y.b, x.c + y.c}; }
bool k_size_le(KSize x, KSize y) { return x.b2 <= y.b2 && x.b <= y.b && x.c <= y.c; }

void k_size_print(FILE *out, KSize d) {
    if (d.b2)
        fprintf(out, "%lld*B^2 + ", (long long)d.b2);
    fprintf(out, "%lld*B + %lld", (long long)d.b, (long long)d.c);
}

/* ---- text form ---- */

/* Kernels and expressions are written into a growing buffer, not through stdio: every kernel's
 * signature is its text (the backends key their functions by it), tens of thousands of small
 * fprintf calls per model. The text is the one --emit kernels prints. */
typedef struct Txt {
    char *p;
    size_t n, cap;
    char own[1024];     /* the first KiB: no allocation for most kernels */
} Txt;

static void t_init(Txt *t) {
    t->p = t->own;
    t->n = 0;
    t->cap = sizeof t->own;
}

static void t_free(Txt *t) {
    if (t->p != t->own)
        free(t->p);
}

static void t_mem(Txt *t, const char *s, size_t n) {
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap * 2;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *q = t->p == t->own ? malloc(cap) : realloc(t->p, cap);
        if (!q)
            die("out of memory");
        if (t->p == t->own)
            memcpy(q, t->own, t->n);
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = 0;
}

static void t_str(Txt *t, const char *s) { t_mem(t, s, strlen(s)); }
static void t_chr(Txt *t, char c) { t_mem(t, &c, 1); }

static void t_int(Txt *t, long long v) {    /* %lld, %d */
    char b[24], *e = b + sizeof b, *q = e;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    t_mem(t, q, (size_t)(e - q));
}

static void t_type(Txt *t, const IrType *ty) {  /* ir_type_print */
    char b[256];
    ir_type_fmt(b, sizeof b, ty);
    t_str(t, b);
}

static void t_flush(Txt *t, FILE *out) {
    fwrite(t->p, 1, t->n, out);
    t->n = 0;
}

static void arg_text(Txt *t, const KArg *a, bool sig) {
    static const char *const how[] = {"buf", "buf0", "val", "row", "col", "tile", "win"};
    if (sig) {  /* a window's start is not part of the function (the caller offsets the pointer) */
        if (a->kind == KA_WIN) {
            t_str(t, "win/");
            t_int(t, (long long)a->wstride);
        } else {
            t_str(t, how[a->kind]);
        }
        t_chr(t, ' ');
    } else {
        t_str(t, a->kind == KA_VAL ? "$v" : "%b");
        t_int(t, a->ref);
    }
    if (!sig && a->kind == KA_WIN) {
        t_str(t, "[win ");
        t_int(t, (long long)a->wstart);
        t_chr(t, '/');
        t_int(t, (long long)a->wstride);
        t_chr(t, ']');
    } else if (!sig && a->kind >= KA_BUF0 && a->kind != KA_VAL) {
        t_str(t, a->kind == KA_BUF0 ? "[0]" : a->kind == KA_ROW ? "[row]" : a->kind == KA_TILE ? "[tile]" : "[col]");
    }
    t_str(t, " : ");
    t_type(t, &a->type);
}

static void attr_text(Txt *t, const IrAttr *at) {
    if (at->ni == 0)
        return;
    t_str(t, " {i=[");
    for (int k = 0; k < at->ni; k++) {
        if (k)
            t_chr(t, ',');
        t_int(t, (long long)at->i[k]);
    }
    t_str(t, "]}");
}

static void expr_text(Txt *t, const KExpr *e, const char *pfx) {
    switch (e->kind) {
    case KE_ARG:
        t_str(t, "arg ");
        t_int(t, e->ref);
        break;
    case KE_CONST: {
        char b[40];
        ir_fmt_double(b, sizeof b, e->f);
        t_str(t, "const ");
        t_str(t, b);
        break;
    }
    case KE_HYPER:
        t_str(t, "hyper ");
        t_str(t, e->ref >= 0 && e->ref <= HY_BATCH ? hyper_name[e->ref] : "?");
        break;
    case KE_OP:
        t_str(t, e->op < OP__COUNT ? ir_op_name[e->op] : "?");
        for (int s = 0; s < (e->op < OP__COUNT ? ir_op_nsrc[e->op] : 0); s++) {
            t_str(t, s ? ", " : " ");
            t_str(t, pfx);
            t_int(t, (long long)e->src[s]);
        }
        break;
    }
    t_str(t, " : ");
    t_str(t, ir_dtype_name(e->dt));
}

/* gemm_view.c's view of operand a of batched gemm k: [P, rows, cols] with P = a'B (no constant), its
 * products' groups of h (h divides a') within a buffer of type bt: the last element read,
 * off + (P/h - 1) sb + (h - 1) sh + (rows - 1) ld + cols - 1, below bt's size for every B >= 1, and
 * a product's rows do not overlap (ld >= cols) */
static bool view_fits(const Kernel *k, int a, const IrType *bt) {
    const KView *v = &k->view[a];
    const IrType *o = a == 2 ? &k->type : &k->args[a].type;
    if (k->type.rank != 3 || o->rank != 3 || o->dim[0].c != 0 || o->dim[0].a <= 0 || o->dim[1].a || o->dim[2].a ||
        v->h < 1 || o->dim[0].a % v->h || v->off < 0 || v->sb < 0 || v->sh < 0 || v->ld < o->dim[2].c)
        return false;
    int64_t na = 1, nc = 1;     /* bt's size n(B) = na B + nc when B is in one dim */
    int withb = 0;
    for (int d = 0; d < bt->rank; d++) {
        if (bt->dim[d].a) {
            if (bt->dim[d].c || withb++)
                return false;
            na = bt->dim[d].a;
        } else {
            nc *= bt->dim[d].c;
        }
    }
    /* last(B) = off + (a' B / h - 1) sb + (h - 1) sh + (rows - 1) ld + cols - 1 < na nc B (B in a dim) */
    int64_t la = o->dim[0].a / v->h * v->sb;
    int64_t lc = v->off - v->sb + (v->h - 1) * v->sh + (o->dim[1].c - 1) * v->ld + o->dim[2].c - 1;
    if (!withb)
        return la == 0 && lc < nc;
    return la <= na * nc && la + lc < na * nc;
}

static void kernel_text(Txt *t, const Kernel *k, bool sig) {
    if (!sig) {
        t_str(t, "%b");
        t_int(t, k->out);
        t_str(t, " = ");
    }
    t_str(t, kind_name[k->kind]);
    if (k->kind == KK_OP || k->kind == KK_GEMM || k->kind == KK_CONV) {
        t_chr(t, ' ');
        t_str(t, k->op < OP__COUNT ? ir_op_name[k->op] : "?");
    }
    t_chr(t, ' ');
    t_type(t, &k->type);
    t_str(t, " (");
    for (int a = 0; a < k->nargs; a++) {
        if (a)
            t_str(t, ", ");
        if (sig && k->args[a].kind != KA_VAL && k->args[a].ref == k->out)
            t_str(t, "out ");   /* read in place: a different function of the pointers */
        for (int x = 0; sig && x < k->nx; x++)
            if (k->args[a].kind != KA_VAL && k->args[a].ref == k->xbuf[x]) {
                t_str(t, "out");
                t_int(t, x + 1);
                t_chr(t, ' ');
            }
        arg_text(t, &k->args[a], sig);
    }
    t_chr(t, ')');
    if (k->kind == KK_OP || k->kind == KK_GEMM || k->kind == KK_CONV)
        attr_text(t, &k->attr);
    if (k->acc)     /* C += the product: a kept buffer, zeros on entry */
        t_str(t, " acc");
    if (k->causal && k->kind == KK_GEMM)    /* causal.c: the triangle above the diagonal skipped */
        t_str(t, k->causal == K_CAUSAL_OUT ? " causal out" : k->causal == K_CAUSAL_A ? " causal a" : " causal a^T");
    for (int s = 0; s < 3 && k->kind == KK_GEMM; s++)     /* gemm_view.c: an operand read in place */
        if (k->view[s].h > 0) {
            const int64_t *f[5] = {&k->view[s].h, &k->view[s].off, &k->view[s].sb, &k->view[s].sh, &k->view[s].ld};
            t_str(t, s == 2 ? " view c(" : s ? " view b(" : " view a(");
            for (int q = 0; q < 5; q++) {
                if (q)
                    t_str(t, ", ");
                t_int(t, *f[q]);
            }
            t_chr(t, ')');
        }
    if (k->kind == KK_ALLREDUCE && k->nx) {     /* results 1.. (result 0 is out) */
        t_str(t, " ->");
        for (int x = 0; x < k->nx; x++) {
            bool own = k->args[x + 1].ref == k->xbuf[x];
            if (sig) {
                t_chr(t, ' ');
                t_str(t, own ? "in place" : "out");
            } else {
                t_str(t, x ? ", %b" : " %b");
                t_int(t, k->xbuf[x]);
            }
        }
    }
    if (k->kind == KK_CONV && k->nx == 1) {     /* its im2col scratch */
        t_str(t, " scratch ");
        if (!sig) {
            t_str(t, "%b");
            t_int(t, k->xbuf[0]);
            t_chr(t, ' ');
        }
        t_str(t, ": ");
        t_type(t, &k->pro);
    }
    if ((k->kind == KK_OP && k->nbody) || k->kind == KK_ROW) {
        t_str(t, " of ");
        t_type(t, &k->pro);
    }
    if (k->causal && k->kind == KK_ROW)
        t_str(t, k->causal == K_CAUSAL_ROW_IN_PLACE ? " causal in place" : k->causal == K_CAUSAL_ROW_BAND ? " causal band" : " causal");
    if (k->nbody == 0)
        return;
    t_str(t, " {");
    for (int e = 0; e < k->nbody; e++) {
        t_str(t, sig ? " %" : "\n    %");
        t_int(t, e);
        t_str(t, " = ");
        expr_text(t, &k->body[e], "%");
        if (sig)
            t_chr(t, ';');
    }
    for (int x = 0; x < k->nx && k->kind != KK_CONV; x++) {   /* (a conv's is its scratch) */
        const char *per = k->kind == KK_ROW && k->xrow && k->xrow[x] ? "[row]" : "";
        if (sig) {
            t_str(t, " out");
            t_int(t, x + 1);
            t_str(t, per);
            t_str(t, " = %");
            t_int(t, k->xexpr[x]);
            t_chr(t, ';');
        } else {
            t_str(t, "\n    %b");
            t_int(t, k->xbuf[x]);
            t_str(t, per);
            t_str(t, " = %");
            t_int(t, k->xexpr[x]);
        }
    }
    t_str(t, sig ? " }" : "\n  }");
}

void k_kernel_sig(FILE *out, const Kernel *k) {
    Txt t;
    t_init(&t);
    kernel_text(&t, k, true);
    t_flush(&t, out);
    t_free(&t);
}

char *k_kernel_sig_str(Arena *a, const Kernel *k) {
    Txt t;
    t_init(&t);
    kernel_text(&t, k, true);
    char *s = arena_strndup(a, t.p, t.n);
    t_free(&t);
    return s;
}

static void buf_text(FILE *out, const KGraph *g, int b) {
    const KBuf *bf = &g->bufs[b];
    fprintf(out, "  buf %%b%d %s", b, buf_kind_name[bf->kind]);
    if (bf->kind == KB_ARG)
        fprintf(out, " %d", bf->tensor);
    fputc(' ', out);
    ir_type_print(out, &bf->type);
    if (g->planned && bf->kind == KB_TEMP && bf->first < 0) {
        fputs(" unused", out);
    } else if (g->planned && bf->kind == KB_TEMP && bf->kept) {
        fprintf(out, " kept live %d..%d", bf->first, bf->last);
    } else if (g->planned && bf->kind == KB_TEMP) {
        fprintf(out, " %s @ ", k_class_name[bf->cls]);
        k_size_print(out, bf->off);
        fprintf(out, " live %d..%d", bf->first, bf->last);
        if (bf->bf16)
            fputs(" bf16", out);
        if (bf->within) {   /* a concat's piece, in its result's bytes (plan.c concat_places) */
            fprintf(out, " in %%b%d at ", bf->within - 1);
            k_size_print(out, bf->at);
        }
    }
    fputc('\n', out);
}

void k_graph_print(FILE *out, const KGraph *g) {
    fprintf(out, "kernels %s {\n", g->name);
    for (int b = 0; b < g->nbufs; b++)
        buf_text(out, g, b);
    Txt t;
    t_init(&t);
    for (int v = 0; v < g->nvals; v++) {
        fprintf(out, "  val $v%d = ", v);
        expr_text(&t, &g->vals[v], "$v");
        t_chr(&t, '\n');
        t_flush(&t, out);
    }
    for (int k = 0; k < g->nkern; k++) {
        fprintf(out, "  k%d ", k);
        kernel_text(&t, &g->kern[k], false);
        t_chr(&t, '\n');
        t_flush(&t, out);
    }
    t_free(&t);
    static const char *const rk[] = {"output", "loss", "update"};
    for (int r = 0; r < g->nres; r++) {
        const KRes *res = &g->res[r];
        fprintf(out, "  %s %d = %%b%d", rk[res->kind], res->index, res->buf);
        if (res->stage >= 0)
            fprintf(out, " staged %%b%d", res->stage);
        if (res->direct)
            fputs(" in place", out);
        fputc('\n', out);
    }
    fputs("}\n", out);
}

static int graphs_of(const KModule *km, const KGraph **gs) {
    int n = 0;
    if (km->forward)
        gs[n++] = km->forward;
    if (km->evaluate)
        gs[n++] = km->evaluate;
    for (int s = 0; s < km->nsteps; s++)
        gs[n++] = km->steps[s];
    return n;
}

void k_module_print(FILE *out, const KModule *km) {
    const KGraph **gs = malloc(sizeof *gs * (size_t)(km->nsteps + 2));
    if (!gs)
        die("out of memory");
    int n = graphs_of(km, gs);
    for (int k = 0; k < n; k++)
        k_graph_print(out, gs[k]);
    free(gs);
}

void k_plan_print(FILE *out, const KModule *km) {
    const KGraph **gs = malloc(sizeof *gs * (size_t)(km->nsteps + 2));
    if (!gs)
        die("out of memory");
    int n = graphs_of(km, gs);
    for (int k = 0; k < n; k++) {
        const KGraph *g = gs[k];
        int ntemp = 0;
        for (int b = 0; b < g->nbufs; b++)
            ntemp += g->bufs[b].kind == KB_TEMP && g->bufs[b].first >= 0;
        fprintf(out, "plan %s: %d kernels, %d temporaries\n", g->name, g->nkern, ntemp);
        for (int b = 0; b < g->nbufs; b++) {
            const KBuf *bf = &g->bufs[b];
            if (bf->kind != KB_TEMP || bf->first < 0)
                continue;
            fprintf(out, "  %%b%-5d %-10s ", b, bf->kept ? "kept" : k_class_name[bf->cls]);
            if (bf->kept)
                fputs("(own)", out);
            else
                k_size_print(out, bf->off);
            fputs("  size ", out);
            k_size_print(out, k_buf_bytes(bf));
            fprintf(out, "  live k%d..k%d  ", bf->first, bf->last);
            ir_type_print(out, &bf->type);
            if (bf->bf16)
                fputs("  bf16", out);
            if (bf->within) {
                fprintf(out, "  in %%b%d at ", bf->within - 1);
                k_size_print(out, bf->at);
            }
            fputc('\n', out);
        }
        for (int c = KC_ACT; c < KC__COUNT; c++) {
            fprintf(out, "  slab %s ", k_class_name[c]);
            k_size_print(out, g->slab[c]);
            fputc('\n', out);
        }
        int inplace = 0, copies = 0;
        for (int r = 0; r < g->nres; r++)
            if (g->res[r].kind == KR_UPDATE)
                g->res[r].direct ? inplace++ : copies++;
        if (inplace + copies)
            fprintf(out, "  updates: %d in place, %d copied\n", inplace, copies);
    }
    for (int c = 0; c < KC__COUNT; c++) {
        fprintf(out, "total %s ", k_class_name[c]);
        k_size_print(out, km->bytes[c]);
        fputc('\n', out);
    }
    fputs("total workspace ", out);
    k_size_print(out, km->workspace);
    fputc('\n', out);
    if (km->kept.c) {
        fputs("total kept ", out);
        k_size_print(out, km->kept);
        fputc('\n', out);
    }
    free(gs);
}

char *k_module_desc(Arena *a, const KModule *km) {
    const char *ir = ir_module_desc(a, km->m);
    size_t n = strlen(ir);
    if (n < 4 || strcmp(ir + n - 4, "end\n"))
        die("the descriptor does not end in 'end'");
    char *s = arena_printf(a, "%.*s", (int)(n - 4), ir);
    for (int c = 0; c < KC__COUNT; c++)
        s = km->bytes[c].b2 ? arena_printf(a, "%splan %s %lld %lld %lld\n", s, k_class_name[c], (long long)km->bytes[c].b,
                                           (long long)km->bytes[c].c, (long long)km->bytes[c].b2)
                            : arena_printf(a, "%splan %s %lld %lld\n", s, k_class_name[c], (long long)km->bytes[c].b,
                                           (long long)km->bytes[c].c);
    return arena_printf(a, "%send\n", s);
}

/* ---- the verifier ---- */

typedef struct V { const KGraph *g; FILE *err; int bad; } V;

static void fail(V *v, const char *where, int idx, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(V *v, const char *where, int idx, const char *fmt, ...) {
    fprintf(v->err, "kernels %s: %s%d: ", v->g->name, where, idx);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(v->err, fmt, ap);
    va_end(ap);
    fputc('\n', v->err);
    v->bad = 1;
}

static bool numel_eq(const IrType *x, const IrType *y) {
    KSize a = k_bytes(x), b = k_bytes(y);
    int64_t sx = ir_dtype_size(x->dtype), sy = ir_dtype_size(y->dtype);
    return a.b2 * sy == b.b2 * sx && a.b * sy == b.b * sx && a.c * sy == b.c * sx;
}

static bool one_elem(const IrType *t) {
    for (int k = 0; k < t->rank; k++)
        if (t->dim[k].a != 0 || t->dim[k].c != 1)
            return false;
    return true;
}

/* An instruction list: operands earlier, F_ELEM ops with their arity (and in a row kernel's body,
 * rows: sum and rmax of one operand of their own dtype, not bool). args < 0: values program. */
static void check_exprs(V *v, const char *where, int idx, const KExpr *e, int n, int nargs, bool rows) {
    for (int i = 0; i < n; i++) {
        const KExpr *x = &e[i];
        if (x->kind == KE_ARG && (nargs < 0 || x->ref < 0 || x->ref >= nargs))
            fail(v, where, idx, "instruction %d reads argument %d of %d", i, x->ref, nargs < 0 ? 0 : nargs);
        if ((x->kind == KE_CONST || x->kind == KE_HYPER) && nargs >= 0)
            fail(v, where, idx, "instruction %d: %s belongs in the values, not a kernel body", i,
                 x->kind == KE_CONST ? "const" : "hyper");
        if (x->kind == KE_HYPER && (x->ref < HY_LR || x->ref > HY_BATCH))
            fail(v, where, idx, "instruction %d: no hyper-parameter %d", i, x->ref);
        if (x->kind != KE_OP)
            continue;
        if (rows && k_row_reduce(x)) {
            if (x->src[0] >= (uint32_t)i)
                fail(v, where, idx, "instruction %d (%s) uses %%%u, not defined before it", i, ir_op_name[x->op], x->src[0]);
            else if (x->dt == DT_BOOL || e[x->src[0]].dt != x->dt || x->sdt != x->dt)
                fail(v, where, idx, "instruction %d: a row %s of %s gives %s", i, ir_op_name[x->op],
                     ir_dtype_name(e[x->src[0]].dt), ir_dtype_name(x->dt));
            continue;
        }
        if (x->op >= OP__COUNT || !(ir_op_flags[x->op] & F_ELEM)) {
            fail(v, where, idx, "instruction %d: op %d is not elementwise", i, x->op);
            continue;
        }
        for (int s = 0; s < ir_op_nsrc[x->op]; s++)
            if (x->src[s] >= (uint32_t)i)
                fail(v, where, idx, "instruction %d (%s) uses %%%u, not defined before it", i,
                     ir_op_name[x->op], x->src[s]);
    }
}

typedef struct TempRef { int first, buf; KSize end; } TempRef;

static int by_first(const void *x, const void *y) {
    const TempRef *a = x, *b = y;
    return a->first != b->first ? (a->first > b->first) - (a->first < b->first) : (a->buf > b->buf) - (a->buf < b->buf);
}


/* A concat of any number of operands: one dtype and rank, the dims off the axis equal to the
 * result's, the extents along it summing to the result's; NULL when it holds. */
static const char *concat_check(const Kernel *k) {
    int64_t ax = k->attr.i[0];
    const IrType *t = &k->type;
    if (ax < 0 || ax >= t->rank)
        return "bad axis";
    Dim sum = {0, 0};
    for (int a = 0; a < k->nargs; a++) {
        const IrType *s = &k->args[a].type;
        if (k->args[a].kind != KA_BUF || s->dtype != t->dtype || s->rank != t->rank)
            return "an operand is no buffer of the result's dtype and rank";
        for (int d = 0; d < t->rank; d++)
            if (d != ax && (s->dim[d].a != t->dim[d].a || s->dim[d].c != t->dim[d].c))
                return "the dims off the axis differ";
        sum.a += s->dim[ax].a;
        sum.c += s->dim[ax].c;
    }
    return sum.a == t->dim[ax].a && sum.c == t->dim[ax].c ? NULL : "the extents do not add up to the result's";
}

int k_verify(const KGraph *g, FILE *err) {
    V v = {g, err, 0};
    check_exprs(&v, "value $v", 0, g->vals, g->nvals, -1, false);
    int *written = calloc((size_t)g->nbufs + 1, sizeof(int));
    if (!written)
        die("out of memory");
    for (int b = 0; b < g->nbufs; b++)
        written[b] = g->bufs[b].kind == KB_TEMP ? -1 : 0;   /* -1: not yet written */
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (k->out < 0 || k->out >= g->nbufs) {
            fail(&v, "k", i, "writes buffer %d of %d", k->out, g->nbufs);
            continue;
        }
        const KBuf *ob = &g->bufs[k->out];
        if (ob->kind == KB_GLOBAL)
            fail(&v, "k", i, "writes the constant %%b%d", k->out);
        for (int x = 0; x < k->nx; x++) {
            int xb = k->xbuf[x];
            if (k->kind == KK_ALLREDUCE) {  /* result x+1: argument x+1's buffer, or a fresh f32 temporary */
                const KArg *ar = x + 1 < k->nargs ? &k->args[x + 1] : NULL;
                if (!ar || xb < 0 || xb >= g->nbufs || xb == k->out || g->bufs[xb].type.dtype != DT_F32 ||
                    (xb != ar->ref && (g->bufs[xb].kind != KB_TEMP || written[xb] == 1)) ||
                    !numel_eq(&g->bufs[xb].type, &ar->type))
                    fail(&v, "k", i, "an allreduce's result %d is neither its argument's buffer nor a fresh f32 "
                         "temporary of its size", x + 1);
                for (int y = 0; y < x; y++)
                    if (k->xbuf[y] == xb)
                        fail(&v, "k", i, "writes %%b%d twice", xb);
                continue;
            }
            if (k->kind == KK_CONV) {   /* the im2col scratch: a temporary of its own */
                if (x > 0 || xb < 0 || xb >= g->nbufs || xb == k->out || g->bufs[xb].kind != KB_TEMP ||
                    written[xb] == 1 || g->bufs[xb].type.dtype != DT_F32 || !numel_eq(&g->bufs[xb].type, &k->pro))
                    fail(&v, "k", i, "a conv kernel's extra output is one f32 scratch temporary of its own");
                continue;
            }
            if ((k->kind != KK_ELEM && k->kind != KK_ROW) || xb < 0 || xb >= g->nbufs || xb == k->out || k->xexpr[x] < 0 ||
                k->xexpr[x] >= k->nbody) {
                fail(&v, "k", i, "extra output %d is not a buffer and an instruction of an elementwise kernel", x);
                continue;
            }
            for (int y = 0; y < x; y++)
                if (k->xbuf[y] == xb)
                    fail(&v, "k", i, "writes %%b%d twice", xb);
            const KBuf *xbb = &g->bufs[xb];
            bool xin_place = false;     /* a row kernel updating it element by element, or an
                                           elementwise one storing zeros over a kept buffer it reads */
            for (int a = 0; (k->kind == KK_ROW || xbb->kept) && a < k->nargs; a++)
                xin_place |= k->args[a].kind == KA_BUF && k->args[a].ref == xb;
            if (xbb->kind == KB_GLOBAL || (xbb->kind == KB_TEMP && written[xb] == 1 && !xin_place))
                fail(&v, "k", i, "extra output %%b%d is a constant or written before", xb);
            if ((k->kind == KK_ELEM && !numel_eq(&xbb->type, &k->type)) || xbb->type.dtype != k->body[k->xexpr[x]].dt)
                fail(&v, "k", i, "extra output %%b%d does not take instruction %%%d exactly", xb, k->xexpr[x]);
        }
        bool in_place = false;  /* an elementwise kernel updating its argument element by element */
        for (int a = 0; a < k->nargs; a++)
            in_place |= (k->kind == KK_ELEM || k->kind == KK_ROW || k->kind == KK_ALLREDUCE) &&
                        k->args[a].kind == KA_BUF && k->args[a].ref == k->out;
        if (ob->kind == KB_TEMP && written[k->out] == 1 && !in_place)
            fail(&v, "k", i, "writes %%b%d, which an earlier kernel wrote", k->out);
        if (!numel_eq(&k->type, &ob->type) || k->type.dtype != ob->type.dtype)
            fail(&v, "k", i, "its result does not fill its buffer %%b%d exactly", k->out);
        for (int s = 0; s < 3; s++)     /* gemm_view.c's views: batched gemms only, C's within its buffer */
            if (k->view[s].h > 0 && (k->kind != KK_GEMM || k->type.rank != 3 || k->acc ||
                                     (s == 2 && !view_fits(k, 2, &ob->type))))
                fail(&v, "k", i, "view %d on a kernel that is not a batched gemm without an accumulator, or outside its buffer", s);
        if (k->acc && (k->kind != KK_GEMM || k->nbody || ob->kind != KB_TEMP || !ob->kept))
            fail(&v, "k", i, "adds into %%b%d, which is not the kept result of a gemm without an epilogue", k->out);
        if (k->causal) {    /* causal.c's marks: a [T, S] tile without B in the last two dims */
            const IrType *tt = k->kind == KK_ROW ? &k->pro : &k->type;
            bool ok = tt->rank >= 2 && tt->dim[tt->rank - 1].a == 0 && tt->dim[tt->rank - 2].a == 0;
            if (k->kind == KK_ROW)
                ok = ok && k->causal >= K_CAUSAL_ROW && k->causal <= K_CAUSAL_ROW_BAND && !k->nx &&
                     k_row_per_element(k, &k->type);
            else if (k->kind == KK_GEMM)
                ok = ok && tt->rank == 3 && !k->acc && k->causal <= K_CAUSAL_AT &&
                     (k->causal != K_CAUSAL_A || !k->attr.i[0]) && (k->causal != K_CAUSAL_AT || k->attr.i[0]);
            else
                ok = false;
            if (!ok)
                fail(&v, "k", i, "is marked causal but is not a batched gemm or a row kernel of one value per element");
        }
        if (!k->acc && ob->kind == KB_TEMP && ob->kept && written[k->out] < 0)
            fail(&v, "k", i, "is the first to write kept buffer %%b%d and does not add into it", k->out);
        /* the kernels with a body: elementwise ones, and reductions with a fused prologue */
        /* a gemm's epilogue body reads the arguments after its two operands, at each element of
         * the gemm's result */
        bool epi = (k->kind == KK_GEMM || (k->kind == KK_CONV && k->op == OP_CONV)) && k->nbody > 0;
        bool body = k->kind == KK_ELEM || k->kind == KK_ROW || (k->kind == KK_OP && k->nbody > 0) || epi;
        const IrType *space = k->kind == KK_OP || k->kind == KK_ROW ? &k->pro : &k->type;
        for (int a = 0; a < k->nargs; a++) {
            const KArg *ar = &k->args[a];
            if (epi && a < 2) {
                if (ar->kind != KA_BUF || ar->ref == k->out)
                    fail(&v, "k", i, "a gemm's operand %d is not a buffer other than its result", a);
                if (ar->ref < 0 || ar->ref >= g->nbufs)
                    fail(&v, "k", i, "argument %d names buffer %d of %d", a, ar->ref, g->nbufs);
                else if (written[ar->ref] < 0)
                    fail(&v, "k", i, "reads %%b%d before any kernel writes it", ar->ref);
                continue;
            }
            if (ar->kind == KA_VAL) {
                if (ar->ref < 0 || ar->ref >= g->nvals)
                    fail(&v, "k", i, "argument %d names value %d of %d", a, ar->ref, g->nvals);
                else if (g->vals[ar->ref].dt != ar->type.dtype)
                    fail(&v, "k", i, "argument %d: value $v%d is not %s", a, ar->ref, ir_dtype_name(ar->type.dtype));
                continue;
            }
            if (ar->ref < 0 || ar->ref >= g->nbufs) {
                fail(&v, "k", i, "argument %d names buffer %d of %d", a, ar->ref, g->nbufs);
                continue;
            }
            const KBuf *ab = &g->bufs[ar->ref];
            if (written[ar->ref] < 0 && !(epi && ar->ref == k->out))     /* an epilogue reads the gemm's product */
                fail(&v, "k", i, "reads %%b%d before any kernel writes it", ar->ref);
            bool view = k->kind == KK_GEMM && a < 2 && k->view[a].h > 0;
            if ((!view && !numel_eq(&ar->type, &ab->type)) || ar->type.dtype != ab->type.dtype)
                fail(&v, "k", i, "argument %d views %%b%d as a type of another size", a, ar->ref);
            if (view && !view_fits(k, a, &ab->type))
                fail(&v, "k", i, "operand %d's view reaches outside %%b%d", a, ar->ref);
            bool own = ar->ref == k->out;
            for (int x = 0; x < k->nx; x++)
                own |= ar->ref == k->xbuf[x];
            if (own && ((k->kind != KK_ELEM && k->kind != KK_ROW && k->kind != KK_ALLREDUCE && !epi) ||
                        ar->kind != KA_BUF))
                fail(&v, "k", i, "reads its own output %%b%d other than element by element", ar->ref);
            if (ar->kind == KA_BUF0 && (!body || !one_elem(&ar->type)))
                fail(&v, "k", i, "argument %d: buf0 needs a kernel with a body and one element", a);
            if (body && ar->kind == KA_BUF && !numel_eq(&ar->type, space))
                fail(&v, "k", i, "argument %d is read at each index but has another size", a);
            if (ar->kind == KA_TILE) {
                bool ok = body && ar->type.rank >= 1 && ar->type.rank <= space->rank;
                for (int d = 0; ok && d < ar->type.rank; d++) {
                    Dim x = ar->type.dim[d], y = space->dim[space->rank - ar->type.rank + d];
                    ok = x.a == 0 && y.a == 0 && x.c == y.c;
                }
                if (!ok)
                    fail(&v, "k", i, "argument %d: a tile broadcast needs a kernel with a body whose last dims are its (no B)", a);
            }
            if (ar->kind == KA_WIN) {
                Dim cols = space->rank >= 1 ? space->dim[space->rank - 1] : (Dim){0, 1};
                if ((k->kind != KK_ELEM && !epi) || space->rank < 1 || cols.a != 0 || ar->wstart < 0 ||
                    ar->wstride < cols.c || ar->wstart % ar->wstride + cols.c > ar->wstride)
                    fail(&v, "k", i, "argument %d: a window needs an elementwise kernel whose rows fit its stride", a);
                else if (!numel_eq(&ar->type, &ab->type))
                    fail(&v, "k", i, "argument %d: a window's type is its buffer's", a);
            }
            if (ar->kind == KA_ROW || ar->kind == KA_COL) {
                IrType want = *space;
                if (!body || want.rank < 1) {
                    fail(&v, "k", i, "argument %d: a row/col broadcast needs an elementwise kernel of rank >= 1", a);
                    continue;
                }
                if (ar->kind == KA_ROW) {
                    want.dim[want.rank - 1] = (Dim){0, 1};
                } else {
                    want.dim[0] = want.dim[want.rank - 1];
                    want.rank = 1;
                }
                want.dtype = ar->type.dtype;
                if (!numel_eq(&ar->type, &want))
                    fail(&v, "k", i, "argument %d: a %s broadcast of the wrong size", a, ar->kind == KA_ROW ? "row" : "col");
            }
        }
        switch (k->kind) {
        case KK_ELEM:
            if (k->nbody < 1)
                fail(&v, "k", i, "an elementwise kernel without a body");
            else if (k->body[k->nbody - 1].dt != k->type.dtype)
                fail(&v, "k", i, "its body gives %s, its result is %s",
                     ir_dtype_name(k->body[k->nbody - 1].dt), ir_dtype_name(k->type.dtype));
            check_exprs(&v, "k", i, k->body, k->nbody, k->nargs, false);
            break;
        case KK_ROW: {
            check_exprs(&v, "k", i, k->body, k->nbody, k->nargs, true);
            if (k->nbody < 1 || k->pro.rank < 1) {
                fail(&v, "k", i, "a row kernel needs a body and an index space of rank >= 1");
                break;
            }
            uint8_t *lv = calloc((size_t)k->nbody, 1);
            if (!lv)
                die("out of memory");
            k_row_levels(k, lv);
            IrType rows = k->pro;
            rows.dim[rows.rank - 1] = (Dim){0, 1};
            rows.dtype = k->type.dtype;
            int last = k->nbody - 1;
            if (k->body[last].dt != k->type.dtype)
                fail(&v, "k", i, "its body gives %s, its result is %s", ir_dtype_name(k->body[last].dt),
                     ir_dtype_name(k->type.dtype));
            /* the result and the extra outputs: one value per element of pro, or per row (then
             * from an instruction that is one value per row) */
            IrType pe = k->pro;
            pe.dtype = k->type.dtype;
            if (numel_eq(&k->type, &rows) ? !lv[last] && !numel_eq(&k->type, &pe) : !numel_eq(&k->type, &pe))
                fail(&v, "k", i, "its result holds neither one value per element nor one per row of its body");
            for (int x = 0; x < k->nx; x++) {
                if (k->xbuf[x] < 0 || k->xbuf[x] >= g->nbufs || k->xexpr[x] < 0 || k->xexpr[x] >= k->nbody)
                    continue;
                const IrType *xt = &g->bufs[k->xbuf[x]].type;
                if (k->xrow && k->xrow[x]) {
                    IrType xr = rows;
                    xr.dtype = xt->dtype;
                    if (!lv[k->xexpr[x]] || !numel_eq(xt, &xr))
                        fail(&v, "k", i, "extra output %%b%d[row] does not hold one value per row", k->xbuf[x]);
                    for (int a = 0; a < k->nargs; a++)
                        if (k->args[a].kind != KA_VAL && k->args[a].ref == k->xbuf[x])
                            fail(&v, "k", i, "reads its per-row output %%b%d", k->xbuf[x]);
                } else if (!k_row_per_element(k, xt)) {
                    fail(&v, "k", i, "extra output %%b%d does not hold one value per element", k->xbuf[x]);
                }
            }
            free(lv);
            break;
        }
        case KK_ALLREDUCE:
            if (k->op != OP_ALLREDUCE || k->nargs != k->nx + 1 || k->type.dtype != DT_F32)
                fail(&v, "k", i, "an allreduce kernel takes one f32 buffer per result");
            for (int a = 0; a < k->nargs; a++) {
                const KArg *ar = &k->args[a];
                if (ar->kind != KA_BUF || ar->type.dtype != DT_F32 || (a == 0 && !numel_eq(&ar->type, &k->type)))
                    fail(&v, "k", i, "allreduce argument %d is not an f32 buffer of its result's size", a);
                for (int x = 0; a > 0 && x < k->nx; x++)
                    if (x + 1 != a && k->xbuf[x] == ar->ref)
                        fail(&v, "k", i, "allreduce argument %d is another of its results", a);
            }
            break;
        case KK_FILL:
            if (k->nargs != 1 || k->args[0].kind != KA_VAL || k->args[0].type.dtype != k->type.dtype)
                fail(&v, "k", i, "a fill takes one value of its result's dtype");
            break;
        case KK_OP:
        case KK_GEMM:
        case KK_CONV: {
            bool conv = k->op == OP_CONV || k->op == OP_CONV_BWD_DATA || k->op == OP_CONV_BWD_FILTER;
            if (k->op >= OP__COUNT || (ir_op_flags[k->op] & F_ELEM) ||
                (k->kind == KK_GEMM) != (k->op == OP_MATMUL) || (k->kind == KK_CONV) != conv) {
                fail(&v, "k", i, "op %s cannot be a %s kernel", k->op < OP__COUNT ? ir_op_name[k->op] : "?",
                     kind_name[k->kind]);
                break;
            }
            if (epi) {              /* the elementwise epilogue of a gemm */
                check_exprs(&v, "k", i, k->body, k->nbody, k->nargs, false);
                for (int q = 0; q < k->nbody; q++)
                    if (k->body[q].kind == KE_ARG && k->body[q].ref < 2)
                        fail(&v, "k", i, "its epilogue reads operand %d of the gemm", k->body[q].ref);
                if (k->body[k->nbody - 1].dt != k->type.dtype)
                    fail(&v, "k", i, "its epilogue gives %s, its result is %s", ir_dtype_name(k->body[k->nbody - 1].dt),
                         ir_dtype_name(k->type.dtype));
            } else if (k->nbody > 0) {     /* a reduction of its body */
                if (k->kind != KK_OP || (k->op != OP_SUM && k->op != OP_RMAX && k->op != OP_MAXPOOL &&
                                         k->op != OP_AVGPOOL)) {
                    fail(&v, "k", i, "only sum, rmax, maxpool and avgpool kernels may have a body");
                    break;
                }
                check_exprs(&v, "k", i, k->body, k->nbody, k->nargs, false);
                if (k->body[k->nbody - 1].dt != k->pro.dtype)
                    fail(&v, "k", i, "its body gives %s, the reduced operand is %s",
                         ir_dtype_name(k->body[k->nbody - 1].dt), ir_dtype_name(k->pro.dtype));
                IrType t = k->type;
                const char *msg = ir_shape_rule((Op)k->op, &k->pro, 1, &k->attr, &t);
                if (msg)
                    fail(&v, "k", i, "%s: %s", ir_op_name[k->op], msg);
                else if (!ir_type_eq(&t, &k->type))
                    fail(&v, "k", i, "%s of its body gives another type than the kernel's", ir_op_name[k->op]);
                break;
            }
            if (k->op == OP_CONCAT && !epi && k->nargs > 2) {  /* a flattened chain (fuse) */
                const char *msg = concat_check(k);
                if (msg)
                    fail(&v, "k", i, "concat of %d operands: %s", k->nargs, msg);
                break;
            }
            IrType st[IR_MAXSRC];
            int nops = epi ? 2 : k->nargs;
            bool ok = nops <= IR_MAXSRC;
            for (int a = 0; ok && a < nops; a++) {
                ok = k->args[a].kind == KA_BUF;
                st[a] = k->args[a].type;
            }
            if (!ok) {
                fail(&v, "k", i, "a %s kernel takes at most %d buffers", kind_name[k->kind], IR_MAXSRC);
                break;
            }
            if (k->op == OP_RESHAPE || (ir_op_flags[k->op] & F_SOURCE))
                break;      /* RAND: no operands; RESHAPE: a copy, sizes checked above */
            IrType t = k->type;
            const char *msg = ir_shape_rule((Op)k->op, st, nops, &k->attr, &t);
            if (msg)
                fail(&v, "k", i, "%s: %s", ir_op_name[k->op], msg);
            else if (!ir_type_eq(&t, &k->type))
                fail(&v, "k", i, "%s gives another type than the kernel's", ir_op_name[k->op]);
            break;
        }
        }
        if (ob->kind == KB_TEMP)
            written[k->out] = 1;
        for (int x = 0; x < k->nx; x++)
            if (k->xbuf[x] >= 0 && k->xbuf[x] < g->nbufs && g->bufs[k->xbuf[x]].kind == KB_TEMP)
                written[k->xbuf[x]] = 1;
    }
    for (int r = 0; r < g->nres; r++) {
        const KRes *res = &g->res[r];
        if (res->buf < 0 || res->buf >= g->nbufs) {
            fail(&v, "result ", r, "names buffer %d of %d", res->buf, g->nbufs);
            continue;
        }
        if (written[res->buf] < 0)
            fail(&v, "result ", r, "reads %%b%d, which no kernel writes", res->buf);
        if (res->kind == KR_LOSS && !one_elem(&res->type))
            fail(&v, "result ", r, "a loss must be one element");
        if (res->stage >= 0 && (res->stage >= g->nbufs || g->bufs[res->stage].kind != KB_TEMP))
            fail(&v, "result ", r, "is staged through %%b%d, which is not a temporary", res->stage);
    }
    /* a kept buffer holds zeros between calls: the last kernel touching it stores a constant 0
     * (the last kernel using each buffer, found in one walk: written[] is free again) */
    int *last_use = written;
    for (int b = 0; b < g->nbufs; b++)
        last_use[b] = -1;
    for (int i = 0; i < g->nkern; i++) {
        const Kernel *k = &g->kern[i];
        if (k->out >= 0 && k->out < g->nbufs)
            last_use[k->out] = i;
        for (int a = 0; a < k->nargs; a++)
            if (k->args[a].kind != KA_VAL && k->args[a].ref >= 0 && k->args[a].ref < g->nbufs)
                last_use[k->args[a].ref] = i;
        for (int x = 0; x < k->nx; x++)
            if (k->xbuf[x] >= 0 && k->xbuf[x] < g->nbufs)
                last_use[k->xbuf[x]] = i;
    }
    for (int b = 0; b < g->nbufs; b++) {
        if (g->bufs[b].kind != KB_TEMP || !g->bufs[b].kept)
            continue;
        int last = last_use[b];
        bool zero = false;
        const Kernel *k = last >= 0 ? &g->kern[last] : NULL;
        for (int x = 0; k && k->kind == KK_ELEM && x < k->nx; x++) {
            if (k->xbuf[x] != b || k->xexpr[x] < 0 || k->xexpr[x] >= k->nbody)
                continue;
            const KExpr *e = &k->body[k->xexpr[x]];
            const KArg *ar = e->kind == KE_ARG && e->ref >= 0 && e->ref < k->nargs ? &k->args[e->ref] : NULL;
            zero = ar && ar->kind == KA_VAL && ar->ref >= 0 && ar->ref < g->nvals && g->vals[ar->ref].kind == KE_CONST &&
                   g->vals[ar->ref].f == 0;
        }
        for (int r = 0; r < g->nres; r++)
            zero &= g->res[r].buf != b && g->res[r].stage != b;
        if (!zero)
            fail(&v, "buffer %b", b, "is kept but the last kernel using it (k%d) does not store zeros over it", last);
    }
    /* the plan: aligned offsets, and temporaries live at the same time never share bytes
     * (temporaries sorted by their first kernel: each is compared with those born while it lives) */
    if (g->planned) {
        TempRef *t = malloc(sizeof *t * ((size_t)g->nbufs + 1));
        if (!t)
            die("out of memory");
        int nt = 0;
        for (int b = 0; b < g->nbufs; b++) {
            const KBuf *x = &g->bufs[b];
            if (x->kind != KB_TEMP)
                continue;
            if (x->off.b2 % 64 || x->off.b % 64 || x->off.c % 64 || x->off.b2 < 0 || x->off.b < 0 || x->off.c < 0)
                fail(&v, "buffer %b", b, "offset not 64-byte aligned");
            if (x->last < x->first)
                fail(&v, "buffer %b", b, "lifetime k%d..k%d ends before it starts", x->first, x->last);
            if (x->first >= 0 && !x->kept)  /* -1..-1: unused; kept: storage of its own */
                t[nt++] = (TempRef){x->first, b, k_size_add(x->off, k_align(k_buf_bytes(x)))};
        }
        qsort(t, (size_t)nt, sizeof *t, by_first);
        for (int i = 0; i < nt; i++) {
            const KBuf *x = &g->bufs[t[i].buf];
            for (int j = i + 1; j < nt && t[j].first <= x->last; j++) {
                const KBuf *y = &g->bufs[t[j].buf];
                bool apart = k_size_le(t[i].end, y->off) || k_size_le(t[j].end, x->off);
                /* a concat's piece lies inside its concat's bytes (plan.c concat_places) */
                for (int w = x->within; !apart && w; w = g->bufs[w - 1].within)
                    apart = w - 1 == t[j].buf;
                for (int w = y->within; !apart && w; w = g->bufs[w - 1].within)
                    apart = w - 1 == t[i].buf;
                if (!apart)
                    fail(&v, "buffer %b", t[i].buf, "overlaps %%b%d while both are live", t[j].buf);
            }
        }
        free(t);
    }
    free(written);
    return v.bad ? -1 : 0;
}

int k_module_verify(const KModule *km, FILE *err) {
    int bad = 0;
    const KGraph **gs = malloc(sizeof *gs * (size_t)(km->nsteps + 2));
    if (!gs)
        die("out of memory");
    int n = graphs_of(km, gs);
    for (int k = 0; k < n; k++)
        bad |= k_verify(gs[k], err) != 0;
    free(gs);
    return bad ? -1 : 0;
}
