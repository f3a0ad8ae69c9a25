/* blas.c - making sure OpenBLAS runs the kernels made for this CPU.
 *
 * Debian's OpenBLAS is built with DYNAMIC_ARCH: its library constructor reads cpuid once, at load
 * time, and picks one kernel set. A CPU newer than the library's table gets a poor fallback: on
 * this project's VMs (family 6 model 207, AVX-512 with BF16) OpenBLAS 0.3.21 picks "Prescott"
 * (SSE3 kernels): mlp_small trains at half the speed, and sgemm on mlp_wide's shapes runs 4-5x
 * slower, than with its "SkylakeX" kernels (bench/). The constructor honours OPENBLAS_CORETYPE,
 * but nothing in the process can set it in time: even a .preinit_array function runs before
 * libc's own initialisation, which resets the environment to the one the kernel passed (and a
 * shared library may not have one). So nnc_blas_check compares OpenBLAS's choice with the CPU's
 * features and, when the choice is weaker and the user set no OPENBLAS_CORETYPE, re-executes the
 * program (same argv) with the variable set; the second run finds it set and goes on. That costs
 * one exec (milliseconds) on such machines, nothing elsewhere. runtime/main.c calls it first
 * thing; a program embedding a model (`nnc -c`) may too (bench/predict.c does).
 *
 * The rule maps features to the kernel set OpenBLAS itself uses for them: AVX-512 F/DQ/CD/BW/VL
 * with the OS saving ZMM state -> SkylakeX (also its single-precision kernels on Cooper Lake,
 * Sapphire Rapids and Zen 4); on Intel, AVX2 + FMA with YMM state -> Haswell. A choice OpenBLAS
 * already made at that level or above is kept; a user's OPENBLAS_CORETYPE always wins.
 */
#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nnc_abi.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static const char *core_for_cpu(void) {
    unsigned a, b, c, d, max = __get_cpuid_max(0, NULL);
    if (max < 7) return NULL;
    __cpuid(0, a, b, c, d);
    bool intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e; /* "GenuineIntel" */
    __cpuid(1, a, b, c, d);
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
    if (!osxsave || !avx) return NULL;
    unsigned long long xcr0 = xgetbv0();
    bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    __cpuid_count(7, 0, a, b, c, d);
    bool avx2 = b & (1u << 5);
    unsigned avx512 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31); /* F DQ CD BW VL */
    if (zmm && (b & avx512) == avx512) return "SkylakeX";
    if (intel && ymm && avx2 && fma) return "Haswell";
    return NULL;
}
#else
static const char *core_for_cpu(void) { return NULL; }
#endif

/* Kernel sets at least as fast as `want` for single precision (OpenBLAS's core names). */
static bool good_enough(const char *want, const char *got) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    const char *const *ok = !strcmp(want, "SkylakeX") ? avx512 : avx2;
    for (; *ok; ok++)
        if (!strcasecmp(*ok, got)) return true;
    return false;
}

void nnc_blas_check(char **argv) {
    const char *set = getenv("OPENBLAS_CORETYPE");
    if ((set && *set) || !argv || !argv[0]) return;
    const char *want = core_for_cpu(), *got = openblas_get_corename();
    if (!want || !got || good_enough(want, got)) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on with the kernels we have */
}
