/*
 * fuzz_retry.c - the retry rules' text inputs: HTTP dates, Retry-After and
 * retry-after-ms values, and the proxy's CONNECT answer.
 *
 * Checks: cw_http_date_parse either refuses or gives a time that, printed
 * back as an IMF-fixdate, parses to the same value; cw_retry_after_ms stays
 * within (0, CW_RETRY_AFTER_MAX_MS] or is 0; the backoff stays within
 * [0.75, 1] of its base; the proxy transport answers CW_OK only for a 2xx
 * head with nothing after it, and never reads past what it was given.
 */
#define _POSIX_C_SOURCE 200809L
#include "chatwire_proxy.h"
#include "cw_internal.h"
#include "fuzz_common.h"

#include <time.h>

static void check_date(const char *s)
{
    int64_t t = 0;
    static const char *const days[] = { "Thu", "Fri", "Sat", "Sun", "Mon",
                                        "Tue", "Wed" };
    static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
                                        "Jun", "Jul", "Aug", "Sep", "Oct",
                                        "Nov", "Dec" };
    if (cw_http_date_parse(s, &t)) {
        /* print it back (UTC, proleptic Gregorian) and parse again */
        time_t tt = (time_t)t;
        struct tm tm;
        char back[64];
        int64_t t2 = 0;
        int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
        if (t < -62135596800LL || t > 253402300799LL ||
            gmtime_r(&tt, &tm) == NULL) {
            return; /* outside years 1..9999: no IMF-fixdate for it */
        }
        snprintf(back, sizeof back, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[((day % 7) + 7) % 7], tm.tm_mday, mons[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        FUZZ_CHECK(cw_http_date_parse(back, &t2), "%s -> %s", s, back);
        FUZZ_CHECK(t2 == t, "%s: %lld, back %s: %lld", s, (long long)t, back,
                   (long long)t2);
    }
}

/* A transport that serves the fuzz input as the proxy's answer. */
typedef struct feed {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint32_t clock;
} feed_t;

static int f_connect(void *ctx, const char *h, size_t hl, uint16_t port,
                     uint32_t t)
{
    (void)ctx; (void)h; (void)hl; (void)port; (void)t;
    return CW_OK;
}

static int32_t f_send(void *ctx, const uint8_t *b, size_t n, uint32_t t)
{
    (void)ctx; (void)b; (void)t;
    return (int32_t)n;
}

static int32_t f_recv(void *ctx, uint8_t *b, size_t n, uint32_t t)
{
    feed_t *f = (feed_t *)ctx;
    size_t k = f->len - f->pos;
    (void)t;
    if (k == 0u) {
        return CW_ERR_CLOSED;
    }
    if (k > n) {
        k = n;
    }
    if (k > 7u) {
        k = 7u; /* odd slices */
    }
    memcpy(b, f->data + f->pos, k);
    f->pos += k;
    return (int32_t)k;
}

static uint32_t f_now(void *ctx)
{
    return ++((feed_t *)ctx)->clock;
}

static void f_close(void *ctx)
{
    (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char s[256];
    static cw_proxy_t proxy;
    cw_http_info_t info;
    size_t n = size < sizeof s - 1u ? size : sizeof s - 1u;
    uint32_t ms;
    feed_t f;
    cw_transport_t t;
    cw_transport_t pt;
    int rc;

    memset(&t, 0, sizeof t); /* the optional members too */
    memcpy(s, data, n);
    s[n] = '\0';
    check_date(s);

    memset(&info, 0, sizeof info);
    info.retry_after_ms = -1;
    memcpy(info.retry_after, s, n < sizeof info.retry_after - 1u
                                    ? n : sizeof info.retry_after - 1u);
    ms = cw_retry_after_ms(&info, size > 0 ? (int64_t)data[0] * 86400 * 365
                                           : 0);
    FUZZ_CHECK(ms <= CW_RETRY_AFTER_MAX_MS, "%u", (unsigned)ms);
    if (size >= 5) {
        uint32_t r;
        uint32_t b = cw_retry_backoff_ms(data[0], 0);
        memcpy(&r, data + 1, 4);
        ms = cw_retry_backoff_ms(data[0], r);
        FUZZ_CHECK(ms <= b && ms * 4u >= b * 3u - 4u, "%u of %u", ms, b);
        FUZZ_CHECK(b <= CW_RETRY_MAX_DELAY_MS, "%u", b);
    }

    f.data = data;
    f.len = size;
    f.pos = 0;
    f.clock = 0;
    t.ctx = &f;
    t.connect = f_connect;
    t.send = f_send;
    t.recv = f_recv;
    t.close = f_close;
    t.now_ms = f_now;
    FUZZ_CHECK(cw_proxy_init(&proxy, t, "http://u:p@127.0.0.1:3128") == CW_OK,
               "init");
    pt = cw_proxy_transport(&proxy);
    rc = pt.connect(pt.ctx, "api.example.com", 15, 443, 1000000);
    FUZZ_CHECK(f.pos <= f.len, "read past the input");
    if (rc == CW_OK) {
        FUZZ_CHECK(proxy.status >= 200 && proxy.status < 300, "%d",
                   proxy.status);
    } else {
        FUZZ_CHECK(rc == CW_ERR_PROXY || rc == CW_ERR_INVALID_ARG, "rc %d",
                   rc);
        FUZZ_CHECK(strstr(cw_proxy_error(&proxy), "u:p") == NULL, "creds");
    }
    return 0;
}
