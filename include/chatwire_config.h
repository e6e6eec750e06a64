/** @file
 * chatwire_config.h - compile-time options, each with an \#ifndef default.
 *
 * Override any of them by defining it on the compiler command line, or by
 * defining CW_CONFIG_FILE as the name of a header of your own that is
 * included first ("-DCW_CONFIG_FILE=\"my_cw_config.h\"").
 *
 * The cost given for each option is what it adds to a structure the caller
 * places (context, result), not code size.
 */
#ifndef CHATWIRE_CONFIG_H
#define CHATWIRE_CONFIG_H

#ifdef CW_CONFIG_FILE
#include CW_CONFIG_FILE
#endif

/* ------------------------------------------------------------ features
 * Each can be compiled out to save flash. The sizes are chatwire's own
 * flash on a Cortex-M4 (arm-none-eabi-gcc -Os, --gc-sections), each turned
 * off alone from the default build, as scripts/mcu-options.sh measures
 * them (34.7 KB with all on; 11.4 KB with all off, which is
 * examples/qemu-mps2/cw_config_small.h). */

/** Retries: the retry loop of cw_chat, its backoff, and reading the headers
 * that steer it (Retry-After in seconds or as an HTTP date, retry-after-ms,
 * x-should-retry). With 0, cw_chat makes one attempt; a kept-alive
 * connection found closed before the request went out is still replaced,
 * and cw_client_init refuses a max_retries other than 0 or CW_NO_RETRIES
 * (CW_ERR_INVALID_ARG), so that a caller who counts on retries finds out.
 * Default 1. Costs 1.9 KB. */
#ifndef CW_CONFIG_RETRIES
#define CW_CONFIG_RETRIES 1
#endif

/** Keeping the x-ratelimit-remaining/reset-requests/tokens headers in
 * cw_http_info_t. With 0 they read -1 and "". Default 1. Costs 0.2 KB. */
#ifndef CW_CONFIG_RATELIMIT_HEADERS
#define CW_CONFIG_RATELIMIT_HEADERS 1
#endif

/** The texts of cw_strerror. With 0 it returns "success" for CW_OK and
 * "chatwire error" for every other status: print the number and look it up
 * in cw_status_t. Default 1. Costs 0.8 KB. */
#ifndef CW_CONFIG_STATUS_TEXT
#define CW_CONFIG_STATUS_TEXT 1
#endif

/** Detail sentences: cw_result_t.detail says the cause of a failure in
 * words, with the values involved (which argument, which limit and its
 * value, the content type and first bytes of a body that is not JSON, the
 * byte where a response broke the rules). With 0 it stays "": the status
 * code, cw_result_t.error_offset, .needed and .timed_out still say it in
 * numbers. Default 1. Costs 7.1 KB. */
#ifndef CW_CONFIG_DETAIL
#define CW_CONFIG_DETAIL 1
#endif

/** Tools: function definitions, tool_choice and parallel_tool_calls in the
 * request, assistant messages with tool calls and tool messages in the
 * conversation, and the answer's tool calls assembled (each counted once,
 * however many fragments a stream spreads it over) into the request's
 * tool-call storage and named in cw_result_t.tool_names. With 0, their
 * members are not in the structures, and an answer that calls tools is
 * still CW_ERR_TOOL_CALLS when its finish_reason is "tool_calls", with
 * tool_calls 0 and tool_names "". Default 1. Costs 4.8 KB. */
#ifndef CW_CONFIG_TOOLS
#define CW_CONFIG_TOOLS 1
#endif

/** Content parts: messages whose content is a list of texts, images (an
 * https URL, or bytes from a reader base64-encoded into the request as they
 * are read) and audio. With 0, the parts are not in cw_message_ext_t.
 * Default 1. Costs 2.1 KB. */
#ifndef CW_CONFIG_CONTENT_PARTS
#define CW_CONFIG_CONTENT_PARTS 1
#endif

/** Reasoning models' text: delta.reasoning_content, delta.reasoning and
 * OpenRouter's reasoning_details delivered to on_reasoning (never into the
 * content), and the reasoning and cached token counts of the usage. With
 * 0, on_reasoning and the two counts are not in the structures, and the
 * reasoning text is skipped. Default 1. Costs 0.7 KB. */
#ifndef CW_CONFIG_REASONING
#define CW_CONFIG_REASONING 1
#endif

/** The step API: cw_chat_start() and cw_chat_step(), which advance a chat
 * as far as they can without blocking and say what they wait for, so that
 * an event loop, a superloop or one thread for many chats can drive it;
 * the request writer then resumes where it stopped. With 0, cw_chat (the
 * same engine, blocking) is the only way to chat. Default 1. Costs 0.6 KB.
 */
#ifndef CW_CONFIG_NONBLOCKING
#define CW_CONFIG_NONBLOCKING 1
#endif

/** The request's optional members: temperature, top_p, stop, user,
 * max_completion_tokens, reasoning_effort, response_format, seed, the
 * penalties, safety_identifier, prompt_cache_key, extra JSON members and
 * extra headers (model, messages, stream, include_usage and max_tokens are
 * always in). With 0, the newer ones are not in cw_chat_request_t, and
 * temperature, top_p, stop and user (always there) are refused with
 * CW_ERR_INVALID_ARG when set rather than sent without. Default 1.
 * Costs 3.1 KB. */
#ifndef CW_CONFIG_REQUEST_OPTIONS
#define CW_CONFIG_REQUEST_OPTIONS 1
#endif

/** The HTTP parser's fast paths: a header line that is whole in the input
 * taken in one pass (with a 256-byte class table), and runs of bytes that
 * need no decision (the rest of a name, a value, a reason phrase) taken in
 * one step. With 0 every header byte goes through the state machine: the
 * same results, at about twice the instructions per header byte.
 * Default 1. Costs 0.9 KB (its 256-byte table of byte classes is shared
 * with CW_CONFIG_STREAM_FAST_PATHS and stays while that one is on). */
#ifndef CW_CONFIG_HTTP_FAST_PATHS
#define CW_CONFIG_HTTP_FAST_PATHS 1
#endif

/** The stream's fast paths: a stream chunk of the usual shape is read in
 * one pass, without jsmn's tokens, the grammar check's walk and the member
 * lookups; anything else still goes through jsmn, so the results are the
 * same for every input (tests/fuzz/fuzz_json_fast.c compares the two
 * paths); and the SSE splitter finds the end of a data line with memchr,
 * a word at a time in most C libraries, instead of a byte loop. Measured
 * (scripts/mcu-cost.sh): chatwire's own instructions per KiB of streamed
 * answer drop to a quarter. With 0 every event goes through jsmn and every
 * data byte through the loop. Default 1. Costs 2.2 KB. */
#ifndef CW_CONFIG_STREAM_FAST_PATHS
#define CW_CONFIG_STREAM_FAST_PATHS 1
#endif

/** Longest single line (status line, header line, chunk-size line, trailer)
 * accepted in an HTTP response. Costs no memory: lines are parsed as they
 * stream past, this only bounds them. Default 8192. */
#ifndef CW_HTTP_MAX_LINE
#define CW_HTTP_MAX_LINE 8192u
#endif

/** Largest response header section (status line + headers + blank line)
 * accepted. Costs no memory. Default 32768. */
#ifndef CW_HTTP_MAX_HEADER_SECTION
#define CW_HTTP_MAX_HEADER_SECTION 32768u
#endif

/** Size of each kept response header value in cw_http_info_t (Content-Type,
 * x-request-id, Retry-After and the rate-limit reset strings). Longer values
 * are cut and flagged in cw_http_info_t.truncated. Costs 6 x this many bytes
 * in cw_result_t. Default 64. */
#ifndef CW_HEADER_VALUE_MAX
#define CW_HEADER_VALUE_MAX 64u
#endif

/** Sizes of the small string fields of cw_result_t (id, model, finish reason)
 * and of the error fields (type, code, param). Longer values are cut and
 * flagged. Default 64 each. */
#ifndef CW_FIELD_MAX
#define CW_FIELD_MAX 64u
#endif

/** Size of cw_tool_call_t.id (with its NUL). A longer id from the server
 * is an error (CW_ERR_BUFFER_TOO_SMALL), never cut: it must go back
 * exactly. Default 64. */
#ifndef CW_TOOL_ID_MAX
#define CW_TOOL_ID_MAX 64u
#endif

/** Size of cw_tool_call_t.name (with its NUL): function names have at most
 * 64 characters. Default 65. */
#ifndef CW_TOOL_NAME_MAX
#define CW_TOOL_NAME_MAX 65u
#endif

/** Size of cw_result_t.detail, the sentence on a failure's cause. Longer
 * sentences are cut. Default 192. */
#ifndef CW_DETAIL_MAX
#define CW_DETAIL_MAX 192u
#endif

/** Size of cw_api_error_t.message. Longer messages are cut at a UTF-8
 * boundary and flagged (message_truncated). Default 256. */
#ifndef CW_ERROR_MESSAGE_MAX
#define CW_ERROR_MESSAGE_MAX 256u
#endif

/** JSON tokens (jsmn) to budget for in the work buffer: CW_WORK_TOKENS_SIZE
 * and CW_WORK_MIN are computed from it. It is not a limit: the token array
 * takes whatever room the body or event leaves in the work buffer, and a
 * body that needs more tokens than fit is CW_ERR_BUFFER_TOO_SMALL with the
 * exact size needed. A typical chat.completion body has 40-60 tokens, a
 * stream chunk 20-30, an answer with 10 url_citation annotations about 110.
 * Default 128 (2 KiB on a 32-bit or 64-bit target). */
#ifndef CW_JSON_MAX_TOKENS
#define CW_JSON_MAX_TOKENS 128u
#endif

/** Default total time for one cw_chat call, retries and their waits
 * included, in milliseconds, when cw_client_config_t.timeout_ms is 0; 0
 * here means no total limit. Default 0: a reasoning model may stream for
 * longer than any fixed limit, and while bytes keep coming only the idle
 * timeout (or a limit the caller sets) should end the call. */
#ifndef CW_DEFAULT_TIMEOUT_MS
#define CW_DEFAULT_TIMEOUT_MS 0u
#endif

/** Default time allowed to open a connection (TCP and TLS handshake), when
 * cw_client_config_t.connect_timeout_ms is 0. Default 10000. */
#ifndef CW_DEFAULT_CONNECT_TIMEOUT_MS
#define CW_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#endif

/** Default longest silence while a response is awaited or being received,
 * when cw_client_config_t.idle_timeout_ms is 0. Every byte that arrives
 * starts it again, so a stream that keeps sending tokens is never cut by it.
 * Default 60000. */
#ifndef CW_DEFAULT_IDLE_TIMEOUT_MS
#define CW_DEFAULT_IDLE_TIMEOUT_MS 60000u
#endif

/** Default number of retries after a failed attempt, when
 * cw_client_config_t.max_retries is 0 (CW_NO_RETRIES turns them off).
 * Default 2, as in the official OpenAI clients. */
#ifndef CW_DEFAULT_MAX_RETRIES
#define CW_DEFAULT_MAX_RETRIES 2
#endif

/** Retry delays, in milliseconds: exponential backoff from the initial delay,
 * doubling up to the maximum, times a random factor in [0.75, 1]; a server's
 * retry-after-ms or Retry-After is used instead when it is within
 * (0, CW_RETRY_AFTER_MAX_MS]. Defaults 500, 8000 and 60000, as in the
 * official OpenAI clients. */
#ifndef CW_RETRY_INITIAL_DELAY_MS
#define CW_RETRY_INITIAL_DELAY_MS 500u
#endif
/** The longest backoff delay: see CW_RETRY_INITIAL_DELAY_MS. */
#ifndef CW_RETRY_MAX_DELAY_MS
#define CW_RETRY_MAX_DELAY_MS 8000u
#endif
/** The longest server-given delay honoured: see CW_RETRY_INITIAL_DELAY_MS. */
#ifndef CW_RETRY_AFTER_MAX_MS
#define CW_RETRY_AFTER_MAX_MS 60000u
#endif

/** Default base URL, when cw_client_config_t.base_url is NULL: CometAPI. */
#ifndef CW_DEFAULT_BASE_URL
#define CW_DEFAULT_BASE_URL "https://api.cometapi.com/v1"
#endif
/** Default model, when cw_chat_request_t.model is NULL. */
#ifndef CW_DEFAULT_MODEL
#define CW_DEFAULT_MODEL "gpt-4-0314"
#endif

/** Logging: compiles to nothing unless the user maps these macros onto a sink
 * of their own, e.g.
 *
 *     #define CW_LOG_DEBUG(...) my_log("chatwire", __VA_ARGS__)
 *
 * The library never logs an API key or an Authorization header. */
#ifndef CW_LOG_ERROR
#define CW_LOG_ERROR(...) ((void)0)
#endif
/** Warnings: see CW_LOG_ERROR. */
#ifndef CW_LOG_WARN
#define CW_LOG_WARN(...) ((void)0)
#endif
/** Information: see CW_LOG_ERROR. */
#ifndef CW_LOG_INFO
#define CW_LOG_INFO(...) ((void)0)
#endif
/** Debugging: see CW_LOG_ERROR. */
#ifndef CW_LOG_DEBUG
#define CW_LOG_DEBUG(...) ((void)0)
#endif

/** Invariant checks inside the library (never argument checks: those return
 * CW_ERR_INVALID_ARG). Off unless CW_ENABLE_ASSERT is defined, or mapped by
 * the user onto their own assert. */
#ifndef CW_ASSERT
#ifdef CW_ENABLE_ASSERT
#include <assert.h>
#define CW_ASSERT(x) assert(x)
#else
#define CW_ASSERT(x) ((void)0)
#endif
#endif

/** Linkage of the public functions. A shared build (CMake
 * BUILD_SHARED_LIBS=ON) compiles the library with hidden visibility and
 * CW_BUILDING_SHARED defined: only what is marked CW_API is exported. */
#ifndef CW_API
#if defined(CW_BUILDING_SHARED) && (defined(__GNUC__) || defined(__clang__))
#define CW_API __attribute__((visibility("default")))
#else
#define CW_API
#endif
#endif

#if CW_HTTP_MAX_LINE < 64u
#error "CW_HTTP_MAX_LINE must be at least 64"
#endif
#if CW_HTTP_MAX_HEADER_SECTION < CW_HTTP_MAX_LINE
#error "CW_HTTP_MAX_HEADER_SECTION must be at least CW_HTTP_MAX_LINE"
#endif
#if CW_HEADER_VALUE_MAX < 16u || CW_FIELD_MAX < 16u
#error "CW_HEADER_VALUE_MAX and CW_FIELD_MAX must be at least 16"
#endif
#if CW_DETAIL_MAX < 1u
#error "CW_DETAIL_MAX must be at least 1"
#endif
#if CW_ERROR_MESSAGE_MAX < 16u
#error "CW_ERROR_MESSAGE_MAX must be at least 16"
#endif
#if CW_JSON_MAX_TOKENS < 16u
#error "CW_JSON_MAX_TOKENS must be at least 16"
#endif

#endif /* CHATWIRE_CONFIG_H */
