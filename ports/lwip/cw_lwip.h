/** @file
 * cw_lwip.h - chatwire transport over lwIP's BSD-style sockets
 * (lwip_socket, lwip_connect, lwip_send, lwip_recv), for lwIP 2.1 and 2.2
 * with NO_SYS=0 and LWIP_SOCKET=1.
 *
 * - Name lookup: lwip_getaddrinfo when the lwIP build has LWIP_DNS (it
 *   blocks for as long as lwIP's resolver takes: DNS_MAX_RETRIES times
 *   about a second per server, it has no timeout of its own). Without
 *   LWIP_DNS only numeric addresses work (ipaddr_aton: "192.0.2.1",
 *   "2001:db8::1"); a name then fails with CW_ERR_DNS.
 * - connect: non-blocking (lwip_fcntl O_NONBLOCK), bounded by the client's
 *   timeout through lwip_poll (LWIP_SOCKET_POLL) or else lwip_select
 *   (LWIP_SOCKET_SELECT). A build with neither is refused with \#error.
 * - send and recv wait at most timeout_ms for the socket to become ready,
 *   then return 0 ("try again"). A connection closed or reset by the peer
 *   is CW_ERR_CLOSED, never 0.
 * - TCP_NODELAY on. lwIP raises no SIGPIPE.
 * - now_ms is lwIP's sys_now().
 *
 * No lwIP type appears here: this header can be included next to code that
 * includes lwIP's socket headers with LWIP_COMPAT_SOCKETS (whose macros
 * rename send/recv/close) and next to code that does not.
 *
 * Thread safety: one cw_lwip_t is used by one task at a time. Any task other
 * than lwIP's tcpip thread may use it (that is what lwIP's socket API
 * requires); with LWIP_NETCONN_SEM_PER_THREAD, call lwip_socket_thread_init()
 * in that task first.
 */
#ifndef CW_LWIP_H
#define CW_LWIP_H

#include "chatwire_transport.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An lwIP socket transport's state: place it, cw_lwip_init() it, and give
 * cw_lwip_transport() to the client (or to cw_tls). last_errno and
 * gai_error may be read after a failure; fd is private. */
typedef struct cw_lwip {
    /** @privatesection */
    int fd;              /* lwIP socket, -1 when closed */
    void *addrs;         /* connect_step: the addresses (lwip_getaddrinfo's) */
    void *next;          /* connect_step: the one being tried */
    bool connecting;     /* connect_step: fd is connecting to next */
    /** @publicsection */
    int last_errno;      /**< lwIP errno of the last failure, for messages */
    int gai_error;       /**< lwip_getaddrinfo's code after CW_ERR_DNS (0
                            without LWIP_DNS: the host was not numeric) */
    uint32_t send_calls; /**< count of lwip_send() calls made */
} cw_lwip_t;

/** Prepares l (closed). Does not touch lwIP: the stack may start later. */
CW_API void cw_lwip_init(cw_lwip_t *l);

/** The transport; l must outlive it. connect, send and recv must be called
 * after lwIP is up (tcpip_init done, a netif up). */
CW_API cw_transport_t cw_lwip_transport(cw_lwip_t *l);

/** lwIP's millisecond clock (sys_now()), also usable on its own. */
CW_API uint32_t cw_lwip_now_ms(void *unused);

#ifdef __cplusplus
}
#endif

#endif /* CW_LWIP_H */
