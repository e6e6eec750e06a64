/*
 * fuzz_client.c - the whole pipeline (HTTP, chunked, SSE, JSON, UTF-8
 * carry, the client's bookkeeping) on arbitrary response bytes, fed three
 * ways: whole, split in two at an offset taken from the input, and one byte
 * at a time. The outcome must be the same each time, and:
 * - a non-streamed success has NUL-terminated content inside the work
 *   buffer;
 * - every on_delta call gets valid UTF-8 (so never ends inside a sequence);
 * - nothing is read past the response;
 * - tool calls assembled into the request's storage (flags bit 1) stay
 *   inside it, each id, type, name and arguments NUL-terminated, the
 *   arguments' length as said, and reasoning text (flags bit 2) is valid
 *   UTF-8 like the answer.
 *
 * Input: [flags][split hi][split lo][response...]; flags bit 0: stream,
 * bit 1: tool-call storage, bit 2: on_reasoning.
 */
#define CW_TEST_DATA_DIR ""
#include "cw_internal.h"
#include "../fake_transport.h"
#include "fuzz_common.h"

static fake_t fake;
static cw_client_t client;
static uint8_t io_buf[64];
static uint8_t work_buf[CW_WORK_TOKENS_SIZE + 1024];

typedef struct seen {
    uint64_t hash;
    size_t len;
    size_t calls;
} seen_t;

static seen_t got;
static seen_t thought;
#if CW_CONFIG_TOOLS
static cw_tool_call_t calls[4];
static char args[128];
#endif

static int on_reasoning(void *user, const char *text, size_t len)
{
    (void)user;
    FUZZ_CHECK(len > 0u, "empty reasoning piece");
    FUZZ_CHECK(cw_utf8_valid(text, len), "reasoning not valid UTF-8");
    thought.hash = fuzz_hash(thought.hash, text, len);
    thought.len += len;
    return 0;
}

static int on_delta(void *user, const char *text, size_t len)
{
    (void)user;
    FUZZ_CHECK(len > 0u, "empty delta");
    FUZZ_CHECK(cw_utf8_valid(text, len), "delta not valid UTF-8 (or split)");
    got.hash = fuzz_hash(got.hash, text, len);
    got.len += len;
    got.calls++;
    return 0;
}

typedef struct outcome {
    int rc;
    int status;
    uint64_t content_hash;
    size_t content_len;
    seen_t deltas;
    bool partial;
    bool done;
    bool refusal;
    char finish[CW_FIELD_MAX];
    char code[CW_FIELD_MAX];
    char message[CW_ERROR_MESSAGE_MAX];
    char request_id[CW_HEADER_VALUE_MAX];
    int64_t total_tokens;
    uint64_t error_offset;
    uint32_t tool_calls;
    char tool_names[CW_FIELD_MAX];
    char detail[CW_DETAIL_MAX];
    size_t needed;
    uint64_t calls_hash;
    seen_t reasoning;
} outcome_t;

/* cw_chat, or (stepped) the same chat through cw_chat_start and
 * cw_chat_step: the scripted transport never makes a step wait long, so
 * each wait is stepped again at once. */
static int chat(cw_chat_request_t *req, cw_result_t *res, bool stepped)
{
#if CW_CONFIG_NONBLOCKING
    if (stepped) {
        cw_wait_t w;
        unsigned long n = 0;
        int rc = cw_chat_start(&client, req, res);
        while (rc == CW_OK) {
            rc = cw_chat_step(&client, &w);
            FUZZ_CHECK(rc != CW_ERR_WOULD_BLOCK || (w.timeout_ms > 0u &&
                                                    ++n < 100000000ul),
                       "a step wait of %u ms, or no end",
                       (unsigned)w.timeout_ms);
            rc = rc == CW_ERR_WOULD_BLOCK ? CW_OK : rc;
            if (rc == CW_OK && client.state == 0u) {
                break; /* over, with CW_OK */
            }
        }
        return rc;
    }
#else
    (void)stepped;
#endif
    return cw_chat(&client, req, res);
}

static void run(const uint8_t *resp, size_t len, uint8_t flags,
                const size_t *sizes, size_t nsizes, outcome_t *o,
                bool stepped)
{
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_result_t res;
    static const cw_message_t msg[] = { { "user", "hi" } };

    memset(&cfg, 0, sizeof cfg);
    fake_reset(&fake, resp, len);
    fake.sizes = sizes;
    fake.nsizes = nsizes;
    cfg.transport = fake_transport(&fake);
    cfg.api_key = "k";
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.max_retries = CW_NO_RETRIES;
    FUZZ_CHECK(cw_client_init(&client, &cfg) == CW_OK, "init");
    bool stream = (flags & 1u) != 0u;

    cw_chat_request_init(&req, msg, 1);
    req.stream = stream;
    req.on_delta = on_delta;
#if CW_CONFIG_TOOLS
    memset(calls, 0x5a, sizeof calls);
    memset(args, 0x5a, sizeof args);
    if (flags & 2u) {
        req.tool_call_buf = calls;
        req.tool_call_max = sizeof calls / sizeof calls[0];
        req.tool_args = args;
        req.tool_args_size = sizeof args;
    }
#endif
#if CW_CONFIG_REASONING
    if (flags & 4u) {
        req.on_reasoning = on_reasoning;
    }
#endif
    memset(&got, 0, sizeof got);
    got.hash = FUZZ_HASH_INIT;
    memset(&thought, 0, sizeof thought);
    thought.hash = FUZZ_HASH_INIT;
    memset(o, 0, sizeof *o);
    o->rc = chat(&req, &res, stepped);
    o->reasoning = thought;
    o->calls_hash = FUZZ_HASH_INIT;
#if CW_CONFIG_TOOLS
    if (flags & 2u) {
        uint32_t k;
        for (k = 0; k < res.tool_calls && k < req.tool_call_max; k++) {
            const cw_tool_call_t *c = &calls[k];
            FUZZ_CHECK(memchr(c->id, 0, sizeof c->id) != NULL &&
                           memchr(c->type, 0, sizeof c->type) != NULL &&
                           memchr(c->name, 0, sizeof c->name) != NULL,
                       "call %u: a string without its NUL", (unsigned)k);
            o->calls_hash = fuzz_hash(o->calls_hash, c->id, strlen(c->id));
            o->calls_hash = fuzz_hash(o->calls_hash, c->name,
                                      strlen(c->name));
            if (c->arguments != NULL) {
                FUZZ_CHECK(fuzz_inside(c->arguments, c->arguments_len + 1u,
                                       args, sizeof args),
                           "call %u: arguments outside the storage",
                           (unsigned)k);
                FUZZ_CHECK(c->arguments[c->arguments_len] == '\0',
                           "call %u: arguments without their NUL",
                           (unsigned)k);
                o->calls_hash = fuzz_hash(o->calls_hash, c->arguments,
                                          c->arguments_len);
            }
        }
    }
#endif
    FUZZ_CHECK(fake.in_pos <= len, "read past the response");
    if (o->rc == CW_OK && !stream && res.tool_calls == 0u) {
        FUZZ_CHECK(res.content != NULL, "success without content");
    }
    if (o->rc == CW_OK && !stream && res.content != NULL) {
        FUZZ_CHECK(fuzz_inside(res.content, res.content_len + 1u, work_buf,
                                 sizeof work_buf), "content outside work");
        FUZZ_CHECK(res.content[res.content_len] == '\0', "no NUL");
    }
    o->status = res.http.status;
    if (res.content != NULL) {
        o->content_hash = fuzz_hash(FUZZ_HASH_INIT, res.content,
                                    res.content_len);
    }
    o->content_len = res.content_len;
    o->deltas = got;
    o->partial = res.partial;
    o->done = res.done;
    o->refusal = res.refusal;
    memcpy(o->finish, res.finish_reason, sizeof o->finish);
    memcpy(o->code, res.error.code, sizeof o->code);
    memcpy(o->message, res.error.message, sizeof o->message);
    memcpy(o->request_id, res.http.request_id, sizeof o->request_id);
    o->total_tokens = res.total_tokens;
    o->error_offset = res.error_offset;
    o->tool_calls = res.tool_calls;
    o->needed = res.needed;
    FUZZ_CHECK(memchr(res.tool_names, 0, sizeof res.tool_names) != NULL &&
               memchr(res.detail, 0, sizeof res.detail) != NULL,
               "a string field without its NUL");
    {
        /* the detail sentence is one printable line */
        const char *p;
        for (p = res.detail; *p != '\0'; p++) {
            FUZZ_CHECK((uint8_t)*p >= 0x20u && (uint8_t)*p < 0x7fu,
                       "unprintable byte 0x%02x in the detail", (uint8_t)*p);
        }
    }
    memcpy(o->tool_names, res.tool_names, sizeof o->tool_names);
    memcpy(o->detail, res.detail, sizeof o->detail);
}

static void same(const outcome_t *a, const outcome_t *b, const char *how)
{
    FUZZ_CHECK(a->rc == b->rc, "%s: rc %d vs %d", how, a->rc, b->rc);
    FUZZ_CHECK(a->status == b->status, "%s: status", how);
    FUZZ_CHECK(a->content_hash == b->content_hash &&
               a->content_len == b->content_len, "%s: content", how);
    FUZZ_CHECK(a->deltas.hash == b->deltas.hash &&
               a->deltas.len == b->deltas.len, "%s: streamed text", how);
    FUZZ_CHECK(a->partial == b->partial && a->done == b->done &&
               a->refusal == b->refusal, "%s: flags", how);
    FUZZ_CHECK(strcmp(a->finish, b->finish) == 0 &&
               strcmp(a->code, b->code) == 0 &&
               strcmp(a->message, b->message) == 0 &&
               strcmp(a->request_id, b->request_id) == 0 &&
               a->total_tokens == b->total_tokens, "%s: fields", how);
    FUZZ_CHECK(a->error_offset == b->error_offset, "%s: offset %llu vs %llu",
               how, (unsigned long long)a->error_offset,
               (unsigned long long)b->error_offset);
    FUZZ_CHECK(a->tool_calls == b->tool_calls &&
               strcmp(a->tool_names, b->tool_names) == 0 &&
               a->needed == b->needed, "%s: tool calls or size needed", how);
    FUZZ_CHECK(strcmp(a->detail, b->detail) == 0, "%s: detail \"%s\" vs "
               "\"%s\"", how, a->detail, b->detail);
    FUZZ_CHECK(a->calls_hash == b->calls_hash, "%s: stored tool calls", how);
    FUZZ_CHECK(a->reasoning.hash == b->reasoning.hash &&
               a->reasoning.len == b->reasoning.len, "%s: reasoning", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome_t whole;
    static outcome_t split;
    static outcome_t bytes;
    static outcome_t stepped;
    static const size_t one[] = { 1 };
    size_t sizes[2];
    uint8_t flags;
    const uint8_t *resp;
    size_t len;

    if (size < 3u) {
        return 0;
    }
    flags = data[0];
    resp = data + 3;
    len = size - 3u;
    run(resp, len, flags, NULL, 0, &whole, false);
    sizes[0] = len > 0u ? ((size_t)data[1] << 8 | data[2]) % len + 1u : 1u;
    sizes[1] = 65536u;
    run(resp, len, flags, sizes, 2, &split, false);
    same(&whole, &split, "split");
    run(resp, len, flags, one, 1, &bytes, false);
    same(&whole, &bytes, "byte at a time");
#if CW_CONFIG_NONBLOCKING
    run(resp, len, flags, sizes, 2, &stepped, true);
    same(&whole, &stepped, "through the step API");
#endif
    return 0;
}
