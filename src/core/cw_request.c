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
#if CW_CONFIG_NONBLOCKING
    cw_emit_resume_t *resume; /* NULL, or: bytes before resume->skip were
                                 written by an earlier run */
    size_t skip;
#endif
} emit_t;

static void flush(emit_t *e)
{
    if (e->rc == CW_OK && e->used > 0u) {
        e->rc = e->sink(e->ctx, e->buf, e->used);
        if (e->rc > 0) {
            e->rc = CW_ERR_ABORTED; /* any value but CW_OK stops */
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
#if CW_CONFIG_NONBLOCKING
    if (e->skip > e->total) {
        /* written by an earlier run: dropped */
        size_t d = e->skip - e->total < n ? e->skip - e->total : n;
        e->total += d;
        p += d;
        n -= d;
    }
#endif
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

/* Whether s[0..len) may be written: nothing failed yet, it does not lie in
 * the client's buffers (name[index]field says which; field NULL: name
 * alone) and it is valid UTF-8. Sets e->rc when not. */
static bool writable(emit_t *e, const char *s, size_t len, const char *name,
                     size_t index, const char *field)
{
    const char *which;

    if (e->rc != CW_OK) {
        return false;
    }
    if (e->owner != NULL &&
        (which = cw_client_owns(e->owner, s, len + 1u)) != NULL) {
        in_client_buffer(e, which, name, index, field);
        return false;
    }
    if (!cw_utf8_valid(s, len)) {
        e->rc = CW_ERR_INVALID_UTF8;
        return false;
    }
    return true;
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

    if (!writable(e, s, len, name, index, field)) {
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

#if CW_CONFIG_REQUEST_OPTIONS
/* Members of the body (or of a message) that chatwire writes itself: an
 * extra_json that names one is refused, not sent twice. */
static const char *const body_members[] = {
    "model", "messages", "stream", "stream_options", "max_tokens",
    "temperature", "top_p", "stop", "user", "tools", "tool_choice",
    "parallel_tool_calls", "max_completion_tokens", "reasoning_effort",
    "response_format", "seed", "presence_penalty", "frequency_penalty",
    "safety_identifier", "prompt_cache_key", NULL
};
static const char *const message_members[] = {
    "role", "content", "tool_calls", "tool_call_id", NULL
};

#endif

#if CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS
static bool key_allowed(void *user, const char *key, size_t len)
{
    const char *const *k;

    for (k = (const char *const *)user; *k != NULL; k++) {
        if (strlen(*k) == len && memcmp(*k, key, len) == 0) {
            return false;
        }
    }
    /* an escaped key could spell one of them: not worth decoding */
    return memchr(key, '\\', len) == NULL;
}

/* A caller's JSON text: one value (object: one object, and none of the
 * members in keys), well-formed and valid UTF-8. */
static int check_json_text(cw_result_t *res, const char *text, bool object,
                           const char *const *keys, const char *what,
                           size_t index, const char *field)
{
    size_t len = strlen(text);
    size_t at = cw_json_text_check(text, len, object,
                                   keys != NULL ? key_allowed : NULL,
                                   (void *)(uintptr_t)keys);

    if (at != CW_JSON_TEXT_OK) {
        bad_field(res, what, index, field, "");
        cw_detail(res, object ? CW_TEXT(" is not one JSON object without "
                                        "the members chatwire writes: at "
                                        "byte ")
                              : CW_TEXT(" is not one well-formed JSON "
                                        "value: at byte "));
        cw_detail_num(res, at);
        cw_detail(res, CW_TEXT(", "));
        cw_detail_bytes(res, text + at, len - at, 16);
        return CW_ERR_INVALID_ARG;
    }
    return CW_OK;
}
#endif

#if CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS
/* A function (or schema) name as the API takes it: [A-Za-z0-9_-]{1,64}. */
static bool tool_name_ok(const char *n)
{
    size_t i;

    for (i = 0; n[i] != '\0'; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-') || i == 64u) {
            return false;
        }
    }
    return i > 0u;
}
#endif

#if CW_CONFIG_TOOLS
static int check_tools(const cw_chat_request_t *req, cw_result_t *res)
{
    size_t i;
    int rc = CW_OK;

    if (req->tool_count > 0u && req->tools == NULL) {
        return bad_field(res, "tools", 0, NULL, " is NULL with tool_count");
    }
    for (i = 0; i < req->tool_count && rc == CW_OK; i++) {
        const cw_tool_t *t = &req->tools[i];
        if (t->name == NULL || !tool_name_ok(t->name)) {
            return bad_field(res, "tools", i, ".name",
                             CW_TEXT(" is not 1 to 64 of A-Z a-z 0-9 _ -"));
        }
        if (t->parameters != NULL) {
            rc = check_json_text(res, t->parameters, false, NULL,
                                 CW_TEXT("tools"), i,
                                 CW_TEXT(".parameters"));
        }
    }
    if (rc != CW_OK) {
        return rc;
    }
    if ((unsigned)req->tool_choice > (unsigned)CW_TOOL_CHOICE_FUNCTION ||
        (req->tool_choice == CW_TOOL_CHOICE_FUNCTION &&
         (req->tool_choice_name == NULL ||
          !tool_name_ok(req->tool_choice_name)))) {
        return bad_field(res, "tool_choice", 0, NULL,
                         CW_TEXT(" is not one of cw_tool_choice_t, or "
                                 "CW_TOOL_CHOICE_FUNCTION has no valid "
                                 "tool_choice_name"));
    }
    if ((req->tool_call_max > 0u && req->tool_call_buf == NULL) ||
        (req->tool_args_size > 0u && req->tool_args == NULL) ||
        (req->tool_call_buf != NULL &&
         (req->tool_call_max == 0u || req->tool_args == NULL ||
          req->tool_args_size == 0u))) {
        return bad_field(res, "tool_call_buf", 0, NULL,
                         CW_TEXT(": the tool-call storage needs "
                                 "tool_call_buf, tool_call_max, tool_args "
                                 "and tool_args_size together"));
    }
    return CW_OK;
}
#endif

#if CW_CONFIG_REQUEST_OPTIONS
/* An extra header "Name: value": a token name that is not one chatwire
 * writes, and a value without control characters. */
static const char *const own_headers[] = {
    "host", "authorization", "api-key", "content-type", "content-length",
    "accept", "user-agent", "connection", "transfer-encoding", "expect",
    "upgrade", "te", "keep-alive", "trailer", NULL
};

/* RFC 9110's tchar: what a header name is made of. */
static bool tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int check_header(const char *h, size_t index, cw_result_t *res)
{
    size_t n = 0;
    size_t i;
    const char *const *k;

    while (tchar(h[n])) {
        n++;
    }
    if (n == 0u || h[n] != ':') {
        return bad_field(res, "headers", index, "",
                         CW_TEXT(" is not \"Name: value\" with a token "
                                 "name"));
    }
    for (k = own_headers; *k != NULL; k++) {
        size_t j;
        if (strlen(*k) != n) {
            continue;
        }
        for (j = 0; j < n && cw_lower(h[j]) == (*k)[j]; j++) {
        }
        if (j == n) {
            return bad_field(res, "headers", index, "",
                             CW_TEXT(" is a header chatwire writes "
                                     "itself"));
        }
    }
    for (i = n + 1u; h[i] != '\0'; i++) {
        uint8_t b = (uint8_t)h[i];
        if ((b < 0x20u && b != '\t') || b == 0x7fu) {
            bad_field(res, "headers", index, "", CW_TEXT(" has a control "
                                                          "character at "
                                                          "byte "));
            cw_detail_num(res, i);
            return CW_ERR_INVALID_ARG;
        }
    }
    return CW_OK;
}

static bool penalty_bad(bool send, float v)
{
    return send && !(v >= -2.0f && v <= 2.0f); /* NaN too */
}

static int check_options(const cw_chat_request_t *req, cw_result_t *res)
{
    size_t i;
    int rc = CW_OK;

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
    if (penalty_bad(req->send_presence_penalty, req->presence_penalty) ||
        penalty_bad(req->send_frequency_penalty, req->frequency_penalty)) {
        return bad_field(res, "presence_penalty or frequency_penalty", 0,
                         NULL, CW_TEXT(" is out of range: -2 to 2"));
    }
    if ((unsigned)req->response_format > (unsigned)CW_FORMAT_JSON_SCHEMA ||
        (req->response_format == CW_FORMAT_JSON_SCHEMA &&
         (req->json_schema_name == NULL || !tool_name_ok(req->json_schema_name) ||
          req->json_schema == NULL))) {
        return bad_field(res, "response_format", 0, NULL,
                         CW_TEXT(" is not one of cw_response_format_t, or "
                                 "CW_FORMAT_JSON_SCHEMA lacks a valid "
                                 "json_schema_name or json_schema"));
    }
    if (req->response_format == CW_FORMAT_JSON_SCHEMA) {
        rc = check_json_text(res, req->json_schema, false, NULL,
                             CW_TEXT("json_schema"), 0, NULL);
    }
    if (rc == CW_OK && req->extra_json != NULL) {
        rc = check_json_text(res, req->extra_json, true, body_members,
                             CW_TEXT("extra_json"), 0, NULL);
    }
    if (req->header_count > 0u && req->headers == NULL) {
        return bad_field(res, "headers", 0, NULL,
                         " is NULL with header_count");
    }
    for (i = 0; i < req->header_count && rc == CW_OK; i++) {
        rc = req->headers[i] == NULL
                 ? bad_field(res, "headers", i, "", " is NULL")
                 : check_header(req->headers[i], i, res);
    }
    return rc;
}
#endif

#if CW_CONFIG_CONTENT_PARTS
/* A media type for a data URL, written there as it is: "type/subtype"
 * of letters, digits and + - . _ only. */
static bool mime_ok(const char *m)
{
    size_t i;
    size_t slash = 0;

    if (m == NULL) {
        return false;
    }
    for (i = 0; m[i] != '\0' && i < 128u; i++) {
        char c = m[i];
        if (c == '/' && slash == 0u && i > 0u) {
            slash = i;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                     c == '.' || c == '_')) {
            return false;
        }
    }
    return slash > 0u && m[slash + 1u] != '\0' && m[i] == '\0';
}

static int check_parts(const cw_message_ext_t *m, size_t mi,
                       cw_result_t *res)
{
    size_t k;

    if (m->part_count > 0u && m->parts == NULL) {
        return bad_field(res, "messages", mi, ".parts",
                         " is NULL with part_count");
    }
    for (k = 0; k < m->part_count; k++) {
        const cw_content_part_t *p = &m->parts[k];
        bool ok;
        switch (p->type) {
        case CW_PART_TEXT:
            ok = p->text != NULL;
            break;
        case CW_PART_IMAGE_URL:
            ok = p->read != NULL ? mime_ok(p->mime) : p->text != NULL;
            break;
        case CW_PART_INPUT_AUDIO:
            ok = p->read != NULL && p->mime != NULL;
            break;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            bad_field(res, "messages", mi, ".parts[", "");
            cw_detail_num(res, k);
            cw_detail(res, CW_TEXT("] lacks what its type needs (text; "
                                   "an image's URL, or read and mime; "
                                   "audio's read and mime)"));
            return CW_ERR_INVALID_ARG;
        }
    }
    return CW_OK;
}
#endif

#if CW_CONFIG_TOOLS || CW_CONFIG_CONTENT_PARTS || CW_CONFIG_REQUEST_OPTIONS
#define HAVE_EXT 1
typedef cw_message_ext_t ext_t;
#else
#define HAVE_EXT 0
typedef void ext_t; /* no extensions in this build */
#endif

/* What messages[i] has besides role and content, or NULL. */
static const ext_t *ext_of(const cw_chat_request_t *req, size_t i)
{
#if HAVE_EXT
    return req->message_ext != NULL ? &req->message_ext[i] : NULL;
#else
    (void)req;
    (void)i;
    return NULL;
#endif
}

static int check_message(const cw_message_t *msg, const ext_t *x, size_t i,
                         cw_result_t *res)
{
#if HAVE_EXT
    static const cw_message_ext_t none; /* no extension: all zero */
    const cw_message_ext_t *m = x != NULL ? (const cw_message_ext_t *)x
                                          : &none;
    size_t calls = 0;
    size_t parts = 0;
#if CW_CONFIG_TOOLS
    calls = m->tool_call_count;
#endif
#if CW_CONFIG_CONTENT_PARTS
    parts = m->part_count;
#endif
#else
    const size_t calls = 0;
    const size_t parts = 0;
    (void)x;
#endif

    if (msg->role == NULL || msg->role[0] == '\0') {
        return bad_field(res, "messages", i, ".role", " is NULL or empty");
    }
    if (msg->content == NULL && calls == 0u && parts == 0u) {
        return bad_field(res, "messages", i, ".content", " is NULL");
    }
    if (msg->content != NULL && parts > 0u) {
        return bad_field(res, "messages", i, ".content",
                         CW_TEXT(" and its parts are both given"));
    }
#if CW_CONFIG_TOOLS
    if (m->tool_call_count > 0u && m->tool_calls == NULL) {
        return bad_field(res, "messages", i, ".tool_calls",
                         " is NULL with tool_call_count");
    }
    {
        size_t k;
        for (k = 0; k < m->tool_call_count; k++) {
            const cw_tool_call_t *tc = &m->tool_calls[k];
            if (!tool_name_ok(tc->name) || tc->id[0] == '\0' ||
                memchr(tc->id, '\0', sizeof tc->id) == NULL ||
                memchr(tc->type, '\0', sizeof tc->type) == NULL ||
                (tc->arguments == NULL && tc->arguments_len > 0u)) {
                return bad_field(res, "messages", i, ".tool_calls",
                                 CW_TEXT(": a call lacks an id or a valid "
                                         "name"));
            }
        }
    }
#endif
#if CW_CONFIG_CONTENT_PARTS
    if (check_parts(m, i, res) != CW_OK) {
        return CW_ERR_INVALID_ARG;
    }
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    if (m->extra_json != NULL) {
        return check_json_text(res, m->extra_json, true, message_members,
                               CW_TEXT("messages"), i,
                               CW_TEXT(".extra_json"));
    }
#endif
    return CW_OK;
}

static int check_request(const cw_chat_request_t *req, cw_result_t *res)
{
    size_t i;
    int rc;

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
        rc = check_message(&req->messages[i], ext_of(req, i), i, res);
        if (rc != CW_OK) {
            return rc;
        }
    }
#if CW_CONFIG_REQUEST_OPTIONS
    rc = check_options(req, res);
    if (rc != CW_OK) {
        return rc;
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
#if CW_CONFIG_TOOLS
    rc = check_tools(req, res);
    if (rc != CW_OK) {
        return rc;
    }
#endif
    if (req->model != NULL && req->model[0] == '\0') {
        return bad_field(res, "model", 0, NULL,
                         " is empty (NULL gives the default model)");
    }
    return CW_OK;
}

#if CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS
/* A caller's JSON text, as it is (checked beforehand), or the members of
 * its object, after a comma. */
static void put_json_text(emit_t *e, const char *text, bool members,
                          const char *name, size_t index, const char *field)
{
    size_t len = strlen(text);
    size_t a = 0;
    size_t b = len;

    if (!writable(e, text, len, name, index, field)) {
        return;
    }
    if (members) {
        /* between the braces, without the white space around them */
        while (a < b && text[a] != '{') {
            a++;
        }
        while (b > a && text[b - 1u] != '}') {
            b--;
        }
        a++;
        b--;
        while (a < b && (text[a] == ' ' || text[a] == '\t' ||
                         text[a] == '\n' || text[a] == '\r')) {
            a++;
        }
        if (a >= b) {
            return; /* {} */
        }
        put(e, ",", 1);
    }
    put(e, text + a, b - a);
}
#endif

#if CW_CONFIG_TOOLS
static void put_tool_calls(emit_t *e, const cw_message_ext_t *m, size_t mi)
{
    size_t k;

    for (k = 0; k < m->tool_call_count; k++) {
        const cw_tool_call_t *tc = &m->tool_calls[k];
        puts_(e, k == 0u ? ",\"tool_calls\":[{\"id\":" : ",{\"id\":");
        put_json_string(e, tc->id, CW_TEXT("messages"), mi,
                        CW_TEXT(".tool_calls"));
        puts_(e, ",\"type\":");
        put_json_string(e, tc->type[0] != '\0' ? tc->type : "function",
                        CW_TEXT("messages"), mi, CW_TEXT(".tool_calls"));
        puts_(e, ",\"function\":{\"name\":");
        put_json_string(e, tc->name, CW_TEXT("messages"), mi,
                        CW_TEXT(".tool_calls"));
        puts_(e, ",\"arguments\":");
        put_json_string(e, tc->arguments != NULL ? tc->arguments : "",
                        CW_TEXT("messages"), mi, CW_TEXT(".tool_calls"));
        puts_(e, "}}");
    }
    if (m->tool_call_count > 0u) {
        puts_(e, "]");
    }
}

static void put_tools(emit_t *e, const cw_chat_request_t *req)
{
    static const char *const choices[] = { "", "\"none\"", "\"auto\"",
                                           "\"required\"" };
    size_t i;

    for (i = 0; i < req->tool_count; i++) {
        const cw_tool_t *t = &req->tools[i];
        puts_(e, i == 0u ? ",\"tools\":[" : ",");
        puts_(e, "{\"type\":\"function\",\"function\":{\"name\":");
        put_json_string(e, t->name, CW_TEXT("tools"), i, CW_TEXT(".name"));
        if (t->description != NULL) {
            puts_(e, ",\"description\":");
            put_json_string(e, t->description, CW_TEXT("tools"), i,
                            CW_TEXT(".description"));
        }
        if (t->parameters != NULL) {
            puts_(e, ",\"parameters\":");
            put_json_text(e, t->parameters, false, CW_TEXT("tools"), i,
                          CW_TEXT(".parameters"));
        }
        if (t->strict) {
            puts_(e, ",\"strict\":true");
        }
        puts_(e, "}}");
    }
    if (req->tool_count > 0u) {
        puts_(e, "]");
    }
    if (req->tool_choice == CW_TOOL_CHOICE_FUNCTION) {
        puts_(e, ",\"tool_choice\":{\"type\":\"function\",\"function\":"
                 "{\"name\":");
        put_json_string(e, req->tool_choice_name, CW_TEXT("tool_choice_name"),
                        0, NULL);
        puts_(e, "}}");
    } else if (req->tool_choice != CW_TOOL_CHOICE_UNSET) {
        puts_(e, ",\"tool_choice\":");
        puts_(e, choices[req->tool_choice]);
    }
    if (req->parallel_tool_calls != 0) {
        puts_(e, req->parallel_tool_calls > 0
                     ? ",\"parallel_tool_calls\":true"
                     : ",\"parallel_tool_calls\":false");
    }
}
#endif

#if CW_CONFIG_CONTENT_PARTS
/* The bytes of a part, base64-encoded as they are read: never more than a
 * few dozen of them held at once. */
static void put_base64(emit_t *e, const cw_content_part_t *p, size_t mi)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t in[CW_B64_BLOCK];
    char out[CW_B64_BLOCK / 3u * 4u];
    size_t have = 0;
    uint64_t got = 0;
    size_t enc = (size_t)((p->size + 2u) / 3u * 4u);
    bool resumed = false;

    if (e->sink == NULL) {
        /* measuring: 4 characters for every 3 bytes or part of 3 */
        e->total += enc;
        return;
    }
#if CW_CONFIG_NONBLOCKING
    if (e->resume != NULL && e->skip > e->total) {
        cw_emit_resume_t *r = e->resume;
        if (e->skip >= e->total + enc) {
            e->total += enc; /* written whole by earlier runs: not read */
            return;
        }
        /* the run stopped inside this part: its reader is where it was,
         * and the block being encoded then is kept */
        got = r->got;
        have = r->have;
        memcpy(in, r->in, have);
        e->total += (size_t)((got - have) / 3u * 4u);
        resumed = true;
    }
#endif
    while (e->rc == CW_OK && (got < p->size || have > 0u)) {
        size_t n3;
        size_t k;
        size_t o = 0;
        if (!resumed && got < p->size && have < sizeof in) {
            uint64_t want = p->size - got;
            int32_t n = p->read(p->read_ctx, in + have,
                                want < sizeof in - have
                                    ? (size_t)want : sizeof in - have);
            if (n < 0) {
                e->rc = n;
                return;
            }
            if (n == 0 || (size_t)n > sizeof in - have) {
                /* fewer bytes than size said (or more than asked) */
                cw_detail(e->res, CW_TEXT("the reader of messages["));
                cw_detail_num(e->res, mi);
                cw_detail(e->res, CW_TEXT("] gave "));
                cw_detail_num(e->res, got + (n > 0 ? (uint64_t)n : 0u));
                cw_detail(e->res, CW_TEXT(" bytes where its size says "));
                cw_detail_num(e->res, p->size);
                e->rc = CW_ERR_REQUEST_CHANGED;
                return;
            }
            have += (size_t)n;
            got += (uint64_t)n;
            if (got < p->size && have < sizeof in) {
                continue; /* fill the block */
            }
        }
        resumed = false;
#if CW_CONFIG_NONBLOCKING
        if (e->resume != NULL) {
            /* where a later run starts again if this one stops inside the
             * block (got - have is a multiple of 3) */
            e->resume->got = got;
            e->resume->have = (uint8_t)have;
            memcpy(e->resume->in, in, have);
        }
#endif
        n3 = got < p->size ? have - have % 3u : have;
        for (k = 0; k + 3u <= n3; k += 3u) {
            uint32_t v = (uint32_t)in[k] << 16 | (uint32_t)in[k + 1u] << 8 |
                         in[k + 2u];
            out[o++] = b64[v >> 18];
            out[o++] = b64[(v >> 12) & 63u];
            out[o++] = b64[(v >> 6) & 63u];
            out[o++] = b64[v & 63u];
        }
        if (k < n3) { /* the last 1 or 2 bytes */
            uint32_t v = (uint32_t)in[k] << 16 |
                         (k + 1u < n3 ? (uint32_t)in[k + 1u] << 8 : 0u);
            out[o++] = b64[v >> 18];
            out[o++] = b64[(v >> 12) & 63u];
            out[o++] = k + 1u < n3 ? b64[(v >> 6) & 63u] : '=';
            out[o++] = '=';
            k = n3;
        }
        put(e, out, o);
        memmove(in, in + k, have - k);
        have -= k;
    }
}

static void put_parts(emit_t *e, const cw_message_ext_t *m, size_t mi)
{
    size_t k;

    for (k = 0; k < m->part_count; k++) {
        const cw_content_part_t *p = &m->parts[k];
        puts_(e, k == 0u ? "[" : ",");
        if (p->type == CW_PART_TEXT) {
            puts_(e, "{\"type\":\"text\",\"text\":");
            put_json_string(e, p->text, CW_TEXT("messages"), mi,
                            CW_TEXT(".parts"));
        } else if (p->type == CW_PART_IMAGE_URL) {
            puts_(e, "{\"type\":\"image_url\",\"image_url\":{\"url\":");
            if (p->read == NULL) {
                put_json_string(e, p->text, CW_TEXT("messages"), mi,
                                CW_TEXT(".parts"));
            } else {
                puts_(e, "\"data:");
                puts_(e, p->mime); /* checked: token characters and '/' */
                puts_(e, ";base64,");
                put_base64(e, p, mi);
                puts_(e, "\"");
            }
            if (p->detail != NULL) {
                puts_(e, ",\"detail\":");
                put_json_string(e, p->detail, CW_TEXT("messages"), mi,
                                CW_TEXT(".parts"));
            }
            puts_(e, "}");
        } else {
            puts_(e, "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"");
            put_base64(e, p, mi);
            puts_(e, "\",\"format\":");
            put_json_string(e, p->mime, CW_TEXT("messages"), mi,
                            CW_TEXT(".parts"));
            puts_(e, "}");
        }
        puts_(e, "}");
    }
    puts_(e, "]");
}
#endif

static void put_message(emit_t *e, const cw_message_t *msg, const ext_t *x,
                        size_t i)
{
#if HAVE_EXT
    const cw_message_ext_t *m = (const cw_message_ext_t *)x;
#else
    (void)x;
#endif
    puts_(e, i == 0u ? "{\"role\":" : ",{\"role\":");
    put_json_string(e, msg->role, CW_TEXT("messages"), i, CW_TEXT(".role"));
#if CW_CONFIG_TOOLS
    if (m != NULL && m->tool_call_id != NULL) {
        puts_(e, ",\"tool_call_id\":");
        put_json_string(e, m->tool_call_id, CW_TEXT("messages"), i,
                        CW_TEXT(".tool_call_id"));
    }
#endif
    puts_(e, ",\"content\":");
#if HAVE_EXT
    if (msg->content == NULL) {
#if CW_CONFIG_CONTENT_PARTS
        if (m != NULL && m->part_count > 0u) {
            put_parts(e, m, i);
        } else
#endif
        {
            puts_(e, "null"); /* an assistant message with tool calls */
        }
    } else
#endif
    {
        put_json_string(e, msg->content, CW_TEXT("messages"), i,
                        CW_TEXT(".content"));
    }
#if CW_CONFIG_TOOLS
    if (m != NULL) {
        put_tool_calls(e, m, i);
    }
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    if (m != NULL && m->extra_json != NULL) {
        put_json_text(e, m->extra_json, true, CW_TEXT("messages"), i,
                      CW_TEXT(".extra_json"));
    }
#endif
    puts_(e, "}");
}

#if CW_CONFIG_REQUEST_OPTIONS
static void put_signed(emit_t *e, int64_t v)
{
    if (v < 0) {
        put(e, "-", 1);
        put_u64(e, (uint64_t)(-(v + 1)) + 1u);
    } else {
        put_u64(e, (uint64_t)v);
    }
}

/* A penalty in [-2, 2], with up to 3 decimals. */
static void put_penalty(emit_t *e, const char *name, float v)
{
    puts_(e, name);
    if (v < 0.0f) {
        put(e, "-", 1);
        v = -v;
    }
    put_decimal(e, v);
}

static void put_options(emit_t *e, const cw_chat_request_t *req)
{
    static const char *const formats[] = {
        "", "{\"type\":\"text\"}", "{\"type\":\"json_object\"}"
    };
    size_t i;

    if (req->temperature >= 0.0f) {
        puts_(e, ",\"temperature\":");
        put_decimal(e, req->temperature);
    }
    if (req->top_p >= 0.0f) {
        puts_(e, ",\"top_p\":");
        put_decimal(e, req->top_p);
    }
    for (i = 0; i < req->stop_count; i++) {
        puts_(e, i == 0u ? ",\"stop\":[" : ",");
        put_json_string(e, req->stop[i], CW_TEXT("stop"), i, "");
    }
    if (req->stop_count > 0u) {
        puts_(e, "]");
    }
    if (req->user != NULL) {
        puts_(e, ",\"user\":");
        put_json_string(e, req->user, CW_TEXT("user"), 0, NULL);
    }
    if (req->max_completion_tokens > 0) {
        puts_(e, ",\"max_completion_tokens\":");
        put_u64(e, (uint64_t)req->max_completion_tokens);
    }
    if (req->reasoning_effort != NULL) {
        puts_(e, ",\"reasoning_effort\":");
        put_json_string(e, req->reasoning_effort, CW_TEXT("reasoning_effort"),
                        0, NULL);
    }
    if (req->response_format == CW_FORMAT_JSON_SCHEMA) {
        puts_(e, ",\"response_format\":{\"type\":\"json_schema\","
                 "\"json_schema\":{\"name\":");
        put_json_string(e, req->json_schema_name, CW_TEXT("json_schema_name"),
                        0, NULL);
        puts_(e, ",\"schema\":");
        put_json_text(e, req->json_schema, false, CW_TEXT("json_schema"), 0,
                      NULL);
        if (req->json_schema_strict) {
            puts_(e, ",\"strict\":true");
        }
        puts_(e, "}}");
    } else if (req->response_format != CW_FORMAT_UNSET) {
        puts_(e, ",\"response_format\":");
        puts_(e, formats[req->response_format]);
    }
    if (req->send_seed) {
        puts_(e, ",\"seed\":");
        put_signed(e, req->seed);
    }
    if (req->send_presence_penalty) {
        put_penalty(e, ",\"presence_penalty\":", req->presence_penalty);
    }
    if (req->send_frequency_penalty) {
        put_penalty(e, ",\"frequency_penalty\":", req->frequency_penalty);
    }
    if (req->safety_identifier != NULL) {
        puts_(e, ",\"safety_identifier\":");
        put_json_string(e, req->safety_identifier,
                        CW_TEXT("safety_identifier"), 0, NULL);
    }
    if (req->prompt_cache_key != NULL) {
        puts_(e, ",\"prompt_cache_key\":");
        put_json_string(e, req->prompt_cache_key, CW_TEXT("prompt_cache_key"),
                        0, NULL);
    }
    if (req->extra_json != NULL) {
        put_json_text(e, req->extra_json, true, CW_TEXT("extra_json"), 0,
                      NULL);
    }
}
#endif

static void body(emit_t *e, const cw_chat_request_t *req)
{
    size_t i;

    puts_(e, "{\"model\":");
    put_json_string(e, req->model != NULL ? req->model : CW_DEFAULT_MODEL,
                    CW_TEXT("model"), 0, NULL);
    puts_(e, ",\"messages\":[");
    for (i = 0; i < req->message_count; i++) {
        put_message(e, &req->messages[i], ext_of(req, i), i);
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
#if CW_CONFIG_TOOLS
    put_tools(e, req);
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    put_options(e, req);
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

/* "io" or "work" when one of the request's arrays lies in that buffer of
 * the client, which the response overwrites. */
static const char *arrays_owned(const cw_chat_request_t *req,
                                const cw_client_t *owner)
{
    const char *which = cw_client_owns(owner, req->messages,
                                       req->message_count *
                                           sizeof req->messages[0]);
    size_t i;

    if (which == NULL) {
        which = cw_client_owns(owner, req->stop,
                               req->stop_count * sizeof req->stop[0]);
    }
#if CW_CONFIG_TOOLS
    if (which == NULL) {
        which = cw_client_owns(owner, req->tools,
                               req->tool_count * sizeof req->tools[0]);
    }
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    if (which == NULL) {
        which = cw_client_owns(owner, req->headers,
                               req->header_count * sizeof req->headers[0]);
    }
#endif
#if HAVE_EXT
    if (which == NULL && req->message_ext != NULL) {
        which = cw_client_owns(owner, req->message_ext,
                               req->message_count *
                                   sizeof req->message_ext[0]);
    }
    for (i = 0; req->message_ext != NULL && i < req->message_count &&
                which == NULL; i++) {
        const cw_message_ext_t *m = &req->message_ext[i];
        (void)m;
#if CW_CONFIG_TOOLS
        which = cw_client_owns(owner, m->tool_calls,
                               m->tool_call_count * sizeof m->tool_calls[0]);
#endif
#if CW_CONFIG_CONTENT_PARTS
        if (which == NULL) {
            which = cw_client_owns(owner, m->parts,
                                   m->part_count * sizeof m->parts[0]);
        }
#endif
    }
#else
    (void)i;
#endif
    return which;
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
    if (owner != NULL && (which = arrays_owned(req, owner)) != NULL) {
        in_client_buffer(&e, which, CW_TEXT("an array of the request"), 0,
                         NULL);
        return e.rc;
    }
    body(&e, req);
    *len = e.total;
    if (e.rc == CW_ERR_INVALID_UTF8) {
        cw_detail(res, "a message, the model, a stop string or another "
                       "string of the request is not valid UTF-8");
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
                            void *sink_ctx, size_t *total CW_EMIT_RES_PARAM
                            CW_EMIT_RESUME_PARAM)
{
    emit_t e;

    if (sink != NULL && (buf == NULL || cap == 0u)) {
        return CW_ERR_INVALID_ARG;
    }
    emit_init(&e, buf, cap, sink, sink_ctx);
#if CW_CONFIG_CONTENT_PARTS
    e.res = res;
#endif
#if CW_CONFIG_NONBLOCKING
    e.resume = resume;
    e.skip = resume != NULL ? resume->skip : 0u;
#endif
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
#if CW_CONFIG_REQUEST_OPTIONS
    puts_(&e, "\r\nUser-Agent: chatwire/" CW_VERSION_STRING "\r\n");
    {
        size_t i;
        for (i = 0; i < req->header_count; i++) {
            puts_(&e, req->headers[i]);
            puts_(&e, "\r\n");
        }
    }
    puts_(&e, "Content-Length: ");
#else
    puts_(&e, "\r\nUser-Agent: chatwire/" CW_VERSION_STRING
              "\r\nContent-Length: ");
#endif
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

int cw_request_rewind(const cw_chat_request_t *req, cw_result_t *res)
{
#if CW_CONFIG_CONTENT_PARTS
    size_t i;
    size_t k;

    for (i = 0; req->message_ext != NULL && i < req->message_count; i++) {
        const cw_message_ext_t *m = &req->message_ext[i];
        for (k = 0; k < m->part_count; k++) {
            const cw_content_part_t *p = &m->parts[k];
            int rc;
            if (p->read == NULL || p->type == CW_PART_TEXT) {
                continue;
            }
            rc = p->rewind != NULL ? p->rewind(p->read_ctx)
                                   : CW_ERR_INVALID_ARG;
            if (rc != CW_OK) {
                cw_detail(res, CW_TEXT("; not retried: the reader of "
                                       "messages["));
                cw_detail_num(res, i);
                cw_detail(res, CW_TEXT("].parts["));
                cw_detail_num(res, k);
                cw_detail(res, p->rewind != NULL
                                   ? CW_TEXT("] did not rewind")
                                   : CW_TEXT("] cannot rewind (no rewind "
                                             "function)"));
                return rc;
            }
        }
    }
#else
    (void)req;
    (void)res;
#endif
    return CW_OK;
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
                           sink_ctx, total CW_EMIT_RES(NULL)
                           CW_EMIT_RESUME(NULL));
}
