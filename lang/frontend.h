/* frontend.h - reading a program: the model file, then each module it `use`s (beside the model
 * first, then the standard library), lexed and parsed into one ND_PROGRAM. */
#ifndef NNC_FRONTEND_H
#define NNC_FRONTEND_H

#include <stdbool.h>
#include <stdio.h>

#include "ast.h"
#include "diag.h"

/* Where stdlib/ is: $NNC_STDLIB, else <dir of the nnc executable>/../share/nnc/stdlib, else the
 * source tree's stdlib/ (builds run from the build tree). argv0 may be NULL. */
const char *frontend_stdlib_dir(Arena *a, const char *argv0);

/* Load, lex and parse path and its modules. Returns NULL only when path itself cannot be read
 * (diagnosed); parse errors are counted in d and the partial program is returned. */
Node *frontend_load(Arena *a, Diag *d, const char *path, const char *stdlib_dir);

/* Read, lex and parse path alone, without loading the modules it uses (nnc --emit ast). NULL when
 * path cannot be read (diagnosed). */
Node *frontend_parse(Arena *a, Diag *d, const char *path);

/* Open a source file for reading; a FIFO (fifo: S_ISFIFO of its stat) without waiting for a writer
 * (one nobody writes to would block forever: the read then finds end of file at once). NULL with
 * errno set when it cannot be opened. Shared by the loader and `nnc fmt`. */
FILE *frontend_open(const char *path, bool fifo);

#endif
