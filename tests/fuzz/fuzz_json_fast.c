/*
 * fuzz_json_fast.c - the stream fast path against the jsmn path, on
 * arbitrary bytes (CW_CONFIG_STREAM_FAST_PATHS).
 *
 * cw_json_chunk_fast reads the common chat.completion.chunk in one pass. For
 * every text it takes, it must give exactly what cw_json_chunk_jsmn gives:
 * CW_OK, the same cw_result_t (every byte of it), the same chunk (content
 * and refusal at the same offsets, with the same lengths, the error flag),
 * the tool tracking untouched as the jsmn path leaves it, and the same text
 * afterwards (both unescape and NUL-terminate strings in place). For a text
 * it leaves to the jsmn path it must touch nothing: not the text, not the
 * result, not the chunk. And cw_json_chunk, which tries one and then the
 * other, must give the jsmn path's results for every input.
 *
 * Each input runs twice: with the full token array and with a small one
 * (1..48 tokens, from the input's length), so that texts with more tokens
 * than fit reach the jsmn path's CW_ERR_BUFFER_TOO_SMALL. The result starts
 * pre-filled (id, model, finish_reason, usage), so that members absent from
 * the text must keep what was there. Every copy of the text is exactly its
 * size, so ASan sees any read or write past its end.
 */
#include "cw_internal.h"
#include "fuzz_common.h"

#if CW_CONFIG_STREAM_FAST_PATHS

#define MAX_TOKENS 512u

static int tokens[MAX_TOKENS * 4u]; /* jsmntok_t is four ints */
static cw_result_t prefill;
static cw_result_t res_jsmn;
static cw_result_t res_fast;
static cw_result_t res_both;

static void make_prefill(const uint8_t *data, size_t size)
{
    memset(&prefill, 0, sizeof prefill);
    prefill.prompt_tokens = -1;
    prefill.completion_tokens = -1;
    prefill.total_tokens = size % 3u == 0u ? 7 : -1;
    strcpy(prefill.id, "chatcmpl-before");
    strcpy(prefill.model, size % 2u == 0u ? "gpt-4o-mini" : "");
    strcpy(prefill.finish_reason, size > 0u && data[0] == '{' ? "" : "stop");
}

/* Where p points in text, or -1 for NULL. */
static long offset_in(const char *p, const char *text)
{
    return p == NULL ? -1L : (long)(p - text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t ntoks[2];
    char *jsmn_copy;
    char *fast_copy;
    char *both_copy;
    int pass;

    if (size == 0u) {
        return 0;
    }
    jsmn_copy = (char *)malloc(size);
    fast_copy = (char *)malloc(size);
    both_copy = (char *)malloc(size);
    if (jsmn_copy == NULL || fast_copy == NULL || both_copy == NULL) {
        free(jsmn_copy);
        free(fast_copy);
        free(both_copy);
        return 0;
    }
    make_prefill(data, size);
    ntoks[0] = cw_json_token_capacity(sizeof tokens);
    ntoks[1] = 1u + size % 48u;

    for (pass = 0; pass < 2; pass++) {
        size_t ntok = ntoks[pass];
        cw_chunk_t chunk_jsmn;
        cw_chunk_t chunk_fast;
        cw_chunk_t chunk_both;
        cw_chunk_t untouched;
        cw_tool_track_t tt_jsmn;
        cw_tool_track_t tt_both;
        bool taken;
        int rc_jsmn;
        int rc_both;

        memcpy(jsmn_copy, data, size);
        memcpy(fast_copy, data, size);
        memcpy(both_copy, data, size);
        memcpy(&res_jsmn, &prefill, sizeof prefill);
        memcpy(&res_fast, &prefill, sizeof prefill);
        memcpy(&res_both, &prefill, sizeof prefill);
        memset(&tt_jsmn, 0, sizeof tt_jsmn);
        tt_jsmn.index = -1;
#if CW_CONFIG_TOOLS
        tt_jsmn.stream = true; /* deltas; no storage: calls counted only */
#endif
        memcpy(&tt_both, &tt_jsmn, sizeof tt_both);
        memset(&chunk_fast, 0xa5, sizeof chunk_fast);
        memcpy(&untouched, &chunk_fast, sizeof untouched);

        rc_jsmn = cw_json_chunk_jsmn(jsmn_copy, size, tokens, ntok,
                                     &res_jsmn, &chunk_jsmn, &tt_jsmn);
        taken = cw_json_chunk_fast(fast_copy, size, ntok, &res_fast,
                                   &chunk_fast);
        rc_both = cw_json_chunk(both_copy, size, tokens, ntok, &res_both,
                                &chunk_both, &tt_both);

        if (taken) {
            FUZZ_CHECK(rc_jsmn == CW_OK,
                       "the fast path took a text the jsmn path reads as %d",
                       rc_jsmn);
            FUZZ_CHECK(memcmp(&res_fast, &res_jsmn, sizeof res_jsmn) == 0,
                       "results differ (id '%s'/'%s', model '%s'/'%s', "
                       "finish '%s'/'%s')", res_fast.id, res_jsmn.id,
                       res_fast.model, res_jsmn.model,
                       res_fast.finish_reason, res_jsmn.finish_reason);
            FUZZ_CHECK(offset_in(chunk_fast.content, fast_copy) ==
                               offset_in(chunk_jsmn.content, jsmn_copy) &&
                           chunk_fast.content_len == chunk_jsmn.content_len,
                       "content differs: at %ld (%zu bytes) / %ld (%zu)",
                       offset_in(chunk_fast.content, fast_copy),
                       chunk_fast.content_len,
                       offset_in(chunk_jsmn.content, jsmn_copy),
                       chunk_jsmn.content_len);
            FUZZ_CHECK(offset_in(chunk_fast.refusal, fast_copy) ==
                               offset_in(chunk_jsmn.refusal, jsmn_copy) &&
                           chunk_fast.refusal_len == chunk_jsmn.refusal_len,
                       "refusal differs");
            FUZZ_CHECK(chunk_fast.reasoning == NULL &&
                           chunk_jsmn.reasoning == NULL &&
                           chunk_jsmn.reasoning_len == 0u,
                       "the fast path took a text with reasoning");
            FUZZ_CHECK(chunk_fast.error == chunk_jsmn.error,
                       "error flag differs");
            FUZZ_CHECK(tt_jsmn.index == -1 && !tt_jsmn.named,
                       "the jsmn path tracked a tool call in a text the "
                       "fast path took");
            FUZZ_CHECK(memcmp(fast_copy, jsmn_copy, size) == 0,
                       "the texts differ after both paths");
        } else {
            FUZZ_CHECK(memcmp(fast_copy, data, size) == 0,
                       "the fast path changed a text it did not take");
            FUZZ_CHECK(memcmp(&res_fast, &prefill, sizeof prefill) == 0,
                       "the fast path changed the result of a text it did "
                       "not take");
            FUZZ_CHECK(memcmp(&chunk_fast, &untouched, sizeof untouched) ==
                           0,
                       "the fast path changed the chunk of a text it did "
                       "not take");
        }

        /* the composition: always the jsmn path's results */
        FUZZ_CHECK(rc_both == rc_jsmn, "cw_json_chunk %d, jsmn path %d",
                   rc_both, rc_jsmn);
        FUZZ_CHECK(memcmp(&res_both, &res_jsmn, sizeof res_jsmn) == 0,
                   "cw_json_chunk's result differs from the jsmn path's");
        FUZZ_CHECK(memcmp(both_copy, jsmn_copy, size) == 0,
                   "cw_json_chunk's text differs from the jsmn path's");
        FUZZ_CHECK(tt_both.index == tt_jsmn.index &&
                       tt_both.named == tt_jsmn.named,
                   "tool tracking differs");
        if (rc_jsmn == CW_OK || rc_jsmn == CW_ERR_API) {
            FUZZ_CHECK(offset_in(chunk_both.content, both_copy) ==
                               offset_in(chunk_jsmn.content, jsmn_copy) &&
                           chunk_both.content_len == chunk_jsmn.content_len &&
                           offset_in(chunk_both.refusal, both_copy) ==
                               offset_in(chunk_jsmn.refusal, jsmn_copy) &&
                           chunk_both.refusal_len == chunk_jsmn.refusal_len &&
                           offset_in(chunk_both.reasoning, both_copy) ==
                               offset_in(chunk_jsmn.reasoning, jsmn_copy) &&
                           chunk_both.reasoning_len ==
                               chunk_jsmn.reasoning_len &&
                           chunk_both.error == chunk_jsmn.error,
                       "cw_json_chunk's chunk differs from the jsmn path's");
        }
    }
    free(jsmn_copy);
    free(fast_copy);
    free(both_copy);
    return 0;
}

#else /* !CW_CONFIG_STREAM_FAST_PATHS */

/* Built without the fast path: there is one path, nothing to compare. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}

#endif
