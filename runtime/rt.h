/* rt.h - the runtime's internal interface: the run context, the parsed descriptor, data sets and the
 * helpers every runtime file shares.
 *
 * Everything the runtime knows about one run travels in an RtCtx (no global mutable state). Memory
 * comes through one allocator hook (Lua's lua_Alloc idea, realloc-shaped) so tests can inject
 * allocation failures; user-facing errors are printed as `PROG: error: ...` by rt_error, which
 * returns -1 so callers can `return rt_error(...)`. Functions that can fail return 0 / -1.
 */
#ifndef NNC_RT_H
#define NNC_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "nnc_abi.h"

/* ---- allocation hook: ptr == NULL allocates, nsize == 0 frees (returns NULL), else reallocates.
 * Returns NULL on failure (ptr untouched). */
typedef void *(*NncAllocFn)(void *ud, void *ptr, size_t nsize);

/* nnc_main with an allocator of the caller's (tests count and fail allocations through it). */
int nnc_main_alloc(const NncModelDef *def, int argc, char **argv, NncAllocFn alloc, void *ud);

/* ---- the descriptor ---- */
typedef enum { RT_INPUT, RT_TARGET, RT_OUTPUT, RT_PARAM, RT_STATE } RtRole;
typedef enum { RT_F32, RT_I32, RT_BOOL } RtDType;
typedef enum {
    INIT_NONE, INIT_ZEROS, INIT_ONES, INIT_CONSTANT, INIT_UNIFORM, INIT_NORMAL, INIT_GLOROT_UNIFORM,
    INIT_GLOROT_NORMAL, INIT_HE_UNIFORM, INIT_HE_NORMAL, INIT_LITERAL
} RtInit;

#define RT_MAXRANK 8
#define RT_DIM_B (-1) /* the batch dimension in RtTensor.dim */

/* Every name below points into RtDesc.text (the descriptor's own copy), so no name has a length
 * limit: whatever the compiler writes, the runtime reads. */
typedef struct RtTensor {
    const char *name;
    RtRole role;
    int index;                  /* NncArgs.bufs index */
    RtDType dtype;
    int rank;
    int64_t dim[RT_MAXRANK];    /* RT_DIM_B for B */
    RtInit init;
    double init_a, init_b;
    int64_t fan_in, fan_out;
    float *literal;             /* INIT_LITERAL values [numel], owned by the ctx allocator */
    int64_t nliteral;
    bool frozen;
    bool conditions;            /* a target the forward entry point reads (a conditional model's label) */
} RtTensor;

typedef struct RtStep {
    const char *name, *loss, *optimizer;
    int loss_index;             /* into RtDesc.losses */
    double lr;
    const char *schedule;       /* its `schedule` record's NAME (constant, step_decay, cosine, ...); NULL none */
    double sched_a, sched_b;    /* step_decay: gamma, drops; cosine: min_lr; warmup_cosine: warmup, min_lr */
    int over_at, nover;         /* its `over` paths: RtDesc.over[over_at .. over_at + nover); 0: every param */
} RtStep;

/* A `reg` record: an l1/l2 term of a loss a step minimizes (summary). */
typedef struct RtReg {
    int step;                   /* into RtDesc.step */
    const char *loss, *fn, *path;
    double coef;                /* NaN: not a literal number */
} RtReg;

/* A `layer` record: one row of summary's table (an input, or a call the model body makes). */
typedef struct RtLayer {
    const char *name, *kind;
    int64_t params;
    bool shared;                /* a later call of a layer instance (its parameters counted once) */
    RtDType dtype;
    int rank;
    int64_t dim[RT_MAXRANK];    /* RT_DIM_B for B */
} RtLayer;

#define RT_MAXCOL 4   /* arrays a data source yields at most (idx/npy take up to 4 files) */

typedef struct RtDesc {
    char *text;                 /* the descriptor, split in place: every name points into it */
    const char *name;
    RtTensor *t; int nt;        /* by INDEX (descriptor order) */
    const char **loss; int nloss;
    RtStep *step; int nstep;
    const char **hyper_name; double *hyper_val; int nhyper;
    const char *data;           /* the data record verbatim (after "data "); "" when none */
    const char *valdata;        /* the valdata record likewise (`validation csv(...)`); "" when none */
    const char **metric; int nmetric;
    int nclasses;               /* > 0 classify; 0 regress; -1 no task record */
    const char *plan_class[4]; int64_t plan_a[4], plan_c[4], plan_a2[4]; int nplan;  /* planned bytes: a2*B^2 + a*B + c */
    RtLayer *layer; int nlayer;         /* `layer` records (summary) */
    const char **over; int nover;       /* every step's `over` paths, one after another */
    RtReg *reg; int nreg;               /* `reg` records (summary) */
} RtDesc;

/* ---- a data set in memory: one column per input/target tensor, in descriptor order ---- */
/* A u8 array (IDX or NPY images) feeding an f32 tensor stays in the file's type, a quarter of the
 * memory (Fashion-MNIST's images: 47 MB, not 188 MB), and each batch is converted as it is gathered:
 * value / div in float, which equals the double division rounded to float for all 256 values, so
 * results do not change (train.c converts 16 values a step, or, with AVX2 and a div whose double
 * reciprocal gives the same 256 floats, as 255 and 1 do, multiplies by it: no division). */
typedef struct RtColumn {
    RtDType dtype;              /* as the model's tensor wants it */
    int64_t per;                /* elements per sample */
    void *data;                 /* [n, per] of dtype, or of uint8_t when u8 */
    bool u8;                    /* data holds the file's bytes; gather converts them to f32 */
    float div;                  /* u8 only: 255 (images scaled to [0, 1]) or 1 */
} RtColumn;

typedef struct RtData {
    int64_t n;
    int ncol;
    RtColumn col[RT_MAXCOL];
    char **classes; int nclasses;   /* CSV string labels (sorted, or a checkpoint's order); NULL when numeric */
    bool ordered;               /* samples in the order of one sequence (text windows): a validation split
                                 * holds out the last samples, not a random choice (text.c) */
    int64_t gap;                /* ordered: samples before the held-out ones that share data with them, left out */
} RtData;

typedef struct RtPrng { uint64_t s; } RtPrng; /* splitmix64 sequence (shuffles) */

/* The identity of a file the command read (files.c): outputs never replace one. */
#define RT_MAXINPUTS 16
typedef struct RtInputId {
    dev_t dev; ino_t ino;
    bool checkpoint;            /* the --resume file: --save may continue it in place */
    char path[256];             /* for messages (cut when longer) */
} RtInputId;

/* ---- the run context ---- */
typedef struct RtCtx {
    const NncModelDef *def;
    NncAllocFn alloc; void *ud;
    const char *prog;           /* basename of argv[0], the prefix of every message */
    char exe_dir[4096];         /* directory of the executable, for relative data paths */
    RtDesc desc;
    NncPool *pool;
    int threads;
    void **bufs;                /* [nt]; params and state point into `slab` */
    void *slab_raw;             /* params + state, one allocation */
    size_t slab_bytes;
    int64_t step;               /* optimizer steps taken (checkpointed) */
    int64_t epoch;              /* epochs finished (checkpointed) */
    uint64_t seed;
    RtPrng rng;
    char **class_names;         /* [nclass_names] from a checkpoint's metadata (CSV string labels) */
    int nclass_names;
    RtInputId inputs[RT_MAXINPUTS]; /* files opened for reading, by identity */
    int ninputs;
    bool blas_stuck;            /* rt_blas_stuck said so: no BLAS, and no exit() (it would hang) */
    int64_t run_epochs;         /* --epochs of this training run (saved as the "epochs" metadata) */
    int64_t ckpt_epochs;        /* the --epochs of the run that wrote the loaded checkpoint; 0 unknown */
    uint32_t *vocab;            /* text data's vocabulary: code point of id i + 1, ascending (text.c); NULL none */
    int nvocab;
    /* early stopping's watch, saved in a checkpoint's metadata (monitor, best, best_epoch) so that
     * --resume goes on watching: what this run watches (around.c; NULL none or no best yet) ... */
    const char *watch_monitor;
    double watch_best;
    int64_t watch_best_epoch;
    /* ... and what the --resume checkpoint had watched (weights.c rt_load; NULL none) */
    char *resume_monitor;
    double resume_best;
    int64_t resume_best_epoch;
} RtCtx;

/* ---- util.c ---- */
int rt_error(RtCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *rt_alloc(RtCtx *c, size_t n);             /* NULL + message on failure */
void *rt_calloc(RtCtx *c, size_t n);
void *rt_realloc(RtCtx *c, void *p, size_t n);  /* NULL + message on failure, p still valid */
void rt_free(RtCtx *c, void *p);
char *rt_strdup(RtCtx *c, const char *s);
int64_t rt_numel(const RtTensor *t, int64_t B);
size_t rt_dsize(RtDType d);
const char *rt_dtype_name(RtDType d);
const char *rt_role_name(RtRole r);
double rt_now(void);
/* Resolves a relative data path against the current directory, then the executable's. out gets the
 * path that exists (or the name as given when neither does); -1 + message when it does not fit. */
int rt_resolve(RtCtx *c, const char *path, char *out, size_t outn);
void rt_shape_str(const RtTensor *t, char *buf, size_t n);
uint64_t rt_mix64(uint64_t z);                  /* splitmix64's step + finaliser (rand.c) */
uint64_t rt_prng_next(RtPrng *r);
uint64_t rt_prng_below(RtPrng *r, uint64_t n);  /* uniform in [0, n) */

int rt_edit_distance(const char *a, size_t na, const char *b);   /* Levenshtein, capped at 9 */

/* ---- files.c: inputs, outputs, temporaries ---- */
/* Opens an input for reading: regular files only (a FIFO or device would block), never blocking;
 * records its identity. what: "weights file", "" for data; checkpoint: the --resume file. */
int rt_open_fd(RtCtx *c, const char *path, const char *what, bool checkpoint);
FILE *rt_open_input(RtCtx *c, const char *path, const char *what, bool checkpoint);
typedef struct RtOutput {
    const char *flag;           /* "--save", "-o": named when the path is empty */
    const char *verb;           /* "save weights": "cannot save weights to 'x': ..." */
    const char *what;           /* "a checkpoint": "... replaces only a regular file" */
    const char *kind;           /* "a checkpoint written by an nnc model": "the file exists and is not ..." */
    bool (*own_kind)(RtCtx *c, FILE *f);   /* whether an existing file is of the output's kind */
    bool force;                 /* --force: replace a read-only file or one of another kind */
    bool stream_ok;             /* a FIFO or character device is written to, not replaced */
    bool replaces_checkpoint;   /* --save may replace the --resume file */
} RtOutput;
/* Whether path may be written as o says: absent, or a regular file of o's kind, writable, neither
 * the executable nor an input recorded so far (-1 + message otherwise). */
int rt_output_check(RtCtx *c, const char *path, const RtOutput *o);
/* A fresh PATH.tmp.PID.N, removed by SIGTERM/SIGINT/SIGHUP until rt_tmp_rename or rt_tmp_release;
 * why is appended to the message of a failed open. */
FILE *rt_tmp_open(RtCtx *c, const char *path, char **tmp_out, const char *verb, const char *why);
int rt_tmp_rename(const char *tmp, const char *path);      /* rename(2), then forgets tmp */
void rt_tmp_release(const char *tmp);                      /* unlinks tmp (when not NULL), forgets it */
/* Removes PATH.tmp.PID.N files whose PID no longer runs (left by a killed save). */
void rt_tmp_clean_stale(const char *path);

/* ---- memory.c: whether a plan fits ---- */
void rt_human(double bytes, char *buf, size_t n);          /* "1.5 MiB" */
/* Bytes that can still be allocated (the tighter of rlimits and MemAvailable + SwapFree; -1 when
 * unknown); why gets the reason in words. */
double rt_mem_available(char *why, size_t n);
/* -1 + "WHAT needs N more memory (PARTS), but only M are available (...)" when need does not fit. */
int rt_mem_plan(RtCtx *c, const char *what, double need, const char *parts);
/* memory.c: advise transparent huge pages for the 2 MiB-aligned part of a large buffer (a hint) */
void rt_huge_pages(void *p, size_t n);
/* Under a memory limit (only there; false otherwise): whether OpenBLAS failed to allocate its
 * buffers, so that its threads spin forever (a matrix product, and exit(), would hang). */
bool rt_blas_stuck(RtCtx *c);
int rt_blas_refuse(RtCtx *c);   /* the message of a stuck OpenBLAS; -1 */

/* ---- desc.c ---- */
int rt_desc_parse(RtCtx *c, const char *text, RtDesc *d);
void rt_desc_free(RtCtx *c, RtDesc *d);
bool rt_hyper(const RtDesc *d, const char *name, double *v);
int rt_first(const RtDesc *d, RtRole role);     /* index of the first tensor with role, or -1 */

/* ---- init.c ---- */
int rt_init_tensor(RtCtx *c, const RtTensor *t, void *buf, uint64_t seed);

/* ---- data.c ---- */
typedef enum { RT_SPLIT_TRAIN, RT_SPLIT_TEST } RtSplit;
/* Loads the data source (override, or the descriptor's `data` record) into d, mapped onto the
 * model's input (and, when with_targets, target) tensors; limit > 0 keeps the first limit samples. */
int rt_data_load(RtCtx *c, const char *override, RtSplit split, bool with_targets, int64_t limit,
                 RtData *d);
/* Loads a predict input (CSV/IDX/NPY by extension) into the model's first input tensor. */
int rt_data_load_inputs(RtCtx *c, const char *path, RtData *d);
int rt_data_load_predict(RtCtx *c, const char *path, RtData *d);   /* inputs, and a target that conditions the outputs */
void rt_data_free(RtCtx *c, RtData *d);

/* ---- text.c: text data and its vocabulary ---- */
/* Windows of character ids from path (NULL: the fortunes-es corpus) into d->col[0..ndest) for the
 * model's input and target i32[B, T]; seq (0: T) must be T, stride 0 means T. training: may build the
 * vocabulary when the ctx has none (else it is an error). */
int rt_text_load(RtCtx *c, const char *path, int64_t seq, int64_t stride, int64_t limit, bool training,
                 const RtTensor *const *dest, int ndest, RtData *d);
int64_t rt_vocab_limit(const RtCtx *c, const char **out_name); /* V of the first output f32[B, T, V]; -1 */
int32_t rt_vocab_id(const RtCtx *c, uint32_t cp);               /* 0: not in the vocabulary */
int rt_vocab_set(RtCtx *c, uint32_t *cps, int n);               /* takes cps */
int rt_vocab_parse(RtCtx *c, const char *path, const char *text, uint32_t **out, int *nout);
int rt_utf8_decode_all(RtCtx *c, const char *name, const char *bytes, size_t n, uint32_t **out, int64_t *nout);
int rt_utf8_encode(uint32_t cp, char *out);                     /* 1 to 4 bytes, no NUL */
void rt_char_str(uint32_t cp, char *buf, size_t n);             /* a character for a message */

/* ---- generate.c ---- */
struct RtOpts;
int rt_generate(RtCtx *c, const struct RtOpts *o);              /* `generate`, flags parsed by cli.c: 0 or -1 */

/* ---- weights.c (safetensors) ---- */
/* Saves through a temporary (files.c); path must pass rt_output_check (force: --force). */
int rt_save(RtCtx *c, const char *path, const RtData *classes_from, bool force);
/* Before training: the target is acceptable and its folder exists and takes a new file (a unique
 * temporary is created and removed there, as rt_save does). */
int rt_save_probe(RtCtx *c, const char *path, bool force);
/* need_state: every state tensor must be present (resume); else missing state keeps its init. */
int rt_load(RtCtx *c, const char *path, bool need_state, bool restore_progress);

/* Every tensor of a safetensors file of any model, read whole (dtype: an RtDType, -1 for another). */
typedef struct RtStEntry {
    char *name; int dtype; int rank; int64_t shape[RT_MAXRANK]; uint64_t bytes; uint8_t *data;
} RtStEntry;
int rt_st_read(RtCtx *c, const char *path, RtStEntry **out, int *n);
void rt_st_free(RtCtx *c, RtStEntry *e, int n);

/* ---- transfer.c: train --init-from FILE [--map 'FROM=TO,...'] ---- */
bool rt_map_valid(const char *map, char *why, size_t nwhy);
int rt_init_from(RtCtx *c, const char *path, const char *map);

/* ---- pool.c ---- */
NncPool *rt_pool_new(RtCtx *c, int threads);
void rt_pool_free(RtCtx *c, NncPool *p);

/* ---- train.c ---- */
typedef struct RtOpts {
    const char *data, *save, *resume, *weights, *input, *out;
    int64_t epochs, batch, limit;
    double lr, val_split;
    int64_t fold, folds;        /* --fold I/K: validate on part I (1-based) of K; folds 0: none */
    bool have_lr, force;
    /* around training (history.c, plot.c): --history, --plot, --save-best, --monitor, --early-stop,
     * --json */
    const char *history, *plot, *save_best, *monitor;
    int64_t patience;           /* 0: no early stopping */
    bool json;
    const char *init_from, *map;    /* train --init-from, --map (transfer.c) */
    int64_t n;                      /* sample / predict -o FILE.png: --n pictures (png.c) */
    /* generate (generate.c): --prompt, --length, --temperature, --top-k (0: all) */
    const char *prompt;
    int64_t length, topk;
    double temperature;

    int64_t save_every;             /* train --save-every N: a checkpoint every N epochs (0: timed, see rt_train) */
    int64_t check_sync;             /* train --check-sync K: compare the parameters' hash every K steps */
} RtOpts;
int rt_train(RtCtx *c, const RtOpts *o);

/* ---- mpi.c: data-parallel training over MPI (docs/distributed.md) ---- */
bool rt_dist_launched(void);        /* started by an MPI launcher (its environment variables) */
/* mode: 1 --distributed mpi, 0 auto (MPI when launched by mpirun), -1 --distributed none.
 * timeout: --dist-timeout seconds (0: no watchdog). 0, or -1 after a message (no MPI library). */
int rt_dist_init(RtCtx *c, int mode, double timeout);
void rt_dist_finish(int rc);        /* MPI_Finalize; MPI_Abort when rc != 0 in a run of several */
int rt_dist_rank(void);
int rt_dist_world(void);            /* 1 without MPI */
bool rt_dist_on(void);              /* MPI is up (a launcher or --distributed mpi), even for one process */
void rt_dist_wait_begin(const char *what);     /* a wait on the other ranks outside MPI: the watchdog's */
void rt_dist_wait_end(void);
void nnc_nccl_stats(int64_t *calls, int64_t *bytes);   /* runtime/nccl.c: the GPU allreduces so far */
void rt_dist_bcast(void *buf, size_t bytes);          /* rank 0's bytes to every rank */
void rt_dist_sum_f64(double *v, int64_t n);           /* in place, over the ranks */
int rt_dist_check_sync(RtCtx *c, int64_t step);       /* --check-sync: parameters equal on every rank */
void rt_dist_allreduce_stats(double *seconds, int64_t *calls, int64_t *bytes);
int rt_eval(RtCtx *c, const RtOpts *o);
int rt_stats(RtCtx *c, const RtOpts *o);
int rt_predict(RtCtx *c, const RtOpts *o);
int rt_summary(RtCtx *c, int64_t batch);
int rt_summary_json(RtCtx *c, int64_t batch);

/* ---- history.c: one epoch's values, the history CSV, early stopping ---- */
typedef struct RtRow {
    int n, cap;
    char **name;                /* [n] "loss", "val_accuracy", ... (owned) */
    double *v;                  /* [n] */
    char *fmt;                  /* [n] 'l' loss (%.6f), 'a' accuracy (%.4f), 'g' other (%.6g) */
} RtRow;
int rt_row_add(RtCtx *c, RtRow *r, const char *prefix, const char *name, double v, char fmt);
void rt_row_clear(RtCtx *c, RtRow *r);
void rt_row_free(RtCtx *c, RtRow *r);
int rt_row_find(const RtRow *r, const char *name);          /* index or -1 */
void rt_row_print(const RtRow *r, int from, int to, FILE *out);   /* "  name value" each */
void rt_row_json(const RtRow *r, FILE *out);                 /* "name": value, ... */
void rt_json_str(FILE *out, const char *s);
void rt_json_num(FILE *out, double v);                       /* null when not finite */
bool rt_monitor_max(const char *name);                       /* bigger is better (accuracy, ...) */
/* Writes buf as the whole of path through a temporary renamed over it (o's rules, files.c). */
int rt_write_whole(RtCtx *c, const char *path, const RtOutput *o, const char *buf, size_t n);
/* The same with the temporary's name in name[rt_tmp_name_size(path)], allocated beforehand: no
 * allocation at all. */
int rt_write_whole_pre(RtCtx *c, const char *path, const RtOutput *o, const char *buf, size_t n, char *name);
size_t rt_tmp_name_size(const char *path);

typedef struct RtHistory {
    int ncol;
    char **col;                 /* [ncol], col[0] = "epoch" */
    double *v;                  /* [nrows, ncol]; NaN where a field is empty */
    int nrows, cap;
    bool resumed;               /* rows kept from the file a resumed run continues */
} RtHistory;
RtOutput rt_history_output(bool force);
int rt_history_read(RtCtx *c, const char *path, RtHistory *h);
int rt_history_col(const RtHistory *h, const char *name);   /* index or -1 */
void rt_history_free(RtCtx *c, RtHistory *h);
int rt_history_begin(RtCtx *c, RtHistory *h, const char *path, bool force, bool resume);
int rt_history_write(RtCtx *c, const RtHistory *h, const char *path, const RtOutput *o);
int rt_history_render(RtCtx *c, const RtHistory *h, char **buf, size_t *n);   /* buf: malloc'd */
int rt_history_add(RtCtx *c, RtHistory *h, const char *path, bool force, int64_t epoch, const RtRow *r,
                   const double *lr, const char *const *lr_names, int nlr, double secs, double rate);

/* ---- around.c: the epoch line, history, plot, early stopping, progress (train.c calls them) ---- */
typedef struct RtAround {
    const RtOpts *o;
    FILE *info;                 /* where train's first line goes: stderr under --json */
    const char *history;        /* --history, or beside --save; NULL: none */
    char *history_buf;
    RtHistory hist;             /* the rows so far (for the file and the plot) */
    char *hist_text, *plot_text;    /* this epoch's files, made before its checkpoint (malloc'd) */
    size_t hist_n, plot_n;
    char *hist_tmp, *plot_tmp;      /* their temporaries' names, allocated before the checkpoint */
    double plot_drawn;              /* rt_now() of the last plot made */
    double hist_drawn;              /* rt_now() of the last history file made */
    bool save_due;              /* this epoch's checkpoint will be written (train.c): so is the history */
    bool watch;                 /* --early-stop, --save-best or --monitor given */
    char *monitor;              /* the value watched */
    bool maximize, improved, stopped_early, scheduled;
    double best;
    int64_t best_epoch, wait, last_epoch;
} RtAround;
double rt_step_lr(const RtDesc *d, int s, double base, int64_t t, int64_t total);
/* names: an epoch row of the run's names (values unused), to check --monitor before training. */
int rt_around_begin(RtCtx *c, const RtOpts *o, RtAround *ar, const RtRow *names, int64_t nv);
int rt_around_epoch(RtCtx *c, RtAround *ar, int64_t epoch, int64_t epochs, const RtRow *row, double secs,
                    double rate, const double *lr, int nlr);
int rt_around_after(RtCtx *c, RtAround *ar, const RtData *classes_from);   /* 1: stop early */
void rt_around_end(RtCtx *c, RtAround *ar, int64_t epochs, const RtRow *last);
void rt_around_free(RtCtx *c, RtAround *ar);
void rt_around_progress(RtCtx *c, RtAround *ar, int64_t epoch, int64_t epochs, int64_t done, int64_t total,
                        const double *loss_sum, const double *lr, double run_t0, int64_t run_done,
                        int64_t run_total);

/* ---- report.c: eval's report ---- */
typedef struct RtEvalResult {
    int64_t n;                  /* samples */
    const double *loss_sum;     /* [nloss] sums over samples */
    bool have_outputs;
    int nclasses;               /* > 0: confusion is [N, N] (true x predicted) */
    const int64_t *confusion;
    int64_t correct;
    double se, ae; int64_t nvals;
    double secs;
    char **data_classes; int ndata_classes;   /* the data's CSV class names, or NULL */
} RtEvalResult;
void rt_eval_report(RtCtx *c, const RtOpts *o, const RtEvalResult *r);
/* The name of class k of N: the weights', the data's, Fashion-MNIST's; NULL when none. */
const char *rt_class_name(RtCtx *c, int k, int N, char **data_classes, int ndata);

/* ---- plot.c: learning curves as SVG ---- */
RtOutput rt_plot_output(bool force);
/* in_train: train --plot after an epoch (checked against the inputs before training). */
int rt_plot(RtCtx *c, const RtHistory *h, const char *title, const char *path, bool force, bool in_train);
int rt_sample(RtCtx *c, const RtOpts *o);       /* png.c */
int rt_predict_png(RtCtx *c, const RtOpts *o);  /* predict -o FILE.png */
int rt_plot_render(RtCtx *c, const RtHistory *h, const char *title, char **buf, size_t *n);   /* buf: malloc'd */

/* The largest values the CLI accepts (cli.c): sizes stay far from int64 overflow (the compiler's
 * IR verifier bounds a tensor at 2^50 elements at B = 2^20). */
#define RT_MAX_BATCH ((int64_t)1 << 20)
#define RT_MAX_EPOCHS ((int64_t)1000000)
#define RT_MAX_LIMIT ((int64_t)1 << 40)

#endif
