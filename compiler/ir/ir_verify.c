/* ir_verify.c - the graph verifier: every pass leaves a graph it accepts (docs/ir.md "Verifier").
 *
 * Checks, naming the offending node: known op, operand count, operands defined before their user
 * (the node array is a topological order), the node's type is the one its shape rule gives for its
 * operands and attributes, and every result names a valid node of the right kind of type (a loss is
 * a rank-0 f32; two results of the same kind never share an index).
 */
#include "ir.h"

static void node_line(FILE *err, const IrGraph *g, uint32_t i) {
    const IrNode *n = &g->nodes[i];
    fprintf(err, "  %%%u = %s", i, (unsigned)n->op < OP__COUNT ? ir_op_name[n->op] : "?");
    for (int k = 0; k < n->nsrc && k < IR_MAXSRC; k++) {
        fprintf(err, "%s%%%u", k ? ", " : " ", n->src[k]);
        if (n->src[k] < i) {
            fputs(" (", err);
            ir_type_print(err, &g->nodes[n->src[k]].type);
            fputs(")", err);
        }
    }
    fputs(" : ", err);
    ir_type_print(err, &n->type);
    fputs("\n", err);
}

int ir_verify(const IrGraph *g, FILE *err) {
    int bad = 0;
#define FAIL(i, ...)                                                                               \
    do {                                                                                           \
        fprintf(err, "nnc: error: verify %s: %%%u: ", g->name, (unsigned)(i));                     \
        fprintf(err, __VA_ARGS__);                                                                 \
        fputc('\n', err);                                                                          \
        node_line(err, g, i);                                                                      \
        bad = 1;                                                                                   \
    } while (0)

    for (uint32_t i = 0; i < g->len; i++) {
        const IrNode *n = &g->nodes[i];
        if (n->op >= OP__COUNT) {
            FAIL(i, "unknown op %u", n->op);
            continue;
        }
        if (n->nsrc != ir_op_nsrc[n->op]) {
            FAIL(i, "%s takes %d operands, has %d", ir_op_name[n->op], ir_op_nsrc[n->op], n->nsrc);
            continue;
        }
        bool ok = true;
        for (int k = 0; k < n->nsrc; k++)
            if (n->src[k] >= i) {
                FAIL(i, "operand %d (%%%u) is not defined before its use", k, n->src[k]);
                ok = false;
            }
        if (!ok)
            continue;
        if (n->type.rank < 0 || n->type.rank > IR_MAXRANK) {
            FAIL(i, "rank %d out of range", n->type.rank);
            continue;
        }
        for (int k = 0; k < n->type.rank; k++) {
            int64_t at1; /* the dim at B = 1 */
            if (n->type.dim[k].a < 0 ||
                __builtin_add_overflow(n->type.dim[k].a, n->type.dim[k].c, &at1) || at1 < 0) {
                FAIL(i, "dim %d is negative (or overflows)", k);
                ok = false;
            }
        }
        if (ok && ir_numel(&n->type, 1 << 20) > ((int64_t)1 << 50)) {
            FAIL(i, "type holds too many elements");
            ok = false;
        }
        if (!ok)
            continue;
        IrType st[IR_MAXSRC];
        for (int k = 0; k < n->nsrc; k++)
            st[k] = g->nodes[n->src[k]].type;
        IrType t = n->type;
        const char *why = ir_shape_rule((Op)n->op, st, n->nsrc, &n->attr, &t);
        if (why) {
            FAIL(i, "%s: %s", ir_op_name[n->op], why);
            continue;
        }
        if (!ir_type_eq(&t, &n->type)) {
            char want[256];
            ir_type_fmt(want, sizeof want, &t);
            FAIL(i, "%s: type should be %s", ir_op_name[n->op], want);
        }
    }
    for (int r = 0; r < g->nres; r++) {
        const IrResult *res = &g->res[r];
        if (res->node >= g->len) {
            fprintf(err, "nnc: error: verify %s: result %d names %%%u, past the last node\n",
                    g->name, r, res->node);
            bad = 1;
            continue;
        }
        if (res->index < 0) {
            FAIL(res->node, "result %d has a negative index", r);
            continue;
        }
        const IrType *t = &g->nodes[res->node].type;
        if (res->kind == RES_LOSS && (t->rank != 0 || t->dtype != DT_F32))
            FAIL(res->node, "loss %d is not a rank-0 f32", res->index);
        for (int q = 0; q < r; q++)
            if (g->res[q].kind == res->kind && g->res[q].index == res->index)
                FAIL(res->node, "result %d writes the same %s index %d as result %d", r,
                     res->kind == RES_LOSS ? "loss" : res->kind == RES_GRAD ? "gradient" : "buffer", res->index, q);
    }
#undef FAIL
    return bad ? -1 : 0;
}

static const char *const res_name[] = {"output", "loss", "update", "grad"};

/* Module-level checks on top of ir_verify: sources and RES_OUTPUT/RES_UPDATE match the tensor they
 * name (index in range, right role, same type). */
int ir_module_verify(const IrModule *m, FILE *err) {
    int bad = 0;
    const IrGraph *gs[64];
    int ng = 0;
    if (m->forward)
        gs[ng++] = m->forward;
    if (m->evaluate)
        gs[ng++] = m->evaluate;
    for (int k = 0; k < m->nsteps && ng < 64; k++)
        if (m->steps[k].graph)
            gs[ng++] = m->steps[k].graph;
    for (int q = 0; q < ng; q++) {
        const IrGraph *g = gs[q];
        if (ir_verify(g, err))
            bad = 1;
        for (uint32_t i = 0; i < g->len; i++) {
            const IrNode *n = &g->nodes[i];
            IrRole want;
            if (n->op == OP_INPUT)
                want = ROLE_INPUT;
            else if (n->op == OP_PARAM)
                want = ROLE_PARAM;
            else if (n->op == OP_STATE)
                want = ROLE_STATE;
            else
                continue;
            int64_t b = n->attr.i[0];
            if (b < 0 || b >= m->ntensors) {
                fprintf(err, "nnc: error: verify %s: %%%u: %s reads tensor %lld of %d\n", g->name,
                        i, ir_op_name[n->op], (long long)b, m->ntensors);
                bad = 1;
                continue;
            }
            const IrTensor *t = &m->tensors[b];
            bool role_ok = t->role == want || (want == ROLE_INPUT && t->role == ROLE_TARGET);
            if (!role_ok || !ir_type_eq(&t->type, &n->type)) {
                fprintf(err, "nnc: error: verify %s: %%%u: %s does not match tensor %lld (%s %s)\n",
                        g->name, i, ir_op_name[n->op], (long long)b, ir_role_name[t->role],
                        t->name);
                bad = 1;
            }
        }
        for (int r = 0; r < g->nres; r++) {
            const IrResult *res = &g->res[r];
            if (res->kind == RES_LOSS) {
                if (res->index >= m->nlosses) {
                    fprintf(err, "nnc: error: verify %s: loss index %d of %d\n", g->name,
                            res->index, m->nlosses);
                    bad = 1;
                }
                continue;
            }
            if (res->index < 0 || res->index >= m->ntensors || res->node >= g->len) {
                fprintf(err, "nnc: error: verify %s: result %d writes tensor %d of %d\n", g->name,
                        r, res->index, m->ntensors);
                bad = 1;
                continue;
            }
            const IrTensor *t = &m->tensors[res->index];
            bool role_ok = res->kind == RES_OUTPUT ? t->role == ROLE_OUTPUT
                           : res->kind == RES_GRAD ? t->role == ROLE_PARAM
                                                   : (t->role == ROLE_PARAM || t->role == ROLE_STATE);
            if (!role_ok || !ir_type_eq(&t->type, &g->nodes[res->node].type)) {
                char a[256], b[256];
                ir_type_fmt(a, sizeof a, &g->nodes[res->node].type);
                ir_type_fmt(b, sizeof b, &t->type);
                fprintf(
                    err,
                    "nnc: error: verify %s: %s %d = %%%u (%s) does not match tensor %s (%s %s)\n",
                    g->name, res_name[res->kind], res->index, res->node,
                    a, t->name, ir_role_name[t->role], b);
                bad = 1;
            }
        }
    }
    return bad ? -1 : 0;
}
