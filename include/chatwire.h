/** @file
 * chatwire.h - call an OpenAI-compatible Chat Completions API in fixed,
 * caller-owned memory.
 *
 * A whole program (examples/hello/hello.c): POSIX sockets, TLS, one
 * streamed answer.
 *
 * @snippet hello/hello.c minimal
 *
 * Nothing here allocates. Every function is re-entrant on distinct contexts;
 * one context must not be used from two threads at once.
 *
 * Status and callbacks, one rule for the library and its ports: a function
 * that can fail returns a cw_status_t (CW_OK, or a negative code). A
 * callback that answers with an int (cw_delta_fn, cw_tool_args_fn,
 * cw_sink_fn, and the ports' entropy hook) returns CW_OK (0) to go on;
 * any other value stops the call that called it. What that call then
 * returns is said at each callback: CW_ERR_ABORTED when the caller's
 * callback asked to stop, or the callback's own negative cw_status_t when
 * it reports a failure of its own (a sink that cannot write). The byte
 * movers (cw_read_fn, cw_transport_t send and recv) count bytes instead:
 * see each.
 */
#ifndef CHATWIRE_H
#define CHATWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chatwire_config.h"
#include "chatwire_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** chatwire's version, as the CMake project and every manifest carry it. */
#define CW_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- status */

/** Every chatwire function that can fail returns one of these. 0 is success,
 * errors are negative. cw_strerror() gives a fixed English sentence. */
typedef enum cw_status {
    CW_OK = 0,
    CW_ERR_INVALID_ARG = -1,      /**< a NULL, out-of-range or unsafe argument */
    CW_ERR_WOULD_BLOCK = -2,      /**< nothing yet: call again / need input */
    CW_ERR_BUFFER_TOO_SMALL = -3, /**< a caller buffer cannot hold the data;
                                     cw_result_t.needed says how much, when
                                     known */
    CW_ERR_TIMEOUT = -4,          /**< a deadline from now_ms passed */
    CW_ERR_CLOSED = -5,           /**< the peer closed the connection early */
    CW_ERR_DNS = -6,              /**< the host name did not resolve */
    CW_ERR_CONNECT = -7,          /**< the TCP connection was refused/failed */
    CW_ERR_IO = -8,               /**< another socket error */
    CW_ERR_TLS = -9,              /**< TLS handshake or record error */
    CW_ERR_CERT = -10,            /**< the server certificate was rejected */
    CW_ERR_HTTP = -11,            /**< non-2xx status without an error object;
                                     the status is in cw_result_t.http */
    CW_ERR_API = -12,             /**< the service returned an error object
                                     (non-2xx body, or inside a stream); see
                                     cw_result_t.error */
    CW_ERR_MALFORMED = -13,       /**< the response breaks HTTP, chunked, SSE or
                                     JSON rules; cw_result_t.error_offset says
                                     where */
    CW_ERR_HEADER_TOO_LARGE = -14,/* a header line or the header section is
                                     over CW_HTTP_MAX_LINE /
                                     CW_HTTP_MAX_HEADER_SECTION */
    CW_ERR_EVENT_TOO_LARGE = -15, /**< a server-sent event is larger than the
                                     event buffer (the work buffer) */
    CW_ERR_INVALID_UTF8 = -16,    /**< a request string is not valid UTF-8 */
    CW_ERR_NO_CONTENT = -17,      /**< the answer's content is null, e.g. a
                                     refusal; see cw_result_t.refusal */
    CW_ERR_INCOMPLETE = -18,      /**< the body ended cleanly but the stream had
                                     neither [DONE] nor a finish_reason */
    CW_ERR_ABORTED = -19,         /**< the caller's callback asked to stop */
    CW_ERR_PROXY = -20,           /**< the HTTP proxy refused or failed: see
                                     the proxy transport for its status */
    CW_ERR_REQUEST_CHANGED = -21, /**< a request string changed while the
                                     call was sending it: the body no longer
                                     had the measured length, so the attempt
                                     was abandoned and its connection closed */
    CW_ERR_TOOL_CALLS = -22       /**< the model called tools instead of (or
                                     as well as) answering; their names are
                                     in cw_result_t.tool_names */
} cw_status_t;

/** A fixed English description of a status. Never NULL; unknown values give
 * "unknown status". For the cause of one failure (which argument, which
 * limit, what arrived), see cw_result_t.detail. */
CW_API const char *cw_strerror(int status);

/* ---------------------------------------------------------------- base URL */

/** A parsed base URL. The pointers point into the string that was parsed,
 * which the caller keeps alive as long as the cw_url_t is used. */
typedef struct cw_url {
    const char *host;   /**< without brackets for an IPv6 literal */
    size_t host_len;    /**< bytes of host (not NUL-terminated) */
    const char *path;   /**< path prefix without its trailing '/', maybe "" */
    size_t path_len;    /**< bytes of path */
    const char *query;  /**< query string without '?', maybe "" */
    size_t query_len;   /**< bytes of query */
    uint16_t port;      /**< explicit, or 443 / 80 from the scheme */
    bool tls;           /**< https */
    bool port_explicit; /**< a port was written in the URL */
    bool ipv6;          /**< host is an IPv6 literal */
    const char *error;  /**< after CW_ERR_INVALID_ARG: a fixed sentence saying
                           what is wrong; NULL after CW_OK */
    size_t error_at;    /**< ... and the offset in the URL where it is */
} cw_url_t;

/** Parses "http[s]://host[:port][/path][?query]" (the scheme in any case).
 * Returns CW_OK, or CW_ERR_INVALID_ARG for any other scheme, an empty or
 * unsafe host (spaces, control characters), a bad port, user info, or a
 * fragment; out->error and out->error_at then say what and where. */
CW_API cw_status_t cw_url_parse(const char *url, cw_url_t *out);

/* ---------------------------------------------------------------- request */

/** A tool call: in a response, assembled into cw_chat_request_t's
 * tool-call storage (arguments then point into its arguments area); in a
 * request, an assistant message's calls sent back to the model (the
 * caller's strings: cw_history_add_tool_calls() copies them). */
typedef struct cw_tool_call {
    char id[CW_TOOL_ID_MAX];     /**< "call_..." as the server gave it */
    char type[16];               /**< "function" ("" is sent as "function") */
    char name[CW_TOOL_NAME_MAX]; /**< the function's name */
    const char *arguments;       /**< JSON text, NUL-terminated: the exact
                                      concatenation of the fragments (or the
                                      compact text of an object, when a
                                      server sends one); "" when none */
    size_t arguments_len;        /**< bytes of arguments */
    uint32_t index;              /**< response: the server's index of the
                                      call (in order of first appearance) */
    bool cut;                    /**< response: the answer ended (length)
                                      before the call was complete */
} cw_tool_call_t;

/** Where the bytes of an image or audio part come from: read up to len
 * bytes into buf and return how many (0 only at the end), or a negative
 * cw_status_t. The part's size says how many there are in all; they are
 * base64-encoded into the request as they are read, never held whole. */
typedef int32_t (*cw_read_fn)(void *ctx, uint8_t *buf, size_t len);

/** Kinds of cw_content_part_t. */
typedef enum cw_part_type {
    CW_PART_TEXT = 0,       /**< {"type": "text", "text": text} */
    CW_PART_IMAGE_URL = 1,  /**< {"type": "image_url", ...}: text is an
                                 https URL, or, with read, the bytes of a
                                 data URL of type mime */
    CW_PART_INPUT_AUDIO = 2 /**< {"type": "input_audio", ...}: the bytes
                                 from read, format mime ("wav", "mp3") */
} cw_part_type_t;

/** One part of a message's content, for content that is more than one
 * text: text, images, audio. */
typedef struct cw_content_part {
    cw_part_type_t type; /**< which kind */
    const char *text;    /**< TEXT: the text; IMAGE_URL without read: the
                              image's URL */
    const char *mime;    /**< IMAGE_URL with read: "image/jpeg", ...;
                              INPUT_AUDIO: the format, "wav" or "mp3" */
    const char *detail;  /**< IMAGE_URL: "low", "high", "auto"; NULL: not
                              sent */
    cw_read_fn read;     /**< the bytes (IMAGE_URL data URL, INPUT_AUDIO) */
    void *read_ctx;      /**< passed to read and rewind */
    /** Starts the bytes again from the first, for another attempt of the
     * call (a retry, or a kept-alive connection found closed); returns
     * CW_OK or a negative status. NULL: the reader cannot rewind, and the
     * call makes one attempt only (the detail says so when it stops).
     * The first attempt reads from where the reader is: at its start. */
    int (*rewind)(void *ctx);
    uint64_t size;       /**< bytes read gives in all (for Content-Length:
                              the part costs 4 * ceil(size / 3) of them) */
} cw_content_part_t;

/** One message of a conversation: its role and its text, both the
 * caller's. What some messages need besides (tool calls, content parts) is
 * in cw_message_ext_t, an array beside the messages. */
typedef struct cw_message {
    const char *role;    /**< "system", "developer", "user", "assistant",
                              "tool" (UTF-8) */
    const char *content; /**< NUL-terminated UTF-8; any characters allowed.
                              NULL only with an extension that gives tool
                              calls ("content": null) or parts */
} cw_message_t;

#if CW_CONFIG_TOOLS || CW_CONFIG_CONTENT_PARTS || CW_CONFIG_REQUEST_OPTIONS
/** What a message has besides role and content, for tools, images and
 * servers that want more: entry i of cw_chat_request_t.message_ext goes
 * with messages[i]. Zero members are not sent. The caller owns every
 * string and array. */
typedef struct cw_message_ext {
#if CW_CONFIG_TOOLS
    const char *tool_call_id;       /**< role "tool": the call it answers */
    const cw_tool_call_t *tool_calls; /**< role "assistant": its calls */
    size_t tool_call_count;         /**< entries of tool_calls */
#endif
#if CW_CONFIG_CONTENT_PARTS
    const cw_content_part_t *parts; /**< instead of content: its parts */
    size_t part_count;              /**< entries of parts */
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    /** More members of the message, as the text of one JSON object whose
     * members are added (e.g. {"reasoning_content": "..."} for a server
     * that wants earlier reasoning back); checked to be well-formed JSON.
     * NULL: none. */
    const char *extra_json;
#endif
} cw_message_ext_t;
#endif

/** Called with each piece of streamed answer text, in order. text is valid
 * only during the call, is not NUL-terminated, and is always valid UTF-8:
 * it never ends inside a sequence (one split across two deltas is joined),
 * and ill-formed bytes from the server arrive as U+FFFD. Return CW_OK (0)
 * to go on; any other value stops the call, and cw_chat returns
 * CW_ERR_ABORTED (the library's one callback rule: see chatwire.h). */
typedef int (*cw_delta_fn)(void *user, const char *text, size_t len);

/** Called with each fragment of a tool call's arguments as it arrives
 * (streamed) or once whole (not streamed): call is the index of the call
 * in the request's tool-call storage. Return CW_OK (0) to go on; any other
 * value stops the call, and cw_chat returns CW_ERR_ABORTED. */
typedef int (*cw_tool_args_fn)(void *user, size_t call, const char *text,
                               size_t len);

/** A function the model may call. */
typedef struct cw_tool {
    const char *name;        /**< [A-Za-z0-9_-], 1 to 64 characters */
    const char *description; /**< NULL: not sent */
    /** The parameters' JSON Schema, as JSON text: checked to be one
     * well-formed JSON value and written as it is. NULL: not sent. */
    const char *parameters;
    bool strict;             /**< "strict": true (structured outputs) */
} cw_tool_t;

/** cw_chat_request_t.tool_choice. */
typedef enum cw_tool_choice {
    CW_TOOL_CHOICE_UNSET = 0, /**< not sent (the server's default) */
    CW_TOOL_CHOICE_NONE,      /**< "none" */
    CW_TOOL_CHOICE_AUTO,      /**< "auto" */
    CW_TOOL_CHOICE_REQUIRED,  /**< "required" */
    CW_TOOL_CHOICE_FUNCTION   /**< the function tool_choice_name */
} cw_tool_choice_t;

/** cw_chat_request_t.response_format. */
typedef enum cw_response_format {
    CW_FORMAT_UNSET = 0,   /**< not sent: text */
    CW_FORMAT_TEXT,        /**< {"type": "text"} */
    CW_FORMAT_JSON_OBJECT, /**< {"type": "json_object"} */
    CW_FORMAT_JSON_SCHEMA  /**< {"type": "json_schema", "json_schema":
                                {name, schema, strict}} */
} cw_response_format_t;

/** One chat completion request. The caller owns every string and array it
 * points to; they must stay valid and unchanged for the duration of the
 * call (the body is measured once, then written on each attempt: a body
 * that comes out longer or shorter than measured is abandoned with
 * CW_ERR_REQUEST_CHANGED). None of them may lie in the client's own io or
 * work buffer, where res.content of an earlier call lives: cw_chat refuses
 * that with CW_ERR_INVALID_ARG, because the response overwrites it. Copy an
 * answer into storage of your own first (cw_history_add does it).
 *
 * Zero (or NULL) means "not sent" for every optional member but
 * temperature and top_p, which cw_chat_request_init() sets to -1. The
 * members of a feature this build leaves out (chatwire_config.h) are not
 * there at all, so code that sets one does not compile; temperature,
 * top_p, stop and user, which are always there, are refused with
 * CW_ERR_INVALID_ARG when set in a build without them, never dropped. */
typedef struct cw_chat_request {
    const char *model;             /**< NULL: CW_DEFAULT_MODEL */
    const cw_message_t *messages;  /**< at least one */
    size_t message_count;          /**< entries of messages */
#if CW_CONFIG_TOOLS || CW_CONFIG_CONTENT_PARTS || CW_CONFIG_REQUEST_OPTIONS
    /** NULL, or message_count entries: what messages[i] has besides role
     * and content (tool calls, a tool result's call id, content parts). */
    const cw_message_ext_t *message_ext;
#endif
    bool stream;                   /**< ask for server-sent events */
    bool include_usage;            /**< stream_options.include_usage */
    int32_t max_tokens;            /**< <= 0: not sent */
    float temperature;             /**< 0..2, up to 3 decimals; < 0: not sent */
    float top_p;                   /**< 0..1, up to 3 decimals; < 0: not sent */
    const char *const *stop;       /**< up to 4 stop strings */
    size_t stop_count;             /**< entries of stop (0: not sent) */
    const char *user;              /**< end-user id; NULL: not sent */
    cw_delta_fn on_delta;          /**< required when stream is true */
    void *on_delta_user;           /**< passed to on_delta */

#if CW_CONFIG_TOOLS
    const cw_tool_t *tools;        /**< functions the model may call */
    size_t tool_count;             /**< entries of tools */
    cw_tool_choice_t tool_choice;  /**< whether and which to call */
    const char *tool_choice_name;  /**< CW_TOOL_CHOICE_FUNCTION: its name */
    int8_t parallel_tool_calls;    /**< 1 true, -1 false, 0 not sent */
    /** Storage for the tool calls of the answer: at most tool_call_max
     * calls, their arguments in tool_args (tool_args_size bytes, each
     * NUL-terminated). A call or arguments that do not fit end the call
     * with CW_ERR_BUFFER_TOO_SMALL and res.needed (never cut). NULL: the
     * calls are counted and named in res only. */
    cw_tool_call_t *tool_call_buf;
    size_t tool_call_max;          /**< entries of tool_call_buf */
    char *tool_args;               /**< the arguments area */
    size_t tool_args_size;         /**< bytes of tool_args */
    cw_tool_args_fn on_tool_args;  /**< each arguments fragment (optional) */
    void *on_tool_args_user;       /**< passed to on_tool_args */
#endif
#if CW_CONFIG_REASONING
    /** Reasoning text (reasoning_content, reasoning, or OpenRouter's
     * reasoning_details), never mixed into the content: streamed piece by
     * piece, or whole for a non-streamed answer; valid UTF-8 as for
     * on_delta. NULL: not delivered. */
    cw_delta_fn on_reasoning;
    void *on_reasoning_user;       /**< passed to on_reasoning */
#endif
#if CW_CONFIG_REQUEST_OPTIONS
    int32_t max_completion_tokens; /**< <= 0: not sent (reasoning models
                                        take this, not max_tokens) */
    const char *reasoning_effort;  /**< "minimal", "low", "medium",
                                        "high", ...; NULL: not sent */
    cw_response_format_t response_format; /**< structured output */
    const char *json_schema_name;  /**< CW_FORMAT_JSON_SCHEMA: its name */
    const char *json_schema;       /**< ... its schema, JSON text */
    bool json_schema_strict;       /**< ... "strict": true */
    bool send_seed;                /**< send seed */
    int64_t seed;                  /**< with send_seed */
    bool send_presence_penalty;    /**< send presence_penalty */
    float presence_penalty;        /**< -2..2, with send_presence_penalty */
    bool send_frequency_penalty;   /**< send frequency_penalty */
    float frequency_penalty;       /**< -2..2, with send_frequency_penalty */
    const char *safety_identifier; /**< NULL: not sent */
    const char *prompt_cache_key;  /**< NULL: not sent */
    /** More top-level members, as the text of one JSON object whose
     * members are added to the body; checked to be well-formed JSON, and
     * refused when it names a member chatwire writes itself. NULL: none. */
    const char *extra_json;
    /** More request headers, each "Name: value" (e.g. "OpenAI-Organization:
     * org-..."), checked like the key: a token name, no control characters,
     * and none of the headers chatwire writes itself. */
    const char *const *headers;
    size_t header_count;           /**< entries of headers */
#endif
} cw_chat_request_t;

/** Fills *req with defaults (default model, no stream, no optional field)
 * and the given messages. */
CW_API void cw_chat_request_init(cw_chat_request_t *req,
                                 const cw_message_t *messages, size_t count);

/** How the API key is sent. */
typedef enum cw_auth_style {
    CW_AUTH_BEARER = 0,  /**< Authorization: Bearer KEY (OpenAI, CometAPI...) */
    CW_AUTH_API_KEY = 1  /**< api-key: KEY (Azure OpenAI) */
} cw_auth_style_t;

/** Receives request bytes from cw_request_write. Returns CW_OK (0) to go
 * on; any other value stops the write: a negative cw_status_t (the sink's
 * own failure) is returned from it as it is, a positive value as
 * CW_ERR_ABORTED. */
typedef int (*cw_sink_fn)(void *ctx, const uint8_t *data, size_t len);

/** Writes the whole HTTP/1.1 request (head and JSON body) for req to sink,
 * through buf (cap bytes, at least 1): the bytes are the same whatever cap
 * is. The body is measured by a dry run first, for Content-Length, which is
 * also where invalid UTF-8 and unsafe header values are caught: when this
 * returns an error other than the sink's, nothing was written.
 * sink may be NULL: then only *total is computed. *total (may be NULL)
 * receives the request's size in bytes. api_key may be NULL or "" (no
 * authentication header). */
CW_API cw_status_t cw_request_write(const cw_url_t *url, const char *api_key,
                                    cw_auth_style_t auth,
                                    const cw_chat_request_t *req, uint8_t *buf,
                                    size_t cap, cw_sink_fn sink, void *sink_ctx,
                                    size_t *total);

/* ---------------------------------------------------------------- result */

/** Response header values kept for the caller. Absent strings are "",
 * absent numbers -1. */
typedef struct cw_http_info {
    int status;                                     /**< e.g. 200, 429 */
    char content_type[CW_HEADER_VALUE_MAX];         /**< Content-Type */
    char request_id[CW_HEADER_VALUE_MAX];           /**< x-request-id */
    char retry_after[CW_HEADER_VALUE_MAX];          /**< raw: seconds or date */
    int64_t retry_after_ms;                         /**< retry-after-ms */
    int8_t should_retry;                            /**< x-should-retry: 1/0/-1 */
    bool keep_alive;                                /**< connection reusable */
    int64_t ratelimit_remaining_requests;           /**< x-ratelimit-remaining-requests */
    int64_t ratelimit_remaining_tokens;             /**< x-ratelimit-remaining-tokens */
    char ratelimit_reset_requests[CW_HEADER_VALUE_MAX]; /**< e.g. "6m0s" */
    char ratelimit_reset_tokens[CW_HEADER_VALUE_MAX];   /**< e.g. "20ms" */
    uint8_t truncated;   /**< bit set per string field cut to fit: see
                            CW_TRUNC_* */
} cw_http_info_t;

#define CW_TRUNC_CONTENT_TYPE 0x01u   /**< cw_http_info_t.content_type was cut */
#define CW_TRUNC_REQUEST_ID 0x02u     /**< cw_http_info_t.request_id was cut */
#define CW_TRUNC_RETRY_AFTER 0x04u    /**< cw_http_info_t.retry_after was cut */
#define CW_TRUNC_RESET_REQUESTS 0x08u /**< cw_http_info_t.ratelimit_reset_requests was cut */
#define CW_TRUNC_RESET_TOKENS 0x10u   /**< cw_http_info_t.ratelimit_reset_tokens was cut */

/** An error object returned by the service, copied into caller memory.
 * Strings are NUL-terminated and cut at a UTF-8 boundary when too long. */
typedef struct cw_api_error {
    bool present;                          /**< an error object was found */
    bool message_truncated;                /**< message was cut to fit */
    char message[CW_ERROR_MESSAGE_MAX];    /**< error.message */
    char type[CW_FIELD_MAX];               /**< e.g. invalid_request_error */
    char code[CW_FIELD_MAX];               /**< e.g. invalid_api_key; numbers
                                              (llama.cpp, vLLM) as digits */
    char param[CW_FIELD_MAX];              /**< the request field at fault */
} cw_api_error_t;

/** Everything cw_chat learned. Filled on success and on error. */
typedef struct cw_result {
    /** Non-streamed answer: points into the caller's work buffer,
     * NUL-terminated, valid until the next call on the client. NULL when
     * streaming (the text went to on_delta) or when there is none. Escapes
     * are decoded (lone surrogates become U+FFFD); raw bytes are as the
     * server sent them, so check with your own validator if the server may
     * send ill-formed UTF-8 (streamed text is always made valid). */
    const char *content;
    size_t content_len;      /**< streamed: total bytes given to on_delta */
    bool content_null;       /**< "content": null in the answer */
    bool refusal;            /**< a refusal: its text is in content, or when
                                streamed in error.message (cut to fit) */
    bool partial;            /**< streamed text was delivered, then an error */
    bool done;               /**< the stream's data: [DONE] arrived */
    char id[CW_FIELD_MAX];            /**< the completion's id ("chatcmpl-...") */
    char model[CW_FIELD_MAX];         /**< the model that answered */
    char finish_reason[CW_FIELD_MAX]; /**< "stop", "length", "tool_calls", ... */
    int64_t prompt_tokens;   /**< usage; -1 when absent */
    int64_t completion_tokens; /**< usage; -1 when absent */
    int64_t total_tokens;    /**< usage; -1 when absent */
#if CW_CONFIG_REASONING
    int64_t reasoning_tokens; /**< usage.completion_tokens_details
                                   .reasoning_tokens; -1 when absent */
    int64_t cached_tokens;   /**< usage.prompt_tokens_details.cached_tokens;
                                  -1 when absent */
    size_t reasoning_len;    /**< bytes of reasoning text given to
                                  on_reasoning */
#endif
    cw_http_info_t http;     /**< the response's status and headers */
    cw_api_error_t error;    /**< the service's error object, if any */
    uint64_t error_offset;   /**< CW_ERR_MALFORMED: offset in the response
                                (HTTP layer) or in the body/event (JSON) */
    size_t needed;           /**< CW_ERR_BUFFER_TOO_SMALL: bytes needed, 0 if
                                unknown */
    /** Tool (function) calls the model made, in the request's tool-call
     * storage when it gave some (tool_call_buf). With any, cw_chat returns
     * CW_OK when the request offered tools or storage for calls (the calls
     * are the answer; content may be NULL), and CW_ERR_TOOL_CALLS when it
     * did neither. */
    uint32_t tool_calls;
    char tool_names[CW_FIELD_MAX]; /**< their names, ", "-separated, in order
                                      ("..." at the end when cut) */
    uint8_t timed_out;       /**< CW_ERR_TIMEOUT: which limit, CW_TIMEOUT_* */
    char detail[CW_DETAIL_MAX]; /**< the cause of a failure in one sentence:
                                   which argument, which limit and value,
                                   what arrived; "" when there is none to
                                   add (then cw_strerror says it all), and
                                   always "" with CW_CONFIG_DETAIL 0. Never
                                   holds the API key. */
    uint32_t attempts;       /**< requests sent for this call (1 + retries +
                                transparent reconnects) */
    uint32_t retry_wait_ms;  /**< time spent waiting between attempts */
    bool reused_connection;  /**< the last attempt went over a kept-alive
                                connection */
    bool stale_reconnect;    /**< a kept-alive connection had been closed by
                                the server and was replaced */
} cw_result_t;

/** Values of cw_result_t.timed_out: the limit that ended the call. */
#define CW_TIMEOUT_CONNECT 1u /**< connect_timeout_ms (TCP + TLS handshake) */
#define CW_TIMEOUT_IDLE 2u    /**< idle_timeout_ms: no byte moved for that long */
#define CW_TIMEOUT_TOTAL 3u   /**< timeout_ms, the whole call */

/* ------------------------------------------------ incremental parsers
 *
 * The I/O-free layers the client drives. Their state is here only so that
 * cw_client_t can be placed by the caller: private to the library.
 */
/** @cond INTERNAL */

typedef int (*cw_http_headers_fn)(void *user);
typedef int (*cw_http_body_fn)(void *user, const uint8_t *data, size_t len);

/** HTTP/1.1 response parser: status line, headers, then a body framed by
 * Content-Length, chunked coding or the connection's close. */
typedef struct cw_http_parser {
    cw_http_info_t *info;
    cw_http_headers_fn on_headers;
    cw_http_body_fn on_body;
    void *user;
    uint64_t pos;            /**< bytes consumed since init */
    uint64_t content_length;
    uint64_t remaining;      /**< body or chunk bytes left */
    uint64_t num;            /**< number being parsed */
    uint32_t line_len;
    uint32_t header_len;
    uint16_t vlen;
    uint8_t state;
    uint8_t hdr;             /**< which kept header is being read */
    uint8_t flags;
    uint8_t vflags;          /**< per-value flags */
    uint8_t minor;           /**< HTTP/1.x minor version */
    char scratch[32];        /**< a header name, or a short value token */
} cw_http_parser_t;

/** Server-sent events splitter over a caller buffer for one event's data. */
typedef int (*cw_sse_event_fn)(void *user, const char *event, char *data,
                               size_t len);

typedef struct cw_sse_parser {
    char *buf;
    size_t cap;
    size_t len;
    cw_sse_event_fn on_event;
    void *user;
    uint8_t state;
    uint8_t flags;
    uint8_t nlen;
    uint8_t elen;
    char name[8];
    char event[16];
} cw_sse_parser_t;
/** @endcond */

/* ---------------------------------------------------------------- client */

/** What a retry is about to do; given to cw_client_config_t.on_retry. */
typedef struct cw_retry_info {
    uint32_t attempt;     /**< the attempt about to start (2 for the first
                             retry) */
    int status;           /**< cw_status_t of the failed attempt */
    int http_status;      /**< its HTTP status, 0 if none arrived */
    uint32_t delay_ms;    /**< the wait before the next attempt */
    bool from_server;     /**< the delay came from retry-after(-ms) */
} cw_retry_info_t;

/** Platform hooks for retries. All optional. */
typedef struct cw_platform {
    void *ctx;  /**< passed to each hook */
    /** Waits ms milliseconds (an RTOS should yield here). NULL: the client
     * waits by polling transport.now_ms, which keeps the CPU busy. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    /** A random 32-bit number, for the backoff jitter (not for security).
     * NULL: a small generator seeded from now_ms. */
    uint32_t (*random_u32)(void *ctx);
    /** Seconds since 1970 (UTC), to read a Retry-After given as an HTTP date.
     * NULL, or a value <= 0: such dates are ignored (backoff is used). */
    int64_t (*unix_time)(void *ctx);
} cw_platform_t;

/** cw_client_config_t.max_retries: no retries at all. */
#define CW_NO_RETRIES (-1)
/** cw_client_config_t.timeout_ms: no limit on a call's total time. */
#define CW_NO_TIMEOUT 0xffffffffu

/** How cw_client_init() sets up a client. The strings and buffers are the
 * caller's and are kept by pointer: they must outlive the client. */
typedef struct cw_client_config {
    cw_transport_t transport;  /**< copied into the client */
    const char *base_url;      /**< NULL: CW_DEFAULT_BASE_URL. Kept by
                                  pointer: must outlive the client */
    const char *api_key;       /**< kept by pointer; never logged */
    cw_auth_style_t auth;      /**< how the key is sent (Bearer by default) */
    uint8_t *io_buf;           /**< request staging and receive buffer */
    size_t io_size;            /**< >= CW_IO_MIN */
    uint8_t *work_buf;         /**< response body / event data + JSON tokens */
    size_t work_size;          /**< >= CW_WORK_MIN */
    uint32_t timeout_ms;       /**< whole cw_chat call, retries included;
                                  0: CW_DEFAULT_TIMEOUT_MS (by default no
                                  limit: a stream that keeps sending is
                                  never cut); CW_NO_TIMEOUT: no limit */
    uint32_t connect_timeout_ms; /**< 0: CW_DEFAULT_CONNECT_TIMEOUT_MS */
    uint32_t idle_timeout_ms;  /**< longest silence while receiving;
                                  0: CW_DEFAULT_IDLE_TIMEOUT_MS */
    int max_retries;           /**< 0: CW_DEFAULT_MAX_RETRIES (2);
                                  CW_NO_RETRIES: none; N > 0: N */
    cw_platform_t platform;    /**< sleep, random and clock hooks (optional) */
    /** Told before each retry (optional; for logs and progress). */
    void (*on_retry)(void *user, const cw_retry_info_t *info);
    void *on_retry_user;       /**< passed to on_retry */
} cw_client_config_t;

/** Size of one JSON token (jsmn's jsmntok_t: four ints). */
#define CW_JSON_TOKEN_SIZE (4u * sizeof(int))
/** The work buffer holds the text being parsed (the whole non-streamed body,
 * or one stream event) at its start, and the JSON token array after it, in
 * whatever room the text leaves: a short text with many tokens and a long
 * one with few both fit. A body of B bytes with T tokens needs
 * B + 1 + 8 + T * CW_JSON_TOKEN_SIZE bytes; when it does not fit,
 * CW_ERR_BUFFER_TOO_SMALL says so and cw_result_t.needed gives the exact
 * size. CW_WORK_TOKENS_SIZE is room for CW_JSON_MAX_TOKENS tokens, the
 * budget to size a buffer with: a typical chat.completion body has 40-60
 * tokens, a stream chunk 20-30. */
#define CW_WORK_TOKENS_SIZE (CW_JSON_MAX_TOKENS * CW_JSON_TOKEN_SIZE + 8u)
/** Smallest buffers cw_client_init accepts. Size the work buffer as
 * CW_WORK_TOKENS_SIZE + the largest non-streamed body or stream event. */
#define CW_IO_MIN 64u
/** Smallest work buffer cw_client_init() accepts: see CW_IO_MIN. */
#define CW_WORK_MIN (CW_WORK_TOKENS_SIZE + 256u)

/** @cond INTERNAL */
#if CW_CONFIG_NONBLOCKING
#define CW_B64_BLOCK 48u /* bytes of a content part encoded at a time */
/* Where a request written in several runs (the step API) stands: bytes
 * already written, and the content part being read when the last run
 * stopped (its reader's position and the block it was encoding). */
typedef struct cw_emit_resume {
    size_t skip;
#if CW_CONFIG_CONTENT_PARTS
    uint64_t got;
    uint8_t have;
    uint8_t in[CW_B64_BLOCK];
#endif
} cw_emit_resume_t;
#else
#define CW_B64_BLOCK 48u
#endif
#ifndef CW_TOOL_TRACK_MAX
#define CW_TOOL_TRACK_MAX 8u /* calls told apart exactly in one answer */
#endif
/* Where an answer's tool calls stand (private to the library). Without
 * CW_CONFIG_TOOLS: the highest "index" seen (-1 before any) and whether
 * that call's name was kept. With it: each call's server index and a hash
 * of its id (to tell calls apart whatever the server repeats or leaves
 * out), and the request's storage being filled. */
typedef struct cw_tool_track {
    int32_t index;
    bool named;
#if CW_CONFIG_TOOLS
    bool stream;             /* fragments (deltas), not whole calls */
    uint8_t flags;           /* what went wrong: too many calls, ... */
    uint32_t cur;            /* the call the last fragment went to */
    struct {
        int32_t index;       /* the server's, INT32_MIN for none */
        uint32_t id_hash;    /* 0 for no id yet */
        bool named;
    } seen[CW_TOOL_TRACK_MAX];
    cw_tool_call_t *calls;   /* the request's storage (NULL: count only) */
    size_t max;
    char *args;
    size_t args_size;
    size_t args_used;        /* bytes of args in use (NULs included) */
    size_t args_need;        /* bytes all the arguments need */
    cw_tool_args_fn on_args;
    void *on_args_user;
#endif
} cw_tool_track_t;
/** @endcond */

/** A client: one connection, one request at a time. The caller places it
 * (static, on a stack, inside a struct of its own); it holds no pointer
 * to memory of its own, only to the buffers, strings and transport context
 * given in cw_client_config_t. Its fields are private: use the functions. */
typedef struct cw_client {
    /** @privatesection */
    cw_transport_t tp;
    cw_url_t url;
    const char *api_key;
    cw_auth_style_t auth;
    uint8_t *io;
    size_t io_size;
    char *work;              /**< the work buffer: text, then tokens */
    size_t work_size;
    uint32_t timeout_ms;     /**< 0: no total limit */
    uint32_t connect_timeout_ms;
    uint32_t idle_timeout_ms;
    int max_retries;
    cw_platform_t platform;
    void (*on_retry)(void *user, const cw_retry_info_t *info);
    void *on_retry_user;
    uint32_t rng;            /**< jitter generator state when no hook */
    bool connected;
    /** per request */
    cw_http_parser_t http;
    cw_sse_parser_t sse;
    cw_result_t *res;
    const cw_chat_request_t *req;
    size_t body_len;         /**< response body bytes kept */
    size_t body_len_req;     /**< the request body's length */
    bool body_error;         /**< the error came from the body's layers */
    uint8_t mode;            /**< how the body is being consumed */
    uint8_t carry_len;       /**< bytes of an unfinished UTF-8 sequence */
    char carry[4];
#if CW_CONFIG_REASONING
    uint8_t rcarry_len;      /**< the same for the reasoning text */
    char rcarry[4];
#endif
    cw_tool_track_t tools;   /**< the stream's tool calls so far */
    uint32_t idle_start;     /**< when a byte last moved */
    /** per call: the engine under cw_chat and the step API */
    uint32_t call_start;     /**< now_ms when the call began */
    uint32_t wait_start;     /**< when the retry wait began */
    uint32_t wait_ms;        /**< how long it is */
    uint32_t attempts;
    uint32_t retries;
    uint32_t waited;         /**< ms of retry waits so far */
#if CW_CONFIG_CONTENT_PARTS
    int last_rc;             /**< the last attempt's status */
#endif
    uint8_t state;           /**< where the call is */
    bool got_bytes;          /**< a response byte came in this attempt */
    bool stale;              /**< a kept connection was found closed */
    bool reconnected;        /**< the one reconnect that is not a retry
                                  was made */
#if CW_CONFIG_NONBLOCKING
    bool step;               /**< driven by cw_chat_step: never block */
    bool req_done;           /**< the request writer has written it all */
    bool connecting;         /**< transport.connect_step under way */
    uint32_t connect_start;  /**< when it began */
    size_t io_len;           /**< request bytes waiting in io */
    size_t io_off;           /**< of which sent */
    cw_emit_resume_t resume; /**< where the request writer goes on */
#endif
} cw_client_t;

/** Sets up a client. Keeps pointers to config->base_url, api_key and the two
 * buffers; copies the transport. Returns CW_ERR_INVALID_ARG for a missing
 * send/recv/now_ms, buffers below CW_IO_MIN / CW_WORK_MIN, or a base URL
 * cw_url_parse refuses. Does not connect. */
CW_API cw_status_t cw_client_init(cw_client_t *c,
                                  const cw_client_config_t *config);

/** Sends one chat completion request and reads the whole answer, blocking
 * until it is complete, an error occurs, or the client's timeout passes.
 * Connects first (through transport.connect) when not connected, and leaves
 * the connection open for the next call when the server allows it. A kept
 * connection that the server has closed meanwhile is replaced without
 * counting as a retry.
 *
 * Retries (up to max_retries) follow the official OpenAI clients: after a
 * connection error or timeout before any response byte, and after HTTP
 * 408, 409, 429 and 5xx, unless the server says x-should-retry: false (or
 * forces one with true); never after a 429 insufficient_quota, and never
 * once streamed text has reached on_delta. The wait is the server's
 * retry-after-ms or Retry-After (seconds or an HTTP date) when it is within
 * (0, 60 s], otherwise 0.5 s doubling up to 8 s, times a random factor in
 * [0.75, 1].
 *
 * Non-streamed (req->stream false): on CW_OK res->content holds the answer.
 * Streamed: each piece of text goes to req->on_delta as it arrives; on
 * CW_OK the stream reached [DONE] (or a finish_reason and a clean end).
 *
 * res is always filled: status, headers, error object, usage. An error
 * after some streamed text was delivered sets res->partial. */
CW_API cw_status_t cw_chat(cw_client_t *c, const cw_chat_request_t *req,
                           cw_result_t *res);

/** What cw_chat_step waits for before it can go on: an event on a
 * descriptor, a time, or both (whichever comes first). */
typedef struct cw_wait {
    /** The descriptor to poll() or select() (the transport's handle), or
     * -1: only the time counts. */
    int fd;
    /** CW_WAIT_READ, CW_WAIT_WRITE, or 0 (a retry wait: time only). */
    uint8_t events;
    /** Call cw_chat_step again after at most this many ms (a timeout's or
     * a retry wait's end), even when no event came. */
    uint32_t timeout_ms;
} cw_wait_t;

#if CW_CONFIG_NONBLOCKING

/** Starts a chat to be driven by cw_chat_step (the step API), with the
 * same request, result and rules as cw_chat: it checks and measures the
 * request (nothing is sent yet) and returns CW_OK, or the error cw_chat
 * would return for it (res says why). req and everything it points to
 * must stay unchanged until the chat ends. One chat at a time per client;
 * many clients, each with its own transport and buffers, can run side by
 * side in one thread. */
CW_API cw_status_t cw_chat_start(cw_client_t *c, const cw_chat_request_t *req,
                                 cw_result_t *res);

/** Advances the chat cw_chat_start began as far as it can without
 * blocking: connects (through transport.connect_step, or blocking through
 * transport.connect when the transport has none), writes the request
 * (resuming where the last call stopped), reads and parses what has
 * arrived, delivering text to on_delta, and waits out retries as
 * deadlines, never by sleeping. Transport calls get a timeout of 0.
 *
 * Returns CW_ERR_WOULD_BLOCK while the chat goes on: *wait says what it
 * waits for; call cw_chat_step again when that happens or after
 * wait->timeout_ms (calling it earlier is harmless). Any other value ends
 * the chat: it is what cw_chat would have returned, with res filled the
 * same way; a call after that, with no chat started, returns
 * CW_ERR_INVALID_ARG. Timeouts are the client's, measured with now_ms.
 * To give a chat up half-way, start another (its connection is closed
 * first), or call cw_client_close: the connection is closed and the chat
 * is over (a later cw_chat_step returns CW_ERR_INVALID_ARG; res keeps what
 * had arrived). */
CW_API cw_status_t cw_chat_step(cw_client_t *c, cw_wait_t *wait);
#endif

/** Closes the connection, if any (transport.close), and ends a chat
 * started with cw_chat_start that is still under way. */
CW_API void cw_client_close(cw_client_t *c);

/* ---------------------------------------------------------------- history */

/** A conversation kept in caller-owned storage, for multi-turn chats: an
 * array of messages and the text they point to, both the caller's. Adding
 * a message copies its role and text, so an answer (res.content lives in
 * the client's work buffer, which the next response overwrites) can go
 * into the next request safely. Nothing is allocated.
 *
 * From examples/multiturn/multiturn.c:
 *
 * @snippet multiturn/multiturn.c history
 *
 * Streamed, the answer goes in as it arrives: req.on_delta =
 * cw_history_on_delta, req.on_delta_user = &h (or call cw_history_append
 * from your own callback). It lands in a message after the h.count that the
 * request was built with, so the request does not change. */
typedef struct cw_history {
    cw_message_t *msgs;   /**< the caller's array: msgs[0..count) are in use */
    size_t max_msgs;      /**< entries of msgs */
    size_t count;         /**< messages in use: pass msgs and count to
                               cw_chat_request_init() */
    char *text;           /**< the caller's storage for roles and texts */
    size_t text_size;     /**< bytes of text */
    size_t text_used;     /**< bytes of text in use */
    size_t pinned;        /**< leading messages never dropped (a system
                             prompt); set it after adding them */
    bool drop_oldest;     /**< when full, drop the oldest turns (from the
                             first unpinned message up to the next "user"
                             one) instead of failing */
    uint32_t dropped;     /**< messages dropped so far */
#if CW_CONFIG_TOOLS
    /** With cw_history_init_tools(): max_msgs entries beside msgs, to pass
     * as cw_chat_request_t.message_ext (NULL: none). */
    cw_message_ext_t *ext;
    cw_tool_call_t *calls; /**< the caller's storage for kept tool calls */
    size_t max_calls;     /**< entries of calls */
    size_t calls_used;    /**< calls[0..calls_used) are in use */
    size_t calls_want;    /**< (private: call slots being made room for) */
#endif
} cw_history_t;

/** Prepares h over the caller's arrays (kept by pointer), empty, with
 * drop_oldest false and nothing pinned. */
CW_API void cw_history_init(cw_history_t *h, cw_message_t *msgs,
                            size_t max_msgs, char *text, size_t text_size);

/** Adds a message, copying role and text[0..len) (NUL-terminated in h). With
 * drop_oldest, old turns are dropped to make room (never the pinned ones,
 * nor the newest message already there). Returns CW_OK,
 * CW_ERR_BUFFER_TOO_SMALL when it cannot fit (nothing is changed), or
 * CW_ERR_INVALID_ARG. */
CW_API cw_status_t cw_history_add(cw_history_t *h, const char *role,
                                  const char *text, size_t len);

/** Appends text[0..len) to the last message when its role is role, or else
 * adds a new message with that role; for answers that arrive in pieces.
 * With drop_oldest, the two newest messages are never dropped. Returns as
 * cw_history_add. */
CW_API cw_status_t cw_history_append(cw_history_t *h, const char *role,
                                     const char *text, size_t len);

/** A cw_delta_fn that appends each piece to an "assistant" message of the
 * cw_history_t given as user. Returns CW_OK, or cw_history_append's error
 * when the history is full (so cw_chat stops with CW_ERR_ABORTED). */
CW_API int cw_history_on_delta(void *history, const char *text, size_t len);

/** Removes the last message (an unanswered prompt, a partial answer). */
CW_API void cw_history_pop(cw_history_t *h);

#if CW_CONFIG_TOOLS
/** Gives h what a conversation with tools needs besides: ext, max_msgs
 * entries beside the messages (pass h.ext as the request's message_ext),
 * and calls, storage for the tool calls kept (their arguments go into the
 * text storage). Both are the caller's, kept by pointer. */
CW_API void cw_history_init_tools(cw_history_t *h, cw_message_ext_t *ext,
                                  cw_tool_call_t *calls, size_t max_calls);

/** Keeps the answer's tool calls (copied, arguments included) as an
 * assistant message: attached to the last message when it is an assistant
 * message without calls (streamed text), else added with "content": null.
 * Returns as cw_history_add, or CW_ERR_INVALID_ARG without
 * cw_history_init_tools(). */
CW_API cw_status_t cw_history_add_tool_calls(cw_history_t *h,
                                             const cw_tool_call_t *calls,
                                             size_t count);

/** Adds a tool message: the result text[0..len) of the call call_id.
 * Returns as cw_history_add. */
CW_API cw_status_t cw_history_add_tool_result(cw_history_t *h,
                                              const char *call_id,
                                              const char *text, size_t len);
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHATWIRE_H */
