/*
 * cw_proxy.c - HTTP CONNECT proxy transport. See chatwire_proxy.h.
 */
#include "chatwire_proxy.h"

#include "cw_internal.h"

#include <string.h>

#define DEFAULT_PROXY_PORT 1080u /* curl's default for a proxy */
#define ORIGIN_MAX 260u /* "[" host "]" NUL: a host of up to 257 bytes */

/* Percent-decodes s[0..n) into out (cap bytes, NUL-terminated). */
static bool decode(const char *s, size_t n, char *out, size_t cap,
                   size_t *len)
{
    size_t i = 0;
    size_t w = 0;

    while (i < n) {
        char ch = s[i++];
        if (ch == '%') {
            int hi = i < n ? cw_hex_value(s[i]) : -1;
            int lo = i + 1u < n ? cw_hex_value(s[i + 1u]) : -1;
            if (hi < 0 || lo < 0) {
                return false;
            }
            ch = (char)(hi * 16 + lo);
            i += 2u;
        }
        if (w + 1u >= cap) {
            return false;
        }
        out[w++] = ch;
    }
    out[w] = '\0';
    *len = w;
    return true;
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    size_t w = 0;

    for (i = 0; i + 2u < n; i += 3u) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1u] << 8) |
                     in[i + 2u];
        out[w++] = tab[(v >> 18) & 63u];
        out[w++] = tab[(v >> 12) & 63u];
        out[w++] = tab[(v >> 6) & 63u];
        out[w++] = tab[v & 63u];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1u < n) {
            v |= (uint32_t)in[i + 1u] << 8;
        }
        out[w++] = tab[(v >> 18) & 63u];
        out[w++] = tab[(v >> 12) & 63u];
        out[w++] = i + 1u < n ? tab[(v >> 6) & 63u] : '=';
        out[w++] = '=';
    }
    out[w] = '\0';
}

cw_status_t cw_proxy_init(cw_proxy_t *p, cw_transport_t inner,
                          const char *url)
{
    const char *s;
    const char *at;
    const char *end;
    char *userinfo;   /* in p->buf: no large frame on a small stack */
    char *fake_url;
    size_t n = 0;
    cw_url_t u;

    if (p == NULL || url == NULL || inner.send == NULL ||
        inner.recv == NULL || inner.now_ms == NULL || inner.connect == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(p, 0, sizeof *p);
    p->inner = inner;
    userinfo = p->buf;        /* 256 bytes */
    fake_url = p->buf + 512;  /* 300 bytes */
    s = url;
    if (strncmp(s, "http://", 7) == 0) {
        s += 7;
    } else if (strstr(s, "://") != NULL) {
        return CW_ERR_INVALID_ARG; /* https:// or socks proxies: not here */
    }
    end = s + strcspn(s, "/?#");
    if (*end != '\0' && strcmp(end, "/") != 0) {
        return CW_ERR_INVALID_ARG; /* a proxy URL has no path */
    }
    at = NULL;
    {
        const char *q;
        for (q = s; q < end; q++) {
            if (*q == '@') {
                at = q; /* the last '@' ends the user info */
            }
        }
    }
    if (at != NULL) {
        size_t len = 0;
        if (!decode(s, (size_t)(at - s), userinfo, 256u, &len)) {
            memset(p->buf, 0, sizeof p->buf);
            return CW_ERR_INVALID_ARG;
        }
        if (strchr(userinfo, ':') == NULL) {
            /* "user@" alone: an empty password, as curl does */
            if (len + 1u >= 256u) {
                memset(p->buf, 0, sizeof p->buf);
                return CW_ERR_INVALID_ARG;
            }
            userinfo[len++] = ':';
            userinfo[len] = '\0';
        }
        base64((const uint8_t *)userinfo, len, p->auth);
        memset(p->buf, 0, sizeof p->buf); /* the credentials */
        s = at + 1;
    }
    /* the host and port are checked by the base URL parser */
    n = (size_t)(end - s);
    if (n == 0u || n + 8u > 300u) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(fake_url, "http://", 7);
    memcpy(fake_url + 7, s, n);
    fake_url[7 + n] = '\0';
    if (cw_url_parse(fake_url, &u) != CW_OK || u.path_len != 0u ||
        u.query_len != 0u || u.host_len >= sizeof p->host) {
        return CW_ERR_INVALID_ARG;
    }
    memcpy(p->host, u.host, u.host_len);
    p->host[u.host_len] = '\0';
    p->ipv6 = u.ipv6;
    p->port = u.port_explicit ? u.port : (uint16_t)DEFAULT_PROXY_PORT;
    return CW_OK;
}

const char *cw_proxy_error(const cw_proxy_t *p)
{
    return p->error;
}

/* ------------------------------------------------------------ transport */

static size_t append(char *buf, size_t cap, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n < cap) {
        memcpy(buf + at, s, n);
        buf[at + n] = '\0';
        return at + n;
    }
    return cap; /* does not fit: detected by the caller */
}

static size_t append_port(char *buf, size_t cap, size_t at, uint16_t port)
{
    char tmp[CW_DEC_U64_MAX + 1u];
    tmp[CW_DEC_U64_MAX] = '\0';
    return append(buf, cap, at, tmp + cw_dec_u64(tmp, port));
}

static void say(cw_proxy_t *p, const char *what)
{
    size_t n = append(p->error, sizeof p->error, 0, "proxy ");
    n = append(p->error, sizeof p->error, n, p->host);
    n = append(p->error, sizeof p->error, n, ":");
    n = append_port(p->error, sizeof p->error, n, p->port);
    n = append(p->error, sizeof p->error, n, ": ");
    (void)append(p->error, sizeof p->error, n, what);
}

static uint32_t left(cw_proxy_t *p, uint32_t start, uint32_t limit)
{
    return cw_time_left_ms(start, limit, p->inner.now_ms(p->inner.ctx));
}

/* close is optional in a transport (chatwire_transport.h) */
static void close_inner(cw_proxy_t *p)
{
    if (p->inner.close != NULL) {
        p->inner.close(p->inner.ctx);
    }
}

/* CONNECT host:port HTTP/1.1 (RFC 9110 9.3.6), an IPv6 host in [], into
 * p->buf. Returns its length, sizeof p->buf when it does not fit. */
static size_t write_connect(cw_proxy_t *p, const char *host, size_t host_len,
                            uint16_t port)
{
    char *req = p->buf;
    char origin[ORIGIN_MAX];
    bool v6 = memchr(host, ':', host_len) != NULL;
    size_t n = 0;

    if (v6) {
        origin[n++] = '[';
    }
    memcpy(origin + n, host, host_len);
    n += host_len;
    if (v6) {
        origin[n++] = ']';
    }
    origin[n] = '\0';
    n = append(req, sizeof p->buf, 0, "CONNECT ");
    n = append(req, sizeof p->buf, n, origin);
    n = append(req, sizeof p->buf, n, ":");
    n = append_port(req, sizeof p->buf, n, port);
    n = append(req, sizeof p->buf, n, " HTTP/1.1\r\nHost: ");
    n = append(req, sizeof p->buf, n, origin);
    n = append(req, sizeof p->buf, n, ":");
    n = append_port(req, sizeof p->buf, n, port);
    n = append(req, sizeof p->buf, n, "\r\nUser-Agent: chatwire/"
               CW_VERSION_STRING "\r\n");
    if (p->auth[0] != '\0') {
        n = append(req, sizeof p->buf, n, "Proxy-Authorization: Basic ");
        n = append(req, sizeof p->buf, n, p->auth);
        n = append(req, sizeof p->buf, n, "\r\n");
    }
    return append(req, sizeof p->buf, n, "\r\n");
}

/* Sends p->buf[p->sent..p->len) within the time left (step: without
 * waiting, CW_ERR_WOULD_BLOCK when the inner transport takes no more);
 * then wipes it (it held the credentials). */
static int send_connect(cw_proxy_t *p, uint32_t start, uint32_t timeout_ms,
                        bool step)
{
    int rc = CW_OK;

    while (p->sent < p->len) {
        size_t n = p->len - p->sent;
        int32_t k;
        if (!step && left(p, start, timeout_ms) == 0u) {
            rc = CW_ERR_TIMEOUT;
            break;
        }
        k = p->inner.send(p->inner.ctx, (const uint8_t *)p->buf + p->sent, n,
                          step ? 0u : left(p, start, timeout_ms));
        if (k == 0 && step) {
            return CW_ERR_WOULD_BLOCK;
        }
        if (k < 0) {
            rc = (int)k;
            break;
        }
        if ((size_t)k > n) {
            rc = CW_ERR_IO; /* a port that claims more than it was given */
            break;
        }
        p->sent += (size_t)k;
    }
    memset(p->buf, 0, sizeof p->buf);
    return rc;
}

/* The answer: a status line and headers, never a body (the parser set
 * up by px_connect). Step: without waiting, CW_ERR_WOULD_BLOCK when
 * nothing has arrived. */
static int read_answer(cw_proxy_t *p, uint32_t start, uint32_t timeout_ms,
                       bool step)
{
    int rc = CW_OK;

    while (rc == CW_OK && !cw_http_done(&p->parser)) {
        uint8_t *buf = (uint8_t *)p->buf;
        size_t used = 0;
        int32_t k;
        if (!step && left(p, start, timeout_ms) == 0u) {
            return CW_ERR_TIMEOUT;
        }
        k = p->inner.recv(p->inner.ctx, buf, sizeof p->buf,
                          step ? 0u : left(p, start, timeout_ms));
        if (k == 0 && step) {
            return CW_ERR_WOULD_BLOCK;
        }
        if (k < 0) {
            rc = (int)k;
        } else if (k > 0) {
            rc = cw_http_feed(&p->parser, buf, (size_t)k, &used);
            if (rc == CW_OK && used < (size_t)k && p->info.status >= 200 &&
                p->info.status < 300) {
                /* bytes from the origin before our ClientHello? (a refusal
                 * may carry a body: it is left unread, the tunnel closes) */
                rc = CW_ERR_MALFORMED;
            }
        }
    }
    return rc;
}

/* What the exchange came to: CW_OK for a tunnel, else CW_ERR_PROXY with
 * p->error saying why, and the inner connection closed. */
static int conclude(cw_proxy_t *p, int rc)
{
    p->status = p->info.status;
    if (rc != CW_OK) {
        p->inner_error = rc;
        say(p, rc == CW_ERR_MALFORMED ? "not an HTTP proxy answer"
                                      : cw_strerror(rc));
    } else if (p->status == 407 && p->auth[0] == '\0') {
        say(p, "requires authentication (407): put user:password@ in the "
               "proxy URL");
    } else if (p->status == 407 || (p->status == 401 && p->auth[0] != '\0')) {
        /* tinyproxy answers wrong credentials with 401 */
        say(p, p->status == 407 ? "authentication failed (407)"
                                : "authentication failed (401)");
    } else if (p->status < 200 || p->status >= 300) {
        char what[40];
        size_t k = append(what, sizeof what, 0, "refused the tunnel (HTTP ");
        k = append_port(what, sizeof what, k, (uint16_t)p->status);
        (void)append(what, sizeof what, k, ")");
        say(p, what);
    } else {
        return CW_OK;
    }
    close_inner(p);
    return CW_ERR_PROXY;
}

static int px_connect(void *ctx, const char *host, size_t host_len,
                      uint16_t port, uint32_t timeout_ms)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    uint32_t start = p->inner.now_ms(p->inner.ctx);
    size_t n;
    int rc;

    p->status = 0;
    p->inner_error = 0;
    p->error[0] = '\0';
    if (host_len == 0u || host_len + 3u > ORIGIN_MAX) {
        return CW_ERR_INVALID_ARG;
    }
    rc = p->inner.connect(p->inner.ctx, p->host, strlen(p->host), p->port,
                          timeout_ms);
    if (rc != CW_OK) {
        p->inner_error = rc;
        say(p, cw_strerror(rc));
        return CW_ERR_PROXY;
    }
    n = write_connect(p, host, host_len, port);
    if (n >= sizeof p->buf) {
        memset(p->buf, 0, sizeof p->buf);
        close_inner(p);
        return CW_ERR_INVALID_ARG;
    }
    p->sent = 0;
    p->len = n;
    rc = send_connect(p, start, timeout_ms, false);
    cw_http_init(&p->parser, &p->info, NULL, NULL, NULL);
    cw_http_head_only(&p->parser);
    if (rc == CW_OK) {
        rc = read_answer(p, start, timeout_ms, false);
    }
    return conclude(p, rc);
}

/* connect_step: the same exchange without blocking (the inner transport's
 * connect_step, or its blocking connect when it has none; then the
 * request and the answer as far as they go). */
enum { PX_NONE, PX_INNER, PX_SEND, PX_READ };

static int px_connect_step(void *ctx, const char *host, size_t host_len,
                           uint16_t port, uint8_t *want)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    int rc = CW_OK;

    if (p->phase == PX_NONE) {
        p->status = 0;
        p->inner_error = 0;
        p->error[0] = '\0';
        if (host_len == 0u || host_len + 3u > ORIGIN_MAX) {
            return CW_ERR_INVALID_ARG;
        }
        p->phase = PX_INNER;
    }
    if (p->phase == PX_INNER) {
        rc = p->inner.connect_step != NULL
                 ? p->inner.connect_step(p->inner.ctx, p->host,
                                         strlen(p->host), p->port, want)
                 : p->inner.connect(p->inner.ctx, p->host, strlen(p->host),
                                    p->port, CW_DEFAULT_CONNECT_TIMEOUT_MS);
        if (rc == CW_ERR_WOULD_BLOCK) {
            return rc;
        }
        p->phase = PX_NONE;
        if (rc != CW_OK) {
            p->inner_error = rc;
            say(p, cw_strerror(rc));
            return CW_ERR_PROXY;
        }
        p->len = write_connect(p, host, host_len, port);
        if (p->len >= sizeof p->buf) {
            memset(p->buf, 0, sizeof p->buf);
            close_inner(p);
            return CW_ERR_INVALID_ARG;
        }
        p->sent = 0;
        p->phase = PX_SEND;
    }
    if (p->phase == PX_SEND) {
        rc = send_connect(p, 0, 0, true);
        if (rc == CW_ERR_WOULD_BLOCK) {
            *want = CW_WAIT_WRITE;
            return rc;
        }
        cw_http_init(&p->parser, &p->info, NULL, NULL, NULL);
        cw_http_head_only(&p->parser);
        p->phase = PX_READ;
    }
    if (rc == CW_OK) {
        rc = read_answer(p, 0, 0, true);
        if (rc == CW_ERR_WOULD_BLOCK) {
            *want = CW_WAIT_READ;
            return rc;
        }
    }
    p->phase = PX_NONE;
    return conclude(p, rc);
}

static int32_t px_send(void *ctx, const uint8_t *buf, size_t len,
                       uint32_t timeout_ms)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    return p->inner.send(p->inner.ctx, buf, len, timeout_ms);
}

static int32_t px_recv(void *ctx, uint8_t *buf, size_t len,
                       uint32_t timeout_ms)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    return p->inner.recv(p->inner.ctx, buf, len, timeout_ms);
}

static void px_close(void *ctx)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    if (p->phase != PX_NONE) {
        /* a connect_step under way is abandoned: no credentials kept */
        memset(p->buf, 0, sizeof p->buf);
        p->phase = PX_NONE;
    }
    close_inner(p);
}

static uint32_t px_now(void *ctx)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    return p->inner.now_ms(p->inner.ctx);
}

/* The inner transport's descriptor: the step API waits on it. */
static int px_handle(void *ctx)
{
    cw_proxy_t *p = (cw_proxy_t *)ctx;
    return p->inner.handle != NULL ? p->inner.handle(p->inner.ctx) : -1;
}

cw_transport_t cw_proxy_transport(cw_proxy_t *p)
{
    cw_transport_t t;
    memset(&t, 0, sizeof t); /* the optional members too */
    t.ctx = p;
    t.connect = px_connect;
    t.send = px_send;
    t.recv = px_recv;
    t.close = px_close;
    t.now_ms = px_now;
    t.handle = px_handle;
    t.connect_step = px_connect_step;
    return t;
}
