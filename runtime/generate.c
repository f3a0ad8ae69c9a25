/* generate.c - `MODEL generate`: samples text from a language model trained on text data.
 *
 * The model reads token ids i32[B, T] (its one input) and its first output scores the next
 * character at every position, f32[B, T, V]: probabilities (every row in [0, 1] summing to 1, as
 * softmax gives) or logits (anything else). The model is taken to be causal (position p depends only
 * on positions <= p, as an embedding + dense per position, a recurrent network or a causal
 * transformer is): the prompt's ids fill the window from position 0, the scores at position len - 1
 * give the next character, which is appended; once the window holds T characters it slides, keeping
 * the last T. Positions after len - 1 hold id 0 and, by causality, change nothing.
 *
 * Sampling: scores become log-probabilities divided by the temperature (0: always the most likely
 * character), only the top-k stay when --top-k is given, and one is drawn with the ctx's splitmix64
 * generator seeded by --seed, so the same seed (and weights) gives the same text on any machine.
 * Id 0 ("unknown", text.c) and ids past the vocabulary are never drawn. A prompt character outside
 * the vocabulary is an error (the model never saw it: its id would be "unknown"), naming it. Without
 * a prompt, generation starts after a line break when the vocabulary has one (not printed), else
 * from a character drawn uniformly from the vocabulary.
 *
 * Its flags (--prompt, --length, --temperature, --top-k, --seed, --weights, --threads) are rows of
 * cli.c's command-line table, parsed and checked there like every command's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define SEED_GENERATE 0x47454e4552415445ull   /* "GENERATE" */

typedef struct Cand { int id; double l; } Cand;

static int by_score(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->l != y->l) return x->l > y->l ? -1 : 1;
    return x->id - y->id;
}

/* Draws the next id from one row of V scores. */
static int32_t pick(RtCtx *c, const float *row, int64_t V, double temp, int64_t topk, Cand *cand) {
    int64_t n = c->nvocab < V - 1 ? c->nvocab : V - 1;     /* ids 1..n */
    bool probs = true;
    double sum = 0;
    for (int64_t k = 0; k < V && probs; k++) {
        probs = row[k] >= 0 && row[k] <= 1;
        sum += row[k];
    }
    probs = probs && fabs(sum - 1) < 1e-3;
    int m = 0;
    for (int64_t k = 1; k <= n; k++) {
        double l = probs ? (row[k] > 0 ? log((double)row[k]) : -INFINITY) : (double)row[k];
        if (isnan(l)) l = -INFINITY;
        cand[m++] = (Cand){(int)k, l};
    }
    qsort(cand, (size_t)m, sizeof(Cand), by_score);
    if (topk > 0 && topk < m) m = (int)topk;
    if (temp == 0 || !isfinite(cand[0].l)) return cand[0].id;
    double total = 0, top = cand[0].l;
    for (int i = 0; i < m; i++) {
        cand[i].l = isfinite(cand[i].l) ? exp((cand[i].l - top) / temp) : 0;
        total += cand[i].l;
    }
    double u = (double)(rt_prng_next(&c->rng) >> 11) * 0x1.0p-53 * total;
    for (int i = 0; i < m; i++) {
        if (u < cand[i].l) return cand[i].id;
        u -= cand[i].l;
    }
    for (int i = m - 1; i > 0; i--) if (cand[i].l > 0) return cand[i].id;   /* rounding at the end */
    return cand[0].id;
}

static int generate(RtCtx *c, const char *prompt, int64_t length, double temp, int64_t topk) {
    const RtDesc *d = &c->desc;
    int in = -1, out = -1, ninputs = 0;
    for (int i = 0; i < d->nt; i++) {
        if (d->t[i].role == RT_INPUT && ninputs++ == 0) in = i;
        if (d->t[i].role == RT_OUTPUT && out < 0) out = i;
    }
    const RtTensor *ti = in >= 0 ? &d->t[in] : NULL, *to = out >= 0 ? &d->t[out] : NULL;
    if (ninputs != 1 || ti->dtype != RT_I32 || ti->rank != 2 || ti->dim[0] != RT_DIM_B)
        return rt_error(c, "generate needs a model with one input of character ids, i32[B, T]%s", ninputs == 1 ?
                        ", but its input is not" : "");
    int64_t T = ti->dim[1];
    if (!to || to->dtype != RT_F32 || to->rank != 3 || to->dim[0] != RT_DIM_B || to->dim[1] != T)
        return rt_error(c, "generate needs a model whose first output scores the next character at every position, "
                           "f32[B, %lld, V]", (long long)T);
    int64_t V = to->dim[2];
    if (!c->def->forward) return rt_error(c, "the model has no forward entry point");
    if (!c->vocab)
        return rt_error(c, "the weights hold no vocabulary: generate needs the weights of a model trained on text data "
                           "(text(...) in its train block)");
    /* the prompt's ids */
    uint32_t *cps = NULL;
    int64_t np = 0;
    if (rt_utf8_decode_all(c, "--prompt", prompt, strlen(prompt), &cps, &np)) return -1;
    for (int64_t i = 0; i < np; i++) {
        int32_t id = rt_vocab_id(c, cps[i]);
        if (id == 0 || id >= V) {
            char s[32];
            rt_char_str(cps[i], s, sizeof s);
            rt_error(c, "the prompt's character %s (character %lld) is not in the model's vocabulary of %d characters",
                     s, (long long)i + 1, c->nvocab);
            rt_free(c, cps);
            return -1;
        }
        cps[i] = (uint32_t)id;
    }
    /* buffers at B = 1 */
    size_t total = 0;
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (t->role == RT_INPUT || t->role == RT_TARGET || t->role == RT_OUTPUT)
            total += ((size_t)rt_numel(t, 1) * rt_dsize(t->dtype) + 63) & ~(size_t)63;
    }
    int64_t ws = c->def->workspace_size ? c->def->workspace_size(1) : 0;
    if (ws < 0) ws = 0;
    total += ((size_t)ws + 63) & ~(size_t)63;
    void *raw = rt_calloc(c, total + 64 + sizeof(float) * (size_t)(d->nloss + 1));
    void **bufs = rt_calloc(c, sizeof(void *) * (size_t)d->nt);
    int32_t *ctxw = rt_calloc(c, sizeof(int32_t) * (size_t)T);
    Cand *cand = rt_alloc(c, sizeof(Cand) * (size_t)(V > 0 ? V : 1));
    int rc = -1;
    if (!raw || !bufs || !ctxw || !cand) goto done;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (t->role == RT_PARAM || t->role == RT_STATE) { bufs[i] = c->bufs[i]; continue; }
        bufs[i] = p;
        p += ((size_t)rt_numel(t, 1) * rt_dsize(t->dtype) + 63) & ~(size_t)63;
    }
    void *workspace = p;
    float *losses = (float *)(p + (((size_t)ws + 63) & ~(size_t)63));
    c->rng.s = rt_mix64(c->seed ^ SEED_GENERATE);
    int64_t len = 0;
    for (int64_t i = 0; i < np; i++) {
        if (len == T) { memmove(ctxw, ctxw + 1, sizeof(int32_t) * (size_t)(T - 1)); len--; }
        ctxw[len++] = (int32_t)cps[i];
    }
    if (len == 0) {
        int32_t nl = rt_vocab_id(c, '\n');
        int64_t n = c->nvocab < V - 1 ? c->nvocab : V - 1;
        ctxw[len++] = nl > 0 && nl < V ? nl : 1 + (int32_t)rt_prng_below(&c->rng, (uint64_t)n);
        if (!(nl > 0 && nl < V)) {
            char u[4];
            fwrite(u, 1, (size_t)rt_utf8_encode(c->vocab[ctxw[0] - 1], u), stdout);
        }
    }
    fputs(prompt, stdout);
    for (int64_t step = 0; step < length; step++) {
        memcpy(bufs[in], ctxw, sizeof(int32_t) * (size_t)T);
        NncArgs a;
        memset(&a, 0, sizeof a);
        a.B = 1;
        a.bufs = bufs;
        a.workspace = workspace;
        a.losses = losses;
        a.pool = c->pool;
        a.user = c->def->user;
        a.seed = c->seed;
        a.step = c->step;
        c->def->forward(&a);
        int32_t id = pick(c, (const float *)bufs[out] + (len - 1) * V, V, temp, topk, cand);
        char u[4];
        fwrite(u, 1, (size_t)rt_utf8_encode(c->vocab[id - 1], u), stdout);
        if (len == T) { memmove(ctxw, ctxw + 1, sizeof(int32_t) * (size_t)(T - 1)); len--; }
        ctxw[len++] = id;
    }
    fputc('\n', stdout);
    rc = 0;
done:
    rt_free(c, cand);
    rt_free(c, ctxw);
    rt_free(c, bufs);
    rt_free(c, raw);
    rt_free(c, cps);
    return rc;
}

/* generate's work after cli.c has parsed its flags (its row of the flag table), prepared the run
 * (rt_prepare with --seed, default 1) and checked --weights: load the weights, then sample. */
int rt_generate(RtCtx *c, const RtOpts *o) {
    uint64_t seed = c->seed;
    if (o->weights && rt_load(c, o->weights, false, false)) return -1;
    c->seed = seed;
    return generate(c, o->prompt ? o->prompt : "", o->length, o->temperature, o->topk);
}
