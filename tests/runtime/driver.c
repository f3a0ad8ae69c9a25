/* driver.c - rt_model: runs the runtime's CLI on the hand-written test model.
 *   rt_model KIND [COMMAND FLAGS...]     KIND: fashion | fashion_nan | fashion_noout | iris | reg | baddesc
 *                                        | lit | fixed | binary
 * lit: iris with literal W and b (no weights file needed); fixed: W literal, b zeros and no train
 * step (none needed either); binary: reg with one output against an f32 0/1 target, `metric accuracy`.
 * argv[1] (the kind) becomes the program name, so messages read `fashion: error: ...`.
 * iris_cos: iris with a cosine lr schedule (over NncArgs.total_steps); iris_nanparam: a NaN appears
 * in b at step 13 while the loss stays finite; iris_hugews: a workspace of 2^50 bytes.
 * RT_FAIL_ALLOC=N (read here, in the test, not in the runtime) fails the N-th allocation through
 * the runtime's allocator hook; RT_KILL_AT_STEP=K makes the model kill its process with SIGKILL
 * when training step K starts (a run interrupted for real, wherever it is).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "testmodel.h"

typedef struct Counter { long n, fail_at; } Counter;

/* Replaces the first `old` in the descriptor text by `new` (the test kinds' variations). */
static void patch(TestModel *m, const char *old, const char *new) {
    char *t = strstr(m->desc, old);
    if (!t) {
        fprintf(stderr, "rt_model: descriptor lacks '%s'\n", old);
        exit(2);
    }
    char rest[8192];
    snprintf(rest, sizeof rest, "%s", t + strlen(old));
    snprintf(t, sizeof m->desc - (size_t)(t - m->desc), "%s%s", new, rest);
}

#define LIT_W "init literal 0 0 4 3 data 12 1 0 0 0 1 0 0 0 1 0.5 0.5 0.5"

static void *counting_alloc(void *ud, void *ptr, size_t nsize) {
    Counter *c = ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (++c->n == c->fail_at) return NULL;
    return realloc(ptr, nsize);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: rt_model fashion|fashion_nan|iris|reg|baddesc COMMAND ...\n");
        return 2;
    }
    static TestModel m;
    const char *kind = argv[1];
    if (!strcmp(kind, "fashion") || !strcmp(kind, "fashion_nan") || !strcmp(kind, "fashion_noout")) {
        tm_setup(&m, 784, 10, 0, 1, "fashion_mnist", 32, 2, 0.05);
        if (!strcmp(kind, "fashion_nan")) m.nan_at_step = 7;
        if (!strcmp(kind, "fashion_noout")) m.no_train_outputs = 1;
    } else if (!strcmp(kind, "iris")) {
        tm_setup(&m, 4, 3, 0, 0, "csv ( \"iris.csv\" , label = \"species\" )", 16, 30, 0.05);
    } else if (!strcmp(kind, "iris_nanparam") || !strcmp(kind, "iris_hugews")) {
        tm_setup(&m, 4, 3, 0, 0, "csv ( \"iris.csv\" , label = \"species\" )", 16, 30, 0.05);
        if (!strcmp(kind, "iris_nanparam")) m.nan_param_at_step = 13;
        else tm_huge_workspace = 1;
    } else if (!strcmp(kind, "iris_cos")) {
        tm_setup(&m, 4, 3, 0, 0, "csv ( \"iris.csv\" , label = \"species\" )", 16, 30, 0.05);
        m.cosine = 1;
    } else if (!strcmp(kind, "iris_sub")) {
        /* the data file under a folder: --data DIR finds it by its base name */
        tm_setup(&m, 4, 3, 0, 0, "csv(\"data/iris.csv\", label = \"species\")", 16, 30, 0.05);
    } else if (!strcmp(kind, "reg")) {
        tm_setup(&m, 3, 1, 1, 0, "csv(\"reg.csv\", label = \"y\")", 16, 40, 0.02);
    } else if (!strcmp(kind, "lit") || !strcmp(kind, "fixed")) {
        tm_setup(&m, 4, 3, 0, 0, "csv(\"iris.csv\", label = \"species\")", 16, 30, 0.05);
        patch(&m, "init glorot_uniform 0 0 4 3", LIT_W);
        if (!strcmp(kind, "lit")) patch(&m, "tensor param 4 b f32 1 3 init zeros 0 0 0 0", "tensor param 4 b f32 1 3 init literal 0 0 0 0 data 3 0.1 0.2 0.3");
        else patch(&m, "step main loss momentum 0.05\n", "");
    } else if (!strcmp(kind, "binary")) {
        tm_setup(&m, 3, 1, 1, 0, "csv(\"bin.csv\", label = \"y\")", 16, 40, 0.02);
        patch(&m, "metric mse\nmetric mae", "metric accuracy");
    } else if (!strcmp(kind, "baddesc")) {
        tm_setup(&m, 4, 3, 0, 0, "csv(\"iris.csv\", label = \"species\")", 16, 30, 0.05);
        char *t = strstr(m.desc, "tensor param 4");
        memcpy(t, "tensor parm  4", 14);
    } else {
        fprintf(stderr, "rt_model: unknown kind '%s'\n", kind);
        return 2;
    }
    const char *kill_at = getenv("RT_KILL_AT_STEP");
    if (kill_at) m.kill_at_step = atol(kill_at);
    NncModelDef def = tm_def(&m);
    Counter cnt = {0, 0};
    const char *f = getenv("RT_FAIL_ALLOC");
    if (f) cnt.fail_at = atol(f);
    int rc = nnc_main_alloc(&def, argc - 1, argv + 1, counting_alloc, &cnt);
    if (getenv("RT_COUNT_ALLOC")) fprintf(stderr, "allocations: %ld\n", cnt.n);
    return rc;
}
