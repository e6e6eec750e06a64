/*
 * cw_request.c - the HTTP/1.1 request writer.
 *
 * The request is generated twice by the same code: a dry run that only
 * counts (and validates) the JSON body, for Content-Length, then the real
 * pass that streams head and body through the caller's small buffer to a
 * sink. Memory use does not depend on the size of the conversation, and the
 * bytes are the same whatever the buffer size, because the buffer is only
 * where bytes wait before the sink takes them.
 */
#include "cw_internal.h"

#include <string.h>

typedef struct emit {
    uint8_t *buf;
    size_t cap;
    size_t used;
    size_t total;
    size_t limit;     /* the request's measured size: never write past it */
    cw_sink_fn sink;  /* NULL: count only */
    void *ctx;
    int rc;
    const cw_client_t *owner; /* measuring: strings must lie outside its
                                 buffers */
    cw_result_t *res; /* measuring: where to say what is wrong */
} emit_t;

static void flush(emit_t *e)
{
    if (e->rc == CW_OK && e->used > 0u) {
        e->rc = e->sink(e->ctx, e->buf, e->used);
        if (e->rc > 0) {
            e->rc = CW_OK;
        }
    }
    e->used = 0;
}

static void put(emit_t *e, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;

    if (e->sink != NULL && e->rc == CW_OK && n > e->limit - e->total) {
        /* longer than measured: a string grew since; the server would take
         * the extra bytes for the next request */
        e->rc = CW_ERR_REQUEST_CHANGED;
    }
    e->total += n;
    if (e->sink == NULL) {
        return;
    }
    while (n > 0u && e->rc == CW_OK) {
        size_t k = e->cap - e->used;
        if (k > n) {
            k = n;
        }
        memcpy(e->buf + e->used, p, k);
        e->used += k;
        p += k;
        n -= k;
        if (e->used == e->cap) {
            flush(e);
        }
    }
}

static void puts_(emit_t *e, const char *s)
{
    put(e, s, strlen(s));
}

size_t cw_dec_u64(char *out, uint64_t v)
{
    size_t i = CW_DEC_U64_MAX;

    do {
        out[--i] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0u);
    return i;
}

static void put_u64(emit_t *e, uint64_t v)
{
    char tmp[CW_DEC_U64_MAX];
    size_t i = cw_dec_u64(tmp, v);
    put(e, tmp + i, sizeof tmp - i);
}

#if CW_CONFIG_REQUEST_OPTIONS
/* v in [0, 100], written with at most 3 decimals, no trailing zeros. */
static void put_decimal(emit_t *e, float v)
{
    uint32_t milli = (uint32_t)(v * 1000.0f + 0.5f);
    char frac[4];
    size_t n = 3;

    put_u64(e, milli / 1000u);
    milli %= 1000u;
    if (milli == 0u) {
        return;
    }
    frac[0] = '.';
    frac[1] = (char)('0' + milli / 100u);
    frac[2] = (char)('0' + (milli / 10u) % 10u);
    frac[3] = (char)('0' + milli % 10u);
    while (frac[n] == '0') {
        n--;
    }
    put(e, frac, n + 1u);
}
#endif

/* A request string that lies in the client's own io or work buffer: the
 * response overwrites it (res.content of an earlier call lives there), and
 * a retry would send something else than was measured. */
static void in_client_buffer(emit_t *e, const char *which, const char *name,
                             size_t index, const char *field)
{
    cw_detail(e->res, name);
    if (field != NULL) {
        cw_detail(e->res, "[");
        cw_detail_num(e->res, index);
        cw_detail(e->res, "]");
        cw_detail(e->res, field);
    }
    cw_detail(e->res, " lies in the client's ");
    cw_detail(e->res, which);
    cw_detail(e->res, " buffer, which the response overwrites (res.content "
                      "lives there): copy it first, e.g. with "
                      "cw_history_add");
    e->rc = CW_ERR_INVALID_ARG;
}

/* A JSON string, quoted and escaped. Invalid UTF-8 is refused, and so is a
 * string in the client's buffers (name[index]field says which; field NULL:
 * name alone). */
static void put_json_string(emit_t *e, const char *s, const char *name,
                            size_t index, const char *field)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(s);
    size_t i = 0;
    const char *which;

    if (e->rc != CW_OK) {
        return;
    }
    if (e->owner != NULL &&
        (which = cw_client_owns(e->owner, s, len + 1u)) != NULL) {
        in_client_buffer(e, which, name, index, field);
        return;
    }
    if (!cw_utf8_valid(s, len)) {
        e->rc = CW_ERR_INVALID_UTF8;
        return;
    }
    put(e, "\"", 1);
    while (i < len) {
        size_t run = i;
        uint8_t ch;
        char esc[6];

        while (run < len && (uint8_t)s[run] >= 0x20u && s[run] != '"' &&
               s[run] != '\\') {
            run++;
        }
        put(e, s + i, run - i);
        if (run == len) {
            break;
        }
        ch = (uint8_t)s[run];
        esc[0] = '\\';
        switch (ch) {
        case '"':
        case '\\':
            esc[1] = (char)ch;
            put(e, esc, 2);
            break;
        case '\n':
            put(e, "\\n", 2);
            break;
        case '\r':
            put(e, "\\r", 2);
            break;
        case '\t':
            put(e, "\\t", 2);
            break;
        case '\b':
            put(e, "\\b", 2);
            break;
        case '\f':
            put(e, "\\f", 2);
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 0xfu];
            put(e, esc, 6);
            break;
        }
        i = run + 1u;
    }
    put(e, "\"", 1);
}

/* Says which request field is wrong: "messages[3].role is ..." */
static int bad_field(cw_result_t *res, const char *what, size_t index,
                     const char *field, const char *why)
{
    cw_detail(res, what);
    if (field != NULL) {
        cw_detail(res, "[");
        cw_detail_num(res, index);
        cw_detail(res, "]");
        cw_detail(res, field);
    }
    cw_detail(res, why);
    return CW_ERR_INVALID_ARG;
}

static int check_request(const cw_chat_request_t *req, cw_result_t *res)
{
    size_t i;

    if (req == NULL) {
        return bad_field(res, "the request", 0, NULL, " is NULL");
    }
    if (req->messages == NULL || req->message_count == 0u) {
        return bad_field(res, "messages", 0, NULL,
                         " is empty: a request needs at least one message");
    }
    if (req->stop_count > 4u || (req->stop_count > 0u && req->stop == NULL)) {
        return bad_field(res, "stop", 0, NULL,
                         ": at most 4 strings, and stop_count needs them");
    }
    if (req->include_usage && !req->stream) {
        return bad_field(res, "include_usage", 0, NULL,
                         " is for streamed requests only");
    }
    for (i = 0; i < req->message_count; i++) {
        const cw_message_t *m = &req->messages[i];
        if (m->role == NULL || m->role[0] == '\0') {
            return bad_field(res, "messages", i, ".role",
                             " is NULL or empty");
        }
        if (m->content == NULL) {
            return bad_field(res, "messages", i, ".content", " is NULL");
        }
    }
#if CW_CONFIG_REQUEST_OPTIONS
    for (i = 0; i < req->stop_count; i++) {
        if (req->stop[i] == NULL) {
            return bad_field(res, "stop", i, "", " is NULL");
        }
    }
    /* NaN fails these comparisons too */
    if ((req->temperature >= 0.0f || req->temperature != req->temperature) &&
        !(req->temperature <= 2.0f)) {
        return bad_field(res, "temperature", 0, NULL,
                         " is out of range: 0 to 2, or < 0 for none");
    }
    if ((req->top_p >= 0.0f || req->top_p != req->top_p) &&
        !(req->top_p <= 1.0f)) {
        return bad_field(res, "top_p", 0, NULL,
                         " is out of range: 0 to 1, or < 0 for none");
    }
#else
    /* left out of this build: refused when set, never dropped unsaid */
    if (req->stop_count > 0u || req->user != NULL ||
        !(req->temperature < 0.0f) || !(req->top_p < 0.0f)) {
        return bad_field(res, "temperature, top_p, stop or user", 0, NULL,
                         " is set, and this build has "
                         "CW_CONFIG_REQUEST_OPTIONS 0");
    }
#endif
    if (req->model != NULL && req->model[0] == '\0') {
        return bad_field(res, "model", 0, NULL,
                         " is empty (NULL gives the default model)");
    }
    return CW_OK;
}

static void body(emit_t *e, const cw_chat_request_t *req)
{
    size_t i;

    puts_(e, "{\"model\":");
    put_json_string(e, req->model != NULL ? req->model : CW_DEFAULT_MODEL,
                    CW_TEXT("model"), 0, NULL);
    puts_(e, ",\"messages\":[");
    for (i = 0; i < req->message_count; i++) {
        puts_(e, i == 0u ? "{\"role\":" : ",{\"role\":");
        put_json_string(e, req->messages[i].role, CW_TEXT("messages"), i,
                        CW_TEXT(".role"));
        puts_(e, ",\"content\":");
        put_json_string(e, req->messages[i].content, CW_TEXT("messages"), i,
                        CW_TEXT(".content"));
        puts_(e, "}");
    }
    puts_(e, "]");
    if (req->stream) {
        puts_(e, ",\"stream\":true");
        if (req->include_usage) {
            puts_(e, ",\"stream_options\":{\"include_usage\":true}");
        }
    }
    if (req->max_tokens > 0) {
        puts_(e, ",\"max_tokens\":");
        put_u64(e, (uint64_t)req->max_tokens);
    }
#if CW_CONFIG_REQUEST_OPTIONS
    if (req->temperature >= 0.0f) {
        puts_(e, ",\"temperature\":");
        put_decimal(e, req->temperature);
    }
    if (req->top_p >= 0.0f) {
        puts_(e, ",\"top_p\":");
        put_decimal(e, req->top_p);
    }
    if (req->stop_count > 0u) {
        for (i = 0; i < req->stop_count; i++) {
            puts_(e, i == 0u ? ",\"stop\":[" : ",");
            put_json_string(e, req->stop[i], CW_TEXT("stop"), i, "");
        }
        puts_(e, "]");
    }
    if (req->user != NULL) {
        puts_(e, ",\"user\":");
        put_json_string(e, req->user, CW_TEXT("user"), 0, NULL);
    }
#endif
    puts_(e, "}");
}

void cw_chat_request_init(cw_chat_request_t *req,
                          const cw_message_t *messages, size_t count)
{
    if (req == NULL) {
        return;
    }
    memset(req, 0, sizeof *req);
    req->messages = messages;
    req->message_count = count;
    req->temperature = -1.0f;
    req->top_p = -1.0f;
}

static void emit_init(emit_t *e, uint8_t *buf, size_t cap, cw_sink_fn sink,
                      void *ctx)
{
    memset(e, 0, sizeof *e);
    e->buf = buf;
    e->cap = cap;
    e->sink = sink;
    e->ctx = ctx;
    e->limit = SIZE_MAX;
}

/* Checks req and measures its JSON body in one dry run: invalid UTF-8 and
 * bad arguments are caught here, before any byte leaves. */
static int measure_body(const cw_chat_request_t *req, size_t *len,
                        cw_result_t *res, const cw_client_t *owner)
{
    emit_t e;
    int rc = check_request(req, res);
    const char *which;

    if (rc != CW_OK) {
        return rc;
    }
    emit_init(&e, NULL, 0, NULL, NULL);
    e.owner = owner;
    e.res = res;
    if (owner != NULL &&
        ((which = cw_client_owns(owner, req->messages, req->message_count *
                                 sizeof req->messages[0])) != NULL ||
         (which = cw_client_owns(owner, req->stop, req->stop_count *
                                 sizeof req->stop[0])) != NULL)) {
        in_client_buffer(&e, which, CW_TEXT("an array of the request"), 0,
                         NULL);
        return e.rc;
    }
    body(&e, req);
    *len = e.total;
    if (e.rc == CW_ERR_INVALID_UTF8) {
        cw_detail(res, "a message, the model, a stop string or the user id "
                       "is not valid UTF-8");
    }
    return e.rc;
}

cw_status_t cw_request_write_body(const cw_chat_request_t *req, uint8_t *buf,
                                  size_t cap, cw_sink_fn sink, void *sink_ctx,
                                  size_t *total)
{
    emit_t e;
    size_t len = 0;
    int rc;

    if (sink != NULL && (buf == NULL || cap == 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    rc = measure_body(req, &len, NULL, NULL);
    if (rc != CW_OK) {
        return (cw_status_t)rc;
    }
    if (total != NULL) {
        *total = len;
    }
    if (sink == NULL) {
        return CW_OK;
    }
    emit_init(&e, buf, cap, sink, sink_ctx);
    e.limit = len;
    body(&e, req);
    flush(&e);
    return (cw_status_t)e.rc;
}

/* The API key goes into a header line: a control character, a space or a
 * byte outside ASCII would break it or inject another line. Says which
 * byte, never the key. */
static int check_key(const char *key, cw_result_t *res)
{
    size_t i;

    for (i = 0; key[i] != '\0'; i++) {
        uint8_t b = (uint8_t)key[i];
        if (b <= 0x20u || b >= 0x7fu) {
            cw_detail(res, "the API key has ");
            cw_detail(res, b == '\r' ? "a carriage return"
                           : b == '\n' ? "a line feed"
                           : b == ' ' ? "a space"
                           : b < 0x20u || b == 0x7fu ? "a control character"
                                                     : "a non-ASCII byte");
            cw_detail(res, " at byte ");
            cw_detail_num(res, i);
            cw_detail(res, key[i + 1u] == '\0' ? " (its last: read from a "
                           "file with a line end?)" : "");
            return CW_ERR_INVALID_ARG;
        }
    }
    return CW_OK;
}

cw_status_t cw_request_check(const cw_url_t *url, const char *api_key,
                             cw_auth_style_t auth,
                             const cw_chat_request_t *req, size_t *body_len,
                             cw_result_t *res, const cw_client_t *owner)
{
    if (url == NULL || url->host == NULL || url->path == NULL ||
        url->query == NULL ||
        (auth != CW_AUTH_BEARER && auth != CW_AUTH_API_KEY) ||
        body_len == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    if (api_key != NULL && check_key(api_key, res) != CW_OK) {
        return CW_ERR_INVALID_ARG;
    }
    return (cw_status_t)measure_body(req, body_len, res, owner);
}

cw_status_t cw_request_emit(const cw_url_t *url, const char *api_key,
                            cw_auth_style_t auth,
                            const cw_chat_request_t *req, size_t body_len,
                            uint8_t *buf, size_t cap, cw_sink_fn sink,
                            void *sink_ctx, size_t *total)
{
    emit_t e;

    if (sink != NULL && (buf == NULL || cap == 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    emit_init(&e, buf, cap, sink, sink_ctx);
    puts_(&e, "POST ");
    put(&e, url->path, url->path_len);
    puts_(&e, "/chat/completions");
    if (url->query_len > 0u) {
        puts_(&e, "?");
        put(&e, url->query, url->query_len);
    }
    puts_(&e, " HTTP/1.1\r\nHost: ");
    if (url->ipv6) {
        puts_(&e, "[");
    }
    put(&e, url->host, url->host_len);
    if (url->ipv6) {
        puts_(&e, "]");
    }
    if (url->port != (url->tls ? 443u : 80u)) {
        puts_(&e, ":");
        put_u64(&e, url->port);
    }
    puts_(&e, "\r\n");
    if (api_key != NULL && api_key[0] != '\0') {
        puts_(&e, auth == CW_AUTH_API_KEY ? "api-key: "
                                          : "Authorization: Bearer ");
        puts_(&e, api_key);
        puts_(&e, "\r\n");
    }
    puts_(&e, "Content-Type: application/json\r\nAccept: ");
    puts_(&e, req->stream ? "text/event-stream" : "application/json");
    puts_(&e, "\r\nUser-Agent: chatwire/" CW_VERSION_STRING
              "\r\nContent-Length: ");
    put_u64(&e, body_len);
    puts_(&e, "\r\nConnection: keep-alive\r\n\r\n");
    if (sink != NULL) {
        e.limit = e.total + body_len;
        body(&e, req);
        if (e.rc == CW_OK && e.total != e.limit) {
            e.rc = CW_ERR_REQUEST_CHANGED; /* shorter than measured */
        } else if (e.rc == CW_ERR_INVALID_UTF8) {
            e.rc = CW_ERR_REQUEST_CHANGED; /* it was valid when measured */
        }
        flush(&e);
    } else {
        e.total += body_len; /* counting only: the body was measured */
    }
    if (total != NULL) {
        *total = e.total;
    }
    return (cw_status_t)e.rc;
}

cw_status_t cw_request_write(const cw_url_t *url, const char *api_key,
                             cw_auth_style_t auth,
                             const cw_chat_request_t *req, uint8_t *buf,
                             size_t cap, cw_sink_fn sink, void *sink_ctx,
                             size_t *total)
{
    size_t body_len = 0;
    cw_status_t rc = cw_request_check(url, api_key, auth, req, &body_len,
                                      NULL, NULL);

    if (rc != CW_OK) {
        return rc;
    }
    return cw_request_emit(url, api_key, auth, req, body_len, buf, cap, sink,
                           sink_ctx, total);
}
