/* naming.h - parameter paths [layer.naming], in one place. The checker lists a model's
 * parameters from its records of layer calls (lang/check.c expand_*), lowering names them while it
 * walks the program (compiler/lower.c call_path); both number bound names and calls with these
 * functions, so the weights file and `nnc --emit types` cannot disagree. Owned by lang/naming.c.
 *
 * One Naming per body being named (a model, or one call of a layer):
 *   - a statement that binds a name (h = ...) is named h, then h_2, h_3 for later bindings of h
 *     that make parameters;
 *   - the call that is its whole right-hand side takes that name; calls nested in it are
 *     numbered per statement: h.dense, h.dense_2;
 *   - in a statement that binds no name, calls are numbered through the body with the counter
 *     the bound names use: lin, lin_2 (and a later binding named lin is lin_3).
 */
#ifndef NNC_NAMING_H
#define NNC_NAMING_H

#include <stdbool.h>

#include "arena.h"

typedef struct NameCount {
    const char *name;
    int n;
} NameCount;

typedef struct Naming {
    NameCount *uses;        /* bound names and unbound statements' callees: how many so far */
    int nuses, capuses;
    NameCount *calls;       /* the statement's nested calls */
    int ncalls, capcalls;
    const char *stmt;       /* the statement's bound name; NULL: it binds none */
    const char *base;       /* stmt numbered (h_2), once a call of the statement needed it */
} Naming;

/* Start a statement that binds `bound` (NULL: none). */
void naming_stmt(Naming *nm, const char *bound);
/* The statement's numbered name (h, h_2), counted at its first use; "" when it binds none. */
const char *naming_base(Arena *a, Naming *nm);
/* The path, relative to the body, of the parameters of a call of callee in the statement:
 * direct (the whole right-hand side of the binding) -> the statement's name. */
const char *naming_call(Arena *a, Naming *nm, const char *callee, bool direct);
/* prefix.rel, either may be empty or NULL. */
const char *naming_join(Arena *a, const char *prefix, const char *rel);

#endif
