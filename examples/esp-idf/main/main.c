/*
 * main.c - ESP-IDF (5.x) example: join Wi-Fi, set the clock by SNTP, then
 * stream one chat answer to the console with chatwire over lwIP sockets
 * (cw_lwip) and mbedTLS (cw_tls). Not built here: see ../README.md.
 *
 * WIFI_SSID, WIFI_PASSWORD, CHATWIRE_API_KEY and CHATWIRE_BASE_URL have
 * placeholder defaults below: override them with
 * target_compile_definitions(${COMPONENT_LIB} PRIVATE ...) in
 * main/CMakeLists.txt, kept out of version control (never commit a key).
 */
#include "chatwire.h"
#include "cw_lwip.h"
#include "cw_tls.h"

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_sntp.h"
#include "esp_random.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "nvs_flash.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef WIFI_SSID
#define WIFI_SSID "my-ssid"
#endif
#ifndef WIFI_PASSWORD
#define WIFI_PASSWORD "my-password"
#endif
#ifndef CHATWIRE_API_KEY
#define CHATWIRE_API_KEY "sk-..." /* replace at build time */
#endif
#ifndef CHATWIRE_BASE_URL
#define CHATWIRE_BASE_URL NULL /* NULL: CometAPI, https://api.cometapi.com/v1 */
#endif

static const char *TAG = "chatwire";

/* main/ca.pem, embedded by main/CMakeLists.txt (EMBED_TXTFILES adds a NUL) */
extern const unsigned char ca_pem_start[] asm("_binary_ca_pem_start");
extern const unsigned char ca_pem_end[] asm("_binary_ca_pem_end");

static EventGroupHandle_t net_events;
#define GOT_IP_BIT BIT0

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)data;
    if (base == WIFI_EVENT &&
        (id == WIFI_EVENT_STA_START || id == WIFI_EVENT_STA_DISCONNECTED)) {
        esp_wifi_connect();
    } else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
        xEventGroupSetBits(net_events, GOT_IP_BIT);
    }
}

static void wifi_join(void)
{
    wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
    wifi_config_t sta;

    net_events = xEventGroupCreate();
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    esp_netif_create_default_wifi_sta();
    ESP_ERROR_CHECK(esp_wifi_init(&init));
    ESP_ERROR_CHECK(esp_event_handler_register(WIFI_EVENT, ESP_EVENT_ANY_ID,
                                               on_event, NULL));
    ESP_ERROR_CHECK(esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP,
                                               on_event, NULL));
    memset(&sta, 0, sizeof sta);
    strncpy((char *)sta.sta.ssid, WIFI_SSID, sizeof sta.sta.ssid - 1);
    strncpy((char *)sta.sta.password, WIFI_PASSWORD, sizeof sta.sta.password - 1);
    ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
    ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &sta));
    ESP_ERROR_CHECK(esp_wifi_start());
    xEventGroupWaitBits(net_events, GOT_IP_BIT, pdFALSE, pdTRUE, portMAX_DELAY);
}

/* Certificates carry validity dates: mbedTLS checks them only with
 * CONFIG_MBEDTLS_HAVE_TIME_DATE, and then needs the real date. */
static void clock_set(void)
{
    esp_sntp_config_t cfg = ESP_NETIF_SNTP_DEFAULT_CONFIG("pool.ntp.org");
    esp_netif_sntp_init(&cfg);
    if (esp_netif_sntp_sync_wait(pdMS_TO_TICKS(15000)) != ESP_OK) {
        ESP_LOGW(TAG, "no time from SNTP: certificate dates may be refused");
    }
}

/* The client's waits between retries: the task sleeps, other tasks run
 * (without this hook it would poll the clock, keeping the CPU busy). */
static void rtos_sleep_ms(void *ctx, uint32_t ms)
{
    TickType_t ticks = pdMS_TO_TICKS(ms);
    (void)ctx;
    vTaskDelay(ticks > 0 ? ticks : 1);
}

static uint32_t hw_random_u32(void *ctx)
{
    (void)ctx;
    return esp_random(); /* the retry jitter */
}

static int64_t unix_time(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL); /* set by SNTP; dated Retry-After */
}

static int print_delta(void *user, const char *text, size_t len)
{
    (void)user;
    printf("%.*s", (int)len, text);
    fflush(stdout);
    return 0;
}

static void chat_task(void *arg)
{
    static cw_lwip_t sock;
    static cw_tls_t tls;
    static cw_client_t client;
    static uint8_t io[1024];
    static uint8_t work[CW_WORK_TOKENS_SIZE + 2048u];
    cw_tls_config_t tls_cfg = { 0 };
    cw_client_config_t cfg = { 0 };
    cw_chat_request_t req;
    cw_message_t msg = { "user", (const char *)arg };
    cw_result_t res;
    int rc;

    cw_lwip_init(&sock);
    tls_cfg.ca = ca_pem_start;
    tls_cfg.ca_len = (size_t)(ca_pem_end - ca_pem_start);
    rc = cw_tls_init(&tls, cw_lwip_transport(&sock), &tls_cfg);
    if (rc == CW_OK) {
        cfg.transport = cw_tls_transport(&tls);
        cfg.base_url = CHATWIRE_BASE_URL;
        cfg.api_key = CHATWIRE_API_KEY;
        cfg.io_buf = io;
        cfg.io_size = sizeof io;
        cfg.work_buf = work;
        cfg.work_size = sizeof work;
        cfg.platform.sleep_ms = rtos_sleep_ms;
        cfg.platform.random_u32 = hw_random_u32;
        cfg.platform.unix_time = unix_time;
        rc = cw_client_init(&client, &cfg);
    }
    if (rc == CW_OK) {
        cw_chat_request_init(&req, &msg, 1);
        req.stream = true;
        req.on_delta = print_delta;
        rc = cw_chat(&client, &req, &res);
        printf("\n[%s, HTTP %d] %s\n", cw_strerror(rc), res.http.status,
               rc == CW_ERR_TLS || rc == CW_ERR_CERT ? cw_tls_error(&tls)
                                                     : res.error.message);
        cw_client_close(&client);
    } else {
        ESP_LOGE(TAG, "set-up failed: %s %s", cw_strerror(rc), cw_tls_error(&tls));
    }
    cw_tls_free(&tls);
    ESP_LOGI(TAG, "stack left: %u bytes", (unsigned)uxTaskGetStackHighWaterMark(NULL));
    vTaskDelete(NULL);
}

void app_main(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
    wifi_join();
    clock_set();
    /* 16 KB: a starting point for the mbedTLS handshake, not a measurement;
     * the task logs what was left */
    xTaskCreate(chat_task, "chatwire", 16384,
                (void *)"Explain the significance of snapshot model versions in APIs.",
                5, NULL);
}
