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

static const cw_test_case_t tests[] = {
    T(test_counter_sees_heap_calls),
    T(test_zero_heap_calls_non_streamed),
    T(test_zero_heap_calls_streamed),
    T(test_zero_heap_calls_on_error_paths),
};

CW_TEST_MAIN(tests)
