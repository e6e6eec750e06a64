/*
 * cw_lwip.c - chatwire transport over lwIP sockets. See cw_lwip.h.
 *
 * The transport itself is ports/common/cw_bsd_socket.h, shared with
 * ports/posix/cw_posix.c; what is lwIP's own is here:
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

/* ------------------------------------------------ the BSD socket part */

#define SK_STATE cw_lwip_t
#define SK_NOW() cw_lwip_now_ms(NULL)
#define SK_SOCKET lwip_socket
#define SK_CONNECT lwip_connect
#define SK_SEND lwip_send
#define SK_RECV lwip_recv
#define SK_CLOSE lwip_close
#define SK_GETSOCKOPT lwip_getsockopt
#define SK_SETSOCKOPT lwip_setsockopt
#define SK_HAVE_GETADDRINFO LWIP_DNS
#define SK_GETADDRINFO lwip_getaddrinfo
#define SK_FREEADDRINFO lwip_freeaddrinfo
#define SK_SEND_FLAGS 0
#define SK_HTONS lwip_htons
#define SK_IPV4 LWIP_IPV4
#define SK_IPV6 LWIP_IPV6
#include "../common/cw_bsd_socket.h"

/* lwip_fcntl(F_SETFL) takes O_NONBLOCK alone: set outright. */
static int sk_setup(cw_lwip_t *l, int fd)
{
    if (lwip_fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        l->last_errno = errno;
        return CW_ERR_CONNECT;
    }
    return CW_OK;
}

/* lwip_poll where lwIP has it, else lwip_select. An interrupted wait is
 * a wait that timed out. */
static int sk_wait(cw_lwip_t *l, int fd, int what, uint32_t timeout_ms)
{
    int n;
#if CW_LWIP_USE_POLL
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = (short)(what == SK_WAIT_READ ? POLLIN : POLLOUT);
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
    n = lwip_select(fd + 1, what == SK_WAIT_READ ? &set : NULL,
                    what == SK_WAIT_WRITE ? &set : NULL, &errs, &tv);
#endif
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        l->last_errno = errno;
        return CW_ERR_IO;
    }
    return n > 0 ? 1 : 0;
}

/* After the peer's FIN lwIP says ENOTCONN; a reset, ECONNRESET or
 * ECONNABORTED: all of them closed, sending or receiving. */
static int32_t sk_io_error(cw_lwip_t *l, int err, bool sending)
{
    (void)sending;
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

#if !LWIP_DNS
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

cw_transport_t cw_lwip_transport(cw_lwip_t *l)
{
    return sk_transport(l, cw_lwip_now_ms);
}
