/*
 * cw_client.c - drives the core layers over a transport: writes the request,
 * feeds what arrives to the HTTP parser, and routes the body to the JSON
 * extractor (buffered) or to the SSE splitter (streamed).
 *
 * Memory: the io buffer stages outgoing bytes and receives incoming ones; the
 * work buffer holds the text being parsed (the whole non-streamed body, or
 * the stream event being assembled) at its start and, once that text is
 * complete, the JSON token array in the room after it.
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

/* Where a call is (cw_client_t.state). */
enum {
    ST_IDLE,    /* no call */
    ST_BEGIN,   /* an attempt is to begin */
    ST_CONNECT, /* opening the connection */
    ST_SEND,    /* writing the request */
    ST_RECV,    /* reading the response */
    ST_WAIT     /* waiting before a retry */
};
#define AGAIN 1 /* next_after: another attempt follows */

cw_status_t cw_client_init(cw_client_t *c, const cw_client_config_t *cfg)
{
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
    c->work = (char *)cfg->work_buf;
    c->work_size = cfg->work_size;
    c->timeout_ms = cfg->timeout_ms == CW_NO_TIMEOUT ? 0u
                    : cfg->timeout_ms != 0u          ? cfg->timeout_ms
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
    return CW_OK;
}

/* The connection closed (or one being opened abandoned); the call, if
 * one is under way, goes on (a retry may open another). */
static void drop_connection(cw_client_t *c)
{
#if CW_CONFIG_NONBLOCKING
    bool open = c->connected || c->connecting;
#else
    bool open = c->connected;
#endif
    if (open) {
        if (c->tp.close != NULL) {
            c->tp.close(c->tp.ctx);
        }
        c->connected = false;
#if CW_CONFIG_NONBLOCKING
        c->connecting = false;
#endif
    }
}

void cw_client_close(cw_client_t *c)
{
    if (c != NULL) {
        drop_connection(c);
        c->state = ST_IDLE; /* a chat under way is over */
    }
}

/* ------------------------------------------------------------ timing */

#define FOREVER 0xffffffffu

/* Milliseconds left of limit ms from start, 0 when they have passed. */
static uint32_t left_of(const cw_client_t *c, uint32_t start, uint32_t limit)
{
    return cw_time_left_ms(start, limit, c->tp.now_ms(c->tp.ctx));
}

/* Milliseconds left before the call's deadline (timeout_ms), 0 when it has
 * passed. */
static uint32_t time_left(const cw_client_t *c)
{
    return c->timeout_ms == 0u ? FOREVER
                               : left_of(c, c->call_start, c->timeout_ms);
}

/* How long the next send or recv may wait: until the idle timeout (no byte
 * moved since c->idle_start) or the call's deadline, whichever is first;
 * 0 when one has passed (which one: res->timed_out, set by say_timeout). */
static uint32_t wait_budget(const cw_client_t *c)
{
    uint32_t left = time_left(c);
    uint32_t idle = left_of(c, c->idle_start, c->idle_timeout_ms);
    return idle < left ? idle : left;
}

#if CW_CONFIG_NONBLOCKING
#define STEPPING(c) ((c)->step)
/* Says in *w what the step waits for, at most ms: returns
 * CW_ERR_WOULD_BLOCK, the step's answer. */
static int wait_for(const cw_client_t *c, cw_wait_t *w, uint8_t events,
                    uint32_t ms)
{
    w->fd = events != 0u && c->tp.handle != NULL ? c->tp.handle(c->tp.ctx)
                                                 : -1;
    w->events = events;
    w->timeout_ms = ms;
    return CW_ERR_WOULD_BLOCK;
}
#else
#define STEPPING(c) false
#endif

/* ------------------------------------------------------------ sending */

/* Sends data[*done..len), each wait bounded by the budget; stepping,
 * without waiting: CW_ERR_WOULD_BLOCK, *w set, when the port takes no more
 * for now (*done says how far it got). */
static int send_out(cw_client_t *c, const uint8_t *data, size_t len,
                    size_t *done, cw_wait_t *w)
{
    (void)w;
    while (*done < len) {
        uint32_t wait = wait_budget(c);
        size_t rest = len - *done;
        int32_t n;

        if (wait == 0u) {
            return CW_ERR_TIMEOUT;
        }
        n = c->tp.send(c->tp.ctx, data + *done, rest,
                       STEPPING(c) ? 0u : wait);
        if (n < 0) {
            return (int)n;
        }
        if ((size_t)n > rest) {
            return CW_ERR_IO; /* a port that claims more than it was given */
        }
        if (n > 0) {
            c->idle_start = c->tp.now_ms(c->tp.ctx);
            *done += (size_t)n;
        }
#if CW_CONFIG_NONBLOCKING
        else if (c->step) {
            return wait_for(c, w, CW_WAIT_WRITE, wait);
        }
#endif
    }
    return CW_OK;
}

/* The request writer's sink when the call may block: each piece is sent
 * whole before the writer goes on. */
static int send_all(void *ctx, const uint8_t *data, size_t len)
{
    size_t done = 0;
    return send_out((cw_client_t *)ctx, data, len, &done, NULL);
}

#if CW_CONFIG_NONBLOCKING
/* The request writer's sink when the call must not block: one run of the
 * writer fills io and stops there (the bytes wait in io to be sent). */
static int hold(void *ctx, const uint8_t *data, size_t len)
{
    cw_client_t *c = (cw_client_t *)ctx;

    (void)data; /* it is c->io */
    c->io_len = len;
    return len == c->io_size ? CW_ERR_WOULD_BLOCK : CW_OK;
}

/* Writes the request without blocking: the bytes waiting in io, then the
 * next run of the request writer, which goes on where the last one
 * stopped, until all of it is out. */
static int send_step(cw_client_t *c, cw_wait_t *w)
{
    for (;;) {
        int rc = send_out(c, c->io, c->io_len, &c->io_off, w);
        if (rc != CW_OK) {
            return rc; /* CW_ERR_WOULD_BLOCK: the rest waits in io */
        }
        if (c->req_done) {
            return CW_OK;
        }
        c->resume.skip += c->io_len;
        c->io_len = 0;
        c->io_off = 0;
        rc = cw_request_emit(&c->url, c->api_key, c->auth, c->req,
                             c->body_len_req, c->io, c->io_size, hold, c,
                             NULL CW_EMIT_RES(c->res)
                             CW_EMIT_RESUME(&c->resume));
        if (rc == CW_OK) {
            c->req_done = true;
        } else if (rc != CW_ERR_WOULD_BLOCK) {
            return rc;
        }
    }
}
#endif

/* ------------------------------------------------------------ delivery */

static const char replacement[3] = { '\xef', '\xbf', '\xbd' }; /* U+FFFD */

/* Where delivered text goes: the answer (on_delta) or, with
 * CW_CONFIG_REASONING, the reasoning (on_reasoning), each with its own
 * unfinished UTF-8 sequence kept between deltas. */
#if CW_CONFIG_REASONING
#define CARRY(c, r) ((r) ? (c)->rcarry : (c)->carry)
#define CARRY_LEN(c, r) (*((r) ? &(c)->rcarry_len : &(c)->carry_len))
#else
#define CARRY(c, r) ((c)->carry)
#define CARRY_LEN(c, r) ((c)->carry_len)
#endif

static int emit_text(cw_client_t *c, const char *text, size_t len, int r)
{
    const cw_chat_request_t *req = c->req;

    if (len == 0u) {
        return CW_OK;
    }
#if CW_CONFIG_REASONING
    if (r) {
        c->res->reasoning_len += len;
        return req->on_reasoning(req->on_reasoning_user, text, len) != 0
                   ? CW_ERR_ABORTED : CW_OK;
    }
#else
    (void)r;
#endif
    c->res->content_len += len;
    if (req->on_delta(req->on_delta_user, text, len) != 0) {
        return CW_ERR_ABORTED;
    }
    return CW_OK;
}

/* Gives text to on_delta (r: on_reasoning) as valid UTF-8, never ending
 * inside a sequence: an unfinished sequence at the end waits in c->carry
 * for the next delta, and ill-formed bytes from the server become U+FFFD
 * (one for each maximal subpart, as Unicode recommends). */
static int deliver_to(cw_client_t *c, const char *text, size_t len, int r)
{
    int rc = CW_OK;
    char *carry = CARRY(c, r);

    if (CARRY_LEN(c, r) > 0u) {
        /* finish the sequence the last delta left open, if this one does */
        char seq[4];
        size_t n = CARRY_LEN(c, r);
        size_t bad;
        size_t take = 0;
        memcpy(seq, carry, n);
        while (n < sizeof seq && take < len) {
            seq[n++] = text[take++];
            if (cw_utf8_check(seq, n, &bad) == n || bad < n) {
                break; /* complete, or broken */
            }
        }
        if (cw_utf8_check(seq, n, &bad) == n) {
            rc = emit_text(c, seq, n, r);
        } else if (bad == n && take == len) {
            memcpy(carry, seq, n); /* still unfinished: wait */
            CARRY_LEN(c, r) = (uint8_t)n;
            return CW_OK;
        } else {
            rc = emit_text(c, replacement, sizeof replacement, r);
            take -= n - bad; /* bytes after the broken part are text */
        }
        CARRY_LEN(c, r) = 0;
        text += take;
        len -= take;
    }
    while (rc == CW_OK && len > 0u) {
        size_t bad;
        size_t ok = cw_utf8_check(text, len, &bad);
        rc = emit_text(c, text, ok, r);
        text += ok;
        len -= ok;
        if (rc != CW_OK || len == 0u) {
            break;
        }
        if (bad == len) { /* unfinished at the end: may go on next time */
            memcpy(carry, text, bad);
            CARRY_LEN(c, r) = (uint8_t)bad;
            break;
        }
        rc = emit_text(c, replacement, sizeof replacement, r);
        text += bad;
        len -= bad;
    }
    return rc;
}

static int deliver(cw_client_t *c, const char *text, size_t len)
{
    return deliver_to(c, text, len, 0);
}

/* The text ended inside a UTF-8 sequence: it becomes U+FFFD. */
#if CW_CONFIG_REASONING
static int flush_carry_to(cw_client_t *c, int r)
{
    if (CARRY_LEN(c, r) == 0u) {
        return CW_OK;
    }
    CARRY_LEN(c, r) = 0;
    return emit_text(c, replacement, sizeof replacement, r);
}

static int flush_carry(cw_client_t *c)
{
    int rc = c->req->on_reasoning != NULL ? flush_carry_to(c, 1) : CW_OK;
    return rc == CW_OK ? flush_carry_to(c, 0) : rc;
}
#else
static int flush_carry(cw_client_t *c)
{
    if (c->carry_len == 0u) {
        return CW_OK;
    }
    c->carry_len = 0;
    return emit_text(c, replacement, sizeof replacement, 0);
}
#endif

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

/* The token array in the room the text (len bytes and its NUL) leaves in
 * the work buffer, aligned. */
typedef struct tokens {
    void *at;
    size_t n;
    size_t offset; /* where it starts in the work buffer */
} tokens_t;

static void tokens_after(const cw_client_t *c, size_t len, tokens_t *t)
{
    uintptr_t at = ((uintptr_t)c->work + len + 1u + TOKEN_ALIGN - 1u) &
                   ~(uintptr_t)(TOKEN_ALIGN - 1u);
    size_t used = (size_t)(at - (uintptr_t)c->work);

    t->offset = used;
    t->at = c->work + used;
    t->n = used < c->work_size
               ? cw_json_token_capacity(c->work_size - used) : 0u;
}

/* The text fit but its tokens did not: res->needed held the bytes of tokens
 * the JSON layer counted; make it the whole work buffer size needed. */
static int too_few_tokens(cw_client_t *c, const tokens_t *t, const char *what,
                          size_t len)
{
    cw_result_t *res = c->res;
    size_t need = res->needed;

    res->needed = t->offset + need;
    cw_detail(res, what);
    cw_detail(res, " of ");
    cw_detail_num(res, len);
    cw_detail(res, " bytes has ");
    cw_detail_num(res, need / CW_JSON_TOKEN_SIZE);
    cw_detail(res, " JSON tokens; the ");
    cw_detail_num(res, c->work_size);
    cw_detail(res, "-byte work buffer has room for ");
    cw_detail_num(res, t->n);
    cw_detail(res, " after it: make work_size at least ");
    cw_detail_num(res, res->needed);
    return CW_ERR_BUFFER_TOO_SMALL;
}

static int on_event(void *user, const char *event, char *data, size_t len)
{
    cw_client_t *c = (cw_client_t *)user;
    cw_chunk_t chunk;
    tokens_t tok;
    int rc;

    if (c->res->done) {
        return CW_OK; /* nothing counts after [DONE] */
    }
    if (len == 6u && memcmp(data, "[DONE]", 6) == 0) {
        c->res->done = true;
        return CW_OK;
    }
    tokens_after(c, len, &tok);
    if (strcmp(event, "error") == 0) {
        rc = cw_json_error(data, len, tok.at, tok.n, c->res);
        rc = rc == CW_OK ? CW_ERR_API : rc;
    } else {
#if CW_CONFIG_TOOLS
        c->tools.stream = true;
#endif
        rc = cw_json_chunk(data, len, tok.at, tok.n, c->res, &chunk,
                           &c->tools);
    }
    if (rc == CW_ERR_BUFFER_TOO_SMALL) {
        return too_few_tokens(c, &tok, "a stream event", len);
    }
    if (rc != CW_OK) {
        return rc;
    }
#if CW_CONFIG_REASONING
    if (chunk.reasoning != NULL && c->req->on_reasoning != NULL) {
        rc = deliver_to(c, chunk.reasoning, chunk.reasoning_len, 1);
    }
    if (rc == CW_OK && chunk.content != NULL) {
        rc = deliver(c, chunk.content, chunk.content_len);
    }
#else
    if (chunk.content != NULL) {
        rc = deliver(c, chunk.content, chunk.content_len);
    }
#endif
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

/* The body is larger than the work buffer. */
static int body_too_large(cw_client_t *c, uint64_t cl)
{
    cw_result_t *res = c->res;

    cw_detail(res, "the body ");
    if (cl > 0u) {
        cw_detail(res, "is ");
        cw_detail_num(res, cl);
        cw_detail(res, " bytes (Content-Length)");
        res->needed = (size_t)(cl + 1u) + CW_WORK_TOKENS_SIZE;
    } else {
        cw_detail(res, "(its length not announced)");
        res->needed = 0;
    }
    cw_detail(res, ", more than the ");
    cw_detail_num(res, c->work_size);
    cw_detail(res, "-byte work buffer holds: stream the answer, or make "
                   "work_size ");
    if (cl > 0u) {
        cw_detail(res, "at least ");
        cw_detail_num(res, res->needed);
    } else {
        cw_detail(res, "larger");
    }
    return CW_ERR_BUFFER_TOO_SMALL;
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
        cw_sse_init(&c->sse, c->work, c->work_size, on_event, c);
        return CW_OK;
    }
    c->mode = MODE_BUFFER;
    if (ok && cw_http_content_length(&c->http, &cl) && cl >= c->work_size) {
        return body_too_large(c, cl); /* it cannot fit: say what would */
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
        if (rc == CW_ERR_EVENT_TOO_LARGE) {
            cw_detail(c->res, "a stream event is larger than the ");
            cw_detail_num(c->res, c->work_size);
            cw_detail(c->res, "-byte work buffer");
        }
        return rc;
    case MODE_BUFFER:
        room = c->work_size - 1u - c->body_len; /* one byte for a NUL */
        if (len > room) {
            if (c->res->http.status >= 200 && c->res->http.status < 300) {
                return body_too_large(c, 0);
            }
            c->mode = MODE_OVERFLOW;
            len = room;
        }
        memcpy(c->work + c->body_len, data, len);
        c->body_len += len;
        return CW_OK;
    default:
        return CW_OK; /* MODE_OVERFLOW: the rest of an error page */
    }
}

/* Says what arrived instead of what was expected: the content type and
 * the bytes from `at` (a few before it too, for context). */
static void say_body(cw_client_t *c, const char *what, size_t at)
{
    cw_result_t *res = c->res;
    size_t from = at > 16u ? at - 16u : 0u;

    cw_detail(res, what);
    cw_detail(res, " (Content-Type ");
    if (res->http.content_type[0] != '\0') {
        cw_detail_value(res, res->http.content_type);
    } else {
        cw_detail(res, "none");
    }
    cw_detail(res, ")");
    if (c->body_len == 0u) {
        cw_detail(res, " is empty");
        return;
    }
    if (at > 0u) {
        cw_detail(res, " breaks JSON at byte ");
        cw_detail_num(res, at);
    }
    cw_detail(res, from > 0u ? ": ...": ": ");
    cw_detail_bytes(res, c->work + from, c->body_len - from, 48);
}

/* The answer called tools. With storage or tools in the request, the calls
 * are the answer (CW_OK), unless they did not fit or were cut off; a
 * request that offered no tools gets CW_ERR_TOOL_CALLS. */
static int tools_done(cw_client_t *c)
{
#if CW_CONFIG_TOOLS
    cw_result_t *res = c->res;
    const cw_chat_request_t *req = c->req;
    cw_tool_track_t *tt = &c->tools;

    if (tt->calls != NULL &&
        (tt->flags != 0u || tt->args_need > tt->args_size)) {
        if (tt->flags & CW_TT_TOO_MANY) {
            res->needed = res->tool_calls * sizeof(cw_tool_call_t);
            cw_detail(res, "the answer has ");
            cw_detail_num(res, res->tool_calls);
            cw_detail(res, " tool calls, more than tool_call_max (");
            cw_detail_num(res, tt->max);
            cw_detail(res, ")");
        } else if (tt->flags & CW_TT_LONG_ID) {
            cw_detail(res, "a tool call's id is longer than CW_TOOL_ID_MAX "
                           "holds (");
            cw_detail_num(res, CW_TOOL_ID_MAX - 1u);
            cw_detail(res, " bytes)");
        } else if (tt->flags & CW_TT_LONG_NAME) {
            cw_detail(res, "a tool call's name or type is longer than its "
                           "field holds");
        } else {
            res->needed = tt->args_need;
            cw_detail(res, "the tool calls' arguments need ");
            cw_detail_num(res, tt->args_need);
            cw_detail(res, " bytes (with a NUL each), more than "
                           "tool_args_size (");
            cw_detail_num(res, tt->args_size);
            cw_detail(res, ")");
        }
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    if (strcmp(res->finish_reason, "length") == 0 && res->tool_calls > 0u) {
        uint32_t last = res->tool_calls - 1u;
        if (tt->calls != NULL && last < tt->max) {
            tt->calls[last].cut = true;
        }
        cw_detail(res, "the answer reached its token limit (finish_reason "
                       "length) in the middle of tool call ");
        cw_detail_num(res, last);
        cw_detail(res, ": raise max_tokens or max_completion_tokens");
        return CW_ERR_INCOMPLETE;
    }
    if (res->tool_calls == 0u) {
        cw_detail(res, "finish_reason is tool_calls, but the answer has no "
                       "tool call in a form chatwire reads");
        return CW_ERR_TOOL_CALLS;
    }
    if (req->tool_count > 0u || tt->calls != NULL) {
        return CW_OK;
    }
#else
    (void)c;
#endif
    return CW_ERR_TOOL_CALLS;
}

/* The whole response has arrived: interpret the body. (Kept apart: 6
 * bytes smaller on a Cortex-M4.) */
CW_NOINLINE static int finish_body(cw_client_t *c)
{
    cw_result_t *res = c->res;
    int status = res->http.status;
    tokens_t tok;
    int rc;

    if (c->mode == MODE_SSE) {
        cw_sse_finish(&c->sse);
        rc = flush_carry(c);
        if (rc != CW_OK) {
            return rc;
        }
        if (res->tool_calls > 0u ||
            strcmp(res->finish_reason, "tool_calls") == 0) {
            return tools_done(c);
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
    c->work[c->body_len] = '\0';
    tokens_after(c, c->body_len, &tok);
    if (status < 200 || status >= 300) {
        rc = CW_ERR_MALFORMED;
        if (c->mode == MODE_BUFFER && c->body_len > 0u) {
            rc = cw_json_error(c->work, c->body_len, tok.at, tok.n, res);
        }
        res->error_offset = 0;
        if (rc != CW_OK) {
            cw_detail(res, "HTTP ");
            cw_detail_num(res, (uint64_t)status);
            say_body(c, ", and the body", 0);
            cw_detail(res, c->body_len > 0u ? " is not an API error object"
                                            : "");
        }
        return rc == CW_OK ? CW_ERR_API : CW_ERR_HTTP;
    }
#if CW_CONFIG_TOOLS || CW_CONFIG_REASONING
    {
        cw_chunk_t extra;
        memset(&extra, 0, sizeof extra);
#if CW_CONFIG_TOOLS
        c->tools.stream = false;
#endif
        rc = cw_json_completion(c->work, c->body_len, tok.at, tok.n,
                                res CW_COMPLETION_EXTRA(&extra, &c->tools));
#if CW_CONFIG_REASONING
        if ((rc == CW_OK || rc == CW_ERR_TOOL_CALLS ||
             rc == CW_ERR_NO_CONTENT) &&
            extra.reasoning != NULL && c->req->on_reasoning != NULL) {
            int r2 = deliver_to(c, extra.reasoning, extra.reasoning_len, 1);
            r2 = r2 == CW_OK ? flush_carry_to(c, 1) : r2;
            rc = r2 != CW_OK ? r2 : rc;
        }
#endif
    }
#else
    rc = cw_json_completion(c->work, c->body_len, tok.at, tok.n, res);
#endif
    if (rc == CW_ERR_BUFFER_TOO_SMALL) {
        return too_few_tokens(c, &tok, "the body", c->body_len);
    }
#if CW_CONFIG_TOOLS
    if (rc == CW_ERR_TOOL_CALLS) {
        if (c->req->stream && res->content != NULL) {
            /* asked to stream, answered whole: text and calls */
            int r2 = deliver(c, res->content, res->content_len);
            res->content_len = 0;
            res->content = NULL;
            r2 = r2 == CW_OK ? flush_carry(c) : r2;
            if (r2 != CW_OK) {
                return r2;
            }
        }
        return tools_done(c);
    }
#endif
    if (rc == CW_ERR_MALFORMED) {
        say_body(c, "the body", (size_t)res->error_offset);
    }
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
#if CW_CONFIG_REASONING
    res->reasoning_tokens = -1;
    res->cached_tokens = -1;
#endif
}

/* What the HTTP parser refused, and where: the offset and the byte (the
 * piece fed last, which starts at response offset base, holds it; only
 * that byte is shown, so the sentence is the same however the response
 * was split). */
static void say_http_error(cw_client_t *c, const uint8_t *data, size_t n,
                           uint64_t base)
{
    cw_result_t *res = c->res;
    uint64_t at = res->error_offset;

    if (at < base || at - base >= n) {
        return;
    }
    data += (size_t)(at - base);
    if (at == 0u && (data[0] == 0x15u || data[0] == 0x16u)) {
        /* a TLS alert or handshake record where "HTTP/" should start */
        cw_detail(res, "the server answered with TLS, not HTTP: use an "
                       "https:// URL for this port");
        return;
    }
    cw_detail(res, "the response breaks HTTP/1.1 at byte ");
    cw_detail_num(res, at);
    cw_detail(res, ": ");
    cw_detail_bytes(res, (const char *)data, 1, 1);
}

/* Reads and parses the response until it is complete (stepping: as much
 * as has arrived). The wait for each piece is bounded by the idle timeout
 * (restarted by every byte) and by the call's deadline. c->got_bytes tells
 * whether anything arrived. */
static int receive(cw_client_t *c, cw_wait_t *w)
{
    int rc = CW_OK;

    (void)w;
    while (!cw_http_done(&c->http)) {
        uint32_t wait = wait_budget(c);
        uint64_t base = c->http.pos;
        int32_t n;
        size_t used = 0;

        if (wait == 0u) {
            return CW_ERR_TIMEOUT;
        }
        n = c->tp.recv(c->tp.ctx, c->io, c->io_size,
                       STEPPING(c) ? 0u : wait);
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
#if CW_CONFIG_NONBLOCKING
            if (c->step) {
                return wait_for(c, w, CW_WAIT_READ, wait);
            }
#endif
            continue;
        }
        c->got_bytes = true;
        c->idle_start = c->tp.now_ms(c->tp.ctx);
        rc = cw_http_feed(&c->http, c->io, (size_t)n, &used);
        if (rc != CW_OK) {
            if ((rc == CW_ERR_MALFORMED || rc == CW_ERR_HEADER_TOO_LARGE) &&
                !c->body_error) {
                c->res->error_offset = cw_http_error_offset(&c->http);
                say_http_error(c, c->io, (size_t)n, base);
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

/* Which limit ended the attempt (the call's deadline when it has passed,
 * else the connect or the idle one), in words, with its value. */
static void say_timeout(cw_client_t *c, bool connecting, const char *doing)
{
    cw_result_t *res = c->res;

    res->timed_out = time_left(c) == 0u ? CW_TIMEOUT_TOTAL
                     : connecting          ? CW_TIMEOUT_CONNECT
                                           : CW_TIMEOUT_IDLE;
    if (res->timed_out == CW_TIMEOUT_TOTAL) {
        cw_detail(res, "the call took longer than its timeout_ms (");
        cw_detail_num(res, c->timeout_ms);
        cw_detail(res, " ms) while ");
    } else if (res->timed_out == CW_TIMEOUT_CONNECT) {
        cw_detail(res, "no connection within connect_timeout_ms (");
        cw_detail_num(res, c->connect_timeout_ms);
        cw_detail(res, " ms) while ");
    } else {
        cw_detail(res, "no byte moved for idle_timeout_ms (");
        cw_detail_num(res, c->idle_timeout_ms);
        cw_detail(res, " ms) while ");
    }
    cw_detail(res, doing);
}

/* Opens the connection when there is none (or the kept one went stale).
 * Stepping, through transport.connect_step when there is one. */
static int open_connection(cw_client_t *c, cw_wait_t *w)
{
    cw_result_t *res = c->res;
    uint32_t left = time_left(c);
    int rc;

    (void)w;
    if (c->connected) {
        if (still_open(c)) {
            res->reused_connection = true;
            return CW_OK;
        }
        drop_connection(c);
        res->stale_reconnect = true;
    }
#if CW_CONFIG_NONBLOCKING
    if (c->step && c->tp.connect_step != NULL) {
        uint8_t dir = CW_WAIT_WRITE;
        if (!c->connecting) {
            c->connecting = true;
            c->connect_start = c->tp.now_ms(c->tp.ctx);
        }
        rc = c->tp.connect_step(c->tp.ctx, c->url.host, c->url.host_len,
                                c->url.port, &dir);
        if (rc == CW_ERR_WOULD_BLOCK) {
            uint32_t budget = left_of(c, c->connect_start,
                                      c->connect_timeout_ms);
            budget = left < budget ? left : budget;
            if (budget > 0u) {
                return wait_for(c, w, dir, budget);
            }
            rc = CW_ERR_TIMEOUT;
            if (c->tp.close != NULL) {
                c->tp.close(c->tp.ctx); /* abandon it */
            }
        }
        c->connecting = false;
    } else
#endif
    if (c->tp.connect != NULL) {
        rc = c->tp.connect(c->tp.ctx, c->url.host, c->url.host_len,
                           c->url.port, left < c->connect_timeout_ms
                                            ? left : c->connect_timeout_ms);
    } else {
        rc = CW_OK;
    }
    if (rc == CW_ERR_TIMEOUT) {
        say_timeout(c, true, "connecting (TCP and TLS handshake)");
    }
    if (rc == CW_OK) {
        c->connected = true;
    }
    return rc;
}

/* The start of an attempt: the state of one response, reset. */
static void attempt_init(cw_client_t *c)
{
    const cw_chat_request_t *req = c->req;

    c->body_len = 0;
    c->mode = MODE_NONE;
    c->carry_len = 0;
    c->body_error = false;
    c->got_bytes = false;
    c->tools.index = -1;
    c->tools.named = false;
#if CW_CONFIG_TOOLS
    c->tools.flags = 0;
    c->tools.cur = 0;
    c->tools.calls = req->tool_call_buf;
    c->tools.max = req->tool_call_max;
    c->tools.args = req->tool_args;
    c->tools.args_size = req->tool_args_size;
    c->tools.args_used = 0;
    c->tools.args_need = 0;
    c->tools.on_args = req->on_tool_args;
    c->tools.on_args_user = req->on_tool_args_user;
#else
    (void)req;
#endif
#if CW_CONFIG_REASONING
    c->rcarry_len = 0;
#endif
#if CW_CONFIG_NONBLOCKING
    c->req_done = false;
    c->io_len = 0;
    c->io_off = 0;
    c->resume.skip = 0;
#endif
}

/* Writes the request: in one run when the call may block, else as far as
 * the transport takes it. */
static int send_request(cw_client_t *c, cw_wait_t *w)
{
    cw_result_t *res = c->res;
    int rc;

#if CW_CONFIG_NONBLOCKING
    if (c->step) {
        rc = send_step(c, w);
    } else
#endif
    {
        (void)w;
        rc = cw_request_emit(&c->url, c->api_key, c->auth, c->req,
                             c->body_len_req, c->io, c->io_size, send_all, c,
                             NULL CW_EMIT_RES(res) CW_EMIT_RESUME(NULL));
    }
    if (rc == CW_ERR_TIMEOUT) {
        say_timeout(c, false, "sending the request");
    } else if (rc == CW_ERR_REQUEST_CHANGED) {
        cw_detail(res, "the request body no longer came out at the ");
        cw_detail_num(res, c->body_len_req);
        cw_detail(res, " bytes measured when the call began: its strings "
                       "must stay unchanged until cw_chat returns");
    }
    return rc;
}

/* The response, read and interpreted. (Kept apart from advance(): 168
 * bytes smaller on a Cortex-M4, -Os.) */
CW_NOINLINE static int read_response(cw_client_t *c, cw_wait_t *w)
{
    cw_result_t *res = c->res;
    int rc = receive(c, w);

    if (rc == CW_ERR_TIMEOUT) {
        say_timeout(c, false, cw_http_headers_done(&c->http)
                                  ? "receiving the response"
                                  : "waiting for the response");
    } else if (rc == CW_ERR_CLOSED && !c->got_bytes && !c->url.tls) {
        cw_detail(res, "the server closed the connection without an "
                       "answer (if this port speaks TLS, use https://)");
    }
    return rc == CW_OK ? finish_body(c) : rc;
}

/* The end of an attempt whose status is rc: what the result says of it,
 * and whether its connection stays. */
static int attempt_end(cw_client_t *c, int rc)
{
    cw_result_t *res = c->res;

    if (rc != CW_OK && rc != CW_ERR_TOOL_CALLS && res->content_len > 0u &&
        c->req->stream) {
        res->partial = true; /* the text was cut short by the error */
    }
    if (rc != CW_OK && rc != CW_ERR_API && rc != CW_ERR_HTTP &&
        rc != CW_ERR_NO_CONTENT && rc != CW_ERR_TOOL_CALLS) {
        res->http.keep_alive = false; /* the stream position is unknown */
    }
    if (!cw_http_done(&c->http) || !res->http.keep_alive) {
        drop_connection(c);
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
                       bool got_bytes, uint32_t retry, cw_retry_info_t *info)
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
    return info->delay_ms < time_left(c);
}
#endif /* CW_CONFIG_RETRIES */

const char *cw_client_owns(const cw_client_t *c, const void *p, size_t n)
{
    /* compared as integers: the pointers may belong to unrelated objects */
    uintptr_t a = (uintptr_t)p;
    uintptr_t io = (uintptr_t)c->io;
    uintptr_t work = (uintptr_t)c->work;

    if (p == NULL || n == 0u) {
        return NULL;
    }
    if (a < work + c->work_size && work < a + n) {
        return "work";
    }
    if (a < io + c->io_size && io < a + n) {
        return "io";
    }
    return NULL;
}

/* The call is over with status rc. */
static int finish(cw_client_t *c, int rc)
{
    cw_result_t *res = c->res;

    res->attempts = c->attempts;
    res->retry_wait_ms = c->waited;
    res->stale_reconnect = c->stale;
    c->state = ST_IDLE;
    return rc;
}

/* After an attempt that ended with rc: the call's status (it is over), or
 * AGAIN with the next attempt set up (ST_BEGIN, or ST_WAIT first). */
static int next_after(cw_client_t *c, int rc)
{
    cw_result_t *res = c->res;
#if CW_CONFIG_RETRIES
    cw_retry_info_t info;
#endif

    c->stale = c->stale || res->stale_reconnect;
#if CW_CONFIG_CONTENT_PARTS
    c->last_rc = rc;
#endif
    c->state = ST_BEGIN;
    if (rc == CW_OK) {
        return finish(c, rc);
    }
    if (res->reused_connection && !c->got_bytes && !c->reconnected &&
        time_left(c) > 0u && (rc == CW_ERR_CLOSED || rc == CW_ERR_IO)) {
        /* the server closed the kept connection as we wrote: it never saw
         * the request, so send it again on a new one */
        c->reconnected = true;
        c->stale = true;
        return AGAIN;
    }
#if CW_CONFIG_RETRIES
    if (plan_retry(c, rc, res, c->got_bytes, c->retries, &info)) {
        c->retries++;
        info.attempt = c->attempts + 1u;
        if (c->on_retry != NULL) {
            c->on_retry(c->on_retry_user, &info);
        }
        c->wait_start = c->tp.now_ms(c->tp.ctx);
        c->wait_ms = info.delay_ms;
        c->waited += info.delay_ms;
        c->state = ST_WAIT;
        return AGAIN;
    }
#endif
    return finish(c, rc);
}

/* The engine under cw_chat and cw_chat_step: advances the call until it
 * is over (its status) or, stepping, until it must wait
 * (CW_ERR_WOULD_BLOCK, with *w saying for what). */
static int advance(cw_client_t *c, cw_wait_t *w)
{
    int rc;

    for (;;) {
        switch (c->state) {
        case ST_BEGIN:
#if CW_CONFIG_CONTENT_PARTS
            if (c->attempts > 0u && cw_request_rewind(c->req, c->res) !=
                                        CW_OK) {
                /* content parts read again, from the start, or no retry:
                 * the status stays the last attempt's, the detail says
                 * why */
                return finish(c, c->last_rc);
            }
#endif
            result_reset(c->res);
            c->attempts++;
            attempt_init(c);
            c->state = ST_CONNECT;
            continue;
        case ST_CONNECT:
            rc = open_connection(c, w);
            if (rc == CW_OK) {
                c->idle_start = c->tp.now_ms(c->tp.ctx);
                cw_http_init(&c->http, &c->res->http, on_headers, on_body, c);
                c->state = ST_SEND;
                continue;
            }
            break;
        case ST_SEND:
            rc = send_request(c, w);
            if (rc == CW_OK) {
                c->state = ST_RECV;
                continue;
            }
            break;
        case ST_RECV:
            rc = read_response(c, w);
            break;
#if CW_CONFIG_RETRIES
        case ST_WAIT: {
            uint32_t left = left_of(c, c->wait_start, c->wait_ms);
            if (left > 0u) {
#if CW_CONFIG_NONBLOCKING
                if (c->step) {
                    return wait_for(c, w, 0u, left);
                }
#endif
                wait_ms(c, left);
            }
            c->state = ST_BEGIN;
            continue;
        }
#endif
        default:
            return CW_ERR_INVALID_ARG; /* no call under way */
        }
        if (rc == CW_ERR_WOULD_BLOCK) {
            return rc; /* stepping: it waits */
        }
        rc = next_after(c, attempt_end(c, rc));
        if (rc != AGAIN) {
            return rc;
        }
    }
}

/* What cw_chat and cw_chat_start share: the arguments checked, the
 * request measured, the call set up. */
static cw_status_t start(cw_client_t *c, const cw_chat_request_t *req,
                         cw_result_t *res)
{
    int rc;

    if (res != NULL) {
        result_reset(res);
    }
    if (c == NULL || req == NULL || res == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (c->state != ST_IDLE) {
        /* a call abandoned half-way: where its response stands is unknown */
        cw_client_close(c);
    }
    if (req->stream && req->on_delta == NULL) {
        cw_detail(res, "stream is true but on_delta is NULL: the streamed "
                       "text needs a callback");
        return CW_ERR_INVALID_ARG;
    }
    c->req = req;
    c->res = res;
    /* the per-call fields, from call_start to the end */
    memset(&c->call_start, 0,
           sizeof *c - offsetof(cw_client_t, call_start));
    c->call_start = c->tp.now_ms(c->tp.ctx);

    /* validate and measure the whole request before touching the network */
    rc = cw_request_check(&c->url, c->api_key, c->auth, req,
                          &c->body_len_req, res, c);
    if (rc == CW_OK) {
        c->state = ST_BEGIN;
    }
    return (cw_status_t)rc;
}

cw_status_t cw_chat(cw_client_t *c, const cw_chat_request_t *req,
                    cw_result_t *res)
{
    cw_wait_t w;
    cw_status_t rc = start(c, req, res);

    if (rc != CW_OK) {
        return rc;
    }
#if CW_CONFIG_NONBLOCKING
    c->step = false;
#endif
    return (cw_status_t)advance(c, &w);
}

#if CW_CONFIG_NONBLOCKING
cw_status_t cw_chat_start(cw_client_t *c, const cw_chat_request_t *req,
                          cw_result_t *res)
{
    cw_status_t rc = start(c, req, res);

    if (rc == CW_OK) {
        c->step = true;
    }
    return rc;
}

cw_status_t cw_chat_step(cw_client_t *c, cw_wait_t *wait)
{
    int rc;

    if (c == NULL || wait == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    c->step = true;
    rc = advance(c, wait);
    if (rc == CW_ERR_WOULD_BLOCK && c->state == ST_IDLE) {
        /* over: a port's own "try again" status taken as an error must not
         * read as the chat going on */
        rc = CW_ERR_IO;
    }
    return (cw_status_t)rc;
}
#endif
