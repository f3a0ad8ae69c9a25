/* cli.c - nnc_main: the command line of every model executable (train, eval, predict, summary,
 * --help), the run context's setup (descriptor, parameter slab, thread pool) and its teardown.
 *
 * Exit status: 0 success, 1 a runtime error (bad data, bad weights file, NaN loss, I/O failure),
 * 2 a usage error (unknown command or flag, missing or malformed flag value). Output that could not
 * be written (stdout's flush or error flag at the end) turns a 0 into 1. docs/cli.md is the
 * user's manual of all of it.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "rt.h"

#define EXIT_USAGE 2

typedef enum { CMD_TRAIN, CMD_EVAL, CMD_PREDICT, CMD_SUMMARY, CMD_PLOT, CMD_SAMPLE, CMD_GENERATE, CMD_STATS, CMD_N } Cmd;

static const char *const cmd_names[] = {"train", "eval", "predict", "summary", "plot", "sample", "generate", "stats"};
#define NCMD ((int)CMD_N)
#define GEN_MAX_LENGTH 100000000    /* generate --length */

/* flags, and the commands (bit per Cmd) that take each */
typedef enum {
    F_DATA, F_EPOCHS, F_BATCH, F_LR, F_PROMPT, F_LENGTH, F_TEMP, F_TOPK, F_SEED, F_THREADS, F_LIMIT, F_VAL, F_FOLD, F_SAVE, F_SAVE_EVERY, F_RESUME, F_WEIGHTS,
    F_OUT, F_FORCE, F_HISTORY, F_PLOT, F_SAVE_BEST, F_MONITOR, F_EARLY_STOP, F_JSON, F_INIT_FROM, F_MAP, F_N,
    F_DISTRIBUTED, F_DIST_TIMEOUT, F_CHECK_SYNC, F_NFLAGS
} Flag;

static const struct { const char *name, *arg, *help; unsigned cmds; } flags[F_NFLAGS] = {
    [F_DATA] = {"--data", "PATH", "data set: a directory, a file, files joined by commas, or a source\n"
                "                        like 'csv(\"f.csv\", label = \"y\")'", 1u << CMD_TRAIN | 1u << CMD_EVAL | 1u << CMD_STATS},
    [F_EPOCHS] = {"--epochs", "N", "number of epochs (total, counting resumed ones)", 1u << CMD_TRAIN},
    [F_BATCH] = {"--batch", "N", "batch size", 1u << CMD_TRAIN | 1u << CMD_EVAL | 1u << CMD_PREDICT | 1u << CMD_SUMMARY},
    [F_LR] = {"--lr", "X", "learning rate of every train step", 1u << CMD_TRAIN},
    /* generate (generate.c) */
    [F_PROMPT] = {"--prompt", "TEXT", "text to continue (UTF-8; every character must be in the model's vocabulary)",
                  1u << CMD_GENERATE},
    [F_LENGTH] = {"--length", "N", "characters to generate after the prompt (default 200)", 1u << CMD_GENERATE},
    [F_TEMP] = {"--temperature", "T", "divides the log-probabilities: < 1 safer, > 1 wilder, 0 always the most likely\n"
                "                        character (default 1)", 1u << CMD_GENERATE},
    [F_TOPK] = {"--top-k", "K", "draw from the K most likely characters only (default: all)", 1u << CMD_GENERATE},
    [F_SEED] = {"--seed", "N", "random seed of initialisation, shuffles and dropout; of the noise in sample (default 1)",
                1u << CMD_TRAIN | 1u << CMD_SAMPLE | 1u << CMD_GENERATE},
    [F_THREADS] = {"--threads", "N", "threads for BLAS and the model's parallel loops (default: all cores)",
                   1u << CMD_TRAIN | 1u << CMD_EVAL | 1u << CMD_PREDICT | 1u << CMD_SAMPLE | 1u << CMD_GENERATE},
    [F_LIMIT] = {"--limit", "N", "use only the first N samples", 1u << CMD_TRAIN | 1u << CMD_EVAL | 1u << CMD_STATS},
    [F_VAL] = {"--val-split", "F", "hold out this fraction (0 <= F < 1) for validation", 1u << CMD_TRAIN},
    [F_FOLD] = {"--fold", "I/K", "k-fold cross-validation: validate on the I-th of K equal parts of the shuffled\n"
                "                        data (1 <= I <= K), train on the others", 1u << CMD_TRAIN},
    [F_SAVE] = {"--save", "FILE", "write a safetensors checkpoint after every epoch (epochs much shorter than a\n"
                "                        save: less often; --save-every)", 1u << CMD_TRAIN},
    [F_SAVE_EVERY] = {"--save-every", "N", "with --save: a checkpoint after every N-th epoch and the last, however short",
                      1u << CMD_TRAIN},
    [F_RESUME] = {"--resume", "FILE", "continue training from a checkpoint", 1u << CMD_TRAIN},
    [F_WEIGHTS] = {"--weights", "FILE", "weights (safetensors) to use (required unless every parameter has\n"
                  "                        literal values in the model)",
                  1u << CMD_EVAL | 1u << CMD_PREDICT | 1u << CMD_SAMPLE | 1u << CMD_GENERATE},
    [F_OUT] = {"-o", "FILE", "predict: write predictions to FILE (.csv, .npy, or .png: a picture grid) instead of\n"
               "                        stdout; sample: the PNG; plot: the SVG (default: the history's name with .svg)",
               1u << CMD_PREDICT | 1u << CMD_PLOT | 1u << CMD_SAMPLE},
    [F_FORCE] = {"--force", "", "let --save / -o replace a read-only file or one of another kind (never an input\n"
                 "                        of the command or the executable)", 1u << CMD_TRAIN | 1u << CMD_PREDICT | 1u << CMD_PLOT | 1u << CMD_SAMPLE},
    /* around training: runtime/around.c, history.c, plot.c */
    [F_HISTORY] = {"--history", "FILE", "write one CSV row per epoch: losses, metrics, validation, lr, seconds,\n"
                   "                        samples/s (default with --save: SAVE.history.csv)", 1u << CMD_TRAIN},
    [F_PLOT] = {"--plot", "FILE", "draw the learning curves as SVG after every epoch", 1u << CMD_TRAIN},
    [F_SAVE_BEST] = {"--save-best", "FILE", "write a checkpoint of the best epoch (by --monitor)", 1u << CMD_TRAIN},
    [F_MONITOR] = {"--monitor", "NAME", "the value --early-stop and --save-best watch (val_loss, val_accuracy,\n"
                   "                        loss, ...; default: val_loss with validation data, else loss)", 1u << CMD_TRAIN},
    [F_EARLY_STOP] = {"--early-stop", "N", "stop when --monitor has not improved for N epochs", 1u << CMD_TRAIN},
    [F_JSON] = {"--json", "", "print the results as JSON (train: one object per epoch and one at the end)",
                1u << CMD_TRAIN | 1u << CMD_EVAL | 1u << CMD_PREDICT | 1u << CMD_SUMMARY},
    [F_INIT_FROM] = {"--init-from", "FILE", "start from the parameters (and statistics) of FILE, another model's weights,\n"
                     "                        where name and shape match", 1u << CMD_TRAIN},
    [F_MAP] = {"--map", "RULES", "with --init-from: rename the file's tensors, 'FROM=TO,...' ('*' matches any text)",
               1u << CMD_TRAIN},
    [F_N] = {"--n", "N", "pictures: samples to draw (default 64), or the first N inputs of predict -o FILE.png",
             1u << CMD_PREDICT | 1u << CMD_SAMPLE},
    /* data parallelism: runtime/mpi.c, docs/distributed.md */
    [F_DISTRIBUTED] = {"--distributed", "MODE", "mpi: train data-parallel over MPI (the default when started by mpirun);\n"
                       "                        none: one process even under mpirun", 1u << CMD_TRAIN},
    [F_DIST_TIMEOUT] = {"--dist-timeout", "S", "exit when the other processes have not answered for S seconds\n"
                        "                        (default 600; 0: wait forever)", 1u << CMD_TRAIN},
    [F_CHECK_SYNC] = {"--check-sync", "K", "every K steps, check that every process holds the same parameters",
                      1u << CMD_TRAIN},
};

static const char *const cmd_help[] = {
    "train the model; one line per epoch with loss, metrics, time and throughput",
    "evaluate weights: loss, accuracy/precision/recall/confusion matrix or mse/mae",
    "run the model on INPUT (.csv, .npy, or IDX[.gz]) and print its outputs as CSV",
    "print the model's layers, tensors, parameter counts and the memory a training step needs",
    "draw a training history (train --history) as learning curves in SVG",
    "draw pictures from the model's output 'sample' on random noise: -o FILE.png",
    "sample text from a language model trained on text data",
    "print the mean and standard deviation of each input feature over the training data (Keras'\n"
    "            Normalization.adapt) as nnc lists to standardise with",
};

/* a command's own wording of a shared flag (NULL: the table's) */
static const char *flag_help(Cmd k, int f) {
    if (k == CMD_GENERATE && f == F_SEED) return "random seed: the same seed gives the same text (default 1)";
    if (k == CMD_GENERATE && f == F_WEIGHTS) return "weights of a model trained on text data (they hold its vocabulary)";
    return flags[f].help;
}

/* The parameter whose values only a weights file can give (NULL when every one comes from the model
 * itself, as in a model whose parameters are all literals): a param or state tensor needs one unless
 * it is a literal, or a zeros/ones/constant init of a model with no train step (there is nothing to
 * train, so those values are final) or of optimizer state (which eval and predict do not read). */
static const RtTensor *needs_weights(const RtDesc *d) {
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (t->role != RT_PARAM && t->role != RT_STATE) continue;
        if (t->init == INIT_LITERAL) continue;
        bool fixed = t->init == INIT_ZEROS || t->init == INIT_ONES || t->init == INIT_CONSTANT;
        if (fixed && (d->nstep == 0 || t->role == RT_STATE)) continue;
        return t;
    }
    return NULL;
}

static void usage_top(RtCtx *c, FILE *out) {
    fprintf(out, "usage: %s COMMAND [FLAGS]\n\nthe compiled model '%s'. Commands:\n", c->prog, c->desc.name);
    for (int k = 0; k < NCMD; k++) fprintf(out, "  %-9s %s\n", cmd_names[k], cmd_help[k]);
    fprintf(out, "\n'%s COMMAND --help' lists a command's flags; '%s --version' names the model, the SHA-256\n"
                 "of its source and the nnc that compiled it. Exit status: 0 ok, 1 error, 2 usage error.\n", c->prog, c->prog);
}

static void usage_cmd(RtCtx *c, Cmd k, FILE *out) {
    const char *w = "";
    if (k == CMD_EVAL || k == CMD_PREDICT || k == CMD_SAMPLE) w = needs_weights(&c->desc) ? " --weights FILE" : " [--weights FILE]";
    if (k == CMD_GENERATE) w = " --weights FILE";   /* the vocabulary is in the weights */
    fprintf(out, "usage: %s %s%s [FLAGS]%s\n\n%s%s\n\nflags:\n", c->prog, cmd_names[k], w,
            k == CMD_PREDICT ? " INPUT" : k == CMD_EVAL ? " [DATA]" : k == CMD_PLOT ? " HISTORY.csv" : "", cmd_help[k],
            k == CMD_GENERATE ? ": the model's input is i32[B, T]\ncharacter ids, its first output f32[B, T, V] scores "
                                "the next character at each position" : "");
    for (int f = 0; f < F_NFLAGS; f++)
        if (flags[f].cmds & (1u << k)) {
            char lhs[64];
            snprintf(lhs, sizeof lhs, "%s%s%s", flags[f].name, flags[f].arg[0] ? " " : "", flags[f].arg);
            fprintf(out, "  %-21s %s", lhs, flag_help(k, f));
            double v;
            if ((f == F_EPOCHS || f == F_BATCH) && rt_hyper(&c->desc, f == F_EPOCHS ? "epochs" : "batch", &v))
                fprintf(out, " (model's default: %g)", v);
            if (f == F_LR && c->desc.nstep > 0) fprintf(out, " (model's default: %g)", c->desc.step[0].lr);
            if (f == F_DATA) {
                /* eval reads the test split of an MNIST-style set, the model's own data otherwise */
                const char *dr = c->desc.data;
                bool mnist = !dr[0] || !strncmp(dr, "fashion_mnist", 13) || !strncmp(dr, "mnist", 5);
                fprintf(out, " (default: %s)", k == CMD_TRAIN ? "the model's train data" :
                        mnist ? "the test split of the model's data set" : "the model's data");
            }
            fprintf(out, "\n");
        }
    fprintf(out, "  %-21s %s\n", "--help", "show this help");
}

/* " (did you mean 'X'?)" for the closest of names (edit distance at most 2), else "" */
static void suggest(const char *word, size_t n, const char *const *names, int count, char *out, size_t outn) {
    int best = 3, at = -1;
    for (int i = 0; i < count; i++) {
        if (!names[i]) continue;
        int dist = rt_edit_distance(word, n, names[i]);
        if (dist < best) { best = dist; at = i; }
    }
    if (at >= 0) snprintf(out, outn, " (did you mean '%s'?)", names[at]);
    else if (outn) out[0] = 0;
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int usage_error(RtCtx *c, Cmd k, bool have_cmd, const char *fmt, const char *a, const char *b) {
    fflush(stdout);
    fprintf(stderr, "%s: error: ", c->prog);
    fprintf(stderr, fmt, a, b);
    if (have_cmd) fprintf(stderr, "\n(see '%s %s --help')\n", c->prog, cmd_names[k]);
    else fprintf(stderr, "\n(see '%s --help')\n", c->prog);
    return EXIT_USAGE;
}

static bool parse_int(const char *s, int64_t lo, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo) return false;
    *v = x;
    return true;
}

static bool parse_real(const char *s, double *v) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(x)) return false;
    *v = x;
    return true;
}

static void *default_alloc(void *ud, void *ptr, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* One allocation for every param and state tensor, each 64-byte aligned. */
static int setup_slab(RtCtx *c) {
    size_t total = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role == RT_PARAM || t->role == RT_STATE)
            total += ((size_t)rt_numel(t, 1) * rt_dsize(t->dtype) + 63) & ~(size_t)63;
    }
    c->bufs = rt_calloc(c, sizeof(void *) * (size_t)(c->desc.nt ? c->desc.nt : 1));
    c->slab_raw = rt_alloc(c, total + 64);
    if (!c->bufs || !c->slab_raw) return -1;
    rt_huge_pages(c->slab_raw, total + 64);    /* before the first touch (memory.c) */
    memset(c->slab_raw, 0, total + 64);
    c->slab_bytes = total;
    uint8_t *p = (uint8_t *)(((uintptr_t)c->slab_raw + 63) & ~(uintptr_t)63);
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role != RT_PARAM && t->role != RT_STATE) continue;
        c->bufs[i] = p;
        p += ((size_t)rt_numel(t, 1) * rt_dsize(t->dtype) + 63) & ~(size_t)63;
    }
    return 0;
}

static int init_params(RtCtx *c) {
    uint64_t s = rt_mix64(c->seed ^ 0x494e4954ull);   /* "INIT" */
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if ((t->role == RT_PARAM || t->role == RT_STATE) && rt_init_tensor(c, t, c->bufs[i], s)) return -1;
    }
    return 0;
}

/* What every command that runs the model does before its work: seed, threads, the parameter slab
 * and its init, the thread pool. A BLAS that cannot start its threads is refused here, before any
 * data is read. */
static int rt_prepare(RtCtx *c, uint64_t seed, int64_t threads) {
    c->seed = seed;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? n : 1;
    }
    c->threads = (int)threads;
    /* the pool runs every product's threads (nnc_sgemm, runtime/bmm.c): OpenBLAS's own workers,
     * never given a product, sleep instead of yielding between the step's GEMMs */
    openblas_set_num_threads(1);
    if (c->blas_stuck) return rt_blas_refuse(c);
    if (setup_slab(c) || init_params(c)) return -1;
    return (c->pool = rt_pool_new(c, c->threads)) ? 0 : -1;
}

/* plot HISTORY.csv [-o FILE.svg]: the learning curves of a history file (plot.c). */
static int cli_plot(RtCtx *c, const RtOpts *o) {
    RtHistory h;
    if (rt_history_read(c, o->input, &h)) return 1;
    char *def = NULL;
    const char *out = o->out;
    if (!out) {
        size_t n = strlen(o->input);
        if (!(def = rt_alloc(c, n + 5))) { rt_history_free(c, &h); return 1; }
        if (ends_with(o->input, ".csv")) n -= 4;
        snprintf(def, n + 5, "%.*s.svg", (int)n, o->input);
        out = def;
    }
    int rc = rt_plot(c, &h, c->desc.name, out, o->force, false) ? 1 : 0;
    if (!rc) printf("wrote '%s': %d epoch%s\n", out, h.nrows, h.nrows == 1 ? "" : "s");
    rt_free(c, def);
    rt_history_free(c, &h);
    return rc;
}

static int run(RtCtx *c, int argc, char **argv) {
    if (rt_desc_parse(c, c->def->desc, &c->desc)) return 1;
    if (argc < 2) {
        usage_top(c, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage_top(c, stdout);
        return 0;
    }
    int k = -1;
    for (int i = 0; i < NCMD; i++) if (!strcmp(cmd, cmd_names[i])) k = i;
    if (k < 0) {
        char hint[64] = "";
        if (cmd[0] == '-') snprintf(hint, sizeof hint, " (a command comes first)");
        else suggest(cmd, strlen(cmd), cmd_names, NCMD, hint, sizeof hint);
        return usage_error(c, 0, false, "unknown command '%s'%s", cmd, hint);
    }
    RtOpts o;
    memset(&o, 0, sizeof o);
    o.val_split = -1;
    o.length = 200;
    o.temperature = 1;
    int64_t seed = -1, threads = 0;
    int dist_mode = 0;          /* --distributed: 1 mpi, -1 none, 0 auto */
    double dist_timeout = 600;
    const char *data_pos = NULL;    /* eval's DATA argument */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_cmd(c, (Cmd)k, stdout);
            return 0;
        }
        if (a[0] != '-' || !a[1]) {
            if ((k == CMD_PREDICT || k == CMD_EVAL) && (ends_with(a, ".st") || ends_with(a, ".safetensors")))
                return usage_error(c, (Cmd)k, true, "'%s' looks like a weights file: pass it as --weights %s", a, a);
            if (!a[0]) return usage_error(c, (Cmd)k, true, "an empty argument ('') is no file name%s%s", "", "");
            if ((k == CMD_PREDICT || k == CMD_PLOT) && !o.input) { o.input = a; continue; }
            if (k == CMD_EVAL && !data_pos) { data_pos = a; continue; }
            return usage_error(c, (Cmd)k, true, "unexpected argument '%s'%s", a, "");
        }
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        int f = -1;
        for (int q = 0; q < F_NFLAGS; q++)
            if (strlen(flags[q].name) == nlen && !strncmp(flags[q].name, a, nlen)) f = q;
        if (f < 0 || !(flags[f].cmds & (1u << k))) {
            char name[128], hint[128] = "";
            snprintf(name, sizeof name, "%.*s", (int)nlen, a);
            if (f < 0) {
                /* the closest flag of this command, else of any command */
                const char *names[F_NFLAGS + 1];
                for (int q = 0; q < F_NFLAGS; q++) names[q] = flags[q].cmds & (1u << k) ? flags[q].name : NULL;
                names[F_NFLAGS] = "--help";
                suggest(a, nlen, names, F_NFLAGS + 1, hint, sizeof hint);
                if (!hint[0]) {
                    for (int q = 0; q < F_NFLAGS; q++) names[q] = flags[q].name;
                    suggest(a, nlen, names, F_NFLAGS, hint, sizeof hint);
                }
                return usage_error(c, (Cmd)k, true, "unknown flag '%s'%s", name, hint);
            }
            if (k == CMD_TRAIN && f == F_WEIGHTS) snprintf(hint, sizeof hint, " (to continue from a checkpoint use --resume)");
            else if (k != CMD_TRAIN && f == F_RESUME) snprintf(hint, sizeof hint, " (to use a checkpoint's weights use --weights)");
            char msg[256];
            snprintf(msg, sizeof msg, "flag '%%s' does not apply to %%s%s", hint);
            return usage_error(c, (Cmd)k, true, msg, name, cmd_names[k]);
        }
        if (f == F_FORCE || f == F_JSON) {
            if (eq) return usage_error(c, (Cmd)k, true, "%s takes no value%s", flags[f].name, "");
            if (f == F_FORCE) o.force = true;
            else o.json = true;
            continue;
        }
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return usage_error(c, (Cmd)k, true, "%s needs a value (%s)", flags[f].name, flags[f].arg);
        int64_t iv = 0;
        double dv = 0;
        bool ok = true;
        if (!val[0] && (f == F_DATA || f == F_SAVE || f == F_RESUME || f == F_WEIGHTS || f == F_OUT || f == F_HISTORY ||
                         f == F_PLOT || f == F_SAVE_BEST || f == F_MONITOR || f == F_INIT_FROM))
            return usage_error(c, (Cmd)k, true, "%s needs a %s, got ''", flags[f].name,
                               f == F_DATA ? "data set (a path or a source)" : "file name");
        switch ((Flag)f) {
        case F_DATA: o.data = val; break;
        case F_SAVE: o.save = val; break;
        case F_SAVE_EVERY: ok = parse_int(val, 1, &iv); o.save_every = iv; break;
        case F_RESUME: o.resume = val; break;
        case F_WEIGHTS: o.weights = val; break;
        case F_OUT: o.out = val; break;
        case F_PROMPT: o.prompt = val; break;
        case F_LENGTH: ok = parse_int(val, 0, &iv) && iv <= GEN_MAX_LENGTH; o.length = iv; break;
        case F_TOPK: ok = parse_int(val, 1, &iv) && iv <= INT32_MAX; o.topk = iv; break;
        case F_TEMP: ok = parse_real(val, &dv) && dv >= 0 && dv <= FLT_MAX; o.temperature = dv; break;
        case F_INIT_FROM: o.init_from = val; break;
        case F_MAP: o.map = val; break;
        case F_N: ok = parse_int(val, 1, &iv) && iv <= 4096; o.n = iv; break;
        case F_EPOCHS: ok = parse_int(val, 1, &iv) && iv <= RT_MAX_EPOCHS; o.epochs = iv; break;
        case F_BATCH: ok = parse_int(val, 1, &iv) && iv <= RT_MAX_BATCH; o.batch = iv; break;
        case F_LIMIT: ok = parse_int(val, 1, &iv) && iv <= RT_MAX_LIMIT; o.limit = iv; break;
        case F_THREADS: ok = parse_int(val, 1, &iv) && iv <= 1024; threads = iv; break;
        case F_SEED: ok = parse_int(val, 0, &iv); seed = iv; break;
        case F_LR: ok = parse_real(val, &dv) && dv >= 0 && dv <= FLT_MAX;   /* the graph holds lr as an f32 */ o.lr = dv; o.have_lr = true; break;
        case F_VAL: ok = parse_real(val, &dv) && dv >= 0 && dv < 1; o.val_split = dv; break;
        case F_FOLD: {
            int64_t fi = 0, fk = 0;
            const char *slash = strchr(val, '/');
            char head[32];
            ok = slash && (size_t)(slash - val) < sizeof head;
            if (ok) {
                memcpy(head, val, (size_t)(slash - val));
                head[slash - val] = 0;
                ok = parse_int(head, 1, &fi) && parse_int(slash + 1, 2, &fk) && fk <= 1000 && fi <= fk;
            }
            o.fold = fi, o.folds = fk;
            break;
        }
        case F_HISTORY: o.history = val; break;
        case F_PLOT: o.plot = val; break;
        case F_SAVE_BEST: o.save_best = val; break;
        case F_MONITOR: o.monitor = val; break;
        case F_EARLY_STOP: ok = parse_int(val, 1, &iv) && iv <= RT_MAX_EPOCHS; o.patience = iv; break;
        case F_DISTRIBUTED:
            ok = !strcmp(val, "mpi") || !strcmp(val, "none");
            dist_mode = !strcmp(val, "mpi") ? 1 : -1;
            break;
        case F_DIST_TIMEOUT: ok = parse_real(val, &dv) && dv >= 0; dist_timeout = dv; break;
        case F_CHECK_SYNC: ok = parse_int(val, 1, &iv); o.check_sync = iv; break;
        case F_FORCE: case F_JSON: case F_NFLAGS: break;
        }
        if (!ok) {
            char most[64] = "";
            int64_t max = f == F_EPOCHS || f == F_EARLY_STOP ? RT_MAX_EPOCHS : f == F_BATCH ? RT_MAX_BATCH : RT_MAX_LIMIT;
            if (f == F_EPOCHS || f == F_BATCH || f == F_LIMIT || f == F_EARLY_STOP) snprintf(most, sizeof most, " (at most %lld)", (long long)max);
            const char *what = f == F_LR || f == F_TEMP ? "a non-negative number (at most 3.4e38, f32's largest)" :
                               f == F_LENGTH ? "a whole number from 0 to 100000000" : f == F_VAL ? "a number in [0, 1)" :
                               f == F_FOLD ? "I/K: fold I of K (2 <= K <= 1000, 1 <= I <= K), as --fold 2/5" :
                               f == F_SEED ? "a non-negative integer" : f == F_THREADS ? "an integer in [1, 1024]" :
                               f == F_N ? "an integer in [1, 4096]" :
                               f == F_DISTRIBUTED ? "mpi or none" :
                               f == F_DIST_TIMEOUT ? "a number of seconds >= 0" :
                               "a positive integer";
            char msg[160];
            snprintf(msg, sizeof msg, "%s expects %s, got '%%s'%%s", flags[f].name, what);
            return usage_error(c, (Cmd)k, true, msg, val, most);
        }
    }
    if (data_pos && o.data)
        return usage_error(c, (Cmd)k, true, "eval takes one data set, but got both '%s' and --data '%s'", data_pos,
                           o.data);
    if (data_pos) o.data = data_pos;
    if (o.folds && o.val_split >= 0)
        return usage_error(c, (Cmd)k, true, "give --fold or --val-split, not both (--fold %s holds out its own part)%s",
                           "I/K", "");
    if (k == CMD_PLOT && !o.input) return usage_error(c, (Cmd)k, true, "plot needs a HISTORY.csv file (written by train --history)%s%s", "", "");
    if (o.save_every && !o.save) return usage_error(c, (Cmd)k, true, "--save-every spaces the checkpoints of --save FILE%s%s", "", "");
    if (o.map && !o.init_from) return usage_error(c, (Cmd)k, true, "--map renames the tensors of --init-from FILE%s%s", "", "");
    if (o.init_from && o.resume)
        return usage_error(c, (Cmd)k, true, "--init-from starts a new training, --resume continues one: pass one of them%s%s", "", "");
    char mwhy[256];
    if (o.map && !rt_map_valid(o.map, mwhy, sizeof mwhy)) return usage_error(c, (Cmd)k, true, "--map: %s%s", mwhy, "");
    if (k == CMD_SAMPLE && !o.out) return usage_error(c, (Cmd)k, true, "sample needs -o FILE.png%s%s", "", "");
    if (k == CMD_SAMPLE && !ends_with(o.out, ".png"))
        return usage_error(c, (Cmd)k, true, "sample writes a PNG picture: -o '%s' should end in .png%s", o.out, "");
    if (k == CMD_PREDICT && o.n && !(o.out && ends_with(o.out, ".png")))
        return usage_error(c, (Cmd)k, true, "--n picks the inputs of a picture: it needs -o FILE.png%s%s", "", "");
    const RtTensor *need = needs_weights(&c->desc);
    if ((k == CMD_EVAL || k == CMD_PREDICT || k == CMD_SAMPLE || k == CMD_GENERATE) && !o.weights && need) {
        char why[256];
        snprintf(why, sizeof why, " (%s '%s' has no literal values in the model)", rt_role_name(need->role),
                 need->name);
        return usage_error(c, (Cmd)k, true, "%s needs --weights FILE%s", cmd_names[k], why);
    }
    if (k == CMD_PREDICT && !o.input) return usage_error(c, (Cmd)k, true, "predict needs an INPUT file%s%s", "", "");

    if (k == CMD_PLOT) return cli_plot(c, &o);
    if (k == CMD_GENERATE) {
        /* generate's seed is --seed's alone (default 1), not the model's train block's */
        if (rt_prepare(c, seed >= 0 ? (uint64_t)seed : 1, threads)) return 1;
        return rt_generate(c, &o) ? 1 : 0;
    }
    if (k == CMD_SUMMARY) return (o.json ? rt_summary_json(c, o.batch) : rt_summary(c, o.batch)) ? 1 : 0;

    /* data parallelism: MPI when launched by mpirun or asked for (train only: every other command
     * runs alone in each process); the other ranks print nothing, rank 0 speaks for the run */
    if (k == CMD_TRAIN && rt_dist_init(c, dist_mode, dist_timeout)) return 1;
    if (rt_dist_rank() > 0 && !freopen("/dev/null", "w", stdout)) return rt_error(c, "cannot silence rank %d's output", rt_dist_rank()), 1;
    if (threads <= 0 && rt_dist_world() > 1) {
        /* the cores of this machine shared among its ranks, not each rank taking all of them */
        const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        long n = sysconf(_SC_NPROCESSORS_ONLN), local = ls ? strtol(ls, NULL, 10) : 1;
        threads = n > 0 && local > 0 && n / local > 1 ? n / local : 1;
    }
    double hv;
    uint64_t s = seed >= 0 ? (uint64_t)seed : rt_hyper(&c->desc, "seed", &hv) && hv >= 0 ? (uint64_t)hv : 1;
    if (rt_prepare(c, s, threads)) return 1;    /* before any data is read */
    if (k == CMD_TRAIN && o.init_from && rt_init_from(c, o.init_from, o.map)) return 1;
    bool png = o.out && strlen(o.out) > 4 && ends_with(o.out, ".png");
    int r = k == CMD_TRAIN ? rt_train(c, &o) : k == CMD_EVAL ? rt_eval(c, &o) : k == CMD_SAMPLE ? rt_sample(c, &o) :
            k == CMD_STATS ? rt_stats(c, &o) :
            png ? rt_predict_png(c, &o) : rt_predict(c, &o);
    return r ? 1 : 0;
}

int nnc_main_alloc(const NncModelDef *def, int argc, char **argv, NncAllocFn alloc, void *ud) {
    RtCtx c;
    memset(&c, 0, sizeof c);
    c.def = def;
    c.alloc = alloc ? alloc : default_alloc;
    c.ud = ud;
    const char *p = argc > 0 && argv[0] ? argv[0] : "model";
    const char *slash = strrchr(p, '/');
    c.prog = slash ? slash + 1 : p;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) {
            *s = 0;
            snprintf(c.exe_dir, sizeof c.exe_dir, "%s", exe[0] ? exe : "/");
        }
    }
    c.blas_stuck = rt_blas_stuck(&c);
    int rc = run(&c, argc, argv);
    rt_dist_finish(rc);     /* MPI_Finalize; a failed rank aborts the others (runtime/mpi.c) */
    /* output that could not be written is an error, not a success (a full disk, a closed pipe) */
    errno = 0;
    if ((fflush(stdout) || ferror(stdout)) && rc == 0) {
        rt_error(&c, "writing to standard output failed: %s", errno ? strerror(errno) : "an earlier write failed");
        rc = 1;
    }
    rt_pool_free(&c, c.pool);
    rt_free(&c, c.slab_raw);
    rt_free(&c, c.bufs);
    for (int i = 0; i < c.nclass_names; i++) rt_free(&c, c.class_names[i]);
    rt_free(&c, c.class_names);
    rt_free(&c, c.vocab);
    rt_free(&c, c.resume_monitor);
    rt_desc_free(&c, &c.desc);
    if (c.blas_stuck) {
        /* OpenBLAS's destructor would join its stuck threads forever: leave without destructors */
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    return rc;
}

int nnc_main(const NncModelDef *def, int argc, char **argv) {
    return nnc_main_alloc(def, argc, argv, NULL, NULL);
}
