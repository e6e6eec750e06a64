/*
 * cw_retry.c - when and how long to wait before retrying, the way the
 * official OpenAI clients do it (openai-python's _should_retry and
 * _calculate_retry_timeout), plus what their users asked for: no retry of
 * insufficient_quota, none after streamed text was delivered.
 */
#include "cw_internal.h"

#include <string.h>

#if CW_CONFIG_RETRIES

bool cw_retry_allowed(int status, const cw_result_t *res, bool got_bytes)
{
    int http = res->http.status;

    if (res->partial || res->content_len > 0u) {
        return false; /* the application already has part of an answer */
    }
    switch (status) {
    case CW_ERR_CONNECT:
    case CW_ERR_DNS:
    case CW_ERR_TIMEOUT:
    case CW_ERR_CLOSED:
    case CW_ERR_IO:
        return !got_bytes; /* nothing of a response came: send it again */
    case CW_ERR_API:
    case CW_ERR_HTTP:
        break;
    default:
        /* TLS failures (no version or cipher in common, certificates) do
         * not mend by themselves; nor do bad input or bad responses */
        return false;
    }
    if (http < 300) {
        return false; /* an error event inside a 200 stream */
    }
    if (strcmp(res->error.code, "insufficient_quota") == 0 ||
        strcmp(res->error.type, "insufficient_quota") == 0) {
        return false; /* waiting does not buy quota */
    }
    if (res->http.should_retry >= 0) {
        return res->http.should_retry == 1;
    }
    return http == 408 || http == 409 || http == 429 || http >= 500;
}

/* ------------------------------------------------------------ dates */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 */
    int64_t era;
    unsigned yoe;
    unsigned doy;
    unsigned doe;

    y -= m <= 2u;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153u * (m > 2u ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static int month_of(const char *s)
{
    int i;
    for (i = 0; i < 12; i++) {
        if (strncmp(s, months + i * 3, 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* Reads n digits at *s. */
static bool digits(const char **s, int n, int *out)
{
    int v = 0;
    while (n-- > 0) {
        if (**s < '0' || **s > '9') {
            return false;
        }
        v = v * 10 + (**s - '0');
        (*s)++;
    }
    *out = v;
    return true;
}

static bool lit(const char **s, const char *text)
{
    size_t n = strlen(text);
    if (strncmp(*s, text, n) != 0) {
        return false;
    }
    *s += n;
    return true;
}

static bool hms(const char **s, int *h, int *mi, int *se)
{
    return digits(s, 2, h) && lit(s, ":") && digits(s, 2, mi) &&
           lit(s, ":") && digits(s, 2, se) && *h < 24 && *mi < 60 &&
           *se < 61;
}

bool cw_http_date_parse(const char *s, int64_t *out)
{
    int day = 0;
    int mon = 0;
    int year = 0;
    int h = 0;
    int mi = 0;
    int se = 0;
    const char *comma = strchr(s, ',');

    if (comma != NULL && comma - s == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        s = comma + 1;
        if (!(lit(&s, " ") && digits(&s, 2, &day) && lit(&s, " ") &&
              (mon = month_of(s)) != 0 && (s += 3, lit(&s, " ")) &&
              digits(&s, 4, &year) && lit(&s, " ") && hms(&s, &h, &mi, &se) &&
              lit(&s, " GMT") && *s == '\0')) {
            return false;
        }
    } else if (comma != NULL) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        s = comma + 1;
        if (!(lit(&s, " ") && digits(&s, 2, &day) && lit(&s, "-") &&
              (mon = month_of(s)) != 0 && (s += 3, lit(&s, "-")) &&
              digits(&s, 2, &year) && lit(&s, " ") && hms(&s, &h, &mi, &se) &&
              lit(&s, " GMT") && *s == '\0')) {
            return false;
        }
        year += year < 70 ? 2000 : 1900;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (strlen(s) != 24u || s[3] != ' ' || (mon = month_of(s + 4)) == 0 ||
            s[7] != ' ') {
            return false;
        }
        s += 8;
        if (*s == ' ') {
            s++;
            if (!digits(&s, 1, &day)) {
                return false;
            }
        } else if (!digits(&s, 2, &day)) {
            return false;
        }
        if (!(lit(&s, " ") && hms(&s, &h, &mi, &se) && lit(&s, " ") &&
              digits(&s, 4, &year) && *s == '\0')) {
            return false;
        }
    }
    if (day < 1 || day > 31) {
        return false;
    }
    *out = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
           h * 3600 + mi * 60 + se;
    return true;
}

/* ------------------------------------------------------------ delays */

uint32_t cw_retry_after_ms(const cw_http_info_t *info, int64_t now_unix)
{
    const char *ra = info->retry_after;
    int64_t ms = -1;

    if (info->retry_after_ms > 0) {
        ms = info->retry_after_ms;
    } else if (ra[0] >= '0' && ra[0] <= '9') {
        /* seconds, possibly with a fraction ("1.5") */
        int64_t whole = 0;
        int64_t frac_ms = 0;
        int64_t scale = 100;
        const char *p = ra;
        while (*p >= '0' && *p <= '9' && whole < 1000000) {
            whole = whole * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                frac_ms += (*p++ - '0') * scale;
                scale /= 10;
            }
        }
        if (*p == '\0') {
            ms = whole * 1000 + frac_ms;
        }
    } else if (ra[0] != '\0' && now_unix > 0) {
        int64_t when;
        if (cw_http_date_parse(ra, &when)) {
            ms = (when - now_unix) * 1000;
        }
    }
    if (ms <= 0 || ms > (int64_t)CW_RETRY_AFTER_MAX_MS) {
        return 0;
    }
    return (uint32_t)ms;
}

uint32_t cw_retry_backoff_ms(uint32_t retry, uint32_t random)
{
    uint64_t base = CW_RETRY_INITIAL_DELAY_MS;
    uint64_t jitter;

    while (retry-- > 0u && base < CW_RETRY_MAX_DELAY_MS) {
        base *= 2u;
    }
    if (base > CW_RETRY_MAX_DELAY_MS) {
        base = CW_RETRY_MAX_DELAY_MS;
    }
    /* factor 1 - 0.25 * random / 2^32, in [0.75, 1] */
    jitter = (base * (uint64_t)random) >> 34;
    return (uint32_t)(base - jitter);
}

#else
/* compiled out (CW_CONFIG_RETRIES 0); ISO C wants a declaration */
typedef int cw_retry_compiled_out;
#endif /* CW_CONFIG_RETRIES */
