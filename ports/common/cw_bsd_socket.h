/*
 * cw_bsd_socket.h - what the POSIX and lwIP socket ports share: both are
 * BSD socket APIs, so the transport itself (connect through the resolver's
 * addresses with a bounded non-blocking connect, send and recv bounded by
 * a wait, close) is written once, here.
 *
 * Not a header of its own: ports/posix/cw_posix.c and ports/lwip/cw_lwip.c
 * include it, after their platform's socket headers, as a part of their
 * own translation unit (each port is compiled against one socket API; one
 * object file cannot serve both). What differs is given by the including
 * file, before the #include:
 *
 *   SK_STATE            the port's state type; its fields fd, last_errno,
 *                       gai_error and send_calls are used, and addrs,
 *                       next and connecting (connect_step's)
 *   SK_NOW()            the port's millisecond clock
 *   SK_SOCKET, SK_CONNECT, SK_SEND, SK_RECV, SK_CLOSE, SK_GETSOCKOPT,
 *   SK_SETSOCKOPT       the socket calls (lwIP: lwip_*, which do not depend
 *                       on LWIP_COMPAT_SOCKETS)
 *   SK_GETADDRINFO, SK_FREEADDRINFO  the resolver, when SK_HAVE_GETADDRINFO
 *                       is 1; with 0 the port defines resolve_and_connect
 *   SK_SEND_FLAGS       flags for every send (POSIX: MSG_NOSIGNAL)
 *   SK_HTONS(x)         host to network order, for the port
 *   SK_IPV4, SK_IPV6    1 for each address family the platform has
 *
 * and these static functions:
 *
 *   int sk_setup(SK_STATE *s, int fd)   the socket made non-blocking (and
 *       whatever else the platform wants); CW_OK, or CW_ERR_CONNECT with
 *       s->last_errno set
 *   int sk_wait(SK_STATE *s, int fd, int what, uint32_t timeout_ms)
 *       waits for SK_WAIT_READ or SK_WAIT_WRITE: 1 ready (or in error: the
 *       next call says which), 0 timed out, CW_ERR_IO (s->last_errno set)
 *   int32_t sk_io_error(SK_STATE *s, int err, bool sending)
 *       what a failed send or recv on a connected socket returns, given
 *       errno: 0 (try again), CW_ERR_CLOSED or CW_ERR_IO; s->last_errno set
 *
 * Everything defined here is static and unprefixed, as file-local helpers
 * are (CONVENTIONS.md).
 */
#ifndef CW_BSD_SOCKET_H
#define CW_BSD_SOCKET_H

#include "chatwire.h"

#include <stdbool.h>
#include <string.h>

enum { SK_WAIT_READ = 1, SK_WAIT_WRITE = 2 };

static int sk_setup(SK_STATE *s, int fd);
static int sk_wait(SK_STATE *s, int fd, int what, uint32_t timeout_ms);
static int32_t sk_io_error(SK_STATE *s, int err, bool sending);

static void step_forget(SK_STATE *s);

static void sk_close(void *ctx)
{
    SK_STATE *s = (SK_STATE *)ctx;
    if (s->fd >= 0) {
        (void)SK_CLOSE(s->fd);
        s->fd = -1;
    }
    step_forget(s); /* a connect_step under way is abandoned */
}

/* Starts a non-blocking connect to one address: CW_OK (connected at
 * once), CW_ERR_WOULD_BLOCK (under way) or CW_ERR_CONNECT. Unless it
 * failed, s->fd is the socket; it stays non-blocking, and a wait guards
 * every later send and recv. */
static int begin_connect(SK_STATE *s, const struct sockaddr *sa,
                         socklen_t sa_len)
{
    int fd = SK_SOCKET(sa->sa_family, SOCK_STREAM, IPPROTO_TCP);
    int rc;

    if (fd < 0) {
        s->last_errno = errno;
        return CW_ERR_CONNECT;
    }
    rc = sk_setup(s, fd);
    if (rc == CW_OK && SK_CONNECT(fd, sa, sa_len) != 0) {
        if (errno == EINPROGRESS) {
            s->fd = fd;
            return CW_ERR_WOULD_BLOCK;
        }
        s->last_errno = errno;
        rc = CW_ERR_CONNECT;
    }
    if (rc != CW_OK) {
        (void)SK_CLOSE(fd);
        return rc;
    }
    s->fd = fd;
    return CW_OK;
}

/* The connect on s->fd is over, its socket ready (ready > 0) or the wait
 * for it failed (ready < 0, s->last_errno set): CW_OK, or CW_ERR_CONNECT
 * with the socket closed. */
static int end_connect(SK_STATE *s, int ready)
{
    int err = 0;
    int one = 1;
    socklen_t len = (socklen_t)sizeof err;

    if (ready < 0) {
        err = s->last_errno;
    } else if (SK_GETSOCKOPT(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
    }
    if (err != 0 || ready < 0) {
        s->last_errno = err;
        (void)SK_CLOSE(s->fd);
        s->fd = -1;
        return CW_ERR_CONNECT;
    }
    (void)SK_SETSOCKOPT(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
                        (socklen_t)sizeof one);
    return CW_OK;
}

/* One address: a non-blocking connect bounded by what is left of
 * timeout_ms since start. */
static int try_connect(SK_STATE *s, const struct sockaddr *sa,
                       socklen_t sa_len, uint32_t start, uint32_t timeout_ms)
{
    int rc = begin_connect(s, sa, sa_len);
    int w = 1;

    if (rc == CW_ERR_WOULD_BLOCK) {
        w = sk_wait(s, s->fd, SK_WAIT_WRITE,
                    cw_time_left_ms(start, timeout_ms, SK_NOW()));
        if (w == 0) {
            s->last_errno = ETIMEDOUT;
            (void)SK_CLOSE(s->fd);
            s->fd = -1;
            return CW_ERR_TIMEOUT;
        }
    } else if (rc != CW_OK) {
        return rc;
    }
    return end_connect(s, w);
}

/* What both connects begin with: no connection, no error kept, and the
 * host as a C string in name[256]. CW_OK, or CW_ERR_INVALID_ARG. */
static int host_name(SK_STATE *s, const char *host, size_t host_len,
                     char name[256])
{
    sk_close(s);
    s->last_errno = 0;
    s->gai_error = 0;
    if (host == NULL || host_len == 0u || host_len >= 256u ||
        memchr(host, '\0', host_len) != NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(name, host, host_len);
    name[host_len] = '\0';
    return CW_OK;
}

#if SK_HAVE_GETADDRINFO
/* The port goes into each address the resolver gives (asked without a
 * service, it leaves the port 0): no service text to write. */
static void set_port(struct sockaddr *sa, uint16_t port)
{
#if SK_IPV6
    if (sa->sa_family == AF_INET6) {
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = SK_HTONS(port);
    }
#endif
#if SK_IPV4
    if (sa->sa_family == AF_INET) {
        ((struct sockaddr_in *)(void *)sa)->sin_port = SK_HTONS(port);
    }
#endif
}

/* The addresses of name (*list, to be freed), or CW_ERR_DNS. */
static int resolve(SK_STATE *s, const char *name, struct addrinfo **list)
{
    struct addrinfo hints;

    memset(&hints, 0, sizeof hints);
    /* no AI_ADDRCONFIG: it hides ::1 on hosts with only loopback; an
     * address family the host cannot reach fails fast and the next one is
     * tried */
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    *list = NULL;
    s->gai_error = SK_GETADDRINFO(name, NULL, &hints, list);
    if (s->gai_error != 0 || *list == NULL) {
        if (*list != NULL) {
            SK_FREEADDRINFO(*list);
        }
        return CW_ERR_DNS;
    }
    return CW_OK;
}

/* Every address of name in turn, until one connects or the time is up. */
static int resolve_and_connect(SK_STATE *s, const char *name, uint16_t port,
                               uint32_t start, uint32_t timeout_ms)
{
    struct addrinfo *list;
    const struct addrinfo *ai;
    int rc = resolve(s, name, &list);

    if (rc != CW_OK) {
        return rc;
    }
    rc = CW_ERR_CONNECT;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        set_port(ai->ai_addr, port);
        rc = try_connect(s, ai->ai_addr, ai->ai_addrlen, start, timeout_ms);
        if (rc == CW_OK || rc == CW_ERR_TIMEOUT) {
            break;
        }
    }
    SK_FREEADDRINFO(list);
    return rc;
}

/* ------------------------------------------------------------ connect_step
 * The same connect without blocking, for the step API: the first call
 * resolves the name (the resolver blocks for as long as it takes) and
 * starts a connect to the first address; each later call sees whether it
 * finished, and moves on to the next address when it failed. */

static void step_forget(SK_STATE *s)
{
    if (s->addrs != NULL) {
        SK_FREEADDRINFO((struct addrinfo *)s->addrs);
    }
    s->addrs = NULL;
    s->next = NULL;
    s->connecting = false;
}

static int sk_connect_step(void *ctx, const char *host, size_t host_len,
                           uint16_t port, uint8_t *want)
{
    SK_STATE *s = (SK_STATE *)ctx;
    const struct addrinfo *ai;
    int rc = CW_ERR_CONNECT;

    *want = CW_WAIT_WRITE;
    if (!s->connecting) {
        struct addrinfo *list;
        char name[256];
        rc = host_name(s, host, host_len, name);
        rc = rc == CW_OK ? resolve(s, name, &list) : rc;
        if (rc != CW_OK) {
            return rc;
        }
        s->addrs = list;
        s->next = list;
        s->connecting = true;
        rc = CW_ERR_CONNECT; /* no address tried yet */
    } else {
        int w = sk_wait(s, s->fd, SK_WAIT_WRITE, 0);
        if (w == 0) {
            return CW_ERR_WOULD_BLOCK;
        }
        rc = end_connect(s, w);
        if (rc != CW_OK) {
            s->next = ((const struct addrinfo *)s->next)->ai_next;
        }
    }
    while (rc == CW_ERR_CONNECT && s->next != NULL) {
        ai = (const struct addrinfo *)s->next;
        set_port(ai->ai_addr, port);
        rc = begin_connect(s, ai->ai_addr, ai->ai_addrlen);
        if (rc == CW_ERR_WOULD_BLOCK) {
            return rc;
        }
        rc = rc == CW_OK ? end_connect(s, 1) : rc;
        if (rc != CW_OK) {
            s->next = ai->ai_next;
        }
    }
    step_forget(s); /* connected, or every address failed */
    return rc;
}
#else
static int resolve_and_connect(SK_STATE *s, const char *name, uint16_t port,
                               uint32_t start, uint32_t timeout_ms);

static void step_forget(SK_STATE *s)
{
    s->connecting = false;
}
#endif

/* The socket, for the step API's waits (-1 when closed). */
static int sk_handle(void *ctx)
{
    return ((const SK_STATE *)ctx)->fd;
}

static int sk_connect(void *ctx, const char *host, size_t host_len,
                      uint16_t port, uint32_t timeout_ms)
{
    SK_STATE *s = (SK_STATE *)ctx;
    char name[256];
    uint32_t start = SK_NOW();
    int rc = host_name(s, host, host_len, name);

    return rc == CW_OK ? resolve_and_connect(s, name, port, start, timeout_ms)
                       : rc;
}

/* What send and recv do first: the socket must be open and become ready
 * within timeout_ms; *len is cut to what one call can report. Returns 1
 * when ready, else the value to return (0: try again, or an error). */
static int ready(SK_STATE *s, int what, uint32_t timeout_ms, size_t *len)
{
    int w;

    if (s->fd < 0) {
        return CW_ERR_CLOSED;
    }
    w = sk_wait(s, s->fd, what, timeout_ms);
    if (*len > 0x7fffffffu) {
        *len = 0x7fffffffu;
    }
    return w;
}

static int32_t sk_send(void *ctx, const uint8_t *buf, size_t len,
                       uint32_t timeout_ms)
{
    SK_STATE *s = (SK_STATE *)ctx;
    ssize_t n;
    int w = ready(s, SK_WAIT_WRITE, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    s->send_calls++;
    n = SK_SEND(s->fd, buf, len, SK_SEND_FLAGS);
    if (n >= 0) {
        return (int32_t)n;
    }
    return sk_io_error(s, errno, true);
}

static int32_t sk_recv(void *ctx, uint8_t *buf, size_t len,
                       uint32_t timeout_ms)
{
    SK_STATE *s = (SK_STATE *)ctx;
    ssize_t n;
    int w = ready(s, SK_WAIT_READ, timeout_ms, &len);

    if (w <= 0) {
        return w;
    }
    n = SK_RECV(s->fd, buf, len, 0);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n == 0) {
        return CW_ERR_CLOSED;
    }
    return sk_io_error(s, errno, false);
}

/* The transport over s, with now_ms the port's public clock. */
static cw_transport_t sk_transport(SK_STATE *s, uint32_t (*now_ms)(void *))
{
    cw_transport_t t;
    memset(&t, 0, sizeof t); /* the optional members too */
    t.ctx = s;
    t.connect = sk_connect;
#if SK_HAVE_GETADDRINFO
    t.connect_step = sk_connect_step;
#endif
    t.handle = sk_handle;
    t.send = sk_send;
    t.recv = sk_recv;
    t.close = sk_close;
    t.now_ms = now_ms;
    return t;
}

#endif /* CW_BSD_SOCKET_H */
