/*
 * test_retry.c - retries, their delays, timeouts and kept connections, over
 * the scripted transport. Waits go through a sleep hook that only moves the
 * fake clock, so every test runs instantly and deterministically. With
 * retries compiled out (CW_CONFIG_RETRIES 0) the tests of kept connections
 * and timeouts still run, and one checks that nothing is retried.
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"


static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[512];
static uint8_t work_buf[8192];

static uint32_t sleeps[16];
static size_t nsleeps;
static cw_retry_info_t seen[16];
static size_t nseen;
static uint32_t random_value;
static int64_t unix_now;

static void sleep_hook(void *ctx, uint32_t ms)
{
    (void)ctx;
    if (nsleeps < 16u) {
        sleeps[nsleeps++] = ms;
    }
    fake.clock += ms;
}

static uint32_t random_hook(void *ctx)
{
    (void)ctx;
    return random_value;
}

static int64_t time_hook(void *ctx)
{
    (void)ctx;
    return unix_now;
}

static void on_retry(void *user, const cw_retry_info_t *info)
{
    (void)user;
    if (nseen < 16u) {
        seen[nseen++] = *info;
    }
}

static int count_delta(void *user, const char *t, size_t l)
{
    (void)user;
    (void)t;
    (void)l;
    return 0;
}

static void setup(int max_retries)
{
    cw_client_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    fake_reset(&fake, NULL, 0);
    cfg.transport = fake_transport(&fake);
    cfg.api_key = "sk-test";
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = 120000;
    cfg.idle_timeout_ms = 5000;
    cfg.max_retries = max_retries;
    cfg.platform.sleep_ms = sleep_hook;
    cfg.platform.random_u32 = random_hook;
    cfg.platform.unix_time = time_hook;
    cfg.on_retry = on_retry;
    nsleeps = 0;
    nseen = 0;
    random_value = 0;
    unix_now = 0;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
}

/* Canned responses. */
static char r_ok[512];
static char r_err[16][512];
static const uint8_t *queue[16];
static size_t queue_len[16];

static const char ok_body[] =
    "{\"choices\":[{\"message\":{\"content\":\"fine\"},"
    "\"finish_reason\":\"stop\"}]}";

static const char *ok(void)
{
    snprintf(r_ok, sizeof r_ok,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s", strlen(ok_body), ok_body);
    return r_ok;
}

/* An error response with extra headers and an OpenAI error body. */
static const char *err(int slot, int status, const char *headers,
                       const char *code)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,"
             "\"code\":\"%s\"}}", code);
    snprintf(r_err[slot], sizeof r_err[slot],
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
             "Content-Length: %zu\r\n\r\n%s", status, headers, strlen(body),
             body);
    return r_err[slot];
}

static void serve(const char *const *responses, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        queue[i] = (const uint8_t *)responses[i];
        queue_len[i] = responses[i] != NULL ? strlen(responses[i]) : 0u;
    }
    fake.queue = queue;
    fake.queue_len = queue_len;
    fake.queue_n = n;
    fake.queue_i = 0;
    fake.in = NULL;
    fake.in_len = 0;
    fake.in_pos = 0;
}

static int chat(cw_result_t *res)
{
    static const cw_message_t msg[] = { { "user", "hi" } };
    cw_chat_request_t req;
    cw_chat_request_init(&req, msg, 1);
    return cw_chat(&client, &req, res);
}

#if CW_CONFIG_RETRIES
TEST(test_503_twice_then_success_with_backoff)
{
    cw_result_t res;
    const char *r[3];
    setup(0); /* default: 2 retries */
    r[0] = err(0, 503, "", "");
    r[1] = err(1, 503, "", "");
    r[2] = ok();
    serve(r, 3);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_STR(res.content, "fine");
    CHECK_EQ_INT(res.attempts, 3);
    CHECK_EQ_INT(nsleeps, 2);
    CHECK_EQ_INT(sleeps[0], 500); /* random 0: factor 1 */
    CHECK_EQ_INT(sleeps[1], 1000);
    CHECK_EQ_INT(res.retry_wait_ms, 1500);
    CHECK_EQ_INT(nseen, 2);
    CHECK_EQ_INT(seen[0].attempt, 2);
    CHECK_EQ_INT(seen[0].http_status, 503);
    CHECK_EQ_INT(seen[0].status, CW_ERR_API);
    CHECK(!seen[0].from_server);
    CHECK_EQ_INT(seen[1].attempt, 3);
}

TEST(test_gives_up_after_max_retries_with_last_error)
{
    cw_result_t res;
    const char *r[4];
    setup(2);
    r[0] = err(0, 500, "", "a");
    r[1] = err(1, 502, "", "b");
    r[2] = err(2, 504, "x-request-id: req_last\r\n", "c");
    r[3] = ok();
    serve(r, 4);
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 3);
    CHECK_EQ_INT(res.http.status, 504);
    CHECK_EQ_STR(res.error.code, "c");
    CHECK_EQ_STR(res.http.request_id, "req_last");
}

TEST(test_which_statuses_are_retried)
{
    static const struct {
        int status;
        bool retried;
    } cases[] = { { 400, false }, { 401, false }, { 403, false },
                  { 404, false }, { 408, true },  { 409, true },
                  { 422, false }, { 429, true },  { 500, true },
                  { 503, true },  { 529, true } };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_result_t res;
        const char *r[2];
        setup(1);
        r[0] = err(0, cases[i].status, "", "x");
        r[1] = ok();
        serve(r, 2);
        chat(&res);
        if ((res.attempts == 2u) != cases[i].retried) {
            fprintf(stderr, "status %d: %u attempts\n", cases[i].status,
                    (unsigned)res.attempts);
            cw_test_failures++;
        }
    }
}

TEST(test_x_should_retry_overrides)
{
    cw_result_t res;
    const char *r[2];
    setup(1);
    r[0] = err(0, 503, "x-should-retry: false\r\n", "");
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);

    setup(1);
    r[0] = err(0, 400, "X-Should-Retry: true\r\n", "");
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(res.attempts, 2);
}

TEST(test_insufficient_quota_never_retried)
{
    cw_result_t res;
    const char *r[2];
    setup(2);
    r[0] = err(0, 429, "retry-after: 1\r\n", "insufficient_quota");
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);
    CHECK_EQ_INT(nsleeps, 0);
    /* even when the server says it may be retried */
    setup(2);
    r[0] = err(0, 429, "x-should-retry: true\r\n", "insufficient_quota");
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);
}

TEST(test_retry_after_ms_then_seconds_then_date)
{
    cw_result_t res;
    const char *r[2];

    setup(1);
    r[0] = err(0, 429, "retry-after-ms: 1500\r\nretry-after: 9\r\n", "");
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(sleeps[0], 1500);
    CHECK(seen[0].from_server);

    setup(1);
    r[0] = err(0, 429, "Retry-After: 2\r\n", "");
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(sleeps[0], 2000);

    setup(1);
    unix_now = 1445412477; /* Wed, 21 Oct 2015 07:27:57 GMT */
    r[0] = err(0, 503, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", "");
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(sleeps[0], 3000);
    CHECK(seen[0].from_server);

    /* a date with no clock to compare with: backoff */
    setup(1);
    unix_now = 0;
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(sleeps[0], 500);
    CHECK(!seen[0].from_server);
}

TEST(test_retry_after_outside_0_to_60_s_ignored)
{
    static const char *const headers[] = {
        "Retry-After: 0\r\n", "Retry-After: 61\r\n", "retry-after-ms: 0\r\n",
        "retry-after-ms: 600000\r\n", "Retry-After: -5\r\n",
        "Retry-After: soon\r\n",
    };
    size_t i;
    for (i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        cw_result_t res;
        const char *r[2];
        setup(1);
        r[0] = err(0, 429, headers[i], "");
        r[1] = ok();
        serve(r, 2);
        CHECK_EQ_INT(chat(&res), CW_OK);
        if (sleeps[0] != 500u || seen[0].from_server) {
            fprintf(stderr, "%s gave %u ms\n", headers[i],
                    (unsigned)sleeps[0]);
            cw_test_failures++;
        }
    }
}

TEST(test_backoff_doubles_to_8_s_with_jitter)
{
    CHECK_EQ_INT(cw_retry_backoff_ms(0, 0), 500);
    CHECK_EQ_INT(cw_retry_backoff_ms(1, 0), 1000);
    CHECK_EQ_INT(cw_retry_backoff_ms(2, 0), 2000);
    CHECK_EQ_INT(cw_retry_backoff_ms(3, 0), 4000);
    CHECK_EQ_INT(cw_retry_backoff_ms(4, 0), 8000);
    CHECK_EQ_INT(cw_retry_backoff_ms(9, 0), 8000);
    CHECK_EQ_INT(cw_retry_backoff_ms(60, 0), 8000);
    CHECK_EQ_INT(cw_retry_backoff_ms(0, 0xffffffffu), 376); /* ~0.75 */
    CHECK_EQ_INT(cw_retry_backoff_ms(4, 0xffffffffu), 6001);
    CHECK_EQ_INT(cw_retry_backoff_ms(0, 0x80000000u), 438);
}

TEST(test_http_dates_in_all_three_forms)
{
    int64_t t = 0;
    CHECK(cw_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    CHECK_EQ_INT(t, 784111777);
    CHECK(cw_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    CHECK_EQ_INT(t, 784111777);
    CHECK(cw_http_date_parse("Sun Nov  6 08:49:37 1994", &t));
    CHECK_EQ_INT(t, 784111777);
    CHECK(cw_http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t));
    CHECK_EQ_INT(t, 0);
    CHECK(cw_http_date_parse("Tue, 29 Feb 2028 23:59:59 GMT", &t));
    CHECK_EQ_INT(t, 1835481599);
    CHECK(!cw_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t));
    CHECK(!cw_http_date_parse("Sun, 6 Nov 1994 08:49:37 GMT", &t));
    CHECK(!cw_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t));
    CHECK(!cw_http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", &t));
    CHECK(!cw_http_date_parse("", &t));
    CHECK(!cw_http_date_parse("120", &t));
}

TEST(test_connection_failures_retried)
{
    cw_result_t res;
    const char *r[1];
    setup(2);
    r[0] = ok();
    serve(r, 1);
    fake.connect_rc = CW_ERR_CONNECT;
    fake.connect_fail_count = 2;
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(fake.connects, 3);
    CHECK_EQ_INT(res.attempts, 3);
    CHECK_EQ_INT(seen[0].status, CW_ERR_CONNECT);
    CHECK_EQ_INT(seen[0].http_status, 0);
}

TEST(test_certificate_and_tls_failures_not_retried)
{
    cw_result_t res;
    const char *r[1];
    setup(2);
    r[0] = ok();
    serve(r, 1);
    fake.connect_rc = CW_ERR_CERT;
    fake.connect_fail_count = 1;
    CHECK_EQ_INT(chat(&res), CW_ERR_CERT);
    CHECK_EQ_INT(res.attempts, 1);
    setup(2);
    serve(r, 1);
    fake.connect_rc = CW_ERR_TLS;
    fake.connect_fail_count = 1;
    CHECK_EQ_INT(chat(&res), CW_ERR_TLS);
    CHECK_EQ_INT(res.attempts, 1);
}

TEST(test_silent_server_times_out_then_retry_succeeds)
{
    cw_result_t res;
    const char *r[2];
    setup(1);
    r[0] = NULL; /* never answers */
    r[1] = ok();
    serve(r, 2);
    fake.tick = 100;
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(res.attempts, 2);
    CHECK_EQ_INT(seen[0].status, CW_ERR_TIMEOUT);
    CHECK_EQ_INT(fake.connects, 2); /* the timed-out connection was closed */
}

#endif /* CW_CONFIG_RETRIES */

TEST(test_idle_timeout_cuts_silence_not_a_slow_stream)
{
    static char slow[4096];
    static size_t sizes[64];
    cw_result_t res;
    const char *r[1];
    cw_chat_request_t req;
    static const cw_message_t msg[] = { { "user", "hi" } };
    size_t i;
    int len;

    /* a stream of 40 events; the fake delivers one small slice per recv,
     * with 500 ms between them (tick), 20 s in all: longer than the 5 s
     * idle timeout, but never 5 s of silence */
    len = snprintf(slow, sizeof slow,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   "Connection: close\r\n\r\n");
    for (i = 0; i < 40; i++) {
        len += snprintf(slow + len, sizeof slow - (size_t)len,
                        "data: {\"choices\":[{\"delta\":{\"content\":\"w\"}}]}"
                        "\n\n");
    }
    len += snprintf(slow + len, sizeof slow - (size_t)len, "data: [DONE]\n\n");
    for (i = 0; i < 64; i++) {
        sizes[i] = 50;
    }
    setup(CW_NO_RETRIES);
    r[0] = slow;
    serve(r, 1);
    fake.tick = 500;
    fake.sizes = sizes;
    fake.nsizes = 64;
    cw_chat_request_init(&req, msg, 1);
    req.stream = true;
    req.on_delta = count_delta;
    CHECK_EQ_INT(cw_chat(&client, &req, &res), CW_OK);
    CHECK_EQ_INT(res.content_len, 40);
    CHECK(fake.clock - 1000u > 10000u);
}

#if CW_CONFIG_RETRIES
TEST(test_no_retry_after_streamed_text)
{
    static char partial[1024];
    cw_result_t res;
    const char *r[2];
    cw_chat_request_t req;
    static const cw_message_t msg[] = { { "user", "hi" } };

    /* text delivered, then the connection drops: reported, not retried */
    snprintf(partial, sizeof partial,
             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"
             "3a\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\n\n"
             "\r\n");
    setup(2);
    r[0] = partial;
    r[1] = ok();
    serve(r, 2);
    fake.queue_n = 1; /* the connection closes after it */
    cw_chat_request_init(&req, msg, 1);
    req.stream = true;
    req.on_delta = count_delta;
    CHECK_EQ_INT(cw_chat(&client, &req, &res), CW_ERR_CLOSED);
    CHECK(res.partial);
    CHECK_EQ_INT(res.attempts, 1);
}

#endif

TEST(test_stale_kept_connection_replaced_before_write)
{
    cw_result_t res;
    const char *r[2];
    setup(CW_NO_RETRIES);
    r[0] = ok();
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(fake.connects, 1);
    fake.close_now = true; /* the server closed it while idle */
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(fake.connects, 2);
    CHECK(res.stale_reconnect);
    CHECK(!res.reused_connection);
    CHECK_EQ_INT(res.attempts, 1);
}

TEST(test_stray_bytes_on_kept_connection_never_taken_as_response)
{
    static const char old[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"choices\":[{"
        "\"message\":{\"content\":\"OLD ANSWER\"}}]}";
    cw_result_t res;
    const char *r[2];
    setup(CW_NO_RETRIES);
    r[0] = ok();
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_OK);
    fake.stray = (const uint8_t *)old;
    fake.stray_len = sizeof old - 1u;
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_STR(res.content, "fine");
    CHECK(res.stale_reconnect);
    CHECK_EQ_INT(fake.connects, 2);
}

TEST(test_kept_connection_closed_during_write_resent_once)
{
    cw_result_t res;
    const char *r[3];
    setup(CW_NO_RETRIES);
    r[0] = ok();
    r[1] = "";   /* the server read nothing and closed */
    r[2] = ok();
    serve(r, 3);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_INT(chat(&res), CW_OK);
    CHECK_EQ_STR(res.content, "fine");
    CHECK_EQ_INT(res.attempts, 2);
    CHECK(res.stale_reconnect);
    CHECK_EQ_INT(fake.connects, 2);
}

#if CW_CONFIG_RETRIES
TEST(test_retry_wait_never_passes_the_deadline)
{
    cw_result_t res;
    const char *r[2];
    setup(2);
    r[0] = err(0, 429, "retry-after: 30\r\n", "");
    r[1] = ok();
    serve(r, 2);
    client.timeout_ms = 10000; /* 30 s wait would pass it */
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);
    CHECK_EQ_INT(nsleeps, 0);
}
#else /* !CW_CONFIG_RETRIES */
TEST(test_retries_compiled_out_make_one_attempt)
{
    cw_result_t res;
    const char *r[2];
    cw_client_config_t cfg;

    setup(CW_NO_RETRIES);
    r[0] = err(0, 503, "retry-after-ms: 10\r\n", "");
    r[1] = ok();
    serve(r, 2);
    CHECK_EQ_INT(chat(&res), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);
    CHECK_EQ_INT(nsleeps, 0);
    CHECK_EQ_INT(nseen, 0);
    /* a caller who counts on retries is told at once */
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.max_retries = 2;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_ERR_INVALID_ARG);
}
#endif

#if CW_CONFIG_RETRIES && CW_CONFIG_CONTENT_PARTS
/* An image read from a reader: a retry reads it again from the start, and
 * a reader that cannot rewind is not retried, with the reason said. */
typedef struct reader {
    size_t pos;
    size_t total;
    unsigned rewinds;
} reader_t;

static int32_t img_read(void *ctx, uint8_t *buf, size_t len)
{
    reader_t *r = (reader_t *)ctx;
    size_t n = 10u - r->pos < len ? 10u - r->pos : len;
    static const char digits[] = "0123456789";
    memcpy(buf, digits + r->pos, n);
    r->pos += n;
    r->total += n;
    return (int32_t)n;
}

static int img_rewind(void *ctx)
{
    reader_t *r = (reader_t *)ctx;
    r->pos = 0;
    r->rewinds++;
    return CW_OK;
}

static int chat_image(cw_result_t *res, reader_t *r, bool rewindable)
{
    static const cw_message_t msg[] = { { "user", NULL } };
    cw_message_ext_t ext;
    cw_content_part_t part;
    cw_chat_request_t req;

    memset(&part, 0, sizeof part);
    part.type = CW_PART_IMAGE_URL;
    part.mime = "image/png";
    part.read = img_read;
    part.rewind = rewindable ? img_rewind : NULL;
    part.read_ctx = r;
    part.size = 10;
    memset(&ext, 0, sizeof ext);
    ext.parts = &part;
    ext.part_count = 1;
    cw_chat_request_init(&req, msg, 1);
    req.message_ext = &ext;
    return cw_chat(&client, &req, res);
}

TEST(test_a_retry_reads_the_image_again_from_its_start)
{
    cw_result_t res;
    reader_t r;
    const char *resp[2];

    setup(2);
    resp[0] = err(0, 503, "", "");
    resp[1] = ok();
    serve(resp, 2);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(chat_image(&res, &r, true), CW_OK);
    CHECK_EQ_INT(res.attempts, 2);
    CHECK_EQ_INT(r.rewinds, 1);
    CHECK_EQ_INT(r.total, 20);
    /* both requests carried the whole image: "MDEyMzQ1Njc4OQ==" */
    fake.sent[fake.sent_len < sizeof fake.sent ? fake.sent_len : 0] = 0;
    {
        const char *first = strstr((const char *)fake.sent,
                                   "base64,MDEyMzQ1Njc4OQ==");
        CHECK(first != NULL);
        CHECK(first != NULL && strstr(first + 1, "base64,MDEyMzQ1Njc4OQ==") !=
                                   NULL);
    }

    setup(2);
    resp[0] = err(0, 503, "", "");
    resp[1] = ok();
    serve(resp, 2);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(chat_image(&res, &r, false), CW_ERR_API);
    CHECK_EQ_INT(res.attempts, 1);
    CHECK_EQ_INT(res.http.status, 503);
    CHECK(strstr(res.detail, "not retried: the reader of messages[0]."
                             "parts[0] cannot rewind") != NULL);
}
#endif

static const cw_test_case_t tests[] = {
#if CW_CONFIG_RETRIES && CW_CONFIG_CONTENT_PARTS
    T(test_a_retry_reads_the_image_again_from_its_start),
#endif
#if CW_CONFIG_RETRIES
    T(test_503_twice_then_success_with_backoff),
    T(test_gives_up_after_max_retries_with_last_error),
    T(test_which_statuses_are_retried),
    T(test_x_should_retry_overrides),
    T(test_insufficient_quota_never_retried),
    T(test_retry_after_ms_then_seconds_then_date),
    T(test_retry_after_outside_0_to_60_s_ignored),
    T(test_backoff_doubles_to_8_s_with_jitter),
    T(test_http_dates_in_all_three_forms),
    T(test_connection_failures_retried),
    T(test_certificate_and_tls_failures_not_retried),
    T(test_silent_server_times_out_then_retry_succeeds),
    T(test_no_retry_after_streamed_text),
    T(test_retry_wait_never_passes_the_deadline),
#else
    T(test_retries_compiled_out_make_one_attempt),
#endif
    T(test_idle_timeout_cuts_silence_not_a_slow_stream),
    T(test_stale_kept_connection_replaced_before_write),
    T(test_stray_bytes_on_kept_connection_never_taken_as_response),
    T(test_kept_connection_closed_during_write_resent_once),
};

CW_TEST_MAIN(tests)
