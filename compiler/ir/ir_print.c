/* ir_print.c - the textual form of graphs and modules (nnc --emit ir, --dump-after, lit tests).
 *
 * The form is line based so ir_parse.c can read it back and print(parse(print(m))) == print(m):
 * numbers are printed in the shortest form that reads back to the same value, every attribute a
 * node holds is printed, and nodes are numbered by their index. docs/ir.md describes the grammar.
 */
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shortest %g form that strtod reads back to x. */
void ir_fmt_double(char *buf, size_t n, double x) {
    if (isnan(x)) {
        snprintf(buf, n, "nan");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* Shortest %g form that strtof reads back to x. */
void ir_fmt_float(char *buf, size_t n, float x) {
    if (isnan(x)) {
        snprintf(buf, n, "nan");
        return;
    }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)x);
        if (strtof(buf, NULL) == x)
            return;
    }
}

static void print_double(FILE *out, double x) {
    char b[64];
    ir_fmt_double(b, sizeof b, x);
    fputs(b, out);
}

static void print_float(FILE *out, float x) {
    char b[64];
    ir_fmt_float(b, sizeof b, x);
    fputs(b, out);
}

static void print_node(FILE *out, const IrNode *n, uint32_t idx) {
    fprintf(out, "  %%%u = %s", idx, ir_op_name[n->op]);
    for (int k = 0; k < n->nsrc; k++)
        fprintf(out, "%s%%%u", k ? ", " : " ", n->src[k]);
    const IrAttr *a = &n->attr;
    bool any = a->ni > 0 || a->f != 0 || signbit(a->f) || a->name || a->data;
    if (any) {
        const char *sep = "";
        fputs(" {", out);
        if (a->ni > 0) {
            fputs("i=[", out);
            for (int k = 0; k < a->ni; k++)
                fprintf(out, "%s%lld", k ? "," : "", (long long)a->i[k]);
            fputs("]", out);
            sep = ", ";
        }
        if (a->f != 0 || signbit(a->f) || isnan(a->f)) {
            fprintf(out, "%sf=", sep);
            if (n->op == OP_CONST && !a->data && n->type.dtype == DT_F32)
                print_float(out, (float)a->f);
            else
                print_double(out, a->f);
            sep = ", ";
        }
        if (a->name) {
            fprintf(out, "%sname=\"%s\"", sep, a->name);
            sep = ", ";
        }
        if (a->data) {
            fprintf(out, "%sdata=[", sep);
            int64_t cnt = a->ni > 0 ? a->i[0] : 0;
            for (int64_t k = 0; k < cnt; k++) {
                if (k)
                    fputs(",", out);
                print_float(out, a->data[k]);
            }
            fputs("]", out);
        }
        fputs("}", out);
    }
    fputs(" : ", out);
    ir_type_print(out, &n->type);
    fputs("\n", out);
}

static const char *const res_kind_name[] = {"output", "loss", "update", "grad"};

static void print_graph(FILE *out, const IrGraph *g, const char *name) {
    fprintf(out, "graph %s {\n", name);
    for (uint32_t i = 0; i < g->len; i++)
        print_node(out, &g->nodes[i], i);
    for (int r = 0; r < g->nres; r++)
        fprintf(out, "  %s %d = %%%u\n", res_kind_name[g->res[r].kind], g->res[r].index,
                g->res[r].node);
    fputs("}\n", out);
}

void ir_print(FILE *out, const IrGraph *g) { print_graph(out, g, g->name); }

const char *const ir_role_name[] = {"input", "target", "output", "param", "state"};

static const char *str_or_dash(const char *s) { return s && *s ? s : "-"; }

void ir_module_print(FILE *out, const IrModule *m) {
    fprintf(out, "module %s\n", m->name);
    for (int k = 0; k < m->ntensors; k++) {
        const IrTensor *t = &m->tensors[k];
        fprintf(out, "tensor %s %d %s ", ir_role_name[t->role], k, t->name);
        ir_type_print(out, &t->type);
        if (t->init) {
            fprintf(out, " init %s ", t->init);
            print_double(out, t->init_a);
            fputc(' ', out);
            print_double(out, t->init_b);
            fprintf(out, " %lld %lld", (long long)t->fan_in, (long long)t->fan_out);
        }
        if (t->data) {
            int64_t n = ir_numel(&t->type, 0);
            fprintf(out, " data %lld", (long long)n);
            for (int64_t e = 0; e < n; e++) {
                fputc(' ', out);
                print_float(out, t->data[e]);
            }
        }
        if (t->frozen)
            fputs(" frozen", out);
        if (t->conditions)
            fputs(" conditions", out);
        fputc('\n', out);
    }
    for (int k = 0; k < m->nlosses; k++)
        fprintf(out, "loss %s\n", m->losses[k]);
    for (int k = 0; k < m->nsteps; k++) {
        const IrStep *s = &m->steps[k];
        fprintf(out, "step %s %s %s ", s->name, str_or_dash(s->loss), str_or_dash(s->optimizer));
        print_double(out, s->lr);
        bool same = s->objective == s->loss || (s->objective && s->loss && !strcmp(s->objective, s->loss));
        if (!same)
            fprintf(out, " minimize %s", str_or_dash(s->objective));
        if (s->nover > 0)
            fputs(" over", out);
        for (int i = 0; i < s->nover; i++)
            fprintf(out, " %s", s->over[i]);
        fputc('\n', out);
    }
    for (int k = 0; k < m->nhypers; k++) {
        fprintf(out, "hyper %s ", m->hypers[k]);
        print_double(out, m->hyper_vals[k]);
        fputc('\n', out);
    }
    if (m->data_spec)
        fprintf(out, "data %s\n", m->data_spec);
    if (m->val_spec)
        fprintf(out, "valdata %s\n", m->val_spec);
    for (int k = 0; k < m->nmetrics; k++)
        fprintf(out, "metric %s\n", m->metrics[k]);
    if (m->nclasses > 0)
        fprintf(out, "task classify %d\n", m->nclasses);
    else
        fputs("task regress\n", out);
    if (m->forward)
        print_graph(out, m->forward, "forward");
    if (m->evaluate)
        print_graph(out, m->evaluate, "evaluate");
    for (int k = 0; k < m->nsteps; k++)
        if (m->steps[k].graph) {
            char name[160];
            snprintf(name, sizeof name, "train.%s", m->steps[k].name);
            print_graph(out, m->steps[k].graph, name);
        }
}
