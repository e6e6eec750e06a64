/*
 * cw_status.c - status words: cw_strerror and the detail sentence of
 * cw_result_t.
 */
#include "cw_internal.h"

#include <string.h>

const char *cw_strerror(int status)
{
#if !CW_CONFIG_STATUS_TEXT
    return status == CW_OK ? "success" : "chatwire error";
#else
    switch (status) {
    case CW_OK:
        return "success";
    case CW_ERR_INVALID_ARG:
        return "invalid argument";
    case CW_ERR_WOULD_BLOCK:
        return "operation would block; call again";
    case CW_ERR_BUFFER_TOO_SMALL:
        return "buffer too small for the response";
    case CW_ERR_TIMEOUT:
        return "timed out";
    case CW_ERR_CLOSED:
        return "connection closed before the response was complete";
    case CW_ERR_DNS:
        return "host name could not be resolved";
    case CW_ERR_CONNECT:
        return "could not connect to the server";
    case CW_ERR_IO:
        return "network I/O error";
    case CW_ERR_TLS:
        return "TLS error";
    case CW_ERR_CERT:
        return "server certificate rejected";
    case CW_ERR_HTTP:
        return "HTTP error status";
    case CW_ERR_API:
        return "the API returned an error";
    case CW_ERR_MALFORMED:
        return "malformed response";
    case CW_ERR_HEADER_TOO_LARGE:
        return "response header line or section too large";
    case CW_ERR_EVENT_TOO_LARGE:
        return "server-sent event larger than the event buffer";
    case CW_ERR_INVALID_UTF8:
        return "request text is not valid UTF-8";
    case CW_ERR_NO_CONTENT:
        return "the answer has no content (a refusal?)";
    case CW_ERR_INCOMPLETE:
        return "stream ended without [DONE] or a finish reason";
    case CW_ERR_ABORTED:
        return "aborted by the caller";
    case CW_ERR_PROXY:
        return "the HTTP proxy refused or failed the connection";
    case CW_ERR_REQUEST_CHANGED:
        return "the request changed while it was being sent";
    case CW_ERR_TOOL_CALLS:
        return "the model called tools instead of answering";
    default:
        return "unknown status";
    }
#endif
}

#if CW_CONFIG_DETAIL

/* Appends n bytes to the sentence, as many as fit. */
static void put(cw_result_t *res, const char *s, size_t n)
{
    size_t have;

    if (res == NULL) {
        return;
    }
    have = strlen(res->detail);
    if (n > sizeof res->detail - 1u - have) {
        n = sizeof res->detail - 1u - have;
    }
    memcpy(res->detail + have, s, n);
    res->detail[have + n] = '\0';
}

void cw_detail(cw_result_t *res, const char *text)
{
    put(res, text, strlen(text));
}

void cw_detail_num(cw_result_t *res, uint64_t v)
{
    char d[CW_DEC_U64_MAX];
    size_t i = cw_dec_u64(d, v);
    put(res, d + i, sizeof d - i);
}

/* data[0..len), at most max bytes of it, with anything unprintable (and
 * the quote and backslash) as \xNN; "..." ends it when it was cut. */
static void escaped(cw_result_t *res, const char *data, size_t len,
                    size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        uint8_t b = (uint8_t)data[i];
        char esc[4];
        if (b >= 0x20u && b < 0x7fu && b != '"' && b != '\\') {
            put(res, (const char *)&data[i], 1);
            continue;
        }
        esc[0] = '\\';
        esc[1] = 'x';
        esc[2] = hex[b >> 4];
        esc[3] = hex[b & 0xfu];
        put(res, esc, 4);
    }
    if (i < len) {
        put(res, "...", 3);
    }
}

void cw_detail_bytes(cw_result_t *res, const char *data, size_t len,
                     size_t max)
{
    put(res, "\"", 1);
    escaped(res, data, len, max);
    put(res, "\"", 1);
}

void cw_detail_value(cw_result_t *res, const char *text)
{
    escaped(res, text, strlen(text), CW_DETAIL_MAX);
}

#endif /* CW_CONFIG_DETAIL */
