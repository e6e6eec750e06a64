/*
 * bench_marks.h - marks both bench clients set after their first request and
 * after their last one, so scripts/bench.sh can tell the first request
 * (handshake included) from the kept-alive ones without subtracting two
 * runs whose handshakes differ (ECDHE and blinding use fresh random numbers,
 * so two handshakes never cost quite the same).
 *
 *   - under callgrind: CALLGRIND_DUMP_STATS_AT writes a profile part at each
 *     mark (<out>.1 = start to the end of request 1, <out>.2 = requests 2..N)
 *   - under the malloc counter (bench/malloc_count.c, LD_PRELOAD): its
 *     cw_bench_mark() snapshots the counters
 *
 * Outside both, a mark does nothing.
 */
#ifndef BENCH_MARKS_H
#define BENCH_MARKS_H

#include <dlfcn.h>
#include <stddef.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_DUMP_STATS_AT(what) ((void)(what))
#endif

static void (*bench_heap_mark)(void);

/* Looks the counter up once, before any request. */
static void bench_marks_init(void)
{
    void *self = dlopen(NULL, RTLD_LAZY);
    void *sym = self != NULL ? dlsym(self, "cw_bench_mark") : NULL;
    /* POSIX's way to turn a data pointer from dlsym into a function one */
    *(void **)(&bench_heap_mark) = sym;
}

static void bench_mark(const char *what)
{
    if (bench_heap_mark != NULL) {
        bench_heap_mark();
    }
    CALLGRIND_DUMP_STATS_AT(what);
}

#endif /* BENCH_MARKS_H */
