/* check.h - the type and shape checker: resolves names, checks every declaration generically
 * (dim variables as unknowns), unifies calls, and annotates the AST (Node.ty, Node.ref).
 * Owned by lang/check.c and lang/types.c; docs/language.md is the spec it enforces. */
#ifndef NNC_CHECK_H
#define NNC_CHECK_H

#include <stdio.h>

#include "ast.h"
#include "diag.h"

/* Check a whole program (ND_PROGRAM from frontend_load). Returns the number of errors reported. */
int check_program(Arena *a, Diag *d, Node *prog);

/* nnc --emit types: one line per fact, in program order: the signature of every fn/layer/optimizer
 * (`dense: layer(x: f32[*S, K], units: N, act: fn = identity) -> f32[*S, N]`), then for every
 * model each input, target, binding, output and loss in statement order and each parameter and
 * state with its full path (`fashion_mlp: param h.W f32[784, 256]`). Needs check_program first. */
void check_dump_types(FILE *out, const Node *prog);

#endif
