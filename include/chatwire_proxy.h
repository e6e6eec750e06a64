/** @file
 * chatwire_proxy.h - an HTTP CONNECT proxy as a transport layer.
 *
 * It wraps a byte transport (sockets): its connect opens a connection to
 * the proxy, asks it "CONNECT host:port", and from then on passes bytes
 * through, so a TLS transport stacked on top still verifies the origin's
 * certificate and sends the origin's name as SNI, end to end:
 *
 *   sockets -> cw_proxy -> cw_tls -> cw_client
 *
 * Proxy failures (cannot reach it, 407 authentication required, 403, 502)
 * are CW_ERR_PROXY, with the proxy's status and a sentence kept here.
 */
#ifndef CHATWIRE_PROXY_H
#define CHATWIRE_PROXY_H

#include "chatwire.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An HTTP CONNECT proxy transport's state: place it, cw_proxy_init() it
 * over a socket transport, and give cw_proxy_transport() to cw_tls or the
 * client. host, port and status may be read; the rest is private. */
typedef struct cw_proxy {
    /** @privatesection */
    cw_transport_t inner;
    /** @publicsection */
    char host[256];        /**< the proxy's host */
    uint16_t port;         /**< the proxy's port */
    /** @privatesection */
    bool ipv6;
    char auth[344];        /**< base64 of "user:password", "" when none */
    /** @publicsection */
    int status;            /**< HTTP status of the last CONNECT, 0 if none */
    /** @privatesection */
    int inner_error;       /**< the inner transport's status on failure */
    char error[160];       /**< the last failure, in words (no secrets) */
    cw_http_parser_t parser;
    cw_http_info_t info;
    uint8_t phase;         /* connect_step: where the CONNECT stands */
    size_t sent;           /* connect_step: request bytes sent */
    size_t len;            /* connect_step: the request's length */
    char buf[1024];        /**< the CONNECT request, then its answer: kept
                              here, not on the stack of a small device */
} cw_proxy_t;

/** Parses url ("http://[user[:password]@]host[:port]", or "host:port"; the
 * port defaults to 1080, as in curl; user and password may be
 * percent-encoded) and prepares p over inner (copied). Returns
 * CW_ERR_INVALID_ARG for any other form (https:// proxies included). */
CW_API cw_status_t cw_proxy_init(cw_proxy_t *p, cw_transport_t inner,
                                 const char *url);

/** The transport; p must outlive it. */
CW_API cw_transport_t cw_proxy_transport(cw_proxy_t *p);

/** The last failure in words, "" when none. */
CW_API const char *cw_proxy_error(const cw_proxy_t *p);

#ifdef __cplusplus
}
#endif

#endif /* CHATWIRE_PROXY_H */
