/* transfer.c - `train --init-from FILE [--map 'FROM=TO,...']`: start a training from the weights of
 * another model (transfer learning).
 *
 * Every tensor of FILE (a safetensors file of any model, nnc's or PyTorch's) is renamed by the first
 * --map rule that matches it (FROM and TO hold at most one `*` each, which matches any text,
 * dots included; a name no rule matches keeps its name), then loaded into the model's parameter or
 * state tensor (batch-norm statistics) of that name when there is one: the shapes and dtypes must
 * be equal, else it is an error naming both. Optimizer state (a tensor named after another one plus
 * a suffix: `h.W.adam.m`) is never carried over, on either side: a fine-tuning starts its
 * optimizer afresh. A report follows: what was loaded, which of the model's tensors kept their
 * initializer, and what in the file found no place. Every check runs before any value changes.
 */
#include <math.h>
#include <string.h>

#include "rt.h"

#define MAXRULES 16

typedef struct Rule { const char *from, *to; size_t nfrom, nto; } Rule;

/* Splits "A=B,C=D" into rules (pointing into map); why gets the reason when it is malformed. */
static int parse_map(const char *map, Rule *r, int *nr, char *why, size_t nwhy) {
    *nr = 0;
    const char *p = map;
    while (*p) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq == p || eq + 1 == end) {
            snprintf(why, nwhy, "'%.*s' is not FROM=TO", (int)(end - p), p);
            return -1;
        }
        if (*nr == MAXRULES) {
            snprintf(why, nwhy, "at most %d rules", MAXRULES);
            return -1;
        }
        Rule *x = &r[(*nr)++];
        x->from = p;
        x->nfrom = (size_t)(eq - p);
        x->to = eq + 1;
        x->nto = (size_t)(end - eq - 1);
        int sf = 0, st = 0;
        for (size_t i = 0; i < x->nfrom; i++) sf += x->from[i] == '*';
        for (size_t i = 0; i < x->nto; i++) st += x->to[i] == '*';
        if (sf > 1 || st > 1 || st > sf) {
            snprintf(why, nwhy, "'%.*s': FROM may hold one '*' and TO one only when FROM has one", (int)(end - p), p);
            return -1;
        }
        if (memchr(eq + 1, '=', x->nto)) {
            snprintf(why, nwhy, "'%.*s' holds more than one '='", (int)(end - p), p);
            return -1;
        }
        p = comma ? comma + 1 : end;
        if (comma && !*p) {
            snprintf(why, nwhy, "a trailing ','");
            return -1;
        }
    }
    if (!*nr) {
        snprintf(why, nwhy, "no rule");
        return -1;
    }
    return 0;
}

bool rt_map_valid(const char *map, char *why, size_t nwhy) {
    Rule r[MAXRULES];
    int nr;
    return parse_map(map, r, &nr, why, nwhy) == 0;
}

/* name renamed by rule x into out; false when x does not match */
static bool apply(const Rule *x, const char *name, char *out, size_t nout) {
    const char *star = memchr(x->from, '*', x->nfrom);
    size_t n = strlen(name);
    if (!star) {
        if (n != x->nfrom || strncmp(name, x->from, n)) return false;
        snprintf(out, nout, "%.*s", (int)x->nto, x->to);
        return true;
    }
    size_t pre = (size_t)(star - x->from), suf = x->nfrom - pre - 1;
    if (n < pre + suf || strncmp(name, x->from, pre) || strncmp(name + n - suf, star + 1, suf)) return false;
    const char *mid = name + pre;
    size_t nmid = n - pre - suf;
    const char *tstar = memchr(x->to, '*', x->nto);
    if (!tstar) snprintf(out, nout, "%.*s", (int)x->nto, x->to);
    else snprintf(out, nout, "%.*s%.*s%.*s", (int)(tstar - x->to), x->to, (int)nmid, mid,
                  (int)(x->nto - (size_t)(tstar - x->to) - 1), tstar + 1);
    return true;
}

/* whether name is another tensor's name plus a suffix (optimizer state: `h.W.adam.m`) */
static bool opt_state_file(const RtStEntry *e, int n, const char *name) {
    for (int k = 0; k < n; k++) {
        size_t l = strlen(e[k].name);
        if (!strncmp(name, e[k].name, l) && name[l] == '.') return true;
    }
    return false;
}

static bool opt_state_model(const RtDesc *d, const RtTensor *t) {
    if (t->role != RT_STATE) return false;
    for (int i = 0; i < d->nt; i++) {
        if (d->t[i].role != RT_PARAM) continue;
        size_t l = strlen(d->t[i].name);
        if (!strncmp(t->name, d->t[i].name, l) && t->name[l] == '.') return true;
    }
    return false;
}

static void shape_str(const int64_t *dim, int rank, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)dim[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static void list_line(const char *head, const char *const *names, int n) {
    if (!n) return;
    printf("  %-13s", head);
    int col = 15;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(names[i]) + 2;
        if (i && col + w > 100) { printf(",\n  %-13s", ""); col = 15; }
        else if (i) printf(", ");
        printf("%s", names[i]);
        col += w;
    }
    printf("\n");
}

int rt_init_from(RtCtx *c, const char *path, const char *map) {
    const RtDesc *d = &c->desc;
    Rule rules[MAXRULES];
    int nr = 0;
    char why[256];
    if (map && parse_map(map, rules, &nr, why, sizeof why)) return rt_error(c, "--map: %s", why);
    RtStEntry *e = NULL;
    int ne = 0;
    if (rt_st_read(c, path, &e, &ne)) return -1;
    int rc = -1;
    int *dest = rt_alloc(c, sizeof(int) * (size_t)(ne ? ne : 1));       /* model tensor of each entry, -1 */
    bool *got = rt_calloc(c, sizeof(bool) * (size_t)(d->nt ? d->nt : 1));
    char (*mapped)[256] = rt_alloc(c, 256 * (size_t)(ne ? ne : 1));
    const char **ln = rt_alloc(c, sizeof(char *) * (size_t)(2 * ne + d->nt + 1)), **li = ln + ne, **lu = NULL;
    char **pairs = rt_calloc(c, sizeof(char *) * (size_t)(ne ? ne : 1));
    if (!dest || !got || !mapped || !ln || !pairs) goto done;
    int nload = 0, ninit = 0, nunused = 0, nopt = 0;
    for (int k = 0; k < ne; k++) {
        dest[k] = -1;
        snprintf(mapped[k], 256, "%s", e[k].name);
        if (opt_state_file(e, ne, e[k].name)) { nopt++; dest[k] = -2; continue; }
        for (int r = 0; r < nr; r++)
            if (apply(&rules[r], e[k].name, mapped[k], 256)) break;
        for (int i = 0; i < d->nt; i++) {
            const RtTensor *t = &d->t[i];
            if ((t->role != RT_PARAM && t->role != RT_STATE) || opt_state_model(d, t) || strcmp(t->name, mapped[k])) continue;
            char have[256], want[256], as[300] = "";
            if (strcmp(mapped[k], e[k].name)) snprintf(as, sizeof as, " (mapped from '%s')", e[k].name);
            shape_str(e[k].shape, e[k].rank, have, sizeof have);
            shape_str(t->dim, t->rank, want, sizeof want);
            if (strcmp(have, want)) {
                rt_error(c, "--init-from '%s': '%s'%s has shape %s in the file, but the model's '%s' is %s", path,
                         mapped[k], as, have, t->name, want);
                /* a new head of another width (10 classes there, 2 here) takes no weights from there */
                fprintf(stderr, "%s: hint: a new layer that starts from its initializer needs a name the file does not "
                        "have: rename the layer in the model (a new head: new_head = dense(...)), or map the file's "
                        "name away with --map '%s=unused.%s'\n", c->prog, e[k].name, e[k].name);
                goto done;
            }
            if (e[k].dtype != (int)t->dtype) {
                rt_error(c, "--init-from '%s': '%s'%s has another dtype in the file than the model's %s", path,
                         mapped[k], as, rt_dtype_name(t->dtype));
                goto done;
            }
            if (e[k].bytes != (uint64_t)rt_numel(t, 1) * rt_dsize(t->dtype)) {
                rt_error(c, "--init-from '%s': tensor '%s' has %llu bytes of data, its shape needs %llu", path,
                         e[k].name, (unsigned long long)e[k].bytes,
                         (unsigned long long)((uint64_t)rt_numel(t, 1) * rt_dsize(t->dtype)));
                goto done;
            }
            if (t->dtype == RT_F32) {     /* as a weights file's tensors (weights.c): finite numbers only */
                for (uint64_t q = 0; q < e[k].bytes / 4; q++) {
                    float v;
                    memcpy(&v, (const char *)e[k].data + 4 * q, 4);
                    if (!isfinite(v)) {
                        rt_error(c, "--init-from '%s': tensor '%s' holds %s at element %llu (counting from 0): the weights "
                                    "must be finite numbers", path, e[k].name, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf",
                                 (unsigned long long)q);
                        goto done;
                    }
                }
            }
            if (got[i]) {
                rt_error(c, "--init-from '%s': two tensors of the file map to '%s'", path, t->name);
                goto done;
            }
            got[i] = true;
            dest[k] = i;
        }
    }
    /* every check passed: load, then report */
    for (int k = 0; k < ne; k++) {
        if (dest[k] >= 0) {
            memcpy(c->bufs[dest[k]], e[k].data, (size_t)e[k].bytes);
            size_t l = strlen(mapped[k]) + strlen(e[k].name) + 8;
            if (!(pairs[k] = rt_alloc(c, l))) goto done;
            if (strcmp(mapped[k], e[k].name)) snprintf(pairs[k], l, "%s <- %s", mapped[k], e[k].name);
            else snprintf(pairs[k], l, "%s", mapped[k]);
            ln[nload++] = pairs[k];
        }
    }
    if (c->def && c->def->device) c->def->device->from_host(c->def->user);
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if ((t->role == RT_PARAM || t->role == RT_STATE) && !opt_state_model(d, t) && !got[i]) li[ninit++] = t->name;
    }
    lu = li + ninit;
    for (int k = 0; k < ne; k++)
        if (dest[k] == -1) lu[nunused++] = e[k].name;
    printf("init-from %s: %d tensor%s loaded, %d left at %s initializer, %d in the file unused", path, nload,
           nload == 1 ? "" : "s", ninit, ninit == 1 ? "its" : "their", nunused);
    if (nopt) printf(" (%d optimizer-state tensor%s not carried over)", nopt, nopt == 1 ? "" : "s");
    printf("\n");
    list_line("loaded:", ln, nload);
    list_line("initializer:", li, ninit);
    list_line("unused:", lu, nunused);
    if (!nload) {
        rt_error(c, "--init-from '%s': no tensor of the file matches one of the model's by name%s", path,
                 map ? " after --map" : " (rename them with --map 'FROM=TO')");
        goto done;
    }
    rc = 0;
done:
    for (int k = 0; pairs && k < ne; k++) rt_free(c, pairs[k]);
    rt_free(c, pairs);
    rt_free(c, ln);
    rt_free(c, mapped);
    rt_free(c, got);
    rt_free(c, dest);
    rt_st_free(c, e, ne);
    return rc;
}
