/* ir_desc.c - the descriptor text of a module (runtime/nnc_abi.h's grammar): what the runtime reads
 * to know a model's tensors, losses, steps, hyper-parameters, data and task. Both backends embed
 * it (llvm as P_desc, the interpreter in its NncModelDef), so it is made in one place.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void dims(FILE *f, const IrTensor *t) {
    fprintf(f, " %s %d", ir_dtype_name(t->type.dtype), t->type.rank);
    for (int k = 0; k < t->type.rank; k++) {
        Dim d = t->type.dim[k];
        if (d.a == 0)
            fprintf(f, " %lld", (long long)d.c);
        else if (d.a == 1 && d.c == 0)
            fputs(" B", f);
        else
            die("descriptor: tensor %s has dim %lld*B%+lld; only B itself can be written", t->name,
                (long long)d.a, (long long)d.c);
    }
}

char *ir_module_desc(Arena *a, const IrModule *m) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        die("open_memstream failed in ir_module_desc");
    fprintf(f, "model %s\n", m->name);
    for (int k = 0; k < m->ntensors; k++) {
        const IrTensor *t = &m->tensors[k];
        fprintf(f, "tensor %s %d %s", ir_role_name[t->role], k, t->name);
        dims(f, t);
        bool stored = t->role == ROLE_PARAM || t->role == ROLE_STATE;
        if (stored) {
            const char *kind = t->init ? t->init : t->data ? "literal" : "zeros";
            fprintf(f, " init %s %.9g %.9g %lld %lld", kind, t->init_a, t->init_b,
                    (long long)t->fan_in, (long long)t->fan_out);
        }
        if (t->data) {
            int64_t n = ir_numel(&t->type, 0);
            fprintf(f, " data %lld", (long long)n);
            for (int64_t e = 0; e < n; e++)
                fprintf(f, " %.9g", (double)t->data[e]);
        }
        if (t->frozen && t->role == ROLE_PARAM)
            fputs(" frozen", f);
        if (t->conditions && t->role == ROLE_TARGET)
            fputs(" conditions", f);
        fputc('\n', f);
    }
    for (int k = 0; k < m->nlosses; k++)
        fprintf(f, "loss %s\n", m->losses[k]);
    for (int k = 0; k < m->nsteps; k++) {
        const IrStep *s = &m->steps[k];
        fprintf(f, "step %s %s %s %.9g\n", s->name, s->loss ? s->loss : "-",
                s->optimizer ? s->optimizer : "-", s->lr);
        if (s->schedule)
            fprintf(f, "schedule %s %s %.9g %.9g\n", s->name, s->schedule, s->sched_a, s->sched_b);
    }
    for (int k = 0; k < m->nhypers; k++)
        fprintf(f, "hyper %s %.9g\n", m->hypers[k], m->hyper_vals[k]);
    if (m->data_spec)
        fprintf(f, "data %s\n", m->data_spec);
    if (m->val_spec)
        fprintf(f, "valdata %s\n", m->val_spec);
    for (int k = 0; k < m->nmetrics; k++)
        fprintf(f, "metric %s\n", m->metrics[k]);
    /* the layer-level picture for summary: layer NAME KIND PARAMS SHARED RANK DIM... (B: the batch) */
    for (int k = 0; k < m->ncalls; k++) {
        const IrCall *c = &m->calls[k];
        if (!strcmp(c->kind, "output") || !strcmp(c->kind, "loss") || !strcmp(c->kind, "target")) continue;
        bool is_loss = false;       /* `loss l = f(...)`: the loss, not a layer */
        for (int j = 0; j < m->nlosses; j++) is_loss |= !strcmp(m->losses[j], c->name) && c->type.rank == 0;
        if (is_loss) continue;
        bool plain = true;
        for (int j = 0; j < c->type.rank; j++) plain &= c->type.dim[j].a == 0 || (c->type.dim[j].a == 1 && c->type.dim[j].c == 0);
        if (!plain || strpbrk(c->name, " \t\n") || strpbrk(c->kind, " \t\n")) continue;
        fprintf(f, "layer %s %s %lld %d %s %d", c->name, c->kind, (long long)ir_call_params(m, c), c->shared ? 1 : 0,
                ir_dtype_name(c->type.dtype), c->type.rank);
        for (int j = 0; j < c->type.rank; j++) {
            if (c->type.dim[j].a) fputs(" B", f);
            else fprintf(f, " %lld", (long long)c->type.dim[j].c);
        }
        fputc('\n', f);
    }
    for (int k = 0; k < m->nsteps; k++) {
        const IrStep *s = &m->steps[k];
        if (!s->nover) continue;
        fprintf(f, "over %s", s->name);
        for (int j = 0; j < s->nover; j++) fprintf(f, " %s", s->over[j]);
        fputc('\n', f);
    }
    /* reg STEP LOSS FN COEF PATH: the l1/l2 terms of the losses a step minimizes (summary) */
    for (int k = 0; k < m->nsteps; k++) {
        const IrStep *s = &m->steps[k];
        for (int j = 0; j < m->nregs; j++) {
            const IrReg *r = &m->regs[j];
            if (s->objective && strcmp(s->objective, r->loss)) continue;
            if (strpbrk(r->path, " \t\n") || strpbrk(r->loss, " \t\n")) continue;
            fprintf(f, "reg %s %s %s %.9g %s\n", s->name, r->loss, r->fn, r->coef, r->path);
        }
        /* the optimizer's own l1/l2: LOSS "-", PATH "*" (every parameter the step trains) */
        if (s->opt_l1 != 0) fprintf(f, "reg %s - l1 %.9g *\n", s->name, s->opt_l1);
        if (s->opt_l2 != 0) fprintf(f, "reg %s - l2 %.9g *\n", s->name, s->opt_l2);
    }
    if (m->nclasses > 0)
        fprintf(f, "task classify %d\n", m->nclasses);
    else
        fputs("task regress\n", f);
    fputs("end\n", f);
    if (fclose(f) != 0)
        die("fclose of the memstream failed in ir_module_desc");
    char *s = arena_strndup(a, buf, len);
    free(buf);
    return s;
}
