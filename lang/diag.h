/* diag.h - user-facing diagnostics: `file:line:col: error: message`, the source line, a caret or
 * underline under the span, then any notes and hints that belong to it (STYLE.md "Errors").
 * Compiler bugs go through die()/unreachable() instead, which abort with file and line. */
#ifndef NNC_DIAG_H
#define NNC_DIAG_H

#include <stdio.h>

#include "ast.h"

typedef struct Diag {
    FILE *out;          /* stderr, or a memstream in tests */
    int nerrors;
    int max_errors;     /* stop reporting (not checking) after this many; 0 = 20 */
    int color;          /* ANSI colours when out is a terminal */
    int json;           /* --diagnostics-format=json: one JSON object per error (diag_set_json) */
} Diag;

void diag_init(Diag *d, FILE *out);
/* Each printf-style; a note/hint attaches to the error before it. */
void diag_error(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_note(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_hint(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error with no source place (missing file, bad flag): `nnc: error: ...` */
void diag_plain(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Switch d to JSON Lines: each error, with its notes and hints, becomes one JSON object on one
 * line of d->out, written when the next error starts or when the process exits (docs/nnc.md,
 * "Machine-readable diagnostics"). */
void diag_set_json(Diag *d);
/* Write the pending JSON object now (also done at exit). */
void diag_flush(Diag *d);

/* The closest name within edit distance 2 (for "did you mean 'relu'?"), or NULL. */
const char *diag_suggest(const char *name, const char *const *candidates, int n);

_Noreturn void nnc_die(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define die(...) nnc_die(__FILE__, __LINE__, __VA_ARGS__)
#define unreachable() nnc_die(__FILE__, __LINE__, "unreachable")

#endif
