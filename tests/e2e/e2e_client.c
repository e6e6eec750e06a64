/*
 * e2e_client.c - drives the library (not the CLI) over real sockets and
 * real TLS, for the end-to-end tests: prints one "name=value" line per fact
 * so that the test driver can check it.
 *
 *   e2e_client BASE_URL CA_FILE stream|nostream|twice PROMPT [TLS_MIN TLS_MAX]
 *
 * "twice": one non-streamed request, the connection closed, then a second
 * one on a new connection, to see the TLS session resumed.
 *
 * The key comes from COMETAPI_KEY. It also counts what reached the socket:
 * how many send() calls (so TLS records) carried the request itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

static cw_posix_t sock;
static cw_tls_t tls;
static cw_client_t client;
static uint8_t io_buf[2048];
static uint8_t work_buf[64 * 1024];
static char streamed[64 * 1024];
static size_t streamed_len;
static size_t delta_calls;

/* Counting wrappers: the socket under TLS, and the client's side of TLS. */
static cw_transport_t sock_tp;
static cw_transport_t tls_tp;
static int in_request_send;
static unsigned request_socket_sends;
static unsigned handshake_socket_sends;
static unsigned client_sends;

static int32_t count_sock_send(void *ctx, const uint8_t *b, size_t n,
                               uint32_t t)
{
    int32_t rc = sock_tp.send(ctx, b, n, t);
    if (rc > 0) {
        if (in_request_send) {
            request_socket_sends++;
        } else {
            handshake_socket_sends++;
        }
    }
    return rc;
}

static int32_t count_client_send(void *ctx, const uint8_t *b, size_t n,
                                 uint32_t t)
{
    int32_t rc;
    in_request_send = 1;
    rc = tls_tp.send(ctx, b, n, t);
    in_request_send = 0;
    client_sends++;
    return rc;
}

static int on_delta(void *user, const char *text, size_t len)
{
    (void)user;
    if (streamed_len + len < sizeof streamed) {
        memcpy(streamed + streamed_len, text, len);
        streamed_len += len;
    }
    delta_calls++;
    return 0;
}

static void print_escaped(const char *name, const char *s, size_t len)
{
    size_t i;
    printf("%s=", name);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\') {
            fputs("\\\\", stdout);
        } else if (ch == '\n') {
            fputs("\\n", stdout);
        } else if (ch < 0x20u) {
            printf("\\x%02x", ch);
        } else {
            putchar(ch);
        }
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    cw_client_config_t cfg;
    cw_tls_config_t tcfg;
    cw_chat_request_t req;
    cw_message_t msg;
    cw_result_t res;
    cw_transport_t inner;
    int rc;

    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: e2e_client BASE_URL CA_FILE stream|nostream "
                        "PROMPT [TLS_MIN TLS_MAX]\n");
        return 2;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.base_url = argv[1];
    cfg.api_key = getenv("COMETAPI_KEY");
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = 20000;
    cw_posix_init(&sock);
    sock_tp = cw_posix_transport(&sock);
    inner = sock_tp;
    inner.send = count_sock_send;
    cfg.transport = inner;
    if (strncmp(argv[1], "https:", 6) == 0) {
        memset(&tcfg, 0, sizeof tcfg);
        tcfg.ca_file = argv[2];
        if (argc == 7) {
            tcfg.min_version = (uint8_t)atoi(argv[5]);
            tcfg.max_version = (uint8_t)atoi(argv[6]);
        }
        rc = cw_tls_init(&tls, inner, &tcfg);
        if (rc != CW_OK) {
            printf("rc=%d\ninit_error=%s\n", rc, cw_tls_error(&tls));
            return 0;
        }
        tls_tp = cw_tls_transport(&tls);
        cfg.transport = tls_tp;
        cfg.transport.send = count_client_send;
    }
    rc = cw_client_init(&client, &cfg);
    if (rc != CW_OK) {
        printf("rc=%d\n", rc);
        return 0;
    }
    msg.role = "user";
    msg.content = argv[4];
    cw_chat_request_init(&req, &msg, 1);
    req.stream = strcmp(argv[3], "stream") == 0;
    req.include_usage = req.stream;
    req.on_delta = on_delta;
    if (strcmp(argv[3], "twice") == 0 || strcmp(argv[3], "again") == 0) {
        const char *pause = getenv("CW_E2E_PAUSE_MS");
        rc = cw_chat(&client, &req, &res);
        printf("first_rc=%d\nfirst_request_id=%s\nfirst_resumed=%d\n", rc,
               res.http.request_id,
               cfg.transport.ctx == &tls ? cw_tls_resumed(&tls) : 0);
        if (strcmp(argv[3], "twice") == 0) {
            cw_client_close(&client);
        }
        if (pause != NULL) {
            struct timespec ts;
            long ms = atol(pause);
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (ms % 1000) * 1000000L;
            nanosleep(&ts, NULL);
        }
    }
    rc = cw_chat(&client, &req, &res);
    printf("rc=%d\nstatus=%d\n", rc, res.http.status);
    if (req.stream) {
        print_escaped("content", streamed, streamed_len);
    } else {
        print_escaped("content", res.content ? res.content : "",
                      res.content ? res.content_len : 0u);
    }
    printf("delta_calls=%zu\npartial=%d\ndone=%d\nfinish=%s\n", delta_calls,
           res.partial, res.done, res.finish_reason);
    printf("usage=%lld/%lld/%lld\n", (long long)res.prompt_tokens,
           (long long)res.completion_tokens, (long long)res.total_tokens);
    printf("request_id=%s\nerror_code=%s\nerror_type=%s\n",
           res.http.request_id, res.error.code, res.error.type);
    print_escaped("error_message", res.error.message,
                  strlen(res.error.message));
    printf("retry_after=%s\nretry_after_ms=%lld\n", res.http.retry_after,
           (long long)res.http.retry_after_ms);
    printf("resumed=%d\nreused_connection=%d\nstale_reconnect=%d\n"
           "attempts=%u\n", cfg.transport.ctx == &tls ? cw_tls_resumed(&tls)
                                                       : 0,
           res.reused_connection, res.stale_reconnect,
           (unsigned)res.attempts);
    printf("tls_version=%s\ntls_error=%s\n",
           cfg.transport.ctx == &tls ? cw_tls_version(&tls) : "",
           cfg.transport.ctx == &tls ? cw_tls_error(&tls) : "");
    printf("request_socket_sends=%u\nhandshake_socket_sends=%u\n"
           "client_sends=%u\n", request_socket_sends, handshake_socket_sends,
           client_sends);
    cw_client_close(&client);
    if (cfg.transport.ctx == &tls) {
        cw_tls_free(&tls);
    }
    return 0;
}
