/* lexer.h - the lexer's interface to the parser, inside lang/ only (others use lex_file in ast.h).
 *
 * The parser lexes a whole file first but wants diagnostics in source order, so it asks the lexer
 * to keep its messages (lex_tokens) and prints each one (lex_report) just before the first parser
 * message that comes after it in the file. */
#ifndef NNC_LEXER_H
#define NNC_LEXER_H

#include "ast.h"
#include "diag.h"

typedef struct LexMsg {
    Loc loc;                /* file == NULL: a note with no place */
    const char *error;      /* the error, or NULL for a note alone */
    const char *hint;       /* a hint that follows the error, or NULL */
    const char *note;       /* a note that follows it, or NULL */
} LexMsg;

typedef struct LexResult {
    Token *toks;            /* ending in TK_EOF; its ival is 1 when the lexer gave up */
    int ntoks;
    LexMsg *msgs;           /* in source order */
    int nmsgs;
} LexResult;

/* Lex f; with keep set, messages go to r->msgs instead of being printed. */
void lex_tokens(Arena *a, Diag *d, const SrcFile *f, int keep, LexResult *r);
void lex_report(Diag *d, const LexMsg *m);

#endif
