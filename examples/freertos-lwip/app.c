/*
 * app.c - the chat task: brings lwIP up over the LAN9118, sets up mbedTLS
 * (static arena) and the chatwire client, runs the scenario named on the
 * command line, then prints what it measured and the verdict, and ends the
 * emulation (exit status 0: every check passed).
 */
#include "app.h"

#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "lwip/dns.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"

#include <mbedtls/memory_buffer_alloc.h>

#include "board.h"
#include "cw_tls_mcu.h"
#include "fw.h" /* examples/qemu-mps2: cw_insecure_test_entropy */
#include "heartbeat.h"
#include "lan9118.h"

/* mbedTLS's heap: the measured peak (printed as "arena peak") plus room. */
#ifndef FW_ARENA_SIZE
#define FW_ARENA_SIZE (48u * 1024u)
#endif
#define FW_IO_SIZE 2048u
#define FW_WORK_SIZE (CW_WORK_TOKENS_SIZE + 2048u)

extern const unsigned char cw_fw_test_ca[];
extern const size_t cw_fw_test_ca_len;

static uint8_t arena[FW_ARENA_SIZE] __attribute__((aligned(8)));
static uint8_t io_buf[FW_IO_SIZE];
static uint8_t work_buf[FW_WORK_SIZE] __attribute__((aligned(8)));
static fw_chat_t chat;
static struct netif nif;
static TaskHandle_t tcpip_task;
static int64_t boot_unix_time;

/* lwIP's pool names, in memp_t order (lwIP keeps them only in debug
 * builds). */
static const char *const pool_names[MEMP_MAX] = {
#define LWIP_MEMPOOL(name, num, size, desc) desc,
#include "lwip/priv/memp_std.h"
};
/* fw_usage_t has room for one count per pool */
typedef char fw_pools_fit[MEMP_MAX <= sizeof(((fw_usage_t *)0)->pool_used) /
                                     sizeof(uint32_t) ? 1 : -1];

/* ------------------------------------------------------------ platform */

static void sleep_ms(void *ctx, uint32_t ms)
{
    (void)ctx;
    vTaskDelay(pdMS_TO_TICKS(ms)); /* the CPU goes to other tasks */
}

static uint32_t random_u32(void *ctx)
{
    (void)ctx;
    return fw_rand();
}

/* The wall clock: what the host said at boot, plus the time since. A device
 * would take it from SNTP (cw_tls_mcu.h lists the options). */
static int64_t unix_time(void *ctx)
{
    (void)ctx;
    if (boot_unix_time <= 0) {
        return 0;
    }
    return boot_unix_time + (int64_t)(xTaskGetTickCount() / configTICK_RATE_HZ);
}

static uint32_t ticks_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}

/* ------------------------------------------------------------ network */

static void tcpip_ready(void *arg)
{
    tcpip_task = xTaskGetCurrentTaskHandle();
    xSemaphoreGive((SemaphoreHandle_t)arg);
}

static bool parse_ip(const char *what, const char *text, ip4_addr_t *out)
{
    if (!ip4addr_aton(text, out)) {
        fw_printf("fw: bad %s address '%s'\n", what, text);
        return false;
    }
    return true;
}

static bool net_up(const fw_args_t *a)
{
    SemaphoreHandle_t ready;
    ip4_addr_t ip, mask, gw, dns;
    ip_addr_t dns_server;

    if (!parse_ip("ip", a->ip, &ip) || !parse_ip("mask", a->mask, &mask) ||
        !parse_ip("gw", a->gw, &gw) || !parse_ip("dns", a->dns, &dns)) {
        return false;
    }
    ready = xSemaphoreCreateBinary();
    configASSERT(ready != NULL);
    tcpip_init(tcpip_ready, ready);
    (void)xSemaphoreTake(ready, portMAX_DELAY);
    vSemaphoreDelete(ready);

    LOCK_TCPIP_CORE();
    if (netif_add(&nif, &ip, &mask, &gw, NULL, lan9118_netif_init,
                  tcpip_input) == NULL) {
        UNLOCK_TCPIP_CORE();
        fw_printf("fw: no LAN9118 (netif_add failed)\n");
        return false;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    ip_addr_copy_from_ip4(dns_server, dns);
    dns_setserver(0, &dns_server);
    UNLOCK_TCPIP_CORE();
    fw_printf("fw: net up ip=%s mac=%02x:%02x:%02x:%02x:%02x:%02x dns=%s\n",
              a->ip, nif.hwaddr[0], nif.hwaddr[1], nif.hwaddr[2],
              nif.hwaddr[3], nif.hwaddr[4], nif.hwaddr[5], a->dns);
    return true;
}

/* ------------------------------------------------------------ chat */

static int on_delta(void *user, const char *text, size_t len)
{
    fw_chat_t *c = (fw_chat_t *)user;
    size_t room = sizeof c->answer - 1u - c->answer_len;
    uint32_t now = ticks_ms(NULL);

    if (len > room) {
        c->answer_cut = true;
        len = room;
    }
    memcpy(c->answer + c->answer_len, text, len);
    c->answer_len += len;
    c->answer[c->answer_len] = '\0';
    if (c->deltas > 0u && now - c->last_delta > c->max_gap) {
        c->max_gap = now - c->last_delta;
    }
    c->last_delta = now;
    c->deltas++;
    if (c->args->mark != 0u && c->deltas == c->args->mark) {
        /* the run script acts on this line (cuts the link, kills the
         * server): printed as it happens, mid-stream */
        fw_printf("fw: progress chat=%lu deltas=%lu\n", (unsigned long)c->n,
                  (unsigned long)c->deltas);
    }
    return 0;
}

/* cw_chat, or its steps: start, then step until the chat is over. */
static int run_chat(fw_chat_t *c, const cw_chat_request_t *req, bool stepped)
{
    cw_wait_t w;
    int rc;

    c->steps = 0;
    c->waits = 0;
    c->max_step = 0;
    if (!stepped) {
        return cw_chat(&c->client, req, &c->res);
    }
    rc = cw_chat_start(&c->client, req, &c->res);
    while (rc == CW_OK) {
        uint32_t t0 = ticks_ms(NULL);
        uint32_t d;
        rc = cw_chat_step(&c->client, &w);
        d = ticks_ms(NULL) - t0;
        c->max_step = d > c->max_step ? d : c->max_step;
        c->steps++;
        if (rc != CW_ERR_WOULD_BLOCK) {
            break;
        }
        c->waits++;
        /* a superloop's other work goes here; this one yields a tick */
        vTaskDelay(1);
        rc = CW_OK;
    }
    return rc;
}

static int chat_run(fw_chat_t *c, bool stream, bool stepped);

int fw_chat_once(fw_chat_t *c, bool stream)
{
    return chat_run(c, stream, false);
}

int fw_chat_stepped(fw_chat_t *c, bool stream)
{
    return chat_run(c, stream, true);
}

static int chat_run(fw_chat_t *c, bool stream, bool stepped)
{
    cw_chat_request_t req;
    cw_message_t msg;
    cw_result_t *res = &c->res;
    uint32_t t0;
    int rc;

    c->n++;
    c->answer_len = 0;
    c->answer[0] = '\0';
    c->answer_cut = false;
    c->deltas = 0;
    c->max_gap = 0;
    msg.role = "user";
    msg.content = c->args->prompt;
    cw_chat_request_init(&req, &msg, 1);
    req.stream = stream;
    req.on_delta = on_delta;
    req.on_delta_user = c;
    t0 = ticks_ms(NULL);
    rc = run_chat(c, &req, stepped);
    c->ms = ticks_ms(NULL) - t0;
    if (!stream && rc == CW_OK && res->content != NULL) {
        size_t n = res->content_len < sizeof c->answer - 1u
                       ? res->content_len : sizeof c->answer - 1u;
        memcpy(c->answer, res->content, n);
        c->answer[n] = '\0';
        c->answer_len = n;
        c->answer_cut = n < res->content_len;
    }
    fw_printf("fw: chat %lu rc=%d (%s) http=%d stream=%d attempts=%lu "
              "reused=%d stale=%d resumed=%d partial=%d done=%d len=%lu "
              "deltas=%lu gap_ms=%lu tls=%s ms=%lu\n",
              (unsigned long)c->n, rc, cw_strerror(rc), res->http.status,
              stream ? 1 : 0, (unsigned long)res->attempts,
              res->reused_connection ? 1 : 0, res->stale_reconnect ? 1 : 0,
              cw_tls_resumed(&c->tls) ? 1 : 0, res->partial ? 1 : 0,
              res->done ? 1 : 0, (unsigned long)res->content_len,
              (unsigned long)c->deltas, (unsigned long)c->max_gap,
              cw_tls_version(&c->tls),
              (unsigned long)c->ms);
    if (stepped) {
        fw_printf("fw: chat %lu stepped: steps=%lu waits=%lu "
                  "longest_step_ms=%lu\n", (unsigned long)c->n,
                  (unsigned long)c->steps, (unsigned long)c->waits,
                  (unsigned long)c->max_step);
    }
    if (rc != CW_OK && cw_tls_error(&c->tls)[0] != '\0') {
        fw_printf("fw: chat %lu tls error: %s\n", (unsigned long)c->n,
                  cw_tls_error(&c->tls));
    }
    if (rc != CW_OK && c->sock.last_errno != 0) {
        fw_printf("fw: chat %lu socket errno=%d gai=%d\n", (unsigned long)c->n,
                  c->sock.last_errno, c->sock.gai_error);
    }
    if (c->answer_len > 0u) {
        fw_printf("fw: answer %lu: ", (unsigned long)c->n);
        fw_write(c->answer, c->answer_len);
        fw_write("\n", 1);
    }
    return rc;
}

bool fw_answer_ok(const fw_chat_t *c)
{
    static const char echo[] = "Echo: ";
    size_t plen = strlen(c->args->prompt);
    return !c->answer_cut && c->answer_len == sizeof echo - 1u + plen &&
           memcmp(c->answer, echo, sizeof echo - 1u) == 0 &&
           memcmp(c->answer + sizeof echo - 1u, c->args->prompt, plen) == 0;
}

void fw_check(fw_chat_t *c, bool ok, const char *what)
{
    if (ok) {
        return;
    }
    fw_printf("fw: check failed: %s\n", what);
    if (c->fail[0] == '\0') {
        strncpy(c->fail, what, sizeof c->fail - 1u);
    }
}

/* ------------------------------------------------------------ usage */

void fw_usage_get(fw_usage_t *u)
{
    size_t i;
    memset(u, 0, sizeof *u);
    mbedtls_memory_buffer_alloc_cur_get(&u->arena_bytes, &u->arena_blocks);
    LOCK_TCPIP_CORE();
    u->lwip_mem = lwip_stats.mem.used;
    for (i = 0; i < MEMP_MAX; i++) {
        u->pool_used[i] = lwip_stats.memp[i]->used;
    }
    UNLOCK_TCPIP_CORE();
    u->heap_free = xPortGetFreeHeapSize();
}

const char *fw_usage_print(const char *label, const fw_usage_t *u,
                           const fw_usage_t *ref)
{
    const char *diff = NULL;
    size_t i;

    fw_printf("fw: usage %s arena=%lu/%lu lwip_mem=%lu heap_free=%lu",
              label, (unsigned long)u->arena_bytes,
              (unsigned long)u->arena_blocks, (unsigned long)u->lwip_mem,
              (unsigned long)u->heap_free);
    for (i = 0; i < MEMP_MAX; i++) {
        fw_printf(" %s=%lu", pool_names[i], (unsigned long)u->pool_used[i]);
        if (ref != NULL && diff == NULL && u->pool_used[i] != ref->pool_used[i]) {
            diff = pool_names[i];
        }
    }
    fw_printf("\n");
    if (ref != NULL && diff == NULL) {
        if (u->arena_bytes != ref->arena_bytes ||
            u->arena_blocks != ref->arena_blocks) {
            diff = "mbedTLS arena";
        } else if (u->lwip_mem != ref->lwip_mem) {
            diff = "lwIP heap";
        } else if (u->heap_free != ref->heap_free) {
            diff = "FreeRTOS heap";
        }
    }
    return diff;
}

/* ------------------------------------------------------------ report */

static void report_stack(const char *name, void *task, size_t words)
{
    if (task == NULL) {
        return;
    }
    fw_printf("fw: stack task=%s free_min=%lu of=%lu bytes\n", name,
              (unsigned long)(uxTaskGetStackHighWaterMark((TaskHandle_t)task) *
                              sizeof(StackType_t)),
              (unsigned long)(words * sizeof(StackType_t)));
}

static void report(fw_chat_t *c, uint32_t chat_stack_words)
{
    hb_stats_t hb;
    lan9118_stats_t eth;
    size_t peak, blocks, cur, cur_blocks;
    size_t i;

    heartbeat_get(&hb);
    fw_printf("fw: heartbeat period=%lums beats=%lu missed=%lu "
              "max_late_ns=%lu late_over_100us=%lu ticks=%lu\n",
              (unsigned long)hb.period_ms, (unsigned long)hb.beats,
              (unsigned long)hb.missed, (unsigned long)hb.max_late_ns,
              (unsigned long)hb.late_over_100us, (unsigned long)hb.ticks);
    /* every beat on time (within its tick), none missed, and as many beats
     * as periods went by */
    fw_check(c, hb.missed == 0u, "heartbeat missed a beat");
    fw_check(c, hb.max_late_ns < 1000000u, "heartbeat ran a tick late");
    fw_check(c, hb.beats + 2u >= hb.ticks / pdMS_TO_TICKS(hb.period_ms),
             "heartbeat beat less often than its period");

    report_stack("chat", xTaskGetCurrentTaskHandle(), chat_stack_words);
    report_stack("heartbeat", heartbeat_task(), heartbeat_stack_words());
    report_stack("eth_in", lan9118_input_task(), lan9118_input_stack_words());
    report_stack("tcpip", tcpip_task, TCPIP_THREAD_STACKSIZE / sizeof(StackType_t));
    report_stack("idle", xTaskGetIdleTaskHandle(), configMINIMAL_STACK_SIZE);
    /* the main stack: reset, then the interrupt handlers */
    fw_printf("fw: stack msp peak=%lu of=%lu bytes\n",
              (unsigned long)fw_stack_peak(), (unsigned long)fw_stack_size());
    fw_printf("fw: heap free=%lu min_ever=%lu of=%lu bytes\n",
              (unsigned long)xPortGetFreeHeapSize(),
              (unsigned long)xPortGetMinimumEverFreeHeapSize(),
              (unsigned long)configTOTAL_HEAP_SIZE);

    LOCK_TCPIP_CORE();
    fw_printf("fw: lwip mem used=%lu max=%lu avail=%lu err=%lu\n",
              (unsigned long)lwip_stats.mem.used,
              (unsigned long)lwip_stats.mem.max,
              (unsigned long)lwip_stats.mem.avail,
              (unsigned long)lwip_stats.mem.err);
    for (i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        fw_printf("fw: lwip pool=%s used=%lu max=%lu avail=%lu err=%lu\n",
                  pool_names[i], (unsigned long)m->used, (unsigned long)m->max,
                  (unsigned long)m->avail, (unsigned long)m->err);
    }
    fw_printf("fw: lwip tcp xmit=%lu recv=%lu drop=%lu err=%lu memerr=%lu "
              "link xmit=%lu recv=%lu drop=%lu\n",
              (unsigned long)lwip_stats.tcp.xmit,
              (unsigned long)lwip_stats.tcp.recv,
              (unsigned long)lwip_stats.tcp.drop,
              (unsigned long)lwip_stats.tcp.err,
              (unsigned long)lwip_stats.tcp.memerr,
              (unsigned long)lwip_stats.link.xmit,
              (unsigned long)lwip_stats.link.recv,
              (unsigned long)lwip_stats.link.drop);
    UNLOCK_TCPIP_CORE();

    lan9118_stats_get(&eth);
    fw_printf("fw: eth irqs=%lu rx=%lu rx_bytes=%lu rx_err=%lu rx_no_pbuf=%lu "
              "rx_refused=%lu rx_max_batch=%lu tx=%lu tx_bytes=%lu tx_err=%lu "
              "tx_no_space=%lu\n",
              (unsigned long)eth.irqs, (unsigned long)eth.rx_frames,
              (unsigned long)eth.rx_bytes, (unsigned long)eth.rx_errors,
              (unsigned long)eth.rx_no_pbuf, (unsigned long)eth.rx_refused,
              (unsigned long)eth.rx_max_batch, (unsigned long)eth.tx_frames,
              (unsigned long)eth.tx_bytes, (unsigned long)eth.tx_errors,
              (unsigned long)eth.tx_no_space);

    peak = cw_tls_mcu_arena_peak(&blocks);
    mbedtls_memory_buffer_alloc_cur_get(&cur, &cur_blocks);
    fw_printf("fw: arena peak=%lu blocks=%lu current=%lu of=%lu bytes\n",
              (unsigned long)peak, (unsigned long)blocks, (unsigned long)cur,
              (unsigned long)sizeof arena);
    fw_printf("fw: tls handshakes=%lu resumptions=%lu\n",
              (unsigned long)c->tls.handshakes,
              (unsigned long)c->tls.resumptions);
    fw_printf("fw: clock ticks=%lu timer0_ms=%lu (emulated time)\n",
              (unsigned long)xTaskGetTickCount(),
              (unsigned long)(fw_timer_ticks() / (FW_TIMER_HZ / 1000u)));
}

/* ------------------------------------------------------------ task */

void fw_chat_task(void *arg)
{
    const fw_args_t *a = (const fw_args_t *)arg;
    const fw_scenario_t *sc = fw_scenario_find(a->scenario);
    fw_chat_t *c = &chat;
    cw_tls_mcu_config_t mcfg;
    cw_tls_config_t tcfg;
    cw_client_config_t cfg;
    size_t anchors;
    int rc;

    c->args = a;
    boot_unix_time = a->now;
    if (sc == NULL) {
        fw_printf("fw: unknown scenario '%s'\n", a->scenario);
        fw_scenario_list();
        fw_exit(2);
    }
    if (!net_up(a)) {
        fw_exit(1);
    }

    memset(&mcfg, 0, sizeof mcfg);
    mcfg.arena = arena;
    mcfg.arena_size = sizeof arena;
    mcfg.entropy = cw_insecure_test_entropy; /* TEST ONLY: see README */
    mcfg.now_ms = ticks_ms;
    mcfg.unix_time = unix_time;
    if (cw_tls_mcu_init(&mcfg) != CW_OK) {
        fw_printf("fw: cw_tls_mcu_init failed\n");
        fw_exit(1);
    }
    cw_lwip_init(&c->sock);
    memset(&tcfg, 0, sizeof tcfg);
    tcfg.ca = cw_fw_test_ca;
    tcfg.ca_len = cw_fw_test_ca_len;
    rc = cw_tls_init(&c->tls, cw_lwip_transport(&c->sock), &tcfg);
    if (rc != CW_OK) {
        fw_printf("fw: cw_tls_init: %d: %s\n", rc, cw_tls_error(&c->tls));
        fw_exit(1);
    }
    /* the public roots too, from flash, as a product would have them */
    anchors = cw_tls_mcu_add_anchors(&c->tls.ca, cw_trust_anchors,
                                         cw_trust_anchor_count);

    memset(&cfg, 0, sizeof cfg);
    cfg.transport = cw_tls_transport(&c->tls);
    cfg.base_url = a->url;
    cfg.api_key = a->key;
    cfg.io_buf = io_buf;
    cfg.io_size = sizeof io_buf;
    cfg.work_buf = work_buf;
    cfg.work_size = sizeof work_buf;
    cfg.timeout_ms = a->timeout_ms;
    cfg.connect_timeout_ms = a->connect_ms;
    cfg.idle_timeout_ms = a->idle_ms;
    cfg.platform.sleep_ms = sleep_ms;
    cfg.platform.random_u32 = random_u32;
    cfg.platform.unix_time = unix_time;
    rc = cw_client_init(&c->client, &cfg);
    if (rc != CW_OK) {
        fw_printf("fw: cw_client_init: %d\n", rc);
        fw_exit(1);
    }
    fw_printf("fw: client url=%s timeout=%lu connect=%lu idle=%lu anchors=%lu+1 "
              "retries=%d\n", a->url, (unsigned long)a->timeout_ms,
              (unsigned long)a->connect_ms, (unsigned long)a->idle_ms,
              (unsigned long)anchors, CW_DEFAULT_MAX_RETRIES);

    heartbeat_reset(); /* measure over the chats */
    fw_printf("fw: scenario %s start\n", sc->name);
    sc->run(c);
    fw_printf("fw: scenario %s end\n", sc->name);
    cw_client_close(&c->client);

    report(c, FW_CHAT_STACK_WORDS);
    if (c->fail[0] != '\0') {
        fw_printf("fw: verdict FAIL %s\n", c->fail);
        fw_exit(1);
    }
    fw_printf("fw: verdict ok\n");
    fw_exit(0);
}
