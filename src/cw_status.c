/*
 * cw_status.c - cw_strerror.
 */
#include "chatwire.h"

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
        return "the answer has no content (refusal or tool call)";
    case CW_ERR_INCOMPLETE:
        return "stream ended without [DONE] or a finish reason";
    case CW_ERR_ABORTED:
        return "aborted by the caller";
    case CW_ERR_PROXY:
        return "the HTTP proxy refused or failed the connection";
    default:
        return "unknown status";
    }
#endif
}
