/* diag.c - user-facing diagnostics (see diag.h).
 *
 * Every error the user sees goes through here, so the format is the same everywhere:
 *
 *     model.nn:7:12: error: expected ')', found newline
 *         7 |   h = dense(h, 256
 *           |                   ^
 *     hint: ...
 *
 * The source excerpt must survive any input: tabs are expanded, spans are clipped to their line,
 * very long lines are shown as a window around the span, and bytes that are not printable (binary
 * garbage, invalid UTF-8, control characters) print as '?'. After max_errors errors one
 * "too many errors" line is printed and everything after it (notes and hints too) is suppressed;
 * errors are still counted so the exit status stays right.
 */
#include "diag.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_ERRORS 20
#define WINDOW_BEFORE 60    /* bytes of a long line shown before the span */
#define WINDOW_WIDTH 160    /* bytes of a long line shown at most */
#define TAB_STOP 8

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_CYAN "\033[1;36m"
#define C_GREEN "\033[1;32m"
#define C_RESET "\033[0m"

void diag_init(Diag *d, FILE *out) {
    memset(d, 0, sizeof *d);
    d->out = out;
    d->max_errors = DEFAULT_MAX_ERRORS;
    const char *nc = getenv("NO_COLOR");
    int fd = fileno(out);
    d->color = fd >= 0 && isatty(fd) && !(nc && nc[0]);
}

/* ---- JSON Lines (--diagnostics-format=json) ---- */

typedef struct DiagJson {
    char *head;             /* "file", "line", ... "message" members of the error */
    char *notes, *hints;    /* comma-separated array elements */
} DiagJson;

/* The error being built. Static, not in the Diag: the last one is written at exit, when the Diag
 * (main's local) is gone. One JSON stream per process. */
static DiagJson *json_pending;
static FILE *json_out;

/* s with "text" appended (a JSON string: escaped, invalid UTF-8 as U+FFFD). */
static char *jcat(char *s, const char *text, int quote) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        die("out of memory (open_memstream)");
    if (s)
        fputs(s, m);
    if (!quote) {
        fputs(text, m);
    } else {
        fputc('"', m);
        const unsigned char *t = (const unsigned char *)text;
        size_t len = strlen(text);
        for (size_t i = 0; i < len;) {
            unsigned c = t[i];
            if (c == '"' || c == '\\') {
                fprintf(m, "\\%c", c);
                i++;
            } else if (c == '\n') {
                fputs("\\n", m);
                i++;
            } else if (c == '\t') {
                fputs("\\t", m);
                i++;
            } else if (c < 0x20 || c == 0x7F) {
                fprintf(m, "\\u%04x", c);
                i++;
            } else if (c < 0x80) {
                fputc((int)c, m);
                i++;
            } else {
                unsigned cp;
                int k = utf8_decode(t + i, len - i, &cp);
                if (k > 0) {
                    fwrite(t + i, 1, (size_t)k, m);
                    i += (size_t)k;
                } else {
                    fputs("\\ufffd", m);
                    i++;
                }
            }
        }
        fputc('"', m);
    }
    fclose(m);
    free(s);
    return buf;
}

static char *jfmt(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *jfmt(char *s, const char *fmt, ...) {
    char *t = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&t, fmt, ap) < 0)
        die("out of memory (vasprintf)");
    va_end(ap);
    s = jcat(s, t, 0);
    free(t);
    return s;
}

/* "file": ..., "line": ..., "column": ..., "span": {...}, or nulls with no place */
static char *jloc(char *s, Loc loc) {
    if (!loc.file)
        return jcat(s, "\"file\": null, \"line\": null, \"column\": null, \"span\": null", 0);
    s = jcat(s, "\"file\": ", 0);
    s = jcat(s, loc.file->name, 1);
    return jfmt(s, ", \"line\": %d, \"column\": %d, \"span\": {\"offset\": %d, \"length\": %d}",
                loc.line, loc.col, loc.off, loc.len);
}

static void json_flush(void) {
    DiagJson *p = json_pending;
    if (!p)
        return;
    fprintf(json_out, "{%s, \"notes\": [%s], \"hints\": [%s]}\n", p->head, p->notes ? p->notes : "",
            p->hints ? p->hints : "");
    fflush(json_out);
    free(p->head);
    free(p->notes);
    free(p->hints);
    free(p);
    json_pending = NULL;
}

void diag_flush(Diag *d) {
    if (d->json)
        json_flush();
}

void diag_set_json(Diag *d) {
    d->json = 1;
    d->color = 0;
    if (!json_out)
        atexit(json_flush);
    json_out = d->out;
}

static void json_error(Diag *d, Loc loc, const char *fmt, va_list ap) {
    diag_flush(d);
    DiagJson *p = calloc(1, sizeof *p);
    char *msg = NULL;
    if (!p || vasprintf(&msg, fmt, ap) < 0)
        die("out of memory (json_error)");
    p->head = jloc(NULL, loc);
    p->head = jcat(p->head, ", \"severity\": \"error\", \"message\": ", 0);
    p->head = jcat(p->head, msg, 1);
    free(msg);
    json_pending = p;
}

static void json_note(Diag *d, Loc loc, const char *fmt, va_list ap) {
    DiagJson *p = json_pending;
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        die("out of memory (json_note)");
    if (!p) {   /* a note with no error before it: its own object */
        p = json_pending = calloc(1, sizeof *p);
        if (!p)
            die("out of memory (json_note)");
        p->head = jloc(NULL, loc);
        p->head = jcat(p->head, ", \"severity\": \"note\", \"message\": ", 0);
        p->head = jcat(p->head, msg, 1);
        free(msg);
        return;
    }
    p->notes = jcat(p->notes, p->notes ? ", {" : "{", 0);
    p->notes = jloc(p->notes, loc);
    p->notes = jcat(p->notes, ", \"message\": ", 0);
    p->notes = jcat(p->notes, msg, 1);
    p->notes = jcat(p->notes, "}", 0);
    free(msg);
}

static void json_hint(Diag *d, const char *fmt, va_list ap) {
    DiagJson *p = json_pending;
    char *msg = NULL;
    if (!p || vasprintf(&msg, fmt, ap) < 0)
        return;     /* a hint belongs to an error */
    if (p->hints)
        p->hints = jcat(p->hints, ", ", 0);
    p->hints = jcat(p->hints, msg, 1);
    free(msg);
}

static int max_errors(const Diag *d) { return d->max_errors > 0 ? d->max_errors : DEFAULT_MAX_ERRORS; }

/* Counts an error; false when it is past the limit and must not be printed. */
static int admit_error(Diag *d) {
    d->nerrors++;
    if (d->nerrors <= max_errors(d))
        return 1;
    if (d->nerrors == max_errors(d) + 1 && d->json) {
        diag_flush(d);
        fprintf(d->out, "{\"file\": null, \"line\": null, \"column\": null, \"span\": null, \"severity\": "
                        "\"error\", \"message\": \"too many errors (%d); the rest are not shown\", \"notes\": [], "
                        "\"hints\": []}\n", max_errors(d));
    } else if (d->nerrors == max_errors(d) + 1) {
        fprintf(d->out, "%snnc: error:%s too many errors (%d); the rest are not shown\n", d->color ? C_RED : "",
                d->color ? C_RESET : "", max_errors(d));
    }
    return 0;
}

/* Notes and hints belong to the error before them: hidden when it was. */
static int suppressed(const Diag *d) { return d->nerrors > max_errors(d); }

/* Length in bytes of the valid, printable UTF-8 sequence at s (at most n bytes available), or 0. */
static int utf8_len(const unsigned char *s, size_t n) {
    unsigned cp;
    int len = utf8_decode(s, n, &cp);
    if (len <= 1)
        return len;
    /* Not shown as themselves: C1 controls, combining marks (they attach to the previous column),
     * zero-width and bidirectional controls, private use and specials. */
    static const unsigned hidden[][2] = {
        {0x80, 0x9F},     {0x300, 0x36F},   {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
        {0x2028, 0x202E}, {0x2060, 0x206F}, {0x20D0, 0x20FF}, {0xE000, 0xF8FF}, {0xFE00, 0xFE0F},
        {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFF}, {0xE0000, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (cp >= hidden[i][0] && cp <= hidden[i][1])
            return 0;
    return len;
}

/* Print text[from, to) of one line safely; returns the display width printed. When mark_off is in
 * [from, to], *mark_col receives the display column at that byte (same for *mark_end_col). */
static int print_safe(FILE *out, const unsigned char *text, size_t from, size_t to, size_t mark_off,
                      int *mark_col, size_t mark_end, int *mark_end_col, int col0) {
    int col = col0;
    size_t i = from;
    while (i < to) {
        if (i == mark_off)
            *mark_col = col;
        if (i == mark_end)
            *mark_end_col = col;
        unsigned c = text[i];
        if (c == '\t') {
            int n = TAB_STOP - (col % TAB_STOP);
            for (int k = 0; k < n; k++)
                fputc(' ', out);
            col += n;
            i++;
            continue;
        }
        if (c >= 0x20 && c < 0x7F) {
            fputc((int)c, out);
            col++;
            i++;
            continue;
        }
        int len = c >= 0x80 ? utf8_len(text + i, to - i) : 0;
        if (len > 0) {
            fwrite(text + i, 1, (size_t)len, out);
            /* bytes inside the sequence map to the same column */
            for (int k = 1; k < len; k++) {
                if (i + (size_t)k == mark_off)
                    *mark_col = col;
                if (i + (size_t)k == mark_end)
                    *mark_end_col = col;
            }
            i += (size_t)len;
        } else {
            fputc('?', out);
            i++;
        }
        col++;
    }
    if (i == mark_off)
        *mark_col = col;
    if (i == mark_end)
        *mark_end_col = col;
    return col;
}

/* The source line of loc with a caret/underline under its span. */
static void excerpt(Diag *d, Loc loc) {
    const SrcFile *f = loc.file;
    if (!f || !f->text || loc.off < 0 || (size_t)loc.off > f->len)
        return;
    const unsigned char *t = (const unsigned char *)f->text;
    size_t off = (size_t)loc.off;
    size_t ls = off, le = off;
    while (ls > 0 && t[ls - 1] != '\n')
        ls--;
    while (le < f->len && t[le] != '\n')
        le++;
    if (le > ls && t[le - 1] == '\r')
        le--;
    if (off > le)
        off = le;
    size_t end = off + (loc.len > 0 ? (size_t)loc.len : 0);
    if (end > le)
        end = le;   /* clip the span to its line */

    /* A long line shows a window around the span. */
    size_t from = ls, to = le;
    if (to - from > WINDOW_WIDTH) {
        from = off > ls + WINDOW_BEFORE ? off - WINDOW_BEFORE : ls;
        to = from + WINDOW_WIDTH < le ? from + WINDOW_WIDTH : le;
        while (from > ls && (t[from] & 0xC0) == 0x80)
            from--;
        while (to < le && (t[to] & 0xC0) == 0x80)
            to++;
        if (end > to)
            end = to;
    }
    int pre = from > ls ? 3 : 0;
    char gutter[32];
    snprintf(gutter, sizeof gutter, "%5d", loc.line);
    fprintf(d->out, "%s | %s", gutter, pre ? "..." : "");
    int mcol = -1, mend = -1;
    print_safe(d->out, t, from, to, off, &mcol, end, &mend, 0);
    fprintf(d->out, "%s\n", to < le ? "..." : "");
    if (mcol < 0)
        mcol = 0;
    if (mend < mcol)
        mend = mcol;
    fprintf(d->out, "%*s | %*s%s^", (int)strlen(gutter), "", mcol + pre, "", d->color ? C_GREEN : "");
    for (int k = mcol + 1; k < mend; k++)
        fputc('~', d->out);
    fprintf(d->out, "%s\n", d->color ? C_RESET : "");
}

static void header(Diag *d, Loc loc, const char *kind, const char *kcolor, const char *fmt, va_list ap) {
    if (loc.file)
        fprintf(d->out, "%s%s:%d:%d:%s ", d->color ? C_BOLD : "", loc.file->name, loc.line, loc.col,
                d->color ? C_RESET : "");
    else
        fprintf(d->out, "%snnc:%s ", d->color ? C_BOLD : "", d->color ? C_RESET : "");
    fprintf(d->out, "%s%s:%s ", d->color ? kcolor : "", kind, d->color ? C_RESET : "");
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    excerpt(d, loc);
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...) {
    if (!admit_error(d))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (d->json)
        json_error(d, loc, fmt, ap);
    else
        header(d, loc, "error", C_RED, fmt, ap);
    va_end(ap);
    fflush(d->out);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...) {
    if (suppressed(d))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (d->json) {
        json_note(d, loc, fmt, ap);
    } else if (loc.file) {
        header(d, loc, "note", C_CYAN, fmt, ap);
    } else {
        fprintf(d->out, "%snote:%s ", d->color ? C_CYAN : "", d->color ? C_RESET : "");
        vfprintf(d->out, fmt, ap);
        fputc('\n', d->out);
    }
    va_end(ap);
    fflush(d->out);
}

void diag_hint(Diag *d, const char *fmt, ...) {
    if (suppressed(d))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (d->json) {
        json_hint(d, fmt, ap);
    } else {
        fprintf(d->out, "%shint:%s ", d->color ? C_GREEN : "", d->color ? C_RESET : "");
        vfprintf(d->out, fmt, ap);
        fputc('\n', d->out);
    }
    va_end(ap);
    fflush(d->out);
}

void diag_plain(Diag *d, const char *fmt, ...) {
    if (!admit_error(d))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (d->json) {
        json_error(d, (Loc){0}, fmt, ap);
    } else {
        fprintf(d->out, "%snnc:%s %serror:%s ", d->color ? C_BOLD : "", d->color ? C_RESET : "",
                d->color ? C_RED : "", d->color ? C_RESET : "");
        vfprintf(d->out, fmt, ap);
        fputc('\n', d->out);
    }
    va_end(ap);
    fflush(d->out);
}

/* Levenshtein distance, giving up (returning limit+1) once it must exceed limit. */
static int edit_distance(const char *a, const char *b, int limit) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return limit + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)limit)
        return limit + 1;
    int prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int rowmin = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            int m = sub < del ? sub : del;
            cur[j] = m < ins ? m : ins;
            if (cur[j] < rowmin)
                rowmin = cur[j];
        }
        if (rowmin > limit)
            return limit + 1;
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *diag_suggest(const char *name, const char *const *candidates, int n) {
    if (!name || !name[0])
        return NULL;
    /* One-letter names are too short for a guess to mean anything. */
    int limit = strlen(name) <= 2 ? 1 : 2;
    const char *best = NULL;
    int bestd = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!candidates[i] || !strcmp(candidates[i], name))
            continue;
        int dist = edit_distance(name, candidates[i], limit);
        if (dist < bestd) {
            bestd = dist;
            best = candidates[i];
        }
    }
    return best;
}

_Noreturn void nnc_die(const char *file, int line, const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nnc: internal error at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
