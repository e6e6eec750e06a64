/*
 * fuzz_json.c - the JSON extraction layer on arbitrary bytes.
 *
 * The input is a response body or stream event. cw_json_completion,
 * cw_json_chunk and cw_json_error each run on a fresh copy (they unescape in
 * place), with a full token array and again with a small one (1..16 tokens,
 * chosen from the input's length) to reach the out-of-tokens paths.
 * cw_json_unescape runs on the raw input as well.
 *
 * Checked: return codes are among the documented ones; content pointers lie
 * inside the copy, content_len fits and the text is NUL-terminated there;
 * every string field of cw_result_t is NUL-terminated inside its array;
 * error_offset is within the input; and, when the input is valid UTF-8, every
 * string handed back is valid UTF-8 too (fields are cut on a character
 * boundary, lone surrogates become U+FFFD). The copy is never written past
 * its end (ASan, with the copy in a buffer of exactly the input's size).
 * Tool calls go into storage of 3 calls and 64 argument bytes, whose
 * calls must stay NUL-terminated inside it. cw_json_text_check (the check
 * on a caller's JSON text) runs on the raw input: its answer is an offset
 * within it, and an object it accepts is accepted as a value too.
 */
#include "cw_internal.h"
#include "fuzz_common.h"

#define MAX_TOKENS 512u

static int tokens[MAX_TOKENS * 4u]; /* jsmntok_t is four ints */
static cw_result_t res;

#if CW_CONFIG_TOOLS
static cw_tool_call_t calls[3];
static char args[64];
#endif

/* Tool-call storage for tt (stream: fragments), dirty to start with. */
static void storage(cw_tool_track_t *tt, bool stream)
{
#if CW_CONFIG_TOOLS
    memset(calls, 0x5a, sizeof calls);
    memset(args, 0x5a, sizeof args);
    tt->calls = calls;
    tt->max = sizeof calls / sizeof calls[0];
    tt->args = args;
    tt->args_size = sizeof args;
    tt->stream = stream;
#else
    (void)tt;
    (void)stream;
#endif
}

static void calls_ok(const cw_tool_track_t *tt, const cw_result_t *r)
{
#if CW_CONFIG_TOOLS
    uint32_t k;
    for (k = 0; k < r->tool_calls && k < tt->max; k++) {
        const cw_tool_call_t *c = &calls[k];
        FUZZ_CHECK(memchr(c->id, 0, sizeof c->id) != NULL &&
                       memchr(c->name, 0, sizeof c->name) != NULL &&
                       memchr(c->type, 0, sizeof c->type) != NULL,
                   "call %u: no NUL", (unsigned)k);
        if (c->arguments != NULL) {
            FUZZ_CHECK(fuzz_inside(c->arguments, c->arguments_len + 1u, args,
                                   sizeof args) &&
                           c->arguments[c->arguments_len] == '\0',
                       "call %u: arguments outside or unterminated",
                       (unsigned)k);
        }
    }
    FUZZ_CHECK(tt->args_used <= tt->args_size, "arguments over the storage");
#else
    (void)tt;
    (void)r;
#endif
}

static void reset_result(cw_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->prompt_tokens = -1;
    r->completion_tokens = -1;
    r->total_tokens = -1;
}

static void field_ok(const char *s, size_t size, bool utf8, const char *what)
{
    const char *nul = memchr(s, '\0', size);
    FUZZ_CHECK(nul != NULL, "%s not NUL-terminated", what);
    if (utf8) {
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)s, (size_t)(nul - s)),
                   "%s is not valid UTF-8 though the input was", what);
    }
}

static void result_ok(const cw_result_t *r, size_t n, bool utf8)
{
    field_ok(r->id, sizeof r->id, utf8, "id");
    field_ok(r->model, sizeof r->model, utf8, "model");
    field_ok(r->finish_reason, sizeof r->finish_reason, utf8,
             "finish_reason");
    field_ok(r->error.message, sizeof r->error.message, utf8,
             "error.message");
    field_ok(r->error.type, sizeof r->error.type, utf8, "error.type");
    field_ok(r->error.code, sizeof r->error.code, utf8, "error.code");
    field_ok(r->error.param, sizeof r->error.param, utf8, "error.param");
    FUZZ_CHECK(r->error_offset <= n, "error_offset %llu > %zu",
               (unsigned long long)r->error_offset, n);
    FUZZ_CHECK(r->prompt_tokens >= -1 && r->completion_tokens >= -1 &&
               r->total_tokens >= -1, "negative usage");
}

static void text_ok(const char *text, size_t len, const char *copy, size_t n,
                    bool utf8, const char *what)
{
    FUZZ_CHECK(fuzz_inside(text, len, copy, n),
               "%s (%zu bytes) outside the input copy", what, len);
    FUZZ_CHECK(len < n && (size_t)(text - copy) + len < n,
               "%s leaves no room for its NUL", what);
    FUZZ_CHECK(text[len] == '\0', "%s not NUL-terminated", what);
    if (utf8) {
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)text, len),
                   "%s is not valid UTF-8 though the input was", what);
    }
}

static bool rc_in(int rc, const int *allowed, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        if (rc == allowed[i]) {
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int completion_rcs[] = {CW_OK, CW_ERR_NO_CONTENT,
                                         CW_ERR_API, CW_ERR_MALFORMED,
                                         CW_ERR_BUFFER_TOO_SMALL,
                                         CW_ERR_TOOL_CALLS};
    static const int chunk_rcs[] = {CW_OK, CW_ERR_API, CW_ERR_MALFORMED,
                                    CW_ERR_BUFFER_TOO_SMALL};
    static const int error_rcs[] = {CW_OK, CW_ERR_MALFORMED,
                                    CW_ERR_BUFFER_TOO_SMALL};
    bool utf8 = fuzz_utf8_valid(data, size);
    size_t ntoks[2];
    char *copy;
    int pass;

    if (size == 0u) {
        return 0;
    }
    /* exactly size bytes, so ASan sees any write past the end */
    copy = (char *)malloc(size);
    if (copy == NULL) {
        return 0;
    }
    ntoks[0] = cw_json_token_capacity(sizeof tokens);
    ntoks[1] = 1u + size % 16u;
    FUZZ_CHECK(ntoks[0] == MAX_TOKENS, "token capacity %zu", ntoks[0]);

    for (pass = 0; pass < 2; pass++) {
        size_t ntok = ntoks[pass];
        cw_chunk_t chunk;
        int rc;

        memcpy(copy, data, size);
        reset_result(&res);
        {
            cw_tool_track_t wt;
            cw_chunk_t extra;
            memset(&wt, 0, sizeof wt);
            memset(&extra, 0, sizeof extra);
            wt.index = -1;
            storage(&wt, false);
            (void)wt;
            rc = cw_json_completion(copy, size, tokens, ntok,
                                    &res CW_COMPLETION_EXTRA(&extra, &wt));
            calls_ok(&wt, &res);
        }
        FUZZ_CHECK(rc_in(rc, completion_rcs, 6), "completion rc %d", rc);
        result_ok(&res, size, utf8);
        if (res.content != NULL) {
            FUZZ_CHECK(rc == CW_OK || rc == CW_ERR_NO_CONTENT ||
                           rc == CW_ERR_TOOL_CALLS,
                       "content with rc %d", rc);
            text_ok(res.content, res.content_len, copy, size, utf8,
                    "content");
        }
        FUZZ_CHECK(!res.refusal || res.content != NULL,
                   "refusal without text");
        if (rc == CW_ERR_API) {
            FUZZ_CHECK(res.error.present, "CW_ERR_API without an error");
        }

        memcpy(copy, data, size);
        reset_result(&res);
        {
            cw_tool_track_t tt;
            memset(&tt, 0, sizeof tt);
            tt.index = -1;
            storage(&tt, true);
            rc = cw_json_chunk(copy, size, tokens, ntok, &res, &chunk, &tt);
            FUZZ_CHECK(tt.index >= -1, "tool index %d", (int)tt.index);
            calls_ok(&tt, &res);
        }
        FUZZ_CHECK(strlen(res.tool_names) < sizeof res.tool_names,
                   "tool names overflow");
        FUZZ_CHECK(rc_in(rc, chunk_rcs, 4), "chunk rc %d", rc);
        result_ok(&res, size, utf8);
        if (chunk.content != NULL) {
            text_ok(chunk.content, chunk.content_len, copy, size, utf8,
                    "delta content");
        } else {
            FUZZ_CHECK(chunk.content_len == 0u, "length without content");
        }
        /* chunk.error is also set when an error-shaped event turns out
         * malformed ({"object":"error"} without "message"); res->error is
         * filled only with CW_ERR_API. */
        if (rc == CW_ERR_API) {
            FUZZ_CHECK(chunk.error && res.error.present,
                       "CW_ERR_API without an error");
        }
        FUZZ_CHECK(!chunk.error || rc == CW_ERR_API || rc == CW_ERR_MALFORMED,
                   "error flag with rc %d", rc);

        memcpy(copy, data, size);
        reset_result(&res);
        rc = cw_json_error(copy, size, tokens, ntok, &res);
        FUZZ_CHECK(rc_in(rc, error_rcs, 3), "error rc %d", rc);
        result_ok(&res, size, utf8);
        if (rc == CW_OK) {
            FUZZ_CHECK(res.error.present, "CW_OK without an error");
        }
    }

    /* a caller's JSON text, checked */
#if CW_CONFIG_TOOLS || CW_CONFIG_REQUEST_OPTIONS
    {
        size_t v = cw_json_text_check((const char *)data, size, false, NULL,
                                      NULL);
        size_t o = cw_json_text_check((const char *)data, size, true, NULL,
                                      NULL);
        FUZZ_CHECK(v == CW_JSON_TEXT_OK || v <= size, "text check offset");
        FUZZ_CHECK(o == CW_JSON_TEXT_OK || o <= size, "object check offset");
        FUZZ_CHECK(o != CW_JSON_TEXT_OK || v == CW_JSON_TEXT_OK,
                   "an object accepted that is not a value");
    }
#endif

    /* the raw unescaper: never longer, valid UTF-8 in, valid UTF-8 out */
    {
        size_t w;
        memcpy(copy, data, size);
        w = cw_json_unescape(copy, size);
        if (w != (size_t)-1) {
            FUZZ_CHECK(w <= size, "unescaped %zu > %zu", w, size);
            if (utf8) {
                FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)copy, w),
                           "unescape made invalid UTF-8");
            }
        }
    }
    free(copy);
    return 0;
}
