/*
 * cw_lwip.c - chatwire transport over lwIP sockets. See cw_lwip.h.
 *
 * Mirrors ports/posix/cw_posix.c, with lwIP's differences:
 * - lwip_fcntl(F_SETFL) accepts O_NONBLOCK alone (any other bit is ENOSYS),
 *   so the flags are set outright, not read-modify-written;
 * - lwip_getaddrinfo returns at most one address;
 * - a refused connect fails with ECONNRESET (lwIP's ERR_RST), not
 *   ECONNREFUSED: it is CW_ERR_CONNECT like any failure during connect;
 * - after the peer's FIN, lwip_recv returns 0 once, then -1 with ENOTCONN
 *   (ERR_CLSD): both are CW_ERR_CLOSED, as are ECONNRESET, ECONNABORTED
 *   and EPIPE once connected.
 * (Seen on lwIP 2.1.3 and 2.2.1 by tests/lwip/lwip_e2e.c.)
 */
#if defined(__unix__) && !defined(_POSIX_C_SOURCE)
/* lwIP's unix port (contrib/ports/unix, and Debian's liblwip-dev) declares
 * ssize_t itself unless <limits.h> gives SSIZE_MAX, which strict C99 hides:
 * ask for POSIX so both agree. MCU toolchains do not define __unix__. */
#define _POSIX_C_SOURCE 200809L
#endif
#include "cw_lwip.h"

#include "chatwire.h"

#include "lwip/opt.h"
#include "lwip/errno.h"
#include "lwip/inet.h"
#include "lwip/ip_addr.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#if LWIP_DNS
#include "lwip/netdb.h"
#endif

#include <string.h>

#if NO_SYS || !LWIP_SOCKET
#error "cw_lwip needs lwIP's socket API: NO_SYS=0 and LWIP_SOCKET=1"
#endif
#if !LWIP_TCP
#error "cw_lwip needs LWIP_TCP=1"
#endif
#if LWIP_SOCKET_POLL
#define CW_LWIP_USE_POLL 1
#elif LWIP_SOCKET_SELECT
#define CW_LWIP_USE_POLL 0
#else
/* With neither, a non-blocking connect cannot be waited on, and a blocking
 * one waits for TCP's own give-up (minutes): no way to honour timeout_ms. */
#error "cw_lwip needs LWIP_SOCKET_POLL=1 or LWIP_SOCKET_SELECT=1"
#endif

/* The largest wait passed to lwIP at once: lwip_poll takes an int. */
#define MAX_WAIT_MS 0x7fffffffu

enum { WAIT_READ = 1, WAIT_WRITE = 2 };

uint32_t cw_lwip_now_ms(void *unused)
{
    (void)unused;
    return (uint32_t)sys_now();
}

void cw_lwip_init(cw_lwip_t *l)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
}

static void l_close(void *ctx)
{
    cw_lwip_t *l = (cw_lwip_t *)ctx;
    if (l->fd >= 0) {
        (void)lwip_close(l->fd);
        l->fd = -1;
    }
}

/* Waits until fd is ready to read or write (what).
 * Returns 1 ready (or in error: the next call says which), 0 timed out,
 * CW_ERR_IO when lwIP refused the wait (errno in *err). */
static int wait_fd(int fd, int what, uint32_t timeout_ms, int *err)
{
    int n;
#if CW_LWIP_USE_POLL
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = (short)(what == WAIT_READ ? POLLIN : POLLOUT);
    pfd.revents = 0;
    n = lwip_poll(&pfd, 1, (int)(timeout_ms > MAX_WAIT_MS ? MAX_WAIT_MS
                                                          : timeout_ms));
#else
    fd_set set;
    fd_set errs;
    struct timeval tv;
    FD_ZERO(&set);
    FD_ZERO(&errs);
    FD_SET(fd, &set);
    FD_SET(fd, &errs);
    tv.tv_sec = (long)(timeout_ms / 1000u);
    tv.tv_usec = (long)((timeout_ms % 1000u) * 1000u);
    n = lwip_select(fd + 1, what == WAIT_READ ? &set : NULL,
                    what == WAIT_WRITE ? &set : NULL, &errs, &tv);
#endif
    if (n < 0) {
        *err = errno;
        return errno == EINTR ? 0 : CW_ERR_IO;
    }
    return n > 0 ? 1 : 0;
}

/* One address: a non-blocking connect bounded by what is left of
 * timeout_ms since start. The socket stays non-blocking. */
static int try_connect(cw_lwip_t *l, const struct sockaddr *sa,
                       socklen_t sa_len, uint32_t start, uint32_t timeout_ms)
{
    int fd = lwip_socket(sa->sa_family, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    int rc = CW_OK;

    if (fd < 0) {
        l->last_errno = errno;
        return CW_ERR_CONNECT;
    }
    if (lwip_fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        l->last_errno = errno;
        (void)lwip_close(fd);
        return CW_ERR_CONNECT;
    }
    if (lwip_connect(fd, sa, sa_len) != 0) {
        if (errno != EINPROGRESS) {
            l->last_errno = errno;
            rc = CW_ERR_CONNECT;
        } else {
            int err = 0;
            int w = wait_fd(fd, WAIT_WRITE,
                            cw_time_left_ms(start, timeout_ms,
                                            cw_lwip_now_ms(NULL)),
                            &err);
            if (w == 0) {
                l->last_errno = ETIMEDOUT;
                rc = CW_ERR_TIMEOUT;
            } else if (w < 0) {
                l->last_errno = err;
                rc = CW_ERR_CONNECT;
            } else {
                socklen_t len = (socklen_t)sizeof err;
                if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
                    err = errno;
                }
                if (err != 0) {
                    l->last_errno = err;
                    rc = CW_ERR_CONNECT;
                }
            }
        }
    }
    if (rc != CW_OK) {
        (void)lwip_close(fd);
        return rc;
    }
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                          (socklen_t)sizeof one);
    l->fd = fd;
    return CW_OK;
}

#if LWIP_DNS
/* The port goes into each address lwip_getaddrinfo gives (asked without
 * a service, it leaves the port 0): no service text to write. */
static void set_port(struct sockaddr *sa, uint16_t port)
{
#if LWIP_IPV6
    if (sa->sa_family == AF_INET6) {
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = lwip_htons(port);
    }
#endif
#if LWIP_IPV4
    if (sa->sa_family == AF_INET) {
        ((struct sockaddr_in *)(void *)sa)->sin_port = lwip_htons(port);
    }
#endif
}

static int resolve_and_connect(cw_lwip_t *l, const char *name, uint16_t port,
                               uint32_t start, uint32_t timeout_ms)
{
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    const struct addrinfo *ai;
    int rc = CW_ERR_CONNECT;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    l->gai_error = lwip_getaddrinfo(name, NULL, &hints, &list);
    if (l->gai_error != 0 || list == NULL) {
        return CW_ERR_DNS;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        set_port(ai->ai_addr, port);
        rc = try_connect(l, ai->ai_addr, ai->ai_addrlen, start, timeout_ms);
        if (rc == CW_OK || rc == CW_ERR_TIMEOUT) {
            break;
        }
    }
    lwip_freeaddrinfo(list);
    return rc;
}
#else
/* No resolver in this lwIP build: numeric addresses only. */
static int resolve_and_connect(cw_lwip_t *l, const char *name, uint16_t port,
                               uint32_t start, uint32_t timeout_ms)
{
    ip_addr_t ip;

    if (!ipaddr_aton(name, &ip)) {
        return CW_ERR_DNS; /* a name, not an address: gai_error stays 0 */
    }
#if LWIP_IPV6
    if (IP_IS_V6(&ip)) {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = lwip_htons(port);
        memcpy(&sin6.sin6_addr, ip_2_ip6(&ip)->addr, sizeof sin6.sin6_addr);
        return try_connect(l, (const struct sockaddr *)&sin6,
                           (socklen_t)sizeof sin6, start, timeout_ms);
    }
#endif
#if LWIP_IPV4
    {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = lwip_htons(port);
        inet_addr_from_ip4addr(&sin.sin_addr, ip_2_ip4(&ip));
        return try_connect(l, (const struct sockaddr *)&sin,
                           (socklen_t)sizeof sin, start, timeout_ms);
    }
#else
    (void)port;
    (void)start;
    (void)timeout_ms;
    return CW_ERR_CONNECT;
#endif
}
#endif

static int l_connect(void *ctx, const char *host, size_t host_len,
                     uint16_t port, uint32_t timeout_ms)
{
    cw_lwip_t *l = (cw_lwip_t *)ctx;
    char name[256];
    uint32_t start = cw_lwip_now_ms(NULL);

    l_close(l);
    l->last_errno = 0;
    l->gai_error = 0;
    if (host == NULL || host_len == 0u || host_len >= sizeof name ||
        memchr(host, '\0', host_len) != NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(name, host, host_len);
    name[host_len] = '\0';
    return resolve_and_connect(l, name, port, start, timeout_ms);
}

/* errno after a failed lwip_send/lwip_recv on a connected socket. */
static int32_t io_error(cw_lwip_t *l, int err)
{
    l->last_errno = err;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
        return 0;
    }
    if (err == ENOTCONN || err == ECONNRESET || err == ECONNABORTED ||
        err == EPIPE) {
        return CW_ERR_CLOSED;
    }
    return CW_ERR_IO;
}

/* What send and recv do first: the socket must be open and become ready
 * within timeout_ms; *len is cut to what one call can report. Returns 1
 * when ready, else the value to return (0: try again, or an error). */
static int ready(cw_lwip_t *l, int what, uint32_t timeout_ms, size_t *len)
{
    int err = 0;
    int w;

    if (l->fd < 0) {
        return CW_ERR_CLOSED;
    }
    w = wait_fd(l->fd, what, timeout_ms, &err);
    if (w < 0) {
        l->last_errno = err;
    }
    if (*len > 0x7fffffffu) {
        *len = 0x7fffffffu;
    }
    return w;
}

static int32_t l_send(void *ctx, const uint8_t *buf, size_t len,
                      uint32_t timeout_ms)
{
    cw_lwip_t *l = (cw_lwip_t *)ctx;
    ssize_t n;
    int w = ready(l, WAIT_WRITE, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    l->send_calls++;
    n = lwip_send(l->fd, buf, len, 0);
    if (n >= 0) {
        return (int32_t)n;
    }
    return io_error(l, errno);
}

static int32_t l_recv(void *ctx, uint8_t *buf, size_t len,
                      uint32_t timeout_ms)
{
    cw_lwip_t *l = (cw_lwip_t *)ctx;
    ssize_t n;
    int w = ready(l, WAIT_READ, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    n = lwip_recv(l->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n == 0) {
        return CW_ERR_CLOSED;
    }
    return io_error(l, errno);
}

cw_transport_t cw_lwip_transport(cw_lwip_t *l)
{
    cw_transport_t t;
    t.ctx = l;
    t.connect = l_connect;
    t.send = l_send;
    t.recv = l_recv;
    t.close = l_close;
    t.now_ms = cw_lwip_now_ms;
    return t;
}
