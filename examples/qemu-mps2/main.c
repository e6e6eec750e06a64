/*
 * main.c - streamed chat completions over HTTPS from a Cortex-M4
 * (QEMU mps2-an386). The TLS handshake, certificate verification and record
 * crypto run in mbedTLS on the emulated CPU; the bytes travel over UART0 to
 * a host relay that forwards them to the TLS server (scripts/mcu-run.sh),
 * and UART1 tells the relay when to open and close a connection.
 *
 * Command line (QEMU -semihosting-config arg=...):
 *   fw BASE_URL TLS_MAX API_KEY [OPTION...] PROMPT...
 *   e.g. fw https://localhost:8443/v1 1.3 test-key Hello from a Cortex-M4
 * Options:
 *   --connections N   N requests, each on a new connection (the connection
 *                     is closed after each answer): the first handshake is
 *                     a full one, the later ones offer the saved session
 *   --session-in F    import a TLS session (cw_tls_session_import) from the
 *                     host file F (semihosting) before the first connection
 *   --session-out F   export the session (cw_tls_session_export) to F after
 *                     the last answer
 *   --cost            count instructions (scripts/mcu-cost.sh): print the
 *                     answer's length and hash instead of its text, and a
 *                     "cost" line per request
 *   --suite S         offer only the cipher suites of one AEAD (aes128,
 *                     aes256, chacha), to measure them one by one
 *   --group G         offer the key share of group G first (p256, x25519)
 *
 * Prints, through semihosting: the streamed answer, then one line each for
 * the handshake, the result, the mbedTLS arena peak and the stack peak.
 * Exits 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatwire.h"
#include "cw_tls_mcu.h"
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
static uint8_t session_blob[CW_TLS_SESSION_MAX + CW_TLS_HOST_MAX + 64u];
static fw_uart_t uart;
static cw_tls_t tls;
static cw_client_t client;
static cw_result_t res;
static char cmdline[512];

/* ------------------------------------------------------------ counting */

/* Where the instructions of one request go, in Timer0 ticks (40
 * instructions each under -icount shift=0). Every part but uart excludes
 * the time spent inside the UART driver, which polls for host bytes. */
static struct {
    uint64_t handshake; /* the transport's connect: TLS handshake */
    uint64_t tls_in;    /* mbedtls_ssl_read: record decryption */
    uint64_t tls_out;   /* mbedtls_ssl_write: record encryption */
    uint64_t callback;  /* on_delta (the application's) */
    uint64_t plain_in;  /* plaintext bytes mbedTLS handed over */
    uint32_t in_calls;
    uint32_t fnv;       /* FNV-1a of the answer */
} cost;
static bool cost_mode;
static cw_transport_t tls_tp;
static uint32_t handshake_ms;

static int timed_connect(void *ctx, const char *host, size_t host_len,
                         uint16_t port, uint32_t timeout_ms)
{
    uint32_t ms0 = fw_now_ms(NULL);
    uint64_t t0 = fw_ticks();
    uint64_t u0 = uart.busy_ticks;
    int rc = tls_tp.connect(ctx, host, host_len, port, timeout_ms);
    cost.handshake += fw_ticks() - t0 - (uart.busy_ticks - u0);
    handshake_ms = fw_now_ms(NULL) - ms0;
    return rc;
}

static int32_t timed_recv(void *ctx, uint8_t *buf, size_t len,
                          uint32_t timeout_ms)
{
    uint64_t t0 = fw_ticks();
    uint64_t u0 = uart.busy_ticks;
    int32_t n = tls_tp.recv(ctx, buf, len, timeout_ms);
    cost.tls_in += fw_ticks() - t0 - (uart.busy_ticks - u0);
    if (n > 0) {
        cost.plain_in += (uint64_t)n;
        cost.in_calls++;
    }
    return n;
}

static int32_t timed_send(void *ctx, const uint8_t *buf, size_t len,
                          uint32_t timeout_ms)
{
    uint64_t t0 = fw_ticks();
    uint64_t u0 = uart.busy_ticks;
    int32_t n = tls_tp.send(ctx, buf, len, timeout_ms);
    cost.tls_out += fw_ticks() - t0 - (uart.busy_ticks - u0);
    return n;
}

static int on_delta(void *user, const char *text, size_t len)
{
    uint64_t t0 = fw_ticks();
    size_t i;
    (void)user;

    for (i = 0; i < len; i++) {
        cost.fnv = (cost.fnv ^ (uint8_t)text[i]) * 16777619u;
    }
    if (!cost_mode) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    cost.callback += fw_ticks() - t0;
    return 0;
}

/* 1,000,000 turns of a two-instruction loop: 2,000,000 instructions, which
 * must read as 50,000 ticks when one tick is 40 instructions. */
static uint32_t calibrate(void)
{
    uint64_t t0 = fw_ticks();
    uint32_t n = 1000000u;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return (uint32_t)(fw_ticks() - t0);
}

/* ------------------------------------------------------------ options */

static const int suites_aes128[] = {
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0
};
static const int suites_aes256[] = {
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 0
};
static const int suites_chacha[] = {
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 0
};

static const uint16_t groups_p256[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};
static const uint16_t groups_x25519[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};

typedef struct options {
    unsigned connections;
    const char *session_in;
    const char *session_out;
    const int *suites;
    const uint16_t *groups;
} options_t;

/* The options before the prompt; false (with a message) for a bad one. */
static bool parse_options(char **rest, options_t *o)
{
    memset(o, 0, sizeof *o);
    o->connections = 1;
    for (;;) {
        char *save = *rest;
        char *w = fw_next_word(rest);
        char *v;
        if (w == NULL || strncmp(w, "--", 2) != 0) {
            if (w != NULL) {
                /* the prompt's first word: put the rest back together */
                if (**rest != '\0') {
                    (*rest)[-1] = ' ';
                }
                *rest = w;
            } else {
                *rest = save;
            }
            return true;
        }
        if (strcmp(w, "--cost") == 0) {
            cost_mode = true;
            continue;
        }
        v = fw_next_word(rest);
        if (v == NULL) {
            printf("chatwire-mps2: %s needs a value\n", w);
            return false;
        }
        if (strcmp(w, "--connections") == 0) {
            o->connections = (unsigned)strtoul(v, NULL, 10);
        } else if (strcmp(w, "--session-in") == 0) {
            o->session_in = v;
        } else if (strcmp(w, "--session-out") == 0) {
            o->session_out = v;
        } else if (strcmp(w, "--suite") == 0 && strcmp(v, "aes128") == 0) {
            o->suites = suites_aes128;
        } else if (strcmp(w, "--suite") == 0 && strcmp(v, "aes256") == 0) {
            o->suites = suites_aes256;
        } else if (strcmp(w, "--suite") == 0 && strcmp(v, "chacha") == 0) {
            o->suites = suites_chacha;
        } else if (strcmp(w, "--group") == 0 && strcmp(v, "p256") == 0) {
            o->groups = groups_p256;
        } else if (strcmp(w, "--group") == 0 && strcmp(v, "x25519") == 0) {
            o->groups = groups_x25519;
        } else {
            printf("chatwire-mps2: bad option %s %s\n", w, v);
            return false;
        }
    }
}

static void import_session(const char *path)
{
    long n = fw_semihost_file_read(path, session_blob, sizeof session_blob);
    int rc;

    if (n < 0) {
        printf("chatwire-mps2: session: cannot read %s\n", path);
        return;
    }
    rc = cw_tls_session_import(&tls, session_blob, (size_t)n);
    printf("chatwire-mps2: session: import of %ld bytes: %d, %s\n", n, rc,
           cw_tls_session_note(&tls));
}

static void export_session(const char *path)
{
    size_t n = 0;
    int rc = cw_tls_session_export(&tls, session_blob, sizeof session_blob,
                                   &n);
    if (rc == CW_OK && fw_semihost_file_write(path, session_blob, n) != 0) {
        rc = CW_ERR_IO;
    }
    printf("chatwire-mps2: session: export of %lu bytes: %d\n",
           (unsigned long)n, rc);
}

/* ------------------------------------------------------------ main */

int main(void)
{
    cw_tls_mcu_config_t mcfg;
    cw_tls_config_t tcfg;
    cw_client_config_t cfg;
    cw_chat_request_t req;
    cw_message_t msg;
    cw_transport_t tp;
    options_t opt;
    char *rest;
    const char *base_url;
    const char *tls_max;
    const char *key;
    size_t anchors;
    size_t peak;
    size_t blocks;
    uint32_t t_start;
    unsigned r;
    int rc = CW_OK;

    fw_clock_init();
    fw_uart_init(&uart, 0x40004000u, 0x40005000u);

    rest = (char *)fw_semihost_cmdline(cmdline, sizeof cmdline);
    (void)fw_next_word(&rest); /* program name */
    base_url = fw_next_word(&rest);
    tls_max = fw_next_word(&rest);
    key = fw_next_word(&rest);
    if (base_url == NULL || tls_max == NULL || key == NULL ||
        !parse_options(&rest, &opt)) {
        printf("usage: fw BASE_URL 1.2|1.3 API_KEY [OPTION...] PROMPT...\n");
        return 2;
    }
    while (*rest == ' ') {
        rest++;
    }
    if (*rest == '\0' || opt.connections == 0u) {
        printf("usage: fw BASE_URL 1.2|1.3 API_KEY [OPTION...] PROMPT...\n");
        return 2;
    }
    printf("chatwire-mps2: %s, %s, base URL %s, TLS max %s\n",
           CW_VERSION_STRING, cw_tls_build_info(), base_url, tls_max);
    printf("chatwire-mps2: WARNING: entropy is cw_insecure_test_entropy "
           "(host /dev/urandom via semihosting): emulator only\n");
    if (cost_mode) {
        printf("chatwire-mps2: calibration: 2000000 instructions in %lu "
               "ticks\n", (unsigned long)calibrate());
    }

    memset(&mcfg, 0, sizeof mcfg);
    mcfg.arena = arena;
    mcfg.arena_size = sizeof arena;
    mcfg.entropy = cw_insecure_test_entropy;
    mcfg.now_ms = fw_now_ms;
    mcfg.build_time = CW_FW_BUILD_TIME; /* fixed "now": see cw_tls_mcu.h */
    if (cw_tls_mcu_init(&mcfg) != CW_OK) {
        printf("chatwire-mps2: cw_tls_mcu_init failed\n");
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
    anchors = cw_tls_mcu_add_anchors(&tls.ca, cw_trust_anchors,
                                         cw_trust_anchor_count);
    if (opt.suites != NULL) {
        /* measurement knobs, not product code: the configuration is
         * changed after cw_tls_init, before any handshake */
        mbedtls_ssl_conf_ciphersuites(&tls.conf, opt.suites);
    }
    if (opt.groups != NULL) {
        mbedtls_ssl_conf_groups(&tls.conf, opt.groups); /* the same */
    }
    if (opt.session_in != NULL) {
        import_session(opt.session_in);
    }

    tls_tp = cw_tls_transport(&tls);
    tp = tls_tp;
    tp.connect = timed_connect;
    tp.recv = timed_recv;
    tp.send = timed_send;

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = tp;
    cfg.base_url = base_url;
    cfg.api_key = key;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.connect_timeout_ms = 60000u;
    cfg.timeout_ms = 300000u;
    cfg.max_retries = CW_NO_RETRIES; /* a failure is a finding here */
    rc = cw_client_init(&client, &cfg);
    if (rc != CW_OK) {
        printf("chatwire-mps2: cw_client_init: %s (%d)\n", cw_strerror(rc), rc);
        return 1;
    }

    msg.role = "user";
    msg.content = rest;
    cw_chat_request_init(&req, &msg, 1);
    req.stream = true;
    req.on_delta = on_delta;
    for (r = 1; r <= opt.connections && rc == CW_OK; r++) {
        uint64_t t0;
        uint64_t u0;
        uint64_t total;
        uint64_t in_uart;
        uint64_t own;

        if (r > 1u) {
            cw_client_close(&client); /* the next request: a new connection */
        }
        memset(&cost, 0, sizeof cost);
        cost.fnv = 2166136261u;
        printf("chatwire-mps2: answer: ");
        fflush(stdout);
        u0 = uart.busy_ticks;
        t0 = fw_ticks();
        rc = cw_chat(&client, &req, &res);
        total = fw_ticks() - t0;
        in_uart = uart.busy_ticks - u0;
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
        printf("chatwire-mps2: request %u: connection %lu, %s, session: %s\n",
               r, (unsigned long)uart.connections,
               cw_tls_resumed(&tls) ? "resumed" : "full handshake",
               cw_tls_session_note(&tls));
        if (cost_mode) {
            own = total - in_uart - cost.handshake - cost.tls_in -
                  cost.tls_out - cost.callback;
            printf("chatwire-mps2: cost: request=%u resumed=%d tls=%s "
                   "handshake=%lu tls_in=%lu tls_out=%lu chatwire=%lu "
                   "callback=%lu uart=%lu total=%lu plain_in=%lu "
                   "in_calls=%lu content=%lu fnv=%08lx (ticks)\n",
                   r, cw_tls_resumed(&tls) ? 1 : 0, cw_tls_version(&tls),
                   (unsigned long)cost.handshake, (unsigned long)cost.tls_in,
                   (unsigned long)cost.tls_out, (unsigned long)own,
                   (unsigned long)cost.callback, (unsigned long)in_uart,
                   (unsigned long)total, (unsigned long)cost.plain_in,
                   (unsigned long)cost.in_calls,
                   (unsigned long)res.content_len, (unsigned long)cost.fnv);
        }
    }
    printf("chatwire-mps2: uart rx %lu bytes, tx %lu bytes\n",
           (unsigned long)uart.rx_bytes, (unsigned long)uart.tx_bytes);
    if (rc == CW_OK && opt.session_out != NULL) {
        export_session(opt.session_out);
    }
    cw_client_close(&client);
    cw_tls_free(&tls);

    peak = cw_tls_mcu_arena_peak(&blocks);
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
