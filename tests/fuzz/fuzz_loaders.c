/* fuzz_loaders.c - libFuzzer harnesses over every loader of the executables' runtime, one per
 * build: -DFUZZ_SAFETENSORS (rt_load: weights and checkpoints; rt_init_from), -DFUZZ_IDX (IDX, gzip'd or not),
 * -DFUZZ_NPY and -DFUZZ_CSV (rt_data_load / rt_data_load_inputs), -DFUZZ_TEXT (text data: UTF-8,
 * windows, the vocabulary built or a checkpoint's), -DFUZZ_HISTORY (a training
 * history, `plot`: rt_history_read, then rt_plot drawing it). Built from the runtime's sources with
 * clang -fsanitize=fuzzer,address,undefined by tests/fuzz/run.sh.
 *
 * The runtime's promise (docs/cli.md) is that any file gives a message naming it and never a
 * crash, a hang, a leak or an unbounded allocation; these harnesses test it. The loaders read by
 * path, so the input goes to a file in a private temporary folder. For the data loaders the first
 * byte picks the model the data is loaded for (its input dtype and shape, classifier or regression,
 * a checkpoint's class names or none), the rest is the file; a safetensors input is the file
 * itself, loaded as weights (eval) and as a checkpoint (--resume). Messages go to stderr, which
 * run.sh closes (-close_fd_mask=2: libFuzzer keeps its own output and the sanitizers' reports).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

static char dir[64];

static void *sys_alloc(void *ud, void *p, size_t n) {
    (void)ud;
    if (!n) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

/* The harness's own environment failed (not the code under test): stop loudly. */
static void fatal(const char *call) {
    fprintf(stderr, "fuzz_loaders: %s failed: %s\n", call, strerror(errno));
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/nnc_fuzz_rt_XXXXXX");
    if (!mkdtemp(dir)) fatal("mkdtemp");
    return 0;
}

static void write_file(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) fatal("fopen");
    if (n && fwrite(data, 1, n, f) != n) fatal("fwrite");
    if (fclose(f)) fatal("fclose");
}

/* A model: W f32[4, 3], b f32[3], an i32 and a bool parameter, optimizer state; the input and
 * target as the variant says. */
static const char *model(int variant) {
    static char text[2048];
    static const char *const io[] = {
        "tensor input 0 x f32 2 B 4\ntensor target 1 y i32 1 B\n",          /* classify 3 */
        "tensor input 0 x f32 2 B 4\ntensor target 1 y f32 2 B 1\n",        /* regress */
        "tensor input 0 x i32 2 B 4\ntensor target 1 y i32 1 B\n",          /* i32 features */
        "tensor input 0 x f32 3 B 2 2\ntensor target 1 y f32 1 B\n",        /* images [2, 2] */
    };
    snprintf(text, sizeof text,
             "model fz\n%s"
             "tensor output 2 out f32 2 B 3\n"
             "tensor param 3 W f32 2 4 3 init glorot_uniform 0 0 4 3\n"
             "tensor param 4 b f32 1 3 init zeros 0 0 0 0\n"
             "tensor param 5 k i32 1 2 init zeros 0 0 0 0\n"
             "tensor param 6 m bool 1 5 init zeros 0 0 0 0\n"
             "tensor state 7 W.mom f32 2 4 3 init zeros 0 0 0 0\n"
             "loss loss\n"
             "step main loss momentum 0.05\n"
             "data csv(\"f.csv\", label = \"y\")\n"
             "task %s\n"
             "end\n",
             io[variant & 3], (variant & 3) == 0 || (variant & 3) == 2 ? "classify 3" : "regress");
    return text;
}

/* A character model: ids i32[B, 4] -> next i32[B, 4], scores f32[B, 4, 8] (7 characters + unknown). */
static const char *text_model(int variant) {
    static char text[1024];
    snprintf(text, sizeof text,
             "model tx\n"
             "tensor input 0 ids i32 2 B 4\n"
             "tensor target 1 next i32 2 B 4\n"
             "tensor output 2 probs f32 3 B 4 8\n"
             "tensor param 3 e f32 2 8 8 init uniform -0.05 0.05 0 0\n"
             "loss loss\n"
             "step main loss adam 0.01\n"
             "data text(\"f.txt\"%s)\n"
             "task regress\n"
             "end\n", variant & 64 ? ", stride = 3" : "");
    return text;
}

static int setup(RtCtx *c, int variant, void **bufs, uint8_t *slab) {
    memset(c, 0, sizeof *c);
    c->alloc = sys_alloc;
    c->prog = "fuzz";
#if defined(FUZZ_TEXT)
    if (rt_desc_parse(c, text_model(variant), &c->desc)) abort();
#else
    if (rt_desc_parse(c, model(variant), &c->desc)) abort();   /* the harness's own model: must parse */
#endif
    size_t at = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        bufs[i] = NULL;
        if (t->role != RT_PARAM && t->role != RT_STATE) continue;
        bufs[i] = slab + at;
        at += ((size_t)rt_numel(t, 1) * rt_dsize(t->dtype) + 63) & ~(size_t)63;
    }
    c->bufs = bufs;
    return 0;
}

static void teardown(RtCtx *c) {
    rt_free(c, c->vocab);
    rt_free(c, c->resume_monitor);
    for (int i = 0; i < c->nclass_names; i++) rt_free(c, c->class_names[i]);
    rt_free(c, c->class_names);
    rt_desc_free(c, &c->desc);
}

#if defined(FUZZ_CSV)
/* A checkpoint's class names, as eval and --resume have them before reading a CSV. */
static void give_classes(RtCtx *c) {
    static const char *const names[] = {"setosa", "versicolor", "1"};
    c->class_names = rt_alloc(c, sizeof(char *) * 3);
    for (int i = 0; i < 3; i++) c->class_names[i] = rt_strdup(c, names[i]);
    c->nclass_names = 3;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    RtCtx c;
    void *bufs[16];
    static uint8_t slab[4096] __attribute__((aligned(64)));
#if defined(FUZZ_SAFETENSORS)
    char path[128];
    snprintf(path, sizeof path, "%s/w.st", dir);
    write_file(path, data, size);
    setup(&c, 0, bufs, slab);
    rt_load(&c, path, false, false);
    rt_load(&c, path, true, true);
    rt_init_from(&c, path, NULL);               /* train --init-from: any model's file */
    rt_init_from(&c, path, "*.W=W,h*=x*");
    teardown(&c);
#elif defined(FUZZ_HISTORY)
    char path[128], svg[128];
    snprintf(path, sizeof path, "%s/h.csv", dir);
    snprintf(svg, sizeof svg, "%s/h.svg", dir);
    write_file(path, data, size);
    setup(&c, 0, bufs, slab);
    RtHistory h;
    if (rt_history_read(&c, path, &h) == 0) {
        rt_plot(&c, &h, "fz", svg, true, false);
        rt_history_free(&c, &h);
    }
    teardown(&c);
#else
    if (size < 1) return 0;
    int variant = data[0];
#if defined(FUZZ_IDX)
    const char *ext = variant & 4 ? ".gz" : ".idx";
#elif defined(FUZZ_NPY)
    const char *ext = ".npy";
#elif defined(FUZZ_CSV)
    const char *ext = ".csv";
#elif defined(FUZZ_TEXT)
    const char *ext = ".txt";
#else
#error "define FUZZ_SAFETENSORS, FUZZ_IDX, FUZZ_NPY, FUZZ_CSV, FUZZ_TEXT or FUZZ_HISTORY"
#endif
    char path[128];
    snprintf(path, sizeof path, "%s/d%s", dir, ext);
    write_file(path, data + 1, size - 1);
    setup(&c, variant, bufs, slab);
    RtData d;
#if defined(FUZZ_TEXT)
    /* bit 8: a checkpoint's vocabulary (eval, --resume); bit 16: eval (no vocabulary to build) */
    if (variant & 8) {
        uint32_t *v = rt_alloc(&c, sizeof(uint32_t) * 3);
        v[0] = '\n', v[1] = 'a', v[2] = 0xF1;   /* n with a tilde */
        rt_vocab_set(&c, v, 3);
    }
    if (rt_data_load(&c, path, variant & 16 ? RT_SPLIT_TEST : RT_SPLIT_TRAIN, true, variant & 32 ? 3 : 0, &d) == 0)
        rt_data_free(&c, &d);
#elif defined(FUZZ_CSV)
    if (variant & 8) give_classes(&c);
    if (variant & 16) {
        if (rt_data_load_inputs(&c, path, &d) == 0) rt_data_free(&c, &d);
    } else if (rt_data_load(&c, path, RT_SPLIT_TRAIN, true, variant & 32 ? 3 : 0, &d) == 0) {
        rt_data_free(&c, &d);
    }
#else
    /* one file feeds the input (the target array would come from a second file) */
    if (rt_data_load(&c, path, RT_SPLIT_TRAIN, false, variant & 8 ? 2 : 0, &d) == 0) rt_data_free(&c, &d);
    if (variant & 16 && rt_data_load_inputs(&c, path, &d) == 0) rt_data_free(&c, &d);
#endif
    teardown(&c);
#endif
    return 0;
}
