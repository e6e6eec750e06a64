/*
 * chatwire_bench.c - what the chatwire CLI does, N times over one kept-alive
 * connection, for scripts/bench.sh. The twin of baseline_curl.c.
 *
 *   chatwire_bench [--stream] [-n N] [--ca FILE] [--base-url URL]
 *                  [--model M] [--times] PROMPT
 *
 * Sends N chat requests (default 1) through one cw_client_t over cw_tls over
 * cw_posix, every buffer static, and prints the content of the last answer
 * (and one newline) on stdout. With --stream each request streams and the
 * text of the last one is written to stdout as it arrives.
 *
 * --times: on stderr, one line per request,
 *   "first_text_ns=<CLOCK_MONOTONIC ns> req=<i>"
 * taken when the application callback first receives text (streaming), and
 * at the end "elapsed_ns=<ns for all N requests, handshake included>".
 *
 * The key comes from COMETAPI_KEY (default "test-key"). Exit status: 0 when
 * all N requests succeeded, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_marks.h"

static char stdout_buf[BUFSIZ];

/* The same buffers as examples/cli/chatwire_cli.c. */
static cw_posix_t sock;
static cw_tls_t tls;
static cw_client_t client;
static uint8_t io_buf[4096];
static uint8_t work_buf[256 * 1024];

typedef struct app {
    int is_last;            /* the request whose text goes to stdout */
    int got_text;           /* this request delivered text already */
    int times;              /* --times */
    long req;               /* request number, from 1 */
} app_t;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int on_delta(void *user, const char *text, size_t len)
{
    app_t *a = (app_t *)user;
    if (!a->got_text && len > 0u) {
        a->got_text = 1;
        if (a->times) {
            fprintf(stderr, "first_text_ns=%llu req=%ld\n",
                    (unsigned long long)mono_ns(), a->req);
        }
    }
    if (a->is_last &&
        (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)) {
        return 1;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: chatwire_bench [--stream] [-n N] [--ca FILE] "
            "[--base-url URL] [--model M] [--times] PROMPT\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *base_url = NULL;
    const char *ca = NULL;
    const char *model = "gpt-4-0314";
    const char *prompt = NULL;
    const char *key = getenv("COMETAPI_KEY");
    int stream = 0;
    long n = 1;
    long i;
    int argi;
    app_t app;
    cw_tls_config_t tcfg;
    cw_client_config_t cfg;
    cw_message_t msgs[1];
    cw_chat_request_t req;
    cw_result_t res;
    uint64_t t0;
    int rc = CW_OK;

    memset(&app, 0, sizeof app);
    for (argi = 1; argi < argc; argi++) {
        const char *a = argv[argi];
        int more = argi + 1 < argc;
        if (strcmp(a, "--stream") == 0) {
            stream = 1;
        } else if (strcmp(a, "--times") == 0) {
            app.times = 1;
        } else if (strcmp(a, "-n") == 0 && more) {
            n = strtol(argv[++argi], NULL, 10);
        } else if (strcmp(a, "--ca") == 0 && more) {
            ca = argv[++argi];
        } else if (strcmp(a, "--base-url") == 0 && more) {
            base_url = argv[++argi];
        } else if (strcmp(a, "--model") == 0 && more) {
            model = argv[++argi];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage();
        } else {
            prompt = a;
        }
    }
    if (prompt == NULL || n < 1) {
        return usage();
    }
    if (key == NULL || key[0] == '\0') {
        key = "test-key";
    }

    bench_marks_init();
    /* a static stdout buffer: the application's own stdio must not show
     * up in the heap counts of either client */
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    t0 = mono_ns();
    cw_posix_init(&sock);
    memset(&tcfg, 0, sizeof tcfg);
    tcfg.ca_file = ca;
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tcfg) != CW_OK) {
        fprintf(stderr, "chatwire_bench: %s\n", cw_tls_error(&tls));
        return 1;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = cw_tls_transport(&tls);
    cfg.base_url = base_url;
    cfg.api_key = key;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = 60000;
    if (cw_client_init(&client, &cfg) != CW_OK) {
        fprintf(stderr, "chatwire_bench: bad base URL\n");
        return 1;
    }
    msgs[0].role = "user";
    msgs[0].content = prompt;
    cw_chat_request_init(&req, msgs, 1);
    req.model = model;
    req.stream = stream != 0;
    req.include_usage = stream != 0; /* as the CLI does */
    req.on_delta = on_delta;
    req.on_delta_user = &app;

    for (i = 1; i <= n && rc == CW_OK; i++) {
        app.req = i;
        app.got_text = 0;
        app.is_last = i == n;
        rc = cw_chat(&client, &req, &res);
        if (rc == CW_OK && !stream && i == n) {
            fwrite(res.content, 1, res.content_len, stdout);
        }
        if (i == 1 || i == n) {
            bench_mark(i == 1 ? "first-request" : "kept-alive-requests");
        }
    }
    if (rc == CW_OK) {
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        fprintf(stderr, "chatwire_bench: request %ld: %s (HTTP %d) %s\n",
                i - 1, cw_strerror(rc), res.http.status, cw_tls_error(&tls));
    }
    if (app.times) {
        fprintf(stderr, "elapsed_ns=%llu\n",
                (unsigned long long)(mono_ns() - t0));
    }
    cw_client_close(&client);
    cw_tls_free(&tls);
    return rc == CW_OK ? 0 : 1;
}
