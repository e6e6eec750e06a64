/*
 * test_json.c - JSON unescaping and extraction alone, and the stream fast
 * path against the jsmn path (CW_CONFIG_STREAM_FAST_PATHS).
 */
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

static int tokens[CW_JSON_MAX_TOKENS * 4];
static char doc[4096];

static size_t unescape(const char *in, char *out)
{
    size_t n;
    strcpy(out, in);
    n = cw_json_unescape(out, strlen(out));
    if (n != (size_t)-1) {
        out[n] = '\0';
    }
    return n;
}

TEST(test_unescape_every_escape)
{
    char out[256];
    CHECK_EQ_INT(unescape("a\\nb\\tc\\rd\\\"e\\\\f\\/g\\bh\\fi", out), 17);
    CHECK_MEM(out, 17u, "a\nb\tc\rd\"e\\f/g\bh\fi", 17u);
    unescape("\\u00e9\\u4e2d\\u0041", out);
    CHECK_EQ_STR(out, "\xc3\xa9\xe4\xb8\xad" "A");
    unescape("\\ud83d\\ude00|\\uD83E\\uDD80", out);
    CHECK_EQ_STR(out, "\xf0\x9f\x98\x80|\xf0\x9f\xa6\x80");
}

TEST(test_lone_surrogates_become_replacement_character)
{
    char out[256];
    unescape("a\\ud800b", out);
    CHECK_EQ_STR(out, "a\xef\xbf\xbd" "b");
    unescape("\\udc00", out);
    CHECK_EQ_STR(out, "\xef\xbf\xbd");
    unescape("\\ud800\\u0041", out); /* high then not-low */
    CHECK_EQ_STR(out, "\xef\xbf\xbd" "A");
    unescape("\\ud800", out); /* at the very end */
    CHECK_EQ_STR(out, "\xef\xbf\xbd");
    unescape("\\ud800\\ud800\\udc00", out);
    CHECK_EQ_STR(out, "\xef\xbf\xbd\xf0\x90\x80\x80");
}

TEST(test_bad_escapes_refused)
{
    char out[64];
    CHECK_EQ_INT(unescape("\\x", out), (size_t)-1);
    CHECK_EQ_INT(unescape("\\u12G4", out), (size_t)-1);
    CHECK_EQ_INT(unescape("\\u12", out), (size_t)-1);
    CHECK_EQ_INT(unescape("abc\\", out), (size_t)-1);
}

static void result_init(cw_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->prompt_tokens = r->completion_tokens = r->total_tokens = -1;
}

/* The tool-call state of one answer, with no storage (calls counted and
 * named only). */
static cw_tool_track_t fresh_track(bool stream)
{
    cw_tool_track_t t;
    memset(&t, 0, sizeof t);
    t.index = -1;
#if CW_CONFIG_TOOLS
    t.stream = stream;
#else
    (void)stream;
#endif
    return t;
}

static int completion(const char *json, cw_result_t *r)
{
    cw_tool_track_t tt = fresh_track(false);
    cw_chunk_t extra;

    memset(&extra, 0, sizeof extra);
    if (json != doc) {
        strcpy(doc, json);
    }
    result_init(r);
    (void)tt;
    return cw_json_completion(doc, strlen(doc), tokens, CW_JSON_MAX_TOKENS,
                              r CW_COMPLETION_EXTRA(&extra, &tt));
}

TEST(test_completion_shapes)
{
    cw_result_t r;
    CHECK_EQ_INT(completion("{\"choices\":[{\"message\":{\"content\":\"hi\"},"
                            "\"finish_reason\":\"stop\"}]}", &r), CW_OK);
    CHECK_EQ_STR(r.content, "hi");
    CHECK_EQ_INT(r.prompt_tokens, -1);
    /* keys in any order, nested objects skipped */
    CHECK_EQ_INT(completion("{\"usage\":{\"x\":{\"y\":[1,2,{\"z\":3}]},"
                            "\"total_tokens\":9},\"choices\":[{\"logprobs\":"
                            "{\"content\":[{\"t\":\"a\"}]},\"message\":{"
                            "\"tool_calls\":[],\"content\":\"ok\"}}],"
                            "\"id\":\"i\"}", &r), CW_OK);
    CHECK_EQ_STR(r.content, "ok");
    CHECK_EQ_STR(r.id, "i");
    CHECK_EQ_INT(r.total_tokens, 9);
    /* tool calls: content null, no refusal, the calls counted */
    CHECK_EQ_INT(completion("{\"choices\":[{\"message\":{\"content\":null,"
                            "\"tool_calls\":[{}]},\"finish_reason\":"
                            "\"tool_calls\"}]}", &r), CW_ERR_TOOL_CALLS);
    CHECK(r.content_null && !r.refusal && r.content == NULL);
    CHECK_EQ_INT(r.tool_calls, CW_CONFIG_TOOLS ? 1 : 0);
    CHECK_EQ_STR(r.tool_names, "");
    CHECK_EQ_STR(r.finish_reason, "tool_calls");
    /* an error object in a 200 body */
    CHECK_EQ_INT(completion("{\"error\":\"overloaded\"}", &r), CW_ERR_API);
    CHECK_EQ_STR(r.error.message, "overloaded");
    /* "error": null is not an error */
    CHECK_EQ_INT(completion("{\"error\":null,\"choices\":[{\"message\":"
                            "{\"content\":\"x\"}}]}", &r), CW_OK);
}

TEST(test_malformed_completions_refused)
{
    cw_result_t r;
    CHECK_EQ_INT(completion("{\"choices\":[]}", &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("{\"choices\":[{\"message\":{\"content\":5}}]}",
                            &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("[1,2]", &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("{\"a\":1} {\"b\":2}", &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("{\"a\":tru}", &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("{\"choices\":[{\"message\":{\"content\":\"abc",
                            &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(r.error_offset, strlen(doc)); /* it ended early */
    CHECK_EQ_INT(completion("{\"choices\":[{\"message\":{\"content\":"
                            "\"a\\qb\"}}]}", &r), CW_ERR_MALFORMED);
    CHECK_EQ_INT(completion("", &r), CW_ERR_MALFORMED);
}

TEST(test_grammar_holes_in_jsmn_closed)
{
    static const struct {
        const char *text;
        long offset;
    } bad[] = {
        { "{\"error\":{\"message\":\"m\"}}:", 25 },  /* after the root */
        { "{\"error\":{\"message\":\"m\"}},", 25 },
        { "{\"error\":{\"message\":\"m\" \"type\":\"t\"}}", 24 },
        { "{\"error\":{\"message\":\"m\",}}", 23 },
        { "{\"a\" \"b\"}", 5 },
        { "{\"a\":[1 2]}", 8 },
        { "{\"a\":[1,]}", 7 },   /* jsmn itself */
        { "{\"a\"::1}", 5 },
        { "{,\"a\":1}", 1 },
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cw_result_t r;
        int rc = completion(bad[i].text, &r);
        if (rc != CW_ERR_MALFORMED || (long)r.error_offset != bad[i].offset) {
            fprintf(stderr, "%s: rc %d at %llu, want MALFORMED at %ld\n",
                    bad[i].text, rc, (unsigned long long)r.error_offset,
                    bad[i].offset);
            cw_test_failures++;
        }
    }
    /* white space of every kind, nesting, empty containers: fine */
    {
        cw_result_t r;
        CHECK_EQ_INT(completion(" \r\n\t{ \"x\" : [ ] , \"y\":{},\"choices\""
                                " : [ { \"message\" : { \"content\" : \"ok\" "
                                "} } ] } \n", &r), CW_OK);
        CHECK_EQ_STR(r.content, "ok");
    }
}

TEST(test_too_many_tokens_is_buffer_too_small)
{
    cw_result_t r;
    size_t n = 0;
    size_t i;
    n += (size_t)sprintf(doc, "{\"choices\":[{\"message\":{\"content\":\"x\"}}],"
                              "\"a\":[");
    for (i = 0; i < CW_JSON_MAX_TOKENS; i++) {
        n += (size_t)sprintf(doc + n, "%s1", i ? "," : "");
    }
    strcpy(doc + n, "]}");
    CHECK_EQ_INT(completion(doc, &r), CW_ERR_BUFFER_TOO_SMALL);
}

static cw_tool_track_t track;

static int chunk(const char *json, cw_result_t *r, cw_chunk_t *c)
{
    track = fresh_track(true);
    strcpy(doc, json);
    return cw_json_chunk(doc, strlen(doc), tokens, CW_JSON_MAX_TOKENS, r, c,
                         &track);
}

TEST(test_chunk_shapes)
{
    cw_result_t r;
    cw_chunk_t c;
    result_init(&r);
    CHECK_EQ_INT(chunk("{\"choices\":[{\"delta\":{\"content\":\"a\\u00e9\"},"
                       "\"finish_reason\":null}]}", &r, &c), CW_OK);
    CHECK_MEM(c.content, c.content_len, "a\xc3\xa9", 3u);
    CHECK_EQ_STR(r.finish_reason, "");
    CHECK_EQ_INT(chunk("{\"choices\":[{\"delta\":{},\"finish_reason\":"
                       "\"length\"}]}", &r, &c), CW_OK);
    CHECK(c.content == NULL);
    CHECK_EQ_STR(r.finish_reason, "length");
    CHECK_EQ_INT(chunk("{\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
                       "\"completion_tokens\":2,\"total_tokens\":3}}", &r, &c),
                 CW_OK);
    CHECK_EQ_INT(r.total_tokens, 3);
    CHECK_EQ_STR(r.finish_reason, "length"); /* kept from before */
    /* usage: null in ordinary chunks leaves the counts alone */
    CHECK_EQ_INT(chunk("{\"choices\":[{\"delta\":{\"content\":\"\"}}],"
                       "\"usage\":null}", &r, &c), CW_OK);
    CHECK_EQ_INT(r.total_tokens, 3);
    /* OpenRouter: an error beside the choices */
    CHECK_EQ_INT(chunk("{\"choices\":[{\"delta\":{\"content\":\"\"},"
                       "\"finish_reason\":\"error\"}],\"error\":{\"code\":"
                       "\"server_error\",\"message\":\"Provider disconnected\"}}",
                       &r, &c), CW_ERR_API);
    CHECK(c.error);
    CHECK_EQ_STR(r.error.message, "Provider disconnected");
    CHECK_EQ_STR(r.error.code, "server_error");
}

TEST(test_copy_field_cuts_at_utf8_boundary)
{
    char dst[6];
    CHECK(!cw_copy_field(dst, sizeof dst, "abcde", 5));
    CHECK_EQ_STR(dst, "abcde");
    CHECK(cw_copy_field(dst, sizeof dst, "abcd\xc3\xa9", 6));
    CHECK_EQ_STR(dst, "abcd");
    CHECK(cw_copy_field(dst, sizeof dst, "a\xf0\x9f\x98\x80zz", 7));
    CHECK_EQ_STR(dst, "a\xf0\x9f\x98\x80");
    CHECK(cw_copy_field(dst, sizeof dst, "ab\xf0\x9f\x98\x80z", 7));
    CHECK_EQ_STR(dst, "ab");
}

TEST(test_utf8_tail_and_validation)
{
    CHECK_EQ_INT(cw_utf8_tail("abc", 3), 0);
    CHECK_EQ_INT(cw_utf8_tail("a\xf0\x9f", 3), 2);
    CHECK_EQ_INT(cw_utf8_tail("a\xf0\x9f\x98", 4), 3);
    CHECK_EQ_INT(cw_utf8_tail("a\xf0\x9f\x98\x80", 5), 0);
    CHECK_EQ_INT(cw_utf8_tail("\xe4", 1), 1);
    CHECK_EQ_INT(cw_utf8_tail("\x80\x80\x80\x80", 4), 0);
    CHECK(cw_utf8_valid("\xf4\x8f\xbf\xbf", 4));
    CHECK(!cw_utf8_valid("\xf4\x90\x80\x80", 4));
    CHECK(!cw_utf8_valid("\xed\xbf\xbf", 3));
    CHECK(cw_utf8_valid("\xee\x80\x80", 3));
}

#if CW_CONFIG_STREAM_FAST_PATHS
/* ------------------------------------------------ fast path vs jsmn path */

static char fast_text[8192];
static char jsmn_text[8192];

/* Runs both paths on text (from a result filled as before), checks that
 * the fast path took it or not as expected (-1: either), and that when it
 * did, everything is the same; when it did not, that it touched nothing.
 * Returns whether it took it. */
static bool compare_paths(const char *text, size_t len, size_t ntok,
                          int expect_taken)
{
    cw_result_t before;
    cw_result_t r_fast;
    cw_result_t r_jsmn;
    cw_chunk_t c_fast;
    cw_chunk_t c_jsmn;
    cw_chunk_t untouched;
    cw_tool_track_t tt = fresh_track(true);
    bool taken;
    int rc;

    memset(&before, 0, sizeof before);
    before.prompt_tokens = -1;
    before.completion_tokens = -1;
    before.total_tokens = -1;
    strcpy(before.id, "before");
    strcpy(before.finish_reason, "before");
    memcpy(&r_fast, &before, sizeof before);
    memcpy(&r_jsmn, &before, sizeof before);
    memcpy(fast_text, text, len);
    memcpy(jsmn_text, text, len);
    memset(&c_fast, 0x5a, sizeof c_fast);
    memcpy(&untouched, &c_fast, sizeof c_fast);
    taken = cw_json_chunk_fast(fast_text, len, ntok, &r_fast, &c_fast);
    rc = cw_json_chunk_jsmn(jsmn_text, len, tokens, ntok, &r_jsmn, &c_jsmn,
                            &tt);
    if (expect_taken >= 0 && taken != (expect_taken != 0)) {
        fprintf(stderr, "fast path %s: %.*s\n", taken ? "took" : "declined",
                (int)len, text);
        CHECK(taken == (expect_taken != 0));
    }
    if (taken) {
        CHECK_EQ_INT(rc, CW_OK);
        CHECK(memcmp(&r_fast, &r_jsmn, sizeof r_jsmn) == 0);
        CHECK_EQ_INT(c_fast.content == NULL ? -1 : c_fast.content - fast_text,
                     c_jsmn.content == NULL ? -1 : c_jsmn.content - jsmn_text);
        CHECK_EQ_INT(c_fast.content_len, c_jsmn.content_len);
        CHECK_EQ_INT(c_fast.refusal == NULL ? -1 : c_fast.refusal - fast_text,
                     c_jsmn.refusal == NULL ? -1 : c_jsmn.refusal - jsmn_text);
        CHECK_EQ_INT(c_fast.refusal_len, c_jsmn.refusal_len);
        CHECK(c_fast.reasoning == NULL && c_jsmn.reasoning == NULL);
        CHECK_EQ_INT(c_fast.reasoning_len, c_jsmn.reasoning_len);
        CHECK(c_fast.error == c_jsmn.error);
        CHECK(memcmp(fast_text, jsmn_text, len) == 0);
    } else {
        CHECK(memcmp(fast_text, text, len) == 0);
        CHECK(memcmp(&r_fast, &before, sizeof before) == 0);
        CHECK(memcmp(&c_fast, &untouched, sizeof c_fast) == 0);
    }
    return taken;
}

static bool compare_text(const char *text, int expect_taken)
{
    return compare_paths(text, strlen(text), CW_JSON_MAX_TOKENS, expect_taken);
}

TEST(test_chunk_fast_path_equals_jsmn_path)
{
    static const struct {
        int taken;
        const char *text;
    } cases[] = {
        /* the usual shapes */
        { 1, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
             "\"created\":1796167903,\"model\":\"gpt-4-0314\",\"choices\":"
             "[{\"index\":0,\"delta\":{\"content\":\" ipsum\"},\"logprobs\""
             ":null,\"finish_reason\":null}]}" },
        { 1, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
             "\"content\":\"\",\"refusal\":null}}],\"usage\":null}" },
        { 1, "{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}" },
        { 1, "{\"choices\":[],\"id\":\"x\"}" },
        { 1, "{}" },
        { 1, " \t\r\n{ \"id\" : \"x\" , \"choices\" : [ { \"delta\" : { "
             "\"content\" : \"a}b{\" } } ] }" },
        /* escapes, unescaped in place as str() does */
        { 1, "{\"id\":\"c\\u0068at\",\"model\":\"m\\\"x\",\"choices\":[{"
             "\"delta\":{\"content\":\"a\\nb \\ud83e\\udd80 \\u00e9 \\\\ "
             "\\/ \\ud800 \\u0000\"}}]}" },
        /* members: the first of each name counts, names compared as
         * written */
        { 1, "{\"id\":\"first\",\"id\":\"second\",\"choices\":[{"
             "\"index\":0,\"index\":1,\"delta\":{\"content\":\"one\","
             "\"content\":\"two\"},\"delta\":{\"content\":\"three\"}}],"
             "\"choices\":[{\"delta\":{\"content\":\"four\"}}]}" },
        { 1, "{\"\\u0069d\":\"escaped name\",\"choices\":[{\"delta\":{"
             "\"cont\\u0065nt\":\"no\"}}]}" },
        /* the choice: index 0 or none, the first such element */
        { 1, "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}},"
             "{\"index\":0,\"delta\":{\"content\":\"A\"},"
             "\"finish_reason\":\"length\"}]}" },
        { 1, "{\"choices\":[{\"index\":0.0,\"delta\":{\"content\":\"a\"}},"
             "{\"index\":\"0\",\"delta\":{\"content\":\"b\"}},{\"index\":-0,"
             "\"delta\":{\"content\":\"c\"}},{\"delta\":{\"content\":\"d\"}}]}" },
        { 1, "{\"choices\":[7,{\"delta\":{\"content\":\"A\"}}]}" },
        { 1, "{\"choices\":[[1],{\"delta\":{\"content\":\"A\"}}]}" },
        { 1, "{\"choices\":[{\"index\":2}],\"id\":7,\"model\":[1],"
             "\"object\":\"x\"}" },
        { 1, "{\"choices\":{\"index\":0},\"id\":true}" },
        { 1, "{\"choices\":[{\"delta\":\"text\",\"finish_reason\":5}]}" },
        { 1, "{\"choices\":[{\"delta\":{\"content\":\"a\"},"
             "\"finish_reason\":{\"x\":1}}]}" },
        /* null where a member may be absent */
        { 1, "{\"error\":null,\"usage\":7,\"choices\":[{\"delta\":{"
             "\"content\":null,\"refusal\":\"no\",\"tool_calls\":null,"
             "\"function_call\":null}}]}" },
        /* DeepSeek's answer phase: reasoning_content null */
        { 1, "{\"choices\":[{\"delta\":{\"content\":\"a\","
             "\"reasoning_content\":null,\"reasoning\":null,"
             "\"reasoning_details\":null}}]}" },
        /* reasoning members of an element that is not the choice */
        { 1, "{\"choices\":[{\"index\":1,\"delta\":{\"reasoning\":\"r\"}},"
             "{\"delta\":{\"content\":\"a\"}}]}" },
        /* numbers and literals spelled as JSON spells them */
        { 1, "{\"a\":[0,-0,1.5,-12.25e+3,1E-2,true,false,null],\"b\":{}}" },
        /* left to the jsmn path */
        { 0, "{\"error\":{\"message\":\"m\",\"type\":\"t\"}}" },
        { 0, "{\"error\":\"text\"}" },
        { 0, "{\"object\":\"error\",\"message\":\"m\"}" },
        { 0, "{\"choices\":[],\"usage\":{\"prompt_tokens\":1,"
             "\"completion_tokens\":2,\"total_tokens\":3}}" },
        { 0, "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"function_call\":{\"name\":\"f\"}}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"content\":5}}]}" },
        /* reasoning text: DeepSeek, OpenRouter and Groq, OpenRouter's
         * details */
        { 0, "{\"choices\":[{\"delta\":{\"content\":null,"
             "\"reasoning_content\":\"think\"}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"reasoning\":\"think\"}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"reasoning_details\":[{\"type\":"
             "\"reasoning.text\",\"text\":\"think\"}]}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"reasoning\":7}}]}" },
        { 0, "{\"choices\":[{\"delta\":{\"refusal\":{}}}]}" },
        { 0, "{\"id\":\"x\"} " },            /* white space after the root */
        { 0, "[1]" },
        { 0, "{\"a\":01}" },
        { 0, "{\"a\":1.}" },
        { 0, "{\"a\":1e}" },
        { 0, "{\"a\":-}" },
        { 0, "{\"a\":nul}" },
        { 0, "{\"a\":tru}" },
        { 0, "{\"a\":\"\\x\"}" },
        { 0, "{\"a\":\"\\u12\"}" },
        { 0, "{\"a\":1,}" },
        { 0, "{,\"a\":1}" },
        { 0, "{\"a\" 1}" },
        { 0, "{\"a\":1 \"b\":2}" },
        { 0, "{\"a\":[1,]}" },
        { 0, "{\"a\":[1}" },
        { 0, "{\"a\":{}" },
        { 0, "{\"a\":\"}" },
        { 0, "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}" }, /* 17 deep */
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        compare_text(cases[i].text, cases[i].taken);
    }
    /* a NUL inside a string, where jsmn stops */
    compare_paths("{\"a\":\"x\0y\"}", 12, CW_JSON_MAX_TOKENS, 0);
    /* 16 deep is taken */
    compare_text("{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}", 1);
    /* more tokens than there is room for: jsmn's BUFFER_TOO_SMALL */
    compare_paths("{\"a\":1,\"b\":2}", 13, 4, 0);
    compare_paths("{\"a\":1,\"b\":2}", 13, 5, 1);
}

/* Every event of every recorded stream, read through the HTTP and SSE
 * layers, through both paths; the fast path must take the OpenAI-shaped
 * ones. */
static size_t events_seen;
static size_t events_taken;

static int compare_event(void *user, const char *event, char *data,
                         size_t len)
{
    (void)user;
    (void)event;
    events_seen++;
    if (len < sizeof fast_text &&
        compare_paths(data, len, CW_JSON_MAX_TOKENS, -1)) {
        events_taken++;
    }
    return CW_OK;
}

static cw_sse_parser_t sse;
static char sse_buf[8192];

static int feed_sse(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    return cw_sse_feed(&sse, data, len);
}

TEST(test_chunk_fast_path_equals_jsmn_path_on_recorded_streams)
{
    static const char *files[] = {
        "stream_cr_multiline_close.http", "stream_error_midstream.http",
        "stream_many_events_crlf.http", "stream_one_event.http",
        "stream_openrouter_comments_lf.http", "stream_refusal.http",
        "stream_tool_calls_openai.http", "stream_tool_calls_repeated_names.http",
        "stream_two_choices.http", "stream_utf8_split_across_deltas.http",
    };
    static uint8_t response[1 << 16];
    size_t i;

    events_seen = 0;
    events_taken = 0;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len = load_data(files[i], response, sizeof response);
        size_t used = 0;
        cw_http_parser_t http;
        cw_http_info_t info;
        cw_sse_init(&sse, sse_buf, sizeof sse_buf, compare_event, NULL);
        cw_http_init(&http, &info, NULL, feed_sse, NULL);
        (void)cw_http_feed(&http, response, len, &used);
        (void)cw_http_finish(&http);
    }
    CHECK(events_seen > 50u);
    CHECK(events_taken > events_seen / 2u);
}
#endif /* CW_CONFIG_STREAM_FAST_PATHS */

static const cw_test_case_t tests[] = {
    T(test_unescape_every_escape),
    T(test_lone_surrogates_become_replacement_character),
    T(test_bad_escapes_refused),
    T(test_completion_shapes),
    T(test_malformed_completions_refused),
    T(test_grammar_holes_in_jsmn_closed),
    T(test_too_many_tokens_is_buffer_too_small),
    T(test_chunk_shapes),
    T(test_copy_field_cuts_at_utf8_boundary),
    T(test_utf8_tail_and_validation),
#if CW_CONFIG_STREAM_FAST_PATHS
    T(test_chunk_fast_path_equals_jsmn_path),
    T(test_chunk_fast_path_equals_jsmn_path_on_recorded_streams),
#endif
};

CW_TEST_MAIN(tests)
