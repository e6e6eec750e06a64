/*
 * test_history.c - cw_history_t: a conversation in caller storage, and the
 * multi-turn loop it is for, over the scripted transport: the answer of
 * each turn goes into the next request, streamed and not, with a 429 (and
 * its retry) in the middle. Every request the client sent is parsed back
 * with cJSON and compared with the conversation so far.
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

#include <cjson/cJSON.h>

static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[256];
static uint8_t work_buf[8192];

TEST(test_add_copies_role_and_text)
{
    cw_message_t msgs[4];
    char text[64];
    char src[16] = "hello";
    cw_history_t h;

    cw_history_init(&h, msgs, 4, text, sizeof text);
    CHECK_EQ_INT(cw_history_add(&h, "user", src, 5), CW_OK);
    strcpy(src, "XXXXX"); /* the caller's copy changes: the history not */
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_STR(msgs[0].role, "user");
    CHECK_EQ_STR(msgs[0].content, "hello");
    CHECK((const char *)msgs[0].content >= text &&
          (const char *)msgs[0].content < text + sizeof text);
    /* a text with a NUL inside is taken by its length */
    CHECK_EQ_INT(cw_history_add(&h, "assistant", "ab", 2), CW_OK);
    CHECK_EQ_STR(msgs[1].content, "ab");
    CHECK_EQ_INT(h.text_used, 4u + 1u + 5u + 1u + 9u + 1u + 2u + 1u);
    cw_history_pop(&h);
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_INT(h.text_used, 11);
}

TEST(test_append_grows_the_last_message_or_starts_one)
{
    cw_message_t msgs[4];
    char text[64];
    cw_history_t h;

    cw_history_init(&h, msgs, 4, text, sizeof text);
    CHECK_EQ_INT(cw_history_add(&h, "user", "q", 1), CW_OK);
    CHECK_EQ_INT(cw_history_append(&h, "assistant", "Hel", 3), CW_OK);
    CHECK_EQ_INT(cw_history_on_delta(&h, "lo", 2), 0);
    CHECK_EQ_INT(h.count, 2);
    CHECK_EQ_STR(msgs[1].role, "assistant");
    CHECK_EQ_STR(msgs[1].content, "Hello");
    CHECK_EQ_INT(cw_history_append(&h, "user", "next", 4), CW_OK);
    CHECK_EQ_INT(h.count, 3);
    CHECK_EQ_STR(msgs[2].content, "next");
}

TEST(test_full_history_refuses_and_changes_nothing)
{
    cw_message_t msgs[2];
    char text[24];
    cw_history_t h;

    cw_history_init(&h, msgs, 2, text, sizeof text);
    CHECK_EQ_INT(cw_history_add(&h, "user", "0123456789", 10), CW_OK);
    CHECK_EQ_INT(cw_history_add(&h, "assistant", "0123456789", 10),
                 CW_ERR_BUFFER_TOO_SMALL); /* text full */
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_INT(cw_history_add(&h, "user", "x", 1), CW_OK);
    CHECK_EQ_INT(cw_history_add(&h, "user", "y", 1),
                 CW_ERR_BUFFER_TOO_SMALL); /* slots full */
    CHECK_EQ_INT(cw_history_append(&h, "user", "0123456789", 10),
                 CW_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_STR(msgs[1].content, "x");
    CHECK_EQ_INT(cw_history_on_delta(&h, "0123456789", 10),
                 CW_ERR_BUFFER_TOO_SMALL); /* a status: not CW_OK stops */
    /* bad arguments */
    CHECK_EQ_INT(cw_history_add(&h, NULL, "x", 1), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_history_add(&h, "", "x", 1), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_history_add(&h, "user", NULL, 1), CW_ERR_INVALID_ARG);
    /* text from the history itself could move under it */
    CHECK_EQ_INT(cw_history_add(&h, "user", msgs[0].content, 2),
                 CW_ERR_INVALID_ARG);
}

TEST(test_drop_oldest_keeps_pinned_and_whole_turns)
{
    cw_message_t msgs[8];
    char text[96];
    cw_history_t h;
    char line[16];
    int i;

    cw_history_init(&h, msgs, 8, text, sizeof text);
    CHECK_EQ_INT(cw_history_add(&h, "system", "Be brief.", 9), CW_OK);
    h.pinned = 1;
    h.drop_oldest = true;
    for (i = 0; i < 10; i++) {
        int n = snprintf(line, sizeof line, "q%d", i);
        CHECK_EQ_INT(cw_history_add(&h, "user", line, (size_t)n), CW_OK);
        n = snprintf(line, sizeof line, "answer %d", i);
        CHECK_EQ_INT(cw_history_add(&h, "assistant", line, (size_t)n), CW_OK);
    }
    CHECK(h.dropped > 0u);
    CHECK_EQ_STR(msgs[0].role, "system");
    CHECK_EQ_STR(msgs[0].content, "Be brief.");
    CHECK_EQ_STR(msgs[1].role, "user"); /* a turn starts after the pin */
    CHECK_EQ_STR(msgs[h.count - 2u].content, "q9");
    CHECK_EQ_STR(msgs[h.count - 1u].content, "answer 9");
    for (i = 1; i < (int)h.count; i++) {
        /* roles alternate, every pointer is inside the storage */
        CHECK_EQ_STR(msgs[i].role, i % 2 == 1 ? "user" : "assistant");
        CHECK(msgs[i].content > text && msgs[i].content < text + h.text_used);
    }
    /* a text that cannot fit even alone is refused, with nothing dropped */
    {
        size_t before = h.count;
        static const char big[100] = { 'x' };
        CHECK_EQ_INT(cw_history_add(&h, "user", big, sizeof big),
                     CW_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ_INT(h.count, before);
    }
}

/* ------------------------------------------------------------ multi-turn */

static char responses[6][1024];
static const uint8_t *queue[6];
static size_t queue_len[6];

static void answer(int i, bool stream, const char *text)
{
    char body[512];
    int n;
    if (stream) {
        n = snprintf(body, sizeof body,
                     "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                     "\"assistant\",\"content\":\"\"}}]}\n\n"
                     "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                     "\"%.*s\"}}]}\n\ndata: {\"choices\":[{\"index\":0,"
                     "\"delta\":{\"content\":\"%s\"},\"finish_reason\":"
                     "\"stop\"}]}\n\ndata: [DONE]\n\n",
                     3, text, text + 3);
        snprintf(responses[i], sizeof responses[i],
                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 "Content-Length: %d\r\n\r\n%s", n, body);
    } else {
        n = snprintf(body, sizeof body,
                     "{\"choices\":[{\"index\":0,\"message\":{\"role\":"
                     "\"assistant\",\"content\":\"%s\"},\"finish_reason\":"
                     "\"stop\"}]}", text);
        snprintf(responses[i], sizeof responses[i],
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s", n, body);
    }
}

static void rate_limited(int i)
{
    static const char body[] =
        "{\"error\":{\"message\":\"Rate limit reached for requests\","
        "\"type\":\"requests\",\"param\":null,\"code\":"
        "\"rate_limit_exceeded\"}}";
    snprintf(responses[i], sizeof responses[i],
             "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json"
             "\r\nretry-after-ms: 20\r\nContent-Length: %zu\r\n\r\n%s",
             sizeof body - 1u, body);
}

static void sleep_hook(void *ctx, uint32_t ms)
{
    (void)ctx;
    fake.clock += ms;
}

/* The JSON bodies of the requests sent so far, in order. */
static size_t sent_bodies(cJSON **out, size_t max)
{
    size_t n = 0;
    const char *p = (const char *)fake.sent;
    const char *end = p + fake.sent_len;

    while (p < end && n < max) {
        const char *cl = strstr(p, "Content-Length: ");
        const char *b = strstr(p, "\r\n\r\n");
        size_t len;
        if (cl == NULL || b == NULL) {
            break;
        }
        len = (size_t)strtoul(cl + 16, NULL, 10);
        out[n++] = cJSON_ParseWithLength(b + 4, len);
        p = b + 4 + len;
    }
    return n;
}

/* The request's messages equal the history's first `count`. */
static void check_messages(const cJSON *body, const cw_message_t *msgs,
                           size_t count)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, "messages");
    size_t i;
    CHECK(cJSON_IsArray(arr));
    CHECK_EQ_INT(cJSON_GetArraySize(arr), count);
    for (i = 0; i < count && cJSON_IsArray(arr); i++) {
        const cJSON *m = cJSON_GetArrayItem(arr, (int)i);
        CHECK_EQ_STR(cJSON_GetStringValue(
                         cJSON_GetObjectItemCaseSensitive(m, "role")),
                     msgs[i].role);
        CHECK_EQ_STR(cJSON_GetStringValue(
                         cJSON_GetObjectItemCaseSensitive(m, "content")),
                     msgs[i].content);
    }
}

static void conversation(bool stream)
{
    static const char *const prompts[3] = { "Hello", "Tell me more",
                                            "Thanks" };
    static const char *const answers[3] = { "Hi there!", "Here is more.",
                                            "You are welcome." };
    cw_client_config_t cfg;
    cw_message_t msgs[8];
    char text[1024];
    cw_history_t h;
    cJSON *bodies[6];
    size_t nb;
    size_t i;
    int q = 0;
    int turn;

    /* the second turn meets a 429 first, then its retry succeeds */
    answer(q++, stream, answers[0]);
    if (CW_CONFIG_RETRIES) {
        rate_limited(q++);
    }
    answer(q++, stream, answers[1]);
    answer(q++, stream, answers[2]);
    for (i = 0; i < (size_t)q; i++) {
        queue[i] = (const uint8_t *)responses[i];
        queue_len[i] = strlen(responses[i]);
    }
    memset(&cfg, 0, sizeof cfg);
    fake_reset(&fake, NULL, 0);
    fake.queue = queue;
    fake.queue_len = queue_len;
    fake.queue_n = (size_t)q;
    cfg.transport = fake_transport(&fake);
    cfg.api_key = "sk-test";
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = 60000;
    cfg.max_retries = CW_CONFIG_RETRIES ? 2 : 0;
    cfg.platform.sleep_ms = sleep_hook;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);

    cw_history_init(&h, msgs, 8, text, sizeof text);
    for (turn = 0; turn < 3; turn++) {
        cw_chat_request_t req;
        cw_result_t res;
        int rc;

        CHECK_EQ_INT(cw_history_add(&h, "user", prompts[turn],
                                    strlen(prompts[turn])), CW_OK);
        cw_chat_request_init(&req, h.msgs, h.count);
        req.stream = stream;
        req.on_delta = cw_history_on_delta;
        req.on_delta_user = &h;
        rc = cw_chat(&client, &req, &res);
        CHECK_EQ_INT(rc, CW_OK);
        if (!stream && rc == CW_OK) {
            CHECK_EQ_INT(cw_history_add(&h, "assistant", res.content,
                                        res.content_len), CW_OK);
        }
        CHECK_EQ_INT(res.attempts, turn == 1 && CW_CONFIG_RETRIES ? 2 : 1);
        CHECK_EQ_STR(h.msgs[h.count - 1u].content, answers[turn]);
    }
    CHECK_EQ_INT(h.count, 6);

    nb = sent_bodies(bodies, 6);
    CHECK_EQ_INT(nb, (size_t)q);
    /* each request carries the conversation up to its prompt */
    check_messages(bodies[0], msgs, 1);
    check_messages(bodies[1], msgs, 3);
    check_messages(bodies[nb - 1u], msgs, 5);
    if (CW_CONFIG_RETRIES && nb == 4u) {
        /* the retry after the 429 sent the very same body */
        char *a = cJSON_PrintUnformatted(bodies[1]);
        char *b = cJSON_PrintUnformatted(bodies[2]);
        CHECK_EQ_STR(a, b);
        cJSON_free(a);
        cJSON_free(b);
    }
    for (i = 0; i < nb; i++) {
        cJSON_Delete(bodies[i]);
    }
}

TEST(test_multi_turn_with_a_429_in_the_middle)
{
    conversation(false);
}

TEST(test_multi_turn_streamed_with_a_429_in_the_middle)
{
    conversation(true);
}

#if CW_CONFIG_TOOLS
/* A call as a response would give it (arguments in some buffer). */
static cw_tool_call_t call(const char *id, const char *name,
                           const char *arguments)
{
    cw_tool_call_t c;
    memset(&c, 0, sizeof c);
    strcpy(c.id, id);
    strcpy(c.type, "function");
    strcpy(c.name, name);
    c.arguments = arguments;
    c.arguments_len = strlen(arguments);
    return c;
}

/* The body cw_chat would send for the history, parsed back. */
static uint8_t body_out[16384];
static size_t body_len;

static int body_sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (body_len + len > sizeof body_out) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(body_out + body_len, data, len);
    body_len += len;
    return CW_OK;
}

static cJSON *history_body(const cw_history_t *h)
{
    static uint8_t buf[64];
    cw_chat_request_t req;

    cw_chat_request_init(&req, h->msgs, h->count);
    req.message_ext = h->ext;
    body_len = 0;
    if (cw_request_write_body(&req, buf, sizeof buf, body_sink, NULL,
                              NULL) != CW_OK) {
        return NULL;
    }
    return cJSON_ParseWithLength((const char *)body_out, body_len);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

TEST(test_tool_rounds_are_kept_and_sent_back)
{
    cw_message_t msgs[8];
    cw_message_ext_t ext[8];
    cw_tool_call_t store[4];
    char text[512];
    char scratch[32];
    cw_history_t h;
    cw_tool_call_t got[2];
    cJSON *b;
    const cJSON *m;

    cw_history_init(&h, msgs, 8, text, sizeof text);
    cw_history_init_tools(&h, ext, store, 4);
    CHECK_EQ_INT(cw_history_add(&h, "user", "LED on; how warm?", 17), CW_OK);
    /* the calls come from the response's storage, which the next call
     * overwrites: the history copies them */
    strcpy(scratch, "{\"on\":true}");
    got[0] = call("call_a", "set_led", scratch);
    got[1] = call("call_b", "read_temperature", "{}");
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, got, 2), CW_OK);
    memset(scratch, 'X', sizeof scratch - 1u);
    memset(got, 0, sizeof got);
    CHECK_EQ_INT(cw_history_add_tool_result(&h, "call_a", "{\"ok\":true}",
                                            11), CW_OK);
    CHECK_EQ_INT(cw_history_add_tool_result(&h, "call_b", "21.5", 4), CW_OK);
    CHECK_EQ_INT(h.count, 4);
    CHECK_EQ_INT(h.calls_used, 2);
    b = history_body(&h);
    CHECK(b != NULL);
    m = cJSON_GetObjectItem(b, "messages");
    CHECK_EQ_INT(cJSON_GetArraySize(m), 4);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 1), "role"), "assistant");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1),
                                           "content")));
    {
        const cJSON *tc = cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1),
                                              "tool_calls");
        CHECK_EQ_INT(cJSON_GetArraySize(tc), 2);
        CHECK_EQ_STR(jstr(cJSON_GetArrayItem(tc, 0), "id"), "call_a");
        CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 0),
                                              "function"), "arguments"),
                     "{\"on\":true}");
        CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 1),
                                              "function"), "name"),
                     "read_temperature");
    }
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 2), "role"), "tool");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 2), "tool_call_id"), "call_a");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 2), "content"), "{\"ok\":true}");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 3), "tool_call_id"), "call_b");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 3), "content"), "21.5");
    cJSON_Delete(b);

    /* the final answer streams in as a new assistant message */
    CHECK_EQ_INT(cw_history_on_delta(&h, "It is on; 21.5", 14), 0);
    CHECK_EQ_INT(h.count, 5);
    CHECK_EQ_STR(msgs[4].content, "It is on; 21.5");
    /* popping gives back the calls' storage */
    cw_history_pop(&h);
    cw_history_pop(&h);
    cw_history_pop(&h);
    cw_history_pop(&h);
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_INT(h.calls_used, 0);
}

TEST(test_streamed_text_then_calls_make_one_assistant_message)
{
    cw_message_t msgs[4];
    cw_message_ext_t ext[4];
    cw_tool_call_t store[2];
    char text[256];
    cw_history_t h;
    cw_tool_call_t c = call("call_1", "set_led", "{}");
    cJSON *b;
    const cJSON *m;

    cw_history_init(&h, msgs, 4, text, sizeof text);
    cw_history_init_tools(&h, ext, store, 2);
    cw_history_add(&h, "user", "hi", 2);
    cw_history_on_delta(&h, "Sure.", 5);
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, &c, 1), CW_OK);
    CHECK_EQ_INT(h.count, 2);
    b = history_body(&h);
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 1);
    CHECK_EQ_STR(jstr(m, "content"), "Sure.");
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(m, "tool_calls")), 1);
    cJSON_Delete(b);
    /* more text after the calls starts a new message */
    CHECK_EQ_INT(cw_history_on_delta(&h, "x", 1), 0);
    CHECK_EQ_INT(h.count, 3);
    /* refused: no tools storage, calls inside the history itself, no id */
    {
        cw_history_t plain;
        cw_message_t pm[2];
        char pt[32];
        cw_history_init(&plain, pm, 2, pt, sizeof pt);
        CHECK_EQ_INT(cw_history_add_tool_calls(&plain, &c, 1),
                     CW_ERR_INVALID_ARG);
        CHECK_EQ_INT(cw_history_add_tool_result(&plain, "call_1", "r", 1),
                     CW_ERR_INVALID_ARG);
    }
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, store, 1), CW_ERR_INVALID_ARG);
    c.id[0] = '\0';
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, &c, 1), CW_ERR_INVALID_ARG);
    strcpy(c.id, "call_1");
    /* the call storage is full */
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, &c, 1), CW_OK);
    CHECK_EQ_INT(cw_history_add_tool_calls(&h, &c, 1), CW_ERR_BUFFER_TOO_SMALL);
}

TEST(test_dropping_old_tool_rounds_keeps_the_rest_right)
{
    cw_message_t msgs[6];
    cw_message_ext_t ext[6];
    cw_tool_call_t store[3];
    char text[220];
    cw_history_t h;
    int round;
    char id[16];
    char args[32];

    cw_history_init(&h, msgs, 6, text, sizeof text);
    cw_history_init_tools(&h, ext, store, 3);
    cw_history_add(&h, "system", "Be brief.", 9);
    h.pinned = 1;
    h.drop_oldest = true;
    for (round = 0; round < 12; round++) {
        cw_tool_call_t c;
        cJSON *b;
        const cJSON *m;
        int k;
        char q[16];
        snprintf(q, sizeof q, "question %d", round);
        snprintf(id, sizeof id, "call_%d", round);
        snprintf(args, sizeof args, "{\"round\":%d}", round);
        c = call(id, "set_led", args);
        CHECK_EQ_INT(cw_history_add(&h, "user", q, strlen(q)), CW_OK);
        CHECK_EQ_INT(cw_history_add_tool_calls(&h, &c, 1), CW_OK);
        CHECK_EQ_INT(cw_history_add_tool_result(&h, id, "done", 4), CW_OK);
        /* whatever was dropped, what is left is whole turns, right */
        b = history_body(&h);
        CHECK(b != NULL);
        m = cJSON_GetObjectItem(b, "messages");
        CHECK_EQ_STR(jstr(cJSON_GetArrayItem(m, 0), "content"), "Be brief.");
        for (k = 1; k < cJSON_GetArraySize(m); k += 3) {
            const cJSON *u = cJSON_GetArrayItem(m, k);
            const cJSON *a = cJSON_GetArrayItem(m, k + 1);
            const cJSON *t = cJSON_GetArrayItem(m, k + 2);
            const cJSON *tc = cJSON_GetArrayItem(
                cJSON_GetObjectItem(a, "tool_calls"), 0);
            int r = atoi(jstr(u, "content") + 9);
            char want_args[32];
            char want_id[16];
            snprintf(want_args, sizeof want_args, "{\"round\":%d}", r);
            snprintf(want_id, sizeof want_id, "call_%d", r);
            CHECK_EQ_STR(jstr(u, "role"), "user");
            CHECK_EQ_STR(jstr(tc, "id"), want_id);
            CHECK_EQ_STR(jstr(cJSON_GetObjectItem(tc, "function"),
                              "arguments"), want_args);
            CHECK_EQ_STR(jstr(t, "tool_call_id"), want_id);
            CHECK_EQ_STR(jstr(t, "content"), "done");
        }
        /* the newest round is always there */
        CHECK_EQ_INT(atoi(jstr(cJSON_GetArrayItem(m, cJSON_GetArraySize(m) - 3),
                               "content") + 9), round);
        cJSON_Delete(b);
    }
    CHECK(h.dropped > 0u);
    CHECK(h.calls_used <= 3u);
}
#endif

static const cw_test_case_t tests[] = {
#if CW_CONFIG_TOOLS
    T(test_tool_rounds_are_kept_and_sent_back),
    T(test_streamed_text_then_calls_make_one_assistant_message),
    T(test_dropping_old_tool_rounds_keeps_the_rest_right),
#endif
    T(test_add_copies_role_and_text),
    T(test_append_grows_the_last_message_or_starts_one),
    T(test_full_history_refuses_and_changes_nothing),
    T(test_drop_oldest_keeps_pinned_and_whole_turns),
    T(test_multi_turn_with_a_429_in_the_middle),
    T(test_multi_turn_streamed_with_a_429_in_the_middle),
};

CW_TEST_MAIN(tests)
