/*
 * test_http.c - the HTTP/1.1 response parser alone: framing rules, limits,
 * refusals with their offsets, and split independence.
 */
#include "cw_internal.h"
#include "cw_test.h"

typedef struct sink {
    char body[8192];
    size_t len;
    int headers_calls;
} sink_t;

static int on_headers(void *user)
{
    ((sink_t *)user)->headers_calls++;
    return CW_OK;
}

static int on_body(void *user, const uint8_t *data, size_t len)
{
    sink_t *s = (sink_t *)user;
    if (s->len + len >= sizeof s->body) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(s->body + s->len, data, len);
    s->len += len;
    s->body[s->len] = '\0';
    return CW_OK;
}

typedef struct outcome {
    int rc;
    bool done;
    size_t consumed;
    uint64_t offset;
} outcome_t;

static cw_http_parser_t parser;
static cw_http_info_t info;
static sink_t sink;

/* Feeds text in slices of `step` bytes (0: all at once). */
static outcome_t feed(const char *text, size_t len, size_t step)
{
    outcome_t o;
    size_t pos = 0;

    memset(&sink, 0, sizeof sink);
    memset(&o, 0, sizeof o);
    cw_http_init(&parser, &info, on_headers, on_body, &sink);
    while (pos < len) {
        size_t n = (step == 0u || step > len - pos) ? len - pos : step;
        size_t used = 0;
        o.rc = cw_http_feed(&parser, (const uint8_t *)text + pos, n, &used);
        pos += used;
        o.consumed = pos;
        if (o.rc != CW_OK || cw_http_done(&parser)) {
            break;
        }
    }
    o.done = cw_http_done(&parser);
    o.offset = cw_http_error_offset(&parser);
    return o;
}

static outcome_t feed_str(const char *text)
{
    return feed(text, strlen(text), 0);
}

/* Whether two parses kept the same header information. */
static bool same_info(const cw_http_info_t *a, const cw_http_info_t *b)
{
    return a->status == b->status && a->keep_alive == b->keep_alive &&
           a->truncated == b->truncated &&
           a->retry_after_ms == b->retry_after_ms &&
           a->should_retry == b->should_retry &&
           a->ratelimit_remaining_requests == b->ratelimit_remaining_requests &&
           a->ratelimit_remaining_tokens == b->ratelimit_remaining_tokens &&
           strcmp(a->content_type, b->content_type) == 0 &&
           strcmp(a->request_id, b->request_id) == 0 &&
           strcmp(a->retry_after, b->retry_after) == 0 &&
           strcmp(a->ratelimit_reset_requests,
                  b->ratelimit_reset_requests) == 0 &&
           strcmp(a->ratelimit_reset_tokens, b->ratelimit_reset_tokens) == 0;
}

/* Same outcome, body and kept headers for every step size from 1 to 17:
 * whole (the fast paths take complete lines) and sliced (lines split
 * across feeds go byte by byte) must agree. */
static void check_steps(const char *text)
{
    outcome_t ref = feed_str(text);
    char body[8192];
    cw_http_info_t ref_info = info;
    size_t step;

    memcpy(body, sink.body, sink.len + 1u);
    for (step = 1; step <= 17; step++) {
        outcome_t o = feed(text, strlen(text), step);
        if (o.rc != ref.rc || o.done != ref.done ||
            o.consumed != ref.consumed || strcmp(body, sink.body) != 0 ||
            (o.rc != CW_OK && o.offset != ref.offset) ||
            !same_info(&ref_info, &info)) {
            fprintf(stderr, "step %zu differs for %.40s...\n", step, text);
            cw_test_failures++;
            return;
        }
    }
}

TEST(test_content_length_body_and_pipelined_bytes_left_alone)
{
    static const char r[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200";
    outcome_t o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_OK);
    CHECK(o.done);
    CHECK_EQ_STR(sink.body, "hello");
    CHECK_EQ_INT(o.consumed, strlen(r) - strlen("HTTP/1.1 200"));
    CHECK_EQ_INT(sink.headers_calls, 1);
    CHECK(info.keep_alive);
    check_steps(r);
}

TEST(test_chunked_with_extensions_and_trailers)
{
    static const char r[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;a=b\r\nhello\r\n1 ; x=\"y;z\"\r\n \r\n"
        "A\r\n0123456789\r\n0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n";
    outcome_t o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_OK);
    CHECK(o.done);
    CHECK_EQ_STR(sink.body, "hello 0123456789");
    check_steps(r);
}

TEST(test_chunked_wins_over_content_length_and_closes)
{
    static const char r[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
        "Transfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    outcome_t o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_OK);
    CHECK(o.done);
    CHECK_EQ_STR(sink.body, "abc");
    CHECK(!info.keep_alive);
}

TEST(test_close_delimited_body_ends_at_finish)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nabc";
    outcome_t o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_OK);
    CHECK(!o.done);
    CHECK_EQ_INT(cw_http_finish(&parser), CW_OK);
    CHECK_EQ_STR(sink.body, "abc");
    CHECK(!info.keep_alive);

    feed_str("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    CHECK_EQ_INT(cw_http_finish(&parser), CW_ERR_CLOSED);
    feed_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc");
    CHECK_EQ_INT(cw_http_finish(&parser), CW_ERR_CLOSED);
    feed_str("HTTP/1.1 200 OK\r\nContent-Le");
    CHECK_EQ_INT(cw_http_finish(&parser), CW_ERR_CLOSED);
}

TEST(test_connection_semantics)
{
    feed_str("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    CHECK(!info.keep_alive);
    feed_str("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK(!info.keep_alive);
    feed_str("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
             "Content-Length: 0\r\n\r\n");
    CHECK(info.keep_alive);
    feed_str("HTTP/1.1 200 OK\r\nConnection: keep-alive, Upgrade\r\n"
             "Content-Length: 0\r\n\r\n");
    CHECK(info.keep_alive);
}

TEST(test_no_body_statuses_and_interim_responses)
{
    outcome_t o = feed_str("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n");
    CHECK(o.done);
    CHECK_EQ_INT(info.status, 204);
    o = feed_str("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                 "Link: </x>\r\n\r\nHTTP/1.1 201 Created\r\n"
                 "Content-Length: 2\r\n\r\nok");
    CHECK(o.done);
    CHECK_EQ_INT(info.status, 201);
    CHECK_EQ_STR(sink.body, "ok");
    CHECK_EQ_INT(sink.headers_calls, 1);
    o = feed_str("HTTP/1.1 101 Switching Protocols\r\n\r\n");
    CHECK_EQ_INT(o.rc, CW_ERR_MALFORMED);
}

TEST(test_kept_headers_case_insensitive_and_trimmed)
{
    outcome_t o = feed_str(
        "HTTP/1.1 429 Too Many Requests\r\nX-REQUEST-ID:\treq_1 \t\r\n"
        "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\nretry-after-ms: 250\r\n"
        "X-Should-Retry: False\r\nx-ratelimit-remaining-tokens: 12\r\n"
        "x-ratelimit-reset-tokens: 1m30s\r\nx-ratelimit-reset-requestsx: no\r\n"
        "content-length: 0\r\n\r\n");
    CHECK(o.done);
    CHECK_EQ_INT(info.status, 429);
    CHECK_EQ_STR(info.request_id, "req_1");
#if CW_CONFIG_RETRIES
    CHECK_EQ_STR(info.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    CHECK_EQ_INT(info.retry_after_ms, 250);
    CHECK_EQ_INT(info.should_retry, 0);
#else
    CHECK_EQ_STR(info.retry_after, ""); /* compiled out: not kept */
    CHECK_EQ_INT(info.retry_after_ms, -1);
    CHECK_EQ_INT(info.should_retry, -1);
#endif
#if CW_CONFIG_RATELIMIT_HEADERS
    CHECK_EQ_INT(info.ratelimit_remaining_tokens, 12);
    CHECK_EQ_STR(info.ratelimit_reset_tokens, "1m30s");
#else
    CHECK_EQ_INT(info.ratelimit_remaining_tokens, -1);
    CHECK_EQ_STR(info.ratelimit_reset_tokens, "");
#endif
    CHECK_EQ_INT(info.ratelimit_remaining_requests, -1);
    CHECK_EQ_STR(info.ratelimit_reset_requests, "");
    CHECK_EQ_INT(info.truncated, 0);
}

TEST(test_long_kept_value_is_cut_and_flagged)
{
    char r[512];
    char want[CW_HEADER_VALUE_MAX];
    memset(want, 'a', sizeof want - 1u);
    want[sizeof want - 1u] = '\0';
    snprintf(r, sizeof r,
             "HTTP/1.1 200 OK\r\nx-request-id: %s%s\r\n"
             "Content-Length: 0\r\n\r\n", want, "bbbbbbbb");
    CHECK(feed_str(r).done);
    CHECK_EQ_INT(strlen(info.request_id), CW_HEADER_VALUE_MAX - 1u);
    CHECK(info.truncated & CW_TRUNC_REQUEST_ID);
    CHECK_EQ_INT(info.truncated & ~CW_TRUNC_REQUEST_ID, 0);
}

TEST(test_whole_lines_and_split_lines_agree)
{
    /* every shape the whole-line fast path handles, or hands back to the
     * byte-wise machine, against every slicing */
    static const char *const rs[] = {
        "HTTP/1.1 200 OK\r\ncontent-type:application/json\r\n"
        "X-Request-Id:  \t req_1 \t \r\nx-empty:\r\nx-blank: \t \r\n"
        "Connection: keep-alive , close\r\nContent-Length:  2 \r\n"
        "x-obs-text: caf\xc3\xa9\r\nx-a-name-longer-than-thirty-two-bytes-ok: 1"
        "\r\nx-ratelimit-remaining-tokens: 12\r\nretry-after-ms: 1000.5\r\n"
        "X-SHOULD-RETRY: TRUE\r\nretry-after: 7\r\n\r\nok",
        /* LF-only line ends, a value cut at CW_HEADER_VALUE_MAX with
         * blanks after the cut (not flagged) and one with text (flagged) */
        "HTTP/1.1 429 Slow down\nx-request-id: "
        "0123456789012345678901234567890123456789012345678901234567890   \n"
        "content-type: "
        "0123456789012345678901234567890123456789012345678901234567890  x\n"
        "transfer-encoding: gzip, chunked\n\n3\r\nabc\r\n0\r\n\r\n",
        /* errors the byte-wise machine must find at the same byte */
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nx-a: b\rc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nx-a: b\x01c\r\n\r\n",
        "HTTP/1.1 200 OK\r\nx a: b\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nx-a\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nx-a: b\x7f\r\n\r\n",
    };
    size_t i;

    for (i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        check_steps(rs[i]);
    }
    CHECK(feed_str(rs[1]).done);
    CHECK_EQ_INT(info.status, 429);
    CHECK_EQ_INT(strlen(info.request_id), 61u); /* cut blanks, trimmed */
    CHECK_EQ_INT(info.truncated, CW_TRUNC_CONTENT_TYPE);
    CHECK_EQ_STR(sink.body, "abc");
    CHECK_EQ_INT(feed_str(rs[2]).rc, CW_ERR_MALFORMED);
    CHECK_EQ_INT(feed_str(rs[3]).rc, CW_ERR_MALFORMED);
}

TEST(test_bad_numbers_in_informational_headers_are_ignored)
{
    CHECK(feed_str("HTTP/1.1 200 OK\r\nretry-after-ms: soon\r\n"
                   "x-ratelimit-remaining-requests: 99999999999999999999999\r\n"
                   "Content-Length: 0\r\n\r\n").done);
    CHECK_EQ_INT(info.retry_after_ms, -1);
    CHECK_EQ_INT(info.ratelimit_remaining_requests, -1);
}

/* Each must be refused with CW_ERR_MALFORMED at the given byte. */
static void check_malformed(const char *r, size_t offset)
{
    outcome_t o = feed_str(r);
    if (o.rc != CW_ERR_MALFORMED || o.offset != offset) {
        fprintf(stderr, "want MALFORMED at %zu, got rc %d at %llu for: %s\n",
                offset, o.rc, (unsigned long long)o.offset, r);
        cw_test_failures++;
    }
    check_steps(r);
}

TEST(test_malformed_responses_refused_with_offset)
{
    check_malformed("HTTP/2 200 OK\r\n", 5);
    check_malformed("ICY 200 OK\r\n", 0);
    check_malformed("HTTP/1.1 20 OK\r\n", 11);
    check_malformed("HTTP/1.1 099 OK\r\n", 9);
    check_malformed("HTTP/1.1 200 OK\rX", 16);
    check_malformed("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", 23);
    check_malformed("HTTP/1.1 200 OK\r\nBad Name: b\r\n\r\n", 20);
    check_malformed("HTTP/1.1 200 OK\r\nName : b\r\n\r\n", 21);
    check_malformed("HTTP/1.1 200 OK\r\n: b\r\n\r\n", 17);
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", 37);
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 36);
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\n", 54);
    check_malformed("HTTP/1.1 200 OK\r\nContent-Length:"
                    " 99999999999999999999999\r\n\r\n", 57);
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "fffffffffffffffff\r\n", 62);
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabcd\r\n", 53);
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3x\r\nabc\r\n", 48);
    check_malformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "\r\n", 47);
    check_malformed("HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", 21);
}

TEST(test_line_and_section_limits)
{
    static char r[CW_HTTP_MAX_HEADER_SECTION + 4096];
    size_t n;
    outcome_t o;

    n = (size_t)snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(r + n, 'v', CW_HTTP_MAX_LINE);
    memcpy(r + n + CW_HTTP_MAX_LINE, "\r\n\r\n", 5);
    o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_ERR_HEADER_TOO_LARGE);
    CHECK_EQ_INT(o.offset, 17u + CW_HTTP_MAX_LINE);

    n = (size_t)snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\n");
    while (n + 64u < sizeof r - 8u) {
        n += (size_t)snprintf(r + n, sizeof r - n, "X-Filler: %050d\r\n", 1);
    }
    memcpy(r + n, "\r\n", 3);
    o = feed_str(r);
    CHECK_EQ_INT(o.rc, CW_ERR_HEADER_TOO_LARGE);
    CHECK_EQ_INT(o.offset, CW_HTTP_MAX_HEADER_SECTION);

    /* a line just under the limit is fine */
    n = (size_t)snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(r + n, 'v', CW_HTTP_MAX_LINE - 10u);
    memcpy(r + n + CW_HTTP_MAX_LINE - 10u, "\r\nContent-Length: 0\r\n\r\n",
           24);
    CHECK(feed_str(r).done);
}

static int refuse_headers(void *user)
{
    (void)user;
    return CW_ERR_BUFFER_TOO_SMALL;
}

TEST(test_callback_errors_stop_the_parser)
{
    size_t used = 0;
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    cw_http_init(&parser, &info, refuse_headers, on_body, &sink);
    CHECK_EQ_INT(cw_http_feed(&parser, (const uint8_t *)r, strlen(r), &used),
                 CW_ERR_BUFFER_TOO_SMALL);
    CHECK(!cw_http_done(&parser));
    CHECK_EQ_INT(cw_http_feed(&parser, (const uint8_t *)"x", 1, &used),
                 CW_ERR_MALFORMED);
    CHECK_EQ_INT(used, 0);
}

static const cw_test_case_t tests[] = {
    T(test_content_length_body_and_pipelined_bytes_left_alone),
    T(test_chunked_with_extensions_and_trailers),
    T(test_chunked_wins_over_content_length_and_closes),
    T(test_close_delimited_body_ends_at_finish),
    T(test_connection_semantics),
    T(test_no_body_statuses_and_interim_responses),
    T(test_kept_headers_case_insensitive_and_trimmed),
    T(test_long_kept_value_is_cut_and_flagged),
    T(test_whole_lines_and_split_lines_agree),
    T(test_bad_numbers_in_informational_headers_are_ignored),
    T(test_malformed_responses_refused_with_offset),
    T(test_line_and_section_limits),
    T(test_callback_errors_stop_the_parser),
};

CW_TEST_MAIN(tests)
