/*
 * malloc_count.c - an LD_PRELOAD shim that counts heap calls for
 * scripts/bench.sh.
 *
 *   CW_BENCH_MALLOC_OUT=file LD_PRELOAD=bench/libcw_malloc_count.so prog ...
 *
 * Counts malloc, calloc, realloc (and the aligned forms) for the whole
 * process, with the bytes asked for and the peak of live heap bytes (by
 * malloc_usable_size), and appends one line at exit to the file named by
 * CW_BENCH_MALLOC_OUT (stderr when unset):
 *
 *   allocs=<malloc+calloc+realloc+aligned> bytes=<sum asked> frees=<n>
 *   peak_live=<bytes> marks=<allocs>:<bytes>,...
 *
 * marks are the counters at each call of cw_bench_mark(), which the bench
 * clients call (found with dlsym) after their first and last requests.
 *
 * The real allocator is reached through glibc's __libc_* entry points, so
 * there is no dlsym recursion. Counters are atomic: libcurl's threaded
 * resolver allocates from another thread.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t a, size_t b);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t n);

static unsigned long n_allocs, n_frees;
static unsigned long long n_bytes;
static long long live, peak;

#define ADD(v, x) __atomic_add_fetch(&(v), (x), __ATOMIC_RELAXED)

static void grew(void *p)
{
    if (p != NULL) {
        long long now = ADD(live, (long long)malloc_usable_size(p));
        long long old = __atomic_load_n(&peak, __ATOMIC_RELAXED);
        while (now > old &&
               !__atomic_compare_exchange_n(&peak, &old, now, 0,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
    }
}

static void shrank(void *p)
{
    if (p != NULL) {
        ADD(live, -(long long)malloc_usable_size(p));
    }
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    ADD(n_allocs, 1);
    ADD(n_bytes, n);
    grew(p);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    ADD(n_allocs, 1);
    ADD(n_bytes, (unsigned long long)a * b);
    grew(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    void *p;
    shrank(old);
    p = __libc_realloc(old, n);
    ADD(n_allocs, 1);
    ADD(n_bytes, n);
    if (p == NULL && n != 0) {
        grew(old); /* failed: the old block stays */
    } else {
        grew(p);
    }
    return p;
}

void free(void *p)
{
    if (p != NULL) {
        ADD(n_frees, 1);
        shrank(p);
    }
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    ADD(n_allocs, 1);
    ADD(n_bytes, n);
    grew(p);
    return p;
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    *out = memalign(align, n);
    return *out != NULL ? 0 : 12;
}

#define MAX_MARKS 8
static unsigned long mark_allocs[MAX_MARKS];
static unsigned long long mark_bytes[MAX_MARKS];
static int n_marks;

void cw_bench_mark(void);
void cw_bench_mark(void)
{
    if (n_marks < MAX_MARKS) {
        mark_allocs[n_marks] = __atomic_load_n(&n_allocs, __ATOMIC_RELAXED);
        mark_bytes[n_marks] = __atomic_load_n(&n_bytes, __ATOMIC_RELAXED);
        n_marks++;
    }
}

__attribute__((destructor)) static void report(void)
{
    char line[512];
    int i;
    const char *path = getenv("CW_BENCH_MALLOC_OUT");
    int fd = 2;
    int len = snprintf(line, sizeof line,
                       "allocs=%lu bytes=%llu frees=%lu peak_live=%lld\n",
                       n_allocs, n_bytes, n_frees, peak);
    for (i = 0; i < n_marks && len > 0 && len < (int)sizeof line - 48; i++) {
        len--; /* over the newline */
        len += snprintf(line + len, sizeof line - (size_t)len, "%s%lu:%llu\n",
                        i == 0 ? " marks=" : ",", mark_allocs[i], mark_bytes[i]);
    }
    if (path != NULL && path[0] != '\0') {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0) {
            return;
        }
    }
    if (len > 0) {
        (void)!write(fd, line, (size_t)len);
    }
    if (fd != 2) {
        close(fd);
    }
}
