/* util.c - the small helpers every runtime file shares: messages, the allocator hook, sizes, paths,
 * and the sequential PRNG used for shuffles.
 *
 * Every allocation goes through RtCtx.alloc so a test can fail the k-th one and check that the
 * runtime reports it and exits cleanly instead of crashing.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

int rt_error(RtCtx *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "%s: error: ", c->prog ? c->prog : "model");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

void *rt_alloc(RtCtx *c, size_t n) {
    void *p = c->alloc(c->ud, NULL, n ? n : 1);
    if (!p) rt_error(c, "out of memory (allocating %zu bytes)", n);
    return p;
}

void *rt_calloc(RtCtx *c, size_t n) {
    void *p = rt_alloc(c, n);
    if (p) memset(p, 0, n ? n : 1);
    return p;
}

void *rt_realloc(RtCtx *c, void *p, size_t n) {
    void *q = c->alloc(c->ud, p, n ? n : 1);
    if (!q) rt_error(c, "out of memory (allocating %zu bytes)", n);
    return q;
}

void rt_free(RtCtx *c, void *p) {
    if (p) c->alloc(c->ud, p, 0);
}

char *rt_strdup(RtCtx *c, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = rt_alloc(c, n);
    if (p) memcpy(p, s, n);
    return p;
}

int64_t rt_numel(const RtTensor *t, int64_t B) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dim[i] == RT_DIM_B ? B : t->dim[i];
    return n;
}

size_t rt_dsize(RtDType d) { return d == RT_BOOL ? 1 : 4; }

const char *rt_dtype_name(RtDType d) {
    static const char *const names[] = {"f32", "i32", "bool"};
    return names[d];
}

const char *rt_role_name(RtRole r) {
    static const char *const names[] = {"input", "target", "output", "param", "state"};
    return names[r];
}

double rt_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int rt_resolve(RtCtx *c, const char *path, char *out, size_t outn) {
    if (snprintf(out, outn, "%s", path) >= (int)outn)
        return rt_error(c, "the path '%s' is too long (the system's limit is %zu bytes)", path, outn - 1);
    if (path[0] == '/' || access(path, F_OK) == 0 || !c->exe_dir[0]) return 0;
    char alt[PATH_MAX + 4096];
    if (snprintf(alt, sizeof alt, "%s/%s", c->exe_dir, path) < (int)outn && access(alt, F_OK) == 0)
        snprintf(out, outn, "%s", alt);
    return 0;
}

/* Edit distance (Levenshtein) of a[0..na) and b, capped: anything above 9 reads as 9 (for "did you
 * mean" hints of the CLI and of CSV class names). */
int rt_edit_distance(const char *a, size_t na, const char *b) {
    size_t nb = strlen(b);
    if (na > 60 || nb > 60) return 9;
    int row[64];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb] > 9 ? 9 : row[nb];
}

void rt_shape_str(const RtTensor *t, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "%s[", rt_dtype_name(t->dtype));
    for (int i = 0; i < t->rank && k < n; i++) {
        if (t->dim[i] == RT_DIM_B) k += (size_t)snprintf(buf + k, n - k, "%sB", i ? "," : "");
        else k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->dim[i]);
    }
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* splitmix64: the state advances by the golden gamma and the output is the mixed state; rt_mix64
 * (rand.c, the one copy of the mixer) adds the gamma itself, so it gets the state before the step. */
uint64_t rt_prng_next(RtPrng *r) {
    uint64_t z = r->s;
    r->s += 0x9E3779B97F4A7C15ull;
    return rt_mix64(z);
}

/* Rejection sampling: no modulo bias, so a shuffle is a uniform permutation. */
uint64_t rt_prng_below(RtPrng *r, uint64_t n) {
    uint64_t threshold = (0 - n) % n, x;
    do x = rt_prng_next(r);
    while (x < threshold);
    return x % n;
}
