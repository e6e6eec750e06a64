/** @file
 * cw_posix.h - chatwire transport over POSIX sockets.
 *
 * IPv4 and IPv6 through getaddrinfo (which blocks for as long as the
 * system resolver takes: it has no timeout of its own), a non-blocking
 * connect bounded by the client's timeout, send and recv bounded by poll(),
 * TCP_NODELAY on, SIGPIPE never raised (MSG_NOSIGNAL), now_ms from
 * CLOCK_MONOTONIC.
 */
#ifndef CW_POSIX_H
#define CW_POSIX_H

#include "chatwire.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A POSIX socket transport's state: place it, cw_posix_init() it, and
 * give cw_posix_transport() to the client (or to cw_tls or cw_proxy).
 * last_errno, gai_error and send_calls may be read; fd is private. */
typedef struct cw_posix {
    /** @privatesection */
    int fd;             /* -1 when closed */
    void *addrs;        /* connect_step: the addresses (getaddrinfo's) */
    void *next;         /* connect_step: the one being tried */
    bool connecting;    /* connect_step: fd is connecting to next */
    /** @publicsection */
    int last_errno;     /**< errno of the last failure, for messages */
    int gai_error;      /**< getaddrinfo's code after CW_ERR_DNS
                             (gai_strerror() says it) */
    uint32_t send_calls;/**< count of send() system calls made */
} cw_posix_t;

/** Prepares p (closed). */
CW_API void cw_posix_init(cw_posix_t *p);

/** The transport; p must outlive it. */
CW_API cw_transport_t cw_posix_transport(cw_posix_t *p);

/** A monotonic millisecond clock, also usable on its own. */
CW_API uint32_t cw_posix_now_ms(void *unused);

/** Platform hooks for cw_client_config_t.platform: nanosleep-based sleep and
 * the wall clock (for Retry-After dates). Jitter uses the library's own
 * generator. */
CW_API cw_platform_t cw_posix_platform(void);

#ifdef __cplusplus
}
#endif

#endif /* CW_POSIX_H */
