/*
 * fuzz_url.c - cw_url_parse on a NUL-terminated copy of the input.
 *
 * Checked on success: host, path and query point inside the string, in that
 * order, and do not overlap; host is 1..253 bytes of the allowed characters
 * (hex digits, ':' and '.' for an IPv6 literal); path and query hold only
 * visible ASCII and no '#'; the port is explicit or the scheme's default;
 * formatting the parsed URL back and parsing it again gives the same fields;
 * and a request written for the URL has a request line and Host header made
 * of visible ASCII, with exactly two spaces in the request line (no header
 * injection through the URL).
 */
#define _DEFAULT_SOURCE 1
#include <strings.h>

#include "cw_internal.h"
#include "fuzz_common.h"

#define URL_MAX 4096u

static char url[URL_MAX + 1];
static char again[URL_MAX + 64];
static uint8_t req_out[URL_MAX * 2 + 1024];
static size_t req_len;

static int sink_fn(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    FUZZ_CHECK(req_len + len <= sizeof req_out, "request too large");
    memcpy(req_out + req_len, data, len);
    req_len += len;
    return CW_OK;
}

static bool host_char(char c, bool v6)
{
    if (v6) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    }
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static bool visible(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if ((uint8_t)s[i] <= 0x20u || (uint8_t)s[i] >= 0x7fu || s[i] == '#') {
            return false;
        }
    }
    return true;
}

static void check_url(const cw_url_t *u, const char *s, size_t n)
{
    size_t i;

    FUZZ_CHECK(fuzz_inside(u->host, u->host_len, s, n), "host outside");
    FUZZ_CHECK(fuzz_inside(u->path, u->path_len, s, n), "path outside");
    FUZZ_CHECK(fuzz_inside(u->query, u->query_len, s, n), "query outside");
    FUZZ_CHECK(u->host + u->host_len <= u->path &&
               u->path + u->path_len <= u->query, "fields out of order");
    FUZZ_CHECK(u->host_len >= 1u && u->host_len <= 253u, "host length %zu",
               u->host_len);
    for (i = 0; i < u->host_len; i++) {
        FUZZ_CHECK(host_char(u->host[i], u->ipv6), "host byte 0x%02x",
                   (uint8_t)u->host[i]);
    }
    FUZZ_CHECK(visible(u->path, u->path_len) &&
               visible(u->query, u->query_len), "path or query bytes");
    FUZZ_CHECK(u->path_len == 0u || u->path[0] == '/',
               "path does not start with '/'");
    FUZZ_CHECK(u->path_len == 0u || u->path[u->path_len - 1u] != '/',
               "path keeps a trailing '/'");
    FUZZ_CHECK(u->port != 0u, "port 0");
    if (!u->port_explicit) {
        FUZZ_CHECK(u->port == (u->tls ? 443u : 80u), "default port %u",
                   u->port);
    }
    FUZZ_CHECK(u->tls == (strncasecmp(s, "https://", 8) == 0), "tls flag");
    FUZZ_CHECK(u->error == NULL, "an error sentence on success");
}

static void check_request(const cw_url_t *u)
{
    static uint8_t buf[64];
    cw_message_t m = {"user", "hi"};
    cw_chat_request_t r;
    size_t i;
    size_t spaces = 0;
    size_t line_end = 0;
    int rc;

    cw_chat_request_init(&r, &m, 1);
    req_len = 0;
    rc = cw_request_write(u, "sk-test", CW_AUTH_BEARER, &r, buf, sizeof buf,
                          sink_fn, NULL, NULL);
    FUZZ_CHECK(rc == CW_OK, "request for a parsed URL: %d", rc);
    for (i = 0; i + 1u < req_len; i++) {
        if (req_out[i] == '\r') {
            FUZZ_CHECK(req_out[i + 1u] == '\n', "bare CR");
            if (line_end == 0u) {
                line_end = i;
            } else {
                break; /* end of the Host line */
            }
            i++;
            continue;
        }
        FUZZ_CHECK(req_out[i] >= 0x20u && req_out[i] < 0x7fu,
                   "byte 0x%02x in request line or Host", req_out[i]);
        if (line_end == 0u && req_out[i] == ' ') {
            spaces++;
        }
    }
    FUZZ_CHECK(spaces == 2u, "%zu spaces in the request line", spaces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cw_url_t u;
    cw_url_t v;
    size_t n;
    int rc;
    int k;

    if (size > URL_MAX) {
        return 0;
    }
    memcpy(url, data, size);
    url[size] = '\0';
    n = strlen(url);
    rc = cw_url_parse(url, &u);
    FUZZ_CHECK(rc == CW_OK || rc == CW_ERR_INVALID_ARG, "rc %d", rc);
    if (rc != CW_OK) {
        /* a refusal says what and where, inside the URL */
        FUZZ_CHECK(!CW_CONFIG_DETAIL || (u.error != NULL && u.error[0] != '\0'),
                   "refused without a reason");
        FUZZ_CHECK(u.error_at <= n, "error offset %zu of %zu", u.error_at, n);
        return 0;
    }
    check_url(&u, url, n);
    check_request(&u);

    /* format it back and parse again */
    k = snprintf(again, sizeof again, "%s://%s%.*s%s:%u%.*s%s%.*s",
                 u.tls ? "https" : "http", u.ipv6 ? "[" : "",
                 (int)u.host_len, u.host, u.ipv6 ? "]" : "", u.port,
                 (int)u.path_len, u.path, u.query_len > 0u ? "?" : "",
                 (int)u.query_len, u.query);
    FUZZ_CHECK(k > 0 && (size_t)k < sizeof again, "snprintf");
    rc = cw_url_parse(again, &v);
    FUZZ_CHECK(rc == CW_OK, "formatted URL \"%s\" refused", again);
    FUZZ_CHECK(v.host_len == u.host_len &&
               memcmp(v.host, u.host, u.host_len) == 0 &&
               v.path_len == u.path_len &&
               memcmp(v.path, u.path, u.path_len) == 0 &&
               v.query_len == u.query_len &&
               memcmp(v.query, u.query, u.query_len) == 0 &&
               v.port == u.port && v.tls == u.tls && v.ipv6 == u.ipv6 &&
               v.port_explicit, "round trip of \"%s\" differs", again);
    return 0;
}
