/*
 * cw_internal.h - the library's internal layers. Not installed; tests and
 * fuzzers include it to drive each layer alone.
 */
#ifndef CW_INTERNAL_H
#define CW_INTERNAL_H

#include "chatwire.h"

/* Keeps a function apart from its only caller where gcc -Os, inlining it,
 * makes the caller larger than the two apart (measured per use). */
#if defined(__GNUC__)
#define CW_NOINLINE __attribute__((noinline))
#else
#define CW_NOINLINE
#endif

/* ------------------------------------------------------------ strings */

/* Copies src[0..len) into dst (size bytes, >= 1), NUL-terminated, cut at a
 * UTF-8 boundary when it does not fit. Returns true when it was cut. */
bool cw_copy_field(char *dst, size_t size, const char *src, size_t len);

/* ASCII lower-case. */
static inline char cw_lower(char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Length of the unfinished UTF-8 sequence at the end of s[0..len): 0 when s
 * ends on a boundary (or with a byte that cannot start a sequence). */
size_t cw_utf8_tail(const char *s, size_t len);

/* Checks that s[0..len) is valid UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF). */
bool cw_utf8_valid(const char *s, size_t len);

/* The length of the longest valid prefix of s[0..len). When it is shorter
 * than len, *bad is the length of the ill-formed (or, at the very end,
 * unfinished) piece that follows: its maximal subpart, 1 to 3 bytes. */
size_t cw_utf8_check(const char *s, size_t len, size_t *bad);

/* The value of the hex digit ch (0-9, a-f, A-F), or -1 when ch is none.
 * The one hex decoder of the library (chunk sizes, \uXXXX escapes,
 * percent-encoded proxy credentials). */
int cw_hex_value(char ch);

/* Writes v in decimal at the end of out[0..CW_DEC_U64_MAX) and returns
 * where the digits start. The one decimal writer of the library. */
#define CW_DEC_U64_MAX 20u
size_t cw_dec_u64(char *out, uint64_t v);

/* Classes of bytes, for the fast paths (cw_http.c has the table): CW_C_TCHAR
 * an RFC 9110 token character, CW_C_TEXT a byte of a header value that needs
 * no decision (no control byte but tab, no DEL), CW_C_JSTOP one that stops
 * a run through a JSON string in cw_json.c's fast path ('"', '\\', '}',
 * NUL), CW_C_JWS JSON white space. */
#if CW_CONFIG_HTTP_FAST_PATHS || CW_CONFIG_STREAM_FAST_PATHS
#define CW_C_TCHAR 1u
#define CW_C_TEXT 2u
#define CW_C_JSTOP 4u
#define CW_C_JWS 8u
extern const uint8_t cw_byte_class[256];
#endif

/* ------------------------------------------------------------ detail */

/* A sentence kept only where detail sentences are built in: with
 * CW_CONFIG_DETAIL 0 it is "", and the text is not in the firmware. */
#if CW_CONFIG_DETAIL
#define CW_TEXT(s) (s)
#else
#define CW_TEXT(s) ""
#endif

/* Appends to res->detail (res may be NULL: nothing happens), cut to fit:
 * text, a number in decimal, or bytes that arrived (at most max of them,
 * quoted, with anything unprintable as \xNN, so the sentence stays one
 * printable line). With CW_CONFIG_DETAIL 0 they compile to nothing. */
#if CW_CONFIG_DETAIL
void cw_detail(cw_result_t *res, const char *text);
void cw_detail_num(cw_result_t *res, uint64_t v);
void cw_detail_bytes(cw_result_t *res, const char *data, size_t len,
                     size_t max);
/* A value that came from the server (a header), escaped but not quoted. */
void cw_detail_value(cw_result_t *res, const char *text);
#else
static inline void cw_detail(cw_result_t *res, const char *text)
{
    (void)res;
    (void)text;
}
static inline void cw_detail_num(cw_result_t *res, uint64_t v)
{
    (void)res;
    (void)v;
}
static inline void cw_detail_bytes(cw_result_t *res, const char *data,
                                   size_t len, size_t max)
{
    (void)res;
    (void)data;
    (void)len;
    (void)max;
}
static inline void cw_detail_value(cw_result_t *res, const char *text)
{
    (void)res;
    (void)text;
}
#endif

/* ------------------------------------------------------------ HTTP */

/* Prepares p for one response. info is cleared and filled as headers
 * arrive. on_headers (may be NULL) runs once the header section is complete
 * (after any 1xx interim responses); on_body receives the decoded body in
 * pieces that point into the caller's input. Either returns CW_OK to go on;
 * any other value stops the parser and is returned by cw_http_feed (the
 * library's one callback rule, chatwire.h). */
void cw_http_init(cw_http_parser_t *p, cw_http_info_t *info,
                  cw_http_headers_fn on_headers, cw_http_body_fn on_body,
                  void *user);

/* Feeds len bytes. Returns CW_OK with *consumed == len when it wants more,
 * or with *consumed <= len when the response is complete (cw_http_done);
 * bytes past the end of the response are not consumed. Returns a negative
 * status on error (CW_ERR_MALFORMED, CW_ERR_HEADER_TOO_LARGE, or a callback's
 * status); cw_http_error_offset then tells at which byte. */
int cw_http_feed(cw_http_parser_t *p, const uint8_t *data, size_t len,
                 size_t *consumed);

/* The connection was closed: completes a close-delimited body (CW_OK) or
 * returns CW_ERR_CLOSED when the response was not complete. */
int cw_http_finish(cw_http_parser_t *p);

/* The response has no body whatever its headers say (the answer to a
 * CONNECT): the parser is done after the header section. */
void cw_http_head_only(cw_http_parser_t *p);

bool cw_http_done(const cw_http_parser_t *p);
bool cw_http_headers_done(const cw_http_parser_t *p);
uint64_t cw_http_error_offset(const cw_http_parser_t *p);
/* True when the body has a known length (Content-Length); *len gets it. */
bool cw_http_content_length(const cw_http_parser_t *p, uint64_t *len);

/* ------------------------------------------------------------ SSE */

/* Splits a text/event-stream body into events. Each event's data lines are
 * joined with '\n' in buf (cap bytes; one byte is kept for a NUL, which
 * on_event receives after the data). event is the event's "event:" name, ""
 * when none. on_event returns CW_OK to go on; any other value stops the
 * parser and is returned by cw_sse_feed. */
void cw_sse_init(cw_sse_parser_t *s, char *buf, size_t cap,
                 cw_sse_event_fn on_event, void *user);

/* Feeds len bytes of body. Returns CW_OK, CW_ERR_EVENT_TOO_LARGE, or
 * on_event's negative status. */
int cw_sse_feed(cw_sse_parser_t *s, const uint8_t *data, size_t len);

/* The body ended: an event not yet ended by a blank line is dropped, as the
 * SSE specification says. Returns true if one was pending. */
bool cw_sse_finish(cw_sse_parser_t *s);

/* ------------------------------------------------------------ JSON */

/* cw_tool_track_t.flags: what did not fit in the request's storage. */
#define CW_TT_TOO_MANY 0x01u  /* more calls than tool_call_max */
#define CW_TT_LONG_ID 0x02u   /* an id of CW_TOOL_ID_MAX bytes or more */
#define CW_TT_LONG_NAME 0x04u /* a name (or type) too long for its field */

/* What one stream chunk held. */
typedef struct cw_chunk {
    char *content;        /* unescaped delta text in place, or NULL */
    size_t content_len;
    char *refusal;        /* a piece of a streamed refusal, or NULL */
    size_t refusal_len;
    char *reasoning;      /* reasoning text (streamed piece, or whole), or
                             NULL */
    size_t reasoning_len;
    bool error;           /* an error object: res->error was filled */
} cw_chunk_t;

/* Parses a chat.completion body (json[0..len), modified in place: strings
 * are unescaped where they lie). tokens is space for ntok jsmn tokens.
 * Only choices[] element with "index" 0 (or the first one without an
 * index) counts. Fills res (content, id, model, finish_reason, usage,
 * refusal, tool calls). Returns CW_OK, CW_ERR_NO_CONTENT, CW_ERR_TOOL_CALLS,
 * CW_ERR_API (an error object instead), CW_ERR_MALFORMED
 * (res->error_offset), or CW_ERR_BUFFER_TOO_SMALL (too many tokens;
 * res->needed is then the size in bytes of the token array the text needs,
 * counted by jsmn). */
/* With tools or reasoning in the build, the completion also takes extra
 * (its reasoning text) and tt (the request's tool-call storage; a whole
 * message: tt->stream false). */
#if CW_CONFIG_TOOLS || CW_CONFIG_REASONING
#define CW_COMPLETION_EXTRA_PARAM , cw_chunk_t *extra, cw_tool_track_t *tt
#define CW_COMPLETION_EXTRA(x, t) , (x), (t)
#else
#define CW_COMPLETION_EXTRA_PARAM
#define CW_COMPLETION_EXTRA(x, t)
#endif
int cw_json_completion(char *json, size_t len, void *tokens, size_t ntok,
                       cw_result_t *res CW_COMPLETION_EXTRA_PARAM);

/* Parses one chat.completion.chunk event the same way; the delta's text is
 * returned in *chunk (pointing into json). Tool calls in the delta are
 * counted into res->tool_calls / tool_names, each once however many
 * fragments repeat its index or name (tt keeps the stream's state). */
int cw_json_chunk(char *json, size_t len, void *tokens, size_t ntok,
                  cw_result_t *res, cw_chunk_t *chunk, cw_tool_track_t *tt);

#if CW_CONFIG_STREAM_FAST_PATHS
/* cw_json_chunk's two paths, for the differential fuzzer: the one-pass
 * reader of the common chunk, which returns false (and touches nothing)
 * for a text it leaves to the other, or true when it read it, with the
 * results cw_json_chunk_jsmn gives (then CW_OK); and the jsmn path, which
 * reads every text. */
bool cw_json_chunk_fast(char *json, size_t len, size_t ntok,
                        cw_result_t *res, cw_chunk_t *chunk);
int cw_json_chunk_jsmn(char *json, size_t len, void *tokens, size_t ntok,
                       cw_result_t *res, cw_chunk_t *chunk,
                       cw_tool_track_t *tt);
#endif

/* Parses an error body ({"error": {...}}, {"error": "text"}, or vLLM's
 * top-level {"object": "error", "message": ...}) into res->error. Returns
 * CW_OK when an error object was found, CW_ERR_MALFORMED otherwise. */
int cw_json_error(char *json, size_t len, void *tokens, size_t ntok,
                  cw_result_t *res);

/* Checks that s[0..len) is one well-formed JSON value (with object true:
 * one object), nested at most 64 deep; a caller's JSON text (a tool's
 * parameters, extra members) is written into the request as it is, so it
 * must not break the body. on_key (may be NULL) hears each key of the
 * outermost object, raw (escapes not decoded); returning false refuses the
 * text at that key. Returns CW_JSON_TEXT_OK, or the offset of the first
 * byte that is wrong (len when the text ends too early). UTF-8 is not
 * checked here. */
#define CW_JSON_TEXT_OK ((size_t)-1)
typedef bool (*cw_json_key_fn)(void *user, const char *key, size_t len);
size_t cw_json_text_check(const char *s, size_t len, bool object,
                          cw_json_key_fn on_key, void *user);

/* Number of tokens that fit in bytes of (suitably aligned) memory. */
size_t cw_json_token_capacity(size_t bytes);
size_t cw_json_token_align(void);

/* Unescapes the JSON string body s[0..len) in place (result never longer).
 * \uXXXX escapes become UTF-8; a surrogate pair becomes one 4-byte sequence;
 * a lone surrogate becomes U+FFFD. Returns the new length, or (size_t)-1 for
 * a malformed escape. */
size_t cw_json_unescape(char *s, size_t len);

/* ------------------------------------------------------------ retries */

/* Parses an HTTP date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the
 * obsolete RFC 850 and asctime forms) into seconds since 1970. Returns
 * false when s is not such a date. */
bool cw_http_date_parse(const char *s, int64_t *out);

/* Whether a failed attempt may be retried (see cw_chat), given its status,
 * its result, and whether any byte of a response had arrived. */
bool cw_retry_allowed(int status, const cw_result_t *res, bool got_bytes);

/* The server's requested delay (retry-after-ms, then Retry-After as seconds
 * or as an HTTP date against now_unix, which may be <= 0 when unknown), in
 * milliseconds, or 0 when it gave none within (0, CW_RETRY_AFTER_MAX_MS]. */
uint32_t cw_retry_after_ms(const cw_http_info_t *info, int64_t now_unix);

/* The backoff before retry number `retry` (0 for the first), given a random
 * 32-bit number: min(initial * 2^retry, max) * (1 - 0.25 * random/2^32). */
uint32_t cw_retry_backoff_ms(uint32_t retry, uint32_t random);

/* ------------------------------------------------------------ request */

/* cw_request_write in two steps, so that the body is measured once per
 * call and not once per attempt: check the arguments and measure the body
 * (nothing is written), then emit head and body, for as many attempts as it
 * takes. cw_request_check says in res->detail (res may be NULL) which
 * argument it refused; owner (may be NULL) is the client whose buffers
 * the request must stay out of. cw_request_emit returns CW_ERR_REQUEST_CHANGED, and
 * stops before writing past it, when the body does not come out at
 * body_len bytes (a string changed since it was measured). */
cw_status_t cw_request_check(const cw_url_t *url, const char *api_key,
                             cw_auth_style_t auth,
                             const cw_chat_request_t *req, size_t *body_len,
                             cw_result_t *res, const cw_client_t *owner);

/* "io" or "work" when [p, p + n) overlaps that buffer of client c (whose
 * response would overwrite it), else NULL. With owner given,
 * cw_request_check refuses such request strings and arrays. */
const char *cw_client_owns(const cw_client_t *c, const void *p, size_t n);
/* res (for what a content part's reader did wrong) exists only where
 * content parts do: the smallest build passes one argument less. */
#if CW_CONFIG_CONTENT_PARTS
#define CW_EMIT_RES_PARAM , cw_result_t *res
#define CW_EMIT_RES(r) , (r)
#else
#define CW_EMIT_RES_PARAM
#define CW_EMIT_RES(r)
#endif
/* resume (only with CW_CONFIG_NONBLOCKING; NULL: the whole request in one
 * run) lets the request be written in several runs: bytes before
 * resume->skip are not written (an earlier run did), and a content part's
 * reader is not read again from the start (see cw_emit_resume_t). A run
 * ends when the sink returns an error (CW_ERR_WOULD_BLOCK to stop after a
 * full buffer, which cw_request_emit returns). */
#if CW_CONFIG_NONBLOCKING
#define CW_EMIT_RESUME_PARAM , cw_emit_resume_t *resume
#define CW_EMIT_RESUME(r) , (r)
#else
#define CW_EMIT_RESUME_PARAM
#define CW_EMIT_RESUME(r)
#endif
cw_status_t cw_request_emit(const cw_url_t *url, const char *api_key,
                            cw_auth_style_t auth,
                            const cw_chat_request_t *req, size_t body_len,
                            uint8_t *buf, size_t cap, cw_sink_fn sink,
                            void *sink_ctx, size_t *total CW_EMIT_RES_PARAM
                            CW_EMIT_RESUME_PARAM);

/* Before another attempt of a request whose content parts have readers:
 * starts each reader again (rewind). CW_OK, or a status with res->detail
 * saying which reader cannot rewind (the request is then not retried). */
int cw_request_rewind(const cw_chat_request_t *req, cw_result_t *res);

/* The request body (JSON) alone, for tests. Same contract as
 * cw_request_write. */
cw_status_t cw_request_write_body(const cw_chat_request_t *req, uint8_t *buf,
                                  size_t cap, cw_sink_fn sink, void *sink_ctx,
                                  size_t *total);

#endif /* CW_INTERNAL_H */
