/*
 * test_tools_request.c - the 2026 request surface: tools, tool choice,
 * assistant tool calls and tool results, message extensions, content parts
 * (images and audio streamed through base64 from a reader), the reasoning
 * models' options, structured output, extra members and headers; and the
 * checks on every caller-given JSON text. Bodies are read back with an
 * independent parser (cJSON); the bytes are compared across output buffer
 * sizes and reader chunk sizes.
 */
#include "cw_internal.h"
#include "cw_test.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct capture {
    uint8_t *data;
    size_t len;
    size_t cap;
} capture_t;

static int capture_sink(void *ctx, const uint8_t *data, size_t len)
{
    capture_t *c = (capture_t *)ctx;
    if (c->len + len > c->cap) {
        return CW_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(c->data + c->len, data, len);
    c->len += len;
    return CW_OK;
}

static uint8_t out_store[1u << 20];
static cw_url_t url;

/* The whole request with an output buffer of n bytes into store; returns
 * its length (0 on failure, with *rc set). */
static size_t write_req(const cw_chat_request_t *req, size_t n, uint8_t *store,
                        size_t cap, int *rc, cw_result_t *res)
{
    static uint8_t buf[4096];
    capture_t c;
    size_t body_len = 0;

    if (url.host == NULL) {
        cw_url_parse("https://api.example.com/v1", &url);
    }
    memset(&c, 0, sizeof c);
    c.data = store;
    c.cap = cap - 1u;
    if (res != NULL) {
        memset(res, 0, sizeof *res);
    }
    *rc = cw_request_check(&url, "k", CW_AUTH_BEARER, req, &body_len, res,
                           NULL);
    if (*rc != CW_OK) {
        return 0;
    }
    (void)cw_request_rewind(req, NULL); /* readers start again */
    *rc = cw_request_emit(&url, "k", CW_AUTH_BEARER, req, body_len, buf, n,
                          capture_sink, &c, NULL CW_EMIT_RES(res)
                          CW_EMIT_RESUME(NULL));
    store[c.len] = 0;
    return c.len;
}

static const cw_message_t hello[] = { { "user", "Turn the LED on." } };

#if CW_CONFIG_TOOLS && CW_CONFIG_CONTENT_PARTS && CW_CONFIG_REQUEST_OPTIONS && \
    CW_CONFIG_DETAIL

static uint8_t ref_store[1u << 20]; /* the reference bytes */

static cJSON *body_of(const uint8_t *req, size_t len)
{
    const char *body = strstr((const char *)req, "\r\n\r\n");
    const char *cl = strstr((const char *)req, "Content-Length: ");
    if (body == NULL || cl == NULL) {
        return NULL;
    }
    body += 4;
    /* the head's Content-Length is the body's length */
    CHECK_EQ_INT(strtoul(cl + 16, NULL, 10),
                 len - (size_t)(body - (const char *)req));
    return cJSON_ParseWithLength(body, len - (size_t)(body - (const char *)req));
}


/* Writes req with an output buffer of every size in [1, 40] and some
 * larger ones: the bytes must always be the same. Returns the body. */
static cJSON *write_everywhere(const cw_chat_request_t *req, size_t *out_len)
{
    int rc;
    size_t ref = write_req(req, 4096, ref_store, sizeof ref_store, &rc, NULL);
    size_t n;

    CHECK_EQ_INT(rc, CW_OK);
    for (n = 1; n <= 40u; n++) {
        size_t len = write_req(req, n, out_store, sizeof out_store, &rc, NULL);
        CHECK_EQ_INT(rc, CW_OK);
        CHECK_MEM(out_store, len, ref_store, ref);
    }
    if (out_len != NULL) {
        *out_len = ref;
    }
    return body_of(ref_store, ref);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The detail of a refused request, checked to name what it must. */
static void refused(const cw_chat_request_t *req, int want, const char *says)
{
    cw_result_t res;
    int rc;
    write_req(req, 64, out_store, sizeof out_store, &rc, &res);
    CHECK_EQ_INT(rc, want);
    if (strstr(res.detail, says) == NULL) {
        fprintf(stderr, "detail \"%s\" lacks \"%s\"\n", res.detail, says);
        cw_test_failures++;
    }
}


/* ---------------------------------------------------------- JSON text */

TEST(test_json_text_check_accepts_json_and_says_where_it_breaks)
{
    static const struct {
        const char *text;
        size_t bad; /* CW_JSON_TEXT_OK or the offset */
    } cases[] = {
        { "{}", CW_JSON_TEXT_OK },
        { " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
          CW_JSON_TEXT_OK },
        { "[]", CW_JSON_TEXT_OK },
        { "\"s\"", CW_JSON_TEXT_OK },
        { "0", CW_JSON_TEXT_OK },
        { "{\"a\":{}}", CW_JSON_TEXT_OK },
        { "", 0 },
        { "{", 1 },
        { "{\"a\":1,}", 7 },
        { "[1,]", 3 },
        { "{\"a\" 1}", 5 },
        { "{a:1}", 1 },
        { "01", 1 },
        { "1.", 0 },
        { "-", 0 },
        { "tru", 0 },
        { "{\"a\":1}x", 7 },
        { "{\"a\":1} {}", 8 },
        { "\"tab\there\"", 0 },
        { "\"\\x\"", 0 },
        { "\"\\u12g4\"", 0 },
        { "[1 2]", 3 },
        { "{\"a\":1]", 6 },
        { "[}", 1 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = cw_json_text_check(cases[i].text, strlen(cases[i].text),
                                        false, NULL, NULL);
        if (got != cases[i].bad) {
            fprintf(stderr, "case %zu \"%s\": %zu, expected %zu\n", i,
                    cases[i].text, got, cases[i].bad);
            cw_test_failures++;
        }
    }
    /* object only */
    CHECK_EQ_INT(cw_json_text_check("[1]", 3, true, NULL, NULL), 0);
    CHECK(cw_json_text_check(" {} ", 4, true, NULL, NULL) == CW_JSON_TEXT_OK);
}

TEST(test_json_text_check_bounds_the_depth)
{
    static char deep[200];
    size_t i;

    for (i = 0; i < 64u; i++) {
        deep[i] = '[';
        deep[127u - i] = ']';
    }
    CHECK(cw_json_text_check(deep, 128, false, NULL, NULL) == CW_JSON_TEXT_OK);
    memmove(deep + 1, deep, 128);
    deep[0] = '[';
    deep[129] = ']';
    CHECK_EQ_INT(cw_json_text_check(deep, 130, false, NULL, NULL), 64);
}

/* ---------------------------------------------------------- tools */

static const char led_schema[] =
    "{\"type\": \"object\", \"properties\": {\"on\": {\"type\": \"boolean\"}},"
    " \"required\": [\"on\"]}";

TEST(test_tools_and_tool_choice_are_written)
{
    cw_tool_t tools[2];
    cw_chat_request_t req;
    cJSON *b;
    const cJSON *t;

    memset(tools, 0, sizeof tools);
    tools[0].name = "set_led";
    tools[0].description = "Switch the LED \"on\" or off";
    tools[0].parameters = led_schema;
    tools[0].strict = true;
    tools[1].name = "read_temperature";
    cw_chat_request_init(&req, hello, 1);
    req.tools = tools;
    req.tool_count = 2;
    req.tool_choice = CW_TOOL_CHOICE_REQUIRED;
    req.parallel_tool_calls = -1;
    b = write_everywhere(&req, NULL);
    CHECK(b != NULL);
    t = cJSON_GetObjectItem(b, "tools");
    CHECK_EQ_INT(cJSON_GetArraySize(t), 2);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(t, 0), "type"), "function");
    {
        const cJSON *f = cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0),
                                             "function");
        cJSON *want = cJSON_Parse(led_schema);
        CHECK_EQ_STR(jstr(f, "name"), "set_led");
        CHECK_EQ_STR(jstr(f, "description"), "Switch the LED \"on\" or off");
        CHECK(cJSON_Compare(cJSON_GetObjectItem(f, "parameters"), want, 1));
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "strict")));
        cJSON_Delete(want);
        f = cJSON_GetObjectItem(cJSON_GetArrayItem(t, 1), "function");
        CHECK_EQ_STR(jstr(f, "name"), "read_temperature");
        CHECK(cJSON_GetObjectItem(f, "parameters") == NULL);
        CHECK(cJSON_GetObjectItem(f, "description") == NULL);
        CHECK(cJSON_GetObjectItem(f, "strict") == NULL);
    }
    CHECK_EQ_STR(jstr(b, "tool_choice"), "required");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(b, "parallel_tool_calls")));
    cJSON_Delete(b);

    req.tool_choice = CW_TOOL_CHOICE_FUNCTION;
    req.tool_choice_name = "set_led";
    req.parallel_tool_calls = 1;
    b = write_everywhere(&req, NULL);
    t = cJSON_GetObjectItem(b, "tool_choice");
    CHECK_EQ_STR(jstr(t, "type"), "function");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(t, "function"), "name"), "set_led");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(b, "parallel_tool_calls")));
    cJSON_Delete(b);

    req.tool_choice = CW_TOOL_CHOICE_NONE;
    b = write_everywhere(&req, NULL);
    CHECK_EQ_STR(jstr(b, "tool_choice"), "none");
    cJSON_Delete(b);
    req.tool_choice = CW_TOOL_CHOICE_AUTO;
    b = write_everywhere(&req, NULL);
    CHECK_EQ_STR(jstr(b, "tool_choice"), "auto");
    cJSON_Delete(b);
}

TEST(test_tools_are_checked_before_anything_is_sent)
{
    cw_tool_t tool;
    cw_chat_request_t req;
    static const char *const bad_names[] = {
        "", "set led", "set.led", "é",
        "a1234567890123456789012345678901234567890123456789012345678901234"
    };
    size_t i;

    memset(&tool, 0, sizeof tool);
    cw_chat_request_init(&req, hello, 1);
    req.tools = &tool;
    req.tool_count = 1;
    for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        tool.name = bad_names[i];
        refused(&req, CW_ERR_INVALID_ARG, "tools[0].name");
    }
    tool.name = "a123456789012345678901234567890123456789012345678901234567890123";
    {
        int rc;
        write_req(&req, 64, out_store, sizeof out_store, &rc, NULL);
        CHECK_EQ_INT(rc, CW_OK); /* 64 characters */
    }
    tool.name = "set_led";
    tool.parameters = "{\"type\": \"object\",}";
    refused(&req, CW_ERR_INVALID_ARG, "tools[0].parameters is not one "
                                      "well-formed JSON value: at byte 18");
    tool.parameters = "{\"a\": \"\xff\"}";
    refused(&req, CW_ERR_INVALID_UTF8, "not valid UTF-8");
    tool.parameters = NULL;
    req.tool_choice = CW_TOOL_CHOICE_FUNCTION;
    refused(&req, CW_ERR_INVALID_ARG, "tool_choice_name");
    req.tool_choice = (cw_tool_choice_t)9;
    refused(&req, CW_ERR_INVALID_ARG, "tool_choice");
    req.tool_choice = CW_TOOL_CHOICE_UNSET;
    req.tool_count = 2;
    req.tools = NULL;
    refused(&req, CW_ERR_INVALID_ARG, "tools is NULL");
}

/* ---------------------------------------------------------- history */

TEST(test_assistant_tool_calls_and_tool_results_are_written)
{
    cw_message_t msgs[3] = { { "user", "LED on, and how warm is it?" },
                             { "assistant", NULL },
                             { "tool", "{\"ok\":true}" } };
    cw_message_ext_t ext[3];
    cw_tool_call_t calls[2];
    cw_chat_request_t req;
    cJSON *b;
    const cJSON *m;
    const cJSON *tc;

    memset(ext, 0, sizeof ext);
    memset(calls, 0, sizeof calls);
    strcpy(calls[0].id, "call_abc");
    strcpy(calls[0].name, "set_led");
    calls[0].arguments = "{\"on\": true}";
    calls[0].arguments_len = strlen(calls[0].arguments);
    strcpy(calls[1].id, "functions.read_temperature:1");
    strcpy(calls[1].type, "function");
    strcpy(calls[1].name, "read_temperature");
    calls[1].arguments = "";
    ext[1].tool_calls = calls;
    ext[1].tool_call_count = 2;
    ext[1].extra_json = "{\"reasoning_content\": \"The user wants two "
                        "things.\"}";
    ext[2].tool_call_id = "call_abc";
    cw_chat_request_init(&req, msgs, 3);
    req.message_ext = ext;
    b = write_everywhere(&req, NULL);
    CHECK(b != NULL);
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 1);
    CHECK_EQ_STR(jstr(m, "role"), "assistant");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "content")));
    CHECK_EQ_STR(jstr(m, "reasoning_content"), "The user wants two things.");
    tc = cJSON_GetObjectItem(m, "tool_calls");
    CHECK_EQ_INT(cJSON_GetArraySize(tc), 2);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(tc, 0), "id"), "call_abc");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(tc, 0), "type"), "function");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 0),
                                          "function"), "name"), "set_led");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 0),
                                          "function"), "arguments"),
                 "{\"on\": true}");
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(tc, 1), "id"),
                 "functions.read_temperature:1");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 1),
                                          "function"), "arguments"), "");
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 2);
    CHECK_EQ_STR(jstr(m, "role"), "tool");
    CHECK_EQ_STR(jstr(m, "tool_call_id"), "call_abc");
    CHECK_EQ_STR(jstr(m, "content"), "{\"ok\":true}");
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 0);
    CHECK(cJSON_GetObjectItem(m, "tool_calls") == NULL);
    CHECK(cJSON_GetObjectItem(m, "tool_call_id") == NULL);
    cJSON_Delete(b);

    /* an extension that names what chatwire writes, or is broken */
    ext[1].extra_json = "{\"content\": \"x\"}";
    refused(&req, CW_ERR_INVALID_ARG, "messages[1].extra_json is not one "
                                      "JSON object");
    ext[1].extra_json = "[1]";
    refused(&req, CW_ERR_INVALID_ARG, "messages[1].extra_json");
    ext[1].extra_json = "{}";
    b = write_everywhere(&req, NULL);
    CHECK(b != NULL);
    cJSON_Delete(b);
    ext[1].extra_json = NULL;
    strcpy(calls[1].name, "bad name");
    refused(&req, CW_ERR_INVALID_ARG, "messages[1].tool_calls");
    strcpy(calls[1].name, "read_temperature");
    calls[1].id[0] = '\0';
    refused(&req, CW_ERR_INVALID_ARG, "messages[1].tool_calls");
    strcpy(calls[1].id, "call_2");
    ext[1].tool_call_count = 0;
    refused(&req, CW_ERR_INVALID_ARG, "messages[1].content is NULL");
}

/* ---------------------------------------------------------- parts */

/* A reader over memory, giving at most chunk bytes a call. */
typedef struct mem_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t chunk;
    unsigned rewinds;
    size_t lie; /* > 0: ends early after this many */
} mem_reader_t;

static int32_t mem_read(void *ctx, uint8_t *buf, size_t len)
{
    mem_reader_t *r = (mem_reader_t *)ctx;
    size_t end = r->lie > 0u ? r->lie : r->len;
    size_t n = end - r->pos;
    if (n > len) {
        n = len;
    }
    if (n > r->chunk) {
        n = r->chunk;
    }
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return (int32_t)n;
}

static int mem_rewind(void *ctx)
{
    mem_reader_t *r = (mem_reader_t *)ctx;
    r->pos = 0;
    r->rewinds++;
    return CW_OK;
}

/* An independent base64 encoder, for the comparison. */
static size_t b64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    size_t o = 0;
    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) {
            v |= (unsigned)in[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= in[i + 2];
        }
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

static uint8_t image[70000];
static char image_b64[100000];

TEST(test_an_image_from_a_reader_is_base64_encoded_as_it_is_read)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 47, 48, 49, 50, 95, 96,
                                    97, 1000, 65537 };
    static const size_t chunks[] = { 1, 2, 3, 5, 7, 16, 47, 48, 49, 4096 };
    cw_message_t msg = { "user", NULL };
    cw_message_ext_t ext;
    cw_content_part_t parts[2];
    mem_reader_t r;
    cw_chat_request_t req;
    size_t s;
    size_t c;
    char want[100100];

    for (s = 0; s < sizeof image; s++) {
        image[s] = (uint8_t)(s * 2654435761u >> 13);
    }
    memset(&ext, 0, sizeof ext);
    memset(parts, 0, sizeof parts);
    parts[0].type = CW_PART_TEXT;
    parts[0].text = "What is on this picture?";
    parts[1].type = CW_PART_IMAGE_URL;
    parts[1].mime = "image/jpeg";
    parts[1].detail = "low";
    parts[1].read = mem_read;
    parts[1].read_ctx = &r;
    parts[1].rewind = mem_rewind;
    ext.parts = parts;
    ext.part_count = 2;
    cw_chat_request_init(&req, &msg, 1);
    req.message_ext = &ext;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t ref_len = 0;
        memset(&r, 0, sizeof r);
        r.data = image;
        r.len = sizes[s];
        parts[1].size = sizes[s];
        for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            int rc;
            size_t len;
            r.pos = 0;
            r.chunk = chunks[c];
            len = write_req(&req, c % 2u ? 37u : 2048u, out_store,
                            sizeof out_store, &rc, NULL);
            CHECK_EQ_INT(rc, CW_OK);
            CHECK_EQ_INT(r.pos, sizes[s]);
            if (c == 0u) {
                ref_len = len;
                memcpy(ref_store, out_store, len + 1u);
            } else {
                CHECK_MEM(out_store, len, ref_store, ref_len);
            }
        }
        {
            cJSON *b = body_of(ref_store, ref_len);
            const cJSON *content = cJSON_GetObjectItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 0),
                "content");
            const cJSON *img = cJSON_GetObjectItem(cJSON_GetArrayItem(content,
                                                                      1),
                                                   "image_url");
            CHECK_EQ_INT(cJSON_GetArraySize(content), 2);
            CHECK_EQ_STR(jstr(cJSON_GetArrayItem(content, 0), "type"), "text");
            CHECK_EQ_STR(jstr(cJSON_GetArrayItem(content, 0), "text"),
                         "What is on this picture?");
            CHECK_EQ_STR(jstr(cJSON_GetArrayItem(content, 1), "type"),
                         "image_url");
            strcpy(want, "data:image/jpeg;base64,");
            b64(image, sizes[s], want + strlen(want));
            CHECK_EQ_STR(jstr(img, "url"), want);
            CHECK_EQ_STR(jstr(img, "detail"), "low");
            cJSON_Delete(b);
        }
    }
    (void)image_b64;
}

#if CW_CONFIG_NONBLOCKING
/* The step API's sink: one run fills run_buf (cap bytes) and stops. */
typedef struct runs {
    uint8_t buf[4096];
    size_t cap;
    size_t len;
} runs_t;

static int run_sink(void *ctx, const uint8_t *data, size_t len)
{
    runs_t *r = (runs_t *)ctx;
    (void)data;
    r->len = len;
    return len == r->cap ? CW_ERR_WOULD_BLOCK : CW_OK;
}

/* The request written in runs of cap bytes, each resuming where the last
 * stopped (as cw_chat_step writes it), into store: its length, or 0. */
static size_t write_in_runs(const cw_chat_request_t *req, size_t cap,
                            uint8_t *store, size_t store_cap, size_t *nruns)
{
    static runs_t r;
    cw_emit_resume_t resume;
    size_t body_len = 0;
    size_t total = 0;
    int rc;

    memset(&resume, 0, sizeof resume);
    CHECK_EQ_INT(cw_request_check(&url, "k", CW_AUTH_BEARER, req, &body_len,
                                  NULL, NULL), CW_OK);
    (void)cw_request_rewind(req, NULL);
    r.cap = cap;
    *nruns = 0;
    do {
        r.len = 0;
        rc = cw_request_emit(&url, "k", CW_AUTH_BEARER, req, body_len,
                             r.buf, cap, run_sink, &r, NULL CW_EMIT_RES(NULL)
                             CW_EMIT_RESUME(&resume));
        if ((rc != CW_OK && rc != CW_ERR_WOULD_BLOCK) ||
            total + r.len > store_cap) {
            return 0;
        }
        memcpy(store + total, r.buf, r.len);
        total += r.len;
        resume.skip = total;
        (*nruns)++;
    } while (rc == CW_ERR_WOULD_BLOCK);
    return total;
}

TEST(test_a_request_written_in_runs_is_the_request_written_at_once)
{
    static const size_t sizes[] = { 0, 1, 2, 47, 48, 49, 1000, 20001 };
    static const size_t caps[] = { 1, 2, 3, 4, 5, 7, 63, 64, 65, 100, 4096 };
    static const size_t chunks[] = { 1, 7, 48, 4096 };
    static uint8_t in_runs[1u << 18];
    cw_message_t msgs[2] = { { "system", "Be brief \u00e9." },
                             { "user", NULL } };
    cw_message_ext_t ext[2];
    cw_content_part_t parts[3];
    mem_reader_t r1;
    mem_reader_t r2;
    cw_chat_request_t req;
    size_t s;

    for (s = 0; s < sizeof image; s++) {
        image[s] = (uint8_t)(s * 2654435761u >> 13);
    }
    memset(ext, 0, sizeof ext);
    memset(parts, 0, sizeof parts);
    parts[0].type = CW_PART_IMAGE_URL;
    parts[0].mime = "image/png";
    parts[0].read = mem_read;
    parts[0].read_ctx = &r1;
    parts[0].rewind = mem_rewind;
    parts[1].type = CW_PART_TEXT;
    parts[1].text = "and \"this\" one:";
    parts[2].type = CW_PART_INPUT_AUDIO;
    parts[2].mime = "wav";
    parts[2].read = mem_read;
    parts[2].read_ctx = &r2;
    parts[2].rewind = mem_rewind;
    ext[1].parts = parts;
    ext[1].part_count = 3;
    cw_chat_request_init(&req, msgs, 2);
    req.message_ext = ext;
    req.stream = true;
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t k;
        size_t ref_len;
        int rc;
        memset(&r1, 0, sizeof r1);
        memset(&r2, 0, sizeof r2);
        r1.data = image;
        r1.len = sizes[s];
        r1.chunk = 4096;
        r2.data = image + 7;
        r2.len = sizes[s] / 2u + 1u;
        r2.chunk = 4096;
        parts[0].size = r1.len;
        parts[2].size = r2.len;
        ref_len = write_req(&req, 2048u, ref_store, sizeof ref_store, &rc,
                            NULL);
        CHECK_EQ_INT(rc, CW_OK);
        for (k = 0; k < sizeof caps / sizeof caps[0]; k++) {
            size_t c = chunks[k % (sizeof chunks / sizeof chunks[0])];
            size_t nruns;
            size_t len;
            r1.chunk = c;
            r2.chunk = c + 1u;
            r1.rewinds = r2.rewinds = 0;
            len = write_in_runs(&req, caps[k], in_runs, sizeof in_runs,
                                &nruns);
            CHECK_MEM(in_runs, len, ref_store, ref_len);
            /* each reader read once, from its start to its end, never
             * rewound between runs (only the rewind before the first) */
            CHECK_EQ_INT(r1.pos, r1.len);
            CHECK_EQ_INT(r2.pos, r2.len);
            CHECK_EQ_INT(r1.rewinds + r2.rewinds, 2);
            CHECK(nruns >= ref_len / caps[k]);
        }
    }
}
#endif

TEST(test_an_image_url_and_audio_parts)
{
    cw_message_t msg = { "user", NULL };
    cw_message_ext_t ext;
    cw_content_part_t parts[2];
    mem_reader_t r;
    cw_chat_request_t req;
    cJSON *b;
    const cJSON *content;
    char want[64];

    memset(&ext, 0, sizeof ext);
    memset(parts, 0, sizeof parts);
    memset(&r, 0, sizeof r);
    r.data = (const uint8_t *)"RIFF\x00\x01WAVE";
    r.len = 10;
    r.chunk = 3;
    parts[0].type = CW_PART_IMAGE_URL;
    parts[0].text = "https://example.com/cat.png";
    parts[1].type = CW_PART_INPUT_AUDIO;
    parts[1].mime = "wav";
    parts[1].read = mem_read;
    parts[1].read_ctx = &r;
    parts[1].rewind = mem_rewind;
    parts[1].size = 10;
    ext.parts = parts;
    ext.part_count = 2;
    cw_chat_request_init(&req, &msg, 1);
    req.message_ext = &ext;
    b = write_everywhere(&req, NULL);
    content = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 0), "content");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(content, 0),
                                          "image_url"), "url"),
                 "https://example.com/cat.png");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(
              cJSON_GetArrayItem(content, 0), "image_url"), "detail") == NULL);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(content, 1), "type"), "input_audio");
    b64(r.data, 10, want);
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(content, 1),
                                          "input_audio"), "data"), want);
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(content, 1),
                                          "input_audio"), "format"), "wav");
    cJSON_Delete(b);
}

TEST(test_parts_are_checked_and_a_short_reader_is_caught)
{
    cw_message_t msg = { "user", NULL };
    cw_message_ext_t ext;
    cw_content_part_t part;
    mem_reader_t r;
    cw_chat_request_t req;
    cw_result_t res;
    int rc;

    memset(&ext, 0, sizeof ext);
    memset(&part, 0, sizeof part);
    memset(&r, 0, sizeof r);
    r.data = image;
    r.len = 100;
    r.chunk = 7;
    part.type = CW_PART_IMAGE_URL;
    part.read = mem_read;
    part.read_ctx = &r;
    part.size = 100;
    ext.parts = &part;
    ext.part_count = 1;
    cw_chat_request_init(&req, &msg, 1);
    req.message_ext = &ext;
    part.mime = "image/jpeg\";x";
    refused(&req, CW_ERR_INVALID_ARG, "messages[0].parts[0] lacks");
    part.mime = "jpeg";
    refused(&req, CW_ERR_INVALID_ARG, "messages[0].parts[0] lacks");
    part.mime = "image/png";
    part.type = (cw_part_type_t)7;
    refused(&req, CW_ERR_INVALID_ARG, "messages[0].parts[0] lacks");
    part.type = CW_PART_IMAGE_URL;
    msg.content = "text too";
    refused(&req, CW_ERR_INVALID_ARG, "content and its parts are both given");
    msg.content = NULL;
    /* the reader ends after 50 of the 100 bytes it promised */
    r.lie = 50;
    write_req(&req, 64, out_store, sizeof out_store, &rc, &res);
    CHECK_EQ_INT(rc, CW_ERR_REQUEST_CHANGED);
    CHECK(strstr(res.detail, "gave 50 bytes where its size says 100") != NULL);
    /* rewinding: the request says which reader cannot */
    r.lie = 0;
    memset(&res, 0, sizeof res);
    CHECK_EQ_INT(cw_request_rewind(&req, &res), CW_ERR_INVALID_ARG);
    CHECK(strstr(res.detail, "messages[0].parts[0] cannot rewind") != NULL);
    part.rewind = mem_rewind;
    r.pos = 33;
    CHECK_EQ_INT(cw_request_rewind(&req, &res), CW_OK);
    CHECK_EQ_INT(r.pos, 0);
}

/* ---------------------------------------------------------- options */

TEST(test_reasoning_and_structured_output_options_are_written)
{
    cw_chat_request_t req;
    cJSON *b;
    const cJSON *f;
    static const char schema[] =
        "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"number\"}}}";

    cw_chat_request_init(&req, hello, 1);
    req.max_completion_tokens = 4096;
    req.reasoning_effort = "low";
    req.response_format = CW_FORMAT_JSON_SCHEMA;
    req.json_schema_name = "reading";
    req.json_schema = schema;
    req.json_schema_strict = true;
    req.send_seed = true;
    req.seed = INT64_MIN;
    req.send_presence_penalty = true;
    req.presence_penalty = -1.5f;
    req.send_frequency_penalty = true;
    req.frequency_penalty = 0.25f;
    req.safety_identifier = "user-hash-1";
    req.prompt_cache_key = "device-7";
    req.extra_json = "{\"metadata\": {\"site\": \"lab\"}, \"store\": false}";
    b = write_everywhere(&req, NULL);
    CHECK(b != NULL);
    CHECK_EQ_INT(cJSON_GetObjectItem(b, "max_completion_tokens")->valueint,
                 4096);
    CHECK(cJSON_GetObjectItem(b, "max_tokens") == NULL);
    CHECK_EQ_STR(jstr(b, "reasoning_effort"), "low");
    f = cJSON_GetObjectItem(b, "response_format");
    CHECK_EQ_STR(jstr(f, "type"), "json_schema");
    f = cJSON_GetObjectItem(f, "json_schema");
    CHECK_EQ_STR(jstr(f, "name"), "reading");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "strict")));
    {
        cJSON *want = cJSON_Parse(schema);
        CHECK(cJSON_Compare(cJSON_GetObjectItem(f, "schema"), want, 1));
        cJSON_Delete(want);
    }
    CHECK(strstr((const char *)ref_store, "\"seed\":-9223372036854775808") !=
          NULL);
    CHECK(strstr((const char *)ref_store, "\"presence_penalty\":-1.5,") !=
          NULL);
    CHECK(strstr((const char *)ref_store, "\"frequency_penalty\":0.25,") !=
          NULL);
    CHECK_EQ_STR(jstr(b, "safety_identifier"), "user-hash-1");
    CHECK_EQ_STR(jstr(b, "prompt_cache_key"), "device-7");
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(b, "metadata"), "site"), "lab");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(b, "store")));
    cJSON_Delete(b);

    req.response_format = CW_FORMAT_JSON_OBJECT;
    req.send_seed = false;
    req.send_presence_penalty = false;
    req.send_frequency_penalty = false;
    b = write_everywhere(&req, NULL);
    CHECK_EQ_STR(jstr(cJSON_GetObjectItem(b, "response_format"), "type"),
                 "json_object");
    CHECK(cJSON_GetObjectItem(b, "seed") == NULL);
    CHECK(cJSON_GetObjectItem(b, "presence_penalty") == NULL);
    cJSON_Delete(b);
}

TEST(test_options_are_checked)
{
    cw_chat_request_t req;

    cw_chat_request_init(&req, hello, 1);
    req.send_presence_penalty = true;
    req.presence_penalty = 2.5f;
    refused(&req, CW_ERR_INVALID_ARG, "out of range: -2 to 2");
    req.presence_penalty = -2.0f;
    req.response_format = CW_FORMAT_JSON_SCHEMA;
    req.json_schema = "{}";
    refused(&req, CW_ERR_INVALID_ARG, "json_schema_name");
    req.json_schema_name = "bad name";
    refused(&req, CW_ERR_INVALID_ARG, "json_schema_name");
    req.json_schema_name = "ok";
    req.json_schema = "{\"type\":}";
    refused(&req, CW_ERR_INVALID_ARG, "json_schema is not one well-formed "
                                      "JSON value: at byte 8");
    req.response_format = CW_FORMAT_UNSET;
    req.extra_json = "{\"model\": \"other\"}";
    refused(&req, CW_ERR_INVALID_ARG, "extra_json is not one JSON object "
                                      "without the members chatwire writes: "
                                      "at byte 1");
    req.extra_json = "{\"mod\\u0065l\": \"other\"}";
    refused(&req, CW_ERR_INVALID_ARG, "extra_json");
    req.extra_json = "{\"a\":1";
    refused(&req, CW_ERR_INVALID_ARG, "extra_json");
}

TEST(test_extra_headers_are_written_and_checked)
{
    cw_chat_request_t req;
    const char *h[2] = { "OpenAI-Organization: org-123",
                         "X-Title: chatwire test" };
    int rc;
    size_t len;
    const char *head;

    cw_chat_request_init(&req, hello, 1);
    req.headers = h;
    req.header_count = 2;
    len = write_req(&req, 50, out_store, sizeof out_store, &rc, NULL);
    CHECK_EQ_INT(rc, CW_OK);
    head = (const char *)out_store;
    CHECK(strstr(head, "\r\nOpenAI-Organization: org-123\r\nX-Title: "
                       "chatwire test\r\nContent-Length: ") != NULL);
    {
        cJSON *b = body_of(out_store, len);
        CHECK(b != NULL);
        cJSON_Delete(b);
    }
    h[1] = "Host: evil.example";
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] is a header chatwire "
                                      "writes itself");
    h[1] = "content-LENGTH: 5";
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] is a header chatwire");
    h[1] = "X-A: b\r\nX-Injected: c";
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] has a control character "
                                      "at byte 6");
    h[1] = "Bad Name: x";
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] is not \"Name: value\"");
    h[1] = ": x";
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] is not");
    h[1] = NULL;
    refused(&req, CW_ERR_INVALID_ARG, "headers[1] is NULL");
}

#endif

TEST(test_plain_requests_are_unchanged)
{
    /* nothing new is written when nothing new is set */
    cw_chat_request_t req;
    int rc;
    size_t len;
    static const char body[] =
        "{\"model\":\"gpt-4-0314\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"Turn the LED on.\"}]}";

    cw_chat_request_init(&req, hello, 1);
    len = write_req(&req, 64, out_store, sizeof out_store, &rc, NULL);
    CHECK_EQ_INT(rc, CW_OK);
    CHECK(len > sizeof body);
    CHECK_MEM(out_store + len - (sizeof body - 1u), sizeof body - 1u, body,
              sizeof body - 1u);
}

static const cw_test_case_t tests[] = {
#if CW_CONFIG_TOOLS && CW_CONFIG_CONTENT_PARTS && CW_CONFIG_REQUEST_OPTIONS && \
    CW_CONFIG_DETAIL
    T(test_json_text_check_accepts_json_and_says_where_it_breaks),
    T(test_json_text_check_bounds_the_depth),
    T(test_tools_and_tool_choice_are_written),
    T(test_tools_are_checked_before_anything_is_sent),
    T(test_assistant_tool_calls_and_tool_results_are_written),
    T(test_an_image_from_a_reader_is_base64_encoded_as_it_is_read),
#if CW_CONFIG_NONBLOCKING
    T(test_a_request_written_in_runs_is_the_request_written_at_once),
#endif
    T(test_an_image_url_and_audio_parts),
    T(test_parts_are_checked_and_a_short_reader_is_caught),
    T(test_reasoning_and_structured_output_options_are_written),
    T(test_options_are_checked),
    T(test_extra_headers_are_written_and_checked),
#endif
    /* in every build: a request without the new members is as before */
    T(test_plain_requests_are_unchanged),
};

CW_TEST_MAIN(tests)
