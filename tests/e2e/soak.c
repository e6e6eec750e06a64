/*
 * soak.c - 1,000 requests in one process over one client: kept-alive
 * connections, reconnects (every 50th answer closes the connection), TLS
 * session resumption on each reconnect. malloc and friends are interposed
 * to track the heap's high-water mark (mbedTLS allocates; chatwire does
 * not): it must not grow once the first reconnects are behind us.
 *
 *   soak BASE_URL CA_FILE [COUNT]      (key from COMETAPI_KEY)
 */
#define _GNU_SOURCE
#include "chatwire.h"
#include "cw_posix.h"
#include "cw_tls.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t a, size_t b);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static size_t heap_now;
static size_t heap_peak;
static unsigned long heap_calls;

static void grew(void *p)
{
    if (p != NULL) {
        heap_now += malloc_usable_size(p);
        if (heap_now > heap_peak) {
            heap_peak = heap_now;
        }
    }
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    heap_calls++;
    grew(p);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    heap_calls++;
    grew(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    void *p;
    if (old != NULL) {
        heap_now -= malloc_usable_size(old);
    }
    p = __libc_realloc(old, n);
    heap_calls++;
    grew(p);
    return p;
}

void free(void *p)
{
    if (p != NULL) {
        heap_now -= malloc_usable_size(p);
    }
    __libc_free(p);
}

static cw_posix_t sock;
static cw_tls_t tls;
static cw_client_t client;
static uint8_t io_buf[2048];
static uint8_t work_buf[16384];

int main(int argc, char **argv)
{
    cw_client_config_t cfg;
    cw_tls_config_t tcfg;
    cw_result_t res;
    long count = argc > 3 ? atol(argv[3]) : 1000;
    long i;
    long failures = 0;
    long reused = 0;
    size_t peak_early = 0;
    size_t now_early = 0;
    char prompt[64];

    if (argc < 3) {
        fprintf(stderr, "usage: soak BASE_URL CA_FILE [COUNT]\n");
        return 2;
    }
    memset(&cfg, 0, sizeof cfg);
    memset(&tcfg, 0, sizeof tcfg);
    cw_posix_init(&sock);
    tcfg.ca_file = argv[2];
    if (cw_tls_init(&tls, cw_posix_transport(&sock), &tcfg) != CW_OK) {
        fprintf(stderr, "tls init: %s\n", cw_tls_error(&tls));
        return 1;
    }
    cfg.transport = cw_tls_transport(&tls);
    cfg.base_url = argv[1];
    cfg.api_key = getenv("COMETAPI_KEY");
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.platform = cw_posix_platform();
    cw_client_init(&client, &cfg);
    for (i = 1; i <= count; i++) {
        cw_message_t msg;
        cw_chat_request_t req;
        int rc;
        /* every 50th answer closes the connection: the next reconnects */
        snprintf(prompt, sizeof prompt, "%srequest %ld",
                 i % 50 == 0 ? "!mode:close " : "", i);
        msg.role = "user";
        msg.content = prompt;
        cw_chat_request_init(&req, &msg, 1);
        rc = cw_chat(&client, &req, &res);
        if (rc != CW_OK || res.content == NULL ||
            strstr(res.content, prompt) == NULL) {
            failures++;
            fprintf(stderr, "request %ld: %s\n", i, cw_strerror(rc));
        }
        reused += res.reused_connection ? 1 : 0;
        if (i == 100) {
            peak_early = heap_peak;
            now_early = heap_now;
        }
    }
    printf("requests=%ld\nfailures=%ld\nreused=%ld\nhandshakes=%u\n"
           "resumed=%u\nheap_calls=%lu\npeak_after_100=%zu\npeak_end=%zu\n"
           "in_use_after_100=%zu\nin_use_end=%zu\n", count, failures, reused,
           (unsigned)tls.handshakes, (unsigned)tls.resumptions, heap_calls,
           peak_early, heap_peak, now_early, heap_now);
    cw_client_close(&client);
    cw_tls_free(&tls);
    return failures == 0 && heap_peak == peak_early && heap_now <= now_early
               ? 0 : 1;
}
