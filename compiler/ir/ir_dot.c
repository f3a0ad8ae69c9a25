/* ir_dot.c - pictures of a module as Graphviz DOT: the layer-level graph (`nnc --emit dot`, `nnc
 * graph`), made from the module's IrCall rows (inputs, the calls the model body makes, outputs,
 * losses) with the shape of each value on its edge; and the primitive graph of one IR graph
 * (`--emit dot=ir`), one node per IR node. Text only: `nnc graph` runs Graphviz's own `dot`
 * program on it (compiler/driver/main.c), nothing here links Graphviz.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

/* A DOT string's contents: quotes and backslashes escaped, line breaks as \n. */
static void dot_str(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        if (*s == '\n') fputs("\\n", out);
        else fputc(*s, out);
    }
}

int64_t ir_call_params(const IrModule *m, const IrCall *c) {
    if (!c->prefix || c->shared) return 0;
    size_t n = strlen(c->prefix);
    int64_t total = 0;
    for (int i = 0; i < m->ntensors; i++)
        if (m->tensors[i].role == ROLE_PARAM && !strncmp(m->tensors[i].name, c->prefix, n))
            total += ir_numel(&m->tensors[i].type, 1);
    return total;
}

static void type_label(FILE *out, const IrType *t) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m) return;
    ir_type_print(m, t);
    fclose(m);
    dot_str(out, buf);
    free(buf);
}

void ir_dot_layers(FILE *out, const IrModule *m) {
    fputs("digraph \"", out);
    dot_str(out, m->name);
    fputs("\" {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", "
          "fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n", out);
    for (int i = 0; i < m->ncalls; i++) {
        const IrCall *c = &m->calls[i];
        bool io = !strcmp(c->kind, "input") || !strcmp(c->kind, "target");
        bool sink = !strcmp(c->kind, "output") || !strcmp(c->kind, "loss");
        fprintf(out, "  c%d [label=\"", i);
        dot_str(out, c->name);
        fputs("\\n", out);
        dot_str(out, c->kind);
        if (io || sink) {
            fputs(" ", out);
            type_label(out, &c->type);
        }
        int64_t p = ir_call_params(m, c);
        if (p) fprintf(out, "\\n%lld params", (long long)p);
        if (c->shared) fputs("\\n(shared parameters)", out);
        fputs("\"", out);
        if (io) fputs(", shape=ellipse, fillcolor=\"#e8f5e9\"", out);
        if (sink) fputs(!strcmp(c->kind, "loss") ? ", shape=octagon, fillcolor=\"#fdecea\"" :
                        ", shape=ellipse, fillcolor=\"#fff4e0\"", out);
        fputs("];\n", out);
    }
    for (int i = 0; i < m->ncalls; i++) {
        const IrCall *c = &m->calls[i];
        for (int j = 0; j < c->nfrom; j++) {
            fprintf(out, "  c%d -> c%d [label=\"", c->from[j], i);
            type_label(out, &m->calls[c->from[j]].type);
            fputs("\"];\n", out);
        }
    }
    fputs("}\n", out);
}

void ir_dot_graph(FILE *out, const IrModule *m, const IrGraph *g) {
    fputs("digraph \"", out);
    dot_str(out, m->name);
    fputs(".", out);
    dot_str(out, g->name);
    fputs("\" {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n", out);
    for (uint32_t i = 0; i < g->len; i++) {
        const IrNode *n = &g->nodes[i];
        fprintf(out, "  n%u [label=\"%%%u %s", i, i, ir_op_name[n->op]);
        if (n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_STATE) {
            int idx = (int)n->attr.i[0];
            if (idx >= 0 && idx < m->ntensors) {
                fputs(" ", out);
                dot_str(out, m->tensors[idx].name);
            }
        }
        fputs("\\n", out);
        type_label(out, &n->type);
        fputs("\"", out);
        if (n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_STATE)
            fputs(", shape=ellipse, style=filled, fillcolor=\"#e8f5e9\"", out);
        fputs("];\n", out);
        for (int k = 0; k < n->nsrc; k++) fprintf(out, "  n%u -> n%u;\n", n->src[k], i);
    }
    for (int r = 0; r < g->nres; r++) {
        const IrResult *res = &g->res[r];
        fprintf(out, "  r%d [shape=ellipse, style=filled, fillcolor=\"#fff4e0\", label=\"%s %d\"];\n  n%u -> r%d;\n",
                r, res->kind == RES_OUTPUT ? "output" : res->kind == RES_LOSS ? "loss" : res->kind == RES_UPDATE ?
                "update" : "grad", res->index, res->node, r);
    }
    fputs("}\n", out);
}
