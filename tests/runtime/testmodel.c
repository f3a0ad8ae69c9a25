/* testmodel.c - the hand-written test model (see testmodel.h). Buffers, in descriptor order:
 *   0 input  x      f32[B, D] (or [B, 28, 28])
 *   1 target y      i32[B] (classify) | f32[B, K] (regress)
 *   2 output out    f32[B, K]            softmax probabilities | predictions
 *   3 param  W      f32[D, K]            glorot_uniform
 *   4 param  b      f32[K]               zeros
 *   5 state  W.mom  f32[D, K]            momentum velocity
 *   6 state  b.mom  f32[K]
 * The per-sample forward runs through nnc_parallel_for (row blocks), the gradient sums run in a
 * fixed order, so results do not depend on the thread count.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "testmodel.h"

#define MOMENTUM 0.9f

void tm_setup(TestModel *m, int D, int K, int regress, int image, const char *data, int batch, int epochs,
              double lr) {
    m->D = D;
    m->K = K;
    m->regress = regress;
    char xin[64], yt[64];
    if (image) snprintf(xin, sizeof xin, "3 B 28 28");
    else snprintf(xin, sizeof xin, "2 B %d", D);
    if (regress) snprintf(yt, sizeof yt, "f32 2 B %d", K);
    else snprintf(yt, sizeof yt, "i32 1 B");
    snprintf(m->desc, sizeof m->desc,
             "model %s\n"
             "tensor input 0 x f32 %s\n"
             "tensor target 1 y %s\n"
             "tensor output 2 out f32 2 B %d\n"
             "tensor param 3 W f32 2 %d %d init glorot_uniform 0 0 %d %d\n"
             "tensor param 4 b f32 1 %d init zeros 0 0 0 0\n"
             "tensor state 5 W.mom f32 2 %d %d init zeros 0 0 0 0\n"
             "tensor state 6 b.mom f32 1 %d init zeros 0 0 0 0\n"
             "loss loss\n"
             "step main loss momentum %.9g\n"
             "hyper batch %d\n"
             "hyper epochs %d\n"
             "hyper lr %.9g\n"
             "data %s\n"
             "metric %s\n"
             "task %s\n"
             "end\n",
             regress ? "linreg" : "softmax", xin, yt, K, D, K, D, K, K, D, K, K, lr, batch, epochs, lr, data,
             regress ? "mse\nmetric mae" : "accuracy", regress ? "regress" : "classify 10");
    if (!regress && K != 10) {
        char *t = strstr(m->desc, "task classify 10");
        snprintf(t, sizeof m->desc - (size_t)(t - m->desc), "task classify %d\nend\n", K);
    }
}

NncModelDef tm_def(TestModel *m) {
    NncModelDef d = {m->desc, tm_workspace_size, tm_forward, tm_evaluate, tm_train_step, m, 0};
    return d;
}

/* workspace: dz [B, 64] (the gradient of the loss wrt. the logits), then out [B, 64] for train
 * steps that keep their outputs to themselves (K <= 64) */
int tm_huge_workspace;

int64_t tm_workspace_size(int64_t B) { return tm_huge_workspace ? (int64_t)1 << 50 : 2 * B * 64 * (int64_t)sizeof(float); }

typedef struct Fwd { const TestModel *m; NncArgs *a; float *out; } Fwd;

static void forward_rows(void *ctx, int64_t lo, int64_t hi) {
    const Fwd *f = ctx;
    int D = f->m->D, K = f->m->K;
    const float *x = f->a->bufs[0], *W = f->a->bufs[3], *b = f->a->bufs[4];
    float *out = f->out;
    for (int64_t i = lo; i < hi; i++) {
        float *o = out + i * K;
        for (int k = 0; k < K; k++) o[k] = b[k];
        for (int j = 0; j < D; j++) {
            float xv = x[i * D + j];
            if (xv == 0) continue;
            for (int k = 0; k < K; k++) o[k] += xv * W[j * K + k];
        }
        if (f->m->regress) continue;
        float mx = o[0], s = 0;
        for (int k = 1; k < K; k++) mx = o[k] > mx ? o[k] : mx;
        for (int k = 0; k < K; k++) s += (o[k] = expf(o[k] - mx));
        for (int k = 0; k < K; k++) o[k] /= s;
    }
}

static void run_forward(NncArgs *a, float *out) {
    Fwd f = {a->user, a, out};
    nnc_parallel_for(a->pool, a->B, forward_rows, &f);
}

/* loss and dz = d loss / d (logits or predictions), written to the workspace */
static float loss_and_grad(NncArgs *a, const float *out) {
    const TestModel *m = a->user;
    int K = m->K;
    float *dz = a->workspace;
    double L = 0;
    if (m->regress) {
        const float *y = a->bufs[1];
        for (int64_t i = 0; i < a->B * K; i++) {
            float e = out[i] - y[i];
            L += (double)e * e;
            dz[i] = 2 * e / (float)(a->B * K);
        }
        return (float)(L / (double)(a->B * K));
    }
    const int32_t *y = a->bufs[1];
    for (int64_t i = 0; i < a->B; i++) {
        L -= log((double)out[i * K + y[i]]);
        for (int k = 0; k < K; k++) dz[i * K + k] = (out[i * K + k] - (k == y[i])) / (float)a->B;
    }
    return (float)(L / (double)a->B);
}

void tm_forward(NncArgs *a) { run_forward(a, a->bufs[2]); }

void tm_evaluate(NncArgs *a) {
    run_forward(a, a->bufs[2]);
    a->losses[0] = loss_and_grad(a, a->bufs[2]);
}

void tm_train_step(NncArgs *a, int32_t step) {
    const TestModel *m = a->user;
    int D = m->D, K = m->K;
    if (m->kill_at_step > 0 && a->step == m->kill_at_step) raise(SIGKILL);
    /* cosine annealing from the base lr to 0 over the run, as stdlib/optim.nn's schedule */
    float lr = m->cosine ? a->lr * 0.5f * (1 + cosf(3.14159265f * (float)(a->step - 1) / (float)a->total_steps)) : a->lr;
    float *out = m->no_train_outputs ? (float *)a->workspace + a->B * 64 : a->bufs[2];
    run_forward(a, out);
    a->losses[0] = loss_and_grad(a, out);
    if (m->nan_at_step > 0 && a->step >= m->nan_at_step) a->losses[0] = NAN;
    const float *x = a->bufs[0], *dz = a->workspace;
    float *W = a->bufs[3], *b = a->bufs[4], *vW = a->bufs[5], *vb = a->bufs[6];
    for (int j = 0; j < D; j++)
        for (int k = 0; k < K; k++) {
            float g = 0;
            for (int64_t i = 0; i < a->B; i++) g += x[i * D + j] * dz[i * K + k];
            vW[j * K + k] = MOMENTUM * vW[j * K + k] + g;
            W[j * K + k] -= lr * vW[j * K + k];
        }
    for (int k = 0; k < K; k++) {
        float g = 0;
        for (int64_t i = 0; i < a->B; i++) g += dz[i * K + k];
        vb[k] = MOMENTUM * vb[k] + g;
        b[k] -= lr * vb[k];
    }
    if (m->nan_param_at_step > 0 && a->step == m->nan_param_at_step) b[0] = NAN;
    (void)step;
}
