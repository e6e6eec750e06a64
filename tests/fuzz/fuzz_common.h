/*
 * fuzz_common.h - helpers shared by the libFuzzer targets.
 *
 * A failed check prints what differed and aborts, which libFuzzer reports as
 * a crash and saves the input as an artifact.
 */
#ifndef CW_FUZZ_COMMON_H
#define CW_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                               \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                 \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* 64-bit FNV-1a, continued from h (start with FUZZ_HASH_INIT). */
#define FUZZ_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t fuzz_hash(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* True when p[0..len) lies inside base[0..size). */
static inline bool fuzz_inside(const void *p, size_t len, const void *base,
                               size_t size)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t b = (uintptr_t)base;
    return a >= b && a - b <= size && len <= size - (size_t)(a - b);
}

/* Reference UTF-8 validator, written independently of the library's: a
 * decode-and-range-check loop (RFC 3629). */
static inline bool fuzz_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n;
        size_t k;
        uint8_t b = s[i];

        if (b < 0x80u) {
            i++;
            continue;
        }
        if ((b & 0xe0u) == 0xc0u) {
            n = 2;
            cp = b & 0x1fu;
        } else if ((b & 0xf0u) == 0xe0u) {
            n = 3;
            cp = b & 0x0fu;
        } else if ((b & 0xf8u) == 0xf0u) {
            n = 4;
            cp = b & 0x07u;
        } else {
            return false;
        }
        if (len - i < n) {
            return false;
        }
        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x80u) || (n == 3 && cp < 0x800u) ||
            (n == 4 && cp < 0x10000u) || cp > 0x10ffffu ||
            (cp >= 0xd800u && cp <= 0xdfffu)) {
            return false;
        }
        i += n;
    }
    return true;
}

/* Little-endian 16-bit value from the start of the input, 0 if short. */
static inline size_t fuzz_u16(const uint8_t *data, size_t size)
{
    if (size < 2u) {
        return 0;
    }
    return (size_t)data[0] | ((size_t)data[1] << 8);
}

#endif /* CW_FUZZ_COMMON_H */
