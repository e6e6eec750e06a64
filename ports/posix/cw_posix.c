/*
 * cw_posix.c - chatwire transport over POSIX sockets. See cw_posix.h. The
 * transport itself is ports/common/cw_bsd_socket.h, shared with the lwIP
 * port; what is POSIX's own is here.
 */
#define _POSIX_C_SOURCE 200809L
#include "cw_posix.h"

#include "chatwire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

uint32_t cw_posix_now_ms(void *unused)
{
    struct timespec ts;
    (void)unused;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
                      (uint64_t)ts.tv_nsec / 1000000u);
}

static void p_sleep_ms(void *ctx, uint32_t ms)
{
    struct timespec ts;
    (void)ctx;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        /* the rest of the wait is in ts */
    }
}

static int64_t p_unix_time(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

cw_platform_t cw_posix_platform(void)
{
    cw_platform_t p;
    memset(&p, 0, sizeof p);
    p.sleep_ms = p_sleep_ms;
    p.unix_time = p_unix_time;
    return p;
}

void cw_posix_init(cw_posix_t *p)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    /* glibc loads the time zone the first time gmtime_r runs, which is in
     * the TLS library's certificate check, mid-handshake: a 4 KiB stdio
     * buffer on top of the TLS buffers (massif). Load it now instead. */
    tzset();
}

static int poll_timeout(uint32_t timeout_ms)
{
    return timeout_ms > 0x7fffffffu ? 0x7fffffff : (int)timeout_ms;
}

/* ------------------------------------------------ the BSD socket part */

#define SK_STATE cw_posix_t
#define SK_NOW() cw_posix_now_ms(NULL)
#define SK_SOCKET socket
#define SK_CONNECT connect
#define SK_SEND send
#define SK_RECV recv
#define SK_CLOSE close
#define SK_GETSOCKOPT getsockopt
#define SK_SETSOCKOPT setsockopt
#define SK_HAVE_GETADDRINFO 1
#define SK_GETADDRINFO getaddrinfo
#define SK_FREEADDRINFO freeaddrinfo
#define SK_SEND_FLAGS MSG_NOSIGNAL
#define SK_HTONS htons
#define SK_IPV4 1
#define SK_IPV6 1
#include "../common/cw_bsd_socket.h"

/* Close on exec, no SIGPIPE where MSG_NOSIGNAL is not, non-blocking. */
static int sk_setup(cw_posix_t *p, int fd)
{
    int flags;
#ifdef SO_NOSIGPIPE
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    (void)p;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    flags = fcntl(fd, F_GETFL, 0);
    (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    return CW_OK;
}

static int sk_wait(cw_posix_t *p, int fd, int what, uint32_t timeout_ms)
{
    struct pollfd pfd;
    int n;
    pfd.fd = fd;
    pfd.events = what == SK_WAIT_READ ? POLLIN : POLLOUT;
    pfd.revents = 0;
    do {
        n = poll(&pfd, 1, poll_timeout(timeout_ms));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        p->last_errno = errno;
        return CW_ERR_IO;
    }
    return n > 0 ? 1 : 0;
}

static int32_t sk_io_error(cw_posix_t *p, int err, bool sending)
{
    p->last_errno = err;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
        return 0;
    }
    if (err == ECONNRESET || (sending && err == EPIPE)) {
        return CW_ERR_CLOSED;
    }
    return CW_ERR_IO;
}

cw_transport_t cw_posix_transport(cw_posix_t *p)
{
    return sk_transport(p, cw_posix_now_ms);
}
