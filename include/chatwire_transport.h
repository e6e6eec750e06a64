/** @file
 * chatwire_transport.h - the contract between the chatwire client and a
 * platform port (POSIX sockets, lwIP, a TLS layer wrapping either, or a test
 * fake).
 *
 * A transport is a struct of function pointers plus one context pointer that
 * the port owns. chatwire never looks inside the context.
 *
 * Return values of send and recv:
 *   > 0  number of bytes moved (send may move fewer than asked: the client
 *        calls again with the rest);
 *   0    nothing moved yet, try again: the port waited its own short poll
 *        interval (or none) and had nothing to do. The client keeps calling
 *        until its own deadline, read from now_ms, passes;
 *   < 0  a cw_status_t error. A connection closed by the peer is
 *        CW_ERR_CLOSED, never 0. A TLS port returns CW_ERR_TLS or
 *        CW_ERR_CERT, a socket port CW_ERR_IO, CW_ERR_DNS or CW_ERR_CONNECT.
 *
 * Blocking: each call may block, but should return within a short bounded
 * time (a POSIX port uses poll() with a timeout of a few hundred ms at most,
 * or the timeout_ms the client passes) so that the client's timeouts work.
 *
 * A TLS transport wraps another transport: its own send/recv encrypt and
 * decrypt through the inner transport's send/recv, the way mbedTLS BIO
 * callbacks stack. Its connect first calls the inner connect, then does the
 * handshake with the host name as SNI and for certificate verification.
 */
#ifndef CHATWIRE_TRANSPORT_H
#define CHATWIRE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "chatwire_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A byte stream to one server at a time, supplied by a port: the
 * functions the client calls and the port's own context. See the contract
 * above. */
typedef struct cw_transport {
    /** The port's own state. Owned by the caller; chatwire only passes it. */
    void *ctx;

    /** Opens a connection to host:port. host is host_len bytes, not
     * NUL-terminated (an IPv6 literal comes without brackets). Blocks for
     * at most timeout_ms. Returns CW_OK or a negative cw_status_t.
     * Optional: NULL means the caller connects the transport itself before
     * calling the client, and the client never reconnects. */
    int (*connect)(void *ctx, const char *host, size_t host_len,
                   uint16_t port, uint32_t timeout_ms);

    /** Writes up to len bytes. See the contract above. Required. */
    int32_t (*send)(void *ctx, const uint8_t *buf, size_t len,
                    uint32_t timeout_ms);

    /** Reads up to len bytes into buf. See the contract above. Required. */
    int32_t (*recv)(void *ctx, uint8_t *buf, size_t len, uint32_t timeout_ms);

    /** Closes the connection; the transport may be connected again later.
     * Optional (NULL: nothing to do). Never fails. */
    void (*close)(void *ctx);

    /** Monotonic milliseconds; wraps around at 2^32 (differences are taken
     * modulo 2^32). Required. */
    uint32_t (*now_ms)(void *ctx);
    /** Opens a connection to host:port without blocking, for the step API
     * (cw_chat_step): starts it on the first call and goes on with it on
     * each later one, with the same arguments, until it returns CW_OK
     * (connected) or an error. CW_ERR_WOULD_BLOCK: not yet; *want says
     * what it waits for (CW_WAIT_READ, CW_WAIT_WRITE), on the descriptor
     * that handle gives. Optional: without it, the step API connects
     * through connect, which blocks. close abandons a connection being
     * opened. */
    int (*connect_step)(void *ctx, const char *host, size_t host_len,
                        uint16_t port, uint8_t *want);
    /** The descriptor (a socket) to wait on with poll() or select() when
     * cw_chat_step asks to wait, or -1 when there is none (the caller then
     * waits for the time cw_chat_step gives). Optional (NULL: -1). A
     * transport that wraps another passes its inner one's through. */
    int (*handle)(void *ctx);
} cw_transport_t;

/** What a transport or a chat waits for: the descriptor readable. */
#define CW_WAIT_READ 1u
/** What a transport or a chat waits for: the descriptor writable. */
#define CW_WAIT_WRITE 2u

/** Milliseconds left of a budget of budget_ms that began when the clock
 * (a cw_transport_t.now_ms clock, wrapping at 2^32) read start_ms, now
 * that it reads now_ms: 0 once the budget is spent. The one deadline
 * computation of the client, the proxy and the ports, offered to other
 * ports too (a wait bounded by what is left of a connect's timeout_ms).
 * Pure: it reads no clock itself. */
static inline uint32_t cw_time_left_ms(uint32_t start_ms, uint32_t budget_ms,
                                       uint32_t now_ms)
{
    uint32_t spent = now_ms - start_ms;
    return spent >= budget_ms ? 0u : budget_ms - spent;
}

#ifdef __cplusplus
}
#endif

#endif /* CHATWIRE_TRANSPORT_H */
