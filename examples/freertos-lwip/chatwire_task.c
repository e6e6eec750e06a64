/*
 * chatwire_task.c - a FreeRTOS task that streams one chat answer to the
 * console (printf retargeted to a UART), over lwIP sockets (cw_lwip) and
 * mbedTLS (cw_tls). A sketch to copy into a board project: see README.md.
 * Not build-checked against a FreeRTOS kernel (none is packaged in Debian).
 *
 * The board project provides:
 *   - lwIP running (tcpip_init done, a netif up with an address, a DNS
 *     server set) before chatwire_start() is called;
 *   - ca_pem / ca_pem_len: the PEM trust anchor(s) for the API host, NUL
 *     included in the length (e.g. generated from a .pem file by the build);
 *   - mbedTLS entropy (MBEDTLS_ENTROPY_HARDWARE_ALT + mbedtls_hardware_poll
 *     on the chip's TRNG) and the current date for certificate validity
 *     (MBEDTLS_HAVE_TIME_DATE + a clock set by SNTP), or the handshake fails;
 *   - CHATWIRE_API_KEY (and optionally CHATWIRE_BASE_URL) at build time.
 */
#include "FreeRTOS.h"
#include "task.h"

#include "chatwire.h"
#include "cw_lwip.h"
#include "cw_tls.h"

#include <stdio.h>
#include <string.h>

#ifndef CHATWIRE_API_KEY
#error "define CHATWIRE_API_KEY (never commit it)"
#endif
#ifndef CHATWIRE_BASE_URL
#define CHATWIRE_BASE_URL NULL /* NULL: CometAPI, https://api.cometapi.com/v1 */
#endif
#ifndef CHATWIRE_TASK_STACK_WORDS
/* mbedTLS's handshake (ECDHE, X.509 parsing) dominates. A starting point,
 * not a measurement: check with uxTaskGetStackHighWaterMark() on the board. */
#define CHATWIRE_TASK_STACK_WORDS 4096u
#endif

extern const unsigned char ca_pem[];
extern const size_t ca_pem_len;

/* All of chatwire's state is here, in .bss: no malloc by chatwire (mbedTLS
 * itself allocates its record buffers: see ports/mbedtls/cw_tls.h). */
static cw_lwip_t sock;
static cw_tls_t tls;
static cw_client_t client;
static uint8_t io_buf[1024];
static uint8_t work_buf[CW_WORK_TOKENS_SIZE + 2048u];

static int print_delta(void *user, const char *text, size_t len)
{
    (void)user;
    printf("%.*s", (int)len, text);
    return 0; /* non-zero would stop the stream: CW_ERR_ABORTED */
}

static void chatwire_task(void *arg)
{
    const char *prompt = (const char *)arg;
    cw_tls_config_t tls_cfg;
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_message_t msg;
    cw_result_t res;
    int rc;

    cw_lwip_init(&sock);
    memset(&tls_cfg, 0, sizeof tls_cfg);
    tls_cfg.ca = ca_pem;
    tls_cfg.ca_len = ca_pem_len;
    rc = cw_tls_init(&tls, cw_lwip_transport(&sock), &tls_cfg);
    if (rc != CW_OK) {
        printf("chatwire: TLS set-up: %s\r\n", cw_tls_error(&tls));
        vTaskDelete(NULL);
        return;
    }

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = cw_tls_transport(&tls);
    cfg.base_url = CHATWIRE_BASE_URL;
    cfg.api_key = CHATWIRE_API_KEY;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    rc = cw_client_init(&client, &cfg);
    if (rc == CW_OK) {
        msg.role = "user";
        msg.content = prompt;
        cw_chat_request_init(&req, &msg, 1);
        req.stream = true;
        req.on_delta = print_delta;
        rc = cw_chat(&client, &req, &res);
        printf("\r\n[%s, HTTP %d] %s\r\n", cw_strerror(rc), res.http.status,
               rc == CW_ERR_TLS || rc == CW_ERR_CERT ? cw_tls_error(&tls)
                                                     : res.error.message);
        cw_client_close(&client);
    }
    cw_tls_free(&tls);
    vTaskDelete(NULL);
}

/* Call once lwIP has an address. prompt must stay valid while the task
 * runs (a string literal is fine). Returns pdPASS or an error. */
BaseType_t chatwire_start(const char *prompt)
{
    return xTaskCreate(chatwire_task, "chatwire",
                       (configSTACK_DEPTH_TYPE)CHATWIRE_TASK_STACK_WORDS,
                       (void *)prompt, tskIDLE_PRIORITY + 2, NULL);
}
