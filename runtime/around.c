/* around.c - what a training run does around its steps, beside the loop of train.c: the epoch line
 * (or its JSON), the history file and the plot after each epoch, early stopping and the best
 * epoch's weights (--early-stop, --monitor, --save-best), the learning rate a schedule gives, the
 * progress line on a terminal, and the last line saying which epoch was best and why training
 * stopped. train.c calls these at four places (begin, each epoch's line, after each epoch's save,
 * end), so the loop itself stays the loop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

/* The learning rate step s uses at optimizer step t of total (1-based), from its `schedule` record:
 * the stdlib schedules (stdlib/optim.nn) with the same arithmetic; NAN when the schedule is one the
 * runtime does not know (a model's own fn). Without a schedule, the base rate. */
double rt_step_lr(const RtDesc *d, int s, double base, int64_t t, int64_t total) {
    const RtStep *st = &d->step[s];
    if (!st->schedule) return base;
    double a = st->sched_a, b = st->sched_b, tt = (double)t, T = (double)total;
    if (!strcmp(st->schedule, "constant")) return base;
    if (!strcmp(st->schedule, "step_decay")) {
        /* k = f32(i32((drops + 1) * (t - 1) / total)); lr * gamma^min(k, drops) */
        float q = ((float)b + 1.0f) * ((float)tt - 1.0f) / (float)T;
        if (!(q > -2e9f && q < 2e9f)) return NAN;        /* no i32 holds it: not a rate to report */
        float k = (float)(int32_t)q;
        return (double)((float)base * powf((float)a, fminf(k, (float)b)));
    }
    if (!strcmp(st->schedule, "cosine")) {
        float progress = fminf(((float)tt - 1.0f) / fmaxf((float)T - 1.0f, 1.0f), 1.0f);
        return (double)((float)a + 0.5f * ((float)base - (float)a) * (1.0f + cosf(3.14159265f * progress)));
    }
    if (!strcmp(st->schedule, "warmup_cosine")) {
        /* stdlib/optim.nn warmup_cosine: a = warmup (a fraction of the run), b = min_lr */
        float sk = (float)tt - 1.0f, w = (float)a * (float)T;
        if (sk < w) return (double)((float)base * sk / fmaxf(w, 1.0f));
        float progress = fminf((sk - w) / fmaxf((float)T - w, 1.0f), 1.0f);
        return (double)((float)b + 0.5f * ((float)base - (float)b) * (1.0f + cosf(3.14159265f * progress)));
    }
    if (!strcmp(st->schedule, "exponential_decay"))     /* a = rate, b = steps */
        return (double)((float)base * powf((float)a, ((float)tt - 1.0f) / (float)b));
    if (!strcmp(st->schedule, "lr_range"))              /* a = start */
        return (double)((float)a * powf((float)base / (float)a, ((float)tt - 1.0f) / fmaxf((float)T - 1.0f, 1.0f)));
    return NAN;
}

/* ---- the state of one run ---- */

int rt_around_begin(RtCtx *c, const RtOpts *o, RtAround *ar, const RtRow *names, int64_t nv) {
    memset(ar, 0, sizeof *ar);
    ar->o = o;
    ar->info = o->json ? stderr : stdout;
    ar->best = NAN;
    ar->best_epoch = -1;
    /* the history: --history, else beside --save */
    if (o->history) {
        ar->history = o->history;
    } else if (o->save) {
        size_t n = strlen(o->save) + 16;
        if (!(ar->history_buf = rt_alloc(c, n))) return -1;
        snprintf(ar->history_buf, n, "%s.history.csv", o->save);
        ar->history = ar->history_buf;
    }
    if (ar->history && rt_history_begin(c, &ar->hist, ar->history, o->force, o->resume != NULL)) return -1;
    if (o->plot) {
        RtOutput po = rt_plot_output(o->force);
        po.flag = "--plot";
        if (rt_output_check(c, o->plot, &po)) return -1;
    }
    if (o->save_best && rt_save_probe(c, o->save_best, o->force)) return -1;
    /* what early stopping and --save-best watch: --monitor, else val_loss with validation data,
     * else the (first) training loss */
    ar->watch = o->patience > 0 || o->save_best || o->monitor;
    if (ar->watch) {
        char *m = NULL;
        if (o->monitor) m = rt_strdup(c, o->monitor);
        else if (nv > 0 && names->n) {
            /* the first validation loss: val_ + the first step's loss */
            size_t n = strlen(c->desc.step[0].loss) + 5;
            if ((m = rt_alloc(c, n))) snprintf(m, n, "val_%s", c->desc.step[0].loss);
        } else m = rt_strdup(c, names->n ? names->name[0] : "loss");
        if (!m) return -1;
        ar->monitor = m;
        if (rt_row_find(names, m) < 0) {
            char list[512] = "";
            size_t at = 0;
            for (int i = 0; i < names->n && at < sizeof list - 1; i++)
                at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "", names->name[i]);
            bool val = !strncmp(m, "val_", 4) && nv == 0;
            return rt_error(c, "--monitor '%s' is not a value this run reports%s (it reports: %s)", m,
                            val ? " (it has no validation data: add --val-split F)" : "", list);
        }
        ar->maximize = rt_monitor_max(m);
        /* --resume: the checkpoint's best so far, when it watched the same value */
        if (c->resume_monitor && !strcmp(c->resume_monitor, m) && c->resume_best_epoch <= c->epoch) {
            ar->best = c->resume_best;
            ar->best_epoch = c->resume_best_epoch;
            ar->wait = c->epoch - c->resume_best_epoch;
            fprintf(stderr, "%s: note: resuming the watch: %s was best at epoch %lld (%.6g), %lld epoch%s ago\n",
                    c->prog, m, (long long)ar->best_epoch, ar->best, (long long)ar->wait, ar->wait == 1 ? "" : "s");
        } else if (c->resume_monitor) {
            fprintf(stderr, "%s: note: the checkpoint watched %s, this run watches %s: its best starts over\n", c->prog,
                    c->resume_monitor, m);
        }
        c->watch_monitor = m;
        c->watch_best = ar->best;
        c->watch_best_epoch = ar->best_epoch;
    }
    if (!o->save && !o->save_best && rt_dist_rank() == 0)   /* the other ranks never save */
        fprintf(stderr, "%s: note: no --save FILE: the trained weights will not be kept when training ends\n", c->prog);
    return 0;
}

/* The epoch line (or its JSON object), the history row, the plot. */
int rt_around_epoch(RtCtx *c, RtAround *ar, int64_t epoch, int64_t epochs, const RtRow *row, double secs,
                    double rate, const double *lr, int nlr) {
    const RtDesc *d = &c->desc;
    const RtOpts *o = ar->o;
    /* the rate each step ended the epoch with, when a schedule changes it */
    const char *lr_names[64];
    char lr_buf[64][72];
    int k = 0;
    for (int s = 0; s < nlr && s < 64; s++) {
        if (nlr == 1) snprintf(lr_buf[k], sizeof lr_buf[k], "lr");
        else snprintf(lr_buf[k], sizeof lr_buf[k], "lr_%.64s", d->step[s].name);
        lr_names[k] = lr_buf[k];
        k++;
    }
    if (o->json) {
        printf("{\"epoch\": %lld, \"epochs\": %lld, ", (long long)epoch, (long long)epochs);
        rt_row_json(row, stdout);
        for (int s = 0; s < k; s++) {
            fputs(", ", stdout);
            rt_json_str(stdout, lr_names[s]);
            fputs(": ", stdout);
            rt_json_num(stdout, lr[s]);
        }
        printf(", \"seconds\": %.3f, \"samples_per_s\": %.1f}\n", secs, rate);
    } else {
        printf("epoch %lld/%lld:", (long long)epoch, (long long)epochs);
        rt_row_print(row, 0, row->n, stdout);
        for (int s = 0; s < k && ar->scheduled; s++)
            if (isfinite(lr[s])) printf("  %s %.4g", lr_names[s], lr[s]);
        printf("  %.2fs  %.0f samples/s\n", secs, rate);
    }
    fflush(stdout);
    ar->last_epoch = epoch;
    /* The row joins the history, and the history and plot files are made, now; they are written
     * after the epoch's checkpoint (a failed save is the error reported first), by
     * rt_around_after, which allocates nothing: so a failed allocation never leaves a new
     * checkpoint behind an error. */
    if (rt_history_add(c, &ar->hist, NULL, o->force, epoch, row, lr, lr_names, k, secs, rate)) return -1;
    free(ar->hist_text);
    free(ar->plot_text);
    ar->hist_text = ar->plot_text = NULL;
    /* early stopping's bookkeeping */
    if (ar->watch) {
        int i = rt_row_find(row, ar->monitor);
        double v = i >= 0 ? row->v[i] : NAN;
        bool better = isfinite(v) && (!isfinite(ar->best) || (ar->maximize ? v > ar->best : v < ar->best));
        ar->improved = better;
        if (better) {
            ar->best = v;
            ar->best_epoch = epoch;
            ar->wait = 0;
        } else {
            ar->wait++;
        }
        c->watch_best = ar->best;             /* the checkpoint saved after this epoch keeps them */
        c->watch_best_epoch = ar->best_epoch;
    }
    /* The plot: redrawn at most once a second (drawing N epochs formats every point: ~9 ms at
     * 300 epochs), and always after the last epoch, early stop included. */
    bool last = epoch == epochs || (o->patience > 0 && ar->wait >= o->patience);
    double now = rt_now();
    /* The history file is rewritten whole (formatting every row), so after each epoch it would cost
     * O(epochs^2): 10000 short epochs took minutes. It is made with every checkpoint (so a resumed
     * run finds every row up to its epoch), at least once a second, and after the last epoch. */
    if (ar->history && (last || ar->save_due || now - ar->hist_drawn >= 1.0)) {
        if (rt_history_render(c, &ar->hist, &ar->hist_text, &ar->hist_n) ||
            (!ar->hist_tmp && !(ar->hist_tmp = rt_alloc(c, rt_tmp_name_size(ar->history)))))
            return -1;
        ar->hist_drawn = now;
    }
    if (o->plot && (last || now - ar->plot_drawn >= 1.0)) {
        if (rt_plot_render(c, &ar->hist, d->name, &ar->plot_text, &ar->plot_n) ||
            (!ar->plot_tmp && !(ar->plot_tmp = rt_alloc(c, rt_tmp_name_size(o->plot)))))
            return -1;
        ar->plot_drawn = now;
    }
    return 0;
}

/* After the epoch's --save: the best weights, and whether to stop (1), go on (0) or fail (-1). */
int rt_around_after(RtCtx *c, RtAround *ar, const RtData *classes_from) {
    const RtOpts *o = ar->o;
    /* The outputs were checked against the inputs before training (rt_around_begin); a --save over
     * the --resume file has since replaced it, and its old inode, which the ctx still lists as an
     * input, may be reused by these files' temporaries: so they may "replace the checkpoint". */
    if (ar->hist_text) {
        RtOutput ho = rt_history_output(o->force);
        ho.replaces_checkpoint = true;
        if (rt_write_whole_pre(c, ar->history, &ho, ar->hist_text, ar->hist_n, ar->hist_tmp)) return -1;
    }
    if (ar->plot_text) {
        RtOutput po = rt_plot_output(o->force);
        po.flag = "--plot";
        po.replaces_checkpoint = true;
        if (rt_write_whole_pre(c, o->plot, &po, ar->plot_text, ar->plot_n, ar->plot_tmp)) return -1;
    }
    if (!ar->watch) return 0;
    if (ar->improved && o->save_best && rt_save(c, o->save_best, classes_from, o->force)) return -1;
    if (o->patience > 0 && ar->wait >= o->patience) {
        ar->stopped_early = true;
        return 1;
    }
    return 0;
}

/* The last line: which epoch was best and why training stopped (or its JSON). */
void rt_around_end(RtCtx *c, RtAround *ar, int64_t epochs, const RtRow *last) {
    const RtOpts *o = ar->o;
    if (o->json) {
        printf("{\"result\": \"trained\", \"model\": ");
        rt_json_str(stdout, c->desc.name);
        printf(", \"epochs\": %lld, \"last_epoch\": %lld, \"stopped\": \"%s\"", (long long)epochs,
               (long long)ar->last_epoch, ar->stopped_early ? "early" : "completed");
        if (ar->watch) {
            printf(", \"monitor\": ");
            rt_json_str(stdout, ar->monitor);
            printf(", \"mode\": \"%s\", \"best_epoch\": %lld, \"best\": ", ar->maximize ? "max" : "min",
                   (long long)ar->best_epoch);
            rt_json_num(stdout, ar->best);
        }
        if (last && last->n) {
            printf(", \"final\": {");
            rt_row_json(last, stdout);
            printf("}");
        }
        printf(", \"weights\": ");
        if (o->save) rt_json_str(stdout, o->save);
        else fputs("null", stdout);
        printf(", \"best_weights\": ");
        if (o->save_best && ar->best_epoch > 0) rt_json_str(stdout, o->save_best);
        else fputs("null", stdout);
        printf(", \"history\": ");
        if (ar->history) rt_json_str(stdout, ar->history);
        else fputs("null", stdout);
        printf("}\n");
        return;
    }
    if (!ar->watch) return;
    if (ar->best_epoch < 0) {
        printf("best epoch: none (%s was never a finite number)", ar->monitor);
    } else {
        printf("best epoch %lld: %s %.6g (%s is better)", (long long)ar->best_epoch, ar->monitor, ar->best,
               ar->maximize ? "higher" : "lower");
        if (o->save_best) printf(", its weights in '%s'", o->save_best);
    }
    if (ar->stopped_early)
        printf("; stopped early after epoch %lld of %lld: %s did not improve for %lld epoch%s (--early-stop %lld)\n",
               (long long)ar->last_epoch, (long long)epochs, ar->monitor, (long long)ar->wait,
               ar->wait == 1 ? "" : "s", (long long)o->patience);
    else if (ar->last_epoch > 0)
        printf("; stopped after the last epoch, %lld of %lld%s\n", (long long)ar->last_epoch, (long long)epochs,
               o->patience > 0 ? " (no early stop: it improved often enough)" : "");
    else
        printf("; no epoch ran\n");
}

void rt_around_free(RtCtx *c, RtAround *ar) {
    c->watch_monitor = NULL;
    rt_history_free(c, &ar->hist);
    rt_free(c, ar->history_buf);
    rt_free(c, ar->monitor);
    rt_free(c, ar->hist_tmp);
    rt_free(c, ar->plot_tmp);
    free(ar->hist_text);    /* open_memstream's, from malloc */
    free(ar->plot_text);
    ar->hist_tmp = ar->plot_tmp = ar->hist_text = ar->plot_text = NULL;
    ar->history_buf = ar->monitor = NULL;
}

/* The progress line on a terminal: the bar, each step's mean loss so far by name, the rate of a
 * schedule, and the time left (this run's pace so far, over the samples still to train). */
void rt_around_progress(RtCtx *c, RtAround *ar, int64_t epoch, int64_t epochs, int64_t done, int64_t total,
                        const double *loss_sum, const double *lr, double run_t0, int64_t run_done,
                        int64_t run_total) {
    const RtDesc *d = &c->desc;
    int width = 24, fill = total ? (int)(width * done / total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[width] = 0;
    fprintf(stderr, "\repoch %lld/%lld [%s] %3d%%", (long long)epoch, (long long)epochs, bar,
            total ? (int)(100 * done / total) : 100);
    for (int s = 0; s < d->nstep; s++) {
        bool dup = false;
        for (int q = 0; q < s; q++) dup |= d->step[q].loss_index == d->step[s].loss_index;
        if (!dup) fprintf(stderr, "  %s %.4f", d->step[s].loss, done ? loss_sum[s] / (double)done : 0.0);
    }
    for (int s = 0; s < d->nstep && ar->scheduled; s++)
        if (isfinite(lr[s])) {
            if (d->nstep == 1) fprintf(stderr, "  lr %.3g", lr[s]);
            else fprintf(stderr, "  lr_%s %.3g", d->step[s].name, lr[s]);
        }
    double el = rt_now() - run_t0;
    if (run_done > 0 && el > 0) {     /* from the first batch on, as Keras does */
        double left = el / (double)run_done * (double)(run_total - run_done);
        long sec = (long)(left + 0.5);
        if (sec >= 3600) fprintf(stderr, "  ETA %ld:%02ld:%02ld", sec / 3600, sec / 60 % 60, sec % 60);
        else fprintf(stderr, "  ETA %ld:%02ld", sec / 60, sec % 60);
    }
    fprintf(stderr, "\033[K");
    fflush(stderr);
}
