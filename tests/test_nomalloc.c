/*
 * test_nomalloc.c - proves that a whole request, streamed and not, makes no
 * heap call at all. malloc, calloc, realloc, free (and the aligned forms)
 * are interposed for the whole process and counted while cw_chat runs.
 * Under the sanitizers, which own malloc, the same counters are attached
 * with the linker's --wrap instead (covering the library's objects).
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

static volatile int counting;
static volatile unsigned long heap_calls;

#define COUNT() do { if (counting) heap_calls++; } while (0)

#ifdef CW_WRAP_MALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_malloc(size_t n) { COUNT(); return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { COUNT(); return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { COUNT(); return __real_realloc(p, n); }
void __wrap_free(void *p) { COUNT(); __real_free(p); }
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t a, size_t b);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t n);
void *malloc(size_t n) { COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT(); return __libc_realloc(p, n); }
void free(void *p) { COUNT(); __libc_free(p); }
void *memalign(size_t align, size_t n) { COUNT(); return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { COUNT(); return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    COUNT();
    *out = __libc_memalign(align, n);
    return *out != NULL ? 0 : 12;
}
#endif

static fake_t fake;
static uint8_t response[65536];
static char got[4096];
static size_t got_len;

static int on_delta(void *user, const char *text, size_t len)
{
    (void)user;
    if (got_len + len < sizeof got) {
        memcpy(got + got_len, text, len);
        got_len += len;
        got[got_len] = '\0';
    }
    return 0;
}

static unsigned long count_request(const char *file, bool stream, int *rc,
                                   cw_result_t *res)
{
    static cw_client_t client;
    static uint8_t io[512];
    static uint8_t work[8192];
    cw_client_config_t cfg;
    cw_chat_request_t req;
    static const cw_message_t msgs[] = {
        { "system", "You are a helpful assistant." },
        { "user", "Explain the significance of snapshot model versions." },
    };
    size_t len = load_data(file, response, sizeof response);

    fake_reset(&fake, response, len);
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.api_key = "sk-test";
    cfg.io_buf = io;
    cfg.io_size = sizeof io;
    cfg.work_buf = work;
    cfg.work_size = sizeof work;
    cfg.max_retries = CW_NO_RETRIES; /* retries are counted in test_retry */
    got_len = 0;
    got[0] = '\0';
    heap_calls = 0;
    counting = 1;
    cw_client_init(&client, &cfg);
    cw_chat_request_init(&req, msgs, 2);
    req.stream = stream;
    req.include_usage = stream;
    req.on_delta = on_delta;
    *rc = cw_chat(&client, &req, res);
    cw_client_close(&client);
    counting = 0;
    return heap_calls;
}

TEST(test_zero_heap_calls_non_streamed)
{
    cw_result_t res;
    int rc;
    unsigned long n = count_request("ok_chunked_ext_trailers.http", false, &rc,
                                    &res);
    CHECK_EQ_INT(rc, CW_OK);
    CHECK(res.content_len > 0u);
    CHECK_EQ_INT(n, 0);
}

TEST(test_zero_heap_calls_streamed)
{
    cw_result_t res;
    int rc;
    unsigned long n = count_request("stream_many_events_crlf.http", true, &rc,
                                    &res);
    CHECK_EQ_INT(rc, CW_OK);
    CHECK_EQ_STR(got, "Snapshot versions keep answers stable.");
    CHECK_EQ_INT(n, 0);
}

TEST(test_zero_heap_calls_on_error_paths)
{
    cw_result_t res;
    int rc;
    CHECK_EQ_INT(count_request("error_429_rate_limit.http", false, &rc, &res),
                 0);
    CHECK_EQ_INT(rc, CW_ERR_API);
    CHECK_EQ_INT(count_request("stream_error_midstream.http", true, &rc, &res),
                 0);
    CHECK_EQ_INT(rc, CW_ERR_API);
}

TEST(test_counter_sees_heap_calls)
{
    /* the counter itself works: a real allocation is seen */
    void *volatile p;
    heap_calls = 0;
    counting = 1;
    p = malloc(16);
    free(p);
    counting = 0;
    CHECK_EQ_INT(heap_calls, 2);
}

#if CW_CONFIG_CONTENT_PARTS && CW_CONFIG_TOOLS && CW_CONFIG_REASONING
/* An image of 3 MB, made up as it is read: the request streams it out
 * through a 2 KiB I/O buffer, base64 on the way, with no heap call and no
 * more memory than the fixed buffers; and a tool-call answer with
 * reasoning assembled into caller storage, with none either. */
typedef struct big_image {
    uint64_t pos;
    uint64_t size;
    unsigned rewinds;
    uint64_t read_total;
} big_image_t;

static int32_t big_read(void *ctx, uint8_t *buf, size_t len)
{
    big_image_t *im = (big_image_t *)ctx;
    size_t i;
    if (len > im->size - im->pos) {
        len = (size_t)(im->size - im->pos);
    }
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)((im->pos + i) * 2654435761u >> 24);
    }
    im->pos += len;
    im->read_total += len;
    return (int32_t)len;
}

static int big_rewind(void *ctx)
{
    big_image_t *im = (big_image_t *)ctx;
    im->pos = 0;
    im->rewinds++;
    return CW_OK;
}

/* A server that takes the whole request, then answers (first a 503 when
 * asked to). */
static uint64_t body_seen;
static const char ok_calls[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    "Content-Length: %zu\r\n\r\n%s";
static const char stream_body[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
    "\"Look.\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
    "\"describe\",\"arguments\":\"{\\\"what\\\":\\\"cat\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"tool_calls\"}]}\n\ndata: [DONE]\n\n";

static int32_t count_send(void *ctx, const uint8_t *buf, size_t len,
                          uint32_t timeout_ms)
{
    (void)ctx;
    (void)buf;
    (void)timeout_ms;
    body_seen += len;
    return (int32_t)len;
}

static int reasoning_sink(void *user, const char *text, size_t len)
{
    (void)user;
    (void)text;
    (void)len;
    return 0;
}

TEST(test_a_3_mb_image_goes_out_through_2_kib_with_no_heap)
{
    static cw_client_t client;
    static uint8_t io[2048];
    static uint8_t work[CW_WORK_TOKENS_SIZE + 1024];
    static char resp[2048];
    static cw_tool_call_t calls[2];
    static char args[256];
    static const cw_message_t msg[] = { { "user", NULL } };
    cw_message_ext_t ext;
    cw_content_part_t part[2];
    big_image_t im;
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_result_t res;
    cw_tool_t tool;
    int rc;
    size_t len = (size_t)snprintf(resp, sizeof resp, ok_calls,
                                  strlen(stream_body), stream_body);

    memset(&im, 0, sizeof im);
    im.size = 3u * 1024u * 1024u;
    memset(part, 0, sizeof part);
    part[0].type = CW_PART_TEXT;
    part[0].text = "What is this?";
    part[1].type = CW_PART_IMAGE_URL;
    part[1].mime = "image/jpeg";
    part[1].read = big_read;
    part[1].rewind = big_rewind;
    part[1].read_ctx = &im;
    part[1].size = im.size;
    memset(&ext, 0, sizeof ext);
    ext.parts = part;
    ext.part_count = 2;
    memset(&tool, 0, sizeof tool);
    tool.name = "describe";

    fake_reset(&fake, (const uint8_t *)resp, len);
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = fake_transport(&fake);
    cfg.transport.send = count_send; /* counts, keeps nothing */
    cfg.api_key = "k";
    cfg.io_buf = io;
    cfg.io_size = sizeof io;
    cfg.work_buf = work;
    cfg.work_size = sizeof work;
    cfg.max_retries = CW_NO_RETRIES;
    CHECK_EQ_INT(cw_client_init(&client, &cfg), CW_OK);
    cw_chat_request_init(&req, msg, 1);
    req.message_ext = &ext;
    req.stream = true;
    req.on_delta = on_delta;
    req.on_reasoning = reasoning_sink;
    req.tools = &tool;
    req.tool_count = 1;
    req.tool_call_buf = calls;
    req.tool_call_max = 2;
    req.tool_args = args;
    req.tool_args_size = sizeof args;
    body_seen = 0;
    fake.sent_len = 1; /* the fake answers once something was sent */
    heap_calls = 0;
    counting = 1;
    rc = cw_chat(&client, &req, &res);
    counting = 0;
    CHECK_EQ_INT(rc, CW_OK);
    CHECK_EQ_INT(heap_calls, 0);
    CHECK_EQ_INT(im.read_total, im.size);
    /* 4 base64 characters for every 3 bytes, plus the rest of the request */
    CHECK(body_seen > (im.size + 2u) / 3u * 4u);
    CHECK(body_seen < (im.size + 2u) / 3u * 4u + 1024u);
    CHECK_EQ_INT(res.tool_calls, 1);
    CHECK_EQ_STR(calls[0].name, "describe");
    CHECK_EQ_STR(calls[0].arguments, "{\"what\":\"cat\"}");
    CHECK_EQ_INT(res.reasoning_len, 5);
}
#endif

static const cw_test_case_t tests[] = {
    T(test_counter_sees_heap_calls),
    T(test_zero_heap_calls_non_streamed),
    T(test_zero_heap_calls_streamed),
    T(test_zero_heap_calls_on_error_paths),
#if CW_CONFIG_CONTENT_PARTS && CW_CONFIG_TOOLS && CW_CONFIG_REASONING
    T(test_a_3_mb_image_goes_out_through_2_kib_with_no_heap),
#endif
};

CW_TEST_MAIN(tests)
