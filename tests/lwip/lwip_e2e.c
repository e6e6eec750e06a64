/*
 * lwip_e2e.c - chatwire over a real lwIP stack.
 *
 * Runs lwIP (NO_SYS=0: the tcpip thread and the unix port's pthread
 * sys_arch) with one netif on a TAP device, and drives chatwire's client
 * through cw_lwip, with and without cw_tls (mbedTLS) on top, against
 * tests/server/chat_server.py listening on the host end of the TAP link.
 * Every byte goes through lwIP's TCP/IP, ARP and Ethernet code; the
 * Linux kernel is the peer on the other side of the TAP device.
 *
 * It is started by tests/lwip/e2e.sh inside a network namespace that holds
 * the TAP device (host end 192.0.2.1/24; lwIP is 192.0.2.2), with
 *   PRECONFIGURED_TAPIF=<tap name>  (lwIP's tapif: attach, run no ifconfig)
 *   lwip_e2e HTTPS_URL HTTP_URL CA_FILE
 * e.g. lwip_e2e https://192.0.2.1:4443/v1 http://192.0.2.1:8080/v1 ca.pem.
 * Exit status 0 when every check passed.
 */
#if defined(__unix__) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* see ports/lwip/cw_lwip.c */
#endif
#include "chatwire.h"
#include "cw_lwip.h"
#include "cw_tls.h"

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LWIP_ADDR "192.0.2.2"
#define HOST_ADDR "192.0.2.1"
#define UNUSED_ADDR "192.0.2.3" /* on the link, answers no ARP */
#define CLOSED_PORT 9           /* nothing listens there in the namespace */

static int failures;
static int checks;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        checks++;                                                           \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);          \
            printf(__VA_ARGS__);                                            \
            printf("\n");                                                   \
        }                                                                   \
    } while (0)

/* ------------------------------------------------------------ lwIP up */

static struct netif tap_netif;
static sys_sem_t lwip_ready;

/* Runs in the tcpip thread, with the core lock held. */
static void lwip_init_done(void *arg)
{
    ip4_addr_t ip;
    ip4_addr_t mask;
    ip4_addr_t gw;
    (void)arg;
    IP4_ADDR(&ip, 192, 0, 2, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 192, 0, 2, 1);
    if (netif_add(&tap_netif, &ip, &mask, &gw, NULL, tapif_init,
                  tcpip_input) == NULL) {
        printf("FAIL: netif_add\n");
        exit(1);
    }
    netif_set_default(&tap_netif);
    netif_set_up(&tap_netif);
    sys_sem_signal(&lwip_ready);
}

static void lwip_start(void)
{
    if (sys_sem_new(&lwip_ready, 0) != ERR_OK) {
        printf("FAIL: sys_sem_new\n");
        exit(1);
    }
    tcpip_init(lwip_init_done, NULL);
    sys_sem_wait(&lwip_ready);
    printf("lwIP %s up: %s/24 on TAP %s\n", LWIP_VERSION_STRING, LWIP_ADDR,
           getenv("PRECONFIGURED_TAPIF"));
}

/* ------------------------------------------------- transport checks */

static void test_connect_refused_is_connect_error(void)
{
    static cw_lwip_t l;
    cw_transport_t t;
    int rc;
    cw_lwip_init(&l);
    t = cw_lwip_transport(&l);
    rc = t.connect(t.ctx, HOST_ADDR, strlen(HOST_ADDR), CLOSED_PORT, 3000);
    CHECK(rc == CW_ERR_CONNECT, "rc=%d (%s) errno=%d", rc, cw_strerror(rc),
          l.last_errno);
    CHECK(l.fd < 0, "fd=%d", l.fd);
    printf("connect refused: %s, lwIP errno %d\n", cw_strerror(rc),
           l.last_errno);
}

static void test_connect_times_out_within_bound(void)
{
    static cw_lwip_t l;
    cw_transport_t t;
    uint32_t start;
    uint32_t spent;
    int rc;
    cw_lwip_init(&l);
    t = cw_lwip_transport(&l);
    start = t.now_ms(t.ctx);
    rc = t.connect(t.ctx, UNUSED_ADDR, strlen(UNUSED_ADDR), 80, 400);
    spent = t.now_ms(t.ctx) - start;
    CHECK(rc == CW_ERR_TIMEOUT, "rc=%d (%s)", rc, cw_strerror(rc));
    CHECK(spent >= 380u && spent < 1500u, "spent %u ms for a 400 ms timeout",
          (unsigned)spent);
    printf("connect timeout: %u ms for 400 ms\n", (unsigned)spent);
}

static void test_name_lookup(const char *url_port)
{
    static cw_lwip_t l;
    cw_transport_t t;
    int rc;
    cw_lwip_init(&l);
    t = cw_lwip_transport(&l);
    rc = t.connect(t.ctx, "localhost", 9, (uint16_t)atoi(url_port), 3000);
#if LWIP_DNS
    /* DNS_LOCAL_HOSTLIST maps localhost to the server (tests/lwip/lwipopts.h) */
    CHECK(rc == CW_OK, "rc=%d (%s) gai=%d", rc, cw_strerror(rc), l.gai_error);
#else
    CHECK(rc == CW_ERR_DNS, "without LWIP_DNS a name must fail: rc=%d", rc);
#endif
    t.close(t.ctx);
    rc = t.connect(t.ctx, "no.such.host.invalid", 20, 80, 3000);
    CHECK(rc == CW_ERR_DNS, "rc=%d (%s)", rc, cw_strerror(rc));
}

/* Plain HTTP/1.0 by hand: "try again" before the request, then the reply,
 * then CW_ERR_CLOSED (never 0) once the server has closed, and again on
 * every later call. */
static void test_recv_after_peer_close_is_closed(uint16_t port)
{
    static cw_lwip_t l;
    static const char req[] = "GET /health HTTP/1.0\r\nHost: x\r\n\r\n";
    static uint8_t buf[4096];
    cw_transport_t t;
    size_t got = 0;
    size_t sent = 0;
    int32_t n;
    uint32_t start;
    uint32_t spent;
    int rc;
    int zeros = 0;

    cw_lwip_init(&l);
    t = cw_lwip_transport(&l);
    rc = t.connect(t.ctx, HOST_ADDR, strlen(HOST_ADDR), port, 3000);
    CHECK(rc == CW_OK, "connect rc=%d errno=%d", rc, l.last_errno);
    if (rc != CW_OK) {
        return;
    }
    start = t.now_ms(t.ctx);
    n = t.recv(t.ctx, buf, sizeof buf, 100);
    spent = t.now_ms(t.ctx) - start;
    CHECK(n == 0, "recv before the request: %d", (int)n);
    CHECK(spent >= 90u && spent < 1000u, "recv waited %u ms, asked 100",
          (unsigned)spent);
    while (sent < sizeof req - 1u) {
        n = t.send(t.ctx, (const uint8_t *)req + sent, sizeof req - 1u - sent,
                   1000);
        CHECK(n >= 0, "send: %d", (int)n);
        if (n < 0) {
            return;
        }
        sent += (size_t)n;
    }
    for (;;) {
        n = t.recv(t.ctx, buf + got, sizeof buf - 1u - got, 100);
        if (n < 0) {
            break;
        }
        if (n == 0 && ++zeros > 50) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    CHECK(n == CW_ERR_CLOSED, "end of a closed connection: %d (%s)", (int)n,
          cw_strerror(n));
    CHECK(strstr((const char *)buf, "200") != NULL &&
              strstr((const char *)buf, "\"ok\"") != NULL,
          "reply: %s", (const char *)buf);
    n = t.recv(t.ctx, buf, sizeof buf, 100);
    CHECK(n == CW_ERR_CLOSED, "recv again after close: %d", (int)n);
    printf("recv after close: %s, lwIP errno %d\n", cw_strerror(n),
           l.last_errno);
    t.close(t.ctx);
    n = t.send(t.ctx, buf, 1, 100);
    CHECK(n == CW_ERR_CLOSED, "send on a closed transport: %d", (int)n);
}

/* --------------------------------------------------------- chat checks */

typedef struct collected {
    char text[512];
    size_t len;
    unsigned calls;
} collected_t;

static int collect(void *user, const char *text, size_t len)
{
    collected_t *c = (collected_t *)user;
    c->calls++;
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, text, len);
        c->len += len;
        c->text[c->len] = '\0';
    }
    return 0;
}

/* One cw_chat; want_rc CW_OK also checks the text is "Echo: <prompt>". */
/* The client every test here uses (one at a time): no retries, so that
 * each failure shows. */
static cw_client_t client;

static int client_open(cw_transport_t tp, const char *url,
                       uint32_t timeout_ms)
{
    static uint8_t io[2048];
    static uint8_t work[16384];
    cw_client_config_t cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = tp;
    cfg.base_url = url;
    cfg.api_key = "test-key";
    cfg.io_buf = io;
    cfg.io_size = sizeof io;
    cfg.work_buf = work;
    cfg.work_size = sizeof work;
    cfg.timeout_ms = timeout_ms;
    cfg.max_retries = CW_NO_RETRIES;
    return cw_client_init(&client, &cfg);
}

static void chat_expect(const char *what, cw_transport_t tp, const char *url,
                        int stream, const char *prompt, int want_rc,
                        uint32_t timeout_ms)
{
    static collected_t got;
    char want[256];
    cw_chat_request_t req;
    cw_message_t msg;
    cw_result_t res;
    uint32_t start;
    int rc;

    rc = client_open(tp, url, timeout_ms);
    CHECK(rc == CW_OK, "%s: cw_client_init %d", what, rc);
    if (rc != CW_OK) {
        return;
    }
    msg.role = "user";
    msg.content = prompt;
    cw_chat_request_init(&req, &msg, 1);
    memset(&got, 0, sizeof got);
    if (stream) {
        req.stream = true;
        req.on_delta = collect;
        req.on_delta_user = &got;
    }
    start = tp.now_ms(tp.ctx);
    rc = cw_chat(&client, &req, &res);
    snprintf(want, sizeof want, "Echo: %s", prompt);
    CHECK(rc == want_rc, "%s: %s (want %s), HTTP %d, %s", what,
          cw_strerror(rc), cw_strerror(want_rc), res.http.status,
          res.error.message);
    if (want_rc != CW_OK) {
        /* nothing more to compare */
    } else if (rc == CW_OK && stream) {
        CHECK(strcmp(got.text, want) == 0, "%s: streamed '%s'", what, got.text);
        CHECK(got.calls > 1u, "%s: %u deltas", what, got.calls);
        CHECK(res.done, "%s: no [DONE]", what);
    } else if (rc == CW_OK) {
        CHECK(res.content != NULL && strcmp(res.content, want) == 0,
              "%s: content '%s'", what, res.content ? res.content : "(null)");
    }
    printf("%-26s %s in %u ms: %s\n", what, cw_strerror(rc),
           (unsigned)(tp.now_ms(tp.ctx) - start),
           stream ? got.text : (res.content ? res.content : "(none)"));
    cw_client_close(&client);
}

static void chat_once(const char *what, cw_transport_t tp, const char *url,
                      int stream, const char *prompt)
{
    chat_expect(what, tp, url, stream, prompt, CW_OK, 20000);
}

/* A reply far bigger than lwIP's receive window: flow control over TLS. */
static void chat_big_stream(cw_transport_t tp, const char *url)
{
    static collected_t got;
    cw_chat_request_t req;
    cw_message_t msg;
    cw_result_t res;
    uint32_t start;
    int rc;

    if (client_open(tp, url, 60000) != CW_OK) {
        CHECK(0, "cw_client_init");
        return;
    }
    msg.role = "user";
    msg.content = "!mode:big=300000 go";
    cw_chat_request_init(&req, &msg, 1);
    memset(&got, 0, sizeof got);
    req.stream = true;
    req.on_delta = collect;
    req.on_delta_user = &got;
    start = tp.now_ms(tp.ctx);
    rc = cw_chat(&client, &req, &res);
    CHECK(rc == CW_OK, "big: %s, HTTP %d", cw_strerror(rc), res.http.status);
    CHECK(res.content_len == 300000u, "big: %u bytes streamed",
          (unsigned)res.content_len);
    printf("%-26s %s in %u ms: %u bytes in %u deltas\n", "TLS stream 300 kB",
           cw_strerror(rc), (unsigned)(tp.now_ms(tp.ctx) - start),
           (unsigned)res.content_len, got.calls);
    cw_client_close(&client);
}

int main(int argc, char **argv)
{
    static cw_lwip_t sock;
    static cw_tls_t tls;
    const char *https_url;
    const char *http_url;
    const char *plain_port;
    cw_tls_config_t tls_cfg;
    int rc;

    if (argc != 4 || getenv("PRECONFIGURED_TAPIF") == NULL) {
        fprintf(stderr, "usage: PRECONFIGURED_TAPIF=TAP %s HTTPS_URL HTTP_URL "
                        "CA_FILE (run by tests/lwip/e2e.sh)\n", argv[0]);
        return 2;
    }
    https_url = argv[1];
    http_url = argv[2];
    plain_port = strrchr(http_url, ':');
    if (plain_port == NULL) {
        return 2;
    }
    plain_port++;
    setvbuf(stdout, NULL, _IONBF, 0);
    lwip_start();

    test_connect_refused_is_connect_error();
    test_connect_times_out_within_bound();
    test_name_lookup(plain_port);
    test_recv_after_peer_close_is_closed((uint16_t)atoi(plain_port));

    cw_lwip_init(&sock);
    chat_once("plain, not streamed", cw_lwip_transport(&sock), http_url, 0,
              "Hello over lwIP");
    chat_once("plain, streamed", cw_lwip_transport(&sock), http_url, 1,
              "Hello over lwIP, streamed");

    /* the peer goes away mid-answer: closed, never a silent 0 */
    chat_expect("plain, dropped (FIN)", cw_lwip_transport(&sock), http_url, 1,
                "!mode:drop some words here", CW_ERR_CLOSED, 20000);
    chat_expect("plain, dropped (RST)", cw_lwip_transport(&sock), http_url, 1,
                "!mode:drop-rst some words here", CW_ERR_CLOSED, 20000);
    /* "try again" returns until the client's own deadline */
    chat_expect("plain, server too slow", cw_lwip_transport(&sock), http_url,
                0, "!mode:slow-headers=3000 hi", CW_ERR_TIMEOUT, 500);

    memset(&tls_cfg, 0, sizeof tls_cfg);
    tls_cfg.ca_file = argv[3];
    rc = cw_tls_init(&tls, cw_lwip_transport(&sock), &tls_cfg);
    CHECK(rc == CW_OK, "cw_tls_init: %d %s", rc, cw_tls_error(&tls));
    if (rc == CW_OK) {
        chat_once("TLS, not streamed", cw_tls_transport(&tls), https_url, 0,
                  "Hello over lwIP and TLS");
        chat_once("TLS, streamed", cw_tls_transport(&tls), https_url, 1,
                  "Hello over lwIP and TLS, streamed");
#if LWIP_DNS
        {
            /* by name: lwip_getaddrinfo, then SNI and the certificate's
             * DNS:localhost */
            static char by_name[64];
            const char *tls_port = strrchr(https_url, ':');
            snprintf(by_name, sizeof by_name, "https://localhost:%s",
                     tls_port != NULL ? tls_port + 1 : "443");
            chat_once("TLS by name, streamed", cw_tls_transport(&tls),
                      by_name, 1, "Hello to localhost over lwIP DNS");
        }
#endif
        chat_expect("TLS, dropped (FIN)", cw_tls_transport(&tls), https_url,
                    1, "!mode:drop some words here", CW_ERR_CLOSED, 20000);
        printf("TLS: %s, %s\n", cw_tls_build_info(), cw_tls_version(&tls));
        chat_big_stream(cw_tls_transport(&tls), https_url);
        cw_tls_free(&tls);
    }
    printf("%d checks, %d failed; lwip_send calls: %u\n", checks, failures,
           (unsigned)sock.send_calls);
    return failures == 0 ? 0 : 1;
}
