/*
 * test_request.c - the request writer: golden bytes, JSON round trips through
 * an independent parser (cJSON), buffer-size independence, validation.
 */
#include "cw_internal.h"
#include "cw_test.h"

#include <cjson/cJSON.h>

typedef struct capture {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t calls;
    size_t largest;
} capture_t;

static int capture_sink(void *ctx, const uint8_t *data, size_t len)
{
    capture_t *c = (capture_t *)ctx;
    if (c->len + len > c->cap) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(c->data + c->len, data, len);
    c->len += len;
    c->calls++;
    if (len > c->largest) {
        c->largest = len;
    }
    return CW_OK;
}

static uint8_t out_store[300000];
static uint8_t ref_store[300000];

static capture_t capture_into(uint8_t *store, size_t cap)
{
    capture_t c;
    memset(&c, 0, sizeof c);
    c.data = store;
    c.cap = cap;
    return c;
}

static const cw_message_t seed_messages[] = {
    { "system", "You are a helpful assistant." },
    { "user", "Explain the significance of snapshot model versions in APIs." },
};

static const char seed_golden[] =
    "POST /v1/chat/completions HTTP/1.1\r\n"
    "Host: api.cometapi.com\r\n"
    "Authorization: Bearer sk-test-123\r\n"
    "Content-Type: application/json\r\n"
    "Accept: application/json\r\n"
    "User-Agent: chatwire/" CW_VERSION_STRING "\r\n"
    "Content-Length: 183\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "{\"model\":\"gpt-4-0314\",\"messages\":[{\"role\":\"system\",\"content\":"
    "\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":"
    "\"Explain the significance of snapshot model versions in APIs.\"}]}";

TEST(test_golden_request_for_seed_example)
{
    cw_url_t url;
    cw_chat_request_t req;
    uint8_t buf[64];
    capture_t cap = capture_into(out_store, sizeof out_store);
    size_t total = 0;

    CHECK_EQ_INT(cw_url_parse(CW_DEFAULT_BASE_URL, &url), CW_OK);
    cw_chat_request_init(&req, seed_messages, 2);
    CHECK_EQ_INT(cw_request_write(&url, "sk-test-123", CW_AUTH_BEARER, &req,
                                  buf, sizeof buf, capture_sink, &cap, &total),
                 CW_OK);
    CHECK_MEM(cap.data, cap.len, seed_golden, sizeof seed_golden - 1u);
    CHECK_EQ_INT(total, sizeof seed_golden - 1u);
    CHECK(cap.largest <= sizeof buf);
}

TEST(test_dry_run_counts_without_sink)
{
    cw_url_t url;
    cw_chat_request_t req;
    size_t total = 0;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, seed_messages, 2);
    CHECK_EQ_INT(cw_request_write(&url, "sk-test-123", CW_AUTH_BEARER, &req,
                                  NULL, 0, NULL, NULL, &total),
                 CW_OK);
    CHECK_EQ_INT(total, sizeof seed_golden - 1u);
}

/* Writes the request with buffer size n into out_store; returns length. */
static size_t write_with(const cw_url_t *url, const char *key,
                         cw_auth_style_t auth, const cw_chat_request_t *req,
                         size_t n, int *rc)
{
    static uint8_t buf[4096];
    capture_t cap = capture_into(out_store, sizeof out_store);
    *rc = cw_request_write(url, key, auth, req, buf, n, capture_sink, &cap,
                           NULL);
    return cap.len;
}

/* The request line and Host header for a base URL. */
static void check_head(const char *base, const char *line, const char *host)
{
    cw_url_t url;
    cw_chat_request_t req;
    int rc;
    size_t len;

    CHECK_EQ_INT(cw_url_parse(base, &url), CW_OK);
    cw_chat_request_init(&req, seed_messages, 2);
    len = write_with(&url, "k", CW_AUTH_BEARER, &req, 256, &rc);
    CHECK_EQ_INT(rc, CW_OK);
    out_store[len] = 0;
    if (strncmp((const char *)out_store, line, strlen(line)) != 0 ||
        strstr((const char *)out_store, host) == NULL) {
        fprintf(stderr, "base %s gave:\n%.120s\n", base, out_store);
        cw_test_failures++;
    }
}

TEST(test_base_url_joins_path_with_or_without_slash)
{
    check_head("https://api.cometapi.com/v1",
               "POST /v1/chat/completions HTTP/1.1\r\n",
               "\r\nHost: api.cometapi.com\r\n");
    check_head("https://api.cometapi.com/v1/",
               "POST /v1/chat/completions HTTP/1.1\r\n",
               "\r\nHost: api.cometapi.com\r\n");
    check_head("https://api.openai.com", "POST /chat/completions HTTP/1.1\r\n",
               "\r\nHost: api.openai.com\r\n");
    check_head("https://api.openai.com/", "POST /chat/completions HTTP/1.1\r\n",
               "\r\nHost: api.openai.com\r\n");
    check_head("https://openrouter.ai/api/v1/",
               "POST /api/v1/chat/completions HTTP/1.1\r\n",
               "\r\nHost: openrouter.ai\r\n");
    check_head("http://localhost:8080/v1",
               "POST /v1/chat/completions HTTP/1.1\r\n",
               "\r\nHost: localhost:8080\r\n");
    check_head("http://127.0.0.1:80/v1", "POST /v1/chat/completions",
               "\r\nHost: 127.0.0.1\r\n");
    check_head("https://127.0.0.1:443/v1", "POST /v1/chat/completions",
               "\r\nHost: 127.0.0.1\r\n");
    check_head("https://localhost:8443/v1", "POST /v1/chat/completions",
               "\r\nHost: localhost:8443\r\n");
    check_head("https://[::1]:8443/v1", "POST /v1/chat/completions",
               "\r\nHost: [::1]:8443\r\n");
    check_head("https://res.openai.azure.com/openai/deployments/gpt4o"
               "?api-version=2024-10-21",
               "POST /openai/deployments/gpt4o/chat/completions"
               "?api-version=2024-10-21 HTTP/1.1\r\n",
               "\r\nHost: res.openai.azure.com\r\n");
}

TEST(test_url_parse_fields_and_refusals)
{
    cw_url_t u;

    CHECK_EQ_INT(cw_url_parse("https://[::1]:8443/v1", &u), CW_OK);
    CHECK(u.ipv6 && u.tls && u.port == 8443 && u.port_explicit);
    CHECK_MEM(u.host, u.host_len, "::1", 3u);
    CHECK_EQ_INT(cw_url_parse("http://example.com", &u), CW_OK);
    CHECK(!u.tls && u.port == 80 && u.path_len == 0 && u.query_len == 0);
    CHECK_EQ_INT(cw_url_parse("ftp://example.com", &u), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://", &u), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://user:pw@host/v1", &u),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host:0/v1", &u), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host:65536/v1", &u),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host:123456/v1", &u),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host/v 1", &u), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host/v1\r\nX: y", &u),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://host/v1#frag", &u),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse("https://[::1/v1", &u), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_url_parse(NULL, &u), CW_ERR_INVALID_ARG);
}

TEST(test_api_key_header_styles_and_injection)
{
    cw_url_t url;
    cw_chat_request_t req;
    int rc;
    size_t len;

    cw_url_parse("https://res.openai.azure.com/openai/v1", &url);
    cw_chat_request_init(&req, seed_messages, 2);
    len = write_with(&url, "azkey", CW_AUTH_API_KEY, &req, 256, &rc);
    CHECK_EQ_INT(rc, CW_OK);
    out_store[len] = 0;
    CHECK(strstr((char *)out_store, "\r\napi-key: azkey\r\n") != NULL);
    CHECK(strstr((char *)out_store, "Authorization") == NULL);

    len = write_with(&url, "", CW_AUTH_BEARER, &req, 256, &rc);
    out_store[len] = 0;
    CHECK_EQ_INT(rc, CW_OK);
    CHECK(strstr((char *)out_store, "Authorization") == NULL);

    len = write_with(&url, "sk-1\r\nX-Evil: 1", CW_AUTH_BEARER, &req, 256,
                     &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(len, 0);
    len = write_with(&url, "sk 1", CW_AUTH_BEARER, &req, 256, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
}

/* Every control character, quotes, backslashes, CJK, emoji. */
static char tricky[512];

static void make_tricky(void)
{
    size_t n = 0;
    int ch;
    const char *rest = "\"quoted\" back\\slash \\\" /slash/ "
                       "\xe4\xb8\xad\xe6\x96\x87 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
                       "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd "
                       "\xc3\xa9\xc3\xa0 \x7f end";
    for (ch = 1; ch < 0x20; ch++) {
        tricky[n++] = (char)ch;
    }
    memcpy(tricky + n, rest, strlen(rest) + 1u);
}

static cJSON *parse_body(const uint8_t *req, size_t len)
{
    const char *body = strstr((const char *)req, "\r\n\r\n");
    if (body == NULL) {
        return NULL;
    }
    body += 4;
    return cJSON_ParseWithLength(body, len - (size_t)(body - (const char *)req));
}

TEST(test_request_json_round_trip_through_cjson)
{
    cw_url_t url;
    cw_chat_request_t req;
    cw_message_t msgs[3];
    const char *stops[2] = { "\n\n", "END\"" };
    cJSON *root;
    cJSON *m;
    int rc;
    size_t len;

    make_tricky();
    msgs[0].role = "system";
    msgs[0].content = tricky;
    msgs[1].role = "user";
    msgs[1].content = "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x81 \xf0\x9f\xa6\x80";
    msgs[2].role = "assistant";
    msgs[2].content = "";
    cw_url_parse("http://localhost:1234/v1", &url);
    cw_chat_request_init(&req, msgs, 3);
    req.model = "m\"odel";
    req.stream = true;
    req.include_usage = true;
    req.max_tokens = 1000;
#if CW_CONFIG_REQUEST_OPTIONS
    req.temperature = 0.7f;
    req.top_p = 1.0f;
    req.stop = stops;
    req.stop_count = 2;
    req.user = "user-\xc3\xa9";
#else
    (void)stops;
#endif
    len = write_with(&url, "k", CW_AUTH_BEARER, &req, 300, &rc);
    CHECK_EQ_INT(rc, CW_OK);
    out_store[len] = 0;
    CHECK(strstr((char *)out_store, "\r\nAccept: text/event-stream\r\n") !=
          NULL);
    root = parse_body(out_store, len);
    CHECK(root != NULL);
    if (root == NULL) {
        return;
    }
    CHECK_EQ_STR(cJSON_GetObjectItem(root, "model")->valuestring, "m\"odel");
    m = cJSON_GetObjectItem(root, "messages");
    CHECK_EQ_INT(cJSON_GetArraySize(m), 3);
    CHECK_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 0), "content")
                     ->valuestring, tricky);
    CHECK_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1), "content")
                     ->valuestring, msgs[1].content);
    CHECK_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "content")
                     ->valuestring, "");
    CHECK_EQ_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "role")
                     ->valuestring, "assistant");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(root, "stream")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(root, "stream_options"), "include_usage")));
    CHECK_EQ_INT(cJSON_GetObjectItem(root, "max_tokens")->valueint, 1000);
#if CW_CONFIG_REQUEST_OPTIONS
    /* the text sent, and what a parser reads from it; the constant is
     * cast to double because on x87 (i686) C evaluates it in long double
     * (FLT_EVAL_METHOD 2), where 0.7 is another number */
    CHECK(strstr((char *)out_store, "\"temperature\":0.7,") != NULL);
    CHECK(cJSON_GetObjectItem(root, "temperature")->valuedouble == (double)0.7);
    CHECK(cJSON_GetObjectItem(root, "top_p")->valuedouble == (double)1.0);
    CHECK_EQ_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "stop"), 1)
                     ->valuestring, "END\"");
    CHECK_EQ_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "stop"), 0)
                     ->valuestring, "\n\n");
    CHECK_EQ_STR(cJSON_GetObjectItem(root, "user")->valuestring,
                 "user-\xc3\xa9");
#else
    CHECK(cJSON_GetObjectItem(root, "temperature") == NULL);
    CHECK(cJSON_GetObjectItem(root, "stop") == NULL);
#endif
    cJSON_Delete(root);
}

TEST(test_control_characters_escaped_as_u00xx)
{
    cw_url_t url;
    cw_chat_request_t req;
    cw_message_t msg = { "user", "a\x01" "b\x1f" "c\nd" };
    int rc;
    size_t len;

    cw_url_parse("http://h/v1", &url);
    cw_chat_request_init(&req, &msg, 1);
    len = write_with(&url, NULL, CW_AUTH_BEARER, &req, 100, &rc);
    CHECK_EQ_INT(rc, CW_OK);
    out_store[len] = 0;
    CHECK(strstr((char *)out_store, "\"a\\u0001b\\u001fc\\nd\"") != NULL);
}

TEST(test_identical_bytes_for_every_buffer_size_1_to_300)
{
    cw_url_t url;
    cw_chat_request_t req;
    cw_message_t msgs[2];
    capture_t ref = capture_into(ref_store, sizeof ref_store);
    static uint8_t big[4096];
    size_t n;
    int rc;

    make_tricky();
    msgs[0].role = "system";
    msgs[0].content = tricky;
    msgs[1].role = "user";
    msgs[1].content = "Explain \xf0\x9f\x98\x80 in \"JSON\".";
    cw_url_parse("https://api.cometapi.com/v1/", &url);
    cw_chat_request_init(&req, msgs, 2);
    req.stream = true;
    req.temperature = CW_CONFIG_REQUEST_OPTIONS ? 0.25f : -1.0f;
    CHECK_EQ_INT(cw_request_write(&url, "sk-abc", CW_AUTH_BEARER, &req, big,
                                  sizeof big, capture_sink, &ref, NULL),
                 CW_OK);
    for (n = 1; n <= 300; n++) {
        size_t len = write_with(&url, "sk-abc", CW_AUTH_BEARER, &req, n, &rc);
        CHECK_EQ_INT(rc, CW_OK);
        if (len != ref.len || memcmp(out_store, ref.data, len) != 0) {
            fprintf(stderr, "buffer size %zu gives different bytes\n", n);
            cw_test_failures++;
            break;
        }
    }
}

TEST(test_100kb_history_goes_out_through_256_byte_buffer)
{
    static char contents[100][1100];
    static cw_message_t msgs[100];
    cw_url_t url;
    cw_chat_request_t req;
    uint8_t buf[256];
    capture_t cap = capture_into(out_store, sizeof out_store);
    size_t total = 0;
    size_t i;
    cJSON *root;

    for (i = 0; i < 100; i++) {
        memset(contents[i], 'a' + (int)(i % 26), 1023);
        contents[i][1023] = '\0';
        msgs[i].role = (i % 2 == 0) ? "user" : "assistant";
        msgs[i].content = contents[i];
    }
    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, msgs, 100);
    CHECK_EQ_INT(cw_request_write(&url, "k", CW_AUTH_BEARER, &req, buf,
                                  sizeof buf, capture_sink, &cap, &total),
                 CW_OK);
    CHECK(total > 100u * 1024u);
    CHECK_EQ_INT(cap.len, total);
    CHECK(cap.largest <= sizeof buf);
    CHECK(cap.calls >= total / sizeof buf);
    root = parse_body(cap.data, cap.len);
    CHECK(root != NULL);
    if (root != NULL) {
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(root, "messages")),
                     100);
        CHECK_EQ_STR(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(root,
                                                                "messages"),
                                            99),
                         "content")->valuestring,
                     contents[99]);
        cJSON_Delete(root);
    }
}

TEST(test_invalid_utf8_rejected_before_anything_is_sent)
{
    static const char *const bad[] = {
        "\xc3",              /* truncated 2-byte */
        "a\x80z",            /* lone continuation */
        "\xc0\xaf",          /* overlong '/' */
        "\xe0\x80\xaf",      /* overlong */
        "\xed\xa0\x80",      /* UTF-16 surrogate D800 */
        "\xf4\x90\x80\x80",  /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80", /* 5-byte form */
        "\xe4\xb8",          /* truncated CJK */
        "ok \xff",
    };
    cw_url_t url;
    size_t i;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cw_message_t msg = { "user", bad[i] };
        cw_chat_request_t req;
        int rc;
        size_t len;
        cw_chat_request_init(&req, &msg, 1);
        len = write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
        CHECK_EQ_INT(rc, CW_ERR_INVALID_UTF8);
        CHECK_EQ_INT(len, 0);
    }
}

TEST(test_bad_request_arguments_refused)
{
    cw_url_t url;
    cw_chat_request_t req;
    cw_message_t msg = { "user", "hi" };
    cw_message_t norole = { NULL, "hi" };
    const char *stops[5] = { "a", "b", "c", "d", "e" };
    int rc;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, &msg, 0);
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &norole, 1);
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.temperature = 2.5f;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    req.temperature = 0.0f / 0.0f;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.top_p = 1.5f;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.stop = stops;
    req.stop_count = 5;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.include_usage = true; /* without stream */
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.model = "";
    write_with(&url, "k", CW_AUTH_BEARER, &req, 16, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
}

#if CW_CONFIG_REQUEST_OPTIONS
TEST(test_decimal_formatting_of_sampling_options)
{
    static const struct {
        float v;
        const char *text;
    } cases[] = { { 0.0f, "\"temperature\":0," }, { 0.7f, "\"temperature\":0.7," },
                  { 1.0f, "\"temperature\":1," }, { 2.0f, "\"temperature\":2," },
                  { 0.05f, "\"temperature\":0.05," },
                  { 1.234f, "\"temperature\":1.234," } };
    cw_url_t url;
    cw_message_t msg = { "user", "hi" };
    size_t i;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_chat_request_t req;
        int rc;
        size_t len;
        cw_chat_request_init(&req, &msg, 1);
        req.temperature = cases[i].v;
        req.top_p = 0.5f;
        len = write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
        CHECK_EQ_INT(rc, CW_OK);
        out_store[len] = 0;
        if (strstr((char *)out_store, cases[i].text) == NULL) {
            fprintf(stderr, "want %s in %s\n", cases[i].text,
                    strstr((char *)out_store, "\r\n\r\n"));
            cw_test_failures++;
        }
        CHECK(strstr((char *)out_store, "\"top_p\":0.5}") != NULL);
    }
}
#else
TEST(test_sampling_options_left_out_are_refused_not_dropped)
{
    cw_url_t url;
    cw_message_t msg = { "user", "hi" };
    const char *stops[1] = { "x" };
    cw_chat_request_t req;
    int rc;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, &msg, 1);
    req.temperature = 0.5f;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.top_p = 0.0f;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.stop = stops;
    req.stop_count = 1;
    write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1);
    req.user = "u";
    write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
    CHECK_EQ_INT(rc, CW_ERR_INVALID_ARG);
    cw_chat_request_init(&req, &msg, 1); /* none set: fine */
    write_with(&url, "k", CW_AUTH_BEARER, &req, 64, &rc);
    CHECK_EQ_INT(rc, CW_OK);
}
#endif

static int failing_sink(void *ctx, const uint8_t *data, size_t len)
{
    size_t *budget = (size_t *)ctx;
    (void)data;
    if (len > *budget) {
        return CW_ERR_CLOSED;
    }
    *budget -= len;
    return CW_OK;
}

TEST(test_sink_error_stops_the_write)
{
    cw_url_t url;
    cw_chat_request_t req;
    uint8_t buf[32];
    size_t budget = 100;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, seed_messages, 2);
    CHECK_EQ_INT(cw_request_write(&url, "k", CW_AUTH_BEARER, &req, buf,
                                  sizeof buf, failing_sink, &budget, NULL),
                 CW_ERR_CLOSED);
}

/* A sink that answers with a byte count, as write() would: not CW_OK. */
static int counting_sink(void *ctx, const uint8_t *data, size_t len)
{
    size_t *calls = (size_t *)ctx;
    (void)data;
    (void)len;
    (*calls)++;
    return 1;
}

/* The one callback rule: any value but CW_OK stops; a positive one is
 * CW_ERR_ABORTED (a negative one is returned as it is, above). */
TEST(test_sink_positive_return_stops_the_write_as_aborted)
{
    cw_url_t url;
    cw_chat_request_t req;
    uint8_t buf[32];
    size_t calls = 0;

    cw_url_parse(CW_DEFAULT_BASE_URL, &url);
    cw_chat_request_init(&req, seed_messages, 2);
    CHECK_EQ_INT(cw_request_write(&url, "k", CW_AUTH_BEARER, &req, buf,
                                  sizeof buf, counting_sink, &calls, NULL),
                 CW_ERR_ABORTED);
    CHECK_EQ_INT(calls, 1);
}

static const cw_test_case_t tests[] = {
    T(test_golden_request_for_seed_example),
    T(test_dry_run_counts_without_sink),
    T(test_base_url_joins_path_with_or_without_slash),
    T(test_url_parse_fields_and_refusals),
    T(test_api_key_header_styles_and_injection),
    T(test_request_json_round_trip_through_cjson),
    T(test_control_characters_escaped_as_u00xx),
    T(test_identical_bytes_for_every_buffer_size_1_to_300),
    T(test_100kb_history_goes_out_through_256_byte_buffer),
    T(test_invalid_utf8_rejected_before_anything_is_sent),
    T(test_bad_request_arguments_refused),
#if CW_CONFIG_REQUEST_OPTIONS
    T(test_decimal_formatting_of_sampling_options),
#else
    T(test_sampling_options_left_out_are_refused_not_dropped),
#endif
    T(test_sink_error_stops_the_write),
    T(test_sink_positive_return_stops_the_write_as_aborted),
};

CW_TEST_MAIN(tests)
