/* desc.c - parses the descriptor text of runtime/nnc_abi.h into an RtDesc and validates it.
 *
 * The descriptor is written by the compiler, so a malformed one is a compiler bug or a stale
 * object file; either way the user gets `descriptor line N: ...` naming what is wrong rather than
 * a crash later in training.
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

static bool copy_name(char *dst, size_t n, const char *src) {
    if (strlen(src) >= n) return false;
    memcpy(dst, src, strlen(src) + 1);
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
    if (!copy_name(t->name, sizeof t->name, l->tok[k])) BAD("tensor name too long", lineno);
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

int rt_desc_parse(RtCtx *c, const char *text, RtDesc *d) {
    memset(d, 0, sizeof *d);
    d->nclasses = -1;
    if (!text) return rt_error(c, "descriptor: missing");
    size_t len = strlen(text);
    int ntensor = 0;
    for (const char *p = text; (p = strstr(p, "tensor ")); p++) ntensor++;
    d->t = rt_calloc(c, sizeof(RtTensor) * (size_t)(ntensor ? ntensor : 1));
    char *buf = rt_alloc(c, len + 1);
    Line line = {0, (int)(len / 2 + 2), NULL}, *l = &line;
    line.tok = rt_alloc(c, sizeof(char *) * (size_t)line.cap);
    if (!d->t || !buf || !line.tok) goto fail;
    memcpy(buf, text, len + 1);
    int lineno = 0;
    bool have_model = false, have_end = false;
    for (char *s = buf, *next; s && *s; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        lineno++;
        if (split(s, l)) BAD("too many fields", lineno);
        if (l->n == 0) continue;
        const char *kw = l->tok[0];
        if (have_end) BAD("record '%s' after 'end'", lineno, kw);
        if (!have_model && strcmp(kw, "model")) BAD("expected 'model NAME' first, found '%s'", lineno, kw);
        if (!strcmp(kw, "model")) {
            if (have_model || l->n != 2 || !copy_name(d->name, sizeof d->name, l->tok[1]))
                BAD("bad model record", lineno);
            have_model = true;
        } else if (!strcmp(kw, "tensor")) {
            if (d->nt >= ntensor) BAD("too many tensors", lineno);
            if (parse_tensor(c, d, l, lineno)) goto fail;
        } else if (!strcmp(kw, "loss")) {
            if (l->n != 2 || d->nloss == RT_MAXL || !copy_name(d->loss[d->nloss], 64, l->tok[1]))
                BAD("bad loss record", lineno);
            d->nloss++;
        } else if (!strcmp(kw, "step")) {
            RtStep *st = &d->step[d->nstep];
            if (l->n != 5 || d->nstep == RT_MAXL || !copy_name(st->name, 64, l->tok[1]) ||
                !copy_name(st->loss, 64, l->tok[2]) || !copy_name(st->optimizer, 64, l->tok[3]) ||
                !parse_f64(l->tok[4], &st->lr))
                BAD("bad step record (expected: step NAME LOSS OPTIMIZER LR)", lineno);
            st->loss_index = -1;
            for (int i = 0; i < d->nloss; i++) if (!strcmp(d->loss[i], st->loss)) st->loss_index = i;
            if (st->loss_index < 0) BAD("step '%s' minimizes unknown loss '%s'", lineno, st->name, st->loss);
            d->nstep++;
        } else if (!strcmp(kw, "hyper")) {
            if (l->n != 3 || d->nhyper == RT_MAXH || !copy_name(d->hyper_name[d->nhyper], 64, l->tok[1]) ||
                !parse_f64(l->tok[2], &d->hyper_val[d->nhyper]))
                BAD("bad hyper record (expected: hyper NAME VALUE)", lineno);
            d->nhyper++;
        } else if (!strcmp(kw, "data")) {
            size_t k = 0;
            for (int i = 1; i < l->n; i++) {
                size_t tl = strlen(l->tok[i]);
                if (k + tl + 2 > sizeof d->data) BAD("data record too long", lineno);
                if (i > 1) d->data[k++] = ' ';
                memcpy(d->data + k, l->tok[i], tl + 1);
                k += tl;
            }
            if (l->n < 2) BAD("empty data record", lineno);
        } else if (!strcmp(kw, "metric")) {
            if (l->n != 2 || d->nmetric == RT_MAXL || !copy_name(d->metric[d->nmetric], 32, l->tok[1]))
                BAD("bad metric record", lineno);
            d->nmetric++;
        } else if (!strcmp(kw, "task")) {
            int64_t n;
            if (l->n == 2 && !strcmp(l->tok[1], "regress")) d->nclasses = 0;
            else if (l->n == 3 && !strcmp(l->tok[1], "classify") && parse_i64(l->tok[2], &n) && n > 0 &&
                     n < 1000000)
                d->nclasses = (int)n;
            else BAD("bad task record (expected: task classify N | task regress)", lineno);
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
    rt_free(c, buf);
    rt_free(c, line.tok);
    return 0;
fail:
    rt_free(c, buf);
    rt_free(c, line.tok);
    rt_desc_free(c, d);
    return -1;
}

void rt_desc_free(RtCtx *c, RtDesc *d) {
    if (d->t)
        for (int i = 0; i < d->nt; i++) rt_free(c, d->t[i].literal);
    rt_free(c, d->t);
    d->t = NULL;
    d->nt = 0;
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
