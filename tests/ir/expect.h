/* expect.h - the IR unit tests' check: EXPECT(cond, fmt, ...) prints the place and the message
 * and counts the failure in `bad`; a test's main returns bad != 0. */
#ifndef NNC_TESTS_IR_EXPECT_H
#define NNC_TESTS_IR_EXPECT_H

#include <stdio.h>

static int bad;
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0)

#endif
