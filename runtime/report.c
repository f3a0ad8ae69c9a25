/* report.c - what eval prints once the data has been run: the losses, then for a classifier the
 * accuracy, macro precision / recall / F1, a per-class table (precision, recall, F1, support, by
 * class name) and the confusion matrix, for regression mse and mae; or all of it as one JSON
 * object (--json), so scripts need not scrape the text.
 *
 * Class names: the weights file's (a CSV classifier with string labels), else the data's, else
 * the ten Fashion-MNIST names when the model's data is fashion_mnist, else none (the index).
 */
#include <math.h>
#include <string.h>

#include "rt.h"

/* Zalando's Fashion-MNIST labels, in class order (github.com/zalandoresearch/fashion-mnist). */
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

const char *rt_class_name(RtCtx *c, int k, int N, char **data_classes, int ndata) {
    if (k < c->nclass_names && c->nclass_names == N) return c->class_names[k];
    if (data_classes && k < ndata && ndata == N) return data_classes[k];
    if (N == 10 && !strncmp(c->desc.data, "fashion_mnist", 13)) return fashion_names[k];
    return NULL;
}

typedef struct PerClass { double p, r, f1; int64_t support, predicted; } PerClass;

static PerClass per_class(const int64_t *cm, int N, int k) {
    PerClass q = {0};
    int64_t tp = cm[(int64_t)k * N + k];
    for (int j = 0; j < N; j++) {
        q.predicted += cm[(int64_t)j * N + k];
        q.support += cm[(int64_t)k * N + j];
    }
    q.p = q.predicted ? (double)tp / (double)q.predicted : 0;
    q.r = q.support ? (double)tp / (double)q.support : 0;
    q.f1 = q.p + q.r > 0 ? 2 * q.p * q.r / (q.p + q.r) : 0;
    return q;
}

static void report_json(RtCtx *c, const RtEvalResult *r) {
    const RtDesc *d = &c->desc;
    int N = r->nclasses;
    printf("{\"model\": ");
    rt_json_str(stdout, d->name);
    printf(", \"samples\": %lld, \"losses\": {", (long long)r->n);
    for (int l = 0; l < d->nloss; l++) {
        printf("%s", l ? ", " : "");
        rt_json_str(stdout, d->loss[l]);
        printf(": ");
        rt_json_num(stdout, r->loss_sum[l] / (double)r->n);
    }
    printf("}");
    if (r->have_outputs && N > 0) {
        double P = 0, R = 0, F = 0;
        for (int k = 0; k < N; k++) {
            PerClass q = per_class(r->confusion, N, k);
            P += q.p, R += q.r, F += q.f1;
        }
        printf(", \"accuracy\": ");
        rt_json_num(stdout, (double)r->correct / (double)r->n);
        printf(", \"macro_precision\": ");
        rt_json_num(stdout, P / N);
        printf(", \"macro_recall\": ");
        rt_json_num(stdout, R / N);
        printf(", \"macro_f1\": ");
        rt_json_num(stdout, F / N);
        printf(", \"classes\": [");
        for (int k = 0; k < N; k++) {
            const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
            printf("%s{\"class\": %d, \"name\": ", k ? ", " : "", k);
            if (nm) rt_json_str(stdout, nm);
            else printf("\"%d\"", k);
            PerClass q = per_class(r->confusion, N, k);
            printf(", \"precision\": ");
            rt_json_num(stdout, q.p);
            printf(", \"recall\": ");
            rt_json_num(stdout, q.r);
            printf(", \"f1\": ");
            rt_json_num(stdout, q.f1);
            printf(", \"support\": %lld}", (long long)q.support);
        }
        printf("], \"confusion\": [");
        for (int k = 0; k < N; k++) {
            printf("%s[", k ? ", " : "");
            for (int j = 0; j < N; j++) printf("%s%lld", j ? ", " : "", (long long)r->confusion[(int64_t)k * N + j]);
            printf("]");
        }
        printf("]");
    } else if (r->have_outputs && r->nvals) {
        printf(", \"mse\": ");
        rt_json_num(stdout, r->se / (double)r->nvals);
        printf(", \"mae\": ");
        rt_json_num(stdout, r->ae / (double)r->nvals);
    }
    printf(", \"seconds\": %.3f, \"samples_per_s\": %.1f}\n", r->secs, r->secs > 0 ? (double)r->n / r->secs : 0.0);
}

void rt_eval_report(RtCtx *c, const RtOpts *o, const RtEvalResult *r) {
    const RtDesc *d = &c->desc;
    int N = r->nclasses;
    if (!r->have_outputs)
        fprintf(stderr, "%s: note: the model wrote no outputs in evaluate: no metrics\n", c->prog);
    if (o->json) {
        report_json(c, r);
        return;
    }
    printf("samples: %lld\n", (long long)r->n);
    for (int l = 0; l < d->nloss; l++) printf("%s: %.6f\n", d->loss[l], r->loss_sum[l] / (double)r->n);
    if (!r->have_outputs) {
        /* the note above */
    } else if (N > 0) {
        double P = 0, R = 0, F = 0;
        int width = 5;
        for (int k = 0; k < N; k++) {
            PerClass q = per_class(r->confusion, N, k);
            P += q.p, R += q.r, F += q.f1;
            const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
            int w = nm ? (int)strlen(nm) : 0;
            if (w > width) width = w > 24 ? 24 : w;
        }
        /* a metric fn of the model named precision, recall or f1 has printed its own line above:
         * these macro averages then say what they are, so no name is printed twice */
        bool named = false;
        for (int l = 0; l < d->nloss; l++)
            named |= !strcmp(d->loss[l], "precision") || !strcmp(d->loss[l], "recall") || !strcmp(d->loss[l], "f1");
        const char *pre = named ? "macro_" : "";
        printf("accuracy: %.4f\n%sprecision: %.4f\n%srecall: %.4f\n%sf1: %.4f\n", (double)r->correct / (double)r->n,
               pre, P / N, pre, R / N, pre, F / N);
        printf("per class:\n%5s  %-*s %9s %9s %9s %9s\n", "class", width, "name", "precision", "recall", "f1",
               "support");
        for (int k = 0; k < N; k++) {
            PerClass q = per_class(r->confusion, N, k);
            const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
            char idx[16];
            snprintf(idx, sizeof idx, "%d", k);
            printf("%5d  %-*.*s %9.4f %9.4f %9.4f %9lld\n", k, width, width, nm ? nm : idx, q.p, q.r, q.f1,
                   (long long)q.support);
        }
        /* rows: the index, then the class name when names are known; columns: a line of indices,
         * then (names known) a line of the names, right-aligned and cut to the column width. The
         * counts are always the last N fields of a row. */
        bool names = false;
        int cw = 6;
        for (int k = 0; k < N; k++) {
            const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
            if (!nm) continue;
            names = true;
            int w = (int)strlen(nm);
            if (w > cw) cw = w > 12 ? 12 : w;
        }
        int lw = names ? 6 + 2 + width : 6;
        printf("confusion matrix (rows: true class, columns: predicted class):\n%*s", lw, "");
        for (int k = 0; k < N; k++) printf(" %*d", cw, k);
        printf("\n");
        if (names) {
            printf("%*s", lw, "");
            for (int k = 0; k < N; k++) {
                const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
                char idx[16];
                snprintf(idx, sizeof idx, "%d", k);
                printf(" %*.*s", cw, cw, nm ? nm : idx);
            }
            printf("\n");
        }
        for (int k = 0; k < N; k++) {
            printf("%6d", k);
            if (names) {
                const char *nm = rt_class_name(c, k, N, r->data_classes, r->ndata_classes);
                char idx[16];
                snprintf(idx, sizeof idx, "%d", k);
                printf("  %-*.*s", width, width, nm ? nm : idx);
            }
            for (int j = 0; j < N; j++) printf(" %*lld", cw, (long long)r->confusion[(int64_t)k * N + j]);
            printf("\n");
        }
    } else if (r->nvals) {
        printf("mse: %.6g\nmae: %.6g\n", r->se / (double)r->nvals, r->ae / (double)r->nvals);
    }
    printf("time: %.2fs (%.0f samples/s)\n", r->secs, r->secs > 0 ? (double)r->n / r->secs : 0.0);
}
