/* ir_mlp.c - a whole small MLP's loss and gradients, printed for torch.autograd to check.
 *
 * Builds, with a symbolic batch B, the graph the lowering makes for
 *   h = relu(x @ W1 + b1); logits = h @ W2 + b2
 *   loss = mean over B of cross_entropy(logits, y) + 0.01 * sum(W1 * W1)
 * (softmax through rmax/stop_grad/exp/sum/log, the mean through HYPER batch), differentiates it
 * with ad_grad, simplifies it, runs it in the interpreter at B = 4 and prints one JSON line with
 * the inputs, the parameters, the loss and the four gradients; tests/ir/check_mlp.py recomputes
 * them with torch.autograd.
 */
#include <stdio.h>
#include <stdlib.h>

#include "interp/interp.h"
#include "passes.h"

static uint64_t rng = 4242;
static float unif(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / 9007199254740992.0);
}

enum { K = 5, H = 8, C = 3, BATCH = 4 };

static void print_arr(const char *name, const float *v, int n, int last) {
    printf("\"%s\":[", name);
    for (int e = 0; e < n; e++)
        printf("%s%.9g", e ? "," : "", (double)v[e]);
    printf("]%s", last ? "" : ",");
}

int main(void) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, "train.main");
    Dim Bd = {1, 0};
    IrType tx = {DT_F32, 2, {Bd, {0, K}}}, ty = {DT_I32, 1, {Bd}};
    IrType tw1 = {DT_F32, 2, {{0, K}, {0, H}}}, tb1 = {DT_F32, 1, {{0, H}}};
    IrType tw2 = {DT_F32, 2, {{0, H}, {0, C}}}, tb2 = {DT_F32, 1, {{0, C}}};
    IrType sc = {.dtype = DT_F32};
    uint32_t x =
        ir_add(g, OP_INPUT, tx, NULL, 0, &(IrAttr){.i = {0}, .ni = 1, .name = "x"}, (Loc){0});
    uint32_t y =
        ir_add(g, OP_INPUT, ty, NULL, 0, &(IrAttr){.i = {1}, .ni = 1, .name = "y"}, (Loc){0});
    uint32_t p[4];
    IrType pt[4] = {tw1, tb1, tw2, tb2};
    for (int k = 0; k < 4; k++)
        p[k] = ir_add(g, OP_PARAM, pt[k], NULL, 0, &(IrAttr){.i = {2 + k}, .ni = 1, .name = "p"},
                      (Loc){0});
    uint32_t h = ir_binary(g, OP_ADD, ir_matmul(g, x, p[0], false, false), p[1]);
    h = ir_binary(g, OP_MAX, h, ir_scalar(g, DT_F32, 0));
    uint32_t z = ir_binary(g, OP_ADD, ir_matmul(g, h, p[2], false, false), p[3]);
    uint32_t m =
        ir_unary(g, OP_STOP_GRAD, ir_op(g, OP_RMAX, &z, 1, &(IrAttr){.i = {2}, .ni = 1}, sc));
    uint32_t s = ir_binary(g, OP_SUB, z, m);
    uint32_t lse = ir_unary(g, OP_LOG, ir_sum(g, ir_unary(g, OP_EXP, s), 2));
    uint32_t oh = ir_op(g, OP_ONE_HOT, &y, 1, &(IrAttr){.i = {C}, .ni = 1}, sc);
    uint32_t nll =
        ir_unary(g, OP_NEG, ir_sum(g, ir_binary(g, OP_MUL, oh, ir_binary(g, OP_SUB, s, lse)), 3));
    uint32_t bsz = ir_add(g, OP_HYPER, sc, NULL, 0, &(IrAttr){.i = {HY_BATCH}, .ni = 1}, (Loc){0});
    uint32_t loss = ir_binary(g, OP_DIV, ir_reshape(g, nll, sc), bsz);
    uint32_t l2 = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, p[0], p[0]), 3), sc);
    loss = ir_binary(g, OP_ADD, loss, ir_binary(g, OP_MUL, l2, ir_scalar(g, DT_F32, 0.01)));
    uint32_t grads[4];
    ad_grad(g, loss, p, 4, grads);
    ir_result(g, loss, RES_LOSS, 0);
    for (int k = 0; k < 4; k++)
        ir_result(g, grads[k], RES_OUTPUT, 6 + k);
    if (ir_verify(g, stderr))
        return 1;
    IrGraph *sg = simplify(g);
    if (ir_verify(sg, stderr))
        return 1;
    fprintf(stderr, "ir_mlp: %u nodes, %u after simplify\n", g->len, sg->len);

    float xv[BATCH * K], w1[K * H], b1[H], w2[H * C], b2[C], gw1[K * H], gb1[H], gw2[H * C], gb2[C];
    int32_t yv[BATCH];
    for (int e = 0; e < BATCH * K; e++)
        xv[e] = 2 * unif() - 1;
    for (int e = 0; e < BATCH; e++)
        yv[e] = (int32_t)(unif() * C);
    for (int e = 0; e < K * H; e++)
        w1[e] = unif() - 0.5f;
    for (int e = 0; e < H; e++)
        b1[e] = 0.2f * unif() - 0.05f;
    for (int e = 0; e < H * C; e++)
        w2[e] = unif() - 0.5f;
    for (int e = 0; e < C; e++)
        b2[e] = 0.1f * unif();
    void *bufs[10] = {xv, yv, w1, b1, w2, b2, gw1, gb1, gw2, gb2};
    float lossv[2] = {0}, loss2[2] = {0};
    NncArgs args = {.B = BATCH, .bufs = bufs, .losses = lossv};
    interp_run(sg, &args);
    float keep[K * H];
    for (int e = 0; e < K * H; e++)
        keep[e] = gw1[e];
    args.losses = loss2;
    interp_run(g, &args); /* the unsimplified graph agrees */
    int bad = 0;
    for (int e = 0; e < K * H; e++)
        bad += !(keep[e] - gw1[e] < 1e-6f && gw1[e] - keep[e] < 1e-6f);
    if (bad || !(lossv[0] - loss2[0] < 1e-6f && loss2[0] - lossv[0] < 1e-6f)) {
        fprintf(stderr, "FAIL: simplify changed the MLP's loss or gradients\n");
        return 1;
    }
    printf("{");
    print_arr("x", xv, BATCH * K, 0);
    printf("\"y\":[");
    for (int e = 0; e < BATCH; e++)
        printf("%s%d", e ? "," : "", yv[e]);
    printf("],");
    print_arr("W1", w1, K * H, 0);
    print_arr("b1", b1, H, 0);
    print_arr("W2", w2, H * C, 0);
    print_arr("b2", b2, C, 0);
    print_arr("loss", lossv, 1, 0);
    print_arr("gW1", gw1, K * H, 0);
    print_arr("gb1", gb1, H, 0);
    print_arr("gW2", gw2, H * C, 0);
    print_arr("gb2", gb2, C, 1);
    printf(",\"dims\":[%d,%d,%d,%d]}\n", BATCH, K, H, C);
    arena_free(&a);
    return 0;
}
