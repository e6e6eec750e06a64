/*
 * semihost.c - the few ARM semihosting calls the example needs beyond
 * newlib's rdimon (which provides printf and exit).
 */
#include "fw.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0C,
    SYS_GET_CMDLINE = 0x15
};

/* SYS_OPEN modes (ISO C fopen modes, in the semihosting numbering). */
#define MODE_RB 1u
#define MODE_WB 5u

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void fw_semihost_write0(const char *s)
{
    (void)semihost(SYS_WRITE0, (void *)(uintptr_t)s);
}

const char *fw_semihost_cmdline(char *buf, size_t size)
{
    uint32_t args[2];
    args[0] = (uint32_t)(uintptr_t)buf;
    args[1] = (uint32_t)size;
    if (size == 0u) {
        return "";
    }
    if (semihost(SYS_GET_CMDLINE, args) != 0) {
        buf[0] = '\0';
    }
    buf[size - 1u] = '\0';
    return buf;
}

/* SYS_OPEN of path in mode (MODE_RB, MODE_WB): a handle, or -1. */
static int open_file(const char *path, uint32_t mode)
{
    uint32_t args[3];
    args[0] = (uint32_t)(uintptr_t)path;
    args[1] = mode;
    args[2] = (uint32_t)strlen(path);
    return semihost(SYS_OPEN, args);
}

static void close_file(int handle)
{
    uint32_t args[1];
    args[0] = (uint32_t)handle;
    (void)semihost(SYS_CLOSE, args);
}

long fw_semihost_file_read(const char *path, uint8_t *buf, size_t cap)
{
    uint32_t args[3];
    int h = open_file(path, MODE_RB);
    int len;
    long rc = -1;

    if (h < 0) {
        return -1;
    }
    args[0] = (uint32_t)h;
    len = semihost(SYS_FLEN, args);
    if (len >= 0 && (size_t)len <= cap) {
        args[0] = (uint32_t)h;
        args[1] = (uint32_t)(uintptr_t)buf;
        args[2] = (uint32_t)len;
        if (semihost(SYS_READ, args) == 0) { /* 0 bytes NOT read */
            rc = len;
        }
    }
    close_file(h);
    return rc;
}

int fw_semihost_file_write(const char *path, const uint8_t *data, size_t len)
{
    uint32_t args[3];
    int left;
    int h = open_file(path, MODE_WB);

    if (h < 0) {
        return -1;
    }
    args[0] = (uint32_t)h;
    args[1] = (uint32_t)(uintptr_t)data;
    args[2] = (uint32_t)len;
    left = semihost(SYS_WRITE, args); /* the bytes NOT written */
    close_file(h);
    return left == 0 ? 0 : -1;
}

char *fw_next_word(char **s)
{
    char *w = *s;
    while (*w == ' ') {
        w++;
    }
    if (*w == '\0') {
        return NULL;
    }
    *s = w;
    while (**s != '\0' && **s != ' ') {
        (*s)++;
    }
    if (**s != '\0') {
        *(*s)++ = '\0';
    }
    return w;
}

/* INSECURE, TEST ONLY: see fw.h. */
int cw_insecure_test_entropy(void *ctx, uint8_t *out, size_t len)
{
    static int handle = -1;
    static const char path[] = "/dev/urandom";
    uint32_t args[3];
    (void)ctx;

    if (handle < 0) {
        args[0] = (uint32_t)(uintptr_t)path;
        args[1] = 1u; /* "rb" */
        args[2] = (uint32_t)(sizeof path - 1u);
        handle = semihost(SYS_OPEN, args);
        if (handle < 0) {
            return -1;
        }
    }
    while (len > 0u) {
        int left;
        args[0] = (uint32_t)handle;
        args[1] = (uint32_t)(uintptr_t)out;
        args[2] = (uint32_t)len;
        left = semihost(SYS_READ, args); /* bytes NOT read */
        if (left < 0 || (size_t)left >= len) {
            return -1;
        }
        out += len - (size_t)left;
        len = (size_t)left;
    }
    return 0;
}
