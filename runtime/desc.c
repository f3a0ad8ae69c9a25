/* desc.c - parses the descriptor text of runtime/nnc_abi.h into an RtDesc and validates it.
 *
 * The descriptor is written by the compiler, so a malformed one is a compiler bug or a stale
 * object file; either way the user gets `descriptor line N: ...` naming what is wrong rather than
 * a crash later in training.
 *
 * No record has a length limit: the text is copied once into RtDesc.text, split in place, and every
 * name points into that copy; the per-kind arrays are sized by a first pass over the lines. The
 * data record (and the valdata record, `validation csv(...)`) is kept verbatim (the rest of its
 * line), so a path with repeated spaces survives.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

typedef struct Line {
    int n, cap;
    char **tok;                 /* [cap]: a line of L bytes has at most L/2 + 1 fields */
} Line;

static int split(char *s, Line *l) {
    l->n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r') *s++ = 0;
        if (!*s) break;
        if (l->n == l->cap) return -1;
        l->tok[l->n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r') s++;
    }
    return 0;
}

static bool parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *v = x;
    return true;
}

static bool parse_f64(const char *s, double *v) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end) return false;
    *v = x;
    return true;
}

static const struct { const char *name; RtInit init; } inits[] = {
    {"zeros", INIT_ZEROS}, {"ones", INIT_ONES}, {"constant", INIT_CONSTANT},
    {"uniform", INIT_UNIFORM}, {"normal", INIT_NORMAL}, {"glorot_uniform", INIT_GLOROT_UNIFORM},
    {"glorot_normal", INIT_GLOROT_NORMAL}, {"xavier_uniform", INIT_GLOROT_UNIFORM},
    {"xavier_normal", INIT_GLOROT_NORMAL}, {"he_uniform", INIT_HE_UNIFORM},
    {"he_normal", INIT_HE_NORMAL}, {"kaiming_uniform", INIT_HE_UNIFORM},
    {"kaiming_normal", INIT_HE_NORMAL}, {"literal", INIT_LITERAL},
};

#define BAD(...) do { rt_error(c, "descriptor line %d: " __VA_ARGS__); goto fail; } while (0)

static int parse_tensor(RtCtx *c, RtDesc *d, Line *l, int lineno) {
    RtTensor *t = &d->t[d->nt];
    memset(t, 0, sizeof *t);
    int k = 1;
    if (l->n < 6) BAD("tensor record needs ROLE INDEX NAME DTYPE RANK DIM...", lineno);
    static const char *const roles[] = {"input", "target", "output", "param", "state"};
    int r = -1;
    for (int i = 0; i < 5; i++) if (!strcmp(l->tok[k], roles[i])) r = i;
    if (r < 0) BAD("unknown tensor role '%s'", lineno, l->tok[k]);
    t->role = (RtRole)r;
    k++;
    int64_t idx;
    if (!parse_i64(l->tok[k], &idx) || idx != d->nt)
        BAD("tensor index '%s' out of order (expected %d)", lineno, l->tok[k], d->nt);
    t->index = (int)idx;
    k++;
    t->name = l->tok[k];
    for (int i = 0; i < d->nt; i++)
        if (!strcmp(d->t[i].name, t->name)) BAD("duplicate tensor name '%s'", lineno, t->name);
    k++;
    if (!strcmp(l->tok[k], "f32")) t->dtype = RT_F32;
    else if (!strcmp(l->tok[k], "i32")) t->dtype = RT_I32;
    else if (!strcmp(l->tok[k], "bool")) t->dtype = RT_BOOL;
    else BAD("tensor '%s' has unknown dtype '%s'", lineno, t->name, l->tok[k]);
    k++;
    int64_t rank;
    if (!parse_i64(l->tok[k], &rank) || rank < 0 || rank > RT_MAXRANK)
        BAD("tensor '%s' has bad rank '%s'", lineno, t->name, l->tok[k]);
    t->rank = (int)rank;
    k++;
    if (l->n < k + t->rank) BAD("tensor '%s' has fewer dims than its rank %d", lineno, t->name, t->rank);
    for (int i = 0; i < t->rank; i++, k++) {
        if (!strcmp(l->tok[k], "B")) {
            if (i != 0 || t->role == RT_PARAM || t->role == RT_STATE)
                BAD("tensor '%s': the batch dim B may only be the first dim of an input, target or "
                    "output", lineno, t->name);
            t->dim[i] = RT_DIM_B;
        } else if (!parse_i64(l->tok[k], &t->dim[i]) || t->dim[i] <= 0) {
            BAD("tensor '%s' has bad dim '%s'", lineno, t->name, l->tok[k]);
        }
    }
    if ((t->role == RT_INPUT || t->role == RT_TARGET) && (t->rank == 0 || t->dim[0] != RT_DIM_B))
        BAD("%s '%s' must have B as its first dim", lineno, rt_role_name(t->role), t->name);
    while (k < l->n) {
        if (!strcmp(l->tok[k], "init")) {
            if (t->role != RT_PARAM && t->role != RT_STATE)
                BAD("only params and state have an init (tensor '%s')", lineno, t->name);
            if (l->n < k + 6) BAD("init of '%s' needs KIND A B FANIN FANOUT", lineno, t->name);
            t->init = INIT_NONE;
            for (size_t i = 0; i < sizeof inits / sizeof inits[0]; i++)
                if (!strcmp(inits[i].name, l->tok[k + 1])) t->init = inits[i].init;
            if (t->init == INIT_NONE) BAD("unknown init '%s' of '%s'", lineno, l->tok[k + 1], t->name);
            if (!parse_f64(l->tok[k + 2], &t->init_a) || !parse_f64(l->tok[k + 3], &t->init_b) ||
                !parse_i64(l->tok[k + 4], &t->fan_in) || !parse_i64(l->tok[k + 5], &t->fan_out))
                BAD("bad init arguments of '%s'", lineno, t->name);
            k += 6;
        } else if (!strcmp(l->tok[k], "data")) {
            int64_t n;
            if (k + 1 >= l->n || !parse_i64(l->tok[k + 1], &n) || n < 0 || n > l->n - k - 2)
                BAD("bad data count of '%s'", lineno, t->name);
            t->literal = rt_alloc(c, (size_t)(n ? n : 1) * sizeof(float));
            if (!t->literal) goto fail;
            t->nliteral = n;
            for (int64_t i = 0; i < n; i++) {
                double v;
                if (!parse_f64(l->tok[k + 2 + i], &v))
                    BAD("bad data value '%s' of '%s'", lineno, l->tok[k + 2 + i], t->name);
                t->literal[i] = (float)v;
            }
            k += 2 + (int)n;
        } else if (!strcmp(l->tok[k], "frozen") && k == l->n - 1 && t->role == RT_PARAM) {
            t->frozen = true;
            k++;
        } else if (!strcmp(l->tok[k], "conditions") && k == l->n - 1 && t->role == RT_TARGET) {
            t->conditions = true;
            k++;
        } else {
            BAD("unexpected field '%s' in tensor '%s'", lineno, l->tok[k], t->name);
        }
    }
    if ((t->role == RT_PARAM || t->role == RT_STATE) && t->init == INIT_NONE) t->init = INIT_ZEROS;
    if (t->init == INIT_LITERAL && t->nliteral != rt_numel(t, 1))
        BAD("literal '%s' has %lld values, its shape holds %lld", lineno, t->name,
            (long long)t->nliteral, (long long)rt_numel(t, 1));
    d->nt++;
    return 0;
fail:
    rt_free(c, t->literal);
    t->literal = NULL;
    return -1;
}

static bool is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

int rt_desc_parse(RtCtx *c, const char *text, RtDesc *d) {
    memset(d, 0, sizeof *d);
    d->nclasses = -1;
    d->name = "";
    d->data = "";
    d->valdata = "";
    if (!text) return rt_error(c, "descriptor: missing");
    size_t len = strlen(text);
    int ntensor = 0, nlines = 1;
    for (const char *p = text; (p = strstr(p, "tensor ")); p++) ntensor++;
    for (const char *p = text; *p; p++) nlines += *p == '\n';
    size_t nl = (size_t)nlines;
    d->t = rt_calloc(c, sizeof(RtTensor) * (size_t)(ntensor ? ntensor : 1));
    d->text = rt_alloc(c, len + 1);
    d->loss = rt_alloc(c, sizeof(char *) * nl);
    d->step = rt_alloc(c, sizeof(RtStep) * nl);
    d->hyper_name = rt_alloc(c, sizeof(char *) * nl);
    d->hyper_val = rt_alloc(c, sizeof(double) * nl);
    d->metric = rt_alloc(c, sizeof(char *) * nl);
    Line line = {0, (int)(len / 2 + 2), NULL}, *l = &line;
    line.tok = rt_alloc(c, sizeof(char *) * (size_t)line.cap);
    d->layer = rt_alloc(c, sizeof(RtLayer) * nl);
    d->over = rt_alloc(c, sizeof(char *) * (size_t)line.cap);
    d->reg = rt_alloc(c, sizeof(RtReg) * nl);
    if (!d->reg || !d->t || !d->text || !d->loss || !d->step || !d->hyper_name || !d->hyper_val || !d->metric || !line.tok ||
        !d->layer || !d->over)
        goto fail;
    memcpy(d->text, text, len + 1);
    int lineno = 0;
    bool have_model = false, have_end = false, have_data = false;
    for (char *s = d->text, *next; s && *s; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *b = s;
        while (is_ws(*b)) b++;
        bool val = !strncmp(b, "valdata", 7) && (is_ws(b[7]) || !b[7]);
        if (val) {
            char *v = b + 7, *e = v + strlen(v);
            while (is_ws(*v)) v++;
            while (e > v && is_ws(e[-1])) *--e = 0;
            if (have_end) BAD("record 'valdata' after 'end'", lineno);
            if (!have_model) BAD("expected 'model NAME' first, found 'valdata'", lineno);
            if (*d->valdata) BAD("a second valdata record", lineno);
            if (!*v) BAD("empty valdata record", lineno);
            d->valdata = v;
            continue;
        }
        if (!strncmp(b, "data", 4) && (is_ws(b[4]) || !b[4])) {
            /* verbatim: only the blanks around the spec go (a path's own spaces sit inside quotes) */
            char *v = b + 4, *e = v + strlen(v);
            while (is_ws(*v)) v++;
            while (e > v && is_ws(e[-1])) *--e = 0;
            if (have_end) BAD("record 'data' after 'end'", lineno);
            if (!have_model) BAD("expected 'model NAME' first, found 'data'", lineno);
            if (have_data) BAD("a second data record", lineno);
            if (!*v) BAD("empty data record", lineno);
            d->data = v;
            have_data = true;
            continue;
        }
        if (split(s, l)) BAD("too many fields", lineno);
        if (l->n == 0) continue;
        const char *kw = l->tok[0];
        if (have_end) BAD("record '%s' after 'end'", lineno, kw);
        if (!have_model && strcmp(kw, "model")) BAD("expected 'model NAME' first, found '%s'", lineno, kw);
        if (!strcmp(kw, "model")) {
            if (have_model || l->n != 2) BAD("bad model record", lineno);
            d->name = l->tok[1];
            have_model = true;
        } else if (!strcmp(kw, "tensor")) {
            if (d->nt >= ntensor) BAD("too many tensors", lineno);
            if (parse_tensor(c, d, l, lineno)) goto fail;
        } else if (!strcmp(kw, "loss")) {
            if (l->n != 2) BAD("bad loss record", lineno);
            d->loss[d->nloss++] = l->tok[1];
        } else if (!strcmp(kw, "step")) {
            RtStep *st = &d->step[d->nstep];
            if (l->n != 5 || !parse_f64(l->tok[4], &st->lr))
                BAD("bad step record (expected: step NAME LOSS OPTIMIZER LR)", lineno);
            st->name = l->tok[1];
            st->loss = l->tok[2];
            st->optimizer = l->tok[3];
            st->loss_index = -1;
            st->schedule = NULL;
            st->sched_a = st->sched_b = 0;
            st->over_at = st->nover = 0;
            for (int i = 0; i < d->nloss; i++) if (!strcmp(d->loss[i], st->loss)) st->loss_index = i;
            if (st->loss_index < 0) BAD("step '%s' minimizes unknown loss '%s'", lineno, st->name, st->loss);
            d->nstep++;
        } else if (!strcmp(kw, "schedule")) {
            /* schedule STEP NAME A B: the learning-rate schedule of a step, for the rate the epoch
             * line and the history report (around.c rt_step_lr) */
            RtStep *st = NULL;
            for (int i = 0; i < d->nstep; i++) if (l->n == 5 && !strcmp(d->step[i].name, l->tok[1])) st = &d->step[i];
            if (!st || !parse_f64(l->tok[3], &st->sched_a) || !parse_f64(l->tok[4], &st->sched_b))
                BAD("bad schedule record (expected: schedule STEP NAME A B, after its step)", lineno);
            st->schedule = l->tok[2];
        } else if (!strcmp(kw, "layer")) {
            /* layer NAME KIND PARAMS SHARED DTYPE RANK DIM... (summary's table) */
            RtLayer *y = &d->layer[d->nlayer];
            int64_t rank = -1, shared = -1;
            bool ok = l->n >= 7 && parse_i64(l->tok[3], &y->params) && y->params >= 0 && parse_i64(l->tok[4], &shared) &&
                      (shared == 0 || shared == 1) && parse_i64(l->tok[6], &rank) && rank >= 0 && rank <= RT_MAXRANK &&
                      l->n == 7 + rank;
            for (int i = 0; ok && i < rank; i++)
                ok = !strcmp(l->tok[7 + i], "B") ? (y->dim[i] = RT_DIM_B, true) : parse_i64(l->tok[7 + i], &y->dim[i]) && y->dim[i] > 0;
            if (ok) ok = !strcmp(l->tok[5], "f32") || !strcmp(l->tok[5], "i32") || !strcmp(l->tok[5], "bool");
            if (!ok) BAD("bad layer record (expected: layer NAME KIND PARAMS SHARED DTYPE RANK DIM...)", lineno);
            y->name = l->tok[1];
            y->kind = l->tok[2];
            y->shared = shared == 1;
            y->dtype = !strcmp(l->tok[5], "f32") ? RT_F32 : !strcmp(l->tok[5], "i32") ? RT_I32 : RT_BOOL;
            y->rank = (int)rank;
            d->nlayer++;
        } else if (!strcmp(kw, "over")) {
            /* over STEP PATH...: the parameter paths a step trains */
            RtStep *st = NULL;
            for (int i = 0; i < d->nstep; i++) if (l->n >= 3 && !strcmp(d->step[i].name, l->tok[1])) st = &d->step[i];
            if (!st || st->nover) BAD("bad over record (expected: over STEP PATH..., once, after its step)", lineno);
            st->over_at = d->nover;
            for (int i = 2; i < l->n; i++) d->over[d->nover++] = l->tok[i];
            st->nover = l->n - 2;
        } else if (!strcmp(kw, "reg")) {
            /* reg STEP LOSS FN COEF PATH: an l1/l2 term of a loss the step minimizes */
            RtReg *r = &d->reg[d->nreg];
            r->step = -1;
            for (int i = 0; i < d->nstep; i++) if (l->n == 6 && !strcmp(d->step[i].name, l->tok[1])) r->step = i;
            bool known = false;
            for (int i = 0; r->step >= 0 && i < d->nloss; i++) known |= !strcmp(d->loss[i], l->tok[2]);
            known |= r->step >= 0 && !strcmp(l->tok[2], "-") && !strcmp(l->tok[5], "*");   /* the optimizer's */
            if (!known || (strcmp(l->tok[3], "l1") && strcmp(l->tok[3], "l2")) || !parse_f64(l->tok[4], &r->coef))
                BAD("bad reg record (expected: reg STEP LOSS l1|l2 COEF PATH, after its step and loss)", lineno);
            r->loss = l->tok[2];
            r->fn = l->tok[3];
            r->path = l->tok[5];
            d->nreg++;
        } else if (!strcmp(kw, "hyper")) {
            if (l->n != 3 || !parse_f64(l->tok[2], &d->hyper_val[d->nhyper]))
                BAD("bad hyper record (expected: hyper NAME VALUE)", lineno);
            d->hyper_name[d->nhyper++] = l->tok[1];
        } else if (!strcmp(kw, "metric")) {
            if (l->n != 2) BAD("bad metric record", lineno);
            d->metric[d->nmetric++] = l->tok[1];
        } else if (!strcmp(kw, "task")) {
            int64_t n;
            if (l->n == 2 && !strcmp(l->tok[1], "regress")) d->nclasses = 0;
            else if (l->n == 3 && !strcmp(l->tok[1], "classify") && parse_i64(l->tok[2], &n) && n > 0 &&
                     n < 1000000)
                d->nclasses = (int)n;
            else BAD("bad task record (expected: task classify N | task regress)", lineno);
        } else if (!strcmp(kw, "plan")) {
            if ((l->n != 4 && l->n != 5) || d->nplan >= 4 || !parse_i64(l->tok[2], &d->plan_a[d->nplan]) ||
                !parse_i64(l->tok[3], &d->plan_c[d->nplan]) || (l->n == 5 && !parse_i64(l->tok[4], &d->plan_a2[d->nplan])))
                BAD("bad plan record (expected: plan CLASS A C [A2], at most 4)", lineno);
            d->plan_class[d->nplan++] = l->tok[1];
        } else if (!strcmp(kw, "end")) {
            have_end = true;
        } else {
            BAD("unknown record '%s'", lineno, kw);
        }
    }
    if (!have_model) BAD("no 'model' record", lineno);
    if (!have_end) BAD("missing 'end' record (truncated descriptor?)", lineno);
    if (d->nclasses > 0) {
        int o = rt_first(d, RT_OUTPUT), tg = rt_first(d, RT_TARGET);
        if (o < 0 || d->t[o].rank != 2 || d->t[o].dim[1] != d->nclasses)
            BAD("a classifier of %d classes needs a first output of shape [B, %d]", lineno, d->nclasses,
                d->nclasses);
        if (tg >= 0 && (d->t[tg].dtype != RT_I32 || d->t[tg].rank != 1))
            BAD("a classifier's first target must be i32[B]", lineno);
    }
    rt_free(c, line.tok);
    return 0;
fail:
    rt_free(c, line.tok);
    rt_desc_free(c, d);
    return -1;
}

void rt_desc_free(RtCtx *c, RtDesc *d) {
    if (d->t)
        for (int i = 0; i < d->nt; i++) rt_free(c, d->t[i].literal);
    rt_free(c, d->t);
    rt_free(c, d->text);
    rt_free(c, d->loss);
    rt_free(c, d->step);
    rt_free(c, d->hyper_name);
    rt_free(c, d->hyper_val);
    rt_free(c, d->metric);
    rt_free(c, d->layer);
    rt_free(c, d->over);
    rt_free(c, d->reg);
    memset(d, 0, sizeof *d);
    d->name = "";
    d->data = "";
    d->valdata = "";
    d->nclasses = -1;
}

bool rt_hyper(const RtDesc *d, const char *name, double *v) {
    for (int i = 0; i < d->nhyper; i++)
        if (!strcmp(d->hyper_name[i], name)) {
            *v = d->hyper_val[i];
            return true;
        }
    return false;
}

int rt_first(const RtDesc *d, RtRole role) {
    for (int i = 0; i < d->nt; i++)
        if (d->t[i].role == role) return i;
    return -1;
}
