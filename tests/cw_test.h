/*
 * cw_test.h - a minimal test harness: TEST(name) functions registered in a
 * table, CHECK macros that report file:line and go on, and a main that
 * prints "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef CW_TEST_H
#define CW_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cw_test_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            cw_test_failures++;                                              \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                   \
    do {                                                                     \
        long long cw_a_ = (long long)(a), cw_b_ = (long long)(b);           \
        if (cw_a_ != cw_b_) {                                                \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, cw_a_, #b, cw_b_);               \
            cw_test_failures++;                                              \
        }                                                                    \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                   \
    do {                                                                     \
        const char *cw_a_ = (a), *cw_b_ = (b);                               \
        if (cw_a_ == NULL || cw_b_ == NULL || strcmp(cw_a_, cw_b_) != 0) {   \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",        \
                    __FILE__, __LINE__, #a, cw_a_ ? cw_a_ : "(null)",        \
                    cw_b_ ? cw_b_ : "(null)");                               \
            cw_test_failures++;                                              \
        }                                                                    \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                          \
    do {                                                                     \
        size_t cw_al_ = (alen), cw_bl_ = (blen);                             \
        if (cw_al_ != cw_bl_ || memcmp((a), (b), cw_al_) != 0) {             \
            fprintf(stderr, "%s:%d: %s (%zu bytes) differs from %s (%zu)\n", \
                    __FILE__, __LINE__, #a, cw_al_, #b, cw_bl_);             \
            cw_test_failures++;                                              \
        }                                                                    \
    } while (0)

typedef struct cw_test_case {
    const char *name;
    void (*fn)(void);
} cw_test_case_t;

#define TEST(name) static void name(void)

/* In the test file: static const cw_test_case_t tests[] = { T(a), T(b) };
 * CW_TEST_MAIN(tests) */
#define T(name) { #name, name }

#define CW_TEST_MAIN(table)                                                  \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        size_t i_, passed_ = 0, failed_ = 0;                                 \
        for (i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++) {        \
            int before_ = cw_test_failures;                                  \
            if (argc > 1 && strstr((table)[i_].name, argv[1]) == NULL) {     \
                continue;                                                    \
            }                                                                \
            (table)[i_].fn();                                                \
            if (cw_test_failures == before_) {                               \
                passed_++;                                                   \
                printf("ok   %s\n", (table)[i_].name);                       \
            } else {                                                         \
                failed_++;                                                   \
                printf("FAIL %s\n", (table)[i_].name);                       \
            }                                                                \
        }                                                                    \
        printf("%zu passed, %zu failed\n", passed_, failed_);               \
        return failed_ == 0 && passed_ > 0 ? 0 : 1;                          \
    }

#endif /* CW_TEST_H */
