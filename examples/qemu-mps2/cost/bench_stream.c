/*
 * bench_stream.c - chatwire's own instructions on a streamed answer, layer
 * by layer, on an HTTP response recorded from the test server
 * (scripts/mcu-cost.sh records it over plain HTTP) and held in RAM: no
 * network, no TLS, so every count is the same at every run.
 *
 * The response is fed in the pieces mbedtls_ssl_read would hand over with
 * the firmware's 2 KiB io buffer. Each pass adds one layer to the last, and
 * is timed as a whole:
 *   http      cw_http_feed (status line, headers, chunked framing)
 *   sse       + cw_sse_feed, events assembled in the work buffer
 *   jsmn      + jsmn's tokens for each event
 *   grammar   + the grammar check (cw_json.c's parse: jsmn and the check)
 *   json      + cw_json_chunk (what the client calls: the fast path when
 *             CW_CONFIG_STREAM_FAST_PATHS is on, else jsmn, the check and the
 *             extraction with unescaping)
 *   utf8      + cw_utf8_check of each delta (what the delivery checks)
 *   client    cw_chat over a transport that hands the recorded bytes over
 *             (its time is not counted: that is mbedTLS's part), with an
 *             on_delta that only counts (not counted either)
 * Prints one line per pass:
 *   bench: stream=NAME bytes=B events=E content=C pass=P ticks=T
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#include "cw_internal.h"
#include "cw_jsmn.h"

int bench_json_parse(char *json, size_t len, void *tokens, size_t ntok,
                     cw_result_t *res);

#define IO_SIZE 2048u
#define WORK_SIZE (CW_WORK_TOKENS_SIZE + 2048u)
#define RESPONSE_MAX (1024u * 1024u)

enum { P_HTTP, P_SSE, P_JSMN, P_GRAMMAR, P_JSON, P_UTF8, P_COUNT };
static const char *const pass_name[P_COUNT] = {
    "http", "sse", "jsmn", "grammar", "json", "utf8"
};

static uint8_t response[RESPONSE_MAX];
static uint8_t io_buf[IO_SIZE];
static uint8_t work[WORK_SIZE] __attribute__((aligned(8)));
static cw_http_parser_t http;
static cw_http_info_t info;
static cw_sse_parser_t sse;
static cw_result_t res;
static cw_chunk_t chunk;
static cw_tool_track_t tools;
static cw_client_t client;
static int pass;
static uint32_t events;
static size_t content;
static int failed;

/* ------------------------------------------------------------ passes */

static int on_event(void *user, const char *event, char *data, size_t len)
{
    uintptr_t at = ((uintptr_t)data + len + 1u + 7u) & ~(uintptr_t)7u;
    size_t used = (size_t)(at - (uintptr_t)work);
    void *tok = work + used;
    size_t ntok = cw_json_token_capacity(WORK_SIZE - used);
    jsmn_parser p;
    size_t bad;
    int rc = CW_OK;
    (void)user;
    (void)event;

    events++;
    if (len == 6u && memcmp(data, "[DONE]", 6) == 0) {
        return CW_OK;
    }
    switch (pass) {
    case P_JSMN:
        jsmn_init(&p);
        if (jsmn_parse(&p, data, len, (jsmntok_t *)tok,
                       (unsigned int)ntok) < 0) {
            failed = 1;
        }
        break;
    case P_GRAMMAR:
        rc = bench_json_parse(data, len, tok, ntok, &res);
        break;
    case P_JSON:
    case P_UTF8:
        rc = cw_json_chunk(data, len, tok, ntok, &res, &chunk, &tools);
        if (rc == CW_OK && chunk.content != NULL) {
            content += chunk.content_len;
            if (pass == P_UTF8) {
                (void)cw_utf8_check(chunk.content, chunk.content_len, &bad);
            }
        }
        break;
    default:
        break;
    }
    if (rc != CW_OK) {
        failed = 1;
    }
    return rc;
}

static int on_body(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    return pass == P_HTTP ? CW_OK : cw_sse_feed(&sse, data, len);
}

static int on_headers(void *user)
{
    (void)user;
    cw_sse_init(&sse, (char *)work, sizeof work, on_event, NULL);
    return CW_OK;
}

/* One pass over the response, fed in io-buffer pieces straight from it
 * (nothing is copied: the parsers take const input). */
static uint64_t run_pass(size_t len)
{
    uint64_t t0;
    size_t off = 0;

    memset(&res, 0, sizeof res);
    tools.index = -1;
    tools.named = false;
    events = 0;
    content = 0;
    t0 = fw_ticks();
    cw_http_init(&http, &info, on_headers, on_body, NULL);
    while (off < len && !cw_http_done(&http)) {
        size_t n = len - off < IO_SIZE ? len - off : IO_SIZE;
        size_t used = 0;
        if (cw_http_feed(&http, response + off, n, &used) != CW_OK) {
            failed = 1;
            break;
        }
        off += used;
    }
    t0 = fw_ticks() - t0;
    if (!cw_http_done(&http)) {
        failed = 1;
    }
    return t0;
}

/* ------------------------------------------------------------ client */

typedef struct ram {
    size_t len;
    size_t off;
    uint64_t ticks; /* spent in this transport: not chatwire's */
} ram_t;

static int32_t ram_recv(void *ctx, uint8_t *buf, size_t len, uint32_t t)
{
    ram_t *r = (ram_t *)ctx;
    uint64_t t0 = fw_ticks();
    size_t n = r->len - r->off;
    (void)t;

    if (n == 0u) {
        r->ticks += fw_ticks() - t0;
        return CW_ERR_CLOSED;
    }
    n = n < len ? n : len;
    memcpy(buf, response + r->off, n);
    r->off += n;
    r->ticks += fw_ticks() - t0;
    return (int32_t)n;
}

static int32_t ram_send(void *ctx, const uint8_t *buf, size_t len,
                        uint32_t t)
{
    (void)ctx;
    (void)buf;
    (void)t;
    return (int32_t)len;
}

static uint64_t delta_ticks;

static int count_delta(void *user, const char *text, size_t len)
{
    uint64_t t0 = fw_ticks();
    (void)user;
    (void)text;
    content += len;
    delta_ticks += fw_ticks() - t0;
    return 0;
}

static uint64_t run_client(size_t len)
{
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_message_t msg;
    ram_t ram;
    uint64_t t0;
    int rc;

    memset(&ram, 0, sizeof ram);
    ram.len = len;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport.ctx = &ram;
    cfg.transport.send = ram_send;
    cfg.transport.recv = ram_recv;
    cfg.transport.now_ms = fw_now_ms;
    cfg.base_url = "http://localhost/v1";
    cfg.api_key = "test-key";
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work;
    cfg.work_size = sizeof work;
    cfg.max_retries = CW_NO_RETRIES;
    if (cw_client_init(&client, &cfg) != CW_OK) {
        failed = 1;
        return 0;
    }
    msg.role = "user";
    msg.content = "go";
    cw_chat_request_init(&req, &msg, 1);
    req.stream = true;
    req.on_delta = count_delta;
    content = 0;
    delta_ticks = 0;
    t0 = fw_ticks();
    rc = cw_chat(&client, &req, &res);
    t0 = fw_ticks() - t0 - ram.ticks - delta_ticks;
    if (rc != CW_OK) {
        printf("bench: client result %d\n", rc);
        failed = 1;
    }
    return t0;
}

/* ------------------------------------------------------------ main */

int bench_stream(const char *path)
{
    const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1
                                                  : path;
    long len = fw_semihost_file_read(path, response, sizeof response);
    uint64_t t;

    if (len <= 0) {
        printf("bench: FAIL cannot read %s\n", path);
        return 1;
    }
    failed = 0;
    for (pass = 0; pass < P_COUNT; pass++) {
        t = run_pass((size_t)len);
        printf("bench: stream=%s bytes=%ld events=%lu content=%lu pass=%s "
               "ticks=%lu\n", name, len, (unsigned long)events,
               (unsigned long)content, pass_name[pass], (unsigned long)t);
    }
    t = run_client((size_t)len);
    printf("bench: stream=%s bytes=%ld events=%lu content=%lu pass=client "
           "ticks=%lu\n", name, len, (unsigned long)events,
           (unsigned long)content, (unsigned long)t);
    if (failed) {
        printf("bench: FAIL stream %s\n", name);
    }
    return failed;
}
