/*
 * cw_client.c - drives the core layers over a transport: writes the request,
 * feeds what arrives to the HTTP parser, and routes the body to the JSON
 * extractor (buffered) or to the SSE splitter (streamed).
 *
 * Memory: the io buffer stages outgoing bytes and receives incoming ones; the
 * work buffer holds the JSON token array (at its start) and then either the
 * whole non-streamed body or the stream event being assembled.
 */
#include "cw_internal.h"

#include <string.h>

enum {
    MODE_NONE,
    MODE_BUFFER,   /* JSON body, kept whole in the work buffer */
    MODE_OVERFLOW, /* error body larger than the buffer: the start is kept */
    MODE_SSE       /* text/event-stream */
};

#define TOKEN_ALIGN 8u

cw_status_t cw_client_init(cw_client_t *c, const cw_client_config_t *cfg)
{
    uintptr_t addr;
    size_t skip;
    size_t tok_bytes = CW_JSON_MAX_TOKENS * CW_JSON_TOKEN_SIZE;
    cw_status_t rc;

    if (c == NULL || cfg == NULL || cfg->transport.send == NULL ||
        cfg->transport.recv == NULL || cfg->transport.now_ms == NULL ||
        cfg->io_buf == NULL || cfg->io_size < CW_IO_MIN ||
        cfg->work_buf == NULL || cfg->work_size < CW_WORK_MIN ||
        (cfg->auth != CW_AUTH_BEARER && cfg->auth != CW_AUTH_API_KEY) ||
        (!CW_CONFIG_RETRIES && cfg->max_retries > 0)) {
        return CW_ERR_INVALID_ARG;
    }
    memset(c, 0, sizeof *c);
    rc = cw_url_parse(cfg->base_url != NULL ? cfg->base_url
                                            : CW_DEFAULT_BASE_URL, &c->url);
    if (rc != CW_OK) {
        return rc;
    }
    c->tp = cfg->transport;
    c->api_key = cfg->api_key;
    c->auth = cfg->auth;
    c->io = cfg->io_buf;
    c->io_size = cfg->io_size;
    c->timeout_ms = cfg->timeout_ms != 0u ? cfg->timeout_ms
                                          : CW_DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms = cfg->connect_timeout_ms != 0u
                                ? cfg->connect_timeout_ms
                                : CW_DEFAULT_CONNECT_TIMEOUT_MS;
    c->idle_timeout_ms = cfg->idle_timeout_ms != 0u
                             ? cfg->idle_timeout_ms
                             : CW_DEFAULT_IDLE_TIMEOUT_MS;
    c->max_retries = !CW_CONFIG_RETRIES || cfg->max_retries < 0 ? 0
                     : cfg->max_retries == 0 ? CW_DEFAULT_MAX_RETRIES
                                             : cfg->max_retries;
    c->platform = cfg->platform;
    c->on_retry = cfg->on_retry;
    c->on_retry_user = cfg->on_retry_user;
    c->rng = cfg->transport.now_ms(cfg->transport.ctx) | 1u;
    /* the token array first, aligned; the body after it */
    addr = (uintptr_t)cfg->work_buf;
    skip = (size_t)((TOKEN_ALIGN - (addr % TOKEN_ALIGN)) % TOKEN_ALIGN);
    c->tokens = cfg->work_buf + skip;
    c->body = (char *)cfg->work_buf + skip + tok_bytes;
    c->body_cap = cfg->work_size - skip - tok_bytes;
    return CW_OK;
}

void cw_client_close(cw_client_t *c)
{
    if (c != NULL && c->connected) {
        if (c->tp.close != NULL) {
            c->tp.close(c->tp.ctx);
        }
        c->connected = false;
    }
}

/* ------------------------------------------------------------ timing */

typedef struct deadline {
    uint32_t start;
    uint32_t limit;
} deadline_t;

/* Milliseconds left before the deadline, 0 when it has passed. */
static uint32_t time_left(const cw_client_t *c, const deadline_t *d)
{
    uint32_t spent = c->tp.now_ms(c->tp.ctx) - d->start;
    return spent >= d->limit ? 0u : d->limit - spent;
}

/* ------------------------------------------------------------ sending */

typedef struct send_ctx {
    cw_client_t *c;
    const deadline_t *d;
} send_ctx_t;

static int send_all(void *ctx, const uint8_t *data, size_t len)
{
    send_ctx_t *s = (send_ctx_t *)ctx;
    cw_client_t *c = s->c;

    while (len > 0u) {
        uint32_t left = time_left(c, s->d);
        int32_t n;

        if (left == 0u) {
            return CW_ERR_TIMEOUT;
        }
        n = c->tp.send(c->tp.ctx, data, len, left);
        if (n < 0) {
            return (int)n;
        }
        if ((size_t)n > len) {
            return CW_ERR_IO; /* a port that claims more than it was given */
        }
        data += n;
        len -= (size_t)n;
    }
    return CW_OK;
}

/* ------------------------------------------------------------ delivery */

static const char replacement[3] = { '\xef', '\xbf', '\xbd' }; /* U+FFFD */

static int emit_text(cw_client_t *c, const char *text, size_t len)
{
    const cw_chat_request_t *req = c->req;

    if (len == 0u) {
        return CW_OK;
    }
    c->res->content_len += len;
    if (req->on_delta(req->on_delta_user, text, len) != 0) {
        return CW_ERR_ABORTED;
    }
    return CW_OK;
}

/* Gives text to on_delta as valid UTF-8, never ending inside a sequence:
 * an unfinished sequence at the end waits in c->carry for the next delta,
 * and ill-formed bytes from the server become U+FFFD (one for each maximal
 * subpart, as Unicode recommends). */
static int deliver(cw_client_t *c, const char *text, size_t len)
{
    int rc = CW_OK;

    if (c->carry_len > 0u) {
        /* finish the sequence the last delta left open, if this one does */
        char seq[4];
        size_t n = c->carry_len;
        size_t bad;
        size_t take = 0;
        memcpy(seq, c->carry, n);
        while (n < sizeof seq && take < len) {
            seq[n++] = text[take++];
            if (cw_utf8_check(seq, n, &bad) == n || bad < n) {
                break; /* complete, or broken */
            }
        }
        if (cw_utf8_check(seq, n, &bad) == n) {
            rc = emit_text(c, seq, n);
        } else if (bad == n && take == len) {
            memcpy(c->carry, seq, n); /* still unfinished: wait */
            c->carry_len = (uint8_t)n;
            return CW_OK;
        } else {
            rc = emit_text(c, replacement, sizeof replacement);
            take -= n - bad; /* bytes after the broken part are text */
        }
        c->carry_len = 0;
        text += take;
        len -= take;
    }
    while (rc == CW_OK && len > 0u) {
        size_t bad;
        size_t ok = cw_utf8_check(text, len, &bad);
        rc = emit_text(c, text, ok);
        text += ok;
        len -= ok;
        if (rc != CW_OK || len == 0u) {
            break;
        }
        if (bad == len) { /* unfinished at the end: may go on next time */
            memcpy(c->carry, text, bad);
            c->carry_len = (uint8_t)bad;
            break;
        }
        rc = emit_text(c, replacement, sizeof replacement);
        text += bad;
        len -= bad;
    }
    return rc;
}

/* The text ended inside a UTF-8 sequence: it becomes U+FFFD. */
static int flush_carry(cw_client_t *c)
{
    if (c->carry_len == 0u) {
        return CW_OK;
    }
    c->carry_len = 0;
    return emit_text(c, replacement, sizeof replacement);
}

/* ------------------------------------------------------------ parsing */

static bool starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix != '\0'; s++, prefix++) {
        if (cw_lower(*s) != *prefix) {
            return false;
        }
    }
    return true;
}

static int on_event(void *user, const char *event, char *data, size_t len)
{
    cw_client_t *c = (cw_client_t *)user;
    cw_chunk_t chunk;
    int rc;

    if (c->res->done) {
        return CW_OK; /* nothing counts after [DONE] */
    }
    if (len == 6u && memcmp(data, "[DONE]", 6) == 0) {
        c->res->done = true;
        return CW_OK;
    }
    if (strcmp(event, "error") == 0) {
        rc = cw_json_error(data, len, c->tokens, CW_JSON_MAX_TOKENS, c->res);
        return rc == CW_OK ? CW_ERR_API : rc;
    }
    rc = cw_json_chunk(data, len, c->tokens, CW_JSON_MAX_TOKENS, c->res,
                       &chunk);
    if (rc == CW_OK && chunk.content != NULL) {
        rc = deliver(c, chunk.content, chunk.content_len);
    }
    if (rc == CW_OK && chunk.refusal != NULL) {
        /* a streamed refusal is not content: its text is gathered in the
         * error message (cut to fit, and flagged) */
        cw_api_error_t *e = &c->res->error;
        size_t have = strlen(e->message);
        c->res->refusal = true;
        if (cw_copy_field(e->message + have, sizeof e->message - have,
                          chunk.refusal, chunk.refusal_len)) {
            e->message_truncated = true;
        }
    }
    return rc;
}

static int on_headers(void *user)
{
    cw_client_t *c = (cw_client_t *)user;
    cw_result_t *res = c->res;
    uint64_t cl = 0;
    bool ok = res->http.status >= 200 && res->http.status < 300;

    if (ok && c->req->stream &&
        starts_with_ci(res->http.content_type, "text/event-stream")) {
        c->mode = MODE_SSE;
        cw_sse_init(&c->sse, c->body, c->body_cap, on_event, c);
        return CW_OK;
    }
    c->mode = MODE_BUFFER;
    if (ok && cw_http_content_length(&c->http, &cl) && cl >= c->body_cap) {
        /* the whole body cannot fit: say how big the work buffer must be */
        res->needed = (size_t)(cl + 1u) + CW_WORK_TOKENS_SIZE;
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    return CW_OK;
}

static int on_body(void *user, const uint8_t *data, size_t len)
{
    cw_client_t *c = (cw_client_t *)user;
    size_t room;
    int rc;

    switch (c->mode) {
    case MODE_SSE:
        rc = cw_sse_feed(&c->sse, data, len);
        /* an event's JSON error keeps its own offset (within the event) */
        c->body_error = rc != CW_OK;
        return rc;
    case MODE_BUFFER:
        room = c->body_cap - 1u - c->body_len; /* one byte for a NUL */
        if (len > room) {
            if (c->res->http.status >= 200 && c->res->http.status < 300) {
                c->res->needed = 0; /* length unknown (chunked or close) */
                return CW_ERR_BUFFER_TOO_SMALL;
            }
            c->mode = MODE_OVERFLOW;
            len = room;
        }
        memcpy(c->body + c->body_len, data, len);
        c->body_len += len;
        return CW_OK;
    default:
        return CW_OK; /* MODE_OVERFLOW: the rest of an error page */
    }
}

/* The whole response has arrived: interpret the body. */
static int finish_body(cw_client_t *c)
{
    cw_result_t *res = c->res;
    int status = res->http.status;
    int rc;

    if (c->mode == MODE_SSE) {
        cw_sse_finish(&c->sse);
        rc = flush_carry(c);
        if (rc != CW_OK) {
            return rc;
        }
        if (res->refusal && res->content_len == 0u) {
            res->content_null = true;
            return CW_ERR_NO_CONTENT;
        }
        if (res->done || res->finish_reason[0] != '\0') {
            return CW_OK;
        }
        return CW_ERR_INCOMPLETE;
    }
    c->body[c->body_len] = '\0';
    if (status < 200 || status >= 300) {
        rc = CW_ERR_MALFORMED;
        if (c->mode == MODE_BUFFER && c->body_len > 0u) {
            rc = cw_json_error(c->body, c->body_len, c->tokens,
                               CW_JSON_MAX_TOKENS, res);
        }
        res->error_offset = 0;
        return rc == CW_OK ? CW_ERR_API : CW_ERR_HTTP;
    }
    rc = cw_json_completion(c->body, c->body_len, c->tokens,
                            CW_JSON_MAX_TOKENS, res);
    if (rc == CW_OK && c->req->stream) {
        /* asked to stream, answered whole: hand it over all the same */
        size_t n = res->content_len;
        res->content_len = 0;
        rc = deliver(c, res->content, n);
        res->content = NULL;
        if (rc == CW_OK) {
            rc = flush_carry(c);
        }
    }
    return rc;
}

static void result_reset(cw_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->prompt_tokens = -1;
    res->completion_tokens = -1;
    res->total_tokens = -1;
}

/* Reads and parses the response until it is complete. The wait for each
 * piece is bounded by the idle timeout (restarted by every byte) and by the
 * call's deadline. *got_bytes tells whether anything arrived. */
static int receive(cw_client_t *c, const deadline_t *d, bool *got_bytes)
{
    int rc = CW_OK;
    uint32_t last = c->tp.now_ms(c->tp.ctx);

    while (!cw_http_done(&c->http)) {
        uint32_t left = time_left(c, d);
        uint32_t quiet = c->tp.now_ms(c->tp.ctx) - last;
        uint32_t wait;
        int32_t n;
        size_t used = 0;

        if (left == 0u || quiet >= c->idle_timeout_ms) {
            return CW_ERR_TIMEOUT;
        }
        wait = c->idle_timeout_ms - quiet;
        n = c->tp.recv(c->tp.ctx, c->io, c->io_size, wait < left ? wait : left);
        if (n == CW_ERR_CLOSED) {
            rc = cw_http_finish(&c->http);
            break;
        }
        if (n < 0) {
            return (int)n;
        }
        if ((size_t)n > c->io_size) {
            return CW_ERR_IO;
        }
        if (n == 0) {
            continue;
        }
        *got_bytes = true;
        last = c->tp.now_ms(c->tp.ctx);
        rc = cw_http_feed(&c->http, c->io, (size_t)n, &used);
        if (rc != CW_OK) {
            if ((rc == CW_ERR_MALFORMED || rc == CW_ERR_HEADER_TOO_LARGE) &&
                !c->body_error) {
                c->res->error_offset = cw_http_error_offset(&c->http);
            }
            return rc;
        }
        if (used < (size_t)n) {
            /* bytes after the end of the response: the connection's framing
             * can no longer be trusted, so it is not reused */
            c->res->http.keep_alive = false;
        }
    }
    return rc;
}

/* A kept connection is usable when nothing is waiting to be read on it: a
 * server that closed it idle shows as CW_ERR_CLOSED (or a close_notify),
 * and stray bytes would be mistaken for the next response. */
static bool still_open(cw_client_t *c)
{
    return c->tp.recv(c->tp.ctx, c->io, c->io_size, 0) == 0;
}

/* One request and its response. */
static int attempt(cw_client_t *c, const cw_chat_request_t *req,
                   cw_result_t *res, const deadline_t *d, bool *got_bytes)
{
    send_ctx_t sc;
    int rc;

    c->body_len = 0;
    c->mode = MODE_NONE;
    c->carry_len = 0;
    c->body_error = false;
    if (c->connected) {
        if (still_open(c)) {
            res->reused_connection = true;
        } else {
            cw_client_close(c);
            res->stale_reconnect = true;
        }
    }
    if (!c->connected && c->tp.connect != NULL) {
        uint32_t left = time_left(c, d);
        rc = c->tp.connect(c->tp.ctx, c->url.host, c->url.host_len,
                           c->url.port, left < c->connect_timeout_ms
                                            ? left : c->connect_timeout_ms);
        if (rc != CW_OK) {
            return rc;
        }
    }
    c->connected = true;
    sc.c = c;
    sc.d = d;
    cw_http_init(&c->http, &res->http, on_headers, on_body, c);
    rc = cw_request_emit(&c->url, c->api_key, c->auth, req, c->body_len_req,
                         c->io, c->io_size, send_all, &sc, NULL);
    if (rc == CW_OK) {
        rc = receive(c, d, got_bytes);
    }
    if (rc == CW_OK) {
        rc = finish_body(c);
    }
    if (rc != CW_OK && res->content_len > 0u && req->stream) {
        res->partial = true;
    }
    if (rc != CW_OK && rc != CW_ERR_API && rc != CW_ERR_HTTP &&
        rc != CW_ERR_NO_CONTENT) {
        res->http.keep_alive = false; /* the stream position is unknown */
    }
    if (!cw_http_done(&c->http) || !res->http.keep_alive) {
        cw_client_close(c);
    }
    return rc;
}

#if CW_CONFIG_RETRIES
static uint32_t next_random(cw_client_t *c)
{
    uint32_t x;
    if (c->platform.random_u32 != NULL) {
        return c->platform.random_u32(c->platform.ctx);
    }
    x = c->rng != 0u ? c->rng : 0x9e3779b9u; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c->rng = x;
    return x;
}

static void wait_ms(cw_client_t *c, uint32_t ms)
{
    uint32_t start = c->tp.now_ms(c->tp.ctx);
    if (c->platform.sleep_ms != NULL) {
        c->platform.sleep_ms(c->platform.ctx, ms);
        return;
    }
    while (c->tp.now_ms(c->tp.ctx) - start < ms) {
        /* no sleep hook: poll the clock */
    }
}

/* How long to wait before retry number `retry`, or false for no retry. */
static bool plan_retry(cw_client_t *c, int rc, const cw_result_t *res,
                       bool got_bytes, uint32_t retry, const deadline_t *d,
                       cw_retry_info_t *info)
{
    int64_t now = 0;

    if (retry >= (uint32_t)c->max_retries ||
        !cw_retry_allowed(rc, res, got_bytes)) {
        return false;
    }
    if (c->platform.unix_time != NULL) {
        now = c->platform.unix_time(c->platform.ctx);
    }
    info->delay_ms = cw_retry_after_ms(&res->http, now);
    info->from_server = info->delay_ms > 0u;
    if (!info->from_server) {
        info->delay_ms = cw_retry_backoff_ms(retry, next_random(c));
    }
    info->status = rc;
    info->http_status = res->http.status;
    /* a wait that ends past the deadline cannot lead anywhere */
    return info->delay_ms < time_left(c, d);
}
#endif /* CW_CONFIG_RETRIES */

cw_status_t cw_chat(cw_client_t *c, const cw_chat_request_t *req,
                    cw_result_t *res)
{
    deadline_t d;
    uint32_t attempts = 0;
#if CW_CONFIG_RETRIES
    uint32_t retries = 0;
#endif
    uint32_t waited = 0;
    bool stale = false;
    bool free_reconnect = true;
    int rc;

    if (res != NULL) {
        result_reset(res);
    }
    if (c == NULL || req == NULL || res == NULL ||
        (req->stream && req->on_delta == NULL)) {
        return CW_ERR_INVALID_ARG;
    }
    c->req = req;
    c->res = res;
    d.start = c->tp.now_ms(c->tp.ctx);
    d.limit = c->timeout_ms;

    /* validate and measure the whole request before touching the network */
    rc = cw_request_check(&c->url, c->api_key, c->auth, req,
                          &c->body_len_req);
    if (rc != CW_OK) {
        return (cw_status_t)rc;
    }
    for (;;) {
        bool got_bytes = false;
        bool reused;
#if CW_CONFIG_RETRIES
        cw_retry_info_t info;
#endif

        result_reset(res);
        attempts++;
        rc = attempt(c, req, res, &d, &got_bytes);
        reused = res->reused_connection;
        stale = stale || res->stale_reconnect;
        if (rc == CW_OK) {
            break;
        }
        if (reused && !got_bytes && free_reconnect && time_left(c, &d) > 0u &&
            (rc == CW_ERR_CLOSED || rc == CW_ERR_IO)) {
            /* the server closed the kept connection as we wrote: it never
             * saw the request, so send it again on a new one */
            free_reconnect = false;
            stale = true;
            continue;
        }
#if CW_CONFIG_RETRIES
        if (!plan_retry(c, rc, res, got_bytes, retries, &d, &info)) {
            break;
        }
        retries++;
        info.attempt = attempts + 1u;
        if (c->on_retry != NULL) {
            c->on_retry(c->on_retry_user, &info);
        }
        wait_ms(c, info.delay_ms);
        waited += info.delay_ms;
#else
        break; /* retries compiled out (CW_CONFIG_RETRIES 0) */
#endif
    }
    res->attempts = attempts;
    res->retry_wait_ms = waited;
    res->stale_reconnect = stale;
    return (cw_status_t)rc;
}
