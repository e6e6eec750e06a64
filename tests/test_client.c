/*
 * test_client.c - the whole pipeline (request, HTTP, chunked, SSE, JSON)
 * over a scripted transport, on recorded responses of real services' shapes.
 *
 * Every recorded response is served whole, split in two at every offset, one
 * byte at a time, and in odd slices with "try again" returns in between: the
 * description of the outcome (status, content, deltas, headers, error
 * object, usage) must be identical every time, and equal to what is
 * expected of that response.
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[256];
static uint8_t work_buf[16384];

/* What on_delta received. */
typedef struct deltas {
    char text[8192];
    size_t len;
    size_t calls;
    bool split_utf8;    /* a call ended inside a UTF-8 sequence */
    size_t abort_after; /* return non-zero after this many calls (0: never) */
} deltas_t;

static deltas_t got;

static int on_delta(void *user, const char *text, size_t len)
{
    deltas_t *d = (deltas_t *)user;
    if (len == 0u || cw_utf8_tail(text, len) != 0u ||
        ((uint8_t)text[0] & 0xc0u) == 0x80u) {
        d->split_utf8 = true;
    }
    if (d->len + len < sizeof d->text) {
        memcpy(d->text + d->len, text, len);
        d->len += len;
        d->text[d->len] = '\0';
    }
    d->calls++;
    return d->abort_after != 0u && d->calls >= d->abort_after;
}

static const cw_message_t hello[] = { { "user", "Hello" } };

static int retries = CW_NO_RETRIES; /* parsing tests: one attempt each */

/* The test client's configuration, over the scripted transport. */
static void make_config(cw_client_config_t *cfg, size_t io_size,
                        size_t work_size)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->transport = fake_transport(&fake);
    cfg->base_url = "https://api.cometapi.com/v1";
    cfg->api_key = "sk-test-key";
    cfg->io_buf = io_buf;
    cfg->io_size = io_size;
    cfg->work_buf = work_buf;
    cfg->work_size = work_size;
    cfg->timeout_ms = 5000;
    cfg->max_retries = retries;
}

static void setup(size_t io_size, size_t work_size)
{
    cw_client_config_t cfg;
    make_config(&cfg, io_size, work_size);
    if (cw_client_init(&client, &cfg) != CW_OK) {
        fprintf(stderr, "cw_client_init failed\n");
        exit(2);
    }
}

static int run(bool stream, cw_result_t *res)
{
    cw_chat_request_t req;
    cw_chat_request_init(&req, hello, 1);
    req.stream = stream;
    req.on_delta = on_delta;
    req.on_delta_user = &got;
    memset(&got, 0, sizeof got);
    return cw_chat(&client, &req, res);
}

/* A printable summary of everything the caller can see. */
static void describe(char *out, size_t cap, int rc, const cw_result_t *r)
{
    snprintf(out, cap,
             "rc=%d status=%d content=[%.*s] clen=%zu null=%d refusal=%d "
             "partial=%d done=%d deltas=[%s] calls=%zu split=%d id=%s "
             "model=%s finish=%s usage=%lld/%lld/%lld ct=%s rid=%s ra=%s "
             "ram=%lld sr=%d ka=%d rem=%lld/%lld reset=%s/%s trunc=%u "
             "err=%d msg=%s mt=%d type=%s code=%s param=%s off=%llu need=%zu "
             "tools=%u[%s] to=%u detail=[%s]",
             rc, r->http.status, r->content ? (int)r->content_len : 0,
             r->content ? r->content : "", r->content_len, r->content_null,
             r->refusal, r->partial, r->done, got.text, got.calls,
             got.split_utf8, r->id, r->model, r->finish_reason,
             (long long)r->prompt_tokens, (long long)r->completion_tokens,
             (long long)r->total_tokens, r->http.content_type,
             r->http.request_id, r->http.retry_after,
             (long long)r->http.retry_after_ms, r->http.should_retry,
             r->http.keep_alive,
             (long long)r->http.ratelimit_remaining_requests,
             (long long)r->http.ratelimit_remaining_tokens,
             r->http.ratelimit_reset_requests, r->http.ratelimit_reset_tokens,
             r->http.truncated, r->error.present, r->error.message,
             r->error.message_truncated, r->error.type, r->error.code,
             r->error.param, (unsigned long long)r->error_offset, r->needed,
             (unsigned)r->tool_calls, r->tool_names, (unsigned)r->timed_out,
             r->detail);
}

typedef struct expect {
    const char *file;
    bool stream;
    int rc;
    int status;
    const char *text;    /* content, or the joined deltas */
    const char *request_id;
    const char *code;    /* error code, or NULL */
    bool keep_alive;
} expect_t;

static const char snapshot_answer[] =
    "Snapshot versions such as gpt-4-0314 pin a model's behaviour to a "
    "date, so results stay reproducible.";

static const expect_t recorded[] = {
    { "ok_content_length.http", false, CW_OK, 200, snapshot_answer,
      "req_7b2f8c1e4d9a4b6c8e0f1a2b3c4d5e6f", NULL, true },
    { "ok_chunked_ext_trailers.http", false, CW_OK, 200, snapshot_answer,
      "req_chunked_01", NULL, true },
    { "ok_close_delimited.http", false, CW_OK, 200, snapshot_answer,
      "req_close", NULL, false },
    { "ok_unicode_interim_100.http", false, CW_OK, 200,
      "Line1\nTab\tQuote\" Back\\ Slash/ \xe4\xb8\xad\xe6\x96\x87 "
      "\xf0\x9f\x98\x80 caf\xc3\xa9 lone:\xef\xbf\xbd!", "req_uni", NULL,
      true },
    { "refusal.http", false, CW_ERR_NO_CONTENT, 200,
      "I'm sorry, I can't help with that.", "req_refusal", NULL, true },
    { "stream_many_events_crlf.http", true, CW_OK, 200,
      "Snapshot versions keep answers stable.", "req_stream_1", NULL, true },
    { "stream_one_event.http", true, CW_OK, 200, "Hello!", "req_one", NULL,
      true },
    { "stream_openrouter_comments_lf.http", true, CW_OK, 200,
      "\xc2\xbfQu\xc3\xa9 tal? \xf0\x9f\xa6\x80", "gen-1732", NULL, true },
    { "stream_cr_multiline_close.http", true, CW_OK, 200, "multi-line", "",
      NULL, false },
    { "stream_utf8_split_across_deltas.http", true, CW_OK, 200,
      "smile \xf0\x9f\x98\x80!", "", NULL, true },
    { "stream_refusal.http", true, CW_ERR_NO_CONTENT, 200, "", "req_sref",
      NULL, true },
    { "stream_error_midstream.http", true, CW_ERR_API, 200, "Partial answer",
      "req_stream_1", "", true },
    { "error_400_context_length.http", false, CW_ERR_API, 400, "",
      "req_err_400", "context_length_exceeded", true },
    { "error_400_long_message_chunked.http", true, CW_ERR_API, 400, "",
      "req_long", "string_above_max_length", true },
    { "error_400_vllm_toplevel.http", false, CW_ERR_API, 400, "",
      "req_err_400", "404", true },
    { "error_400_azure_content_filter.http", false, CW_ERR_API, 400, "",
      "req_err_400", "content_filter", true },
    { "error_401_invalid_api_key.http", true, CW_ERR_API, 401, "",
      "req_err_401", "invalid_api_key", true },
    { "error_401_openrouter_numeric_code.http", false, CW_ERR_API, 401, "",
      "req_err_401", "401", true },
    { "error_404_model_not_found.http", false, CW_ERR_API, 404, "",
      "req_err_404", "model_not_found", true },
    { "error_429_rate_limit.http", true, CW_ERR_API, 429, "", "req_err_429",
      "rate_limit_exceeded", true },
    { "error_429_insufficient_quota.http", false, CW_ERR_API, 429, "",
      "req_err_429", "insufficient_quota", true },
    { "error_500_server_error.http", false, CW_ERR_API, 500, "",
      "req_err_500", "", true },
    { "error_500_llamacpp.http", false, CW_ERR_API, 500, "", "req_err_500",
      "500", true },
    { "error_502_nginx_html.http", false, CW_ERR_HTTP, 502, "", "", NULL,
      true },
    { "ok_url_citations.http", false, CW_OK, 200,
      "Here is what recent sources say about snapshot model versions. "
      "Here is what recent sources say about snapshot model versions. "
      "Here is what recent sources say about snapshot model versions. ",
      "req_search", NULL, true },
    { "tool_calls_parallel.http", false, CW_ERR_TOOL_CALLS, 200, "",
      "req_tools", NULL, true },
    { "stream_tool_calls_openai.http", true, CW_ERR_TOOL_CALLS, 200, "",
      "req_stools", NULL, true },
    { "stream_tool_calls_repeated_names.http", true, CW_ERR_TOOL_CALLS, 200,
      "Let me check. ", "req_stools2", NULL, true },
    { "stream_two_choices.http", true, CW_OK, 200, "Zero here.", "req_n2",
      NULL, true },
    { "ok_html_200.http", false, CW_ERR_MALFORMED, 200, "", "req_html", NULL,
      false },
};

static uint8_t response[65536];

static int serve(const expect_t *e, size_t len, cw_result_t *res, char *desc,
                 size_t desc_cap)
{
    int rc;
    fake.in = response;
    fake.in_len = len;
    rc = run(e->stream, res);
    describe(desc, desc_cap, rc, res);
    return rc;
}

static void check_expected(const expect_t *e, int rc, const cw_result_t *r)
{
    const char *text = e->stream && r->content == NULL ? got.text
                                                       : r->content;
    if (rc != e->rc || r->http.status != e->status ||
        strcmp(text != NULL ? text : "", e->text) != 0 ||
        strcmp(r->http.request_id, e->request_id) != 0 ||
        r->http.keep_alive != e->keep_alive || got.split_utf8 ||
        (e->code != NULL && (!r->error.present ||
                             strcmp(r->error.code, e->code) != 0))) {
        static char desc[20000];
        describe(desc, sizeof desc, rc, r);
        fprintf(stderr, "%s: unexpected outcome:\n  %s\n", e->file, desc);
        cw_test_failures++;
    }
}

/* The outcome for one recorded response, whole and in every slicing. */
static void check_every_split(const expect_t *e, size_t io_size)
{
    static char base[20000];
    static char desc[20000];
    static const size_t odd[] = { 3, 0, 1, 7, 0, 64, 2 };
    cw_result_t res;
    size_t len = load_data(e->file, response, sizeof response);
    size_t k;
    int rc;

    setup(io_size, sizeof work_buf);
    fake_reset(&fake, response, len);
    rc = serve(e, len, &res, base, sizeof base);
    check_expected(e, rc, &res);

    for (k = 1; k < len; k++) {
        size_t sizes[2];
        sizes[0] = k;
        sizes[1] = len;
        setup(io_size, sizeof work_buf);
        fake_reset(&fake, response, len);
        fake.sizes = sizes;
        fake.nsizes = 2;
        serve(e, len, &res, desc, sizeof desc);
        if (strcmp(desc, base) != 0) {
            fprintf(stderr, "%s split at %zu:\n  got  %s\n  want %s\n",
                    e->file, k, desc, base);
            cw_test_failures++;
            return;
        }
    }

    setup(io_size, sizeof work_buf);
    fake_reset(&fake, response, len);
    fake.sizes = &odd[2]; /* 1 */
    fake.nsizes = 1;
    serve(e, len, &res, desc, sizeof desc);
    if (strcmp(desc, base) != 0) {
        fprintf(stderr, "%s byte at a time:\n  got  %s\n  want %s\n", e->file,
                desc, base);
        cw_test_failures++;
    }

    setup(io_size, sizeof work_buf);
    fake_reset(&fake, response, len);
    fake.sizes = odd;
    fake.nsizes = sizeof odd / sizeof odd[0];
    fake.would_block = true;
    serve(e, len, &res, desc, sizeof desc);
    if (strcmp(desc, base) != 0) {
        fprintf(stderr, "%s odd slices with would-block:\n  got  %s\n"
                "  want %s\n", e->file, desc, base);
        cw_test_failures++;
    }
}

TEST(test_recorded_responses_split_at_every_offset)
{
    size_t i;
    for (i = 0; i < sizeof recorded / sizeof recorded[0]; i++) {
        check_every_split(&recorded[i], sizeof io_buf);
    }
}

TEST(test_recorded_responses_with_smallest_io_buffer)
{
    size_t i;
    for (i = 0; i < sizeof recorded / sizeof recorded[0]; i++) {
        check_every_split(&recorded[i], CW_IO_MIN);
    }
}

static int load_and_run(const char *file, bool stream, cw_result_t *res)
{
    size_t len = load_data(file, response, sizeof response);
    fake_reset(&fake, response, len);
    return run(stream, res);
}

TEST(test_completion_fields_extracted)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("ok_content_length.http", false, &r), CW_OK);
    CHECK_EQ_STR(r.id, "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUvWx");
    CHECK_EQ_STR(r.model, "gpt-4-0314");
    CHECK_EQ_STR(r.finish_reason, "stop");
    CHECK_EQ_INT(r.prompt_tokens, 27);
    CHECK_EQ_INT(r.completion_tokens, 21);
    CHECK_EQ_INT(r.total_tokens, 48);
    CHECK_EQ_STR(r.http.content_type, "application/json");
#if CW_CONFIG_RATELIMIT_HEADERS
    CHECK_EQ_INT(r.http.ratelimit_remaining_requests, 9999);
    CHECK_EQ_INT(r.http.ratelimit_remaining_tokens, 29999967);
    CHECK_EQ_STR(r.http.ratelimit_reset_requests, "6ms");
    CHECK_EQ_STR(r.http.ratelimit_reset_tokens, "0s");
#else
    CHECK_EQ_INT(r.http.ratelimit_remaining_requests, -1); /* compiled out */
    CHECK_EQ_STR(r.http.ratelimit_reset_tokens, "");
#endif
    CHECK_EQ_INT(r.http.retry_after_ms, -1);
    CHECK_EQ_INT(r.http.should_retry, -1);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK(r.content[r.content_len] == '\0');
    CHECK(!r.content_null && !r.refusal && !r.partial);
}

TEST(test_request_sent_is_the_writer_output)
{
    cw_result_t r;
    static uint8_t expect[4096];
    size_t total = 0;
    cw_chat_request_t req;
    struct { uint8_t *p; size_t n; } sink_state = { expect, 0 };
    (void)sink_state;

    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("ok_content_length.http", false, &r), CW_OK);
    cw_chat_request_init(&req, hello, 1);
    CHECK_EQ_INT(cw_request_write(&client.url, "sk-test-key", CW_AUTH_BEARER,
                                  &req, NULL, 0, NULL, NULL, &total),
                 CW_OK);
    CHECK_EQ_INT(fake.sent_len, total);
    CHECK(memcmp(fake.sent, "POST /v1/chat/completions HTTP/1.1\r\n", 36) ==
          0);
    /* one send per full io buffer, not one per header line */
    CHECK(fake.send_calls <= total / sizeof io_buf + 1u);
}

TEST(test_stream_usage_and_finish_reason)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_many_events_crlf.http", true, &r),
                 CW_OK);
    CHECK(r.done);
    CHECK(r.content == NULL);
    CHECK_EQ_INT(r.content_len, strlen("Snapshot versions keep answers stable."));
    CHECK_EQ_STR(r.finish_reason, "stop");
    CHECK_EQ_INT(r.prompt_tokens, 27);
    CHECK_EQ_INT(r.completion_tokens, 6);
    CHECK_EQ_INT(r.total_tokens, 33);
    CHECK_EQ_INT(got.calls, 6); /* the empty first delta is not delivered */
    CHECK_EQ_STR(r.http.content_type, "text/event-stream; charset=utf-8");
}

TEST(test_utf8_never_split_across_callbacks)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_utf8_split_across_deltas.http", true,
                              &r), CW_OK);
    CHECK(!got.split_utf8);
    CHECK_EQ_STR(got.text, "smile \xf0\x9f\x98\x80!");
    CHECK_EQ_INT(got.calls, 3); /* "smile ", the emoji, "!" */
}

TEST(test_ill_formed_utf8_from_server_becomes_replacement_characters)
{
    /* deltas "a\xF0\x9F", "\xCB", "b", "\xC3" (raw bytes, as a broken
     * server might send): the application sees only valid UTF-8, with one
     * U+FFFD per ill-formed piece, whatever the split */
    static const char events[] =
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\xf0\x9f\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\xcb\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\xc3\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"\xed\xa0\x80z\"}}]}"
        "\n\ndata: [DONE]\n\n";
    static char resp[2048];
    cw_result_t r;
    size_t k;
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Content-Length: %zu\r\n\r\n%s", sizeof events - 1u,
                     events);
    for (k = 0; k < (size_t)n; k++) {
        size_t sizes[2];
        sizes[0] = k + 1u;
        sizes[1] = 4096;
        setup(sizeof io_buf, sizeof work_buf);
        memcpy(response, resp, (size_t)n);
        fake_reset(&fake, response, (size_t)n);
        fake.sizes = sizes;
        fake.nsizes = 2;
        CHECK_EQ_INT(run(true, &r), CW_OK);
        /* "a" FFFD FFFD "b" FFFD, then ED A0 80 (a surrogate): three
         * maximal subparts of one byte each, then "z" */
        CHECK_EQ_STR(got.text, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
        CHECK(!got.split_utf8);
        CHECK(cw_utf8_valid(got.text, got.len));
        if (cw_test_failures > 0) {
            break;
        }
    }
}

TEST(test_error_objects_extracted)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("error_429_rate_limit.http", false, &r),
                 CW_ERR_API);
    CHECK_EQ_INT(r.http.status, 429);
    CHECK_EQ_STR(r.error.type, "requests");
    CHECK_EQ_STR(r.error.code, "rate_limit_exceeded");
    CHECK_EQ_STR(r.error.param, "");
    CHECK(strncmp(r.error.message, "Rate limit reached for gpt-4-0314", 33) ==
          0);
    CHECK(!r.error.message_truncated);
#if CW_CONFIG_RETRIES
    CHECK_EQ_STR(r.http.retry_after, "20");
    CHECK_EQ_INT(r.http.retry_after_ms, 19874);
    CHECK_EQ_INT(r.http.should_retry, 1);
#else
    CHECK_EQ_STR(r.http.retry_after, ""); /* compiled out */
    CHECK_EQ_INT(r.http.retry_after_ms, -1);
    CHECK_EQ_INT(r.http.should_retry, -1);
#endif
#if CW_CONFIG_RATELIMIT_HEADERS
    CHECK_EQ_INT(r.http.ratelimit_remaining_requests, 0);
    CHECK_EQ_STR(r.http.ratelimit_reset_requests, "19.874s");
#endif

    CHECK_EQ_INT(load_and_run("error_429_insufficient_quota.http", false, &r),
                 CW_ERR_API);
    CHECK_EQ_STR(r.error.type, "insufficient_quota");
    CHECK_EQ_INT(r.http.should_retry, CW_CONFIG_RETRIES ? 0 : -1);

    CHECK_EQ_INT(load_and_run("error_500_llamacpp.http", false, &r),
                 CW_ERR_API);
    CHECK_EQ_STR(r.error.code, "500");
    CHECK_EQ_STR(r.error.type, "exceed_context_size_error");

    CHECK_EQ_INT(load_and_run("error_400_vllm_toplevel.http", false, &r),
                 CW_ERR_API);
    CHECK_EQ_STR(r.error.message, "The model `llama` does not exist.");
    CHECK_EQ_STR(r.error.type, "NotFoundError");

    CHECK_EQ_INT(load_and_run("error_400_azure_content_filter.http", false,
                              &r), CW_ERR_API);
    CHECK_EQ_STR(r.error.param, "prompt");
    CHECK_EQ_STR(r.error.type, "");

    CHECK_EQ_INT(load_and_run("error_400_long_message_chunked.http", false,
                              &r), CW_ERR_API);
    CHECK(r.error.message_truncated);
    CHECK(strlen(r.error.message) < CW_ERROR_MESSAGE_MAX);
    CHECK(strlen(r.error.message) + 4u >= CW_ERROR_MESSAGE_MAX);
    CHECK(cw_utf8_valid(r.error.message, strlen(r.error.message)));
    CHECK_EQ_STR(r.error.param, "messages[0].content");

    CHECK_EQ_INT(load_and_run("error_502_nginx_html.http", false, &r),
                 CW_ERR_HTTP);
    CHECK(!r.error.present);
    CHECK_EQ_INT(r.http.status, 502);
}

TEST(test_in_stream_error_flags_partial_content)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_error_midstream.http", true, &r),
                 CW_ERR_API);
    CHECK(r.partial);
    CHECK_EQ_STR(got.text, "Partial answer");
    CHECK_EQ_STR(r.error.type, "server_error");
    CHECK(strncmp(r.error.message, "The server had an error", 23) == 0);
    CHECK_EQ_INT(r.http.status, 200);
}

TEST(test_streamed_refusal_reported_as_no_content)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_refusal.http", true, &r),
                 CW_ERR_NO_CONTENT);
    CHECK(r.refusal && r.content_null && !r.partial);
    CHECK_EQ_INT(got.calls, 0);
    CHECK_EQ_STR(r.error.message, "I'm sorry, I can't help with that.");
}

TEST(test_refusal_reported_as_no_content)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("refusal.http", false, &r), CW_ERR_NO_CONTENT);
    CHECK(r.content_null);
    CHECK(r.refusal);
    CHECK_EQ_STR(r.content, "I'm sorry, I can't help with that.");
}

TEST(test_early_close_mid_stream_is_an_error_with_partial_flag)
{
    cw_result_t r;
    size_t len = load_data("stream_many_events_crlf.http", response,
                           sizeof response);
    const char *cut = strstr((const char *)response, " answers");
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    CHECK(cut != NULL);
    fake.close_after = (size_t)(cut - (const char *)response);
    CHECK_EQ_INT(run(true, &r), CW_ERR_CLOSED);
    CHECK(r.partial);
    CHECK_EQ_STR(got.text, "Snapshot versions keep");
    CHECK(!r.done);
    CHECK(fake.closes == 1);
}

TEST(test_early_close_mid_body_is_an_error)
{
    cw_result_t r;
    size_t len = load_data("ok_content_length.http", response,
                           sizeof response);
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    fake.close_after = len - 10u;
    CHECK_EQ_INT(run(false, &r), CW_ERR_CLOSED);
    CHECK(r.content == NULL);
    CHECK(!r.partial);

    fake_reset(&fake, response, len);
    fake.close_after = 20; /* inside the status line's reason... */
    CHECK_EQ_INT(run(false, &r), CW_ERR_CLOSED);
}

TEST(test_transport_failure_after_n_bytes)
{
    cw_result_t r;
    size_t len = load_data("stream_many_events_crlf.http", response,
                           sizeof response);
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    fake.fail_after = 900;
    fake.fail_code = CW_ERR_TLS;
    CHECK_EQ_INT(run(true, &r), CW_ERR_TLS);
    CHECK(fake.closes == 1);

    fake_reset(&fake, response, len);
    fake.send_fail_after = 50;
    CHECK_EQ_INT(run(true, &r), CW_ERR_IO);
    CHECK_EQ_INT(got.calls, 0);
}

TEST(test_silent_server_times_out)
{
    cw_result_t r;
    static const size_t never[] = { 0 };
    size_t len = load_data("ok_content_length.http", response,
                           sizeof response);
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    fake.sizes = never;
    fake.nsizes = 1;
    fake.tick = 100;
    CHECK_EQ_INT(run(false, &r), CW_ERR_TIMEOUT);
    CHECK(fake.clock - 1000u >= 5000u);
    CHECK(fake.clock - 1000u < 5400u);
}

/* A completion of n bytes of content, with Content-Length or chunked. */
static size_t big_completion(size_t n, bool chunked)
{
    static char body[16384];
    size_t blen;
    size_t len;

    blen = (size_t)sprintf(body, "{\"choices\":[{\"index\":0,\"message\":"
                                 "{\"content\":\"%0*d\"},\"finish_reason\":"
                                 "\"stop\"}]}", (int)n, 7);
    if (chunked) {
        len = (size_t)sprintf((char *)response,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/"
                              "json\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "%zx\r\n%s\r\n0\r\n\r\n", blen, body);
    } else {
        len = (size_t)sprintf((char *)response,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/"
                              "json\r\nContent-Length: %zu\r\n\r\n%s", blen,
                              body);
    }
    return len;
}

TEST(test_body_larger_than_work_buffer_reports_size_needed)
{
    cw_result_t r;
    size_t len = big_completion(3000, false);
    const char *body = strstr((const char *)response, "\r\n\r\n") + 4;
    size_t body_len = len - (size_t)(body - (const char *)response);

    setup(sizeof io_buf, CW_WORK_MIN);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(r.needed, CW_WORK_TOKENS_SIZE + body_len + 1u);
    CHECK(r.content == NULL);
    CHECK(fake.closes == 1);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "(Content-Length)") != NULL);
#endif

    /* with the size it asked for, it works */
    setup(sizeof io_buf, r.needed);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_OK);
    CHECK_EQ_INT(r.content_len, 3000);

    /* chunked: the length is not known in advance */
    len = big_completion(3000, true);
    setup(sizeof io_buf, CW_WORK_MIN);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(r.needed, 0);
    CHECK(r.content == NULL);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "not announced") != NULL);
#endif
}

TEST(test_event_larger_than_work_buffer_is_an_error)
{
    static char big[8192];
    cw_result_t r;
    int n;

    /* one short event, then one of 3000 bytes of content */
    n = snprintf(big, sizeof big,
                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 "Connection: close\r\n\r\n"
                 "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n"
                 "data: {\"choices\":[{\"delta\":{\"content\":\"%03000d\"}}]}"
                 "\n\ndata: [DONE]\n\n", 7);
    memcpy(response, big, (size_t)n);
    setup(sizeof io_buf, CW_WORK_MIN);
    CHECK(client.work_size < 3000u);
    fake_reset(&fake, response, (size_t)n);
    CHECK_EQ_INT(run(true, &r), CW_ERR_EVENT_TOO_LARGE);
    CHECK(r.partial);
    CHECK_EQ_STR(got.text, "ok");

    /* a work buffer that holds it gets it all */
    setup(sizeof io_buf, CW_WORK_MIN + 3000u);
    fake_reset(&fake, response, (size_t)n);
    CHECK_EQ_INT(run(true, &r), CW_OK);
    CHECK_EQ_INT(got.len, 3002u);
}

TEST(test_keep_alive_reuses_connection_and_close_reconnects)
{
    cw_result_t r;
    size_t len = load_data("ok_content_length.http", response,
                           sizeof response);
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_OK);
    fake.in_pos = 0; /* the server answers the next request the same way */
    fake.sent_len = 0;
    CHECK_EQ_INT(run(false, &r), CW_OK);
    CHECK(r.reused_connection);
    CHECK_EQ_INT(fake.connects, 1);
    CHECK_EQ_INT(fake.closes, 0);

    len = load_data("ok_close_delimited.http", response, sizeof response);
    fake_reset(&fake, response, len);
    client.connected = false;
    CHECK_EQ_INT(run(false, &r), CW_OK);
    fake.in_pos = 0;
    fake.sent_len = 0;
    CHECK_EQ_INT(run(false, &r), CW_OK);
    CHECK(!r.reused_connection);
    CHECK_EQ_INT(fake.connects, 2);
    CHECK_EQ_INT(fake.closes, 2);
}

TEST(test_callback_abort_stops_the_stream)
{
    cw_result_t r;
    cw_chat_request_t req;
    size_t len = load_data("stream_many_events_crlf.http", response,
                           sizeof response);
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, len);
    cw_chat_request_init(&req, hello, 1);
    req.stream = true;
    req.on_delta = on_delta;
    req.on_delta_user = &got;
    memset(&got, 0, sizeof got);
    got.abort_after = 2;
    CHECK_EQ_INT(cw_chat(&client, &req, &r), CW_ERR_ABORTED);
    CHECK_EQ_STR(got.text, "Snapshot versions");
    CHECK(r.partial);
}

TEST(test_connect_failure_is_reported)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, 0);
    fake.connect_rc = CW_ERR_DNS;
    CHECK_EQ_INT(run(false, &r), CW_ERR_DNS);
    CHECK_EQ_INT(fake.sent_len, 0);
}

#if CW_CONFIG_NONBLOCKING
/* A chat given up half-way with cw_client_close: over, the connection
 * closed, and the client ready for the next one. */
TEST(test_a_stepped_chat_given_up_with_close)
{
    static uint8_t resp[8192];
    size_t len = load_data("stream_many_events_crlf.http", resp, sizeof resp);
    cw_chat_request_t req;
    cw_result_t r;
    cw_wait_t w;
    int rc;

    setup(256, sizeof work_buf);
    fake_reset(&fake, resp, len);
    fake.would_block = true;
    cw_chat_request_init(&req, hello, 1);
    req.stream = true;
    req.on_delta = on_delta;
    req.on_delta_user = &got;
    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(cw_chat_start(&client, &req, &r), CW_OK);
    do {
        rc = cw_chat_step(&client, &w);
    } while (rc == CW_ERR_WOULD_BLOCK && fake.in_pos == 0u);
    CHECK_EQ_INT(rc, CW_ERR_WOULD_BLOCK); /* under way, the answer begun */
    cw_client_close(&client);
    CHECK_EQ_INT(fake.closes, 1);
    CHECK_EQ_INT(cw_chat_step(&client, &w), CW_ERR_INVALID_ARG);
    /* the next chat on a new connection */
    fake_reset(&fake, resp, len);
    CHECK_EQ_INT(run(true, &r), CW_OK);
    CHECK_EQ_INT(fake.connects, 1);
}
#endif

TEST(test_invalid_arguments_refused)
{
    cw_result_t r;
    cw_chat_request_t req;
    cw_client_config_t cfg;
    cw_client_t c2;

    setup(sizeof io_buf, sizeof work_buf);
    fake_reset(&fake, response, 0);
    cw_chat_request_init(&req, hello, 1);
    req.stream = true; /* without a callback */
    CHECK_EQ_INT(cw_chat(&client, &req, &r), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_chat(NULL, &req, &r), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_chat(&client, &req, NULL), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(fake.connects, 0);

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = CW_WORK_MIN - 1u;
    CHECK_EQ_INT(cw_client_init(&c2, &cfg), CW_ERR_INVALID_ARG);
    cfg.work_size = sizeof work_buf;
    cfg.base_url = "ftp://x";
    CHECK_EQ_INT(cw_client_init(&c2, &cfg), CW_ERR_INVALID_ARG);
    cfg.base_url = NULL;
    cfg.transport.recv = NULL;
    CHECK_EQ_INT(cw_client_init(&c2, &cfg), CW_ERR_INVALID_ARG);
}

TEST(test_malformed_response_reports_offset)
{
    static const char bad[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n";
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    memcpy(response, bad, sizeof bad - 1u);
    fake_reset(&fake, response, sizeof bad - 1u);
    CHECK_EQ_INT(run(false, &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(r.error_offset, strstr(bad, "zz") - bad);
    CHECK(fake.closes == 1);
}

static int run_req(const cw_chat_request_t *req, cw_result_t *res)
{
    memset(&got, 0, sizeof got);
    return cw_chat(&client, req, res);
}

TEST(test_answer_reused_from_work_buffer_is_refused_before_sending)
{
    /* the natural multi-turn loop: the last answer (res.content, in the
     * work buffer) goes into the next request's history */
    cw_result_t r;
    cw_message_t turn[3];
    cw_chat_request_t req;

    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("ok_content_length.http", false, &r), CW_OK);
    turn[0].role = "user";
    turn[0].content = "Hello";
    turn[1].role = "assistant";
    turn[1].content = r.content; /* points into work_buf */
    turn[2].role = "user";
    turn[2].content = "And then?";
    cw_chat_request_init(&req, turn, 3);
    fake_reset(&fake, response, 0);
    CHECK_EQ_INT(run_req(&req, &r), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(fake.sent_len, 0);
    CHECK_EQ_INT(fake.connects, 0);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "messages[1].content") != NULL);
    CHECK(strstr(r.detail, "work buffer") != NULL);
    CHECK(strstr(r.detail, "cw_history_add") != NULL);
#endif
    /* the io buffer, and a string that only ends inside it, too */
    memcpy(io_buf + 8, "abc", 4);
    turn[1].content = (const char *)io_buf + 8;
    CHECK_EQ_INT(run_req(&req, &r), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(fake.sent_len, 0);
}

/* A caller that rewrites a request string while the call sends it: the
 * transport's send runs this. */
static char mutable_text[64];
static void grow_text(fake_t *f)
{
    (void)f;
    strcpy(mutable_text, "a much longer text than was measured");
}
static void shrink_text(fake_t *f)
{
    (void)f;
    mutable_text[1] = '\0';
}

/* The Content-Length the request announced, and the body bytes sent. */
static void sent_lengths(size_t *announced, size_t *body)
{
    const char *s = (const char *)fake.sent;
    const char *cl = strstr(s, "Content-Length: ");
    const char *end = strstr(s, "\r\n\r\n");
    *announced = cl != NULL ? (size_t)strtoul(cl + 16, NULL, 10) : 0u;
    *body = end != NULL ? fake.sent_len - (size_t)(end + 4 - s) : 0u;
}

TEST(test_request_changed_while_sending_aborts_instead_of_hanging)
{
    cw_message_t m = { "user", mutable_text };
    cw_chat_request_t req;
    cw_result_t r;
    size_t announced;
    size_t body;
    static const size_t small[] = { 16 };

    cw_chat_request_init(&req, &m, 1);
    /* longer than measured: never more than Content-Length goes out */
    setup(CW_IO_MIN, sizeof work_buf);
    strcpy(mutable_text, "short");
    fake_reset(&fake, response, load_data("ok_content_length.http", response,
                                          sizeof response));
    fake.sizes = small;
    fake.nsizes = 1;
    fake.on_send = grow_text;
    CHECK_EQ_INT(run_req(&req, &r), CW_ERR_REQUEST_CHANGED);
    sent_lengths(&announced, &body);
    CHECK(body <= announced);
    CHECK(fake.closes == 1);
    CHECK_EQ_INT(r.attempts, 1);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "unchanged") != NULL);
#endif
    /* shorter: the attempt ends at once with the connection closed, so
     * the server is not left waiting for bytes that never come */
    setup(CW_IO_MIN, sizeof work_buf);
    strcpy(mutable_text, "a text that gets shorter");
    fake_reset(&fake, response, load_data("ok_content_length.http", response,
                                          sizeof response));
    fake.on_send = shrink_text;
    CHECK_EQ_INT(run_req(&req, &r), CW_ERR_REQUEST_CHANGED);
    CHECK(fake.closes == 1);
    CHECK(fake.clock < 1100u); /* no wait for a timeout */
}

TEST(test_url_citations_need_more_tokens_than_the_budget_and_fit)
{
    /* 10 url_citation annotations: ~190 tokens, over CW_JSON_MAX_TOKENS,
     * in a work buffer of twice the body: it fits */
    cw_result_t r;
    size_t len = load_data("ok_url_citations.http", response, sizeof response);
    const char *body = strstr((const char *)response, "\r\n\r\n") + 4;
    size_t body_len = len - (size_t)(body - (const char *)response);
    size_t need;

    setup(sizeof io_buf, 2u * body_len);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_OK);
    CHECK(strncmp(r.content, "Here is what", 12) == 0);
    CHECK_EQ_INT(r.completion_tokens, 512);

    /* too small for the tokens: the exact size is given, and works */
    setup(sizeof io_buf, body_len + 64u);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_ERR_BUFFER_TOO_SMALL);
    need = r.needed;
    CHECK(need > body_len + 64u);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "JSON tokens") != NULL);
    CHECK(strstr(r.detail, "work_size at least") != NULL);
#endif
    setup(sizeof io_buf, need);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_OK);
    setup(sizeof io_buf, need - 1u);
    fake_reset(&fake, response, len);
    CHECK_EQ_INT(run(false, &r), CW_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(r.needed, need);
}

/* The calls counted and named, where the build reads them; without
 * (CW_CONFIG_TOOLS 0) only the status and finish_reason tell. */
#if CW_CONFIG_TOOLS
#define CHECK_TOOLS(r, n, names)                                             \
    do {                                                                     \
        CHECK_EQ_INT((r).tool_calls, (n));                                   \
        CHECK_EQ_STR((r).tool_names, (names));                               \
    } while (0)
#else
#define CHECK_TOOLS(r, n, names)                                             \
    do {                                                                     \
        CHECK_EQ_INT((r).tool_calls, 0);                                     \
        CHECK_EQ_STR((r).finish_reason, "tool_calls");                       \
    } while (0)
#endif

TEST(test_tool_calls_are_named_not_silent)
{
    cw_result_t r;

    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("tool_calls_parallel.http", false, &r),
                 CW_ERR_TOOL_CALLS);
    CHECK_TOOLS(r, 2, "set_led, read_temperature");
    CHECK_EQ_STR(r.finish_reason, "tool_calls");
    CHECK(r.http.keep_alive);

    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_tool_calls_openai.http", true, &r),
                 CW_ERR_TOOL_CALLS);
    CHECK_TOOLS(r, 2, "set_led, read_temperature");
    CHECK_EQ_INT(got.len, 0);
    CHECK(!r.partial);

    /* numbered from 1, the name on every fragment: one call, named once */
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_tool_calls_repeated_names.http", true,
                              &r), CW_ERR_TOOL_CALLS);
    CHECK_TOOLS(r, 1, "read_temperature");
    CHECK_EQ_STR(got.text, "Let me check. ");
    CHECK(!r.partial);
}

TEST(test_only_choice_zero_is_the_answer)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("stream_two_choices.http", true, &r), CW_OK);
    CHECK_EQ_STR(got.text, "Zero here.");
    CHECK_EQ_STR(r.finish_reason, "stop");
}

TEST(test_non_json_body_says_what_arrived)
{
    cw_result_t r;
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("ok_html_200.http", false, &r),
                 CW_ERR_MALFORMED);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "text/html") != NULL);
    CHECK(strstr(r.detail, "\"<!DOCTYPE html>") != NULL);
    CHECK(strstr(r.detail, "\\x0a") != NULL); /* one printable line */
    CHECK(strchr(r.detail, '\n') == NULL);
#endif
    /* an error page with a status: its start too */
    setup(sizeof io_buf, sizeof work_buf);
    CHECK_EQ_INT(load_and_run("error_502_nginx_html.http", false, &r),
                 CW_ERR_HTTP);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "HTTP 502") != NULL);
    CHECK(strstr(r.detail, "<html>") != NULL);
#endif
}

TEST(test_tls_answer_on_a_plain_connection_is_named)
{
    /* http:// to a TLS port: the server's alert record comes back */
    static const uint8_t alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02,
                                     0x46 };
    cw_result_t r;
    cw_client_config_t cfg;
    make_config(&cfg, sizeof io_buf, sizeof work_buf);
    cfg.base_url = "http://localhost:8443/v1";
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    memcpy(response, alert, sizeof alert);
    fake_reset(&fake, response, sizeof alert);
    CHECK_EQ_INT(run(false, &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(r.error_offset, 0);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "use an https:// URL") != NULL);
#endif
    /* and one that closes without a word */
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    fake_reset(&fake, response, 0);
    CHECK_EQ_INT(run(false, &r), CW_ERR_CLOSED);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "use https://") != NULL);
#endif
}

/* A client with cfg over a server that sends nothing (sizes: never). */
static int silent_server(const cw_client_config_t *cfg, size_t len,
                         const size_t *never, cw_result_t *r)
{
    CHECK_EQ_INT(cw_client_init(&client, cfg), CW_OK);
    fake_reset(&fake, response, len);
    fake.sizes = never;
    fake.nsizes = 1;
    fake.tick = 100;
    return run(false, r);
}

TEST(test_timeout_names_the_limit_that_fired)
{
    static const size_t never[] = { 0 };
    cw_result_t r;
    cw_client_config_t cfg;
    size_t len = load_data("ok_content_length.http", response,
                           sizeof response);

    /* idle: the server never answers */
    make_config(&cfg, sizeof io_buf, sizeof work_buf);
    cfg.timeout_ms = 0;          /* the default: no total limit */
    cfg.idle_timeout_ms = 2000;
    CHECK_EQ_INT(silent_server(&cfg, len, never, &r), CW_ERR_TIMEOUT);
    CHECK_EQ_INT(r.timed_out, CW_TIMEOUT_IDLE);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "idle_timeout_ms (2000 ms)") != NULL);
    CHECK(strstr(r.detail, "waiting for the response") != NULL);
    CHECK(strstr(r.detail, "timeout_ms (") == strstr(r.detail,
                                                     "idle_timeout_ms (") + 5);
#endif
    /* total: shorter than the idle limit */
    cfg.timeout_ms = 1000;
    CHECK_EQ_INT(silent_server(&cfg, len, never, &r), CW_ERR_TIMEOUT);
    CHECK_EQ_INT(r.timed_out, CW_TIMEOUT_TOTAL);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "its timeout_ms (1000 ms)") != NULL);
#endif
    /* connect: the port gave up within connect_timeout_ms */
    cfg.timeout_ms = 0;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    fake_reset(&fake, response, len);
    fake.connect_rc = CW_ERR_TIMEOUT;
    CHECK_EQ_INT(run(false, &r), CW_ERR_TIMEOUT);
    CHECK_EQ_INT(r.timed_out, CW_TIMEOUT_CONNECT);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "connect_timeout_ms (10000 ms)") != NULL);
#endif
}

TEST(test_progressing_stream_outlives_the_old_total_default)
{
    /* 22 events, each 30 s apart (idle limit 60 s): 11 minutes in all,
     * longer than any fixed default; with no total limit set it completes */
    static char body[8192];
    cw_result_t r;
    cw_client_config_t cfg;
    size_t n;
    int i;

    n = (size_t)sprintf(body, "HTTP/1.1 200 OK\r\nContent-Type: "
                              "text/event-stream\r\nConnection: close\r\n\r\n");
    for (i = 0; i < 22; i++) {
        n += (size_t)sprintf(body + n, "data: {\"choices\":[{\"index\":0,"
                                       "\"delta\":{\"content\":\"w\"}}]}\n\n");
    }
    n += (size_t)sprintf(body + n, "data: [DONE]\n\n");
    memcpy(response, body, n);
    make_config(&cfg, sizeof io_buf, sizeof work_buf);
    cfg.timeout_ms = 0;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    fake_reset(&fake, response, n);
    {
        static size_t per_event[1];
        per_event[0] = (n - 1u) / 22u;
        fake.sizes = per_event;
        fake.nsizes = 1;
    }
    fake.tick = 30000;
    CHECK_EQ_INT(run(true, &r), CW_OK);
    CHECK_EQ_INT(got.len, 22);
    CHECK(fake.clock - 1000u > 600000u);
}

TEST(test_bad_api_key_byte_is_named)
{
    cw_result_t r;
    cw_client_config_t cfg;
    make_config(&cfg, sizeof io_buf, sizeof work_buf);
    cfg.api_key = "sk-test-key\r";
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    fake_reset(&fake, response, 0);
    CHECK_EQ_INT(run(false, &r), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(fake.sent_len, 0);
#if CW_CONFIG_DETAIL
    CHECK(strstr(r.detail, "carriage return at byte 11") != NULL);
    CHECK(strstr(r.detail, "sk-test") == NULL); /* never the key */
#endif
}

#if CW_CONFIG_STATUS_TEXT
TEST(test_strerror_covers_every_status)
{
    int s;
    for (s = CW_OK; s >= CW_ERR_TOOL_CALLS; s--) {
        CHECK(strcmp(cw_strerror(s), "unknown status") != 0);
    }
    CHECK_EQ_STR(cw_strerror(-1000), "unknown status");
}
#else
TEST(test_strerror_covers_every_status)
{
    /* texts compiled out: one generic text, never NULL */
    CHECK_EQ_STR(cw_strerror(CW_OK), "success");
    CHECK_EQ_STR(cw_strerror(CW_ERR_CERT), "chatwire error");
    CHECK_EQ_STR(cw_strerror(-1000), "chatwire error");
}
#endif

#if !CW_CONFIG_RETRIES
TEST(test_retries_compiled_out_refuse_max_retries)
{
    cw_client_config_t cfg;
    make_config(&cfg, sizeof io_buf, sizeof work_buf);
    cfg.max_retries = 3;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_ERR_INVALID_ARG);
    cfg.max_retries = 0;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    cfg.max_retries = CW_NO_RETRIES;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
}
#endif

static const cw_test_case_t tests[] = {
    T(test_recorded_responses_split_at_every_offset),
    T(test_recorded_responses_with_smallest_io_buffer),
    T(test_completion_fields_extracted),
    T(test_request_sent_is_the_writer_output),
    T(test_stream_usage_and_finish_reason),
    T(test_utf8_never_split_across_callbacks),
    T(test_ill_formed_utf8_from_server_becomes_replacement_characters),
    T(test_error_objects_extracted),
    T(test_in_stream_error_flags_partial_content),
    T(test_refusal_reported_as_no_content),
    T(test_streamed_refusal_reported_as_no_content),
    T(test_early_close_mid_stream_is_an_error_with_partial_flag),
    T(test_early_close_mid_body_is_an_error),
    T(test_transport_failure_after_n_bytes),
    T(test_silent_server_times_out),
    T(test_body_larger_than_work_buffer_reports_size_needed),
    T(test_event_larger_than_work_buffer_is_an_error),
    T(test_keep_alive_reuses_connection_and_close_reconnects),
    T(test_callback_abort_stops_the_stream),
    T(test_connect_failure_is_reported),
#if CW_CONFIG_NONBLOCKING
    T(test_a_stepped_chat_given_up_with_close),
#endif
    T(test_invalid_arguments_refused),
    T(test_malformed_response_reports_offset),
    T(test_answer_reused_from_work_buffer_is_refused_before_sending),
    T(test_request_changed_while_sending_aborts_instead_of_hanging),
    T(test_url_citations_need_more_tokens_than_the_budget_and_fit),
    T(test_tool_calls_are_named_not_silent),
    T(test_only_choice_zero_is_the_answer),
    T(test_non_json_body_says_what_arrived),
    T(test_tls_answer_on_a_plain_connection_is_named),
    T(test_timeout_names_the_limit_that_fired),
    T(test_progressing_stream_outlives_the_old_total_default),
    T(test_bad_api_key_byte_is_named),
    T(test_strerror_covers_every_status),
#if !CW_CONFIG_RETRIES
    T(test_retries_compiled_out_refuse_max_retries),
#endif
};

CW_TEST_MAIN(tests)
