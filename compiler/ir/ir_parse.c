/* ir_parse.c - reads the textual IR that ir_print.c writes (docs/ir.md "Textual form"), so pass
 * tests can feed a pass hand-written or dumped IR and print(parse(print(m))) == print(m).
 *
 * Line based: one record or node per line, `#` starts a comment. Nodes go through ir_add, so a
 * hand-written graph gets CSE like a built one; %names are mapped to the indices ir_add returns.
 * Types are not checked here (ir_verify does that), only the syntax, the arity of each op and that
 * operands are defined. Errors are `file:line:col: error: ...` on err and a NULL result.
 */
#include "ir.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    Arena *a;
    const char *file;
    FILE *err;
    const char *p; /* cursor */
    const char *line_start;
    const char *tok; /* start of the last token read: where errors point */
    int line;
    bool failed;
    IrModule *m;
    IrGraph *g;    /* the graph being read, or NULL */
    uint32_t *ids; /* %id -> node index + 1 (0 = undefined) */
    uint32_t nids;
} P;

static void perr(P *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(P *p, const char *fmt, ...) {
    if (p->failed)
        return;
    p->failed = true;
    const char *at = p->tok && p->tok >= p->line_start ? p->tok : p->p;
    fprintf(p->err, "%s:%d:%d: error: ", p->file, p->line, (int)(at - p->line_start) + 1);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->err, fmt, ap);
    va_end(ap);
    fputc('\n', p->err);
}

static void skip_space(P *p) {
    while (*p->p == ' ' || *p->p == '\t' || *p->p == '\r')
        p->p++;
    p->tok = p->p;
    if (*p->p == '#' || *p->p == ';') /* ; : the pipeline's "; after PASS" lines */
        while (*p->p && *p->p != '\n')
            p->p++;
}

static bool at_eol(P *p) {
    skip_space(p);
    return *p->p == '\n' || *p->p == 0;
}

static bool accept(P *p, char c) {
    skip_space(p);
    if (*p->p != c)
        return false;
    p->p++;
    return true;
}

static void expect(P *p, char c) {
    if (!accept(p, c))
        perr(p, "expected '%c'", c);
}

/* A bare word: names, kinds, the tokens of a data spec (anything up to a space or a brace). */
static const char *word(P *p) {
    skip_space(p);
    const char *s = p->p;
    while (*p->p && !isspace((unsigned char)*p->p) && *p->p != '{' && *p->p != '}')
        p->p++;
    if (p->p == s) {
        perr(p, "expected a name");
        return "";
    }
    return arena_strndup(p->a, s, (size_t)(p->p - s));
}

/* An identifier made of letters, digits, '_' and '.' (op names, dtype names, keys). */
static const char *ident(P *p) {
    skip_space(p);
    const char *s = p->p;
    while (isalnum((unsigned char)*p->p) || *p->p == '_' || *p->p == '.')
        p->p++;
    if (p->p == s) {
        perr(p, "expected an identifier");
        return "";
    }
    return arena_strndup(p->a, s, (size_t)(p->p - s));
}

static int64_t integer(P *p) {
    skip_space(p);
    char *end;
    errno = 0;
    long long v = strtoll(p->p, &end, 10);
    if (end == p->p || errno) {
        perr(p, "expected an integer");
        return 0;
    }
    p->p = end;
    return v;
}

static double number(P *p) {
    skip_space(p);
    char *end;
    double v = strtod(p->p, &end);
    if (end == p->p) {
        perr(p, "expected a number");
        return 0;
    }
    p->p = end;
    return v;
}

static float fnumber(P *p) {
    skip_space(p);
    char *end;
    float v = strtof(p->p, &end);
    if (end == p->p) {
        perr(p, "expected a number");
        return 0;
    }
    p->p = end;
    return v;
}

/* dim: INT | B | -B | INT*B, then optionally +INT or -INT after a B term */
static Dim dim(P *p) {
    skip_space(p);
    int64_t sign = 1;
    if (*p->p == '-' && p->p[1] == 'B') {
        sign = -1;
        p->p++;
    }
    if (*p->p == 'B') {
        p->p++;
        Dim d = {sign, 0};
        if (*p->p == '+' || *p->p == '-')
            d.c = integer(p);
        return d;
    }
    int64_t v = integer(p);
    if (*p->p == '*' && p->p[1] == 'B') {
        p->p += 2;
        Dim d = {v, 0};
        if (*p->p == '+' || *p->p == '-')
            d.c = integer(p);
        return d;
    }
    return (Dim){0, v};
}

/* type: DTYPE '[' dims ']' */
static IrType type(P *p) {
    IrType t = {0};
    const char *dt = ident(p);
    if (!strcmp(dt, "f32"))
        t.dtype = DT_F32;
    else if (!strcmp(dt, "i32"))
        t.dtype = DT_I32;
    else if (!strcmp(dt, "bool"))
        t.dtype = DT_BOOL;
    else
        perr(p, "unknown dtype '%s'", dt);
    expect(p, '[');
    if (!accept(p, ']')) {
        do {
            if (t.rank == IR_MAXRANK) {
                perr(p, "rank above %d", IR_MAXRANK);
                return t;
            }
            t.dim[t.rank++] = dim(p);
        } while (!p->failed && accept(p, ','));
        expect(p, ']');
    }
    return t;
}

static int lookup(const char *s, const char *const *names, int n) {
    for (int k = 0; k < n; k++)
        if (names[k] && !strcmp(s, names[k]))
            return k;
    return -1;
}

static const char *nullable(P *p) {
    const char *w = word(p);
    return strcmp(w, "-") ? w : NULL;
}

/* ---- module records ---- */

static void tensor_rec(P *p) {
    IrTensor t = {0};
    int role = lookup(word(p), ir_role_name, 5);
    if (role < 0)
        perr(p, "unknown tensor role");
    t.role = (IrRole)role;
    int64_t idx = integer(p);
    if (!p->failed && idx != p->m->ntensors)
        perr(p, "tensor index %lld, expected %d (tensors are numbered in order)", (long long)idx,
             p->m->ntensors);
    t.name = word(p);
    t.type = type(p);
    while (!p->failed && !at_eol(p)) {
        const char *kw = ident(p);
        if (!strcmp(kw, "init")) {
            t.init = word(p);
            t.init_a = number(p);
            t.init_b = number(p);
            t.fan_in = integer(p);
            t.fan_out = integer(p);
        } else if (!strcmp(kw, "data")) {
            int64_t n = integer(p);
            bool bdim = false;
            for (int k = 0; k < t.type.rank; k++)
                bdim = bdim || t.type.dim[k].a;
            if (!p->failed && (bdim || n != ir_numel(&t.type, 0))) {
                perr(p, "data has %lld values; the type holds %lld", (long long)n,
                     (long long)ir_numel(&t.type, 0));
                return;
            }
            float *d = arena_alloc(p->a, sizeof(float) * (size_t)(n ? n : 1));
            for (int64_t e = 0; e < n && !p->failed; e++)
                d[e] = fnumber(p);
            t.data = d;
        } else if (!strcmp(kw, "frozen")) {
            t.frozen = true;
        } else if (!strcmp(kw, "conditions")) {
            t.conditions = true;
        } else {
            perr(p, "unknown tensor field '%s'", kw);
        }
    }
    if (!p->failed)
        ir_module_tensor(p->m, t);
}

static IrStep *add_step(P *p, const char *name) {
    IrStep *s = ARENA_PUSH(p->a, p->m->steps, p->m->nsteps, p->m->capsteps);
    *s = (IrStep){.name = name};
    return s;
}

/* ---- graphs ---- */

static uint32_t operand(P *p) {
    expect(p, '%');
    const char *at = p->tok;
    int64_t id = integer(p);
    if (p->failed)
        return 0;
    if (id < 0 || (uint64_t)id >= p->nids || !p->ids[id]) {
        p->tok = at;
        perr(p, "%%%lld is not defined before this use", (long long)id);
        return 0;
    }
    return p->ids[id] - 1;
}

static void define(P *p, int64_t id, uint32_t node) {
    if (id < 0 || id > 100000000) {
        perr(p, "node id %%%lld out of range", (long long)id);
        return;
    }
    if ((uint64_t)id >= p->nids) {
        uint32_t n = p->nids ? p->nids : 64;
        while (n <= (uint64_t)id)
            n *= 2;
        p->ids = arena_realloc(p->a, p->ids, sizeof *p->ids * p->nids, sizeof *p->ids * n);
        p->nids = n;
    }
    if (p->ids[id]) {
        perr(p, "%%%lld is defined twice", (long long)id);
        return;
    }
    p->ids[id] = node + 1;
}

static void attrs(P *p, IrAttr *at) {
    int64_t ndata = -1;
    do {
        const char *key = ident(p);
        expect(p, '=');
        if (p->failed)
            return;
        if (!strcmp(key, "i")) {
            expect(p, '[');
            at->ni = 0;
            if (!accept(p, ']')) {
                do {
                    if (at->ni == 8) {
                        perr(p, "more than 8 integer attributes");
                        return;
                    }
                    at->i[at->ni++] = integer(p);
                } while (!p->failed && accept(p, ','));
                expect(p, ']');
            }
        } else if (!strcmp(key, "f")) {
            at->f = number(p);
        } else if (!strcmp(key, "name")) {
            expect(p, '"');
            const char *s = p->p;
            while (*p->p && *p->p != '"' && *p->p != '\n')
                p->p++;
            at->name = arena_strndup(p->a, s, (size_t)(p->p - s));
            expect(p, '"');
        } else if (!strcmp(key, "data")) {
            expect(p, '[');
            float *d = NULL;
            int len = 0, cap = 0;
            if (!accept(p, ']')) {
                do
                    *ARENA_PUSH(p->a, d, len, cap) = fnumber(p);
                while (!p->failed && accept(p, ','));
                expect(p, ']');
            }
            at->data = d ? d : arena_alloc(p->a, sizeof(float));
            ndata = len;
        } else {
            perr(p, "unknown attribute '%s'", key);
        }
    } while (!p->failed && accept(p, ','));
    if (ndata >= 0 && !p->failed && (at->ni < 1 || at->i[0] != ndata))
        perr(p, "data holds %lld values: it needs i=[%lld] before it", (long long)ndata,
             (long long)ndata);
}

static void node_line(P *p) {
    int64_t id = integer(p);
    expect(p, '=');
    const char *opname = ident(p);
    const char *optok = p->tok;
    if (p->failed)
        return;
    int op = lookup(opname, ir_op_name, OP__COUNT);
    if (op < 0) {
        perr(p, "unknown op '%s'", opname);
        return;
    }
    uint32_t src[IR_MAXSRC];
    int nsrc = 0;
    skip_space(p);
    if (*p->p == '%') {
        do {
            if (nsrc == IR_MAXSRC) {
                perr(p, "more than %d operands", IR_MAXSRC);
                return;
            }
            src[nsrc++] = operand(p);
        } while (!p->failed && accept(p, ','));
    }
    if (!p->failed && nsrc != ir_op_nsrc[op]) {
        p->tok = optok;
        perr(p, "%s takes %d operands, not %d", opname, ir_op_nsrc[op], nsrc);
        return;
    }
    IrAttr at = {0};
    if (accept(p, '{')) {
        attrs(p, &at);
        expect(p, '}');
    }
    expect(p, ':');
    IrType t = type(p);
    if (!p->failed && !at_eol(p))
        perr(p, "unexpected text after the node's type");
    if (p->failed)
        return;
    define(p, id, ir_add(p->g, (Op)op, t, src, nsrc, &at, (Loc){0}));
}

static void result_line(P *p, IrResultKind kind) {
    int64_t index = integer(p);
    expect(p, '=');
    uint32_t node = operand(p);
    if (!p->failed && index < 0)
        perr(p, "negative result index");
    if (!p->failed)
        ir_result(p->g, node, kind, (int)index);
}

static void graph_open(P *p) {
    const char *name = word(p);
    expect(p, '{');
    if (p->failed)
        return;
    IrGraph **slot = NULL;
    if (!strcmp(name, "forward")) {
        slot = &p->m->forward;
    } else if (!strcmp(name, "evaluate")) {
        slot = &p->m->evaluate;
    } else if (!strncmp(name, "train.", 6)) {
        IrStep *s = NULL;
        for (int k = 0; k < p->m->nsteps; k++)
            if (!strcmp(p->m->steps[k].name, name + 6))
                s = &p->m->steps[k];
        if (!s)
            s = add_step(p, arena_strdup(p->a, name + 6));
        slot = &s->graph;
    } else {
        perr(p, "graph '%s': graphs are forward, evaluate or train.STEP", name);
        return;
    }
    if (*slot) {
        perr(p, "graph '%s' appears twice", name);
        return;
    }
    *slot = p->g = ir_graph_new(p->a, name);
    memset(p->ids, 0, sizeof *p->ids * p->nids);
}

static void line(P *p) {
    if (at_eol(p))
        return;
    if (p->g) {
        if (accept(p, '}')) {
            p->g = NULL;
        } else if (*p->p == '%') {
            p->p++;
            node_line(p);
        } else {
            const char *kw = ident(p);
            if (!strcmp(kw, "output"))
                result_line(p, RES_OUTPUT);
            else if (!strcmp(kw, "loss"))
                result_line(p, RES_LOSS);
            else if (!strcmp(kw, "update"))
                result_line(p, RES_UPDATE);
            else if (!strcmp(kw, "grad"))
                result_line(p, RES_GRAD);
            else if (!p->failed)
                perr(p, "expected a node, a result or '}' in graph %s", p->g->name);
        }
    } else {
        const char *kw = ident(p);
        if (p->failed)
            return;
        IrModule *m = p->m;
        if (!strcmp(kw, "module")) {
            m->name = word(p);
        } else if (!strcmp(kw, "tensor")) {
            tensor_rec(p);
        } else if (!strcmp(kw, "loss")) {
            *ARENA_PUSH(p->a, m->losses, m->nlosses, m->caplosses) = word(p);
        } else if (!strcmp(kw, "step")) {
            const char *name = word(p);
            IrStep *s = add_step(p, name);
            int capover = 0;
            s->loss = nullable(p);
            s->optimizer = nullable(p);
            s->lr = number(p);
            s->objective = s->loss;     /* unless `minimize` says otherwise */
            while (!p->failed && !at_eol(p)) {
                const char *clause = ident(p);
                if (p->failed)
                    break;
                if (!strcmp(clause, "minimize")) {
                    s->objective = nullable(p);
                } else if (!strcmp(clause, "over")) {
                    while (!p->failed && !at_eol(p))
                        *ARENA_PUSH(p->a, s->over, s->nover, capover) = word(p);
                } else {
                    perr(p, "unknown step clause '%s' (minimize LOSS, over PATH...)", clause);
                }
            }
        } else if (!strcmp(kw, "hyper")) {
            const char *name = word(p);
            double v = number(p);
            *ARENA_PUSH(p->a, m->hypers, m->nhypers, m->caphypers) = name;
            int n = m->nhypers - 1, cap = m->caphypers;
            m->hyper_vals = arena_realloc(p->a, m->hyper_vals, sizeof(double) * (size_t)n,
                                          sizeof(double) * (size_t)cap);
            m->hyper_vals[n] = v;
        } else if (!strcmp(kw, "data") || !strcmp(kw, "valdata")) {
            skip_space(p);
            const char *s = p->p;
            while (*p->p && *p->p != '\n')
                p->p++;
            const char *e = p->p;
            while (e > s && (e[-1] == ' ' || e[-1] == '\r'))
                e--;
            *(kw[0] == 'd' ? &m->data_spec : &m->val_spec) = arena_strndup(p->a, s, (size_t)(e - s));
        } else if (!strcmp(kw, "metric")) {
            *ARENA_PUSH(p->a, m->metrics, m->nmetrics, m->capmetrics) = word(p);
        } else if (!strcmp(kw, "task")) {
            const char *k = ident(p);
            if (!strcmp(k, "classify"))
                m->nclasses = (int)integer(p);
            else if (!strcmp(k, "regress"))
                m->nclasses = 0;
            else
                perr(p, "task is classify N or regress");
        } else if (!strcmp(kw, "graph")) {
            graph_open(p);
            return;
        } else {
            perr(p, "unknown record '%s'", kw);
        }
    }
    if (!p->failed && !at_eol(p))
        perr(p, "unexpected text at the end of the line");
}

IrModule *ir_module_parse(Arena *a, const char *text, const char *filename, FILE *err) {
    P p = {.a = a, .file = filename ? filename : "<ir>", .err = err, .p = text, .line = 1};
    p.m = ir_module_new(a, "ir");
    p.nids = 64;
    p.ids = arena_alloc(a, sizeof *p.ids * p.nids);
    while (*p.p && !p.failed) {
        p.line_start = p.p;
        line(&p);
        if (p.failed)
            break;
        if (*p.p == '\n') {
            p.p++;
            p.line++;
        }
    }
    if (!p.failed && p.g) {
        p.line_start = p.p;
        perr(&p, "graph %s is not closed with '}'", p.g->name);
    }
    return p.failed ? NULL : p.m;
}
