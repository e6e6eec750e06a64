/*
 * cw_url.c - base URL parsing: "http[s]://host[:port][/path][?query]".
 */
#include "cw_internal.h"

#include <string.h>

static bool host_char(char ch)
{
    /* RFC 3986 unreserved and sub-delims, enough for names and IPv4 */
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
           ch == '~';
}

static bool path_char(char ch)
{
    /* visible ASCII except '#'; UTF-8 must be percent-encoded */
    return ch > 0x20 && ch < 0x7f && ch != '#';
}

/* The scheme, compared without regard to case (RFC 3986 section 3.1). */
static bool scheme_is(const char *url, const char *scheme)
{
    size_t i;
    for (i = 0; scheme[i] != '\0'; i++) {
        if (cw_lower(url[i]) != scheme[i]) {
            return false;
        }
    }
    return true;
}

#if CW_CONFIG_DETAIL
static cw_status_t bad(cw_url_t *out, const char *url, const char *at,
                       const char *why)
{
    out->error = why;
    out->error_at = (size_t)(at - url);
    return CW_ERR_INVALID_ARG;
}
#else
/* no sentences in this build: error stays NULL, error_at 0 */
#define bad(out, url, at, why) CW_ERR_INVALID_ARG
#endif

cw_status_t cw_url_parse(const char *url, cw_url_t *out)
{
    const char *s;
    const char *h;
    size_t n;

    if (url == NULL || out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (scheme_is(url, "https://")) {
        out->tls = true;
        out->port = 443;
        s = url + 8;
    } else if (scheme_is(url, "http://")) {
        out->port = 80;
        s = url + 7;
    } else {
        return bad(out, url, url,
                   CW_TEXT("the URL must start with https:// or http://"));
    }
#if CW_CONFIG_DETAIL
    /* said apart: the parse below would refuse it as a bad port or host */
    h = s + strcspn(s, "@/?#");
    if (*h == '@') {
        return bad(out, url, h,
                   CW_TEXT("user:password@ is not taken in a base URL (the "
                           "key goes in its own setting)"));
    }
#endif
    if (*s == '[') {
        h = ++s;
        while (*s != '\0' && *s != ']') {
            char ch = *s;
            if (!((ch >= '0' && ch <= '9') || (cw_lower(ch) >= 'a' &&
                  cw_lower(ch) <= 'f') || ch == ':' || ch == '.')) {
                return bad(out, url, s,
                           CW_TEXT("an IPv6 address in [] may hold only hex "
                                   "digits, ':' and '.'"));
            }
            s++;
        }
        if (*s != ']') {
            return bad(out, url, s,
                       CW_TEXT("an IPv6 address lacks its closing ]"));
        }
        out->ipv6 = true;
        n = (size_t)(s - h);
        s++;
    } else {
        h = s;
        while (host_char(*s)) {
            s++;
        }
        n = (size_t)(s - h);
    }
    if (n == 0u) {
        return bad(out, url, s,
                   *s == '\0' || *s == '/' || *s == ':'
                       ? CW_TEXT("the host name is missing")
                       : CW_TEXT("the host has a character that is not "
                                 "allowed in a host name"));
    }
    if (n > 253u) {
        return bad(out, url, h,
                   CW_TEXT("the host name is longer than 253 bytes"));
    }
    out->host = h;
    out->host_len = n;
    if (*s == ':') {
        uint32_t port = 0;
        const char *d = ++s;
        while (*s >= '0' && *s <= '9' && s - d < 5) {
            port = port * 10u + (uint32_t)(*s - '0');
            s++;
        }
        if (s == d || port == 0u || port > 65535u ||
            (*s >= '0' && *s <= '9')) {
            return bad(out, url, d,
                       CW_TEXT("the port must be a number from 1 to 65535"));
        }
        out->port = (uint16_t)port;
        out->port_explicit = true;
    }
    if (*s != '\0' && *s != '/' && *s != '?') {
        return bad(out, url, s,
                   CW_TEXT("the host has a character that is not allowed in "
                           "a host name"));
    }
    out->path = s;
    while (*s != '\0' && *s != '?') {
        if (!path_char(*s)) {
            return bad(out, url, s,
                       *s == '#' ? CW_TEXT("a base URL cannot have a "
                                           "#fragment")
                                 : CW_TEXT("the path has a space, a control "
                                           "character or a non-ASCII byte "
                                           "(percent-encode it)"));
        }
        s++;
    }
    n = (size_t)(s - out->path);
    while (n > 0u && out->path[n - 1u] == '/') {
        n--; /* "/v1/" and "/v1" join the same way */
    }
    out->path_len = n;
    out->query = s;
    if (*s == '?') {
        out->query = ++s;
        while (*s != '\0') {
            if (!path_char(*s)) {
                return bad(out, url, s,
                           *s == '#' ? CW_TEXT("a base URL cannot have a "
                                               "#fragment")
                                     : CW_TEXT("the query has a space, a "
                                               "control character or a "
                                               "non-ASCII byte "
                                               "(percent-encode it)"));
            }
            s++;
        }
    }
    out->query_len = (size_t)(s - out->query);
    return CW_OK;
}
