/* A minimal TAP producer for the C API tests: "ok N - what" / "not ok N - what". */
#ifndef PERCH_TESTS_TAP_H
#define PERCH_TESTS_TAP_H

#include <stdio.h>

static int tap_count;
static int tap_failed;

#define CHECK(cond, what)                                                                        \
    do {                                                                                         \
        ++tap_count;                                                                             \
        if (cond) {                                                                              \
            printf("ok %d - %s\n", tap_count, what);                                             \
        } else {                                                                                 \
            ++tap_failed;                                                                        \
            printf("not ok %d - %s (%s:%d: %s)\n", tap_count, what, __FILE__, __LINE__, #cond);  \
        }                                                                                        \
    } while (0)

static int tap_done(void) {
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
