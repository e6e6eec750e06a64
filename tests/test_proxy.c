/*
 * test_proxy.c - the HTTP CONNECT proxy transport over the scripted
 * transport: URL forms, the request it sends, and how it reads answers.
 */
#include "chatwire_proxy.h"
#include "cw_internal.h"
#include "cw_test.h"
#include "fake_transport.h"

static fake_t fake;
static cw_proxy_t proxy;

TEST(test_proxy_url_forms)
{
    cw_transport_t t = fake_transport(&fake);
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://proxy.local:3128"), CW_OK);
    CHECK_EQ_STR(proxy.host, "proxy.local");
    CHECK_EQ_INT(proxy.port, 3128);
    CHECK_EQ_STR(proxy.auth, "");
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "proxy.local"), CW_OK);
    CHECK_EQ_INT(proxy.port, 1080); /* curl's default */
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://[::1]:8080/"), CW_OK);
    CHECK_EQ_STR(proxy.host, "::1");
    CHECK(proxy.ipv6);
    /* "alice:s3cr@t" percent-encoded; base64 of the decoded form */
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://alice:s3cr%40t@p:1"),
                 CW_OK);
    CHECK_EQ_STR(proxy.auth, "YWxpY2U6czNjckB0");
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://bob@p:1"), CW_OK);
    CHECK_EQ_STR(proxy.auth, "Ym9iOg=="); /* "bob:" */
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "https://p:1"), CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "socks5://p:1"),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://p:1/path"),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://a:%zz@p:1"),
                 CW_ERR_INVALID_ARG);
    CHECK_EQ_INT(cw_proxy_init(&proxy, t, "http://"), CW_ERR_INVALID_ARG);
}

static int connect_through(const char *answer)
{
    cw_transport_t pt;
    fake_reset(&fake, (const uint8_t *)answer, strlen(answer));
    CHECK_EQ_INT(cw_proxy_init(&proxy, fake_transport(&fake),
                               "http://alice:pw@127.0.0.1:8888"), CW_OK);
    pt = cw_proxy_transport(&proxy);
    return pt.connect(pt.ctx, "api.cometapi.com", 16, 443, 5000);
}

TEST(test_connect_request_and_tunnel)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n"
                             "Proxy-Agent: tinyproxy/1.11.1\r\n\r\n";
    CHECK_EQ_INT(connect_through(ok), CW_OK);
    fake.sent[fake.sent_len] = 0;
    CHECK_EQ_STR((const char *)fake.sent,
                 "CONNECT api.cometapi.com:443 HTTP/1.1\r\n"
                 "Host: api.cometapi.com:443\r\n"
                 "User-Agent: chatwire/" CW_VERSION_STRING "\r\n"
                 "Proxy-Authorization: Basic YWxpY2U6cHc=\r\n\r\n");
    CHECK_EQ_INT(proxy.status, 200);
    CHECK_EQ_INT(fake.closes, 0);
    CHECK(strstr(proxy.buf, "YWxp") == NULL); /* credentials wiped */
}

TEST(test_proxy_refusals_are_proxy_errors)
{
    CHECK_EQ_INT(connect_through("HTTP/1.1 407 Proxy Authentication "
                                 "Required\r\nContent-Length: 5\r\n\r\nnope!"),
                 CW_ERR_PROXY);
    CHECK_EQ_INT(proxy.status, 407);
    CHECK(strstr(cw_proxy_error(&proxy), "authentication failed (407)") !=
          NULL);
    CHECK(strstr(cw_proxy_error(&proxy), "pw") == NULL);
    CHECK_EQ_INT(fake.closes, 1);
    CHECK_EQ_INT(connect_through("HTTP/1.0 502 Bad Gateway\r\n\r\n"),
                 CW_ERR_PROXY);
    CHECK(strstr(cw_proxy_error(&proxy), "refused the tunnel (HTTP 502)") !=
          NULL);
    /* bytes after a 200: not a proxy we can trust */
    CHECK_EQ_INT(connect_through("HTTP/1.1 200 OK\r\n\r\nextra"),
                 CW_ERR_PROXY);
    CHECK(strstr(cw_proxy_error(&proxy), "not an HTTP proxy answer") != NULL);
    /* a proxy that hangs up */
    CHECK_EQ_INT(connect_through("HTTP/1.1 20"), CW_ERR_PROXY);
}

/* The same exchange through connect_step, the answer arriving a byte at
 * a time with "try again" between the bytes: the same outcome as the
 * blocking connect, and the same request. */
static int connect_stepped(const char *answer, unsigned *waits)
{
    static const size_t one[] = { 1 };
    cw_transport_t pt;
    uint8_t want = 0;
    int rc;

    fake_reset(&fake, (const uint8_t *)answer, strlen(answer));
    fake.would_block = true;
    fake.sizes = one;
    fake.nsizes = 1;
    CHECK_EQ_INT(cw_proxy_init(&proxy, fake_transport(&fake),
                               "http://alice:pw@127.0.0.1:8888"), CW_OK);
    pt = cw_proxy_transport(&proxy);
    CHECK(pt.connect_step != NULL);
    *waits = 0;
    do {
        rc = pt.connect_step(pt.ctx, "api.cometapi.com", 16, 443, &want);
        if (rc == CW_ERR_WOULD_BLOCK) {
            CHECK(want == CW_WAIT_READ || want == CW_WAIT_WRITE);
            (*waits)++;
        }
    } while (rc == CW_ERR_WOULD_BLOCK && *waits < 10000u);
    return rc;
}

TEST(test_connect_step_gives_what_connect_gives)
{
    static const char *const answers[] = {
        "HTTP/1.1 200 Connection established\r\n\r\n",
        "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        "HTTP/1.0 502 Bad Gateway\r\n\r\n",
        "HTTP/1.1 20",
    };
    size_t i;

    for (i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        char sent[512];
        char error[160];
        int status;
        unsigned waits;
        static const size_t one[] = { 1 };
        cw_transport_t pt;
        int rc;
        /* the blocking connect on the same slices, for reference (a byte
         * after the answer shows only when it comes with it) */
        fake_reset(&fake, (const uint8_t *)answers[i], strlen(answers[i]));
        fake.would_block = true;
        fake.sizes = one;
        fake.nsizes = 1;
        CHECK_EQ_INT(cw_proxy_init(&proxy, fake_transport(&fake),
                                   "http://alice:pw@127.0.0.1:8888"), CW_OK);
        pt = cw_proxy_transport(&proxy);
        rc = pt.connect(pt.ctx, "api.cometapi.com", 16, 443, 5000);
        memcpy(sent, fake.sent, fake.sent_len);
        sent[fake.sent_len] = '\0';
        strcpy(error, cw_proxy_error(&proxy));
        status = proxy.status;
        CHECK_EQ_INT(connect_stepped(answers[i], &waits), rc);
        CHECK(waits > 0u);
        fake.sent[fake.sent_len] = 0;
        CHECK_EQ_STR((const char *)fake.sent, sent);
        CHECK_EQ_STR(cw_proxy_error(&proxy), error);
        CHECK_EQ_INT(proxy.status, status);
        CHECK(strstr(proxy.buf, "YWxp") == NULL); /* credentials wiped */
    }
}

TEST(test_unreachable_proxy)
{
    cw_transport_t pt;
    fake_reset(&fake, NULL, 0);
    fake.connect_rc = CW_ERR_CONNECT;
    cw_proxy_init(&proxy, fake_transport(&fake), "http://127.0.0.1:9");
    pt = cw_proxy_transport(&proxy);
    CHECK_EQ_INT(pt.connect(pt.ctx, "h", 1, 443, 1000), CW_ERR_PROXY);
    CHECK_EQ_INT(proxy.inner_error, CW_ERR_CONNECT);
    CHECK(strncmp(cw_proxy_error(&proxy), "proxy 127.0.0.1:9: ", 19) == 0);
}

/* A port that says it sent one byte more than it was given. */
static int32_t over_send(void *ctx, const uint8_t *buf, size_t len,
                         uint32_t timeout_ms)
{
    int32_t n = fake_transport(&fake).send(ctx, buf, len, timeout_ms);
    return n > 0 ? n + 1 : n;
}

TEST(test_port_claiming_more_than_given_is_an_io_error)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    cw_transport_t inner = fake_transport(&fake);
    cw_transport_t pt;
    inner.send = over_send;
    fake_reset(&fake, (const uint8_t *)ok, strlen(ok));
    CHECK_EQ_INT(cw_proxy_init(&proxy, inner, "http://127.0.0.1:8888"),
                 CW_OK);
    pt = cw_proxy_transport(&proxy);
    CHECK_EQ_INT(pt.connect(pt.ctx, "h", 1, 443, 1000), CW_ERR_PROXY);
    CHECK_EQ_INT(proxy.inner_error, CW_ERR_IO);
    CHECK_EQ_INT(fake.closes, 1);
}

/* close is optional: the proxy closes only a transport that has one. The
 * largest CONNECT request (a 257-byte IPv6-like host, twice, port 65535,
 * 255 bytes of credentials) fits in cw_proxy_t.buf, so the overflow check
 * cannot be reached through the API; the refusal's close is. */
TEST(test_transport_without_close)
{
    static const char refused[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    char url[300];
    char host[257];
    cw_transport_t inner = fake_transport(&fake);
    cw_transport_t pt;
    inner.close = NULL;
    memset(host, ':', sizeof host);
    memcpy(url, "http://", 7);
    memset(url + 7, 'u', 254);
    memcpy(url + 261, "@p:1", 5);
    fake_reset(&fake, (const uint8_t *)ok, strlen(ok));
    CHECK_EQ_INT(cw_proxy_init(&proxy, inner, url), CW_OK);
    CHECK(strlen(proxy.auth) == 340u); /* base64 of 255 bytes */
    pt = cw_proxy_transport(&proxy);
    CHECK_EQ_INT(pt.connect(pt.ctx, host, sizeof host, 65535, 1000), CW_OK);
    CHECK(fake.sent_len < sizeof proxy.buf);
    fake_reset(&fake, (const uint8_t *)refused, strlen(refused));
    CHECK_EQ_INT(cw_proxy_init(&proxy, inner, "http://127.0.0.1:8888"),
                 CW_OK);
    pt = cw_proxy_transport(&proxy);
    CHECK_EQ_INT(pt.connect(pt.ctx, "h", 1, 443, 1000), CW_ERR_PROXY);
    CHECK_EQ_INT(proxy.status, 403);
    pt.close(pt.ctx);
    CHECK_EQ_INT(fake.closes, 0);
}

static const cw_test_case_t tests[] = {
    T(test_connect_step_gives_what_connect_gives),
    T(test_proxy_url_forms),
    T(test_connect_request_and_tunnel),
    T(test_proxy_refusals_are_proxy_errors),
    T(test_unreachable_proxy),
    T(test_port_claiming_more_than_given_is_an_io_error),
    T(test_transport_without_close),
};

CW_TEST_MAIN(tests)
