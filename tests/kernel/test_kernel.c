/* test_kernel.c - the kernel IR verifier on good and broken kernel IR (ctest kernel.verify).
 * A small module is parsed from IR text, fused and planned: it must verify. Then copies of it are
 * broken one rule at a time (docs/kernels.md "The verifier"); each must fail with its message.
 * The same for a module whose softmax-like tail is one row kernel, and a module with a temporary
 * of B^3 bytes, which plan refuses naming its op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static const char *const text =
    "tensor input 0 x f32[B,3]\n"
    "tensor param 1 w f32[3,4]\n"
    "tensor output 2 y f32[B,4]\n"
    "tensor output 3 s f32[1,1]\n"
    "tensor input 4 u f32[B,1]\n"
    "graph forward {\n"
    "  %0 = input {i=[0], name=\"x\"} : f32[B,3]\n"
    "  %1 = param {i=[1], name=\"w\"} : f32[3,4]\n"
    "  %2 = matmul %0, %1 {i=[0,0]} : f32[B,4]\n"
    "  %3 = exp %2 : f32[B,4]\n"
    "  %4 = tanh %3 : f32[B,4]\n"
    "  %5 = sum %4 {i=[2]} : f32[B,1]\n"
    "  %6 = input {i=[4], name=\"u\"} : f32[B,1]\n"
    "  %7 = broadcast %6 : f32[B,4]\n"
    "  %8 = div %4, %7 : f32[B,4]\n"
    "  %9 = mul %8, %8 : f32[B,4]\n"
    "  %10 = sum %5 {i=[1]} : f32[1,1]\n"
    "  output 2 = %9\n"
    "  output 3 = %10\n"
    "}\n";

/* The same with the row sum as the divisor: fuse's merge_rows makes the sum and the divide one
 * row kernel with two outputs, the quotient's square per element and the row sum per row (the
 * total still reads it). */
static const char *const merged_text =
    "tensor input 0 x f32[B,3]\n"
    "tensor param 1 w f32[3,4]\n"
    "tensor output 2 y f32[B,4]\n"
    "tensor output 3 s f32[1,1]\n"
    "graph forward {\n"
    "  %0 = input {i=[0], name=\"x\"} : f32[B,3]\n"
    "  %1 = param {i=[1], name=\"w\"} : f32[3,4]\n"
    "  %2 = matmul %0, %1 {i=[0,0]} : f32[B,4]\n"
    "  %3 = exp %2 : f32[B,4]\n"
    "  %4 = tanh %3 : f32[B,4]\n"
    "  %5 = sum %4 {i=[2]} : f32[B,1]\n"
    "  %6 = broadcast %5 : f32[B,4]\n"
    "  %7 = div %4, %6 : f32[B,4]\n"
    "  %8 = mul %7, %7 : f32[B,4]\n"
    "  %9 = sum %5 {i=[1]} : f32[1,1]\n"
    "  output 2 = %8\n"
    "  output 3 = %9\n"
    "}\n";

/* The same as softmax: the row sum is computed inside one row kernel with the
 * elements it divides, as softmax is (docs/kernels.md "Row kernels"). */
static const char *const rows_text =
    "tensor input 0 x f32[B,3]\n"
    "tensor param 1 w f32[3,4]\n"
    "tensor output 2 y f32[B,4]\n"
    "graph forward {\n"
    "  %0 = input {i=[0], name=\"x\"} : f32[B,3]\n"
    "  %1 = param {i=[1], name=\"w\"} : f32[3,4]\n"
    "  %2 = matmul %0, %1 {i=[0,0]} : f32[B,4]\n"
    "  %3 = rmax %2 {i=[2]} : f32[B,1]\n"
    "  %4 = stop_grad %3 : f32[B,1]\n"
    "  %5 = broadcast %4 : f32[B,4]\n"
    "  %6 = sub %2, %5 : f32[B,4]\n"
    "  %7 = exp %6 : f32[B,4]\n"
    "  %8 = sum %7 {i=[2]} : f32[B,1]\n"
    "  %9 = log %8 : f32[B,1]\n"
    "  %10 = broadcast %9 : f32[B,4]\n"
    "  %11 = sub %6, %10 : f32[B,4]\n"
    "  output 2 = %11\n"
    "}\n";

static int failures;

static KGraph *fresh_of(Arena *a, const char *src) {
    IrModule *m = ir_module_parse(a, src, "test.ir", stderr);
    if (!m) {
        fprintf(stderr, "FAIL: the test module does not parse\n");
        exit(1);
    }
    KModule *km = fuse_module(a, m);
    Diag d;
    diag_init(&d, stderr);
    if (plan_module(km, &d)) {
        fprintf(stderr, "FAIL: plan_module\n");
        exit(1);
    }
    return km->forward;
}

static KGraph *fresh(Arena *a) { return fresh_of(a, text); }

/* k_verify's verdict and its message, which must contain want (NULL: must pass). */
static void expect(const KGraph *g, const char *what, const char *want) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = k_verify(g, f);
    fclose(f);
    if (want ? rc == 0 || !strstr(buf, want) : rc != 0) {
        fprintf(stderr, "FAIL %s: rc %d, want %s; messages:\n%s", what, rc, want ? want : "ok", buf);
        failures++;
    }
    free(buf);
}

static int find(const KGraph *g, KernelKind kind) {
    for (int k = 0; k < g->nkern; k++)
        if (g->kern[k].kind == kind)
            return k;
    fprintf(stderr, "FAIL: no kernel of kind %d\n", kind);
    exit(1);
}

int main(void) {
    Arena a = {0};
    KGraph *g = fresh(&a);
    expect(g, "fused and planned", NULL);
    /* the shape of the fusion: gemm with its epilogue (exp, tanh of the product: in place in the
     * gemm's output), sum, elem (div by the input u read in place of its row broadcast, and the
     * square of the quotient, computed once), sum (the row sums' total) */
    if (g->nkern != 4 || g->kern[0].kind != KK_GEMM || g->kern[0].nbody != 3 || g->kern[0].nargs != 3 ||
        g->kern[0].args[2].ref != g->kern[0].out || g->kern[2].kind != KK_ELEM || g->kern[2].nbody != 4 ||
        g->kern[2].nargs != 2 || g->kern[2].args[1].kind != KA_ROW) {
        fprintf(stderr, "FAIL: unexpected kernels:\n");
        k_graph_print(stderr, g);
        failures++;
    }

    g = fresh(&a);      /* a kernel reads a temporary before it is written */
    Kernel t = g->kern[1];
    g->kern[1] = g->kern[3], g->kern[3] = t;
    expect(g, "swapped", "before any kernel writes it");

    g = fresh(&a);      /* a body instruction that is not elementwise */
    g->kern[find(g, KK_ELEM)].body[2].op = OP_MATMUL;
    expect(g, "matmul in a body", "is not elementwise");

    g = fresh(&a);      /* an instruction that uses a later one */
    Kernel *e = &g->kern[find(g, KK_ELEM)];
    e->body[2].src[0] = 3;
    expect(g, "forward reference", "not defined before it");

    g = fresh(&a);      /* a gemm whose result is not what matmul gives */
    Kernel *mm = &g->kern[find(g, KK_GEMM)];
    mm->attr.i[0] = 1;
    expect(g, "transposed operand", "matmul");

    g = fresh(&a);      /* a kernel writing a parameter-sized view into a B-sized buffer */
    g->kern[find(g, KK_GEMM)].type.dim[1].c = 5;
    expect(g, "wrong size", "does not fill its buffer");

    g = fresh(&a);      /* two temporaries live at once in the same bytes */
    int t1 = g->kern[0].out, t2 = g->kern[1].out;
    g->bufs[t2].off = g->bufs[t1].off;
    expect(g, "overlap", "while both are live");

    /* a concat piece (plan.c concat_places) may lie in its container's bytes, in no one else's */
    g = fresh(&a);
    t1 = g->kern[0].out, t2 = g->kern[1].out;
    g->bufs[t2].off = g->bufs[t1].off;
    g->bufs[t2].within = 1 + t1;
    expect(g, "piece in its container", NULL);
    g = fresh(&a);
    t1 = g->kern[0].out, t2 = g->kern[1].out;
    g->bufs[t2].off = g->bufs[t1].off;
    g->bufs[t2].within = 1 + g->kern[2].out;    /* placed "in" another buffer, overlapping t1 */
    expect(g, "piece over another buffer", "while both are live");

    g = fresh(&a);      /* a misaligned offset */
    g->bufs[g->kern[0].out].off.c += 4;
    expect(g, "misaligned", "not 64-byte aligned");

    g = fresh(&a);      /* a structured op reading its own output */
    Kernel *s = &g->kern[1];
    s->args[0].ref = s->out;
    expect(g, "sum in place", "reads its own output");

    g = fresh(&a);      /* an argument index out of range in a body */
    g->kern[find(g, KK_ELEM)].body[0].ref = 9;
    expect(g, "bad arg", "reads argument 9");

    g = fresh(&a);      /* a gemm writing over a buffer an earlier kernel wrote */
    g->kern[1].kind = KK_GEMM, g->kern[1].op = OP_MATMUL;
    g->kern[1].out = g->kern[0].out;
    expect(g, "gemm over a written buffer", "which an earlier kernel wrote");

    g = fresh(&a);      /* a row broadcast read as a column */
    g->kern[2].args[1].kind = KA_COL;
    expect(g, "row as col", "col broadcast of the wrong size");

    g = fresh(&a);      /* a window whose rows are wider than its stride */
    g->kern[2].args[0].kind = KA_WIN;
    g->kern[2].args[0].wstart = 0, g->kern[2].args[0].wstride = 1;
    expect(g, "window wider than its stride", "a window needs an elementwise kernel whose rows fit its stride");

    g = fresh(&a);      /* a window read by a structured op */
    g->kern[1].args[0].kind = KA_WIN;
    g->kern[1].args[0].wstride = 1 << 20;
    expect(g, "window in a sum", "a window needs an elementwise kernel");

    g = fresh(&a);      /* a gemm's epilogue reading the gemm's operand per element */
    g->kern[0].body[0].ref = 0;
    expect(g, "epilogue reads an operand", "its epilogue reads operand 0 of the gemm");

    /* a row kernel with an output per element and one per row (merge_rows) */
    g = fresh_of(&a, merged_text);
    expect(g, "merged row kernel", NULL);
    if (g->nkern != 3 || g->kern[1].kind != KK_ROW || g->kern[1].nx != 1 || !g->kern[1].xrow ||
        !g->kern[1].xrow[0] || g->kern[2].kind != KK_OP || g->kern[2].args[0].ref != g->kern[1].xbuf[0]) {
        fprintf(stderr, "FAIL: unexpected merged kernels:\n");
        k_graph_print(stderr, g);
        failures++;
    }
    g = fresh_of(&a, merged_text);      /* a per-row output taking an instruction per element */
    g->kern[1].xexpr[0] = g->kern[1].nbody - 1;
    expect(g, "per-row output of elements", "does not hold one value per row");
    g = fresh_of(&a, merged_text);      /* a per-row output of the wrong size */
    g->kern[1].xrow[0] = 0;
    expect(g, "per-row output as elements", "does not hold one value per element");
    g = fresh_of(&a, merged_text);      /* a kernel reading its own per-row output */
    g->kern[1].args[0].ref = g->kern[1].xbuf[0];
    expect(g, "reads its per-row output", "per-row output");

    /* log-softmax: one row kernel after the gemm (rmax, sub, exp, sum, log, sub), reading the
     * gemm's output per element and nothing per row */
    g = fresh_of(&a, rows_text);
    expect(g, "row kernel", NULL);
    Kernel *rk = &g->kern[g->nkern - 1];
    int nred = 0;
    for (int q = 0; q < rk->nbody; q++)
        nred += k_row_reduce(&rk->body[q]);
    if (g->nkern != 2 || rk->kind != KK_ROW || nred != 2 || rk->nargs != 1 || rk->args[0].kind != KA_BUF ||
        rk->body[rk->nbody - 1].op != OP_SUB) {
        fprintf(stderr, "FAIL: unexpected row kernel:\n");
        k_graph_print(stderr, g);
        failures++;
    }
    int ri = g->nkern - 1;

    g = fresh_of(&a, rows_text);    /* a row kernel over a scalar */
    g->kern[ri].pro.rank = 0;
    expect(g, "row of rank 0", "an index space of rank >= 1");

    g = fresh_of(&a, rows_text);    /* a result of one value per row where the body gives elements */
    g->kern[ri].type.dim[1] = (Dim){0, 1};
    expect(g, "row result size", "holds neither one value per element nor one per row");

    g = fresh_of(&a, rows_text);    /* a reduction giving another dtype than its operand */
    for (int q = 0; q < g->kern[ri].nbody; q++)
        if (k_row_reduce(&g->kern[ri].body[q]))
            g->kern[ri].body[q].dt = DT_I32;
    expect(g, "row reduce dtype", "a row rmax of f32 gives i32");

    g = fresh_of(&a, rows_text);    /* a reduction outside a row kernel */
    g->kern[ri].kind = KK_ELEM;
    expect(g, "reduce in elem", "is not elementwise");

    /* a temporary with B in three dims: plan fails with an error naming the op that makes it */
    static const char *const cube =
        "tensor input 0 x f32[B,B]\n"
        "tensor input 1 v f32[B]\n"
        "tensor output 2 y f32[B,B]\n"
        "graph forward {\n"
        "  %0 = input {i=[0], name=\"x\"} : f32[B,B]\n"
        "  %1 = input {i=[1], name=\"v\"} : f32[B]\n"
        "  %2 = reshape %0 : f32[B,B,1]\n"
        "  %3 = broadcast %2 : f32[B,B,B]\n"
        "  %4 = broadcast %1 : f32[B,B,B]\n"
        "  %5 = mul %3, %4 : f32[B,B,B]\n"
        "  %6 = transpose %5 {i=[0,2,1]} : f32[B,B,B]\n"
        "  %7 = sum %6 {i=[4]} : f32[B,B,1]\n"
        "  %8 = reshape %7 : f32[B,B]\n"
        "  output 2 = %8\n"
        "}\n";
    IrModule *cm = ir_module_parse(&a, cube, "cube.ir", stderr);
    if (!cm) {
        fprintf(stderr, "FAIL: the B^3 module does not parse\n");
        failures++;
    } else {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        Diag d;
        diag_init(&d, f);
        int rc = plan_module(fuse_module(&a, cm), &d);
        fclose(f);
        if (rc == 0 || !strstr(buf, "the result of") || !strstr(buf, "f32[B,B,B], has the batch size B in 3 dims")) {
            fprintf(stderr, "FAIL B^3 temporary: rc %d; messages:\n%s", rc, buf);
            failures++;
        }
        free(buf);
    }

    arena_free(&a);
    if (failures)
        return 1;
    puts("kernel verify: ok");
    return 0;
}
