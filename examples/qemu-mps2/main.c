/*
 * main.c - one streamed chat completion over HTTPS from a Cortex-M4
 * (QEMU mps2-an386). The TLS handshake, certificate verification and record
 * crypto run in mbedTLS on the emulated CPU; the bytes travel over UART0 to
 * a host relay that forwards them to the TLS server (scripts/mcu-run.sh).
 *
 * Command line (QEMU -semihosting-config arg=...):
 *   fw BASE_URL TLS_MAX API_KEY PROMPT...
 *   e.g. fw https://localhost:8443/v1 1.3 test-key Hello from a Cortex-M4
 *
 * Prints, through semihosting: the streamed answer, then one line each for
 * the handshake, the result, the mbedTLS arena peak and the stack peak.
 * Exits 0 on success.
 */
#include <stdio.h>
#include <string.h>

#include "chatwire.h"
#include "cw_mbedtls_mcu.h"
#include "cw_tls.h"
#include "fw.h"

#ifndef CW_FW_BUILD_TIME
#error "CW_FW_BUILD_TIME (seconds since 1970) is set by scripts/mcu-build.sh"
#endif
/* mbedTLS's heap. 64 KiB leaves room above the measured peak (printed). */
#ifndef CW_FW_ARENA_SIZE
#define CW_FW_ARENA_SIZE (64u * 1024u)
#endif
/* QEMU delivers the bytes the host sends in the first ~1 s after its UART
 * socket connects only at ~1 s (a one-time stall of the emulator, not of
 * the TLS stack). Waiting that long before connecting makes the measured
 * handshake time the TLS time. 0 on real hardware. */
#ifndef CW_FW_START_DELAY_MS
#define CW_FW_START_DELAY_MS 1100u
#endif
#define CW_FW_IO_SIZE 2048u
#define CW_FW_WORK_SIZE (CW_WORK_TOKENS_SIZE + 2048u)

extern const unsigned char cw_fw_test_ca[];
extern const size_t cw_fw_test_ca_len;

static uint8_t arena[CW_FW_ARENA_SIZE] __attribute__((aligned(8)));
static uint8_t io_buf[CW_FW_IO_SIZE];
static uint8_t work_buf[CW_FW_WORK_SIZE] __attribute__((aligned(8)));
static fw_uart_t uart;
static cw_tls_t tls;
static cw_client_t client;
static cw_result_t res;
static char cmdline[512];

/* Wraps the TLS transport to time its connect (TCP is the relay's; this is
 * the TLS handshake with certificate verification). */
static cw_transport_t tls_tp;
static uint32_t handshake_ms;

static int timed_connect(void *ctx, const char *host, size_t host_len,
                         uint16_t port, uint32_t timeout_ms)
{
    uint32_t t0 = fw_now_ms(NULL);
    int rc = tls_tp.connect(ctx, host, host_len, port, timeout_ms);
    handshake_ms = fw_now_ms(NULL) - t0;
    return rc;
}

static int print_delta(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int main(void)
{
    cw_mbedtls_mcu_config_t mcfg;
    cw_tls_config_t tcfg;
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_message_t msg;
    cw_transport_t tp;
    char *rest;
    const char *base_url;
    const char *tls_max;
    const char *key;
    size_t anchors;
    size_t peak;
    size_t blocks;
    uint32_t t_start;
    int rc;

    fw_clock_init();
    fw_uart_init(&uart, 0x40004000u);

    rest = (char *)fw_semihost_cmdline(cmdline, sizeof cmdline);
    (void)fw_next_word(&rest); /* program name */
    base_url = fw_next_word(&rest);
    tls_max = fw_next_word(&rest);
    key = fw_next_word(&rest);
    while (*rest == ' ') {
        rest++;
    }
    if (base_url == NULL || tls_max == NULL || key == NULL || *rest == '\0') {
        printf("usage: fw BASE_URL 1.2|1.3 API_KEY PROMPT...\n");
        return 2;
    }
    printf("chatwire-mps2: %s, %s, base URL %s, TLS max %s\n",
           CW_VERSION_STRING, cw_tls_build_info(), base_url, tls_max);
    printf("chatwire-mps2: WARNING: entropy is cw_insecure_test_entropy "
           "(host /dev/urandom via semihosting): emulator only\n");

    memset(&mcfg, 0, sizeof mcfg);
    mcfg.arena = arena;
    mcfg.arena_size = sizeof arena;
    mcfg.entropy = cw_insecure_test_entropy;
    mcfg.now_ms = fw_now_ms;
    mcfg.build_time = CW_FW_BUILD_TIME; /* fixed "now": see cw_mbedtls_mcu.h */
    if (cw_mbedtls_mcu_init(&mcfg) != 0) {
        printf("chatwire-mps2: cw_mbedtls_mcu_init failed\n");
        return 1;
    }

    while (fw_now_ms(NULL) < CW_FW_START_DELAY_MS) {
    }
    t_start = fw_now_ms(NULL);
    memset(&tcfg, 0, sizeof tcfg);
    tcfg.ca = cw_fw_test_ca; /* the test CA, DER, generated at build time */
    tcfg.ca_len = cw_fw_test_ca_len;
    tcfg.max_version = strcmp(tls_max, "1.2") == 0 ? CW_TLS_1_2 : 0;
    rc = cw_tls_init(&tls, fw_uart_transport(&uart), &tcfg);
    if (rc != CW_OK) {
        printf("chatwire-mps2: cw_tls_init: %s (%d): %s\n", cw_strerror(rc), rc,
               cw_tls_error(&tls));
        return 1;
    }
    /* the public roots too, from flash (as a product would have them) */
    anchors = cw_mbedtls_mcu_add_anchors(&tls.ca, cw_trust_anchors,
                                         cw_trust_anchor_count);

    tls_tp = cw_tls_transport(&tls);
    tp = tls_tp;
    tp.connect = timed_connect;

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = tp;
    cfg.base_url = base_url;
    cfg.api_key = key;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.connect_timeout_ms = 60000u;
    cfg.timeout_ms = 120000u;
    cfg.max_retries = CW_NO_RETRIES; /* one UART stream: no reconnects */
    rc = cw_client_init(&client, &cfg);
    if (rc != CW_OK) {
        printf("chatwire-mps2: cw_client_init: %s (%d)\n", cw_strerror(rc), rc);
        return 1;
    }

    msg.role = "user";
    msg.content = rest;
    cw_chat_request_init(&req, &msg, 1);
    req.stream = true;
    req.on_delta = print_delta;
    printf("chatwire-mps2: answer: ");
    fflush(stdout);
    rc = cw_chat(&client, &req, &res);
    printf("\n");
    printf("chatwire-mps2: handshake %lu ms, %s, %lu extra trust anchors\n",
           (unsigned long)handshake_ms, cw_tls_version(&tls),
           (unsigned long)anchors);
    printf("chatwire-mps2: result %s (%d), HTTP %d, %lu bytes of content, "
           "total %lu ms\n", cw_strerror(rc), rc, res.http.status,
           (unsigned long)res.content_len,
           (unsigned long)(fw_now_ms(NULL) - t_start));
    if (rc != CW_OK && cw_tls_error(&tls)[0] != '\0') {
        printf("chatwire-mps2: %s\n", cw_tls_error(&tls));
    }
    printf("chatwire-mps2: uart rx %lu bytes, tx %lu bytes\n",
           (unsigned long)uart.rx_bytes, (unsigned long)uart.tx_bytes);
    cw_client_close(&client);
    cw_tls_free(&tls);

    peak = cw_mbedtls_mcu_arena_peak(&blocks);
    printf("chatwire-mps2: arena_peak %lu bytes (%lu blocks) of %lu\n",
           (unsigned long)peak, (unsigned long)blocks,
           (unsigned long)sizeof arena);
    printf("chatwire-mps2: stack_peak %lu bytes of %lu\n",
           (unsigned long)fw_stack_peak(), (unsigned long)fw_stack_size());
    printf("chatwire-mps2: sizeof cw_client_t %lu, cw_tls_t %lu, "
           "cw_result_t %lu\n", (unsigned long)sizeof(cw_client_t),
           (unsigned long)sizeof(cw_tls_t), (unsigned long)sizeof(cw_result_t));
    return rc == CW_OK ? 0 : 1;
}
