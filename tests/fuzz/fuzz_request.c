/*
 * fuzz_request.c - the request writer on strings built from the input.
 *
 * Input layout:
 *   [0] flags: bit0 stream, bit1 include_usage, bit2 api-key auth (else
 *       Bearer), bit3 model given, bit4 user given, bit5 API key given
 *   [1] temperature: 0xff not sent, else value / 100 (0..2.54; > 2 refused)
 *   [2] top_p: 0xff not sent, else value / 200 (0..1.27; > 1 refused)
 *   [3] max_tokens: (int8_t) value * 37 (<= 0: not sent)
 *   [4] low nibble: message count (0..15, more than MAX_MSG is clamped),
 *       high nibble: stop count (0..15; > 4 refused)
 *   then NUL-separated strings, taken in order: model, API key, user (each
 *   only when its flag is set), the stop strings, then role and content of
 *   each message. Missing strings are "user" for roles and "" otherwise.
 *
 * Checked:
 *   - the return code is the one an independent reading of the contract
 *     predicts (CW_ERR_INVALID_ARG, then CW_ERR_INVALID_UTF8 from a separate
 *     validator, else CW_OK), and on error the sink was never called;
 *   - the bytes are identical with buffer sizes 1, 7 and 256, with *total,
 *     and with a count-only run (sink NULL);
 *   - the head has no control bytes except its CRLFs, Content-Length equals
 *     the body's size, and the body equals cw_request_write_body's output;
 *   - the body has no raw control bytes, and a small JSON reader written
 *     here finds model, messages (role, content), stop, user, stream,
 *     max_tokens, temperature and top_p with the values that went in;
 *   - a sink that fails after some bytes makes the write return its error,
 *     having delivered a prefix of the request;
 *   - cw_utf8_valid agrees with the validator here on every string, and
 *     cw_utf8_tail gives the length of the cut sequence for every prefix.
 */
#include "cw_internal.h"
#include "fuzz_common.h"

#define MAX_MSG 8u
#define MAX_STR (3u + 15u + 2u * MAX_MSG)
#define OUT_MAX (1u << 20)

typedef struct sink {
    uint8_t *out;
    size_t len;
    size_t calls;
    size_t fail_after; /* return CW_ERR_IO once len would pass this */
} sink_t;

static uint8_t outs[4][OUT_MAX];
static char strs[MAX_STR][4096 + 1];
static char body_copy[OUT_MAX];

static int sink_fn(void *ctx, const uint8_t *data, size_t len)
{
    sink_t *s = (sink_t *)ctx;

    FUZZ_CHECK(len > 0u, "empty sink call");
    s->calls++;
    if (s->len + len > s->fail_after) {
        return CW_ERR_IO;
    }
    FUZZ_CHECK(s->len + len <= OUT_MAX, "request larger than %u", OUT_MAX);
    memcpy(s->out + s->len, data, len);
    s->len += len;
    return CW_OK;
}

/* ------------------------------------------------------------ UTF-8 */

static void utf8_checks(const char *s)
{
    size_t len = strlen(s);
    size_t k;
    bool valid = fuzz_utf8_valid((const uint8_t *)s, len);

    FUZZ_CHECK(cw_utf8_valid(s, len) == valid,
               "cw_utf8_valid says %d, reference %d", !valid, valid);
    if (!valid) {
        return;
    }
    /* every prefix of valid text: the tail is the cut sequence's length */
    for (k = 0; k <= len; k++) {
        size_t start = k;
        size_t expect = 0;
        while (start > 0u && ((uint8_t)s[start - 1u] & 0xc0u) == 0x80u) {
            start--;
        }
        if (start > 0u) {
            uint8_t lead = (uint8_t)s[start - 1u];
            size_t need = lead < 0x80u ? 1u : lead < 0xe0u ? 2u
                                            : lead < 0xf0u ? 3u : 4u;
            size_t have = k - (start - 1u);
            expect = have < need ? have : 0u;
        }
        FUZZ_CHECK(cw_utf8_tail(s, k) == expect,
                   "cw_utf8_tail(prefix %zu) = %zu, expected %zu", k,
                   cw_utf8_tail(s, k), expect);
    }
}

/* ------------------------------------------------------------ JSON reader */

/* A minimal reader for the writer's output (no white space, known shapes). */
typedef struct rd {
    const char *p;
    const char *end;
} rd_t;

static bool lit(rd_t *r, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, s, n) != 0) {
        return false;
    }
    r->p += n;
    return true;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Reads a JSON string the writer produced and checks it decodes to want. */
static bool jstr(rd_t *r, const char *want)
{
    size_t w = 0;
    size_t wl = strlen(want);

    if (!lit(r, "\"")) {
        return false;
    }
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if ((uint8_t)c < 0x20u) {
            return false; /* raw control byte in a string */
        }
        if (c == '\\') {
            if (r->p >= r->end) {
                return false;
            }
            c = *r->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                int v = 0;
                int i;
                if (r->end - r->p < 4) {
                    return false;
                }
                for (i = 0; i < 4; i++) {
                    int h = hexv(r->p[i]);
                    if (h < 0) {
                        return false;
                    }
                    v = v * 16 + h;
                }
                r->p += 4;
                if (v >= 0x20 || v == 0) {
                    return false; /* the writer escapes only controls */
                }
                c = (char)v;
                break;
            }
            default:
                return false;
            }
        }
        if (w >= wl || want[w] != c) {
            return false;
        }
        w++;
    }
    return w == wl && lit(r, "\"");
}

/* A number the writer produced; *v gets its value. */
static bool jnum(rd_t *r, double *v)
{
    double x = 0;
    double scale = 0;
    bool digits = false;

    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.')) {
        if (*r->p == '.') {
            if (scale != 0) {
                return false;
            }
            scale = 1;
        } else {
            x = x * 10 + (*r->p - '0');
            scale *= 10;
            digits = true;
        }
        r->p++;
    }
    *v = scale > 1 ? x / scale : x;
    return digits;
}

/* ------------------------------------------------------------ the target */

typedef struct input {
    cw_chat_request_t req;
    cw_message_t msgs[MAX_MSG];
    const char *stops[16];
    const char *key;
    cw_auth_style_t auth;
    float temp;
    float top_p;
} input_t;

static input_t in;

static bool key_ok(const char *k)
{
    for (; *k != '\0'; k++) {
        if ((uint8_t)*k <= 0x20u || (uint8_t)*k >= 0x7fu) {
            return false;
        }
    }
    return true;
}

static int expected_rc(const input_t *x)
{
    const cw_chat_request_t *r = &x->req;
    size_t i;
    bool utf8 = true;

    if ((x->key != NULL && !key_ok(x->key)) || r->message_count == 0u ||
        r->stop_count > 4u || (r->include_usage && !r->stream) ||
        r->temperature > 2.0f || r->top_p > 1.0f ||
        (r->model != NULL && r->model[0] == '\0')) {
        return CW_ERR_INVALID_ARG;
    }
    for (i = 0; i < r->message_count; i++) {
        if (r->messages[i].role[0] == '\0') {
            return CW_ERR_INVALID_ARG;
        }
    }
#define U8(s) fuzz_utf8_valid((const uint8_t *)(s), strlen(s))
    utf8 = U8(r->model != NULL ? r->model : CW_DEFAULT_MODEL) &&
           (r->user == NULL || U8(r->user));
    for (i = 0; i < r->message_count; i++) {
        utf8 = utf8 && U8(r->messages[i].role) && U8(r->messages[i].content);
    }
    for (i = 0; i < r->stop_count; i++) {
        utf8 = utf8 && U8(r->stop[i]);
    }
#undef U8
    return utf8 ? CW_OK : CW_ERR_INVALID_UTF8;
}

static void check_body(const input_t *x, const char *b, size_t n)
{
    const cw_chat_request_t *r = &x->req;
    rd_t rd = {b, b + n};
    size_t i;
    double v;

    for (i = 0; i < n; i++) {
        FUZZ_CHECK((uint8_t)b[i] >= 0x20u, "raw control byte 0x%02x in body",
                   (uint8_t)b[i]);
    }
    FUZZ_CHECK(lit(&rd, "{\"model\":") &&
               jstr(&rd, r->model != NULL ? r->model : CW_DEFAULT_MODEL),
               "model");
    FUZZ_CHECK(lit(&rd, ",\"messages\":["), "messages");
    for (i = 0; i < r->message_count; i++) {
        FUZZ_CHECK((i == 0u || lit(&rd, ",")) && lit(&rd, "{\"role\":") &&
                   jstr(&rd, r->messages[i].role) &&
                   lit(&rd, ",\"content\":") &&
                   jstr(&rd, r->messages[i].content) && lit(&rd, "}"),
                   "message %zu", i);
    }
    FUZZ_CHECK(lit(&rd, "]"), "end of messages");
    if (r->stream) {
        FUZZ_CHECK(lit(&rd, ",\"stream\":true"), "stream");
        if (r->include_usage) {
            FUZZ_CHECK(lit(&rd, ",\"stream_options\":{\"include_usage\":true}"),
                       "include_usage");
        }
    }
    if (r->max_tokens > 0) {
        FUZZ_CHECK(lit(&rd, ",\"max_tokens\":") && jnum(&rd, &v) &&
                   v == (double)r->max_tokens, "max_tokens");
    }
    if (r->temperature >= 0.0f) {
        FUZZ_CHECK(lit(&rd, ",\"temperature\":") && jnum(&rd, &v) &&
                   v - r->temperature < 0.0006 &&
                   r->temperature - v < 0.0006, "temperature");
    }
    if (r->top_p >= 0.0f) {
        FUZZ_CHECK(lit(&rd, ",\"top_p\":") && jnum(&rd, &v) &&
                   v - r->top_p < 0.0006 && r->top_p - v < 0.0006, "top_p");
    }
    for (i = 0; i < r->stop_count; i++) {
        FUZZ_CHECK(lit(&rd, i == 0u ? ",\"stop\":[" : ",") &&
                   jstr(&rd, r->stop[i]), "stop %zu", i);
    }
    if (r->stop_count > 0u) {
        FUZZ_CHECK(lit(&rd, "]"), "end of stop");
    }
    if (r->user != NULL) {
        FUZZ_CHECK(lit(&rd, ",\"user\":") && jstr(&rd, r->user), "user");
    }
    FUZZ_CHECK(lit(&rd, "}") && rd.p == rd.end, "end of body");
}

static void check_head(const char *h, size_t n, size_t body_len)
{
    static const char cl[] = "\r\nContent-Length: ";
    const char *p;
    size_t i;
    unsigned long long v = 0;

    FUZZ_CHECK(n >= 4u && memcmp(h + n - 4u, "\r\n\r\n", 4) == 0,
               "head does not end with a blank line");
    for (i = 0; i < n; i++) {
        uint8_t c = (uint8_t)h[i];
        if (c == '\r') {
            FUZZ_CHECK(i + 1u < n && h[i + 1u] == '\n', "bare CR in head");
        } else if (c == '\n') {
            FUZZ_CHECK(i > 0u && h[i - 1u] == '\r', "bare LF in head");
        } else {
            FUZZ_CHECK(c >= 0x20u && c < 0x7fu, "byte 0x%02x in head", c);
        }
    }
    p = strstr(h, cl);
    FUZZ_CHECK(p != NULL, "no Content-Length");
    for (p += sizeof cl - 1u; *p >= '0' && *p <= '9'; p++) {
        v = v * 10u + (unsigned long long)(*p - '0');
    }
    FUZZ_CHECK(v == body_len, "Content-Length %llu, body %zu", v, body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[3] = {1, 7, 256};
    static uint8_t buf[256];
    cw_url_t url;
    cw_chat_request_t *r = &in.req;
    size_t nstr = 0;
    size_t si = 0;
    size_t off;
    size_t i;
    size_t nmsg;
    size_t total = 0;
    size_t total0 = 0;
    int expect;
    int rc;
    uint8_t flags;

    if (size < 5u) {
        return 0;
    }
    FUZZ_CHECK(cw_url_parse("https://api.example.com:8443/v1?api-version=1",
                            &url) == CW_OK, "url");

    /* split the rest into NUL-terminated strings */
    off = 5;
    while (off < size && nstr < MAX_STR) {
        size_t k = 0;
        while (off < size && data[off] != 0u && k < sizeof strs[0] - 1u) {
            strs[nstr][k++] = (char)data[off++];
        }
        strs[nstr][k] = '\0';
        nstr++;
        off++; /* the separator */
    }
#define NEXT(dflt) (si < nstr ? strs[si++] : (dflt))
    flags = data[0];
    nmsg = data[4] & 0x0fu;
    if (nmsg > MAX_MSG) {
        nmsg = MAX_MSG;
    }
    cw_chat_request_init(r, in.msgs, nmsg);
    r->stream = (flags & 0x01u) != 0u;
    r->include_usage = (flags & 0x02u) != 0u;
    in.auth = (flags & 0x04u) != 0u ? CW_AUTH_API_KEY : CW_AUTH_BEARER;
    r->model = (flags & 0x08u) != 0u ? NEXT("") : NULL;
    in.key = (flags & 0x20u) != 0u ? NEXT("") : NULL;
    r->user = (flags & 0x10u) != 0u ? NEXT("") : NULL;
    r->temperature = data[1] == 0xffu ? -1.0f : (float)data[1] / 100.0f;
    r->top_p = data[2] == 0xffu ? -1.0f : (float)data[2] / 200.0f;
    r->max_tokens = (int32_t)(int8_t)data[3] * 37;
    r->stop_count = (size_t)(data[4] >> 4);
    for (i = 0; i < r->stop_count; i++) {
        in.stops[i] = NEXT("");
    }
    r->stop = in.stops;
    for (i = 0; i < nmsg; i++) {
        in.msgs[i].role = NEXT("user");
        in.msgs[i].content = NEXT("");
    }
#undef NEXT
    for (i = 0; i < nstr; i++) {
        utf8_checks(strs[i]);
    }

    expect = expected_rc(&in);
    rc = cw_request_write(&url, in.key, in.auth, r, NULL, 0, NULL, NULL,
                          &total0);
    FUZZ_CHECK(rc == expect, "count-only run returned %d, expected %d", rc,
               expect);
    for (i = 0; i < 3u; i++) {
        sink_t s = {outs[i], 0, 0, SIZE_MAX};
        rc = cw_request_write(&url, in.key, in.auth, r, buf, caps[i], sink_fn,
                              &s, &total);
        FUZZ_CHECK(rc == expect, "cap %zu returned %d, expected %d", caps[i],
                   rc, expect);
        if (rc != CW_OK) {
            FUZZ_CHECK(s.calls == 0u, "error %d after %zu sink calls", rc,
                       s.calls);
            return 0;
        }
        FUZZ_CHECK(total == s.len && total == total0,
                   "cap %zu: total %zu, sink got %zu, count-only %zu",
                   caps[i], total, s.len, total0);
        FUZZ_CHECK(memcmp(outs[i], outs[0], total) == 0,
                   "cap %zu: bytes differ", caps[i]);
    }

    /* head and body */
    {
        const uint8_t *sep = NULL;
        size_t head_len;
        size_t body_len = 0;
        sink_t s = {outs[3], 0, 0, SIZE_MAX};

        for (i = 0; i + 4u <= total; i++) {
            if (memcmp(outs[0] + i, "\r\n\r\n", 4) == 0) {
                sep = outs[0] + i;
                break;
            }
        }
        FUZZ_CHECK(sep != NULL, "no end of head");
        head_len = (size_t)(sep - outs[0]) + 4u;
        memcpy(body_copy, outs[0], head_len);
        body_copy[head_len] = '\0';
        check_head(body_copy, head_len, total - head_len);
        rc = cw_request_write_body(r, buf, 13, sink_fn, &s, &body_len);
        FUZZ_CHECK(rc == CW_OK && body_len == s.len &&
                   body_len == total - head_len &&
                   memcmp(outs[3], outs[0] + head_len, body_len) == 0,
                   "cw_request_write_body differs from the request's body");
        check_body(&in, (const char *)outs[0] + head_len, body_len);
    }

    /* a sink that fails part-way */
    {
        sink_t s = {outs[1], 0, 0, (size + total) % (total + 1u)};
        rc = cw_request_write(&url, in.key, in.auth, r, buf, 7, sink_fn, &s,
                              NULL);
        if (s.fail_after >= total) {
            FUZZ_CHECK(rc == CW_OK, "no failure expected, got %d", rc);
        } else {
            FUZZ_CHECK(rc == CW_ERR_IO, "failing sink: got %d", rc);
            FUZZ_CHECK(memcmp(outs[1], outs[0], s.len) == 0,
                       "failing sink: not a prefix");
        }
    }
    return 0;
}
