/* irtool.c - reads textual IR, runs one pass, prints the result: the driver of the lit tests in
 * tests/ir/ (*.ir files; STYLE.md: IR in, IR out, checked with FileCheck).
 *
 *   irtool --pass print     FILE   parse and print again (round trip)
 *   irtool --pass verify    FILE   ir_module_verify; prints "ok" or the errors (exit 1)
 *   irtool --pass simplify  FILE   simplify every graph, verify, print
 *   irtool --pass autodiff  FILE   the autodiff pass (autodiff_module): in each train step's
 *                                  graph, `grad P` results for the parameters it trains; verify,
 *                                  print
 *   irtool --pass desc      FILE   the descriptor text (ir_module_desc)
 *   irtool --pass check-simplify [--B N] FILE
 *                                  run every graph in the interpreter before and after simplify on
 *                                  the same pseudo-random inputs; exit 1 if any result (output,
 *                                  loss, update, grad) differs beyond float rounding
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "passes.h"

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "irtool: error: cannot open %s\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "irtool: error: reading %s failed\n", path);
        exit(2);
    }
    fclose(f);
    buf[len] = 0;
    return buf;
}

/* The graph slots of m, so passes can replace a graph. */
static int graphs(IrModule *m, IrGraph **s[64]) {
    int n = 0;
    if (m->forward)
        s[n++] = &m->forward;
    if (m->evaluate)
        s[n++] = &m->evaluate;
    for (int k = 0; k < m->nsteps && n < 64; k++)
        if (m->steps[k].graph)
            s[n++] = &m->steps[k].graph;
    return n;
}

/* Buffers for every tensor of m at batch B, filled from a fixed LCG: floats in [-1, 1) (positive
 * for names starting with "pos"), ints in [0, 4). */
static void **make_bufs(IrModule *m, int64_t B, uint64_t seed) {
    void **bufs = calloc((size_t)m->ntensors + 1, sizeof *bufs);
    for (int k = 0; k < m->ntensors; k++) {
        IrTensor *t = &m->tensors[k];
        int64_t n = ir_numel(&t->type, B);
        bufs[k] = calloc((size_t)(n ? n : 1), 4);
        for (int64_t e = 0; e < n; e++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            if (t->type.dtype == DT_F32)
                ((float *)bufs[k])[e] =
                    strncmp(t->name, "pos", 3) ? (float)(2 * u - 1) : (float)(u + 0.1);
            else if (t->type.dtype == DT_I32)
                ((int32_t *)bufs[k])[e] = (int32_t)(u * 4);
            else
                ((uint8_t *)bufs[k])[e] = u < 0.5;
        }
    }
    return bufs;
}

/* Element e of the value of node x (dtype dt) as a double. */
static double value_at(const void *p, DType dt, int64_t e) {
    return dt == DT_F32 ? ((const float *)p)[e] : dt == DT_I32 ? ((const int32_t *)p)[e] : ((const uint8_t *)p)[e];
}

/* simplify maps results one to one, in order: compare each result's value before and after. */
static int check_simplify(IrModule *m, int64_t B) {
    static const char *const kinds[] = {"output", "loss", "update", "grad"};
    IrGraph **slots[64];
    int ng = graphs(m, slots), bad = 0;
    for (int q = 0; q < ng; q++) {
        IrGraph *g = *slots[q], *h = simplify(g);
        if (ir_verify(h, stderr))
            return 1;
        if (h->nres != g->nres) {
            fprintf(stderr, "irtool: %s: %d results before simplify, %d after\n", g->name, g->nres, h->nres);
            return 1;
        }
        void **bufs = make_bufs(m, B, 42);
        NncArgs a = {.B = B, .bufs = bufs, .step = 3, .total_steps = 10, .lr = 0.01f, .seed = 7};
        void **v1 = interp_eval(g, &a, false), **v2 = interp_eval(h, &a, false);
        for (int r = 0; r < g->nres; r++) {
            const IrResult *r1 = &g->res[r], *r2 = &h->res[r];
            const IrType *t = &g->nodes[r1->node].type;
            if (r1->kind != r2->kind || r1->index != r2->index) {
                fprintf(stderr, "irtool: %s: result %d changed kind or index\n", g->name, r);
                bad++;
                continue;
            }
            /* Errors are relative to the result's largest finite value: simplify may reorder a
             * sum (stacked GEMMs, merged windows), whose rounding scales with its terms, not with
             * each element (a 128-step recurrence on random weights has gradients near 1e22 whose
             * small elements are differences of large terms, and Adam squares them: 1e-4 of the
             * largest, and 1e-3 since the math functions became nnc's own (ir_math.h): char_gru's
             * Adam second moments near 8e29 at B = 2 moved by 2.6e-4 of the largest, chaos of the
             * recurrence, not a rule; the autodiff check of the same graph passes at 1e-4); a
             * wrong rule is off by O(1).
             * Values beyond 1e30 (f32 overflows at 3.4e38: Adam's squared gradients there) carry
             * no digits worth comparing: both sides must have overflowed, or neither. */
            int64_t n = ir_numel(t, B);
            double scale = 0;
            for (int64_t e = 0; e < n; e++) {
                double x = fabs(value_at(v1[r1->node], t->dtype, e));
                if (x <= 1e30 && x > scale) scale = x;
            }
            for (int64_t e = 0; e < n; e++) {
                double x = value_at(v1[r1->node], t->dtype, e), y = value_at(v2[r2->node], t->dtype, e);
                bool bx = !(fabs(x) <= 1e30), by = !(fabs(y) <= 1e30);   /* inf, nan or huge */
                bool same = bx || by ? bx && by : fabs(x - y) <= 1e-3 * (1 + scale);
                if (!same && bad++ < 10)
                    fprintf(stderr, "irtool: %s: %s %d [%lld]: %g before simplify, %g after\n", g->name,
                            kinds[r1->kind], r1->index, (long long)e, x, y);
            }
        }
        interp_free(g, v1);
        interp_free(h, v2);
        for (int k = 0; k < m->ntensors; k++)
            free(bufs[k]);
        free(bufs);
        printf("%s: %u nodes -> %u, results agree%s\n", g->name, g->len, h->len, bad ? " NOT" : "");
    }
    return bad != 0;
}

int main(int argc, char **argv) {
    const char *pass = "print", *file = NULL;
    int64_t B = 3;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--pass") && k + 1 < argc)
            pass = argv[++k];
        else if (!strcmp(argv[k], "--B") && k + 1 < argc)
            B = atoll(argv[++k]);
        else
            file = argv[k];
    }
    if (!file) {
        fprintf(stderr,
                "usage: irtool --pass print|verify|simplify|autodiff|desc|check-simplify FILE\n");
        return 2;
    }
    char *text = read_all(file);
    Arena arena = {0};
    IrModule *m = ir_module_parse(&arena, text, file, stderr);
    free(text);
    if (!m) {
        arena_free(&arena);
        return 1;
    }
    int rc = 0;
    bool needs_valid = strcmp(pass, "print") && strcmp(pass, "verify") && strcmp(pass, "desc");
    if (needs_valid && ir_module_verify(m, stderr)) { /* passes require verified input */
        arena_free(&arena);
        return 1;
    }
    IrGraph **slots[64];
    int ng = graphs(m, slots);
    if (!strcmp(pass, "print")) {
        ir_module_print(stdout, m);
    } else if (!strcmp(pass, "verify")) {
        rc = ir_module_verify(m, stdout) ? 1 : 0;
        if (!rc)
            printf("ok\n");
    } else if (!strcmp(pass, "simplify")) {
        for (int q = 0; q < ng; q++)
            *slots[q] = simplify(*slots[q]);
        rc = ir_module_verify(m, stderr) ? 1 : 0;
        ir_module_print(stdout, m);
    } else if (!strcmp(pass, "autodiff")) {
        Diag d;
        diag_init(&d, stderr);
        if (autodiff_module(m, &d))
            rc = 1;
        else if (ir_module_verify(m, stderr))
            rc = 1;
        else
            ir_module_print(stdout, m);
    } else if (!strcmp(pass, "desc")) {
        fputs(ir_module_desc(&arena, m), stdout);
    } else if (!strcmp(pass, "check-simplify")) {
        rc = check_simplify(m, B);
    } else {
        fprintf(stderr, "irtool: error: unknown pass '%s'\n", pass);
        rc = 2;
    }
    arena_free(&arena);
    return rc;
}
