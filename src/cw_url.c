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

cw_status_t cw_url_parse(const char *url, cw_url_t *out)
{
    const char *s;
    const char *h;
    size_t n;

    if (url == NULL || out == NULL) {
        return CW_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof *out);
    if (strncmp(url, "https://", 8) == 0) {
        out->tls = true;
        out->port = 443;
        s = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        out->port = 80;
        s = url + 7;
    } else {
        return CW_ERR_INVALID_ARG;
    }
    if (*s == '[') {
        h = ++s;
        while (*s != '\0' && *s != ']') {
            char ch = *s;
            if (!((ch >= '0' && ch <= '9') || (cw_lower(ch) >= 'a' &&
                  cw_lower(ch) <= 'f') || ch == ':' || ch == '.')) {
                return CW_ERR_INVALID_ARG;
            }
            s++;
        }
        if (*s != ']') {
            return CW_ERR_INVALID_ARG;
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
    if (n == 0u || n > 253u) {
        return CW_ERR_INVALID_ARG;
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
        if (s == d || port == 0u || port > 65535u) {
            return CW_ERR_INVALID_ARG;
        }
        out->port = (uint16_t)port;
        out->port_explicit = true;
    }
    if (*s != '\0' && *s != '/' && *s != '?') {
        return CW_ERR_INVALID_ARG; /* user info, spaces, a fragment... */
    }
    out->path = s;
    while (*s != '\0' && *s != '?') {
        if (!path_char(*s)) {
            return CW_ERR_INVALID_ARG;
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
                return CW_ERR_INVALID_ARG;
            }
            s++;
        }
    }
    out->query_len = (size_t)(s - out->query);
    return CW_OK;
}
