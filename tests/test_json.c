/*
 * test_json.c - JSON unescaping and extraction alone.
 */
#include "cw_internal.h"
#include "cw_test.h"

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
};

CW_TEST_MAIN(tests)
