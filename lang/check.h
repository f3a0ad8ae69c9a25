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

/* nnc --emit types: the inferred type of every binding, parameter, input, output and loss of every
 * declaration, one per line: `fashion_mlp.h.W: param f32[784, 256]`. */
void check_dump_types(FILE *out, const Node *prog);

#endif
