/* plot.c - learning curves as SVG (`plot HISTORY.csv -o curves.svg`, `train --plot FILE.svg`): one
 * panel per quantity of a training history (history.c), its training values against the epoch and
 * its validation values (`val_` + name) beside them, then the learning rate when the history has one.
 * darknet's chart.png and Keras' History plots in one file a browser shows, written by hand: plain
 * SVG 1.1 elements (svg, g, rect, line, polyline, circle, text), no script, no external reference.
 *
 * Axes get "nice" ticks (1, 2, 5 x 10^k steps); a missing value (an empty field) breaks a curve. The
 * file starts with a marker comment, which is how an existing plot is recognised as ours (the one
 * kind of existing file -o / --plot replaces without --force).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define MARK "<!-- nnc learning curves -->"
#define PW 440      /* panel width, height */
#define PH 280
#define ML 64       /* plot area margins inside a panel: left, right, top, bottom */
#define MR 16
#define MT 34
#define MB 44
#define COLS 2

static bool own_plot(RtCtx *c, FILE *f) {
    (void)c;
    char head[512];
    size_t n = fread(head, 1, sizeof head - 1, f);
    head[n] = 0;
    return strstr(head, MARK) != NULL;
}

RtOutput rt_plot_output(bool force) {
    return (RtOutput){"-o", "write the plot", "a plot", "an SVG plot an nnc model wrote (it starts with the comment "
                      MARK ")", own_plot, force, false, false};
}

static void xml_text(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", out);
        else if (*s == '>') fputs("&gt;", out);
        else if (*s == '&') fputs("&amp;", out);
        else if (*s == '"') fputs("&quot;", out);
        else if ((unsigned char)*s < 0x20) fputc(' ', out);
        else fputc(*s, out);
    }
}

static bool skip_col(const char *name) {
    return !strcmp(name, "epoch") || !strcmp(name, "seconds") || !strcmp(name, "samples_per_s");
}

static bool lr_col(const char *name) { return !strcmp(name, "lr") || !strncmp(name, "lr_", 3); }

/* Tick step for [lo, hi] with about n ticks: 1, 2 or 5 times a power of ten. */
static double nice_step(double lo, double hi, int n) {
    double raw = (hi - lo) / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

typedef struct Panel {
    const char *title;
    int col[8], ncol;           /* the history columns drawn */
} Panel;

static void draw_panel(FILE *o, const RtHistory *h, const Panel *p, double x0, double y0) {
    static const char *const color[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                        "#e377c2", "#7f7f7f"};
    double emin = INFINITY, emax = -INFINITY, lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < h->nrows; r++) {
        const double *v = h->v + (size_t)r * (size_t)h->ncol;
        emin = fmin(emin, v[0]);
        emax = fmax(emax, v[0]);
        for (int k = 0; k < p->ncol; k++)
            if (isfinite(v[p->col[k]])) lo = fmin(lo, v[p->col[k]]), hi = fmax(hi, v[p->col[k]]);
    }
    if (!isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi))) {
        /* a constant (a fixed learning rate): a band of 10% around it, or [-1, 1] around 0 */
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
        lo -= pad, hi += pad;
    }
    if (emax - emin <= 1e-9 * fmax(1, fabs(emax))) {
        double pad = fmax(1, fabs(emax) * 0.1);
        emin -= pad, emax += pad;
    }
    double ys = nice_step(lo, hi, 5), xs = fmax(1, nice_step(emin, emax, 8));
    if (!isfinite(ys) || ys <= 0) ys = hi - lo;
    double lo2 = floor(lo / ys) * ys, hi2 = ceil(hi / ys) * ys;
    if (isfinite(lo2) && isfinite(hi2) && hi2 > lo2) lo = lo2, hi = hi2;
    double aw = PW - ML - MR, ah = PH - MT - MB;
#define X(e) (x0 + ML + ((e) - emin) / (emax - emin) * aw)
#define Y(v) (y0 + MT + (hi - (v)) / (hi - lo) * ah)
    fprintf(o, "<g class=\"panel\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" "
               "stroke=\"#cccccc\"/>\n", x0, y0, PW, PH);
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\">", x0 + ML, y0 + 20);
    xml_text(o, p->title);
    fputs("</text>\n", o);
    /* grid and tick labels */
    /* at most 20 ticks an axis, whatever the values (a history file is the user's) */
    int ticks = 0;
    for (double t = lo; t <= hi + ys * 1e-6 && ticks < 20; t += ys, ticks++) {
        double v = fabs(t) < ys * 1e-9 ? 0 : t;
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", X(emin), Y(v),
                X(emax), Y(v));
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.4g</text>\n", X(emin) - 6,
                Y(v) + 4, v);
    }
    ticks = 0;
    for (double e = ceil(emin / xs) * xs; e <= emax + 1e-9 && ticks < 20; e += xs, ticks++)
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n", X(e),
                y0 + PH - MB + 16, e);
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", X(emin), Y(lo), X(emax),
            Y(lo));
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n", X(emin), Y(lo), X(emin),
            Y(hi));
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">epoch</text>\n",
            x0 + ML + aw / 2, y0 + PH - 10);
    /* the curves: one polyline per unbroken run of values, markers when there are few epochs */
    for (int k = 0; k < p->ncol; k++) {
        int c = p->col[k];
        bool val = !strncmp(h->col[c], "val_", 4);
        const char *col = color[k % 8], *dash = val ? " stroke-dasharray=\"6 3\"" : "";
        fprintf(o, "<g class=\"series\" data-name=\"");
        xml_text(o, h->col[c]);
        fputs("\">\n", o);
        for (int r = 0; r < h->nrows;) {
            while (r < h->nrows && !isfinite(h->v[(size_t)r * (size_t)h->ncol + (size_t)c])) r++;
            if (r == h->nrows) break;
            fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", col, dash);
            for (; r < h->nrows; r++) {
                const double *v = h->v + (size_t)r * (size_t)h->ncol;
                if (!isfinite(v[c])) break;
                fprintf(o, "%.2f,%.2f ", X(v[0]), Y(v[c]));
            }
            fputs("\"/>\n", o);
        }
        for (int r = 0; r < h->nrows && h->nrows <= 60; r++) {
            const double *v = h->v + (size_t)r * (size_t)h->ncol;
            if (isfinite(v[c])) fprintf(o, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>\n", X(v[0]), Y(v[c]), col);
        }
        /* legend, top right */
        double lx = x0 + PW - MR - 150, ly = y0 + 16 + 14 * k;
        fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", lx,
                ly - 4, lx + 22, ly - 4, col, dash);
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">", lx + 28, ly);
        xml_text(o, h->col[c]);
        fputs("</text>\n</g>\n", o);
    }
    fputs("</g>\n", o);
#undef X
#undef Y
}

int rt_plot(RtCtx *c, const RtHistory *h, const char *title, const char *path, bool force, bool in_train) {
    if (h->nrows == 0) return rt_error(c, "the history has no epochs yet: nothing to plot to '%s'", path);
    char *buf = NULL;
    size_t n = 0;
    if (rt_plot_render(c, h, title, &buf, &n)) return -1;
    RtOutput out = rt_plot_output(force);
    out.flag = in_train ? "--plot" : "-o";
    out.replaces_checkpoint = in_train;    /* see rt_around_after */
    int rc = rt_write_whole(c, path, &out, buf, n);
    free(buf);    /* open_memstream's buffer comes from malloc */
    return rc;
}

int rt_plot_render(RtCtx *c, const RtHistory *h, const char *title, char **outbuf, size_t *outn) {
    Panel *p = rt_calloc(c, sizeof(Panel) * (size_t)(h->ncol + 1));
    if (!p) return -1;
    int np = 0;
    Panel lr = {.title = "learning rate"};
    for (int i = 1; i < h->ncol; i++) {
        const char *n = h->col[i];
        if (skip_col(n)) continue;
        if (lr_col(n)) { if (lr.ncol < 8) lr.col[lr.ncol++] = i; continue; }
        if (!strncmp(n, "val_", 4) && rt_history_col(h, n + 4) >= 0) continue;   /* drawn beside its train curve */
        Panel *q = &p[np++];
        q->title = n;
        q->col[q->ncol++] = i;
        size_t len = strlen(n);
        char *vn = rt_alloc(c, len + 5);
        if (!vn) { rt_free(c, p); return -1; }
        snprintf(vn, len + 5, "val_%s", n);
        int v = rt_history_col(h, vn);
        rt_free(c, vn);
        if (v >= 0) q->col[q->ncol++] = v;
    }
    if (lr.ncol) p[np++] = lr;
    int rows = (np + COLS - 1) / COLS, cols = np < COLS ? (np ? np : 1) : COLS;
    int W = cols * (PW + 10) + 10, H = rows * (PH + 10) + 50;
    char *buf = NULL;
    size_t n = 0;
    FILE *o = open_memstream(&buf, &n);
    if (!o) { rt_free(c, p); return rt_error(c, "cannot draw the plot: open_memstream failed: %s", strerror(errno)); }
    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" MARK "\n");
    fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", W, H, W, H);
    fprintf(o, "<title>learning curves of ");
    xml_text(o, title);
    fputs("</title>\n", o);
    fprintf(o, "<rect width=\"%d\" height=\"%d\" fill=\"#f8f8f8\"/>\n", W, H);
    fprintf(o, "<text x=\"10\" y=\"28\" font-size=\"16\">");
    xml_text(o, title);
    fprintf(o, ": %d epoch%s (solid: training, dashed: validation)</text>\n", h->nrows, h->nrows == 1 ? "" : "s");
    for (int i = 0; i < np; i++) draw_panel(o, h, &p[i], 10 + (i % COLS) * (PW + 10), 40 + (i / COLS) * (PH + 10));
    fputs("</svg>\n", o);
    rt_free(c, p);
    if (fclose(o)) { free(buf); return rt_error(c, "cannot draw the plot: out of memory"); }
    *outbuf = buf;
    *outn = n;
    return 0;
}
