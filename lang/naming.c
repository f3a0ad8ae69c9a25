/* naming.c - parameter paths [layer.naming]: the numbering of bound names and layer calls that
 * the checker's parameter lists and lowering's tensor names share (naming.h). */
#include "naming.h"

#include <string.h>

static int bump(Arena *a, NameCount **v, int *n, int *cap, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp((*v)[i].name, name))
            return ++(*v)[i].n;
    NameCount *c = ARENA_PUSH(a, *v, *n, *cap);
    c->name = name;
    c->n = 1;
    return 1;
}

static const char *numbered(Arena *a, const char *name, int k) {
    return k == 1 ? name : arena_printf(a, "%s_%d", name, k);
}

void naming_stmt(Naming *nm, const char *bound) {
    nm->stmt = bound;
    nm->base = NULL;
    nm->ncalls = 0;
}

const char *naming_base(Arena *a, Naming *nm) {
    if (!nm->base)
        nm->base = nm->stmt ? numbered(a, nm->stmt, bump(a, &nm->uses, &nm->nuses, &nm->capuses, nm->stmt)) : "";
    return nm->base;
}

const char *naming_call(Arena *a, Naming *nm, const char *callee, bool direct) {
    if (!nm->stmt)
        return numbered(a, callee, bump(a, &nm->uses, &nm->nuses, &nm->capuses, callee));
    const char *base = naming_base(a, nm);
    if (direct)
        return base;
    return naming_join(a, base, numbered(a, callee, bump(a, &nm->calls, &nm->ncalls, &nm->capcalls, callee)));
}

const char *naming_join(Arena *a, const char *prefix, const char *rel) {
    if (!prefix || !*prefix)
        return rel;
    if (!rel || !*rel)
        return prefix;
    return arena_printf(a, "%s.%s", prefix, rel);
}
