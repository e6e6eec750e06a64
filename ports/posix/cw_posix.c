/*
 * cw_posix.c - chatwire transport over POSIX sockets. See cw_posix.h.
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

static void p_close(void *ctx)
{
    cw_posix_t *p = (cw_posix_t *)ctx;
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

/* One address: a non-blocking connect bounded by the timeout. The socket
 * stays non-blocking; poll() guards every later send and recv. */
static int try_connect(cw_posix_t *p, const struct addrinfo *ai,
                       uint32_t deadline_start, uint32_t timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1;
    int flags;
    int rc = CW_OK;

    if (fd < 0) {
        p->last_errno = errno;
        return CW_ERR_CONNECT;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    flags = fcntl(fd, F_GETFL, 0);
    (void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            p->last_errno = errno;
            rc = CW_ERR_CONNECT;
        } else {
            struct pollfd pfd;
            uint32_t left = cw_time_left_ms(deadline_start, timeout_ms,
                                            cw_posix_now_ms(NULL));
            int n;
            pfd.fd = fd;
            pfd.events = POLLOUT;
            pfd.revents = 0;
            do {
                n = poll(&pfd, 1, poll_timeout(left));
            } while (n < 0 && errno == EINTR);
            if (n == 0) {
                p->last_errno = ETIMEDOUT;
                rc = CW_ERR_TIMEOUT;
            } else {
                int err = 0;
                socklen_t len = sizeof err;
                if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
                                        &len) != 0 || err != 0) {
                    p->last_errno = n < 0 ? errno : err;
                    rc = CW_ERR_CONNECT;
                }
            }
        }
    }
    if (rc != CW_OK) {
        close(fd);
        return rc;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->fd = fd;
    return CW_OK;
}

static int p_connect(void *ctx, const char *host, size_t host_len,
                     uint16_t port, uint32_t timeout_ms)
{
    cw_posix_t *p = (cw_posix_t *)ctx;
    char name[256];
    char service[8];
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    const struct addrinfo *ai;
    uint32_t start = cw_posix_now_ms(NULL);
    int rc = CW_ERR_CONNECT;

    p_close(p);
    p->last_errno = 0;
    p->gai_error = 0;
    if (host_len == 0u || host_len >= sizeof name) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(name, host, host_len);
    name[host_len] = '\0';
    snprintf(service, sizeof service, "%u", (unsigned)port);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* no AI_ADDRCONFIG: it hides ::1 on hosts with only loopback; an
     * address family the host cannot reach fails fast and the next one is
     * tried */
    hints.ai_flags = AI_NUMERICSERV;
    p->gai_error = getaddrinfo(name, service, &hints, &list);
    if (p->gai_error != 0) {
        return CW_ERR_DNS;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        rc = try_connect(p, ai, start, timeout_ms);
        if (rc == CW_OK || rc == CW_ERR_TIMEOUT) {
            break;
        }
    }
    freeaddrinfo(list);
    return rc;
}

/* Waits until fd is ready for events; 1 ready, 0 timed out, <0 error. */
static int wait_fd(cw_posix_t *p, short events, uint32_t timeout_ms)
{
    struct pollfd pfd;
    int n;
    pfd.fd = p->fd;
    pfd.events = events;
    pfd.revents = 0;
    do {
        n = poll(&pfd, 1, poll_timeout(timeout_ms));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        p->last_errno = errno;
        return CW_ERR_IO;
    }
    return n;
}

/* What send and recv do first: the socket must be open and become ready
 * within timeout_ms; *len is cut to what one call can report. Returns 1
 * when ready, else the value to return (0: try again, or an error). */
static int ready(cw_posix_t *p, short events, uint32_t timeout_ms,
                 size_t *len)
{
    int w;

    if (p->fd < 0) {
        return CW_ERR_CLOSED;
    }
    w = wait_fd(p, events, timeout_ms);
    if (*len > 0x7fffffffu) {
        *len = 0x7fffffffu;
    }
    return w;
}

static int32_t p_send(void *ctx, const uint8_t *buf, size_t len,
                      uint32_t timeout_ms)
{
    cw_posix_t *p = (cw_posix_t *)ctx;
    ssize_t n;
    int w = ready(p, POLLOUT, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    p->send_calls++;
    n = send(p->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) {
        return (int32_t)n;
    }
    p->last_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    return (errno == EPIPE || errno == ECONNRESET) ? CW_ERR_CLOSED : CW_ERR_IO;
}

static int32_t p_recv(void *ctx, uint8_t *buf, size_t len,
                      uint32_t timeout_ms)
{
    cw_posix_t *p = (cw_posix_t *)ctx;
    ssize_t n;
    int w = ready(p, POLLIN, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    n = recv(p->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n == 0) {
        return CW_ERR_CLOSED;
    }
    p->last_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    return errno == ECONNRESET ? CW_ERR_CLOSED : CW_ERR_IO;
}

cw_transport_t cw_posix_transport(cw_posix_t *p)
{
    cw_transport_t t;
    t.ctx = p;
    t.connect = p_connect;
    t.send = p_send;
    t.recv = p_recv;
    t.close = p_close;
    t.now_ms = cw_posix_now_ms;
    return t;
}
