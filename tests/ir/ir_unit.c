/* ir_unit.c - the IR core's contracts checked one by one: CSE (commuting operands, F_NOCSE,
 * attributes, CONST data by pointer), the broadcasting builders, type text, element counts in B,
 * and the interpreter as a runtime model (interp_model_def): descriptor text, outputs, losses, and
 * RES_UPDATE values written only after the whole graph ran.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "interp/interp.h"
#include "passes.h"

#include "expect.h"

static IrType V(DType d, int rank, Dim d0, Dim d1) { return (IrType){d, rank, {d0, d1}}; }
#define C(n) ((Dim){0, n})
#define BD ((Dim){1, 0})

static void test_cse(void) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, "cse");
    IrType t = V(DT_F32, 2, BD, C(3));
    IrAttr i0 = {.i = {0}, .ni = 1}, i1 = {.i = {1}, .ni = 1};
    uint32_t x = ir_add(g, OP_INPUT, t, NULL, 0, &i0, (Loc){0});
    uint32_t x2 = ir_add(g, OP_INPUT, t, NULL, 0, &i0, (Loc){0});
    EXPECT(x != x2, "INPUT is F_NOCSE: two nodes");
    uint32_t y = ir_add(g, OP_INPUT, t, NULL, 0, &i1, (Loc){0});
    uint32_t s1 = ir_binary(g, OP_ADD, x, y), s2 = ir_binary(g, OP_ADD, y, x);
    EXPECT(s1 == s2, "add is F_COMMUTE: add(y, x) merges with add(x, y)");
    uint32_t d1 = ir_binary(g, OP_SUB, x, y), d2 = ir_binary(g, OP_SUB, y, x);
    EXPECT(d1 != d2, "sub does not commute");
    EXPECT(ir_binary(g, OP_SUB, x, y) == d1, "equal sub merges");
    IrAttr p1 = {.i = {1, 0}, .ni = 2}, p2 = {.i = {1, 0}, .ni = 2};
    uint32_t t1 = ir_op(g, OP_TRANSPOSE, &x, 1, &p1, t), t2 = ir_op(g, OP_TRANSPOSE, &x, 1, &p2, t);
    EXPECT(t1 == t2, "equal attributes merge");
    EXPECT(ir_sum(g, x, 1) != ir_sum(g, x, 2), "different attributes do not merge");
    static const float d[3] = {1, 2, 3}, e[3] = {1, 2, 3};
    IrType v3 = V(DT_F32, 1, C(3), C(0));
    IrAttr da = {.i = {3}, .ni = 1, .data = d}, ea = {.i = {3}, .ni = 1, .data = e};
    uint32_t c1 = ir_add(g, OP_CONST, v3, NULL, 0, &da, (Loc){0});
    uint32_t c2 = ir_add(g, OP_CONST, v3, NULL, 0, &da, (Loc){0});
    uint32_t c3 = ir_add(g, OP_CONST, v3, NULL, 0, &ea, (Loc){0});
    EXPECT(c1 == c2 && c1 != c3, "CONST data compared by pointer");
    EXPECT(ir_fill(g, v3, 0.1) == ir_fill(g, v3, (float)0.1), "f32 fills hold the f32 value");
    EXPECT(ir_fill(g, v3, 0.5) != ir_fill(g, V(DT_F32, 1, C(4), C(0)), 0.5), "types differ");
    IrAttr r = {.i = {0}, .ni = 1};
    EXPECT(ir_add(g, OP_RAND, t, NULL, 0, &r, (Loc){0}) !=
               ir_add(g, OP_RAND, t, NULL, 0, &r, (Loc){0}),
           "RAND is F_NOCSE");
    uint32_t before = g->len;
    for (int k = 0; k < 1000; k++) /* the hash table grows and keeps finding old nodes */
        ir_scalar(g, DT_F32, k);
    EXPECT(g->len == before + 1000, "1000 distinct scalars");
    EXPECT(ir_scalar(g, DT_F32, 17) < before + 1000 && g->len == before + 1000,
           "found after growth");
    EXPECT(ir_verify(g, stderr) == 0, "graph verifies");
    arena_free(&a);
}

static void test_builders(void) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, "b");
    IrAttr i0 = {.i = {0}, .ni = 1};
    uint32_t x = ir_add(g, OP_INPUT, V(DT_F32, 2, BD, C(3)), NULL, 0, &i0, (Loc){0});
    uint32_t w = ir_add(g, OP_PARAM, V(DT_F32, 1, C(3), C(0)), NULL, 0, &i0, (Loc){0});
    uint32_t s = ir_binary(g, OP_ADD, x, w);
    IrType want = V(DT_F32, 2, BD, C(3));
    EXPECT(ir_type_eq(&g->nodes[s].type, &want), "f32[B,3] + f32[3] is f32[B,3]");
    EXPECT(g->nodes[g->nodes[s].src[1]].op == OP_BROADCAST, "the f32[3] operand is broadcast");
    EXPECT(g->nodes[s].src[0] == x, "the f32[B,3] operand is used as is");
    uint32_t c = ir_binary(g, OP_LT, x, ir_scalar(g, DT_F32, 0));
    EXPECT(g->nodes[c].type.dtype == DT_BOOL && g->nodes[c].type.rank == 2,
           "compare gives bool[B,3]");
    uint32_t col = ir_sum(g, x, 2);
    uint32_t outer = ir_binary(g, OP_MUL, col, ir_reshape(g, w, V(DT_F32, 2, C(1), C(3))));
    IrType o = g->nodes[outer].type;
    EXPECT(o.rank == 2 && o.dim[0].a == 1 && o.dim[1].c == 3, "[B,1] * [1,3] is [B,3]");
    uint32_t m = ir_matmul(g, x, x, true, false);
    EXPECT(g->nodes[m].type.dim[0].c == 3 && g->nodes[m].type.dim[1].c == 3, "x^T x is [3,3]");
    EXPECT(ir_broadcast(g, x, g->nodes[x].type) == x, "broadcast to the same type is x");
    EXPECT(ir_reshape(g, x, g->nodes[x].type) == x, "reshape to the same type is x");
    uint32_t sel = ir_select(g, c, x, ir_scalar(g, DT_F32, 0));
    EXPECT(ir_type_eq(&g->nodes[sel].type, &want), "select broadcasts its operands");
    EXPECT(ir_verify(g, stderr) == 0, "builders make verified graphs");
    arena_free(&a);
}

static void test_types(void) {
    char buf[128];
    IrType t = V(DT_F32, 2, BD, C(784));
    ir_type_fmt(buf, sizeof buf, &t);
    EXPECT(!strcmp(buf, "f32[B,784]"), "got %s", buf);
    t = V(DT_F32, 2, ((Dim){32, 0}), C(10));
    ir_type_fmt(buf, sizeof buf, &t);
    EXPECT(!strcmp(buf, "f32[32*B,10]"), "got %s", buf);
    t = V(DT_BOOL, 1, ((Dim){2, -3}), C(0));
    ir_type_fmt(buf, sizeof buf, &t);
    EXPECT(!strcmp(buf, "bool[2*B-3]"), "got %s", buf);
    t = (IrType){.dtype = DT_I32};
    ir_type_fmt(buf, sizeof buf, &t);
    EXPECT(!strcmp(buf, "i32[]"), "got %s", buf);
    t = V(DT_F32, 2, ((Dim){2, 1}), C(5));
    EXPECT(ir_numel(&t, 10) == 105 && ir_dim_eval(t.dim[0], 3) == 7, "numel of [2*B+1,5] at B=10");
    EXPECT(ir_numel(&(IrType){.dtype = DT_F32}, 9) == 1, "rank 0 holds one element");
}

/* w' = w + 1, s' = w (must see the old w), loss = sum(w), output = 2 w */
static void test_model_def(void) {
    Arena a = {0};
    IrModule *m = ir_module_new(&a, "unit");
    IrType v2 = V(DT_F32, 1, C(2), C(0)), sc = {.dtype = DT_F32};
    int xi = ir_module_tensor(
        m, (IrTensor){.name = "x", .role = ROLE_INPUT, .type = V(DT_F32, 2, BD, C(2))});
    int oi = ir_module_tensor(
        m, (IrTensor){.name = "o", .role = ROLE_OUTPUT, .type = V(DT_F32, 2, BD, C(2))});
    int wi = ir_module_tensor(
        m, (IrTensor){.name = "w", .role = ROLE_PARAM, .type = v2, .init = "zeros"});
    int si = ir_module_tensor(
        m, (IrTensor){.name = "w.s", .role = ROLE_STATE, .type = v2, .init = "ones"});
    *ARENA_PUSH(&a, m->losses, m->nlosses, m->caplosses) = "loss";
    IrStep *st = ARENA_PUSH(&a, m->steps, m->nsteps, m->capsteps);
    *st = (IrStep){.name = "main", .loss = "loss", .optimizer = "sgd", .lr = 0.5};
    m->nclasses = 2;

    IrGraph *f = ir_graph_new(&a, "forward");
    uint32_t x = ir_add(f, OP_INPUT, m->tensors[xi].type, NULL, 0,
                        &(IrAttr){.i = {xi}, .ni = 1, .name = "x"}, (Loc){0});
    uint32_t w =
        ir_add(f, OP_PARAM, v2, NULL, 0, &(IrAttr){.i = {wi}, .ni = 1, .name = "w"}, (Loc){0});
    ir_result(f, ir_binary(f, OP_MUL, x, w), RES_OUTPUT, oi);
    m->forward = f;

    IrGraph *g = ir_graph_new(&a, "train.main");
    w = ir_add(g, OP_PARAM, v2, NULL, 0, &(IrAttr){.i = {wi}, .ni = 1, .name = "w"}, (Loc){0});
    uint32_t lr = ir_add(g, OP_HYPER, sc, NULL, 0, &(IrAttr){.i = {HY_LR}, .ni = 1}, (Loc){0});
    ir_result(g, ir_binary(g, OP_ADD, w, lr), RES_UPDATE, wi);
    ir_result(g, w, RES_UPDATE, si);
    ir_result(g, ir_reshape(g, ir_sum(g, w, 1), sc), RES_LOSS, 0);
    st->graph = g;
    EXPECT(ir_module_verify(m, stderr) == 0, "module verifies");

    NncModelDef def = interp_model_def(m);
    const char *want = "model unit\n"
                       "tensor input 0 x f32 2 B 2\n"
                       "tensor output 1 o f32 2 B 2\n"
                       "tensor param 2 w f32 1 2 init zeros 0 0 0 0\n"
                       "tensor state 3 w.s f32 1 2 init ones 0 0 0 0\n"
                       "loss loss\n"
                       "step main loss sgd 0.5\n"
                       "task classify 2\n"
                       "end\n";
    EXPECT(!strcmp(def.desc, want), "descriptor:\n%s", def.desc);
    float xv[6] = {1, 2, 3, 4, 5, 6}, ov[6], wv[2] = {10, 20}, sv[2] = {0, 0}, loss[1];
    void *bufs[4] = {xv, ov, wv, sv};
    NncArgs args = {.B = 3, .bufs = bufs, .losses = loss, .lr = 0.25f, .step = 1, .user = def.user};
    def.forward(&args);
    EXPECT(ov[0] == 10 && ov[5] == 120, "forward outputs x * w: %g %g", ov[0], ov[5]);
    def.train_step(&args, 0);
    EXPECT(wv[0] == 10.25f && wv[1] == 20.25f, "w updated to %g %g", wv[0], wv[1]);
    EXPECT(sv[0] == 10 && sv[1] == 20, "state took the old w (updates after the graph): %g %g",
           sv[0], sv[1]);
    EXPECT(loss[0] == 30, "loss %g", loss[0]);
    EXPECT(def.workspace_size(64) == 0, "the interpreter needs no workspace");

    /* simplify keeps the results, and a graph without results becomes empty */
    IrGraph *empty = ir_graph_new(&a, "e");
    ir_scalar(empty, DT_F32, 1);
    EXPECT(simplify(empty)->len == 0, "dead code is dropped");
    arena_free(&a);
}

int main(void) {
    test_cse();
    test_builders();
    test_types();
    test_model_def();
    printf("%s\n", bad ? "FAILED" : "ok");
    return bad ? 1 : 0;
}
