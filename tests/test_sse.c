/*
 * test_sse.c - the server-sent events splitter alone.
 */
#include "cw_internal.h"
#include "cw_test.h"

typedef struct events {
    char log[4096]; /* "event|data\n" per event */
    size_t len;
    int count;
} events_t;

static int on_event(void *user, const char *event, char *data, size_t len)
{
    events_t *e = (events_t *)user;
    int n;
    if (data[len] != '\0') {
        return CW_ERR_MALFORMED; /* the NUL after the data is promised */
    }
    n = snprintf(e->log + e->len, sizeof e->log - e->len, "%s|%.*s\n", event,
                 (int)len, data);
    if (n > 0) {
        e->len += (size_t)n;
    }
    e->count++;
    return CW_OK;
}

static events_t ev;
static char buf[256];

static int feed(const char *text, size_t step)
{
    cw_sse_parser_t s;
    size_t len = strlen(text);
    size_t pos = 0;
    int rc = CW_OK;

    memset(&ev, 0, sizeof ev);
    cw_sse_init(&s, buf, sizeof buf, on_event, &ev);
    while (pos < len && rc == CW_OK) {
        size_t n = (step == 0u || step > len - pos) ? len - pos : step;
        rc = cw_sse_feed(&s, (const uint8_t *)text + pos, n);
        pos += n;
    }
    cw_sse_finish(&s);
    return rc;
}

/* Whole, at every split offset and byte by byte: the same events. */
static void check(const char *text, const char *want, int want_rc)
{
    static char ref[4096];
    size_t len = strlen(text);
    size_t k;
    int rc = feed(text, 0);

    CHECK_EQ_INT(rc, want_rc);
    CHECK_EQ_STR(ev.log, want);
    memcpy(ref, ev.log, ev.len + 1u);
    for (k = 1; k <= len; k++) {
        cw_sse_parser_t s;
        memset(&ev, 0, sizeof ev);
        cw_sse_init(&s, buf, sizeof buf, on_event, &ev);
        rc = cw_sse_feed(&s, (const uint8_t *)text, k);
        if (rc == CW_OK) {
            rc = cw_sse_feed(&s, (const uint8_t *)text + k, len - k);
        }
        if (rc != want_rc || strcmp(ev.log, ref) != 0) {
            fprintf(stderr, "split at %zu differs: [%s] vs [%s]\n", k, ev.log,
                    ref);
            cw_test_failures++;
            return;
        }
    }
    rc = feed(text, 1);
    CHECK_EQ_INT(rc, want_rc);
    CHECK_EQ_STR(ev.log, ref);
}

TEST(test_data_lines_joined_with_newline)
{
    check("data: a\ndata: b\ndata\ndata:c\n\n", "|a\nb\n\nc\n", CW_OK);
}

TEST(test_line_ends_lf_crlf_cr_mixed)
{
    check("data: 1\r\n\r\ndata: 2\n\ndata: 3\r\rdata: 4\r\n\n", "|1\n|2\n|3\n|4\n",
          CW_OK);
    check("data: a\r\ndata: b\r\n\r\n", "|a\nb\n", CW_OK);
}

TEST(test_comments_and_other_fields_ignored)
{
    check(": keep-alive\n\n: OPENROUTER PROCESSING\n\nid: 7\nretry: 100\n"
          "foo: bar\ndata: x\n\n", "|x\n", CW_OK);
}

TEST(test_event_names_passed_and_reset)
{
    check("event: error\ndata: {}\n\ndata: y\n\n", "error|{}\n|y\n", CW_OK);
    check("event: a-very-long-event-name-here\ndata: z\n\n",
          "a-very-long-eve|z\n", CW_OK);
}

TEST(test_only_one_leading_space_stripped)
{
    check("data:  two\n\ndata:none\n\n", "| two\n|none\n", CW_OK);
}

TEST(test_event_without_data_not_dispatched)
{
    check("event: ping\n\n\n\n", "", CW_OK);
    check("data: unterminated", "", CW_OK);
}

TEST(test_event_larger_than_buffer_is_an_error)
{
    static char big[600];
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', 400);
    memcpy(big + 406, "\n\n", 3);
    CHECK_EQ_INT(feed(big, 0), CW_ERR_EVENT_TOO_LARGE);
    CHECK_EQ_INT(ev.count, 0);
    CHECK_EQ_INT(feed(big, 1), CW_ERR_EVENT_TOO_LARGE);
    /* exactly the buffer less its NUL fits */
    memset(big + 6, 'y', sizeof buf - 1u);
    memcpy(big + 6 + sizeof buf - 1u, "\n\n", 3);
    CHECK_EQ_INT(feed(big, 0), CW_OK);
    CHECK_EQ_INT(ev.count, 1);
}

TEST(test_zero_capacity_buffer_refused_not_overrun)
{
    cw_sse_parser_t s;
    char one[1] = { 'x' };
    memset(&ev, 0, sizeof ev);
    cw_sse_init(&s, one, 0, on_event, &ev);
    CHECK_EQ_INT(cw_sse_feed(&s, (const uint8_t *)"data:\n\n", 7),
                 CW_ERR_EVENT_TOO_LARGE);
    CHECK(one[0] == 'x');
    CHECK_EQ_INT(ev.count, 0);
}

static const cw_test_case_t tests[] = {
    T(test_zero_capacity_buffer_refused_not_overrun),
    T(test_data_lines_joined_with_newline),
    T(test_line_ends_lf_crlf_cr_mixed),
    T(test_comments_and_other_fields_ignored),
    T(test_event_names_passed_and_reset),
    T(test_only_one_leading_space_stripped),
    T(test_event_without_data_not_dispatched),
    T(test_event_larger_than_buffer_is_an_error),
};

CW_TEST_MAIN(tests)
