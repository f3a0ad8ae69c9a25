/* fmt.h - `nnc fmt`: the canonical layout of a .nn file (docs/nnc.md, "nnc fmt"). */
#ifndef NNC_FMT_H
#define NNC_FMT_H

#include "ast.h"
#include "diag.h"

/* The canonical text of f, arena-allocated and NUL-terminated, or NULL when f does not parse
 * (diagnosed through d). The result is checked to parse to the same tree as f (an internal error
 * otherwise, so a formatter bug can never change a program's meaning). */
char *fmt_source(Arena *a, Diag *d, const SrcFile *f);

/* nnc fmt [-w | --check] FILE...: the command; returns the exit status. */
int fmt_main(int argc, char **argv);

#endif
